/*
 * test_devtlb.c - the device-TLB (ATS translation cache) model.
 *
 * VT-d spec rev 4.x: 9.4 (scalable-mode context entry bit 2 DTE: the
 * device may issue translation requests and cache the results), 6.5.2.6
 * (PASID-based-device-TLB invalidate, type 8: 31:16 SID, 51:32 PASID,
 * bit 64 G, bit 75 S, 127:76 ADDR), 6.5.2.4 (PASID-based-IOTLB invalidate,
 * type 6) and 6.5.3 (software must invalidate the device-TLB after the
 * IOTLB: an IOTLB invalidation does not reach the device's cache).
 * The device-TLB is looked up at the device, before the IOMMU: a hit is a
 * translation the IOMMU never sees.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <iommusim/iommusim.h>

/* The iotlb tests' world with ECAP.DT (bit 2) added for device-TLBs. */
#define W_VTD_SECTION                                                                   \
	"\"vtd\":{\"cap\":{\"ND\":6,\"SAGAW\":4,\"MGAW\":47,\"SLLPS\":3,\"PSI\":1,"      \
	"\"MAMV\":18,\"FS1GP\":1,\"NFR\":7},"                                           \
	"\"ecap\":{\"QI\":1,\"DT\":1,\"PT\":1,\"NEST\":1,\"PASID\":1,\"PSS\":19,"        \
	"\"SMTS\":1,\"SSTS\":1,\"FSTS\":1}}"
#include "vtd_world.h"

#define CACHES                                                                         \
	"{\"iotlb\":{\"entries\":64,\"ways\":4},\"context\":{\"entries\":8},"           \
	"\"pasid\":{\"entries\":8},\"devtlb\":{\"entries\":16,\"ways\":4}}"
#define TIMING "{\"mem_read\":100,\"lookup\":{\"devtlb\":1,\"iotlb\":2,\"context\":2,\"pasid\":2}}"

#define DEVFN 0x10
#define PASID 1
#define DID 5
#define VA 0x7f0000000000ull

/* A first-stage world for DEVFN/PASID mapping pages 0..n-1 of VA; DTE as asked. */
static struct world *world(bool dte, unsigned n, uint64_t *leaf)
{
	struct world *w = w_new(CACHES, TIMING);
	uint64_t root = w_page(w);

	w_context(w, DEVFN);
	if (dte) /* 9.4: DTE is bit 2 of the context entry's first word */
		wr(w, W_CTX + 32 * DEVFN, rd(w, W_CTX + 32 * DEVFN) | (1ull << 2));
	w_pasid(w, PASID, PGTT_FS, DID, root, 0);
	for (unsigned i = 0; i < n; i++) {
		uint64_t ea = fs_map(w, root, VA + 0x1000ull * i, 0x1000000 + 0x1000ull * i, 12,
				     FS_RW | FS_US);

		if (leaf)
			leaf[i] = ea;
	}
	return w;
}

static void submit(struct world *w, uint64_t w0, uint64_t w1)
{
	struct ims_inv inv;
	uint32_t code = 0;
	uint64_t words[2] = { w0, w1 };

	assert_int_equal(ims_decode_inv(w->io, words, 2, &inv, &code), 0);
	assert_int_equal(ims_invalidate(w->io, &inv, NULL), 0);
}

static void test_9_4_dte_lets_the_device_cache(void **state)
{
	struct world *w = world(true, 1, NULL);
	struct ims_result *r;
	unsigned hits;

	(void)state;
	r = xl(w, DEVFN, PASID, VA + 0x10, IMS_ACC_READ);
	assert_true(r->ok && !r->devtlb_hit);
	assert_int_equal(r->out_addr, 0x1000010);
	/* The second request hits the device's cache: no IOMMU lookup, no read. */
	r = xl(w, DEVFN, PASID, VA + 0x20, IMS_ACC_READ);
	assert_true(r->ok && r->devtlb_hit && !r->iotlb_hit);
	assert_int_equal(r->out_addr, 0x1000020);
	assert_int_equal(n_mem(r), 0);
	assert_int_equal(n_lookups(r, IMS_ST_DEVTLB, &hits), 1);
	assert_int_equal(hits, 1);
	assert_int_equal(n_lookups(r, IMS_ST_IOTLB, NULL), 0);
	assert_int_equal(n_lookups(r, IMS_ST_CONTEXT, NULL), 0);
	/* Its cost is the device-TLB lookup alone. */
	assert_int_equal(r->cycles, 1);
	w_free(w);
}

