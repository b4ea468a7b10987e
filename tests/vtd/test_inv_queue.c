/*
 * test_inv_queue.c - VT-d queued-invalidation descriptor decoding.
 *
 * Reference: Intel VT-d Architecture Specification rev 4.x / 5.0, 6.5.2.x
 * (descriptor formats), 11.4.2 / 11.4.3 (CAP_REG / ECAP_REG).
 *
 * Descriptors are built here from the spec's bit positions with plain
 * arithmetic, never from the decoder's masks, so a wrong mask in the decoder
 * cannot hide behind the same wrong mask in the test.  The instance is a
 * bare struct vtd_state hung off a bare struct ims_iommu: the decoder reads
 * nothing else, and the test does not depend on model parsing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <errno.h>

#include <cmocka.h>

#include <iommusim/inv.h>
#include "formats/vtd/vtd_int.h"

/* CAP_REG bits (11.4.2). */
#define CAP_PSI (1ull << 39)
#define CAP_MAMV(v) ((uint64_t)(v) << 48)   /* 53:48 */
#define CAP_DWD (1ull << 54)
#define CAP_DRD (1ull << 55)

/* ECAP_REG bits (11.4.3). */
#define ECAP_QI (1ull << 1)
#define ECAP_DT (1ull << 2)
#define ECAP_IR (1ull << 3)
#define ECAP_MHMV(v) ((uint64_t)(v) << 20)  /* 23:20 */
#define ECAP_NEST (1ull << 26)
#define ECAP_DIT (1ull << 41)
#define ECAP_PDS (1ull << 42)
#define ECAP_SMTS (1ull << 43)
#define ECAP_FSTS (1ull << 47)

#define RTADDR_TTM_SCALABLE (1ull << 10)    /* TTM 11:10 = 01b */

#define CAP_ALL (CAP_PSI | CAP_MAMV(18) | CAP_DWD | CAP_DRD)
#define ECAP_ALL (ECAP_QI | ECAP_DT | ECAP_IR | ECAP_MHMV(15) | ECAP_DIT | ECAP_PDS | \
		  ECAP_SMTS | ECAP_FSTS | ECAP_NEST)

struct fx {
	struct vtd_state st;
	struct ims_iommu io;
};

static void fx_init(struct fx *f, uint64_t cap, uint64_t ecap, bool scalable)
{
	memset(f, 0, sizeof(*f));
	f->st.cap = cap;
	f->st.ecap = ecap;
	f->st.rtaddr = scalable ? RTADDR_TTM_SCALABLE : 0;
	f->io.arch_priv = &f->st;
}

/* Decode w0:w1 (upper words zero in the 256-bit form); returns what the decoder returns. */
static int dec(struct fx *f, uint64_t w0, uint64_t w1, unsigned nwords, struct ims_inv *inv,
	       uint32_t *err)
{
	uint64_t w[4] = { w0, w1, 0, 0 };

	*err = 0xffffffffu;
	return vtd_decode_inv(&f->io, w, nwords, inv, err);
}

/* Expect rejection with `code`, and *inv untouched. */
static void expect_reject(struct fx *f, uint64_t w0, uint64_t w1, unsigned nwords, uint32_t code)
{
	struct ims_inv inv, before;
	uint32_t err;

	memset(&inv, 0xa5, sizeof(inv));
	before = inv;
	assert_int_equal(dec(f, w0, w1, nwords, &inv, &err), -EINVAL);
	assert_int_equal(err, code);
	assert_memory_equal(&inv, &before, sizeof(inv));
}

static void assert_inv_equal(const struct ims_inv *a, const struct ims_inv *b)
{
	assert_int_equal(a->targets, b->targets);
	assert_int_equal(a->scope, b->scope);
	assert_int_equal(a->flags, b->flags);
	assert_int_equal(a->has_domain, b->has_domain);
	assert_int_equal(a->has_pasid, b->has_pasid);
	assert_int_equal(a->domain, b->domain);
	assert_int_equal(a->pasid, b->pasid);
	assert_int_equal(a->sid_first, b->sid_first);
	assert_int_equal(a->sid_last, b->sid_last);
	assert_int_equal(a->sid_ignore, b->sid_ignore);
	assert_int_equal(a->addr_first, b->addr_first);
	assert_int_equal(a->addr_last, b->addr_last);
	assert_int_equal(a->ttl, b->ttl);
	assert_int_equal(a->granule_lg2, b->granule_lg2);
	assert_int_equal(a->status_addr, b->status_addr);
	assert_int_equal(a->status_data, b->status_data);
	assert_int_equal(a->arch_op, b->arch_op);
	assert_string_equal(a->arch_name, b->arch_name);
}

/*
 * Decode in the 128-bit form and, where the instance has ECAP.SMTS, in the
 * 256-bit form too; both must succeed and agree.  Returns the 128-bit result.
 */
static struct ims_inv dec_ok(struct fx *f, uint64_t w0, uint64_t w1)
{
	struct ims_inv a, b;
	uint32_t err;

	memset(&a, 0, sizeof(a));
	assert_int_equal(dec(f, w0, w1, 2, &a, &err), 0);
	assert_int_equal(err, VTD_IQE_NONE);
	if (f->st.ecap & ECAP_SMTS) {
		memset(&b, 0x5a, sizeof(b));
		assert_int_equal(dec(f, w0, w1, 4, &b, &err), 0);
		assert_int_equal(err, VTD_IQE_NONE);
		assert_inv_equal(&a, &b);
	}
	return a;
}

/* ---- 6.5.2.1 context-cache invalidate: type 1, G 5:4, DID 31:16, SID 47:32, FM 49:48 ---- */

static uint64_t cc_w0(unsigned g, uint16_t did, uint16_t sid, unsigned fm)
{
	return 0x1 | ((uint64_t)g << 4) | ((uint64_t)did << 16) | ((uint64_t)sid << 32) |
	       ((uint64_t)fm << 48);
}

