/*
 * test_host.c - the host IOMMU driver (iommufd/host.c): iommufd devices
 * behind a modelled VT-d or SMMUv3, seen through the ioctls a VMM issues.
 *
 * What is checked comes from the specifications and Linux's uAPI:
 *   - GET_HW_INFO of a VT-d device is IOMMU_HW_INFO_TYPE_INTEL_VTD (1) with
 *     struct iommu_hw_info_vtd (24 bytes: flags, reserved, cap_reg,
 *     ecap_reg), the unit's CAP_REG and ECAP_REG (VT-d 11.4.2/11.4.3);
 *     an SMMUv3 device gets type ARM_SMMUV3 (2) with its IDR0-5;
 *   - DMA through a paging HWPT reaches the bytes the VMM mapped, and
 *     after IOAS_UNMAP (strict invalidation) the same DMA faults;
 *   - DMA through a nested HWPT walks the guest's first-stage tables (VT-d
 *     9.7 / Intel SDM 4.5 4-level paging: P bit 0, R/W 1, U/S 2, address
 *     bits 51:12), which live in guest memory mapped by stage 2; a guest
 *     PTE change is seen once the guest invalidates it
 *     (IOMMU_HWPT_INVALIDATE_DATA_VTD_S1) — before, the model's IOTLB may
 *     still hold the old translation, which is what real hardware may do;
 *   - Linux 6.12's rules for nested data and invalidation entries (see
 *     iommufd/host.c's header for the cited checks), each failing call
 *     changing nothing.
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
#include "iommufd/uapi.h"

/* VT-d: scalable mode, nesting, 4-level second stage (SAGAW bit 2), 2 MiB
 * second-stage pages, first-stage 5-level paging, supervisor requests, an
 * IOTLB to cache translations. */
static const char vtd_model[] =
	"{\"arch\":\"vtd\",\"haw\":46,\"vtd\":{"
	"\"cap\":{\"ND\":6,\"SAGAW\":4,\"MGAW\":47,\"SLLPS\":1,\"PSI\":1,\"NFR\":7,\"MAMV\":18,"
	"\"FS5LP\":1,\"FRO\":34},"
	"\"ecap\":{\"QI\":1,\"DT\":1,\"NEST\":1,\"SRS\":1,\"PSS\":19,\"PASID\":1,\"SMTS\":1,"
	"\"SSTS\":1,\"FSTS\":1,\"IRO\":80},\"fault_records\":8},"
	"\"caches\":{\"iotlb\":{\"entries\":64,\"ways\":4}}}";

static const char smmu_model[] =
	"{\"arch\":\"smmuv3\",\"haw\":48,\"smmuv3\":{"
	"\"idr0\":{\"S2P\":1,\"S1P\":1,\"TTF\":2,\"COHACC\":1,\"ASID16\":1,\"VMID16\":1,"
	"\"TTENDIAN\":2,\"ST_LEVEL\":1,\"CD2L\":1,\"STALL_MODEL\":1},"
	"\"idr1\":{\"SIDSIZE\":16,\"SSIDSIZE\":8,\"EVENTQS\":7,\"CMDQS\":8},"
	"\"idr5\":{\"OAS\":5,\"GRAN4K\":1}}}";

#define RW (IOFD_MAP_READABLE | IOFD_MAP_WRITEABLE)
#define SID 0x0108 /* bus 1, device 1, function 0 */
#define GUEST_SIZE (64 * 4096)

struct fx {
	struct iofd_ctx *ctx;
	uint8_t *guest; /* the VMM's guest memory, page aligned */
	uint32_t dev, ioas;
};

static long ioc(struct iofd_ctx *c, unsigned nr, void *arg)
{
	return iofd_ioctl(c, IOFD_REQ(nr), (uintptr_t)arg);
}

static int host_up(const char *json)
{
	struct ims_model *m;
	char err[256];
	if (ims_model_parse(json, "host", &m, err, sizeof(err)))
		return -1;
	return iofd_host_init(m, err, sizeof(err));
}

