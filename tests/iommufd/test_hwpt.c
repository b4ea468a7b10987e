/*
 * test_hwpt.c - devices, HW page tables and the mock IOMMU through
 * iofd_ioctl: MOCK_DOMAIN / MOCK_DOMAIN_REPLACE and object IDs, automatic
 * domains shared by the devices of one IOAS, DESTROY's EBUSY rules,
 * HWPT_ALLOC (paging and nested) and its errno table, HWPT_INVALIDATE and
 * MD_CHECK_IOTLB, GET_HW_INFO, dirty tracking (SET_DIRTY_TRACKING, TEST
 * DIRTY, GET_DIRTY_BITMAP), what a mock domain does to an IOAS (IOVA
 * ranges, alignment, pinning: EFAULT, MD_CHECK_MAP, MD_CHECK_REFS), and
 * that a failing call changes nothing.
 *
 * Expected values come from Linux 6.12 (Debian linux-source 6.12.117):
 * drivers/iommu/iommufd/{main.c,device.c,hw_pagetable.c,io_pagetable.c,
 * pages.c,selftest.c} ("D/") and the selftest tools/testing/selftests/
 * iommu/iommufd.c ("T/"), as gathered in /work/notes/domain_facts.md;
 * where newer kernels differ (HWPT_INVALIDATE on a paging HWPT, GET_HW_INFO
 * input type, PASID devices) the newest ABI's answer is from
 * /work/shared/reference/iommufd.md.  Never from our own output.
 */
#include <malloc.h>

#include "tests/iommufd/iofd_test.h"

static uint64_t P;
static uint64_t BUFFER_SIZE;

static int setup(void **state)
{
	(void)state;
	return fixture_open();
}

/* T/iommufd_utils.h teardown_iommufd: close, reopen, no pin left. */
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

/* Reopen the test's context at another ABI level. */
static void reopen(enum iofd_abi abi)
{
	tfd_close_all(&files);
	iofd_close(ctx);
	ctx = tctx_open(&files, abi);
	assert_non_null(ctx);
}

/* ------------------------------------------------------------------ */
/* Devices and IDs */

/*
 * IDs are the lowest free from 1 (D/main.c iommufd_object_alloc, xarray
 * ALLOC1).  MOCK_DOMAIN allocates the selftest object first, then binds the
 * device (finalized at once), then attaching to the IOAS makes the
 * automatic HWPT (D/selftest.c iommufd_test_mock_domain, D/device.c
 * iommufd_device_bind, iommufd_device_auto_get_domain): stdev 2, idev 3,
 * hwpt 4.  A second device on the same IOAS shares that automatic domain
 * (iommufd_device_auto_get_domain reuses a compatible auto_domain; mock
 * attach accepts any domain without dirty_ops), so hwpt 4 again; a device
 * attached to the HWPT itself too (T/iommufd.c hwpt_attach).
 */
static void test_mock_domain_ids(void **state)
{
	uint32_t stdev, hwpt, idev;

	(void)state;
	assert_int_equal(ioas_alloc(ctx), 1);
	assert_int_equal(mock_domain(ctx, 1, &stdev, &hwpt, &idev), 0);
	assert_int_equal(stdev, 2);
	assert_int_equal(idev, 3);
	assert_int_equal(hwpt, 4);
	assert_int_equal(mock_domain(ctx, 1, &stdev, &hwpt, &idev), 0);
	assert_int_equal(stdev, 5);
	assert_int_equal(idev, 6);
	assert_int_equal(hwpt, 4);
	assert_int_equal(mock_domain(ctx, 4, &stdev, &hwpt, &idev), 0);
	assert_int_equal(stdev, 7);
	assert_int_equal(idev, 8);
	assert_int_equal(hwpt, 4);
	assert_int_equal(iofd_object_count(ctx), 8);
}

/*
 * DESTROY (D/main.c iommufd_destroy: EBUSY unless only the table holds the
 * object): a bound and attached device, an attached HWPT, an IOAS under a
 * HWPT are busy.  Destroying the selftest object unplugs the device
 * (D/selftest.c iommufd_selftest_destroy: detach, unbind), and an automatic
 * HWPT goes with its last device (D/device.c iommufd_hw_pagetable_detach,
 * iommufd_object_put_and_try_destroy); its domain leaves the IOAS, whose
 * ranges and alignment come back (D/io_pagetable.c
 * iopt_table_remove_domain).
 */
static void test_destroy_rules(void **state)
{
	uint32_t stdev, hwpt, idev;

	(void)state;
	assert_int_equal(ioas_alloc(ctx), 1);
	assert_int_equal(mock_domain(ctx, 1, NULL, NULL, NULL), 0);     /* 2, 4, 3 */
	assert_int_equal(mock_domain(ctx, 1, NULL, NULL, NULL), 0);     /* 5, 4, 6 */
	assert_int_equal(destroy(ctx, 3), -EBUSY);
	assert_int_equal(destroy(ctx, 6), -EBUSY);
	assert_int_equal(destroy(ctx, 4), -EBUSY);
	assert_int_equal(destroy(ctx, 1), -EBUSY);
	assert_int_equal(iofd_object_count(ctx), 6);
	assert_int_equal(destroy(ctx, 2), 0);
	assert_int_equal(destroy(ctx, 3), -ENOENT); /* unbound with it */
	assert_int_equal(destroy(ctx, 4), -EBUSY);  /* device 6 still attached */
	assert_one_range(ctx, 1, MOCK_APERTURE_START, MOCK_APERTURE_LAST, MOCK_PAGE_SIZE);
	assert_int_equal(destroy(ctx, 5), 0);
	assert_int_equal(destroy(ctx, 4), -ENOENT);
	assert_int_equal(destroy(ctx, 6), -ENOENT);
	assert_int_equal(iofd_object_count(ctx), 1);
	assert_one_range(ctx, 1, 0, U64MAX, 1);
	/* Freed IDs are reused, lowest first. */
	assert_int_equal(mock_domain(ctx, 1, &stdev, &hwpt, &idev), 0);
	assert_int_equal(stdev, 2);
	assert_int_equal(idev, 3);
	assert_int_equal(hwpt, 4);
	assert_int_equal(destroy(ctx, 1), -EBUSY);
	assert_int_equal(destroy(ctx, 2), 0);
	assert_int_equal(destroy(ctx, 1), 0);
	assert_int_equal(iofd_object_count(ctx), 0);
}

/*
 * MOCK_DOMAIN errors (D/device.c iommufd_device_change_pt: no object
 * ENOENT, an object that is neither IOAS nor HWPT EINVAL; D/selftest.c
 * mock_dev_create: unknown device flags EINVAL), and a failing call
 * consumes no ID and leaves no object (the unwind in
 * iommufd_test_mock_domain aborts the stdev and unbinds).
 */
static void test_mock_domain_errors(void **state)
{
	uint32_t stdev, hwpt, idev;

	(void)state;
	assert_int_equal(ioas_alloc(ctx), 1);
	assert_int_equal(mock_domain(ctx, 0, NULL, NULL, NULL), -ENOENT);
	assert_int_equal(mock_domain(ctx, 99, NULL, NULL, NULL), -ENOENT);
	assert_int_equal(iofd_object_count(ctx), 1);
	assert_int_equal(mock_domain(ctx, 1, NULL, NULL, NULL), 0); /* 2, 4, 3 */
	assert_int_equal(mock_domain(ctx, 2, NULL, NULL, NULL), -EINVAL); /* stdev */
	assert_int_equal(mock_domain(ctx, 3, NULL, NULL, NULL), -EINVAL); /* idev */
	assert_int_equal(mock_domain_flags(ctx, 1, 1u << 3, NULL, NULL, NULL), -EINVAL);
	assert_int_equal(mock_domain_flags(ctx, 1, 0xffffffffu, NULL, NULL, NULL), -EINVAL);
	assert_int_equal(iofd_object_count(ctx), 4);
	assert_int_equal(mock_domain(ctx, 1, &stdev, &hwpt, &idev), 0);
	assert_int_equal(stdev, 5);
	assert_int_equal(idev, 6);
	assert_int_equal(hwpt, 4);
}

/*
 * T/iommufd.c mock_domain.replace, D/selftest.c
 * iommufd_test_mock_domain_replace and D/device.c iommufd_device_do_replace:
 * the ID must be a selftest object (ENOENT otherwise, also for the idev);
 * the target is looked up as any object (ENOENT) and must be a HWPT or an
 * IOAS (EINVAL); replacing onto another IOAS makes its automatic domain
 * (allocated before the old one goes) and the old automatic domain with
 * no device left is destroyed; the same HWPT again changes nothing.
 */
static void test_mock_domain_replace(void **state)
{
	uint32_t pt;

	(void)state;
	assert_int_equal(ioas_alloc(ctx), 1);
	assert_int_equal(mock_domain(ctx, 1, NULL, NULL, NULL), 0); /* 2, 4, 3 */
	assert_int_equal(ioas_alloc(ctx), 5);
	pt = 5;
	assert_int_equal(mock_replace(ctx, 2, &pt), 0);
	assert_int_equal(pt, 6);
	assert_int_equal(destroy(ctx, 4), -ENOENT);
	assert_one_range(ctx, 1, 0, U64MAX, 1);
	assert_one_range(ctx, 5, MOCK_APERTURE_START, MOCK_APERTURE_LAST, MOCK_PAGE_SIZE);
	pt = 6;
	assert_int_equal(mock_replace(ctx, 2, &pt), 0);
	assert_int_equal(pt, 6);
	pt = 5;
	assert_int_equal(mock_replace(ctx, 2, &pt), 0);
	assert_int_equal(pt, 6);
	/* Errors change nothing. */
	pt = 1;
	assert_int_equal(mock_replace(ctx, 3, &pt), -ENOENT);
	assert_int_equal(mock_replace(ctx, 99, &pt), -ENOENT);
	pt = 0;
	assert_int_equal(mock_replace(ctx, 2, &pt), -ENOENT);
	pt = 99;
	assert_int_equal(mock_replace(ctx, 2, &pt), -ENOENT);
	pt = 3;
	assert_int_equal(mock_replace(ctx, 2, &pt), -EINVAL);
	assert_int_equal(iofd_object_count(ctx), 5);
	assert_int_equal(destroy(ctx, 6), -EBUSY);
	/* Back: a new automatic domain on IOAS 1 takes the lowest free ID. */
	pt = 1;
	assert_int_equal(mock_replace(ctx, 2, &pt), 0);
	assert_int_equal(pt, 4);
	assert_int_equal(destroy(ctx, 6), -ENOENT);
	assert_int_equal(destroy(ctx, 5), 0);
}

/*
 * Two devices on one IOAS share one domain: one IOAS_MAP is in it once,
 * pinned once (D/pages.c iopt_area_fill_domains; refs 1, T/iommufd.c
 * mock_domain.all_aligns with the two_domains variant); the domain stays
 * while a device is attached, and when the last goes the pins go with it
 * (D/io_pagetable.c iopt_table_remove_domain unpins when no domain is
 * left) while the area stays in the IOAS.
 */
