/*
 * bench_transports.c - what one ioctl costs through each transport, side
 * by side in one run.
 *
 * The same three loops run against every way of reaching the dispatcher:
 *   IOAS_ALLOC + DESTROY             the smallest round trip: two ioctls
 *   IOAS_MAP + IOAS_UNMAP of 4 KiB   two ioctls with user copies, no device
 *   the same with a mock device      the map also checks the caller's
 *                                    memory, pins it and fills the domain
 * Transports:
 *   in-process   iofd_ioctl() on a context of our own (no system call but
 *                the dispatcher's process_vm_readv/writev copies)
 *   preload      this program re-run under libiommusim-preload.so, its
 *                ioctl(2) on /dev/iommu caught by the module
 *   FUSE file    a server child (transport/fuse/) mounted on a temporary
 *                file; ioctl(2) through the kernel's FUSE driver, the
 *                server copying with process_vm_readv/writev (needs root)
 *   socket       this program re-run under the preload forwarding to a
 *                server child on a Unix socket (transport/socket/): one
 *                SOCK_SEQPACKET round trip per ioctl, the server copying
 *                with process_vm_readv/writev
 * Each figure is the median over 5 runs of the mean time per pair.  The
 * servers are children of this program and inherit its CPU affinity:
 * `taskset -c 0 bench-transports` puts client and server on one CPU,
 * which removes the cross-CPU wake-ups from the server transports' cost.
 *
 *   bench-transports [-n ITERATIONS]
 *   bench-transports --client PATH ITERATIONS   (internal: measure through
 *                                                ioctl(2) on PATH, print ns)
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <iommusim/iommufd.h>

#include "iommufd/uapi.h"
#include "transport/socket/socket.h"
#ifdef IMS_HAVE_FUSE
#include "transport/fuse/fuse_front.h"
#endif

#define RUNS 5
#define NLOOPS 3

static const char *const loop_names[NLOOPS] = {
	"IOAS_ALLOC+DESTROY", "IOAS_MAP+UNMAP 4 KiB", "MAP+UNMAP 4 KiB, device",
};

/* One ioctl, whichever way: 0 or a negative errno. */
struct way {
	long (*ioctl)(struct way *w, unsigned long request, void *arg);
	struct iofd_ctx *ctx; /* in-process */
	int fd;               /* through the kernel */
};

static long way_inproc(struct way *w, unsigned long request, void *arg)
{
	return iofd_ioctl(w->ctx, request, (uintptr_t)arg);
}

static long way_syscall(struct way *w, unsigned long request, void *arg)
{
	return ioctl(w->fd, request, arg) < 0 ? -errno : 0;
}

static double now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static uint32_t alloc_ioas(struct way *w)
{
	struct iofd_ioas_alloc a = {.size = sizeof(a)};
	return w->ioctl(w, IOFD_REQ(IOFD_NR_IOAS_ALLOC), &a) ? 0 : a.out_ioas_id;
}

static long destroy(struct way *w, uint32_t id)
{
	struct iofd_destroy d = {.size = sizeof(d), .id = id};
	return w->ioctl(w, IOFD_REQ(IOFD_NR_DESTROY), &d);
}

static long map_unmap(struct way *w, uint32_t ioas, void *buf, uint64_t iova)
{
	struct iofd_ioas_map m = {.size = sizeof(m), .ioas_id = ioas,
				  .flags = IOFD_MAP_FIXED_IOVA | IOFD_MAP_READABLE |
					   IOFD_MAP_WRITEABLE,
				  .user_va = (uintptr_t)buf, .length = 4096, .iova = iova};
	struct iofd_ioas_unmap u = {.size = sizeof(u), .ioas_id = ioas, .iova = iova,
				    .length = 4096};
	long rc = w->ioctl(w, IOFD_REQ(IOFD_NR_IOAS_MAP), &m);
	return rc ? rc : w->ioctl(w, IOFD_REQ(IOFD_NR_IOAS_UNMAP), &u);
}

/* Time `iters` rounds of loop `which`, RUNS times; the median mean in ns,
 * or -1 if an ioctl failed. */
