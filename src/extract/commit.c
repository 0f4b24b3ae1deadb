/*
 * commit.c: the lake commit protocol of extract: how part files, `_SUCCESS`
 * and `_offsets` become visible in --out all at once.
 *
 * NOTES ON THE DESIGN OF THE COMMIT
 *
 * Definitions.
 *   OUT      the --out directory: one table (parts at its top level), or
 *            with --split-by a directory of tables (OUT/<value>/). Either
 *            way the corrupt table is OUT/_corrupt/.
 *   PARENT   the directory holding OUT; NAME its last path component.
 *   VERSION  a complete directory tree that is, or will be, OUT.
 *   PENDING  the version being built: PARENT/.NAME.v-<pid>-<seq>.
 *   LOCK     PARENT/.NAME.lock, flock()ed exclusively while a job runs.
 *
 * A commit replaces OUT by PENDING in one rename: renameat2(RENAME_EXCHANGE)
 * when OUT exists, rename() when it does not. Every path under OUT therefore
 * names either the old version or the new one; nobody can see a version
 * that is partly written.
 *
 * Invariants.
 *   1. OUT, when it exists, is a complete version: every part file in it is
 *      complete and fsynced, every table directory has `_SUCCESS`, and
 *      `_offsets` (Kafka sources) holds, per partition, the next offset
 *      after the last record whose row is in OUT.
 *   2. Part files are immutable once written, and their names are unique
 *      (part-<run id>-<seq>.parquet, run id = start time in µs + pid), so
 *      a part name always means the same bytes.
 *   3. PENDING is built only from hard links to OUT's parts (append,
 *      follow) plus new parts; it is fsynced (files when written, then every
 *      directory) before the swap, and PARENT is fsynced after it.
 *   4. Anything named PARENT/.NAME.v-* when no job holds LOCK is garbage: a
 *      pending version that was never swapped in, or an old version that
 *      was swapped out but not yet deleted. extract_commit_open() deletes it.
 *   5. Records and offsets move together: the job writes all rows read so
 *      far into PENDING before it commits with the offsets of those reads.
 *
 * States of one commit, and the function that makes each transition:
 *
 *     IDLE --part_path()--> BUILDING --publish(): fsync--> SYNCED
 *       ^                                                     |
 *       |                              publish(): exchange    v
 *       +------ drop_old(): delete old version ----------- SWAPPED
 *
 *   IDLE -> BUILDING  extract_commit_part_path() (or publish() when only the
 *                     offsets changed) makes PENDING: mkdir, then hard links
 *                     of every file of OUT except _SUCCESS and _offsets
 *                     (append; or overwrite after its first commit).
 *   BUILDING          the job writes parts into PENDING (table.c fsyncs each).
 *   -> SYNCED         publish() writes _SUCCESS into every directory holding
 *                     parts and into PENDING, writes _offsets, fsyncs all
 *                     directories of PENDING.
 *   -> SWAPPED        publish() exchanges PENDING and OUT and fsyncs PARENT.
 *                     This rename is the commit point.
 *   -> IDLE           the old version (now under the PENDING name) is
 *                     deleted by the next publish() or by
 *                     extract_commit_free(), at least GRACE_MS after the
 *                     swap (drop_old(): readers may still be listing it).
 *
 * Crashes. Before the exchange: OUT is the previous version; PENDING is
 * garbage (4) and the records it held are read again after the restart,
 * because the committed _offsets do not cover them (5): none lost, none
 * twice. After the exchange: OUT is the new version; the old one is
 * garbage. A kill -9 can never leave a half-written OUT.
 *
 * Readers. A reader that opens OUT/x.parquet sees whole files of one
 * version. One that lists OUT and then opens the files may find, after an
 * overwrite swapped OUT in between, that a listed name is gone (ENOENT):
 * it fails and retries, but never mixes versions. After an append or a
 * follow commit every listed name still exists (hard links, invariant 2).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/mem.h"
#include "extract/extract.h"

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

#define PATH_CAP 4096
#define GRACE_MS 500 /* an old version outlives its swap by this much (readers listing it) */

