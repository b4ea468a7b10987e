/*
 * test_fault.c - VT-d primary fault logging (formats/vtd/fault.c).
 *
 * Reference: Intel Virtualization Technology for Directed I/O Architecture
 * Specification: 7.1.3 (fault reasons), 7.2.1 (primary fault logging),
 * 11.4.10 (FSTS_REG: PFO, PPF, FRI), 11.4.14 (FRCD_REG, fault recording
 * registers), 9.1 / 9.2 / 9.3 (root and context entries), 11.4.5 (RTADDR).
 *
 * Faults are produced by real translations on instances built from JSON
 * models: a root table whose entries are not present gives reason 01h in
 * legacy mode and 39h in scalable mode.  Tables and records are built and
 * checked from the spec's bit positions written out below, not from the
 * project's masks.
 *
 * Fault recording register (128 bits), as the log keeps it:
 *   lo 63:12 FI (page address of the request), 11:0 reserved
 *   hi 15:0 SID, 28:16 reserved, 29 PRIV, 30 EXE, 31 PP, 39:32 FR,
 *      59:40 PV, 61:60 AT (00b: untranslated request), 62 T (1 read,
 *      0 write), 63 F
 * PRIV, EXE and PV are relevant only when PP is set (11.4.14), so for
 * requests without PASID they are not compared.
 * SPEC-QUESTION: this is the layout the project documents (vtd.h); later
 * revisions may rename bit 94 (EXE here) as a second request-type bit.
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

/* FRCD_REG fields (11.4.14); HI_* are bit numbers within bits 127:64. */
#define LO_FI UINT64_C(0xfffffffffffff000)
#define HI_SID(v) ((uint64_t)(v) & 0xffff)
#define HI_PRIV (UINT64_C(1) << 29)
#define HI_EXE (UINT64_C(1) << 30)
#define HI_PP (UINT64_C(1) << 31)
#define HI_FR(v) ((uint64_t)(v) << 32)
#define HI_PV(v) ((uint64_t)(v) << 40)
#define HI_T (UINT64_C(1) << 62)
#define HI_F (UINT64_C(1) << 63)

/* RTADDR_REG (11.4.5): RTA 63:12, TTM 11:10 (00b legacy, 01b scalable). */
#define RTADDR_SCALABLE (UINT64_C(1) << 10)

#define ROOT_TABLE UINT64_C(0x100000)
#define CTX_TABLE UINT64_C(0x101000)
#define SS_ROOT UINT64_C(0x102000)

struct fx {
	struct ims_model *model;
	struct ims_iommu *io;
	struct ims_result res;
};

static struct fx *fx_new(unsigned records, bool scalable)
{
	struct fx *f = calloc(1, sizeof(*f));
	char text[512], err[256];

	assert_non_null(f);
	/* A scalable-mode capable unit (ECAP.SMTS 43, SSTS 46) with a 4-level
	 * second stage (SAGAW bit 2) and a 48-bit MGAW. */
	snprintf(text, sizeof(text),
		 "{ \"name\": \"fault-%u\", \"arch\": \"vtd\", \"haw\": 48, \"vtd\": {"
		 " \"cap\": { \"SAGAW\": 4, \"MGAW\": 47 },"
		 " \"ecap\": { \"QI\": 1, \"SMTS\": 1, \"SSTS\": 1, \"PSS\": 19, \"PASID\": 1 },"
		 " \"fault_records\": %u } }",
		 records, records);
	if (ims_model_parse(text, "fault-model", &f->model, err, sizeof(err)))
		fail_msg("%s", err);
	f->io = ims_iommu_new(f->model, err, sizeof(err));
	if (!f->io)
		fail_msg("%s", err);
	assert_int_equal(vtd_fault_log_size(f->io), records);
	/* A zeroed root table: no root entry is present. */
	assert_int_equal(ims_mem_add_ram(ims_iommu_mem(f->io), ROOT_TABLE, 0x3000), 0);
	assert_int_equal(ims_iommu_set_reg(f->io, "RTADDR", ROOT_TABLE | (scalable ? RTADDR_SCALABLE : 0)),
			 0);
	assert_int_equal(ims_iommu_set_reg(f->io, "TE", 1), 0);
	return f;
}

