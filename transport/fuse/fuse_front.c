/*
 * transport/fuse/fuse_front.c - /dev/iommu as a CUSE character device or
 * a regular FUSE file, served from the server's poll loop.
 *
 * The kernel side (Linux fs/fuse/, cuse.c and ioctl.c) decides what
 * reaches us:
 *  - every iommufd request is _IO(';', nr): no size or direction bits,
 *    so a *restricted* ioctl (a regular FUSE file, always) copies nothing
 *    but still hands over the raw argument pointer;
 *  - CUSE is asked for *unrestricted* ioctls (CUSE_UNRESTRICTED_IOCTL),
 *    which would let us ask the kernel to copy buffers with
 *    FUSE_IOCTL_RETRY rounds, one per level of nested pointer.  We do not:
 *    both front ends read and write the caller's memory directly with
 *    process_vm_readv/writev on fuse_req_ctx()->pid (the calling thread),
 *    through srv_ioctl.  One path for both, no round trips, no 128 KiB
 *    cap on what one ioctl may copy; the price is that the server must
 *    be allowed to ptrace its clients (same user, or CAP_SYS_PTRACE).
 * The answer is the ioctl's return value or errno; nothing is copied back
 * by the kernel (the reply carries no data).
 *
 * A Linux iommufd file has no read, write or poll (drivers/iommu/iommufd/
 * main.c iommufd_fops): read(2) and write(2) fail with EINVAL, and poll
 * reports the VFS default.  We answer EINVAL to READ and WRITE and leave
 * POLL unimplemented, for which the kernel's FUSE driver gives the same
 * default mask.  Requests that must hand the caller a new descriptor
 * cannot be served (the user access has no install_file): EOPNOTSUPP.
 */
#define FUSE_USE_VERSION 35

#include <cuse_lowlevel.h>
#include <fuse_lowlevel.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "transport/fuse/fuse_front.h"

struct srv_fuse {
	struct srv *srv;
	struct fuse_session *se;
	struct fuse_buf buf; /* one request at a time: the loop is single-threaded */
	int fd;
	bool cuse;
	bool watched;
	char *what;           /* "/dev/iommu (CUSE)", for the log */
	srv_fuse_ready_fn ready;
	void *ready_arg;
	/* FUSE file only: the mount point, and whether we created it. */
	char *path;
	bool created;
	/* The file's attributes, kept as a device node's are: chmod and
	 * chown work, the size is always 0. */
	mode_t mode;
	uid_t uid;
	gid_t gid;
	struct timespec atime, mtime, ctime;
};

/* The context of an open file. */
static struct iofd_ctx *front_ctx(const struct fuse_file_info *fi)
{
	return (struct iofd_ctx *)(uintptr_t)fi->fh;
}

static void front_ready(struct srv_fuse *f)
{
	srv_log(f->srv, SRV_LOG_INFO, "serving %s", f->what);
	if (f->ready) {
		srv_fuse_ready_fn fn = f->ready;
		f->ready = NULL;
		fn(f->ready_arg);
	}
}

/* ------------------------------------------------------------------ */
/* Requests common to both front ends */

static void front_open(struct srv_fuse *f, fuse_req_t req, struct fuse_file_info *fi)
{
	struct iofd_ctx *ctx = srv_ctx_open(f->srv);
	if (!ctx) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	fi->fh = (uintptr_t)ctx;
	fi->direct_io = 1; /* every read and write reaches us (and fails) */
	fi->keep_cache = 0;
	fi->noflush = 1;   /* nothing to do at close(2) before the last one */
	if (fuse_reply_open(req, fi)) {
		/* The opener was interrupted: the kernel will not release it. */
		srv_ctx_close(f->srv, ctx);
	}
}

static void front_release(struct srv_fuse *f, fuse_req_t req, struct fuse_file_info *fi)
{
	srv_ctx_close(f->srv, front_ctx(fi));
	fuse_reply_err(req, 0);
}

static void front_ioctl(struct srv_fuse *f, fuse_req_t req, unsigned int cmd, void *arg,
			struct fuse_file_info *fi, unsigned flags)
{
	if (flags & FUSE_IOCTL_DIR) {
		fuse_reply_err(req, ENOTTY);
		return;
	}
	/* FUSE_IOCTL_COMPAT (a 32-bit caller) needs nothing special: every
	 * iommufd struct has the same layout there (64-bit fields are
	 * 8-byte aligned on every ABI) and the pointer arrives zero-extended. */
	const struct fuse_ctx *caller = fuse_req_ctx(req);
	long rc = srv_ioctl(f->srv, front_ctx(fi), (int)caller->pid, cmd,
			    (uint64_t)(uintptr_t)arg);
	if (rc < 0)
		fuse_reply_err(req, (int)-rc);
	else
		fuse_reply_ioctl(req, (int)rc, NULL, 0);
}

