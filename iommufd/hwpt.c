/*
 * iommufd/hwpt.c - HW page tables: IOMMU_HWPT_ALLOC, dirty tracking and
 * IOMMU_HWPT_INVALIDATE.
 *
 * A paging HWPT owns a domain that mirrors an IOAS (iopt_domain.c keeps it
 * in step); with NEST_PARENT it may become the stage 2 of nested HWPTs,
 * whose domains the driver builds from the caller's stage-1 data.  Each
 * handler checks in Linux's order and undoes everything on failure.
 * IOMMU_HWPT_ALLOC_PASID (newest ABI) marks a HWPT, paging or nested, as
 * one a device may attach at a PASID (the rules are in device.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "iommufd/iofd_int.h"

static void hwpt_unlink(struct iofd_hwpt *hwpt)
{
	struct iofd_hwpt **pp = &hwpt->ioas->hwpts;
	while (*pp && *pp != hwpt)
		pp = &(*pp)->next_in_ioas;
	if (*pp)
		*pp = hwpt->next_in_ioas;
}

static void iofd_hwpt_destroy(struct iofd_ctx *ctx, struct iofd_obj *obj)
{
	(void)ctx;
	struct iofd_hwpt *hwpt = (struct iofd_hwpt *)obj;
	if (hwpt->ioas) {
		hwpt_unlink(hwpt);
		iopt_table_remove_domain(&hwpt->ioas->iopt, hwpt->domain);
		hwpt->ioas->obj.users--;
	}
	if (hwpt->viommu)
		hwpt->viommu->obj.users--;
	else if (hwpt->parent)
		hwpt->parent->obj.users--;
	if (hwpt->fault)
		hwpt->fault->obj.users--;
	if (hwpt->domain)
		hwpt->domain->ops->free(hwpt->domain);
	free(hwpt);
}

int iofd_hwpt_paging_alloc(struct iofd_ctx *ctx, struct iofd_ioas *ioas, struct iofd_device *dev,
			   uint32_t flags, bool auto_domain, bool attach, struct iofd_hwpt **out)
{
	uint32_t valid = IOFD_HWPT_ALLOC_NEST_PARENT | IOFD_HWPT_ALLOC_DIRTY_TRACKING;
	/* IOMMU_HWPT_ALLOC_PASID is newer than 6.12, which refuses the bit. */
	if (ctx->abi != IOFD_ABI_6_12)
		valid |= IOFD_HWPT_ALLOC_PASID;
	if (flags & ~valid)
		return -EOPNOTSUPP;
	if ((flags & IOFD_HWPT_ALLOC_DIRTY_TRACKING) &&
	    !(dev->drv->capable && dev->drv->capable(dev, IOFD_CAP_DIRTY_TRACKING)))
		return -EOPNOTSUPP;
	struct iofd_hwpt *hwpt = calloc(1, sizeof(*hwpt));
	if (!hwpt)
		return -ENOMEM;
	int rc = iofd_obj_add(ctx, &hwpt->obj, IOFD_OBJ_HWPT_PAGING, iofd_hwpt_destroy);
	if (rc) {
		free(hwpt);
		return rc;
	}
	hwpt->drv = dev->drv;
	hwpt->auto_domain = auto_domain;
	hwpt->nest_parent = flags & IOFD_HWPT_ALLOC_NEST_PARENT;
	hwpt->pasid_compat = flags & IOFD_HWPT_ALLOC_PASID;
	rc = dev->drv->domain_alloc_paging(dev, flags, &hwpt->domain);
	if (rc)
		goto fail;
	if (attach) {
		rc = iofd_device_attach_hwpt(dev, hwpt);
		if (rc)
			goto fail;
	}
	rc = iopt_table_add_domain(&ioas->iopt, hwpt->domain);
	if (rc) {
		if (attach) {
			if (dev->drv->detach)
				dev->drv->detach(dev, hwpt->domain);
			dev->hwpt = NULL;
			hwpt->obj.users--;
		}
		goto fail;
	}
	hwpt->ioas = ioas;
	ioas->obj.users++;
	/* Append: automatic domains are tried oldest first. */
	struct iofd_hwpt **pp = &ioas->hwpts;
	while (*pp)
		pp = &(*pp)->next_in_ioas;
	*pp = hwpt;
	*out = hwpt;
	return 0;
