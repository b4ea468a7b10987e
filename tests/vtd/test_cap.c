/*
 * test_cap.c - the VT-d capability model (formats/vtd/cap.c): CAP_REG and
 * ECAP_REG from a JSON model, their cross-field rules and the messages.
 *
 * Reference: Intel Virtualization Technology for Directed I/O Architecture
 * Specification rev 4.x / 5.0, 11.4.2 (CAP_REG) and 11.4.3 (ECAP_REG).
 *
 * Expected register values are written here from the spec's bit positions
 * (the tables below), never from the project's masks: a named field must
 * land exactly where the spec puts it, and the raw and named forms of the
 * same register must give the same instance.  Models go through the public
 * path: ims_model_parse, ims_iommu_new, vtd_cap / vtd_ecap.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <iommusim/iommusim.h>

/* A field: name, lowest bit, width in bits (spec positions). */
struct spec_field {
	const char *name;
	unsigned lsb, width;
};

/* CAP_REG, 11.4.2. */
static const struct spec_field cap_spec[] = {
	{ "ND", 0, 3 },     { "AFL", 3, 1 },     { "RWBF", 4, 1 },   { "PLMR", 5, 1 },
	{ "PHMR", 6, 1 },   { "CM", 7, 1 },      { "SAGAW", 8, 5 },  { "MGAW", 16, 6 },
	{ "ZLR", 22, 1 },   { "FRO", 24, 10 },   { "SLLPS", 34, 4 }, { "PSI", 39, 1 },
	{ "NFR", 40, 8 },   { "MAMV", 48, 6 },   { "DWD", 54, 1 },   { "DRD", 55, 1 },
	{ "FS1GP", 56, 1 }, { "PI", 59, 1 },     { "FS5LP", 60, 1 }, { "ESIRTPS", 62, 1 },
	{ "ESRTPS", 63, 1 },
	/* Older names (rev 3.x "first-level" / "second-level"). */
	{ "SSLPS", 34, 4 }, { "FL1GP", 56, 1 },  { "FL5LP", 60, 1 },
};

/* ECAP_REG, 11.4.3. */
static const struct spec_field ecap_spec[] = {
	{ "C", 0, 1 },      { "QI", 1, 1 },      { "DT", 2, 1 },     { "IR", 3, 1 },
	{ "EIM", 4, 1 },    { "PT", 6, 1 },      { "SC", 7, 1 },     { "IRO", 8, 10 },
	{ "MHMV", 20, 4 },  { "MTS", 25, 1 },    { "NEST", 26, 1 },  { "PRS", 29, 1 },
	{ "ERS", 30, 1 },   { "SRS", 31, 1 },    { "NWFS", 33, 1 },  { "EAFS", 34, 1 },
	{ "PSS", 35, 5 },   { "PASID", 40, 1 },  { "DIT", 41, 1 },   { "PDS", 42, 1 },
	{ "SMTS", 43, 1 },  { "VCS", 44, 1 },    { "SSADS", 45, 1 }, { "SSTS", 46, 1 },
	{ "FSTS", 47, 1 },  { "SMPWCS", 48, 1 }, { "RPS", 49, 1 },
	/* SPEC-QUESTION: ADMS (abort DMA mode) at 52 and RPRIVS (RID_PRIV) at
	 * 53 are rev 4.x additions, taken from memory of the register table. */
	{ "ADMS", 52, 1 },  { "RPRIVS", 53, 1 },
	/* Older names. */
	{ "SLADS", 45, 1 }, { "SLTS", 46, 1 },   { "FLTS", 47, 1 },
};

static uint64_t at(unsigned lsb, uint64_t v)
{
	return v << lsb;
}

/* Bits of CAP / ECAP used as a valid background for single-field checks. */
#define CAP_BASE (at(8, 4) | at(16, 47))               /* SAGAW 4-level, MGAW 48-bit */
#define ECAP_SM (at(43, 1) | at(46, 1) | at(47, 1))   /* SMTS, SSTS, FSTS */

static char err[512];

