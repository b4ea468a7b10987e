/*
 * test_veventq.c - IOMMU_VEVENTQ_ALLOC and its descriptor, with the
 * selftest mock's vIOMMU and IOMMU_TEST_OP_TRIGGER_VEVENT
 * (iommufd/veventq.c, iommufd/mock.c).
 *
 * Expected answers: Linux's uAPI header (IOMMU_VEVENTQ_ALLOC = 0x93,
 * struct iommu_veventq_alloc of 32 bytes ending in __reserved; struct
 * iommufd_vevent_header {flags, sequence}; IOMMU_VEVENTQ_FLAG_LOST_EVENTS
 * = 1: sequence runs 0..INT_MAX then 0, a gap means lost events, a
 * trailing header with LOST_EVENTS and no data marks an overflow at the
 * tail; one queue per vIOMMU and type), iommufd/eventq.c (EOPNOTSUPP for
 * flags, __reserved or type DEFAULT; EINVAL for depth 0; ENOENT for a bad
 * vIOMMU; EEXIST for a second queue of a type; read needs offset 0
 * (ESPIPE) and returns whole vEVENTs; poll: EPOLLIN only), and the
 * selftest's iommufd_test.h / selftest.c (vIOMMU type 0xdeadbeef,
 * IOMMU_VEVENTQ_TYPE_SELFTEST 0xbeefbeef with {virt_id}, TRIGGER_VEVENT
 * = op 17 {dev_id}: ENOENT unless the device is attached through the
 * vIOMMU with a non-zero virtual ID; no queue of the type: EOPNOTSUPP),
 * and tools/testing/selftests/iommu/iommufd.c's veventq checks.
 */
#include <poll.h>

#include "iofd_test.h"

/* iommufd_test.h, newest */
#define IOMMU_VIOMMU_TYPE_SELFTEST 0xdeadbeefu
#define IOMMU_VEVENTQ_TYPE_SELFTEST 0xbeefbeefu
#define IOMMU_TEST_OP_TRIGGER_VEVENT 17u
/* include/uapi/linux/iommufd.h */
#define IOMMU_VEVENTQ_FLAG_LOST_EVENTS (1u << 0)
#define IOMMU_VEVENTQ_TYPE_ARM_SMMUV3 1u

#define BUF_SIZE (64u << 10)

struct vq_fx {
	uint32_t ioas, stdev, idev, s2, viommu;
};
static struct vq_fx fx;

static long viommu_alloc(uint32_t dev, uint32_t hwpt, uint32_t type, uint32_t *out)
{
	struct iofd_viommu_alloc v = {.size = sizeof(v), .type = type, .dev_id = dev,
				      .hwpt_id = hwpt};
	long rc = ioc(ctx, IOFD_NR_VIOMMU_ALLOC, &v);

	*out = v.out_viommu_id;
	return rc;
}

static long veventq_alloc_full(uint32_t viommu, uint32_t type, uint32_t depth, uint32_t flags,
			       uint32_t reserved, uint32_t *id, int *fd)
{
	struct iofd_veventq_alloc a = {.size = sizeof(a), .flags = flags, .viommu_id = viommu,
				       .type = type, .veventq_depth = depth, .reserved = reserved};
	long rc = ioc(ctx, IOFD_NR_VEVENTQ_ALLOC, &a);

	*id = a.out_veventq_id;
	*fd = (int)a.out_veventq_fd;
	return rc;
}

static long veventq_alloc(uint32_t viommu, uint32_t type, uint32_t depth, uint32_t *id, int *fd)
{
	return veventq_alloc_full(viommu, type, depth, 0, 0, id, fd);
}

static long vdevice(uint32_t viommu, uint32_t dev, uint64_t virt, uint32_t *out)
{
	struct iofd_vdevice_alloc v = {.size = sizeof(v), .viommu_id = viommu, .dev_id = dev,
				       .virt_id = virt};
	long rc = ioc(ctx, IOFD_NR_VDEVICE_ALLOC, &v);

	if (out)
		*out = v.out_vdevice_id;
	return rc;
}

static long trigger(uint32_t dev)
{
	struct iofd_test_cmd t = {.size = sizeof(t), .op = IOMMU_TEST_OP_TRIGGER_VEVENT};

	t.trigger_vevent.dev_id = dev;
	return ioc(ctx, IOFD_NR_TEST_CMD, &t);
}

