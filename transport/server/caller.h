/*
 * transport/server/caller.h - user access for each client process.
 *
 * A server is called by threads of other processes.  Each process (thread
 * group) gets one struct iofd_uaccess made by iofd_uaccess_for_pid(); it
 * lives until the table is freed, because mappings keep reading through it.
 */
#ifndef TRANSPORT_SERVER_CALLER_H
#define TRANSPORT_SERVER_CALLER_H

#include "include/iommusim/iommufd.h"

struct srv_caller_entry;

struct srv_callers {
	struct srv_caller_entry *by_tgid; /* uthash */
};

/* The thread group of thread tid, from /proc/<tid>/status; -ESRCH if gone. */
int srv_tgid_of(int tid);
/* The user access for the process of thread tid; NULL if it is gone or
 * memory ran out. */
const struct iofd_uaccess *srv_callers_get(struct srv_callers *tab, int tid);
void srv_callers_free(struct srv_callers *tab);

#endif
