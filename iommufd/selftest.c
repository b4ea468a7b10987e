/*
 * iommufd/selftest.c - IOMMU_TEST_CMD, the kernel selftest's own ioctl.
 *
 * The selftest (tools/testing/selftests/iommu/) creates its devices and
 * inspects the mock IOMMU's state through this ioctl.  Each op answers
 * from the model's own books: the mock page tables (formats/mock/), the
 * process-wide pin table, the nested domains' IOTLB arrays.  Checks run in
 * the order of Linux's drivers/iommu/iommufd/selftest.c, so a bad call gets
 * the same errno.
 */
#include <errno.h>
#include <stdlib.h>

#include "formats/mock/mock.h"
#include "iommufd/iofd_int.h"

/* The handle MOCK_DOMAIN returns as out_stdev_id: destroying it unplugs
 * the mock device. */
struct iofd_stdev {
	struct iofd_obj obj;
	struct iofd_device *dev;
};

static void stdev_destroy(struct iofd_ctx *ctx, struct iofd_obj *obj)
{
	struct iofd_stdev *st = (struct iofd_stdev *)obj;
	if (st->dev) {
		iofd_device_detach(ctx, st->dev);
		iofd_obj_del(ctx, &st->dev->obj);
	}
	free(st);
}

static int test_add_reserved(struct iofd_ctx *ctx, struct iofd_test_cmd *cmd)
{
	uint64_t last;
	if (cmd->add_reserved.length == 0)
		return -EINVAL;
	if (__builtin_add_overflow(cmd->add_reserved.start, cmd->add_reserved.length - 1, &last))
		return -EOVERFLOW;
	struct iofd_ioas *ioas = iofd_ioas_find(ctx, cmd->id);
	if (!ioas)
		return -ENOENT;
	/* Reservations made by the test belong to the IOAS itself. */
	return iopt_reserve(&ioas->iopt, cmd->add_reserved.start, last, ioas);
}

static int test_mock_domain(struct iofd_ucmd *uc, struct iofd_test_cmd *cmd)
{
	struct iofd_ctx *ctx = uc->ctx;
	/* IDs in Linux's order: the handle, the device, then the HWPT. */
	struct iofd_stdev *st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	int rc = iofd_obj_add(ctx, &st->obj, IOFD_OBJ_SELFTEST, stdev_destroy);
	if (rc) {
		free(st);
		return rc;
	}
	uint32_t flags = cmd->op == IOFD_TEST_OP_MOCK_DOMAIN_FLAGS ? cmd->mock_domain.dev_flags : 0;
	struct iofd_device *dev;
	rc = iofd_mock_device_create(ctx, flags, &dev);
	if (rc)
		goto out;
	st->dev = dev;
	uint32_t pt_id = cmd->id;
	rc = iofd_device_attach(ctx, dev, &pt_id, false);
	if (rc)
		goto out;
	cmd->mock_domain.out_hwpt_id = pt_id;
	cmd->mock_domain.out_stdev_id = st->obj.id;
	cmd->mock_domain.out_idev_id = dev->obj.id;
	rc = iofd_ucmd_respond(uc);
out:
	if (rc)
		iofd_obj_del(ctx, &st->obj);
	return rc;
}

static int test_mock_domain_replace(struct iofd_ucmd *uc, struct iofd_test_cmd *cmd)
{
	struct iofd_stdev *st = (struct iofd_stdev *)iofd_obj_find(uc->ctx, cmd->id,
								  IOFD_OBJ_SELFTEST);
	if (!st)
		return -ENOENT;
	uint32_t pt_id = cmd->mock_domain_replace.pt_id;
	int rc = iofd_device_attach(uc->ctx, st->dev, &pt_id, true);
	if (rc)
		return rc;
	cmd->mock_domain_replace.pt_id = pt_id;
	return iofd_ucmd_respond(uc);
}

/* The mock paging domain behind hwpt id; -ENOENT/-EINVAL as Linux. */
static int get_mock_pt(struct iofd_ctx *ctx, uint32_t id, struct iofd_hwpt **hwpt,
		       struct mock_pt **pt)
{
	*hwpt = (struct iofd_hwpt *)iofd_obj_find(ctx, id, IOFD_OBJ_HWPT_PAGING);
	if (!*hwpt)
		return -ENOENT;
	*pt = iofd_mock_pt(*hwpt);
	return *pt ? 0 : -EINVAL;
}

/* The first host page from `page` on, of npages, that the caller's memory
 * lacks, or npages when none is missing: one look at the caller's memory
 * in the common case, page by page only to find the culprit. */
