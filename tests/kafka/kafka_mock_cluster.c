/* kafka_mock_cluster: librdkafka's mock cluster (the real Kafka protocol
 * over loopback TCP) as a program, for the e2e tests and by hand.
 *
 *   kafka_mock_cluster [--brokers N] [--partitions P] [--topic NAME]...
 *
 * Starts N brokers (default 1), creates each --topic (default "grading")
 * with P partitions (default 3), prints the bootstrap address as its first
 * line on stdout and runs until SIGTERM or SIGINT. SIGUSR1 takes every
 * broker down (connections closed, new ones refused), SIGUSR2 brings them
 * back: the "brokers down" tests. Each is acknowledged by a line on stdout
 * ("brokers down" / "brokers up") once done, so a test can wait for it
 * rather than race the signal. Exit 2 on a bad option. */
#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TOPICS 8

static int usage(const char *why)
{
    fprintf(stderr, "kafka_mock_cluster: %s\nusage: kafka_mock_cluster [--brokers N] [--partitions P] [--topic NAME]...\n",
            why);
    return 2;
}

static int parse_count(const char *s, int max, int *out)
{
    char *end;
    errno = 0;
    long v = s ? strtol(s, &end, 10) : 0;
    if (!s || errno || *end || v < 1 || v > max) return -1;
    *out = (int)v;
    return 0;
}

static void set_brokers(rd_kafka_mock_cluster_t *mc, int n, int up)
{
    for (int id = 1; id <= n; id++) {
        rd_kafka_resp_err_t err = up ? rd_kafka_mock_broker_set_up(mc, id) : rd_kafka_mock_broker_set_down(mc, id);
        if (err) fprintf(stderr, "kafka_mock_cluster: broker %d: %s\n", id, rd_kafka_err2str(err));
    }
    fprintf(stderr, "kafka_mock_cluster: brokers %s\n", up ? "up" : "down");
    /* the acknowledgement; a reader that stopped listening gets EPIPE, not us killed */
    printf("brokers %s\n", up ? "up" : "down");
    fflush(stdout);
}

int main(int argc, char **argv)
{
    int brokers = 1, partitions = 3, ntopics = 0;
    const char *topics[MAX_TOPICS];
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(argv[i], "--brokers")) {
            if (parse_count(v, 16, &brokers)) return usage("--brokers must be 1..16");
        } else if (!strcmp(argv[i], "--partitions")) {
            if (parse_count(v, 256, &partitions)) return usage("--partitions must be 1..256");
        } else if (!strcmp(argv[i], "--topic")) {
            if (!v || !*v) return usage("--topic needs a name");
            if (ntopics == MAX_TOPICS) return usage("at most 8 topics");
            topics[ntopics++] = v;
        } else {
            return usage("unknown option");
        }
        i++;
    }
    if (!ntopics) topics[ntopics++] = "grading";

    /* Signals are taken by sigwait below: blocked before librdkafka's
     * threads start, so they inherit the mask. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof errstr);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!rk) {
        fprintf(stderr, "kafka_mock_cluster: %s\n", errstr);
        return 1;
    }
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, brokers);
    if (!mc) {
        fprintf(stderr, "kafka_mock_cluster: cannot start the mock cluster\n");
        rd_kafka_destroy(rk);
        return 1;
    }
    for (int t = 0; t < ntopics; t++) {
        rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(mc, topics[t], partitions, brokers < 3 ? brokers : 3);
        if (err) {
            fprintf(stderr, "kafka_mock_cluster: topic %s: %s\n", topics[t], rd_kafka_err2str(err));
            rd_kafka_mock_cluster_destroy(mc);
            rd_kafka_destroy(rk);
            return 1;
        }
    }
    printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
    fflush(stdout);

    for (;;) {
        int sig = 0;
        if (sigwait(&set, &sig)) break;
        if (sig == SIGUSR1) set_brokers(mc, brokers, 0);
        else if (sig == SIGUSR2) set_brokers(mc, brokers, 1);
        else break;
    }
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return 0;
}
