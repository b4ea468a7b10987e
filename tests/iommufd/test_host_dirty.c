/*
 * test_host_dirty.c - dirty tracking of the host IOMMU driver
 * (iommufd/host.c): IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
 * IOMMU_HWPT_SET_DIRTY_TRACKING and IOMMU_HWPT_GET_DIRTY_BITMAP for devices
 * behind a modelled VT-d or SMMUv3, seen through the ioctls a VMM issues
 * and the DMA a device makes (iofd_host_dma).
 *
 * What is checked comes from the specifications and Linux's uAPI:
 *   - the capability (IOMMU_HW_CAP_DIRTY_TRACKING, bit 0 of
 *     out_capabilities) follows the hardware: VT-d ECAP.SSADS (11.4.3 bit
 *     45, second-stage A/D) in scalable mode with page-walk coherency
 *     (ECAP.SMPWCS bit 48: the driver reads D bits the walker wrote);
 *     SMMUv3 IDR0.HTTU = 2 (6.3.1: Access flag and dirty state) with
 *     coherent table walks (IDR0.COHACC).  Without it, HWPT_ALLOC with
 *     DIRTY_TRACKING is EOPNOTSUPP and nothing is made;
 *   - VT-d 3.7.2: with SSADE the hardware sets D in the second-stage leaf
 *     on a write, never on a read; without SSADE it sets nothing, so a
 *     write made while tracking is off is not reported;
 *   - Arm ARM D8.5 (dirty state): with HA and HD a write to a DBM leaf
 *     marks it dirty; a read does not; a read-only leaf (no DBM) stays
 *     read-only and a write to it faults;
 *   - the bitmap (iommufd.h, IOMMU_HWPT_GET_DIRTY_BITMAP): bit n stands
 *     for [iova + n * page_size, iova + (n + 1) * page_size); a read
 *     clears what it reports unless IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR;
 *     a cleared page is reported again only after a new write.
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

/* VT-d: scalable mode, nesting, 4-level second stage, 2 MiB pages and an
 * IOTLB; the ECAP bits that decide dirty tracking are added per case. */
#define VTD_MODEL(ecap_extra)                                                                    \
	"{\"arch\":\"vtd\",\"haw\":46,\"vtd\":{"                                                 \
	"\"cap\":{\"ND\":6,\"SAGAW\":4,\"MGAW\":47,\"SLLPS\":1,\"PSI\":1,\"NFR\":7,\"MAMV\":18," \
	"\"FRO\":34},"                                                                           \
	"\"ecap\":{\"QI\":1,\"DT\":1,\"NEST\":1,\"PSS\":19,\"PASID\":1,\"SMTS\":1,"              \
	"\"SSTS\":1,\"FSTS\":1,\"IRO\":80" ecap_extra "},\"fault_records\":8},"                  \
	"\"caches\":{\"iotlb\":{\"entries\":64,\"ways\":4}}}"

/* SMMUv3: stage 1 and 2, 4K granule, an IOTLB; IDR0 bits added per case. */
#define SMMU_MODEL(idr0_extra)                                                                   \
	"{\"arch\":\"smmuv3\",\"haw\":48,\"smmuv3\":{"                                           \
	"\"idr0\":{\"S2P\":1,\"S1P\":1,\"TTF\":2,\"ASID16\":1,\"VMID16\":1,"                     \
	"\"TTENDIAN\":2,\"ST_LEVEL\":1,\"CD2L\":1,\"STALL_MODEL\":1" idr0_extra "},"             \
	"\"idr1\":{\"SIDSIZE\":16,\"SSIDSIZE\":8,\"EVENTQS\":7,\"CMDQS\":8},"                    \
	"\"idr3\":{\"RIL\":1},"                                                                  \
	"\"idr5\":{\"OAS\":5,\"GRAN4K\":1},"                                                     \
	"\"aidr\":{\"ArchMajorRev\":0,\"ArchMinorRev\":2}},"                                       \
	"\"caches\":{\"iotlb\":{\"entries\":64,\"ways\":4}}}"

