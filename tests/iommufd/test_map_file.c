/*
 * test_map_file.c - IOMMU_IOAS_MAP_FILE and IOMMU_IOAS_CHANGE_PROCESS.
 *
 * Rules from Linux's include/uapi/linux/iommufd.h (struct
 * iommu_ioas_map_file, struct iommu_ioas_change_process: both 6.13) and
 * drivers/iommu/iommufd/ioas.c / pages.c:
 *   MAP_FILE: unknown flags EOPNOTSUPP; iova or length U64_MAX EOVERFLOW;
 *     neither READABLE nor WRITEABLE EINVAL; unknown IOAS ENOENT; a
 *     descriptor the caller lacks EBADF; WRITEABLE over a file not open for
 *     writing EPERM; length 0 EINVAL.  The file's pages are pinned only
 *     when a domain needs them (memfd_pin_folios): a range beyond the end
 *     of the file, or a file that is not tmpfs/hugetlbfs, is EINVAL then.
 *   The selftest (tools/testing/selftests/iommu/iommufd.c, the `_file`
 *     variants of iommufd_mock_domain, test_basic_file): a page of a
 *     memfd mapped with MAP_FILE is the page the program's MAP_SHARED
 *     mapping of the memfd shows (MD_CHECK_MAP on the user address);
 *     length one byte past the file: EINVAL; after ftruncate to 0: EINVAL.
 *   CHANGE_PROCESS: __reserved non-zero EOPNOTSUPP; any IOAS mapping that
 *     is not a file mapping: EINVAL; otherwise 0.
 *   Both ioctls are absent in 6.12: ENOTTY.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <iommusim/iommusim.h>

#include "iofd_test.h"

#define FILE_SIZE (64 * 1024ul)

static long map_file(struct iofd_ctx *c, uint32_t ioas, uint32_t flags, int fd, uint64_t start,
		     uint64_t len, uint64_t *iova)
{
	struct iofd_ioas_map_file m = {.size = sizeof(m), .flags = flags, .ioas_id = ioas,
				       .fd = fd, .start = start, .length = len, .iova = *iova};
	long rc = ioc(c, IOFD_NR_IOAS_MAP_FILE, &m);

	*iova = m.iova;
	return rc;
}

static long change_process(struct iofd_ctx *c, uint32_t reserved)
{
	struct iofd_ioas_change_process cp = {.size = sizeof(cp), .reserved = reserved};

	return ioc(c, IOFD_NR_IOAS_CHANGE_PROCESS, &cp);
}

/* A memfd of `size` bytes with every byte (i & 0xff) ^ seed, and its
 * MAP_SHARED mapping in *view. */
