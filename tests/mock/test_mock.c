/*
 * test_mock.c - the selftest mock IOMMU's page table (formats/mock/).
 *
 * Every expectation comes from the contract in formats/mock/mock.h, which
 * restates the facts of Linux's mock IOMMU (drivers/iommu/iommufd/
 * selftest.c, 6.12): 2 KiB IO pages and optional 1 MiB huge pages
 * (mock_domain_alloc_paging: pgsize_bitmap), one entry per 2 KiB slot
 * holding the physical address plus flags, the first and last slot of each
 * map call marked (mock_domain_map_pages: MOCK_PFN_START_IOVA /
 * MOCK_PFN_LAST_IOVA), every slot of a huge page marked huge
 * (MOCK_PFN_HUGE_IOVA), and dirty read-and-clear where a huge slot
 * reports its whole 1 MiB page and clears all its slots
 * (mock_domain_read_and_clear_dirty, mock_test_and_clear_dirty).  The
 * table covers MOCK_ROOT_LEAVES x MOCK_LEAF_SLOTS slots (mock.h).
 *
 * The last test checks the table against a brute-force array model on
 * seeded random map / unmap / dirty operations across a leaf boundary.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "formats/mock/mock.h"

#define K2 2048ull          /* the mock's IO page (selftest.c MOCK_IO_PAGE_SIZE) */
#define M1 (512ull * K2)    /* the mock's huge page (selftest.c MOCK_HUGE_PAGE_SIZE) */
#define MIB16 (1ull << 24)  /* MOCK_APERTURE_START */
#define FLAGS (MOCK_PTE_VALID | MOCK_PTE_START | MOCK_PTE_LAST | MOCK_PTE_DIRTY | MOCK_PTE_HUGE)
/* Slots the table holds (mock.h: a root of MOCK_ROOT_LEAVES leaves of
 * MOCK_LEAF_SLOTS slots). */
#define TABLE_BYTES ((uint64_t)MOCK_ROOT_LEAVES * MOCK_LEAF_SLOTS * K2)

static struct mock_pt *pt;

static int setup_small(void **state)
{
	(void)state;
	pt = malloc(sizeof(*pt));
	if (!pt)
		return -1;
	mock_pt_init(pt, false);
	return 0;
}

static int setup_huge(void **state)
{
	(void)state;
	pt = malloc(sizeof(*pt));
	if (!pt)
		return -1;
	mock_pt_init(pt, true);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	mock_pt_fini(pt);
	free(pt);
	pt = NULL;
	return 0;
}

/* The slot at iova maps phys with exactly the flags `flags` (of FLAGS). */
static void assert_slot(uint64_t iova, uint64_t phys, uint64_t flags)
{
	uint64_t e = mock_pt_entry(pt, iova);

	if (!(e & MOCK_PTE_VALID))
		fail_msg("slot at %#llx is empty", (unsigned long long)iova);
	if (mock_pte_phys(e) != phys)
		fail_msg("slot at %#llx maps %#llx, want %#llx", (unsigned long long)iova,
			 (unsigned long long)mock_pte_phys(e), (unsigned long long)phys);
	if ((e & FLAGS) != (flags | MOCK_PTE_VALID))
		fail_msg("slot at %#llx flags %#llx, want %#llx", (unsigned long long)iova,
			 (unsigned long long)(e & FLAGS),
			 (unsigned long long)(flags | MOCK_PTE_VALID));
}

static void assert_empty(uint64_t iova, uint64_t len)
{
	for (uint64_t a = iova; a < iova + len; a += K2)
		if (mock_pt_entry(pt, a))
			fail_msg("slot at %#llx is in use", (unsigned long long)a);
}

