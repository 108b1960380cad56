/* A simulated power cut, as an LD_PRELOAD library (SQLite's crash-test VFS
 * is the model): for the files under one directory it keeps track of every
 * byte written since that file was last synced, and on a trigger puts the
 * files back to what a power cut would have left on the disk (the synced
 * bytes only) and kills the process with SIGKILL.
 *
 * Why an undo log and not a write buffer. LMDB (Debian 12's 0.9.24,
 * without MDB_WRITEMAP) writes pages with pwrite/writev, syncs them with
 * fdatasync, writes the meta page through a second descriptor opened with
 * O_DSYNC, and READS the database through a read-only mmap of data.mdb.
 * Bytes held back in a buffer of ours would be invisible to that mmap, and
 * the store would read stale pages. So writes go through to the file at
 * once (the mmap sees them), and before each one the library saves the
 * bytes it overwrites (zeros past the end of the file). A sync makes the
 * file's bytes durable: fsync/fdatasync drops the file's undo log; a write
 * through an O_SYNC/O_DSYNC descriptor is durable as it returns, so its
 * range is cut out of the undo log. The cut restores every saved range,
 * newest first (so the oldest saved bytes, the synced ones, win), truncates
 * each file to its synced size, and sends SIGKILL while holding the lock
 * that every tracked write takes, so nothing is written after. The disk
 * then holds exactly what the synced state was: the same outcome as holding
 * the writes back, and it works with mmap.
 *
 * What it cannot undo it refuses: a shared writable mmap of a tracked file
 * (LMDB with MDB_WRITEMAP) kills the process with a message rather than let
 * a test pass unchecked. LMDB's lock.mdb (a shared writable map of reader
 * slots, rebuilt by the first process that opens the environment) is not
 * tracked. Not modelled: directory entries (a created file survives the
 * cut) and torn sector writes (a write is all or nothing).
 *
 * Environment:
 *   POWERCUT_DIR   track files whose real path is under this directory
 *                  (unset: the library does nothing)
 *   POWERCUT_ARM   a file holding "N" or "S N" (S >= 0, N >= 1). Once it
 *                  exists, the library lets S fsync/fdatasync calls on
 *                  tracked files complete, then the N-th write or sync after
 *                  them is not done: the power is cut instead. Counting
 *                  starts when the file is first seen, so a test arms the
 *                  cut at a moment of its choosing; S aims it at a commit
 *                  (LMDB syncs once per commit, and the number of write
 *                  calls of a commit varies with the pages it dirties).
 * The cut prints one line on stderr ("powercut: ...") before the SIGKILL. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAX_FDS 4096
#define MAX_FILES 32
#define UNTRACKED_NAME "lock.mdb"

typedef struct {
    off_t off;
    size_t len;
    unsigned char *bytes;   /* the bytes before the write; owned */
} undo_t;

typedef struct {
    dev_t dev;
    ino_t ino;
    char path[PATH_MAX];
    int fd;                 /* our own O_RDWR descriptor, for the cut */
    off_t synced_size;
    undo_t *undo;
    size_t nundo, capundo;
} file_t;

typedef struct {
    int file;               /* index into files, -1 = not tracked */
    bool dsync;             /* opened with O_SYNC or O_DSYNC */
} fd_t;

static struct {
    bool active;
    char dir[PATH_MAX];
    size_t dirlen;
    char arm[PATH_MAX];
    long countdown;         /* -1 = not armed yet */
    long syncs_left;        /* syncs to let through before counting down */
    unsigned long ops;      /* writes and syncs counted since armed */
    file_t files[MAX_FILES];
    size_t nfiles;
    fd_t fds[MAX_FDS];
} pc = {.countdown = -1};

static pthread_mutex_t pc_lock = PTHREAD_MUTEX_INITIALIZER;

static int (*real_open)(const char *, int, ...);
static int (*real_open64)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);
static int (*real_close)(int);
static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*real_pwrite64)(int, const void *, size_t, off_t);
static ssize_t (*real_writev)(int, const struct iovec *, int);
static ssize_t (*real_pwritev)(int, const struct iovec *, int, off_t);
static ssize_t (*real_pread)(int, void *, size_t, off_t);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static int (*real_ftruncate)(int, off_t);
static void *(*real_mmap)(void *, size_t, int, int, int, off_t);

