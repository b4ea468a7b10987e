/*
 * test_fault.c - IOMMU_FAULT_QUEUE_ALLOC and the fault queue descriptor:
 * the descriptor comes from the transport (install_file), a nested HWPT
 * allocated with FAULT_ID_VALID sends the page requests of its devices
 * there (IOMMU_TEST_OP_TRIGGER_IOPF), read(2) hands out 40-byte records
 * with cookies, write(2) takes the responses, poll(2) says what is
 * queued; the object is busy while its descriptor or a HWPT holds it, and
 * the descriptor keeps the context alive after /dev/iommu is closed.
 *
 * Expected values come from Linux 6.12 (Debian 6.12.117):
 * drivers/iommu/iommufd/fault.c ("D/fault.c"), device.c, selftest.c
 * (iommufd_test_trigger_iopf) and the selftest tools/testing/selftests/
 * iommu/iommufd.c alloc_hwpt_nested / iommufd_utils.h
 * _test_cmd_trigger_iopf, as gathered in /work/notes/domain_facts.md
 * section 5.6; the transport contract (EOPNOTSUPP without install_file)
 * from include/iommusim/iommufd.h.
 */
#include <poll.h>

#include "tests/iommufd/iofd_test.h"

#define REC 40u /* sizeof(struct iommu_hwpt_pgfault) */
#define RESP 8u /* sizeof(struct iommu_hwpt_page_response) */
#define RWPERM (IOMMU_PGFAULT_PERM_READ | IOMMU_PGFAULT_PERM_WRITE)
#define ADDR 0xdeadbeafull /* T/iommufd_utils.h _test_cmd_trigger_iopf */


static int setup(void **state)
{
	(void)state;
	return fixture_open();
}

static int teardown(void **state)
{
	(void)state;
	return fixture_close(4096);
}

static int group_setup(void **state)
{
	(void)state;
	return fixture_buffer(4096, 4096);
}

static int group_teardown(void **state)
{
	(void)state;
	return fixture_buffer_free();
}

/*
 * The selftest's world (alloc_hwpt_nested): IOAS 1, device (stdev 2,
 * idev 3, automatic hwpt 4), NEST_PARENT hwpt 5, fault queue 6, nested
 * hwpt 7 with FAULT_ID_VALID, and the device replaced onto it (the
 * automatic domain goes).  Returns the fault descriptor.
 */
static int fault_world(void)
{
	uint32_t id, pt;
	int fd;

	assert_int_equal(ioas_alloc(ctx), 1);
	assert_int_equal(mock_domain(ctx, 1, NULL, NULL, NULL), 0);
	assert_int_equal(hwpt_alloc(ctx, 3, 1, IOMMU_HWPT_ALLOC_NEST_PARENT, &id), 0);
	assert_int_equal(id, 5);
	assert_int_equal(fault_alloc(ctx, 0, &id, &fd), 0);
	assert_int_equal(id, 6);
	assert_int_equal(hwpt_alloc_nested(ctx, 3, 5, IOMMU_HWPT_FAULT_ID_VALID, 6,
					   IOMMU_TEST_IOTLB_DEFAULT, &id),
			 0);
	assert_int_equal(id, 7);
	pt = 7;
	assert_int_equal(mock_replace(ctx, 2, &pt), 0);
	assert_int_equal(pt, 7);
	return fd;
}

static struct iofd_file *F(int fd)
{
	struct iofd_file *f = tfd_file_of(&files, fd);

	assert_non_null(f);
	return f;
}

static long respond(int fd, uint32_t cookie, uint32_t code)
{
	struct iofd_hwpt_page_response r = {.cookie = cookie, .code = code};

	return iofd_file_write(F(fd), &r, sizeof(r), 0);
}

