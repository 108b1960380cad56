/* gradingd's command line. */
#ifndef GRADING_APP_FLAGS_H
#define GRADING_APP_FLAGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct {
    const char *listen;
    const char *data_dir;
    const char *policy;
    const char *port_file;
    int threads;
    uint64_t map_size;
    uint64_t max_map_size;
    int64_t drain_ms;
    int64_t shutdown_grace_ms;
    int64_t refresh_s;      /* re-derive stored answers this often; 0: only on reload */
    bool watch_policy;      /* reload when the policy file changes */
    int64_t sweep_ms;       /* how often the due index is swept; 0: never */
    bool test_clock;        /* tests: time starts at test_clock_ms */
    int64_t test_clock_ms;
    double test_clock_rate; /* test milliseconds per real millisecond */
    bool help;
    bool version;
    /* security (issue 9) */
    const char *tls_cert, *tls_key, *tls_client_ca;
    bool allow_insecure;          /* plaintext on a non-loopback --listen */
    const char *authz;            /* per-caller authorization file */
    bool trust_proxy_identity;    /* identity headers from a loopback edge proxy */
    int64_t audit_retention_days; /* audit entries older than this are pruned; 0: kept */
    int64_t max_future_skew_ms;  /* occurred_at at most this ahead of the clock */
    int64_t orphan_max_age_ms;   /* unpaid orders' held events are dropped after this */
    /* issue 10: operations */
    const char *admin_listen;        /* NULL: "off" */
    const char *admin_port_file;
    int64_t liveness_timeout_ms;
    int log_format;                  /* grading_log_format_t */
    int log_level;                   /* grading_log_level_t */
    bool access_log;
    double access_log_sample;
    const char *restore;             /* --restore FILE: install a backup and exit */
    bool admin_remote_backup;        /* /backup for non-loopback peers too */
    /* issue 18: retention */
    int64_t retention_margin_ms;     /* days kept beyond the policy's longest look-back */
    int64_t dedup_horizon_ms;        /* event ids kept this long; older live events refused; 0: forever */
    int64_t prune_interval_ms;       /* a retention pass this often; 0: never */
    int64_t keep_periods;            /* newest published periods kept per kind; 0: all */
    /* Kafka replicas (issue 11; flags_kafka.c): with brokers and topic the
     * topic is the source of truth and this replica a view of it. */
    const char *kafka_brokers, *kafka_topic, *kafka_dlq_topic;
    const char *kafka_config[32];    /* KEY=VALUE for librdkafka */
    size_t nkafka_config;
    int64_t ready_max_lag;           /* /readyz: at most this many messages behind */
    /* issue 14: the change stream (0: the defaults) */
    uint64_t watch_max_lag;
    int64_t change_log_max_age_ms;
    uint64_t change_log_max_entries;
    const char *shadow_policy;       /* --shadow-policy FILE: evaluated beside the live policy */
} app_flags_t;

/* Parses argv into *f (defaults first). On a bad flag writes a one-line
 * reason into err and returns false. */
bool app_flags_parse(int argc, char **argv, app_flags_t *f, char *err, size_t errlen);

void app_flags_usage(FILE *out);

/* The operations flags (flags_ops.c), by their order after --admin-listen:
 * admin-listen, admin-port-file, liveness-timeout-ms, log-format,
 * log-level, access-log, access-log-sample, restore. */
bool app_flags_parse_ops(int which, const char *arg, app_flags_t *f, char *err, size_t errlen);

/* The retention flags (flags_retention.c), by their order after
 * --retention-margin: retention-margin, dedup-horizon, prune-interval,
 * keep-periods. */
bool app_flags_parse_retention(int which, const char *arg, app_flags_t *f, char *err, size_t errlen);
void app_flags_retention_defaults(app_flags_t *f);
void app_flags_retention_usage(FILE *out);
/* The Kafka flags (flags_kafka.c), which-th of --kafka-brokers,
 * --kafka-topic, --kafka-config, --kafka-dlq-topic, --ready-max-lag; and
 * the check that they go together. */
bool app_flags_parse_kafka(int which, const char *arg, app_flags_t *f, char *err, size_t errlen);
bool app_flags_check_kafka(const app_flags_t *f, char *err, size_t errlen);
/* The change-stream and shadow-policy flags (flags_watch.c). */
enum { APP_FLAG_WATCH_MAX_LAG, APP_FLAG_CHANGE_LOG_MAX_AGE, APP_FLAG_CHANGE_LOG_MAX_ENTRIES, APP_FLAG_SHADOW_POLICY };
bool app_flags_parse_watch(int which, const char *arg, app_flags_t *f, char *err, size_t errlen);
void app_flags_usage_watch(FILE *out);

#endif