static void say(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n > 0) {
        ssize_t w = real_write ? real_write(2, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1)
                               : -1;
        (void)w;
    }
}

/* Something the library cannot model: stop loudly, never pass silently. */
static void die(const char *why)
{
    say("powercut: %s; killing the process\n", why);
    kill(getpid(), SIGKILL);
    _exit(99);
}

/* Finds the libc functions; safe to call early and more than once. */
static void resolve(void)
{
    static bool done;
    if (done) return;
    done = true;
    real_open = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open");
    real_open64 = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open64");
    real_openat = (int (*)(int, const char *, int, ...))dlsym(RTLD_NEXT, "openat");
    real_close = (int (*)(int))dlsym(RTLD_NEXT, "close");
    real_write = (ssize_t(*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
    real_pwrite = (ssize_t(*)(int, const void *, size_t, off_t))dlsym(RTLD_NEXT, "pwrite");
    real_pwrite64 = (ssize_t(*)(int, const void *, size_t, off_t))dlsym(RTLD_NEXT, "pwrite64");
    real_writev = (ssize_t(*)(int, const struct iovec *, int))dlsym(RTLD_NEXT, "writev");
    real_pwritev = (ssize_t(*)(int, const struct iovec *, int, off_t))dlsym(RTLD_NEXT, "pwritev");
    real_pread = (ssize_t(*)(int, void *, size_t, off_t))dlsym(RTLD_NEXT, "pread");
    real_fsync = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    real_fdatasync = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    real_ftruncate = (int (*)(int, off_t))dlsym(RTLD_NEXT, "ftruncate");
    real_mmap = (void *(*)(void *, size_t, int, int, int, off_t))dlsym(RTLD_NEXT, "mmap");
    if (!real_open || !real_openat || !real_close || !real_write || !real_pwrite || !real_writev ||
        !real_pwritev || !real_pread || !real_fsync || !real_fdatasync || !real_ftruncate || !real_mmap)
        die("a libc function was not found");
}

/* Reads the environment once, in the constructor: an earlier call (another
 * library's constructor, or the ASan runtime starting up) may come before
 * the environment is readable, and must not decide that we are off. Until
 * then every call passes straight through. */
__attribute__((constructor)) static void pc_init(void)
{
    resolve();
    for (int i = 0; i < MAX_FDS; i++) pc.fds[i].file = -1;
    const char *dir = getenv("POWERCUT_DIR");
    if (!dir || !*dir) return;
    if (!realpath(dir, pc.dir)) {
        /* the server creates its data directory: use the path as given */
        if (snprintf(pc.dir, sizeof pc.dir, "%s", dir) >= (int)sizeof pc.dir) die("POWERCUT_DIR is too long");
    }
    pc.dirlen = strlen(pc.dir);
    const char *arm = getenv("POWERCUT_ARM");
    if (arm && snprintf(pc.arm, sizeof pc.arm, "%s", arm) >= (int)sizeof pc.arm) die("POWERCUT_ARM is too long");
    pc.active = true;
}

/* ---- the undo log ---- */

static void undo_push(file_t *f, off_t off, size_t len, unsigned char *bytes)
{
    if (f->nundo == f->capundo) {
        size_t cap = f->capundo ? f->capundo * 2 : 64;
        undo_t *u = realloc(f->undo, cap * sizeof *u);
        if (!u) die("out of memory for the undo log");
        f->undo = u;
        f->capundo = cap;
    }
    f->undo[f->nundo++] = (undo_t){off, len, bytes};
}

static void undo_clear(file_t *f)
{
    for (size_t i = 0; i < f->nundo; i++) free(f->undo[i].bytes);
    f->nundo = 0;
}

/* Saves the bytes [off, off+len) hold now (zeros past the end). */
static void save_before(file_t *f, off_t off, size_t len)
{
    if (!len) return;
    unsigned char *b = calloc(1, len);
    if (!b) die("out of memory for the undo log");
    size_t got = 0;
    while (got < len) {
        ssize_t r = real_pread(f->fd, b + got, len - got, off + (off_t)got);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) die("cannot read the bytes a write replaces");
        if (r == 0) break;   /* past the end: stays zero */
        got += (size_t)r;
    }
    undo_push(f, off, len, b);
}

/* Inserts an entry at position at (the log's order is the writes' order,
 * which the cut relies on: newest restored first, oldest last). */
static void undo_insert(file_t *f, size_t at, off_t off, size_t len, unsigned char *bytes)
{
    undo_push(f, off, len, bytes);   /* grows the array; then move it into place */
    undo_t u = f->undo[f->nundo - 1];
    memmove(&f->undo[at + 1], &f->undo[at], (f->nundo - 1 - at) * sizeof u);
    f->undo[at] = u;
}

/* A synced write: [off, off+len) is durable; no undo entry may restore it. */
static void undo_cut_out(file_t *f, off_t off, size_t len)
{
    off_t end = off + (off_t)len;
    for (size_t i = 0; i < f->nundo; i++) {
        undo_t *u = &f->undo[i];
        off_t uend = u->off + (off_t)u->len;
        if (!u->len || uend <= off || u->off >= end) continue;
        if (u->off < off && uend > end) {   /* keep both sides: split in place */
            size_t rlen = (size_t)(uend - end);
            unsigned char *right = malloc(rlen);
            if (!right) die("out of memory for the undo log");
            memcpy(right, u->bytes + (end - u->off), rlen);
            u->len = (size_t)(off - u->off);
            undo_insert(f, i + 1, end, rlen, right);
            i++;   /* the right side is outside the range: skip it */
        } else if (u->off < off) {           /* keep the left side */
            u->len = (size_t)(off - u->off);
        } else if (uend > end) {             /* keep the right side */
            size_t rlen = (size_t)(uend - end);
            memmove(u->bytes, u->bytes + (end - u->off), rlen);
            u->off = end;
            u->len = rlen;
        } else {
            u->len = 0;                      /* wholly covered */
        }
    }
}

/* ---- tracking ---- */

static int file_for(int fd)
{
    struct stat sb;
    if (fstat(fd, &sb) != 0) return -1;
    for (size_t i = 0; i < pc.nfiles; i++)
        if (pc.files[i].dev == sb.st_dev && pc.files[i].ino == sb.st_ino) return (int)i;
    if (pc.nfiles == MAX_FILES) die("too many files under POWERCUT_DIR");
    file_t *f = &pc.files[pc.nfiles];
    char link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, f->path, sizeof f->path - 1);
    f->path[n > 0 ? n : 0] = '\0';
    f->fd = real_open(link, O_RDWR | O_CLOEXEC);
    if (f->fd < 0) die("cannot reopen a tracked file");
    f->dev = sb.st_dev;
    f->ino = sb.st_ino;
    f->synced_size = sb.st_size;   /* what was there before this process: on disk */
    return (int)pc.nfiles++;
}

