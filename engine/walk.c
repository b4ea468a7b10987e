/*
 * walk.c - the format-agnostic page-table walker and the nested (2-D) walk.
 *
 * One loop serves every format: at each level it computes the index from the
 * format's geometry, fetches the entry (after translating the table address
 * through stage 2 when nested), asks the format's decoder what the entry is,
 * and either descends, stops on a leaf, or raises a neutral fault.  A walk
 * visits at most `levels` entries per stage and a nested walk at most
 * levels1 * (levels2 + 1) + levels2, so a table that points at itself or
 * loops cannot hang: it is simply read again one level lower.
 *
 * Hardware A/D updates are collected during the walk and written by the
 * caller only when the whole translation succeeds, so a faulting
 * translation changes nothing.
 */
#include <string.h>

#include "engine/bits.h"
#include "engine/engine_int.h"
#include "iotlb/iotlb_int.h"

struct ims_read *ims_result_add_read(struct ims_result *res, enum ims_read_kind kind,
				     unsigned stage, int level, uint64_t in_addr, uint64_t pa,
				     uint64_t value)
{
	struct ims_read *r;

	if (res->nreads >= IMS_MAX_READS || res->untraced)
		return NULL;
	r = &res->reads[res->nreads++];
	memset(r, 0, sizeof(*r));
	r->kind = (uint8_t)kind;
	r->stage = (uint8_t)stage;
	r->level = (int8_t)level;
	r->in_addr = in_addr;
	r->pa = pa;
	r->value = value;
	return r;
}

void ims_result_fault(struct ims_result *res, enum ims_fault_kind kind, unsigned stage, int level,
		      uint64_t fetch_addr)
{
	uint64_t iova = res->fault.iova;

	memset(&res->fault, 0, sizeof(res->fault));
	res->fault.kind = kind;
	res->fault.stage = (uint8_t)stage;
	res->fault.level = (int8_t)level;
	res->fault.fetch_addr = fetch_addr;
	res->fault.iova = iova;
	res->ok = false;
}

struct ims_read *ims_config_read(struct ims_iommu *iommu, struct ims_result *res,
				 unsigned label, uint64_t in_addr, uint64_t pa, uint64_t *buf,
				 unsigned nwords, unsigned abort_dec, bool *aborted)
{
	struct ims_read *rd;

	*aborted = false;
	for (unsigned i = 0; i < nwords; i++) {
		if (ims_mem_read64(iommu->mem, pa + 8 * i, &buf[i]) != IMS_MEM_OK) {
			*aborted = true;
			break;
		}
	}
	iommu->stats.config_reads++;
	rd = ims_result_add_read(res, IMS_READ_CONFIG, 0, -1, in_addr, pa, *aborted ? 0 : buf[0]);
	if (rd) {
		rd->label = (uint16_t)label;
		rd->abort = *aborted;
		rd->decision = *aborted ? (uint8_t)abort_dec : 0;
	}
	return rd;
}

void ims_config_fault(struct ims_result *res, unsigned arch_code, uint64_t fetch_addr)
{
	ims_result_fault(res, IMS_FK_CONFIG, 0, -1, fetch_addr);
	res->fault.arch_code = arch_code;
}

int ims_config_fail(struct ims_read *rd, struct ims_result *res, unsigned dec,
		    unsigned arch_code, uint64_t fetch_addr)
{
	if (rd) {
		rd->decision = (uint8_t)dec;
		rd->fault = IMS_FK_CONFIG;
	}
	ims_config_fault(res, arch_code, fetch_addr);
	return 0;
}

static bool queue_ad(struct ims_walk_ctx *w, uint64_t pa, uint64_t old, uint64_t val)
{
	for (unsigned i = 0; i < w->nad; i++) {
		if (w->ad[i].pa == pa) {
			w->ad[i].val |= val;
			return true;
		}
	}
	if (w->nad == IMS_MAX_AD)
		return false;
	w->ad[w->nad++] = (struct ims_ad_update){ .pa = pa, .old = old, .val = val };
	return true;
}

/* Input check: the format's own, or "below 2^ia_bits". */
static enum ims_fault_kind check_input(const struct ims_pt_cfg *cfg, uint64_t in)
{
	if (cfg->fmt->check_input)
		return cfg->fmt->check_input(cfg, in);
	if (cfg->ia_bits < 64 && (in >> cfg->ia_bits))
		return IMS_FK_ADDR_SIZE;
	return IMS_FK_NONE;
}

/* Raise a fault of this walk; a stage-2 walk also reports its input address. */
static void walk_fault(struct ims_result *res, const struct ims_pt_cfg *cfg,
		       enum ims_fault_kind fk, int level, uint64_t fetch_addr, uint64_t in)
{
	ims_result_fault(res, fk, cfg->stage, level, fetch_addr);
	if (cfg->stage == 2)
		res->fault.ipa = in;
}

