/* gradectl record: send seller events from JSON Lines files.
 *
 * Every file is read and every line converted before anything is sent,
 * so a bad line anywhere means nothing is sent at all. The events then go
 * out in RecordEvents calls of at most GRADING_MAX_EVENTS_PER_CALL events
 * (and GRADING_MAX_REQUEST_BYTES): each call is atomic on the server, the
 * whole run is not. Because the server drops an event_id it has seen, a
 * run that failed midway can simply be run again.
 *
 * Where each event came from (file, line) is kept, so an INVALID_ARGUMENT
 * naming "events[7]" of a call can be traced back to its line. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "grading/event.h"
#include "grading/pbjson.h"
#include "grading/v1/grading.pb-c.h"

/* Bad lines printed before the rest are only counted. */
#define RECORD_MAX_REPORTED 20
/* Room for the request's own framing of each event (tag + length). */
#define RECORD_EVENT_OVERHEAD 16

typedef struct {
    const char *file;   /* as given; "-" printed as <stdin> */
    long line;
} origin_t;

typedef struct {
    Grading__V1__SellerEvent **events;
    origin_t *origins;
    size_t n, cap;
    size_t bad;         /* bad lines over all files */
} events_t;

static const char *display_name(const char *file) { return strcmp(file, "-") == 0 ? "<stdin>" : file; }

static void events_free(events_t *ev)
{
    for (size_t i = 0; i < ev->n; i++) protobuf_c_message_free_unpacked(&ev->events[i]->base, NULL);
    free(ev->events);
    free(ev->origins);
}

static int events_push(events_t *ev, ProtobufCMessage *m, const char *file, long line)
{
    if (ev->n == ev->cap) {
        size_t cap = ev->cap ? ev->cap * 2 : 1024;
        Grading__V1__SellerEvent **e = realloc(ev->events, cap * sizeof *e);
        if (!e) return -1;
        ev->events = e;
        origin_t *o = realloc(ev->origins, cap * sizeof *o);
        if (!o) return -1;
        ev->origins = o;
        ev->cap = cap;
    }
    ev->events[ev->n] = (Grading__V1__SellerEvent *)m;
    ev->origins[ev->n] = (origin_t){file, line};
    ev->n++;
    return 0;
}

static void report_bad(events_t *ev, const char *file, long line, const char *fmt, const char *a, const char *b)
{
    if (ev->bad++ < RECORD_MAX_REPORTED) {
        fprintf(stderr, "%s:%ld: ", display_name(file), line);
        fprintf(stderr, fmt, a, b);
        fputc('\n', stderr);
    }
}

static bool skip_line(const char *s)
{
    while (isspace((unsigned char)*s)) s++;
    return *s == '\0' || *s == '#';
}

/* Reads one file; bad lines are reported and counted, good ones kept.
 * Returns CLI_EXIT_FAIL only when the file cannot be read at all. */
