/* store_test.c: tests for src/log: append, Fetch reads, indexes, group
 * commit, retention, topics. Recovery has its own file (recovery_test.c). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>

#include "base/clock.h"
#include "base/log.h"
#include "log/log_int.h" /* store->syncer, to forge a failed fdatasync */

#include "check.h"
#include "fixture.h"

static struct log_store *open_store(const char *dir, const struct log_config *cfg)
{
    struct sl_error err = {0};
    struct log_store *store = log_store_open(dir, cfg, &err);
    if (!store)
        fprintf(stderr, "open_store: %s\n", err.msg);
    return store;
}

static struct log_partition *make_topic(struct log_store *store, const char *name, int n)
{
    struct sl_error err = {0};
    struct log_topic *topic = NULL;
    int rc = log_store_topic_create(store, name, n, NULL, &topic, &err);
    if (rc < 0) {
        fprintf(stderr, "make_topic: %s\n", err.msg);
        return NULL;
    }
    return log_topic_partition(topic, 0);
}

static void sync_store(struct log_store *store)
{
    struct sl_error err = {0};
    if (log_store_sync(store, 0, &err) < 0)
        fprintf(stderr, "sync: %s\n", err.msg);
}

static void test_log_append_assigns_offsets_and_patches_base(void)
{
    const char *dir = fx_tmpdir();
    struct log_config cfg = fx_config();
    struct log_store *store = open_store(dir, &cfg);
    struct log_partition *part = make_topic(store, "events", 1);
    CHECK(part != NULL);
    CHECK_INT(log_partition_end_offset(part), 0);
    CHECK_INT(fx_append(part, KAFKA_CODEC_NONE, 3, 1000, 0, 0), 0);
    CHECK_INT(fx_append(part, KAFKA_CODEC_NONE, 2, 1000, 1, 0), 3);
    CHECK_INT(fx_append(part, KAFKA_CODEC_NONE, 1, 1000, 2, 0), 5);
    CHECK_INT(log_partition_end_offset(part), 6);
    CHECK_INT(log_partition_start_offset(part), 0);
    sync_store(store);
    /* The stored bytes carry the assigned base offsets, with valid CRCs. */
    struct log_read rd;
    struct sl_error err = {0};
    CHECK_INT(log_partition_read(part, 0, 1 << 20, &rd, &err), SL_OK);
    struct sl_buf bytes;
    fx_read_bytes(&rd, &bytes);
    struct sl_slice rest = sl_buf_slice(&bytes);
    struct kafka_batch b;
    int64_t bases[3] = {0, 3, 5};
    for (int i = 0; i < 3; i++) {
        CHECK_INT(kafka_batch_next(&rest, true, &b, &err), 1);
        CHECK_INT(b.base_offset, bases[i]);
        CHECK_INT(b.partition_leader_epoch, 0);
    }
    CHECK_INT(kafka_batch_next(&rest, true, &b, &err), 0);
    sl_buf_release(&bytes);
    log_read_release(&rd);
    log_store_close(store);
    fx_rmdir(dir);
}

static void test_log_appends_invisible_until_group_commit(void)
{
    const char *dir = fx_tmpdir();
    struct log_config cfg = fx_config();
    struct log_store *store = open_store(dir, &cfg);
    struct log_partition *part = make_topic(store, "t", 2);
    struct log_partition *p1 = log_store_partition(store, "t", 1);
    struct sl_buf b;
    struct sl_error err = {0};
    struct log_append_info i1, i2, i3;
    sl_buf_init(&b, 0);
    fx_batch(&b, KAFKA_CODEC_NONE, 2, 5, 0, 0);
    CHECK_INT(log_partition_append(part, b.data, b.len, &i1, &err), SL_OK);
    CHECK_INT(log_partition_append(p1, b.data, b.len, &i2, &err), SL_OK);
    CHECK(i2.ticket > i1.ticket);
    CHECK(log_store_dirty(store));
    CHECK(log_store_synced(store) < i1.ticket);
    CHECK_INT(log_partition_high_watermark(part), 0);
    CHECK_INT(log_partition_end_offset(part), 2);
    struct log_read rd;
    CHECK_INT(log_partition_read(part, 0, 1 << 20, &rd, &err), SL_OK);
    CHECK_INT(rd.len, 0); /* between HW and LEO: empty, no error */
    CHECK_INT(rd.high_watermark, 0);

    CHECK_INT(log_store_sync(store, 0, &err), SL_OK);
    CHECK(log_store_synced(store) >= i2.ticket);
    CHECK(!log_store_dirty(store));
    CHECK_INT(log_partition_high_watermark(part), 2);
    CHECK_INT(log_partition_high_watermark(p1), 2);
    CHECK_INT(log_partition_read(part, 0, 1 << 20, &rd, &err), SL_OK);
    CHECK_INT(rd.len, b.len);
    CHECK_INT(rd.high_watermark, 2);
    log_read_release(&rd);
    CHECK_INT(rd.fd, -1);

    /* A later append gets a ticket the last sync did not cover. */
    CHECK_INT(log_partition_append(part, b.data, b.len, &i3, &err), SL_OK);
    CHECK(log_store_synced(store) < i3.ticket);
    sl_buf_release(&b);
    log_store_close(store);
    fx_rmdir(dir);
}

static void test_log_flush_os_and_interval_acknowledge_at_append(void)
{
    const char *policies[] = {"os", "interval=50"};
    for (int k = 0; k < 2; k++) {
        const char *dir = fx_tmpdir();
        struct log_config cfg = fx_config();
        struct sl_error err = {0};
        CHECK_INT(log_flush_parse(policies[k], &cfg, &err), SL_OK);
        struct log_store *store = open_store(dir, &cfg);
        struct log_partition *part = make_topic(store, "t", 1);
        struct sl_buf b;
        struct log_append_info info;
        sl_buf_init(&b, 0);
        fx_batch(&b, KAFKA_CODEC_NONE, 2, 5, 0, 0);
        CHECK_INT(log_partition_append(part, b.data, b.len, &info, &err), SL_OK);
        CHECK(log_store_synced(store) >= info.ticket);
        CHECK_INT(log_partition_high_watermark(part), 2);
        CHECK_INT(log_store_sync(store, sl_clock_mono_ms() + 1000, &err), SL_OK);
        CHECK(!log_store_dirty(store));
        sl_buf_release(&b);
        log_store_close(store);
        fx_rmdir(dir);
    }
}

/* interval=MS: acknowledged at append, fdatasynced once the oldest unsynced
 * append is MS old, and not before (log_store_sync_due tells when). */