static void fx_free(struct fx *f)
{
	ims_iommu_free(f->io);
	ims_model_free(f->model);
	free(f);
}

struct req {
	uint32_t sid;
	uint64_t addr;
	uint32_t access;
	bool has_pasid;
	uint32_t pasid;
};

/* Translate; the request must fault with `reason`. Returns whether recorded. */
static bool fault(struct fx *f, const struct req *q, unsigned reason)
{
	struct ims_txn t = {
		.sid = q->sid,
		.pasid = q->pasid,
		.has_pasid = q->has_pasid,
		.addr = q->addr,
		.size = 4,
		.access = q->access,
	};

	assert_int_equal(ims_translate(f->io, &t, &f->res), 0);
	assert_false(f->res.ok);
	assert_int_equal(f->res.fault.arch_code, reason);
	return f->res.fault.recorded;
}

/* The record the spec's layout gives for a request faulting with `reason`. */
static void expect_rec(struct fx *f, unsigned idx, const struct req *q, unsigned reason)
{
	struct vtd_fault_rec r;
	uint64_t lo = q->addr & LO_FI;
	uint64_t hi = HI_SID(q->sid) | HI_FR(reason) | HI_F;
	uint64_t care = ~UINT64_C(0);

	if (!(q->access & IMS_ACC_WRITE))
		hi |= HI_T;
	if (q->has_pasid) {
		hi |= HI_PP | HI_PV(q->pasid);
		if (q->access & IMS_ACC_PRIV)
			hi |= HI_PRIV;
		if (q->access & IMS_ACC_EXEC)
			hi |= HI_EXE;
	} else {
		care &= ~(HI_PRIV | HI_EXE | HI_PV(0xfffff));
	}
	assert_int_equal(vtd_fault_log_get(f->io, idx, &r), 0);
	if (r.lo != lo || (r.hi & care) != hi)
		fail_msg("record %u: lo 0x%016" PRIx64 " hi 0x%016" PRIx64
			 "; want lo 0x%016" PRIx64 " hi 0x%016" PRIx64 " (mask 0x%016" PRIx64 ")",
			 idx, r.lo, r.hi, lo, hi, care);
}

static void expect_status(struct fx *f, bool ppf, bool pfo, unsigned fri)
{
	struct vtd_fault_status st;

	vtd_fault_status(f->io, &st);
	assert_int_equal(st.ppf, ppf);
	assert_int_equal(st.pfo, pfo);
	if (ppf)
		assert_int_equal(st.fri, fri); /* FRI is valid only with PPF */
}

static bool rec_f(struct fx *f, unsigned idx)
{
	struct vtd_fault_rec r;

	assert_int_equal(vtd_fault_log_get(f->io, idx, &r), 0);
	return (r.hi >> 63) & 1;
}

/* ---- 7.2.1: records are filled in order ---- */

static const struct req reqs[] = {
	{ .sid = 0x0108, .addr = UINT64_C(0x12345678), .access = IMS_ACC_READ },
	{ .sid = 0xfe21, .addr = UINT64_C(0x7fff00001ffc), .access = IMS_ACC_WRITE },
	{ .sid = 0x0010, .addr = UINT64_C(0xabc000), .access = IMS_ACC_READ | IMS_ACC_WRITE },
	{ .sid = 0x8000, .addr = UINT64_C(0xffc), .access = IMS_ACC_READ },
	{ .sid = 0x00ff, .addr = UINT64_C(0x40000000), .access = IMS_ACC_WRITE },
	{ .sid = 0x1234, .addr = UINT64_C(0x5000), .access = IMS_ACC_READ },
};

static void test_in_order_legacy(void **state)
{
	struct fx *f = fx_new(4, false);

	(void)state;
	expect_status(f, false, false, 0);
	for (unsigned i = 0; i < 4; i++) {
		assert_true(fault(f, &reqs[i], 0x01)); /* root entry not present */
		expect_rec(f, i, &reqs[i], 0x01);
		expect_status(f, true, false, 0);
	}
	/* The earlier records are untouched by the later ones. */
	for (unsigned i = 0; i < 4; i++)
		expect_rec(f, i, &reqs[i], 0x01);
	assert_string_equal(f->res.fault.arch_name, vtd_fault_reason_name(0x01));
	fx_free(f);
}

