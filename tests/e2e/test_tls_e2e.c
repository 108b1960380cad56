/* End-to-end: TLS and mTLS on the gRPC port, certificates made in the test
 * with the openssl CLI.
 *
 * - plaintext on a non-loopback --listen without --allow-insecure, TLS
 *   flags without their pair, a key that is not the certificate's, a
 *   missing file: exit 2 with one line naming the flag; never served;
 * - TLS without a client CA: a client trusting the server's CA gets in,
 *   a plaintext client and one trusting another CA do not;
 * - mTLS: no client certificate, one from another CA, an expired one: no
 *   call gets through; the right one does, from gradectl too (flags and
 *   GRADING_TLS_* variables);
 * - rotation while serving: the files are symlinks swapped the way
 *   cert-manager's secret volumes swap them; new connections get the new
 *   certificate and client CA, the old ones are refused; a broken set (a
 *   key that is not the certificate's) is refused and the last good one
 *   keeps serving. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "events.h"
#include "testsrv.h"
#include "tls.h"

#define CALL_MS 10000
#define ROTATE_TIMEOUT_MS 15000

/* Runs gradingd with flags after --port-file, --data-dir and --policy. */
static void run_gradingd(e2e_server_t *s, e2e_run_t *r, const char *const *flags)
{
    const char *argv[32];
    size_t n = 0;
    argv[n++] = e2e_env("GRADINGD");
    argv[n++] = "--port-file";
    argv[n++] = s->port_file;
    argv[n++] = "--data-dir";
    argv[n++] = s->data_dir;
    argv[n++] = "--policy";
    argv[n++] = e2e_env("GRADING_POLICY");
    for (size_t i = 0; flags[i]; i++) argv[n++] = flags[i];
    argv[n] = NULL;
    e2e_run(s->dir, argv, 10000, r);
}

static void assert_usage_exit(e2e_server_t *s, const char *const *flags, const char *needle)
{
    e2e_run_t r = {0};
    run_gradingd(s, &r, flags);
    if (!r.exited || r.code != 2) fail_msg("expected exit 2 for %s, got %d: %s", needle, r.code, r.err);
    e2e_assert_contains(r.err, needle);
    assert_int_equal(access(s->port_file, F_OK), -1);   /* never served */
    e2e_run_destroy(&r);
}

static void test_bad_flags(void **state)
{
    (void)state;
    e2e_server_t *s = e2e_server_new(NULL);
    e2e_cert_t ca, srv, other;
    e2e_ca_make(s->dir, "ca", &ca);
    e2e_server_cert_make(s->dir, "srv", &ca, &srv);
    e2e_cert_make(s->dir, "other", &ca, "other", NULL, false, &other);

    e2e_run_t r = {0};
    run_gradingd(s, &r, (const char *[]){"--listen", "0.0.0.0:0", NULL});
    assert_true(r.exited);
    assert_int_equal(r.code, 2);
    e2e_assert_contains(r.err, "--listen 0.0.0.0:0 is not a loopback address");
    e2e_assert_contains(r.err, "--allow-insecure");
    assert_int_equal(e2e_count_lines(r.err), 1);
    e2e_run_destroy(&r);
    assert_usage_exit(s, (const char *[]){"--listen", "[::]:0", NULL}, "--allow-insecure");
    assert_usage_exit(s, (const char *[]){"--listen", ":0", NULL}, "--allow-insecure");
    assert_usage_exit(s, (const char *[]){"--listen", "127.0.0.1:0", "--tls-cert", srv.pem, NULL},
                      "--tls-cert needs --tls-key too");
    assert_usage_exit(s, (const char *[]){"--listen", "127.0.0.1:0", "--tls-client-ca", ca.pem, NULL},
                      "--tls-client-ca needs --tls-cert");
    assert_usage_exit(s, (const char *[]){"--listen", "127.0.0.1:0", "--tls-cert", srv.pem, "--tls-key", other.key, NULL},
                      "--tls-key: ");
    assert_usage_exit(s, (const char *[]){"--listen", "127.0.0.1:0", "--tls-cert", srv.pem, "--tls-key", other.key, NULL},
                      "is not the key of the certificate");
    assert_usage_exit(s, (const char *[]){"--listen", "127.0.0.1:0", "--tls-cert", "/nonexistent/srv.pem",
                                          "--tls-key", srv.key, NULL},
                      "--tls-cert: cannot open /nonexistent/srv.pem");
    /* a key where the CA should be: no certificate in it */
    assert_usage_exit(s, (const char *[]){"--listen", "127.0.0.1:0", "--tls-cert", srv.pem, "--tls-key", srv.key,
                                          "--tls-client-ca", srv.key, NULL},
                      "--tls-client-ca: ");
    e2e_server_free(s);
}

