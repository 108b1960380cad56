/* Close markers (kafka.h): ClosePeriod in Kafka mode.
 *
 * Encoding: a message whose header "grading-close-marker" is "v1", key
 * "grading-close-marker", value the text "v1\n<marketplace>\n<kind 1..3>\n
 * <period>\n<now_ms>". Only the header makes a marker: a RecordEventsRequest
 * produced directly carries no such header and is never taken for one. A
 * message with the header but a value that does not parse is dead-lettered.
 *
 * The consumer seals a partition for the period when it reaches the
 * partition's first marker (LMDB, the same transaction as the offset); the
 * transaction that seals the last partition also stores the close as
 * pending, and the consumer then runs it before applying anything else, so
 * every replica closes after the same events. A pending close found at
 * start (a replica killed mid-close) is resumed first. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "grading/close.h"
#include "grading/log.h"
#include "kafka_internal.h"

#define MARKER_HEADER "grading-close-marker"
#define MARKER_VERSION "v1"
#define MARKER_MAX 512

/* ---- encoding ---- */

static int marker_text(char *out, size_t len, const char *mp, int kind, const char *period, int64_t now_ms)
{
    return snprintf(out, len, MARKER_VERSION "\n%s\n%d\n%s\n%" PRId64, mp, kind, period, now_ms);
}

int kafka_marker_parse(const rd_kafka_message_t *m, kafka_marker_t *out, char *why, size_t len)
{
    const void *v = NULL;
    size_t vlen = 0;
    if (!kafka_header(m, MARKER_HEADER, &v, &vlen)) return 0;
    if (!v || vlen != strlen(MARKER_VERSION) || memcmp(v, MARKER_VERSION, vlen) != 0) {
        snprintf(why, len, "close marker: header %s must be \"" MARKER_VERSION "\"", MARKER_HEADER);
        return -1;
    }
    char text[MARKER_MAX];
    if (!m->payload || m->len == 0 || m->len >= sizeof text) {
        snprintf(why, len, "close marker: value must be 1..%d bytes", MARKER_MAX - 1);
        return -1;
    }
    memcpy(text, m->payload, m->len);
    text[m->len] = '\0';
    if (!kafka_marker_fields(text, out)) {
        snprintf(why, len, "close marker: value must be \"v1\\n<marketplace>\\n<kind 1..3>\\n<period>\\n<now_ms>\"");
        return -1;
    }
    return 1;
}

bool kafka_marker_fields(const char *value, kafka_marker_t *out)
{
    char text[MARKER_MAX];
    if (strlen(value) >= sizeof text) return false;
    snprintf(text, sizeof text, "%s", value);
    memset(out, 0, sizeof *out);
    char *save = NULL, *f[6];
    int n = 0;
    for (char *t = strtok_r(text, "\n", &save); t && n < 6; t = strtok_r(NULL, "\n", &save)) f[n++] = t;
    if (n != 5 || strcmp(f[0], MARKER_VERSION) != 0) return false;
    char *end = NULL;
    long kind = strtol(f[2], &end, 10);
    if (*end || kind < GRADING_PERIOD_MONTH || kind > GRADING_PERIOD_YEAR) return false;
    long long now = strtoll(f[4], &end, 10);
    if (*end || now <= 0) return false;
    if (strlen(f[1]) >= sizeof out->mp || strlen(f[3]) >= sizeof out->period) return false;
    snprintf(out->mp, sizeof out->mp, "%s", f[1]);
    out->kind = (int)kind;
    snprintf(out->period, sizeof out->period, "%s", f[3]);
    out->now_ms = (int64_t)now;
    return true;
}

bool kafka_header(const rd_kafka_message_t *m, const char *name, const void **v, size_t *vlen)
{
    rd_kafka_headers_t *h = NULL;
    if (rd_kafka_message_headers(m, &h) || !h) return false;
    return rd_kafka_header_get_last(h, name, v, vlen) == RD_KAFKA_RESP_ERR_NO_ERROR;
}

/* ---- the consumer's side ---- */

static void hold_key(const grading_kafka_t *k, int32_t p, char *out, size_t len)
{
    snprintf(out, len, "kafka.hold.%s.%" PRId32, k->topic, p);
}

static void pending_key(const grading_kafka_t *k, char *out, size_t len)
{
    snprintf(out, len, "kafka.close.pending.%s", k->topic);
}

static void sealed_key(const grading_kafka_t *k, const kafka_marker_t *mk, int32_t p, char *out, size_t len)
{
    snprintf(out, len, "kafka.sealed.%s.%s.%d.%s.%" PRId32, k->topic, mk->mp, mk->kind, mk->period, p);
}

