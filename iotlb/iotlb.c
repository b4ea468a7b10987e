/*
 * iotlb.c - tags and set keys of the modelled structures.
 *
 * IOTLB: one entry per translation, tagged by domain (DID / VMID), PASID
 * (or ASID), page size and input page number.  A lookup probes one set per
 * page size the IOTLB has held, smallest first, so a 2 MiB or 1 GiB entry is
 * found from any 4 KiB page it covers whatever the geometry (the "multiple
 * probes" design; each probe is charged as a lookup).
 *
 * Walk caches: one entry per non-leaf entry, tagged by stage, level, domain,
 * PASID (stage 1) and the input-address prefix the entry translates; the
 * payload is the next table's address (host-physical in nested mode, so a
 * hit skips the stage-2 walks of the levels above) and the permissions
 * accumulated so far.
 *
 * Nested TLB: stage-2 translations of stage-1 table addresses, tagged by
 * domain and guest page.
 *
 * Configuration caches: entries tagged by source ID and, for the PASID / CD
 * cache, PASID; the payload is the structure's words as read.
 *
 * Tag word b packs domain, PASID, size or level and stage (IMS_TAG_* in
 * iotlb_int.h).
 */
#include <string.h>

#include "iotlb/iotlb_int.h"

static uint64_t tag_b(uint32_t domain, uint32_t pasid, bool has_pasid, unsigned size,
		      unsigned stage)
{
	return FIELD_PREP(IMS_TAG_DOMAIN, domain) |
	       FIELD_PREP(IMS_TAG_PASID, has_pasid ? pasid : 0) |
	       (has_pasid ? IMS_TAG_HAS_PASID : 0) | FIELD_PREP(IMS_TAG_SIZE, size) |
	       FIELD_PREP(IMS_TAG_STAGE, stage);
}

/* Mix the tag into the set key so that domains do not share sets in lockstep. */
static uint64_t set_key(uint64_t a, uint64_t b)
{
	return a ^ (b * UINT64_C(0xff51afd7ed558ccd));
}

/*
 * The per-size probing of the IOTLB and the device-TLB: one set per page
 * size in `sizes` (bit n: 2^n-byte entries held), smallest first.  One
 * lookup, however many sets it probes: counted once, hit or miss.
 */
static inline __attribute__((always_inline)) void *
lookup_sized(struct ims_cache *c, uint64_t sizes, uint32_t domain, uint32_t pasid, bool has_pasid,
	     unsigned stage, uint64_t iova, unsigned *probes)
{
	*probes = 0;
	while (sizes) {
		unsigned lg2 = (unsigned)__builtin_ctzll(sizes);
		struct ims_cache_tag t = { iova >> lg2, tag_b(domain, pasid, has_pasid, lg2, stage) };
		long slot = ims_cache_probe(c, set_key(t.a, t.b), &t);

		++*probes;
		if (slot >= 0)
			return ims_cache_hit(c, (uint32_t)slot);
		sizes &= sizes - 1;
	}
	ims_cache_miss(c);
	return NULL;
}

/* The payload slot for a 2^lg2-byte entry at iova; records the size in *sizes. */
static void *fill_sized(struct ims_cache *c, uint64_t *sizes, uint32_t domain, uint32_t pasid,
			bool has_pasid, unsigned stage, uint64_t iova, unsigned lg2)
{
	struct ims_cache_tag t = { iova >> lg2, tag_b(domain, pasid, has_pasid, lg2, stage) };
	bool evicted;

	*sizes |= UINT64_C(1) << lg2;
	return ims_cache_fill(c, set_key(t.a, t.b), &t, &evicted, NULL);
}

struct ims_iotlb_entry *ims_iotlb_lookup(struct ims_iommu *iommu, uint32_t domain, uint32_t pasid,
					 bool has_pasid, uint64_t iova, unsigned *probes)
{
	return lookup_sized(iommu->cache[IMS_ST_IOTLB], iommu->iotlb_sizes, domain, pasid,
			    has_pasid, 0, iova, probes);
}

void ims_iotlb_fill(struct ims_iommu *iommu, const struct ims_iotlb_entry *src, uint64_t iova)
{
	*(struct ims_iotlb_entry *)fill_sized(iommu->cache[IMS_ST_IOTLB], &iommu->iotlb_sizes,
					      src->domain, src->pasid, src->has_pasid, 0, iova,
					      src->page_lg2) = *src;
}

/*
 * Device-TLB: tagged by source ID (in the domain field of the tag: an ATC
 * belongs to one device), PASID and page size; probed per size like the
 * IOTLB.
 */
