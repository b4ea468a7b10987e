/*
 * vmsa.c - the VMSAv8-64 long-descriptor translation table format, as an
 * SMMUv3 walks it for stage 1 (CD.TTB0/TTB1) and stage 2 (STE.S2TTB).
 *
 * References: Arm Architecture Reference Manual for A-profile (DDI 0487),
 * chapter D8 "The AArch64 Virtual Memory System Architecture": D8.1-D8.2
 * (translation granules, input address size TxSZ, initial lookup level,
 * concatenated stage-2 tables, VTCR_EL2.SL0), D8.3 (descriptor formats),
 * D8.4 (access permissions, hierarchical APTable/UXNTable/PXNTable, WXN,
 * stage-2 S2AP/XN with FEAT_XNX), D8.5 (access flag, dirty state, DBM),
 * D8.6 (contiguous bit) and the pseudocode AArch64.S1Walk / S2Walk /
 * S2InvalidSL / S2InconsistentSL / TTBaseAddress / LeafBase /
 * NextTableBase.  Arm IHI 0070 (SMMUv3): 3.4 (address sizes), 5.2 (STE
 * S2T0SZ/S2SL0/S2TG/S2PS/S2AFFD/S2HA/S2HD), 5.4 (CD TxSZ/TGx/IPS/TBI/
 * AFFD/HA/HD/WXN/UWXN), which feed smmu_s1_cfg_init / smmu_s2_cfg_init.
 *
 * Level names: ours = 3 - spec.  A walk starts at the spec level whose
 * index covers the top input bit (stage 1) or at the level VTCR.SL0 names
 * (stage 2), so the root is level `levels - 1` of ours.
 *
 *   granule  spec L0        spec L1        spec L2        spec L3
 *            (ours 3)       (ours 2)       (ours 1)       (ours 0)
 *   4K       VA[47:39]      VA[38:30]      VA[29:21]      VA[20:12]
 *            table          table/1G block table/2M block page 4K
 *   16K      VA[47]         VA[46:36]      VA[35:25]      VA[24:14]
 *            table          table          table/32M blk  page 16K
 *   64K      -              VA[47:42]      VA[41:29]      VA[28:16]
 *            (none)         table          table/512M blk page 64K
 *
 * Out of scope: spec level -1 and 52-bit addresses with the 4K and 16K
 * granules (FEAT_LPA2, TCR.DS), 52-bit VAs (FEAT_LVA), 4K level-0 and 16K
 * level-1 blocks (LPA2 only), the 64K level-1 4TB block (FEAT_LPA with
 * PAMax 52: decoded here as invalid), 128-bit descriptors (FEAT_D128),
 * indirect permissions and overlays (FEAT_S1PIE/S2PIE/POE), PAN, table
 * Access flag updates (FEAT_HAFT), AArch32 (CD.AA64 = 0) tables, and the
 * contiguous-bit checks (the bit is only reported as a hint).
 *
 * Judgement calls, where the spec leaves a choice:
 *  - TTB bits below the initial table size are treated as zero (the
 *    pseudocode aligns the base: "tablebase = Align(tablebase, 1 << tsize)").
 *  - A TTB at or above 2^oa_bits is an Address size fault at the start
 *    level (the pseudocode's "Address Size Fault by Descriptor Address").
 *  - 64K granule: descriptor bits [15:12] are always OA[51:48] (the
 *    IMPLEMENTATION DEFINED option of LeafBase/NextTableBase), so non-zero
 *    bits there with oa_bits < 52 give an Address size fault.
 *  - 4K/16K: descriptor bits [51:48] are not address bits (RES0 without
 *    LPA2) and are ignored, as are all other RES0/IGNORED bits: VMSA has no
 *    reserved-bit faults.  Reserved encodings (a block where none is
 *    allowed, 0b01 at level 3) are Translation faults.
 *  - Stage-2 input beyond 2^ia_bits is a Translation fault (the
 *    pseudocode's AArch64.IPAIsOutOfRange), not an Address size fault;
 *    the IAS check of IHI 0070 3.4 belongs to the caller.
 *  - Out-of-range TxSZ and inconsistent S2SL0 make the CD/STE ILLEGAL
 *    (-EINVAL) rather than being clamped.  The PAMax-dependent S2SL0 rules
 *    (SL0 = 2 needs PAMax >= 44, or 42 with 16K) need SMMU_IDR5.OAS, which
 *    this file does not see: the STE code checks them.
 *  - Dirty state (DBM) is managed only when both HA and HD are set (the
 *    pseudocode: "walkparams.ha && walkparams.hd && DBM").  With HA the
 *    Access flag is set and AFFD is irrelevant; AFFD without HA makes AF = 0
 *    neither fault nor update.
 *  - Stage 2 XN: bit 54 alone, or XN[1:0] (bits 54:53) with FEAT_XNX when
 *    SMMU_F_XNX is set (SMMU_IDR3.XNX).  EL0 execute maps to IMS_PERM_X,
 *    EL1 execute to IMS_PERM_PX.
 *  - SMMU_F_UWXN has no effect: for AArch64 stage 1 "writable at EL0
 *    implies PXN" always holds; UWXN only matters for AArch32 tables.
 *    SMMU_F_PAN is ignored (PAN is a PE state a device does not have).
 */