static int memfd_filled(size_t size, uint8_t seed, uint8_t **view)
{
	int fd = memfd_create("iommusim-test", MFD_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	*view = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(*view != MAP_FAILED);
	for (size_t i = 0; i < size; i++)
		(*view)[i] = (uint8_t)i ^ seed;
	return fd;
}

static void test_abi_6_12_lacks_them(void **state)
{
	(void)state;
	struct iofd_ctx *c = tctx_open(NULL, IOFD_ABI_6_12);
	uint8_t *view;
	int fd = memfd_filled(FILE_SIZE, 0, &view);
	uint64_t iova = 0;

	assert_int_equal(map_file(c, ioas_alloc(c), RW, fd, 0, FILE_SIZE, &iova), -ENOTTY);
	assert_int_equal(change_process(c, 0), -ENOTTY);
	iofd_close(c);
	munmap(view, FILE_SIZE);
	close(fd);
}

static void test_argument_errnos(void **state)
{
	(void)state;
	struct iofd_ctx *c = tctx_open(NULL, IOFD_ABI_NEWEST);
	uint32_t ioas = ioas_alloc(c);
	uint8_t *view;
	int fd = memfd_filled(FILE_SIZE, 0, &view);
	uint64_t iova = 0;

	assert_int_equal(map_file(c, ioas, RW | (1u << 3), fd, 0, FILE_SIZE, &iova), -EOPNOTSUPP);
	assert_int_equal(map_file(c, ioas, RW, fd, 0, U64MAX, &iova), -EOVERFLOW);
	iova = U64MAX;
	assert_int_equal(map_file(c, ioas, RW | FIXED, fd, 0, FILE_SIZE, &iova), -EOVERFLOW);
	iova = 0;
	assert_int_equal(map_file(c, ioas, 0, fd, 0, FILE_SIZE, &iova), -EINVAL);
	assert_int_equal(map_file(c, ioas + 7, RW, fd, 0, FILE_SIZE, &iova), -ENOENT);
	assert_int_equal(map_file(c, ioas, RW, 1000, 0, FILE_SIZE, &iova), -EBADF);
	assert_int_equal(map_file(c, ioas, RW, -1, 0, FILE_SIZE, &iova), -EBADF);
	assert_int_equal(map_file(c, ioas, RW, fd, 0, 0, &iova), -EINVAL);

	/* A read-only descriptor of the file: a read-only mapping only. */
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	int ro = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(ro >= 0);
	assert_int_equal(map_file(c, ioas, RW, ro, 0, FILE_SIZE, &iova), -EPERM);
	assert_int_equal(map_file(c, ioas, IOFD_MAP_READABLE, ro, 0, FILE_SIZE, &iova), 0);

	/* The first version of the struct is the whole struct. */
	struct iofd_ioas_map_file m = {.size = sizeof(m) - 1, .flags = RW, .ioas_id = ioas,
				       .fd = fd, .length = FILE_SIZE};
	assert_int_equal(ioc(c, IOFD_NR_IOAS_MAP_FILE, &m), -EINVAL);
	iofd_close(c);
	close(ro);
	munmap(view, FILE_SIZE);
	close(fd);
}

/* Without a domain nothing is pinned: the mapping is only recorded. */
static void test_no_domain_maps_and_unmaps(void **state)
{
	(void)state;
	struct iofd_ctx *c = tctx_open(NULL, IOFD_ABI_NEWEST);
	uint32_t ioas = ioas_alloc(c);
	uint8_t *view;
	int fd = memfd_filled(FILE_SIZE, 0, &view);
	uint64_t iova = 0;

	assert_int_equal(map_file(c, ioas, RW, fd, 4096, 8192, &iova), 0);
	/* The IOVA keeps the offset's alignment within a page (4096: page-aligned). */
	assert_int_equal(iova % 4096, 0);
	uint64_t fixed = 1ull << 32;
	assert_int_equal(map_file(c, ioas, RW | FIXED, fd, 0, FILE_SIZE, &fixed), 0);
	assert_int_equal(fixed, 1ull << 32);
	/* Overlap with the fixed mapping. */
	assert_int_equal(map_file(c, ioas, RW | FIXED, fd, 0, 4096, &fixed), -EEXIST);
	assert_int_equal(check_refs(c, view, FILE_SIZE, 0), 0);
	assert_int_equal(unmap(c, ioas, iova, 8192), 0);
	assert_int_equal(unmap(c, ioas, fixed, FILE_SIZE), 0);
	iofd_close(c);
	munmap(view, FILE_SIZE);
	close(fd);
}

/* With the mock domain the file's pages are pinned: they are the pages the
 * program's shared mapping shows, and bad ranges are refused. */
static void test_mock_domain_pins_file_pages(void **state)
{
	(void)state;
	struct iofd_ctx *c = tctx_open(NULL, IOFD_ABI_NEWEST);
	uint32_t ioas = ioas_alloc(c), stdev, hwpt;
	assert_int_equal(mock_domain(c, ioas, &stdev, &hwpt, NULL), 0);
	uint8_t *view;
	int fd = memfd_filled(FILE_SIZE, 0, &view);
	uint64_t iova = 0;

	assert_int_equal(map_file(c, ioas, RW, fd, 0, 4096, &iova), 0);
	assert_int_equal(check_map(c, hwpt, iova, 4096, view), 0);
	assert_int_equal(check_refs(c, view, 4096, 1), 0);
	assert_int_equal(check_refs(c, view + 4096, 4096, 0), 0);
	/* The IO page at iova is not the second file page. */
	assert_int_equal(check_map(c, hwpt, iova, 4096, view + 4096), -EINVAL);

	/* A second descriptor of the same file maps the same pages again:
	 * two pins, as two IOAS_MAPs of one buffer give. */
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	int fd2 = open(path, O_RDWR | O_CLOEXEC);
	assert_true(fd2 >= 0);
	uint64_t iova2 = 0;
	assert_int_equal(map_file(c, ioas, RW, fd2, 0, 4096, &iova2), 0);
	assert_int_equal(check_map(c, hwpt, iova2, 4096, view), 0);
	assert_int_equal(check_refs(c, view, 4096, 2), 0);
	assert_int_equal(unmap(c, ioas, iova2, 4096), 0);
	close(fd2);
	assert_int_equal(check_refs(c, view, 4096, 1), 0);

	/* One byte past the end of the file (test_basic_file). */
	uint8_t *view2;
	int tmp = memfd_filled(FILE_SIZE, 0, &view2);
	uint64_t before = iofd_object_count(c);
	assert_int_equal(map_file(c, ioas, RW, tmp, 0, FILE_SIZE + 1, &iova2), -EINVAL);
	assert_int_equal(ftruncate(tmp, 0), 0);
	assert_int_equal(map_file(c, ioas, RW, tmp, 0, FILE_SIZE, &iova2), -EINVAL);
	assert_int_equal(iofd_object_count(c), before);

	/* Not a memory file: a pipe. */
	int p[2];
	assert_int_equal(pipe(p), 0);
	assert_int_equal(map_file(c, ioas, IOFD_MAP_READABLE, p[0], 0, 4096, &iova2), -EINVAL);
	close(p[0]);
	close(p[1]);

	assert_int_equal(unmap(c, ioas, iova, 4096), 0);
	assert_int_equal(check_refs(c, view, 4096, 0), 0);
	iofd_close(c);
	munmap(view2, FILE_SIZE);
	close(tmp);
	munmap(view, FILE_SIZE);
	close(fd);
}

/* The mapping reads the file, not the program's memory: an access object
 * copies the file's bytes, and its writes land in the file. */
static void test_access_rw_reaches_the_file(void **state)
{
	(void)state;
	struct tfds files = {0};
	struct iofd_ctx *c = tctx_open(&files, IOFD_ABI_NEWEST);
	uint32_t ioas = ioas_alloc(c);
	uint8_t *view;
	int fd = memfd_filled(FILE_SIZE, 0x5a, &view);
	uint64_t iova = 0;
	int afd;

	assert_int_equal(map_file(c, ioas, RW, fd, 8192, 8192, &iova), 0);
	assert_int_equal(create_access(c, ioas, 0, &afd), 0);
	uint8_t buf[100];
	assert_int_equal(access_rw(c, afd, 0, iova + 10, sizeof(buf), buf), 0);
	for (size_t i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], (uint8_t)(8192 + 10 + i) ^ 0x5a);
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(access_rw(c, afd, MOCK_ACCESS_RW_WRITE, iova + 4096, sizeof(buf), buf),
			 0);
	assert_int_equal(view[8192 + 4096], 0xee);
	assert_int_equal(view[8192 + 4096 + 99], 0xee);
	assert_int_equal(view[8192 + 4096 + 100], (uint8_t)(8192 + 4096 + 100) ^ 0x5a);
	tfd_close(&files, afd);
	iofd_close(c);
	munmap(view, FILE_SIZE);
	close(fd);
}

