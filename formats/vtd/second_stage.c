/*
 * second_stage.c - VT-d second-stage translation format.
 *
 * Reference: VT-d spec rev 4.x, 3.7 (second-stage translation), 3.7.1
 * (access rights), 3.7.2 (A/D flags, SSADE), 9.8 (second-stage paging
 * entries), 11.4.2 (CAP.SAGAW, CAP.SLLPS).
 *
 * Level names:  spec SS-PML5E SS-PML4E SS-PDPE SS-PDE SS-PTE
 *               ours  4        3        2       1      0
 * AW (context / PASID entry) selects the levels: 1 -> 3 levels (39-bit),
 * 2 -> 4 levels (48-bit), 3 -> 5 levels (57-bit), when CAP.SAGAW has bit AW.
 * A leaf is an SS-PTE, an SS-PDE with PS=1 (2 MiB, SLLPS bit 0) or an
 * SS-PDPE with PS=1 (1 GiB, SLLPS bit 1).
 *
 * An entry is present when R or W is set (or X, with SSEE).  Permissions are
 * the AND of R, W and X over the levels; X is checked only with SSEE and
 * privilege does not matter at this stage.
 */
#include "formats/vtd/vtd_int.h"

static void ss_decode(const struct ims_pt_cfg *cfg, unsigned level, uint64_t e,
		      struct ims_pte *out)
{
	uint64_t present = VTD_SS_R | VTD_SS_W | ((cfg->flags & VTD_F_SSEE) ? VTD_SS_X : 0);
	uint64_t rsvd = VTD_SS_RSVD62;
	bool leaf;
	unsigned perm = 0;

	out->flags = 0;
	out->fault = 0;
	out->size_lg2 = 0;
	out->addr = 0;
	out->perm = 0;
	if (!(e & present)) {
		out->kind = IMS_PTE_EMPTY;
		return;
	}
	out->kind = IMS_PTE_BAD;
	out->fault = IMS_FK_RESERVED;
	rsvd |= vtd_addr_rsvd(cfg);
	if (!(cfg->flags & VTD_F_SC))
		rsvd |= VTD_SS_SNP;
	if (e & rsvd)
		return;
	switch (level) {
	case 0:
		leaf = true;
		break;
	case 1:
		leaf = e & VTD_SS_PS;
		if (leaf && (!(cfg->flags & VTD_F_2M) || (e & GENMASK(20, 12))))
			return;
		break;
	case 2:
		leaf = e & VTD_SS_PS;
		if (leaf && (!(cfg->flags & VTD_F_1G) || (e & GENMASK(29, 12))))
			return;
		break;
	default:
		if (e & VTD_SS_PS)
			return;
		leaf = false;
		break;
	}
	if (e & VTD_SS_R)
		perm |= IMS_PERM_R | IMS_PERM_PR;
	if (e & VTD_SS_W)
		perm |= IMS_PERM_W | IMS_PERM_PW;
	if (!(cfg->flags & VTD_F_SSEE) || (e & VTD_SS_X))
		perm |= IMS_PERM_X | IMS_PERM_PX;
	out->perm = (uint8_t)perm;
	if (leaf) {
		unsigned lg2 = ims_pt_leaf_lg2(cfg, level);

		out->kind = IMS_PTE_LEAF;
		out->size_lg2 = (uint8_t)lg2;
		out->addr = e & VTD_SS_ADDR & ~ims_mask_lg2(lg2);
	} else {
		out->kind = IMS_PTE_TABLE;
		out->addr = e & VTD_SS_ADDR;
	}
	out->fault = 0;
}

/* 3.7.2: with SSADE, A in every entry used and D in the leaf on writes. */
static uint64_t ss_update_ad(const struct ims_pt_cfg *cfg, unsigned level, uint64_t e, bool leaf,
			     unsigned access)
{
	(void)level;
	if (!(cfg->flags & VTD_F_SSADE))
		return e;
	e |= VTD_SS_A;
	if (leaf && (access & IMS_ACC_WRITE))
		e |= VTD_SS_D;
	return e;
}

static uint64_t ss_encode_table(const struct ims_pt_cfg *cfg, unsigned level, uint64_t table)
{
	(void)level;
	return (table & VTD_SS_ADDR) | VTD_SS_R | VTD_SS_W |
	       ((cfg->flags & VTD_F_SSEE) ? VTD_SS_X : 0);
}

static uint64_t ss_encode_leaf(const struct ims_pt_cfg *cfg, unsigned level, uint64_t out,
			       unsigned perm)
{
	uint64_t e = out & VTD_SS_ADDR;

	if (level > 0)
		e |= VTD_SS_PS;
	if (perm & (IMS_PERM_R | IMS_PERM_PR))
		e |= VTD_SS_R;
	if (perm & (IMS_PERM_W | IMS_PERM_PW))
		e |= VTD_SS_W;
	if ((cfg->flags & VTD_F_SSEE) && (perm & (IMS_PERM_X | IMS_PERM_PX)))
		e |= VTD_SS_X;
	return e;
}

static const char *ss_level_name(const struct ims_pt_cfg *cfg, unsigned level)
{
	static const char *const names[] = { "SS-PTE", "SS-PDE", "SS-PDPE", "SS-PML4E",
					     "SS-PML5E" };

	(void)cfg;
	return level < 5 ? names[level] : "?";
}

const struct ims_pt_format vtd_ss_format = {
	.name = "VT-d second stage",
	.entry_lg2 = 3,
	.decode = ss_decode,
	.update_ad = ss_update_ad,
	.encode_table = ss_encode_table,
	.encode_leaf = ss_encode_leaf,
	.level_name = ss_level_name,
};

bool vtd_agaw_supported(uint64_t cap, unsigned aw)
{
	return aw >= 1 && aw <= 3 && (FIELD_GET(VTD_CAP_SAGAW, cap) & (1u << aw));
}

void vtd_ss_cfg_init(struct ims_pt_cfg *cfg, uint64_t root, unsigned aw, unsigned mgaw,
		     unsigned haw, uint32_t flags)
{
	unsigned agaw = 30 + 9 * aw;

	cfg->fmt = &vtd_ss_format;
	cfg->root = root;
	cfg->levels = (uint8_t)(aw + 2);
	cfg->granule_lg2 = 12;
	cfg->ia_bits = (uint8_t)(agaw < mgaw ? agaw : mgaw);
	cfg->oa_bits = (uint8_t)(haw > 52 ? 52 : haw);
	cfg->stage = 2;
	cfg->leaf_levels = 0x1 | ((flags & VTD_F_2M) ? 0x2 : 0) | ((flags & VTD_F_1G) ? 0x4 : 0);
	cfg->flags = flags;
	cfg->tag = cfg->oa_bits;
}
