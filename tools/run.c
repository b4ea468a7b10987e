/*
 * run.c - `iommusim run`: run a program with /dev/iommu served by the
 * simulator, through the LD_PRELOAD transport (transport/preload/,
 * docs/transports.md), or with --transport fuse through a FUSE file
 * served by a child `iommusim serve` (serve.c).
 *
 * With the preload, the command only prepares the environment and
 * replaces itself with the program (execvp), so the program's exit status
 * is the command's:
 *   LD_PRELOAD       the preload module, before anything already there
 *                    (after a sanitizer runtime, which must stay first);
 *   IOMMUSIM_ABI     from --abi;
 *   IOMMUSIM_MODEL   from --model, as an absolute path;
 *   IOMMUSIM_STATS   "-" with --stats;
 *   IOMMUSIM_CONNECT from --connect, as an absolute path: the preload then
 *                    forwards to a running `iommusim serve --socket`
 *                    (transport/socket/) instead of simulating in-process.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <iommusim/iommufd.h>

#include "engine/bits.h"
#include "tools/tools_int.h"

static const char usage_run[] =
	"Usage: iommusim run [OPTIONS] -- COMMAND [ARGS...]\n"
	"\n"
	"Run COMMAND with /dev/iommu served by the simulator: its opens of /dev/iommu\n"
	"give iommufd descriptors whose ioctls (IOAS_ALLOC, IOAS_MAP, ...) are answered\n"
	"as a Linux kernel answers them.  It works by preloading libiommusim-preload.so\n"
	"(LD_PRELOAD), so COMMAND must be dynamically linked; each process has its own\n"
	"state (a forked child works on a copy).  The exit status is COMMAND's (127 if\n"
	"it cannot be run; 2 on bad usage).\n"
	"\n"
	"Options:\n"
	"  -a, --abi ABI        answer as Linux 6.12 does (6.12) or as the newest\n"
	"                       kernel does (newest, the default)\n"
	"  -m, --model FILE     hardware model for the simulated IOMMU (models/*.json;\n"
	"                       passed on as IOMMUSIM_MODEL: the IOMMU behind the emulated\n"
	"                       VFIO devices (IOMMUSIM_VFIO, default\n"
	"                       /dev/vfio/devices/vfio0=01:00.0)\n"
	"  -s, --stats          print the ioctls served, per request, when COMMAND exits\n"
	"  -t, --transport T    preload (the default) or fuse: COMMAND runs in a private\n"
	"                       mount namespace whose /dev/iommu is a FUSE file served by\n"
	"                       a child server shared by all its processes (forks share\n"
	"                       state; static binaries work; needs root and /dev/fuse)\n"
	"  -c, --connect PATH   forward to the server on the Unix socket PATH (`iommusim\n"
	"                       serve --socket PATH`) instead of simulating in each\n"
	"                       process: all processes, forked children included, share\n"
	"                       its state; its --abi and --model apply\n"
	"  -h, --help           show this help\n"
	"\n"
	"Environment: IOMMUSIM_PRELOAD names the module to use instead of the one\n"
	"built or installed with this command; IOMMUSIM_DEVICE (colon-separated\n"
	"paths) serves other paths instead of /dev/iommu; IOMMUSIM_STATS=FILE appends\n"
	"the summary to FILE.\n"
	"\n"
	"Example: iommusim run --stats -- ./my-vmm-test\n";

static bool readable(const char *path)
{
	return path && *path && access(path, R_OK) == 0;
}

/*
 * The preload module: $IOMMUSIM_PRELOAD; the build tree's when this
 * command runs from the build tree; the installed one; the build tree's.
 */
static const char *preload_module(void)
{
	const char *env = getenv("IOMMUSIM_PRELOAD");
	if (env && *env)
		return env;
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	size_t root = strlen(IMS_BUILD_ROOT);
	if (n > 0) {
		self[n] = '\0';
		if (!strncmp(self, IMS_BUILD_ROOT, root) && self[root] == '/' &&
		    readable(IMS_PRELOAD_BUILD))
			return IMS_PRELOAD_BUILD;
	}
	if (readable(IMS_PRELOAD_INSTALL))
		return IMS_PRELOAD_INSTALL;
	if (readable(IMS_PRELOAD_BUILD))
		return IMS_PRELOAD_BUILD;
	return NULL;
}

/* Is this LD_PRELOAD entry a sanitizer runtime (which insists on being first)? */
static bool is_sanitizer_runtime(const char *entry, size_t len)
{
	static const char *const names[] = {"libasan.", "libhwasan.", "libtsan.",
					     "libclang_rt.asan", "libclang_rt.hwasan",
					     "libclang_rt.tsan"};
	const char *base = entry;
	for (size_t i = 0; i < len; i++)
		if (entry[i] == '/')
			base = entry + i + 1;
	for (size_t i = 0; i < IMS_ARRAY_SIZE(names); i++) {
		size_t l = strlen(names[i]);
		if ((size_t)(entry + len - base) >= l && !strncmp(base, names[i], l))
			return true;
	}
	return false;
}

/* The new LD_PRELOAD: the module first (after a sanitizer runtime), then the
 * old entries.  ld.so separates entries with spaces or colons. */
static char *preload_value(const char *module, const char *old)
{
	size_t mlen = strlen(module);
	if (!old || !*old)
		return strdup(module);
	/* Already there (a nested `iommusim run`): leave it. */
	for (const char *p = old; *p;) {
		size_t len = strcspn(p, " :");
		if (len == mlen && !strncmp(p, module, len))
			return strdup(old);
		p += len;
		p += strspn(p, " :");
	}
	size_t skip = strspn(old, " :");
	size_t first = strcspn(old + skip, " :");
	size_t keep = is_sanitizer_runtime(old + skip, first) ? skip + first : 0;
	char *v = malloc(strlen(old) + mlen + 2);
	if (!v)
		return NULL;
	if (keep)
		sprintf(v, "%.*s:%s%s", (int)keep, old, module, old + keep);
	else
		sprintf(v, "%s:%s", module, old);
	return v;
}