static void fx_up(struct fx *f, const char *model)
{
	assert_int_equal(host_up(model), 0);
	f->ctx = iofd_open(&iofd_uaccess_self, IOFD_ABI_NEWEST);
	assert_non_null(f->ctx);
	f->guest = mmap(NULL, GUEST_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
			0);
	assert_true(f->guest != MAP_FAILED);
	assert_int_equal(iofd_host_bind(f->ctx, SID, &f->dev), 0);
	struct iofd_ioas_alloc a = {.size = sizeof(a)};
	assert_int_equal(ioc(f->ctx, IOFD_NR_IOAS_ALLOC, &a), 0);
	f->ioas = a.out_ioas_id;
}

static void fx_down(struct fx *f)
{
	iofd_close(f->ctx);
	munmap(f->guest, GUEST_SIZE);
	iofd_host_fini();
	assert_null(iofd_host_iommu());
}

/* Map the whole guest memory at IOVA (guest-physical) 0. */
static void map_guest(struct fx *f)
{
	struct iofd_ioas_map m = {.size = sizeof(m),
				  .flags = IOFD_MAP_FIXED_IOVA | RW,
				  .ioas_id = f->ioas,
				  .user_va = (uintptr_t)f->guest,
				  .length = GUEST_SIZE,
				  .iova = 0};
	assert_int_equal(ioc(f->ctx, IOFD_NR_IOAS_MAP, &m), 0);
}

static long hwpt_alloc(struct fx *f, uint32_t pt, uint32_t flags, uint32_t type, const void *data,
		       uint32_t len, uint32_t *out)
{
	struct iofd_hwpt_alloc a = {.size = sizeof(a), .flags = flags, .dev_id = f->dev,
				    .pt_id = pt, .data_type = type, .data_len = len,
				    .data_uptr = (uintptr_t)data};
	long rc = ioc(f->ctx, IOFD_NR_HWPT_ALLOC, &a);
	*out = a.out_hwpt_id;
	return rc;
}

static long invalidate(struct fx *f, uint32_t hwpt, const struct iofd_hwpt_vtd_s1_invalidate *e,
		       uint32_t *num)
{
	struct iofd_hwpt_invalidate v = {.size = sizeof(v), .hwpt_id = hwpt,
					 .data_uptr = (uintptr_t)e,
					 .data_type = IOFD_HWPT_INVALIDATE_DATA_VTD_S1,
					 .entry_len = sizeof(*e), .entry_num = *num};
	long rc = ioc(f->ctx, IOFD_NR_HWPT_INVALIDATE, &v);
	*num = v.entry_num;
	return rc;
}

static void test_vtd_hw_info(void **state)
{
	(void)state;
	struct fx f;
	fx_up(&f, vtd_model);
	uint8_t buf[64];
	memset(buf, 0xa5, sizeof(buf));
	struct iofd_hw_info h = {.size = sizeof(h), .dev_id = f.dev, .data_len = sizeof(buf),
				 .data_uptr = (uintptr_t)buf};
	assert_int_equal(ioc(f.ctx, IOFD_NR_GET_HW_INFO, &h), 0);
	assert_int_equal(h.data_type, 1);  /* IOMMU_HW_INFO_TYPE_INTEL_VTD */
	assert_int_equal(h.data_len, 24);  /* sizeof(struct iommu_hw_info_vtd) */
	uint64_t cap, ecap;
	memcpy(&cap, buf + 8, 8);
	memcpy(&ecap, buf + 16, 8);
	assert_int_equal(cap, vtd_cap(iofd_host_iommu()));
	assert_int_equal(ecap, vtd_ecap(iofd_host_iommu()));
	assert_true(ecap & (UINT64_C(1) << 26)); /* NEST, as the model says */
	for (unsigned i = 24; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0); /* the rest of a larger buffer is zeroed */
	/* No dirty tracking is offered. */
	assert_int_equal(h.out_capabilities & 1, 0);
	fx_down(&f);
}