static void test_tls_server_only(void **state)
{
    (void)state;
    e2e_server_t *s = e2e_server_new(NULL);
    static e2e_cert_t ca, srv, ca2;
    e2e_ca_make(s->dir, "ca", &ca);
    e2e_ca_make(s->dir, "ca2", &ca2);
    e2e_server_cert_make(s->dir, "srv", &ca, &srv);
    const char *flags[] = {"--tls-cert", srv.pem, "--tls-key", srv.key, NULL};
    for (size_t i = 0; flags[i]; i++) s->extra[i] = flags[i];
    s->conn = e2e_tls_options(&ca, NULL);
    e2e_server_start(s);   /* waits for SERVING over TLS */

    grading_client_options_t plain = {0}, wrong_ca = e2e_tls_options(&ca2, NULL);
    assert_int_equal(e2e_tls_health_status(s, &s->conn, CALL_MS), GRPC_STATUS_OK);
    assert_int_equal(e2e_tls_health_status(s, &plain, CALL_MS), GRPC_STATUS_UNAVAILABLE);
    assert_int_equal(e2e_tls_health_status(s, &wrong_ca, CALL_MS), GRPC_STATUS_UNAVAILABLE);
    e2e_server_stop_ok(s);
    e2e_server_free(s);
}

static void test_mtls(void **state)
{
    (void)state;
    e2e_server_t *s = e2e_server_new(NULL);
    static e2e_cert_t ca, srv, good, ca2, foreign, expired;
    e2e_ca_make(s->dir, "ca", &ca);
    e2e_ca_make(s->dir, "ca2", &ca2);
    e2e_server_cert_make(s->dir, "srv", &ca, &srv);
    e2e_cert_make(s->dir, "good", &ca, "search", "URI:spiffe://shop/search", false, &good);
    e2e_cert_make(s->dir, "foreign", &ca2, "search", "URI:spiffe://shop/search", false, &foreign);
    e2e_cert_make(s->dir, "expired", &ca, "search", "URI:spiffe://shop/search", true, &expired);
    const char *flags[] = {"--tls-cert", srv.pem, "--tls-key", srv.key, "--tls-client-ca", ca.pem, NULL};
    for (size_t i = 0; flags[i]; i++) s->extra[i] = flags[i];
    s->conn = e2e_tls_options(&ca, &good);
    e2e_server_start(s);

    grading_client_options_t none = e2e_tls_options(&ca, NULL), other = e2e_tls_options(&ca, &foreign),
                             old = e2e_tls_options(&ca, &expired), plain = {0};
    assert_int_equal(e2e_tls_health_status(s, &none, CALL_MS), GRPC_STATUS_UNAVAILABLE);
    assert_int_equal(e2e_tls_health_status(s, &other, CALL_MS), GRPC_STATUS_UNAVAILABLE);
    assert_int_equal(e2e_tls_health_status(s, &old, CALL_MS), GRPC_STATUS_UNAVAILABLE);
    assert_int_equal(e2e_tls_health_status(s, &plain, CALL_MS), GRPC_STATUS_UNAVAILABLE);
    /* the refusals did not hurt the server */
    assert_int_equal(e2e_tls_health_status(s, &s->conn, CALL_MS), GRPC_STATUS_OK);

    /* gradectl: flags (e2e_gradectl passes s->conn as --tls-*) */
    e2e_run_t r = {0};
    e2e_gradectl(s, &r, "health", NULL);
    if (r.code != 0) fail_msg("gradectl health over mTLS: %s", r.err);
    e2e_assert_contains(r.out, "SERVING");
    e2e_run_destroy(&r);
    /* gradectl without a client certificate: refused (the handshake fails: "could not reach", exit 3) */
    grading_client_options_t saved = s->conn;
    s->conn = none;
    e2e_gradectl(s, &r, "health", NULL);
    assert_int_equal(r.code, 3);
    e2e_assert_contains(r.err, "UNAVAILABLE");
    e2e_run_destroy(&r);
    /* gradectl: GRADING_TLS_* variables instead of flags */
    s->conn = (grading_client_options_t){0};
    setenv("GRADING_TLS_CA", ca.pem, 1);
    setenv("GRADING_TLS_CERT", good.pem, 1);
    setenv("GRADING_TLS_KEY", good.key, 1);
    e2e_gradectl(s, &r, "health", NULL);
    unsetenv("GRADING_TLS_CA");
    unsetenv("GRADING_TLS_CERT");
    unsetenv("GRADING_TLS_KEY");
    if (r.code != 0) fail_msg("gradectl health with GRADING_TLS_*: %s", r.err);
    e2e_run_destroy(&r);
    /* gradectl with a key file that is not PEM: a clear error naming the flag */
    s->conn = saved;
    s->conn.tls_key = s->port_file;
    e2e_gradectl(s, &r, "health", NULL);
    assert_int_equal(r.code, 1);
    e2e_assert_contains(r.err, "--tls-key");
    e2e_run_destroy(&r);
    s->conn = saved;

    e2e_server_stop_ok(s);
    e2e_server_free(s);
}

