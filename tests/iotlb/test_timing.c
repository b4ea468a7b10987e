/*
 * test_timing.c - the cycle model (model section "timing", iotlb/setup.c)
 * and the validation of the "caches" and "timing" sections.
 *
 * Rules (iotlb/setup.c, iotlb/iotlb.c, iotlb/invalidate.c, engine/iommu.c,
 * engine/walk.c header comments):
 *   - every memory read (configuration or table) costs mem_read;
 *   - every probe of a modelled structure costs lookup[structure]:
 *       context / PASID cache, nested TLB: one probe per lookup;
 *       IOTLB: one probe per page size it has held, smallest first,
 *         stopping at a hit (one probe when it has held nothing yet);
 *       walk caches: levels 1, 2, ... up to the hit, or all levels
 *         above the leaf table on a miss (3 for 4 levels);
 *   - an invalidation request costs inv_command, plus inv_sync when it
 *     completes (a wait descriptor).
 * Latencies are chosen distinct so that a wrong count cannot hide.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "vtd_world.h"

#define DEV 8
#define R IMS_ACC_READ
#define W IMS_ACC_WRITE

enum { MEM = 100, CMD = 30, SYNC = 500, L_IOTLB = 3, L_CTX = 5, L_PASID = 7, L_PWC1 = 11,
       L_PWC2 = 13, L_NTLB = 17 };

static const char *const timing =
	"{\"clock_mhz\":1000,\"mem_read\":100,\"inv_command\":30,\"inv_sync\":500,"
	"\"lookup\":{\"iotlb\":3,\"context\":5,\"pasid\":7,\"pwc_s1\":11,\"pwc_s2\":13,"
	"\"nested_tlb\":17}}";

/* The cost recorded step by step adds up to the translation's total. */
static void check_steps(const struct ims_result *r)
{
	uint64_t sum = 0;

	for (unsigned i = 0; i < r->nreads; i++)
		sum += r->reads[i].cycles;
	assert_int_equal(sum, r->cycles);
}

static uint64_t run(struct world *w, unsigned pasid, uint64_t va, unsigned acc, bool ok)
{
	struct ims_result *r = xl(w, DEV, pasid, va, acc);

	assert_int_equal(r->ok, ok);
	check_steps(r);
	return r->cycles;
}

/*
 * First stage, PASID 1; pages A = 0x1000, A' = 0x2000 (same PT),
 * C = 0x5000 (read-only), B = 0x200000 (2 MiB, PD[1]).  Expected cost of
 * each step, from the rules above:
 *   1 read A      ctx miss 5 + root, context 200 + PASID miss 7 + dir,
 *                 entry 200 + IOTLB (empty) 1 probe 3 + PWC miss 3 probes
 *                 33 + 4 reads 400                                  = 848
 *   2 read A      5 + 7 + IOTLB hit, 1 probe 3                      =  15
 *   3 read A'     5 + 7 + IOTLB miss 1 probe 3 + PWC hit L1 11
 *                 + PTE 100                                         = 126
 *   4 read B      5 + 7 + IOTLB 1 probe 3 + PWC L1 miss, L2 hit 22
 *                 + PDE 100                                         = 137
 *   5 read B+1M   5 + 7 + IOTLB 4K probe miss, 2M probe hit 6       =  18
 *   6 read A      5 + 7 + IOTLB 4K probe hits 3                     =  15
 *   7 write A     first write: 5 + 7 + IOTLB 3 (refused hit) + PWC
 *                 L1 hit 11 + PTE 100                               = 126
 *   8 write A     5 + 7 + 3                                         =  15
 *   I1 PASID-based page-selective invalidation of A (IH = 0)        =  30
 *   I2 invalidation wait                                 30 + 500   = 530
 *   9 read A      5 + 7 + IOTLB 2 probes 6 + PWC miss (PML4E, PDPE
 *                 and PDE of A went) 33 + 4 reads 400               = 451
 *  10 write C     5 + 7 + IOTLB 2 probes 6 + PWC L1 hit 11 + PTE 100,
 *                 permission fault                                  = 129
 * Translations: 1880 cycles; invalidations: 560.
 */