static void test_bind_rules(void **state)
{
	(void)state;
	struct fx f;
	fx_up(&f, vtd_model);
	uint32_t other;
	/* One device, one binding. */
	assert_int_equal(iofd_host_bind(f.ctx, SID, &other), -EBUSY);
	/* A new model cannot replace the IOMMU under a bound device. */
	assert_int_equal(host_up(vtd_model), -EBUSY);
	assert_int_equal(iofd_host_unbind(f.ctx, f.dev), 0);
	assert_int_equal(iofd_host_bind(f.ctx, SID, &f.dev), 0);
	fx_down(&f);
}

/* Paging HWPT: DMA reads and writes the VMM's bytes; unmap takes it away. */
static void test_vtd_paging_dma(void **state)
{
	(void)state;
	struct fx f;
	fx_up(&f, vtd_model);
	map_guest(&f);
	uint32_t s2;
	assert_int_equal(hwpt_alloc(&f, f.ioas, IOFD_HWPT_ALLOC_NEST_PARENT, 0, NULL, 0, &s2), 0);
	uint32_t pt = s2;
	assert_int_equal(iofd_host_attach(f.ctx, f.dev, &pt), 0);
	assert_int_equal(pt, s2);

	memcpy(f.guest + 0x3000 + 100, "through the IOMMU", 18);
	char got[32] = {0};
	assert_int_equal(iofd_host_dma(SID, 0x3000 + 100, got, 18, false, NULL), 0);
	assert_string_equal(got, "through the IOMMU");
	/* A write lands in the VMM's memory, across a page boundary too. */
	assert_int_equal(iofd_host_dma(SID, 0x4ffe, "abcd", 4, true, NULL), 0);
	assert_memory_equal(f.guest + 0x4ffe, "abcd", 4);

	/* The IOAS shows the aperture of a 4-level second stage: 48 bits. */
	struct iofd_iova_range r[4];
	struct iofd_ioas_iova_ranges q = {.size = sizeof(q), .ioas_id = f.ioas, .num_iovas = 4,
					  .allowed_iovas = (uintptr_t)r};
	assert_int_equal(ioc(f.ctx, IOFD_NR_IOAS_IOVA_RANGES, &q), 0);
	assert_int_equal(q.num_iovas, 1);
	assert_int_equal(r[0].start, 0);
	assert_int_equal(r[0].last, (UINT64_C(1) << 48) - 1);

	/* Unmapping invalidates at once: the next DMA faults. */
	struct iofd_ioas_unmap u = {.size = sizeof(u), .ioas_id = f.ioas, .iova = 0,
				    .length = GUEST_SIZE};
	assert_int_equal(ioc(f.ctx, IOFD_NR_IOAS_UNMAP, &u), 0);
	struct ims_fault fault;
	assert_int_equal(iofd_host_dma(SID, 0x3000 + 100, got, 4, false, &fault), -EFAULT);
	assert_int_equal(fault.stage, 2);

	/* Detached, the device is blocked. */
	assert_int_equal(iofd_host_detach(f.ctx, f.dev), 0);
	struct iofd_destroy d = {.size = sizeof(d), .id = s2};
	assert_int_equal(ioc(f.ctx, IOFD_NR_DESTROY, &d), 0);
	fx_down(&f);
}

/* Intel SDM 4.5 entry bits. */
#define PTE_P (UINT64_C(1) << 0)
#define PTE_RW (UINT64_C(1) << 1)
#define PTE_US (UINT64_C(1) << 2)
#define PTE_TABLE (PTE_P | PTE_RW | PTE_US)

static void put64(uint8_t *mem, uint64_t gpa, uint64_t v)
{
	memcpy(mem + gpa, &v, 8);
}

/* Guest tables at GPA 0x1000 (PML4), 0x2000, 0x3000, 0x4000 (PT) mapping
 * VA 0x40000000 + i * 4 KiB -> data page gpa[i]. */
#define GVA UINT64_C(0x40000000)
static void build_guest_tables(uint8_t *g, uint64_t data0, uint64_t data1)
{
	memset(g, 0, 0x5000);
	put64(g, 0x1000 + 8 * 0, 0x2000 | PTE_TABLE);          /* PML4[0] */
	put64(g, 0x2000 + 8 * 1, 0x3000 | PTE_TABLE);          /* PDPT[1]: 1 GiB */
	put64(g, 0x3000 + 8 * 0, 0x4000 | PTE_TABLE);          /* PD[0] */
	put64(g, 0x4000 + 8 * 0, data0 | PTE_TABLE);           /* PT[0] */
	put64(g, 0x4000 + 8 * 1, data1 | PTE_TABLE);           /* PT[1] */
}

