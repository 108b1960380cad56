/* End-to-end: WatchGradeChanges over real gRPC against gradingd.
 *
 * - changes arrive in commit order, with consecutive tokens, and filters
 *   (seller ids, marketplace, kinds) keep exactly what they ask for;
 * - levels a close publishes arrive as their own kind, with the period;
 * - a client that reconnects with its last token misses nothing and sees
 *   nothing twice, after a disconnect and after a server restart (the
 *   stream itself ends UNAVAILABLE when the server stops);
 * - bad requests: INVALID_ARGUMENT naming the field, NOT_FOUND, and a
 *   token outside the (pruned) log OUT_OF_RANGE;
 * - a consumer that stops reading is cut with RESOURCE_EXHAUSTED while the
 *   server's anonymous memory stays flat.
 *
 * Every wait is bounded by a deadline; no fixed sleeps. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "grading/client.h"
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/time.h>
#include "testsrv.h"

#define SVC "/grading.v1.GradingService/"
#define WAIT_MS 30000
#define CLOCK "2026-11-02T00:00:00Z"
#define EVENT_TIME "2026-10-20T01:00:00Z"

typedef struct {
    grading_client_t *c;
    grading_client_stream_t *s;
    uint64_t start;   /* the first message's token */
} watch_t;

typedef struct {
    char seller[32];
    uint64_t token;
    uint32_t kinds;   /* 1 << ChangeKind */
    char period[16];
} seen_t;

static uint64_t token_value(const char *t)
{
    char *end;
    unsigned long long v = strtoull(t, &end, 10);
    if (!t[0] || *end) fail_msg("not a token: \"%s\"", t);
    return v;
}

/* Opens a stream; on OK reads its first message (no changes, the start
 * token) into w. Returns the status of a stream the server refused. */
static grpc_status_code watch_try(const e2e_server_t *srv, watch_t *w, const char *mp, const char *from,
                                  const char *const *sellers, size_t nsellers, const int *kinds, size_t nkinds,
                                  char *details, size_t dlen)
{
    Grading__V1__WatchGradeChangesRequest req = GRADING__V1__WATCH_GRADE_CHANGES_REQUEST__INIT;
    req.marketplace = (char *)(mp ? mp : "");
    req.resume_token = (char *)(from ? from : "");
    req.seller_ids = (char **)sellers;
    req.n_seller_ids = nsellers;
    Grading__V1__ChangeKind k[8];
    for (size_t i = 0; i < nkinds && i < 8; i++) k[i] = (Grading__V1__ChangeKind)kinds[i];
    req.kinds = k;
    req.n_kinds = nkinds;
    memset(w, 0, sizeof *w);
    w->c = e2e_client_new(srv);
    assert_non_null(w->c);
    assert_int_equal(grading_client_stream_open(w->c, SVC "WatchGradeChanges", &req.base, &w->s), GRADING_OK);
    ProtobufCMessage *m = NULL;
    bool timed_out;
    grading_call_result_t res = {0};
    assert_int_equal(grading_client_stream_next(w->s, &grading__v1__watch_grade_changes_response__descriptor,
                                                WAIT_MS, &m, &timed_out, &res),
                     GRADING_OK);
    assert_false(timed_out);
    if (!m) {
        grpc_status_code st = res.status;
        if (details) snprintf(details, dlen, "%s", res.details ? res.details : "");
        grading_call_result_destroy(&res);
        return st;
    }
    const Grading__V1__WatchGradeChangesResponse *r = (const void *)m;
    assert_int_equal(r->n_changes, 0);
    w->start = token_value(r->token);
    protobuf_c_message_free_unpacked(m, NULL);
    return GRPC_STATUS_OK;
}

static void watch_open(const e2e_server_t *srv, watch_t *w, const char *mp, const char *from)
{
    char details[256];
    grpc_status_code st = watch_try(srv, w, mp, from, NULL, 0, NULL, 0, details, sizeof details);
    if (st != GRPC_STATUS_OK) fail_msg("WatchGradeChanges refused: %s %s", grading_status_name(st), details);
}

