/*
 * invalidate.c - applying a neutral invalidation request to every modelled
 * structure, with its cost and its over-invalidation.
 *
 * Matching rules (the request's fields are in iommusim/inv.h):
 *  - targets choose the structures: IOTLB, WALK (both walk caches and the
 *    nested TLB), CONTEXT, PASID;
 *  - scope ALL drops everything targeted; DOMAIN what carries the domain
 *    (only the stages named, when the request names any: a stage-1
 *    request keeps stage-2-only entries, stage-2 walk caches and the
 *    nested TLB);
 *    PASID what carries domain (when given) and PASID, sparing global
 *    entries with KEEP_GLOBAL; SOURCE the configuration of the source IDs
 *    [sid_first, sid_last], or those equal to sid_first outside the
 *    sid_ignore bits (VT-d function mask) (and PASID when given);
 *  - scope RANGE drops translations whose input range overlaps
 *    [addr_first, addr_last]: stage-1 derived entries by their input
 *    address (or whatever their address with STAGE1_ALL_ADDR), stage-2
 *    derived entries by their stage-2 input (the IPA of a nested entry);
 *    a TTL hint limits the drop to leaves of that level; LEAF keeps the
 *    walk caches; GLOBAL_ANY_PASID lets global entries match any PASID;
 *  - a stage-2 range also drops the stage-1 walk-cache entries of the
 *    domain whose next table lies in the range (they hold its translated
 *    address) and the nested-TLB entries of the range.
 *  - the device-TLB goes only with a device-TLB / ATC invalidation, by
 *    source ID, PASID and range: IOTLB invalidations leave it stale, as on
 *    hardware, where software must invalidate both.
 * An entry dropped while the memory it came from still holds what it
 * cached was dropped needlessly; both counts are kept per structure.
 * Cost: inv_command per request, plus inv_sync for a completion.
 */
#include <string.h>

#include "iotlb/iotlb_int.h"

struct inv_ctx {
	struct ims_iommu *iommu;
	const struct ims_inv *inv;
	unsigned needless;
};

static bool overlaps(uint64_t first, uint64_t last, const struct ims_inv *inv)
{
	return first <= inv->addr_last && inv->addr_first <= last;
}

static bool domain_ok(const struct ims_inv *inv, uint32_t domain)
{
	return !inv->has_domain || inv->domain == domain;
}

/* DOMAIN scope: a request naming stages reaches entries of those stages only. */
static bool stage_ok(const struct ims_inv *inv, bool s1, bool s2)
{
	uint32_t st = inv->flags & (IMS_INV_F_STAGE1 | IMS_INV_F_STAGE2);

	return !st || (s1 && (st & IMS_INV_F_STAGE1)) || (s2 && (st & IMS_INV_F_STAGE2));
}

static bool ttl_ok(const struct ims_inv *inv, int level)
{
	return !inv->ttl || level < 0 || inv->ttl == level + 1;
}

/* The request names no PASID, or this one. */
static bool pasid_ok(const struct ims_inv *inv, bool has_pasid, uint32_t pasid)
{
	return !inv->has_pasid || (has_pasid && pasid == inv->pasid);
}

/* SOURCE scope: sid in [sid_first, sid_last], or equal outside the sid_ignore bits. */
static bool sid_ok(const struct ims_inv *inv, uint32_t sid)
{
	if (inv->sid_ignore)
		return (sid & ~inv->sid_ignore) == (inv->sid_first & ~inv->sid_ignore);
	return sid >= inv->sid_first && sid <= inv->sid_last;
}

/* A translation's leaves (those it has) still hold what was cached. */
static bool leaves_still(struct ims_iommu *iommu, const struct ims_memo leaf[2])
{
	for (int i = 0; i < 2; i++)
		if (leaf[i].fmt && !ims_memo_still_valid(iommu, &leaf[i]))
			return false;
	return true;
}