static void nested_setup(struct fx *f, uint32_t *s2, uint32_t *s1)
{
	map_guest(f);
	build_guest_tables(f->guest, 0x8000, 0x9000);
	assert_int_equal(hwpt_alloc(f, f->ioas, IOFD_HWPT_ALLOC_NEST_PARENT, 0, NULL, 0, s2), 0);
	struct iofd_hwpt_vtd_s1 data = {.pgtbl_addr = 0x1000, .addr_width = 48};
	assert_int_equal(hwpt_alloc(f, *s2, 0, IOFD_HWPT_DATA_VTD_S1, &data, sizeof(data), s1), 0);
	uint32_t pt = *s1;
	assert_int_equal(iofd_host_attach(f->ctx, f->dev, &pt), 0);
}

static void test_vtd_nested_dma(void **state)
{
	(void)state;
	struct fx f;
	uint32_t s2, s1;
	fx_up(&f, vtd_model);
	nested_setup(&f, &s2, &s1);
	memcpy(f.guest + 0x8000 + 8, "page zero", 10);
	memcpy(f.guest + 0x9000 + 8, "page one", 9);
	memcpy(f.guest + 0xa000 + 8, "page two", 9);
	char got[16] = {0};
	assert_int_equal(iofd_host_dma(SID, GVA + 8, got, 10, false, NULL), 0);
	assert_string_equal(got, "page zero");
	assert_int_equal(iofd_host_dma(SID, GVA + 0x1000 + 8, got, 9, false, NULL), 0);
	assert_string_equal(got, "page one");
	/* The write goes to the guest page stage 1 names. */
	assert_int_equal(iofd_host_dma(SID, GVA + 0x1000 + 8, "PAGE", 4, true, NULL), 0);
	assert_memory_equal(f.guest + 0x9000 + 8, "PAGE one", 9);
	/* An unmapped guest VA faults in stage 1. */
	struct ims_fault fault;
	assert_int_equal(iofd_host_dma(SID, GVA + 0x2000, got, 4, false, &fault), -EFAULT);
	assert_int_equal(fault.stage, 1);

	/* The guest remaps page one to page two and invalidates it. */
	put64(f.guest, 0x4000 + 8, 0xa000 | PTE_TABLE);
	struct iofd_hwpt_vtd_s1_invalidate inv = {.addr = GVA + 0x1000, .npages = 1};
	uint32_t num = 1;
	assert_int_equal(invalidate(&f, s1, &inv, &num), 0);
	assert_int_equal(num, 1);
	assert_int_equal(iofd_host_dma(SID, GVA + 0x1000 + 8, got, 9, false, NULL), 0);
	assert_string_equal(got, "page two");

	/* "Everything": addr 0, npages U64_MAX. */
	put64(f.guest, 0x4000 + 0, 0x9000 | PTE_TABLE);
	inv = (struct iofd_hwpt_vtd_s1_invalidate){.addr = 0, .npages = UINT64_MAX};
	num = 1;
	assert_int_equal(invalidate(&f, s1, &inv, &num), 0);
	assert_int_equal(iofd_host_dma(SID, GVA + 8, got, 9, false, NULL), 0);
	assert_string_equal(got, "PAGE one");

	/* Back to the parent: guest addresses are stage-2 inputs again. */
	uint32_t pt = s2;
	assert_int_equal(iofd_host_attach(f.ctx, f.dev, &pt), 0);
	assert_int_equal(iofd_host_dma(SID, 0xa000 + 8, got, 9, false, NULL), 0);
	assert_string_equal(got, "page two");
	struct iofd_destroy d = {.size = sizeof(d), .id = s1};
	assert_int_equal(ioc(f.ctx, IOFD_NR_DESTROY, &d), 0);
	fx_down(&f);
}

