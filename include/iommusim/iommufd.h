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

/* A descriptor an ioctl creates (see install_file below). */
struct iofd_file;

/* How the dispatcher reaches the calling program's memory. */
struct iofd_uaccess {
	/* Copy len bytes from the caller's address uaddr; 0 or -EFAULT. */
	int (*read)(void *opaque, uint64_t uaddr, void *dst, size_t len);
	/* Copy len bytes to the caller's address uaddr; 0 or -EFAULT. */
	int (*write)(void *opaque, uint64_t uaddr, const void *src, size_t len);
	/* Is [uaddr, uaddr + len) mapped in the caller, readable (and
	 * writable if `write`)?  0 or -EFAULT.  Asked before pages are pinned,
	 * as the kernel's get_user_pages would fail.  NULL: each page is read. */
	int (*probe)(void *opaque, uint64_t uaddr, uint64_t len, bool write);
	/* Does the caller hold capability `cap` (Linux numbering, e.g. 24 for
	 * CAP_SYS_RESOURCE)?  NULL: the answer for this process. */
	bool (*capable)(void *opaque, int cap);
	/* Give the caller a new descriptor for `file` (a fault queue, a vEVENT
	 * queue, a selftest access object); returns the descriptor number or a
	 * negative errno.  The transport owns the reference it is given and
	 * drops it with iofd_file_release() when the caller's last copy of the
	 * descriptor closes.  NULL: ioctls that create descriptors fail with
	 * EOPNOTSUPP. */
	int (*install_file)(void *opaque, struct iofd_file *file);
	/* Undo install_file when the ioctl fails after it (its reply could not
	 * be written): close descriptor `fd` without releasing the file. */
	void (*uninstall_file)(void *opaque, int fd);
	/* The file behind the caller's descriptor fd (one install_file
	 * made), or NULL.  Used where an ioctl names a descriptor (the
	 * selftest's access objects). */
	struct iofd_file *(*file_of)(void *opaque, int fd);
	/* A descriptor of the dispatcher's own for the caller's descriptor
	 * fd (IOAS_MAP_FILE names a memory file by descriptor): the
	 * dispatcher closes it.  -EBADF if the caller has no such
	 * descriptor.  NULL: IOAS_MAP_FILE fails with EOPNOTSUPP. */
	int (*get_fd)(void *opaque, int fd);
	void *opaque;
	/* Which address space the caller lives in (e.g. its pid; 0 for this
	 * process): pins are counted per (address space, page), across every
	 * open /dev/iommu. */
	uint64_t mm;
};

/*
 * User access for a caller in this very process.  Bad addresses give
 * -EFAULT instead of a crash (the copies go through process_vm_readv and
 * process_vm_writev on our own pid).
 */
extern const struct iofd_uaccess iofd_uaccess_self;

/*
 * User access for another process (a server's client): copies through
 * process_vm_readv/writev on `pid`, probes /proc/<pid>/maps, asks capget(2)
 * for its capabilities; pins are keyed by `pid` (mm).  The descriptor
 * operations are left NULL for the transport to fill.  Needs the right to
 * ptrace `pid` (same user, or CAP_SYS_PTRACE).
 */
void iofd_uaccess_for_pid(struct iofd_uaccess *ua, int pid);

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
/* The ABI it was opened with (devices bound to it answer by it too). */
enum iofd_abi iofd_ctx_abi(const struct iofd_ctx *ctx);

/* Close it: every object goes, as when the last file reference drops. */
void iofd_close(struct iofd_ctx *ctx);

/* Take another reference, as a VFIO device bound to it holds one: the
 * objects stay until every holder has called iofd_close(). */
struct iofd_ctx *iofd_get(struct iofd_ctx *ctx);

/* Serve one ioctl: 0 (or a non-negative result), or a negative errno. */
long iofd_ioctl(struct iofd_ctx *ctx, unsigned long request, uint64_t arg);

/*
 * Serve one ioctl for a caller other than the one given at open: a server
 * whose descriptor is shared by several processes (after fork, every one
 * of them may issue ioctls on it).  Memory the call maps is read through
 * `caller` from then on, so `caller` must outlive every mapping made with
 * it: the transport keeps one per client process.
 */
long iofd_ioctl_from(struct iofd_ctx *ctx, const struct iofd_uaccess *caller,
		     unsigned long request, uint64_t arg);

/*
 * Descriptors created by ioctls.  Each call takes a buffer in the
 * transport's own memory; the answers are read(2)/write(2)'s: a byte count
 * or a negative errno.  A file keeps its context alive: iofd_close() of
 * the /dev/iommu context frees it only after its files are released.
 * Nothing here blocks: a read with nothing queued gives 0 bytes, as
 * Linux's fault queue does.
 */
