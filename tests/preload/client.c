/*
 * client.c - a /dev/iommu user for the preload transport's tests.
 *
 * Linked against the C library only: it knows nothing of iommusim and
 * talks to /dev/iommu with the raw uAPI numbers and layouts of Linux's
 * include/uapi/linux/iommufd.h (defined here; Debian 12 ships no such
 * header), as any program would.  Run it under libiommusim-preload.so
 * (LD_PRELOAD, or `iommusim run -- client`).  The expected answers are
 * the kernel's, from its uAPI documentation and errno rules
 * (/work/shared/reference/iommufd.md sections 1-3 and 2.5), not ours;
 * where the preload deliberately differs (fork) the test says so.
 *
 *   client             run every test, print TAP
 *   client transport [PATH]
 *                      the sequence every transport must pass (TAP), on
 *                      /dev/iommu or PATH: IOAS, IOVA ranges, a selftest mock
 *                      device, GET_HW_INFO, nesting parent and nested HWPTs,
 *                      HWPT_INVALIDATE, the errno rules, descriptors created
 *                      by ioctls, fork and threads
 *   client probe [PATH]  open /dev/iommu (or PATH), allocate, map, unmap, destroy
 *                        (and one DESTROY that fails); exit 0 if all answer right
 *   client abi [PATH]    print which kernel the device answers as: 6.12 or newest
 *                        (HWPT_INVALIDATE on a paging HWPT: ENOENT or EINVAL)
 *   client hold [PATH]   open it, make an IOAS with a mock device, a nested HWPT
 *                        and a map of our memory, print "holding", then wait to
 *                        be killed (a client that dies holding objects)
 *   client env         print the IOMMUSIM_* and LD_PRELOAD variables it was given
 *   client exit N      exit with status N
 */
#undef _FILE_OFFSET_BITS /* call open, not open64: both are tested */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* The uAPI (include/uapi/linux/iommufd.h, vfio.h): _IO(';', nr). */

#define IOMMU_DESTROY _IO(';', 0x80)
#define IOMMU_IOAS_ALLOC _IO(';', 0x81)
#define IOMMU_IOAS_ALLOW_IOVAS _IO(';', 0x82)
#define IOMMU_IOAS_IOVA_RANGES _IO(';', 0x84)
#define IOMMU_IOAS_MAP _IO(';', 0x85)
#define IOMMU_IOAS_UNMAP _IO(';', 0x86)
#define IOMMU_FAULT_QUEUE_ALLOC _IO(';', 0x8e)
#define IOMMU_IOAS_MAP_FILE _IO(';', 0x8f) /* 6.13: absent from 6.12 */
#define IOMMU_IOAS_CHANGE_PROCESS _IO(';', 0x92) /* 6.13 */
#define VFIO_GET_API_VERSION _IO(';', 100)
#define VFIO_CHECK_EXTENSION _IO(';', 101)
#define VFIO_TYPE1v2_IOMMU 3

typedef uint64_t u64a __attribute__((aligned(8)));

struct iommu_destroy {
	uint32_t size;
	uint32_t id;
};

struct iommu_ioas_alloc {
	uint32_t size;
	uint32_t flags;
	uint32_t out_ioas_id;
};

enum {
	IOMMU_IOAS_MAP_FIXED_IOVA = 1 << 0,
	IOMMU_IOAS_MAP_WRITEABLE = 1 << 1,
	IOMMU_IOAS_MAP_READABLE = 1 << 2,
};

struct iommu_ioas_map {
	uint32_t size;
	uint32_t flags;
	uint32_t ioas_id;
	uint32_t reserved;
	u64a user_va;
	u64a length;
	u64a iova;
};

struct iommu_ioas_map_file {
	uint32_t size;
	uint32_t flags;
	uint32_t ioas_id;
	int32_t fd;
	u64a start;
	u64a length;
	u64a iova;
};

struct iommu_ioas_change_process {
	uint32_t size;
	uint32_t reserved;
};

/* IOMMU_VIOMMU_ALLOC (6.13; driver data 6.17) and the selftest vIOMMU's
 * data (drivers/iommu/iommufd/iommufd_test.h): an mmap-able page whose
 * first u32 is in_data. */
#define IOMMU_VIOMMU_ALLOC _IO(';', 0x90)
#define IOMMU_VIOMMU_TYPE_SELFTEST 0xdeadbeefu
struct iommu_viommu_alloc {
	uint32_t size;
	uint32_t flags;
	uint32_t type;
	uint32_t dev_id;
	uint32_t hwpt_id;
	uint32_t out_viommu_id;
	uint32_t data_len;
	uint32_t reserved;
	u64a data_uptr;
};
struct iommu_viommu_selftest {
	uint32_t in_data;
	uint32_t out_data;
	u64a out_mmap_offset;
	u64a out_mmap_length;
};

struct iommu_ioas_unmap {
	uint32_t size;
	uint32_t ioas_id;
	u64a iova;
	u64a length;
};

struct iommu_iova_range {
	u64a start;
	u64a last;
};

struct iommu_ioas_iova_ranges {
	uint32_t size;
	uint32_t ioas_id;
	uint32_t num_iovas;
	uint32_t reserved;
	u64a allowed_iovas;
	u64a out_iova_alignment;
};

struct iommu_ioas_allow_iovas {
	uint32_t size;
	uint32_t ioas_id;
	uint32_t num_iovas;
	uint32_t reserved;
	u64a allowed_iovas;
};

#define IOMMU_GET_HW_INFO _IO(';', 0x8a)
#define IOMMU_HW_INFO_TYPE_SELFTEST 0xfeedbeef
#define IOMMU_HW_INFO_SELFTEST_REGVAL 0xdeadbeef
#define IOMMU_HW_CAP_DIRTY_TRACKING (1ull << 0)

struct iommu_hw_info {
	uint32_t size;
	uint32_t flags;
	uint32_t dev_id;
	uint32_t data_len;
	u64a data_uptr;
	uint32_t out_data_type;
	uint8_t out_max_pasid_log2;
	uint8_t reserved[3];
	u64a out_capabilities;
};

struct iommu_test_hw_info {
	uint32_t flags;
	uint32_t test_reg;
};

#define IOMMU_HWPT_INVALIDATE _IO(';', 0x8d)
#define IOMMU_HWPT_INVALIDATE_DATA_SELFTEST 0xdeadbeef
#define IOMMU_HWPT_INVALIDATE_DATA_SELFTEST_INVALID 0xdadbeef
#define IOMMU_TEST_INVALIDATE_FLAG_ALL (1u << 0)

struct iommu_hwpt_invalidate {
	uint32_t size;
	uint32_t hwpt_id;
	u64a data_uptr;
	uint32_t data_type;
	uint32_t entry_len;
	uint32_t entry_num;
	uint32_t reserved;
};

struct iommu_hwpt_invalidate_selftest {
	uint32_t flags;
	uint32_t iotlb_id;
};

struct iommu_fault_alloc {
	uint32_t size;
	uint32_t flags;
	uint32_t out_fault_id;
	uint32_t out_fault_fd;
};

struct iommu_hwpt_page_response {
	uint32_t cookie;
	uint32_t code;
};

struct iommu_hwpt_pgfault {
	uint32_t flags;
	uint32_t dev_id;
	uint32_t pasid;
	uint32_t grpid;
	uint32_t perm;
	uint32_t reserved;
	u64a addr;
	uint32_t length;
	uint32_t cookie;
};

#define PGFAULT_SIZE 40 /* sizeof(struct iommu_hwpt_pgfault) */
#define IOMMU_PGFAULT_FLAGS_PASID_VALID (1u << 0)
#define IOMMU_PGFAULT_FLAGS_LAST_PAGE (1u << 1)
#define IOMMU_PGFAULT_PERM_READ (1u << 0)
#define IOMMU_PGFAULT_PERM_WRITE (1u << 1)

#define IOMMU_HWPT_ALLOC _IO(';', 0x89)
#define IOMMU_HWPT_ALLOC_NEST_PARENT (1u << 0)
#define IOMMU_HWPT_FAULT_ID_VALID (1u << 2)
#define IOMMU_HWPT_DATA_SELFTEST 0xdead

struct iommu_hwpt_alloc {
	uint32_t size;
	uint32_t flags;
	uint32_t dev_id;
	uint32_t pt_id;
	uint32_t out_hwpt_id;
	uint32_t reserved;
	uint32_t data_type;
	uint32_t data_len;
	u64a data_uptr;
	uint32_t fault_id;
	uint32_t reserved2;
};

/* The kernel selftest's own ioctl (drivers/iommu/iommufd/iommufd_test.h). */
#define IOMMU_TEST_CMD _IO(';', 0xa0)
enum {
	IOMMU_TEST_OP_MOCK_DOMAIN = 2,
	IOMMU_TEST_OP_CREATE_ACCESS = 5,
	IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE = 10,
	IOMMU_TEST_OP_MD_CHECK_IOTLB = 14,
	IOMMU_TEST_OP_TRIGGER_IOPF = 15,
};

/* The selftest mock IOMMU (drivers/iommu/iommufd/iommufd_test.h, selftest.c). */
#define MOCK_APERTURE_START (1ull << 24)
#define MOCK_APERTURE_LAST ((1ull << 31) - 1)
#define MOCK_PAGE_SIZE 2048

struct iommu_test_cmd {
	uint32_t size;
	uint32_t op;
	uint32_t id;
	uint32_t reserved;
	union {
		struct {
			uint32_t out_stdev_id;
			uint32_t out_hwpt_id;
			uint32_t out_idev_id;
		} mock_domain;
		struct {
			uint32_t pt_id;
		} mock_domain_replace;
		struct {
			uint32_t out_access_fd;
			uint32_t flags;
		} create_access;
		struct {
			uint32_t id;
			uint32_t iotlb;
		} check_iotlb;
		struct {
			uint32_t dev_id;
			uint32_t pasid;
			uint32_t grpid;
			uint32_t perm;
			u64a addr;
		} trigger_iopf;
		uint8_t pad[48];
	};
	uint32_t last;
};

/* glibc's _FORTIFY_SOURCE entry points, called directly. */
extern int __open_2(const char *path, int flags);
extern int __open64_2(const char *path, int flags);
extern int __openat_2(int dirfd, const char *path, int flags);
extern int __openat64_2(int dirfd, const char *path, int flags);
extern ssize_t __read_chk(int fd, void *buf, size_t len, size_t buflen);

/* ------------------------------------------------------------------ */
/* TAP */

static int ntests, nfailed;
static bool cur_ok;

static void fail_at(int line, const char *what)
{
	int e = errno;
	cur_ok = false;
	printf("# line %d: %s (errno %d: %s)\n", line, what, e, strerror(e));
}

