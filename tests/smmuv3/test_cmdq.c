/*
 * test_cmdq.c - SMMUv3 command decoding and command-queue consumption.
 *
 * Reference: Arm IHI 0070 (SMMUv3), chapter 4 (command formats, 4.4.1 range
 * invalidation), 3.5 (queues), 6.3 (IDR0/1/3, CR0, CR2, GERROR/GERRORN,
 * CMDQ_BASE/PROD/CONS), 7.1 (command queue errors).
 *
 * Commands are built here from the spec's bit positions with plain
 * arithmetic, never from cmdq.c's masks, so a wrong mask in the decoder
 * cannot hide behind the same wrong mask in the test.  The instance is a
 * bare struct smmu_state hung off a bare struct ims_iommu with its own
 * memory: nothing else is read, and no model is parsed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <errno.h>

#include <cmocka.h>

#include <iommusim/inv.h>
#include <iommusim/mem.h>
#include "formats/smmuv3/smmu_int.h"
#include "cmd_words.h"

/* SMMU_IDR0 (6.3.1). */
#define IDR0_S2P (1u << 0)
#define IDR0_S1P (1u << 1)
#define IDR0_HYP (1u << 9)
#define IDR0_ATS (1u << 10)
#define IDR0_ASID16 (1u << 12)
#define IDR0_MSI (1u << 13)
#define IDR0_SEV (1u << 14)
#define IDR0_PRI (1u << 16)
#define IDR0_VMID16 (1u << 18)
#define IDR0_STALL_MODEL(v) ((uint32_t)(v) << 24)  /* 25:24 */
#define IDR1_CMDQS(v) ((uint32_t)(v) << 21)        /* 25:21 */
#define IDR3_MPAM (1u << 7)
#define IDR3_RIL (1u << 10)
#define CR0_CMDQEN (1u << 3)
#define CR2_E2H (1u << 0)
#define GERROR_CMDQ_ERR (1u << 0)
#define GERROR_MSI_CMDQ_ABT_ERR (1u << 4)
#define CONS_ERR(v) ((uint32_t)(v) << 24)          /* 30:24 */

#define IDR0_ALL (IDR0_S2P | IDR0_S1P | IDR0_HYP | IDR0_ATS | IDR0_ASID16 | IDR0_MSI | \
		  IDR0_SEV | IDR0_PRI | IDR0_VMID16 | IDR0_STALL_MODEL(0))

#define QBASE 0x100000ull
#define RAM_LEN 0x10000ull

struct fx {
	struct smmu_state st;
	struct ims_iommu io;
};

static void fx_init(struct fx *f, uint32_t idr0, uint32_t idr3)
{
	memset(f, 0, sizeof(*f));
	f->st.idr[0] = idr0;
	f->st.idr[1] = IDR1_CMDQS(19);
	f->st.idr[3] = idr3;
	f->io.arch_priv = &f->st;
	f->io.mem = ims_mem_new(48);
	assert_non_null(f->io.mem);
	assert_int_equal(ims_mem_add_ram(f->io.mem, QBASE, RAM_LEN), 0);
}

static void fx_fini(struct fx *f)
{
	ims_mem_free(f->io.mem);
}

/* ---- Raw command words ---- */

/* Word 0 of the StreamID-addressed commands: SSec 10, SSV 11, SSID 31:12, SID 63:32. */
static uint64_t sid_w0(unsigned op, uint32_t sid, uint32_t ssid, int ssv, int ssec)
{
	return op | ((uint64_t)ssec << 10) | ((uint64_t)ssv << 11) | ((uint64_t)ssid << 12) |
	       ((uint64_t)sid << 32);
}

static int dec(struct fx *f, uint64_t w0, uint64_t w1, struct ims_inv *inv, uint32_t *err)
{
	uint64_t w[2] = { w0, w1 };

	*err = 0xffffffffu;
	return smmu_decode_cmd(&f->io, w, 2, inv, err);
}

static struct ims_inv dec_ok(struct fx *f, uint64_t w0, uint64_t w1)
{
	struct ims_inv inv;
	uint32_t err;

	memset(&inv, 0x5a, sizeof(inv));
	assert_int_equal(dec(f, w0, w1, &inv, &err), 0);
	assert_int_equal(err, SMMU_CERROR_NONE);
	return inv;
}

/* Expect CERROR_ILL with *inv untouched. */
static void expect_ill(struct fx *f, uint64_t w0, uint64_t w1)
{
	struct ims_inv inv, before;
	uint32_t err;

	memset(&inv, 0xa5, sizeof(inv));
	before = inv;
	assert_int_equal(dec(f, w0, w1, &inv, &err), -EINVAL);
	assert_int_equal(err, SMMU_CERROR_ILL);
	assert_memory_equal(&inv, &before, sizeof(inv));
}

/* Field-by-field expectation (arch_name compared as a string). */
static void assert_inv(const struct ims_inv *a, const struct ims_inv *e)
{
	assert_int_equal(a->targets, e->targets);
	assert_int_equal(a->scope, e->scope);
	assert_int_equal(a->flags, e->flags);
	assert_int_equal(a->has_domain, e->has_domain);
	assert_int_equal(a->has_pasid, e->has_pasid);
	assert_int_equal(a->domain, e->domain);
	assert_int_equal(a->pasid, e->pasid);
	assert_int_equal(a->sid_first, e->sid_first);
	assert_int_equal(a->sid_last, e->sid_last);
	assert_int_equal(a->addr_first, e->addr_first);
	assert_int_equal(a->addr_last, e->addr_last);
	assert_int_equal(a->ttl, e->ttl);
	assert_int_equal(a->granule_lg2, e->granule_lg2);
	assert_int_equal(a->status_addr, e->status_addr);
	assert_int_equal(a->status_data, e->status_data);
	assert_int_equal(a->arch_op, e->arch_op);
	assert_string_equal(a->arch_name, e->arch_name);
}

#define T_TLB (IMS_INV_T_IOTLB | IMS_INV_T_WALK)
#define F_S1 IMS_INV_F_STAGE1
/* The VA forms with an ASID also reach global entries of any ASID (TLBI VAE1). */
#define F_GANY IMS_INV_F_GLOBAL_ANY_PASID
#define F_S2 IMS_INV_F_STAGE2

/* ---- 4.2 prefetch ---- */

static void test_4_2_prefetch(void **state)
{
	struct fx f;
	struct ims_inv inv;

	(void)state;
	fx_init(&f, IDR0_ALL, IDR3_RIL);
	inv = dec_ok(&f, sid_w0(OP_PREFETCH_CONFIG, 0x42, 7, 1, 0), 0);
	assert_inv(&inv, &(struct ims_inv){ .scope = IMS_INV_SCOPE_NONE, .sid_first = 0x42,
					     .sid_last = 0x42, .arch_op = 0x01,
					     .arch_name = "CMD_PREFETCH_CONFIG" });
	inv = dec_ok(&f, sid_w0(OP_PREFETCH_ADDR, 0x43, 0, 0, 0), 0x80000000ull | 3);
	assert_inv(&inv, &(struct ims_inv){ .scope = IMS_INV_SCOPE_NONE, .sid_first = 0x43,
					     .sid_last = 0x43, .arch_op = 0x02,
					     .arch_name = "CMD_PREFETCH_ADDR" });
	/* SSec = 1 on the Non-secure queue. */
	expect_ill(&f, sid_w0(OP_PREFETCH_CONFIG, 0x42, 0, 0, 1), 0);
	expect_ill(&f, sid_w0(OP_PREFETCH_ADDR, 0x42, 0, 0, 1), 0);
	fx_fini(&f);
}

/* ---- 4.3 configuration invalidation ---- */

