/*
 * regs.c - the SMMUv3 register model: SMMU_IDR0-5, SMMU_IIDR and SMMU_AIDR
 * from a JSON model.
 *
 * Reference: Arm IHI 0070 (SMMUv3) 6.3.1 (IDR0), 6.3.2 (IDR1), 6.3.3
 * (IDR2), 6.3.4 (IDR3), 6.3.5 (IDR4, IMPLEMENTATION DEFINED), 6.3.6 (IDR5),
 * 6.3.7 (IIDR), 6.3.8 (AIDR).
 *
 * Model section:
 *   "smmuv3": { "idr0": "0x..." | { "value": "0x...", "S1P": 1, "TTF": 2, ... },
 *               "idr1": ..., "idr2": ..., "idr3": ..., "idr4": ...,
 *               "idr5": ..., "iidr": ..., "aidr": ... }
 * idr0, idr1 and idr5 are required; the others default to zero.  Named
 * fields take the register's raw encoding (TTF 2 = AArch64, OAS 5 = 48
 * bits, SIDSIZE = StreamID bits, ...), so a value read from real hardware
 * can be pasted field by field.  Cross-field rules are checked here, in one
 * place; what this model does not implement is refused here too, with
 * "unimplemented", rather than half-honoured later.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "engine/bits.h"
#include "formats/smmuv3/smmu_int.h"

static const struct ims_reg_field idr0_fields[] = {
	{ "S2P", SMMU_IDR0_S2P },         { "S1P", SMMU_IDR0_S1P },
	{ "TTF", SMMU_IDR0_TTF },         { "COHACC", SMMU_IDR0_COHACC },
	{ "BTM", SMMU_IDR0_BTM },         { "HTTU", SMMU_IDR0_HTTU },
	{ "DORMHINT", SMMU_IDR0_DORMHINT }, { "HYP", SMMU_IDR0_HYP },
	{ "ATS", SMMU_IDR0_ATS },         { "NS1ATS", SMMU_IDR0_NS1ATS },
	{ "ASID16", SMMU_IDR0_ASID16 },   { "MSI", SMMU_IDR0_MSI },
	{ "SEV", SMMU_IDR0_SEV },         { "ATOS", SMMU_IDR0_ATOS },
	{ "PRI", SMMU_IDR0_PRI },         { "VMW", SMMU_IDR0_VMW },
	{ "VMID16", SMMU_IDR0_VMID16 },   { "CD2L", SMMU_IDR0_CD2L },
	{ "VATOS", SMMU_IDR0_VATOS },     { "TTENDIAN", SMMU_IDR0_TTENDIAN },
	{ "ATSRECERR", SMMU_IDR0_ATSRECERR }, { "STALL_MODEL", SMMU_IDR0_STALL_MODEL },
	{ "TERM_MODEL", SMMU_IDR0_TERM_MODEL }, { "ST_LEVEL", SMMU_IDR0_ST_LEVEL },
	{ "RME_IMPL", SMMU_IDR0_RME_IMPL },
};

static const struct ims_reg_field idr1_fields[] = {
	{ "SIDSIZE", SMMU_IDR1_SIDSIZE },   { "SSIDSIZE", SMMU_IDR1_SSIDSIZE },
	{ "PRIQS", SMMU_IDR1_PRIQS },       { "EVENTQS", SMMU_IDR1_EVENTQS },
	{ "CMDQS", SMMU_IDR1_CMDQS },       { "ATTR_PERMS_OVR", SMMU_IDR1_ATTR_PERMS_OVR },
	{ "ATTR_TYPES_OVR", SMMU_IDR1_ATTR_TYPES_OVR }, { "REL", SMMU_IDR1_REL },
	{ "QUEUES_PRESET", SMMU_IDR1_QUEUES_PRESET },
	{ "TABLES_PRESET", SMMU_IDR1_TABLES_PRESET }, { "ECMDQ", SMMU_IDR1_ECMDQ },
};

static const struct ims_reg_field idr2_fields[] = {
	{ "BA_VATOS", SMMU_IDR2_BA_VATOS },
};

static const struct ims_reg_field idr3_fields[] = {
	{ "HAD", SMMU_IDR3_HAD },     { "PBHA", SMMU_IDR3_PBHA }, { "XNX", SMMU_IDR3_XNX },
	{ "PPS", SMMU_IDR3_PPS },     { "MPAM", SMMU_IDR3_MPAM }, { "FWB", SMMU_IDR3_FWB },
	{ "STT", SMMU_IDR3_STT },     { "RIL", SMMU_IDR3_RIL },   { "BBML", SMMU_IDR3_BBML },
	{ "E0PD", SMMU_IDR3_E0PD },   { "PTWNNC", SMMU_IDR3_PTWNNC }, { "DPT", SMMU_IDR3_DPT },
};

static const struct ims_reg_field idr5_fields[] = {
	{ "OAS", SMMU_IDR5_OAS },         { "GRAN4K", SMMU_IDR5_GRAN4K },
	{ "GRAN16K", SMMU_IDR5_GRAN16K }, { "GRAN64K", SMMU_IDR5_GRAN64K },
	{ "VAX", SMMU_IDR5_VAX },         { "STALL_MAX", SMMU_IDR5_STALL_MAX },
};

static const struct ims_reg_field iidr_fields[] = {
	{ "Implementer", SMMU_IIDR_IMPLEMENTER }, { "Revision", SMMU_IIDR_REVISION },
	{ "Variant", SMMU_IIDR_VARIANT },         { "ProductID", SMMU_IIDR_PRODUCTID },
};

static const struct ims_reg_field aidr_fields[] = {
	{ "ArchMinorRev", SMMU_AIDR_MINOR }, { "ArchMajorRev", SMMU_AIDR_MAJOR },
};

static const struct {
	const char *name;
	const struct ims_reg_field *fields;
	size_t nfields;
	bool required;
} regs[] = {
	{ "idr0", idr0_fields, IMS_ARRAY_SIZE(idr0_fields), true },
	{ "idr1", idr1_fields, IMS_ARRAY_SIZE(idr1_fields), true },
	{ "idr2", idr2_fields, IMS_ARRAY_SIZE(idr2_fields), false },
	{ "idr3", idr3_fields, IMS_ARRAY_SIZE(idr3_fields), false },
	{ "idr4", NULL, 0, false },
	{ "idr5", idr5_fields, IMS_ARRAY_SIZE(idr5_fields), true },
	{ "iidr", iidr_fields, IMS_ARRAY_SIZE(iidr_fields), false },
	{ "aidr", aidr_fields, IMS_ARRAY_SIZE(aidr_fields), false },
};

unsigned smmu_oas_bits(unsigned oas)
{
	static const unsigned char bits[8] = { 32, 36, 40, 42, 44, 48, 52, 0 };

	return oas < 8 ? bits[oas] : 0;
}

static bool granule_supported(const struct smmu_state *st, unsigned granule_lg2)
{
	switch (granule_lg2) {
	case 12: return st->idr[5] & SMMU_IDR5_GRAN4K;
	case 14: return st->idr[5] & SMMU_IDR5_GRAN16K;
	case 16: return st->idr[5] & SMMU_IDR5_GRAN64K;
	default: return false;
	}
}

unsigned smmu_tg_granule(const struct smmu_state *st, unsigned tg, bool tg1)
{
	/* CD.TG0 and STE.S2TG encode as TCR_EL1.TG0; CD.TG1 as TCR_EL1.TG1 (5.2, 5.4). */
	static const unsigned char tg0_lg2[4] = { 12, 16, 14, 0 };
	static const unsigned char tg1_lg2[4] = { 0, 14, 12, 16 };
	unsigned granule = tg1 ? tg1_lg2[tg & 3] : tg0_lg2[tg & 3];

	return granule_supported(st, granule) ? granule : 0;
}