static const char vtd_dirty[] = VTD_MODEL(",\"SSADS\":1,\"SMPWCS\":1");
static const char vtd_no_ssads[] = VTD_MODEL(",\"SMPWCS\":1");
static const char vtd_no_smpwc[] = VTD_MODEL(",\"SSADS\":1");
static const char smmu_dirty[] = SMMU_MODEL(",\"HTTU\":2,\"COHACC\":1");
static const char smmu_af_only[] = SMMU_MODEL(",\"HTTU\":1,\"COHACC\":1");
static const char smmu_no_cohacc[] = SMMU_MODEL(",\"HTTU\":2");

#define RW (IOFD_MAP_READABLE | IOFD_MAP_WRITEABLE)
#define SID 0x0108 /* bus 1, device 1, function 0 */
#define PAGES 64
#define GUEST_SIZE (PAGES * 4096)
#define RO_IOVA 0x100000 /* a read-only view of the first 4 guest pages */
#define HW_CAP_DIRTY_TRACKING 1u /* IOMMU_HW_CAP_DIRTY_TRACKING */

struct fx {
	struct iofd_ctx *ctx;
	uint8_t *guest; /* the VMM's memory, page aligned */
	uint32_t dev, ioas, hwpt;
};

/* What the fixture in use holds (copied: a failed case's stack is gone),
 * so that the host is released after a failure too. */
static struct iofd_ctx *live_ctx;
static uint8_t *live_guest;

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
	memset(f, 0, sizeof(*f));
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
	live_ctx = f->ctx;
	live_guest = f->guest;
}

static void fx_down(struct fx *f)
{
	live_ctx = NULL;
	iofd_close(f->ctx);
	munmap(f->guest, GUEST_SIZE);
	iofd_host_fini();
	assert_null(iofd_host_iommu());
}

static long map(struct fx *f, uint64_t iova, uint64_t off, uint64_t len, uint32_t prot)
{
	struct iofd_ioas_map m = {.size = sizeof(m),
				  .flags = IOFD_MAP_FIXED_IOVA | prot,
				  .ioas_id = f->ioas,
				  .user_va = (uintptr_t)f->guest + off,
				  .length = len,
				  .iova = iova};
	return ioc(f->ctx, IOFD_NR_IOAS_MAP, &m);
}

static long hwpt_alloc(struct fx *f, uint32_t flags, uint32_t *out)
{
	struct iofd_hwpt_alloc a = {.size = sizeof(a), .flags = flags, .dev_id = f->dev,
				    .pt_id = f->ioas};
	long rc = ioc(f->ctx, IOFD_NR_HWPT_ALLOC, &a);
	*out = a.out_hwpt_id;
	return rc;
}

static long set_tracking(struct fx *f, uint32_t hwpt, bool on)
{
	struct iofd_hwpt_set_dirty_tracking s = {
		.size = sizeof(s), .flags = on ? IOFD_HWPT_DIRTY_TRACKING_ENABLE : 0, .hwpt_id = hwpt};
	return ioc(f->ctx, IOFD_NR_HWPT_SET_DIRTY_TRACKING, &s);
}

/* GET_DIRTY_BITMAP of [iova, iova + len) in page_size units into bm
 * (zeroed first: the kernel only sets bits). */
static long get_bitmap(struct fx *f, uint32_t hwpt, uint32_t flags, uint64_t iova, uint64_t len,
		       uint64_t page_size, uint64_t *bm, size_t words)
{
	memset(bm, 0, words * sizeof(*bm));
	struct iofd_hwpt_get_dirty_bitmap g = {.size = sizeof(g), .hwpt_id = hwpt, .flags = flags,
					       .iova = iova, .length = len,
					       .page_size = page_size, .data = (uintptr_t)bm};
	return ioc(f->ctx, IOFD_NR_HWPT_GET_DIRTY_BITMAP, &g);
}

/* The set bits of a PAGES-bit bitmap of 4 KiB pages from IOVA 0, as a
 * mask: every test below dirties at most the first 64 pages. */
static uint64_t dirty_pages(struct fx *f, uint32_t flags)
{
	uint64_t bm[1];
	assert_int_equal(get_bitmap(f, f->hwpt, flags, 0, GUEST_SIZE, 4096, bm, 1), 0);
	return bm[0];
}

