/* What tests may ask the writer beyond ingest.h. */
#ifndef GRADING_INGEST_INTERNAL_H
#define GRADING_INGEST_INTERNAL_H

#include <stdbool.h>

#include "grading/ingest.h"

/* True once grading_ingest_stop() began: a submit now fails at once with
 * GRADING_ESHUTDOWN. Lets a test order itself after stop without sleeping. */
bool grading_ingest_stopping(grading_ingest_t *in);

#endif
