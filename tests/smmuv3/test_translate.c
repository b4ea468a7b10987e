/*
 * test_translate.c - SMMUv3 nested translation end to end, and the events
 * its faults produce.
 *
 * Reference: Arm IHI 0070 (SMMUv3) 3.4.3 (nested: the CD, the stage-1
 * tables and the stage-1 output are IPAs), 7.3.12-7.3.16 (F_WALK_EABT,
 * F_TRANSLATION, F_ADDR_SIZE, F_ACCESS, F_PERMISSION: S2, CLASS, IPA,
 * InputAddr, RnW, PnU, InD).  CLASS: 0b00 CD, 0b01 TTD, 0b10 IN.
 * Tables and structures are raw words (smmu_test.h).
 */
#include "smmu_test.h"

#define SID 0x21
#define CDIPA 0x10000ull
#define S1T 0x20000ull            /* stage-1 tables (IPA) */
#define VA 0x7f0000001000ull

static void setup(struct fx *f, uint64_t cd_ipa, uint64_t ttb0)
{
	fx_std(f);
	if (cd_ipa < (2u << 20))
		cd_put(f, GUEST + cd_ipa, CD0_GOOD | CD0_ASID(1), ttb0, 0);
	if (ttb0 == S1T)
		s1_map(f, S1T, true, VA, 0x7000, D_S1_PAGE_RO_EL0(0));
	ste_put(f, SID, STE0_V | STE0_CONFIG(7) | cd_ipa, 0, STE2_GOOD(8), S2ROOT);
}

/* The 2-D walk: 4 CD-address reads, the CD, 4 x (4 + 1) stage-1 reads, 4 final reads. */
static void nested_ok(void **state)
{
	struct fx f;
	struct ims_result *r;
	unsigned s1 = 0, s2t = 0, s2 = 0, cfg = 0;

	(void)state;
	setup(&f, CDIPA, S1T);
	r = xlate(&f, txn_r(SID, VA + 0x44));
	assert_true(r->ok);
	assert_int_equal(r->ipa, 0x7044);
	assert_int_equal(r->out_addr, GUEST + 0x7044);
	for (unsigned i = 0; i < r->nreads; i++) {
		switch (r->reads[i].kind) {
		case IMS_READ_CONFIG: cfg++; break;
		case IMS_READ_S1: s1++; break;
		case IMS_READ_S2_FOR_TABLE: s2t++; break;
		default: s2++; break;
		}
	}
	assert_int_equal(cfg, 2);      /* STE, CD */
	assert_int_equal(s1, 4);
	assert_int_equal(s2t, 4 + 16); /* the CD address, then each stage-1 table */
	assert_int_equal(s2, 4);
	/* The CD read shows its IPA and the PA it was read from. */
	assert_int_equal(r->reads[5].in_addr, CDIPA);
	assert_int_equal(r->reads[5].pa, GUEST + CDIPA);
	fx_free(&f);
}

/* Stage 2 fails translating the CD address: the stage-2 event, S2 = 1, CLASS = CD. */
static void s2_fault_on_cd(void **state)
{
	struct fx f;
	uint64_t rec[4], cd_ipa = 0x300000; /* beyond the 2 MiB stage-2 window */

	(void)state;
	setup(&f, cd_ipa, S1T);
	expect_event(&f, xlate(&f, txn_r(SID, VA)), EV_F_TRANSLATION, rec);
	assert_int_equal(REC_S2(rec), 1);
	assert_int_equal(REC_CLASS(rec), 0);
	assert_int_equal(REC_IPA(rec), cd_ipa);
	assert_int_equal(rec[2], VA);           /* InputAddr is the transaction's */
	assert_int_equal(REC_RNW(rec), 1);
	assert_int_equal(REC_SID(rec), SID);
	fx_free(&f);
}

/* Stage 2 fails translating a stage-1 table address: S2 = 1, CLASS = TTD, TTRnW = 1. */
static void s2_fault_on_s1_table(void **state)
{
	struct fx f;
	uint64_t rec[4], ttb = 0x300000;

	(void)state;
	setup(&f, CDIPA, ttb);
	expect_event(&f, xlate(&f, txn_r(SID, VA)), EV_F_TRANSLATION, rec);
	assert_int_equal(REC_S2(rec), 1);
	assert_int_equal(REC_CLASS(rec), 1);
	assert_int_equal((rec[1] >> 44) & 1, 1);
	/* The level-0 entry for VA: index VA[47:39] = 0xfe. */
	assert_int_equal(REC_IPA(rec), (ttb + 8 * 0xfe) & ~0xfffull);
	fx_free(&f);
}

/* Stage 2 fails translating the IPA stage 1 produced: S2 = 1, CLASS = IN. */
static void s2_fault_on_final_ipa(void **state)
{
	struct fx f;
	uint64_t rec[4];

	(void)state;
	setup(&f, CDIPA, S1T);
	s1_map(&f, S1T, true, VA + 0x1000, 0x380000, D_S1_PAGE_RW_EL0(0));
	expect_event(&f, xlate(&f, txn_r(SID, VA + 0x1010)), EV_F_TRANSLATION, rec);
	assert_int_equal(REC_S2(rec), 1);
	assert_int_equal(REC_CLASS(rec), 2);
	assert_int_equal(REC_IPA(rec), 0x380000);
	assert_int_equal(rec[2], VA + 0x1010);
	fx_free(&f);
}