/* A model gap: the message says "unimplemented", the result is -EOPNOTSUPP. */
#define UNIMPL(...) (ims_errf(__VA_ARGS__), -EOPNOTSUPP)

/* Cross-field rules (6.3.1 - 6.3.8) and what the model implements. */
static int check_regs(const struct smmu_state *st, const char *label, unsigned haw, char *err,
		      size_t errlen)
{
	uint32_t i0 = st->idr[0], i1 = st->idr[1], i3 = st->idr[3], i5 = st->idr[5];
	unsigned ttf = (unsigned)FIELD_GET(SMMU_IDR0_TTF, i0);
	unsigned endian = (unsigned)FIELD_GET(SMMU_IDR0_TTENDIAN, i0);
	unsigned stall = (unsigned)FIELD_GET(SMMU_IDR0_STALL_MODEL, i0);
	unsigned stlevel = (unsigned)FIELD_GET(SMMU_IDR0_ST_LEVEL, i0);
	unsigned oas = (unsigned)FIELD_GET(SMMU_IDR5_OAS, i5);
	unsigned minor = (unsigned)FIELD_GET(SMMU_AIDR_MINOR, st->aidr);

	if (!(i0 & (SMMU_IDR0_S1P | SMMU_IDR0_S2P)))
		return ims_errf(err, errlen,
				"%s: fields \"smmuv3.idr0.S1P\" and \"S2P\" are both 0; an SMMU "
				"implements at least one translation stage",
				label);
	if (ttf == 0)
		return ims_errf(err, errlen,
				"%s: field \"smmuv3.idr0.TTF\" is 0, a reserved encoding; expected "
				"2 (AArch64) or 3 (AArch32 and AArch64)",
				label);
	if (ttf == 1)
		return UNIMPL(err, errlen,
				"%s: unimplemented: \"smmuv3.idr0.TTF\" = 1 (AArch32 tables only); "
				"this model walks AArch64 (VMSAv8-64) tables: use 2 or 3",
				label);
	if (endian == 1)
		return ims_errf(err, errlen,
				"%s: field \"smmuv3.idr0.TTENDIAN\" is 1, a reserved encoding; "
				"expected 0 (mixed), 2 (little) or 3 (big)",
				label);
	if (endian == SMMU_TTENDIAN_BE)
		return UNIMPL(err, errlen,
				"%s: unimplemented: \"smmuv3.idr0.TTENDIAN\" = 3 (big-endian tables "
				"only); use 0 or 2",
				label);
	if (FIELD_GET(SMMU_IDR0_HTTU, i0) == 3)
		return ims_errf(err, errlen,
				"%s: field \"smmuv3.idr0.HTTU\" is 3, a reserved encoding; expected "
				"0 (none), 1 (Access flag) or 2 (Access flag and dirty state)",
				label);
	if (stall == 3)
		return ims_errf(err, errlen,
				"%s: field \"smmuv3.idr0.STALL_MODEL\" is 3, a reserved encoding",
				label);
	if (stall != SMMU_STALL_NONE)
		return UNIMPL(err, errlen,
				"%s: unimplemented: \"smmuv3.idr0.STALL_MODEL\" = %u; this model "
				"has no stall fault model: use 1 (terminate only)",
				label, stall);
	if (stlevel > 1)
		return ims_errf(err, errlen,
				"%s: field \"smmuv3.idr0.ST_LEVEL\" is %u, a reserved encoding; "
				"expected 0 (linear) or 1 (2-level stream table)",
				label, stlevel);
	if ((i0 & SMMU_IDR0_CD2L) && !(i0 & SMMU_IDR0_S1P))
		return ims_errf(err, errlen,
				"%s: field \"smmuv3.idr0.CD2L\" needs \"S1P\" (CD tables exist for "
				"stage 1 only)",
				label);
	if ((i0 & SMMU_IDR0_VMID16) && !(i0 & SMMU_IDR0_S2P))
		return ims_errf(err, errlen,
				"%s: field \"smmuv3.idr0.VMID16\" needs \"S2P\" (VMIDs belong to "
				"stage 2)",
				label);
	if ((i0 & SMMU_IDR0_PRI) && !(i0 & SMMU_IDR0_ATS))
		return ims_errf(err, errlen,
				"%s: field \"smmuv3.idr0.PRI\" needs \"ATS\"", label);
	if (FIELD_GET(SMMU_IDR1_SIDSIZE, i1) > 32)
		return ims_errf(err, errlen,
				"%s: field \"smmuv3.idr1.SIDSIZE\" is %u; a StreamID has 0 to 32 "
				"bits",
				label, (unsigned)FIELD_GET(SMMU_IDR1_SIDSIZE, i1));
	if (FIELD_GET(SMMU_IDR1_SSIDSIZE, i1) > 20)
		return ims_errf(err, errlen,
				"%s: field \"smmuv3.idr1.SSIDSIZE\" is %u; a SubstreamID has 0 to "
				"20 bits",
				label, (unsigned)FIELD_GET(SMMU_IDR1_SSIDSIZE, i1));
	if (FIELD_GET(SMMU_IDR1_SSIDSIZE, i1) && !(i0 & SMMU_IDR0_S1P))
		return ims_errf(err, errlen,
				"%s: field \"smmuv3.idr1.SSIDSIZE\" is not 0 but \"idr0.S1P\" is; "
				"substreams select stage-1 contexts",
				label);
	if (FIELD_GET(SMMU_IDR1_EVENTQS, i1) > 19 || FIELD_GET(SMMU_IDR1_CMDQS, i1) > 19 ||
	    FIELD_GET(SMMU_IDR1_PRIQS, i1) > 19)
		return ims_errf(err, errlen,
				"%s: fields \"smmuv3.idr1.CMDQS/EVENTQS/PRIQS\" are log2 of queue "
				"entries, at most 19",
				label);
	if (!(i5 & (SMMU_IDR5_GRAN4K | SMMU_IDR5_GRAN16K | SMMU_IDR5_GRAN64K)))
		return ims_errf(err, errlen,
				"%s: fields \"smmuv3.idr5.GRAN4K/GRAN16K/GRAN64K\" are all 0; at "
				"least one translation granule is supported",
				label);
	if (!smmu_oas_bits(oas))
		return ims_errf(err, errlen,
				"%s: field \"smmuv3.idr5.OAS\" is %u, a reserved encoding; expected "
				"0-6 (32, 36, 40, 42, 44, 48, 52 bits)",
				label, oas);
	if (FIELD_GET(SMMU_AIDR_MAJOR, st->aidr) != 0 || minor > 3)
		return ims_errf(err, errlen,
				"%s: field \"smmuv3.aidr\" must describe SMMUv3.0-3.3 "
				"(ArchMajorRev 0, ArchMinorRev 0-3)",
				label);
	if (oas == 6 && minor < 1)
		return ims_errf(err, errlen,
				"%s: field \"smmuv3.idr5.OAS\" = 6 (52 bits) needs SMMUv3.1 or "
				"later (\"aidr.ArchMinorRev\" >= 1)",
				label);
	if (oas == 6 || FIELD_GET(SMMU_IDR5_VAX, i5))
		return UNIMPL(err, errlen,
				"%s: unimplemented: 52-bit addresses (\"smmuv3.idr5.OAS\" = 6 or "
				"\"VAX\" != 0); use OAS <= 5 (48 bits) and VAX = 0",
				label);
	if ((i3 & SMMU_IDR3_RIL) && minor < 2)
		return ims_errf(err, errlen,
				"%s: field \"smmuv3.idr3.RIL\" needs SMMUv3.2 or later "
				"(\"aidr.ArchMinorRev\" >= 2)",
				label);
	if (smmu_oas_bits(oas) > haw)
		return ims_errf(err, errlen,
				"%s: field \"smmuv3.idr5.OAS\" (%u bits) is wider than \"haw\" (%u "
				"bits), the physical address space the model provides",
				label, smmu_oas_bits(oas), haw);
	return 0;
}

