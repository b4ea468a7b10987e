/*
 * transport/socket/socket.h - the Unix-socket front end of the shared
 * server (`iommusim serve --socket PATH`).
 *
 * Programs run with `iommusim run --connect PATH` have their /dev/iommu
 * served here: the preload forwards every open, ioctl, read, write and
 * close of its descriptors as one request (proto.h) and this front end
 * answers it through the server (server.h), on the server's poll loop.
 * Every process, and every child it forks, reaches the same contexts, as
 * with the kernel.  docs/transports.md, "Shared server over a socket".
 */
#ifndef TRANSPORT_SOCKET_SOCKET_H
#define TRANSPORT_SOCKET_SOCKET_H

#include "transport/server/server.h"

struct srv_socket;

/*
 * Listen on the Unix socket `path` and serve its clients through s.  A
 * stale socket file (nobody listening) is replaced; a live one, or any
 * other file, is an error.  NULL on failure, with the reason logged and in
 * errno.
 */
struct srv_socket *srv_socket_start(struct srv *s, const char *path);

/* Drop every connection (their contexts close when no other client holds
 * them), stop listening and remove the socket file. */
void srv_socket_stop(struct srv_socket *ss);

#endif