/* ------------------------------------------------------------------ */
/* CUSE */

static void cuse_on_init_done(void *userdata)
{
	front_ready(userdata);
}

static void cuse_on_open(fuse_req_t req, struct fuse_file_info *fi)
{
	front_open(fuse_req_userdata(req), req, fi);
}

static void cuse_on_release(fuse_req_t req, struct fuse_file_info *fi)
{
	front_release(fuse_req_userdata(req), req, fi);
}

static void cuse_on_read(fuse_req_t req, size_t size, off_t off, struct fuse_file_info *fi)
{
	(void)size, (void)off, (void)fi;
	fuse_reply_err(req, EINVAL);
}

static void cuse_on_write(fuse_req_t req, const char *buf, size_t size, off_t off,
			  struct fuse_file_info *fi)
{
	(void)buf, (void)size, (void)off, (void)fi;
	fuse_reply_err(req, EINVAL);
}

static void cuse_on_ioctl_u(fuse_req_t req, unsigned int cmd, void *arg,
			    struct fuse_file_info *fi, unsigned flags, const void *in_buf,
			    size_t in_bufsz, size_t out_bufsz)
{
	(void)in_buf, (void)in_bufsz, (void)out_bufsz;
	front_ioctl(fuse_req_userdata(req), req, cmd, arg, fi, flags);
}

/* libfuse 3.14's CUSE ioctl callback takes `int cmd`; later releases
 * take `unsigned int` from FUSE_USE_VERSION 35 on.  Pick the matching
 * one by the member's type. */
__attribute__((unused)) static void cuse_on_ioctl_i(fuse_req_t req, int cmd, void *arg,
						    struct fuse_file_info *fi, unsigned flags,
						    const void *in_buf, size_t in_bufsz,
						    size_t out_bufsz)
{
	cuse_on_ioctl_u(req, (unsigned int)cmd, arg, fi, flags, in_buf, in_bufsz, out_bufsz);
}

#define CUSE_IOCTL_FN                                                                      \
	_Generic(((struct cuse_lowlevel_ops *)0)->ioctl,                                   \
		void (*)(fuse_req_t, int, void *, struct fuse_file_info *, unsigned,       \
			 const void *, size_t, size_t): cuse_on_ioctl_i,                   \
		default: cuse_on_ioctl_u)

static const struct cuse_lowlevel_ops cuse_ops = {
	.init_done = cuse_on_init_done,
	.open = cuse_on_open,
	.read = cuse_on_read,
	.write = cuse_on_write,
	.release = cuse_on_release,
	.ioctl = CUSE_IOCTL_FN,
};

/* ------------------------------------------------------------------ */
/* FUSE file: one inode, the root, a regular file */

static void file_stat(const struct srv_fuse *f, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = FUSE_ROOT_ID;
	st->st_mode = S_IFREG | f->mode;
	st->st_nlink = 1;
	st->st_uid = f->uid;
	st->st_gid = f->gid;
	st->st_blksize = 4096;
	st->st_atim = f->atime;
	st->st_mtim = f->mtime;
	st->st_ctim = f->ctime;
}

static void file_on_init(void *userdata, struct fuse_conn_info *conn)
{
	/* Requests arrive in our own buffer, never spliced through a pipe. */
	conn->want &= ~(FUSE_CAP_SPLICE_READ | FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE);
	front_ready(userdata);
}

static void file_on_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)fi;
	struct srv_fuse *f = fuse_req_userdata(req);
	if (ino != FUSE_ROOT_ID) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	struct stat st;
	file_stat(f, &st);
	fuse_reply_attr(req, &st, 1.0);
}

/* chmod, chown, utimes and an O_TRUNC open (size 0) act as on a device
 * node; any other size is EINVAL, as truncate(2) of a device gives. */
static void file_on_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
			    struct fuse_file_info *fi)
{
	(void)fi;
	struct srv_fuse *f = fuse_req_userdata(req);
	if (ino != FUSE_ROOT_ID) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	if ((to_set & FUSE_SET_ATTR_SIZE) && attr->st_size != 0) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	if (to_set & FUSE_SET_ATTR_MODE)
		f->mode = attr->st_mode & 07777;
	if (to_set & FUSE_SET_ATTR_UID)
		f->uid = attr->st_uid;
	if (to_set & FUSE_SET_ATTR_GID)
		f->gid = attr->st_gid;
	if (to_set & FUSE_SET_ATTR_ATIME)
		f->atime = attr->st_atim;
	if (to_set & FUSE_SET_ATTR_ATIME_NOW)
		f->atime = now;
	if (to_set & FUSE_SET_ATTR_MTIME)
		f->mtime = attr->st_mtim;
	if (to_set & FUSE_SET_ATTR_MTIME_NOW)
		f->mtime = now;
	f->ctime = now;
	struct stat st;
	file_stat(f, &st);
	fuse_reply_attr(req, &st, 1.0);
}