/* Translate a stage-1 table address through stage 2, via the nested TLB. */
static bool table_addr(struct ims_walk_ctx *w, const struct ims_pt_cfg *s2, uint64_t gpa,
		       uint64_t *pa, bool *s2w)
{
	struct ims_iommu *iommu = w->iommu;
	struct ims_ntlb_entry *ne;
	struct ims_walk_out o2;

	if (iommu->cache[IMS_ST_NESTED_TLB]) {
		ne = ims_ntlb_lookup(iommu, w->domain, gpa);
		ims_note_lookup(iommu, w->res, IMS_ST_NESTED_TLB, -1, ne != NULL, 1);
		if (ne) {
			*pa = ne->hpa | (gpa & 0xfff);
			*s2w = (ne->perm & (IMS_PERM_W | IMS_PERM_PW)) != 0;
			return true;
		}
	}
	if (!ims_walk(w, s2, NULL, gpa, IMS_ACC_READ, IMS_READ_S2_FOR_TABLE, &o2))
		return false;
	*pa = o2.out;
	*s2w = (o2.perm & (IMS_PERM_W | IMS_PERM_PW)) != 0;
	if (iommu->cache[IMS_ST_NESTED_TLB]) {
		struct ims_ntlb_entry e = { .hpa = o2.out & ~UINT64_C(0xfff), .perm = o2.perm };

		ims_memo_set(&e.leaf, s2, o2.level, o2.leaf_pa, o2.leaf_val);
		ims_ntlb_fill(iommu, w->domain, gpa, &e);
	}
	return true;
}