static void test_9_4_without_dte_nothing_is_cached_at_the_device(void **state)
{
	struct world *w = world(false, 1, NULL);
	struct ims_result *r;
	unsigned hits;

	(void)state;
	xl(w, DEVFN, PASID, VA, IMS_ACC_READ);
	r = xl(w, DEVFN, PASID, VA, IMS_ACC_READ);
	assert_true(r->ok && !r->devtlb_hit && r->iotlb_hit);
	assert_int_equal(n_lookups(r, IMS_ST_DEVTLB, &hits), 1);
	assert_int_equal(hits, 0);
	assert_int_equal(ims_iommu_cache_stats(w->io, IMS_ST_DEVTLB)->fills, 0);
	w_free(w);
}

static void test_6_5_3_iotlb_invalidation_leaves_the_device_tlb(void **state)
{
	uint64_t leaf[2];
	struct world *w = world(true, 2, leaf);
	struct ims_result *r;

	(void)state;
	xl(w, DEVFN, PASID, VA, IMS_ACC_READ);
	xl(w, DEVFN, PASID, VA + 0x1000, IMS_ACC_READ);
	/* Software unmaps page 0 and invalidates the IOTLB only (6.5.2.4, PASID-selective). */
	wr(w, leaf[0], 0);
	submit(w, 6 | (2ull << 4) | ((uint64_t)DID << 16) | ((uint64_t)PASID << 32), 0);
	r = xl(w, DEVFN, PASID, VA, IMS_ACC_READ);
	assert_true(r->ok && r->devtlb_hit); /* stale, as on hardware */
	/*
	 * 6.5.2.6: PASID-based-device-TLB invalidate of page 0 (S = 0: one
	 * 4 KiB page at ADDR).  Page 1 stays cached at the device.
	 */
	submit(w, 8 | ((uint64_t)DEVFN << 16) | ((uint64_t)PASID << 32), VA);
	r = xl(w, DEVFN, PASID, VA, IMS_ACC_READ);
	assert_false(r->ok);
	assert_int_equal(r->fault.arch_code, VTD_FR_SM_FS_NOT_PRESENT);
	r = xl(w, DEVFN, PASID, VA + 0x1000, IMS_ACC_READ);
	assert_true(r->ok && r->devtlb_hit);
	w_free(w);
}

static void test_6_5_2_6_other_pasid_and_needless(void **state)
{
	struct world *w = world(true, 1, NULL);
	const struct ims_cache_stats *st;

	(void)state;
	xl(w, DEVFN, PASID, VA, IMS_ACC_READ);
	/* Another PASID's invalidation leaves it (G = 0). */
	submit(w, 8 | ((uint64_t)DEVFN << 16) | ((uint64_t)(PASID + 1) << 32), VA);
	st = ims_iommu_cache_stats(w->io, IMS_ST_DEVTLB);
	assert_int_equal(st->invalidated, 0);
	/* Its own, with the tables unchanged: dropped, and needlessly. */
	submit(w, 8 | ((uint64_t)DEVFN << 16) | ((uint64_t)PASID << 32), VA);
	st = ims_iommu_cache_stats(w->io, IMS_ST_DEVTLB);
	assert_int_equal(st->invalidated, 1);
	assert_int_equal(st->needless, 1);
	w_free(w);
}

static void test_devtlb_write_needs_write_permission(void **state)
{
	uint64_t leaf;
	struct world *w = world(true, 1, &leaf);
	struct ims_result *r;

	(void)state;
	wr(w, leaf, rd(w, leaf) & ~FS_RW); /* read-only */
	xl(w, DEVFN, PASID, VA, IMS_ACC_READ);
	/* A write the cached translation does not allow goes to the IOMMU, and faults. */
	r = xl(w, DEVFN, PASID, VA, IMS_ACC_WRITE);
	assert_false(r->ok);
	assert_false(r->devtlb_hit);
	assert_int_equal(r->fault.arch_code, VTD_FR_SM_WRITE);
	w_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_9_4_dte_lets_the_device_cache),
		cmocka_unit_test(test_9_4_without_dte_nothing_is_cached_at_the_device),
		cmocka_unit_test(test_6_5_3_iotlb_invalidation_leaves_the_device_tlb),
		cmocka_unit_test(test_6_5_2_6_other_pasid_and_needless),
		cmocka_unit_test(test_devtlb_write_needs_write_permission),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