static void dma(uint64_t iova, bool write)
{
	uint8_t b[4] = {1, 2, 3, 4};
	assert_int_equal(iofd_host_dma(SID, iova, b, sizeof(b), write, NULL), 0);
}

/* A dirty-tracking HWPT over the guest memory (at IOVA 0, read-write) with
 * the device attached. */
static void dirty_setup(struct fx *f, const char *model)
{
	fx_up(f, model);
	assert_int_equal(map(f, 0, 0, GUEST_SIZE, RW), 0);
	assert_int_equal(hwpt_alloc(f, IOFD_HWPT_ALLOC_DIRTY_TRACKING, &f->hwpt), 0);
	uint32_t pt = f->hwpt;
	assert_int_equal(iofd_host_attach(f->ctx, f->dev, &pt), 0);
}

static uint64_t hw_caps(struct fx *f)
{
	struct iofd_hw_info h = {.size = sizeof(h), .dev_id = f->dev};
	assert_int_equal(ioc(f->ctx, IOFD_NR_GET_HW_INFO, &h), 0);
	return h.out_capabilities;
}

/* The capability follows the hardware; without it allocation is
 * EOPNOTSUPP and leaves no object behind. */
static void test_capability_per_model(void **state)
{
	(void)state;
	static const struct {
		const char *model;
		bool capable;
	} rows[] = {
		{vtd_dirty, true},       {vtd_no_ssads, false},  {vtd_no_smpwc, false},
		{smmu_dirty, true},      {smmu_af_only, false},  {smmu_no_cohacc, false},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct fx f;
		fx_up(&f, rows[i].model);
		assert_int_equal(hw_caps(&f) & HW_CAP_DIRTY_TRACKING,
				 rows[i].capable ? HW_CAP_DIRTY_TRACKING : 0);
		size_t before = iofd_object_count(f.ctx);
		uint32_t id = 0;
		long rc = hwpt_alloc(&f, IOFD_HWPT_ALLOC_DIRTY_TRACKING, &id);
		if (rows[i].capable) {
			assert_int_equal(rc, 0);
			assert_int_equal(iofd_object_count(f.ctx), before + 1);
		} else {
			assert_int_equal(rc, -EOPNOTSUPP);
			assert_int_equal(iofd_object_count(f.ctx), before);
		}
		fx_down(&f);
	}
}

/* VT-d keeps dirty state in the second stage, which may also be a nest
 * parent; SMMUv3 keeps it at stage 1, so not with NEST_PARENT.  A HWPT
 * made without DIRTY_TRACKING has no dirty operations. */
static void test_alloc_rules(void **state)
{
	(void)state;
	struct fx f;
	uint32_t id, plain;
	uint64_t bm[1];

	fx_up(&f, vtd_dirty);
	assert_int_equal(hwpt_alloc(&f, IOFD_HWPT_ALLOC_DIRTY_TRACKING | IOFD_HWPT_ALLOC_NEST_PARENT,
				    &id),
			 0);
	assert_int_equal(set_tracking(&f, id, true), 0);
	assert_int_equal(hwpt_alloc(&f, 0, &plain), 0);
	assert_int_equal(set_tracking(&f, plain, true), -EOPNOTSUPP);
	assert_int_equal(get_bitmap(&f, plain, 0, 0, 4096, 4096, bm, 1), -EOPNOTSUPP);
	fx_down(&f);

	fx_up(&f, smmu_dirty);
	size_t before = iofd_object_count(f.ctx);
	assert_int_equal(hwpt_alloc(&f, IOFD_HWPT_ALLOC_DIRTY_TRACKING | IOFD_HWPT_ALLOC_NEST_PARENT,
				    &id),
			 -EOPNOTSUPP);
	assert_int_equal(iofd_object_count(f.ctx), before);
	assert_int_equal(hwpt_alloc(&f, IOFD_HWPT_ALLOC_NEST_PARENT, &plain), 0);
	assert_int_equal(set_tracking(&f, plain, true), -EOPNOTSUPP);
	fx_down(&f);
}