/* dir/live -> dir/<set>, swapped atomically (a new link renamed over). */
static void point_live(const char *dir, const char *set)
{
    char link[E2E_PATH_MAX], tmp[E2E_PATH_MAX];
    snprintf(link, sizeof link, "%s/live", dir);
    snprintf(tmp, sizeof tmp, "%s/live.tmp", dir);
    unlink(tmp);
    if (symlink(set, tmp) != 0 || rename(tmp, link) != 0) fail_msg("cannot point %s at %s", link, set);
}

static void make_set(const char *dir, const char *set, const e2e_cert_t *ca, const e2e_cert_t *srv,
                     const char *key_from)
{
    char path[E2E_PATH_MAX + 16], sub[E2E_PATH_MAX];
    snprintf(sub, sizeof sub, "%s/%s", dir, set);
    if (mkdir(sub, 0755) != 0) fail_msg("mkdir %s", sub);
    const char *links[][2] = {{"tls.crt", srv->pem}, {"tls.key", key_from}, {"ca.crt", ca->pem}};
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", sub, links[i][0]);
        if (symlink(links[i][1], path) != 0) fail_msg("symlink %s", path);
    }
}

/* Polls with new connections until o gets `want` (bounded). */
static void wait_status(const e2e_server_t *s, const grading_client_options_t *o, grpc_status_code want,
                        const char *what)
{
    int64_t deadline = e2e_now_ms() + ROTATE_TIMEOUT_MS;
    grpc_status_code got = GRPC_STATUS_UNKNOWN;
    while (e2e_now_ms() < deadline) {
        if ((got = e2e_tls_health_status(s, o, CALL_MS)) == want) return;
        e2e_sleep_ms(50);
    }
    e2e_server_dump_log(s);
    fail_msg("%s: expected %s, still %s after %d ms", what, grading_status_name(want), grading_status_name(got),
             ROTATE_TIMEOUT_MS);
}

static bool log_contains(const e2e_server_t *s, const char *needle)
{
    FILE *f = fopen(s->log_path, "r");
    if (!f) return false;
    char line[1024];
    bool found = false;
    while (!found && fgets(line, sizeof line, f)) found = strstr(line, needle) != NULL;
    fclose(f);
    return found;
}

