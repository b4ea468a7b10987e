/*
 * vfio/device.c - the VFIO device file: cdev binding to iommufd and the
 * vfio-pci ioctls.
 *
 * Rules from Linux 6.12 (drivers/vfio/vfio_main.c, device_cdev.c,
 * iommufd.c, pci/vfio_pci_core.c) and include/uapi/linux/vfio.h:
 *   - every request is _IO(';', 100 + n); before BIND_IOMMUFD every other
 *     ioctl is EINVAL;
 *   - BIND_IOMMUFD {argsz, flags, iommufd, out_devid}: argsz below 16,
 *     flags, or a negative fd: EINVAL; bound already: EINVAL; the fd is not
 *     an iommufd: EBADF; out_devid is the new device object's ID;
 *   - ATTACH_IOMMUFD_PT {argsz, flags, pt_id}: argsz below 12 or flags:
 *     EINVAL; attaching again replaces; pt_id is written back;
 *   - DETACH_IOMMUFD_PT {argsz, flags}: argsz below 8 or flags: EINVAL;
 *   - with the newest ABI (Linux 6.15, device_cdev.c and iommufd.c's
 *     vfio_iommufd_physical_pasid_attach_ioas): ATTACH takes the flag
 *     ATTACH_PASID (1) with {.., pasid} (16 bytes, argsz below 16:
 *     EINVAL) and DETACH the flag DETACH_PASID (1) with {.., pasid} (12
 *     bytes, argsz below 12: EINVAL); other flags: EINVAL.  A PASID
 *     attached already is replaced; pt_id is written back (a failed write
 *     detaches the PASID, as the RID's is detached); detaching an
 *     unattached PASID does nothing.  Attaching PASID 0 through the flag
 *     is EINVAL: it is the RID's (VT-d's RID_PASID, SMMUv3's SSID 0),
 *     reached without the flag, so detaching it through the flag does
 *     nothing;
 *   - GET_INFO: argsz below 16: EINVAL; flags PCI | RESET, 9 regions, 5
 *     interrupt types;
 *   - GET_REGION_INFO: argsz below 32: EINVAL; index 8 (VGA) or beyond:
 *     EINVAL; offset = index << 40; absent BARs and the ROM have size 0
 *     and no flags;
 *   - GET_IRQ_INFO: argsz below 16 or index >= 5: EINVAL; ERR (3) exists
 *     only for PCI Express: EINVAL here; counts are 0 (no interrupts);
 *   - SET_IRQS: with no interrupts every request is EINVAL;
 *   - RESET: the function returns to its power-on state;
 *   - VFIO_DEVICE_FEATURE: no features: ENOTTY;
 *   - anything else: ENOTTY.
 * No mmap of BAR0: a VMM reads and writes it through pread/pwrite.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vfio/vfio_int.h"

#define VFIO_REQ(n) ((unsigned long)((';' << 8) | (100 + (n))))
enum {
	NR_GET_INFO = 7,
	NR_GET_REGION_INFO = 8,
	NR_GET_IRQ_INFO = 9,
	NR_SET_IRQS = 10,
	NR_RESET = 11,
	NR_FEATURE = 17,
	NR_BIND = 18,
	NR_ATTACH = 19,
	NR_DETACH = 20,
};

#define DEVICE_FLAGS_RESET (1u << 0)
#define DEVICE_FLAGS_PCI (1u << 1)
#define REGION_READ (1u << 0)
#define REGION_WRITE (1u << 1)
#define NUM_IRQS 5
#define IRQ_ERR 3

struct vfio_bind {
	uint32_t argsz, flags;
	int32_t iommufd;
	uint32_t out_devid;
};

struct vfio_attach {
	uint32_t argsz, flags, pt_id, pasid; /* pasid: with ATTACH_PASID only */
};

struct vfio_detach {
	uint32_t argsz, flags, pasid; /* pasid: with DETACH_PASID only */
};

#define ATTACH_PASID (1u << 0) /* VFIO_DEVICE_ATTACH_PASID */
#define DETACH_PASID (1u << 0) /* VFIO_DEVICE_DETACH_PASID */

struct vfio_device_info {
	uint32_t argsz, flags, num_regions, num_irqs, cap_offset, pad;
};

struct vfio_region_info {
	uint32_t argsz, flags, index, cap_offset;
	uint64_t size, offset;
};

struct vfio_irq_info {
	uint32_t argsz, flags, index, count;
};

struct vfio_dev *vfio_dev_new(uint32_t sid)
{
	struct vfio_dev *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->sid = sid;
	vfio_pci_reset(&d->pci);
	return d;
}

