/*
 * test_fastpath.c - the memo that replays all-hit translations (engine/
 * iommu.c, struct ims_fast) must be invisible: an instance translating with
 * IMS_TXN_NO_TRACE gives the same results, cycles, statistics and cache
 * replacement decisions as an identical instance translating with a full
 * trace, over seeded random streams of translations and invalidations.
 * Run for every replacement policy, with caches small enough to evict.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <iommusim/iommusim.h>

#define PAGES 96

struct inst {
	struct ims_model *m;
	struct ims_iommu *io;
};

/* Write an entry from raw VT-d bits. */
static void w64(struct ims_iommu *io, uint64_t at, uint64_t v)
{
	assert_int_equal(ims_mem_write64(ims_iommu_mem(io), at, v), IMS_MEM_OK);
}

/*
 * Scalable mode, device 00:02.0, PASIDs 1 and 2, first stage only (PGTT 1),
 * 4-level tables at 0x1000 (PASID 1) and 0x40000 (PASID 2) mapping IOVA
 * page n to HPA 0x200000 + n * 4 KiB (PASID 2: + 0x100000).
 * devtlb: the device has an ATC (context DTE, ECAP.DT) and the model a devtlb.
 */
static void build(struct inst *in, const char *policy, bool devtlb)
{
	char json[1024], err[256];
	uint64_t cap = (UINT64_C(4) << 8) | (UINT64_C(47) << 16);
	uint64_t ecap = (UINT64_C(1) << 43) | (UINT64_C(1) << 47) | (UINT64_C(1) << 40) |
			(UINT64_C(19) << 35) | (devtlb ? UINT64_C(1) << 2 : 0);

	snprintf(json, sizeof(json),
		 "{\"arch\":\"vtd\",\"haw\":46,\"vtd\":{\"cap\":\"0x%llx\",\"ecap\":\"0x%llx\"},"
		 "\"caches\":{\"iotlb\":{\"entries\":8,\"ways\":4,\"policy\":\"%s\",\"seed\":7},"
		 "\"context\":{\"entries\":2,\"ways\":2,\"policy\":\"%s\"},"
		 "\"pasid\":{\"entries\":2,\"ways\":1,\"policy\":\"%s\"},"
		 "\"pwc_s1\":{\"entries\":4,\"ways\":2,\"policy\":\"%s\"}%s},"
		 "\"timing\":{\"mem_read\":100,\"lookup\":{\"iotlb\":1,\"context\":2,\"pasid\":3,"
		 "\"pwc_s1\":4}}}",
		 (unsigned long long)cap, (unsigned long long)ecap, policy, policy, policy, policy,
		 devtlb ? ",\"devtlb\":{\"entries\":4,\"ways\":2}" : "");
	assert_int_equal(ims_model_parse(json, "fast", &in->m, err, sizeof(err)), 0);
	in->io = ims_iommu_new(in->m, err, sizeof(err));
	assert_non_null(in->io);
	assert_int_equal(ims_mem_add_ram(ims_iommu_mem(in->io), 0, 0x400000), 0);
	ims_iommu_set_reg(in->io, "RTADDR", 0x100000 | (1u << 10));
	ims_iommu_set_reg(in->io, "TE", 1);
	/* 9.2 root entry for bus 0: LP | LCTP. */
	w64(in->io, 0x100000, 0x101000 | 1);
	/* 9.4 context entry, devfn 0x10: P | PASIDE (| DTE), PDTS 0, PASIDDIRPTR. */
	w64(in->io, 0x101000 + 0x10 * 32, 0x102000 | 0x8 | (devtlb ? 0x4 : 0) | 1);
	/* 9.5 directory entry 0: P | table. */
	w64(in->io, 0x102000, 0x103000 | 1);
	for (unsigned p = 1; p <= 2; p++) {
		uint64_t root = p == 1 ? 0x1000 : 0x40000, pe = 0x103000 + 64 * p;

		/* 9.6 PASID entry: P, PGTT 1 (bits 8:6), DID = p, FSPTPTR. */
		w64(in->io, pe, 1 | (UINT64_C(1) << 6));
		w64(in->io, pe + 8, p);
		w64(in->io, pe + 16, root);
		/* PML4E[0] -> PDPT, PDPTE[0] -> PD, PDE[0] -> PT: P|RW|US. */
		w64(in->io, root, (root + 0x1000) | 7);
		w64(in->io, root + 0x1000, (root + 0x2000) | 7);
		w64(in->io, root + 0x2000, (root + 0x3000) | 7);
		for (unsigned n = 0; n < PAGES; n++)
			w64(in->io, root + 0x3000 + 8 * n,
			    (0x200000 + (p - 1) * 0x100000 + 4096ull * n) | 7);
	}
}

