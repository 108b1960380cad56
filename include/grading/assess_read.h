/* A seller's assessment read through a store reader in one call (the
 * query handlers' store access: rpc stays transport only). No gRPC. */
#ifndef GRADING_ASSESS_READ_H
#define GRADING_ASSESS_READ_H

#include "grading/assess.h"

/* Opens a read transaction on rd, assesses seller of mp as of as_of_ms,
 * closes it. *out is the caller's (grading_assess_free). Errors:
 * GRADING_ENOMEM; the store's ("cannot read the store"); those of
 * grading_assess_seller (*e says which). */
grading_err_t grading_assess_read_new(grading_store_reader_t *rd, const grading_marketplace_t *mp, const char *seller,
                                      int64_t as_of_ms, grading_assess_t **out, grading_error_t *e);

#endif
