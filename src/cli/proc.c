/* proc.c: spawning and stopping sluice child processes (see proc.h). */
#include "cli/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"

extern char **environ;

static int self_path(char *out, size_t len, struct sl_error *err)
{
    ssize_t n = readlink("/proc/self/exe", out, len - 1);
    if (n < 0)
        return sl_fail_errno(err, SL_EIO, "cannot find the sluice executable");
    out[n] = '\0';
    return SL_OK;
}

static int spawn(pid_t *pid, char *const argv[], const char *log_path, struct sl_error *err)
{
    char exe[4096];
    if (self_path(exe, sizeof exe, err) != SL_OK)
        return SL_EIO;
    int n = 0;
    while (argv[n])
        n++;
    char *full[n + 2];
    full[0] = "sluice";
    for (int i = 0; i <= n; i++)
        full[i + 1] = argv[i];
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (log_path) {
        posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, log_path,
                                         O_WRONLY | O_CREAT | O_APPEND, 0644);
        posix_spawn_file_actions_adddup2(&fa, STDOUT_FILENO, STDERR_FILENO);
    }
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    /* Own process group: a terminal's Ctrl-C reaches only the parent, which
     * then stops the children in pipeline order (collect drains first). */
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attr, 0);
    int rc = posix_spawn(pid, exe, &fa, &attr, full, environ);
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        errno = rc;
        return sl_fail_errno(err, SL_EIO, "cannot start 'sluice %s'", argv[0]);
    }
    return SL_OK;
}

int proc_spawn_self(struct proc *proc, char *const argv[], const char *log_path,
                    struct sl_error *err)
{
    proc->status = 0;
    proc->pid = 0;
    return spawn(&proc->pid, argv, log_path, err);
}

int proc_run_self(char *const argv[], struct sl_error *err)
{
    pid_t pid;
    if (spawn(&pid, argv, NULL, err) != SL_OK)
        return SL_EIO;
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return sl_fail_errno(err, SL_EIO, "cannot wait for 'sluice %s'", argv[0]);
    if (!WIFEXITED(status))
        return sl_fail(err, SL_EIO, "'sluice %s' was killed by signal %d", argv[0],
                       WTERMSIG(status));
    return WEXITSTATUS(status);
}

bool proc_exited(struct proc *proc)
{
    if (proc->pid <= 0)
        return true;
    if (waitpid(proc->pid, &proc->status, WNOHANG) == proc->pid) {
        proc->pid = 0;
        return true;
    }
    return false;
}

static int try_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int rc = connect(fd, (struct sockaddr *)&sin, sizeof sin);
    close(fd);
    return rc;
}

int proc_wait_port(struct proc *proc, int port, int timeout_ms, struct sl_error *err)
{
    int64_t deadline = sl_clock_mono_ms() + timeout_ms;
    while (sl_clock_mono_ms() < deadline) {
        if (try_connect(port) == 0)
            return SL_OK;
        if (proc_exited(proc))
            return sl_fail(err, SL_EIO, "%s exited before listening on port %d", proc->name,
                           port);
        struct timespec ts = { 0, 5 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    return sl_fail(err, SL_EIO, "%s is not listening on port %d after %d ms", proc->name, port,
                   timeout_ms);
}

static bool catches_sigterm(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    unsigned long long mask = 0;
    bool found = false;
    while (!found && fgets(line, sizeof line, f))
        found = sscanf(line, "SigCgt: %llx", &mask) == 1;
    fclose(f);
    return found && (mask & (1ull << (SIGTERM - 1)));
}

int proc_wait_catches_sigterm(struct proc *proc, int timeout_ms, struct sl_error *err)
{
    int64_t deadline = sl_clock_mono_ms() + timeout_ms;
    while (!catches_sigterm(proc->pid)) {
        if (proc_exited(proc))
            return sl_fail(err, SL_EIO, "%s exited while starting", proc->name);
        if (sl_clock_mono_ms() >= deadline)
            return sl_fail(err, SL_EIO, "%s did not start within %d ms", proc->name,
                           timeout_ms);
        struct timespec ts = { 0, 2 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    return SL_OK;
}

int proc_stop(struct proc *proc, int grace_ms)
{
    if (proc->pid <= 0)
        return WIFEXITED(proc->status) ? WEXITSTATUS(proc->status) : -1;
    kill(proc->pid, SIGTERM);
    int64_t deadline = sl_clock_mono_ms() + grace_ms;
    while (!proc_exited(proc)) {
        if (sl_clock_mono_ms() >= deadline) {
            kill(proc->pid, SIGKILL);
            waitpid(proc->pid, &proc->status, 0);
            proc->pid = 0;
            return -1;
        }
        struct timespec ts = { 0, 2 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    return WIFEXITED(proc->status) ? WEXITSTATUS(proc->status) : -1;
}

int proc_free_port(struct sl_error *err)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return sl_fail_errno(err, SL_EIO, "cannot create socket");
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof sin;
    if (bind(fd, (struct sockaddr *)&sin, sizeof sin) < 0 ||
        getsockname(fd, (struct sockaddr *)&sin, &len) < 0) {
        sl_fail_errno(err, SL_EIO, "cannot find a free port");
        close(fd);
        return SL_EIO;
    }
    close(fd);
    return ntohs(sin.sin_port);
}
