/* recovery_test.c: tests for what src/log does on open after a crash: torn
 * tails, garbage, lost or damaged indexes, interrupted topic operations. */
#include <fcntl.h>

#include "base/log.h"
#include "check.h"
#include "fixture.h"

static struct log_store *reopen(const char *dir, const struct log_config *cfg)
{
    struct sl_error err = {0};
    struct log_store *store = log_store_open(dir, cfg, &err);
    if (!store)
        fprintf(stderr, "reopen: %s\n", err.msg);
    return store;
}

static struct log_partition *part0(struct log_store *store)
{
    return log_store_partition(store, "t", 0);
}

static void create_t(struct log_store *store)
{
    struct sl_error err = {0};
    if (log_store_topic_create(store, "t", 1, NULL, NULL, &err) < 0)
        fprintf(stderr, "create: %s\n", err.msg);
}

static void sync_all(struct log_store *store)
{
    struct sl_error err = {0};
    log_store_sync(store, 0, &err);
}

/* Whole file into a malloc'ed buffer. */
static uint8_t *slurp(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY);
    long long n = fx_file_size(path);
    if (fd < 0 || n < 0) {
        *len = 0;
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    uint8_t *p = malloc((size_t)n + 1);
    ssize_t r = pread(fd, p, (size_t)n, 0);
    close(fd);
    *len = r > 0 ? (size_t)r : 0;
    return p;
}

static void spit(const char *path, const uint8_t *p, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || (len && write(fd, p, len) != (ssize_t)len))
        perror(path);
    if (fd >= 0)
        close(fd);
}

static void append_bytes(const char *path, const void *p, size_t len)
{
    int fd = open(path, O_WRONLY | O_APPEND);
    if (fd < 0 || write(fd, p, len) != (ssize_t)len)
        perror(path);
    if (fd >= 0)
        close(fd);
}

/*
 * Ten batches in one segment, sizes and codecs varied; cut the file at many
 * points inside several batches: on reopen exactly the batches wholly before
 * the cut remain, and appends continue at the next offset.
 */
static void test_log_torn_tail_truncated_at_every_cut_point(void)
{
    const char *dir = fx_tmpdir();
    struct log_config cfg = fx_config();
    cfg.segment_bytes = 1 << 20;
    cfg.index_interval_bytes = 100;
    struct log_store *store = reopen(dir, &cfg);
    create_t(store);
    int64_t ends[10], next[10], pos = 0, off = 0;
    for (int i = 0; i < 10; i++) {
        struct sl_buf b;
        sl_buf_init(&b, 0);
        int n = 1 + i;
        pos += (int64_t)fx_batch(&b, i % 5, n, 1000 * i, i, 30 + 10 * i);
        sl_buf_release(&b);
        fx_append(part0(store), i % 5, n, 1000 * i, i, 30 + 10 * i);
        off += n;
        ends[i] = pos;
        next[i] = off;
    }
    sync_all(store);
    log_store_close(store);
    char logpath[512];
    snprintf(logpath, sizeof logpath, "%s", fx_path(dir, "t", 0, 0, ".log"));
    size_t full_len;
    uint8_t *full = slurp(logpath, &full_len);
    CHECK_INT(full_len, ends[9]);

    for (int k = 3; k < 10; k += 3) {
        int64_t start = ends[k - 1], size = ends[k] - ends[k - 1];
        int64_t cuts[] = {1, 8, 12, 17, 21, 40, 60, 61, 62, size / 2, size - 1};
        for (size_t c = 0; c < sizeof cuts / sizeof *cuts; c++) {
            if (cuts[c] >= size)
                continue;
            spit(logpath, full, (size_t)(start + cuts[c]));
            store = reopen(dir, &cfg);
            CHECK(store != NULL);
            if (!store)
                continue;
            struct log_partition *part = part0(store);
            CHECK_INT(log_partition_end_offset(part), next[k - 1]);
            CHECK_INT(log_partition_high_watermark(part), next[k - 1]);
            CHECK_INT(fx_file_size(logpath), start);
            struct fx_scan s = fx_consume(part, 0, 1 << 20);
            CHECK_INT(s.bad, 0);
            CHECK_INT(s.records, next[k - 1]);
            CHECK_INT(fx_append(part, KAFKA_CODEC_NONE, 2, 0, 0, 0), next[k - 1]);
            sync_all(store);
            s = fx_consume(part, 0, 1 << 20);
            CHECK_INT(s.bad, 0);
            CHECK_INT(s.records, next[k - 1] + 2);
            log_store_close(store);
        }
    }
    free(full);
    fx_rmdir(dir);
}

