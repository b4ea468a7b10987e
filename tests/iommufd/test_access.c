/*
 * test_access.c - the selftest's access objects (an emulated device that
 * reaches an IOAS by CPU): IOMMU_TEST_OP_CREATE_ACCESS (a descriptor from
 * the transport's install_file, found again with file_of), ACCESS_PAGES /
 * DESTROY_ACCESS_PAGES (pinning, items numbered from 0), ACCESS_RW
 * (reading and writing the bytes the IOAS maps), ACCESS_REPLACE_IOAS, an
 * unmap dropping the items it meets, EBADFD for a descriptor that is no
 * access, and the access keeping its IOAS and context.
 *
 * Expected values come from Linux 6.12 (Debian 6.12.117):
 * drivers/iommu/iommufd/selftest.c ("D/selftest.c": iommufd_test_create_
 * access, _access_pages, _access_item_destroy, _access_rw,
 * _access_replace_ioas, iommufd_access_get, iommufd_test_access_unmap),
 * device.c (iommufd_access_create, _pin_pages, _rw, _change_ioas),
 * io_pagetable.c and pages.c, and the selftest tools/testing/selftests/
 * iommu/iommufd.c (access_pin, access_pin_unmap, access_rw,
 * access_rw_unaligned, access_domain_destory, user_copy), as gathered in
 * /work/notes/domain_facts.md section 4; the transport contract from
 * include/iommusim/iommufd.h.
 */
#include "tests/iommufd/iofd_test.h"

#define NEEDS_PIN MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES
#define A MOCK_APERTURE_START

static uint64_t P;
static uint64_t BUFFER_SIZE;

static int setup(void **state)
{
	(void)state;
	for (uint64_t i = 0; i < BUFFER_SIZE; i++)
		buffer[i] = (uint8_t)(i * 7 + i / 4096);
	return fixture_open();
}

static int teardown(void **state)
{
	(void)state;
	return fixture_close(BUFFER_SIZE);
}

static int group_setup(void **state)
{
	(void)state;
	P = (uint64_t)sysconf(_SC_PAGESIZE);
	BUFFER_SIZE = 16 * P;
	return fixture_buffer(BUFFER_SIZE, 2u << 20);
}

static int group_teardown(void **state)
{
	(void)state;
	return fixture_buffer_free();
}

static unsigned open_files(void)
{
	unsigned n = 0;

	for (int i = 0; i < TFD_MAX; i++)
		n += files.file[i] != NULL;
	return n;
}

/* ------------------------------------------------------------------ */

/*
 * D/selftest.c iommufd_test_create_access: flags other than
 * NEEDS_PIN_PAGES -> EOPNOTSUPP; the IOAS is looked up when the access
 * attaches (ENOENT).  The access object is finalized at once and so takes
 * an object ID the caller never sees (D/device.c iommufd_access_create);
 * it counts the driver as a user (DESTROY: EBUSY) and holds its IOAS
 * (DESTROY(ioas): EBUSY).  Only closing the descriptor destroys it, which
 * frees both.  A transport that cannot make descriptors makes the op fail
 * (include/iommusim/iommufd.h install_file: EOPNOTSUPP).  Failures leave no
 * object, ID or descriptor.
 */
static void test_create_access(void **state)
{
	struct iofd_ctx *plain = iofd_open(&iofd_uaccess_self, IOFD_ABI_NEWEST);
	int fd = -1;

	(void)state;
	assert_non_null(plain);
	assert_int_equal(ioas_alloc(plain), 1);
	assert_int_equal(create_access(plain, 1, 0, &fd), -EOPNOTSUPP);
	assert_int_equal(iofd_object_count(plain), 1);
	assert_int_equal(ioas_alloc(plain), 2);
	iofd_close(plain);

	assert_int_equal(ioas_alloc(ctx), 1);
	assert_int_equal(create_access(ctx, 1, 1u << 1, &fd), -EOPNOTSUPP);
	assert_int_equal(create_access(ctx, 1, 0xffffffffu, &fd), -EOPNOTSUPP);
	assert_int_equal(create_access(ctx, 2, 0, &fd), -ENOENT);
	assert_int_equal(create_access(ctx, 0, NEEDS_PIN, &fd), -ENOENT);
	assert_int_equal(iofd_object_count(ctx), 1);
	assert_int_equal(open_files(), 0);

	assert_int_equal(create_access(ctx, 1, NEEDS_PIN, &fd), 0);
	assert_int_equal(fd, TFD_BASE);
	assert_non_null(tfd_file_of(&files, fd));
	assert_int_equal(iofd_object_count(ctx), 2);
	assert_int_equal(ioas_alloc(ctx), 3); /* ID 2 is the access's */
	assert_int_equal(destroy(ctx, 2), -EBUSY);
	assert_int_equal(destroy(ctx, 1), -EBUSY);
	assert_int_equal(create_access(ctx, 1, NEEDS_PIN, &fd), 0); /* a second one */
	assert_int_equal(fd, TFD_BASE + 1);
	assert_int_equal(ioas_alloc(ctx), 5);
	assert_int_equal(create_access(ctx, 5, 0, &fd), 0);
	assert_int_equal(fd, TFD_BASE + 2);
	assert_int_equal(destroy(ctx, 5), -EBUSY);
	tfd_close(&files, TFD_BASE);
	tfd_close(&files, TFD_BASE + 1);
	assert_int_equal(destroy(ctx, 1), 0);
	assert_int_equal(ioas_alloc(ctx), 1);
	assert_int_equal(ioas_alloc(ctx), 2);
	assert_int_equal(ioas_alloc(ctx), 4);
}

