/*
 * iommufd/ioas.c - the IO address space ioctls: IOAS_ALLOC, IOAS_MAP,
 * IOAS_MAP_FILE, IOAS_COPY, IOAS_UNMAP, IOAS_CHANGE_PROCESS, IOAS_ALLOW_IOVAS,
 * IOAS_IOVA_RANGES, and OPTION.
 *
 * Each handler checks its arguments in the kernel's order (so that a call
 * with several faults gets the errno Linux gives) and changes nothing
 * before all checks pass.  Mapping records the caller's address range; the
 * pages are pinned when something needs them (a device's domain, an access),
 * as the kernel does, so an IOAS with no device accepts any address.
 */
#include <errno.h>
#include <stdlib.h>

#include "iommufd/iofd_int.h"

#define IOFD_MAP_ALL_FLAGS (IOFD_MAP_FIXED_IOVA | IOFD_MAP_WRITEABLE | IOFD_MAP_READABLE)

static void iofd_ioas_destroy(struct iofd_ctx *ctx, struct iofd_obj *obj)
{
	(void)ctx;
	struct iofd_ioas *ioas = (struct iofd_ioas *)obj;
	iopt_fini(&ioas->iopt);
	free(ioas);
}

int iofd_ioas_alloc_ioctl(struct iofd_ucmd *uc)
{
	struct iofd_ioas_alloc *cmd = uc->cmd;
	if (cmd->flags)
		return -EOPNOTSUPP;
	struct iofd_ioas *ioas = calloc(1, sizeof(*ioas));
	if (!ioas)
		return -ENOMEM;
	iopt_init(&ioas->iopt, &uc->ctx->ua);
	int rc = iofd_obj_add(uc->ctx, &ioas->obj, IOFD_OBJ_IOAS, iofd_ioas_destroy);
	if (rc) {
		free(ioas);
		return rc;
	}
	cmd->out_ioas_id = ioas->obj.id;
	rc = iofd_ucmd_respond(uc);
	if (rc) /* the caller never learnt the ID: undo */
		iofd_obj_del(uc->ctx, &ioas->obj);
	return rc;
}

/* The checks IOAS_MAP, IOAS_MAP_FILE and IOAS_COPY begin with, in
 * Linux's order: unknown flags or a reserved field, an address or length
 * of U64_MAX (Linux's ULONG_MAX checks), neither READABLE nor WRITEABLE. */
static int map_args_check(uint32_t flags, bool reserved, uint64_t length, uint64_t iova,
			  uint64_t iova2)
{
	if ((flags & ~IOFD_MAP_ALL_FLAGS) || reserved)
		return -EOPNOTSUPP;
	if (length == UINT64_MAX || iova == UINT64_MAX || iova2 == UINT64_MAX)
		return -EOVERFLOW;
	if (!(flags & (IOFD_MAP_WRITEABLE | IOFD_MAP_READABLE)))
		return -EINVAL;
	return 0;
}

/* One new area over length bytes of ua's memory from uva (a user address,
 * or a file offset when file is given; the pages take the file's reference). */
static int map_pages(struct iopt *iopt, uint64_t *iova, bool fixed, uint64_t uva,
		     uint64_t length, uint32_t flags, const struct iofd_uaccess *ua,
		     struct iofd_mfile *file)
{
	uint64_t end;
	if (__builtin_add_overflow(uva, length, &end))
		return -EOVERFLOW;
	struct iofd_pages *pages = calloc(1, sizeof(*pages));
	if (!pages)
		return -ENOMEM;
	pages->uva = uva;
	pages->length = length;
	pages->writable = flags & IOFD_MAP_WRITEABLE;
	pages->ua = ua;
	struct iopt_segment seg = {pages, 0, length, flags};
	int rc = iopt_map_segments(iopt, iova, fixed, &seg, 1, flags);
	if (rc)
		iopt_pages_free(pages);
	else
		pages->file = file;
	return rc;
}

int iofd_map_user(struct iopt *iopt, uint64_t *iova, bool fixed, uint64_t uva,
		  uint64_t length, uint32_t flags)
{
	return map_pages(iopt, iova, fixed, uva, length, flags, *iopt->caller, NULL);
}

int iofd_ioas_map(struct iofd_ucmd *uc)
{
	struct iofd_ioas_map *cmd = uc->cmd;
	int rc = map_args_check(cmd->flags, cmd->reserved, cmd->length, cmd->iova, 0);
	if (rc)
		return rc;
	struct iofd_ioas *ioas = iofd_ioas_find(uc->ctx, cmd->ioas_id);
	if (!ioas)
		return -ENOENT;
	uint64_t iova = cmd->iova;
	rc = iofd_map_user(&ioas->iopt, &iova, cmd->flags & IOFD_MAP_FIXED_IOVA, cmd->user_va,
			   cmd->length, cmd->flags & ~IOFD_MAP_FIXED_IOVA);
	if (rc)
		return rc;
	/* The mapping stands even if the reply cannot be written, as in Linux. */
	cmd->iova = iova;
	return iofd_ucmd_respond(uc);
}

