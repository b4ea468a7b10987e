/*
 * transport/preload/preload.c - /dev/iommu for a dynamically linked
 * program, by LD_PRELOAD (libiommusim-preload.so).
 *
 * The module interposes the C library's file calls.  An open of
 * "/dev/iommu" (or of each path in $IOMMUSIM_DEVICE, a colon-separated
 * list that replaces the default) gives a descriptor served by the
 * dispatcher in this very process: iofd_open() with the user access of
 * this process (iofd_uaccess_self) and an install_file callback, so ioctls
 * that create descriptors (IOMMU_FAULT_QUEUE_ALLOC, ...) can give the
 * program new ones.  Everything else is handed to the next definition
 * (dlsym(RTLD_NEXT)), normally the C library's.
 *
 * Descriptors.  Each fake descriptor is a real kernel object, an eventfd,
 * so that dup, fork, poll, select, epoll, close-on-exec and SCM_RIGHTS
 * act on something real.  A table maps descriptor numbers to records, one
 * record per open file description (what dup shares): a /dev/iommu
 * context or a file an ioctl created.  dup, dup2, dup3 and
 * fcntl(F_DUPFD[_CLOEXEC]) add a table entry naming the same record;
 * close, close_range, closefrom and fclose drop entries; when a record's
 * last entry goes, iofd_close() or iofd_file_release() runs, as the
 * kernel's release() does when the last reference to a file drops.  A
 * descriptor number that an intercepted call returns for something else
 * while the table still names it was closed behind our back (a raw system
 * call): its entry is forgotten then.
 *
 * Readiness.  poll, ppoll, select and epoll are not intercepted.  Instead
 * each file's eventfd is kept readable exactly while iofd_file_poll() says
 * POLLIN: after every call that can change a queue (an ioctl on any fake
 * descriptor, a read or write of a file) every file is asked again and its
 * eventfd is written (counter 1: readable) or drained.  An eventfd is
 * always writable, which is the POLLOUT every iommufd file reports.
 *
 * Threads and fork.  One recursive mutex guards the table and every call
 * into the dispatcher (a recursive one, so that the dispatcher may itself
 * use intercepted calls).  It is never held across a call that can block
 * (a read of another descriptor, an open of another file).  fork() takes
 * it in the prepare handler; in-process, the child gets a copy of every
 * context (the state is per process: what the child does is not seen by
 * the parent; forwarding shares it instead, see below)
 * and, so that the two copies' readiness cannot mix, new eventfds in
 * place of the files' shared ones.
 *
 * VFIO devices.  With $IOMMUSIM_MODEL naming a VT-d or SMMUv3 hardware
 * model (`iommusim run --model`), the module also serves emulated VFIO
 * device files (vfio/): $IOMMUSIM_VFIO lists them as PATH=BB:DD.F
 * (comma-separated; the requester ID / StreamID is bus << 8 | devfn),
 * by default one, /dev/vfio/devices/vfio0 at 01:00.0.  The first open
 * builds the host IOMMU from the model (iofd_host_init); ioctls go to
 * vfio_dev_ioctl (VFIO_DEVICE_BIND_IOMMUFD names a /dev/iommu descriptor
 * of this process), pread/pwrite to the device's regions.  When
 * forwarding, the server's model drives them instead (`iommusim serve
 * --socket PATH --model M`; without one the open fails with ENODEV), and
 * a BIND_IOMMUFD must name a /dev/iommu of the same server.
 *
 * Forwarding.  With $IOMMUSIM_CONNECT naming the Unix socket of a shared
 * server (`iommusim serve --socket`, transport/socket/), nothing is
 * simulated here: opens, ioctls, reads, writes and last closes become
 * requests to the server (transport/socket/proto.h), which reads and
 * writes this process's memory itself, so every process and every child
 * it forks reaches the same contexts, as with the kernel.  The descriptors
 * are eventfds as above; a record names the server's handle instead of a
 * context or file.  The process has one connection, open while it has
 * records.  Its threads take turns on it under the lock (one request in
 * flight).  Before a fork, a second connection is opened that holds
 * everything the first holds (FORK): the child takes it over, so no
 * descriptor of the child ever lacks its object, and the parent closes
 * its copy.  A file's eventfd is shared with the server, which keeps it
 * readable while the file has something to read.  Requests that may
 * create a descriptor carry a spare eventfd that becomes it.  The
 * connection's own descriptor is kept from the program: close gives
 * EBADF, close_range and closefrom step around it, dup2 onto it moves it.
 *
 * Not seen: static binaries, raw system calls, glibc-internal opens and
 * closes (except fclose and closefrom, which are intercepted), descriptors
 * kept across exec (the new image starts with no contexts), stat(2) of
 * the device; mmap of a descriptor an ioctl created, of a VFIO device
 * or when forwarding (ENODEV: a server cannot map into this process).
 *
 * mmap.  mmap(2) and mmap64 of a /dev/iommu descriptor map what the
 * dispatcher hands out (iofd_mmap: the selftest vIOMMU's page, Linux
 * 6.17's rules and errnos); the bytes are a memory file of the
 * dispatcher's, mapped MAP_SHARED where the program asked.  munmap is
 * interposed too: a call that removes the whole of such a mapping gives
 * it back (iofd_munmap), after which its owner may be destroyed; a munmap
 * of only part of it unmaps that part but keeps the owner held until the
 * process ends.
 *
 * Environment: IOMMUSIM_ABI ("6.12" or "newest", default newest; anything
 * else fails the open with EINVAL; when forwarding, the server's ABI
 * decides and a different one fails the open with EINVAL),
 * IOMMUSIM_DEVICE (see above), IOMMUSIM_CONNECT (see Forwarding),
 * IOMMUSIM_STATS (a file to append a summary to at exit, "-" for stderr).
 * Interfaces: include/iommusim/iommufd.h; the kernel's rules for each
 * call are in docs/iommufd.md and docs/transports.md.
 */

/* Define the plain names (open, fcntl, mmap), not their 64-bit redirects. */
#undef _FORTIFY_SOURCE
#undef _FILE_OFFSET_BITS
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <iommusim/iommufd.h>
#include <iommusim/model.h>
#include <iommusim/vfio.h>

#include "engine/bits.h"
#include "iommufd/uapi.h"
#include "transport/socket/proto.h"

#define PL_EXPORT __attribute__((visibility("default")))

/* Entry points glibc has but declares only under _FORTIFY_SOURCE. */
PL_EXPORT int __open_2(const char *path, int flags);
PL_EXPORT int __open64_2(const char *path, int flags);
PL_EXPORT int __openat_2(int dirfd, const char *path, int flags);
PL_EXPORT int __openat64_2(int dirfd, const char *path, int flags);
PL_EXPORT ssize_t __read_chk(int fd, void *buf, size_t len, size_t buflen);
PL_EXPORT ssize_t __pread_chk(int fd, void *buf, size_t len, off_t off, size_t buflen);
PL_EXPORT ssize_t __pread64_chk(int fd, void *buf, size_t len, off64_t off, size_t buflen);
extern void __chk_fail(void) __attribute__((noreturn));

/* ------------------------------------------------------------------ */
/* State: one locked struct, the only mutable global of the module. */

enum pl_kind {
	PL_CTX,  /* an open /dev/iommu */
	PL_FILE, /* a descriptor an ioctl created */
	PL_VFIO, /* an open emulated VFIO device */
};

/* One open file description: what every dup of a descriptor shares. */
struct pl_ofd {
	enum pl_kind kind;
	struct iofd_ctx *ctx;   /* PL_CTX */
	struct iofd_file *file; /* PL_FILE */
	struct vfio_dev *vdev;  /* PL_VFIO */
	uint64_t handle;        /* forwarding: the server's object (0: not forwarded) */
	unsigned gen;           /* forwarding: the connection it belongs to */
	unsigned refs;          /* table entries naming it */
	int fd;                 /* one of them: the eventfd to signal through */
	bool readable;          /* the eventfd is signalled */
	struct pl_ofd *prev, *next;
};

#define PL_NR_OTHER IOFD_REQ_OTHER /* statistics slot for requests not _IO(';', nr) */