/*
 * An access that pins raises its IOAS's alignment to the CPU page
 * (D/device.c iommufd_access_create: iova_alignment = PAGE_SIZE with
 * needs_pin_pages; D/io_pagetable.c iopt_add_access /
 * iopt_calculate_iova_alignment): IOVA_RANGES reports it, a map off it is
 * EINVAL, an existing area off it makes CREATE_ACCESS EADDRINUSE (and
 * leaves nothing behind); without NEEDS_PIN the alignment stays 1.
 * Closing the access brings the alignment back.
 */
static void test_access_alignment(void **state)
{
	int fd, fd0;

	(void)state;
	assert_int_equal(ioas_alloc(ctx), 1);
	assert_int_equal(map_fixed(ctx, 1, buffer, P, A + 1), 0);
	assert_int_equal(create_access(ctx, 1, NEEDS_PIN, &fd), -EADDRINUSE);
	assert_int_equal(iofd_object_count(ctx), 1);
	assert_int_equal(open_files(), 0);
	assert_one_range(ctx, 1, 0, U64MAX, 1);
	assert_int_equal(create_access(ctx, 1, 0, &fd0), 0);
	assert_one_range(ctx, 1, 0, U64MAX, 1);
	assert_int_equal(unmap(ctx, 1, 0, U64MAX), 0);
	assert_int_equal(map_fixed(ctx, 1, buffer + 1, P, A), 0);
	assert_int_equal(create_access(ctx, 1, NEEDS_PIN, &fd), -EADDRINUSE);
	assert_int_equal(unmap(ctx, 1, 0, U64MAX), 0);

	assert_int_equal(create_access(ctx, 1, NEEDS_PIN, &fd), 0);
	assert_one_range(ctx, 1, 0, U64MAX, P);
	assert_int_equal(map_fixed(ctx, 1, buffer, P, A + P / 2), -EINVAL);
	assert_int_equal(map_fixed(ctx, 1, buffer, P / 2, A), -EINVAL);
	assert_int_equal(map_fixed(ctx, 1, buffer, P, A), 0);
	tfd_close(&files, fd);
	assert_one_range(ctx, 1, 0, U64MAX, 1);
	tfd_close(&files, fd0);
	assert_int_equal(destroy(ctx, 1), 0);
}

/*
 * ACCESS_PAGES / DESTROY_ACCESS_PAGES (D/selftest.c
 * iommufd_test_access_pages, iommufd_test_access_item_destroy; T/iommufd.c
 * access_pin): item IDs count from 0 per access and are not reused; the
 * pages hold one pin whatever the number of items over them (pins are per
 * IOAS_MAP, domain_facts section 4.2: the xarray is filled without a
 * second pin); destroying an item unpins what no other item holds; an
 * unknown item is ENOENT.  With no domain nothing is pinned before
 * (lazy).  uptr 0 skips the page check (the syzkaller case).
 */
