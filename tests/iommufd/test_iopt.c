/*
 * test_iopt.c - the IOAS interval maps (iommufd/iopt.c): overlap lookups at
 * the edges of the 64-bit space, overlapping reservations kept as their
 * union, usable ranges as the complement of the reservations, and a
 * seeded brute-force comparison of the area tree against a flat list.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "iommufd/iofd_int.h"

/* The caller these IO page tables map from. */
static const struct iofd_uaccess *const self_caller = &iofd_uaccess_self;

static struct iopt_node *node(uint64_t start, uint64_t last)
{
	struct iopt_node *n = calloc(1, sizeof(*n));
	n->start = start;
	n->last = last;
	return n;
}

static void free_tree(struct iopt_tree *t)
{
	struct iopt_node *n;
	while ((n = iopt_tree_min(t))) {
		iopt_tree_remove(t, n);
		free(n);
	}
}

/* Lookups find a range that starts before the query but reaches into it,
 * and ranges touching the very top of the address space. */
static void test_first_overlap_edges(void **state)
{
	(void)state;
	struct iopt_tree t = RB_INITIALIZER(&t);
	iopt_tree_insert(&t, node(0x1000, 0x1fff));
	iopt_tree_insert(&t, node(0x5000, 0x5fff));
	iopt_tree_insert(&t, node(UINT64_MAX - 0xfff, UINT64_MAX));

	assert_null(iopt_tree_first(&t, 0, 0xfff));
	assert_int_equal(iopt_tree_first(&t, 0x1fff, 0x1fff)->start, 0x1000);
	assert_int_equal(iopt_tree_first(&t, 0x1800, 0x6000)->start, 0x1000);
	assert_null(iopt_tree_first(&t, 0x2000, 0x4fff));
	assert_int_equal(iopt_tree_first(&t, 0x2000, 0x5000)->start, 0x5000);
	assert_int_equal(iopt_tree_first(&t, UINT64_MAX, UINT64_MAX)->last, UINT64_MAX);
	assert_int_equal(iopt_tree_first(&t, 0x6000, UINT64_MAX)->start, UINT64_MAX - 0xfff);

	/* Iterating [0, max] visits all three in order. */
	struct iopt_node *n;
	uint64_t starts[3];
	int count = 0;
	iopt_for_each(&t, n, 0, UINT64_MAX)
		starts[count++] = n->start;
	assert_int_equal(count, 3);
	assert_int_equal(starts[0], 0x1000);
	assert_int_equal(starts[1], 0x5000);
	assert_int_equal(starts[2], UINT64_MAX - 0xfff);
	free_tree(&t);
}

/* Reservations may overlap; lookups see their union, and releasing one
 * owner's ranges leaves the others'. */
static void test_reserved_union(void **state)
{
	(void)state;
	struct iopt iopt;
	int a, b;
	iopt_init(&iopt, &self_caller);
	assert_int_equal(iopt_reserve(&iopt, 0x1000, 0x3fff, &a), 0);
	assert_int_equal(iopt_reserve(&iopt, 0x2000, 0x5fff, &b), 0);
	assert_int_equal(iopt_reserve(&iopt, 0x6000, 0x6fff, &b), 0); /* adjacent: merged */

	struct iofd_iova_range r[4];
	assert_int_equal(iopt_usable_ranges(&iopt, r, 4), 2);
	assert_int_equal(r[0].start, 0);
	assert_int_equal(r[0].last, 0xfff);
	assert_int_equal(r[1].start, 0x7000);
	assert_int_equal(r[1].last, UINT64_MAX);

	iopt_unreserve_owner(&iopt, &b);
	assert_int_equal(iopt_usable_ranges(&iopt, r, 4), 2);
	assert_int_equal(r[0].last, 0xfff);
	assert_int_equal(r[1].start, 0x4000);
	iopt_fini(&iopt);
}

/* Reserving the top of the space leaves no range after it; the count is
 * reported even when the output array is too small. */
static void test_usable_top_and_count(void **state)
{
	(void)state;
	struct iopt iopt;
	iopt_init(&iopt, &self_caller);
	assert_int_equal(iopt_reserve(&iopt, UINT64_MAX - 0xfff, UINT64_MAX, NULL), 0);
	assert_int_equal(iopt_reserve(&iopt, 0, 0xfff, NULL), 0);
	assert_int_equal(iopt_reserve(&iopt, 0x10000, 0x1ffff, NULL), 0);
	struct iofd_iova_range r[1];
	assert_int_equal(iopt_usable_ranges(&iopt, r, 1), 2);
	assert_int_equal(r[0].start, 0x1000);
	assert_int_equal(r[0].last, 0xffff);
	assert_int_equal(iopt_usable_ranges(&iopt, NULL, 0), 2);
	iopt_fini(&iopt);
}