/* mock.h: mock_pt_init - 2 KiB pages, plus 1 MiB when huge pages are allowed; empty. */
static void test_init(void **state)
{
	struct mock_pt *p = malloc(sizeof(*p));

	(void)state;
	assert_non_null(p);
	mock_pt_init(p, false);
	assert_int_equal(p->pgsize_bitmap, K2);
	assert_int_equal(p->mapped, 0);
	assert_false(p->dirty_tracking);
	assert_int_equal(mock_pt_entry(p, MIB16), 0);
	assert_int_equal(mock_pt_entry(p, 0), 0);
	mock_pt_fini(p);
	mock_pt_init(p, true);
	assert_int_equal(p->pgsize_bitmap, K2 | M1);
	mock_pt_fini(p);
	free(p);
}

/* One 2 KiB page: its slot is both the first and the last of the call. */
static void test_map_one(void **state)
{
	(void)state;
	assert_int_equal(mock_pt_map(pt, MIB16 + K2, 0x40000800ull, K2, K2), 0);
	assert_slot(MIB16 + K2, 0x40000800ull, MOCK_PTE_START | MOCK_PTE_LAST);
	/* The entry holds physical address >> 11 in bits 0..51 (mock.h). */
	assert_int_equal(mock_pt_entry(pt, MIB16 + K2) & MOCK_PTE_PFN_MASK, 0x40000800ull / K2);
	/* Any address inside the slot finds it. */
	assert_int_equal(mock_pt_entry(pt, MIB16 + K2 + 1), mock_pt_entry(pt, MIB16 + K2));
	assert_int_equal(mock_pt_entry(pt, MIB16 + 2 * K2 - 1), mock_pt_entry(pt, MIB16 + K2));
	assert_int_equal(pt->mapped, 1);
	assert_empty(MIB16, K2);
	assert_empty(MIB16 + 2 * K2, K2);
}

/* One call of n slots: START on the first, LAST on the last, none between
 * (selftest.c mock_domain_map_pages); physical addresses follow on. */
static void test_map_many(void **state)
{
	const uint64_t phys = 0x123456000ull, n = 5;

	(void)state;
	assert_int_equal(mock_pt_map(pt, MIB16, phys, n * K2, K2), 0);
	assert_slot(MIB16, phys, MOCK_PTE_START);
	for (uint64_t i = 1; i + 1 < n; i++)
		assert_slot(MIB16 + i * K2, phys + i * K2, 0);
	assert_slot(MIB16 + (n - 1) * K2, phys + (n - 1) * K2, MOCK_PTE_LAST);
	assert_int_equal(pt->mapped, n);
	/* A second call right after is a run of its own. */
	assert_int_equal(mock_pt_map(pt, MIB16 + n * K2, 0x8000ull, 2 * K2, K2), 0);
	assert_slot(MIB16 + n * K2, 0x8000ull, MOCK_PTE_START);
	assert_slot(MIB16 + (n + 1) * K2, 0x8800ull, MOCK_PTE_LAST);
	assert_slot(MIB16 + (n - 1) * K2, phys + (n - 1) * K2, MOCK_PTE_LAST);
	assert_int_equal(pt->mapped, n + 2);
}

/* A call crossing a leaf (MOCK_LEAF_SLOTS slots) is one run too. */
static void test_map_across_leaves(void **state)
{
	const uint64_t leaf_bytes = MOCK_LEAF_SLOTS * K2;
	const uint64_t iova = 3 * leaf_bytes - 2 * K2;

	(void)state;
	assert_int_equal(mock_pt_map(pt, iova, 0x100000ull, 4 * K2, K2), 0);
	assert_slot(iova, 0x100000ull, MOCK_PTE_START);
	assert_slot(iova + K2, 0x100800ull, 0);
	assert_slot(iova + 2 * K2, 0x101000ull, 0);
	assert_slot(iova + 3 * K2, 0x101800ull, MOCK_PTE_LAST);
	assert_int_equal(mock_pt_unmap(pt, iova, 4 * K2), 4 * K2);
	assert_empty(iova, 4 * K2);
	assert_int_equal(pt->mapped, 0);
}