static double measure(struct way *w, int which, long iters)
{
	static char buf[4096] __attribute__((aligned(4096)));
	uint32_t ioas = 0;
	uint64_t iova = 1ull << 32;
	if (which > 0) {
		ioas = alloc_ioas(w);
		if (!ioas)
			return -1;
	}
	if (which == 2) {
		struct iofd_test_cmd t = {.size = sizeof(t), .op = IOFD_TEST_OP_MOCK_DOMAIN,
					  .id = ioas};
		if (w->ioctl(w, IOFD_REQ(IOFD_NR_TEST_CMD), &t))
			return -1;
		iova = 1ull << 24; /* inside the mock domain's aperture */
	}
	double runs[RUNS];
	for (int r = -1; r < RUNS; r++) { /* run -1 warms up */
		double t0 = now_ns();
		for (long i = 0; i < iters; i++) {
			long rc;
			if (which == 0) {
				uint32_t id = alloc_ioas(w);
				rc = id ? destroy(w, id) : -1;
			} else {
				rc = map_unmap(w, ioas, buf, iova);
			}
			if (rc)
				return -1;
		}
		if (r >= 0)
			runs[r] = (now_ns() - t0) / (double)iters;
	}
	qsort(runs, RUNS, sizeof(runs[0]), cmp_double);
	return runs[RUNS / 2];
}

static void measure_all(struct way *w, long iters, double out[NLOOPS])
{
	for (int i = 0; i < NLOOPS; i++)
		out[i] = measure(w, i, iters);
}

/* --client PATH ITERS: the loops through ioctl(2) on a fresh open of PATH. */
static int client_main(const char *path, long iters)
{
	struct way w = {.ioctl = way_syscall, .fd = open(path, O_RDWR)};
	if (w.fd < 0) {
		fprintf(stderr, "bench-transports: open %s: %s\n", path, strerror(errno));
		return 1;
	}
	double t[NLOOPS];
	measure_all(&w, iters, t);
	for (int i = 0; i < NLOOPS; i++)
		printf("%.1f\n", t[i]);
	close(w.fd);
	return 0;
}

/* Run this program as a client of path (with LD_PRELOAD=preload if given)
 * and read its figures; 0, or a reason. */