static int read_file(events_t *ev, const char *file)
{
    FILE *f = strcmp(file, "-") == 0 ? stdin : fopen(file, "r");
    char *buf = NULL;
    size_t bufcap = 0;
    long lineno = 0;
    int rc = CLI_EXIT_OK;

    if (!f) {
        fprintf(stderr, "gradectl: cannot open %s: %s\n", file, strerror(errno));
        return CLI_EXIT_FAIL;
    }
    ssize_t len;
    while ((len = getline(&buf, &bufcap, f)) >= 0) {
        lineno++;
        while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r')) buf[--len] = '\0';
        if (skip_line(buf)) continue;
        if ((size_t)len != strlen(buf)) {
            report_bad(ev, file, lineno, "%s%s", "a NUL byte in the line", "");
            continue;
        }
        json_error_t jerr;
        json_t *j = json_loadb(buf, (size_t)len, JSON_REJECT_DUPLICATES, &jerr);
        if (!j) {
            char col[32];
            snprintf(col, sizeof col, "%d", jerr.column);
            report_bad(ev, file, lineno, "invalid JSON at column %s: %s", col, jerr.text);
            continue;
        }
        ProtobufCMessage *m = NULL;
        grading_error_t e = {0};
        grading_err_t err = grading_pbjson_to_message(j, &grading__v1__seller_event__descriptor, &m, &e);
        json_decref(j);
        if (err == GRADING_ENOMEM) {
            fprintf(stderr, "gradectl: out of memory reading %s\n", display_name(file));
            rc = CLI_EXIT_FAIL;
            break;
        }
        if (err) {
            if (e.field[0]) report_bad(ev, file, lineno, "%s: %s", e.field, e.message);
            else report_bad(ev, file, lineno, "%s%s", e.message, "");
            continue;
        }
        if (events_push(ev, m, file, lineno)) {
            protobuf_c_message_free_unpacked(m, NULL);
            fprintf(stderr, "gradectl: out of memory reading %s\n", display_name(file));
            rc = CLI_EXIT_FAIL;
            break;
        }
    }
    if (rc == CLI_EXIT_OK && ferror(f)) {
        fprintf(stderr, "gradectl: cannot read %s: %s\n", display_name(file), strerror(errno));
        rc = CLI_EXIT_FAIL;
    }
    free(buf);
    if (f != stdin) fclose(f);
    return rc;
}

/* After an INVALID_ARGUMENT naming "events[K]...", says which line that is. */
static void trace_index(const events_t *ev, size_t first, size_t count, const char *details)
{
    const char *p = details ? strstr(details, "events[") : NULL;
    if (!p) return;
    char *end;
    unsigned long k = strtoul(p + 7, &end, 10);
    if (end == p + 7 || *end != ']' || k >= count) return;
    const origin_t *o = &ev->origins[first + k];
    fprintf(stderr, "gradectl: events[%lu] of that call is %s:%ld\n", k, display_name(o->file), o->line);
}

/* Names the line of every event the server found in conflict (its id
 * stored before with other content: nothing of it was applied). */
static void report_conflicts(const events_t *ev, size_t first, size_t count,
                             const Grading__V1__RecordEventsResponse *r)
{
    for (size_t i = 0; i < r->n_conflict_indexes; i++) {
        size_t k = r->conflict_indexes[i];
        if (k >= count) continue;
        const origin_t *o = &ev->origins[first + k];
        const char *id = ev->events[first + k]->event_id;
        fprintf(stderr, "gradectl: %s:%ld: event_id \"%s\" conflicts: it was stored before with other "
                        "content; this event was not applied\n",
                display_name(o->file), o->line, id ? id : "");
    }
}

/* How many events from `first` fit one call. */
static size_t chunk_size(const events_t *ev, size_t first)
{
    size_t n = 0, bytes = 0;
    while (first + n < ev->n && n < GRADING_MAX_EVENTS_PER_CALL) {
        size_t sz = protobuf_c_message_get_packed_size(&ev->events[first + n]->base) + RECORD_EVENT_OVERHEAD;
        if (n > 0 && bytes + sz > GRADING_MAX_REQUEST_BYTES) break;
        bytes += sz;
        n++;
    }
    return n;
}

/* gradectl backfill's progress on stderr: a bar redrawn in place on a
 * terminal, a line per call otherwise (logs, tests). */
static void show_progress(size_t done, size_t total)
{
    enum { WIDTH = 30 };
    int pct = total ? (int)(done * 100 / total) : 100;
    if (isatty(STDERR_FILENO)) {
        char bar[WIDTH + 1];
        size_t fill = total ? done * WIDTH / total : WIDTH;
        for (size_t i = 0; i < WIDTH; i++) bar[i] = i < fill ? '#' : '.';
        bar[WIDTH] = '\0';
        fprintf(stderr, "\rbackfill [%s] %3d%% %zu/%zu events%s", bar, pct, done, total, done == total ? "\n" : "");
    } else {
        fprintf(stderr, "backfill: %zu/%zu events (%d%%)\n", done, total, pct);
    }
    fflush(stderr);
}