static void test_scripted_first_stage(void **state)
{
	struct world *w = w_new("{\"iotlb\":{\"entries\":16,\"ways\":4},"
				"\"context\":{\"entries\":4},\"pasid\":{\"entries\":4},"
				"\"pwc_s1\":{\"entries\":16,\"ways\":4}}",
				timing);
	uint64_t root = w_page(w), total = 0;
	const struct ims_stats *st = ims_iommu_stats(w->io);
	struct ims_inv inv;
	struct ims_inv_result res;
	uint64_t d[2];

	(void)state;
	assert_int_equal(ims_iommu_clock_mhz(w->io), 1000);
	w_context(w, DEV);
	w_pasid(w, 1, PGTT_FS, 5, root, 0);
	fs_map(w, root, 0x1000, 0x81000, 12, FS_RW | FS_US);
	fs_map(w, root, 0x2000, 0x82000, 12, FS_RW | FS_US);
	fs_map(w, root, 0x5000, 0x85000, 12, FS_US);
	fs_map(w, root, 0x200000, 0x1600000, 21, FS_RW | FS_US);

	total += run(w, 1, 0x1000, R, true);
	assert_int_equal(total, 848);
	assert_int_equal(run(w, 1, 0x1000, R, true), 15);
	assert_int_equal(run(w, 1, 0x2000, R, true), 126);
	assert_int_equal(run(w, 1, 0x200000, R, true), 137);
	assert_int_equal(run(w, 1, 0x300000, R, true), 18);
	assert_int_equal(run(w, 1, 0x1000, R, true), 15);
	assert_int_equal(run(w, 1, 0x1000, W, true), 126);
	assert_int_equal(run(w, 1, 0x1000, W, true), 15);
	total += 15 + 126 + 137 + 18 + 15 + 126 + 15;

	/* 6.5.2.4 PASID-based-IOTLB, page-selective (G 11b), DID 5, PASID 1, A. */
	d[0] = 0x6 | (3ull << 4) | (5ull << 16) | (1ull << 32);
	d[1] = 0x1000;
	assert_int_equal(ims_decode_inv(w->io, d, 2, &inv, NULL), 0);
	assert_int_equal(ims_invalidate(w->io, &inv, &res), 0);
	assert_int_equal(res.cycles, CMD);
	/* 6.5.2.8 invalidation wait (type 5), no status write. */
	d[0] = 0x5;
	d[1] = 0;
	assert_int_equal(ims_decode_inv(w->io, d, 2, &inv, NULL), 0);
	assert_int_equal(ims_invalidate(w->io, &inv, &res), 0);
	assert_int_equal(res.cycles, CMD + SYNC);

	assert_int_equal(run(w, 1, 0x1000, R, true), 451);
	assert_int_equal(run(w, 1, 0x5000, W, false), 129);
	total += 451 + 129;
	assert_int_equal(total, 1880);

	assert_int_equal(st->translations, 10);
	assert_int_equal(st->faults, 1);
	assert_int_equal(st->config_reads, 4);
	assert_int_equal(st->table_reads, 4 + 1 + 1 + 1 + 4 + 1);
	assert_int_equal(st->xlate_cycles, total);
	assert_int_equal(st->invalidations, 2);
	assert_int_equal(st->syncs, 1);
	assert_int_equal(st->inv_cycles, CMD + CMD + SYNC);
	/* The same totals from the latencies, term by term. */
	assert_int_equal(st->xlate_cycles,
			 (uint64_t)(st->config_reads + st->table_reads) * MEM + 10 * (L_CTX + L_PASID) +
				 L_IOTLB * (1 + 1 + 1 + 1 + 2 + 1 + 1 + 1 + 2 + 2) +
				 L_PWC1 * (3 + 1 + 2 + 1 + 3 + 1));
	w_free(w);
}

/*
 * Nested (PASID 2 nested, DID 9), no configuration caches, nested TLB only.
 * Stage 2 maps the pool (where the guest tables are) by 2 MiB leaves, so
 * translating a table address reads SS-PML4E, SS-PDPE, SS-PDE: 3 reads;
 * the final GPA is mapped by 4 KiB leaves: 4 reads.
 *   first page:  4 config reads + 4 x (nested-TLB miss 17 + 3 stage-2
 *                reads + 1 stage-1 read) + 4 final stage-2 reads
 *                = 24 reads 2400 + 68                              = 2468
 *   next page:   4 config + 4 x (nested-TLB hit 17 + 1 stage-1 read)
 *                + 4 final = 12 reads 1200 + 68                    = 1268
 * With no IOTLB modelled there is no IOTLB lookup to charge.
 */
static void test_scripted_nested(void **state)
{
	struct world *w = w_new("{\"nested_tlb\":{\"entries\":8}}", timing);
	uint64_t s2 = w_nested_s2(w), s1 = w_page(w);

	(void)state;
	w_context(w, DEV);
	w_pasid(w, 2, PGTT_NESTED, 9, s1, s2);
	fs_map(w, s1, 0x7f0000000000ull, 0xc00000, 12, FS_RW | FS_US);
	fs_map(w, s1, 0x7f0000001000ull, 0xc01000, 12, FS_RW | FS_US);
	ss_map(w, s2, 0xc00000, 0x3c00000, 12, SS_R | SS_W);
	ss_map(w, s2, 0xc01000, 0x3c01000, 12, SS_R | SS_W);
	assert_int_equal(run(w, 2, 0x7f0000000000ull, R, true), 24 * MEM + 4 * L_NTLB);
	assert_int_equal(run(w, 2, 0x7f0000001000ull, R, true), 12 * MEM + 4 * L_NTLB);
	assert_int_equal(ims_iommu_stats(w->io)->xlate_cycles, 2468 + 1268);
	w_free(w);
}

