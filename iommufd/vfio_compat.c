/*
 * iommufd/vfio_compat.c - the VFIO type1 container ioctls served on
 * /dev/iommu, so a program written for /dev/vfio/vfio keeps working.
 *
 * They act on the "compat IOAS" chosen with IOMMU_VFIO_IOAS; without one
 * every container ioctl but the version and extension queries is ENODEV.
 * Layouts and numbers are those of <linux/vfio.h>.  The difference between
 * TYPE1 and TYPE1v2 is that TYPE1 may unmap part of a mapping: choosing it
 * turns huge pages off on the IOAS, and unmap then cuts areas at the
 * requested bounds.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/vfio.h>

#include "iommufd/iofd_int.h"

static struct iofd_ioas *compat_ioas(struct iofd_ctx *ctx)
{
	return ctx->vfio_ioas_id ? iofd_ioas_find(ctx, ctx->vfio_ioas_id) : NULL;
}

static int vfio_set_iommu(struct iofd_ctx *ctx, unsigned long type)
{
	if (type != VFIO_TYPE1_IOMMU && type != VFIO_TYPE1v2_IOMMU)
		return -EINVAL;
	struct iofd_ioas *ioas = compat_ioas(ctx);
	if (!ioas)
		return -ENODEV;
	return type == VFIO_TYPE1_IOMMU ? iopt_set_large_pages(&ioas->iopt, false) : 0;
}

static long vfio_check_extension(struct iofd_ctx *ctx, unsigned long ext)
{
	switch (ext) {
	case VFIO_TYPE1_IOMMU:
	case VFIO_TYPE1v2_IOMMU:
	case VFIO_UNMAP_ALL:
		return 1;
	case VFIO_DMA_CC_IOMMU:
		/* Coherent unless an attached domain is not; no domain is. */
		return compat_ioas(ctx) ? 1 : -ENODEV;
	default:
		return 0;
	}
}

/* Read the fixed part (minsz bytes) of a VFIO argument, which starts with
 * its u32 argsz: EINVAL if argsz is below minsz. */
static int vfio_read_arg(struct iofd_ctx *ctx, uint64_t arg, void *dst, size_t minsz)
{
	uint32_t argsz;
	int rc = ctx->ua->read(ctx->ua->opaque, arg, dst, minsz);
	if (rc)
		return rc;
	memcpy(&argsz, dst, sizeof(argsz));
	return argsz < minsz ? -EINVAL : 0;
}

static int vfio_map_dma(struct iofd_ctx *ctx, uint64_t arg)
{
	struct vfio_iommu_type1_dma_map map;
	int rc = vfio_read_arg(ctx, arg, &map,
			       IOFD_OFFSETOFEND(struct vfio_iommu_type1_dma_map, size));
	if (rc)
		return rc;
	if (map.flags & ~(VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE))
		return -EINVAL;
	struct iofd_ioas *ioas = compat_ioas(ctx);
	if (!ioas)
		return -ENODEV;
	uint32_t flags = 0;
	if (map.flags & VFIO_DMA_MAP_FLAG_READ)
		flags |= IOFD_MAP_READABLE;
	if (map.flags & VFIO_DMA_MAP_FLAG_WRITE)
		flags |= IOFD_MAP_WRITEABLE;
	uint64_t iova = map.iova;
	return iofd_map_user(&ioas->iopt, &iova, true, map.vaddr, map.size, flags);
}

static int vfio_unmap_dma(struct iofd_ctx *ctx, uint64_t arg)
{
	struct vfio_iommu_type1_dma_unmap unmap;
	size_t minsz = IOFD_OFFSETOFEND(struct vfio_iommu_type1_dma_unmap, size);
	int rc = vfio_read_arg(ctx, arg, &unmap, minsz);
	if (rc)
		return rc;
	if (unmap.flags & ~VFIO_DMA_UNMAP_FLAG_ALL)
		return -EINVAL;
	struct iofd_ioas *ioas = compat_ioas(ctx);
	if (!ioas)
		return -ENODEV;
	uint64_t unmapped = 0;
	if (unmap.flags & VFIO_DMA_UNMAP_FLAG_ALL) {
		if (unmap.iova || unmap.size)
			return -EINVAL;
		rc = iopt_unmap_range(&ioas->iopt, 0, UINT64_MAX, true, &unmapped);
	} else {
		uint64_t last;
		rc = iopt_range_last(unmap.iova, unmap.size, &last);
		if (rc)
			return rc;
		/* An owner's pin (a HW queue's) refuses the unmap before a
		 * cut below could change anything. */
		struct iopt_node *n;
		iopt_for_each(&ioas->iopt.areas, n, unmap.iova, last)
			if (iopt_range_locked(&ioas->iopt, n->start, n->last))
				return -EBUSY;
		if (ioas->iopt.large_pages_disabled) {
			/* TYPE1: cut areas so the range's bounds are area bounds. */
			rc = iopt_cut(&ioas->iopt, last);
			if (!rc && unmap.iova)
				rc = iopt_cut(&ioas->iopt, unmap.iova - 1);
			if (rc)
				return rc;
		}
		/* Unlike IOAS_UNMAP, an empty range is no error here. */
		rc = iopt_unmap_range(&ioas->iopt, unmap.iova, last, true, &unmapped);
	}
	if (rc)
		return rc;
	unmap.size = unmapped;
	return ctx->ua->write(ctx->ua->opaque, arg, &unmap, minsz);
}