static void watch_close(watch_t *w)
{
    grading_client_stream_free(w->s);
    grading_client_free(w->c);
    memset(w, 0, sizeof *w);
}

/* Reads until want changes arrived (or the deadline passes, or the stream
 * ends: then *end gets its status). Returns how many arrived, which may
 * exceed want (a message's changes all count); out holds the first want. */
static size_t watch_collect(watch_t *w, seen_t *out, size_t want, int64_t timeout_ms, grpc_status_code *end)
{
    size_t n = 0;
    int64_t deadline = e2e_now_ms() + timeout_ms;
    if (end) *end = GRPC_STATUS_OK;
    while (n < want) {
        int64_t left = deadline - e2e_now_ms();
        if (left <= 0) break;
        ProtobufCMessage *m = NULL;
        bool timed_out;
        grading_call_result_t res = {0};
        assert_int_equal(grading_client_stream_next(w->s, &grading__v1__watch_grade_changes_response__descriptor,
                                                    left, &m, &timed_out, &res),
                         GRADING_OK);
        if (timed_out) break;
        if (!m) {
            if (end) *end = res.status;
            grading_call_result_destroy(&res);
            break;
        }
        const Grading__V1__WatchGradeChangesResponse *r = (const void *)m;
        for (size_t i = 0; i < r->n_changes; i++) {
            const Grading__V1__GradeChange *c = r->changes[i];
            if (n < want) {
                snprintf(out[n].seller, sizeof out[n].seller, "%s", c->seller_id);
                out[n].token = token_value(c->token);
                out[n].kinds = 0;
                for (size_t k = 0; k < c->n_kinds; k++) out[n].kinds |= 1u << c->kinds[k];
                snprintf(out[n].period, sizeof out[n].period, "%s", c->period);
            }
            n++;
        }
        protobuf_c_message_free_unpacked(m, NULL);
    }
    return n;
}

/* One RecordEvents per seller prefix<i>, i in [from, to): each seller's
 * first event, so each commit logs exactly one change. */
static void record_sellers_one_by_one(grading_client_t *c, const char *prefix, int from, int to)
{
    for (int i = from; i < to; i++) {
        e2e_batch_t b;
        char id[64], seller[32], oid[40];
        e2e_batch_init(&b);
        snprintf(seller, sizeof seller, "%s%d", prefix, i);
        snprintf(id, sizeof id, "%s-paid", seller);
        snprintf(oid, sizeof oid, "%s-o", seller);
        e2e_add_paid(&b, id, NULL, seller, EVENT_TIME, oid, 1000, "KRW", 2);
        e2e_record_ok(c, b.ev, b.n, 1, 0);
        e2e_batch_destroy(&b);
    }
}

/* One RecordEvents of n new sellers prefix<from..from+n). */
static void record_sellers_batch(grading_client_t *c, const char *prefix, int from, int n)
{
    e2e_batch_t b;
    e2e_batch_init(&b);
    for (int i = from; i < from + n; i++) {
        char id[64], seller[32], oid[40];
        snprintf(seller, sizeof seller, "%s%d", prefix, i);
        snprintf(id, sizeof id, "%s-paid", seller);
        snprintf(oid, sizeof oid, "%s-o", seller);
        e2e_add_paid(&b, id, NULL, seller, EVENT_TIME, oid, 1000, "KRW", 2);
    }
    e2e_record_ok(c, b.ev, b.n, (uint32_t)n, 0);
    e2e_batch_destroy(&b);
}

static void assert_sellers(const seen_t *seen, size_t n, const char *prefix, int first)
{
    for (size_t i = 0; i < n; i++) {
        char want[32];
        snprintf(want, sizeof want, "%s%d", prefix, first + (int)i);
        if (strcmp(seen[i].seller, want) != 0)
            fail_msg("change %zu is for %s, expected %s (commit order)", i, seen[i].seller, want);
        if (i > 0 && seen[i].token != seen[i - 1].token + 1)
            fail_msg("token %" PRIu64 " follows %" PRIu64 ": not consecutive", seen[i].token, seen[i - 1].token);
    }
}

