/* libFuzzer target for request decoding and validation: arbitrary bytes go
 * through what gradingd does with a RecordEvents request before the writer
 * (grading_pb_decode: the raw-wire string check and protobuf-c's unpack;
 * rpc_event_from_pb; grading_events_validate; grading_event_check_context;
 * grading_event_hash), and through the decode of the query requests.
 *
 * Beyond "no crash, no sanitizer report" it checks, and abort()s when one
 * breaks:
 *   - a refusal carries a message; when protobuf-c alone would have
 *     unpacked the bytes, the refusal names a field (a NUL or bad UTF-8);
 *   - a decoded message's strings are valid UTF-8, and re-packing and
 *     decoding it again gives the same strings (nothing was cut at a NUL)
 *     or fails only where protobuf-c's own unpack fails;
 *   - a batch that validates holds only ids of printable ASCII within
 *     their limits, and hashing an event is deterministic;
 *   - a refused event names a field of its own index ("events[<i>]...").
 *
 * Build: see README.md. With -DGRADING_FUZZ_MAIN it is a plain program
 * that runs the files named on its command line (the ctest replays the
 * seed corpus through it on every test run). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert.h"
#include "grading/event.h"
#include "grading/pbcheck.h"
#include "grading/text.h"

#define CHECK(c)                                                                          \
    do {                                                                                  \
        if (!(c)) {                                                                       \
            fprintf(stderr, "fuzz_request: check failed at line %d: %s\n", __LINE__, #c); \
            abort();                                                                      \
        }                                                                                 \
    } while (0)

static void check_text(const char *s)
{
    if (!s) return;
    CHECK(grading_utf8_valid(s, strlen(s), NULL));
}

static void check_id(const char *s, size_t max)
{
    CHECK(s != NULL);
    CHECK(grading_id_problem(s, strlen(s), max, NULL) == NULL);
}

/* Every string of the event as protobuf-c holds it. */
static void check_event_strings(const Grading__V1__SellerEvent *m)
{
    check_text(m->event_id);
    check_text(m->marketplace);
    check_text(m->seller_id);
    grading_event_t ev;
    rpc_event_from_pb(m, &ev);
    check_text(ev.ref_id);
    check_text(ev.product_id);
    check_text(ev.currency);
    check_text(ev.name);
}

/* Re-packs m and decodes it again: the strings must survive unchanged. */
static void check_round_trip(const Grading__V1__RecordEventsRequest *req)
{
    size_t len = protobuf_c_message_get_packed_size(&req->base);
    uint8_t *buf = malloc(len ? len : 1);
    CHECK(buf != NULL);
    protobuf_c_message_pack(&req->base, buf);
    ProtobufCMessage *again = NULL;
    grading_error_t e = {0};
    if (grading_pb_decode(&grading__v1__record_events_request__descriptor, buf, len, &again, &e)) {
        /* protobuf-c does not always read back what it wrote (an unknown
         * field numbered 0 it keeps, packs, then refuses); the check itself
         * must not be the reason */
        ProtobufCMessage *plain =
            protobuf_c_message_unpack(&grading__v1__record_events_request__descriptor, NULL, len, buf);
        CHECK(plain == NULL);
        free(buf);
        return;
    }
    const Grading__V1__RecordEventsRequest *r2 = (const void *)again;
    CHECK(r2->n_events == req->n_events);
    for (size_t i = 0; i < req->n_events; i++) {
        CHECK(strcmp(r2->events[i]->event_id, req->events[i]->event_id) == 0);
        CHECK(strcmp(r2->events[i]->seller_id, req->events[i]->seller_id) == 0);
        CHECK(strcmp(r2->events[i]->marketplace, req->events[i]->marketplace) == 0);
    }
    protobuf_c_message_free_unpacked(again, NULL);
    free(buf);
}

