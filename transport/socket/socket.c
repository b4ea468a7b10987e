/*
 * transport/socket/socket.c - the server side of the socket protocol
 * (proto.h): one listening AF_UNIX SOCK_SEQPACKET socket, one connection
 * per client process, every descriptor watched by the server's poll loop
 * (srv_watch), so requests are served one at a time.
 *
 * Who calls.  Each message carries the sending process's pid, filled in by
 * the kernel (SO_PASSCRED); a message without it ends the connection.  The
 * request names the calling thread, which must be a thread of that
 * process (/proc/<pid>/task/<tid>).  A connection's pid is the sender of
 * its latest message: a process about to fork opens the connection its
 * child will use, so the pid changes once, at the child's first request.
 *
 * Sharing.  Objects (contexts and files) are counted by the connections
 * holding them, each at most once; a process that forks gives its child a
 * connection holding the same objects (FORK), so both reach the same
 * contexts, and the last process to close a descriptor or exit releases
 * the object, as the last reference to a kernel file does.  This counts
 * processes, not descriptors: a process holds an object once however many
 * descriptors it has for it (the preload counts those), and a descriptor
 * sent to an unrelated process (SCM_RIGHTS) does not reach the object.
 *
 * Descriptors from ioctls.  A request that may create one
 * (FAULT_QUEUE_ALLOC, VEVENTQ_ALLOC, the selftest's CREATE_ACCESS) comes
 * with a spare eventfd from the client; the dispatcher's install_file
 * gives the client that descriptor's number and the file keeps the
 * server's copy, which the server keeps readable exactly while the file
 * has something to read (after every request, as the in-process preload
 * does), so poll and epoll in every process that shares it see the
 * kernel's readiness.  An ioctl naming a descriptor (the selftest's access
 * ops) comes with the file its number names in the client (the hint).
 *
 * A client that stops reading its replies, or sends anything malformed,
 * loses its connection; one that dies mid-request only makes the reply
 * fail to send.  Either way its holds are dropped.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <uthash.h>

#include <iommusim/vfio.h>

#include "transport/server/caller.h"
#include "transport/socket/proto.h"
#include "transport/socket/socket.h"

#define SOCK_MAX_CONNS 1024

struct sock_obj {
	UT_hash_handle hh;
	uint64_t handle;
	struct iofd_ctx *ctx;   /* a context, or */
	struct iofd_file *file; /* a file, or */
	struct vfio_dev *vdev;  /* an emulated VFIO device */
	unsigned holders;       /* connections holding it */
	int efd;                /* a file's eventfd (the client's, shared) */
	bool readable;
	struct sock_obj *fprev, *fnext; /* every file, for readiness */
};

struct sock_conn {
	struct srv_socket *ss;
	int fd;
	int pid;         /* the sender of the latest message */
	uint64_t *held;  /* handles held, each once */
	size_t nheld, cap;
	struct sock_conn *prev, *next;
};

/* What the request being served brought (the file hooks' state). */
struct sock_call {
	struct sock_conn *c;
	int spare_fd;       /* the server's copy of the spare eventfd, or -1 */
	int spare_num;      /* its number in the client, or -1 */
	int hint_fd;        /* the client's descriptor the hint names, or -1 */
	uint64_t hint_handle;
	struct sock_obj *installed;
};

struct srv_socket {
	struct srv *s;
	int lfd;
	char *path;
	dev_t dev;
	ino_t ino;
	struct sock_obj *objs; /* by handle */
	struct sock_obj *files;
	struct sock_conn *conns;
	unsigned nconns;
	uint64_t next_handle;
	struct sock_call call;
};


/* ------------------------------------------------------------------ */
/* Objects and holds */

static struct sock_obj *obj_new(struct srv_socket *ss)
{
	struct sock_obj *o = calloc(1, sizeof(*o));
	if (!o)
		return NULL;
	o->handle = ++ss->next_handle;
	o->efd = -1;
	HASH_ADD(hh, ss->objs, handle, sizeof(o->handle), o);
	return o;
}

static struct sock_obj *obj_find(struct srv_socket *ss, uint64_t handle)
{
	struct sock_obj *o;
	HASH_FIND(hh, ss->objs, &handle, sizeof(handle), o);
	return o;
}

