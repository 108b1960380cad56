/* The logger (see grading/log.h). A record is formatted into a local
 * buffer and written with one fwrite under the stream's lock, so lines
 * from different threads never interleave. */
#include "grading/log.h"

#include <stdarg.h>
#include <string.h>
#include <time.h>

#define LINE_MAX_BYTES 4096

static grading_log_format_t log_format = GRADING_LOG_TEXT;
static grading_log_level_t log_level = GRADING_LOG_INFO;
static FILE *log_out;
static _Thread_local const grading_log_ctx_t *thread_ctx;

static const char *const level_names[] = {"debug", "info", "warn", "error"};
static const char *const level_upper[] = {"DEBUG", "INFO", "WARN", "ERROR"};

void grading_log_configure(grading_log_format_t format, grading_log_level_t level, FILE *out)
{
    log_format = format;
    log_level = level;
    log_out = out;
}

bool grading_log_level_parse(const char *s, grading_log_level_t *out)
{
    for (int i = 0; i < 4; i++) {
        if (strcmp(s, level_names[i]) == 0) {
            *out = (grading_log_level_t)i;
            return true;
        }
    }
    return false;
}

bool grading_log_format_parse(const char *s, grading_log_format_t *out)
{
    if (strcmp(s, "text") == 0) *out = GRADING_LOG_TEXT;
    else if (strcmp(s, "json") == 0) *out = GRADING_LOG_JSON;
    else return false;
    return true;
}

const char *grading_log_level_name(grading_log_level_t l) { return level_names[l & 3]; }

bool grading_log_enabled(grading_log_level_t l) { return l >= log_level; }

void grading_log_set_ctx(const grading_log_ctx_t *ctx) { thread_ctx = ctx; }

static bool is_hex(const char *s, size_t n, bool *all_zero)
{
    *all_zero = true;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
        if (c != '0') *all_zero = false;
    }
    return true;
}

bool grading_log_traceparent(const char *v, size_t len, char *trace_id)
{
    bool zero, zero_span;
    trace_id[0] = 0;
    /* version "00" is exactly 55 bytes; later versions may append fields */
    if (len < 55 || v[2] != '-' || v[35] != '-' || v[52] != '-') return false;
    if (!is_hex(v, 2, &zero) || (v[0] == 'f' && v[1] == 'f')) return false;
    if (v[0] == '0' && v[1] == '0' && len != 55) return false;
    if (!is_hex(v + 3, 32, &zero) || zero) return false;
    if (!is_hex(v + 36, 16, &zero_span) || zero_span) return false;
    if (!is_hex(v + 53, 2, &zero_span)) return false;
    memcpy(trace_id, v + 3, 32);
    trace_id[32] = 0;
    return true;
}

/* ---- formatting into a bounded buffer ---- */

typedef struct {
    char buf[LINE_MAX_BYTES];
    size_t len;
} line_t;

static void put(line_t *l, const char *s, size_t n)
{
    size_t room = sizeof l->buf - 2 - l->len;   /* keep room for "\n\0" */
    if (n > room) n = room;
    memcpy(l->buf + l->len, s, n);
    l->len += n;
}

static void puts_(line_t *l, const char *s) { put(l, s, strlen(s)); }

static void putf(line_t *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(line_t *l, const char *fmt, ...)
{
    char tmp[64];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0) put(l, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* A JSON string's content: quotes, backslashes and control bytes escaped. */
static void put_json_str(line_t *l, const char *s)
{
    put(l, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            put(l, e, 2);
        } else if (c < 0x20) {
            putf(l, "\\u%04x", c);
        } else {
            put(l, s, 1);
        }
    }
    put(l, "\"", 1);
}

/* A text value: bare when it is one word, else quoted like JSON. */
static void put_text_value(line_t *l, const char *s)
{
    bool bare = s[0] != 0;
    for (const char *p = s; *p && bare; p++)
        if (*p == ' ' || *p == '"' || *p == '=' || (unsigned char)*p < 0x20) bare = false;
    if (bare) puts_(l, s);
    else put_json_str(l, s);
}

static void put_time(line_t *l)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    char t[40];
    strftime(t, sizeof t, "%Y-%m-%dT%H:%M:%S", &tm);
    puts_(l, t);
    putf(l, ".%03ldZ", ts.tv_nsec / 1000000);
}

/* Whole numbers (sizes, counts) in full; others to 6 significant digits. */
static void put_num(line_t *l, double v)
{
    if (v == (double)(long long)v && v > -1e18 && v < 1e18) putf(l, "%lld", (long long)v);
    else putf(l, "%.6g", v);
}

static void put_field(line_t *l, const char *key, const char *str, double num)
{
    if (log_format == GRADING_LOG_JSON) {
        put(l, ",", 1);
        put_json_str(l, key);
        put(l, ":", 1);
        if (str) put_json_str(l, str);
        else put_num(l, num);
    } else {
        put(l, " ", 1);
        puts_(l, key);
        put(l, "=", 1);
        if (str) put_text_value(l, str);
        else put_num(l, num);
    }
}

void grading_log_fields(grading_log_level_t lv, const grading_log_ctx_t *ctx, const char *msg,
                        const grading_log_field_t *fields, size_t n)
{
    if (!grading_log_enabled(lv)) return;
    if (!ctx) ctx = thread_ctx;
    line_t l;
    l.len = 0;
    if (log_format == GRADING_LOG_JSON) {
        puts_(&l, "{\"time\":\"");
        put_time(&l);
        puts_(&l, "\",\"level\":\"");
        puts_(&l, level_names[lv & 3]);
        puts_(&l, "\",\"msg\":");
        put_json_str(&l, msg);
    } else {
        puts_(&l, "gradingd: ");
        put_time(&l);
        put(&l, " ", 1);
        puts_(&l, level_upper[lv & 3]);
        put(&l, " ", 1);
        puts_(&l, msg);
    }
    for (size_t i = 0; i < n; i++) put_field(&l, fields[i].key, fields[i].str, fields[i].num);
    if (ctx && ctx->trace_id[0]) put_field(&l, "trace_id", ctx->trace_id, 0);
    if (ctx && ctx->caller[0]) put_field(&l, "caller", ctx->caller, 0);
    if (log_format == GRADING_LOG_JSON) put(&l, "}", 1);
    l.buf[l.len++] = '\n';
    FILE *out = log_out ? log_out : stderr;
    flockfile(out);
    fwrite(l.buf, 1, l.len, out);
    fflush(out);
    funlockfile(out);
}

void grading_log(grading_log_level_t lv, const char *fmt, ...)
{
    if (!grading_log_enabled(lv)) return;
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    grading_log_fields(lv, NULL, msg, NULL, 0);
}
