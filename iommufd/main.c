/*
 * iommufd/main.c - the ioctl dispatcher and the object table.
 *
 * The dispatcher follows the kernel's sequence for every iommufd request:
 *   1. the request must be exactly _IO(';', nr) of a known nr (else ENOTTY);
 *   2. read the leading u32 size from the caller (EFAULT if unreadable);
 *   3. size below the first version's struct (offset of the end of its last
 *      field) is EINVAL;
 *   4. copy min(size, ours) bytes; bytes the caller passes beyond our struct
 *      must be zero (else E2BIG); a shorter struct is zero-extended;
 *   5. run the handler, which replies with at most the caller's size.
 * Handlers validate everything before changing anything, so a failing
 * ioctl leaves the context as it was.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "engine/bits.h"
#include "iommufd/iofd_int.h"

/* ------------------------------------------------------------------ */
/* User access through process_vm_readv/writev: iofd_uaccess_self (this
 * process; its opaque belongs to whoever copies it) and
 * iofd_uaccess_for_pid (opaque is the pid). */

static int vm_copy(pid_t pid, uint64_t uaddr, void *buf, size_t len, bool write)
{
	if (len == 0)
		return 0;
	struct iovec local = {buf, len};
	struct iovec remote = {(void *)(uintptr_t)uaddr, len};
	ssize_t n = write ? process_vm_writev(pid, &local, 1, &remote, 1, 0)
			  : process_vm_readv(pid, &local, 1, &remote, 1, 0);
	return n == (ssize_t)len ? 0 : -EFAULT;
}

static int self_read(void *opaque, uint64_t uaddr, void *dst, size_t len)
{
	(void)opaque;
	return vm_copy(getpid(), uaddr, dst, len, false);
}

static int self_write(void *opaque, uint64_t uaddr, const void *src, size_t len)
{
	(void)opaque;
	return vm_copy(getpid(), uaddr, (void *)src, len, true);
}

static int pid_read(void *opaque, uint64_t uaddr, void *dst, size_t len)
{
	return vm_copy((pid_t)(intptr_t)opaque, uaddr, dst, len, false);
}

static int pid_write(void *opaque, uint64_t uaddr, const void *src, size_t len)
{
	return vm_copy((pid_t)(intptr_t)opaque, uaddr, (void *)src, len, true);
}

/* Descriptors named in ioctls: a duplicate for this process, or one
 * fetched from another with pidfd_getfd (which needs the same right to
 * ptrace it as process_vm_readv). */
static int self_get_fd(void *opaque, int fd)
{
	(void)opaque;
	int own = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	return own < 0 ? -EBADF : own;
}

static int pid_get_fd(void *opaque, int fd)
{
	int pidfd = (int)syscall(SYS_pidfd_open, (pid_t)(intptr_t)opaque, 0);
	if (pidfd < 0)
		return -EBADF;
	int own = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
	close(pidfd);
	return own < 0 ? -EBADF : own;
}

/* Is [uaddr, uaddr + len) covered by mappings of /proc/<pid>/maps with the
 * wanted permissions? */
int iofd_probe_maps(int pid, uint64_t uaddr, uint64_t len, bool write)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return -EFAULT;
	uint64_t want = uaddr, end = uaddr + len;
	char line[512];
	while (want < end && fgets(line, sizeof(line), f)) {
		unsigned long long lo, hi;
		char perms[5];
		if (sscanf(line, "%llx-%llx %4s", &lo, &hi, perms) != 3)
			continue;
		if (hi <= want)
			continue;
		if (lo > want)
			break; /* a hole */
		if (perms[0] != 'r' || (write && perms[1] != 'w'))
			break;
		want = hi;
	}
	fclose(f);
	return want >= end ? 0 : -EFAULT;
}

static int self_probe(void *opaque, uint64_t uaddr, uint64_t len, bool write)
{
	(void)opaque;
	return iofd_probe_maps(getpid(), uaddr, len, write);
}

