/*
 * iommufd/device.c - bound devices and their attachment to HWPTs.
 *
 * A device object is a device handed to this context (by the selftest's
 * MOCK_DOMAIN today; by VFIO_DEVICE_BIND_IOMMUFD in a VMM).  It is attached
 * to at most one HWPT; with none it is blocked.  Linux's rules, kept here:
 *   - attaching to an IOAS reuses the first automatic domain of that IOAS
 *     the driver accepts (a driver's EINVAL means "incompatible, try the
 *     next"; any other error stops), else allocates a new automatic paging
 *     HWPT, attaching before its domain is filled;
 *   - attaching while attached to another HWPT is EINVAL; replacing needs
 *     an attachment and swaps it atomically (same HWPT: nothing to do);
 *   - an attachment is a user of both the device and the HWPT, so neither
 *     can be destroyed under it (EBUSY); an automatic HWPT disappears with
 *     its last device.
 * PASID attachments (Linux 6.15's iommufd_device_attach/replace/detach
 * with a pasid, iommufd_hwpt_pasid_compat, iommu_attach_device_pasid):
 *   - PASID 0 is IOMMU_NO_PASID: the RID attachment above;
 *   - attaching where the PASID is already attached: EBUSY (whatever the
 *     HWPT, the same one too); replacing where it is not: EINVAL;
 *     replacing with the same HWPT: nothing to do; detaching where it is
 *     not: nothing to do;
 *   - the HWPT must have been allocated with IOMMU_HWPT_ALLOC_PASID, and
 *     the RID's HWPT too if the RID is attached: else EINVAL; while any
 *     PASID is attached, attaching the RID to a HWPT without the flag is
 *     EINVAL;
 *   - an IOAS at a PASID: the automatic domains are allocated without the
 *     flag, so none can serve: EINVAL (EBUSY first if the PASID is
 *     attached and this is not a replace);
 *   - a driver without PASID support: EOPNOTSUPP; another driver's HWPT
 *     or a PASID at or beyond 2^max_pasid_log2 (a device without PASIDs
 *     has none): EINVAL;
 *   - each PASID attachment is a user of the device and of the HWPT, as
 *     the RID's is; destroying the device detaches them all (VFIO's
 *     unbind does the same).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "iommufd/iofd_int.h"

static void iofd_device_destroy(struct iofd_ctx *ctx, struct iofd_obj *obj)
{
	struct iofd_device *dev = (struct iofd_device *)obj;
	iofd_device_pasid_detach_all(ctx, dev);
	if (dev->hwpt)
		iofd_device_detach(ctx, dev);
	free(dev->pasids);
	iofd_vdevice_drop(ctx, dev);
	if (dev->drv->device_release)
		dev->drv->device_release(dev);
	free(dev);
}

int iofd_device_bind(struct iofd_ctx *ctx, const struct iofd_driver *drv, void *drv_data,
		     struct iofd_device **out)
{
	struct iofd_device *dev = calloc(1, sizeof(*dev));
	if (!dev)
		return -ENOMEM;
	dev->drv = drv;
	dev->drv_data = drv_data;
	/* iommufd always asks for cache-coherent DMA. */
	if (drv->capable && !drv->capable(dev, IOFD_CAP_CACHE_COHERENCY)) {
		free(dev);
		return -EINVAL;
	}
	int rc = iofd_obj_add(ctx, &dev->obj, IOFD_OBJ_DEVICE, iofd_device_destroy);
	if (rc) {
		free(dev);
		return rc;
	}
	*out = dev;
	return 0;
}

/* Linux's iommufd_hw_pagetable_attach for a device that is its own group. */
int iofd_device_attach_hwpt(struct iofd_device *dev, struct iofd_hwpt *hwpt)
{
	if (dev->hwpt && dev->hwpt != hwpt)
		return -EINVAL;
	if (hwpt->drv != dev->drv)
		return -EINVAL;
	/* PASIDs hang off the RID's configuration (a VT-d context entry's
	 * PASID table, an SMMUv3 STE's CD table): the RID's domain must be
	 * usable with them. */
	if (dev->npasids && !hwpt->pasid_compat)
		return -EINVAL;
	int rc = dev->drv->attach ? dev->drv->attach(dev, hwpt->domain) : 0;
	if (rc)
		return rc;
	dev->hwpt = hwpt;
	hwpt->obj.users++;
	return 0;
}