static void test_6_5_2_1_cc_granularity(void **state)
{
	struct fx f;
	struct ims_inv inv;

	(void)state;
	fx_init(&f, CAP_ALL, ECAP_ALL, false);

	inv = dec_ok(&f, cc_w0(1, 0x55, 0x66, 0), 0);
	assert_int_equal(inv.targets, IMS_INV_T_CONTEXT);
	assert_int_equal(inv.scope, IMS_INV_SCOPE_ALL);
	assert_false(inv.has_domain);
	assert_false(inv.has_pasid);
	assert_int_equal(inv.flags, 0);
	assert_int_equal(inv.arch_op, 1);
	assert_string_equal(inv.arch_name, "context-cache invalidate");

	inv = dec_ok(&f, cc_w0(2, 0x1234, 0, 0), 0);
	assert_int_equal(inv.targets, IMS_INV_T_CONTEXT);
	assert_int_equal(inv.scope, IMS_INV_SCOPE_DOMAIN);
	assert_true(inv.has_domain);
	assert_int_equal(inv.domain, 0x1234);

	inv = dec_ok(&f, cc_w0(3, 0x1234, 0x0a13, 0), 0);
	assert_int_equal(inv.scope, IMS_INV_SCOPE_SOURCE);
	assert_int_equal(inv.sid_first, 0x0a13);
	assert_int_equal(inv.sid_last, 0x0a13);
	assert_false(inv.has_domain);

	/* G = 00b is reserved. */
	expect_reject(&f, cc_w0(0, 1, 2, 0), 0, 2, VTD_IQE_RSVD);

	/* Scalable mode: context entries have no DID, so domain-selective is global. */
	fx_init(&f, CAP_ALL, ECAP_ALL, true);
	inv = dec_ok(&f, cc_w0(2, 0x1234, 0, 0), 0);
	assert_int_equal(inv.scope, IMS_INV_SCOPE_ALL);
	assert_false(inv.has_domain);
}

static void test_6_5_2_1_cc_function_mask(void **state)
{
	static const struct {
		unsigned fm;
		uint16_t first, last, ignore;
	} t[] = {
		{ 0, 0x0a13, 0x0a13, 0 },  /* nothing masked */
		{ 1, 0x0a13, 0x0a17, 4 },  /* bit 2 masked */
		{ 2, 0x0a11, 0x0a17, 6 },  /* bits 2:1 masked */
		{ 3, 0x0a10, 0x0a17, 7 },  /* bits 2:0 masked: the whole device */
	};
	struct fx f;
	struct ims_inv inv;

	(void)state;
	fx_init(&f, CAP_ALL, ECAP_ALL, false);
	for (unsigned i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		inv = dec_ok(&f, cc_w0(3, 7, 0x0a13, t[i].fm), 0);
		assert_int_equal(inv.scope, IMS_INV_SCOPE_SOURCE);
		assert_int_equal(inv.sid_first, t[i].first);
		assert_int_equal(inv.sid_last, t[i].last);
		/* The masked bits are left out of the compare, not a range. */
		assert_int_equal(inv.sid_ignore, t[i].ignore);
	}
}

/* ---- 6.5.2.3 IOTLB invalidate: type 2, G 5:4, DW 6, DR 7, DID 31:16; AM 69:64, IH 70, ADDR 127:76 ---- */

static uint64_t iotlb_w0(unsigned g, uint16_t did)
{
	return 0x2 | ((uint64_t)g << 4) | ((uint64_t)did << 16);
}

static uint64_t iotlb_w1(uint64_t addr, unsigned am, unsigned ih)
{
	return (addr & ~0xfffull) | ((uint64_t)ih << 6) | am;
}

static void test_6_5_2_3_iotlb_global_domain(void **state)
{
	struct fx f;
	struct ims_inv inv;

	(void)state;
	fx_init(&f, CAP_ALL, ECAP_ALL, false);

	inv = dec_ok(&f, iotlb_w0(1, 0), 0);
	assert_int_equal(inv.targets, IMS_INV_T_IOTLB | IMS_INV_T_WALK);
	assert_int_equal(inv.scope, IMS_INV_SCOPE_ALL);
	assert_int_equal(inv.flags, IMS_INV_F_STAGE1 | IMS_INV_F_STAGE2);
	assert_false(inv.has_domain);
	assert_int_equal(inv.arch_op, 2);
	assert_string_equal(inv.arch_name, "IOTLB invalidate");

	inv = dec_ok(&f, iotlb_w0(2, 0xbeef), 0);
	assert_int_equal(inv.scope, IMS_INV_SCOPE_DOMAIN);
	assert_true(inv.has_domain);
	assert_int_equal(inv.domain, 0xbeef);
	assert_int_equal(inv.flags, IMS_INV_F_STAGE1 | IMS_INV_F_STAGE2);

	/* Drain bits honoured with CAP.DRD / CAP.DWD ... */
	inv = dec_ok(&f, iotlb_w0(2, 1) | (1ull << 6) | (1ull << 7), 0);
	assert_int_equal(inv.flags, IMS_INV_F_STAGE1 | IMS_INV_F_STAGE2 |
				    IMS_INV_F_DRAIN_READ | IMS_INV_F_DRAIN_WRITE);
	inv = dec_ok(&f, iotlb_w0(2, 1) | (1ull << 7), 0);   /* DR alone */
	assert_int_equal(inv.flags, IMS_INV_F_STAGE1 | IMS_INV_F_STAGE2 | IMS_INV_F_DRAIN_READ);
	inv = dec_ok(&f, iotlb_w0(2, 1) | (1ull << 6), 0);   /* DW alone */
	assert_int_equal(inv.flags, IMS_INV_F_STAGE1 | IMS_INV_F_STAGE2 | IMS_INV_F_DRAIN_WRITE);
	/* Each capability gates only its own bit. */
	fx_init(&f, CAP_PSI | CAP_MAMV(18) | CAP_DRD, ECAP_ALL, false);
	inv = dec_ok(&f, iotlb_w0(2, 1) | (1ull << 6) | (1ull << 7), 0);
	assert_int_equal(inv.flags, IMS_INV_F_STAGE1 | IMS_INV_F_STAGE2 | IMS_INV_F_DRAIN_READ);
	/* ... and ignored (not reserved) without them. */
	fx_init(&f, CAP_PSI | CAP_MAMV(18), ECAP_ALL, false);
	inv = dec_ok(&f, iotlb_w0(2, 1) | (1ull << 6) | (1ull << 7), 0);
	assert_int_equal(inv.flags, IMS_INV_F_STAGE1 | IMS_INV_F_STAGE2);

	/* G = 00b is reserved. */
	expect_reject(&f, iotlb_w0(0, 1), 0, 2, VTD_IQE_RSVD);
}

