/*
 * transport/socket/proto.h - the request/reply protocol between the
 * preload (client side, transport/preload/preload.c) and a shared server
 * (`iommusim serve --socket PATH`, transport/socket/socket.c).
 *
 * The connection is an AF_UNIX SOCK_SEQPACKET socket: each request and
 * each reply is one message of fixed size, so boundaries need no framing
 * and a descriptor can travel with a request (SCM_RIGHTS).  A connection
 * belongs to one process at a time; its threads take turns (one request
 * in flight, answered in order).  The server learns who sent each message
 * from the kernel (SCM_CREDENTIALS, SO_PASSCRED), and the request names
 * the calling thread, which must belong to that process: the server reads
 * and writes the caller's memory itself (process_vm_readv/writev), so
 * requests carry addresses, never data.
 *
 * Contexts (open /dev/iommu) and files (descriptors an ioctl created) are
 * named by handles, numbers the server hands out and never reuses.  A
 * connection holds each handle at most once; the object goes when the
 * last connection holding it drops it (CLOSE, or the connection ends).
 *
 *   HELLO  arg[0] protocol version -> result: the server's pid
 *          (arg: its ABI, in `handle`)
 *   OPEN   arg[0] 0 -> handle of a new context;
 *          arg[0] 1, arg[1] a requester/Stream ID -> handle of a new
 *          emulated VFIO device there (ENODEV: the server has no model)
 *   CLOSE  handle: this connection lets go of it
 *   FORK   this connection takes a hold on every handle held by the
 *          sender's other connections (sent by a process about to fork,
 *          on the connection its child will use) -> result: how many
 *   IOCTL  handle, tid, arg[0] request, arg[1] argument pointer,
 *          arg[2] hint_fd, arg[3] hint handle (the file the caller's
 *          descriptor hint_fd names; -1 none), spare_fd: the number of a
 *          descriptor sent along (SCM_RIGHTS, an eventfd; -1 none) that
 *          becomes the new descriptor if the ioctl creates one
 *          -> result; handle: the new file's (0: the spare was not used).
 *          On a VFIO device: the device's ioctl, the hint naming the
 *          context VFIO_DEVICE_BIND_IOMMUFD's descriptor stands for
 *   READ / WRITE  handle (a file or a VFIO device), tid, arg[0] buffer,
 *          arg[1] length, arg[2] offset -> result: bytes or -errno
 *
 * Results are the dispatcher's: >= 0, or a negative errno.  A malformed
 * message ends the connection.
 */
#ifndef TRANSPORT_SOCKET_PROTO_H
#define TRANSPORT_SOCKET_PROTO_H

#include <stdint.h>

#define SOCK_PROTO_VERSION 2 /* 2: VFIO devices */

enum sock_op {
	SOCK_OP_HELLO = 1,
	SOCK_OP_OPEN,
	SOCK_OP_CLOSE,
	SOCK_OP_FORK,
	SOCK_OP_IOCTL,
	SOCK_OP_READ,
	SOCK_OP_WRITE,
};

struct sock_req {
	uint32_t op;
	int32_t tid;
	uint64_t handle;
	uint64_t arg[4];
	int32_t spare_fd;
	uint32_t reserved;
};

/* SOCK_OP_OPEN arg[0] */
enum sock_open_kind {
	SOCK_OPEN_CONTEXT = 0,
	SOCK_OPEN_VFIO = 1,
};

struct sock_reply {
	int64_t result;
	uint64_t handle;
};

/* Largest READ or WRITE served in one request (a longer one is short). */
#define SOCK_IO_MAX (1u << 20)

#endif