void iofd_hwpt_put(struct iofd_ctx *ctx, struct iofd_hwpt *hwpt)
{
	hwpt->obj.users--;
	if (hwpt->obj.type == IOFD_OBJ_HWPT_PAGING && hwpt->auto_domain && !hwpt->obj.users)
		iofd_obj_del(ctx, &hwpt->obj);
}

static int hwpt_replace(struct iofd_ctx *ctx, struct iofd_device *dev, struct iofd_hwpt *hwpt)
{
	if (!dev->hwpt)
		return -EINVAL;
	if (hwpt == dev->hwpt)
		return 0;
	if (hwpt->drv != dev->drv || (dev->npasids && !hwpt->pasid_compat))
		return -EINVAL;
	int rc = dev->drv->attach ? dev->drv->attach(dev, hwpt->domain) : 0;
	if (rc)
		return rc;
	struct iofd_hwpt *old = dev->hwpt;
	dev->hwpt = hwpt;
	hwpt->obj.users++;
	if (old->fault)
		iofd_fault_drop_device(old->fault, dev->obj.id);
	iofd_hwpt_put(ctx, old);
	return 0;
}

static int attach_or_replace(struct iofd_ctx *ctx, struct iofd_device *dev,
			     struct iofd_hwpt *hwpt, bool replace)
{
	return replace ? hwpt_replace(ctx, dev, hwpt) : iofd_device_attach_hwpt(dev, hwpt);
}

static int auto_get_domain(struct iofd_ctx *ctx, struct iofd_device *dev, struct iofd_ioas *ioas,
			   uint32_t *pt_id, bool replace)
{
	for (struct iofd_hwpt *h = ioas->hwpts; h; h = h->next_in_ioas) {
		if (!h->auto_domain)
			continue;
		int rc = attach_or_replace(ctx, dev, h, replace);
		if (rc == -EINVAL)
			continue; /* incompatible: try the next */
		if (rc)
			return rc;
		*pt_id = h->obj.id;
		return 0;
	}
	struct iofd_hwpt *hwpt;
	int rc = iofd_hwpt_paging_alloc(ctx, ioas, dev, 0, true, !replace, &hwpt);
	if (rc)
		return rc;
	if (replace) {
		rc = hwpt_replace(ctx, dev, hwpt);
		if (rc) {
			iofd_obj_del(ctx, &hwpt->obj);
			return rc;
		}
	}
	*pt_id = hwpt->obj.id;
	return 0;
}

int iofd_device_attach(struct iofd_ctx *ctx, struct iofd_device *dev, uint32_t *pt_id,
		       bool replace)
{
	struct iofd_obj *pt = iofd_obj_find(ctx, *pt_id, 0);
	if (!pt)
		return -ENOENT;
	int rc;
	switch (pt->type) {
	case IOFD_OBJ_HWPT_PAGING:
	case IOFD_OBJ_HWPT_NESTED:
		rc = attach_or_replace(ctx, dev, (struct iofd_hwpt *)pt, replace);
		break;
	case IOFD_OBJ_IOAS:
		rc = auto_get_domain(ctx, dev, (struct iofd_ioas *)pt, pt_id, replace);
		break;
	default:
		return -EINVAL;
	}
	if (!rc && !replace)
		dev->obj.users++; /* the attachment pins the device */
	return rc;
}

void iofd_device_detach(struct iofd_ctx *ctx, struct iofd_device *dev)
{
	struct iofd_hwpt *hwpt = dev->hwpt;
	if (!hwpt)
		return;
	if (dev->drv->detach)
		dev->drv->detach(dev, hwpt->domain);
	dev->hwpt = NULL;
	dev->obj.users--;
	if (hwpt->fault)
		iofd_fault_drop_device(hwpt->fault, dev->obj.id);
	iofd_hwpt_put(ctx, hwpt);
}

enum iofd_abi iofd_ctx_abi(const struct iofd_ctx *ctx)
{
	return ctx->abi;
}

/* ------------------------------------------------------------------ */
/* PASID attachments */