static const char *run_client(const char *path, const char *preload, long iters,
			      double out[NLOOPS])
{
	int p[2];
	if (pipe(p))
		return strerror(errno);
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(p[1], STDOUT_FILENO);
		close(p[0]);
		close(p[1]);
		if (preload)
			setenv("LD_PRELOAD", preload, 1);
		char n[32];
		snprintf(n, sizeof(n), "%ld", iters);
		execl("/proc/self/exe", "bench-transports", "--client", path, n, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	FILE *f = fdopen(p[0], "r");
	int got = 0;
	while (f && got < NLOOPS && fscanf(f, "%lf", &out[got]) == 1)
		got++;
	if (f)
		fclose(f);
	int status;
	waitpid(pid, &status, 0);
	return got == NLOOPS && WIFEXITED(status) && !WEXITSTATUS(status) ? NULL
									  : "the client failed";
}

/* ------------------------------------------------------------------ */
/* The transports */

static const char *bench_inproc(long iters, double out[NLOOPS])
{
	struct way w = {.ioctl = way_inproc, .ctx = iofd_open(&iofd_uaccess_self, IOFD_ABI_NEWEST)};
	if (!w.ctx)
		return "out of memory";
	measure_all(&w, iters, out);
	iofd_close(w.ctx);
	return NULL;
}

static const char *bench_preload(long iters, double out[NLOOPS])
{
	const char *module = getenv("IOMMUSIM_PRELOAD");
	if (!module || !*module)
		module = IMS_PRELOAD_BUILD;
	if (access(module, R_OK))
		return "libiommusim-preload.so not found (set IOMMUSIM_PRELOAD)";
	return run_client("/dev/iommu", module, iters, out);
}

#ifdef IMS_HAVE_FUSE
static void fuse_ready(void *arg)
{
	int *fd = arg;
	ssize_t n = write(*fd, "", 1);
	(void)n;
}

static const char *bench_fuse(long iters, double out[NLOOPS])
{
	if (geteuid() != 0)
		return "skipped: mounting needs root";
	if (access("/dev/fuse", R_OK | W_OK))
		return "skipped: no /dev/fuse";
	char path[] = "/tmp/iommusim-bench-XXXXXX";
	int tfd = mkstemp(path);
	if (tfd < 0)
		return strerror(errno);
	close(tfd);
	int ready[2];
	if (pipe(ready))
		return strerror(errno);
	fflush(NULL);
	pid_t server = fork();
	if (server == 0) {
		close(ready[0]);
		struct srv *s = srv_new(IOFD_ABI_NEWEST, SRV_LOG_WARN);
		struct srv_fuse *f;
		if (!s || srv_fuse_mount_file(s, path, fuse_ready, &ready[1], &f))
			_exit(1);
		int rc = srv_run(s);
		srv_fuse_close(f);
		srv_free(s);
		_exit(rc ? 1 : 0);
	}
	close(ready[1]);
	char c;
	const char *why = read(ready[0], &c, 1) == 1 ? NULL : "the FUSE server did not start";
	close(ready[0]);
	if (!why) /* a client process of its own, like the preload's */
		why = run_client(path, NULL, iters, out);
	kill(server, SIGTERM);
	waitpid(server, NULL, 0);
	unlink(path);
	return why;
}
#endif

/* A server child on a socket in a temporary directory; this program re-run
 * under the preload with IOMMUSIM_CONNECT naming it. */
static const char *bench_socket(long iters, double out[NLOOPS])
{
	const char *module = getenv("IOMMUSIM_PRELOAD");
	if (!module || !*module)
		module = IMS_PRELOAD_BUILD;
	if (access(module, R_OK))
		return "libiommusim-preload.so not found (set IOMMUSIM_PRELOAD)";
	char dir[] = "/tmp/iommusim-bench-XXXXXX", path[64];
	if (!mkdtemp(dir))
		return strerror(errno);
	snprintf(path, sizeof(path), "%s/sock", dir);
	int ready[2];
	if (pipe(ready))
		return strerror(errno);
	fflush(NULL);
	pid_t server = fork();
	if (server == 0) {
		close(ready[0]);
		struct srv *s = srv_new(IOFD_ABI_NEWEST, SRV_LOG_WARN);
		struct srv_socket *ss = s ? srv_socket_start(s, path) : NULL;
		if (!ss || write(ready[1], "", 1) != 1)
			_exit(1);
		int rc = srv_run(s);
		srv_socket_stop(ss);
		srv_free(s);
		_exit(rc ? 1 : 0);
	}
	close(ready[1]);
	char c;
	const char *why = read(ready[0], &c, 1) == 1 ? NULL : "the socket server did not start";
	close(ready[0]);
	if (!why) {
		setenv("IOMMUSIM_CONNECT", path, 1);
		why = run_client("/dev/iommu", module, iters, out);
		unsetenv("IOMMUSIM_CONNECT");
	}
	kill(server, SIGTERM);
	waitpid(server, NULL, 0);
	rmdir(dir);
	return why;
}

static const struct transport {
	const char *name;
	const char *(*run)(long iters, double out[NLOOPS]);
} transports[] = {
	{"in-process", bench_inproc},
	{"preload", bench_preload},
#ifdef IMS_HAVE_FUSE
	{"FUSE file", bench_fuse},
#endif
	{"socket", bench_socket},
};

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "--client"))
		return client_main(argv[2], atol(argv[3]));
	long iters = 2000;
	int c;
	while ((c = getopt(argc, argv, "n:h")) != -1) {
		if (c == 'n' && (iters = atol(optarg)) > 0)
			continue;
		fprintf(stderr, "usage: bench-transports [-n ITERATIONS]\n");
		return c == 'h' ? 0 : 2;
	}
	printf("Round trip per pair of ioctls (median of %d runs of %ld pairs), in us\n\n",
	       RUNS, iters);
	printf("%-12s", "transport");
	for (int i = 0; i < NLOOPS; i++)
		printf("  %24s", loop_names[i]);
	printf("\n");
	int status = 0;
	for (size_t t = 0; t < sizeof(transports) / sizeof(transports[0]); t++) {
		double out[NLOOPS];
		const char *why = transports[t].run(iters, out);
		printf("%-12s", transports[t].name);
		if (why) {
			printf("  %s\n", why);
			if (strncmp(why, "skipped", 7))
				status = 1;
			continue;
		}
		for (int i = 0; i < NLOOPS; i++) {
			if (out[i] < 0) {
				printf("  %24s", "failed");
				status = 1;
			} else {
				printf("  %24.2f", out[i] / 1000.0);
			}
		}
		printf("\n");
		fflush(stdout);
	}
	return status;
}