static void test_access_pages(void **state)
{
	uint32_t item = 99;
	int fd;

	(void)state;
	assert_int_equal(ioas_alloc(ctx), 1);
	assert_int_equal(map_fixed(ctx, 1, buffer, 8 * P, A), 0);
	assert_int_equal(create_access(ctx, 1, NEEDS_PIN, &fd), 0);
	assert_int_equal(check_refs(ctx, buffer, 8 * P, 0), 0);

	assert_int_equal(access_pages(ctx, fd, 0, A, 2 * P, buffer, &item), 0);
	assert_int_equal(item, 0);
	assert_int_equal(check_refs(ctx, buffer, 2 * P, 1), 0);
	assert_int_equal(check_refs(ctx, buffer + 2 * P, 6 * P, 0), 0);
	assert_int_equal(access_pages(ctx, fd, MOCK_FLAGS_ACCESS_WRITE, A + P, 2 * P, buffer + P,
				      &item),
			 0);
	assert_int_equal(item, 1);
	assert_int_equal(check_refs(ctx, buffer, 3 * P, 1), 0);
	/* The same range again is another item. */
	assert_int_equal(access_pages(ctx, fd, 0, A, 2 * P, buffer, &item), 0);
	assert_int_equal(item, 2);
	assert_int_equal(check_refs(ctx, buffer, 3 * P, 1), 0);

	assert_int_equal(destroy_access_pages(ctx, fd, 0), 0);
	assert_int_equal(destroy_access_pages(ctx, fd, 0), -ENOENT);
	assert_int_equal(check_refs(ctx, buffer, 3 * P, 1), 0);
	assert_int_equal(destroy_access_pages(ctx, fd, 2), 0);
	assert_int_equal(check_refs(ctx, buffer, P, 0), 0);
	assert_int_equal(check_refs(ctx, buffer + P, 2 * P, 1), 0);
	assert_int_equal(destroy_access_pages(ctx, fd, 1), 0);
	assert_int_equal(check_refs(ctx, buffer, 8 * P, 0), 0);
	assert_int_equal(destroy_access_pages(ctx, fd, 3), -ENOENT);

	/* IDs go on. */
	assert_int_equal(access_pages(ctx, fd, 0, A + 4 * P, P, NULL, &item), 0);
	assert_int_equal(item, 3);
	assert_int_equal(check_refs(ctx, buffer + 4 * P, P, 1), 0);
	/* The whole area, page by page from its offset. */
	assert_int_equal(access_pages(ctx, fd, 0, A, 8 * P, buffer, &item), 0);
	assert_int_equal(item, 4);
	assert_int_equal(check_refs(ctx, buffer, 8 * P, 1), 0);
}

/*
 * ACCESS_PAGES errors in the kernel's order (D/selftest.c
 * iommufd_test_access_pages, D/device.c iommufd_access_pin_pages):
 * length > 16 MiB -> ENOMEM; flags beyond WRITE|SYZ -> EOPNOTSUPP; not an
 * access descriptor -> EBADFD; an access without NEEDS_PIN -> EOPNOTSUPP;
 * length 0 -> EINVAL; iova + length - 1 overflowing -> EOVERFLOW; an area
 * start not on a page -> EINVAL; WRITE on an area without IOMMU_WRITE, or
 * a read on one without IOMMU_READ -> EPERM; not covered by contiguous
 * areas -> ENOENT; pinned pages other than the ones under uptr -> EBADE
 * (iommufd_test_check_pages).  A failure pins nothing and uses no item ID.
 */
static void test_access_pages_errors(void **state)
{
	const uint64_t MB16 = 16ull << 20;
	uint32_t item = 99;
	int fd, fd0;

	(void)state;
	assert_int_equal(ioas_alloc(ctx), 1);
	assert_int_equal(create_access(ctx, 1, NEEDS_PIN, &fd), 0);
	assert_int_equal(create_access(ctx, 1, 0, &fd0), 0);
	assert_int_equal(map_fixed(ctx, 1, buffer, 4 * P, A), 0);
	uint64_t ro = A + 8 * P, wo = A + 12 * P;
	assert_int_equal(map(ctx, 1, IOFD_MAP_READABLE | FIXED, buffer + 8 * P, 2 * P, &ro), 0);
	assert_int_equal(map(ctx, 1, IOFD_MAP_WRITEABLE | FIXED, buffer + 12 * P, 2 * P, &wo), 0);

	assert_int_equal(access_pages(ctx, 12345, 1u << 5, A, MB16 + 1, buffer, &item), -ENOMEM);
	assert_int_equal(access_pages(ctx, 12345, 1u << 5, A, P, buffer, &item), -EOPNOTSUPP);
	assert_int_equal(access_pages(ctx, fd, 1u << 1, A, P, buffer, &item), -EOPNOTSUPP);
	assert_int_equal(access_pages(ctx, 12345, 0, A, P, buffer, &item), -EBADFD);
	assert_int_equal(access_pages(ctx, fd0, 0, A, P, buffer, &item), -EOPNOTSUPP);
	assert_int_equal(access_pages(ctx, fd, 0, A, 0, buffer, &item), -EINVAL);
	assert_int_equal(access_pages(ctx, fd, 0, U64MAX - P + 1, 2 * P, buffer, &item),
			 -EOVERFLOW);
	assert_int_equal(access_pages(ctx, fd, 0, A + 2048, 2048, buffer + 2048, &item), -EINVAL);
	assert_int_equal(access_pages(ctx, fd, 0, A + 4 * P, P, buffer, &item), -ENOENT);
	assert_int_equal(access_pages(ctx, fd, 0, A + 3 * P, 2 * P, buffer + 3 * P, &item),
			 -ENOENT);
	assert_int_equal(access_pages(ctx, fd, 0, 0, P, buffer, &item), -ENOENT);
	assert_int_equal(access_pages(ctx, fd, MOCK_FLAGS_ACCESS_WRITE, ro, P, buffer + 8 * P,
				      &item),
			 -EPERM);
	assert_int_equal(access_pages(ctx, fd, 0, wo, P, buffer + 12 * P, &item), -EPERM);
	assert_int_equal(access_pages(ctx, fd, 0, A, P, buffer + P, &item), -EBADE);
	assert_int_equal(access_pages(ctx, fd, 0, A, 2 * P, buffer + 4 * P, &item), -EBADE);
	assert_int_equal(item, 99);
	assert_int_equal(check_refs(ctx, buffer, BUFFER_SIZE, 0), 0);

	/* The right ones work, and take the first item ID. */
	assert_int_equal(access_pages(ctx, fd, 0, ro, P, buffer + 8 * P, &item), 0);
	assert_int_equal(item, 0);
	assert_int_equal(access_pages(ctx, fd, MOCK_FLAGS_ACCESS_WRITE, wo, P, buffer + 12 * P,
				      &item),
			 0);
	assert_int_equal(item, 1);
	assert_int_equal(check_refs(ctx, buffer + 8 * P, P, 1), 0);
	assert_int_equal(check_refs(ctx, buffer + 12 * P, P, 1), 0);
}

