/* The server's per-call log policy: failed calls are always logged (warn,
 * error for INTERNAL/UNKNOWN/DATA_LOSS); successful calls only with the
 * access log on, one in 1/sample_rate of them. */
#ifndef GRADING_ACCESS_LOG_H
#define GRADING_ACCESS_LOG_H

#include <stdbool.h>

/* enabled false: successful calls are not logged. sample_rate 0..1. */
void grading_access_log_configure(bool enabled, double sample_rate);

#endif
