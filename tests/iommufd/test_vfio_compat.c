/*
 * test_vfio_compat.c - the VFIO type1 container ioctls on /dev/iommu
 * (iommufd/vfio_compat.c), written against <linux/vfio.h> and the rules
 * of Linux's drivers/iommu/iommufd/vfio_compat.c as the selftest's
 * `iommufd` fixture checks them: argsz and flag errors are EINVAL, no
 * compat IOAS is ENODEV, type1v2 cannot split a mapping, type1 can, and
 * GET_INFO returns DMA_AVAIL then IOVA_RANGE capabilities.
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
#include <linux/vfio.h>

#include <iommusim/iommufd.h>

#include "iommufd/uapi.h"

#define ARG(p) ((uint64_t)(uintptr_t)(p))

struct fixture {
	struct iofd_ctx *ctx;
	uint8_t *buf;
	size_t P;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	f->ctx = iofd_open(&iofd_uaccess_self, IOFD_ABI_NEWEST);
	f->P = (size_t)sysconf(_SC_PAGESIZE);
	f->buf = mmap(NULL, 16 * f->P, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	*state = f;
	return f->ctx && f->buf != MAP_FAILED ? 0 : -1;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	iofd_close(f->ctx);
	munmap(f->buf, 16 * f->P);
	free(f);
	return 0;
}

/* Allocate an IOAS and make it the compat IOAS; returns its ID. */
static uint32_t set_compat(struct fixture *f)
{
	struct iofd_ioas_alloc alloc = {.size = sizeof(alloc)};
	assert_int_equal(iofd_ioctl(f->ctx, IOFD_REQ(IOFD_NR_IOAS_ALLOC), ARG(&alloc)), 0);
	struct iofd_vfio_ioas v = {.size = sizeof(v), .ioas_id = alloc.out_ioas_id,
				   .op = IOFD_VFIO_IOAS_SET};
	assert_int_equal(iofd_ioctl(f->ctx, IOFD_REQ(IOFD_NR_VFIO_IOAS), ARG(&v)), 0);
	return alloc.out_ioas_id;
}

static long map_dma(struct fixture *f, uint64_t iova, uint64_t size, uint32_t flags)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map), .flags = flags, .vaddr = ARG(f->buf), .iova = iova,
		.size = size,
	};
	return iofd_ioctl(f->ctx, VFIO_IOMMU_MAP_DMA, ARG(&map));
}

static long unmap_dma(struct fixture *f, uint64_t iova, uint64_t size, uint32_t flags,
		      uint64_t *unmapped)
{
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap), .flags = flags, .iova = iova, .size = size,
	};
	long rc = iofd_ioctl(f->ctx, VFIO_IOMMU_UNMAP_DMA, ARG(&unmap));
	if (unmapped)
		*unmapped = unmap.size;
	return rc;
}

/* simple_ioctls and the no-compat-IOAS errors (map_cmd, unmap_cmd,
 * info_cmd, set_iommu_cmd). */