static void test_rotation_while_serving(void **state)
{
    (void)state;
    e2e_server_t *s = e2e_server_new(NULL);
    static e2e_cert_t ca1, srv1, cli1, ca2, srv2, cli2, ca3, srv3;
    e2e_ca_make(s->dir, "ca1", &ca1);
    e2e_ca_make(s->dir, "ca2", &ca2);
    e2e_ca_make(s->dir, "ca3", &ca3);
    e2e_server_cert_make(s->dir, "srv1", &ca1, &srv1);
    e2e_server_cert_make(s->dir, "srv2", &ca2, &srv2);
    e2e_server_cert_make(s->dir, "srv3", &ca3, &srv3);
    e2e_cert_make(s->dir, "cli1", &ca1, "one", NULL, false, &cli1);
    e2e_cert_make(s->dir, "cli2", &ca2, "two", NULL, false, &cli2);
    make_set(s->dir, "set1", &ca1, &srv1, srv1.key);
    make_set(s->dir, "set2", &ca2, &srv2, srv2.key);
    make_set(s->dir, "set3", &ca3, &srv3, srv2.key);   /* broken: srv2's key for srv3 */
    point_live(s->dir, "set1");

    static char crt[E2E_PATH_MAX], key[E2E_PATH_MAX], cacrt[E2E_PATH_MAX];
    snprintf(crt, sizeof crt, "%s/live/tls.crt", s->dir);
    snprintf(key, sizeof key, "%s/live/tls.key", s->dir);
    snprintf(cacrt, sizeof cacrt, "%s/live/ca.crt", s->dir);
    const char *flags[] = {"--tls-cert", crt, "--tls-key", key, "--tls-client-ca", cacrt, NULL};
    for (size_t i = 0; flags[i]; i++) s->extra[i] = flags[i];
    grading_client_options_t one = e2e_tls_options(&ca1, &cli1), two = e2e_tls_options(&ca2, &cli2),
                             three = e2e_tls_options(&ca3, &cli2);
    s->conn = one;
    e2e_server_start(s);
    assert_int_equal(e2e_tls_health_status(s, &two, CALL_MS), GRPC_STATUS_UNAVAILABLE);

    /* the long-lived client of the test keeps its connection through it all */
    assert_int_equal(e2e_health(s->client, CALL_MS), E2E_SERVING);
    point_live(s->dir, "set2");
    wait_status(s, &two, GRPC_STATUS_OK, "a client of the new CA after the rotation");
    assert_int_equal(e2e_tls_health_status(s, &one, CALL_MS), GRPC_STATUS_UNAVAILABLE);
    assert_int_equal(e2e_health(s->client, CALL_MS), E2E_SERVING);
    assert_true(log_contains(s, "TLS certificate files changed"));

    /* a broken set is refused: set2 keeps serving */
    point_live(s->dir, "set3");
    int64_t deadline = e2e_now_ms() + ROTATE_TIMEOUT_MS;
    while (!log_contains(s, "TLS files not reloaded") && e2e_now_ms() < deadline) {
        e2e_tls_health_status(s, &two, CALL_MS);   /* a handshake makes the server look */
        e2e_sleep_ms(50);
    }
    if (!log_contains(s, "TLS files not reloaded")) {
        e2e_server_dump_log(s);
        fail_msg("the broken set was not reported");
    }
    assert_true(log_contains(s, "is not the key of the certificate"));
    assert_int_equal(e2e_tls_health_status(s, &two, CALL_MS), GRPC_STATUS_OK);
    assert_int_equal(e2e_tls_health_status(s, &three, CALL_MS), GRPC_STATUS_UNAVAILABLE);

    /* back to set1 and a SIGHUP: set1 serves again */
    point_live(s->dir, "set1");
    kill(s->pid, SIGHUP);
    wait_status(s, &one, GRPC_STATUS_OK, "a client of the first CA after rotating back");
    assert_int_equal(e2e_tls_health_status(s, &two, CALL_MS), GRPC_STATUS_UNAVAILABLE);
    e2e_server_stop_ok(s);
    e2e_server_free(s);
}

