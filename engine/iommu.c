/*
 * iommu.c - the IOMMU instance and the translation driver.
 *
 * ims_translate() is the data flow of DESIGN.md step 4 minus caches: the
 * architecture fetches the configuration for (source, PASID), the walker
 * runs the stages it names, and the architecture turns the outcome into its
 * own terms (fault reason / event record) and records it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine/bits.h"
#include "engine/engine_int.h"
#include "iotlb/iotlb_int.h"

static const struct ims_arch_ops *arch_for(enum ims_arch arch)
{
	switch (arch) {
	case IMS_ARCH_VTD:
		return &ims_vtd_arch;
	case IMS_ARCH_SMMUV3:
		return &ims_smmu_arch;
	default:
		return NULL;
	}
}

struct ims_iommu *ims_iommu_new(const struct ims_model *model, char *err, size_t errlen)
{
	return ims_iommu_new_opts(model, 0, err, errlen);
}

struct ims_iommu *ims_iommu_new_opts(const struct ims_model *model, unsigned opts, char *err,
				     size_t errlen)
{
	struct ims_iommu *iommu;
	const struct ims_arch_ops *ops = arch_for(model->arch);

	if (!ops) {
		ims_errf(err, errlen, "%s: architecture \"%s\" is not implemented yet", model->label,
			 ims_arch_name(model->arch));
		return NULL;
	}
	iommu = calloc(1, sizeof(*iommu));
	if (!iommu) {
		ims_errf(err, errlen, "out of memory");
		return NULL;
	}
	iommu->arch = ops;
	iommu->model = model;
	iommu->mem = ims_mem_new(model->haw);
	if (!iommu->mem || ops->init(iommu, model, &iommu->arch_priv, err, errlen)) {
		ims_mem_free(iommu->mem);
		free(iommu);
		return NULL;
	}
	if (ims_caches_init(iommu, model->root, model->label, !(opts & IMS_NEW_NO_CACHES), err,
			    errlen)) {
		ims_iommu_free(iommu);
		return NULL;
	}
	return iommu;
}

void ims_iommu_free(struct ims_iommu *iommu)
{
	if (!iommu)
		return;
	if (iommu->arch->fini)
		iommu->arch->fini(iommu->arch_priv);
	ims_caches_fini(iommu);
	ims_mem_free(iommu->mem);
	free(iommu);
}

struct ims_mem *ims_iommu_mem(struct ims_iommu *iommu)
{
	return iommu->mem;
}

const struct ims_arch_ops *ims_iommu_arch(const struct ims_iommu *iommu)
{
	return iommu->arch;
}

void *ims_iommu_arch_priv(const struct ims_iommu *iommu)
{
	return iommu->arch_priv;
}

const struct ims_model *ims_iommu_model(const struct ims_iommu *iommu)
{
	return iommu->model;
}

const struct ims_stats *ims_iommu_stats(const struct ims_iommu *iommu)
{
	return &iommu->stats;
}

int ims_iommu_set_reg(struct ims_iommu *iommu, const char *name, uint64_t value)
{
	ims_fast_flush(iommu);
	iommu->reg_writes++;
	if (!iommu->arch->set_reg)
		return -ENOENT;
	return iommu->arch->set_reg(iommu, name, value);
}

int ims_iommu_get_reg(struct ims_iommu *iommu, const char *name, uint64_t *value)
{
	if (!iommu->arch->get_reg)
		return -ENOENT;
	return iommu->arch->get_reg(iommu, name, value);
}

int ims_decode_inv(struct ims_iommu *iommu, const uint64_t *words, unsigned nwords,
			      struct ims_inv *inv, uint32_t *arch_err)
{
	uint32_t dummy;

	if (!iommu->arch->decode_inv)
		return -EOPNOTSUPP;
	return iommu->arch->decode_inv(iommu, words, nwords, inv, arch_err ? arch_err : &dummy);
}

const char *ims_xmode_name(enum ims_xmode mode)
{
	static const char *const names[] = {
		[IMS_XM_ABORT] = "abort", [IMS_XM_BYPASS] = "bypass",
		[IMS_XM_S1] = "stage 1",  [IMS_XM_S2] = "stage 2",
		[IMS_XM_NESTED] = "nested",
	};

	return (unsigned)mode < IMS_ARRAY_SIZE(names) ? names[mode] : "?";
}

const char *ims_fault_kind_name(enum ims_fault_kind kind)
{
	static const char *const names[IMS_FK__COUNT] = {
		[IMS_FK_NONE] = "none",
		[IMS_FK_TRANSLATION] = "translation (not present)",
		[IMS_FK_PERMISSION] = "permission",
		[IMS_FK_RESERVED] = "reserved bits / malformed entry",
		[IMS_FK_ADDR_SIZE] = "address size",
		[IMS_FK_ACCESS_FLAG] = "access flag",
		[IMS_FK_EXT_ABORT] = "external abort on table access",
		[IMS_FK_NON_CANONICAL] = "non-canonical address",
		[IMS_FK_AD_UPDATE] = "A/D update failed",
		[IMS_FK_CONFIG] = "configuration",
		[IMS_FK_ABORT] = "aborted by configuration",
	};

	return (unsigned)kind < IMS_FK__COUNT ? names[kind] : "?";
}

/* Write the queued A/D updates; all or nothing. */
static bool commit_ad(struct ims_walk_ctx *w)
{
	struct ims_mem *mem = w->iommu->mem;

	for (unsigned i = 0; i < w->nad; i++)
		if (ims_mem_write64(mem, w->ad[i].pa, w->ad[i].old) != IMS_MEM_OK) {
			ims_result_fault(w->res, IMS_FK_AD_UPDATE, 0, -1, w->ad[i].pa);
			return false;
		}
	for (unsigned i = 0; i < w->nad; i++) {
		ims_mem_write64(mem, w->ad[i].pa, w->ad[i].val);
		w->iommu->stats.ad_updates++;
	}
	return true;
}

