/*
 * test_ste.c - the SMMUv3 Stream table and STE decoding.
 *
 * Reference: Arm IHI 0070 (SMMUv3) 3.3.2 (2-level Stream table), 3.9
 * (SubstreamIDs, S1DSS), 3.9.1 (SMMUEN = 0: GBPA), 5.1 (L1STD), 5.2 (STE
 * fields and ILLEGAL conditions), 7.3 (C_BAD_STREAMID, F_STE_FETCH,
 * C_BAD_STE, F_STREAM_DISABLED, C_BAD_SUBSTREAMID).  STEs are raw words
 * (smmu_test.h).
 */
#include "smmu_test.h"

#define SID 5
#define CDPA (S1AREA + 0x10000)   /* a CD in PA space (stage-1-only streams) */
#define CDIPA 0x10000ull          /* a CD in IPA space (nested) */
#define VA 0x7f0000001000ull

/* Stage-1-only tables in PA space mapping VA -> PA 0x900000. */
static void s1_only_setup(struct fx *f)
{
	cd_put(f, CDPA, CD0_GOOD | CD0_ASID(7), S1AREA, 0);
	s1_map(f, S1AREA, false, VA, 0x900000, D_S1_PAGE_RW_EL0(0));
}

/* 5.2 Config 0b000: abort, and no event is recorded. */
static void config_abort_no_event(void **state)
{
	struct fx f;
	struct ims_result *r;

	(void)state;
	fx_std(&f);
	ste_put(&f, SID, STE0_V | STE0_CONFIG(0), 0, 0, 0);
	r = xlate(&f, txn_r(SID, 0x1000));
	assert_false(r->ok);
	assert_int_equal(r->fault.arch_code, 0);
	assert_false(r->fault.recorded);
	no_event(&f);
	fx_free(&f);
}

/* 5.2 Config 0b100: bypass, output = input. */
static void config_bypass(void **state)
{
	struct fx f;
	struct ims_result *r;

	(void)state;
	fx_std(&f);
	ste_put(&f, SID, STE0_V | STE0_CONFIG(4), 0, 0, 0);
	r = xlate(&f, txn_r(SID, 0x123456));
	assert_true(r->ok);
	assert_int_equal(r->out_addr, 0x123456);
	assert_int_equal(r->mode, IMS_XM_BYPASS);
	fx_free(&f);
}

/* 5.2 Config 0b101: stage 1 only; ASID tags, VMID from S2VMID (S2P = 1). */
static void config_s1(void **state)
{
	struct fx f;
	struct ims_result *r;

	(void)state;
	fx_std(&f);
	s1_only_setup(&f);
	ste_put(&f, SID, STE0_V | STE0_CONFIG(5) | CDPA, 0, STE2_S2VMID(9), 0);
	r = xlate(&f, txn_r(SID, VA + 0x24));
	assert_true(r->ok);
	assert_int_equal(r->out_addr, 0x900024);
	assert_int_equal(r->mode, IMS_XM_S1);
	assert_true(r->has_pasid);
	assert_int_equal(r->pasid, 7);
	assert_int_equal(r->domain, 9);
	fx_free(&f);
}

/* 5.2 Config 0b110: stage 2 only. */
static void config_s2(void **state)
{
	struct fx f;
	struct ims_result *r;

	(void)state;
	fx_std(&f);
	ste_put(&f, SID, STE0_V | STE0_CONFIG(6), 0, STE2_GOOD(3), S2ROOT);
	r = xlate(&f, txn_r(SID, 0x5008));
	assert_true(r->ok);
	assert_int_equal(r->out_addr, GUEST + 0x5008);
	assert_int_equal(r->mode, IMS_XM_S2);
	assert_int_equal(r->domain, 3);
	fx_free(&f);
}

/* 5.2 Config 0b111: nested. */
static void config_nested(void **state)
{
	struct fx f;
	struct ims_result *r;

	(void)state;
	fx_std(&f);
	cd_put(&f, GUEST + CDIPA, CD0_GOOD | CD0_ASID(2), 0x20000, 0);
	s1_map(&f, 0x20000, true, VA, 0x7000, D_S1_PAGE_RW_EL0(0));
	ste_put(&f, SID, STE0_V | STE0_CONFIG(7) | CDIPA, 0, STE2_GOOD(4), S2ROOT);
	r = xlate(&f, txn_r(SID, VA + 8));
	assert_true(r->ok);
	assert_int_equal(r->ipa, 0x7008);
	assert_int_equal(r->out_addr, GUEST + 0x7008);
	assert_int_equal(r->mode, IMS_XM_NESTED);
	fx_free(&f);
}

