/* End-to-end: gradectl against the real gradingd.
 *
 * - record: a file with a bad line 3 fails (exit 1), names line 3 and sends
 *   nothing, whether the line is bad JSON, a field the proto lacks, or an
 *   event the server rejects (then the whole call is refused); a good file
 *   is recorded, and again is all duplicates (table and --json);
 * - metrics SELLER: the table (one row per metric, a column per window)
 *   and --json carry what the server counted;
 * - health: exit 0 and SERVING while up, nonzero once the server is gone.
 * The server is checked through the library client, never through gradectl
 * itself, so a gradectl bug cannot hide a server bug or the reverse. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "testsrv.h"

#define AS_OF "2026-10-20T00:00:00Z"

/* Four good events for seller cli-good, with a comment and a blank line:
 * two orders (one shipped on time with tracking) and a review; times in
 * UTC and with an offset, an int64 as a number and as a string. */
static const char *good_file(char *buf, size_t len)
{
    snprintf(buf, len, "%s",
             "# events for gradectl's test\n"
             "{\"event_id\": \"cli-g1\", \"seller_id\": \"cli-good\", \"occurred_at\": \"2026-10-05T01:00:00Z\", "
             "\"order_paid\": {\"order_id\": \"o1\", \"product_id\": \"p1\", \"amount\": 15000, \"currency\": \"KRW\", "
             "\"ship_within_days\": 2}}\n"
             "\n"
             "{\"event_id\": \"cli-g2\", \"marketplace\": \"testmart\", \"seller_id\": \"cli-good\", "
             "\"occurred_at\": \"2026-10-06T10:00:00+09:00\", \"order_shipped\": {\"order_id\": \"o1\", "
             "\"tracking_valid\": true}}\n"
             "{\"event_id\": \"cli-g3\", \"seller_id\": \"cli-good\", \"occurred_at\": \"2026-10-07T01:00:00Z\", "
             "\"order_paid\": {\"order_id\": \"o2\", \"product_id\": \"p2\", \"amount\": \"2500\", \"currency\": \"KRW\"}}\n"
             "{\"event_id\": \"cli-g4\", \"seller_id\": \"cli-good\", \"occurred_at\": \"2026-10-08T01:00:00Z\", "
             "\"buyer_review\": {\"order_id\": \"o1\", \"rating\": 4, \"recommendation\": \"RECOMMENDATION_RECOMMEND\"}}\n");
    return buf;
}
#define GOOD_EVENTS 4

/* Two good lines for seller, then line 3 as given. */
static void write_bad_line3(e2e_server_t *s, const char *name, const char *seller, const char *line3, char *path)
{
    char text[2048];
    snprintf(text, sizeof text,
             "{\"event_id\": \"%s-1\", \"seller_id\": \"%s\", \"occurred_at\": \"2026-10-05T01:00:00Z\", "
             "\"order_paid\": {\"order_id\": \"o1\", \"product_id\": \"p1\", \"amount\": 1000, \"currency\": \"KRW\"}}\n"
             "{\"event_id\": \"%s-2\", \"seller_id\": \"%s\", \"occurred_at\": \"2026-10-06T01:00:00Z\", "
             "\"order_paid\": {\"order_id\": \"o2\", \"product_id\": \"p1\", \"amount\": 2000, \"currency\": \"KRW\"}}\n"
             "%s\n"
             "{\"event_id\": \"%s-4\", \"seller_id\": \"%s\", \"occurred_at\": \"2026-10-08T01:00:00Z\", "
             "\"order_paid\": {\"order_id\": \"o4\", \"product_id\": \"p1\", \"amount\": 4000, \"currency\": \"KRW\"}}\n",
             seller, seller, seller, seller, line3, seller, seller);
    e2e_write_file(s->dir, name, text, path);
}

static void assert_nothing_stored(e2e_server_t *s, const char *seller)
{
    Grading__V1__SellerMetrics *m = e2e_metrics(s->client, "testmart", seller, AS_OF);
    e2e_assert_windows(m, "orders", 0, 0, 0, 0);
    e2e_assert_windows(m, "gmv", 0, 0, 0, 0);
    e2e_assert_windows(m, "reviews", 0, 0, 0, 0);
    e2e_metrics_free(m);
}

/* gradectl record on a file whose line 3 is bad: exit 1, line 3 named,
 * nothing on stdout, nothing stored. */