static struct {
	pthread_mutex_t lock;
	/* The next definitions of what we interpose, resolved on first use
	 * without the lock (a call may come before our constructor runs). */
	struct {
		void *open, *open64, *openat, *openat64, *__open_2, *__open64_2, *__openat_2,
			*__openat64_2, *fopen, *fopen64, *fclose, *access, *faccessat, *close,
			*close_range, *closefrom, *dup, *dup2, *dup3, *fcntl, *fcntl64, *ioctl,
			*read, *write, *pread, *pread64, *pwrite, *pwrite64, *readv, *writev,
			*preadv, *preadv64, *pwritev, *pwritev64, *mmap, *mmap64, *munmap;
	} next;
	/* The program's mappings of /dev/iommu descriptors (mmap). */
	struct pl_map {
		struct pl_map *next;
		uintptr_t addr;
		size_t len;
		struct iofd_mapping *m;
	} *maps;
	unsigned long nmaps; /* read without the lock as a hint */
	struct pl_ofd **byfd; /* descriptor number -> record; NULL: not ours */
	size_t nbyfd;
	unsigned long nfds;   /* non-NULL entries; read without the lock as a hint */
	struct pl_ofd *ofds;  /* every record */
	/* What $IOMMUSIM_DEVICE names (NULL: "/dev/iommu"). */
	char *devices;
	/* Emulated VFIO devices ($IOMMUSIM_VFIO; with $IOMMUSIM_MODEL only). */
	struct pl_vfio_path {
		char path[112];
		uint32_t sid;
	} vfio[16];
	unsigned nvfio;
	char *model;      /* $IOMMUSIM_MODEL */
	bool host_ready;  /* the host IOMMU is built */
	pthread_once_t devices_once;
	bool abi_warned;
	/* Forwarding: $IOMMUSIM_CONNECT (NULL: serve in this process), the
	 * connection (-1: none; open exactly while records exist), its
	 * generation (records of an older one are dead: EIO), the server's
	 * ABI, and the connection a child takes over during fork. */
	char *connect;
	int conn;
	unsigned conn_gen;
	enum iofd_abi srv_abi;
	int fork_conn;
	bool connect_warned;
	/* Statistics since start (or since fork, in a child). */
	unsigned long opens, open_errors;
	unsigned long served[PL_NR_OTHER + 1], failed[PL_NR_OTHER + 1];
} pl = {
	.lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP,
	.devices_once = PTHREAD_ONCE_INIT,
	.conn = -1,
	.fork_conn = -1,
};

static void pl_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void *pl_resolve(void **slot, const char *name)
{
	void *fn = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
	if (fn)
		return fn;
	fn = dlsym(RTLD_NEXT, name);
	if (!fn) {
		pl_say("iommusim preload: no definition of %s after this module\n", name);
		abort();
	}
	__atomic_store_n(slot, fn, __ATOMIC_RELEASE);
	return fn;
}

#define NEXT(name) ((__typeof__(&name))pl_resolve(&pl.next.name, #name))

static void pl_lock(void)
{
	pthread_mutex_lock(&pl.lock);
}

static void pl_unlock(void)
{
	pthread_mutex_unlock(&pl.lock);
}

/* Could any descriptor be ours?  Lets calls on other descriptors skip the
 * lock while no /dev/iommu is open. */
static bool pl_any(void)
{
	return __atomic_load_n(&pl.nfds, __ATOMIC_ACQUIRE) != 0;
}

/* Our own system calls: never through the interposed names. */
static long pl_sys_close(int fd)
{
	return syscall(SYS_close, fd);
}

/* Print to stderr without stdio (we may hold the lock; stdio may not be up). */
static void pl_say(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0)
		syscall(SYS_write, 2, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

/* Turn a dispatcher answer into the C library's: -1 with errno, or the value. */
static long pl_result(long rc)
{
	if (rc < 0) {
		errno = (int)-rc;
		return -1;
	}
	return rc;
}

/* ------------------------------------------------------------------ */
/* The descriptor table (all with the lock held). */

static struct pl_ofd *pl_lookup(int fd)
{
	return fd >= 0 && (size_t)fd < pl.nbyfd ? pl.byfd[fd] : NULL;
}

/* Make descriptor fd name o; 0 or -ENOMEM. */
static int pl_enter(int fd, struct pl_ofd *o)
{
	if ((size_t)fd >= pl.nbyfd) {
		size_t n = pl.nbyfd ? pl.nbyfd : 64;
		while (n <= (size_t)fd)
			n *= 2;
		struct pl_ofd **t = realloc(pl.byfd, n * sizeof(*t));
		if (!t)
			return -ENOMEM;
		memset(t + pl.nbyfd, 0, (n - pl.nbyfd) * sizeof(*t));
		pl.byfd = t;
		pl.nbyfd = n;
	}
	pl.byfd[fd] = o;
	if (o->refs++ == 0)
		o->fd = fd;
	__atomic_store_n(&pl.nfds, pl.nfds + 1, __ATOMIC_RELEASE);
	return 0;
}

static struct pl_ofd *pl_ofd_new(enum pl_kind kind)
{
	struct pl_ofd *o = calloc(1, sizeof(*o));
	if (!o)
		return NULL;
	o->kind = kind;
	o->fd = -1;
	o->next = pl.ofds;
	if (pl.ofds)
		pl.ofds->prev = o;
	pl.ofds = o;
	return o;
}

static void pl_ofd_free(struct pl_ofd *o)
{
	if (o->prev)
		o->prev->next = o->next;
	else
		pl.ofds = o->next;
	if (o->next)
		o->next->prev = o->prev;
	free(o);
}

/*
 * Descriptor fd no longer names its record (it was closed, or replaced).
 * The table is consistent before the dispatcher is called, so that
 * release may use intercepted calls.  `release` false: the file goes
 * without iofd_file_release() (uninstall_file).
 */
static void pl_fwd_close(uint64_t handle, unsigned gen);
static void pl_conn_idle(void);
static void pl_conn_claimed(int fd);

static void pl_forget(int fd, bool release)
{
	struct pl_ofd *o = pl_lookup(fd);
	if (!o)
		return;
	pl.byfd[fd] = NULL;
	__atomic_store_n(&pl.nfds, pl.nfds - 1, __ATOMIC_RELEASE);
	if (--o->refs) {
		if (o->fd == fd) /* signal through another copy from now on */
			for (size_t i = 0; i < pl.nbyfd; i++)
				if (pl.byfd[i] == o) {
					o->fd = (int)i;
					break;
				}
		return;
	}
	struct iofd_ctx *ctx = o->ctx;
	struct iofd_file *file = o->file;
	struct vfio_dev *vdev = o->vdev;
	uint64_t handle = o->handle;
	unsigned gen = o->gen;
	pl_ofd_free(o);
	if (vdev) {
		vfio_dev_free(vdev);
	} else if (ctx) {
		iofd_close(ctx);
	} else if (file && release) {
		iofd_file_release(file);
	} else if (handle) {
		pl_fwd_close(handle, gen);
		pl_conn_idle();
	}
}

/* The kernel just handed out descriptor fd for something else: any entry
 * for it is stale (closed behind our back). */
static void pl_claim(int fd)
{
	pl_conn_claimed(fd);
	pl_forget(fd, true);
}

/* After a call that returned descriptor fd (or -1): drop a stale entry. */
static int pl_opened(int fd)
{
	if (fd >= 0 && pl_any()) {
		int saved = errno;
		pl_lock();
		pl_claim(fd);
		pl_unlock();
		errno = saved;
	}
	return fd;
}

/* Keep every file's eventfd readable exactly while it has something to read. */
static void pl_sync(void)
{
	int saved = errno;
	for (struct pl_ofd *o = pl.ofds; o; o = o->next) {
		if (o->kind != PL_FILE || !o->file) /* a forwarded file: the server's job */
			continue;
		bool want = iofd_file_poll(o->file) & POLLIN;
		if (want == o->readable)
			continue;
		uint64_t v = 1;
		if (want) {
			syscall(SYS_write, o->fd, &v, sizeof(v));
		} else {
			/* Drain; look first, so that a counter someone else
			 * emptied (a copy sent away) cannot block us. */
			struct pollfd p = {.fd = o->fd, .events = POLLIN};
			struct timespec zero = {0, 0};
			if (syscall(SYS_ppoll, &p, 1, &zero, NULL, 0) == 1)
				syscall(SYS_read, o->fd, &v, sizeof(v));
		}
		o->readable = want;
	}
	errno = saved;
}


/* ------------------------------------------------------------------ */
/* Forwarding to a shared server (all with the lock held) */

static int pl_tid(void)
{
	return (int)syscall(SYS_gettid);
}

/* One request on connection sock, descriptor fd (-1: none) sent along,
 * and its reply; 0 or -EIO.  Interrupted calls are resumed: a request is
 * never left half done. */
static int pl_rpc_on(int sock, const struct sock_req *rq, int fd, struct sock_reply *rp)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cm;
	struct iovec iov = {(void *)rq, sizeof(*rq)};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	if (fd >= 0) {
		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.buf;
		mh.msg_controllen = sizeof(cm.buf);
		struct cmsghdr *h = CMSG_FIRSTHDR(&mh);
		h->cmsg_level = SOL_SOCKET;
		h->cmsg_type = SCM_RIGHTS;
		h->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(h), &fd, sizeof(int));
	}
	ssize_t n;
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(*rq))
		return -EIO;
	do
		n = recv(sock, rp, sizeof(*rp), 0);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof(*rp) ? 0 : -EIO;
}