static void test_4_3_cfgi_ste(void **state)
{
	struct fx f;
	struct ims_inv inv;

	(void)state;
	fx_init(&f, IDR0_ALL, IDR3_RIL);
	/* Leaf = 0: STE, its L1STD and the CDs fetched through it. */
	inv = dec_ok(&f, sid_w0(OP_CFGI_STE, 0xabcd, 0, 0, 0), 0);
	assert_inv(&inv, &(struct ims_inv){ .targets = IMS_INV_T_CONTEXT | IMS_INV_T_PASID,
					     .scope = IMS_INV_SCOPE_SOURCE, .sid_first = 0xabcd,
					     .sid_last = 0xabcd, .arch_op = 0x03,
					     .arch_name = "CMD_CFGI_STE" });
	/* Leaf = 1 (bit 64). */
	inv = dec_ok(&f, sid_w0(OP_CFGI_STE, 0xfffffffeu, 0, 0, 0), 1);
	assert_int_equal(inv.flags, IMS_INV_F_LEAF);
	assert_int_equal(inv.sid_first, 0xfffffffeu);
	assert_int_equal(inv.sid_last, 0xfffffffeu);
	expect_ill(&f, sid_w0(OP_CFGI_STE, 1, 0, 0, 1), 0);
	fx_fini(&f);
}

static void test_4_3_cfgi_ste_range(void **state)
{
	static const struct {
		uint32_t sid;
		unsigned range;
		uint32_t first, last;
	} t[] = {
		{ 0x1235, 0, 0x1234, 0x1235 },          /* 2^1 SIDs */
		{ 0x1234, 4, 0x1220, 0x123f },          /* 2^5 SIDs */
		{ 0x0000ffff, 15, 0x0000, 0xffff },     /* 2^16 SIDs */
		{ 0x80000005u, 30, 0x80000000u, 0xffffffffu },
	};
	struct fx f;
	struct ims_inv inv;

	(void)state;
	fx_init(&f, IDR0_ALL, IDR3_RIL);
	for (unsigned i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		inv = dec_ok(&f, sid_w0(OP_CFGI_STE_RANGE, t[i].sid, 0, 0, 0), t[i].range);
		assert_inv(&inv, &(struct ims_inv){ .targets = IMS_INV_T_CONTEXT | IMS_INV_T_PASID,
						     .scope = IMS_INV_SCOPE_SOURCE,
						     .sid_first = t[i].first, .sid_last = t[i].last,
						     .arch_op = 0x04,
						     .arch_name = "CMD_CFGI_STE_RANGE" });
	}
	/* Range = 31 is CMD_CFGI_ALL. */
	inv = dec_ok(&f, sid_w0(OP_CFGI_STE_RANGE, 0x77, 0, 0, 0), 31);
	assert_inv(&inv, &(struct ims_inv){ .targets = IMS_INV_T_CONTEXT | IMS_INV_T_PASID,
					     .scope = IMS_INV_SCOPE_ALL, .arch_op = 0x04,
					     .arch_name = "CMD_CFGI_ALL" });
	expect_ill(&f, sid_w0(OP_CFGI_STE_RANGE, 0, 0, 0, 1), 31);
	fx_fini(&f);
}

static void test_4_3_cfgi_cd(void **state)
{
	struct fx f;
	struct ims_inv inv;

	(void)state;
	fx_init(&f, IDR0_ALL, IDR3_RIL);
	inv = dec_ok(&f, sid_w0(OP_CFGI_CD, 0x10, 0xfffff, 0, 0), 1);
	assert_inv(&inv, &(struct ims_inv){ .targets = IMS_INV_T_PASID,
					     .scope = IMS_INV_SCOPE_SOURCE, .flags = IMS_INV_F_LEAF,
					     .has_pasid = true, .pasid = 0xfffff, .sid_first = 0x10,
					     .sid_last = 0x10, .arch_op = 0x05,
					     .arch_name = "CMD_CFGI_CD" });
	inv = dec_ok(&f, sid_w0(OP_CFGI_CD, 0x10, 3, 0, 0), 0);
	assert_int_equal(inv.flags, 0);
	assert_int_equal(inv.pasid, 3);

	inv = dec_ok(&f, sid_w0(OP_CFGI_CD_ALL, 0x11, 0, 0, 0), 0);
	assert_inv(&inv, &(struct ims_inv){ .targets = IMS_INV_T_PASID,
					     .scope = IMS_INV_SCOPE_SOURCE, .sid_first = 0x11,
					     .sid_last = 0x11, .arch_op = 0x06,
					     .arch_name = "CMD_CFGI_CD_ALL" });
	expect_ill(&f, sid_w0(OP_CFGI_CD, 0x10, 3, 0, 1), 0);
	expect_ill(&f, sid_w0(OP_CFGI_CD_ALL, 0x10, 0, 0, 1), 0);

	/* CMD_CFGI_VMS_PIDM needs MPAM (IDR3 bit 7). */
	expect_ill(&f, OP_CFGI_VMS_PIDM | (5ull << 32), 0);
	fx_fini(&f);
	fx_init(&f, IDR0_ALL, IDR3_RIL | IDR3_MPAM);
	inv = dec_ok(&f, OP_CFGI_VMS_PIDM | (5ull << 32), 0);
	assert_int_equal(inv.scope, IMS_INV_SCOPE_NONE);
	assert_int_equal(inv.targets, 0);
	assert_string_equal(inv.arch_name, "CMD_CFGI_VMS_PIDM");
	fx_fini(&f);
}

/* ---- 4.4.2 stage-1 TLB invalidation ---- */

static void test_4_4_tlbi_nh_all_asid(void **state)
{
	struct fx f;
	struct ims_inv inv;

	(void)state;
	fx_init(&f, IDR0_ALL, IDR3_RIL);
	inv = dec_ok(&f, tlbi_w0(OP_TLBI_NH_ALL, 0, 0, 0xbeef, 0x1234), 0);
	assert_inv(&inv, &(struct ims_inv){ .targets = T_TLB, .scope = IMS_INV_SCOPE_DOMAIN,
					     .flags = F_S1, .has_domain = true, .domain = 0xbeef,
					     .arch_op = 0x10, .arch_name = "CMD_TLBI_NH_ALL" });

	inv = dec_ok(&f, tlbi_w0(OP_TLBI_NH_ASID, 0, 0, 0xbeef, 0xcafe), 0);
	assert_inv(&inv, &(struct ims_inv){ .targets = T_TLB, .scope = IMS_INV_SCOPE_PASID,
					     .flags = F_S1 | IMS_INV_F_KEEP_GLOBAL,
					     .has_domain = true, .domain = 0xbeef, .has_pasid = true,
					     .pasid = 0xcafe, .arch_op = 0x11,
					     .arch_name = "CMD_TLBI_NH_ASID" });

	fx_fini(&f);

	/* 8-bit VMID and ASID: the upper byte is ignored. */
	fx_init(&f, IDR0_ALL & ~(IDR0_VMID16 | IDR0_ASID16), IDR3_RIL);
	inv = dec_ok(&f, tlbi_w0(OP_TLBI_NH_ASID, 0, 0, 0xbeef, 0xcafe), 0);
	assert_int_equal(inv.domain, 0xef);
	assert_int_equal(inv.pasid, 0xfe);
	fx_fini(&f);

	/* No stage 2: no VMIDs, NH_ALL reaches every stage-1 entry. */
	fx_init(&f, IDR0_ALL & ~IDR0_S2P, IDR3_RIL);
	inv = dec_ok(&f, tlbi_w0(OP_TLBI_NH_ALL, 0, 0, 0xbeef, 0), 0);
	assert_int_equal(inv.scope, IMS_INV_SCOPE_ALL);
	assert_false(inv.has_domain);
	inv = dec_ok(&f, tlbi_w0(OP_TLBI_NH_ASID, 0, 0, 0xbeef, 9), 0);
	assert_false(inv.has_domain);
	assert_int_equal(inv.pasid, 9);
	fx_fini(&f);

	/* No stage 1: every CMD_TLBI_NH_* is illegal (4.4.2). */
	fx_init(&f, IDR0_ALL & ~(IDR0_S1P | IDR0_HYP), IDR3_RIL);
	expect_ill(&f, tlbi_w0(OP_TLBI_NH_ALL, 0, 0, 1, 0), 0);
	expect_ill(&f, tlbi_w0(OP_TLBI_NH_ASID, 0, 0, 1, 1), 0);
	expect_ill(&f, tlbi_w0(OP_TLBI_NH_VA, 0, 0, 1, 1), tlbi_w1(0x1000, 0, 0, 0));
	expect_ill(&f, tlbi_w0(OP_TLBI_NH_VAA, 0, 0, 1, 1), tlbi_w1(0x1000, 0, 0, 0));
	fx_fini(&f);
}