#include <errno.h>

#include "formats/smmuv3/smmu_int.h"

/* Descriptor fields (Arm ARM D8.3, VMSAv8-64 64-bit descriptors). */
#define SMMU_VMSA_VALID BIT(0)               /* [0] valid */
#define SMMU_VMSA_TYPE BIT(1)                /* [1] 1: table / page, 0: block */
#define SMMU_VMSA_S2_MEMATTR GENMASK(5, 2)   /* [5:2] stage-2 MemAttr */
#define SMMU_VMSA_AP GENMASK(7, 6)           /* [7:6] AP[2:1] (stage 1) */
#define SMMU_VMSA_AP1 BIT(6)                 /* [6] AP[1]: EL0 access */
#define SMMU_VMSA_AP2 BIT(7)                 /* [7] AP[2]: read-only */
#define SMMU_VMSA_S2AP_R BIT(6)              /* [6] S2AP[0]: read */
#define SMMU_VMSA_S2AP_W BIT(7)              /* [7] S2AP[1]: write */
#define SMMU_VMSA_SH GENMASK(9, 8)           /* [9:8] shareability */
#define SMMU_VMSA_AF BIT(10)                 /* [10] Access flag */
#define SMMU_VMSA_NG BIT(11)                 /* [11] not global (stage 1) */
#define SMMU_VMSA_OA_HI GENMASK(15, 12)      /* [15:12] OA[51:48], 64K granule */
#define SMMU_VMSA_OA GENMASK(47, 12)         /* [47:12] output / table address */
#define SMMU_VMSA_DBM BIT(51)                /* [51] dirty bit modifier */
#define SMMU_VMSA_CONT BIT(52)               /* [52] contiguous hint */
#define SMMU_VMSA_PXN BIT(53)                /* [53] PXN (stage 1) */
#define SMMU_VMSA_S2_XNX BIT(53)             /* [53] XN[0] (stage 2, FEAT_XNX) */
#define SMMU_VMSA_UXN BIT(54)                /* [54] UXN (stage 1) / XN[1] (stage 2) */
#define SMMU_VMSA_PXN_TABLE BIT(59)          /* [59] PXNTable */
#define SMMU_VMSA_UXN_TABLE BIT(60)          /* [60] UXNTable */
#define SMMU_VMSA_AP_TABLE_EL0 BIT(61)       /* [61] APTable[0]: no EL0 access below */
#define SMMU_VMSA_AP_TABLE_RO BIT(62)        /* [62] APTable[1]: no write below */

/* Physical address bits the 64K granule takes from SMMU_VMSA_OA_HI. */
#define SMMU_VMSA_PA_HI GENMASK(51, 48)

#define SMMU_VMSA_SH_INNER 3u                /* SH = 0b11: Inner Shareable */
#define SMMU_VMSA_S2_MEMATTR_WB 0xfu         /* Normal, Inner/Outer Write-Back */

/* Leaf levels (ours) a granule allows: 4K spec L1-L3, 16K/64K spec L2-L3. */
static uint32_t granule_leaf_levels(unsigned granule_lg2)
{
	return granule_lg2 == 12 ? 0x7 : 0x3;
}

