/*
 * pasid.c - VT-d scalable-mode PASID directory and PASID table entries.
 *
 * Reference: VT-d spec rev 4.x, 3.4.3 (scalable-mode address translation),
 * 9.4 (context entry: PASIDE, PDTS, RID_PASID), 9.5 (PASID directory entry),
 * 9.6 (PASID table entry: PGTT, AW, SSPTPTR, FSPTPTR, FSPM, SRE, WPE, EAFE,
 * SSADE, SSEE, DID), 7.1.3 (scalable-mode fault conditions).
 *
 * PASID (20 bits) = directory index (19:6) | table index (5:0).
 *   directory: 2^(PDTS+7) 64-bit entries at PASIDDIRPTR
 *   table:     64 entries of 512 bits at SMPTBLPTR
 * PGTT: 001b first stage only, 010b second stage only, 011b nested,
 *       100b pass-through; other values are invalid.
 *
 * The ERE (129), NXE (133) and SMEP (134) bits of older revisions are
 * ignored: current revisions made them reserved, and guests written for
 * older ones may still set them.
 */
#include <string.h>

#include "formats/vtd/vtd_int.h"
#include "iotlb/iotlb_int.h"

int vtd_fetch_pasid(struct ims_iommu *iommu, const struct ims_txn *txn, const uint64_t *sce,
		    struct ims_xlate_cfg *cfg, struct ims_result *res)
{
	struct vtd_state *st = vtd_state(iommu);
	uint64_t hi_rsvd = ~ims_mask_lg2(st->haw);
	uint64_t pde, pe[8], pa;
	uint32_t pasid, flags = 0;
	unsigned pgtt, aw, fspm, mgaw = (unsigned)FIELD_GET(VTD_CAP_MGAW, st->cap) + 1;
	struct ims_read *rd;
	struct ims_cc_entry *cc;
	bool ab;

	/* Step 1: which PASID.  Requests without one use RID_PASID (RPS) or 0. */
	if (txn->has_pasid) {
		/* Requests with PASID need PASID support and a PASID inside PSS. */
		if (!(st->ecap & VTD_ECAP_PASID) ||
		    txn->pasid >= (UINT32_C(1) << (FIELD_GET(VTD_ECAP_PSS, st->ecap) + 1))) {
			/* Malformed request: completed as Unsupported Request, no record. */
			ims_config_fault(res, 0, 0);
			res->fault.arch_name = "unsupported request: PASID beyond ECAP.PSS";
			return 0;
		}
		if (!(sce[0] & VTD_SCE_0_PASIDE))
			return ims_config_fail(NULL, res, VTD_DEC_INVALID, VTD_FR_SM_PASIDE_CLEAR,
					       0);
		pasid = txn->pasid;
	} else {
		pasid = (st->ecap & VTD_ECAP_RPS) ? (uint32_t)FIELD_GET(VTD_SCE_1_RID_PASID, sce[1])
						  : 0;
	}
	cfg->pasid = pasid;
	cfg->has_pasid = true;

	/* Step 2: the directory must be large enough (PDTS). */
	if ((pasid >> 6) >= (UINT32_C(1) << (FIELD_GET(VTD_SCE_0_PDTS, sce[0]) + 7)))
		return ims_config_fail(NULL, res, VTD_DEC_INVALID, VTD_FR_SM_PASID_TOO_LARGE, 0);

	/* A PASID-cache hit skips the directory and PASID entry reads. */
	cc = ims_cc_lookup(iommu, res, IMS_ST_PASID, txn->sid, pasid, true);
	if (cc) {
		memcpy(pe, cc->words, sizeof(pe));
		pa = cc->pa;
		rd = NULL;
		cfg->fault_disable |= cc->aux || (pe[0] & VTD_PE_0_FPD);
		pgtt = (unsigned)FIELD_GET(VTD_PE_0_PGTT, pe[0]);
		goto validate;
	}

	/* Step 3: the PASID directory entry. */
	pa = (sce[0] & VTD_SCE_0_PASIDDIRPTR) + 8 * (pasid >> 6);
	rd = ims_config_read(iommu, res, VTD_LBL_PASID_DIR, pa, pa, &pde, 1, VTD_DEC_ABORT, &ab);
	if (ab)
		return ims_config_fail(rd, res, VTD_DEC_ABORT, VTD_FR_SM_PDE_ACCESS, pa);
	if (!(pde & VTD_PDE_P))
		return ims_config_fail(rd, res, VTD_DEC_NOT_PRESENT, VTD_FR_SM_PDE_NOT_PRESENT, pa);
	if (pde & VTD_PDE_FPD)
		cfg->fault_disable = true;
	if (pde & (VTD_PDE_RSVD | hi_rsvd))
		return ims_config_fail(rd, res, VTD_DEC_RESERVED, VTD_FR_SM_PDE_RSVD, pa);
	if (rd)
		rd->next = pde & VTD_PDE_SMPTBLPTR;

