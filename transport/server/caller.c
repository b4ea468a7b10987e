/*
 * transport/server/caller.c - user access for each client process.
 *
 * See caller.h for the rules.  The pin table is the dispatcher's
 * (iommufd/pin.c): this file, part of the same server process, asks it
 * whether a held range still has pinned pages (iommufd/iofd_int.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <uthash.h>

#include "iommufd/iofd_int.h"
#include "transport/server/caller.h"

/* Collect unpinned holds once a process has more than this many. */
#define CALLER_GC_HOLDS 16

/* A shared mapping of the caller, mapped into the server too. */
struct caller_hold {
	uint64_t start, end; /* the caller's addresses, page-aligned, [start, end) */
	uint8_t *local;      /* the same bytes here */
	bool writable;
};

struct srv_caller_entry {
	UT_hash_handle hh;
	int tgid;
	int pidfd;  /* -1 if pidfd_open is unavailable */
	bool dead;  /* the process has exited (sticky) */
	uint64_t alive_ns; /* when it was last seen alive */
	unsigned gen; /* how many earlier processes had this pid */
	struct iofd_uaccess ua;
	struct iofd_uaccess base; /* iofd_uaccess_for_pid's, for capable() */
	const struct srv_file_hooks *hooks;
	struct caller_hold *holds;
	size_t nholds;
	struct srv_callers *tab;
	struct srv_caller_entry *next_retired;
	struct srv_caller_entry *hprev, *hnext; /* tab->holding, while nholds */
};

static int srv_tgid_of(int tid)
{
	char path[64], line[128];
	snprintf(path, sizeof(path), "/proc/%d/status", tid);
	FILE *f = fopen(path, "re");
	if (!f)
		return -ESRCH;
	int tgid = -ESRCH;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Tgid: %d", &tgid) == 1)
			break;
	fclose(f);
	return tgid;
}

static struct srv_caller_entry *entry_of(const struct iofd_uaccess *ua)
{
	return (struct srv_caller_entry *)((char *)ua - offsetof(struct srv_caller_entry, ua));
}

static uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/*
 * Has the process exited?  Its pidfd turns readable when it does; without
 * one, only a copy's ESRCH tells.  A process seen alive less than a
 * millisecond ago is taken to be the same one still: its pid cannot have
 * been handed to another process since (pids are handed out cyclically),
 * and a copy from a process that has just exited fails by itself.
 */
static bool caller_gone_since(struct srv_caller_entry *e, uint64_t window_ns)
{
	if (e->dead)
		return true;
	if (e->pidfd < 0)
		return false;
	uint64_t now = now_ns();
	if (now - e->alive_ns < window_ns)
		return false;
	struct pollfd p = {.fd = e->pidfd, .events = POLLIN};
	if (poll(&p, 1, 0) == 1)
		e->dead = true;
	else
		e->alive_ns = now;
	return e->dead;
}

static bool caller_gone(struct srv_caller_entry *e)
{
	return caller_gone_since(e, 1000000u);
}

/* ------------------------------------------------------------------ */
/* Holds */

static size_t page_size(void)
{
	return (size_t)iopt_page_size();
}

static void hold_release(struct caller_hold *h)
{
	munmap(h->local, h->end - h->start);
}

/* Does any page of h still carry a pin of this process? */
static bool hold_is_pinned(const struct srv_caller_entry *e, const struct caller_hold *h)
{
	for (uint64_t a = h->start; a < h->end; a += page_size())
		if (iofd_pin_count(e->ua.mm, a))
			return true;
	return false;
}

/* e has holds now (or no more): keep tab->holding up to date. */
static void holding_update(struct srv_caller_entry *e, size_t before)
{
	struct srv_callers *tab = e->tab;
	if (!before && e->nholds) {
		e->hprev = NULL;
		e->hnext = tab->holding;
		if (tab->holding)
			tab->holding->hprev = e;
		tab->holding = e;
	} else if (before && !e->nholds) {
		if (e->hprev)
			e->hprev->hnext = e->hnext;
		else
			tab->holding = e->hnext;
		if (e->hnext)
			e->hnext->hprev = e->hprev;
	}
}