/*
 * --connect SOCKET: a socket some server listens on, made absolute (the
 * command may change directory); 0, or the exit status for a refusal.
 * The server's ABI applies, so --abi cannot be honoured with it.
 */
static int run_check_socket(const char *path, const char *abi, const char *model, bool fuse,
			    char *abs)
{
	if (abi || model || fuse) {
		fprintf(stderr, "iommusim run: --connect does not go with %s (the server's own "
			"options apply)\n", abi ? "--abi" : model ? "--model" : "--transport fuse");
		return 2;
	}
	struct stat st;
	const char *why = NULL;
	if (stat(path, &st))
		why = errno == ENOENT ? "does not exist" : strerror(errno);
	else if (!S_ISSOCK(st.st_mode))
		why = "is not a socket";
	else if (!realpath(path, abs))
		why = strerror(errno);
	if (why) {
		fprintf(stderr, "iommusim run: --connect: '%s' %s\n", path, why);
		return 2;
	}
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(abs) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "iommusim run: --connect: '%s' is longer than a socket path may be "
			"(%zu bytes)\n", abs, sizeof(sa.sun_path) - 1);
		return 2;
	}
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	bool live = false;
	if (fd >= 0) {
		strcpy(sa.sun_path, abs);
		live = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	}
	if (fd >= 0)
		close(fd);
	if (!live) {
		fprintf(stderr, "iommusim run: --connect: no server answers on '%s' (start one with "
			"'iommusim serve --socket %s')\n", path, path);
		return 1;
	}
	return 0;
}

int tools_check_model(const char *cmd, const char *model, char *abs_path)
{
	struct stat st;
	const char *why = NULL;
	if (stat(model, &st))
		why = errno == ENOENT ? "does not exist" : strerror(errno);
	else if (!S_ISREG(st.st_mode))
		why = "is not a regular file";
	else if (access(model, R_OK) || (abs_path && !realpath(model, abs_path)))
		why = strerror(errno);
	if (why)
		fprintf(stderr, "iommusim %s: --model: '%s' %s\n", cmd, model, why);
	return why ? -1 : 0;
}

int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{"abi", required_argument, NULL, 'a'},
		{"model", required_argument, NULL, 'm'},
		{"stats", no_argument, NULL, 's'},
		{"transport", required_argument, NULL, 't'},
		{"connect", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *abi = NULL, *model = NULL, *connect_to = NULL;
	bool stats = false, fuse = false;
	enum iofd_abi abi_value = IOFD_ABI_NEWEST;
	int c;

	/* '+': stop at COMMAND, whose own options are not ours. */
	while ((c = getopt_long(argc, argv, "+a:m:st:c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'a': {
			enum iofd_abi v;
			if (iofd_abi_parse(optarg, &v)) {
				fprintf(stderr, "iommusim run: --abi wants 6.12 or newest, not '%s'\n",
					optarg);
				return 2;
			}
			abi = optarg;
			abi_value = v;
			break;
		}
		case 't':
			if (strcmp(optarg, "preload") && strcmp(optarg, "fuse")) {
				fprintf(stderr, "iommusim run: --transport wants preload or fuse, "
					"not '%s'\n", optarg);
				return 2;
			}
			fuse = !strcmp(optarg, "fuse");
			break;
		case 'm':
			model = optarg;
			break;
		case 'c':
			connect_to = optarg;
			break;
		case 's':
			stats = true;
			break;
		case 'h':
			fputs(usage_run, stdout);
			return 0;
		default:
			fputs("Try 'iommusim run --help'.\n", stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "iommusim run: no command given\n%s", usage_run);
		return 2;
	}
	if (model && fuse) {
		/* The model drives the emulated VFIO devices, which only the
		 * in-process preload serves. */
		fprintf(stderr, "iommusim run: --model does not go with --transport fuse (VFIO "
			"devices are served by the preload only)\n");
		return 2;
	}
	char model_abs[PATH_MAX];
	if (model && tools_check_model("run", model, model_abs))
		return 2;
	char connect_abs[PATH_MAX];
	if (connect_to) {
		int rc = run_check_socket(connect_to, abi, model, fuse, connect_abs);
		if (rc)
			return rc;
	}
	if (fuse)
		return serve_run_fuse(abi_value, stats, argv + optind);
	const char *module = preload_module();
	if (!module) {
		fprintf(stderr, "iommusim run: cannot find libiommusim-preload.so (looked for %s "
			"and %s; set IOMMUSIM_PRELOAD to its path)\n", IMS_PRELOAD_INSTALL,
			IMS_PRELOAD_BUILD);
		return 1;
	}
	char *value = preload_value(module, getenv("LD_PRELOAD"));
	if (!value || setenv("LD_PRELOAD", value, 1) ||
	    (abi && setenv("IOMMUSIM_ABI", abi, 1)) ||
	    (model && setenv("IOMMUSIM_MODEL", model_abs, 1)) ||
	    (stats && setenv("IOMMUSIM_STATS", "-", 1)) ||
	    (connect_to && setenv("IOMMUSIM_CONNECT", connect_abs, 1))) {
		perror("iommusim run");
		free(value);
		return 1;
	}
	free(value);
	execvp(argv[optind], argv + optind);
	int err = errno;
	fprintf(stderr, "iommusim run: cannot run '%s': %s\n", argv[optind], strerror(err));
	return tools_exec_status(err);
}
