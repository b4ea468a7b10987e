/*
 * test_ioas.c - IO address space semantics with no device attached:
 * IOAS_MAP (fixed and automatic IOVA), IOAS_COPY, IOAS_UNMAP,
 * IOAS_ALLOW_IOVAS, IOAS_IOVA_RANGES, the per-IOAS HUGE_PAGES option and
 * the selftest's ADD_RESERVED: the error tables in the kernel's order, and
 * after every failing call the IOAS state is unchanged.
 *
 * Expected values come from Linux's drivers/iommu/iommufd/ioas.c and
 * io_pagetable.c and from the selftest (tools/testing/selftests/iommu/
 * iommufd.c, fixture iommufd_ioas, variant no_domain), never from our own
 * output.  Our one
 * deliberate deviation: a failing IOAS_UNMAP removes nothing (Linux may
 * remove the fully covered areas it met before the partial one).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include <iommusim/iommufd.h>
#include "iommufd/uapi.h"

#define RW (IOFD_MAP_WRITEABLE | IOFD_MAP_READABLE)
#define RO IOFD_MAP_READABLE
#define FIXED IOFD_MAP_FIXED_IOVA
#define MIB16 (1ull << 24)
#define U64MAX UINT64_MAX

static uint64_t P;
static uint64_t BUFFER_SIZE;	/* 16 pages, as the selftest's */
static uint8_t *buffer;		/* 2 MiB aligned, MAP_SHARED */
static uint64_t B;		/* buffer as a user_va */
static void *buffer_mapping;
static size_t buffer_mapping_len;
static struct iofd_ctx *ctx;	/* the test's /dev/iommu; IOAS 1 is the fixture's */

static long ioc(unsigned nr, void *arg)
{
	return iofd_ioctl(ctx, IOFD_REQ(nr), (uint64_t)(uintptr_t)arg);
}

static uint32_t ioas_alloc(void)
{
	struct iofd_ioas_alloc a = {.size = sizeof(a)};
	assert_int_equal(ioc(IOFD_NR_IOAS_ALLOC, &a), 0);
	return a.out_ioas_id;
}

static long destroy(uint32_t id)
{
	struct iofd_destroy d = {.size = sizeof(d), .id = id};
	return ioc(IOFD_NR_DESTROY, &d);
}

/* MAP; *iova in (FIXED) and out. */
static long map(uint32_t ioas, uint32_t flags, uint64_t va, uint64_t len, uint64_t *iova)
{
	struct iofd_ioas_map m = {.size = sizeof(m), .flags = flags, .ioas_id = ioas,
				  .user_va = va, .length = len, .iova = *iova};
	long rc = ioc(IOFD_NR_IOAS_MAP, &m);
	*iova = m.iova;
	return rc;
}

/* The selftest's fixed map: READABLE | WRITEABLE | FIXED_IOVA. */
static long map_fixed(uint32_t ioas, uint64_t va, uint64_t len, uint64_t iova)
{
	return map(ioas, RW | FIXED, va, len, &iova);
}

/* Automatic IOVA: asserts success, returns the IOVA. */
static uint64_t map_auto(uint32_t ioas, uint64_t va, uint64_t len)
{
	uint64_t iova = 0;
	assert_int_equal(map(ioas, RW, va, len, &iova), 0);
	return iova;
}

/* UNMAP; *len in and out (bytes unmapped). */
static long unmap_len(uint32_t ioas, uint64_t iova, uint64_t *len)
{
	struct iofd_ioas_unmap u = {.size = sizeof(u), .ioas_id = ioas, .iova = iova,
				    .length = *len};
	long rc = ioc(IOFD_NR_IOAS_UNMAP, &u);
	*len = u.length;
	return rc;
}

static long unmap(uint32_t ioas, uint64_t iova, uint64_t len)
{
	return unmap_len(ioas, iova, &len);
}

/* Unmap everything; returns the bytes that were mapped. */
static uint64_t unmap_all(uint32_t ioas)
{
	uint64_t len = U64MAX;
	assert_int_equal(unmap_len(ioas, 0, &len), 0);
	return len;
}

/* COPY; *dst_iova in (FIXED) and out. */
static long copy(uint32_t flags, uint32_t dst, uint64_t *dst_iova, uint32_t src,
		 uint64_t src_iova, uint64_t len)
{
	struct iofd_ioas_copy c = {.size = sizeof(c), .flags = flags, .dst_ioas_id = dst,
				   .src_ioas_id = src, .length = len, .dst_iova = *dst_iova,
				   .src_iova = src_iova};
	long rc = ioc(IOFD_NR_IOAS_COPY, &c);
	*dst_iova = c.dst_iova;
	return rc;
}

/* The selftest's copy: FIXED_IOVA | WRITEABLE. */
static long copy_fixed(uint32_t dst, uint64_t dst_iova, uint32_t src, uint64_t src_iova,
		       uint64_t len)
{
	return copy(FIXED | IOFD_MAP_WRITEABLE, dst, &dst_iova, src, src_iova, len);
}

/* IOMMU_TEST_CMD ADD_RESERVED: [start, start + len - 1]. */
static long add_reserved(uint32_t ioas, uint64_t start, uint64_t len)
{
	struct iofd_test_cmd t = {.size = sizeof(t), .op = IOFD_TEST_OP_ADD_RESERVED, .id = ioas};
	t.add_reserved.start = start;
	t.add_reserved.length = len;
	return ioc(IOFD_NR_TEST_CMD, &t);
}

static long allow(uint32_t ioas, const struct iofd_iova_range *r, uint32_t n)
{
	struct iofd_ioas_allow_iovas a = {.size = sizeof(a), .ioas_id = ioas, .num_iovas = n,
					  .allowed_iovas = (uintptr_t)r};
	return ioc(IOFD_NR_IOAS_ALLOW_IOVAS, &a);
}

