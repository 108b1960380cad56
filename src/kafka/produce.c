/* RecordEvents in Kafka mode (kafka.h): one message per seller, keyed by
 * seller_id, answered once every message is acknowledged (and, with
 * wait_applied, applied by this replica). */
#include <stdlib.h>
#include <string.h>

#include "kafka_internal.h"

static void call_free(kafka_call_t *c)
{
    if (!c) return;
    free(c->events_in);
    free(c->parts);
    free(c->offs);
    free(c);
}

static void call_finish(kafka_call_t *c)
{
    c->done(c->ctx, c->result, c->why, c->logged);
    call_free(c);
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
        if (call_applied(k, c)) {
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

/* The index of the first event of each distinct seller, in order. */
static uint32_t sellers_of(const Grading__V1__RecordEventsRequest *req, uint32_t *first)
{
    uint32_t n = 0;
    for (size_t i = 0; i < req->n_events; i++) {
        bool seen = false;
        for (uint32_t j = 0; j < n && !seen; j++)
            seen = strcmp(req->events[first[j]]->seller_id, req->events[i]->seller_id) == 0;
        if (!seen) first[n++] = (uint32_t)i;
    }
    return n;
}

grading_err_t grading_kafka_produce(grading_kafka_t *k, const Grading__V1__RecordEventsRequest *req,
                                    bool wait_applied, grading_kafka_done_cb done, void *ctx)
{
    if (atomic_load(&k->stopping)) return GRADING_ESHUTDOWN;
    size_t n = req->n_events;
    grading_err_t err = GRADING_ENOMEM;
    uint32_t *first = calloc(n ? n : 1, sizeof *first);
    Grading__V1__SellerEvent **evs = calloc(n ? n : 1, sizeof *evs);
    uint8_t *buf = NULL;
    kafka_call_t *c = calloc(1, sizeof *c);
    if (!first || !evs || !c) goto fail;
    uint32_t nsellers = sellers_of(req, first);
    c->kind = KAFKA_OPAQUE_CALL;
    c->nmsgs = c->remaining = nsellers;
    c->events_in = calloc(nsellers ? nsellers : 1, sizeof *c->events_in);
    c->parts = calloc(nsellers ? nsellers : 1, sizeof *c->parts);
    c->offs = calloc(nsellers ? nsellers : 1, sizeof *c->offs);
    if (!c->events_in || !c->parts || !c->offs) goto fail;
    for (uint32_t s = 0; s < nsellers; s++) c->parts[s] = -1;
    c->wait_applied = wait_applied;
    c->done = done;
    c->ctx = ctx;
    c->result = GRADING_KAFKA_LOGGED;

    /* Every message is handed to librdkafka (copied) before any report can
     * finish c: reports come on the producer thread, after produce. */
    pthread_mutex_lock(&k->mu);
    uint32_t produced = 0;
    for (uint32_t s = 0; s < nsellers; s++) {
        const char *seller = req->events[first[s]]->seller_id;
        Grading__V1__RecordEventsRequest one = GRADING__V1__RECORD_EVENTS_REQUEST__INIT;
        for (size_t i = 0; i < n; i++)
            if (strcmp(req->events[i]->seller_id, seller) == 0) evs[one.n_events++] = req->events[i];
        one.events = evs;
        c->events_in[s] = (uint32_t)one.n_events;
        size_t len = grading__v1__record_events_request__get_packed_size(&one);
        free(buf);
        if (!(buf = malloc(len ? len : 1))) {
            err = GRADING_ENOMEM;
            break;
        }
        grading__v1__record_events_request__pack(&one, buf);
        rd_kafka_resp_err_t rerr = rd_kafka_producev(
            k->producer, RD_KAFKA_V_TOPIC(k->topic), RD_KAFKA_V_KEY(seller, strlen(seller)),
            RD_KAFKA_V_VALUE(buf, len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE(c),
            RD_KAFKA_V_END);
        if (rerr) {
            err = rerr == RD_KAFKA_RESP_ERR__QUEUE_FULL ? GRADING_EFULL : GRADING_ESHUTDOWN;
            break;
        }
        produced++;
    }
    if (produced < nsellers) {
        /* The ones handed over still report; the call fails as a whole
         * (a retry is safe: events are deduplicated by event_id). */
        c->result = GRADING_KAFKA_UNAVAILABLE;
        snprintf(c->why, sizeof c->why, "the Kafka producer refused the batch (%s)",
                 err == GRADING_EFULL ? "local queue full" : err == GRADING_ENOMEM ? "out of memory" : "stopping");
        c->nmsgs = c->remaining = produced;
        bool none = produced == 0;
        pthread_mutex_unlock(&k->mu);
        free(first);
        free(evs);
        free(buf);
        if (none) {
            call_free(c);
            return err;
        }
        return GRADING_OK;   /* done follows with UNAVAILABLE */
    }
    pthread_mutex_unlock(&k->mu);
    free(first);
    free(evs);
    free(buf);
    return GRADING_OK;
fail:
    free(first);
    free(evs);
    call_free(c);
    return err;
}
