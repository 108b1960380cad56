/* libFuzzer target for the policy loader: arbitrary bytes are loaded as a
 * policy file; a policy that loads is evaluated for every marketplace on
 * empty and on made-up counters.
 *
 * Beyond "no crash, no sanitizer report" it checks, and abort()s when one
 * breaks:
 *   - a failed load gives at least one diagnostic, each with a "file:" or
 *     "file:line:col" place and a non-empty one-line message;
 *   - a loaded policy has a version, a default marketplace, and evaluates
 *     without error; levels are ones the programme declares, the boost is
 *     finite and >= 0, and 0 whenever the seller is suspended.
 * Counters are made up from the input's hash, so runs are reproducible.
 *
 * Build: see README.md. With -DGRADING_FUZZ_MAIN it is a plain program that
 * loads the files named on its command line (the ctest replays the shipped
 * presets through it). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grading/policy.h"
#include "grading/rules.h"

#define CHECK(c)                                                                         \
    do {                                                                                 \
        if (!(c)) {                                                                      \
            fprintf(stderr, "fuzz_policy: check failed at line %d: %s\n", __LINE__, #c); \
            abort();                                                                     \
        }                                                                                \
    } while (0)

static grading_policy_diags_t diags;
static grading_day_counters_t sums[GRADING_RULES_MAX_WINDOWS];
static grading_assessment_t a;

static void check_assessment(const grading_rules_t *r)
{
    grading_error_t e = {0};
    CHECK(grading_rules_assess(r, sums, &a, &e) == GRADING_OK);
    for (size_t p = 0; p < r->nprograms; p++) {
        bool known = false;
        for (size_t i = 0; i < r->programs[p].nlevels; i++) known |= r->programs[p].levels[i] == a.grades[p].level;
        CHECK(known);
        CHECK(a.grades[p].label != NULL);
    }
    CHECK(isfinite(a.boost) && a.boost >= 0);
    if (a.suspended) CHECK(a.boost == 0);
    CHECK(isfinite(a.convertible_points) && a.convertible_points >= 0);
    CHECK(a.tier >= -1 && a.tier < (int)r->ntiers);
    grading_advice_t adv[4];
    for (size_t p = 0; p < r->nprograms; p++) CHECK(grading_rules_advise(r, p, &a, adv, 4) <= 4);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    grading_policy_t *p = NULL;
    grading_err_t err = grading_policy_load_buffer("f.yaml", (const char *)data, size, &p, &diags);
    if (err) {
        CHECK(p == NULL);
        CHECK(diags.count >= 1);
        for (size_t i = 0; i < diags.count && i < GRADING_POLICY_MAX_DIAGS; i++) {
            CHECK(strncmp(diags.diags[i].where, "f.yaml", 6) == 0);
            CHECK(diags.diags[i].message[0] != '\0');
            CHECK(strchr(diags.diags[i].message, '\n') == NULL);
        }
        return 0;
    }
    CHECK(p != NULL);
    CHECK(strlen(grading_policy_version(p)) == GRADING_POLICY_VERSION_LEN);
    CHECK(grading_policy_marketplace(p, "") != NULL);
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < size; i++) h = (h ^ data[i]) * 16777619u;
    for (size_t m = 0; m < grading_policy_marketplace_count(p); m++) {
        const grading_rules_t *r = grading_policy_marketplace_at(p, m)->rules;
        for (size_t w = 0; w < GRADING_RULES_MAX_WINDOWS; w++) grading_day_counters_init(&sums[w]);
        check_assessment(r);
        for (size_t w = 0; w < r->nwindows; w++)
            for (int c = 0; c < GRADING_C_COUNT; c++) {
                h = h * 1103515245u + 12345u;
                sums[w].c[c] = (int64_t)(h >> 16) % 1000;
            }
        check_assessment(r);
    }
    grading_policy_unref(p);
    return 0;
}

#ifdef GRADING_FUZZ_MAIN
int main(int argc, char **argv)
{
    static uint8_t buf[1 << 20];
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f) {
            perror(argv[i]);
            return 1;
        }
        size_t n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        LLVMFuzzerTestOneInput(buf, n);
        printf("%s: ok\n", argv[i]);
    }
    return 0;
}
#endif