/* Expect a condition. */
#define EXPECT(cond)                                                                       \
	do {                                                                               \
		if (!(cond))                                                               \
			fail_at(__LINE__, "expected " #cond);                              \
	} while (0)

/* Expect a call to fail with -1 (or MAP_FAILED) and errno `err`. */
#define EXPECT_ERR(call, err)                                                              \
	do {                                                                               \
		errno = 0;                                                                 \
		long rc_ = (long)(call);                                                   \
		if (rc_ != -1 || errno != (err))                                           \
			fail_at(__LINE__, "expected " #call " to fail with " #err);        \
	} while (0)

static void run(const char *name, void (*fn)(void))
{
	cur_ok = true;
	fn();
	ntests++;
	if (!cur_ok)
		nfailed++;
	printf("%s %d - %s\n", cur_ok ? "ok" : "not ok", ntests, name);
	fflush(stdout);
}

/* ------------------------------------------------------------------ */
/* Helpers */

/* What the tests open: /dev/iommu, or the PATH of `client transport PATH`. */
static const char *dev_path = "/dev/iommu";

static int open_iommu(void)
{
	return open(dev_path, O_RDWR);
}

static uint32_t ioas_alloc(int fd)
{
	struct iommu_ioas_alloc a = {.size = sizeof(a)};
	if (ioctl(fd, IOMMU_IOAS_ALLOC, &a))
		return 0;
	return a.out_ioas_id;
}

static int destroy(int fd, uint32_t id)
{
	struct iommu_destroy d = {.size = sizeof(d), .id = id};
	return ioctl(fd, IOMMU_DESTROY, &d);
}

static bool is_cloexec(int fd)
{
	int fl = fcntl(fd, F_GETFD);
	return fl >= 0 && (fl & FD_CLOEXEC);
}

static bool is_closed(int fd)
{
	errno = 0;
	return fcntl(fd, F_GETFD) == -1 && errno == EBADF;
}

/* A fresh context answers: no object 1 yet, IOAS_ALLOC gives a non-zero ID
 * which DESTROY then removes. */
static void check_fresh_context(int fd, int line)
{
	if (fd < 0) {
		fail_at(line, "open of /dev/iommu failed");
		return;
	}
	errno = 0;
	if (destroy(fd, 1) != -1 || errno != ENOENT)
		fail_at(line, "DESTROY in a fresh context should give ENOENT");
	uint32_t id = ioas_alloc(fd);
	if (!id)
		fail_at(line, "IOAS_ALLOC failed");
	else if (destroy(fd, id))
		fail_at(line, "DESTROY of the new IOAS failed");
}

/* ------------------------------------------------------------------ */
/* Tests */

static void test_openers(void)
{
	int fd;

	fd = open("/dev/iommu", O_RDWR);
	check_fresh_context(fd, __LINE__);
	EXPECT(!is_cloexec(fd));
	EXPECT(close(fd) == 0);
	fd = open64("/dev/iommu", O_RDWR | O_CLOEXEC);
	check_fresh_context(fd, __LINE__);
	EXPECT(is_cloexec(fd));
	EXPECT(close(fd) == 0);
	fd = openat(AT_FDCWD, "/dev/iommu", O_RDWR | O_CLOEXEC);
	check_fresh_context(fd, __LINE__);
	EXPECT(is_cloexec(fd));
	EXPECT(close(fd) == 0);
	fd = openat64(AT_FDCWD, "/dev/iommu", O_RDWR);
	check_fresh_context(fd, __LINE__);
	EXPECT(close(fd) == 0);
	fd = __open_2("/dev/iommu", O_RDWR);
	check_fresh_context(fd, __LINE__);
	EXPECT(close(fd) == 0);
	fd = __open64_2("/dev/iommu", O_RDWR);
	check_fresh_context(fd, __LINE__);
	EXPECT(close(fd) == 0);
	fd = __openat_2(AT_FDCWD, "/dev/iommu", O_RDWR);
	check_fresh_context(fd, __LINE__);
	EXPECT(close(fd) == 0);
	fd = __openat64_2(AT_FDCWD, "/dev/iommu", O_RDWR);
	check_fresh_context(fd, __LINE__);
	EXPECT(close(fd) == 0);

	FILE *f = fopen("/dev/iommu", "r+");
	EXPECT(f != NULL);
	if (f) {
		fd = fileno(f);
		check_fresh_context(fd, __LINE__);
		EXPECT(fclose(f) == 0);
		EXPECT(is_closed(fd));
	}
	f = fopen64("/dev/iommu", "re");
	EXPECT(f != NULL);
	if (f) {
		fd = fileno(f);
		check_fresh_context(fd, __LINE__);
		EXPECT(is_cloexec(fd));
		EXPECT(fclose(f) == 0);
		EXPECT(is_closed(fd));
	}
	/* Two opens are two contexts: an object of one is unknown to the other. */
	int a = open_iommu(), b = open_iommu();
	uint32_t id = ioas_alloc(a);
	EXPECT(id != 0);
	EXPECT_ERR(destroy(b, id), ENOENT);
	EXPECT(destroy(a, id) == 0);
	close(a);
	close(b);
	/* The device exists (open(2) rules for an existing node). */
	EXPECT(access("/dev/iommu", R_OK | W_OK) == 0);
	EXPECT_ERR(open("/dev/iommu", O_RDWR | O_CREAT | O_EXCL, 0600), EEXIST);
	EXPECT_ERR(open("/dev/iommu", O_RDONLY | O_DIRECTORY), ENOTDIR);
}

static void test_passthrough(void)
{
	/* Other files are the kernel's: a file of our own, a pipe. */
	char path[] = "/tmp/iommusim-preload-XXXXXX";
	int fd = mkstemp(path);
	EXPECT(fd >= 0);
	EXPECT(close(fd) == 0);
	fd = open(path, O_RDWR);
	EXPECT(fd >= 0);
	char c = 0;
	EXPECT(write(fd, "x", 1) == 1);
	EXPECT(pread(fd, &c, 1, 0) == 1 && c == 'x');
	EXPECT(read(fd, &c, 1) == 0); /* at the end */
	EXPECT_ERR(ioctl(fd, IOMMU_IOAS_ALLOC, &c), ENOTTY);
	EXPECT(close(fd) == 0);
	FILE *f = fopen(path, "r");
	EXPECT(f != NULL);
	if (f) {
		EXPECT(fgetc(f) == 'x');
		EXPECT(fclose(f) == 0);
	}
	unlink(path);
	EXPECT_ERR(open("/nonexistent-iommusim-test", O_RDONLY), ENOENT);
	EXPECT_ERR(access("/nonexistent-iommusim-test", F_OK), ENOENT);
	EXPECT_ERR(open("/dev/iommux", O_RDONLY), ENOENT);
	int p[2];
	EXPECT(pipe(p) == 0);
	EXPECT(write(p[1], "abc", 3) == 3);
	int avail = -1;
	EXPECT(ioctl(p[0], FIONREAD, &avail) == 0);
	EXPECT(avail == 3);
	EXPECT_ERR(ioctl(p[0], IOMMU_IOAS_ALLOC, &avail), ENOTTY);
	close(p[0]);
	close(p[1]);
	EXPECT_ERR(ioctl(p[0], IOMMU_IOAS_ALLOC, &avail), EBADF);
}

static void test_ioas(void)
{
	int fd = open_iommu();
	EXPECT(fd >= 0);
	uint32_t ioas = ioas_alloc(fd);
	EXPECT(ioas != 0);
	size_t len = 64 << 10;
	void *buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	EXPECT(buf != MAP_FAILED);

	/* Automatic IOVA: the kernel picks one and writes it back. */
	struct iommu_ioas_map m = {
		.size = sizeof(m), .ioas_id = ioas, .user_va = (uintptr_t)buf, .length = len,
		.flags = IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE, .iova = 0,
	};
	EXPECT(ioctl(fd, IOMMU_IOAS_MAP, &m) == 0);
	uint64_t auto_iova = m.iova;
	/* A fixed IOVA, then the same again: overlap is EEXIST. */
	m.flags |= IOMMU_IOAS_MAP_FIXED_IOVA;
	m.iova = auto_iova + (16u << 20);
	EXPECT(ioctl(fd, IOMMU_IOAS_MAP, &m) == 0);
	EXPECT_ERR(ioctl(fd, IOMMU_IOAS_MAP, &m), EEXIST);
	/* Unmap returns the bytes unmapped in length; nothing left: ENOENT. */
	struct iommu_ioas_unmap u = {.size = sizeof(u), .ioas_id = ioas, .iova = m.iova,
				     .length = len};
	EXPECT(ioctl(fd, IOMMU_IOAS_UNMAP, &u) == 0);
	EXPECT(u.length == len);
	u.length = len;
	EXPECT_ERR(ioctl(fd, IOMMU_IOAS_UNMAP, &u), ENOENT);
	/* 0..U64_MAX unmaps everything (the automatic one). */
	u.iova = 0;
	u.length = UINT64_MAX;
	EXPECT(ioctl(fd, IOMMU_IOAS_UNMAP, &u) == 0);
	EXPECT(u.length == len);
	/* Unknown IOAS: ENOENT. */
	m.ioas_id = ioas + 1000;
	EXPECT_ERR(ioctl(fd, IOMMU_IOAS_MAP, &m), ENOENT);
	EXPECT(destroy(fd, ioas) == 0);
	EXPECT_ERR(destroy(fd, ioas), ENOENT);
	munmap(buf, len);
	EXPECT(close(fd) == 0);
}

static void test_errnos(void)
{
	int fd = open_iommu();
	EXPECT(fd >= 0);
	struct iommu_ioas_alloc a = {.size = sizeof(a)};

	/* Unknown number, or size/direction bits set: ENOTTY. */
	EXPECT_ERR(ioctl(fd, _IO(';', 0xff), &a), ENOTTY);
	EXPECT_ERR(ioctl(fd, _IOWR(';', 0x81, struct iommu_ioas_alloc), &a), ENOTTY);
	/* FIONREAD (_IO('T', 0x1b)) reaches iommufd, which knows it not; but
	 * for a regular file (a FUSE file) the VFS answers it itself: 0 bytes. */
	struct stat st;
	int avail = -1;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		EXPECT(ioctl(fd, _IO('T', 0x1b), &avail) == 0 && avail == 0);
	else
		EXPECT_ERR(ioctl(fd, _IO('T', 0x1b), &a), ENOTTY);
	/* The argument cannot be read: EFAULT, not a crash. */
	EXPECT_ERR(ioctl(fd, IOMMU_IOAS_ALLOC, NULL), EFAULT);
	EXPECT_ERR(ioctl(fd, IOMMU_IOAS_ALLOC, (void *)8), EFAULT);
	/* Shorter than the first version: EINVAL; unknown non-zero tail: E2BIG. */
	struct {
		struct iommu_destroy d;
		uint32_t tail;
	} d = {{.size = 4, .id = 1}, 0};
	EXPECT_ERR(ioctl(fd, IOMMU_DESTROY, &d), EINVAL);
	d.d.size = sizeof(d);
	d.tail = 1;
	EXPECT_ERR(ioctl(fd, IOMMU_DESTROY, &d), E2BIG);
	d.tail = 0;
	EXPECT_ERR(ioctl(fd, IOMMU_DESTROY, &d), ENOENT);
	/* VFIO compatibility: version 0, type1v2 supported (a positive answer). */
	EXPECT(ioctl(fd, VFIO_GET_API_VERSION) == 0);
	EXPECT(ioctl(fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) > 0);
	/* /dev/iommu has no read, write or (6.12) mmap. */
	char buf[64];
	EXPECT_ERR(read(fd, buf, sizeof(buf)), EINVAL);
	EXPECT_ERR(write(fd, buf, sizeof(buf)), EINVAL);
	EXPECT_ERR(pread(fd, buf, sizeof(buf), 0), EINVAL);
	struct iovec iov = {buf, sizeof(buf)};
	EXPECT_ERR(readv(fd, &iov, 1), EINVAL);
	/* mmap at an offset no driver handed out: ENXIO from 6.17 on; ENODEV
	 * from 6.12 (no iommufd mmap), and from a server transport, which
	 * cannot map its memory into the caller (docs/transports.md). */
	errno = 0;
	EXPECT(mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0) == MAP_FAILED);
	EXPECT(errno == ENXIO || errno == ENODEV);
	/* The VFS's own requests work on it. */
	EXPECT(ioctl(fd, FIOCLEX) == 0);
	EXPECT(is_cloexec(fd));
	EXPECT(ioctl(fd, FIONCLEX) == 0);
	EXPECT(!is_cloexec(fd));
	EXPECT(close(fd) == 0);
	/* Closed: the kernel's EBADF. */
	EXPECT_ERR(ioctl(fd, IOMMU_IOAS_ALLOC, &a), EBADF);
	EXPECT_ERR(close(fd), EBADF);
}

static void test_dup(void)
{
	int fd = open_iommu();
	uint32_t a = ioas_alloc(fd);
	EXPECT(a != 0);

	/* dup, then close the original: the copy is the same context. */
	int d = dup(fd);
	EXPECT(d >= 0 && d != fd);
	EXPECT(close(fd) == 0);
	EXPECT(destroy(d, a) == 0);
	a = ioas_alloc(d);
	EXPECT(a != 0);

	EXPECT(dup2(d, 200) == 200);
	EXPECT(close(d) == 0);
	EXPECT(is_closed(d));
	EXPECT_ERR(ioctl(d, IOMMU_IOAS_ALLOC, NULL), EBADF);
	int f1 = fcntl(200, F_DUPFD, 300);
	EXPECT(f1 >= 300 && !is_cloexec(f1));
	int f2 = fcntl(200, F_DUPFD_CLOEXEC, 300);
	EXPECT(f2 >= 300 && f2 != f1 && is_cloexec(f2));
	EXPECT(dup3(f2, 250, O_CLOEXEC) == 250);
	EXPECT(is_cloexec(250));
	uint32_t b = ioas_alloc(f1);
	EXPECT(b != 0 && b != a);
	EXPECT(destroy(250, a) == 0);
	EXPECT(destroy(f2, b) == 0);
	EXPECT_ERR(destroy(200, b), ENOENT);

	/* dup2 onto another open context replaces it. */
	int other = open_iommu();
	uint32_t c = ioas_alloc(200);
	EXPECT(c != 0);
	EXPECT(dup2(200, other) == other);
	EXPECT(destroy(other, c) == 0);
	/* dup2 of a descriptor onto itself changes nothing. */
	EXPECT(dup2(other, other) == other);
	EXPECT(ioas_alloc(other) != 0);

	int fds[] = {200, 250, f1, f2, other};
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		EXPECT(close(fds[i]) == 0);
		EXPECT_ERR(ioctl(fds[i], IOMMU_IOAS_ALLOC, NULL), EBADF);
	}

	/* A descriptor closed behind the C library's back (a raw system call)
	 * and reused by an open of another file is that file. */
	fd = open_iommu();
	EXPECT(syscall(SYS_close, fd) == 0);
	int n = open("/proc/self/exe", O_RDONLY);
	EXPECT(n == fd); /* lowest free number */
	struct iommu_ioas_alloc al = {.size = sizeof(al)};
	EXPECT_ERR(ioctl(n, IOMMU_IOAS_ALLOC, &al), ENOTTY);
	char elf[4];
	EXPECT(read(n, elf, 4) == 4 && !memcmp(elf, "\177ELF", 4));
	close(n);
}