/* The output or table address a descriptor holds (before alignment). */
static uint64_t desc_addr(const struct ims_pt_cfg *cfg, uint64_t e)
{
	uint64_t a = e & SMMU_VMSA_OA & ~ims_mask_lg2(cfg->granule_lg2);

	if (cfg->granule_lg2 == 16)
		a |= FIELD_PREP(SMMU_VMSA_PA_HI, FIELD_GET(SMMU_VMSA_OA_HI, e));
	return a;
}

/* The descriptor bits holding address `a` (inverse of desc_addr). */
static uint64_t addr_desc(const struct ims_pt_cfg *cfg, uint64_t a)
{
	uint64_t e = a & SMMU_VMSA_OA & ~ims_mask_lg2(cfg->granule_lg2);

	if (cfg->granule_lg2 == 16)
		e |= FIELD_PREP(SMMU_VMSA_OA_HI, FIELD_GET(SMMU_VMSA_PA_HI, a));
	return e;
}

static bool above_oa(const struct ims_pt_cfg *cfg, uint64_t a)
{
	return cfg->oa_bits < 64 && (a >> cfg->oa_bits) != 0;
}

/* Dirty state is managed by hardware only with both HA and HD (D8.5). */
static bool hw_dirty(const struct ims_pt_cfg *cfg)
{
	return (cfg->flags & (SMMU_F_HA | SMMU_F_HD)) == (SMMU_F_HA | SMMU_F_HD);
}

/*
 * The structural part of decoding, common to both stages (AArch64.S1Walk /
 * S2Walk, DecodeDescriptorType, LeafBase, NextTableBase):
 *   1. bit 0 clear: invalid.
 *   2. bits[1:0] = 0b11: a table above the last level, a page at it.
 *   3. bits[1:0] = 0b01: a block where the granule allows one at this
 *      level; anywhere else the encoding is reserved: Translation fault.
 *   4. an address (table or output) at or above 2^oa_bits: Address size.
 *   5. a leaf with AF = 0: Access flag fault, unless hardware sets AF (HA)
 *      or the fault is disabled (AFFD).
 * Returns true when the caller should fill in permissions.
 */
static bool decode_common(const struct ims_pt_cfg *cfg, unsigned level, uint64_t e,
			  struct ims_pte *out)
{
	bool leaf;

	out->kind = IMS_PTE_EMPTY;
	out->size_lg2 = 0;
	out->perm = 0;
	out->flags = 0;
	out->fault = 0;
	out->addr = 0;

	/* 1 */
	if (!(e & SMMU_VMSA_VALID))
		return false;
	out->kind = IMS_PTE_BAD;
	out->fault = IMS_FK_TRANSLATION;
	/* 2, 3 */
	if (e & SMMU_VMSA_TYPE)
		leaf = level == 0;
	else if (level > 0 && (cfg->leaf_levels & BIT(level)))
		leaf = true;
	else
		return false;

	out->addr = desc_addr(cfg, e);
	if (leaf) {
		unsigned lg2 = ims_pt_leaf_lg2(cfg, level);

		out->addr &= ~ims_mask_lg2(lg2);
		out->size_lg2 = (uint8_t)lg2;
	}
	/* 4 */
	if (above_oa(cfg, out->addr)) {
		out->fault = IMS_FK_ADDR_SIZE;
		return false;
	}
	if (!leaf) {
		out->kind = IMS_PTE_TABLE;
		out->fault = 0;
		return true;
	}
	/* 5 */
	if (!(e & SMMU_VMSA_AF) && !(cfg->flags & (SMMU_F_HA | SMMU_F_AFFD))) {
		out->fault = IMS_FK_ACCESS_FLAG;
		return false;
	}
	out->kind = IMS_PTE_LEAF;
	out->fault = 0;
	if (e & SMMU_VMSA_CONT)
		out->flags |= IMS_PTE_F_CONTIG;
	return true;
}

/*
 * Stage 1 permissions (D8.4, AArch64.S1DirectBasePermissions), per entry:
 *   AP[2:1]  EL1 (privileged)  EL0 (unprivileged)
 *   00       read/write        none
 *   01       read/write        read/write
 *   10       read-only         none
 *   11       read-only         read-only
 * With hardware dirty state, DBM = 1 clears the effective AP[2].
 * UXN / PXN remove execution at EL0 / EL1; EL0 execution does not need EL0
 * read.  A table descriptor restricts everything below it: APTable[0] no
 * EL0 data access, APTable[1] no write, UXNTable, PXNTable.
 */