bool ims_translate_config_addr(struct ims_iommu *iommu, struct ims_result *res,
			       const struct ims_pt_cfg *s2, uint32_t domain, uint64_t ipa,
			       uint64_t *pa)
{
	struct ims_walk_ctx w = { .iommu = iommu, .res = res, .domain = domain, .nad = 0 };
	struct ims_walk_out o;

	if (!ims_walk(&w, s2, NULL, ipa, IMS_ACC_READ, IMS_READ_S2_FOR_TABLE, &o)) {
		res->fault.on_table_fetch = true;
		res->fault.ipa = ipa;
		return false;
	}
	if (!commit_ad(&w))
		return false;
	*pa = o.out;
	return true;
}

/* Serve a translation from an IOTLB entry.  False: a miss, walk instead. */
static bool iotlb_serve(struct ims_iommu *iommu, const struct ims_txn *txn,
			const struct ims_xlate_cfg *cfg, struct ims_result *res)
{
	struct ims_cache *c = iommu->cache[IMS_ST_IOTLB];
	struct ims_iotlb_entry *e;
	unsigned probes;
	uint64_t off;

	e = ims_iotlb_lookup(iommu, cfg->domain, cfg->pasid, cfg->has_pasid, txn->addr, &probes);
	/*
	 * A hit that lacks the permission, or a first write through an entry
	 * filled by a read (its D bit still has to be set), walks again: for
	 * the statistics it is a miss.
	 */
	if (e && ((ims_perm_needed(txn->access) & ~e->perm) ||
		  ((txn->access & IMS_ACC_WRITE) && !e->wdone))) {
		ims_cache_stats(c)->hits--;
		ims_cache_stats(c)->misses++;
		e = NULL;
	}
	ims_note_lookup(iommu, res, IMS_ST_IOTLB, -1, e != NULL, probes ? probes : 1);
	if (!e)
		return false;
	off = txn->addr & ims_mask_lg2(e->page_lg2);
	res->out_addr = e->out | off;
	res->page_lg2 = e->page_lg2;
	res->perm = e->perm;
	res->s1_page_lg2 = e->s1_lg2;
	res->s2_page_lg2 = e->s2_lg2;
	res->ipa = cfg->mode == IMS_XM_NESTED ? e->ipa | off : 0;
	res->global = e->global;
	res->iotlb_hit = true;
	return true;
}

