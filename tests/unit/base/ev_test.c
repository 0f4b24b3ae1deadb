/* Tests of src/base/ev.c: fd events, timers, before-sleep, cross-thread wakeup. */
#include <pthread.h>
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

static void test_ev_wakeup_from_another_thread(void)
{
    struct sl_error err = { 0 };
    struct sl_ev *ev = sl_ev_new(&err);
    struct state st = { 0 };
    sl_ev_on_wakeup(ev, on_wakeup, &st);
    pthread_t t;
    pthread_create(&t, NULL, waker, ev);
    CHECK_INT(sl_ev_run(ev, &err), SL_OK);
    pthread_join(t, NULL);
    CHECK_INT(st.wakeups, 1);
    sl_ev_free(ev);
}

int main(void)
{
    RUN(test_ev_fd_timer_and_before_sleep);
    RUN(test_ev_wakeup_from_another_thread);
    return CHECK_DONE();
}