/*
 * An unmap that meets pinned pages asks the access to let go, and the
 * selftest's access drops every item overlapping the area (D/io_pagetable.c
 * iopt_unmap_iova_range -> iommufd_access_notify_unmap -> D/selftest.c
 * iommufd_test_access_unmap); the unmap succeeds and the item is then
 * unknown (T/iommufd.c access_pin_unmap: DESTROY_ACCESS_PAGES -> ENOENT).
 * Items over other areas stay.
 */
static void test_unmap_drops_items(void **state)
{
	uint32_t i0 = 0, i1 = 0, i2 = 0;
	uint64_t len;
	int fd;

	(void)state;
	assert_int_equal(ioas_alloc(ctx), 1);
	assert_int_equal(create_access(ctx, 1, NEEDS_PIN, &fd), 0);
	assert_int_equal(map_fixed(ctx, 1, buffer, 4 * P, A), 0);
	assert_int_equal(map_fixed(ctx, 1, buffer + 4 * P, 4 * P, A + 4 * P), 0);
	assert_int_equal(access_pages(ctx, fd, 0, A + P, P, buffer + P, &i0), 0);
	assert_int_equal(access_pages(ctx, fd, 0, A + 4 * P, 2 * P, buffer + 4 * P, &i1), 0);
	/* One item across both areas. */
	assert_int_equal(access_pages(ctx, fd, 0, A + 3 * P, 2 * P, buffer + 3 * P, &i2), 0);
	assert_int_equal(check_refs(ctx, buffer, P, 0), 0);
	assert_int_equal(check_refs(ctx, buffer + P, P, 1), 0);
	assert_int_equal(check_refs(ctx, buffer + 2 * P, P, 0), 0);
	assert_int_equal(check_refs(ctx, buffer + 3 * P, 3 * P, 1), 0);

	len = 4 * P;
	assert_int_equal(unmap_len(ctx, 1, A, &len), 0);
	assert_int_equal(len, 4 * P);
	assert_int_equal(destroy_access_pages(ctx, fd, i0), -ENOENT);
	assert_int_equal(destroy_access_pages(ctx, fd, i2), -ENOENT);
	assert_int_equal(check_refs(ctx, buffer, 4 * P, 0), 0);
	/* i2's pin in the second area went with it; i1's stays. */
	assert_int_equal(check_refs(ctx, buffer + 4 * P, 2 * P, 1), 0);
	assert_int_equal(destroy_access_pages(ctx, fd, i1), 0);
	assert_int_equal(check_refs(ctx, buffer, 8 * P, 0), 0);

	/* Unmap-all drops everything too. */
	assert_int_equal(access_pages(ctx, fd, 0, A + 4 * P, P, buffer + 4 * P, &i0), 0);
	assert_int_equal(unmap(ctx, 1, 0, U64MAX), 0);
	assert_int_equal(destroy_access_pages(ctx, fd, i0), -ENOENT);
	assert_int_equal(check_refs(ctx, buffer, BUFFER_SIZE, 0), 0);
}

