/* The consumer thread (kafka.h): every partition of the topic, from the
 * offsets stored in LMDB; each message applied in one writer batch whose
 * transaction also stores the partition's next offset. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "convert.h"
#include "grading/log.h"
#include "grading/pbcheck.h"
#include "grading/record.h"
#include "kafka_internal.h"

#define POLL_MS 100
#define WATERMARK_EVERY_MS 250
#define RETRY_MS 500

void kafka_backoff(grading_kafka_t *k, int ms)
{
    for (int slept = 0; slept < ms && !atomic_load(&k->stopping); slept += 50) {
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

static void offset_key(const grading_kafka_t *k, int32_t partition, char *out, size_t len)
{
    snprintf(out, len, "kafka.offset.%s.%" PRId32, k->topic, partition);
}

/* ---- the offset, stored in the batch's transaction ---- */

typedef struct {
    grading_kafka_t *k;
    int32_t partition;
    int64_t next;
} offset_t;

static grading_err_t store_offset(void *ctx, grading_txn_t *txn, int64_t now_ms)
{
    (void)now_ms;
    offset_t *o = ctx;
    char key[KAFKA_NAME_MAX + 40], v[32];
    offset_key(o->k, o->partition, key, sizeof key);
    snprintf(v, sizeof v, "%" PRId64, o->next);
    return grading_store_meta_put(txn, key, v);
}

static void mark_applied(grading_kafka_t *k, int32_t partition, int64_t next)
{
    pthread_mutex_lock(&k->mu);
    if (partition >= 0 && partition < k->npartitions) k->applied_next[partition] = next;
    pthread_mutex_unlock(&k->mu);
    kafka_waiters_check(k, false);
}

grading_err_t kafka_run_batch(grading_kafka_t *k, const grading_policy_t *p, grading_ingest_batch_t *b)
{
    for (;;) {
        grading_err_t err = p ? grading_record_run(k->o.ingest, p, b, NULL, NULL)
                              : grading_ingest_run(k->o.ingest, b, NULL, NULL);
        if (!err || (b->report && b->report->error.code)) return err;
        if (err == GRADING_ESHUTDOWN || atomic_load(&k->stopping)) return GRADING_ESHUTDOWN;
        grading_log(GRADING_LOG_ERROR, "kafka: applying a message failed (%s); retrying", grading_err_name(err));
        kafka_backoff(k, RETRY_MS);
    }
}

/* ---- dead letters ---- */

/* Produces m to the dead-letter topic with reason and waits for the
 * brokers' acknowledgement; retries until it is acknowledged or stopping.
 * Returns false when stopping. */
