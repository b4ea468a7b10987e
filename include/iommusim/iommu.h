/*
 * iommusim/iommu.h - an IOMMU instance, transactions and their results.
 *
 * Every piece of state hangs off struct ims_iommu: no globals, several
 * instances side by side.  A transaction goes through the architecture's
 * configuration fetch, then the walker (stage 1, stage 2, or nested, where
 * every stage-1 table pointer is translated by stage 2), then the
 * architecture turns any fault into its own terms and records it.
 */
#ifndef IOMMUSIM_IOMMU_H
#define IOMMUSIM_IOMMU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <iommusim/inv.h>
#include <iommusim/mem.h>
#include <iommusim/pgtable.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ims_iommu;
struct ims_model;

/* One DMA request.  It must not cross a 4 KiB boundary. */
struct ims_txn {
	uint32_t sid;      /* requester ID (bus<<8 | devfn) or StreamID */
	uint32_t pasid;    /* PASID / SubstreamID when has_pasid */
	bool has_pasid;
	uint64_t addr;     /* input (IO virtual) address */
	uint32_t size;     /* bytes, >= 1 */
	uint32_t access;   /* IMS_ACC_* */
	uint32_t flags;    /* IMS_TXN_* */
};

enum {
	/*
	 * Keep no list of reads (res->nreads stays 0): faster, for replay and
	 * benchmarks.  The outcome, statistics and cycles are the same.
	 */
	IMS_TXN_NO_TRACE = 1u << 0,
};

/* Why a memory read was made. */
enum ims_read_kind {
	IMS_READ_CONFIG = 0,   /* configuration structure (root, context, PASID, STE, CD) */
	IMS_READ_S1,           /* stage-1 table entry */
	IMS_READ_S2_FOR_TABLE, /* stage-2 entry translating a stage-1 table or config address */
	IMS_READ_S2,           /* stage-2 entry translating the final (or only) address */
	IMS_READ_CACHE,        /* not a read: a lookup in a modelled cache (label = structure) */
};

/* The modelled cache structures. */
enum ims_struct_id {
	IMS_ST_IOTLB = 0,   /* translations (combined in nested mode) */
	IMS_ST_CONTEXT,     /* VT-d context cache / SMMUv3 STE cache */
	IMS_ST_PASID,       /* VT-d PASID cache / SMMUv3 CD cache */
	IMS_ST_PWC_S1,      /* stage-1 paging-structure (walk) cache */
	IMS_ST_PWC_S2,      /* stage-2 paging-structure (walk) cache */
	IMS_ST_NESTED_TLB,  /* stage-2 translations of stage-1 table addresses */
	IMS_ST_DEVTLB,      /* the devices' ATS translation caches (device-TLB / ATC) */
	IMS_ST__COUNT
};

/* Short name ("iotlb", "context", ...) and a longer description. */
const char *ims_struct_name(enum ims_struct_id id);
const char *ims_struct_long_name(enum ims_struct_id id);

/* One table read, for explanation and timing. */
struct ims_read {
	uint8_t kind;      /* enum ims_read_kind */
	uint8_t stage;     /* 1 or 2, 0 for config */
	int8_t level;      /* page-table level, -1 for config */
	uint8_t decision;  /* walks: enum ims_pte_kind; config: arch-defined */
	uint16_t label;    /* config: arch label (what structure) */
	uint8_t fault;     /* enum ims_fault_kind raised at this read, or 0 */
	uint8_t abort;     /* the read aborted */
	uint32_t cycles;   /* what this step cost */
	uint64_t in_addr;  /* the entry's address before stage 2 (GPA/IPA when nested) */
	uint64_t pa;       /* physical address read */
	uint64_t value;    /* entry value (first word of a config structure) */
	uint64_t next;     /* what it pointed to (next table / page base / output) */
};

#define IMS_MAX_READS 96

/* A fault in neutral terms plus the architecture's own code. */
struct ims_fault {
	enum ims_fault_kind kind;
	uint8_t stage;            /* 1 or 2; 0 for configuration */
	int8_t level;             /* level of the entry at fault, -1 when n/a */
	bool on_table_fetch;      /* stage-2 fault while translating a stage-1 table
				     (or configuration) address */
	uint8_t missing;          /* permission bits that were lacking */
	uint8_t have;             /* permission bits the walk granted */
	uint64_t iova;            /* input address of the transaction */
	uint64_t ipa;             /* stage-2 input address at fault, when stage 2 */
	uint64_t fetch_addr;      /* address of the entry being fetched */
	uint32_t arch_code;       /* VT-d fault reason / SMMUv3 event type */
	const char *arch_name;    /* its name */
	bool recorded;            /* written to the architecture's fault log */
	bool suppressed;          /* fault reporting disabled by configuration */
};

/* Translation mode chosen by the configuration. */
enum ims_xmode {
	IMS_XM_ABORT = 0,
	IMS_XM_BYPASS,
	IMS_XM_S1,
	IMS_XM_S2,
	IMS_XM_NESTED,
};

