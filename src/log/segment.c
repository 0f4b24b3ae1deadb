/*
 * segment.c: one segment of a partition log: the .log file of whole record
 * batches, its sparse .index and .timeindex, and recovery of both on open.
 *
 * Why the indexes are only hints: they are written after the batch they point
 * to and fsynced only when the segment rolls, so after a crash they may miss
 * entries or point past the surviving data. Opening a segment therefore checks
 * them (sorted, inside the file, the last entry names a real batch) and
 * rebuilds them from the .log when anything is off; the .log alone is truth.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/crc32c.h"
#include "base/log.h"
#include "base/mem.h"
#include "log/log_int.h"

/* ===== MARK: small helpers =============================================== */

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int pwrite_all(int fd, const void *p, size_t n, int64_t pos)
{
    const uint8_t *q = p;
    while (n > 0) {
        ssize_t w = pwrite(fd, q, n, (off_t)pos);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (w == 0)
                errno = EIO;
            return -1;
        }
        q += w;
        n -= (size_t)w;
        pos += w;
    }
    return 0;
}

int log_fsync_dir(const char *dir, struct sl_error *err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return sl_fail_errno(err, SL_EIO, "cannot open directory '%s'", dir);
    int rc = fsync(fd);
    close(fd);
    if (rc < 0)
        return sl_fail_errno(err, SL_EIO, "cannot fsync directory '%s'", dir);
    return SL_OK;
}

char *log_segment_path(const char *dir, int64_t base)
{
    size_t n = strlen(dir) + 32;
    char *p = sl_xmalloc(n);
    snprintf(p, n, "%s/%020" PRId64, dir, base);
    return p;
}

/* "<seg->path><ext>" in a caller buffer. */
static const char *seg_file(const struct log_segment *seg, const char *ext, char *buf, size_t n)
{
    snprintf(buf, n, "%s%s", seg->path, ext);
    return buf;
}

/* ===== MARK: scanning window ============================================= */

void log_scan_init(struct log_scan *sc, int fd, int64_t end, size_t chunk)
{
    sc->fd = fd;
    sc->end = end;
    sc->chunk = chunk;
    sl_buf_init(&sc->win, 0);
    sc->win_pos = 0;
}

void log_scan_release(struct log_scan *sc)
{
    if (sc)
        sl_buf_release(&sc->win);
}