static void test_auto_domain_shared(void **state)
{
	uint32_t hwpt0, hwpt1, stdev0, stdev1;

	(void)state;
	assert_int_equal(ioas_alloc(ctx), 1);
	assert_int_equal(mock_domain(ctx, 1, &stdev0, &hwpt0, NULL), 0);
	assert_int_equal(mock_domain(ctx, 1, &stdev1, &hwpt1, NULL), 0);
	assert_int_equal(hwpt0, hwpt1);
	assert_int_equal(map_fixed(ctx, 1, buffer, 2 * P, MOCK_APERTURE_START), 0);
	assert_int_equal(check_map(ctx, hwpt0, MOCK_APERTURE_START, 2 * P, buffer), 0);
	assert_int_equal(check_refs(ctx, buffer, 2 * P, 1), 0);
	assert_int_equal(destroy(ctx, stdev0), 0);
	assert_int_equal(check_map(ctx, hwpt0, MOCK_APERTURE_START, 2 * P, buffer), 0);
	assert_int_equal(check_refs(ctx, buffer, 2 * P, 1), 0);
	assert_int_equal(destroy(ctx, stdev1), 0);
	assert_int_equal(check_map(ctx, hwpt0, MOCK_APERTURE_START, 2 * P, buffer), -ENOENT);
	assert_int_equal(check_refs(ctx, buffer, 2 * P, 0), 0);
	assert_int_equal(unmap(ctx, 1, MOCK_APERTURE_START, 2 * P), 0);
}

/* ------------------------------------------------------------------ */
/* HWPT_ALLOC */

/*
 * Paging HWPT_ALLOC (D/hw_pagetable.c iommufd_hwpt_alloc,
 * iommufd_hwpt_paging_alloc; D/selftest.c mock_domain_alloc_user), each
 * row's errno in the kernel's order, and no failing row leaves an object
 * or consumes an ID:
 *   __reserved -> EOPNOTSUPP; NONE with data / data without a type ->
 *   EINVAL; dev_id not a device -> ENOENT; pt_id absent or not IOAS/HWPT ->
 *   EINVAL (not ENOENT); flags beyond NEST_PARENT|DIRTY_TRACKING
 *   (FAULT_ID_VALID included) -> EOPNOTSUPP; user data on a paging alloc
 *   -> EOPNOTSUPP (mock_domain_alloc_user).  T/iommufd.c alloc_hwpt_nested
 *   and mock_domain.alloc_hwpt assert the same.
 */
static void test_hwpt_alloc_paging_errors(void **state)
{
	struct iofd_hwpt_selftest data = {.iotlb = 0};
	uint32_t id = 0;

	(void)state;
	assert_int_equal(ioas_alloc(ctx), 1);
	assert_int_equal(mock_domain(ctx, 1, NULL, NULL, NULL), 0); /* 2, 4, 3 */

	struct iofd_hwpt_alloc a = {.size = sizeof(a), .dev_id = 3, .pt_id = 1, .reserved = 1};
	assert_int_equal(ioc(ctx, IOFD_NR_HWPT_ALLOC, &a), -EOPNOTSUPP);
	assert_int_equal(hwpt_alloc_full(ctx, 3, 1, 0, 0, &data, 4, 0, &id), -EINVAL);
	assert_int_equal(hwpt_alloc_full(ctx, 3, 1, 0, IOMMU_HWPT_DATA_SELFTEST, &data, 0, 0, &id),
			 -EINVAL);
	assert_int_equal(hwpt_alloc(ctx, 1, 3, 0, &id), -ENOENT); /* dev = IOAS */
	assert_int_equal(hwpt_alloc(ctx, 0, 1, 0, &id), -ENOENT);
	assert_int_equal(hwpt_alloc(ctx, 2, 1, 0, &id), -ENOENT); /* dev = stdev */
	assert_int_equal(hwpt_alloc(ctx, 3, 3, 0, &id), -EINVAL); /* pt = device */
	assert_int_equal(hwpt_alloc(ctx, 3, 2, 0, &id), -EINVAL); /* pt = stdev */
	assert_int_equal(hwpt_alloc(ctx, 3, 99, 0, &id), -EINVAL);
	assert_int_equal(hwpt_alloc(ctx, 3, 0, 0, &id), -EINVAL);
	assert_int_equal(hwpt_alloc(ctx, 3, 1,
				    IOMMU_HWPT_ALLOC_NEST_PARENT | IOMMU_HWPT_FAULT_ID_VALID, &id),
			 -EOPNOTSUPP);
	assert_int_equal(hwpt_alloc(ctx, 3, 1, IOMMU_HWPT_FAULT_ID_VALID, &id), -EOPNOTSUPP);
	assert_int_equal(hwpt_alloc(ctx, 3, 1, ~IOMMU_HWPT_ALLOC_NEST_PARENT, &id), -EOPNOTSUPP);
	/* 1 << 3 is IOMMU_HWPT_ALLOC_PASID (newest ABI): 1 << 4 is unknown. */
	assert_int_equal(hwpt_alloc(ctx, 3, 1, 1u << 4, &id), -EOPNOTSUPP);
	assert_int_equal(hwpt_alloc_full(ctx, 3, 1, 0, IOMMU_HWPT_DATA_SELFTEST, &data,
					 sizeof(data), 0, &id),
			 -EOPNOTSUPP);
	assert_int_equal(id, 0);
	assert_int_equal(iofd_object_count(ctx), 4);
	/* The next object still gets the next ID. */
	assert_int_equal(hwpt_alloc(ctx, 3, 1, 0, &id), 0);
	assert_int_equal(id, 5);
}

/*
 * Paging HWPT_ALLOC successes: any of 0, NEST_PARENT, DIRTY_TRACKING;
 * the HWPT holds its IOAS (DESTROY(ioas) EBUSY, D/hw_pagetable.c
 * iommufd_hwpt_paging_alloc refcount_inc(&ioas->obj.users)) and adds its
 * domain to the IOAS with no device attached (iopt_table_add_domain:
 * aperture and 2 KiB alignment, T/iommufd.c iova_ranges).  A manual HWPT
 * is never picked by an automatic attach (D/device.c
 * iommufd_device_auto_get_domain: only auto_domain), but a device can
 * attach to it by ID (MOCK_DOMAIN with pt = hwpt); it stays when the
 * device goes.
 */
static void test_hwpt_alloc_paging(void **state)
{
	uint32_t h0, h1, h2, stdev, hwpt, idev;

	(void)state;
	assert_int_equal(ioas_alloc(ctx), 1);
	assert_int_equal(mock_domain(ctx, 1, NULL, NULL, &idev), 0); /* 2, 4, 3 */
	assert_int_equal(ioas_alloc(ctx), 5);
	assert_one_range(ctx, 5, 0, U64MAX, 1);
	assert_int_equal(hwpt_alloc(ctx, idev, 5, 0, &h0), 0);
	assert_int_equal(h0, 6);
	assert_one_range(ctx, 5, MOCK_APERTURE_START, MOCK_APERTURE_LAST, MOCK_PAGE_SIZE);
	assert_int_equal(hwpt_alloc(ctx, idev, 5, IOMMU_HWPT_ALLOC_NEST_PARENT, &h1), 0);
	assert_int_equal(h1, 7);
	assert_int_equal(hwpt_alloc(ctx, idev, 5,
				    IOMMU_HWPT_ALLOC_NEST_PARENT | IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
				    &h2),
			 0);
	assert_int_equal(h2, 8);
	assert_int_equal(destroy(ctx, 5), -EBUSY);
	/* An automatic attach to IOAS 5 makes its own domain. */
	assert_int_equal(mock_domain(ctx, 5, &stdev, &hwpt, NULL), 0);
	assert_int_equal(stdev, 9);
	assert_int_equal(hwpt, 11);
	assert_int_not_equal(hwpt, h0);
	assert_int_equal(destroy(ctx, stdev), 0);
	assert_int_equal(destroy(ctx, hwpt), -ENOENT);
	/* Attached by ID. */
	assert_int_equal(mock_domain(ctx, h0, &stdev, &hwpt, NULL), 0);
	assert_int_equal(hwpt, h0);
	assert_int_equal(destroy(ctx, h0), -EBUSY);
	assert_int_equal(destroy(ctx, stdev), 0);
	assert_int_equal(destroy(ctx, h0), 0);
	assert_int_equal(destroy(ctx, h1), 0);
	assert_int_equal(destroy(ctx, h2), 0);
	assert_one_range(ctx, 5, 0, U64MAX, 1);
	assert_int_equal(destroy(ctx, 5), 0);
}

/*
 * Nested HWPT_ALLOC errno table: T/iommufd.c alloc_hwpt_nested (mock
 * domain variant), D/hw_pagetable.c iommufd_hwpt_nested_alloc,
 * D/selftest.c mock_domain_alloc_user and include/linux/iommu.h
 * __iommu_copy_struct_from_user (data shorter than `iotlb` or longer than
 * the 4-byte struct -> EINVAL):
 *   NONE with data -> EINVAL; type 0xdead+1 -> EOPNOTSUPP; len 3 or 5 ->
 *   EINVAL; NULL data -> EFAULT; NEST_PARENT (or any flag but
 *   FAULT_ID_VALID) -> EOPNOTSUPP; parent without NEST_PARENT, an
 *   automatic parent, a nested parent -> EINVAL; a fault_id that is not a
 *   fault object -> ENOENT (the HWPT is aborted).
 * The IOTLB starts at the data's value (__mock_domain_alloc_nested); a
 * parent with children is busy.
 */
