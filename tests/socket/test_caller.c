/*
 * test_caller.c - the server's user access for client processes
 * (transport/server/caller.c): copies go to the live process; pinned
 * shared memory stays readable after the process exits, as Linux keeps a
 * pinned page (the selftest's fork_gone); private memory goes with its
 * process (EFAULT); holds are bounded and let go when unpinned; the
 * descriptor hooks a front end binds.
 *
 * Each test forks a child that maps memory and waits; the parent plays
 * the server.  Holding a mapping needs /proc/<pid>/map_files, which needs
 * CAP_SYS_ADMIN: without it the tests that need holds are skipped.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "iommufd/iofd_int.h"
#include "transport/server/caller.h"

#define PAGE 4096u

/* A child process holding some memory until told to go. */
struct child {
	pid_t pid;
	int to_child;   /* a byte: change the memory (see child_main), EOF: exit */
	int from_child; /* addresses, then a byte per change done */
};

enum child_kind { CHILD_SHARED, CHILD_PRIVATE, CHILD_SHARED_RO, CHILD_MANY_SHARED };

#define MANY 40

static uint8_t pattern(uint64_t i)
{
	return (uint8_t)(i * 7 + 3);
}

/*
 * The child maps 4 pages (or MANY separate shared pages) filled with the
 * pattern, sends their addresses, and waits.  On a byte it replaces the
 * first mapping with a private one at the same address filled with 0x5a,
 * and answers with a byte.
 */
