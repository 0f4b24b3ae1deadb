/*
 * cmd_demo.c: `sluice demo`, the steel thread end to end on a fresh temporary
 * directory: broker and collector on free loopback ports, the week-12 load
 * (10 requests each of / and /purchase_a_sword as user1.comcast.com and
 * user2.att.com), the purchases extract, the split-by-event_type extract and
 * the reference query, each stage printed with its time. Every stage is the
 * real sub-command run as a child process, so the demo shows exactly what a
 * user would type.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/clock.h"
#include "cli/cmd.h"
#include "cli/opt.h"
#include "cli/proc.h"

static const struct opt_cmd demo_cmd = {
    "demo",
    "sluice demo [--keep]",
    "run the whole pipeline on a temporary directory, printing each stage",
};

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

/* One GET on a keep-alive connection; reads the whole reply. Returns the
 * HTTP status or -1. The demo's own client: it must not depend on curl. */
static int http_get(int fd, const char *path, const char *host)
{
    char req[512];
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: ApacheBench/2.3\r\n"
                     "Accept: */*\r\n\r\n",
                     path, host);
    if (send(fd, req, (size_t)n, MSG_NOSIGNAL) != n)
        return -1;
    char resp[4096];
    size_t len = 0;
    for (;;) {
        ssize_t r = recv(fd, resp + len, sizeof resp - 1 - len, 0);
        if (r <= 0)
            return -1;
        len += (size_t)r;
        resp[len] = '\0';
        char *end = strstr(resp, "\r\n\r\n");
        if (!end)
            continue;
        const char *cl = strcasestr(resp, "\r\nContent-Length:");
        size_t body = cl ? strtoul(cl + 17, NULL, 10) : 0;
        if (len >= (size_t)(end + 4 - resp) + body)
            break;
        if (len >= sizeof resp - 1)
            return -1;
    }
    int status = 0;
    return sscanf(resp, "HTTP/1.%*d %d", &status) == 1 ? status : -1;
}

static int send_load(int port, int *sent, struct sl_error *err)
{
    static const char *const hosts[] = { "user1.comcast.com", "user2.att.com" };
    static const char *const paths[] = { "/", "/purchase_a_sword" };
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof sin) < 0) {
        sl_fail_errno(err, SL_EIO, "cannot connect to the collector on port %d", port);
        if (fd >= 0)
            close(fd);
        return SL_EIO;
    }
    *sent = 0;
    for (int h = 0; h < 2; h++)
        for (int p = 0; p < 2; p++)
            for (int i = 0; i < 10; i++) {
                int status = http_get(fd, paths[p], hosts[h]);
                if (status != 200) {
                    close(fd);
                    return sl_fail(err, SL_EIO, "GET %s as %s answered %d", paths[p], hosts[h],
                                   status);
                }
                ++*sent;
            }
    close(fd);
    return SL_OK;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void stage(int n, const char *name, const char *what, int64_t t0)
{
    printf("[%d] %-8s %-60s %6.0f ms\n", n, name, what,
           (double)(sl_clock_mono_ns() - t0) / 1e6);
    fflush(stdout);
}