static void test_log_flush_interval_syncs_when_the_oldest_append_is_due(void)
{
    const char *dir = fx_tmpdir();
    struct log_config cfg = fx_config();
    struct sl_error err = {0};
    CHECK_INT(log_flush_parse("interval=500", &cfg, &err), SL_OK);
    struct log_store *store = open_store(dir, &cfg);
    struct log_partition *part = make_topic(store, "t", 1);
    struct sl_buf b;
    struct log_append_info info;
    sl_buf_init(&b, 0);
    fx_batch(&b, KAFKA_CODEC_NONE, 2, 5, 0, 0);
    CHECK_INT(log_store_sync_due(store, sl_clock_mono_ms()), -1);
    int64_t t0 = sl_clock_mono_ms();
    CHECK_INT(log_partition_append(part, b.data, b.len, &info, &err), SL_OK);
    int64_t t1 = sl_clock_mono_ms();
    CHECK(log_store_synced(store) >= info.ticket);
    int64_t due = log_store_sync_due(store, t1);
    CHECK(due > 500 - (t1 - t0) - 1 && due <= 500);
    /* A second append does not move the deadline: it runs from the oldest. */
    CHECK_INT(log_partition_append(part, b.data, b.len, &info, &err), SL_OK);
    CHECK(log_store_sync_due(store, t1) <= due);
    /* Not due yet: nothing is synced. */
    CHECK_INT(log_store_sync(store, t0 + 499 - (t1 - t0), &err), SL_OK);
    CHECK(log_store_dirty(store));
    CHECK(log_store_sync_due(store, t1 + 500) == 0);
    /* Due: synced, and nothing is pending any more. */
    CHECK_INT(log_store_sync(store, t1 + 500, &err), SL_OK);
    CHECK(!log_store_dirty(store));
    CHECK_INT(log_store_sync_due(store, t1 + 500), -1);
    /* The next append starts a new interval. */
    CHECK_INT(log_partition_append(part, b.data, b.len, &info, &err), SL_OK);
    CHECK(log_store_sync_due(store, sl_clock_mono_ms()) > 0);
    sl_buf_release(&b);
    log_store_close(store);
    fx_rmdir(dir);

    /* flush=always: due at once whenever something is unsynced. */
    dir = fx_tmpdir();
    cfg = fx_config();
    store = open_store(dir, &cfg);
    part = make_topic(store, "t", 1);
    sl_buf_init(&b, 0);
    fx_batch(&b, KAFKA_CODEC_NONE, 1, 5, 0, 0);
    CHECK_INT(log_partition_append(part, b.data, b.len, &info, &err), SL_OK);
    CHECK_INT(log_store_sync_due(store, sl_clock_mono_ms()), 0);
    CHECK_INT(log_store_sync(store, 0, &err), SL_OK);
    CHECK_INT(log_store_sync_due(store, sl_clock_mono_ms()), -1);
    sl_buf_release(&b);
    log_store_close(store);
    fx_rmdir(dir);
}

/* Whether the store's sync thread says it is done within 10 s. */
static bool sync_done(struct log_store *store)
{
    struct pollfd pfd = {.fd = log_store_sync_fd(store), .events = POLLIN};
    return poll(&pfd, 1, 10000) == 1;
}

/* Wait until the store's sync thread is done, then apply what it did. */
static int finish_sync(struct log_store *store, struct sl_error *err)
{
    if (!sync_done(store))
        return sl_fail(err, SL_EIO, "the sync thread did not finish");
    return log_store_sync_finish(store, err);
}

/* A background sync covers what was appended before it started: until it is
 * finished nothing of it is acknowledged or readable, and what is appended
 * while it runs waits for the next one. */
static void test_log_background_sync_acknowledges_only_what_it_covered(void)
{
    const char *dir = fx_tmpdir();
    struct log_config cfg = fx_config();
    struct log_store *store = open_store(dir, &cfg);
    struct log_partition *part = make_topic(store, "t", 1);
    struct sl_buf b;
    struct sl_error err = {0};
    struct log_append_info i1, i2;
    sl_buf_init(&b, 0);
    fx_batch(&b, KAFKA_CODEC_NONE, 2, 5, 0, 0);
    CHECK_INT(log_store_sync_start(store, 0, &err), 0); /* nothing dirty */
    CHECK_INT(log_partition_append(part, b.data, b.len, &i1, &err), SL_OK);
    CHECK_INT(log_store_sync_start(store, 0, &err), 1);
    CHECK_INT(log_store_sync_start(store, 0, &err), 0); /* one at a time */
    CHECK_INT(log_partition_append(part, b.data, b.len, &i2, &err), SL_OK);
    CHECK(log_store_dirty(store));
    CHECK_INT(log_store_sync_due(store, 0), -1); /* its end brings the loop back */
    /* Done or not, nothing counts until it is finished on this thread. */
    CHECK(log_store_synced(store) < i1.ticket);
    CHECK_INT(log_partition_high_watermark(part), 0);
    CHECK_INT(finish_sync(store, &err), 1);
    CHECK(log_store_synced(store) >= i1.ticket);
    CHECK(log_store_synced(store) < i2.ticket);
    CHECK_INT(log_partition_high_watermark(part), 2);
    CHECK_INT(log_store_sync_finish(store, &err), 0); /* a stale wakeup */
    CHECK_INT(log_store_sync_start(store, 0, &err), 1);
    CHECK_INT(finish_sync(store, &err), 1);
    CHECK(log_store_synced(store) >= i2.ticket);
    CHECK_INT(log_partition_high_watermark(part), 4);
    CHECK(!log_store_dirty(store));

    /* log_store_sync() waits for a running sync, then does its own; closing
     * the store with one running loses nothing. */
    CHECK_INT(log_partition_append(part, b.data, b.len, &i1, &err), SL_OK);
    CHECK_INT(log_store_sync_start(store, 0, &err), 1);
    CHECK_INT(log_partition_append(part, b.data, b.len, &i2, &err), SL_OK);
    CHECK_INT(log_store_sync(store, 0, &err), SL_OK);
    CHECK(log_store_synced(store) >= i2.ticket);
    CHECK_INT(log_partition_high_watermark(part), 8);
    CHECK_INT(log_store_sync_finish(store, &err), 0);
    CHECK_INT(log_partition_append(part, b.data, b.len, &i1, &err), SL_OK);
    CHECK_INT(log_store_sync_start(store, 0, &err), 1);
    log_store_close(store);
    store = open_store(dir, &cfg);
    CHECK_INT(log_partition_end_offset(log_store_partition(store, "t", 0)), 10);
    sl_buf_release(&b);
    log_store_close(store);
    fx_rmdir(dir);
}

/* While a sync runs, a topic it covers may be deleted and a partition it
 * covers may roll to a new segment: the deleted one is skipped, and the
 * rolled one's high watermark does not go back to the old segment's end. */
