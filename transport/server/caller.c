/*
 * transport/server/caller.c - user access for each client process.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <uthash.h>

#include "transport/server/caller.h"

struct srv_caller_entry {
	UT_hash_handle hh;
	int tgid;
	struct iofd_uaccess ua;
};

int srv_tgid_of(int tid)
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

const struct iofd_uaccess *srv_callers_get(struct srv_callers *tab, int tid)
{
	int tgid = srv_tgid_of(tid);
	if (tgid < 0)
		return NULL;
	struct srv_caller_entry *e;
	HASH_FIND_INT(tab->by_tgid, &tgid, e);
	if (e)
		return &e->ua;
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->tgid = tgid;
	iofd_uaccess_for_pid(&e->ua, tgid);
	HASH_ADD_INT(tab->by_tgid, tgid, e);
	return &e->ua;
}

void srv_callers_free(struct srv_callers *tab)
{
	struct srv_caller_entry *e, *tmp;
	HASH_ITER(hh, tab->by_tgid, e, tmp) {
		HASH_DEL(tab->by_tgid, e);
		free(e);
	}
}