int cmd_demo(int argc, char **argv)
{
    bool keep = false;
    const struct opt opts[] = {
        { "keep", 0, OPT_FLAG, &keep, NULL, "keep the temporary directory and print its path" },
        OPT_TABLE_END,
    };
    int npos = opt_parse(&demo_cmd, opts, argc, argv);
    if (npos < 0)
        return npos == -1 ? 0 : 2;
    if (npos > 0)
        return opt_usage_error(&demo_cmd, "unexpected argument '%s'", argv[1]);

    struct sl_error err = { 0 };
    char dir[] = "/tmp/sluice-demo-XXXXXX";
    if (!mkdtemp(dir)) {
        sl_fail_errno(&err, SL_EIO, "cannot create a temporary directory");
        return cmd_fail("demo", &err);
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);

    char data[300], lake[300], purchases[320], by_type[300], blog[300], clog[300];
    char kafka_addr[64], http_addr[64];
    snprintf(data, sizeof data, "%s/broker-data", dir);
    snprintf(lake, sizeof lake, "%s/lake", dir);
    snprintf(purchases, sizeof purchases, "%s/purchases", lake);
    snprintf(by_type, sizeof by_type, "%s/by_type", dir);
    snprintf(blog, sizeof blog, "%s/broker.log", dir);
    snprintf(clog, sizeof clog, "%s/collect.log", dir);

    int64_t t_all = sl_clock_mono_ns(), t0;
    struct proc broker = { .name = "broker" }, collect = { .name = "collect" };
    int status = 1, sent = 0;
    printf("sluice demo: the steel thread in %s\n", dir);

    t0 = sl_clock_mono_ns();
    int kport = proc_free_port(&err);
    if (kport < 0)
        goto out;
    snprintf(kafka_addr, sizeof kafka_addr, "127.0.0.1:%d", kport);
    char *broker_argv[] = { "broker", "--listen", kafka_addr, "--data", data, NULL };
    if (proc_spawn_self(&broker, broker_argv, blog, &err) != SL_OK ||
        proc_wait_port(&broker, kport, 5000, &err) != SL_OK)
        goto out;
    char what[256];
    snprintf(what, sizeof what, "sluice broker --listen %s", kafka_addr);
    stage(1, "broker", what, t0);

    t0 = sl_clock_mono_ns();
    int hport = proc_free_port(&err);
    if (hport < 0)
        goto out;
    snprintf(http_addr, sizeof http_addr, "127.0.0.1:%d", hport);
    char *collect_argv[] = { "collect", "--listen", http_addr, "-b", kafka_addr, NULL };
    if (proc_spawn_self(&collect, collect_argv, clog, &err) != SL_OK ||
        proc_wait_port(&collect, hport, 5000, &err) != SL_OK)
        goto out;
    snprintf(what, sizeof what, "sluice collect --listen %s -b %s", http_addr, kafka_addr);
    stage(2, "collect", what, t0);

    t0 = sl_clock_mono_ns();
    if (interrupted || send_load(hport, &sent, &err) != SL_OK)
        goto out;
    snprintf(what, sizeof what, "%d requests: / and /purchase_a_sword x user1, user2", sent);
    stage(3, "load", what, t0);

    t0 = sl_clock_mono_ns();
    char *split_argv[] = { "extract", "-b", kafka_addr, "-t", "events", "--out", by_type,
                           "--split-by", "event_type", NULL };
    /* A split output is a lake of its own: never nest another table in it. */
    printf("    $ sluice extract -t events --out by_type --split-by event_type\n");
    fflush(stdout);
    if (interrupted || proc_run_self(split_argv, &err) != 0) {
        sl_fail(&err, SL_EIO, "the split-by-event_type extract failed");
        goto out;
    }
    stage(4, "extract", "events -> one table per event_type under by_type/", t0);

    t0 = sl_clock_mono_ns();
    char *purch_argv[] = { "extract", "-b", kafka_addr, "-t", "events", "--out", purchases,
                           "--where", "event_type = 'purchase_sword'", NULL };
    printf("    $ sluice extract -t events --out lake/purchases "
           "--where \"event_type = 'purchase_sword'\"\n");
    fflush(stdout);
    if (interrupted || proc_run_self(purch_argv, &err) != 0) {
        sl_fail(&err, SL_EIO, "the purchases extract failed");
        goto out;
    }
    stage(5, "extract", "events -> lake/purchases (purchase_sword only)", t0);

    t0 = sl_clock_mono_ns();
    const char *query = "select * from purchases where host='user1.comcast.com'";
    char *sql_argv[] = { "sql", "--lake", lake, (char *)query, NULL };
    printf("    $ sluice sql --lake lake \"%s\"\n", query);
    fflush(stdout);
    if (interrupted || proc_run_self(sql_argv, &err) != 0) {
        sl_fail(&err, SL_EIO, "the query failed");
        goto out;
    }
    stage(6, "sql", "the reference query over the lake", t0);
    status = 0;
out:
    proc_stop(&collect, 5000);
    proc_stop(&broker, 5000);
    if (interrupted)
        sl_fail(&err, SL_EIO, "interrupted");
    if (status == 0)
        printf("done in %.0f ms\n", (double)(sl_clock_mono_ns() - t_all) / 1e6);
    if (keep || status != 0)
        printf("kept %s (broker.log and collect.log are there)\n", dir);
    else
        nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return status == 0 ? 0 : cmd_fail("demo", &err);
}