/* 5.2: Config 0b001-0b011 are reserved: ILLEGAL, C_BAD_STE. */
static void config_reserved(void **state)
{
	struct fx f;
	uint64_t rec[4];

	(void)state;
	fx_std(&f);
	for (unsigned c = 1; c <= 3; c++) {
		ste_put(&f, SID, STE0_V | STE0_CONFIG(c), 0, 0, 0);
		expect_event(&f, xlate(&f, txn_r(SID, 0)), EV_C_BAD_STE, rec);
		assert_int_equal(REC_SID(rec), SID);
	}
	fx_free(&f);
}

/* 5.2 V = 0: C_BAD_STE. */
static void ste_invalid(void **state)
{
	struct fx f;
	uint64_t rec[4];

	(void)state;
	fx_std(&f);
	ste_put(&f, SID, STE0_CONFIG(4), 0, 0, 0);
	expect_event(&f, xlate(&f, txn_r(SID, 0)), EV_C_BAD_STE, rec);
	fx_free(&f);
}

/* 3.3: StreamID >= 2^STRTAB_BASE_CFG.LOG2SIZE: C_BAD_STREAMID with the StreamID. */
static void bad_streamid(void **state)
{
	struct fx f;
	uint64_t rec[4];

	(void)state;
	fx_std(&f);
	expect_event(&f, xlate(&f, txn_r(256, 0)), EV_C_BAD_STREAMID, rec);
	assert_int_equal(REC_SID(rec), 256);
	assert_int_equal(rec[1] | rec[2] | rec[3], 0);
	fx_free(&f);
}

/* 5.1, 3.3.2: 2-level stream table, SPLIT 8: L1STD[sid >> 8], L2 index sid[7:0]. */
static void two_level_stream_table(void **state)
{
	struct fx f;
	struct ims_result *r;
	uint64_t rec[4];
	uint32_t sid = 0x203; /* L1 index 2, L2 index 3 */

	(void)state;
	fx_std(&f);
	reg(&f, "CR0", 0);
	reg(&f, "STRTAB_BASE_CFG", STRTAB_CFG(1, 8, 16));
	reg(&f, "CR0", CR0_SMMUEN | CR0_EVENTQEN);
	/* Span 3: the L2 table holds 2^(3-1) = 4 STEs. */
	wr(&f, STRTAB + 8 * 2, L1STD(L2STRTAB, 3));
	write_words(&f, L2STRTAB + 64 * 3, (uint64_t[]){ STE0_V | STE0_CONFIG(4), 0 }, 2);
	r = xlate(&f, txn_r(sid, 0x4444));
	assert_true(r->ok);
	assert_int_equal(r->out_addr, 0x4444);
	assert_int_equal(r->nreads, 2); /* L1STD then STE */
	/* L2 index 4 is beyond 2^(Span-1). */
	expect_event(&f, xlate(&f, txn_r(0x204, 0)), EV_C_BAD_STREAMID, rec);
	/* L1STD[5] has Span 0: invalid. */
	expect_event(&f, xlate(&f, txn_r(0x500, 0)), EV_C_BAD_STREAMID, rec);
	assert_int_equal(REC_SID(rec), 0x500);
	fx_free(&f);
}

/* 7.3.4: an abort fetching the STE is F_STE_FETCH with FetchAddr = the STE address. */
static void ste_fetch_abort(void **state)
{
	struct fx f;
	uint64_t rec[4];

	(void)state;
	fx_std(&f);
	ims_mem_inject_abort(f.mem, STRTAB + 64 * SID, 64);
	expect_event(&f, xlate(&f, txn_r(SID, 0)), EV_F_STE_FETCH, rec);
	assert_int_equal(REC_FETCH(rec), STRTAB + 64 * SID);
	fx_free(&f);
}

/* 3.9, 5.2 S1DSS for requests without SSID when S1CDMax != 0. */
static void s1dss(void **state)
{
	struct fx f;
	struct ims_result *r;
	uint64_t rec[4];
	uint64_t w0 = STE0_V | STE0_CONFIG(5) | STE0_S1CDMAX(2) | CDPA;

	(void)state;
	fx_std(&f);
	s1_only_setup(&f);
	/* 0b00 terminate: F_STREAM_DISABLED. */
	ste_put(&f, SID, w0, STE1_S1DSS(0), 0, 0);
	expect_event(&f, xlate(&f, txn_r(SID, VA)), EV_F_STREAM_DISABLED, rec);
	assert_int_equal(REC_SSV(rec), 0);
	/* 0b01 bypass: stage 1 bypassed, the address comes out unchanged. */
	ste_put(&f, SID, w0, STE1_S1DSS(1), 0, 0);
	r = xlate(&f, txn_r(SID, VA));
	assert_true(r->ok);
	assert_int_equal(r->out_addr, VA);
	/* 0b10 substream 0: CD 0 (the first in the linear table) translates. */
	ste_put(&f, SID, w0, STE1_S1DSS(2), 0, 0);
	r = xlate(&f, txn_r(SID, VA));
	assert_true(r->ok);
	assert_int_equal(r->out_addr, 0x900000);
	/* ... and a request with SSID 0 is then C_BAD_SUBSTREAMID. */
	{
		struct ims_txn t = txn_r(SID, VA);

		t.has_pasid = true;
		t.pasid = 0;
		expect_event(&f, xlate(&f, t), EV_C_BAD_SUBSTREAMID, rec);
		assert_int_equal(REC_SSV(rec), 1);
		assert_int_equal(REC_SSID(rec), 0);
	}
	/* 0b11 is reserved: ILLEGAL. */
	ste_put(&f, SID, w0, STE1_S1DSS(3), 0, 0);
	expect_event(&f, xlate(&f, txn_r(SID, VA)), EV_C_BAD_STE, rec);
	fx_free(&f);
}