static bool dead_letter(grading_kafka_t *k, const rd_kafka_message_t *m, const char *reason)
{
    char part[16], off[24];
    snprintf(part, sizeof part, "%" PRId32, m->partition);
    snprintf(off, sizeof off, "%" PRId64, m->offset);
    while (!atomic_load(&k->stopping)) {
        kafka_letter_t l = {.kind = KAFKA_OPAQUE_LETTER};
        pthread_mutex_init(&l.mu, NULL);
        pthread_cond_init(&l.cv, NULL);
        rd_kafka_headers_t *h = rd_kafka_headers_new(3);
        rd_kafka_header_add(h, "reason", -1, reason, -1);
        rd_kafka_header_add(h, "source_partition", -1, part, -1);
        rd_kafka_header_add(h, "source_offset", -1, off, -1);
        rd_kafka_resp_err_t err = rd_kafka_producev(
            k->producer, RD_KAFKA_V_TOPIC(k->dlq), RD_KAFKA_V_KEY(m->key, m->key_len),
            RD_KAFKA_V_VALUE(m->payload, m->len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_OPAQUE(&l), RD_KAFKA_V_END);
        if (err) {
            rd_kafka_headers_destroy(h);   /* not taken on failure */
        } else {
            /* the delivery report comes, at the latest, at message.timeout.ms */
            pthread_mutex_lock(&l.mu);
            while (!l.done) pthread_cond_wait(&l.cv, &l.mu);
            err = l.err;
            pthread_mutex_unlock(&l.mu);
        }
        pthread_mutex_destroy(&l.mu);
        pthread_cond_destroy(&l.cv);
        if (!err) return true;
        grading_log(GRADING_LOG_ERROR, "kafka: dead-lettering partition %s offset %s failed (%s); retrying", part,
                    off, rd_kafka_err2str(err));
        kafka_backoff(k, RETRY_MS);
    }
    return false;
}

/* ---- one message ---- */

/* Judges and applies m; a message that fails goes to the dead-letter
 * topic. Either way the partition's offset moves past it in the same
 * transaction as what it stored. Returns false when stopping. */
static bool apply_message(grading_kafka_t *k, const rd_kafka_message_t *m)
{
    grading_error_t e = {0};
    char reason[GRADING_ERROR_FIELD_MAX + GRADING_ERROR_MSG_MAX + 64] = "";
    offset_t off = {.k = k, .partition = m->partition, .next = m->offset + 1};
    grading_policy_t *p = NULL;
    /* the app answers with a policy once serving; wait rather than drop */
    while (!(p = k->policy(k->policy_ctx))) {
        if (atomic_load(&k->stopping)) return false;
        kafka_backoff(k, RETRY_MS);
    }
    ProtobufCMessage *msg = NULL;
    grading_event_t *events = NULL;
    const char **mps = NULL;
    const grading_tz_t **zones = NULL;
    bool ok = true;

    /* a close marker (close_marker.c): seals the partition, never dead-lettered */
    kafka_marker_t mk;
    int marker = kafka_marker_parse(m, &mk, reason, sizeof reason);
    if (marker < 0) goto dead;
    if (marker > 0) {
        ok = kafka_apply_marker(k, m, &mk, store_offset, &off);
        if (ok) {
            atomic_fetch_add(&k->applied, 1);
            mark_applied(k, m->partition, off.next);
        }
        goto done;
    }

    /* judged against the message's own time, so every replica judges alike */
    rd_kafka_timestamp_type_t tst;
    int64_t when = rd_kafka_message_timestamp(m, &tst);
    if (when <= 0) when = k->o.now_ms(k->o.clock_ctx);

    /* an appeal or exemption (command.c) */
    grading_kafka_command_t cmd;
    int command = kafka_command_parse(m, &cmd, reason, sizeof reason);
    if (command < 0) goto dead;
    if (command > 0) {
        grading_err_t cerr = kafka_apply_command(k, p, m, cmd, when, store_offset, &off, reason, sizeof reason);
        if (cerr == GRADING_ESHUTDOWN) {
            ok = false;
            goto done;
        }
        if (cerr) goto dead;
        atomic_fetch_add(&k->applied, 1);
        mark_applied(k, m->partition, off.next);
        goto done;
    }

    if (grading_pb_decode(&grading__v1__record_events_request__descriptor, m->payload, m->len, &msg, &e)) {
        char what[sizeof reason - 40];
        grading_error_format(&e, what, sizeof what);
        snprintf(reason, sizeof reason, "not a RecordEventsRequest: %s", what);
        goto dead;
    }
    const Grading__V1__RecordEventsRequest *req = (const void *)msg;
    uint32_t n = (uint32_t)req->n_events;
    if (req->n_events > GRADING_MAX_EVENTS_PER_CALL) {
        snprintf(reason, sizeof reason, "events: at most %d events per message, got %zu", GRADING_MAX_EVENTS_PER_CALL,
                 req->n_events);
        goto dead;
    }
    events = calloc(n ? n : 1, sizeof *events);
    mps = calloc(n ? n : 1, sizeof *mps);
    zones = calloc(n ? n : 1, sizeof *zones);
    if (!events || !mps || !zones) {
        snprintf(reason, sizeof reason, "out of memory");   /* rare; never blocks the partition */
        goto dead;
    }
    for (uint32_t i = 0; i < n; i++) rpc_event_from_pb(req->events[i], &events[i]);
    /* no dedup horizon here: the stored offsets already apply each message
     * once, and a backfill through the topic must not be refused */
    if (grading_record_check(p, events, n, when, k->o.max_future_skew_ms, 0, mps, zones, &e)) {
        grading_error_format(&e, reason, sizeof reason);
        goto dead;
    }
    grading_ingest_report_t report = {0};
    grading_ingest_batch_t b = {.events = events, .marketplaces = mps, .zones = zones, .n = n,
                                .apply = store_offset, .apply_ctx = &off, .report = &report};
    grading_err_t err = kafka_run_batch(k, p, &b);
    if (err == GRADING_ESHUTDOWN) {
        ok = false;
        goto done;
    }
    if (err) {
        grading_error_format(&report.error, reason, sizeof reason);
        goto dead;
    }
    atomic_fetch_add(&k->applied, 1);
    mark_applied(k, m->partition, off.next);
    goto done;
dead:
    grading_log(GRADING_LOG_WARN, "kafka: partition %" PRId32 " offset %" PRId64 " dead-lettered: %s", m->partition,
                m->offset, reason);
    if (!dead_letter(k, m, reason)) {
        ok = false;
        goto done;
    }
    grading_ingest_batch_t skip = {.n = 0, .apply = store_offset, .apply_ctx = &off};
    if (kafka_run_batch(k, NULL, &skip)) {
        ok = false;
        goto done;
    }
    atomic_fetch_add(&k->dead_lettered, 1);
    pthread_mutex_lock(&k->mu);
    uint32_t slot = k->dead_next++ % KAFKA_DEAD_RECENT;
    k->dead_recent[slot].partition = m->partition;
    k->dead_recent[slot].offset = m->offset;
    pthread_mutex_unlock(&k->mu);
    mark_applied(k, m->partition, off.next);
done:
    free(events);
    free(mps);
    free(zones);
    if (msg) protobuf_c_message_free_unpacked(msg, NULL);
    grading_policy_unref(p);
    return ok;
}

/* ---- connecting ---- */

/* The topic's partition count from the brokers; 0 when not (yet) known. */
static int32_t partition_count(grading_kafka_t *k)
{
    rd_kafka_topic_t *t = rd_kafka_topic_new(k->consumer, k->topic, NULL);
    if (!t) return 0;
    const struct rd_kafka_metadata *md = NULL;
    int32_t n = 0;
    rd_kafka_resp_err_t err = rd_kafka_metadata(k->consumer, 0, t, &md, 5000);
    if (!err && md->topic_cnt == 1 && !md->topics[0].err) n = md->topics[0].partition_cnt;
    else
        grading_log(GRADING_LOG_WARN, "kafka: no metadata for topic %s yet: %s", k->topic,
                    rd_kafka_err2str(err ? err : md->topic_cnt == 1 ? md->topics[0].err : RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC));
    if (md) rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(t);
    return n;
}

/* Reads the stored offsets and assigns every partition from there. */
static bool assign_from_store(grading_kafka_t *k, int32_t np)
{
    int64_t *next = calloc((size_t)np, sizeof *next), *high = calloc((size_t)np, sizeof *high);
    bool *held = calloc((size_t)np, sizeof *held);
    grading_store_reader_t *rd = NULL;
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(np);
    bool ok = false;
    if (!next || !high || !held || !list || grading_store_reader_new(k->o.store, &rd)) goto done;
    grading_txn_t *txn;
    if (grading_store_read_begin(rd, &txn)) goto done;
    for (int32_t p = 0; p < np; p++) {
        char key[KAFKA_NAME_MAX + 40], v[32];
        bool found = false;
        offset_key(k, p, key, sizeof key);
        next[p] = 0;
        high[p] = -1;
        if (!grading_store_meta_get(txn, key, v, sizeof v, &found) && found) next[p] = strtoll(v, NULL, 10);
        rd_kafka_topic_partition_list_add(list, k->topic, p)->offset =
            found ? next[p] : RD_KAFKA_OFFSET_BEGINNING;
    }
    grading_store_read_end(rd);
    rd_kafka_resp_err_t err = rd_kafka_assign(k->consumer, list);
    if (err) {
        grading_log(GRADING_LOG_ERROR, "kafka: cannot assign the partitions of %s: %s", k->topic,
                    rd_kafka_err2str(err));
        goto done;
    }
    pthread_mutex_lock(&k->mu);
    k->applied_next = next;
    k->high = high;
    k->npartitions = np;
    k->held = held;
    pthread_mutex_unlock(&k->mu);
    next = high = NULL;
    held = NULL;
    ok = true;
    grading_log(GRADING_LOG_INFO, "kafka: consuming %" PRId32 " partitions of %s from the stored offsets", np,
                k->topic);
done:
    if (rd) grading_store_reader_free(rd);
    if (list) rd_kafka_topic_partition_list_destroy(list);
    free(next);
    free(high);
    free(held);
    return ok;
}

/* High watermarks for the lag: librdkafka's cached ones (from fetches),
 * asked of the brokers when none is cached yet. */
static void update_watermarks(grading_kafka_t *k)
{
    for (int32_t p = 0; p < k->npartitions; p++) {
        int64_t lo = -1, hi = -1;
        rd_kafka_resp_err_t err = rd_kafka_get_watermark_offsets(k->consumer, k->topic, p, &lo, &hi);
        if (err || hi < 0) err = rd_kafka_query_watermark_offsets(k->consumer, k->topic, p, &lo, &hi, 500);
        if (err || hi < 0) continue;
        pthread_mutex_lock(&k->mu);
        k->high[p] = hi;
        pthread_mutex_unlock(&k->mu);
    }
}

void *kafka_consumer_main(void *arg)
{
    grading_kafka_t *k = arg;
    int32_t np = 0;
    while (!atomic_load(&k->stopping)) {
        if ((np = partition_count(k)) > 0 && assign_from_store(k, np)) break;
        kafka_backoff(k, RETRY_MS);
    }
    /* partitions sealed before a crash wait again; a close all of whose
     * markers were reached comes first */
    kafka_holds_load(k);
    if (!atomic_load(&k->stopping) && !kafka_close_pending(k)) return NULL;
    int64_t last_marks = 0;
    while (!atomic_load(&k->stopping)) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(k->consumer, POLL_MS);
        if (m) {
            bool go_on = true;
            bool ours = !m->err && m->rkt && strcmp(rd_kafka_topic_name(m->rkt), k->topic) == 0;
            /* fetched before its partition was held: dropped, fetched again on resume */
            bool held = ours && m->partition >= 0 && m->partition < np && k->held[m->partition];
            if (ours && !held) go_on = apply_message(k, m);
            else if (!ours && m->err && m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                grading_log(GRADING_LOG_WARN, "kafka: %s", rd_kafka_message_errstr(m));
            rd_kafka_message_destroy(m);
            if (!go_on) break;
        }
        int64_t now = kafka_mono_ms();
        if (now - last_marks >= WATERMARK_EVERY_MS) {
            update_watermarks(k);
            kafka_waiters_check(k, false);
            last_marks = now;
        }
    }
    return NULL;
}