/* Read exactly one record and check what the selftest's trigger put in it. */
static uint32_t read_one(int fd, uint32_t dev, uint32_t pasid, uint32_t grpid, uint32_t perm,
			 uint64_t addr)
{
	struct iofd_hwpt_pgfault r[2];

	memset(r, 0x5a, sizeof(r));
	assert_int_equal(iofd_file_read(F(fd), r, REC, 0), REC);
	/* D/fault.c iommufd_compose_fault_message: prm flags, the idev's
	 * object ID, pasid, grpid, perm, addr, length 0, the cookie; the
	 * record is built from a zeroed struct (__reserved 0). */
	assert_int_equal(r[0].flags, IOMMU_PGFAULT_FLAGS_LAST_PAGE |
					     (pasid ? IOMMU_PGFAULT_FLAGS_PASID_VALID : 0));
	assert_int_equal(r[0].dev_id, dev);
	assert_int_equal(r[0].pasid, pasid);
	assert_int_equal(r[0].grpid, grpid);
	assert_int_equal(r[0].perm, perm);
	assert_int_equal(r[0].reserved, 0);
	assert_int_equal(r[0].addr, addr);
	assert_int_equal(r[0].length, 0);
	/* Nothing written past the count. */
	assert_int_equal(((uint8_t *)&r[1])[0], 0x5a);
	return r[0].cookie;
}

/* ------------------------------------------------------------------ */

/*
 * A fault queue is a new descriptor: a transport without install_file
 * cannot make one (include/iommusim/iommufd.h: EOPNOTSUPP), and a failed
 * install's errno is the answer (the kernel's get_unused_fd_flags errno,
 * D/fault.c iommufd_fault_alloc); either way no object and no ID are left
 * (iommufd_object_abort_and_destroy).
 */
static void test_alloc_needs_install_file(void **state)
{
	struct iofd_ctx *plain = iofd_open(&iofd_uaccess_self, IOFD_ABI_NEWEST);
	uint32_t id = 0;
	int fd = -1;

	(void)state;
	assert_non_null(plain);
	assert_int_equal(fault_alloc(plain, 0, &id, &fd), -EOPNOTSUPP);
	assert_int_equal(iofd_object_count(plain), 0);
	assert_int_equal(ioas_alloc(plain), 1);
	iofd_close(plain);

	files.refuse = true;
	assert_int_equal(fault_alloc(ctx, 0, &id, &fd), -EMFILE);
	assert_int_equal(iofd_object_count(ctx), 0);
	files.refuse = false;
	assert_int_equal(ioas_alloc(ctx), 1);
	assert_int_equal(files.installs, 0);
}

/*
 * D/fault.c iommufd_fault_alloc: flags must be 0 (EOPNOTSUPP); the queue
 * takes the lowest free object ID and the descriptor the transport gave;
 * struct size below 16 is EINVAL (D/main.c, min_size = out_fault_fd).
 * DESTROY while the descriptor is open: EBUSY (the file holds a user,
 * refcount_inc(&fault->obj.users)); after close(2) it can go.
 */
static void test_alloc(void **state)
{
	uint32_t id0, id1;
	int fd0, fd1;

	(void)state;
	assert_int_equal(fault_alloc(ctx, 1, &id0, &fd0), -EOPNOTSUPP);
	assert_int_equal(fault_alloc(ctx, 0x80000000u, &id0, &fd0), -EOPNOTSUPP);
	struct iofd_fault_alloc s = {.size = 12};
	assert_int_equal(ioc(ctx, IOFD_NR_FAULT_QUEUE_ALLOC, &s), -EINVAL);
	assert_int_equal(iofd_object_count(ctx), 0);
	assert_int_equal(files.installs, 0);

	assert_int_equal(fault_alloc(ctx, 0, &id0, &fd0), 0);
	assert_int_equal(id0, 1);
	assert_int_equal(fd0, TFD_BASE);
	assert_ptr_not_equal(tfd_file_of(&files, fd0), NULL);
	assert_int_equal(fault_alloc(ctx, 0, &id1, &fd1), 0);
	assert_int_equal(id1, 2);
	assert_int_equal(fd1, TFD_BASE + 1);
	assert_int_equal(ioas_alloc(ctx), 3);
	assert_int_equal(destroy(ctx, id0), -EBUSY);
	tfd_close(&files, fd0);
	assert_int_equal(destroy(ctx, id0), 0);
	assert_int_equal(destroy(ctx, id0), -ENOENT);
	assert_int_equal(destroy(ctx, id1), -EBUSY);
}