/* Build a store with a multi-segment partition; returns its LEO. */
static int64_t build(const char *dir, const struct log_config *cfg, int batches)
{
    struct log_store *store = reopen(dir, cfg);
    create_t(store);
    int64_t leo = 0;
    for (int i = 0; i < batches; i++) {
        fx_append(part0(store), i % 5, 3, 1000 * i, i, 40);
        leo += 3;
    }
    sync_all(store);
    log_store_close(store);
    return leo;
}

static void test_log_garbage_after_last_batch_truncated(void)
{
    const char *dir = fx_tmpdir();
    struct log_config cfg = fx_config();
    int64_t leo = build(dir, &cfg, 40);
    struct log_store *store = reopen(dir, &cfg);
    struct log_partition *part = part0(store);
    int64_t active = log_partition_start_offset(part);
    size_t nsegs = log_partition_segment_count(part);
    /* find the active segment's base by scanning names */
    struct log_read rd;
    struct sl_error err = {0};
    CHECK_INT(log_partition_read(part, leo - 1, 1, &rd, &err), SL_OK);
    log_read_release(&rd);
    log_store_close(store);
    for (int64_t b = leo; b >= 0; b--)
        if (fx_file_size(fx_path(dir, "t", 0, b, ".log")) >= 0) {
            active = b;
            break;
        }
    char logpath[512];
    snprintf(logpath, sizeof logpath, "%s", fx_path(dir, "t", 0, active, ".log"));
    long long good = fx_file_size(logpath);

    /* 1: random bytes; 2: zeros (ext4 after a crash); 3: a valid batch with
     * an out-of-sequence offset; 4: a next batch whose CRC fails. */
    for (int kind = 1; kind <= 4; kind++) {
        uint8_t junk[4096];
        size_t n = sizeof junk;
        if (kind == 1) {
            for (size_t i = 0; i < n; i++)
                junk[i] = (uint8_t)(i * 131 + 7);
            n = 777;
        } else if (kind == 2) {
            memset(junk, 0, n);
        } else {
            struct sl_buf b;
            sl_buf_init(&b, 0);
            fx_batch(&b, KAFKA_CODEC_NONE, 2, 0, 0, 0);
            kafka_batch_set_base_offset(b.data, kind == 3 ? leo + 5 : leo);
            if (kind == 4)
                b.data[b.len - 2] ^= 1;
            n = b.len;
            memcpy(junk, b.data, n);
            sl_buf_release(&b);
        }
        append_bytes(logpath, junk, n);
        CHECK_INT(fx_file_size(logpath), good + (long long)n);
        store = reopen(dir, &cfg);
        part = part0(store);
        CHECK_INT(fx_file_size(logpath), good);
        CHECK_INT(log_partition_end_offset(part), leo);
        CHECK_INT(log_partition_segment_count(part), nsegs);
        struct fx_scan s = fx_consume(part, 0, 5000);
        CHECK_INT(s.bad, 0);
        CHECK_INT(s.records, leo);
        log_store_close(store);
    }
    /* A valid next batch (as if its write completed) is kept. */
    {
        struct sl_buf b;
        sl_buf_init(&b, 0);
        fx_batch(&b, KAFKA_CODEC_NONE, 2, 0, 0, 0);
        kafka_batch_set_base_offset(b.data, leo);
        append_bytes(logpath, b.data, b.len);
        sl_buf_release(&b);
        store = reopen(dir, &cfg);
        CHECK_INT(log_partition_end_offset(part0(store)), leo + 2);
        log_store_close(store);
    }
    fx_rmdir(dir);
}

