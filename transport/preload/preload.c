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
 * it in the prepare handler; the child gets a copy of every context (the
 * state is per process: what the child does is not seen by the parent)
 * and, so that the two copies' readiness cannot mix, new eventfds in
 * place of the files' shared ones.
 *
 * Not seen: static binaries, raw system calls, glibc-internal opens and
 * closes (except fclose and closefrom, which are intercepted), descriptors
 * kept across exec (the new image starts with no contexts), stat(2) of
 * the device, mmap (ENODEV, what a kernel without iommufd mmap answers).
 *
 * Environment: IOMMUSIM_ABI ("6.12" or "newest", default newest; anything
 * else fails the open with EINVAL), IOMMUSIM_DEVICE (see above),
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
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <iommusim/iommufd.h>

#include "iommufd/uapi.h"

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
};

/* One open file description: what every dup of a descriptor shares. */
struct pl_ofd {
	enum pl_kind kind;
	struct iofd_ctx *ctx;   /* PL_CTX */
	struct iofd_file *file; /* PL_FILE */
	unsigned refs;          /* table entries naming it */
	int fd;                 /* one of them: the eventfd to signal through */
	bool readable;          /* the eventfd is signalled */
	struct pl_ofd *prev, *next;
};

#define PL_NR_OTHER 256 /* statistics slot for requests not _IO(';', nr) */

static struct {
	pthread_mutex_t lock;
	/* The next definitions of what we interpose, resolved on first use
	 * without the lock (a call may come before our constructor runs). */
	struct {
		void *open, *open64, *openat, *openat64, *__open_2, *__open64_2, *__openat_2,
			*__openat64_2, *fopen, *fopen64, *fclose, *access, *faccessat, *close,
			*close_range, *closefrom, *dup, *dup2, *dup3, *fcntl, *fcntl64, *ioctl,
			*read, *write, *pread, *pread64, *pwrite, *pwrite64, *readv, *writev,
			*preadv, *preadv64, *pwritev, *pwritev64, *mmap, *mmap64;
	} next;
	struct pl_ofd **byfd; /* descriptor number -> record; NULL: not ours */
	size_t nbyfd;
	unsigned long nfds;   /* non-NULL entries; read without the lock as a hint */
	struct pl_ofd *ofds;  /* every record */
	/* What $IOMMUSIM_DEVICE names (NULL: "/dev/iommu"). */
	char *devices;
	pthread_once_t devices_once;
	bool abi_warned;
	/* Statistics since start (or since fork, in a child). */
	unsigned long opens, open_errors;
	unsigned long served[PL_NR_OTHER + 1], failed[PL_NR_OTHER + 1];
} pl = {
	.lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP,
	.devices_once = PTHREAD_ONCE_INIT,
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
	pl_ofd_free(o);
	if (ctx)
		iofd_close(ctx);
	else if (file && release)
		iofd_file_release(file);
}

/* The kernel just handed out descriptor fd for something else: any entry
 * for it is stale (closed behind our back). */