/* Single-address forms: TG = 0, or no IDR3.RIL. */
static void test_4_4_tlbi_nh_va_single(void **state)
{
	struct fx f;
	struct ims_inv inv;

	(void)state;
	fx_init(&f, IDR0_ALL, IDR3_RIL);
	/* TG = 0: NUM/SCALE/TTL carry nothing; the 4 KiB unit of the address. */
	inv = dec_ok(&f, tlbi_w0(OP_TLBI_NH_VA, 7, 3, 5, 0x77),
		     tlbi_w1(0xffff800012345000ull, 1, 3, 0));
	assert_inv(&inv, &(struct ims_inv){ .targets = T_TLB, .scope = IMS_INV_SCOPE_RANGE,
					     .flags = F_S1 | IMS_INV_F_LEAF | F_GANY,
					     .has_domain = true,
					     .domain = 5, .has_pasid = true, .pasid = 0x77,
					     .addr_first = 0xffff800012345000ull,
					     .addr_last = 0xffff800012345fffull, .granule_lg2 = 12,
					     .arch_op = 0x12, .arch_name = "CMD_TLBI_NH_VA" });

	inv = dec_ok(&f, tlbi_w0(OP_TLBI_NH_VAA, 0, 0, 6, 0x77), tlbi_w1(0x40000000, 0, 0, 0));
	assert_inv(&inv, &(struct ims_inv){ .targets = T_TLB, .scope = IMS_INV_SCOPE_RANGE,
					     .flags = F_S1, .has_domain = true, .domain = 6,
					     .addr_first = 0x40000000, .addr_last = 0x40000fff,
					     .granule_lg2 = 12, .arch_op = 0x13,
					     .arch_name = "CMD_TLBI_NH_VAA" });

	fx_fini(&f);

	/* Without RIL, TG/NUM/SCALE/TTL are RES0 and ignored: one 4 KiB unit. */
	fx_init(&f, IDR0_ALL, 0);
	inv = dec_ok(&f, tlbi_w0(OP_TLBI_NH_VA, 3, 0, 5, 1), tlbi_w1(0x12345000, 0, 2, 1));
	assert_int_equal(inv.addr_first, 0x12345000);
	assert_int_equal(inv.addr_last, 0x12345fff);
	assert_int_equal(inv.granule_lg2, 12);
	assert_int_equal(inv.ttl, 0);
	fx_fini(&f);
}

/*
 * 4.4.1 range invalidation: [Address, Address + (NUM + 1) * 2^SCALE * TG),
 * Address aligned down to TG.  Expected values computed by hand.
 */
static void test_4_4_1_range(void **state)
{
	static const struct {
		uint64_t addr;
		unsigned tg, scale, num, ttl;
		uint64_t first, last;
		unsigned granule_lg2, ttl_out;
	} t[] = {
		/* 4 KiB, SCALE 0, NUM 3: 4 pages. */
		{ 0x12345000ull, 1, 0, 3, 0, 0x12345000ull, 0x12348fffull, 12, 0 },
		/* 64 KiB, SCALE 5, NUM 1: 2 * 32 = 64 pages = 4 MiB; low bits dropped. */
		{ 0x7fff12345000ull, 3, 5, 1, 0, 0x7fff12340000ull, 0x7fff1273ffffull, 16, 0 },
		/* 16 KiB, SCALE 1, NUM 4: 10 pages = 0x28000. */
		{ 0x40006000ull, 2, 1, 4, 2, 0x40004000ull, 0x4002bfffull, 14, 2 },
		/* 4 KiB, one page, TTL 3 (Arm level 3 = our level 0) -> ttl 1. */
		{ 0x5000ull, 1, 0, 0, 3, 0x5000ull, 0x5fffull, 12, 1 },
		/* 4 KiB, 2 MiB blocks: TTL 2 -> our level 1 -> ttl 2; 512 pages. */
		{ 0x200000ull, 1, 9, 0, 2, 0x200000ull, 0x3fffffull, 12, 2 },
		/* 4 KiB, TTL 1 (1 GiB blocks) -> ttl 3. */
		{ 0x40000000ull, 1, 18, 0, 1, 0x40000000ull, 0x7fffffffull, 12, 3 },
		/* 16 KiB has no level-1 leaf: TTL 1 names nothing, no hint. */
		{ 0x4000ull, 2, 0, 0, 1, 0x4000ull, 0x7fffull, 14, 0 },
		/* 64 KiB TTL 1 is level 1 (52-bit PA blocks) -> ttl 3. */
		{ 0x0ull, 3, 0, 0, 1, 0x0ull, 0xffffull, 16, 3 },
		/* Largest range, 32 * 2^31 * 64 KiB = 2^52, ending at the top exactly. */
		{ 0xfff0000000000000ull, 3, 31, 31, 0, 0xfff0000000000000ull, UINT64_MAX, 16, 0 },
		/* ... and saturating past it. */
		{ 0xfff8000000000000ull, 3, 31, 31, 0, 0xfff8000000000000ull, UINT64_MAX, 16, 0 },
	};
	struct fx f;
	struct ims_inv inv;

	(void)state;
	fx_init(&f, IDR0_ALL, IDR3_RIL);
	for (unsigned i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		inv = dec_ok(&f, tlbi_w0(OP_TLBI_NH_VA, t[i].num, t[i].scale, 1, 2),
			     tlbi_w1(t[i].addr, 1, t[i].ttl, t[i].tg));
		assert_int_equal(inv.scope, IMS_INV_SCOPE_RANGE);
		assert_int_equal(inv.addr_first, t[i].first);
		assert_int_equal(inv.addr_last, t[i].last);
		assert_int_equal(inv.granule_lg2, t[i].granule_lg2);
		assert_int_equal(inv.ttl, t[i].ttl_out);
		assert_int_equal(inv.flags, F_S1 | IMS_INV_F_LEAF | F_GANY);
	}
	/* The same arithmetic for NH_VAA, EL2_VA(A) and S2_IPA. */
	inv = dec_ok(&f, tlbi_w0(OP_TLBI_S2_IPA, 1, 5, 3, 0), tlbi_w1(0x7fff12345000ull, 0, 0, 3));
	assert_int_equal(inv.addr_first, 0x7fff12340000ull);
	assert_int_equal(inv.addr_last, 0x7fff1273ffffull);
	inv = dec_ok(&f, tlbi_w0(OP_TLBI_EL2_VAA, 3, 0, 0, 0), tlbi_w1(0x12345000, 0, 0, 1));
	assert_int_equal(inv.addr_last, 0x12348fffull);
	fx_fini(&f);
}

/* ---- 4.4 EL2, EL3, stage 2, NSNH ---- */

