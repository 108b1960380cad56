/* See admin.h. */
#include "admin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grading/http_get.h"

#define POLL_MS 50

int e2e_admin_get(const e2e_server_t *s, const char *path, char **body)
{
    char addr[64];
    int status = 0;
    grading_error_t e = {0};
    if (s->admin_port <= 0) fail_msg("the server has no admin port");
    snprintf(addr, sizeof addr, "127.0.0.1:%d", s->admin_port);
    if (grading_http_get(addr, path, E2E_ADMIN_TIMEOUT_MS, &status, body, &e))
        fail_msg("GET %s from %s: %s", path, addr, e.message);
    return status;
}

double e2e_series(const char *metrics, const char *series)
{
    size_t n = strlen(series);
    for (const char *p = metrics; p && *p;) {
        if (strncmp(p, series, n) == 0 && p[n] == ' ') return strtod(p + n + 1, NULL);
        p = strchr(p, '\n');
        if (p) p++;
    }
    return -1;
}

double e2e_scrape(const e2e_server_t *s, const char *series)
{
    char *body = NULL;
    int status = e2e_admin_get(s, "/metrics", &body);
    if (status != 200) fail_msg("GET /metrics: HTTP %d: %s", status, body);
    double v = e2e_series(body, series);
    free(body);
    return v;
}

bool e2e_admin_wait(const e2e_server_t *s, const char *path, int status, const char *needle, int64_t timeout_ms)
{
    int64_t deadline = e2e_now_ms() + timeout_ms;
    do {
        char *body = NULL;
        int got = e2e_admin_get(s, path, &body);
        bool ok = got == status && strstr(body, needle);
        free(body);
        if (ok) return true;
        e2e_sleep_ms(POLL_MS);
    } while (e2e_now_ms() < deadline);
    return false;
}

char *e2e_server_log(const e2e_server_t *s)
{
    FILE *f = fopen(s->log_path, "rb");
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    if (!out) fail_msg("out of memory");
    if (f) {
        char chunk[8192];
        size_t got;
        while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) fwrite(chunk, 1, got, out);
        fclose(f);
    }
    fclose(out);
    return buf;
}

bool e2e_log_wait(const e2e_server_t *s, const char *needle, int64_t timeout_ms)
{
    int64_t deadline = e2e_now_ms() + timeout_ms;
    do {
        char *log = e2e_server_log(s);
        bool ok = strstr(log, needle) != NULL;
        free(log);
        if (ok) return true;
        e2e_sleep_ms(POLL_MS);
    } while (e2e_now_ms() < deadline);
    return false;
}
