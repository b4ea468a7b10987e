/*
 * iofd_test.h - shared set-up for the iommufd tests that use the selftest's
 * mock IOMMU (test_hwpt.c, test_fault.c, test_access.c); header only.
 *
 * A test context is one open /dev/iommu served in this process through
 * iofd_uaccess_self, plus a small descriptor table of the test's own
 * (install_file / uninstall_file / file_of), standing in for the
 * transport's file descriptors: the fault queue and access objects are
 * reached through it.
 *
 * The selftest constants below are written from Linux 6.12's
 * drivers/iommu/iommufd/iommufd_test.h and selftest.c (and
 * tools/testing/selftests/iommu/iommufd.c), never from the simulator's own
 * headers, so a wrong constant in the code cannot hide behind the same
 * constant in a test.  The uAPI structs come from iommufd/uapi.h, as in
 * test_ioas.c and test_dispatch.c.
 */
#ifndef TESTS_IOMMUFD_IOFD_TEST_H
#define TESTS_IOMMUFD_IOFD_TEST_H

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

/* ---- Facts of the 6.12 selftest (drivers/iommu/iommufd/iommufd_test.h, selftest.c) ---- */
#define MOCK_PAGE_SIZE 2048ull              /* selftest.c: MOCK_IO_PAGE_SIZE = PAGE_SIZE / 2 */
#define MOCK_HUGE_PAGE_SIZE (512 * MOCK_PAGE_SIZE) /* selftest.c: MOCK_HUGE_PAGE_SIZE */
#define MOCK_APERTURE_START (1ull << 24)    /* iommufd_test.h */
#define MOCK_APERTURE_LAST ((1ull << 31) - 1) /* iommufd_test.h */
#define MOCK_FLAGS_DEVICE_NO_DIRTY (1u << 0)
#define MOCK_FLAGS_DEVICE_HUGE_IOVA (1u << 1)
#define MOCK_FLAGS_DEVICE_PASID (1u << 2)   /* 6.15 (newest ABI) */
#define MOCK_FLAGS_ACCESS_WRITE (1u << 0)
#define MOCK_FLAGS_ACCESS_SYZ (1u << 16)
#define MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES (1u << 0)
#define MOCK_ACCESS_RW_WRITE (1u << 0)
#define MOCK_ACCESS_RW_SLOW_PATH (1u << 2)
#define MOCK_NESTED_DOMAIN_IOTLB_ID_MAX 3u
#define MOCK_NESTED_DOMAIN_IOTLB_NUM 4u
#define IOMMU_TEST_IOTLB_DEFAULT 0xbadbeefu
#define IOMMU_HWPT_DATA_SELFTEST 0xdeadu
#define IOMMU_HWPT_INVALIDATE_DATA_SELFTEST 0xdeadbeefu
#define IOMMU_HWPT_INVALIDATE_DATA_SELFTEST_INVALID 0xdadbeefu
#define IOMMU_HW_INFO_TYPE_SELFTEST 0xfeedbeefu
#define IOMMU_HW_INFO_SELFTEST_REGVAL 0xdeadbeefu
#define IOMMU_TEST_INVALIDATE_FLAG_ALL (1u << 0)
/* include/uapi/linux/iommufd.h */
#define IOMMU_HWPT_ALLOC_NEST_PARENT (1u << 0)
#define IOMMU_HWPT_ALLOC_DIRTY_TRACKING (1u << 1)
#define IOMMU_HWPT_FAULT_ID_VALID (1u << 2)
#define IOMMU_HW_CAP_DIRTY_TRACKING (1ull << 0)
#define IOMMU_PGFAULT_FLAGS_PASID_VALID (1u << 0)
#define IOMMU_PGFAULT_FLAGS_LAST_PAGE (1u << 1)
#define IOMMU_PGFAULT_PERM_READ (1u << 0)
#define IOMMU_PGFAULT_PERM_WRITE (1u << 1)

#define RW (IOFD_MAP_WRITEABLE | IOFD_MAP_READABLE)
#define FIXED IOFD_MAP_FIXED_IOVA
#define U64MAX UINT64_MAX

/* ---- The test's descriptor table (the transport's role) ---- */
#define TFD_BASE 100
#define TFD_MAX 16

struct tfds {
	struct iofd_file *file[TFD_MAX];
	unsigned installs;
	bool refuse; /* install_file fails with EMFILE */
};

