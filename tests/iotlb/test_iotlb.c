/*
 * test_iotlb.c - the IOTLB, configuration caches and walk caches, through
 * the real VT-d translation path (ims_translate()).
 *
 * Reference: VT-d spec rev 4.x / 5.0: 6.2 (caching of translations: context
 * cache 6.2.2, PASID cache 6.2.3, IOTLB 6.2.4, paging-structure caches
 * 6.2.5, nested combined entries 6.2.4 / 6.2.5), 3.6.2 and 3.7.1 (access
 * rights of each stage), 3.6.3 (first-stage A/D flags); and the model rules
 * in the header comments of iotlb/iotlb.c (one IOTLB probe per page size
 * held, so a large entry is found from any 4 KiB page it covers) and
 * engine/iommu.c (a hit lacking the permission, or a first write through an
 * entry filled by a read, walks again).
 *
 * Tables are written from raw VT-d bits by vtd_world.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "vtd_world.h"

#define DEV 8  /* 00:01.0 */
#define R IMS_ACC_READ
#define W IMS_ACC_WRITE

static const char *const geoms[] = {
	"{\"entries\":64,\"ways\":4,\"policy\":\"lru\"}",
	"{\"entries\":16,\"ways\":1,\"policy\":\"lru\"}",
	"{\"entries\":8,\"ways\":8,\"policy\":\"plru\"}",
	"{\"entries\":32,\"ways\":2,\"policy\":\"rr\"}",
	"{\"entries\":128,\"ways\":8,\"policy\":\"random\",\"seed\":9}",
};

/* IOTLB of the given geometry plus context and PASID caches (so that a hit
 * needs no memory read at all). */
static struct world *world_with_iotlb(const char *geom)
{
	char caches[256];

	snprintf(caches, sizeof(caches),
		 "{\"iotlb\":%s,\"context\":{\"entries\":8},\"pasid\":{\"entries\":8}}", geom);
	return w_new(caches, NULL);
}

static void check_hit(struct world *w, uint64_t va, uint64_t pa, unsigned lg2)
{
	struct ims_result *r = xl(w, DEV, 1, va, R);

	if (!r->ok || !r->iotlb_hit || n_mem(r) || r->out_addr != pa || r->page_lg2 != lg2)
		fail_msg("va %#llx: ok %d hit %d reads %u out %#llx (want %#llx) lg2 %u (want %u)",
			 (unsigned long long)va, r->ok, r->iotlb_hit, n_mem(r),
			 (unsigned long long)r->out_addr, (unsigned long long)pa, r->page_lg2, lg2);
}

/*
 * A large leaf of one stage (first stage: PDE/PDPE with PS; second stage:
 * SS-PDE/SS-PDPE with PS) is walked once and then found from every 4 KiB
 * page it covers (stride 1: all of them; larger strides sample densely and
 * always include both ends and every 2 MiB boundary's neighbours).  A 4 KiB
 * entry of the same domain is filled first, so the IOTLB holds two page
 * sizes and every lookup probes both.
 */