static bool iotlb_match(void *opaque, const struct ims_cache_tag *tag, void *payload)
{
	struct inv_ctx *c = opaque;
	const struct ims_inv *inv = c->inv;
	const struct ims_iotlb_entry *e = payload;
	bool s1 = e->mode == IMS_XM_S1 || e->mode == IMS_XM_NESTED;
	bool s2 = e->mode == IMS_XM_S2 || e->mode == IMS_XM_NESTED;
	bool hit = false;

	switch (inv->scope) {
	case IMS_INV_SCOPE_ALL:
		hit = true;
		break;
	case IMS_INV_SCOPE_DOMAIN:
		hit = e->domain == inv->domain && stage_ok(inv, s1, s2);
		break;
	case IMS_INV_SCOPE_PASID:
		hit = domain_ok(inv, e->domain) && e->has_pasid && e->pasid == inv->pasid &&
		      !((inv->flags & IMS_INV_F_KEEP_GLOBAL) && e->global);
		break;
	case IMS_INV_SCOPE_RANGE: {
		uint64_t size = UINT64_C(1) << e->page_lg2;
		uint64_t iova = tag->a << e->page_lg2;

		if (!domain_ok(inv, e->domain))
			break;
		if (!pasid_ok(inv, e->has_pasid, e->pasid) &&
		    !((inv->flags & IMS_INV_F_GLOBAL_ANY_PASID) && e->global))
			break;
		if (s1 && (inv->flags & IMS_INV_F_STAGE1))
			hit = (inv->flags & IMS_INV_F_STAGE1_ALL_ADDR) ||
			      (overlaps(iova, iova + size - 1, inv) && ttl_ok(inv, e->s1_level));
		if (!hit && s2 && (inv->flags & IMS_INV_F_STAGE2)) {
			uint64_t in = e->mode == IMS_XM_NESTED ? e->ipa : iova;

			hit = overlaps(in, in + size - 1, inv) && ttl_ok(inv, e->s2_level);
		}
		break;
	}
	default:
		break;
	}
	if (hit)
		c->needless += e->mode >= IMS_XM_S1 && leaves_still(c->iommu, e->leaf);
	return hit;
}

static bool pwc_match(void *opaque, const struct ims_cache_tag *tag, void *payload)
{
	struct inv_ctx *c = opaque;
	const struct ims_inv *inv = c->inv;
	const struct ims_pwc_entry *e = payload;
	uint32_t domain = (uint32_t)FIELD_GET(IMS_TAG_DOMAIN, tag->b);
	uint32_t pasid = (uint32_t)FIELD_GET(IMS_TAG_PASID, tag->b);
	bool has_pasid = tag->b & IMS_TAG_HAS_PASID;
	unsigned stage = (unsigned)FIELD_GET(IMS_TAG_STAGE, tag->b);
	bool hit = false;

	switch (inv->scope) {
	case IMS_INV_SCOPE_ALL:
		hit = true;
		break;
	case IMS_INV_SCOPE_DOMAIN:
		hit = domain == inv->domain && stage_ok(inv, stage == 1, stage == 2);
		break;
	case IMS_INV_SCOPE_PASID:
		hit = stage == 1 && domain_ok(inv, domain) && has_pasid && pasid == inv->pasid;
		break;
	case IMS_INV_SCOPE_RANGE: {
		/* The entry translates addresses whose prefix above `shift` is tag->a. */
		uint64_t first = e->shift >= 64 ? 0 : tag->a << e->shift;
		uint64_t last = first | ims_mask_lg2(e->shift);

		if (!domain_ok(inv, domain) || (inv->flags & IMS_INV_F_LEAF))
			break;
		if (stage == 1 && (inv->flags & IMS_INV_F_STAGE1)) {
			if (!pasid_ok(inv, has_pasid, pasid))
				break;
			hit = (inv->flags & IMS_INV_F_STAGE1_ALL_ADDR) || overlaps(first, last, inv);
		}
		if (stage == 2 && (inv->flags & IMS_INV_F_STAGE2))
			hit = overlaps(first, last, inv);
		/*
		 * A stage-1 entry holding a table address stage 2 translated
		 * (an identity stage 2 translates too: compare no addresses).
		 */
		if (!hit && stage == 1 && (inv->flags & IMS_INV_F_STAGE2) && e->nested)
			hit = overlaps(e->next_in, e->next_in + 0xfff, inv);
		break;
	}
	default:
		break;
	}
	if (hit)
		c->needless += ims_memo_still_valid(c->iommu, &e->ent);
	return hit;
}

static bool ntlb_match(void *opaque, const struct ims_cache_tag *tag, void *payload)
{
	struct inv_ctx *c = opaque;
	const struct ims_inv *inv = c->inv;
	const struct ims_ntlb_entry *e = payload;
	uint32_t domain = (uint32_t)FIELD_GET(IMS_TAG_DOMAIN, tag->b);
	uint64_t gpa = tag->a << 12;
	bool hit = false;

	switch (inv->scope) {
	case IMS_INV_SCOPE_ALL:
		hit = true;
		break;
	case IMS_INV_SCOPE_DOMAIN:
		hit = domain == inv->domain && stage_ok(inv, false, true);
		break;
	case IMS_INV_SCOPE_RANGE:
		hit = domain_ok(inv, domain) && (inv->flags & IMS_INV_F_STAGE2) &&
		      overlaps(gpa, gpa + 0xfff, inv);
		break;
	default:
		break;
	}
	if (hit)
		c->needless += ims_memo_still_valid(c->iommu, &e->leaf);
	return hit;
}

