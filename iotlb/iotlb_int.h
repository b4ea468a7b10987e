/*
 * iotlb_int.h - the modelled structures as the engine uses them: the IOTLB,
 * configuration caches, paging-structure (walk) caches and the nested TLB
 * of stage-2 translations of stage-1 table addresses.  Not installed.
 */
#ifndef IMS_IOTLB_INT_H
#define IMS_IOTLB_INT_H

#include <iommusim/cache.h>

#include "engine/bits.h"
#include "engine/engine_int.h"

/* A leaf (or table) entry remembered for the "needless invalidation" check. */
struct ims_memo {
	const struct ims_pt_format *fmt;
	uint32_t flags;
	int8_t level;
	uint8_t stage; /* the configuration's stage: A/D rules differ per stage */
	uint64_t pa;
	uint64_t val; /* normalised: as if every A/D update had been made */
};

struct ims_iotlb_entry {
	uint64_t out;        /* output page base */
	uint64_t ipa;        /* nested: stage-1 output page base */
	uint32_t domain, pasid;
	uint8_t page_lg2, perm, mode;
	bool global, has_pasid, wdone;
	int8_t s1_level, s2_level;
	uint8_t s1_lg2, s2_lg2;
	struct ims_memo leaf[2]; /* stage-1 and stage-2 leaf entries */
};

struct ims_pwc_entry {
	uint64_t next_in;    /* next table address as the walk saw it (GPA in nested) */
	uint64_t next_pa;    /* its physical address */
	uint8_t perm;        /* permissions accumulated down to this entry */
	bool s2w;            /* nested: stage 2 lets the next table be written (A/D) */
	bool nested;         /* next_pa came from stage 2 (even when equal to next_in) */
	uint8_t shift;       /* input bits below this entry's index (its level's shift) */
	struct ims_memo ent;
};

struct ims_ntlb_entry {
	uint64_t hpa;        /* page base */
	uint8_t perm;
	struct ims_memo leaf;
};

struct ims_devtlb_entry {
	uint64_t out;        /* output page base */
	uint8_t page_lg2, perm;
	struct ims_memo leaf[2]; /* the translation's leaves, for the needless check */
};

struct ims_cc_entry {
	uint64_t words[8];
	uint64_t pa;
	uint8_t nwords;
	uint32_t sid, pasid, domain; /* domain = IMS_CC_NO_DOMAIN when the entry has none */
	uint32_t aux;                /* the architecture's own (e.g. FPD seen above the entry) */
	bool has_pasid;
};
#define IMS_CC_NO_DOMAIN UINT32_MAX

/*
 * Tag word b of every structure built in iotlb.c (word a is the input page
 * number or prefix): domain (source ID in the device-TLB), PASID, whether
 * there is a PASID, page size or level, stage.  invalidate.c reads it back.
 */
#define IMS_TAG_DOMAIN GENMASK(19, 0)
#define IMS_TAG_PASID GENMASK(39, 20)
#define IMS_TAG_HAS_PASID BIT(40)
#define IMS_TAG_SIZE GENMASK(47, 41)
#define IMS_TAG_STAGE GENMASK(49, 48)

/* setup.c: the "caches" and "timing" sections of a model. */
/* build = false: validate the sections but build no cache (timing still applies). */
int ims_caches_init(struct ims_iommu *iommu, json_t *root, const char *label, bool build,
		    char *err, size_t errlen);
void ims_caches_fini(struct ims_iommu *iommu);

/* Record a cache lookup in the result and charge it. */
void ims_note_lookup(struct ims_iommu *iommu, struct ims_result *res, enum ims_struct_id id,
		     int level, bool hit, unsigned probes);

/* Normalise an entry value for comparison (all A/D updates applied). */
void ims_memo_set(struct ims_memo *m, const struct ims_pt_cfg *cfg, int level, uint64_t pa,
		  uint64_t val);
bool ims_memo_still_valid(struct ims_iommu *iommu, const struct ims_memo *m);

/* iotlb.c */
/* probes: how many sets were probed (one per page size held). */
struct ims_iotlb_entry *ims_iotlb_lookup(struct ims_iommu *iommu, uint32_t domain, uint32_t pasid,
					 bool has_pasid, uint64_t iova, unsigned *probes);
void ims_iotlb_fill(struct ims_iommu *iommu, const struct ims_iotlb_entry *e, uint64_t iova);

/*
 * Configuration caches for architectures (VT-d context and PASID caches,
 * SMMUv3 STE and CD caches): look up or fill the entry for (sid, pasid).
 * Lookups are recorded in res and charged.  NULL when the structure is not
 * modelled or on a miss.
 */
struct ims_cc_entry *ims_cc_lookup(struct ims_iommu *iommu, struct ims_result *res,
				   enum ims_struct_id id, uint32_t sid, uint32_t pasid,
				   bool has_pasid);
void ims_cc_fill(struct ims_iommu *iommu, enum ims_struct_id id, uint32_t sid, uint32_t pasid,
		 bool has_pasid, const uint64_t *words, unsigned nwords, uint64_t pa,
		 uint32_t domain, uint32_t aux);

/* The device-TLB: the devices' own caches of ATS translations. */
struct ims_devtlb_entry *ims_devtlb_lookup(struct ims_iommu *iommu, uint32_t sid, uint32_t pasid,
					   bool has_pasid, uint64_t iova, unsigned *probes);
void ims_devtlb_fill(struct ims_iommu *iommu, uint32_t sid, uint32_t pasid, bool has_pasid,
		     uint64_t iova, const struct ims_devtlb_entry *e);

/* Walk caches. */
struct ims_pwc_entry *ims_pwc_lookup(struct ims_iommu *iommu, unsigned stage, unsigned level,
				     uint32_t domain, uint32_t pasid, bool has_pasid,
				     uint64_t prefix);
void ims_pwc_fill(struct ims_iommu *iommu, unsigned stage, unsigned level, uint32_t domain,
		  uint32_t pasid, bool has_pasid, uint64_t prefix, const struct ims_pwc_entry *e);
struct ims_ntlb_entry *ims_ntlb_lookup(struct ims_iommu *iommu, uint32_t domain, uint64_t gpa);
void ims_ntlb_fill(struct ims_iommu *iommu, uint32_t domain, uint64_t gpa,
		   const struct ims_ntlb_entry *e);

#endif
