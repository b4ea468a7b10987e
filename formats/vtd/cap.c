/*
 * cap.c - the VT-d capability model: CAP_REG and ECAP_REG from a JSON model.
 *
 * Reference: VT-d spec rev 4.x, 11.4.2 (CAP_REG) and 11.4.3 (ECAP_REG).
 *
 * Model section:
 *   "vtd": { "cap":  "0x..." | { "value": "0x...", "SAGAW": 6, ... },
 *            "ecap": "0x..." | { "SMTS": 1, "PSS": 19, ... },
 *            "fault_records": 8 }
 * Named fields take the register's raw encoding (MGAW is width - 1, PSS is
 * PASID bits - 1, SAGAW and SLLPS are bit masks), so a value read from real
 * hardware can be pasted field by field.  Cross-field rules are checked
 * here, in one place.
 */
#include <string.h>

#include "engine/bits.h"
#include "formats/vtd/vtd_int.h"

static const struct ims_reg_field cap_fields[] = {
	{ "ND", VTD_CAP_ND },       { "AFL", VTD_CAP_AFL },     { "RWBF", VTD_CAP_RWBF },
	{ "PLMR", VTD_CAP_PLMR },   { "PHMR", VTD_CAP_PHMR },   { "CM", VTD_CAP_CM },
	{ "SAGAW", VTD_CAP_SAGAW }, { "MGAW", VTD_CAP_MGAW },   { "ZLR", VTD_CAP_ZLR },
	{ "FRO", VTD_CAP_FRO },     { "SLLPS", VTD_CAP_SLLPS }, { "SSLPS", VTD_CAP_SLLPS },
	{ "PSI", VTD_CAP_PSI },     { "NFR", VTD_CAP_NFR },     { "MAMV", VTD_CAP_MAMV },
	{ "DWD", VTD_CAP_DWD },     { "DRD", VTD_CAP_DRD },     { "FS1GP", VTD_CAP_FS1GP },
	{ "FL1GP", VTD_CAP_FS1GP }, { "PI", VTD_CAP_PI },       { "FS5LP", VTD_CAP_FS5LP },
	{ "FL5LP", VTD_CAP_FS5LP }, { "ESIRTPS", VTD_CAP_ESIRTPS },
	{ "ESRTPS", VTD_CAP_ESRTPS },
};

static const struct ims_reg_field ecap_fields[] = {
	{ "C", VTD_ECAP_C },           { "QI", VTD_ECAP_QI },       { "DT", VTD_ECAP_DT },
	{ "IR", VTD_ECAP_IR },         { "EIM", VTD_ECAP_EIM },     { "PT", VTD_ECAP_PT },
	{ "SC", VTD_ECAP_SC },         { "IRO", VTD_ECAP_IRO },     { "MHMV", VTD_ECAP_MHMV },
	{ "MTS", VTD_ECAP_MTS },       { "NEST", VTD_ECAP_NEST },   { "PRS", VTD_ECAP_PRS },
	{ "ERS", VTD_ECAP_ERS },       { "SRS", VTD_ECAP_SRS },     { "NWFS", VTD_ECAP_NWFS },
	{ "EAFS", VTD_ECAP_EAFS },     { "PSS", VTD_ECAP_PSS },     { "PASID", VTD_ECAP_PASID },
	{ "DIT", VTD_ECAP_DIT },       { "PDS", VTD_ECAP_PDS },     { "SMTS", VTD_ECAP_SMTS },
	{ "VCS", VTD_ECAP_VCS },       { "SSADS", VTD_ECAP_SSADS }, { "SLADS", VTD_ECAP_SSADS },
	{ "SSTS", VTD_ECAP_SSTS },     { "SLTS", VTD_ECAP_SSTS },   { "FSTS", VTD_ECAP_FSTS },
	{ "FLTS", VTD_ECAP_FSTS },     { "SMPWCS", VTD_ECAP_SMPWCS }, { "RPS", VTD_ECAP_RPS },
	{ "ADMS", VTD_ECAP_ADMS },     { "RPRIVS", VTD_ECAP_RPRIVS },
};

