/*
 * test_vfio.c - the emulated VFIO device (vfio/): the cdev binding rules,
 * the vfio-pci information ioctls, configuration space, and its DMA engine
 * working through the host IOMMU, paging and nested.
 *
 * Expected answers come from include/uapi/linux/vfio.h (request numbers
 * _IO(';', 100 + n), struct layouts, flags), Linux 6.12's
 * drivers/vfio/device_cdev.c / vfio_main.c / pci/vfio_pci_core.c (errnos),
 * the PCI Local Bus Specification (BAR sizing) and the device's documented
 * registers (include/iommusim/vfio.h).  The PASID cases follow Linux 6.15
 * (VFIO_DEVICE_ATTACH_PASID / DETACH_PASID = 1 << 0, struct
 * vfio_device_attach_iommufd_pt {argsz, flags, pt_id, pasid} and
 * vfio_device_detach_iommufd_pt {argsz, flags, pasid}; argsz must cover
 * pasid when the flag is set; IOMMU_HWPT_ALLOC_PASID = 1 << 3).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <cmocka.h>

#include <iommusim/iommusim.h>
#include <iommusim/iommufd.h>
#include <iommusim/vfio.h>
#include "iommufd/uapi.h"

/* include/uapi/linux/vfio.h */
#define VFIO_GET_INFO 0x3b6b
#define VFIO_GET_REGION_INFO 0x3b6c
#define VFIO_GET_IRQ_INFO 0x3b6d
#define VFIO_SET_IRQS 0x3b6e
#define VFIO_RESET 0x3b6f
#define VFIO_FEATURE 0x3b75
#define VFIO_BIND 0x3b76
#define VFIO_ATTACH 0x3b77
#define VFIO_DETACH 0x3b78
#define FLAGS_RESET (1u << 0)
#define FLAGS_PCI (1u << 1)
#define REGION_RW 3u
#define CONFIG_INDEX 7u

static const char vtd_model[] =
	"{\"arch\":\"vtd\",\"haw\":46,\"vtd\":{"
	"\"cap\":{\"ND\":6,\"SAGAW\":4,\"MGAW\":47,\"SLLPS\":1,\"PSI\":1,\"NFR\":7,\"MAMV\":18,"
	"\"FRO\":34},"
	"\"ecap\":{\"QI\":1,\"NEST\":1,\"SRS\":1,\"PSS\":19,\"PASID\":1,\"SMTS\":1,"
	"\"SSTS\":1,\"FSTS\":1,\"IRO\":80},\"fault_records\":8},"
	"\"caches\":{\"iotlb\":{\"entries\":64,\"ways\":4}}}";

#define IOMMUFD_FD 7 /* the descriptor number the "VMM" passes */
#define SID 0x0210
#define GUEST_SIZE (32 * 4096)

struct fx {
	struct iofd_ctx *ctx;
	struct vfio_dev *dev;
	uint8_t *guest;
	uint32_t ioas;
};

static struct iofd_ctx *ctx_of(void *opaque, int fd)
{
	return fd == IOMMUFD_FD ? opaque : NULL;
}

static long vioc(struct fx *f, unsigned long req, void *arg)
{
	return vfio_dev_ioctl(f->dev, &iofd_uaccess_self, ctx_of, f->ctx, req, (uintptr_t)arg);
}

static long bind(struct fx *f, int fd, uint32_t *devid)
{
	struct {
		uint32_t argsz, flags;
		int32_t iommufd;
		uint32_t out_devid;
	} b = {sizeof(b), 0, fd, 0};
	long rc = vioc(f, VFIO_BIND, &b);
	*devid = b.out_devid;
	return rc;
}