struct extract_commit {
    char *out;             /* owned: OUT as given */
    char *parent;          /* owned: PARENT */
    char *name;            /* owned: NAME */
    enum extract_mode mode;
    int lock_fd;           /* LOCK, flock()ed; -1 if none */
    bool out_exists;       /* OUT exists (as a directory) */
    bool published;        /* a commit of this run has been swapped in */
    char *pending;         /* owned: PENDING path, NULL while IDLE */
    char *old;             /* owned: the version swapped out last, not yet deleted */
    int64_t old_at_ms;     /* monotonic time of that swap */
    char *offsets;         /* owned: committed _offsets text, or NULL */
    char run_id[40];       /* part name prefix unique to this run */
    unsigned seq;          /* parts and versions made in this run */
    char path[PATH_CAP];   /* last part path handed out */
};

/* ---------------------------------------------------------------- MARK: file helpers */

static int rm_rf_at(int at, const char *name)
{
    int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return unlinkat(at, name, 0) == 0 || errno == ENOENT ? 0 : -1;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return -1;
    }
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (rm_rf_at(dirfd(d), e->d_name) != 0)
            rc = -1;
    }
    closedir(d);
    if (unlinkat(at, name, AT_REMOVEDIR) != 0 && errno != ENOENT)
        rc = -1;
    return rc;
}