static void file_on_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	front_open(fuse_req_userdata(req), req, fi);
}

static void file_on_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	front_release(fuse_req_userdata(req), req, fi);
}

static void file_on_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			 struct fuse_file_info *fi)
{
	(void)ino, (void)size, (void)off, (void)fi;
	fuse_reply_err(req, EINVAL);
}

static void file_on_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size,
			  off_t off, struct fuse_file_info *fi)
{
	(void)ino, (void)buf, (void)size, (void)off, (void)fi;
	fuse_reply_err(req, EINVAL);
}

static void file_on_ioctl(fuse_req_t req, fuse_ino_t ino, unsigned int cmd, void *arg,
			  struct fuse_file_info *fi, unsigned flags, const void *in_buf,
			  size_t in_bufsz, size_t out_bufsz)
{
	(void)ino, (void)in_buf, (void)in_bufsz, (void)out_bufsz;
	front_ioctl(fuse_req_userdata(req), req, cmd, arg, fi, flags);
}

static const struct fuse_lowlevel_ops file_ops = {
	.init = file_on_init,
	.getattr = file_on_getattr,
	.setattr = file_on_setattr,
	.open = file_on_open,
	.read = file_on_read,
	.write = file_on_write,
	.release = file_on_release,
	.ioctl = file_on_ioctl,
};

/* ------------------------------------------------------------------ */
/* The session in the server's loop */

static void front_on_readable(void *arg, short revents)
{
	(void)revents;
	struct srv_fuse *f = arg;
	int n = fuse_session_receive_buf(f->se, &f->buf);
	if (n == -EINTR || n == -EAGAIN)
		return; /* interrupted, or a request the kernel took back */
	if (n <= 0 || fuse_session_exited(f->se)) {
		/* 0: the kernel ended the session (unmounted, or the
		 * connection was aborted); < 0: the device failed. */
		if (n < 0)
			srv_log(f->srv, SRV_LOG_ERROR, "%s: reading requests: %s", f->what,
				strerror(-n));
		else
			srv_log(f->srv, SRV_LOG_INFO, "%s: the kernel closed the session", f->what);
		srv_unwatch(f->srv, f->fd);
		f->watched = false;
		srv_stop(f->srv);
		return;
	}
	fuse_session_process_buf(f->se, &f->buf);
}