/*
 * The selftest's IOPF round trip (T/iommufd.c alloc_hwpt_nested,
 * T/iommufd_utils.h _test_cmd_trigger_iopf): TRIGGER_IOPF with pasid 1,
 * grpid 2, perm R|W, addr 0xdeadbeaf reaches the queue of the nested HWPT
 * the device is attached to; poll says POLLIN; read(40) gives the record
 * with cookie 1 (xa_alloc on an ALLOC1 xarray: cookies from 1) and flags
 * LAST_PAGE | PASID_VALID (D/selftest.c iommufd_test_trigger_iopf);
 * write of {cookie, SUCCESS} consumes 8 bytes; the cookie is then gone.
 */
static void test_iopf_round_trip(void **state)
{
	int fd;

	(void)state;
	fd = fault_world();
	/* D/fault.c iommufd_fault_fops_poll: EPOLLOUT always, EPOLLIN |
	 * EPOLLRDNORM when something waits to be read. */
	assert_int_equal(iofd_file_poll(F(fd)), POLLOUT);
	assert_int_equal(trigger_iopf(ctx, 3, 1, 2, RWPERM, ADDR), 0);
	assert_int_equal(iofd_file_poll(F(fd)), POLLOUT | POLLIN | POLLRDNORM);
	assert_int_equal(read_one(fd, 3, 1, 2, RWPERM, ADDR), 1);
	assert_int_equal(iofd_file_poll(F(fd)), POLLOUT);
	assert_int_equal(respond(fd, 1, IOFD_PAGE_RESP_SUCCESS), RESP);
	assert_int_equal(respond(fd, 1, IOFD_PAGE_RESP_SUCCESS), -EINVAL);
	/* A fault queue in use by a HWPT is busy too. */
	assert_int_equal(destroy(ctx, 6), -EBUSY);
	assert_int_equal(destroy(ctx, 7), -EBUSY);
}

/*
 * D/fault.c iommufd_fault_fops_read:
 *   *ppos != 0 or count % 40 -> ESPIPE (before anything else);
 *   nothing queued -> 0 (it never blocks);
 *   a group that does not fit is put back: EINVAL if nothing was read
 *   (count 0 included), else the bytes so far;
 *   each group read gets the lowest free cookie from 1.
 * TRIGGER_IOPF with pasid 0: LAST_PAGE only.
 */
