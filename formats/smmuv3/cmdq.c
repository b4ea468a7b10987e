/*
 * cmdq.c - Arm SMMUv3 command queue: decoding one command into the neutral
 * invalidation request, and consuming the queue in memory.
 *
 * Reference: Arm System Memory Management Unit Architecture Specification,
 * SMMU architecture version 3 (Arm IHI 0070, issue E.a and later, which
 * include the SMMUv3.2 range invalidation):
 *   3.5       command and event queues: PROD/CONS indexes and wrap bits
 *   4.1       commands: format, opcodes, command errors (CERROR_*)
 *   4.2       prefetch:             CMD_PREFETCH_CONFIG, CMD_PREFETCH_ADDR
 *   4.3       configuration:        CMD_CFGI_STE, _STE_RANGE (_ALL), _CD, _CD_ALL,
 *                                   CMD_CFGI_VMS_PIDM
 *   4.4       TLB invalidation:     CMD_TLBI_NH_*, _EL3_*, _EL2_*, _S12_VMALL,
 *                                   _S2_IPA, _NSNH_ALL; 4.4.1 range invalidation
 *                                   (NUM, SCALE, TG, TTL; SMMU_IDR3.RIL)
 *   4.5       ATS and PRI:          CMD_ATC_INV, CMD_PRI_RESP
 *   4.6       fault response:       CMD_RESUME, CMD_STALL_TERM
 *   4.7       CMD_SYNC
 *   6.3       registers: IDR0/1/3, CR0, CR2, GERROR/GERRORN, CMDQ_BASE/PROD/CONS
 *   7.1       command queue errors
 * (Section numbers as in issue E.a; later issues move some sections, so look
 * them up by command name.)
 * Field positions cross-checked against Linux
 * drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.h (CMDQ_*, IDR*, CR0_*, Q_BASE_*)
 * and QEMU hw/arm/smmuv3-internal.h (CMD_*).
 *
 * Every command is 16 bytes: two little-endian 64-bit words, word 0 holding
 * bits 63:0 (the opcode in 7:0) and word 1 bits 127:64.  Masks below give
 * the absolute bit range of the command in their comment.
 *
 * What "illegal" means here (4.1, CERROR_ILL).  A command is rejected when
 *   - its opcode is not one of the defined commands;
 *   - it needs a feature this SMMU lacks: ATS (CMD_ATC_INV), PRI
 *     (CMD_PRI_RESP), stall (CMD_RESUME, CMD_STALL_TERM with
 *     IDR0.STALL_MODEL = 0b01), stage 1 (CMD_TLBI_NH_*), stage 2
 *     (CMD_TLBI_S12_VMALL, CMD_TLBI_S2_IPA), hypervisor stage 1
 *     (CMD_TLBI_EL2_*, IDR0.HYP), MPAM (CMD_CFGI_VMS_PIDM);
 *   - it is Secure-only: CMD_TLBI_EL3_*, and SSec = 1 in the commands that
 *     carry an SSec field.  This model is the Non-secure programming
 *     interface only, and SSec = 1 on the Non-secure Command queue is
 *     CERROR_ILL;
 *   - a field holds a Reserved encoding: CMD_SYNC.CS = 0b11, CMD_PRI_RESP
 *     Resp = 0b11.
 * Other RES0 bits are not checked: software must write them as zero, but
 * whether a nonzero RES0 bit makes a command illegal is not required of the
 * SMMU, and a checker would halt queues that hardware runs.  The same goes
 * for the fields a feature leaves RES0: VMID[15:8] without IDR0.VMID16,
 * ASID[15:8] without IDR0.ASID16, NUM/SCALE/TG/TTL without IDR3.RIL, VMID
 * without stage 2 (IDR0.S2P) are ignored.
 *
 * The neutral request cannot name a translation regime.  CMD_TLBI_EL2_*
 * reach the EL2 (hypervisor, E2H) regime only; here they decode with
 * has_domain = false (every VMID), so they also drop Non-secure EL1 entries
 * that match.  That is over-invalidation, never stale data; arch_name keeps
 * the "EL2" of the command for anyone who wants to be exact.  Likewise
 * CMD_TLBI_NSNH_ALL ("all but hypervisor") decodes to all of it.
 */
#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <iommusim/inv.h>
#include <iommusim/mem.h>

#include "engine/bits.h"
#include "formats/smmuv3/smmu_int.h"

/* ---- Registers (6.3; the fields other files share are in smmu_int.h) ---- */
#define SMMU_GERROR_MSI_CMDQ_ABT_ERR BIT(4)    /* 4 CMD_SYNC MSI write aborted */

/* A command is 2^4 bytes; queue bases are at least 32-byte aligned. */
#define SMMU_CMD_SIZE_LG2 4
#define SMMU_CMDQ_MIN_ALIGN_LG2 5

/* ---- Common to every command (4.1) ---- */
#define SMMU_CMD_0_OP GENMASK(7, 0)            /* 7:0 opcode */

/* ---- CMD_PREFETCH_CONFIG / CMD_PREFETCH_ADDR (4.2) ---- */
#define SMMU_CMD_PREFETCH_0_SSEC BIT(10)       /* 10 Secure StreamID */
#define SMMU_CMD_PREFETCH_0_SID GENMASK(63, 32) /* 63:32 StreamID */

/* ---- CMD_CFGI_* (4.3) ---- */
#define SMMU_CMD_CFGI_0_SSEC BIT(10)           /* 10 Secure StreamID */
#define SMMU_CMD_CFGI_0_SSID GENMASK(31, 12)   /* 31:12 SubstreamID (CFGI_CD) */
#define SMMU_CMD_CFGI_0_SID GENMASK(63, 32)    /* 63:32 StreamID */
#define SMMU_CMD_CFGI_1_LEAF BIT(0)            /* 64 Leaf (CFGI_STE, CFGI_CD) */
#define SMMU_CMD_CFGI_1_RANGE GENMASK(4, 0)    /* 68:64 Range (CFGI_STE_RANGE) */
#define SMMU_CFGI_RANGE_ALL 31                 /* Range = 31: CMD_CFGI_ALL */

