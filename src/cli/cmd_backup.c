/* gradectl backup FILE: a consistent, compacted copy of the running
 * server's store, streamed from its admin port (GET /backup) into
 * FILE.partial, checked (every page present, every database readable,
 * our schema), then renamed to FILE. A copy that fails leaves no FILE. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "grading/http_get.h"
#include "grading/store_backup.h"

#define BACKUP_IDLE_TIMEOUT_MS 60000

static int run_backup(cli_ctx_t *ctx, const cli_command_t *cmd, int argc, char **argv)
{
    const char *admin = getenv("GRADING_ADMIN_ADDR");
    char *pos[1];
    int npos, rc;
    const cli_opt_t opts[] = {{"--admin", &admin, NULL}, {NULL, NULL, NULL}};
    if ((rc = cli_parse_args(cmd, argc, argv, opts, pos, 1, 1, &npos))) return rc;
    if (!admin || !admin[0]) admin = CLI_DEFAULT_ADMIN_ADDR;
    const char *file = pos[0];
    if (!file[0]) return cli_usage_error(cmd, "FILE must not be empty");

    char partial[4096];
    if (snprintf(partial, sizeof partial, "%s.partial", file) >= (int)sizeof partial)
        return cli_usage_error(cmd, "FILE is too long");
    int fd = open(partial, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0) {
        fprintf(stderr, "gradectl: cannot create %s: %s\n", partial, strerror(errno));
        return CLI_EXIT_FAIL;
    }
    grading_error_t e = {0};
    int status = 0;
    uint64_t bytes = 0, records = 0;
    int64_t idle = ctx->timeout_ms > 0 ? ctx->timeout_ms : BACKUP_IDLE_TIMEOUT_MS;
    grading_err_t err = grading_http_get_fd(admin, "/backup", fd, idle, &status, &bytes, &e);
    bool synced = fsync(fd) == 0;
    if (close(fd) != 0) synced = false;
    if (err) {
        fprintf(stderr, "gradectl: backup from %s: %s\n", admin, e.message);
        fprintf(stderr, "gradectl: is gradingd's admin server at %s? (--admin or GRADING_ADMIN_ADDR)\n", admin);
        rc = err == GRADING_EINVAL ? CLI_EXIT_USAGE : CLI_EXIT_UNREACHABLE;
        goto fail;
    }
    if (status != 200) {
        fprintf(stderr, "gradectl: backup from %s: the server answered HTTP %d\n", admin, status);
        rc = CLI_EXIT_FAIL;
        goto fail;
    }
    if (!synced) {
        fprintf(stderr, "gradectl: cannot write %s: %s\n", partial, strerror(errno));
        rc = CLI_EXIT_FAIL;
        goto fail;
    }
    if (grading_store_verify_copy(partial, &records, &e)) {
        fprintf(stderr, "gradectl: the copy is not whole (the server's log says why): %s\n", e.message);
        rc = CLI_EXIT_FAIL;
        goto fail;
    }
    if (rename(partial, file) != 0) {
        fprintf(stderr, "gradectl: cannot rename %s to %s: %s\n", partial, file, strerror(errno));
        rc = CLI_EXIT_FAIL;
        goto fail;
    }
    if (ctx->json)
        printf("{\"file\": \"%s\", \"bytes\": %llu, \"records\": %llu}\n", file, (unsigned long long)bytes,
               (unsigned long long)records);
    else
        printf("backup %s: %llu bytes, %llu records\n", file, (unsigned long long)bytes,
               (unsigned long long)records);
    return CLI_EXIT_OK;
fail:
    unlink(partial);
    return rc;
}

const cli_command_t cli_cmd_backup = {
    .name = "backup",
    .synopsis = "[--admin HOST:PORT] FILE",
    .summary = "copy the running server's store into FILE (online, compacted)",
    .help = "Options:\n"
            "  --admin HOST:PORT  gradingd's admin server (default $GRADING_ADMIN_ADDR, else " CLI_DEFAULT_ADMIN_ADDR ")\n"
            "\n"
            "Streams a consistent, compacted LMDB copy from GET /backup on the admin port\n"
            "while the server keeps serving and writing: it holds every event acknowledged\n"
            "before the backup began. The copy is checked before it is renamed to FILE.\n"
            "Restore: stop gradingd, then `gradingd --restore FILE --data-dir DIR` (DIR\n"
            "must hold no store), then start gradingd on DIR.\n"
            "--timeout-ms bounds the silence between two reads (default 60000).\n"
            "Exit status: 0 done, 1 refused or the copy is bad, 3 the admin server\n"
            "could not be reached.\n",
    .run = run_backup,
};