/* 3.9: SSID >= 2^S1CDMax, or any SSID with S1CDMax = 0 or stage 1 off: C_BAD_SUBSTREAMID. */
static void ssid_range(void **state)
{
	struct fx f;
	struct ims_txn t = txn_r(SID, VA);
	uint64_t rec[4];

	(void)state;
	fx_std(&f);
	s1_only_setup(&f);
	t.has_pasid = true;
	t.pasid = 4;
	ste_put(&f, SID, STE0_V | STE0_CONFIG(5) | STE0_S1CDMAX(2) | CDPA, STE1_S1DSS(2), 0, 0);
	expect_event(&f, xlate(&f, t), EV_C_BAD_SUBSTREAMID, rec);
	assert_int_equal(REC_SSID(rec), 4);
	t.pasid = 1;
	ste_put(&f, SID, STE0_V | STE0_CONFIG(5) | STE0_S1CDMAX(0) | CDPA, 0, 0, 0);
	expect_event(&f, xlate(&f, t), EV_C_BAD_SUBSTREAMID, rec);
	ste_put(&f, SID, STE0_V | STE0_CONFIG(6), 0, STE2_GOOD(1), S2ROOT);
	expect_event(&f, xlate(&f, t), EV_C_BAD_SUBSTREAMID, rec);
	fx_free(&f);
}

/* 5.2 ILLEGAL STEs: each is C_BAD_STE. */
static void ste_illegal(void **state)
{
	struct fx f;
	uint64_t rec[4];
	const struct {
		uint64_t w0, w1, w2;
	} bad[] = {
		/* S2TG = 0b11 reserved */
		{ STE0_V | STE0_CONFIG(6), 0, (STE2_GOOD(1) & ~STE2_S2TG(3)) | STE2_S2TG(3) },
		/* S2PS = 0b111 reserved */
		{ STE0_V | STE0_CONFIG(6), 0, (STE2_GOOD(1) & ~STE2_S2PS(7)) | STE2_S2PS(7) },
		/* S2AA64 = 0 with AArch64-only tables (TTF = 2) */
		{ STE0_V | STE0_CONFIG(6), 0, STE2_GOOD(1) & ~STE2_S2AA64 },
		/* S2T0SZ = 8: below the minimum of 16 */
		{ STE0_V | STE0_CONFIG(6), 0, (STE2_GOOD(1) & ~STE2_S2T0SZ(63)) | STE2_S2T0SZ(8) },
		/* S2SL0 = 0 (start level 2) cannot resolve 48 bits with 4K */
		{ STE0_V | STE0_CONFIG(6), 0, STE2_GOOD(1) & ~STE2_S2SL0(3) },
		/* S2S = 1: no stall model (STALL_MODEL = 0b01) */
		{ STE0_V | STE0_CONFIG(6), 0, STE2_GOOD(1) | STE2_S2S },
		/* EATS = 0b11 reserved */
		{ STE0_V | STE0_CONFIG(6), STE1_EATS(3), STE2_GOOD(1) },
		/* S1Fmt = 0b11 reserved (with substreams) */
		{ STE0_V | STE0_CONFIG(5) | STE0_S1CDMAX(1) | STE0_S1FMT(3) | CDPA, 0, 0 },
		/* S1CDMax 21 > SSIDSIZE 20 */
		{ STE0_V | STE0_CONFIG(5) | STE0_S1CDMAX(21) | CDPA, 0, 0 },
		/* S1STALLD without a stall model */
		{ STE0_V | STE0_CONFIG(5) | CDPA, STE1_S1STALLD, 0 },
		/* STRW = 0b01 reserved for a stage-1-only stream */
		{ STE0_V | STE0_CONFIG(5) | CDPA, STE1_STRW(1), 0 },
	};

	(void)state;
	fx_std(&f);
	s1_only_setup(&f);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ste_put(&f, SID, bad[i].w0, bad[i].w1, bad[i].w2, S2ROOT);
		expect_event(&f, xlate(&f, txn_r(SID, VA)), EV_C_BAD_STE, rec);
	}
	fx_free(&f);
}