typedef struct {
    grading_kafka_t *k;
    const kafka_marker_t *mk;
    int32_t partition, npartitions;
    grading_err_t (*offset)(void *ctx, grading_txn_t *txn, int64_t now_ms);
    void *offset_ctx;
    bool all_sealed;   /* out */
    bool held;         /* out: the partition waits for the close */
} seal_t;

/* In the writer's transaction: the offset, the partition's seal and, when
 * it is the last one, the pending close. */
static grading_err_t write_seal(void *ctx, grading_txn_t *txn, int64_t now_ms)
{
    seal_t *s = ctx;
    char key[KAFKA_NAME_MAX + MARKER_MAX], v[8];
    grading_err_t err = s->offset(s->offset_ctx, txn, now_ms);
    if (err) return err;
    sealed_key(s->k, s->mk, s->partition, key, sizeof key);
    bool found = false;
    if ((err = grading_store_meta_get(txn, key, v, sizeof v, &found))) return err;
    if (found) return GRADING_OK;   /* a second marker for the period: sealed already */
    if ((err = grading_store_meta_put(txn, key, "1"))) return err;
    s->held = true;   /* what follows the marker waits for the close */
    hold_key(s->k, s->partition, key, sizeof key);
    if ((err = grading_store_meta_put(txn, key, "1"))) return err;
    for (int32_t p = 0; p < s->npartitions; p++) {
        sealed_key(s->k, s->mk, p, key, sizeof key);
        if ((err = grading_store_meta_get(txn, key, v, sizeof v, &found))) return err;
        if (!found) return GRADING_OK;
    }
    char text[MARKER_MAX];
    marker_text(text, sizeof text, s->mk->mp, s->mk->kind, s->mk->period, s->mk->now_ms);
    pending_key(s->k, key, sizeof key);
    if ((err = grading_store_meta_put(txn, key, text))) return err;
    s->all_sealed = true;
    return GRADING_OK;
}

static grading_err_t clear_pending(void *ctx, grading_txn_t *txn, int64_t now_ms)
{
    (void)now_ms;
    grading_kafka_t *k = ctx;
    char key[KAFKA_NAME_MAX + 40];
    grading_err_t err;
    for (int32_t p = 0; p < k->npartitions; p++) {
        hold_key(k, p, key, sizeof key);
        if ((err = grading_store_meta_put(txn, key, ""))) return err;
    }
    pending_key(k, key, sizeof key);
    return grading_store_meta_put(txn, key, "");
}

/* Pauses (hold) or resumes partition p; a resumed one starts again at its
 * next offset to apply (what was fetched while held was dropped). */
static void hold(grading_kafka_t *k, int32_t p, bool on)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_t *tp = rd_kafka_topic_partition_list_add(l, k->topic, p);
    k->held[p] = on;
    if (on) {
        rd_kafka_pause_partitions(k->consumer, l);
    } else {
        pthread_mutex_lock(&k->mu);
        tp->offset = k->applied_next[p];
        pthread_mutex_unlock(&k->mu);
        rd_kafka_resume_partitions(k->consumer, l);
        rd_kafka_error_t *err = rd_kafka_seek_partitions(k->consumer, l, 5000);
        if (err) {
            grading_log(GRADING_LOG_ERROR, "kafka: cannot seek partition %" PRId32 ": %s", p,
                        rd_kafka_error_string(err));
            rd_kafka_error_destroy(err);
        }
    }
    rd_kafka_topic_partition_list_destroy(l);
}

void kafka_holds_load(grading_kafka_t *k)
{
    grading_store_reader_t *rd = NULL;
    grading_txn_t *txn;
    if (grading_store_reader_new(k->o.store, &rd)) return;
    if (!grading_store_read_begin(rd, &txn)) {
        for (int32_t p = 0; p < k->npartitions; p++) {
            char key[KAFKA_NAME_MAX + 40], v[8] = "";
            bool found = false;
            hold_key(k, p, key, sizeof key);
            if (!grading_store_meta_get(txn, key, v, sizeof v, &found) && found && v[0]) hold(k, p, true);
        }
        grading_store_read_end(rd);
    }
    grading_store_reader_free(rd);
}

static bool stopping(void *ctx)
{
    return atomic_load(&((grading_kafka_t *)ctx)->stopping);
}

