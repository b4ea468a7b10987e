/*
 * engine_int.h - declarations shared inside the library (not installed).
 */
#ifndef IMS_ENGINE_INT_H
#define IMS_ENGINE_INT_H

#include <stdarg.h>

#include <jansson.h>

#include <iommusim/iommu.h>
#include <iommusim/model.h>


struct ims_model {
	char *label;  /* file name or caller's label, for messages */
	char *name;
	enum ims_arch arch;
	unsigned haw;
	json_t *root;
};

/* The cycle model: what each step costs (model "timing" section). */
struct ims_timing {
	uint32_t lookup[IMS_ST__COUNT]; /* one probe of each structure */
	uint32_t mem_read;              /* one table or configuration read */
	uint32_t inv_command;           /* executing one descriptor / command */
	uint32_t inv_sync;              /* a completion wait / CMD_SYNC */
	uint32_t clock_mhz;             /* for converting cycles to time in reports */
};

struct ims_cache;

/*
 * A memo of a translation that hit in every cache it looked in: replaying
 * it (the same hits, in the same order, on the same slots) gives the same
 * result, statistics and replacement state as the lookups would, as long
 * as none of those caches changed and no register was written since
 * (checked by the epoch).  Only untraced translations use it.
 *
 * A replay only counts itself (pending) and notes when it ran (last_seq);
 * the hits are booked into the caches by ims_fast_flush() before anything
 * else looks at or changes them.  Booking the memos in the order of their
 * last replays leaves every replacement policy in the state the individual
 * lookups would have: hits do not move FIFO, round-robin or random state,
 * and LRU and tree-PLRU state depend only on the order of each way's last
 * touch.
 */
#define IMS_FAST_LG2 10
#define IMS_FAST_ENTRIES (1u << IMS_FAST_LG2)
#define IMS_FAST_HITS 4
struct ims_fast {
	bool valid, has_pasid, rhas_pasid, global, devtlb;
	uint8_t n, page_lg2, perm, mode, s1_lg2, s2_lg2;
	uint32_t sid, pasid, access, domain, rpasid;
	uint64_t vpn, epoch, out_page, ipa_page, cycles;
	uint64_t pending, last_seq;
	uint8_t id[IMS_FAST_HITS];
	uint32_t slot[IMS_FAST_HITS];
};

/* The cache hits of the translation in progress (for the memo). */
struct ims_hit_trace {
	unsigned n;
	bool clean; /* no miss, no other lookup */
	uint8_t id[IMS_FAST_HITS];
	uint32_t slot[IMS_FAST_HITS];
};

struct ims_iommu {
	const struct ims_arch_ops *arch;
	void *arch_priv;
	const struct ims_model *model;
	struct ims_mem *mem;
	struct ims_stats stats;
	struct ims_cache *cache[IMS_ST__COUNT]; /* NULL: not modelled */
	struct ims_timing timing;
	uint64_t iotlb_sizes;   /* bit n: the IOTLB holds (or held) 2^n-byte entries */
	uint64_t devtlb_sizes;  /* the same for the device-TLB */
	uint64_t reg_writes;    /* register writes, for the memo's epoch */
	struct ims_hit_trace ht;
	struct ims_fast fast[IMS_FAST_ENTRIES];
	uint64_t fast_seq;      /* replays so far */
	unsigned fast_pending;  /* memos with unbooked replays ... */
	uint16_t fast_pend[IMS_FAST_ENTRIES]; /* ... and which they are */
};

/* Book the memos' pending hits into the caches (see struct ims_fast). */
void ims_fast_flush(struct ims_iommu *iommu);

/* A hardware A/D update waiting for the translation to succeed. */
struct ims_ad_update {
	uint64_t pa, old, val;
};

#define IMS_MAX_AD (IMS_PT_MAX_LEVELS * (IMS_PT_MAX_LEVELS + 2))

/* State of one translation while it walks. */
struct ims_walk_ctx {
	struct ims_iommu *iommu;
	struct ims_result *res;
	/* Tags for the walk caches: the configuration's domain and PASID. */
	uint32_t domain, pasid;
	bool has_pasid;
	unsigned nad;
	struct ims_ad_update ad[IMS_MAX_AD];
};

