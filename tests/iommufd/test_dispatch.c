/*
 * test_dispatch.c - the /dev/iommu ioctl dispatcher's generic rules:
 * request decoding (ENOTTY), argument pointers (EFAULT), the size and
 * extensibility rules of every struct it serves (EINVAL below the first
 * version, E2BIG for non-zero bytes beyond ours, zero-extension), replies
 * truncated to the caller's size, object IDs, IOMMU_DESTROY,
 * IOMMU_VFIO_IOAS and the global IOMMU_OPTION (RLIMIT_MODE), and that a
 * failing call changes nothing.
 *
 * Expected values come from Linux's iommufd (include/uapi/linux/iommufd.h,
 * drivers/iommu/iommufd/main.c, ioas.c, vfio_compat.c) and the assertions
 * of its selftest (tools/testing/selftests/iommu/iommufd.c: cmd_fail,
 * cmd_length, cmd_ex_fail, global_options, vfio_ioas), never from our own
 * output.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include <iommusim/iommufd.h>
#include "iommufd/uapi.h"

#define CAP_SYS_RESOURCE 24

static size_t P;

/* An argument buffer, 8-byte aligned, seen as words or bytes. */
union cmdbuf {
	uint64_t u64[32];
	uint32_t u32[64];
	uint8_t b[256];
};

/* The capability hook: only CAP_SYS_RESOURCE can be granted. */
struct caps {
	bool sys_resource;
	unsigned asked;
};

static bool fake_capable(void *opaque, int cap)
{
	struct caps *c = opaque;

	c->asked++;
	return cap == CAP_SYS_RESOURCE && c->sys_resource;
}

static struct iofd_ctx *open_ctx(struct caps *c)
{
	struct iofd_uaccess ua = iofd_uaccess_self;
	struct iofd_ctx *ctx;

	if (c) {
		ua.capable = fake_capable;
		ua.opaque = c;
	}
	ctx = iofd_open(&ua, IOFD_ABI_NEWEST);
	assert_non_null(ctx);
	return ctx;
}

static long ioc(struct iofd_ctx *ctx, unsigned nr, const void *arg)
{
	return iofd_ioctl(ctx, IOFD_REQ(nr), (uint64_t)(uintptr_t)arg);
}

static uint32_t ioas_alloc(struct iofd_ctx *ctx)
{
	struct iofd_ioas_alloc a = {.size = sizeof(a)};

	assert_int_equal(ioc(ctx, IOFD_NR_IOAS_ALLOC, &a), 0);
	assert_int_not_equal(a.out_ioas_id, 0);
	return a.out_ioas_id;
}

static long destroy(struct iofd_ctx *ctx, uint32_t id)
{
	struct iofd_destroy d = {.size = sizeof(d), .id = id};

	return ioc(ctx, IOFD_NR_DESTROY, &d);
}

static long vfio_ioas(struct iofd_ctx *ctx, uint16_t op, uint32_t *id)
{
	struct iofd_vfio_ioas v = {.size = sizeof(v), .op = op, .ioas_id = *id};
	long rc = ioc(ctx, IOFD_NR_VFIO_IOAS, &v);

	*id = v.ioas_id;
	return rc;
}

static long option(struct iofd_ctx *ctx, uint32_t option_id, uint16_t op, uint32_t obj,
		   uint64_t *val)
{
	struct iofd_option o = {.size = sizeof(o), .option_id = option_id, .op = op,
				.object_id = obj, .val64 = *val};
	long rc = ioc(ctx, IOFD_NR_OPTION, &o);

	*val = o.val64;
	return rc;
}

/*
 * Two pages: the first read-write and zeroed; the second read-only
 * (second = PROT_READ) or not mapped at all (second = PROT_NONE).
 */