static void check_validated(const grading_event_t *evs, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        const grading_event_t *ev = &evs[i];
        check_id(ev->event_id, GRADING_MAX_ID_LEN);
        check_id(ev->seller_id, GRADING_MAX_ID_LEN);
        if (ev->marketplace[0]) check_id(ev->marketplace, GRADING_MAX_MARKETPLACE_LEN);
        if (ev->kind == GRADING_EV_CUSTOM) check_id(ev->name, GRADING_MAX_CUSTOM_NAME_LEN);
        else if (ev->kind != GRADING_EV_PLATFORM_REVENUE) check_id(ev->ref_id, GRADING_MAX_ID_LEN);
        CHECK(ev->occurred_ms >= GRADING_MIN_TIME_MS && ev->occurred_ms < GRADING_MAX_TIME_MS);
        CHECK(grading_event_hash(ev, "testmart") == grading_event_hash(ev, "testmart"));
        /* a fixed context: KRW, the clock at 2026-11-01, 1 h of skew */
        grading_event_context_t ctx = {"testmart", "KRW", INT64_C(1793491200000), GRADING_DEFAULT_MAX_FUTURE_SKEW_MS, 0};
        grading_error_t e = {0};
        grading_err_t err = grading_event_check_context(ev, i, &ctx, &e);
        if (err) {
            char want[32];
            snprintf(want, sizeof want, "events[%u].", i);
            CHECK(strncmp(e.field, want, strlen(want)) == 0);
            CHECK(err == GRADING_EINVAL || err == GRADING_ERANGE);
        }
    }
}

static void run_record(const uint8_t *data, size_t size)
{
    const ProtobufCMessageDescriptor *d = &grading__v1__record_events_request__descriptor;
    ProtobufCMessage *m = NULL;
    grading_error_t e = {0};
    grading_err_t err = grading_pb_decode(d, data, size, &m, &e);
    if (err) {
        CHECK(m == NULL && e.message[0]);
        ProtobufCMessage *plain = protobuf_c_message_unpack(d, NULL, size, data);
        if (plain) {   /* protobuf-c would have taken it: a string was refused */
            CHECK(e.field[0]);
            protobuf_c_message_free_unpacked(plain, NULL);
        }
        return;
    }
    const Grading__V1__RecordEventsRequest *req = (const void *)m;
    for (size_t i = 0; i < req->n_events; i++) check_event_strings(req->events[i]);
    check_round_trip(req);
    uint32_t n = req->n_events > GRADING_MAX_EVENTS_PER_CALL ? 0 : (uint32_t)req->n_events;
    grading_event_t *evs = calloc(n ? n : 1, sizeof *evs);
    CHECK(evs != NULL);
    for (uint32_t i = 0; i < n; i++) rpc_event_from_pb(req->events[i], &evs[i]);
    grading_error_t ve = {0};
    if (n && grading_events_validate(evs, n, &ve) == GRADING_OK) {
        check_validated(evs, n);
    } else if (n) {
        CHECK(ve.message[0]);
        CHECK(strncmp(ve.field, "events", 6) == 0);
    }
    free(evs);
    protobuf_c_message_free_unpacked(m, NULL);
}

/* The query requests: decoded or refused, never more. */
static void run_queries(const uint8_t *data, size_t size)
{
    const ProtobufCMessageDescriptor *ds[] = {
        &grading__v1__get_seller_metrics_request__descriptor, &grading__v1__get_ranking_boosts_request__descriptor,
        &grading__v1__close_period_request__descriptor, &grading__v1__get_grade_history_request__descriptor};
    for (size_t k = 0; k < sizeof ds / sizeof ds[0]; k++) {
        ProtobufCMessage *m = NULL;
        grading_error_t e = {0};
        if (grading_pb_decode(ds[k], data, size, &m, &e) == GRADING_OK)
            protobuf_c_message_free_unpacked(m, NULL);
        else
            CHECK(m == NULL && e.message[0]);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    run_record(data, size);
    run_queries(data, size);
    return 0;
}

#ifdef GRADING_FUZZ_MAIN
int main(int argc, char **argv)
{
    static uint8_t buf[1 << 20];
    int ran = 0;
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f) {
            perror(argv[i]);
            return 1;
        }
        size_t n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        LLVMFuzzerTestOneInput(buf, n);
        ran++;
    }
    printf("fuzz_request: %d inputs, every contract held\n", ran);
    return ran > 0 ? 0 : 1;
}
#endif