static uint64_t first_missing_page(struct iofd_ctx *ctx, uint64_t page, uint64_t npages)
{
	const uint64_t psz = iopt_page_size();
	if (!npages || !iofd_uaccess_probe(ctx->ua, page, npages * psz, false))
		return npages;
	for (uint64_t i = 0; i < npages; i++)
		if (iofd_uaccess_probe(ctx->ua, page + i * psz, psz, false))
			return i;
	return npages;
}

/* The pin key of the caller's page at uptr: its own, or, for a shared
 * mapping of a file mapped with IOAS_MAP_FILE, the file's page (which is
 * what Linux's page behind the address is). */
static void user_page_key(struct iofd_ctx *ctx, uint64_t page, uint64_t *mm, uint64_t *key)
{
	*mm = ctx->ua->mm;
	*key = page;
	uint64_t fmm, off;
	if (!iofd_pin_count(*mm, page) &&
	    iofd_mfile_resolve(iofd_uaccess_pid(ctx->ua), page, &fmm, &off)) {
		*mm = fmm;
		*key = off;
	}
}

/* Every IO page under iova must map the frame pinned under uptr. */
static int test_md_check_map(struct iofd_ctx *ctx, struct iofd_test_cmd *cmd)
{
	uint64_t iova = cmd->check_map.iova, len = cmd->check_map.length;
	uint64_t uptr = cmd->check_map.uptr, end;
	if (iova % MOCK_IO_PAGE_SIZE || len % MOCK_IO_PAGE_SIZE || uptr % MOCK_IO_PAGE_SIZE ||
	    __builtin_add_overflow(uptr, len, &end))
		return -EINVAL;
	struct iofd_hwpt *hwpt;
	struct mock_pt *pt;
	int rc = get_mock_pt(ctx, cmd->id, &hwpt, &pt);
	if (rc)
		return rc;
	const uint64_t psz = iopt_page_size();
	uint64_t first = uptr & ~(psz - 1);
	uint64_t missing = len ? first_missing_page(ctx, first, (uptr + len - 1) / psz - first / psz + 1)
			       : 0;
	for (; len; len -= MOCK_IO_PAGE_SIZE, iova += MOCK_IO_PAGE_SIZE, uptr += MOCK_IO_PAGE_SIZE) {
		if ((uptr - first) / psz == missing)
			return -EFAULT;
		uint64_t frame, mm, key, pte = mock_pt_entry(pt, iova);
		user_page_key(ctx, uptr & ~(psz - 1), &mm, &key);
		if (!pte || !iofd_pin_frame(mm, key, &frame) ||
		    mock_pte_phys(pte) != frame * psz + uptr % psz)
			return -EINVAL;
	}
	return 0;
}

/* Each host page must hold exactly `refs` pins. */
static int test_md_check_refs(struct iofd_ctx *ctx, struct iofd_test_cmd *cmd)
{
	const uint64_t psz = iopt_page_size();
	uint64_t uptr = cmd->check_refs.uptr, len = cmd->check_refs.length, end;
	if (len % psz || uptr % psz || __builtin_add_overflow(uptr, len, &end))
		return -EINVAL;
	uint64_t missing = first_missing_page(ctx, uptr, len / psz);
	for (uint64_t i = 0; len; len -= psz, uptr += psz, i++) {
		if (i == missing)
			return -EFAULT;
		uint64_t mm, key;
		user_page_key(ctx, uptr, &mm, &key);
		if (iofd_pin_count(mm, key) != cmd->check_refs.refs)
			return -EIO;
	}
	return 0;
}

static int test_md_check_iotlb(struct iofd_ctx *ctx, struct iofd_test_cmd *cmd)
{
	struct iofd_hwpt *hwpt =
		(struct iofd_hwpt *)iofd_obj_find(ctx, cmd->id, IOFD_OBJ_HWPT_NESTED);
	if (!hwpt)
		return -ENOENT;
	uint32_t *iotlb = iofd_mock_iotlb(hwpt);
	if (!iotlb)
		return -EINVAL;
	if (cmd->check_iotlb.id > 3 || iotlb[cmd->check_iotlb.id] != cmd->check_iotlb.iotlb)
		return -EINVAL;
	return 0;
}