static void test_4_4_tlbi_el2(void **state)
{
	struct fx f;
	struct ims_inv inv;

	(void)state;
	fx_init(&f, IDR0_ALL, IDR3_RIL);
	f.st.cr2 = CR2_E2H;
	/* No VMID in the EL2 regime: has_domain stays false even with a VMID field set. */
	inv = dec_ok(&f, tlbi_w0(OP_TLBI_EL2_ALL, 0, 0, 0x55, 0x66), 0);
	assert_inv(&inv, &(struct ims_inv){ .targets = T_TLB, .scope = IMS_INV_SCOPE_ALL,
					     .flags = F_S1, .arch_op = 0x20,
					     .arch_name = "CMD_TLBI_EL2_ALL" });
	inv = dec_ok(&f, tlbi_w0(OP_TLBI_EL2_ASID, 0, 0, 0x55, 0x66), 0);
	assert_inv(&inv, &(struct ims_inv){ .targets = T_TLB, .scope = IMS_INV_SCOPE_PASID,
					     .flags = F_S1 | IMS_INV_F_KEEP_GLOBAL,
					     .has_pasid = true, .pasid = 0x66, .arch_op = 0x21,
					     .arch_name = "CMD_TLBI_EL2_ASID" });
	inv = dec_ok(&f, tlbi_w0(OP_TLBI_EL2_VA, 0, 0, 0x55, 0x66), tlbi_w1(0x9000, 1, 0, 0));
	assert_inv(&inv, &(struct ims_inv){ .targets = T_TLB, .scope = IMS_INV_SCOPE_RANGE,
					     .flags = F_S1 | IMS_INV_F_LEAF | F_GANY,
					     .has_pasid = true,
					     .pasid = 0x66, .addr_first = 0x9000,
					     .addr_last = 0x9fff, .granule_lg2 = 12,
					     .arch_op = 0x22, .arch_name = "CMD_TLBI_EL2_VA" });
	inv = dec_ok(&f, tlbi_w0(OP_TLBI_EL2_VAA, 0, 0, 0x55, 0x66), tlbi_w1(0x9000, 0, 0, 0));
	assert_inv(&inv, &(struct ims_inv){ .targets = T_TLB, .scope = IMS_INV_SCOPE_RANGE,
					     .flags = F_S1, .addr_first = 0x9000,
					     .addr_last = 0x9fff, .granule_lg2 = 12,
					     .arch_op = 0x23, .arch_name = "CMD_TLBI_EL2_VAA" });

	/* E2H = 0: EL2 entries have no ASID. */
	f.st.cr2 = 0;
	inv = dec_ok(&f, tlbi_w0(OP_TLBI_EL2_ASID, 0, 0, 0, 0x66), 0);
	assert_int_equal(inv.scope, IMS_INV_SCOPE_ALL);
	assert_false(inv.has_pasid);
	assert_int_equal(inv.flags, F_S1);
	inv = dec_ok(&f, tlbi_w0(OP_TLBI_EL2_VA, 0, 0, 0, 0x66), tlbi_w1(0x9000, 0, 0, 0));
	assert_false(inv.has_pasid);
	fx_fini(&f);

	/* Without IDR0.HYP every CMD_TLBI_EL2_* is illegal. */
	fx_init(&f, IDR0_ALL & ~IDR0_HYP, IDR3_RIL);
	expect_ill(&f, OP_TLBI_EL2_ALL, 0);
	expect_ill(&f, tlbi_w0(OP_TLBI_EL2_ASID, 0, 0, 0, 1), 0);
	expect_ill(&f, tlbi_w0(OP_TLBI_EL2_VA, 0, 0, 0, 1), tlbi_w1(0x1000, 0, 0, 0));
	expect_ill(&f, tlbi_w0(OP_TLBI_EL2_VAA, 0, 0, 0, 1), tlbi_w1(0x1000, 0, 0, 0));
	fx_fini(&f);
}

static void test_4_4_tlbi_el3_secure_only(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, IDR0_ALL, IDR3_RIL);
	expect_ill(&f, OP_TLBI_EL3_ALL, 0);
	expect_ill(&f, OP_TLBI_EL3_VA, tlbi_w1(0x1000, 1, 0, 0));
	fx_fini(&f);
}

static void test_4_4_tlbi_s2_nsnh(void **state)
{
	struct fx f;
	struct ims_inv inv;

	(void)state;
	fx_init(&f, IDR0_ALL, IDR3_RIL);
	inv = dec_ok(&f, tlbi_w0(OP_TLBI_S12_VMALL, 0, 0, 0x1234, 0x99), 0);
	assert_inv(&inv, &(struct ims_inv){ .targets = T_TLB, .scope = IMS_INV_SCOPE_DOMAIN,
					     .flags = F_S1 | F_S2, .has_domain = true,
					     .domain = 0x1234, .arch_op = 0x28,
					     .arch_name = "CMD_TLBI_S12_VMALL" });

	/* IPA is Address[51:12]: bits 127:116 of the command are not part of it. */
	inv = dec_ok(&f, tlbi_w0(OP_TLBI_S2_IPA, 0, 0, 0x1234, 0x99),
		     tlbi_w1(0xfff0000080002000ull, 1, 0, 0));
	assert_inv(&inv, &(struct ims_inv){ .targets = T_TLB, .scope = IMS_INV_SCOPE_RANGE,
					     .flags = F_S2 | IMS_INV_F_LEAF, .has_domain = true,
					     .domain = 0x1234, .addr_first = 0x80002000ull,
					     .addr_last = 0x80002fffull, .granule_lg2 = 12,
					     .arch_op = 0x2a, .arch_name = "CMD_TLBI_S2_IPA" });
	/* Range form with a level hint: 4 KiB, SCALE 0, NUM 1, TTL 3. */
	inv = dec_ok(&f, tlbi_w0(OP_TLBI_S2_IPA, 1, 0, 7, 0), tlbi_w1(0x80002000ull, 0, 3, 1));
	assert_int_equal(inv.addr_last, 0x80003fffull);
	assert_int_equal(inv.ttl, 1);
	assert_int_equal(inv.flags, F_S2);

	inv = dec_ok(&f, OP_TLBI_NSNH_ALL, 0);
	assert_inv(&inv, &(struct ims_inv){ .targets = T_TLB, .scope = IMS_INV_SCOPE_ALL,
					     .flags = F_S1 | F_S2, .arch_op = 0x30,
					     .arch_name = "CMD_TLBI_NSNH_ALL" });
	fx_fini(&f);

	/* Without stage 2 the stage-2 commands are illegal; NSNH_ALL is not. */
	fx_init(&f, IDR0_ALL & ~IDR0_S2P, IDR3_RIL);
	expect_ill(&f, tlbi_w0(OP_TLBI_S12_VMALL, 0, 0, 1, 0), 0);
	expect_ill(&f, tlbi_w0(OP_TLBI_S2_IPA, 0, 0, 1, 0), tlbi_w1(0x1000, 0, 0, 0));
	inv = dec_ok(&f, OP_TLBI_NSNH_ALL, 0);
	assert_int_equal(inv.scope, IMS_INV_SCOPE_ALL);
	fx_fini(&f);
}

/* ---- 4.5 ATS and PRI ---- */