struct ims_devtlb_entry *ims_devtlb_lookup(struct ims_iommu *iommu, uint32_t sid, uint32_t pasid,
					   bool has_pasid, uint64_t iova, unsigned *probes)
{
	return lookup_sized(iommu->cache[IMS_ST_DEVTLB], iommu->devtlb_sizes, sid, pasid,
			    has_pasid, 3, iova, probes);
}

void ims_devtlb_fill(struct ims_iommu *iommu, uint32_t sid, uint32_t pasid, bool has_pasid,
		     uint64_t iova, const struct ims_devtlb_entry *src)
{
	*(struct ims_devtlb_entry *)fill_sized(iommu->cache[IMS_ST_DEVTLB], &iommu->devtlb_sizes,
					       sid, pasid, has_pasid, 3, iova, src->page_lg2) = *src;
}

struct ims_cc_entry *ims_cc_lookup(struct ims_iommu *iommu, struct ims_result *res,
				   enum ims_struct_id id, uint32_t sid, uint32_t pasid,
				   bool has_pasid)
{
	struct ims_cache *c = iommu->cache[id];
	struct ims_cache_tag t = { sid, tag_b(0, pasid, has_pasid, 0, 0) };
	struct ims_cc_entry *e;

	if (!c)
		return NULL;
	e = ims_cache_lookup(c, set_key(t.a, t.b), &t);
	ims_note_lookup(iommu, res, id, -1, e != NULL, 1);
	return e;
}

void ims_cc_fill(struct ims_iommu *iommu, enum ims_struct_id id, uint32_t sid, uint32_t pasid,
		 bool has_pasid, const uint64_t *words, unsigned nwords, uint64_t pa,
		 uint32_t domain, uint32_t aux)
{
	struct ims_cache *c = iommu->cache[id];
	struct ims_cache_tag t = { sid, tag_b(0, pasid, has_pasid, 0, 0) };
	struct ims_cc_entry *e;
	bool evicted;

	if (!c || nwords > 8)
		return;
	e = ims_cache_fill(c, set_key(t.a, t.b), &t, &evicted, NULL);
	memcpy(e->words, words, 8 * nwords);
	e->nwords = (uint8_t)nwords;
	e->pa = pa;
	e->sid = sid;
	e->pasid = pasid;
	e->has_pasid = has_pasid;
	e->domain = domain;
	e->aux = aux;
}

static struct ims_cache *pwc(struct ims_iommu *iommu, unsigned stage)
{
	return iommu->cache[stage == 1 ? IMS_ST_PWC_S1 : IMS_ST_PWC_S2];
}

struct ims_pwc_entry *ims_pwc_lookup(struct ims_iommu *iommu, unsigned stage, unsigned level,
				     uint32_t domain, uint32_t pasid, bool has_pasid,
				     uint64_t prefix)
{
	struct ims_cache *c = pwc(iommu, stage);
	struct ims_cache_tag t = { prefix, tag_b(domain, pasid, has_pasid, level, stage) };

	return c ? ims_cache_lookup(c, set_key(t.a, t.b), &t) : NULL;
}

void ims_pwc_fill(struct ims_iommu *iommu, unsigned stage, unsigned level, uint32_t domain,
		  uint32_t pasid, bool has_pasid, uint64_t prefix, const struct ims_pwc_entry *src)
{
	struct ims_cache *c = pwc(iommu, stage);
	struct ims_cache_tag t = { prefix, tag_b(domain, pasid, has_pasid, level, stage) };
	bool evicted;

	if (c)
		*(struct ims_pwc_entry *)ims_cache_fill(c, set_key(t.a, t.b), &t, &evicted, NULL) =
			*src;
}

struct ims_ntlb_entry *ims_ntlb_lookup(struct ims_iommu *iommu, uint32_t domain, uint64_t gpa)
{
	struct ims_cache *c = iommu->cache[IMS_ST_NESTED_TLB];
	struct ims_cache_tag t = { gpa >> 12, tag_b(domain, 0, false, 12, 2) };

	return c ? ims_cache_lookup(c, set_key(t.a, t.b), &t) : NULL;
}

void ims_ntlb_fill(struct ims_iommu *iommu, uint32_t domain, uint64_t gpa,
		   const struct ims_ntlb_entry *src)
{
	struct ims_cache *c = iommu->cache[IMS_ST_NESTED_TLB];
	struct ims_cache_tag t = { gpa >> 12, tag_b(domain, 0, false, 12, 2) };
	bool evicted;

	if (c)
		*(struct ims_ntlb_entry *)ims_cache_fill(c, set_key(t.a, t.b), &t, &evicted, NULL) =
			*src;
}
