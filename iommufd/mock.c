/*
 * iommufd/mock.c - the selftest's mock IOMMU as an iommufd driver.
 *
 * Devices made by IOMMU_TEST_OP_MOCK_DOMAIN(_FLAGS) belong to this driver.
 * Its paging domains are formats/mock/ page tables; its nested domains
 * hold the four-entry IOTLB the selftest inspects.  Facts from Linux's
 * drivers/iommu/iommufd/selftest.c and iommufd_test.h:
 *   - device flags: NO_DIRTY (no dirty-tracking capability; attaching to a
 *     domain with dirty tracking is EINVAL), HUGE_IOVA (1 MiB pages too),
 *     PASID (20-bit PASIDs); any other flag is EINVAL;
 *   - paging allocation takes NEST_PARENT and DIRTY_TRACKING only
 *     (EOPNOTSUPP otherwise, also for DIRTY_TRACKING on a NO_DIRTY device);
 *   - nested allocation takes data type 0xdead with `iotlb`, the initial
 *     value of each IOTLB entry; flags or another type: EOPNOTSUPP;
 *   - invalidation type 0xdeadbeef entries {flags, iotlb_id}: flag ALL
 *     zeroes every entry, else entry iotlb_id (> 3: EINVAL); unknown flags
 *     EOPNOTSUPP; stops at the first bad entry;
 *   - GET_HW_INFO: type 0xfeedbeef, {flags 0, test_reg 0xdeadbeef}.
 */
#include <errno.h>
#include <stdlib.h>

#include "formats/mock/mock.h"
#include "iommufd/iofd_int.h"

#define MOCK_IOTLB_NUM 4
#define MOCK_PASID_WIDTH 20

struct mock_dev {
	uint32_t flags;
};

struct mock_domain {
	struct iofd_domain dom;
	struct mock_pt pt;
};

struct mock_nested {
	struct iofd_domain dom;
	uint32_t iotlb[MOCK_IOTLB_NUM];
};

static const struct iofd_domain_ops mock_paging_ops;
static const struct iofd_domain_ops mock_nested_ops;

static struct mock_dev *mdev_of(struct iofd_device *dev)
{
	return dev->drv_data;
}

/* Paging domain operations */

static int mock_map(struct iofd_domain *d, uint64_t iova, uint64_t phys, uint64_t pgsize,
		    uint64_t count, uint32_t prot)
{
	(void)prot;
	struct mock_domain *m = (struct mock_domain *)d;
	return mock_pt_map(&m->pt, iova, phys, pgsize * count, pgsize);
}

static void mock_unmap(struct iofd_domain *d, uint64_t iova, uint64_t len)
{
	mock_pt_unmap(&((struct mock_domain *)d)->pt, iova, len);
}

static int mock_set_dirty_tracking(struct iofd_domain *d, bool enable)
{
	struct mock_domain *m = (struct mock_domain *)d;
	if (enable && !d->dirty_ops)
		return -EINVAL;
	m->pt.dirty_tracking = enable;
	return 0;
}

static void record_nothing(void *arg, uint64_t iova, uint64_t size)
{
	(void)arg, (void)iova, (void)size;
}

static int mock_read_and_clear_dirty(struct iofd_domain *d, uint64_t iova, uint64_t len,
				     bool no_clear,
				     void (*record)(void *arg, uint64_t iova, uint64_t size),
				     void *arg)
{
	struct mock_domain *m = (struct mock_domain *)d;
	/* Reading into a bitmap needs tracking on; clearing does not. */
	if (!m->pt.dirty_tracking && record)
		return -EINVAL;
	mock_pt_read_and_clear_dirty(&m->pt, iova, len, no_clear, record ? record : record_nothing,
				     arg);
	return 0;
}

static void mock_free(struct iofd_domain *d)
{
	struct mock_domain *m = (struct mock_domain *)d;
	mock_pt_fini(&m->pt);
	free(m);
}

static const struct iofd_domain_ops mock_paging_ops = {
	.map = mock_map,
	.unmap = mock_unmap,
	.set_dirty_tracking = mock_set_dirty_tracking,
	.read_and_clear_dirty = mock_read_and_clear_dirty,
	.free = mock_free,
};

static void mock_nested_free(struct iofd_domain *d)
{
	free(d);
}

static const struct iofd_domain_ops mock_nested_ops = {
	.free = mock_nested_free,
};

/* Driver operations */

static int mock_domain_alloc_paging(struct iofd_device *dev, uint32_t flags,
				    struct iofd_domain **out)
{
	bool dirty = flags & IOFD_HWPT_ALLOC_DIRTY_TRACKING;
	if (flags & ~(IOFD_HWPT_ALLOC_NEST_PARENT | IOFD_HWPT_ALLOC_DIRTY_TRACKING))
		return -EOPNOTSUPP;
	if (dirty && (mdev_of(dev)->flags & IOFD_MOCK_FLAGS_DEVICE_NO_DIRTY))
		return -EOPNOTSUPP;
	struct mock_domain *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	mock_pt_init(&m->pt, mdev_of(dev)->flags & IOFD_MOCK_FLAGS_DEVICE_HUGE_IOVA);
	m->dom.ops = &mock_paging_ops;
	m->dom.aperture_start = MOCK_APERTURE_START;
	m->dom.aperture_last = MOCK_APERTURE_LAST;
	m->dom.pgsize_bitmap = m->pt.pgsize_bitmap;
	m->dom.dirty_ops = dirty;
	m->dom.nest_parent = flags & IOFD_HWPT_ALLOC_NEST_PARENT;
	m->dom.driver = &iofd_mock_driver;
	*out = &m->dom;
	return 0;
}