static const char *const clock_flags[] = {"--test-clock", CLOCK, NULL};

static int setup(void **state)
{
    *state = e2e_server_start_new(clock_flags);
    return 0;
}

/* ---- order and filters ---- */

static void test_changes_arrive_in_commit_order_and_filters_keep_what_they_ask(void **state)
{
    e2e_server_t *s = *state;
    watch_t all, two, other_mp, published;
    watch_open(s, &all, NULL, NULL);
    const char *const ids[] = {"ord7", "ord3"};
    assert_int_equal(watch_try(s, &two, NULL, NULL, ids, 2, NULL, 0, NULL, 0), GRPC_STATUS_OK);
    watch_open(s, &other_mp, "nymart", NULL);
    const int pub[] = {GRADING__V1__CHANGE_KIND__CHANGE_KIND_PUBLISHED_LEVELS};
    assert_int_equal(watch_try(s, &published, NULL, NULL, NULL, 0, pub, 1, NULL, 0), GRPC_STATUS_OK);

    record_sellers_one_by_one(s->client, "ord", 0, 40);
    seen_t seen[64];
    assert_int_equal(watch_collect(&all, seen, 40, WAIT_MS, NULL), 40);
    assert_sellers(seen, 40, "ord", 0);
    assert_int_equal(seen[0].token, all.start + 1);
    /* a new seller's first answer: boost, suspension and live levels are all new */
    uint32_t first = 1u << GRADING__V1__CHANGE_KIND__CHANGE_KIND_BOOST |
                     1u << GRADING__V1__CHANGE_KIND__CHANGE_KIND_SUSPENSION |
                     1u << GRADING__V1__CHANGE_KIND__CHANGE_KIND_LIVE_LEVELS;
    assert_int_equal(seen[0].kinds, first);

    assert_int_equal(watch_collect(&two, seen, 2, WAIT_MS, NULL), 2);
    assert_string_equal(seen[0].seller, "ord3");   /* commit order, not the filter's order */
    assert_string_equal(seen[1].seller, "ord7");

    /* A close publishes everyone's levels: one PUBLISHED change each, with
     * the period; the kinds filter kept the live changes out. */
    Grading__V1__ClosePeriodRequest creq = GRADING__V1__CLOSE_PERIOD_REQUEST__INIT;
    creq.kind = GRADING__V1__PERIOD_KIND__PERIOD_KIND_MONTH;
    creq.period = "2026-10";
    ProtobufCMessage *out = NULL;
    grading_call_result_t res = {0};
    assert_int_equal(grading_client_call(s->client, SVC "ClosePeriod", &creq.base,
                                         &grading__v1__close_period_response__descriptor, 60000, &out, &res),
                     GRADING_OK);
    assert_int_equal(res.status, GRPC_STATUS_OK);
    uint32_t closed = ((const Grading__V1__ClosePeriodResponse *)out)->sellers_evaluated;
    protobuf_c_message_free_unpacked(out, NULL);
    grading_call_result_destroy(&res);
    assert_int_equal(closed, 40);
    seen_t pubs[64];
    assert_int_equal(watch_collect(&published, pubs, 40, WAIT_MS, NULL), 40);
    for (size_t i = 0; i < 40; i++) {
        assert_int_equal(pubs[i].kinds, 1u << GRADING__V1__CHANGE_KIND__CHANGE_KIND_PUBLISHED_LEVELS);
        assert_string_equal(pubs[i].period, "2026-10");
    }
    /* the unfiltered stream sees the same 40 published changes after the live ones */
    assert_int_equal(watch_collect(&all, seen, 40, WAIT_MS, NULL), 40);
    assert_int_equal(seen[0].token, pubs[0].token);

    /* nymart had no change: its stream is still quiet after everything
     * above was delivered (a short bounded wait: nothing may come) */
    assert_int_equal(watch_collect(&other_mp, seen, 1, 300, NULL), 0);
    watch_close(&all);
    watch_close(&two);
    watch_close(&other_mp);
    watch_close(&published);
}