static inline int tfd_install(void *opaque, struct iofd_file *file)
{
	struct tfds *t = opaque;

	if (t->refuse)
		return -EMFILE;
	for (int i = 0; i < TFD_MAX; i++) {
		if (!t->file[i]) {
			t->file[i] = file;
			t->installs++;
			return TFD_BASE + i;
		}
	}
	return -EMFILE;
}

static inline void tfd_uninstall(void *opaque, int fd)
{
	struct tfds *t = opaque;

	if (fd >= TFD_BASE && fd < TFD_BASE + TFD_MAX)
		t->file[fd - TFD_BASE] = NULL;
}

static inline struct iofd_file *tfd_file_of(void *opaque, int fd)
{
	struct tfds *t = opaque;

	if (fd < TFD_BASE || fd >= TFD_BASE + TFD_MAX)
		return NULL;
	return t->file[fd - TFD_BASE];
}

/* close(fd): the transport drops the file. */
static inline void tfd_close(struct tfds *t, int fd)
{
	struct iofd_file *f = tfd_file_of(t, fd);

	assert_non_null(f);
	t->file[fd - TFD_BASE] = NULL;
	iofd_file_release(f);
}

static inline void tfd_close_all(struct tfds *t)
{
	for (int i = 0; i < TFD_MAX; i++) {
		if (t->file[i]) {
			struct iofd_file *f = t->file[i];

			t->file[i] = NULL;
			iofd_file_release(f);
		}
	}
}

/* A context whose transport can make descriptors (files = NULL: it cannot,
 * as iofd_uaccess_self). */
static inline struct iofd_ctx *tctx_open(struct tfds *files, enum iofd_abi abi)
{
	struct iofd_uaccess ua = iofd_uaccess_self;

	if (files) {
		ua.install_file = tfd_install;
		ua.uninstall_file = tfd_uninstall;
		ua.file_of = tfd_file_of;
		ua.opaque = files;
	}
	return iofd_open(&ua, abi);
}

/* ---- ioctl helpers ---- */
static inline long ioc(struct iofd_ctx *c, unsigned nr, void *arg)
{
	return iofd_ioctl(c, IOFD_REQ(nr), (uint64_t)(uintptr_t)arg);
}

static inline uint32_t ioas_alloc(struct iofd_ctx *c)
{
	struct iofd_ioas_alloc a = {.size = sizeof(a)};

	assert_int_equal(ioc(c, IOFD_NR_IOAS_ALLOC, &a), 0);
	return a.out_ioas_id;
}

static inline long destroy(struct iofd_ctx *c, uint32_t id)
{
	struct iofd_destroy d = {.size = sizeof(d), .id = id};

	return ioc(c, IOFD_NR_DESTROY, &d);
}

static inline long map(struct iofd_ctx *c, uint32_t ioas, uint32_t flags, const void *va,
		       uint64_t len, uint64_t *iova)
{
	struct iofd_ioas_map m = {.size = sizeof(m), .flags = flags, .ioas_id = ioas,
				  .user_va = (uintptr_t)va, .length = len, .iova = *iova};
	long rc = ioc(c, IOFD_NR_IOAS_MAP, &m);

	*iova = m.iova;
	return rc;
}

static inline long map_fixed(struct iofd_ctx *c, uint32_t ioas, const void *va, uint64_t len,
			     uint64_t iova)
{
	return map(c, ioas, RW | FIXED, va, len, &iova);
}

static inline long unmap_len(struct iofd_ctx *c, uint32_t ioas, uint64_t iova, uint64_t *len)
{
	struct iofd_ioas_unmap u = {.size = sizeof(u), .ioas_id = ioas, .iova = iova,
				    .length = *len};
	long rc = ioc(c, IOFD_NR_IOAS_UNMAP, &u);

	*len = u.length;
	return rc;
}

static inline long unmap(struct iofd_ctx *c, uint32_t ioas, uint64_t iova, uint64_t len)
{
	return unmap_len(c, ioas, iova, &len);
}

static inline long add_reserved(struct iofd_ctx *c, uint32_t ioas, uint64_t start, uint64_t len)
{
	struct iofd_test_cmd t = {.size = sizeof(t), .op = IOFD_TEST_OP_ADD_RESERVED, .id = ioas};

	t.add_reserved.start = start;
	t.add_reserved.length = len;
	return ioc(c, IOFD_NR_TEST_CMD, &t);
}

