/* Tests of src/base err.c, log.c, clock.c, arena.c, net.c and mem.c. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include "base/arena.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/net.h"
#include "check.h"

static void test_err_first_failure_wins(void)
{
    struct sl_error err = { 0 };
    CHECK_INT(sl_fail(&err, SL_EPROTO, "bad frame at %d", 7), SL_EPROTO);
    CHECK_INT(sl_fail(&err, SL_EIO, "later"), SL_EIO);
    CHECK_INT(err.code, SL_EPROTO);
    CHECK_STR(err.msg, "bad frame at 7");
    sl_error_clear(&err);
    CHECK_INT(err.code, SL_OK);
    CHECK_INT(sl_fail(NULL, SL_EIO, "no sink"), SL_EIO);
}

static void test_err_errno_suffix_and_position(void)
{
    struct sl_error err = { 0 };
    errno = ENOENT;
    sl_fail_errno(&err, SL_EIO, "cannot open '%s'", "x.log");
    CHECK_STR(err.msg, "cannot open 'x.log': No such file or directory");
    struct sl_error e2 = { 0 };
    sl_fail_at(&e2, SL_ECORRUPT, 42, "crc mismatch");
    CHECK_INT(e2.pos, 42);
    CHECK_STR(sl_err_name(SL_ECORRUPT), "corrupt data");
}

static void test_log_level_parse(void)
{
    enum sl_log_level l;
    CHECK_INT(sl_log_level_parse("debug", &l), SL_OK);
    CHECK_INT(l, SL_LOG_DEBUG);
    CHECK_INT(sl_log_level_parse("warn", &l), SL_OK);
    CHECK_INT(l, SL_LOG_WARN);
    CHECK_INT(sl_log_level_parse("loud", &l), SL_EUSAGE);
}

static void test_clock_monotonic_advances(void)
{
    int64_t a = sl_clock_mono_ns();
    usleep(2000);
    int64_t b = sl_clock_mono_ns();
    CHECK(b - a >= 2000000);
    CHECK(sl_clock_wall_ms() > 1700000000000ll);
}

static void test_arena_allocations_are_aligned_and_distinct(void)
{
    struct sl_arena arena;
    sl_arena_init(&arena, 256);
    char *a = sl_arena_alloc(&arena, 3);
    char *b = sl_arena_alloc(&arena, 1000); /* oversized block */
    char *c = sl_arena_strndup(&arena, "hello!", 5);
    CHECK(((uintptr_t)a & 15) == 0);
    CHECK(((uintptr_t)b & 15) == 0);
    CHECK(a != b && b != c);
    memset(b, 'x', 1000);
    CHECK_STR(c, "hello");
    sl_arena_clear(&arena);
    char *d = sl_arena_alloc(&arena, 8);
    CHECK(d != NULL);
    sl_arena_release(&arena);
}

static void test_net_hostport_parse(void)
{
    char host[SL_NET_HOST_MAX];
    int port;
    struct sl_error err = { 0 };
    CHECK_INT(sl_net_hostport_parse("localhost:9092", host, &port, &err), SL_OK);
    CHECK_STR(host, "localhost");
    CHECK_INT(port, 9092);
    CHECK_INT(sl_net_hostport_parse("[::1]:80", host, &port, &err), SL_OK);
    CHECK_STR(host, "::1");
    CHECK_INT(sl_net_hostport_parse(":0", host, &port, &err), SL_OK);
    CHECK_STR(host, "127.0.0.1");
    CHECK_INT(sl_net_hostport_parse("host", host, &port, &err), SL_EUSAGE);
    CHECK_INT(sl_net_hostport_parse("h:70000", host, &port, NULL), SL_EUSAGE);
    CHECK_INT(sl_net_hostport_parse("h:12x", host, &port, NULL), SL_EUSAGE);
}

static void test_net_listen_on_free_port(void)
{
    struct sl_error err = { 0 };
    int fd = sl_net_listen("127.0.0.1:0", 16, &err);
    CHECK(fd >= 0);
    CHECK(sl_net_local_port(fd) > 0);
    CHECK_INT(sl_net_accept(fd, NULL, 0), SL_EAGAIN);
    close(fd);
}

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

#ifndef UNDER_ASAN /* ASan's allocator has no mallopt */
enum { RING = 8, LARGEST_KIB = 1200 };

/* librdkafka's consumer, as `sluice consume` runs it: on its own thread,
 * Fetch buffers of about 1 MiB each, several queued at once, freed in
 * order as the messages are used, and now and then all of them (the
 * application caught up). */
static void *churn_fetch_buffers(void *arg)
{
    long *faults = arg;
    char *ring[RING] = { 0 };
    struct rusage before, after;
    getrusage(RUSAGE_THREAD, &before);
    for (int i = 0; i < 400; i++) {
        size_t n = (size_t)(900 + i * 37 % (LARGEST_KIB - 900)) * 1024;
        free(ring[i % RING]);
        ring[i % RING] = sl_xmalloc(n);
        memset(ring[i % RING], i, n);
        if (i % 50 == 49) {
            for (int k = 0; k < RING; k++) {
                free(ring[k]);
                ring[k] = NULL;
            }
        }
    }
    for (int k = 0; k < RING; k++)
        free(ring[k]);
    getrusage(RUSAGE_THREAD, &after);
    *faults = after.ru_minflt - before.ru_minflt;
    return NULL;
}

static void test_mem_kept_large_buffers_are_faulted_in_once(void)
{
    sl_mem_keep_large_buffers();
    long faults = 0;
    pthread_t t;
    CHECK_INT(pthread_create(&t, NULL, churn_fetch_buffers, &faults), 0);
    CHECK_INT(pthread_join(t, NULL), 0);
    /* The ring's pages once, with room; glibc's defaults fault in about
     * eight times that (19,000 pages against 2,400) over 400 buffers. */
    long ring_pages = RING * LARGEST_KIB / 4;
    if (faults > 2 * ring_pages)
        fprintf(stderr, "%ld page faults for a ring of %ld pages\n", faults, ring_pages);
    CHECK(faults <= 2 * ring_pages);
}
#endif

int main(void)
{
    RUN(test_err_first_failure_wins);
    RUN(test_err_errno_suffix_and_position);
    RUN(test_log_level_parse);
    RUN(test_clock_monotonic_advances);
    RUN(test_arena_allocations_are_aligned_and_distinct);
    RUN(test_net_hostport_parse);
    RUN(test_net_listen_on_free_port);
#ifndef UNDER_ASAN
    RUN(test_mem_kept_large_buffers_are_faulted_in_once);
#endif
    return CHECK_DONE();
}
