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
 *   VDEVICE_ALLOC: unknown vIOMMU or device: ENOENT; a device of another
 *     driver: EINVAL; the device has a vDEVICE already, or virt_id is
 *     taken in this vIOMMU: EEXIST.  A device going away takes its vDEVICE
 *     with it.
 */
#include <errno.h>
#include <stdlib.h>

#include "iommufd/iofd_int.h"

static void viommu_destroy(struct iofd_ctx *ctx, struct iofd_obj *obj)
{
	(void)ctx;
	struct iofd_viommu *v = (struct iofd_viommu *)obj;
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