/* Let go of the holds no pinned page needs any more. */
static void holds_collect(struct srv_caller_entry *e)
{
	size_t before = e->nholds, keep = 0;
	for (size_t i = 0; i < e->nholds; i++) {
		if (hold_is_pinned(e, &e->holds[i]))
			e->holds[keep++] = e->holds[i];
		else
			hold_release(&e->holds[i]);
	}
	e->nholds = keep;
	holding_update(e, before);
}

/*
 * Hold [start, end) of the caller's shared mapping [lo, hi) (file offset
 * off at lo): map the same file range into the server.  Best effort: a
 * failure leaves the range to process_vm_readv alone.
 */
static void hold_add(struct srv_caller_entry *e, uint64_t lo, uint64_t hi, uint64_t off,
		     uint64_t start, uint64_t end, bool writable)
{
	/* Already held (a mapping probed again, e.g. pinned by a second domain). */
	for (size_t i = 0; i < e->nholds; i++)
		if (e->holds[i].start <= start && end <= e->holds[i].end)
			return;
	if (e->nholds >= CALLER_GC_HOLDS)
		holds_collect(e);
	if (e->nholds >= SRV_CALLER_MAX_HOLDS)
		return;
	char path[96];
	snprintf(path, sizeof(path), "/proc/%d/map_files/%llx-%llx", e->tgid,
		 (unsigned long long)lo, (unsigned long long)hi);
	int fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (fd < 0)
		return;
	struct stat st;
	void *p = MAP_FAILED;
	/* Only memory files (shmem, memfd, regular files): a device's mmap
	 * could have effects of its own. */
	if (!fstat(fd, &st) && S_ISREG(st.st_mode))
		p = mmap(NULL, end - start, PROT_READ | (writable ? PROT_WRITE : 0), MAP_SHARED, fd,
			 (off_t)(off + (start - lo)));
	close(fd);
	if (p == MAP_FAILED)
		return;
	struct caller_hold *t = realloc(e->holds, (e->nholds + 1) * sizeof(*t));
	if (!t) {
		munmap(p, end - start);
		return;
	}
	e->holds = t;
	e->holds[e->nholds++] = (struct caller_hold){start, end, p, writable};
	holding_update(e, e->nholds - 1);
}

/*
 * Copy between the caller's [uaddr, uaddr + len) and buf through the held
 * mappings (the process is gone); the newest hold wins where they overlap
 * (the latest mapping at that address).  0 or -EFAULT.
 */