/* Write, read, clear and NO_CLEAR, on either architecture. */
static void check_write_read_clear(const char *model)
{
	struct fx f;
	dirty_setup(&f, model);
	assert_int_equal(set_tracking(&f, f.hwpt, true), 0);
	/* Turning tracking on starts from a clean table. */
	assert_int_equal(dirty_pages(&f, 0), 0);

	/* A write marks its page (bit 3 for IOVA 0x3000), a read does not. */
	dma(0x3000, true);
	dma(0x5000, false);
	dma(0x3ffc, false);
	assert_int_equal(dirty_pages(&f, IOFD_HWPT_GET_DIRTY_BITMAP_NO_CLEAR), UINT64_C(1) << 3);
	/* NO_CLEAR left it: the next read reports it again, and clears it. */
	assert_int_equal(dirty_pages(&f, 0), UINT64_C(1) << 3);
	assert_int_equal(dirty_pages(&f, 0), 0);

	/* After the clearing read a new write through the same page (its
	 * translation was cached by the first one) is recorded again. */
	dma(0x3010, true);
	assert_int_equal(dirty_pages(&f, 0), UINT64_C(1) << 3);

	/* Several pages, the last one of the mapping included; a write
	 * crossing a page boundary marks both pages. */
	dma(0x0000, true);
	dma((PAGES - 1) * 4096, true);
	uint8_t b[8] = {0};
	assert_int_equal(iofd_host_dma(SID, 0x9ffc, b, sizeof(b), true, NULL), 0);
	assert_int_equal(dirty_pages(&f, 0), UINT64_C(1) | (UINT64_C(1) << 9) |
						 (UINT64_C(1) << 10) | (UINT64_C(1) << (PAGES - 1)));
	assert_int_equal(dirty_pages(&f, 0), 0);
	fx_down(&f);
}

static void test_vtd_write_read_clear(void **state)
{
	(void)state;
	check_write_read_clear(vtd_dirty);
}

static void test_smmu_write_read_clear(void **state)
{
	(void)state;
	check_write_read_clear(smmu_dirty);
}

/* Bits count page_size units from the bitmap's iova. */
static void test_bitmap_page_size(void **state)
{
	(void)state;
	struct fx f;
	uint64_t bm[2];
	dirty_setup(&f, vtd_dirty);
	assert_int_equal(set_tracking(&f, f.hwpt, true), 0);
	dma(0x3000, true);
	dma(0x21000, true);
	/* 8 KiB units: pages 3 and 0x21 are in units 1 and 16. */
	assert_int_equal(get_bitmap(&f, f.hwpt, IOFD_HWPT_GET_DIRTY_BITMAP_NO_CLEAR, 0, GUEST_SIZE,
				    8192, bm, 2),
			 0);
	assert_int_equal(bm[0], (UINT64_C(1) << 1) | (UINT64_C(1) << 16));
	/* From IOVA 0x20000 in 4 KiB units: only page 0x21, bit 1. */
	assert_int_equal(get_bitmap(&f, f.hwpt, IOFD_HWPT_GET_DIRTY_BITMAP_NO_CLEAR, 0x20000,
				    0x20000, 4096, bm, 2),
			 0);
	assert_int_equal(bm[0], UINT64_C(1) << 1);
	/* One 2 MiB unit covers everything mapped. */
	assert_int_equal(get_bitmap(&f, f.hwpt, 0, 0, 2 << 20, 2 << 20, bm, 2), 0);
	assert_int_equal(bm[0], 1);
	assert_int_equal(dirty_pages(&f, 0), 0);
	fx_down(&f);
}

/* VT-d 3.7.2: without SSADE the hardware updates no A/D bits, so writes
 * made while tracking is off are never reported, and a bitmap read with
 * tracking off reports nothing. */
static void test_vtd_tracking_off(void **state)
{
	(void)state;
	struct fx f;
	dirty_setup(&f, vtd_dirty);
	dma(0x1000, true);
	assert_int_equal(dirty_pages(&f, 0), 0);
	assert_int_equal(set_tracking(&f, f.hwpt, true), 0);
	assert_int_equal(dirty_pages(&f, 0), 0); /* the earlier write left no D bit */
	dma(0x2000, true);
	assert_int_equal(set_tracking(&f, f.hwpt, false), 0);
	dma(0x4000, true);
	/* Tracking off: nothing is read (the page-2 write is still recorded
	 * in its leaf, and turning tracking on again cleans it). */
	assert_int_equal(dirty_pages(&f, 0), 0);
	assert_int_equal(set_tracking(&f, f.hwpt, true), 0);
	assert_int_equal(dirty_pages(&f, 0), 0);
	dma(0x4000, true);
	assert_int_equal(dirty_pages(&f, 0), UINT64_C(1) << 4);
	fx_down(&f);
}

