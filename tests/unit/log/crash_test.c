/* crash_test.c: kill -9 a process that appends and group-commits, reopen, and
 * check that every acknowledged offset survived and the log is consistent. */
#include <signal.h>
#include <sys/wait.h>

#include "base/log.h"
#include "check.h"
#include "fixture.h"

static struct log_config crash_config(void)
{
    struct log_config cfg = fx_config();
    cfg.segment_bytes = 256 << 10;
    cfg.max_batch_bytes = 1 << 20;
    return cfg;
}

/* The child: append forever, reporting the HW after every group commit. */
static void child_run(const char *dir, int fd, unsigned seed)
{
    struct log_config cfg = crash_config();
    struct sl_error err = {0};
    struct log_store *store = log_store_open(dir, &cfg, &err);
    if (!store)
        _exit(3);
    struct log_partition *part = log_store_partition(store, "t", 0);
    for (unsigned i = 0;; i++) {
        unsigned r = (seed + i) * 2654435761u;
        int n = 1 + (int)(r % 4);
        for (int k = 0; k < n; k++) {
            int big = (r >> 8) % 16 == 0;
            /* Large batches make a kill in the middle of a pwrite likely. */
            if (fx_append(part, big ? KAFKA_CODEC_NONE : (int)((r >> 4) % 5), big ? 400 : 5, i,
                          (int)i, big ? 500 : 30) < 0)
                _exit(4);
        }
        if (log_store_sync(store, 0, &err) < 0)
            _exit(5);
        int64_t hw = log_partition_high_watermark(part);
        if (write(fd, &hw, sizeof hw) != sizeof hw)
            _exit(6);
    }
}

static void test_log_kill9_during_appends_keeps_acknowledged_offsets(void)
{
    const char *dir = fx_tmpdir();
    struct log_config cfg = crash_config();
    struct sl_error err = {0};
    struct log_store *store = log_store_open(dir, &cfg, &err);
    CHECK(store != NULL);
    CHECK_INT(log_store_topic_create(store, "t", 1, NULL, NULL, &err), SL_OK);
    log_store_close(store);

    int64_t acked = 0;
    for (int round = 0; round < 8; round++) {
        int fds[2];
        CHECK(pipe(fds) == 0);
        pid_t pid = fork();
        if (pid == 0) {
            close(fds[0]);
            child_run(dir, fds[1], (unsigned)round * 7919u);
        }
        close(fds[1]);
        int want = 20 + round * 37 % 150, got = 0;
        int64_t hw;
        while (got < want && read(fds[0], &hw, sizeof hw) == sizeof hw) {
            acked = hw;
            got++;
        }
        kill(pid, SIGKILL);
        int status;
        waitpid(pid, &status, 0);
        CHECK(WIFSIGNALED(status));
        while (read(fds[0], &hw, sizeof hw) == sizeof hw)
            acked = hw; /* acknowledged just before the kill */
        close(fds[0]);

        store = log_store_open(dir, &cfg, &err);
        CHECK(store != NULL);
        if (!store) {
            fprintf(stderr, "reopen: %s\n", err.msg);
            break;
        }
        struct log_partition *part = log_store_partition(store, "t", 0);
        int64_t leo = log_partition_end_offset(part);
        CHECK(leo >= acked);
        struct fx_scan s = fx_consume(part, 0, 64 << 10);
        CHECK_INT(s.bad, 0);
        CHECK_INT(s.records, leo);
        log_store_close(store);
    }
    CHECK(acked > 0);
    fx_rmdir(dir);
}

int main(void)
{
    sl_log_set_level(SL_LOG_ERROR);
    RUN(test_log_kill9_during_appends_keeps_acknowledged_offsets);
    return CHECK_DONE();
}