static void test_log_missing_indexes_rebuilt_identically(void)
{
    const char *dir = fx_tmpdir();
    struct log_config cfg = fx_config();
    int64_t leo = build(dir, &cfg, 150);
    /* Save every index file, then delete them all. */
    struct saved {
        int64_t base;
        uint8_t *idx, *tidx;
        size_t nidx, ntidx;
    } saved[256];
    int ns = 0;
    for (int64_t b = 0; b <= leo && ns < 256; b++) {
        if (fx_file_size(fx_path(dir, "t", 0, b, ".log")) < 0)
            continue;
        saved[ns].base = b;
        saved[ns].idx = slurp(fx_path(dir, "t", 0, b, ".index"), &saved[ns].nidx);
        saved[ns].tidx = slurp(fx_path(dir, "t", 0, b, ".timeindex"), &saved[ns].ntidx);
        unlink(fx_path(dir, "t", 0, b, ".index"));
        unlink(fx_path(dir, "t", 0, b, ".timeindex"));
        ns++;
    }
    CHECK(ns > 3);
    struct log_store *store = reopen(dir, &cfg);
    struct log_partition *part = part0(store);
    CHECK_INT(log_partition_end_offset(part), leo);
    int with_entries = 0;
    for (int i = 0; i < ns; i++) {
        size_t n1, n2;
        uint8_t *idx = slurp(fx_path(dir, "t", 0, saved[i].base, ".index"), &n1);
        uint8_t *tidx = slurp(fx_path(dir, "t", 0, saved[i].base, ".timeindex"), &n2);
        CHECK_INT(n1, saved[i].nidx);
        CHECK_INT(n2, saved[i].ntidx);
        if (n1 == saved[i].nidx && n1)
            CHECK_MEM(idx, saved[i].idx, n1);
        if (n2 == saved[i].ntidx && n2)
            CHECK_MEM(tidx, saved[i].tidx, n2);
        with_entries += n1 > 0;
        free(idx);
        free(tidx);
        free(saved[i].idx);
        free(saved[i].tidx);
    }
    CHECK(with_entries > 0);
    struct fx_scan s = fx_consume(part, 0, 3000);
    CHECK_INT(s.bad, 0);
    CHECK_INT(s.records, leo);
    int64_t off, ts;
    struct sl_error err = {0};
    CHECK_INT(log_partition_offset_for_time(part, 33001, &off, &ts, &err), SL_OK);
    CHECK_INT(off, 100);
    log_store_close(store);
    fx_rmdir(dir);
}

