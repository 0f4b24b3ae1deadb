/*
 * net.h: TCP helpers for the servers (broker, collect).
 *
 * Addresses are "HOST:PORT", "[V6]:PORT" or ":PORT" (host defaults to
 * 127.0.0.1: servers listen on loopback unless told otherwise).
 */
#ifndef SL_NET_H
#define SL_NET_H

#include <stddef.h>

#include "base/err.h"

#define SL_NET_HOST_MAX 256

/* Split "host:port"; port 0..65535. Returns SL_OK or SL_EUSAGE with a message. */
int sl_net_hostport_parse(const char *addr, char host[SL_NET_HOST_MAX], int *port,
                          struct sl_error *err);

/*
 * Open a non-blocking, close-on-exec listening socket on addr with
 * SO_REUSEADDR. Returns the fd (>= 0; caller closes it) or an sl_err.
 */
int sl_net_listen(const char *addr, int backlog, struct sl_error *err);

/* The port a bound socket got (for ":0" listeners); < 0 on error. */
int sl_net_local_port(int fd);

/* Accept one connection, non-blocking and close-on-exec, with TCP_NODELAY.
 * Returns the fd, SL_EAGAIN when none is pending, or SL_EIO. */
int sl_net_accept(int listen_fd, char *peer, size_t peer_len);

/* Set O_NONBLOCK on fd; SL_OK or SL_EIO. */
int sl_net_nonblock(int fd);

#endif
