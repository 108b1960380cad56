/* Flag parsing for gradingd. Deployment scripts rely on these names. */
#include "flags.h"
#include "grading/rfc3339.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "grading/loopback.h"
#include "grading/admin.h"
#include "grading/log.h"
#include "grading/server.h"
#include "grading/store.h"

void app_flags_usage(FILE *out)
{
    fprintf(out,
            "usage: gradingd [flags]\n"
            "  --listen ADDR            gRPC address (default %s)\n"
            "  --data-dir DIR           LMDB directory, created if missing (default ./data)\n"
            "  --policy FILE            policy YAML (default: $GRADING_POLICY)\n"
            "  --threads N              completion-queue threads, 1..%d (default: CPUs)\n"
            "  --map-size BYTES         initial LMDB map size, K/M/G suffixes (default 256M)\n"
            "  --max-map-size BYTES     the map grows up to this (default 64G)\n"
            "  --port-file FILE         write the bound port here once serving\n"
            "  --drain-ms MS            on SIGTERM, answer health NOT_SERVING this long first (default 0)\n"
            "  --shutdown-grace-ms MS   then let calls in flight finish this long (default 10000)\n"
            "  --refresh-s S            re-derive every seller's stored boost this often (default 3600, 0 off)\n"
            "  --no-watch-policy        reload on SIGHUP only, not when the policy (or authz) file changes\n"
            "  --sweep-ms MS            look for orders that reached a deadline stage this often (default 60000, 0 off)\n"
            "  --test-clock TIME        tests only: the clock starts at TIME (RFC 3339) instead of now\n"
            "  --test-clock-rate R      tests only: R clock milliseconds pass per real millisecond (default 1)\n"
            "  --tls-cert FILE          serve TLS with this PEM certificate (chain); re-read on change\n"
            "  --tls-key FILE           its PEM private key\n"
            "  --tls-client-ca FILE     require client certificates signed by this CA (mTLS)\n"
            "  --allow-insecure         serve plaintext on a non-loopback --listen\n"
            "  --authz FILE             per-caller authorization (YAML); reloaded like the policy\n"
            "  --trust-proxy-identity   take identity from x-grading-client-cn/-uri-san of a loopback peer\n"
            "  --audit-retention-days N prune audit entries older than N days (default 90, 0 keeps all)\n"
            "  --max-future-skew DUR    refuse events dated more than DUR ahead of the clock (default 1h;\n"
            "                           DUR is a number with s, m, h or d)\n"
            "  --orphan-max-age DUR     drop events of orders whose payment never came after DUR (default 30d,\n"
            "                           at most 365d)\n"
            "  --admin-listen ADDR      HTTP /metrics, /healthz, /readyz, /backup (default %s; off disables)\n"
            "  --admin-port-file FILE   write the admin server's bound port here\n"
            "  --liveness-timeout-ms MS /healthz fails when the loop or the writer is stuck this long (default %d)\n"
            "  --log-format text|json   log line format (default text)\n"
            "  --log-level LEVEL        debug, info, warn or error (default info)\n"
            "  --access-log             log successful calls too (failed calls are always logged)\n"
            "  --access-log-sample R    with --access-log, log this fraction of them, 0..1 (default 1)\n"
            "  --admin-remote-backup    serve /backup to non-loopback peers too (a backup job)\n"
            "  --restore FILE           install a backup (gradectl backup) as --data-dir's store, then exit\n"
            "  --kafka-brokers LIST     Kafka mode: consume (and produce RecordEvents to) this cluster's topic\n"
            "  --kafka-topic NAME       the events topic (with --kafka-brokers)\n"
            "  --kafka-config KEY=VALUE librdkafka setting (SASL, TLS, ...); repeatable, at most 32\n"
            "  --kafka-dlq-topic NAME   dead letters go here (default: the topic's name + \".dlq\")\n"
            "  --ready-max-lag N        Kafka mode: /readyz fails while more than N messages behind (default 1000)\n"
            "  --version                print the version\n"
            "  --help                   this text\n"
            "signals: SIGTERM/SIGINT drain and stop; SIGHUP reloads the policy, the authz file and TLS files\n",
            GRADING_SERVER_DEFAULT_LISTEN, GRADING_SERVER_MAX_THREADS, GRADING_ADMIN_DEFAULT_LISTEN,
            GRADING_ADMIN_DEFAULT_LIVENESS_MS);
    app_flags_retention_usage(out);
    app_flags_usage_watch(out);
}