/* A nested HWPT through the vIOMMU, and the device attached to it. */
static void attach_through_viommu(void)
{
	uint32_t nested, pt;

	assert_int_equal(hwpt_alloc_nested(ctx, fx.idev, fx.viommu, 0, 0, 0, &nested), 0);
	pt = nested;
	assert_int_equal(mock_replace(ctx, fx.stdev, &pt), 0);
}

static int setup(void **state)
{
	(void)state;
	if (fixture_open() || fixture_buffer(BUF_SIZE, 4096))
		return -1;
	memset(&fx, 0, sizeof(fx));
	fx.ioas = ioas_alloc(ctx);
	if (mock_domain(ctx, fx.ioas, &fx.stdev, NULL, &fx.idev) ||
	    hwpt_alloc(ctx, fx.idev, fx.ioas, IOMMU_HWPT_ALLOC_NEST_PARENT, &fx.s2) ||
	    viommu_alloc(fx.idev, fx.s2, IOMMU_VIOMMU_TYPE_SELFTEST, &fx.viommu))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	int rc = fixture_close(BUF_SIZE);

	fixture_buffer_free();
	return rc;
}

static void test_alloc_rules(void **state)
{
	(void)state;
	uint32_t id;
	int fd;

	assert_int_equal(veventq_alloc_full(fx.viommu, IOMMU_VEVENTQ_TYPE_SELFTEST, 2, 1, 0, &id,
					    &fd), -EOPNOTSUPP);
	assert_int_equal(veventq_alloc_full(fx.viommu, IOMMU_VEVENTQ_TYPE_SELFTEST, 2, 0, 1, &id,
					    &fd), -EOPNOTSUPP);
	assert_int_equal(veventq_alloc(fx.viommu, 0 /* DEFAULT */, 2, &id, &fd), -EOPNOTSUPP);
	assert_int_equal(veventq_alloc(fx.viommu, IOMMU_VEVENTQ_TYPE_SELFTEST, 0, &id, &fd),
			 -EINVAL);
	/* Linux 7.2 bounds the depth at 1 << 19 ("iommufd: Set veventq_depth
	 * upper bound"). */
	assert_int_equal(veventq_alloc(fx.viommu, IOMMU_VEVENTQ_TYPE_SELFTEST, (1u << 19) + 1, &id,
				       &fd),
			 -EINVAL);
	assert_int_equal(veventq_alloc(fx.ioas, IOMMU_VEVENTQ_TYPE_SELFTEST, 2, &id, &fd), -ENOENT);
	assert_int_equal(veventq_alloc(999, IOMMU_VEVENTQ_TYPE_SELFTEST, 2, &id, &fd), -ENOENT);
	/* Nothing was made: the next object gets the next ID. */
	size_t before = iofd_object_count(ctx);
	assert_int_equal(veventq_alloc(fx.viommu, IOMMU_VEVENTQ_TYPE_SELFTEST, 2, &id, &fd), 0);
	assert_int_equal(id, fx.viommu + 1);
	assert_int_equal(iofd_object_count(ctx), before + 1);
	/* One per type: a second SELFTEST queue is EEXIST, another type is fine. */
	uint32_t id2;
	int fd2;
	assert_int_equal(veventq_alloc(fx.viommu, IOMMU_VEVENTQ_TYPE_SELFTEST, 5, &id2, &fd2),
			 -EEXIST);
	assert_int_equal(veventq_alloc(fx.viommu, IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, 5, &id2, &fd2), 0);
	/* The queues use the vIOMMU; the open descriptor uses its queue. */
	assert_int_equal(destroy(ctx, fx.viommu), -EBUSY);
	assert_int_equal(destroy(ctx, id), -EBUSY);
	tfd_close(&files, fd);
	assert_int_equal(destroy(ctx, id), 0);
	tfd_close(&files, fd2);
	assert_int_equal(destroy(ctx, id2), 0);
	assert_int_equal(destroy(ctx, fx.viommu), 0);
	/* The type's place is free again once its queue is gone. */
	assert_int_equal(viommu_alloc(fx.idev, fx.s2, IOMMU_VIOMMU_TYPE_SELFTEST, &fx.viommu), 0);
	assert_int_equal(veventq_alloc(fx.viommu, IOMMU_VEVENTQ_TYPE_SELFTEST, 1, &id, &fd), 0);
}