static void test_without_compat_ioas(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(iofd_ioctl(f->ctx, VFIO_GET_API_VERSION, 0), VFIO_API_VERSION);
	assert_int_equal(iofd_ioctl(f->ctx, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU), 1);
	assert_int_equal(iofd_ioctl(f->ctx, VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU), 1);
	assert_int_equal(iofd_ioctl(f->ctx, VFIO_CHECK_EXTENSION, VFIO_UNMAP_ALL), 1);
	assert_int_equal(iofd_ioctl(f->ctx, VFIO_CHECK_EXTENSION, VFIO_UPDATE_VADDR), 0);
	assert_int_equal(iofd_ioctl(f->ctx, VFIO_CHECK_EXTENSION, VFIO_DMA_CC_IOMMU), -ENODEV);

	struct vfio_iommu_type1_dma_unmap unmap = {.argsz = 1, .iova = 1 << 24, .size = f->P};
	assert_int_equal(iofd_ioctl(f->ctx, VFIO_IOMMU_UNMAP_DMA, ARG(&unmap)), -EINVAL);
	unmap.argsz = sizeof(unmap);
	unmap.flags = 1u << 31;
	assert_int_equal(iofd_ioctl(f->ctx, VFIO_IOMMU_UNMAP_DMA, ARG(&unmap)), -EINVAL);
	unmap.flags = 0;
	assert_int_equal(iofd_ioctl(f->ctx, VFIO_IOMMU_UNMAP_DMA, ARG(&unmap)), -ENODEV);

	struct vfio_iommu_type1_dma_map map = {.argsz = 1, .vaddr = ARG(f->buf),
					       .iova = 1 << 24, .size = f->P};
	assert_int_equal(iofd_ioctl(f->ctx, VFIO_IOMMU_MAP_DMA, ARG(&map)), -EINVAL);
	map.argsz = sizeof(map);
	map.flags = 1u << 31;
	assert_int_equal(iofd_ioctl(f->ctx, VFIO_IOMMU_MAP_DMA, ARG(&map)), -EINVAL);
	map.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
	assert_int_equal(iofd_ioctl(f->ctx, VFIO_IOMMU_MAP_DMA, ARG(&map)), -ENODEV);

	struct vfio_iommu_type1_info info = {.argsz = 1};
	assert_int_equal(iofd_ioctl(f->ctx, VFIO_IOMMU_GET_INFO, ARG(&info)), -EINVAL);
	info.argsz = sizeof(info);
	assert_int_equal(iofd_ioctl(f->ctx, VFIO_IOMMU_GET_INFO, ARG(&info)), -ENODEV);

	assert_int_equal(iofd_ioctl(f->ctx, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU), -ENODEV);
	assert_int_equal(iofd_ioctl(f->ctx, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU), -ENODEV);
	assert_int_equal(iofd_ioctl(f->ctx, VFIO_SET_IOMMU, 7), -EINVAL);
	/* A group ioctl is not served on /dev/iommu. */
	assert_int_equal(iofd_ioctl(f->ctx, VFIO_GROUP_GET_STATUS, 0), -ENOTTY);
}

/* type1v2: whole mappings only; UNMAP_ALL needs iova = size = 0. */
static void test_type1v2_map_unmap(void **state)
{
	struct fixture *f = *state;
	set_compat(f);
	assert_int_equal(iofd_ioctl(f->ctx, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU), 0);
	assert_int_equal(iofd_ioctl(f->ctx, VFIO_CHECK_EXTENSION, VFIO_DMA_CC_IOMMU), 1);
	uint64_t base = 1 << 24, got = 0;
	assert_int_equal(map_dma(f, base, 4 * f->P, VFIO_DMA_MAP_FLAG_READ), 0);
	assert_int_equal(map_dma(f, base + f->P, f->P, VFIO_DMA_MAP_FLAG_READ), -EEXIST);
	/* A piece of a mapping cannot be unmapped under type1v2. */
	assert_int_equal(unmap_dma(f, base, f->P, 0, NULL), -ENOENT);
	assert_int_equal(unmap_dma(f, base, 4 * f->P, VFIO_DMA_UNMAP_FLAG_ALL, NULL), -EINVAL);
	assert_int_equal(unmap_dma(f, base, 4 * f->P, 0, &got), 0);
	assert_int_equal(got, 4 * f->P);
	assert_int_equal(map_dma(f, base, 2 * f->P, VFIO_DMA_MAP_FLAG_WRITE), 0);
	assert_int_equal(map_dma(f, base + 8 * f->P, f->P, VFIO_DMA_MAP_FLAG_WRITE), 0);
	assert_int_equal(unmap_dma(f, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL, &got), 0);
	assert_int_equal(got, 3 * f->P);
}