static bool parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    if (!s[0] || s[0] == '-') return false;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s) return false;
    uint64_t mul = 1;
    if (*end == 'K' || *end == 'k') mul = UINT64_C(1) << 10, end++;
    else if (*end == 'M' || *end == 'm') mul = UINT64_C(1) << 20, end++;
    else if (*end == 'G' || *end == 'g') mul = UINT64_C(1) << 30, end++;
    else if (*end == 'T' || *end == 't') mul = UINT64_C(1) << 40, end++;
    if (*end) return false;
    if (v > UINT64_MAX / mul) return false;
    *out = (uint64_t)v * mul;
    return true;
}

static bool parse_int(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) return false;
    *out = v;
    return true;
}

/* TLS flags come in pairs; plaintext only where no one else can listen in. */
static bool app_flags_check_security(const app_flags_t *f, char *err, size_t errlen)
{
    if ((f->tls_cert != NULL) != (f->tls_key != NULL)) {
        snprintf(err, errlen, "%s needs %s too", f->tls_cert ? "--tls-cert" : "--tls-key",
                 f->tls_cert ? "--tls-key" : "--tls-cert");
        return false;
    }
    if (f->tls_client_ca && !f->tls_cert) {
        snprintf(err, errlen, "--tls-client-ca needs --tls-cert and --tls-key (the server's own certificate)");
        return false;
    }
    if (!f->tls_cert && !f->allow_insecure && !grading_addr_is_loopback(f->listen)) {
        snprintf(err, errlen,
                 "--listen %s is not a loopback address: give --tls-cert/--tls-key, or --allow-insecure to serve "
                 "plaintext there",
                 f->listen);
        return false;
    }
    if (f->authz && !f->authz[0]) {
        snprintf(err, errlen, "--authz must name a file");
        return false;
    }
    return true;
}

/* "90s", "15m", "1h", "30d" -> ms, at least 1 s and at most max_days. */
static bool parse_duration(const char *s, int64_t max_days, int64_t *out_ms)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || v <= 0) return false;
    int64_t unit;
    if (strcmp(end, "s") == 0) unit = 1000;
    else if (strcmp(end, "m") == 0) unit = 60000;
    else if (strcmp(end, "h") == 0) unit = 3600000;
    else if (strcmp(end, "d") == 0) unit = 86400000;
    else return false;
    if (v > max_days * 86400000 / unit) return false;
    *out_ms = (int64_t)v * unit;
    return true;
}