static void test_hwpt_alloc_nested(void **state)
{
	const uint32_t DEF = IOMMU_TEST_IOTLB_DEFAULT;
	struct iofd_hwpt_selftest data[2] = {{.iotlb = DEF}, {.iotlb = DEF}};
	uint32_t parent, not_work, n0, n1, id = 0, fault_id, pt;
	int fault_fd;

	(void)state;
	assert_int_equal(ioas_alloc(ctx), 1);
	assert_int_equal(mock_domain(ctx, 1, NULL, NULL, NULL), 0); /* 2, 4, 3 */
	assert_int_equal(hwpt_alloc(ctx, 3, 1, IOMMU_HWPT_ALLOC_NEST_PARENT, &parent), 0);
	assert_int_equal(hwpt_alloc(ctx, 3, 1, 0, &not_work), 0);
	assert_int_equal(parent, 5);
	assert_int_equal(not_work, 6);

	const uint32_t T = IOMMU_HWPT_DATA_SELFTEST;
	assert_int_equal(hwpt_alloc_full(ctx, 3, parent, 0, 0, data, 4, 0, &id), -EINVAL);
	assert_int_equal(hwpt_alloc_full(ctx, 3, parent, 0, T + 1, data, 4, 0, &id), -EOPNOTSUPP);
	assert_int_equal(hwpt_alloc_full(ctx, 3, parent, 0, T, data, 3, 0, &id), -EINVAL);
	assert_int_equal(hwpt_alloc_full(ctx, 3, parent, 0, T, data, 5, 0, &id), -EINVAL);
	assert_int_equal(hwpt_alloc_full(ctx, 3, parent, 0, T, NULL, 4, 0, &id), -EFAULT);
	assert_int_equal(hwpt_alloc_full(ctx, 3, parent, IOMMU_HWPT_ALLOC_NEST_PARENT, T, data, 4,
					 0, &id),
			 -EOPNOTSUPP);
	assert_int_equal(hwpt_alloc_full(ctx, 3, parent, IOMMU_HWPT_ALLOC_DIRTY_TRACKING, T, data,
					 4, 0, &id),
			 -EOPNOTSUPP);
	assert_int_equal(hwpt_alloc_full(ctx, 3, not_work, 0, T, data, 4, 0, &id), -EINVAL);
	assert_int_equal(hwpt_alloc_full(ctx, 3, 4, 0, T, data, 4, 0, &id), -EINVAL); /* auto */
	assert_int_equal(hwpt_alloc_full(ctx, 3, parent, IOMMU_HWPT_FAULT_ID_VALID, T, data, 4,
					 UINT32_MAX, &id),
			 -ENOENT);
	assert_int_equal(hwpt_alloc_full(ctx, 3, parent, IOMMU_HWPT_FAULT_ID_VALID, T, data, 4, 1,
					 &id),
			 -ENOENT); /* an IOAS is no fault queue */
	assert_int_equal(hwpt_alloc_full(ctx, 1, parent, 0, T, data, 4, 0, &id), -ENOENT);
	assert_int_equal(id, 0);
	assert_int_equal(iofd_object_count(ctx), 6);

	assert_int_equal(hwpt_alloc_nested(ctx, 3, parent, 0, 0, DEF, &n0), 0);
	assert_int_equal(n0, 7);
	assert_int_equal(hwpt_alloc_nested(ctx, 3, parent, 0, 0, 0x1234, &n1), 0);
	assert_int_equal(n1, 8);
	assert_iotlb_all(ctx, n0, DEF);
	assert_iotlb_all(ctx, n1, 0x1234);
	/* A nested HWPT is no parent. */
	assert_int_equal(hwpt_alloc_nested(ctx, 3, n0, 0, 0, DEF, &id), -EINVAL);
	assert_int_equal(destroy(ctx, parent), -EBUSY);

	/* With a fault queue (selftest: test_cmd_hwpt_alloc_iopf). */
	assert_int_equal(fault_alloc(ctx, 0, &fault_id, &fault_fd), 0);
	assert_int_equal(fault_id, 9);
	assert_int_equal(hwpt_alloc_nested(ctx, 3, parent, IOMMU_HWPT_FAULT_ID_VALID, fault_id,
					   DEF, &id),
			 0);
	assert_int_equal(id, 10);
	assert_int_equal(destroy(ctx, fault_id), -EBUSY);

	/* Attach to a nested HWPT: it is busy; replacing away from the
	 * automatic domain destroys it (D/device.c iommufd_device_do_replace
	 * puts the old HWPT). */
	pt = n0;
	assert_int_equal(mock_replace(ctx, 2, &pt), 0);
	assert_int_equal(pt, n0);
	assert_int_equal(destroy(ctx, 4), -ENOENT);
	assert_int_equal(destroy(ctx, n0), -EBUSY);
	pt = n1;
	assert_int_equal(mock_replace(ctx, 2, &pt), 0);
	assert_int_equal(destroy(ctx, n0), 0);
	assert_int_equal(destroy(ctx, n1), -EBUSY);
	pt = parent;
	assert_int_equal(mock_replace(ctx, 2, &pt), 0);
	assert_int_equal(destroy(ctx, n1), 0);
	assert_int_equal(destroy(ctx, 10), 0);
	assert_int_equal(destroy(ctx, parent), -EBUSY); /* the device */
	pt = 1;
	assert_int_equal(mock_replace(ctx, 2, &pt), 0);
	assert_int_equal(destroy(ctx, parent), 0);
	assert_int_equal(destroy(ctx, not_work), 0);
	tfd_close(&files, fault_fd);
	assert_int_equal(destroy(ctx, fault_id), 0);
}

/* ------------------------------------------------------------------ */
/* HWPT_INVALIDATE and MD_CHECK_IOTLB */

/* ioas 1, device (2, 4, 3), parent 5 (NEST_PARENT), nested 6 and 7 with the
 * default IOTLB value. */
static void nested_world(void)
{
	uint32_t id;

	assert_int_equal(ioas_alloc(ctx), 1);
	assert_int_equal(mock_domain(ctx, 1, NULL, NULL, NULL), 0);
	assert_int_equal(hwpt_alloc(ctx, 3, 1, IOMMU_HWPT_ALLOC_NEST_PARENT, &id), 0);
	assert_int_equal(id, 5);
	assert_int_equal(hwpt_alloc_nested(ctx, 3, 5, 0, 0, IOMMU_TEST_IOTLB_DEFAULT, &id), 0);
	assert_int_equal(id, 6);
	assert_int_equal(hwpt_alloc_nested(ctx, 3, 5, 0, 0, IOMMU_TEST_IOTLB_DEFAULT, &id), 0);
	assert_int_equal(id, 7);
}

static void assert_iotlb(uint32_t hwpt, uint32_t v0, uint32_t v1, uint32_t v2, uint32_t v3)
{
	assert_int_equal(check_iotlb(ctx, hwpt, 0, v0), 0);
	assert_int_equal(check_iotlb(ctx, hwpt, 1, v1), 0);
	assert_int_equal(check_iotlb(ctx, hwpt, 2, v2), 0);
	assert_int_equal(check_iotlb(ctx, hwpt, 3, v3), 0);
}

/*
 * The selftest's invalidation sequence (T/iommufd.c alloc_hwpt_nested)
 * against D/hw_pagetable.c iommufd_hwpt_invalidate and D/selftest.c
 * mock_domain_cache_invalidate_user, at the 6.12 ABI:
 *   a paging HWPT -> ENOENT (looked up as HWPT_NESTED); entry_num 0 with
 *   the right type -> 0 (a type probe); wrong type -> EINVAL (checked
 *   before the entries, even with entry_num 0); entry_len 9 or 1 -> EINVAL
 *   (__iommu_copy_struct_from_user); unknown entry flags -> EOPNOTSUPP;
 *   NULL data_uptr or entry_len 0 with entries -> EINVAL; iotlb_id > 3 ->
 *   EINVAL (also with FLAG_ALL: the id is checked first); processing stops
 *   at the first bad entry and entry_num says how many were done; FLAG_ALL
 *   zeroes all four entries.  entry_num is written back on every path
 *   (`out: cmd->entry_num = done_num`), __reserved -> EOPNOTSUPP; the
 *   Debian bounds entry_len > PAGE_SIZE or entry_num > 1<<19 -> EINVAL.
 */
static void test_invalidate_6_12(void **state)
{
	const uint32_t T = IOMMU_HWPT_INVALIDATE_DATA_SELFTEST, DEF = IOMMU_TEST_IOTLB_DEFAULT;
	struct iofd_hwpt_invalidate_selftest inv[2] = {{0, 0}, {0, 0}};
	const uint32_t L = sizeof(inv[0]);
	uint32_t num;

	(void)state;
	reopen(IOFD_ABI_6_12);
	nested_world();
	assert_iotlb_all(ctx, 6, DEF);

	num = 1;
	assert_int_equal(hwpt_invalidate(ctx, 5, inv, T, L, &num), -ENOENT);
	assert_int_equal(num, 0);
	num = 1;
	assert_int_equal(hwpt_invalidate(ctx, 4, inv, T, L, &num), -ENOENT); /* automatic */
	assert_int_equal(num, 0);
	num = 1;
	assert_int_equal(hwpt_invalidate(ctx, 1, inv, T, L, &num), -ENOENT); /* IOAS */
	assert_int_equal(num, 0);
	num = 1;
	assert_int_equal(hwpt_invalidate(ctx, 99, inv, T, L, &num), -ENOENT);
	assert_int_equal(num, 0);
	num = 0;
	assert_int_equal(hwpt_invalidate(ctx, 6, inv, T, L, &num), 0);
	assert_int_equal(num, 0);
	num = 0;
	assert_int_equal(hwpt_invalidate(ctx, 6, inv, IOMMU_HWPT_INVALIDATE_DATA_SELFTEST_INVALID,
					 L, &num),
			 -EINVAL);
	num = 1;
	assert_int_equal(hwpt_invalidate(ctx, 6, inv, IOMMU_HWPT_INVALIDATE_DATA_SELFTEST_INVALID,
					 L, &num),
			 -EINVAL);
	assert_int_equal(num, 0);
	num = 1;
	assert_int_equal(hwpt_invalidate(ctx, 6, inv, T, L + 1, &num), -EINVAL);
	assert_int_equal(num, 0);
	num = 1;
	assert_int_equal(hwpt_invalidate(ctx, 6, inv, T, 1, &num), -EINVAL);
	assert_int_equal(num, 0);
	num = 1;
	inv[0].flags = 0xffffffffu;
	assert_int_equal(hwpt_invalidate(ctx, 6, inv, T, L, &num), -EOPNOTSUPP);
	assert_int_equal(num, 0);
	inv[0].flags = 0;
	num = 1;
	assert_int_equal(hwpt_invalidate(ctx, 6, NULL, T, L, &num), -EINVAL);
	assert_int_equal(num, 0);
	num = 1;
	assert_int_equal(hwpt_invalidate(ctx, 6, inv, T, 0, &num), -EINVAL);
	assert_int_equal(num, 0);
	num = 1;
	assert_int_equal(hwpt_invalidate(ctx, 6, inv, T, (uint32_t)P + 1, &num), -EINVAL);
	assert_int_equal(num, 0);
	num = (1u << 19) + 1;
	assert_int_equal(hwpt_invalidate(ctx, 6, inv, T, L, &num), -EINVAL);
	assert_int_equal(num, 0);
	num = 1;
	inv[0].iotlb_id = MOCK_NESTED_DOMAIN_IOTLB_ID_MAX + 1;
	assert_int_equal(hwpt_invalidate(ctx, 6, inv, T, L, &num), -EINVAL);
	assert_int_equal(num, 0);
	inv[0].flags = IOMMU_TEST_INVALIDATE_FLAG_ALL;
	num = 1;
	assert_int_equal(hwpt_invalidate(ctx, 6, inv, T, L, &num), -EINVAL);
	assert_int_equal(num, 0);
	/* __reserved, with the count written back as 0. */
	struct iofd_hwpt_invalidate r = {.size = sizeof(r), .hwpt_id = 6,
					 .data_uptr = (uintptr_t)inv, .data_type = T,
					 .entry_len = L, .entry_num = 1, .reserved = 1};
	assert_int_equal(ioc(ctx, IOFD_NR_HWPT_INVALIDATE, &r), -EOPNOTSUPP);
	assert_int_equal(r.entry_num, 0);
	/* Nothing so far changed an IOTLB entry. */
	assert_iotlb_all(ctx, 6, DEF);

	/* First done, second has bad flags. */
	num = 2;
	inv[0] = (struct iofd_hwpt_invalidate_selftest){0, 0};
	inv[1] = (struct iofd_hwpt_invalidate_selftest){0xffffffffu, 1};
	assert_int_equal(hwpt_invalidate(ctx, 6, inv, T, L, &num), -EOPNOTSUPP);
	assert_int_equal(num, 1);
	assert_iotlb(6, 0, DEF, DEF, DEF);
	/* First done, second has a bad id. */
	num = 2;
	inv[1] = (struct iofd_hwpt_invalidate_selftest){0, MOCK_NESTED_DOMAIN_IOTLB_ID_MAX + 1};
	assert_int_equal(hwpt_invalidate(ctx, 6, inv, T, L, &num), -EINVAL);
	assert_int_equal(num, 1);
	assert_iotlb(6, 0, DEF, DEF, DEF);
	num = 1;
	inv[0] = (struct iofd_hwpt_invalidate_selftest){0, 1};
	assert_int_equal(hwpt_invalidate(ctx, 6, inv, T, L, &num), 0);
	assert_int_equal(num, 1);
	assert_iotlb(6, 0, 0, DEF, DEF);
	num = 2;
	inv[0] = (struct iofd_hwpt_invalidate_selftest){0, 2};
	inv[1] = (struct iofd_hwpt_invalidate_selftest){0, 3};
	assert_int_equal(hwpt_invalidate(ctx, 6, inv, T, L, &num), 0);
	assert_int_equal(num, 2);
	assert_iotlb_all(ctx, 6, 0);
	/* FLAG_ALL on the other nested HWPT, which the above left alone. */
	assert_iotlb_all(ctx, 7, DEF);
	num = 1;
	inv[0] = (struct iofd_hwpt_invalidate_selftest){IOMMU_TEST_INVALIDATE_FLAG_ALL, 0};
	assert_int_equal(hwpt_invalidate(ctx, 7, inv, T, L, &num), 0);
	assert_int_equal(num, 1);
	assert_iotlb_all(ctx, 7, 0);
}