static void test_log_background_sync_skips_deleted_topics_and_rolled_segments(void)
{
    const char *dir = fx_tmpdir();
    struct log_config cfg = fx_config();
    struct log_store *store = open_store(dir, &cfg);
    struct log_partition *part = make_topic(store, "t", 1);
    struct log_partition *gone = make_topic(store, "gone", 3);
    struct sl_error err = {0};
    CHECK_INT(fx_append(part, KAFKA_CODEC_NONE, 2, 5, 0, 0), 0);
    CHECK_INT(fx_append(gone, KAFKA_CODEC_NONE, 2, 5, 0, 0), 0);
    CHECK_INT(log_store_sync_start(store, 0, &err), 1);
    CHECK_INT(log_store_topic_delete(store, "gone", &err), SL_OK);
    /* 4096-byte segments: these roll t, which syncs the old segment itself. */
    int64_t leo = 2;
    for (int i = 0; i < 8; i++)
        leo = fx_append(part, KAFKA_CODEC_NONE, 4, 5, i, 200) + 4;
    CHECK(log_partition_segment_count(part) > 1);
    int64_t hw = log_partition_high_watermark(part);
    CHECK(hw > 2);
    CHECK_INT(finish_sync(store, &err), 1);
    CHECK_INT(log_partition_high_watermark(part), hw);
    CHECK_INT(log_store_sync(store, 0, &err), SL_OK);
    CHECK_INT(log_partition_high_watermark(part), leo);

    /* An append whose topic is deleted before any sync began leaves nothing
     * dirty: the next start counts its ticket as settled, so answers gated
     * on it do not wait for some later append elsewhere. */
    struct log_partition *brief = make_topic(store, "brief", 1);
    struct sl_buf b;
    struct log_append_info info;
    sl_buf_init(&b, 0);
    fx_batch(&b, KAFKA_CODEC_NONE, 1, 5, 0, 0);
    CHECK_INT(log_partition_append(brief, b.data, b.len, &info, &err), SL_OK);
    CHECK_INT(log_store_topic_delete(store, "brief", &err), SL_OK);
    CHECK(log_store_synced(store) < info.ticket);
    CHECK_INT(log_store_sync_start(store, 0, &err), 0);
    CHECK(log_store_synced(store) >= info.ticket);
    sl_buf_release(&b);
    log_store_close(store);
    fx_rmdir(dir);
}

/* A failed fdatasync in the thread acknowledges nothing of that sync and
 * names the segment (the thread's result is forged: a real disk error
 * cannot be had on demand). */
static void test_log_background_sync_failure_acknowledges_nothing(void)
{
    const char *dir = fx_tmpdir();
    struct log_config cfg = fx_config();
    struct log_store *store = open_store(dir, &cfg);
    struct log_partition *part = make_topic(store, "t", 1);
    struct sl_error err = {0};
    CHECK_INT(fx_append(part, KAFKA_CODEC_NONE, 2, 5, 0, 0), 0);
    uint64_t synced = log_store_synced(store);
    CHECK_INT(log_store_sync_start(store, 0, &err), 1);
    CHECK(sync_done(store));
    store->syncer.err_no = EIO;
    store->syncer.err_at = 0;
    CHECK_INT(log_store_sync_finish(store, &err), SL_EIO);
    CHECK(strstr(err.msg, "cannot fdatasync segment 00000000000000000000") != NULL);
    CHECK(strstr(err.msg, "Input/output error") != NULL);
    CHECK_INT(log_partition_high_watermark(part), 0);
    CHECK_INT(log_store_synced(store), synced);
    sl_error_clear(&err);
    log_store_close(store);
    fx_rmdir(dir);
}

/* interval=MS: a background sync starts only once the oldest unsynced
 * append is MS old; the appends were acknowledged when written. */
static void test_log_background_sync_waits_for_the_interval(void)
{
    const char *dir = fx_tmpdir();
    struct log_config cfg = fx_config();
    struct sl_error err = {0};
    CHECK_INT(log_flush_parse("interval=500", &cfg, &err), SL_OK);
    struct log_store *store = open_store(dir, &cfg);
    struct log_partition *part = make_topic(store, "t", 1);
    int64_t t0 = sl_clock_mono_ms();
    CHECK_INT(fx_append(part, KAFKA_CODEC_NONE, 2, 5, 0, 0), 0);
    CHECK_INT(log_partition_high_watermark(part), 2);
    CHECK_INT(log_store_sync_start(store, t0 + 100, &err), 0);
    CHECK(log_store_dirty(store));
    CHECK_INT(log_store_sync_start(store, sl_clock_mono_ms() + 500, &err), 1);
    CHECK_INT(finish_sync(store, &err), 1);
    CHECK(!log_store_dirty(store));
    log_store_close(store);
    fx_rmdir(dir);

    dir = fx_tmpdir();
    CHECK_INT(log_flush_parse("os", &cfg, &err), SL_OK);
    store = open_store(dir, &cfg);
    part = make_topic(store, "t", 1);
    CHECK_INT(fx_append(part, KAFKA_CODEC_NONE, 2, 5, 0, 0), 0);
    CHECK_INT(log_store_sync_start(store, INT64_MAX / 2, &err), 0); /* never */
    log_store_close(store);
    fx_rmdir(dir);
}

static void test_log_flush_policy_parse(void)
{
    struct log_config cfg;
    struct sl_error err = {0};
    log_config_default(&cfg);
    CHECK_INT(cfg.flush, LOG_FLUSH_INTERVAL);
    CHECK_INT(cfg.flush_interval_ms, 1000);
    CHECK_INT(log_flush_parse("interval=250", &cfg, &err), SL_OK);
    CHECK_INT(cfg.flush, LOG_FLUSH_INTERVAL);
    CHECK_INT(cfg.flush_interval_ms, 250);
    CHECK_INT(log_flush_parse("always", &cfg, &err), SL_OK);
    CHECK_INT(cfg.flush, LOG_FLUSH_ALWAYS);
    CHECK_INT(log_flush_parse("interval=", &cfg, &err), SL_EUSAGE);
    CHECK(strstr(err.msg, "bad flush policy 'interval='") != NULL);
    sl_error_clear(&err);
    CHECK_INT(log_flush_parse("sometimes", &cfg, &err), SL_EUSAGE);
    CHECK_INT(log_flush_parse("interval=0", &cfg, &err), SL_EUSAGE);
}

static void test_log_append_read_back_across_segment_rolls(void)
{
    const char *dir = fx_tmpdir();
    struct log_config cfg = fx_config();
    struct log_store *store = open_store(dir, &cfg);
    struct log_partition *part = make_topic(store, "t", 1);
    int64_t expect = 0;
    for (int i = 0; i < 200; i++) {
        int codec = i % 5;
        int n = 1 + i % 7;
        CHECK_INT(fx_append(part, codec, n, 1000 + i * 10, i, 20 + i % 50), expect);
        expect += n;
    }
    sync_store(store);
    CHECK(log_partition_segment_count(part) > 5);
    CHECK_INT(log_partition_high_watermark(part), expect);
    int64_t limits[] = {1, 100, 1000, 5000, 1 << 20};
    for (size_t l = 0; l < sizeof limits / sizeof *limits; l++) {
        struct fx_scan s = fx_consume(part, 0, limits[l]);
        CHECK_INT(s.bad, 0);
        CHECK_INT(s.records, expect);
        CHECK_INT(s.next, expect);
    }
    /* Every start offset finds the batch containing it. */
    for (int64_t off = 0; off < expect; off++) {
        struct fx_scan s = fx_consume(part, off, 200);
        CHECK_INT(s.bad, 0);
        CHECK_INT(s.records, expect - off);
    }
    log_store_close(store);
    fx_rmdir(dir);
}

