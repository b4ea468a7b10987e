/*
 * smmu.c - Arm SMMUv3 as an iommusim architecture (struct ims_arch_ops).
 *
 * Reference: Arm IHI 0070 (SMMUv3): 3.3-3.4 (translation procedure), 6.3
 * (registers: CR0, CR1, CR2, GBPA, STRTAB_BASE, STRTAB_BASE_CFG, CMDQ_*,
 * EVENTQ_*, GERROR/GERRORN), 3.9.1 (the SMMU disabled: GBPA), 7 (events).
 *
 * The translation itself is driven by engine/iommu.c.  This file programs
 * registers, fetches the configuration (ste.c, cd.c) and finishes faults
 * into event records (event.c).  The neutral tags a configuration yields,
 * which caches will use: domain = STE.S2VMID (when stage 2 is implemented,
 * even for stage-1-only streams, which it still tags), pasid = CD.ASID with
 * has_pasid whenever stage 1 translates.
 *
 * Register writes follow the spec where it is firm and refuse, with an
 * errno, what it calls UNPREDICTABLE or ignores:
 *  - STRTAB_BASE/STRTAB_BASE_CFG while CR0.SMMUEN = 1, CMDQ_BASE/CMDQ_CONS
 *    while CR0.CMDQEN = 1 and EVENTQ_BASE/EVENTQ_PROD while CR0.EVENTQEN = 1
 *    are refused with -EBUSY (the hardware ignores them).
 *  - Reserved bits, FMT = 2-level without IDR0.ST_LEVEL, SPLIT other than
 *    6, 8 or 10, and addresses beyond IDR5.OAS are refused with -EINVAL.
 *  - CR0.PRIQEN is refused with -EOPNOTSUPP: there is no PRI queue.
 *  - GBPA takes effect at once; UPDATE always reads as 0.
 *  - Writing CMDQ_PROD (or enabling CR0.CMDQEN, or acknowledging a command
 *    error in GERRORN) consumes the command queue (cmdq.c); each command is
 *    counted and applied to every modelled cache.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "formats/smmuv3/smmu_int.h"

/* The last event record finish() made, for explanations. */
struct smmu_priv {
	struct smmu_state st;
	bool have_last;
	int last_status;
	uint64_t last[4];
};

static int smmu_init(struct ims_iommu *iommu, const struct ims_model *model, void **priv,
		     char *err, size_t errlen)
{
	struct smmu_priv *p = calloc(1, sizeof(*p));
	int rc;

	(void)iommu;
	if (!p)
		return -ENOMEM;
	rc = smmu_regs_parse(json_object_get(ims_model_json(model), "smmuv3"),
			     ims_model_label(model), ims_model_haw(model), &p->st, err, errlen);
	if (rc) {
		free(p);
		return rc;
	}
	*priv = p;
	return 0;
}

static void smmu_fini(void *priv)
{
	free(priv);
}

/* A command the queue carried out: every modelled cache applies it. */
static void apply_cmd(void *opaque, const struct ims_inv *inv)
{
	struct ims_iommu *iommu = opaque;

	smmu_state(iommu)->cmds_applied++;
	ims_invalidate(iommu, inv, NULL);
}

/* Register names (6.3), with or without the SMMU_ prefix. */
enum smmu_reg {
	R_CR0, R_CR1, R_CR2, R_GBPA, R_STRTAB_BASE, R_STRTAB_BASE_CFG, R_CMDQ_BASE,
	R_CMDQ_PROD, R_CMDQ_CONS, R_EVENTQ_BASE, R_EVENTQ_PROD, R_EVENTQ_CONS, R_GERROR,
	R_GERRORN, R_IDR0, R_IDR1, R_IDR2, R_IDR3, R_IDR4, R_IDR5, R_IIDR, R_AIDR, R__COUNT
};

static const char *const reg_names[R__COUNT] = {
	"CR0", "CR1", "CR2", "GBPA", "STRTAB_BASE", "STRTAB_BASE_CFG", "CMDQ_BASE",
	"CMDQ_PROD", "CMDQ_CONS", "EVENTQ_BASE", "EVENTQ_PROD", "EVENTQ_CONS", "GERROR",
	"GERRORN", "IDR0", "IDR1", "IDR2", "IDR3", "IDR4", "IDR5", "IIDR", "AIDR",
};

