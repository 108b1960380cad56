/* Shared by the admin server's files. Private to src/admin. */
#ifndef GRADING_ADMIN_INTERNAL_H
#define GRADING_ADMIN_INTERNAL_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>

#include "grading/admin.h"

typedef struct admin_probe admin_probe_t;

struct grading_admin {
    grading_admin_options_t o;
    struct MHD_Daemon *daemon;
    pthread_mutex_t probe_mu;
    admin_probe_t *probe;   /* under probe_mu: the writer probe in flight */
    pthread_mutex_t copy_mu;
    pthread_cond_t copy_cv;
    int copies;             /* under copy_mu: backup threads running */
};

/* Each handler queues its response on conn and returns MHD's result. */
enum MHD_Result admin_metrics(grading_admin_t *a, struct MHD_Connection *conn);
enum MHD_Result admin_healthz(grading_admin_t *a, struct MHD_Connection *conn);
enum MHD_Result admin_readyz(grading_admin_t *a, struct MHD_Connection *conn);
enum MHD_Result admin_backup(grading_admin_t *a, struct MHD_Connection *conn);

/* A text/plain response of a malloc'd or static buffer. */
enum MHD_Result admin_reply_text(struct MHD_Connection *conn, unsigned status, const char *text);

/* Drops the writer probe reference (at stop). */
void admin_probe_release(grading_admin_t *a);

/* grading_lmdb_db_used_bytes{db=...} (admin_usage.c, issue 18). */
void admin_write_store_usage(grading_admin_t *a, FILE *out);

#endif