static void test_alloc_size_and_abi(void **state)
{
	(void)state;
	/* min size = offsetofend(__reserved) = 32: one byte short is EINVAL. */
	struct iofd_veventq_alloc a = {.size = 31, .viommu_id = fx.viommu,
				       .type = IOMMU_VEVENTQ_TYPE_SELFTEST, .veventq_depth = 1};
	assert_int_equal(ioc(ctx, IOFD_NR_VEVENTQ_ALLOC, &a), -EINVAL);
	/* Linux 6.12 has no vEVENT queues. */
	struct iofd_ctx *old = iofd_open(&iofd_uaccess_self, IOFD_ABI_6_12);
	a.size = sizeof(a);
	assert_int_equal(iofd_ioctl(old, IOFD_REQ(IOFD_NR_VEVENTQ_ALLOC), (uintptr_t)&a), -ENOTTY);
	iofd_close(old);
	/* A transport that cannot make descriptors: EOPNOTSUPP, nothing made. */
	struct iofd_ctx *nofd = tctx_open(NULL, IOFD_ABI_NEWEST);
	uint32_t ioas = ioas_alloc(nofd), stdev, idev, s2, v;
	assert_int_equal(mock_domain(nofd, ioas, &stdev, NULL, &idev), 0);
	assert_int_equal(hwpt_alloc(nofd, idev, ioas, IOMMU_HWPT_ALLOC_NEST_PARENT, &s2), 0);
	struct iofd_viommu_alloc va = {.size = sizeof(va), .type = IOMMU_VIOMMU_TYPE_SELFTEST,
				       .dev_id = idev, .hwpt_id = s2};
	assert_int_equal(ioc(nofd, IOFD_NR_VIOMMU_ALLOC, &va), 0);
	v = va.out_viommu_id;
	size_t before = iofd_object_count(nofd);
	a.viommu_id = v;
	assert_int_equal(ioc(nofd, IOFD_NR_VEVENTQ_ALLOC, &a), -EOPNOTSUPP);
	assert_int_equal(iofd_object_count(nofd), before);
	assert_int_equal(destroy(nofd, v), 0); /* the vIOMMU is not held */
	iofd_close(nofd);
}

static void test_trigger_and_read(void **state)
{
	(void)state;
	uint32_t id;
	int fd;
	uint8_t buf[64];

	assert_int_equal(vdevice(fx.viommu, fx.idev, 0x99, NULL), 0);
	/* Not attached through the vIOMMU: nothing to report from. */
	assert_int_equal(trigger(fx.idev), -ENOENT);
	assert_int_equal(trigger(999), -ENOENT);
	attach_through_viommu();
	/* No queue of the selftest type yet. */
	assert_int_equal(trigger(fx.idev), -EOPNOTSUPP);
	assert_int_equal(veventq_alloc(fx.viommu, IOMMU_VEVENTQ_TYPE_SELFTEST, 4, &id, &fd), 0);
	struct iofd_file *f = tfd_file_of(&files, fd);
	assert_non_null(f);
	assert_int_equal(iofd_file_poll(f) & POLLIN, 0);
	assert_int_equal(iofd_file_read(f, buf, sizeof(buf), 0), 0); /* empty */

	assert_int_equal(trigger(fx.idev), 0);
	assert_int_equal(iofd_file_poll(f) & (POLLIN | POLLOUT), POLLIN);
	/* Offset must be 0; a count below the header, or a buffer too small
	 * for the whole first vEVENT: EINVAL (Linux 7.2, "iommufd: Reject
	 * invalid read count in iommufd_veventq_fops_read()"); nothing is
	 * taken from the queue. */
	assert_int_equal(iofd_file_read(f, buf, sizeof(buf), 8), -ESPIPE);
	assert_int_equal(iofd_file_read(f, buf, 0, 0), -EINVAL);
	assert_int_equal(iofd_file_read(f, buf, 4, 0), -EINVAL);
	assert_int_equal(iofd_file_read(f, buf, 11, 0), -EINVAL);
	assert_int_equal(iofd_file_poll(f) & POLLIN, POLLIN);
	/* Nothing to write to a vEVENT queue. */
	assert_int_equal(iofd_file_write(f, buf, 8, 0), -EINVAL);
	/* header {flags 0, sequence 0} then {virt_id}. */
	memset(buf, 0xff, sizeof(buf));
	assert_int_equal(iofd_file_read(f, buf, sizeof(buf), 0), 12);
	uint32_t w[3];
	memcpy(w, buf, sizeof(w));
	assert_int_equal(w[0], 0);
	assert_int_equal(w[1], 0);
	assert_int_equal(w[2], 0x99);
	assert_int_equal(iofd_file_poll(f) & POLLIN, 0);
	/* Two more: sequence 1 and 2, both in one read. */
	assert_int_equal(trigger(fx.idev), 0);
	assert_int_equal(trigger(fx.idev), 0);
	assert_int_equal(iofd_file_read(f, buf, sizeof(buf), 0), 24);
	uint32_t two[6];
	memcpy(two, buf, sizeof(two));
	assert_int_equal(two[1], 1);
	assert_int_equal(two[4], 2);
	assert_int_equal(two[2], 0x99);
	assert_int_equal(two[5], 0x99);
	/* A read of exactly one vEVENT leaves the next queued. */
	assert_int_equal(trigger(fx.idev), 0);
	assert_int_equal(trigger(fx.idev), 0);
	assert_int_equal(iofd_file_read(f, buf, 12 + 11, 0), 12);
	assert_int_equal(iofd_file_read(f, buf, sizeof(buf), 0), 12);
	memcpy(w, buf, sizeof(w));
	assert_int_equal(w[1], 4);
}