struct ims_walk_out {
	uint64_t out;
	uint8_t size_lg2;
	uint8_t perm;
	uint8_t flags;   /* the leaf's IMS_PTE_F_* */
	int8_t level;    /* the leaf's level */
	uint64_t leaf_pa, leaf_val;
};

/*
 * Walk `in` through cfg.  When s2 is given, every table address of cfg is an
 * intermediate address translated through s2 first (the 2-D walk).  Returns
 * true on success; on failure res->fault holds the neutral fault.
 */
bool ims_walk(struct ims_walk_ctx *w, const struct ims_pt_cfg *cfg, const struct ims_pt_cfg *s2,
	      uint64_t in, unsigned access, enum ims_read_kind kind, struct ims_walk_out *out);

/*
 * Translate a configuration structure's intermediate address through stage
 * 2 for an architecture's configuration fetch (e.g. an SMMUv3 CD in nested
 * mode): the reads are recorded as IMS_READ_S2_FOR_TABLE and a failure sets
 * res->fault with on_table_fetch.  Hardware A/D updates it needs are made at
 * once.  `domain` tags the stage-2 walk-cache entries the walk uses and
 * fills (the configuration's DID / VMID, as for every other stage-2 walk).
 * Returns true with the physical address on success.
 */
bool ims_translate_config_addr(struct ims_iommu *iommu, struct ims_result *res,
			       const struct ims_pt_cfg *s2, uint32_t domain, uint64_t ipa,
			       uint64_t *pa);

/* Record a read in the result (silently dropped past IMS_MAX_READS). */
struct ims_read *ims_result_add_read(struct ims_result *res, enum ims_read_kind kind,
				     unsigned stage, int level, uint64_t in_addr, uint64_t pa,
				     uint64_t value);

/* Set a fault in the result (kind, stage, level, address fetched). */
void ims_result_fault(struct ims_result *res, enum ims_fault_kind kind, unsigned stage, int level,
		      uint64_t fetch_addr);

/*
 * Read nwords 64-bit configuration words (root/context/PASID entries, STEs,
 * CDs) at pa and record the read under the architecture's label; in_addr
 * is the address as software named it (an IPA when nested).  On an
 * external abort *aborted is set, buf is partly filled, and the read is
 * marked with the architecture's abort decision `abort_dec`.
 */
struct ims_read *ims_config_read(struct ims_iommu *iommu, struct ims_result *res,
				 unsigned label, uint64_t in_addr, uint64_t pa, uint64_t *buf,
				 unsigned nwords, unsigned abort_dec, bool *aborted);

/* A configuration fault with the architecture's code (VT-d fault reason,
 * SMMUv3 event) at the fetched address. */
void ims_config_fault(struct ims_result *res, unsigned arch_code, uint64_t fetch_addr);

/* The same, also marking the read that found it (decision dec).  Returns 0
 * so that config fetchers can `return ims_config_fail(...)`. */
int ims_config_fail(struct ims_read *rd, struct ims_result *res, unsigned dec,
		    unsigned arch_code, uint64_t fetch_addr);

/* JSON helpers shared by model and scenario readers. */
int ims_json_u64(json_t *v, uint64_t *out);
const char *ims_json_type_name(const json_t *v);

/* snprintf into err (NULL-safe) and return -EINVAL. */
int ims_errf(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

json_t *ims_model_json(const struct ims_model *model);

/* A named register field, for models that give registers field by field. */
struct ims_reg_field {
	const char *name;
	uint64_t mask;
};

/*
 * Parse a register of a model: a raw value (at most `width` bits) or an
 * object of named fields in the register's own encoding, optionally on top
 * of "value".  `path` names it in messages ("vtd.cap"), `regname` is the
 * spec's name ("CAP_REG").  Returns 0 or -EINVAL with a message naming the
 * label, the field and what was expected.
 */
int ims_json_reg(json_t *v, const char *label, const char *path, const char *regname,
		 unsigned width, const struct ims_reg_field *fields, size_t nfields, uint64_t *out,
		 char *err, size_t errlen);

extern const struct ims_arch_ops ims_vtd_arch;
extern const struct ims_arch_ops ims_smmu_arch;

#endif