static void test_in_order_scalable_pasid(void **state)
{
	struct fx *f = fx_new(4, true);
	const struct req q[4] = {
		{ .sid = 0x0300, .addr = 0x1000, .access = IMS_ACC_READ, .has_pasid = true,
		  .pasid = 0xfffff },
		{ .sid = 0x0301, .addr = 0x2000, .access = IMS_ACC_WRITE | IMS_ACC_PRIV,
		  .has_pasid = true, .pasid = 1 },
		{ .sid = 0x0302, .addr = 0x3ff0, .access = IMS_ACC_READ | IMS_ACC_EXEC,
		  .has_pasid = true, .pasid = 0x12345 },
		{ .sid = 0x0380, .addr = 0x4000, .access = IMS_ACC_READ },
	};

	(void)state;
	for (unsigned i = 0; i < 4; i++) {
		/* Scalable mode: root entry (lower or upper half) not present. */
		assert_true(fault(f, &q[i], 0x39));
		expect_rec(f, i, &q[i], 0x39);
	}
	/* Exact words for two of them, from the layout by hand. */
	{
		struct vtd_fault_rec r;

		assert_int_equal(vtd_fault_log_get(f->io, 1, &r), 0);
		assert_int_equal(r.lo, 0x2000);
		/* F | PV=1 | FR=39h | PP | PRIV | SID 0301h; T=0 (write) */
		assert_int_equal(r.hi, UINT64_C(0x8000013920000301) | (UINT64_C(1) << 31));
		assert_int_equal(vtd_fault_log_get(f->io, 2, &r), 0);
		assert_int_equal(r.lo, 0x3000);
		/* F | T | PV=12345h | FR=39h | PP | EXE | SID 0302h */
		assert_int_equal(r.hi, UINT64_C(0xc123453900000302) | (UINT64_C(1) << 31) |
					       (UINT64_C(1) << 30));
	}
	expect_status(f, true, false, 0);
	fx_free(f);
}

/* ---- 7.2.1 / 11.4.10: overflow ---- */

static void test_overflow_one_record(void **state)
{
	struct fx *f = fx_new(1, false);

	(void)state;
	assert_true(fault(f, &reqs[0], 0x01));
	expect_rec(f, 0, &reqs[0], 0x01);
	expect_status(f, true, false, 0);
	/* The next record (the same one) still has F: PFO, fault dropped. */
	assert_false(fault(f, &reqs[1], 0x01));
	expect_status(f, true, true, 0);
	expect_rec(f, 0, &reqs[0], 0x01);
	/* While PFO is set, later faults are dropped too. */
	assert_false(fault(f, &reqs[2], 0x01));
	expect_rec(f, 0, &reqs[0], 0x01);
	expect_status(f, true, true, 0);

	/* Software clears F: the record is free, but PFO still blocks. */
	assert_int_equal(vtd_fault_log_clear(f->io, 0), 0);
	assert_false(rec_f(f, 0));
	expect_status(f, false, true, 0);
	assert_false(fault(f, &reqs[3], 0x01));
	assert_false(rec_f(f, 0));
	expect_status(f, false, true, 0);

	/* Software clears PFO: logging resumes. */
	vtd_fault_clear_overflow(f->io);
	expect_status(f, false, false, 0);
	assert_true(fault(f, &reqs[4], 0x01));
	expect_rec(f, 0, &reqs[4], 0x01);
	expect_status(f, true, false, 0);

	/* Clearing PFO alone, with F still set, overflows again. */
	assert_false(fault(f, &reqs[5], 0x01));
	expect_status(f, true, true, 0);
	vtd_fault_clear_overflow(f->io);
	assert_false(fault(f, &reqs[5], 0x01));
	expect_status(f, true, true, 0);
	expect_rec(f, 0, &reqs[4], 0x01);
	fx_free(f);
}