/* mock.h: iova, phys and len pgsize aligned, pgsize one the table offers,
 * len non-zero, inside the table: else -EINVAL and nothing changes. */
static void test_map_einval(void **state)
{
	static const struct {
		uint64_t iova, phys, len, pgsize;
	} rows[] = {
		{MIB16 + 1, 0, K2, K2},           /* iova */
		{MIB16 + 1024, 0, K2, K2},
		{MIB16, 1024, K2, K2},            /* phys */
		{MIB16, 1, K2, K2},
		{MIB16, 0, K2 + 1024, K2},        /* len */
		{MIB16, 0, 1024, K2},
		{MIB16, 0, 0, K2},                /* empty */
		{MIB16, 0, M1, M1},               /* 1 MiB pages not offered */
		{MIB16, 0, 4096, 4096},           /* a size that is no mock page */
		{MIB16, 0, K2, 0},
		{TABLE_BYTES, 0, K2, K2},         /* beyond the table */
		{TABLE_BYTES - K2, 0, 2 * K2, K2}, /* running out of it */
		{UINT64_MAX - K2 + 1, 0, K2, K2},
	};

	(void)state;
	assert_int_equal(mock_pt_map(pt, MIB16 + 8 * K2, 0, K2, K2), 0);
	uint64_t before = mock_pt_entry(pt, MIB16 + 8 * K2);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int rc = mock_pt_map(pt, rows[i].iova, rows[i].phys, rows[i].len, rows[i].pgsize);
		if (rc != -EINVAL)
			fail_msg("row %zu: %d, want -EINVAL", i, rc);
	}
	assert_int_equal(pt->mapped, 1);
	assert_empty(MIB16, 8 * K2);
	assert_int_equal(mock_pt_entry(pt, MIB16 + 8 * K2), before);
	/* The last slot of the table can be mapped. */
	assert_int_equal(mock_pt_map(pt, TABLE_BYTES - K2, 0, K2, K2), 0);
	assert_slot(TABLE_BYTES - K2, 0, MOCK_PTE_START | MOCK_PTE_LAST);
}

/* mock.h: a slot in use gives -EEXIST; nothing changes, not even the free
 * slots of the range. */
static void test_map_eexist(void **state)
{
	(void)state;
	assert_int_equal(mock_pt_map(pt, MIB16 + 4 * K2, 0x10000ull, 2 * K2, K2), 0);
	uint64_t e4 = mock_pt_entry(pt, MIB16 + 4 * K2), e5 = mock_pt_entry(pt, MIB16 + 5 * K2);
	/* Overlapping the first slot, the last slot, both, exactly. */
	assert_int_equal(mock_pt_map(pt, MIB16, 0x20000ull, 5 * K2, K2), -EEXIST);
	assert_int_equal(mock_pt_map(pt, MIB16 + 5 * K2, 0x20000ull, 3 * K2, K2), -EEXIST);
	assert_int_equal(mock_pt_map(pt, MIB16, 0x20000ull, 16 * K2, K2), -EEXIST);
	assert_int_equal(mock_pt_map(pt, MIB16 + 4 * K2, 0x20000ull, 2 * K2, K2), -EEXIST);
	assert_int_equal(pt->mapped, 2);
	assert_empty(MIB16, 4 * K2);
	assert_empty(MIB16 + 6 * K2, 10 * K2);
	assert_int_equal(mock_pt_entry(pt, MIB16 + 4 * K2), e4);
	assert_int_equal(mock_pt_entry(pt, MIB16 + 5 * K2), e5);
	/* Touching is not overlapping. */
	assert_int_equal(mock_pt_map(pt, MIB16 + 2 * K2, 0x20000ull, 2 * K2, K2), 0);
	assert_int_equal(mock_pt_map(pt, MIB16 + 6 * K2, 0x30000ull, K2, K2), 0);
	assert_int_equal(pt->mapped, 5);
}