static void sweep(const char *geom, unsigned pgtt, unsigned lg2, uint64_t stride)
{
	struct world *w = world_with_iotlb(geom);
	uint64_t root = w_page(w);
	uint64_t va = lg2 == 21 ? 0x7f8000600000ull : 0x7f8040000000ull;
	uint64_t out = lg2 == 21 ? 0x12345600000ull : 0x2340000000ull;
	uint64_t size = 1ull << lg2, pages = size >> 12;
	const struct ims_cache_stats *st;
	struct ims_result *r;

	w_context(w, DEV);
	if (pgtt == PGTT_FS) {
		w_pasid(w, 1, PGTT_FS, 5, root, 0);
		fs_map(w, root, va, out, lg2, FS_RW | FS_US);
		fs_map(w, root, 0x1000, 0x5000, 12, FS_RW | FS_US);
	} else {
		w_pasid(w, 1, PGTT_SS, 5, 0, root);
		ss_map(w, root, va, out, lg2, SS_R | SS_W);
		ss_map(w, root, 0x1000, 0x5000, 12, SS_R | SS_W);
	}
	r = xl(w, DEV, 1, 0x1008, R);
	assert_true(r->ok);
	assert_false(r->iotlb_hit);
	assert_int_equal(r->page_lg2, 12);
	/* The first touch of the large page, in its middle, walks. */
	r = xl(w, DEV, 1, va + size / 2 + 0x40, R);
	assert_true(r->ok);
	assert_false(r->iotlb_hit);
	assert_true(n_mem(r) > 0);
	assert_int_equal(r->page_lg2, lg2);
	assert_int_equal(r->out_addr, out + size / 2 + 0x40);

	st = ims_iommu_cache_stats(w->io, IMS_ST_IOTLB);
	assert_non_null(st);
	for (uint64_t p = 0; p < pages; p += stride)
		check_hit(w, va + (p << 12) + 0xffc, out + (p << 12) + 0xffc, lg2);
	/* Both ends and the pages around every 2 MiB boundary inside. */
	check_hit(w, va, out, lg2);
	check_hit(w, va + size - 4, out + size - 4, lg2);
	for (uint64_t b = 0x200000; b < size; b += 0x200000) {
		check_hit(w, va + b - 0x1000, out + b - 0x1000, lg2);
		check_hit(w, va + b, out + b, lg2);
	}
	/* Every hit was counted as one (the misses are the 4 KiB probes). */
	assert_true(st->hits >= pages / stride + 2);
	w_free(w);
}

static void test_fs_2m_every_page(void **state)
{
	(void)state;
	for (size_t g = 0; g < sizeof(geoms) / sizeof(geoms[0]); g++)
		sweep(geoms[g], PGTT_FS, 21, 1);
}

static void test_fs_1g_every_page(void **state)
{
	(void)state;
	for (size_t g = 0; g < sizeof(geoms) / sizeof(geoms[0]); g++)
		sweep(geoms[g], PGTT_FS, 30, g == 0 ? 1 : 7);
}

static void test_ss_2m_every_page(void **state)
{
	(void)state;
	for (size_t g = 0; g < sizeof(geoms) / sizeof(geoms[0]); g++)
		sweep(geoms[g], PGTT_SS, 21, 1);
}

static void test_ss_1g_every_page(void **state)
{
	(void)state;
	for (size_t g = 0; g < sizeof(geoms) / sizeof(geoms[0]); g++)
		sweep(geoms[g], PGTT_SS, 30, g == 1 ? 1 : 7);
}

/* A nested world: PASID 2 nested in domain 9, stage-1 root returned. */
static struct world *nested_world(const char *caches, uint64_t *s1, uint64_t *s2)
{
	struct world *w = w_new(caches, NULL);

	w_context(w, DEV);
	*s2 = w_nested_s2(w);
	*s1 = w_page(w);
	w_pasid(w, 2, PGTT_NESTED, 9, *s1, *s2);
	return w;
}

/*
 * Nested combined entries (6.2.4): the entry keeps the AND of both stages'
 * permissions and the smaller of the two page sizes.
 *
 * Stage 1: IOVA 0x40000000 -> GPA 0x800000, a 2 MiB PDE (PS) with R/W=1,
 * U/S=1, XD=0.  3.6.2: user read, write and execute; supervisor read and
 * write; supervisor execute is refused on a user page:
 *   s1 = R | W | X | PR | PW.
 * Stage 2: GPA 0x800000-0x801fff as two 4 KiB SS-PTEs, the first R only,
 * the second R|W.  3.7.1 without SSEE: X is not checked (granted), privilege
 * does not matter:  s2(R) = R | X | PR | PX,  s2(RW) = all six.
 * Combined: page 0: R | X | PR;  page 1: R | W | X | PR | PW.  Both 4 KiB.
 */
