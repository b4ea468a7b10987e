/*
 * vtd.c - Intel VT-d as an iommusim architecture (struct ims_arch_ops).
 *
 * Reference: VT-d spec rev 4.x: 3.3-3.4 (translation modes and RTADDR_REG
 * TTM), 10.4.4/11.4.4 (GCMD_REG.TE), 3.15 (interrupt address range), 7
 * (faults).
 *
 * Software programs RTADDR (root table address with the TTM field) and TE
 * (GCMD_REG.TE as 0/1) here, and the invalidation queue (IQA, IQT, QIE,
 * FSTS, ICS) in qi.c.  With TE clear, requests are not remapped.  The translation itself is driven by engine/iommu.c; this file
 * fetches the configuration (root_context.c, pasid.c) and finishes faults
 * (fault.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "formats/vtd/vtd_int.h"

#define VTD_INTR_FIRST UINT64_C(0xfee00000)
#define VTD_INTR_LAST UINT64_C(0xfeefffff)

static int vtd_init(struct ims_iommu *iommu, const struct ims_model *model, void **priv,
		    char *err, size_t errlen)
{
	struct vtd_state *st;
	unsigned records;
	uint64_t cap, ecap;
	int rc;

	(void)iommu;
	rc = vtd_caps_parse(json_object_get(ims_model_json(model), "vtd"), ims_model_label(model),
			    &cap, &ecap, &records, err, errlen);
	if (rc)
		return rc;
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->cap = cap;
	st->ecap = ecap;
	st->haw = ims_model_haw(model);
	st->log = vtd_fault_log_new(records);
	if (!st->log) {
		free(st);
		return -ENOMEM;
	}
	*priv = st;
	return 0;
}

static void vtd_fini(void *priv)
{
	struct vtd_state *st = priv;

	vtd_fault_log_free(st->log);
	free(st);
}

static int vtd_set_reg(struct ims_iommu *iommu, const char *name, uint64_t value)
{
	struct vtd_state *st = vtd_state(iommu);

	if (!strcasecmp(name, "RTADDR") || !strcasecmp(name, "RTADDR_REG")) {
		if (value & GENMASK(9, 0))
			return -EINVAL;
		st->rtaddr = value;
		return 0;
	}
	if (!strcasecmp(name, "TE") || !strcasecmp(name, "GCMD.TE")) {
		if (value > 1)
			return -EINVAL;
		st->te = value;
		return 0;
	}
	return vtd_qi_set_reg(iommu, name, value);
}

static int vtd_get_reg(struct ims_iommu *iommu, const char *name, uint64_t *value)
{
	struct vtd_state *st = vtd_state(iommu);

	if (!strcasecmp(name, "RTADDR") || !strcasecmp(name, "RTADDR_REG"))
		*value = st->rtaddr;
	else if (!strcasecmp(name, "TE") || !strcasecmp(name, "GCMD.TE"))
		*value = st->te;
	else if (!strcasecmp(name, "CAP") || !strcasecmp(name, "CAP_REG"))
		*value = st->cap;
	else if (!strcasecmp(name, "ECAP") || !strcasecmp(name, "ECAP_REG"))
		*value = st->ecap;
	else
		return vtd_qi_get_reg(iommu, name, value);
	return 0;
}

static int vtd_fetch_config(struct ims_iommu *iommu, const struct ims_txn *txn,
			    struct ims_xlate_cfg *cfg, struct ims_result *res)
{
	struct vtd_state *st = vtd_state(iommu);
	unsigned ttm = (unsigned)FIELD_GET(VTD_RTADDR_TTM, st->rtaddr);

	if (!st->te) {
		cfg->mode = IMS_XM_BYPASS;
		return 0;
	}
	switch (ttm) {
	case VTD_TTM_LEGACY:
		return vtd_fetch_legacy(iommu, txn, cfg, res);
	case VTD_TTM_SCALABLE:
		if (st->ecap & VTD_ECAP_SMTS)
			return vtd_fetch_scalable(iommu, txn, cfg, res);
		break;
	case VTD_TTM_ABORT:
		if (st->ecap & VTD_ECAP_ADMS) {
			/* Abort-DMA mode blocks every request without reporting it. */
			cfg->mode = IMS_XM_ABORT;
			cfg->fault_disable = true;
			ims_config_fault(res, 0, 0);
			res->fault.arch_name = "blocked: abort-DMA mode (TTM=11b)";
			return 0;
		}
		break;
	default:
		break;
	}
	cfg->mode = IMS_XM_ABORT;
	ims_config_fault(res, VTD_FR_SM_RTA_INVALID, st->rtaddr & VTD_RTADDR_RTA);
	return 0;
}

