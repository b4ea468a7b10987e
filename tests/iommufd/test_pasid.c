/*
 * test_pasid.c - PASID attachments: the object model's rules through the
 * selftest's PASID ops (mock IOMMU), and the host driver's configuration
 * of the modelled VT-d and SMMUv3 (DMA tagged with a PASID / SubstreamID
 * reaches the bytes of the HWPT attached there, and faults once it is
 * detached).
 *
 * What is expected comes from Linux 6.15 (newest ABI):
 *   - include/uapi/linux/iommufd.h: IOMMU_HWPT_ALLOC_PASID = 1 << 3 ("the
 *     domain can be attached to any PASID"; any domain attached to the RID
 *     must carry it too for a PASID to be attached);
 *   - drivers/iommu/iommufd/iommufd_test.h: IOMMU_TEST_OP_PASID_ATTACH (18),
 *     _REPLACE (19), _DETACH (20), _CHECK_HWPT (21) with {pasid, pt_id},
 *     {pasid}, {pasid, hwpt_id} (hwpt_id 0: "detached"), cmd->id the
 *     mock device's stdev; MOCK_FLAGS_DEVICE_PASID, MOCK_PASID_WIDTH 20,
 *     PASID 1024 reserved for a faked replace failure (ENOMEM);
 *   - drivers/iommu/iommufd/device.c (iommufd_hw_pagetable_attach,
 *     iommufd_device_do_replace, iommufd_hwpt_pasid_compat) and
 *     iommu.c (iommu_attach_device_pasid): attaching over an attachment
 *     EBUSY, replacing nothing EINVAL, a non-PASID-compatible HWPT (or
 *     RID HWPT) EINVAL, a PASID at or beyond max_pasids EINVAL, detaching
 *     nothing is no error;
 *   - tools/testing/selftests/iommu/iommufd.c, fixture iommufd_device_pasid
 *     test pasid_attach: the sequence most of test_selftest_sequence
 *     follows; an IOAS at a PASID is EINVAL.
 * Host cases follow VT-d 3.x/4.x 9.6 (scalable-mode PASID entries; ECAP.PSS
 * is "PASID size supported" minus one) and SMMUv3 (IHI 0070) 5.4 (CDs at
 * SubstreamIDs, IDR1.SSIDSIZE), with the width limits docs/iommufd.md
 * states for the model.
 */
#include "iofd_test.h"

#include <stdio.h>

#include <iommusim/iommusim.h>

/* drivers/iommu/iommufd/iommufd_test.h (6.15) and iommufd.h */
#define IOMMU_HWPT_ALLOC_PASID (1u << 3)
#define MOCK_PASID_WIDTH 20
#define PASID_FAKE_ERROR 1024

#define BUF_LEN (1u << 20)

static uint32_t ioas, stdev, rid_hwpt, idev;

/* One context, an IOAS over a test buffer, and a PASID-capable mock device
 * on it (the kernel fixture's MOCK_FLAGS_DEVICE_PASID device). */
static int setup(void **state)
{
	(void)state;
	if (fixture_open() || fixture_buffer(BUF_LEN, BUF_LEN))
		return -1;
	ioas = ioas_alloc(ctx);
	if (mock_domain_flags(ctx, ioas, MOCK_FLAGS_DEVICE_PASID, &stdev, &rid_hwpt, &idev))
		return -1;
	uint64_t iova = MOCK_APERTURE_START;
	return map(ctx, ioas, RW | FIXED, buffer, BUF_LEN, &iova) ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	int rc = fixture_close(BUF_LEN);
	fixture_buffer_free();
	return rc;
}

/* The host tests need IOVA 0 free: no mock domain (its aperture starts at
 * 16 MiB) on their IOAS. */
static int host_setup(void **state)
{
	(void)state;
	if (fixture_open())
		return -1;
	ioas = ioas_alloc(ctx);
	return 0;
}

/* ---- The selftest's PASID ops ---- */

static long pasid_op(uint32_t op, uint32_t dev, uint32_t pasid, uint32_t *pt)
{
	struct iofd_test_cmd t = {.size = sizeof(t), .op = op, .id = dev};
	long rc;

	t.pasid_attach.pasid = pasid;
	t.pasid_attach.pt_id = pt ? *pt : 0;
	rc = ioc(ctx, IOFD_NR_TEST_CMD, &t);
	if (pt)
		*pt = t.pasid_attach.pt_id;
	return rc;
}