fail:
	iofd_obj_del(ctx, &hwpt->obj);
	return rc;
}

/* A nested HWPT over a nest-parent paging HWPT, or through a vIOMMU
 * (Linux's iommufd_hwpt_nested_alloc / iommufd_viommu_alloc_hwpt_nested):
 * one of parent and v is given. */
static int hwpt_nested_alloc(struct iofd_ctx *ctx, struct iofd_hwpt *parent,
			     struct iofd_viommu *v, struct iofd_device *dev,
			     const struct iofd_hwpt_alloc *cmd, struct iofd_hwpt **out)
{
	if (v && v->drv != dev->drv)
		return -EINVAL;
	bool can = v ? v->drv->viommu_alloc_nested != NULL : dev->drv->domain_alloc_nested != NULL;
	uint32_t valid = IOFD_HWPT_FAULT_ID_VALID;
	if (ctx->abi != IOFD_ABI_6_12)
		valid |= IOFD_HWPT_ALLOC_PASID;
	if ((cmd->flags & ~valid) || !cmd->data_len || !can)
		return -EOPNOTSUPP;
	if (!v && (parent->auto_domain || !parent->nest_parent || parent->drv != dev->drv))
		return -EINVAL;
	struct iofd_hwpt *hwpt = calloc(1, sizeof(*hwpt));
	if (!hwpt)
		return -ENOMEM;
	int rc = iofd_obj_add(ctx, &hwpt->obj, IOFD_OBJ_HWPT_NESTED, iofd_hwpt_destroy);
	if (rc) {
		free(hwpt);
		return rc;
	}
	hwpt->drv = dev->drv;
	hwpt->pasid_compat = cmd->flags & IOFD_HWPT_ALLOC_PASID;
	hwpt->viommu = v;
	hwpt->parent = v ? v->hwpt : parent;
	if (v)
		v->obj.users++;
	else
		parent->obj.users++;
	uint32_t flags = cmd->flags & ~IOFD_HWPT_FAULT_ID_VALID;
	rc = v ? v->drv->viommu_alloc_nested(ctx, v, dev, flags, cmd->data_type, cmd->data_uptr,
					    cmd->data_len, &hwpt->domain)
	       : dev->drv->domain_alloc_nested(ctx, dev, parent->domain, flags, cmd->data_type,
					       cmd->data_uptr, cmd->data_len, &hwpt->domain);
	if (rc) {
		iofd_obj_del(ctx, &hwpt->obj);
		return rc;
	}
	*out = hwpt;
	return 0;
}