/* ---- resume ---- */

static void test_resume_after_disconnect_and_restart_misses_nothing_and_repeats_nothing(void **state)
{
    e2e_server_t *s = *state;
    watch_t w;
    seen_t seen[64];
    char token[24];
    watch_open(s, &w, NULL, NULL);
    record_sellers_one_by_one(s->client, "res", 0, 10);
    /* the client handles res0..res3 (a message may bring more) and drops */
    assert_true(watch_collect(&w, seen, 4, WAIT_MS, NULL) >= 4);
    assert_sellers(seen, 4, "res", 0);
    snprintf(token, sizeof token, "%" PRIu64, seen[3].token);
    watch_close(&w);

    record_sellers_one_by_one(s->client, "res", 10, 20);
    watch_open(s, &w, NULL, token);
    assert_int_equal(watch_collect(&w, seen, 16, WAIT_MS, NULL), 16);
    assert_sellers(seen, 16, "res", 4);
    assert_int_equal(watch_collect(&w, seen + 16, 1, 300, NULL), 0);   /* and nothing more */
    snprintf(token, sizeof token, "%" PRIu64, seen[5].token);   /* as if the client had seen up to res9 */

    /* the server stops: the open stream ends UNAVAILABLE */
    e2e_server_signal(s, SIGTERM);
    grpc_status_code end;
    assert_int_equal(watch_collect(&w, seen, 1, WAIT_MS, &end), 0);
    assert_int_equal(end, GRPC_STATUS_UNAVAILABLE);
    assert_int_equal(e2e_server_wait(s, E2E_STOP_TIMEOUT_MS), 0);
    watch_close(&w);

    e2e_server_restart(s);
    watch_open(s, &w, NULL, token);
    record_sellers_one_by_one(s->client, "res", 20, 25);
    assert_int_equal(watch_collect(&w, seen, 15, WAIT_MS, NULL), 15);
    assert_sellers(seen, 15, "res", 10);
    assert_int_equal(watch_collect(&w, seen + 15, 1, 300, NULL), 0);
    watch_close(&w);
}

/* ---- bad requests ---- */

static void expect_refused(e2e_server_t *s, const char *mp, const char *from, const char *const *ids, size_t nids,
                           const int *kinds, size_t nkinds, grpc_status_code want, const char *needle)
{
    watch_t w;
    char details[256] = "";
    grpc_status_code st = watch_try(s, &w, mp, from, ids, nids, kinds, nkinds, details, sizeof details);
    if (st != want) fail_msg("expected %s, got %s: %s", grading_status_name(want), grading_status_name(st), details);
    e2e_assert_contains(details, needle);
    watch_close(&w);
}

static void test_bad_requests_name_the_field_and_old_tokens_are_out_of_range(void **state)
{
    (void)state;
    e2e_server_t *s = e2e_server_start_new(
        (const char *const[]){"--test-clock", CLOCK, "--change-log-max-entries", "5", NULL});
    record_sellers_one_by_one(s->client, "bad", 0, 20);   /* the log keeps 16..20 */
    expect_refused(s, NULL, "3", NULL, 0, NULL, 0, GRPC_STATUS_OUT_OF_RANGE, "resume_token");
    expect_refused(s, NULL, "999", NULL, 0, NULL, 0, GRPC_STATUS_OUT_OF_RANGE, "outside the change log");
    expect_refused(s, NULL, "x1", NULL, 0, NULL, 0, GRPC_STATUS_INVALID_ARGUMENT, "resume_token");
    expect_refused(s, "nope", NULL, NULL, 0, NULL, 0, GRPC_STATUS_NOT_FOUND, "marketplace");
    const int bad_kind[] = {GRADING__V1__CHANGE_KIND__CHANGE_KIND_BOOST, 99};
    expect_refused(s, NULL, NULL, NULL, 0, bad_kind, 2, GRPC_STATUS_INVALID_ARGUMENT, "kinds");
    const char *const bad_ids[] = {"ok", ""};
    expect_refused(s, NULL, NULL, bad_ids, 2, NULL, 0, GRPC_STATUS_INVALID_ARGUMENT, "seller_ids[1]");

    /* the oldest token still in the log resumes: exactly 16..20 */
    watch_t w;
    seen_t seen[8];
    watch_open(s, &w, NULL, "15");
    assert_int_equal(watch_collect(&w, seen, 5, WAIT_MS, NULL), 5);
    assert_sellers(seen, 5, "bad", 15);
    assert_int_equal(seen[0].token, 16);
    watch_close(&w);
    e2e_server_stop_ok(s);
    e2e_server_free(s);
}