/* What the caches a memo replays have been through (see struct ims_fast). */
static uint64_t fast_epoch(const struct ims_iommu *iommu)
{
	uint64_t e = iommu->reg_writes;

	for (int id = IMS_ST_IOTLB; id <= IMS_ST_PASID; id++)
		if (iommu->cache[id])
			e += ims_cache_mods(iommu->cache[id]);
	if (iommu->cache[IMS_ST_DEVTLB])
		e += ims_cache_mods(iommu->cache[IMS_ST_DEVTLB]);
	return e;
}

static struct ims_fast *fast_slot(struct ims_iommu *iommu, const struct ims_txn *txn)
{
	uint64_t h = (txn->addr >> 12) ^ ((uint64_t)txn->sid << 20) ^
		     ((uint64_t)txn->pasid << 36) ^ ((uint64_t)txn->access << 58);

	return &iommu->fast[(h * UINT64_C(0x9e3779b97f4a7c15)) >> (64 - IMS_FAST_LG2)];
}

/* Replay a memo: true when it applied and res holds the result. */
static bool fast_replay(struct ims_iommu *iommu, const struct ims_txn *txn, struct ims_result *res)
{
	struct ims_fast *m = fast_slot(iommu, txn);
	uint64_t off;

	if (!m->valid || m->vpn != txn->addr >> 12 || m->sid != txn->sid ||
	    m->has_pasid != txn->has_pasid || (txn->has_pasid && m->pasid != txn->pasid) ||
	    m->access != txn->access || m->epoch != fast_epoch(iommu))
		return false;
	if (!m->pending++)
		iommu->fast_pend[iommu->fast_pending++] = (uint16_t)(m - iommu->fast);
	m->last_seq = ++iommu->fast_seq;
	off = txn->addr & 0xfff;
	res->ok = true;
	res->out_addr = m->out_page | off;
	res->page_lg2 = m->page_lg2;
	res->perm = m->perm;
	res->mode = (enum ims_xmode)m->mode;
	res->domain = m->domain;
	res->pasid = m->rpasid;
	res->has_pasid = m->rhas_pasid;
	res->fault.kind = IMS_FK_NONE;
	res->nreads = 0;
	res->ipa = m->mode == IMS_XM_NESTED ? m->ipa_page | off : 0;
	res->s1_page_lg2 = m->s1_lg2;
	res->s2_page_lg2 = m->s2_lg2;
	res->global = m->global;
	res->iotlb_hit = !m->devtlb;
	res->devtlb_hit = m->devtlb;
	res->untraced = true;
	res->cycles = m->cycles;
	iommu->stats.translations++;
	iommu->stats.xlate_cycles += m->cycles;
	return true;
}

static int by_last_seq(const void *a, const void *b)
{
	const struct ims_fast *x = *(const struct ims_fast *const *)a;
	const struct ims_fast *y = *(const struct ims_fast *const *)b;

	return x->last_seq < y->last_seq ? -1 : x->last_seq > y->last_seq;
}

void ims_fast_flush(struct ims_iommu *iommu)
{
	struct ims_fast *order[IMS_FAST_ENTRIES];
	unsigned n = 0;

	if (!iommu->fast_pending)
		return;
	for (unsigned i = 0; i < iommu->fast_pending; i++)
		order[n++] = &iommu->fast[iommu->fast_pend[i]];
	qsort(order, n, sizeof(order[0]), by_last_seq);
	for (unsigned k = 0; k < n; k++) {
		struct ims_fast *m = order[k];

		for (unsigned i = 0; i < m->n; i++)
			ims_cache_hit_n(iommu->cache[m->id[i]], m->slot[i], m->pending);
		m->pending = 0;
	}
	iommu->fast_pending = 0;
}

static void fast_record(struct ims_iommu *iommu, const struct ims_txn *txn,
			const struct ims_result *res)
{
	struct ims_fast *m = fast_slot(iommu, txn);
	const struct ims_hit_trace *ht = &iommu->ht;

	/* The slot's previous memo has nothing pending: the slow path flushed. */
	m->valid = true;
	m->pending = 0;
	m->vpn = txn->addr >> 12;
	m->sid = txn->sid;
	m->pasid = txn->pasid;
	m->has_pasid = txn->has_pasid;
	m->access = txn->access;
	m->epoch = fast_epoch(iommu);
	m->n = (uint8_t)ht->n;
	memcpy(m->id, ht->id, sizeof(m->id));
	memcpy(m->slot, ht->slot, sizeof(m->slot));
	m->out_page = res->out_addr & ~UINT64_C(0xfff);
	m->ipa_page = res->ipa & ~UINT64_C(0xfff);
	m->page_lg2 = res->page_lg2;
	m->perm = res->perm;
	m->mode = (uint8_t)res->mode;
	m->domain = res->domain;
	m->rpasid = res->pasid;
	m->rhas_pasid = res->has_pasid;
	m->s1_lg2 = res->s1_page_lg2;
	m->s2_lg2 = res->s2_page_lg2;
	m->global = res->global;
	m->devtlb = res->devtlb_hit;
	m->cycles = res->cycles;
}

