/* The power-cut library itself: does a cut leave exactly the synced bytes?
 *
 * The test runs itself again as a child with the library preloaded (argv:
 * <program> child cut|mapwrite <dir>). The "cut" child writes a file under
 * <dir> the ways LMDB does (pwrite, lseek+writev, fdatasync, a second
 * descriptor opened O_DSYNC), checks that a read-only mmap sees its unsynced
 * writes (the reason for the undo-log design), writes a file outside <dir>,
 * then arms the cut. The parent checks that the child died of SIGKILL and
 * that the file holds, byte for byte, what was synced: the fdatasync'd
 * bytes; the O_DSYNC write's bytes, even inside an unsynced write (which
 * splits that write's undo entry, and an older write over one side must
 * still be restored in order); zeros where only unsynced data extended the
 * file; nothing past the synced size. The file outside <dir> keeps its
 * unsynced bytes (not tracked). The "mapwrite" child must be killed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096
#define SYNCED_SIZE (3 * PAGE + 110)   /* the O_DSYNC write past the end sets it */

static const char *lib_path;
static const char *self_path;

/* ---- the child (library preloaded): exits 3 on a failed step ---- */

static void child_check(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "child: %s: %s\n", what, strerror(errno));
        _exit(3);
    }
}

static void fill(char *buf, char c, size_t n)
{
    memset(buf, c, n);
}