void vfio_dev_free(struct vfio_dev *d)
{
	if (!d)
		return;
	if (d->bound) {
		iofd_host_unbind(d->ctx, d->dev_id);
		iofd_close(d->ctx);
	}
	free(d);
}

uint32_t vfio_dev_sid(const struct vfio_dev *d)
{
	return d->sid;
}

/* Read the fixed part (minsz bytes) of the caller's struct. */
static int get(const struct iofd_uaccess *ua, uint64_t arg, void *dst, size_t minsz)
{
	return ua->read(ua->opaque, arg, dst, minsz) ? -EFAULT : 0;
}

static int put(const struct iofd_uaccess *ua, uint64_t arg, const void *src, size_t n)
{
	return ua->write(ua->opaque, arg, src, n) ? -EFAULT : 0;
}

static long do_bind(struct vfio_dev *d, const struct iofd_uaccess *ua, vfio_ctx_of_fd_fn ctx_of,
		    void *opaque, uint64_t arg)
{
	struct vfio_bind b;
	int rc = get(ua, arg, &b, sizeof(b));
	if (rc)
		return rc;
	if (b.argsz < sizeof(b) || b.flags || b.iommufd < 0 || d->bound)
		return -EINVAL;
	struct iofd_ctx *ctx = ctx_of ? ctx_of(opaque, b.iommufd) : NULL;
	if (!ctx)
		return -EBADF;
	uint32_t id;
	rc = iofd_host_bind(ctx, d->sid, &id);
	if (rc)
		return rc;
	rc = put(ua, arg + offsetof(struct vfio_bind, out_devid), &id, sizeof(id));
	if (rc) {
		iofd_host_unbind(ctx, id);
		return rc;
	}
	d->ctx = iofd_get(ctx);
	d->dev_id = id;
	d->bound = true;
	return 0;
}

/* The flags this context's ABI knows: 6.12 has none. */
static uint32_t pasid_flag(const struct vfio_dev *d, uint32_t flag)
{
	return iofd_ctx_abi(d->ctx) == IOFD_ABI_6_12 ? 0 : flag;
}

static long do_attach(struct vfio_dev *d, const struct iofd_uaccess *ua, uint64_t arg)
{
	struct vfio_attach a;
	const size_t minsz = offsetof(struct vfio_attach, pasid);
	int rc = get(ua, arg, &a, minsz);
	if (rc)
		return rc;
	if (a.argsz < minsz || (a.flags & ~pasid_flag(d, ATTACH_PASID)))
		return -EINVAL;
	bool at_pasid = a.flags & ATTACH_PASID;
	if (at_pasid) {
		/* The extension is read only when the flag asks for it. */
		if (a.argsz < sizeof(a))
			return -EINVAL;
		rc = get(ua, arg + minsz, &a.pasid, sizeof(a.pasid));
		if (rc)
			return rc;
		if (!a.pasid)
			return -EINVAL;
	}
	rc = at_pasid ? iofd_host_attach_pasid(d->ctx, d->dev_id, a.pasid, &a.pt_id)
		      : iofd_host_attach(d->ctx, d->dev_id, &a.pt_id);
	if (rc)
		return rc;
	rc = put(ua, arg + offsetof(struct vfio_attach, pt_id), &a.pt_id, sizeof(a.pt_id));
	if (rc) {
		/* As Linux: the attachment goes, even one that replaced another. */
		if (at_pasid)
			iofd_host_detach_pasid(d->ctx, d->dev_id, a.pasid);
		else
			iofd_host_detach(d->ctx, d->dev_id);
	}
	return rc;
}

static long do_detach(struct vfio_dev *d, const struct iofd_uaccess *ua, uint64_t arg)
{
	struct vfio_detach x;
	const size_t minsz = offsetof(struct vfio_detach, pasid);
	int rc = get(ua, arg, &x, minsz);
	if (rc)
		return rc;
	if (x.argsz < minsz || (x.flags & ~pasid_flag(d, DETACH_PASID)))
		return -EINVAL;
	if (!(x.flags & DETACH_PASID))
		return iofd_host_detach(d->ctx, d->dev_id);
	if (x.argsz < sizeof(x))
		return -EINVAL;
	rc = get(ua, arg + minsz, &x.pasid, sizeof(x.pasid));
	if (rc)
		return rc;
	/* PASID 0 is never attached through the flag: nothing to detach. */
	return x.pasid ? iofd_host_detach_pasid(d->ctx, d->dev_id, x.pasid) : 0;
}

