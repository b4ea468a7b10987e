/*
 * iommufd/access.c - the selftest's access objects: an emulated device
 * that reaches an IOAS by CPU (IOMMU_TEST_OP_CREATE_ACCESS, ACCESS_PAGES,
 * DESTROY_ACCESS_PAGES, ACCESS_RW, ACCESS_REPLACE_IOAS).
 *
 * An access is named by a descriptor (CREATE_ACCESS hands one out through
 * the transport); closing it destroys the access.  Its object takes an ID
 * the caller never sees, as in Linux.  Pinned ranges ("items", numbered
 * from 0 per access) hold pins on the mapping's pages; when an unmap meets
 * them Linux asks the access to let go, and the selftest's access drops
 * every item overlapping the range, which is what happens here.  Checks
 * follow drivers/iommu/iommufd/selftest.c and device.c in order.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "iommufd/iofd_int.h"

#define ACCESS_MAX_LEN (16u << 20)
#define MOCK_FLAGS_ACCESS_WRITE (1u << 0)
#define MOCK_FLAGS_ACCESS_SYZ (1u << 16)
#define MOCK_ACCESS_RW_WRITE (1u << 0)
#define MOCK_ACCESS_RW_SLOW_PATH (1u << 2)
#define MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES (1u << 0)

struct access_item {
	struct access_item *next;
	uint32_t id;
	uint64_t iova, last;
	struct iopt_segment *segs; /* pinned pieces, each holding a pages ref */
	size_t nsegs;
};

struct iofd_access {
	struct iofd_obj obj;
	struct iofd_ioas *ioas;
	bool needs_pin;
	uint32_t next_item;
	struct access_item *items;
	struct iofd_access *next_in_iopt;
};

static uint64_t access_alignment(const struct iofd_access *a)
{
	return a->needs_pin ? iopt_page_size() : 1;
}

static void item_free(struct access_item *it)
{
	for (size_t i = 0; i < it->nsegs; i++) {
		iofd_pages_unpin(it->segs[i].pages, it->segs[i].pages_off, it->segs[i].length);
		iopt_pages_put(it->segs[i].pages);
	}
	free(it->segs);
	free(it);
}

/* Drop the items overlapping [start, last]. */
static void access_drop_items(struct iofd_access *a, uint64_t start, uint64_t last)
{
	struct access_item **pp = &a->items;
	while (*pp) {
		struct access_item *it = *pp;
		if (it->iova <= last && it->last >= start) {
			*pp = it->next;
			item_free(it);
		} else {
			pp = &it->next;
		}
	}
}

void iofd_access_notify_unmap(struct iopt *iopt, uint64_t start, uint64_t last)
{
	for (struct iofd_access *a = iopt->accesses; a; a = a->next_in_iopt)
		access_drop_items(a, start, last);
}

static void iopt_recompute_access_alignment(struct iopt *iopt)
{
	iopt->access_alignment = 1;
	for (struct iofd_access *a = iopt->accesses; a; a = a->next_in_iopt)
		if (access_alignment(a) > iopt->access_alignment)
			iopt->access_alignment = access_alignment(a);
	iopt->iova_alignment = iopt_want_alignment(iopt);
}

static int access_check_alignment(const struct iofd_access *a, struct iofd_ioas *ioas)
{
	uint64_t align = access_alignment(a);
	return align > ioas->iopt.iova_alignment ? iopt_check_alignment(&ioas->iopt, align) : 0;
}

/* Join an IOAS: its alignment may rise to the host page (EADDRINUSE if an
 * area does not conform). */
static int access_attach(struct iofd_access *a, struct iofd_ioas *ioas)
{
	int rc = access_check_alignment(a, ioas);
	if (rc)
		return rc;
	struct iopt *iopt = &ioas->iopt;
	a->ioas = ioas;
	a->next_in_iopt = iopt->accesses;
	iopt->accesses = a;
	ioas->obj.users++;
	iopt_recompute_access_alignment(iopt);
	return 0;
}

static void access_detach(struct iofd_access *a)
{
	struct iofd_ioas *ioas = a->ioas;
	if (!ioas)
		return;
	access_drop_items(a, 0, UINT64_MAX);
	struct iofd_access **pp = &ioas->iopt.accesses;
	while (*pp != a)
		pp = &(*pp)->next_in_iopt;
	*pp = a->next_in_iopt;
	ioas->obj.users--;
	iopt_recompute_access_alignment(&ioas->iopt);
	a->ioas = NULL;
}

static void access_destroy(struct iofd_ctx *ctx, struct iofd_obj *obj)
{
	(void)ctx;
	struct iofd_access *a = (struct iofd_access *)obj;
	access_detach(a);
	free(a);
}

static void access_release(struct iofd_file *file)
{
	struct iofd_access *a = file->priv;
	a->obj.users--;
	iofd_obj_del(file->ctx, &a->obj);
}

