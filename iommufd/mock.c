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
 *   - paging allocation takes NEST_PARENT, DIRTY_TRACKING and PASID only
 *     (EOPNOTSUPP otherwise, also for DIRTY_TRACKING on a NO_DIRTY device);
 *   - nested allocation takes data type 0xdead with `iotlb`, the initial
 *     value of each IOTLB entry; flags other than PASID or another type:
 *     EOPNOTSUPP;
 *   - PASID attachments are accepted as they come (the core checks them),
 *     except that at PASID 1024 every second attach or replace (the
 *     device remembers) fails with ENOMEM, so the selftest can see a
 *     failed replace keep the old domain; blocking PASID 1024 resets it;
 *   - invalidation type 0xdeadbeef entries {flags, iotlb_id}: flag ALL
 *     zeroes every entry, else entry iotlb_id (> 3: EINVAL); unknown flags
 *     EOPNOTSUPP; stops at the first bad entry;
 *   - GET_HW_INFO: type 0xfeedbeef, {flags 0, test_reg 0xdeadbeef};
 *   - each device has a four-entry "cache" (0xbaddad at creation) that
 *     vIOMMU invalidations zero and DEV_CHECK_CACHE inspects.
 * The vIOMMU (type 0xdeadbeef; newest ABI), from Linux 6.17's selftest.c:
 *   - over a mock nest-parent paging domain only (another: EINVAL);
 *   - driver data {in_data, out_data, out_mmap_offset, out_mmap_length}
 *     (at least up to out_data, else EINVAL): out_data = in_data, and a
 *     region of two host pages, whose first u32 is in_data, to mmap;
 *   - nested domains through it take the flag PASID only (else
 *     EOPNOTSUPP) and the same data as above; a device may attach to one
 *     only with a vDEVICE in that vIOMMU (ENOENT);
 *   - invalidation type 0xdeadbeef entries {flags, vdev_id, cache_id},
 *     all read first (an entry longer than 12 bytes must be zero beyond,
 *     E2BIG; another type: EINVAL; no entries: nothing to do), then in
 *     order: unknown flags EOPNOTSUPP, cache_id > 3 EINVAL, vdev_id with no
 *     vDEVICE EINVAL; flag ALL zeroes the whole cache;
 *   - TRIGGER_VEVENT queues {virt_id} (type 0xbeefbeef) for a device
 *     attached through the vIOMMU with a non-zero virtual ID (else ENOENT);
 *   - HW queues of type 0xdeadbeef, indexes 0 and 1 (else EINVAL), each
 *     once (EEXIST), 1 only after 0 (EIO), which it then depends on
 *     (DESTROY of 0: EBUSY); the physical address the core found must be
 *     what the stage 2 maps the queue's IOVA to (EFAULT).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "formats/mock/mock.h"
#include "iommufd/iofd_int.h"

#define MOCK_IOTLB_NUM 4
#define MOCK_PASID_WIDTH 20
#define MOCK_DEV_CACHE_NUM 4

#define MOCK_PASID_FAKE_ERROR 1024 /* iommufd_test.h: the selftest's special PASID */

struct mock_dev {
	uint32_t flags;
	bool pasid_1024_fake_error; /* the next set at PASID 1024 fails */
	uint32_t cache[MOCK_DEV_CACHE_NUM];
};

struct mock_viommu {
	struct iofd_domain *s2;
	uint32_t *page;       /* the mmap-able region (driver data given) */
	uint64_t mmap_offset; /* 0: none */
	struct iofd_hw_queue *hw_queue[IOFD_TEST_HW_QUEUE_MAX];
};

struct mock_hw_queue {
	struct mock_viommu *mv;
	uint32_t index;
	struct iofd_hw_queue *prev; /* the queue it depends on */
};

struct mock_domain {
	struct iofd_domain dom;
	struct mock_pt pt;
};

