/*
 * serve.c - `iommusim serve`: one simulator process serving /dev/iommu to
 * every program on the machine (transport/server/, transport/fuse/,
 * docs/transports.md), and the FUSE transport of `iommusim run`.
 *
 *   iommusim serve --cuse [NAME]   a character device /dev/NAME (CUSE)
 *   iommusim serve --fuse PATH     a FUSE file mounted on PATH
 *
 * `iommusim run --transport fuse -- CMD` (serve_run_fuse below) starts the
 * FUSE server as a child and runs CMD in a private mount namespace whose
 * /dev/iommu is that FUSE file.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <iommusim/iommufd.h>

#include "tools/tools_int.h"
#include "transport/server/server.h"
#include "transport/socket/socket.h"
#ifdef IMS_HAVE_FUSE
#include "transport/fuse/fuse_front.h"
#endif

static const char usage_serve[] =
	"Usage: iommusim serve (--cuse [NAME] | --fuse PATH | --socket PATH) [OPTIONS]\n"
	"\n"
	"Serve /dev/iommu from this one process to every program on the machine: all of\n"
	"them, and their forked children, share one simulator, as they share the\n"
	"kernel's iommufd.  Each open is a new iommufd context; its ioctls are answered\n"
	"as Linux answers them, reading and writing the caller's memory directly\n"
	"(process_vm_readv/writev: the server must be allowed to ptrace its clients,\n"
	"so run it as root or as their user).  Statically linked programs and raw\n"
	"system calls work too.  Runs until SIGINT or SIGTERM, then removes its device\n"
	"or mount and exits 0; 1 if it cannot start, 2 on bad usage.\n"
	"\n"
	"Front ends (one of):\n"
	"  -c, --cuse [NAME]    the character device /dev/NAME (default iommu) through\n"
	"                       CUSE; needs the kernel's cuse module and root\n"
	"  -f, --fuse PATH      a FUSE file mounted on PATH, a regular file (created if\n"
	"                       missing, and then removed at exit); needs root\n"
	"      --socket PATH    a Unix socket for programs run with `iommusim run\n"
	"                       --connect PATH` (the preload forwards to it; removed at\n"
	"                       exit); works without CUSE or FUSE\n"
	"\n"
	"Options:\n"
	"  -a, --abi ABI        answer as Linux 6.12 does (6.12) or as the newest\n"
	"                       kernel does (newest, the default)\n"
	"  -m, --model FILE     hardware model of the IOMMU behind the emulated VFIO\n"
	"                       devices (models/*.json); with --socket, programs run\n"
	"                       with `iommusim run --connect` open them through the\n"
	"                       server (CUSE and FUSE serve no VFIO devices)\n"
	"  -l, --log-level L    error, warn (the default), info (start and stop) or\n"
	"                       debug (every open, close and failed ioctl)\n"
	"  -s, --stats          print the ioctls served, per request, at exit\n"
	"  -h, --help           show this help\n"
	"\n"
	"Through CUSE or FUSE, ioctls that hand the caller a new descriptor\n"
	"(IOMMU_FAULT_QUEUE_ALLOC, IOMMU_VEVENTQ_ALLOC, the selftest's CREATE_ACCESS)\n"
	"fail with EOPNOTSUPP (the socket serves them), and the device has no mmap;\n"
	"docs/transports.md lists every limit.\n"
	"\n"
	"Examples: iommusim serve --cuse\n"
	"          iommusim serve --fuse /tmp/iommu --stats &\n"
	"          ./my-test /tmp/iommu; kill %1\n";

struct serve_opts {
	enum iofd_abi abi;
	enum srv_log_level log_level;
	bool stats;
	const char *cuse; /* the device name, or NULL */
	const char *fuse; /* the mount point, or NULL */
	const char *socket; /* the Unix socket path, or NULL */
	const char *model;  /* the host IOMMU's model, or NULL */
};

static int parse_log_level(const char *s, enum srv_log_level *level)
{
	static const struct {
		const char *name;
		enum srv_log_level level;
	} names[] = {{"error", SRV_LOG_ERROR}, {"warn", SRV_LOG_WARN}, {"warning", SRV_LOG_WARN},
		     {"info", SRV_LOG_INFO}, {"debug", SRV_LOG_DEBUG}};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i].name)) {
			*level = names[i].level;
			return 0;
		}
	return -EINVAL;
}