static int holds_copy(struct srv_caller_entry *e, uint64_t uaddr, void *buf, size_t len,
		      bool write)
{
	uint8_t *b = buf;
	while (len) {
		const struct caller_hold *h = NULL;
		for (size_t i = e->nholds; i-- > 0;)
			if (e->holds[i].start <= uaddr && uaddr < e->holds[i].end) {
				h = &e->holds[i];
				break;
			}
		if (!h || (write && !h->writable))
			return -EFAULT;
		size_t n = h->end - uaddr < len ? (size_t)(h->end - uaddr) : len;
		if (write)
			memcpy(h->local + (uaddr - h->start), b, n);
		else
			memcpy(b, h->local + (uaddr - h->start), n);
		uaddr += n;
		b += n;
		len -= n;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* The user-access operations (opaque: the entry) */

static int caller_copy(struct srv_caller_entry *e, uint64_t uaddr, void *buf, size_t len,
		       bool write)
{
	if (len == 0)
		return 0;
	if (!caller_gone(e)) {
		struct iovec local = {buf, len};
		struct iovec remote = {(void *)(uintptr_t)uaddr, len};
		ssize_t n = write ? process_vm_writev(e->tgid, &local, 1, &remote, 1, 0)
				  : process_vm_readv(e->tgid, &local, 1, &remote, 1, 0);
		if (n == (ssize_t)len)
			return 0;
		if (n >= 0 || errno != ESRCH)
			return -EFAULT;
		e->dead = true;
	}
	return holds_copy(e, uaddr, buf, len, write);
}

static int caller_read(void *opaque, uint64_t uaddr, void *dst, size_t len)
{
	return caller_copy(opaque, uaddr, dst, len, false);
}

static int caller_write(void *opaque, uint64_t uaddr, const void *src, size_t len)
{
	return caller_copy(opaque, uaddr, (void *)src, len, true);
}

/*
 * Is [uaddr, uaddr + len) mapped (readable, and writable if asked)?  The
 * dispatcher asks before it pins: the shared mappings under the range are
 * held then.  A process that is gone has nothing left to pin (EFAULT, as
 * get_user_pages on an exited mm).
 */
static int caller_probe(void *opaque, uint64_t uaddr, uint64_t len, bool write)
{
	struct srv_caller_entry *e = opaque;
	if (caller_gone(e))
		return -EFAULT;
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/maps", e->tgid);
	FILE *f = fopen(path, "re");
	if (!f)
		return -EFAULT;
	struct shared_part {
		uint64_t lo, hi, off, start, end;
		bool writable;
	} parts[8];
	size_t nparts = 0;
	uint64_t want = uaddr, end = uaddr + len;
	char line[512];
	while (want < end && fgets(line, sizeof(line), f)) {
		unsigned long long lo, hi, off;
		char perms[5];
		if (sscanf(line, "%llx-%llx %4s %llx", &lo, &hi, perms, &off) != 4)
			continue;
		if (hi <= want)
			continue;
		if (lo > want)
			break; /* a hole */
		if (perms[0] != 'r' || (write && perms[1] != 'w'))
			break;
		if (perms[3] == 's' && nparts < sizeof(parts) / sizeof(parts[0])) {
			uint64_t s = want & ~(uint64_t)(page_size() - 1);
			uint64_t t = end < hi ? (end + page_size() - 1) & ~(uint64_t)(page_size() - 1) : hi;
			parts[nparts++] = (struct shared_part){lo, hi, off, s < lo ? lo : s, t,
							       perms[1] == 'w'};
		}
		want = hi;
	}
	fclose(f);
	if (want < end)
		return -EFAULT;
	for (size_t i = 0; i < nparts; i++)
		hold_add(e, parts[i].lo, parts[i].hi, parts[i].off, parts[i].start, parts[i].end,
			 parts[i].writable);
	return 0;
}

static bool caller_capable(void *opaque, int cap)
{
	struct srv_caller_entry *e = opaque;
	return !caller_gone(e) && e->base.capable(e->base.opaque, cap);
}

static int caller_install(void *opaque, struct iofd_file *file)
{
	struct srv_caller_entry *e = opaque;
	return e->hooks ? e->hooks->install(e->hooks->arg, file) : -EOPNOTSUPP;
}

static void caller_uninstall(void *opaque, int fd)
{
	struct srv_caller_entry *e = opaque;
	if (e->hooks)
		e->hooks->uninstall(e->hooks->arg, fd);
}

static struct iofd_file *caller_file_of(void *opaque, int fd)
{
	struct srv_caller_entry *e = opaque;
	return e->hooks ? e->hooks->file_of(e->hooks->arg, fd) : NULL;
}

/* A descriptor the caller names (IOAS_MAP_FILE's memory file), fetched
 * through its pidfd. */
static int caller_get_fd(void *opaque, int fd)
{
	struct srv_caller_entry *e = opaque;
	if (caller_gone(e) || e->pidfd < 0)
		return -EBADF;
	int own = (int)syscall(SYS_pidfd_getfd, e->pidfd, fd, 0);
	return own < 0 ? -EBADF : own;
}

/* ------------------------------------------------------------------ */
/* The table */

static struct srv_caller_entry *entry_new(struct srv_callers *tab, int tgid, unsigned gen)
{
	struct srv_caller_entry *e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->tab = tab;
	e->tgid = tgid;
	e->gen = gen;
	e->pidfd = (int)syscall(SYS_pidfd_open, tgid, 0);
	iofd_uaccess_for_pid(&e->base, tgid);
	e->ua = (struct iofd_uaccess){
		.read = caller_read,
		.write = caller_write,
		.probe = caller_probe,
		.capable = caller_capable,
		.install_file = caller_install,
		.uninstall_file = caller_uninstall,
		.file_of = caller_file_of,
		.get_fd = caller_get_fd,
		.opaque = e,
		/* Pins are per address space: a later process with the same pid
		 * must not see this one's. */
		.mm = (uint64_t)gen << 32 | (uint32_t)tgid,
	};
	return e;
}

static const struct iofd_uaccess *caller_lookup(struct srv_callers *tab, int tgid);

static void entry_free(struct srv_caller_entry *e)
{
	size_t before = e->nholds;
	for (size_t i = 0; i < e->nholds; i++)
		hold_release(&e->holds[i]);
	e->nholds = 0;
	holding_update(e, before);
	free(e->holds);
	if (e->pidfd >= 0)
		close(e->pidfd);
	free(e);
}

/* Is thread tid (still) a thread of process tgid? */
static bool task_in(int tgid, int tid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task/%d", tgid, tid);
	return access(path, F_OK) == 0;
}

const struct iofd_uaccess *srv_callers_get(struct srv_callers *tab, int tid)
{
	struct srv_caller_tid *slot = tid > 0 ? &tab->recent[tid % SRV_CALLER_TIDS] : NULL;
	if (slot && slot->tid == tid && slot->e) {
		struct srv_caller_entry *e = slot->e;
		/* A new request: is the process still there at all? */
		if (!caller_gone_since(e, 0)) {
			uint64_t now = now_ns();
			if (now - slot->checked_ns < 1000000u || task_in(e->tgid, tid)) {
				if (now - slot->checked_ns >= 1000000u)
					slot->checked_ns = now;
				return &e->ua;
			}
		}
		slot->e = NULL;
	}
	int tgid = tid > 0 ? srv_tgid_of(tid) : -ESRCH;
	if (tgid < 0)
		return NULL;
	const struct iofd_uaccess *ua = caller_lookup(tab, tgid);
	if (ua && slot)
		*slot = (struct srv_caller_tid){tid, entry_of(ua), now_ns()};
	return ua;
}

/* The entry of process tgid, made (or made anew, if the pid was reused)
 * when needed. */
static const struct iofd_uaccess *caller_lookup(struct srv_callers *tab, int tgid)
{
	struct srv_caller_entry *e;
	HASH_FIND_INT(tab->by_tgid, &tgid, e);
	unsigned gen = 0;
	if (e) {
		/* The thread exists now, so a gone entry's pid was reused:
		 * retire it (mappings may still read through it). */
		if (!caller_gone(e))
			return &e->ua;
		HASH_DEL(tab->by_tgid, e);
		holds_collect(e);
		e->next_retired = tab->retired;
		tab->retired = e;
		gen = e->gen + 1;
	}
	e = entry_new(tab, tgid, gen);
	if (!e)
		return NULL;
	HASH_ADD_INT(tab->by_tgid, tgid, e);
	return &e->ua;
}

int srv_caller_pid(const struct iofd_uaccess *ua)
{
	return entry_of(ua)->tgid;
}

void srv_callers_free(struct srv_callers *tab)
{
	struct srv_caller_entry *e, *tmp;
	HASH_ITER(hh, tab->by_tgid, e, tmp) {
		HASH_DEL(tab->by_tgid, e);
		entry_free(e);
	}
	while ((e = tab->retired)) {
		tab->retired = e->next_retired;
		entry_free(e);
	}
}

void srv_callers_collect(struct srv_callers *tab)
{
	struct srv_caller_entry *e = tab->holding;
	while (e) {
		struct srv_caller_entry *next = e->hnext; /* e may leave the list */
		holds_collect(e);
		e = next;
	}
}

void srv_caller_bind_files(const struct iofd_uaccess *ua, const struct srv_file_hooks *hooks)
{
	entry_of(ua)->hooks = hooks;
}

void srv_caller_holds(const struct iofd_uaccess *ua, size_t *ranges, size_t *bytes)
{
	const struct srv_caller_entry *e = entry_of(ua);
	*ranges = e->nholds;
	*bytes = 0;
	for (size_t i = 0; i < e->nholds; i++)
		*bytes += e->holds[i].end - e->holds[i].start;
}