static void test_log_read_returns_batch_containing_offset(void)
{
    const char *dir = fx_tmpdir();
    struct log_config cfg = fx_config();
    struct log_store *store = open_store(dir, &cfg);
    struct log_partition *part = make_topic(store, "t", 1);
    fx_append(part, KAFKA_CODEC_NONE, 10, 0, 0, 0); /* 0..9 */
    fx_append(part, KAFKA_CODEC_GZIP, 10, 0, 1, 0); /* 10..19 */
    sync_store(store);
    struct log_read rd;
    struct sl_error err = {0};
    CHECK_INT(log_partition_read(part, 14, 1, &rd, &err), SL_OK);
    CHECK_INT(rd.first_offset, 10);
    CHECK_INT(rd.next_offset, 20);
    CHECK(rd.len > 0);
    struct sl_buf bytes;
    fx_read_bytes(&rd, &bytes);
    struct sl_slice rest = sl_buf_slice(&bytes);
    struct kafka_batch b;
    CHECK_INT(kafka_batch_next(&rest, true, &b, &err), 1);
    CHECK_INT(b.base_offset, 10);
    CHECK_INT(kafka_batch_codec(&b), KAFKA_CODEC_GZIP); /* stored compressed */
    CHECK_INT(rest.len, 0);
    sl_buf_release(&bytes);
    log_read_release(&rd);
    /* At the HW: empty; past the LEO or below the start: out of range. */
    CHECK_INT(log_partition_read(part, 20, 100, &rd, &err), SL_OK);
    CHECK_INT(rd.len, 0);
    CHECK_INT(rd.fd, -1);
    CHECK_INT(log_partition_read(part, 21, 100, &rd, &err), SL_ENOTFOUND);
    CHECK(strstr(err.msg, "out of range") != NULL);
    sl_error_clear(&err);
    CHECK_INT(log_partition_read(part, -1, 100, &rd, &err), SL_ENOTFOUND);
    log_store_close(store);
    fx_rmdir(dir);
}

static void test_log_read_first_batch_whole_even_over_limit(void)
{
    const char *dir = fx_tmpdir();
    struct log_config cfg = fx_config();
    cfg.segment_bytes = 1 << 20;
    struct log_store *store = open_store(dir, &cfg);
    struct log_partition *part = make_topic(store, "t", 1);
    struct sl_buf b;
    sl_buf_init(&b, 0);
    size_t big = fx_batch(&b, KAFKA_CODEC_NONE, 20, 0, 0, 400);
    sl_buf_release(&b);
    fx_append(part, KAFKA_CODEC_NONE, 20, 0, 0, 400);
    fx_append(part, KAFKA_CODEC_NONE, 20, 0, 1, 400);
    fx_append(part, KAFKA_CODEC_NONE, 20, 0, 2, 400);
    sync_store(store);
    struct log_read rd;
    struct sl_error err = {0};
    CHECK_INT(log_partition_read(part, 0, 100, &rd, &err), SL_OK);
    CHECK_INT(rd.len, big); /* one whole batch although over the limit */
    CHECK_INT(rd.next_offset, 20);
    log_read_release(&rd);
    CHECK_INT(log_partition_read(part, 0, (int64_t)big * 2 + 10, &rd, &err), SL_OK);
    CHECK_INT(rd.len, big * 2); /* whole batches only, never a cut one */
    CHECK_INT(rd.next_offset, 40);
    log_read_release(&rd);
    CHECK_INT(log_partition_read(part, 25, (int64_t)big * 5, &rd, &err), SL_OK);
    CHECK_INT(rd.pos, (int64_t)big);
    CHECK_INT(rd.len, big * 2);
    CHECK_INT(rd.next_offset, 60);
    log_read_release(&rd);
    log_store_close(store);
    fx_rmdir(dir);
}

static void test_log_offset_index_written_every_interval(void)
{
    const char *dir = fx_tmpdir();
    struct log_config cfg = fx_config();
    cfg.segment_bytes = 1 << 20;
    struct log_store *store = open_store(dir, &cfg);
    struct log_partition *part = make_topic(store, "t", 1);
    for (int i = 0; i < 100; i++)
        fx_append(part, KAFKA_CODEC_NONE, 1, i, i, 100);
    sync_store(store);
    long long idx = fx_file_size(fx_path(dir, "t", 0, 0, ".index"));
    long long tidx = fx_file_size(fx_path(dir, "t", 0, 0, ".timeindex"));
    long long logsz = fx_file_size(fx_path(dir, "t", 0, 0, ".log"));
    /* One entry per >= 300 bytes: about logsz / 300 entries (batch ~ 180 B). */
    CHECK(idx > 0 && idx % 8 == 0);
    CHECK_INT(idx / 8, tidx / 12);
    CHECK(idx / 8 <= logsz / 300);
    CHECK(idx / 8 >= logsz / 300 / 2);
    for (int64_t off = 0; off < 100; off++) {
        struct log_read rd;
        struct sl_error err = {0};
        CHECK_INT(log_partition_read(part, off, 1, &rd, &err), SL_OK);
        CHECK_INT(rd.first_offset, off);
        log_read_release(&rd);
    }
    log_store_close(store);
    fx_rmdir(dir);
}

static void test_log_offset_for_time_finds_first_record_at_or_after(void)
{
    const char *dir = fx_tmpdir();
    struct log_config cfg = fx_config();
    cfg.segment_bytes = 1024;
    struct log_store *store = open_store(dir, &cfg);
    struct log_partition *part = make_topic(store, "t", 1);
    /* Batch k holds 5 records with timestamps 1000k .. 1000k+4, codecs vary. */
    for (int k = 0; k < 60; k++)
        fx_append(part, k % 5, 5, 1000 * k, k, 30);
    sync_store(store);
    CHECK(log_partition_segment_count(part) > 3);
    struct sl_error err = {0};
    int64_t off = -1, ts = -1;
    CHECK_INT(log_partition_offset_for_time(part, 0, &off, &ts, &err), SL_OK);
    CHECK_INT(off, 0);
    CHECK_INT(ts, 0);
    CHECK_INT(log_partition_offset_for_time(part, 7002, &off, &ts, &err), SL_OK);
    CHECK_INT(off, 37);
    CHECK_INT(ts, 7002);
    CHECK_INT(log_partition_offset_for_time(part, 7005, &off, &ts, &err), SL_OK);
    CHECK_INT(off, 40); /* between batches: the next batch's first record */
    CHECK_INT(ts, 8000);
    for (int k = 0; k < 60; k++) {
        CHECK_INT(log_partition_offset_for_time(part, 1000 * k + 3, &off, &ts, &err), SL_OK);
        CHECK_INT(off, 5 * k + 3);
    }
    CHECK_INT(log_partition_offset_for_time(part, 59005, &off, &ts, &err), SL_ENOTFOUND);
    CHECK_INT(err.code, SL_OK);
    log_store_close(store);
    fx_rmdir(dir);
}

