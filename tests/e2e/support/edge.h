/* End-to-end test support for the edge: HAProxy with the shipped
 * deploy/haproxy/haproxy.cfg in front of a test gradingd, and the raw
 * HTTP/2 clients of tests/edge/h2client.py as child processes.
 *
 * The edge listens on a socket the test binds (127.0.0.1, port 0) and hands
 * to HAProxy as an inherited descriptor (GRADING_EDGE_LISTEN=fd@N), so the
 * port is known before HAProxy starts and no other process can take it.
 *
 * Environment (set by tests/CMakeLists.txt): HAPROXY (the binary),
 * GRADING_EDGE_PYTHON (a python3 with Debian's python3-h2),
 * GRADING_SOURCE_DIR. */
#ifndef E2E_EDGE_H
#define E2E_EDGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "testsrv.h"

#define E2E_EDGE_MAX_ENV 8

typedef struct {
    char log_path[E2E_PATH_MAX];   /* HAProxy's output, in the server's directory */
    pid_t pid;                     /* 0 when not running */
    int port;
    char addr[64];                 /* "127.0.0.1:<port>" */
} e2e_edge_t;

/* True when HAProxy, python3-h2 and openssl are there; else why says what
 * is missing. No asserts. */
bool e2e_edge_available(char *why, size_t whylen);

/* Starts HAProxy in front of s (running), with env (may be NULL): further
 * "NAME=value" settings of the config, NULL-terminated. Waits (bounded)
 * until a Health/Check through the edge answers SERVING. Fails the test
 * with HAProxy's log otherwise. */
void e2e_edge_start(e2e_edge_t *edge, const e2e_server_t *s, const char *const *env);

/* Says whether the edge answers yet (called until true or the start-up
 * deadline; no asserts). */
typedef bool (*e2e_edge_ready_fn)(const e2e_edge_t *edge, void *arg);

/* Starts HAProxy with its log in dir, forwarding to backend
 * ("127.0.0.1:PORT"), with env as above; waits (bounded) until ready says
 * so. Fails the test with HAProxy's log otherwise. */
void e2e_edge_start_at(e2e_edge_t *edge, const char *dir, const char *backend, const char *const *env,
                       e2e_edge_ready_fn ready, void *arg);

/* SIGTERM, bounded wait (then SIGKILL). No asserts; safe in a teardown. */
void e2e_edge_stop(e2e_edge_t *edge);

void e2e_edge_dump_log(const e2e_edge_t *edge);

/* A process's RssAnon (anonymous resident memory) in KiB, from
 * /proc/PID/status; -1 when it cannot be read. No asserts. */
int64_t e2e_rss_anon_kb(pid_t pid);

/* Starts tests/edge/h2client.py with args (NULL-terminated, after the
 * script's path) in the background, its output in out_path. Fails the
 * test when it cannot be started. */
pid_t e2e_h2client_spawn(const char *const *args, const char *out_path);

/* True once the child has exited; does not reap it. No asserts. */
bool e2e_child_exited(pid_t pid);

/* Waits (bounded) for a child started by e2e_h2client_spawn to exit 0,
 * then returns its output (malloc'd). Fails the test otherwise. */
char *e2e_h2client_wait(pid_t pid, const char *out_path, int64_t timeout_ms);

#endif
