/*
 * root_context.c - VT-d root table and context entries, legacy and scalable.
 *
 * Reference: VT-d spec rev 4.x, 3.4 (mapping devices to domains: root and
 * context tables), 3.4.2-3.4.3 (legacy and scalable mode), 9.1-9.4 (root
 * entry, scalable-mode root entry, context entry, scalable-mode context
 * entry), 7.1.3 (fault conditions).
 *
 * Requester ID = bus (15:8) | device (7:3) | function (2:0).
 *   legacy:   root table[bus] (128-bit) -> context table[devfn] (128-bit)
 *   scalable: root table[bus] has two halves, lower for devfn 0-127 and
 *             upper for 128-255 -> context table[devfn % 128] (256-bit)
 *             -> PASID directory/table (pasid.c)
 * Steps follow the spec's order: root entry, then context entry, each
 * checked for access error, present, reserved bits, then validity.
 */
#include <string.h>

#include "formats/vtd/vtd_int.h"
#include "iotlb/iotlb_int.h"

/*
 * Legacy mode (TTM = 00b): root entry -> context entry -> second stage or
 * pass-through.  Requests with PASID are not supported in legacy mode.
 */
int vtd_fetch_legacy(struct ims_iommu *iommu, const struct ims_txn *txn,
		     struct ims_xlate_cfg *cfg, struct ims_result *res)
{
	struct vtd_state *st = vtd_state(iommu);
	uint64_t rta = st->rtaddr & VTD_RTADDR_RTA;
	unsigned bus = (txn->sid >> 8) & 0xff, devfn = txn->sid & 0xff;
	uint64_t re[2], ce[2], pa, hi_rsvd = ~ims_mask_lg2(st->haw);
	struct ims_read *rd;
	struct ims_cc_entry *cc;
	bool ab;
	unsigned tt, aw;

	cfg->mode = IMS_XM_ABORT;
	/* Step 1: a request with PASID cannot be served in legacy mode. */
	if (txn->has_pasid)
		return ims_config_fail(NULL, res, VTD_DEC_INVALID, VTD_FR_SM_TTM0_PASID, 0);

	/* A context-cache hit skips the root and context entry reads. */
	cc = ims_cc_lookup(iommu, res, IMS_ST_CONTEXT, txn->sid, 0, false);
	if (cc) {
		memcpy(ce, cc->words, sizeof(ce));
		pa = cc->pa;
		rd = NULL;
		cfg->fault_disable = ce[0] & VTD_CE_0_FPD;
		goto validate;
	}

	/* Step 2: the root entry for the bus. */
	pa = rta + 16 * bus;
	rd = ims_config_read(iommu, res, VTD_LBL_ROOT, pa, pa, re, IMS_ARRAY_SIZE(re),
			     VTD_DEC_ABORT, &ab);
	if (ab)
		return ims_config_fail(rd, res, VTD_DEC_ABORT, VTD_FR_ROOT_ACCESS, pa);
	if (!(re[0] & VTD_RE_0_P))
		return ims_config_fail(rd, res, VTD_DEC_NOT_PRESENT, VTD_FR_ROOT_NOT_PRESENT, pa);
	if ((re[0] & (VTD_RE_0_RSVD | hi_rsvd)) || re[1])
		return ims_config_fail(rd, res, VTD_DEC_RESERVED, VTD_FR_ROOT_RSVD, pa);
	if (rd)
		rd->next = re[0] & VTD_RE_0_CTP;

	/* Step 3: the context entry for the device and function. */
	pa = (re[0] & VTD_RE_0_CTP) + 16 * devfn;
	rd = ims_config_read(iommu, res, VTD_LBL_CONTEXT, pa, pa, ce, IMS_ARRAY_SIZE(ce),
			     VTD_DEC_ABORT, &ab);
	if (ab)
		return ims_config_fail(rd, res, VTD_DEC_ABORT, VTD_FR_CTX_ACCESS, pa);
	if (!(ce[0] & VTD_CE_0_P))
		return ims_config_fail(rd, res, VTD_DEC_NOT_PRESENT, VTD_FR_CTX_NOT_PRESENT, pa);
	cfg->fault_disable = ce[0] & VTD_CE_0_FPD;
	if ((ce[0] & (VTD_CE_0_RSVD | hi_rsvd)) || (ce[1] & (VTD_CE_1_RSVD7 | VTD_CE_1_RSVD)))
		return ims_config_fail(rd, res, VTD_DEC_RESERVED, VTD_FR_CTX_RSVD, pa);

validate:
	/* Step 4: translation type and address width must be supported. */
	tt = (unsigned)FIELD_GET(VTD_CE_0_TT, ce[0]);
	aw = (unsigned)FIELD_GET(VTD_CE_1_AW, ce[1]);
	cfg->domain = (uint32_t)FIELD_GET(VTD_CE_1_DID, ce[1]);
	if (tt == VTD_TT_RESERVED || (tt == VTD_TT_DEV_TLB && !(st->ecap & VTD_ECAP_DT)) ||
	    (tt == VTD_TT_PASS_THROUGH && !(st->ecap & VTD_ECAP_PT)))
		return ims_config_fail(rd, res, VTD_DEC_INVALID, VTD_FR_CTX_INVALID, pa);
	if (tt != VTD_TT_PASS_THROUGH && !vtd_agaw_supported(st->cap, aw))
		return ims_config_fail(rd, res, VTD_DEC_INVALID, VTD_FR_CTX_INVALID, pa);
	/* TT = 01b: the device may use ATS and cache translations (device-TLB). */
	cfg->ats = tt == VTD_TT_DEV_TLB;
	if (!cc)
		ims_cc_fill(iommu, IMS_ST_CONTEXT, txn->sid, 0, false, ce, 2, pa, cfg->domain, 0);
	if (tt == VTD_TT_PASS_THROUGH) {
		cfg->mode = IMS_XM_BYPASS;
		return 0;
	}
	if (rd)
		rd->next = ce[0] & VTD_CE_0_SSPTPTR;
	vtd_ss_cfg_init(&cfg->s2, ce[0] & VTD_CE_0_SSPTPTR, aw,
			(unsigned)FIELD_GET(VTD_CAP_MGAW, st->cap) + 1, st->haw,
			vtd_ss_cap_flags(st));
	cfg->mode = IMS_XM_S2;
	return 0;
}