static int pid_probe(void *opaque, uint64_t uaddr, uint64_t len, bool write)
{
	return iofd_probe_maps((pid_t)(intptr_t)opaque, uaddr, len, write);
}

/* Whether process pid (0: this one) holds an effective capability. */
static bool capable_pid(pid_t pid, int cap)
{
	struct {
		uint32_t version;
		int pid;
	} hdr = {0x20080522 /* _LINUX_CAPABILITY_VERSION_3 */, pid};
	struct {
		uint32_t effective, permitted, inheritable;
	} data[2] = {{0}};
	if (cap < 0 || cap >= 64 || syscall(SYS_capget, &hdr, data))
		return false;
	return data[cap / 32].effective & (1u << (cap % 32));
}

static bool pid_capable(void *opaque, int cap)
{
	return capable_pid((pid_t)(intptr_t)opaque, cap);
}

int iofd_uaccess_pid(const struct iofd_uaccess *ua)
{
	return ua->mm ? (int)(uint32_t)ua->mm : getpid();
}

const struct iofd_uaccess iofd_uaccess_self = {
	.read = self_read, .write = self_write, .probe = self_probe, .get_fd = self_get_fd};

void iofd_uaccess_for_pid(struct iofd_uaccess *ua, int pid)
{
	*ua = (struct iofd_uaccess){.read = pid_read,
				    .write = pid_write,
				    .probe = pid_probe,
				    .capable = pid_capable,
				    .get_fd = pid_get_fd,
				    .opaque = (void *)(intptr_t)pid,
				    .mm = (uint64_t)pid};
}

bool iofd_capable(struct iofd_ctx *ctx, int cap)
{
	if (ctx->ua->capable)
		return ctx->ua->capable(ctx->ua->opaque, cap);
	return capable_pid(0, cap);
}

int iofd_abi_parse(const char *text, enum iofd_abi *abi)
{
	if (!strcmp(text, "newest")) {
		*abi = IOFD_ABI_NEWEST;
		return 0;
	}
	if (!strcmp(text, "6.12")) {
		*abi = IOFD_ABI_6_12;
		return 0;
	}
	return -EINVAL;
}

/* ------------------------------------------------------------------ */
/* Objects */

int iofd_obj_add(struct iofd_ctx *ctx, struct iofd_obj *obj, enum iofd_obj_type type,
		 void (*destroy)(struct iofd_ctx *, struct iofd_obj *))
{
	/* The kernel hands out the lowest free ID from 1 up (31-bit IDs). */
	uint32_t id = 1;
	struct iofd_obj *found;
	for (;; id++) {
		if (id > INT32_MAX)
			return -ENOSPC;
		HASH_FIND(hh, ctx->objects, &id, sizeof(id), found);
		if (!found)
			break;
	}
	obj->id = id;
	obj->type = type;
	obj->users = 0;
	obj->destroy = destroy;
	HASH_ADD(hh, ctx->objects, id, sizeof(obj->id), obj);
	return 0;
}

struct iofd_obj *iofd_obj_find(struct iofd_ctx *ctx, uint32_t id, enum iofd_obj_type type)
{
	struct iofd_obj *obj;
	HASH_FIND(hh, ctx->objects, &id, sizeof(id), obj);
	if (obj && type && obj->type != type)
		return NULL;
	return obj;
}

void iofd_obj_del(struct iofd_ctx *ctx, struct iofd_obj *obj)
{
	HASH_DEL(ctx->objects, obj);
	obj->destroy(ctx, obj);
}

size_t iofd_object_count(const struct iofd_ctx *ctx)
{
	return HASH_COUNT(ctx->objects);
}