static long pasid_attach(uint32_t pasid, uint32_t pt)
{
	return pasid_op(IOFD_TEST_OP_PASID_ATTACH, stdev, pasid, &pt);
}

static long pasid_replace(uint32_t pasid, uint32_t pt)
{
	return pasid_op(IOFD_TEST_OP_PASID_REPLACE, stdev, pasid, &pt);
}

static long pasid_detach(uint32_t pasid)
{
	return pasid_op(IOFD_TEST_OP_PASID_DETACH, stdev, pasid, NULL);
}

static long pasid_check(uint32_t dev, uint32_t pasid, uint32_t hwpt)
{
	struct iofd_test_cmd t = {.size = sizeof(t), .op = IOFD_TEST_OP_PASID_CHECK_HWPT, .id = dev};

	t.pasid_check.pasid = pasid;
	t.pasid_check.hwpt_id = hwpt;
	return ioc(ctx, IOFD_NR_TEST_CMD, &t);
}

static uint8_t max_pasid_log2(uint32_t dev)
{
	uint8_t data[64];
	struct iofd_hw_info h = {.size = sizeof(h), .dev_id = dev, .data_len = sizeof(data),
				 .data_uptr = (uintptr_t)data};

	assert_int_equal(ioc(ctx, IOFD_NR_GET_HW_INFO, &h), 0);
	return h.out_max_pasid_log2;
}

/* The HWPTs of the kernel's pasid_attach test: a nest parent (not
 * PASID-compatible), two nested HWPTs over it with the flag, and a plain
 * paging HWPT with the flag. */
struct hwpts {
	uint32_t parent, nested[2], s2;
};

