/*
 * test_iova.c - the IOVA allocator (traces/iova.c): Linux's placement
 * (size-aligned, top-down below the limit, from below the last allocation)
 * and its per-CPU magazine caches, plus a brute-force check that live
 * ranges never overlap and stay inside [base, limit] on seeded random
 * traffic.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <iommusim/trace.h>

#define PG 0x1000ull
#define BASE 0x1000ull
#define LIMIT 0xffffffffull /* 4 GiB - 1, as a 32-bit DMA mask */

static void test_new_errors(void **state)
{
	struct ims_iova *a;

	(void)state;
	assert_int_equal(ims_iova_new(0, LIMIT, 1, 5, &a), -EINVAL);
	assert_int_equal(ims_iova_new(BASE, LIMIT, 0, 5, &a), -EINVAL);
	assert_int_equal(ims_iova_new(0x10000, 0x8000, 1, 5, &a), -EINVAL);
	assert_int_equal(ims_iova_new(BASE, LIMIT, 1, 40, &a), -EINVAL);
}

/* Top-down, size-aligned: 1 page at the top, then 2 pages aligned to 2 below it, ... */
static void test_top_down_aligned(void **state)
{
	struct ims_iova *a;

	(void)state;
	assert_int_equal(ims_iova_new(BASE, LIMIT, 1, 0, &a), 0);
	assert_int_equal(ims_iova_alloc(a, 0, PG), 0xfffff000ull);
	assert_int_equal(ims_iova_alloc(a, 0, 2 * PG), 0xffffd000ull & ~(2 * PG - 1));
	/* 3 pages: aligned to 4 pages, below the last one. */
	assert_int_equal(ims_iova_alloc(a, 0, 3 * PG), 0xffff8000ull);
	/* A size that is not a page multiple is rounded up. */
	assert_int_equal(ims_iova_alloc(a, 0, 1), 0xffff7000ull);
	ims_iova_destroy(a);
}

/* Freeing above the cached position lets the next search start above again. */
static void test_cached_position(void **state)
{
	struct ims_iova *a;
	uint64_t x, y;

	(void)state;
	assert_int_equal(ims_iova_new(BASE, LIMIT, 1, 0, &a), 0);
	x = ims_iova_alloc(a, 0, PG);
	y = ims_iova_alloc(a, 0, PG);
	assert_int_equal(y, x - PG);
	ims_iova_free(a, 0, x, PG);
	assert_int_equal(ims_iova_alloc(a, 0, PG), x);
	ims_iova_destroy(a);
}

/* Per-CPU caches: a freed range comes back on its CPU, not on another. */
static void test_rcache_per_cpu(void **state)
{
	struct ims_iova *a;
	uint64_t x, y, z;

	(void)state;
	assert_int_equal(ims_iova_new(BASE, LIMIT, 2, 5, &a), 0);
	x = ims_iova_alloc(a, 0, PG);
	y = ims_iova_alloc(a, 0, PG);
	ims_iova_free(a, 0, y, PG);
	ims_iova_free(a, 0, x, PG);
	/* CPU 1 has nothing cached: fresh from the tree, below y. */
	z = ims_iova_alloc(a, 1, PG);
	assert_true(z < y);
	/* CPU 0 gets its ranges back, last freed first (magazine). */
	assert_int_equal(ims_iova_alloc(a, 0, PG), x);
	assert_int_equal(ims_iova_alloc(a, 0, PG), y);
	/* 3 pages round up to 4 and are cached as order 2 ... */
	x = ims_iova_alloc(a, 0, 3 * PG);
	assert_int_equal(x & (4 * PG - 1), 0);
	ims_iova_free(a, 0, x, 3 * PG);
	assert_int_equal(ims_iova_alloc(a, 0, 4 * PG), x);
	/* ... 64 pages are above the cached sizes: back to the tree, then reused top-down. */
	x = ims_iova_alloc(a, 0, 64 * PG);
	ims_iova_free(a, 0, x, 64 * PG);
	y = ims_iova_alloc(a, 1, 64 * PG);
	assert_int_equal(y, x);
	ims_iova_destroy(a);
}