/* Automatic IOVAs never use the first or last page and fall into the
 * lowest hole that fits; a completely reserved space gives ENOSPC. */
static void test_alloc_holes(void **state)
{
	(void)state;
	uint64_t P = iopt_page_size();
	struct iopt iopt;
	uint64_t iova;
	iopt_init(&iopt, &self_caller);
	assert_int_equal(iopt_alloc_iova(&iopt, &iova, 0, P), 0);
	assert_int_equal(iova, P);
	/* A reservation over [P, 3P-1] pushes a 2-page request to 4P (aligned to 2P). */
	assert_int_equal(iopt_reserve(&iopt, P, 3 * P - 1, NULL), 0);
	assert_int_equal(iopt_alloc_iova(&iopt, &iova, 0, 2 * P), 0);
	assert_int_equal(iova, 4 * P);
	/* Reserve everything allocation could use. */
	assert_int_equal(iopt_reserve(&iopt, 0, UINT64_MAX, NULL), 0);
	assert_int_equal(iopt_alloc_iova(&iopt, &iova, 0, P), -ENOSPC);
	iopt_fini(&iopt);
}

/* Allowed ranges reject start >= last and overlaps, and may not cover a
 * reserved range; a failed set keeps the old list. */
static void test_allowed_rules(void **state)
{
	(void)state;
	struct iopt iopt;
	iopt_init(&iopt, &self_caller);
	struct iofd_iova_range bad1[] = {{0x2000, 0x2000}};
	struct iofd_iova_range bad2[] = {{0x1000, 0x2fff}, {0x2000, 0x3fff}};
	struct iofd_iova_range good[] = {{0x10000, 0x1ffff}};
	assert_int_equal(iopt_set_allowed(&iopt, bad1, 1), -EINVAL);
	assert_int_equal(iopt_set_allowed(&iopt, bad2, 2), -EINVAL);
	assert_int_equal(iopt_set_allowed(&iopt, good, 1), 0);
	assert_int_equal(iopt_reserve(&iopt, 0x18000, 0x18fff, NULL), -EADDRINUSE);
	assert_int_equal(iopt_set_allowed(&iopt, NULL, 0), 0);
	assert_int_equal(iopt_reserve(&iopt, 0x18000, 0x18fff, NULL), 0);
	assert_int_equal(iopt_set_allowed(&iopt, good, 1), -EADDRINUSE);
	assert_true(iopt_tree_empty(&iopt.allowed));
	iopt_fini(&iopt);
}

/* Seeded random inserts and removals of disjoint ranges, checked against
 * a flat array for every overlap query. */
#define SLOTS 64
static void test_random_against_flat(void **state)
{
	(void)state;
	struct iopt_tree t = RB_INITIALIZER(&t);
	struct iopt_node *flat[SLOTS] = {0};
	/* Slot i owns [i*1024, i*1024+1023]; a node occupies a sub-range. */
	srand(12345);
	for (int round = 0; round < 4000; round++) {
		int i = rand() % SLOTS;
		if (flat[i]) {
			iopt_tree_remove(&t, flat[i]);
			free(flat[i]);
			flat[i] = NULL;
		} else {
			uint64_t lo = (uint64_t)i * 1024 + (uint64_t)(rand() % 512);
			uint64_t hi = lo + (uint64_t)(rand() % 512);
			flat[i] = node(lo, hi);
			iopt_tree_insert(&t, flat[i]);
		}
		uint64_t qs = (uint64_t)(rand() % (SLOTS * 1024));
		uint64_t ql = qs + (uint64_t)(rand() % 4096);
		struct iopt_node *want = NULL;
		for (int k = 0; k < SLOTS && !want; k++)
			if (flat[k] && flat[k]->last >= qs && flat[k]->start <= ql)
				want = flat[k];
		assert_ptr_equal(iopt_tree_first(&t, qs, ql), want);
	}
	free_tree(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_overlap_edges),
		cmocka_unit_test(test_reserved_union),
		cmocka_unit_test(test_usable_top_and_count),
		cmocka_unit_test(test_alloc_holes),
		cmocka_unit_test(test_allowed_rules),
		cmocka_unit_test(test_random_against_flat),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
