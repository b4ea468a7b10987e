/*
 * structs.c - SMMUv3 configuration structures described field by field, for
 * software that writes them by name (scenario steps) and for explanations.
 *
 * Reference: Arm IHI 0070 (SMMUv3) 5.1 (Level 1 Stream Table Descriptor),
 * 5.2 (Stream Table Entry), 5.3 (Level 1 Context Descriptor), 5.4 (Context
 * Descriptor).  Field names are the spec's; address fields (S1ContextPtr,
 * S2TTB, L2Ptr, TTB0, TTB1) take the address itself.  The masks are the
 * ones the decoders use (smmu_int.h).
 */
#include "engine/bits.h"
#include "formats/smmuv3/smmu_int.h"

#define F(n, w, m) { .name = n, .word = w, .is_addr = false, .mask = m }
#define A(n, w, m) { .name = n, .word = w, .is_addr = true, .mask = m }

static const struct ims_field_desc l1std_fields[] = {
	F("Span", 0, SMMU_L1STD_SPAN),
	A("L2Ptr", 0, SMMU_L1STD_L2PTR),
};

static const struct ims_field_desc ste_fields[] = {
	F("V", 0, SMMU_STE_0_V),
	F("Config", 0, SMMU_STE_0_CONFIG),
	F("S1Fmt", 0, SMMU_STE_0_S1FMT),
	A("S1ContextPtr", 0, SMMU_STE_0_S1CTXPTR),
	F("S1CDMax", 0, SMMU_STE_0_S1CDMAX),
	F("S1DSS", 1, SMMU_STE_1_S1DSS),
	F("S1CIR", 1, SMMU_STE_1_S1CIR),
	F("S1COR", 1, SMMU_STE_1_S1COR),
	F("S1CSH", 1, SMMU_STE_1_S1CSH),
	F("DRE", 1, SMMU_STE_1_DRE),
	F("CONT", 1, SMMU_STE_1_CONT),
	F("DCP", 1, SMMU_STE_1_DCP),
	F("PPAR", 1, SMMU_STE_1_PPAR),
	F("MEV", 1, SMMU_STE_1_MEV),
	F("S2FWB", 1, SMMU_STE_1_S2FWB),
	F("S1MPAM", 1, SMMU_STE_1_S1MPAM),
	F("S1STALLD", 1, SMMU_STE_1_S1STALLD),
	F("EATS", 1, SMMU_STE_1_EATS),
	F("STRW", 1, SMMU_STE_1_STRW),
	F("MemAttr", 1, SMMU_STE_1_MEMATTR),
	F("MTCFG", 1, SMMU_STE_1_MTCFG),
	F("ALLOCCFG", 1, SMMU_STE_1_ALLOCCFG),
	F("SHCFG", 1, SMMU_STE_1_SHCFG),
	F("NSCFG", 1, SMMU_STE_1_NSCFG),
	F("PRIVCFG", 1, SMMU_STE_1_PRIVCFG),
	F("INSTCFG", 1, SMMU_STE_1_INSTCFG),
	F("S2VMID", 2, SMMU_STE_2_S2VMID),
	F("S2T0SZ", 2, SMMU_STE_2_S2T0SZ),
	F("S2SL0", 2, SMMU_STE_2_S2SL0),
	F("S2IR0", 2, SMMU_STE_2_S2IR0),
	F("S2OR0", 2, SMMU_STE_2_S2OR0),
	F("S2SH0", 2, SMMU_STE_2_S2SH0),
	F("S2TG", 2, SMMU_STE_2_S2TG),
	F("S2PS", 2, SMMU_STE_2_S2PS),
	F("S2AA64", 2, SMMU_STE_2_S2AA64),
	F("S2ENDI", 2, SMMU_STE_2_S2ENDI),
	F("S2AFFD", 2, SMMU_STE_2_S2AFFD),
	F("S2PTW", 2, SMMU_STE_2_S2PTW),
	F("S2HD", 2, SMMU_STE_2_S2HD),
	F("S2HA", 2, SMMU_STE_2_S2HA),
	F("S2S", 2, SMMU_STE_2_S2S),
	F("S2R", 2, SMMU_STE_2_S2R),
	A("S2TTB", 3, SMMU_STE_3_S2TTB),
};

