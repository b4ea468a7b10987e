/*
 * test_cd.c - SMMUv3 CD tables and CD decoding.
 *
 * Reference: Arm IHI 0070 (SMMUv3) 5.3 (L1CD), 5.4 (CD fields and ILLEGAL
 * conditions), 3.4.3 (nested: CD addresses are IPAs), 7.3 (F_CD_FETCH,
 * C_BAD_CD, C_BAD_SUBSTREAMID); Arm ARM D8.2 (VA bit 55 selects
 * TTBR0/TTBR1; EPDx).  CDs and descriptors are raw words (smmu_test.h).
 */
#include "smmu_test.h"

#define SID 9
#define CTX (S1AREA + 0x40000)     /* CD table (PA) */
#define L2CD (S1AREA + 0x50000)    /* L2 CD table (PA) */
#define VA 0x7f0000001000ull

static struct ims_txn txn_ssid(uint64_t addr, uint32_t ssid)
{
	struct ims_txn t = txn_r(SID, addr);

	t.has_pasid = true;
	t.pasid = ssid;
	return t;
}

static void setup(struct fx *f)
{
	fx_std(f);
	s1_map(f, S1AREA, false, VA, 0x900000, D_S1_PAGE_RW_EL0(0));
}

/* 5.2 S1Fmt 0b00 linear, S1CDMax 3: CD[ssid] at S1ContextPtr + 64 * ssid. */
static void linear_table(void **state)
{
	struct fx f;
	struct ims_result *r;

	(void)state;
	setup(&f);
	ste_put(&f, SID, STE0_V | STE0_CONFIG(5) | STE0_S1CDMAX(3) | STE0_S1FMT(0) | CTX,
		STE1_S1DSS(2), 0, 0);
	cd_put(&f, CTX + 64 * 6, CD0_GOOD | CD0_ASID(0x66), S1AREA, 0);
	r = xlate(&f, txn_ssid(VA + 4, 6));
	assert_true(r->ok);
	assert_int_equal(r->out_addr, 0x900004);
	assert_int_equal(r->pasid, 0x66);
	fx_free(&f);
}

/* 5.3: 2-level, 4K leaf tables: L1CD[ssid >> 6], CD[ssid & 63]; V = 0: C_BAD_SUBSTREAMID. */
static void two_level_4k(void **state)
{
	struct fx f;
	struct ims_result *r;
	uint64_t rec[4];

	(void)state;
	setup(&f);
	ste_put(&f, SID, STE0_V | STE0_CONFIG(5) | STE0_S1CDMAX(8) | STE0_S1FMT(1) | CTX,
		STE1_S1DSS(2), 0, 0);
	wr(&f, CTX + 8 * 1, L1CD(L2CD));
	cd_put(&f, L2CD + 64 * 6, CD0_GOOD | CD0_ASID(70), S1AREA, 0);
	r = xlate(&f, txn_ssid(VA, 70));   /* 70 = 1 * 64 + 6 */
	assert_true(r->ok);
	assert_int_equal(r->pasid, 70);
	assert_int_equal(r->reads[1].pa, CTX + 8); /* the L1CD read follows the STE */
	expect_event(&f, xlate(&f, txn_ssid(VA, 130)), EV_C_BAD_SUBSTREAMID, rec);
	assert_int_equal(REC_SSID(rec), 130);
	fx_free(&f);
}

/* 5.3: 2-level, 64K leaf tables: L1CD[ssid >> 10], CD[ssid & 1023]. */
static void two_level_64k(void **state)
{
	struct fx f;
	struct ims_result *r;

	(void)state;
	setup(&f);
	ste_put(&f, SID, STE0_V | STE0_CONFIG(5) | STE0_S1CDMAX(12) | STE0_S1FMT(2) | CTX,
		STE1_S1DSS(2), 0, 0);
	wr(&f, CTX + 8 * 2, L1CD(L2CD));
	cd_put(&f, L2CD + 64 * 5, CD0_GOOD | CD0_ASID(0x805), S1AREA, 0);
	r = xlate(&f, txn_ssid(VA, 2 * 1024 + 5));
	assert_true(r->ok);
	assert_int_equal(r->pasid, 0x805);
	fx_free(&f);
}