static void test_log_restart_keeps_batches_and_offsets(void)
{
    const char *dir = fx_tmpdir();
    struct log_config cfg = fx_config();
    struct log_store *store = open_store(dir, &cfg);
    struct log_partition *part = make_topic(store, "t", 3);
    int64_t n = 0;
    for (int i = 0; i < 80; i++) {
        fx_append(part, i % 5, 3, 100 * i, i, 40);
        n += 3;
    }
    fx_append(log_store_partition(store, "t", 2), KAFKA_CODEC_NONE, 4, 0, 0, 0);
    sync_store(store);
    size_t segs = log_partition_segment_count(part);
    log_store_close(store);

    store = open_store(dir, &cfg);
    CHECK(store != NULL);
    part = log_store_partition(store, "t", 0);
    CHECK(part != NULL);
    CHECK_INT(log_partition_segment_count(part), segs);
    CHECK_INT(log_partition_end_offset(part), n);
    CHECK_INT(log_partition_high_watermark(part), n);
    CHECK_INT(log_partition_end_offset(log_store_partition(store, "t", 1)), 0);
    CHECK_INT(log_partition_end_offset(log_store_partition(store, "t", 2)), 4);
    struct fx_scan s = fx_consume(part, 0, 1000);
    CHECK_INT(s.bad, 0);
    CHECK_INT(s.records, n);
    CHECK_INT(fx_append(part, KAFKA_CODEC_NONE, 1, 0, 0, 0), n);
    int64_t off, ts;
    struct sl_error err = {0};
    CHECK_INT(log_partition_offset_for_time(part, 5001, &off, &ts, &err), SL_OK);
    CHECK_INT(off, 151);
    log_store_close(store);
    fx_rmdir(dir);
}

static void test_log_retention_by_size_deletes_oldest_segments(void)
{
    const char *dir = fx_tmpdir();
    struct log_config cfg = fx_config();
    cfg.retention_bytes = 10000;
    cfg.retention_ms = -1;
    struct log_store *store = open_store(dir, &cfg);
    struct log_partition *part = make_topic(store, "t", 1);
    for (int i = 0; i < 200; i++)
        fx_append(part, KAFKA_CODEC_NONE, 2, 0, i, 50);
    sync_store(store);
    int64_t before = log_partition_size(part);
    size_t segs = log_partition_segment_count(part);
    struct sl_error err = {0};
    int n = log_store_retain(store, 1000, &err);
    CHECK(n > 0);
    CHECK_INT(log_partition_segment_count(part), segs - (size_t)n);
    CHECK(log_partition_size(part) <= 10000 + 4096);
    CHECK(log_partition_size(part) >= 10000 - 4096);
    CHECK(log_partition_size(part) < before);
    int64_t start = log_partition_start_offset(part);
    CHECK(start > 0);
    CHECK_INT(fx_file_size(fx_path(dir, "t", 0, 0, ".log")), -1);
    struct log_read rd;
    CHECK_INT(log_partition_read(part, start - 1, 100, &rd, &err), SL_ENOTFOUND);
    sl_error_clear(&err);
    struct fx_scan s = fx_consume(part, start, 1000);
    CHECK_INT(s.bad, 0);
    CHECK_INT(s.next, 400);
    /* Idempotent, and survives a restart. */
    CHECK_INT(log_store_retain(store, 1000, &err), 0);
    log_store_close(store);
    store = open_store(dir, &cfg);
    part = log_store_partition(store, "t", 0);
    CHECK_INT(log_partition_start_offset(part), start);
    CHECK_INT(log_partition_end_offset(part), 400);
    log_store_close(store);
    fx_rmdir(dir);
}

static void test_log_retention_by_age_deletes_expired_segments(void)
{
    const char *dir = fx_tmpdir();
    struct log_config cfg = fx_config();
    cfg.retention_ms = 60000;
    struct log_store *store = open_store(dir, &cfg);
    struct log_partition *part = make_topic(store, "t", 1);
    /* Old events (t = 1000..), then recent ones (t = 1e6..). */
    for (int i = 0; i < 60; i++)
        fx_append(part, KAFKA_CODEC_NONE, 2, 1000 + i, i, 50);
    int64_t old_end = log_partition_end_offset(part);
    for (int i = 0; i < 60; i++)
        fx_append(part, KAFKA_CODEC_NONE, 2, 1000000 + i, i, 50);
    sync_store(store);
    struct sl_error err = {0};
    int n = log_store_retain(store, 1000000 + 1000, &err);
    CHECK(n > 0);
    int64_t start = log_partition_start_offset(part);
    CHECK(start > 0);
    CHECK(start <= old_end); /* never deletes a segment holding recent data */
    /* Later, everything expires: the active segment is rolled and deleted. */
    n = log_store_retain(store, 1000000 + 120000, &err);
    CHECK(n > 0);
    CHECK_INT(log_partition_segment_count(part), 1);
    CHECK_INT(log_partition_start_offset(part), 240);
    CHECK_INT(log_partition_end_offset(part), 240);
    CHECK_INT(log_partition_high_watermark(part), 240);
    CHECK_INT(fx_append(part, KAFKA_CODEC_NONE, 1, 0, 0, 0), 240);
    log_store_close(store);
    fx_rmdir(dir);
}

static void test_log_segment_rolls_by_age(void)
{
    const char *dir = fx_tmpdir();
    struct log_config cfg = fx_config();
    cfg.segment_bytes = 1 << 20;
    cfg.segment_ms = 1; /* every append after the first millisecond rolls */
    struct log_store *store = open_store(dir, &cfg);
    struct log_partition *part = make_topic(store, "t", 1);
    fx_append(part, KAFKA_CODEC_NONE, 1, 0, 0, 0);
    usleep(5000);
    fx_append(part, KAFKA_CODEC_NONE, 1, 0, 0, 0);
    CHECK_INT(log_partition_segment_count(part), 2);
    usleep(5000);
    struct sl_error err = {0};
    CHECK_INT(log_store_retain(store, INT64_MAX / 2, &err) >= 0, 1);
    CHECK(fx_file_size(fx_path(dir, "t", 0, 2, ".log")) >= 0);
    log_store_close(store);
    fx_rmdir(dir);
}

/* A topic's own settings (Kafka's topic configs at creation) rule its
 * partitions, the store's rule the others, and both survive a reopen. */
