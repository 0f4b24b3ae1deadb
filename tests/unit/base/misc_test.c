/* Tests of src/base err.c, log.c, clock.c, arena.c and net.c. */
#include <errno.h>
#include <unistd.h>

#include "base/arena.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
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

int main(void)
{
    RUN(test_err_first_failure_wins);
    RUN(test_err_errno_suffix_and_position);
    RUN(test_log_level_parse);
    RUN(test_clock_monotonic_advances);
    RUN(test_arena_allocations_are_aligned_and_distinct);
    RUN(test_net_hostport_parse);
    RUN(test_net_listen_on_free_port);
    return CHECK_DONE();
}
