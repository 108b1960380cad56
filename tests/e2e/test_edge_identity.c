/* End-to-end: what the edge (deploy/haproxy/haproxy.cfg) tells gradingd
 * about the caller. Behind it runs tests/edge/h2echo.py instead of
 * gradingd: it answers every call with the x-grading-client-* headers it
 * received, so the test sees exactly what gradingd would be given.
 *
 * - Plaintext: a client's own x-grading-client-cn / -uri-san (any case,
 *   repeated) never get through.
 * - Mutual TLS: the verified certificate's CN arrives in
 *   x-grading-client-cn, replacing the client's copy; -uri-san never
 *   arrives (HAProxy 2.6 cannot read it). No certificate, a certificate
 *   from another CA, or plaintext: refused.
 *
 * - What the edge answers itself: a path that is not a gRPC method of
 *   ours (UNIMPLEMENTED), a declared body above gradingd's 16 MiB
 *   (RESOURCE_EXHAUSTED); neither reaches the backend.
 *
 * Certificates are made per run with openssl. Skips (77) when haproxy,
 * python3-h2 or openssl is missing; scripts/setup.sh installs them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "edge.h"
#include "testsrv.h"

#define SKIP_CODE 77
#define ECHO_SECONDS "120"
#define ABSENT "<absent>"

typedef struct {
    char dir[64];
    char path[16][E2E_PATH_MAX];   /* see the P_* indexes */
    pid_t echo;
    char backend[64];
    e2e_edge_t edge;
} fixture_t;

enum { P_CA, P_CA_KEY, P_OTHER_CA, P_OTHER_KEY, P_SRV_BUNDLE, P_CLI, P_CLI_KEY, P_ROGUE, P_ROGUE_KEY, P_TMP };

static const char *const NAMES[] = {"ca.pem",  "ca.key",      "other-ca.pem", "other-ca.key", "edge.pem",
                                    "cli.pem", "cli.key",     "rogue.pem",    "rogue.key",    "tmp"};

static void openssl(fixture_t *f, const char *const *args)
{
    const char *argv[40];
    size_t n = 0;
    argv[n++] = "/usr/bin/openssl";
    for (size_t i = 0; args[i]; i++) argv[n++] = args[i];
    argv[n] = NULL;
    e2e_run_t r;
    e2e_run(f->dir, argv, E2E_RUN_TIMEOUT_MS, &r);
    if (!r.exited || r.code != 0) fail_msg("openssl %s failed:\n%s", args[0], r.err);
    e2e_run_destroy(&r);
}

static void make_ca(fixture_t *f, int cert, int key, const char *cn)
{
    char subj[64];
    snprintf(subj, sizeof subj, "/CN=%s", cn);
    const char *a[] = {"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
                       "-subj", subj, "-keyout", f->path[key], "-out", f->path[cert], NULL};
    openssl(f, a);
}

/* A certificate for cn signed by ca; san (may be NULL) an extension value. */
static void make_cert(fixture_t *f, int ca, int ca_key, const char *cn, const char *san, int cert, int key)
{
    char subj[64], csr[E2E_PATH_MAX + 8], ext[128];
    snprintf(subj, sizeof subj, "/CN=%s", cn);
    snprintf(csr, sizeof csr, "%s.csr", f->path[cert]);
    snprintf(ext, sizeof ext, "subjectAltName=%s", san ? san : "DNS:localhost");
    const char *req[] = {"req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", subj,
                         "-addext", ext, "-keyout", f->path[key], "-out", csr, NULL};
    openssl(f, req);
    const char *sign[] = {"x509", "-req", "-in", csr, "-CA", f->path[ca], "-CAkey", f->path[ca_key],
                          "-set_serial", "1", "-days", "2", "-copy_extensions", "copy", "-out", f->path[cert], NULL};
    openssl(f, sign);
}

static int read_port(const char *path)
{
    FILE *fp = fopen(path, "r");
    int port = -1;
    if (!fp) return -1;
    if (fscanf(fp, "%d", &port) != 1) port = -1;
    fclose(fp);
    return port;
}