static int reg_lookup(const char *name)
{
	if (!strncasecmp(name, "SMMU_", 5))
		name += 5;
	for (int i = 0; i < R__COUNT; i++)
		if (!strcasecmp(name, reg_names[i]))
			return i;
	return -1;
}

static bool addr_ok(const struct smmu_state *st, uint64_t addr)
{
	return !(addr >> st->oas_bits);
}

static int smmu_set_reg(struct ims_iommu *iommu, const char *name, uint64_t v)
{
	struct smmu_state *st = smmu_state(iommu);
	int r = reg_lookup(name);

	switch (r) {
	case R_CR0:
		if (v & ~SMMU_CR0_VALID)
			return -EINVAL;
		if (v & SMMU_CR0_PRIQEN)
			return -EOPNOTSUPP;
		st->cr0 = (uint32_t)v;
		if (st->cr0 & SMMU_CR0_CMDQEN)
			smmu_cmdq_process(iommu, apply_cmd, iommu, NULL);
		return 0;
	case R_CR1:
		if (v & ~SMMU_CR1_VALID)
			return -EINVAL;
		st->cr1 = (uint32_t)v;
		return 0;
	case R_CR2:
		if (v & ~SMMU_CR2_VALID)
			return -EINVAL;
		st->cr2 = (uint32_t)v;
		return 0;
	case R_GBPA: {
		uint64_t valid = SMMU_GBPA_MEMATTR | SMMU_GBPA_MTCFG | SMMU_GBPA_ALLOCCFG |
				 SMMU_GBPA_SHCFG | SMMU_GBPA_PRIVCFG | SMMU_GBPA_INSTCFG |
				 SMMU_GBPA_ABORT | SMMU_GBPA_UPDATE;

		if (v & ~valid)
			return -EINVAL;
		st->gbpa = (uint32_t)(v & ~SMMU_GBPA_UPDATE);
		return 0;
	}
	case R_STRTAB_BASE:
		if ((v & ~(SMMU_STRTAB_BASE_ADDR | SMMU_STRTAB_BASE_RA)) ||
		    !addr_ok(st, v & SMMU_STRTAB_BASE_ADDR))
			return -EINVAL;
		if (st->cr0 & SMMU_CR0_SMMUEN)
			return -EBUSY;
		st->strtab_base = v;
		return 0;
	case R_STRTAB_BASE_CFG: {
		unsigned fmt = (unsigned)FIELD_GET(SMMU_STRTAB_CFG_FMT, v);
		unsigned split = (unsigned)FIELD_GET(SMMU_STRTAB_CFG_SPLIT, v);

		if ((v & ~(SMMU_STRTAB_CFG_LOG2SIZE | SMMU_STRTAB_CFG_SPLIT | SMMU_STRTAB_CFG_FMT)) ||
		    fmt > SMMU_STRTAB_2LVL ||
		    (fmt == SMMU_STRTAB_2LVL && (!FIELD_GET(SMMU_IDR0_ST_LEVEL, st->idr[0]) ||
						 (split != 6 && split != 8 && split != 10))))
			return -EINVAL;
		if (st->cr0 & SMMU_CR0_SMMUEN)
			return -EBUSY;
		st->strtab_base_cfg = (uint32_t)v;
		return 0;
	}
	case R_CMDQ_BASE:
	case R_EVENTQ_BASE:
		if ((v & ~(SMMU_Q_BASE_ADDR | SMMU_Q_BASE_LOG2SIZE | SMMU_Q_BASE_RWA)) ||
		    !addr_ok(st, v & SMMU_Q_BASE_ADDR))
			return -EINVAL;
		if (st->cr0 & (r == R_CMDQ_BASE ? SMMU_CR0_CMDQEN : SMMU_CR0_EVENTQEN))
			return -EBUSY;
		(r == R_CMDQ_BASE ? &st->cmdq : &st->evtq)->base = v;
		return 0;
	case R_CMDQ_PROD:
		if (v & ~SMMU_Q_IDX_WRP)
			return -EINVAL;
		st->cmdq.prod = (uint32_t)v;
		smmu_cmdq_process(iommu, apply_cmd, iommu, NULL);
		return 0;
	case R_CMDQ_CONS:
		if (v & ~(SMMU_Q_IDX_WRP | SMMU_CMDQ_CONS_ERR))
			return -EINVAL;
		if (st->cr0 & SMMU_CR0_CMDQEN)
			return -EBUSY;
		st->cmdq.cons = (uint32_t)v;
		return 0;
	case R_EVENTQ_PROD:
		if (v & ~(SMMU_Q_IDX_WRP | SMMU_EVTQ_PROD_OVFLG))
			return -EINVAL;
		if (st->cr0 & SMMU_CR0_EVENTQEN)
			return -EBUSY;
		st->evtq.prod = (uint32_t)v;
		return 0;
	case R_EVENTQ_CONS:
		if (v & ~(SMMU_Q_IDX_WRP | SMMU_EVTQ_CONS_OVACKFLG))
			return -EINVAL;
		st->evtq.cons = (uint32_t)v;
		return 0;
	case R_GERRORN:
		if (v > UINT32_MAX)
			return -EINVAL;
		st->gerrorn = (uint32_t)v;
		/* Acknowledging CMDQ_ERR lets the command queue go on (cmdq.c). */
		smmu_cmdq_process(iommu, apply_cmd, iommu, NULL);
		return 0;
	case R_GERROR:
	case R_IDR0: case R_IDR1: case R_IDR2: case R_IDR3: case R_IDR4: case R_IDR5:
	case R_IIDR: case R_AIDR:
		return -EINVAL; /* read-only */
	default:
		return -ENOENT;
	}
}