/*
 * Newest ABI: HWPT_INVALIDATE looks the ID up as any object and a HWPT that
 * is not nested (nor a vIOMMU) is EINVAL; an absent ID stays ENOENT
 * (reference/iommufd.md section 3 "HWPT_INVALIDATE: 6.12: hwpt_id =
 * paging (parent) HWPT -> ENOENT; newest -> EINVAL", section 6 item 5).
 */
static void test_invalidate_newest(void **state)
{
	const uint32_t T = IOMMU_HWPT_INVALIDATE_DATA_SELFTEST;
	struct iofd_hwpt_invalidate_selftest inv = {IOMMU_TEST_INVALIDATE_FLAG_ALL, 0};
	uint32_t num;

	(void)state;
	nested_world();
	num = 1;
	assert_int_equal(hwpt_invalidate(ctx, 5, &inv, T, sizeof(inv), &num), -EINVAL);
	assert_int_equal(num, 0);
	num = 1;
	assert_int_equal(hwpt_invalidate(ctx, 4, &inv, T, sizeof(inv), &num), -EINVAL);
	assert_int_equal(num, 0);
	num = 1;
	assert_int_equal(hwpt_invalidate(ctx, 99, &inv, T, sizeof(inv), &num), -ENOENT);
	assert_int_equal(num, 0);
	assert_iotlb_all(ctx, 6, IOMMU_TEST_IOTLB_DEFAULT);
	num = 1;
	assert_int_equal(hwpt_invalidate(ctx, 6, &inv, T, sizeof(inv), &num), 0);
	assert_int_equal(num, 1);
	assert_iotlb_all(ctx, 6, 0);
	assert_iotlb_all(ctx, 7, IOMMU_TEST_IOTLB_DEFAULT);
}

/*
 * MD_CHECK_IOTLB (D/selftest.c iommufd_test_md_check_iotlb): the ID is
 * looked up as HWPT_NESTED (a paging HWPT or anything else: ENOENT); an
 * entry id above 3 or a different value: EINVAL.
 */
static void test_md_check_iotlb(void **state)
{
	(void)state;
	nested_world();
	assert_int_equal(check_iotlb(ctx, 6, 0, IOMMU_TEST_IOTLB_DEFAULT), 0);
	assert_int_equal(check_iotlb(ctx, 6, 3, IOMMU_TEST_IOTLB_DEFAULT), 0);
	assert_int_equal(check_iotlb(ctx, 6, 4, IOMMU_TEST_IOTLB_DEFAULT), -EINVAL);
	assert_int_equal(check_iotlb(ctx, 6, 0, 0), -EINVAL);
	assert_int_equal(check_iotlb(ctx, 5, 0, IOMMU_TEST_IOTLB_DEFAULT), -ENOENT);
	assert_int_equal(check_iotlb(ctx, 4, 0, IOMMU_TEST_IOTLB_DEFAULT), -ENOENT);
	assert_int_equal(check_iotlb(ctx, 1, 0, IOMMU_TEST_IOTLB_DEFAULT), -ENOENT);
	assert_int_equal(check_iotlb(ctx, 99, 0, IOMMU_TEST_IOTLB_DEFAULT), -ENOENT);
}

/* ------------------------------------------------------------------ */
/* GET_HW_INFO */

static long hw_info(uint32_t dev, void *data, uint32_t len, struct iofd_hw_info *out)
{
	struct iofd_hw_info h = {.size = sizeof(h), .dev_id = dev, .data_len = len,
				 .data_uptr = (uintptr_t)data};
	long rc = ioc(ctx, IOFD_NR_GET_HW_INFO, &h);

	if (out)
		*out = h;
	return rc;
}

/*
 * D/device.c iommufd_get_hw_info with D/selftest.c mock_domain_hw_info and
 * mock_domain_capable: the mock's data is {flags 0, test_reg 0xdeadbeef}
 * (8 bytes), type 0xfeedbeef; min(user, 8) bytes are copied, the rest of a
 * larger user buffer is zeroed, nothing beyond it is touched, and data_len
 * comes back as 8 whatever the user gave; DIRTY_TRACKING capability unless
 * the device is NO_DIRTY; no PASID (max_pasid_log2 0).  Errors: flags or
 * __reserved -> EOPNOTSUPP, dev_id not a device -> ENOENT, bad data
 * pointer -> EFAULT.  T/iommufd.c get_hw_info, device_dirty_capability.
 */