/* Unlink a file object without releasing its file (uninstall). */
static void obj_unlink(struct srv_socket *ss, struct sock_obj *o)
{
	HASH_DEL(ss->objs, o);
	if (o->file) {
		if (o->fprev)
			o->fprev->fnext = o->fnext;
		else
			ss->files = o->fnext;
		if (o->fnext)
			o->fnext->fprev = o->fprev;
	}
}

static void obj_put(struct srv_socket *ss, struct sock_obj *o)
{
	if (--o->holders)
		return;
	obj_unlink(ss, o);
	if (o->ctx)
		srv_ctx_close(ss->s, o->ctx);
	else if (o->vdev)
		vfio_dev_free(o->vdev);
	else
		iofd_file_release(o->file);
	if (o->efd >= 0)
		close(o->efd);
	free(o);
}

static bool conn_holds(const struct sock_conn *c, uint64_t handle)
{
	for (size_t i = 0; i < c->nheld; i++)
		if (c->held[i] == handle)
			return true;
	return false;
}

enum obj_kind {
	OBJ_CTX = 1 << 0,
	OBJ_FILE = 1 << 1,
	OBJ_VFIO = 1 << 2,
};

/* The object `handle` if connection c holds it (and it is of a kind asked
 * for), else NULL. */
static struct sock_obj *conn_obj(struct sock_conn *c, uint64_t handle, unsigned kinds)
{
	if (!conn_holds(c, handle))
		return NULL;
	struct sock_obj *o = obj_find(c->ss, handle);
	if (!o)
		return NULL;
	unsigned kind = o->ctx ? OBJ_CTX : o->file ? OBJ_FILE : OBJ_VFIO;
	return kind & kinds ? o : NULL;
}

static int conn_hold(struct sock_conn *c, struct sock_obj *o)
{
	if (c->nheld == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 8;
		uint64_t *t = realloc(c->held, cap * sizeof(*t));
		if (!t)
			return -ENOMEM;
		c->held = t;
		c->cap = cap;
	}
	c->held[c->nheld++] = o->handle;
	o->holders++;
	return 0;
}

static void conn_drop(struct sock_conn *c, size_t i)
{
	struct sock_obj *o = obj_find(c->ss, c->held[i]);
	c->held[i] = c->held[--c->nheld];
	if (o)
		obj_put(c->ss, o);
}