/* record and backfill: backfill_id NULL for live events. */
static int send_events(cli_ctx_t *ctx, const cli_command_t *cmd, int argc, char **argv, bool backfill)
{
    events_t ev = {0};
    const char *backfill_id = NULL;
    char **files = calloc((size_t)argc, sizeof *files);
    int nfiles = 0, rc;
    uint64_t accepted = 0, duplicates = 0, conflicts = 0, calls = 0;

    if (!files) {
        fprintf(stderr, "gradectl: out of memory\n");
        return CLI_EXIT_FAIL;
    }
    const cli_opt_t record_opts[] = {{NULL, NULL, NULL}};
    const cli_opt_t backfill_opts[] = {{"--id", &backfill_id, NULL}, {NULL, NULL, NULL}};
    rc = cli_parse_args(cmd, argc, argv, backfill ? backfill_opts : record_opts, files, 1, argc, &nfiles);
    if (rc) goto done;
    if (backfill && !backfill_id) backfill_id = files[0];   /* the first file names the backfill */
    if (backfill && (!backfill_id[0] || strlen(backfill_id) > GRADING_MAX_ID_LEN)) {
        rc = cli_usage_error(cmd, "--id must be 1..%d bytes", GRADING_MAX_ID_LEN);
        goto done;
    }

    for (int i = 0; i < nfiles; i++)
        if ((rc = read_file(&ev, files[i]))) goto done;
    if (ev.bad) {
        if (ev.bad > RECORD_MAX_REPORTED)
            fprintf(stderr, "gradectl: %zu more bad lines not shown\n", ev.bad - RECORD_MAX_REPORTED);
        fprintf(stderr, "gradectl: %zu bad line%s: nothing was sent\n", ev.bad, ev.bad == 1 ? "" : "s");
        rc = CLI_EXIT_FAIL;
        goto done;
    }

    size_t ncalls = 0;
    for (size_t at = 0; at < ev.n; at += chunk_size(&ev, at)) ncalls++;
    for (size_t at = 0; at < ev.n;) {
        size_t n = chunk_size(&ev, at);
        Grading__V1__RecordEventsRequest req = GRADING__V1__RECORD_EVENTS_REQUEST__INIT;
        req.n_events = n;
        req.events = ev.events + at;   /* borrowed: req is not freed */
        if (backfill) req.backfill_id = (char *)backfill_id;   /* borrowed */
        ProtobufCMessage *resp = NULL;
        cli_status_t st;
        rc = cli_call(ctx, "RecordEvents", &req.base, &grading__v1__record_events_response__descriptor, &resp,
                      &st);
        if (rc) {
            if (ncalls > 1)
                fprintf(stderr,
                        "gradectl: call %zu of %zu failed (events %zu..%zu); the %zu event%s before it were "
                        "stored, none after. Running the same files again is safe: stored events count as "
                        "duplicates\n",
                        (size_t)calls + 1, ncalls, at + 1, at + n, at, at == 1 ? "" : "s");
            if (st.status == GRPC_STATUS_INVALID_ARGUMENT) trace_index(&ev, at, n, st.details);
            goto done;
        }
        const Grading__V1__RecordEventsResponse *r = (const void *)resp;
        accepted += r->accepted;
        duplicates += r->duplicates;
        conflicts += r->conflicts;
        report_conflicts(&ev, at, n, r);
        calls++;
        protobuf_c_message_free_unpacked(resp, NULL);
        at += n;
        if (backfill) show_progress(at, ev.n);
    }

    if (ctx->json) {
        json_t *j = json_pack("{s:I, s:I, s:I, s:I, s:I}", "events", (json_int_t)ev.n, "accepted",
                              (json_int_t)accepted, "duplicates", (json_int_t)duplicates, "conflicts",
                              (json_int_t)conflicts, "calls", (json_int_t)calls);
        rc = j ? cli_print_json_value(j) : CLI_EXIT_FAIL;
    } else {
        char a[32], d[32], x[32], c[32];
        snprintf(a, sizeof a, "%llu", (unsigned long long)accepted);
        snprintf(d, sizeof d, "%llu", (unsigned long long)duplicates);
        snprintf(x, sizeof x, "%llu", (unsigned long long)conflicts);
        snprintf(c, sizeof c, "%llu", (unsigned long long)calls);
        cli_table_t *t = cli_table_new(2, "lr");
        const char *r1[] = {"accepted", a}, *r2[] = {"duplicates", d}, *r4[] = {"conflicts", x},
                   *r3[] = {"calls", c};
        if (!t || cli_table_add_row(t, r1) || cli_table_add_row(t, r2) || cli_table_add_row(t, r4) ||
            cli_table_add_row(t, r3)) {
            fprintf(stderr, "gradectl: out of memory\n");
            rc = CLI_EXIT_FAIL;
        } else {
            cli_table_print(t, stdout);
        }
        cli_table_free(t);
    }
done:
    events_free(&ev);
    free(files);
    return rc;
}