static void test_close_range(void)
{
	int fd = open_iommu();
	EXPECT(fd >= 0);
	EXPECT(dup2(fd, 400) == 400 && dup2(fd, 401) == 401 && dup2(fd, 402) == 402);
	EXPECT(close(fd) == 0);
	/* CLOSE_RANGE_CLOEXEC only marks them. */
	EXPECT(close_range(400, 401, CLOSE_RANGE_CLOEXEC) == 0);
	EXPECT(is_cloexec(400) && is_cloexec(401) && !is_cloexec(402));
	uint32_t id = ioas_alloc(401);
	EXPECT(id != 0);
	EXPECT(destroy(400, id) == 0);
	EXPECT(close_range(400, 401, 0) == 0);
	EXPECT_ERR(ioctl(400, IOMMU_IOAS_ALLOC, NULL), EBADF);
	EXPECT_ERR(ioctl(401, IOMMU_IOAS_ALLOC, NULL), EBADF);
	EXPECT(ioas_alloc(402) != 0); /* outside the range: still open */
	EXPECT(dup2(402, 900) == 900);
	EXPECT(close_range(402, 402, 0) == 0);
	EXPECT(ioas_alloc(900) != 0);
	closefrom(900);
	EXPECT(is_closed(900));
	EXPECT_ERR(ioctl(900, IOMMU_IOAS_ALLOC, NULL), EBADF);
}

/*
 * fork: the child's descriptor works.  The kernel shares one context
 * between parent and child (one open file), and so does the preload when
 * it forwards to a server ($IOMMUSIM_CONNECT): the parent sees the child's
 * DESTROY and its new IOAS.  In-process the preload keeps state per
 * process (docs/transports.md): the parent sees neither.  The child's IOAS
 * is a + 1 in both (IDs are the lowest free: Linux's xa_alloc).
 */
static bool fork_shares(void)
{
	return getenv("IOMMUSIM_CONNECT") != NULL;
}

static void test_fork(void)
{
	int fd = open_iommu();
	uint32_t a = ioas_alloc(fd);
	EXPECT(a != 0);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		int ok = ioas_alloc(fd) == a + 1 && destroy(fd, a) == 0 && close(fd) == 0;
		_exit(ok ? 0 : 1);
	}
	EXPECT(pid > 0);
	int status = -1;
	EXPECT(waitpid(pid, &status, 0) == pid);
	EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	if (fork_shares()) {
		EXPECT_ERR(destroy(fd, a), ENOENT); /* the child destroyed it */
		EXPECT(destroy(fd, a + 1) == 0);    /* the child allocated it */
	} else {
		EXPECT(destroy(fd, a) == 0);         /* per-process copy */
		EXPECT_ERR(destroy(fd, a + 1), ENOENT);
	}
	EXPECT(close(fd) == 0);
}

/* Threads: IOAS_ALLOC/DESTROY from 4 threads on one descriptor never hand
 * out an ID that is alive, and lose none. */
#define THREADS 4
#define ROUNDS 300
#define BATCH 4
#define MAXID 65536

static int shared_fd;
static unsigned char live[MAXID];
static int thread_errors;

static void *worker(void *arg)
{
	(void)arg;
	for (int r = 0; r < ROUNDS; r++) {
		uint32_t ids[BATCH];
		for (int i = 0; i < BATCH; i++) {
			ids[i] = ioas_alloc(shared_fd);
			if (!ids[i] || ids[i] >= MAXID ||
			    __atomic_exchange_n(&live[ids[i]], 1, __ATOMIC_SEQ_CST)) {
				__atomic_add_fetch(&thread_errors, 1, __ATOMIC_SEQ_CST);
				ids[i] = 0;
			}
		}
		for (int i = 0; i < BATCH; i++) {
			if (!ids[i])
				continue;
			__atomic_store_n(&live[ids[i]], 0, __ATOMIC_SEQ_CST);
			if (destroy(shared_fd, ids[i]))
				__atomic_add_fetch(&thread_errors, 1, __ATOMIC_SEQ_CST);
		}
	}
	return NULL;
}

static void *blocked_reader(void *arg)
{
	int *p = arg;
	char c;
	/* Blocks until the workers are done: the preload must not hold its
	 * lock across a read of someone else's descriptor. */
	return (void *)(intptr_t)read(p[0], &c, 1);
}

