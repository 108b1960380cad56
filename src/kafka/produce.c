/* RecordEvents in Kafka mode (kafka.h): one message per seller, keyed by
 * seller_id, answered once every message is acknowledged (and, with
 * wait_applied, applied by this replica). */
#include <stdlib.h>
#include <string.h>

#include "kafka_internal.h"

void kafka_call_free(kafka_call_t *c)
{
    if (!c) return;
    free(c->events_in);
    free(c->parts);
    free(c->offs);
    free(c);
}

kafka_call_t *kafka_call_new(uint32_t n, bool wait_applied, grading_kafka_done_cb done, void *ctx)
{
    kafka_call_t *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->kind = KAFKA_OPAQUE_CALL;
    c->nmsgs = c->remaining = n;
    c->events_in = calloc(n ? n : 1, sizeof *c->events_in);
    c->parts = calloc(n ? n : 1, sizeof *c->parts);
    c->offs = calloc(n ? n : 1, sizeof *c->offs);
    if (!c->events_in || !c->parts || !c->offs) {
        kafka_call_free(c);
        return NULL;
    }
    for (uint32_t i = 0; i < n; i++) c->parts[i] = -1;
    c->wait_applied = wait_applied;
    c->done = done;
    c->ctx = ctx;
    c->result = GRADING_KAFKA_LOGGED;
    return c;
}

static void call_finish(kafka_call_t *c)
{
    c->done(c->ctx, c->result, c->why, c->logged);
    kafka_call_free(c);
}

/* Whether one of c's messages was dead-lettered here (recently). Under k->mu. */
static bool call_dead(const grading_kafka_t *k, const kafka_call_t *c)
{
    uint32_t n = k->dead_next < KAFKA_DEAD_RECENT ? k->dead_next : KAFKA_DEAD_RECENT;
    for (uint32_t i = 0; i < c->nmsgs; i++)
        for (uint32_t j = 0; j < n; j++)
            if (k->dead_recent[j].partition == c->parts[i] && k->dead_recent[j].offset == c->offs[i]) return true;
    return false;
}

/* Whether every message of c is applied here. Under k->mu. */
static bool call_applied(const grading_kafka_t *k, const kafka_call_t *c)
{
    for (uint32_t i = 0; i < c->nmsgs; i++) {
        if (c->parts[i] < 0 || c->parts[i] >= k->npartitions) return false;
        if (k->applied_next[c->parts[i]] <= c->offs[i]) return false;
    }
    return true;
}

void kafka_waiters_check(grading_kafka_t *k, bool stopping)
{
    kafka_call_t *ready = NULL;
    int64_t now = kafka_mono_ms();
    pthread_mutex_lock(&k->mu);
    for (kafka_call_t **pp = &k->waiting; *pp;) {
        kafka_call_t *c = *pp;
        if (call_applied(k, c) && c->command && call_dead(k, c)) {
            c->result = GRADING_KAFKA_DEAD_LETTERED;
            snprintf(c->why, sizeof c->why, "logged, but this replica refused it when applying it (the state "
                                             "changed since it was judged): the reason is in the dead-letter topic");
        } else if (call_applied(k, c)) {
            c->result = GRADING_KAFKA_LOGGED;
        } else if (stopping) {
            c->result = GRADING_KAFKA_SHUTDOWN;
            snprintf(c->why, sizeof c->why, "logged, but this replica stopped before applying it");
        } else if (now >= c->apply_deadline_ms) {
            c->result = GRADING_KAFKA_NOT_APPLIED;
            snprintf(c->why, sizeof c->why, "logged, but not applied by this replica within %d ms",
                     GRADING_KAFKA_APPLY_WAIT_MS);
        } else {
            pp = &c->next;
            continue;
        }
        *pp = c->next;
        c->next = ready;
        ready = c;
    }
    pthread_mutex_unlock(&k->mu);
    while (ready) {
        kafka_call_t *c = ready;
        ready = c->next;
        call_finish(c);
    }
}

static void letter_delivered(kafka_letter_t *l, rd_kafka_resp_err_t err)
{
    pthread_mutex_lock(&l->mu);
    l->done = true;
    l->err = err;
    pthread_cond_signal(&l->cv);
    pthread_mutex_unlock(&l->mu);
}

void kafka_on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)opaque;
    grading_kafka_t *k = rd_kafka_opaque(rk);
    kafka_opaque_kind_t *kind = m->_private;
    if (!kind) return;
    if (*kind == KAFKA_OPAQUE_LETTER) {
        letter_delivered((kafka_letter_t *)kind, m->err);
        return;
    }
    kafka_call_t *c = (kafka_call_t *)kind;
    /* any free slot: what matters is the set of (partition, offset) pairs */
    pthread_mutex_lock(&k->mu);
    uint32_t i = c->nmsgs - c->remaining;
    if (m->err) {
        c->result = GRADING_KAFKA_UNAVAILABLE;
        snprintf(c->why, sizeof c->why, "the Kafka brokers did not acknowledge: %s", rd_kafka_err2str(m->err));
    } else {
        c->parts[i] = m->partition;
        c->offs[i] = m->offset;
    }
    bool last = --c->remaining == 0;
    if (last && c->result == GRADING_KAFKA_LOGGED) {
        for (uint32_t j = 0; j < c->nmsgs; j++) c->logged += c->events_in[j];
        if (c->wait_applied) {
            c->apply_deadline_ms = kafka_mono_ms() + GRADING_KAFKA_APPLY_WAIT_MS;
            c->next = k->waiting;
            k->waiting = c;
        }
    }
    pthread_mutex_unlock(&k->mu);
    if (!last) return;
    if (c->result == GRADING_KAFKA_LOGGED && c->wait_applied) kafka_waiters_check(k, false);
    else call_finish(c);
}