static long attach(struct fx *f, uint32_t *pt)
{
	uint32_t a[3] = {12, 0, *pt};
	long rc = vioc(f, VFIO_ATTACH, a);
	*pt = a[2];
	return rc;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct ims_model *m;
	char err[256];
	if (!f || ims_model_parse(vtd_model, "vtd", &m, err, sizeof(err)) ||
	    iofd_host_init(m, err, sizeof(err)))
		return -1;
	f->ctx = iofd_open(&iofd_uaccess_self, IOFD_ABI_NEWEST);
	f->dev = vfio_dev_new(SID);
	f->guest = mmap(NULL, GUEST_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
			0);
	struct iofd_ioas_alloc a = {.size = sizeof(a)};
	if (!f->ctx || !f->dev || f->guest == MAP_FAILED ||
	    iofd_ioctl(f->ctx, IOFD_REQ(IOFD_NR_IOAS_ALLOC), (uintptr_t)&a))
		return -1;
	f->ioas = a.out_ioas_id;
	struct iofd_ioas_map mp = {.size = sizeof(mp),
				   .flags = IOFD_MAP_FIXED_IOVA | IOFD_MAP_READABLE |
					    IOFD_MAP_WRITEABLE,
				   .ioas_id = f->ioas,
				   .user_va = (uintptr_t)f->guest,
				   .length = GUEST_SIZE};
	if (iofd_ioctl(f->ctx, IOFD_REQ(IOFD_NR_IOAS_MAP), (uintptr_t)&mp))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	/* The device holds the context: either order of closing works. */
	iofd_close(f->ctx);
	vfio_dev_free(f->dev);
	munmap(f->guest, GUEST_SIZE);
	iofd_host_fini();
	free(f);
	return iofd_host_iommu() ? -1 : 0;
}

static void test_bind_rules(void **state)
{
	struct fx *f = *state;
	uint32_t devid, info[6] = {sizeof(info)};
	/* Before BIND everything else is EINVAL, reads too. */
	assert_int_equal(vioc(f, VFIO_GET_INFO, info), -EINVAL);
	uint8_t b;
	assert_int_equal(vfio_dev_read(f->dev, &b, 1, (uint64_t)CONFIG_INDEX << 40), -EINVAL);
	/* Bad binds. */
	struct {
		uint32_t argsz, flags;
		int32_t iommufd;
		uint32_t out_devid;
	} bb = {15, 0, IOMMUFD_FD, 0};
	assert_int_equal(vioc(f, VFIO_BIND, &bb), -EINVAL); /* argsz < 16 */
	bb.argsz = 16;
	bb.flags = 1;
	assert_int_equal(vioc(f, VFIO_BIND, &bb), -EINVAL);
	assert_int_equal(bind(f, -1, &devid), -EINVAL);
	assert_int_equal(bind(f, 3, &devid), -EBADF); /* not an iommufd */
	assert_int_equal(iofd_object_count(f->ctx), 1); /* just the IOAS */
	/* A good one makes a device object; a second is EINVAL. */
	assert_int_equal(bind(f, IOMMUFD_FD, &devid), 0);
	assert_int_equal(devid, 2); /* IDs are handed out lowest free first; the IOAS has 1 */
	assert_int_equal(iofd_object_count(f->ctx), 2);
	assert_int_equal(bind(f, IOMMUFD_FD, &devid), -EINVAL);
	/* Unknown requests and features: ENOTTY. */
	assert_int_equal(vioc(f, VFIO_FEATURE, info), -ENOTTY);
	assert_int_equal(vioc(f, 0x3b99, info), -ENOTTY);
	/* Bad attach and detach arguments. */
	uint32_t at[3] = {11, 0, f->ioas};
	assert_int_equal(vioc(f, VFIO_ATTACH, at), -EINVAL);
	at[0] = 12;
	at[1] = 1;
	assert_int_equal(vioc(f, VFIO_ATTACH, at), -EINVAL);
	uint32_t dt[2] = {7, 0};
	assert_int_equal(vioc(f, VFIO_DETACH, dt), -EINVAL);
	/* Attaching to nothing that exists: ENOENT from iommufd. */
	uint32_t pt = 999;
	assert_int_equal(attach(f, &pt), -ENOENT);
}