/* 5.2: fields beyond what IDR0 implements make the STE ILLEGAL. */
static void ste_illegal_for_idr(void **state)
{
	struct fx f;
	uint64_t rec[4];

	(void)state;
	/* No ATS, no HTTU, no stage 2. */
	assert_int_equal(fx_try(&f, "{\"S1P\":1,\"TTF\":2,\"STALL_MODEL\":1,\"TTENDIAN\":2}",
				NULL, NULL, NULL), 0);
	assert_int_equal(ims_mem_add_ram(f.mem, 0, 16u << 20), 0);
	fx_enable(&f, 5);
	s1_only_setup(&f);
	ste_put(&f, SID, STE0_V | STE0_CONFIG(5) | CDPA, STE1_EATS(1), 0, 0);
	expect_event(&f, xlate(&f, txn_r(SID, VA)), EV_C_BAD_STE, rec);
	ste_put(&f, SID, STE0_V | STE0_CONFIG(6), 0, STE2_GOOD(1), S2ROOT);
	expect_event(&f, xlate(&f, txn_r(SID, VA)), EV_C_BAD_STE, rec);
	ste_put(&f, SID, STE0_V | STE0_CONFIG(5) | CDPA, 0, 0, 0);
	assert_true(xlate(&f, txn_r(SID, VA))->ok);
	fx_free(&f);
	/* S2HA with HTTU = 0. */
	assert_int_equal(fx_try(&f, "{\"S2P\":1,\"TTF\":2,\"STALL_MODEL\":1,\"TTENDIAN\":2}",
				"{\"SIDSIZE\":16,\"EVENTQS\":19}", NULL, NULL), 0);
	assert_int_equal(ims_mem_add_ram(f.mem, 0, 16u << 20), 0);
	fx_enable(&f, 5);
	s2_map_window(&f);
	ste_put(&f, SID, STE0_V | STE0_CONFIG(6), 0, STE2_GOOD(1) | STE2_S2HA, S2ROOT);
	expect_event(&f, xlate(&f, txn_r(SID, 0)), EV_C_BAD_STE, rec);
	/* S2VMID[15:8] without VMID16 */
	ste_put(&f, SID, STE0_V | STE0_CONFIG(6), 0, STE2_GOOD(0x100), S2ROOT);
	expect_event(&f, xlate(&f, txn_r(SID, 0)), EV_C_BAD_STE, rec);
	fx_free(&f);
}

/* 3.9.1: SMMUEN = 0: GBPA.ABORT aborts without an event, else bypass. */
static void smmu_disabled(void **state)
{
	struct fx f;
	struct ims_result *r;

	(void)state;
	fx_std(&f);
	reg(&f, "CR0", CR0_EVENTQEN);
	r = xlate(&f, txn_r(SID, 0xabc000));
	assert_true(r->ok);
	assert_int_equal(r->out_addr, 0xabc000);
	reg(&f, "GBPA", GBPA_UPDATE | GBPA_ABORT);
	r = xlate(&f, txn_r(SID, 0xabc000));
	assert_false(r->ok);
	assert_int_equal(r->fault.arch_code, 0);
	no_event(&f);
	fx_free(&f);
}

/* 3.4: a stage-2-only input beyond IAS (48 bits) is F_ADDR_SIZE, S2 = 1, CLASS = IN. */
static void s2_input_beyond_ias(void **state)
{
	struct fx f;
	uint64_t rec[4];

	(void)state;
	fx_std(&f);
	ste_put(&f, SID, STE0_V | STE0_CONFIG(6), 0, STE2_GOOD(1), S2ROOT);
	expect_event(&f, xlate(&f, txn_r(SID, 1ull << 48)), EV_F_ADDR_SIZE, rec);
	assert_int_equal(REC_S2(rec), 1);
	assert_int_equal(REC_CLASS(rec), 2);
	fx_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(config_abort_no_event),
		cmocka_unit_test(config_bypass),
		cmocka_unit_test(config_s1),
		cmocka_unit_test(config_s2),
		cmocka_unit_test(config_nested),
		cmocka_unit_test(config_reserved),
		cmocka_unit_test(ste_invalid),
		cmocka_unit_test(bad_streamid),
		cmocka_unit_test(two_level_stream_table),
		cmocka_unit_test(ste_fetch_abort),
		cmocka_unit_test(s1dss),
		cmocka_unit_test(ssid_range),
		cmocka_unit_test(ste_illegal),
		cmocka_unit_test(ste_illegal_for_idr),
		cmocka_unit_test(smmu_disabled),
		cmocka_unit_test(s2_input_beyond_ias),
	};

	return cmocka_run_group_tests_name("smmuv3-ste", tests, NULL, NULL);
}