/* The server is up: tell whoever waits on *arg (a pipe), once. */
static void serve_ready(void *arg)
{
	int *fd = arg;
	if (*fd < 0)
		return;
	ssize_t n = write(*fd, "", 1);
	(void)n;
	close(*fd);
	*fd = -1;
}

/* The host IOMMU behind the VFIO devices, from --model. */
static int serve_host(const struct serve_opts *o)
{
	if (!o->model)
		return 0;
	struct ims_model *m;
	char err[256] = "out of memory";
	if (ims_model_load(o->model, &m, err, sizeof(err)) || iofd_host_init(m, err, sizeof(err))) {
		fprintf(stderr, "iommusim serve: --model: %s\n", err);
		return -1;
	}
	return 0;
}

/* Run one server until it is stopped; the exit status. */
static int serve_main(const struct serve_opts *o, int *ready_fd)
{
	if (serve_host(o))
		return 1;
	/* --socket alone needs no libfuse3 (transport/socket/). */
	if (o->socket && !o->cuse && !o->fuse) {
		struct srv *s = srv_new(o->abi, o->log_level);
		struct srv_socket *sock = s ? srv_socket_start(s, o->socket) : NULL;
		if (!sock) {
			if (!s)
				fputs("iommusim serve: out of memory\n", stderr);
			srv_free(s);
			return 1;
		}
		serve_ready(ready_fd);
		int rc = srv_run(s);
		srv_socket_stop(sock); /* before srv_free: it closes what clients held */
		if (o->stats)
			srv_print_stats(s, stderr);
		srv_free(s);
		return rc ? 1 : 0;
	}
#ifdef IMS_HAVE_FUSE
	struct srv *s = srv_new(o->abi, o->log_level);
	if (!s) {
		fputs("iommusim serve: out of memory\n", stderr);
		return 1;
	}
	struct srv_fuse *f;
	int rc = o->cuse ? srv_fuse_open_cuse(s, o->cuse, serve_ready, ready_fd, &f)
			 : srv_fuse_mount_file(s, o->fuse, serve_ready, ready_fd, &f);
	if (rc) {
		srv_free(s);
		return 1;
	}
	rc = srv_run(s);
	srv_fuse_close(f);
	if (o->stats)
		srv_print_stats(s, stderr);
	srv_free(s);
	return rc ? 1 : 0;
#else
	(void)o, (void)ready_fd;
	fputs("iommusim serve: this iommusim was built without libfuse3, so it has no CUSE or "
	      "FUSE server (install libfuse3-dev and rebuild)\n", stderr);
	return 1;
#endif
}