int log_scan_get(struct log_scan *sc, int64_t pos, size_t n, const uint8_t **p,
                 struct sl_error *err)
{
    if (pos < 0 || pos > sc->end || (uint64_t)n > (uint64_t)(sc->end - pos))
        return SL_EAGAIN;
    if (pos >= sc->win_pos && (uint64_t)(pos - sc->win_pos) + n <= sc->win.len) {
        *p = sc->win.data + (pos - sc->win_pos);
        return SL_OK;
    }
    size_t want = n > sc->chunk ? n : sc->chunk;
    if ((uint64_t)want > (uint64_t)(sc->end - pos))
        want = (size_t)(sc->end - pos);
    sl_buf_reset(&sc->win);
    sc->win_pos = pos;
    if (sl_buf_reserve(&sc->win, want) < 0)
        return sl_fail(err, SL_ELIMIT, "read window of %zu bytes too large", want);
    size_t got = 0;
    while (got < want) {
        ssize_t r = pread(sc->fd, sc->win.data + got, want - got, (off_t)(pos + (int64_t)got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            sl_buf_setlen(&sc->win, 0);
            return sl_fail_errno(err, SL_EIO, "cannot read segment at byte %" PRId64, pos);
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    sl_buf_setlen(&sc->win, got);
    if (got < n)
        return SL_EAGAIN;
    *p = sc->win.data;
    return SL_OK;
}

int64_t log_scan_header(struct log_scan *sc, int64_t pos, struct kafka_batch *batch,
                        struct sl_error *err)
{
    const uint8_t *p;
    int rc = log_scan_get(sc, pos, KAFKA_BATCH_HEADER_SIZE, &p, err);
    if (rc < 0)
        return rc;
    int64_t size = kafka_batch_peek(sl_slice_make(p, KAFKA_BATCH_HEADER_SIZE), batch, err);
    if (size < 0)
        return size;
    if (size > sc->end - pos)
        return SL_EAGAIN;
    return size;
}

/* CRC-32C of the batch at pos (size bytes), streamed through the window. */
static int scan_crc_ok(struct log_scan *sc, int64_t pos, int64_t size, uint32_t want,
                       struct sl_error *err)
{
    uint32_t crc = 0;
    int64_t at = pos + KAFKA_BATCH_OFF_ATTRIBUTES, left = size - KAFKA_BATCH_OFF_ATTRIBUTES;
    while (left > 0) {
        size_t n = (uint64_t)left < sc->chunk ? (size_t)left : sc->chunk;
        const uint8_t *p;
        int rc = log_scan_get(sc, at, n, &p, err);
        if (rc < 0)
            return rc;
        crc = sl_crc32c(crc, p, n);
        at += (int64_t)n;
        left -= (int64_t)n;
    }
    return crc == want ? 1 : 0;
}

/* ===== MARK: index files ================================================= */

static void index_push(struct log_segment *seg, struct log_index_entry e)
{
    if (seg->nidx == seg->idx_cap) {
        seg->idx_cap = seg->idx_cap ? seg->idx_cap * 2 : 64;
        seg->idx = sl_xrealloc(seg->idx, seg->idx_cap * sizeof *seg->idx);
    }
    seg->idx[seg->nidx++] = e;
}

static void encode_entry(struct log_index_entry e, uint8_t ib[LOG_INDEX_ENTRY],
                         uint8_t tb[LOG_TIME_ENTRY])
{
    put_be32(ib, e.rel);
    put_be32(ib + 4, e.pos);
    put_be32(tb, (uint32_t)((uint64_t)e.ts >> 32));
    put_be32(tb + 4, (uint32_t)(uint64_t)e.ts);
    put_be32(tb + 8, e.rel);
}

/* Write in-memory entry i to both index files. */
static int index_write_at(struct log_segment *seg, size_t i, struct sl_error *err)
{
    uint8_t ib[LOG_INDEX_ENTRY], tb[LOG_TIME_ENTRY];
    encode_entry(seg->idx[i], ib, tb);
    char path[4096];
    if (pwrite_all(seg->index_fd, ib, sizeof ib, (int64_t)(i * LOG_INDEX_ENTRY)) < 0)
        return sl_fail_errno(err, SL_EIO, "cannot write '%s'",
                             seg_file(seg, ".index", path, sizeof path));
    if (pwrite_all(seg->time_fd, tb, sizeof tb, (int64_t)(i * LOG_TIME_ENTRY)) < 0)
        return sl_fail_errno(err, SL_EIO, "cannot write '%s'",
                             seg_file(seg, ".timeindex", path, sizeof path));
    return SL_OK;
}

int log_segment_index_add(struct log_segment *seg, struct log_index_entry e, struct sl_error *err)
{
    index_push(seg, e);
    return index_write_at(seg, seg->nidx - 1, err);
}

/* Replace both index files with the in-memory entries. */
static int index_rewrite(struct log_segment *seg, struct sl_error *err)
{
    struct sl_buf ib, tb;
    sl_buf_init(&ib, 0);
    sl_buf_init(&tb, 0);
    for (size_t i = 0; i < seg->nidx; i++) {
        uint8_t a[LOG_INDEX_ENTRY], b[LOG_TIME_ENTRY];
        encode_entry(seg->idx[i], a, b);
        sl_buf_append(&ib, a, sizeof a);
        sl_buf_append(&tb, b, sizeof b);
    }
    char path[4096];
    int rc = SL_OK;
    if (ftruncate(seg->index_fd, 0) < 0 || pwrite_all(seg->index_fd, ib.data, ib.len, 0) < 0)
        rc = sl_fail_errno(err, SL_EIO, "cannot rewrite '%s'",
                           seg_file(seg, ".index", path, sizeof path));
    else if (ftruncate(seg->time_fd, 0) < 0 || pwrite_all(seg->time_fd, tb.data, tb.len, 0) < 0)
        rc = sl_fail_errno(err, SL_EIO, "cannot rewrite '%s'",
                           seg_file(seg, ".timeindex", path, sizeof path));
    sl_buf_release(&ib);
    sl_buf_release(&tb);
    return rc;
}

/* Read whole small file; returns bytes read or -1. Caller frees *out. */
static ssize_t read_file(int fd, uint8_t **out)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return -1;
    size_t n = (size_t)st.st_size;
    uint8_t *p = sl_xmalloc(n + 1);
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, p + got, n - got, (off_t)got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    *out = p;
    return (ssize_t)got;
}

/*
 * Load the index files into seg->idx and check them against the .log size.
 * Returns true if they are consistent (possibly empty).
 */
static bool index_load(struct log_segment *seg, int64_t file_size)
{
    uint8_t *ib = NULL, *tb = NULL;
    ssize_t in = read_file(seg->index_fd, &ib);
    ssize_t tn = read_file(seg->time_fd, &tb);
    bool ok = in >= 0 && tn >= 0 && in % LOG_INDEX_ENTRY == 0 && tn % LOG_TIME_ENTRY == 0 &&
              in / LOG_INDEX_ENTRY == tn / LOG_TIME_ENTRY;
    size_t n = ok ? (size_t)(in / LOG_INDEX_ENTRY) : 0;
    seg->nidx = 0;
    for (size_t i = 0; ok && i < n; i++) {
        struct log_index_entry e;
        e.rel = get_be32(ib + i * LOG_INDEX_ENTRY);
        e.pos = get_be32(ib + i * LOG_INDEX_ENTRY + 4);
        const uint8_t *t = tb + i * LOG_TIME_ENTRY;
        e.ts = (int64_t)((uint64_t)get_be32(t) << 32 | get_be32(t + 4));
        uint32_t trel = get_be32(t + 8);
        if (trel != e.rel || (int64_t)e.pos + KAFKA_BATCH_HEADER_SIZE > file_size || e.pos == 0)
            ok = false;
        else if (i > 0 && (e.rel <= seg->idx[i - 1].rel || e.pos <= seg->idx[i - 1].pos ||
                           e.ts < seg->idx[i - 1].ts))
            ok = false;
        else
            index_push(seg, e);
    }
    free(ib);
    free(tb);
    if (!ok)
        seg->nidx = 0;
    return ok;
}

/* ===== MARK: lookups ===================================================== */

int64_t log_segment_lookup(const struct log_segment *seg, int64_t offset)
{
    if (offset < seg->base)
        return 0;
    uint64_t rel = (uint64_t)(offset - seg->base);
    size_t lo = 0, hi = seg->nidx; /* first entry with rel > target */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (seg->idx[mid].rel <= rel)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo == 0 ? 0 : seg->idx[lo - 1].pos;
}

int64_t log_segment_lookup_time(const struct log_segment *seg, int64_t ts)
{
    size_t lo = 0, hi = seg->nidx; /* first entry with entry ts >= target */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (seg->idx[mid].ts < ts)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo == 0 ? 0 : seg->idx[lo - 1].pos;
}

/* ===== MARK: open, create, recover ======================================= */

static struct log_segment *seg_alloc(const char *dir, int64_t base)
{
    struct log_segment *seg = sl_xcalloc(1, sizeof *seg);
    seg->base = base;
    seg->path = log_segment_path(dir, base);
    seg->fd = seg->index_fd = seg->time_fd = -1;
    seg->next_offset = base;
    seg->max_ts = LOG_TS_NONE;
    return seg;
}

void log_segment_free(struct log_segment *seg)
{
    if (!seg)
        return;
    if (seg->fd >= 0)
        close(seg->fd);
    if (seg->index_fd >= 0)
        close(seg->index_fd);
    if (seg->time_fd >= 0)
        close(seg->time_fd);
    free(seg->idx);
    free(seg->path);
    free(seg);
}

void log_segment_unlink(struct log_segment *seg)
{
    char path[4096];
    /* The .log first: a leftover index without its .log is removed on open. */
    unlink(seg_file(seg, ".log", path, sizeof path));
    unlink(seg_file(seg, ".index", path, sizeof path));
    unlink(seg_file(seg, ".timeindex", path, sizeof path));
}

static int open_files(struct log_segment *seg, int log_flags, struct sl_error *err)
{
    char path[4096];
    seg->fd = open(seg_file(seg, ".log", path, sizeof path), O_RDWR | O_CLOEXEC | log_flags, 0644);
    if (seg->fd < 0)
        return sl_fail_errno(err, SL_EIO, "cannot open segment '%s'", path);
    int flags = O_RDWR | O_CREAT | O_CLOEXEC | (log_flags & O_TRUNC);
    seg->index_fd = open(seg_file(seg, ".index", path, sizeof path), flags, 0644);
    if (seg->index_fd < 0)
        return sl_fail_errno(err, SL_EIO, "cannot open index '%s'", path);
    seg->time_fd = open(seg_file(seg, ".timeindex", path, sizeof path), flags, 0644);
    if (seg->time_fd < 0)
        return sl_fail_errno(err, SL_EIO, "cannot open time index '%s'", path);
    return SL_OK;
}

struct log_segment *log_segment_create(const char *dir, int64_t base, int64_t now_ms,
                                       struct sl_error *err)
{
    struct log_segment *seg = seg_alloc(dir, base);
    if (open_files(seg, O_CREAT | O_TRUNC, err) < 0) {
        log_segment_free(seg);
        return NULL;
    }
    seg->created_ms = now_ms;
    return seg;
}

/*
 * Walk batches from `pos` (whose first batch must have base offset
 * `expected`), adding index entries by the append rule, until the end of the
 * file or the first batch that is torn, malformed, fails its CRC or breaks
 * offset continuity. Sets seg->size, next_offset, max_ts, bytes_since_index.
 * Returns the number of index entries added (>= 0) or SL_EIO; *why gets the
 * reason scanning stopped early (NULL when it reached the end cleanly).
 */
static int scan_tail(struct log_segment *seg, int64_t pos, int64_t expected, int64_t max_ts,
                     int64_t file_size, const struct log_config *cfg, const char **why,
                     struct sl_error *err)
{
    struct log_scan sc;
    log_scan_init(&sc, seg->fd, file_size, LOG_SCAN_CHUNK_RECOVER);
    int added = 0;
    int64_t since = 0;
    *why = NULL;
    while (pos < file_size) {
        struct kafka_batch b;
        struct sl_error herr = {0};
        int64_t size = log_scan_header(&sc, pos, &b, &herr);
        if (size == SL_EIO) {
            sl_fail(err, SL_EIO, "%s", herr.msg);
            added = SL_EIO;
            break;
        }
        if (size < 0) {
            *why = size == SL_EAGAIN ? "torn batch" : "malformed batch header";
            break;
        }
        if (b.base_offset != expected) {
            *why = "batch offset out of sequence";
            break;
        }
        int ok = scan_crc_ok(&sc, pos, size, b.crc, &herr);
        if (ok == SL_EIO) {
            sl_fail(err, SL_EIO, "%s", herr.msg);
            added = SL_EIO;
            break;
        }
        if (ok != 1) {
            *why = ok == 0 ? "batch crc mismatch" : "torn batch";
            break;
        }
        if (since >= cfg->index_interval_bytes && pos > 0) {
            int64_t ts = b.max_timestamp > max_ts ? b.max_timestamp : max_ts;
            struct log_index_entry e = {(uint32_t)(b.base_offset - seg->base), (uint32_t)pos, ts};
            index_push(seg, e);
            added++;
            since = 0;
        }
        since += size;
        if (b.max_timestamp > max_ts)
            max_ts = b.max_timestamp;
        expected = kafka_batch_last_offset(&b) + 1;
        pos += size;
    }
    log_scan_release(&sc);
    seg->size = pos;
    seg->next_offset = expected;
    seg->max_ts = max_ts;
    seg->bytes_since_index = since;
    return added;
}

struct log_segment *log_segment_open(const char *dir, int64_t base, bool full,
                                     const struct log_config *cfg, int64_t now_ms,
                                     struct sl_error *err)
{
    struct log_segment *seg = seg_alloc(dir, base);
    char path[4096];
    if (open_files(seg, 0, err) < 0)
        goto fail;
    struct stat st;
    if (fstat(seg->fd, &st) < 0) {
        sl_fail_errno(err, SL_EIO, "cannot stat segment '%s'",
                      seg_file(seg, ".log", path, sizeof path));
        goto fail;
    }
    int64_t file_size = st.st_size;
    seg->created_ms = now_ms;

    bool index_ok = index_load(seg, file_size);
    bool rebuilt = false;
    const char *why = NULL;
    int added;
    if (!full && index_ok) {
        /* Trust the index up to its last entry; verify from there to the end. */
        int64_t pos = 0, expected = base, ts = LOG_TS_NONE;
        if (seg->nidx > 0) {
            struct log_index_entry last = seg->idx[seg->nidx - 1];
            pos = last.pos;
            expected = base + last.rel;
            ts = last.ts;
        }
        size_t before = seg->nidx;
        added = scan_tail(seg, pos, expected, ts, file_size, cfg, &why, err);
        if (added < 0)
            goto fail;
        if (seg->size == pos && pos > 0) {
            /* The last entry does not name a valid batch: distrust it all. */
            index_ok = false;
            seg->nidx = 0;
        } else if ((size_t)added > 0) {
            for (size_t i = before; i < seg->nidx; i++)
                if (index_write_at(seg, i, err) < 0)
                    goto fail;
        }
    }
    if (full || !index_ok) {
        size_t loaded = seg->nidx;
        struct log_index_entry *old = NULL;
        if (loaded) {
            old = sl_xmalloc(loaded * sizeof *old);
            memcpy(old, seg->idx, loaded * sizeof *old);
        }
        seg->nidx = 0;
        added = scan_tail(seg, 0, base, LOG_TS_NONE, file_size, cfg, &why, err);
        if (added < 0) {
            free(old);
            goto fail;
        }
        rebuilt = !index_ok || loaded != seg->nidx ||
                  (loaded && memcmp(old, seg->idx, loaded * sizeof *old) != 0);
        free(old);
    }
    if (seg->size < file_size) {
        sl_warn("truncating segment '%s' from %" PRId64 " to %" PRId64 " bytes: %s at byte "
                "%" PRId64,
                seg_file(seg, ".log", path, sizeof path), file_size, seg->size,
                why ? why : "garbage", seg->size);
        if (ftruncate(seg->fd, (off_t)seg->size) < 0 || fdatasync(seg->fd) < 0) {
            sl_fail_errno(err, SL_EIO, "cannot truncate segment '%s'", path);
            goto fail;
        }
        /* Entries past the cut cannot exist: scan_tail stopped there. */
        rebuilt = true;
    }
    if (rebuilt) {
        if (!index_ok)
            sl_info("rebuilt index of segment '%s' (%zu entries)",
                    seg_file(seg, ".log", path, sizeof path), seg->nidx);
        if (index_rewrite(seg, err) < 0)
            goto fail;
    }
    return seg;
fail:
    log_segment_free(seg);
    return NULL;
}

void log_segment_seal(struct log_segment *seg)
{
    /* Sealed segments are never written again: their index descriptors are
     * not needed, and closing them keeps a partition at one fd per segment. */
    if (seg->index_fd >= 0)
        close(seg->index_fd);
    if (seg->time_fd >= 0)
        close(seg->time_fd);
    seg->index_fd = seg->time_fd = -1;
}

int log_segment_sync(struct log_segment *seg, bool indexes, struct sl_error *err)
{
    char path[4096];
    if (fdatasync(seg->fd) < 0)
        return sl_fail_errno(err, SL_EIO, "cannot fdatasync segment '%s'",
                             seg_file(seg, ".log", path, sizeof path));
    if (indexes && seg->index_fd >= 0 &&
        (fdatasync(seg->index_fd) < 0 || fdatasync(seg->time_fd) < 0))
        return sl_fail_errno(err, SL_EIO, "cannot fdatasync index of '%s'",
                             seg_file(seg, ".log", path, sizeof path));
    seg->dirty = false;
    return SL_OK;
}