/* ---- a stalled consumer ---- */

/* A consumer that reads nothing after the first message, on a channel of
 * its own with a small fixed flow-control window (no BDP probing), so the
 * server's sends stall after ~64 KiB instead of after whatever the
 * client's transport would absorb. Raw grpc: the test client keeps
 * grpc's defaults. */
typedef struct {
    grpc_channel *ch;
    grpc_completion_queue *cq;
    grpc_call *call;
    grpc_metadata_array md, trailing;
    grpc_status_code status;
    grpc_slice details;
    grpc_byte_buffer *msg;
} stalled_t;

static void stalled_open(const e2e_server_t *srv, stalled_t *t)
{
    memset(t, 0, sizeof *t);
    grpc_init();
    grpc_arg args[] = {
        {.type = GRPC_ARG_INTEGER, .key = GRPC_ARG_HTTP2_BDP_PROBE, .value.integer = 0},
        {.type = GRPC_ARG_INTEGER, .key = GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, .value.integer = 65536},
        {.type = GRPC_ARG_INTEGER, .key = GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH, .value.integer = 64 << 20},
    };
    grpc_channel_args chargs = {.num_args = 3, .args = args};
    grpc_channel_credentials *creds = grpc_insecure_credentials_create();
    t->ch = grpc_channel_create(srv->addr, creds, &chargs);
    grpc_channel_credentials_release(creds);
    t->cq = grpc_completion_queue_create_for_pluck(NULL);
    t->call = grpc_channel_create_call(t->ch, NULL, GRPC_PROPAGATE_DEFAULTS, t->cq,
                                       grpc_slice_from_static_string(SVC "WatchGradeChanges"), NULL,
                                       gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    assert_non_null(t->call);
    Grading__V1__WatchGradeChangesRequest req = GRADING__V1__WATCH_GRADE_CHANGES_REQUEST__INIT;
    uint8_t buf[16];
    size_t len = protobuf_c_message_pack(&req.base, buf);
    grpc_slice sl = grpc_slice_from_copied_buffer((const char *)buf, len);
    grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(&sl, 1);
    grpc_slice_unref(sl);
    grpc_metadata_array_init(&t->md);
    grpc_metadata_array_init(&t->trailing);
    t->details = grpc_empty_slice();
    grpc_op ops[5];
    memset(ops, 0, sizeof ops);
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = bb;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &t->md;
    ops[4].op = GRPC_OP_RECV_MESSAGE;   /* the first message only */
    ops[4].data.recv_message.recv_message = &t->msg;
    assert_int_equal(grpc_call_start_batch(t->call, ops, 5, t, NULL), GRPC_CALL_OK);
    grpc_event ev = grpc_completion_queue_pluck(
        t->cq, t, gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_millis(WAIT_MS, GPR_TIMESPAN)), NULL);
    assert_int_equal(ev.type, GRPC_OP_COMPLETE);
    assert_non_null(t->msg);
    grpc_byte_buffer_destroy(t->msg);
    t->msg = NULL;
    grpc_byte_buffer_destroy(bb);
}