static void check_bad_line3(e2e_server_t *s, const char *name, const char *seller, const char *line3,
                            const char *const *needles)
{
    char path[E2E_PATH_MAX], where[E2E_PATH_MAX + 8];
    write_bad_line3(s, name, seller, line3, path);
    e2e_run_t r;
    e2e_gradectl(s, &r, "record", path, NULL);
    if (!r.exited || r.code != 1)
        fail_msg("gradectl record %s: expected exit code 1, got %s %d; stderr:\n%s", name,
                 r.exited ? "exit" : "signal", r.exited ? r.code : r.signal, r.err);
    snprintf(where, sizeof where, "%s:3", path);
    e2e_assert_contains(r.err, where);
    for (size_t i = 0; needles[i]; i++) e2e_assert_contains(r.err, needles[i]);
    assert_string_equal(r.out, "");
    e2e_run_destroy(&r);
    assert_nothing_stored(s, seller);
}

static void test_record_bad_json_line3_sends_nothing(void **state)
{
    check_bad_line3(*state, "badjson.jsonl", "cli-bad1",
                    "{\"event_id\": \"cli-bad1-3\", \"seller_id\": \"cli-bad1\", \"occurred_at\": ",
                    (const char *[]){"nothing was sent", NULL});
}

static void test_record_bad_value_line3_sends_nothing(void **state)
{
    check_bad_line3(*state, "badvalue.jsonl", "cli-bad2",
                    "{\"event_id\": \"cli-bad2-3\", \"seller_id\": \"cli-bad2\", \"occurred_at\": "
                    "\"2026-10-07T01:00:00Z\", \"order_paid\": {\"order_id\": \"o3\", \"product_id\": \"p1\", "
                    "\"amount\": \"lots\", \"currency\": \"KRW\"}}",
                    (const char *[]){"order_paid.amount", "nothing was sent", NULL});
}

static void test_record_unknown_field_line3_sends_nothing(void **state)
{
    check_bad_line3(*state, "badfield.jsonl", "cli-bad3",
                    "{\"event_id\": \"cli-bad3-3\", \"seller_id\": \"cli-bad3\", \"occurred_at\": "
                    "\"2026-10-07T01:00:00Z\", \"order_payed\": {\"order_id\": \"o3\"}}",
                    (const char *[]){"order_payed", "nothing was sent", NULL});
}

static void test_record_server_rejects_line3_stores_nothing(void **state)
{
    /* valid JSON and proto, but a rating of 6: the server refuses the call,
     * gradectl traces events[2] back to line 3 */
    check_bad_line3(*state, "badrating.jsonl", "cli-bad4",
                    "{\"event_id\": \"cli-bad4-3\", \"seller_id\": \"cli-bad4\", \"occurred_at\": "
                    "\"2026-10-07T01:00:00Z\", \"buyer_review\": {\"order_id\": \"o1\", \"rating\": 6}}",
                    (const char *[]){"INVALID_ARGUMENT", "events[2].buyer_review.rating", NULL});
}

/* The value of the "accepted"/"duplicates"/"calls" row of record's table. */
static long table_count(const char *out, const char *row)
{
    size_t n = strlen(row);
    for (const char *line = out; line && *line;) {
        if (strncmp(line, row, n) == 0 && (line[n] == ' ' || line[n] == '\t')) return strtol(line + n, NULL, 10);
        line = strchr(line, '\n');
        if (line) line++;
    }
    fail_msg("no \"%s\" row in:\n%s", row, out);
    return -1;
}

static json_t *parse_json(const char *text)
{
    json_error_t err;
    json_t *j = json_loads(text, 0, &err);
    if (!j) fail_msg("not JSON (%s at line %d):\n%s", err.text, err.line, text);
    return j;
}

static void record_good(e2e_server_t *s, char *path)
{
    char text[4096];
    e2e_write_file(s->dir, "good.jsonl", good_file(text, sizeof text), path);
    e2e_run_t r;
    e2e_gradectl(s, &r, "record", path, NULL);
    if (!r.exited || r.code != 0) fail_msg("gradectl record good.jsonl: exit %d; stderr:\n%s", r.code, r.err);
    assert_int_equal(table_count(r.out, "accepted"), GOOD_EVENTS);
    assert_int_equal(table_count(r.out, "duplicates"), 0);
    assert_int_equal(table_count(r.out, "calls"), 1);
    e2e_run_destroy(&r);
}

