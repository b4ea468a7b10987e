/*
 * vfio/vfio_int.h - private declarations of the emulated VFIO device.
 */
#ifndef VFIO_VFIO_INT_H
#define VFIO_VFIO_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <iommusim/vfio.h>

/* The PCI function behind the device (pci_dev.c). */
struct vfio_pci_state {
	uint8_t cfg[256]; /* configuration space as software sees it */
	uint32_t bar0;    /* BAR0 as programmed (sizing included) */
	uint64_t src, dst, len, status, fault;
	uint64_t pasid; /* the PASID register (VFIO_DEV_PASID_EN | PASID) */
};

struct vfio_dev {
	uint32_t sid;
	struct iofd_ctx *ctx; /* bound to (referenced through the transport) */
	uint32_t dev_id;      /* its device object in ctx */
	bool bound;
	struct vfio_pci_state pci;
};

/* Region indexes of vfio-pci (include/uapi/linux/vfio.h). */
enum {
	VFIO_RGN_BAR0 = 0,
	VFIO_RGN_ROM = 6,
	VFIO_RGN_CONFIG = 7,
	VFIO_RGN_VGA = 8,
	VFIO_RGN_NUM = 9,
};
#define VFIO_RGN_SHIFT 40 /* region offset = index << 40 */

void vfio_pci_reset(struct vfio_pci_state *p);
long vfio_pci_config_rw(struct vfio_dev *d, void *buf, size_t len, uint64_t off, bool write);
long vfio_pci_bar0_rw(struct vfio_dev *d, void *buf, size_t len, uint64_t off, bool write);

#endif