static void test_info(void **state)
{
	struct fx *f = *state;
	uint32_t devid;
	assert_int_equal(bind(f, IOMMUFD_FD, &devid), 0);
	uint32_t info[6] = {15};
	assert_int_equal(vioc(f, VFIO_GET_INFO, info), -EINVAL);
	info[0] = sizeof(info);
	assert_int_equal(vioc(f, VFIO_GET_INFO, info), 0);
	assert_int_equal(info[1], FLAGS_PCI | FLAGS_RESET);
	assert_int_equal(info[2], 9); /* VFIO_PCI_NUM_REGIONS */
	assert_int_equal(info[3], 5); /* VFIO_PCI_NUM_IRQS */
	struct {
		uint32_t argsz, flags, index, cap_offset;
		uint64_t size, offset;
	} r = {sizeof(r), 0, 0, 0, 0, 0};
	assert_int_equal(vioc(f, VFIO_GET_REGION_INFO, &r), 0);
	assert_int_equal(r.size, VFIO_DEV_BAR0_SIZE);
	assert_int_equal(r.flags, REGION_RW); /* no MMAP */
	assert_int_equal(r.offset, 0);
	r.index = CONFIG_INDEX;
	assert_int_equal(vioc(f, VFIO_GET_REGION_INFO, &r), 0);
	assert_int_equal(r.size, 256);
	assert_int_equal(r.offset, (uint64_t)CONFIG_INDEX << 40);
	r.index = 3; /* an absent BAR */
	assert_int_equal(vioc(f, VFIO_GET_REGION_INFO, &r), 0);
	assert_int_equal(r.size, 0);
	assert_int_equal(r.flags, 0);
	r.index = 8; /* VGA without VGA */
	assert_int_equal(vioc(f, VFIO_GET_REGION_INFO, &r), -EINVAL);
	r.index = 0;
	r.argsz = 31;
	assert_int_equal(vioc(f, VFIO_GET_REGION_INFO, &r), -EINVAL);
	uint32_t irq[4] = {16, 0, 0, 0};
	assert_int_equal(vioc(f, VFIO_GET_IRQ_INFO, irq), 0);
	assert_int_equal(irq[1], 1u | 2u | 4u); /* INTx: EVENTFD | MASKABLE | AUTOMASKED */
	assert_int_equal(irq[3], 0);
	irq[2] = 3; /* ERR exists for PCI Express only */
	assert_int_equal(vioc(f, VFIO_GET_IRQ_INFO, irq), -EINVAL);
	irq[2] = 4; /* REQ */
	assert_int_equal(vioc(f, VFIO_GET_IRQ_INFO, irq), 0);
	assert_int_equal(irq[1], 1u | 8u); /* EVENTFD | NORESIZE */
	irq[2] = 5;
	assert_int_equal(vioc(f, VFIO_GET_IRQ_INFO, irq), -EINVAL);
}

static uint32_t cfg32(struct fx *f, unsigned off)
{
	uint32_t v = 0;
	assert_int_equal(vfio_dev_read(f->dev, &v, 4, ((uint64_t)CONFIG_INDEX << 40) + off), 4);
	return v;
}

static void cfg_w32(struct fx *f, unsigned off, uint32_t v)
{
	assert_int_equal(vfio_dev_write(f->dev, &v, 4, ((uint64_t)CONFIG_INDEX << 40) + off), 4);
}

static void test_config_space(void **state)
{
	struct fx *f = *state;
	uint32_t devid;
	assert_int_equal(bind(f, IOMMUFD_FD, &devid), 0);
	assert_int_equal(cfg32(f, 0), (uint32_t)VFIO_DEV_DEVICE << 16 | VFIO_DEV_VENDOR);
	/* BAR sizing: all ones read back as ~(size - 1), memory type bits 0. */
	cfg_w32(f, 0x10, 0xffffffff);
	assert_int_equal(cfg32(f, 0x10), ~(VFIO_DEV_BAR0_SIZE - 1));
	cfg_w32(f, 0x10, 0xfebf1000);
	assert_int_equal(cfg32(f, 0x10), 0xfebf1000);
	/* Absent BARs and the ROM stay 0. */
	cfg_w32(f, 0x14, 0xffffffff);
	cfg_w32(f, 0x30, 0xffffffff);
	assert_int_equal(cfg32(f, 0x14), 0);
	assert_int_equal(cfg32(f, 0x30), 0);
	/* Interrupt pin 0: no INTx. */
	assert_int_equal((cfg32(f, 0x3c) >> 8) & 0xff, 0);
	/* Past the end: EINVAL. */
	uint32_t v;
	assert_int_equal(vfio_dev_read(f->dev, &v, 4, ((uint64_t)CONFIG_INDEX << 40) + 254),
			 -EINVAL);
	/* RESET returns the function to power-on state. */
	assert_int_equal(vioc(f, VFIO_RESET, NULL), 0);
	assert_int_equal(cfg32(f, 0x10), 0);
}