/* ---- CMD_TLBI_* (4.4) ---- */
#define SMMU_CMD_TLBI_0_NUM GENMASK(16, 12)    /* 16:12 NUM (range) */
#define SMMU_CMD_TLBI_0_SCALE GENMASK(24, 20)  /* 24:20 SCALE (range) */
#define SMMU_CMD_TLBI_0_VMID GENMASK(47, 32)   /* 47:32 VMID */
#define SMMU_CMD_TLBI_0_ASID GENMASK(63, 48)   /* 63:48 ASID */
#define SMMU_CMD_TLBI_1_LEAF BIT(0)            /* 64 Leaf */
#define SMMU_CMD_TLBI_1_TTL GENMASK(9, 8)      /* 73:72 TTL (level hint) */
#define SMMU_CMD_TLBI_1_TG GENMASK(11, 10)     /* 75:74 TG (range granule) */
#define SMMU_CMD_TLBI_1_VA GENMASK(63, 12)     /* 127:76 Address[63:12] (VA) */
#define SMMU_CMD_TLBI_1_IPA GENMASK(51, 12)    /* 115:76 Address[51:12] (IPA) */
/* VMID and ASID narrowed by IDR0.VMID16 / ASID16 = 0. */
#define SMMU_TLBI_ID8 GENMASK(7, 0)

/* ---- CMD_ATC_INV (4.5) ---- */
#define SMMU_CMD_ATC_0_GLOBAL BIT(9)           /* 9 Global */
#define SMMU_CMD_ATC_0_SSV BIT(11)             /* 11 SubstreamID valid */
#define SMMU_CMD_ATC_0_SSID GENMASK(31, 12)    /* 31:12 SubstreamID */
#define SMMU_CMD_ATC_0_SID GENMASK(63, 32)     /* 63:32 StreamID */
#define SMMU_CMD_ATC_1_SIZE GENMASK(5, 0)      /* 69:64 Size: 2^Size 4 KiB pages */
#define SMMU_CMD_ATC_1_ADDR GENMASK(63, 12)    /* 127:76 Address[63:12] */

/* ---- CMD_PRI_RESP (4.5) ---- */
#define SMMU_CMD_PRI_RESP_0_SID GENMASK(63, 32) /* 63:32 StreamID */
#define SMMU_CMD_PRI_RESP_1_RESP GENMASK(13, 12) /* 77:76 Resp */
enum { SMMU_PRI_RESP_DENY = 0, SMMU_PRI_RESP_FAIL = 1, SMMU_PRI_RESP_SUCC = 2 };

/* ---- CMD_RESUME / CMD_STALL_TERM (4.6) ---- */
#define SMMU_CMD_STALL_0_SSEC BIT(10)          /* 10 Secure StreamID */
#define SMMU_CMD_STALL_0_SID GENMASK(63, 32)   /* 63:32 StreamID */

/* ---- CMD_SYNC (4.7) ---- */
#define SMMU_CMD_SYNC_0_CS GENMASK(13, 12)     /* 13:12 completion signal */
#define SMMU_CMD_SYNC_0_MSIDATA GENMASK(63, 32) /* 63:32 MSI data */
#define SMMU_CMD_SYNC_1_MSIADDR GENMASK(51, 2) /* 115:66 MSI address[51:2] */
/* MSH 23:22 and MSIAttr 27:24 (memory attributes of the MSI) are ignored. */
enum { SMMU_SYNC_CS_NONE = 0, SMMU_SYNC_CS_IRQ = 1, SMMU_SYNC_CS_SEV = 2 };

/* Range granules (TG, 4.4.1): 0b00 = not a range, 4 KiB, 16 KiB, 64 KiB. */
static const uint8_t smmu_tg_lg2[4] = { 0, 12, 14, 16 };

/* Addresses without TG count 4 KiB units (Address[63:12]). */
#define SMMU_INV_PAGE_LG2 12

/* The spec's command names, by opcode (4.1). */
static const char *const smmu_cmd_names[] = {
	[SMMU_CMD_PREFETCH_CONFIG] = "CMD_PREFETCH_CONFIG",
	[SMMU_CMD_PREFETCH_ADDR] = "CMD_PREFETCH_ADDR",
	[SMMU_CMD_CFGI_STE] = "CMD_CFGI_STE",
	[SMMU_CMD_CFGI_STE_RANGE] = "CMD_CFGI_STE_RANGE",
	[SMMU_CMD_CFGI_CD] = "CMD_CFGI_CD",
	[SMMU_CMD_CFGI_CD_ALL] = "CMD_CFGI_CD_ALL",
	[SMMU_CMD_CFGI_VMS_PIDM] = "CMD_CFGI_VMS_PIDM",
	[SMMU_CMD_TLBI_NH_ALL] = "CMD_TLBI_NH_ALL",
	[SMMU_CMD_TLBI_NH_ASID] = "CMD_TLBI_NH_ASID",
	[SMMU_CMD_TLBI_NH_VA] = "CMD_TLBI_NH_VA",
	[SMMU_CMD_TLBI_NH_VAA] = "CMD_TLBI_NH_VAA",
	[SMMU_CMD_TLBI_EL3_ALL] = "CMD_TLBI_EL3_ALL",
	[SMMU_CMD_TLBI_EL3_VA] = "CMD_TLBI_EL3_VA",
	[SMMU_CMD_TLBI_EL2_ALL] = "CMD_TLBI_EL2_ALL",
	[SMMU_CMD_TLBI_EL2_ASID] = "CMD_TLBI_EL2_ASID",
	[SMMU_CMD_TLBI_EL2_VA] = "CMD_TLBI_EL2_VA",
	[SMMU_CMD_TLBI_EL2_VAA] = "CMD_TLBI_EL2_VAA",
	[SMMU_CMD_TLBI_S12_VMALL] = "CMD_TLBI_S12_VMALL",
	[SMMU_CMD_TLBI_S2_IPA] = "CMD_TLBI_S2_IPA",
	[SMMU_CMD_TLBI_NSNH_ALL] = "CMD_TLBI_NSNH_ALL",
	[SMMU_CMD_ATC_INV] = "CMD_ATC_INV",
	[SMMU_CMD_PRI_RESP] = "CMD_PRI_RESP",
	[SMMU_CMD_RESUME] = "CMD_RESUME",
	[SMMU_CMD_STALL_TERM] = "CMD_STALL_TERM",
	[SMMU_CMD_SYNC] = "CMD_SYNC",
};

