/*
 * smmu_int.h - Arm SMMUv3 private declarations: the instance state and what
 * the files of formats/smmuv3/ share.
 *
 * Reference: Arm IHI 0070 (SMMUv3): chapter 3 (operation), 5 (data
 * structures: STE, CD), 6 (registers), 7 (events), 4 (commands); Arm ARM
 * (DDI 0487) D8 for the VMSAv8-64 translation table format.
 * Masks are named SMMU_<STRUCT>_<word>_<FIELD> with the spec's absolute bit
 * range in a comment.  Each file keeps the masks only it uses; the ones
 * several files need live here.
 */
#ifndef IMS_SMMU_INT_H
#define IMS_SMMU_INT_H

#include "engine/bits.h"
#include "engine/engine_int.h"
#include <iommusim/smmuv3.h>

/* A queue in memory (command or event): base, size, producer, consumer. */
struct smmu_queue {
	uint64_t base;      /* *_BASE register as written (ADDR, LOG2SIZE, RA/WA) */
	uint32_t prod, cons;/* *_PROD / *_CONS as the spec lays them out (index, wrap, ERR/OVFLG) */
};

/* Everything an SMMUv3 instance holds. */
struct smmu_state {
	uint32_t idr[6];       /* IDR0-IDR5 from the model */
	uint32_t iidr, aidr;
	unsigned oas_bits;     /* output address size from IDR5.OAS */
	/* Registers software programs (6.3). */
	uint32_t cr0, cr1, cr2;
	uint64_t strtab_base;
	uint32_t strtab_base_cfg;
	uint32_t gbpa;
	struct smmu_queue cmdq, evtq;
};

static inline struct smmu_state *smmu_state(struct ims_iommu *iommu)
{
	return (struct smmu_state *)iommu->arch_priv;
}

/* ---- vmsa.c: VMSAv8-64 translation tables (Arm ARM D8) ---- */
extern const struct ims_pt_format smmu_vmsa_s1_format;
extern const struct ims_pt_format smmu_vmsa_s2_format;

/* Walk flags (ims_pt_cfg.flags) for the VMSA formats. */
enum {
	SMMU_F_HA = 1u << 0,   /* hardware Access flag update (HTTU) */
	SMMU_F_HD = 1u << 1,   /* hardware dirty state update (DBM) */
	SMMU_F_AFFD = 1u << 2, /* AF = 0 does not fault (CD.AFFD / STE.S2AFFD) */
	SMMU_F_TTB1 = 1u << 3, /* stage 1: the upper (TTB1) VA range */
	SMMU_F_TBI = 1u << 4,  /* stage 1: top byte ignored */
	SMMU_F_WXN = 1u << 5,
	SMMU_F_UWXN = 1u << 6,
	SMMU_F_PAN = 1u << 7,
};

/*
 * Stage-1 walk configuration from a CD's fields for one VA range: granule
 * (12, 14 or 16), TxSZ, output size in bits (from CD.IPS, capped by OAS).
 * Returns 0, or -EINVAL when the combination is invalid (the CD is then
 * ILLEGAL: C_BAD_CD).
 */
int smmu_s1_cfg_init(struct ims_pt_cfg *cfg, uint64_t ttb, unsigned granule_lg2, unsigned tsz,
		     unsigned oa_bits, uint32_t flags);
/*
 * Stage-2 walk configuration from an STE's S2TTB and VTCR fields: granule,
 * T0SZ, SL0 (start level, encoded per granule), output size in bits (from
 * VTCR.PS, capped by OAS).  Concatenated initial tables follow from T0SZ
 * and the start level.  Returns -EINVAL for an invalid combination (the STE
 * is then ILLEGAL: C_BAD_STE).
 */
int smmu_s2_cfg_init(struct ims_pt_cfg *cfg, uint64_t s2ttb, unsigned granule_lg2,
		     unsigned t0sz, unsigned sl0, unsigned oa_bits, uint32_t flags);

/*
 * cmdq.c: decode one 16-byte command (nwords = 2) into the neutral request.
 * Returns 0, or -EINVAL with *arch_err = enum smmu_cerror for an illegal or
 * unsupported command (CERROR_ILL).  Commands with no cache effect
 * (prefetch, PRI_RESP, RESUME, STALL_TERM) decode to scope NONE; CMD_SYNC
 * to targets IMS_INV_T_SYNC.
 */
int smmu_decode_cmd(struct ims_iommu *iommu, const uint64_t *words, unsigned nwords,
		    struct ims_inv *inv, uint32_t *arch_err);

#endif
