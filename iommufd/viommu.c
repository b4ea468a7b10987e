/*
 * iommufd/viommu.c - vIOMMU and vDEVICE objects (IOMMU_VIOMMU_ALLOC,
 * IOMMU_VDEVICE_ALLOC; Linux 6.13 on, served at the newest ABI).
 *
 * A vIOMMU stands for the IOMMU instance a guest sees: it sits on a
 * nest-parent paging HWPT (the stage 2) and nested HWPTs and invalidation
 * commands can go through it; a vDEVICE gives a bound device its virtual ID
 * (the guest's StreamID) in one vIOMMU.  Rules, in Linux's order (6.17+
 * iommufd/viommu.c):
 *   VIOMMU_ALLOC: flags or type 0: EOPNOTSUPP; unknown dev_id: ENOENT; a
 *     driver without vIOMMUs, or a type or hardware it cannot take:
 *     EOPNOTSUPP; hwpt_id not a paging HWPT: ENOENT; not a nest parent:
 *     EINVAL; another IOMMU's: EINVAL.  The vIOMMU uses its HWPT (DESTROY
 *     of the HWPT: EBUSY) and is used by its vDEVICEs and nested HWPTs.
 *     Driver data (data_len, data_uptr; 6.17) goes to the driver's
 *     viommu_init; with data_len 0 it gets none.
 *   VDEVICE_ALLOC: unknown vIOMMU or device: ENOENT; a device of another
 *     driver: EINVAL; the device has a vDEVICE already, or virt_id is
 *     taken in this vIOMMU: EEXIST.  A device going away takes its vDEVICE
 *     with it.
 *   HW_QUEUE_ALLOC (6.17): flags or type 0: EOPNOTSUPP; length 0: EINVAL;
 *     iova + length - 1 wraps: EOVERFLOW; unknown vIOMMU: ENOENT; a driver
 *     or type without queues: EOPNOTSUPP; then the host pages under the
 *     range are pinned through the stage-2 parent's IOAS as Linux's
 *     internal access does (a hole: ENOENT; physically discontiguous:
 *     EFAULT) and the driver sets the queue up (its errnos).  The queue
 *     owns the pinned range: IOAS_UNMAP of an area holding any of it is
 *     EBUSY; the queue uses its vIOMMU.
 *
 * mmap(2) of the /dev/iommu descriptor (6.17) maps regions drivers hand
 * out offsets for (the selftest vIOMMU's page): Linux's iommufd_fops_mmap
 * rules, in order: not MAP_SHARED: EINVAL; PROT_EXEC: EPERM; no region
 * starting at the offset with exactly that (page-rounded) length: ENXIO.
 * A mapping uses the region's owner (DESTROY: EBUSY) until it is unmapped,
 * and holds the context as the kernel's mapping holds the file.  Regions
 * are memory files (memfd), so the program's mapping and the simulator's
 * view share the bytes.  Offsets are allocated from one host page up, the
 * lowest free range first.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memfd_create */
#endif
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "iommufd/iofd_int.h"

static void viommu_destroy(struct iofd_ctx *ctx, struct iofd_obj *obj)
{
	struct iofd_viommu *v = (struct iofd_viommu *)obj;
	if (v->drv->viommu_destroy)
		v->drv->viommu_destroy(ctx, v);
	v->hwpt->obj.users--;
	free(v);
}

