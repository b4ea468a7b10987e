/*
 * transport/server/server.c - one simulator process serving many clients.
 *
 * The loop: poll(2) over every descriptor a front end watched plus a
 * signalfd for SIGINT and SIGTERM; each ready descriptor's callback runs
 * to completion before the next poll, so the dispatcher (iommufd/) is
 * only ever entered from this one thread and needs no lock.  A front end
 * turns its requests into srv_ctx_open / srv_ioctl / srv_ctx_close; this
 * file adds the per-process user access (caller.c), the counts that
 * --stats prints and the log.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <uthash.h>

#include "engine/bits.h"
#include "iommufd/uapi.h"
#include "transport/server/caller.h"
#include "transport/server/server.h"

/* Counters per request: slot nr for every _IO(';', nr), one more for
 * everything else (wrong type or direction bits: ENOTTY). */
#define SRV_SLOT_OTHER IOFD_REQ_OTHER

struct srv_watch {
	int fd;
	short events;
	bool gone; /* unwatched while srv_run was calling back */
	srv_event_fn fn;
	void *arg;
};

/* A context handed out by srv_ctx_open, so srv_free can close the rest. */
struct srv_open_ctx {
	UT_hash_handle hh;
	struct iofd_ctx *ctx;
};

struct srv {
	enum iofd_abi abi;
	enum srv_log_level log_level;
	struct srv_watch *watches;
	size_t nwatches, cap;
	bool dispatching; /* inside srv_run's callbacks: unwatch only marks */
	bool stop;
	struct srv_callers callers;
	struct srv_open_ctx *open;
	unsigned long opens, open_failures, open_now;
	unsigned long served[SRV_SLOT_OTHER + 1], failed[SRV_SLOT_OTHER + 1];
	unsigned long no_caller; /* requests from a process already gone */
};

/* ------------------------------------------------------------------ */
/* Log */

static const char *const srv_level_names[] = {"error", "warning", "info", "debug"};

void srv_log(const struct srv *s, enum srv_log_level level, const char *fmt, ...)
{
	if (s && level > s->log_level)
		return;
	/* One write per line, so lines of several processes do not mix. */
	char line[512];
	int n = snprintf(line, sizeof(line), "iommusim serve: %s: ", srv_level_names[level]);
	va_list ap;
	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < sizeof(line))
		n += vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line) - 1)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	ssize_t w = write(STDERR_FILENO, line, (size_t)n);
	(void)w;
}

/* ------------------------------------------------------------------ */
/* Server */

struct srv *srv_new(enum iofd_abi abi, enum srv_log_level log_level)
{
	struct srv *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->abi = abi;
	s->log_level = log_level;
	return s;
}

void srv_free(struct srv *s)
{
	if (!s)
		return;
	/* Contexts first: their mappings read through the callers' access. */
	struct srv_open_ctx *o, *tmp;
	HASH_ITER(hh, s->open, o, tmp) {
		HASH_DEL(s->open, o);
		iofd_close(o->ctx);
		free(o);
	}
	srv_callers_free(&s->callers);
	free(s->watches);
	free(s);
}

enum iofd_abi srv_abi(const struct srv *s)
{
	return s->abi;
}

/* ------------------------------------------------------------------ */
/* Watched descriptors */

static struct srv_watch *srv_find_watch(struct srv *s, int fd)
{
	for (size_t i = 0; i < s->nwatches; i++)
		if (s->watches[i].fd == fd && !s->watches[i].gone)
			return &s->watches[i];
	return NULL;
}

/* Drop the entries unwatched during a round of callbacks. */
static void srv_compact_watches(struct srv *s)
{
	size_t keep = 0;
	for (size_t i = 0; i < s->nwatches; i++)
		if (!s->watches[i].gone)
			s->watches[keep++] = s->watches[i];
	s->nwatches = keep;
}

int srv_watch(struct srv *s, int fd, short events, srv_event_fn fn, void *arg)
{
	if (fd < 0 || !fn)
		return -EINVAL;
	if (srv_find_watch(s, fd))
		return -EEXIST;
	if (s->nwatches == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 8;
		struct srv_watch *w = realloc(s->watches, cap * sizeof(*w));
		if (!w)
			return -ENOMEM;
		s->watches = w;
		s->cap = cap;
	}
	s->watches[s->nwatches++] = (struct srv_watch){fd, events, false, fn, arg};
	return 0;
}

