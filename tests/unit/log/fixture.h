/*
 * fixture.h: helpers shared by the src/log unit tests: temporary data
 * directories, batch builders, and a reader that walks a partition through
 * log_partition_read() the way the broker's Fetch does.
 */
#ifndef TEST_LOG_FIXTURE_H
#define TEST_LOG_FIXTURE_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "kafka/batch.h"
#include "log/log.h"

static inline int fx_rm_(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

/* A fresh temporary directory (static storage; one at a time per test). */
static inline const char *fx_tmpdir(void)
{
    static char dir[64];
    snprintf(dir, sizeof dir, "/tmp/sluice-log-test-XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        abort();
    }
    return dir;
}

static inline void fx_rmdir(const char *dir)
{
    nftw(dir, fx_rm_, 16, FTW_DEPTH | FTW_PHYS);
}

/* Small segments and dense indexes so tests exercise rolls and lookups. */
static inline struct log_config fx_config(void)
{
    struct log_config cfg;
    log_config_default(&cfg);
    cfg.flush = LOG_FLUSH_ALWAYS; /* the group-commit rules are what most tests check */
    cfg.segment_bytes = 4096;
    cfg.index_interval_bytes = 300;
    return cfg;
}

/*
 * Append to `out` a batch of `n` records whose values are "v<tag>-<i>" padded
 * to `pad` bytes, timestamps ts, ts+1, ... Returns the batch size.
 */
static inline size_t fx_batch(struct sl_buf *out, int codec, int n, int64_t ts, int tag, int pad)
{
    struct kafka_batch_writer w;
    struct sl_error err = {0};
    size_t before = out->len;
    kafka_batch_writer_init(&w, codec, ts);
    for (int i = 0; i < n; i++) {
        char val[512];
        int len = snprintf(val, sizeof val, "v%d-%d", tag, i);
        if (len < 0 || len >= (int)sizeof val)
            len = 0;
        while (len < pad && len < (int)sizeof val - 1)
            val[len++] = '.';
        val[len] = '\0';
        kafka_batch_writer_add(&w, ts + i, sl_slice_make(NULL, 0), sl_slice_make(val, (size_t)len),
                               NULL, 0);
    }
    if (kafka_batch_writer_finish(&w, 999, out, &err) < 0) {
        fprintf(stderr, "fx_batch: %s\n", err.msg);
        abort();
    }
    kafka_batch_writer_release(&w);
    return out->len - before;
}

/* Append one batch; returns its base offset or a negative error. */
static inline int64_t fx_append(struct log_partition *part, int codec, int n, int64_t ts, int tag,
                                int pad)
{
    struct sl_buf b;
    struct sl_error err = {0};
    struct log_append_info info;
    sl_buf_init(&b, 0);
    fx_batch(&b, codec, n, ts, tag, pad);
    int rc = log_partition_append(part, b.data, b.len, &info, &err);
    sl_buf_release(&b);
    if (rc < 0) {
        fprintf(stderr, "fx_append: %s\n", err.msg);
        return rc;
    }
    return info.base_offset;
}

/* Read bytes of a log_read into a new buffer (caller releases). */
static inline void fx_read_bytes(const struct log_read *rd, struct sl_buf *out)
{
    sl_buf_init(out, 0);
    if (rd->len == 0)
        return;
    sl_buf_reserve(out, rd->len);
    ssize_t n = pread(rd->fd, out->data, rd->len, (off_t)rd->pos);
    sl_buf_setlen(out, n > 0 ? (size_t)n : 0);
}

struct fx_scan {
    int64_t records; /* records seen */
    int64_t batches; /* batches seen */
    int64_t next;    /* next expected offset */
    int64_t fetches; /* log_partition_read calls */
    int bad;         /* inconsistencies found */
};

/*
 * Consume the partition from `from` to the high watermark with Fetch-sized
 * reads of `max_bytes`, checking CRCs, offsets (contiguous from `from`) and
 * that every fetch returns whole batches.
 */
static inline struct fx_scan fx_consume(struct log_partition *part, int64_t from, int64_t max_bytes)
{
    struct fx_scan s = {0, 0, from, 0, 0};
    int64_t hw = log_partition_high_watermark(part);
    while (s.next < hw) {
        struct log_read rd;
        struct sl_error err = {0};
        int rc = log_partition_read(part, s.next, max_bytes, &rd, &err);
        s.fetches++;
        if (rc < 0 || rd.len == 0) {
            fprintf(stderr, "fx_consume: read at %lld: rc %d len %zu: %s\n", (long long)s.next, rc,
                    rd.len, err.msg);
            s.bad++;
            break;
        }
        struct sl_buf bytes;
        fx_read_bytes(&rd, &bytes);
        struct sl_slice rest = sl_buf_slice(&bytes);
        struct kafka_batch b;
        int k;
        while ((k = kafka_batch_next(&rest, true, &b, &err)) == 1) {
            s.batches++;
            struct kafka_batch_reader r;
            struct kafka_record rec;
            if (kafka_batch_reader_init(&r, &b, 0, &err) < 0)
                s.bad++;
            while (kafka_batch_reader_next(&r, &rec, &err) == 1) {
                if (rec.offset < s.next)
                    continue; /* the batch began before the fetch offset */
                if (rec.offset != s.next) {
                    fprintf(stderr, "fx_consume: offset %lld, expected %lld\n",
                            (long long)rec.offset, (long long)s.next);
                    s.bad++;
                }
                s.next = rec.offset + 1;
                s.records++;
            }
            kafka_batch_reader_release(&r);
        }
        if (k != 0) {
            fprintf(stderr, "fx_consume: partial or bad batch in fetch: %d %s\n", k, err.msg);
            s.bad++;
        }
        if (rd.next_offset != s.next) {
            fprintf(stderr, "fx_consume: next_offset %lld, consumed up to %lld\n",
                    (long long)rd.next_offset, (long long)s.next);
            s.bad++;
        }
        sl_buf_release(&bytes);
        log_read_release(&rd);
        if (s.bad)
            break;
    }
    return s;
}

/* Path of a file in partition p of topic t. */
static inline const char *fx_path(const char *dir, const char *topic, int p, int64_t base,
                                  const char *ext)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/topics/%s/%d/%020lld%s", dir, topic, p, (long long)base, ext);
    return path;
}

static inline long long fx_file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) < 0 ? -1 : (long long)st.st_size;
}

#endif