static int mock_domain_alloc_nested(struct iofd_ctx *ctx, struct iofd_device *dev,
				    struct iofd_domain *parent, uint32_t flags, uint32_t data_type,
				    uint64_t data_uptr, uint32_t data_len, struct iofd_domain **out)
{
	(void)dev;
	if (data_type != IOFD_HWPT_DATA_SELFTEST || flags)
		return -EOPNOTSUPP;
	if (parent->ops != &mock_paging_ops)
		return -EINVAL;
	struct iofd_hwpt_selftest cfg;
	int rc = iofd_copy_driver_data(ctx, &cfg, sizeof(cfg), sizeof(cfg.iotlb), data_uptr,
				       data_len);
	if (rc)
		return rc;
	struct mock_nested *n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->dom.ops = &mock_nested_ops;
	n->dom.nested = true;
	n->dom.parent = parent;
	n->dom.driver = &iofd_mock_driver;
	for (int i = 0; i < MOCK_IOTLB_NUM; i++)
		n->iotlb[i] = cfg.iotlb;
	*out = &n->dom;
	return 0;
}

static int mock_attach(struct iofd_device *dev, struct iofd_domain *d)
{
	if (d->dirty_ops && (mdev_of(dev)->flags & IOFD_MOCK_FLAGS_DEVICE_NO_DIRTY))
		return -EINVAL;
	return 0;
}

static int mock_cache_invalidate_user(struct iofd_ctx *ctx, struct iofd_domain *d, uint32_t type,
				      uint64_t uptr, uint32_t entry_len, uint32_t *entry_num)
{
	struct mock_nested *n = (struct mock_nested *)d;
	uint32_t want = *entry_num, done = 0;
	int rc = 0;
	if (type != IOFD_HWPT_INVALIDATE_DATA_SELFTEST) {
		*entry_num = 0;
		return -EINVAL;
	}
	for (; done < want; done++) {
		struct iofd_hwpt_invalidate_selftest inv;
		rc = iofd_copy_driver_data(ctx, &inv, sizeof(inv),
					   IOFD_OFFSETOFEND(struct iofd_hwpt_invalidate_selftest,
							    iotlb_id),
					   uptr + (uint64_t)done * entry_len, entry_len);
		if (rc)
			break;
		if (inv.flags & ~IOFD_TEST_INVALIDATE_FLAG_ALL) {
			rc = -EOPNOTSUPP;
			break;
		}
		if (inv.iotlb_id >= MOCK_IOTLB_NUM) {
			rc = -EINVAL;
			break;
		}
		if (inv.flags & IOFD_TEST_INVALIDATE_FLAG_ALL) {
			for (int i = 0; i < MOCK_IOTLB_NUM; i++)
				n->iotlb[i] = 0;
		} else {
			n->iotlb[inv.iotlb_id] = 0;
		}
	}
	*entry_num = done;
	return rc;
}

static int mock_hw_info(struct iofd_device *dev, void *buf, uint32_t *len, uint32_t *type)
{
	(void)dev;
	struct iofd_test_hw_info info = {.flags = 0, .test_reg = IOFD_HW_INFO_SELFTEST_REGVAL};
	if (*len >= sizeof(info))
		*(struct iofd_test_hw_info *)buf = info;
	*len = sizeof(info);
	*type = IOFD_HW_INFO_TYPE_SELFTEST;
	return 0;
}

static bool mock_capable(struct iofd_device *dev, enum iofd_cap cap)
{
	switch (cap) {
	case IOFD_CAP_CACHE_COHERENCY:
		return true;
	case IOFD_CAP_DIRTY_TRACKING:
		return !(mdev_of(dev)->flags & IOFD_MOCK_FLAGS_DEVICE_NO_DIRTY);
	}
	return false;
}

static void mock_device_release(struct iofd_device *dev)
{
	free(dev->drv_data);
}

const struct iofd_driver iofd_mock_driver = {
	.name = "mock",
	.domain_alloc_paging = mock_domain_alloc_paging,
	.domain_alloc_nested = mock_domain_alloc_nested,
	.attach = mock_attach,
	.cache_invalidate_user = mock_cache_invalidate_user,
	.hw_info = mock_hw_info,
	.capable = mock_capable,
	.device_release = mock_device_release,
};

int iofd_mock_device_create(struct iofd_ctx *ctx, uint32_t dev_flags, struct iofd_device **out)
{
	const uint32_t known = IOFD_MOCK_FLAGS_DEVICE_NO_DIRTY | IOFD_MOCK_FLAGS_DEVICE_HUGE_IOVA |
			       IOFD_MOCK_FLAGS_DEVICE_PASID;
	if (dev_flags & ~known)
		return -EINVAL;
	struct mock_dev *mdev = calloc(1, sizeof(*mdev));
	if (!mdev)
		return -ENOMEM;
	mdev->flags = dev_flags;
	int rc = iofd_device_bind(ctx, &iofd_mock_driver, mdev, out);
	if (rc) {
		free(mdev);
		return rc;
	}
	if (dev_flags & IOFD_MOCK_FLAGS_DEVICE_PASID)
		(*out)->max_pasid_log2 = MOCK_PASID_WIDTH;
	return 0;
}

struct mock_pt *iofd_mock_pt(struct iofd_hwpt *hwpt)
{
	if (hwpt->domain->ops != &mock_paging_ops)
		return NULL;
	return &((struct mock_domain *)hwpt->domain)->pt;
}

uint32_t *iofd_mock_iotlb(struct iofd_hwpt *hwpt)
{
	if (hwpt->domain->ops != &mock_nested_ops)
		return NULL;
	return ((struct mock_nested *)hwpt->domain)->iotlb;
}