static int iofd_destroy(struct iofd_ucmd *uc)
{
	struct iofd_destroy *cmd = uc->cmd;
	struct iofd_obj *obj = iofd_obj_find(uc->ctx, cmd->id, 0);
	if (!obj)
		return -ENOENT;
	if (obj->users)
		return -EBUSY;
	if (obj->type == IOFD_OBJ_IOAS && uc->ctx->vfio_ioas_id == obj->id)
		uc->ctx->vfio_ioas_id = 0;
	iofd_obj_del(uc->ctx, obj);
	return 0;
}

/* ------------------------------------------------------------------ */
/* IOMMU_VFIO_IOAS: which IOAS the VFIO type1 compatibility ioctls use. */

int iofd_vfio_ioas(struct iofd_ucmd *uc)
{
	struct iofd_vfio_ioas *cmd = uc->cmd;
	struct iofd_ctx *ctx = uc->ctx;
	if (cmd->reserved)
		return -EOPNOTSUPP;
	switch (cmd->op) {
	case IOFD_VFIO_IOAS_GET:
		if (!ctx->vfio_ioas_id || !iofd_ioas_find(ctx, ctx->vfio_ioas_id))
			return -ENODEV;
		cmd->ioas_id = ctx->vfio_ioas_id;
		return iofd_ucmd_respond(uc);
	case IOFD_VFIO_IOAS_SET:
		if (!iofd_ioas_find(ctx, cmd->ioas_id))
			return -ENOENT;
		ctx->vfio_ioas_id = cmd->ioas_id;
		return 0;
	case IOFD_VFIO_IOAS_CLEAR:
		ctx->vfio_ioas_id = 0;
		return 0;
	default:
		return -EOPNOTSUPP;
	}
}

/* ------------------------------------------------------------------ */
/* Names */

/* Request names: include/uapi/linux/iommufd.h and vfio.h (VFIO_BASE 100). */
static const char *const iofd_request_names[256] = {
	[0x64] = "VFIO_GET_API_VERSION",
	[0x65] = "VFIO_CHECK_EXTENSION",
	[0x66] = "VFIO_SET_IOMMU",
	[0x70] = "VFIO_IOMMU_GET_INFO",
	[0x71] = "VFIO_IOMMU_MAP_DMA",
	[0x72] = "VFIO_IOMMU_UNMAP_DMA",
	[0x6b] = "VFIO_DEVICE_GET_INFO",
	[0x6c] = "VFIO_DEVICE_GET_REGION_INFO",
	[0x6d] = "VFIO_DEVICE_GET_IRQ_INFO",
	[0x6e] = "VFIO_DEVICE_SET_IRQS",
	[0x6f] = "VFIO_DEVICE_RESET",
	[0x75] = "VFIO_DEVICE_FEATURE",
	[0x76] = "VFIO_DEVICE_BIND_IOMMUFD",
	[0x77] = "VFIO_DEVICE_ATTACH_IOMMUFD_PT",
	[0x78] = "VFIO_DEVICE_DETACH_IOMMUFD_PT",
	[IOFD_NR_DESTROY] = "IOMMU_DESTROY",
	[IOFD_NR_IOAS_ALLOC] = "IOMMU_IOAS_ALLOC",
	[IOFD_NR_IOAS_ALLOW_IOVAS] = "IOMMU_IOAS_ALLOW_IOVAS",
	[IOFD_NR_IOAS_COPY] = "IOMMU_IOAS_COPY",
	[IOFD_NR_IOAS_IOVA_RANGES] = "IOMMU_IOAS_IOVA_RANGES",
	[IOFD_NR_IOAS_MAP] = "IOMMU_IOAS_MAP",
	[IOFD_NR_IOAS_UNMAP] = "IOMMU_IOAS_UNMAP",
	[IOFD_NR_OPTION] = "IOMMU_OPTION",
	[IOFD_NR_VFIO_IOAS] = "IOMMU_VFIO_IOAS",
	[IOFD_NR_HWPT_ALLOC] = "IOMMU_HWPT_ALLOC",
	[IOFD_NR_GET_HW_INFO] = "IOMMU_GET_HW_INFO",
	[IOFD_NR_HWPT_SET_DIRTY_TRACKING] = "IOMMU_HWPT_SET_DIRTY_TRACKING",
	[IOFD_NR_HWPT_GET_DIRTY_BITMAP] = "IOMMU_HWPT_GET_DIRTY_BITMAP",
	[IOFD_NR_HWPT_INVALIDATE] = "IOMMU_HWPT_INVALIDATE",
	[IOFD_NR_FAULT_QUEUE_ALLOC] = "IOMMU_FAULT_QUEUE_ALLOC",
	[IOFD_NR_IOAS_MAP_FILE] = "IOMMU_IOAS_MAP_FILE",
	[IOFD_NR_VIOMMU_ALLOC] = "IOMMU_VIOMMU_ALLOC",
	[IOFD_NR_VDEVICE_ALLOC] = "IOMMU_VDEVICE_ALLOC",
	[IOFD_NR_IOAS_CHANGE_PROCESS] = "IOMMU_IOAS_CHANGE_PROCESS",
	[IOFD_NR_VEVENTQ_ALLOC] = "IOMMU_VEVENTQ_ALLOC",
	[IOFD_NR_HW_QUEUE_ALLOC] = "IOMMU_HW_QUEUE_ALLOC",
	[IOFD_NR_TEST_CMD] = "IOMMU_TEST_CMD",
};