static void conn_close(struct sock_conn *c)
{
	struct srv_socket *ss = c->ss;
	srv_log(ss->s, SRV_LOG_DEBUG, "socket: connection of pid %d closed, %zu handles dropped",
		c->pid, c->nheld);
	while (c->nheld)
		conn_drop(c, c->nheld - 1);
	srv_collect_holds(ss->s);
	free(c->held);
	srv_unwatch(ss->s, c->fd);
	close(c->fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		ss->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	ss->nconns--;
	free(c);
}

/* Keep each file's eventfd readable exactly while the file has something
 * to read.  Drain only what poll says is there, so that a counter someone
 * else emptied cannot block the server. */
static void files_sync(struct srv_socket *ss)
{
	for (struct sock_obj *o = ss->files; o; o = o->fnext) {
		if (o->efd < 0)
			continue;
		bool want = iofd_file_poll(o->file) & POLLIN;
		if (want == o->readable)
			continue;
		uint64_t v = 1;
		if (want) {
			if (write(o->efd, &v, sizeof(v)) < 0)
				continue;
		} else {
			struct pollfd p = {.fd = o->efd, .events = POLLIN};
			if (poll(&p, 1, 0) == 1 && read(o->efd, &v, sizeof(v)) < 0)
				continue;
		}
		o->readable = want;
	}
}

/* ------------------------------------------------------------------ */
/* Descriptor hooks for the dispatcher (the request in ss->call) */

static int hook_install(void *arg, struct iofd_file *file)
{
	struct srv_socket *ss = arg;
	struct sock_call *call = &ss->call;
	if (call->spare_num < 0) {
		srv_log(ss->s, SRV_LOG_WARN,
			"socket: unimplemented: an ioctl the client did not expect to create a "
			"descriptor created one");
		return -EOPNOTSUPP;
	}
	if (call->installed)
		return -EMFILE; /* one spare per request */
	struct sock_obj *o = obj_new(ss);
	if (!o)
		return -ENOMEM;
	o->file = file;
	if (conn_hold(call->c, o)) {
		HASH_DEL(ss->objs, o);
		free(o);
		return -ENOMEM;
	}
	o->efd = call->spare_fd;
	call->spare_fd = -1;
	o->fnext = ss->files;
	if (ss->files)
		ss->files->fprev = o;
	ss->files = o;
	call->installed = o;
	return call->spare_num;
}

static void hook_uninstall(void *arg, int fd)
{
	struct srv_socket *ss = arg;
	struct sock_call *call = &ss->call;
	struct sock_obj *o = call->installed;
	if (!o || fd != call->spare_num)
		return;
	for (size_t i = 0; i < call->c->nheld; i++)
		if (call->c->held[i] == o->handle) {
			call->c->held[i] = call->c->held[--call->c->nheld];
			break;
		}
	obj_unlink(ss, o);
	call->spare_fd = o->efd; /* closed with the request */
	free(o);
	call->installed = NULL;
}

static struct iofd_file *hook_file_of(void *arg, int fd)
{
	struct srv_socket *ss = arg;
	struct sock_call *call = &ss->call;
	if (fd < 0 || fd != call->hint_fd)
		return NULL;
	struct sock_obj *o = conn_obj(call->c, call->hint_handle, OBJ_FILE);
	return o ? o->file : NULL;
}

/* ------------------------------------------------------------------ */
/* Requests */

/* The user access of thread tid, which must be a thread of the sender:
 * the caller's memory is that process's. */
static const struct iofd_uaccess *req_caller(struct sock_conn *c, int tid)
{
	const struct iofd_uaccess *ua = srv_caller(c->ss->s, tid);
	if (ua && srv_caller_pid(ua) != c->pid) {
		srv_log(c->ss->s, SRV_LOG_WARN, "socket: pid %d names thread %d of another process",
			c->pid, tid);
		ua = NULL;
	}
	return ua;
}

/* The context behind the client's descriptor fd, for a VFIO device's
 * BIND_IOMMUFD: the one the request's hint names, if the sender holds it. */
static struct iofd_ctx *hint_ctx(void *opaque, int fd)
{
	struct sock_conn *c = opaque;
	if (fd < 0 || fd != c->ss->call.hint_fd)
		return NULL;
	struct sock_obj *o = conn_obj(c, c->ss->call.hint_handle, OBJ_CTX);
	return o ? o->ctx : NULL;
}

static int64_t req_ioctl(struct sock_conn *c, const struct sock_req *rq, struct sock_reply *rp)
{
	struct srv_socket *ss = c->ss;
	struct sock_obj *o = conn_obj(c, rq->handle, OBJ_CTX | OBJ_VFIO);
	if (!o)
		return -EBADF;
	const struct iofd_uaccess *ua = req_caller(c, rq->tid);
	if (!ua)
		return -ESRCH;
	static const struct srv_file_hooks hooks = {hook_install, hook_uninstall, hook_file_of,
						    NULL};
	struct srv_file_hooks h = hooks;
	h.arg = ss;
	ss->call.hint_fd = (int64_t)rq->arg[2] >= 0 && rq->arg[2] <= INT32_MAX ? (int)rq->arg[2] : -1;
	ss->call.hint_handle = rq->arg[3];
	if (o->vdev)
		return vfio_dev_ioctl(o->vdev, ua, hint_ctx, c, (unsigned long)rq->arg[0],
				      rq->arg[1]);
	srv_caller_bind_files(ua, &h);
	long rc = srv_ioctl_as(ss->s, o->ctx, ua, rq->tid, (unsigned long)rq->arg[0], rq->arg[1]);
	srv_caller_bind_files(ua, NULL);
	if (ss->call.installed)
		rp->handle = ss->call.installed->handle;
	return rc;
}

static int64_t req_io(struct sock_conn *c, const struct sock_req *rq, bool write)
{
	struct sock_obj *o = conn_obj(c, rq->handle, OBJ_FILE | OBJ_VFIO);
	if (!o)
		return -EBADF;
	const struct iofd_uaccess *ua = req_caller(c, rq->tid);
	if (!ua)
		return -ESRCH;
	uint64_t len = rq->arg[1] < SOCK_IO_MAX ? rq->arg[1] : SOCK_IO_MAX;
	uint8_t *buf = malloc(len ? len : 1);
	if (!buf)
		return -ENOMEM;
	long n;
	if (write) {
		n = ua->read(ua->opaque, rq->arg[0], buf, len);
		if (!n)
			n = o->vdev ? vfio_dev_write(o->vdev, buf, len, rq->arg[2])
				    : iofd_file_write(o->file, buf, len, rq->arg[2]);
	} else {
		n = o->vdev ? vfio_dev_read(o->vdev, buf, len, rq->arg[2])
			    : iofd_file_read(o->file, buf, len, rq->arg[2]);
		if (n > 0 && ua->write(ua->opaque, rq->arg[0], buf, (size_t)n))
			n = -EFAULT; /* the records read are lost, as with copy_to_user */
	}
	free(buf);
	return n;
}

/* FORK: take a hold on everything the sender's other connections hold. */
static int64_t req_fork(struct sock_conn *c)
{
	int64_t n = 0;
	for (struct sock_conn *o = c->ss->conns; o; o = o->next) {
		if (o == c || o->pid != c->pid)
			continue;
		for (size_t i = 0; i < o->nheld; i++) {
			struct sock_obj *obj = obj_find(c->ss, o->held[i]);
			if (!obj || conn_holds(c, obj->handle))
				continue;
			if (conn_hold(c, obj))
				return -ENOMEM;
			n++;
		}
	}
	return n;
}

/* OPEN of /dev/iommu: a new context. */
static int64_t req_open_context(struct sock_conn *c, struct sock_reply *rp)
{
	struct srv_socket *ss = c->ss;
	struct sock_obj *o = obj_new(ss);
	struct iofd_ctx *ctx = o ? srv_ctx_open(ss->s) : NULL;
	if (!ctx || conn_hold(c, o)) {
		if (ctx)
			srv_ctx_close(ss->s, ctx);
		if (o) {
			HASH_DEL(ss->objs, o);
			free(o);
		}
		return -ENOMEM;
	}
	o->ctx = ctx;
	rp->handle = o->handle;
	return 0;
}

/* OPEN of an emulated VFIO device with requester ID arg[1], behind the
 * host IOMMU the server was given a model for. */
static int64_t req_open_vfio(struct sock_conn *c, const struct sock_req *rq,
			     struct sock_reply *rp)
{
	if (!iofd_host_iommu())
		return -ENODEV;
	if (rq->arg[1] > UINT32_MAX)
		return -EINVAL;
	struct sock_obj *o = obj_new(c->ss);
	struct vfio_dev *d = o ? vfio_dev_new((uint32_t)rq->arg[1]) : NULL;
	if (!d || conn_hold(c, o)) {
		vfio_dev_free(d);
		if (o) {
			HASH_DEL(c->ss->objs, o);
			free(o);
		}
		return -ENOMEM;
	}
	o->vdev = d;
	rp->handle = o->handle;
	srv_log(c->ss->s, SRV_LOG_DEBUG, "socket: pid %d opened the VFIO device at %02x:%02x.%x",
		c->pid, (unsigned)(rq->arg[1] >> 8) & 0xff, (unsigned)(rq->arg[1] >> 3) & 0x1f,
		(unsigned)rq->arg[1] & 7);
	return 0;
}

static int64_t req_serve(struct sock_conn *c, const struct sock_req *rq, struct sock_reply *rp)
{
	struct srv_socket *ss = c->ss;
	switch (rq->op) {
	case SOCK_OP_HELLO:
		if (rq->arg[0] != SOCK_PROTO_VERSION) {
			srv_log(ss->s, SRV_LOG_WARN,
				"socket: pid %d speaks protocol %llu, not %d", c->pid,
				(unsigned long long)rq->arg[0], SOCK_PROTO_VERSION);
			return -EPROTO;
		}
		rp->handle = (uint64_t)srv_abi(ss->s);
		return getpid();
	case SOCK_OP_OPEN:
		if (rq->arg[0] == SOCK_OPEN_VFIO)
			return req_open_vfio(c, rq, rp);
		if (rq->arg[0] != SOCK_OPEN_CONTEXT)
			return -EINVAL;
		return req_open_context(c, rp);
	case SOCK_OP_CLOSE:
		for (size_t i = 0; i < c->nheld; i++)
			if (c->held[i] == rq->handle) {
				conn_drop(c, i);
				return 0;
			}
		return -EBADF;
	case SOCK_OP_FORK:
		return req_fork(c);
	case SOCK_OP_IOCTL:
		return req_ioctl(c, rq, rp);
	case SOCK_OP_READ:
		return req_io(c, rq, false);
	case SOCK_OP_WRITE:
		return req_io(c, rq, true);
	}
	return -EPROTO;
}

/* One message from a client: a request, its sender's credentials, at most
 * one descriptor. */
static void conn_event(void *arg, short revents)
{
	struct sock_conn *c = arg;
	struct srv_socket *ss = c->ss;
	struct sock_req rq;
	union {
		char buf[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cm;
	struct iovec iov = {&rq, sizeof(rq)};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.buf,
			    .msg_controllen = sizeof(cm.buf)};
	ssize_t n = recvmsg(c->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0 && (errno == EAGAIN || errno == EINTR) && !(revents & (POLLHUP | POLLERR)))
		return;
	int spare = -1;
	bool creds = false;
	for (struct cmsghdr *h = n > 0 ? CMSG_FIRSTHDR(&mh) : NULL; h; h = CMSG_NXTHDR(&mh, h)) {
		if (h->cmsg_level != SOL_SOCKET)
			continue;
		if (h->cmsg_type == SCM_CREDENTIALS && h->cmsg_len == CMSG_LEN(sizeof(struct ucred))) {
			struct ucred u;
			memcpy(&u, CMSG_DATA(h), sizeof(u));
			c->pid = u.pid;
			creds = u.pid > 0;
		} else if (h->cmsg_type == SCM_RIGHTS) {
			size_t nfd = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			for (size_t i = 0; i < nfd; i++) {
				int fd;
				memcpy(&fd, CMSG_DATA(h) + i * sizeof(int), sizeof(fd));
				if (spare < 0 && i == 0)
					spare = fd;
				else
					close(fd);
			}
		}
	}
	if (n <= 0) {
		if (n < 0)
			srv_log(ss->s, SRV_LOG_DEBUG, "socket: pid %d: %s", c->pid, strerror(errno));
		if (spare >= 0)
			close(spare);
		conn_close(c);
		return;
	}
	const char *bad = NULL;
	if (n != sizeof(rq) || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)))
		bad = "a message of the wrong size";
	else if (!creds)
		bad = "a message without its sender's credentials";
	else if ((spare >= 0) != (rq.spare_fd >= 0) || (spare >= 0 && rq.op != SOCK_OP_IOCTL))
		bad = "a descriptor where none belongs";
	if (bad) {
		srv_log(ss->s, SRV_LOG_WARN, "socket: pid %d sent %s; connection closed", c->pid, bad);
		if (spare >= 0)
			close(spare);
		conn_close(c);
		return;
	}
	ss->call = (struct sock_call){.c = c, .spare_fd = spare, .spare_num = rq.spare_fd,
				      .hint_fd = -1};
	struct sock_reply rp = {0};
	rp.result = req_serve(c, &rq, &rp);
	if (ss->call.spare_fd >= 0)
		close(ss->call.spare_fd);
	ss->call = (struct sock_call){.spare_fd = -1, .spare_num = -1, .hint_fd = -1};
	files_sync(ss);
	srv_collect_holds(ss->s);
	/* One request in flight per connection, so the reply always fits; a
	 * full queue means the client is not reading its replies. */
	if (send(c->fd, &rp, sizeof(rp), MSG_DONTWAIT | MSG_NOSIGNAL) != sizeof(rp)) {
		srv_log(ss->s, SRV_LOG_INFO, "socket: pid %d: reply not delivered (%s); "
			"connection closed", c->pid, strerror(errno));
		conn_close(c);
	}
}