static bool under_dir(int fd)
{
    char link[64], path[PATH_MAX];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n <= 0) return false;
    path[n] = '\0';
    if (strncmp(path, pc.dir, pc.dirlen) != 0 || path[pc.dirlen] != '/') return false;
    const char *base = strrchr(path, '/') + 1;
    return strcmp(base, UNTRACKED_NAME) != 0;
}

static void track(int fd, int flags)
{
    if (!pc.active || fd < 0 || (flags & O_ACCMODE) == O_RDONLY) return;
    if (fd >= MAX_FDS) die("descriptor number too large to track");
    if (!under_dir(fd)) return;
    pthread_mutex_lock(&pc_lock);
    pc.fds[fd].file = file_for(fd);
    pc.fds[fd].dsync = (flags & (O_SYNC | O_DSYNC)) != 0;
    pthread_mutex_unlock(&pc_lock);
}

static file_t *tracked(int fd)
{
    if (!pc.active || fd < 0 || fd >= MAX_FDS || pc.fds[fd].file < 0) return NULL;
    return &pc.files[pc.fds[fd].file];
}

/* ---- the cut ---- */

/* With pc_lock held: restore, truncate, SIGKILL. Never returns. */
static void cut(const char *op, const file_t *at)
{
    size_t restored = 0;
    for (size_t i = 0; i < pc.nfiles; i++) {
        file_t *f = &pc.files[i];
        for (size_t k = f->nundo; k-- > 0;) {
            undo_t *u = &f->undo[k];
            if (!u->len) continue;
            if (real_pwrite(f->fd, u->bytes, u->len, u->off) != (ssize_t)u->len)
                die("cannot restore the bytes of an unsynced write");
            restored++;
        }
        if (real_ftruncate(f->fd, f->synced_size) != 0) die("cannot truncate to the synced size");
    }
    say("powercut: power cut at %s (op #%lu since armed) on %s: %zu unsynced writes dropped; killing the process\n", op,
        pc.ops, at->path, restored);
    kill(getpid(), SIGKILL);
    _exit(99);   /* not reached */
}