/* Connect to the server and greet it: the socket, or -errno. */
static int pl_conn_new(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(pl.connect) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, pl.connect);
	int sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return -errno;
	pl_claim(sock);
	int rc;
	do
		rc = connect(sock, (struct sockaddr *)&sa, sizeof(sa));
	while (rc && errno == EINTR);
	if (rc) {
		rc = -errno;
		pl_sys_close(sock);
		return rc;
	}
	struct sock_req rq = {.op = SOCK_OP_HELLO, .tid = pl_tid(), .spare_fd = -1,
			      .arg = {SOCK_PROTO_VERSION}};
	struct sock_reply rp = {0};
	if (pl_rpc_on(sock, &rq, -1, &rp)) {
		pl_sys_close(sock);
		return -EPROTO;
	}
	if (rp.result <= 0) { /* the server said no */
		pl_sys_close(sock);
		return rp.result < 0 ? (int)rp.result : -EPROTO;
	}
	/* Where Yama restricts ptrace, let the server read our memory. */
	prctl(PR_SET_PTRACER, (unsigned long)rp.result, 0, 0, 0);
	pl.srv_abi = (enum iofd_abi)rp.handle;
	return sock;
}

/* The connection, made if there is none; 0 or -errno. */
static int pl_conn_get(void)
{
	if (pl.conn >= 0)
		return 0;
	int sock = pl_conn_new();
	if (sock < 0)
		return sock;
	pl.conn = sock;
	pl.conn_gen++;
	return 0;
}

/* The connection is gone: what was forwarded through it is dead (EIO). */
static void pl_conn_lost(void)
{
	if (pl.conn >= 0)
		pl_sys_close(pl.conn);
	pl.conn = -1;
	pl.conn_gen++;
}

/* No record left: the connection holds nothing any more. */
static void pl_conn_idle(void)
{
	if (!pl.ofds && pl.conn >= 0) {
		pl_sys_close(pl.conn);
		pl.conn = -1;
	}
}

/* An intercepted call handed out number fd: if that was the connection,
 * it was closed behind our back (and the number is not ours to close). */
static void pl_conn_claimed(int fd)
{
	if (fd >= 0 && fd == pl.conn) {
		pl.conn = -1;
		pl.conn_gen++;
	}
}

/* A request through the connection of generation gen: the server's
 * result, or -EIO when that connection is gone. */
static long pl_fwd(unsigned gen, struct sock_req *rq, int fd, struct sock_reply *rp)
{
	rp->handle = 0; /* callers read it whatever happens */
	if (pl.conn < 0 || gen != pl.conn_gen)
		return -EIO;
	rq->tid = pl_tid();
	if (pl_rpc_on(pl.conn, rq, fd, rp)) {
		pl_say("iommusim preload: lost the connection to %s\n", pl.connect);
		pl_conn_lost();
		return -EIO;
	}
	return rp->result;
}

static void pl_fwd_close(uint64_t handle, unsigned gen)
{
	struct sock_req rq = {.op = SOCK_OP_CLOSE, .handle = handle, .spare_fd = -1};
	struct sock_reply rp;
	pl_fwd(gen, &rq, -1, &rp);
}

/* Could this ioctl create a descriptor?  Then it needs a spare. */
static bool pl_creates_file(unsigned cmd, void *arg)
{
	if (cmd == IOFD_REQ(IOFD_NR_FAULT_QUEUE_ALLOC) || cmd == IOFD_REQ(IOFD_NR_VEVENTQ_ALLOC))
		return true;
	uint32_t op;
	return cmd == IOFD_REQ(IOFD_NR_TEST_CMD) &&
	       !iofd_uaccess_self.read(NULL, (uintptr_t)arg + 4, &op, sizeof(op)) &&
	       op == IOFD_TEST_OP_CREATE_ACCESS;
}

/* VFIO_DEVICE_BIND_IOMMUFD, _IO(';', 100 + 18) (include/uapi/linux/vfio.h):
 * its argument's iommufd field, at offset 8, is a /dev/iommu descriptor. */
#define PL_VFIO_BIND_IOMMUFD 0x3b76u

/* An ioctl on a forwarded context or VFIO device. */
static long pl_fwd_ioctl(struct pl_ofd *o, unsigned cmd, void *arg)
{
	struct sock_req rq = {.op = SOCK_OP_IOCTL, .handle = o->handle, .spare_fd = -1,
			      .arg = {cmd, (uintptr_t)arg, (uint64_t)-1, 0}};
	unsigned gen = o->gen;
	/* The selftest names its access objects by descriptor (the id of
	 * IOMMU_TEST_CMD): tell the server which file that descriptor is. */
	/* So does VFIO_DEVICE_BIND_IOMMUFD its /dev/iommu (the iommufd
	 * field), which must be a context on the same server. */
	uint32_t id;
	bool test = o->kind == PL_CTX && cmd == IOFD_REQ(IOFD_NR_TEST_CMD);
	bool bind = o->kind == PL_VFIO && cmd == PL_VFIO_BIND_IOMMUFD;
	if ((test || bind) && !iofd_uaccess_self.read(NULL, (uintptr_t)arg + 8, &id, sizeof(id))) {
		struct pl_ofd *f = id <= INT_MAX ? pl_lookup((int)id) : NULL;
		if (f && f->kind == (test ? PL_FILE : PL_CTX) && f->handle && f->gen == gen) {
			rq.arg[2] = id;
			rq.arg[3] = f->handle;
		}
	}
	int spare = -1;
	struct pl_ofd *n = NULL;
	if (pl_creates_file(cmd, arg)) {
		/* The kernel's iommufd files are opened O_RDWR | O_CLOEXEC. */
		spare = eventfd(0, EFD_CLOEXEC);
		if (spare < 0)
			return -errno;
		pl_claim(spare); /* (o stays: its own descriptor is open) */
		if (!(n = pl_ofd_new(PL_FILE))) {
			pl_sys_close(spare);
			return -ENOMEM;
		}
		rq.spare_fd = spare;
	}
	struct sock_reply rp;
	long rc = pl_fwd(gen, &rq, spare, &rp);
	if (n) {
		if (rp.handle && pl_enter(spare, n) == 0) {
			n->handle = rp.handle;
			n->gen = gen;
			return rc;
		}
		pl_ofd_free(n);
		pl_sys_close(spare);
		if (rp.handle) { /* no room to track it: undo */
			pl_fwd_close(rp.handle, gen);
			rc = -ENOMEM;
		}
	}
	return rc;
}

/* A read or write of a forwarded file: the server copies to or from buf
 * itself. */
static long pl_fwd_io(struct pl_ofd *o, bool wr, void *ubuf, size_t len, uint64_t off)
{
	struct sock_req rq = {.op = wr ? SOCK_OP_WRITE : SOCK_OP_READ, .handle = o->handle,
			      .spare_fd = -1, .arg = {(uintptr_t)ubuf, len, off}};
	struct sock_reply rp;
	return pl_fwd(o->gen, &rq, -1, &rp);
}