static void test_read_rules(void **state)
{
	struct iofd_hwpt_pgfault r[3];
	int fd;

	(void)state;
	fd = fault_world();
	assert_int_equal(iofd_file_read(F(fd), r, REC, 0), 0);
	assert_int_equal(iofd_file_read(F(fd), r, 0, 0), 0);
	assert_int_equal(iofd_file_read(F(fd), r, REC, 1), -ESPIPE);
	assert_int_equal(iofd_file_read(F(fd), r, REC, REC), -ESPIPE);
	assert_int_equal(iofd_file_read(F(fd), r, REC - 1, 0), -ESPIPE);
	assert_int_equal(iofd_file_read(F(fd), r, REC + 1, 0), -ESPIPE);
	assert_int_equal(iofd_file_read(F(fd), r, 1, 0), -ESPIPE);

	assert_int_equal(trigger_iopf(ctx, 3, 0, 7, IOMMU_PGFAULT_PERM_READ, 0x1000), 0);
	assert_int_equal(trigger_iopf(ctx, 3, 5, 8, IOMMU_PGFAULT_PERM_WRITE, 0x2000), 0);
	assert_int_equal(iofd_file_read(F(fd), r, REC, 1), -ESPIPE);
	assert_int_equal(iofd_file_read(F(fd), r, 0, 0), -EINVAL);
	/* Room for one: the first group only; the second stays queued. */
	assert_int_equal(read_one(fd, 3, 0, 7, IOMMU_PGFAULT_PERM_READ, 0x1000), 1);
	assert_int_equal(iofd_file_poll(F(fd)), POLLOUT | POLLIN | POLLRDNORM);
	/* Room for three: what is there. */
	memset(r, 0, sizeof(r));
	assert_int_equal(iofd_file_read(F(fd), r, 3 * REC, 0), REC);
	assert_int_equal(r[0].flags, IOMMU_PGFAULT_FLAGS_LAST_PAGE | IOMMU_PGFAULT_FLAGS_PASID_VALID);
	assert_int_equal(r[0].pasid, 5);
	assert_int_equal(r[0].grpid, 8);
	assert_int_equal(r[0].addr, 0x2000);
	assert_int_equal(r[0].cookie, 2);
	assert_int_equal(iofd_file_poll(F(fd)), POLLOUT);

	/* Cookies: the lowest free.  2 answered, 1 not: the next gets 2. */
	assert_int_equal(respond(fd, 2, IOFD_PAGE_RESP_INVALID), RESP);
	assert_int_equal(trigger_iopf(ctx, 3, 0, 9, 0, 0x3000), 0);
	assert_int_equal(read_one(fd, 3, 0, 9, 0, 0x3000), 2);
	/* Both answered in one write, then the next is 1 again. */
	struct iofd_hwpt_page_response two[2] = {{1, IOFD_PAGE_RESP_SUCCESS},
						 {2, IOFD_PAGE_RESP_SUCCESS}};
	assert_int_equal(iofd_file_write(F(fd), two, sizeof(two), 0), 2 * RESP);
	assert_int_equal(trigger_iopf(ctx, 3, 0, 10, 0, 0x4000), 0);
	assert_int_equal(trigger_iopf(ctx, 3, 0, 11, 0, 0x5000), 0);
	memset(r, 0, sizeof(r));
	assert_int_equal(iofd_file_read(F(fd), r, 2 * REC, 0), 2 * REC);
	assert_int_equal(r[0].grpid, 10);
	assert_int_equal(r[0].cookie, 1);
	assert_int_equal(r[1].grpid, 11);
	assert_int_equal(r[1].cookie, 2);
}

/*
 * D/fault.c iommufd_fault_fops_write: *ppos != 0 or count % 8 -> ESPIPE;
 * a code other than SUCCESS (0) / INVALID (1) -> EINVAL; a cookie not
 * handed out (or already answered) -> EINVAL; it stops at the first bad
 * response and returns the bytes taken so far, or that error when it is
 * the first.
 */