static bool smmu_has(const struct smmu_state *st, uint32_t idr0_bit)
{
	return (st->idr[0] & idr0_bit) != 0;
}

/* Stall (CMD_RESUME, CMD_STALL_TERM) exists unless STALL_MODEL = 0b01 (or Reserved 0b11). */
static bool smmu_has_stall(const struct smmu_state *st)
{
	unsigned m = FIELD_GET(SMMU_IDR0_STALL_MODEL, st->idr[0]);

	return m == SMMU_STALL_BOTH || m == SMMU_STALL_FORCED;
}

/* VMID of a TLBI: 8 bits without IDR0.VMID16; none at all without stage 2. */
static void smmu_tlbi_set_vmid(const struct smmu_state *st, const uint64_t *w, struct ims_inv *d)
{
	uint32_t vmid = FIELD_GET(SMMU_CMD_TLBI_0_VMID, w[0]);

	if (!smmu_has(st, SMMU_IDR0_S2P))
		return;
	if (!smmu_has(st, SMMU_IDR0_VMID16))
		vmid &= SMMU_TLBI_ID8;
	d->has_domain = true;
	d->domain = vmid;
}

/* ASID of a TLBI: 8 bits without IDR0.ASID16. */
static void smmu_tlbi_set_asid(const struct smmu_state *st, const uint64_t *w, struct ims_inv *d)
{
	uint32_t asid = FIELD_GET(SMMU_CMD_TLBI_0_ASID, w[0]);

	if (!smmu_has(st, SMMU_IDR0_ASID16))
		asid &= SMMU_TLBI_ID8;
	d->has_pasid = true;
	d->pasid = asid;
}

/*
 * TTL (4.4.1): the Arm level of the leaf entries, 0b00 = no information.
 * The neutral ttl is our level + 1, and our level 0 is Arm level 3, so Arm
 * level L becomes 4 - L.  A hint naming a level where the granule has no
 * leaf (level 1 with 16 KiB pages: no 64 GiB blocks without LPA2) names
 * nothing; it is dropped, which is what "any level" means.
 */
static uint8_t smmu_tlbi_ttl(unsigned ttl, unsigned granule_lg2)
{
	if (ttl == 0)
		return 0;
	if (ttl == 1 && granule_lg2 == 14)
		return 0;
	return (uint8_t)(4 - ttl);
}

/*
 * 4.4.1 The address of CMD_TLBI_{NH,EL2}_VA(A) and CMD_TLBI_S2_IPA.
 *
 * 1. Without range invalidation (IDR3.RIL = 0) NUM, SCALE, TG and TTL are
 *    RES0 and ignored.
 * 2. TG = 0b00: one address.  Entries holding Address[63:12] go, whatever
 *    their size; the request names the 4 KiB unit holding the address.  TTL
 *    is only interpreted with a granule (TG), so it is ignored here.
 * 3. TG != 0b00: a range of (NUM + 1) * 2^SCALE pages of granule TG starting
 *    at Address, whose bits below the granule are ignored; TTL hints the
 *    leaf level.  The last address saturates at the top of the space.
 */
static void smmu_tlbi_set_addr(const struct smmu_state *st, const uint64_t *w, uint64_t addr,
			       struct ims_inv *d)
{
	unsigned tg = FIELD_GET(SMMU_CMD_TLBI_1_TG, w[1]);
	unsigned num = FIELD_GET(SMMU_CMD_TLBI_0_NUM, w[0]);
	unsigned scale = FIELD_GET(SMMU_CMD_TLBI_0_SCALE, w[0]);
	unsigned lg2;
	uint64_t span_m1;

	d->scope = IMS_INV_SCOPE_RANGE;
	if (w[1] & SMMU_CMD_TLBI_1_LEAF)
		d->flags |= IMS_INV_F_LEAF;

	/* Steps 1 and 2: a single address. */
	if (!(st->idr[3] & SMMU_IDR3_RIL) || tg == 0) {
		d->addr_first = addr & ~ims_mask_lg2(SMMU_INV_PAGE_LG2);
		d->addr_last = d->addr_first | ims_mask_lg2(SMMU_INV_PAGE_LG2);
		d->granule_lg2 = SMMU_INV_PAGE_LG2;
		return;
	}

	/* Step 3: (NUM + 1) << SCALE pages is at most 2^36, times 2^16: fits. */
	lg2 = smmu_tg_lg2[tg];
	span_m1 = ((uint64_t)(num + 1) << (scale + lg2)) - 1;
	d->addr_first = addr & ~ims_mask_lg2(lg2);
	d->addr_last = span_m1 > UINT64_MAX - d->addr_first ? UINT64_MAX
							    : d->addr_first + span_m1;
	d->granule_lg2 = (uint8_t)lg2;
	d->ttl = smmu_tlbi_ttl(FIELD_GET(SMMU_CMD_TLBI_1_TTL, w[1]), lg2);
}

/*
 * 4.2 Prefetch: a hint with no cache effect.  SSec = 1 is Secure only.
 */
static enum smmu_cerror smmu_decode_prefetch(const struct smmu_state *st, const uint64_t *w,
					     struct ims_inv *d)
{
	(void)st;
	if (w[0] & SMMU_CMD_PREFETCH_0_SSEC)
		return SMMU_CERROR_ILL;
	d->scope = IMS_INV_SCOPE_NONE;
	d->sid_first = d->sid_last = FIELD_GET(SMMU_CMD_PREFETCH_0_SID, w[0]);
	return SMMU_CERROR_NONE;
}

