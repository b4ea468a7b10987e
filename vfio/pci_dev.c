/*
 * vfio/pci_dev.c - the PCI function behind the emulated VFIO device: its
 * configuration space and a DMA engine in BAR0 (registers in
 * include/iommusim/vfio.h).
 *
 * Configuration space follows the PCI Local Bus Specification 3.0, 6.1-6.2
 * (type 0 header), as VFIO presents it (drivers/vfio/pci/vfio_pci_config.c
 * virtualises the BARs):
 *   0x00 vendor, 0x02 device, 0x04 command (memory space and bus master
 *   writable), 0x08 revision and class (0x088000: other system peripheral),
 *   0x0e header type 0, 0x10 BAR0: 32-bit non-prefetchable memory, sized by
 *   writing all ones (reads back ~(size - 1) with the type bits), 0x14-0x24
 *   BAR1-5 and 0x30 the ROM BAR: not implemented, read 0 and ignore
 *   writes, 0x2c subsystem IDs, 0x34 no capabilities, 0x3c interrupt line
 *   (writable), 0x3d interrupt pin 0 (no INTx).
 * Accesses are byte-granular: any length and alignment within the 256
 * bytes, as vfio-pci allows.
 */
#include <errno.h>
#include <string.h>

#include <iommusim/iommu.h>

#include "vfio/vfio_int.h"

#define CFG_VENDOR 0x00
#define CFG_DEVICE 0x02
#define CFG_COMMAND 0x04
#define CFG_REVISION 0x08
#define CFG_HEADER 0x0e
#define CFG_BAR0 0x10
#define CFG_SUBSYS_VENDOR 0x2c
#define CFG_SUBSYS 0x2e
#define CFG_INT_LINE 0x3c
#define CMD_WRITABLE 0x0006 /* memory space enable, bus master enable */
#define DMA_MAX (UINT64_C(1) << 20)

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

void vfio_pci_reset(struct vfio_pci_state *p)
{
	memset(p, 0, sizeof(*p));
	put16(p->cfg + CFG_VENDOR, VFIO_DEV_VENDOR);
	put16(p->cfg + CFG_DEVICE, VFIO_DEV_DEVICE);
	p->cfg[CFG_REVISION + 2] = 0x80; /* subclass: other */
	p->cfg[CFG_REVISION + 3] = 0x08; /* class: system peripheral */
	p->cfg[CFG_HEADER] = 0;
	put16(p->cfg + CFG_SUBSYS_VENDOR, VFIO_DEV_VENDOR);
	put16(p->cfg + CFG_SUBSYS, VFIO_DEV_DEVICE);
}

static void cfg_write_byte(struct vfio_pci_state *p, unsigned at, uint8_t v)
{
	if (at >= CFG_COMMAND && at < CFG_COMMAND + 2) {
		uint16_t mask = CMD_WRITABLE;
		unsigned sh = 8 * (at - CFG_COMMAND);
		p->cfg[at] = (uint8_t)((p->cfg[at] & ~(mask >> sh)) | (v & (mask >> sh)));
	} else if (at >= CFG_BAR0 && at < CFG_BAR0 + 4) {
		unsigned sh = 8 * (at - CFG_BAR0);
		p->bar0 = (p->bar0 & ~(UINT32_C(0xff) << sh)) | ((uint32_t)v << sh);
		/* Address bits below the size read as zero; bits 3:0 are the type (0). */
		uint32_t val = p->bar0 & ~(VFIO_DEV_BAR0_SIZE - 1);
		for (unsigned i = 0; i < 4; i++)
			p->cfg[CFG_BAR0 + i] = (uint8_t)(val >> (8 * i));
	} else if (at == CFG_INT_LINE) {
		p->cfg[at] = v;
	}
	/* Everything else is read-only. */
}

long vfio_pci_config_rw(struct vfio_dev *d, void *buf, size_t len, uint64_t off, bool write)
{
	if (off >= sizeof(d->pci.cfg) || len > sizeof(d->pci.cfg) - off)
		return -EINVAL;
	uint8_t *b = buf;
	for (size_t i = 0; i < len; i++) {
		if (write)
			cfg_write_byte(&d->pci, (unsigned)(off + i), b[i]);
		else
			b[i] = d->pci.cfg[off + i];
	}
	return (long)len;
}