static void test_record_good_file(void **state)
{
    e2e_server_t *s = *state;
    char path[E2E_PATH_MAX];
    record_good(s, path);

    Grading__V1__SellerMetrics *m = e2e_metrics(s->client, "testmart", "cli-good", AS_OF);
    e2e_assert_windows(m, "orders", 2, 2, 2, 2);
    e2e_assert_windows(m, "gmv", 17500, 17500, 17500, 17500);
    e2e_assert_windows(m, "shipped", 1, 1, 1, 1);
    e2e_assert_windows(m, "shipped_on_time", 1, 1, 1, 1);
    e2e_assert_windows(m, "shipped_tracking_valid", 1, 1, 1, 1);
    e2e_assert_windows(m, "reviews", 1, 1, 1, 1);
    e2e_assert_windows(m, "rating_sum", 4, 4, 4, 4);
    e2e_assert_windows(m, "recommend", 1, 1, 1, 1);
    e2e_metrics_free(m);

    /* again, for a script: all duplicates, nothing changes */
    e2e_run_t r;
    e2e_gradectl(s, &r, "--json", "record", path, NULL);
    if (!r.exited || r.code != 0) fail_msg("gradectl --json record: exit %d; stderr:\n%s", r.code, r.err);
    json_t *j = parse_json(r.out);
    assert_int_equal(json_integer_value(json_object_get(j, "events")), GOOD_EVENTS);
    assert_int_equal(json_integer_value(json_object_get(j, "accepted")), 0);
    assert_int_equal(json_integer_value(json_object_get(j, "duplicates")), GOOD_EVENTS);
    assert_int_equal(json_integer_value(json_object_get(j, "calls")), 1);
    json_decref(j);
    e2e_run_destroy(&r);
    m = e2e_metrics(s->client, "testmart", "cli-good", AS_OF);
    e2e_assert_windows(m, "orders", 2, 2, 2, 2);
    e2e_assert_windows(m, "gmv", 17500, 17500, 17500, 17500);
    e2e_metrics_free(m);
}

/* The cells of the table row whose first cell is name (at most max). */
static size_t table_row(const char *out, const char *name, char cells[][64], size_t max)
{
    char *copy = strdup(out);
    assert_non_null(copy);
    size_t n = 0;
    char *save_line = NULL;
    for (char *line = strtok_r(copy, "\n", &save_line); line; line = strtok_r(NULL, "\n", &save_line)) {
        char *save = NULL;
        char *first = strtok_r(line, " ", &save);
        if (!first || strcmp(first, name) != 0) continue;
        snprintf(cells[n++], 64, "%s", first);
        for (char *c = strtok_r(NULL, " ", &save); c && n < max; c = strtok_r(NULL, " ", &save))
            snprintf(cells[n++], 64, "%s", c);
        break;
    }
    free(copy);
    if (n == 0) fail_msg("no row \"%s\" in the table:\n%s", name, out);
    return n;
}

static void assert_row(const char *out, const char *name, const char *d30, const char *d90, const char *d365,
                       const char *month)
{
    char cells[8][64];
    size_t n = table_row(out, name, cells, 8);
    if (n != 5) fail_msg("row %s has %zu cells, expected 5:\n%s", name, n, out);
    assert_string_equal(cells[1], d30);
    assert_string_equal(cells[2], d90);
    assert_string_equal(cells[3], d365);
    assert_string_equal(cells[4], month);
}

static void test_metrics_table_and_json(void **state)
{
    e2e_server_t *s = *state;
    char path[E2E_PATH_MAX];
    record_good(s, path);

    e2e_run_t r;
    e2e_gradectl(s, &r, "metrics", "cli-good", "--as-of", AS_OF, NULL);
    if (!r.exited || r.code != 0) fail_msg("gradectl metrics: exit %d; stderr:\n%s", r.code, r.err);
    e2e_assert_contains(r.out, "seller cli-good");
    e2e_assert_contains(r.out, "marketplace testmart");
    e2e_assert_contains(r.out, "as of 2026-10-20T00:00:00Z");
    assert_row(r.out, "metric", "30d", "90d", "365d", "month");
    assert_row(r.out, "orders", "2", "2", "2", "2");
    assert_row(r.out, "gmv", "17500", "17500", "17500", "17500");
    assert_row(r.out, "shipped_on_time", "1", "1", "1", "1");
    assert_row(r.out, "rating_sum", "4", "4", "4", "4");
    assert_row(r.out, "cancels", "0", "0", "0", "0");
    e2e_run_destroy(&r);

    /* a month later: the 30 days and November are empty */
    e2e_gradectl(s, &r, "metrics", "cli-good", "--as-of", "2026-11-25T00:00:00+09:00", NULL);
    if (!r.exited || r.code != 0) fail_msg("gradectl metrics: exit %d; stderr:\n%s", r.code, r.err);
    assert_row(r.out, "orders", "0", "2", "2", "0");
    e2e_run_destroy(&r);

    e2e_gradectl(s, &r, "--json", "metrics", "cli-good", "--as-of", AS_OF, NULL);
    if (!r.exited || r.code != 0) fail_msg("gradectl --json metrics: exit %d; stderr:\n%s", r.code, r.err);
    json_t *j = parse_json(r.out);
    assert_string_equal(json_string_value(json_object_get(j, "seller_id")), "cli-good");
    assert_string_equal(json_string_value(json_object_get(j, "marketplace")), "testmart");
    assert_string_equal(json_string_value(json_object_get(j, "as_of")), AS_OF);
    json_t *metrics = json_object_get(j, "metrics");
    assert_true(json_is_array(metrics));
    int seen = 0;
    size_t i;
    json_t *v;
    json_array_foreach(metrics, i, v) {
        const char *name = json_string_value(json_object_get(v, "name"));
        const char *window = json_string_value(json_object_get(v, "window"));
        assert_non_null(name);
        assert_non_null(window);
        double value = json_number_value(json_object_get(v, "value"));
        if (strcmp(name, "orders") == 0) {
            assert_true(value == 2.0);
            seen++;
        } else if (strcmp(name, "gmv") == 0) {
            assert_true(value == 17500.0);
            seen++;
        }
    }
    assert_int_equal(seen, 8);   /* two metrics in four windows */
    json_decref(j);
    e2e_run_destroy(&r);

    /* the same seller id in another marketplace has nothing */
    e2e_gradectl(s, &r, "metrics", "cli-good", "--marketplace", "nymart", "--as-of", AS_OF, NULL);
    if (!r.exited || r.code != 0) fail_msg("gradectl metrics --marketplace nymart: exit %d; stderr:\n%s", r.code, r.err);
    e2e_assert_contains(r.out, "marketplace nymart");
    assert_row(r.out, "orders", "0", "0", "0", "0");
    e2e_run_destroy(&r);
}