static void test_threads(void)
{
	shared_fd = open_iommu();
	EXPECT(shared_fd >= 0);
	int p[2];
	EXPECT(pipe(p) == 0);
	pthread_t reader, t[THREADS];
	EXPECT(pthread_create(&reader, NULL, blocked_reader, p) == 0);
	for (int i = 0; i < THREADS; i++)
		EXPECT(pthread_create(&t[i], NULL, worker, NULL) == 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	EXPECT(write(p[1], "x", 1) == 1);
	void *got;
	pthread_join(reader, &got);
	EXPECT((intptr_t)got == 1);
	EXPECT(thread_errors == 0);
	/* Nothing is left: every ID a thread could have held is unknown. */
	for (uint32_t id = 1; id <= THREADS * BATCH * 2; id++)
		EXPECT_ERR(destroy(shared_fd, id), ENOENT);
	close(p[0]);
	close(p[1]);
	EXPECT(close(shared_fd) == 0);
}

/*
 * The fault queue descriptor (reference section 2.5, Linux
 * drivers/iommu/iommufd/fault.c): O_CLOEXEC; always writable, readable
 * only with faults queued; reads need offset 0 and a multiple of 40 bytes
 * (else ESPIPE) and give 0 when nothing is queued; writes take 8-byte
 * responses (else ESPIPE), an unknown cookie is EINVAL; the open
 * descriptor keeps the object busy.
 */
static bool fault_queue_served = true;

static int fault_alloc(int fd, struct iommu_fault_alloc *f)
{
	memset(f, 0, sizeof(*f));
	f->size = sizeof(*f);
	return ioctl(fd, IOMMU_FAULT_QUEUE_ALLOC, f);
}

static void test_fault_queue(void)
{
	int fd = open_iommu();
	struct iommu_fault_alloc f;
	errno = 0;
	if (fault_alloc(fd, &f) && errno == ENOTTY) {
		fault_queue_served = false;
		close(fd);
		return;
	}
	int q = (int)f.out_fault_fd;
	EXPECT(q >= 0 && q != fd);
	EXPECT(f.out_fault_id != 0);
	EXPECT(is_cloexec(q));
	struct iommu_fault_alloc bad = {.size = sizeof(bad), .flags = 1};
	EXPECT_ERR(ioctl(fd, IOMMU_FAULT_QUEUE_ALLOC, &bad), EOPNOTSUPP);

	struct pollfd p = {.fd = q, .events = POLLIN | POLLOUT};
	EXPECT(poll(&p, 1, 0) == 1);
	EXPECT((p.revents & POLLOUT) && !(p.revents & POLLIN));

	char buf[2 * PGFAULT_SIZE];
	EXPECT(read(q, buf, PGFAULT_SIZE) == 0);
	EXPECT(read(q, buf, 2 * PGFAULT_SIZE) == 0);
	EXPECT(__read_chk(q, buf, PGFAULT_SIZE, sizeof(buf)) == 0);
	EXPECT_ERR(read(q, buf, PGFAULT_SIZE - 1), ESPIPE);
	EXPECT_ERR(pread(q, buf, PGFAULT_SIZE, PGFAULT_SIZE), ESPIPE);
	struct iovec iov[2] = {{buf, PGFAULT_SIZE}, {buf + PGFAULT_SIZE, PGFAULT_SIZE}};
	EXPECT(readv(q, iov, 2) == 0);
	struct iommu_hwpt_page_response resp = {.cookie = 12345, .code = 0};
	EXPECT_ERR(write(q, &resp, sizeof(resp) - 1), ESPIPE);
	EXPECT_ERR(write(q, &resp, sizeof(resp)), EINVAL);
	/* No ioctls and no mmap on it. */
	struct iommu_ioas_alloc a = {.size = sizeof(a)};
	EXPECT_ERR(ioctl(q, IOMMU_IOAS_ALLOC, &a), ENOTTY);
	EXPECT(mmap(NULL, 4096, PROT_READ, MAP_SHARED, q, 0) == MAP_FAILED);
	EXPECT(errno == ENODEV);

	/* The descriptor, and every copy of it, keeps the object busy. */
	EXPECT_ERR(destroy(fd, f.out_fault_id), EBUSY);
	int d = dup(q);
	EXPECT(close(q) == 0);
	EXPECT_ERR(destroy(fd, f.out_fault_id), EBUSY);
	EXPECT(read(d, buf, PGFAULT_SIZE) == 0);
	/* A forked child reads its own copy. */
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		struct pollfd cp = {.fd = d, .events = POLLIN | POLLOUT};
		_exit(read(d, buf, PGFAULT_SIZE) == 0 && poll(&cp, 1, 0) == 1 &&
		      cp.revents == POLLOUT && close(d) == 0 ? 0 : 1);
	}
	int status = -1;
	EXPECT(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	EXPECT(close(d) == 0);
	EXPECT(destroy(fd, f.out_fault_id) == 0);
	EXPECT_ERR(destroy(fd, f.out_fault_id), ENOENT);

	/* A reply that cannot be written fails the ioctl with EFAULT and
	 * leaves no new descriptor behind (nor a queue: the next one gets the
	 * same number). */
	struct iommu_fault_alloc *ro = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
					    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	EXPECT(ro != MAP_FAILED);
	ro->size = sizeof(*ro);
	EXPECT(mprotect(ro, 4096, PROT_READ) == 0);
	int lowest = dup(0);
	close(lowest);
	EXPECT_ERR(ioctl(fd, IOMMU_FAULT_QUEUE_ALLOC, ro), EFAULT);
	int again = dup(0);
	EXPECT(again == lowest);
	close(again);
	munmap(ro, 4096);
	uint32_t last_id = f.out_fault_id;
	EXPECT(fault_alloc(fd, &f) == 0);
	EXPECT((int)f.out_fault_fd == lowest);
	EXPECT(f.out_fault_id == last_id); /* IDs are the lowest free (Linux: xa_alloc) */
	EXPECT(close((int)f.out_fault_fd) == 0);
	EXPECT(destroy(fd, f.out_fault_id) == 0);

	/* The queue's descriptor outlives /dev/iommu's. */
	EXPECT(fault_alloc(fd, &f) == 0);
	EXPECT(close(fd) == 0);
	EXPECT(read((int)f.out_fault_fd, buf, PGFAULT_SIZE) == 0);
	EXPECT(close((int)f.out_fault_fd) == 0);
}

/*
 * Readiness: a page request makes the fault queue's descriptor readable
 * (poll, epoll), reading it empties it again, and the record carries what
 * was requested.  The request comes from the kernel selftest's mock
 * device, as its iopf test does: a mock device on an IOAS, a nesting
 * parent HWPT, a nested HWPT with the fault queue, the device moved onto
 * it, IOMMU_TEST_OP_TRIGGER_IOPF.
 */
static const char *iopf_missing; /* a step the dispatcher does not serve yet */

static bool iopf_step(long rc, const char *what)
{
	if (rc == 0)
		return true;
	if (errno == ENOTTY || errno == EOPNOTSUPP)
		iopf_missing = what;
	else
		fail_at(__LINE__, what);
	return false;
}

static void trigger_iopf(int fd, uint32_t dev, uint32_t grpid, uint64_t addr)
{
	struct iommu_test_cmd t = {.size = sizeof(t), .op = IOMMU_TEST_OP_TRIGGER_IOPF};
	t.trigger_iopf.dev_id = dev;
	t.trigger_iopf.grpid = grpid;
	t.trigger_iopf.perm = IOMMU_PGFAULT_PERM_READ | IOMMU_PGFAULT_PERM_WRITE;
	t.trigger_iopf.addr = addr;
	EXPECT(ioctl(fd, IOMMU_TEST_CMD, &t) == 0);
}

static short poll_events(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN | POLLOUT};
	return poll(&p, 1, 0) == 1 ? p.revents : 0;
}

static void test_fault_readiness(void)
{
	int fd = open_iommu();
	uint32_t ioas = ioas_alloc(fd);
	struct iommu_test_cmd md = {.size = sizeof(md), .op = IOMMU_TEST_OP_MOCK_DOMAIN, .id = ioas};
	if (!iopf_step(ioctl(fd, IOMMU_TEST_CMD, &md), "TEST_CMD MOCK_DOMAIN")) {
		close(fd);
		return;
	}
	uint32_t stdev = md.mock_domain.out_stdev_id, dev = md.mock_domain.out_idev_id;
	struct iommu_hwpt_alloc parent = {.size = sizeof(parent), .dev_id = dev, .pt_id = ioas,
					  .flags = IOMMU_HWPT_ALLOC_NEST_PARENT};
	struct iommu_fault_alloc f;
	uint32_t iotlb = 0;
	struct iommu_hwpt_alloc nested = {.size = sizeof(nested), .dev_id = dev,
					  .flags = IOMMU_HWPT_FAULT_ID_VALID,
					  .data_type = IOMMU_HWPT_DATA_SELFTEST,
					  .data_len = sizeof(iotlb), .data_uptr = (uintptr_t)&iotlb};
	struct iommu_test_cmd rep = {.size = sizeof(rep), .op = IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE,
				     .id = stdev};
	if (!iopf_step(ioctl(fd, IOMMU_HWPT_ALLOC, &parent), "HWPT_ALLOC NEST_PARENT") ||
	    !iopf_step(fault_alloc(fd, &f), "FAULT_QUEUE_ALLOC")) {
		close(fd);
		return;
	}
	nested.pt_id = parent.out_hwpt_id;
	nested.fault_id = f.out_fault_id;
	int q = (int)f.out_fault_fd;
	if (!iopf_step(ioctl(fd, IOMMU_HWPT_ALLOC, &nested), "HWPT_ALLOC nested with a fault queue")) {
		close(q);
		close(fd);
		return;
	}
	rep.mock_domain_replace.pt_id = nested.out_hwpt_id;
	if (!iopf_step(ioctl(fd, IOMMU_TEST_CMD, &rep), "TEST_CMD MOCK_DOMAIN_REPLACE")) {
		close(q);
		close(fd);
		return;
	}
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = {.events = EPOLLIN}, got;
	EXPECT(epoll_ctl(ep, EPOLL_CTL_ADD, q, &ev) == 0);
	EXPECT(poll_events(q) == POLLOUT);
	EXPECT(epoll_wait(ep, &got, 1, 0) == 0);

	trigger_iopf(fd, dev, 2, 0x10000);
	EXPECT(poll_events(q) == (POLLIN | POLLOUT));
	EXPECT(epoll_wait(ep, &got, 1, 0) == 1 && (got.events & EPOLLIN));
	struct iommu_hwpt_pgfault rec[2];
	EXPECT_ERR(read(q, rec, PGFAULT_SIZE - 1), ESPIPE);
	EXPECT(poll_events(q) == (POLLIN | POLLOUT)); /* a failed read takes nothing */
	memset(rec, 0, sizeof(rec));
	EXPECT(read(q, rec, sizeof(rec)) == PGFAULT_SIZE);
	EXPECT(rec[0].flags == IOMMU_PGFAULT_FLAGS_LAST_PAGE); /* pasid 0: no PASID_VALID */
	EXPECT(rec[0].dev_id == dev);
	EXPECT(rec[0].grpid == 2);
	EXPECT(rec[0].perm == (IOMMU_PGFAULT_PERM_READ | IOMMU_PGFAULT_PERM_WRITE));
	EXPECT(rec[0].addr == 0x10000);
	EXPECT(poll_events(q) == POLLOUT);
	EXPECT(epoll_wait(ep, &got, 1, 0) == 0);
	struct iommu_hwpt_page_response resp = {.cookie = rec[0].cookie, .code = 0};
	EXPECT(write(q, &resp, sizeof(resp)) == sizeof(resp));
	EXPECT_ERR(write(q, &resp, sizeof(resp)), EINVAL); /* answered already */

	/* Two requests: readable until both are read. */
	trigger_iopf(fd, dev, 3, 0x20000);
	trigger_iopf(fd, dev, 4, 0x30000);
	EXPECT(read(q, rec, PGFAULT_SIZE) == PGFAULT_SIZE && rec[0].grpid == 3);
	EXPECT(poll_events(q) == (POLLIN | POLLOUT));
	struct iovec iov = {rec, sizeof(rec)};
	EXPECT(readv(q, &iov, 1) == PGFAULT_SIZE && rec[0].grpid == 4);
	EXPECT(poll_events(q) == POLLOUT);
	close(ep);
	EXPECT(close(q) == 0);
	EXPECT(close(fd) == 0);
}

static void test_abi(void)
{
	setenv("IOMMUSIM_ABI", "5.0", 1);
	EXPECT_ERR(open("/dev/iommu", O_RDWR), EINVAL);
	setenv("IOMMUSIM_ABI", "6.12", 1);
	int fd = open_iommu();
	EXPECT(fd >= 0);
	/* 6.12 has no IOAS_MAP_FILE (it came in 6.13). */
	char arg[64] = {0};
	EXPECT_ERR(ioctl(fd, IOMMU_IOAS_MAP_FILE, arg), ENOTTY);
	EXPECT(ioas_alloc(fd) != 0);
	close(fd);
	unsetenv("IOMMUSIM_ABI");
}

/* ------------------------------------------------------------------ */
/* The transport sequence: what any way of reaching /dev/iommu (the
 * preload, the CUSE device, the FUSE file, ...) must answer as Linux does
 * (reference iommufd.md sections 2-4).  Each test opens its own context,
 * so object IDs start from 1 (xa_alloc: the lowest free ID). */