/* Runs h2client.py call against the edge with args; returns its report. */
static json_t *call(fixture_t *f, const char *const *args)
{
    char script[E2E_PATH_MAX];
    snprintf(script, sizeof script, "%s/tests/edge/h2client.py", e2e_env("GRADING_SOURCE_DIR"));
    const char *argv[32];
    size_t n = 0;
    argv[n++] = e2e_env("GRADING_EDGE_PYTHON");
    argv[n++] = script;
    argv[n++] = "call";
    argv[n++] = "--target";
    argv[n++] = f->edge.addr;
    argv[n++] = "--timeout";
    argv[n++] = "3";
    for (size_t i = 0; args && args[i]; i++) argv[n++] = args[i];
    argv[n] = NULL;
    e2e_run_t r;
    e2e_run(f->dir, argv, E2E_RUN_TIMEOUT_MS, &r);
    if (!r.exited || r.code != 0) fail_msg("h2client.py call failed:\n%s%s", r.out, r.err);
    json_error_t jerr;
    json_t *j = json_loads(r.out, 0, &jerr);
    if (!j) fail_msg("bad report from h2client.py call (%s): %s", jerr.text, r.out);
    e2e_run_destroy(&r);
    return j;
}

static bool call_ok(json_t *rep)
{
    return json_is_null(json_object_get(rep, "error"));
}

static const char *header(json_t *rep, const char *name)
{
    const char *v = json_string_value(json_object_get(json_object_get(rep, "headers"), name));
    if (!v) fail_msg("no %s in the echo's answer: %s", name, json_dumps(rep, 0));
    return v;
}

static const char *error_of(json_t *rep)
{
    const char *e = json_string_value(json_object_get(rep, "error"));
    return e ? e : "";
}

/* The readiness checks: a call through the edge succeeds. */
static bool edge_answers(const e2e_edge_t *edge, void *arg)
{
    fixture_t *f = arg;
    (void)edge;
    json_t *rep = call(f, NULL);
    bool ok = call_ok(rep);
    json_decref(rep);
    return ok;
}

static bool edge_answers_mtls(const e2e_edge_t *edge, void *arg)
{
    fixture_t *f = arg;
    (void)edge;
    const char *a[] = {"--tls-ca", f->path[P_CA], "--cert", f->path[P_CLI], "--key", f->path[P_CLI_KEY], NULL};
    json_t *rep = call(f, a);
    bool ok = call_ok(rep);
    json_decref(rep);
    return ok;
}

static int group_setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    if (!f) return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/grading-e2e-XXXXXX");
    if (!mkdtemp(f->dir)) {
        fprintf(stderr, "mkdtemp: %s\n", strerror(errno));
        free(f);
        return -1;
    }
    for (size_t i = 0; i < sizeof NAMES / sizeof NAMES[0]; i++)
        snprintf(f->path[i], sizeof f->path[i], "%s/%s", f->dir, NAMES[i]);
    *state = f;
    return 0;
}

static int group_teardown(void **state)
{
    fixture_t *f = *state;
    e2e_edge_stop(&f->edge);
    if (f->echo > 0) {
        kill(f->echo, SIGKILL);
        waitpid(f->echo, NULL, 0);
    }
    e2e_rm_rf(f->dir);
    free(f);
    return 0;
}

static int teardown_edge(void **state)
{
    fixture_t *f = *state;
    e2e_edge_stop(&f->edge);
    return 0;
}

/* Certificates and the echo backend, once for the group (in a test, so
 * it may assert; the group teardown cleans up either way). */
