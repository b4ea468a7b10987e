/*
 * test_viommu.c - SMMUv3 nesting through vIOMMU and vDEVICE objects
 * (iommufd/viommu.c, iommufd/host.c).
 *
 * Expected answers: Linux's iommufd viommu.c, hw_pagetable.c and
 * arm-smmu-v3-iommufd.c rules (6.17+ order, as cited in those files), the
 * uAPI (VIOMMU_ALLOC 0x90, VDEVICE_ALLOC 0x91; type ARM_SMMUV3 = 1; data
 * type ARM_SMMUV3 = 2; invalidation data type ARM_SMMUV3 = 1), and Arm IHI
 * 0070 for the structures the guest builds: STE word 0 (V bit 0, Config
 * bits 3:1, S1ContextPtr bits 51:6), the CD (T0SZ 5:0, TG0 7:6, EPD1 30,
 * V 31, IPS 34:32, AA64 41, R 45, A 46, ASID 63:48; TTB0 in word 1 bits
 * 51:4), commands (opcode 7:0; TLBI_NH_VA 0x12 with VMID 47:32, ASID 63:48
 * and the address in word 1 bits 63:12; TLBI_NH_ASID 0x11; TLBI_NSNH_ALL
 * 0x30; CFGI_CD 0x05 with the StreamID in 63:32; CMD_SYNC 0x46), and the
 * VMSAv8-64 4 KiB-granule descriptors (table/page: bits 1:0 = 11, AP[1]
 * bit 6 for unprivileged access, AF bit 10).
 *
 * The second group is the selftest mock's vIOMMU (type 0xdeadbeef), with
 * the answers of Linux's selftest.c, iommufd_test.h and
 * tools/testing/selftests/iommu/iommufd.c (iommufd_viommu fixture:
 * viommu_alloc_with_data, vdevice_cache, hw_queue, viommu_alloc_nested)
 * and of iommufd/viommu.c and main.c for HW_QUEUE_ALLOC (0x94) and mmap.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <cmocka.h>
#include <linux/vfio.h>

#include <iommusim/iommusim.h>
#include <iommusim/iommufd.h>
#include "iommufd/uapi.h"
#include "iofd_test.h"

static const char smmu_model[] =
	"{\"arch\":\"smmuv3\",\"haw\":48,\"smmuv3\":{"
	"\"idr0\":{\"S2P\":1,\"S1P\":1,\"TTF\":2,\"COHACC\":1,\"ASID16\":1,\"VMID16\":1,"
	"\"TTENDIAN\":2,\"ST_LEVEL\":1,\"CD2L\":1,\"STALL_MODEL\":1},"
	"\"idr1\":{\"SIDSIZE\":16,\"SSIDSIZE\":8,\"EVENTQS\":7,\"CMDQS\":8},"
	"\"idr5\":{\"OAS\":5,\"GRAN4K\":1}},"
	"\"caches\":{\"iotlb\":{\"entries\":64,\"ways\":4}}}";

#define SID 0x0020
#define VSID 0x42
#define GUEST_SIZE (32 * 4096)
#define VA UINT64_C(0x40000000)
#define ASID 7

struct fx {
	struct iofd_ctx *ctx;
	struct tfds files; /* descriptors ioctls make (vEVENT queues) */
	uint8_t *guest;
	uint32_t dev, ioas, s2, viommu;
};

static long fioc(struct fx *f, unsigned nr, void *arg)
{
	return iofd_ioctl(f->ctx, IOFD_REQ(nr), (uintptr_t)arg);
}

static void put64(struct fx *f, uint64_t ipa, uint64_t v)
{
	memcpy(f->guest + ipa, &v, 8);
}

#define DESC (UINT64_C(3))                                   /* table or page */
#define PAGE_ATTRS ((UINT64_C(1) << 6) | (UINT64_C(1) << 10)) /* AP[1], AF */

/* The guest's CD at IPA 0x1000, tables at 0x2000.. mapping VA -> 0x8000,
 * VA + 4 KiB -> 0x9000. */