static void test_6_5_2_3_iotlb_page_selective(void **state)
{
	struct fx f;
	struct ims_inv inv;

	(void)state;
	fx_init(&f, CAP_ALL, ECAP_ALL, false);

	/* AM = 9 on a 2 MiB aligned address: exactly that 2 MiB. */
	inv = dec_ok(&f, iotlb_w0(3, 42), iotlb_w1(0x40200000, 9, 0));
	assert_int_equal(inv.targets, IMS_INV_T_IOTLB | IMS_INV_T_WALK);
	assert_int_equal(inv.scope, IMS_INV_SCOPE_RANGE);
	assert_int_equal(inv.flags, IMS_INV_F_STAGE2);
	assert_true(inv.has_domain);
	assert_int_equal(inv.domain, 42);
	assert_int_equal(inv.addr_first, 0x40200000);
	assert_int_equal(inv.addr_last, 0x40200000 + 0x200000 - 1);
	assert_int_equal(inv.granule_lg2, 12);

	/* AM = 0: one 4 KiB page; IH = 1 keeps the walk caches. */
	inv = dec_ok(&f, iotlb_w0(3, 42), iotlb_w1(0x7654321000ull, 0, 1));
	assert_int_equal(inv.addr_first, 0x7654321000ull);
	assert_int_equal(inv.addr_last, 0x7654321fffull);
	assert_int_equal(inv.flags, IMS_INV_F_STAGE2 | IMS_INV_F_LEAF);

	/* Address bits below the mask are masked off, not an error. */
	inv = dec_ok(&f, iotlb_w0(3, 42), iotlb_w1(0x40345000, 9, 0));
	assert_int_equal(inv.addr_first, 0x40200000);
	assert_int_equal(inv.addr_last, 0x403fffff);

	/* AM = MAMV is accepted, AM = MAMV + 1 is not. */
	inv = dec_ok(&f, iotlb_w0(3, 1), iotlb_w1(0x40000000, 18, 0));
	assert_int_equal(inv.addr_first, 0x40000000);
	assert_int_equal(inv.addr_last, 0x40000000 + (1ull << 30) - 1);
	expect_reject(&f, iotlb_w0(3, 1), iotlb_w1(0, 19, 0), 2, VTD_IQE_RSVD);

	/* Page-selective without CAP.PSI is rejected; domain-selective is fine. */
	fx_init(&f, CAP_MAMV(18), ECAP_ALL, false);
	expect_reject(&f, iotlb_w0(3, 1), iotlb_w1(0x1000, 0, 0), 2, VTD_IQE_RSVD);
	inv = dec_ok(&f, iotlb_w0(2, 1), 0);
	assert_int_equal(inv.scope, IMS_INV_SCOPE_DOMAIN);
}

static void test_6_5_2_3_iotlb_page_selective_scalable(void **state)
{
	struct fx f;
	struct ims_inv inv;

	(void)state;
	/*
	 * Scalable mode with first-stage support: first-stage and nested
	 * entries of the DID go whatever their address; the range and IH
	 * apply to second-stage entries.
	 */
	fx_init(&f, CAP_ALL, ECAP_ALL, true);
	inv = dec_ok(&f, iotlb_w0(3, 9), iotlb_w1(0x200000, 9, 1));
	assert_int_equal(inv.scope, IMS_INV_SCOPE_RANGE);
	assert_true(inv.has_domain);
	assert_int_equal(inv.domain, 9);
	assert_int_equal(inv.addr_first, 0x200000);
	assert_int_equal(inv.addr_last, 0x3fffff);
	assert_int_equal(inv.flags, IMS_INV_F_STAGE1 | IMS_INV_F_STAGE2 |
					    IMS_INV_F_STAGE1_ALL_ADDR | IMS_INV_F_LEAF);

	/* Scalable mode without first-stage or nesting: the range stands. */
	fx_init(&f, CAP_ALL, ECAP_ALL & ~(ECAP_FSTS | ECAP_NEST), true);
	inv = dec_ok(&f, iotlb_w0(3, 9), iotlb_w1(0x200000, 9, 1));
	assert_int_equal(inv.scope, IMS_INV_SCOPE_RANGE);
	assert_int_equal(inv.addr_first, 0x200000);
	assert_int_equal(inv.addr_last, 0x3fffff);
	assert_int_equal(inv.flags, IMS_INV_F_STAGE2 | IMS_INV_F_LEAF);
}

/* ---- 6.5.2.5 device-TLB invalidate: type 3, PFSID 15:12+63:52, MIP 20:16, SID 47:32; S 64, ADDR 127:76 ---- */

static uint64_t devtlb_w0(uint16_t sid)
{
	return 0x3 | ((uint64_t)sid << 32);
}