/* Mark IO pages dirty from a bitmap, as a device writing them would. */
static int test_dirty(struct iofd_ucmd *uc, struct iofd_test_cmd *cmd)
{
	struct iofd_ctx *ctx = uc->ctx;
	uint64_t iova = cmd->dirty.iova, len = cmd->dirty.length, psize = cmd->dirty.page_size;
	if (!psize || !len || iova % psize || len % psize || !cmd->dirty.uptr)
		return -EINVAL;
	uint64_t max = len / psize;
	if (max > (16ull << 20) * 8)
		return -EOVERFLOW;
	struct iofd_hwpt *hwpt;
	struct mock_pt *pt;
	int rc = get_mock_pt(ctx, cmd->id, &hwpt, &pt);
	if (rc)
		return rc;
	if (!pt->dirty_tracking)
		return -EINVAL;
	uint8_t *bits = malloc((max + 7) / 8);
	if (!bits)
		return -ENOMEM;
	if (ctx->ua->read(ctx->ua->opaque, cmd->dirty.uptr, bits, (max + 7) / 8)) {
		free(bits);
		return -EFAULT;
	}
	uint64_t count = 0;
	for (uint64_t i = 0; i < max; i++) {
		if (!(bits[i / 8] & (1u << (i % 8))))
			continue;
		/* Linux indexes the mock's slots by iova / page_size here. */
		if (mock_pt_slot_update(pt, (iova + i * psize) / psize, MOCK_PTE_DIRTY, 0))
			count++;
	}
	free(bits);
	cmd->dirty.out_nr_dirty = count;
	return iofd_ucmd_respond(uc);
}

static int test_trigger_iopf(struct iofd_ctx *ctx, struct iofd_test_cmd *cmd)
{
	struct iofd_device *dev = iofd_device_find(ctx, cmd->trigger_iopf.dev_id);
	if (!dev)
		return -ENOENT;
	if (dev->drv != &iofd_mock_driver)
		return -EINVAL;
	/* A page request reaches the fault queue of the HWPT the device's
	 * PASID is attached to (with no attachment there, the RID's, as the
	 * mock IOMMU keeps PASID tables in the guest's hands); with none, the
	 * IOMMU answers it and nobody sees it. */
	struct iofd_hwpt *hwpt = iofd_device_pasid_hwpt(dev, cmd->trigger_iopf.pasid);
	if (!hwpt)
		hwpt = dev->hwpt;
	if (!hwpt || !hwpt->fault)
		return 0;
	struct iofd_hwpt_pgfault rec = {
		.flags = IOFD_PGFAULT_FLAGS_LAST_PAGE |
			 (cmd->trigger_iopf.pasid ? IOFD_PGFAULT_FLAGS_PASID_VALID : 0),
		.dev_id = dev->obj.id,
		.pasid = cmd->trigger_iopf.pasid,
		.grpid = cmd->trigger_iopf.grpid,
		.perm = cmd->trigger_iopf.perm,
		.addr = cmd->trigger_iopf.addr,
	};
	iofd_fault_report(hwpt->fault, &rec, 1);
	return 0;
}

/* The mock device's cache entry check_dev_cache.id must hold `cache`
 * (cmd->id names the device). */
static int test_dev_check_cache(struct iofd_ctx *ctx, struct iofd_test_cmd *cmd)
{
	struct iofd_device *dev = iofd_device_find(ctx, cmd->id);
	if (!dev)
		return -ENOENT;
	uint32_t *cache = iofd_mock_dev_cache(dev);
	if (!cache || cmd->check_dev_cache.id > 3 ||
	    cache[cmd->check_dev_cache.id] != cmd->check_dev_cache.cache)
		return -EINVAL;
	return 0;
}

/* A vEVENT from the device through the vIOMMU it is attached by
 * (newest ABI: only there do vIOMMUs exist). */
static int test_trigger_vevent(struct iofd_ctx *ctx, struct iofd_test_cmd *cmd)
{
	struct iofd_device *dev = iofd_device_find(ctx, cmd->trigger_vevent.dev_id);
	if (!dev)
		return -ENOENT;
	if (dev->drv != &iofd_mock_driver)
		return -EINVAL;
	return iofd_mock_trigger_vevent(dev);
}

/* PASID_ATTACH / PASID_REPLACE / PASID_DETACH / PASID_CHECK_HWPT (Linux
 * 6.15): cmd->id is the mock device's handle (ENOENT if it is not one). */
static struct iofd_device *stdev_dev(struct iofd_ctx *ctx, uint32_t id)
{
	struct iofd_stdev *st = (struct iofd_stdev *)iofd_obj_find(ctx, id, IOFD_OBJ_SELFTEST);
	return st ? st->dev : NULL;
}

static int test_pasid_attach(struct iofd_ucmd *uc, struct iofd_test_cmd *cmd, bool replace)
{
	struct iofd_device *dev = stdev_dev(uc->ctx, cmd->id);
	if (!dev)
		return -ENOENT;
	/* Both ops share one layout: {pasid, pt_id}. */
	uint32_t pasid = cmd->pasid_attach.pasid;
	int rc = iofd_device_pasid_attach(uc->ctx, dev, pasid, &cmd->pasid_attach.pt_id, replace);
	if (rc)
		return rc;
	rc = iofd_ucmd_respond(uc);
	if (rc && !replace)
		iofd_device_pasid_detach(uc->ctx, dev, pasid);
	return rc;
}

