/* gradingd's issue 14 flags: the change log's limits, how far a
 * WatchGradeChanges client may fall behind, the shadow policy. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "flags.h"
#include "grading/changes.h"
#include "grading/server.h"

#define WATCH_FLAG_MAX_ENTRIES UINT64_C(1000000000)

void app_flags_usage_watch(FILE *out)
{
    fprintf(out,
            "  --watch-max-lag N        cut a WatchGradeChanges client that stopped reading (5 s) N changes\n"
            "                           behind the log (default %llu)\n"
            "  --change-log-max-age DUR keep changes for WatchGradeChanges this long (default 7d, at most 365d)\n"
            "  --change-log-max-entries N  and at most N of them (default %llu)\n"
            "  --shadow-policy FILE     evaluate FILE beside --policy on every derive: disagreements per\n"
            "                           programme in /metrics, its levels in GetGrade with explain\n",
            (unsigned long long)GRADING_WATCH_DEFAULT_MAX_LAG,
            (unsigned long long)GRADING_CHANGES_DEFAULT_MAX_ENTRIES);
}

static bool parse_count(const char *arg, uint64_t *out)
{
    char *end;
    errno = 0;
    if (!arg[0] || arg[0] == '-') return false;
    unsigned long long v = strtoull(arg, &end, 10);
    if (errno || end == arg || *end || v < 1 || v > WATCH_FLAG_MAX_ENTRIES) return false;
    *out = v;
    return true;
}

/* A number with s, m, h or d, at most 365 days. */
static bool parse_age(const char *arg, int64_t *out)
{
    char *end;
    errno = 0;
    if (!arg[0] || arg[0] == '-') return false;
    long long v = strtoll(arg, &end, 10);
    if (errno || end == arg || v < 1 || end[0] == '\0' || end[1] != '\0') return false;
    int64_t unit = end[0] == 's' ? 1000 : end[0] == 'm' ? 60000 : end[0] == 'h' ? 3600000 : end[0] == 'd' ? 86400000 : 0;
    if (!unit || v > INT64_C(365) * 86400000 / unit) return false;
    *out = v * unit;
    return true;
}

bool app_flags_parse_watch(int which, const char *arg, app_flags_t *f, char *err, size_t errlen)
{
    switch (which) {
    case APP_FLAG_WATCH_MAX_LAG:
        if (!parse_count(arg, &f->watch_max_lag)) {
            snprintf(err, errlen, "--watch-max-lag must be 1..%llu changes, got \"%s\"",
                     (unsigned long long)WATCH_FLAG_MAX_ENTRIES, arg);
            return false;
        }
        return true;
    case APP_FLAG_CHANGE_LOG_MAX_AGE:
        if (!parse_age(arg, &f->change_log_max_age_ms)) {
            snprintf(err, errlen, "--change-log-max-age must be a duration like 90s, 15m, 1h or 7d (at most 365d), got \"%s\"",
                     arg);
            return false;
        }
        return true;
    case APP_FLAG_CHANGE_LOG_MAX_ENTRIES:
        if (!parse_count(arg, &f->change_log_max_entries)) {
            snprintf(err, errlen, "--change-log-max-entries must be 1..%llu, got \"%s\"",
                     (unsigned long long)WATCH_FLAG_MAX_ENTRIES, arg);
            return false;
        }
        return true;
    case APP_FLAG_SHADOW_POLICY:
        if (!arg[0]) {
            snprintf(err, errlen, "--shadow-policy must name a policy file");
            return false;
        }
        f->shadow_policy = arg;
        return true;
    }
    snprintf(err, errlen, "unknown watch flag");
    return false;
}