static void pl_claim(int fd)
{
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
		if (o->kind != PL_FILE)
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

/* open(2) of the device: a new context behind a new eventfd. */
static int pl_open_device(int flags)
{
	if ((flags & O_CREAT) && (flags & O_EXCL))
		return pl_result(-EEXIST);
	if (flags & O_DIRECTORY) /* also O_TMPFILE */
		return pl_result(-ENOTDIR);
	enum iofd_abi abi = IOFD_ABI_NEWEST;
	const char *s = getenv("IOMMUSIM_ABI");
	if (s && *s && iofd_abi_parse(s, &abi)) {
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
	int fd = eventfd(0, (flags & O_CLOEXEC ? EFD_CLOEXEC : 0) |
				    (flags & O_NONBLOCK ? EFD_NONBLOCK : 0));
	if (fd < 0)
		return -1;
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
		return pl_open_device(flags);
	return pl_opened(NEXT(open)(path, flags, mode));
}

PL_EXPORT int open64(const char *path, int flags, ...)
{
	va_list ap;
	va_start(ap, flags);
	mode_t mode = pl_mode_arg(flags, ap);
	va_end(ap);
	if (pl_is_device(path))
		return pl_open_device(flags);
	return pl_opened(NEXT(open64)(path, flags, mode));
}

PL_EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	va_start(ap, flags);
	mode_t mode = pl_mode_arg(flags, ap);
	va_end(ap);
	if (pl_is_device(path))
		return pl_open_device(flags);
	return pl_opened(NEXT(openat)(dirfd, path, flags, mode));
}

PL_EXPORT int openat64(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	va_start(ap, flags);
	mode_t mode = pl_mode_arg(flags, ap);
	va_end(ap);
	if (pl_is_device(path))
		return pl_open_device(flags);
	return pl_opened(NEXT(openat64)(dirfd, path, flags, mode));
}

PL_EXPORT int __open_2(const char *path, int flags)
{
	if (pl_is_device(path))
		return pl_open_device(flags);
	return pl_opened(NEXT(__open_2)(path, flags));
}

PL_EXPORT int __open64_2(const char *path, int flags)
{
	if (pl_is_device(path))
		return pl_open_device(flags);
	return pl_opened(NEXT(__open64_2)(path, flags));
}

PL_EXPORT int __openat_2(int dirfd, const char *path, int flags)
{
	if (pl_is_device(path))
		return pl_open_device(flags);
	return pl_opened(NEXT(__openat_2)(dirfd, path, flags));
}

PL_EXPORT int __openat64_2(int dirfd, const char *path, int flags)
{
	if (pl_is_device(path))
		return pl_open_device(flags);
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

static FILE *pl_fopen_device(const char *mode)
{
	int flags = pl_fopen_flags(mode);
	if (flags < 0) {
		errno = EINVAL;
		return NULL;
	}
	int fd = pl_open_device(flags);
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
		return pl_fopen_device(mode);
	FILE *f = NEXT(fopen)(path, mode);
	if (f)
		pl_opened(fileno(f));
	return f;
}

PL_EXPORT FILE *fopen64(const char *path, const char *mode)
{
	if (pl_is_device(path))
		return pl_fopen_device(mode);
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
		pl_unlock();
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
	int rc = NEXT(close_range)(first, last, flags);
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
	NEXT(closefrom)(lowfd);
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

PL_EXPORT int dup2(int old, int new)
{
	if (!pl_any())
		return NEXT(dup2)(old, new);
	pl_lock();
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
	if (o->kind == PL_CTX) {
		rc = iofd_ioctl(o->ctx, cmd, (uint64_t)(uintptr_t)arg);
		unsigned slot = (cmd & 0xff00) == IOFD_TYPE << 8 ? (cmd & 0xff) : PL_NR_OTHER;
		pl.served[slot]++;
		if (rc < 0)
			pl.failed[slot]++;
		pl_sync();
	}
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
	if (o->kind != PL_FILE)
		return -EINVAL; /* /dev/iommu has no read or write */
	if (len > SSIZE_MAX)
		return -EINVAL;
	uint64_t small[32];
	void *buf = len <= sizeof(small) ? small : malloc(len);
	if (!buf)
		return -ENOMEM;
	const struct iofd_uaccess *ua = &iofd_uaccess_self;
	long n;
	if (wr) {
		n = ua->read(ua->opaque, (uintptr_t)ubuf, buf, len);
		if (!n)
			n = iofd_file_write(o->file, buf, len, off);
	} else {
		n = iofd_file_read(o->file, buf, len, off);
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
	if (o->kind != PL_FILE || cnt < 0 || cnt > IOV_MAX)
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
/* mmap: nothing of ours can be mapped yet. */

static bool pl_is_ours(int fd)
{
	if (fd < 0 || !pl_any())
		return false;
	pl_lock();
	bool ours = pl_lookup(fd);
	pl_unlock();
	return ours;
}

PL_EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	if (!(flags & MAP_ANONYMOUS) && pl_is_ours(fd)) {
		errno = ENODEV;
		return MAP_FAILED;
	}
	return NEXT(mmap)(addr, len, prot, flags, fd, off);
}

PL_EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off64_t off)
{
	if (!(flags & MAP_ANONYMOUS) && pl_is_ours(fd)) {
		errno = ENODEV;
		return MAP_FAILED;
	}
	return NEXT(mmap64)(addr, len, prot, flags, fd, off);
}

/* ------------------------------------------------------------------ */
/* fork */

static void pl_fork_prepare(void)
{
	pl_lock();
}

static void pl_fork_parent(void)
{
	pl_unlock();
}

/*
 * The child has a copy of every context and file.  Its file descriptors
 * still share the parent's eventfds, whose readiness now belongs to the
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
	for (struct pl_ofd *o = pl.ofds; o; o = o->next) {
		if (o->kind != PL_FILE)
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

/* Request names: include/uapi/linux/iommufd.h and vfio.h (VFIO_BASE 100). */
static const char *const pl_request_names[256] = {
	[0x64] = "VFIO_GET_API_VERSION",
	[0x65] = "VFIO_CHECK_EXTENSION",
	[0x66] = "VFIO_SET_IOMMU",
	[0x70] = "VFIO_IOMMU_GET_INFO",
	[0x71] = "VFIO_IOMMU_MAP_DMA",
	[0x72] = "VFIO_IOMMU_UNMAP_DMA",
	[IOFD_NR_DESTROY] = "IOMMU_DESTROY",
	[IOFD_NR_IOAS_ALLOC] = "IOMMU_IOAS_ALLOC",
	[IOFD_NR_IOAS_ALLOW_IOVAS] = "IOMMU_IOAS_ALLOW_IOVAS",
	[IOFD_NR_IOAS_COPY] = "IOMMU_IOAS_COPY",
	[IOFD_NR_IOAS_IOVA_RANGES] = "IOMMU_IOAS_IOVA_RANGES",
	[IOFD_NR_IOAS_MAP] = "IOMMU_IOAS_MAP",
	[IOFD_NR_IOAS_UNMAP] = "IOMMU_IOAS_UNMAP",
	[IOFD_NR_OPTION] = "IOMMU_OPTION",
	[IOFD_NR_VFIO_IOAS] = "IOMMU_VFIO_IOAS",
	[IOFD_NR_HWPT_ALLOC] = "IOMMU_HWPT_ALLOC",
	[IOFD_NR_GET_HW_INFO] = "IOMMU_GET_HW_INFO",
	[IOFD_NR_HWPT_SET_DIRTY_TRACKING] = "IOMMU_HWPT_SET_DIRTY_TRACKING",
	[IOFD_NR_HWPT_GET_DIRTY_BITMAP] = "IOMMU_HWPT_GET_DIRTY_BITMAP",
	[IOFD_NR_HWPT_INVALIDATE] = "IOMMU_HWPT_INVALIDATE",
	[IOFD_NR_FAULT_QUEUE_ALLOC] = "IOMMU_FAULT_QUEUE_ALLOC",
	[IOFD_NR_IOAS_MAP_FILE] = "IOMMU_IOAS_MAP_FILE",
	[IOFD_NR_VIOMMU_ALLOC] = "IOMMU_VIOMMU_ALLOC",
	[IOFD_NR_VDEVICE_ALLOC] = "IOMMU_VDEVICE_ALLOC",
	[IOFD_NR_IOAS_CHANGE_PROCESS] = "IOMMU_IOAS_CHANGE_PROCESS",
	[IOFD_NR_VEVENTQ_ALLOC] = "IOMMU_VEVENTQ_ALLOC",
	[IOFD_NR_HW_QUEUE_ALLOC] = "IOMMU_HW_QUEUE_ALLOC",
	[IOFD_NR_TEST_CMD] = "IOMMU_TEST_CMD",
};

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
		const char *s = i < PL_NR_OTHER ? pl_request_names[i] : "other requests";
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
			objects += iofd_object_count(o->ctx);
		} else {
			files++;
		}
	}
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