static int smmu_get_reg(struct ims_iommu *iommu, const char *name, uint64_t *v)
{
	struct smmu_state *st = smmu_state(iommu);
	int r = reg_lookup(name);

	switch (r) {
	case R_CR0: *v = st->cr0; return 0;
	case R_CR1: *v = st->cr1; return 0;
	case R_CR2: *v = st->cr2; return 0;
	case R_GBPA: *v = st->gbpa; return 0;
	case R_STRTAB_BASE: *v = st->strtab_base; return 0;
	case R_STRTAB_BASE_CFG: *v = st->strtab_base_cfg; return 0;
	case R_CMDQ_BASE: *v = st->cmdq.base; return 0;
	case R_CMDQ_PROD: *v = st->cmdq.prod; return 0;
	case R_CMDQ_CONS: *v = st->cmdq.cons; return 0;
	case R_EVENTQ_BASE: *v = st->evtq.base; return 0;
	case R_EVENTQ_PROD: *v = st->evtq.prod; return 0;
	case R_EVENTQ_CONS: *v = st->evtq.cons; return 0;
	case R_GERROR: *v = st->gerror; return 0;
	case R_GERRORN: *v = st->gerrorn; return 0;
	case R_IDR0: case R_IDR1: case R_IDR2: case R_IDR3: case R_IDR4: case R_IDR5:
		*v = st->idr[r - R_IDR0];
		return 0;
	case R_IIDR: *v = st->iidr; return 0;
	case R_AIDR: *v = st->aidr; return 0;
	default: return -ENOENT;
	}
}

uint32_t smmu_idr(struct ims_iommu *iommu, unsigned n)
{
	return n < 6 ? smmu_state(iommu)->idr[n] : 0;
}

uint64_t smmu_cmds_applied(struct ims_iommu *iommu)
{
	return smmu_state(iommu)->cmds_applied;
}

/* IAS (3.4): OAS, or at least 40 bits when AArch32 tables are supported. */
static unsigned smmu_ias(const struct smmu_state *st)
{
	unsigned ias = st->oas_bits;

	if (FIELD_GET(SMMU_IDR0_TTF, st->idr[0]) == SMMU_TTF_BOTH && ias < 40)
		ias = 40;
	return ias;
}

static int smmu_fetch_config(struct ims_iommu *iommu, const struct ims_txn *txn,
			     struct ims_xlate_cfg *cfg, struct ims_result *res)
{
	struct smmu_priv *p = ims_iommu_arch_priv(iommu);
	struct smmu_state *st = &p->st;
	struct smmu_ste_info si;
	unsigned ias;
	int rc;