/* D8.5: a read-only leaf has no DBM and stays read-only: the write faults
 * and nothing becomes dirty.  The same holds on VT-d (no W, no D). */
static void check_read_only(const char *model)
{
	struct fx f;
	uint64_t bm[1];
	dirty_setup(&f, model);
	assert_int_equal(map(&f, RO_IOVA, 0, 4 * 4096, IOFD_MAP_READABLE), 0);
	assert_int_equal(set_tracking(&f, f.hwpt, true), 0);
	uint8_t b[4] = {0};
	struct ims_fault fault;
	assert_int_equal(iofd_host_dma(SID, RO_IOVA + 0x1000, b, sizeof(b), true, &fault), -EFAULT);
	dma(RO_IOVA + 0x2000, false);
	assert_int_equal(get_bitmap(&f, f.hwpt, 0, RO_IOVA, 4 * 4096, 4096, bm, 1), 0);
	assert_int_equal(bm[0], 0);
	/* The same memory written through its writable mapping is dirty there. */
	dma(0x1000, true);
	assert_int_equal(dirty_pages(&f, 0), UINT64_C(1) << 1);
	assert_int_equal(get_bitmap(&f, f.hwpt, 0, RO_IOVA, 4 * 4096, 4096, bm, 1), 0);
	assert_int_equal(bm[0], 0);
	fx_down(&f);
}

static void test_vtd_read_only(void **state)
{
	(void)state;
	check_read_only(vtd_dirty);
}

static void test_smmu_read_only(void **state)
{
	(void)state;
	check_read_only(smmu_dirty);
}

/* A device attached after tracking was turned on records too (its PASID
 * entry gets SSADE / its CD gets HA and HD); after detach and reattach the
 * same holds. */
static void check_attach_later(const char *model)
{
	struct fx f;
	fx_up(&f, model);
	assert_int_equal(map(&f, 0, 0, GUEST_SIZE, RW), 0);
	assert_int_equal(hwpt_alloc(&f, IOFD_HWPT_ALLOC_DIRTY_TRACKING, &f.hwpt), 0);
	assert_int_equal(set_tracking(&f, f.hwpt, true), 0);
	uint32_t pt = f.hwpt;
	assert_int_equal(iofd_host_attach(f.ctx, f.dev, &pt), 0);
	dma(0x7000, true);
	assert_int_equal(dirty_pages(&f, 0), UINT64_C(1) << 7);
	assert_int_equal(iofd_host_detach(f.ctx, f.dev), 0);
	pt = f.hwpt;
	assert_int_equal(iofd_host_attach(f.ctx, f.dev, &pt), 0);
	dma(0x8000, true);
	assert_int_equal(dirty_pages(&f, 0), UINT64_C(1) << 8);
	fx_down(&f);
}

static void test_vtd_attach_later(void **state)
{
	(void)state;
	check_attach_later(vtd_dirty);
}

static void test_smmu_attach_later(void **state)
{
	(void)state;
	check_attach_later(smmu_dirty);
}

static int teardown(void **state)
{
	(void)state;
	if (live_ctx) {
		iofd_close(live_ctx);
		munmap(live_guest, GUEST_SIZE);
		iofd_host_fini();
		live_ctx = NULL;
	}
	return 0;
}

/* Intel SDM 4.5 entry bits of the guest's first-stage tables. */
#define PTE_TABLE (UINT64_C(1) << 0 | UINT64_C(1) << 1 | UINT64_C(1) << 2) /* P, R/W, U/S */
#define GVA UINT64_C(0x40000000)

static void put64(uint8_t *mem, uint64_t gpa, uint64_t v)
{
	memcpy(mem + gpa, &v, 8);
}

/* A nested HWPT over a dirty-tracking nest parent (VT-d 9.6: SSADE in
 * the nested PASID entry too): a DMA write through the guest's stage 1
 * sets D in the parent's second-stage leaf of the guest page written, so
 * the parent's bitmap shows that guest-physical page; a page only read
 * does not show.  (Whether the pages holding the guest's tables show too
 * depends on first-stage A/D writes and is not checked.) */