static void listen_event(void *arg, short revents)
{
	struct srv_socket *ss = arg;
	(void)revents;
	int fd = accept4(ss->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	int one = 1;
	struct sock_conn *c = NULL;
	if (ss->nconns >= SOCK_MAX_CONNS) {
		srv_log(ss->s, SRV_LOG_WARN, "socket: %d connections already; refusing another",
			SOCK_MAX_CONNS);
	} else if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) ||
		   !(c = calloc(1, sizeof(*c)))) {
		srv_log(ss->s, SRV_LOG_WARN, "socket: cannot take a connection: %s", strerror(errno));
	}
	if (c) {
		struct ucred u;
		socklen_t ul = sizeof(u);
		c->ss = ss;
		c->fd = fd;
		c->pid = getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &u, &ul) ? 0 : u.pid;
		if (srv_watch(ss->s, fd, POLLIN, conn_event, c)) {
			free(c);
			c = NULL;
		}
	}
	if (!c) {
		close(fd);
		return;
	}
	c->next = ss->conns;
	if (ss->conns)
		ss->conns->prev = c;
	ss->conns = c;
	ss->nconns++;
	srv_log(ss->s, SRV_LOG_DEBUG, "socket: connection from pid %d", c->pid);
}

/* ------------------------------------------------------------------ */
/* Starting and stopping */