static void test_6_5_2_5_devtlb(void **state)
{
	struct fx f;
	struct ims_inv inv;

	(void)state;
	fx_init(&f, CAP_ALL, ECAP_ALL, false);

	/* S = 0: one page. MIP (20:16) is a hint, accepted. */
	inv = dec_ok(&f, devtlb_w0(0x0300) | (5ull << 16), 0x12345000ull);
	assert_int_equal(inv.targets, IMS_INV_T_DEVTLB);
	assert_int_equal(inv.scope, IMS_INV_SCOPE_RANGE);
	assert_int_equal(inv.flags, IMS_INV_F_STAGE1 | IMS_INV_F_STAGE2);
	assert_false(inv.has_domain);
	assert_false(inv.has_pasid);
	assert_int_equal(inv.sid_first, 0x0300);
	assert_int_equal(inv.sid_last, 0x0300);
	assert_int_equal(inv.addr_first, 0x12345000ull);
	assert_int_equal(inv.addr_last, 0x12345fffull);
	assert_int_equal(inv.granule_lg2, 12);
	assert_int_equal(inv.arch_op, 3);
	assert_string_equal(inv.arch_name, "device-TLB invalidate");

	/* S = 1, address bit 12 clear: 8 KiB. */
	inv = dec_ok(&f, devtlb_w0(0x0300), 0x12344000ull | 1);
	assert_int_equal(inv.addr_first, 0x12344000ull);
	assert_int_equal(inv.addr_last, 0x12345fffull);

	/* S = 1, bits 13:12 set, bit 14 clear: 32 KiB. */
	inv = dec_ok(&f, devtlb_w0(0x0300), 0x12343000ull | 1);
	assert_int_equal(inv.addr_first, 0x12340000ull);
	assert_int_equal(inv.addr_last, 0x12347fffull);

	/* S = 1, ADDR[63:12] all ones: everything. */
	inv = dec_ok(&f, devtlb_w0(0x0300), ~0xfffull | 1);
	assert_int_equal(inv.addr_first, 0);
	assert_int_equal(inv.addr_last, UINT64_MAX);

	/* PFSID with ECAP.DIT is fine. */
	inv = dec_ok(&f, devtlb_w0(0x0301) | (0x2ull << 12) | (0xabcull << 52), 0x1000);
	assert_int_equal(inv.sid_first, 0x0301);

	/* Without ECAP.DIT PFSID is reserved, each half. */
	fx_init(&f, CAP_ALL, ECAP_ALL & ~ECAP_DIT, false);
	expect_reject(&f, devtlb_w0(0x0301) | (0x2ull << 12), 0x1000, 2, VTD_IQE_RSVD);
	expect_reject(&f, devtlb_w0(0x0301) | (0x1ull << 52), 0x1000, 2, VTD_IQE_RSVD);

	/* Without ECAP.DT the descriptor type does not exist. */
	fx_init(&f, CAP_ALL, ECAP_ALL & ~ECAP_DT, false);
	expect_reject(&f, devtlb_w0(0x0300), 0x1000, 2, VTD_IQE_TYPE);
}

/* ---- 6.5.2.7 interrupt entry cache: type 4, G 4, IM 31:27, IIDX 47:32 ---- */

static void test_6_5_2_7_iec(void **state)
{
	struct fx f;
	struct ims_inv inv;

	(void)state;
	fx_init(&f, CAP_ALL, ECAP_ALL, false);

	inv = dec_ok(&f, 0x4, 0);
	assert_int_equal(inv.targets, IMS_INV_T_IEC);
	assert_int_equal(inv.scope, IMS_INV_SCOPE_ALL);
	assert_int_equal(inv.arch_op, 4);
	assert_string_equal(inv.arch_name, "interrupt entry cache invalidate");

	/* Index-selective: IIDX 0x25, IM 2 -> indexes 0x24..0x27. */
	inv = dec_ok(&f, 0x4 | (1ull << 4) | (2ull << 27) | (0x25ull << 32), 0);
	assert_int_equal(inv.scope, IMS_INV_SCOPE_RANGE);
	assert_int_equal(inv.addr_first, 0x24);
	assert_int_equal(inv.addr_last, 0x27);
	assert_int_equal(inv.granule_lg2, 0);

	/* IM beyond ECAP.MHMV (15 here) is rejected. */
	expect_reject(&f, 0x4 | (1ull << 4) | (16ull << 27), 0, 2, VTD_IQE_RSVD);

	fx_init(&f, CAP_ALL, ECAP_ALL & ~ECAP_IR, false);
	expect_reject(&f, 0x4, 0, 2, VTD_IQE_TYPE);
}

/* ---- 6.5.2.8 invalidation wait: type 5, IF 4, SW 5, FN 6, PD 7, data 63:32; address 127:66 ---- */

static void test_6_5_2_8_wait(void **state)
{
	struct fx f;
	struct ims_inv inv;

	(void)state;
	fx_init(&f, CAP_ALL, ECAP_ALL, false);

	inv = dec_ok(&f, 0x5 | (1ull << 4) | (1ull << 5) | (1ull << 6) | (0xdeadbeefull << 32),
		     0x7ffff000ull | 0x8);
	assert_int_equal(inv.targets, IMS_INV_T_SYNC);
	assert_int_equal(inv.scope, IMS_INV_SCOPE_NONE);
	assert_int_equal(inv.flags, IMS_INV_F_INTR | IMS_INV_F_STATUS_WRITE | IMS_INV_F_FENCE);
	assert_int_equal(inv.status_addr, 0x7ffff008ull);
	assert_int_equal(inv.status_data, 0xdeadbeef);
	assert_int_equal(inv.arch_op, 5);
	assert_string_equal(inv.arch_name, "invalidation wait");

	/* Without SW there is no status write to report. */
	inv = dec_ok(&f, 0x5 | (1ull << 4) | (0x1234ull << 32), 0x1000);
	assert_int_equal(inv.flags, IMS_INV_F_INTR);
	assert_int_equal(inv.status_addr, 0);
	assert_int_equal(inv.status_data, 0);

	/* PD with ECAP.PDS accepted; without it reserved. */
	inv = dec_ok(&f, 0x5 | (1ull << 7), 0);
	assert_int_equal(inv.flags, 0);
	fx_init(&f, CAP_ALL, ECAP_ALL & ~ECAP_PDS, false);
	expect_reject(&f, 0x5 | (1ull << 7), 0, 2, VTD_IQE_RSVD);
}

/* ---- 6.5.2.4 PASID-based IOTLB: type 6, G 5:4, DID 31:16, PASID 51:32; AM 69:64, IH 70, ADDR 127:76 ---- */