static long get_info(const struct iofd_uaccess *ua, uint64_t arg)
{
	struct vfio_device_info info = {0};
	const size_t minsz = offsetof(struct vfio_device_info, cap_offset);
	int rc = get(ua, arg, &info, minsz);
	if (rc)
		return rc;
	if (info.argsz < minsz)
		return -EINVAL;
	info.flags = DEVICE_FLAGS_PCI | DEVICE_FLAGS_RESET;
	info.num_regions = VFIO_RGN_NUM;
	info.num_irqs = NUM_IRQS;
	return put(ua, arg, &info, minsz);
}

static long get_region_info(const struct iofd_uaccess *ua, uint64_t arg)
{
	struct vfio_region_info info;
	int rc = get(ua, arg, &info, sizeof(info));
	if (rc)
		return rc;
	if (info.argsz < sizeof(info) || info.index >= VFIO_RGN_VGA)
		return -EINVAL;
	info.offset = (uint64_t)info.index << VFIO_RGN_SHIFT;
	info.cap_offset = 0;
	info.size = 0;
	info.flags = 0;
	if (info.index == VFIO_RGN_BAR0 || info.index == VFIO_RGN_CONFIG) {
		info.size = info.index == VFIO_RGN_BAR0 ? VFIO_DEV_BAR0_SIZE : 256;
		info.flags = REGION_READ | REGION_WRITE;
	}
	return put(ua, arg, &info, sizeof(info));
}

static long get_irq_info(const struct iofd_uaccess *ua, uint64_t arg)
{
	struct vfio_irq_info info;
	int rc = get(ua, arg, &info, sizeof(info));
	if (rc)
		return rc;
	if (info.argsz < sizeof(info) || info.index >= NUM_IRQS || info.index == IRQ_ERR)
		return -EINVAL;
	/* vfio_pci_ioctl_get_irq_info: EVENTFD always; INTx maskable and
	 * automasked; the others (bar dynamic MSI-X) NORESIZE. */
	info.flags = 1u << 0;
	info.flags |= info.index == 0 ? (1u << 1) | (1u << 2) : (1u << 3);
	info.count = 0;
	return put(ua, arg, &info, sizeof(info));
}

long vfio_dev_ioctl(struct vfio_dev *d, const struct iofd_uaccess *ua, vfio_ctx_of_fd_fn ctx_of,
		    void *opaque, unsigned long request, uint64_t arg)
{
	if (request == VFIO_REQ(NR_BIND))
		return do_bind(d, ua, ctx_of, opaque, arg);
	if (!d->bound)
		return -EINVAL;
	if (request == VFIO_REQ(NR_ATTACH))
		return do_attach(d, ua, arg);
	if (request == VFIO_REQ(NR_DETACH))
		return do_detach(d, ua, arg);
	if (request == VFIO_REQ(NR_GET_INFO))
		return get_info(ua, arg);
	if (request == VFIO_REQ(NR_GET_REGION_INFO))
		return get_region_info(ua, arg);
	if (request == VFIO_REQ(NR_GET_IRQ_INFO))
		return get_irq_info(ua, arg);
	if (request == VFIO_REQ(NR_SET_IRQS))
		return -EINVAL;
	if (request == VFIO_REQ(NR_RESET)) {
		vfio_pci_reset(&d->pci);
		return 0;
	}
	return -ENOTTY; /* NR_FEATURE: no features; the rest unknown */
}

static long region_rw(struct vfio_dev *d, void *buf, size_t len, uint64_t offset, bool write)
{
	uint64_t index = offset >> VFIO_RGN_SHIFT;
	uint64_t off = offset & ((UINT64_C(1) << VFIO_RGN_SHIFT) - 1);
	if (!d->bound || index >= VFIO_RGN_NUM)
		return -EINVAL;
	if (!len)
		return 0;
	if (index == VFIO_RGN_CONFIG)
		return vfio_pci_config_rw(d, buf, len, off, write);
	if (index == VFIO_RGN_BAR0)
		return vfio_pci_bar0_rw(d, buf, len, off, write);
	return -EINVAL; /* absent BARs, no ROM, no VGA */
}

long vfio_dev_read(struct vfio_dev *d, void *buf, size_t len, uint64_t offset)
{
	return region_rw(d, buf, len, offset, false);
}

long vfio_dev_write(struct vfio_dev *d, const void *buf, size_t len, uint64_t offset)
{
	return region_rw(d, (void *)buf, len, offset, true);
}