struct mock_nested {
	struct iofd_domain dom;
	uint32_t iotlb[MOCK_IOTLB_NUM];
	struct iofd_viommu *viommu; /* made through one */
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
	if (flags & ~(IOFD_HWPT_ALLOC_NEST_PARENT | IOFD_HWPT_ALLOC_DIRTY_TRACKING |
		      IOFD_HWPT_ALLOC_PASID))
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

/* The nested domain from the caller's data (both ways of making one). */
static int mock_nested_new(struct iofd_ctx *ctx, struct iofd_domain *parent, uint32_t data_type,
			   uint64_t data_uptr, uint32_t data_len, struct iofd_domain **out);

static int mock_domain_alloc_nested(struct iofd_ctx *ctx, struct iofd_device *dev,
				    struct iofd_domain *parent, uint32_t flags, uint32_t data_type,
				    uint64_t data_uptr, uint32_t data_len, struct iofd_domain **out)
{
	(void)dev;
	if (data_type != IOFD_HWPT_DATA_SELFTEST || (flags & ~IOFD_HWPT_ALLOC_PASID))
		return -EOPNOTSUPP;
	if (parent->ops != &mock_paging_ops)
		return -EINVAL;
	return mock_nested_new(ctx, parent, data_type, data_uptr, data_len, out);
}

static int mock_nested_new(struct iofd_ctx *ctx, struct iofd_domain *parent, uint32_t data_type,
			   uint64_t data_uptr, uint32_t data_len, struct iofd_domain **out)
{
	if (data_type != IOFD_HWPT_DATA_SELFTEST)
		return -EOPNOTSUPP;
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
	/* Through a vIOMMU the device needs its virtual ID there. */
	if (d->ops == &mock_nested_ops) {
		struct iofd_viommu *v = ((struct mock_nested *)d)->viommu;
		if (v && (!dev->vdev || dev->vdev->viommu != v))
			return -ENOENT;
	}
	return 0;
}

static int mock_attach_pasid(struct iofd_device *dev, uint32_t pasid, struct iofd_domain *d,
			     struct iofd_domain *old)
{
	(void)d, (void)old;
	struct mock_dev *m = mdev_of(dev);
	if (pasid == MOCK_PASID_FAKE_ERROR) {
		m->pasid_1024_fake_error = !m->pasid_1024_fake_error;
		if (!m->pasid_1024_fake_error)
			return -ENOMEM;
	}
	return 0;
}

static void mock_detach_pasid(struct iofd_device *dev, uint32_t pasid, struct iofd_domain *d)
{
	(void)d;
	if (pasid == MOCK_PASID_FAKE_ERROR)
		mdev_of(dev)->pasid_1024_fake_error = false;
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

/* vIOMMU */

static struct mock_viommu *mv_of(struct iofd_viommu *v)
{
	return v->priv;
}

static int mock_viommu_alloc(struct iofd_device *dev, struct iofd_domain *s2, uint32_t type)
{
	(void)dev;
	if (type != IOFD_VIOMMU_TYPE_SELFTEST)
		return -EOPNOTSUPP;
	if (s2 && s2->ops != &mock_paging_ops)
		return -EINVAL;
	return 0;
}

static int mock_viommu_init(struct iofd_ctx *ctx, struct iofd_viommu *v, uint64_t data_uptr,
			    uint32_t data_len)
{
	struct mock_viommu *mv = calloc(1, sizeof(*mv));
	if (!mv)
		return -ENOMEM;
	mv->s2 = v->hwpt->domain;
	if (data_len) {
		struct iofd_viommu_selftest data;
		int rc = iofd_copy_driver_data(ctx, &data, sizeof(data),
					       IOFD_OFFSETOFEND(struct iofd_viommu_selftest, out_data),
					       data_uptr, data_len);
		void *host;
		if (!rc)
			rc = iofd_mmap_region_add(ctx, &v->obj, 2 * iopt_page_size(), &host,
						  &mv->mmap_offset);
		if (rc) {
			free(mv);
			return rc;
		}
		/* Loop-back: the caller finds in_data in the reply and in the page. */
		mv->page = host;
		mv->page[0] = data.in_data;
		data.out_data = data.in_data;
		data.out_mmap_offset = mv->mmap_offset;
		data.out_mmap_length = 2 * iopt_page_size();
		if (ctx->ua->write(ctx->ua->opaque, data_uptr, &data,
				   data_len < sizeof(data) ? data_len : sizeof(data))) {
			iofd_mmap_region_remove(ctx, mv->mmap_offset);
			free(mv);
			return -EFAULT;
		}
	}
	v->priv = mv;
	return 0;
}

static void mock_viommu_destroy(struct iofd_ctx *ctx, struct iofd_viommu *v)
{
	struct mock_viommu *mv = mv_of(v);
	if (mv->mmap_offset)
		iofd_mmap_region_remove(ctx, mv->mmap_offset);
	free(mv);
	v->priv = NULL;
}

static int mock_viommu_alloc_nested(struct iofd_ctx *ctx, struct iofd_viommu *v,
				    struct iofd_device *dev, uint32_t flags, uint32_t data_type,
				    uint64_t data_uptr, uint32_t data_len, struct iofd_domain **out)
{
	(void)dev;
	if (flags & ~IOFD_HWPT_ALLOC_PASID)
		return -EOPNOTSUPP;
	int rc = mock_nested_new(ctx, mv_of(v)->s2, data_type, data_uptr, data_len, out);
	if (!rc)
		((struct mock_nested *)*out)->viommu = v;
	return rc;
}

static struct iofd_device *mock_vdev_find(struct iofd_viommu *v, uint64_t virt_id)
{
	struct iofd_vdevice *vd = iofd_viommu_find_vdev(v, virt_id);
	return vd ? vd->dev : NULL;
}

static int mock_viommu_cache_invalidate(struct iofd_ctx *ctx, struct iofd_viommu *v,
					uint32_t type, uint64_t uptr, uint32_t entry_len,
					uint32_t *entry_num)
{
	uint32_t want = *entry_num, done = 0;
	*entry_num = 0;
	/* No entries: the caller is asking whether the type is known. */
	if (want == 0 && type == IOFD_VIOMMU_INVALIDATE_DATA_SELFTEST)
		return 0;
	if (type != IOFD_VIOMMU_INVALIDATE_DATA_SELFTEST)
		return -EINVAL;
	const size_t esz = sizeof(struct iofd_viommu_invalidate_selftest);
	struct iofd_viommu_invalidate_selftest *cmds = calloc(want, esz);
	if (!cmds)
		return -ENOMEM;
	/* The whole array first (Linux's full-array copy): a shorter entry
	 * is zero-extended, a longer one must be zero beyond ours. */
	int rc = 0;
	for (uint32_t i = 0; i < want && !rc; i++)
		rc = iofd_copy_array_entry(ctx, uptr, entry_len, i, &cmds[i], esz);
	for (; !rc && done < want; done++) {
		struct iofd_viommu_invalidate_selftest *c = &cmds[done];
		if (c->flags & ~IOFD_TEST_INVALIDATE_FLAG_ALL) {
			rc = -EOPNOTSUPP;
			break;
		}
		if (c->cache_id >= MOCK_DEV_CACHE_NUM) {
			rc = -EINVAL;
			break;
		}
		struct iofd_device *dev = mock_vdev_find(v, c->vdev_id);
		if (!dev) {
			rc = -EINVAL;
			break;
		}
		struct mock_dev *mdev = mdev_of(dev);
		if (c->flags & IOFD_TEST_INVALIDATE_FLAG_ALL)
			memset(mdev->cache, 0, sizeof(mdev->cache));
		else
			mdev->cache[c->cache_id] = 0;
	}
	free(cmds);
	*entry_num = done;
	return rc;
}

/* HW queues */

static int mock_hw_queue_check(struct iofd_viommu *v, uint32_t type)
{
	(void)v;
	return type == IOFD_HW_QUEUE_TYPE_SELFTEST ? 0 : -EOPNOTSUPP;
}

static int mock_hw_queue_init(struct iofd_viommu *v, struct iofd_hw_queue *q, uint32_t index,
			      uint64_t base_pa)
{
	struct mock_viommu *mv = mv_of(v);
	if (index >= IOFD_TEST_HW_QUEUE_MAX)
		return -EINVAL;
	if (mv->hw_queue[index])
		return -EEXIST;
	struct iofd_hw_queue *prev = index ? mv->hw_queue[index - 1] : NULL;
	if (index && !prev)
		return -EIO;
	/* The core's physical address must be what the stage 2 maps. */
	struct mock_pt *pt = &((struct mock_domain *)mv->s2)->pt;
	uint64_t pte = mock_pt_entry(pt, q->base_iova & ~(uint64_t)(MOCK_IO_PAGE_SIZE - 1));
	if (!pte || mock_pte_phys(pte) + q->base_iova % MOCK_IO_PAGE_SIZE != base_pa)
		return -EFAULT;
	struct mock_hw_queue *mq = calloc(1, sizeof(*mq));
	if (!mq)
		return -ENOMEM;
	mq->mv = mv;
	mq->index = index;
	mq->prev = prev;
	if (prev)
		prev->obj.users++; /* the later queue depends on the earlier */
	mv->hw_queue[index] = q;
	q->priv = mq;
	return 0;
}

static void mock_hw_queue_destroy(struct iofd_hw_queue *q)
{
	struct mock_hw_queue *mq = q->priv;
	mq->mv->hw_queue[mq->index] = NULL;
	if (mq->prev)
		mq->prev->obj.users--;
	free(mq);
}

const struct iofd_driver iofd_mock_driver = {
	.name = "mock",
	.domain_alloc_paging = mock_domain_alloc_paging,
	.domain_alloc_nested = mock_domain_alloc_nested,
	.attach = mock_attach,
	.attach_pasid = mock_attach_pasid,
	.detach_pasid = mock_detach_pasid,
	.cache_invalidate_user = mock_cache_invalidate_user,
	.hw_info = mock_hw_info,
	.capable = mock_capable,
	.device_release = mock_device_release,
	.viommu_alloc = mock_viommu_alloc,
	.viommu_alloc_nested = mock_viommu_alloc_nested,
	.viommu_cache_invalidate = mock_viommu_cache_invalidate,
	.viommu_init = mock_viommu_init,
	.viommu_destroy = mock_viommu_destroy,
	.hw_queue_check = mock_hw_queue_check,
	.hw_queue_init = mock_hw_queue_init,
	.hw_queue_destroy = mock_hw_queue_destroy,
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
	for (int i = 0; i < MOCK_DEV_CACHE_NUM; i++)
		mdev->cache[i] = IOFD_TEST_DEV_CACHE_DEFAULT;
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

uint32_t *iofd_mock_dev_cache(struct iofd_device *dev)
{
	return dev->drv == &iofd_mock_driver ? mdev_of(dev)->cache : NULL;
}

int iofd_mock_trigger_vevent(struct iofd_device *dev)
{
	/* The vIOMMU the device is attached through, and its ID there. */
	struct iofd_hwpt *hwpt = dev->hwpt;
	struct iofd_viommu *v = NULL;
	if (hwpt && hwpt->domain->ops == &mock_nested_ops)
		v = ((struct mock_nested *)hwpt->domain)->viommu;
	if (!v || !dev->vdev || dev->vdev->viommu != v || !dev->vdev->virt_id)
		return -ENOENT;
	struct iofd_viommu_event_selftest ev = {.virt_id = (uint32_t)dev->vdev->virt_id};
	return iofd_viommu_report_event(v, IOFD_VEVENTQ_TYPE_SELFTEST, &ev, sizeof(ev));
}
