/*
 * test_regs.c - the SMMUv3 register model: IDRs from JSON, cross-field
 * rules, and the registers software programs.
 *
 * Reference: Arm IHI 0070 (SMMUv3) 6.3.1 (IDR0), 6.3.2 (IDR1), 6.3.4
 * (IDR3), 6.3.6 (IDR5), 6.3.8 (AIDR), 6.3.9 (CR0), 6.3.13 (GBPA), 6.3.23
 * - 6.3.24 (STRTAB_BASE, STRTAB_BASE_CFG), 6.3.25 (EVENTQ_BASE).  Each
 * named field is checked against its bit position in the spec.
 */
#include "smmu_test.h"
#include "formats/smmuv3/smmu_int.h"

struct field_case {
	const char *reg, *json;   /* register key and its object */
	unsigned idr;             /* which IDR (0-5) */
	uint32_t expect;          /* the raw register value */
};

/* One named field at a time, on top of a minimal valid register. */
static void named_fields(void **state)
{
	const struct field_case cases[] = {
		{ "idr0", "{\"S1P\":1,\"TTF\":2,\"STALL_MODEL\":1}", 0, 2u | 2u << 2 | 1u << 24 },
		{ "idr0", "{\"S1P\":1,\"TTF\":3,\"STALL_MODEL\":1,\"HTTU\":2,\"COHACC\":1,"
			  "\"BTM\":1,\"HYP\":1,\"ASID16\":1,\"MSI\":1,\"SEV\":1,\"CD2L\":1,"
			  "\"TTENDIAN\":2,\"TERM_MODEL\":1,\"ST_LEVEL\":1}",
		  0, 1u << 1 | 3u << 2 | 1u << 24 | 2u << 6 | 1u << 4 | 1u << 5 | 1u << 9 |
			     1u << 12 | 1u << 13 | 1u << 14 | 1u << 19 | 2u << 21 | 1u << 26 |
			     1u << 27 },
		{ "idr0", "{\"S1P\":1,\"S2P\":1,\"TTF\":2,\"STALL_MODEL\":1,\"ATS\":1,\"PRI\":1,"
			  "\"VMID16\":1}",
		  0, 3u | 2u << 2 | 1u << 24 | 1u << 10 | 1u << 16 | 1u << 18 },
		{ "idr1", "{\"SIDSIZE\":32,\"SSIDSIZE\":20,\"PRIQS\":19,\"EVENTQS\":17,\"CMDQS\":18}", 1,
		  32u | 20u << 6 | 19u << 11 | 17u << 16 | 18u << 21 },
		{ "idr3", "{\"HAD\":1,\"XNX\":1,\"STT\":1,\"RIL\":1,\"BBML\":2}", 3,
		  1u << 2 | 1u << 4 | 1u << 9 | 1u << 10 | 2u << 11 },
		{ "idr5", "{\"OAS\":4,\"GRAN4K\":1,\"GRAN16K\":1,\"GRAN64K\":1,\"STALL_MAX\":7}", 5,
		  4u | 1u << 4 | 1u << 5 | 1u << 6 | 7u << 16 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *idr0 = !strcmp(cases[i].reg, "idr0") ? cases[i].json : NULL;
		const char *idr1 = !strcmp(cases[i].reg, "idr1") ? cases[i].json : NULL;
		const char *idr5 = !strcmp(cases[i].reg, "idr5") ? cases[i].json : NULL;
		char extra[256] = "";
		struct fx f;

		if (!strcmp(cases[i].reg, "idr3"))
			snprintf(extra, sizeof(extra), "\"idr3\":%s", cases[i].json);
		if (fx_try(&f, idr0, idr1, idr5, *extra ? extra : NULL))
			fail_msg("case %zu: %s", i, f.err);
		assert_int_equal(smmu_idr(f.io, cases[i].idr), cases[i].expect);
		fx_free(&f);
	}
}

/* A raw value is taken as it is; registers read back by name. */
static void raw_values(void **state)
{
	struct fx f;
	uint64_t v;

	(void)state;
	/* S1P | S2P | TTF=2 | STALL_MODEL=1 */
	assert_int_equal(fx_try(&f, "\"0x100000b\"", "\"0x10\"", "\"0x15\"", NULL), 0);
	assert_int_equal(smmu_idr(f.io, 0), 0x100000b);
	assert_int_equal(ims_iommu_get_reg(f.io, "IDR5", &v), 0);
	assert_int_equal(v, 0x15);
	assert_int_equal(ims_iommu_get_reg(f.io, "SMMU_AIDR", &v), 0);
	assert_int_equal(v, 2);
	fx_free(&f);
}

struct bad_case {
	const char *idr0, *idr1, *idr5, *extra;
	const char *msg;
	int rc;
};

/* Cross-field rules: each message names the file, the field and the expectation. */
static void model_errors(void **state)
{
	const struct bad_case cases[] = {
		{ "{\"TTF\":2,\"STALL_MODEL\":1}", NULL, NULL, NULL, "\"smmuv3.idr0.S1P\"", -EINVAL },
		{ NULL, NULL, "{\"OAS\":5}", NULL, "GRAN4K/GRAN16K/GRAN64K", -EINVAL },
		{ NULL, "{\"SIDSIZE\":33}", NULL, NULL, "\"smmuv3.idr1.SIDSIZE\" is 33", -EINVAL },
		{ NULL, "{\"SSIDSIZE\":21}", NULL, NULL, "\"smmuv3.idr1.SSIDSIZE\"", -EINVAL },
		{ NULL, NULL, "{\"OAS\":7,\"GRAN4K\":1}", NULL, "\"smmuv3.idr5.OAS\" is 7", -EINVAL },
		{ "{\"S1P\":1,\"TTF\":0,\"STALL_MODEL\":1}", NULL, NULL, NULL, "\"smmuv3.idr0.TTF\"",
		  -EINVAL },
		{ "{\"S1P\":1,\"TTF\":2,\"STALL_MODEL\":0}", NULL, NULL, NULL, "unimplemented",
		  -EINVAL },
		{ "{\"S1P\":1,\"TTF\":2,\"STALL_MODEL\":1,\"HTTU\":3}", NULL, NULL, NULL,
		  "\"smmuv3.idr0.HTTU\"", -EINVAL },
		{ "{\"S1P\":1,\"TTF\":2,\"STALL_MODEL\":1,\"VMID16\":1}", NULL, NULL, NULL,
		  "\"smmuv3.idr0.VMID16\" needs \"S2P\"", -EINVAL },
		{ "{\"S1P\":1,\"TTF\":2,\"STALL_MODEL\":1,\"COLOUR\":1}", NULL, NULL, NULL,
		  "\"smmuv3.idr0.COLOUR\" is not a field of SMMU_idr0", -EINVAL },
		{ "{\"S1P\":1,\"TTF\":4}", NULL, NULL, NULL, "from 0 to 3", -EINVAL },
		{ NULL, NULL, NULL, "\"idr9\":0", "unknown field \"smmuv3.idr9\"", -EINVAL },
		{ NULL, NULL, NULL, "\"idr3\":{\"RIL\":1},\"aidr\":0", NULL, -EINVAL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fx f;
		int rc = fx_try(&f, cases[i].idr0, cases[i].idr1, cases[i].idr5, cases[i].extra);

		if (rc != cases[i].rc)
			fail_msg("case %zu: rc %d: %s", i, rc, f.err);
		assert_non_null(strstr(f.err, "test-model"));
		if (cases[i].msg && !strstr(f.err, cases[i].msg))
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, f.err, cases[i].msg);
	}
}

/* A model gap is -EOPNOTSUPP from the parser (ims_iommu_new only says it failed). */
static void model_gap_errno(void **state)
{
	struct smmu_state st;
	char err[256];
	json_t *sec = json_loads("{\"idr0\":{\"S1P\":1,\"TTF\":2,\"STALL_MODEL\":2},"
				 "\"idr1\":0,\"idr5\":{\"OAS\":5,\"GRAN4K\":1}}", 0, NULL);

	(void)state;
	memset(&st, 0, sizeof(st));
	assert_non_null(sec);
	assert_int_equal(smmu_regs_parse(sec, "m", 48, &st, err, sizeof(err)), -EOPNOTSUPP);
	assert_non_null(strstr(err, "unimplemented"));
	assert_int_equal(st.idr[0], 0); /* validate first, commit last */
	json_decref(sec);
}

/* The idr0 register is required; the model's haw bounds OAS. */
static void model_missing_and_haw(void **state)
{
	struct ims_model *m;
	struct ims_iommu *io;
	char err[512];

	(void)state;
	assert_int_equal(ims_model_parse("{\"arch\":\"smmuv3\",\"smmuv3\":{\"idr1\":0,\"idr5\":0}}",
					 "m1", &m, err, sizeof(err)), 0);
	assert_null(ims_iommu_new(m, err, sizeof(err)));
	assert_non_null(strstr(err, "\"smmuv3.idr0\" is missing"));
	ims_model_free(m);
	assert_int_equal(ims_model_parse("{\"arch\":\"smmuv3\",\"haw\":40,\"smmuv3\":{"
					 "\"idr0\":{\"S1P\":1,\"TTF\":2,\"STALL_MODEL\":1},"
					 "\"idr1\":0,\"idr5\":{\"OAS\":5,\"GRAN4K\":1}}}",
					 "m2", &m, err, sizeof(err)), 0);
	io = ims_iommu_new(m, err, sizeof(err));
	assert_null(io);
	assert_non_null(strstr(err, "\"haw\" (40 bits)"));
	ims_model_free(m);
}

/* Registers software programs (6.3): reserved encodings, busy registers, names. */
static void register_writes(void **state)
{
	struct fx f;
	uint64_t v;

	(void)state;
	assert_int_equal(fx_try(&f, NULL, NULL, NULL, NULL), 0);
	/* STRTAB_BASE_CFG.FMT 0b10 is reserved; SPLIT must be 6, 8 or 10. */
	assert_int_equal(ims_iommu_set_reg(f.io, "STRTAB_BASE_CFG", STRTAB_CFG(2, 0, 8)), -EINVAL);
	assert_int_equal(ims_iommu_set_reg(f.io, "STRTAB_BASE_CFG", STRTAB_CFG(1, 7, 16)), -EINVAL);
	assert_int_equal(ims_iommu_set_reg(f.io, "STRTAB_BASE_CFG", STRTAB_CFG(1, 8, 16)), 0);
	/* STRTAB_BASE: ADDR 51:6, RA 62; an address beyond OAS (48 bits) is refused. */
	assert_int_equal(ims_iommu_set_reg(f.io, "STRTAB_BASE", 0x1020), -EINVAL);
	assert_int_equal(ims_iommu_set_reg(f.io, "STRTAB_BASE", 1ull << 48), -EINVAL);
	assert_int_equal(ims_iommu_set_reg(f.io, "STRTAB_BASE", 0x10000 | 1ull << 62), 0);
	/* While SMMUEN = 1 the stream table registers cannot change. */
	reg(&f, "CR0", CR0_SMMUEN);
	assert_int_equal(ims_iommu_set_reg(f.io, "STRTAB_BASE", 0x20000), -EBUSY);
	assert_int_equal(ims_iommu_get_reg(f.io, "STRTAB_BASE", &v), 0);
	assert_int_equal(v, 0x10000 | 1ull << 62);
	/* CR0 bits above 8 are reserved; PRIQEN is not modelled. */
	assert_int_equal(ims_iommu_set_reg(f.io, "CR0", 1u << 9), -EINVAL);
	assert_int_equal(ims_iommu_set_reg(f.io, "CR0", 1u << 1), -EOPNOTSUPP);
	/* IDRs are read-only; unknown names are -ENOENT. */
	assert_int_equal(ims_iommu_set_reg(f.io, "IDR0", 0), -EINVAL);
	assert_int_equal(ims_iommu_set_reg(f.io, "RTADDR", 0), -ENOENT);
	/* GBPA: UPDATE reads as 0 once the update is done. */
	reg(&f, "SMMU_GBPA", GBPA_UPDATE | GBPA_ABORT);
	assert_int_equal(ims_iommu_get_reg(f.io, "gbpa", &v), 0);
	assert_int_equal(v, GBPA_ABORT);
	fx_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(named_fields),
		cmocka_unit_test(raw_values),
		cmocka_unit_test(model_errors),
		cmocka_unit_test(model_gap_errno),
		cmocka_unit_test(model_missing_and_haw),
		cmocka_unit_test(register_writes),
	};

	return cmocka_run_group_tests_name("smmuv3-regs", tests, NULL, NULL);
}