static void make_hwpts(struct hwpts *h)
{
	assert_int_equal(hwpt_alloc(ctx, idev, ioas, IOMMU_HWPT_ALLOC_NEST_PARENT, &h->parent), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(hwpt_alloc_nested(ctx, idev, h->parent, IOMMU_HWPT_ALLOC_PASID, 0,
						   IOMMU_TEST_IOTLB_DEFAULT, &h->nested[i]),
				 0);
	assert_int_equal(hwpt_alloc(ctx, idev, ioas, IOMMU_HWPT_ALLOC_PASID, &h->s2), 0);
}

static void test_hw_info_width(void **state)
{
	(void)state;
	uint32_t plain_idev;

	assert_int_equal(max_pasid_log2(idev), MOCK_PASID_WIDTH);
	assert_int_equal(mock_domain(ctx, ioas, NULL, NULL, &plain_idev), 0);
	assert_int_equal(max_pasid_log2(plain_idev), 0);
}

static void test_hwpt_alloc_flag(void **state)
{
	(void)state;
	uint32_t id = 0, parent;

	/* Paging and nested HWPTs take the flag; a bit beyond it does not. */
	assert_int_equal(hwpt_alloc(ctx, idev, ioas, IOMMU_HWPT_ALLOC_PASID, &id), 0);
	assert_int_equal(hwpt_alloc(ctx, idev, ioas,
				    IOMMU_HWPT_ALLOC_PASID | IOMMU_HWPT_ALLOC_NEST_PARENT, &parent),
			 0);
	assert_int_equal(hwpt_alloc_nested(ctx, idev, parent, IOMMU_HWPT_ALLOC_PASID, 0,
					   IOMMU_TEST_IOTLB_DEFAULT, &id),
			 0);
	size_t objs = iofd_object_count(ctx);
	assert_int_equal(hwpt_alloc(ctx, idev, ioas, 1u << 4, &id), -EOPNOTSUPP);
	assert_int_equal(iofd_object_count(ctx), objs);

	/* Linux 6.12 has neither the flag nor the PASID ops. */
	struct iofd_ctx *old = tctx_open(NULL, IOFD_ABI_6_12);
	uint32_t oioas, odev, ostdev;
	struct iofd_ioas_alloc a = {.size = sizeof(a)};
	assert_non_null(old);
	assert_int_equal(iofd_ioctl(old, IOFD_REQ(IOFD_NR_IOAS_ALLOC), (uintptr_t)&a), 0);
	oioas = a.out_ioas_id;
	struct iofd_test_cmd t = {.size = sizeof(t), .op = IOFD_TEST_OP_MOCK_DOMAIN, .id = oioas};
	assert_int_equal(iofd_ioctl(old, IOFD_REQ(IOFD_NR_TEST_CMD), (uintptr_t)&t), 0);
	ostdev = t.mock_domain.out_stdev_id;
	odev = t.mock_domain.out_idev_id;
	struct iofd_hwpt_alloc h = {.size = sizeof(h), .flags = IOMMU_HWPT_ALLOC_PASID,
				    .dev_id = odev, .pt_id = oioas};
	assert_int_equal(iofd_ioctl(old, IOFD_REQ(IOFD_NR_HWPT_ALLOC), (uintptr_t)&h),
			 -EOPNOTSUPP);
	for (uint32_t op = IOFD_TEST_OP_PASID_ATTACH; op <= IOFD_TEST_OP_PASID_CHECK_HWPT; op++) {
		t = (struct iofd_test_cmd){.size = sizeof(t), .op = op, .id = ostdev};
		t.pasid_attach.pasid = 1;
		t.pasid_attach.pt_id = oioas;
		assert_int_equal(iofd_ioctl(old, IOFD_REQ(IOFD_NR_TEST_CMD), (uintptr_t)&t),
				 -EOPNOTSUPP);
	}
	iofd_close(old);
}

/* The kernel's iommufd_device_pasid.pasid_attach, step by step. */
static void test_selftest_sequence(void **state)
{
	(void)state;
	struct hwpts h;
	uint32_t pasid = 100, pt;

	/* Detaching what is not attached is no error. */
	assert_int_equal(pasid_detach(pasid), 0);
	make_hwpts(&h);

	/* RID on a HWPT without the flag: no PASID may be attached. */
	pt = h.parent;
	assert_int_equal(mock_replace(ctx, stdev, &pt), 0);
	assert_int_equal(pasid_attach(pasid, h.s2), -EINVAL);
	/* RID on a PASID-compatible HWPT: it may, and then the RID cannot go
	 * back to one without the flag (nor to an IOAS, whose automatic
	 * domains lack it). */
	pt = h.s2;
	assert_int_equal(mock_replace(ctx, stdev, &pt), 0);
	assert_int_equal(pasid_attach(pasid, h.nested[0]), 0);
	assert_int_equal(pasid_check(stdev, pasid, h.nested[0]), 0);
	pt = h.parent;
	assert_int_equal(mock_replace(ctx, stdev, &pt), -EINVAL);
	pt = ioas;
	assert_int_equal(mock_replace(ctx, stdev, &pt), -EINVAL);
	assert_int_equal(pasid_check(stdev, 0, h.s2), 0); /* PASID 0 is the RID */
	assert_int_equal(pasid_detach(pasid), 0);
	assert_int_equal(pasid_check(stdev, pasid, 0), 0);

	/* A HWPT without the flag, or an IOAS: EINVAL, nothing attached and
	 * no object left behind. */
	size_t objs = iofd_object_count(ctx);
	assert_int_equal(pasid_attach(pasid, h.parent), -EINVAL);
	assert_int_equal(pasid_check(stdev, pasid, 0), 0);
	assert_int_equal(pasid_attach(pasid, ioas), -EINVAL);
	assert_int_equal(pasid_check(stdev, pasid, 0), 0);
	assert_int_equal(iofd_object_count(ctx), objs);

	/* A good attach writes pt_id back; the check tells HWPTs apart. */
	pt = h.s2;
	assert_int_equal(pasid_op(IOFD_TEST_OP_PASID_ATTACH, stdev, pasid, &pt), 0);
	assert_int_equal(pt, h.s2);
	assert_int_equal(pasid_check(stdev, pasid, h.s2), 0);
	assert_int_equal(pasid_check(stdev, pasid, h.nested[0]), -EINVAL);
	assert_int_equal(pasid_check(stdev, pasid, 0), -EINVAL);
	assert_int_equal(pasid_check(stdev, pasid, ioas), -EINVAL); /* not a HWPT */
	assert_int_equal(pasid_check(stdev, pasid, 999), -ENOENT);
	/* Attach does not overwrite: EBUSY, the same HWPT or an IOAS too. */
	assert_int_equal(pasid_attach(pasid, h.nested[0]), -EBUSY);
	assert_int_equal(pasid_attach(pasid, h.s2), -EBUSY);
	assert_int_equal(pasid_attach(pasid, ioas), -EBUSY);
	assert_int_equal(pasid_check(stdev, pasid, h.s2), 0);
	assert_int_equal(pasid_detach(pasid), 0);
	assert_int_equal(pasid_check(stdev, pasid, 0), 0);

	/* Replace. */
	pasid = 200;
	assert_int_equal(pasid_replace(pasid, h.s2), -EINVAL); /* nothing to replace */
	assert_int_equal(pasid_check(stdev, pasid, 0), 0);
	assert_int_equal(pasid_attach(pasid, h.s2), 0);
	assert_int_equal(pasid_replace(pasid, ioas), -EINVAL);
	assert_int_equal(pasid_replace(pasid, h.parent), -EINVAL);
	assert_int_equal(pasid_check(stdev, pasid, h.s2), 0);
	assert_int_equal(pasid_replace(pasid, h.nested[0]), 0);
	assert_int_equal(pasid_check(stdev, pasid, h.nested[0]), 0);
	assert_int_equal(pasid_replace(pasid, h.nested[1]), 0);
	assert_int_equal(pasid_check(stdev, pasid, h.nested[1]), 0);
	assert_int_equal(pasid_replace(pasid, h.nested[1]), 0); /* the same: nothing to do */
	assert_int_equal(pasid_check(stdev, pasid, h.nested[1]), 0);
	/* The old HWPT is free again. */
	assert_int_equal(destroy(ctx, h.nested[0]), 0);
	assert_int_equal(pasid_detach(pasid), 0);
	assert_int_equal(pasid_check(stdev, pasid, 0), 0);

	/* PASID 1024: the mock fails every second set there, so a replace
	 * fails (ENOMEM) and the old HWPT stays. */
	pasid = PASID_FAKE_ERROR;
	assert_int_equal(pasid_attach(pasid, h.s2), 0);
	assert_int_equal(pasid_replace(pasid, h.nested[1]), -ENOMEM);
	assert_int_equal(pasid_check(stdev, pasid, h.s2), 0);
	assert_int_equal(pasid_detach(pasid), 0);
	assert_int_equal(pasid_check(stdev, pasid, 0), 0);
	/* Blocking it reset the mock: the next attach works. */
	assert_int_equal(pasid_attach(pasid, h.s2), 0);
	assert_int_equal(pasid_detach(pasid), 0);
}

static void test_pasid_range_and_ids(void **state)
{
	(void)state;
	struct hwpts h;
	uint32_t plain_stdev, pt;

	make_hwpts(&h);
	pt = h.s2;
	assert_int_equal(mock_replace(ctx, stdev, &pt), 0);
	/* 20 PASID bits: 2^20 - 1 is the last. */
	assert_int_equal(pasid_attach((1u << MOCK_PASID_WIDTH) - 1, h.s2), 0);
	assert_int_equal(pasid_attach(1u << MOCK_PASID_WIDTH, h.s2), -EINVAL);
	assert_int_equal(pasid_attach(UINT32_MAX, h.s2), -EINVAL);
	assert_int_equal(pasid_detach((1u << MOCK_PASID_WIDTH) - 1), 0);
	/* Unknown stdev or pt: ENOENT; a device ID is not a stdev. */
	assert_int_equal(pasid_op(IOFD_TEST_OP_PASID_ATTACH, 999, 5, &pt), -ENOENT);
	pt = 999;
	assert_int_equal(pasid_op(IOFD_TEST_OP_PASID_ATTACH, stdev, 5, &pt), -ENOENT);
	pt = h.s2;
	assert_int_equal(pasid_op(IOFD_TEST_OP_PASID_ATTACH, idev, 5, &pt), -ENOENT);
	assert_int_equal(pasid_check(999, 5, 0), -ENOENT);
	/* A device without PASIDs takes PASID-compatible HWPTs at its RID but
	 * nothing at a PASID, with or without the flag. */
	assert_int_equal(mock_domain(ctx, ioas, &plain_stdev, NULL, NULL), 0);
	pt = h.nested[0];
	assert_int_equal(mock_replace(ctx, plain_stdev, &pt), 0);
	pt = ioas;
	assert_int_equal(mock_replace(ctx, plain_stdev, &pt), 0);
	pt = h.parent;
	assert_int_equal(pasid_op(IOFD_TEST_OP_PASID_ATTACH, plain_stdev, 5, &pt), -EINVAL);
	pt = h.s2;
	assert_int_equal(pasid_op(IOFD_TEST_OP_PASID_ATTACH, plain_stdev, 5, &pt), -EINVAL);
	assert_int_equal(pasid_check(plain_stdev, 5, 0), 0);
}

static void test_users(void **state)
{
	(void)state;
	struct hwpts h;
	uint32_t pt;

	make_hwpts(&h);
	pt = h.s2;
	assert_int_equal(mock_replace(ctx, stdev, &pt), 0);
	assert_int_equal(pasid_attach(7, h.nested[0]), 0);
	assert_int_equal(pasid_attach(8, h.nested[0]), 0);
	/* Attached HWPTs (and the parent under them) cannot go. */
	assert_int_equal(destroy(ctx, h.nested[0]), -EBUSY);
	assert_int_equal(destroy(ctx, h.parent), -EBUSY);
	assert_int_equal(pasid_detach(7), 0);
	assert_int_equal(destroy(ctx, h.nested[0]), -EBUSY); /* PASID 8 still */
	/* Unplugging the device detaches everything it had. */
	assert_int_equal(destroy(ctx, stdev), 0);
	assert_int_equal(destroy(ctx, h.nested[0]), 0);
	assert_int_equal(destroy(ctx, h.s2), 0);
	assert_int_equal(destroy(ctx, h.nested[1]), 0);
	assert_int_equal(destroy(ctx, h.parent), 0);
	assert_int_equal(pasid_check(stdev, 8, 0), -ENOENT);
}

/* A page request with a PASID reaches the fault queue of the HWPT that
 * PASID is attached to. */
static void test_iopf_at_pasid(void **state)
{
	(void)state;
	struct hwpts h;
	uint32_t fault_id, iopf_hwpt, pt;
	int fd;

	make_hwpts(&h);
	pt = h.s2;
	assert_int_equal(mock_replace(ctx, stdev, &pt), 0);
	assert_int_equal(fault_alloc(ctx, 0, &fault_id, &fd), 0);
	assert_int_equal(hwpt_alloc_nested(ctx, idev, h.parent,
					   IOMMU_HWPT_FAULT_ID_VALID | IOMMU_HWPT_ALLOC_PASID,
					   fault_id, IOMMU_TEST_IOTLB_DEFAULT, &iopf_hwpt),
			 0);
	assert_int_equal(pasid_attach(2048, iopf_hwpt), 0);
	assert_int_equal(pasid_check(stdev, 2048, iopf_hwpt), 0);
	assert_int_equal(trigger_iopf(ctx, idev, 2048, 1, IOMMU_PGFAULT_PERM_READ, 0x4000), 0);
	struct iofd_hwpt_pgfault r;
	assert_int_equal(iofd_file_read(tfd_file_of(&files, fd), &r, sizeof(r), 0), sizeof(r));
	assert_int_equal(r.flags, IOMMU_PGFAULT_FLAGS_PASID_VALID | IOMMU_PGFAULT_FLAGS_LAST_PAGE);
	assert_int_equal(r.dev_id, idev);
	assert_int_equal(r.pasid, 2048);
	assert_int_equal(r.addr, 0x4000);
	/* Replacing it away works and leaves the queue's HWPT free. */
	assert_int_equal(pasid_replace(2048, h.s2), 0);
	assert_int_equal(pasid_check(stdev, 2048, h.s2), 0);
	assert_int_equal(pasid_detach(2048), 0);
	assert_int_equal(destroy(ctx, iopf_hwpt), 0);
}

/* ---- The host driver ---- */

static const char vtd_model[] =
	"{\"arch\":\"vtd\",\"haw\":46,\"vtd\":{"
	"\"cap\":{\"ND\":6,\"SAGAW\":4,\"MGAW\":47,\"SLLPS\":1,\"PSI\":1,\"NFR\":7,\"MAMV\":18,"
	"\"FRO\":34},"
	"\"ecap\":{\"QI\":1,\"NEST\":1,\"SRS\":1,\"PSS\":%u,\"PASID\":%u,\"SMTS\":1,"
	"\"SSTS\":1,\"FSTS\":1,\"IRO\":80},\"fault_records\":8},"
	"\"caches\":{\"iotlb\":{\"entries\":64,\"ways\":4}}}";

static const char smmu_model[] =
	"{\"arch\":\"smmuv3\",\"haw\":48,\"smmuv3\":{"
	"\"idr0\":{\"S2P\":1,\"S1P\":1,\"TTF\":2,\"COHACC\":1,\"ASID16\":1,\"VMID16\":1,"
	"\"TTENDIAN\":2,\"ST_LEVEL\":1,\"CD2L\":1,\"STALL_MODEL\":1},"
	"\"idr1\":{\"SIDSIZE\":16,\"SSIDSIZE\":8,\"EVENTQS\":7,\"CMDQS\":8},"
	"\"idr5\":{\"OAS\":5,\"GRAN4K\":1}}}";

#define SID 0x0308
#define GUEST_SIZE (16 * 4096)

struct host_fx {
	uint32_t dev; /* 0: unbound */
	uint8_t *guest;
};

static struct host_fx hf;

static int host_up(const char *json)
{
	struct ims_model *m;
	char err[256];

	if (ims_model_parse(json, "host", &m, err, sizeof(err)))
		return -1;
	return iofd_host_init(m, err, sizeof(err));
}

/* A host device bound to the fixture's context, the guest memory mapped
 * at IOVA 0 of the fixture's IOAS. */
static void host_fx_up(struct host_fx *f, const char *json)
{
	assert_int_equal(host_up(json), 0);
	assert_int_equal(iofd_host_bind(ctx, SID, &f->dev), 0);
	f->guest = mmap(NULL, GUEST_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
			0);
	assert_true(f->guest != MAP_FAILED);
	assert_int_equal(map_fixed(ctx, ioas, f->guest, GUEST_SIZE, 0), 0);
}

/* Unbind (whatever is still attached goes with the device), close, and
 * take the host IOMMU down, also after a failed test. */
static int host_teardown(void **state)
{
	(void)state;
	int rc = 0;
	if (hf.dev && iofd_host_unbind(ctx, hf.dev))
		rc = -1;
	iofd_close(ctx);
	ctx = NULL;
	if (hf.guest)
		munmap(hf.guest, GUEST_SIZE);
	iofd_host_fini();
	memset(&hf, 0, sizeof(hf));
	return rc || iofd_host_iommu() ? -1 : 0;
}

static void test_host_vtd(void **state)
{
	(void)state;
	char json[sizeof(vtd_model) + 16];
	struct host_fx *f = &hf;
	uint32_t s2, rid_s2, pt;
	uint8_t buf[32];

	/* ECAP.PSS 19: 20-bit PASIDs; the model's PASID tables hold 15. */
	snprintf(json, sizeof(json), vtd_model, 19u, 1u);
	host_fx_up(f, json);
	assert_int_equal(max_pasid_log2(f->dev), 15);
	assert_int_equal(hwpt_alloc(ctx, f->dev, ioas, IOMMU_HWPT_ALLOC_PASID, &s2), 0);
	memcpy(f->guest + 0x3010, "through pasid 5", 16);

	/* Attach PASID 5 only: its DMA reaches the bytes; without a PASID, or
	 * at another PASID, the device is blocked. */
	pt = s2;
	assert_int_equal(iofd_host_attach_pasid(ctx, f->dev, 5, &pt), 0);
	assert_int_equal(pt, s2);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(iofd_host_dma_pasid(SID, 5, 0x3010, buf, 16, false, NULL), 0);
	assert_memory_equal(buf, "through pasid 5", 16);
	assert_int_equal(iofd_host_dma_pasid(SID, 5, 0x5000, "written", 8, true, NULL), 0);
	assert_memory_equal(f->guest + 0x5000, "written", 8);
	assert_int_equal(iofd_host_dma(SID, 0x3010, buf, 4, false, NULL), -EFAULT);
	assert_int_equal(iofd_host_dma_pasid(SID, 6, 0x3010, buf, 4, false, NULL), -EFAULT);
	/* The RID can join on a PASID-compatible HWPT, not on another. */
	assert_int_equal(hwpt_alloc(ctx, f->dev, ioas, 0, &rid_s2), 0);
	pt = rid_s2;
	assert_int_equal(iofd_host_attach(ctx, f->dev, &pt), -EINVAL);
	pt = ioas;
	assert_int_equal(iofd_host_attach(ctx, f->dev, &pt), -EINVAL);
	pt = s2;
	assert_int_equal(iofd_host_attach(ctx, f->dev, &pt), 0);
	assert_int_equal(iofd_host_dma(SID, 0x3010, buf, 4, false, NULL), 0);
	/* Beyond the PASID width: EINVAL; an IOAS at a PASID: EINVAL. */
	pt = s2;
	assert_int_equal(iofd_host_attach_pasid(ctx, f->dev, 1u << 15, &pt), -EINVAL);
	pt = ioas;
	assert_int_equal(iofd_host_attach_pasid(ctx, f->dev, 9, &pt), -EINVAL);
	/* Unmapping invalidates PASID 5's translations too (strict). */
	assert_int_equal(map_fixed(ctx, ioas, f->guest + 0x3000, 4096, 0x100000), 0);
	assert_int_equal(iofd_host_dma_pasid(SID, 5, 0x100010, buf, 16, false, NULL), 0);
	assert_memory_equal(buf, "through pasid 5", 16);
	assert_int_equal(unmap(ctx, ioas, 0x100000, 4096), 0);
	assert_int_equal(iofd_host_dma_pasid(SID, 5, 0x100010, buf, 4, false, NULL), -EFAULT);
	/* Detached, PASID 5 faults (after the hardware has cached it) while
	 * the RID keeps working. */
	assert_int_equal(iofd_host_detach_pasid(ctx, f->dev, 5), 0);
	assert_int_equal(iofd_host_dma_pasid(SID, 5, 0x3010, buf, 4, false, NULL), -EFAULT);
	assert_int_equal(iofd_host_dma(SID, 0x3010, buf, 4, false, NULL), 0);
	assert_int_equal(iofd_host_detach_pasid(ctx, f->dev, 5), 0); /* again: nothing */
	/* A PASID held at unbind goes with the device. */
	pt = s2;
	assert_int_equal(iofd_host_attach_pasid(ctx, f->dev, 11, &pt), 0);
	assert_int_equal(destroy(ctx, s2), -EBUSY);
	assert_int_equal(iofd_host_unbind(ctx, f->dev), 0);
	f->dev = 0;
	assert_int_equal(destroy(ctx, s2), 0);
}

#define PTE (UINT64_C(7)) /* Present | R/W | U/S (Intel SDM 4.5) */

/* A nested HWPT at a PASID: the guest's first stage translates that
 * PASID's requests (PGTT nested). */
static void test_host_vtd_nested(void **state)
{
	(void)state;
	char json[sizeof(vtd_model) + 16];
	struct host_fx *f = &hf;
	uint32_t parent, nested, pt;
	uint8_t buf[16];

	snprintf(json, sizeof(json), vtd_model, 7u, 1u);
	host_fx_up(f, json);
	assert_int_equal(max_pasid_log2(f->dev), 8);
	/* Guest first stage at GPA 0x1000: VA 0x400000 -> GPA 0x8000. */
	uint64_t e[4] = {0x2000 | PTE, 0x3000 | PTE, 0x4000 | PTE, 0x8000 | PTE};
	memcpy(f->guest + 0x1000, &e[0], 8);         /* PML4[0] */
	memcpy(f->guest + 0x2000, &e[1], 8);         /* PDPT[0] */
	memcpy(f->guest + 0x3000 + 8 * 2, &e[2], 8); /* PD[2]: VA 0x400000 */
	memcpy(f->guest + 0x4000, &e[3], 8);         /* PT[0] */
	memcpy(f->guest + 0x8000 + 8, "guest va", 8);
	assert_int_equal(hwpt_alloc(ctx, f->dev, ioas,
				    IOMMU_HWPT_ALLOC_NEST_PARENT | IOMMU_HWPT_ALLOC_PASID, &parent),
			 0);
	struct iofd_hwpt_vtd_s1 s1 = {.pgtbl_addr = 0x1000, .addr_width = 48};
	assert_int_equal(hwpt_alloc_full(ctx, f->dev, parent, IOMMU_HWPT_ALLOC_PASID,
					 IOFD_HWPT_DATA_VTD_S1, &s1, sizeof(s1), 0, &nested),
			 0);
	pt = parent;
	assert_int_equal(iofd_host_attach_pasid(ctx, f->dev, 3, &pt), 0);
	assert_int_equal(iofd_host_dma_pasid(SID, 3, 0x8008, buf, 8, false, NULL), 0);
	assert_memory_equal(buf, "guest va", 8);
	pt = nested; /* replace: PASID 3 now walks the guest's tables */
	assert_int_equal(iofd_host_attach_pasid(ctx, f->dev, 3, &pt), 0);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(iofd_host_dma_pasid(SID, 3, 0x400008, buf, 8, false, NULL), 0);
	assert_memory_equal(buf, "guest va", 8);
	assert_int_equal(iofd_host_dma_pasid(SID, 3, 0x8008, buf, 8, false, NULL), -EFAULT);
	assert_int_equal(iofd_host_detach_pasid(ctx, f->dev, 3), 0);
	assert_int_equal(iofd_host_dma_pasid(SID, 3, 0x400008, buf, 8, false, NULL), -EFAULT);
}

/* Hardware without PASIDs: none for the device, no flag for HWPTs. */
static void test_host_vtd_no_pasid(void **state)
{
	(void)state;
	char json[sizeof(vtd_model) + 16];
	struct host_fx *f = &hf;
	uint32_t id, pt;

	snprintf(json, sizeof(json), vtd_model, 19u, 0u);
	host_fx_up(f, json);
	assert_int_equal(max_pasid_log2(f->dev), 0);
	assert_int_equal(hwpt_alloc(ctx, f->dev, ioas, IOMMU_HWPT_ALLOC_PASID, &id), -EOPNOTSUPP);
	assert_int_equal(hwpt_alloc(ctx, f->dev, ioas, 0, &id), 0);
	pt = id;
	assert_int_equal(iofd_host_attach_pasid(ctx, f->dev, 1, &pt), -EINVAL);
}

static void test_host_smmu(void **state)
{
	(void)state;
	struct host_fx *f = &hf;
	uint32_t s1, s2, pt;
	uint8_t buf[16];

	host_fx_up(f, smmu_model);
	/* IDR1.SSIDSIZE 8 with a two-level CD table. */
	assert_int_equal(max_pasid_log2(f->dev), 8);
	assert_int_equal(hwpt_alloc(ctx, f->dev, ioas, IOMMU_HWPT_ALLOC_PASID, &s1), 0);
	assert_int_equal(hwpt_alloc(ctx, f->dev, ioas,
				    IOMMU_HWPT_ALLOC_NEST_PARENT | IOMMU_HWPT_ALLOC_PASID, &s2),
			 0);
	memcpy(f->guest + 0x2000, "ssid three", 10);
	/* A stage-2 domain cannot serve a SubstreamID. */
	pt = s2;
	assert_int_equal(iofd_host_attach_pasid(ctx, f->dev, 3, &pt), -EINVAL);
	/* A stage-1 one can: the CD at SSID 3. */
	pt = s1;
	assert_int_equal(iofd_host_attach_pasid(ctx, f->dev, 3, &pt), 0);
	assert_int_equal(iofd_host_dma_pasid(SID, 3, 0x2000, buf, 10, false, NULL), 0);
	assert_memory_equal(buf, "ssid three", 10);
	assert_int_equal(iofd_host_dma_pasid(SID, 4, 0x2000, buf, 4, false, NULL), -EFAULT);
	assert_int_equal(iofd_host_dma(SID, 0x2000, buf, 4, false, NULL), -EFAULT);
	/* The RID joins on the same stage-1 HWPT (CD 0); a stage-2 RID
	 * under live SubstreamIDs is refused by the hardware's rules. */
	pt = s2;
	assert_int_equal(iofd_host_attach(ctx, f->dev, &pt), -EINVAL);
	pt = s1;
	assert_int_equal(iofd_host_attach(ctx, f->dev, &pt), 0);
	assert_int_equal(iofd_host_dma(SID, 0x2000, buf, 4, false, NULL), 0);
	/* Beyond 8 bits: EINVAL. */
	pt = s1;
	assert_int_equal(iofd_host_attach_pasid(ctx, f->dev, 256, &pt), -EINVAL);
	/* Detached: the CD is gone, SSID 3 faults, the RID still works. */
	assert_int_equal(iofd_host_detach_pasid(ctx, f->dev, 3), 0);
	assert_int_equal(iofd_host_dma_pasid(SID, 3, 0x2000, buf, 4, false, NULL), -EFAULT);
	assert_int_equal(iofd_host_dma(SID, 0x2000, buf, 4, false, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_hw_info_width, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hwpt_alloc_flag, setup, teardown),
		cmocka_unit_test_setup_teardown(test_selftest_sequence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pasid_range_and_ids, setup, teardown),
		cmocka_unit_test_setup_teardown(test_users, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iopf_at_pasid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_vtd, host_setup, host_teardown),
		cmocka_unit_test_setup_teardown(test_host_vtd_nested, host_setup, host_teardown),
		cmocka_unit_test_setup_teardown(test_host_vtd_no_pasid, host_setup, host_teardown),
		cmocka_unit_test_setup_teardown(test_host_smmu, host_setup, host_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
