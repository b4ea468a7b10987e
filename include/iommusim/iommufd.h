/*
 * iommusim/iommufd.h - the /dev/iommu object model and ioctl dispatcher.
 *
 * One `struct iofd_ctx` is one open /dev/iommu.  A transport (LD_PRELOAD
 * module, CUSE server, a test) hands every ioctl to iofd_ioctl() together
 * with the caller's argument pointer; the dispatcher reads and writes the
 * caller's memory only through the user-access operations given at open, so
 * it never needs to know where the caller lives.  The answer is what a
 * Linux kernel with iommufd gives: 0, or a negative errno, with the
 * kernel's size and extensibility rules (short struct: EINVAL; non-zero
 * bytes beyond the struct we know: E2BIG; unknown request: ENOTTY; replies
 * truncated to the caller's size).  A failing ioctl changes nothing.
 */
#ifndef IOMMUSIM_IOMMUFD_H
#define IOMMUSIM_IOMMUFD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* How the dispatcher reaches the calling program's memory. */
struct iofd_uaccess {
	/* Copy len bytes from the caller's address uaddr; 0 or -EFAULT. */
	int (*read)(void *opaque, uint64_t uaddr, void *dst, size_t len);
	/* Copy len bytes to the caller's address uaddr; 0 or -EFAULT. */
	int (*write)(void *opaque, uint64_t uaddr, const void *src, size_t len);
	/* Does the caller hold capability `cap` (Linux numbering, e.g. 24 for
	 * CAP_SYS_RESOURCE)?  NULL: the answer for this process. */
	bool (*capable)(void *opaque, int cap);
	void *opaque;
};

/*
 * User access for a caller in this very process.  Bad addresses give
 * -EFAULT instead of a crash (the copies go through process_vm_readv and
 * process_vm_writev on our own pid).
 */
extern const struct iofd_uaccess iofd_uaccess_self;

/*
 * Which kernel's answers to give where kernels differ: which ioctls exist
 * and a few errnos (see docs/iommufd.md).
 */
enum iofd_abi {
	IOFD_ABI_NEWEST = 0,
	IOFD_ABI_6_12 = 612,
};

/* Parse "6.12" or "newest"; returns 0 and sets *abi, or -EINVAL. */
int iofd_abi_parse(const char *text, enum iofd_abi *abi);

struct iofd_ctx;

/* Open a /dev/iommu.  `ua` is copied.  NULL on allocation failure. */
struct iofd_ctx *iofd_open(const struct iofd_uaccess *ua, enum iofd_abi abi);

/* Close it: every object goes, as when the last file reference drops. */
void iofd_close(struct iofd_ctx *ctx);

/* Serve one ioctl: 0 (or a non-negative result), or a negative errno. */
long iofd_ioctl(struct iofd_ctx *ctx, unsigned long request, uint64_t arg);

/* Number of live objects (IOAS, HWPT, device, ...), for tests and --stats. */
size_t iofd_object_count(const struct iofd_ctx *ctx);

#ifdef __cplusplus
}
#endif

#endif