/* mock.h: unmap clears the slots and returns the bytes that were mapped. */
static void test_unmap(void **state)
{
	(void)state;
	assert_int_equal(mock_pt_unmap(pt, MIB16, 16 * K2), 0);
	assert_int_equal(mock_pt_map(pt, MIB16 + 2 * K2, 0x4000ull, 3 * K2, K2), 0);
	assert_int_equal(mock_pt_map(pt, MIB16 + 8 * K2, 0x9000ull, K2, K2), 0);
	/* Only mapped slots count; holes in the range are fine. */
	assert_int_equal(mock_pt_unmap(pt, MIB16, 6 * K2), 3 * K2);
	assert_empty(MIB16, 8 * K2);
	assert_slot(MIB16 + 8 * K2, 0x9000ull, MOCK_PTE_START | MOCK_PTE_LAST);
	assert_int_equal(pt->mapped, 1);
	/* Part of a call's run may go. */
	assert_int_equal(mock_pt_map(pt, MIB16, 0x4000ull, 4 * K2, K2), 0);
	assert_int_equal(mock_pt_unmap(pt, MIB16 + K2, K2), K2);
	assert_empty(MIB16 + K2, K2);
	assert_slot(MIB16, 0x4000ull, MOCK_PTE_START);
	assert_slot(MIB16 + 2 * K2, 0x5000ull, 0);
	/* Unmapped slots can be mapped again. */
	assert_int_equal(mock_pt_map(pt, MIB16 + K2, 0x7000ull, K2, K2), 0);
	assert_slot(MIB16 + K2, 0x7000ull, MOCK_PTE_START | MOCK_PTE_LAST);
	assert_int_equal(mock_pt_unmap(pt, 0, 2 * MIB16), 5 * K2);
	assert_int_equal(pt->mapped, 0);
	/* Outside the table there is nothing to unmap. */
	assert_int_equal(mock_pt_unmap(pt, TABLE_BYTES, 4 * K2), 0);
}

/* 1 MiB pages: every slot of the page is marked huge; the first slot of
 * the call START, the last LAST (selftest.c mock_domain_map_pages). */
static void test_map_huge(void **state)
{
	const uint64_t phys = 0x40000000ull;

	(void)state;
	assert_int_equal(mock_pt_map(pt, MIB16, phys, 2 * M1, M1), 0);
	assert_int_equal(pt->mapped, 2 * 512);
	assert_slot(MIB16, phys, MOCK_PTE_HUGE | MOCK_PTE_START);
	for (uint64_t a = MIB16 + K2; a < MIB16 + 2 * M1 - K2; a += K2)
		assert_slot(a, phys + (a - MIB16), MOCK_PTE_HUGE);
	assert_slot(MIB16 + 2 * M1 - K2, phys + 2 * M1 - K2, MOCK_PTE_HUGE | MOCK_PTE_LAST);
	/* 2 KiB pages still work beside it, without the huge mark. */
	assert_int_equal(mock_pt_map(pt, MIB16 + 2 * M1, 0x800ull, K2, K2), 0);
	assert_slot(MIB16 + 2 * M1, 0x800ull, MOCK_PTE_START | MOCK_PTE_LAST);
	/* Huge alignment: iova, phys and len on 1 MiB. */
	assert_int_equal(mock_pt_map(pt, MIB16 + 3 * M1 + K2, 0, M1, M1), -EINVAL);
	assert_int_equal(mock_pt_map(pt, MIB16 + 3 * M1, K2, M1, M1), -EINVAL);
	assert_int_equal(mock_pt_map(pt, MIB16 + 3 * M1, 0, M1 + K2, M1), -EINVAL);
	assert_int_equal(mock_pt_map(pt, MIB16 + 3 * M1, 0, M1 / 2, M1), -EINVAL);
	assert_empty(MIB16 + 3 * M1, 2 * M1);
	/* A huge page over a used slot. */
	assert_int_equal(mock_pt_map(pt, MIB16 + 2 * M1, 0, M1, M1), -EEXIST);
	assert_int_equal(pt->mapped, 2 * 512 + 1);
	assert_int_equal(mock_pt_unmap(pt, MIB16, 3 * M1), 2 * M1 + K2);
	assert_int_equal(pt->mapped, 0);
}