static void test_log_inconsistent_indexes_rebuilt(void)
{
    const char *dir = fx_tmpdir();
    struct log_config cfg = fx_config();
    int64_t leo = build(dir, &cfg, 60);
    size_t n_ok, t_ok;
    uint8_t *idx_ok = slurp(fx_path(dir, "t", 0, 0, ".index"), &n_ok);
    uint8_t *tidx_ok = slurp(fx_path(dir, "t", 0, 0, ".timeindex"), &t_ok);
    CHECK(n_ok >= 16);
    /* Entries out of order / past the end of the .log, and a torn time index. */
    uint8_t bad[16];
    memset(bad, 0xff, sizeof bad);
    spit(fx_path(dir, "t", 0, 0, ".index"), bad, sizeof bad);
    spit(fx_path(dir, "t", 0, 0, ".timeindex"), tidx_ok, t_ok - 5);
    struct log_store *store = reopen(dir, &cfg);
    CHECK_INT(log_partition_end_offset(part0(store)), leo);
    size_t n, t;
    uint8_t *idx = slurp(fx_path(dir, "t", 0, 0, ".index"), &n);
    uint8_t *tidx = slurp(fx_path(dir, "t", 0, 0, ".timeindex"), &t);
    CHECK_INT(n, n_ok);
    CHECK_INT(t, t_ok);
    if (n == n_ok)
        CHECK_MEM(idx, idx_ok, n);
    if (t == t_ok)
        CHECK_MEM(tidx, tidx_ok, t);
    struct fx_scan s = fx_consume(part0(store), 0, 3000);
    CHECK_INT(s.bad, 0);
    CHECK_INT(s.records, leo);
    log_store_close(store);
    /* An index entry naming a position that is not a batch start. */
    uint8_t *shifted = malloc(n_ok);
    memcpy(shifted, idx_ok, n_ok);
    shifted[n_ok - 1] += 3;
    spit(fx_path(dir, "t", 0, 0, ".index"), shifted, n_ok);
    store = reopen(dir, &cfg);
    free(idx);
    idx = slurp(fx_path(dir, "t", 0, 0, ".index"), &n);
    CHECK_INT(n, n_ok);
    if (n == n_ok)
        CHECK_MEM(idx, idx_ok, n);
    s = fx_consume(part0(store), 0, 3000);
    CHECK_INT(s.bad, 0);
    log_store_close(store);
    free(shifted);
    free(idx);
    free(tidx);
    free(idx_ok);
    free(tidx_ok);
    fx_rmdir(dir);
}

static void test_log_torn_older_segment_keeps_later_segments(void)
{
    const char *dir = fx_tmpdir();
    struct log_config cfg = fx_config();
    int64_t leo = build(dir, &cfg, 60);
    const char *p = fx_path(dir, "t", 0, 0, ".log");
    long long size = fx_file_size(p);
    CHECK(truncate(p, size - 10) == 0);
    struct log_store *store = reopen(dir, &cfg);
    struct log_partition *part = part0(store);
    CHECK_INT(log_partition_end_offset(part), leo);
    CHECK_INT(log_partition_start_offset(part), 0);
    CHECK(fx_file_size(fx_path(dir, "t", 0, 0, ".log")) < size - 10);
    /* Reading at the lost offsets skips to the next data. */
    struct log_read rd;
    struct sl_error err = {0};
    int64_t next_base = -1;
    for (int64_t b = 1; b < leo; b++)
        if (fx_file_size(fx_path(dir, "t", 0, b, ".log")) >= 0) {
            next_base = b;
            break;
        }
    CHECK(next_base > 0);
    CHECK_INT(log_partition_read(part, next_base - 1, 100, &rd, &err), SL_OK);
    CHECK_INT(rd.first_offset, next_base);
    log_read_release(&rd);
    log_store_close(store);
    fx_rmdir(dir);
}

static void test_log_interrupted_topic_operations_cleaned(void)
{
    const char *dir = fx_tmpdir();
    struct log_config cfg = fx_config();
    build(dir, &cfg, 3);
    char path[512];
    snprintf(path, sizeof path, "%s/tmp/half", dir);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/tmp/half/0", dir);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/trash/gone.7", dir);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/topics/noconf", dir);
    mkdir(path, 0755);
    /* An index left behind by an interrupted segment delete. */
    spit(fx_path(dir, "t", 0, 12345, ".index"), (const uint8_t *)"x", 1);
    struct log_store *store = reopen(dir, &cfg);
    CHECK(store != NULL);
    CHECK_INT(log_store_topic_count(store), 1);
    snprintf(path, sizeof path, "%s/tmp/half", dir);
    CHECK_INT(fx_file_size(path), -1);
    snprintf(path, sizeof path, "%s/trash/gone.7", dir);
    CHECK_INT(fx_file_size(path), -1);
    CHECK_INT(fx_file_size(fx_path(dir, "t", 0, 12345, ".index")), -1);
    CHECK_INT(log_partition_end_offset(part0(store)), 9);
    log_store_close(store);
    fx_rmdir(dir);
}