/* Build an instance from a model text; NULL (with err) when refused. */
static struct ims_iommu *make(const char *text, struct ims_model **mp)
{
	struct ims_model *m = NULL;
	struct ims_iommu *io;

	memset(err, 0, sizeof(err));
	if (ims_model_parse(text, "cap.json", &m, err, sizeof(err)))
		fail_msg("model text does not parse: %s\n%s", err, text);
	io = ims_iommu_new(m, err, sizeof(err));
	if (!io) {
		ims_model_free(m);
		*mp = NULL;
		return NULL;
	}
	*mp = m;
	return io;
}

static void drop(struct ims_iommu *io, struct ims_model *m)
{
	ims_iommu_free(io);
	ims_model_free(m);
}

/* A model with the given "vtd" section body. */
static char *model_text(const char *vtd_body)
{
	static char buf[4096];

	snprintf(buf, sizeof(buf), "{ \"arch\": \"vtd\", \"haw\": 48, \"vtd\": { %s } }", vtd_body);
	return buf;
}

static void expect_regs(const char *vtd_body, uint64_t cap, uint64_t ecap)
{
	struct ims_model *m;
	struct ims_iommu *io = make(model_text(vtd_body), &m);

	if (!io)
		fail_msg("refused: %s\nsection: %s", err, vtd_body);
	if (vtd_cap(io) != cap || vtd_ecap(io) != ecap)
		fail_msg("section %s\n cap  0x%016" PRIx64 " want 0x%016" PRIx64
			 "\n ecap 0x%016" PRIx64 " want 0x%016" PRIx64,
			 vtd_body, vtd_cap(io), cap, vtd_ecap(io), ecap);
	drop(io, m);
}

/* The section must be refused with a message holding label and words. */
static void expect_refused(const char *vtd_body, const char *w1, const char *w2)
{
	struct ims_model *m;
	struct ims_iommu *io = make(model_text(vtd_body), &m);

	if (io)
		fail_msg("accepted: %s", vtd_body);
	if (!strstr(err, "cap.json"))
		fail_msg("message \"%s\" does not name the model", err);
	if (w1 && !strstr(err, w1))
		fail_msg("message \"%s\" does not mention \"%s\"", err, w1);
	if (w2 && !strstr(err, w2))
		fail_msg("message \"%s\" does not mention \"%s\"", err, w2);
}

/* ---- named fields at the spec's positions ---- */