static int front_watch(struct srv_fuse *f)
{
	f->fd = fuse_session_fd(f->se);
	/* poll(2) says when a request is waiting; a request interrupted in
	 * between must not leave the loop blocked in read(2). */
	int fl = fcntl(f->fd, F_GETFL);
	if (fl < 0 || fcntl(f->fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	int rc = srv_watch(f->srv, f->fd, POLLIN, front_on_readable, f);
	if (rc == 0)
		f->watched = true;
	return rc;
}

static struct srv_fuse *front_new(struct srv *s, srv_fuse_ready_fn ready, void *arg)
{
	struct srv_fuse *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->srv = s;
	f->fd = -1;
	f->ready = ready;
	f->ready_arg = arg;
	return f;
}

int srv_fuse_open_cuse(struct srv *s, const char *name, srv_fuse_ready_fn ready, void *arg,
		       struct srv_fuse **out)
{
	*out = NULL;
	if (!name || !*name || strchr(name, '/') || strlen(name) > 64) {
		srv_log(s, SRV_LOG_ERROR, "CUSE: '%s' is not a device name (1 to 64 characters, "
			"no '/')", name ? name : "");
		return -EINVAL;
	}
	struct srv_fuse *f = front_new(s, ready, arg);
	char devname[80];
	snprintf(devname, sizeof(devname), "DEVNAME=%s", name);
	const char *dev_info[] = {devname};
	const struct cuse_info ci = {
		.dev_info_argc = 1,
		.dev_info_argv = dev_info,
		.flags = CUSE_UNRESTRICTED_IOCTL,
	};
	char *argv[] = {(char *)"iommusim", NULL};
	struct fuse_args args = FUSE_ARGS_INIT(1, argv);
	int rc = -ENOMEM;
	if (!f || asprintf(&f->what, "/dev/%s (CUSE)", name) < 0)
		goto fail;
	f->cuse = true;
	/* Not cuse_lowlevel_setup(): it would daemonise and install its own
	 * signal handlers; our loop owns both. */
	f->se = cuse_lowlevel_new(&args, &ci, &cuse_ops, f);
	fuse_opt_free_args(&args);
	if (!f->se)
		goto fail;
	int fd = open("/dev/cuse", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		if (errno == ENOENT || errno == ENODEV)
			srv_log(s, SRV_LOG_ERROR, "CUSE: /dev/cuse is missing: this kernel has no "
				"CUSE (modprobe cuse, or use --fuse PATH)");
		else
			srv_log(s, SRV_LOG_ERROR, "CUSE: cannot open /dev/cuse: %s%s",
				strerror(errno), errno == EACCES || errno == EPERM ?
				" (it needs root)" : "");
		goto fail;
	}
	char fdpath[32];
	snprintf(fdpath, sizeof(fdpath), "/dev/fd/%d", fd);
	/* "/dev/fd/N": libfuse takes the open device as is (no mount). */
	if (fuse_session_mount(f->se, fdpath)) {
		close(fd);
		rc = -EIO;
		goto fail;
	}
	rc = front_watch(f);
	if (rc)
		goto fail;
	*out = f;
	return 0;
fail:
	if (rc == -ENOMEM)
		srv_log(s, SRV_LOG_ERROR, "CUSE: out of memory");
	srv_fuse_close(f);
	return rc;
}

int srv_fuse_mount_file(struct srv *s, const char *path, srv_fuse_ready_fn ready, void *arg,
			struct srv_fuse **out)
{
	*out = NULL;
	struct srv_fuse *f = front_new(s, ready, arg);
	if (!f || !(f->path = strdup(path)) || asprintf(&f->what, "%s (FUSE file)", path) < 0) {
		srv_log(s, SRV_LOG_ERROR, "FUSE: out of memory");
		srv_fuse_close(f);
		return -ENOMEM;
	}
	struct stat st;
	if (stat(path, &st) == 0) {
		if (!S_ISREG(st.st_mode)) {
			srv_log(s, SRV_LOG_ERROR, "FUSE: %s is not a regular file (the device is "
				"mounted on a file; give a file's path, created if missing)", path);
			srv_fuse_close(f);
			return -EINVAL;
		}
	} else {
		int fd = errno == ENOENT ? open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)
					 : -1;
		if (fd < 0) {
			int err = errno;
			srv_log(s, SRV_LOG_ERROR, "FUSE: cannot create %s: %s%s", path, strerror(err),
				err == ENOTCONN ? " (the mount of a server that died: umount it)" : "");
			srv_fuse_close(f);
			return -err;
		}
		close(fd);
		f->created = true;
	}
	f->mode = 0600;
	f->uid = geteuid();
	f->gid = getegid();
	clock_gettime(CLOCK_REALTIME, &f->mtime);
	f->atime = f->ctime = f->mtime;

	/* default_permissions: the kernel checks the mode bits as for a
	 * device node; allow_other lets other users through them (root
	 * only may ask for it without /etc/fuse.conf). */
	char *argv[] = {(char *)"iommusim", (char *)"-o", NULL, NULL};
	argv[2] = geteuid() == 0 ? (char *)"fsname=iommusim,subtype=iommusim,default_permissions,"
					   "allow_other"
				 : (char *)"fsname=iommusim,subtype=iommusim,default_permissions";
	struct fuse_args args = FUSE_ARGS_INIT(3, argv);
	f->se = fuse_session_new(&args, &file_ops, sizeof(file_ops), f);
	fuse_opt_free_args(&args);
	int rc = -ENOMEM;
	if (!f->se)
		goto fail;
	if (fuse_session_mount(f->se, path)) {
		rc = geteuid() == 0 ? -EIO : -EPERM;
		srv_log(s, SRV_LOG_ERROR, "FUSE: cannot mount on %s%s", path,
			geteuid() ? " (mounting needs root)" : "");
		goto fail;
	}
	rc = front_watch(f);
	if (rc)
		goto fail;
	*out = f;
	return 0;
fail:
	if (rc == -ENOMEM)
		srv_log(s, SRV_LOG_ERROR, "FUSE: out of memory");
	srv_fuse_close(f);
	return rc;
}

void srv_fuse_close(struct srv_fuse *f)
{
	if (!f)
		return;
	if (f->watched)
		srv_unwatch(f->srv, f->fd);
	if (f->se) {
		/* FUSE: unmount (lazily, so a client still holding the file
		 * cannot keep us here).  CUSE: closing /dev/cuse removes the
		 * device and devtmpfs its node. */
		fuse_session_unmount(f->se);
		fuse_session_destroy(f->se);
		srv_log(f->srv, SRV_LOG_INFO, "%s: %s", f->what, f->cuse ? "device removed"
									  : "unmounted");
	}
	if (f->created && unlink(f->path))
		srv_log(f->srv, SRV_LOG_WARN, "cannot remove %s: %s", f->path, strerror(errno));
	free(f->buf.mem);
	free(f->path);
	free(f->what);
	free(f);
}