/* mock.h: mock_pt_slot_update changes a present slot, refuses an empty one. */
static void test_slot_update(void **state)
{
	const uint64_t s = MIB16 / K2;

	(void)state;
	assert_false(mock_pt_slot_update(pt, s, MOCK_PTE_DIRTY, 0));
	assert_int_equal(mock_pt_entry(pt, MIB16), 0);
	assert_false(mock_pt_slot_update(pt, TABLE_BYTES / K2, MOCK_PTE_DIRTY, 0));
	assert_int_equal(mock_pt_map(pt, MIB16, 0x2000ull, K2, K2), 0);
	assert_true(mock_pt_slot_update(pt, s, MOCK_PTE_DIRTY, 0));
	assert_slot(MIB16, 0x2000ull, MOCK_PTE_START | MOCK_PTE_LAST | MOCK_PTE_DIRTY);
	assert_true(mock_pt_slot_update(pt, s, 0, MOCK_PTE_DIRTY));
	assert_slot(MIB16, 0x2000ull, MOCK_PTE_START | MOCK_PTE_LAST);
	assert_int_equal(pt->mapped, 1);
}

struct rec {
	uint64_t iova[64], size[64];
	unsigned n;
};

static void record(void *arg, uint64_t iova, uint64_t size)
{
	struct rec *r = arg;

	if (r->n < 64) {
		r->iova[r->n] = iova;
		r->size[r->n] = size;
	}
	r->n++;
}

/* Read-and-clear: one record per dirty 2 KiB page in the range, in
 * address order; the bits go unless no_clear (selftest.c
 * mock_domain_read_and_clear_dirty, IOMMU_DIRTY_NO_CLEAR). */
static void test_dirty_small(void **state)
{
	struct rec r = {0};

	(void)state;
	assert_int_equal(mock_pt_map(pt, MIB16, 0, 8 * K2, K2), 0);
	for (uint64_t i = 1; i < 8; i += 3) /* slots 1, 4, 7 */
		assert_true(mock_pt_slot_update(pt, MIB16 / K2 + i, MOCK_PTE_DIRTY, 0));
	/* Nothing dirty outside: no record. */
	mock_pt_read_and_clear_dirty(pt, MIB16 + 8 * K2, 8 * K2, false, record, &r);
	assert_int_equal(r.n, 0);
	/* NO_CLEAR reports and keeps. */
	mock_pt_read_and_clear_dirty(pt, MIB16, 8 * K2, true, record, &r);
	assert_int_equal(r.n, 3);
	assert_int_equal(r.iova[0], MIB16 + K2);
	assert_int_equal(r.iova[1], MIB16 + 4 * K2);
	assert_int_equal(r.iova[2], MIB16 + 7 * K2);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(r.size[i], K2);
	assert_true(mock_pt_entry(pt, MIB16 + K2) & MOCK_PTE_DIRTY);
	/* Part of the range: only what lies inside is reported and cleared. */
	r.n = 0;
	mock_pt_read_and_clear_dirty(pt, MIB16, 5 * K2, false, record, &r);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.iova[0], MIB16 + K2);
	assert_int_equal(r.iova[1], MIB16 + 4 * K2);
	assert_false(mock_pt_entry(pt, MIB16 + K2) & MOCK_PTE_DIRTY);
	assert_false(mock_pt_entry(pt, MIB16 + 4 * K2) & MOCK_PTE_DIRTY);
	assert_true(mock_pt_entry(pt, MIB16 + 7 * K2) & MOCK_PTE_DIRTY);
	/* Cleared: a second read of the whole range sees only slot 7. */
	r.n = 0;
	mock_pt_read_and_clear_dirty(pt, MIB16, 8 * K2, false, record, &r);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.iova[0], MIB16 + 7 * K2);
	r.n = 0;
	mock_pt_read_and_clear_dirty(pt, MIB16, 8 * K2, false, record, &r);
	assert_int_equal(r.n, 0);
	/* Clearing keeps the mapping and its other flags. */
	assert_slot(MIB16 + 7 * K2, 7 * K2, MOCK_PTE_LAST);
	/* Empty slots are skipped. */
	assert_int_equal(mock_pt_unmap(pt, MIB16 + 2 * K2, 2 * K2), 2 * K2);
	assert_true(mock_pt_slot_update(pt, MIB16 / K2 + 5, MOCK_PTE_DIRTY, 0));
	mock_pt_read_and_clear_dirty(pt, MIB16, 8 * K2, false, record, &r);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.iova[0], MIB16 + 5 * K2);
}

