/* /metrics: the counters (grading/metrics.h), then the gauges read at
 * scrape time from the layers that own them, then process_*. */
#include <stdlib.h>

#include "admin_internal.h"
#include "grading/metrics.h"
#include "grading/store_backup.h"

static void write_gauges(grading_admin_t *a, FILE *out)
{
    if (a->o.ingest)
        fprintf(out, "# HELP grading_ingest_queue_depth Batches waiting for the writer.\n"
                     "# TYPE grading_ingest_queue_depth gauge\ngrading_ingest_queue_depth %llu\n",
                (unsigned long long)grading_ingest_queue_depth(a->o.ingest));
    grading_store_stats_t st;
    if (a->o.store && grading_store_stats(a->o.store, &st) == GRADING_OK) {
        fprintf(out, "# HELP grading_lmdb_map_bytes Size of the LMDB memory map.\n"
                     "# TYPE grading_lmdb_map_bytes gauge\ngrading_lmdb_map_bytes %llu\n",
                (unsigned long long)st.map_bytes);
        fprintf(out, "# HELP grading_lmdb_used_bytes Bytes of the map in use (pages up to the last).\n"
                     "# TYPE grading_lmdb_used_bytes gauge\ngrading_lmdb_used_bytes %llu\n",
                (unsigned long long)st.used_bytes);
        fprintf(out, "# HELP grading_lmdb_readers LMDB reader slots in use.\n"
                     "# TYPE grading_lmdb_readers gauge\ngrading_lmdb_readers %llu\n",
                (unsigned long long)st.readers);
    }
    grading_policy_t *p = a->o.policy ? a->o.policy(a->o.ctx) : NULL;
    fprintf(out, "# HELP grading_policy_info The policy in force: one series per marketplace, value 1.\n"
                 "# TYPE grading_policy_info gauge\n");
    for (size_t i = 0; p && i < grading_policy_marketplace_count(p); i++)
        fprintf(out, "grading_policy_info{marketplace=\"%s\",version=\"%s\"} 1\n",
                grading_policy_marketplace_at(p, i)->name, grading_policy_version(p));
    grading_policy_unref(p);
}

/* Every marketplace of the policy in force gets its events series. */
static void declare_marketplaces(grading_admin_t *a)
{
    grading_policy_t *p = a->o.policy ? a->o.policy(a->o.ctx) : NULL;
    for (size_t i = 0; p && i < grading_policy_marketplace_count(p); i++)
        grading_metrics_declare_marketplace(grading_policy_marketplace_at(p, i)->name);
    grading_policy_unref(p);
}

enum MHD_Result admin_metrics(grading_admin_t *a, struct MHD_Connection *conn)
{
    declare_marketplaces(a);
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    if (!out) return admin_reply_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
    grading_metrics_write(out);
    write_gauges(a, out);
    grading_metrics_write_retention(out);
    admin_write_store_usage(a, out);
    if (a->o.extra_metrics) a->o.extra_metrics(a->o.extra_ctx, out);
    grading_metrics_write_process(out);
    if (fclose(out) != 0 || !text) {
        free(text);
        return admin_reply_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
    }
    struct MHD_Response *r = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}