static void test_nested_combined(void **state)
{
	uint64_t s1, s2;
	struct world *w = nested_world("{\"iotlb\":{\"entries\":64,\"ways\":4},"
				       "\"context\":{\"entries\":8},\"pasid\":{\"entries\":8}}",
				       &s1, &s2);
	struct ims_result *r;
	const unsigned p0 = IMS_PERM_R | IMS_PERM_X | IMS_PERM_PR;
	const unsigned p1 = IMS_PERM_R | IMS_PERM_W | IMS_PERM_X | IMS_PERM_PR | IMS_PERM_PW;

	(void)state;
	fs_map(w, s1, 0x40000000, 0x800000, 21, FS_RW | FS_US);
	ss_map(w, s2, 0x800000, 0x1800000, 12, SS_R);
	ss_map(w, s2, 0x801000, 0x1900000, 12, SS_R | SS_W);

	r = xl(w, DEV, 2, 0x40000010, R);
	assert_true(r->ok);
	assert_false(r->iotlb_hit);
	assert_int_equal(r->mode, IMS_XM_NESTED);
	assert_int_equal(r->out_addr, 0x1800010);
	assert_int_equal(r->ipa, 0x800010);
	assert_int_equal(r->page_lg2, 12);
	assert_int_equal(r->s1_page_lg2, 21);
	assert_int_equal(r->s2_page_lg2, 12);
	assert_int_equal(r->perm, p0);

	/* Same page: a hit with the same combined facts. */
	r = xl(w, DEV, 2, 0x40000ff0, R);
	assert_true(r->ok);
	assert_true(r->iotlb_hit);
	assert_int_equal(n_mem(r), 0);
	assert_int_equal(r->out_addr, 0x1800ff0);
	assert_int_equal(r->ipa, 0x800ff0);
	assert_int_equal(r->page_lg2, 12);
	assert_int_equal(r->s1_page_lg2, 21);
	assert_int_equal(r->perm, p0);

	/* The next 4 KiB page of the same stage-1 2 MiB page is not covered. */
	r = xl(w, DEV, 2, 0x40001000, R);
	assert_true(r->ok);
	assert_false(r->iotlb_hit);
	assert_true(n_mem(r) > 0);
	assert_int_equal(r->out_addr, 0x1900000);
	assert_int_equal(r->perm, p1);
	r = xl(w, DEV, 2, 0x40001004, R);
	assert_true(r->iotlb_hit);
	assert_int_equal(r->perm, p1);

	/* A write to page 0: the cached entry lacks W, so it walks and faults
	 * in stage 2 (stage 1 allows the write). */
	r = xl(w, DEV, 2, 0x40000020, W);
	assert_false(r->ok);
	assert_false(r->iotlb_hit);
	assert_true(n_mem(r) > 0);
	assert_int_equal(r->fault.kind, IMS_FK_PERMISSION);
	assert_int_equal(r->fault.stage, 2);
	w_free(w);
}

/*
 * The other way round: stage-1 4 KiB over a stage-2 2 MiB leaf -> a 4 KiB
 * entry; and a stage-1 read-only page (R/W = 0, WPE = 0: supervisor writes
 * allowed, 3.6.2) over stage-2 R|W: combined R | X | PR | PW, no user W.
 */
static void test_nested_small_s1(void **state)
{
	uint64_t s1, s2;
	struct world *w = nested_world("{\"iotlb\":{\"entries\":16,\"ways\":1},"
				       "\"context\":{\"entries\":8},\"pasid\":{\"entries\":8}}",
				       &s1, &s2);
	struct ims_result *r;

	(void)state;
	fs_map(w, s1, 0x7000, 0xa03000, 12, FS_US);
	ss_map(w, s2, 0xa00000, 0x2a00000, 21, SS_R | SS_W);
	r = xl(w, DEV, 2, 0x7008, R);
	assert_true(r->ok);
	assert_int_equal(r->out_addr, 0x2a03008);
	assert_int_equal(r->page_lg2, 12);
	assert_int_equal(r->s1_page_lg2, 12);
	assert_int_equal(r->s2_page_lg2, 21);
	assert_int_equal(r->perm, IMS_PERM_R | IMS_PERM_X | IMS_PERM_PR | IMS_PERM_PW);
	r = xl(w, DEV, 2, 0x7010, R);
	assert_true(r->iotlb_hit);
	assert_int_equal(r->page_lg2, 12);
	assert_int_equal(r->perm, IMS_PERM_R | IMS_PERM_X | IMS_PERM_PR | IMS_PERM_PW);
	/* The neighbouring IOVA page is not covered by the 4 KiB entry. */
	fs_map(w, s1, 0x8000, 0xa04000, 12, FS_US);
	r = xl(w, DEV, 2, 0x8000, R);
	assert_true(r->ok);
	assert_false(r->iotlb_hit);
	w_free(w);
}