static void s1_decode(const struct ims_pt_cfg *cfg, unsigned level, uint64_t e,
		      struct ims_pte *out)
{
	unsigned perm;
	bool el0, ro;

	if (!decode_common(cfg, level, e, out))
		return;
	if (out->kind == IMS_PTE_TABLE) {
		perm = IMS_PERM_ALL;
		if (e & SMMU_VMSA_AP_TABLE_EL0)
			perm &= ~(unsigned)(IMS_PERM_R | IMS_PERM_W);
		if (e & SMMU_VMSA_AP_TABLE_RO)
			perm &= ~(unsigned)(IMS_PERM_W | IMS_PERM_PW);
		if (e & SMMU_VMSA_UXN_TABLE)
			perm &= ~(unsigned)IMS_PERM_X;
		if (e & SMMU_VMSA_PXN_TABLE)
			perm &= ~(unsigned)IMS_PERM_PX;
		out->perm = (uint8_t)perm;
		return;
	}

	el0 = e & SMMU_VMSA_AP1;
	ro = (e & SMMU_VMSA_AP2) && !(hw_dirty(cfg) && (e & SMMU_VMSA_DBM));
	perm = IMS_PERM_PR;
	if (el0)
		perm |= IMS_PERM_R;
	if (!ro)
		perm |= el0 ? IMS_PERM_PW | IMS_PERM_W : IMS_PERM_PW;
	if (!(e & SMMU_VMSA_UXN))
		perm |= IMS_PERM_X;
	if (!(e & SMMU_VMSA_PXN))
		perm |= IMS_PERM_PX;
	out->perm = (uint8_t)perm;
	if (!(e & SMMU_VMSA_NG))
		out->flags |= IMS_PTE_F_GLOBAL;
}

/*
 * Stage 2 permissions (D8.4, AArch64.S2DirectBasePermissions):
 *   S2AP[1:0]: 00 none, 01 read, 10 write, 11 read/write (both privileges);
 *   with hardware dirty state, DBM = 1 sets the effective S2AP[1].
 *   XN[1:0] (bits 54:53, FEAT_XNX)  EL1 exec  EL0 exec
 *     00                            yes       yes
 *     01                            no        yes
 *     10                            no        no
 *     11                            yes       no
 *   Without FEAT_XNX bit 53 is RES0 and bit 54 alone forbids execution.
 * Table descriptors carry no permissions at stage 2 (bits 63:59 RES0).
 */
static void s2_decode(const struct ims_pt_cfg *cfg, unsigned level, uint64_t e,
		      struct ims_pte *out)
{
	unsigned perm = 0;
	bool xn, xnx;

	if (!decode_common(cfg, level, e, out))
		return;
	if (out->kind == IMS_PTE_TABLE) {
		out->perm = IMS_PERM_ALL;
		return;
	}
	if (e & SMMU_VMSA_S2AP_R)
		perm |= IMS_PERM_R | IMS_PERM_PR;
	if ((e & SMMU_VMSA_S2AP_W) || (hw_dirty(cfg) && (e & SMMU_VMSA_DBM)))
		perm |= IMS_PERM_W | IMS_PERM_PW;
	xn = e & SMMU_VMSA_UXN;
	xnx = (cfg->flags & SMMU_F_XNX) && (e & SMMU_VMSA_S2_XNX);
	if (!xn)
		perm |= IMS_PERM_X;     /* 00, 01 */
	if (xn == xnx)
		perm |= IMS_PERM_PX;    /* 00, 11 */
	out->perm = (uint8_t)perm;
}

/*
 * Stage 1, after the AND of all levels (AArch64.S1DirectBasePermissions):
 *   1. memory writable at EL0 is never executable at EL1;
 *   2. WXN: memory writable at an EL is not executable at that EL.
 */
static unsigned s1_finish_perm(const struct ims_pt_cfg *cfg, unsigned perm)
{
	/* 1 */
	if (perm & IMS_PERM_W)
		perm &= ~(unsigned)IMS_PERM_PX;
	/* 2 */
	if (cfg->flags & SMMU_F_WXN) {
		if (perm & IMS_PERM_W)
			perm &= ~(unsigned)IMS_PERM_X;
		if (perm & IMS_PERM_PW)
			perm &= ~(unsigned)IMS_PERM_PX;
	}
	return perm;
}

