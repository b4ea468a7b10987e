/*
 * iommufd/fault.c - IOMMU_FAULT_QUEUE_ALLOC and its descriptor.
 *
 * A fault queue object collects the page requests of devices attached to
 * HWPTs allocated with its ID.  Its descriptor reads them as 40-byte
 * records (whole groups only) and takes 8-byte responses naming a record's
 * cookie.  The rules are Linux's:
 *   - read and write need offset 0 and a multiple of the record size
 *     (ESPIPE otherwise);
 *   - a read returns the groups that fit; if the first does not, EINVAL;
 *     nothing queued reads as 0 bytes;
 *   - a delivered group waits for its response under a cookie, the lowest
 *     free number from 1; a response with an unknown cookie or a code other
 *     than SUCCESS/INVALID stops the write with EINVAL (or the count so far);
 *   - poll is always writable, readable when something is queued;
 *   - the open descriptor counts as a user of the object (DESTROY: EBUSY).
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "iommufd/iofd_int.h"

struct iofd_fault_group {
	struct iofd_fault_group *next;
	uint32_t cookie; /* 0 until delivered */
	uint32_t count;
	struct iofd_hwpt_pgfault rec[]; /* count records */
};

static void group_list_free(struct iofd_fault_group *g)
{
	while (g) {
		struct iofd_fault_group *next = g->next;
		free(g);
		g = next;
	}
}

static void iofd_fault_destroy(struct iofd_ctx *ctx, struct iofd_obj *obj)
{
	(void)ctx;
	struct iofd_fault *fault = (struct iofd_fault *)obj;
	group_list_free(fault->pending);
	group_list_free(fault->delivered);
	free(fault);
}

int iofd_fault_report(struct iofd_fault *fault, const struct iofd_hwpt_pgfault *recs,
		      uint32_t count)
{
	struct iofd_fault_group *g = malloc(sizeof(*g) + count * sizeof(*recs));
	if (!g)
		return -ENOMEM;
	g->next = NULL;
	g->cookie = 0;
	g->count = count;
	memcpy(g->rec, recs, count * sizeof(*recs));
	struct iofd_fault_group **tail = &fault->pending;
	while (*tail)
		tail = &(*tail)->next;
	*tail = g;
	return 0;
}

/* The lowest cookie from 1 no delivered group holds. */
static uint32_t fault_free_cookie(struct iofd_fault *fault)
{
	for (uint32_t c = 1;; c++) {
		struct iofd_fault_group *g = fault->delivered;
		while (g && g->cookie != c)
			g = g->next;
		if (!g)
			return c;
	}
}

static long fault_read(struct iofd_file *file, void *buf, size_t len, uint64_t offset)
{
	struct iofd_fault *fault = file->priv;
	const size_t rec = sizeof(struct iofd_hwpt_pgfault);
	if (offset || len % rec)
		return -ESPIPE;
	size_t done = 0;
	while (fault->pending) {
		struct iofd_fault_group *g = fault->pending;
		if (g->count * rec > len - done) {
			if (!done)
				return -EINVAL;
			break;
		}
		g->cookie = fault_free_cookie(fault);
		for (uint32_t i = 0; i < g->count; i++) {
			struct iofd_hwpt_pgfault r = g->rec[i];
			r.cookie = g->cookie;
			memcpy((char *)buf + done, &r, rec);
			done += rec;
		}
		fault->pending = g->next;
		g->next = fault->delivered;
		fault->delivered = g;
	}
	return (long)done;
}

static long fault_write(struct iofd_file *file, const void *buf, size_t len, uint64_t offset)
{
	struct iofd_fault *fault = file->priv;
	const size_t rsz = sizeof(struct iofd_hwpt_page_response);
	if (offset || len % rsz)
		return -ESPIPE;
	size_t done = 0;
	long rc = 0;
	while (done < len) {
		struct iofd_hwpt_page_response r;
		memcpy(&r, (const char *)buf + done, rsz);
		rc = -EINVAL;
		if (r.code != IOFD_PAGE_RESP_SUCCESS && r.code != IOFD_PAGE_RESP_INVALID)
			break;
		struct iofd_fault_group **pp = &fault->delivered;
		while (*pp && (*pp)->cookie != r.cookie)
			pp = &(*pp)->next;
		if (!*pp)
			break;
		rc = 0;
		struct iofd_fault_group *g = *pp;
		*pp = g->next;
		free(g); /* the device's request is answered */
		fault->responses++;
		done += rsz;
	}
	return done ? (long)done : rc;
}

/* Drop the groups of device dev_id, queued or awaiting a response: the
 * device left the HWPT, so its requests are answered INVALID for it. */
static void drop_dev(struct iofd_fault_group **pp, uint32_t dev_id)
{
	while (*pp) {
		struct iofd_fault_group *g = *pp;
		if (g->count && g->rec[0].dev_id == dev_id) {
			*pp = g->next;
			free(g);
		} else {
			pp = &g->next;
		}
	}
}

void iofd_fault_drop_device(struct iofd_fault *fault, uint32_t dev_id)
{
	drop_dev(&fault->pending, dev_id);
	drop_dev(&fault->delivered, dev_id);
}

static unsigned fault_poll(struct iofd_file *file)
{
	struct iofd_fault *fault = file->priv;
	return POLLOUT | (fault->pending ? POLLIN | POLLRDNORM : 0);
}

static void fault_release(struct iofd_file *file)
{
	struct iofd_fault *fault = file->priv;
	fault->obj.users--;
}

static const struct iofd_file_ops fault_fops = {
	.read = fault_read,
	.write = fault_write,
	.poll = fault_poll,
	.release = fault_release,
};

int iofd_fault_alloc(struct iofd_ucmd *uc)
{
	struct iofd_fault_alloc *cmd = uc->cmd;
	if (cmd->flags)
		return -EOPNOTSUPP;
	struct iofd_fault *fault = calloc(1, sizeof(*fault));
	if (!fault)
		return -ENOMEM;
	int rc = iofd_obj_add(uc->ctx, &fault->obj, IOFD_OBJ_FAULT, iofd_fault_destroy);
	if (rc) {
		free(fault);
		return rc;
	}
	cmd->out_fault_id = fault->obj.id;
	return iofd_file_respond(uc, &fault->obj, &fault_fops, fault, &cmd->out_fault_fd);
}