static void reg_w(struct fx *f, unsigned off, uint64_t v)
{
	assert_int_equal(vfio_dev_write(f->dev, &v, 8, off), 8);
}

static uint64_t reg_r(struct fx *f, unsigned off)
{
	uint64_t v = 0;
	assert_int_equal(vfio_dev_read(f->dev, &v, 8, off), 8);
	return v;
}

/* Program the engine: copy len bytes from src to dst. */
static uint64_t dma_copy(struct fx *f, uint64_t src, uint64_t dst, uint64_t len)
{
	reg_w(f, VFIO_DEV_REG_SRC, src);
	reg_w(f, VFIO_DEV_REG_DST, dst);
	reg_w(f, VFIO_DEV_REG_LEN, len);
	reg_w(f, VFIO_DEV_REG_CMD, 1);
	return reg_r(f, VFIO_DEV_REG_STATUS);
}

static void test_dma_paging(void **state)
{
	struct fx *f = *state;
	uint32_t devid, pt = f->ioas;
	assert_int_equal(bind(f, IOMMUFD_FD, &devid), 0);
	assert_int_equal(attach(f, &pt), 0);
	assert_int_not_equal(pt, f->ioas); /* the automatic HWPT's ID came back */
	assert_int_equal(reg_r(f, VFIO_DEV_REG_ID), VFIO_DEV_ID_MAGIC);
	/* Bus mastering off: the engine refuses. */
	memcpy(f->guest + 0x1000, "dma through vt-d", 17);
	assert_int_equal(dma_copy(f, 0x1000, 0x5ff8, 17), VFIO_DEV_ST_BAD);
	cfg_w32(f, 0x04, 0x6); /* memory space + bus master */
	assert_int_equal(dma_copy(f, 0x1000, 0x5ff8, 17), VFIO_DEV_ST_DONE);
	assert_memory_equal(f->guest + 0x5ff8, "dma through vt-d", 17);
	/* Beyond the mapped guest memory: a translation fault, reported. */
	assert_int_equal(dma_copy(f, 0x1000, GUEST_SIZE + 0x10, 4), VFIO_DEV_ST_FAULT);
	assert_int_equal(reg_r(f, VFIO_DEV_REG_FAULT), GUEST_SIZE + 0x10);
	/* Detached, the device is blocked. */
	uint32_t dt[2] = {8, 0};
	assert_int_equal(vioc(f, VFIO_DETACH, dt), 0);
	assert_int_equal(dma_copy(f, 0x1000, 0x2000, 4), VFIO_DEV_ST_FAULT);
}

#define PTE (UINT64_C(7)) /* Present | R/W | U/S (Intel SDM 4.5) */

static void test_dma_nested(void **state)
{
	struct fx *f = *state;
	uint32_t devid;
	assert_int_equal(bind(f, IOMMUFD_FD, &devid), 0);
	cfg_w32(f, 0x04, 0x6);
	/* The guest's first stage at GPA 0x1000: VA 0x200000 -> GPA 0x8000. */
	uint64_t e[5] = {0x2000 | PTE, 0x3000 | PTE, 0x4000 | PTE, 0x8000 | PTE, 0x9000 | PTE};
	memcpy(f->guest + 0x1000, &e[0], 8);          /* PML4[0] */
	memcpy(f->guest + 0x2000, &e[1], 8);          /* PDPT[0] */
	memcpy(f->guest + 0x3000 + 8 * 1, &e[2], 8);  /* PD[1]: VA 0x200000 */
	memcpy(f->guest + 0x4000, &e[3], 8);          /* PT[0] */
	memcpy(f->guest + 0x4000 + 8, &e[4], 8);      /* PT[1] */
	struct iofd_hwpt_alloc a = {.size = sizeof(a), .flags = 1 /* NEST_PARENT */,
				    .dev_id = devid, .pt_id = f->ioas};
	assert_int_equal(iofd_ioctl(f->ctx, IOFD_REQ(IOFD_NR_HWPT_ALLOC), (uintptr_t)&a), 0);
	uint32_t s2 = a.out_hwpt_id;
	struct iofd_hwpt_vtd_s1 s1data = {.pgtbl_addr = 0x1000, .addr_width = 48};
	a = (struct iofd_hwpt_alloc){.size = sizeof(a), .dev_id = devid, .pt_id = s2,
				     .data_type = IOFD_HWPT_DATA_VTD_S1,
				     .data_len = sizeof(s1data), .data_uptr = (uintptr_t)&s1data};
	assert_int_equal(iofd_ioctl(f->ctx, IOFD_REQ(IOFD_NR_HWPT_ALLOC), (uintptr_t)&a), 0);
	uint32_t pt = a.out_hwpt_id;
	assert_int_equal(attach(f, &pt), 0);
	/* The engine copies guest-virtual page 0 to page 1: GPA 0x8000 -> 0x9000. */
	memcpy(f->guest + 0x8000 + 16, "nested copy", 12);
	assert_int_equal(dma_copy(f, 0x200000 + 16, 0x201000 + 16, 12), VFIO_DEV_ST_DONE);
	assert_memory_equal(f->guest + 0x9000 + 16, "nested copy", 12);
	/* GPA 0x8000 itself is not a guest virtual address of the device now. */
	assert_int_equal(dma_copy(f, 0x8000, 0x9000, 4), VFIO_DEV_ST_FAULT);
}