/* open(2) of the device when forwarding: a new context (vfio NULL) or
 * emulated VFIO device on the server behind eventfd fd (which is closed on
 * failure). */
static int pl_open_forwarded(int fd, const struct pl_vfio_path *vfio, bool abi_given,
			     enum iofd_abi abi)
{
	pl_lock();
	pl_claim(fd);
	long rc = pl_conn_get();
	if (rc < 0) {
		bool say = !pl.connect_warned;
		pl.connect_warned = true;
		if (say)
			pl_say("iommusim preload: cannot reach the server at %s (%s); opens of "
			       "/dev/iommu fail with ENXIO\n", pl.connect, strerror((int)-rc));
		rc = -ENXIO;
	} else if (abi_given && abi != pl.srv_abi) {
		bool say = !pl.abi_warned;
		pl.abi_warned = true;
		if (say)
			pl_say("iommusim preload: IOMMUSIM_ABI asks for another ABI than the server "
			       "at %s answers with; opens of /dev/iommu fail with EINVAL\n",
			       pl.connect);
		rc = -EINVAL;
	}
	struct pl_ofd *o = NULL;
	if (rc == 0 && (!(o = pl_ofd_new(vfio ? PL_VFIO : PL_CTX)) || pl_enter(fd, o))) {
		if (o)
			pl_ofd_free(o);
		o = NULL;
		rc = -ENOMEM;
	}
	if (rc == 0) {
		struct sock_req rq = {.op = SOCK_OP_OPEN, .spare_fd = -1,
				      .arg = {vfio ? SOCK_OPEN_VFIO : SOCK_OPEN_CONTEXT,
					      vfio ? vfio->sid : 0}};
		struct sock_reply rp;
		o->gen = pl.conn_gen;
		rc = pl_fwd(o->gen, &rq, -1, &rp);
		if (rc >= 0)
			o->handle = rp.handle;
		else
			pl_forget(fd, true);
	}
	if (rc < 0) {
		pl.open_errors++;
		pl_conn_idle();
		pl_unlock();
		pl_sys_close(fd);
		return pl_result(rc);
	}
	pl.opens++;
	pl_unlock();
	return fd;
}

/* ------------------------------------------------------------------ */
/* Descriptors the dispatcher creates (called inside iofd_ioctl, locked). */

static int pl_install_file(void *opaque, struct iofd_file *file)
{
	(void)opaque;
	/* The kernel's iommufd files are opened O_RDWR | O_CLOEXEC. */
	int fd = eventfd(0, EFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	pl_claim(fd);
	struct pl_ofd *o = pl_ofd_new(PL_FILE);
	if (!o || pl_enter(fd, o)) {
		if (o)
			pl_ofd_free(o);
		pl_sys_close(fd);
		return -ENOMEM;
	}
	o->file = file;
	return fd;
}

/* The file behind a descriptor the program names (the selftest's access
 * objects are named by their descriptor). */
static struct iofd_file *pl_file_of(void *opaque, int fd)
{
	(void)opaque;
	struct pl_ofd *o = pl_lookup(fd);
	return o && o->kind == PL_FILE ? o->file : NULL;
}

static void pl_uninstall_file(void *opaque, int fd)
{
	(void)opaque;
	if (!pl_lookup(fd))
		return;
	pl_forget(fd, false);
	pl_sys_close(fd);
}

/* ------------------------------------------------------------------ */
/* Opening the device */

static void pl_devices_init(void)
{
	const char *s = getenv("IOMMUSIM_DEVICE");
	if (s && *s)
		pl.devices = strdup(s);
	s = getenv("IOMMUSIM_CONNECT");
	if (s && *s)
		pl.connect = strdup(s);
	s = getenv("IOMMUSIM_MODEL");
	if (s && *s)
		pl.model = strdup(s);
	else if (!pl.connect)
		return; /* no VFIO devices: nothing models their IOMMU */
	s = getenv("IOMMUSIM_VFIO");
	if (!s || !*s)
		s = "/dev/vfio/devices/vfio0=01:00.0";
	for (const char *p = s; *p && pl.nvfio < IMS_ARRAY_SIZE(pl.vfio);) {
		const char *end = strchrnul(p, ',');
		const char *eq = memchr(p, '=', (size_t)(end - p));
		unsigned bus, dev, fn;
		struct pl_vfio_path *v = &pl.vfio[pl.nvfio];
		if (eq && p[0] == '/' && (size_t)(eq - p) < sizeof(v->path) &&
		    sscanf(eq + 1, "%x:%x.%x", &bus, &dev, &fn) == 3 && bus < 256 && dev < 32 &&
		    fn < 8) {
			memcpy(v->path, p, (size_t)(eq - p));
			v->path[eq - p] = 0;
			v->sid = bus << 8 | dev << 3 | fn;
			pl.nvfio++;
		} else {
			pl_say("iommusim preload: IOMMUSIM_VFIO: '%.*s' is not PATH=BB:DD.F; "
			       "ignored\n", (int)(end - p), p);
		}
		p = *end ? end + 1 : end;
	}
}

/* The emulated VFIO device at path, or NULL. */
static const struct pl_vfio_path *pl_vfio_path(const char *path)
{
	for (unsigned i = 0; i < pl.nvfio; i++)
		if (!strcmp(pl.vfio[i].path, path))
			return &pl.vfio[i];
	return NULL;
}

/* Is path one of the paths we serve?  Only exact absolute paths match. */
static bool pl_is_device(const char *path)
{
	/* The C library declares path non-null; a program may still pass NULL
	 * (the kernel answers EFAULT), so hide the declaration from the optimiser. */
	__asm__("" : "+r"(path));
	if (!path || path[0] != '/')
		return false;
	pthread_once(&pl.devices_once, pl_devices_init);
	if (pl_vfio_path(path))
		return true;
	if (!pl.devices)
		return !strcmp(path, "/dev/iommu");
	size_t len = strlen(path);
	for (const char *p = pl.devices; *p;) {
		const char *end = strchrnul(p, ':');
		if ((size_t)(end - p) == len && !memcmp(p, path, len))
			return true;
		p = *end ? end + 1 : end;
	}
	return false;
}

/* Build the host IOMMU from $IOMMUSIM_MODEL once (locked). */
static int pl_host_ready(void)
{
	if (pl.host_ready)
		return 0;
	struct ims_model *m;
	char err[256] = "out of memory";
	if (ims_model_load(pl.model, &m, err, sizeof(err)) ||
	    iofd_host_init(m, err, sizeof(err))) {
		pl_say("iommusim preload: IOMMUSIM_MODEL: %s; VFIO devices fail with ENODEV\n",
		       err);
		return -ENODEV;
	}
	pl.host_ready = true;
	return 0;
}

/* The eventfd behind a descriptor opened with `flags`. */
static int pl_eventfd(int flags)
{
	return eventfd(0, (flags & O_CLOEXEC ? EFD_CLOEXEC : 0) |
				  (flags & O_NONBLOCK ? EFD_NONBLOCK : 0));
}

/* open(2) of an emulated VFIO device: its own record behind an eventfd. */
static int pl_open_vfio(const struct pl_vfio_path *v, int flags)
{
	int fd = pl_eventfd(flags);
	if (fd < 0)
		return -1;
	if (pl.connect) /* the server's model drives it */
		return pl_open_forwarded(fd, v, false, IOFD_ABI_NEWEST);
	pl_lock();
	pl_claim(fd);
	int rc = pl_host_ready();
	struct vfio_dev *d = rc ? NULL : vfio_dev_new(v->sid);
	struct pl_ofd *o = d ? pl_ofd_new(PL_VFIO) : NULL;
	if (!o || pl_enter(fd, o)) {
		if (o)
			pl_ofd_free(o);
		vfio_dev_free(d);
		pl.open_errors++;
		pl_unlock();
		pl_sys_close(fd);
		return pl_result(rc ? rc : -ENOMEM);
	}
	o->vdev = d;
	pl.opens++;
	pl_unlock();
	return fd;
}

/* The context behind the program's /dev/iommu descriptor fd (locked). */
static struct iofd_ctx *pl_ctx_of_fd(void *opaque, int fd)
{
	(void)opaque;
	struct pl_ofd *o = fd >= 0 ? pl_lookup(fd) : NULL;
	return o && o->kind == PL_CTX ? o->ctx : NULL;
}

/* open(2) of the device: a new context behind a new eventfd. */
static int pl_open_device(const char *path, int flags)
{
	const struct pl_vfio_path *v = pl_vfio_path(path);
	if ((flags & O_CREAT) && (flags & O_EXCL))
		return pl_result(-EEXIST);
	if (flags & O_DIRECTORY) /* also O_TMPFILE */
		return pl_result(-ENOTDIR);
	if (v)
		return pl_open_vfio(v, flags);
	enum iofd_abi abi = IOFD_ABI_NEWEST;
	const char *s = getenv("IOMMUSIM_ABI");
	bool abi_given = s && *s;
	if (abi_given && iofd_abi_parse(s, &abi)) {
		pl_lock();
		bool say = !pl.abi_warned;
		pl.abi_warned = true;
		pl.open_errors++;
		pl_unlock();
		if (say)
			pl_say("iommusim preload: IOMMUSIM_ABI=\"%s\" is neither \"6.12\" nor "
			       "\"newest\"; opens of /dev/iommu fail with EINVAL\n", s);
		return pl_result(-EINVAL);
	}
	int fd = pl_eventfd(flags);
	if (fd < 0)
		return -1;
	if (pl.connect)
		return pl_open_forwarded(fd, NULL, abi_given, abi);
	struct iofd_uaccess ua = iofd_uaccess_self;
	ua.install_file = pl_install_file;
	ua.uninstall_file = pl_uninstall_file;
	ua.file_of = pl_file_of;

	pl_lock();
	pl_claim(fd);
	struct iofd_ctx *ctx = iofd_open(&ua, abi);
	struct pl_ofd *o = ctx ? pl_ofd_new(PL_CTX) : NULL;
	if (!o || pl_enter(fd, o)) {
		if (o)
			pl_ofd_free(o);
		iofd_close(ctx);
		pl.open_errors++;
		pl_unlock();
		pl_sys_close(fd);
		return pl_result(-ENOMEM);
	}
	o->ctx = ctx;
	pl.opens++;
	pl_unlock();
	return fd;
}

static mode_t pl_mode_arg(int flags, va_list ap)
{
	return __OPEN_NEEDS_MODE(flags) ? (mode_t)va_arg(ap, int) : 0;
}

PL_EXPORT int open(const char *path, int flags, ...)
{
	va_list ap;
	va_start(ap, flags);
	mode_t mode = pl_mode_arg(flags, ap);
	va_end(ap);
	if (pl_is_device(path))
		return pl_open_device(path, flags);
	return pl_opened(NEXT(open)(path, flags, mode));
}

PL_EXPORT int open64(const char *path, int flags, ...)
{
	va_list ap;
	va_start(ap, flags);
	mode_t mode = pl_mode_arg(flags, ap);
	va_end(ap);
	if (pl_is_device(path))
		return pl_open_device(path, flags);
	return pl_opened(NEXT(open64)(path, flags, mode));
}

PL_EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	va_start(ap, flags);
	mode_t mode = pl_mode_arg(flags, ap);
	va_end(ap);
	if (pl_is_device(path))
		return pl_open_device(path, flags);
	return pl_opened(NEXT(openat)(dirfd, path, flags, mode));
}