/* CMD_ATC_INV: Global 9, SSV 11, SSID 31:12, SID 63:32; Size 69:64, Address 127:76. */
static void test_4_5_atc_inv(void **state)
{
	static const struct {
		uint64_t addr;
		unsigned size;
		uint64_t first, last;
	} t[] = {
		{ 0x12345000ull, 0, 0x12345000ull, 0x12345fffull },
		{ 0x12345000ull, 4, 0x12340000ull, 0x1234ffffull },  /* 16 pages, aligned */
		{ 0xdead0000ull, 51, 0, 0x7fffffffffffffffull },      /* 2^63 bytes */
		{ 0xdead0000ull, 52, 0, UINT64_MAX },                 /* everything */
		{ 0xdead0000ull, 63, 0, UINT64_MAX },
	};
	struct fx f;
	struct ims_inv inv;

	(void)state;
	fx_init(&f, IDR0_ALL, IDR3_RIL);
	for (unsigned i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		inv = dec_ok(&f, sid_w0(OP_ATC_INV, 0x300, 0x44, 1, 0), t[i].addr | t[i].size);
		assert_inv(&inv, &(struct ims_inv){ .targets = IMS_INV_T_DEVTLB,
						     .scope = IMS_INV_SCOPE_RANGE,
						     .flags = F_S1 | F_S2, .has_pasid = true,
						     .pasid = 0x44, .sid_first = 0x300,
						     .sid_last = 0x300, .addr_first = t[i].first,
						     .addr_last = t[i].last, .granule_lg2 = 12,
						     .arch_op = 0x40, .arch_name = "CMD_ATC_INV" });
	}
	/* SSV = 0: no PASID. */
	inv = dec_ok(&f, sid_w0(OP_ATC_INV, 0x300, 0x44, 0, 0), 0x5000);
	assert_false(inv.has_pasid);
	/* Global = 1 (bit 9) with SSV: every PASID of the device. */
	inv = dec_ok(&f, sid_w0(OP_ATC_INV, 0x300, 0x44, 1, 0) | (1ull << 9), 0x5000);
	assert_false(inv.has_pasid);
	assert_int_equal(inv.sid_first, 0x300);
	fx_fini(&f);

	fx_init(&f, IDR0_ALL & ~IDR0_ATS, IDR3_RIL);
	expect_ill(&f, sid_w0(OP_ATC_INV, 0x300, 0, 0, 0), 0x5000);
	fx_fini(&f);
}

/* CMD_PRI_RESP: SSV 11, SSID 31:12, SID 63:32; PRGIndex 72:64, Resp 77:76. */
static void test_4_5_pri_resp(void **state)
{
	struct fx f;
	struct ims_inv inv;

	(void)state;
	fx_init(&f, IDR0_ALL, IDR3_RIL);
	for (unsigned resp = 0; resp < 3; resp++) {
		inv = dec_ok(&f, sid_w0(OP_PRI_RESP, 0x21, 5, 1, 0),
			     0x1ffull | ((uint64_t)resp << 12));
		assert_inv(&inv, &(struct ims_inv){ .scope = IMS_INV_SCOPE_NONE,
						     .sid_first = 0x21, .sid_last = 0x21,
						     .arch_op = 0x41, .arch_name = "CMD_PRI_RESP" });
	}
	/* Resp = 0b11 is Reserved. */
	expect_ill(&f, sid_w0(OP_PRI_RESP, 0x21, 5, 1, 0), 3ull << 12);
	fx_fini(&f);

	fx_init(&f, IDR0_ALL & ~IDR0_PRI, IDR3_RIL);
	expect_ill(&f, sid_w0(OP_PRI_RESP, 0x21, 5, 1, 0), 2ull << 12);
	fx_fini(&f);
}

/* ---- 4.6 CMD_RESUME (SSec 10, Action 13:12, SID 63:32; STAG 79:64), CMD_STALL_TERM ---- */

static void test_4_6_resume_stall_term(void **state)
{
	static const unsigned models[] = { 0, 2 };
	struct fx f;
	struct ims_inv inv;

	(void)state;
	for (unsigned i = 0; i < 2; i++) {
		fx_init(&f, (IDR0_ALL & ~IDR0_STALL_MODEL(3)) | IDR0_STALL_MODEL(models[i]),
			IDR3_RIL);
		inv = dec_ok(&f, sid_w0(OP_RESUME, 0x9, 0, 0, 0) | (1ull << 12), 0xabcd);
		assert_inv(&inv, &(struct ims_inv){ .scope = IMS_INV_SCOPE_NONE, .sid_first = 9,
						     .sid_last = 9, .arch_op = 0x44,
						     .arch_name = "CMD_RESUME" });
		inv = dec_ok(&f, sid_w0(OP_STALL_TERM, 0xa, 0, 0, 0), 0);
		assert_inv(&inv, &(struct ims_inv){ .scope = IMS_INV_SCOPE_NONE,
						     .sid_first = 0xa, .sid_last = 0xa,
						     .arch_op = 0x45, .arch_name = "CMD_STALL_TERM" });
		expect_ill(&f, sid_w0(OP_RESUME, 0x9, 0, 0, 1), 0);
		expect_ill(&f, sid_w0(OP_STALL_TERM, 0x9, 0, 0, 1), 0);
		fx_fini(&f);
	}
	/* STALL_MODEL = 0b01: terminate only, no stall to answer. */
	fx_init(&f, IDR0_ALL | IDR0_STALL_MODEL(1), IDR3_RIL);
	expect_ill(&f, sid_w0(OP_RESUME, 0x9, 0, 0, 0), 0);
	expect_ill(&f, sid_w0(OP_STALL_TERM, 0x9, 0, 0, 0), 0);
	fx_fini(&f);
}

/* ---- 4.7 CMD_SYNC ---- */

static void test_4_7_sync(void **state)
{
	struct fx f;
	struct ims_inv inv;

	(void)state;
	fx_init(&f, IDR0_ALL, IDR3_RIL);
	inv = dec_ok(&f, sync_w0(0, 0x1234), 0x100040);
	assert_inv(&inv, &(struct ims_inv){ .targets = IMS_INV_T_SYNC,
					     .scope = IMS_INV_SCOPE_NONE, .arch_op = 0x46,
					     .arch_name = "CMD_SYNC" });
	/* SIG_IRQ with MSIs; MSH 23:22 and MSIAttr 27:24 do not matter. */
	inv = dec_ok(&f, sync_w0(1, 0xdeadbeef) | (3ull << 22) | (0xfull << 24),
		     0x000fedcba9876544ull | (0xfffull << 52) | 0x3);
	assert_inv(&inv, &(struct ims_inv){ .targets = IMS_INV_T_SYNC,
					     .scope = IMS_INV_SCOPE_NONE,
					     .flags = IMS_INV_F_INTR | IMS_INV_F_STATUS_WRITE,
					     .status_addr = 0x000fedcba9876544ull,
					     .status_data = 0xdeadbeef, .arch_op = 0x46,
					     .arch_name = "CMD_SYNC" });
	/* SIG_SEV: a PE event, nothing for the caches. */
	inv = dec_ok(&f, sync_w0(2, 0x1234), 0x100040);
	assert_int_equal(inv.flags, 0);
	assert_int_equal(inv.status_addr, 0);
	/* CS = 0b11 is Reserved. */
	expect_ill(&f, sync_w0(3, 0), 0);
	fx_fini(&f);

	/* Without MSIs SIG_IRQ is the wired interrupt: no write. */
	fx_init(&f, IDR0_ALL & ~IDR0_MSI, IDR3_RIL);
	inv = dec_ok(&f, sync_w0(1, 0xdeadbeef), 0x100040);
	assert_int_equal(inv.flags, IMS_INV_F_INTR);
	assert_int_equal(inv.status_addr, 0);
	assert_int_equal(inv.status_data, 0);
	fx_fini(&f);
}

/* ---- 4.1 opcodes and width ---- */

