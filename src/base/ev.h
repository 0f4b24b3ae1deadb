/*
 * ev.h: a small single-threaded epoll event loop (after Redis ae).
 *
 * File events call back when an fd is readable and/or writable; timers fire
 * once after a delay; the before-sleep hook runs each time the loop is about
 * to wait, which is where the broker group-commits (one fsync for every batch
 * appended in this iteration) before its replies are written, and where
 * connections marked for closing are freed. sl_ev_wakeup() is the only call
 * other threads may make; it runs the wakeup callback on the loop's thread.
 * Everything else must be called from the loop's thread.
 */
#ifndef SL_EV_H
#define SL_EV_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"

struct sl_ev;

enum { SL_EV_READ = 1, SL_EV_WRITE = 2 };

typedef void sl_ev_fd_fn(struct sl_ev *ev, int fd, int mask, void *arg);
typedef void sl_ev_fn(struct sl_ev *ev, void *arg);

/* Create a loop; NULL on failure (message in err). Caller frees with sl_ev_free. */
struct sl_ev *sl_ev_new(struct sl_error *err);
/* Free the loop (not the fds it watches). NULL-safe. */
void sl_ev_free(struct sl_ev *ev);

/* Watch fd for `mask` (SL_EV_READ|SL_EV_WRITE), replacing any earlier watch. */
int sl_ev_fd_add(struct sl_ev *ev, int fd, int mask, sl_ev_fd_fn *fn, void *arg,
                 struct sl_error *err);
/* Change the mask of a watched fd (0 keeps it registered but silent). */
int sl_ev_fd_mask(struct sl_ev *ev, int fd, int mask);
/* Stop watching fd; safe inside any callback, also for fd's own. */
void sl_ev_fd_del(struct sl_ev *ev, int fd);

/* Call fn once after delay_ms; returns a timer id > 0. */
int64_t sl_ev_timer_add(struct sl_ev *ev, int64_t delay_ms, sl_ev_fn *fn, void *arg);
/* Cancel a timer that has not fired; ids that fired or are unknown are ignored. */
void sl_ev_timer_del(struct sl_ev *ev, int64_t id);

/* Run fn before every wait (NULL to clear). */
void sl_ev_before_sleep(struct sl_ev *ev, sl_ev_fn *fn, void *arg);
/* Run fn on the loop thread after any thread calls sl_ev_wakeup(). */
void sl_ev_on_wakeup(struct sl_ev *ev, sl_ev_fn *fn, void *arg);
/* Thread-safe, async-signal-safe: make the loop call its wakeup fn soon. */
void sl_ev_wakeup(struct sl_ev *ev);

/*
 * Poll instead of sleeping while expect(arg) says an event is due soon:
 * before each wait, if expect(arg) is true, the loop checks for events
 * without blocking, handing the CPU to any other runnable thread between
 * checks (sched_yield), for up to spin_us (never past the next timer), and
 * only then blocks. For a loop that waits on another thread of its process:
 * on a virtual machine, waking a thread asleep on an idle CPU costs more
 * than the wait itself. spin_us 0 (the default) turns it off.
 */
void sl_ev_spin(struct sl_ev *ev, int spin_us, bool (*expect)(void *arg), void *arg);

/* Run until sl_ev_stop(); returns SL_OK or SL_EIO if epoll fails. */
int sl_ev_run(struct sl_ev *ev, struct sl_error *err);
/* Make sl_ev_run() return after the current iteration. */
void sl_ev_stop(struct sl_ev *ev);

#endif