static void test_log_topic_settings_override_the_store_and_persist(void)
{
    const char *dir = fx_tmpdir();
    struct log_config cfg = fx_config();
    cfg.segment_bytes = 1 << 20;
    cfg.retention_ms = -1; /* the store keeps everything */
    struct log_store *store = open_store(dir, &cfg);
    struct log_topic_config tc;
    log_topic_config_inherit(&tc);
    struct sl_error err = {0};
    CHECK_INT(log_topic_config_set(&tc, "retention.ms", "60000", &err), SL_OK);
    CHECK_INT(log_topic_config_set(&tc, "segment.bytes", "1000", &err), SL_OK);
    CHECK_INT(log_topic_config_set(&tc, "max.message.bytes", "600", &err), SL_OK);
    struct log_topic *topic = NULL;
    CHECK_INT(log_store_topic_create(store, "short", 1, &tc, &topic, &err), SL_OK);
    struct log_partition *own = log_topic_partition(topic, 0);
    struct log_partition *inherits = make_topic(store, "long", 1);
    for (int i = 0; i < 40; i++) {
        fx_append(own, KAFKA_CODEC_NONE, 2, 1000 + i, i, 50);
        fx_append(inherits, KAFKA_CODEC_NONE, 2, 1000 + i, i, 50);
    }
    CHECK(log_partition_segment_count(own) > 5);
    CHECK_INT(log_partition_segment_count(inherits), 1);
    sync_store(store);
    CHECK(log_store_retain(store, 1000000, &err) > 0);
    CHECK(log_partition_start_offset(own) > 0);
    CHECK_INT(log_partition_start_offset(inherits), 0);

    log_store_close(store);
    store = open_store(dir, &cfg);
    topic = log_store_topic(store, "short");
    const struct log_topic_config *o = log_topic_overrides(topic);
    CHECK_INT(o->retention_ms, 60000);
    CHECK_INT(o->segment_bytes, 1000);
    CHECK_INT(o->max_batch_bytes, 600);
    CHECK_INT(o->retention_bytes, LOG_INHERIT);
    CHECK_INT(o->segment_ms, LOG_INHERIT);
    CHECK_INT(log_topic_config(topic)->retention_ms, 60000);
    CHECK_INT(log_topic_config(topic)->segment_ms, cfg.segment_ms);
    CHECK_INT(log_topic_config(log_store_topic(store, "long"))->retention_ms, -1);
    CHECK_INT(log_topic_overrides(log_store_topic(store, "long"))->retention_ms, LOG_INHERIT);
    /* max.message.bytes=600 holds for its topic only. */
    struct sl_buf b;
    struct log_append_info info;
    sl_buf_init(&b, 0);
    fx_batch(&b, KAFKA_CODEC_NONE, 5, 0, 0, 200);
    CHECK_INT(log_partition_append(log_topic_partition(topic, 0), b.data, b.len, &info, &err),
              SL_ELIMIT);
    sl_error_clear(&err);
    CHECK_INT(log_partition_append(log_store_partition(store, "long", 0), b.data, b.len, &info,
                                   &err),
              SL_OK);
    sl_buf_release(&b);
    log_store_close(store);
    fx_rmdir(dir);
}

static void test_log_topic_reconfigure_replaces_the_settings_durably(void)
{
    const char *dir = fx_tmpdir();
    struct log_config cfg = fx_config();
    cfg.retention_ms = 60000;
    struct log_store *store = open_store(dir, &cfg);
    struct log_topic_config tc;
    log_topic_config_inherit(&tc);
    tc.retention_ms = -1; /* this topic keeps everything */
    struct log_topic *topic = NULL;
    struct sl_error err = {0};
    CHECK_INT(log_store_topic_create(store, "t", 1, &tc, &topic, &err), SL_OK);
    struct log_partition *part = log_topic_partition(topic, 0);
    for (int i = 0; i < 60; i++)
        fx_append(part, KAFKA_CODEC_NONE, 2, 1000 + i, i, 50);
    sync_store(store);
    CHECK_INT(log_store_retain(store, 1000000, &err), 0);

    /* Out of range: refused, nothing changed. */
    struct log_topic_config bad = tc;
    bad.segment_bytes = 0;
    CHECK_INT(log_topic_reconfigure(topic, &bad, &err), SL_EUSAGE);
    CHECK(strstr(err.msg, "segment.bytes") != NULL);
    sl_error_clear(&err);
    CHECK_INT(log_topic_overrides(topic)->retention_ms, -1);
    CHECK_INT(log_topic_overrides(topic)->segment_bytes, LOG_INHERIT);

    /* Back to the store's retention: the old segments go at the next pass. */
    struct log_topic_config none;
    log_topic_config_inherit(&none);
    CHECK_INT(log_topic_reconfigure(topic, &none, &err), SL_OK);
    CHECK_INT(log_topic_config(topic)->retention_ms, 60000);
    CHECK(log_store_retain(store, 1000000, &err) > 0);
    CHECK(log_partition_start_offset(part) > 0);

    /* Durable; and a replacement file a crash left behind is removed. */
    log_store_close(store);
    char path[512];
    snprintf(path, sizeof path, "%s/topics/t/topic.conf.new", dir);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) {
        fputs("format=1\npartitions=1\nretention.ms=1\n", f);
        fclose(f);
    }
    store = open_store(dir, &cfg);
    topic = log_store_topic(store, "t");
    CHECK_INT(log_topic_overrides(topic)->retention_ms, LOG_INHERIT);
    CHECK_INT(log_topic_config(topic)->retention_ms, 60000);
    CHECK_INT(fx_file_size(path), -1);
    log_store_close(store);
    fx_rmdir(dir);
}