	p->have_last = false;
	/* Step 1 (3.9.1): with SMMUEN = 0, GBPA decides: abort (no event) or bypass. */
	if (!(st->cr0 & SMMU_CR0_SMMUEN)) {
		if (st->gbpa & SMMU_GBPA_ABORT) {
			cfg->mode = IMS_XM_ABORT;
			cfg->fault_disable = true;
			ims_result_fault(res, IMS_FK_ABORT, 0, -1, 0);
			res->fault.arch_name = "terminated: SMMU_CR0.SMMUEN = 0 and SMMU_GBPA.ABORT = 1";
			return 0;
		}
		cfg->mode = IMS_XM_BYPASS;
		return 0;
	}
	/* Step 2: the STE (ste.c). */
	rc = smmu_ste_fetch_decode(iommu, txn, &si, cfg, res);
	if (rc || res->fault.kind != IMS_FK_NONE)
		return rc;
	/* Step 3: a stage-2-only input (an IPA) beyond IAS is an Address size fault. */
	ias = smmu_ias(st);
	if (cfg->mode == IMS_XM_S2 && (txn->addr >> ias)) {
		ims_result_fault(res, IMS_FK_ADDR_SIZE, 2, -1, 0);
		res->fault.ipa = txn->addr;
		return 0;
	}
	/* Step 4: the CD (cd.c) when stage 1 translates. */
	if (si.s1)
		return smmu_cd_fetch_decode(iommu, txn, &si, cfg, res);
	return 0;
}

static void smmu_finish(struct ims_iommu *iommu, const struct ims_txn *txn,
			const struct ims_xlate_cfg *cfg, struct ims_result *res)
{
	struct smmu_priv *p = ims_iommu_arch_priv(iommu);
	struct ims_fault *f = &res->fault;
	struct smmu_event ev;
	bool record;

	if (res->ok)
		return;
	smmu_fault_to_event(txn, cfg, res, &ev);
	f->arch_code = ev.type;
	if (ev.type)
		f->arch_name = smmu_event_name(ev.type);
	if (!f->arch_name)
		f->arch_name = "unknown event";
	if (!ev.type)
		return; /* terminated without an event (Config abort, GBPA.ABORT) */
	/* CD.R / STE.S2R decide whether the four translation faults are recorded. */
	if (smmu_event_is_translation(ev.type)) {
		record = ev.s2 ? (cfg->arch_flags & SMMU_AF_S2R) : (cfg->arch_flags & SMMU_AF_S1R);
		if (!record) {
			f->suppressed = true;
			return;
		}
	}
	smmu_event_encode(&ev, p->last);
	p->last_status = smmu_evtq_write(iommu, p->last);
	p->have_last = true;
	f->recorded = p->last_status == SMMU_EVTQ_WRITTEN;
}

static int smmu_describe_fault(struct ims_iommu *iommu, const struct ims_result *res,
			       char *buf, size_t len)
{
	static const char *const classes[4] = { "CD", "TTD", "IN", "?" };
	static const char *const why[] = {
		[SMMU_EVTQ_WRITTEN] = "",
		[SMMU_EVTQ_DISABLED] = " (not written: SMMU_CR0.EVENTQEN = 0)",
		[SMMU_EVTQ_OVERFLOW] = " (not written: event queue full, overflow flagged)",
		[SMMU_EVTQ_ABORT] = " (not written: abort writing the queue, GERROR.EVTQ_ABT_ERR)",
	};
	struct smmu_priv *p = ims_iommu_arch_priv(iommu);
	struct smmu_event ev;
	int n;

	if (!p->have_last || res->ok || smmu_event_decode(p->last, &ev) ||
	    ev.type != res->fault.arch_code)
		return -ENOENT;
	n = snprintf(buf, len, "event record 0x%016llx 0x%016llx 0x%016llx 0x%016llx",
		     (unsigned long long)p->last[0], (unsigned long long)p->last[1],
		     (unsigned long long)p->last[2], (unsigned long long)p->last[3]);
	if (n < 0 || (size_t)n >= len)
		return 0;
	if (ev.type == SMMU_EVT_F_WALK_EABT)
		n += snprintf(buf + n, len - (size_t)n, "\n         S2=%d CLASS=%s FetchAddr=0x%llx",
			      ev.s2, classes[ev.class_ & 3], (unsigned long long)ev.fetch_addr);
	else if (smmu_event_is_translation(ev.type) && ev.s2)
		n += snprintf(buf + n, len - (size_t)n, "\n         S2=1 CLASS=%s IPA=0x%llx",
			      classes[ev.class_ & 3], (unsigned long long)ev.ipa);
	else if (smmu_event_is_translation(ev.type))
		n += snprintf(buf + n, len - (size_t)n, "\n         S2=0 CLASS=%s",
			      classes[ev.class_ & 3]);
	else if (ev.type == SMMU_EVT_F_STE_FETCH || ev.type == SMMU_EVT_F_CD_FETCH)
		n += snprintf(buf + n, len - (size_t)n, "\n         FetchAddr=0x%llx",
			      (unsigned long long)ev.fetch_addr);
	if (n > 0 && (size_t)n < len && p->last_status > 0 && p->last_status <= SMMU_EVTQ_ABORT)
		snprintf(buf + n, len - (size_t)n, "%s", why[p->last_status]);
	return 0;
}