/* Event indexes ordered by seller, then by position (a seller's events
 * keep their order): O(n log n) for batches of many sellers. */
static int by_seller(const void *x, const void *y, void *arg)
{
    const Grading__V1__RecordEventsRequest *req = arg;
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    int c = strcmp(req->events[a]->seller_id, req->events[b]->seller_id);
    return c ? c : (a > b) - (a < b);
}

static void order_by_seller(const Grading__V1__RecordEventsRequest *req, uint32_t *idx)
{
    for (size_t i = 0; i < req->n_events; i++) idx[i] = (uint32_t)i;
    qsort_r(idx, req->n_events, sizeof *idx, by_seller, (void *)req);
}

grading_err_t grading_kafka_produce(grading_kafka_t *k, const Grading__V1__RecordEventsRequest *req,
                                    bool wait_applied, grading_kafka_done_cb done, void *ctx, char *why,
                                    size_t why_len)
{
    snprintf(why, why_len, "the Kafka producer is stopping");
    if (atomic_load(&k->stopping)) return GRADING_ESHUTDOWN;
    size_t n = req->n_events;
    grading_err_t err = GRADING_ENOMEM;
    snprintf(why, why_len, "out of memory");
    uint32_t *idx = calloc(n ? n : 1, sizeof *idx);
    uint32_t *first = calloc(n + 1, sizeof *first);   /* run starts in idx, then n */
    Grading__V1__SellerEvent **evs = calloc(n ? n : 1, sizeof *evs);
    uint8_t *buf = NULL;
    kafka_call_t *c = NULL;
    if (!idx || !first || !evs) goto fail;
    order_by_seller(req, idx);
    /* one message per seller, split at GRADING_KAFKA_MAX_EVENTS_PER_MESSAGE
     * (under librdkafka's message.max.bytes; same key, so still in order) */
    uint32_t nsellers = 0;
    for (uint32_t i = 0; i < n; i++)
        if (i == 0 || strcmp(req->events[idx[i]]->seller_id, req->events[idx[i - 1]]->seller_id) != 0 ||
            i - first[nsellers - 1] == GRADING_KAFKA_MAX_EVENTS_PER_MESSAGE)
            first[nsellers++] = i;
    first[nsellers] = (uint32_t)n;
    if (!(c = kafka_call_new(nsellers, wait_applied, done, ctx))) goto fail;

    /* Every message is handed to librdkafka (copied) before any report can
     * finish c: reports come on the producer thread, after produce. */
    pthread_mutex_lock(&k->mu);
    uint32_t produced = 0;
    for (uint32_t s = 0; s < nsellers; s++) {
        const char *seller = req->events[idx[first[s]]]->seller_id;
        Grading__V1__RecordEventsRequest one = GRADING__V1__RECORD_EVENTS_REQUEST__INIT;
        for (uint32_t i = first[s]; i < first[s + 1]; i++) evs[one.n_events++] = req->events[idx[i]];
        one.events = evs;
        c->events_in[s] = (uint32_t)one.n_events;
        size_t len = grading__v1__record_events_request__get_packed_size(&one);
        free(buf);
        if (!(buf = malloc(len ? len : 1))) {
            err = GRADING_ENOMEM;
            snprintf(why, why_len, "out of memory");
            break;
        }
        grading__v1__record_events_request__pack(&one, buf);
        rd_kafka_resp_err_t rerr = rd_kafka_producev(
            k->producer, RD_KAFKA_V_TOPIC(k->topic), RD_KAFKA_V_KEY(seller, strlen(seller)),
            RD_KAFKA_V_VALUE(buf, len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE(c),
            RD_KAFKA_V_END);
        if (rerr) {
            /* a full local queue or a message over message.max.bytes: the
             * caller may retry later or split the batch */
            err = rerr == RD_KAFKA_RESP_ERR__QUEUE_FULL || rerr == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE
                      ? GRADING_EFULL
                      : GRADING_ESHUTDOWN;
            snprintf(why, why_len, "the Kafka producer refused seller %s's %zu events: %s", seller, one.n_events,
                     rd_kafka_err2str(rerr));
            break;
        }
        produced++;
    }
    if (produced < nsellers) {
        /* The ones handed over still report; the call fails as a whole
         * (a retry is safe: events are deduplicated by event_id). */
        c->result = GRADING_KAFKA_UNAVAILABLE;
        snprintf(c->why, sizeof c->why, "%s (the batch's other sellers may be logged; a retry is safe)", why);
        c->nmsgs = c->remaining = produced;
        bool none = produced == 0;
        pthread_mutex_unlock(&k->mu);
        free(idx);
        free(first);
        free(evs);
        free(buf);
        if (none) {
            kafka_call_free(c);
            return err;
        }
        return GRADING_OK;   /* done follows with UNAVAILABLE */
    }
    pthread_mutex_unlock(&k->mu);
    free(idx);
    free(first);
    free(evs);
    free(buf);
    return GRADING_OK;
fail:
    free(idx);
    free(first);
    free(evs);
    kafka_call_free(c);
    return err;
}