	/* Step 4: the PASID table entry (512 bits). */
	pa = (pde & VTD_PDE_SMPTBLPTR) + 64 * (pasid & 0x3f);
	rd = ims_config_read(iommu, res, VTD_LBL_PASID_ENTRY, pa, pa, pe, IMS_ARRAY_SIZE(pe),
			     VTD_DEC_ABORT, &ab);
	if (ab)
		return ims_config_fail(rd, res, VTD_DEC_ABORT, VTD_FR_SM_PE_ACCESS, pa);
	if (!(pe[0] & VTD_PE_0_P))
		return ims_config_fail(rd, res, VTD_DEC_NOT_PRESENT, VTD_FR_SM_PE_NOT_PRESENT, pa);
	if (pe[0] & VTD_PE_0_FPD)
		cfg->fault_disable = true;
	pgtt = (unsigned)FIELD_GET(VTD_PE_0_PGTT, pe[0]);
	if ((pe[0] & VTD_PE_0_RSVD) || (pe[1] & VTD_PE_1_RSVD) || (pe[2] & VTD_PE_2_RSVD) ||
	    pe[3] || pe[4] || pe[5] || pe[6] || pe[7] ||
	    ((pgtt == VTD_PGTT_SS || pgtt == VTD_PGTT_NESTED) && (pe[0] & hi_rsvd)) ||
	    (pgtt == VTD_PGTT_FS && (pe[2] & hi_rsvd & VTD_PE_2_FSPTPTR)))
		return ims_config_fail(rd, res, VTD_DEC_RESERVED, VTD_FR_SM_PE_RSVD, pa);

validate:
	/* Step 5: the translation type and its fields must be supported. */
	aw = (unsigned)FIELD_GET(VTD_PE_0_AW, pe[0]);
	fspm = (unsigned)FIELD_GET(VTD_PE_2_FSPM, pe[2]);
	switch (pgtt) {
	case VTD_PGTT_FS:
		if (!(st->ecap & VTD_ECAP_FSTS))
			goto invalid;
		break;
	case VTD_PGTT_SS:
		if (!(st->ecap & VTD_ECAP_SSTS))
			goto invalid;
		break;
	case VTD_PGTT_NESTED:
		if (!(st->ecap & VTD_ECAP_NEST) || !(st->ecap & VTD_ECAP_FSTS) ||
		    !(st->ecap & VTD_ECAP_SSTS))
			goto invalid;
		break;
	case VTD_PGTT_PT:
		if (!(st->ecap & VTD_ECAP_PT))
			goto invalid;
		break;
	default:
		goto invalid;
	}
	if (pgtt == VTD_PGTT_SS || pgtt == VTD_PGTT_NESTED) {
		if (!vtd_agaw_supported(st->cap, aw))
			goto invalid;
		if ((pe[0] & VTD_PE_0_SSADE) && !(st->ecap & VTD_ECAP_SSADS))
			goto invalid;
	}
	if (pgtt == VTD_PGTT_FS || pgtt == VTD_PGTT_NESTED) {
		if (fspm > 1 || (fspm == 1 && !(st->cap & VTD_CAP_FS5LP)))
			goto invalid;
		if ((pe[2] & VTD_PE_2_EAFE) && !(st->ecap & VTD_ECAP_EAFS))
			goto invalid;
	}

	/* Step 6: supervisor requests need SRE. */
	if ((txn->access & IMS_ACC_PRIV) && !(pe[2] & VTD_PE_2_SRE))
		return ims_config_fail(rd, res, VTD_DEC_INVALID, VTD_FR_SM_SRE_CLEAR, pa);

	cfg->domain = (uint32_t)FIELD_GET(VTD_PE_1_DID, pe[1]);
	cfg->arch_flags = pgtt;
	if (!cc)
		ims_cc_fill(iommu, IMS_ST_PASID, txn->sid, pasid, true, pe, 8, pa, cfg->domain,
			    (pde & VTD_PDE_FPD) != 0);
	if (pgtt == VTD_PGTT_PT) {
		cfg->mode = IMS_XM_BYPASS;
		return 0;
	}
	if (pgtt == VTD_PGTT_SS || pgtt == VTD_PGTT_NESTED) {
		uint32_t sf = vtd_ss_cap_flags(st);

		if (pe[0] & VTD_PE_0_SSADE)
			sf |= VTD_F_SSADE;
		if (pe[0] & VTD_PE_0_SSEE)
			sf |= VTD_F_SSEE;
		vtd_ss_cfg_init(&cfg->s2, pe[0] & VTD_PE_0_SSPTPTR, aw, mgaw, st->haw, sf);
	}
	if (pgtt == VTD_PGTT_FS || pgtt == VTD_PGTT_NESTED) {
		if (pe[2] & VTD_PE_2_WPE)
			flags |= VTD_F_WPE;
		if (pe[2] & VTD_PE_2_EAFE)
			flags |= VTD_F_EAFE;
		if (st->cap & VTD_CAP_FS1GP)
			flags |= VTD_F_FS1GP;
		vtd_fs_cfg_init(&cfg->s1, pe[2] & VTD_PE_2_FSPTPTR, fspm ? 5 : 4, st->haw, flags);
		if (pgtt == VTD_PGTT_NESTED) {
			/*
			 * Nested: first-stage table pointers and outputs are
			 * guest-physical, bounded by MGAW rather than by the
			 * host address width; stage 2 checks them further.
			 */
			cfg->s1.oa_bits = (uint8_t)(mgaw > 52 ? 52 : mgaw);
			cfg->s1.tag = 52;
		}
	}
	if (rd)
		rd->next = pgtt == VTD_PGTT_SS ? (pe[0] & VTD_PE_0_SSPTPTR)
					       : (pe[2] & VTD_PE_2_FSPTPTR);
	cfg->mode = pgtt == VTD_PGTT_FS ? IMS_XM_S1 : pgtt == VTD_PGTT_SS ? IMS_XM_S2 : IMS_XM_NESTED;
	return 0;

invalid:
	return ims_config_fail(rd, res, VTD_DEC_INVALID, VTD_FR_SM_PE_INVALID, pa);
}