/* The IOTLB keeps a translation until the guest invalidates it. */
static void test_vtd_nested_stale_until_invalidated(void **state)
{
	(void)state;
	struct fx f;
	uint32_t s2, s1;
	fx_up(&f, vtd_model);
	nested_setup(&f, &s2, &s1);
	memcpy(f.guest + 0x8000, "old", 4);
	memcpy(f.guest + 0xa000, "new", 4);
	char got[4];
	assert_int_equal(iofd_host_dma(SID, GVA, got, 4, false, NULL), 0);
	assert_string_equal(got, "old");
	put64(f.guest, 0x4000, 0xa000 | PTE_TABLE);
	assert_int_equal(iofd_host_dma(SID, GVA, got, 4, false, NULL), 0);
	assert_string_equal(got, "old"); /* cached in the modelled IOTLB */
	/* Invalidating another page leaves it; invalidating it drops it. */
	struct iofd_hwpt_vtd_s1_invalidate inv[2] = {{.addr = GVA + 0x5000, .npages = 1},
						     {.addr = GVA, .npages = 1,
						      .flags = IOFD_VTD_INV_FLAGS_LEAF}};
	uint32_t num = 1;
	assert_int_equal(invalidate(&f, s1, &inv[0], &num), 0);
	assert_int_equal(iofd_host_dma(SID, GVA, got, 4, false, NULL), 0);
	assert_string_equal(got, "old");
	num = 1;
	assert_int_equal(invalidate(&f, s1, &inv[1], &num), 0);
	assert_int_equal(iofd_host_dma(SID, GVA, got, 4, false, NULL), 0);
	assert_string_equal(got, "new");
	fx_down(&f);
}

static void test_vtd_nested_errors(void **state)
{
	(void)state;
	struct fx f;
	uint32_t s2, s1, bad;
	fx_up(&f, vtd_model);
	nested_setup(&f, &s2, &s1);
	struct iofd_hwpt_vtd_s1 data = {.pgtbl_addr = 0x1000, .addr_width = 48};
	/* Parent without NEST_PARENT: EINVAL (iommufd's own check). */
	uint32_t plain;
	assert_int_equal(hwpt_alloc(&f, f.ioas, 0, 0, NULL, 0, &plain), 0);
	assert_int_equal(hwpt_alloc(&f, plain, 0, IOFD_HWPT_DATA_VTD_S1, &data, sizeof(data), &bad),
			 -EINVAL);
	/* Another data type, or flags: EOPNOTSUPP. */
	assert_int_equal(hwpt_alloc(&f, s2, 0, IOFD_HWPT_DATA_ARM_SMMUV3, &data, 16, &bad),
			 -EOPNOTSUPP);
	assert_int_equal(hwpt_alloc(&f, s2, IOFD_HWPT_ALLOC_NEST_PARENT, IOFD_HWPT_DATA_VTD_S1,
				    &data, sizeof(data), &bad),
			 -EOPNOTSUPP);
	/* Dirty tracking is not offered. */
	assert_int_equal(hwpt_alloc(&f, f.ioas, IOFD_HWPT_ALLOC_DIRTY_TRACKING, 0, NULL, 0, &bad),
			 -EOPNOTSUPP);
	/* An address width the hardware lacks: allocation works, attach is EINVAL
	 * and leaves the device where it was. */
	data.addr_width = 39;
	assert_int_equal(hwpt_alloc(&f, s2, 0, IOFD_HWPT_DATA_VTD_S1, &data, sizeof(data), &bad), 0);
	uint32_t pt = bad;
	assert_int_equal(iofd_host_attach(f.ctx, f.dev, &pt), -EINVAL);
	memcpy(f.guest + 0x8000, "kept", 5);
	char got[5];
	assert_int_equal(iofd_host_dma(SID, GVA, got, 5, false, NULL), 0);
	assert_string_equal(got, "kept");

	/* Invalidation entries: processing stops at the first bad one. */
	struct iofd_hwpt_vtd_s1_invalidate inv[3] = {
		{.addr = GVA, .npages = 1},
		{.addr = GVA + 12, .npages = 1}, /* not 4 KiB aligned */
		{.addr = GVA, .npages = 1},
	};
	uint32_t num = 3;
	assert_int_equal(invalidate(&f, s1, inv, &num), -EINVAL);
	assert_int_equal(num, 1);
	inv[1] = (struct iofd_hwpt_vtd_s1_invalidate){.addr = 0x1000, .npages = UINT64_MAX};
	num = 3;
	assert_int_equal(invalidate(&f, s1, inv, &num), -EINVAL);
	assert_int_equal(num, 1);
	inv[1] = (struct iofd_hwpt_vtd_s1_invalidate){.addr = GVA, .npages = 1, .flags = 2};
	num = 3;
	assert_int_equal(invalidate(&f, s1, inv, &num), -EOPNOTSUPP);
	assert_int_equal(num, 1);
	inv[1] = (struct iofd_hwpt_vtd_s1_invalidate){.addr = GVA, .npages = 1, .reserved = 1};
	num = 3;
	assert_int_equal(invalidate(&f, s1, inv, &num), -EOPNOTSUPP);
	assert_int_equal(num, 1);
	/* A wrong data type handles nothing. */
	struct iofd_hwpt_invalidate v = {.size = sizeof(v), .hwpt_id = s1,
					 .data_uptr = (uintptr_t)inv, .data_type = 1,
					 .entry_len = sizeof(inv[0]), .entry_num = 1};
	assert_int_equal(ioc(f.ctx, IOFD_NR_HWPT_INVALIDATE, &v), -EINVAL);
	assert_int_equal(v.entry_num, 0);
	fx_down(&f);
}