static int ioas_iova_ranges(int fd, uint32_t ioas, struct iommu_iova_range *r, uint32_t *num,
			    uint64_t *align)
{
	struct iommu_ioas_iova_ranges q = {.size = sizeof(q), .ioas_id = ioas, .num_iovas = *num,
					   .allowed_iovas = (uintptr_t)r};
	int rc = ioctl(fd, IOMMU_IOAS_IOVA_RANGES, &q);
	*num = q.num_iovas;
	if (align)
		*align = q.out_iova_alignment;
	return rc;
}

/* Map len bytes of buf; fixed at iova unless iova is 0.  The IOVA used. */
static int ioas_map(int fd, uint32_t ioas, void *buf, uint64_t len, uint64_t *iova)
{
	struct iommu_ioas_map m = {
		.size = sizeof(m), .ioas_id = ioas, .user_va = (uintptr_t)buf, .length = len,
		.flags = IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE |
			 (*iova ? IOMMU_IOAS_MAP_FIXED_IOVA : 0),
		.iova = *iova,
	};
	int rc = ioctl(fd, IOMMU_IOAS_MAP, &m);
	if (!rc)
		*iova = m.iova;
	return rc;
}

/* Unmap everything: the bytes unmapped, or -1. */
static int64_t ioas_unmap_all(int fd, uint32_t ioas)
{
	struct iommu_ioas_unmap u = {.size = sizeof(u), .ioas_id = ioas, .iova = 0,
				     .length = UINT64_MAX};
	return ioctl(fd, IOMMU_IOAS_UNMAP, &u) ? -1 : (int64_t)u.length;
}

/* A selftest mock device on pt; its IDs. */
static int mock_domain(int fd, uint32_t pt, uint32_t *stdev, uint32_t *hwpt, uint32_t *idev)
{
	struct iommu_test_cmd t = {.size = sizeof(t), .op = IOMMU_TEST_OP_MOCK_DOMAIN, .id = pt};
	int rc = ioctl(fd, IOMMU_TEST_CMD, &t);
	*stdev = t.mock_domain.out_stdev_id;
	*hwpt = t.mock_domain.out_hwpt_id;
	*idev = t.mock_domain.out_idev_id;
	return rc;
}

static int hwpt_alloc(int fd, uint32_t flags, uint32_t dev, uint32_t pt, uint32_t data_type,
		      void *data, uint32_t data_len, uint32_t *out)
{
	struct iommu_hwpt_alloc a = {.size = sizeof(a), .flags = flags, .dev_id = dev, .pt_id = pt,
				     .data_type = data_type, .data_len = data_len,
				     .data_uptr = (uintptr_t)data};
	int rc = ioctl(fd, IOMMU_HWPT_ALLOC, &a);
	if (!rc && out)
		*out = a.out_hwpt_id;
	return rc;
}

/*
 * mmap of /dev/iommu (Linux 6.17, tools/testing/selftests/iommu/iommufd.c
 * viommu_alloc_with_data): the selftest vIOMMU's driver data echoes
 * in_data and names a region whose first u32 is in_data; only that exact
 * offset and length map (ENXIO), MAP_SHARED only (EINVAL), never
 * executable (EPERM); the vIOMMU cannot be destroyed while mapped (EBUSY)
 * and can once munmap has removed every mapping.
 */
static void test_viommu_mmap(void)
{
	int fd = open_iommu();
	uint32_t ioas = ioas_alloc(fd), stdev, hwpt, idev, s2 = 0;
	EXPECT(mock_domain(fd, ioas, &stdev, &hwpt, &idev) == 0);
	EXPECT(hwpt_alloc(fd, IOMMU_HWPT_ALLOC_NEST_PARENT, idev, ioas, 0, NULL, 0, &s2) == 0);
	struct iommu_viommu_selftest data = {.in_data = 0xbadbeef};
	struct iommu_viommu_alloc v = {.size = sizeof(v), .type = IOMMU_VIOMMU_TYPE_SELFTEST,
				       .dev_id = idev, .hwpt_id = s2, .data_len = sizeof(data),
				       .data_uptr = (uintptr_t)&data};
	EXPECT(ioctl(fd, IOMMU_VIOMMU_ALLOC, &v) == 0);
	EXPECT(data.out_data == data.in_data);
	size_t len = (size_t)data.out_mmap_length;
	off_t off = (off_t)data.out_mmap_offset;
	long psz = sysconf(_SC_PAGESIZE);
	EXPECT(len > 0 && off > 0 && off % psz == 0);
	EXPECT_ERR(mmap(NULL, len, PROT_READ, MAP_SHARED, fd, off + psz), ENXIO);
	EXPECT_ERR(mmap(NULL, len / 2, PROT_READ, MAP_SHARED, fd, off), ENXIO);
	EXPECT_ERR(mmap(NULL, len * 2, PROT_READ, MAP_SHARED, fd, off), ENXIO);
	EXPECT_ERR(mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, off), EINVAL);
	EXPECT_ERR(mmap(NULL, len, PROT_READ | PROT_EXEC, MAP_SHARED, fd, off), EPERM);
	uint32_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off);
	uint32_t *q = mmap64(NULL, len, PROT_READ, MAP_SHARED, fd, off);
	EXPECT(p != MAP_FAILED && q != MAP_FAILED);
	if (p != MAP_FAILED && q != MAP_FAILED) {
		EXPECT(p[0] == data.in_data);
		p[1] = 0x5a5a; /* both map the same bytes */
		EXPECT(q[1] == 0x5a5a);
	}
	EXPECT_ERR(destroy(fd, v.out_viommu_id), EBUSY);
	EXPECT(p == MAP_FAILED || munmap(p, len) == 0);
	EXPECT_ERR(destroy(fd, v.out_viommu_id), EBUSY); /* q still maps it */
	EXPECT(q == MAP_FAILED || munmap(q, len) == 0);
	EXPECT(destroy(fd, v.out_viommu_id) == 0);
	EXPECT(close(fd) == 0);
}

/* Does the mock nested HWPT's IOTLB entry `id` hold `value`?  (The test op
 * answers EINVAL when it does not.) */
static bool iotlb_is(int fd, uint32_t hwpt, uint32_t id, uint32_t value)
{
	struct iommu_test_cmd t = {.size = sizeof(t), .op = IOMMU_TEST_OP_MD_CHECK_IOTLB,
				   .id = hwpt};
	t.check_iotlb.id = id;
	t.check_iotlb.iotlb = value;
	return ioctl(fd, IOMMU_TEST_CMD, &t) == 0;
}

static int hwpt_invalidate(int fd, uint32_t hwpt, uint32_t type, const void *entries,
			   uint32_t entry_len, uint32_t *num)
{
	struct iommu_hwpt_invalidate inv = {.size = sizeof(inv), .hwpt_id = hwpt,
					    .data_uptr = (uintptr_t)entries, .data_type = type,
					    .entry_len = entry_len, .entry_num = *num};
	int rc = ioctl(fd, IOMMU_HWPT_INVALIDATE, &inv);
	*num = inv.entry_num;
	return rc;
}

/* Is fd a descriptor the kernel serves (a character device, or a FUSE
 * regular file), rather than one a preload stands in for? */
static bool kernel_served(int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 && (S_ISCHR(st.st_mode) || S_ISREG(st.st_mode));
}

static void tr_contexts(void)
{
	int a = open_iommu(), b = open_iommu();
	EXPECT(a >= 0 && b >= 0 && a != b);
	uint32_t id = ioas_alloc(a);
	EXPECT(id == 1); /* a fresh context: the lowest ID */
	EXPECT_ERR(destroy(b, id), ENOENT);
	EXPECT(ioas_alloc(b) == 1);
	EXPECT(destroy(a, id) == 0);
	EXPECT(destroy(b, 1) == 0);
	EXPECT(close(a) == 0 && close(b) == 0);
}

/* IOAS_ALLOC's checks: each failure allocates nothing, so the next ID is
 * still the lowest free one. */
static void tr_alloc_errors(void)
{
	int fd = open_iommu();
	uint32_t first = ioas_alloc(fd);
	EXPECT(first != 0);
	EXPECT(destroy(fd, first) == 0);
	struct {
		struct iommu_ioas_alloc a;
		uint32_t tail;
	} x = {{.size = 8}, 0}; /* shorter than the first version: EINVAL */
	EXPECT_ERR(ioctl(fd, IOMMU_IOAS_ALLOC, &x), EINVAL);
	x.a.size = sizeof(x);
	x.tail = 1; /* an unknown non-zero tail: E2BIG */
	EXPECT_ERR(ioctl(fd, IOMMU_IOAS_ALLOC, &x), E2BIG);
	x.tail = 0;
	x.a.flags = 1; /* no IOAS_ALLOC flag exists: EOPNOTSUPP */
	EXPECT_ERR(ioctl(fd, IOMMU_IOAS_ALLOC, &x), EOPNOTSUPP);
	EXPECT_ERR(ioctl(fd, IOMMU_IOAS_ALLOC, NULL), EFAULT);
	EXPECT(ioas_alloc(fd) == first);
	/* A zero tail beyond the struct is fine, and the reply fills the struct. */
	x.a.flags = 0;
	x.a.out_ioas_id = 0;
	EXPECT(ioctl(fd, IOMMU_IOAS_ALLOC, &x) == 0 && x.a.out_ioas_id == first + 1);
	EXPECT(destroy(fd, first + 1) == 0 && destroy(fd, first) == 0);
	EXPECT_ERR(destroy(fd, first), ENOENT);
	EXPECT_ERR(destroy(fd, 0x7fffffff), ENOENT);
	EXPECT(close(fd) == 0);
}

/* IOAS_IOVA_RANGES: the count first (EMSGSIZE), then the ranges, written
 * through the nested pointer; an empty IOAS has the whole space. */
static void tr_iova_ranges(void)
{
	int fd = open_iommu();
	uint32_t ioas = ioas_alloc(fd);
	struct iommu_iova_range r[2];
	memset(r, 0xa5, sizeof(r));
	uint32_t num = 0;
	uint64_t align = 0;
	EXPECT_ERR(ioas_iova_ranges(fd, ioas, NULL, &num, &align), EMSGSIZE);
	EXPECT(num == 1 && align == 1);
	num = 2;
	EXPECT(ioas_iova_ranges(fd, ioas, r, &num, &align) == 0);
	EXPECT(num == 1 && align == 1);
	EXPECT(r[0].start == 0 && r[0].last == UINT64_MAX);
	EXPECT(r[1].start == 0xa5a5a5a5a5a5a5a5ull); /* beyond the count: untouched */
	num = 1;
	EXPECT_ERR(ioas_iova_ranges(fd, ioas, (void *)8, &num, NULL), EFAULT);
	struct iommu_ioas_iova_ranges q = {.size = sizeof(q), .ioas_id = ioas, .reserved = 1};
	EXPECT_ERR(ioctl(fd, IOMMU_IOAS_IOVA_RANGES, &q), EOPNOTSUPP);
	q.reserved = 0;
	q.ioas_id = ioas + 100;
	EXPECT_ERR(ioctl(fd, IOMMU_IOAS_IOVA_RANGES, &q), ENOENT);
	EXPECT(close(fd) == 0);
}