static struct iofd_pasid_attach *pasid_find(struct iofd_device *dev, uint32_t pasid)
{
	for (unsigned i = 0; i < dev->npasids; i++)
		if (dev->pasids[i].pasid == pasid)
			return &dev->pasids[i];
	return NULL;
}

struct iofd_hwpt *iofd_device_pasid_hwpt(struct iofd_device *dev, uint32_t pasid)
{
	if (!pasid)
		return dev->hwpt;
	struct iofd_pasid_attach *a = pasid_find(dev, pasid);
	return a ? a->hwpt : NULL;
}

/* May hwpt serve dev at pasid?  (iommufd_hwpt_pasid_compat, then
 * iommu_attach_device_pasid's checks.) */
static int pasid_check(struct iofd_device *dev, uint32_t pasid, struct iofd_hwpt *hwpt)
{
	if (!hwpt->pasid_compat || (dev->hwpt && !dev->hwpt->pasid_compat))
		return -EINVAL;
	if (!dev->drv->attach_pasid)
		return -EOPNOTSUPP;
	if (hwpt->drv != dev->drv || !dev->max_pasid_log2 ||
	    (dev->max_pasid_log2 < 32 && pasid >> dev->max_pasid_log2))
		return -EINVAL;
	return 0;
}

static int pasid_attach_hwpt(struct iofd_device *dev, uint32_t pasid, struct iofd_hwpt *hwpt)
{
	if (pasid_find(dev, pasid))
		return -EBUSY;
	int rc = pasid_check(dev, pasid, hwpt);
	if (rc)
		return rc;
	if (dev->npasids == dev->cpasids) {
		unsigned n = dev->cpasids ? 2 * dev->cpasids : 4;
		struct iofd_pasid_attach *p = realloc(dev->pasids, n * sizeof(*p));
		if (!p)
			return -ENOMEM;
		dev->pasids = p;
		dev->cpasids = n;
	}
	rc = dev->drv->attach_pasid(dev, pasid, hwpt->domain, NULL);
	if (rc)
		return rc;
	dev->pasids[dev->npasids++] = (struct iofd_pasid_attach){pasid, hwpt};
	hwpt->obj.users++;
	dev->obj.users++; /* as the RID's attachment, it pins the device */
	return 0;
}

static int pasid_replace_hwpt(struct iofd_ctx *ctx, struct iofd_device *dev, uint32_t pasid,
			      struct iofd_hwpt *hwpt)
{
	struct iofd_pasid_attach *a = pasid_find(dev, pasid);
	if (!a)
		return -EINVAL;
	if (a->hwpt == hwpt)
		return 0;
	int rc = pasid_check(dev, pasid, hwpt);
	if (rc)
		return rc;
	struct iofd_hwpt *old = a->hwpt;
	rc = dev->drv->attach_pasid(dev, pasid, hwpt->domain, old->domain);
	if (rc)
		return rc;
	a->hwpt = hwpt;
	hwpt->obj.users++;
	/* Requests still waiting in the old HWPT's queue are answered, as
	 * Linux's auto-response does (the model keys them by device). */
	if (old->fault)
		iofd_fault_drop_device(old->fault, dev->obj.id);
	iofd_hwpt_put(ctx, old);
	return 0;
}

int iofd_device_pasid_attach(struct iofd_ctx *ctx, struct iofd_device *dev, uint32_t pasid,
			     uint32_t *pt_id, bool replace)
{
	if (!pasid)
		return iofd_device_attach(ctx, dev, pt_id, replace);
	struct iofd_obj *pt = iofd_obj_find(ctx, *pt_id, 0);
	if (!pt)
		return -ENOENT;
	switch (pt->type) {
	case IOFD_OBJ_HWPT_PAGING:
	case IOFD_OBJ_HWPT_NESTED:
		return replace ? pasid_replace_hwpt(ctx, dev, pasid, (struct iofd_hwpt *)pt)
			       : pasid_attach_hwpt(dev, pasid, (struct iofd_hwpt *)pt);
	case IOFD_OBJ_IOAS:
		/* Linux tries each automatic domain of the IOAS and then a new
		 * one, all allocated without IOMMU_HWPT_ALLOC_PASID: every try
		 * fails its PASID-compatibility check (EINVAL), after the
		 * "already attached" check of a plain attach (EBUSY).  The
		 * outcome is the same without making and dropping a domain. */
		return !replace && pasid_find(dev, pasid) ? -EBUSY : -EINVAL;
	default:
		return -EINVAL;
	}
}