/*
 * GET_INFO with its capability chain: DMA_AVAIL, then IOVA_RANGE (the holes
 * of the reserved ranges).  A caller whose argsz is too small gets the
 * fixed part, and argsz set to what the whole chain needs.
 */
static int vfio_get_info(struct iofd_ctx *ctx, uint64_t arg)
{
	struct vfio_iommu_type1_info info;
	int rc = vfio_read_arg(ctx, arg, &info,
			       IOFD_OFFSETOFEND(struct vfio_iommu_type1_info, iova_pgsizes));
	if (rc)
		return rc;
	size_t reply = info.argsz < sizeof(info) ? info.argsz : sizeof(info);
	struct iofd_ioas *ioas = compat_ioas(ctx);
	if (!ioas)
		return -ENODEV;

	/* Page sizes: every multiple of the CPU page, at least the IOAS alignment. */
	uint64_t page = iopt_page_size();
	uint64_t pgsizes = ~(page - 1);
	if (pgsizes < ioas->iopt.iova_alignment)
		pgsizes = ioas->iopt.iova_alignment;

	uint32_t nr = iopt_usable_ranges(&ioas->iopt, NULL, 0);
	size_t avail_sz = sizeof(struct vfio_iommu_type1_info_dma_avail);
	size_t iova_sz = sizeof(struct vfio_iommu_type1_info_cap_iova_range) +
			 (size_t)nr * sizeof(struct vfio_iova_range);
	size_t total = sizeof(info) + avail_sz + iova_sz;
	if (info.argsz >= total) {
		uint8_t *caps = calloc(1, avail_sz + iova_sz);
		if (!caps)
			return -ENOMEM;
		/* The second capability sits at offset 36, not 8-byte aligned:
		 * build each piece aligned and copy it into place. */
		struct vfio_iommu_type1_info_dma_avail dma = {
			.header = {.id = VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL, .version = 1,
				   .next = (uint32_t)(sizeof(info) + avail_sz)},
			.avail = UINT32_MAX,
		};
		memcpy(caps, &dma, avail_sz);
		struct vfio_iommu_type1_info_cap_iova_range cap = {
			.header = {.id = VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE, .version = 1},
			.nr_iovas = nr,
		};
		memcpy(caps + avail_sz, &cap, sizeof(cap));
		struct iofd_iova_range *r = calloc(nr, sizeof(*r));
		if (!r) {
			free(caps);
			return -ENOMEM;
		}
		iopt_usable_ranges(&ioas->iopt, r, nr);
		for (uint32_t i = 0; i < nr; i++) {
			struct vfio_iova_range vr = {.start = r[i].start, .end = r[i].last};
			memcpy(caps + avail_sz + sizeof(cap) + i * sizeof(vr), &vr, sizeof(vr));
		}
		free(r);
		rc = ctx->ua->write(ctx->ua->opaque, arg + sizeof(info), caps, avail_sz + iova_sz);
		free(caps);
		if (rc)
			return rc;
		info.cap_offset = sizeof(info);
	} else {
		info.cap_offset = 0;
	}
	info.argsz = total;
	info.flags = VFIO_IOMMU_INFO_PGSIZES | VFIO_IOMMU_INFO_CAPS;
	info.iova_pgsizes = pgsizes;
	return ctx->ua->write(ctx->ua->opaque, arg, &info, reply);
}

long iofd_vfio_ioctl(struct iofd_ctx *ctx, unsigned long request, uint64_t arg)
{
	switch (request) {
	case VFIO_GET_API_VERSION:
		return VFIO_API_VERSION;
	case VFIO_CHECK_EXTENSION:
		return vfio_check_extension(ctx, arg);
	case VFIO_SET_IOMMU:
		return vfio_set_iommu(ctx, arg);
	case VFIO_IOMMU_GET_INFO:
		return vfio_get_info(ctx, arg);
	case VFIO_IOMMU_MAP_DMA:
		return vfio_map_dma(ctx, arg);
	case VFIO_IOMMU_UNMAP_DMA:
		return vfio_unmap_dma(ctx, arg);
	default:
		return -ENOTTY;
	}
}