static void test_log_topic_settings_refuse_bad_values(void)
{
    const char *dir = fx_tmpdir();
    struct log_config cfg = fx_config();
    struct log_store *store = open_store(dir, &cfg);
    struct log_topic_config tc;
    log_topic_config_inherit(&tc);
    struct sl_error err = {0};
    CHECK_INT(log_topic_config_set(&tc, "cleanup.policy", "delete", &err), SL_ENOTFOUND);
    CHECK_INT(err.code, SL_OK);
    CHECK_INT(log_topic_config_set(&tc, "retention.ms", "1h", &err), SL_EUSAGE);
    CHECK(strstr(err.msg, "retention.ms wants an integer") != NULL);
    sl_error_clear(&err);
    CHECK_INT(log_topic_config_set(&tc, "retention.ms", "-2", &err), SL_EUSAGE);
    sl_error_clear(&err);
    CHECK_INT(log_topic_config_set(&tc, "segment.bytes", "0", &err), SL_EUSAGE);
    sl_error_clear(&err);
    CHECK_INT(log_topic_config_set(&tc, "segment.bytes", "4294967296", &err), SL_EUSAGE);
    sl_error_clear(&err);
    CHECK_INT(log_topic_config_set(&tc, "segment.ms", "", &err), SL_EUSAGE);
    sl_error_clear(&err);
    CHECK_INT(tc.retention_ms, LOG_INHERIT);
    CHECK_INT(tc.segment_bytes, LOG_INHERIT);
    /* A null value (Kafka's "default") means the store's. */
    CHECK_INT(log_topic_config_set(&tc, "retention.ms", "5", &err), SL_OK);
    CHECK_INT(log_topic_config_set(&tc, "retention.ms", NULL, &err), SL_OK);
    CHECK_INT(tc.retention_ms, LOG_INHERIT);
    /* Given directly, an out-of-range setting fails the create and leaves nothing. */
    tc.segment_ms = 0;
    CHECK_INT(log_store_topic_create(store, "t", 1, &tc, NULL, &err), SL_EUSAGE);
    CHECK(strstr(err.msg, "segment.ms") != NULL);
    sl_error_clear(&err);
    CHECK(log_store_topic(store, "t") == NULL);
    CHECK_INT(fx_file_size(fx_path(dir, "t", 0, 0, ".log")), -1);
    /* A topic.conf with a setting it cannot read is corrupt, not ignored. */
    CHECK_INT(log_store_topic_create(store, "t", 1, NULL, NULL, &err), SL_OK);
    log_store_close(store);
    char path[512];
    snprintf(path, sizeof path, "%s/topics/t/topic.conf", dir);
    FILE *f = fopen(path, "a");
    CHECK(f != NULL);
    if (f) {
        fputs("retention.ms=soon\n", f);
        fclose(f);
    }
    CHECK(log_store_open(dir, &cfg, &err) == NULL);
    CHECK_INT(err.code, SL_ECORRUPT);
    CHECK(strstr(err.msg, "retention.ms") != NULL);
    fx_rmdir(dir);
}

static void test_log_topics_create_delete_list_persist(void)
{
    const char *dir = fx_tmpdir();
    struct log_config cfg = fx_config();
    struct log_store *store = open_store(dir, &cfg);
    struct sl_error err = {0};
    CHECK_INT(log_store_topic_create(store, "zeta", 2, NULL, NULL, &err), SL_OK);
    CHECK_INT(log_store_topic_create(store, "alpha", 1, NULL, NULL, &err), SL_OK);
    CHECK_INT(log_store_topic_create(store, "mid.dle_x-1", 5, NULL, NULL, &err), SL_OK);
    CHECK_INT(log_store_topic_create(store, ".hidden", 1, NULL, NULL, &err), SL_OK);
    CHECK_INT(log_store_topic_delete(store, ".hidden", &err), SL_OK);
    CHECK_INT(log_store_topic_create(store, "__consumer_offsets", 1, NULL, NULL, &err), SL_OK);
    CHECK_INT(log_store_topic_create(store, "alpha", 3, NULL, NULL, &err), SL_EEXIST);
    CHECK(strstr(err.msg, "'alpha' already exists") != NULL);
    sl_error_clear(&err);
    CHECK_INT(log_store_topic_create(store, "bad/name", 1, NULL, NULL, &err), SL_EUSAGE);
    sl_error_clear(&err);
    CHECK_INT(log_store_topic_create(store, "..", 1, NULL, NULL, &err), SL_EUSAGE);
    sl_error_clear(&err);
    CHECK_INT(log_store_topic_create(store, "zero", 0, NULL, NULL, &err), SL_EUSAGE);
    sl_error_clear(&err);
    fx_append(log_store_partition(store, "zeta", 1), KAFKA_CODEC_NONE, 3, 0, 0, 0);
    CHECK_INT(log_store_topic_count(store), 4);
    CHECK_STR(log_topic_name(log_store_topic_at(store, 0)), "__consumer_offsets");
    CHECK_STR(log_topic_name(log_store_topic_at(store, 1)), "alpha");
    CHECK_STR(log_topic_name(log_store_topic_at(store, 2)), "mid.dle_x-1");
    CHECK_STR(log_topic_name(log_store_topic_at(store, 3)), "zeta");
    CHECK(log_store_topic_at(store, 4) == NULL);
    CHECK_INT(log_topic_partitions(log_store_topic(store, "mid.dle_x-1")), 5);
    CHECK(log_store_partition(store, "zeta", 2) == NULL);
    CHECK(log_store_partition(store, "nope", 0) == NULL);
    log_store_close(store);

    store = open_store(dir, &cfg);
    CHECK_INT(log_store_topic_count(store), 4);
    CHECK(log_store_topic(store, "__consumer_offsets") != NULL);
    CHECK_INT(log_topic_partitions(log_store_topic(store, "zeta")), 2);
    CHECK_INT(log_partition_end_offset(log_store_partition(store, "zeta", 1)), 3);
    CHECK_INT(log_store_topic_delete(store, "zeta", &err), SL_OK);
    CHECK_INT(log_store_topic_delete(store, "zeta", &err), SL_ENOTFOUND);
    sl_error_clear(&err);
    CHECK(log_store_topic(store, "zeta") == NULL);
    char path[512];
    snprintf(path, sizeof path, "%s/topics/zeta", dir);
    CHECK_INT(fx_file_size(path), -1);
    log_store_close(store);

    store = open_store(dir, &cfg);
    CHECK_INT(log_store_topic_count(store), 3);
    CHECK(log_store_topic(store, "zeta") == NULL);
    /* Re-creating a deleted topic starts from offset 0. */
    CHECK_INT(log_store_topic_create(store, "zeta", 1, NULL, NULL, &err), SL_OK);
    CHECK_INT(log_partition_end_offset(log_store_partition(store, "zeta", 0)), 0);
    log_store_close(store);
    fx_rmdir(dir);
}

static void test_log_store_locked_against_second_open(void)
{
    const char *dir = fx_tmpdir();
    struct log_store *store = open_store(dir, NULL);
    struct sl_error err = {0};
    CHECK(log_store_open(dir, NULL, &err) == NULL);
    CHECK(strstr(err.msg, "in use") != NULL);
    log_store_close(store);
    store = open_store(dir, NULL);
    CHECK(store != NULL);
    log_store_close(store);
    fx_rmdir(dir);
}

static void test_log_append_rejects_partial_extra_and_oversize(void)
{
    const char *dir = fx_tmpdir();
    struct log_config cfg = fx_config();
    cfg.max_batch_bytes = 500;
    struct log_store *store = open_store(dir, &cfg);
    struct log_partition *part = make_topic(store, "t", 1);
    struct sl_buf b;
    struct sl_error err = {0};
    struct log_append_info info;
    sl_buf_init(&b, 0);
    fx_batch(&b, KAFKA_CODEC_NONE, 2, 0, 0, 0);
    CHECK_INT(log_partition_append(part, b.data, b.len - 1, &info, &err), SL_EPROTO);
    sl_error_clear(&err);
    fx_batch(&b, KAFKA_CODEC_NONE, 2, 0, 0, 0);
    CHECK_INT(log_partition_append(part, b.data, b.len, &info, &err), SL_EPROTO);
    CHECK(strstr(err.msg, "extra bytes") != NULL);
    sl_error_clear(&err);
    sl_buf_reset(&b);
    fx_batch(&b, KAFKA_CODEC_NONE, 5, 0, 0, 200);
    CHECK_INT(log_partition_append(part, b.data, b.len, &info, &err), SL_ELIMIT);
    CHECK_INT(log_partition_end_offset(part), 0);
    sl_buf_release(&b);
    log_store_close(store);
    fx_rmdir(dir);
}