static void child_main(enum child_kind kind, int in, int out)
{
	int n = kind == CHILD_MANY_SHARED ? MANY : 1;
	size_t len = kind == CHILD_MANY_SHARED ? PAGE : 4 * PAGE;
	uint8_t *addr[MANY];
	for (int i = 0; i < n; i++) {
		int flags = kind == CHILD_PRIVATE ? MAP_PRIVATE : MAP_SHARED;
		addr[i] = mmap(NULL, len, PROT_READ | PROT_WRITE, flags | MAP_ANONYMOUS, -1, 0);
		if (addr[i] == MAP_FAILED)
			_exit(2);
		for (size_t j = 0; j < len; j++)
			addr[i][j] = pattern(j);
		/* (Shared anonymous mappings are never merged: each is a
		 * file of its own.) */
		if (kind == CHILD_SHARED_RO && mprotect(addr[i], len, PROT_READ))
			_exit(2);
	}
	if (write(out, addr, (size_t)n * sizeof(addr[0])) != (ssize_t)(n * sizeof(addr[0])))
		_exit(2);
	char c;
	while (read(in, &c, 1) == 1) {
		uint8_t *p = mmap(addr[0], len, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		if (p != addr[0])
			_exit(2);
		memset(p, 0x5a, len);
		if (write(out, "", 1) != 1)
			_exit(2);
	}
	_exit(0);
}

static void child_start(struct child *c, enum child_kind kind, uint64_t *addrs)
{
	int down[2], up[2];
	assert_int_equal(pipe(down), 0);
	assert_int_equal(pipe(up), 0);
	c->pid = fork();
	assert_true(c->pid >= 0);
	if (c->pid == 0) {
		close(down[1]);
		close(up[0]);
		child_main(kind, down[0], up[1]);
	}
	close(down[0]);
	close(up[1]);
	c->to_child = down[1];
	c->from_child = up[0];
	int n = kind == CHILD_MANY_SHARED ? MANY : 1;
	void *a[MANY];
	assert_int_equal(read(c->from_child, a, (size_t)n * sizeof(a[0])), n * sizeof(a[0]));
	for (int i = 0; i < n; i++)
		addrs[i] = (uintptr_t)a[i];
}

static void child_remap(struct child *c)
{
	char b;
	assert_int_equal(write(c->to_child, "", 1), 1);
	assert_int_equal(read(c->from_child, &b, 1), 1);
}

static void child_end(struct child *c)
{
	int status;
	close(c->to_child);
	assert_int_equal(waitpid(c->pid, &status, 0), c->pid);
	close(c->from_child);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* Can this process hold another's mappings (map_files needs CAP_SYS_ADMIN)? */
static bool can_hold(void)
{
	return geteuid() == 0;
}

static void check_pattern(const uint8_t *buf, uint64_t from, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (buf[i] != pattern(from + i))
			fail_msg("byte %zu: %#x, not %#x", i, buf[i], pattern(from + i));
}

/* Shared memory, probed (as before a pin), stays readable and writable
 * after its process exits; a process that is gone has nothing to pin. */
static void test_shared_outlives_process(void **state)
{
	(void)state;
	if (!can_hold())
		skip();
	struct srv_callers tab = {0};
	struct child c;
	uint64_t a;
	child_start(&c, CHILD_SHARED, &a);
	const struct iofd_uaccess *ua = srv_callers_get(&tab, c.pid);
	assert_non_null(ua);
	assert_int_equal(ua->probe(ua->opaque, a + PAGE, 2 * PAGE, true), 0);
	size_t ranges, bytes;
	srv_caller_holds(ua, &ranges, &bytes);
	assert_int_equal(ranges, 1);
	assert_int_equal(bytes, 2 * PAGE);
	child_end(&c);

	uint8_t buf[PAGE + 200];
	assert_int_equal(ua->read(ua->opaque, a + PAGE + 100, buf, sizeof(buf)), 0);
	check_pattern(buf, PAGE + 100, sizeof(buf));
	memset(buf, 0xc3, 64);
	assert_int_equal(ua->write(ua->opaque, a + 2 * PAGE, buf, 64), 0);
	uint8_t back[64];
	assert_int_equal(ua->read(ua->opaque, a + 2 * PAGE, back, sizeof(back)), 0);
	assert_memory_equal(back, buf, sizeof(back));
	/* Outside what was held: gone with the process. */
	assert_int_equal(ua->read(ua->opaque, a, buf, 16), -EFAULT);
	assert_int_equal(ua->read(ua->opaque, a + 3 * PAGE - 8, buf, 16), -EFAULT);
	assert_int_equal(ua->probe(ua->opaque, a + PAGE, PAGE, false), -EFAULT);
	assert_null(srv_callers_get(&tab, c.pid));
	srv_callers_free(&tab);
}

/* Private memory cannot be held: after its process exits, EFAULT. */
static void test_private_goes_with_process(void **state)
{
	(void)state;
	struct srv_callers tab = {0};
	struct child c;
	uint64_t a;
	child_start(&c, CHILD_PRIVATE, &a);
	const struct iofd_uaccess *ua = srv_callers_get(&tab, c.pid);
	assert_non_null(ua);
	assert_int_equal(ua->probe(ua->opaque, a, 4 * PAGE, true), 0);
	size_t ranges, bytes;
	srv_caller_holds(ua, &ranges, &bytes);
	assert_int_equal(ranges, 0);
	uint8_t buf[300];
	assert_int_equal(ua->read(ua->opaque, a + 10, buf, sizeof(buf)), 0); /* alive */
	check_pattern(buf, 10, sizeof(buf));
	child_end(&c);
	assert_int_equal(ua->read(ua->opaque, a + 10, buf, sizeof(buf)), -EFAULT);
	assert_int_equal(ua->write(ua->opaque, a + 10, buf, sizeof(buf)), -EFAULT);
	srv_callers_free(&tab);
}

/* While the process lives, copies see its memory as it is now (an ioctl's
 * argument), not what was held at pin time. */
static void test_live_process_is_read_directly(void **state)
{
	(void)state;
	if (!can_hold())
		skip();
	struct srv_callers tab = {0};
	struct child c;
	uint64_t a;
	child_start(&c, CHILD_SHARED, &a);
	const struct iofd_uaccess *ua = srv_callers_get(&tab, c.pid);
	assert_int_equal(ua->probe(ua->opaque, a, 4 * PAGE, false), 0);
	child_remap(&c);
	uint8_t buf[32], want[32];
	memset(want, 0x5a, sizeof(want));
	assert_int_equal(ua->read(ua->opaque, a, buf, sizeof(buf)), 0);
	assert_memory_equal(buf, want, sizeof(buf));
	child_end(&c);
	/* Gone: the held (pinned) pages answer. */
	assert_int_equal(ua->read(ua->opaque, a, buf, sizeof(buf)), 0);
	check_pattern(buf, 0, sizeof(buf));
	srv_callers_free(&tab);
}

/* A read-only mapping: probed for reading, held read-only; writes fail
 * before and after the process exits, as copy_to_user would. */
static void test_read_only_stays_read_only(void **state)
{
	(void)state;
	if (!can_hold())
		skip();
	struct srv_callers tab = {0};
	struct child c;
	uint64_t a;
	child_start(&c, CHILD_SHARED_RO, &a);
	const struct iofd_uaccess *ua = srv_callers_get(&tab, c.pid);
	assert_int_equal(ua->probe(ua->opaque, a, PAGE, true), -EFAULT);
	assert_int_equal(ua->probe(ua->opaque, a, PAGE, false), 0);
	uint8_t buf[16] = {0};
	assert_int_equal(ua->write(ua->opaque, a, buf, sizeof(buf)), -EFAULT);
	child_end(&c);
	assert_int_equal(ua->write(ua->opaque, a, buf, sizeof(buf)), -EFAULT);
	assert_int_equal(ua->read(ua->opaque, a, buf, sizeof(buf)), 0);
	check_pattern(buf, 0, sizeof(buf));
	srv_callers_free(&tab);
}

/* Many probed ranges: holds without pins are let go, a pinned one stays,
 * and a process never holds more than the bound. */
static void test_holds_are_bounded(void **state)
{
	(void)state;
	if (!can_hold())
		skip();
	struct srv_callers tab = {0};
	struct child c;
	uint64_t a[MANY];
	child_start(&c, CHILD_MANY_SHARED, a);
	const struct iofd_uaccess *ua = srv_callers_get(&tab, c.pid);
	assert_int_equal(iofd_pin_pages(ua, a[0], 1, NULL), 0);
	size_t ranges, bytes, most = 0;
	for (int i = 0; i < MANY; i++) {
		assert_int_equal(ua->probe(ua->opaque, a[i], PAGE, true), 0);
		srv_caller_holds(ua, &ranges, &bytes);
		if (ranges > most)
			most = ranges;
	}
	assert_true(most <= 17 && most <= SRV_CALLER_MAX_HOLDS);
	child_end(&c);
	uint8_t buf[8];
	assert_int_equal(ua->read(ua->opaque, a[0], buf, sizeof(buf)), 0);
	check_pattern(buf, 0, sizeof(buf));
	iofd_unpin_pages(ua->mm, a[0], 1);
	srv_callers_free(&tab);
}

static int fake_install(void *arg, struct iofd_file *file)
{
	(void)file;
	++*(int *)arg;
	return 42;
}

static void fake_uninstall(void *arg, int fd)
{
	*(int *)arg += fd;
}

static struct iofd_file *fake_file_of(void *arg, int fd)
{
	return fd == 7 ? (struct iofd_file *)arg : NULL;
}

/* Unbound, ioctls that create descriptors get EOPNOTSUPP and none is
 * found; bound, the front end's hooks answer. */
static void test_file_hooks(void **state)
{
	(void)state;
	struct srv_callers tab = {0};
	const struct iofd_uaccess *ua = srv_callers_get(&tab, getpid());
	assert_non_null(ua);
	assert_int_equal(ua->install_file(ua->opaque, NULL), -EOPNOTSUPP);
	assert_null(ua->file_of(ua->opaque, 7));
	ua->uninstall_file(ua->opaque, 3);
	int calls = 0;
	struct srv_file_hooks h = {fake_install, fake_uninstall, fake_file_of, &calls};
	srv_caller_bind_files(ua, &h);
	assert_int_equal(ua->install_file(ua->opaque, NULL), 42);
	ua->uninstall_file(ua->opaque, 3);
	assert_int_equal(calls, 4);
	assert_ptr_equal(ua->file_of(ua->opaque, 7), &calls);
	srv_caller_bind_files(ua, NULL);
	assert_int_equal(ua->install_file(ua->opaque, NULL), -EOPNOTSUPP);
	/* The same process, the same access (mappings keep pointing at it). */
	assert_ptr_equal(srv_callers_get(&tab, getpid()), ua);
	assert_null(srv_callers_get(&tab, -1));
	srv_callers_free(&tab);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shared_outlives_process),
		cmocka_unit_test(test_private_goes_with_process),
		cmocka_unit_test(test_live_process_is_read_directly),
		cmocka_unit_test(test_read_only_stays_read_only),
		cmocka_unit_test(test_holds_are_bounded),
		cmocka_unit_test(test_file_hooks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