static void test_4_1_illegal(void **state)
{
	static const unsigned bad[] = { 0x00, 0x08, 0x0f, 0x14, 0x19, 0x1b, 0x24, 0x29, 0x2b,
					0x31, 0x42, 0x43, 0x47, 0x80, 0xff };
	struct fx f;
	struct ims_inv inv, keep;
	uint32_t err;
	uint64_t w[4] = { OP_TLBI_NSNH_ALL, 0, 0, 0 };

	(void)state;
	fx_init(&f, IDR0_ALL, IDR3_RIL);
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_ill(&f, bad[i], 0);

	/* A command is two words. */
	memset(&inv, 0x11, sizeof(inv));
	keep = inv;
	assert_int_equal(smmu_decode_cmd(&f.io, w, 1, &inv, &err), -EINVAL);
	assert_int_equal(err, SMMU_CERROR_ILL);
	assert_int_equal(smmu_decode_cmd(&f.io, w, 4, &inv, &err), -EINVAL);
	assert_int_equal(err, SMMU_CERROR_ILL);
	assert_memory_equal(&inv, &keep, sizeof(inv));
	assert_int_equal(smmu_decode_cmd(&f.io, w, 2, &inv, &err), 0);

	/* RES0 bits the spec does not make illegal are ignored: CFGI_STE bits 31:11, 127:65. */
	inv = dec_ok(&f, sid_w0(OP_CFGI_STE, 4, 0, 0, 0) | 0xfffff800ull, 0xfffffffffffffffeull);
	assert_int_equal(inv.sid_first, 4);
	assert_int_equal(inv.flags, 0);
	fx_fini(&f);
}

/* ---- The queue (3.5, 6.3, 7.1) ---- */

struct rec {
	unsigned n;
	struct ims_inv inv[32];
};

static void rec_apply(void *opaque, const struct ims_inv *inv)
{
	struct rec *r = opaque;

	assert_true(r->n < 32);
	r->inv[r->n++] = *inv;
}

static void put_cmd(struct fx *f, uint64_t base, unsigned idx, uint64_t w0, uint64_t w1)
{
	assert_int_equal(ims_mem_write64(f->io.mem, base + 16ull * idx, w0), IMS_MEM_OK);
	assert_int_equal(ims_mem_write64(f->io.mem, base + 16ull * idx + 8, w1), IMS_MEM_OK);
}

/* A queue of 2^lg2 entries at QBASE, CMDQEN set. */
static void fx_queue(struct fx *f, unsigned lg2)
{
	fx_init(f, IDR0_ALL, IDR3_RIL);
	f->st.cr0 = CR0_CMDQEN;
	f->st.cmdq.base = QBASE | lg2;
}

static unsigned process(struct fx *f, struct rec *r)
{
	unsigned n = 12345;

	assert_int_equal(smmu_cmdq_process(&f->io, rec_apply, r, &n), 0);
	return n;
}

static void test_3_5_queue_basic(void **state)
{
	struct fx f;
	struct rec r = { 0 };

	(void)state;
	fx_queue(&f, 3);
	put_cmd(&f, QBASE, 0, sid_w0(OP_CFGI_STE, 7, 0, 0, 0), 1);
	put_cmd(&f, QBASE, 1, tlbi_w0(OP_TLBI_NH_ASID, 0, 0, 2, 3), 0);
	put_cmd(&f, QBASE, 2, sync_w0(0, 0), 0);
	f.st.cmdq.prod = 3;
	assert_int_equal(process(&f, &r), 3);
	assert_int_equal(r.n, 3);
	assert_int_equal(r.inv[0].arch_op, OP_CFGI_STE);
	assert_int_equal(r.inv[0].sid_first, 7);
	assert_int_equal(r.inv[1].arch_op, OP_TLBI_NH_ASID);
	assert_int_equal(r.inv[1].pasid, 3);
	assert_int_equal(r.inv[2].targets, IMS_INV_T_SYNC);
	assert_int_equal(f.st.cmdq.cons, 3);
	assert_int_equal(f.st.gerror, 0);

	/* CONS == PROD: nothing to do, however often asked. */
	assert_int_equal(process(&f, &r), 0);
	assert_int_equal(process(&f, &r), 0);
	assert_int_equal(r.n, 3);
	assert_int_equal(f.st.cmdq.cons, 3);

	/* apply and consumed may be NULL. */
	put_cmd(&f, QBASE, 3, OP_TLBI_NSNH_ALL, 0);
	f.st.cmdq.prod = 4;
	assert_int_equal(smmu_cmdq_process(&f.io, NULL, NULL, NULL), 0);
	assert_int_equal(f.st.cmdq.cons, 4);
	fx_fini(&f);
}

/* Index [LOG2SIZE-1:0], wrap bit [LOG2SIZE]: a 4-entry queue going round. */
static void test_3_5_queue_wrap(void **state)
{
	struct fx f;
	struct rec r = { 0 };

	(void)state;
	fx_queue(&f, 2);
	for (unsigned i = 0; i < 4; i++)
		put_cmd(&f, QBASE, i, sid_w0(OP_CFGI_STE, 0x100 + i, 0, 0, 0), 0);
	/* CONS at index 3 (wrap 0), PROD at index 1 with the wrap bit (bit 2) set. */
	f.st.cmdq.cons = 3;
	f.st.cmdq.prod = 0x4 | 1;
	assert_int_equal(process(&f, &r), 2);
	assert_int_equal(r.inv[0].sid_first, 0x103);
	assert_int_equal(r.inv[1].sid_first, 0x100);
	assert_int_equal(f.st.cmdq.cons, 0x4 | 1);

	/* Full queue: same index, other wrap: all four, ending with wrap 0 again. */
	r.n = 0;
	f.st.cmdq.prod = 1;
	assert_int_equal(process(&f, &r), 4);
	assert_int_equal(r.inv[0].sid_first, 0x101);
	assert_int_equal(r.inv[3].sid_first, 0x100);
	assert_int_equal(f.st.cmdq.cons, 1);

	/* Bits above the wrap bit are not part of the pointers. */
	r.n = 0;
	f.st.cmdq.prod = 0xfff0 | 2;
	assert_int_equal(process(&f, &r), 1);
	assert_int_equal(r.inv[0].sid_first, 0x101);
	assert_int_equal(f.st.cmdq.cons, 2);
	fx_fini(&f);
}

/* LOG2SIZE above IDR1.CMDQS is clamped; the base is aligned to the queue size. */
static void test_6_3_queue_geometry(void **state)
{
	struct fx f;
	struct rec r = { 0 };

	(void)state;
	fx_queue(&f, 10);
	f.st.idr[1] = IDR1_CMDQS(2);  /* at most 4 entries */
	put_cmd(&f, QBASE, 3, sid_w0(OP_CFGI_STE, 0x33, 0, 0, 0), 0);
	put_cmd(&f, QBASE, 0, sid_w0(OP_CFGI_STE, 0x30, 0, 0, 0), 0);
	/* CONS = 3, PROD = wrap | 0 in a 4-entry queue: one command. */
	f.st.cmdq.cons = 3;
	f.st.cmdq.prod = 0x4;
	assert_int_equal(process(&f, &r), 1);
	assert_int_equal(r.inv[0].sid_first, 0x33);
	assert_int_equal(f.st.cmdq.cons, 0x4);
	fx_fini(&f);

	/* 4 entries = 64 bytes: ADDR bit 5 is below the alignment and ignored; RA ignored. */
	fx_queue(&f, 2);
	f.st.cmdq.base = (1ull << 62) | (QBASE + 0x20) | 2;
	put_cmd(&f, QBASE, 0, sid_w0(OP_CFGI_STE, 0x40, 0, 0, 0), 0);
	f.st.cmdq.prod = 1;
	r.n = 0;
	assert_int_equal(process(&f, &r), 1);
	assert_int_equal(r.inv[0].sid_first, 0x40);
	fx_fini(&f);

	/* A one-entry queue: only the wrap bit (bit 0) moves. */
	fx_queue(&f, 0);
	put_cmd(&f, QBASE, 0, sid_w0(OP_CFGI_STE, 0x50, 0, 0, 0), 0);
	f.st.cmdq.prod = 1;
	r.n = 0;
	assert_int_equal(process(&f, &r), 1);
	assert_int_equal(f.st.cmdq.cons, 1);
	f.st.cmdq.prod = 0;
	assert_int_equal(process(&f, &r), 1);
	assert_int_equal(f.st.cmdq.cons, 0);
	fx_fini(&f);
}