int iofd_viommu_alloc_ioctl(struct iofd_ucmd *uc)
{
	struct iofd_viommu_alloc *cmd = uc->cmd;
	struct iofd_ctx *ctx = uc->ctx;
	if (cmd->flags || cmd->type == 0)
		return -EOPNOTSUPP;
	struct iofd_device *dev = iofd_device_find(ctx, cmd->dev_id);
	if (!dev)
		return -ENOENT;
	if (!dev->drv->viommu_alloc)
		return -EOPNOTSUPP;
	/* The driver's type and hardware checks come before the HWPT's (6.17). */
	int rc = dev->drv->viommu_alloc(dev, NULL, cmd->type);
	if (rc)
		return rc;
	struct iofd_hwpt *hwpt =
		(struct iofd_hwpt *)iofd_obj_find(ctx, cmd->hwpt_id, IOFD_OBJ_HWPT_PAGING);
	if (!hwpt)
		return -ENOENT;
	if (!hwpt->nest_parent)
		return -EINVAL;
	rc = dev->drv->viommu_alloc(dev, hwpt->domain, cmd->type);
	if (rc)
		return rc;
	struct iofd_viommu *v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	rc = iofd_obj_add(ctx, &v->obj, IOFD_OBJ_VIOMMU, viommu_destroy);
	if (rc) {
		free(v);
		return rc;
	}
	v->hwpt = hwpt;
	v->drv = dev->drv;
	v->type = cmd->type;
	if (dev->drv->viommu_init) {
		rc = dev->drv->viommu_init(ctx, v, cmd->data_uptr, cmd->data_len);
		if (rc) {
			/* Nothing of the driver's is left: undo without its destroy. */
			HASH_DEL(ctx->objects, &v->obj);
			free(v);
			return rc;
		}
	}
	hwpt->obj.users++;
	cmd->out_viommu_id = v->obj.id;
	rc = iofd_ucmd_respond(uc);
	if (rc)
		iofd_obj_del(ctx, &v->obj);
	return rc;
}

struct iofd_vdevice *iofd_viommu_find_vdev(struct iofd_viommu *v, uint64_t virt_id)
{
	for (struct iofd_vdevice *d = v->vdevs; d; d = d->next)
		if (d->virt_id == virt_id)
			return d;
	return NULL;
}

static void vdevice_destroy(struct iofd_ctx *ctx, struct iofd_obj *obj)
{
	(void)ctx;
	struct iofd_vdevice *vd = (struct iofd_vdevice *)obj;
	struct iofd_vdevice **pp = &vd->viommu->vdevs;
	while (*pp && *pp != vd)
		pp = &(*pp)->next;
	if (*pp)
		*pp = vd->next;
	vd->viommu->obj.users--;
	if (vd->dev)
		vd->dev->vdev = NULL;
	free(vd);
}

int iofd_vdevice_alloc_ioctl(struct iofd_ucmd *uc)
{
	struct iofd_vdevice_alloc *cmd = uc->cmd;
	struct iofd_ctx *ctx = uc->ctx;
	struct iofd_viommu *v =
		(struct iofd_viommu *)iofd_obj_find(ctx, cmd->viommu_id, IOFD_OBJ_VIOMMU);
	if (!v)
		return -ENOENT;
	struct iofd_device *dev = iofd_device_find(ctx, cmd->dev_id);
	if (!dev)
		return -ENOENT;
	if (dev->drv != v->drv)
		return -EINVAL;
	if (dev->vdev || iofd_viommu_find_vdev(v, cmd->virt_id))
		return -EEXIST;
	struct iofd_vdevice *vd = calloc(1, sizeof(*vd));
	if (!vd)
		return -ENOMEM;
	int rc = iofd_obj_add(ctx, &vd->obj, IOFD_OBJ_VDEVICE, vdevice_destroy);
	if (rc) {
		free(vd);
		return rc;
	}
	vd->viommu = v;
	vd->dev = dev;
	vd->virt_id = cmd->virt_id;
	vd->next = v->vdevs;
	v->vdevs = vd;
	v->obj.users++;
	dev->vdev = vd;
	cmd->out_vdevice_id = vd->obj.id;
	rc = iofd_ucmd_respond(uc);
	if (rc)
		iofd_obj_del(ctx, &vd->obj);
	return rc;
}

void iofd_vdevice_drop(struct iofd_ctx *ctx, struct iofd_device *dev)
{
	if (dev->vdev)
		iofd_obj_del(ctx, &dev->vdev->obj);
}

/* ------------------------------------------------------------------ */
/* HW queues */

static void hw_queue_unpin(struct iofd_hw_queue *q)
{
	for (size_t i = 0; i < q->nsegs; i++) {
		iofd_pages_unpin(q->segs[i].pages, q->segs[i].pages_off, q->segs[i].length);
		iopt_pages_put(q->segs[i].pages);
	}
	free(q->segs);
	q->segs = NULL;
	q->nsegs = 0;
}