/*
 * Scalable mode (TTM = 01b): scalable root entry half -> scalable context
 * entry -> PASID directory and table (pasid.c).
 */
int vtd_fetch_scalable(struct ims_iommu *iommu, const struct ims_txn *txn,
		       struct ims_xlate_cfg *cfg, struct ims_result *res)
{
	struct vtd_state *st = vtd_state(iommu);
	uint64_t rta = st->rtaddr & VTD_RTADDR_RTA;
	unsigned bus = (txn->sid >> 8) & 0xff, devfn = txn->sid & 0xff;
	uint64_t re[2], ce[4], pa, half, ctp, hi_rsvd = ~ims_mask_lg2(st->haw);
	struct ims_read *rd;
	struct ims_cc_entry *cc;
	bool ab, upper = devfn >= 128;

	cfg->mode = IMS_XM_ABORT;
	/* A context-cache hit skips the root and context entry reads. */
	cc = ims_cc_lookup(iommu, res, IMS_ST_CONTEXT, txn->sid, 0, false);
	if (cc) {
		memcpy(ce, cc->words, sizeof(ce));
		pa = cc->pa;
		rd = NULL;
		cfg->fault_disable = ce[0] & VTD_SCE_0_FPD;
		goto validate;
	}

	/* Step 1: the root entry; its lower or upper half by devfn bit 7. */
	pa = rta + 16 * bus;
	rd = ims_config_read(iommu, res, VTD_LBL_SM_ROOT, pa, pa, re, IMS_ARRAY_SIZE(re),
			     VTD_DEC_ABORT, &ab);
	if (ab)
		return ims_config_fail(rd, res, VTD_DEC_ABORT, VTD_FR_SM_ROOT_ACCESS, pa);
	half = upper ? re[1] : re[0];
	if (rd)
		rd->value = half;
	if (!(half & VTD_SRE_0_LP))
		return ims_config_fail(rd, res, VTD_DEC_NOT_PRESENT, VTD_FR_SM_ROOT_NOT_PRESENT,
				       pa);
	if (half & (VTD_SRE_0_RSVD | hi_rsvd))
		return ims_config_fail(rd, res, VTD_DEC_RESERVED, VTD_FR_SM_ROOT_RSVD, pa);
	ctp = half & VTD_SRE_0_LCTP;
	if (rd)
		rd->next = ctp;

	/* Step 2: the scalable-mode context entry (256 bits). */
	pa = ctp + 32 * (devfn & 0x7f);
	rd = ims_config_read(iommu, res, VTD_LBL_SM_CONTEXT, pa, pa, ce, IMS_ARRAY_SIZE(ce),
			     VTD_DEC_ABORT, &ab);
	if (ab)
		return ims_config_fail(rd, res, VTD_DEC_ABORT, VTD_FR_SM_CTX_ACCESS, pa);
	if (!(ce[0] & VTD_SCE_0_P))
		return ims_config_fail(rd, res, VTD_DEC_NOT_PRESENT, VTD_FR_SM_CTX_NOT_PRESENT, pa);
	cfg->fault_disable = ce[0] & VTD_SCE_0_FPD;
	if ((ce[0] & (VTD_SCE_0_RSVD | hi_rsvd)) || (ce[1] & VTD_SCE_1_RSVD) || ce[2] || ce[3] ||
	    ((ce[1] & VTD_SCE_1_RID_PRIV) && !(st->ecap & VTD_ECAP_RPRIVS)))
		return ims_config_fail(rd, res, VTD_DEC_RESERVED, VTD_FR_SM_CTX_RSVD, pa);
validate:
	/* Step 3: enables the hardware does not support make the entry invalid. */
	if (((ce[0] & VTD_SCE_0_DTE) && !(st->ecap & VTD_ECAP_DT)) ||
	    ((ce[0] & VTD_SCE_0_PRE) && !(st->ecap & VTD_ECAP_PRS)))
		return ims_config_fail(rd, res, VTD_DEC_INVALID, VTD_FR_SM_CTX_INVALID, pa);
	if (rd)
		rd->next = ce[0] & VTD_SCE_0_PASIDDIRPTR;
	if (!cc)
		ims_cc_fill(iommu, IMS_ST_CONTEXT, txn->sid, 0, false, ce, 4, pa, IMS_CC_NO_DOMAIN,
			    0);
	/* DTE: the device may use ATS and cache translations (device-TLB). */
	cfg->ats = (ce[0] & VTD_SCE_0_DTE) != 0;
	return vtd_fetch_pasid(iommu, txn, ce, cfg, res);
}