static void vtd_finish(struct ims_iommu *iommu, const struct ims_txn *txn,
		       const struct ims_xlate_cfg *cfg, struct ims_result *res)
{
	struct vtd_state *st = vtd_state(iommu);
	bool scalable = vtd_is_scalable(st);
	struct ims_fault *f = &res->fault;

	/* 3.15: a remapped request may not reach the interrupt address range. */
	if (res->ok && cfg->mode != IMS_XM_BYPASS && res->out_addr >= VTD_INTR_FIRST &&
	    res->out_addr <= VTD_INTR_LAST) {
		ims_result_fault(res, IMS_FK_CONFIG, 0, -1, 0);
		f->arch_code = scalable ? VTD_FR_SM_INTERRUPT_ADDR : VTD_FR_INTERRUPT_ADDR;
		f->iova = txn->addr;
	}
	if (res->ok)
		return;
	f->arch_code = vtd_fault_reason(cfg, f, scalable, txn->access);
	if (!f->arch_name)
		f->arch_name = vtd_fault_reason_name(f->arch_code);
	if (!f->arch_name)
		f->arch_name = "unknown fault reason";
	if (f->arch_code == 0)
		return; /* not a recordable fault (unsupported request, abort mode) */
	if (cfg->fault_disable) {
		f->suppressed = true;
		return;
	}
	f->recorded = vtd_fault_record(st->log, txn, f);
}

static const char *vtd_label_name(unsigned label)
{
	switch (label) {
	case VTD_LBL_ROOT: return "root entry";
	case VTD_LBL_SM_ROOT: return "scalable root entry";
	case VTD_LBL_CONTEXT: return "context entry";
	case VTD_LBL_SM_CONTEXT: return "scalable context entry";
	case VTD_LBL_PASID_DIR: return "PASID directory entry";
	case VTD_LBL_PASID_ENTRY: return "PASID table entry";
	default: return "?";
	}
}

uint64_t vtd_cap(struct ims_iommu *iommu)
{
	return vtd_state(iommu)->cap;
}

uint64_t vtd_ecap(struct ims_iommu *iommu)
{
	return vtd_state(iommu)->ecap;
}

/* Software's walk configuration: stage 1 = first stage, 2 = second stage. */
static int vtd_stage_cfg(struct ims_iommu *iommu, unsigned stage, unsigned levels, uint64_t root,
			 struct ims_pt_cfg *cfg)
{
	struct vtd_state *st = vtd_state(iommu);

	if (stage == 1) {
		if (levels != 4 && !(levels == 5 && (st->cap & VTD_CAP_FS5LP)))
			return -EINVAL;
		vtd_fs_cfg_init(cfg, root, levels, st->haw,
				(st->cap & VTD_CAP_FS1GP) ? VTD_F_FS1GP : 0);
		return 0;
	}
	if (stage != 2 || levels < 3 || !vtd_agaw_supported(st->cap, levels - 2))
		return -EINVAL;
	vtd_ss_cfg_init(cfg, root, levels - 2, 64, st->haw, vtd_ss_cap_flags(st));
	return 0;
}

const struct ims_arch_ops ims_vtd_arch = {
	.name = "Intel VT-d",
	.init = vtd_init,
	.fini = vtd_fini,
	.set_reg = vtd_set_reg,
	.get_reg = vtd_get_reg,
	.fetch_config = vtd_fetch_config,
	.finish = vtd_finish,
	.decode_inv = vtd_decode_inv,
	.label_name = vtd_label_name,
	.structs = vtd_structs,
	.nstructs = VTD_NSTRUCTS,
	.label_struct = vtd_label_struct,
	.stage_cfg = vtd_stage_cfg,
};