bool app_flags_parse(int argc, char **argv, app_flags_t *f, char *err, size_t errlen)
{
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    *f = (app_flags_t){
        .listen = GRADING_SERVER_DEFAULT_LISTEN,
        .data_dir = "./data",
        .policy = getenv("GRADING_POLICY"),
        .threads = ncpu < 1 ? 1 : ncpu > GRADING_SERVER_MAX_THREADS ? GRADING_SERVER_MAX_THREADS : (int)ncpu,
        .map_size = GRADING_STORE_DEFAULT_MAP_SIZE,
        .max_map_size = GRADING_STORE_DEFAULT_MAX_MAP_SIZE,
        .drain_ms = 0,
        .shutdown_grace_ms = 10000,
        .refresh_s = 3600,
        .watch_policy = true,
        .sweep_ms = 60000,
        .test_clock_rate = 1,
        .audit_retention_days = 90,
        .max_future_skew_ms = GRADING_DEFAULT_MAX_FUTURE_SKEW_MS,
        .orphan_max_age_ms = GRADING_DEFAULT_ORPHAN_MAX_AGE_MS,
        .admin_listen = GRADING_ADMIN_DEFAULT_LISTEN,
        .liveness_timeout_ms = GRADING_ADMIN_DEFAULT_LIVENESS_MS,
        .log_format = GRADING_LOG_TEXT,
        .log_level = GRADING_LOG_INFO,
        .access_log_sample = 1.0,
        .ready_max_lag = 1000,
    };
    app_flags_retention_defaults(f);
    enum { O_LISTEN = 1, O_DATA, O_POLICY, O_THREADS, O_MAP, O_MAXMAP, O_PORTFILE, O_DRAIN,
           O_GRACE, O_HELP, O_VERSION, O_REFRESH, O_NOWATCH, O_SWEEP, O_TCLOCK, O_TRATE,
           O_TLS_CERT, O_TLS_KEY, O_TLS_CA, O_INSECURE, O_AUTHZ, O_TRUST_PROXY, O_AUDIT_DAYS,
           O_FUTURE_SKEW = 100, O_ORPHAN_AGE };
    enum { O_ADMIN = 200, O_ADMIN_PORTFILE, O_LIVENESS, O_LOGFMT, O_LOGLEVEL, O_ACCESS, O_ACCESS_RATE, O_RESTORE,
           O_REMOTE_BACKUP };
    enum { O_RETENTION_MARGIN = 300, O_DEDUP_HORIZON, O_PRUNE_INTERVAL, O_KEEP_PERIODS };
    enum { O_KAFKA = 400, O_KAFKA_TOPIC, O_KAFKA_CONFIG, O_KAFKA_DLQ, O_READY_LAG };
    enum { O_WATCH = 500 };   /* + APP_FLAG_WATCH_* (flags_watch.c) */
    static const struct option opts[] = {
        {"listen", required_argument, NULL, O_LISTEN},
        {"data-dir", required_argument, NULL, O_DATA},
        {"policy", required_argument, NULL, O_POLICY},
        {"threads", required_argument, NULL, O_THREADS},
        {"map-size", required_argument, NULL, O_MAP},
        {"max-map-size", required_argument, NULL, O_MAXMAP},
        {"port-file", required_argument, NULL, O_PORTFILE},
        {"drain-ms", required_argument, NULL, O_DRAIN},
        {"shutdown-grace-ms", required_argument, NULL, O_GRACE},
        {"refresh-s", required_argument, NULL, O_REFRESH},
        {"no-watch-policy", no_argument, NULL, O_NOWATCH},
        {"sweep-ms", required_argument, NULL, O_SWEEP},
        {"test-clock", required_argument, NULL, O_TCLOCK},
        {"test-clock-rate", required_argument, NULL, O_TRATE},
        {"tls-cert", required_argument, NULL, O_TLS_CERT},
        {"tls-key", required_argument, NULL, O_TLS_KEY},
        {"tls-client-ca", required_argument, NULL, O_TLS_CA},
        {"allow-insecure", no_argument, NULL, O_INSECURE},
        {"authz", required_argument, NULL, O_AUTHZ},
        {"trust-proxy-identity", no_argument, NULL, O_TRUST_PROXY},
        {"audit-retention-days", required_argument, NULL, O_AUDIT_DAYS},
        {"max-future-skew", required_argument, NULL, O_FUTURE_SKEW},
        {"orphan-max-age", required_argument, NULL, O_ORPHAN_AGE},
        {"admin-listen", required_argument, NULL, O_ADMIN},
        {"admin-port-file", required_argument, NULL, O_ADMIN_PORTFILE},
        {"liveness-timeout-ms", required_argument, NULL, O_LIVENESS},
        {"log-format", required_argument, NULL, O_LOGFMT},
        {"log-level", required_argument, NULL, O_LOGLEVEL},
        {"access-log", no_argument, NULL, O_ACCESS},
        {"access-log-sample", required_argument, NULL, O_ACCESS_RATE},
        {"restore", required_argument, NULL, O_RESTORE},
        {"admin-remote-backup", no_argument, NULL, O_REMOTE_BACKUP},
        {"retention-margin", required_argument, NULL, O_RETENTION_MARGIN},
        {"dedup-horizon", required_argument, NULL, O_DEDUP_HORIZON},
        {"prune-interval", required_argument, NULL, O_PRUNE_INTERVAL},
        {"keep-periods", required_argument, NULL, O_KEEP_PERIODS},
        {"kafka-brokers", required_argument, NULL, O_KAFKA},
        {"kafka-topic", required_argument, NULL, O_KAFKA_TOPIC},
        {"kafka-config", required_argument, NULL, O_KAFKA_CONFIG},
        {"kafka-dlq-topic", required_argument, NULL, O_KAFKA_DLQ},
        {"ready-max-lag", required_argument, NULL, O_READY_LAG},
        {"watch-max-lag", required_argument, NULL, O_WATCH + APP_FLAG_WATCH_MAX_LAG},
        {"change-log-max-age", required_argument, NULL, O_WATCH + APP_FLAG_CHANGE_LOG_MAX_AGE},
        {"change-log-max-entries", required_argument, NULL, O_WATCH + APP_FLAG_CHANGE_LOG_MAX_ENTRIES},
        {"shadow-policy", required_argument, NULL, O_WATCH + APP_FLAG_SHADOW_POLICY},
        {"help", no_argument, NULL, O_HELP},
        {"version", no_argument, NULL, O_VERSION},
        {NULL, 0, NULL, 0},
    };
    opterr = 0;
    optind = 1;
    int c;
    int64_t v;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case O_LISTEN: f->listen = optarg; break;
        case O_DATA: f->data_dir = optarg; break;
        case O_POLICY: f->policy = optarg; break;
        case O_PORTFILE: f->port_file = optarg; break;
        case O_THREADS:
            if (!parse_int(optarg, 1, GRADING_SERVER_MAX_THREADS, &v)) {
                snprintf(err, errlen, "--threads must be 1..%d, got \"%s\"", GRADING_SERVER_MAX_THREADS, optarg);
                return false;
            }
            f->threads = (int)v;
            break;
        case O_MAP:
        case O_MAXMAP: {
            uint64_t b;
            if (!parse_u64(optarg, &b) || b < (UINT64_C(1) << 20)) {
                snprintf(err, errlen, "--%s must be a size of at least 1M (like 256M, 4G), got \"%s\"",
                         c == O_MAP ? "map-size" : "max-map-size", optarg);
                return false;
            }
            if (c == O_MAP) f->map_size = b;
            else f->max_map_size = b;
            break;
        }
        case O_DRAIN:
        case O_GRACE:
            if (!parse_int(optarg, 0, INT64_C(3600000), &v)) {
                snprintf(err, errlen, "--%s must be 0..3600000 milliseconds, got \"%s\"",
                         c == O_DRAIN ? "drain-ms" : "shutdown-grace-ms", optarg);
                return false;
            }
            if (c == O_DRAIN) f->drain_ms = v;
            else f->shutdown_grace_ms = v;
            break;
        case O_REFRESH:
            if (!parse_int(optarg, 0, INT64_C(86400) * 7, &f->refresh_s)) {
                snprintf(err, errlen, "--refresh-s must be 0..604800 seconds, got \"%s\"", optarg);
                return false;
            }
            break;
        case O_NOWATCH: f->watch_policy = false; break;
        case O_SWEEP:
            if (!parse_int(optarg, 0, INT64_C(86400000), &f->sweep_ms)) {
                snprintf(err, errlen, "--sweep-ms must be 0..86400000 milliseconds, got \"%s\"", optarg);
                return false;
            }
            break;
        case O_TCLOCK: {
            int64_t sec;
            int32_t ns;
            grading_error_t e = {0};
            if (grading_rfc3339_parse(optarg, &sec, &ns, &e)) {
                snprintf(err, errlen, "--test-clock must be an RFC 3339 time, got \"%s\" (%s)", optarg, e.message);
                return false;
            }
            f->test_clock = true;
            f->test_clock_ms = sec * 1000 + ns / 1000000;
            break;
        }
        case O_TRATE: {
            char *end;
            errno = 0;
            double v = strtod(optarg, &end);
            if (errno || end == optarg || *end || !(v > 0) || v > 1e9) {
                snprintf(err, errlen, "--test-clock-rate must be a number above 0, got \"%s\"", optarg);
                return false;
            }
            f->test_clock_rate = v;
            break;
        }
        case O_TLS_CERT: f->tls_cert = optarg; break;
        case O_TLS_KEY: f->tls_key = optarg; break;
        case O_TLS_CA: f->tls_client_ca = optarg; break;
        case O_INSECURE: f->allow_insecure = true; break;
        case O_AUTHZ: f->authz = optarg; break;
        case O_TRUST_PROXY: f->trust_proxy_identity = true; break;
        case O_AUDIT_DAYS:
            if (!parse_int(optarg, 0, 36500, &f->audit_retention_days)) {
                snprintf(err, errlen, "--audit-retention-days must be 0..36500 days, got \"%s\"", optarg);
                return false;
            }
            break;
        case O_FUTURE_SKEW:
        case O_ORPHAN_AGE:
        {
            /* pending orphans are reported over 365 days: none may be held longer */
            int64_t max_days = c == O_FUTURE_SKEW ? 3650 : 365;
            if (!parse_duration(optarg, max_days, c == O_FUTURE_SKEW ? &f->max_future_skew_ms : &f->orphan_max_age_ms)) {
                snprintf(err, errlen, "--%s must be a duration like 90s, 15m, 1h or 30d (at most %lldd), got \"%s\"",
                         c == O_FUTURE_SKEW ? "max-future-skew" : "orphan-max-age", (long long)max_days, optarg);
                return false;
            }
            break;
        }
        case O_ADMIN:
        case O_ADMIN_PORTFILE:
        case O_LIVENESS:
        case O_LOGFMT:
        case O_LOGLEVEL:
        case O_ACCESS:
        case O_ACCESS_RATE:
        case O_RESTORE:
        case O_REMOTE_BACKUP:
            if (!app_flags_parse_ops(c - O_ADMIN, optarg, f, err, errlen)) return false;
            break;
        case O_RETENTION_MARGIN:
        case O_DEDUP_HORIZON:
        case O_PRUNE_INTERVAL:
        case O_KEEP_PERIODS:
            if (!app_flags_parse_retention(c - O_RETENTION_MARGIN, optarg, f, err, errlen)) return false;
            break;
        case O_KAFKA:
        case O_KAFKA_TOPIC:
        case O_KAFKA_CONFIG:
        case O_KAFKA_DLQ:
        case O_READY_LAG:
            if (!app_flags_parse_kafka(c - O_KAFKA, optarg, f, err, errlen)) return false;
            break;
        case O_WATCH + APP_FLAG_WATCH_MAX_LAG:
        case O_WATCH + APP_FLAG_CHANGE_LOG_MAX_AGE:
        case O_WATCH + APP_FLAG_CHANGE_LOG_MAX_ENTRIES:
        case O_WATCH + APP_FLAG_SHADOW_POLICY:
            if (!app_flags_parse_watch(c - O_WATCH, optarg, f, err, errlen)) return false;
            break;
        case 'h':
        case O_HELP: f->help = true; break;
        case O_VERSION: f->version = true; break;
        case ':':
            snprintf(err, errlen, "%s needs a value", argv[optind - 1]);
            return false;
        default:
            snprintf(err, errlen, "unknown flag %s (see --help)", argv[optind - 1]);
            return false;
        }
    }
    if (optind < argc) {
        snprintf(err, errlen, "unexpected argument \"%s\" (see --help)", argv[optind]);
        return false;
    }
    if (f->help || f->version) return true;
    if (f->restore) return true;   /* needs only --data-dir */
    if (!f->policy || !f->policy[0]) {
        snprintf(err, errlen, "--policy FILE is required (or set GRADING_POLICY)");
        return false;
    }
    if (!f->data_dir[0]) {
        snprintf(err, errlen, "--data-dir must not be empty");
        return false;
    }
    if (f->max_map_size < f->map_size) {
        snprintf(err, errlen, "--max-map-size must be >= --map-size");
        return false;
    }
    if (!app_flags_check_kafka(f, err, errlen)) return false;
    return app_flags_check_security(f, err, errlen);
}