/* 7.1: stop at an illegal command; resume once software fixes it and acknowledges. */
static void test_7_1_queue_illegal_and_resume(void **state)
{
	struct fx f;
	struct rec r = { 0 };

	(void)state;
	fx_queue(&f, 3);
	put_cmd(&f, QBASE, 0, OP_TLBI_NSNH_ALL, 0);
	put_cmd(&f, QBASE, 1, 0x47, 0);                 /* not a command */
	put_cmd(&f, QBASE, 2, sid_w0(OP_CFGI_CD_ALL, 9, 0, 0, 0), 0);
	f.st.cmdq.prod = 3;
	assert_int_equal(process(&f, &r), 1);
	assert_int_equal(r.n, 1);
	assert_int_equal(f.st.cmdq.cons, CONS_ERR(1) | 1);
	assert_int_equal(f.st.gerror ^ f.st.gerrorn, GERROR_CMDQ_ERR);

	/* Stopped until acknowledged, even with the command fixed. */
	put_cmd(&f, QBASE, 1, sync_w0(0, 0), 0);
	assert_int_equal(process(&f, &r), 0);
	assert_int_equal(r.n, 1);

	/* Acknowledge: GERRORN.CMDQ_ERR = GERROR.CMDQ_ERR. */
	f.st.gerrorn = f.st.gerror;
	assert_int_equal(process(&f, &r), 2);
	assert_int_equal(r.inv[1].arch_op, OP_SYNC);
	assert_int_equal(r.inv[2].arch_op, OP_CFGI_CD_ALL);
	assert_int_equal(f.st.cmdq.cons & 0xff, 3);
	assert_int_equal(f.st.gerror ^ f.st.gerrorn, 0);

	/* A second error toggles GERROR back, from the acknowledged state. */
	put_cmd(&f, QBASE, 3, OP_TLBI_EL3_ALL, 0);
	f.st.cmdq.prod = 4;
	assert_int_equal(process(&f, &r), 0);
	assert_int_equal(f.st.cmdq.cons, CONS_ERR(1) | 3);
	assert_int_equal(f.st.gerror ^ f.st.gerrorn, GERROR_CMDQ_ERR);
	assert_int_equal(f.st.gerror, 0);
	fx_fini(&f);
}

/* A fetch abort: CERROR_ABT with CONS at the entry that could not be read. */
static void test_7_1_queue_fetch_abort(void **state)
{
	struct fx f;
	struct rec r = { 0 };

	(void)state;
	fx_queue(&f, 3);
	put_cmd(&f, QBASE, 0, OP_TLBI_NSNH_ALL, 0);
	put_cmd(&f, QBASE, 1, OP_TLBI_NSNH_ALL, 0);
	f.st.cmdq.prod = 2;
	assert_int_equal(ims_mem_inject_abort(f.io.mem, QBASE + 16 + 8, 8), 0);
	assert_int_equal(process(&f, &r), 1);
	assert_int_equal(f.st.cmdq.cons, CONS_ERR(2) | 1);
	assert_int_equal(f.st.gerror ^ f.st.gerrorn, GERROR_CMDQ_ERR);

	ims_mem_clear_aborts(f.io.mem);
	f.st.gerrorn = f.st.gerror;
	assert_int_equal(process(&f, &r), 1);
	assert_int_equal(f.st.cmdq.cons & 0xff, 2);
	fx_fini(&f);

	/* A queue outside memory aborts on the first command. */
	fx_queue(&f, 3);
	f.st.cmdq.base = 0x40000000ull | 3;
	f.st.cmdq.prod = 1;
	assert_int_equal(process(&f, &r), 0);
	assert_int_equal(f.st.cmdq.cons, CONS_ERR(2));
	fx_fini(&f);
}

/* CMD_SYNC with CS = SIG_IRQ writes MSIData to MSIAddr (32 bits, little-endian). */
static void test_4_7_queue_sync_msi(void **state)
{
	struct fx f;
	struct rec r = { 0 };
	uint8_t got[8];
	uint64_t w0;

	(void)state;
	fx_queue(&f, 3);
	assert_int_equal(ims_mem_write64(f.io.mem, QBASE + 0x800, 0x1111111111111111ull),
			 IMS_MEM_OK);
	put_cmd(&f, QBASE, 0, OP_TLBI_NSNH_ALL, 0);
	put_cmd(&f, QBASE, 1, sync_w0(1, 0xa1b2c3d4), QBASE + 0x804);
	f.st.cmdq.prod = 2;
	assert_int_equal(process(&f, &r), 2);
	assert_int_equal(r.inv[1].status_addr, QBASE + 0x804);
	assert_int_equal(ims_mem_read(f.io.mem, QBASE + 0x800, got, 8), IMS_MEM_OK);
	assert_int_equal(got[0], 0x11);
	assert_int_equal(got[3], 0x11);
	assert_int_equal(got[4], 0xd4);
	assert_int_equal(got[5], 0xc3);
	assert_int_equal(got[6], 0xb2);
	assert_int_equal(got[7], 0xa1);

	/* Linux's MSI poll: MSIData 0 aimed at the CMD_SYNC's own first word. */
	put_cmd(&f, QBASE, 2, sync_w0(1, 0) | (3ull << 22), QBASE + 2 * 16);
	f.st.cmdq.prod = 3;
	assert_int_equal(process(&f, &r), 1);
	assert_int_equal(ims_mem_read64(f.io.mem, QBASE + 2 * 16, &w0), IMS_MEM_OK);
	assert_int_equal(w0 & 0xffffffffull, 0);

	/* CS = SIG_NONE: no write. */
	put_cmd(&f, QBASE, 3, sync_w0(0, 0x55), QBASE + 0x808);
	f.st.cmdq.prod = 4;
	assert_int_equal(process(&f, &r), 1);
	assert_int_equal(ims_mem_read64(f.io.mem, QBASE + 0x808, &w0), IMS_MEM_OK);
	assert_int_equal(w0, 0);

	/* An aborted MSI write: GERROR.MSI_CMDQ_ABT_ERR, and the CMD_SYNC completes. */
	put_cmd(&f, QBASE, 4, sync_w0(1, 0x55), 0x40000000ull);
	put_cmd(&f, QBASE, 5, OP_TLBI_NSNH_ALL, 0);
	f.st.cmdq.prod = 6;
	assert_int_equal(process(&f, &r), 2);
	assert_int_equal(f.st.gerror ^ f.st.gerrorn, GERROR_MSI_CMDQ_ABT_ERR);
	assert_int_equal(f.st.cmdq.cons, 6);
	fx_fini(&f);
}

/* CR0.CMDQEN clear: the queue is not consumed at all. */
static void test_6_3_queue_disabled(void **state)
{
	struct fx f;
	struct rec r = { 0 };

	(void)state;
	fx_queue(&f, 3);
	f.st.cr0 = 0x1 | 0x2 | 0x4 | 0x10;  /* everything but CMDQEN */
	put_cmd(&f, QBASE, 0, 0x47, 0);
	f.st.cmdq.prod = 1;
	assert_int_equal(process(&f, &r), 0);
	assert_int_equal(r.n, 0);
	assert_int_equal(f.st.cmdq.cons, 0);
	assert_int_equal(f.st.gerror, 0);
	fx_fini(&f);
}

/*
 * Encoders (cmdq.c, smmuv3.h): each command equals the one built from the
 * spec's bit positions and decodes to the intended neutral request.
 */
