/* gradingd's retention flags (issue 18): how long day records, orders and
 * event ids are kept, and how often the pruner runs. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "flags.h"
#include "grading/prune.h"

#define DAY_MS INT64_C(86400000)

void app_flags_retention_defaults(app_flags_t *f)
{
    f->retention_margin_ms = GRADING_PRUNE_DEFAULT_MARGIN_DAYS * DAY_MS;
    f->dedup_horizon_ms = GRADING_PRUNE_DEFAULT_DEDUP_HORIZON_MS;
    f->prune_interval_ms = 3600 * INT64_C(1000);
    f->keep_periods = GRADING_PRUNE_DEFAULT_KEEP_PERIODS;
}

void app_flags_retention_usage(FILE *out)
{
    fprintf(out,
            "retention (README: Retention):\n"
            "  --retention-margin DUR   keep day records this long beyond the policy's longest look-back\n"
            "                           (default 31d, 0..365d; whole days)\n"
            "  --dedup-horizon DUR      keep event ids for deduplication this long and refuse live events\n"
            "                           older than it (backfill_id loads history); default 35d, 0 keeps\n"
            "                           every id and refuses nothing (at most 3650d)\n"
            "  --prune-interval DUR     run the retention pruner this often (default 1h, 0 never, at most 7d)\n"
            "  --keep-periods N         keep the newest N published periods of each kind, at least what the\n"
            "                           policy's history reads (default 60, 0 keeps all, at most 1000)\n");
}

/* "0", or a number with s, m, h or d, at most max_ms. */
static bool parse_span(const char *s, int64_t max_ms, int64_t *out_ms)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || v < 0) return false;
    int64_t unit;
    if (v == 0 && *end == '\0') unit = 1;
    else if (strcmp(end, "s") == 0) unit = 1000;
    else if (strcmp(end, "m") == 0) unit = 60000;
    else if (strcmp(end, "h") == 0) unit = 3600000;
    else if (strcmp(end, "d") == 0) unit = DAY_MS;
    else return false;
    if (v > max_ms / unit) return false;
    *out_ms = (int64_t)v * unit;
    return true;
}

bool app_flags_parse_retention(int which, const char *arg, app_flags_t *f, char *err, size_t errlen)
{
    static const struct {
        const char *name;
        int64_t max_ms;
        const char *range;
    } flags[] = {
        {"retention-margin", 365 * DAY_MS, "0..365d in whole days"},
        {"dedup-horizon", 3650 * DAY_MS, "0..3650d"},
        {"prune-interval", 7 * DAY_MS, "0..7d"},
    };
    int64_t *dst[] = {&f->retention_margin_ms, &f->dedup_horizon_ms, &f->prune_interval_ms};
    if (which == 3) {
        char *end;
        errno = 0;
        long long n = strtoll(arg, &end, 10);
        if (errno || end == arg || *end || n < 0 || n > 1000) {
            snprintf(err, errlen, "--keep-periods must be a count 0..1000, got \"%s\"", arg);
            return false;
        }
        f->keep_periods = n;
        return true;
    }
    if (which < 0 || which >= (int)(sizeof flags / sizeof flags[0])) return false;
    int64_t v;
    if (!parse_span(arg, flags[which].max_ms, &v) || (which == 0 && v % DAY_MS)) {
        snprintf(err, errlen, "--%s must be a duration like 0, 90s, 15m, 1h or 30d (%s), got \"%s\"",
                 flags[which].name, flags[which].range, arg);
        return false;
    }
    *dst[which] = v;
    return true;
}