PL_EXPORT int openat64(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	va_start(ap, flags);
	mode_t mode = pl_mode_arg(flags, ap);
	va_end(ap);
	if (pl_is_device(path))
		return pl_open_device(path, flags);
	return pl_opened(NEXT(openat64)(dirfd, path, flags, mode));
}

PL_EXPORT int __open_2(const char *path, int flags)
{
	if (pl_is_device(path))
		return pl_open_device(path, flags);
	return pl_opened(NEXT(__open_2)(path, flags));
}

PL_EXPORT int __open64_2(const char *path, int flags)
{
	if (pl_is_device(path))
		return pl_open_device(path, flags);
	return pl_opened(NEXT(__open64_2)(path, flags));
}

PL_EXPORT int __openat_2(int dirfd, const char *path, int flags)
{
	if (pl_is_device(path))
		return pl_open_device(path, flags);
	return pl_opened(NEXT(__openat_2)(dirfd, path, flags));
}

PL_EXPORT int __openat64_2(int dirfd, const char *path, int flags)
{
	if (pl_is_device(path))
		return pl_open_device(path, flags);
	return pl_opened(NEXT(__openat64_2)(dirfd, path, flags));
}

/* open(2) flags for an fopen(3) mode ("r", "w+", "re", ...); -1: invalid. */
static int pl_fopen_flags(const char *mode)
{
	__asm__("" : "+r"(mode));
	if (!mode)
		return -1;
	int flags;
	switch (mode[0]) {
	case 'r':
		flags = O_RDONLY;
		break;
	case 'w':
		flags = O_WRONLY | O_CREAT | O_TRUNC;
		break;
	case 'a':
		flags = O_WRONLY | O_CREAT | O_APPEND;
		break;
	default:
		return -1;
	}
	for (const char *p = mode + 1; *p && *p != ','; p++) {
		if (*p == '+')
			flags = (flags & ~O_ACCMODE) | O_RDWR;
		else if (*p == 'e')
			flags |= O_CLOEXEC;
		else if (*p == 'x')
			flags |= O_EXCL;
	}
	return flags;
}

static FILE *pl_fopen_device(const char *path, const char *mode)
{
	int flags = pl_fopen_flags(mode);
	if (flags < 0) {
		errno = EINVAL;
		return NULL;
	}
	int fd = pl_open_device(path, flags);
	if (fd < 0)
		return NULL;
	FILE *f = fdopen(fd, mode);
	if (!f) {
		int saved = errno;
		close(fd);
		errno = saved;
	}
	return f;
}

PL_EXPORT FILE *fopen(const char *path, const char *mode)
{
	if (pl_is_device(path))
		return pl_fopen_device(path, mode);
	FILE *f = NEXT(fopen)(path, mode);
	if (f)
		pl_opened(fileno(f));
	return f;
}

PL_EXPORT FILE *fopen64(const char *path, const char *mode)
{
	if (pl_is_device(path))
		return pl_fopen_device(path, mode);
	FILE *f = NEXT(fopen64)(path, mode);
	if (f)
		pl_opened(fileno(f));
	return f;
}

/* access(2) of the device: it exists, readable and writable, not executable. */
static int pl_access_device(int mode)
{
	return mode & X_OK ? pl_result(-EACCES) : 0;
}

PL_EXPORT int access(const char *path, int mode)
{
	if (pl_is_device(path))
		return pl_access_device(mode);
	return NEXT(access)(path, mode);
}

PL_EXPORT int faccessat(int dirfd, const char *path, int mode, int flags)
{
	if (pl_is_device(path))
		return pl_access_device(mode);
	return NEXT(faccessat)(dirfd, path, mode, flags);
}

/* ------------------------------------------------------------------ */
/* Closing and duplicating */

PL_EXPORT int close(int fd)
{
	if (!pl_any())
		return NEXT(close)(fd);
	pl_lock();
	if (!pl_lookup(fd)) {
		bool conn = fd >= 0 && fd == pl.conn;
		pl_unlock();
		if (conn) /* not the program's to close */
			return pl_result(-EBADF);
		return NEXT(close)(fd);
	}
	int rc = NEXT(close)(fd);
	int saved = errno;
	pl_forget(fd, true); /* Linux frees the number even when close fails */
	pl_unlock();
	errno = saved;
	return rc;
}

PL_EXPORT int fclose(FILE *f)
{
	__asm__("" : "+r"(f));
	if (!f || !pl_any())
		return NEXT(fclose)(f);
	int fd = fileno(f);
	pl_lock();
	if (!pl_lookup(fd)) {
		pl_unlock();
		return NEXT(fclose)(f);
	}
	int rc = NEXT(fclose)(f);
	int saved = errno;
	pl_forget(fd, true);
	pl_unlock();
	errno = saved;
	return rc;
}