static off_t file_size(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) fail_msg("stat %s", path);
    return st.st_size;
}

/* Rewrites dst in place (same inode) with src's bytes, then puts dst's
 * old modification time back: to stat, nothing changed. */
static void overwrite_keep_mtime(const char *dst, const char *src)
{
    struct stat st;
    char buf[8192];
    if (stat(dst, &st) != 0) fail_msg("stat %s", dst);
    FILE *in = fopen(src, "rb");
    if (!in) fail_msg("open %s", src);
    size_t n = fread(buf, 1, sizeof buf, in);
    fclose(in);
    int fd = open(dst, O_WRONLY | O_TRUNC);
    if (fd < 0 || write(fd, buf, n) != (ssize_t)n || close(fd) != 0) fail_msg("rewrite %s", dst);
    struct timespec times[2] = {st.st_atim, st.st_mtim};
    if (utimensat(AT_FDCWD, dst, times, 0) != 0) fail_msg("utimensat %s", dst);
}

/* A change stat cannot see (same inode, size and mtime) is read on SIGHUP. */
static void test_sighup_rereads(void **state)
{
    (void)state;
    e2e_server_t *s = e2e_server_new(NULL);
    static e2e_cert_t ca1, ca2, srv1, srv2, live;
    e2e_ca_make(s->dir, "ca1", &ca1);
    e2e_ca_make(s->dir, "ca2", &ca2);
    e2e_server_cert_make(s->dir, "srv1", &ca1, &srv1);
    /* signatures vary in length: make srv2 until it is srv1's size */
    for (int i = 0; i < 40; i++) {
        e2e_server_cert_make(s->dir, "srv2", &ca2, &srv2);
        if (file_size(srv2.pem) == file_size(srv1.pem)) break;
    }
    if (file_size(srv2.pem) != file_size(srv1.pem) || file_size(srv2.key) != file_size(srv1.key))
        fail_msg("could not make two server certificates of one size");
    /* the served files: copies of srv1 */
    snprintf(live.pem, sizeof live.pem, "%s/live.crt", s->dir);
    snprintf(live.key, sizeof live.key, "%s/live.key", s->dir);
    for (int f = 0; f < 2; f++) {
        int fd = open(f ? live.key : live.pem, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd < 0 || close(fd) != 0) fail_msg("create");
    }
    overwrite_keep_mtime(live.pem, srv1.pem);
    overwrite_keep_mtime(live.key, srv1.key);
    s->extra[0] = "--tls-cert";
    s->extra[1] = live.pem;
    s->extra[2] = "--tls-key";
    s->extra[3] = live.key;
    s->conn = e2e_tls_options(&ca1, NULL);
    e2e_server_start(s);
    grading_client_options_t two = e2e_tls_options(&ca2, NULL);
    assert_int_equal(e2e_tls_health_status(s, &two, CALL_MS), GRPC_STATUS_UNAVAILABLE);

    overwrite_keep_mtime(live.pem, srv2.pem);
    overwrite_keep_mtime(live.key, srv2.key);
    /* unseen until asked: handshakes keep the old certificate */
    assert_int_equal(e2e_tls_health_status(s, &two, CALL_MS), GRPC_STATUS_UNAVAILABLE);
    assert_int_equal(e2e_tls_health_status(s, &s->conn, CALL_MS), GRPC_STATUS_OK);
    kill(s->pid, SIGHUP);
    wait_status(s, &two, GRPC_STATUS_OK, "a client of the new CA after SIGHUP");
    assert_int_equal(e2e_tls_health_status(s, &s->conn, CALL_MS), GRPC_STATUS_UNAVAILABLE);
    e2e_server_stop_ok(s);
    e2e_server_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_flags),
        cmocka_unit_test(test_tls_server_only),
        cmocka_unit_test(test_mtls),
        cmocka_unit_test(test_rotation_while_serving),
        cmocka_unit_test(test_sighup_rereads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