static void prepare(void **state)
{
    fixture_t *f = *state;
    make_ca(f, P_CA, P_CA_KEY, "grading-test-ca");
    make_ca(f, P_OTHER_CA, P_OTHER_KEY, "someone-elses-ca");
    make_cert(f, P_CA, P_CA_KEY, "edge", "DNS:localhost,IP:127.0.0.1", P_TMP, P_SRV_BUNDLE);
    /* HAProxy reads the key from "<crt>.key": edge.pem holds the key, tmp
     * the certificate; put the certificate first in the bundle. */
    char *key = NULL, *crt = NULL;
    size_t len = 0;
    FILE *in = fopen(f->path[P_SRV_BUNDLE], "r");
    assert_non_null(in);
    assert_true(getdelim(&key, &len, '\0', in) > 0);
    fclose(in);
    in = fopen(f->path[P_TMP], "r");
    assert_non_null(in);
    len = 0;
    assert_true(getdelim(&crt, &len, '\0', in) > 0);
    fclose(in);
    FILE *out = fopen(f->path[P_SRV_BUNDLE], "w");
    assert_non_null(out);
    fputs(crt, out);
    fputs(key, out);
    assert_int_equal(fclose(out), 0);
    free(key);
    free(crt);
    make_cert(f, P_CA, P_CA_KEY, "caller-a", "URI:spiffe://grading.test/caller-a", P_CLI, P_CLI_KEY);
    make_cert(f, P_OTHER_CA, P_OTHER_KEY, "caller-a", "URI:spiffe://grading.test/caller-a", P_ROGUE, P_ROGUE_KEY);

    char script[E2E_PATH_MAX], port_file[E2E_PATH_MAX + 16], log[E2E_PATH_MAX + 16];
    snprintf(script, sizeof script, "%s/tests/edge/h2echo.py", e2e_env("GRADING_SOURCE_DIR"));
    snprintf(port_file, sizeof port_file, "%s/echo.port", f->dir);
    snprintf(log, sizeof log, "%s/echo.log", f->dir);
    const char *argv[] = {e2e_env("GRADING_EDGE_PYTHON"), script, "--port-file", port_file,
                          "--seconds", ECHO_SECONDS, NULL};
    f->echo = e2e_spawn(argv, log);
    assert_true(f->echo > 0);
    int port = -1;
    for (int64_t end = e2e_now_ms() + E2E_START_TIMEOUT_MS; port < 0 && e2e_now_ms() < end;) {
        if (e2e_child_exited(f->echo)) fail_msg("h2echo.py exited during start-up (log %s)", log);
        if ((port = read_port(port_file)) < 0) e2e_sleep_ms(20);
    }
    if (port < 0) fail_msg("h2echo.py wrote no port file within %d ms", E2E_START_TIMEOUT_MS);
    snprintf(f->backend, sizeof f->backend, "127.0.0.1:%d", port);
}

static void plaintext_edge_drops_client_identity_headers(void **state)
{
    fixture_t *f = *state;
    if (!f->backend[0]) fail_msg("no echo backend: the prepare step failed");
    e2e_edge_start_at(&f->edge, f->dir, f->backend, NULL, edge_answers, f);

    /* Without the headers: nothing is made up. */
    json_t *rep = call(f, NULL);
    assert_true(call_ok(rep));
    assert_string_equal(header(rep, "x-echo-client-cn"), ABSENT);
    assert_string_equal(header(rep, "x-echo-client-uri-san"), ABSENT);
    json_decref(rep);

    /* A client claiming an identity, in odd case and twice over. */
    const char *a[] = {"--header", "x-grading-client-cn=admin", "--header", "X-Grading-Client-CN=root",
                       "--header", "x-grading-client-uri-san=spiffe://grading.test/admin", NULL};
    rep = call(f, a);
    assert_true(call_ok(rep));
    assert_string_equal(header(rep, "x-echo-client-cn"), ABSENT);
    assert_string_equal(header(rep, "x-echo-client-uri-san"), ABSENT);
    json_decref(rep);
}

/* The gRPC status of an answer the edge gave itself (trailers-only: the
 * status is in the headers, and the echo's headers are absent). */
static void assert_edge_status(json_t *rep, const char *status, const char *message_part)
{
    assert_true(call_ok(rep));
    json_t *h = json_object_get(rep, "headers");
    const char *st = json_string_value(json_object_get(h, "grpc-status"));
    const char *msg = json_string_value(json_object_get(h, "grpc-message"));
    if (!st || strcmp(st, status) != 0 || !msg || !strstr(msg, message_part))
        fail_msg("expected grpc-status %s (\"%s\") from the edge, got %s", status, message_part, json_dumps(rep, 0));
    assert_null(json_object_get(h, "x-echo-client-cn"));
}