const char *ims_xmode_name(enum ims_xmode mode);

/* The configuration an architecture fetched for one request. */
struct ims_xlate_cfg {
	enum ims_xmode mode;
	struct ims_pt_cfg s1, s2;
	uint32_t domain;     /* DID / VMID */
	uint32_t pasid;      /* PASID / ASID used to tag */
	bool has_pasid;
	bool fault_disable;  /* faults are not recorded (FPD, ...) */
	bool ats;            /* the device may cache translations (VT-d DTE, SMMUv3 EATS) */
	uint32_t arch_flags; /* architecture's own */
};

struct ims_result {
	bool ok;
	uint64_t out_addr;       /* physical output address */
	uint8_t page_lg2;        /* size of the translation (min of both stages) */
	uint8_t perm;            /* effective permissions (IMS_PERM_*) */
	enum ims_xmode mode;
	uint32_t domain, pasid;
	bool has_pasid;
	struct ims_fault fault;
	unsigned nreads;
	struct ims_read reads[IMS_MAX_READS];
	uint64_t ipa;            /* nested: stage-1 output (GPA/IPA) */
	const struct ims_pt_format *s1_fmt, *s2_fmt; /* formats walked, for names */
	bool global;             /* the stage-1 leaf was global */
	bool iotlb_hit;
	bool devtlb_hit;         /* served by the device's own ATC: the IOMMU saw nothing */
	bool untraced;           /* the request asked for no read list */
	uint64_t cycles;         /* the translation's modelled cost */
	uint8_t s1_page_lg2, s2_page_lg2;
};

/*
 * A configuration structure described field by field, so that software (the
 * scenario builder) can write one by field names and explanations can show
 * what each field holds.  Address fields hold the address itself (value &
 * mask); others hold the field value (shifted into place).
 */
struct ims_field_desc {
	const char *name;
	uint8_t word;      /* which 64-bit word */
	bool is_addr;
	uint64_t mask;
};

struct ims_struct_desc {
	const char *name;  /* e.g. "vtd.pasid_entry" */
	const char *spec;  /* spec section */
	uint8_t nwords;
	uint8_t nfields;
	const struct ims_field_desc *fields;
};

/*
 * The words an architecture uses, for explanations (tools/explain.c).  An
 * architecture without terms reads as VT-d.
 */
struct ims_arch_terms {
	const char *source;      /* "StreamID"; NULL: a PCI requester ID printed as B:D.F */
	const char *pasid;       /* the request's substream tag: "PASID", "SSID" */
	const char *domain;      /* the domain tag: "domain", "VMID" */
	const char *tag_pasid;   /* the stage-1 address space tag: "PASID", "ASID" */
	const char *ipa;         /* stage-2 input addresses: "GPA", "IPA" */
	const char *code;        /* the fault code: "reason", "event" */
	const char *recorded;    /* "recorded in the fault log" */
	const char *suppressed;  /* why a fault was not recorded by configuration */
};

/* Architecture plug-in: VT-d, SMMUv3 and the selftest mock are instances. */
struct ims_arch_ops {
	const char *name;
	/* Parse the model's architecture section; set *priv. Errors into err. */
	int (*init)(struct ims_iommu *iommu, const struct ims_model *model, void **priv,
		    char *err, size_t errlen);
	void (*fini)(void *priv);
	/* Program a named register (software's view). -ENOENT: unknown name. */
	int (*set_reg)(struct ims_iommu *iommu, const char *name, uint64_t value);
	/* Read a named register. -ENOENT: unknown name. */
	int (*get_reg)(struct ims_iommu *iommu, const char *name, uint64_t *value);
	/*
	 * Fetch the configuration for the request.  On a configuration fault,
	 * fill res->fault (neutral kind IMS_FK_CONFIG plus arch code) and return
	 * 0 with cfg->mode == IMS_XM_ABORT.  Negative errno only for model gaps.
	 */
	int (*fetch_config)(struct ims_iommu *iommu, const struct ims_txn *txn,
			    struct ims_xlate_cfg *cfg, struct ims_result *res);
	/*
	 * Called after every translation: turn a neutral fault into the arch's
	 * code and record it, or apply post-translation checks to a success.
	 */
	void (*finish)(struct ims_iommu *iommu, const struct ims_txn *txn,
		       const struct ims_xlate_cfg *cfg, struct ims_result *res);
	/*
	 * Decode one descriptor/command (nwords 64-bit words) into a neutral
	 * request.  Returns 0, or -EINVAL for a malformed one with the arch's
	 * error code in *arch_err.
	 */
	int (*decode_inv)(struct ims_iommu *iommu, const uint64_t *words, unsigned nwords,
			  struct ims_inv *inv, uint32_t *arch_err);
	/* Name of a configuration read label, for explanations. */
	const char *(*label_name)(unsigned label);
	/* The structures software writes, and the one a read label reads. */
	const struct ims_struct_desc *structs;
	unsigned nstructs;
	const struct ims_struct_desc *(*label_struct)(unsigned label);
	/*
	 * A walk configuration for software building tables: stage 1 or 2 with
	 * `levels` levels rooted at `root`, with this instance's capabilities.
	 */
	int (*stage_cfg)(struct ims_iommu *iommu, unsigned stage, unsigned levels, uint64_t root,
			 struct ims_pt_cfg *cfg);
	/* Optional, for explanations: the architecture's words (NULL: VT-d's). */
	const struct ims_arch_terms *terms;
	/*
	 * Optional: one line describing the record the last finish() made for
	 * res (e.g. an event record's fields).  Returns 0, or -ENOENT.
	 */
	int (*describe_fault)(struct ims_iommu *iommu, const struct ims_result *res, char *buf,
			      size_t len);
};