/* Counts one write or sync; cuts when the armed countdown reaches it.
 * With pc_lock held. */
static void count_op(const char *op, bool is_sync, const file_t *f)
{
    if (pc.countdown < 0) {
        if (!pc.arm[0] || access(pc.arm, F_OK) != 0) return;
        FILE *in = fopen(pc.arm, "r");
        long a = 0, b = 0;
        int got = in ? fscanf(in, "%ld %ld", &a, &b) : 0;
        if (in) fclose(in);
        if (got == 1) b = a, a = 0;
        else if (got != 2) die("POWERCUT_ARM does not hold \"N\" or \"S N\"");
        if (a < 0 || b < 1) die("POWERCUT_ARM: S must be >= 0 and N >= 1");
        pc.syncs_left = a;
        pc.countdown = b;
    }
    pc.ops++;
    if (pc.syncs_left > 0) {
        if (is_sync) pc.syncs_left--;
        return;
    }
    if (--pc.countdown == 0) cut(op, f);
}

/* Before a write of len bytes at off: count it, save what it replaces. */
static void before_write(const char *op, file_t *f, off_t off, size_t len)
{
    count_op(op, false, f);
    save_before(f, off, len);
}

/* After a write through an O_SYNC/O_DSYNC descriptor: durable. */
static void after_write(file_t *f, int fd, off_t off, ssize_t written)
{
    if (written <= 0 || !pc.fds[fd].dsync) return;
    undo_cut_out(f, off, (size_t)written);
    if (off + written > f->synced_size) f->synced_size = off + written;
}

static size_t iov_len(const struct iovec *iov, int n)
{
    size_t len = 0;
    for (int i = 0; i < n; i++) len += iov[i].iov_len;
    return len;
}

/* ---- the intercepted calls ---- */

static int mode_arg(int flags, va_list ap)
{
    return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? va_arg(ap, int) : 0;
}

int open(const char *path, int flags, ...)
{
    resolve();   /* another library's constructor may call us first */
    va_list ap;
    va_start(ap, flags);
    int mode = mode_arg(flags, ap);
    va_end(ap);
    int fd = real_open(path, flags, mode);
    track(fd, flags);
    return fd;
}

int open64(const char *path, int flags, ...)
{
    resolve();   /* another library's constructor may call us first */
    va_list ap;
    va_start(ap, flags);
    int mode = mode_arg(flags, ap);
    va_end(ap);
    int fd = (real_open64 ? real_open64 : real_open)(path, flags, mode);
    track(fd, flags);
    return fd;
}

int openat(int dirfd, const char *path, int flags, ...)
{
    resolve();   /* another library's constructor may call us first */
    va_list ap;
    va_start(ap, flags);
    int mode = mode_arg(flags, ap);
    va_end(ap);
    int fd = real_openat(dirfd, path, flags, mode);
    track(fd, flags);
    return fd;
}