static void test_overflow_four_records(void **state)
{
	struct fx *f = fx_new(4, true);

	(void)state;
	for (unsigned i = 0; i < 4; i++)
		assert_true(fault(f, &reqs[i], 0x39));
	assert_false(fault(f, &reqs[4], 0x39));
	expect_status(f, true, true, 0);
	for (unsigned i = 0; i < 4; i++)
		expect_rec(f, i, &reqs[i], 0x39);

	/* Freeing a record other than the next one does not help: the
	 * hardware checks the record at its next index (0, after wrapping). */
	assert_int_equal(vtd_fault_log_clear(f->io, 2), 0);
	vtd_fault_clear_overflow(f->io);
	assert_false(fault(f, &reqs[4], 0x39));
	expect_status(f, true, true, 0);
	expect_rec(f, 0, &reqs[0], 0x39);
	assert_false(rec_f(f, 2));

	/* Free record 0 and PFO: the next fault wraps around into record 0,
	 * the one after goes to record 1 - still pending - and overflows. */
	assert_int_equal(vtd_fault_log_clear(f->io, 0), 0);
	vtd_fault_clear_overflow(f->io);
	assert_true(fault(f, &reqs[5], 0x39));
	expect_rec(f, 0, &reqs[5], 0x39);
	expect_rec(f, 1, &reqs[1], 0x39);
	expect_status(f, true, false, 0);
	assert_false(fault(f, &reqs[4], 0x39));
	expect_status(f, true, true, 0);
	expect_rec(f, 1, &reqs[1], 0x39);

	/* Software drains everything, then logging resumes at index 1. */
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(vtd_fault_log_clear(f->io, i), 0);
	vtd_fault_clear_overflow(f->io);
	expect_status(f, false, false, 0);
	assert_true(fault(f, &reqs[3], 0x39));
	expect_rec(f, 1, &reqs[3], 0x39);
	/* PPF rose with a fault recorded at index 1: FRI = 1 (11.4.10). */
	expect_status(f, true, false, 1);
	fx_free(f);
}

/* ---- 11.4.10: PPF and FRI ---- */

static void test_ppf_fri(void **state)
{
	struct fx *f = fx_new(4, false);

	(void)state;
	assert_true(fault(f, &reqs[0], 0x01));
	assert_true(fault(f, &reqs[1], 0x01));
	expect_status(f, true, false, 0);
	/* Software handles both (the order Linux uses: from FRI onwards). */
	assert_int_equal(vtd_fault_log_clear(f->io, 0), 0);
	/* PPF is still set (record 1); FRI keeps the index latched when PPF
	 * was set by hardware (11.4.10), it does not move on by itself. */
	expect_status(f, true, false, 0);
	assert_int_equal(vtd_fault_log_clear(f->io, 1), 0);
	expect_status(f, false, false, 0);
	/* PPF set again by a fault recorded at index 2: FRI = 2. */
	assert_true(fault(f, &reqs[2], 0x01));
	expect_status(f, true, false, 2);
	assert_true(fault(f, &reqs[3], 0x01));
	expect_status(f, true, false, 2);
	/* Wrap: index 0 next. */
	assert_true(fault(f, &reqs[4], 0x01));
	expect_rec(f, 0, &reqs[4], 0x01);
	expect_status(f, true, false, 2);
	/* Clearing F is idempotent; bad indices are refused. */
	assert_int_equal(vtd_fault_log_clear(f->io, 1), 0);
	assert_int_equal(vtd_fault_log_clear(f->io, 4), -EINVAL);
	{
		struct vtd_fault_rec r;

		assert_int_equal(vtd_fault_log_get(f->io, 4, &r), -EINVAL);
		assert_int_equal(vtd_fault_log_get(f->io, ~0u, &r), -EINVAL);
	}
	fx_free(f);
}

/* ---- 7.2.1 step 1: FPD ---- */

static void wr64(struct fx *f, uint64_t pa, uint64_t v)
{
	assert_int_equal(ims_mem_write64(ims_iommu_mem(f->io), pa, v), IMS_MEM_OK);
}

