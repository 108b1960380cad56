/* End-to-end test support for the admin HTTP server (issue 10): GET on
 * the server's admin port, values of /metrics series, the server log. */
#ifndef E2E_ADMIN_H
#define E2E_ADMIN_H

#include <stdbool.h>
#include <stdint.h>

#include "testsrv.h"

#define E2E_ADMIN_TIMEOUT_MS 10000

/* GET path on s's admin port; returns the HTTP status, *body the body
 * (malloc'd). Fails the test when the request cannot be made. */
int e2e_admin_get(const e2e_server_t *s, const char *path, char **body);

/* The value of the series written exactly as `series` (name and labels)
 * in a /metrics text, or -1 when absent. No asserts. */
double e2e_series(const char *metrics, const char *series);

/* GET /metrics and the value of one series (-1 when absent). */
double e2e_scrape(const e2e_server_t *s, const char *series);

/* Polls GET path until it answers status with needle in the body, at most
 * timeout_ms. Returns whether it did. No asserts beyond e2e_admin_get's. */
bool e2e_admin_wait(const e2e_server_t *s, const char *path, int status, const char *needle, int64_t timeout_ms);

/* The server's log so far (malloc'd, "" when none). */
char *e2e_server_log(const e2e_server_t *s);

/* Polls the server log until it contains needle, at most timeout_ms. */
bool e2e_log_wait(const e2e_server_t *s, const char *needle, int64_t timeout_ms);

#endif
