/*
 * first_stage.c - VT-d first-stage translation: x86-64 4- and 5-level paging.
 *
 * Reference: VT-d spec rev 4.x, 3.6 (first-stage translation), 3.6.1
 * (canonical address checks), 3.6.2 (access rights), 3.6.3 (A/D flags),
 * 9.7 (first-stage paging entries); Intel SDM vol. 3, 4.5 (4/5-level paging).
 *
 * Level names:  spec PML5E  PML4E  PDPE   PDE    PTE
 *               ours  4      3      2      1      0
 * A leaf is a PTE (4 KiB), a PDE with PS=1 (2 MiB) or a PDPE with PS=1
 * (1 GiB, only when CAP.FS1GP).
 *
 * Permissions (3.6.2), per entry, AND-ed down the walk:
 *   user read    needs U/S=1 at every level
 *   user write   needs U/S=1 and R/W=1 at every level
 *   user exec    needs U/S=1 and XD=0 at every level
 *   sup. read    always
 *   sup. write   needs R/W=1 at every level when WPE=1; always when WPE=0
 *   sup. exec    needs XD=0 at every level, and is refused on user pages
 *                (supervisor-mode execute prevention is always on)
 * XD is always honoured: the NXE bit of older revisions is not modelled.
 */
#include "formats/vtd/vtd_int.h"

static void fs_decode(const struct ims_pt_cfg *cfg, unsigned level, uint64_t e,
		      struct ims_pte *out)
{
	bool leaf;
	unsigned perm = IMS_PERM_PR;

	out->flags = 0;
	out->fault = 0;
	out->size_lg2 = 0;
	out->addr = 0;
	out->perm = 0;
	if (!(e & VTD_FS_P)) {
		out->kind = IMS_PTE_EMPTY;
		return;
	}
	out->kind = IMS_PTE_BAD;
	out->fault = IMS_FK_RESERVED;
	if (e & vtd_addr_rsvd(cfg))
		return;
	switch (level) {
	case 0:
		leaf = true;
		break;
	case 1:
		leaf = e & VTD_FS_PS;
		/* PDE mapping 2 MiB: bits 20:13 reserved (bit 12 is PAT). */
		if (leaf && (e & GENMASK(20, 13)))
			return;
		break;
	case 2:
		leaf = e & VTD_FS_PS;
		if (leaf && (!(cfg->flags & VTD_F_FS1GP) || (e & GENMASK(29, 13))))
			return;
		break;
	default:
		/* PML4E / PML5E: PS is reserved. */
		if (e & VTD_FS_PS)
			return;
		leaf = false;
		break;
	}
	if (e & VTD_FS_US)
		perm |= IMS_PERM_R;
	if (e & VTD_FS_RW) {
		perm |= IMS_PERM_PW;
		if (e & VTD_FS_US)
			perm |= IMS_PERM_W;
	} else if (!(cfg->flags & VTD_F_WPE)) {
		perm |= IMS_PERM_PW;
	}
	if (!(e & VTD_FS_XD)) {
		perm |= IMS_PERM_PX;
		if (e & VTD_FS_US)
			perm |= IMS_PERM_X;
	}
	out->perm = (uint8_t)perm;
	if (leaf) {
		unsigned lg2 = ims_pt_leaf_lg2(cfg, level);

		out->kind = IMS_PTE_LEAF;
		out->size_lg2 = (uint8_t)lg2;
		out->addr = e & VTD_FS_ADDR & ~ims_mask_lg2(lg2);
		if (e & VTD_FS_G)
			out->flags |= IMS_PTE_F_GLOBAL;
	} else {
		out->kind = IMS_PTE_TABLE;
		out->addr = e & VTD_FS_ADDR;
	}
	out->fault = 0;
}

/* 3.6.1: the input must be canonical for the paging mode in use. */
static enum ims_fault_kind fs_check_input(const struct ims_pt_cfg *cfg, uint64_t in)
{
	unsigned top = cfg->ia_bits - 1; /* 47 or 56 */
	uint64_t upper = in & GENMASK(63, top);

	if (upper != 0 && upper != GENMASK(63, top))
		return IMS_FK_NON_CANONICAL;
	return IMS_FK_NONE;
}

/* Supervisor execution of a user page is refused. */
static unsigned fs_finish_perm(const struct ims_pt_cfg *cfg, unsigned perm)
{
	(void)cfg;
	if (perm & IMS_PERM_R)
		perm &= ~(unsigned)IMS_PERM_PX;
	return perm;
}

/* 3.6.3: A in every entry used, D in the leaf on writes, EA with A if EAFE. */
static uint64_t fs_update_ad(const struct ims_pt_cfg *cfg, unsigned level, uint64_t e, bool leaf,
			     unsigned access)
{
	(void)level;
	e |= VTD_FS_A;
	if (cfg->flags & VTD_F_EAFE)
		e |= VTD_FS_EA;
	if (leaf && (access & IMS_ACC_WRITE))
		e |= VTD_FS_D;
	return e;
}

static uint64_t fs_encode_table(const struct ims_pt_cfg *cfg, unsigned level, uint64_t table)
{
	(void)cfg;
	(void)level;
	return (table & VTD_FS_ADDR) | VTD_FS_P | VTD_FS_RW | VTD_FS_US;
}

static uint64_t fs_encode_leaf(const struct ims_pt_cfg *cfg, unsigned level, uint64_t out,
			       unsigned perm)
{
	uint64_t e = (out & VTD_FS_ADDR) | VTD_FS_P;

	(void)cfg;
	if (level > 0)
		e |= VTD_FS_PS;
	if (perm & (IMS_PERM_W | IMS_PERM_PW))
		e |= VTD_FS_RW;
	if (perm & (IMS_PERM_R | IMS_PERM_W | IMS_PERM_X))
		e |= VTD_FS_US;
	if (!(perm & (IMS_PERM_X | IMS_PERM_PX)))
		e |= VTD_FS_XD;
	return e;
}

static const char *fs_level_name(const struct ims_pt_cfg *cfg, unsigned level)
{
	static const char *const names[] = { "PTE", "PDE", "PDPE", "PML4E", "PML5E" };

	(void)cfg;
	return level < 5 ? names[level] : "?";
}

const struct ims_pt_format vtd_fs_format = {
	.name = "VT-d first stage (x86-64 paging)",
	.entry_lg2 = 3,
	.decode = fs_decode,
	.check_input = fs_check_input,
	.finish_perm = fs_finish_perm,
	.update_ad = fs_update_ad,
	.encode_table = fs_encode_table,
	.encode_leaf = fs_encode_leaf,
	.level_name = fs_level_name,
};

void vtd_fs_cfg_init(struct ims_pt_cfg *cfg, uint64_t root, unsigned levels, unsigned haw,
		     uint32_t flags)
{
	cfg->fmt = &vtd_fs_format;
	cfg->root = root;
	cfg->levels = (uint8_t)levels;
	cfg->granule_lg2 = 12;
	cfg->ia_bits = (uint8_t)(12 + 9 * levels);
	cfg->oa_bits = (uint8_t)(haw > 52 ? 52 : haw);
	cfg->stage = 1;
	cfg->leaf_levels = 0x3 | ((flags & VTD_F_FS1GP) ? 0x4 : 0);
	cfg->flags = flags;
	cfg->tag = cfg->oa_bits;
}
