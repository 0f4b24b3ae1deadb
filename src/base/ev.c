/*
 * ev.c: epoll event loop (see ev.h).
 *
 * Timers live in an unsorted array and the loop scans it for the earliest
 * deadline: a broker has at most a few hundred (long-polling fetches), where
 * a scan costs less than keeping a heap in order.
 */
#include "base/ev.h"

#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/mem.h"

struct fd_watch {
    sl_ev_fd_fn *fn; /* NULL: not watched */
    void *arg;       /* borrowed */
    int mask;
};

struct timer {
    int64_t id;
    int64_t when_ms; /* monotonic */
    sl_ev_fn *fn;
    void *arg;       /* borrowed */
};

struct sl_ev {
    int epfd;
    int wakefd;              /* eventfd written by sl_ev_wakeup() */
    struct fd_watch *fds;    /* indexed by fd; owned */
    int nfds;                /* entries in fds */
    struct timer *timers;    /* owned */
    size_t ntimers, captimers;
    int64_t next_timer_id;
    sl_ev_fn *before_sleep, *on_wakeup;
    void *before_sleep_arg, *on_wakeup_arg;
    int spin_us;                 /* 0: always block */
    bool (*spin_expect)(void *); /* may be NULL when spin_us is 0 */
    void *spin_arg;
    bool stop;
};

struct sl_ev *sl_ev_new(struct sl_error *err)
{
    struct sl_ev *ev = sl_xcalloc(1, sizeof *ev);
    ev->wakefd = -1;
    ev->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (ev->epfd < 0) {
        sl_fail_errno(err, SL_EIO, "cannot create epoll instance");
        goto fail;
    }
    ev->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (ev->wakefd < 0) {
        sl_fail_errno(err, SL_EIO, "cannot create eventfd");
        goto fail;
    }
    struct epoll_event e = { .events = EPOLLIN, .data.fd = ev->wakefd };
    if (epoll_ctl(ev->epfd, EPOLL_CTL_ADD, ev->wakefd, &e) < 0) {
        sl_fail_errno(err, SL_EIO, "cannot watch eventfd");
        goto fail;
    }
    return ev;
fail:
    sl_ev_free(ev);
    return NULL;
}

void sl_ev_free(struct sl_ev *ev)
{
    if (!ev)
        return;
    if (ev->wakefd >= 0)
        close(ev->wakefd);
    if (ev->epfd >= 0)
        close(ev->epfd);
    free(ev->fds);
    free(ev->timers);
    free(ev);
}

static uint32_t to_epoll(int mask)
{
    return (mask & SL_EV_READ ? EPOLLIN | EPOLLRDHUP : 0) | (mask & SL_EV_WRITE ? EPOLLOUT : 0);
}

int sl_ev_fd_add(struct sl_ev *ev, int fd, int mask, sl_ev_fd_fn *fn, void *arg,
                 struct sl_error *err)
{
    if (fd >= ev->nfds) {
        int n = ev->nfds ? ev->nfds : 64;
        while (n <= fd)
            n *= 2;
        ev->fds = sl_xrealloc(ev->fds, (size_t)n * sizeof *ev->fds);
        memset(ev->fds + ev->nfds, 0, (size_t)(n - ev->nfds) * sizeof *ev->fds);
        ev->nfds = n;
    }
    struct epoll_event e = { .events = to_epoll(mask), .data.fd = fd };
    int op = ev->fds[fd].fn ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (epoll_ctl(ev->epfd, op, fd, &e) < 0)
        return sl_fail_errno(err, SL_EIO, "cannot watch fd %d", fd);
    ev->fds[fd] = (struct fd_watch){ fn, arg, mask };
    return SL_OK;
}

int sl_ev_fd_mask(struct sl_ev *ev, int fd, int mask)
{
    if (fd >= ev->nfds || !ev->fds[fd].fn)
        return SL_ENOTFOUND;
    if (ev->fds[fd].mask == mask)
        return SL_OK;
    struct epoll_event e = { .events = to_epoll(mask), .data.fd = fd };
    if (epoll_ctl(ev->epfd, EPOLL_CTL_MOD, fd, &e) < 0)
        return SL_EIO;
    ev->fds[fd].mask = mask;
    return SL_OK;
}

void sl_ev_fd_del(struct sl_ev *ev, int fd)
{
    if (fd < 0 || fd >= ev->nfds || !ev->fds[fd].fn)
        return;
    epoll_ctl(ev->epfd, EPOLL_CTL_DEL, fd, NULL);
    ev->fds[fd] = (struct fd_watch){ 0 };
}

int64_t sl_ev_timer_add(struct sl_ev *ev, int64_t delay_ms, sl_ev_fn *fn, void *arg)
{
    if (ev->ntimers == ev->captimers) {
        ev->captimers = ev->captimers ? ev->captimers * 2 : 16;
        ev->timers = sl_xrealloc(ev->timers, ev->captimers * sizeof *ev->timers);
    }
    int64_t id = ++ev->next_timer_id;
    ev->timers[ev->ntimers++] = (struct timer){ id, sl_clock_mono_ms() + delay_ms, fn, arg };
    return id;
}