static void test_get_hw_info(void **state)
{
	uint8_t buf[64];
	uint32_t idev, nd_idev, hwpt, nd_hwpt;
	struct iofd_hw_info h;

	(void)state;
	assert_int_equal(ioas_alloc(ctx), 1);
	assert_int_equal(mock_domain(ctx, 1, NULL, &hwpt, &idev), 0);
	/* A NO_DIRTY device can share the automatic domain (no dirty_ops). */
	assert_int_equal(mock_domain_flags(ctx, 1, MOCK_FLAGS_DEVICE_NO_DIRTY, NULL, &nd_hwpt,
					   &nd_idev),
			 0);
	assert_int_equal(nd_hwpt, hwpt);

	memset(buf, 0xaa, sizeof(buf));
	assert_int_equal(hw_info(idev, buf, 8, &h), 0);
	struct iofd_test_hw_info info;
	memcpy(&info, buf, sizeof(info));
	assert_int_equal(info.flags, 0);
	assert_int_equal(info.test_reg, IOMMU_HW_INFO_SELFTEST_REGVAL);
	assert_int_equal(buf[8], 0xaa);
	assert_int_equal(h.data_len, 8);
	assert_int_equal(h.data_type, IOMMU_HW_INFO_TYPE_SELFTEST);
	assert_int_equal(h.out_capabilities, IOMMU_HW_CAP_DIRTY_TRACKING);
	assert_int_equal(h.out_max_pasid_log2, 0);

	/* No buffer at all. */
	assert_int_equal(hw_info(idev, NULL, 0, &h), 0);
	assert_int_equal(h.data_len, 8);
	assert_int_equal(h.data_type, IOMMU_HW_INFO_TYPE_SELFTEST);

	/* Smaller: the first 4 bytes (flags = 0), the rest untouched. */
	memset(buf, 0xaa, sizeof(buf));
	assert_int_equal(hw_info(idev, buf, 4, &h), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(buf[i], 0);
	for (int i = 4; i < 64; i++)
		assert_int_equal(buf[i], 0xaa);
	assert_int_equal(h.data_len, 8);

	/* Larger: the data, then zeroes up to data_len, then untouched. */
	memset(buf, 0xaa, sizeof(buf));
	assert_int_equal(hw_info(idev, buf, 32, &h), 0);
	memcpy(&info, buf, sizeof(info));
	assert_int_equal(info.flags, 0);
	assert_int_equal(info.test_reg, IOMMU_HW_INFO_SELFTEST_REGVAL);
	for (int i = 8; i < 32; i++)
		assert_int_equal(buf[i], 0);
	for (int i = 32; i < 64; i++)
		assert_int_equal(buf[i], 0xaa);
	assert_int_equal(h.data_len, 8);

	/* NO_DIRTY: no dirty tracking capability. */
	assert_int_equal(hw_info(nd_idev, buf, 8, &h), 0);
	assert_int_equal(h.out_capabilities, 0);
	assert_int_equal(h.data_type, IOMMU_HW_INFO_TYPE_SELFTEST);

	/* Errors. */
	assert_int_equal(hw_info(0, buf, 8, NULL), -ENOENT);
	assert_int_equal(hw_info(1, buf, 8, NULL), -ENOENT);     /* IOAS */
	assert_int_equal(hw_info(hwpt, buf, 8, NULL), -ENOENT);  /* HWPT */
	assert_int_equal(hw_info(2, buf, 8, NULL), -ENOENT);     /* stdev */
	assert_int_equal(hw_info(idev, unmapped_range((size_t)P), 8, NULL), -EFAULT);
	struct iofd_hw_info bad = {.size = sizeof(bad), .flags = 1u << 1, .dev_id = idev};
	assert_int_equal(ioc(ctx, IOFD_NR_GET_HW_INFO, &bad), -EOPNOTSUPP);
	bad.flags = 0;
	bad.reserved[1] = 1;
	assert_int_equal(ioc(ctx, IOFD_NR_GET_HW_INFO, &bad), -EOPNOTSUPP);

	/* The first version's struct (32 bytes, up to __reserved): the
	 * reply is cut to it (main.c iommufd_ucmd_respond). */
	struct iofd_hw_info s = {.size = 32, .dev_id = idev};
	s.out_capabilities = 0x5555;
	assert_int_equal(ioc(ctx, IOFD_NR_GET_HW_INFO, &s), 0);
	assert_int_equal(s.data_len, 8);
	assert_int_equal(s.data_type, IOMMU_HW_INFO_TYPE_SELFTEST);
	assert_int_equal(s.out_capabilities, 0x5555);
}

/*
 * Newest ABI: IOMMU_HW_INFO_FLAG_INPUT_TYPE (6.17) asks for one type, the
 * driver's own or DEFAULT (0); another one -> EOPNOTSUPP
 * (reference/iommufd.md sections 2.2 and 3).  A PASID-capable mock device
 * (MOCK_FLAGS_DEVICE_PASID, 6.15) reports max_pasid_log2 = MOCK_PASID_WIDTH
 * = 20 (reference/iommufd.md section 4.2).
 */
static void test_get_hw_info_newest(void **state)
{
	uint8_t buf[8];
	uint32_t idev, pidev;

	(void)state;
	assert_int_equal(ioas_alloc(ctx), 1);
	assert_int_equal(mock_domain(ctx, 1, NULL, NULL, &idev), 0);
	struct iofd_hw_info h = {.size = sizeof(h), .flags = IOFD_HW_INFO_FLAG_INPUT_TYPE,
				 .dev_id = idev, .data_len = 8, .data_uptr = (uintptr_t)buf,
				 .data_type = IOMMU_HW_INFO_TYPE_SELFTEST};
	assert_int_equal(ioc(ctx, IOFD_NR_GET_HW_INFO, &h), 0);
	assert_int_equal(h.data_type, IOMMU_HW_INFO_TYPE_SELFTEST);
	h.data_type = 0; /* DEFAULT */
	assert_int_equal(ioc(ctx, IOFD_NR_GET_HW_INFO, &h), 0);
	assert_int_equal(h.data_type, IOMMU_HW_INFO_TYPE_SELFTEST);
	h.data_type = IOFD_HW_INFO_TYPE_INTEL_VTD;
	assert_int_equal(ioc(ctx, IOFD_NR_GET_HW_INFO, &h), -EOPNOTSUPP);

	assert_int_equal(mock_domain_flags(ctx, 1, MOCK_FLAGS_DEVICE_PASID, NULL, NULL, &pidev), 0);
	assert_int_equal(hw_info(pidev, buf, 8, &h), 0);
	assert_int_equal(h.out_max_pasid_log2, 20);
	assert_int_equal(hw_info(idev, buf, 8, &h), 0);
	assert_int_equal(h.out_max_pasid_log2, 0);
}

/* ------------------------------------------------------------------ */
/* What a domain does to its IOAS */

/*
 * T/iommufd.c iova_ranges (mock_domain variant) and D/io_pagetable.c
 * iopt_table_add_domain: with a mock domain the IOAS has one usable range,
 * the aperture [16 MiB, 2 GiB - 1], and alignment 2048 (the domain's
 * smallest page); too small an array: EMSGSIZE with the count; a
 * reservation inside the reserved low part keeps one range.  Maps then
 * follow the domain (D/io_pagetable.c iopt_alloc_area_pages /
 * iopt_check_iova): outside the aperture, an IOVA, length or user page
 * offset not a multiple of 2048 -> EINVAL.  When the domain goes its
 * reservations go with it (iopt_table_remove_domain).
 */
static void test_iova_ranges_with_domain(void **state)
{
	struct iofd_iova_range r[4];
	uint32_t num, stdev;
	uint64_t align, iova;
	const uint64_t A = MOCK_APERTURE_START;

	(void)state;
	assert_int_equal(ioas_alloc(ctx), 1);
	assert_one_range(ctx, 1, 0, U64MAX, 1);
	assert_int_equal(mock_domain(ctx, 1, &stdev, NULL, NULL), 0);
	assert_one_range(ctx, 1, A, MOCK_APERTURE_LAST, MOCK_PAGE_SIZE);
	memset(r, 0, sizeof(r));
	num = 0;
	assert_int_equal(iova_ranges(ctx, 1, r, &num, &align), -EMSGSIZE);
	assert_int_equal(num, 1);
	assert_int_equal(r[0].start, 0);
	assert_int_equal(r[0].last, 0);
	assert_int_equal(add_reserved(ctx, 1, P, P), 0);
	assert_one_range(ctx, 1, A, MOCK_APERTURE_LAST, MOCK_PAGE_SIZE);

	assert_int_equal(map_fixed(ctx, 1, buffer, MOCK_PAGE_SIZE, A - MOCK_PAGE_SIZE), -EINVAL);
	assert_int_equal(map_fixed(ctx, 1, buffer, MOCK_PAGE_SIZE, MOCK_APERTURE_LAST + 1),
			 -EINVAL);
	assert_int_equal(map_fixed(ctx, 1, buffer, 2 * MOCK_PAGE_SIZE,
				   MOCK_APERTURE_LAST + 1 - MOCK_PAGE_SIZE),
			 -EINVAL);
	assert_int_equal(map_fixed(ctx, 1, buffer, MOCK_PAGE_SIZE, A + 1024), -EINVAL);
	assert_int_equal(map_fixed(ctx, 1, buffer, 1024, A), -EINVAL);
	assert_int_equal(map_fixed(ctx, 1, buffer, MOCK_PAGE_SIZE + 1, A), -EINVAL);
	assert_int_equal(map_fixed(ctx, 1, buffer + 1024, MOCK_PAGE_SIZE, A), -EINVAL);
	iova = 0;
	assert_int_equal(map(ctx, 1, RW, buffer, 1024, &iova), -EINVAL);
	assert_int_equal(unmap(ctx, 1, 0, U64MAX), 0); /* nothing was mapped */
	/* 2 KiB granules are fine (T/iommufd.c access_rw_unaligned, area). */
	assert_int_equal(map_fixed(ctx, 1, buffer + MOCK_PAGE_SIZE, MOCK_PAGE_SIZE,
				   A + MOCK_PAGE_SIZE),
			 0);
	assert_int_equal(map_fixed(ctx, 1, buffer, 3 * MOCK_PAGE_SIZE, A + P), 0);
	assert_int_equal(map_fixed(ctx, 1, buffer, MOCK_PAGE_SIZE,
				   MOCK_APERTURE_LAST + 1 - MOCK_PAGE_SIZE),
			 0);
	/* Automatic IOVAs land in the aperture. */
	iova = 0;
	assert_int_equal(map(ctx, 1, RW, buffer, P, &iova), 0);
	assert_true(iova >= A && iova + P - 1 <= MOCK_APERTURE_LAST);
	assert_int_equal(iova % MOCK_PAGE_SIZE, 0);

	/* The domain goes, its reservations too; ADD_RESERVED stays. */
	assert_int_equal(destroy(ctx, stdev), 0);
	memset(r, 0, sizeof(r));
	num = 4;
	assert_int_equal(iova_ranges(ctx, 1, r, &num, &align), 0);
	assert_int_equal(num, 2);
	assert_int_equal(align, 1);
	assert_int_equal(r[0].start, 0);
	assert_int_equal(r[0].last, P - 1);
	assert_int_equal(r[1].start, 2 * P);
	assert_int_equal(r[1].last, U64MAX);
}

/*
 * Attaching the first domain to an IOAS that already has areas
 * (D/io_pagetable.c iopt_table_add_domain, in order): an area not on the
 * 2 KiB alignment (IOVA, length or page offset) -> EADDRINUSE; an area
 * outside the aperture -> EADDRINUSE; memory the caller no longer has ->
 * EFAULT (the fill pins; D/pages.c).  On every error nothing changes: no
 * object, no ID, the IOAS's ranges and alignment as before, no pin
 * (selftest fork_gone no_domain: MOCK_DOMAIN -> EFAULT).  The same through
 * HWPT_ALLOC (iommufd_hwpt_paging_alloc runs the same add_domain).
 */
static void test_domain_add_fails(void **state)
{
	const uint64_t A = MOCK_APERTURE_START;
	uint32_t stdev, hwpt, idev, id = 0;
	uint8_t *gone = unmapped_range(2 * (size_t)P);

	(void)state;
	assert_int_equal(ioas_alloc(ctx), 1);
	assert_int_equal(ioas_alloc(ctx), 2);
	assert_int_equal(mock_domain(ctx, 2, NULL, NULL, &idev), 0); /* 3, 5, 4 */

	static const struct {
		int off;          /* user offset into buffer */
		uint64_t len;
		uint64_t iova;
		int err;
	} rows[] = {
		{0, 0, 0, EADDRINUSE},          /* at IOVA 0: below the aperture (len P) */
		{0, 0, A + 1, EADDRINUSE},      /* misaligned IOVA */
		{1, 0, A, EADDRINUSE},          /* misaligned page offset */
		{0, 1, A, EADDRINUSE},          /* misaligned length (P + 1) */
		{0, 0, MOCK_APERTURE_LAST + 1, EADDRINUSE}, /* above it */
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint64_t len = P + rows[i].len;
		assert_int_equal(map_fixed(ctx, 1, buffer + rows[i].off, len, rows[i].iova), 0);
		long rc = mock_domain(ctx, 1, NULL, NULL, NULL);
		if (rc != -rows[i].err)
			fail_msg("row %zu: MOCK_DOMAIN %ld, want %d", i, rc, -rows[i].err);
		rc = hwpt_alloc(ctx, idev, 1, 0, &id);
		if (rc != -rows[i].err)
			fail_msg("row %zu: HWPT_ALLOC %ld, want %d", i, rc, -rows[i].err);
		assert_int_equal(iofd_object_count(ctx), 5);
		assert_one_range(ctx, 1, 0, U64MAX, 1);
		assert_int_equal(check_refs(ctx, buffer, 2 * P, 0), 0);
		assert_int_equal(unmap(ctx, 1, 0, U64MAX), 0);
	}

	/* Memory gone: EFAULT, and the good area's pin is undone. */
	assert_int_equal(map_fixed(ctx, 1, buffer, P, A), 0);
	assert_int_equal(map_fixed(ctx, 1, gone, 2 * P, A + P), 0);
	assert_int_equal(mock_domain(ctx, 1, NULL, NULL, NULL), -EFAULT);
	assert_int_equal(hwpt_alloc(ctx, idev, 1, 0, &id), -EFAULT);
	assert_int_equal(id, 0);
	assert_int_equal(iofd_object_count(ctx), 5);
	assert_one_range(ctx, 1, 0, U64MAX, 1);
	assert_int_equal(check_refs(ctx, buffer, P, 0), 0);
	/* Remove the bad area: now it works, with the lowest free IDs. */
	assert_int_equal(unmap(ctx, 1, A + P, 2 * P), 0);
	assert_int_equal(mock_domain(ctx, 1, &stdev, &hwpt, NULL), 0);
	assert_int_equal(stdev, 6);
	assert_int_equal(hwpt, 8);
	assert_int_equal(check_map(ctx, hwpt, A, P, buffer), 0);
	assert_int_equal(check_refs(ctx, buffer, P, 1), 0);
}

/*
 * Pinning is lazy (D/pages.c: an IOAS with no domain and no access pins
 * nothing), so without a domain IOAS_MAP of memory the caller does not
 * have succeeds; with a domain the map pins at once and fails with EFAULT
 * when any part is missing, leaving no area and no pin (T/iommufd.c
 * mock_domain.basic: half the buffer unmapped, then the first page).
 */
static void test_map_efault_with_domain(void **state)
{
	uint8_t *gone = unmapped_range(2 * (size_t)P);
	uint64_t iova = 0, len;

	(void)state;
	assert_int_equal(ioas_alloc(ctx), 1);
	assert_int_equal(map(ctx, 1, RW, gone, 2 * P, &iova), 0);
	assert_int_equal(map_fixed(ctx, 1, buffer, P, MOCK_APERTURE_START), 0);
	assert_int_equal(check_refs(ctx, buffer, P, 0), 0);
	len = U64MAX;
	assert_int_equal(unmap_len(ctx, 1, 0, &len), 0);
	assert_int_equal(len, 3 * P);

	assert_int_equal(mock_domain(ctx, 1, NULL, NULL, NULL), 0);
	iova = 0;
	assert_int_equal(map(ctx, 1, RW, gone, 2 * P, &iova), -EFAULT);
	/* Half mapped. */
	uint8_t *half = mmap(NULL, 2 * P, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(half != MAP_FAILED);
	assert_int_equal(munmap(half + P, P), 0);
	iova = 0;
	assert_int_equal(map(ctx, 1, RW, half, 2 * P, &iova), -EFAULT);
	assert_int_equal(map_fixed(ctx, 1, half, 2 * P, MOCK_APERTURE_START), -EFAULT);
	assert_int_equal(check_refs(ctx, half, P, 0), 0);
	len = U64MAX;
	assert_int_equal(unmap_len(ctx, 1, 0, &len), 0);
	assert_int_equal(len, 0);
	/* The first page missing. */
	assert_int_equal(munmap(half, P), 0);
	assert_int_equal(map(ctx, 1, RW, half, 2 * P, &iova), -EFAULT);
	/* Present memory maps. */
	iova = 0;
	assert_int_equal(map(ctx, 1, RW, buffer, P, &iova), 0);
	assert_int_equal(check_map(ctx, 4, iova, P, buffer), 0);
	assert_int_equal(check_refs(ctx, buffer, P, 1), 0);
}

/*
 * A failing call changes nothing, memory included (include/iommusim/
 * iommufd.h: "A failing ioctl changes nothing"; DESIGN.md "Validate first,
 * commit last").  Many IOAS_MAPs of missing memory into an IOAS with a
 * domain (each EFAULT, D/pages.c pin failure) must not make the heap grow.
 *
 * Regression (fixed): iopt_domain.c iopt_area_fill_domains ->
 * pages.c iofd_pages_pin allocates pages->pin_users before it finds the
 * memory missing, and ioas.c iofd_map_user then frees the pages with
 * free(pages), not freeing pin_users.
 */
static void test_failed_map_leaks_nothing(void **state)
{
	const size_t npages = 64, rounds = 1000;
	uint8_t *gone = unmapped_range(npages * (size_t)P);

	(void)state;
	assert_int_equal(ioas_alloc(ctx), 1);
	assert_int_equal(mock_domain(ctx, 1, NULL, NULL, NULL), 0);
	uint64_t iova = 0;
	assert_int_equal(map(ctx, 1, RW, gone, npages * P, &iova), -EFAULT); /* warm up */
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 33)
	size_t before = mallinfo2().uordblks;
	for (size_t i = 0; i < rounds; i++) {
		iova = 0;
		assert_int_equal(map(ctx, 1, RW, gone, npages * P, &iova), -EFAULT);
	}
	size_t after = mallinfo2().uordblks;
	/* 4 bytes per page per call would be 256 KB; allow a little noise. */
	if (after > before + 16384)
		fail_msg("%zu failed IOAS_MAPs grew the heap by %zu bytes "
			 "(ioas.c iofd_map_user frees pages without pin_users)",
			 rounds, after - before);
#else
	(void)rounds;
	skip();
#endif
}

/*
 * MD_CHECK_MAP (D/selftest.c iommufd_test_md_check_pa): iova, length or
 * uptr not a multiple of 2048, or uptr + length overflowing -> EINVAL;
 * the ID must be a mock paging HWPT (ENOENT); every 2 KiB IO page must
 * hold the frame under uptr (EINVAL), missing user memory -> EFAULT (GUP).
 * MD_CHECK_REFS (iommufd_test_md_check_refs): length or uptr not page
 * aligned -> EINVAL; each page's long-term pins must be `refs` (EIO).
 * Pins (domain_facts section 4.2, D/pages.c): one IOAS_MAP in two domains
 * of an IOAS is pinned once (later domains fill from the storage domain);
 * a second IOAS_MAP of the same memory pins again (2); unmap undoes each.
 */
static void test_check_map_and_refs(void **state)
{
	const uint64_t A = MOCK_APERTURE_START;
	uint32_t auto_hwpt, manual;

	(void)state;
	assert_int_equal(ioas_alloc(ctx), 1);
	assert_int_equal(mock_domain(ctx, 1, NULL, &auto_hwpt, NULL), 0); /* 2, 4, 3 */
	assert_int_equal(hwpt_alloc(ctx, 3, 1, 0, &manual), 0);
	assert_int_equal(manual, 5);

	assert_int_equal(map_fixed(ctx, 1, buffer, 4 * P, A), 0);
	assert_int_equal(check_map(ctx, auto_hwpt, A, 4 * P, buffer), 0);
	assert_int_equal(check_map(ctx, manual, A, 4 * P, buffer), 0);
	assert_int_equal(check_map(ctx, manual, A + MOCK_PAGE_SIZE, 3 * P,
				   buffer + MOCK_PAGE_SIZE),
			 0);
	assert_int_equal(check_map(ctx, manual, A, 0, buffer), 0);
	assert_int_equal(check_refs(ctx, buffer, 4 * P, 1), 0);
	assert_int_equal(check_refs(ctx, buffer, 4 * P, 0), -EIO);
	assert_int_equal(check_refs(ctx, buffer, 4 * P, 2), -EIO);
	assert_int_equal(check_refs(ctx, buffer + 4 * P, 12 * P, 0), 0);
	assert_int_equal(check_refs(ctx, buffer, 0, 7), 0);

	/* MD_CHECK_MAP errors. */
	assert_int_equal(check_map(ctx, manual, A + 1024, P, buffer), -EINVAL);
	assert_int_equal(check_map(ctx, manual, A, P + 1024, buffer), -EINVAL);
	assert_int_equal(check_map(ctx, manual, A, P, buffer + 1024), -EINVAL);
	assert_int_equal(check_map(ctx, manual, A, 2 * MOCK_PAGE_SIZE,
				   (void *)(uintptr_t)(UINT64_MAX - MOCK_PAGE_SIZE + 1)),
			 -EINVAL);
	assert_int_equal(check_map(ctx, 1, A, P, buffer), -ENOENT);  /* IOAS */
	assert_int_equal(check_map(ctx, 3, A, P, buffer), -ENOENT);  /* device */
	assert_int_equal(check_map(ctx, 99, A, P, buffer), -ENOENT);
	assert_int_equal(check_map(ctx, 99, A, 0, buffer), -ENOENT);
	assert_int_equal(check_map(ctx, manual, A, P, buffer + P), -EINVAL);   /* other frame */
	assert_int_equal(check_map(ctx, manual, A + 4 * P, P, buffer + 4 * P), -EINVAL); /* hole */
	assert_int_equal(check_map(ctx, manual, A + 3 * P, 2 * P, buffer + 3 * P), -EINVAL);
	assert_int_equal(check_map(ctx, manual, A, P, unmapped_range((size_t)P)), -EFAULT);
	/* MD_CHECK_REFS errors. */
	assert_int_equal(check_refs(ctx, buffer, P + 1024, 1), -EINVAL);
	assert_int_equal(check_refs(ctx, buffer + 1024, P, 1), -EINVAL);
	assert_int_equal(check_refs(ctx, unmapped_range((size_t)P), P, 0), -EFAULT);

	/* A second IOAS_MAP of the same memory pins it again. */
	assert_int_equal(map_fixed(ctx, 1, buffer, 2 * P, A + 8 * P), 0);
	assert_int_equal(check_map(ctx, auto_hwpt, A + 8 * P, 2 * P, buffer), 0);
	assert_int_equal(check_refs(ctx, buffer, 2 * P, 2), 0);
	assert_int_equal(check_refs(ctx, buffer + 2 * P, 2 * P, 1), 0);
	assert_int_equal(unmap(ctx, 1, A, 4 * P), 0);
	assert_int_equal(check_refs(ctx, buffer, 2 * P, 1), 0);
	assert_int_equal(check_refs(ctx, buffer + 2 * P, 2 * P, 0), 0);
	assert_int_equal(check_map(ctx, auto_hwpt, A, P, buffer), -EINVAL);
	assert_int_equal(unmap(ctx, 1, A + 8 * P, 2 * P), 0);
	assert_int_equal(check_refs(ctx, buffer, 4 * P, 0), 0);

	/* Closing the context drops every pin (T/iommufd_utils.h
	 * teardown_iommufd; D/main.c iommufd_fops_release destroys all). */
	assert_int_equal(map_fixed(ctx, 1, buffer, 4 * P, A), 0);
	assert_int_equal(check_refs(ctx, buffer, 4 * P, 1), 0);
	iofd_close(ctx);
	ctx = NULL;
	assert_int_equal(refs_zero_after_close(buffer, 4 * P), 0);
}

/*
 * T/iommufd.c mock_domain.all_aligns, over 4 pages: every (start, end) in
 * 2 KiB steps maps, MD_CHECK_MAP holds on both domains, the pages covered
 * hold one pin, and unmapping drops it.
 */
static void test_all_aligns(void **state)
{
	const uint64_t buf_size = 4 * P;
	uint32_t hwpt, manual;

	(void)state;
	assert_int_equal(ioas_alloc(ctx), 1);
	assert_int_equal(mock_domain(ctx, 1, NULL, &hwpt, NULL), 0);
	assert_int_equal(hwpt_alloc(ctx, 3, 1, 0, &manual), 0);
	assert_int_equal(check_refs(ctx, buffer, buf_size, 0), 0);
	for (uint64_t start = 0; start < buf_size; start += MOCK_PAGE_SIZE) {
		for (uint64_t end = start + MOCK_PAGE_SIZE; end < buf_size; end += MOCK_PAGE_SIZE) {
			uint64_t iova = 0, len = end - start;
			assert_int_equal(map(ctx, 1, RW, buffer + start, len, &iova), 0);
			assert_int_equal(check_map(ctx, hwpt, iova, len, buffer + start), 0);
			assert_int_equal(check_map(ctx, manual, iova, len, buffer + start), 0);
			assert_int_equal(check_refs(ctx, buffer + start / P * P,
						    end / P * P - start / P * P, 1),
					 0);
			assert_int_equal(unmap(ctx, 1, iova, len), 0);
		}
	}
	assert_int_equal(check_refs(ctx, buffer, buf_size, 0), 0);
}

/* ------------------------------------------------------------------ */
/* Dirty tracking */

static long set_dirty(uint32_t hwpt, uint32_t flags)
{
	struct iofd_hwpt_set_dirty_tracking s = {.size = sizeof(s), .flags = flags,
						 .hwpt_id = hwpt};
	return ioc(ctx, IOFD_NR_HWPT_SET_DIRTY_TRACKING, &s);
}

/* TEST_OP_DIRTY: mark the IO pages of set bits dirty; *nr out. */
static long test_dirty(uint32_t hwpt, uint64_t iova, uint64_t len, uint64_t page_size,
		       const void *bitmap, uint64_t *nr)
{
	struct iofd_test_cmd t = {.size = sizeof(t), .op = IOFD_TEST_OP_DIRTY, .id = hwpt};
	long rc;

	t.dirty.iova = iova;
	t.dirty.length = len;
	t.dirty.page_size = page_size;
	t.dirty.uptr = (uintptr_t)bitmap;
	rc = ioc(ctx, IOFD_NR_TEST_CMD, &t);
	if (nr)
		*nr = t.dirty.out_nr_dirty;
	return rc;
}

static long get_dirty(uint32_t hwpt, uint32_t flags, uint64_t iova, uint64_t len,
		      uint64_t page_size, void *bitmap)
{
	struct iofd_hwpt_get_dirty_bitmap g = {.size = sizeof(g), .hwpt_id = hwpt, .flags = flags,
					       .iova = iova, .length = len,
					       .page_size = page_size,
					       .data = (uintptr_t)bitmap};
	return ioc(ctx, IOFD_NR_HWPT_GET_DIRTY_BITMAP, &g);
}

static bool bit(const uint8_t *b, uint64_t i)
{
	return b[i / 8] & (1u << (i % 8));
}

/*
 * T/iommufd.c dirty.enforce_dirty, set_dirty_tracking: a NO_DIRTY device
 * cannot attach to a DIRTY_TRACKING HWPT (D/selftest.c
 * mock_domain_nop_attach: EINVAL) nor have one allocated (D/hw_pagetable.c
 * iommufd_hwpt_paging_alloc: EOPNOTSUPP); SET_DIRTY_TRACKING (D/
 * hw_pagetable.c iommufd_hwpt_set_dirty_tracking, D/io_pagetable.c
 * iopt_set_dirty_tracking): unknown flags EOPNOTSUPP, not a paging HWPT
 * ENOENT, no dirty_ops (automatic or plain domain) EOPNOTSUPP, else
 * enable/disable (idempotent).  TEST DIRTY (D/selftest.c
 * iommufd_test_dirty): argument checks EINVAL/EOVERFLOW first, then the
 * lookup (ENOENT), then tracking off -> EINVAL.
 */
static void test_dirty_enforce_and_set(void **state)
{
	uint32_t dirty, plain, stdev, hwpt, nd_idev, ioas2;
	uint8_t bitmap[8] = {1};

	(void)state;
	assert_int_equal(ioas_alloc(ctx), 1);
	assert_int_equal(mock_domain(ctx, 1, NULL, NULL, NULL), 0); /* 2, 4, 3 */
	assert_int_equal(hwpt_alloc(ctx, 3, 1, IOMMU_HWPT_ALLOC_DIRTY_TRACKING, &dirty), 0);
	assert_int_equal(hwpt_alloc(ctx, 3, 1, 0, &plain), 0);
	assert_int_equal(mock_domain(ctx, dirty, &stdev, &hwpt, NULL), 0);
	assert_int_equal(hwpt, dirty);
	size_t count = iofd_object_count(ctx);
	assert_int_equal(mock_domain_flags(ctx, dirty, MOCK_FLAGS_DEVICE_NO_DIRTY, NULL, NULL, NULL),
			 -EINVAL);
	assert_int_equal(iofd_object_count(ctx), count);
	assert_int_equal(destroy(ctx, stdev), 0);
	ioas2 = ioas_alloc(ctx);
	assert_int_equal(mock_domain_flags(ctx, ioas2, MOCK_FLAGS_DEVICE_NO_DIRTY, &stdev, NULL,
					   &nd_idev),
			 0);
	count = iofd_object_count(ctx);
	assert_int_equal(hwpt_alloc(ctx, nd_idev, ioas2, IOMMU_HWPT_ALLOC_DIRTY_TRACKING, &hwpt),
			 -EOPNOTSUPP);
	assert_int_equal(iofd_object_count(ctx), count);
	assert_int_equal(destroy(ctx, stdev), 0);

	assert_int_equal(set_dirty(dirty, 1u << 1), -EOPNOTSUPP);
	assert_int_equal(set_dirty(99, IOFD_HWPT_DIRTY_TRACKING_ENABLE), -ENOENT);
	assert_int_equal(set_dirty(1, IOFD_HWPT_DIRTY_TRACKING_ENABLE), -ENOENT);
	assert_int_equal(set_dirty(4, IOFD_HWPT_DIRTY_TRACKING_ENABLE), -EOPNOTSUPP);
	assert_int_equal(set_dirty(plain, IOFD_HWPT_DIRTY_TRACKING_ENABLE), -EOPNOTSUPP);
	assert_int_equal(set_dirty(plain, 0), -EOPNOTSUPP);

	/* Tracking off: TEST DIRTY refuses. */
	assert_int_equal(test_dirty(dirty, MOCK_APERTURE_START, MOCK_PAGE_SIZE, MOCK_PAGE_SIZE,
				    bitmap, NULL),
			 -EINVAL);
	assert_int_equal(test_dirty(4, MOCK_APERTURE_START, MOCK_PAGE_SIZE, MOCK_PAGE_SIZE, bitmap,
				    NULL),
			 -EINVAL);
	assert_int_equal(set_dirty(dirty, IOFD_HWPT_DIRTY_TRACKING_ENABLE), 0);
	assert_int_equal(set_dirty(dirty, IOFD_HWPT_DIRTY_TRACKING_ENABLE), 0);
	assert_int_equal(test_dirty(dirty, MOCK_APERTURE_START, MOCK_PAGE_SIZE, MOCK_PAGE_SIZE,
				    bitmap, NULL),
			 0);
	/* TEST DIRTY argument checks. */
	const uint64_t A = MOCK_APERTURE_START, M = MOCK_PAGE_SIZE;
	assert_int_equal(test_dirty(dirty, A, M, 0, bitmap, NULL), -EINVAL);
	assert_int_equal(test_dirty(dirty, A, 0, M, bitmap, NULL), -EINVAL);
	assert_int_equal(test_dirty(dirty, A + 1024, M, M, bitmap, NULL), -EINVAL);
	assert_int_equal(test_dirty(dirty, A, M + 1024, M, bitmap, NULL), -EINVAL);
	assert_int_equal(test_dirty(dirty, A, M, M, NULL, NULL), -EINVAL);
	assert_int_equal(test_dirty(dirty, 0, ((16ull << 20) * 8 + 1) * M, M, bitmap, NULL),
			 -EOVERFLOW);
	assert_int_equal(test_dirty(99, A, M, M, bitmap, NULL), -ENOENT);
	assert_int_equal(test_dirty(1, A, M, M, bitmap, NULL), -ENOENT);
	assert_int_equal(test_dirty(dirty, A, 64 * M, M, unmapped_range((size_t)P), NULL), -EFAULT);
	assert_int_equal(set_dirty(dirty, 0), 0);
	assert_int_equal(set_dirty(dirty, 0), 0);
	assert_int_equal(test_dirty(dirty, A, M, M, bitmap, NULL), -EINVAL);
	assert_int_equal(destroy(ctx, dirty), 0);
	assert_int_equal(destroy(ctx, plain), 0);
}

/*
 * One round of T/iommufd_utils.h _test_mock_dirty_bitmaps with 2 KiB
 * pages and 2 KiB IOPTEs (npte 1, so every other bit): mark the even
 * bits dirty (out_nr_dirty = nbits / 2), read them back (even bits set,
 * odd clear), read again (nothing unless NO_CLEAR).
 */
static void dirty_round(uint32_t hwpt, uint64_t iova, uint64_t len, uint8_t *bitmap,
			uint32_t flags)
{
	const uint64_t nbits = len / MOCK_PAGE_SIZE, bytes = (nbits + 7) / 8;
	uint64_t nr = 0;

	memset(bitmap, 0, bytes);
	for (uint64_t i = 0; i < nbits; i += 2)
		bitmap[i / 8] |= (uint8_t)(1u << (i % 8));
	assert_int_equal(test_dirty(hwpt, iova, len, MOCK_PAGE_SIZE, bitmap, &nr), 0);
	assert_int_equal(nr, nbits / 2);
	memset(bitmap, 0, bytes);
	assert_int_equal(get_dirty(hwpt, flags, iova, len, MOCK_PAGE_SIZE, bitmap), 0);
	for (uint64_t i = 0; i < nbits; i++)
		if (bit(bitmap, i) != !(i % 2))
			fail_msg("first read, bit %llu", (unsigned long long)i);
	memset(bitmap, 0, bytes);
	assert_int_equal(get_dirty(hwpt, flags, iova, len, MOCK_PAGE_SIZE, bitmap), 0);
	for (uint64_t i = 0; i < nbits; i++) {
		bool want = (flags & IOFD_HWPT_GET_DIRTY_BITMAP_NO_CLEAR) && !(i % 2);
		if (bit(bitmap, i) != want)
			fail_msg("second read, bit %llu", (unsigned long long)i);
	}
}

/*
 * T/iommufd.c dirty.get_dirty_bitmap and get_dirty_bitmap_no_clear (8k-64k
 * variants): an IOAS with the buffer at 16 MiB, a DIRTY_TRACKING HWPT on
 * it with no device attached, tracking on; rounds with the bitmap aligned,
 * at +MOCK_PAGE_SIZE and at +0xff1.
 */
static void test_dirty_bitmap(void **state)
{
	const uint64_t A = MOCK_APERTURE_START;
	uint8_t *bm = malloc(8192);
	uint32_t ioas2, hwpt;

	(void)state;
	assert_non_null(bm);
	assert_int_equal(ioas_alloc(ctx), 1);
	assert_int_equal(mock_domain(ctx, 1, NULL, NULL, NULL), 0); /* 2, 4, 3 */
	ioas2 = ioas_alloc(ctx);
	assert_int_equal(map_fixed(ctx, ioas2, buffer, BUFFER_SIZE, A), 0);
	assert_int_equal(hwpt_alloc(ctx, 3, ioas2, IOMMU_HWPT_ALLOC_DIRTY_TRACKING, &hwpt), 0);
	assert_int_equal(check_map(ctx, hwpt, A, BUFFER_SIZE, buffer), 0);
	assert_int_equal(set_dirty(hwpt, IOFD_HWPT_DIRTY_TRACKING_ENABLE), 0);
	static const size_t offs[] = {0, MOCK_PAGE_SIZE, 0xff1};
	for (size_t i = 0; i < 3; i++)
		dirty_round(hwpt, A, BUFFER_SIZE, bm + offs[i], 0);
	for (size_t i = 0; i < 3; i++)
		dirty_round(hwpt, A, BUFFER_SIZE, bm + offs[i], IOFD_HWPT_GET_DIRTY_BITMAP_NO_CLEAR);
	/* A part of the range: bits count from cmd.iova. */
	const uint64_t nbits = BUFFER_SIZE / MOCK_PAGE_SIZE;
	memset(bm, 0, 64);
	assert_int_equal(get_dirty(hwpt, 0, A + 4 * MOCK_PAGE_SIZE, 8 * MOCK_PAGE_SIZE,
				   MOCK_PAGE_SIZE, bm),
			 0);
	for (uint64_t i = 0; i < 8; i++)
		assert_int_equal(bit(bm, i), !(i % 2));
	for (uint64_t i = 8; i < 64 * 8; i++)
		assert_false(bit(bm, i));
	/* Page size 4 KiB: one bit per two IO pages, set if either is dirty. */
	memset(bm, 0, 64);
	assert_int_equal(get_dirty(hwpt, 0, A, BUFFER_SIZE, 2 * MOCK_PAGE_SIZE, bm), 0);
	/* Slots 4, 6, 8 and 10 were read (cleared) just above: bits 2-5. */
	for (uint64_t i = 0; i < nbits / 2; i++)
		assert_int_equal(bit(bm, i), i < 2 || i > 5);
	memset(bm, 0, 64);
	assert_int_equal(get_dirty(hwpt, 0, A, BUFFER_SIZE, MOCK_PAGE_SIZE, bm), 0);
	for (uint64_t i = 0; i < nbits; i++)
		assert_false(bit(bm, i));

	/*
	 * Tracking off: the mock refuses to report and 6.12 swallows the
	 * walk's error (D/io_pagetable.c iommu_read_and_clear_dirty ignores
	 * iova_bitmap_for_each's result): 0, no bit set.  Turning tracking
	 * on again starts from a clean slate (iopt_set_dirty_tracking clears
	 * every IOPTE's dirty bit first).
	 */
	uint64_t nr;
	memset(bm, 0xff, 8);
	assert_int_equal(test_dirty(hwpt, A, BUFFER_SIZE, MOCK_PAGE_SIZE, bm, &nr), 0);
	assert_int_equal(nr, nbits);
	assert_int_equal(set_dirty(hwpt, 0), 0);
	memset(bm, 0, 64);
	assert_int_equal(get_dirty(hwpt, 0, A, BUFFER_SIZE, MOCK_PAGE_SIZE, bm), 0);
	for (uint64_t i = 0; i < nbits; i++)
		assert_false(bit(bm, i));
	assert_int_equal(set_dirty(hwpt, IOFD_HWPT_DIRTY_TRACKING_ENABLE), 0);
	assert_int_equal(get_dirty(hwpt, 0, A, BUFFER_SIZE, MOCK_PAGE_SIZE, bm), 0);
	for (uint64_t i = 0; i < nbits; i++)
		assert_false(bit(bm, i));
	free(bm);
}

/*
 * GET_DIRTY_BITMAP checks, in D/hw_pagetable.c iommufd_hwpt_get_dirty_bitmap
 * and D/io_pagetable.c iommufd_check_iova_range order: unknown flags or
 * __reserved -> EOPNOTSUPP; not a paging HWPT -> ENOENT; length 0 ->
 * EINVAL; iova + length - 1 overflowing -> EOVERFLOW; iova or end not on
 * the IOAS alignment (2048 with the mock domain) -> EINVAL; page_size 0 ->
 * EINVAL; iova or end not on page_size -> EINVAL; a domain without
 * dirty_ops -> EOPNOTSUPP (iommu_read_and_clear_dirty, after the range
 * checks).
 */
static void test_dirty_bitmap_errors(void **state)
{
	const uint64_t A = MOCK_APERTURE_START, M = MOCK_PAGE_SIZE;
	uint8_t bm[64] = {0};
	uint32_t ioas2, hwpt, nested;

	(void)state;
	assert_int_equal(ioas_alloc(ctx), 1);
	assert_int_equal(mock_domain(ctx, 1, NULL, NULL, NULL), 0); /* 2, 4, 3 */
	ioas2 = ioas_alloc(ctx);
	assert_int_equal(map_fixed(ctx, ioas2, buffer, 4 * P, A), 0);
	assert_int_equal(hwpt_alloc(ctx, 3, ioas2,
				    IOMMU_HWPT_ALLOC_DIRTY_TRACKING | IOMMU_HWPT_ALLOC_NEST_PARENT,
				    &hwpt),
			 0);
	assert_int_equal(hwpt_alloc_nested(ctx, 3, hwpt, 0, 0, 0, &nested), 0);
	assert_int_equal(set_dirty(hwpt, IOFD_HWPT_DIRTY_TRACKING_ENABLE), 0);
	assert_int_equal(set_dirty(nested, IOFD_HWPT_DIRTY_TRACKING_ENABLE), -ENOENT);

	assert_int_equal(get_dirty(hwpt, 1u << 1, A, 4 * P, M, bm), -EOPNOTSUPP);
	struct iofd_hwpt_get_dirty_bitmap g = {.size = sizeof(g), .hwpt_id = hwpt, .reserved = 1,
					       .iova = A, .length = 4 * P, .page_size = M,
					       .data = (uintptr_t)bm};
	assert_int_equal(ioc(ctx, IOFD_NR_HWPT_GET_DIRTY_BITMAP, &g), -EOPNOTSUPP);
	assert_int_equal(get_dirty(99, 0, A, 4 * P, M, bm), -ENOENT);
	assert_int_equal(get_dirty(1, 0, A, 4 * P, M, bm), -ENOENT);
	assert_int_equal(get_dirty(nested, 0, A, 4 * P, M, bm), -ENOENT);
	assert_int_equal(get_dirty(hwpt, 0, A, 0, M, bm), -EINVAL);
	assert_int_equal(get_dirty(hwpt, 0, U64MAX - M + 1, 2 * M, M, bm), -EOVERFLOW);
	assert_int_equal(get_dirty(hwpt, 0, A + 1024, 4 * P, 1024, bm), -EINVAL);
	assert_int_equal(get_dirty(hwpt, 0, A, 4 * P + 1024, 1024, bm), -EINVAL);
	assert_int_equal(get_dirty(hwpt, 0, A, 4 * P, 0, bm), -EINVAL);
	assert_int_equal(get_dirty(hwpt, 0, A + M, 4 * P, 2 * M, bm), -EINVAL);
	assert_int_equal(get_dirty(hwpt, 0, A, 3 * M, 2 * M, bm), -EINVAL);
	assert_int_equal(get_dirty(4, 0, A, 4 * P, M, bm), -EOPNOTSUPP);
	assert_int_equal(get_dirty(4, 0, A, 0, M, bm), -EINVAL);
	for (size_t i = 0; i < sizeof(bm); i++)
		assert_int_equal(bm[i], 0);
	assert_int_equal(destroy(ctx, nested), 0);
}

/*
 * The walk (D/io_pagetable.c __iommu_read_and_clear_dirty with
 * iopt_area_contig_init / iopt_area_contig_next) follows the areas that
 * are contiguous from cmd.iova and stops at the first gap: dirty pages of
 * an area beyond a gap are neither reported nor cleared, and the call
 * still returns 0 (the -EINVAL of !iopt_area_contig_done is dropped by
 * iommu_read_and_clear_dirty).  A range that starts in a gap reads
 * nothing at all.
 *
 * Regression (fixed): hwpt.c iofd_hwpt_get_dirty_bitmap walked every
 * area inside the range, across gaps, reporting and clearing the pages
 * after the gap.
 */
static void test_dirty_bitmap_stops_at_gap(void **state)
{
	const uint64_t A = MOCK_APERTURE_START, M = MOCK_PAGE_SIZE;
	const uint64_t B = A + 8 * P; /* second area, after a gap of 4 pages */
	const uint64_t nb = 12 * P / M; /* bits over [A, A + 12 P) */
	uint8_t all[64], bm[64];
	uint32_t ioas2, hwpt;
	uint64_t nr;

	(void)state;
	assert_int_equal(ioas_alloc(ctx), 1);
	assert_int_equal(mock_domain(ctx, 1, NULL, NULL, NULL), 0); /* 2, 4, 3 */
	ioas2 = ioas_alloc(ctx);
	assert_int_equal(map_fixed(ctx, ioas2, buffer, 4 * P, A), 0);
	assert_int_equal(map_fixed(ctx, ioas2, buffer + 4 * P, 4 * P, B), 0);
	assert_int_equal(hwpt_alloc(ctx, 3, ioas2, IOMMU_HWPT_ALLOC_DIRTY_TRACKING, &hwpt), 0);
	assert_int_equal(set_dirty(hwpt, IOFD_HWPT_DIRTY_TRACKING_ENABLE), 0);
	memset(all, 0xff, sizeof(all));
	assert_int_equal(test_dirty(hwpt, A, 12 * P, M, all, &nr), 0);
	assert_int_equal(nr, 8 * P / M); /* the mapped IO pages only */

	/* Starting in the gap: nothing read, nothing cleared. */
	memset(bm, 0, sizeof(bm));
	assert_int_equal(get_dirty(hwpt, 0, A + 4 * P, 8 * P, M, bm), 0);
	for (uint64_t i = 0; i < sizeof(bm) * 8; i++)
		if (bit(bm, i))
			fail_msg("bit %llu set by a walk that starts in a gap "
				 "(D/io_pagetable.c iopt_area_contig_init finds no area there)",
				 (unsigned long long)i);
	/* From the first area: it, then the walk stops at the gap. */
	memset(bm, 0, sizeof(bm));
	assert_int_equal(get_dirty(hwpt, 0, A, 12 * P, M, bm), 0);
	for (uint64_t i = 0; i < nb; i++)
		if (bit(bm, i) != (i < 4 * P / M))
			fail_msg("bit %llu of [A, A+12P): the walk must stop at the gap "
				 "(D/io_pagetable.c __iommu_read_and_clear_dirty)",
				 (unsigned long long)i);
	/* The second area's pages are still dirty. */
	memset(bm, 0, sizeof(bm));
	assert_int_equal(get_dirty(hwpt, 0, B, 4 * P, M, bm), 0);
	for (uint64_t i = 0; i < 4 * P / M; i++)
		assert_true(bit(bm, i));
}

/*
 * 1 MiB IOPTEs (T/iommufd.c get_dirty_bitmap, 64M_huge/128M_huge
 * variants): with a HUGE_IOVA device the domain offers 1 MiB pages and a
 * 1 MiB-aligned, physically contiguous run is mapped with them
 * (drivers/iommu/iommu.c iommu_pgsize).  The selftest gets contiguity from
 * hugetlb; the model gives the pages pinned together consecutive frames at
 * the address's offset within 2 MiB (docs/iommufd.md "Devices, domains
 * and pins"), so a 2 MiB-aligned buffer stands in.  Dirtying one 2 KiB
 * slot reports the whole 1 MiB IOPTE (D/selftest.c
 * mock_domain_read_and_clear_dirty: pgsize = MOCK_HUGE_PAGE_SIZE for a
 * HUGE entry), and reading clears every slot of it
 * (mock_test_and_clear_dirty).
 */
static void test_dirty_bitmap_huge(void **state)
{
	const uint64_t A = MOCK_APERTURE_START, M = MOCK_PAGE_SIZE, H = MOCK_HUGE_PAGE_SIZE;
	const uint64_t len = 2 * H, nbits = len / M;
	void *base;
	size_t base_len;
	uint8_t *hbuf = buffer_alloc(len, 2u << 20, &base, &base_len);
	uint8_t bm[128];
	uint32_t idev, ioas2, hwpt;
	uint64_t nr;

	(void)state;
	assert_non_null(hbuf);
	assert_int_equal(ioas_alloc(ctx), 1);
	assert_int_equal(mock_domain_flags(ctx, 1, MOCK_FLAGS_DEVICE_HUGE_IOVA, NULL, NULL, &idev),
			 0);
	ioas2 = ioas_alloc(ctx);
	assert_int_equal(map_fixed(ctx, ioas2, hbuf, len, A), 0);
	assert_int_equal(hwpt_alloc(ctx, idev, ioas2, IOMMU_HWPT_ALLOC_DIRTY_TRACKING, &hwpt), 0);
	assert_int_equal(check_map(ctx, hwpt, A, len, hbuf), 0);
	assert_int_equal(set_dirty(hwpt, IOFD_HWPT_DIRTY_TRACKING_ENABLE), 0);
	for (int round = 0; round < 2; round++) {
		uint32_t flags = round ? IOFD_HWPT_GET_DIRTY_BITMAP_NO_CLEAR : 0;
		/* One slot of the second IOPTE, two of the first. */
		memset(bm, 0, sizeof(bm));
		bm[0] = 0x01;
		bm[300 / 8] |= (uint8_t)(1u << (300 % 8));
		bm[(512 + 77) / 8] |= (uint8_t)(1u << ((512 + 77) % 8));
		assert_int_equal(test_dirty(hwpt, A, len, M, bm, &nr), 0);
		assert_int_equal(nr, 3);
		memset(bm, 0, sizeof(bm));
		assert_int_equal(get_dirty(hwpt, flags, A, len, M, bm), 0);
		for (uint64_t i = 0; i < nbits; i++)
			assert_true(bit(bm, i));
		memset(bm, 0, sizeof(bm));
		assert_int_equal(get_dirty(hwpt, flags, A, len, M, bm), 0);
		for (uint64_t i = 0; i < nbits; i++)
			assert_int_equal(bit(bm, i), round == 1);
		if (round == 1) { /* clear for good */
			assert_int_equal(get_dirty(hwpt, 0, A, len, M, bm), 0);
		}
	}
	/* Only the second IOPTE dirty: the first's bits stay clear. */
	memset(bm, 0, sizeof(bm));
	bm[(512 + 511) / 8] = (uint8_t)(1u << ((512 + 511) % 8));
	assert_int_equal(test_dirty(hwpt, A, len, M, bm, &nr), 0);
	assert_int_equal(nr, 1);
	memset(bm, 0, sizeof(bm));
	assert_int_equal(get_dirty(hwpt, 0, A, len, H, bm), 0);
	assert_false(bit(bm, 0));
	assert_true(bit(bm, 1));
	assert_int_equal(destroy(ctx, hwpt), 0);
	assert_int_equal(unmap(ctx, ioas2, A, len), 0);
	assert_int_equal(check_refs(ctx, hbuf, len, 0), 0);
	munmap(base, base_len);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_mock_domain_ids),
		T(test_destroy_rules),
		T(test_mock_domain_errors),
		T(test_mock_domain_replace),
		T(test_auto_domain_shared),
		T(test_hwpt_alloc_paging_errors),
		T(test_hwpt_alloc_paging),
		T(test_hwpt_alloc_nested),
		T(test_invalidate_6_12),
		T(test_invalidate_newest),
		T(test_md_check_iotlb),
		T(test_get_hw_info),
		T(test_get_hw_info_newest),
		T(test_iova_ranges_with_domain),
		T(test_domain_add_fails),
		T(test_map_efault_with_domain),
		T(test_failed_map_leaks_nothing),
		T(test_check_map_and_refs),
		T(test_all_aligns),
		T(test_dirty_enforce_and_set),
		T(test_dirty_bitmap),
		T(test_dirty_bitmap_errors),
		T(test_dirty_bitmap_stops_at_gap),
		T(test_dirty_bitmap_huge),
	};
#undef T

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
