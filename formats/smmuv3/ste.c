/*
 * ste.c - the SMMUv3 Stream table: finding and decoding a StreamID's STE.
 *
 * Reference: Arm IHI 0070 (SMMUv3) 3.3 (data structures and translation
 * procedure), 3.3.2 (multi-level Stream table), 3.9 (SubstreamID and
 * S1DSS), 5.1 (Level 1 Stream Table Descriptor), 5.2 (Stream Table Entry:
 * V, Config, S1Fmt, S1ContextPtr, S1CDMax, S1DSS, S1STALLD, EATS, STRW,
 * S2VMID, S2T0SZ, S2SL0, S2TG, S2PS, S2AA64, S2ENDI, S2AFFD, S2PTW, S2HD,
 * S2HA, S2S, S2R, S2TTB), 6.3.23-6.3.24 (STRTAB_BASE, STRTAB_BASE_CFG), 7.3
 * (C_BAD_STREAMID, F_STE_FETCH, C_BAD_STE, F_STREAM_DISABLED,
 * C_BAD_SUBSTREAMID).
 *
 * Stream table formats (STRTAB_BASE_CFG.FMT):
 *   linear:  2^LOG2SIZE STEs of 64 bytes at STRTAB_BASE.ADDR
 *   2-level: L1STD[StreamID >> SPLIT] (8 bytes) -> L2Ptr, Span; the L2
 *            table holds 2^(Span-1) STEs indexed by StreamID[SPLIT-1:0]
 * A table base that is not aligned to its size is used aligned down.
 *
 * Judgement calls where this model had to read the spec closely:
 *  - A 2-level lookup whose L1STD has Span 0 (invalid), or whose L2 index
 *    lies beyond 2^(Span-1), reports C_BAD_STREAMID: the StreamID is out of
 *    the range the structures describe.  (QEMU reports C_BAD_STE for the
 *    second case.)  A Span larger than SPLIT + 1 counts as SPLIT + 1.
 *  - Fields the model's IDRs make RES0 (S2VMID[15:8] without VMID16, EATS
 *    without ATS, S2HA/S2HD without HTTU, S1STALLD/S2S without a stall
 *    model) make the STE ILLEGAL (C_BAD_STE) rather than being ignored:
 *    the spec lets an implementation do either, and flagging is kinder to
 *    the software being debugged.
 *  - A transaction with a SubstreamID to an STE whose stage 1 is not
 *    enabled (bypass or stage-2 only) reports C_BAD_SUBSTREAMID.
 *  - S2PTW and the memory-attribute fields (S1CIR/COR/CSH, S2IR0/OR0/SH0,
 *    MemAttr, ALLOCCFG, SHCFG, ...) are accepted and ignored: memory types
 *    are not modelled.
 *  - STE.EATS is validated, but transactions carry no ATS "translated"
 *    attribute, so F_TRANS_FORBIDDEN and F_BAD_ATS_TREQ are never raised.
 */
#include <errno.h>
#include <string.h>

#include "formats/smmuv3/smmu_int.h"
#include "iotlb/iotlb_int.h"

static uint64_t align_down(uint64_t addr, unsigned lg2)
{
	return addr & ~ims_mask_lg2(lg2);
}

/*
 * Steps 1-3: find the STE for the StreamID and read it.  Returns true with
 * ste[] filled, or false with the fault in res.
 */
static bool ste_find(struct ims_iommu *iommu, const struct ims_txn *txn, uint64_t *ste,
		     struct smmu_ste_info *si, struct ims_result *res)
{
	struct smmu_state *st = smmu_state(iommu);
	unsigned log2size = (unsigned)FIELD_GET(SMMU_STRTAB_CFG_LOG2SIZE, st->strtab_base_cfg);
	unsigned sidsize = (unsigned)FIELD_GET(SMMU_IDR1_SIDSIZE, st->idr[1]);
	unsigned fmt = (unsigned)FIELD_GET(SMMU_STRTAB_CFG_FMT, st->strtab_base_cfg);
	unsigned eff = log2size < sidsize ? log2size : sidsize;
	uint64_t base = st->strtab_base & SMMU_STRTAB_BASE_ADDR, pa;
	struct ims_read *rd;
	bool ab;

	/* Step 1: the StreamID must lie inside the table and the implementation. */
	if (eff < 32 && (txn->sid >> eff)) {
		ims_config_fail(NULL, res, SMMU_DEC_INVALID, SMMU_EVT_C_BAD_STREAMID, 0);
		return false;
	}