const char *iofd_request_name(unsigned nr)
{
	return nr < IMS_ARRAY_SIZE(iofd_request_names) ? iofd_request_names[nr] : NULL;
}

/* ------------------------------------------------------------------ */
/* Dispatch */

struct iofd_op {
	size_t size;     /* our struct */
	size_t min_size; /* end of the first version's last field */
	int (*fn)(struct iofd_ucmd *uc);
	enum iofd_abi since; /* 0: in every supported ABI */
};

#define OP(nr, type, last, handler)                                                        \
	[(nr) - IOFD_NR_DESTROY] = {sizeof(type), IOFD_OFFSETOFEND(type, last), handler,     \
				    IOFD_ABI_6_12}

/* An ioctl Linux 6.12 does not have. */
#define OP_NEW(nr, type, last, handler)                                                    \
	[(nr) - IOFD_NR_DESTROY] = {sizeof(type), IOFD_OFFSETOFEND(type, last), handler,     \
				    IOFD_ABI_NEWEST}

static const struct iofd_op iofd_ops[] = {
	OP(IOFD_NR_DESTROY, struct iofd_destroy, id, iofd_destroy),
	OP(IOFD_NR_IOAS_ALLOC, struct iofd_ioas_alloc, out_ioas_id, iofd_ioas_alloc_ioctl),
	OP(IOFD_NR_IOAS_ALLOW_IOVAS, struct iofd_ioas_allow_iovas, allowed_iovas,
	   iofd_ioas_allow_iovas),
	OP(IOFD_NR_IOAS_COPY, struct iofd_ioas_copy, src_iova, iofd_ioas_copy),
	OP(IOFD_NR_IOAS_IOVA_RANGES, struct iofd_ioas_iova_ranges, out_iova_alignment,
	   iofd_ioas_iova_ranges),
	OP(IOFD_NR_IOAS_MAP, struct iofd_ioas_map, iova, iofd_ioas_map),
	OP(IOFD_NR_IOAS_UNMAP, struct iofd_ioas_unmap, length, iofd_ioas_unmap),
	OP(IOFD_NR_OPTION, struct iofd_option, val64, iofd_option),
	OP(IOFD_NR_VFIO_IOAS, struct iofd_vfio_ioas, reserved, iofd_vfio_ioas),
	OP(IOFD_NR_HWPT_ALLOC, struct iofd_hwpt_alloc, reserved, iofd_hwpt_alloc),
	[IOFD_NR_GET_HW_INFO - IOFD_NR_DESTROY] = {sizeof(struct iofd_hw_info),
						   offsetof(struct iofd_hw_info, out_capabilities),
						   iofd_get_hw_info, IOFD_ABI_6_12},
	OP(IOFD_NR_HWPT_SET_DIRTY_TRACKING, struct iofd_hwpt_set_dirty_tracking, reserved,
	   iofd_hwpt_set_dirty_tracking),
	OP(IOFD_NR_HWPT_GET_DIRTY_BITMAP, struct iofd_hwpt_get_dirty_bitmap, data,
	   iofd_hwpt_get_dirty_bitmap),
	OP(IOFD_NR_HWPT_INVALIDATE, struct iofd_hwpt_invalidate, reserved, iofd_hwpt_invalidate),
	OP(IOFD_NR_FAULT_QUEUE_ALLOC, struct iofd_fault_alloc, out_fault_fd, iofd_fault_alloc),
	OP_NEW(IOFD_NR_VIOMMU_ALLOC, struct iofd_viommu_alloc, out_viommu_id,
	       iofd_viommu_alloc_ioctl),
	OP_NEW(IOFD_NR_VDEVICE_ALLOC, struct iofd_vdevice_alloc, virt_id, iofd_vdevice_alloc_ioctl),
	OP_NEW(IOFD_NR_IOAS_MAP_FILE, struct iofd_ioas_map_file, iova, iofd_ioas_map_file),
	OP_NEW(IOFD_NR_IOAS_CHANGE_PROCESS, struct iofd_ioas_change_process, reserved,
	       iofd_ioas_change_process),
	OP_NEW(IOFD_NR_VEVENTQ_ALLOC, struct iofd_veventq_alloc, reserved, iofd_veventq_alloc_ioctl),
	OP_NEW(IOFD_NR_HW_QUEUE_ALLOC, struct iofd_hw_queue_alloc, length,
	       iofd_hw_queue_alloc_ioctl),
	OP(IOFD_NR_TEST_CMD, struct iofd_test_cmd, last, iofd_test_cmd),
};