/*
 * A write after a read to the same page (3.6.3): the read fills an entry
 * whose D flag is not yet set in memory, so the first write walks again to
 * set it, then writes hit.  Reads keep hitting throughout.
 */
static void test_write_after_read(void **state)
{
	struct world *w = world_with_iotlb(geoms[0]);
	uint64_t root = w_page(w), pte;
	struct ims_result *r;

	(void)state;
	w_context(w, DEV);
	w_pasid(w, 1, PGTT_FS, 5, root, 0);
	pte = fs_map(w, root, 0x3000, 0x9000, 12, FS_RW | FS_US);

	r = xl(w, DEV, 1, 0x3000, R);
	assert_true(r->ok);
	assert_false(r->iotlb_hit);
	assert_int_equal(n_reads(r, IMS_READ_S1), 4);
	assert_true(rd(w, pte) & FS_A);
	assert_false(rd(w, pte) & FS_D);

	r = xl(w, DEV, 1, 0x3004, R);
	assert_true(r->iotlb_hit);
	assert_int_equal(n_mem(r), 0);

	r = xl(w, DEV, 1, 0x3008, W);
	assert_true(r->ok);
	assert_false(r->iotlb_hit);
	assert_int_equal(n_reads(r, IMS_READ_S1), 4);
	assert_true(rd(w, pte) & FS_D);

	r = xl(w, DEV, 1, 0x300c, W);
	assert_true(r->ok);
	assert_true(r->iotlb_hit);
	assert_int_equal(n_mem(r), 0);
	r = xl(w, DEV, 1, 0x3010, R);
	assert_true(r->iotlb_hit);
	assert_int_equal(n_mem(r), 0);
	w_free(w);
}

/*
 * A permission failure on a hit: a user read fills an entry for a read-only
 * user page (R/W = 0); a user write finds it without W, walks again and
 * faults (3.6.2: user writes need R/W = 1).  The entry stays for reads.
 */
static void test_perm_fail_on_hit(void **state)
{
	struct world *w = world_with_iotlb(geoms[1]);
	uint64_t root = w_page(w);
	struct ims_result *r;
	const struct ims_cache_stats *st;
	uint64_t hits;

	(void)state;
	w_context(w, DEV);
	w_pasid(w, 1, PGTT_FS, 5, root, 0);
	fs_map(w, root, 0x5000, 0xb000, 12, FS_US);
	st = ims_iommu_cache_stats(w->io, IMS_ST_IOTLB);

	r = xl(w, DEV, 1, 0x5000, R);
	assert_true(r->ok);
	r = xl(w, DEV, 1, 0x5000, R);
	assert_true(r->iotlb_hit);
	hits = st->hits;

	r = xl(w, DEV, 1, 0x5100, W);
	assert_false(r->ok);
	assert_false(r->iotlb_hit);
	assert_int_equal(n_reads(r, IMS_READ_S1), 4);
	assert_int_equal(r->fault.kind, IMS_FK_PERMISSION);
	assert_int_equal(r->fault.stage, 1);
	assert_int_equal(r->fault.level, 0);
	/* The refused hit is counted as a miss, not a hit. */
	assert_int_equal(st->hits, hits);

	r = xl(w, DEV, 1, 0x5200, R);
	assert_true(r->ok);
	assert_true(r->iotlb_hit);
	w_free(w);
}

/*
 * Configuration caches (6.2.2, 6.2.3): a context-cache hit skips the root
 * and context entry reads, a PASID-cache hit skips the PASID directory and
 * PASID table entry reads.  No IOTLB, so each translation walks; the
 * configuration reads are counted alone.
 */
