/*
 * iommusim/pgtable.h - page-table formats and the format-agnostic walker.
 *
 * A format is a small table of facts plus one decoder: given an entry read at
 * a level, say whether it is empty, a pointer to the next table, a leaf (page
 * or block) or malformed, with the next address, the size and the
 * permissions it grants.  The walker knows no format; a format knows no
 * walker.  Per-configuration facts (root, number of levels, granule, address
 * widths, the enable bits that change decoding) live in struct ims_pt_cfg,
 * filled by the architecture from its configuration structures.
 *
 * Levels: level 0 is the leaf table in every format; the root is level
 * `levels - 1`.  Each format file maps the spec's level names to ours.
 */
#ifndef IOMMUSIM_PGTABLE_H
#define IOMMUSIM_PGTABLE_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define IMS_PT_MAX_LEVELS 6

/* Neutral permission bits; unprivileged and privileged kept apart. */
enum {
	IMS_PERM_R = 1u << 0,  /* unprivileged (user) read */
	IMS_PERM_W = 1u << 1,  /* unprivileged write */
	IMS_PERM_X = 1u << 2,  /* unprivileged execute */
	IMS_PERM_PR = 1u << 3, /* privileged (supervisor) read */
	IMS_PERM_PW = 1u << 4, /* privileged write */
	IMS_PERM_PX = 1u << 5, /* privileged execute */
	IMS_PERM_ALL = 0x3f,
};

/* Request attributes of a transaction (bit set). */
enum {
	IMS_ACC_READ = 1u << 0,
	IMS_ACC_WRITE = 1u << 1,
	IMS_ACC_EXEC = 1u << 2,
	IMS_ACC_PRIV = 1u << 3, /* privileged / supervisor request */
};

/*
 * Parse permission letters as scenarios and traces write them: "r", "w",
 * "x" grant privileged access, and with "u" unprivileged access too; "-"
 * is nothing.  Returns 0 and sets *perm (IMS_PERM_*), or -EINVAL.
 */
int ims_perm_parse(const char *s, unsigned *perm);

/* The permission bits an access needs. */
static inline unsigned ims_perm_needed(unsigned access)
{
	unsigned p = 0;
	bool priv = access & IMS_ACC_PRIV;

	if (access & IMS_ACC_READ)
		p |= priv ? IMS_PERM_PR : IMS_PERM_R;
	if (access & IMS_ACC_WRITE)
		p |= priv ? IMS_PERM_PW : IMS_PERM_W;
	if (access & IMS_ACC_EXEC)
		p |= priv ? IMS_PERM_PX : IMS_PERM_X;
	return p;
}

/* Neutral fault kinds; each architecture turns them into its own codes. */
enum ims_fault_kind {
	IMS_FK_NONE = 0,
	IMS_FK_TRANSLATION,   /* entry not present / invalid */
	IMS_FK_PERMISSION,    /* access not allowed by the entries' permissions */
	IMS_FK_RESERVED,      /* reserved bits set or malformed entry */
	IMS_FK_ADDR_SIZE,     /* input beyond the walk's range, or output beyond OA */
	IMS_FK_ACCESS_FLAG,   /* access flag clear and not updated by hardware */
	IMS_FK_EXT_ABORT,     /* a table read or write aborted */
	IMS_FK_NON_CANONICAL, /* input address not canonical (x86 first stage) */
	IMS_FK_AD_UPDATE,     /* a required A/D update could not be made */
	IMS_FK_CONFIG,        /* configuration structure fault (arch code says which) */
	IMS_FK_ABORT,         /* configuration says abort/block */
	IMS_FK__COUNT
};

const char *ims_fault_kind_name(enum ims_fault_kind kind);

enum ims_pte_kind {
	IMS_PTE_EMPTY = 0, /* not present */
	IMS_PTE_TABLE,     /* points to the next-level table */
	IMS_PTE_LEAF,      /* maps a page or block */
	IMS_PTE_BAD,       /* malformed: `fault` says how */
};

enum {
	IMS_PTE_F_CONTIG = 1u << 0, /* contiguous hint (VMSA) */
	IMS_PTE_F_GLOBAL = 1u << 1,
};

/* What a decoder says about one entry. */
struct ims_pte {
	enum ims_pte_kind kind;
	uint8_t size_lg2;  /* LEAF: log2 of the page or block size */
	uint8_t perm;      /* permissions this entry grants (AND-ed down the walk) */
	uint8_t flags;     /* IMS_PTE_F_* */
	uint8_t fault;     /* BAD: enum ims_fault_kind (RESERVED, ACCESS_FLAG, ...) */
	uint64_t addr;     /* TABLE: next table; LEAF: output base of the page */
};

struct ims_pt_cfg;