static void test_change_process(void **state)
{
	(void)state;
	struct iofd_ctx *c = tctx_open(NULL, IOFD_ABI_NEWEST);

	assert_int_equal(change_process(c, 0), 0); /* nothing mapped */
	assert_int_equal(change_process(c, 1), -EOPNOTSUPP);
	uint32_t ioas = ioas_alloc(c), ioas2 = ioas_alloc(c);
	uint8_t *view;
	int fd = memfd_filled(FILE_SIZE, 0, &view);
	uint64_t iova = 0;
	assert_int_equal(map_file(c, ioas, RW, fd, 0, FILE_SIZE, &iova), 0);
	assert_int_equal(change_process(c, 0), 0);
	/* A user-address mapping in any IOAS forbids it. */
	void *buf = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(buf != MAP_FAILED);
	uint64_t iova2 = 0;
	assert_int_equal(map(c, ioas2, RW, buf, 4096, &iova2), 0);
	assert_int_equal(change_process(c, 0), -EINVAL);
	assert_int_equal(unmap(c, ioas2, iova2, 4096), 0);
	assert_int_equal(change_process(c, 0), 0);
	/* Short struct. */
	struct iofd_ioas_change_process cp = {.size = 4};
	assert_int_equal(ioc(c, IOFD_NR_IOAS_CHANGE_PROCESS, &cp), -EINVAL);
	iofd_close(c);
	munmap(buf, 4096);
	munmap(view, FILE_SIZE);
	close(fd);
}