int iofd_hwpt_alloc(struct iofd_ucmd *uc)
{
	struct iofd_hwpt_alloc *cmd = uc->cmd;
	struct iofd_ctx *ctx = uc->ctx;
	if (cmd->reserved)
		return -EOPNOTSUPP;
	if ((cmd->data_type == IOFD_HWPT_DATA_NONE) != (cmd->data_len == 0))
		return -EINVAL;
	struct iofd_device *dev = iofd_device_find(ctx, cmd->dev_id);
	if (!dev)
		return -ENOENT;
	struct iofd_obj *pt = iofd_obj_find(ctx, cmd->pt_id, 0);
	if (!pt)
		return -EINVAL;
	struct iofd_hwpt *hwpt;
	int rc;
	if (pt->type == IOFD_OBJ_IOAS) {
		if (cmd->data_len)
			return -EOPNOTSUPP; /* no driver takes data for a paging domain */
		rc = iofd_hwpt_paging_alloc(ctx, (struct iofd_ioas *)pt, dev, cmd->flags, false,
					    false, &hwpt);
	} else if (pt->type == IOFD_OBJ_HWPT_PAGING) {
		rc = hwpt_nested_alloc(ctx, (struct iofd_hwpt *)pt, NULL, dev, cmd, &hwpt);
	} else if (pt->type == IOFD_OBJ_VIOMMU) {
		rc = hwpt_nested_alloc(ctx, NULL, (struct iofd_viommu *)pt, dev, cmd, &hwpt);
	} else {
		return -EINVAL;
	}
	if (rc)
		return rc;
	if (cmd->flags & IOFD_HWPT_FAULT_ID_VALID) {
		struct iofd_fault *fault =
			(struct iofd_fault *)iofd_obj_find(ctx, cmd->fault_id, IOFD_OBJ_FAULT);
		if (!fault) {
			iofd_obj_del(ctx, &hwpt->obj);
			return -ENOENT;
		}
		hwpt->fault = fault;
		fault->obj.users++;
	}
	cmd->out_hwpt_id = hwpt->obj.id;
	rc = iofd_ucmd_respond(uc);
	if (rc)
		iofd_obj_del(ctx, &hwpt->obj);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Dirty tracking */

int iofd_hwpt_set_dirty_tracking(struct iofd_ucmd *uc)
{
	struct iofd_hwpt_set_dirty_tracking *cmd = uc->cmd;
	if (cmd->flags & ~IOFD_HWPT_DIRTY_TRACKING_ENABLE)
		return -EOPNOTSUPP;
	struct iofd_hwpt *hwpt =
		(struct iofd_hwpt *)iofd_obj_find(uc->ctx, cmd->hwpt_id, IOFD_OBJ_HWPT_PAGING);
	if (!hwpt)
		return -ENOENT;
	struct iofd_domain *d = hwpt->domain;
	if (!d->dirty_ops || !d->ops->set_dirty_tracking)
		return -EOPNOTSUPP;
	bool enable = cmd->flags & IOFD_HWPT_DIRTY_TRACKING_ENABLE;
	if (enable) {
		/* Start from a clean snapshot: clear every area's dirty bits. */
		struct iopt *iopt = &hwpt->ioas->iopt;
		for (struct iopt_node *n = iopt_tree_min(&iopt->areas); n;
		     n = iopt_tree_succ(&iopt->areas, n))
			d->ops->read_and_clear_dirty(d, n->start, n->last - n->start + 1, false,
						     NULL, NULL);
	}
	return d->ops->set_dirty_tracking(d, enable);
}

/* Bits are gathered in a window of the caller's bitmap and written back
 * with one read-modify-write of the window (the caller's other bits stay
 * as they are), not one user copy per bit. */
#define DIRTY_WINDOW 512 /* bytes: 4096 pages */

struct dirty_bitmap {
	struct iofd_ctx *ctx;
	uint64_t iova, last, page_size, data;
	int rc;
	uint64_t win_start; /* the window's first byte, from data */
	size_t win_len;     /* bytes up to the last one with a bit; 0: empty */
	uint8_t win[DIRTY_WINDOW];
};

static void dirty_flush(struct dirty_bitmap *b)
{
	const struct iofd_uaccess *ua = b->ctx->ua;
	uint8_t cur[DIRTY_WINDOW];
	if (b->win_len && !b->rc) {
		if (ua->read(ua->opaque, b->data + b->win_start, cur, b->win_len)) {
			b->rc = -EFAULT;
		} else {
			for (size_t i = 0; i < b->win_len; i++)
				cur[i] |= b->win[i];
			if (ua->write(ua->opaque, b->data + b->win_start, cur, b->win_len))
				b->rc = -EFAULT;
		}
	}
	b->win_len = 0;
}

/* Set the bits of [iova, iova + size) in the caller's bitmap. */
static void dirty_record(void *arg, uint64_t iova, uint64_t size)
{
	struct dirty_bitmap *b = arg;
	uint64_t last = iova + size - 1;
	if (b->rc || last < b->iova || iova > b->last)
		return;
	if (iova < b->iova)
		iova = b->iova;
	if (last > b->last)
		last = b->last;
	for (uint64_t bit = (iova - b->iova) / b->page_size; bit <= (last - b->iova) / b->page_size;
	     bit++) {
		uint64_t byte = bit / 8;
		if (b->win_len && (byte < b->win_start || byte - b->win_start >= DIRTY_WINDOW))
			dirty_flush(b);
		if (!b->win_len) {
			b->win_start = byte;
			memset(b->win, 0, sizeof(b->win));
		}
		if (byte - b->win_start >= b->win_len)
			b->win_len = (size_t)(byte - b->win_start) + 1;
		b->win[byte - b->win_start] |= (uint8_t)(1u << (bit % 8));
	}
}

int iofd_hwpt_get_dirty_bitmap(struct iofd_ucmd *uc)
{
	struct iofd_hwpt_get_dirty_bitmap *cmd = uc->cmd;
	if ((cmd->flags & ~IOFD_HWPT_GET_DIRTY_BITMAP_NO_CLEAR) || cmd->reserved)
		return -EOPNOTSUPP;
	struct iofd_hwpt *hwpt =
		(struct iofd_hwpt *)iofd_obj_find(uc->ctx, cmd->hwpt_id, IOFD_OBJ_HWPT_PAGING);
	if (!hwpt)
		return -ENOENT;
	struct iopt *iopt = &hwpt->ioas->iopt;
	uint64_t align = iopt->iova_alignment, last;
	if (!cmd->length)
		return -EINVAL;
	if (__builtin_add_overflow(cmd->iova, cmd->length - 1, &last))
		return -EOVERFLOW;
	if ((cmd->iova & (align - 1)) || ((last + 1) & (align - 1)))
		return -EINVAL;
	if (!cmd->page_size)
		return -EINVAL;
	if ((cmd->iova & (cmd->page_size - 1)) || ((last + 1) & (cmd->page_size - 1)))
		return -EINVAL;
	struct iofd_domain *d = hwpt->domain;
	if (!d->dirty_ops || !d->ops->read_and_clear_dirty)
		return -EOPNOTSUPP;
	struct dirty_bitmap b = {.ctx = uc->ctx, .iova = cmd->iova, .last = last,
				 .page_size = cmd->page_size, .data = cmd->data};
	bool no_clear = cmd->flags & IOFD_HWPT_GET_DIRTY_BITMAP_NO_CLEAR;
	/* Walk the areas that run on from iova without a gap, stopping at the
	 * first gap; as in Linux 6.12, neither the gap nor a driver error
	 * (tracking off) is reported. */
	uint64_t want = cmd->iova;
	struct iopt_node *n;
	iopt_for_each(&iopt->areas, n, cmd->iova, last) {
		if (n->start > want)
			break;
		uint64_t l = n->last < last ? n->last : last;
		d->ops->read_and_clear_dirty(d, want, l - want + 1, no_clear, dirty_record, &b);
		if (l == last)
			break;
		want = l + 1;
	}
	dirty_flush(&b);
	return b.rc;
}

/* ------------------------------------------------------------------ */
/* IOMMU_HWPT_INVALIDATE */

int iofd_hwpt_invalidate(struct iofd_ucmd *uc)
{
	struct iofd_hwpt_invalidate *cmd = uc->cmd;
	struct iofd_ctx *ctx = uc->ctx;
	uint32_t done = 0;
	int rc = 0;
	if (cmd->reserved) {
		rc = -EOPNOTSUPP;
		goto out;
	}
	if (cmd->entry_num && (!cmd->data_uptr || !cmd->entry_len ||
			       cmd->entry_len > iopt_page_size() ||
			       cmd->entry_num > IOFD_INVALIDATE_ENTRY_NUM_MAX)) {
		rc = -EINVAL;
		goto out;
	}
	struct iofd_obj *obj = iofd_obj_find(ctx, cmd->hwpt_id, 0);
	if (obj && obj->type == IOFD_OBJ_VIOMMU) {
		struct iofd_viommu *v = (struct iofd_viommu *)obj;
		if (!v->drv->viommu_cache_invalidate) {
			rc = -EOPNOTSUPP;
			goto out;
		}
		done = cmd->entry_num;
		rc = v->drv->viommu_cache_invalidate(ctx, v, cmd->data_type, cmd->data_uptr,
						     cmd->entry_len, &done);
		goto out;
	}
	if (!obj || obj->type != IOFD_OBJ_HWPT_NESTED) {
		/* 6.12 looked the ID up as a nested HWPT (ENOENT for any other
		 * object); later kernels take any HWPT and reject the rest with
		 * EINVAL. */
		rc = (!obj || ctx->abi == IOFD_ABI_6_12) ? -ENOENT : -EINVAL;
		goto out;
	}
	struct iofd_hwpt *hwpt = (struct iofd_hwpt *)obj;
	if (!hwpt->drv->cache_invalidate_user) {
		rc = -EOPNOTSUPP;
		goto out;
	}
	done = cmd->entry_num;
	rc = hwpt->drv->cache_invalidate_user(ctx, hwpt->domain, cmd->data_type, cmd->data_uptr,
					      cmd->entry_len, &done);
out:
	cmd->entry_num = done;
	if (iofd_ucmd_respond(uc))
		return -EFAULT;
	return rc;
}