/* IOAS_ALLOW_IOVAS reads its ranges through the nested pointer; an
 * automatic IOVA then comes from them. */
static void tr_allow_iovas(void)
{
	int fd = open_iommu();
	uint32_t ioas = ioas_alloc(fd);
	static char buf[65536] __attribute__((aligned(4096)));
	struct iommu_iova_range allowed = {.start = 1ull << 32, .last = (2ull << 32) - 1};
	struct iommu_ioas_allow_iovas a = {.size = sizeof(a), .ioas_id = ioas, .num_iovas = 1,
					   .allowed_iovas = (uintptr_t)&allowed};
	EXPECT(ioctl(fd, IOMMU_IOAS_ALLOW_IOVAS, &a) == 0);
	uint64_t iova = 0;
	EXPECT(ioas_map(fd, ioas, buf, sizeof(buf), &iova) == 0);
	EXPECT(iova >= allowed.start && iova + sizeof(buf) - 1 <= allowed.last);
	EXPECT(ioas_unmap_all(fd, ioas) == (int64_t)sizeof(buf));
	/* An unreadable array: EFAULT. */
	a.allowed_iovas = 8;
	EXPECT_ERR(ioctl(fd, IOMMU_IOAS_ALLOW_IOVAS, &a), EFAULT);
	/* A range ending before it starts: EINVAL. */
	struct iommu_iova_range bad = {.start = 1ull << 33, .last = 1ull << 32};
	a.allowed_iovas = (uintptr_t)&bad;
	EXPECT_ERR(ioctl(fd, IOMMU_IOAS_ALLOW_IOVAS, &a), EINVAL);
	/* None: anything goes again. */
	a.num_iovas = 0;
	EXPECT(ioctl(fd, IOMMU_IOAS_ALLOW_IOVAS, &a) == 0);
	EXPECT(destroy(fd, ioas) == 0);
	EXPECT(close(fd) == 0);
}

/* A selftest mock device attached to an IOAS: the IOAS now has the mock
 * domain's aperture and alignment, and cannot be destroyed. */
static void tr_mock_device(void)
{
	int fd = open_iommu();
	uint32_t ioas = ioas_alloc(fd), stdev = 0, hwpt = 0, idev = 0;
	if (mock_domain(fd, ioas, &stdev, &hwpt, &idev)) {
		fail_at(__LINE__, "IOMMU_TEST_CMD MOCK_DOMAIN failed");
		close(fd);
		return;
	}
	EXPECT(stdev && hwpt && idev && stdev != hwpt && hwpt != idev && stdev != idev);
	struct iommu_iova_range r[2];
	uint32_t num = 2;
	uint64_t align = 0;
	EXPECT(ioas_iova_ranges(fd, ioas, r, &num, &align) == 0);
	EXPECT(num == 1 && r[0].start == MOCK_APERTURE_START && r[0].last == MOCK_APERTURE_LAST);
	EXPECT(align == MOCK_PAGE_SIZE);
	/* In use by the device: EBUSY, and the IOAS is as it was. */
	EXPECT_ERR(destroy(fd, ioas), EBUSY);
	num = 2;
	EXPECT(ioas_iova_ranges(fd, ioas, r, &num, NULL) == 0 && num == 1);
	/* Maps now pin the pages and fill the domain; a length that is not a
	 * multiple of the IO page is EINVAL and maps nothing. */
	static char buf[16384] __attribute__((aligned(4096)));
	memset(buf, 1, sizeof(buf));
	uint64_t iova = MOCK_APERTURE_START;
	EXPECT(ioas_map(fd, ioas, buf, 4096, &iova) == 0 && iova == MOCK_APERTURE_START);
	iova = MOCK_APERTURE_START + 65536;
	EXPECT_ERR(ioas_map(fd, ioas, buf + 4096, 3072, &iova), EINVAL);
	EXPECT(ioas_unmap_all(fd, ioas) == 4096);
	/* The device goes with its selftest object; then the IOAS may go. */
	EXPECT(destroy(fd, stdev) == 0);
	EXPECT_ERR(destroy(fd, idev), ENOENT);
	EXPECT(destroy(fd, ioas) == 0);
	EXPECT(close(fd) == 0);
}

/* IOAS_MAP_FILE and IOAS_CHANGE_PROCESS (6.13): the server must fetch the
 * memfd from the caller.  With a device attached the file's pages are
 * pinned, so a range beyond the file's end is EINVAL; CHANGE_PROCESS is
 * allowed only while every mapping is a file mapping. */
static const char *device_abi(void);

static void tr_map_file(void)
{
	const char *abi = device_abi();
	if (abi && !strcmp(abi, "6.12")) {
		/* 6.12 has neither ioctl. */
		int fd = open_iommu();
		struct iommu_ioas_change_process cp = {.size = sizeof(cp)};
		EXPECT_ERR(ioctl(fd, IOMMU_IOAS_CHANGE_PROCESS, &cp), ENOTTY);
		close(fd);
		return;
	}
	int fd = open_iommu();
	uint32_t ioas = ioas_alloc(fd), stdev = 0, hwpt = 0, idev = 0;
	int mfd = (int)syscall(SYS_memfd_create, "client", 1u /* MFD_CLOEXEC */);
	EXPECT(mfd >= 0 && ftruncate(mfd, 65536) == 0);
	EXPECT(mock_domain(fd, ioas, &stdev, &hwpt, &idev) == 0);
	struct iommu_ioas_map_file m = {
		.size = sizeof(m), .ioas_id = ioas, .fd = mfd, .start = 0, .length = 65536,
		.flags = IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE};
	EXPECT(ioctl(fd, IOMMU_IOAS_MAP_FILE, &m) == 0);
	EXPECT(m.iova >= MOCK_APERTURE_START && m.iova % MOCK_PAGE_SIZE == 0);
	struct iommu_ioas_change_process cp = {.size = sizeof(cp)};
	EXPECT(ioctl(fd, IOMMU_IOAS_CHANGE_PROCESS, &cp) == 0);
	m.length = 65536 + 4096;
	EXPECT_ERR(ioctl(fd, IOMMU_IOAS_MAP_FILE, &m), EINVAL);
	m.length = 4096;
	m.fd = 999;
	EXPECT_ERR(ioctl(fd, IOMMU_IOAS_MAP_FILE, &m), EBADF);
	static char buf[4096] __attribute__((aligned(4096)));
	uint64_t iova2 = 0;
	EXPECT(ioas_map(fd, ioas, buf, sizeof(buf), &iova2) == 0);
	EXPECT_ERR(ioctl(fd, IOMMU_IOAS_CHANGE_PROCESS, &cp), EINVAL);
	EXPECT(ioas_unmap_all(fd, ioas) == 65536 + 4096);
	EXPECT(destroy(fd, stdev) == 0);
	close(mfd);
	EXPECT(close(fd) == 0);
}

/* GET_HW_INFO on the mock device: the selftest type and register, the
 * length written back, a longer buffer zero-filled. */
static void tr_hw_info(void)
{
	int fd = open_iommu();
	uint32_t ioas = ioas_alloc(fd), stdev, hwpt, idev;
	if (mock_domain(fd, ioas, &stdev, &hwpt, &idev)) {
		fail_at(__LINE__, "IOMMU_TEST_CMD MOCK_DOMAIN failed");
		close(fd);
		return;
	}
	uint8_t data[16];
	memset(data, 0xa5, sizeof(data));
	struct iommu_hw_info h = {.size = sizeof(h), .dev_id = idev, .data_len = sizeof(data),
				  .data_uptr = (uintptr_t)data};
	EXPECT(ioctl(fd, IOMMU_GET_HW_INFO, &h) == 0);
	struct iommu_test_hw_info info;
	memcpy(&info, data, sizeof(info));
	EXPECT(h.out_data_type == IOMMU_HW_INFO_TYPE_SELFTEST);
	EXPECT(h.data_len == sizeof(info));
	EXPECT(info.flags == 0 && info.test_reg == IOMMU_HW_INFO_SELFTEST_REGVAL);
	static const uint8_t zero[8];
	EXPECT(!memcmp(data + sizeof(info), zero, sizeof(data) - sizeof(info)));
	EXPECT(h.out_capabilities & IOMMU_HW_CAP_DIRTY_TRACKING);
	/* A shorter buffer gets the start; data_len says the full length. */
	memset(data, 0xa5, sizeof(data));
	h.data_len = 4;
	EXPECT(ioctl(fd, IOMMU_GET_HW_INFO, &h) == 0);
	EXPECT(h.data_len == sizeof(info));
	EXPECT(!memcmp(data, zero, 4) && data[4] == 0xa5);
	/* Not a device: ENOENT; unknown flags and reserved bytes: EOPNOTSUPP. */
	h.dev_id = ioas;
	EXPECT_ERR(ioctl(fd, IOMMU_GET_HW_INFO, &h), ENOENT);
	h.dev_id = idev;
	h.flags = 1u << 31;
	EXPECT_ERR(ioctl(fd, IOMMU_GET_HW_INFO, &h), EOPNOTSUPP);
	h.flags = 0;
	h.reserved[0] = 1;
	EXPECT_ERR(ioctl(fd, IOMMU_GET_HW_INFO, &h), EOPNOTSUPP);
	h.reserved[0] = 0;
	h.data_uptr = 8;
	EXPECT_ERR(ioctl(fd, IOMMU_GET_HW_INFO, &h), EFAULT);
	EXPECT(close(fd) == 0);
}

/* A nesting parent on the IOAS and a nested HWPT of the selftest type on
 * it; the errors allocate nothing. */
