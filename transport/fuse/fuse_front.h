/*
 * transport/fuse/fuse_front.h - /dev/iommu served by the kernel's FUSE
 * driver: a CUSE character device, or a regular FUSE file.
 *
 * Both are front ends of one server (transport/server/server.h): each
 * open(2) of the device is one context, each ioctl(2) is served for the
 * calling thread with its memory read and written directly
 * (process_vm_readv/writev on fuse_req_ctx()->pid, through srv_ioctl),
 * close(2) of the last reference closes the context.  docs/transports.md
 * says what a FUSE-served descriptor cannot do.
 */
#ifndef TRANSPORT_FUSE_FUSE_FRONT_H
#define TRANSPORT_FUSE_FUSE_FRONT_H

#include "transport/server/server.h"

struct srv_fuse;

/* Called once, when the device first answers: the CUSE node exists, or
 * the FUSE connection is initialised. */
typedef void (*srv_fuse_ready_fn)(void *arg);

/*
 * Create the character device /dev/`name` through /dev/cuse (the kernel's
 * cuse module; devtmpfs makes the node) and watch it in s's loop.
 * 0 or -errno: -ENODEV when the kernel has no CUSE; the reason is logged.
 */
int srv_fuse_open_cuse(struct srv *s, const char *name, srv_fuse_ready_fn ready, void *arg,
		       struct srv_fuse **out);

/*
 * Mount a FUSE file system whose root is one regular file on `path` (a
 * regular file; an absent one is created, and removed again by
 * srv_fuse_close) and watch it in s's loop.  Needs the right to mount
 * (root).  0 or -errno; the reason is logged.
 */
int srv_fuse_mount_file(struct srv *s, const char *path, srv_fuse_ready_fn ready, void *arg,
			struct srv_fuse **out);

/* Stop watching, unmount or remove the device, free.  NULL is ignored. */
void srv_fuse_close(struct srv_fuse *f);

#endif