static void test_named_example(void **state)
{
	/* The brief's fields, written out bit by bit. */
	uint64_t cap = at(8, 0x4)       /* SAGAW: 4-level */
		     | at(16, 47)       /* MGAW: 48-bit */
		     | at(34, 0x3)      /* SLLPS: 2M, 1G */
		     | at(40, 7)        /* NFR: 8 records */
		     | at(48, 18)       /* MAMV */
		     | at(56, 1)        /* FS1GP */
		     | at(60, 1);       /* FS5LP */
	uint64_t ecap = at(6, 1)        /* PT */
		      | at(26, 1)       /* NEST */
		      | at(35, 19)      /* PSS: 20-bit PASIDs */
		      | at(40, 1)       /* PASID */
		      | at(43, 1)       /* SMTS */
		      | at(45, 1)       /* SSADS */
		      | at(46, 1)       /* SSTS */
		      | at(47, 1)       /* FSTS */
		      | at(49, 1);      /* RPS */
	char body[1024];
	struct ims_model *m;
	struct ims_iommu *io;

	(void)state;
	assert_int_equal(cap, UINT64_C(0x1112070c002f0400));
	expect_regs("\"cap\": { \"SAGAW\": 4, \"MGAW\": 47, \"SLLPS\": 3, \"NFR\": 7, "
		    "\"MAMV\": 18, \"FS1GP\": 1, \"FS5LP\": 1 }, "
		    "\"ecap\": { \"PT\": 1, \"NEST\": 1, \"PSS\": 19, \"PASID\": 1, \"SMTS\": 1, "
		    "\"SSADS\": 1, \"SSTS\": 1, \"FSTS\": 1, \"RPS\": 1 }",
		    cap, ecap);
	/* The raw form of the same registers, as strings and as integers. */
	snprintf(body, sizeof(body), "\"cap\": \"0x%" PRIx64 "\", \"ecap\": \"0x%" PRIx64 "\"", cap,
		 ecap);
	expect_regs(body, cap, ecap);
	snprintf(body, sizeof(body), "\"cap\": \"%" PRIu64 "\", \"ecap\": %" PRIu64, cap, ecap);
	expect_regs(body, cap, ecap);
	/* "value" with named fields on top: the fields win. */
	snprintf(body, sizeof(body),
		 "\"cap\": { \"value\": \"0x%" PRIx64 "\", \"SAGAW\": 2, \"NFR\": 3 }, "
		 "\"ecap\": { \"value\": \"0x%" PRIx64 "\", \"PSS\": 4 }",
		 cap, ecap);
	expect_regs(body, (cap & ~(at(8, 0x1f) | at(40, 0xff))) | at(8, 2) | at(40, 3),
		    (ecap & ~at(35, 0x1f)) | at(35, 4));
	/* Field values in C notation. */
	expect_regs("\"cap\": { \"SAGAW\": \"0x4\", \"MGAW\": \"47\" }, \"ecap\": { \"IRO\": \"0x50\" }",
		    CAP_BASE, at(8, 0x50));

	/* NFR+1 records in the log. */
	snprintf(body, sizeof(body), "\"cap\": \"0x%" PRIx64 "\", \"ecap\": \"0x%" PRIx64 "\"", cap,
		 ecap);
	io = make(model_text(body), &m);
	assert_non_null(io);
	assert_int_equal(vtd_fault_log_size(io), 8);
	drop(io, m);
}

static void test_each_cap_field(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cap_spec) / sizeof(cap_spec[0]); i++) {
		const struct spec_field *f = &cap_spec[i];
		uint64_t max = (UINT64_C(1) << f->width) - 1, want, field = at(f->lsb, max);
		char body[512];

		if (!strcmp(f->name, "SAGAW") || !strcmp(f->name, "MGAW"))
			continue; /* constrained: below */
		want = CAP_BASE | field;
		snprintf(body, sizeof(body),
			 "\"cap\": { \"SAGAW\": 4, \"MGAW\": 47, \"%s\": %" PRIu64 " }, \"ecap\": {}",
			 f->name, max);
		expect_regs(body, want, 0);
		/* One more than the field holds is refused, naming the field. */
		snprintf(body, sizeof(body),
			 "\"cap\": { \"SAGAW\": 4, \"MGAW\": 47, \"%s\": %" PRIu64 " }, \"ecap\": {}",
			 f->name, max + 1);
		{
			char name[64];

			snprintf(name, sizeof(name), "vtd.cap.%s", f->name);
			expect_refused(body, name, NULL);
		}
	}
	/* SAGAW: each of bits 1-3; MGAW: 30- to 64-bit. */
	for (unsigned b = 1; b <= 3; b++) {
		char body[256];

		snprintf(body, sizeof(body), "\"cap\": { \"SAGAW\": %u, \"MGAW\": 56 }, \"ecap\": {}",
			 1u << b);
		expect_regs(body, at(8, 1u << b) | at(16, 56), 0);
	}
	expect_regs("\"cap\": { \"SAGAW\": 14, \"MGAW\": 29 }, \"ecap\": {}", at(8, 14) | at(16, 29),
		    0);
	expect_regs("\"cap\": { \"SAGAW\": 14, \"MGAW\": 63 }, \"ecap\": {}", at(8, 14) | at(16, 63),
		    0);
}