int close(int fd)
{
    resolve();   /* another library's constructor may call us first */
    if (pc.active && fd >= 0 && fd < MAX_FDS && pc.fds[fd].file >= 0) {
        pthread_mutex_lock(&pc_lock);
        pc.fds[fd].file = -1;   /* the file's undo log stays: closing syncs nothing */
        pthread_mutex_unlock(&pc_lock);
    }
    return real_close(fd);
}

ssize_t write(int fd, const void *buf, size_t len)
{
    resolve();   /* another library's constructor may call us first */
    file_t *f = tracked(fd);
    if (!f) return real_write(fd, buf, len);
    pthread_mutex_lock(&pc_lock);
    off_t off = lseek(fd, 0, SEEK_CUR);
    before_write("write", f, off, len);
    ssize_t r = real_write(fd, buf, len);
    after_write(f, fd, off, r);
    pthread_mutex_unlock(&pc_lock);
    return r;
}

static ssize_t pwrite_common(ssize_t (*fn)(int, const void *, size_t, off_t), int fd, const void *buf,
                             size_t len, off_t off)
{
    file_t *f = tracked(fd);
    if (!f) return fn(fd, buf, len, off);
    pthread_mutex_lock(&pc_lock);
    before_write("pwrite", f, off, len);
    ssize_t r = fn(fd, buf, len, off);
    after_write(f, fd, off, r);
    pthread_mutex_unlock(&pc_lock);
    return r;
}

ssize_t pwrite(int fd, const void *buf, size_t len, off_t off)
{
    resolve();
    return pwrite_common(real_pwrite, fd, buf, len, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t len, off_t off)
{
    resolve();
    return pwrite_common(real_pwrite64 ? real_pwrite64 : real_pwrite, fd, buf, len, off);
}

ssize_t writev(int fd, const struct iovec *iov, int n)
{
    resolve();
    file_t *f = tracked(fd);
    if (!f) return real_writev(fd, iov, n);
    pthread_mutex_lock(&pc_lock);
    off_t off = lseek(fd, 0, SEEK_CUR);
    before_write("writev", f, off, iov_len(iov, n));
    ssize_t r = real_writev(fd, iov, n);
    after_write(f, fd, off, r);
    pthread_mutex_unlock(&pc_lock);
    return r;
}

ssize_t pwritev(int fd, const struct iovec *iov, int n, off_t off)
{
    resolve();
    file_t *f = tracked(fd);
    if (!f) return real_pwritev(fd, iov, n, off);
    pthread_mutex_lock(&pc_lock);
    before_write("pwritev", f, off, iov_len(iov, n));
    ssize_t r = real_pwritev(fd, iov, n, off);
    after_write(f, fd, off, r);
    pthread_mutex_unlock(&pc_lock);
    return r;
}

static int sync_common(int (*fn)(int), const char *op, int fd)
{
    file_t *f = tracked(fd);
    if (!f) return fn(fd);
    pthread_mutex_lock(&pc_lock);
    count_op(op, true, f);
    int r = fn(fd);
    if (r == 0) {
        struct stat sb;
        undo_clear(f);
        if (fstat(fd, &sb) == 0) f->synced_size = sb.st_size;
    }
    pthread_mutex_unlock(&pc_lock);
    return r;
}

int fsync(int fd)
{
    resolve();
    return sync_common(real_fsync, "fsync", fd);
}

int fdatasync(int fd)
{
    resolve();
    return sync_common(real_fdatasync, "fdatasync", fd);
}

int ftruncate(int fd, off_t len)
{
    resolve();
    file_t *f = tracked(fd);
    if (!f) return real_ftruncate(fd, len);
    pthread_mutex_lock(&pc_lock);
    struct stat sb;
    if (fstat(fd, &sb) == 0 && len < sb.st_size) save_before(f, len, (size_t)(sb.st_size - len));
    int r = real_ftruncate(fd, len);
    pthread_mutex_unlock(&pc_lock);
    return r;
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    resolve();   /* another library's constructor may call us first */
    if ((prot & PROT_WRITE) && (flags & MAP_SHARED) && tracked(fd))
        die("a shared writable mmap of a tracked file (MDB_WRITEMAP?) cannot be undone");
    return real_mmap(addr, len, prot, flags, fd, off);
}