/* Device-TLB entries: by source ID (the tag's domain field), PASID and range. */
static bool devtlb_match(void *opaque, const struct ims_cache_tag *tag, void *payload)
{
	struct inv_ctx *c = opaque;
	const struct ims_inv *inv = c->inv;
	const struct ims_devtlb_entry *e = payload;
	uint32_t sid = (uint32_t)FIELD_GET(IMS_TAG_DOMAIN, tag->b);
	uint32_t pasid = (uint32_t)FIELD_GET(IMS_TAG_PASID, tag->b);
	bool has_pasid = tag->b & IMS_TAG_HAS_PASID, hit = false;
	uint64_t iova = tag->a << e->page_lg2;

	switch (inv->scope) {
	case IMS_INV_SCOPE_ALL:
		hit = true;
		break;
	case IMS_INV_SCOPE_SOURCE:
	case IMS_INV_SCOPE_RANGE:
		hit = sid_ok(inv, sid) && pasid_ok(inv, has_pasid, pasid) &&
		      (inv->scope == IMS_INV_SCOPE_SOURCE ||
		       overlaps(iova, iova + (UINT64_C(1) << e->page_lg2) - 1, inv));
		break;
	default:
		break;
	}
	if (hit)
		c->needless += e->leaf[0].fmt && leaves_still(c->iommu, e->leaf);
	return hit;
}

static bool cc_still(struct ims_iommu *iommu, const struct ims_cc_entry *e)
{
	uint64_t w;

	for (unsigned i = 0; i < e->nwords; i++)
		if (ims_mem_read64(iommu->mem, e->pa + 8 * i, &w) != IMS_MEM_OK || w != e->words[i])
			return false;
	return true;
}

static bool cc_match(void *opaque, const struct ims_cache_tag *tag, void *payload)
{
	struct inv_ctx *c = opaque;
	const struct ims_inv *inv = c->inv;
	const struct ims_cc_entry *e = payload;
	bool hit = false;

	(void)tag;
	switch (inv->scope) {
	case IMS_INV_SCOPE_ALL:
		hit = true;
		break;
	case IMS_INV_SCOPE_DOMAIN:
		hit = e->domain == inv->domain;
		break;
	case IMS_INV_SCOPE_PASID:
		hit = domain_ok(inv, e->domain) && e->has_pasid && e->pasid == inv->pasid;
		break;
	case IMS_INV_SCOPE_SOURCE:
		hit = sid_ok(inv, e->sid) && pasid_ok(inv, e->has_pasid, e->pasid);
		break;
	default:
		break;
	}
	if (hit)
		c->needless += cc_still(c->iommu, e);
	return hit;
}

static void apply(struct ims_iommu *iommu, const struct ims_inv *inv, enum ims_struct_id id,
		  bool (*fn)(void *, const struct ims_cache_tag *, void *),
		  struct ims_inv_result *res)
{
	struct inv_ctx c = { .iommu = iommu, .inv = inv };
	struct ims_cache *cache = iommu->cache[id];
	unsigned n;

	if (!cache)
		return;
	n = ims_cache_scan(cache, fn, &c);
	ims_cache_stats(cache)->needless += c.needless;
	if (res) {
		res->dropped[id] += n;
		res->needless[id] += c.needless;
	}
}

int ims_invalidate(struct ims_iommu *iommu, const struct ims_inv *inv, struct ims_inv_result *res)
{
	uint64_t cycles = iommu->timing.inv_command;

	ims_fast_flush(iommu);
	if (res)
		memset(res, 0, sizeof(*res));
	if (inv->scope != IMS_INV_SCOPE_NONE) {
		if (inv->targets & IMS_INV_T_IOTLB)
			apply(iommu, inv, IMS_ST_IOTLB, iotlb_match, res);
		if (inv->targets & (IMS_INV_T_WALK | IMS_INV_T_IOTLB)) {
			/* The walk caches go with the IOTLB unless the request keeps them. */
			apply(iommu, inv, IMS_ST_PWC_S1, pwc_match, res);
			apply(iommu, inv, IMS_ST_PWC_S2, pwc_match, res);
			apply(iommu, inv, IMS_ST_NESTED_TLB, ntlb_match, res);
		}
		if (inv->targets & IMS_INV_T_CONTEXT)
			apply(iommu, inv, IMS_ST_CONTEXT, cc_match, res);
		if (inv->targets & IMS_INV_T_PASID)
			apply(iommu, inv, IMS_ST_PASID, cc_match, res);
		/* The devices' ATCs go only with a device-TLB invalidation. */
		if (inv->targets & IMS_INV_T_DEVTLB)
			apply(iommu, inv, IMS_ST_DEVTLB, devtlb_match, res);
	}
	if (inv->targets & IMS_INV_T_SYNC) {
		cycles += iommu->timing.inv_sync;
		iommu->stats.syncs++;
	}
	iommu->stats.invalidations++;
	iommu->stats.inv_cycles += cycles;
	if (res)
		res->cycles = cycles;
	return 0;
}