static void build_guest(struct fx *f)
{
	uint64_t cd0 = 16 /* T0SZ: 48-bit VA */ | (UINT64_C(1) << 30) /* EPD1 */ |
		       (UINT64_C(1) << 31) /* V */ | (UINT64_C(5) << 32) /* IPS 48 bits */ |
		       (UINT64_C(1) << 41) /* AA64 */ | (UINT64_C(1) << 45) /* R */ |
		       (UINT64_C(1) << 46) /* A */ | ((uint64_t)ASID << 48);
	put64(f, 0x1000, cd0);
	put64(f, 0x1008, 0x2000); /* TTB0 */
	put64(f, 0x2000 + 8 * 0, 0x3000 | DESC); /* L0[0] */
	put64(f, 0x3000 + 8 * 1, 0x4000 | DESC); /* L1[1]: VA 1 GiB */
	put64(f, 0x4000 + 8 * 0, 0x5000 | DESC); /* L2[0] */
	put64(f, 0x5000 + 8 * 0, 0x8000 | DESC | PAGE_ATTRS);
	put64(f, 0x5000 + 8 * 1, 0x9000 | DESC | PAGE_ATTRS);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct ims_model *m;
	char err[256];
	if (!f || ims_model_parse(smmu_model, "smmu", &m, err, sizeof(err)) ||
	    iofd_host_init(m, err, sizeof(err)))
		return -1;
	f->ctx = tctx_open(&f->files, IOFD_ABI_NEWEST);
	f->guest = mmap(NULL, GUEST_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
			0);
	if (!f->ctx || f->guest == MAP_FAILED || iofd_host_bind(f->ctx, SID, &f->dev))
		return -1;
	struct iofd_ioas_alloc a = {.size = sizeof(a)};
	if (fioc(f, IOFD_NR_IOAS_ALLOC, &a))
		return -1;
	f->ioas = a.out_ioas_id;
	struct iofd_ioas_map mp = {.size = sizeof(mp),
				   .flags = IOFD_MAP_FIXED_IOVA | IOFD_MAP_READABLE |
					    IOFD_MAP_WRITEABLE,
				   .ioas_id = f->ioas,
				   .user_va = (uintptr_t)f->guest,
				   .length = GUEST_SIZE};
	struct iofd_hwpt_alloc h = {.size = sizeof(h), .flags = IOFD_HWPT_ALLOC_NEST_PARENT,
				    .dev_id = f->dev, .pt_id = f->ioas};
	if (fioc(f, IOFD_NR_IOAS_MAP, &mp) || fioc(f, IOFD_NR_HWPT_ALLOC, &h))
		return -1;
	f->s2 = h.out_hwpt_id;
	struct iofd_viommu_alloc v = {.size = sizeof(v), .type = 1, .dev_id = f->dev,
				      .hwpt_id = f->s2};
	if (fioc(f, IOFD_NR_VIOMMU_ALLOC, &v))
		return -1;
	f->viommu = v.out_viommu_id;
	build_guest(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	tfd_close_all(&f->files);
	iofd_close(f->ctx);
	munmap(f->guest, GUEST_SIZE);
	iofd_host_fini();
	free(f);
	return iofd_host_iommu() ? -1 : 0;
}

static long vdevice(struct fx *f, uint32_t viommu, uint32_t dev, uint64_t virt, uint32_t *out)
{
	struct iofd_vdevice_alloc v = {.size = sizeof(v), .viommu_id = viommu, .dev_id = dev,
				       .virt_id = virt};
	long rc = fioc(f, IOFD_NR_VDEVICE_ALLOC, &v);
	if (out)
		*out = v.out_vdevice_id;
	return rc;
}

static long nested(struct fx *f, uint64_t ste0, uint64_t ste1, uint32_t flags, uint32_t len,
		   uint32_t *out)
{
	struct iofd_hwpt_arm_smmuv3 d = {{ste0, ste1}};
	struct iofd_hwpt_alloc a = {.size = sizeof(a), .flags = flags, .dev_id = f->dev,
				    .pt_id = f->viommu, .data_type = 2, .data_len = len,
				    .data_uptr = (uintptr_t)&d};
	long rc = fioc(f, IOFD_NR_HWPT_ALLOC, &a);
	*out = a.out_hwpt_id;
	return rc;
}

/* A stage-1 guest STE pointing at the CD at IPA 0x1000. */
#define STE_S1 (UINT64_C(1) | (UINT64_C(5) << 1) | 0x1000)

static long inval(struct fx *f, uint32_t id, const uint64_t (*cmds)[2], uint32_t n,
		  uint32_t entry_len, uint32_t *done)
{
	struct iofd_hwpt_invalidate v = {.size = sizeof(v), .hwpt_id = id,
					 .data_uptr = (uintptr_t)cmds, .data_type = 1,
					 .entry_len = entry_len, .entry_num = n};
	long rc = fioc(f, IOFD_NR_HWPT_INVALIDATE, &v);
	*done = v.entry_num;
	return rc;
}

static void test_viommu_alloc_rules(void **state)
{
	struct fx *f = *state;
	struct iofd_viommu_alloc v = {.size = sizeof(v), .type = 1, .dev_id = f->dev,
				      .hwpt_id = f->s2};
	v.flags = 1;
	assert_int_equal(fioc(f, IOFD_NR_VIOMMU_ALLOC, &v), -EOPNOTSUPP);
	v.flags = 0;
	v.type = 0; /* DEFAULT is reserved */
	assert_int_equal(fioc(f, IOFD_NR_VIOMMU_ALLOC, &v), -EOPNOTSUPP);
	v.type = 2; /* Tegra241 CMDQV: not this hardware */
	assert_int_equal(fioc(f, IOFD_NR_VIOMMU_ALLOC, &v), -EOPNOTSUPP);
	v.type = 1;
	v.dev_id = 999;
	assert_int_equal(fioc(f, IOFD_NR_VIOMMU_ALLOC, &v), -ENOENT);
	v.dev_id = f->dev;
	v.hwpt_id = f->ioas; /* not a paging HWPT */
	assert_int_equal(fioc(f, IOFD_NR_VIOMMU_ALLOC, &v), -ENOENT);
	struct iofd_hwpt_alloc h = {.size = sizeof(h), .dev_id = f->dev, .pt_id = f->ioas};
	assert_int_equal(fioc(f, IOFD_NR_HWPT_ALLOC, &h), 0);
	v.hwpt_id = h.out_hwpt_id; /* paging, not a nest parent */
	assert_int_equal(fioc(f, IOFD_NR_VIOMMU_ALLOC, &v), -EINVAL);
	/* The vIOMMU uses its stage 2. */
	struct iofd_destroy d = {.size = sizeof(d), .id = f->s2};
	assert_int_equal(fioc(f, IOFD_NR_DESTROY, &d), -EBUSY);
	/* Linux 6.12 has no vIOMMUs. */
	struct iofd_ctx *old = iofd_open(&iofd_uaccess_self, IOFD_ABI_6_12);
	assert_int_equal(iofd_ioctl(old, IOFD_REQ(IOFD_NR_VIOMMU_ALLOC), (uintptr_t)&v), -ENOTTY);
	iofd_close(old);
}

static void test_vdevice_rules(void **state)
{
	struct fx *f = *state;
	uint32_t vd;
	assert_int_equal(vdevice(f, 999, f->dev, VSID, &vd), -ENOENT);
	assert_int_equal(vdevice(f, f->viommu, 999, VSID, &vd), -ENOENT);
	assert_int_equal(vdevice(f, f->viommu, f->dev, VSID, &vd), 0);
	/* One vDEVICE per device. */
	assert_int_equal(vdevice(f, f->viommu, f->dev, VSID + 1, NULL), -EEXIST);
	/* A virtual ID once per vIOMMU. */
	uint32_t dev2;
	assert_int_equal(iofd_host_bind(f->ctx, SID + 1, &dev2), 0);
	assert_int_equal(vdevice(f, f->viommu, dev2, VSID, NULL), -EEXIST);
	assert_int_equal(vdevice(f, f->viommu, dev2, VSID + 1, NULL), 0);
	/* The vDEVICE holds the vIOMMU; destroying it frees the ID. */
	struct iofd_destroy d = {.size = sizeof(d), .id = f->viommu};
	assert_int_equal(fioc(f, IOFD_NR_DESTROY, &d), -EBUSY);
	d.id = vd;
	assert_int_equal(fioc(f, IOFD_NR_DESTROY, &d), 0);
	assert_int_equal(vdevice(f, f->viommu, f->dev, VSID, &vd), 0);
	/* A device going away takes its vDEVICE with it. */
	size_t before = iofd_object_count(f->ctx);
	assert_int_equal(iofd_host_unbind(f->ctx, dev2), 0);
	assert_int_equal(iofd_object_count(f->ctx), before - 2);
}

static void test_vste_rules(void **state)
{
	struct fx *f = *state;
	uint32_t h;
	/* Wrapper errors: flags, size. */
	assert_int_equal(nested(f, STE_S1, 0, IOFD_HWPT_ALLOC_NEST_PARENT, 16, &h), -EOPNOTSUPP);
	assert_int_equal(nested(f, STE_S1, 0, 0, 8, &h), -EINVAL);
	assert_int_equal(nested(f, STE_S1, 0, 0, 24, &h), -EINVAL);
	/* Content errors are EIO. */
	assert_int_equal(nested(f, STE_S1 | (UINT64_C(1) << 52), 0, 0, 16, &h), -EIO);
	assert_int_equal(nested(f, STE_S1, UINT64_C(1) << 8, 0, 16, &h), -EIO);
	assert_int_equal(nested(f, UINT64_C(1) | (UINT64_C(6) << 1), 0, 0, 16, &h), -EIO);
	assert_int_equal(nested(f, UINT64_C(1) | (UINT64_C(7) << 1), 0, 0, 16, &h), -EIO);
	assert_int_equal(nested(f, STE_S1, UINT64_C(2) << 28 /* EATS 2 */, 0, 16, &h), -EIO);
	/* V = 0: anything goes, and it aborts. */
	assert_int_equal(nested(f, UINT64_C(0xfffffffffffffffe), ~UINT64_C(0), 0, 16, &h), 0);
	uint32_t pt = h;
	assert_int_equal(iofd_host_attach(f->ctx, f->dev, &pt), 0); /* no vDEVICE needed */
	char b;
	assert_int_equal(iofd_host_dma(SID, 0x8000, &b, 1, false, NULL), -EFAULT);
	/* Bypass: the guest's IPA goes straight to stage 2. */
	memcpy(f->guest + 0x8000, "ipa", 4);
	assert_int_equal(nested(f, UINT64_C(1) | (UINT64_C(4) << 1), 0, 0, 16, &h), 0);
	pt = h;
	assert_int_equal(iofd_host_attach(f->ctx, f->dev, &pt), 0);
	char got[4];
	assert_int_equal(iofd_host_dma(SID, 0x8000, got, 4, false, NULL), 0);
	assert_string_equal(got, "ipa");
	/* Stage 1 needs the device's vDEVICE in that vIOMMU. */
	assert_int_equal(nested(f, STE_S1, 0, 0, 16, &h), 0);
	pt = h;
	assert_int_equal(iofd_host_attach(f->ctx, f->dev, &pt), -ENOENT);
	assert_int_equal(vdevice(f, f->viommu, f->dev, VSID, NULL), 0);
	pt = h;
	assert_int_equal(iofd_host_attach(f->ctx, f->dev, &pt), 0);
	/* A nested HWPT straight from the stage 2 is not SMMUv3's way. */
	struct iofd_hwpt_arm_smmuv3 d = {{STE_S1, 0}};
	struct iofd_hwpt_alloc a = {.size = sizeof(a), .dev_id = f->dev, .pt_id = f->s2,
				    .data_type = 2, .data_len = 16, .data_uptr = (uintptr_t)&d};
	assert_int_equal(fioc(f, IOFD_NR_HWPT_ALLOC, &a), -EOPNOTSUPP);
}

static void test_nested_dma_and_invalidation(void **state)
{
	struct fx *f = *state;
	uint32_t h, done;
	assert_int_equal(vdevice(f, f->viommu, f->dev, VSID, NULL), 0);
	assert_int_equal(nested(f, STE_S1, 0, 0, 16, &h), 0);
	uint32_t pt = h;
	assert_int_equal(iofd_host_attach(f->ctx, f->dev, &pt), 0);
	memcpy(f->guest + 0x8000, "old", 4);
	memcpy(f->guest + 0xa000, "new", 4);
	char got[4];
	assert_int_equal(iofd_host_dma(SID, VA, got, 4, false, NULL), 0);
	assert_string_equal(got, "old");
	/* The guest remaps VA; the IOTLB still holds the old page. */
	put64(f, 0x5000, 0xa000 | DESC | PAGE_ATTRS);
	assert_int_equal(iofd_host_dma(SID, VA, got, 4, false, NULL), 0);
	assert_string_equal(got, "old");
	/* TLBI_NH_ASID of another ASID leaves it; of this ASID drops it (the
	 * guest's VMID field is overwritten with its stage 2's). */
	uint64_t cmd[3][2] = {{0x11 | ((uint64_t)(ASID + 1) << 48) | (UINT64_C(0x3f) << 32), 0}};
	assert_int_equal(inval(f, f->viommu, cmd, 1, 16, &done), 0);
	assert_int_equal(done, 1);
	assert_int_equal(iofd_host_dma(SID, VA, got, 4, false, NULL), 0);
	assert_string_equal(got, "old");
	cmd[0][0] = 0x12 | ((uint64_t)ASID << 48) | (UINT64_C(0x3f) << 32); /* TLBI_NH_VA */
	cmd[0][1] = VA | 1;                                                 /* Leaf */
	assert_int_equal(inval(f, f->viommu, cmd, 1, 16, &done), 0);
	assert_int_equal(iofd_host_dma(SID, VA, got, 4, false, NULL), 0);
	assert_string_equal(got, "new");
	/* TLBI_NSNH_ALL from a guest means all of its own translations. */
	put64(f, 0x5000, 0x8000 | DESC | PAGE_ATTRS);
	assert_int_equal(iofd_host_dma(SID, VA, got, 4, false, NULL), 0);
	assert_string_equal(got, "new");
	cmd[0][0] = 0x30;
	cmd[0][1] = 0;
	assert_int_equal(inval(f, f->viommu, cmd, 1, 16, &done), 0);
	assert_int_equal(iofd_host_dma(SID, VA, got, 4, false, NULL), 0);
	assert_string_equal(got, "old");
	/* Commands a guest may not send stop the array: EIO, entry_num = index. */
	cmd[0][0] = 0x05 | ((uint64_t)VSID << 32); /* CFGI_CD of a known vSID */
	cmd[1][0] = 0x46;                          /* CMD_SYNC */
	assert_int_equal(inval(f, f->viommu, cmd, 2, 16, &done), -EIO);
	assert_int_equal(done, 1);
	cmd[1][0] = 0x05 | ((uint64_t)(VSID + 5) << 32); /* a vSID without a vDEVICE */
	assert_int_equal(inval(f, f->viommu, cmd, 2, 16, &done), -EIO);
	assert_int_equal(done, 1);
	/* The array rules. */
	assert_int_equal(inval(f, f->viommu, cmd, 0, 16, &done), -EINVAL);
	uint64_t wide[2][3] = {{0x10, 0, 0}, {0x10, 0, 1}};
	assert_int_equal(inval(f, f->viommu, (const uint64_t(*)[2])wide, 2, 24, &done), -E2BIG);
	assert_int_equal(done, 0);
	wide[1][2] = 0;
	assert_int_equal(inval(f, f->viommu, (const uint64_t(*)[2])wide, 2, 24, &done), 0);
	assert_int_equal(done, 2);
	/* Invalidation goes through the vIOMMU, not the nested HWPT. */
	assert_int_equal(inval(f, h, cmd, 1, 16, &done), -EOPNOTSUPP);
	assert_int_equal(done, 0);
}

/* SMMUv3 events of a guest's device reach its vIOMMU's ARM_SMMUV3 vEVENT
 * queue (uAPI iommu_vevent_arm_smmuv3: the raw 256-bit record of IHI 0070
 * 7.3, StreamID replaced by the vDEVICE's virtual ID); a stage-2 fault is
 * the host's and is not passed on (Linux's arm_smmu_handle_event). */
static void test_guest_events(void **state)
{
	struct fx *f = *state;
	uint32_t h;
	assert_int_equal(vdevice(f, f->viommu, f->dev, VSID, NULL), 0);
	assert_int_equal(nested(f, STE_S1, 0, 0, 16, &h), 0);
	uint32_t pt = h;
	assert_int_equal(iofd_host_attach(f->ctx, f->dev, &pt), 0);
	struct iofd_veventq_alloc q = {.size = sizeof(q), .viommu_id = f->viommu,
				       .type = 1 /* IOMMU_VEVENTQ_TYPE_ARM_SMMUV3 */,
				       .veventq_depth = 8};
	assert_int_equal(fioc(f, IOFD_NR_VEVENTQ_ALLOC, &q), 0);
	struct iofd_file *file = tfd_file_of(&f->files, (int)q.out_veventq_fd);
	assert_non_null(file);

	/* Stage 1 has no entry for VA + 8 KiB: F_TRANSLATION (0x10). */
	char got[4];
	assert_int_equal(iofd_host_dma(SID, VA + 0x2000 + 16, got, 4, false, NULL), -EFAULT);
	uint8_t buf[128];
	long n = iofd_file_read(file, buf, sizeof(buf), 0);
	assert_int_equal(n, 8 + 32);
	uint32_t hdr[2];
	uint64_t evt[4];
	memcpy(hdr, buf, 8);
	memcpy(evt, buf + 8, 32);
	assert_int_equal(hdr[0], 0); /* flags */
	assert_int_equal(evt[0] & 0xff, 0x10);
	assert_int_equal(evt[0] >> 32, VSID);
	assert_int_equal(evt[1] >> 39 & 1, 0); /* not stage 2 */
	assert_int_equal(evt[1] >> 35 & 1, 1); /* RnW: a read */
	assert_true(evt[2] == VA + 0x2000 + 16); /* InputAddr */

	/* Stage 1 maps VA + 12 KiB to an IPA stage 2 lacks: the host's fault. */
	put64(f, 0x5000 + 8 * 3, 0x100000 | DESC | PAGE_ATTRS);
	assert_int_equal(iofd_host_dma(SID, VA + 0x3000, got, 4, false, NULL), -EFAULT);
	assert_int_equal(iofd_file_read(file, buf, sizeof(buf), 0), 0);
	/* A translation that works posts nothing. */
	assert_int_equal(iofd_host_dma(SID, VA, got, 4, false, NULL), 0);
	assert_int_equal(iofd_file_read(file, buf, sizeof(buf), 0), 0);
}

/* ------------------------------------------------------------------ */
/* The selftest mock's vIOMMU */

/* iommufd_test.h (newest) and the uAPI header */
#define IOMMU_VIOMMU_TYPE_SELFTEST 0xdeadbeefu
#define IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST 0xdeadbeefu
#define IOMMU_HW_QUEUE_TYPE_SELFTEST 0xdeadbeefu
#define IOMMU_TEST_HW_QUEUE_MAX 2u
#define IOMMU_TEST_DEV_CACHE_DEFAULT 0xbaddadu
#define MOCK_DEV_CACHE_NUM 4u
#define IOMMU_TEST_OP_DEV_CHECK_CACHE 16u
#define IOMMU_HWPT_ALLOC_PASID (1u << 3)

#define MBUF_SIZE (64u << 10)

static uint32_t m_ioas, m_stdev, m_idev, m_s2, m_viommu;
static size_t psz;

static long m_viommu_alloc(uint32_t type, const void *data, uint32_t len, uint32_t *out)
{
	struct iofd_viommu_alloc v = {.size = sizeof(v), .type = type, .dev_id = m_idev,
				      .hwpt_id = m_s2, .data_len = len,
				      .data_uptr = (uintptr_t)data};
	long rc = ioc(ctx, IOFD_NR_VIOMMU_ALLOC, &v);
	*out = v.out_viommu_id;
	return rc;
}

static int mock_setup(void **state)
{
	(void)state;
	psz = (size_t)sysconf(_SC_PAGESIZE);
	if (fixture_open() || fixture_buffer(MBUF_SIZE, psz))
		return -1;
	m_ioas = ioas_alloc(ctx);
	if (mock_domain(ctx, m_ioas, &m_stdev, NULL, &m_idev) ||
	    hwpt_alloc(ctx, m_idev, m_ioas, IOMMU_HWPT_ALLOC_NEST_PARENT, &m_s2) ||
	    m_viommu_alloc(IOMMU_VIOMMU_TYPE_SELFTEST, NULL, 0, &m_viommu))
		return -1;
	return 0;
}

static int mock_teardown(void **state)
{
	(void)state;
	int rc = fixture_close(MBUF_SIZE);
	fixture_buffer_free();
	return rc;
}

static long m_vdevice(uint32_t dev, uint64_t virt, uint32_t *out)
{
	struct iofd_vdevice_alloc v = {.size = sizeof(v), .viommu_id = m_viommu, .dev_id = dev,
				       .virt_id = virt};
	long rc = ioc(ctx, IOFD_NR_VDEVICE_ALLOC, &v);
	if (out)
		*out = v.out_vdevice_id;
	return rc;
}

static long dev_check_cache(uint32_t dev, uint32_t id, uint32_t value)
{
	struct iofd_test_cmd t = {.size = sizeof(t), .op = IOMMU_TEST_OP_DEV_CHECK_CACHE, .id = dev};
	t.check_dev_cache.id = id;
	t.check_dev_cache.cache = value;
	return ioc(ctx, IOFD_NR_TEST_CMD, &t);
}

static long hw_queue(uint32_t viommu, uint32_t type, uint32_t index, uint64_t iova, uint64_t len,
		     uint32_t *out)
{
	struct iofd_hw_queue_alloc q = {.size = sizeof(q), .viommu_id = viommu, .type = type,
					.index = index, .nesting_parent_iova = iova,
					.length = len};
	long rc = ioc(ctx, IOFD_NR_HW_QUEUE_ALLOC, &q);
	if (out)
		*out = q.out_hw_queue_id;
	return rc;
}

static void test_mock_viommu_alloc(void **state)
{
	(void)state;
	uint32_t v;
	/* Another type, or a stage 2 that is not a mock nest parent. */
	assert_int_equal(m_viommu_alloc(IOFD_VIOMMU_TYPE_ARM_SMMUV3, NULL, 0, &v), -EOPNOTSUPP);
	uint32_t paging;
	assert_int_equal(hwpt_alloc(ctx, m_idev, m_ioas, 0, &paging), 0);
	struct iofd_viommu_alloc a = {.size = sizeof(a), .type = IOMMU_VIOMMU_TYPE_SELFTEST,
				      .dev_id = m_idev, .hwpt_id = paging};
	assert_int_equal(ioc(ctx, IOFD_NR_VIOMMU_ALLOC, &a), -EINVAL);
	/* Driver data shorter than up to out_data: EINVAL; NULL with a length: EFAULT. */
	struct iofd_viommu_selftest data = {.in_data = 0xbadbeef};
	assert_int_equal(m_viommu_alloc(IOMMU_VIOMMU_TYPE_SELFTEST, &data, 4, &v), -EINVAL);
	assert_int_equal(m_viommu_alloc(IOMMU_VIOMMU_TYPE_SELFTEST, NULL, sizeof(data), &v),
			 -EFAULT);
	/* The vIOMMU uses its stage 2. */
	assert_int_equal(destroy(ctx, m_s2), -EBUSY);
	/* Nested HWPTs through it: the flag PASID only, data type 0xdead. */
	uint32_t nested;
	struct iofd_hwpt_selftest d = {.iotlb = IOMMU_TEST_IOTLB_DEFAULT};
	assert_int_equal(hwpt_alloc_full(ctx, m_idev, m_viommu, IOMMU_HWPT_ALLOC_NEST_PARENT,
					 IOMMU_HWPT_DATA_SELFTEST, &d, sizeof(d), 0, &nested),
			 -EOPNOTSUPP);
	assert_int_equal(hwpt_alloc_full(ctx, m_idev, m_viommu, 0, IOMMU_HWPT_DATA_SELFTEST + 1,
					 &d, sizeof(d), 0, &nested), -EOPNOTSUPP);
	assert_int_equal(hwpt_alloc_nested(ctx, m_idev, m_viommu, 0, 0, IOMMU_TEST_IOTLB_DEFAULT,
					   &nested), 0);
	assert_iotlb_all(ctx, nested, IOMMU_TEST_IOTLB_DEFAULT);
	assert_int_equal(destroy(ctx, m_viommu), -EBUSY);
	/* Attaching through the vIOMMU needs the device's vDEVICE there. */
	uint32_t pt = nested;
	assert_int_equal(mock_replace(ctx, m_stdev, &pt), -ENOENT);
	assert_int_equal(m_vdevice(m_idev, 0x99, NULL), 0);
	pt = nested;
	assert_int_equal(mock_replace(ctx, m_stdev, &pt), 0);
	assert_int_equal(pt, nested);
}

static void test_mock_viommu_data_and_mmap(void **state)
{
	(void)state;
	uint32_t v;
	struct iofd_viommu_selftest data = {.in_data = 0xbadbeef};
	assert_int_equal(m_viommu_alloc(IOMMU_VIOMMU_TYPE_SELFTEST, &data, sizeof(data), &v), 0);
	assert_int_equal(data.out_data, data.in_data);
	assert_int_equal(data.out_mmap_length, 2 * psz);
	assert_true(data.out_mmap_offset != 0 && data.out_mmap_offset % psz == 0);
	uint64_t off = data.out_mmap_offset, len = data.out_mmap_length;
	/* Only the exact offset and length (Linux's iommufd_fops_mmap). */
	int fd;
	struct iofd_mapping *m;
	int prot = PROT_READ | PROT_WRITE;
	assert_int_equal(iofd_mmap(ctx, off + psz, len, prot, MAP_SHARED, &fd, &m), -ENXIO);
	assert_int_equal(iofd_mmap(ctx, off + 2 * psz, len, prot, MAP_SHARED, &fd, &m), -ENXIO);
	assert_int_equal(iofd_mmap(ctx, off, len / 2, prot, MAP_SHARED, &fd, &m), -ENXIO);
	assert_int_equal(iofd_mmap(ctx, off, len * 2, prot, MAP_SHARED, &fd, &m), -ENXIO);
	assert_int_equal(iofd_mmap(ctx, off, len, prot, MAP_PRIVATE, &fd, &m), -EINVAL);
	assert_int_equal(iofd_mmap(ctx, off, len, prot | PROT_EXEC, MAP_SHARED, &fd, &m), -EPERM);
	assert_int_equal(destroy(ctx, v), 0); /* never mapped: it may go */
	assert_int_equal(m_viommu_alloc(IOMMU_VIOMMU_TYPE_SELFTEST, &data, sizeof(data), &v), 0);
	off = data.out_mmap_offset;
	assert_int_equal(iofd_mmap(ctx, off, len, prot, MAP_SHARED, &fd, &m), 0);
	uint32_t *page = mmap(NULL, len, prot, MAP_SHARED, fd, 0);
	assert_true(page != MAP_FAILED);
	assert_int_equal(page[0], data.in_data);
	/* While mapped the vIOMMU cannot be destroyed. */
	assert_int_equal(destroy(ctx, v), -EBUSY);
	munmap(page, len);
	iofd_munmap(m);
	assert_int_equal(destroy(ctx, v), 0);
	assert_int_equal(iofd_mmap(ctx, off, len, prot, MAP_SHARED, &fd, &m), -ENXIO);
	/* A second vIOMMU with data gets a region of its own. */
	uint32_t v2;
	struct iofd_viommu_selftest d2 = {.in_data = 0x1234};
	assert_int_equal(m_viommu_alloc(IOMMU_VIOMMU_TYPE_SELFTEST, &data, sizeof(data), &v), 0);
	assert_int_equal(m_viommu_alloc(IOMMU_VIOMMU_TYPE_SELFTEST, &d2, sizeof(d2), &v2), 0);
	assert_true(d2.out_mmap_offset != data.out_mmap_offset);
	assert_int_equal(d2.out_data, 0x1234);
	/* Closing the context with a mapping left: the mapping holds it. */
	assert_int_equal(iofd_mmap(ctx, d2.out_mmap_offset, len, PROT_READ, MAP_SHARED, &fd, &m), 0);
	page = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	assert_true(page != MAP_FAILED);
	iofd_close(ctx);
	ctx = NULL;
	assert_int_equal(page[0], 0x1234);
	munmap(page, len);
	iofd_munmap(m); /* the last reference: everything goes */
	assert_int_equal(fixture_open(), 0);
	/* Linux 6.12's /dev/iommu has no mmap. */
	struct iofd_ctx *old = iofd_open(&iofd_uaccess_self, IOFD_ABI_6_12);
	assert_int_equal(iofd_mmap(old, psz, len, PROT_READ, MAP_SHARED, &fd, &m), -ENODEV);
	iofd_close(old);
}

static void test_mock_vdevice_cache(void **state)
{
	(void)state;
	struct iofd_viommu_invalidate_selftest inv[2] = {{0}};
	uint32_t num, i;
	for (i = 0; i < MOCK_DEV_CACHE_NUM; i++)
		assert_int_equal(dev_check_cache(m_idev, i, IOMMU_TEST_DEV_CACHE_DEFAULT), 0);
	assert_int_equal(dev_check_cache(m_idev, 4, IOMMU_TEST_DEV_CACHE_DEFAULT), -EINVAL);
	assert_int_equal(dev_check_cache(999, 0, IOMMU_TEST_DEV_CACHE_DEFAULT), -ENOENT);
	assert_int_equal(m_vdevice(m_idev, 0x99, NULL), 0);
	/* No entries with the right type: nothing done, no error. */
	num = 0;
	assert_int_equal(hwpt_invalidate(ctx, m_viommu, inv, IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST,
					 sizeof(inv[0]), &num), 0);
	/* Another type: EINVAL. */
	num = 1;
	inv[0].vdev_id = 0x99;
	assert_int_equal(hwpt_invalidate(ctx, m_viommu, inv, IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST + 1,
					 sizeof(inv[0]), &num), -EINVAL);
	assert_int_equal(num, 0);
	/* Unknown flags, cache_id > 3, unknown vdev_id: nothing done. */
	inv[0].flags = 2;
	num = 1;
	assert_int_equal(hwpt_invalidate(ctx, m_viommu, inv, IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST,
					 sizeof(inv[0]), &num), -EOPNOTSUPP);
	assert_int_equal(num, 0);
	inv[0].flags = 0;
	inv[0].cache_id = 4;
	num = 1;
	assert_int_equal(hwpt_invalidate(ctx, m_viommu, inv, IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST,
					 sizeof(inv[0]), &num), -EINVAL);
	inv[0].cache_id = 0;
	inv[0].vdev_id = 0x9a;
	num = 1;
	assert_int_equal(hwpt_invalidate(ctx, m_viommu, inv, IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST,
					 sizeof(inv[0]), &num), -EINVAL);
	assert_int_equal(num, 0);
	for (i = 0; i < MOCK_DEV_CACHE_NUM; i++)
		assert_int_equal(dev_check_cache(m_idev, i, IOMMU_TEST_DEV_CACHE_DEFAULT), 0);
	/* Entry 0, then a bad second entry: one done, entry 0 zeroed only. */
	inv[0].vdev_id = 0x99;
	inv[1] = inv[0];
	inv[1].cache_id = 7;
	num = 2;
	assert_int_equal(hwpt_invalidate(ctx, m_viommu, inv, IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST,
					 sizeof(inv[0]), &num), -EINVAL);
	assert_int_equal(num, 1);
	assert_int_equal(dev_check_cache(m_idev, 0, 0), 0);
	assert_int_equal(dev_check_cache(m_idev, 1, IOMMU_TEST_DEV_CACHE_DEFAULT), 0);
	/* Entries 2 and 3 by a longer entry, zero beyond our 12 bytes. */
	uint32_t wide[2][4] = {{0, 0x99, 2, 0}, {0, 0x99, 3, 0}};
	num = 2;
	assert_int_equal(hwpt_invalidate(ctx, m_viommu, wide, IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST,
					 sizeof(wide[0]), &num), 0);
	assert_int_equal(num, 2);
	assert_int_equal(dev_check_cache(m_idev, 2, 0), 0);
	assert_int_equal(dev_check_cache(m_idev, 3, 0), 0);
	assert_int_equal(dev_check_cache(m_idev, 1, IOMMU_TEST_DEV_CACHE_DEFAULT), 0);
	/* A non-zero byte there: E2BIG before anything is done. */
	wide[0][2] = 1;
	wide[1][3] = 5;
	num = 2;
	assert_int_equal(hwpt_invalidate(ctx, m_viommu, wide, IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST,
					 sizeof(wide[0]), &num), -E2BIG);
	assert_int_equal(num, 0);
	assert_int_equal(dev_check_cache(m_idev, 1, IOMMU_TEST_DEV_CACHE_DEFAULT), 0);
	/* Flag ALL: the whole cache, cache_id ignored. */
	inv[0].flags = IOMMU_TEST_INVALIDATE_FLAG_ALL;
	inv[0].cache_id = 3;
	num = 1;
	assert_int_equal(hwpt_invalidate(ctx, m_viommu, inv, IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST,
					 sizeof(inv[0]), &num), 0);
	for (i = 0; i < MOCK_DEV_CACHE_NUM; i++)
		assert_int_equal(dev_check_cache(m_idev, i, 0), 0);
}

static void test_mock_hw_queue(void **state)
{
	(void)state;
	uint64_t iova = MOCK_APERTURE_START, iova2 = 0;
	uint32_t q[2], v = m_viommu;
	const uint32_t T = IOMMU_HW_QUEUE_TYPE_SELFTEST;
	/* The IOAS is also VFIO's type1 compat container (set while it has no
	 * areas, as Linux requires), whose unmap may split areas. */
	struct iofd_vfio_ioas vi = {.size = sizeof(vi), .ioas_id = m_ioas, .op = IOFD_VFIO_IOAS_SET};
	assert_int_equal(ioc(ctx, IOFD_NR_VFIO_IOAS, &vi), 0);
	assert_int_equal(iofd_ioctl(ctx, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU), 0);
	assert_int_equal(hw_queue(v, 0 /* DEFAULT */, 0, iova, psz, &q[0]), -EOPNOTSUPP);
	assert_int_equal(hw_queue(v, T + 1, 0, iova, psz, &q[0]), -EOPNOTSUPP);
	struct iofd_hw_queue_alloc a = {.size = sizeof(a), .flags = 1, .viommu_id = v, .type = T,
					.nesting_parent_iova = iova, .length = psz};
	assert_int_equal(ioc(ctx, IOFD_NR_HW_QUEUE_ALLOC, &a), -EOPNOTSUPP);
	assert_int_equal(hw_queue(v, T, 0, iova, 0, &q[0]), -EINVAL);
	assert_int_equal(hw_queue(v, T, 0, ~UINT64_C(0), psz, &q[0]), -EOVERFLOW);
	assert_int_equal(hw_queue(m_ioas, T, 0, iova, psz, &q[0]), -ENOENT);
	/* Nothing mapped there yet. */
	assert_int_equal(hw_queue(v, T, 0, iova, psz, &q[0]), -ENOENT);
	assert_int_equal(map_fixed(ctx, m_ioas, buffer, psz, iova), 0);
	assert_int_equal(map(ctx, m_ioas, RW, buffer + psz, psz, &iova2), 0);
	/* Index 1 needs 0 first; MAX is out of range. */
	assert_int_equal(hw_queue(v, T, 1, iova, psz, &q[0]), -EIO);
	assert_int_equal(hw_queue(v, T, IOMMU_TEST_HW_QUEUE_MAX, iova, psz, &q[0]), -EINVAL);
	size_t before = iofd_object_count(ctx);
	assert_int_equal(hw_queue(v, T, 0, iova, psz, &q[0]), 0);
	assert_int_equal(iofd_object_count(ctx), before + 1);
	/* Linux pins a page once per mapping, however many users. */
	assert_int_equal(check_refs(ctx, buffer, psz, 1), 0);
	assert_int_equal(hw_queue(v, T, 0, iova, psz, &q[1]), -EEXIST);
	/* The queue owns its IOVA: no unmap; the next page is not owned. */
	assert_int_equal(unmap(ctx, m_ioas, iova, psz), -EBUSY);
	assert_int_equal(unmap(ctx, m_ioas, 0, U64MAX), -EBUSY);
	assert_int_equal(unmap(ctx, m_ioas, iova2, psz), 0);
	/* Index 1, unaligned, inside the same page. */
	assert_int_equal(hw_queue(v, T, 1, iova + psz / 2, psz / 2, &q[1]), 0);
	/* Index 1 depends on 0; both use the vIOMMU. */
	assert_int_equal(destroy(ctx, q[0]), -EBUSY);
	assert_int_equal(destroy(ctx, v), -EBUSY);
	/* Nor through VFIO's type1 compat, which may split areas: refused
	 * before anything is cut (a failing ioctl changes nothing). */
	struct vfio_iommu_type1_dma_unmap vu = {.argsz = sizeof(vu), .iova = iova,
						.size = MOCK_PAGE_SIZE};
	assert_int_equal(iofd_ioctl(ctx, VFIO_IOMMU_UNMAP_DMA, (uintptr_t)&vu), -EBUSY);
	assert_int_equal(destroy(ctx, q[1]), 0);
	assert_int_equal(destroy(ctx, q[0]), 0);
	/* Still one area: half of it cannot be unmapped alone. */
	assert_int_equal(unmap(ctx, m_ioas, iova, MOCK_PAGE_SIZE), -ENOENT);
	assert_int_equal(unmap(ctx, m_ioas, iova, psz), 0);
	assert_int_equal(check_refs(ctx, buffer, psz, 0), 0);
	/* Linux 6.12 has no HW queues. */
	struct iofd_ctx *old = iofd_open(&iofd_uaccess_self, IOFD_ABI_6_12);
	a.flags = 0;
	assert_int_equal(iofd_ioctl(old, IOFD_REQ(IOFD_NR_HW_QUEUE_ALLOC), (uintptr_t)&a), -ENOTTY);
	/* Nor DEV_CHECK_CACHE (16) or TRIGGER_VEVENT (17): its selftest driver
	 * stops at TRIGGER_IOPF (15) and refuses the rest with EOPNOTSUPP. */
	for (uint32_t op = 16; op <= 17; op++) {
		struct iofd_test_cmd t = {.size = sizeof(t), .op = op};
		assert_int_equal(iofd_ioctl(old, IOFD_REQ(IOFD_NR_TEST_CMD), (uintptr_t)&t),
				 -EOPNOTSUPP);
	}
	iofd_close(old);
}

static void test_smmu_no_hw_queue(void **state)
{
	struct fx *f = *state;
	struct iofd_hw_queue_alloc a = {.size = sizeof(a), .viommu_id = f->viommu, .type = 1,
					.nesting_parent_iova = 0, .length = 4096};
	/* The SMMUv3 driver has no HW queues (Tegra241 CMDQV is not modelled). */
	assert_int_equal(fioc(f, IOFD_NR_HW_QUEUE_ALLOC, &a), -EOPNOTSUPP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_smmu_no_hw_queue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mock_viommu_alloc, mock_setup, mock_teardown),
		cmocka_unit_test_setup_teardown(test_mock_viommu_data_and_mmap, mock_setup,
						mock_teardown),
		cmocka_unit_test_setup_teardown(test_mock_vdevice_cache, mock_setup, mock_teardown),
		cmocka_unit_test_setup_teardown(test_mock_hw_queue, mock_setup, mock_teardown),
		cmocka_unit_test_setup_teardown(test_viommu_alloc_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vdevice_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vste_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nested_dma_and_invalidation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_guest_events, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
