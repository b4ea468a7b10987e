/*
 * transport/server/server.h - one simulator process serving many clients.
 *
 * `iommusim serve` runs one server: it owns every /dev/iommu context, and
 * clients reach it through front ends (transport/fuse/: a CUSE character
 * device or a FUSE file; transport/socket/: a Unix socket the preload
 * forwards to).  The server is single-threaded: every front end registers
 * its descriptors with srv_watch() and is called back from srv_run()'s
 * poll loop, so the simulator itself needs no locks.
 *
 * Client memory is reached from outside: each client process gets one
 * user-access structure (srv_caller) that copies with
 * process_vm_readv/writev on the calling thread, probes its
 * /proc/<pid>/maps and reads its capabilities from /proc/<pid>/status.
 * Pins are keyed by the client's thread-group ID.
 */
#ifndef TRANSPORT_SERVER_SERVER_H
#define TRANSPORT_SERVER_SERVER_H

#include <stdarg.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdint.h>

#include "include/iommusim/iommufd.h"

struct srv;

enum srv_log_level { SRV_LOG_ERROR = 0, SRV_LOG_WARN, SRV_LOG_INFO, SRV_LOG_DEBUG };

/* A server answering as kernel `abi`; log lines at or below `log_level`
 * go to stderr.  NULL on allocation failure. */
struct srv *srv_new(enum iofd_abi abi, enum srv_log_level log_level);
/* Close every context still open and free the server. */
void srv_free(struct srv *s);
enum iofd_abi srv_abi(const struct srv *s);

/* Call fn(arg, revents) from srv_run() whenever poll(2) reports `events`
 * on fd.  0 or -errno (EEXIST: fd already watched). */
typedef void (*srv_event_fn)(void *arg, short revents);
int srv_watch(struct srv *s, int fd, short events, srv_event_fn fn, void *arg);
void srv_unwatch(struct srv *s, int fd);

/* Serve until srv_stop() or SIGINT/SIGTERM; 0, or -errno if poll fails. */
int srv_run(struct srv *s);
void srv_stop(struct srv *s);

/* The user access for a client thread `tid` (as the kernel names the
 * caller: fuse_req_ctx()->pid, SO_PEERCRED, ...).  The structure stays
 * valid until srv_free(), so mappings made through it can be read later
 * (iofd_ioctl_from's rule).  NULL if the process is gone. */
const struct iofd_uaccess *srv_caller(struct srv *s, int tid);

/* Open and close contexts, counted for --stats. */
struct iofd_ctx *srv_ctx_open(struct srv *s);
void srv_ctx_close(struct srv *s, struct iofd_ctx *ctx);
/* Serve one ioctl for thread tid on ctx (counted for --stats). */
long srv_ioctl(struct srv *s, struct iofd_ctx *ctx, int tid, unsigned long request, uint64_t arg);
/* The same for a caller the front end has looked up already (srv_caller),
 * without collecting holds: the front end does that after its request. */
long srv_ioctl_as(struct srv *s, struct iofd_ctx *ctx, const struct iofd_uaccess *caller, int tid,
		  unsigned long request, uint64_t arg);
/* Let go of clients' shared memory that nothing pins any more (a hugetlb
 * buffer above all).  srv_ioctl and srv_ctx_close do it; a front end
 * calls it after any other request that may drop pins. */
void srv_collect_holds(struct srv *s);
/* Print what the server saw (requests by name, errors, contexts). */
void srv_print_stats(const struct srv *s, FILE *out);

void srv_log(const struct srv *s, enum srv_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