void sl_ev_timer_del(struct sl_ev *ev, int64_t id)
{
    for (size_t i = 0; i < ev->ntimers; i++) {
        if (ev->timers[i].id == id) {
            ev->timers[i] = ev->timers[--ev->ntimers];
            return;
        }
    }
}

void sl_ev_before_sleep(struct sl_ev *ev, sl_ev_fn *fn, void *arg)
{
    ev->before_sleep = fn;
    ev->before_sleep_arg = arg;
}

void sl_ev_on_wakeup(struct sl_ev *ev, sl_ev_fn *fn, void *arg)
{
    ev->on_wakeup = fn;
    ev->on_wakeup_arg = arg;
}

void sl_ev_wakeup(struct sl_ev *ev)
{
    uint64_t one = 1;
    /* EAGAIN means the counter is already non-zero: the loop will wake anyway. */
    ssize_t n = write(ev->wakefd, &one, sizeof one);
    (void)n;
}

void sl_ev_spin(struct sl_ev *ev, int spin_us, bool (*expect)(void *arg), void *arg)
{
    ev->spin_us = expect && spin_us > 0 ? spin_us : 0;
    ev->spin_expect = expect;
    ev->spin_arg = arg;
}

/* epoll_wait without blocking until something is ready or the spin is over;
 * 0 if nothing came. *timeout_ms (the next timer, -1 for none) bounds the
 * spin and is left with what remains of it. */
static int spin_wait(struct sl_ev *ev, struct epoll_event *events, int max, int *timeout_ms)
{
    int64_t limit = (int64_t)ev->spin_us * 1000;
    if (*timeout_ms >= 0 && (int64_t)*timeout_ms * 1000000 < limit)
        limit = (int64_t)*timeout_ms * 1000000;
    int64_t t0 = sl_clock_mono_ns();
    for (;;) {
        int n = epoll_wait(ev->epfd, events, max, 0);
        int64_t spent = sl_clock_mono_ns() - t0;
        if (n != 0 || spent >= limit) {
            /* A yield can overshoot the limit: never turn a timer's wait
             * into -1 (block with no timeout). */
            int spent_ms = (int)(spent / 1000000);
            if (*timeout_ms > 0)
                *timeout_ms = spent_ms < *timeout_ms ? *timeout_ms - spent_ms : 0;
            return n;
        }
        sched_yield();
    }
}

void sl_ev_stop(struct sl_ev *ev)
{
    ev->stop = true;
}

/* Fire every due timer; returns the ms until the next one, or -1 if none. */
static int run_timers(struct sl_ev *ev)
{
    int64_t now = sl_clock_mono_ms();
    for (;;) {
        size_t due = ev->ntimers;
        for (size_t i = 0; i < ev->ntimers; i++)
            if (ev->timers[i].when_ms <= now) {
                due = i;
                break;
            }
        if (due == ev->ntimers)
            break;
        /* Remove before calling: the callback may add or delete timers. */
        struct timer t = ev->timers[due];
        ev->timers[due] = ev->timers[--ev->ntimers];
        t.fn(ev, t.arg);
    }
    if (ev->ntimers == 0)
        return -1;
    int64_t next = ev->timers[0].when_ms;
    for (size_t i = 1; i < ev->ntimers; i++)
        if (ev->timers[i].when_ms < next)
            next = ev->timers[i].when_ms;
    int64_t wait = next - sl_clock_mono_ms();
    return wait < 0 ? 0 : wait > 60000 ? 60000 : (int)wait;
}

int sl_ev_run(struct sl_ev *ev, struct sl_error *err)
{
    struct epoll_event events[256];
    ev->stop = false;
    while (!ev->stop) {
        int timeout = run_timers(ev);
        if (ev->stop)
            break;
        if (ev->before_sleep)
            ev->before_sleep(ev, ev->before_sleep_arg);
        if (ev->stop)
            break;
        int n = 0;
        if (timeout != 0 && ev->spin_us && ev->spin_expect(ev->spin_arg))
            n = spin_wait(ev, events, 256, &timeout);
        if (n == 0)
            n = epoll_wait(ev->epfd, events, 256, timeout);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return sl_fail_errno(err, SL_EIO, "epoll_wait failed");
        }
        for (int i = 0; i < n; i++) {
            int fd = events[i].data.fd;
            if (fd == ev->wakefd) {
                uint64_t count;
                ssize_t r = read(ev->wakefd, &count, sizeof count);
                (void)r;
                if (ev->on_wakeup)
                    ev->on_wakeup(ev, ev->on_wakeup_arg);
                continue;
            }
            /* A callback earlier in this batch may have deleted this fd. */
            if (fd >= ev->nfds || !ev->fds[fd].fn)
                continue;
            uint32_t e = events[i].events;
            int mask = 0;
            if (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
                mask |= SL_EV_READ;
            if (e & (EPOLLOUT | EPOLLHUP | EPOLLERR))
                mask |= SL_EV_WRITE;
            mask &= ev->fds[fd].mask;
            /* Report a hang-up even to a silent watch, so its owner closes it. */
            if (!mask && (e & (EPOLLHUP | EPOLLERR)))
                mask = SL_EV_READ;
            if (mask)
                ev->fds[fd].fn(ev, fd, mask, ev->fds[fd].arg);
        }
    }
    return SL_OK;
}
