/* Work directories of the benchmarks: a fresh one under /tmp, or the
 * user's --keep directory, and their recursive removal. */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "benchlib.h"

int grading_bench_tmpdir_make(const char *prog, const char *stem, char *buf, size_t len)
{
    int n = snprintf(buf, len, "/tmp/%s-XXXXXX", stem);
    if (n < 0 || (size_t)n >= len) {
        fprintf(stderr, "%s: temporary directory name too long\n", prog);
        buf[0] = '\0';
        return -1;
    }
    if (!mkdtemp(buf)) {
        fprintf(stderr, "%s: mkdtemp %s: %s\n", prog, buf, strerror(errno));
        buf[0] = '\0';
        return -1;
    }
    return 0;
}

int grading_bench_keepdir_make(const char *prog, const char *dir)
{
    if (mkdir(dir, 0755) == 0) return 0;
    if (errno != EEXIST) {
        fprintf(stderr, "%s: --keep %s: %s\n", prog, dir, strerror(errno));
        return -1;
    }
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "%s: --keep %s: %s\n", prog, dir, strerror(errno));
        return -1;
    }
    struct dirent *de;
    bool empty = true;
    while (empty && (de = readdir(d))) empty = strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0;
    closedir(d);
    if (!empty) {
        fprintf(stderr, "%s: --keep %s: must be a new or empty directory\n", prog, dir);
        return -1;
    }
    return 0;
}

/* nftw has no context argument: the program name for its messages. */
static const char *remove_prog;

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st, (void)type, (void)ftw;
    if (remove(path) != 0) fprintf(stderr, "%s: cannot remove %s: %s\n", remove_prog, path, strerror(errno));
    return 0;
}

void grading_bench_dir_remove(const char *prog, const char *dir)
{
    if (!dir || !dir[0]) return;
    remove_prog = prog;
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}