/*
 * With a mock domain the pages are pinned by the domain already; the
 * access's items add no pin (refs stay 1, domain_facts section 4.2).
 * T/iommufd.c access_domain_destory: removing the domain (DESTROY of the
 * device) leaves the access's pin, which goes with its item.
 */
static void test_access_pages_with_domain(void **state)
{
	uint32_t stdev, item = 0;
	int fd;

	(void)state;
	assert_int_equal(ioas_alloc(ctx), 1);
	assert_int_equal(mock_domain(ctx, 1, &stdev, NULL, NULL), 0);
	assert_int_equal(create_access(ctx, 1, NEEDS_PIN, &fd), 0);
	/* Alignment: the larger of the domain's 2 KiB and the access's page. */
	assert_one_range(ctx, 1, MOCK_APERTURE_START, MOCK_APERTURE_LAST, P);
	assert_int_equal(map_fixed(ctx, 1, buffer, 4 * P, A), 0);
	assert_int_equal(check_refs(ctx, buffer, 4 * P, 1), 0);
	assert_int_equal(access_pages(ctx, fd, 0, A + P, P, buffer + P, &item), 0);
	assert_int_equal(check_refs(ctx, buffer, 4 * P, 1), 0);
	assert_int_equal(destroy(ctx, stdev), 0);
	assert_int_equal(check_refs(ctx, buffer, P, 0), 0);
	assert_int_equal(check_refs(ctx, buffer + P, P, 1), 0);
	assert_int_equal(check_refs(ctx, buffer + 2 * P, 2 * P, 0), 0);
	assert_int_equal(destroy_access_pages(ctx, fd, item), 0);
	assert_int_equal(check_refs(ctx, buffer, 4 * P, 0), 0);
}

/*
 * ACCESS_RW (D/selftest.c iommufd_test_access_rw, D/device.c
 * iommufd_access_rw, D/pages.c iopt_pages_rw_access): reads and writes the
 * user memory the IOVA maps, at any byte offset and length, across pages
 * and across contiguous areas of different memory, with or without
 * SLOW_PATH, with or without NEEDS_PIN (T/iommufd.c access_rw,
 * access_rw_unaligned).
 */
static void test_access_rw(void **state)
{
	uint8_t out[8 * 4096], in[64];
	int fd;

	(void)state;
	assert_true(P <= 4096);
	assert_int_equal(ioas_alloc(ctx), 1);
	assert_int_equal(create_access(ctx, 1, 0, &fd), 0);
	/* [A, A + 4P) -> buffer[0, 4P); [A + 4P, A + 6P) -> buffer[8P, 10P) */
	assert_int_equal(map_fixed(ctx, 1, buffer, 4 * P, A), 0);
	assert_int_equal(map_fixed(ctx, 1, buffer + 8 * P, 2 * P, A + 4 * P), 0);

	static const uint32_t how[] = {0, MOCK_ACCESS_RW_SLOW_PATH};
	for (int h = 0; h < 2; h++) {
		memset(out, 0, sizeof(out));
		assert_int_equal(access_rw(ctx, fd, how[h], A + 100, 300, out), 0);
		assert_memory_equal(out, buffer + 100, 300);
		assert_int_equal(access_rw(ctx, fd, how[h], A + P - 10, 20, out), 0);
		assert_memory_equal(out, buffer + P - 10, 20);
		assert_int_equal(access_rw(ctx, fd, how[h], A + 4 * P - 16, 32, out), 0);
		assert_memory_equal(out, buffer + 4 * P - 16, 16);
		assert_memory_equal(out + 16, buffer + 8 * P, 16);
		assert_int_equal(access_rw(ctx, fd, how[h], A, 6 * P, out), 0);
		assert_memory_equal(out, buffer, 4 * P);
		assert_memory_equal(out + 4 * P, buffer + 8 * P, 2 * P);
		assert_int_equal(access_rw(ctx, fd, how[h], A + 6 * P - 1, 1, out), 0);
		assert_int_equal(out[0], buffer[10 * P - 1]);
	}

	/* Writes land in the mapped memory and nowhere else. */
	uint8_t *copy = malloc(BUFFER_SIZE);
	assert_non_null(copy);
	for (int h = 0; h < 2; h++) {
		uint32_t flags = MOCK_ACCESS_RW_WRITE | how[h];
		for (int i = 0; i < 64; i++)
			in[i] = (uint8_t)(0xa0 + i + h);
		memcpy(copy, buffer, BUFFER_SIZE);
		assert_int_equal(access_rw(ctx, fd, flags, A + 4 * P - 5, 10, in), 0);
		memcpy(copy + 4 * P - 5, in, 5);
		memcpy(copy + 8 * P, in + 5, 5);
		assert_memory_equal(buffer, copy, BUFFER_SIZE);
		assert_int_equal(access_rw(ctx, fd, flags, A + 1, 64, in), 0);
		memcpy(copy + 1, in, 64);
		assert_memory_equal(buffer, copy, BUFFER_SIZE);
		/* And read back through the IOAS. */
		memset(out, 0, 64);
		assert_int_equal(access_rw(ctx, fd, how[h], A + 1, 64, out), 0);
		assert_memory_equal(out, in, 64);
	}
	free(copy);

	/* A NEEDS_PIN access reads the same bytes. */
	int fdp;
	assert_int_equal(create_access(ctx, 1, NEEDS_PIN, &fdp), 0);
	assert_int_equal(access_rw(ctx, fdp, 0, A + 3, 40, out), 0);
	assert_memory_equal(out, buffer + 3, 40);
}

