/* End-to-end test support: the real gradingd as a child process, and
 * other programs (gradectl, gradingd with bad flags) run to completion.
 *
 * A server lives in its own temporary directory (mkdtemp under /tmp):
 *   <dir>/data        its --data-dir (kept across restarts)
 *   <dir>/port        its --port-file (the kernel picks a free port: --listen 127.0.0.1:0)
 *   <dir>/server.log  its stdout and stderr, every run appended
 * e2e_server_free() kills a server still running and removes the directory.
 *
 * Every wait is bounded: start-up (port file, then Health/Check SERVING),
 * stop (SIGTERM, then SIGKILL and a test failure) and child programs.
 *
 * The functions that assert (cmocka) must be called from the test's main
 * thread; those that say "no asserts" are safe on worker threads.
 *
 * Environment (set by tests/CMakeLists.txt): GRADINGD, GRADECTL (binary
 * paths), GRADING_POLICY (tests/e2e/policy.yaml). */
#ifndef E2E_TESTSRV_H
#define E2E_TESTSRV_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <sys/types.h>

#include <cmocka.h>

#include "grading/client.h"
#include "grpc/health/v1/health.pb-c.h"

/* Health/Check answers, as e2e_health returns them. */
#define E2E_SERVING GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING
#define E2E_NOT_SERVING GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING

/* Bounds of the waits (sanitizer builds are slower: generous). */
#define E2E_START_TIMEOUT_MS 10000
#define E2E_STOP_TIMEOUT_MS 20000
#define E2E_RUN_TIMEOUT_MS 30000
#define E2E_CALL_TIMEOUT_MS 10000

#define E2E_PATH_MAX 512
#define E2E_MAX_EXTRA_FLAGS 16

typedef struct {
    char dir[128];                 /* the temporary directory (/tmp/grading-e2e-XXXXXX) */
    char data_dir[E2E_PATH_MAX];
    char port_file[E2E_PATH_MAX];
    char log_path[E2E_PATH_MAX];
    const char *extra[E2E_MAX_EXTRA_FLAGS + 1];   /* extra gradingd flags, NULL-terminated */
    pid_t pid;                     /* 0 when not running */
    int port;                      /* of the current (or last) run */
    char addr[64];                 /* "127.0.0.1:<port>" */
    grading_client_t *client;      /* for the main thread; remade on each start */
    int runs;                      /* how many times started */
    /* How the test's own clients (s->client, e2e_client_new, e2e_gradectl)
     * connect: set before e2e_server_start for a TLS server (tls.h). */
    grading_client_options_t conn;
    /* The admin HTTP server (/metrics, /healthz, ...) on a port of its own,
     * also picked by the kernel. */
    char admin_port_file[E2E_PATH_MAX];
    int admin_port;                /* of the current run; 0 before it */
} e2e_server_t;

/* The value of an environment variable the tests need; fails the test when
 * it is unset or empty. */
const char *e2e_env(const char *name);

/* Makes a temporary directory and the server's paths; does not start it.
 * extra_flags (may be NULL) is a NULL-terminated list of further gradingd
 * flags, borrowed (string literals). Fails the test on error. */
e2e_server_t *e2e_server_new(const char *const *extra_flags);

/* Starts gradingd on the server's data dir and waits (bounded) until the
 * port file exists and Health/Check answers SERVING. Fails the test (with
 * the server log) otherwise. */
void e2e_server_start(e2e_server_t *s);

/* e2e_server_new + e2e_server_start. */
e2e_server_t *e2e_server_start_new(const char *const *extra_flags);

/* Sends SIGTERM without waiting (the caller then calls e2e_server_wait). */
void e2e_server_signal(e2e_server_t *s, int sig);

/* Waits (bounded by timeout_ms) for the server to exit; returns its raw
 * waitpid status. On timeout: SIGKILL, then fails the test. */
int e2e_server_wait(e2e_server_t *s, int64_t timeout_ms);

/* SIGTERM, bounded wait; returns the raw waitpid status. */
int e2e_server_stop(e2e_server_t *s);

/* SIGTERM, bounded wait, and asserts a normal exit with code 0. */
void e2e_server_stop_ok(e2e_server_t *s);

/* For teardowns: if the server runs, SIGTERM and wait (bounded; SIGKILL on
 * timeout). Returns 0 when it was not running or exited with code 0, else
 * -1 after printing why and the log. No asserts. */
int e2e_server_shutdown_quiet(e2e_server_t *s);

/* A cmocka teardown: e2e_server_shutdown_quiet, then e2e_server_free.
 * Fails (returns -1) when the server did not exit cleanly. */
int e2e_teardown_server(void **state);

/* A cmocka setup: a started server with no extra flags in *state. */
int e2e_setup_server(void **state);

/* kill -9 and reap. */
void e2e_server_kill(e2e_server_t *s);

/* Starts again on the same data dir (the server must be stopped). */
void e2e_server_restart(e2e_server_t *s);

/* True when the child has not exited yet (reaps it if it has; then
 * *status, when not NULL, holds its waitpid status). No asserts. */
bool e2e_server_running(e2e_server_t *s, int *status);

/* Kills a server still running, removes its directory, frees s. NULL is a
 * no-op. Safe in a teardown after a failed test. */
void e2e_server_free(e2e_server_t *s);

/* Prints the server log to stderr (for failure messages). */
void e2e_server_dump_log(const e2e_server_t *s);

/* A new client for s's current address (one per thread). No asserts;
 * NULL on failure. */
grading_client_t *e2e_client_new(const e2e_server_t *s);

/* Health/Check: returns the serving status (1 SERVING, 2 NOT_SERVING) or
 * -1 when the call failed or answered non-OK. No asserts. */
int e2e_health(grading_client_t *c, int64_t timeout_ms);

/* ---- running programs ---- */

typedef struct {
    bool exited;        /* normal exit (else killed by a signal) */
    int code;           /* exit code when exited */
    int signal;         /* the signal when !exited */
    char *out;          /* everything written on stdout; malloc'd */
    char *err;          /* everything written on stderr; malloc'd */
} e2e_run_t;

/* Runs argv (argv[0] a path) with stdout and stderr captured into files of
 * dir, stdin from /dev/null; waits at most timeout_ms (then SIGKILL and a
 * test failure). Fails the test when the program cannot be started. */
void e2e_run(const char *dir, const char *const *argv, int64_t timeout_ms, e2e_run_t *r);

/* Runs $GRADECTL --addr <s's address> args... (NULL-terminated). */
void e2e_gradectl(const e2e_server_t *s, e2e_run_t *r, ...);

void e2e_run_destroy(e2e_run_t *r);

/* The number of lines of text (a last line without '\n' counts). */
size_t e2e_count_lines(const char *text);

/* Writes text into dir/name; returns the path in a static-free buffer the
 * caller provides (path, E2E_PATH_MAX). Fails the test on error. */
void e2e_write_file(const char *dir, const char *name, const char *text, char *path);

/* Removes path recursively (no symlinks followed). Returns 0 or -1. */
int e2e_rm_rf(const char *path);

/* Monotonic milliseconds. */
int64_t e2e_now_ms(void);

void e2e_sleep_ms(int64_t ms);

/* Starts argv (argv[0] a path) in the background, stdout and stderr
 * appended to log_path, stdin from /dev/null; killed when the test process
 * dies. File descriptors without FD_CLOEXEC are inherited. Returns the pid,
 * or -1 when fork failed. The caller reaps it. No asserts. */
pid_t e2e_spawn(const char *const *argv, const char *log_path);

#endif