static void test_smmu_device(void **state)
{
	(void)state;
	struct fx f;
	fx_up(&f, smmu_model);
	uint8_t buf[40];
	struct iofd_hw_info h = {.size = sizeof(h), .dev_id = f.dev, .data_len = sizeof(buf),
				 .data_uptr = (uintptr_t)buf};
	assert_int_equal(ioc(f.ctx, IOFD_NR_GET_HW_INFO, &h), 0);
	assert_int_equal(h.data_type, 2); /* IOMMU_HW_INFO_TYPE_ARM_SMMUV3 */
	assert_int_equal(h.data_len, 40);
	for (unsigned i = 0; i < 6; i++) {
		uint32_t idr;
		memcpy(&idr, buf + 8 + 4 * i, 4);
		assert_int_equal(idr, smmu_idr(iofd_host_iommu(), i));
	}
	/* A plain paging HWPT (stage 1 on SMMUv3) carries DMA. */
	map_guest(&f);
	uint32_t hwpt, pt = f.ioas;
	assert_int_equal(iofd_host_attach(f.ctx, f.dev, &pt), 0);
	hwpt = pt;
	assert_int_not_equal(hwpt, f.ioas); /* an automatic HWPT */
	memcpy(f.guest + 0x7000, "smmu", 5);
	char got[5];
	assert_int_equal(iofd_host_dma(SID, 0x7000, got, 5, false, NULL), 0);
	assert_string_equal(got, "smmu");
	/* Nesting on SMMUv3 needs a vIOMMU: not offered yet. */
	uint32_t s2, bad;
	assert_int_equal(hwpt_alloc(&f, f.ioas, IOFD_HWPT_ALLOC_NEST_PARENT, 0, NULL, 0, &s2), 0);
	struct iofd_hwpt_arm_smmuv3 ste = {{1, 0}};
	assert_int_equal(
		hwpt_alloc(&f, s2, 0, IOFD_HWPT_DATA_ARM_SMMUV3, &ste, sizeof(ste), &bad),
		-EOPNOTSUPP);
	fx_down(&f);
}

static void test_no_host(void **state)
{
	(void)state;
	struct iofd_ctx *ctx = iofd_open(&iofd_uaccess_self, IOFD_ABI_NEWEST);
	uint32_t dev;
	assert_int_equal(iofd_host_bind(ctx, SID, &dev), -ENODEV);
	char b;
	assert_int_equal(iofd_host_dma(SID, 0, &b, 1, false, NULL), -ENODEV);
	iofd_close(ctx);
}