/*
 * ACCESS_RW through an IOAS with a mock domain, at a 2 KiB IOVA offset
 * (T/iommufd.c access_rw_unaligned with a mock domain: the map at
 * buffer + 2048 is fine with 2 KiB alignment).
 */
static void test_access_rw_with_domain(void **state)
{
	uint8_t out[64], in[16];
	int fd;

	(void)state;
	assert_int_equal(ioas_alloc(ctx), 1);
	assert_int_equal(mock_domain(ctx, 1, NULL, NULL, NULL), 0);
	assert_int_equal(create_access(ctx, 1, 0, &fd), 0);
	assert_int_equal(map_fixed(ctx, 1, buffer + 2048, 2 * P, A + 2048), 0);
	assert_int_equal(access_rw(ctx, fd, 0, A + 2048 + P - 20, 40, out), 0);
	assert_memory_equal(out, buffer + 2048 + P - 20, 40);
	for (int i = 0; i < 16; i++)
		in[i] = (uint8_t)(0x10 * i + 1);
	assert_int_equal(access_rw(ctx, fd, MOCK_ACCESS_RW_WRITE, A + 2048, 16, in), 0);
	assert_memory_equal(buffer + 2048, in, 16);
	assert_int_equal(access_rw(ctx, fd, MOCK_ACCESS_RW_SLOW_PATH, A + 2048, 16, out), 0);
	assert_memory_equal(out, in, 16);
}

/*
 * ACCESS_RW errors in order (D/selftest.c iommufd_test_access_rw,
 * D/device.c iommufd_access_rw): length > 16 MiB -> ENOMEM; flags beyond
 * WRITE|SLOW_PATH|SYZ -> EOPNOTSUPP; not an access -> EBADFD; WRITE whose
 * source cannot be read -> EFAULT; length 0 -> EINVAL; overflow ->
 * EOVERFLOW; WRITE on an area without IOMMU_WRITE / read without
 * IOMMU_READ -> EPERM (checked per area before its copy); nothing mapped
 * at iova or a gap -> ENOENT; a read whose destination cannot be written
 * -> EFAULT.  None of these writes changes a byte.
 */
