/* net.c: listening sockets and address parsing (see net.h). */
#include "base/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int sl_net_hostport_parse(const char *addr, char host[SL_NET_HOST_MAX], int *port,
                          struct sl_error *err)
{
    const char *colon = strrchr(addr, ':');
    if (!colon)
        return sl_fail(err, SL_EUSAGE, "address '%s' has no port (HOST:PORT)", addr);
    const char *h = addr;
    size_t hlen = (size_t)(colon - addr);
    if (hlen >= 2 && h[0] == '[' && h[hlen - 1] == ']') {
        h++;
        hlen -= 2;
    }
    if (hlen >= SL_NET_HOST_MAX)
        return sl_fail(err, SL_EUSAGE, "host name in '%s' is too long", addr);
    char *end;
    errno = 0;
    long p = strtol(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end != '\0' || errno || p < 0 || p > 65535)
        return sl_fail(err, SL_EUSAGE, "invalid port in address '%s'", addr);
    if (hlen == 0)
        snprintf(host, SL_NET_HOST_MAX, "127.0.0.1");
    else
        snprintf(host, SL_NET_HOST_MAX, "%.*s", (int)hlen, h);
    *port = (int)p;
    return SL_OK;
}

int sl_net_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return SL_EIO;
    return SL_OK;
}

int sl_net_listen(const char *addr, int backlog, struct sl_error *err)
{
    char host[SL_NET_HOST_MAX];
    int port;
    int rc = sl_net_hostport_parse(addr, host, &port, err);
    if (rc != SL_OK)
        return rc;
    char portstr[16];
    snprintf(portstr, sizeof portstr, "%d", port);
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
    struct addrinfo *res;
    int gai = getaddrinfo(host, portstr, &hints, &res);
    if (gai != 0)
        return sl_fail(err, SL_EUSAGE, "cannot resolve '%s': %s", host, gai_strerror(gai));
    int fd = -1;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
            continue;
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, backlog) == 0)
            break;
        sl_fail_errno(err, SL_EIO, "cannot listen on '%s'", addr);
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0)
        return sl_fail(err, SL_EIO, "cannot listen on '%s'", addr);
    return fd;
}

int sl_net_local_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return SL_EIO;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return SL_EIO;
}

int sl_net_accept(int listen_fd, char *peer, size_t peer_len)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    int fd = accept4(listen_fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? SL_EAGAIN : SL_EIO;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (peer && peer_len) {
        char ip[INET6_ADDRSTRLEN] = "?";
        int port = 0;
        if (ss.ss_family == AF_INET) {
            struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
            inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof ip);
            port = ntohs(sin->sin_port);
        } else if (ss.ss_family == AF_INET6) {
            struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
            inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof ip);
            port = ntohs(sin6->sin6_port);
        }
        snprintf(peer, peer_len, ss.ss_family == AF_INET6 ? "[%s]:%d" : "%s:%d", ip, port);
    }
    return fd;
}
