/* A Prometheus stand-in for the boosts1_scraped case: GET /metrics at once
 * and then every second until stopped (a condition variable wait, so the
 * stop is prompt). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "grading/http_get.h"

#define SCRAPE_INTERVAL_MS 1000
#define SCRAPE_TIMEOUT_MS 10000

struct bench_scraper {
    const char *addr;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;                          /* under mu */
    uint64_t scrapes, failures, bytes;  /* the thread's until joined */
};

static void *scrape_main(void *arg)
{
    bench_scraper_t *sc = arg;
    for (;;) {
        int status = 0;
        char *body = NULL;
        grading_error_t e = {0};
        if (grading_http_get(sc->addr, "/metrics", SCRAPE_TIMEOUT_MS, &status, &body, &e) == GRADING_OK &&
            status == 200 && strstr(body, "grpc_server_handled_total")) {
            sc->scrapes++;
            sc->bytes = strlen(body);
        } else {
            sc->failures++;
            fprintf(stderr, "grading_bench: scrape of %s failed: %s (HTTP %d)\n", sc->addr,
                    e.message[0] ? e.message : "no metrics in the body", status);
        }
        free(body);
        struct timespec dl;
        clock_gettime(CLOCK_REALTIME, &dl);
        dl.tv_sec += SCRAPE_INTERVAL_MS / 1000;
        pthread_mutex_lock(&sc->mu);
        while (!sc->stop)
            if (pthread_cond_timedwait(&sc->cv, &sc->mu, &dl)) break;
        bool stop = sc->stop;
        pthread_mutex_unlock(&sc->mu);
        if (stop) break;
    }
    return NULL;
}

bench_scraper_t *bench_scraper_start(const char *admin_addr)
{
    bench_scraper_t *sc = calloc(1, sizeof *sc);
    if (!sc) {
        fprintf(stderr, "grading_bench: out of memory\n");
        return NULL;
    }
    sc->addr = admin_addr;
    pthread_mutex_init(&sc->mu, NULL);
    pthread_cond_init(&sc->cv, NULL);
    if (pthread_create(&sc->thread, NULL, scrape_main, sc)) {
        fprintf(stderr, "grading_bench: cannot start the scraper thread\n");
        pthread_mutex_destroy(&sc->mu);
        pthread_cond_destroy(&sc->cv);
        free(sc);
        return NULL;
    }
    return sc;
}

void bench_scraper_stop(bench_scraper_t *sc, uint64_t *scrapes, uint64_t *failures, uint64_t *bytes)
{
    pthread_mutex_lock(&sc->mu);
    sc->stop = true;
    pthread_cond_broadcast(&sc->cv);
    pthread_mutex_unlock(&sc->mu);
    pthread_join(sc->thread, NULL);
    *scrapes = sc->scrapes;
    *failures = sc->failures;
    *bytes = sc->bytes;
    pthread_mutex_destroy(&sc->mu);
    pthread_cond_destroy(&sc->cv);
    free(sc);
}
