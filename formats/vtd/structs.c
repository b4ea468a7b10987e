/*
 * structs.c - VT-d configuration structures described field by field, for
 * software that writes them by name (scenario steps) and for explanations.
 *
 * Reference: VT-d spec rev 4.x, 9.1 (root entry), 9.2 (scalable-mode root
 * entry), 9.3 (context entry), 9.4 (scalable-mode context entry), 9.5
 * (scalable-mode PASID directory entry), 9.6 (scalable-mode PASID table
 * entry).  The masks are the ones the decoders use (vtd_int.h).
 */
#include "engine/bits.h"
#include "formats/vtd/vtd_int.h"

#define F(n, w, m) { .name = n, .word = w, .is_addr = false, .mask = m }
#define A(n, w, m) { .name = n, .word = w, .is_addr = true, .mask = m }

static const struct ims_field_desc root_fields[] = {
	F("P", 0, VTD_RE_0_P),
	A("CTP", 0, VTD_RE_0_CTP),
};

static const struct ims_field_desc sm_root_fields[] = {
	F("LP", 0, VTD_SRE_0_LP),
	A("LCTP", 0, VTD_SRE_0_LCTP),
	F("UP", 1, VTD_SRE_1_UP),
	A("UCTP", 1, VTD_SRE_1_UCTP),
};

static const struct ims_field_desc ctx_fields[] = {
	F("P", 0, VTD_CE_0_P),
	F("FPD", 0, VTD_CE_0_FPD),
	F("TT", 0, VTD_CE_0_TT),
	A("SSPTPTR", 0, VTD_CE_0_SSPTPTR),
	F("AW", 1, VTD_CE_1_AW),
	F("DID", 1, VTD_CE_1_DID),
};

static const struct ims_field_desc sm_ctx_fields[] = {
	F("P", 0, VTD_SCE_0_P),
	F("FPD", 0, VTD_SCE_0_FPD),
	F("DTE", 0, VTD_SCE_0_DTE),
	F("PASIDE", 0, VTD_SCE_0_PASIDE),
	F("PRE", 0, VTD_SCE_0_PRE),
	F("PDTS", 0, VTD_SCE_0_PDTS),
	A("PASIDDIRPTR", 0, VTD_SCE_0_PASIDDIRPTR),
	F("RID_PASID", 1, VTD_SCE_1_RID_PASID),
	F("RID_PRIV", 1, VTD_SCE_1_RID_PRIV),
};

static const struct ims_field_desc pde_fields[] = {
	F("P", 0, VTD_PDE_P),
	F("FPD", 0, VTD_PDE_FPD),
	A("SMPTBLPTR", 0, VTD_PDE_SMPTBLPTR),
};

static const struct ims_field_desc pe_fields[] = {
	F("P", 0, VTD_PE_0_P),
	F("FPD", 0, VTD_PE_0_FPD),
	F("AW", 0, VTD_PE_0_AW),
	F("SSEE", 0, VTD_PE_0_SSEE),
	F("PGTT", 0, VTD_PE_0_PGTT),
	F("SSADE", 0, VTD_PE_0_SSADE),
	A("SSPTPTR", 0, VTD_PE_0_SSPTPTR),
	F("DID", 1, VTD_PE_1_DID),
	F("PWSNP", 1, VTD_PE_1_PWSNP),
	F("PGSNP", 1, VTD_PE_1_PGSNP),
	F("SRE", 2, VTD_PE_2_SRE),
	F("FSPM", 2, VTD_PE_2_FSPM),
	F("WPE", 2, VTD_PE_2_WPE),
	F("EAFE", 2, VTD_PE_2_EAFE),
	A("FSPTPTR", 2, VTD_PE_2_FSPTPTR),
};

const struct ims_struct_desc vtd_structs[] = {
	{ "vtd.root_entry", "9.1", 2, IMS_ARRAY_SIZE(root_fields), root_fields },
	{ "vtd.sm_root_entry", "9.2", 2, IMS_ARRAY_SIZE(sm_root_fields), sm_root_fields },
	{ "vtd.context_entry", "9.3", 2, IMS_ARRAY_SIZE(ctx_fields), ctx_fields },
	{ "vtd.sm_context_entry", "9.4", 4, IMS_ARRAY_SIZE(sm_ctx_fields), sm_ctx_fields },
	{ "vtd.pasid_dir_entry", "9.5", 1, IMS_ARRAY_SIZE(pde_fields), pde_fields },
	{ "vtd.pasid_entry", "9.6", 8, IMS_ARRAY_SIZE(pe_fields), pe_fields },
};
_Static_assert(IMS_ARRAY_SIZE(vtd_structs) == VTD_NSTRUCTS, "VTD_NSTRUCTS is out of date");

const struct ims_struct_desc *vtd_label_struct(unsigned label)
{
	switch (label) {
	case VTD_LBL_ROOT: return &vtd_structs[0];
	case VTD_LBL_SM_ROOT: return &vtd_structs[1];
	case VTD_LBL_CONTEXT: return &vtd_structs[2];
	case VTD_LBL_SM_CONTEXT: return &vtd_structs[3];
	case VTD_LBL_PASID_DIR: return &vtd_structs[4];
	case VTD_LBL_PASID_ENTRY: return &vtd_structs[5];
	default: return NULL;
	}
}