/*
 * Hardware updates of the leaf (D8.5): with HA the Access flag is set;
 * with HA and HD a write to a writable-clean entry (DBM = 1) marks it
 * dirty: stage 1 clears AP[2], stage 2 sets S2AP[1].  Table descriptors
 * are never updated (FEAT_HAFT is not modelled).
 */
static uint64_t vmsa_update_ad(const struct ims_pt_cfg *cfg, unsigned level, uint64_t e,
			       bool leaf, unsigned access)
{
	(void)level;
	if (!leaf || !(cfg->flags & SMMU_F_HA))
		return e;
	e |= SMMU_VMSA_AF;
	if (hw_dirty(cfg) && (e & SMMU_VMSA_DBM) && (access & IMS_ACC_WRITE)) {
		if (cfg->stage == 2)
			e |= SMMU_VMSA_S2AP_W;
		else
			e &= ~SMMU_VMSA_AP2;
	}
	return e;
}

/*
 * Input checks, in the pseudocode's order:
 *   stage 1 (AArch64.VAIsOutOfRange): bits [top:ia_bits] all zero for TTB0,
 *   all ones for TTB1, top = 55 with TBI, 63 otherwise: Translation fault;
 *   stage 2 (AArch64.IPAIsOutOfRange): bits [63:ia_bits] zero, or a
 *   Translation fault;
 *   then the base address against the output size: Address size fault.
 */
static enum ims_fault_kind s1_check_input(const struct ims_pt_cfg *cfg, uint64_t in)
{
	unsigned top = (cfg->flags & SMMU_F_TBI) ? 55 : 63;
	uint64_t range = GENMASK(top, cfg->ia_bits);
	uint64_t want = (cfg->flags & SMMU_F_TTB1) ? range : 0;

	if ((in & range) != want)
		return IMS_FK_TRANSLATION;
	if (above_oa(cfg, cfg->root))
		return IMS_FK_ADDR_SIZE;
	return IMS_FK_NONE;
}

static enum ims_fault_kind s2_check_input(const struct ims_pt_cfg *cfg, uint64_t in)
{
	if (cfg->ia_bits < 64 && (in >> cfg->ia_bits) != 0)
		return IMS_FK_TRANSLATION;
	if (above_oa(cfg, cfg->root))
		return IMS_FK_ADDR_SIZE;
	return IMS_FK_NONE;
}

/* Software's side: tables carry no restrictions. */
static uint64_t vmsa_encode_table(const struct ims_pt_cfg *cfg, unsigned level, uint64_t table)
{
	(void)level;
	return addr_desc(cfg, table) | SMMU_VMSA_VALID | SMMU_VMSA_TYPE;
}

/* Leaf bits common to both stages: type, address, AF, Inner Shareable. */
static uint64_t leaf_base(const struct ims_pt_cfg *cfg, unsigned level, uint64_t out)
{
	uint64_t e = addr_desc(cfg, out & ~ims_mask_lg2(ims_pt_leaf_lg2(cfg, level)));

	e |= SMMU_VMSA_VALID | SMMU_VMSA_AF | FIELD_PREP(SMMU_VMSA_SH, SMMU_VMSA_SH_INNER);
	if (level == 0)
		e |= SMMU_VMSA_TYPE;
	return e;
}

/*
 * Stage 1 leaf: AP[1] when EL0 has any data access, AP[2] when nobody may
 * write, UXN / PXN from X / PX; AttrIndx 0, global.  AP cannot express
 * every combination (EL0 read-only with EL1 write, say): EL0 gets what EL1
 * gets.
 */
static uint64_t s1_encode_leaf(const struct ims_pt_cfg *cfg, unsigned level, uint64_t out,
			       unsigned perm)
{
	uint64_t e = leaf_base(cfg, level, out);

	if (perm & (IMS_PERM_R | IMS_PERM_W))
		e |= SMMU_VMSA_AP1;
	if (!(perm & (IMS_PERM_W | IMS_PERM_PW)))
		e |= SMMU_VMSA_AP2;
	if (!(perm & IMS_PERM_X))
		e |= SMMU_VMSA_UXN;
	if (!(perm & IMS_PERM_PX))
		e |= SMMU_VMSA_PXN;
	return e;
}