static void test_metrics_errors(void **state)
{
    e2e_server_t *s = *state;
    e2e_run_t r;
    e2e_gradectl(s, &r, "metrics", "someone", "--marketplace", "nosuchmart", NULL);
    assert_true(r.exited);
    assert_int_equal(r.code, 1);
    e2e_assert_contains(r.err, "NOT_FOUND");
    e2e_assert_contains(r.err, "nosuchmart");
    e2e_run_destroy(&r);

    e2e_gradectl(s, &r, "metrics", NULL);   /* no SELLER: usage */
    assert_true(r.exited);
    assert_int_equal(r.code, 2);
    e2e_assert_contains(r.err, "usage");
    e2e_run_destroy(&r);
}

static void test_health(void **state)
{
    e2e_server_t *s = *state;
    e2e_run_t r;
    e2e_gradectl(s, &r, "health", NULL);
    if (!r.exited || r.code != 0) fail_msg("gradectl health: exit %d; stderr:\n%s", r.code, r.err);
    assert_string_equal(r.out, "SERVING\n");
    e2e_run_destroy(&r);

    e2e_gradectl(s, &r, "--json", "health", NULL);
    if (!r.exited || r.code != 0) fail_msg("gradectl --json health: exit %d; stderr:\n%s", r.code, r.err);
    json_t *j = parse_json(r.out);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "SERVING");
    json_decref(j);
    e2e_run_destroy(&r);

    /* once the server is gone: a failure, and what failed; exit 3 says
     * "could not reach the server", apart from 1 "the server said no" */
    e2e_server_stop_ok(s);
    e2e_gradectl(s, &r, "--timeout-ms", "3000", "health", NULL);
    assert_true(r.exited);
    if (r.code == 0) fail_msg("gradectl health with no server: exit 0; stdout:\n%s", r.out);
    assert_int_equal(r.code, 3);
    e2e_assert_contains(r.err, "UNAVAILABLE");
    e2e_run_destroy(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_record_bad_json_line3_sends_nothing, e2e_setup_server,
                                        e2e_teardown_server),
        cmocka_unit_test_setup_teardown(test_record_bad_value_line3_sends_nothing, e2e_setup_server,
                                        e2e_teardown_server),
        cmocka_unit_test_setup_teardown(test_record_unknown_field_line3_sends_nothing, e2e_setup_server,
                                        e2e_teardown_server),
        cmocka_unit_test_setup_teardown(test_record_server_rejects_line3_stores_nothing, e2e_setup_server,
                                        e2e_teardown_server),
        cmocka_unit_test_setup_teardown(test_record_good_file, e2e_setup_server, e2e_teardown_server),
        cmocka_unit_test_setup_teardown(test_metrics_table_and_json, e2e_setup_server, e2e_teardown_server),
        cmocka_unit_test_setup_teardown(test_metrics_errors, e2e_setup_server, e2e_teardown_server),
        cmocka_unit_test_setup_teardown(test_health, e2e_setup_server, e2e_teardown_server),
    };
    return cmocka_run_group_tests_name("e2e gradectl", tests, NULL, NULL);
}