static void backoff(grading_kafka_t *k, int ms)
{
    for (int slept = 0; slept < ms && !atomic_load(&k->stopping); slept += 50) {
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

/* Runs the pending close, if any, then clears it. Returns false when
 * stopping (the close stays pending: the next start resumes it). */
bool kafka_close_pending(grading_kafka_t *k)
{
    for (;;) {
        if (atomic_load(&k->stopping)) return false;
        char key[KAFKA_NAME_MAX + 40], text[MARKER_MAX] = "";
        bool found = false;
        grading_store_reader_t *rd = NULL;
        grading_txn_t *txn;
        pending_key(k, key, sizeof key);
        grading_err_t err = grading_store_reader_new(k->o.store, &rd);
        if (!err && !(err = grading_store_read_begin(rd, &txn))) {
            err = grading_store_meta_get(txn, key, text, sizeof text, &found);
            grading_store_read_end(rd);
        }
        grading_store_reader_free(rd);
        if (err) {
            grading_log(GRADING_LOG_ERROR, "kafka: cannot read the pending close (%s); retrying", grading_err_name(err));
            backoff(k, 500);
            continue;
        }
        if (!found || !text[0]) return true;
        kafka_marker_t mk;
        /* stored by write_seal in the marker's own encoding */
        if (!kafka_marker_fields(text, &mk)) {
            grading_log(GRADING_LOG_ERROR, "kafka: the pending close \"%s\" does not parse; dropped", text);
        } else {
            grading_policy_t *p = k->policy(k->policy_ctx);
            while (!p && !atomic_load(&k->stopping)) {
                backoff(k, 500);
                p = k->policy(k->policy_ctx);
            }
            if (!p) return false;
            const grading_marketplace_t *mp = mk.mp[0] ? grading_policy_marketplace(p, mk.mp) : NULL;
            grading_close_result_t res;
            grading_error_t e = {0};
            if (!mp) {
                grading_log(GRADING_LOG_ERROR, "kafka: close of %s %s: marketplace unknown to the policy; skipped",
                            mk.mp, mk.period);
                err = GRADING_OK;
            } else {
                err = grading_close_period_as(k->o.store, k->o.ingest, p, mp, (grading_period_kind_t)mk.kind,
                                              mk.period, false, mk.now_ms, 0, stopping, k,
                                              "kafka-close-marker", &res, &e);
            }
            grading_policy_unref(p);
            if (err == GRADING_ESHUTDOWN || atomic_load(&k->stopping)) return false;
            if (err == GRADING_EIO || err == GRADING_ENOMEM || err == GRADING_EFULL) {
                grading_log(GRADING_LOG_ERROR, "kafka: close of %s %s failed (%s: %s); retrying", mk.mp, mk.period,
                            grading_err_name(err), e.message);
                backoff(k, 500);
                continue;
            }
            if (err)   /* the same on every replica: the data decides */
                grading_log(GRADING_LOG_ERROR, "kafka: close of %s %s refused: %s %s", mk.mp, mk.period, e.field,
                            e.message);
            else
                grading_log(GRADING_LOG_INFO, "kafka: closed %s %s at the markers (%u sellers%s)", mk.mp, mk.period,
                            res.state.evaluated, res.already_closed ? ", closed already" : "");
            if (!err && !res.already_closed && k->closed) k->closed(k->closed_ctx, mk.mp);
        }
        grading_ingest_batch_t b = {.n = 0, .apply = clear_pending, .apply_ctx = k};
        if ((err = grading_ingest_run(k->o.ingest, &b, NULL, NULL))) {
            if (err == GRADING_ESHUTDOWN) return false;
            backoff(k, 500);
            continue;
        }
        for (int32_t p = 0; p < k->npartitions; p++)
            if (k->held[p]) hold(k, p, false);
        pthread_mutex_lock(&k->mu);
        k->closes_run++;
        pthread_cond_broadcast(&k->close_cv);
        pthread_mutex_unlock(&k->mu);
        return true;
    }
}

bool kafka_apply_marker(grading_kafka_t *k, const rd_kafka_message_t *m, const kafka_marker_t *mk,
                        grading_err_t (*offset)(void *ctx, grading_txn_t *txn, int64_t now_ms), void *offset_ctx)
{
    pthread_mutex_lock(&k->mu);
    int32_t np = k->npartitions;
    pthread_mutex_unlock(&k->mu);
    seal_t s = {.k = k, .mk = mk, .partition = m->partition, .npartitions = np, .offset = offset,
                .offset_ctx = offset_ctx};
    for (;;) {
        s.all_sealed = s.held = false;
        grading_ingest_batch_t b = {.n = 0, .apply = write_seal, .apply_ctx = &s};
        grading_err_t err = grading_ingest_run(k->o.ingest, &b, NULL, NULL);
        if (!err) break;
        if (err == GRADING_ESHUTDOWN || atomic_load(&k->stopping)) return false;
        grading_log(GRADING_LOG_ERROR, "kafka: sealing partition %" PRId32 " failed (%s); retrying", m->partition,
                    grading_err_name(err));
        backoff(k, 500);
    }
    grading_log(GRADING_LOG_INFO, "kafka: partition %" PRId32 " sealed for %s %s at offset %" PRId64,
                m->partition, mk->mp, mk->period, m->offset);
    /* the partition resumes (after the close) past its marker */
    pthread_mutex_lock(&k->mu);
    k->applied_next[m->partition] = m->offset + 1;
    pthread_mutex_unlock(&k->mu);
    if (s.held) hold(k, m->partition, true);
    return s.all_sealed ? kafka_close_pending(k) : true;
}

void grading_kafka_on_closed(grading_kafka_t *k, void (*closed)(void *ctx, const char *mp), void *ctx)
{
    k->closed = closed;
    k->closed_ctx = ctx;
}

/* ---- ClosePeriod's side ---- */

grading_err_t grading_kafka_close_period(grading_kafka_t *k, const grading_marketplace_t *mp,
                                         grading_period_kind_t kind, const char *period, int64_t now_ms,
                                         int64_t wait_ms, grading_close_result_t *out, bool *timed_out,
                                         grading_error_t *e)
{
    *timed_out = false;
    grading_err_t err = grading_close_check(k->o.store, mp, kind, period, now_ms, out, e);
    if (err || out->already_closed) return err;
    pthread_mutex_lock(&k->mu);
    int32_t np = k->npartitions;
    pthread_mutex_unlock(&k->mu);
    if (np <= 0)
        return grading_error_set(e, GRADING_ESHUTDOWN, "", "not connected to the Kafka brokers yet; call again");
    char text[MARKER_MAX];
    if (marker_text(text, sizeof text, mp->name, (int)kind, period, now_ms) >= (int)sizeof text)
        return grading_error_set(e, GRADING_EINVAL, "period", "too long");
    kafka_letter_t *l = calloc((size_t)np, sizeof *l);
    if (!l) return grading_error_set(e, GRADING_ENOMEM, "", "out of memory");
    int32_t produced = 0;
    rd_kafka_resp_err_t rerr = RD_KAFKA_RESP_ERR_NO_ERROR;
    for (; produced < np; produced++) {
        kafka_letter_t *x = &l[produced];
        x->kind = KAFKA_OPAQUE_LETTER;
        pthread_mutex_init(&x->mu, NULL);
        pthread_cond_init(&x->cv, NULL);
        rd_kafka_headers_t *h = rd_kafka_headers_new(1);
        rd_kafka_header_add(h, MARKER_HEADER, -1, MARKER_VERSION, -1);
        rerr = rd_kafka_producev(k->producer, RD_KAFKA_V_TOPIC(k->topic), RD_KAFKA_V_PARTITION(produced),
                                 RD_KAFKA_V_KEY(MARKER_HEADER, strlen(MARKER_HEADER)),
                                 RD_KAFKA_V_VALUE(text, strlen(text)), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                 RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_OPAQUE(x), RD_KAFKA_V_END);
        if (rerr) {
            rd_kafka_headers_destroy(h);   /* not taken on failure */
            pthread_mutex_destroy(&x->mu);
            pthread_cond_destroy(&x->cv);
            break;
        }
    }
    /* every produced marker gets its delivery report, at the latest at
     * message.timeout.ms */
    for (int32_t i = 0; i < produced; i++) {
        pthread_mutex_lock(&l[i].mu);
        while (!l[i].done) pthread_cond_wait(&l[i].cv, &l[i].mu);
        if (l[i].err && !rerr) rerr = l[i].err;
        pthread_mutex_unlock(&l[i].mu);
        pthread_mutex_destroy(&l[i].mu);
        pthread_cond_destroy(&l[i].cv);
    }
    free(l);
    if (rerr)
        return grading_error_set(e, GRADING_ESHUTDOWN, "",
                                 "close markers not acknowledged by the Kafka brokers (%s); call again",
                                 rd_kafka_err2str(rerr));
    /* wait for this replica's consumer to reach every marker and close */
    int64_t deadline = kafka_mono_ms() + wait_ms;
    for (;;) {
        if ((err = grading_close_check(k->o.store, mp, kind, period, now_ms, out, e))) return err;
        if (out->already_closed) {
            out->already_closed = false;   /* closed by this call's markers */
            return GRADING_OK;
        }
        if (atomic_load(&k->stopping))
            return grading_error_set(e, GRADING_ESHUTDOWN, "", "the server is stopping; call again");
        int64_t now = kafka_mono_ms();
        if (now >= deadline) {
            *timed_out = true;
            return grading_error_set(e, GRADING_ESTATE, "period",
                                     "close markers for %s are written; this replica has not finished the close "
                                     "within %" PRId64 " ms (lag or a large close); call again: it answers "
                                     "already_closed once done",
                                     period, wait_ms);
        }
        int64_t slice = deadline - now < 200 ? deadline - now : 200;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += slice / 1000;
        ts.tv_nsec += (slice % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&k->mu);
        pthread_cond_timedwait(&k->close_cv, &k->mu, &ts);
        pthread_mutex_unlock(&k->mu);
    }
}