/* Forget every entry in [first, last] (they were closed). */
static void pl_forget_range(unsigned first, unsigned last)
{
	for (size_t fd = first; fd < pl.nbyfd && fd <= last; fd++)
		pl_forget((int)fd, true);
}

PL_EXPORT int close_range(unsigned first, unsigned last, int flags)
{
	if (!pl_any())
		return NEXT(close_range)(first, last, flags);
	pl_lock();
	int rc;
	unsigned conn = (unsigned)pl.conn;
	if (pl.conn >= 0 && first <= conn && conn <= last && !(flags & CLOSE_RANGE_CLOEXEC)) {
		/* Step around the connection. */
		rc = conn > first ? NEXT(close_range)(first, conn - 1, flags) : 0;
		if (rc == 0 && conn < last)
			rc = NEXT(close_range)(conn + 1, last, flags);
	} else {
		rc = NEXT(close_range)(first, last, flags);
	}
	int saved = errno;
	/* CLOSE_RANGE_CLOEXEC only marks them; the eventfds carry the mark. */
	if (rc == 0 && !(flags & CLOSE_RANGE_CLOEXEC))
		pl_forget_range(first, last);
	pl_unlock();
	errno = saved;
	return rc;
}

PL_EXPORT void closefrom(int lowfd)
{
	if (!pl_any() || lowfd < 0) {
		NEXT(closefrom)(lowfd);
		return;
	}
	pl_lock();
	if (pl.conn >= lowfd) { /* step around the connection */
		if (pl.conn > lowfd)
			NEXT(close_range)((unsigned)lowfd, (unsigned)pl.conn - 1, 0);
		NEXT(closefrom)(pl.conn + 1);
	} else {
		NEXT(closefrom)(lowfd);
	}
	pl_forget_range((unsigned)lowfd, UINT_MAX);
	pl_unlock();
}

/* After a successful dup of old to new: new names what old named. */
static int pl_duped(int old, int new)
{
	if (new < 0)
		return new;
	pl_claim(new);
	struct pl_ofd *o = pl_lookup(old);
	if (o && pl_enter(new, o)) {
		pl_sys_close(new);
		return pl_result(-ENOMEM);
	}
	return new;
}

PL_EXPORT int dup(int fd)
{
	if (!pl_any())
		return NEXT(dup)(fd);
	pl_lock();
	int rc = pl_duped(fd, NEXT(dup)(fd));
	int saved = errno;
	pl_unlock();
	errno = saved;
	return rc;
}

/* The program is about to put a descriptor at number fd: if the
 * connection is there, move it out of the way first.  0 or -1 (errno). */
static int pl_conn_evict(int fd)
{
	if (fd < 0 || fd != pl.conn)
		return 0;
	long moved = syscall(SYS_fcntl, pl.conn, F_DUPFD_CLOEXEC, 0);
	if (moved < 0)
		return -1;
	pl_sys_close(pl.conn);
	pl.conn = (int)moved;
	return 0;
}

PL_EXPORT int dup2(int old, int new)
{
	if (!pl_any())
		return NEXT(dup2)(old, new);
	pl_lock();
	if (old != new && pl_conn_evict(new)) {
		int saved = errno;
		pl_unlock();
		errno = saved;
		return -1;
	}
	int rc = NEXT(dup2)(old, new);
	if (rc >= 0 && old != new) /* new was closed first, if it was open */
		rc = pl_duped(old, rc);
	int saved = errno;
	pl_unlock();
	errno = saved;
	return rc;
}

PL_EXPORT int dup3(int old, int new, int flags)
{
	if (!pl_any())
		return NEXT(dup3)(old, new, flags);
	pl_lock();
	if (old != new && pl_conn_evict(new)) {
		int saved = errno;
		pl_unlock();
		errno = saved;
		return -1;
	}
	int rc = pl_duped(old, NEXT(dup3)(old, new, flags));
	int saved = errno;
	pl_unlock();
	errno = saved;
	return rc;
}

/* fcntl: the argument is taken as a pointer, as the C library does. */
static int pl_fcntl(int (*next)(int, int, ...), int fd, int cmd, void *arg)
{
	if ((cmd != F_DUPFD && cmd != F_DUPFD_CLOEXEC) || !pl_any())
		return next(fd, cmd, arg);
	pl_lock();
	int rc = pl_duped(fd, next(fd, cmd, arg));
	int saved = errno;
	pl_unlock();
	errno = saved;
	return rc;
}

PL_EXPORT int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	va_start(ap, cmd);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	return pl_fcntl(NEXT(fcntl), fd, cmd, arg);
}

PL_EXPORT int fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	va_start(ap, cmd);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	return pl_fcntl(NEXT(fcntl64), fd, cmd, arg);
}

/* ------------------------------------------------------------------ */
/* ioctl */

/* Requests the kernel answers for every file before its driver sees them
 * (fs/ioctl.c do_vfs_ioctl); they act on the eventfd as they would on the
 * real file. */
static bool pl_is_vfs_ioctl(unsigned cmd)
{
	return cmd == FIOCLEX || cmd == FIONCLEX || cmd == FIONBIO || cmd == FIOASYNC;
}

PL_EXPORT int ioctl(int fd, unsigned long request, ...)
{
	va_list ap;
	va_start(ap, request);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	if (!pl_any())
		return NEXT(ioctl)(fd, request, arg);
	/* The kernel's ioctl takes an unsigned int command. */
	unsigned cmd = (unsigned)request;
	pl_lock();
	struct pl_ofd *o = pl_lookup(fd);
	if (!o || pl_is_vfs_ioctl(cmd)) {
		pl_unlock();
		return NEXT(ioctl)(fd, request, arg);
	}
	long rc = -ENOTTY; /* iommufd files have no ioctls */
	if (o->kind == PL_VFIO && o->vdev)
		rc = vfio_dev_ioctl(o->vdev, &iofd_uaccess_self, pl_ctx_of_fd, NULL, cmd,
				    (uint64_t)(uintptr_t)arg);
	else if (o->kind == PL_CTX && o->ctx)
		rc = iofd_ioctl(o->ctx, cmd, (uint64_t)(uintptr_t)arg);
	else if (o->kind == PL_CTX || o->kind == PL_VFIO)
		rc = pl_fwd_ioctl(o, cmd, arg);
	if (o->kind != PL_FILE) {
		unsigned slot = iofd_request_slot(cmd);
		pl.served[slot]++;
		if (rc < 0)
			pl.failed[slot]++;
	}
	if (o->kind == PL_CTX && o->ctx)
		pl_sync(); /* the ioctl may have changed a queue in this process */
	pl_unlock();
	return (int)pl_result(rc);
}

/* ------------------------------------------------------------------ */
/* read and write */

/*
 * One read or write of a fake descriptor at offset off (locked).  The
 * dispatcher's files take buffers in our own memory: the caller's buffer
 * is copied through one, so that a bad pointer gives EFAULT, not a crash.
 * The read has already happened when the copy out fails: the records it
 * took are lost then.
 */
static long pl_io_locked(struct pl_ofd *o, bool wr, void *ubuf, size_t len, uint64_t off)
{
	if (o->kind == PL_CTX)
		return -EINVAL; /* /dev/iommu has no read or write */
	if (len > SSIZE_MAX)
		return -EINVAL;
	if (o->handle)
		return pl_fwd_io(o, wr, ubuf, len, off);
	uint64_t small[32];
	void *buf = len <= sizeof(small) ? small : malloc(len);
	if (!buf)
		return -ENOMEM;
	const struct iofd_uaccess *ua = &iofd_uaccess_self;
	long n;
	if (wr) {
		n = ua->read(ua->opaque, (uintptr_t)ubuf, buf, len);
		if (!n)
			n = o->vdev ? vfio_dev_write(o->vdev, buf, len, off)
				    : iofd_file_write(o->file, buf, len, off);
	} else {
		n = o->vdev ? vfio_dev_read(o->vdev, buf, len, off)
			    : iofd_file_read(o->file, buf, len, off);
		if (n > 0 && ua->write(ua->opaque, (uintptr_t)ubuf, buf, (size_t)n))
			n = -EFAULT;
	}
	if (buf != small)
		free(buf);
	return n;
}

