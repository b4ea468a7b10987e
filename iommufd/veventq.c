/*
 * iommufd/veventq.c - IOMMU_VEVENTQ_ALLOC and its descriptor (Linux 6.15
 * on, served at the newest ABI).
 *
 * A vEVENT queue carries one type of event from one vIOMMU to the VMM:
 * the SMMUv3 event records of a guest's devices, the selftest's
 * {virt_id}.  Rules, from Linux's uAPI header and iommufd/eventq.c:
 *   ALLOC: flags, __reserved or type DEFAULT (0): EOPNOTSUPP; depth 0 or
 *     above 1 << 19 (Linux 7.2's bound): EINVAL; unknown vIOMMU: ENOENT; a queue of that type on that vIOMMU
 *     already: EEXIST.  The queue uses its vIOMMU (DESTROY of the vIOMMU:
 *     EBUSY) and its open descriptor uses the queue.
 *   Queueing: every vEVENT gets the next sequence number (0..INT32_MAX,
 *     then 0 again).  With `depth` events waiting, a new one is lost: the
 *     queue ends instead in a header with LOST_EVENTS and no data, which
 *     takes a sequence number of its own and which the next event queued
 *     replaces (its sequence then shows the gap).
 *   read: offset must be 0 (ESPIPE); a count below the header's 8 bytes
 *     (0 too), or a buffer too small for the first vEVENT: EINVAL (Linux
 *     7.2's "reject invalid read count"); whole vEVENTs only (header +
 *     data), as many as fit; one that does not fit ends the read; a
 *     lost-events header needs only its 8 bytes.  write is not a queue
 *     operation (EINVAL).
 *   poll: POLLIN while something waits; never POLLOUT (nothing to write).
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "iommufd/iofd_int.h"

#define IOFD_VEVENTQ_MAX_DEPTH (1u << 19)

struct vevent {
	struct vevent *next;
	uint32_t sequence;
	uint32_t len;
	uint8_t data[];
};

struct iofd_veventq {
	struct iofd_obj obj;
	struct iofd_viommu *viommu;
	struct iofd_veventq *next; /* in viommu->veventqs */
	uint32_t type;
	uint32_t depth;
	uint32_t num_events; /* queued vEVENTs (the lost header not counted) */
	uint32_t sequence;   /* the next one to hand out */
	struct vevent *head, **tail;
	bool lost;           /* a lost-events header ends the queue */
	uint32_t lost_sequence;
};

static uint32_t veventq_next_sequence(struct iofd_veventq *q)
{
	uint32_t s = q->sequence;
	q->sequence = (q->sequence + 1) & INT32_MAX;
	return s;
}

int iofd_viommu_report_event(struct iofd_viommu *v, uint32_t type, const void *data, size_t len)
{
	struct iofd_veventq *q = v->veventqs;
	while (q && q->type != type)
		q = q->next;
	if (!q)
		return -EOPNOTSUPP;
	struct vevent *e = NULL;
	if (q->num_events < q->depth)
		e = malloc(sizeof(*e) + len);
	/* Whatever comes next replaces a trailing lost-events header. */
	q->lost = false;
	if (!e) {
		/* Full (or out of memory, as Linux records it): a loss. */
		q->lost = true;
		q->lost_sequence = veventq_next_sequence(q);
		return q->num_events < q->depth ? -ENOMEM : 0;
	}
	e->next = NULL;
	e->len = (uint32_t)len;
	memcpy(e->data, data, len);
	e->sequence = veventq_next_sequence(q);
	*q->tail = e;
	q->tail = &e->next;
	q->num_events++;
	return 0;
}

static long veventq_read(struct iofd_file *file, void *buf, size_t len, uint64_t offset)
{
	struct iofd_veventq *q = file->priv;
	const size_t hsz = sizeof(struct iofd_vevent_header);
	if (offset)
		return -ESPIPE;
	if (len < hsz)
		return -EINVAL;
	size_t done = 0;
	while (q->head) {
		struct vevent *e = q->head;
		if (len - done < hsz + e->len) {
			if (!done)
				return -EINVAL; /* not even the first one fits */
			break;
		}
		struct iofd_vevent_header h = {.flags = 0, .sequence = e->sequence};
		memcpy((char *)buf + done, &h, hsz);
		memcpy((char *)buf + done + hsz, e->data, e->len);
		done += hsz + e->len;
		q->head = e->next;
		if (!q->head)
			q->tail = &q->head;
		q->num_events--;
		free(e);
	}
	if (!q->head && q->lost && len - done >= hsz) {
		struct iofd_vevent_header h = {.flags = IOFD_VEVENTQ_FLAG_LOST_EVENTS,
					       .sequence = q->lost_sequence};
		memcpy((char *)buf + done, &h, hsz);
		done += hsz;
		q->lost = false;
	}
	return (long)done;
}

static unsigned veventq_poll(struct iofd_file *file)
{
	struct iofd_veventq *q = file->priv;
	return q->head || q->lost ? POLLIN | POLLRDNORM : 0;
}

static void veventq_release(struct iofd_file *file)
{
	struct iofd_veventq *q = file->priv;
	q->obj.users--;
}

static const struct iofd_file_ops veventq_fops = {
	.read = veventq_read,
	.poll = veventq_poll,
	.release = veventq_release,
};

static void veventq_destroy(struct iofd_ctx *ctx, struct iofd_obj *obj)
{
	(void)ctx;
	struct iofd_veventq *q = (struct iofd_veventq *)obj;
	struct iofd_veventq **pp = &q->viommu->veventqs;
	while (*pp && *pp != q)
		pp = &(*pp)->next;
	if (*pp)
		*pp = q->next;
	while (q->head) {
		struct vevent *e = q->head;
		q->head = e->next;
		free(e);
	}
	q->viommu->obj.users--;
	free(q);
}

int iofd_veventq_alloc_ioctl(struct iofd_ucmd *uc)
{
	struct iofd_veventq_alloc *cmd = uc->cmd;
	struct iofd_ctx *ctx = uc->ctx;
	if (cmd->flags || cmd->reserved || cmd->type == 0)
		return -EOPNOTSUPP;
	if (!cmd->veventq_depth || cmd->veventq_depth > IOFD_VEVENTQ_MAX_DEPTH)
		return -EINVAL;
	struct iofd_viommu *v =
		(struct iofd_viommu *)iofd_obj_find(ctx, cmd->viommu_id, IOFD_OBJ_VIOMMU);
	if (!v)
		return -ENOENT;
	for (struct iofd_veventq *o = v->veventqs; o; o = o->next)
		if (o->type == cmd->type)
			return -EEXIST;
	struct iofd_veventq *q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	int rc = iofd_obj_add(ctx, &q->obj, IOFD_OBJ_VEVENTQ, veventq_destroy);
	if (rc) {
		free(q);
		return rc;
	}
	q->viommu = v;
	q->type = cmd->type;
	q->depth = cmd->veventq_depth;
	q->tail = &q->head;
	q->next = v->veventqs;
	v->veventqs = q;
	v->obj.users++;
	cmd->out_veventq_id = q->obj.id;
	/* On failure this deletes the queue (and with it the links above). */
	return iofd_file_respond(uc, &q->obj, &veventq_fops, q, &cmd->out_veventq_fd);
}