	/* Step 2: locate the STE, through an L1STD for a 2-level table. */
	if (fmt == SMMU_STRTAB_2LVL) {
		unsigned split = (unsigned)FIELD_GET(SMMU_STRTAB_CFG_SPLIT, st->strtab_base_cfg);
		unsigned l1_lg2 = (eff > split ? eff - split : 0) + 3, span;
		uint64_t l1std, l2idx = txn->sid & ims_mask_lg2(split);

		pa = align_down(base, l1_lg2 > 6 ? l1_lg2 : 6) + 8 * (uint64_t)(txn->sid >> split);
		rd = ims_config_read(iommu, res, SMMU_LBL_L1STD, pa, pa, &l1std, 1,
				     SMMU_DEC_ABORT, &ab);
		if (ab) {
			ims_config_fail(rd, res, SMMU_DEC_ABORT, SMMU_EVT_F_STE_FETCH, pa);
			return false;
		}
		span = (unsigned)FIELD_GET(SMMU_L1STD_SPAN, l1std);
		if (span > split + 1)
			span = split + 1;
		if (span == 0 || l2idx >= (UINT64_C(1) << (span - 1))) {
			ims_config_fail(rd, res, SMMU_DEC_INVALID, SMMU_EVT_C_BAD_STREAMID, pa);
			return false;
		}
		if (rd)
			rd->next = l1std & SMMU_L1STD_L2PTR;
		pa = (l1std & SMMU_L1STD_L2PTR) + 64 * l2idx;
	} else {
		pa = align_down(base, eff + 6) + 64 * (uint64_t)txn->sid;
	}

	/* Step 3: read the STE; an abort is F_STE_FETCH. */
	si->ste_pa = pa;
	rd = ims_config_read(iommu, res, SMMU_LBL_STE, pa, pa, ste, 8, SMMU_DEC_ABORT, &ab);
	if (ab) {
		ims_config_fail(rd, res, SMMU_DEC_ABORT, SMMU_EVT_F_STE_FETCH, pa);
		return false;
	}
	return true;
}

/* Stage-2 fields (5.2: S2T0SZ ... S2TTB).  Returns 0, or -1 when ILLEGAL. */
static int ste_decode_s2(struct smmu_state *st, const uint64_t *ste, struct ims_xlate_cfg *cfg,
			 int *gap)
{
	unsigned httu = (unsigned)FIELD_GET(SMMU_IDR0_HTTU, st->idr[0]);
	unsigned endian = (unsigned)FIELD_GET(SMMU_IDR0_TTENDIAN, st->idr[0]);
	unsigned tg = (unsigned)FIELD_GET(SMMU_STE_2_S2TG, ste[2]);
	unsigned ps = smmu_oas_bits((unsigned)FIELD_GET(SMMU_STE_2_S2PS, ste[2]));
	uint64_t s2ttb = ste[3] & SMMU_STE_3_S2TTB;
	unsigned granule = smmu_tg_granule(st, tg, false);
	uint32_t flags = 0;

	if (!(ste[2] & SMMU_STE_2_S2AA64)) {
		if (FIELD_GET(SMMU_IDR0_TTF, st->idr[0]) == SMMU_TTF_BOTH)
			*gap = 1; /* AArch32 (LPAE) stage-2 tables: not modelled */
		return -1;
	}
	if (!granule)
		return -1;
	if (!ps)
		return -1;
	if (ste[2] & SMMU_STE_2_S2ENDI) {
		if (endian == SMMU_TTENDIAN_MIXED)
			*gap = 2; /* big-endian tables: not modelled */
		return -1;
	}
	if ((ste[2] & SMMU_STE_2_S2HA) && httu < 1)
		return -1;
	if ((ste[2] & SMMU_STE_2_S2HD) && httu < 2)
		return -1;
	if (ste[2] & SMMU_STE_2_S2S)
		return -1; /* STALL_MODEL is 0b01: stalling is not available */
	if (!(st->idr[0] & SMMU_IDR0_VMID16) && (ste[2] & SMMU_STE_2_S2VMID & ~GENMASK(7, 0)))
		return -1;
	/* Output size: S2PS capped by OAS (and 48 bits: no 52-bit support). */
	if (ps > st->oas_bits)
		ps = st->oas_bits;
	if (ps > 48)
		ps = 48;
	if (s2ttb >> ps)
		return -1;
	/* AArch64.S2InvalidSL: starting at level 0 (4K) / 1 (16K) needs PAMax >= 44 / 42. */
	if (FIELD_GET(SMMU_STE_2_S2SL0, ste[2]) == 2 &&
	    ((granule == 12 && st->oas_bits < 44) || (granule == 14 && st->oas_bits < 42)))
		return -1;
	if (st->idr[3] & SMMU_IDR3_STT)
		flags |= SMMU_F_STT;
	if (st->idr[3] & SMMU_IDR3_XNX)
		flags |= SMMU_F_XNX;
	if (ste[2] & SMMU_STE_2_S2AFFD)
		flags |= SMMU_F_AFFD;
	if (ste[2] & SMMU_STE_2_S2HA)
		flags |= SMMU_F_HA;
	if ((ste[2] & SMMU_STE_2_S2HA) && (ste[2] & SMMU_STE_2_S2HD))
		flags |= SMMU_F_HD;
	if (smmu_s2_cfg_init(&cfg->s2, s2ttb, granule,
			     (unsigned)FIELD_GET(SMMU_STE_2_S2T0SZ, ste[2]),
			     (unsigned)FIELD_GET(SMMU_STE_2_S2SL0, ste[2]), ps, flags))
		return -1;
	return 0;
}

