/* What the server records about each call: the grpc_server_* metrics,
 * the call's log line (every failure; successes when the access log
 * samples them), and the W3C trace id that every log line of the call
 * carries. Called by server.c at dispatch and at reply. */
#include <grpc/support/alloc.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "grading/access_log.h"
#include "grading/status_name.h"
#include "grading/log.h"
#include "grading/metrics.h"
#include "observe_internal.h"
#include "server_internal.h"

static bool access_on;
static double access_rate = 1.0;
static _Thread_local uint64_t sample_rng;

void grading_access_log_configure(bool enabled, double sample_rate)
{
    access_on = enabled;
    access_rate = sample_rate < 0 ? 0 : sample_rate > 1 ? 1 : sample_rate;
}

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int method_index(const call_slot_t *s)
{
    return s->method ? (int)(s->method - grading_rpc_methods) : GRADING_METRICS_UNKNOWN_METHOD;
}

void rpc_observe_register_methods(void)
{
    for (int m = 0; m < grading_rpc_method_count && m < GRADING_METRICS_UNKNOWN_METHOD; m++)
        grading_metrics_name_method(m, grading_rpc_methods[m].path,
                                    grading_rpc_methods[m].handler == rpc_handle_reflection);
}

static void find_traceparent(call_slot_t *s)
{
    s->log_ctx.trace_id[0] = 0;
    for (size_t i = 0; i < s->request_md.count; i++) {
        const grpc_metadata *md = &s->request_md.metadata[i];
        if (!grpc_slice_str_cmp(md->key, "traceparent")) {
            grading_log_traceparent((const char *)GRPC_SLICE_START_PTR(md->value),
                                    GRPC_SLICE_LENGTH(md->value), s->log_ctx.trace_id);
            return;
        }
    }
}

void rpc_observe_start(call_slot_t *s)
{
    s->start_ns = mono_ns();
    s->log_ctx.caller[0] = 0;   /* the authorization step fills it in */
    find_traceparent(s);
    grading_metrics_call_started(method_index(s));
    grading_log_set_ctx(&s->log_ctx);
}

static bool sampled(void)
{
    if (access_rate >= 1) return true;
    if (!sample_rng) sample_rng = (uint64_t)mono_ns() | 1;
    sample_rng ^= sample_rng << 13;   /* xorshift64 */
    sample_rng ^= sample_rng >> 7;
    sample_rng ^= sample_rng << 17;
    return (double)(sample_rng >> 11) / 9007199254740992.0 < access_rate;
}

static bool server_fault(grpc_status_code code)
{
    return code == GRPC_STATUS_INTERNAL || code == GRPC_STATUS_UNKNOWN || code == GRPC_STATUS_DATA_LOSS;
}

void rpc_observe_end(call_slot_t *s, grpc_status_code code, const char *message)
{
    int64_t ns = s->start_ns ? mono_ns() - s->start_ns : 0;
    grading_metrics_call_handled(method_index(s), (int)code, ns);
    bool ok = code == GRPC_STATUS_OK;
    if (ok && !(access_on && sampled())) return;
    grading_log_level_t lv = ok ? GRADING_LOG_INFO : server_fault(code) ? GRADING_LOG_ERROR : GRADING_LOG_WARN;
    if (!grading_log_enabled(lv)) return;
    char path[256];
    if (s->method) {
        snprintf(path, sizeof path, "%s", s->method->path);
    } else {
        char *p = grpc_slice_to_c_string(s->details.method);
        snprintf(path, sizeof path, "%s", p);
        gpr_free(p);
    }
    grading_log_field_t f[4] = {
        {"method", path, 0},
        {"code", grading_status_name(code), 0},
        {"duration_ms", NULL, (double)ns / 1e6},
        {"message", message ? message : "", 0},
    };
    grading_log_fields(lv, &s->log_ctx, ok ? "call" : "call failed", f, ok ? 3 : 4);
}