/*
 * 4.3 Configuration invalidation.
 *
 * CMD_CFGI_STE drops the STE of SID (and, Leaf = 0, the level-1 stream
 * table descriptor above it) together with every CD cached through that
 * STE: CDs are fetched through the STE's S1ContextPtr, and software that
 * changes it (Linux does) issues only CMD_CFGI_STE.  The same holds for the
 * range form.  CMD_CFGI_CD drops the CD of (SID, SSID) (Leaf = 0: and its
 * level-1 CD descriptor); CMD_CFGI_CD_ALL every CD of SID.  Leaf = 1 maps
 * to IMS_INV_F_LEAF: the caller may keep level-1 descriptors.
 */
static enum smmu_cerror smmu_decode_cfgi(const struct smmu_state *st, unsigned op,
					 const uint64_t *w, struct ims_inv *d)
{
	uint32_t sid = FIELD_GET(SMMU_CMD_CFGI_0_SID, w[0]);
	unsigned range;
	uint32_t mask;

	(void)st;
	if (w[0] & SMMU_CMD_CFGI_0_SSEC)
		return SMMU_CERROR_ILL;

	d->scope = IMS_INV_SCOPE_SOURCE;
	d->sid_first = d->sid_last = sid;
	switch (op) {
	case SMMU_CMD_CFGI_STE:
		d->targets = IMS_INV_T_CONTEXT | IMS_INV_T_PASID;
		if (w[1] & SMMU_CMD_CFGI_1_LEAF)
			d->flags |= IMS_INV_F_LEAF;
		break;
	case SMMU_CMD_CFGI_STE_RANGE:
		/* SIDs [SID & ~mask, SID | mask] with mask = 2^(Range + 1) - 1. */
		d->targets = IMS_INV_T_CONTEXT | IMS_INV_T_PASID;
		range = FIELD_GET(SMMU_CMD_CFGI_1_RANGE, w[1]);
		if (range == SMMU_CFGI_RANGE_ALL) {
			d->scope = IMS_INV_SCOPE_ALL;
			d->sid_first = d->sid_last = 0;
			d->arch_name = "CMD_CFGI_ALL";
			break;
		}
		mask = (uint32_t)ims_mask_lg2(range + 1);
		d->sid_first = sid & ~mask;
		d->sid_last = sid | mask;
		break;
	case SMMU_CMD_CFGI_CD:
		d->targets = IMS_INV_T_PASID;
		d->has_pasid = true;
		d->pasid = FIELD_GET(SMMU_CMD_CFGI_0_SSID, w[0]);
		if (w[1] & SMMU_CMD_CFGI_1_LEAF)
			d->flags |= IMS_INV_F_LEAF;
		break;
	case SMMU_CMD_CFGI_CD_ALL:
		d->targets = IMS_INV_T_PASID;
		break;
	default:
		assert(0 && "not a CFGI opcode");
		return SMMU_CERROR_ILL;
	}
	return SMMU_CERROR_NONE;
}

/*
 * 4.3 CMD_CFGI_VMS_PIDM: invalidates the PARTID map of a Virtual Machine
 * Structure, which exists with MPAM only.  No VMS is cached here, so a
 * legal one has no effect.
 */
static enum smmu_cerror smmu_decode_cfgi_vms(const struct smmu_state *st, const uint64_t *w,
					     struct ims_inv *d)
{
	(void)w;
	if (!(st->idr[3] & SMMU_IDR3_MPAM) || !smmu_has(st, SMMU_IDR0_S2P))
		return SMMU_CERROR_ILL;
	d->scope = IMS_INV_SCOPE_NONE;
	return SMMU_CERROR_NONE;
}

/*
 * 4.4.2 Stage-1 (Non-secure EL1&0) TLB invalidation, tagged by VMID.
 *
 * These reach stage-1 and nested (combined) entries and the stage-1 walk
 * caches of the VMID, not stage-2-only entries.  Illegal without stage 1.
 * CMD_TLBI_NH_ASID spares global entries (they carry no ASID); the VA forms
 * drop global entries at the address too, whatever ASID filled them, as
 * TLBI VAE1 does (IMS_INV_F_GLOBAL_ANY_PASID).
 */
static enum smmu_cerror smmu_decode_tlbi_nh(const struct smmu_state *st, unsigned op,
					    const uint64_t *w, struct ims_inv *d)
{
	if (!smmu_has(st, SMMU_IDR0_S1P))
		return SMMU_CERROR_ILL;

	d->targets = IMS_INV_T_IOTLB | IMS_INV_T_WALK;
	d->flags = IMS_INV_F_STAGE1;
	smmu_tlbi_set_vmid(st, w, d);
	switch (op) {
	case SMMU_CMD_TLBI_NH_ALL:
		d->scope = d->has_domain ? IMS_INV_SCOPE_DOMAIN : IMS_INV_SCOPE_ALL;
		break;
	case SMMU_CMD_TLBI_NH_ASID:
		d->scope = IMS_INV_SCOPE_PASID;
		d->flags |= IMS_INV_F_KEEP_GLOBAL;
		smmu_tlbi_set_asid(st, w, d);
		break;
	case SMMU_CMD_TLBI_NH_VA:
		smmu_tlbi_set_asid(st, w, d);
		smmu_tlbi_set_addr(st, w, w[1] & SMMU_CMD_TLBI_1_VA, d);
		d->flags |= IMS_INV_F_GLOBAL_ANY_PASID;
		break;
	case SMMU_CMD_TLBI_NH_VAA:
		smmu_tlbi_set_addr(st, w, w[1] & SMMU_CMD_TLBI_1_VA, d);
		break;
	default:
		assert(0 && "not a TLBI_NH opcode");
		return SMMU_CERROR_ILL;
	}
	return SMMU_CERROR_NONE;
}

/*
 * 4.4 Hypervisor (EL2 / EL2-E2H) stage-1 TLB invalidation, with IDR0.HYP.
 *
 * The EL2 regime has no VMID.  Its entries carry an ASID only in the E2H
 * regime (CR2.E2H = 1); with E2H = 0 the ASID of CMD_TLBI_EL2_VA and
 * CMD_TLBI_EL2_ASID selects nothing, so the first drops the address in
 * every ASID and the second every EL2 entry.  has_domain = false: see the
 * file comment for why EL2 requests reach EL1 entries too.
 */