static void iotlb_fill(struct ims_iommu *iommu, const struct ims_txn *txn,
		       const struct ims_xlate_cfg *cfg, const struct ims_result *res,
		       const struct ims_walk_out *o1, const struct ims_walk_out *o2)
{
	struct ims_iotlb_entry e;
	uint64_t mask = ims_mask_lg2(res->page_lg2);

	memset(&e, 0, sizeof(e));
	e.out = res->out_addr & ~mask;
	e.ipa = res->ipa & ~mask;
	e.domain = cfg->domain;
	e.pasid = cfg->pasid;
	e.has_pasid = cfg->has_pasid;
	e.page_lg2 = res->page_lg2;
	e.perm = res->perm;
	e.mode = (uint8_t)cfg->mode;
	e.global = res->global;
	e.wdone = (txn->access & IMS_ACC_WRITE) != 0;
	e.s1_lg2 = res->s1_page_lg2;
	e.s2_lg2 = res->s2_page_lg2;
	e.s1_level = e.s2_level = -1;
	if (o1) {
		const struct ims_pt_cfg *c1 = cfg->mode == IMS_XM_S2 ? &cfg->s2 : &cfg->s1;

		ims_memo_set(&e.leaf[cfg->mode == IMS_XM_S2 ? 1 : 0], c1, o1->level, o1->leaf_pa,
			     o1->leaf_val);
		if (cfg->mode == IMS_XM_S2)
			e.s2_level = o1->level;
		else
			e.s1_level = o1->level;
	}
	if (o2) {
		ims_memo_set(&e.leaf[1], &cfg->s2, o2->level, o2->leaf_pa, o2->leaf_val);
		e.s2_level = o2->level;
	}
	ims_iotlb_fill(iommu, &e, txn->addr);
}

/*
 * The device's own ATC, looked up before the request reaches the IOMMU: a
 * hit is served at the device and the IOMMU sees nothing.  False: a miss.
 */
static bool devtlb_serve(struct ims_iommu *iommu, const struct ims_txn *txn,
			 struct ims_result *res)
{
	struct ims_cache *c = iommu->cache[IMS_ST_DEVTLB];
	struct ims_devtlb_entry *e;
	unsigned probes;

	e = ims_devtlb_lookup(iommu, txn->sid, txn->pasid, txn->has_pasid, txn->addr, &probes);
	/* A translation without the permission asked for is asked again. */
	if (e && (ims_perm_needed(txn->access & ~IMS_ACC_PRIV) & ~e->perm)) {
		ims_cache_stats(c)->hits--;
		ims_cache_stats(c)->misses++;
		e = NULL;
	}
	ims_note_lookup(iommu, res, IMS_ST_DEVTLB, -1, e != NULL, probes ? probes : 1);
	if (!e)
		return false;
	res->ok = true;
	res->out_addr = e->out | (txn->addr & ims_mask_lg2(e->page_lg2));
	res->page_lg2 = e->page_lg2;
	res->perm = e->perm;
	res->devtlb_hit = true;
	return true;
}

static void devtlb_fill(struct ims_iommu *iommu, const struct ims_txn *txn,
			const struct ims_xlate_cfg *cfg, const struct ims_result *res,
			const struct ims_walk_out *o1, const struct ims_walk_out *o2)
{
	struct ims_devtlb_entry e;

	memset(&e, 0, sizeof(e));
	e.out = res->out_addr & ~ims_mask_lg2(res->page_lg2);
	e.page_lg2 = res->page_lg2;
	/* ATS completions carry read/write/execute, not privilege: both kinds. */
	e.perm = res->perm;
	if (o1) {
		const struct ims_pt_cfg *c1 = cfg->mode == IMS_XM_S2 ? &cfg->s2 : &cfg->s1;

		ims_memo_set(&e.leaf[0], c1, o1->level, o1->leaf_pa, o1->leaf_val);
	}
	if (o2)
		ims_memo_set(&e.leaf[1], &cfg->s2, o2->level, o2->leaf_pa, o2->leaf_val);
	ims_devtlb_fill(iommu, txn->sid, txn->pasid, txn->has_pasid, txn->addr, &e);
}