static void test_each_ecap_field(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(ecap_spec) / sizeof(ecap_spec[0]); i++) {
		const struct spec_field *f = &ecap_spec[i];
		uint64_t max = (UINT64_C(1) << f->width) - 1;
		char body[512], name[64];

		/* On a scalable-mode background so that every field is legal. */
		snprintf(body, sizeof(body),
			 "\"cap\": { \"SAGAW\": 4, \"MGAW\": 47 }, "
			 "\"ecap\": { \"SMTS\": 1, \"SSTS\": 1, \"FSTS\": 1, \"%s\": %" PRIu64 " }",
			 f->name, max);
		expect_regs(body, CAP_BASE, ECAP_SM | at(f->lsb, max));
		snprintf(body, sizeof(body),
			 "\"cap\": { \"SAGAW\": 4, \"MGAW\": 47 }, "
			 "\"ecap\": { \"SMTS\": 1, \"SSTS\": 1, \"FSTS\": 1, \"%s\": %" PRIu64 " }",
			 f->name, max + 1);
		snprintf(name, sizeof(name), "vtd.ecap.%s", f->name);
		expect_refused(body, name, NULL);
	}
	/* Raw ecap with every bit the spec table names. */
	{
		uint64_t all = 0;
		char body[256];

		for (size_t i = 0; i < sizeof(ecap_spec) / sizeof(ecap_spec[0]); i++)
			all |= at(ecap_spec[i].lsb, (UINT64_C(1) << ecap_spec[i].width) - 1);
		snprintf(body, sizeof(body), "\"cap\": { \"SAGAW\": 4, \"MGAW\": 47 }, \"ecap\": \"0x%" PRIx64
			 "\"", all);
		expect_regs(body, CAP_BASE, all);
	}
}

/* ---- fault_records and NFR ---- */

/* The section must give CAP_REG `cap` and a log of `records` fault records. */
static void expect_records(const char *vtd_body, uint64_t cap, unsigned records)
{
	struct ims_model *m;
	struct ims_iommu *io = make(model_text(vtd_body), &m);

	assert_non_null(io);
	assert_int_equal(vtd_cap(io), cap);
	assert_int_equal(vtd_fault_log_size(io), records);
	drop(io, m);
}

static void test_fault_records(void **state)
{
	struct ims_model *m;
	struct ims_iommu *io;

	(void)state;
	/* fault_records fills in NFR (records - 1) when NFR is not given. */
	expect_records("\"cap\": { \"SAGAW\": 4, \"MGAW\": 47 }, \"ecap\": {}, \"fault_records\": 4",
		       CAP_BASE | at(40, 3), 4);
	/* Agreeing with NFR. */
	expect_records("\"cap\": { \"SAGAW\": 4, \"MGAW\": 47, \"NFR\": 7 }, \"ecap\": {}, "
		       "\"fault_records\": 8",
		       CAP_BASE | at(40, 7), 8);
	/* The limits: 1 and 256 (NFR is 8 bits). */
	expect_records("\"cap\": { \"SAGAW\": 4, \"MGAW\": 47 }, \"ecap\": {}, \"fault_records\": 256",
		       CAP_BASE | at(40, 255), 256);
	expect_records("\"cap\": { \"SAGAW\": 4, \"MGAW\": 47 }, \"ecap\": {}, \"fault_records\": 1",
		       CAP_BASE, 1);
	/* Without either: NFR = 0, one record. */
	io = make(model_text("\"cap\": { \"SAGAW\": 4, \"MGAW\": 47 }, \"ecap\": {}"), &m);
	assert_non_null(io);
	assert_int_equal(vtd_fault_log_size(io), 1);
	drop(io, m);

	expect_refused("\"cap\": { \"SAGAW\": 4, \"MGAW\": 47 }, \"ecap\": {}, \"fault_records\": 0",
		       "vtd.fault_records", "1 to 256");
	expect_refused("\"cap\": { \"SAGAW\": 4, \"MGAW\": 47 }, \"ecap\": {}, \"fault_records\": 257",
		       "vtd.fault_records", "1 to 256");
	expect_refused("\"cap\": { \"SAGAW\": 4, \"MGAW\": 47 }, \"ecap\": {}, \"fault_records\": -1",
		       "vtd.fault_records", NULL);
	expect_refused("\"cap\": { \"SAGAW\": 4, \"MGAW\": 47 }, \"ecap\": {}, "
		       "\"fault_records\": \"many\"",
		       "vtd.fault_records", NULL);
	expect_refused("\"cap\": { \"SAGAW\": 4, \"MGAW\": 47, \"NFR\": 7 }, \"ecap\": {}, "
		       "\"fault_records\": 4",
		       "vtd.fault_records", "NFR");
}