static long huge_pages(uint32_t ioas, uint16_t op, uint64_t *val)
{
	struct iofd_option o = {.size = sizeof(o), .option_id = IOFD_OPTION_HUGE_PAGES, .op = op,
				.object_id = ioas, .val64 = *val};
	long rc = ioc(IOFD_NR_OPTION, &o);
	*val = o.val64;
	return rc;
}

static long set_huge(uint32_t ioas, uint64_t val)
{
	return huge_pages(ioas, IOFD_OPTION_OP_SET, &val);
}

static uint64_t get_huge(uint32_t ioas)
{
	uint64_t val = 3;
	assert_int_equal(huge_pages(ioas, IOFD_OPTION_OP_GET, &val), 0);
	return val;
}

/* IOVA_RANGES into r[num]; *num in and out. */
static long ranges(uint32_t ioas, struct iofd_iova_range *r, uint32_t *num, uint64_t *align)
{
	struct iofd_ioas_iova_ranges q = {.size = sizeof(q), .ioas_id = ioas, .num_iovas = *num,
					  .allowed_iovas = (uintptr_t)r,
					  .out_iova_alignment = *align};
	long rc = ioc(IOFD_NR_IOAS_IOVA_RANGES, &q);
	*num = q.num_iovas;
	*align = q.out_iova_alignment;
	return rc;
}

/* IOVA_RANGES gives exactly the n ranges want[] and the alignment. */
static void assert_ranges(uint32_t ioas, const struct iofd_iova_range *want, uint32_t n,
			  uint64_t align)
{
	struct iofd_iova_range out[8];
	uint32_t num = 8;
	uint64_t got_align = 0;

	assert_int_equal(ranges(ioas, out, &num, &got_align), 0);
	assert_int_equal(num, n);
	assert_int_equal(got_align, align);
	for (uint32_t i = 0; i < n; i++) {
		assert_int_equal(out[i].start, want[i].start);
		assert_int_equal(out[i].last, want[i].last);
	}
}

static const struct iofd_iova_range everything = {0, U64MAX};

/*
 * Error tables: one call per row and the errno it must give (0: success).
 * MAP: a = user_va, and a failing MAP must not write the iova back.
 * COPY: ioas = dst, flags >> 8 = src, a = src_iova.  UNMAP: iova, len.
 */
struct row {
	uint32_t ioas, flags;
	uint64_t a, len, iova;
	int err;
};

enum row_op { MAP, COPY, UNMAP };

static void run_rows(enum row_op op, const struct row *r, size_t n)
{
	static const char *const name[] = {"MAP", "COPY", "UNMAP"};

	for (size_t i = 0; i < n; i++) {
		uint64_t iova = r[i].iova;
		long rc;

		if (op == MAP)
			rc = map(r[i].ioas, r[i].flags, r[i].a, r[i].len, &iova);
		else if (op == COPY)
			rc = copy(r[i].flags & 0xff, r[i].ioas, &iova, r[i].flags >> 8, r[i].a,
				  r[i].len);
		else
			rc = unmap(r[i].ioas, r[i].iova, r[i].len);
		if (rc != -r[i].err)
			fail_msg("%s row %zu: %ld, want %d", name[op], i, rc, -r[i].err);
		if (rc && op != UNMAP && iova != r[i].iova)
			fail_msg("%s row %zu wrote its iova back on failure", name[op], i);
	}
}

#define ROWS(op, ...)                                                                   \
	do {                                                                            \
		const struct row rows_[] = {__VA_ARGS__};                               \
		run_rows(op, rows_, sizeof(rows_) / sizeof(rows_[0]));                  \
	} while (0)

/* selftest fixture iommufd_ioas (no_domain) setup: IOAS 1 and SET_TEMP_MEMORY_LIMIT 65536. */
static int setup(void **state)
{
	struct iofd_test_cmd t = {.size = sizeof(t), .op = IOFD_TEST_OP_SET_TEMP_MEMORY_LIMIT};
	(void)state;
	t.memory_limit.limit = 65536;
	ctx = iofd_open(&iofd_uaccess_self, IOFD_ABI_NEWEST);
	return ctx && ioas_alloc() == 1 && ioc(IOFD_NR_TEST_CMD, &t) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	iofd_close(ctx);
	ctx = NULL;
	return 0;
}