static int translate_slow(struct ims_iommu *iommu, const struct ims_txn *txn,
			  struct ims_result *res);

int ims_translate(struct ims_iommu *iommu, const struct ims_txn *txn, struct ims_result *res)
{
	if (!txn->size || !(txn->access & (IMS_ACC_READ | IMS_ACC_WRITE | IMS_ACC_EXEC)) ||
	    (txn->addr & 0xfff) + (uint64_t)txn->size > 0x1000)
		return -EINVAL;
	if ((txn->flags & IMS_TXN_NO_TRACE) && fast_replay(iommu, txn, res))
		return 0;
	return translate_slow(iommu, txn, res);
}

/* Everything but the memo: kept out of line so the replay stays small. */
__attribute__((noinline)) static int translate_slow(struct ims_iommu *iommu,
						    const struct ims_txn *txn,
						    struct ims_result *res)
{
	struct ims_walk_ctx w;
	struct ims_xlate_cfg cfg;
	struct ims_walk_out o1, o2;
	uint64_t reads0 = iommu->stats.table_reads + iommu->stats.config_reads, mem_reads;
	bool ok = false, walked = false;
	int rc;

	ims_fast_flush(iommu);

	/* Reset the result header; the read array is filled as it is used. */
	memset(res, 0, offsetof(struct ims_result, nreads));
	res->nreads = 0;
	res->ipa = 0;
	res->s1_page_lg2 = res->s2_page_lg2 = 0;
	res->s1_fmt = res->s2_fmt = NULL;
	res->global = res->iotlb_hit = res->devtlb_hit = false;
	res->untraced = (txn->flags & IMS_TXN_NO_TRACE) != 0;
	res->cycles = 0;
	iommu->ht.n = 0;
	iommu->ht.clean = true;
	res->fault.iova = txn->addr;
	res->fault.level = -1;
	w.iommu = iommu;
	w.res = res;
	w.nad = 0;
	memset(&cfg, 0, sizeof(cfg));

	iommu->stats.translations++;
	if (iommu->cache[IMS_ST_DEVTLB] && devtlb_serve(iommu, txn, res)) {
		iommu->stats.xlate_cycles += res->cycles;
		if (iommu->ht.clean)
			fast_record(iommu, txn, res);
		return 0;
	}
	rc = iommu->arch->fetch_config(iommu, txn, &cfg, res);
	if (rc < 0)
		return rc;
	res->mode = cfg.mode;
	res->domain = cfg.domain;
	res->pasid = cfg.pasid;
	res->has_pasid = cfg.has_pasid;
	res->s1_fmt = cfg.s1.fmt;
	res->s2_fmt = cfg.s2.fmt;
	w.domain = cfg.domain;
	w.pasid = cfg.pasid;
	w.has_pasid = cfg.has_pasid;