/* Closing /dev/iommu with a device still attached tears everything down
 * whatever the order objects were made in: the device leaves its HWPT
 * first (as VFIO's unbind does), so no object is freed while another
 * still points at it (an IOAS made before the device was bound used to
 * be freed under its HWPT; the sanitizer build catches a regression). */
static void test_close_with_device_attached(void **state)
{
	(void)state;
	for (int order = 0; order < 2; order++) {
		assert_int_equal(host_up(vtd_model), 0);
		struct fx f = {0};
		f.ctx = iofd_open(&iofd_uaccess_self, IOFD_ABI_NEWEST);
		assert_non_null(f.ctx);
		f.guest = mmap(NULL, GUEST_SIZE, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		assert_true(f.guest != MAP_FAILED);
		struct iofd_ioas_alloc a = {.size = sizeof(a)};
		if (order == 0) /* the IOAS first: the lowest ID */
			assert_int_equal(ioc(f.ctx, IOFD_NR_IOAS_ALLOC, &a), 0);
		assert_int_equal(iofd_host_bind(f.ctx, SID, &f.dev), 0);
		if (order == 1)
			assert_int_equal(ioc(f.ctx, IOFD_NR_IOAS_ALLOC, &a), 0);
		f.ioas = a.out_ioas_id;
		map_guest(&f);
		uint32_t s2, pt;
		assert_int_equal(hwpt_alloc(&f, f.ioas, IOFD_HWPT_ALLOC_NEST_PARENT, 0, NULL, 0, &s2),
				 0);
		pt = s2;
		assert_int_equal(iofd_host_attach(f.ctx, f.dev, &pt), 0);
		iofd_close(f.ctx);
		/* The device was unbound with its context, so the host can go. */
		iofd_host_fini();
		assert_null(iofd_host_iommu());
		munmap(f.guest, GUEST_SIZE);
	}
}

/* A VMM that makes and destroys paging HWPTs for as long as it runs does
 * not grow the simulator: a destroyed HWPT's tables are flushed from the
 * caches and reused by the next one, whose DMA then translates through
 * its own (freshly cleared) tables. */
static void test_hwpt_churn_reuses_tables(void **state)
{
	(void)state;
	const char *models[] = {vtd_model, smmu_model};
	for (int m = 0; m < 2; m++) {
		struct fx f;
		fx_up(&f, models[m]);
		map_guest(&f);
		struct ims_mem *mem = ims_iommu_mem(iofd_host_iommu());
		uint64_t frames_after_first = 0;
		for (int round = 0; round < 40; round++) {
			uint32_t hwpt, pt;
			assert_int_equal(hwpt_alloc(&f, f.ioas, 0, 0, NULL, 0, &hwpt), 0);
			pt = hwpt;
			assert_int_equal(iofd_host_attach(f.ctx, f.dev, &pt), 0);
			uint32_t v = 0x1000u * (uint32_t)round + 7;
			memcpy(f.guest + 0x5000, &v, 4);
			uint32_t got = 0;
			assert_int_equal(iofd_host_dma(SID, 0x5000, &got, 4, false, NULL), 0);
			assert_int_equal(got, v);
			assert_int_equal(iofd_host_detach(f.ctx, f.dev), 0);
			struct iofd_destroy d = {.size = sizeof(d), .id = hwpt};
			assert_int_equal(ioc(f.ctx, IOFD_NR_DESTROY, &d), 0);
			if (round == 0)
				frames_after_first = ims_mem_ram_frames(mem);
		}
		assert_int_equal(ims_mem_ram_frames(mem), frames_after_first);
		fx_down(&f);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_host),
		cmocka_unit_test(test_vtd_hw_info),
		cmocka_unit_test(test_bind_rules),
		cmocka_unit_test(test_vtd_paging_dma),
		cmocka_unit_test(test_vtd_nested_dma),
		cmocka_unit_test(test_vtd_nested_stale_until_invalidated),
		cmocka_unit_test(test_vtd_nested_errors),
		cmocka_unit_test(test_smmu_device),
		cmocka_unit_test(test_close_with_device_attached),
		cmocka_unit_test(test_hwpt_churn_reuses_tables),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