static uint8_t *two_pages(int second)
{
	uint8_t *p = mmap(NULL, 2 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	assert_true(p != MAP_FAILED);
	if (second == PROT_NONE)
		assert_int_equal(munmap(p + P, P), 0);
	else
		assert_int_equal(mprotect(p + P, P, second), 0);
	return p;
}

static void free_two_pages(uint8_t *p)
{
	munmap(p, 2 * P);
}

/* The call with its argument (len bytes of cmd) in a read-only copy at the
 * start of its own page, which goes afterwards. */
static long ioc_ro(struct iofd_ctx *ctx, unsigned nr, const void *cmd, size_t len)
{
	uint8_t *ro = mmap(NULL, P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	long rc;

	assert_true(ro != MAP_FAILED);
	memcpy(ro, cmd, len);
	assert_int_equal(mprotect(ro, P, PROT_READ), 0);
	rc = ioc(ctx, nr, ro);
	munmap(ro, P);
	return rc;
}

/* The nine IOAS-group ioctls and IOMMU_TEST_CMD. */
static const unsigned served[] = {
	IOFD_NR_DESTROY, IOFD_NR_IOAS_ALLOC, IOFD_NR_IOAS_ALLOW_IOVAS, IOFD_NR_IOAS_COPY,
	IOFD_NR_IOAS_IOVA_RANGES, IOFD_NR_IOAS_MAP, IOFD_NR_IOAS_UNMAP, IOFD_NR_OPTION,
	IOFD_NR_VFIO_IOAS, IOFD_NR_TEST_CMD,
};

/* dispatcher, uAPI: nr < 0x80, unknown nr, or size/dir/type bits → ENOTTY. */
static void test_unknown_request(void **state)
{
	static const unsigned bad_nr[] = {0x00, 0x3f, 0x63, 0x7f, 0x95, 0x9f, 0xa1, 0xff};
	union cmdbuf arg = {.u32 = {64}};
	struct iofd_ctx *ctx = open_ctx(NULL);

	(void)state;
	for (unsigned i = 0; i < sizeof(bad_nr) / sizeof(bad_nr[0]); i++) {
		assert_int_equal(ioc(ctx, bad_nr[i], &arg), -ENOTTY);
		/* ENOTTY is decided before the argument is read. */
		assert_int_equal(ioc(ctx, bad_nr[i], NULL), -ENOTTY);
	}
	for (unsigned i = 0; i < sizeof(served) / sizeof(served[0]); i++) {
		unsigned nr = served[i];

		assert_int_equal(iofd_ioctl(ctx, _IOWR(IOFD_TYPE, nr, struct iofd_destroy),
					    (uintptr_t)&arg), -ENOTTY);
		assert_int_equal(iofd_ioctl(ctx, _IOR(IOFD_TYPE, nr, uint32_t), (uintptr_t)&arg),
				 -ENOTTY);
		assert_int_equal(iofd_ioctl(ctx, _IOW(IOFD_TYPE, nr, uint64_t), (uintptr_t)&arg),
				 -ENOTTY);
		assert_int_equal(iofd_ioctl(ctx, _IO('A', nr), (uintptr_t)&arg), -ENOTTY);
	}
	/* cmd_fail: _IO(';', 0x7f) */
	assert_int_equal(iofd_ioctl(ctx, _IO(';', 0x7f), (uintptr_t)&arg), -ENOTTY);
	assert_int_equal(iofd_object_count(ctx), 0);
	iofd_close(ctx);
}

/* dispatcher: the size is read first; an unreadable argument is EFAULT. */
static void test_bad_pointer(void **state)
{
	struct iofd_ctx *ctx = open_ctx(NULL);
	uint8_t *pg = two_pages(PROT_NONE);
	uint8_t *hole = pg + P;
	uint32_t *tail;

	(void)state;
	for (unsigned i = 0; i < sizeof(served) / sizeof(served[0]); i++) {
		assert_int_equal(ioc(ctx, served[i], NULL), -EFAULT);
		assert_int_equal(ioc(ctx, served[i], hole), -EFAULT);
		assert_int_equal(iofd_ioctl(ctx, IOFD_REQ(served[i]), UINT64_MAX - 3), -EFAULT);
	}
	/* Only the size is readable: too small is still EINVAL ... */
	tail = (uint32_t *)(hole - 4);
	*tail = 7;
	assert_int_equal(ioc(ctx, IOFD_NR_DESTROY, tail), -EINVAL);
	/* ... a valid size makes the unreadable rest EFAULT. */
	*tail = 8;
	assert_int_equal(ioc(ctx, IOFD_NR_DESTROY, tail), -EFAULT);
	*tail = 12;
	assert_int_equal(ioc(ctx, IOFD_NR_IOAS_ALLOC, tail), -EFAULT);
	/* A struct readable up to our size, with a claimed tail in the hole. */
	tail = (uint32_t *)(hole - sizeof(struct iofd_ioas_alloc));
	memset(tail, 0, sizeof(struct iofd_ioas_alloc));
	*tail = 4096;
	assert_int_equal(ioc(ctx, IOFD_NR_IOAS_ALLOC, tail), -EFAULT);
	*tail = UINT32_MAX;
	assert_int_equal(ioc(ctx, IOFD_NR_IOAS_ALLOC, tail), -EFAULT);
	assert_int_equal(iofd_object_count(ctx), 0);
	free_two_pages(pg);
	iofd_close(ctx);
}

/* selftest fixture iommufd cmd_length: one row per struct the dispatcher serves. */
struct len_case {
	unsigned nr;
	size_t size;	/* sizeof, uAPI / uAPI */
	size_t min;	/* first version's size */
	long want;	/* R: the result at sizeof */
	uint32_t op;	/* test_cmd op */
};

static const struct len_case len_cases[] = {
	{IOFD_NR_DESTROY, 8, 8, -ENOENT, 0},
	{IOFD_NR_IOAS_ALLOC, 12, 12, 0, 0},
	{IOFD_NR_IOAS_IOVA_RANGES, 32, 32, -ENOENT, 0},
	{IOFD_NR_IOAS_ALLOW_IOVAS, 24, 24, -ENOENT, 0},
	{IOFD_NR_IOAS_MAP, 40, 40, -EINVAL, 0},
	{IOFD_NR_IOAS_COPY, 40, 40, -EINVAL, 0},
	{IOFD_NR_IOAS_UNMAP, 24, 24, -ENOENT, 0},
	{IOFD_NR_OPTION, 24, 24, -EBUSY, 0},	/* RLIMIT SET 0 with objects, capable */
	{IOFD_NR_VFIO_IOAS, 12, 12, -ENODEV, 0},
	/* TEST_CMD ADD_RESERVED of length 0: Linux checks the length before
	 * looking the IOAS up (drivers/iommu/iommufd/selftest.c). */
	{IOFD_NR_TEST_CMD, 72, 68, -EINVAL, IOFD_TEST_OP_ADD_RESERVED},
};

/* All zeros except size, the test op and one trailing byte. */
static long len_call(struct iofd_ctx *ctx, const struct len_case *c, size_t size, uint8_t extra,
		     union cmdbuf *buf)
{
	memset(buf, 0, sizeof(*buf));
	buf->u32[0] = size;
	buf->u32[1] = c->op;
	buf->b[c->size] = extra;
	return ioc(ctx, c->nr, buf);
}

static void test_cmd_length(void **state)
{
	struct caps caps = {.sys_resource = true};
	struct iofd_ctx *ctx = open_ctx(&caps);
	union cmdbuf buf;
	uint32_t next_id = 1;
	size_t count = 0;

	(void)state;
	for (unsigned i = 0; i < sizeof(len_cases) / sizeof(len_cases[0]); i++) {
		const struct len_case *c = &len_cases[i];
		bool creates = c->nr == IOFD_NR_IOAS_ALLOC;

		assert_int_equal(len_call(ctx, c, c->min - 1, 0xff, &buf), -EINVAL);
		assert_int_equal(len_call(ctx, c, c->size + 1, 0xff, &buf), -E2BIG);
		assert_int_equal(iofd_object_count(ctx), count);
		/* IOAS_ALLOC: IOAS 1, then IOAS 2 (and more below). */
		assert_int_equal(len_call(ctx, c, c->size, 0xff, &buf), c->want);
		if (creates)
			assert_int_equal(buf.u32[2], next_id++);
		assert_int_equal(len_call(ctx, c, c->size + 1, 0x00, &buf), c->want);
		if (creates) {
			assert_int_equal(buf.u32[2], next_id++);
			assert_int_equal(buf.b[12], 0); /* only 12 bytes written */
		}
		/* A long zero tail is fine; one non-zero byte far out is E2BIG. */
		assert_int_equal(len_call(ctx, c, 128, 0x00, &buf), c->want);
		if (creates)
			assert_int_equal(buf.u32[2], next_id++);
		count = iofd_object_count(ctx);
		buf.b[127] = 1;
		buf.u32[0] = 128;
		assert_int_equal(ioc(ctx, c->nr, &buf), -E2BIG);
		assert_int_equal(iofd_object_count(ctx), count);
		/* A first-version struct shorter than ours is zero-extended. */
		if (c->min < c->size)
			assert_int_equal(len_call(ctx, c, c->min, 0xff, &buf), c->want);
	}
	assert_int_equal(iofd_object_count(ctx), 3);
	iofd_close(ctx);
}

/* selftest fixture iommufd cmd_fail and cmd_ex_fail. */
static void test_cmd_fail(void **state)
{
	struct iofd_ctx *ctx = open_ctx(NULL);
	struct {
		uint32_t size, id;
		uint64_t extra;
	} d = {16, 0, 0};

	(void)state;
	assert_int_equal(destroy(ctx, 0), -ENOENT);
	assert_int_equal(ioc(ctx, IOFD_NR_DESTROY, NULL), -EFAULT);
	assert_int_equal(iofd_ioctl(ctx, _IO(';', 0x7f), (uintptr_t)&d), -ENOTTY);

	assert_int_equal(ioc(ctx, IOFD_NR_DESTROY, &d), -ENOENT);
	d.extra = 1;
	assert_int_equal(ioc(ctx, IOFD_NR_DESTROY, &d), -E2BIG);
	d.size = 8;
	assert_int_equal(ioc(ctx, IOFD_NR_DESTROY, &d), -ENOENT);
	d.size = 7;
	assert_int_equal(ioc(ctx, IOFD_NR_DESTROY, &d), -EINVAL);

	/* E2BIG comes before the handler: the object survives. */
	d.id = ioas_alloc(ctx);
	d.size = 16;
	assert_int_equal(ioc(ctx, IOFD_NR_DESTROY, &d), -E2BIG);
	d.size = 7;
	assert_int_equal(ioc(ctx, IOFD_NR_DESTROY, &d), -EINVAL);
	assert_int_equal(iofd_object_count(ctx), 1);
	d.size = 16;
	d.extra = 0;
	assert_int_equal(ioc(ctx, IOFD_NR_DESTROY, &d), 0);
	assert_int_equal(iofd_object_count(ctx), 0);
	iofd_close(ctx);
}

/*
 * dispatcher, uAPI: the reply is min(caller's size, ours).  Each struct
 * ends exactly at a read-only page, which holds the caller's zero tail: a
 * reply of more than our size would fault.
 */
static uint8_t *at_edge(uint8_t *pg, const void *cmd, size_t ours, size_t user)
{
	uint8_t *p = pg + P - ours;

	memcpy(p, cmd, ours);
	*(uint32_t *)p = user;
	return p;
}

static void test_reply_truncated(void **state)
{
	struct iofd_ctx *ctx = open_ctx(NULL);
	uint8_t *pg = two_pages(PROT_READ);
	union cmdbuf buf = {.u64 = {0}};
	struct iofd_ioas_alloc a = {.size = 16};
	struct iofd_ioas_map m = {.flags = IOFD_MAP_READABLE, .ioas_id = 1, .user_va = 0x10000,
				  .length = P};
	struct iofd_ioas_copy c = {.flags = IOFD_MAP_READABLE, .dst_ioas_id = 1,
				   .src_ioas_id = 1, .length = P};
	struct iofd_ioas_unmap u = {.ioas_id = 1, .length = P};
	struct iofd_ioas_iova_ranges r = {.ioas_id = 1};
	struct iofd_vfio_ioas v = {.op = IOFD_VFIO_IOAS_GET};
	struct iofd_option o = {.option_id = IOFD_OPTION_HUGE_PAGES, .op = IOFD_OPTION_OP_GET,
				.object_id = 1};
	uint8_t *p;

	(void)state;
	/* A larger zero-padded IOAS_ALLOC: our 12 bytes come back, the rest stays. */
	memcpy(&buf, &a, sizeof(a));
	assert_int_equal(ioc(ctx, IOFD_NR_IOAS_ALLOC, &buf), 0);
	assert_int_equal(buf.u32[2], 1);
	assert_int_equal(buf.u32[3], 0);
	assert_int_equal(buf.u64[2] | buf.u64[3], 0);

	p = at_edge(pg, &a, 12, 16);
	assert_int_equal(ioc(ctx, IOFD_NR_IOAS_ALLOC, p), 0);
	assert_int_equal(((struct iofd_ioas_alloc *)p)->out_ioas_id, 2);
	assert_int_equal(destroy(ctx, 2), 0);

	p = at_edge(pg, &m, 40, 48);
	assert_int_equal(ioc(ctx, IOFD_NR_IOAS_MAP, p), 0);
	c.src_iova = ((struct iofd_ioas_map *)p)->iova;
	assert_int_equal(c.src_iova, P); /* IOAS_MAP: lowest fit */
	p = at_edge(pg, &c, 40, 41);
	assert_int_equal(ioc(ctx, IOFD_NR_IOAS_COPY, p), 0);
	assert_int_equal(((struct iofd_ioas_copy *)p)->dst_iova, 2 * P);
	u.iova = P;
	p = at_edge(pg, &u, 24, 32);
	assert_int_equal(ioc(ctx, IOFD_NR_IOAS_UNMAP, p), 0);
	assert_int_equal(((struct iofd_ioas_unmap *)p)->length, P);
	p = at_edge(pg, &r, 32, 40);
	assert_int_equal(ioc(ctx, IOFD_NR_IOAS_IOVA_RANGES, p), -EMSGSIZE);
	assert_int_equal(((struct iofd_ioas_iova_ranges *)p)->num_iovas, 1);
	assert_int_equal(((struct iofd_ioas_iova_ranges *)p)->out_iova_alignment, 1);
	p = at_edge(pg, &o, 24, 32);
	assert_int_equal(ioc(ctx, IOFD_NR_OPTION, p), 0);
	assert_int_equal(((struct iofd_option *)p)->val64, 1);
	v.ioas_id = 1;
	assert_int_equal(vfio_ioas(ctx, IOFD_VFIO_IOAS_SET, &v.ioas_id), 0);
	v.ioas_id = 0;
	p = at_edge(pg, &v, 12, 13);
	assert_int_equal(ioc(ctx, IOFD_NR_VFIO_IOAS, p), 0);
	assert_int_equal(((struct iofd_vfio_ioas *)p)->ioas_id, 1);
	free_two_pages(pg);
	iofd_close(ctx);
}

/*
 * dispatcher: a reply that faults is EFAULT; IOAS_ALLOC then frees
 * its object and ID, MAP and COPY keep their mapping.  A failing call never
 * writes, so a read-only argument still gets the failure's own errno.
 */
static void test_reply_fault(void **state)
{
	struct iofd_ctx *ctx = open_ctx(NULL);
	struct iofd_ioas_alloc a = {.size = sizeof(a)};
	struct iofd_ioas_map m = {.size = sizeof(m), .ioas_id = 1, .user_va = 0x10000,
				  .length = P, .iova = 16 * P,
				  .flags = IOFD_MAP_FIXED_IOVA | IOFD_MAP_READABLE};
	struct iofd_ioas_copy c = {.size = sizeof(c), .dst_ioas_id = 1, .src_ioas_id = 1,
				   .length = P, .src_iova = 16 * P, .dst_iova = 32 * P,
				   .flags = IOFD_MAP_FIXED_IOVA | IOFD_MAP_READABLE};
	struct iofd_ioas_unmap u = {.size = sizeof(u), .ioas_id = 1, .iova = 16 * P,
				    .length = 17 * P};
	struct iofd_ioas_iova_ranges r = {.size = sizeof(r), .ioas_id = 1};
	struct iofd_vfio_ioas v = {.size = sizeof(v), .ioas_id = 1, .op = IOFD_VFIO_IOAS_SET};
	struct iofd_option o = {.size = sizeof(o), .option_id = IOFD_OPTION_HUGE_PAGES,
				.object_id = 1, .op = IOFD_OPTION_OP_SET, .val64 = 2};

	(void)state;
	assert_int_equal(ioc_ro(ctx, IOFD_NR_IOAS_ALLOC, &a, sizeof(a)), -EFAULT);
	assert_int_equal(iofd_object_count(ctx), 0);
	a.flags = 1;
	assert_int_equal(ioc_ro(ctx, IOFD_NR_IOAS_ALLOC, &a, sizeof(a)), -EOPNOTSUPP);
	assert_int_equal(ioas_alloc(ctx), 1); /* the aborted ID was freed */

	assert_int_equal(ioc_ro(ctx, IOFD_NR_IOAS_MAP, &m, sizeof(m)), -EFAULT);
	assert_int_equal(ioc(ctx, IOFD_NR_IOAS_MAP, &m), -EEXIST); /* the area stayed */
	assert_int_equal(ioc_ro(ctx, IOFD_NR_IOAS_COPY, &c, sizeof(c)), -EFAULT);
	assert_int_equal(ioc(ctx, IOFD_NR_IOAS_COPY, &c), -EEXIST);

	/* Failures write nothing. */
	m.flags = IOFD_MAP_FIXED_IOVA;
	assert_int_equal(ioc_ro(ctx, IOFD_NR_IOAS_MAP, &m, sizeof(m)), -EINVAL);
	u.length = P - 1; /* partial overlap */
	assert_int_equal(ioc_ro(ctx, IOFD_NR_IOAS_UNMAP, &u, sizeof(u)), -ENOENT);
	assert_int_equal(ioc_ro(ctx, IOFD_NR_OPTION, &o, sizeof(o)), -EINVAL);
	/* SET and DESTROY have no reply at all. */
	assert_int_equal(ioc_ro(ctx, IOFD_NR_VFIO_IOAS, &v, sizeof(v)), 0);
	v.op = IOFD_VFIO_IOAS_GET;
	assert_int_equal(ioc_ro(ctx, IOFD_NR_VFIO_IOAS, &v, sizeof(v)), -EFAULT);
	/* IOVA_RANGES replies before EMSGSIZE (IOVA_RANGES). */
	assert_int_equal(ioc_ro(ctx, IOFD_NR_IOAS_IOVA_RANGES, &r, sizeof(r)), -EFAULT);
	assert_int_equal(ioc(ctx, IOFD_NR_IOAS_IOVA_RANGES, &r), -EMSGSIZE);
	assert_int_equal(r.num_iovas, 1);

	u.length = 17 * P;
	assert_int_equal(ioc(ctx, IOFD_NR_IOAS_UNMAP, &u), 0);
	assert_int_equal(u.length, 2 * P);
	assert_int_equal(ioc_ro(ctx, IOFD_NR_DESTROY, &(struct iofd_destroy){.size = 8, .id = 1}, 8),
			 0);
	assert_int_equal(iofd_object_count(ctx), 0);
	iofd_close(ctx);
}

/* object IDs: the lowest free ID from 1, reused after DESTROY. */
static void test_object_ids(void **state)
{
	struct iofd_ctx *ctx = open_ctx(NULL);
	struct iofd_ioas_alloc bad = {.size = sizeof(bad), .flags = 1};

	(void)state;
	assert_int_equal(ioas_alloc(ctx), 1);
	assert_int_equal(ioas_alloc(ctx), 2);
	assert_int_equal(ioas_alloc(ctx), 3);
	assert_int_equal(destroy(ctx, 2), 0);
	assert_int_equal(ioas_alloc(ctx), 2);
	assert_int_equal(destroy(ctx, 1), 0);
	assert_int_equal(destroy(ctx, 3), 0);
	assert_int_equal(iofd_object_count(ctx), 1);
	/* A failed creation takes no ID. */
	assert_int_equal(ioc(ctx, IOFD_NR_IOAS_ALLOC, &bad), -EOPNOTSUPP);
	assert_int_equal(bad.out_ioas_id, 0);
	assert_int_equal(iofd_object_count(ctx), 1);
	assert_int_equal(ioas_alloc(ctx), 1);
	assert_int_equal(ioas_alloc(ctx), 3);
	assert_int_equal(ioas_alloc(ctx), 4);
	assert_int_equal(iofd_object_count(ctx), 4);
	iofd_close(ctx);

	/* Each context has its own ID space. */
	ctx = open_ctx(NULL);
	assert_int_equal(ioas_alloc(ctx), 1);
	iofd_close(ctx);
}

/* object IDs DESTROY: unknown, zero, or already destroyed IDs are ENOENT. */
static void test_destroy(void **state)
{
	struct iofd_ctx *ctx = open_ctx(NULL);

	(void)state;
	assert_int_equal(destroy(ctx, 0), -ENOENT);
	assert_int_equal(destroy(ctx, 1), -ENOENT);
	assert_int_equal(ioas_alloc(ctx), 1);
	assert_int_equal(destroy(ctx, 0), -ENOENT);
	assert_int_equal(destroy(ctx, 2), -ENOENT);
	assert_int_equal(destroy(ctx, UINT32_MAX), -ENOENT);
	assert_int_equal(destroy(ctx, 0x80000001u), -ENOENT);
	assert_int_equal(iofd_object_count(ctx), 1);
	assert_int_equal(destroy(ctx, 1), 0);
	assert_int_equal(destroy(ctx, 1), -ENOENT);
	assert_int_equal(iofd_object_count(ctx), 0);
	/* Closing with live objects destroys them. */
	assert_int_equal(ioas_alloc(ctx), 1);
	assert_int_equal(ioas_alloc(ctx), 2);
	iofd_close(ctx);
}

/* VFIO_IOAS vfio_ioas. */
static void test_vfio_ioas(void **state)
{
	struct iofd_ctx *ctx = open_ctx(NULL);
	struct iofd_vfio_ioas v = {.size = sizeof(v), .op = IOFD_VFIO_IOAS_GET, .reserved = 1};
	uint32_t id = 0;

	(void)state;
	assert_int_equal(vfio_ioas(ctx, IOFD_VFIO_IOAS_GET, &id), -ENODEV);
	assert_int_equal(vfio_ioas(ctx, IOFD_VFIO_IOAS_SET, &id), -ENOENT);
	id = 1;
	assert_int_equal(vfio_ioas(ctx, IOFD_VFIO_IOAS_SET, &id), -ENOENT);
	assert_int_equal(vfio_ioas(ctx, IOFD_VFIO_IOAS_CLEAR, &id), 0);
	assert_int_equal(ioas_alloc(ctx), 1);
	assert_int_equal(ioas_alloc(ctx), 2);
	assert_int_equal(vfio_ioas(ctx, IOFD_VFIO_IOAS_SET, &id), 0);
	id = 77;
	assert_int_equal(vfio_ioas(ctx, IOFD_VFIO_IOAS_GET, &id), 0);
	assert_int_equal(id, 1);
	/* Reserved and unknown ops: EOPNOTSUPP, even for a GET that would work. */
	assert_int_equal(ioc(ctx, IOFD_NR_VFIO_IOAS, &v), -EOPNOTSUPP);
	v.reserved = 0;
	v.op = 3;
	assert_int_equal(ioc(ctx, IOFD_NR_VFIO_IOAS, &v), -EOPNOTSUPP);
	v.op = 0xffff;
	assert_int_equal(ioc(ctx, IOFD_NR_VFIO_IOAS, &v), -EOPNOTSUPP);
	/* A failed SET keeps the old one. */
	id = 9;
	assert_int_equal(vfio_ioas(ctx, IOFD_VFIO_IOAS_SET, &id), -ENOENT);
	assert_int_equal(vfio_ioas(ctx, IOFD_VFIO_IOAS_GET, &id), 0);
	assert_int_equal(id, 1);
	/* CLEAR forgets it without destroying it. */
	assert_int_equal(vfio_ioas(ctx, IOFD_VFIO_IOAS_CLEAR, &id), 0);
	assert_int_equal(vfio_ioas(ctx, IOFD_VFIO_IOAS_GET, &id), -ENODEV);
	assert_int_equal(iofd_object_count(ctx), 2);
	/* SET takes no reference; DESTROY clears it, even if the ID comes back. */
	id = 2;
	assert_int_equal(vfio_ioas(ctx, IOFD_VFIO_IOAS_SET, &id), 0);
	assert_int_equal(destroy(ctx, 2), 0);
	assert_int_equal(vfio_ioas(ctx, IOFD_VFIO_IOAS_GET, &id), -ENODEV);
	assert_int_equal(ioas_alloc(ctx), 2);
	assert_int_equal(vfio_ioas(ctx, IOFD_VFIO_IOAS_GET, &id), -ENODEV);
	/* Replacing one compat IOAS by another. */
	id = 1;
	assert_int_equal(vfio_ioas(ctx, IOFD_VFIO_IOAS_SET, &id), 0);
	id = 2;
	assert_int_equal(vfio_ioas(ctx, IOFD_VFIO_IOAS_SET, &id), 0);
	id = 0;
	assert_int_equal(vfio_ioas(ctx, IOFD_VFIO_IOAS_GET, &id), 0);
	assert_int_equal(id, 2);
	iofd_close(ctx);
}

/* selftest fixture iommufd global_options, run with CAP_SYS_RESOURCE granted. */
static void test_global_options(void **state)
{
	struct caps caps = {.sys_resource = true};
	struct iofd_ctx *ctx = open_ctx(&caps);
	uint64_t val = 1;

	(void)state;
	assert_int_equal(option(ctx, IOFD_OPTION_RLIMIT_MODE, IOFD_OPTION_OP_GET, 0, &val), 0);
	assert_int_equal(val, 0);
	val = 1;
	assert_int_equal(option(ctx, IOFD_OPTION_RLIMIT_MODE, IOFD_OPTION_OP_SET, 0, &val), 0);
	assert_int_equal(val, 1); /* SET echoes the value */
	assert_true(caps.asked > 0);
	val = 2;
	assert_int_equal(option(ctx, IOFD_OPTION_RLIMIT_MODE, IOFD_OPTION_OP_SET, 0, &val),
			 -EINVAL);
	val = 0;
	assert_int_equal(option(ctx, IOFD_OPTION_RLIMIT_MODE, IOFD_OPTION_OP_GET, 0, &val), 0);
	assert_int_equal(val, 1);
	val = 0;
	assert_int_equal(option(ctx, IOFD_OPTION_RLIMIT_MODE, IOFD_OPTION_OP_SET, 0, &val), 0);
	val = 7;
	assert_int_equal(option(ctx, IOFD_OPTION_RLIMIT_MODE, IOFD_OPTION_OP_GET, 0, &val), 0);
	assert_int_equal(val, 0);
	val = 3;
	assert_int_equal(option(ctx, IOFD_OPTION_HUGE_PAGES, IOFD_OPTION_OP_GET, 0, &val),
			 -ENOENT);
	assert_int_equal(val, 3); /* not written on failure */
	val = 1;
	assert_int_equal(option(ctx, IOFD_OPTION_HUGE_PAGES, IOFD_OPTION_OP_SET, 0, &val),
			 -ENOENT);
	iofd_close(ctx);
}

/* OPTION: SET checks EPERM, then EBUSY, then EINVAL; GET needs nothing. */
static void test_rlimit_ordering(void **state)
{
	struct caps caps = {.sys_resource = false};
	struct iofd_ctx *ctx = open_ctx(&caps);
	uint64_t val;

	(void)state;
	for (val = 0; val < 3; val++) {
		uint64_t v = val;

		assert_int_equal(option(ctx, IOFD_OPTION_RLIMIT_MODE, IOFD_OPTION_OP_SET, 0, &v),
				 -EPERM);
	}
	val = 5;
	assert_int_equal(option(ctx, IOFD_OPTION_RLIMIT_MODE, IOFD_OPTION_OP_GET, 0, &val), 0);
	assert_int_equal(val, 0);
	assert_int_equal(ioas_alloc(ctx), 1);
	val = 1;
	assert_int_equal(option(ctx, IOFD_OPTION_RLIMIT_MODE, IOFD_OPTION_OP_SET, 0, &val),
			 -EPERM);

	caps.sys_resource = true;
	for (val = 0; val < 3; val++) {
		uint64_t v = val;

		assert_int_equal(option(ctx, IOFD_OPTION_RLIMIT_MODE, IOFD_OPTION_OP_SET, 0, &v),
				 -EBUSY);
	}
	val = UINT64_MAX;
	assert_int_equal(option(ctx, IOFD_OPTION_RLIMIT_MODE, IOFD_OPTION_OP_SET, 0, &val),
			 -EBUSY);
	assert_int_equal(iofd_object_count(ctx), 1);
	/* The objects are what makes it busy. */
	assert_int_equal(destroy(ctx, 1), 0);
	val = UINT64_MAX;
	assert_int_equal(option(ctx, IOFD_OPTION_RLIMIT_MODE, IOFD_OPTION_OP_SET, 0, &val),
			 -EINVAL);
	val = 0;
	assert_int_equal(option(ctx, IOFD_OPTION_RLIMIT_MODE, IOFD_OPTION_OP_GET, 0, &val), 0);
	assert_int_equal(val, 0); /* failures changed nothing */
	val = 1;
	assert_int_equal(option(ctx, IOFD_OPTION_RLIMIT_MODE, IOFD_OPTION_OP_SET, 0, &val), 0);
	/* Losing the capability: EPERM, and the mode stays. */
	caps.sys_resource = false;
	val = 0;
	assert_int_equal(option(ctx, IOFD_OPTION_RLIMIT_MODE, IOFD_OPTION_OP_SET, 0, &val),
			 -EPERM);
	assert_int_equal(option(ctx, IOFD_OPTION_RLIMIT_MODE, IOFD_OPTION_OP_GET, 0, &val), 0);
	assert_int_equal(val, 1);
	iofd_close(ctx);
}

/* OPTION: the EOPNOTSUPP cases of IOMMU_OPTION come before the capability. */
static void test_option_errors(void **state)
{
	struct caps caps = {.sys_resource = false};
	struct iofd_ctx *ctx = open_ctx(&caps);
	struct iofd_option o = {.size = sizeof(o), .reserved = 1};
	uint64_t val = 9;

	(void)state;
	assert_int_equal(ioc(ctx, IOFD_NR_OPTION, &o), -EOPNOTSUPP); /* RLIMIT SET, reserved */
	o.reserved = 0;
	o.option_id = 2;
	o.op = IOFD_OPTION_OP_GET;
	assert_int_equal(ioc(ctx, IOFD_NR_OPTION, &o), -EOPNOTSUPP);
	o.option_id = UINT32_MAX;
	assert_int_equal(ioc(ctx, IOFD_NR_OPTION, &o), -EOPNOTSUPP);
	/* RLIMIT_MODE: object_id must be 0, op must be GET or SET. */
	assert_int_equal(option(ctx, IOFD_OPTION_RLIMIT_MODE, IOFD_OPTION_OP_SET, 1, &val),
			 -EOPNOTSUPP);
	assert_int_equal(option(ctx, IOFD_OPTION_RLIMIT_MODE, IOFD_OPTION_OP_GET, 1, &val),
			 -EOPNOTSUPP);
	assert_int_equal(val, 9);
	assert_int_equal(option(ctx, IOFD_OPTION_RLIMIT_MODE, 2, 0, &val), -EOPNOTSUPP);
	assert_int_equal(option(ctx, IOFD_OPTION_RLIMIT_MODE, 0xffff, 0, &val), -EOPNOTSUPP);
	assert_int_equal(val, 9);
	/* HUGE_PAGES: the IOAS lookup comes before op and val. */
	assert_int_equal(option(ctx, IOFD_OPTION_HUGE_PAGES, 2, 0, &val), -ENOENT);
	assert_int_equal(option(ctx, IOFD_OPTION_HUGE_PAGES, IOFD_OPTION_OP_SET, 1, &val),
			 -ENOENT);
	assert_int_equal(ioas_alloc(ctx), 1);
	assert_int_equal(option(ctx, IOFD_OPTION_HUGE_PAGES, 2, 1, &val), -EOPNOTSUPP);
	assert_int_equal(option(ctx, IOFD_OPTION_HUGE_PAGES, IOFD_OPTION_OP_SET, 1, &val),
			 -EINVAL);
	assert_int_equal(option(ctx, IOFD_OPTION_HUGE_PAGES, IOFD_OPTION_OP_GET, 1, &val), 0);
	assert_int_equal(val, 1);
	/* An IOAS ID is not an RLIMIT object, and reserved beats the lookup. */
	o.option_id = IOFD_OPTION_HUGE_PAGES;
	o.object_id = 5;
	o.reserved = 1;
	assert_int_equal(ioc(ctx, IOFD_NR_OPTION, &o), -EOPNOTSUPP);
	assert_int_equal(iofd_object_count(ctx), 1);
	iofd_close(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unknown_request),
		cmocka_unit_test(test_bad_pointer),
		cmocka_unit_test(test_cmd_length),
		cmocka_unit_test(test_cmd_fail),
		cmocka_unit_test(test_reply_truncated),
		cmocka_unit_test(test_reply_fault),
		cmocka_unit_test(test_object_ids),
		cmocka_unit_test(test_destroy),
		cmocka_unit_test(test_vfio_ioas),
		cmocka_unit_test(test_global_options),
		cmocka_unit_test(test_rlimit_ordering),
		cmocka_unit_test(test_option_errors),
	};

	P = (size_t)sysconf(_SC_PAGESIZE);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