/* IOVA_RANGES into r[*num]; *num in and out. */
static inline long iova_ranges(struct iofd_ctx *c, uint32_t ioas, struct iofd_iova_range *r,
			       uint32_t *num, uint64_t *align)
{
	struct iofd_ioas_iova_ranges q = {.size = sizeof(q), .ioas_id = ioas, .num_iovas = *num,
					  .allowed_iovas = (uintptr_t)r};
	long rc = ioc(c, IOFD_NR_IOAS_IOVA_RANGES, &q);

	*num = q.num_iovas;
	*align = q.out_iova_alignment;
	return rc;
}

/* IOVA_RANGES gives exactly one range [start, last] and the alignment. */
static inline void assert_one_range(struct iofd_ctx *c, uint32_t ioas, uint64_t start,
				    uint64_t last, uint64_t align)
{
	struct iofd_iova_range r[4] = {{0, 0}};
	uint32_t num = 4;
	uint64_t got = 0;

	assert_int_equal(iova_ranges(c, ioas, r, &num, &got), 0);
	assert_int_equal(num, 1);
	assert_int_equal(r[0].start, start);
	assert_int_equal(r[0].last, last);
	assert_int_equal(got, align);
}

/* MOCK_DOMAIN (flags == 0) or MOCK_DOMAIN_FLAGS; outs may be NULL. */
static inline long mock_domain_flags(struct iofd_ctx *c, uint32_t pt, uint32_t flags,
				     uint32_t *stdev, uint32_t *hwpt, uint32_t *idev)
{
	struct iofd_test_cmd t = {.size = sizeof(t),
				  .op = flags ? IOFD_TEST_OP_MOCK_DOMAIN_FLAGS
					      : IOFD_TEST_OP_MOCK_DOMAIN,
				  .id = pt};
	long rc;

	t.mock_domain.dev_flags = flags;
	rc = ioc(c, IOFD_NR_TEST_CMD, &t);
	if (stdev)
		*stdev = t.mock_domain.out_stdev_id;
	if (hwpt)
		*hwpt = t.mock_domain.out_hwpt_id;
	if (idev)
		*idev = t.mock_domain.out_idev_id;
	return rc;
}

static inline long mock_domain(struct iofd_ctx *c, uint32_t pt, uint32_t *stdev, uint32_t *hwpt,
			       uint32_t *idev)
{
	return mock_domain_flags(c, pt, 0, stdev, hwpt, idev);
}

/* MOCK_DOMAIN_REPLACE; *pt in and out. */
static inline long mock_replace(struct iofd_ctx *c, uint32_t stdev, uint32_t *pt)
{
	struct iofd_test_cmd t = {.size = sizeof(t), .op = IOFD_TEST_OP_MOCK_DOMAIN_REPLACE,
				  .id = stdev};
	long rc;

	t.mock_domain_replace.pt_id = *pt;
	rc = ioc(c, IOFD_NR_TEST_CMD, &t);
	*pt = t.mock_domain_replace.pt_id;
	return rc;
}

/* HWPT_ALLOC with everything spelt out; *out written on success only. */
static inline long hwpt_alloc_full(struct iofd_ctx *c, uint32_t dev, uint32_t pt, uint32_t flags,
				   uint32_t data_type, const void *data, uint32_t data_len,
				   uint32_t fault_id, uint32_t *out)
{
	struct iofd_hwpt_alloc a = {.size = sizeof(a), .flags = flags, .dev_id = dev,
				    .pt_id = pt, .data_type = data_type, .data_len = data_len,
				    .data_uptr = (uintptr_t)data, .fault_id = fault_id};
	long rc = ioc(c, IOFD_NR_HWPT_ALLOC, &a);

	if (out) /* 0 unless the call wrote it */
		*out = a.out_hwpt_id;
	return rc;
}

static inline long hwpt_alloc(struct iofd_ctx *c, uint32_t dev, uint32_t pt, uint32_t flags,
			      uint32_t *out)
{
	return hwpt_alloc_full(c, dev, pt, flags, 0, NULL, 0, 0, out);
}

/* A nested HWPT with the selftest's data {iotlb}. */
static inline long hwpt_alloc_nested(struct iofd_ctx *c, uint32_t dev, uint32_t parent,
				     uint32_t flags, uint32_t fault_id, uint32_t iotlb,
				     uint32_t *out)
{
	struct iofd_hwpt_selftest data = {.iotlb = iotlb};

	return hwpt_alloc_full(c, dev, parent, flags, IOMMU_HWPT_DATA_SELFTEST, &data,
			       sizeof(data), fault_id, out);
}

