/*
 * cd.c - SMMUv3 Context Descriptors: CD tables, the CD fetch and decode.
 *
 * Reference: Arm IHI 0070 (SMMUv3) 3.4 (address translation: stage-1
 * context), 3.4.3 (nested translation: CD and table addresses are IPAs),
 * 5.3 (Level 1 Context Descriptor), 5.4 (Context Descriptor: T0SZ, TG0,
 * EPD0, ENDI, T1SZ, TG1, EPD1, V, IPS, AFFD, WXN, UWXN, TBI, PAN, AA64, HD,
 * HA, S, R, A, ASET, ASID, TTB0, TTB1), 7.3 (F_CD_FETCH, C_BAD_CD,
 * C_BAD_SUBSTREAMID); Arm ARM (DDI 0487) D8.2 (VA ranges: TTBR0/TTBR1 by
 * VA bit 55, TBI, EPDx).
 *
 * CD tables (STE.S1Fmt, when STE.S1CDMax != 0; with S1CDMax = 0 the one CD
 * is at S1ContextPtr and S1Fmt is ignored):
 *   linear:        2^S1CDMax CDs of 64 bytes at S1ContextPtr
 *   2-level, 4K:   L1CD[SSID >> 6] -> L2Ptr: 64 CDs, SSID[5:0]
 *   2-level, 64K:  L1CD[SSID >> 10] -> L2Ptr: 1024 CDs, SSID[9:0]
 * In nested configurations (STE.Config = 0b111) S1ContextPtr and L1CD.L2Ptr
 * are IPAs: each fetch first translates its address through stage 2, and
 * a stage-2 fault there is reported as the stage-2 fault itself with S2 = 1
 * and CLASS = CD (finish() in smmu.c); an abort reading the L1CD or the CD
 * is F_CD_FETCH.
 *
 * Judgement calls:
 *  - Both VA ranges a CD enables (EPDx = 0) are validated, whichever the
 *    request uses: an ILLEGAL range makes the whole CD ILLEGAL (C_BAD_CD).
 *  - IPS above IDR5.OAS is capped to OAS; IPS = 0b111 is ILLEGAL.
 *  - A = 0 (terminate as RAZ/WI) is ILLEGAL when IDR0.TERM_MODEL = 1; with
 *    TERM_MODEL = 0 it is accepted, but this model still reports the
 *    transaction as failed (it models the fault, not the RAZ/WI data).
 *  - S = 1 is ILLEGAL (IDR0.STALL_MODEL is 0b01 in every model accepted).
 *  - ASID[15:8] != 0 without IDR0.ASID16, and HA/HD beyond IDR0.HTTU, are
 *    ILLEGAL (RES0 fields the implementation may check; this one does).
 *  - With STE.STRW = EL2 (and no E2H) there is one VA range: TTB1 is not
 *    used and VA bit 55 does not select it.
 *  - MAIR/AMAIR, IRx/ORx/SHx, ASET, HADx and NSCFGx are accepted and
 *    ignored: memory types and Secure state are not modelled.
 */
#include <errno.h>
#include <string.h>

#include "formats/smmuv3/smmu_int.h"
#include "iotlb/iotlb_int.h"

/*
 * Read a CD-table structure at `addr` (an IPA when nested).  Returns true
 * with the words read; false with the fault in res (the stage-2 fault of
 * the address translation, or F_CD_FETCH for an abort).
 */
static bool cd_read(struct ims_iommu *iommu, const struct smmu_ste_info *si,
		    struct ims_xlate_cfg *cfg, struct ims_result *res, enum smmu_label label,
		    uint64_t addr, uint64_t *buf, unsigned nwords, struct ims_read **rdp,
		    uint64_t *pap)
{
	uint64_t pa = addr;
	bool ab;

	*rdp = NULL;
	if (si->s2 && si->config == SMMU_CONFIG_NESTED) {
		if (!ims_translate_config_addr(iommu, res, &cfg->s2, si->vmid, addr, &pa)) {
			/* A stage-2 fault on a CD-table address: CLASS = CD. */
			cfg->arch_flags |= SMMU_AF_CD_S2;
			res->fault.level = -1;
			cfg->mode = IMS_XM_NESTED;
			return false;
		}
	}
	*rdp = ims_config_read(iommu, res, label, addr, pa, buf, nwords, SMMU_DEC_ABORT, &ab);
	if (pap)
		*pap = pa;
	if (ab) {
		ims_config_fail(*rdp, res, SMMU_DEC_ABORT, SMMU_EVT_F_CD_FETCH, pa);
		return false;
	}
	return true;
}