static void test_fpd(void **state)
{
	struct fx *f = fx_new(4, false);
	/* Bus 2: devfn 08h has FPD set, devfn 10h not, devfn 11h no entry. */
	const struct req q = { .sid = 0x0208, .addr = 0x12345000, .access = IMS_ACC_READ };
	const struct req r = { .sid = 0x0210, .addr = 0x12345000, .access = IMS_ACC_READ };
	const struct req rw = { .sid = 0x0210, .addr = 0x2345ff0, .access = IMS_ACC_WRITE };
	const struct req q2 = { .sid = 0x0211, .addr = 0x777000, .access = IMS_ACC_READ };
	/* Legacy root entry (9.1): P bit 0, CTP 63:12. */
	uint64_t re = CTX_TABLE | 1;
	/* Legacy context entry (9.3): lo P 0, FPD 1, TT 3:2 = 00b (second
	 * stage only), SSPTPTR 63:12; hi AW 66:64 = 010b (4-level), DID 87:72. */
	uint64_t ce_lo = SS_ROOT | 1, ce_hi = 2 | (UINT64_C(7) << 8);

	(void)state;
	wr64(f, ROOT_TABLE + 16 * 0x02, re);
	wr64(f, CTX_TABLE + 16 * 0x08, ce_lo | 2);
	wr64(f, CTX_TABLE + 16 * 0x08 + 8, ce_hi);
	wr64(f, CTX_TABLE + 16 * 0x10, ce_lo);
	wr64(f, CTX_TABLE + 16 * 0x10 + 8, ce_hi);
	/* The second-stage table is empty: a read faults with 06h (7.1.3,
	 * legacy: read of a page without read permission / not present). */
	assert_false(fault(f, &q, 0x06));
	assert_true(f->res.fault.suppressed);
	expect_status(f, false, false, 0);
	for (unsigned i = 0; i < 4; i++)
		assert_false(rec_f(f, i));
	/* Without FPD it is recorded; a write gives 05h with T = 0. */
	assert_true(fault(f, &r, 0x06));
	assert_false(f->res.fault.suppressed);
	expect_rec(f, 0, &r, 0x06);
	assert_true(fault(f, &rw, 0x05));
	expect_rec(f, 1, &rw, 0x05);
	/* Context entry not present: 02h. */
	assert_true(fault(f, &q2, 0x02));
	expect_rec(f, 2, &q2, 0x02);
	/* The FPD device still records nothing. */
	assert_false(fault(f, &q, 0x06));
	assert_false(rec_f(f, 3));
	expect_status(f, true, false, 0);
	fx_free(f);
}

/* ---- reason names ---- */

static void test_reason_names(void **state)
{
	/* The reasons of 7.1.3 that the model raises (include/iommusim/vtd.h). */
	static const unsigned known[] = {
		0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e,
		0x30, 0x31, 0x38, 0x39, 0x3a, 0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48,
		0x50, 0x51, 0x52, 0x58, 0x59, 0x5a, 0x5b, 0x5c, 0x5d, 0x70, 0x71, 0x72, 0x73, 0x74,
		0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x7b, 0x7c, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85,
		0x86, 0x87, 0x90, 0x91,
	};
	/* Never a fault reason: 00h, codes that do not fit FR (8 bits), and
	 * unassigned values between the spec's groups. */
	static const unsigned unknown[] = { 0x00, 0x3f, 0x4f, 0xff, 0x100, 0x139, ~0u };
	const size_t nk = sizeof(known) / sizeof(known[0]);

	(void)state;
	for (size_t i = 0; i < nk; i++) {
		const char *n = vtd_fault_reason_name(known[i]);

		if (!n || !*n)
			fail_msg("no name for reason %02xh", known[i]);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(n, vtd_fault_reason_name(known[j])))
				fail_msg("reasons %02xh and %02xh share the name \"%s\"", known[j],
					 known[i], n);
	}
	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
		assert_null(vtd_fault_reason_name(unknown[i]));
	/* Scalable-mode names say so. */
	assert_non_null(strstr(vtd_fault_reason_name(0x39), "root"));
	assert_non_null(strstr(vtd_fault_reason_name(0x01), "root"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_order_legacy),
		cmocka_unit_test(test_in_order_scalable_pasid),
		cmocka_unit_test(test_overflow_one_record),
		cmocka_unit_test(test_overflow_four_records),
		cmocka_unit_test(test_ppf_fri),
		cmocka_unit_test(test_fpd),
		cmocka_unit_test(test_reason_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