/*
 * readv/writev and their offset forms: one transfer per segment, as the
 * kernel does for files without read_iter; a short transfer ends it, an
 * error after some bytes gives those bytes.  `off` < 0: no offset (0).
 */
static long pl_iov_locked(struct pl_ofd *o, bool wr, const struct iovec *uiov, int cnt,
			  int64_t off)
{
	if (o->kind == PL_CTX || cnt < 0 || cnt > IOV_MAX)
		return -EINVAL;
	/* The vector is the caller's memory too (EFAULT, not a crash). */
	struct iovec *iov = malloc((size_t)cnt * sizeof(*iov) + 1);
	if (!iov)
		return -ENOMEM;
	const struct iofd_uaccess *ua = &iofd_uaccess_self;
	long rc = ua->read(ua->opaque, (uintptr_t)uiov, iov, (size_t)cnt * sizeof(*iov));
	size_t sum = 0;
	for (int i = 0; !rc && i < cnt; i++) {
		if (iov[i].iov_len > SSIZE_MAX - sum)
			rc = -EINVAL;
		else
			sum += iov[i].iov_len;
	}
	long total = 0;
	for (int i = 0; !rc && i < cnt; i++) {
		long n = pl_io_locked(o, wr, iov[i].iov_base, iov[i].iov_len,
				      off < 0 ? 0 : (uint64_t)off + (uint64_t)total);
		if (n < 0) {
			if (!total)
				rc = n;
			break;
		}
		total += n;
		if ((size_t)n < iov[i].iov_len)
			break;
	}
	free(iov);
	return rc ? rc : total;
}

/*
 * The one gate of every read and write: serve it if fd is ours (true, with
 * the answer in *ret).  One buffer (uiov NULL) or the caller's vector; a
 * positioned call (pread, preadv, ...) with a negative offset is EINVAL
 * before the file sees it, an unpositioned one reads at offset 0.  Queue
 * readiness is synced once, after the whole transfer.
 */
static bool pl_rw(int fd, bool wr, void *buf, size_t len, const struct iovec *uiov, int cnt,
		  bool positioned, int64_t off, ssize_t *ret)
{
	if (!pl_any())
		return false;
	pl_lock();
	struct pl_ofd *o = pl_lookup(fd);
	if (!o) {
		pl_unlock();
		return false;
	}
	long n;
	if (positioned && off < 0)
		n = -EINVAL;
	else if (uiov)
		n = pl_iov_locked(o, wr, uiov, cnt, positioned ? off : -1);
	else
		n = pl_io_locked(o, wr, buf, len, positioned ? (uint64_t)off : 0);
	if (o->file) /* only this process's queue files change readiness here */
		pl_sync();
	pl_unlock();
	*ret = pl_result(n);
	return true;
}

PL_EXPORT ssize_t read(int fd, void *buf, size_t len)
{
	ssize_t n;
	if (pl_rw(fd, false, buf, len, NULL, 0, false, 0, &n))
		return n;
	return NEXT(read)(fd, buf, len);
}

PL_EXPORT ssize_t write(int fd, const void *buf, size_t len)
{
	ssize_t n;
	if (pl_rw(fd, true, (void *)buf, len, NULL, 0, false, 0, &n))
		return n;
	return NEXT(write)(fd, buf, len);
}

PL_EXPORT ssize_t pread(int fd, void *buf, size_t len, off_t off)
{
	ssize_t n;
	if (pl_rw(fd, false, buf, len, NULL, 0, true, off, &n))
		return n;
	return NEXT(pread)(fd, buf, len, off);
}

PL_EXPORT ssize_t pread64(int fd, void *buf, size_t len, off64_t off)
{
	ssize_t n;
	if (pl_rw(fd, false, buf, len, NULL, 0, true, off, &n))
		return n;
	return NEXT(pread64)(fd, buf, len, off);
}

PL_EXPORT ssize_t pwrite(int fd, const void *buf, size_t len, off_t off)
{
	ssize_t n;
	if (pl_rw(fd, true, (void *)buf, len, NULL, 0, true, off, &n))
		return n;
	return NEXT(pwrite)(fd, buf, len, off);
}

PL_EXPORT ssize_t pwrite64(int fd, const void *buf, size_t len, off64_t off)
{
	ssize_t n;
	if (pl_rw(fd, true, (void *)buf, len, NULL, 0, true, off, &n))
		return n;
	return NEXT(pwrite64)(fd, buf, len, off);
}

PL_EXPORT ssize_t readv(int fd, const struct iovec *iov, int cnt)
{
	ssize_t n;
	if (pl_rw(fd, false, NULL, 0, iov, cnt, false, 0, &n))
		return n;
	return NEXT(readv)(fd, iov, cnt);
}

PL_EXPORT ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
	ssize_t n;
	if (pl_rw(fd, true, NULL, 0, iov, cnt, false, 0, &n))
		return n;
	return NEXT(writev)(fd, iov, cnt);
}

PL_EXPORT ssize_t preadv(int fd, const struct iovec *iov, int cnt, off_t off)
{
	ssize_t n;
	if (pl_rw(fd, false, NULL, 0, iov, cnt, true, off, &n))
		return n;
	return NEXT(preadv)(fd, iov, cnt, off);
}

PL_EXPORT ssize_t preadv64(int fd, const struct iovec *iov, int cnt, off64_t off)
{
	ssize_t n;
	if (pl_rw(fd, false, NULL, 0, iov, cnt, true, off, &n))
		return n;
	return NEXT(preadv64)(fd, iov, cnt, off);
}

PL_EXPORT ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
	ssize_t n;
	if (pl_rw(fd, true, NULL, 0, iov, cnt, true, off, &n))
		return n;
	return NEXT(pwritev)(fd, iov, cnt, off);
}

PL_EXPORT ssize_t pwritev64(int fd, const struct iovec *iov, int cnt, off64_t off)
{
	ssize_t n;
	if (pl_rw(fd, true, NULL, 0, iov, cnt, true, off, &n))
		return n;
	return NEXT(pwritev64)(fd, iov, cnt, off);
}

/* _FORTIFY_SOURCE forms: check the buffer size, then as above. */
PL_EXPORT ssize_t __read_chk(int fd, void *buf, size_t len, size_t buflen)
{
	if (len > buflen)
		__chk_fail();
	return read(fd, buf, len);
}

PL_EXPORT ssize_t __pread_chk(int fd, void *buf, size_t len, off_t off, size_t buflen)
{
	if (len > buflen)
		__chk_fail();
	return pread(fd, buf, len, off);
}

PL_EXPORT ssize_t __pread64_chk(int fd, void *buf, size_t len, off64_t off, size_t buflen)
{
	if (len > buflen)
		__chk_fail();
	return pread64(fd, buf, len, off);
}

/* ------------------------------------------------------------------ */
/* mmap of /dev/iommu (the selftest vIOMMU's page); munmap gives it back. */

/*
 * Serve an mmap of descriptor fd if it is ours: true with *ret (a mapping
 * or MAP_FAILED with errno), false to leave it to the C library.
 */
static bool pl_mmap(void *addr, size_t len, int prot, int flags, int fd, uint64_t off,
		    void **ret)
{
	if ((flags & MAP_ANONYMOUS) || fd < 0 || !pl_any())
		return false;
	pl_lock();
	struct pl_ofd *o = pl_lookup(fd);
	if (!o) {
		pl_unlock();
		return false;
	}
	int err = ENODEV, mfd;
	struct iofd_mapping *m = NULL;
	*ret = MAP_FAILED;
	if (o->kind == PL_CTX && !o->handle) {
		long rc = iofd_mmap(o->ctx, off, len, prot, flags, &mfd, &m);
		err = (int)-rc;
		struct pl_map *rec = rc ? NULL : calloc(1, sizeof(*rec));
		if (!rc && !rec)
			err = ENOMEM;
		if (rec) {
			/* The memory file from its start: the offset only named it. */
			void *p = NEXT(mmap)(addr, len, prot, flags, mfd, 0);
			if (p == MAP_FAILED) {
				err = errno;
				free(rec);
			} else {
				size_t psz = (size_t)sysconf(_SC_PAGESIZE);
				rec->addr = (uintptr_t)p;
				rec->len = (len + psz - 1) & ~(psz - 1);
				rec->m = m;
				rec->next = pl.maps;
				pl.maps = rec;
				pl.nmaps++;
				m = NULL;
				*ret = p;
				err = 0;
			}
		}
		iofd_munmap(m); /* NULL once the mapping is recorded */
	}
	pl_unlock();
	if (err)
		errno = err;
	return true;
}

