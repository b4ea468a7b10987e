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

struct ims_read *ims_result_add_read(struct ims_result *res, enum ims_read_kind kind,
				     unsigned stage, int level, uint64_t in_addr, uint64_t pa,
				     uint64_t value)
{
	struct ims_read *r;

	if (res->nreads >= IMS_MAX_READS)
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

bool ims_walk(struct ims_walk_ctx *w, const struct ims_pt_cfg *cfg, const struct ims_pt_cfg *s2,
	      uint64_t in, unsigned access, enum ims_read_kind kind, struct ims_walk_out *out)
{
	struct ims_result *res = w->res;
	struct ims_mem *mem = w->iommu->mem;
	const struct ims_pt_format *fmt = cfg->fmt;
	unsigned perm = IMS_PERM_ALL;
	uint64_t table = cfg->root;
	/* Per level: where the entry was, and stage-2 write permission to it. */
	uint64_t ent_pa[IMS_PT_MAX_LEVELS], ent_gpa[IMS_PT_MAX_LEVELS], ent_val[IMS_PT_MAX_LEVELS];
	bool ent_s2w[IMS_PT_MAX_LEVELS];
	int top = (int)cfg->levels - 1;
	enum ims_fault_kind fk;

	if (cfg->levels == 0 || cfg->levels > IMS_PT_MAX_LEVELS) {
		ims_result_fault(res, IMS_FK_CONFIG, cfg->stage, -1, 0);
		return false;
	}
	fk = check_input(cfg, in);
	if (fk != IMS_FK_NONE) {
		ims_result_fault(res, fk, cfg->stage, top, 0);
		if (cfg->stage == 2)
			res->fault.ipa = in;
		return false;
	}

	for (int level = top; level >= 0; level--) {
		unsigned shift = ims_pt_level_shift(cfg, (unsigned)level);
		unsigned bits = ims_pt_level_bits(cfg, (unsigned)level);
		uint64_t idx = shift >= 64 ? 0 : (in >> shift) & ims_mask_lg2(bits);
		uint64_t gpa = table + (idx << fmt->entry_lg2);
		uint64_t pa = gpa, entry;
		struct ims_pte pte;
		struct ims_read *rd;

		ent_s2w[level] = true;
		if (s2) {
			struct ims_walk_out o2;

			if (!ims_walk(w, s2, NULL, gpa, IMS_ACC_READ, IMS_READ_S2_FOR_TABLE, &o2)) {
				/* A stage-2 fault while fetching this stage's table. */
				res->fault.on_table_fetch = true;
				res->fault.ipa = gpa;
				res->fault.fetch_addr = gpa;
				res->fault.level = (int8_t)level;
				return false;
			}
			pa = o2.out;
			ent_s2w[level] = (o2.perm & (IMS_PERM_W | IMS_PERM_PW)) != 0;
		}

		if (ims_mem_read64(mem, pa, &entry) != IMS_MEM_OK) {
			rd = ims_result_add_read(res, kind, cfg->stage, level, gpa, pa, 0);
			if (rd) {
				rd->abort = 1;
				rd->fault = IMS_FK_EXT_ABORT;
			}
			ims_result_fault(res, IMS_FK_EXT_ABORT, cfg->stage, level, pa);
			if (cfg->stage == 2)
				res->fault.ipa = in;
			return false;
		}
		w->iommu->stats.table_reads++;
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
			if (cfg->oa_bits < 64 && (out->out >> cfg->oa_bits)) {
				fk = IMS_FK_ADDR_SIZE;
				break;
			}
			if (needed & ~perm) {
				ims_result_fault(res, IMS_FK_PERMISSION, cfg->stage, level, pa);
				res->fault.missing = (uint8_t)(needed & ~perm);
				res->fault.have = (uint8_t)perm;
				if (rd)
					rd->fault = IMS_FK_PERMISSION;
				if (cfg->stage == 2)
					res->fault.ipa = in;
				return false;
			}
			/* Hardware A/D updates, committed only if everything succeeds. */
			if (fmt->update_ad) {
				for (int l = top; l >= level; l--) {
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
		ims_result_fault(res, fk, cfg->stage, level, pa);
		if (cfg->stage == 2)
			res->fault.ipa = in;
		return false;
	}
	/* Not reached: level 0 always ends the loop. */
	ims_result_fault(res, IMS_FK_RESERVED, cfg->stage, 0, table);
	return false;
}