/* ---- structure and type errors ---- */

static void test_section_errors(void **state)
{
	struct ims_model *m;

	(void)state;
	/* No section, or not an object. */
	assert_null(make("{ \"arch\": \"vtd\" }", &m));
	assert_non_null(strstr(err, "cap.json"));
	assert_non_null(strstr(err, "\"vtd\""));
	assert_null(make("{ \"arch\": \"vtd\", \"vtd\": [] }", &m));
	assert_non_null(strstr(err, "\"vtd\""));

	expect_refused("\"cap\": { \"SAGAW\": 4, \"MGAW\": 47 }, \"ecap\": {}, \"iotlb\": 1",
		       "vtd.iotlb", "unknown");
	expect_refused("\"ecap\": {}", "vtd.cap", "missing");
	expect_refused("\"cap\": { \"SAGAW\": 4, \"MGAW\": 47 }", "vtd.ecap", "missing");
	expect_refused("\"cap\": [], \"ecap\": {}", "vtd.cap", NULL);
	expect_refused("\"cap\": { \"SAGAW\": 4, \"MGAW\": 47 }, \"ecap\": true", "vtd.ecap", NULL);
	expect_refused("\"cap\": \"0xZZ\", \"ecap\": {}", "vtd.cap", NULL);
	expect_refused("\"cap\": -1, \"ecap\": {}", "vtd.cap", NULL);
	expect_refused("\"cap\": \"\", \"ecap\": {}", "vtd.cap", NULL);
	expect_refused("\"cap\": { \"value\": \"nope\" }, \"ecap\": {}", "vtd.cap.value", NULL);
	expect_refused("\"cap\": { \"SAGAW\": 4, \"MGAW\": 47, \"FOO\": 1 }, \"ecap\": {}",
		       "vtd.cap.FOO", NULL);
	expect_refused("\"cap\": { \"SAGAW\": 4, \"MGAW\": 47 }, \"ecap\": { \"BAR\": 1 }",
		       "vtd.ecap.BAR", NULL);
	/* An ECAP name is not a CAP field and the other way round. */
	expect_refused("\"cap\": { \"SAGAW\": 4, \"MGAW\": 47, \"SMTS\": 1 }, \"ecap\": {}",
		       "vtd.cap.SMTS", NULL);
	expect_refused("\"cap\": { \"SAGAW\": 4, \"MGAW\": 47 }, \"ecap\": { \"NFR\": 1 }",
		       "vtd.ecap.NFR", NULL);
	/* Too large, with the range in the message. */
	expect_refused("\"cap\": { \"SAGAW\": 32, \"MGAW\": 47 }, \"ecap\": {}", "vtd.cap.SAGAW",
		       "0 to 31");
	expect_refused("\"cap\": { \"SAGAW\": 4, \"MGAW\": 64 }, \"ecap\": {}", "vtd.cap.MGAW",
		       "0 to 63");
	expect_refused("\"cap\": { \"SAGAW\": 4, \"MGAW\": 47 }, \"ecap\": { \"PSS\": 32 }",
		       "vtd.ecap.PSS", "0 to 31");
	expect_refused("\"cap\": { \"SAGAW\": 4, \"MGAW\": 47 }, \"ecap\": { \"PT\": 2 }",
		       "vtd.ecap.PT", "0 to 1");
	expect_refused("\"cap\": { \"SAGAW\": 4, \"MGAW\": 47, \"ND\": -1 }, \"ecap\": {}",
		       "vtd.cap.ND", NULL);
}

/* ---- cross-field rules ---- */