static void test_overflow(void **state)
{
	(void)state;
	uint32_t id;
	int fd;
	uint8_t buf[128];
	uint32_t w[16];

	assert_int_equal(vdevice(fx.viommu, fx.idev, 7, NULL), 0);
	attach_through_viommu();
	assert_int_equal(veventq_alloc(fx.viommu, IOMMU_VEVENTQ_TYPE_SELFTEST, 2, &id, &fd), 0);
	struct iofd_file *f = tfd_file_of(&files, fd);
	/* Depth 2: the 3rd to 5th are lost; the queue ends in one LOST header
	 * carrying the last sequence handed out (4). */
	for (int i = 0; i < 5; i++)
		assert_int_equal(trigger(fx.idev), 0);
	/* Room for the two vEVENTs but not the header after them. */
	assert_int_equal(iofd_file_read(f, buf, 24 + 7, 0), 24);
	memcpy(w, buf, 24);
	assert_int_equal(w[0], 0);
	assert_int_equal(w[1], 0);
	assert_int_equal(w[2], 7);
	assert_int_equal(w[4], 1);
	/* The LOST header alone: 8 bytes, no data. */
	assert_true(iofd_file_poll(f) & POLLIN);
	assert_int_equal(iofd_file_read(f, buf, sizeof(buf), 0), 8);
	memcpy(w, buf, 8);
	assert_int_equal(w[0], IOMMU_VEVENTQ_FLAG_LOST_EVENTS);
	assert_int_equal(w[1], 4);
	assert_int_equal(iofd_file_poll(f) & POLLIN, 0);
	/* The next vEVENT continues the sequence. */
	assert_int_equal(trigger(fx.idev), 0);
	assert_int_equal(iofd_file_read(f, buf, sizeof(buf), 0), 12);
	memcpy(w, buf, 12);
	assert_int_equal(w[0], 0);
	assert_int_equal(w[1], 5);

	/* An overflow, then room again: the next vEVENT replaces the
	 * trailing LOST header, and the gap in the sequence tells the loss. */
	for (int i = 0; i < 3; i++)
		assert_int_equal(trigger(fx.idev), 0); /* 6, 7 queued; 8 lost */
	assert_int_equal(iofd_file_read(f, buf, 12, 0), 12); /* reads 6 */
	assert_int_equal(trigger(fx.idev), 0);                /* 9 */
	assert_int_equal(iofd_file_read(f, buf, sizeof(buf), 0), 24);
	memcpy(w, buf, 24);
	assert_int_equal(w[1], 7);
	assert_int_equal(w[0], 0);
	assert_int_equal(w[4], 9);
	assert_int_equal(w[3], 0);
}

static void test_virt_id_zero(void **state)
{
	(void)state;
	uint32_t id;
	int fd;

	/* Linux's mock reports only a non-zero virtual ID. */
	assert_int_equal(vdevice(fx.viommu, fx.idev, 0, NULL), 0);
	attach_through_viommu();
	assert_int_equal(veventq_alloc(fx.viommu, IOMMU_VEVENTQ_TYPE_SELFTEST, 2, &id, &fd), 0);
	assert_int_equal(trigger(fx.idev), -ENOENT);
	/* Back on a plain paging HWPT: nothing through the vIOMMU. */
	uint32_t pt = fx.ioas;
	assert_int_equal(mock_replace(ctx, fx.stdev, &pt), 0);
	assert_int_equal(trigger(fx.idev), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_alloc_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alloc_size_and_abi, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trigger_and_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overflow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_virt_id_zero, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