/*
 * IOAS_MAP_FILE (Linux 6.13): map [start, start + length) of a memory file
 * given by descriptor.  Checks in Linux's order; the file's pages are
 * looked at only when pinned (a domain or an access needs them), where a
 * file that is not tmpfs or hugetlbfs, or a range beyond its end, gives
 * EINVAL.
 */
int iofd_ioas_map_file(struct iofd_ucmd *uc)
{
	struct iofd_ioas_map_file *cmd = uc->cmd;
	int rc = map_args_check(cmd->flags, false, cmd->length, cmd->iova, 0);
	if (rc)
		return rc;
	struct iofd_ioas *ioas = iofd_ioas_find(uc->ctx, cmd->ioas_id);
	if (!ioas)
		return -ENOENT;
	struct iofd_mfile *file;
	rc = iofd_mfile_get(uc->ctx->ua, cmd->fd, &file);
	if (rc)
		return rc;
	/* A writable mapping needs a file opened for writing (Linux 6.19). */
	if ((cmd->flags & IOFD_MAP_WRITEABLE) && !iofd_mfile_writable(file)) {
		iofd_mfile_put(file);
		return -EPERM;
	}
	uint64_t iova = cmd->iova;
	rc = map_pages(&ioas->iopt, &iova, cmd->flags & IOFD_MAP_FIXED_IOVA, cmd->start,
		       cmd->length, cmd->flags & ~IOFD_MAP_FIXED_IOVA, iofd_mfile_uaccess(file),
		       file);
	if (rc) {
		iofd_mfile_put(file);
		return rc;
	}
	cmd->iova = iova;
	return iofd_ucmd_respond(uc);
}

/*
 * IOAS_CHANGE_PROCESS (Linux 6.13): the caller takes over the accounting
 * of every pinned page, which Linux allows only when every mapping of
 * every IOAS is a file mapping (EINVAL otherwise, changing nothing).  The
 * model does not charge pinned pages to processes (no RLIMIT_MEMLOCK, no
 * VmPin), and file mappings do not depend on any process's memory, so
 * after the checks there is nothing to move.
 */
int iofd_ioas_change_process(struct iofd_ucmd *uc)
{
	struct iofd_ioas_change_process *cmd = uc->cmd;
	if (cmd->reserved)
		return -EOPNOTSUPP;
	struct iofd_obj *o, *tmp;
	HASH_ITER(hh, uc->ctx->objects, o, tmp) {
		if (o->type != IOFD_OBJ_IOAS)
			continue;
		struct iopt *iopt = &((struct iofd_ioas *)o)->iopt;
		for (struct iopt_node *n = iopt_tree_min(&iopt->areas); n;
		     n = iopt_tree_succ(&iopt->areas, n))
			if (!((struct iopt_area *)n)->pages->file)
				return -EINVAL;
	}
	return 0;
}

int iofd_ioas_copy(struct iofd_ucmd *uc)
{
	struct iofd_ioas_copy *cmd = uc->cmd;
	int rc = map_args_check(cmd->flags, false, cmd->length, cmd->src_iova, cmd->dst_iova);
	if (rc)
		return rc;
	struct iofd_ioas *src = iofd_ioas_find(uc->ctx, cmd->src_ioas_id);
	if (!src)
		return -ENOENT;
	struct iopt_segment *segs;
	size_t nsegs;
	rc = iopt_collect_segments(&src->iopt, cmd->src_iova, cmd->length, &segs, &nsegs);
	if (rc)
		return rc;
	struct iofd_ioas *dst = iofd_ioas_find(uc->ctx, cmd->dst_ioas_id);
	if (!dst) {
		free(segs);
		return -ENOENT;
	}
	uint64_t iova = cmd->dst_iova;
	rc = iopt_map_segments(&dst->iopt, &iova, cmd->flags & IOFD_MAP_FIXED_IOVA, segs, nsegs,
			       cmd->flags & ~IOFD_MAP_FIXED_IOVA);
	if (!rc && (cmd->flags & IOFD_MAP_WRITEABLE)) {
		for (size_t i = 0; i < nsegs; i++)
			if (!segs[i].pages->writable)
				rc = -EPERM;
		if (rc) { /* undo the areas just made */
			uint64_t unmapped;
			iopt_unmap_range(&dst->iopt, iova, iova + cmd->length - 1, false,
					 &unmapped);
		}
	}
	free(segs);
	if (rc)
		return rc;
	cmd->dst_iova = iova;
	return iofd_ucmd_respond(uc);
}

int iofd_ioas_unmap(struct iofd_ucmd *uc)
{
	struct iofd_ioas_unmap *cmd = uc->cmd;
	struct iofd_ioas *ioas = iofd_ioas_find(uc->ctx, cmd->ioas_id);
	if (!ioas)
		return -ENOENT;
	uint64_t unmapped, last;
	int rc;
	if (cmd->iova == 0 && cmd->length == UINT64_MAX) {
		rc = iopt_unmap_range(&ioas->iopt, 0, UINT64_MAX, true, &unmapped);
	} else {
		if (cmd->iova == UINT64_MAX || cmd->length == UINT64_MAX)
			return -EOVERFLOW;
		rc = iopt_range_last(cmd->iova, cmd->length, &last);
		if (rc)
			return rc;
		rc = iopt_unmap_range(&ioas->iopt, cmd->iova, last, false, &unmapped);
	}
	if (rc)
		return rc;
	cmd->length = unmapped;
	return iofd_ucmd_respond(uc);
}