bool ims_walk(struct ims_walk_ctx *w, const struct ims_pt_cfg *cfg, const struct ims_pt_cfg *s2,
	      uint64_t in, unsigned access, enum ims_read_kind kind, struct ims_walk_out *out)
{
	struct ims_result *res = w->res;
	struct ims_iommu *iommu = w->iommu;
	struct ims_mem *mem = iommu->mem;
	const struct ims_pt_format *fmt = cfg->fmt;
	unsigned perm = IMS_PERM_ALL, stage = cfg->stage;
	uint64_t table = cfg->root, table_pa = 0;
	bool table_pa_known = false, cached_s2w = true;
	/* Per level: where the entry was, and stage-2 write permission to it. */
	uint64_t ent_pa[IMS_PT_MAX_LEVELS], ent_gpa[IMS_PT_MAX_LEVELS], ent_val[IMS_PT_MAX_LEVELS];
	bool ent_s2w[IMS_PT_MAX_LEVELS];
	int top = (int)cfg->levels - 1, start;
	enum ims_fault_kind fk;
	/* Walk-cache tags: stage 1 is per PASID, stage 2 per domain only. */
	enum ims_struct_id pwc_id = stage == 1 ? IMS_ST_PWC_S1 : IMS_ST_PWC_S2;
	bool use_pwc = iommu->cache[pwc_id] != NULL;
	uint32_t tpasid = stage == 1 ? w->pasid : 0;
	bool thas = stage == 1 && w->has_pasid;
	struct {
		bool on;
		unsigned level;
		uint64_t prefix;
		struct ims_pwc_entry e;
	} pend = { 0 };

	if (cfg->levels == 0 || cfg->levels > IMS_PT_MAX_LEVELS) {
		ims_result_fault(res, IMS_FK_CONFIG, cfg->stage, -1, 0);
		return false;
	}
	fk = check_input(cfg, in);
	if (fk != IMS_FK_NONE) {
		walk_fault(res, cfg, fk, top, 0, in);
		return false;
	}
	start = top;

	/*
	 * Walk caches: the most specific level first.  Their prefixes keep the
	 * bits above ia_bits (canonical upper halves).
	 */
	if (use_pwc && top >= 1) {
		struct ims_pwc_entry *pe = NULL;
		int l;

		for (l = 1; l <= top; l++) {
			pe = ims_pwc_lookup(iommu, stage, (unsigned)l, w->domain, tpasid, thas,
					    in >> ims_pt_level_shift(cfg, (unsigned)l));
			if (pe)
				break;
		}
		ims_note_lookup(iommu, res, pwc_id, pe ? l : -1, pe != NULL,
				(unsigned)(pe ? l : top));
		if (pe) {
			start = l - 1;
			table = pe->next_in;
			table_pa = pe->next_pa;
			table_pa_known = true;
			cached_s2w = pe->s2w;
			perm = pe->perm;
		}
	}

	for (int level = start; level >= 0; level--) {
		unsigned shift = ims_pt_level_shift(cfg, (unsigned)level);
		unsigned bits = ims_pt_level_bits(cfg, (unsigned)level);
		uint64_t idx = shift >= 64 ? 0 : (in >> shift) & ims_mask_lg2(bits);
		uint64_t off = idx << fmt->entry_lg2;
		uint64_t gpa = table + off;
		uint64_t pa = gpa, entry;
		struct ims_pte pte;
		struct ims_read *rd;

		ent_s2w[level] = true;
		if (table_pa_known) {
			pa = table_pa + off;
			ent_s2w[level] = cached_s2w;
			table_pa_known = false;
		} else if (s2) {
			if (!table_addr(w, s2, gpa, &pa, &ent_s2w[level])) {
				/* A stage-2 fault while fetching this stage's table. */
				res->fault.on_table_fetch = true;
				res->fault.ipa = gpa;
				res->fault.fetch_addr = gpa;
				res->fault.level = (int8_t)level;
				return false;
			}
		}
		if (pend.on) {
			/* The table the pending walk-cache entry points to is at pa - off. */
			pend.e.next_pa = pa - off;
			pend.e.s2w = ent_s2w[level];
			ims_pwc_fill(iommu, stage, pend.level, w->domain, tpasid, thas, pend.prefix,
				     &pend.e);
			pend.on = false;
		}

		iommu->stats.table_reads++;
		if (ims_mem_read64(mem, pa, &entry) != IMS_MEM_OK) {
			rd = ims_result_add_read(res, kind, cfg->stage, level, gpa, pa, 0);
			if (rd) {
				rd->abort = 1;
				rd->fault = IMS_FK_EXT_ABORT;
			}
			walk_fault(res, cfg, IMS_FK_EXT_ABORT, level, pa, in);
			return false;
		}
		rd = ims_result_add_read(res, kind, cfg->stage, level, gpa, pa, entry);
		fmt->decode(cfg, (unsigned)level, entry, &pte);
		if (rd) {
			rd->decision = (uint8_t)pte.kind;
			rd->next = pte.addr;
		}
		ent_pa[level] = pa;
		ent_gpa[level] = gpa;
		ent_val[level] = entry;

		switch (pte.kind) {
		case IMS_PTE_EMPTY:
			fk = IMS_FK_TRANSLATION;
			break;
		case IMS_PTE_BAD:
			fk = pte.fault ? (enum ims_fault_kind)pte.fault : IMS_FK_RESERVED;
			break;
		case IMS_PTE_TABLE:
			if (level == 0) {
				fk = IMS_FK_RESERVED;
				break;
			}
			if (cfg->oa_bits < 64 && (pte.addr >> cfg->oa_bits)) {
				fk = IMS_FK_ADDR_SIZE;
				break;
			}
			perm &= pte.perm;
			table = pte.addr;
			if (use_pwc) {
				memset(&pend.e, 0, sizeof(pend.e));
				pend.level = (unsigned)level;
				pend.prefix = in >> shift;
				pend.e.next_in = pte.addr;
				pend.e.next_pa = pte.addr;
				pend.e.perm = (uint8_t)perm;
				pend.e.s2w = true;
				pend.e.nested = s2 != NULL;
				pend.e.shift = (uint8_t)shift;
				ims_memo_set(&pend.e.ent, cfg, level, pa, entry);
				/* Without stage 2 the next table's address is final now. */
				pend.on = s2 != NULL;
				if (!s2)
					ims_pwc_fill(iommu, stage, (unsigned)level, w->domain, tpasid,
						     thas, pend.prefix, &pend.e);
			}
			continue;
		case IMS_PTE_LEAF: {
			uint64_t off_mask = ims_mask_lg2(pte.size_lg2);
			unsigned needed = ims_perm_needed(access);

			perm &= pte.perm;
			if (fmt->finish_perm)
				perm = fmt->finish_perm(cfg, perm);
			out->out = (pte.addr & ~off_mask) | (in & off_mask);
			out->size_lg2 = pte.size_lg2;
			out->perm = (uint8_t)perm;
			out->flags = pte.flags;
			out->level = (int8_t)level;
			out->leaf_pa = pa;
			out->leaf_val = entry;
			if (cfg->oa_bits < 64 && (out->out >> cfg->oa_bits)) {
				fk = IMS_FK_ADDR_SIZE;
				break;
			}
			if (needed & ~perm) {
				walk_fault(res, cfg, IMS_FK_PERMISSION, level, pa, in);
				res->fault.missing = (uint8_t)(needed & ~perm);
				res->fault.have = (uint8_t)perm;
				if (rd)
					rd->fault = IMS_FK_PERMISSION;
				return false;
			}
			/* Hardware A/D updates, committed only if everything succeeds. */
			if (fmt->update_ad) {
				for (int l = start; l >= level; l--) {
					uint64_t nv = fmt->update_ad(cfg, (unsigned)l, ent_val[l],
								     l == level, access);

					if (nv == ent_val[l])
						continue;
					if (!ent_s2w[l]) {
						ims_result_fault(res, IMS_FK_AD_UPDATE, 2, l,
								 ent_gpa[l]);
						res->fault.on_table_fetch = true;
						res->fault.ipa = ent_gpa[l];
						return false;
					}
					if (!queue_ad(w, ent_pa[l], ent_val[l], nv)) {
						ims_result_fault(res, IMS_FK_AD_UPDATE, cfg->stage,
								 l, ent_pa[l]);
						return false;
					}
				}
			}
			return true;
		}
		}
		/* Fault at this entry. */
		if (rd)
			rd->fault = (uint8_t)fk;
		walk_fault(res, cfg, fk, level, pa, in);
		return false;
	}
	/* Not reached: level 0 always ends the loop. */
	ims_result_fault(res, IMS_FK_RESERVED, cfg->stage, 0, table);
	return false;
}