void iofd_device_pasid_detach(struct iofd_ctx *ctx, struct iofd_device *dev, uint32_t pasid)
{
	if (!pasid) {
		iofd_device_detach(ctx, dev);
		return;
	}
	struct iofd_pasid_attach *a = pasid_find(dev, pasid);
	if (!a)
		return;
	struct iofd_hwpt *hwpt = a->hwpt;
	if (dev->drv->detach_pasid)
		dev->drv->detach_pasid(dev, pasid, hwpt->domain);
	*a = dev->pasids[--dev->npasids];
	dev->obj.users--;
	if (hwpt->fault)
		iofd_fault_drop_device(hwpt->fault, dev->obj.id);
	iofd_hwpt_put(ctx, hwpt);
}

void iofd_device_pasid_detach_all(struct iofd_ctx *ctx, struct iofd_device *dev)
{
	while (dev->npasids)
		iofd_device_pasid_detach(ctx, dev, dev->pasids[dev->npasids - 1].pasid);
}

int iofd_copy_driver_data(struct iofd_ctx *ctx, void *dst, size_t size, size_t min_len,
			  uint64_t uptr, uint32_t len)
{
	/* Linux 6.12 takes driver data of exactly a size it knows: between
	 * its first version and its current struct. */
	if (len < min_len || len > size)
		return -EINVAL;
	memset(dst, 0, size);
	return ctx->ua->read(ctx->ua->opaque, uptr, dst, len) ? -EFAULT : 0;
}

/* GET_HW_INFO */
int iofd_get_hw_info(struct iofd_ucmd *uc)
{
	struct iofd_hw_info *cmd = uc->cmd;
	struct iofd_ctx *ctx = uc->ctx;
	/* FLAG_INPUT_TYPE came after 6.12, but the selftest shipped with
	 * Debian's 6.12 sends it, so every ABI level takes it. */
	if ((cmd->flags & ~IOFD_HW_INFO_FLAG_INPUT_TYPE) || cmd->reserved[0] ||
	    cmd->reserved[1] || cmd->reserved[2])
		return -EOPNOTSUPP;
	struct iofd_device *dev = iofd_device_find(ctx, cmd->dev_id);
	if (!dev)
		return -ENOENT;
	uint8_t data[256] = {0};
	uint32_t len = sizeof(data), type = IOFD_HW_INFO_TYPE_NONE;
	if (dev->drv->hw_info) {
		int rc = dev->drv->hw_info(dev, data, &len, &type);
		if (rc)
			return rc;
	} else {
		len = 0;
	}
	if ((cmd->flags & IOFD_HW_INFO_FLAG_INPUT_TYPE) && cmd->data_type != IOFD_HW_INFO_TYPE_NONE &&
	    cmd->data_type != type)
		return -EOPNOTSUPP;
	uint32_t copy = cmd->data_len < len ? cmd->data_len : len;
	if (ctx->ua->write(ctx->ua->opaque, cmd->data_uptr, data, copy))
		return -EFAULT;
	/* Zero the rest of a larger buffer. */
	static const uint8_t zero[256];
	for (uint64_t off = copy; off < cmd->data_len;) {
		uint64_t n = cmd->data_len - off < sizeof(zero) ? cmd->data_len - off : sizeof(zero);
		if (ctx->ua->write(ctx->ua->opaque, cmd->data_uptr + off, zero, n))
			return -EFAULT;
		off += n;
	}
	cmd->data_len = len;
	cmd->data_type = type;
	cmd->out_capabilities = 0;
	if (dev->drv->capable && dev->drv->capable(dev, IOFD_CAP_DIRTY_TRACKING))
		cmd->out_capabilities |= IOFD_HW_CAP_DIRTY_TRACKING;
	cmd->out_max_pasid_log2 = dev->max_pasid_log2;
	return iofd_ucmd_respond(uc);
}