static int run_record(cli_ctx_t *ctx, const cli_command_t *cmd, int argc, char **argv)
{
    return send_events(ctx, cmd, argc, argv, false);
}

static int run_backfill(cli_ctx_t *ctx, const cli_command_t *cmd, int argc, char **argv)
{
    return send_events(ctx, cmd, argc, argv, true);
}

const cli_command_t cli_cmd_backfill = {
    .name = "backfill",
    .synopsis = "[--id ID] FILE.jsonl... (- for stdin)",
    .summary = "load history older than the dedup horizon (RecordEvents with a backfill_id)",
    .help = "Like record (the same JSON Lines, checked the same way before anything is sent),\n"
            "but every call carries backfill_id ID (default: the first FILE's name), so events\n"
            "older than gradingd's --dedup-horizon are accepted: onboarding a marketplace's\n"
            "past year. With an authz file the caller needs backfill: true. Event ids are\n"
            "deduplicated as in record: running the same backfill again within the dedup\n"
            "horizon, or an id twice in it, counts once. A progress bar (a line per call\n"
            "when stderr is not a terminal) goes to stderr; the totals as record.\n",
    .run = run_backfill,
};

const cli_command_t cli_cmd_record = {
    .name = "record",
    .synopsis = "FILE.jsonl... (- for stdin)",
    .summary = "send seller events (RecordEvents), one JSON object a line",
    .help = "Each non-blank line not starting with # is one SellerEvent in the proto3 JSON\n"
            "form, with the field names of grading.proto, for example:\n"
            "  {\"event_id\": \"e1\", \"marketplace\": \"tmon\", \"seller_id\": \"S1\",\n"
            "   \"occurred_at\": \"2026-10-05T09:30:00+09:00\",\n"
            "   \"order_paid\": {\"order_id\": \"o1\", \"amount\": 15000, \"currency\": \"KRW\"}}\n"
            "Times are RFC 3339; enums by name (\"fault\": \"FAULT_SELLER\"); int64 as a number or string.\n"
            "\n"
            "All files are checked first: a bad line is reported as FILE:LINE: message and\n"
            "then nothing at all is sent (exit 1). The events go out in calls of at most\n"
            "10,000 events (and 16 MiB). Each call is atomic; a larger input takes several\n"
            "calls, and if one fails those before it stay stored. Events already stored are\n"
            "counted as duplicates, so running the same file again is always safe.\n"
            "An event whose event_id was stored before with other content is a conflict:\n"
            "it is not applied, and its FILE:LINE is reported on stderr.\n"
            "\n"
            "Prints accepted, duplicates, conflicts and the number of calls (--json: an\n"
            "object with events, accepted, duplicates, conflicts, calls).\n",
    .run = run_record,
};