/* A huge slot reports its whole 1 MiB page once, and reading clears the
 * dirty bit of every slot of that page (selftest.c
 * mock_test_and_clear_dirty walks the page from its head). */
static void test_dirty_huge(void **state)
{
	struct rec r = {0};

	(void)state;
	assert_int_equal(mock_pt_map(pt, MIB16, 0, 2 * M1, M1), 0);
	/* Two slots of the second page, none of the first. */
	assert_true(mock_pt_slot_update(pt, (MIB16 + M1) / K2 + 7, MOCK_PTE_DIRTY, 0));
	assert_true(mock_pt_slot_update(pt, (MIB16 + M1) / K2 + 300, MOCK_PTE_DIRTY, 0));
	mock_pt_read_and_clear_dirty(pt, MIB16, 2 * M1, true, record, &r);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.iova[0], MIB16 + M1);
	assert_int_equal(r.size[0], M1);
	assert_true(mock_pt_entry(pt, MIB16 + M1 + 300 * K2) & MOCK_PTE_DIRTY);
	r.n = 0;
	mock_pt_read_and_clear_dirty(pt, MIB16, 2 * M1, false, record, &r);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.iova[0], MIB16 + M1);
	assert_int_equal(r.size[0], M1);
	for (uint64_t a = MIB16 + M1; a < MIB16 + 2 * M1; a += K2)
		assert_false(mock_pt_entry(pt, a) & MOCK_PTE_DIRTY);
	r.n = 0;
	mock_pt_read_and_clear_dirty(pt, MIB16, 2 * M1, false, record, &r);
	assert_int_equal(r.n, 0);
	/* The first page's last slot: the first page is the one reported. */
	assert_true(mock_pt_slot_update(pt, (MIB16 + M1) / K2 - 1, MOCK_PTE_DIRTY, 0));
	mock_pt_read_and_clear_dirty(pt, MIB16, 2 * M1, false, record, &r);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.iova[0], MIB16);
	assert_int_equal(r.size[0], M1);
}

/* ---- brute force ---- */

static uint64_t rng_state;