static void hw_queue_destroy(struct iofd_ctx *ctx, struct iofd_obj *obj)
{
	(void)ctx;
	struct iofd_hw_queue *q = (struct iofd_hw_queue *)obj;
	struct iofd_viommu *v = q->viommu;
	if (v->drv->hw_queue_destroy)
		v->drv->hw_queue_destroy(q);
	struct iopt *iopt = &v->hwpt->ioas->iopt;
	for (struct iopt_lock **pp = &iopt->locks; *pp; pp = &(*pp)->next) {
		if (*pp == &q->lock) {
			*pp = q->lock.next;
			break;
		}
	}
	hw_queue_unpin(q);
	v->obj.users--;
	free(q);
}

/*
 * Pin the host pages under [base, base + length) of v's stage-2 IOAS, as
 * Linux's internal access does, and find the simulated physical address of
 * base.  The pages must be physically contiguous (the hardware reads the
 * queue by physical address).
 */
static int hw_queue_pin(struct iofd_viommu *v, struct iofd_hw_queue *q, uint64_t *base_pa)
{
	const uint64_t psz = iopt_page_size();
	uint64_t aligned = q->base_iova & ~(psz - 1), offset = q->base_iova - aligned, span;
	if (__builtin_add_overflow(offset, q->length, &span) ||
	    __builtin_add_overflow(span, psz - 1, &span))
		return -ERANGE;
	span &= ~(psz - 1);
	struct iopt *iopt = &v->hwpt->ioas->iopt;
	struct iopt_segment *segs;
	size_t nsegs, pinned = 0;
	int rc = iopt_collect_segments(iopt, aligned, span, &segs, &nsegs);
	if (rc)
		return rc;
	for (; pinned < nsegs; pinned++) {
		rc = iofd_pages_pin(segs[pinned].pages, segs[pinned].pages_off, segs[pinned].length);
		if (rc)
			break;
	}
	/* Every host page must follow the first one physically. */
	uint64_t first = 0, at = 0;
	for (size_t i = 0; !rc && i < nsegs; i++) {
		for (uint64_t o = 0; o < segs[i].length; o += psz) {
			uint64_t pa = iofd_pages_phys(segs[i].pages, segs[i].pages_off + o);
			if (i == 0 && o == 0)
				first = pa;
			else if (pa != first + at + o) {
				rc = -EFAULT;
				break;
			}
		}
		at += segs[i].length;
	}
	if (rc) {
		while (pinned--)
			iofd_pages_unpin(segs[pinned].pages, segs[pinned].pages_off,
					 segs[pinned].length);
		free(segs);
		return rc;
	}
	for (size_t i = 0; i < nsegs; i++)
		segs[i].pages->refs++;
	q->segs = segs;
	q->nsegs = nsegs;
	q->lock.start = aligned;
	q->lock.last = aligned + span - 1;
	*base_pa = first + offset;
	return 0;
}

int iofd_hw_queue_alloc_ioctl(struct iofd_ucmd *uc)
{
	struct iofd_hw_queue_alloc *cmd = uc->cmd;
	struct iofd_ctx *ctx = uc->ctx;
	uint64_t last;
	if (cmd->flags || cmd->type == 0)
		return -EOPNOTSUPP;
	if (!cmd->length)
		return -EINVAL;
	if (__builtin_add_overflow(cmd->nesting_parent_iova, cmd->length - 1, &last))
		return -EOVERFLOW;
	struct iofd_viommu *v =
		(struct iofd_viommu *)iofd_obj_find(ctx, cmd->viommu_id, IOFD_OBJ_VIOMMU);
	if (!v)
		return -ENOENT;
	if (!v->drv->hw_queue_check || !v->drv->hw_queue_init ||
	    v->drv->hw_queue_check(v, cmd->type))
		return -EOPNOTSUPP;
	struct iofd_hw_queue *q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->viommu = v;
	q->type = cmd->type;
	q->base_iova = cmd->nesting_parent_iova;
	q->length = cmd->length;
	uint64_t base_pa;
	int rc = hw_queue_pin(v, q, &base_pa);
	if (rc) {
		free(q);
		return rc;
	}
	rc = iofd_obj_add(ctx, &q->obj, IOFD_OBJ_HW_QUEUE, hw_queue_destroy);
	if (!rc) {
		rc = v->drv->hw_queue_init(v, q, cmd->index, base_pa);
		if (rc)
			HASH_DEL(ctx->objects, &q->obj);
	}
	if (rc) {
		hw_queue_unpin(q);
		free(q);
		return rc;
	}
	struct iopt *iopt = &v->hwpt->ioas->iopt;
	q->lock.next = iopt->locks;
	iopt->locks = &q->lock;
	v->obj.users++;
	cmd->out_hw_queue_id = q->obj.id;
	rc = iofd_ucmd_respond(uc);
	if (rc)
		iofd_obj_del(ctx, &q->obj);
	return rc;
}