/* Reads what is left, then the status (bounded). Returns the status; *n
 * gets how many messages were still to read. */
static grpc_status_code stalled_drain(stalled_t *t, size_t *n)
{
    *n = 0;
    int64_t deadline = e2e_now_ms() + WAIT_MS;
    for (;;) {
        grpc_op op;
        memset(&op, 0, sizeof op);
        op.op = GRPC_OP_RECV_MESSAGE;
        op.data.recv_message.recv_message = &t->msg;
        assert_int_equal(grpc_call_start_batch(t->call, &op, 1, t, NULL), GRPC_CALL_OK);
        grpc_event ev = grpc_completion_queue_pluck(
            t->cq, t, gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_millis(WAIT_MS, GPR_TIMESPAN)), NULL);
        assert_int_equal(ev.type, GRPC_OP_COMPLETE);
        if (!t->msg) break;
        grpc_byte_buffer_destroy(t->msg);
        t->msg = NULL;
        (*n)++;
        assert_true(e2e_now_ms() < deadline);
    }
    grpc_op op;
    memset(&op, 0, sizeof op);
    op.op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    op.data.recv_status_on_client.trailing_metadata = &t->trailing;
    op.data.recv_status_on_client.status = &t->status;
    op.data.recv_status_on_client.status_details = &t->details;
    assert_int_equal(grpc_call_start_batch(t->call, &op, 1, t, NULL), GRPC_CALL_OK);
    grpc_event ev = grpc_completion_queue_pluck(
        t->cq, t, gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_millis(WAIT_MS, GPR_TIMESPAN)), NULL);
    assert_int_equal(ev.type, GRPC_OP_COMPLETE);
    return t->status;
}

static void stalled_free(stalled_t *t)
{
    grpc_call_unref(t->call);
    grpc_metadata_array_destroy(&t->md);
    grpc_metadata_array_destroy(&t->trailing);
    grpc_slice_unref(t->details);
    grpc_channel_destroy(t->ch);
    grpc_completion_queue_shutdown(t->cq);
    while (grpc_completion_queue_pluck(t->cq, NULL, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type !=
           GRPC_QUEUE_SHUTDOWN) {
    }
    grpc_completion_queue_destroy(t->cq);
    grpc_shutdown();
}

/* The server's anonymous resident memory (kB), from /proc. */
static long rss_anon_kb(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    long kb = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "RssAnon: %ld kB", &kb) == 1) break;
    fclose(f);
    return kb;
}

#define STALL_LAG 2000
#define STALL_ROUND 5000
#define STALL_ROUNDS 8
#define STALL_MAX_GROWTH_KB (16 * 1024)