static void test_access_rw_errors(void **state)
{
	const uint64_t MB16 = 16ull << 20;
	uint8_t out[64], in[64];
	int fd;

	(void)state;
	memset(in, 0xee, sizeof(in));
	assert_int_equal(ioas_alloc(ctx), 1);
	assert_int_equal(create_access(ctx, 1, 0, &fd), 0);
	assert_int_equal(map_fixed(ctx, 1, buffer, 2 * P, A), 0);
	uint64_t ro = A + 4 * P, wo = A + 8 * P;
	assert_int_equal(map(ctx, 1, IOFD_MAP_READABLE | FIXED, buffer + 4 * P, P, &ro), 0);
	assert_int_equal(map(ctx, 1, IOFD_MAP_WRITEABLE | FIXED, buffer + 8 * P, P, &wo), 0);
	uint8_t *none = unmapped_range((size_t)P);
	uint8_t *rdonly = mmap(NULL, P, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(rdonly != MAP_FAILED);
	uint8_t *copy = malloc(BUFFER_SIZE);
	assert_non_null(copy);
	memcpy(copy, buffer, BUFFER_SIZE);

	assert_int_equal(access_rw(ctx, 12345, 1u << 3, A, MB16 + 1, out), -ENOMEM);
	assert_int_equal(access_rw(ctx, 12345, 1u << 3, A, 8, out), -EOPNOTSUPP);
	assert_int_equal(access_rw(ctx, fd, 1u << 1, A, 8, out), -EOPNOTSUPP);
	assert_int_equal(access_rw(ctx, 12345, 0, A, 8, out), -EBADFD);
	assert_int_equal(access_rw(ctx, fd, MOCK_ACCESS_RW_WRITE, A, 8, none), -EFAULT);
	assert_int_equal(access_rw(ctx, fd, 0, A, 0, out), -EINVAL);
	assert_int_equal(access_rw(ctx, fd, MOCK_ACCESS_RW_WRITE, A, 0, in), -EINVAL);
	assert_int_equal(access_rw(ctx, fd, 0, U64MAX, 2, out), -EOVERFLOW);
	assert_int_equal(access_rw(ctx, fd, MOCK_ACCESS_RW_WRITE, ro, 8, in), -EPERM);
	assert_int_equal(access_rw(ctx, fd, 0, wo, 8, out), -EPERM);
	assert_int_equal(access_rw(ctx, fd, 0, A + 2 * P, 8, out), -ENOENT);
	assert_int_equal(access_rw(ctx, fd, 0, A + 2 * P - 4, 8, out), -ENOENT);
	assert_int_equal(access_rw(ctx, fd, 0, 0, 8, out), -ENOENT);
	assert_int_equal(access_rw(ctx, fd, 0, A, 8, none), -EFAULT);
	assert_int_equal(access_rw(ctx, fd, 0, A, 8, rdonly), -EFAULT);
	assert_memory_equal(buffer, copy, BUFFER_SIZE);
	/* A write that runs into a gap: ENOENT.  Linux copies area by area
	 * and may already have written the bytes before the gap, so nothing
	 * is asserted about them. */
	assert_int_equal(access_rw(ctx, fd, MOCK_ACCESS_RW_WRITE, A + 2 * P - 4, 8, in), -ENOENT);
	/* The allowed directions work. */
	assert_int_equal(access_rw(ctx, fd, 0, ro, 8, out), 0);
	assert_memory_equal(out, buffer + 4 * P, 8);
	assert_int_equal(access_rw(ctx, fd, MOCK_ACCESS_RW_WRITE, wo, 8, in), 0);
	assert_memory_equal(buffer + 8 * P, in, 8);
	free(copy);
	munmap(rdonly, P);
}

/*
 * D/selftest.c iommufd_access_get: fget(fd) and f_op must be the access's
 * (EBADFD otherwise).  A fault queue descriptor, a number the transport
 * never gave, and a closed access's descriptor are all EBADFD, for every
 * op that takes an access descriptor.
 */
static void test_ebadfd(void **state)
{
	uint32_t fault_id;
	int ffd, afd, gone;
	uint8_t out[8];

	(void)state;
	assert_int_equal(ioas_alloc(ctx), 1);
	assert_int_equal(map_fixed(ctx, 1, buffer, P, A), 0);
	assert_int_equal(fault_alloc(ctx, 0, &fault_id, &ffd), 0);
	assert_int_equal(create_access(ctx, 1, NEEDS_PIN, &afd), 0);
	assert_int_equal(create_access(ctx, 1, NEEDS_PIN, &gone), 0);
	tfd_close(&files, gone);
	const int bad[] = {ffd, gone, TFD_BASE + TFD_MAX - 1, 12345, -1, 0};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(access_pages(ctx, bad[i], 0, A, P, buffer, NULL), -EBADFD);
		assert_int_equal(destroy_access_pages(ctx, bad[i], 0), -EBADFD);
		assert_int_equal(access_rw(ctx, bad[i], 0, A, 8, out), -EBADFD);
		assert_int_equal(access_replace_ioas(ctx, bad[i], 1), -EBADFD);
	}
	/* The real one works. */
	assert_int_equal(access_pages(ctx, afd, 0, A, P, buffer, NULL), 0);
	assert_int_equal(access_rw(ctx, afd, 0, A, 8, out), 0);
	assert_int_equal(destroy_access_pages(ctx, afd, 0), 0);
}

/*
 * Closing the descriptor destroys the access (D/selftest.c
 * iommufd_test_staccess_release: unmap callback over everything, then
 * iommufd_access_destroy): its items and pins go, its IOAS is free again,
 * and its hidden ID is free.
 */
static void test_close_drops_items(void **state)
{
	int fd;

	(void)state;
	assert_int_equal(ioas_alloc(ctx), 1);
	assert_int_equal(map_fixed(ctx, 1, buffer, 4 * P, A), 0);
	assert_int_equal(create_access(ctx, 1, NEEDS_PIN, &fd), 0);
	assert_int_equal(access_pages(ctx, fd, 0, A, 2 * P, buffer, NULL), 0);
	assert_int_equal(access_pages(ctx, fd, 0, A + P, 3 * P, buffer + P, NULL), 0);
	assert_int_equal(check_refs(ctx, buffer, 4 * P, 1), 0);
	tfd_close(&files, fd);
	assert_int_equal(check_refs(ctx, buffer, 4 * P, 0), 0);
	assert_one_range(ctx, 1, 0, U64MAX, 1);
	assert_int_equal(ioas_alloc(ctx), 2);
	assert_int_equal(unmap(ctx, 1, A, 4 * P), 0);
	assert_int_equal(destroy(ctx, 1), 0);
}