static uint64_t rng(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void same_stats(struct inst *a, struct inst *b)
{
	const struct ims_stats *x = ims_iommu_stats(a->io), *y = ims_iommu_stats(b->io);

	assert_int_equal(x->translations, y->translations);
	assert_int_equal(x->table_reads, y->table_reads);
	assert_int_equal(x->config_reads, y->config_reads);
	assert_int_equal(x->xlate_cycles, y->xlate_cycles);
	for (int id = 0; id < IMS_ST__COUNT; id++) {
		const struct ims_cache_stats *p = ims_iommu_cache_stats(a->io, id);
		const struct ims_cache_stats *q = ims_iommu_cache_stats(b->io, id);

		if (!p) {
			assert_null(q);
			continue;
		}
		assert_int_equal(p->lookups, q->lookups);
		assert_int_equal(p->hits, q->hits);
		assert_int_equal(p->misses, q->misses);
		assert_int_equal(p->fills, q->fills);
		assert_int_equal(p->evictions, q->evictions);
		assert_int_equal(p->invalidated, q->invalidated);
	}
}

static void run_opt(const char *policy, uint64_t seed, bool devtlb)
{
	struct inst a, b;
	static struct ims_result ra, rb;
	uint64_t s = seed;

	build(&a, policy, devtlb);
	build(&b, policy, devtlb);
	for (unsigned step = 0; step < 4000; step++) {
		uint64_t r = rng(&s);
		struct ims_txn t = { .sid = 0x10, .has_pasid = true, .size = 8 };

		if (r % 97 == 0) {
			/* Now and then, a page-selective invalidation of PASID 1 or 2. */
			struct ims_inv inv = { .targets = IMS_INV_T_IOTLB | IMS_INV_T_WALK |
							  IMS_INV_T_DEVTLB,
					       .scope = IMS_INV_SCOPE_RANGE,
					       .flags = IMS_INV_F_STAGE1,
					       .has_domain = true, .has_pasid = true };

			inv.domain = inv.pasid = 1 + (unsigned)(r >> 8) % 2;
			inv.addr_first = 4096 * ((r >> 16) % PAGES);
			inv.addr_last = inv.addr_first + 4095;
			inv.sid_first = inv.sid_last = 0x10;
			ims_invalidate(a.io, &inv, NULL);
			ims_invalidate(b.io, &inv, NULL);
			continue;
		}
		/* A skewed stream so that the same pages come back often. */
		t.pasid = 1 + (unsigned)(r >> 4) % 2;
		t.addr = 4096 * ((r >> 8) % ((r & 15) ? 6 : PAGES)) + 8 * ((r >> 20) % 8);
		t.access = (r >> 24) % 5 ? IMS_ACC_READ : IMS_ACC_WRITE;
		assert_int_equal(ims_translate(a.io, &t, &ra), 0);
		t.flags = IMS_TXN_NO_TRACE;
		assert_int_equal(ims_translate(b.io, &t, &rb), 0);
		assert_int_equal(ra.ok, rb.ok);
		assert_int_equal(ra.out_addr, rb.out_addr);
		assert_int_equal(ra.page_lg2, rb.page_lg2);
		assert_int_equal(ra.perm, rb.perm);
		assert_int_equal(ra.cycles, rb.cycles);
		assert_int_equal(ra.iotlb_hit, rb.iotlb_hit);
		assert_int_equal(ra.devtlb_hit, rb.devtlb_hit);
		assert_int_equal(ra.domain, rb.domain);
		assert_int_equal(rb.nreads, 0);
		if (step % 50 == 0)
			same_stats(&a, &b);
	}
	same_stats(&a, &b);
	ims_iommu_free(a.io);
	ims_model_free(a.m);
	ims_iommu_free(b.io);
	ims_model_free(b.m);
}

static void run(const char *policy, uint64_t seed)
{
	run_opt(policy, seed, false);
}

/* With device-TLBs, replays of device-TLB hits too. */
static void test_replay_matches_with_devtlb(void **state)
{
	(void)state;
	run_opt("lru", 11, true);
	run_opt("plru", 12, true);
}

static void test_replay_matches_lru(void **state)
{
	(void)state;
	run("lru", 1);
	run("lru", 99);
}

static void test_replay_matches_plru(void **state)
{
	(void)state;
	run("plru", 2);
	run("plru", 1234);
}

static void test_replay_matches_fifo_rr_random(void **state)
{
	(void)state;
	run("fifo", 3);
	run("rr", 4);
	run("random", 5);
}

/* The memo really is used: the untraced stream hits it most of the time. */
static void test_replay_is_taken(void **state)
{
	struct inst a;
	static struct ims_result r;
	struct ims_txn t = { .sid = 0x10, .pasid = 1, .has_pasid = true, .addr = 0x3000,
			     .size = 4, .access = IMS_ACC_READ, .flags = IMS_TXN_NO_TRACE };
	const struct ims_cache_stats *st;

	(void)state;
	build(&a, "lru", false);
	for (int i = 0; i < 10; i++)
		assert_int_equal(ims_translate(a.io, &t, &r), 0);
	assert_true(r.ok && r.iotlb_hit);
	assert_int_equal(r.out_addr, 0x203000);
	/* 1 miss then 9 hits, all counted. */
	st = ims_iommu_cache_stats(a.io, IMS_ST_IOTLB);
	assert_int_equal(st->lookups, 10);
	assert_int_equal(st->hits, 9);
	/* Cost of a hit: context 2 + PASID 3 + IOTLB 1 (one page size held). */
	assert_int_equal(r.cycles, 6);
	ims_iommu_free(a.io);
	ims_model_free(a.m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replay_matches_lru),
		cmocka_unit_test(test_replay_matches_plru),
		cmocka_unit_test(test_replay_matches_fifo_rr_random),
		cmocka_unit_test(test_replay_is_taken),
		cmocka_unit_test(test_replay_matches_with_devtlb),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