/* ------------------------------------------------------------------ */
/* mmap regions */

struct iofd_mmap_region {
	struct iofd_mmap_region *next;
	struct iofd_obj *owner;
	uint64_t offset, length;
	int fd;     /* a memory file holding the bytes */
	void *host; /* the simulator's mapping of it */
};

struct iofd_mapping {
	struct iofd_ctx *ctx;
	struct iofd_obj *owner;
};

int iofd_mmap_region_add(struct iofd_ctx *ctx, struct iofd_obj *owner, uint64_t length,
			 void **host, uint64_t *offset)
{
	const uint64_t psz = iopt_page_size();
	if (!length || length % psz)
		return -EINVAL;
	/* The lowest free offset from one page up: regions are kept sorted. */
	uint64_t at = psz;
	struct iofd_mmap_region **pp = &ctx->mmaps;
	for (; *pp; pp = &(*pp)->next) {
		if ((*pp)->offset - at >= length)
			break;
		at = (*pp)->offset + (*pp)->length;
	}
	struct iofd_mmap_region *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->fd = memfd_create("iommusim-mmio", MFD_CLOEXEC);
	if (r->fd < 0 || ftruncate(r->fd, (off_t)length)) {
		if (r->fd >= 0)
			close(r->fd);
		free(r);
		return -ENOMEM;
	}
	r->host = mmap(NULL, length, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
	if (r->host == MAP_FAILED) {
		close(r->fd);
		free(r);
		return -ENOMEM;
	}
	r->owner = owner;
	r->offset = at;
	r->length = length;
	r->next = *pp;
	*pp = r;
	*host = r->host;
	*offset = at;
	return 0;
}

void iofd_mmap_region_remove(struct iofd_ctx *ctx, uint64_t offset)
{
	for (struct iofd_mmap_region **pp = &ctx->mmaps; *pp; pp = &(*pp)->next) {
		struct iofd_mmap_region *r = *pp;
		if (r->offset != offset)
			continue;
		*pp = r->next;
		munmap(r->host, r->length);
		close(r->fd);
		free(r);
		return;
	}
}

int iofd_mmap(struct iofd_ctx *ctx, uint64_t offset, uint64_t length, int prot, int flags,
	      int *fd, struct iofd_mapping **out)
{
	const uint64_t psz = iopt_page_size();
	if (ctx->abi != IOFD_ABI_NEWEST)
		return -ENODEV; /* 6.12's /dev/iommu has no mmap */
	if (!length || offset % psz)
		return -EINVAL; /* what mmap(2) itself refuses */
	length = (length + psz - 1) & ~(psz - 1);
	if (!(flags & MAP_SHARED))
		return -EINVAL;
	if (prot & PROT_EXEC)
		return -EPERM;
	struct iofd_mmap_region *r = ctx->mmaps;
	while (r && r->offset != offset)
		r = r->next;
	if (!r || r->length != length)
		return -ENXIO;
	struct iofd_mapping *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->ctx = iofd_get(ctx);
	m->owner = r->owner;
	r->owner->users++;
	*fd = r->fd;
	*out = m;
	return 0;
}

void iofd_munmap(struct iofd_mapping *m)
{
	if (!m)
		return;
	m->owner->users--;
	iofd_ctx_put(m->ctx);
	free(m);
}