/* Stage 2 leaf: Normal Write-Back memory, S2AP and XN from perm. */
static uint64_t s2_encode_leaf(const struct ims_pt_cfg *cfg, unsigned level, uint64_t out,
			       unsigned perm)
{
	uint64_t e = leaf_base(cfg, level, out);
	bool ux = perm & IMS_PERM_X, px = perm & IMS_PERM_PX;

	e |= FIELD_PREP(SMMU_VMSA_S2_MEMATTR, SMMU_VMSA_S2_MEMATTR_WB);
	if (perm & (IMS_PERM_R | IMS_PERM_PR))
		e |= SMMU_VMSA_S2AP_R;
	if (perm & (IMS_PERM_W | IMS_PERM_PW))
		e |= SMMU_VMSA_S2AP_W;
	if (cfg->flags & SMMU_F_XNX) {
		if (!ux)
			e |= SMMU_VMSA_UXN;          /* 10 or 11 */
		if (ux != px)
			e |= SMMU_VMSA_S2_XNX;       /* 01 or 11 */
	} else if (!ux && !px) {
		e |= SMMU_VMSA_UXN;
	}
	return e;
}

static const char *vmsa_level_name(const struct ims_pt_cfg *cfg, unsigned level)
{
	static const char *const names[] = { "L3", "L2", "L1", "L0" };

	(void)cfg;
	return level < 4 ? names[level] : "?";
}

const struct ims_pt_format smmu_vmsa_s1_format = {
	.name = "VMSAv8-64 stage 1",
	.entry_lg2 = 3,
	.decode = s1_decode,
	.check_input = s1_check_input,
	.finish_perm = s1_finish_perm,
	.update_ad = vmsa_update_ad,
	.encode_table = vmsa_encode_table,
	.encode_leaf = s1_encode_leaf,
	.level_name = vmsa_level_name,
};

const struct ims_pt_format smmu_vmsa_s2_format = {
	.name = "VMSAv8-64 stage 2",
	.entry_lg2 = 3,
	.decode = s2_decode,
	.check_input = s2_check_input,
	.update_ad = vmsa_update_ad,
	.encode_table = vmsa_encode_table,
	.encode_leaf = s2_encode_leaf,
	.level_name = vmsa_level_name,
};

/* Largest TxSZ (AArch64.MaxTxSZ): 39, or 48 / 47 (64K) with FEAT_TTST. */
static unsigned max_txsz(unsigned granule_lg2, uint32_t flags)
{
	if (!(flags & SMMU_F_STT))
		return 39;
	return granule_lg2 == 16 ? 47 : 48;
}

/*
 * Effective output size (AArch64.PhysicalAddressSize): at most 48 bits
 * without FEAT_LPA2, 52 with the 64K granule.  Below 32 bits is no PS
 * encoding at all.
 */
static int effective_oa(unsigned granule_lg2, unsigned oa_bits, unsigned *out)
{
	unsigned max = granule_lg2 == 16 ? 52 : 48;

	if (oa_bits < 32)
		return -EINVAL;
	*out = oa_bits < max ? oa_bits : max;
	return 0;
}

/* Fill in what both stages share, once everything is validated. */
static void cfg_fill(struct ims_pt_cfg *cfg, const struct ims_pt_format *fmt, uint64_t ttb,
		     unsigned levels, unsigned granule_lg2, unsigned ia_bits, unsigned oa_bits,
		     unsigned stage, uint32_t flags)
{
	unsigned stride = granule_lg2 - 3;
	unsigned root_shift = granule_lg2 + (levels - 1) * stride;
	/* Initial table size: its index bits plus the 8-byte entry. */
	unsigned tsize_lg2 = ia_bits - root_shift + 3;

	cfg->fmt = fmt;
	cfg->root = ttb & ~ims_mask_lg2(tsize_lg2);
	cfg->levels = (uint8_t)levels;
	cfg->granule_lg2 = (uint8_t)granule_lg2;
	cfg->ia_bits = (uint8_t)ia_bits;
	cfg->oa_bits = (uint8_t)oa_bits;
	cfg->stage = (uint8_t)stage;
	cfg->leaf_levels = granule_leaf_levels(granule_lg2) & (uint32_t)ims_mask_lg2(levels);
	cfg->flags = flags;
	cfg->tag = 0;
}

