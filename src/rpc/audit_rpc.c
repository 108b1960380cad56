/* The audit trail over RPC: the RecordEvents entry (written by the ingest
 * writer inside the batch's transaction) and ListAudit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert.h"
#include "grading/audit.h"
#include "grading/v1/grading.pb-c.h"
#include "server_internal.h"

#define LIST_AUDIT_DEFAULT 1000
#define LIST_AUDIT_MAX 10000

/* "a,b": each marketplace of the batch once, in first-seen order. */
static void batch_marketplaces(const record_state_t *r, char *out, size_t cap)
{
    out[0] = '\0';
    for (uint32_t i = 0; i < r->batch.n; i++) {
        bool seen = false;
        for (uint32_t k = 0; k < i && !seen; k++) seen = strcmp(r->marketplaces[k], r->marketplaces[i]) == 0;
        if (seen) continue;
        size_t len = strlen(out);
        snprintf(out + len, cap - len, "%s%s", len ? "," : "", r->marketplaces[i]);
    }
}

grading_err_t rpc_audit_record(void *ctx, grading_txn_t *txn, int64_t now_ms, uint32_t accepted,
                               uint32_t duplicates)
{
    call_slot_t *s = ctx;
    grading_audit_entry_t e = {.time_ms = now_ms};
    snprintf(e.caller, sizeof e.caller, "%s", s->caller[0] ? s->caller : "anonymous");
    snprintf(e.method, sizeof e.method, "RecordEvents");
    batch_marketplaces(&s->record, e.marketplace, sizeof e.marketplace);
    snprintf(e.policy_version, sizeof e.policy_version, "%s", grading_policy_version(s->policy));
    grading_audit_count(&e, "events", s->record.batch.n);
    grading_audit_count(&e, "accepted", accepted);
    grading_audit_count(&e, "duplicates", duplicates);
    return grading_store_audit_put(txn, &e);
}

typedef struct {
    grading_audit_entry_t *entries;
    size_t n, cap;
} audit_list_t;

static grading_err_t collect(void *ctx, const grading_audit_entry_t *e)
{
    audit_list_t *l = ctx;
    if (l->n >= l->cap) return GRADING_EFULL;
    l->entries[l->n++] = *e;
    return GRADING_OK;
}

void rpc_handle_list_audit(call_slot_t *s, const ProtobufCMessage *msg)
{
    const Grading__V1__ListAuditRequest *req = (const void *)msg;
    grading_error_t e = {0};
    audit_list_t l = {0};
    Grading__V1__AuditEntry *pe = NULL, **pp = NULL;
    Grading__V1__AuditCount *pc = NULL, **pcp = NULL;
    Google__Protobuf__Timestamp *ts = NULL;

    if (req->limit > LIST_AUDIT_MAX) {
        grading_error_set(&e, GRADING_EINVAL, "limit", "at most %d, got %u", LIST_AUDIT_MAX, req->limit);
        goto fail;
    }
    size_t limit = req->limit ? req->limit : LIST_AUDIT_DEFAULT;
    int64_t since = req->since ? rpc_timestamp_ms(req->since) : INT64_MIN;
    l.cap = limit + 1;   /* one more tells whether more follow */
    l.entries = calloc(l.cap, sizeof *l.entries);
    if (!l.entries) {
        grading_error_set(&e, GRADING_ENOMEM, "", "out of memory");
        goto fail;
    }
    grading_txn_t *txn;
    grading_err_t err = grading_store_read_begin(rpc_thread_reader(s), &txn);
    if (!err) {
        err = grading_store_audit_foreach(txn, since, (uint32_t)l.cap, collect, &l);
        grading_store_read_end(rpc_thread_reader(s));
    }
    if (err) {
        grading_error_set(&e, err, "", "cannot read the audit trail");
        goto fail;
    }
    bool truncated = l.n > limit;
    size_t n = truncated ? limit : l.n, ncounts = 0;
    for (size_t i = 0; i < n; i++) ncounts += l.entries[i].ncounts;
    pe = calloc(n ? n : 1, sizeof *pe);
    pp = calloc(n ? n : 1, sizeof *pp);
    ts = calloc(n ? n : 1, sizeof *ts);
    pc = calloc(ncounts ? ncounts : 1, sizeof *pc);
    pcp = calloc(ncounts ? ncounts : 1, sizeof *pcp);
    if (!pe || !pp || !ts || !pc || !pcp) {
        grading_error_set(&e, GRADING_ENOMEM, "", "out of memory");
        goto fail;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        grading_audit_entry_t *a = &l.entries[i];
        grading__v1__audit_entry__init(&pe[i]);
        google__protobuf__timestamp__init(&ts[i]);
        rpc_timestamp_set(&ts[i], a->time_ms);
        pe[i].time = &ts[i];
        pe[i].caller = a->caller;
        pe[i].method = a->method;
        pe[i].marketplace = a->marketplace;
        pe[i].period = a->period;
        pe[i].policy_version = a->policy_version;
        pe[i].detail = a->detail;
        pe[i].counts = &pcp[k];
        pe[i].n_counts = a->ncounts;
        for (uint32_t c = 0; c < a->ncounts; c++, k++) {
            grading__v1__audit_count__init(&pc[k]);
            pc[k].name = a->counts[c].name;
            pc[k].value = a->counts[c].value;
            pcp[k] = &pc[k];
        }
        pp[i] = &pe[i];
    }
    Grading__V1__ListAuditResponse resp = GRADING__V1__LIST_AUDIT_RESPONSE__INIT;
    resp.n_entries = n;
    resp.entries = pp;
    resp.truncated = truncated;
    rpc_reply(s, GRPC_STATUS_OK, NULL, &resp.base);
    goto done;
fail:
    rpc_reply_error(s, &e);
done:
    free(l.entries);
    free(pe);
    free(pp);
    free(ts);
    free(pc);
    free(pcp);
}