PL_EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	void *p;
	if (pl_mmap(addr, len, prot, flags, fd, (uint64_t)off, &p))
		return p;
	return NEXT(mmap)(addr, len, prot, flags, fd, off);
}

PL_EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off64_t off)
{
	void *p;
	if (pl_mmap(addr, len, prot, flags, fd, (uint64_t)off, &p))
		return p;
	return NEXT(mmap64)(addr, len, prot, flags, fd, off);
}

PL_EXPORT int munmap(void *addr, size_t len)
{
	int rc = NEXT(munmap)(addr, len);
	if (rc || !__atomic_load_n(&pl.nmaps, __ATOMIC_RELAXED))
		return rc;
	int saved = errno;
	pl_lock();
	uintptr_t lo = (uintptr_t)addr, hi = lo + len;
	for (struct pl_map **pp = &pl.maps; *pp;) {
		struct pl_map *r = *pp;
		if (r->addr >= lo && r->addr + r->len <= hi) {
			*pp = r->next;
			pl.nmaps--;
			iofd_munmap(r->m);
			free(r);
		} else {
			pp = &r->next;
		}
	}
	pl_unlock();
	errno = saved;
	return rc;
}

/* ------------------------------------------------------------------ */
/* fork */

/*
 * Forwarding: open the connection the child will use, holding everything
 * this process holds, so that the child's descriptors have their objects
 * from the first instant (as the kernel's fork takes a reference on every
 * file).  If that fails, the child's inherited descriptors are dead (EIO).
 */
static void pl_fork_prepare(void)
{
	pl_lock();
	if (pl.conn < 0)
		return;
	int sock = pl_conn_new();
	if (sock < 0)
		return;
	struct sock_req rq = {.op = SOCK_OP_FORK, .tid = pl_tid(), .spare_fd = -1};
	struct sock_reply rp;
	if (pl_rpc_on(sock, &rq, -1, &rp) || rp.result < 0) {
		pl_sys_close(sock);
		return;
	}
	pl.fork_conn = sock;
}

static void pl_fork_parent(void)
{
	if (pl.fork_conn >= 0) /* the child's (or nobody's, if fork failed) */
		pl_sys_close(pl.fork_conn);
	pl.fork_conn = -1;
	pl_unlock();
}

/*
 * Forwarding: take over the connection opened for the child.  In-process,
 * the child has a copy of every context and file.  Its descriptors still
 * share the parent's eventfds, whose readiness now belongs to the
 * parent's copy: give each file a new eventfd under the same numbers, with
 * the same close-on-exec marks and O_NONBLOCK.  A failure leaves the old
 * one (readiness then follows both processes).
 */
static void pl_fork_child(void)
{
	/* The lock is held by the parent's thread, which does not exist here
	 * (a recursive mutex cannot be unlocked by another thread): start a
	 * new one. */
	pthread_mutex_t fresh = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
	pl.lock = fresh;
	pl_lock();
	if (pl.connect) {
		/* Forwarding: the parent's connection is the parent's; ours is
		 * the one opened for us, naming the same (shared) objects. */
		if (pl.conn >= 0)
			pl_sys_close(pl.conn);
		if (pl.fork_conn >= 0) {
			pl.conn = pl.fork_conn;
			pl.fork_conn = -1;
		} else if (pl.conn >= 0) {
			pl.conn = -1;
			pl.conn_gen++;
		}
	}
	for (struct pl_ofd *o = pl.ofds; o; o = o->next) {
		if (o->kind != PL_FILE || !o->file) /* a forwarded file is shared */
			continue;
		long fl = syscall(SYS_fcntl, o->fd, F_GETFL);
		int efd = eventfd(0, fl >= 0 && (fl & O_NONBLOCK) ? EFD_NONBLOCK : 0);
		if (efd < 0)
			continue;
		for (size_t i = 0; i < pl.nbyfd; i++) {
			if (pl.byfd[i] != o)
				continue;
			long fdfl = syscall(SYS_fcntl, (int)i, F_GETFD);
			syscall(SYS_dup3, efd, (int)i, fdfl > 0 && (fdfl & FD_CLOEXEC) ? O_CLOEXEC : 0);
		}
		pl_sys_close(efd);
		o->readable = false;
	}
	pl_sync();
	/* The child's statistics are its own. */
	pl.opens = pl.open_errors = 0;
	memset(pl.served, 0, sizeof(pl.served));
	memset(pl.failed, 0, sizeof(pl.failed));
	pl_unlock();
}

__attribute__((constructor)) static void pl_init(void)
{
	pthread_atfork(pl_fork_prepare, pl_fork_parent, pl_fork_child);
}

/* ------------------------------------------------------------------ */
/* Statistics at exit ($IOMMUSIM_STATS) */


struct pl_text {
	char buf[8192];
	size_t len;
};

static void pl_add(struct pl_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void pl_add(struct pl_text *t, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(t->buf + t->len, sizeof(t->buf) - t->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		t->len += (size_t)n < sizeof(t->buf) - t->len ? (size_t)n : sizeof(t->buf) - t->len - 1;
}

__attribute__((destructor)) static void pl_fini(void)
{
	const char *dest = getenv("IOMMUSIM_STATS");
	if (!dest || !*dest)
		return;
	static struct pl_text t; /* not on the stack: 8 KiB */
	pl_lock();
	if (!pl.opens && !pl.open_errors && !pl.ofds) { /* never touched /dev/iommu */
		pl_unlock();
		return;
	}
	unsigned long served = 0, failed = 0;
	for (unsigned i = 0; i <= PL_NR_OTHER; i++) {
		served += pl.served[i];
		failed += pl.failed[i];
	}
	t.len = 0;
	pl_add(&t, "iommusim preload: pid %ld: %lu ioctls served, %lu failed\n", (long)getpid(),
	       served, failed);
	for (unsigned i = 0; i <= PL_NR_OTHER; i++) {
		if (!pl.served[i])
			continue;
		char name[16];
		const char *s = i < PL_NR_OTHER ? iofd_request_name(i) : "other requests";
		if (!s) {
			snprintf(name, sizeof(name), "0x3b%02x", i);
			s = name;
		}
		pl_add(&t, "  %-30s %8lu", s, pl.served[i]);
		if (pl.failed[i])
			pl_add(&t, "  (%lu failed)", pl.failed[i]);
		pl_add(&t, "\n");
	}
	unsigned long ctxs = 0, files = 0, objects = 0;
	for (struct pl_ofd *o = pl.ofds; o; o = o->next) {
		if (o->kind == PL_CTX) {
			ctxs++;
			if (o->ctx)
				objects += iofd_object_count(o->ctx);
		} else {
			files++;
		}
	}
	if (pl.connect)
		pl_add(&t, "  opens of /dev/iommu: %lu (%lu failed); still open at exit: %lu "
		       "/dev/iommu, %lu other; served by %s\n",
		       pl.opens, pl.open_errors, ctxs, files, pl.connect);
	else
		pl_add(&t, "  opens of /dev/iommu: %lu (%lu failed); still open at exit: %lu "
		       "/dev/iommu, %lu other; objects alive in them: %lu\n",
		       pl.opens, pl.open_errors, ctxs, files, objects);
	pl_unlock();

	int fd = 2;
	if (strcmp(dest, "-")) {
		fd = (int)syscall(SYS_openat, AT_FDCWD, dest, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
				  0644);
		if (fd < 0) {
			pl_say("iommusim preload: IOMMUSIM_STATS: cannot open %s: %s\n", dest,
			       strerror(errno));
			return;
		}
	}
	syscall(SYS_write, fd, t.buf, t.len);
	if (fd != 2)
		pl_sys_close(fd);
}
