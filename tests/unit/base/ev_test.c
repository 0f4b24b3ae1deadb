/* Tests of src/base/ev.c: fd events, timers, before-sleep, cross-thread wakeup,
 * spinning before sleep. */
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/ev.h"
#include "check.h"

struct state {
    int reads, timers, sleeps, wakeups;
    int pipe_r;
    char got[16];
};

static void on_read(struct sl_ev *ev, int fd, int mask, void *arg)
{
    struct state *st = arg;
    CHECK(mask & SL_EV_READ);
    ssize_t n = read(fd, st->got, sizeof st->got - 1);
    if (n > 0)
        st->got[n] = '\0';
    st->reads++;
    sl_ev_fd_del(ev, fd);
}

static void on_timer_stop(struct sl_ev *ev, void *arg)
{
    struct state *st = arg;
    st->timers++;
    sl_ev_stop(ev);
}

static void on_timer_never(struct sl_ev *ev, void *arg)
{
    (void)ev;
    ((struct state *)arg)->timers += 100;
}

static void on_sleep(struct sl_ev *ev, void *arg)
{
    (void)ev;
    ((struct state *)arg)->sleeps++;
}

static void test_ev_fd_timer_and_before_sleep(void)
{
    struct sl_error err = { 0 };
    struct sl_ev *ev = sl_ev_new(&err);
    CHECK(ev != NULL);
    struct state st = { 0 };
    int p[2];
    CHECK_INT(pipe(p), 0);
    CHECK_INT(write(p[1], "hi", 2), 2);
    CHECK_INT(sl_ev_fd_add(ev, p[0], SL_EV_READ, on_read, &st, &err), SL_OK);
    int64_t never = sl_ev_timer_add(ev, 10, on_timer_never, &st);
    sl_ev_timer_del(ev, never);
    sl_ev_timer_add(ev, 30, on_timer_stop, &st);
    sl_ev_before_sleep(ev, on_sleep, &st);
    int64_t t0 = sl_clock_mono_ms();
    CHECK_INT(sl_ev_run(ev, &err), SL_OK);
    CHECK(sl_clock_mono_ms() - t0 >= 29);
    CHECK_INT(st.reads, 1);
    CHECK_STR(st.got, "hi");
    CHECK_INT(st.timers, 1);
    CHECK(st.sleeps >= 1);
    close(p[0]);
    close(p[1]);
    sl_ev_free(ev);
}

static void on_wakeup(struct sl_ev *ev, void *arg)
{
    ((struct state *)arg)->wakeups++;
    sl_ev_stop(ev);
}

static void *waker(void *arg)
{
    usleep(20000);
    sl_ev_wakeup(arg);
    return NULL;
}

/* Run ev until another thread wakes it (20 ms in); returns the ms it ran. */
static int64_t run_until_woken(struct sl_ev *ev)
{
    struct sl_error err = { 0 };
    struct state st = { 0 };
    sl_ev_on_wakeup(ev, on_wakeup, &st);
    pthread_t t;
    pthread_create(&t, NULL, waker, ev);
    int64_t t0 = sl_clock_mono_ms();
    CHECK_INT(sl_ev_run(ev, &err), SL_OK);
    int64_t ran = sl_clock_mono_ms() - t0;
    pthread_join(t, NULL);
    CHECK_INT(st.wakeups, 1);
    return ran;
}

static void test_ev_wakeup_from_another_thread(void)
{
    struct sl_error err = { 0 };
    struct sl_ev *ev = sl_ev_new(&err);
    run_until_woken(ev);
    sl_ev_free(ev);
}

static int expect_calls;

static bool expect_always(void *arg)
{
    (void)arg;
    expect_calls++;
    return true;
}

static int64_t thread_cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Run a loop with nothing to do but a timer at timer_ms, spinning as asked;
 * returns the CPU ms it used. The timer must fire on time and expect() be
 * consulted. */
static int64_t cpu_ms_until_timer(int spin_us, bool (*expect)(void *), int timer_ms)
{
    struct sl_error err = { 0 };
    struct sl_ev *ev = sl_ev_new(&err);
    struct state st = { 0 };
    expect_calls = 0;
    sl_ev_spin(ev, spin_us, expect, NULL);
    sl_ev_timer_add(ev, timer_ms, on_timer_stop, &st);
    int64_t cpu0 = thread_cpu_ms(), t0 = sl_clock_mono_ms();
    CHECK_INT(sl_ev_run(ev, &err), SL_OK);
    int64_t cpu = thread_cpu_ms() - cpu0;
    CHECK(sl_clock_mono_ms() - t0 >= timer_ms - 1);
    CHECK_INT(st.timers, 1);
    CHECK(expect_calls >= 1);
    sl_ev_free(ev);
    return cpu;
}

/* Spinning is bounded: with nothing coming, the loop polls for spin_us and
 * then sleeps until its timer, instead of burning the CPU until then. */
static void test_ev_spin_gives_up_and_sleeps_when_nothing_comes(void)
{
    CHECK(cpu_ms_until_timer(2000, expect_always, 300) < 100); /* 2 ms of polling, not 300 */
}

/* A wakeup that lands while the loop spins is served at once: the loop does
 * not finish its (here 3 s) spin first. */
static void test_ev_spin_serves_a_wakeup_that_comes_while_polling(void)
{
    struct sl_error err = { 0 };
    struct sl_ev *ev = sl_ev_new(&err);
    sl_ev_spin(ev, 3000000, expect_always, NULL);
    CHECK(run_until_woken(ev) < 1500);
    sl_ev_free(ev);
}

static bool expect_never(void *arg)
{
    (void)arg;
    expect_calls++;
    return false;
}

/* When no event is expected the loop sleeps at once. */
static void test_ev_spin_only_while_an_event_is_expected(void)
{
    CHECK(cpu_ms_until_timer(1000000, expect_never, 200) < 100);
}

int main(void)
{
    RUN(test_ev_fd_timer_and_before_sleep);
    RUN(test_ev_wakeup_from_another_thread);
    RUN(test_ev_spin_gives_up_and_sleeps_when_nothing_comes);
    RUN(test_ev_spin_serves_a_wakeup_that_comes_while_polling);
    RUN(test_ev_spin_only_while_an_event_is_expected);
    return CHECK_DONE();
}