static uint64_t piotlb_w0(unsigned g, uint16_t did, uint32_t pasid)
{
	return 0x6 | ((uint64_t)g << 4) | ((uint64_t)did << 16) | ((uint64_t)pasid << 32);
}

static void test_6_5_2_4_piotlb(void **state)
{
	struct fx f;
	struct ims_inv inv;

	(void)state;
	fx_init(&f, CAP_ALL, ECAP_ALL, true);

	inv = dec_ok(&f, piotlb_w0(2, 7, 0xfffff), 0);
	assert_int_equal(inv.targets, IMS_INV_T_IOTLB | IMS_INV_T_WALK);
	assert_int_equal(inv.scope, IMS_INV_SCOPE_PASID);
	assert_int_equal(inv.flags, IMS_INV_F_STAGE1 | IMS_INV_F_KEEP_GLOBAL);
	assert_true(inv.has_domain);
	assert_int_equal(inv.domain, 7);
	assert_true(inv.has_pasid);
	assert_int_equal(inv.pasid, 0xfffff);
	assert_int_equal(inv.arch_op, 6);
	assert_string_equal(inv.arch_name, "PASID-based-IOTLB invalidate");

	inv = dec_ok(&f, piotlb_w0(3, 7, 0x42), iotlb_w1(0x7f0000200000ull, 9, 1));
	assert_int_equal(inv.scope, IMS_INV_SCOPE_RANGE);
	assert_int_equal(inv.flags, IMS_INV_F_STAGE1 | IMS_INV_F_LEAF);
	assert_int_equal(inv.pasid, 0x42);
	assert_int_equal(inv.addr_first, 0x7f0000200000ull);
	assert_int_equal(inv.addr_last, 0x7f00003fffffull);
	assert_int_equal(inv.granule_lg2, 12);

	/* CAP.MAMV bounds only the second-stage IOTLB descriptor. */
	inv = dec_ok(&f, piotlb_w0(3, 7, 0x42), iotlb_w1(0, 36, 0));
	assert_int_equal(inv.addr_first, 0);
	assert_int_equal(inv.addr_last, (1ull << 48) - 1);
	/* AM = 63: the whole space, without overflow. */
	inv = dec_ok(&f, piotlb_w0(3, 7, 0x42), iotlb_w1(0x1000, 63, 0));
	assert_int_equal(inv.addr_first, 0);
	assert_int_equal(inv.addr_last, UINT64_MAX);

	/* G = 00b and 01b are reserved. */
	expect_reject(&f, piotlb_w0(0, 7, 1), 0, 2, VTD_IQE_RSVD);
	expect_reject(&f, piotlb_w0(1, 7, 1), 0, 2, VTD_IQE_RSVD);

	fx_init(&f, CAP_ALL, ECAP_ALL & ~ECAP_SMTS, false);
	expect_reject(&f, piotlb_w0(2, 7, 1), 0, 2, VTD_IQE_TYPE);
}

/* ---- 6.5.2.2 PASID-cache: type 7, G 5:4, DID 31:16, PASID 51:32 ---- */

static uint64_t pc_w0(unsigned g, uint16_t did, uint32_t pasid)
{
	return 0x7 | ((uint64_t)g << 4) | ((uint64_t)did << 16) | ((uint64_t)pasid << 32);
}

static void test_6_5_2_2_pc(void **state)
{
	struct fx f;
	struct ims_inv inv;

	(void)state;
	fx_init(&f, CAP_ALL, ECAP_ALL, true);

	inv = dec_ok(&f, pc_w0(0, 0x321, 5), 0);
	assert_int_equal(inv.targets, IMS_INV_T_PASID);
	assert_int_equal(inv.scope, IMS_INV_SCOPE_DOMAIN);
	assert_true(inv.has_domain);
	assert_int_equal(inv.domain, 0x321);
	assert_false(inv.has_pasid);
	assert_int_equal(inv.arch_op, 7);
	assert_string_equal(inv.arch_name, "PASID-cache invalidate");

	inv = dec_ok(&f, pc_w0(1, 0x321, 0x80001), 0);
	assert_int_equal(inv.scope, IMS_INV_SCOPE_PASID);
	assert_true(inv.has_domain);
	assert_int_equal(inv.domain, 0x321);
	assert_true(inv.has_pasid);
	assert_int_equal(inv.pasid, 0x80001);

	inv = dec_ok(&f, pc_w0(3, 0x321, 5), 0);
	assert_int_equal(inv.scope, IMS_INV_SCOPE_ALL);
	assert_false(inv.has_domain);
	assert_false(inv.has_pasid);

	expect_reject(&f, pc_w0(2, 1, 1), 0, 2, VTD_IQE_RSVD);

	fx_init(&f, CAP_ALL, ECAP_ALL & ~ECAP_SMTS, false);
	expect_reject(&f, pc_w0(3, 0, 0), 0, 2, VTD_IQE_TYPE);
}

/* ---- 6.5.2.6 PASID-based device-TLB: type 8, MIP 8:4, PFSID 15:12+63:52, SID 31:16, PASID 51:32;
 *      G 64, S 75, ADDR 127:76 ---- */

static uint64_t pdevtlb_w0(uint16_t sid, uint32_t pasid)
{
	return 0x8 | ((uint64_t)sid << 16) | ((uint64_t)pasid << 32);
}