static void tr_hwpt(void)
{
	int fd = open_iommu();
	uint32_t ioas = ioas_alloc(fd), stdev, auto_hwpt, idev, parent = 0, nested = 0;
	if (mock_domain(fd, ioas, &stdev, &auto_hwpt, &idev)) {
		fail_at(__LINE__, "IOMMU_TEST_CMD MOCK_DOMAIN failed");
		close(fd);
		return;
	}
	EXPECT(hwpt_alloc(fd, IOMMU_HWPT_ALLOC_NEST_PARENT, idev, ioas, 0, NULL, 0, &parent) == 0);
	uint32_t iotlb = 0x1234;
	EXPECT(hwpt_alloc(fd, 0, idev, parent, IOMMU_HWPT_DATA_SELFTEST, &iotlb, sizeof(iotlb),
			  &nested) == 0);
	EXPECT(parent && nested && parent != nested);
	for (uint32_t i = 0; i < 4; i++)
		EXPECT(iotlb_is(fd, nested, i, 0x1234));
	EXPECT(!iotlb_is(fd, nested, 0, 0x4321));

	/* Take the next ID, give it back: failures must not move it. */
	uint32_t next = 0;
	EXPECT(hwpt_alloc(fd, 0, idev, parent, IOMMU_HWPT_DATA_SELFTEST, &iotlb, sizeof(iotlb),
			  &next) == 0);
	EXPECT(destroy(fd, next) == 0);
	/* A data type NONE with data, or another without: EINVAL; a nested
	 * HWPT without data, or with NEST_PARENT: EOPNOTSUPP (6.12
	 * hw_pagetable.c, iommufd_hwpt_alloc and iommufd_hwpt_nested_alloc). */
	EXPECT_ERR(hwpt_alloc(fd, 0, idev, parent, 0, &iotlb, sizeof(iotlb), NULL), EINVAL);
	EXPECT_ERR(hwpt_alloc(fd, 0, idev, parent, IOMMU_HWPT_DATA_SELFTEST, &iotlb, 0, NULL),
		   EINVAL);
	EXPECT_ERR(hwpt_alloc(fd, 0, idev, parent, 0, NULL, 0, NULL), EOPNOTSUPP);
	EXPECT_ERR(hwpt_alloc(fd, IOMMU_HWPT_ALLOC_NEST_PARENT, idev, parent,
			      IOMMU_HWPT_DATA_SELFTEST, &iotlb, sizeof(iotlb), NULL), EOPNOTSUPP);
	/* An unknown data type: EOPNOTSUPP; unreadable data: EFAULT. */
	EXPECT_ERR(hwpt_alloc(fd, 0, idev, parent, 0xbeef, &iotlb, sizeof(iotlb), NULL),
		   EOPNOTSUPP);
	EXPECT_ERR(hwpt_alloc(fd, 0, idev, parent, IOMMU_HWPT_DATA_SELFTEST, NULL, sizeof(iotlb),
			      NULL), EFAULT);
	/* A parent that is itself nested: EINVAL; a device that is not one: ENOENT. */
	EXPECT_ERR(hwpt_alloc(fd, 0, idev, nested, IOMMU_HWPT_DATA_SELFTEST, &iotlb,
			      sizeof(iotlb), NULL), EINVAL);
	EXPECT_ERR(hwpt_alloc(fd, 0, ioas, parent, IOMMU_HWPT_DATA_SELFTEST, &iotlb,
			      sizeof(iotlb), NULL), ENOENT);
	uint32_t again = 0;
	EXPECT(hwpt_alloc(fd, 0, idev, parent, IOMMU_HWPT_DATA_SELFTEST, &iotlb, sizeof(iotlb),
			  &again) == 0);
	EXPECT(again == next);
	EXPECT(destroy(fd, again) == 0);

	/* Users keep objects alive: EBUSY, and nothing goes. */
	EXPECT_ERR(destroy(fd, parent), EBUSY);
	EXPECT(iotlb_is(fd, nested, 0, 0x1234));
	EXPECT(destroy(fd, nested) == 0);
	EXPECT(destroy(fd, parent) == 0);
	EXPECT_ERR(destroy(fd, parent), ENOENT);
	EXPECT(close(fd) == 0);
}

/* HWPT_INVALIDATE with the selftest's entries: entry_num comes back as the
 * number of entries handled, also when one fails. */
static void tr_invalidate(void)
{
	int fd = open_iommu();
	uint32_t ioas = ioas_alloc(fd), stdev, auto_hwpt, idev, parent = 0, nested = 0;
	uint32_t iotlb = 0x1234;
	if (mock_domain(fd, ioas, &stdev, &auto_hwpt, &idev) ||
	    hwpt_alloc(fd, IOMMU_HWPT_ALLOC_NEST_PARENT, idev, ioas, 0, NULL, 0, &parent) ||
	    hwpt_alloc(fd, 0, idev, parent, IOMMU_HWPT_DATA_SELFTEST, &iotlb, sizeof(iotlb),
		       &nested)) {
		fail_at(__LINE__, "setting up a nested HWPT failed");
		close(fd);
		return;
	}
	const uint32_t type = IOMMU_HWPT_INVALIDATE_DATA_SELFTEST;
	const uint32_t len = sizeof(struct iommu_hwpt_invalidate_selftest);
	struct iommu_hwpt_invalidate_selftest e[3];
	uint32_t num = 0;
	/* No entries: a probe of the type, nothing done. */
	EXPECT(hwpt_invalidate(fd, nested, type, NULL, len, &num) == 0 && num == 0);
	/* Two entries: both handled. */
	e[0] = (struct iommu_hwpt_invalidate_selftest){0, 1};
	e[1] = (struct iommu_hwpt_invalidate_selftest){0, 2};
	num = 2;
	EXPECT(hwpt_invalidate(fd, nested, type, e, len, &num) == 0 && num == 2);
	EXPECT(iotlb_is(fd, nested, 0, 0x1234) && iotlb_is(fd, nested, 1, 0) &&
	       iotlb_is(fd, nested, 2, 0) && iotlb_is(fd, nested, 3, 0x1234));
	/* The second of three is bad (IOTLB ID 4 > 3): the first is done, the
	 * third is not, and entry_num says 1. */
	e[0] = (struct iommu_hwpt_invalidate_selftest){0, 3};
	e[1] = (struct iommu_hwpt_invalidate_selftest){0, 4};
	e[2] = (struct iommu_hwpt_invalidate_selftest){0, 0};
	num = 3;
	EXPECT_ERR(hwpt_invalidate(fd, nested, type, e, len, &num), EINVAL);
	EXPECT(num == 1);
	EXPECT(iotlb_is(fd, nested, 3, 0) && iotlb_is(fd, nested, 0, 0x1234));
	/* An unknown entry flag: EOPNOTSUPP, none handled. */
	e[0] = (struct iommu_hwpt_invalidate_selftest){1u << 1, 0};
	num = 1;
	EXPECT_ERR(hwpt_invalidate(fd, nested, type, e, len, &num), EOPNOTSUPP);
	EXPECT(num == 0 && iotlb_is(fd, nested, 0, 0x1234));
	/* Wrong type, no entry length, no array: EINVAL, nothing done. */
	e[0] = (struct iommu_hwpt_invalidate_selftest){IOMMU_TEST_INVALIDATE_FLAG_ALL, 0};
	num = 1;
	EXPECT_ERR(hwpt_invalidate(fd, nested, IOMMU_HWPT_INVALIDATE_DATA_SELFTEST_INVALID, e, len,
				   &num), EINVAL);
	num = 1;
	EXPECT_ERR(hwpt_invalidate(fd, nested, type, e, 0, &num), EINVAL);
	num = 1;
	EXPECT_ERR(hwpt_invalidate(fd, nested, type, NULL, len, &num), EINVAL);
	EXPECT(iotlb_is(fd, nested, 0, 0x1234));
	/* An unknown HWPT: ENOENT. */
	num = 1;
	EXPECT_ERR(hwpt_invalidate(fd, 0x7fffffff, type, e, len, &num), ENOENT);
	/* FLAG_ALL empties every entry. */
	num = 1;
	EXPECT(hwpt_invalidate(fd, nested, type, e, len, &num) == 0 && num == 1);
	for (uint32_t i = 0; i < 4; i++)
		EXPECT(iotlb_is(fd, nested, i, 0));
	EXPECT(close(fd) == 0);
}

/* Ioctls that hand the caller a new descriptor.  A transport that cannot
 * create one in the caller (CUSE, a FUSE file) answers EOPNOTSUPP and
 * allocates nothing.  Prints which it was on a comment line. */
static void tr_new_descriptors(void)
{
	int fd = open_iommu();
	uint32_t ioas = ioas_alloc(fd);
	uint32_t probe_id = ioas_alloc(fd);
	EXPECT(probe_id != 0 && destroy(fd, probe_id) == 0);

	struct iommu_fault_alloc f;
	errno = 0;
	if (fault_alloc(fd, &f) == 0) {
		int q = (int)f.out_fault_fd;
		EXPECT(q >= 0 && q != fd && is_cloexec(q));
		EXPECT(f.out_fault_id == probe_id);
		EXPECT_ERR(destroy(fd, f.out_fault_id), EBUSY);
		EXPECT(close(q) == 0);
		EXPECT(destroy(fd, f.out_fault_id) == 0);
		printf("# IOMMU_FAULT_QUEUE_ALLOC: a new descriptor\n");
	} else if (errno == EOPNOTSUPP) {
		EXPECT(ioas_alloc(fd) == probe_id); /* nothing allocated */
		EXPECT(destroy(fd, probe_id) == 0);
		printf("# IOMMU_FAULT_QUEUE_ALLOC: EOPNOTSUPP, nothing allocated\n");
	} else {
		fail_at(__LINE__, "IOMMU_FAULT_QUEUE_ALLOC: neither a descriptor nor EOPNOTSUPP");
	}

	struct iommu_test_cmd t = {.size = sizeof(t), .op = IOMMU_TEST_OP_CREATE_ACCESS,
				   .id = ioas};
	errno = 0;
	if (ioctl(fd, IOMMU_TEST_CMD, &t) == 0) {
		int a = (int)t.create_access.out_access_fd;
		EXPECT(a >= 0 && a != fd);
		EXPECT(close(a) == 0);
		printf("# IOMMU_TEST_OP_CREATE_ACCESS: a new descriptor\n");
	} else if (errno == EOPNOTSUPP) {
		EXPECT(ioas_alloc(fd) == probe_id);
		EXPECT(destroy(fd, probe_id) == 0);
		printf("# IOMMU_TEST_OP_CREATE_ACCESS: EOPNOTSUPP, nothing allocated\n");
	} else {
		fail_at(__LINE__, "CREATE_ACCESS: neither a descriptor nor EOPNOTSUPP");
	}
	/* The context still works, its IOAS unchanged. */
	EXPECT(destroy(fd, ioas) == 0);
	EXPECT(close(fd) == 0);
}

/* After fork the child's descriptor is the same open file: with the
 * kernel (any transport the kernel serves, or the preload forwarding to
 * a server), what the child does the parent sees, also the memory the
 * child mapped after it has exited.  The preload on its own keeps a copy
 * per process instead (docs/transports.md). */
static bool fork_shared_skipped;

static void tr_fork(void)
{
	int fd = open_iommu();
	if (!kernel_served(fd) && !fork_shares()) {
		fork_shared_skipped = true;
		close(fd);
		return;
	}
	uint32_t a = ioas_alloc(fd);
	uint32_t ioas = ioas_alloc(fd);
	EXPECT(a && ioas);
	int p[2];
	EXPECT(pipe(p) == 0);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		static char child_buf[8192] __attribute__((aligned(4096)));
		uint64_t iova = 1ull << 32;
		uint32_t b = ioas_alloc(fd);
		int ok = destroy(fd, a) == 0 && b != 0 &&
			 ioas_map(fd, ioas, child_buf, sizeof(child_buf), &iova) == 0;
		ssize_t w = write(p[1], &b, sizeof(b));
		(void)w;
		_exit(ok ? 0 : 1);
	}
	close(p[1]);
	uint32_t b = 0;
	EXPECT(read(p[0], &b, sizeof(b)) == sizeof(b));
	close(p[0]);
	int status = -1;
	EXPECT(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	EXPECT_ERR(destroy(fd, a), ENOENT); /* the child destroyed it */
	EXPECT(b != 0 && destroy(fd, b) == 0); /* the child allocated it */
	EXPECT(ioas_unmap_all(fd, ioas) == 8192); /* the child's map, the child gone */
	EXPECT(destroy(fd, ioas) == 0);
	EXPECT(close(fd) == 0);
}

