/*
 * proc.h: child processes of the sluice tool itself, for the commands that
 * run the whole pipeline (`sluice demo`, `sluice up`): spawn `sluice <cmd>`
 * as a child, wait until a server's port accepts connections, stop children
 * gracefully (SIGTERM, then SIGKILL after a grace period).
 */
#ifndef CLI_PROC_H
#define CLI_PROC_H

#include <stdbool.h>
#include <sys/types.h>

#include "base/err.h"

struct proc {
    const char *name; /* borrowed: label for messages ("broker") */
    pid_t pid;        /* > 0 while running */
    int status;       /* wait status once reaped */
};

/*
 * Start this executable with argv (argv[0] is the sub-command, NULL-ended).
 * stdout/stderr go to `log_path` (appended) when it is non-NULL, else are
 * inherited. Returns SL_OK or SL_EIO.
 */
int proc_spawn_self(struct proc *proc, char *const argv[], const char *log_path,
                    struct sl_error *err);

/* Run this executable with argv to completion; returns its exit status (0..255)
 * or an sl_err if it could not be started or was killed by a signal. */
int proc_run_self(char *const argv[], struct sl_error *err);

/* Wait until 127.0.0.1:port accepts a connection, the child dies, or timeout. */
int proc_wait_port(struct proc *proc, int port, int timeout_ms, struct sl_error *err);

/*
 * Wait until the child has installed its SIGTERM handler (Linux: the SigCgt
 * mask in /proc/PID/status), so that a stop request reaches its graceful
 * shutdown instead of killing it during start-up. SL_OK, or SL_EIO if it
 * exits or the timeout passes first.
 */
int proc_wait_catches_sigterm(struct proc *proc, int timeout_ms, struct sl_error *err);

/* SIGTERM, wait up to grace_ms, then SIGKILL. Returns the exit status or -1. */
int proc_stop(struct proc *proc, int grace_ms);

/* A port on 127.0.0.1 that nothing listens on at the moment of the call. */
int proc_free_port(struct sl_error *err);

/* Whether the child has exited (reaps it if so). */
bool proc_exited(struct proc *proc);

#endif