static void test_6_5_2_6_pdevtlb(void **state)
{
	struct fx f;
	struct ims_inv inv;

	(void)state;
	fx_init(&f, CAP_ALL, ECAP_ALL, true);

	inv = dec_ok(&f, pdevtlb_w0(0x0410, 0x12345) | (3ull << 4), 0xabcde000ull);
	assert_int_equal(inv.targets, IMS_INV_T_DEVTLB);
	assert_int_equal(inv.scope, IMS_INV_SCOPE_RANGE);
	assert_int_equal(inv.flags, IMS_INV_F_STAGE1 | IMS_INV_F_STAGE2);
	assert_int_equal(inv.sid_first, 0x0410);
	assert_int_equal(inv.sid_last, 0x0410);
	assert_true(inv.has_pasid);
	assert_int_equal(inv.pasid, 0x12345);
	assert_false(inv.has_domain);
	assert_int_equal(inv.addr_first, 0xabcde000ull);
	assert_int_equal(inv.addr_last, 0xabcdefffull);
	assert_int_equal(inv.arch_op, 8);
	assert_string_equal(inv.arch_name, "PASID-based-device-TLB invalidate");

	/* S (bit 75) with ADDR bits 14:12 = 011b: 32 KiB. */
	inv = dec_ok(&f, pdevtlb_w0(0x0410, 1), 0xabcdb000ull | (1ull << 11));
	assert_int_equal(inv.addr_first, 0xabcd8000ull);
	assert_int_equal(inv.addr_last, 0xabcdffffull);

	/* G (bit 64): globals of every PASID too, so no PASID restriction. */
	inv = dec_ok(&f, pdevtlb_w0(0x0410, 0x12345), 0xabcde000ull | 1);
	assert_false(inv.has_pasid);

	expect_reject(&f, pdevtlb_w0(0x0410, 1), 0x1000 | (1ull << 1), 2, VTD_IQE_RSVD);

	fx_init(&f, CAP_ALL, ECAP_ALL & ~ECAP_DIT, true);
	expect_reject(&f, pdevtlb_w0(0x0410, 1) | (1ull << 12), 0x1000, 2, VTD_IQE_RSVD);
	expect_reject(&f, pdevtlb_w0(0x0410, 1) | (1ull << 63), 0x1000, 2, VTD_IQE_RSVD);

	fx_init(&f, CAP_ALL, ECAP_ALL & ~ECAP_DT, true);
	expect_reject(&f, pdevtlb_w0(0x0410, 1), 0x1000, 2, VTD_IQE_TYPE);
	fx_init(&f, CAP_ALL, ECAP_ALL & ~ECAP_SMTS, false);
	expect_reject(&f, pdevtlb_w0(0x0410, 1), 0x1000, 2, VTD_IQE_TYPE);
}

/* ---- malformed descriptors ---- */

static void test_6_5_2_unknown_type(void **state)
{
	static const uint64_t w0[] = {
		0x0,                      /* type 0 */
		0x9,                      /* page-group response: not modelled */
		0xa, 0xf,
		0x1 | (1ull << 9),        /* type[6:4] = 1 with type[3:0] = 1: type 0x11 */
		0x5 | (7ull << 9),        /* type 0x75 */
	};
	struct fx f;

	(void)state;
	fx_init(&f, CAP_ALL, ECAP_ALL, true);
	for (unsigned i = 0; i < sizeof(w0) / sizeof(w0[0]); i++) {
		expect_reject(&f, w0[i], 0, 2, VTD_IQE_TYPE);
		expect_reject(&f, w0[i], 0, 4, VTD_IQE_TYPE);
	}
}

/* One valid descriptor per type and a reserved bit for it, in word 0 and word 1. */
static const struct rsvd_case {
	const char *what;
	uint64_t w0, w1;
	uint64_t rsvd0, rsvd1;       /* 0: no such bit to try */
} rsvd_cases[] = {
	{ "cc bits 8:6",      0x1 | (1ull << 4), 0, 1ull << 6, 1ull << 0 },
	{ "cc bits 15:12",    0x1 | (1ull << 4), 0, 1ull << 12, 1ull << 63 },
	{ "cc bits 63:50",    0x1 | (1ull << 4), 0, 1ull << 50, 1ull << 32 },
	{ "iotlb bit 8",      0x2 | (1ull << 4), 0, 1ull << 8, 1ull << 7 },
	{ "iotlb bits 15:12", 0x2 | (1ull << 4), 0, 1ull << 15, 1ull << 11 },
	{ "iotlb bits 63:32", 0x2 | (1ull << 4), 0, 1ull << 32, 1ull << 9 },
	{ "devtlb bits 8:4",  0x3, 0x1000, 1ull << 4, 1ull << 1 },
	{ "devtlb 31:21",     0x3, 0x1000, 1ull << 21, 1ull << 11 },
	{ "devtlb 51:48",     0x3, 0x1000, 1ull << 48, 1ull << 5 },
	{ "iec bits 8:5",     0x4, 0, 1ull << 5, 1ull << 0 },
	{ "iec bits 26:12",   0x4, 0, 1ull << 12, 1ull << 40 },
	{ "iec bits 63:48",   0x4, 0, 1ull << 48, 1ull << 63 },
	{ "wait bit 8",       0x5, 0, 1ull << 8, 1ull << 0 },
	{ "wait bits 31:12",  0x5, 0, 1ull << 31, 1ull << 1 },
	{ "piotlb bits 8:6",  0x6 | (2ull << 4), 0, 1ull << 6, 1ull << 7 },
	{ "piotlb 15:12",     0x6 | (2ull << 4), 0, 1ull << 12, 1ull << 11 },
	{ "piotlb 63:52",     0x6 | (2ull << 4), 0, 1ull << 52, 1ull << 8 },
	{ "pc bits 8:6",      0x7, 0, 1ull << 8, 1ull << 0 },
	{ "pc bits 15:12",    0x7, 0, 1ull << 13, 1ull << 12 },
	{ "pc bits 63:52",    0x7, 0, 1ull << 63, 1ull << 62 },
	{ "pdevtlb 74:65",    0x8, 0x1000, 0, 1ull << 10 },
};

static void test_6_5_2_reserved_bits(void **state)
{
	struct fx f;
	struct ims_inv inv;

	(void)state;
	/* ECAP.DIT clear would make PFSID reserved; keep it set to test the rest. */
	fx_init(&f, CAP_ALL, ECAP_ALL, true);
	for (unsigned i = 0; i < sizeof(rsvd_cases) / sizeof(rsvd_cases[0]); i++) {
		const struct rsvd_case *c = &rsvd_cases[i];

		print_message("# %s\n", c->what);
		inv = dec_ok(&f, c->w0, c->w1);
		(void)inv;
		if (c->rsvd0) {
			expect_reject(&f, c->w0 | c->rsvd0, c->w1, 2, VTD_IQE_RSVD);
			expect_reject(&f, c->w0 | c->rsvd0, c->w1, 4, VTD_IQE_RSVD);
		}
		if (c->rsvd1) {
			expect_reject(&f, c->w0, c->w1 | c->rsvd1, 2, VTD_IQE_RSVD);
			expect_reject(&f, c->w0, c->w1 | c->rsvd1, 4, VTD_IQE_RSVD);
		}
	}
}