static void test_log_crc_damage_in_active_segment_truncates_from_there(void)
{
    const char *dir = fx_tmpdir();
    struct log_config cfg = fx_config();
    cfg.segment_bytes = 1 << 20;
    int64_t leo = build(dir, &cfg, 10);
    const char *p = fx_path(dir, "t", 0, 0, ".log");
    size_t len;
    uint8_t *bytes = slurp(p, &len);
    /* Flip a byte in the records of batch 7 (of 10). */
    struct sl_slice rest = sl_slice_make(bytes, len);
    struct kafka_batch b;
    struct sl_error err = {0};
    size_t at = 0;
    for (int i = 0; i < 7; i++) {
        kafka_batch_next(&rest, true, &b, &err);
        at += b.bytes.len;
    }
    bytes[at + 70] ^= 0x10;
    spit(p, bytes, len);
    struct log_store *store = reopen(dir, &cfg);
    CHECK_INT(log_partition_end_offset(part0(store)), 21);
    CHECK_INT(fx_file_size(p), (long long)at);
    CHECK(leo == 30);
    log_store_close(store);
    free(bytes);
    fx_rmdir(dir);
}

/*
 * Random damage to the active segment (flipped bytes, cuts, inserted
 * junk): opening always succeeds, what remains is a prefix of the original
 * file made of whole valid batches, and reading it back is consistent.
 */
static void test_log_random_segment_damage_always_recovers(void)
{
    const char *dir = fx_tmpdir();
    struct log_config cfg = fx_config();
    cfg.segment_bytes = 1 << 20;
    int64_t leo = build(dir, &cfg, 30);
    char logpath[512];
    snprintf(logpath, sizeof logpath, "%s", fx_path(dir, "t", 0, 0, ".log"));
    size_t len;
    uint8_t *orig = slurp(logpath, &len);
    uint8_t *work = malloc(len + 64);
    unsigned r = 12345;
    for (int iter = 0; iter < 150; iter++) {
        memcpy(work, orig, len);
        size_t n = len;
        int kind = iter % 3;
        r = r * 1103515245u + 12345u;
        size_t at = (r >> 8) % len;
        if (kind == 0) {
            work[at] ^= (uint8_t)(1 + (r & 0x7f));
        } else if (kind == 1) {
            n = at;
        } else {
            memmove(work + at + 7, work + at, len - at);
            memcpy(work + at, "garbage", 7);
            n = len + 7;
        }
        spit(logpath, work, n);
        struct log_store *store = reopen(dir, &cfg);
        CHECK(store != NULL);
        if (!store)
            break;
        struct log_partition *part = part0(store);
        int64_t end = log_partition_end_offset(part);
        CHECK(end <= leo);
        size_t cur_len;
        uint8_t *cur = slurp(logpath, &cur_len);
        /* Only whole batches before the damage survive; a flip in bytes the
         * CRC does not cover (the leader epoch) may keep everything. */
        CHECK(cur_len <= at || kind == 0);
        size_t same = cur_len < at ? cur_len : at;
        if (same)
            CHECK_MEM(cur, orig, same);
        free(cur);
        struct fx_scan sc = fx_consume(part, 0, 4096);
        CHECK_INT(sc.bad, 0);
        CHECK_INT(sc.records, end);
        log_store_close(store);
    }
    spit(logpath, orig, len);
    free(orig);
    free(work);
    fx_rmdir(dir);
}

int main(void)
{
    sl_log_set_level(SL_LOG_ERROR);
    RUN(test_log_torn_tail_truncated_at_every_cut_point);
    RUN(test_log_garbage_after_last_batch_truncated);
    RUN(test_log_missing_indexes_rebuilt_identically);
    RUN(test_log_inconsistent_indexes_rebuilt);
    RUN(test_log_torn_older_segment_keeps_later_segments);
    RUN(test_log_interrupted_topic_operations_cleaned);
    RUN(test_log_crc_damage_in_active_segment_truncates_from_there);
    RUN(test_log_random_segment_damage_always_recovers);
    return CHECK_DONE();
}