/* ATTACH_IOMMUFD_PT with everything spelt out; *pt in and out. */
static long attach_full(struct fx *f, uint32_t argsz, uint32_t flags, uint32_t pasid, uint32_t *pt)
{
	uint32_t a[4] = {argsz, flags, *pt, pasid};
	long rc = vioc(f, VFIO_ATTACH, a);
	*pt = a[2];
	return rc;
}

static long detach_full(struct fx *f, uint32_t argsz, uint32_t flags, uint32_t pasid)
{
	uint32_t d[3] = {argsz, flags, pasid};
	return vioc(f, VFIO_DETACH, d);
}

#define ATTACH_PASID 1u
#define DETACH_PASID 1u
#define HWPT_ALLOC_PASID (1u << 3)

static uint32_t hwpt_pasid(struct fx *f, uint32_t devid)
{
	struct iofd_hwpt_alloc a = {.size = sizeof(a), .flags = HWPT_ALLOC_PASID, .dev_id = devid,
				    .pt_id = f->ioas};
	assert_int_equal(iofd_ioctl(f->ctx, IOFD_REQ(IOFD_NR_HWPT_ALLOC), (uintptr_t)&a), 0);
	return a.out_hwpt_id;
}

static void test_pasid(void **state)
{
	struct fx *f = *state;
	uint32_t devid, pt;
	assert_int_equal(bind(f, IOMMUFD_FD, &devid), 0);
	cfg_w32(f, 0x04, 0x6);
	/* ECAP.PSS 19 is 20 bits; the model's PASID tables hold 15. */
	struct iofd_hw_info hi = {.size = sizeof(hi), .dev_id = devid};
	assert_int_equal(iofd_ioctl(f->ctx, IOFD_REQ(IOFD_NR_GET_HW_INFO), (uintptr_t)&hi), 0);
	assert_int_equal(hi.out_max_pasid_log2, 15);
	uint32_t s2 = hwpt_pasid(f, devid), s2b = hwpt_pasid(f, devid);

	/* argsz must reach pasid when the flag is set; unknown flags; PASID 0
	 * (the RID's); an IOAS at a PASID. */
	pt = s2;
	assert_int_equal(attach_full(f, 12, ATTACH_PASID, 9, &pt), -EINVAL);
	assert_int_equal(attach_full(f, 16, 2, 9, &pt), -EINVAL);
	assert_int_equal(attach_full(f, 16, ATTACH_PASID, 0, &pt), -EINVAL);
	pt = f->ioas;
	assert_int_equal(attach_full(f, 16, ATTACH_PASID, 9, &pt), -EINVAL);
	pt = 999;
	assert_int_equal(attach_full(f, 16, ATTACH_PASID, 9, &pt), -ENOENT);
	/* A good one; pt_id comes back. */
	pt = s2;
	assert_int_equal(attach_full(f, 16, ATTACH_PASID, 9, &pt), 0);
	assert_int_equal(pt, s2);

	/* The PASID register keeps bit 31 and bits 19:0. */
	reg_w(f, VFIO_DEV_REG_PASID, UINT64_MAX);
	assert_int_equal(reg_r(f, VFIO_DEV_REG_PASID), VFIO_DEV_PASID_EN | 0xfffff);
	/* DMA tagged with PASID 9 goes through s2. */
	reg_w(f, VFIO_DEV_REG_PASID, VFIO_DEV_PASID_EN | 9);
	memcpy(f->guest + 0x1000, "dma at pasid 9", 15);
	assert_int_equal(dma_copy(f, 0x1000, 0x3000, 15), VFIO_DEV_ST_DONE);
	assert_memory_equal(f->guest + 0x3000, "dma at pasid 9", 15);
	/* Without a PASID (the RID is not attached) or at PASID 10: faults. */
	reg_w(f, VFIO_DEV_REG_PASID, 9);
	assert_int_equal(dma_copy(f, 0x1000, 0x3000, 4), VFIO_DEV_ST_FAULT);
	reg_w(f, VFIO_DEV_REG_PASID, VFIO_DEV_PASID_EN | 10);
	assert_int_equal(dma_copy(f, 0x1000, 0x3000, 4), VFIO_DEV_ST_FAULT);
	/* Attaching PASID 9 again replaces its HWPT. */
	pt = s2b;
	assert_int_equal(attach_full(f, 16, ATTACH_PASID, 9, &pt), 0);
	struct iofd_destroy d = {.size = sizeof(d), .id = s2};
	assert_int_equal(iofd_ioctl(f->ctx, IOFD_REQ(IOFD_NR_DESTROY), (uintptr_t)&d), 0);
	reg_w(f, VFIO_DEV_REG_PASID, VFIO_DEV_PASID_EN | 9);
	assert_int_equal(dma_copy(f, 0x1000, 0x4000, 15), VFIO_DEV_ST_DONE);
	assert_memory_equal(f->guest + 0x4000, "dma at pasid 9", 15);
	d.id = s2b;
	assert_int_equal(iofd_ioctl(f->ctx, IOFD_REQ(IOFD_NR_DESTROY), (uintptr_t)&d), -EBUSY);

	/* Detach: argsz must reach pasid with the flag; unknown flags. */
	assert_int_equal(detach_full(f, 8, DETACH_PASID, 9), -EINVAL);
	assert_int_equal(detach_full(f, 12, 2, 9), -EINVAL);
	assert_int_equal(detach_full(f, 12, DETACH_PASID, 9), 0);
	assert_int_equal(dma_copy(f, 0x1000, 0x4000, 4), VFIO_DEV_ST_FAULT);
	assert_int_equal(detach_full(f, 12, DETACH_PASID, 9), 0); /* nothing attached: fine */
	assert_int_equal(iofd_ioctl(f->ctx, IOFD_REQ(IOFD_NR_DESTROY), (uintptr_t)&d), 0);
	/* A PASID still attached when the device is closed goes with it. */
	pt = hwpt_pasid(f, devid);
	assert_int_equal(attach_full(f, 16, ATTACH_PASID, 12, &pt), 0);
}