static enum smmu_cerror smmu_decode_tlbi_el2(const struct smmu_state *st, unsigned op,
					     const uint64_t *w, struct ims_inv *d)
{
	bool e2h = (st->cr2 & SMMU_CR2_E2H) != 0;

	if (!smmu_has(st, SMMU_IDR0_HYP))
		return SMMU_CERROR_ILL;

	d->targets = IMS_INV_T_IOTLB | IMS_INV_T_WALK;
	d->flags = IMS_INV_F_STAGE1;
	switch (op) {
	case SMMU_CMD_TLBI_EL2_ALL:
		d->scope = IMS_INV_SCOPE_ALL;
		break;
	case SMMU_CMD_TLBI_EL2_ASID:
		if (!e2h) {
			d->scope = IMS_INV_SCOPE_ALL;
			break;
		}
		d->scope = IMS_INV_SCOPE_PASID;
		d->flags |= IMS_INV_F_KEEP_GLOBAL;
		smmu_tlbi_set_asid(st, w, d);
		break;
	case SMMU_CMD_TLBI_EL2_VA:
		if (e2h)
			smmu_tlbi_set_asid(st, w, d);
		smmu_tlbi_set_addr(st, w, w[1] & SMMU_CMD_TLBI_1_VA, d);
		d->flags |= IMS_INV_F_GLOBAL_ANY_PASID;
		break;
	case SMMU_CMD_TLBI_EL2_VAA:
		smmu_tlbi_set_addr(st, w, w[1] & SMMU_CMD_TLBI_1_VA, d);
		break;
	default:
		assert(0 && "not a TLBI_EL2 opcode");
		return SMMU_CERROR_ILL;
	}
	return SMMU_CERROR_NONE;
}

/*
 * 4.4 Stage-2 TLB invalidation, with stage 2 (IDR0.S2P).
 *
 * CMD_TLBI_S12_VMALL drops everything of the VMID, both stages and the
 * walk caches.  CMD_TLBI_S2_IPA drops stage-2 entries holding the IPA
 * range only: nested (combined) entries built from them are not required
 * to go, software follows with CMD_TLBI_NH_ALL or CMD_TLBI_S12_VMALL.
 */
static enum smmu_cerror smmu_decode_tlbi_s2(const struct smmu_state *st, unsigned op,
					    const uint64_t *w, struct ims_inv *d)
{
	if (!smmu_has(st, SMMU_IDR0_S2P))
		return SMMU_CERROR_ILL;

	d->targets = IMS_INV_T_IOTLB | IMS_INV_T_WALK;
	smmu_tlbi_set_vmid(st, w, d);
	if (op == SMMU_CMD_TLBI_S12_VMALL) {
		d->flags = IMS_INV_F_STAGE1 | IMS_INV_F_STAGE2;
		d->scope = IMS_INV_SCOPE_DOMAIN;
		return SMMU_CERROR_NONE;
	}
	d->flags = IMS_INV_F_STAGE2;
	smmu_tlbi_set_addr(st, w, w[1] & SMMU_CMD_TLBI_1_IPA, d);
	return SMMU_CERROR_NONE;
}

/* 4.4 CMD_TLBI_NSNH_ALL: every Non-secure non-hypervisor entry, both stages. */
static enum smmu_cerror smmu_decode_tlbi_nsnh(const struct smmu_state *st, const uint64_t *w,
					      struct ims_inv *d)
{
	(void)st;
	(void)w;
	d->targets = IMS_INV_T_IOTLB | IMS_INV_T_WALK;
	d->flags = IMS_INV_F_STAGE1 | IMS_INV_F_STAGE2;
	d->scope = IMS_INV_SCOPE_ALL;
	return SMMU_CERROR_NONE;
}

/*
 * 4.5 CMD_ATC_INV: an ATS invalidation to the device of SID, with IDR0.ATS.
 *
 * The range is 2^Size 4 KiB pages aligned to its size, Address's bits
 * below it ignored; Size 52 and above reach every address.  SSV = 1 names
 * the PASID (SSID); Global = 1 also reaches global entries of other PASIDs,
 * which the neutral request cannot say short of "all PASIDs", so Global
 * widens to every PASID of the device (conservative).  Global is ignored
 * with SSV = 0.  The ATC holds final translations of either stage.
 */
static enum smmu_cerror smmu_decode_atc_inv(const struct smmu_state *st, const uint64_t *w,
					    struct ims_inv *d)
{
	unsigned size_lg2 = SMMU_INV_PAGE_LG2 + FIELD_GET(SMMU_CMD_ATC_1_SIZE, w[1]);
	uint64_t mask = ims_mask_lg2(size_lg2);

	if (!smmu_has(st, SMMU_IDR0_ATS))
		return SMMU_CERROR_ILL;

	d->targets = IMS_INV_T_DEVTLB;
	d->flags = IMS_INV_F_STAGE1 | IMS_INV_F_STAGE2;
	d->scope = IMS_INV_SCOPE_RANGE;
	d->sid_first = d->sid_last = FIELD_GET(SMMU_CMD_ATC_0_SID, w[0]);
	if ((w[0] & SMMU_CMD_ATC_0_SSV) && !(w[0] & SMMU_CMD_ATC_0_GLOBAL)) {
		d->has_pasid = true;
		d->pasid = FIELD_GET(SMMU_CMD_ATC_0_SSID, w[0]);
	}
	d->addr_first = (w[1] & SMMU_CMD_ATC_1_ADDR) & ~mask;
	d->addr_last = d->addr_first | mask;
	d->granule_lg2 = SMMU_INV_PAGE_LG2;
	return SMMU_CERROR_NONE;
}

/* 4.5 CMD_PRI_RESP, with IDR0.PRI: no cache effect.  Resp = 0b11 is Reserved. */
static enum smmu_cerror smmu_decode_pri_resp(const struct smmu_state *st, const uint64_t *w,
					     struct ims_inv *d)
{
	unsigned resp = FIELD_GET(SMMU_CMD_PRI_RESP_1_RESP, w[1]);