static int group_setup(void **state)
{
	size_t align = 2u << 20;
	(void)state;
	P = (uint64_t)sysconf(_SC_PAGESIZE);
	BUFFER_SIZE = 16 * P;
	buffer_mapping_len = BUFFER_SIZE + align;
	buffer_mapping = mmap(NULL, buffer_mapping_len, PROT_READ | PROT_WRITE,
			      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (buffer_mapping == MAP_FAILED)
		return -1;
	buffer = (uint8_t *)(((uintptr_t)buffer_mapping + align - 1) & ~(uintptr_t)(align - 1));
	B = (uintptr_t)buffer;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	munmap(buffer_mapping, buffer_mapping_len);
	return 0;
}

/* object IDs ioas_destroy / ioas_area_destroy: an IOAS with areas destroys fine. */
static void test_ioas_destroy(void **state)
{
	(void)state;
	assert_int_equal(ioas_alloc(), 2);
	assert_int_equal(map_fixed(1, B, P, 0), 0);
	assert_int_equal(add_reserved(1, 100 * P, P), 0);
	assert_int_equal(copy_fixed(2, 0, 1, 0, P), 0);
	assert_int_equal(destroy(1), 0);
	assert_int_equal(destroy(1), -ENOENT);
	/* The copy is an area of its own: it outlives the source IOAS. */
	assert_int_equal(unmap_all(2), P);
	assert_int_equal(map_fixed(2, B, P, 0), 0);
	assert_int_equal(destroy(2), 0);
	assert_int_equal(iofd_object_count(ctx), 0);
}

/* selftest fixture iommufd_ioas (no_domain) area */
static void test_area(void **state)
{
	(void)state;
	for (unsigned i = 0; i < 10; i++)
		assert_int_equal(unmap(1, i * P, P), -ENOENT);
	for (unsigned i = 0; i < 10; i++)
		assert_int_equal(map_fixed(1, B, P, i * P), 0); /* IOVA 0 too */
	for (unsigned i = 0; i < 10; i++)
		assert_int_equal(unmap(1, i * P, P), 0);
	assert_int_equal(map_fixed(1, B, 2 * P, 16 * P), 0);
	assert_int_equal(unmap(1, 16 * P, P), -ENOENT);
	assert_int_equal(unmap(1, 17 * P, P), -ENOENT);
	ROWS(MAP,
	     {1, RW | FIXED, B, 2 * P, 16 * P, EEXIST},
	     {1, RW | FIXED, B, P, 16 * P, EEXIST},
	     {1, RW | FIXED, B, P, 17 * P, EEXIST},
	     {1, RW | FIXED, B, 2 * P, 15 * P, EEXIST},
	     {1, RW | FIXED, B, 3 * P, 15 * P, EEXIST},
	     /* one byte of overlap is enough; touching is not overlap */
	     {1, RW | FIXED, B, P + 1, 15 * P, EEXIST},
	     {1, RW | FIXED, B, P, 18 * P - 1, EEXIST},
	     {1, RW | FIXED, B, P, 15 * P, 0},
	     {1, RW | FIXED, B, P, 18 * P, 0});
	assert_int_equal(unmap_all(1), 4 * P);
	assert_int_equal(unmap_all(1), 0);
}

/* selftest fixture iommufd_ioas (no_domain) unmap_fully_contained_areas, and our no-partial-removal deviation. */
static void test_unmap_fully_contained_areas(void **state)
{
	uint64_t len = 60 * P;
	(void)state;
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(map_fixed(1, B, 8 * P, 4 * P + i * 16 * P), 0);
	assert_int_equal(unmap(1, 0, 8 * P), -ENOENT);
	assert_int_equal(unmap(1, 56 * P, 8 * P), -ENOENT);
	/* [0, 24P) covers [4P, 12P) and part of [20P, 28P): Linux would remove
	 * the first; ours removes nothing. */
	assert_int_equal(unmap(1, 0, 24 * P), -ENOENT);
	assert_int_equal(unmap(1, 4 * P, 56 * P - 1), -ENOENT);
	assert_int_equal(unmap_len(1, 0, &len), 0);
	assert_int_equal(len, 32 * P);
	assert_int_equal(unmap_all(1), 0);
}

/* IOAS_UNMAP: the UNMAP table. */
static void test_unmap_errors(void **state)
{
	uint64_t len = U64MAX;
	(void)state;
	assert_int_equal(unmap_len(1, 0, &len), 0); /* (0, U64_MAX) on an empty IOAS */
	assert_int_equal(len, 0);
	assert_int_equal(map_fixed(1, B, 2 * P, 16 * P), 0);
	assert_int_equal(map_fixed(1, B, P, 20 * P), 0);
	ROWS(UNMAP,
	     /* the lookup comes first */
	     {0, 0, 0, 0, 0, ENOENT},
	     {9, 0, 0, U64MAX, 0, ENOENT},
	     {9, 0, 0, U64MAX, U64MAX, ENOENT},
	     /* EOVERFLOW before EINVAL, then the overflow of iova + length - 1 */
	     {1, 0, 0, U64MAX, 1, EOVERFLOW},
	     {1, 0, 0, 1, U64MAX, EOVERFLOW},
	     {1, 0, 0, 0, U64MAX, EOVERFLOW},
	     {1, 0, 0, 0, 0, EINVAL},
	     {1, 0, 0, 0, 16 * P, EINVAL},
	     {1, 0, 0, 3, U64MAX - 1, EOVERFLOW},
	     {1, 0, 0, U64MAX - 1, 3, EOVERFLOW},
	     /* reaching U64_MAX exactly is fine: there is just nothing there */
	     {1, 0, 0, 2, U64MAX - 1, ENOENT},
	     {1, 0, 0, U64MAX - 21 * P + 1, 21 * P, ENOENT},
	     /* areas [16P, 18P) and [20P, 21P): a gap, partial overlaps */
	     {1, 0, 0, 2 * P, 18 * P, ENOENT},
	     {1, 0, 0, 2 * P, 16 * P + 1, ENOENT},
	     {1, 0, 0, 2 * P - 1, 16 * P, ENOENT},
	     {1, 0, 0, 6 * P - 1, 15 * P, ENOENT});
	/* Nothing was removed; the result is the sum of the areas, not the range. */
	len = 6 * P;
	assert_int_equal(unmap_len(1, 15 * P, &len), 0);
	assert_int_equal(len, 3 * P);
	/* Unmap-all counts every area, odd-sized and top-of-space ones too. */
	assert_int_equal(map_fixed(1, B, 3, 0), 0);
	assert_int_equal(map_fixed(1, B, P, U64MAX - P + 1), 0);
	assert_int_equal(unmap_all(1), P + 3);
}

/* IOAS_MAP table, in the kernel's order: each row also breaks later rules. */
static void test_map_errors(void **state)
{
	(void)state;
	assert_int_equal(map_fixed(1, B, 2 * P, 16 * P), 0);
	assert_int_equal(add_reserved(1, 18 * P, P), 0);
	ROWS(MAP,
	     /* 1. unknown flags */
	     {9, 1u << 3, B, 0, U64MAX, EOPNOTSUPP},
	     {9, RW | (1u << 31), B, P, U64MAX, EOPNOTSUPP},
	     /* 2. iova (even without FIXED) or length U64_MAX */
	     {9, 0, B, P, U64MAX, EOVERFLOW},
	     {9, 0, B, U64MAX, 0, EOVERFLOW},
	     /* 3. no access flag */
	     {9, FIXED, U64MAX, 0, 0, EINVAL},
	     /* 4. the IOAS */
	     {9, RW, U64MAX, 2, 0, ENOENT},
	     {0, RO, B, P, 0, ENOENT},
	     /* 5. user_va + length overflows */
	     {1, RW | FIXED, U64MAX - 10, 11, 0, EOVERFLOW},
	     {1, RW, P, U64MAX - 1, 0, EOVERFLOW},
	     /* 6. length 0 or above SIZE_MAX - PAGE_SIZE */
	     {1, RW | FIXED, B, 0, U64MAX - 1, EINVAL},
	     {1, RW | FIXED, 0, U64MAX - P + 1, U64MAX - 1, EINVAL},
	     {1, RW, 0, U64MAX - P + 1, 0, EINVAL},
	     /* 8b-8d: overflow, reserved (EINVAL, also with an area), area */
	     {1, RW | FIXED, B, 2 * P, U64MAX - P + 1, EOVERFLOW},
	     {1, RW | FIXED, B, 2 * P, 18 * P, EINVAL},
	     {1, RW | FIXED, B, 1, 19 * P - 1, EINVAL},
	     {1, RW | FIXED, B, 2 * P, 17 * P, EINVAL},
	     {1, RW | FIXED, B, 1, 18 * P - 1, EEXIST},
	     /* 9. automatic: a length of U64_MAX/2 or more */
	     {1, RW, 0, U64MAX / 2, 0, EOVERFLOW},
	     {1, RW, 0, U64MAX - P, 0, EOVERFLOW});
	{
		struct iofd_ioas_map m = {.size = sizeof(m), .flags = RW, .ioas_id = 1,
					  .reserved = 1, .user_va = B, .length = P};

		assert_int_equal(ioc(IOFD_NR_IOAS_MAP, &m), -EOPNOTSUPP);
	}

	/* 9. A full space is ENOSPC; a fixed map into a reservation EINVAL. */
	assert_int_equal(add_reserved(1, 0, 16 * P), 0);
	assert_int_equal(add_reserved(1, 19 * P, U64MAX - 19 * P + 1), 0);
	ROWS(MAP, {1, RW, B, 1, 0, ENOSPC}, {1, RO | FIXED, B, 1, 0, EINVAL});

	/* 7, 8a, 10 need an alignment above 1: IOAS 2 with HUGE_PAGES 0. */
	assert_int_equal(ioas_alloc(), 2);
	assert_int_equal(set_huge(2, 0), 0);
	assert_int_equal(map_fixed(2, B, P, 4 * P), 0);
	ROWS(MAP,
	     /* 7 and 8a come before 8b */
	     {2, RW | FIXED, B, P + 1, U64MAX - 1, EINVAL},
	     {2, RW | FIXED, B, P, U64MAX - 1, EINVAL},
	     /* 8d before 10 */
	     {2, RW | FIXED, B + 1, P, 4 * P, EEXIST},
	     /* 10. the user_va's offset into its page */
	     {2, RW | FIXED, B + P / 2, P, 8 * P, EINVAL},
	     /* 9. auto: the IOVA alignment (2048, from user_va) is below P */
	     {2, RW, B + 2048, P, 0, EINVAL},
	     {2, RW, B, P / 2, 0, EINVAL});

	/* Nothing the failures touched changed. */
	assert_int_equal(unmap_all(2), P);
	assert_int_equal(unmap_all(1), 2 * P);
	{
		const struct iofd_iova_range r = {16 * P, 18 * P - 1};

		assert_ranges(1, &r, 1, 1);
	}
}

/* IOAS_ALLOC: what a no-domain IOAS accepts. */
static void test_map_accepts(void **state)
{
	(void)state;
	ROWS(MAP,
	     /* alignment 1: IOVA 0, odd lengths, odd user_va */
	     {1, RW | FIXED, B + 3, 16 * P - 1, 0, 0},
	     /* the last page of the space */
	     {1, RW | FIXED, B, P, U64MAX - P + 1, 0},
	     /* unmapped user memory: nothing is pinned without a domain */
	     {1, RW | FIXED, 0x80000000, 4 * P, 32 * P, 0},
	     {1, RW | FIXED, 0, P, 64 * P, 0},
	     /* one access flag is enough */
	     {1, RO | FIXED, B, P, 96 * P, 0},
	     {1, IOFD_MAP_WRITEABLE | FIXED, B, P, 97 * P, 0});
	/* The largest legal length fits at IOVA 0. */
	assert_int_equal(ioas_alloc(), 2);
	assert_int_equal(map_fixed(2, 0, U64MAX - P, 0), 0);
	assert_int_equal(unmap_all(2), U64MAX - P);
	assert_int_equal(unmap_all(1), 24 * P - 1);
}

/* IOAS_MAP worked examples: the lowest fit. */
static void test_auto_iova_lowest_fit(void **state)
{
	uint64_t iova = 12345 * P;
	(void)state;
	for (unsigned i = 0; i < 10; i++)
		assert_int_equal(map_auto(1, B, P), (i + 1) * P);
	/* Freed holes are reused, lowest first. */
	assert_int_equal(unmap(1, 6 * P, P), 0);
	assert_int_equal(unmap(1, 3 * P, P), 0);
	assert_int_equal(map_auto(1, B, P), 3 * P);
	assert_int_equal(map_auto(1, B, P), 6 * P);
	/* 2P wants a 2P-aligned hole. */
	assert_int_equal(map_auto(1, B, 2 * P), 12 * P);
	assert_int_equal(unmap_all(1), 12 * P);
	/* 3P: aligned to 4P. */
	assert_int_equal(map_auto(1, B, 3 * P), 4 * P);
	assert_int_equal(unmap_all(1), 3 * P);
	/* buffer + 2048: alignment 2048, and the page offset is kept. */
	assert_int_equal(map_auto(1, B + 2048, P), P + 2048);
	assert_int_equal(unmap_all(1), P);
	/* The iova passed in is ignored without FIXED. */
	assert_int_equal(map(1, RW, B, 1, &iova), 0);
	assert_int_equal(iova, P);
	assert_int_equal(unmap_all(1), 1);
}

/* selftest fixture iommufd_ioas (no_domain) area_auto_iova, with the exact IOVAs IOAS_MAP gives. */
static void test_area_auto_iova(void **state)
{
	const struct iofd_iova_range r1 = {P, 600 * P}, r2 = {200 * P, 600 * P - 1};
	/* lengths P..10P: empty; with [4P, 104P) reserved; inside [200P, 600P) */
	static const unsigned empty[] = {1, 2, 4, 4, 8, 8, 8, 8, 16, 16};
	static const unsigned around_resv[] = {1, 2, 104, 104, 104, 104, 104, 104, 112, 112};
	static const unsigned in_allowed[] = {200, 200, 200, 200, 200, 200, 200, 200, 208, 208};
	uint64_t iova, len;
	(void)state;
	for (unsigned i = 0; i < 10; i++) {
		assert_int_equal(map_auto(1, B, P), P);
		assert_int_equal(unmap(1, P, P), 0);
	}
	for (unsigned i = 0; i < 10; i++) {
		len = (i + 1) * P;
		iova = map_auto(1, 0x80000000, len);
		assert_int_equal(iova % (len & -len), 0);
		assert_int_equal(iova, empty[i] * P);
		assert_int_equal(unmap(1, iova, len), 0);
	}
	assert_int_equal(add_reserved(1, 4 * P, 100 * P), 0);
	for (unsigned i = 0; i < 10; i++) {
		len = (i + 1) * P;
		iova = map_auto(1, B, len);
		assert_int_equal(iova % (len & -len), 0);
		assert_int_equal(iova, around_resv[i] * P);
		assert_int_equal(unmap(1, iova, len), 0);
	}
	assert_int_equal(allow(1, &r1, 1), -EADDRINUSE);
	assert_int_equal(allow(1, &r2, 1), 0);
	for (unsigned i = 0; i < 10; i++) {
		len = (i + 1) * P;
		iova = map_auto(1, B, len);
		assert_true(iova >= 200 * P && iova + len <= 600 * P);
		assert_int_equal(iova, in_allowed[i] * P);
		assert_int_equal(unmap(1, iova, len), 0);
	}
}

/* IOAS_MAP step 2 (6.17+): the candidate alignment is capped at the THP size. */
static void test_auto_iova_thp_cap(void **state)
{
	(void)state;
#if defined(__x86_64__)
	/* min(4 MiB, lowbit(2 GiB)) = 4 MiB, capped to 2 MiB. */
	assert_int_equal(map_auto(1, 0x80000000, 4ull << 20), 2ull << 20);
	assert_int_equal(unmap_all(1), 4ull << 20);
#else
	skip();
#endif
}

/* selftest fixture iommufd_ioas (no_domain) reserved_overflow: the aligned start must not wrap to 0. */
static void test_reserved_overflow(void **state)
{
	(void)state;
	assert_int_equal(add_reserved(1, 6, 0xffffffffffff8001ull), 0);
	ROWS(MAP, {1, RW, B, 0x5000, 0, ENOSPC});
	assert_int_equal(unmap_all(1), 0);
}

/* IOAS_MAP step 6 (6.17): a candidate equal to the hole's last byte is refused. */
static void test_auto_iova_hole_last(void **state)
{
	(void)state;
	/* Holes [P, P+1] in IOAS 1 and [P, P] in IOAS 2. */
	assert_int_equal(add_reserved(1, P + 2, U64MAX - 2 * P - 1), 0);
	assert_int_equal(map_auto(1, B, 2), P);
	assert_int_equal(ioas_alloc(), 2);
	assert_int_equal(add_reserved(2, P + 1, U64MAX - 2 * P), 0);
	ROWS(MAP, {2, RW, B, 1, 0, ENOSPC});
}

/* selftest fixture iommufd_ioas (no_domain) area_allowed; ALLOW_IOVAS ADD_RESERVED */
static void test_area_allowed(void **state)
{
	const struct iofd_iova_range r = {0, 600 * P};
	const struct iofd_iova_range want[] = {{0, P - 1}, {3 * P + 5, U64MAX}};
	(void)state;
	assert_int_equal(allow(1, &r, 1), 0);
	assert_int_equal(add_reserved(1, P, P), -EADDRINUSE);
	assert_int_equal(allow(1, NULL, 0), 0);
	assert_int_equal(add_reserved(1, P, P), 0);
	assert_int_equal(allow(1, &r, 1), -EADDRINUSE);
	/* Reservations may overlap each other, but not areas. */
	assert_int_equal(add_reserved(1, P + 5, 2 * P), 0);
	assert_int_equal(map_fixed(1, B, P, 8 * P), 0);
	assert_int_equal(add_reserved(1, 9 * P - 1, 1), -EADDRINUSE);
	assert_int_equal(add_reserved(7, 0, 1), -ENOENT);
	assert_ranges(1, want, 2, 1);
}

/* ALLOW_IOVAS: the allowed list steers automatic allocation only. */
static void test_allowed_steers_auto(void **state)
{
	const struct iofd_iova_range two[] = {{200 * P, 300 * P - 1}, {100 * P, 150 * P}};
	const struct iofd_iova_range low = {0, 2 * P - 1};
	(void)state;
	/* An existing area need not be inside the new list. */
	assert_int_equal(map_fixed(1, B, P, 1000 * P), 0);
	assert_int_equal(allow(1, two, 2), 0);
	/* Unsorted input; the lowest span wins. */
	assert_int_equal(map_auto(1, B, P), 100 * P);
	/* Fixed maps and IOVA_RANGES ignore the list. */
	assert_int_equal(map_fixed(1, B, P, 0), 0);
	assert_ranges(1, &everything, 1, 1);
	/* A new list replaces the old; spans are clipped to [P, U64_MAX - P]. */
	assert_int_equal(allow(1, &low, 1), 0);
	assert_int_equal(map_auto(1, B, P), P);
	ROWS(MAP, {1, RW, B, 1, 0, ENOSPC});
	assert_int_equal(allow(1, NULL, 0), 0);
	assert_int_equal(map_auto(1, B, P), 2 * P);
	assert_int_equal(unmap_all(1), 5 * P);
}

/* ALLOW_IOVAS: ALLOW_IOVAS errors; a failure keeps the old list. */
static void test_allow_iovas_errors(void **state)
{
	struct iofd_ioas_allow_iovas a = {.size = sizeof(a), .ioas_id = 1, .reserved = 1};
	const struct iofd_iova_range good = {200 * P, 300 * P - 1};
	struct iofd_iova_range r[2];
	(void)state;
	assert_int_equal(ioc(IOFD_NR_IOAS_ALLOW_IOVAS, &a), -EOPNOTSUPP);
	assert_int_equal(allow(2, NULL, 1), -ENOENT);
	assert_int_equal(allow(1, NULL, 1), -EFAULT);
	assert_int_equal(allow(1, &good, 1), 0);
	r[0] = (struct iofd_iova_range){10 * P, 10 * P};
	assert_int_equal(allow(1, r, 1), -EINVAL); /* start == last */
	r[0] = (struct iofd_iova_range){10 * P, 10 * P - 1};
	assert_int_equal(allow(1, r, 1), -EINVAL);
	r[0] = (struct iofd_iova_range){10 * P, 20 * P};
	r[1] = (struct iofd_iova_range){20 * P, 30 * P};
	assert_int_equal(allow(1, r, 2), -EINVAL); /* overlap */
	r[1] = (struct iofd_iova_range){0, 10 * P};
	assert_int_equal(allow(1, r, 2), -EINVAL);
	/* An invalid later range beats an earlier one meeting a reservation. */
	assert_int_equal(add_reserved(1, 0, 2), 0);
	r[0] = (struct iofd_iova_range){0, 1};
	r[1] = (struct iofd_iova_range){5, 5};
	assert_int_equal(allow(1, r, 2), -EINVAL);
	/* The old list [200P, 300P) is still in force. */
	assert_int_equal(map_auto(1, B, P), 200 * P);
	assert_int_equal(add_reserved(1, 250 * P, P), -EADDRINUSE);
	assert_int_equal(add_reserved(1, 300 * P, P), 0);
	/* EADDRINUSE (at the swap) restores it too. */
	r[0] = (struct iofd_iova_range){P, 2 * P};
	r[1] = (struct iofd_iova_range){250 * P, 400 * P};
	assert_int_equal(allow(1, r, 2), -EADDRINUSE);
	assert_int_equal(map_auto(1, B, P), 201 * P);
	assert_int_equal(unmap_all(1), 2 * P);
}

/* ALLOW_IOVAS step 3: ranges are read and checked one at a time. */
static void test_allow_iovas_read_order(void **state)
{
	uint8_t *pg = mmap(NULL, 2 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			   -1, 0);
	struct iofd_iova_range *edge = (struct iofd_iova_range *)(pg + P) - 1;
	long bad, good;
	(void)state;
	assert_true(pg != MAP_FAILED);
	assert_int_equal(munmap(pg + P, P), 0);
	/* The second range is unreadable. */
	*edge = (struct iofd_iova_range){7 * P, 7 * P};
	bad = allow(1, edge, 2);
	*edge = (struct iofd_iova_range){7 * P, 8 * P};
	good = allow(1, edge, 2);
	munmap(pg, P);
	assert_int_equal(bad, -EINVAL);
	assert_int_equal(good, -EFAULT);
	assert_int_equal(map_auto(1, B, P), P); /* no list was set */
}

/* selftest fixture iommufd_ioas (no_domain) copy_area */
static void test_copy_area(void **state)
{
	(void)state;
	assert_int_equal(map_fixed(1, B, P, 0), 0);
	assert_int_equal(copy_fixed(1, P, 1, 0, P), 0);
	assert_int_equal(ioas_alloc(), 2);
	assert_int_equal(copy_fixed(2, 0, 1, 0, P), 0);
	assert_int_equal(unmap_all(1), 2 * P);
	assert_int_equal(unmap_all(2), P);
}

/* IOAS_COPY table, in order (flags | src << 8); then the state is unchanged. */
static void test_copy_errors(void **state)
{
	const uint32_t S1 = 1 << 8, S9 = 9 << 8, WF = IOFD_MAP_WRITEABLE | FIXED;
	(void)state;
	assert_int_equal(map_fixed(1, B, 4 * P, MIB16), 0);
	assert_int_equal(ioas_alloc(), 2);
	assert_int_equal(map_fixed(2, B, P, 0), 0);
	assert_int_equal(add_reserved(2, 8 * P, P), 0);
	assert_int_equal(ioas_alloc(), 3);
	assert_int_equal(set_huge(3, 0), 0);
	ROWS(COPY,
	     /* 1-3: flags, U64_MAX anywhere, no access flag */
	     {9, S9 | 1u << 3, U64MAX, 0, U64MAX, EOPNOTSUPP},
	     {9, S9, 0, 0, U64MAX, EOVERFLOW},
	     {9, S9, U64MAX, 0, 0, EOVERFLOW},
	     {9, S9, 0, U64MAX, 0, EOVERFLOW},
	     {9, S9 | FIXED, 0, 0, 0, EINVAL},
	     /* 4-6: src lookup, the source range, then the dst lookup */
	     {9, S9 | RW, 0, 0, 0, ENOENT},
	     {9, S1 | RW, MIB16, 0, 0, EINVAL},
	     {9, S1 | RW, U64MAX - 1, 3, 0, EOVERFLOW},
	     {2, S1 | RW, MIB16 - 1, P, 0, ENOENT},
	     {2, S1 | RW, MIB16 + 3 * P, P + 1, 0, ENOENT},
	     {9, S1 | RW, MIB16, P, 0, ENOENT},
	     /* 7: MAP's rules on dst: overlap, reserved, overflow */
	     {2, S1 | WF, MIB16, P, P - 1, EEXIST},
	     {2, S1 | WF, MIB16, P, 7 * P + 1, EINVAL},
	     {2, S1 | WF, MIB16, P, U64MAX - P + 2, EOVERFLOW},
	     /* ... and its alignment P: length, dst_iova, page offset */
	     {3, S1 | WF, MIB16, P + 1, 0, EINVAL},
	     {3, S1 | WF, MIB16, P, 1, EINVAL},
	     {3, S1 | WF, MIB16 + P / 2, P, 0, EINVAL});
	assert_int_equal(add_reserved(3, 0, U64MAX), 0);
	ROWS(COPY, {3, S1 | RW, MIB16, P, 0, ENOSPC});
	/* Nothing changed anywhere. */
	assert_int_equal(unmap_all(3), 0);
	assert_int_equal(unmap_all(2), P);
	assert_int_equal(unmap_all(1), 4 * P);
}

/* IOAS_COPY step 8: WRITEABLE from a read-only source is EPERM. */
static void test_copy_readonly_source(void **state)
{
	uint64_t d = 0;
	(void)state;
	ROWS(MAP, {1, RO | FIXED, B, 2 * P, MIB16, 0});
	assert_int_equal(ioas_alloc(), 2);
	assert_int_equal(copy_fixed(2, 0, 1, MIB16, P), -EPERM);
	assert_int_equal(copy(RW, 2, &d, 1, MIB16, P), -EPERM);
	assert_int_equal(d, 0);
	/* Overlap is found first. */
	assert_int_equal(copy_fixed(1, MIB16 + P, 1, MIB16, P), -EEXIST);
	/* dst stayed empty; a read-only copy works ... */
	assert_int_equal(unmap_all(2), 0);
	d = 4 * P;
	assert_int_equal(copy(RO | FIXED, 2, &d, 1, MIB16 + 1, P), 0);
	/* ... and cannot be copied writeable either: the pages are read-only. */
	assert_int_equal(copy_fixed(1, 0, 2, 4 * P, P), -EPERM);
	assert_int_equal(unmap_all(1), 2 * P);
	assert_int_equal(unmap_all(2), P);
}

/* IOAS_COPY: contiguous coverage, one area per segment, auto IOVA from the source VA. */
static void test_copy_segments(void **state)
{
	uint64_t d = 0, len = P;
	(void)state;
	assert_int_equal(map_fixed(1, B, 2 * P, MIB16), 0);
	assert_int_equal(map_fixed(1, B + 8 * P, 2 * P, MIB16 + 2 * P), 0);
	assert_int_equal(map_fixed(1, B, P, MIB16 + 5 * P), 0); /* after a gap */
	assert_int_equal(ioas_alloc(), 2);
	assert_int_equal(copy_fixed(2, 32 * P, 1, MIB16 + P, 2 * P), 0);
	assert_int_equal(copy_fixed(2, 64 * P, 1, MIB16 + 3 * P, 3 * P), -ENOENT);
	/* Two areas at consecutive IOVAs. */
	assert_int_equal(unmap_len(2, 32 * P, &len), 0);
	assert_int_equal(len, P);
	assert_int_equal(unmap(2, 33 * P, P), 0);
	/* Auto: src_iova's VA is buffer + 2048. */
	assert_int_equal(copy(RW, 2, &d, 1, MIB16 + 2048, P), 0);
	assert_int_equal(d, P + 2048);
	/* Unmapping the source leaves the copy. */
	assert_int_equal(unmap_all(1), 5 * P);
	assert_int_equal(unmap_all(2), P);
	/* src == dst; VA buffer + 1: alignment 1, page offset 1. */
	assert_int_equal(map_fixed(1, B, 3, 0), 0);
	d = 0;
	assert_int_equal(copy(RW, 1, &d, 1, 1, 2), 0);
	assert_int_equal(d, P + 1);
	assert_int_equal(unmap_all(1), 5);
}

/* selftest fixture iommufd_ioas (no_domain) copy_sweep */
static void test_copy_sweep(void **state)
{
	uint32_t dst = ioas_alloc();
	uint64_t last = MIB16 + BUFFER_SIZE - 2;
	(void)state;
	assert_int_equal(map_fixed(1, B, BUFFER_SIZE - 1, MIB16), 0);
	for (uint64_t src = MIB16 - P; src <= last; src += 511) {
		long rc = copy_fixed(dst, MIB16, 1, src, P / 2);

		if (src < MIB16 || src + P / 2 - 1 > last) {
			assert_int_equal(rc, -ENOENT);
		} else {
			assert_int_equal(rc, 0);
			assert_int_equal(unmap(dst, MIB16, P / 2), 0);
		}
	}
	assert_int_equal(destroy(dst), 0);
}

/* selftest fixture iommufd_ioas (no_domain) iova_ranges; IOVA_RANGES: the output array is the buffer. */
static void test_iova_ranges(void **state)
{
	struct iofd_iova_range *r = (struct iofd_iova_range *)buffer;
	const struct iofd_iova_range al = {10 * P, 20 * P};
	const struct iofd_iova_range want[] = {{0, P - 1}, {3 * P, U64MAX - P}};
	struct iofd_ioas_iova_ranges q = {.size = sizeof(q), .ioas_id = 1, .reserved = 1};
	uint32_t num = BUFFER_SIZE / sizeof(*r);
	uint64_t align = 0;
	(void)state;
	assert_int_equal(ranges(1, r, &num, &align), 0);
	assert_int_equal(num, 1);
	assert_true(r[0].start == 0 && r[0].last == SIZE_MAX);
	assert_int_equal(align, 1);
	memset(buffer, 0, BUFFER_SIZE);
	num = 0;
	assert_int_equal(ranges(1, r, &num, &align), -EMSGSIZE);
	assert_int_equal(num, 1);
	assert_int_equal(r[0].start | r[0].last, 0);

	assert_int_equal(add_reserved(1, P, P), 0);
	num = BUFFER_SIZE / sizeof(*r);
	assert_int_equal(ranges(1, r, &num, &align), 0);
	assert_int_equal(num, 2);
	assert_true(r[0].start == 0 && r[0].last == P - 1);
	assert_true(r[1].start == 2 * P && r[1].last == SIZE_MAX);
	memset(buffer, 0, BUFFER_SIZE);
	num = 1;
	assert_int_equal(ranges(1, r, &num, &align), -EMSGSIZE);
	assert_int_equal(num, 2);
	assert_true(r[0].start == 0 && r[0].last == P - 1);
	assert_int_equal(r[1].start | r[1].last, 0);
	/* num_iovas 0 writes no entry, so a NULL array is fine ... */
	num = 0;
	assert_int_equal(ranges(1, NULL, &num, &align), -EMSGSIZE);
	assert_int_equal(num, 2);
	/* ... else EFAULT; failures write nothing back (steps 1, 2, 4). */
	num = 5;
	align = 0xdead;
	assert_int_equal(ranges(1, NULL, &num, &align), -EFAULT);
	assert_true(num == 5 && align == 0xdead);
	assert_int_equal(ranges(2, r, &num, &align), -ENOENT);
	assert_int_equal(ioc(IOFD_NR_IOAS_IOVA_RANGES, &q), -EOPNOTSUPP);
	assert_true(num == 5 && align == 0xdead);

	/* Areas and allowed ranges do not show; touching reservations merge. */
	assert_int_equal(map_fixed(1, B, P, 0), 0);
	assert_int_equal(add_reserved(1, 2 * P, P), 0);
	assert_int_equal(add_reserved(1, U64MAX - P + 1, P), 0);
	assert_int_equal(allow(1, &al, 1), 0);
	assert_ranges(1, want, 2, 1);
}

/* selftest fixture iommufd_ioas (no_domain) ioas_option_huge_pages; OPTION (b) */
static void test_ioas_option_huge_pages(void **state)
{
	uint64_t val = 3;
	(void)state;
	assert_int_equal(huge_pages(1, IOFD_OPTION_OP_GET, &val), 0);
	assert_int_equal(val, 1);
	assert_int_equal(set_huge(1, 0), 0);
	assert_int_equal(get_huge(1), 0);
	assert_ranges(1, &everything, 1, P);
	assert_int_equal(set_huge(1, 2), -EINVAL);
	assert_int_equal(get_huge(1), 0);
	assert_int_equal(set_huge(1, 1), 0);
	assert_int_equal(get_huge(1), 1);
	assert_ranges(1, &everything, 1, 1);
}

/* selftest fixture iommufd_ioas (no_domain) ioas_iova_alloc: every length from 1 to 2P - 1. */
static void test_ioas_iova_alloc(void **state)
{
	(void)state;
	for (uint64_t len = 1; len < 2 * P; len++) {
		uint64_t iova = map_auto(1, B, len), got = len;

		/* IOAS_MAP: ALIGN_UP(P, roundup_pow_of_two(len)) */
		assert_int_equal(iova, len <= P ? P : 2 * P);
		assert_int_equal(unmap_len(1, iova, &got), 0);
		assert_int_equal(got, len);
	}
}

/* selftest fixture iommufd_ioas (no_domain) ioas_align_change; OPTION (b) step 4 */
static void test_ioas_align_change(void **state)
{
	(void)state;
	assert_int_equal(map_fixed(1, B, P, MIB16), 0);
	assert_int_equal(set_huge(1, 0), 0);
	assert_int_equal(map_fixed(1, B + P / 2, P, MIB16 + P), -EINVAL);
	assert_int_equal(set_huge(1, 0), 0);
	assert_int_equal(set_huge(1, 1), 0);
	assert_int_equal(map_fixed(1, B + P / 2, P, MIB16 + P), 0);
	assert_int_equal(set_huge(1, 0), -EADDRINUSE);
	/* Rolled back: still enabled, alignment 1. */
	assert_int_equal(get_huge(1), 1);
	assert_ranges(1, &everything, 1, 1);
	assert_int_equal(unmap(1, MIB16 + P, P), 0);
	assert_int_equal(unmap(1, MIB16, P), 0);
	/* A misaligned IOVA or length blocks it too. */
	assert_int_equal(map_fixed(1, B, P, MIB16 + 1), 0);
	assert_int_equal(set_huge(1, 0), -EADDRINUSE);
	assert_int_equal(unmap_all(1), P);
	assert_int_equal(map_fixed(1, B, P + 1, MIB16), 0);
	assert_int_equal(set_huge(1, 0), -EADDRINUSE);
	assert_int_equal(unmap_all(1), P + 1);
	assert_int_equal(set_huge(1, 0), 0);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_ioas_destroy),
		T(test_area),
		T(test_unmap_fully_contained_areas),
		T(test_unmap_errors),
		T(test_map_errors),
		T(test_map_accepts),
		T(test_auto_iova_lowest_fit),
		T(test_area_auto_iova),
		T(test_auto_iova_thp_cap),
		T(test_reserved_overflow),
		T(test_auto_iova_hole_last),
		T(test_area_allowed),
		T(test_allowed_steers_auto),
		T(test_allow_iovas_errors),
		T(test_allow_iovas_read_order),
		T(test_copy_area),
		T(test_copy_errors),
		T(test_copy_readonly_source),
		T(test_copy_segments),
		T(test_copy_sweep),
		T(test_iova_ranges),
		T(test_ioas_option_huge_pages),
		T(test_ioas_iova_alloc),
		T(test_ioas_align_change),
	};
#undef T

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