static int child_main(const char *dir)
{
    static char buf[2 * PAGE];
    char path[512], other[512], arm[512];
    snprintf(path, sizeof path, "%s/data/file", dir);
    snprintf(other, sizeof other, "%s/outside", dir);
    snprintf(arm, sizeof arm, "%s/arm", dir);

    int fd = open(path, O_RDWR | O_CREAT, 0600);
    child_check(fd >= 0, "open");
    fill(buf, 'A', 2 * PAGE);
    child_check(pwrite(fd, buf, 2 * PAGE, 0) == 2 * PAGE, "pwrite A");
    child_check(fdatasync(fd) == 0, "fdatasync");                   /* synced: A x 8192 */

    fill(buf, 'B', PAGE);
    child_check(pwrite(fd, buf, PAGE, 2048) == PAGE, "pwrite B");  /* unsynced [2048, 6144) */

    fill(buf, 'H', 100);
    child_check(pwrite(fd, buf, 100, 5000) == 100, "pwrite H");    /* unsynced, over B's right side */

    int dfd = open(path, O_WRONLY | O_DSYNC);
    child_check(dfd >= 0, "open O_DSYNC");
    fill(buf, 'C', 100);
    child_check(pwrite(dfd, buf, 100, 3000) == 100, "pwrite C");   /* synced, splits B's entry */

    child_check(lseek(fd, 2 * PAGE, SEEK_SET) == 2 * PAGE, "lseek");
    fill(buf, 'D', PAGE);
    struct iovec iov[2] = {{buf, PAGE / 2}, {buf + PAGE / 2, PAGE / 2}};
    child_check(writev(fd, iov, 2) == PAGE, "writev D");           /* unsynced, extends to 12288 */

    fill(buf, 'E', 10);
    child_check(pwrite(dfd, buf, 10, 3 * PAGE + 100) == 10, "pwrite E");   /* synced, extends */

    fill(buf, 'F', 10);
    child_check(pwrite(fd, buf, 10, 0) == 10, "pwrite F");         /* unsynced over synced A */

    /* a read-only map sees the unsynced bytes: writes go through */
    char *map = mmap(NULL, 3 * PAGE, PROT_READ, MAP_SHARED, fd, 0);
    child_check(map != MAP_FAILED, "mmap");
    child_check(map[0] == 'F' && map[2048] == 'B' && map[3000] == 'C' && map[5000] == 'H' && map[2 * PAGE] == 'D',
                "the map does not see the writes");

    int ofd = open(other, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    child_check(ofd >= 0 && write(ofd, "kept", 4) == 4, "write outside");

    int afd = open(arm, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    child_check(afd >= 0 && write(afd, "1\n", 2) == 2 && close(afd) == 0, "arm");
    fill(buf, 'G', 10);
    pwrite(fd, buf, 10, 100);   /* the cut: this never happens */
    fprintf(stderr, "child: the cut did not come\n");
    return 4;
}

/* A shared writable map of a tracked file cannot be undone: the library
 * must kill the process rather than let it run unmodelled. */
static int child_map_writable(const char *dir)
{
    char path[512];
    snprintf(path, sizeof path, "%s/data/mapped", dir);
    int fd = open(path, O_RDWR | O_CREAT, 0600);
    child_check(fd >= 0 && ftruncate(fd, PAGE) == 0, "open");
    void *map = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    fprintf(stderr, "child: a shared writable map was allowed (%p)\n", map);
    return 4;
}

/* ---- the parent ---- */

/* Runs this program as `child <mode> <dir>` with the library preloaded;
 * returns its wait status. */
static int run_child(const char *mode, const char *dir, const char *data)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        const char *asan = getenv("ASAN_OPTIONS");
        char opts[1024], arm[600];
        snprintf(opts, sizeof opts, "%s%sverify_asan_link_order=0:detect_leaks=0", asan ? asan : "",
                 asan ? ":" : "");
        snprintf(arm, sizeof arm, "%s/arm", dir);
        setenv("ASAN_OPTIONS", opts, 1);
        setenv("LD_PRELOAD", lib_path, 1);
        setenv("POWERCUT_DIR", data, 1);
        setenv("POWERCUT_ARM", arm, 1);
        execl(self_path, self_path, "child", mode, dir, (char *)NULL);
        _exit(127);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return status;
}

static void test_cut_leaves_the_synced_bytes(void **state)
{
    (void)state;
    char dir[] = "/tmp/grading-powercut-XXXXXX", data[64], path[128], other[128];
    assert_non_null(mkdtemp(dir));
    snprintf(data, sizeof data, "%s/data", dir);
    assert_int_equal(mkdir(data, 0700), 0);

    int status = run_child("cut", dir, data);
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
        fail_msg("the child was not cut: wait status %#x (exit %d)", status,
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1);

    snprintf(path, sizeof path, "%s/file", data);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_size, SYNCED_SIZE);
    static char got[SYNCED_SIZE];
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(read(fd, got, sizeof got), SYNCED_SIZE);
    close(fd);
    for (size_t i = 0; i < SYNCED_SIZE; i++) {
        char want = i >= 3000 && i < 3100                 ? 'C'    /* O_DSYNC, inside B */
                    : i < 2 * PAGE                        ? 'A'    /* fdatasync'd; B, F, H undone */
                    : i >= 3 * PAGE + 100 && i < 3 * PAGE + 110 ? 'E'  /* O_DSYNC past the end */
                                                          : '\0';  /* D undone: only zeros */
        if (got[i] != want) fail_msg("byte %zu is %#x, expected %#x", i, (unsigned char)got[i], (unsigned char)want);
    }

    snprintf(other, sizeof other, "%s/outside", dir);
    fd = open(other, O_RDONLY);
    assert_true(fd >= 0);
    char kept[8] = "";
    assert_int_equal(read(fd, kept, sizeof kept), 4);
    close(fd);
    assert_memory_equal(kept, "kept", 4);

    /* the test's files: exactly these, so remove them one by one */
    char arm[600];
    snprintf(arm, sizeof arm, "%s/arm", dir);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(unlink(other), 0);
    assert_int_equal(unlink(arm), 0);
    assert_int_equal(rmdir(data), 0);
    assert_int_equal(rmdir(dir), 0);
}

static void test_refuses_a_shared_writable_map(void **state)
{
    (void)state;
    char dir[] = "/tmp/grading-powercut-XXXXXX", data[64], path[128];
    assert_non_null(mkdtemp(dir));
    snprintf(data, sizeof data, "%s/data", dir);
    assert_int_equal(mkdir(data, 0700), 0);
    int status = run_child("mapwrite", dir, data);
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
        fail_msg("a shared writable map went through: wait status %#x (exit %d)", status,
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    snprintf(path, sizeof path, "%s/mapped", data);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(rmdir(data), 0);
    assert_int_equal(rmdir(dir), 0);
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "child") == 0)
        return strcmp(argv[2], "cut") == 0 ? child_main(argv[3]) : child_map_writable(argv[3]);
    if (argc != 2) {
        fprintf(stderr, "usage: %s PATH_TO_POWERCUT_LIBRARY\n", argv[0]);
        return 2;
    }
    lib_path = argv[1];
    self_path = "/proc/self/exe";
    static char self[512];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = '\0';
        self_path = self;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cut_leaves_the_synced_bytes),
        cmocka_unit_test(test_refuses_a_shared_writable_map),
    };
    return cmocka_run_group_tests_name("power-cut library", tests, NULL, NULL);
}
