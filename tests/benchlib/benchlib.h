/* What the three benchmark programs (tests/bench, tests/bench_close,
 * tests/bench_sweep) share, one concern per file:
 *   dir.c    temporary and --keep work directories, removed recursively;
 *   proc.c   a child server (gradingd, redis-server): started in its own
 *            process group with its output in a log, its port file waited
 *            for (bounded), stopped with SIGTERM then SIGKILL, its memory;
 *   seed.c   in-process seeding: one write transaction of events through
 *            grading_ingest_apply, growing the map while it is full.
 * Every function that can fail prints why, prefixed with the program's
 * name (`prog`), and says so in its return value. */
#ifndef GRADING_BENCHLIB_H
#define GRADING_BENCHLIB_H

#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "grading/client.h"
#include "grading/err.h"
#include "grading/ingest.h"
#include "grading/store.h"

/* ---- directories (dir.c) ---- */

/* Makes a fresh "/tmp/<stem>-XXXXXX" into buf. Returns -1 (printed, buf
 * empty) on failure. */
int grading_bench_tmpdir_make(const char *prog, const char *stem, char *buf, size_t len);
/* --keep DIR: made if missing; an existing one must be empty, so nothing of
 * someone else's is mixed in. Returns -1 (printed) otherwise. */
int grading_bench_keepdir_make(const char *prog, const char *dir);
/* Removes dir and everything under it (not following links); what cannot
 * be removed is printed. An empty dir string does nothing. */
void grading_bench_dir_remove(const char *prog, const char *dir);

/* ---- child servers (proc.c) ---- */

typedef struct {
    pid_t pid;                 /* 0 when not running */
    char log_path[PATH_MAX];   /* its stdout and stderr */
} grading_bench_proc_t;

/* Starts argv[0] (a path) with argv, its output to log_path, in its own
 * process group (^C reaches only the bench, which stops it in order) and
 * with SIGTERM should the bench die outright. Returns -1 (printed) when
 * fork fails; an exec failure shows as the child's exit status 127. */
int grading_bench_proc_spawn(const char *prog, grading_bench_proc_t *p, const char *const argv[],
                             const char *log_path);
/* Reaps the child if it has ended; true when it is not running. */
bool grading_bench_proc_exited(grading_bench_proc_t *p, int *status);
/* Waits (bounded by timeout_ms, or until *stop is raised) for the child's
 * port file, written atomically; polls every 50 ms. Returns the port, or 0
 * having printed why and the log's tail (the child is left running). */
int grading_bench_proc_wait_port(const char *prog, grading_bench_proc_t *p, const char *port_file, int timeout_ms,
                                 volatile sig_atomic_t *stop);
/* SIGTERM, a wait bounded by timeout_ms, then SIGKILL. Returns 0 when it
 * exited with status 0 (or was not running), -1 otherwise (printed with the
 * log's tail). */
int grading_bench_proc_stop(const char *prog, grading_bench_proc_t *p, int timeout_ms);
/* Runs a program to its end: spawned as above, waited for at most
 * timeout_ms (or until *stop), stopped (SIGTERM, then SIGKILL after
 * stop_ms) when it overruns. Returns 0 with its wait status in *status, or
 * -1 (printed) when it could not start or did not finish. */
int grading_bench_proc_run(const char *prog, grading_bench_proc_t *p, const char *const argv[],
                           const char *log_path, int timeout_ms, int stop_ms, volatile sig_atomic_t *stop,
                           int *status);
/* Prints the last max_lines lines of the child's log to stderr. */
void grading_bench_proc_print_log(const char *prog, const grading_bench_proc_t *p, int max_lines);
/* True when the child's log holds needle so far. */
bool grading_bench_proc_log_has(const grading_bench_proc_t *p, const char *needle);
/* The port in a port file, 0 when absent or not a port. */
int grading_bench_read_port(const char *path);
/* A process's resident memory in KiB: all of it, anonymous (heap, stacks:
 * the process's own), file-backed (mapped files such as LMDB's map).
 * False when /proc/<pid>/status cannot be read. */
bool grading_bench_rss_kib(pid_t pid, uint64_t *rss, uint64_t *anon, uint64_t *file);
/* The program `name` found on PATH, its path into buf; false when absent. */
bool grading_bench_on_path(const char *name, char *buf, size_t len);
/* A TCP port free on 127.0.0.1 right now (bound to port 0, then released),
 * for servers that cannot report the port they chose; 0 on failure. */
int grading_bench_free_loopback_port(void);
/* Waits until the server answers Health SERVING on c, at most timeout_ms
 * (or until *stop). Returns 0, or -1 having printed the last answer. */
int grading_bench_wait_serving(const char *prog, grading_client_t *c, int timeout_ms, volatile sig_atomic_t *stop);

/* ---- in-process seeding (seed.c) ---- */

/* Applies batch b (derive on or off as b says) in one write transaction
 * stamped stored_ms, plus the meta record meta_key = meta_value when
 * meta_key is not NULL; every event must be accepted (a duplicate is a bug
 * of the seeding). A full map is grown and the transaction retried (bounded:
 * each grow doubles it up to its maximum). Returns the error with *e set. */
grading_err_t grading_bench_seed_txn(grading_store_t *st, const grading_ingest_batch_t *b, int64_t stored_ms,
                                     const char *meta_key, const char *meta_value, grading_error_t *e);

#endif