int smmu_regs_parse(json_t *sec, const char *label, unsigned haw, struct smmu_state *st,
		    char *err, size_t errlen)
{
	uint32_t vals[IMS_ARRAY_SIZE(regs)] = { 0 };
	const char *key;
	json_t *v;
	int rc;

	if (!json_is_object(sec))
		return ims_errf(err, errlen,
				"%s: field \"smmuv3\" must be an object with \"idr0\", \"idr1\" and "
				"\"idr5\"",
				label);
	json_object_foreach(sec, key, v) {
		bool known = false;

		for (size_t i = 0; i < IMS_ARRAY_SIZE(regs); i++)
			known |= !strcmp(regs[i].name, key);
		if (!known)
			return ims_errf(err, errlen,
					"%s: unknown field \"smmuv3.%s\" (expected idr0-idr5, iidr, "
					"aidr)",
					label, key);
	}
	for (size_t i = 0; i < IMS_ARRAY_SIZE(regs); i++) {
		v = json_object_get(sec, regs[i].name);
		if (!v) {
			if (regs[i].required)
				return ims_errf(err, errlen, "%s: field \"smmuv3.%s\" is missing",
						label, regs[i].name);
			continue;
		}
		char path[32], regname[32];
		uint64_t val;

		snprintf(path, sizeof(path), "smmuv3.%s", regs[i].name);
		snprintf(regname, sizeof(regname), "SMMU_%s", regs[i].name);
		rc = ims_json_reg(v, label, path, regname, 32, regs[i].fields, regs[i].nfields, &val,
				  err, errlen);
		if (rc)
			return rc;
		vals[i] = (uint32_t)val;
	}
	/* Validate into a scratch copy; commit only a consistent set. */
	{
		struct smmu_state tmp = *st;

		for (unsigned i = 0; i < 6; i++)
			tmp.idr[i] = vals[i];
		tmp.iidr = vals[6];
		tmp.aidr = vals[7];
		rc = check_regs(&tmp, label, haw, err, errlen);
		if (rc)
			return rc;
		tmp.oas_bits = smmu_oas_bits((unsigned)FIELD_GET(SMMU_IDR5_OAS, tmp.idr[5]));
		*st = tmp;
	}
	return 0;
}
