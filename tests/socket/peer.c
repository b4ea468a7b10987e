/*
 * peer.c - a /dev/iommu user for the socket transport's tests
 * (test_socket.sh), run with `iommusim run --connect SOCKET -- peer CMD`.
 * Like tests/preload/client.c it knows only the C library and the uAPI
 * (include/uapi/linux/iommufd.h numbers and layouts), and expects the
 * kernel's answers.
 *
 *   peer hold    open, IOAS_ALLOC (a fresh context: ID 1), say "ready",
 *                wait for stdin to close; exit 0 if the IOAS is still there
 *   peer fresh   open, IOAS_ALLOC: ID 1 whatever other processes hold; exit 0
 *   peer hammer  map and unmap 32 MiB with a mock device attached (every map
 *                pins), allocate and destroy, forever; says "ready" once
 *   peer guard   the connection's descriptor is not the program's: close
 *                gives EBADF, close_range and closefrom step around it,
 *                dup2 onto it moves it; ioctls keep working; exit 0 if so
 *   peer exec PROGRAM ARGS...  open, allocate, then exec PROGRAM (the
 *                descriptor is kept, the context is not)
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define IOMMU_DESTROY _IO(';', 0x80)
#define IOMMU_IOAS_ALLOC _IO(';', 0x81)
#define IOMMU_IOAS_MAP _IO(';', 0x85)
#define IOMMU_IOAS_UNMAP _IO(';', 0x86)
#define IOMMU_TEST_CMD _IO(';', 0xa0)
#define IOMMU_TEST_OP_MOCK_DOMAIN 2

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

struct iommu_ioas_map {
	uint32_t size;
	uint32_t flags;
	uint32_t ioas_id;
	uint32_t reserved;
	u64a user_va;
	u64a length;
	u64a iova;
};

struct iommu_ioas_unmap {
	uint32_t size;
	uint32_t ioas_id;
	u64a iova;
	u64a length;
};

/* drivers/iommu/iommufd/iommufd_test.h: the part MOCK_DOMAIN uses. */
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
		uint8_t pad[48];
	};
	uint32_t last;
};

static uint32_t ioas_alloc(int fd)
{
	struct iommu_ioas_alloc a = {.size = sizeof(a)};
	return ioctl(fd, IOMMU_IOAS_ALLOC, &a) ? 0 : a.out_ioas_id;
}

static int destroy(int fd, uint32_t id)
{
	struct iommu_destroy d = {.size = sizeof(d), .id = id};
	return ioctl(fd, IOMMU_DESTROY, &d);
}

static int open_iommu(void)
{
	int fd = open("/dev/iommu", O_RDWR);
	if (fd < 0)
		fprintf(stderr, "peer: open /dev/iommu: %s\n", strerror(errno));
	return fd;
}

static int cmd_hold(void)
{
	int fd = open_iommu();
	if (fd < 0 || ioas_alloc(fd) != 1)
		return 1;
	printf("ready\n");
	fflush(stdout);
	char buf[64];
	while (read(0, buf, sizeof(buf)) > 0)
		;
	return destroy(fd, 1) == 0 ? 0 : 1;
}

static int cmd_fresh(void)
{
	int fd = open_iommu();
	return fd >= 0 && ioas_alloc(fd) == 1 && destroy(fd, 2) == -1 && errno == ENOENT &&
	       destroy(fd, 1) == 0 ? 0 : 1;
}

static int cmd_hammer(void)
{
	int fd = open_iommu();
	uint32_t ioas = fd >= 0 ? ioas_alloc(fd) : 0;
	struct iommu_test_cmd md = {.size = sizeof(md), .op = IOMMU_TEST_OP_MOCK_DOMAIN, .id = ioas};
	size_t len = 32u << 20;
	void *buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (!ioas || ioctl(fd, IOMMU_TEST_CMD, &md) || buf == MAP_FAILED) {
		fprintf(stderr, "peer hammer: setup failed: %s\n", strerror(errno));
		return 1;
	}
	for (bool said = false;; said = true) {
		struct iommu_ioas_map m = {.size = sizeof(m), .ioas_id = ioas, .user_va = (uintptr_t)buf,
					   .length = len, .flags = 7 /* fixed, writeable, readable */,
					   .iova = 1ull << 30};
		struct iommu_ioas_unmap u = {.size = sizeof(u), .ioas_id = ioas, .iova = 1ull << 30,
					     .length = len};
		uint32_t extra = ioas_alloc(fd);
		if (ioctl(fd, IOMMU_IOAS_MAP, &m) || ioctl(fd, IOMMU_IOAS_UNMAP, &u) || !extra ||
		    destroy(fd, extra)) {
			fprintf(stderr, "peer hammer: %s\n", strerror(errno));
			return 1;
		}
		if (!said) {
			printf("ready\n");
			fflush(stdout);
		}
	}
}

/* The descriptor of the connection: the one socket this process has. */
static int find_socket(void)
{
	DIR *d = opendir("/proc/self/fd");
	int found = -1;
	struct dirent *e;
	while (d && (e = readdir(d))) {
		char path[300], target[64];
		snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
		ssize_t n = readlink(path, target, sizeof(target) - 1);
		if (n > 0 && (target[n] = '\0', !strncmp(target, "socket:", 7)))
			found = atoi(e->d_name);
	}
	if (d)
		closedir(d);
	return found;
}

static int cmd_guard(void)
{
	int fd = open_iommu();
	bool ok = fd >= 0 && ioas_alloc(fd) == 1;
	int sock = find_socket();
	if (sock < 0) {
		fprintf(stderr, "peer guard: no connection socket found\n");
		return 1;
	}
	errno = 0;
	ok = ok && close(sock) == -1 && errno == EBADF; /* not the program's */
	ok = ok && ioas_alloc(fd) == 2;
	ok = ok && close_range((unsigned)fd + 1, ~0u, 0) == 0 && ioas_alloc(fd) == 3;
	closefrom(fd + 1);
	ok = ok && ioas_alloc(fd) == 4;
	sock = find_socket();
	ok = ok && sock >= 0 && dup2(fd, sock) == sock; /* the connection moves away */
	ok = ok && ioas_alloc(sock) == 5 && destroy(fd, 5) == 0 && find_socket() >= 0;
	ok = ok && close(sock) == 0 && ioas_alloc(fd) == 5;
	if (!ok)
		fprintf(stderr, "peer guard: failed (errno %d)\n", errno);
	return ok ? 0 : 1;
}

static int cmd_exec(char **argv)
{
	int fd = open_iommu();
	if (fd < 0 || ioas_alloc(fd) != 1)
		return 1;
	execvp(argv[0], argv);
	return 127;
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "hold"))
		return cmd_hold();
	if (argc == 2 && !strcmp(argv[1], "fresh"))
		return cmd_fresh();
	if (argc == 2 && !strcmp(argv[1], "hammer"))
		return cmd_hammer();
	if (argc == 2 && !strcmp(argv[1], "guard"))
		return cmd_guard();
	if (argc > 2 && !strcmp(argv[1], "exec"))
		return cmd_exec(argv + 2);
	fprintf(stderr, "usage: peer hold | fresh | hammer | guard | exec PROGRAM [ARGS...]\n");
	return 2;
}
