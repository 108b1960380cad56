/* gradingd's log: one line per record on stderr, as text or JSON.
 *
 * Text: gradingd: 2026-12-06T03:20:01.123Z WARN call failed method=... code=...
 * JSON: {"time":"...","level":"warn","msg":"call failed","method":...}
 *
 * A thread handling a call sets the call's context (trace id from a W3C
 * traceparent, the caller once authentication names one); every record
 * that thread writes meanwhile carries them. Records about a call finished
 * on another thread (the writer, the close worker) pass the context
 * explicitly. */
#ifndef GRADING_LOG_H
#define GRADING_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum { GRADING_LOG_DEBUG, GRADING_LOG_INFO, GRADING_LOG_WARN, GRADING_LOG_ERROR } grading_log_level_t;
typedef enum { GRADING_LOG_TEXT, GRADING_LOG_JSON } grading_log_format_t;

#define GRADING_TRACE_ID_LEN 32
#define GRADING_CALLER_MAX 128

typedef struct {
    char trace_id[GRADING_TRACE_ID_LEN + 1];   /* "" when the call had none */
    char caller[GRADING_CALLER_MAX];           /* "" until callers have identities */
} grading_log_ctx_t;

/* A key and a value for a record: a string, or a number when str is NULL. */
typedef struct {
    const char *key;
    const char *str;
    double num;
} grading_log_field_t;

/* Sets the format and the lowest level written (defaults: text, info).
 * out NULL is stderr. Call before threads log. */
void grading_log_configure(grading_log_format_t format, grading_log_level_t level, FILE *out);

/* "debug".."error" / "text","json": true and *out on a known name. */
bool grading_log_level_parse(const char *s, grading_log_level_t *out);
bool grading_log_format_parse(const char *s, grading_log_format_t *out);
const char *grading_log_level_name(grading_log_level_t l);

bool grading_log_enabled(grading_log_level_t l);

/* The calling thread's call context (borrowed until cleared with NULL). */
void grading_log_set_ctx(const grading_log_ctx_t *ctx);

/* Parses a W3C traceparent ("00-<32 hex>-<16 hex>-<2 hex>") into trace_id
 * (GRADING_TRACE_ID_LEN + 1 bytes). False, and trace_id "", when it is
 * malformed or all zeros. */
bool grading_log_traceparent(const char *value, size_t len, char *trace_id);

/* A record: msg, then the fields, then ctx's (or the thread's) trace id
 * and caller. ctx NULL uses the thread's context. */
void grading_log_fields(grading_log_level_t l, const grading_log_ctx_t *ctx, const char *msg,
                        const grading_log_field_t *fields, size_t n);

/* A record whose message is printf-formatted, with the thread's context. */
void grading_log(grading_log_level_t l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