static const struct iofd_file_ops access_fops = {
	.release = access_release,
};

static int create_access(struct iofd_ucmd *uc, struct iofd_test_cmd *cmd)
{
	struct iofd_ctx *ctx = uc->ctx;
	if (cmd->create_access.flags & ~MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES)
		return -EOPNOTSUPP;
	struct iofd_access *a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->needs_pin = cmd->create_access.flags & MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES;
	int rc = iofd_obj_add(ctx, &a->obj, IOFD_OBJ_ACCESS, access_destroy);
	if (rc) {
		free(a);
		return rc;
	}
	struct iofd_ioas *ioas = iofd_ioas_find(ctx, cmd->id);
	rc = ioas ? access_attach(a, ioas) : -ENOENT;
	if (rc) {
		iofd_obj_del(ctx, &a->obj);
		return rc;
	}
	/* Closing the descriptor destroys the access. */
	return iofd_file_respond(uc, &a->obj, &access_fops, a, &cmd->create_access.out_access_fd);
}

/* The access named by descriptor fd, or NULL (EBADFD). */
static struct iofd_access *access_of_fd(struct iofd_ctx *ctx, uint32_t fd)
{
	if (!ctx->ua->file_of)
		return NULL;
	struct iofd_file *file = ctx->ua->file_of(ctx->ua->opaque, (int)fd);
	if (!file || file->ops != &access_fops || file->ctx != ctx)
		return NULL;
	return file->priv;
}

/* The areas under [iova, iova + length) as segments; the shared range
 * checks of ACCESS_PAGES and ACCESS_RW. */
static int access_segments(struct iofd_access *a, uint64_t iova, uint64_t length,
			   struct iopt_segment **segs, size_t *nsegs, uint64_t *last)
{
	if (!length)
		return -EINVAL;
	if (__builtin_add_overflow(iova, length - 1, last))
		return -EOVERFLOW;
	if (!a->ioas)
		return -ENOENT;
	return iopt_collect_segments(&a->ioas->iopt, iova, length, segs, nsegs);
}

static int seg_prot_ok(const struct iopt_segment *s, bool write)
{
	if (write ? !(s->flags & IOFD_MAP_WRITEABLE) : !(s->flags & IOFD_MAP_READABLE))
		return -EPERM;
	if (write && !s->pages->writable)
		return -EPERM;
	return 0;
}

static int access_pages(struct iofd_ucmd *uc, struct iofd_test_cmd *cmd)
{
	struct iofd_ctx *ctx = uc->ctx;
	const uint64_t psz = iopt_page_size();
	uint64_t iova = cmd->access_pages.iova, length = cmd->access_pages.length, last;
	uint32_t flags = cmd->access_pages.flags;
	if (length > ACCESS_MAX_LEN)
		return -ENOMEM;
	if (flags & ~(MOCK_FLAGS_ACCESS_WRITE | MOCK_FLAGS_ACCESS_SYZ))
		return -EOPNOTSUPP;
	struct iofd_access *a = access_of_fd(ctx, cmd->id);
	if (!a)
		return -EBADFD;
	if (!a->needs_pin)
		return -EOPNOTSUPP;
	struct iopt_segment *segs;
	size_t nsegs;
	int rc = access_segments(a, iova, length, &segs, &nsegs, &last);
	if (rc)
		return rc;
	bool write = flags & MOCK_FLAGS_ACCESS_WRITE;
	for (size_t i = 0; i < nsegs && !rc; i++) {
		uint64_t start_byte = segs[i].pages->uva + segs[i].pages_off;
		if ((i == 0 && start_byte % psz) ||
		    (i + 1 < nsegs && (start_byte + segs[i].length) % psz))
			rc = -EINVAL;
		else
			rc = seg_prot_ok(&segs[i], write);
	}
	size_t pinned = 0;
	while (!rc && pinned < nsegs) {
		rc = iofd_pages_pin(segs[pinned].pages, segs[pinned].pages_off, segs[pinned].length);
		if (!rc)
			pinned++;
	}
	/* The pinned pages must be the ones under uptr. */
	uint64_t uptr = cmd->access_pages.uptr;
	if (!rc && uptr) {
		uint64_t user = uptr - iova % psz, off = 0;
		for (size_t i = 0; i < nsegs && !rc; i++) {
			for (uint64_t o = 0; o < segs[i].length && !rc; o += psz) {
				uint64_t frame;
				uint64_t phys = iofd_pages_phys(segs[i].pages, segs[i].pages_off + o);
				if (!iofd_pin_frame(ctx->ua->mm, (user + off + o) & ~(psz - 1), &frame) ||
				    frame != phys / psz)
					rc = -EBADE;
			}
			off += segs[i].length;
		}
	}
	struct access_item *it = NULL;
	if (!rc && !(it = calloc(1, sizeof(*it))))
		rc = -ENOMEM;
	if (rc) {
		while (pinned--)
			iofd_pages_unpin(segs[pinned].pages, segs[pinned].pages_off,
					 segs[pinned].length);
		free(segs);
		return rc;
	}
	for (size_t i = 0; i < nsegs; i++)
		segs[i].pages->refs++;
	it->id = a->next_item++;
	it->iova = iova;
	it->last = last;
	it->segs = segs;
	it->nsegs = nsegs;
	it->next = a->items;
	a->items = it;
	cmd->access_pages.out_access_pages_id = it->id;
	rc = iofd_ucmd_respond(uc);
	if (rc) {
		a->items = it->next;
		a->next_item--;
		item_free(it);
	}
	return rc;
}