static void test_stalled_consumer_is_cut_and_memory_stays_flat(void **state)
{
    (void)state;
    e2e_server_t *s = e2e_server_start_new(
        (const char *const[]){"--test-clock", CLOCK, "--watch-max-lag", "2000", NULL});
    stalled_t stalled;
    watch_t live;
    stalled_open(s, &stalled);             /* reads its first message, then nothing */
    watch_open(s, &live, NULL, NULL);      /* reads everything */
    seen_t *seen = calloc(STALL_ROUND, sizeof *seen);
    assert_non_null(seen);
    long first_kb = -1, last_kb = -1;
    for (int r = 0; r < STALL_ROUNDS; r++) {
        record_sellers_batch(s->client, "stall", r * STALL_ROUND, STALL_ROUND);
        assert_int_equal(watch_collect(&live, seen, STALL_ROUND, WAIT_MS, NULL), STALL_ROUND);
        last_kb = rss_anon_kb(s->pid);
        if (r == 1) first_kb = last_kb;
    }
    fprintf(stderr, "server RssAnon after round 2: %ld kB, after round %d: %ld kB (%d changes later)\n", first_kb,
            STALL_ROUNDS, last_kb, (STALL_ROUNDS - 2) * STALL_ROUND);
    assert_true(first_kb > 0 && last_kb > 0);
#if defined(__SANITIZE_ADDRESS__)
    /* ASan keeps freed memory in quarantine (256 MB): RssAnon grows with
     * any churn there, so the figure is printed, not judged */
    fprintf(stderr, "(AddressSanitizer build: the memory bound is checked in the plain build)\n");
#else
    assert_true(last_kb - first_kb < STALL_MAX_GROWTH_KB);
#endif
    /* still stalled: the server cuts it (its log says so) once its message
     * has waited 5 s; bounded wait */
    int64_t deadline = e2e_now_ms() + WAIT_MS;
    bool cut = false;
    while (!cut && e2e_now_ms() < deadline) {
        FILE *f = fopen(s->log_path, "r");
        char line[1024];
        while (f && fgets(line, sizeof line, f))
            if (strstr(line, "WatchGradeChanges code=RESOURCE_EXHAUSTED")) cut = true;
        if (f) fclose(f);
        if (!cut) e2e_sleep_ms(50);   /* polling a file: the wait is bounded by the deadline */
    }
    if (!cut) e2e_server_dump_log(s);
    assert_true(cut);
    /* the live client was never cut: it takes one more round whole */
    record_sellers_batch(s->client, "stall", STALL_ROUNDS * STALL_ROUND, STALL_ROUND);
    assert_int_equal(watch_collect(&live, seen, STALL_ROUND, WAIT_MS, NULL), STALL_ROUND);
    /* the stalled client now reads: what was in flight, then RESOURCE_EXHAUSTED */
    size_t in_flight = 0;
    grpc_status_code end = stalled_drain(&stalled, &in_flight);
    fprintf(stderr, "the stalled client had %zu messages in flight before the cut\n", in_flight);
    assert_int_equal(end, GRPC_STATUS_RESOURCE_EXHAUSTED);
    free(seen);
    stalled_free(&stalled);
    watch_close(&live);
    e2e_server_stop_ok(s);
    e2e_server_free(s);
}

/* Bad change-stream flags: exit 2 with one line naming the flag, before
 * anything starts. */
static void test_bad_watch_flags_exit_2_naming_the_flag(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"--watch-max-lag", "0"},          {"--watch-max-lag", "-5"},
        {"--watch-max-lag", "many"},       {"--change-log-max-age", "400d"},
        {"--change-log-max-age", "10"},    {"--change-log-max-age", "0s"},
        {"--change-log-max-entries", "0"}, {"--change-log-max-entries", "1e6"},
        {"--shadow-policy", ""},
    };
    char dir[] = "/tmp/grading-e2e-wflags-XXXXXX";
    assert_non_null(mkdtemp(dir));
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *argv[] = {e2e_env("GRADINGD"), "--policy", e2e_env("GRADING_POLICY"), "--data-dir", dir,
                              "--listen", "127.0.0.1:0", "--admin-listen", "off", cases[i][0], cases[i][1], NULL};
        e2e_run_t r;
        e2e_run(dir, argv, E2E_RUN_TIMEOUT_MS, &r);
        if (!r.exited || r.code != 2 || e2e_count_lines(r.err) != 1)
            fail_msg("%s \"%s\": expected exit 2 and one line, got %d:\n%s", cases[i][0], cases[i][1], r.code, r.err);
        e2e_assert_contains(r.err, cases[i][0]);
        e2e_run_destroy(&r);
    }
    assert_int_equal(e2e_rm_rf(dir), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_changes_arrive_in_commit_order_and_filters_keep_what_they_ask, setup,
                                        e2e_teardown_server),
        cmocka_unit_test_setup_teardown(test_resume_after_disconnect_and_restart_misses_nothing_and_repeats_nothing,
                                        setup, e2e_teardown_server),
        cmocka_unit_test(test_bad_requests_name_the_field_and_old_tokens_are_out_of_range),
        cmocka_unit_test(test_stalled_consumer_is_cut_and_memory_stays_flat),
        cmocka_unit_test(test_bad_watch_flags_exit_2_naming_the_flag),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