int vtd_caps_parse(json_t *sec, const char *label, uint64_t *cap, uint64_t *ecap,
		   unsigned *fault_records, char *err, size_t errlen)
{
	const char *key;
	json_t *v;
	uint64_t c, e, n;
	int rc;

	if (!json_is_object(sec))
		return ims_errf(err, errlen,
				"%s: field \"vtd\" must be an object with \"cap\" and \"ecap\"", label);
	json_object_foreach(sec, key, v) {
		if (strcmp(key, "cap") && strcmp(key, "ecap") && strcmp(key, "fault_records"))
			return ims_errf(err, errlen,
					"%s: unknown field \"vtd.%s\" (expected cap, ecap, "
					"fault_records)",
					label, key);
	}
	if (!(v = json_object_get(sec, "cap")))
		return ims_errf(err, errlen, "%s: field \"vtd.cap\" is missing", label);
	rc = ims_json_reg(v, label, "vtd.cap", "CAP_REG", 64, cap_fields,
			  IMS_ARRAY_SIZE(cap_fields), &c, err, errlen);
	if (rc)
		return rc;
	if (!(v = json_object_get(sec, "ecap")))
		return ims_errf(err, errlen, "%s: field \"vtd.ecap\" is missing", label);
	rc = ims_json_reg(v, label, "vtd.ecap", "ECAP_REG", 64, ecap_fields,
			  IMS_ARRAY_SIZE(ecap_fields), &e, err, errlen);
	if (rc)
		return rc;

	/* Cross-field rules (11.4.2, 11.4.3). */
	n = FIELD_GET(VTD_CAP_NFR, c) + 1;
	if ((v = json_object_get(sec, "fault_records"))) {
		uint64_t want;

		if (ims_json_u64(v, &want) || want < 1 || want > 256)
			return ims_errf(err, errlen,
					"%s: field \"vtd.fault_records\" must be 1 to 256", label);
		if (FIELD_GET(VTD_CAP_NFR, c) && want != n)
			return ims_errf(err, errlen,
					"%s: field \"vtd.fault_records\" (%llu) disagrees with "
					"cap.NFR+1 (%llu)",
					label, (unsigned long long)want, (unsigned long long)n);
		n = want;
		c = (c & ~VTD_CAP_NFR) | FIELD_PREP(VTD_CAP_NFR, n - 1);
	}
	if (FIELD_GET(VTD_CAP_MGAW, c) + 1 < 30)
		return ims_errf(err, errlen,
				"%s: field \"vtd.cap.MGAW\" encodes width - 1 and must be at least "
				"29 (a 30-bit guest address width)",
				label);
	if ((FIELD_GET(VTD_CAP_SAGAW, c) & ~UINT64_C(0xe)) != 0)
		return ims_errf(err, errlen,
				"%s: field \"vtd.cap.SAGAW\" may only set bits 1, 2 and 3 "
				"(3-, 4- and 5-level second stage)",
				label);
	if ((e & (VTD_ECAP_FSTS | VTD_ECAP_SSTS | VTD_ECAP_NEST | VTD_ECAP_PASID)) &&
	    !(e & VTD_ECAP_SMTS))
		return ims_errf(err, errlen,
				"%s: fields \"vtd.ecap.FSTS/SSTS/NEST/PASID\" need \"vtd.ecap.SMTS\" "
				"(they describe scalable mode)",
				label);
	if ((e & VTD_ECAP_NEST) && (!(e & VTD_ECAP_FSTS) || !(e & VTD_ECAP_SSTS)))
		return ims_errf(err, errlen,
				"%s: field \"vtd.ecap.NEST\" needs both FSTS and SSTS", label);
	if ((e & VTD_ECAP_SSTS || !(e & VTD_ECAP_SMTS)) && !FIELD_GET(VTD_CAP_SAGAW, c))
		return ims_errf(err, errlen,
				"%s: field \"vtd.cap.SAGAW\" must name at least one width when the "
				"second stage is supported",
				label);
	*cap = c;
	*ecap = e;
	*fault_records = (unsigned)n;
	return 0;
}