/* Bind path, replacing a socket file nobody listens on. */
static int bind_path(struct srv_socket *ss, const struct sockaddr_un *sa)
{
	if (!bind(ss->lfd, (const struct sockaddr *)sa, sizeof(*sa)))
		return 0;
	if (errno != EADDRINUSE)
		return -errno;
	struct stat st;
	if (lstat(sa->sun_path, &st) || !S_ISSOCK(st.st_mode)) {
		srv_log(ss->s, SRV_LOG_ERROR, "socket: %s exists and is not a socket", sa->sun_path);
		return -EEXIST;
	}
	int probe = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (probe < 0)
		return -errno;
	int live = connect(probe, (const struct sockaddr *)sa, sizeof(*sa)) == 0 || errno != ECONNREFUSED;
	close(probe);
	if (live) {
		srv_log(ss->s, SRV_LOG_ERROR, "socket: %s is in use by another server", sa->sun_path);
		return -EADDRINUSE;
	}
	srv_log(ss->s, SRV_LOG_INFO, "socket: replacing the stale socket %s", sa->sun_path);
	if (unlink(sa->sun_path) || bind(ss->lfd, (const struct sockaddr *)sa, sizeof(*sa)))
		return -errno;
	return 0;
}

struct srv_socket *srv_socket_start(struct srv *s, const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (!path || !*path || strlen(path) >= sizeof(sa.sun_path)) {
		srv_log(s, SRV_LOG_ERROR, "socket: the path must have 1 to %zu characters",
			sizeof(sa.sun_path) - 1);
		errno = ENAMETOOLONG;
		return NULL;
	}
	strcpy(sa.sun_path, path);
	struct srv_socket *ss = calloc(1, sizeof(*ss));
	if (!ss || !(ss->path = strdup(path))) {
		free(ss);
		errno = ENOMEM;
		return NULL;
	}
	ss->s = s;
	ss->call = (struct sock_call){.spare_fd = -1, .spare_num = -1, .hint_fd = -1};
	int rc = 0;
	int one = 1;
	struct stat st;
	ss->lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (ss->lfd < 0)
		rc = -errno;
	else if (setsockopt(ss->lfd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)))
		rc = -errno;
	else if ((rc = bind_path(ss, &sa)) == 0) {
		if (stat(path, &st) || listen(ss->lfd, 64))
			rc = -errno;
		else
			rc = srv_watch(s, ss->lfd, POLLIN, listen_event, ss);
		if (rc)
			unlink(path); /* bound but not serving: leave no socket file */
		ss->dev = st.st_dev;
		ss->ino = st.st_ino;
	}
	if (rc) {
		if (rc != -EEXIST && rc != -EADDRINUSE)
			srv_log(s, SRV_LOG_ERROR, "socket: cannot listen on %s: %s", path, strerror(-rc));
		if (ss->lfd >= 0)
			close(ss->lfd);
		free(ss->path);
		free(ss);
		errno = -rc;
		return NULL;
	}
	srv_log(s, SRV_LOG_INFO, "socket: serving /dev/iommu on %s", path);
	return ss;
}

void srv_socket_stop(struct srv_socket *ss)
{
	if (!ss)
		return;
	while (ss->conns)
		conn_close(ss->conns);
	/* Objects no connection holds cannot exist; free any left anyway. */
	struct sock_obj *o, *tmp;
	HASH_ITER(hh, ss->objs, o, tmp) {
		o->holders = 1;
		obj_put(ss, o);
	}
	srv_unwatch(ss->s, ss->lfd);
	close(ss->lfd);
	/* Remove the socket file only if it is still ours. */
	struct stat st;
	if (!lstat(ss->path, &st) && st.st_dev == ss->dev && st.st_ino == ss->ino)
		unlink(ss->path);
	free(ss->path);
	free(ss);
}

