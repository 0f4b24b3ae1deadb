/* server_test.c: the HTTP server on a real loop and socket (src/http/server.c):
 * replies given out of order still leave in request order, a reply to a
 * client that went away is dropped safely, and limits answer by themselves. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/ev.h"
#include "check.h"
#include "http/http.h"

#define MAXEX 16

struct held {
    struct http_exchange *ex[MAXEX];
    char path[MAXEX][32];
    int n;
};

static void hold(struct http_exchange *ex, const struct http_request *req, void *arg)
{
    struct held *h = arg;
    snprintf(h->path[h->n], sizeof h->path[0], "%.*s", (int)req->path.len,
             (const char *)req->path.p);
    h->ex[h->n++] = ex;
}

static void stop(struct sl_ev *ev, void *arg)
{
    (void)arg;
    sl_ev_stop(ev);
}

/* Run the loop for about ms milliseconds. */
static void spin(struct sl_ev *ev, int ms)
{
    struct sl_error err = { 0 };
    sl_ev_timer_add(ev, ms, stop, NULL);
    sl_ev_run(ev, &err);
}

/* Run the loop in short slices until *count reaches want (or 5 s pass), so
 * that a loaded machine cannot make the test flaky. */
static void spin_until(struct sl_ev *ev, const int *count, int want)
{
    for (int i = 0; i < 500 && *count < want; i++)
        spin(ev, 10);
}

/* Run the loop until the client socket fd has bytes to read (or 5 s). */
static void spin_until_readable(struct sl_ev *ev, int fd)
{
    for (int i = 0; i < 500; i++) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        if (poll(&pfd, 1, 0) == 1)
            return;
        spin(ev, 10);
    }
}

static int connect_to(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
        return -1;
    fcntl(fd, F_SETFL, O_NONBLOCK);
    return fd;
}

static size_t drain(int fd, char *buf, size_t cap)
{
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fd, buf + len, cap - 1 - len);
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    return len;
}

static void reply_text(struct http_exchange *ex, const char *body)
{
    struct http_response resp = { 200, "text/plain", NULL, sl_slice_str(body) };
    http_exchange_reply(ex, &resp);
}

static void test_out_of_order_replies_leave_in_request_order(void)
{
    struct sl_error err = { 0 };
    struct sl_ev *ev = sl_ev_new(&err);
    struct held h = { 0 };
    struct http_server_config cfg = { .listen = "127.0.0.1:0", .handler = hold, .arg = &h };
    struct http_server *srv = http_server_new(ev, &cfg, &err);
    CHECK(srv != NULL);
    int fd = connect_to(http_server_port(srv));
    const char *reqs = "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n"
                       "GET /c HTTP/1.1\r\nHost: x\r\n\r\n";
    CHECK_INT(write(fd, reqs, strlen(reqs)), strlen(reqs));
    spin_until(ev, &h.n, 3);
    CHECK_INT(h.n, 3);
    CHECK_STR(h.path[2], "/c");
    reply_text(h.ex[2], "C");
    reply_text(h.ex[1], "B");
    spin(ev, 20);
    char buf[4096];
    CHECK_INT(drain(fd, buf, sizeof buf), 0); /* /a is not answered yet */
    reply_text(h.ex[0], "A");
    spin_until_readable(ev, fd);
    spin(ev, 20);
    drain(fd, buf, sizeof buf);
    char *a = strstr(buf, "\r\n\r\nA"), *b = strstr(buf, "\r\n\r\nB"), *c = strstr(buf, "\r\n\r\nC");
    CHECK(a && b && c && a < b && b < c);
    close(fd);
    spin(ev, 20);
    http_server_free(srv);
    sl_ev_free(ev);
}

static void test_reply_after_client_left_is_dropped(void)
{
    struct sl_error err = { 0 };
    struct sl_ev *ev = sl_ev_new(&err);
    struct held h = { 0 };
    struct http_server_config cfg = { .listen = "127.0.0.1:0", .handler = hold, .arg = &h };
    struct http_server *srv = http_server_new(ev, &cfg, &err);
    int fd = connect_to(http_server_port(srv));
    const char *req = "GET /gone HTTP/1.1\r\nHost: x\r\n\r\n";
    CHECK_INT(write(fd, req, strlen(req)), strlen(req));
    spin_until(ev, &h.n, 1);
    CHECK_INT(h.n, 1);
    close(fd); /* RST or FIN: the server notices on the next iteration */
    spin(ev, 30);
    struct http_server_stats st;
    http_server_stats(srv, &st);
    /* the connection may linger until the reply; replying must be safe either way */
    reply_text(h.ex[0], "late");
    for (int i = 0; i < 500; i++) {
        spin(ev, 10);
        http_server_stats(srv, &st);
        if (st.open == 0)
            break;
    }
    CHECK_INT(st.open, 0);
    CHECK_INT(st.requests, 1);
    http_server_free(srv);
    sl_ev_free(ev);
}

static void test_server_answers_limits_itself(void)
{
    struct sl_error err = { 0 };
    struct sl_ev *ev = sl_ev_new(&err);
    struct held h = { 0 };
    struct http_server_config cfg = { .listen = "127.0.0.1:0", .handler = hold, .arg = &h,
                                      .max_body_bytes = 10 };
    struct http_server *srv = http_server_new(ev, &cfg, &err);
    int fd = connect_to(http_server_port(srv));
    const char *req = "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n";
    CHECK_INT(write(fd, req, strlen(req)), strlen(req));
    spin_until_readable(ev, fd);
    char buf[4096];
    drain(fd, buf, sizeof buf);
    CHECK(strncmp(buf, "HTTP/1.1 413 ", 13) == 0);
    CHECK(strstr(buf, "\r\n\r\nerror: request body larger than 10 bytes\n") != NULL);
    CHECK_INT(h.n, 0);
    struct http_server_stats st;
    http_server_stats(srv, &st);
    CHECK_INT(st.errors[2], 1); /* http_server_error_status[2] == 413 */
    close(fd);
    spin(ev, 20);
    http_server_free(srv);
    sl_ev_free(ev);
}

int main(void)
{
    RUN(test_out_of_order_replies_leave_in_request_order);
    RUN(test_reply_after_client_left_is_dropped);
    RUN(test_server_answers_limits_itself);
    return CHECK_DONE();
}
