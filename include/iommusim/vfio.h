/*
 * iommusim/vfio.h - an emulated VFIO device (cdev) with a DMA engine.
 *
 * A VMM reaches a passthrough device through its VFIO character device
 * (/dev/vfio/devices/vfioN): it binds it to an open /dev/iommu
 * (VFIO_DEVICE_BIND_IOMMUFD), attaches it to an IOAS or HWPT, reads its
 * regions and programs it with pread/pwrite at region offsets.  This
 * module is such a device, served by one call per ioctl or access; a
 * transport (the preload) gives it a descriptor.  The device sits behind
 * the host IOMMU (iofd_host_*), so its DMA is translated by the modelled
 * VT-d or SMMUv3 through whatever the VMM attached.
 *
 * The device: a conventional PCI function (vendor 0x1234, device 0x0105,
 * no capabilities, no interrupts) with one 4 KiB memory BAR of DMA-engine
 * registers (little-endian, 64-bit):
 *   0x00 ID       reads VFIO_DEV_ID_MAGIC
 *   0x08 SRC      source IOVA
 *   0x10 DST      destination IOVA
 *   0x18 LEN      bytes to copy (up to 1 MiB)
 *   0x20 CMD      write 1: copy LEN bytes from SRC to DST through the IOMMU
 *   0x28 STATUS   0 done, 1 translation fault, 2 bad command
 *   0x30 FAULT    the faulting IOVA after a translation fault
 *   0x38 PASID    bit 31 (VFIO_DEV_PASID_EN) set: the copy's requests carry
 *                 the PASID / SubstreamID in bits 19:0 (a PCIe PASID TLP
 *                 prefix); clear: requests without one (the RID's)
 * The device may use as many PASID bits as the host IOMMU gives it (the
 * device's max_pasid_log2 in GET_HW_INFO); it has no PCI PASID capability
 * structure of its own (its configuration space is the conventional 256
 * bytes).  A VMM attaches a PASID with VFIO_DEVICE_ATTACH_IOMMUFD_PT's
 * VFIO_DEVICE_ATTACH_PASID flag (newest ABI).
 */
#ifndef IOMMUSIM_VFIO_H
#define IOMMUSIM_VFIO_H

#include <stddef.h>
#include <stdint.h>

#include <iommusim/iommufd.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VFIO_DEV_VENDOR 0x1234
#define VFIO_DEV_DEVICE 0x0105
#define VFIO_DEV_ID_MAGIC UINT64_C(0x696f6d6d7573696d) /* "iommusim" */
#define VFIO_DEV_BAR0_SIZE 4096u

enum {
	VFIO_DEV_REG_ID = 0x00,
	VFIO_DEV_REG_SRC = 0x08,
	VFIO_DEV_REG_DST = 0x10,
	VFIO_DEV_REG_LEN = 0x18,
	VFIO_DEV_REG_CMD = 0x20,
	VFIO_DEV_REG_STATUS = 0x28,
	VFIO_DEV_REG_FAULT = 0x30,
	VFIO_DEV_REG_PASID = 0x38,
};

#define VFIO_DEV_PASID_EN (1u << 31)
#define VFIO_DEV_PASID_MASK 0xfffffu /* 20-bit PCIe PASIDs */

enum { VFIO_DEV_ST_DONE = 0, VFIO_DEV_ST_FAULT = 1, VFIO_DEV_ST_BAD = 2 };

struct vfio_dev;

/* How a device finds the /dev/iommu context a BIND_IOMMUFD names by
 * descriptor (the caller's fd number); NULL: not an iommufd (EBADF). */
typedef struct iofd_ctx *(*vfio_ctx_of_fd_fn)(void *opaque, int fd);

/* A device with requester ID / StreamID `sid`; NULL when out of memory. */
struct vfio_dev *vfio_dev_new(uint32_t sid);
/* Close it: unbinds from its iommufd (detaching it first). */
void vfio_dev_free(struct vfio_dev *d);
uint32_t vfio_dev_sid(const struct vfio_dev *d);

/*
 * One ioctl on the device's descriptor, with the kernel's answers
 * (drivers/vfio/vfio_main.c, device_cdev.c, pci/vfio_pci_core.c): before
 * BIND_IOMMUFD everything else is EINVAL; unknown requests are ENOTTY.
 * `ua` reaches the caller's memory.
 */
long vfio_dev_ioctl(struct vfio_dev *d, const struct iofd_uaccess *ua, vfio_ctx_of_fd_fn ctx_of,
		    void *opaque, unsigned long request, uint64_t arg);

/* pread/pwrite at a region offset (region index << 40 | offset): a byte
 * count or a negative errno. */
long vfio_dev_read(struct vfio_dev *d, void *buf, size_t len, uint64_t offset);
long vfio_dev_write(struct vfio_dev *d, const void *buf, size_t len, uint64_t offset);

#ifdef __cplusplus
}
#endif

#endif
