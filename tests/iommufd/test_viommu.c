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

#include <iommusim/iommusim.h>
#include <iommusim/iommufd.h>
#include "iommufd/uapi.h"

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
	uint8_t *guest;
	uint32_t dev, ioas, s2, viommu;
};

static long ioc(struct fx *f, unsigned nr, void *arg)
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
	f->ctx = iofd_open(&iofd_uaccess_self, IOFD_ABI_NEWEST);
	f->guest = mmap(NULL, GUEST_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
			0);
	if (!f->ctx || f->guest == MAP_FAILED || iofd_host_bind(f->ctx, SID, &f->dev))
		return -1;
	struct iofd_ioas_alloc a = {.size = sizeof(a)};
	if (ioc(f, IOFD_NR_IOAS_ALLOC, &a))
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
	if (ioc(f, IOFD_NR_IOAS_MAP, &mp) || ioc(f, IOFD_NR_HWPT_ALLOC, &h))
		return -1;
	f->s2 = h.out_hwpt_id;
	struct iofd_viommu_alloc v = {.size = sizeof(v), .type = 1, .dev_id = f->dev,
				      .hwpt_id = f->s2};
	if (ioc(f, IOFD_NR_VIOMMU_ALLOC, &v))
		return -1;
	f->viommu = v.out_viommu_id;
	build_guest(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
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
	long rc = ioc(f, IOFD_NR_VDEVICE_ALLOC, &v);
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
	long rc = ioc(f, IOFD_NR_HWPT_ALLOC, &a);
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
	long rc = ioc(f, IOFD_NR_HWPT_INVALIDATE, &v);
	*done = v.entry_num;
	return rc;
}

static void test_viommu_alloc_rules(void **state)
{
	struct fx *f = *state;
	struct iofd_viommu_alloc v = {.size = sizeof(v), .type = 1, .dev_id = f->dev,
				      .hwpt_id = f->s2};
	v.flags = 1;
	assert_int_equal(ioc(f, IOFD_NR_VIOMMU_ALLOC, &v), -EOPNOTSUPP);
	v.flags = 0;
	v.type = 0; /* DEFAULT is reserved */
	assert_int_equal(ioc(f, IOFD_NR_VIOMMU_ALLOC, &v), -EOPNOTSUPP);
	v.type = 2; /* Tegra241 CMDQV: not this hardware */
	assert_int_equal(ioc(f, IOFD_NR_VIOMMU_ALLOC, &v), -EOPNOTSUPP);
	v.type = 1;
	v.dev_id = 999;
	assert_int_equal(ioc(f, IOFD_NR_VIOMMU_ALLOC, &v), -ENOENT);
	v.dev_id = f->dev;
	v.hwpt_id = f->ioas; /* not a paging HWPT */
	assert_int_equal(ioc(f, IOFD_NR_VIOMMU_ALLOC, &v), -ENOENT);
	struct iofd_hwpt_alloc h = {.size = sizeof(h), .dev_id = f->dev, .pt_id = f->ioas};
	assert_int_equal(ioc(f, IOFD_NR_HWPT_ALLOC, &h), 0);
	v.hwpt_id = h.out_hwpt_id; /* paging, not a nest parent */
	assert_int_equal(ioc(f, IOFD_NR_VIOMMU_ALLOC, &v), -EINVAL);
	/* The vIOMMU uses its stage 2. */
	struct iofd_destroy d = {.size = sizeof(d), .id = f->s2};
	assert_int_equal(ioc(f, IOFD_NR_DESTROY, &d), -EBUSY);
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
	assert_int_equal(ioc(f, IOFD_NR_DESTROY, &d), -EBUSY);
	d.id = vd;
	assert_int_equal(ioc(f, IOFD_NR_DESTROY, &d), 0);
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
	assert_int_equal(ioc(f, IOFD_NR_HWPT_ALLOC, &a), -EOPNOTSUPP);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_viommu_alloc_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vdevice_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vste_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nested_dma_and_invalidation, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