static const char *smmu_label_name(unsigned label)
{
	switch (label) {
	case SMMU_LBL_L1STD: return "L1STD (stream table L1)";
	case SMMU_LBL_STE: return "STE";
	case SMMU_LBL_L1CD: return "L1CD (CD table L1)";
	case SMMU_LBL_CD: return "CD";
	default: return "?";
	}
}

/*
 * Software's walk configuration for scenario "map" steps, with the 4 KiB
 * granule: stage 1 with `levels` levels is CD.TG0 = 0 (4K), T0SZ = 64 -
 * (12 + 9 * levels) (levels 4: T0SZ 16, a 48-bit VA; 3: T0SZ 25); stage 2
 * is STE.S2TG = 0, S2T0SZ likewise and S2SL0 = levels - 2 (4 levels: SL0 2,
 * start at level 0; 3: SL0 1).  Output size: IDR5.OAS.
 */
static int smmu_stage_cfg(struct ims_iommu *iommu, unsigned stage, unsigned levels,
			  uint64_t root, struct ims_pt_cfg *cfg)
{
	struct smmu_state *st = smmu_state(iommu);
	uint32_t flags = 0;

	if (levels < 2 || levels > 4 || !(st->idr[5] & SMMU_IDR5_GRAN4K))
		return -EINVAL;
	if (st->idr[3] & SMMU_IDR3_STT)
		flags |= SMMU_F_STT;
	if (stage == 1 && (st->idr[0] & SMMU_IDR0_S1P))
		return smmu_s1_cfg_init(cfg, root, 12, 64 - (12 + 9 * levels), st->oas_bits, flags);
	if (st->idr[3] & SMMU_IDR3_XNX)
		flags |= SMMU_F_XNX;
	if (stage == 2 && (st->idr[0] & SMMU_IDR0_S2P))
		return smmu_s2_cfg_init(cfg, root, 12, 64 - (12 + 9 * levels), levels - 2,
					st->oas_bits, flags);
	return -EINVAL;
}

static const struct ims_arch_terms smmu_terms = {
	.source = "StreamID",
	.pasid = "SSID",
	.domain = "VMID",
	.tag_pasid = "ASID",
	.ipa = "IPA",
	.code = "event",
	.recorded = "written to the event queue",
	.suppressed = "not recorded: CD.R / STE.S2R is 0",
};

const struct ims_arch_ops ims_smmu_arch = {
	.name = "Arm SMMUv3",
	.init = smmu_init,
	.fini = smmu_fini,
	.set_reg = smmu_set_reg,
	.get_reg = smmu_get_reg,
	.fetch_config = smmu_fetch_config,
	.finish = smmu_finish,
	.decode_inv = smmu_decode_cmd,
	.label_name = smmu_label_name,
	.structs = smmu_structs,
	.nstructs = SMMU_NSTRUCTS,
	.label_struct = smmu_label_struct,
	.stage_cfg = smmu_stage_cfg,
	.terms = &smmu_terms,
	.describe_fault = smmu_describe_fault,
};