/* Step 5 for one VA range: a walk configuration, or -1 when ILLEGAL. */
static int cd_range(struct smmu_state *st, const uint64_t *cd, bool ttb1, unsigned oa_bits,
		    uint32_t flags, struct ims_pt_cfg *out)
{
	unsigned tg = (unsigned)(ttb1 ? FIELD_GET(SMMU_CD_0_TG1, cd[0])
				      : FIELD_GET(SMMU_CD_0_TG0, cd[0]));
	unsigned granule = smmu_tg_granule(st, tg, ttb1);
	unsigned tsz = (unsigned)(ttb1 ? FIELD_GET(SMMU_CD_0_T1SZ, cd[0])
				       : FIELD_GET(SMMU_CD_0_T0SZ, cd[0]));
	uint64_t ttb = ttb1 ? (cd[2] & SMMU_CD_2_TTB1) : (cd[1] & SMMU_CD_1_TTB0);
	bool tbi = cd[0] & (ttb1 ? SMMU_CD_0_TBI1 : SMMU_CD_0_TBI0);

	if (!granule)
		return -1;
	if (ttb >> oa_bits)
		return -1;
	flags |= (ttb1 ? SMMU_F_TTB1 : 0) | (tbi ? SMMU_F_TBI : 0);
	return smmu_s1_cfg_init(out, ttb, granule, tsz, oa_bits, flags) ? -1 : 0;
}

int smmu_cd_fetch_decode(struct ims_iommu *iommu, const struct ims_txn *txn,
			 const struct smmu_ste_info *si, struct ims_xlate_cfg *cfg,
			 struct ims_result *res)
{
	struct smmu_state *st = smmu_state(iommu);
	unsigned httu = (unsigned)FIELD_GET(SMMU_IDR0_HTTU, st->idr[0]);
	unsigned endian = (unsigned)FIELD_GET(SMMU_IDR0_TTENDIAN, st->idr[0]);
	uint32_t ssid = txn->has_pasid ? txn->pasid : 0, flags = 0;
	bool one_range = si->strw == SMMU_STRW_EL2 && !si->s2 && !(st->cr2 & SMMU_CR2_E2H);
	unsigned ips, sel;
	uint64_t cd[8], addr = si->s1ctxptr, cd_pa = 0;
	struct ims_pt_cfg ranges[2];
	struct ims_read *rd;
	struct ims_cc_entry *cc;
	enum ims_xmode mode = cfg->mode;

	cfg->mode = IMS_XM_ABORT;

	/* A CD-cache hit skips the CD table reads (only valid CDs are cached). */
	cc = ims_cc_lookup(iommu, res, IMS_ST_PASID, txn->sid, ssid, true);
	if (cc) {
		memcpy(cd, cc->words, sizeof(cd));
		rd = NULL;
		goto validate;
	}

	/* Step 1: locate the CD for the SubstreamID (CD 0 without one). */
	if (si->s1cdmax && si->s1fmt != SMMU_S1FMT_LINEAR) {
		unsigned split = si->s1fmt == SMMU_S1FMT_4K_L2 ? 6 : 10;
		uint64_t l1cd, l1 = addr + 8 * (uint64_t)(ssid >> split);

		/* Step 2: the L1CD; V = 0 means no CDs for this range of SSIDs. */
		if (!cd_read(iommu, si, cfg, res, SMMU_LBL_L1CD, l1, &l1cd, 1, &rd, NULL))
			return 0;
		if (!(l1cd & SMMU_L1CD_V))
			return ims_config_fail(rd, res, SMMU_DEC_INVALID,
						SMMU_EVT_C_BAD_SUBSTREAMID, 0);
		if (rd)
			rd->next = l1cd & SMMU_L1CD_L2PTR;
		addr = (l1cd & SMMU_L1CD_L2PTR) + 64 * (uint64_t)(ssid & ims_mask_lg2(split));
	} else if (si->s1cdmax) {
		addr += 64 * (uint64_t)ssid;
	}