static void test_6_5_2_width(void **state)
{
	uint64_t w[8] = { 0x5, 0, 0, 0, 0, 0, 0, 0 };
	struct fx f;
	struct ims_inv inv;
	uint32_t err;

	(void)state;
	fx_init(&f, CAP_ALL, ECAP_ALL, true);
	for (unsigned n = 0; n <= 8; n++) {
		if (n == 2 || n == 4)
			continue;
		err = 0;
		assert_int_equal(vtd_decode_inv(&f.io, w, n, &inv, &err), -EINVAL);
		assert_int_equal(err, VTD_IQE_WIDTH);
	}

	/* Bits 255:128 are reserved for every type, in word 2 and in word 3. */
	for (unsigned i = 0; i < sizeof(rsvd_cases) / sizeof(rsvd_cases[0]); i++) {
		uint64_t d[4] = { rsvd_cases[i].w0, rsvd_cases[i].w1, 0, 0 };

		for (unsigned k = 2; k < 4; k++) {
			struct ims_inv before;

			memset(&inv, 0xa5, sizeof(inv));
			before = inv;
			d[k] = 1ull << (k == 2 ? 0 : 63);
			assert_int_equal(vtd_decode_inv(&f.io, d, 4, &inv, &err), -EINVAL);
			assert_int_equal(err, VTD_IQE_RSVD);
			assert_memory_equal(&inv, &before, sizeof(inv));
			d[k] = 0;
		}
	}

	/* 256-bit descriptors need ECAP.SMTS (IQA_REG.DW = 1). */
	fx_init(&f, CAP_ALL, ECAP_ALL & ~ECAP_SMTS, false);
	expect_reject(&f, 0x5, 0, 4, VTD_IQE_WIDTH);
	expect_reject(&f, 0x1 | (1ull << 4), 0, 4, VTD_IQE_WIDTH);
}

/* A failed decode leaves the previous request exactly as it was. */
static void test_6_5_2_inv_unchanged_on_error(void **state)
{
	struct fx f;
	struct ims_inv inv, keep;
	uint32_t err;

	(void)state;
	fx_init(&f, CAP_ALL, ECAP_ALL, false);
	inv = dec_ok(&f, iotlb_w0(3, 42), iotlb_w1(0x40200000, 9, 1));
	keep = inv;

	/* Fails late: after the granularity decode filled a local request. */
	assert_int_equal(dec(&f, iotlb_w0(3, 42), iotlb_w1(0x40200000, 40, 1), 2, &inv, &err),
			 -EINVAL);
	assert_int_equal(err, VTD_IQE_RSVD);
	assert_inv_equal(&inv, &keep);
	assert_memory_equal(&inv, &keep, sizeof(inv));

	assert_int_equal(dec(&f, 0x9, 0, 2, &inv, &err), -EINVAL);
	assert_int_equal(err, VTD_IQE_TYPE);
	assert_memory_equal(&inv, &keep, sizeof(inv));
}

/*
 * Encoders (inv_queue.c, vtd.h): each descriptor equals the one built from
 * the spec's bit positions and decodes to the intended neutral request.
 */
static void test_6_5_2_encoders_iotlb(void **state)
{
	struct fx f;
	struct ims_inv d;
	uint64_t w[2];

	(void)state;
	fx_init(&f, CAP_ALL, ECAP_ALL, true);
	/* 6.5.2.3 page-selective: type 2, G 11b, DID 31:16; AM 69:64, IH 70, ADDR 127:76. */
	vtd_desc_iotlb_psi(w, 7, 0x12345000, 3, true, false, false);
	assert_int_equal(w[0], 0x2 | (3ull << 4) | (7ull << 16));
	assert_int_equal(w[1], 0x12345000ull | 3 | (1ull << 6));
	d = dec_ok(&f, w[0], w[1]);
	assert_int_equal(d.targets, IMS_INV_T_IOTLB | IMS_INV_T_WALK);
	assert_int_equal(d.scope, IMS_INV_SCOPE_RANGE);
	assert_true(d.has_domain);
	assert_int_equal(d.domain, 7);
	assert_int_equal(d.addr_first, 0x12340000);
	assert_int_equal(d.addr_last, 0x12347fff);
	assert_true(d.flags & IMS_INV_F_LEAF);
	assert_true(d.flags & IMS_INV_F_STAGE2);
	/* Drain bits only with CAP.DRD/DWD, present here. */
	vtd_desc_iotlb_psi(w, 7, 0x1000, 0, false, true, true);
	assert_int_equal(w[0], 0x2 | (3ull << 4) | (1ull << 6) | (1ull << 7) | (7ull << 16));
	d = dec_ok(&f, w[0], w[1]);
	assert_true(d.flags & IMS_INV_F_DRAIN_READ);
	assert_true(d.flags & IMS_INV_F_DRAIN_WRITE);
	assert_false(d.flags & IMS_INV_F_LEAF);

	/* Domain-selective (G 10b) and global (G 01b). */
	vtd_desc_iotlb_dsi(w, 0x1234, false, false);
	assert_int_equal(w[0], 0x2 | (2ull << 4) | (0x1234ull << 16));
	assert_int_equal(w[1], 0);
	d = dec_ok(&f, w[0], w[1]);
	assert_int_equal(d.scope, IMS_INV_SCOPE_DOMAIN);
	assert_int_equal(d.domain, 0x1234);
	vtd_desc_iotlb_global(w, false, false);
	assert_int_equal(w[0], 0x2 | (1ull << 4));
	d = dec_ok(&f, w[0], w[1]);
	assert_int_equal(d.scope, IMS_INV_SCOPE_ALL);
	assert_false(d.has_domain);
}