static void test_write_rules(void **state)
{
	struct iofd_hwpt_page_response r[2];
	int fd;

	(void)state;
	fd = fault_world();
	assert_int_equal(trigger_iopf(ctx, 3, 1, 2, RWPERM, ADDR), 0);
	assert_int_equal(trigger_iopf(ctx, 3, 1, 3, RWPERM, ADDR), 0);
	struct iofd_hwpt_pgfault rec[2];
	assert_int_equal(iofd_file_read(F(fd), rec, sizeof(rec), 0), 2 * REC);
	assert_int_equal(rec[0].cookie, 1);
	assert_int_equal(rec[1].cookie, 2);

	r[0] = (struct iofd_hwpt_page_response){1, IOFD_PAGE_RESP_SUCCESS};
	assert_int_equal(iofd_file_write(F(fd), r, RESP, 8), -ESPIPE);
	assert_int_equal(iofd_file_write(F(fd), r, RESP - 1, 0), -ESPIPE);
	assert_int_equal(iofd_file_write(F(fd), r, RESP + 1, 0), -ESPIPE);
	assert_int_equal(respond(fd, 1, 2), -EINVAL);
	assert_int_equal(respond(fd, 1, 0xffffffffu), -EINVAL);
	assert_int_equal(respond(fd, 99, IOFD_PAGE_RESP_SUCCESS), -EINVAL);
	assert_int_equal(respond(fd, 0, IOFD_PAGE_RESP_SUCCESS), -EINVAL);
	/* Bad then good: the error, and the good one is still pending. */
	r[0] = (struct iofd_hwpt_page_response){99, IOFD_PAGE_RESP_SUCCESS};
	r[1] = (struct iofd_hwpt_page_response){1, IOFD_PAGE_RESP_SUCCESS};
	assert_int_equal(iofd_file_write(F(fd), r, sizeof(r), 0), -EINVAL);
	/* Good then bad: the good one's 8 bytes. */
	r[0] = (struct iofd_hwpt_page_response){1, IOFD_PAGE_RESP_INVALID};
	r[1] = (struct iofd_hwpt_page_response){2, 7};
	assert_int_equal(iofd_file_write(F(fd), r, sizeof(r), 0), RESP);
	assert_int_equal(respond(fd, 1, IOFD_PAGE_RESP_SUCCESS), -EINVAL);
	assert_int_equal(respond(fd, 2, IOFD_PAGE_RESP_SUCCESS), RESP);
}

/*
 * write(2) of 0 bytes: 0 % 8 is no ESPIPE, the loop takes nothing and
 * the answer is `done == 0 ? rc : done` with rc still 0 (D/fault.c
 * iommufd_fault_fops_write), i.e. 0, queued requests or not.
 *
 * Regression (fixed): fault.c fault_write answered -EINVAL when it
 * took nothing, whatever the reason.
 */
static void test_write_zero_length(void **state)
{
	struct iofd_hwpt_page_response r = {1, IOFD_PAGE_RESP_SUCCESS};
	int fd;

	(void)state;
	fd = fault_world();
	if (iofd_file_write(F(fd), &r, 0, 0) != 0)
		fail_msg("write of 0 bytes must give 0 "
			 "(D/fault.c iommufd_fault_fops_write)");
	assert_int_equal(trigger_iopf(ctx, 3, 1, 2, RWPERM, ADDR), 0);
	assert_int_equal(read_one(fd, 3, 1, 2, RWPERM, ADDR), 1);
	assert_int_equal(iofd_file_write(F(fd), &r, 0, 0), 0);
	assert_int_equal(respond(fd, 1, IOFD_PAGE_RESP_SUCCESS), RESP);
}

/*
 * D/selftest.c iommufd_test_trigger_iopf: dev_id must be a device
 * (iommufd_get_device: ENOENT for anything else); the op then always
 * returns 0.  A request for a device attached to a HWPT without a fault
 * queue is answered by the core and never queued (drivers/iommu/
 * io-pgfault.c: no iopf_handler).  The record's dev_id is the device
 * object's ID: a second device attached to the same fault HWPT reports its
 * own.
 */