struct ims_pt_format {
	const char *name;
	uint8_t entry_lg2; /* log2 of the entry size in bytes (3) */
	/* Decode `entry` read at `level` under `cfg`. Never fails. */
	void (*decode)(const struct ims_pt_cfg *cfg, unsigned level, uint64_t entry,
		       struct ims_pte *out);
	/*
	 * Optional input check before the walk (e.g. canonical form); returns a
	 * fault kind or IMS_FK_NONE.  Without it the input must be below
	 * 2^ia_bits (IMS_FK_ADDR_SIZE otherwise).
	 */
	enum ims_fault_kind (*check_input)(const struct ims_pt_cfg *cfg, uint64_t in);
	/* Optional: adjust the AND-ed permissions of a complete walk. */
	unsigned (*finish_perm)(const struct ims_pt_cfg *cfg, unsigned perm);
	/*
	 * Optional hardware A/D update: the value the entry must hold after an
	 * access of kind `access` that used it (leaf tells which), or `entry`
	 * itself when nothing changes.
	 */
	uint64_t (*update_ad)(const struct ims_pt_cfg *cfg, unsigned level, uint64_t entry,
			      bool leaf, unsigned access);
	/* Encoders used by software that builds tables (builders, host driver). */
	uint64_t (*encode_table)(const struct ims_pt_cfg *cfg, unsigned level, uint64_t table);
	uint64_t (*encode_leaf)(const struct ims_pt_cfg *cfg, unsigned level, uint64_t out,
				unsigned perm);
	/* The spec's name for an entry at `level` (e.g. "PML4E"). */
	const char *(*level_name)(const struct ims_pt_cfg *cfg, unsigned level);
};

/* One walk configuration: a format and the facts of this instance of it. */
struct ims_pt_cfg {
	const struct ims_pt_format *fmt;
	uint64_t root;        /* root table address (in the table-fetch address space) */
	uint8_t levels;       /* levels walked; the root is level levels-1 */
	uint8_t granule_lg2;  /* translation granule (table size unless concatenated) */
	uint8_t ia_bits;      /* input address bits translated */
	uint8_t oa_bits;      /* output addresses must be below 2^oa_bits */
	uint8_t stage;        /* 1 or 2, for reports */
	uint32_t leaf_levels; /* bit n set: a leaf is allowed at level n */
	uint32_t flags;       /* format-specific enable bits */
	uint32_t tag;         /* format-specific extra (e.g. architecture variant) */
};

/* Bit position where the index of `level` starts. */
static inline unsigned ims_pt_level_shift(const struct ims_pt_cfg *cfg, unsigned level)
{
	unsigned stride = cfg->granule_lg2 - cfg->fmt->entry_lg2;

	return cfg->granule_lg2 + level * stride;
}

/* Number of index bits used at `level` (the root may be wider or narrower). */
static inline unsigned ims_pt_level_bits(const struct ims_pt_cfg *cfg, unsigned level)
{
	unsigned stride = cfg->granule_lg2 - cfg->fmt->entry_lg2;

	if (level + 1u == cfg->levels) {
		unsigned shift = ims_pt_level_shift(cfg, level);

		return cfg->ia_bits > shift ? cfg->ia_bits - shift : 0;
	}
	return stride;
}

/* Page size mapped by a leaf at `level`. */
static inline unsigned ims_pt_leaf_lg2(const struct ims_pt_cfg *cfg, unsigned level)
{
	return ims_pt_level_shift(cfg, level);
}

struct ims_mem;

/* Allocate one zeroed table of 2^lg2 bytes in the table-fetch address space. */
typedef int (*ims_pt_alloc_fn)(void *opaque, unsigned lg2, uint64_t *addr);

/*
 * Software's side of a format: build a mapping [iova, iova + 2^size_lg2) ->
 * out with permissions perm (IMS_PERM_*), allocating missing tables with
 * alloc.  When via is given, table addresses of cfg are translated through
 * via (a stage-2 configuration) before they are written, as a guest's tables
 * live in guest-physical memory.  A leaf at the target level replaces what
 * was there; a leaf found above it is refused with -EEXIST.  Returns 0 or a
 * negative errno (-EFAULT when memory is missing).
 */
int ims_pt_map(struct ims_mem *mem, const struct ims_pt_cfg *cfg, const struct ims_pt_cfg *via,
	       uint64_t iova, uint64_t out, unsigned size_lg2, unsigned perm,
	       ims_pt_alloc_fn alloc, void *opaque);

/*
 * Look up iova in cfg the way software reads its own tables: no permission
 * checks, no A/D updates, no fault records.  Returns 0 with the output
 * address and page size, -ENOENT when unmapped or malformed, -EFAULT when
 * memory is missing.
 */
int ims_pt_lookup(struct ims_mem *mem, const struct ims_pt_cfg *cfg,
		  const struct ims_pt_cfg *via, uint64_t iova, uint64_t *out,
		  unsigned *size_lg2);

/*
 * Clear the leaf that maps iova, as software unmapping does: the entry
 * becomes zero (not present in every format); tables are kept.  *size_lg2
 * on entry: the leaf size expected (0: whatever maps iova); on return: the
 * size of the leaf cleared.  Returns 0, -ENOENT when iova is not mapped,
 * -EINVAL when it is mapped by a leaf of another size (nothing changes),
 * -EFAULT when memory is missing.
 */
int ims_pt_unmap(struct ims_mem *mem, const struct ims_pt_cfg *cfg, const struct ims_pt_cfg *via,
		 uint64_t iova, unsigned *size_lg2);

#ifdef __cplusplus
}
#endif
#endif