/* Does this ABI level have the ioctl? */
static bool iofd_abi_has(enum iofd_abi abi, const struct iofd_op *op)
{
	/* since is IOFD_ABI_6_12 for what 6.12 already had, NEWEST for later ioctls. */
	return abi == IOFD_ABI_NEWEST || op->since == IOFD_ABI_6_12;
}

int iofd_ucmd_respond(struct iofd_ucmd *uc)
{
	size_t n = uc->user_size < uc->size ? uc->user_size : uc->size;
	return uc->ctx->ua->write(uc->ctx->ua->opaque, uc->uptr, uc->cmd, n);
}

/* Bytes the caller passed beyond our struct must all be zero. */
static int iofd_check_tail(struct iofd_ctx *ctx, uint64_t uptr, size_t from, size_t to)
{
	uint8_t buf[256];
	while (from < to) {
		size_t n = to - from < sizeof(buf) ? to - from : sizeof(buf);
		int rc = ctx->ua->read(ctx->ua->opaque, uptr + from, buf, n);
		if (rc)
			return rc;
		for (size_t i = 0; i < n; i++)
			if (buf[i])
				return -E2BIG;
		from += n;
	}
	return 0;
}

int iofd_copy_array_entry(struct iofd_ctx *ctx, uint64_t uptr, uint32_t entry_len, uint32_t i,
			  void *dst, size_t size)
{
	uint64_t at = uptr + (uint64_t)i * entry_len;
	memset(dst, 0, size);
	if (ctx->ua->read(ctx->ua->opaque, at, dst, entry_len < size ? entry_len : size))
		return -EFAULT;
	int rc = iofd_check_tail(ctx, at, size, entry_len);
	return rc == -E2BIG || !rc ? rc : -EFAULT;
}

