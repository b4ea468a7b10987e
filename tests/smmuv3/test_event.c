/*
 * test_event.c - SMMUv3 event records and the event queue.
 *
 * Reference: Arm IHI 0070 (SMMUv3) 7.3 (event record layouts), 7.2 and 7.4
 * (recording, queue full and overflow: EVENTQ_PROD.OVFLG against
 * EVENTQ_CONS.OVACKFLG), 6.3.9 (CR0.EVENTQEN), 6.3.15 (GERROR.EVTQ_ABT_ERR),
 * 6.3.25-6.3.27 (EVENTQ_BASE/PROD/CONS).  Expected records are written out
 * as raw words from the spec's bit positions.
 */
#include "smmu_test.h"

/* Every field of a translation fault lands at its bit (7.3.13 F_TRANSLATION). */
static void layout_translation(void **state)
{
	struct smmu_event ev = {
		.type = 0x10, .ssv = true, .ssid = 0xabcde, .sid = 0x12345678, .stag = 0x1234,
		.stall = true, .pnu = true, .ind = true, .rnw = true, .s2 = true, .ttrnw = true,
		.nsipa = true, .class_ = 2, .input_addr = 0xfedcba9876543210ull,
		.ipa = 0x000fffffffffffffull, .fetch_addr = 0x1234,
	};
	uint64_t rec[4];
	struct smmu_event back;

	(void)state;
	smmu_event_encode(&ev, rec);
	/* word 0: 7:0 type, 11 SSV, 31:12 SSID, 63:32 SID */
	assert_int_equal(rec[0], 0x10ull | (1ull << 11) | (0xabcdeull << 12) | (0x12345678ull << 32));
	/* word 1: 15:0 STAG, 31 Stall, 33 PnU, 34 InD, 35 RnW, 39 S2, 41:40 CLASS, 44 TTRnW */
	assert_int_equal(rec[1], 0x1234ull | (1ull << 31) | (1ull << 33) | (1ull << 34) |
				 (1ull << 35) | (1ull << 39) | (2ull << 40) | (1ull << 44));
	assert_int_equal(rec[2], 0xfedcba9876543210ull);
	/* word 3: IPA[51:12] in 51:12, NSIPA in 63 */
	assert_int_equal(rec[3], 0x000ffffffffff000ull | (1ull << 63));
	assert_int_equal(smmu_event_decode(rec, &back), 0);
	assert_int_equal(back.class_, 2);
	assert_int_equal(back.ipa, 0x000ffffffffff000ull);
	assert_int_equal(back.sid, 0x12345678);
	assert_int_equal(back.ssid, 0xabcde);
}

/* Each type carries only its own fields (7.3.x); the rest is RES0. */
static void layout_per_type(void **state)
{
	struct smmu_event ev = {
		.ssv = true, .ssid = 3, .sid = 7, .rnw = true, .pnu = true, .ind = true,
		.s2 = true, .class_ = 1, .input_addr = 0x5000, .ipa = 0x6000,
		.fetch_addr = 0x000fffffffffffffull,
	};
	const unsigned header_only[] = { 0x02, 0x04, 0x06, 0x08, 0x0a, 0x21 };
	uint64_t rec[4], w0 = (1ull << 11) | (3ull << 12) | (7ull << 32);

	(void)state;
	for (size_t i = 0; i < sizeof(header_only) / sizeof(header_only[0]); i++) {
		ev.type = (uint8_t)header_only[i];
		smmu_event_encode(&ev, rec);
		assert_int_equal(rec[0], w0 | header_only[i]);
		assert_int_equal(rec[1] | rec[2] | rec[3], 0);
	}
	/* F_STE_FETCH and F_CD_FETCH: FetchAddr[51:3] in word 3 */
	ev.type = 0x03;
	smmu_event_encode(&ev, rec);
	assert_int_equal(rec[1] | rec[2], 0);
	assert_int_equal(rec[3], 0x000ffffffffffff8ull);
	ev.type = 0x09;
	smmu_event_encode(&ev, rec);
	assert_int_equal(rec[3], 0x000ffffffffffff8ull);
	/* F_WALK_EABT: access and walk fields, InputAddr, FetchAddr */
	ev.type = 0x0b;
	smmu_event_encode(&ev, rec);
	assert_int_equal(rec[1], (1ull << 33) | (1ull << 34) | (1ull << 35) | (1ull << 39) |
				 (1ull << 40));
	assert_int_equal(rec[2], 0x5000);
	assert_int_equal(rec[3], 0x000ffffffffffff8ull);
	/* F_TRANS_FORBIDDEN: InputAddr and RnW only */
	ev.type = 0x07;
	smmu_event_encode(&ev, rec);
	assert_int_equal(rec[1], 1ull << 35);
	assert_int_equal(rec[2], 0x5000);
	assert_int_equal(rec[3], 0);
	/* F_ADDR_SIZE, F_ACCESS, F_PERMISSION: as F_TRANSLATION */
	for (unsigned t = 0x11; t <= 0x13; t++) {
		ev.type = (uint8_t)t;
		smmu_event_encode(&ev, rec);
		assert_int_equal(rec[0] & 0xff, t);
		assert_int_equal(rec[3], 0x6000);
	}
}

