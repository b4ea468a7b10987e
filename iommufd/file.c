/*
 * iommufd/file.c - descriptors that ioctls create.
 *
 * Some iommufd ioctls hand the caller a new file descriptor (a fault
 * queue, a vEVENT queue, the selftest's access object).  The dispatcher
 * cannot make descriptors itself: it builds a `struct iofd_file` and asks
 * the transport to install it (iofd_uaccess.install_file).  The file holds
 * a reference on its context, as the kernel's file holds the iommufd
 * context, so closing /dev/iommu first frees the objects only once the
 * last such descriptor is closed too.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>

#include "iommufd/iofd_int.h"

int iofd_file_install(struct iofd_ctx *ctx, const struct iofd_file_ops *ops, void *priv,
		      struct iofd_file **out, int *fd)
{
	if (!ctx->ua->install_file)
		return -EOPNOTSUPP;
	struct iofd_file *file = calloc(1, sizeof(*file));
	if (!file)
		return -ENOMEM;
	file->ops = ops;
	file->priv = priv;
	file->ctx = ctx;
	int n = ctx->ua->install_file(ctx->ua->opaque, file);
	if (n < 0) {
		free(file);
		return n;
	}
	ctx->refs++;
	*out = file;
	*fd = n;
	return 0;
}

void iofd_file_uninstall(struct iofd_file *file, int fd)
{
	struct iofd_ctx *ctx = file->ctx;
	if (ctx->ua->uninstall_file)
		ctx->ua->uninstall_file(ctx->ua->opaque, fd);
	/* The ioctl failed: the object behind it is undone by the caller. */
	ctx->refs--;
	free(file);
}

long iofd_file_read(struct iofd_file *file, void *buf, size_t len, uint64_t offset)
{
	if (!file->ops->read)
		return -EINVAL;
	return file->ops->read(file, buf, len, offset);
}

long iofd_file_write(struct iofd_file *file, const void *buf, size_t len, uint64_t offset)
{
	if (!file->ops->write)
		return -EINVAL;
	return file->ops->write(file, buf, len, offset);
}

unsigned iofd_file_poll(struct iofd_file *file)
{
	return file->ops->poll ? file->ops->poll(file) : 0;
}

void iofd_file_release(struct iofd_file *file)
{
	struct iofd_ctx *ctx = file->ctx;
	if (file->ops->release)
		file->ops->release(file);
	free(file);
	iofd_ctx_put(ctx);
}

int iofd_file_respond(struct iofd_ucmd *uc, struct iofd_obj *obj, const struct iofd_file_ops *ops,
		      void *priv, uint32_t *fd_out)
{
	struct iofd_file *file;
	int fd;
	int rc = iofd_file_install(uc->ctx, ops, priv, &file, &fd);
	if (rc) {
		iofd_obj_del(uc->ctx, obj);
		return rc;
	}
	obj->users++; /* the descriptor: DESTROY is EBUSY while it is open */
	*fd_out = (uint32_t)fd;
	rc = iofd_ucmd_respond(uc);
	if (rc) {
		obj->users--;
		iofd_file_uninstall(file, fd);
		iofd_obj_del(uc->ctx, obj);
	}
	return rc;
}