/* Linux 6.12's VFIO takes no flags at all. */
static void test_pasid_abi_6_12(void **state)
{
	struct fx *f = *state;
	struct iofd_ctx *old = iofd_open(&iofd_uaccess_self, IOFD_ABI_6_12);
	struct vfio_dev *dev = vfio_dev_new(SID + 1);
	assert_non_null(old);
	assert_non_null(dev);
	struct {
		uint32_t argsz, flags;
		int32_t iommufd;
		uint32_t out_devid;
	} b = {sizeof(b), 0, IOMMUFD_FD, 0};
	assert_int_equal(vfio_dev_ioctl(dev, &iofd_uaccess_self, ctx_of, old, VFIO_BIND,
					(uintptr_t)&b),
			 0);
	uint32_t a[4] = {16, ATTACH_PASID, 1, 9}, dt[3] = {12, DETACH_PASID, 9};
	assert_int_equal(vfio_dev_ioctl(dev, &iofd_uaccess_self, ctx_of, old, VFIO_ATTACH,
					(uintptr_t)a),
			 -EINVAL);
	assert_int_equal(vfio_dev_ioctl(dev, &iofd_uaccess_self, ctx_of, old, VFIO_DETACH,
					(uintptr_t)dt),
			 -EINVAL);
	vfio_dev_free(dev);
	iofd_close(old);
	(void)f;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bind_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_info, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_space, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_paging, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_nested, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pasid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pasid_abi_6_12, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