static void names(void **state)
{
	(void)state;
	assert_string_equal(smmu_event_name(0x02), "C_BAD_STREAMID");
	assert_string_equal(smmu_event_name(0x06), "F_STREAM_DISABLED");
	assert_string_equal(smmu_event_name(0x07), "F_TRANS_FORBIDDEN");
	assert_string_equal(smmu_event_name(0x0b), "F_WALK_EABT");
	assert_string_equal(smmu_event_name(0x10), "F_TRANSLATION");
	assert_string_equal(smmu_event_name(0x13), "F_PERMISSION");
	assert_string_equal(smmu_event_name(0x21), "F_CFG_CONFLICT");
	assert_null(smmu_event_name(0x0c));
}

/* Make a C_BAD_STREAMID event (StreamID 300 is beyond LOG2SIZE 8). */
static struct ims_result *bad(struct fx *f, uint32_t n)
{
	return xlate(f, txn_r(300 + n, 0));
}

/* 7.4: a full queue drops the event and toggles OVFLG once until acknowledged. */
static void overflow(void **state)
{
	struct fx f;
	struct smmu_evtq_status s;
	uint64_t rec[4];
	uint64_t prod;

	(void)state;
	fx_std(&f);
	reg(&f, "CR0", 0);
	reg(&f, "EVENTQ_BASE", Q_BASE(EVTQ, 1)); /* 2 records */
	reg(&f, "CR0", CR0_SMMUEN | CR0_EVENTQEN);
	assert_true(bad(&f, 0)->fault.recorded);
	assert_true(bad(&f, 1)->fault.recorded);
	/* PROD: index 0 with the wrap bit (bit 1 for 2 entries) set; CONS 0: full. */
	assert_int_equal(ims_iommu_get_reg(f.io, "EVENTQ_PROD", &prod), 0);
	assert_int_equal(prod, 2);
	assert_false(bad(&f, 2)->fault.recorded);
	assert_int_equal(ims_iommu_get_reg(f.io, "EVENTQ_PROD", &prod), 0);
	assert_int_equal(prod, 2 | EVTQ_OVFLG);
	/* Still pending: a further loss does not toggle OVFLG back. */
	assert_false(bad(&f, 3)->fault.recorded);
	assert_int_equal(ims_iommu_get_reg(f.io, "EVENTQ_PROD", &prod), 0);
	assert_int_equal(prod, 2 | EVTQ_OVFLG);
	smmu_evtq_status(f.io, &s);
	assert_true(s.overflow);
	assert_int_equal(s.pending, 2);
	assert_int_equal(s.lost, 2);
	/* The records in memory are the first two, in order. */
	assert_int_equal(rd(&f, EVTQ) >> 32, 300);
	assert_int_equal(rd(&f, EVTQ + 32) >> 32, 301);
	/* Software consumes both and acknowledges: CONS = 2 | OVACKFLG. */
	pop(&f, rec);
	pop(&f, rec);
	reg(&f, "EVENTQ_CONS", 2 | EVTQ_OVFLG);
	smmu_evtq_status(f.io, &s);
	assert_false(s.overflow);
	assert_int_equal(s.pending, 0);
	assert_true(bad(&f, 4)->fault.recorded);
	pop(&f, rec);
	assert_int_equal(REC_SID(rec), 304);
	fx_free(&f);
}

/* 6.3.9: EVENTQEN = 0 discards events. */
static void queue_disabled(void **state)
{
	struct fx f;

	(void)state;
	fx_std(&f);
	reg(&f, "CR0", CR0_SMMUEN);
	assert_false(bad(&f, 0)->fault.recorded);
	assert_int_equal(bad(&f, 0)->fault.arch_code, EV_C_BAD_STREAMID);
	no_event(&f);
	fx_free(&f);
}

/* 6.3.15: an abort writing the record activates GERROR.EVTQ_ABT_ERR (bit 2). */
static void queue_write_abort(void **state)
{
	struct fx f;
	struct smmu_evtq_status s;
	uint64_t g;

	(void)state;
	fx_std(&f);
	ims_mem_inject_abort(f.mem, EVTQ, 32);
	assert_false(bad(&f, 0)->fault.recorded);
	smmu_evtq_status(f.io, &s);
	assert_true(s.abort_err);
	assert_int_equal(ims_iommu_get_reg(f.io, "GERROR", &g), 0);
	assert_int_equal(g & 4, 4);
	reg(&f, "GERRORN", g);
	smmu_evtq_status(f.io, &s);
	assert_false(s.abort_err);
	fx_free(&f);
}

/* 6.3.25: LOG2SIZE beyond IDR1.EVENTQS counts as EVENTQS. */
static void queue_size_capped(void **state)
{
	struct fx f;
	struct smmu_evtq_status s;

	(void)state;
	assert_int_equal(fx_try(&f, NULL, "{\"SIDSIZE\":16,\"SSIDSIZE\":20,\"EVENTQS\":2}", NULL,
				NULL), 0);
	assert_int_equal(ims_mem_add_ram(f.mem, 0, 16u << 20), 0);
	fx_enable(&f, 10);
	smmu_evtq_status(f.io, &s);
	assert_int_equal(s.log2size, 2);
	fx_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(layout_translation),
		cmocka_unit_test(layout_per_type),
		cmocka_unit_test(names),
		cmocka_unit_test(overflow),
		cmocka_unit_test(queue_disabled),
		cmocka_unit_test(queue_write_abort),
		cmocka_unit_test(queue_size_capped),
	};

	return cmocka_run_group_tests_name("smmuv3-event", tests, NULL, NULL);
}