	if (!smmu_has(st, SMMU_IDR0_PRI))
		return SMMU_CERROR_ILL;
	if (resp != SMMU_PRI_RESP_DENY && resp != SMMU_PRI_RESP_FAIL &&
	    resp != SMMU_PRI_RESP_SUCC)
		return SMMU_CERROR_ILL;
	d->scope = IMS_INV_SCOPE_NONE;
	d->sid_first = d->sid_last = FIELD_GET(SMMU_CMD_PRI_RESP_0_SID, w[0]);
	return SMMU_CERROR_NONE;
}

/*
 * 4.6 CMD_RESUME / CMD_STALL_TERM: answers to stalled transactions, legal
 * only when the SMMU can stall (IDR0.STALL_MODEL != 0b01); no cache effect.
 */
static enum smmu_cerror smmu_decode_stall(const struct smmu_state *st, const uint64_t *w,
					  struct ims_inv *d)
{
	if (!smmu_has_stall(st))
		return SMMU_CERROR_ILL;
	if (w[0] & SMMU_CMD_STALL_0_SSEC)
		return SMMU_CERROR_ILL;
	d->scope = IMS_INV_SCOPE_NONE;
	d->sid_first = d->sid_last = FIELD_GET(SMMU_CMD_STALL_0_SID, w[0]);
	return SMMU_CERROR_NONE;
}

/*
 * 4.7 CMD_SYNC: completes every command before it.
 *
 * CS = SIG_IRQ signals the completion interrupt: with IDR0.MSI it is an MSI,
 * the 32-bit write of MSIData to MSIAddr (status_addr / status_data, which
 * smmu_cmdq_process() performs); without it a wired interrupt.  CS =
 * SIG_SEV sends a PE event, not modelled, and CS = 0b11 is Reserved.
 */
static enum smmu_cerror smmu_decode_sync(const struct smmu_state *st, const uint64_t *w,
					 struct ims_inv *d)
{
	unsigned cs = FIELD_GET(SMMU_CMD_SYNC_0_CS, w[0]);

	d->targets = IMS_INV_T_SYNC;
	d->scope = IMS_INV_SCOPE_NONE;
	switch (cs) {
	case SMMU_SYNC_CS_NONE:
	case SMMU_SYNC_CS_SEV:
		break;
	case SMMU_SYNC_CS_IRQ:
		d->flags = IMS_INV_F_INTR;
		if (smmu_has(st, SMMU_IDR0_MSI)) {
			d->flags |= IMS_INV_F_STATUS_WRITE;
			d->status_addr = w[1] & SMMU_CMD_SYNC_1_MSIADDR;
			d->status_data = (uint32_t)FIELD_GET(SMMU_CMD_SYNC_0_MSIDATA, w[0]);
		}
		break;
	default:
		return SMMU_CERROR_ILL;
	}
	return SMMU_CERROR_NONE;
}

static int smmu_cmd_reject(uint32_t *arch_err, enum smmu_cerror code)
{
	*arch_err = code;
	return -EINVAL;
}

/*
 * Decode one command of nwords 64-bit words into *inv.  Returns 0 with
 * *arch_err = SMMU_CERROR_NONE, or -EINVAL with *arch_err = SMMU_CERROR_ILL
 * and *inv untouched.
 *
 *   1. Width: a command is two words.
 *   2. Opcode: one of the defined commands (4.1), else CERROR_ILL.
 *   3. The command's own checks (feature present, Secure-only, Reserved
 *      encodings), then its fields, into a local request.
 */
int smmu_decode_cmd(struct ims_iommu *iommu, const uint64_t *words, unsigned nwords,
		    struct ims_inv *inv, uint32_t *arch_err)
{
	const struct smmu_state *st;
	enum smmu_cerror err;
	struct ims_inv d;
	unsigned op;

	assert(iommu && words && inv && arch_err);
	st = smmu_state(iommu);

	/* Step 1. */
	if (nwords != 2)
		return smmu_cmd_reject(arch_err, SMMU_CERROR_ILL);

	/* Step 2. */
	op = FIELD_GET(SMMU_CMD_0_OP, words[0]);
	if (op >= IMS_ARRAY_SIZE(smmu_cmd_names) || !smmu_cmd_names[op])
		return smmu_cmd_reject(arch_err, SMMU_CERROR_ILL);

	/* Step 3. */
	memset(&d, 0, sizeof(d));
	d.arch_name = smmu_cmd_names[op];
	switch (op) {
	case SMMU_CMD_PREFETCH_CONFIG:
	case SMMU_CMD_PREFETCH_ADDR:
		err = smmu_decode_prefetch(st, words, &d);
		break;
	case SMMU_CMD_CFGI_STE:
	case SMMU_CMD_CFGI_STE_RANGE:
	case SMMU_CMD_CFGI_CD:
	case SMMU_CMD_CFGI_CD_ALL:
		err = smmu_decode_cfgi(st, op, words, &d);
		break;
	case SMMU_CMD_CFGI_VMS_PIDM:
		err = smmu_decode_cfgi_vms(st, words, &d);
		break;
	case SMMU_CMD_TLBI_NH_ALL:
	case SMMU_CMD_TLBI_NH_ASID:
	case SMMU_CMD_TLBI_NH_VA:
	case SMMU_CMD_TLBI_NH_VAA:
		err = smmu_decode_tlbi_nh(st, op, words, &d);
		break;
	case SMMU_CMD_TLBI_EL3_ALL:
	case SMMU_CMD_TLBI_EL3_VA:
		/* Secure Command queue only; this is the Non-secure one. */
		err = SMMU_CERROR_ILL;
		break;
	case SMMU_CMD_TLBI_EL2_ALL:
	case SMMU_CMD_TLBI_EL2_ASID:
	case SMMU_CMD_TLBI_EL2_VA:
	case SMMU_CMD_TLBI_EL2_VAA:
		err = smmu_decode_tlbi_el2(st, op, words, &d);
		break;
	case SMMU_CMD_TLBI_S12_VMALL:
	case SMMU_CMD_TLBI_S2_IPA:
		err = smmu_decode_tlbi_s2(st, op, words, &d);
		break;
	case SMMU_CMD_TLBI_NSNH_ALL:
		err = smmu_decode_tlbi_nsnh(st, words, &d);
		break;
	case SMMU_CMD_ATC_INV:
		err = smmu_decode_atc_inv(st, words, &d);
		break;
	case SMMU_CMD_PRI_RESP:
		err = smmu_decode_pri_resp(st, words, &d);
		break;
	case SMMU_CMD_RESUME:
	case SMMU_CMD_STALL_TERM:
		err = smmu_decode_stall(st, words, &d);
		break;
	case SMMU_CMD_SYNC:
		err = smmu_decode_sync(st, words, &d);
		break;
	default:
		assert(0 && "opcode named but not decoded");
		err = SMMU_CERROR_ILL;
		break;
	}
	if (err != SMMU_CERROR_NONE)
		return smmu_cmd_reject(arch_err, err);