/* HWPT_INVALIDATE; *num in (entries) and out (entries handled). */
static inline long hwpt_invalidate(struct iofd_ctx *c, uint32_t hwpt, const void *reqs,
				   uint32_t type, uint32_t entry_len, uint32_t *num)
{
	struct iofd_hwpt_invalidate v = {.size = sizeof(v), .hwpt_id = hwpt,
					 .data_uptr = (uintptr_t)reqs, .data_type = type,
					 .entry_len = entry_len, .entry_num = *num};
	long rc = ioc(c, IOFD_NR_HWPT_INVALIDATE, &v);

	*num = v.entry_num;
	return rc;
}

static inline long check_iotlb(struct iofd_ctx *c, uint32_t hwpt, uint32_t id, uint32_t val)
{
	struct iofd_test_cmd t = {.size = sizeof(t), .op = IOFD_TEST_OP_MD_CHECK_IOTLB, .id = hwpt};

	t.check_iotlb.id = id;
	t.check_iotlb.iotlb = val;
	return ioc(c, IOFD_NR_TEST_CMD, &t);
}

static inline void assert_iotlb_all(struct iofd_ctx *c, uint32_t hwpt, uint32_t val)
{
	for (uint32_t i = 0; i < MOCK_NESTED_DOMAIN_IOTLB_NUM; i++)
		assert_int_equal(check_iotlb(c, hwpt, i, val), 0);
}

static inline long check_map(struct iofd_ctx *c, uint32_t hwpt, uint64_t iova, uint64_t len,
			     const void *uptr)
{
	struct iofd_test_cmd t = {.size = sizeof(t), .op = IOFD_TEST_OP_MD_CHECK_MAP, .id = hwpt};

	t.check_map.iova = iova;
	t.check_map.length = len;
	t.check_map.uptr = (uintptr_t)uptr;
	return ioc(c, IOFD_NR_TEST_CMD, &t);
}

static inline long check_refs(struct iofd_ctx *c, const void *uptr, uint64_t len, uint32_t refs)
{
	struct iofd_test_cmd t = {.size = sizeof(t), .op = IOFD_TEST_OP_MD_CHECK_REFS};

	t.check_refs.uptr = (uintptr_t)uptr;
	t.check_refs.length = len;
	t.check_refs.refs = refs;
	return ioc(c, IOFD_NR_TEST_CMD, &t);
}

static inline long fault_alloc(struct iofd_ctx *c, uint32_t flags, uint32_t *id, int *fd)
{
	struct iofd_fault_alloc a = {.size = sizeof(a), .flags = flags};
	long rc = ioc(c, IOFD_NR_FAULT_QUEUE_ALLOC, &a);

	*id = a.out_fault_id; /* 0 unless the call wrote them */
	*fd = (int)a.out_fault_fd;
	return rc;
}

static inline long trigger_iopf(struct iofd_ctx *c, uint32_t dev, uint32_t pasid, uint32_t grpid,
				uint32_t perm, uint64_t addr)
{
	struct iofd_test_cmd t = {.size = sizeof(t), .op = IOFD_TEST_OP_TRIGGER_IOPF};

	t.trigger_iopf.dev_id = dev;
	t.trigger_iopf.pasid = pasid;
	t.trigger_iopf.grpid = grpid;
	t.trigger_iopf.perm = perm;
	t.trigger_iopf.addr = addr;
	return ioc(c, IOFD_NR_TEST_CMD, &t);
}

static inline long create_access(struct iofd_ctx *c, uint32_t ioas, uint32_t flags, int *fd)
{
	struct iofd_test_cmd t = {.size = sizeof(t), .op = IOFD_TEST_OP_CREATE_ACCESS, .id = ioas};
	long rc;

	t.create_access.flags = flags;
	rc = ioc(c, IOFD_NR_TEST_CMD, &t);
	*fd = (int)t.create_access.out_access_fd; /* 0 unless the call wrote it */
	return rc;
}

/* ACCESS_PAGES; *item written on success only. */
static inline long access_pages(struct iofd_ctx *c, int fd, uint32_t flags, uint64_t iova,
				uint64_t len, const void *uptr, uint32_t *item)
{
	struct iofd_test_cmd t = {.size = sizeof(t), .op = IOFD_TEST_OP_ACCESS_PAGES,
				  .id = (uint32_t)fd};
	long rc;

	t.access_pages.flags = flags;
	t.access_pages.iova = iova;
	t.access_pages.length = len;
	t.access_pages.uptr = (uintptr_t)uptr;
	t.access_pages.out_access_pages_id = 0xffffffffu;
	rc = ioc(c, IOFD_NR_TEST_CMD, &t);
	if (!rc && item)
		*item = t.access_pages.out_access_pages_id;
	return rc;
}