/* Find a structure description by name (NULL if none). */
const struct ims_struct_desc *ims_struct_find(const struct ims_iommu *iommu, const char *name);
/* Encode or read one field of a structure held in words[]. */
int ims_struct_set(const struct ims_struct_desc *sd, uint64_t *words, const char *field,
		   uint64_t value);
uint64_t ims_struct_get(const struct ims_field_desc *fd, const uint64_t *words);

/*
 * Build an instance from a model (see model.h).  The instance owns a
 * physical address space of the model's host address width.  On error
 * returns NULL and writes a message into err.
 */
struct ims_iommu *ims_iommu_new(const struct ims_model *model, char *err, size_t errlen);

/* Options for ims_iommu_new_opts(). */
enum {
	IMS_NEW_NO_CACHES = 1u << 0, /* ignore the model's "caches": every lookup walks */
};
struct ims_iommu *ims_iommu_new_opts(const struct ims_model *model, unsigned opts, char *err,
				     size_t errlen);
void ims_iommu_free(struct ims_iommu *iommu);

struct ims_mem *ims_iommu_mem(struct ims_iommu *iommu);
const struct ims_arch_ops *ims_iommu_arch(const struct ims_iommu *iommu);
void *ims_iommu_arch_priv(const struct ims_iommu *iommu);
const struct ims_model *ims_iommu_model(const struct ims_iommu *iommu);

/*
 * Write or read a register by its spec name (VT-d: RTADDR, TE, IQA, IQT,
 * QIE, FSTS, ICS, ...; SMMUv3: CR0, STRTAB_BASE, CMDQ_PROD, ...).  Writes
 * have the hardware's effect (a tail write runs the queue).  -ENOENT for an
 * unknown name, -EINVAL for a value the register refuses.
 */
int ims_iommu_set_reg(struct ims_iommu *iommu, const char *name, uint64_t value);
int ims_iommu_get_reg(struct ims_iommu *iommu, const char *name, uint64_t *value);

/*
 * Translate one transaction.  Returns 0 when the translation ran (res->ok
 * tells success or fault), -EINVAL for a malformed transaction (crossing a
 * 4 KiB boundary, no access type, zero size), -EOPNOTSUPP for a model gap.
 * A translation changes memory only for hardware A/D updates on success.
 */
int ims_translate(struct ims_iommu *iommu, const struct ims_txn *txn, struct ims_result *res);

/* Decode a descriptor/command through the architecture. */
int ims_decode_inv(struct ims_iommu *iommu, const uint64_t *words, unsigned nwords,
		   struct ims_inv *inv, uint32_t *arch_err);

/* Counters kept by every instance. */
struct ims_stats {
	uint64_t translations, faults, table_reads, config_reads, ad_updates;
	uint64_t xlate_cycles;    /* sum of ims_result.cycles */
	uint64_t invalidations;   /* neutral requests applied */
	uint64_t syncs;           /* completion waits (wait descriptor / CMD_SYNC) */
	uint64_t inv_cycles;      /* sum of their modelled cost */
};
const struct ims_stats *ims_iommu_stats(const struct ims_iommu *iommu);

/* What one invalidation did. */
struct ims_inv_result {
	uint64_t cycles;
	unsigned dropped[IMS_ST__COUNT];   /* entries invalidated per structure */
	unsigned needless[IMS_ST__COUNT];  /* of those, entries still matching memory */
};

/*
 * Apply a neutral invalidation request to every modelled structure, as the
 * hardware does when it executes the descriptor or command, and charge its
 * cost.  res may be NULL.  Returns 0.
 */
int ims_invalidate(struct ims_iommu *iommu, const struct ims_inv *inv, struct ims_inv_result *res);

/* Per-structure statistics; NULL when the structure is not modelled. */
struct ims_cache_stats;
const struct ims_cache_stats *ims_iommu_cache_stats(const struct ims_iommu *iommu,
						     enum ims_struct_id id);
/* The clock the cycle model counts in (model "timing.clock_mhz"). */
unsigned ims_iommu_clock_mhz(const struct ims_iommu *iommu);

/* Drop every cached entry and zero the cache statistics (not the others). */
void ims_iommu_reset_caches(struct ims_iommu *iommu);

#ifdef __cplusplus
}
#endif
#endif