/* type1: huge pages go off, and unmap may split a mapping at page bounds. */
static void test_type1_splits(void **state)
{
	struct fixture *f = *state;
	uint32_t ioas = set_compat(f);
	assert_int_equal(iofd_ioctl(f->ctx, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU), 0);
	struct iofd_option opt = {.size = sizeof(opt), .option_id = IOFD_OPTION_HUGE_PAGES,
				  .op = IOFD_OPTION_OP_GET, .object_id = ioas};
	assert_int_equal(iofd_ioctl(f->ctx, IOFD_REQ(IOFD_NR_OPTION), ARG(&opt)), 0);
	assert_int_equal(opt.val64, 0);

	uint64_t base = 1 << 24, got = 0;
	assert_int_equal(map_dma(f, base, 4 * f->P, VFIO_DMA_MAP_FLAG_READ), 0);
	/* Not page aligned once huge pages are off. */
	assert_int_equal(map_dma(f, base + 8 * f->P + 1, f->P, VFIO_DMA_MAP_FLAG_READ), -EINVAL);
	/* Take the second page out of the middle. */
	assert_int_equal(unmap_dma(f, base + f->P, f->P, 0, &got), 0);
	assert_int_equal(got, f->P);
	/* The remaining pieces are separate mappings now. */
	assert_int_equal(unmap_dma(f, base, f->P, 0, &got), 0);
	assert_int_equal(got, f->P);
	assert_int_equal(unmap_dma(f, base + 2 * f->P, 2 * f->P, 0, &got), 0);
	assert_int_equal(got, 2 * f->P);
	/* Nothing left: VFIO's unmap of an empty range succeeds with size 0
	 * (the selftest's vfio_compat map test: "Unmap of empty is success"). */
	got = 1;
	assert_int_equal(unmap_dma(f, base, 4 * f->P, 0, &got), 0);
	assert_int_equal(got, 0);
}

/* GET_INFO: page sizes, and a capability chain DMA_AVAIL -> IOVA_RANGE
 * whose ranges are the holes of the reserved ranges. */
static void test_get_info_caps(void **state)
{
	struct fixture *f = *state;
	uint32_t ioas = set_compat(f);
	struct iofd_test_cmd rsv = {.size = sizeof(rsv), .op = IOFD_TEST_OP_ADD_RESERVED,
				    .id = ioas};
	rsv.add_reserved.start = f->P;
	rsv.add_reserved.length = f->P;
	assert_int_equal(iofd_ioctl(f->ctx, IOFD_REQ(IOFD_NR_TEST_CMD), ARG(&rsv)), 0);

	/* Too small for the capabilities: fixed part only, argsz says how much. */
	struct vfio_iommu_type1_info small = {.argsz = sizeof(small)};
	assert_int_equal(iofd_ioctl(f->ctx, VFIO_IOMMU_GET_INFO, ARG(&small)), 0);
	size_t want = sizeof(small) + sizeof(struct vfio_iommu_type1_info_dma_avail) +
		      sizeof(struct vfio_iommu_type1_info_cap_iova_range) +
		      2 * sizeof(struct vfio_iova_range);
	assert_int_equal(small.argsz, want);
	assert_int_equal(small.cap_offset, 0);
	assert_true(small.flags & VFIO_IOMMU_INFO_PGSIZES);
	assert_true(small.flags & VFIO_IOMMU_INFO_CAPS);
	assert_int_equal(small.iova_pgsizes & (f->P - 1), 0);
	assert_true(small.iova_pgsizes & f->P);

	uint8_t *buf = calloc(1, want);
	struct vfio_iommu_type1_info *info = (void *)buf;
	info->argsz = want;
	assert_int_equal(iofd_ioctl(f->ctx, VFIO_IOMMU_GET_INFO, ARG(buf)), 0);
	assert_int_equal(info->cap_offset, sizeof(*info));
	/* Capabilities need not be aligned: copy them out before reading. */
	struct vfio_iommu_type1_info_dma_avail dma;
	memcpy(&dma, buf + info->cap_offset, sizeof(dma));
	assert_int_equal(dma.header.id, VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL);
	assert_int_equal(dma.header.version, 1);
	assert_int_equal(dma.avail, UINT32_MAX);
	assert_int_not_equal(dma.header.next, 0);
	struct vfio_iommu_type1_info_cap_iova_range cap;
	memcpy(&cap, buf + dma.header.next, sizeof(cap));
	assert_int_equal(cap.header.id, VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE);
	assert_int_equal(cap.header.next, 0);
	assert_int_equal(cap.nr_iovas, 2);
	struct vfio_iova_range r[2];
	memcpy(r, buf + dma.header.next + sizeof(cap), sizeof(r));
	assert_int_equal(r[0].start, 0);
	assert_int_equal(r[0].end, f->P - 1);
	assert_int_equal(r[1].start, 2 * f->P);
	assert_int_equal(r[1].end, UINT64_MAX);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_without_compat_ioas, setup, teardown),
		cmocka_unit_test_setup_teardown(test_type1v2_map_unmap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_type1_splits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_info_caps, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