int iofd_ioas_allow_iovas(struct iofd_ucmd *uc)
{
	struct iofd_ioas_allow_iovas *cmd = uc->cmd;
	if (cmd->reserved)
		return -EOPNOTSUPP;
	struct iofd_ioas *ioas = iofd_ioas_find(uc->ctx, cmd->ioas_id);
	if (!ioas)
		return -ENOENT;
	struct iofd_iova_range *ranges = calloc(cmd->num_iovas ? cmd->num_iovas : 1,
						sizeof(*ranges));
	if (!ranges)
		return -ENOMEM;
	/* Linux reads and checks the ranges one at a time, so a bad range
	 * before an unreadable one is EINVAL, not EFAULT. */
	int rc = 0;
	for (uint32_t i = 0; i < cmd->num_iovas && !rc; i++) {
		rc = uc->ctx->ua->read(uc->ctx->ua->opaque,
				      cmd->allowed_iovas + (uint64_t)i * sizeof(*ranges),
				      &ranges[i], sizeof(*ranges));
		if (!rc && ranges[i].start >= ranges[i].last)
			rc = -EINVAL;
		for (uint32_t j = 0; j < i && !rc; j++)
			if (ranges[j].start <= ranges[i].last && ranges[i].start <= ranges[j].last)
				rc = -EINVAL;
	}
	if (!rc)
		rc = iopt_set_allowed(&ioas->iopt, ranges, cmd->num_iovas);
	free(ranges);
	return rc;
}

int iofd_ioas_iova_ranges(struct iofd_ucmd *uc)
{
	struct iofd_ioas_iova_ranges *cmd = uc->cmd;
	if (cmd->reserved)
		return -EOPNOTSUPP;
	struct iofd_ioas *ioas = iofd_ioas_find(uc->ctx, cmd->ioas_id);
	if (!ioas)
		return -ENOENT;
	uint32_t max = cmd->num_iovas;
	uint32_t total = iopt_usable_ranges(&ioas->iopt, NULL, 0);
	uint32_t n = total < max ? total : max;
	struct iofd_iova_range *out = calloc(n ? n : 1, sizeof(*out));
	if (!out)
		return -ENOMEM;
	iopt_usable_ranges(&ioas->iopt, out, n);
	int rc = uc->ctx->ua->write(uc->ctx->ua->opaque, cmd->allowed_iovas, out,
				   (size_t)n * sizeof(*out));
	free(out);
	if (rc)
		return rc;
	cmd->num_iovas = total;
	cmd->out_iova_alignment = ioas->iopt.iova_alignment;
	/* The count is written back even when the caller's array is too small. */
	rc = iofd_ucmd_respond(uc);
	if (rc)
		return rc;
	return total > max ? -EMSGSIZE : 0;
}

/* IOMMU_OPTION: RLIMIT_MODE (per context) and HUGE_PAGES (per IOAS). */
int iofd_option(struct iofd_ucmd *uc)
{
	struct iofd_option *cmd = uc->cmd;
	struct iofd_ctx *ctx = uc->ctx;
	if (cmd->reserved)
		return -EOPNOTSUPP;
	switch (cmd->option_id) {
	case IOFD_OPTION_RLIMIT_MODE:
		if (cmd->object_id)
			return -EOPNOTSUPP;
		if (cmd->op == IOFD_OPTION_OP_GET) {
			cmd->val64 = ctx->account_mm;
		} else if (cmd->op == IOFD_OPTION_OP_SET) {
			if (!iofd_capable(ctx, IOFD_CAP_SYS_RESOURCE))
				return -EPERM;
			if (ctx->objects)
				return -EBUSY;
			if (cmd->val64 > 1)
				return -EINVAL;
			ctx->account_mm = cmd->val64;
		} else {
			return -EOPNOTSUPP;
		}
		break;
	case IOFD_OPTION_HUGE_PAGES: {
		struct iofd_ioas *ioas = iofd_ioas_find(ctx, cmd->object_id);
		if (!ioas)
			return -ENOENT;
		if (cmd->op == IOFD_OPTION_OP_GET) {
			cmd->val64 = !ioas->iopt.large_pages_disabled;
		} else if (cmd->op == IOFD_OPTION_OP_SET) {
			if (cmd->val64 > 1)
				return -EINVAL;
			int rc = iopt_set_large_pages(&ioas->iopt, cmd->val64 == 1);
			if (rc)
				return rc;
		} else {
			return -EOPNOTSUPP;
		}
		break;
	}
	default:
		return -EOPNOTSUPP;
	}
	/* Only val64 goes back (the dispatcher's minimum size includes it). */
	size_t off = offsetof(struct iofd_option, val64);
	return ctx->ua->write(ctx->ua->opaque, uc->uptr + off, &cmd->val64, sizeof(cmd->val64));
}