/* Full: cached ranges are flushed back to the tree and the allocation retried. */
static void test_full_flushes_caches(void **state)
{
	struct ims_iova *a;
	uint64_t r[8];

	(void)state;
	/* 8 pages of space: pfns 2-9. */
	assert_int_equal(ims_iova_new(2 * PG, 10 * PG - 1, 2, 5, &a), 0);
	for (unsigned i = 0; i < 8; i++)
		assert_int_not_equal(r[i] = ims_iova_alloc(a, 0, PG), 0);
	assert_int_equal(ims_iova_alloc(a, 0, PG), 0);
	/* Two neighbours (pfns 3, 2) freed into CPU 1's cache; CPU 0 wants 2 pages. */
	ims_iova_free(a, 1, r[6], PG);
	ims_iova_free(a, 1, r[7], PG);
	assert_int_equal(ims_iova_alloc(a, 0, 2 * PG), r[7]);
	ims_iova_free_all(a);
	/* Empty again: 4 pages aligned to 4 at the top, pfns 4-7. */
	assert_int_equal(ims_iova_alloc(a, 0, 4 * PG), 4 * PG);
	ims_iova_destroy(a);
}

/* Many frees overflow magazines into the depot; all of them come back. */
static void test_magazines_and_depot(void **state)
{
	struct ims_iova *a;
	enum { N = 127 * 40 };
	uint64_t *r = calloc(N, sizeof(*r));
	unsigned reused = 0;

	(void)state;
	assert_non_null(r);
	assert_int_equal(ims_iova_new(BASE, LIMIT, 1, 5, &a), 0);
	for (unsigned i = 0; i < N; i++)
		assert_int_not_equal(r[i] = ims_iova_alloc(a, 0, PG), 0);
	for (unsigned i = 0; i < N; i++)
		ims_iova_free(a, 0, r[i], PG);
	/*
	 * The loaded and prev magazines and the 32 in the depot come back
	 * first (34 * 127 ranges); the rest went back to the tree.
	 */
	for (unsigned i = 0; i < N; i++) {
		uint64_t x = ims_iova_alloc(a, 0, PG);

		assert_int_not_equal(x, 0);
		if (i < 34 * 127)
			assert_true(x >= r[N - 1] && x <= r[0]);
		reused += x >= r[N - 1] && x <= r[0];
	}
	assert_true(reused >= 34 * 127);
	free(r);
	ims_iova_destroy(a);
}

static uint64_t lcg(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return *s >> 33;
}

/* Brute force: live ranges are disjoint, aligned and inside the space. */
static void test_random_no_overlap(void **state)
{
	enum { SLOTS = 512 };
	struct { uint64_t addr, size, occ; } live[SLOTS];
	struct ims_iova *a;
	uint64_t s = 7;
	const uint64_t base = 0x100000, limit = 0x8000000 - 1; /* 127 MiB of space */

	(void)state;
	memset(live, 0, sizeof(live));
	assert_int_equal(ims_iova_new(base, limit, 4, 5, &a), 0);
	for (unsigned it = 0; it < 20000; it++) {
		unsigned k = (unsigned)(lcg(&s) % SLOTS), cpu = (unsigned)(lcg(&s) % 4);

		if (live[k].addr) {
			ims_iova_free(a, cpu, live[k].addr, live[k].size);
			live[k].addr = 0;
			continue;
		}
		{
			uint64_t pages = 1 + lcg(&s) % (lcg(&s) % 8 ? 16 : 100);
			uint64_t x = ims_iova_alloc(a, cpu, pages * PG), occ = pages, al = 1;

			if (pages < 32)
				while (occ & (occ - 1))
					occ++;
			while (al < pages)
				al <<= 1;
			assert_int_not_equal(x, 0);
			assert_int_equal(x & (al * PG - 1), 0);
			assert_true(x >= base && x + occ * PG - 1 <= limit);
			for (unsigned j = 0; j < SLOTS; j++)
				if (live[j].addr)
					assert_true(x + occ * PG <= live[j].addr ||
						    live[j].addr + live[j].occ * PG <= x);
			live[k].addr = x;
			live[k].size = pages * PG;
			live[k].occ = occ;
		}
	}
	ims_iova_destroy(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_errors),
		cmocka_unit_test(test_top_down_aligned),
		cmocka_unit_test(test_cached_position),
		cmocka_unit_test(test_rcache_per_cpu),
		cmocka_unit_test(test_full_flushes_caches),
		cmocka_unit_test(test_magazines_and_depot),
		cmocka_unit_test(test_random_no_overlap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