/* Stage-1 fields of the STE (5.2: S1Fmt, S1CDMax, S1DSS, S1STALLD, STRW, S1ContextPtr). */
static bool ste_s1_legal(struct smmu_state *st, const uint64_t *ste, bool s2)
{
	unsigned cdmax = (unsigned)FIELD_GET(SMMU_STE_0_S1CDMAX, ste[0]);
	unsigned fmt = (unsigned)FIELD_GET(SMMU_STE_0_S1FMT, ste[0]);
	unsigned strw = (unsigned)FIELD_GET(SMMU_STE_1_STRW, ste[1]);
	uint64_t ctx = ste[0] & SMMU_STE_0_S1CTXPTR;

	if (cdmax > FIELD_GET(SMMU_IDR1_SSIDSIZE, st->idr[1]))
		return false;
	if (cdmax) {
		if (fmt == 3 || (fmt != SMMU_S1FMT_LINEAR && !(st->idr[0] & SMMU_IDR0_CD2L)))
			return false;
		if (FIELD_GET(SMMU_STE_1_S1DSS, ste[1]) == 3)
			return false;
	}
	if (ste[1] & SMMU_STE_1_S1STALLD)
		return false;
	/* STRW selects the regime of a stage-1-only stream (stage 2 bypassed). */
	if (!s2 && (strw == 1 || strw == 3 ||
		    (strw == SMMU_STRW_EL2 && !(st->idr[0] & SMMU_IDR0_HYP))))
		return false;
	/* Without stage 2 the CD pointer is a physical address within OAS. */
	if (!s2 && (ctx >> st->oas_bits))
		return false;
	return true;
}

int smmu_ste_fetch_decode(struct ims_iommu *iommu, const struct ims_txn *txn,
			  struct smmu_ste_info *si, struct ims_xlate_cfg *cfg,
			  struct ims_result *res)
{
	struct smmu_state *st = smmu_state(iommu);
	uint64_t ste[8];
	struct ims_read *rd;
	struct ims_cc_entry *cc;
	unsigned eats, ssidsize = (unsigned)FIELD_GET(SMMU_IDR1_SSIDSIZE, st->idr[1]);
	int gap = 0;

	memset(si, 0, sizeof(*si));
	cfg->mode = IMS_XM_ABORT;
	/* An STE-cache hit skips the stream-table reads (only valid STEs are cached). */
	cc = ims_cc_lookup(iommu, res, IMS_ST_CONTEXT, txn->sid, 0, false);
	if (cc) {
		memcpy(ste, cc->words, sizeof(ste));
		si->ste_pa = cc->pa;
		rd = NULL;
	} else {
		if (!ste_find(iommu, txn, ste, si, res))
			return 0;
		rd = res->nreads ? &res->reads[res->nreads - 1] : NULL;
		if (rd && rd->label != SMMU_LBL_STE)
			rd = NULL;
	}

	/* Step 4: an STE with V = 0 is invalid. */
	if (!(ste[0] & SMMU_STE_0_V))
		return ims_config_fail(rd, res, SMMU_DEC_INVALID, SMMU_EVT_C_BAD_STE, si->ste_pa);

	/* Step 5: Config.  0b001-0b011 are reserved; 0b000 aborts without an event. */
	si->config = (unsigned)FIELD_GET(SMMU_STE_0_CONFIG, ste[0]);
	if (si->config >= 1 && si->config <= 3)
		return ims_config_fail(rd, res, SMMU_DEC_ILLEGAL, SMMU_EVT_C_BAD_STE, si->ste_pa);
	if (si->config == SMMU_CONFIG_ABORT) {
		ims_result_fault(res, IMS_FK_ABORT, 0, -1, 0);
		res->fault.arch_name = "terminated: STE.Config = 0b000 (abort, no event)";
		cfg->fault_disable = true;
		return 0;
	}
	si->s1 = si->config & 1;
	si->s2 = si->config & 2;
	if (st->idr[0] & SMMU_IDR0_S2P)
		si->vmid = (uint32_t)FIELD_GET(SMMU_STE_2_S2VMID, ste[2]);
	cfg->domain = si->vmid;