static bool granule_ok(unsigned granule_lg2)
{
	return granule_lg2 == 12 || granule_lg2 == 14 || granule_lg2 == 16;
}

/*
 * Stage 1 (IHI 0070 5.4 CD.TxSZ/TGx, Arm ARM D8.2):
 *   1. the granule is 4K, 16K or 64K;
 *   2. 16 <= TxSZ <= 39 (48, or 47 with 64K, when SMMU_F_STT);
 *   3. the output size has a PS encoding;
 *   4. the walk starts at the level whose index holds VA bit ia_bits - 1:
 *      levels = ceil((ia_bits - granule) / stride) (AArch64.S1StartLevel);
 *   5. the TTB is aligned down to the initial table size.
 */
int smmu_s1_cfg_init(struct ims_pt_cfg *cfg, uint64_t ttb, unsigned granule_lg2, unsigned tsz,
		     unsigned oa_bits, uint32_t flags)
{
	unsigned ia_bits, stride, levels, oa;

	/* 1 */
	if (!granule_ok(granule_lg2))
		return -EINVAL;
	/* 2 */
	if (tsz < 16 || tsz > max_txsz(granule_lg2, flags))
		return -EINVAL;
	/* 3 */
	if (effective_oa(granule_lg2, oa_bits, &oa))
		return -EINVAL;
	/* 4 */
	ia_bits = 64 - tsz;
	stride = granule_lg2 - 3;
	levels = (ia_bits - granule_lg2 + stride - 1) / stride;
	/* 5 */
	cfg_fill(cfg, &smmu_vmsa_s1_format, ttb, levels, granule_lg2, ia_bits, oa, 1, flags);
	return 0;
}

/*
 * Stage 2 (IHI 0070 5.2 STE.S2T0SZ/S2SL0/S2TG, Arm ARM D8.2,
 * AArch64.S2InvalidSL / S2InconsistentSL):
 *   1. the granule is 4K, 16K or 64K;
 *   2. 16 <= T0SZ <= 39 (48 / 47 with SMMU_F_STT); with 64K and a 52-bit
 *      output size, T0SZ may go down to 12 (52-bit IPA, FEAT_LPA);
 *   3. the output size has a PS encoding;
 *   4. SL0 names the start level:
 *        SL0   4K           16K              64K
 *        0     L2           L3               L3
 *        1     L1           L2               L2
 *        2     L0           L1               L1
 *        3     L3 (TTST)    L0 (LPA2: no)    reserved
 *   5. the start level must resolve at least one input bit and at most
 *      a stride plus 4 bits: up to 16 concatenated initial tables;
 *   6. the S2TTB is aligned down to the (concatenated) initial table size.
 */
int smmu_s2_cfg_init(struct ims_pt_cfg *cfg, uint64_t s2ttb, unsigned granule_lg2,
		     unsigned t0sz, unsigned sl0, unsigned oa_bits, uint32_t flags)
{
	unsigned ia_bits, stride, start, levels, root_shift, min_tsz, oa;

	/* 1 */
	if (!granule_ok(granule_lg2))
		return -EINVAL;
	/* 3 (needed by 2) */
	if (effective_oa(granule_lg2, oa_bits, &oa))
		return -EINVAL;
	/* 2 */
	min_tsz = (granule_lg2 == 16 && oa >= 52) ? 12 : 16;
	if (t0sz < min_tsz || t0sz > max_txsz(granule_lg2, flags))
		return -EINVAL;
	/* 4: start is the spec's level number */
	if (sl0 > 3)
		return -EINVAL;
	if (granule_lg2 == 12) {
		if (sl0 == 3) {
			if (!(flags & SMMU_F_STT))
				return -EINVAL;
			start = 3;
		} else {
			start = 2 - sl0;
		}
	} else {
		if (sl0 == 3)
			return -EINVAL;
		start = 3 - sl0;
	}
	/* 5 */
	ia_bits = 64 - t0sz;
	stride = granule_lg2 - 3;
	levels = 4 - start;
	root_shift = granule_lg2 + (levels - 1) * stride;
	if (ia_bits < root_shift + 1 || ia_bits > root_shift + stride + 4)
		return -EINVAL;
	/* 6 */
	cfg_fill(cfg, &smmu_vmsa_s2_format, s2ttb, levels, granule_lg2, ia_bits, oa, 2, flags);
	return 0;
}