static void test_trigger_iopf(void **state)
{
	struct iofd_hwpt_pgfault r;
	uint32_t stdev, idev, hwpt, pt;
	int fd;

	(void)state;
	fd = fault_world();
	assert_int_equal(trigger_iopf(ctx, 0, 1, 2, RWPERM, ADDR), -ENOENT);
	assert_int_equal(trigger_iopf(ctx, 1, 1, 2, RWPERM, ADDR), -ENOENT); /* IOAS */
	assert_int_equal(trigger_iopf(ctx, 2, 1, 2, RWPERM, ADDR), -ENOENT); /* stdev */
	assert_int_equal(trigger_iopf(ctx, 7, 1, 2, RWPERM, ADDR), -ENOENT); /* HWPT */
	assert_int_equal(trigger_iopf(ctx, 99, 1, 2, RWPERM, ADDR), -ENOENT);
	assert_int_equal(iofd_file_poll(F(fd)), POLLOUT);

	/* A second device on the fault HWPT. */
	assert_int_equal(mock_domain(ctx, 7, &stdev, &hwpt, &idev), 0);
	assert_int_equal(hwpt, 7);
	assert_int_equal(trigger_iopf(ctx, idev, 3, 4, IOMMU_PGFAULT_PERM_READ, 0xfeed0000ull), 0);
	assert_int_equal(read_one(fd, idev, 3, 4, IOMMU_PGFAULT_PERM_READ, 0xfeed0000ull), 1);
	assert_int_equal(respond(fd, 1, IOFD_PAGE_RESP_SUCCESS), RESP);

	/* Attached elsewhere (the NEST_PARENT HWPT): dropped, still 0. */
	pt = 5;
	assert_int_equal(mock_replace(ctx, stdev, &pt), 0);
	assert_int_equal(trigger_iopf(ctx, idev, 0, 1, RWPERM, ADDR), 0);
	assert_int_equal(iofd_file_read(F(fd), &r, REC, 0), 0);
	assert_int_equal(iofd_file_poll(F(fd)), POLLOUT);
}

/*
 * T/iommufd.c alloc_hwpt_nested teardown order: the fault object is busy
 * while its descriptor is open or a HWPT uses it (D/hw_pagetable.c
 * iommufd_hwpt_alloc: refcount_inc(&fault->obj.users)); close the
 * descriptor, destroy the HWPTs, then the fault goes.
 */
static void test_destroy_busy(void **state)
{
	uint32_t pt;
	int fd;

	(void)state;
	fd = fault_world();
	assert_int_equal(destroy(ctx, 6), -EBUSY);
	tfd_close(&files, fd);
	assert_int_equal(destroy(ctx, 6), -EBUSY); /* hwpt 7 */
	assert_int_equal(destroy(ctx, 7), -EBUSY); /* the device */
	pt = 5;
	assert_int_equal(mock_replace(ctx, 2, &pt), 0);
	assert_int_equal(destroy(ctx, 7), 0);
	assert_int_equal(destroy(ctx, 6), 0);
	assert_int_equal(destroy(ctx, 6), -ENOENT);
}

/*
 * Replacing a device away from a fault HWPT answers its outstanding
 * requests with INVALID and forgets them, both the queued ones and the
 * ones read but not yet answered (D/device.c iommufd_hwpt_replace_device
 * -> D/fault.c iommufd_auto_response_faults: the deliver list entries of
 * the old attach handle are moved out, the response xarray entries
 * erased).  So nothing is left to read and the old cookie is unknown.
 *
 * Regression (fixed): device.c hwpt_replace left the fault queue
 * alone, so the queued record is still read and the cookie still taken.
 */
static void test_replace_away_drops_faults(void **state)
{
	struct iofd_hwpt_pgfault r;
	uint32_t pt;
	int fd;

	(void)state;
	fd = fault_world();
	assert_int_equal(trigger_iopf(ctx, 3, 1, 2, RWPERM, ADDR), 0);
	assert_int_equal(read_one(fd, 3, 1, 2, RWPERM, ADDR), 1); /* delivered, unanswered */
	assert_int_equal(trigger_iopf(ctx, 3, 1, 3, RWPERM, ADDR), 0); /* queued */
	pt = 5;
	assert_int_equal(mock_replace(ctx, 2, &pt), 0);
	if (iofd_file_poll(F(fd)) != POLLOUT)
		fail_msg("a queued request survived the replace "
			 "(D/fault.c iommufd_auto_response_faults)");
	assert_int_equal(iofd_file_read(F(fd), &r, REC, 0), 0);
	assert_int_equal(respond(fd, 1, IOFD_PAGE_RESP_SUCCESS), -EINVAL);
}