static int fsync_path(const char *path, int flags)
{
    int fd = open(path, flags | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* Write a small file atomically enough for a pending version: create, write, fsync. */
static int write_file(const char *path, const char *text, struct sl_error *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return sl_fail_errno(err, SL_EIO, "cannot create '%s'", path);
    size_t n = strlen(text), done = 0;
    while (done < n) {
        ssize_t w = write(fd, text + done, n - done);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            close(fd);
            errno = e;
            return sl_fail_errno(err, SL_EIO, "cannot write '%s'", path);
        }
        done += (size_t)w;
    }
    if (fsync(fd) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return sl_fail_errno(err, SL_EIO, "cannot fsync '%s'", path);
    }
    close(fd);
    return SL_OK;
}

/* Mirror src into dst (which exists) with hard links, skipping _SUCCESS and _offsets. */
static int link_tree(const char *src, const char *dst, int depth, struct sl_error *err)
{
    if (depth > 8)
        return SL_OK;
    DIR *d = opendir(src);
    if (!d)
        return sl_fail_errno(err, SL_EIO, "cannot open '%s'", src);
    struct dirent *e;
    int rc = SL_OK;
    char s[PATH_CAP], t[PATH_CAP];
    while (rc == SL_OK && (e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
            strcmp(e->d_name, "_SUCCESS") == 0 || strcmp(e->d_name, "_offsets") == 0)
            continue;
        if (snprintf(s, sizeof s, "%s/%s", src, e->d_name) >= (int)sizeof s ||
            snprintf(t, sizeof t, "%s/%s", dst, e->d_name) >= (int)sizeof t) {
            rc = sl_fail(err, SL_ELIMIT, "path too long under '%s'", src);
            break;
        }
        struct stat st;
        if (lstat(s, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            if (mkdir(t, 0755) != 0 && errno != EEXIST)
                rc = sl_fail_errno(err, SL_EIO, "cannot create '%s'", t);
            else
                rc = link_tree(s, t, depth + 1, err);
        } else if (S_ISREG(st.st_mode)) {
            if (link(s, t) != 0)
                rc = sl_fail_errno(err, SL_EIO, "cannot link '%s'", t);
        }
    }
    closedir(d);
    return rc;
}

/* Whether dir holds a *.parquet file. */
static bool has_parts(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return false;
    struct dirent *e;
    bool found = false;
    while (!found && (e = readdir(d))) {
        size_t n = strlen(e->d_name);
        found = n > 8 && strcmp(e->d_name + n - 8, ".parquet") == 0;
    }
    closedir(d);
    return found;
}

/* Write _SUCCESS where parts are (and at the top), fsync every directory. */
static int seal_tree(const char *dir, bool top, int depth, struct sl_error *err)
{
    char p[PATH_CAP];
    if (depth > 8)
        return SL_OK;
    if (top || has_parts(dir)) {
        snprintf(p, sizeof p, "%s/_SUCCESS", dir);
        int rc = write_file(p, "", err);
        if (rc != SL_OK)
            return rc;
    }
    DIR *d = opendir(dir);
    if (!d)
        return sl_fail_errno(err, SL_EIO, "cannot open '%s'", dir);
    struct dirent *e;
    int rc = SL_OK;
    while (rc == SL_OK && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        if (snprintf(p, sizeof p, "%s/%s", dir, e->d_name) >= (int)sizeof p)
            continue;
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
            rc = seal_tree(p, false, depth + 1, err);
    }
    closedir(d);
    if (rc == SL_OK && fsync_path(dir, O_RDONLY | O_DIRECTORY) != 0)
        rc = sl_fail_errno(err, SL_EIO, "cannot fsync '%s'", dir);
    return rc;
}

static bool dir_nonempty(const char *path)
{
    DIR *d = opendir(path);
    if (!d)
        return false;
    struct dirent *e;
    bool any = false;
    while (!any && (e = readdir(d)))
        any = strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return any;
}

static int mkdir_p(const char *path)
{
    char tmp[PATH_CAP];
    if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp)
        return -1;
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    }
    return mkdir(tmp, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

static char *read_small(const char *path, size_t max)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *s = sl_xmalloc(max + 1);
    size_t n = fread(s, 1, max, f);
    fclose(f);
    s[n] = '\0';
    return s;
}

/* ---------------------------------------------------------------- MARK: protocol */

/*
 * Delete the version swapped out by the previous commit, once GRACE_MS have
 * passed since its swap. Why wait: a reader that opened OUT just before the
 * swap is still listing the old directory; deleting its entries under it
 * would show that reader part of a table (names it then finds, through OUT,
 * in the new version). Listing takes microseconds to milliseconds.
 */
static void drop_old(struct extract_commit *c)
{
    if (!c->old)
        return;
    int64_t wait = c->old_at_ms + GRACE_MS - sl_clock_mono_ms();
    if (wait > 0) {
        struct timespec ts = { (time_t)(wait / 1000), (long)(wait % 1000) * 1000000L };
        nanosleep(&ts, NULL);
    }
    int pfd = open(c->parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (pfd >= 0) {
        rm_rf_at(pfd, strrchr(c->old, '/') + 1);
        close(pfd);
    }
    free(c->old);
    c->old = NULL;
}

/*
 * The nearest directory above out that is a table or a split output (it has
 * _SUCCESS), into buf; NULL if none. A table inside one would have its
 * versions swapped in and out under a lock of its own, in a directory whose
 * versions the outer table's commits replace whole.
 */
static const char *outer_table(const char *out, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s", out);
    char *slash;
    while ((slash = strrchr(buf, '/')) != NULL) {
        if (slash == buf)
            slash[1] = '\0'; /* the root */
        else
            *slash = '\0';
        char marker[PATH_CAP];
        struct stat st;
        if (snprintf(marker, sizeof marker, "%s/_SUCCESS", strcmp(buf, "/") ? buf : "") <
                (int)sizeof marker &&
            stat(marker, &st) == 0)
            return buf;
        if (slash == buf)
            break;
    }
    return NULL;
}

struct extract_commit *extract_commit_open(const char *out, enum extract_mode mode,
                                           struct sl_error *err)
{
    size_t len = strlen(out);
    while (len > 1 && out[len - 1] == '/')
        len--;
    if (len == 0 || len >= PATH_CAP - 64) {
        sl_fail(err, SL_EUSAGE, "bad output path '%s'", out);
        return NULL;
    }
    struct extract_commit *c = sl_xcalloc(1, sizeof *c);
    c->lock_fd = -1;
    c->mode = mode;
    c->out = sl_xstrndup(out, len);
    const char *slash = strrchr(c->out, '/');
    if (slash) {
        c->parent = sl_xstrndup(c->out, slash == c->out ? 1 : (size_t)(slash - c->out));
        c->name = sl_xstrdup(slash + 1);
    } else {
        c->parent = sl_xstrdup(".");
        c->name = sl_xstrdup(c->out);
    }
    if (strcmp(c->name, ".") == 0 || strcmp(c->name, "..") == 0) {
        sl_fail(err, SL_EUSAGE, "output path '%s' must name a directory to create or replace", out);
        goto fail;
    }
    char outer[PATH_CAP];
    if (outer_table(c->out, outer, sizeof outer)) {
        sl_fail(err, SL_EUSAGE, "output '%s' is inside the table '%s': write that table, or "
                "choose a directory outside it", out, outer);
        goto fail;
    }
    snprintf(c->run_id, sizeof c->run_id, "%013llx-%05d",
             (unsigned long long)sl_clock_wall_us(), (int)getpid() % 100000);
    if (mkdir_p(c->parent) != 0) {
        sl_fail_errno(err, SL_EIO, "cannot create '%s'", c->parent);
        goto fail;
    }
    char p[PATH_CAP];
    snprintf(p, sizeof p, "%s/.%s.lock", c->parent, c->name);
    c->lock_fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (c->lock_fd < 0) {
        sl_fail_errno(err, SL_EIO, "cannot open lock '%s'", p);
        goto fail;
    }
    if (flock(c->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        sl_fail(err, SL_EAGAIN, "another extract is writing '%s'", c->out);
        goto fail;
    }
    /* Invariant 4: with the lock held, every PARENT/.NAME.v-* is garbage. */
    int pfd = open(c->parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (pfd >= 0) {
        DIR *d = fdopendir(pfd);
        if (d) {
            char prefix[PATH_CAP];
            int pl = snprintf(prefix, sizeof prefix, ".%s.v-", c->name);
            struct dirent *e;
            while ((e = readdir(d)))
                if (strncmp(e->d_name, prefix, (size_t)pl) == 0)
                    rm_rf_at(dirfd(d), e->d_name);
            closedir(d);
        } else {
            close(pfd);
        }
    }
    struct stat st;
    if (stat(c->out, &st) == 0) {
        if (!S_ISDIR(st.st_mode)) {
            sl_fail(err, SL_EEXIST, "output '%s' exists and is not a directory", c->out);
            goto fail;
        }
        c->out_exists = true;
        if (mode == EXTRACT_MODE_ERROR && dir_nonempty(c->out)) {
            sl_fail(err, SL_EEXIST,
                    "output '%s' already exists (use --mode append or --mode overwrite)", c->out);
            goto fail;
        }
        snprintf(p, sizeof p, "%s/_offsets", c->out);
        c->offsets = read_small(p, 1 << 20);
    }
    return c;
fail:
    extract_commit_free(c);
    return NULL;
}

void extract_commit_free(struct extract_commit *c)
{
    if (!c)
        return;
    if (c->pending) {
        /* never published: drop it (invariant 4 would, at the next start) */
        char *slash = strrchr(c->pending, '/');
        int pfd = open(c->parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (pfd >= 0 && slash) {
            rm_rf_at(pfd, slash + 1);
        }
        if (pfd >= 0)
            close(pfd);
        free(c->pending);
    }
    drop_old(c);
    if (c->lock_fd >= 0)
        close(c->lock_fd);
    free(c->out);
    free(c->parent);
    free(c->name);
    free(c->offsets);
    free(c);
}

const char *extract_commit_offsets(const struct extract_commit *c)
{
    return c->offsets;
}

/* IDLE -> BUILDING: make PENDING, mirroring OUT unless this replaces it. */
static int begin_version(struct extract_commit *c, struct sl_error *err)
{
    char p[PATH_CAP];
    snprintf(p, sizeof p, "%s/.%s.v-%d-%u", c->parent, c->name, (int)getpid(), c->seq++);
    if (mkdir(p, 0755) != 0)
        return sl_fail_errno(err, SL_EIO, "cannot create '%s'", p);
    c->pending = sl_xstrdup(p);
    bool keep_old = c->out_exists && (c->mode != EXTRACT_MODE_OVERWRITE || c->published);
    if (keep_old)
        return link_tree(c->out, c->pending, 0, err);
    return SL_OK;
}

const char *extract_commit_part_path(struct extract_commit *c, const char *table,
                                     struct sl_error *err)
{
    if (!c->pending && begin_version(c, err) != SL_OK)
        return NULL;
    if (table && *table) {
        char dir[PATH_CAP];
        if (snprintf(dir, sizeof dir, "%s/%s", c->pending, table) >= (int)sizeof dir) {
            sl_fail(err, SL_ELIMIT, "table path too long for '%s'", table);
            return NULL;
        }
        if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
            sl_fail_errno(err, SL_EIO, "cannot create '%s'", dir);
            return NULL;
        }
        if (snprintf(c->path, sizeof c->path, "%s/part-%s-%05u.parquet", dir, c->run_id,
                     c->seq++) >= (int)sizeof c->path) {
            sl_fail(err, SL_ELIMIT, "table path too long for '%s'", table);
            return NULL;
        }
    } else {
        snprintf(c->path, sizeof c->path, "%s/part-%s-%05u.parquet", c->pending, c->run_id,
                 c->seq++);
    }
    return c->path;
}

int extract_commit_publish(struct extract_commit *c, const char *offsets_json,
                           struct sl_error *err)
{
    bool offsets_changed = offsets_json && (!c->offsets || strcmp(c->offsets, offsets_json) != 0);
    bool must = !c->published && (!c->out_exists || c->mode == EXTRACT_MODE_OVERWRITE);
    if (!c->pending && !offsets_changed && !must)
        return SL_OK;
    if (!c->pending && begin_version(c, err) != SL_OK)
        return err && err->code ? err->code : SL_EIO;
    char p[PATH_CAP];
    int rc = SL_OK;
    if (offsets_json) {
        snprintf(p, sizeof p, "%s/_offsets", c->pending);
        rc = write_file(p, offsets_json, err);
    }
    /* BUILDING -> SYNCED */
    if (rc == SL_OK)
        rc = seal_tree(c->pending, true, 0, err);
    if (rc != SL_OK)
        return rc;
    /* SYNCED -> SWAPPED: the commit point */
    if (c->out_exists) {
        if (syscall(SYS_renameat2, AT_FDCWD, c->pending, AT_FDCWD, c->out, RENAME_EXCHANGE) != 0)
            return sl_fail_errno(err, SL_EIO, "cannot swap '%s' into '%s'", c->pending, c->out);
    } else {
        if (rename(c->pending, c->out) != 0)
            return sl_fail_errno(err, SL_EIO, "cannot rename '%s' to '%s'", c->pending, c->out);
    }
    if (fsync_path(c->parent, O_RDONLY | O_DIRECTORY) != 0)
        return sl_fail_errno(err, SL_EIO, "cannot fsync '%s'", c->parent);
    /* SWAPPED -> IDLE: the old version is garbage now, deleted after a grace */
    drop_old(c);
    if (c->out_exists) {
        c->old = c->pending;
        c->old_at_ms = sl_clock_mono_ms();
    } else {
        free(c->pending);
    }
    c->pending = NULL;
    c->out_exists = true;
    c->published = true;
    if (offsets_json) {
        free(c->offsets);
        c->offsets = sl_xstrdup(offsets_json);
    }
    return SL_OK;
}