/* One DMA of the engine: with PASID_EN, tagged with the PASID. */
static int dma(const struct vfio_dev *d, uint64_t iova, void *buf, size_t n, bool write,
	       struct ims_fault *fault)
{
	uint64_t pasid = d->pci.pasid;
	if (pasid & VFIO_DEV_PASID_EN)
		return iofd_host_dma_pasid(d->sid, (uint32_t)(pasid & VFIO_DEV_PASID_MASK), iova,
					   buf, n, write, fault);
	return iofd_host_dma(d->sid, iova, buf, n, write, fault);
}

/* CMD 1: copy LEN bytes from SRC to DST, both translated by the IOMMU. */
static void dma_run(struct vfio_dev *d)
{
	struct vfio_pci_state *p = &d->pci;
	uint8_t chunk[4096];
	struct ims_fault fault;
	if (p->len > DMA_MAX || !(p->cfg[CFG_COMMAND] & 0x04)) {
		p->status = VFIO_DEV_ST_BAD; /* too long, or bus mastering off */
		return;
	}
	for (uint64_t done = 0; done < p->len;) {
		size_t n = p->len - done < sizeof(chunk) ? (size_t)(p->len - done) : sizeof(chunk);
		uint64_t at = p->src + done;
		int rc = dma(d, at, chunk, n, false, &fault);
		if (!rc) {
			at = p->dst + done;
			rc = dma(d, at, chunk, n, true, &fault);
		}
		if (rc) {
			p->status = VFIO_DEV_ST_FAULT;
			p->fault = rc == -EFAULT ? fault.iova : at;
			return;
		}
		done += n;
	}
	p->status = VFIO_DEV_ST_DONE;
}

static uint64_t *reg_of(struct vfio_pci_state *p, uint64_t off)
{
	switch (off) {
	case VFIO_DEV_REG_SRC:
		return &p->src;
	case VFIO_DEV_REG_DST:
		return &p->dst;
	case VFIO_DEV_REG_LEN:
		return &p->len;
	case VFIO_DEV_REG_STATUS:
		return &p->status;
	case VFIO_DEV_REG_FAULT:
		return &p->fault;
	case VFIO_DEV_REG_PASID:
		return &p->pasid;
	}
	return NULL;
}

/* Registers are 64-bit and accessed whole (8 bytes, aligned) or as their
 * low 32 bits (4 bytes at the register's offset); other offsets read 0 and
 * ignore writes, as unimplemented device registers do. */
long vfio_pci_bar0_rw(struct vfio_dev *d, void *buf, size_t len, uint64_t off, bool write)
{
	struct vfio_pci_state *p = &d->pci;
	if (off >= VFIO_DEV_BAR0_SIZE || len > VFIO_DEV_BAR0_SIZE - off)
		return -EINVAL;
	if ((len != 4 && len != 8) || (off & 7)) {
		if (!write)
			memset(buf, 0, len);
		return (long)len;
	}
	uint64_t v = 0, *r = reg_of(p, off);
	if (write) {
		memcpy(&v, buf, len);
		if (off == VFIO_DEV_REG_CMD) {
			if (v == 1)
				dma_run(d);
			else
				p->status = VFIO_DEV_ST_BAD;
		} else if (r && off != VFIO_DEV_REG_STATUS && off != VFIO_DEV_REG_FAULT) {
			*r = len == 8 ? v : (*r & ~UINT64_C(0xffffffff)) | v;
			/* Bits the PASID register does not have read as zero. */
			if (off == VFIO_DEV_REG_PASID)
				*r &= VFIO_DEV_PASID_EN | VFIO_DEV_PASID_MASK;
		}
		return (long)len;
	}
	if (off == VFIO_DEV_REG_ID)
		v = VFIO_DEV_ID_MAGIC;
	else if (r)
		v = *r;
	memcpy(buf, &v, len);
	return (long)len;
}
