/* gradectl's connection security: TLS files and a bearer token, from the
 * global flags or GRADING_TLS_CA/CERT/KEY and GRADING_TOKEN. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char *env_or_null(const char *name)
{
    const char *v = getenv(name);
    return v && v[0] ? v : NULL;
}

void cli_security_env(cli_ctx_t *ctx)
{
    ctx->conn.tls_ca = env_or_null("GRADING_TLS_CA");
    ctx->conn.tls_cert = env_or_null("GRADING_TLS_CERT");
    ctx->conn.tls_key = env_or_null("GRADING_TLS_KEY");
    ctx->conn.bearer_token = env_or_null("GRADING_TOKEN");
}

int cli_security_flag(cli_ctx_t *ctx, int argc, char **argv, int *i)
{
    static const struct {
        const char *name;
        size_t offset;
    } flags[] = {
        {"--tls-ca", offsetof(grading_client_options_t, tls_ca)},
        {"--tls-cert", offsetof(grading_client_options_t, tls_cert)},
        {"--tls-key", offsetof(grading_client_options_t, tls_key)},
        {"--token", offsetof(grading_client_options_t, bearer_token)},
    };
    for (size_t f = 0; f < sizeof flags / sizeof flags[0]; f++) {
        size_t n = strlen(flags[f].name);
        const char *a = argv[*i], *v;
        if (strncmp(a, flags[f].name, n) != 0 || (a[n] != '\0' && a[n] != '=')) continue;
        if (a[n] == '=') {
            v = a + n + 1;
        } else if (*i + 1 < argc) {
            v = argv[++*i];
        } else {
            v = "";
        }
        if (!v[0]) {
            fprintf(stderr, "gradectl: %s needs a value\n", flags[f].name);
            return -1;
        }
        *(const char **)((char *)&ctx->conn + flags[f].offset) = v;
        return 1;
    }
    return 0;
}