static void test_6_5_2_encoders_pasid_based(void **state)
{
	struct fx f;
	struct ims_inv d;
	uint64_t w[2];

	(void)state;
	fx_init(&f, CAP_ALL, ECAP_ALL, true);
	/* 6.5.2.4: type 6, G 11b page / 10b PASID, DID 31:16, PASID 51:32. */
	vtd_desc_piotlb(w, 3, 0x12345, true, 0x7f0000004000ull, 2, true);
	assert_int_equal(w[0], 0x6 | (3ull << 4) | (3ull << 16) | (0x12345ull << 32));
	assert_int_equal(w[1], 0x7f0000004000ull | 2 | (1ull << 6));
	d = dec_ok(&f, w[0], w[1]);
	assert_int_equal(d.scope, IMS_INV_SCOPE_RANGE);
	assert_int_equal(d.flags, IMS_INV_F_STAGE1 | IMS_INV_F_LEAF);
	assert_int_equal(d.domain, 3);
	assert_int_equal(d.pasid, 0x12345);
	assert_int_equal(d.addr_first, 0x7f0000004000ull);
	assert_int_equal(d.addr_last, 0x7f0000007fffull);
	vtd_desc_piotlb(w, 3, 9, false, 0x5000, 4, true);
	assert_int_equal(w[0], 0x6 | (2ull << 4) | (3ull << 16) | (9ull << 32));
	assert_int_equal(w[1], 0);
	d = dec_ok(&f, w[0], w[1]);
	assert_int_equal(d.scope, IMS_INV_SCOPE_PASID);
	assert_true(d.flags & IMS_INV_F_KEEP_GLOBAL);
	assert_int_equal(d.pasid, 9);

	/* 6.5.2.2: type 7, G 01b PASID-selective / 00b domain-selective. */
	vtd_desc_pc_pasid(w, 4, 77);
	assert_int_equal(w[0], 0x7 | (1ull << 4) | (4ull << 16) | (77ull << 32));
	d = dec_ok(&f, w[0], w[1]);
	assert_int_equal(d.targets, IMS_INV_T_PASID);
	assert_int_equal(d.scope, IMS_INV_SCOPE_PASID);
	assert_int_equal(d.pasid, 77);
	vtd_desc_pc_domain(w, 4);
	assert_int_equal(w[0], 0x7 | (4ull << 16));
	d = dec_ok(&f, w[0], w[1]);
	assert_int_equal(d.scope, IMS_INV_SCOPE_DOMAIN);
	assert_int_equal(d.domain, 4);

	/* 6.5.2.1: type 1, G 11b device-selective (SID 47:32), 01b global. */
	vtd_desc_cc_device(w, 4, 0x0210);
	assert_int_equal(w[0], 0x1 | (3ull << 4) | (4ull << 16) | (0x0210ull << 32));
	d = dec_ok(&f, w[0], w[1]);
	assert_int_equal(d.targets, IMS_INV_T_CONTEXT);
	assert_int_equal(d.scope, IMS_INV_SCOPE_SOURCE);
	assert_int_equal(d.sid_first, 0x0210);
	assert_int_equal(d.sid_last, 0x0210);
	vtd_desc_cc_global(w);
	assert_int_equal(w[0], 0x1 | (1ull << 4));
	assert_int_equal(dec_ok(&f, w[0], w[1]).scope, IMS_INV_SCOPE_ALL);
}

static void test_6_5_2_8_encoder_wait(void **state)
{
	struct fx f;
	struct ims_inv d;
	uint64_t w[2];

	(void)state;
	fx_init(&f, CAP_ALL, ECAP_ALL, true);
	/* Type 5, SW 5, FN 6, status data 63:32; status address 127:66. */
	vtd_desc_wait(w, 0x20004, 0xabcd, true, true);
	assert_int_equal(w[0], 0x5 | (1ull << 5) | (1ull << 6) | (0xabcdull << 32));
	assert_int_equal(w[1], 0x20004);
	d = dec_ok(&f, w[0], w[1]);
	assert_int_equal(d.targets, IMS_INV_T_SYNC);
	assert_int_equal(d.scope, IMS_INV_SCOPE_NONE);
	assert_int_equal(d.flags, IMS_INV_F_STATUS_WRITE | IMS_INV_F_FENCE);
	assert_int_equal(d.status_addr, 0x20004);
	assert_int_equal(d.status_data, 0xabcd);
	/* Without SW the status fields stay clear. */
	vtd_desc_wait(w, 0x20004, 0xabcd, false, false);
	assert_int_equal(w[0], 0x5);
	assert_int_equal(w[1], 0);
	assert_int_equal(dec_ok(&f, w[0], w[1]).flags, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_6_5_2_1_cc_granularity),
		cmocka_unit_test(test_6_5_2_1_cc_function_mask),
		cmocka_unit_test(test_6_5_2_2_pc),
		cmocka_unit_test(test_6_5_2_3_iotlb_global_domain),
		cmocka_unit_test(test_6_5_2_3_iotlb_page_selective),
		cmocka_unit_test(test_6_5_2_3_iotlb_page_selective_scalable),
		cmocka_unit_test(test_6_5_2_4_piotlb),
		cmocka_unit_test(test_6_5_2_5_devtlb),
		cmocka_unit_test(test_6_5_2_6_pdevtlb),
		cmocka_unit_test(test_6_5_2_7_iec),
		cmocka_unit_test(test_6_5_2_8_wait),
		cmocka_unit_test(test_6_5_2_unknown_type),
		cmocka_unit_test(test_6_5_2_reserved_bits),
		cmocka_unit_test(test_6_5_2_width),
		cmocka_unit_test(test_6_5_2_inv_unchanged_on_error),
		cmocka_unit_test(test_6_5_2_encoders_iotlb),
		cmocka_unit_test(test_6_5_2_encoders_pasid_based),
		cmocka_unit_test(test_6_5_2_8_encoder_wait),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