static int test_pasid_detach(struct iofd_ctx *ctx, struct iofd_test_cmd *cmd)
{
	struct iofd_device *dev = stdev_dev(ctx, cmd->id);
	if (!dev)
		return -ENOENT;
	iofd_device_pasid_detach(ctx, dev, cmd->pasid_detach.pasid);
	return 0;
}

/* The PASID must be attached to hwpt_id (0: to nothing); EINVAL if not, or
 * if hwpt_id names something other than a HWPT. */
static int test_pasid_check_hwpt(struct iofd_ctx *ctx, struct iofd_test_cmd *cmd)
{
	struct iofd_device *dev = stdev_dev(ctx, cmd->id);
	if (!dev)
		return -ENOENT;
	struct iofd_hwpt *at = iofd_device_pasid_hwpt(dev, cmd->pasid_check.pasid);
	if (!cmd->pasid_check.hwpt_id)
		return at ? -EINVAL : 0;
	struct iofd_obj *o = iofd_obj_find(ctx, cmd->pasid_check.hwpt_id, 0);
	if (!o)
		return -ENOENT;
	if (o->type != IOFD_OBJ_HWPT_PAGING && o->type != IOFD_OBJ_HWPT_NESTED)
		return -EINVAL;
	/* Linux compares domains; here a HWPT owns its domain alone. */
	return at == (struct iofd_hwpt *)o ? 0 : -EINVAL;
}

int iofd_test_cmd(struct iofd_ucmd *uc)
{
	struct iofd_test_cmd *cmd = uc->cmd;
	switch (cmd->op) {
	case IOFD_TEST_OP_ADD_RESERVED:
		return test_add_reserved(uc->ctx, cmd);
	case IOFD_TEST_OP_MOCK_DOMAIN:
	case IOFD_TEST_OP_MOCK_DOMAIN_FLAGS:
		return test_mock_domain(uc, cmd);
	case IOFD_TEST_OP_MOCK_DOMAIN_REPLACE:
		return test_mock_domain_replace(uc, cmd);
	case IOFD_TEST_OP_MD_CHECK_MAP:
		return test_md_check_map(uc->ctx, cmd);
	case IOFD_TEST_OP_MD_CHECK_REFS:
		return test_md_check_refs(uc->ctx, cmd);
	case IOFD_TEST_OP_MD_CHECK_IOTLB:
		return test_md_check_iotlb(uc->ctx, cmd);
	case IOFD_TEST_OP_SET_TEMP_MEMORY_LIMIT:
		/* Linux shrinks its internal pin batches (never below one
		 * 12-byte element); the model has none, so the limit is only
		 * remembered. */
		if (cmd->memory_limit.limit < sizeof(unsigned long) + sizeof(uint32_t))
			return -EINVAL;
		uc->ctx->test_memory_limit = cmd->memory_limit.limit;
		return 0;
	case IOFD_TEST_OP_DIRTY:
		return test_dirty(uc, cmd);
	case IOFD_TEST_OP_TRIGGER_IOPF:
		return test_trigger_iopf(uc->ctx, cmd);
	case IOFD_TEST_OP_DEV_CHECK_CACHE:
	case IOFD_TEST_OP_TRIGGER_VEVENT:
	case IOFD_TEST_OP_PASID_ATTACH:
	case IOFD_TEST_OP_PASID_REPLACE:
	case IOFD_TEST_OP_PASID_DETACH:
	case IOFD_TEST_OP_PASID_CHECK_HWPT:
		/* Linux 6.12's selftest stops at TRIGGER_IOPF. */
		if (uc->ctx->abi == IOFD_ABI_6_12)
			return -EOPNOTSUPP;
		if (cmd->op == IOFD_TEST_OP_DEV_CHECK_CACHE)
			return test_dev_check_cache(uc->ctx, cmd);
		if (cmd->op == IOFD_TEST_OP_TRIGGER_VEVENT)
			return test_trigger_vevent(uc->ctx, cmd);
		if (cmd->op == IOFD_TEST_OP_PASID_DETACH)
			return test_pasid_detach(uc->ctx, cmd);
		if (cmd->op == IOFD_TEST_OP_PASID_CHECK_HWPT)
			return test_pasid_check_hwpt(uc->ctx, cmd);
		return test_pasid_attach(uc, cmd, cmd->op == IOFD_TEST_OP_PASID_REPLACE);
	default:
		return iofd_test_access_cmd(uc);
	}
}
