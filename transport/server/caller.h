/*
 * transport/server/caller.h - user access for each client process.
 *
 * A server is called by threads of other processes.  Each process (thread
 * group) gets one struct iofd_uaccess; it lives until the table is freed,
 * because mappings keep reading through it.  Its copies go through
 * process_vm_readv/writev, so the caller's own protections apply (a
 * read-only page gives EFAULT on a write, as copy_to_user does).
 *
 * Identity.  A process is known by a pidfd taken when its entry is made,
 * not by its bare pid: when the pid is reused by another process, the old
 * entry is retired (kept, since mappings may still point at it) and the
 * new process gets a fresh entry whose pins are kept apart (its `mm` is a
 * new number).
 *
 * Pinned shared memory outlives the process.  Linux keeps a pinned page
 * when the process that mapped it exits: the selftest's fork_gone maps a
 * MAP_SHARED buffer from a child that then exits and reads the pinned
 * pages afterwards.  So when the dispatcher probes a range before pinning
 * it, every shared mapping under it is held: opened through
 * /proc/<pid>/map_files (this needs CAP_SYS_ADMIN in the server's user
 * namespace; without it nothing is held) and mapped into the server.
 * Copies still go to the live process first, so what an ioctl reads is
 * always the process's current memory; only once the process is gone are
 * they served from the held mappings.  Private memory cannot be held: it
 * goes with its process, and copies from it then fail with EFAULT.  Holds
 * whose pages are no longer pinned are let go by srv_callers_collect (the
 * front end calls it after requests, and after a client goes, so that a
 * buffer the client unmapped, hugetlb pages above all, is not kept), and
 * when a process collects more than a few; a process holds at most
 * SRV_CALLER_MAX_HOLDS ranges (past that, nothing more is held for it).
 *
 * Descriptor operations (install_file, uninstall_file, file_of) go to the
 * hooks a front end binds for the duration of one request
 * (srv_caller_bind_files); unbound, ioctls that create descriptors fail
 * with EOPNOTSUPP and descriptors named in ioctls are not found.
 */
#ifndef TRANSPORT_SERVER_CALLER_H
#define TRANSPORT_SERVER_CALLER_H

#include <stddef.h>

#include "include/iommusim/iommufd.h"

#define SRV_CALLER_MAX_HOLDS 256

struct srv_caller_entry;

/* A thread seen recently, and when it was last found in its process. */
struct srv_caller_tid {
	int tid;
	struct srv_caller_entry *e;
	uint64_t checked_ns;
};

#define SRV_CALLER_TIDS 64

struct srv_callers {
	struct srv_caller_entry *by_tgid; /* uthash: the live entry of each pid */
	struct srv_caller_entry *retired; /* entries whose pid was reused */
	struct srv_caller_entry *holding; /* entries with holds */
	/* Finding a thread's process by /proc/<tid>/status costs ~10 us a
	 * request; a thread seen before is looked up here instead, and its
	 * membership checked again (/proc/<pid>/task/<tid>) at most every
	 * millisecond: pids are handed out cyclically, so a number cannot
	 * come back to another process in less. */
	struct srv_caller_tid recent[SRV_CALLER_TIDS];
};
/* The user access for the process of thread tid; NULL if it is gone or
 * memory ran out. */
const struct iofd_uaccess *srv_callers_get(struct srv_callers *tab, int tid);
void srv_callers_free(struct srv_callers *tab);

/* The process (thread group ID) ua serves. */
int srv_caller_pid(const struct iofd_uaccess *ua);

/* A front end's descriptor operations for the request being served. */
struct srv_file_hooks {
	/* Give the calling process a descriptor for file: its number, or a
	 * negative errno. */
	int (*install)(void *arg, struct iofd_file *file);
	/* Undo install (the ioctl's reply could not be written). */
	void (*uninstall)(void *arg, int fd);
	/* The file behind the calling process's descriptor fd, or NULL. */
	struct iofd_file *(*file_of)(void *arg, int fd);
	void *arg;
};

/* Route the descriptor operations of `ua` (from srv_callers_get) to hooks
 * until they are bound again; NULL unbinds. */
void srv_caller_bind_files(const struct iofd_uaccess *ua, const struct srv_file_hooks *hooks);

/* Let go of every hold, of any process of the table, whose pages are no
 * longer pinned. */
void srv_callers_collect(struct srv_callers *tab);

/* For tests and --stats: the ranges and bytes held for ua's process. */
void srv_caller_holds(const struct iofd_uaccess *ua, size_t *ranges, size_t *bytes);

#endif
