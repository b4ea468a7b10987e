/*
 * pgtable.c - software's side of the page-table formats: lookup, map, unmap.
 *
 * Builders (scenario steps, tests, later the iommufd host driver) write
 * tables through the same format descriptions the walker reads them with,
 * using the format's encoders.  These helpers trust their caller: they
 * record nothing and never raise architectural faults.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "engine/bits.h"
#include "engine/engine_int.h"

/*
 * The physical address of the level-`level` entry for iova in the table at
 * `table`, translated through `via` (or not).
 */
static int entry_pa(struct ims_mem *mem, const struct ims_pt_cfg *cfg, const struct ims_pt_cfg *via,
		    uint64_t table, unsigned level, uint64_t iova, uint64_t *pa)
{
	uint64_t idx = (iova >> ims_pt_level_shift(cfg, level)) &
		       ims_mask_lg2(ims_pt_level_bits(cfg, level));
	uint64_t addr = table + (idx << cfg->fmt->entry_lg2);
	unsigned lg2;

	if (!via) {
		*pa = addr;
		return 0;
	}
	return ims_pt_lookup(mem, via, NULL, addr, pa, &lg2);
}

/* The leaf that maps iova: where its entry is and what it says. */
static int find_leaf(struct ims_mem *mem, const struct ims_pt_cfg *cfg,
		     const struct ims_pt_cfg *via, uint64_t iova, uint64_t *pa, struct ims_pte *pte)
{
	uint64_t table = cfg->root;

	for (int level = (int)cfg->levels - 1; level >= 0; level--) {
		uint64_t e;
		int rc = entry_pa(mem, cfg, via, table, (unsigned)level, iova, pa);

		if (rc)
			return rc;
		if (ims_mem_read64(mem, *pa, &e) != IMS_MEM_OK)
			return -EFAULT;
		cfg->fmt->decode(cfg, (unsigned)level, e, pte);
		if (pte->kind == IMS_PTE_LEAF)
			return 0;
		if (pte->kind != IMS_PTE_TABLE || level == 0)
			return -ENOENT;
		table = pte->addr;
	}
	return -ENOENT;
}

int ims_pt_lookup(struct ims_mem *mem, const struct ims_pt_cfg *cfg, const struct ims_pt_cfg *via,
		  uint64_t iova, uint64_t *out, unsigned *size_lg2)
{
	struct ims_pte pte;
	uint64_t pa;
	int rc = find_leaf(mem, cfg, via, iova, &pa, &pte);

	if (rc)
		return rc;
	*out = (pte.addr & ~ims_mask_lg2(pte.size_lg2)) | (iova & ims_mask_lg2(pte.size_lg2));
	*size_lg2 = pte.size_lg2;
	return 0;
}

int ims_pt_map(struct ims_mem *mem, const struct ims_pt_cfg *cfg, const struct ims_pt_cfg *via,
	       uint64_t iova, uint64_t out, unsigned size_lg2, unsigned perm,
	       ims_pt_alloc_fn alloc, void *opaque)
{
	const struct ims_pt_format *fmt = cfg->fmt;
	uint64_t table = cfg->root;
	int target = -1;

	/* Which level maps pages of this size, and is a leaf allowed there? */
	for (unsigned l = 0; l < cfg->levels; l++)
		if (ims_pt_leaf_lg2(cfg, l) == size_lg2)
			target = (int)l;
	if (target < 0 || !(cfg->leaf_levels & (1u << target)) ||
	    (iova & ims_mask_lg2(size_lg2)) || (out & ims_mask_lg2(size_lg2)) ||
	    (cfg->ia_bits < 64 && (iova >> cfg->ia_bits) && !fmt->check_input))
		return -EINVAL;
	if (!fmt->encode_table || !fmt->encode_leaf)
		return -EOPNOTSUPP;

	for (int level = (int)cfg->levels - 1; level >= target; level--) {
		uint64_t pa, e;
		struct ims_pte pte;
		int rc = entry_pa(mem, cfg, via, table, (unsigned)level, iova, &pa);

		if (rc)
			return rc;
		if (level == target) {
			e = fmt->encode_leaf(cfg, (unsigned)level, out, perm);
			return ims_mem_write64(mem, pa, e) == IMS_MEM_OK ? 0 : -EFAULT;
		}
		if (ims_mem_read64(mem, pa, &e) != IMS_MEM_OK)
			return -EFAULT;
		fmt->decode(cfg, (unsigned)level, e, &pte);
		if (pte.kind == IMS_PTE_LEAF || pte.kind == IMS_PTE_BAD)
			return -EEXIST;
		if (pte.kind == IMS_PTE_EMPTY) {
			uint64_t next;

			rc = alloc(opaque, cfg->granule_lg2, &next);
			if (rc)
				return rc;
			e = fmt->encode_table(cfg, (unsigned)level, next);
			if (ims_mem_write64(mem, pa, e) != IMS_MEM_OK)
				return -EFAULT;
			fmt->decode(cfg, (unsigned)level, e, &pte);
		}
		table = pte.addr;
	}
	return -EINVAL;
}

int ims_pt_unmap(struct ims_mem *mem, const struct ims_pt_cfg *cfg, const struct ims_pt_cfg *via,
		 uint64_t iova, unsigned *size_lg2)
{
	struct ims_pte pte;
	uint64_t pa;
	int rc = find_leaf(mem, cfg, via, iova, &pa, &pte);

	if (rc)
		return rc;
	if (*size_lg2 && *size_lg2 != pte.size_lg2)
		return -EINVAL;
	/* Zero is "not present" in every format. */
	if (ims_mem_write64(mem, pa, 0) != IMS_MEM_OK)
		return -EFAULT;
	*size_lg2 = pte.size_lg2;
	return 0;
}

int ims_perm_parse(const char *s, unsigned *perm)
{
	bool user = strchr(s, 'u') != NULL;
	unsigned p = 0;

	for (; *s; s++) {
		switch (*s) {
		case 'r': p |= IMS_PERM_PR | (user ? IMS_PERM_R : 0); break;
		case 'w': p |= IMS_PERM_PW | (user ? IMS_PERM_W : 0); break;
		case 'x': p |= IMS_PERM_PX | (user ? IMS_PERM_X : 0); break;
		case 'u': case '-': break;
		default: return -EINVAL;
		}
	}
	*perm = p;
	return 0;
}