static const struct ims_field_desc l1cd_fields[] = {
	F("V", 0, SMMU_L1CD_V),
	A("L2Ptr", 0, SMMU_L1CD_L2PTR),
};

static const struct ims_field_desc cd_fields[] = {
	F("T0SZ", 0, SMMU_CD_0_T0SZ),
	F("TG0", 0, SMMU_CD_0_TG0),
	F("IR0", 0, SMMU_CD_0_IR0),
	F("OR0", 0, SMMU_CD_0_OR0),
	F("SH0", 0, SMMU_CD_0_SH0),
	F("EPD0", 0, SMMU_CD_0_EPD0),
	F("ENDI", 0, SMMU_CD_0_ENDI),
	F("T1SZ", 0, SMMU_CD_0_T1SZ),
	F("TG1", 0, SMMU_CD_0_TG1),
	F("IR1", 0, SMMU_CD_0_IR1),
	F("OR1", 0, SMMU_CD_0_OR1),
	F("SH1", 0, SMMU_CD_0_SH1),
	F("EPD1", 0, SMMU_CD_0_EPD1),
	F("V", 0, SMMU_CD_0_V),
	F("IPS", 0, SMMU_CD_0_IPS),
	F("AFFD", 0, SMMU_CD_0_AFFD),
	F("WXN", 0, SMMU_CD_0_WXN),
	F("UWXN", 0, SMMU_CD_0_UWXN),
	F("TBI0", 0, SMMU_CD_0_TBI0),
	F("TBI1", 0, SMMU_CD_0_TBI1),
	F("PAN", 0, SMMU_CD_0_PAN),
	F("AA64", 0, SMMU_CD_0_AA64),
	F("HD", 0, SMMU_CD_0_HD),
	F("HA", 0, SMMU_CD_0_HA),
	F("S", 0, SMMU_CD_0_S),
	F("R", 0, SMMU_CD_0_R),
	F("A", 0, SMMU_CD_0_A),
	F("ASET", 0, SMMU_CD_0_ASET),
	F("ASID", 0, SMMU_CD_0_ASID),
	F("NSCFG0", 1, SMMU_CD_1_NSCFG0),
	F("HAD0", 1, SMMU_CD_1_HAD0),
	A("TTB0", 1, SMMU_CD_1_TTB0),
	F("NSCFG1", 2, SMMU_CD_2_NSCFG1),
	F("HAD1", 2, SMMU_CD_2_HAD1),
	A("TTB1", 2, SMMU_CD_2_TTB1),
	F("MAIR", 3, SMMU_CD_3_MAIR),
	F("AMAIR", 4, SMMU_CD_4_AMAIR),
};

const struct ims_struct_desc smmu_structs[] = {
	{ "smmu.l1std", "IHI 0070 5.1", 1, IMS_ARRAY_SIZE(l1std_fields), l1std_fields },
	{ "smmu.ste", "IHI 0070 5.2", 8, IMS_ARRAY_SIZE(ste_fields), ste_fields },
	{ "smmu.l1cd", "IHI 0070 5.3", 1, IMS_ARRAY_SIZE(l1cd_fields), l1cd_fields },
	{ "smmu.cd", "IHI 0070 5.4", 8, IMS_ARRAY_SIZE(cd_fields), cd_fields },
};
_Static_assert(IMS_ARRAY_SIZE(smmu_structs) == SMMU_NSTRUCTS, "SMMU_NSTRUCTS is out of date");

const struct ims_struct_desc *smmu_label_struct(unsigned label)
{
	switch (label) {
	case SMMU_LBL_L1STD: return &smmu_structs[0];
	case SMMU_LBL_STE: return &smmu_structs[1];
	case SMMU_LBL_L1CD: return &smmu_structs[2];
	case SMMU_LBL_CD: return &smmu_structs[3];
	default: return NULL;
	}
}