	/* Step 6: the stages named must be implemented (IDR0.S1P, S2P). */
	if ((si->s1 && !(st->idr[0] & SMMU_IDR0_S1P)) || (si->s2 && !(st->idr[0] & SMMU_IDR0_S2P)))
		return ims_config_fail(rd, res, SMMU_DEC_ILLEGAL, SMMU_EVT_C_BAD_STE, si->ste_pa);

	/* Step 7: fields common to translating configurations: EATS. */
	eats = (unsigned)FIELD_GET(SMMU_STE_1_EATS, ste[1]);
	si->eats = eats;
	if (si->config != SMMU_CONFIG_BYPASS &&
	    (eats == 3 || (eats && !(st->idr[0] & SMMU_IDR0_ATS))))
		return ims_config_fail(rd, res, SMMU_DEC_ILLEGAL, SMMU_EVT_C_BAD_STE, si->ste_pa);

	/* Step 8: stage-2 fields. */
	if (si->s2) {
		if (ste_decode_s2(st, ste, cfg, &gap)) {
			if (gap) {
				res->fault.arch_name =
					gap == 1 ? "unimplemented: AArch32 stage-2 tables (STE.S2AA64 = 0)"
						 : "unimplemented: big-endian stage-2 tables (STE.S2ENDI = 1)";
				return -EOPNOTSUPP;
			}
			return ims_config_fail(rd, res, SMMU_DEC_ILLEGAL,
						SMMU_EVT_C_BAD_STE, si->ste_pa);
		}
		if (ste[2] & SMMU_STE_2_S2R)
			cfg->arch_flags |= SMMU_AF_S2R;
	}

	/* Step 9: stage-1 fields. */
	if (si->s1) {
		if (!ste_s1_legal(st, ste, si->s2))
			return ims_config_fail(rd, res, SMMU_DEC_ILLEGAL,
						SMMU_EVT_C_BAD_STE, si->ste_pa);
		si->s1fmt = (unsigned)FIELD_GET(SMMU_STE_0_S1FMT, ste[0]);
		si->s1cdmax = (unsigned)FIELD_GET(SMMU_STE_0_S1CDMAX, ste[0]);
		si->s1dss = (unsigned)FIELD_GET(SMMU_STE_1_S1DSS, ste[1]);
		si->strw = (unsigned)FIELD_GET(SMMU_STE_1_STRW, ste[1]);
		si->s1ctxptr = ste[0] & SMMU_STE_0_S1CTXPTR;
	}
	if (rd)
		rd->next = si->s1 ? si->s1ctxptr : si->s2 ? (ste[3] & SMMU_STE_3_S2TTB) : 0;
	if (!cc)
		ims_cc_fill(iommu, IMS_ST_CONTEXT, txn->sid, 0, false, ste, 8, si->ste_pa, si->vmid, 0);

	/* Step 10: substreams (3.9).  The STE is valid; these faults are the request's. */
	if (txn->has_pasid) {
		if (!si->s1 || !si->s1cdmax || (ssidsize < 32 && (txn->pasid >> ssidsize)) ||
		    (txn->pasid >> si->s1cdmax) ||
		    (txn->pasid == 0 && si->s1dss == SMMU_S1DSS_SSID0))
			return ims_config_fail(rd, res, SMMU_DEC_OK,
						SMMU_EVT_C_BAD_SUBSTREAMID, 0);
	} else if (si->s1 && si->s1cdmax) {
		switch (si->s1dss) {
		case SMMU_S1DSS_TERMINATE:
			return ims_config_fail(rd, res, SMMU_DEC_OK,
						SMMU_EVT_F_STREAM_DISABLED, 0);
		case SMMU_S1DSS_BYPASS:
			si->s1 = false; /* stage 1 bypassed for requests without SSID */
			break;
		default:
			break; /* SSID0: use CD 0 */
		}
	}

	cfg->mode = si->s1 && si->s2 ? IMS_XM_NESTED
		  : si->s1	     ? IMS_XM_S1
		  : si->s2	     ? IMS_XM_S2
				     : IMS_XM_BYPASS;
	/* EATS = 0b01: the device's ATS translation requests are served (3.9.1). */
	cfg->ats = si->eats == 1 && cfg->mode != IMS_XM_BYPASS;
	return 0;
}