static void test_config_caches(void **state)
{
	static const struct {
		const char *caches;
		unsigned first, again, other_pasid;
	} cases[] = {
		/* No caches: root, context, PASID dir, PASID entry every time. */
		{ NULL, 4, 4, 4 },
		{ "{\"context\":{\"entries\":4}}", 4, 2, 2 },
		{ "{\"pasid\":{\"entries\":4}}", 4, 2, 4 },
		{ "{\"context\":{\"entries\":4},\"pasid\":{\"entries\":4,\"ways\":2}}", 4, 0, 2 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct world *w = w_new(cases[i].caches, NULL);
		uint64_t root = w_page(w);
		struct ims_result *r;
		unsigned hits;

		w_context(w, DEV);
		w_pasid(w, 1, PGTT_FS, 5, root, 0);
		w_pasid(w, 3, PGTT_FS, 6, root, 0);
		fs_map(w, root, 0x3000, 0x9000, 12, FS_RW | FS_US);

		r = xl(w, DEV, 1, 0x3000, R);
		assert_true(r->ok);
		assert_int_equal(n_reads(r, IMS_READ_CONFIG), cases[i].first);
		r = xl(w, DEV, 1, 0x3000, R);
		assert_true(r->ok);
		assert_int_equal(n_reads(r, IMS_READ_CONFIG), cases[i].again);
		assert_int_equal(n_reads(r, IMS_READ_S1), 4);
		if (cases[i].caches && strstr(cases[i].caches, "context")) {
			assert_int_equal(n_lookups(r, IMS_ST_CONTEXT, &hits), 1);
			assert_int_equal(hits, 1);
		}
		r = xl(w, DEV, 3, 0x3000, R);
		assert_true(r->ok);
		assert_int_equal(r->domain, 6);
		assert_int_equal(n_reads(r, IMS_READ_CONFIG), cases[i].other_pasid);
		if (cases[i].caches && strstr(cases[i].caches, "pasid")) {
			assert_int_equal(n_lookups(r, IMS_ST_PASID, &hits), 1);
			assert_int_equal(hits, 0);
		}
		w_free(w);
	}
}

/*
 * Paging-structure caches (6.2.5): a hit on the entry of level l gives the
 * table of level l-1 directly, so the walk reads only levels l-1..0.
 * First stage, 4 levels, no IOTLB.  From a walk of A:
 *   A + 4 KiB     same PT        -> PDE cached (level 1): 1 read
 *   A + 2 MiB     same PD        -> PDPE cached (level 2): 2 reads
 *   A + 1 GiB     same PDPT      -> PML4E cached (level 3): 3 reads
 *   A + 512 GiB   new PML4E      -> nothing cached: 4 reads
 * and the same for second stage alone with the stage-2 walk cache.
 */
static void test_walk_cache_levels(void **state)
{
	static const uint64_t step[] = { 0x1000, 0x200000, 0x40000000, 0x8000000000ull };
	static const unsigned want[] = { 1, 2, 3, 4 };

	(void)state;
	for (int stage = 1; stage <= 2; stage++) {
		struct world *w = w_new(stage == 1 ? "{\"pwc_s1\":{\"entries\":16,\"ways\":4}}"
						   : "{\"pwc_s2\":{\"entries\":16,\"ways\":4}}",
					NULL);
		uint64_t root = w_page(w), a = 0x10000000000ull;
		int kind = stage == 1 ? IMS_READ_S1 : IMS_READ_S2;
		enum ims_struct_id id = stage == 1 ? IMS_ST_PWC_S1 : IMS_ST_PWC_S2;
		struct ims_result *r;

		w_context(w, DEV);
		w_pasid(w, 1, stage == 1 ? PGTT_FS : PGTT_SS, 5, stage == 1 ? root : 0,
			stage == 2 ? root : 0);
		for (unsigned i = 0; i <= 4; i++) {
			uint64_t va = a + (i ? step[i - 1] : 0);

			if (stage == 1)
				fs_map(w, root, va, 0x100000 + i * 0x1000, 12, FS_RW | FS_US);
			else
				ss_map(w, root, va, 0x100000 + i * 0x1000, 12, SS_R | SS_W);
		}
		r = xl(w, DEV, 1, a, R);
		assert_true(r->ok);
		assert_int_equal(n_reads(r, kind), 4);
		for (unsigned i = 0; i < 4; i++) {
			unsigned hits;

			r = xl(w, DEV, 1, a + step[i], R);
			assert_true(r->ok);
			assert_int_equal(r->out_addr, 0x100000 + (i + 1) * 0x1000);
			assert_int_equal(n_reads(r, kind), want[i]);
			assert_int_equal(n_lookups(r, id, &hits), 1);
			assert_int_equal(hits, want[i] < 4);
			/* The cached entry is of level 4 - want: its record says so. */
			for (unsigned k = 0; k < r->nreads; k++)
				if (r->reads[k].kind == IMS_READ_CACHE && r->reads[k].label == id)
					assert_int_equal(r->reads[k].level,
							 want[i] < 4 ? (int)want[i] : -1);
		}
		w_free(w);
	}
}

/*
 * Nested: with both walk caches and the nested TLB, the next page after a
 * full 2-D walk needs only the stage-1 PTE (its table's host address comes
 * from the stage-1 walk cache, no stage-2 walk for it) and the final
 * stage-2 PTE (the stage-2 walk cache holds the SS-PDE above it).
 */
static void test_nested_walk_caches(void **state)
{
	uint64_t s1, s2;
	struct world *w = nested_world("{\"pwc_s1\":{\"entries\":16,\"ways\":4},"
				       "\"pwc_s2\":{\"entries\":16,\"ways\":4},"
				       "\"nested_tlb\":{\"entries\":8}}",
				       &s1, &s2);
	struct ims_result *r;

	(void)state;
	fs_map(w, s1, 0x7f0000000000ull, 0xc00000, 12, FS_RW | FS_US);
	fs_map(w, s1, 0x7f0000001000ull, 0xc01000, 12, FS_RW | FS_US);
	ss_map(w, s2, 0xc00000, 0x3c00000, 12, SS_R | SS_W);
	ss_map(w, s2, 0xc01000, 0x3c01000, 12, SS_R | SS_W);

	r = xl(w, DEV, 2, 0x7f0000000000ull, R);
	assert_true(r->ok);
	assert_int_equal(n_reads(r, IMS_READ_S1), 4);
	r = xl(w, DEV, 2, 0x7f0000001000ull, R);
	assert_true(r->ok);
	assert_int_equal(r->out_addr, 0x3c01000);
	assert_int_equal(n_reads(r, IMS_READ_S1), 1);
	assert_int_equal(n_reads(r, IMS_READ_S2_FOR_TABLE), 0);
	assert_int_equal(n_reads(r, IMS_READ_S2), 1);
	w_free(w);
}

/* Domains and PASIDs do not share IOTLB entries. */
static void test_tags_separate(void **state)
{
	struct world *w = world_with_iotlb(geoms[0]);
	uint64_t ra = w_page(w), rb = w_page(w);
	struct ims_result *r;

	(void)state;
	w_context(w, DEV);
	w_pasid(w, 1, PGTT_FS, 5, ra, 0);
	w_pasid(w, 2, PGTT_FS, 5, rb, 0);  /* same domain, other PASID */
	w_pasid(w, 3, PGTT_FS, 6, ra, 0);  /* other domain, same tables */
	fs_map(w, ra, 0x3000, 0x9000, 12, FS_RW | FS_US);
	fs_map(w, rb, 0x3000, 0xa000, 12, FS_RW | FS_US);
	assert_int_equal(xl(w, DEV, 1, 0x3000, R)->out_addr, 0x9000);
	r = xl(w, DEV, 2, 0x3000, R);
	assert_false(r->iotlb_hit);
	assert_int_equal(r->out_addr, 0xa000);
	r = xl(w, DEV, 3, 0x3000, R);
	assert_false(r->iotlb_hit);
	assert_int_equal(r->out_addr, 0x9000);
	assert_true(xl(w, DEV, 1, 0x3000, R)->iotlb_hit);
	assert_true(xl(w, DEV, 2, 0x3000, R)->iotlb_hit);
	assert_true(xl(w, DEV, 3, 0x3000, R)->iotlb_hit);
	w_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fs_2m_every_page),
		cmocka_unit_test(test_fs_1g_every_page),
		cmocka_unit_test(test_ss_2m_every_page),
		cmocka_unit_test(test_ss_1g_every_page),
		cmocka_unit_test(test_nested_combined),
		cmocka_unit_test(test_nested_small_s1),
		cmocka_unit_test(test_write_after_read),
		cmocka_unit_test(test_perm_fail_on_hit),
		cmocka_unit_test(test_config_caches),
		cmocka_unit_test(test_walk_cache_levels),
		cmocka_unit_test(test_nested_walk_caches),
		cmocka_unit_test(test_tags_separate),
	};

	return cmocka_run_group_tests_name("iotlb-iotlb", tests, NULL, NULL);
}