static void test_cross_field(void **state)
{
	(void)state;
	/* MGAW encodes width - 1; below a 30-bit width is refused. */
	expect_refused("\"cap\": { \"SAGAW\": 4, \"MGAW\": 28 }, \"ecap\": {}", "vtd.cap.MGAW", NULL);
	expect_refused("\"cap\": { \"SAGAW\": 4 }, \"ecap\": {}", "vtd.cap.MGAW", NULL);
	/* SAGAW: only bits 1 (39-bit), 2 (48-bit) and 3 (57-bit). */
	expect_refused("\"cap\": { \"SAGAW\": 1, \"MGAW\": 47 }, \"ecap\": {}", "vtd.cap.SAGAW",
		       NULL);
	expect_refused("\"cap\": { \"SAGAW\": 16, \"MGAW\": 47 }, \"ecap\": {}", "vtd.cap.SAGAW",
		       NULL);
	expect_refused("\"cap\": { \"SAGAW\": 31, \"MGAW\": 47 }, \"ecap\": {}", "vtd.cap.SAGAW",
		       NULL);
	/* A second stage needs some SAGAW: legacy mode, or scalable with SSTS. */
	expect_refused("\"cap\": { \"MGAW\": 47 }, \"ecap\": {}", "vtd.cap.SAGAW", NULL);
	expect_refused("\"cap\": { \"MGAW\": 47 }, \"ecap\": { \"SMTS\": 1, \"SSTS\": 1 }",
		       "vtd.cap.SAGAW", NULL);
	/* A first-stage-only scalable unit needs none. */
	expect_regs("\"cap\": { \"MGAW\": 47 }, \"ecap\": { \"SMTS\": 1, \"FSTS\": 1 }", at(16, 47),
		    at(43, 1) | at(47, 1));
	/* FSTS, SSTS, NEST and PASID describe scalable mode. */
	expect_refused("\"cap\": { \"SAGAW\": 4, \"MGAW\": 47 }, \"ecap\": { \"FSTS\": 1 }", "FSTS",
		       "SMTS");
	expect_refused("\"cap\": { \"SAGAW\": 4, \"MGAW\": 47 }, \"ecap\": { \"SSTS\": 1 }", "SSTS",
		       "SMTS");
	expect_refused("\"cap\": { \"SAGAW\": 4, \"MGAW\": 47 }, \"ecap\": { \"PASID\": 1 }",
		       "PASID", "SMTS");
	expect_refused("\"cap\": { \"SAGAW\": 4, \"MGAW\": 47 }, "
		       "\"ecap\": { \"NEST\": 1, \"FSTS\": 1, \"SSTS\": 1 }",
		       "NEST", "SMTS");
	/* The same rules hold for a raw register value. */
	{
		char body[256];

		snprintf(body, sizeof(body),
			 "\"cap\": \"0x%" PRIx64 "\", \"ecap\": \"0x%" PRIx64 "\"", CAP_BASE,
			 at(40, 1));
		expect_refused(body, "PASID", "SMTS");
	}
	/* NEST needs both FSTS and SSTS. */
	expect_refused("\"cap\": { \"SAGAW\": 4, \"MGAW\": 47 }, "
		       "\"ecap\": { \"SMTS\": 1, \"NEST\": 1, \"SSTS\": 1 }",
		       "vtd.ecap.NEST", "FSTS");
	expect_refused("\"cap\": { \"SAGAW\": 4, \"MGAW\": 47 }, "
		       "\"ecap\": { \"SMTS\": 1, \"NEST\": 1, \"FSTS\": 1 }",
		       "vtd.ecap.NEST", "SSTS");
	expect_regs("\"cap\": { \"SAGAW\": 4, \"MGAW\": 47 }, "
		    "\"ecap\": { \"SMTS\": 1, \"NEST\": 1, \"FSTS\": 1, \"SSTS\": 1 }",
		    CAP_BASE, at(43, 1) | at(26, 1) | at(46, 1) | at(47, 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_named_example),
		cmocka_unit_test(test_each_cap_field),
		cmocka_unit_test(test_each_ecap_field),
		cmocka_unit_test(test_fault_records),
		cmocka_unit_test(test_section_errors),
		cmocka_unit_test(test_cross_field),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