/* A transport that cannot fetch descriptors says so. */
static void test_transport_without_descriptors(void **state)
{
	(void)state;
	struct iofd_uaccess ua = iofd_uaccess_self;
	ua.get_fd = NULL;
	struct iofd_ctx *c = iofd_open(&ua, IOFD_ABI_NEWEST);
	uint8_t *view;
	int fd = memfd_filled(FILE_SIZE, 0, &view);
	uint64_t iova = 0;
	assert_int_equal(map_file(c, ioas_alloc(c), RW, fd, 0, FILE_SIZE, &iova), -EOPNOTSUPP);
	iofd_close(c);
	munmap(view, FILE_SIZE);
	close(fd);
}

/* A device behind the modelled VT-d reads and writes the file through a
 * second-stage HWPT made from a file mapping (VT-d spec 3.7: the second
 * stage maps IOVA to the host pages the IOAS names). */
static const char vtd_model[] =
	"{\"arch\":\"vtd\",\"haw\":46,\"vtd\":{"
	"\"cap\":{\"ND\":6,\"SAGAW\":4,\"MGAW\":47,\"SLLPS\":1,\"PSI\":1,\"NFR\":7,\"MAMV\":18,"
	"\"FRO\":34},"
	"\"ecap\":{\"QI\":1,\"DT\":1,\"NEST\":1,\"SRS\":1,\"PSS\":19,\"PASID\":1,\"SMTS\":1,"
	"\"SSTS\":1,\"FSTS\":1,\"IRO\":80},\"fault_records\":8}}";

static void test_host_dma_reaches_the_file(void **state)
{
	(void)state;
	struct ims_model *m;
	char err[256];
	assert_int_equal(ims_model_parse(vtd_model, "host", &m, err, sizeof(err)), 0);
	assert_int_equal(iofd_host_init(m, err, sizeof(err)), 0);
	struct iofd_ctx *c = tctx_open(NULL, IOFD_ABI_NEWEST);
	uint32_t dev, ioas = ioas_alloc(c);
	const uint32_t sid = 0x0108;
	assert_int_equal(iofd_host_bind(c, sid, &dev), 0);
	uint8_t *view;
	int fd = memfd_filled(FILE_SIZE, 0x33, &view);
	uint64_t iova = 0x100000;
	assert_int_equal(map_file(c, ioas, RW | FIXED, fd, 0x4000, 0x8000, &iova), 0);
	uint32_t pt = ioas;
	assert_int_equal(iofd_host_attach(c, dev, &pt), 0);
	uint8_t got[16];
	assert_int_equal(iofd_host_dma(sid, iova + 0x1000 + 5, got, sizeof(got), false, NULL), 0);
	for (size_t i = 0; i < sizeof(got); i++)
		assert_int_equal(got[i], (uint8_t)(0x4000 + 0x1000 + 5 + i) ^ 0x33);
	assert_int_equal(iofd_host_dma(sid, iova + 0x7ffe, "wxyz", 4, true, NULL), -EFAULT);
	assert_int_equal(iofd_host_dma(sid, iova + 0x7ff0, "wxyz", 4, true, NULL), 0);
	assert_memory_equal(view + 0x4000 + 0x7ff0, "wxyz", 4);
	assert_int_equal(iofd_host_detach(c, dev), 0);
	iofd_close(c);
	iofd_host_fini();
	munmap(view, FILE_SIZE);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_abi_6_12_lacks_them),
		cmocka_unit_test(test_argument_errnos),
		cmocka_unit_test(test_no_domain_maps_and_unmaps),
		cmocka_unit_test(test_mock_domain_pins_file_pages),
		cmocka_unit_test(test_access_rw_reaches_the_file),
		cmocka_unit_test(test_change_process),
		cmocka_unit_test(test_transport_without_descriptors),
		cmocka_unit_test(test_host_dma_reaches_the_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