static void test_vtd_nested_parent(void **state)
{
	(void)state;
	struct fx f;
	uint32_t s1;
	fx_up(&f, vtd_dirty);
	assert_int_equal(map(&f, 0, 0, GUEST_SIZE, RW), 0);
	/* Guest tables at GPA 0x1000-0x4000: GVA + i * 4 KiB -> GPA 0x8000 + i * 4 KiB. */
	put64(f.guest, 0x1000, 0x2000 | PTE_TABLE);         /* PML4[0] */
	put64(f.guest, 0x2000 + 8 * 1, 0x3000 | PTE_TABLE); /* PDPT[1]: 1 GiB */
	put64(f.guest, 0x3000, 0x4000 | PTE_TABLE);         /* PD[0] */
	put64(f.guest, 0x4000, 0x8000 | PTE_TABLE);         /* PT[0] */
	put64(f.guest, 0x4000 + 8, 0x9000 | PTE_TABLE);     /* PT[1] */
	assert_int_equal(hwpt_alloc(&f, IOFD_HWPT_ALLOC_NEST_PARENT | IOFD_HWPT_ALLOC_DIRTY_TRACKING,
				    &f.hwpt),
			 0);
	struct iofd_hwpt_vtd_s1 data = {.pgtbl_addr = 0x1000, .addr_width = 48};
	struct iofd_hwpt_alloc a = {.size = sizeof(a), .dev_id = f.dev, .pt_id = f.hwpt,
				    .data_type = IOFD_HWPT_DATA_VTD_S1, .data_len = sizeof(data),
				    .data_uptr = (uintptr_t)&data};
	assert_int_equal(ioc(f.ctx, IOFD_NR_HWPT_ALLOC, &a), 0);
	s1 = a.out_hwpt_id;
	uint32_t pt = s1;
	assert_int_equal(iofd_host_attach(f.ctx, f.dev, &pt), 0);
	/* Tracking turned on with the nested HWPT already attached. */
	assert_int_equal(set_tracking(&f, f.hwpt, true), 0);
	assert_int_equal(dirty_pages(&f, 0) & ((UINT64_C(1) << 8) | (UINT64_C(1) << 9)), 0);
	dma(GVA + 0x10, false);
	dma(GVA + 0x1010, true);
	assert_memory_equal(f.guest + 0x9010, "\x01\x02\x03\x04", 4);
	uint64_t got = dirty_pages(&f, 0);
	assert_true(got & (UINT64_C(1) << 9));
	assert_false(got & (UINT64_C(1) << 8));
	/* Cleared, then written again through the nested translation. */
	assert_int_equal(dirty_pages(&f, 0) & (UINT64_C(1) << 9), 0);
	dma(GVA + 0x1020, true);
	assert_true(dirty_pages(&f, 0) & (UINT64_C(1) << 9));
	/* Attached again while tracking is on. */
	assert_int_equal(iofd_host_detach(f.ctx, f.dev), 0);
	pt = s1;
	assert_int_equal(iofd_host_attach(f.ctx, f.dev, &pt), 0);
	dma(GVA + 0x1030, true);
	assert_true(dirty_pages(&f, 0) & (UINT64_C(1) << 9));
	fx_down(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_capability_per_model, teardown),
		cmocka_unit_test_teardown(test_alloc_rules, teardown),
		cmocka_unit_test_teardown(test_vtd_write_read_clear, teardown),
		cmocka_unit_test_teardown(test_smmu_write_read_clear, teardown),
		cmocka_unit_test_teardown(test_bitmap_page_size, teardown),
		cmocka_unit_test_teardown(test_vtd_tracking_off, teardown),
		cmocka_unit_test_teardown(test_vtd_read_only, teardown),
		cmocka_unit_test_teardown(test_smmu_read_only, teardown),
		cmocka_unit_test_teardown(test_vtd_attach_later, teardown),
		cmocka_unit_test_teardown(test_smmu_attach_later, teardown),
		cmocka_unit_test_teardown(test_vtd_nested_parent, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