static void test_4_4_encoders_tlbi(void **state)
{
	struct fx f;
	struct ims_inv d;
	uint64_t w[2];

	(void)state;
	fx_init(&f, IDR0_ALL, IDR3_RIL);
	/* 4.4.1 range: 3 * 2^2 4 KiB pages at 0x7f0000010000, TTL 3, Leaf. */
	smmu_cmd_tlbi_nh_va(w, 5, 9, 0x7f0000010000ull, true, 1, 2, 2, 3);
	assert_int_equal(w[0], tlbi_w0(OP_TLBI_NH_VA, 2, 2, 5, 9));
	assert_int_equal(w[1], tlbi_w1(0x7f0000010000ull, 1, 3, 1));
	d = dec_ok(&f, w[0], w[1]);
	assert_int_equal(d.scope, IMS_INV_SCOPE_RANGE);
	assert_true(d.flags & IMS_INV_F_STAGE1);
	assert_true(d.flags & IMS_INV_F_LEAF);
	assert_true(d.has_domain);
	assert_int_equal(d.domain, 5);
	assert_true(d.has_pasid);
	assert_int_equal(d.pasid, 9);
	assert_int_equal(d.addr_first, 0x7f0000010000ull);
	assert_int_equal(d.addr_last, 0x7f0000010000ull + 12 * 0x1000 - 1);
	assert_int_equal(d.ttl, 1); /* Arm level 3 = our level 0 */
	/* A single address: TG 0. */
	smmu_cmd_tlbi_nh_va(w, 5, 9, 0x4000, false, 0, 0, 0, 0);
	assert_int_equal(w[1], tlbi_w1(0x4000, 0, 0, 0));
	d = dec_ok(&f, w[0], w[1]);
	assert_int_equal(d.addr_first, 0x4000);
	assert_int_equal(d.addr_last, 0x4fff);
	assert_false(d.flags & IMS_INV_F_LEAF);

	smmu_cmd_tlbi_nh_asid(w, 5, 9);
	assert_int_equal(w[0], tlbi_w0(OP_TLBI_NH_ASID, 0, 0, 5, 9));
	assert_int_equal(w[1], 0);
	d = dec_ok(&f, w[0], w[1]);
	assert_int_equal(d.scope, IMS_INV_SCOPE_PASID);
	assert_int_equal(d.pasid, 9);
	assert_int_equal(d.domain, 5);

	smmu_cmd_tlbi_nh_all(w, 5);
	assert_int_equal(w[0], tlbi_w0(OP_TLBI_NH_ALL, 0, 0, 5, 0));
	d = dec_ok(&f, w[0], w[1]);
	assert_int_equal(d.scope, IMS_INV_SCOPE_DOMAIN);
	assert_int_equal(d.flags & (IMS_INV_F_STAGE1 | IMS_INV_F_STAGE2), IMS_INV_F_STAGE1);

	smmu_cmd_tlbi_s2_ipa(w, 6, 0x80000000ull, true, 1, 0, 3, 3);
	assert_int_equal(w[0], tlbi_w0(OP_TLBI_S2_IPA, 3, 0, 6, 0));
	assert_int_equal(w[1], tlbi_w1(0x80000000ull, 1, 3, 1));
	d = dec_ok(&f, w[0], w[1]);
	assert_int_equal(d.scope, IMS_INV_SCOPE_RANGE);
	assert_int_equal(d.flags & (IMS_INV_F_STAGE1 | IMS_INV_F_STAGE2), IMS_INV_F_STAGE2);
	assert_int_equal(d.domain, 6);
	assert_int_equal(d.addr_last, 0x80000000ull + 4 * 0x1000 - 1);

	smmu_cmd_tlbi_s12_vmall(w, 6);
	assert_int_equal(w[0], tlbi_w0(OP_TLBI_S12_VMALL, 0, 0, 6, 0));
	d = dec_ok(&f, w[0], w[1]);
	assert_int_equal(d.scope, IMS_INV_SCOPE_DOMAIN);
	assert_int_equal(d.flags, IMS_INV_F_STAGE1 | IMS_INV_F_STAGE2);

	smmu_cmd_tlbi_nsnh_all(w);
	assert_int_equal(w[0], OP_TLBI_NSNH_ALL);
	d = dec_ok(&f, w[0], w[1]);
	assert_int_equal(d.scope, IMS_INV_SCOPE_ALL);
	fx_fini(&f);
}

static void test_4_3_4_7_encoders_cfgi_sync(void **state)
{
	struct fx f;
	struct ims_inv d;
	uint64_t w[2];

	(void)state;
	fx_init(&f, IDR0_ALL, 0);
	smmu_cmd_cfgi_ste(w, 0x1234, true);
	assert_int_equal(w[0], sid_w0(OP_CFGI_STE, 0x1234, 0, 0, 0));
	assert_int_equal(w[1], 1);
	d = dec_ok(&f, w[0], w[1]);
	assert_int_equal(d.targets, IMS_INV_T_CONTEXT | IMS_INV_T_PASID);
	assert_int_equal(d.scope, IMS_INV_SCOPE_SOURCE);
	assert_int_equal(d.sid_first, 0x1234);
	assert_true(d.flags & IMS_INV_F_LEAF);

	smmu_cmd_cfgi_cd(w, 0x1234, 0x55, false);
	assert_int_equal(w[0], sid_w0(OP_CFGI_CD, 0x1234, 0x55, 0, 0));
	assert_int_equal(w[1], 0);
	d = dec_ok(&f, w[0], w[1]);
	assert_int_equal(d.targets, IMS_INV_T_PASID);
	assert_true(d.has_pasid);
	assert_int_equal(d.pasid, 0x55);
	assert_false(d.flags & IMS_INV_F_LEAF);

	/* CMD_SYNC, CS = SIG_IRQ with an MSI (IDR0.MSI): MSIAddr 115:66, MSIData 63:32. */
	smmu_cmd_sync(w, 1, 0x100040, 0xfeed);
	assert_int_equal(w[0], sync_w0(1, 0xfeed));
	assert_int_equal(w[1], 0x100040);
	d = dec_ok(&f, w[0], w[1]);
	assert_int_equal(d.targets, IMS_INV_T_SYNC);
	assert_true(d.flags & IMS_INV_F_STATUS_WRITE);
	assert_int_equal(d.status_addr, 0x100040);
	assert_int_equal(d.status_data, 0xfeed);
	smmu_cmd_sync(w, 0, 0, 0);
	assert_int_equal(w[0], sync_w0(0, 0));
	assert_int_equal(dec_ok(&f, w[0], w[1]).flags, 0);
	fx_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_4_1_illegal),
		cmocka_unit_test(test_4_2_prefetch),
		cmocka_unit_test(test_4_3_cfgi_ste),
		cmocka_unit_test(test_4_3_cfgi_ste_range),
		cmocka_unit_test(test_4_3_cfgi_cd),
		cmocka_unit_test(test_4_4_tlbi_nh_all_asid),
		cmocka_unit_test(test_4_4_tlbi_nh_va_single),
		cmocka_unit_test(test_4_4_1_range),
		cmocka_unit_test(test_4_4_tlbi_el2),
		cmocka_unit_test(test_4_4_tlbi_el3_secure_only),
		cmocka_unit_test(test_4_4_tlbi_s2_nsnh),
		cmocka_unit_test(test_4_5_atc_inv),
		cmocka_unit_test(test_4_5_pri_resp),
		cmocka_unit_test(test_4_6_resume_stall_term),
		cmocka_unit_test(test_4_7_sync),
		cmocka_unit_test(test_3_5_queue_basic),
		cmocka_unit_test(test_3_5_queue_wrap),
		cmocka_unit_test(test_6_3_queue_geometry),
		cmocka_unit_test(test_7_1_queue_illegal_and_resume),
		cmocka_unit_test(test_7_1_queue_fetch_abort),
		cmocka_unit_test(test_4_7_queue_sync_msi),
		cmocka_unit_test(test_6_3_queue_disabled),
		cmocka_unit_test(test_4_4_encoders_tlbi),
		cmocka_unit_test(test_4_3_4_7_encoders_cfgi_sync),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