static int hold(const char *path)
{
	dev_path = path;
	int fd = open_iommu();
	uint32_t ioas = ioas_alloc(fd), stdev, hwpt, idev, parent = 0, nested = 0, iotlb = 1;
	static char buf[65536] __attribute__((aligned(4096)));
	uint64_t iova = MOCK_APERTURE_START;
	if (fd < 0 || !ioas || mock_domain(fd, ioas, &stdev, &hwpt, &idev) ||
	    hwpt_alloc(fd, IOMMU_HWPT_ALLOC_NEST_PARENT, idev, ioas, 0, NULL, 0, &parent) ||
	    hwpt_alloc(fd, 0, idev, parent, IOMMU_HWPT_DATA_SELFTEST, &iotlb, sizeof(iotlb),
		       &nested) ||
	    ioas_map(fd, ioas, buf, sizeof(buf), &iova)) {
		fprintf(stderr, "client hold: %s: %s\n", path, strerror(errno));
		return 1;
	}
	printf("holding\n");
	fflush(stdout);
	for (;;)
		pause();
}

/* Which kernel the device answers as: "6.12", "newest", or NULL (with
 * errno) if it cannot tell.  HWPT_INVALIDATE on a paging HWPT: 6.12 looks
 * for a nested HWPT (ENOENT), newer kernels find the object and refuse its
 * type (EINVAL). */
static const char *device_abi(void)
{
	int fd = open_iommu();
	uint32_t ioas = fd < 0 ? 0 : ioas_alloc(fd), stdev, hwpt, idev, parent = 0, num = 0;
	const char *abi = NULL;
	if (ioas && !mock_domain(fd, ioas, &stdev, &hwpt, &idev) &&
	    !hwpt_alloc(fd, IOMMU_HWPT_ALLOC_NEST_PARENT, idev, ioas, 0, NULL, 0, &parent) &&
	    hwpt_invalidate(fd, parent, IOMMU_HWPT_INVALIDATE_DATA_SELFTEST, NULL, 8, &num) == -1 &&
	    (errno == ENOENT || errno == EINVAL))
		abi = errno == ENOENT ? "6.12" : "newest";
	int err = errno;
	if (fd >= 0)
		close(fd);
	errno = err;
	return abi;
}

static int which_abi(const char *path)
{
	dev_path = path;
	const char *abi = device_abi();
	if (!abi) {
		fprintf(stderr, "client abi: %s: %s\n", path, strerror(errno));
		return 1;
	}
	printf("%s\n", abi);
	return 0;
}

static int transport_suite(const char *path)
{
	dev_path = path;
	alarm(120); /* a server that stops answering fails the run */
	int fd = open_iommu();
	if (fd < 0) {
		printf("Bail out! open(\"%s\") failed: %s\n", path, strerror(errno));
		return 1;
	}
	struct stat st;
	if (fstat(fd, &st) == 0)
		printf("# %s: %s\n", path, S_ISCHR(st.st_mode) ? "a character device"
				     : S_ISREG(st.st_mode) ? "a regular file (FUSE)"
							  : "not a kernel file (a preload's stand-in)");
	close(fd);
	run("each open is a context of its own, IDs from 1", tr_contexts);
	run("IOAS_ALLOC: EINVAL, E2BIG, EOPNOTSUPP, EFAULT allocate nothing", tr_alloc_errors);
	run("IOAS_ALLOC, IOAS_MAP, IOAS_UNMAP, DESTROY", test_ioas);
	run("IOAS_IOVA_RANGES: EMSGSIZE with the count, then the ranges", tr_iova_ranges);
	run("IOAS_ALLOW_IOVAS: automatic IOVAs come from the allowed ranges", tr_allow_iovas);
	run("a mock device: its aperture and alignment, EBUSY, IO-page-sized maps",
	    tr_mock_device);
	run("GET_HW_INFO: selftest type and register, data_len, zero fill", tr_hw_info);
	run("IOAS_MAP_FILE of a memfd, IOAS_CHANGE_PROCESS (ENOTTY as 6.12)", tr_map_file);
	run("HWPT_ALLOC: nesting parent, nested selftest HWPT, errors allocate nothing",
	    tr_hwpt);
	run("HWPT_INVALIDATE: entry_num counts the entries handled", tr_invalidate);
	run("errnos: ENOTTY, EFAULT, EINVAL, E2BIG, EBADF; no read/write/mmap", test_errnos);
	run("FAULT_QUEUE_ALLOC, CREATE_ACCESS: a descriptor or EOPNOTSUPP", tr_new_descriptors);
	cur_ok = true;
	tr_fork();
	ntests++;
	if (fork_shared_skipped)
		printf("ok %d - fork shares the context # SKIP not a kernel-served descriptor (the "
		       "preload keeps a copy per process)\n", ntests);
	else
		printf("%s %d - fork shares the context: the child's objects and maps are the "
		       "parent's\n", cur_ok ? "ok" : "not ok", ntests);
	if (!cur_ok)
		nfailed++;
	run("4 threads allocating and destroying IOAS: no duplicate or lost IDs", test_threads);
	printf("1..%d\n", ntests);
	return nfailed ? 1 : 0;
}

/* ------------------------------------------------------------------ */

static int probe(const char *path)
{
	int fd = open(path, O_RDWR);
	if (fd < 0) {
		fprintf(stderr, "client probe: open %s: %s\n", path, strerror(errno));
		return 1;
	}
	static char buf[8192];
	uint32_t ioas = ioas_alloc(fd);
	struct iommu_ioas_map m = {.size = sizeof(m), .ioas_id = ioas,
				   .flags = IOMMU_IOAS_MAP_READABLE,
				   .user_va = (uintptr_t)buf, .length = 4096};
	struct iommu_ioas_unmap u = {.size = sizeof(u), .ioas_id = ioas};
	bool ok = ioas && !ioctl(fd, IOMMU_IOAS_MAP, &m);
	u.iova = m.iova;
	u.length = 4096;
	ok = ok && !ioctl(fd, IOMMU_IOAS_UNMAP, &u) && !destroy(fd, ioas);
	errno = 0;
	ok = ok && destroy(fd, ioas) == -1 && errno == ENOENT; /* one failure, counted */
	ok = ok && ioas_alloc(fd) != 0;                         /* left alive */
	printf("client probe: %s\n", ok ? "ok" : "FAILED");
	return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "probe"))
		return probe(argc > 2 ? argv[2] : "/dev/iommu");
	if (argc > 1 && argc <= 3 && !strcmp(argv[1], "transport"))
		return transport_suite(argc > 2 ? argv[2] : "/dev/iommu");
	if (argc > 1 && argc <= 3 && !strcmp(argv[1], "abi"))
		return which_abi(argc > 2 ? argv[2] : "/dev/iommu");
	if (argc > 1 && argc <= 3 && !strcmp(argv[1], "hold"))
		return hold(argc > 2 ? argv[2] : "/dev/iommu");
	if (argc > 1 && !strcmp(argv[1], "env")) {
		const char *vars[] = {"LD_PRELOAD", "IOMMUSIM_ABI", "IOMMUSIM_MODEL", "IOMMUSIM_STATS"};
		for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
			const char *v = getenv(vars[i]);
			printf("%s=%s\n", vars[i], v ? v : "(unset)");
		}
		return 0;
	}
	if (argc > 2 && !strcmp(argv[1], "exit"))
		return atoi(argv[2]);
	if (argc > 1) {
		fprintf(stderr, "usage: client [transport [PATH] | probe [PATH] | abi [PATH] | hold [PATH] | "
			"env | exit N]\n");
		return 2;
	}

	alarm(60); /* a deadlock in the preload fails the run */
	int fd = open("/dev/iommu", O_RDWR);
	if (fd < 0) {
		printf("Bail out! open(\"/dev/iommu\") failed (%s): is libiommusim-preload.so "
		       "preloaded?\n", strerror(errno));
		return 1;
	}
	close(fd);
	run("open, open64, openat, openat64, __open_2, __open64_2, __openat_2, __openat64_2, "
	    "fopen, fopen64: one new context each", test_openers);
	run("other files, pipes and closed descriptors are the kernel's", test_passthrough);
	run("IOAS_ALLOC, IOAS_MAP, IOAS_UNMAP, DESTROY", test_ioas);
	run("errnos: ENOTTY, EFAULT, EINVAL, E2BIG, EBADF; no read/write/mmap", test_errnos);
	run("dup, dup2, dup3, F_DUPFD, F_DUPFD_CLOEXEC share one context", test_dup);
	run("close_range (with and without CLOSE_RANGE_CLOEXEC), closefrom", test_close_range);
	run(fork_shares() ? "fork: the child uses its inherited descriptor on the same context "
			    "(forwarded to a server)"
			  : "fork: the child uses its inherited descriptor on its own copy",
	    test_fork);
	run("4 threads allocating and destroying IOAS: no duplicate or lost IDs", test_threads);
	cur_ok = true;
	test_fault_queue();
	ntests++;
	if (!fault_queue_served)
		printf("ok %d - fault queue descriptor # SKIP IOMMU_FAULT_QUEUE_ALLOC is not "
		       "served yet (ENOTTY)\n", ntests);
	else
		printf("%s %d - fault queue descriptor: poll, read, write, EBUSY until "
		       "closed\n", cur_ok ? "ok" : "not ok", ntests);
	if (!cur_ok)
		nfailed++;
	cur_ok = true;
	if (fault_queue_served)
		test_fault_readiness();
	ntests++;
	if (!fault_queue_served || iopf_missing)
		printf("ok %d - fault queue readiness (poll, epoll) # SKIP %s is not served yet\n",
		       ntests, iopf_missing ? iopf_missing : "IOMMU_FAULT_QUEUE_ALLOC");
	else
		printf("%s %d - fault queue readiness: a page request makes it readable (poll, "
		       "epoll), reading empties it\n", cur_ok ? "ok" : "not ok", ntests);
	if (!cur_ok)
		nfailed++;
	run("IOMMUSIM_ABI: 6.12 lacks IOAS_MAP_FILE; a bad value fails the open", test_abi);
	if (fork_shares())
		printf("ok %d - mmap of the vIOMMU page # SKIP forwarded to a server, which cannot "
		       "map into this process\n", ++ntests);
	else
		run("mmap of /dev/iommu: the selftest vIOMMU's page, ENXIO/EINVAL/EPERM, EBUSY "
		    "until munmap", test_viommu_mmap);
	printf("1..%d\n", ntests);
	return nfailed ? 1 : 0;
}