long iofd_file_read(struct iofd_file *file, void *buf, size_t len, uint64_t offset);
long iofd_file_write(struct iofd_file *file, const void *buf, size_t len, uint64_t offset);
/* POLLIN when there is something to read, POLLOUT when a write would be taken. */
unsigned iofd_file_poll(struct iofd_file *file);
void iofd_file_release(struct iofd_file *file);

/*
 * The host IOMMU: devices that are not the selftest's mock sit behind one
 * modelled VT-d or SMMUv3 per process, programmed by the host driver
 * (iommufd/host.c) as a Linux driver programs hardware.
 */
struct ims_model;
struct ims_iommu;
struct ims_fault;

/* Build the host IOMMU from `model` (taken over, freed on failure too).
 * -EBUSY while devices are bound; -EINVAL with a message in err for a
 * model the driver cannot drive. */
int iofd_host_init(struct ims_model *model, char *err, size_t errlen);
/* Free it (when no device is bound). */
void iofd_host_fini(void);
/* The instance (statistics, registers, faults); NULL before init. */
struct ims_iommu *iofd_host_iommu(void);

/* Bind the device with requester ID / StreamID sid to ctx, as
 * VFIO_DEVICE_BIND_IOMMUFD does: a new device object, its ID in *dev_id.
 * -ENODEV without a host IOMMU, -EBUSY if sid is bound already. */
int iofd_host_bind(struct iofd_ctx *ctx, uint32_t sid, uint32_t *dev_id);
/* Undo a bind (the device is detached first); -EBUSY while other objects use it. */
int iofd_host_unbind(struct iofd_ctx *ctx, uint32_t dev_id);
/* VFIO_DEVICE_ATTACH_IOMMUFD_PT: attach to an IOAS or HWPT (replacing an
 * attachment); *pt_id becomes the HWPT's ID. */
int iofd_host_attach(struct iofd_ctx *ctx, uint32_t dev_id, uint32_t *pt_id);
/* VFIO_DEVICE_DETACH_IOMMUFD_PT. */
int iofd_host_detach(struct iofd_ctx *ctx, uint32_t dev_id);
/* DMA by device sid through the host IOMMU: len bytes at iova from or to
 * buf.  0; -EFAULT on a translation fault (copied to *fault when given;
 * the IOMMU records it in its own log); -EIO if the output address is not
 * memory; -ENODEV without a host IOMMU. */
int iofd_host_dma(uint32_t sid, uint64_t iova, void *buf, size_t len, bool write,
		  struct ims_fault *fault);
/* The same at a PASID (VFIO_DEVICE_ATTACH_PASID, Linux 6.15): attach to a
 * HWPT allocated with IOMMU_HWPT_ALLOC_PASID (replacing what the PASID
 * has; an IOAS is EINVAL), detach (nothing attached: nothing to do), and
 * DMA tagged with the PASID / SubstreamID.  PASID 0 is the RID's. */
int iofd_host_attach_pasid(struct iofd_ctx *ctx, uint32_t dev_id, uint32_t pasid,
			   uint32_t *pt_id);
int iofd_host_detach_pasid(struct iofd_ctx *ctx, uint32_t dev_id, uint32_t pasid);
int iofd_host_dma_pasid(uint32_t sid, uint32_t pasid, uint64_t iova, void *buf, size_t len,
			bool write, struct ims_fault *fault);

/*
 * mmap(2) of the /dev/iommu descriptor (Linux 6.17+): map the region a
 * driver handed out at `offset` (the selftest vIOMMU's page; see
 * docs/iommufd.md), `length` bytes (rounded up to the host page), with the
 * caller's mmap prot and flags.  On success *fd is a memory file of the
 * dispatcher's (not the caller's to close): the transport maps `length`
 * bytes of it from file offset 0, MAP_SHARED, where the program wanted,
 * and calls iofd_munmap(*out) once that mapping is entirely gone.  Until
 * then the region's owner cannot be destroyed (EBUSY) and the context
 * stays alive.  -EINVAL (not MAP_SHARED; unaligned offset; length 0),
 * -EPERM (PROT_EXEC), -ENXIO (no region there of that length), -ENODEV
 * (ABI 6.12, which has no iommufd mmap).
 */
struct iofd_mapping;
int iofd_mmap(struct iofd_ctx *ctx, uint64_t offset, uint64_t length, int prot, int flags,
	      int *fd, struct iofd_mapping **out);
void iofd_munmap(struct iofd_mapping *m);

/* Number of live objects (IOAS, HWPT, device, ...), for tests and --stats. */
size_t iofd_object_count(const struct iofd_ctx *ctx);

#ifdef __cplusplus
}
#endif

#endif