static uint64_t rng(void)
{
	/* xorshift64 */
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

#define WIN 96 /* slots in the window */

/*
 * Random operations inside a window of WIN slots straddling a leaf
 * boundary, against an array holding what mock.h promises each slot holds.
 */
static void test_brute_force(void **state)
{
	const uint64_t base = (4ull * MOCK_LEAF_SLOTS - WIN / 2) * K2;
	uint64_t ref[WIN];

	(void)state;
	for (uint64_t seed = 1; seed <= 8; seed++) {
		rng_state = seed * 0x9e3779b97f4a7c15ull;
		memset(ref, 0, sizeof(ref));
		for (unsigned step = 0; step < 2000; step++) {
			uint64_t first = rng() % WIN, n = 1 + rng() % 12;
			if (first + n > WIN)
				n = WIN - first;
			uint64_t iova = base + first * K2;
			switch (rng() % 4) {
			case 0: { /* map */
				uint64_t phys = (rng() % (1ull << 30)) * K2;
				bool busy = false;
				for (uint64_t i = 0; i < n; i++)
					busy |= ref[first + i] != 0;
				int rc = mock_pt_map(pt, iova, phys, n * K2, K2);
				if (rc != (busy ? -EEXIST : 0))
					fail_msg("seed %llu step %u: map %d", (unsigned long long)seed,
						 step, rc);
				if (!busy)
					for (uint64_t i = 0; i < n; i++)
						ref[first + i] = MOCK_PTE_VALID |
								 ((phys / K2 + i) & MOCK_PTE_PFN_MASK) |
								 (i == 0 ? MOCK_PTE_START : 0) |
								 (i == n - 1 ? MOCK_PTE_LAST : 0);
				break;
			}
			case 1: { /* unmap */
				uint64_t want = 0;
				for (uint64_t i = 0; i < n; i++) {
					want += ref[first + i] ? K2 : 0;
					ref[first + i] = 0;
				}
				uint64_t got = mock_pt_unmap(pt, iova, n * K2);
				if (got != want)
					fail_msg("seed %llu step %u: unmap %llu want %llu",
						 (unsigned long long)seed, step, (unsigned long long)got,
						 (unsigned long long)want);
				break;
			}
			case 2: { /* a device writes */
				bool ok = mock_pt_slot_update(pt, base / K2 + first, MOCK_PTE_DIRTY, 0);
				assert_int_equal(ok, ref[first] != 0);
				if (ref[first])
					ref[first] |= MOCK_PTE_DIRTY;
				break;
			}
			default: { /* read (and maybe clear) */
				bool no_clear = rng() & 1;
				struct rec r = {0};
				unsigned want = 0;
				mock_pt_read_and_clear_dirty(pt, iova, n * K2, no_clear, record, &r);
				for (uint64_t i = 0; i < n; i++) {
					if (!(ref[first + i] & MOCK_PTE_DIRTY))
						continue;
					if (want >= r.n || r.iova[want] != iova + i * K2 ||
					    r.size[want] != K2)
						fail_msg("seed %llu step %u: dirty record %u",
							 (unsigned long long)seed, step, want);
					want++;
					if (!no_clear)
						ref[first + i] &= ~MOCK_PTE_DIRTY;
				}
				assert_int_equal(r.n, want);
				break;
			}
			}
			uint64_t used = 0;
			for (uint64_t i = 0; i < WIN; i++) {
				used += ref[i] != 0;
				if (mock_pt_entry(pt, base + i * K2) != ref[i])
					fail_msg("seed %llu step %u: slot %llu is %#llx, want %#llx",
						 (unsigned long long)seed, step, (unsigned long long)i,
						 (unsigned long long)mock_pt_entry(pt, base + i * K2),
						 (unsigned long long)ref[i]);
			}
			assert_int_equal(pt->mapped, used);
		}
		mock_pt_unmap(pt, base, WIN * K2);
		assert_int_equal(pt->mapped, 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init),
		cmocka_unit_test_setup_teardown(test_map_one, setup_small, teardown),
		cmocka_unit_test_setup_teardown(test_map_many, setup_small, teardown),
		cmocka_unit_test_setup_teardown(test_map_across_leaves, setup_small, teardown),
		cmocka_unit_test_setup_teardown(test_map_einval, setup_small, teardown),
		cmocka_unit_test_setup_teardown(test_map_eexist, setup_small, teardown),
		cmocka_unit_test_setup_teardown(test_unmap, setup_small, teardown),
		cmocka_unit_test_setup_teardown(test_map_huge, setup_huge, teardown),
		cmocka_unit_test_setup_teardown(test_slot_update, setup_small, teardown),
		cmocka_unit_test_setup_teardown(test_dirty_small, setup_small, teardown),
		cmocka_unit_test_setup_teardown(test_dirty_huge, setup_huge, teardown),
		cmocka_unit_test_setup_teardown(test_brute_force, setup_small, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