static inline long destroy_access_pages(struct iofd_ctx *c, int fd, uint32_t item)
{
	struct iofd_test_cmd t = {.size = sizeof(t), .op = IOFD_TEST_OP_DESTROY_ACCESS_PAGES,
				  .id = (uint32_t)fd};

	t.destroy_access_pages.access_pages_id = item;
	return ioc(c, IOFD_NR_TEST_CMD, &t);
}

static inline long access_rw(struct iofd_ctx *c, int fd, uint32_t flags, uint64_t iova,
			     uint64_t len, void *uptr)
{
	struct iofd_test_cmd t = {.size = sizeof(t), .op = IOFD_TEST_OP_ACCESS_RW,
				  .id = (uint32_t)fd};

	t.access_rw.flags = flags;
	t.access_rw.iova = iova;
	t.access_rw.length = len;
	t.access_rw.uptr = (uintptr_t)uptr;
	return ioc(c, IOFD_NR_TEST_CMD, &t);
}

static inline long access_replace_ioas(struct iofd_ctx *c, int fd, uint32_t ioas)
{
	struct iofd_test_cmd t = {.size = sizeof(t), .op = IOFD_TEST_OP_ACCESS_REPLACE_IOAS,
				  .id = (uint32_t)fd};

	t.access_replace_ioas.ioas_id = ioas;
	return ioc(c, IOFD_NR_TEST_CMD, &t);
}

/* ---- Memory ---- */

/* An anonymous MAP_SHARED buffer of len bytes aligned to align (a power of
 * two), as the selftest's fixtures mmap theirs; *base and *base_len: what to
 * munmap. */
static inline uint8_t *buffer_alloc(size_t len, size_t align, void **base, size_t *base_len)
{
	*base_len = len + align;
	*base = mmap(NULL, *base_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (*base == MAP_FAILED)
		return NULL;
	uint8_t *p = (uint8_t *)(((uintptr_t)*base + align - 1) & ~(uintptr_t)(align - 1));
	memset(p, 0, len);
	return p;
}

/*
 * len bytes the caller cannot access: a PROT_NONE mapping, which
 * get_user_pages refuses (EFAULT) like a hole, and which no later mmap can
 * take over while the test runs (it is never unmapped).
 */
static inline uint8_t *unmapped_range(size_t len)
{
	void *p = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	assert_true(p != MAP_FAILED);
	return p;
}

/*
 * The selftest fixtures' teardown_iommufd (tools/testing/selftests/iommu,
 * iommufd_utils.h): after the context is closed a fresh one must see no
 * pin left on the buffer (MD_CHECK_REFS 0).  0 or -1.
 */
static inline int refs_zero_after_close(const void *buf, uint64_t len)
{
	struct iofd_ctx *fresh = iofd_open(&iofd_uaccess_self, IOFD_ABI_NEWEST);
	long rc;

	if (!fresh)
		return -1;
	rc = check_refs(fresh, buf, len, 0);
	iofd_close(fresh);
	return rc ? -1 : 0;
}

/* ---- The shared fixture: one context, its descriptors, a test buffer ---- */
static uint8_t *buffer;
static void *buffer_base;
static size_t buffer_base_len;
static struct tfds files;
static struct iofd_ctx *ctx;

static inline int fixture_open(void)
{
	memset(&files, 0, sizeof(files));
	ctx = tctx_open(&files, IOFD_ABI_NEWEST);
	return ctx ? 0 : -1;
}

/* T/iommufd_utils.h teardown_iommufd: close, reopen, no pin left on the
 * first len bytes of the buffer. */
static inline int fixture_close(uint64_t len)
{
	tfd_close_all(&files);
	iofd_close(ctx);
	ctx = NULL;
	return refs_zero_after_close(buffer, len);
}

static inline int fixture_buffer(size_t len, size_t align)
{
	buffer = buffer_alloc(len, align, &buffer_base, &buffer_base_len);
	return buffer ? 0 : -1;
}

static inline int fixture_buffer_free(void)
{
	munmap(buffer_base, buffer_base_len);
	return 0;
}
#endif