long iofd_ioctl(struct iofd_ctx *ctx, unsigned long request, uint64_t arg)
{
	unsigned nr = request & 0xff;
	if (request != (unsigned long)IOFD_REQ(nr))
		return -ENOTTY;
	if (nr < IOFD_NR_DESTROY)
		return iofd_vfio_ioctl(ctx, request, arg);
	size_t idx = nr - IOFD_NR_DESTROY;
	if (idx >= IMS_ARRAY_SIZE(iofd_ops) || !iofd_ops[idx].fn)
		return -ENOTTY;
	const struct iofd_op *op = &iofd_ops[idx];
	if (!iofd_abi_has(ctx->abi, op))
		return -ENOTTY;

	uint32_t user_size;
	int rc = ctx->ua->read(ctx->ua->opaque, arg, &user_size, sizeof(user_size));
	if (rc)
		return rc;
	if (user_size < op->min_size)
		return -EINVAL;
	if (user_size > op->size) {
		rc = iofd_check_tail(ctx, arg, op->size, user_size);
		if (rc)
			return rc;
	}
	uint64_t buf[16] = {0}; /* every iommufd struct is <= 128 bytes */
	size_t n = user_size < op->size ? user_size : op->size;
	rc = ctx->ua->read(ctx->ua->opaque, arg, buf, n);
	if (rc)
		return rc;
	struct iofd_ucmd uc = {
		.ctx = ctx, .uptr = arg, .user_size = user_size, .cmd = buf, .size = op->size,
	};
	return op->fn(&uc);
}

long iofd_ioctl_from(struct iofd_ctx *ctx, const struct iofd_uaccess *caller,
		     unsigned long request, uint64_t arg)
{
	ctx->ua = caller;
	long rc = iofd_ioctl(ctx, request, arg);
	ctx->ua = &ctx->open_ua;
	return rc;
}

/* ------------------------------------------------------------------ */
/* Open and close */

struct iofd_ctx *iofd_open(const struct iofd_uaccess *ua, enum iofd_abi abi)
{
	struct iofd_ctx *ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return NULL;
	ctx->refs = 1;
	ctx->open_ua = *ua;
	ctx->ua = &ctx->open_ua;
	ctx->abi = abi;
	ctx->test_memory_limit = 65536;
	return ctx;
}

struct iofd_ctx *iofd_get(struct iofd_ctx *ctx)
{
	ctx->refs++;
	return ctx;
}

void iofd_close(struct iofd_ctx *ctx)
{
	if (ctx)
		iofd_ctx_put(ctx);
}

void iofd_ctx_put(struct iofd_ctx *ctx)
{
	if (--ctx->refs)
		return;
	/* Devices leave their HWPTs first, as VFIO's unbind makes them do: an
	 * attachment and its HWPT hold each other, so no object would be
	 * free of users to destroy first. */
	struct iofd_obj *obj, *tmp;
	bool again = true;
	while (again) { /* a detach may destroy objects (automatic HWPTs): rescan */
		again = false;
		HASH_ITER(hh, ctx->objects, obj, tmp) {
			struct iofd_device *dev = (struct iofd_device *)obj;
			if (obj->type == IOFD_OBJ_DEVICE && (dev->hwpt || dev->npasids)) {
				iofd_device_pasid_detach_all(ctx, dev);
				iofd_device_detach(ctx, dev);
				again = true;
				break;
			}
		}
	}
	/* Dependents first: keep destroying objects nobody uses until none is left. */
	while (ctx->objects) {
		struct iofd_obj *victim = NULL;
		HASH_ITER(hh, ctx->objects, obj, tmp) {
			if (!obj->users) {
				victim = obj;
				break;
			}
		}
		if (!victim) /* a reference cycle would be a bug; do not leak silently */
			victim = ctx->objects;
		iofd_obj_del(ctx, victim);
	}
	free(ctx);
}