static void edge_refuses_other_paths_and_oversized_bodies(void **state)
{
    fixture_t *f = *state;
    if (!f->backend[0]) fail_msg("no echo backend: the prepare step failed");
    e2e_edge_start_at(&f->edge, f->dir, f->backend, NULL, edge_answers, f);

    const char *admin[] = {"--path", "/admin/shutdown", NULL};
    json_t *rep = call(f, admin);
    assert_edge_status(rep, "12", "not a gRPC method");
    json_decref(rep);

    /* Judged from the headers, before any body is sent: 16 MiB of
     * message plus the 5-byte frame header reaches the backend, one byte
     * more is refused. */
    const char *at_limit[] = {"--headers-only", "--header", "content-length=16777221", NULL};
    rep = call(f, at_limit);
    assert_true(call_ok(rep));
    assert_string_equal(header(rep, "x-echo-client-cn"), ABSENT);
    json_decref(rep);
    const char *over[] = {"--headers-only", "--header", "content-length=16777222", NULL};
    rep = call(f, over);
    assert_edge_status(rep, "8", "larger than 16 MiB");
    json_decref(rep);
}

static void mtls_edge_passes_the_verified_cn_only(void **state)
{
    fixture_t *f = *state;
    if (!f->backend[0]) fail_msg("no echo backend: the prepare step failed");
    char cert_env[E2E_PATH_MAX + 32], ca_env[E2E_PATH_MAX + 32];
    snprintf(cert_env, sizeof cert_env, "GRADING_EDGE_TLS_CERT=%s", f->path[P_SRV_BUNDLE]);
    snprintf(ca_env, sizeof ca_env, "GRADING_EDGE_TLS_CA=%s", f->path[P_CA]);
    const char *env[] = {cert_env, ca_env, NULL};
    e2e_edge_start_at(&f->edge, f->dir, f->backend, env, edge_answers_mtls, f);

    /* The verified CN replaces the client's claim; the URI SAN (which the
     * certificate has) is not passed, and the client's copy is dropped. */
    const char *spoof[] = {"--tls-ca", f->path[P_CA], "--cert", f->path[P_CLI], "--key", f->path[P_CLI_KEY],
                           "--header", "x-grading-client-cn=admin",
                           "--header", "x-grading-client-uri-san=spiffe://grading.test/admin", NULL};
    json_t *rep = call(f, spoof);
    assert_true(call_ok(rep));
    assert_string_equal(header(rep, "x-echo-client-cn"), "caller-a");
    assert_string_equal(header(rep, "x-echo-client-uri-san"), ABSENT);
    json_decref(rep);

    /* No client certificate. */
    const char *nocert[] = {"--tls-ca", f->path[P_CA], "--header", "x-grading-client-cn=caller-a", NULL};
    rep = call(f, nocert);
    if (call_ok(rep)) fail_msg("a call without a client certificate got through: %s", json_dumps(rep, 0));
    printf("# no client certificate: %s\n", error_of(rep));
    json_decref(rep);

    /* The same CN from a CA the edge does not trust. */
    const char *rogue[] = {"--tls-ca", f->path[P_CA], "--cert", f->path[P_ROGUE], "--key", f->path[P_ROGUE_KEY], NULL};
    rep = call(f, rogue);
    if (call_ok(rep)) fail_msg("a certificate from another CA got through: %s", json_dumps(rep, 0));
    printf("# certificate from another CA: %s\n", error_of(rep));
    json_decref(rep);

    /* Plaintext HTTP/2 to the TLS port. */
    rep = call(f, NULL);
    if (call_ok(rep)) fail_msg("plaintext got through the TLS edge: %s", json_dumps(rep, 0));
    json_decref(rep);
}

int main(void)
{
    char why[E2E_PATH_MAX + 128];
    if (!e2e_edge_available(why, sizeof why)) {
        printf("SKIP: %s\n", why);
        return SKIP_CODE;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(prepare),
        cmocka_unit_test_teardown(plaintext_edge_drops_client_identity_headers, teardown_edge),
        cmocka_unit_test_teardown(edge_refuses_other_paths_and_oversized_bodies, teardown_edge),
        cmocka_unit_test_teardown(mtls_edge_passes_the_verified_cn_only, teardown_edge),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