int cmd_serve(int argc, char **argv)
{
	static const struct option opts[] = {
		{"cuse", optional_argument, NULL, 'c'},
		{"fuse", required_argument, NULL, 'f'},
		{"socket", required_argument, NULL, 'S'},
		{"abi", required_argument, NULL, 'a'},
		{"model", required_argument, NULL, 'm'},
		{"log-level", required_argument, NULL, 'l'},
		{"stats", no_argument, NULL, 's'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct serve_opts o = {.abi = IOFD_ABI_NEWEST, .log_level = SRV_LOG_WARN};
	bool cuse = false;
	int c;

	while ((c = getopt_long(argc, argv, "c::f:S:a:m:l:sh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			cuse = true;
			o.cuse = optarg;
			break;
		case 'f':
			o.fuse = optarg;
			break;
		case 'S':
			o.socket = optarg;
			break;
		case 'a':
			if (iofd_abi_parse(optarg, &o.abi)) {
				fprintf(stderr, "iommusim serve: --abi wants 6.12 or newest, not '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 'm':
			o.model = optarg;
			break;
		case 'l':
			if (parse_log_level(optarg, &o.log_level)) {
				fprintf(stderr, "iommusim serve: --log-level wants error, warn, info or "
					"debug, not '%s'\n", optarg);
				return 2;
			}
			break;
		case 's':
			o.stats = true;
			break;
		case 'h':
			fputs(usage_serve, stdout);
			return 0;
		default:
			fputs("Try 'iommusim serve --help'.\n", stderr);
			return 2;
		}
	}
	/* `--cuse NAME`: getopt only takes an optional argument glued on
	 * (--cuse=NAME), so a lone word after --cuse is the name. */
	if (cuse && !o.cuse && optind + 1 == argc)
		o.cuse = argv[optind++];
	if (optind < argc) {
		fprintf(stderr, "iommusim serve: unexpected argument '%s'\n"
			"Try 'iommusim serve --help'.\n", argv[optind]);
		return 2;
	}
	if (cuse + !!o.fuse + !!o.socket != 1) {
		fputs("iommusim serve: give one of --cuse [NAME], --fuse PATH or --socket PATH\n"
		      "Try 'iommusim serve --help'.\n", stderr);
		return 2;
	}
	if (cuse && !o.cuse)
		o.cuse = "iommu";
	if ((o.fuse && !*o.fuse) || (o.socket && !*o.socket)) {
		fprintf(stderr, "iommusim serve: --%s wants a path\n", o.fuse ? "fuse" : "socket");
		return 2;
	}
	if (o.model && tools_check_model("serve", o.model, NULL))
		return 2;
	int no_ready = -1;
	int rc = serve_main(&o, &no_ready);
	iofd_host_fini(); /* every client's device is gone with the server's state */
	return rc;
}

/* ------------------------------------------------------------------ */
/* iommusim run --transport fuse */

#ifdef IMS_HAVE_FUSE
/*
 * Give this process a mount namespace of its own whose /dev is a tmpfs
 * holding every entry of the real /dev (symbolic links copied, everything
 * else bind-mounted with what is mounted below it) except `iommu`, plus
 * an empty regular file /dev/iommu for the FUSE file to be mounted on.
 * Nothing outside the namespace changes, and it goes away with its last
 * process.  A tmpfs is needed because /dev/iommu usually does not exist
 * and a mount needs a point to cover; where it does exist (a kernel with
 * iommufd) it is a character device, which a FUSE file cannot cover.
 */
static int run_private_dev(void)
{
	if (unshare(CLONE_NEWNS)) {
		perror("iommusim run: unshare(CLONE_NEWNS)");
		return -1;
	}
	/* Nothing we mount may propagate back to the host's namespace. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)) {
		perror("iommusim run: making the mounts private");
		return -1;
	}
	int old = open("/dev", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct stat st;
	if (old < 0 || fstat(old, &st)) {
		perror("iommusim run: /dev");
		return -1;
	}
	char opts[64];
	snprintf(opts, sizeof(opts), "mode=%o,uid=%u,gid=%u", (unsigned)(st.st_mode & 07777),
		 (unsigned)st.st_uid, (unsigned)st.st_gid);
	if (mount("iommusim", "/dev", "tmpfs", MS_NOSUID, opts)) {
		perror("iommusim run: mounting a tmpfs on /dev");
		close(old);
		return -1;
	}
	int new = open("/dev", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int dfd = fcntl(old, F_DUPFD_CLOEXEC, 0);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (new < 0 || !d) {
		perror("iommusim run: the new /dev");
		if (dfd >= 0 && !d)
			close(dfd);
		close(old);
		return -1;
	}
	struct dirent *e;
	int rc = 0;
	while ((e = readdir(d))) {
		const char *name = e->d_name;
		if (!strcmp(name, ".") || !strcmp(name, "..") || !strcmp(name, "iommu"))
			continue;
		struct stat es;
		char target[PATH_MAX], src[PATH_MAX + 32], dst[PATH_MAX + 8];
		const char *what = NULL;
		if (fstatat(old, name, &es, AT_SYMLINK_NOFOLLOW)) {
			what = "stat";
		} else if (S_ISLNK(es.st_mode)) {
			ssize_t n = readlinkat(old, name, target, sizeof(target) - 1);
			if (n < 0)
				what = "readlink";
			else if (target[n] = '\0', symlinkat(target, new, name))
				what = "symlink";
		} else {
			int made = S_ISDIR(es.st_mode) ? mkdirat(new, name, es.st_mode & 07777)
						       : mknodat(new, name, S_IFREG | 0600, 0);
			snprintf(src, sizeof(src), "/proc/self/fd/%d/%s", old, name);
			snprintf(dst, sizeof(dst), "/dev/%s", name);
			if (made)
				what = "creating a mount point";
			else if (mount(src, dst, NULL, MS_BIND | MS_REC, NULL))
				what = "bind mount";
		}
		if (what) {
			/* Not fatal: the command runs with a /dev missing one entry. */
			fprintf(stderr, "iommusim run: warning: /dev/%s left out of the private "
				"/dev: %s: %s\n", name, what, strerror(errno));
		}
	}
	closedir(d);
	if (mknodat(new, "iommu", S_IFREG | 0600, 0)) {
		perror("iommusim run: creating /dev/iommu");
		rc = -1;
	}
	close(new);
	close(old);
	return rc;
}

/* Wait for the command, passing on the stop signals another process
 * sends us (the terminal sends its own to the command already); its
 * wait status. */
static int run_wait_command(pid_t cmd, pid_t server, bool *server_gone,
			    const sigset_t *waitset)
{
	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(waitset, &si);
		if (sig < 0)
			continue; /* EINTR */
		if (sig != SIGCHLD) {
			if (si.si_code != SI_KERNEL)
				kill(cmd, sig);
			continue;
		}
		int status;
		if (!*server_gone && waitpid(server, &status, WNOHANG) == server) {
			*server_gone = true;
			fprintf(stderr, "iommusim run: the FUSE server stopped early (%s %d); "
				"/dev/iommu no longer answers\n", WIFSIGNALED(status) ? "signal"
				: "status", WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
		}
		pid_t r = waitpid(cmd, &status, WNOHANG);
		if (r == cmd)
			return status;
		if (r < 0 && errno == ECHILD)
			return 0;
	}
}

#endif /* IMS_HAVE_FUSE */

int serve_run_fuse(enum iofd_abi abi, bool stats, char **cmd)
{
#ifndef IMS_HAVE_FUSE
	(void)abi, (void)stats, (void)cmd;
	fputs("iommusim run: this iommusim was built without libfuse3: no --transport fuse "
	      "(install libfuse3-dev and rebuild)\n", stderr);
	return 1;
#else
	if (geteuid() != 0) {
		fputs("iommusim run: --transport fuse needs root (it makes a mount namespace and "
		      "mounts a FUSE file); use the default preload transport instead\n", stderr);
		return 1;
	}
	if (access("/dev/fuse", R_OK | W_OK)) {
		fprintf(stderr, "iommusim run: --transport fuse needs /dev/fuse: %s\n",
			strerror(errno));
		return 1;
	}
	if (run_private_dev())
		return 1;
	int ready[2];
	if (pipe2(ready, O_CLOEXEC)) {
		perror("iommusim run: pipe");
		return 1;
	}
	fflush(NULL);
	pid_t parent = getpid();
	pid_t server = fork();
	if (server < 0) {
		perror("iommusim run: fork");
		return 1;
	}
	if (server == 0) {
		close(ready[0]);
		/* Its own process group: a ^C on the terminal is for the
		 * command, and we stop the server only once it has exited. */
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(1);
		struct serve_opts o = {.abi = abi, .log_level = SRV_LOG_WARN, .stats = stats,
				       .fuse = "/dev/iommu"};
		int fd = ready[1];
		_exit(serve_main(&o, &fd));
	}
	close(ready[1]);
	char byte;
	ssize_t n;
	do
		n = read(ready[0], &byte, 1);
	while (n < 0 && errno == EINTR);
	close(ready[0]);
	if (n != 1) {
		waitpid(server, NULL, 0);
		fputs("iommusim run: the FUSE server did not start\n", stderr);
		return 1;
	}

	/* Signals wait to be taken in order, so no SIGCHLD is missed between
	 * the fork and the wait. */
	sigset_t waitset, old;
	sigemptyset(&waitset);
	sigaddset(&waitset, SIGCHLD);
	sigaddset(&waitset, SIGINT);
	sigaddset(&waitset, SIGTERM);
	sigaddset(&waitset, SIGHUP);
	sigaddset(&waitset, SIGQUIT);
	sigprocmask(SIG_BLOCK, &waitset, &old);
	fflush(NULL);
	pid_t child = fork();
	if (child == 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		execvp(cmd[0], cmd);
		int err = errno;
		fprintf(stderr, "iommusim run: cannot run '%s': %s\n", cmd[0], strerror(err));
		_exit(tools_exec_status(err));
	}
	int status = 0;
	bool server_gone = false;
	if (child < 0)
		perror("iommusim run: fork");
	else
		status = run_wait_command(child, server, &server_gone, &waitset);
	int sstatus;
	if (!server_gone && kill(server, SIGTERM) == 0 && waitpid(server, &sstatus, 0) == server &&
	    !(WIFEXITED(sstatus) && WEXITSTATUS(sstatus) == 0) &&
	    !(WIFSIGNALED(sstatus) && WTERMSIG(sstatus) == SIGTERM))
		fputs("iommusim run: the FUSE server did not stop cleanly\n", stderr);
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (child < 0)
		return 1;
	/* A command killed by a signal: the shell's 128 + signal. */
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
#endif
}