static int destroy_access_pages(struct iofd_ctx *ctx, struct iofd_test_cmd *cmd)
{
	struct iofd_access *a = access_of_fd(ctx, cmd->id);
	if (!a)
		return -EBADFD;
	for (struct access_item **pp = &a->items; *pp; pp = &(*pp)->next) {
		if ((*pp)->id == cmd->destroy_access_pages.access_pages_id) {
			struct access_item *it = *pp;
			*pp = it->next;
			item_free(it);
			return 0;
		}
	}
	return -ENOENT;
}

static int access_rw(struct iofd_ctx *ctx, struct iofd_test_cmd *cmd)
{
	uint64_t iova = cmd->access_rw.iova, length = cmd->access_rw.length, last;
	uint32_t flags = cmd->access_rw.flags;
	if (length > ACCESS_MAX_LEN)
		return -ENOMEM;
	if (flags & ~(MOCK_ACCESS_RW_WRITE | MOCK_ACCESS_RW_SLOW_PATH | MOCK_FLAGS_ACCESS_SYZ))
		return -EOPNOTSUPP;
	struct iofd_access *a = access_of_fd(ctx, cmd->id);
	if (!a)
		return -EBADFD;
	bool write = flags & MOCK_ACCESS_RW_WRITE;
	uint8_t *buf = malloc(length ? length : 1);
	if (!buf)
		return -ENOMEM;
	int rc = 0;
	if (write && ctx->ua->read(ctx->ua->opaque, cmd->access_rw.uptr, buf, length))
		rc = -EFAULT;
	struct iopt_segment *segs = NULL;
	size_t nsegs = 0;
	if (!rc)
		rc = access_segments(a, iova, length, &segs, &nsegs, &last);
	for (size_t i = 0; i < nsegs && !rc; i++)
		rc = seg_prot_ok(&segs[i], write);
	/* The IOVA's bytes are the mapping's user memory: that of the
	 * process that mapped it, which need not be the caller. */
	uint64_t done = 0;
	for (size_t i = 0; i < nsegs && !rc; i++) {
		const struct iofd_uaccess *owner = segs[i].pages->ua;
		uint64_t addr = segs[i].pages->uva + segs[i].pages_off;
		rc = write ? owner->write(owner->opaque, addr, buf + done, segs[i].length)
			   : owner->read(owner->opaque, addr, buf + done, segs[i].length);
		if (rc)
			rc = -EFAULT;
		done += segs[i].length;
	}
	if (!rc && !write && ctx->ua->write(ctx->ua->opaque, cmd->access_rw.uptr, buf, length))
		rc = -EFAULT;
	free(segs);
	free(buf);
	return rc;
}

static int access_replace_ioas(struct iofd_ctx *ctx, struct iofd_test_cmd *cmd)
{
	struct iofd_access *a = access_of_fd(ctx, cmd->id);
	if (!a)
		return -EBADFD;
	if (!a->ioas)
		return -ENOENT;
	struct iofd_ioas *ioas = iofd_ioas_find(ctx, cmd->access_replace_ioas.ioas_id);
	if (!ioas)
		return -ENOENT;
	if (ioas == a->ioas)
		return 0;
	/* Check the new IOAS before leaving the old one. */
	int rc = access_check_alignment(a, ioas);
	if (rc)
		return rc;
	access_detach(a);
	return access_attach(a, ioas);
}

int iofd_test_access_cmd(struct iofd_ucmd *uc)
{
	struct iofd_test_cmd *cmd = uc->cmd;
	switch (cmd->op) {
	case IOFD_TEST_OP_CREATE_ACCESS:
		return create_access(uc, cmd);
	case IOFD_TEST_OP_ACCESS_PAGES:
		return access_pages(uc, cmd);
	case IOFD_TEST_OP_DESTROY_ACCESS_PAGES:
		return destroy_access_pages(uc->ctx, cmd);
	case IOFD_TEST_OP_ACCESS_RW:
		return access_rw(uc->ctx, cmd);
	case IOFD_TEST_OP_ACCESS_REPLACE_IOAS:
		return access_replace_ioas(uc->ctx, cmd);
	default:
		return -EOPNOTSUPP;
	}
}