/* 7.3.9: an abort reading the CD is F_CD_FETCH with FetchAddr. */
static void cd_fetch_abort(void **state)
{
	struct fx f;
	uint64_t rec[4];

	(void)state;
	setup(&f);
	ste_put(&f, SID, STE0_V | STE0_CONFIG(5) | CTX, 0, 0, 0);
	ims_mem_inject_abort(f.mem, CTX, 64);
	expect_event(&f, xlate(&f, txn_r(SID, VA)), EV_F_CD_FETCH, rec);
	assert_int_equal(REC_FETCH(rec), CTX);
	fx_free(&f);
}

/* 5.4: ILLEGAL CDs are C_BAD_CD. */
static void cd_illegal(void **state)
{
	struct fx f;
	uint64_t rec[4];
	const uint64_t bad[] = {
		CD0_GOOD & ~CD0_V,                              /* V = 0 */
		CD0_GOOD & ~CD0_AA64,                           /* AArch32, TTF = AArch64 only */
		(CD0_GOOD & ~CD0_T0SZ(63)) | CD0_T0SZ(10),      /* T0SZ < 16 */
		(CD0_GOOD & ~CD0_T0SZ(63)) | CD0_T0SZ(40),      /* T0SZ > 39 (no STT) */
		CD0_GOOD | CD0_TG0(3),                          /* TG0 reserved */
		CD0_GOOD | CD0_IPS(7),                          /* IPS reserved */
		CD0_GOOD | CD0_S,                               /* stall without a stall model */
		CD0_GOOD & ~CD0_A,                              /* RAZ/WI with TERM_MODEL = 1 */
		CD0_GOOD | CD0_ENDI,                            /* big-endian, TTENDIAN = LE */
		(CD0_GOOD & ~CD0_EPD1) | CD0_T1SZ(16) | CD0_TG1(0), /* TG1 0b00 is reserved */
	};

	(void)state;
	setup(&f);
	ste_put(&f, SID, STE0_V | STE0_CONFIG(5) | CTX, 0, 0, 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cd_put(&f, CTX, bad[i], S1AREA, 0);
		expect_event(&f, xlate(&f, txn_r(SID, VA)), EV_C_BAD_CD, rec);
	}
	/* TTB0 beyond the 48-bit IPS */
	cd_put(&f, CTX, CD0_GOOD, 1ull << 48, 0);
	expect_event(&f, xlate(&f, txn_r(SID, VA)), EV_C_BAD_CD, rec);
	fx_free(&f);
}

/* 5.4: HA/HD need IDR0.HTTU; ASID[15:8] needs ASID16. */
static void cd_illegal_for_idr(void **state)
{
	struct fx f;
	uint64_t rec[4];

	(void)state;
	assert_int_equal(fx_try(&f, "{\"S1P\":1,\"TTF\":2,\"STALL_MODEL\":1,\"TTENDIAN\":2,"
				    "\"TERM_MODEL\":1}", NULL, NULL, NULL), 0);
	assert_int_equal(ims_mem_add_ram(f.mem, 0, 16u << 20), 0);
	fx_enable(&f, 5);
	s1_map(&f, S1AREA, false, VA, 0x900000, D_S1_PAGE_RW_EL0(0));
	ste_put(&f, SID, STE0_V | STE0_CONFIG(5) | CTX, 0, 0, 0);
	cd_put(&f, CTX, CD0_GOOD | CD0_HA, S1AREA, 0);
	expect_event(&f, xlate(&f, txn_r(SID, VA)), EV_C_BAD_CD, rec);
	cd_put(&f, CTX, CD0_GOOD | CD0_ASID(0x100), S1AREA, 0);
	expect_event(&f, xlate(&f, txn_r(SID, VA)), EV_C_BAD_CD, rec);
	cd_put(&f, CTX, CD0_GOOD | CD0_ASID(0xff), S1AREA, 0);
	assert_true(xlate(&f, txn_r(SID, VA))->ok);
	fx_free(&f);
}