void srv_unwatch(struct srv *s, int fd)
{
	struct srv_watch *w = srv_find_watch(s, fd);
	if (!w)
		return;
	/* While srv_run walks the array, indices must stay put. */
	w->gone = true;
	if (!s->dispatching)
		srv_compact_watches(s);
}

void srv_stop(struct srv *s)
{
	s->stop = true;
}

/* The signalfd reported SIGINT or SIGTERM. */
static void srv_on_signal(struct srv *s, int sfd)
{
	struct signalfd_siginfo si;
	ssize_t n = read(sfd, &si, sizeof(si));
	if (n != (ssize_t)sizeof(si))
		return;
	srv_log(s, SRV_LOG_INFO, "%s: shutting down", strsignal((int)si.ssi_signo));
	s->stop = true;
}

int srv_run(struct srv *s)
{
	sigset_t stop_set, old;
	sigemptyset(&stop_set);
	sigaddset(&stop_set, SIGINT);
	sigaddset(&stop_set, SIGTERM);
	/* Blocked, the two signals wait in the signalfd instead of killing
	 * the process between two requests, so shutdown runs in order. */
	if (sigprocmask(SIG_BLOCK, &stop_set, &old))
		return -errno;
	int sfd = signalfd(-1, &stop_set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0) {
		int err = errno;
		sigprocmask(SIG_SETMASK, &old, NULL);
		return -err;
	}
	struct pollfd *pfd = NULL;
	size_t pcap = 0;
	int rc = 0;
	s->stop = false;
	while (!s->stop) {
		size_t n = s->nwatches;
		if (n + 1 > pcap) {
			struct pollfd *p = realloc(pfd, (n + 1) * sizeof(*p));
			if (!p) {
				rc = -ENOMEM;
				break;
			}
			pfd = p;
			pcap = n + 1;
		}
		pfd[0] = (struct pollfd){.fd = sfd, .events = POLLIN};
		for (size_t i = 0; i < n; i++)
			pfd[i + 1] = (struct pollfd){.fd = s->watches[i].fd,
						     .events = s->watches[i].events};
		if (poll(pfd, n + 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			srv_log(s, SRV_LOG_ERROR, "poll: %s", strerror(errno));
			break;
		}
		/* Serve what is ready in this round, then stop if asked to:
		 * a request already read gets its answer. */
		s->dispatching = true;
		for (size_t i = 0; i < n; i++) {
			struct srv_watch *w = &s->watches[i]; /* callbacks may grow the array */
			if (pfd[i + 1].revents && !w->gone)
				w->fn(w->arg, pfd[i + 1].revents);
		}
		s->dispatching = false;
		srv_compact_watches(s);
		if (pfd[0].revents & POLLIN)
			srv_on_signal(s, sfd);
	}
	free(pfd);
	close(sfd);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Clients */

const struct iofd_uaccess *srv_caller(struct srv *s, int tid)
{
	return srv_callers_get(&s->callers, tid);
}

/* The access a context is opened with.  Every request goes through
 * iofd_ioctl_from with the calling process's access, so nothing may ever
 * reach the opener's: an attempt is a fault, not a read of our memory. */
static int srv_detached_read(void *opaque, uint64_t uaddr, void *dst, size_t len)
{
	(void)opaque, (void)uaddr, (void)dst, (void)len;
	return -EFAULT;
}

static int srv_detached_write(void *opaque, uint64_t uaddr, const void *src, size_t len)
{
	(void)opaque, (void)uaddr, (void)src, (void)len;
	return -EFAULT;
}

static bool srv_detached_capable(void *opaque, int cap)
{
	(void)opaque, (void)cap;
	return false;
}

static const struct iofd_uaccess srv_detached = {
	.read = srv_detached_read,
	.write = srv_detached_write,
	.capable = srv_detached_capable,
	.mm = UINT64_MAX, /* no process has this pid */
};

struct iofd_ctx *srv_ctx_open(struct srv *s)
{
	struct srv_open_ctx *o = calloc(1, sizeof(*o));
	struct iofd_ctx *ctx = o ? iofd_open(&srv_detached, s->abi) : NULL;
	if (!ctx) {
		free(o);
		s->open_failures++;
		srv_log(s, SRV_LOG_WARN, "open: out of memory");
		return NULL;
	}
	o->ctx = ctx;
	HASH_ADD_PTR(s->open, ctx, o);
	s->opens++;
	s->open_now++;
	srv_log(s, SRV_LOG_DEBUG, "open: %lu contexts open", s->open_now);
	return ctx;
}

void srv_ctx_close(struct srv *s, struct iofd_ctx *ctx)
{
	struct srv_open_ctx *o;
	HASH_FIND_PTR(s->open, &ctx, o);
	if (!o) {
		srv_log(s, SRV_LOG_ERROR, "close of a context this server did not open");
		return;
	}
	HASH_DEL(s->open, o);
	free(o);
	s->open_now--;
	srv_log(s, SRV_LOG_DEBUG, "close: %zu objects destroyed, %lu contexts open",
		iofd_object_count(ctx), s->open_now);
	iofd_close(ctx);
	srv_collect_holds(s);
}


/* The name of counter slot i; buf holds a made-up one. */
static const char *srv_slot_name(unsigned i, char *buf, size_t len)
{
	if (i == SRV_SLOT_OTHER)
		return "other requests";
	if (iofd_request_name(i))
		return iofd_request_name(i);
	snprintf(buf, len, "0x3b%02x", i);
	return buf;
}

void srv_collect_holds(struct srv *s)
{
	srv_callers_collect(&s->callers);
}

long srv_ioctl(struct srv *s, struct iofd_ctx *ctx, int tid, unsigned long request, uint64_t arg)
{
	long rc = srv_ioctl_as(s, ctx, srv_caller(s, tid), tid, request, arg);
	srv_collect_holds(s);
	return rc;
}

long srv_ioctl_as(struct srv *s, struct iofd_ctx *ctx, const struct iofd_uaccess *caller, int tid,
		  unsigned long request, uint64_t arg)
{
	unsigned slot = iofd_request_slot(request);
	long rc;
	if (caller) {
		rc = iofd_ioctl_from(ctx, caller, request, arg);
	} else {
		/* The caller died while its request was queued: nobody reads
		 * the answer, and there is no memory to read the argument from. */
		rc = -ESRCH;
		s->no_caller++;
	}
	s->served[slot]++;
	if (rc < 0) {
		s->failed[slot]++;
		if (s->log_level >= SRV_LOG_DEBUG) {
			char name[16];
			const char *e = strerrorname_np((int)-rc);
			srv_log(s, SRV_LOG_DEBUG, "thread %d: %s (0x%lx): %s (%s)", tid,
				srv_slot_name(slot, name, sizeof(name)), request,
				e ? e : "?", strerror((int)-rc));
		}
	}
	return rc;
}

void srv_print_stats(const struct srv *s, FILE *out)
{
	unsigned long served = 0, failed = 0;
	for (unsigned i = 0; i <= SRV_SLOT_OTHER; i++) {
		served += s->served[i];
		failed += s->failed[i];
	}
	fprintf(out, "iommusim serve: %lu ioctls served, %lu failed\n", served, failed);
	for (unsigned i = 0; i <= SRV_SLOT_OTHER; i++) {
		if (!s->served[i])
			continue;
		char name[16];
		fprintf(out, "  %-30s %8lu", srv_slot_name(i, name, sizeof(name)), s->served[i]);
		if (s->failed[i])
			fprintf(out, "  (%lu failed)", s->failed[i]);
		fputc('\n', out);
	}
	size_t objects = 0;
	for (const struct srv_open_ctx *o = s->open; o; o = o->hh.next)
		objects += iofd_object_count(o->ctx);
	fprintf(out, "  opens of /dev/iommu: %lu (%lu failed); still open: %lu; objects alive in "
		"them: %zu\n", s->opens, s->open_failures, s->open_now, objects);
	if (s->no_caller)
		fprintf(out, "  requests from processes already gone: %lu\n", s->no_caller);
	fflush(out);
}