struct scan_ctx {
    int64_t bases[64];
    int n;
};

static int scan_cb(const struct kafka_batch *batch, void *arg)
{
    struct scan_ctx *c = arg;
    if (c->n < 64)
        c->bases[c->n++] = batch->base_offset;
    return 0;
}

static void test_log_scan_visits_batch_headers_from_offset(void)
{
    const char *dir = fx_tmpdir();
    struct log_config cfg = fx_config();
    struct log_store *store = open_store(dir, &cfg);
    struct log_partition *part = make_topic(store, "t", 1);
    for (int i = 0; i < 40; i++)
        fx_append(part, KAFKA_CODEC_NONE, 3, 0, i, 60);
    struct scan_ctx c = {{0}, 0};
    struct sl_error err = {0};
    CHECK_INT(log_partition_scan(part, 100, scan_cb, &c, &err), SL_OK);
    CHECK_INT(c.n, 7); /* batches 99.., 102.., ..., 117.. */
    CHECK_INT(c.bases[0], 99);
    CHECK_INT(c.bases[6], 117);
    log_store_close(store);
    fx_rmdir(dir);
}

static void test_log_read_fd_survives_segment_deletion(void)
{
    const char *dir = fx_tmpdir();
    struct log_config cfg = fx_config();
    cfg.retention_bytes = 0;
    struct log_store *store = open_store(dir, &cfg);
    struct log_partition *part = make_topic(store, "t", 1);
    for (int i = 0; i < 60; i++)
        fx_append(part, KAFKA_CODEC_NONE, 2, 0, i, 50);
    sync_store(store);
    struct log_read rd;
    struct sl_error err = {0};
    CHECK_INT(log_partition_read(part, 0, 1000, &rd, &err), SL_OK);
    CHECK(log_store_retain(store, 0, &err) > 0);
    CHECK_INT(log_partition_segment_count(part), 1);
    struct sl_buf bytes;
    fx_read_bytes(&rd, &bytes);
    struct sl_slice rest = sl_buf_slice(&bytes);
    struct kafka_batch b;
    CHECK_INT(kafka_batch_next(&rest, true, &b, &err), 1);
    CHECK_INT(b.base_offset, 0);
    sl_buf_release(&bytes);
    log_read_release(&rd);
    log_store_close(store);
    fx_rmdir(dir);
}

/*
 * A full disk, simulated with RLIMIT_FSIZE (writes past it fail with EFBIG
 * after a short write): the append fails with SL_EIO, the partial batch is
 * cut off, offsets do not move, and appends resume once there is room.
 */
static void test_log_append_fails_cleanly_when_disk_full(void)
{
    const char *dir = fx_tmpdir();
    struct log_config cfg = fx_config();
    cfg.segment_bytes = 1 << 20;
    struct log_store *store = open_store(dir, &cfg);
    struct log_partition *part = make_topic(store, "t", 1);
    sync_store(store);
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit old, lim;
    getrlimit(RLIMIT_FSIZE, &old);
    lim = old;
    lim.rlim_cur = 10000;
    setrlimit(RLIMIT_FSIZE, &lim);
    struct sl_buf b;
    struct sl_error err = {0};
    struct log_append_info info;
    sl_buf_init(&b, 0);
    fx_batch(&b, KAFKA_CODEC_NONE, 10, 0, 0, 60);
    int64_t leo = 0;
    int rc = SL_OK;
    for (int i = 0; i < 100 && rc == SL_OK; i++) {
        rc = log_partition_append(part, b.data, b.len, &info, &err);
        if (rc == SL_OK)
            leo += 10;
    }
    CHECK_INT(rc, SL_EIO);
    CHECK(strstr(err.msg, "cannot append to segment") != NULL);
    CHECK_INT(log_partition_end_offset(part), leo);
    CHECK_INT(fx_file_size(fx_path(dir, "t", 0, 0, ".log")), (long long)b.len * (leo / 10));
    setrlimit(RLIMIT_FSIZE, &old);
    sl_error_clear(&err);
    CHECK_INT(log_partition_append(part, b.data, b.len, &info, &err), SL_OK);
    CHECK_INT(info.base_offset, leo);
    sync_store(store);
    struct fx_scan s = fx_consume(part, 0, 1 << 20);
    CHECK_INT(s.bad, 0);
    CHECK_INT(s.records, leo + 10);
    sl_buf_release(&b);
    log_store_close(store);
    store = open_store(dir, &cfg);
    CHECK_INT(log_partition_end_offset(log_store_partition(store, "t", 0)), leo + 10);
    log_store_close(store);
    fx_rmdir(dir);
}

int main(void)
{
    sl_log_set_level(SL_LOG_WARN);
    RUN(test_log_append_assigns_offsets_and_patches_base);
    RUN(test_log_appends_invisible_until_group_commit);
    RUN(test_log_flush_os_and_interval_acknowledge_at_append);
    RUN(test_log_flush_interval_syncs_when_the_oldest_append_is_due);
    RUN(test_log_background_sync_acknowledges_only_what_it_covered);
    RUN(test_log_background_sync_skips_deleted_topics_and_rolled_segments);
    RUN(test_log_background_sync_failure_acknowledges_nothing);
    RUN(test_log_background_sync_waits_for_the_interval);
    RUN(test_log_flush_policy_parse);
    RUN(test_log_append_read_back_across_segment_rolls);
    RUN(test_log_read_returns_batch_containing_offset);
    RUN(test_log_read_first_batch_whole_even_over_limit);
    RUN(test_log_offset_index_written_every_interval);
    RUN(test_log_offset_for_time_finds_first_record_at_or_after);
    RUN(test_log_restart_keeps_batches_and_offsets);
    RUN(test_log_retention_by_size_deletes_oldest_segments);
    RUN(test_log_retention_by_age_deletes_expired_segments);
    RUN(test_log_segment_rolls_by_age);
    RUN(test_log_topic_settings_override_the_store_and_persist);
    RUN(test_log_topic_reconfigure_replaces_the_settings_durably);
    RUN(test_log_topic_settings_refuse_bad_values);
    RUN(test_log_topics_create_delete_list_persist);
    RUN(test_log_store_locked_against_second_open);
    RUN(test_log_append_rejects_partial_extra_and_oversize);
    RUN(test_log_scan_visits_batch_headers_from_offset);
    RUN(test_log_read_fd_survives_segment_deletion);
    RUN(test_log_append_fails_cleanly_when_disk_full);
    return CHECK_DONE();
}