/*
 * Detaching (here: DESTROY of the selftest object, D/selftest.c
 * iommufd_selftest_destroy -> iommufd_device_detach -> D/device.c
 * iommufd_hwpt_detach_device -> iommufd_auto_response_faults) forgets the
 * device's outstanding requests the same way.
 *
 * Regression (fixed): the detach left the fault queue alone.
 */
static void test_detach_drops_faults(void **state)
{
	struct iofd_hwpt_pgfault r;
	int fd;

	(void)state;
	fd = fault_world();
	assert_int_equal(trigger_iopf(ctx, 3, 1, 2, RWPERM, ADDR), 0);
	assert_int_equal(read_one(fd, 3, 1, 2, RWPERM, ADDR), 1);
	assert_int_equal(trigger_iopf(ctx, 3, 1, 3, RWPERM, ADDR), 0);
	assert_int_equal(destroy(ctx, 2), 0);
	if (iofd_file_poll(F(fd)) != POLLOUT)
		fail_msg("a queued request survived the detach "
			 "(D/device.c iommufd_hwpt_detach_device)");
	assert_int_equal(iofd_file_read(F(fd), &r, REC, 0), 0);
	assert_int_equal(respond(fd, 1, IOFD_PAGE_RESP_SUCCESS), -EINVAL);
	assert_int_equal(destroy(ctx, 7), 0);
}

/*
 * The descriptor holds the context (D/fault.c iommufd_fault_alloc:
 * iommufd_ctx_get; released in iommufd_fault_fops_release): after
 * /dev/iommu is closed the objects live on, so a queued request can still
 * be read and answered; the last release frees everything (no pin left,
 * and the sanitizer build sees no leak).
 */
static void test_file_keeps_context(void **state)
{
	int fd;

	(void)state;
	fd = fault_world();
	assert_int_equal(map_fixed(ctx, 1, buffer, 4096, MOCK_APERTURE_START), 0);
	assert_int_equal(trigger_iopf(ctx, 3, 1, 2, RWPERM, ADDR), 0);
	iofd_close(ctx);
	ctx = NULL;
	assert_int_equal(iofd_file_poll(F(fd)), POLLOUT | POLLIN | POLLRDNORM);
	assert_int_equal(read_one(fd, 3, 1, 2, RWPERM, ADDR), 1);
	assert_int_equal(iofd_file_poll(F(fd)), POLLOUT);
	assert_int_equal(respond(fd, 1, IOFD_PAGE_RESP_SUCCESS), RESP);
	assert_int_equal(respond(fd, 1, IOFD_PAGE_RESP_SUCCESS), -EINVAL);
	tfd_close(&files, fd);
}

/* Two descriptors of one context: the context lives until the last goes. */
static void test_two_files_one_context(void **state)
{
	uint32_t id;
	int fd, fd2;

	(void)state;
	fd = fault_world();
	assert_int_equal(fault_alloc(ctx, 0, &id, &fd2), 0);
	assert_int_equal(id, 4); /* the automatic hwpt's ID was freed */
	iofd_close(ctx);
	ctx = NULL;
	tfd_close(&files, fd);
	/* The context still lives through the second file. */
	assert_int_equal(iofd_file_read(F(fd2), NULL, 0, 0), 0);
	assert_int_equal(iofd_file_poll(F(fd2)), POLLOUT);
	tfd_close(&files, fd2);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_alloc_needs_install_file),
		T(test_alloc),
		T(test_iopf_round_trip),
		T(test_read_rules),
		T(test_write_rules),
		T(test_write_zero_length),
		T(test_trigger_iopf),
		T(test_destroy_busy),
		T(test_replace_away_drops_faults),
		T(test_detach_drops_faults),
		T(test_file_keeps_context),
		T(test_two_files_one_context),
	};
#undef T

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