/* Arm ARM D8.2: VA bit 55 selects TTB1 (TG1 0b10 = 4K); EPD1 = 1 then faults. */
static void ttb1_and_epd(void **state)
{
	struct fx f;
	struct ims_result *r;
	uint64_t rec[4], va1 = 0xffff800000002000ull;
	uint64_t cd = (CD0_GOOD & ~CD0_EPD1) | CD0_T1SZ(16) | CD0_TG1(2);

	(void)state;
	setup(&f);
	s1_map(&f, S1AREA + 0x10000, false, va1, 0xa00000, D_S1_PAGE_RW_EL0(0));
	ste_put(&f, SID, STE0_V | STE0_CONFIG(5) | CTX, 0, 0, 0);
	cd_put(&f, CTX, cd, S1AREA, S1AREA + 0x10000);
	r = xlate(&f, txn_r(SID, va1 + 0x10));
	assert_true(r->ok);
	assert_int_equal(r->out_addr, 0xa00010);
	r = xlate(&f, txn_r(SID, VA));
	assert_true(r->ok);
	assert_int_equal(r->out_addr, 0x900000);
	/* EPD1 = 1: a TTB1 address is a stage-1 translation fault, CLASS = IN. */
	cd_put(&f, CTX, cd | CD0_EPD1, S1AREA, S1AREA + 0x10000);
	expect_event(&f, xlate(&f, txn_r(SID, va1)), EV_F_TRANSLATION, rec);
	assert_int_equal(REC_S2(rec), 0);
	assert_int_equal(REC_CLASS(rec), 2);
	assert_int_equal(rec[2], va1);
	/* EPD0 = 1: likewise for TTB0. */
	cd_put(&f, CTX, cd | CD0_EPD0, S1AREA, S1AREA + 0x10000);
	expect_event(&f, xlate(&f, txn_r(SID, VA)), EV_F_TRANSLATION, rec);
	fx_free(&f);
}

/* 5.4 CD.R = 0: stage-1 translation faults are not recorded. */
static void cd_record_bit(void **state)
{
	struct fx f;
	struct ims_result *r;

	(void)state;
	setup(&f);
	ste_put(&f, SID, STE0_V | STE0_CONFIG(5) | CTX, 0, 0, 0);
	cd_put(&f, CTX, CD0_GOOD & ~CD0_R, S1AREA, 0);
	r = xlate(&f, txn_r(SID, VA + 0x200000)); /* unmapped */
	assert_false(r->ok);
	assert_int_equal(r->fault.arch_code, EV_F_TRANSLATION);
	assert_false(r->fault.recorded);
	assert_true(r->fault.suppressed);
	no_event(&f);
	fx_free(&f);
}

/* 5.4 AFFD = 0 without HA: AF = 0 is F_ACCESS; with HA the AF is set in memory. */
static void access_flag(void **state)
{
	struct fx f;
	struct ims_result *r;
	uint64_t rec[4], pte = S1AREA + 0x3000 + 8 * ((VA >> 12) & 511);

	(void)state;
	setup(&f);
	wr(&f, pte, D_S1_PAGE_RW_EL0(0x900000) & ~D_AF);
	ste_put(&f, SID, STE0_V | STE0_CONFIG(5) | CTX, 0, 0, 0);
	cd_put(&f, CTX, CD0_GOOD, S1AREA, 0);
	expect_event(&f, xlate(&f, txn_r(SID, VA)), EV_F_ACCESS, rec);
	assert_int_equal(REC_S2(rec), 0);
	cd_put(&f, CTX, CD0_GOOD | CD0_HA, S1AREA, 0);
	r = xlate(&f, txn_r(SID, VA));
	assert_true(r->ok);
	assert_true(rd(&f, pte) & D_AF);
	fx_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(linear_table),
		cmocka_unit_test(two_level_4k),
		cmocka_unit_test(two_level_64k),
		cmocka_unit_test(cd_fetch_abort),
		cmocka_unit_test(cd_illegal),
		cmocka_unit_test(cd_illegal_for_idr),
		cmocka_unit_test(ttb1_and_epd),
		cmocka_unit_test(cd_record_bit),
		cmocka_unit_test(access_flag),
	};

	return cmocka_run_group_tests_name("smmuv3-cd", tests, NULL, NULL);
}