/* A stage-1 permission fault: F_PERMISSION, S2 = 0, CLASS = IN, RnW = 0, PnU, InD. */
static void s1_permission(void **state)
{
	struct fx f;
	struct ims_txn t;
	uint64_t rec[4];

	(void)state;
	setup(&f, CDIPA, S1T);
	t = txn_r(SID, VA + 0x80);
	t.access = IMS_ACC_WRITE | IMS_ACC_PRIV;
	expect_event(&f, xlate(&f, t), EV_F_PERMISSION, rec);
	assert_int_equal(REC_S2(rec), 0);
	assert_int_equal(REC_CLASS(rec), 2);
	assert_int_equal(REC_RNW(rec), 0);
	assert_int_equal((rec[1] >> 33) & 1, 1); /* PnU */
	assert_int_equal((rec[1] >> 34) & 1, 0); /* InD */
	assert_int_equal(rec[3], 0);             /* no IPA for a stage-1 fault */
	fx_free(&f);
}

/* STE.S2R = 0: stage-2 translation faults are not recorded. */
static void s2r_clear(void **state)
{
	struct fx f;
	struct ims_result *r;

	(void)state;
	setup(&f, 0x300000, S1T);
	ste_put(&f, SID, STE0_V | STE0_CONFIG(7) | 0x300000, 0, STE2_GOOD(8) & ~STE2_S2R, S2ROOT);
	r = xlate(&f, txn_r(SID, VA));
	assert_int_equal(r->fault.arch_code, EV_F_TRANSLATION);
	assert_true(r->fault.suppressed);
	no_event(&f);
	fx_free(&f);
}

/* An abort reading a stage-1 descriptor: F_WALK_EABT, S2 = 0, CLASS = TTD, FetchAddr = PA. */
static void walk_eabt(void **state)
{
	struct fx f;
	uint64_t rec[4], l1pa = GUEST + S1T + 0x1000 + 8 * ((VA >> 30) & 511);

	(void)state;
	setup(&f, CDIPA, S1T);
	ims_mem_inject_abort(f.mem, l1pa, 8);
	expect_event(&f, xlate(&f, txn_r(SID, VA)), EV_F_WALK_EABT, rec);
	assert_int_equal(REC_S2(rec), 0);
	assert_int_equal(REC_CLASS(rec), 1);
	assert_int_equal(REC_FETCH(rec), l1pa);
	fx_free(&f);
}

/*
 * Guest tables that misbehave give architectural events, never a crash: a
 * table pointing at itself is walked at most once per level (and its
 * descriptor, read as a level-3 page with AF = 0, is F_ACCESS), a pointer
 * outside memory aborts (F_WALK_EABT), a stage-1 output beyond IPS is
 * F_ADDR_SIZE.
 */
static void hostile_tables(void **state)
{
	struct fx f;
	struct ims_result *r;
	uint64_t rec[4];

	(void)state;
	fx_std(&f);
	/* Stage-1-only stream, tables in PA space. */
	ste_put(&f, SID, STE0_V | STE0_CONFIG(5) | S1AREA, 0, 0, 0);
	cd_put(&f, S1AREA, CD0_GOOD, S1AREA + 0x1000, 0);
	/* Level 0 points at itself for every index. */
	for (unsigned i = 0; i < 512; i++)
		wr(&f, S1AREA + 0x1000 + 8 * i, D_TABLE(S1AREA + 0x1000));
	r = xlate(&f, txn_r(SID, VA));
	assert_true(r->nreads <= 2 + 4);
	/* At level 3 the same 0b11 descriptor is a page, with AF = 0: F_ACCESS. */
	expect_event(&f, r, EV_F_ACCESS, rec);
	/* A table outside memory (PA 15 GiB: no RAM there): F_WALK_EABT. */
	for (unsigned i = 0; i < 512; i++)
		wr(&f, S1AREA + 0x1000 + 8 * i, D_TABLE(0x3c0000000ull));
	expect_event(&f, xlate(&f, txn_r(SID, VA)), EV_F_WALK_EABT, rec);
	assert_int_equal(REC_FETCH(rec) & ~0xfffull, 0x3c0000000ull);
	/* A leaf beyond the 40-bit IPS: F_ADDR_SIZE at stage 1. */
	cd_put(&f, S1AREA, (CD0_GOOD & ~CD0_IPS(7)) | CD0_IPS(2), S1AREA + 0x8000, 0);
	s1_map(&f, S1AREA + 0x8000, false, VA, 1ull << 44, D_S1_PAGE_RW_EL0(0));
	expect_event(&f, xlate(&f, txn_r(SID, VA)), EV_F_ADDR_SIZE, rec);
	assert_int_equal(REC_S2(rec), 0);
	fx_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(nested_ok),
		cmocka_unit_test(s2_fault_on_cd),
		cmocka_unit_test(s2_fault_on_s1_table),
		cmocka_unit_test(s2_fault_on_final_ipa),
		cmocka_unit_test(s1_permission),
		cmocka_unit_test(s2r_clear),
		cmocka_unit_test(walk_eabt),
		cmocka_unit_test(hostile_tables),
	};

	return cmocka_run_group_tests_name("smmuv3-translate", tests, NULL, NULL);
}