/*
 * ACCESS_REPLACE_IOAS (D/selftest.c iommufd_test_access_replace_ioas,
 * D/device.c iommufd_access_replace / iommufd_access_change_ioas): an
 * unknown IOAS -> ENOENT, the same IOAS -> 0 with nothing changed, an IOAS
 * whose areas break the access's alignment -> EADDRINUSE; on success every
 * item is dropped (the unmap callback over everything, T/iommufd.c
 * user_copy) and the access holds the new IOAS instead of the old.
 */
static void test_access_replace_ioas(void **state)
{
	uint32_t item = 0;
	int fd;

	(void)state;
	assert_int_equal(ioas_alloc(ctx), 1);
	assert_int_equal(map_fixed(ctx, 1, buffer, 2 * P, A), 0);
	assert_int_equal(create_access(ctx, 1, NEEDS_PIN, &fd), 0); /* ID 2 */
	assert_int_equal(access_pages(ctx, fd, 0, A, P, buffer, &item), 0);
	assert_int_equal(ioas_alloc(ctx), 3);
	assert_int_equal(map_fixed(ctx, 3, buffer, P, A + 1), 0);
	assert_int_equal(ioas_alloc(ctx), 4);
	assert_int_equal(map_fixed(ctx, 4, buffer + 4 * P, P, A), 0);

	assert_int_equal(access_replace_ioas(ctx, fd, 99), -ENOENT);
	assert_int_equal(access_replace_ioas(ctx, fd, 2), -ENOENT); /* the access itself */
	assert_int_equal(access_replace_ioas(ctx, fd, 1), 0);
	assert_int_equal(access_replace_ioas(ctx, fd, 3), -EADDRINUSE);
	assert_one_range(ctx, 3, 0, U64MAX, 1);
	assert_int_equal(check_refs(ctx, buffer, P, 1), 0);
	assert_int_equal(destroy(ctx, 1), -EBUSY);
	assert_int_equal(destroy(ctx, 3), 0);

	assert_int_equal(access_replace_ioas(ctx, fd, 4), 0);
	assert_int_equal(destroy_access_pages(ctx, fd, item), -ENOENT);
	assert_int_equal(check_refs(ctx, buffer, P, 0), 0);
	assert_one_range(ctx, 1, 0, U64MAX, 1);
	assert_one_range(ctx, 4, 0, U64MAX, P);
	assert_int_equal(destroy(ctx, 4), -EBUSY);
	assert_int_equal(destroy(ctx, 1), 0);
	/* Items now come from the new IOAS (IDs go on). */
	assert_int_equal(access_pages(ctx, fd, 0, A, P, buffer + 4 * P, &item), 0);
	assert_int_equal(item, 1);
	assert_int_equal(check_refs(ctx, buffer + 4 * P, P, 1), 0);
}

/*
 * The access holds the context (D/device.c iommufd_access_create:
 * iommufd_ctx_get): after /dev/iommu is closed its pins live on until
 * the descriptor is closed (T/iommufd_utils.h teardown_iommufd relies on
 * the order: close the access fds, then check refs).
 */
static void test_access_keeps_context(void **state)
{
	int fd;

	(void)state;
	assert_int_equal(ioas_alloc(ctx), 1);
	assert_int_equal(map_fixed(ctx, 1, buffer, 2 * P, A), 0);
	assert_int_equal(create_access(ctx, 1, NEEDS_PIN, &fd), 0);
	assert_int_equal(access_pages(ctx, fd, 0, A, 2 * P, buffer, NULL), 0);
	iofd_close(ctx);
	ctx = NULL;
	struct iofd_ctx *other = iofd_open(&iofd_uaccess_self, IOFD_ABI_NEWEST);
	assert_non_null(other);
	assert_int_equal(check_refs(other, buffer, 2 * P, 1), 0);
	tfd_close(&files, fd);
	assert_int_equal(check_refs(other, buffer, 2 * P, 0), 0);
	iofd_close(other);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_create_access),
		T(test_access_alignment),
		T(test_access_pages),
		T(test_access_pages_errors),
		T(test_unmap_drops_items),
		T(test_access_pages_with_domain),
		T(test_access_rw),
		T(test_access_rw_with_domain),
		T(test_access_rw_errors),
		T(test_ebadfd),
		T(test_close_drops_items),
		T(test_access_replace_ioas),
		T(test_access_keeps_context),
	};
#undef T

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