	/* Step 3: read the CD. */
	if (!cd_read(iommu, si, cfg, res, SMMU_LBL_CD, addr, cd, 8, &rd, &cd_pa))
		return 0;

validate:
	/* Step 4: validity of the CD as a whole. */
	if (!(cd[0] & SMMU_CD_0_V))
		return ims_config_fail(rd, res, SMMU_DEC_INVALID, SMMU_EVT_C_BAD_CD, 0);
	if (!(cd[0] & SMMU_CD_0_AA64)) {
		if (FIELD_GET(SMMU_IDR0_TTF, st->idr[0]) == SMMU_TTF_BOTH) {
			res->fault.arch_name = "unimplemented: AArch32 stage-1 tables (CD.AA64 = 0)";
			return -EOPNOTSUPP;
		}
		return ims_config_fail(rd, res, SMMU_DEC_ILLEGAL, SMMU_EVT_C_BAD_CD, 0);
	}
	if (cd[0] & SMMU_CD_0_ENDI) {
		if (endian == SMMU_TTENDIAN_MIXED) {
			res->fault.arch_name = "unimplemented: big-endian stage-1 tables (CD.ENDI = 1)";
			return -EOPNOTSUPP;
		}
		return ims_config_fail(rd, res, SMMU_DEC_ILLEGAL, SMMU_EVT_C_BAD_CD, 0);
	}
	ips = smmu_oas_bits((unsigned)FIELD_GET(SMMU_CD_0_IPS, cd[0]));
	if (!ips || (cd[0] & SMMU_CD_0_S) ||
	    (!(cd[0] & SMMU_CD_0_A) && (st->idr[0] & SMMU_IDR0_TERM_MODEL)) ||
	    ((cd[0] & SMMU_CD_0_HA) && httu < 1) || ((cd[0] & SMMU_CD_0_HD) && httu < 2) ||
	    (!(st->idr[0] & SMMU_IDR0_ASID16) && (FIELD_GET(SMMU_CD_0_ASID, cd[0]) >> 8)))
		return ims_config_fail(rd, res, SMMU_DEC_ILLEGAL, SMMU_EVT_C_BAD_CD, 0);
	if (ips > st->oas_bits)
		ips = st->oas_bits;

	/* Step 5: each enabled VA range must be a valid walk configuration. */
	if (st->idr[3] & SMMU_IDR3_STT)
		flags |= SMMU_F_STT;
	if (cd[0] & SMMU_CD_0_AFFD)
		flags |= SMMU_F_AFFD;
	if (cd[0] & SMMU_CD_0_HA)
		flags |= SMMU_F_HA;
	if ((cd[0] & SMMU_CD_0_HA) && (cd[0] & SMMU_CD_0_HD))
		flags |= SMMU_F_HD;
	if (cd[0] & SMMU_CD_0_WXN)
		flags |= SMMU_F_WXN;
	if (cd[0] & SMMU_CD_0_UWXN)
		flags |= SMMU_F_UWXN;
	if (cd[0] & SMMU_CD_0_PAN)
		flags |= SMMU_F_PAN;
	memset(ranges, 0, sizeof(ranges));
	if (!(cd[0] & SMMU_CD_0_EPD0) && cd_range(st, cd, false, ips, flags, &ranges[0]))
		return ims_config_fail(rd, res, SMMU_DEC_ILLEGAL, SMMU_EVT_C_BAD_CD, 0);
	if (!one_range && !(cd[0] & SMMU_CD_0_EPD1) && cd_range(st, cd, true, ips, flags, &ranges[1]))
		return ims_config_fail(rd, res, SMMU_DEC_ILLEGAL, SMMU_EVT_C_BAD_CD, 0);

	/*
	 * The CD is valid: cache it, with the PA it was read from (in nested
	 * mode addr is an IPA); its tags and fault recording apply from here.
	 */
	if (!cc)
		ims_cc_fill(iommu, IMS_ST_PASID, txn->sid, ssid, true, cd, 8, cd_pa, si->vmid, 0);
	cfg->pasid = (uint32_t)FIELD_GET(SMMU_CD_0_ASID, cd[0]);
	cfg->has_pasid = true;
	cfg->arch_flags |= SMMU_AF_HAVE_CD | ((cd[0] & SMMU_CD_0_R) ? SMMU_AF_S1R : 0);
	cfg->mode = mode;

	/* Step 6: VA bit 55 selects TTB0 or TTB1; a disabled range is a translation fault. */
	sel = one_range ? 0 : (unsigned)((txn->addr >> 55) & 1);
	if (cd[0] & (sel ? SMMU_CD_0_EPD1 : SMMU_CD_0_EPD0)) {
		if (rd)
			rd->next = 0;
		ims_result_fault(res, IMS_FK_TRANSLATION, 1, -1, 0);
		return 0;
	}
	cfg->s1 = ranges[sel];
	if (rd)
		rd->next = cfg->s1.root;
	return 0;
}