	d.arch_op = (uint16_t)op;
	*inv = d;
	*arch_err = SMMU_CERROR_NONE;
	return 0;
}

/* ---- The queue (3.5, 6.3 CMDQ_BASE / CMDQ_PROD / CMDQ_CONS, 7.1) ---- */

/* The 32-bit little-endian MSI write of a CMD_SYNC. */
static enum ims_mem_status smmu_sync_msi(struct ims_mem *mem, uint64_t addr, uint32_t data)
{
	uint8_t le[4] = {
		(uint8_t)FIELD_GET(GENMASK(7, 0), data),
		(uint8_t)FIELD_GET(GENMASK(15, 8), data),
		(uint8_t)FIELD_GET(GENMASK(23, 16), data),
		(uint8_t)FIELD_GET(GENMASK(31, 24), data),
	};

	return ims_mem_write(mem, addr, le, sizeof(le));
}

/*
 * Consume the command queue (see smmu_int.h for the contract).
 *
 *   1. Nothing while CR0.CMDQEN is clear, nor while GERROR.CMDQ_ERR is
 *      active: consumption stops on a command error until software
 *      acknowledges it in GERRORN (7.1).
 *   2. Geometry: LOG2SIZE above IDR1.CMDQS behaves as IDR1.CMDQS.  The base
 *      is CMDQ_BASE.ADDR aligned down to the larger of the queue size and
 *      32 bytes.  RA (read-allocate hint) is ignored.  PROD and CONS are
 *      index [LOG2SIZE-1:0] plus wrap [LOG2SIZE]; higher bits are ignored
 *      (CONS.ERR is kept as it is until the next error).
 *   3. While CONS != PROD: fetch the two words at base + index * 16 (an
 *      abort: CERROR_ABT); decode (illegal: CERROR_ILL); on either stop
 *      with CONS at that command.
 *   4. Apply the request.  A CMD_SYNC with an MSI performs it now, after
 *      everything before it; if the write aborts, GERROR.MSI_CMDQ_ABT_ERR
 *      is activated and the CMD_SYNC still completes (6.3 GERROR).
 *   5. Advance CONS past the command.
 *   6. On a stop: CONS.ERR = the error, GERROR.CMDQ_ERR activated.
 */
int smmu_cmdq_process(struct ims_iommu *iommu,
		      void (*apply)(void *opaque, const struct ims_inv *inv), void *opaque,
		      unsigned *consumed)
{
	struct smmu_state *st;
	enum smmu_cerror cerr = SMMU_CERROR_NONE;
	uint64_t qbase, idx_mask, ptr_mask;
	uint32_t prod, cons;
	unsigned lg2, n = 0;

	assert(iommu && iommu->mem);
	st = smmu_state(iommu);
	if (consumed)
		*consumed = 0;

	/* Step 1. */
	if (!(st->cr0 & SMMU_CR0_CMDQEN) || smmu_gerror_is_active(st, SMMU_GERROR_CMDQ_ERR))
		return 0;

	/* Step 2. */
	lg2 = smmu_queue_lg2(&st->cmdq, (unsigned)FIELD_GET(SMMU_IDR1_CMDQS, st->idr[1]));
	idx_mask = ims_mask_lg2(lg2);
	ptr_mask = ims_mask_lg2(lg2 + 1);
	qbase = st->cmdq.base & SMMU_Q_BASE_ADDR;
	qbase &= ~ims_mask_lg2(lg2 + SMMU_CMD_SIZE_LG2 > SMMU_CMDQ_MIN_ALIGN_LG2
				       ? lg2 + SMMU_CMD_SIZE_LG2
				       : SMMU_CMDQ_MIN_ALIGN_LG2);
	prod = (uint32_t)(st->cmdq.prod & ptr_mask);
	cons = (uint32_t)(st->cmdq.cons & ptr_mask);

	while (cons != prod) {
		uint64_t addr = qbase + ((cons & idx_mask) << SMMU_CMD_SIZE_LG2);
		uint64_t w[2];
		struct ims_inv inv;
		uint32_t err;

		/* Step 3. */
		if (ims_mem_read64(iommu->mem, addr, &w[0]) != IMS_MEM_OK ||
		    ims_mem_read64(iommu->mem, addr + sizeof(w[0]), &w[1]) != IMS_MEM_OK) {
			cerr = SMMU_CERROR_ABT;
			break;
		}
		if (smmu_decode_cmd(iommu, w, 2, &inv, &err) != 0) {
			cerr = (enum smmu_cerror)err;
			break;
		}

		/* Step 4. */
		if (apply)
			apply(opaque, &inv);
		if ((inv.targets & IMS_INV_T_SYNC) && (inv.flags & IMS_INV_F_STATUS_WRITE) &&
		    smmu_sync_msi(iommu->mem, inv.status_addr, inv.status_data) != IMS_MEM_OK)
			smmu_gerror_raise(st, SMMU_GERROR_MSI_CMDQ_ABT_ERR);

		/* Step 5. */
		cons = (uint32_t)((cons + 1) & ptr_mask);
		st->cmdq.cons = (uint32_t)((st->cmdq.cons & SMMU_CMDQ_CONS_ERR) | cons);
		n++;
	}

	/* Step 6. */
	if (cerr != SMMU_CERROR_NONE) {
		st->cmdq.cons = (uint32_t)(FIELD_PREP(SMMU_CMDQ_CONS_ERR, cerr) | cons);
		smmu_gerror_raise(st, SMMU_GERROR_CMDQ_ERR);
	}
	if (consumed)
		*consumed = n;
	return 0;
}