/* Without a "timing" section nothing costs anything. */
static void test_no_timing_is_free(void **state)
{
	struct world *w = w_new("{\"iotlb\":{\"entries\":8}}", NULL);
	uint64_t root = w_page(w);
	struct ims_inv inv = { .targets = IMS_INV_T_IOTLB | IMS_INV_T_SYNC,
			       .scope = IMS_INV_SCOPE_ALL };
	struct ims_inv_result res;

	(void)state;
	w_context(w, DEV);
	w_pasid(w, 1, PGTT_FS, 5, root, 0);
	fs_map(w, root, 0x1000, 0x81000, 12, FS_RW | FS_US);
	assert_int_equal(run(w, 1, 0x1000, R, true), 0);
	assert_int_equal(run(w, 1, 0x1000, R, true), 0);
	assert_int_equal(ims_invalidate(w->io, &inv, &res), 0);
	assert_int_equal(res.cycles, 0);
	assert_int_equal(res.dropped[IMS_ST_IOTLB], 1);
	w_free(w);
}

/* A bad "caches" or "timing" field is rejected with a message naming it. */
static void test_bad_fields(void **state)
{
	static const struct {
		const char *caches, *timing, *field;
	} cases[] = {
		{ "[]", NULL, "\"caches\"" },
		{ "{\"tlb\":{\"entries\":8}}", NULL, "caches.tlb" },
		{ "{\"iotlb\":8}", NULL, "caches.iotlb" },
		{ "{\"iotlb\":{\"entries\":48,\"ways\":4}}", NULL, "caches.iotlb" },
		{ "{\"iotlb\":{\"entries\":64,\"ways\":3}}", NULL, "caches.iotlb" },
		{ "{\"pwc_s1\":{\"entries\":8,\"ways\":16}}", NULL, "caches.pwc_s1" },
		{ "{\"pwc_s2\":{\"entries\":64,\"ways\":64,\"policy\":\"plru\"}}", NULL,
		  "caches.pwc_s2" },
		{ "{\"context\":{\"entries\":-4}}", NULL, "caches.context.entries" },
		{ "{\"pasid\":{\"entries\":4,\"ways\":\"two\"}}", NULL, "caches.pasid.ways" },
		{ "{\"iotlb\":{\"entries\":8,\"policy\":\"mru\"}}", NULL, "caches.iotlb.policy" },
		{ "{\"iotlb\":{\"entries\":8,\"policy\":3}}", NULL, "caches.iotlb.policy" },
		{ "{\"nested_tlb\":{\"entries\":8,\"colour\":1}}", NULL, "caches.nested_tlb.colour" },
		{ "{\"iotlb\":{\"entries\":8,\"seed\":-1}}", NULL, "caches.iotlb.seed" },
		{ NULL, "7", "\"timing\"" },
		{ NULL, "{\"mem_read\":\"slow\"}", "timing.mem_read" },
		{ NULL, "{\"inv_sync\":-1}", "timing.inv_sync" },
		{ NULL, "{\"inv_command\":4294967296}", "timing.inv_command" },
		{ NULL, "{\"clock_mhz\":0}", "timing.clock_mhz" },
		{ NULL, "{\"walk\":3}", "timing.walk" },
		{ NULL, "{\"lookup\":2}", "timing.lookup" },
		{ NULL, "{\"lookup\":{\"tlb\":2}}", "timing.lookup.tlb" },
		{ NULL, "{\"lookup\":{\"iotlb\":-2}}", "timing.lookup.iotlb" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct world *w = NULL;
		char err[512] = "";

		if (!w_try(&w, cases[i].caches, cases[i].timing, err, sizeof(err))) {
			w_free(w);
			fail_msg("case %zu accepted (%s / %s)", i, cases[i].caches ? cases[i].caches : "-",
				 cases[i].timing ? cases[i].timing : "-");
		}
		if (!strstr(err, cases[i].field))
			fail_msg("case %zu: message \"%s\" does not name %s", i, err, cases[i].field);
	}
	/* The good ones around them are accepted. */
	{
		struct world *w = NULL;
		char err[512] = "";

		assert_int_equal(w_try(&w,
				       "{\"iotlb\":{\"entries\":64,\"ways\":4,\"policy\":\"plru\"},"
				       "\"pwc_s1\":{\"entries\":32,\"ways\":32,\"policy\":\"plru\"},"
				       "\"context\":{\"entries\":0}}",
				       "{\"clock_mhz\":2000,\"lookup\":{},\"sources\":\"x\"}", err,
				       sizeof(err)),
				 0);
		assert_non_null(ims_iommu_cache_stats(w->io, IMS_ST_IOTLB));
		assert_non_null(ims_iommu_cache_stats(w->io, IMS_ST_PWC_S1));
		assert_null(ims_iommu_cache_stats(w->io, IMS_ST_CONTEXT)); /* 0 entries: off */
		assert_null(ims_iommu_cache_stats(w->io, IMS_ST_PASID));
		w_free(w);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scripted_first_stage),
		cmocka_unit_test(test_scripted_nested),
		cmocka_unit_test(test_no_timing_is_free),
		cmocka_unit_test(test_bad_fields),
	};

	return cmocka_run_group_tests_name("iotlb-timing", tests, NULL, NULL);
}