	if (res->fault.kind == IMS_FK_NONE) {
		bool cached = cfg.mode >= IMS_XM_S1 && iommu->cache[IMS_ST_IOTLB];

		if (cached && iotlb_serve(iommu, txn, &cfg, res)) {
			ok = true;
			goto done;
		}
		switch (cfg.mode) {
		case IMS_XM_ABORT:
			ims_result_fault(res, IMS_FK_ABORT, 0, -1, 0);
			break;
		case IMS_XM_BYPASS:
			res->out_addr = txn->addr;
			res->page_lg2 = 12;
			res->perm = IMS_PERM_ALL;
			ok = true;
			break;
		case IMS_XM_S1:
		case IMS_XM_S2: {
			const struct ims_pt_cfg *c = cfg.mode == IMS_XM_S1 ? &cfg.s1 : &cfg.s2;

			ok = ims_walk(&w, c, NULL, txn->addr, txn->access,
				      cfg.mode == IMS_XM_S1 ? IMS_READ_S1 : IMS_READ_S2, &o1);
			if (ok) {
				res->out_addr = o1.out;
				res->page_lg2 = o1.size_lg2;
				res->perm = o1.perm;
				res->global = (o1.flags & IMS_PTE_F_GLOBAL) && cfg.mode == IMS_XM_S1;
				if (cfg.mode == IMS_XM_S1)
					res->s1_page_lg2 = o1.size_lg2;
				else
					res->s2_page_lg2 = o1.size_lg2;
			}
			walked = ok;
			break;
		}
		case IMS_XM_NESTED:
			ok = ims_walk(&w, &cfg.s1, &cfg.s2, txn->addr, txn->access, IMS_READ_S1, &o1);
			if (!ok)
				break;
			res->ipa = o1.out;
			res->s1_page_lg2 = o1.size_lg2;
			res->global = (o1.flags & IMS_PTE_F_GLOBAL) != 0;
			ok = ims_walk(&w, &cfg.s2, NULL, o1.out, txn->access & ~IMS_ACC_PRIV,
				      IMS_READ_S2, &o2);
			if (!ok)
				break;
			res->s2_page_lg2 = o2.size_lg2;
			res->out_addr = o2.out;
			res->page_lg2 = o1.size_lg2 < o2.size_lg2 ? o1.size_lg2 : o2.size_lg2;
			res->perm = o1.perm & o2.perm;
			walked = true;
			break;
		}
		if (ok)
			ok = commit_ad(&w);
		if (ok && walked && cached)
			iotlb_fill(iommu, txn, &cfg, res, &o1,
				   cfg.mode == IMS_XM_NESTED ? &o2 : NULL);

	}
done:
	res->ok = ok;
	if (!ok && res->fault.kind == IMS_FK_NONE)
		ims_result_fault(res, IMS_FK_CONFIG, 0, -1, 0);
	res->fault.iova = txn->addr;
	iommu->arch->finish(iommu, txn, &cfg, res);
	if (!res->ok)
		iommu->stats.faults++;
	/* An ATS-capable device keeps what the IOMMU answered. */
	else if (cfg.ats && iommu->cache[IMS_ST_DEVTLB])
		devtlb_fill(iommu, txn, &cfg, res, walked ? &o1 : NULL,
			    walked && cfg.mode == IMS_XM_NESTED ? &o2 : NULL);
	/* Memory reads cost the model's memory latency each. */
	mem_reads = iommu->stats.table_reads + iommu->stats.config_reads - reads0;
	res->cycles += mem_reads * iommu->timing.mem_read;
	if (iommu->timing.mem_read)
		for (unsigned i = 0; i < res->nreads; i++)
			if (res->reads[i].kind != IMS_READ_CACHE)
				res->reads[i].cycles = iommu->timing.mem_read;
	iommu->stats.xlate_cycles += res->cycles;
	/* A translation served wholly by cache hits can be replayed. */
	if (res->ok && res->iotlb_hit && iommu->ht.clean && !mem_reads)
		fast_record(iommu, txn, res);
	return 0;
}

const struct ims_struct_desc *ims_struct_find(const struct ims_iommu *iommu, const char *name)
{
	for (unsigned i = 0; i < iommu->arch->nstructs; i++)
		if (!strcmp(iommu->arch->structs[i].name, name))
			return &iommu->arch->structs[i];
	return NULL;
}

int ims_struct_set(const struct ims_struct_desc *sd, uint64_t *words, const char *field,
		   uint64_t value)
{
	for (unsigned i = 0; i < sd->nfields; i++) {
		const struct ims_field_desc *fd = &sd->fields[i];
		unsigned shift = (unsigned)__builtin_ctzll(fd->mask);

		if (strcmp(fd->name, field))
			continue;
		if (fd->is_addr) {
			if (value & ~fd->mask)
				return -ERANGE;
			words[fd->word] = (words[fd->word] & ~fd->mask) | value;
		} else {
			if (value > (fd->mask >> shift))
				return -ERANGE;
			words[fd->word] = (words[fd->word] & ~fd->mask) | (value << shift);
		}
		return 0;
	}
	return -ENOENT;
}

uint64_t ims_struct_get(const struct ims_field_desc *fd, const uint64_t *words)
{
	uint64_t v = words[fd->word] & fd->mask;

	return fd->is_addr ? v : v >> __builtin_ctzll(fd->mask);
}