/*
 * ---- Encoders: software's side of the same commands ----
 *
 * What a driver writes into the command queue, built with the masks the
 * decoder reads.  Fields are truncated to their width.  The range fields
 * (4.4.1: TG, NUM, SCALE, TTL) are meaningful only with SMMU_IDR3.RIL;
 * pass zeros for a single-address command.
 */

static void smmu_cmd_tlbi(uint64_t w[2], unsigned op, uint16_t vmid, uint16_t asid,
			  uint64_t addr_field, bool leaf, unsigned tg, unsigned scale,
			  unsigned num, unsigned ttl)
{
	w[0] = FIELD_PREP(SMMU_CMD_0_OP, op) | FIELD_PREP(SMMU_CMD_TLBI_0_NUM, num) |
	       FIELD_PREP(SMMU_CMD_TLBI_0_SCALE, scale) | FIELD_PREP(SMMU_CMD_TLBI_0_VMID, vmid) |
	       FIELD_PREP(SMMU_CMD_TLBI_0_ASID, asid);
	w[1] = addr_field | (leaf ? SMMU_CMD_TLBI_1_LEAF : 0) | FIELD_PREP(SMMU_CMD_TLBI_1_TTL, ttl) |
	       FIELD_PREP(SMMU_CMD_TLBI_1_TG, tg);
}

/* 4.4.2 CMD_TLBI_NH_VA: stage-1 entries of (VMID, ASID) at VA (or a 4.4.1 range). */
void smmu_cmd_tlbi_nh_va(uint64_t w[2], uint16_t vmid, uint16_t asid, uint64_t addr, bool leaf,
			 unsigned tg, unsigned scale, unsigned num, unsigned ttl)
{
	smmu_cmd_tlbi(w, SMMU_CMD_TLBI_NH_VA, vmid, asid, addr & SMMU_CMD_TLBI_1_VA, leaf, tg, scale,
		      num, ttl);
}

/* 4.4.2 CMD_TLBI_NH_ASID: every non-global stage-1 entry of (VMID, ASID). */
void smmu_cmd_tlbi_nh_asid(uint64_t w[2], uint16_t vmid, uint16_t asid)
{
	smmu_cmd_tlbi(w, SMMU_CMD_TLBI_NH_ASID, vmid, asid, 0, false, 0, 0, 0, 0);
}

/* 4.4.2 CMD_TLBI_NH_ALL: every stage-1 entry of VMID. */
void smmu_cmd_tlbi_nh_all(uint64_t w[2], uint16_t vmid)
{
	smmu_cmd_tlbi(w, SMMU_CMD_TLBI_NH_ALL, vmid, 0, 0, false, 0, 0, 0, 0);
}

/* 4.4 CMD_TLBI_S2_IPA: stage-2 entries of VMID at IPA (or a 4.4.1 range). */
void smmu_cmd_tlbi_s2_ipa(uint64_t w[2], uint16_t vmid, uint64_t addr, bool leaf, unsigned tg,
			  unsigned scale, unsigned num, unsigned ttl)
{
	smmu_cmd_tlbi(w, SMMU_CMD_TLBI_S2_IPA, vmid, 0, addr & SMMU_CMD_TLBI_1_IPA, leaf, tg, scale,
		      num, ttl);
}

/* 4.4 CMD_TLBI_S12_VMALL: everything of VMID, both stages. */
void smmu_cmd_tlbi_s12_vmall(uint64_t w[2], uint16_t vmid)
{
	smmu_cmd_tlbi(w, SMMU_CMD_TLBI_S12_VMALL, vmid, 0, 0, false, 0, 0, 0, 0);
}

/* 4.4 CMD_TLBI_NSNH_ALL: every Non-secure non-hypervisor entry. */
void smmu_cmd_tlbi_nsnh_all(uint64_t w[2])
{
	smmu_cmd_tlbi(w, SMMU_CMD_TLBI_NSNH_ALL, 0, 0, 0, false, 0, 0, 0, 0);
}

/*
 * 4.7 CMD_SYNC with completion signal cs (0 none, 1 SIG_IRQ, 2 SIG_SEV);
 * with SIG_IRQ and SMMU_IDR0.MSI, msi_data is written to msi_addr.
 */
void smmu_cmd_sync(uint64_t w[2], unsigned cs, uint64_t msi_addr, uint32_t msi_data)
{
	w[0] = FIELD_PREP(SMMU_CMD_0_OP, SMMU_CMD_SYNC) | FIELD_PREP(SMMU_CMD_SYNC_0_CS, cs) |
	       FIELD_PREP(SMMU_CMD_SYNC_0_MSIDATA, msi_data);
	w[1] = msi_addr & SMMU_CMD_SYNC_1_MSIADDR;
}

/* 4.3 CMD_CFGI_STE: the STE of sid (leaf: keep the level-1 descriptor). */
void smmu_cmd_cfgi_ste(uint64_t w[2], uint32_t sid, bool leaf)
{
	w[0] = FIELD_PREP(SMMU_CMD_0_OP, SMMU_CMD_CFGI_STE) | FIELD_PREP(SMMU_CMD_CFGI_0_SID, sid);
	w[1] = leaf ? SMMU_CMD_CFGI_1_LEAF : 0;
}

/* 4.3 CMD_CFGI_CD: the CD of (sid, ssid) (leaf: keep the level-1 CD descriptor). */
void smmu_cmd_cfgi_cd(uint64_t w[2], uint32_t sid, uint32_t ssid, bool leaf)
{
	w[0] = FIELD_PREP(SMMU_CMD_0_OP, SMMU_CMD_CFGI_CD) | FIELD_PREP(SMMU_CMD_CFGI_0_SID, sid) |
	       FIELD_PREP(SMMU_CMD_CFGI_0_SSID, ssid);
	w[1] = leaf ? SMMU_CMD_CFGI_1_LEAF : 0;
}
