/*
 * test_vmsa.c - the VMSAv8-64 translation table format (formats/smmuv3/vmsa.c)
 * driven through the generic walker.
 *
 * Reference: Arm ARM (DDI 0487) D8: initial lookup level per granule and
 * TxSZ, VTCR_EL2.SL0 and concatenated stage-2 tables, descriptor formats,
 * AP[2:1] / UXN / PXN / APTable / XNTable, S2AP / XN[1:0] (FEAT_XNX), the
 * Access flag and DBM; the pseudocode AArch64.S1Walk, S2InvalidSL,
 * S2InconsistentSL, S1DirectBasePermissions, S2DirectBasePermissions.
 * Arm IHI 0070 (SMMUv3) 5.2 / 5.4 for the STE / CD fields.
 *
 * Tables are written here as raw descriptor values built from the Arm ARM
 * bit positions below, never with the format's encoders or masks, and the
 * expected results come from the Arm ARM's tables.  The instance is a bare
 * struct ims_iommu with its own memory, as the walker needs nothing else.
 *
 * Levels in faults are ours: ours = 3 - spec level.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>

#include <cmocka.h>

#include "formats/smmuv3/smmu_int.h"

/* Descriptor bits (Arm ARM D8.3). */
#define D_VALID 0x1ull                /* [0] */
#define D_TABLE 0x3ull                /* [1:0] = 0b11 above the last level */
#define D_PAGE 0x3ull                 /* [1:0] = 0b11 at the last level */
#define D_BLOCK 0x1ull                /* [1:0] = 0b01 */
#define D_AP1 (1ull << 6)             /* AP[1]: EL0 access */
#define D_AP2 (1ull << 7)             /* AP[2]: read-only */
#define D_AP(v) ((uint64_t)(v) << 6)  /* AP[2:1] */
#define D_S2AP(v) ((uint64_t)(v) << 6) /* S2AP[1:0]: bit 6 read, bit 7 write */
#define D_AF (1ull << 10)
#define D_DBM (1ull << 51)
#define D_CONT (1ull << 52)
#define D_PXN (1ull << 53)
#define D_UXN (1ull << 54)
#define D_XN(v) ((uint64_t)(v) << 53) /* stage 2 XN[1:0] = bits 54:53 */
#define D_PXNTABLE (1ull << 59)
#define D_UXNTABLE (1ull << 60)
#define D_APTABLE(v) ((uint64_t)(v) << 61) /* APTable[1:0] = bits 62:61 */
#define D_OA_HI(v) ((uint64_t)(v) << 12) /* 64K: OA[51:48] in bits 15:12 */

#define RAM_BASE 0x100000ull

#define R IMS_ACC_READ
#define W IMS_ACC_WRITE
#define X IMS_ACC_EXEC
#define P IMS_ACC_PRIV

struct fx {
	struct ims_iommu io;
	struct ims_result res;
	struct ims_walk_ctx w;
	struct ims_walk_out out;
	uint64_t next; /* bump allocator for tables */
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->io.mem = ims_mem_new(52);
	if (!f->io.mem) {
		free(f);
		return -1;
	}
	f->next = RAM_BASE;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	ims_mem_free(f->io.mem);
	free(f);
	return 0;
}

/* A zeroed table of 2^lg2 bytes, aligned to its size, backed by RAM. */
static uint64_t alloc_table(struct fx *f, unsigned lg2)
{
	uint64_t size = 1ull << lg2;
	uint64_t a = (f->next + size - 1) & ~(size - 1);
	uint64_t len = size < IMS_FRAME_SIZE ? IMS_FRAME_SIZE : size;

	assert_int_equal(ims_mem_add_ram(f->io.mem, a, len), 0);
	f->next = a + len;
	return a;
}

static int alloc_cb(void *opaque, unsigned lg2, uint64_t *addr)
{
	*addr = alloc_table(opaque, lg2);
	return 0;
}

static void wr(struct fx *f, uint64_t pa, uint64_t val)
{
	assert_int_equal(ims_mem_write64(f->io.mem, pa, val), IMS_MEM_OK);
}

static bool walk(struct fx *f, const struct ims_pt_cfg *cfg, const struct ims_pt_cfg *s2,
		 uint64_t in, unsigned access)
{
	memset(&f->res, 0, sizeof(f->res));
	f->res.fault.level = -1;
	memset(&f->w, 0, sizeof(f->w));
	f->w.iommu = &f->io;
	f->w.res = &f->res;
	memset(&f->out, 0, sizeof(f->out));
	return ims_walk(&f->w, cfg, s2, in, access,
			cfg->stage == 2 ? IMS_READ_S2 : IMS_READ_S1, &f->out);
}

static void expect_fault(struct fx *f, const struct ims_pt_cfg *cfg, uint64_t in,
			 unsigned access, enum ims_fault_kind kind, int level)
{
	assert_false(walk(f, cfg, NULL, in, access));
	assert_int_equal(f->res.fault.kind, kind);
	assert_int_equal(f->res.fault.level, level);
}

static void expect_ok(struct fx *f, const struct ims_pt_cfg *cfg, uint64_t in, unsigned access,
		      uint64_t out, unsigned size_lg2)
{
	bool ok = walk(f, cfg, NULL, in, access);

	if (!ok)
		fail_msg("walk of 0x%llx access %u faulted: kind %d level %d",
			 (unsigned long long)in, access, f->res.fault.kind, f->res.fault.level);
	assert_int_equal(f->out.out, out);
	assert_int_equal(f->out.size_lg2, size_lg2);
}

/*
 * The architecture's address split (D8.2): spec level L's index starts at
 * bit g + (3 - L) * (g - 3) and is g - 3 bits wide, except at the start
 * level where it runs up to the top input bit.
 */
static unsigned spec_shift(unsigned g, int spec)
{
	return g + (unsigned)(3 - spec) * (g - 3);
}

static uint64_t spec_index(unsigned g, unsigned ia, int start, int spec, uint64_t va)
{
	unsigned sh = spec_shift(g, spec);
	unsigned width = spec == start ? ia - sh : g - 3;

	return (va >> sh) & ((1ull << width) - 1);
}

/*
 * Write a chain of table descriptors from `root` (start level `start`)
 * down to spec level `leaf_spec`, and `leaf` there; table descriptors of
 * level `tbl_spec` get the extra bits `tbl_bits`.  Returns the address of
 * the leaf entry.
 */
static uint64_t chain(struct fx *f, unsigned g, unsigned ia, int start, uint64_t root, uint64_t va,
		      int leaf_spec, uint64_t leaf, int tbl_spec, uint64_t tbl_bits)
{
	uint64_t table = root;

	for (int spec = start; spec < leaf_spec; spec++) {
		uint64_t next = alloc_table(f, g);
		uint64_t d = next | D_TABLE;

		if (spec == tbl_spec)
			d |= tbl_bits;
		wr(f, table + spec_index(g, ia, start, spec, va) * 8, d);
		table = next;
	}
	table += spec_index(g, ia, start, leaf_spec, va) * 8;
	wr(f, table, leaf);
	return table;
}

/* ---- geometry: D8.2 initial lookup level, TxSZ ranges, SL0 ---- */

struct s1_geo {
	unsigned g, tsz, start; /* granule, TxSZ, initial lookup level (spec) */
};

/*
 * Arm ARM D8.2, initial lookup level for stage 1:
 *   4K:  TxSZ 16-24 -> L0, 25-33 -> L1, 34-39 -> L2
 *   16K: TxSZ 16 -> L0, 17-27 -> L1, 28-38 -> L2, 39 -> L3
 *   64K: TxSZ 16-21 -> L1, 22-34 -> L2, 35-39 -> L3
 */
static const struct s1_geo s1_geo[] = {
	{ 12, 16, 0 }, { 12, 24, 0 }, { 12, 25, 1 }, { 12, 33, 1 }, { 12, 34, 2 }, { 12, 39, 2 },
	{ 14, 16, 0 }, { 14, 17, 1 }, { 14, 27, 1 }, { 14, 28, 2 }, { 14, 38, 2 }, { 14, 39, 3 },
	{ 16, 16, 1 }, { 16, 21, 1 }, { 16, 22, 2 }, { 16, 34, 2 }, { 16, 35, 3 }, { 16, 39, 3 },
};

/* D8.2: each granule and TxSZ starts at its level and maps a page at L3. */
static void test_d8_s1_start_level(void **state)
{
	struct fx *f = *state;

	for (size_t i = 0; i < sizeof(s1_geo) / sizeof(s1_geo[0]); i++) {
		const struct s1_geo *t = &s1_geo[i];
		unsigned ia = 64 - t->tsz;
		uint64_t root = alloc_table(f, t->g);
		/* The top input bit, some middle bits, and an offset in the page. */
		uint64_t va = (1ull << (ia - 1)) | (1ull << t->g) | 0x18;
		uint64_t page = 0x7654ull << t->g;
		struct ims_pt_cfg cfg;

		assert_int_equal(smmu_s1_cfg_init(&cfg, root, t->g, t->tsz, 48, 0), 0);
		assert_ptr_equal(cfg.fmt, &smmu_vmsa_s1_format);
		assert_int_equal(cfg.levels, 4 - t->start);
		assert_int_equal(cfg.ia_bits, ia);
		assert_int_equal(cfg.granule_lg2, t->g);
		assert_int_equal(cfg.stage, 1);
		assert_int_equal(cfg.root, root);
		chain(f, t->g, ia, (int)t->start, root, va, 3, page | D_PAGE | D_AF, -1, 0);
		expect_ok(f, &cfg, va, R | P, page | 0x18, t->g);
		assert_int_equal(f->res.nreads, 4 - t->start);
		/* The first read is at the root's entry for the top index. */
		assert_int_equal(f->res.reads[0].pa,
				 root + spec_index(t->g, ia, (int)t->start, (int)t->start, va) * 8);
	}
}

/* IHI 0070 5.4 / D8.2: TxSZ outside 16..39 (48/47 with STT) is ILLEGAL. */
static void test_d8_s1_txsz_range(void **state)
{
	struct ims_pt_cfg cfg, before;

	(void)state;
	memset(&cfg, 0xa5, sizeof(cfg));
	before = cfg;
	assert_int_equal(smmu_s1_cfg_init(&cfg, 0x100000, 12, 15, 48, 0), -EINVAL);
	assert_int_equal(smmu_s1_cfg_init(&cfg, 0x100000, 12, 40, 48, 0), -EINVAL);
	assert_int_equal(smmu_s1_cfg_init(&cfg, 0x100000, 14, 40, 48, 0), -EINVAL);
	assert_int_equal(smmu_s1_cfg_init(&cfg, 0x100000, 16, 40, 48, 0), -EINVAL);
	assert_int_equal(smmu_s1_cfg_init(&cfg, 0x100000, 12, 49, 48, SMMU_F_STT), -EINVAL);
	assert_int_equal(smmu_s1_cfg_init(&cfg, 0x100000, 16, 48, 48, SMMU_F_STT), -EINVAL);
	assert_int_equal(smmu_s1_cfg_init(&cfg, 0x100000, 13, 25, 48, 0), -EINVAL);
	assert_int_equal(smmu_s1_cfg_init(&cfg, 0x100000, 12, 25, 31, 0), -EINVAL);
	/* A failed call changes nothing. */
	assert_memory_equal(&cfg, &before, sizeof(cfg));

	/* FEAT_TTST: 4K/16K up to 48 (one level, L3), 64K up to 47. */
	assert_int_equal(smmu_s1_cfg_init(&cfg, 0x100000, 12, 48, 48, SMMU_F_STT), 0);
	assert_int_equal(cfg.levels, 1);
	assert_int_equal(smmu_s1_cfg_init(&cfg, 0x100000, 14, 48, 48, SMMU_F_STT), 0);
	assert_int_equal(cfg.levels, 1);
	assert_int_equal(smmu_s1_cfg_init(&cfg, 0x100000, 16, 47, 48, SMMU_F_STT), 0);
	assert_int_equal(cfg.levels, 1);

	/* Output size: at most 48 bits with 4K/16K (no LPA2), 52 with 64K. */
	assert_int_equal(smmu_s1_cfg_init(&cfg, 0x100000, 12, 16, 52, 0), 0);
	assert_int_equal(cfg.oa_bits, 48);
	assert_int_equal(smmu_s1_cfg_init(&cfg, 0x100000, 14, 16, 52, 0), 0);
	assert_int_equal(cfg.oa_bits, 48);
	assert_int_equal(smmu_s1_cfg_init(&cfg, 0x100000, 16, 16, 52, 0), 0);
	assert_int_equal(cfg.oa_bits, 52);
	assert_int_equal(smmu_s1_cfg_init(&cfg, 0x100000, 12, 16, 40, 0), 0);
	assert_int_equal(cfg.oa_bits, 40);
}

/* The TTB is aligned down to the initial table's size (TTBaseAddress). */
static void test_d8_ttb_alignment(void **state)
{
	struct ims_pt_cfg cfg;

	(void)state;
	/* 4K, TxSZ 25: L1 with 512 entries, a 4 KiB table. */
	assert_int_equal(smmu_s1_cfg_init(&cfg, 0x101230, 12, 25, 48, 0), 0);
	assert_int_equal(cfg.root, 0x101000);
	/* 16K, TxSZ 16: L0 resolves VA[47] only: a 16-byte table. */
	assert_int_equal(smmu_s1_cfg_init(&cfg, 0x100010, 14, 16, 48, 0), 0);
	assert_int_equal(cfg.root, 0x100010);
	assert_int_equal(smmu_s1_cfg_init(&cfg, 0x100018, 14, 16, 48, 0), 0);
	assert_int_equal(cfg.root, 0x100010);
	/* 64K, TxSZ 16: L1 resolves VA[47:42]: 64 entries, 512 bytes. */
	assert_int_equal(smmu_s1_cfg_init(&cfg, 0x100300, 16, 16, 48, 0), 0);
	assert_int_equal(cfg.root, 0x100200);
	/* Stage 2, 4K, T0SZ 24, SL0 1: two concatenated tables, 8 KiB. */
	assert_int_equal(smmu_s2_cfg_init(&cfg, 0x101000, 12, 24, 1, 48, 0), 0);
	assert_int_equal(cfg.root, 0x100000);
}

struct s2_geo {
	unsigned g, t0sz, sl0, start, ntables;
};

/*
 * VTCR_EL2.SL0 (D8.2, AArch64.S2StartLevel):
 *   4K: 0 -> L2, 1 -> L1, 2 -> L0;  16K and 64K: 0 -> L3, 1 -> L2, 2 -> L1.
 * The start level resolves IA bits [ia-1 : shift]; beyond one table's
 * stride the initial tables are concatenated, 2^(ia - shift - stride).
 */
static const struct s2_geo s2_geo[] = {
	{ 12, 34, 0, 2, 1 },  { 12, 30, 0, 2, 16 }, { 12, 25, 1, 1, 1 },
	{ 12, 24, 1, 1, 2 },  { 12, 21, 1, 1, 16 }, { 12, 16, 2, 0, 1 },
	{ 12, 24, 2, 0, 1 },  { 14, 39, 0, 3, 1 },  { 14, 35, 0, 3, 16 },
	{ 14, 28, 1, 2, 1 },  { 14, 16, 2, 1, 2 },  { 16, 35, 0, 3, 1 },
	{ 16, 22, 1, 2, 1 },  { 16, 18, 1, 2, 16 }, { 16, 16, 2, 1, 1 },
};

/* D8.2: SL0 per granule and concatenated initial tables, walked at the top. */
static void test_d8_s2_start_level_concat(void **state)
{
	struct fx *f = *state;

	for (size_t i = 0; i < sizeof(s2_geo) / sizeof(s2_geo[0]); i++) {
		const struct s2_geo *t = &s2_geo[i];
		unsigned ia = 64 - t->t0sz;
		unsigned root_lg2 = t->g + (t->ntables == 16 ? 4 : t->ntables == 2 ? 1 : 0);
		uint64_t root = alloc_table(f, root_lg2);
		/* The highest page of the IPA space: it lands in the last table. */
		uint64_t ipa = ((1ull << ia) - 1) & ~((1ull << t->g) - 1);
		uint64_t page = 0x3ull << t->g;
		struct ims_pt_cfg cfg;

		assert_int_equal(smmu_s2_cfg_init(&cfg, root, t->g, t->t0sz, t->sl0, 48, 0), 0);
		assert_ptr_equal(cfg.fmt, &smmu_vmsa_s2_format);
		assert_int_equal(cfg.levels, 4 - t->start);
		assert_int_equal(cfg.ia_bits, ia);
		assert_int_equal(cfg.stage, 2);
		chain(f, t->g, ia, (int)t->start, root, ipa, 3, page | D_PAGE | D_AF | D_S2AP(1),
		      -1, 0);
		expect_ok(f, &cfg, ipa | 0x8, R, page | 0x8, t->g);
		/* The start level's last entry; with concatenation, the end of the last table. */
		{
			unsigned root_bits = ia - spec_shift(t->g, (int)t->start);

			if (t->ntables > 1)
				assert_int_equal(8ull << root_bits, (uint64_t)t->ntables << t->g);
			assert_int_equal(f->res.reads[0].pa, root + ((1ull << root_bits) - 1) * 8);
		}
		assert_int_equal(f->res.nreads, 4 - t->start);
	}
}

/* The brief's example: 4K, T0SZ 24 (40-bit IPA), SL0 1: IPA[39] picks the table. */
static void test_d8_s2_concat_two_tables(void **state)
{
	struct fx *f = *state;
	uint64_t root = alloc_table(f, 13);
	struct ims_pt_cfg cfg;

	assert_int_equal(smmu_s2_cfg_init(&cfg, root, 12, 24, 1, 48, 0), 0);
	assert_int_equal(cfg.levels, 3);
	/* IPA 0x80_4000_0000: IPA[39:30] = 0x201: table 1, entry 1 -> 1 GiB block. */
	wr(f, root + 0x1000 + 8, 0x40000000ull | D_BLOCK | D_AF | D_S2AP(3));
	expect_ok(f, &cfg, 0x8040123456ull, R | W, 0x40123456ull, 30);
	assert_int_equal(f->res.reads[0].pa, root + 0x1008);
	/* IPA 0x00_4000_0000 reads table 0, entry 1: empty. */
	expect_fault(f, &cfg, 0x0040000000ull, R, IMS_FK_TRANSLATION, 2);
	assert_int_equal(f->res.fault.fetch_addr, root + 8);
	/* Beyond the 40-bit IPA space: Translation fault (IPAIsOutOfRange). */
	expect_fault(f, &cfg, 1ull << 40, R, IMS_FK_TRANSLATION, 2);
}

/* S2InvalidSL / S2InconsistentSL / T0SZ range: the STE is ILLEGAL. */
static void test_d8_s2_invalid_sl(void **state)
{
	struct ims_pt_cfg cfg, before;

	(void)state;
	memset(&cfg, 0x5a, sizeof(cfg));
	before = cfg;
	/* 4K, SL0 0 (L2): 40-bit IPA would need 2^10 tables. */
	assert_int_equal(smmu_s2_cfg_init(&cfg, 0, 12, 24, 0, 48, 0), -EINVAL);
	/* 4K, SL0 0 (L2): 35 bits needs 32 tables: more than 16. */
	assert_int_equal(smmu_s2_cfg_init(&cfg, 0, 12, 29, 0, 48, 0), -EINVAL);
	/* 4K, SL0 1 (L1): 44 bits needs 32 tables. */
	assert_int_equal(smmu_s2_cfg_init(&cfg, 0, 12, 20, 1, 48, 0), -EINVAL);
	/* 4K, SL0 2 (L0): fewer than 40 bits leaves L0 nothing to resolve. */
	assert_int_equal(smmu_s2_cfg_init(&cfg, 0, 12, 25, 2, 48, 0), -EINVAL);
	assert_int_equal(smmu_s2_cfg_init(&cfg, 0, 12, 32, 2, 48, 0), -EINVAL);
	/* 4K, SL0 3: L3 only with FEAT_TTST. */
	assert_int_equal(smmu_s2_cfg_init(&cfg, 0, 12, 39, 3, 48, 0), -EINVAL);
	/* 16K SL0 3 (L0) needs LPA2; 64K SL0 3 is reserved. */
	assert_int_equal(smmu_s2_cfg_init(&cfg, 0, 14, 16, 3, 48, 0), -EINVAL);
	assert_int_equal(smmu_s2_cfg_init(&cfg, 0, 16, 16, 3, 52, 0), -EINVAL);
	/* 16K, SL0 1 (L2 from bit 25): a 25-bit IPA leaves L2 nothing. */
	assert_int_equal(smmu_s2_cfg_init(&cfg, 0, 14, 39, 1, 48, 0), -EINVAL);
	/* 64K, SL0 0 (L3): 34 bits would need 2^5 tables. */
	assert_int_equal(smmu_s2_cfg_init(&cfg, 0, 16, 30, 0, 48, 0), -EINVAL);
	/* SL0 is two bits. */
	assert_int_equal(smmu_s2_cfg_init(&cfg, 0, 12, 25, 4, 48, 0), -EINVAL);
	/* T0SZ out of range. */
	assert_int_equal(smmu_s2_cfg_init(&cfg, 0, 12, 15, 2, 48, 0), -EINVAL);
	assert_int_equal(smmu_s2_cfg_init(&cfg, 0, 12, 40, 0, 48, 0), -EINVAL);
	/* 64K 52-bit IPA needs a 52-bit output size (FEAT_LPA). */
	assert_int_equal(smmu_s2_cfg_init(&cfg, 0, 16, 12, 2, 48, 0), -EINVAL);
	/* Not a granule; no PS encoding. */
	assert_int_equal(smmu_s2_cfg_init(&cfg, 0, 15, 25, 1, 48, 0), -EINVAL);
	assert_int_equal(smmu_s2_cfg_init(&cfg, 0, 12, 25, 1, 24, 0), -EINVAL);
	assert_memory_equal(&cfg, &before, sizeof(cfg));

	/* The valid neighbours. */
	assert_int_equal(smmu_s2_cfg_init(&cfg, 0, 12, 44, 3, 48, SMMU_F_STT), 0);
	assert_int_equal(cfg.levels, 1);
	assert_int_equal(cfg.ia_bits, 20);
	assert_int_equal(smmu_s2_cfg_init(&cfg, 0, 16, 12, 2, 52, 0), 0);
	assert_int_equal(cfg.levels, 3);
	assert_int_equal(cfg.ia_bits, 52);
	assert_int_equal(smmu_s2_cfg_init(&cfg, 0, 12, 30, 0, 48, 0), 0);
	assert_int_equal(smmu_s2_cfg_init(&cfg, 0, 12, 24, 2, 48, 0), 0);
}

/* ---- D8.3 descriptor types: blocks, pages, reserved encodings ---- */

static void test_d8_blocks_4k(void **state)
{
	struct fx *f = *state;
	uint64_t root = alloc_table(f, 12);
	struct ims_pt_cfg cfg;
	uint64_t va = 0x0000123456789abcull;

	assert_int_equal(smmu_s1_cfg_init(&cfg, root, 12, 16, 48, 0), 0);
	/* L1: 1 GiB block. */
	chain(f, 12, 48, 0, root, va, 1, 0x40000000ull | D_BLOCK | D_AF, -1, 0);
	expect_ok(f, &cfg, va, R | P, 0x40000000ull | (va & 0x3fffffff), 30);
	/* L2: 2 MiB block; bits 20:12 of a block are RES0 and ignored. */
	chain(f, 12, 48, 0, root, va, 2, 0x200000ull | (1ull << 13) | D_BLOCK | D_AF, -1, 0);
	expect_ok(f, &cfg, va, R | P, 0x200000ull | (va & 0x1fffff), 21);
	/* L3: 0b11 is a page ... */
	chain(f, 12, 48, 0, root, va, 3, 0x5000ull | D_PAGE | D_AF, -1, 0);
	expect_ok(f, &cfg, va, R | P, 0x5abcull, 12);
	/* ... and 0b01 is reserved: Translation fault. */
	chain(f, 12, 48, 0, root, va, 3, 0x5000ull | D_BLOCK | D_AF, -1, 0);
	expect_fault(f, &cfg, va, R | P, IMS_FK_TRANSLATION, 0);
	/* L0: no block with 4K (LPA2 only). */
	wr(f, root + spec_index(12, 48, 0, 0, va) * 8, D_BLOCK | D_AF);
	expect_fault(f, &cfg, va, R | P, IMS_FK_TRANSLATION, 3);
	/* Invalid entry: bit 0 clear, whatever else is set. */
	wr(f, root + spec_index(12, 48, 0, 0, va) * 8, ~1ull);
	expect_fault(f, &cfg, va, R | P, IMS_FK_TRANSLATION, 3);
}

static void test_d8_blocks_16k(void **state)
{
	struct fx *f = *state;
	uint64_t root = alloc_table(f, 14);
	struct ims_pt_cfg cfg;
	uint64_t va = 0x0000923456789abcull;

	assert_int_equal(smmu_s1_cfg_init(&cfg, root, 14, 16, 48, 0), 0);
	assert_int_equal(cfg.levels, 4);
	/* L2: 32 MiB block. */
	chain(f, 14, 48, 0, root, va, 2, 0x6000000ull | D_BLOCK | D_AF, -1, 0);
	expect_ok(f, &cfg, va, R | P, 0x6000000ull | (va & 0x1ffffff), 25);
	/* L1: no block (64 GiB only with LPA2). */
	chain(f, 14, 48, 0, root, va, 1, 0x1000000000ull | D_BLOCK | D_AF, -1, 0);
	expect_fault(f, &cfg, va, R | P, IMS_FK_TRANSLATION, 2);
	/* L0: never a block. */
	wr(f, root + 8, D_BLOCK | D_AF);
	expect_fault(f, &cfg, va, R | P, IMS_FK_TRANSLATION, 3);
	/* L3 page of 16 KiB; 0b01 there is reserved. */
	chain(f, 14, 48, 0, root, va, 3, 0x24000ull | D_PAGE | D_AF, -1, 0);
	expect_ok(f, &cfg, va, R | P, 0x24000ull | (va & 0x3fff), 14);
	chain(f, 14, 48, 0, root, va, 3, 0x24000ull | D_BLOCK | D_AF, -1, 0);
	expect_fault(f, &cfg, va, R | P, IMS_FK_TRANSLATION, 0);
}

static void test_d8_blocks_64k(void **state)
{
	struct fx *f = *state;
	uint64_t root = alloc_table(f, 16);
	struct ims_pt_cfg cfg;
	uint64_t va = 0x0000923456789abcull;

	assert_int_equal(smmu_s1_cfg_init(&cfg, root, 16, 16, 48, 0), 0);
	assert_int_equal(cfg.levels, 3);
	/* L2: 512 MiB block. */
	chain(f, 16, 48, 1, root, va, 2, 0x60000000ull | D_BLOCK | D_AF, -1, 0);
	expect_ok(f, &cfg, va, R | P, 0x60000000ull | (va & 0x1fffffff), 29);
	/* L1: no 4 TiB block in this model (needs 52-bit PA). */
	chain(f, 16, 48, 1, root, va, 1, D_BLOCK | D_AF, -1, 0);
	expect_fault(f, &cfg, va, R | P, IMS_FK_TRANSLATION, 2);
	/* L3 page of 64 KiB; 0b01 there is reserved. */
	chain(f, 16, 48, 1, root, va, 3, 0x70000ull | D_PAGE | D_AF, -1, 0);
	expect_ok(f, &cfg, va, R | P, 0x70000ull | (va & 0xffff), 16);
	chain(f, 16, 48, 1, root, va, 3, 0x70000ull | D_BLOCK | D_AF, -1, 0);
	expect_fault(f, &cfg, va, R | P, IMS_FK_TRANSLATION, 0);
}

/* A block at the (concatenated) initial level of stage 2. */
static void test_d8_s2_blocks(void **state)
{
	struct fx *f = *state;
	uint64_t root = alloc_table(f, 13);
	struct ims_pt_cfg cfg;
	uint64_t ipa = 0x00c0654321ull;

	assert_int_equal(smmu_s2_cfg_init(&cfg, root, 12, 24, 1, 48, 0), 0);
	chain(f, 12, 40, 1, root, ipa, 2, 0x80000000ull | D_BLOCK | D_AF | D_S2AP(1), -1, 0);
	expect_ok(f, &cfg, ipa, R, 0x80000000ull | (ipa & 0x1fffff), 21);
	chain(f, 12, 40, 1, root, ipa, 1, 0xc0000000ull | D_BLOCK | D_AF | D_S2AP(1), -1, 0);
	expect_ok(f, &cfg, ipa, R, 0xc0000000ull | (ipa & 0x3fffffff), 30);
	chain(f, 12, 40, 1, root, ipa, 3, 0x9000ull | D_BLOCK | D_AF | D_S2AP(1), -1, 0);
	expect_fault(f, &cfg, ipa, R, IMS_FK_TRANSLATION, 0);
}

/* D8.6: the contiguous bit is reported as a hint and changes nothing else. */
static void test_d8_contiguous_hint(void **state)
{
	struct fx *f = *state;
	uint64_t root = alloc_table(f, 12);
	struct ims_pt_cfg cfg;
	struct ims_pte pte;
	uint64_t va = 0x12345678ull;

	assert_int_equal(smmu_s1_cfg_init(&cfg, root, 12, 25, 48, 0), 0);
	cfg.fmt->decode(&cfg, 0, 0x5000ull | D_PAGE | D_AF | D_CONT, &pte);
	assert_int_equal(pte.kind, IMS_PTE_LEAF);
	assert_true(pte.flags & IMS_PTE_F_CONTIG);
	assert_int_equal(pte.addr, 0x5000);
	cfg.fmt->decode(&cfg, 0, 0x5000ull | D_PAGE | D_AF, &pte);
	assert_false(pte.flags & IMS_PTE_F_CONTIG);
	cfg.fmt->decode(&cfg, 1, 0x200000ull | D_BLOCK | D_AF | D_CONT, &pte);
	assert_true(pte.flags & IMS_PTE_F_CONTIG);
	chain(f, 12, 39, 1, root, va, 3, 0x5000ull | D_PAGE | D_AF | D_CONT, -1, 0);
	expect_ok(f, &cfg, va, R | P, 0x5678, 12);
}

/* ---- D8.4 stage-1 permissions ---- */

struct ap_case {
	unsigned ap;      /* AP[2:1] */
	unsigned access;
	bool ok;
};

/*
 * Data access permissions, EL1&0 regime (D8.4):
 *   AP[2:1]  EL1 (P)   EL0
 *   00       RW        none
 *   01       RW        RW
 *   10       R         none
 *   11       R         R
 */
static const struct ap_case ap_cases[] = {
	{ 0, R, false }, { 0, W, false }, { 0, R | P, true }, { 0, W | P, true },
	{ 1, R, true },  { 1, W, true },  { 1, R | P, true }, { 1, W | P, true },
	{ 2, R, false }, { 2, W, false }, { 2, R | P, true }, { 2, W | P, false },
	{ 3, R, true },  { 3, W, false }, { 3, R | P, true }, { 3, W | P, false },
};

static void test_d8_s1_ap(void **state)
{
	struct fx *f = *state;
	uint64_t root = alloc_table(f, 12);
	struct ims_pt_cfg cfg;
	uint64_t va = 0x7000123000ull, leaf;

	assert_int_equal(smmu_s1_cfg_init(&cfg, root, 12, 25, 48, 0), 0);
	leaf = chain(f, 12, 39, 1, root, va, 3, 0, -1, 0);
	for (size_t i = 0; i < sizeof(ap_cases) / sizeof(ap_cases[0]); i++) {
		const struct ap_case *c = &ap_cases[i];

		wr(f, leaf, 0x9000ull | D_PAGE | D_AF | D_AP(c->ap));
		if (c->ok) {
			expect_ok(f, &cfg, va, c->access, 0x9000, 12);
		} else {
			expect_fault(f, &cfg, va, c->access, IMS_FK_PERMISSION, 0);
			assert_int_not_equal(f->res.fault.missing, 0);
		}
	}
}

struct xn_case {
	unsigned ap;
	uint64_t bits;    /* UXN / PXN */
	uint32_t flags;   /* WXN, UWXN */
	bool el0_x, el1_x;
};

/*
 * Instruction execution (D8.4, S1DirectBasePermissions):
 *   EL0: not UXN (no EL0 read needed), and with WXN not EL0-writable;
 *   EL1: not PXN, not EL0-writable (AP 01), and with WXN not EL1-writable.
 */
static const struct xn_case xn_cases[] = {
	{ 2, 0, 0, true, true },
	{ 2, D_UXN, 0, false, true },
	{ 2, D_PXN, 0, true, false },
	{ 2, D_UXN | D_PXN, 0, false, false },
	{ 3, 0, 0, true, true },
	{ 0, 0, 0, true, true },
	{ 1, 0, 0, true, false },        /* writable at EL0: PXN implied */
	{ 0, 0, SMMU_F_WXN, true, false },
	{ 1, 0, SMMU_F_WXN, false, false },
	{ 3, 0, SMMU_F_WXN, true, true },
	{ 2, 0, SMMU_F_WXN, true, true },
	{ 3, 0, SMMU_F_UWXN, true, true },
	{ 1, 0, SMMU_F_UWXN, true, false },
};

static void test_d8_s1_xn_wxn(void **state)
{
	struct fx *f = *state;
	uint64_t root = alloc_table(f, 12);
	struct ims_pt_cfg cfg;
	uint64_t va = 0x7000456000ull, leaf;

	leaf = chain(f, 12, 39, 1, root, va, 3, 0, -1, 0);
	for (size_t i = 0; i < sizeof(xn_cases) / sizeof(xn_cases[0]); i++) {
		const struct xn_case *c = &xn_cases[i];

		assert_int_equal(smmu_s1_cfg_init(&cfg, root, 12, 25, 48, c->flags), 0);
		wr(f, leaf, 0xa000ull | D_PAGE | D_AF | D_AP(c->ap) | c->bits);
		if (c->el0_x)
			expect_ok(f, &cfg, va, X, 0xa000, 12);
		else
			expect_fault(f, &cfg, va, X, IMS_FK_PERMISSION, 0);
		if (c->el1_x)
			expect_ok(f, &cfg, va, X | P, 0xa000, 12);
		else
			expect_fault(f, &cfg, va, X | P, IMS_FK_PERMISSION, 0);
	}
}

struct tbl_case {
	int spec;          /* level of the restricting table descriptor */
	uint64_t tbl;      /* its APTable / XNTable bits */
	unsigned ap;       /* leaf AP[2:1] */
	unsigned access;
	bool ok;
};

/*
 * Hierarchical permissions (D8.4): APTable 01 no EL0 access, 10 no write,
 * 11 both; UXNTable / PXNTable.  APTable does not touch execution; "EL0
 * writable implies PXN" looks at the write permission left after APTable.
 */
static const struct tbl_case tbl_cases[] = {
	{ 1, D_APTABLE(1), 1, R, false },
	{ 1, D_APTABLE(1), 1, W, false },
	{ 1, D_APTABLE(1), 1, R | P, true },
	{ 1, D_APTABLE(1), 1, W | P, true },
	{ 1, D_APTABLE(2), 1, R, true },
	{ 1, D_APTABLE(2), 1, W, false },
	{ 1, D_APTABLE(2), 1, W | P, false },
	{ 1, D_APTABLE(2), 1, X | P, true },  /* no longer EL0-writable */
	{ 1, D_APTABLE(3), 1, R, false },
	{ 1, D_APTABLE(3), 1, R | P, true },
	{ 1, D_APTABLE(3), 1, W | P, false },
	{ 1, D_APTABLE(1), 3, X, true },
	{ 1, D_UXNTABLE, 3, X, false },
	{ 1, D_UXNTABLE, 3, X | P, true },
	{ 1, D_PXNTABLE, 3, X | P, false },
	{ 1, D_PXNTABLE, 3, X, true },
	{ 2, D_APTABLE(2), 1, W, false },     /* from the next level down too */
	{ 2, D_APTABLE(2), 1, R, true },
	{ 2, D_PXNTABLE, 0, X | P, false },
};

static void test_d8_s1_table_restrictions(void **state)
{
	struct fx *f = *state;
	struct ims_pt_cfg cfg;
	uint64_t va = 0x3000789000ull;

	for (size_t i = 0; i < sizeof(tbl_cases) / sizeof(tbl_cases[0]); i++) {
		const struct tbl_case *c = &tbl_cases[i];
		uint64_t root = alloc_table(f, 12);

		assert_int_equal(smmu_s1_cfg_init(&cfg, root, 12, 25, 48, 0), 0);
		chain(f, 12, 39, 1, root, va, 3, 0xb000ull | D_PAGE | D_AF | D_AP(c->ap), c->spec,
		      c->tbl);
		if (c->ok)
			expect_ok(f, &cfg, va, c->access, 0xb000, 12);
		else
			expect_fault(f, &cfg, va, c->access, IMS_FK_PERMISSION, 0);
	}
}

/* ---- D8.4 stage-2 permissions ---- */

struct s2p_case {
	uint64_t bits;    /* S2AP, XN */
	uint32_t flags;
	unsigned access;
	bool ok;
};

/*
 * S2AP[1:0]: 00 none, 01 R, 10 W, 11 RW, for both privileges.
 * XN[1:0] with FEAT_XNX: 00 all execute, 01 EL0 only, 10 none, 11 EL1
 * only; without it, bit 54 alone forbids execution and bit 53 is RES0.
 * An instruction fetch is checked against XN alone.
 */
static const struct s2p_case s2p_cases[] = {
	{ D_S2AP(0), 0, R, false },     { D_S2AP(0), 0, W, false },
	{ D_S2AP(0), 0, R | P, false }, { D_S2AP(1), 0, R, true },
	{ D_S2AP(1), 0, W, false },     { D_S2AP(1), 0, R | P, true },
	{ D_S2AP(1), 0, W | P, false }, { D_S2AP(2), 0, R, false },
	{ D_S2AP(2), 0, W, true },      { D_S2AP(2), 0, W | P, true },
	{ D_S2AP(3), 0, R | W, true },  { D_S2AP(3), 0, R | W | P, true },
	{ D_S2AP(1) | D_XN(0), 0, X, true },
	{ D_S2AP(1) | D_XN(0), 0, X | P, true },
	{ D_S2AP(1) | D_XN(2), 0, X, false },
	{ D_S2AP(1) | D_XN(2), 0, X | P, false },
	{ D_S2AP(1) | D_XN(1), 0, X, true },      /* bit 53 ignored without XNX */
	{ D_S2AP(1) | D_XN(1), 0, X | P, true },
	{ D_S2AP(1) | D_XN(3), 0, X | P, false },
	{ D_S2AP(1) | D_XN(0), SMMU_F_XNX, X, true },
	{ D_S2AP(1) | D_XN(0), SMMU_F_XNX, X | P, true },
	{ D_S2AP(1) | D_XN(1), SMMU_F_XNX, X, true },
	{ D_S2AP(1) | D_XN(1), SMMU_F_XNX, X | P, false },
	{ D_S2AP(1) | D_XN(2), SMMU_F_XNX, X, false },
	{ D_S2AP(1) | D_XN(2), SMMU_F_XNX, X | P, false },
	{ D_S2AP(1) | D_XN(3), SMMU_F_XNX, X, false },
	{ D_S2AP(1) | D_XN(3), SMMU_F_XNX, X | P, true },
	{ D_S2AP(0) | D_XN(0), 0, X, true },
};

static void test_d8_s2_s2ap_xn(void **state)
{
	struct fx *f = *state;
	uint64_t root = alloc_table(f, 12);
	struct ims_pt_cfg cfg;
	uint64_t ipa = 0x12345000ull, leaf;

	leaf = chain(f, 12, 39, 1, root, ipa, 3, 0, -1, 0);
	for (size_t i = 0; i < sizeof(s2p_cases) / sizeof(s2p_cases[0]); i++) {
		const struct s2p_case *c = &s2p_cases[i];

		assert_int_equal(smmu_s2_cfg_init(&cfg, root, 12, 25, 1, 48, c->flags), 0);
		wr(f, leaf, 0xc000ull | D_PAGE | D_AF | c->bits);
		if (c->ok)
			expect_ok(f, &cfg, ipa | 0x10, c->access, 0xc010, 12);
		else
			expect_fault(f, &cfg, ipa | 0x10, c->access, IMS_FK_PERMISSION, 0);
	}
}

/* ---- D8.5 Access flag and dirty state ---- */

static void test_d8_access_flag(void **state)
{
	struct fx *f = *state;
	uint64_t root = alloc_table(f, 12);
	struct ims_pt_cfg cfg;
	uint64_t va = 0x40201000ull, leaf;
	uint64_t page = 0xd000ull | D_PAGE | D_AP(1);

	leaf = chain(f, 12, 39, 1, root, va, 3, page, -1, 0);
	/* AF = 0, no HA, no AFFD: Access flag fault at the leaf. */
	assert_int_equal(smmu_s1_cfg_init(&cfg, root, 12, 25, 48, 0), 0);
	expect_fault(f, &cfg, va, R, IMS_FK_ACCESS_FLAG, 0);
	assert_int_equal(f->res.fault.fetch_addr, leaf);
	/* The Access flag fault comes before the permission check. */
	wr(f, leaf, page | D_AP(3));
	expect_fault(f, &cfg, va, W, IMS_FK_ACCESS_FLAG, 0);
	/* ... and after the Address size check of the output. */
	assert_int_equal(smmu_s1_cfg_init(&cfg, root, 12, 25, 40, 0), 0);
	wr(f, leaf, (1ull << 44) | page);
	expect_fault(f, &cfg, va, R, IMS_FK_ADDR_SIZE, 0);
	wr(f, leaf, page);

	/* AFFD: no fault and no update. */
	assert_int_equal(smmu_s1_cfg_init(&cfg, root, 12, 25, 48, SMMU_F_AFFD), 0);
	expect_ok(f, &cfg, va, R, 0xd000, 12);
	assert_int_equal(f->w.nad, 0);

	/* HA: the walk succeeds and queues AF = 1 for the leaf only. */
	assert_int_equal(smmu_s1_cfg_init(&cfg, root, 12, 25, 48, SMMU_F_HA), 0);
	expect_ok(f, &cfg, va, R, 0xd000, 12);
	assert_int_equal(f->w.nad, 1);
	assert_int_equal(f->w.ad[0].pa, leaf);
	assert_int_equal(f->w.ad[0].val, page | D_AF);
	/* Once set, nothing more to do. */
	wr(f, leaf, page | D_AF);
	expect_ok(f, &cfg, va, R | W, 0xd000, 12);
	assert_int_equal(f->w.nad, 0);

	/* A failing walk queues nothing. */
	wr(f, leaf, page | D_AP(3));
	expect_fault(f, &cfg, va, W, IMS_FK_PERMISSION, 0);
	assert_int_equal(f->w.nad, 0);

	/* Stage 2: the same rules, S2AFFD / S2HA. */
	assert_int_equal(smmu_s2_cfg_init(&cfg, root, 12, 25, 1, 48, 0), 0);
	wr(f, leaf, 0xd000ull | D_PAGE | D_S2AP(3));
	expect_fault(f, &cfg, va, R, IMS_FK_ACCESS_FLAG, 0);
	assert_int_equal(smmu_s2_cfg_init(&cfg, root, 12, 25, 1, 48, SMMU_F_AFFD), 0);
	expect_ok(f, &cfg, va, R, 0xd000, 12);
	assert_int_equal(f->w.nad, 0);
	assert_int_equal(smmu_s2_cfg_init(&cfg, root, 12, 25, 1, 48, SMMU_F_HA), 0);
	expect_ok(f, &cfg, va, W, 0xd000, 12);
	assert_int_equal(f->w.nad, 1);
	assert_int_equal(f->w.ad[0].val, 0xd000ull | D_PAGE | D_S2AP(3) | D_AF);
	/* A block without AF faults too. */
	assert_int_equal(smmu_s2_cfg_init(&cfg, root, 12, 25, 1, 48, 0), 0);
	wr(f, root + spec_index(12, 39, 1, 1, va) * 8, D_BLOCK | D_S2AP(3));
	expect_fault(f, &cfg, va, R, IMS_FK_ACCESS_FLAG, 2);
}

static void test_d8_dirty_state(void **state)
{
	struct fx *f = *state;
	uint64_t root = alloc_table(f, 12);
	struct ims_pt_cfg cfg;
	uint64_t va = 0x40402000ull, leaf;
	/* Writable-clean at EL1: AP 10 (read-only) with DBM. */
	uint64_t el1_clean = 0xe000ull | D_PAGE | D_AF | D_AP(2) | D_DBM;
	/* Writable-clean at both: AP 11 with DBM. */
	uint64_t both_clean = 0xe000ull | D_PAGE | D_AP(3) | D_DBM;

	leaf = chain(f, 12, 39, 1, root, va, 3, el1_clean, -1, 0);
	/* HA + HD: an EL1 write succeeds and clears AP[2]. */
	assert_int_equal(smmu_s1_cfg_init(&cfg, root, 12, 25, 48, SMMU_F_HA | SMMU_F_HD), 0);
	expect_ok(f, &cfg, va, W | P, 0xe000, 12);
	assert_int_equal(f->w.nad, 1);
	assert_int_equal(f->w.ad[0].pa, leaf);
	assert_int_equal(f->w.ad[0].val, el1_clean & ~D_AP2);
	/* EL0 has no access whatever DBM says. */
	expect_fault(f, &cfg, va, W, IMS_FK_PERMISSION, 0);
	/* A read changes nothing. */
	expect_ok(f, &cfg, va, R | P, 0xe000, 12);
	assert_int_equal(f->w.nad, 0);
	/* HD without HA, or HA alone: DBM has no effect. */
	assert_int_equal(smmu_s1_cfg_init(&cfg, root, 12, 25, 48, SMMU_F_HD), 0);
	expect_fault(f, &cfg, va, W | P, IMS_FK_PERMISSION, 0);
	assert_int_equal(smmu_s1_cfg_init(&cfg, root, 12, 25, 48, SMMU_F_HA), 0);
	expect_fault(f, &cfg, va, W | P, IMS_FK_PERMISSION, 0);

	/* AF clear as well: one update sets AF and clears AP[2]. */
	assert_int_equal(smmu_s1_cfg_init(&cfg, root, 12, 25, 48, SMMU_F_HA | SMMU_F_HD), 0);
	wr(f, leaf, both_clean);
	expect_ok(f, &cfg, va, W, 0xe000, 12);
	assert_int_equal(f->w.nad, 1);
	assert_int_equal(f->w.ad[0].val, (both_clean | D_AF) & ~D_AP2);
	/* A read of it sets AF only. */
	expect_ok(f, &cfg, va, R, 0xe000, 12);
	assert_int_equal(f->w.ad[0].val, both_clean | D_AF);
	/* Writable-clean implies writable at EL0: not executable at EL1. */
	expect_fault(f, &cfg, va, X | P, IMS_FK_PERMISSION, 0);
	/* After the update is written back, a plain HA walk can write. */
	wr(f, leaf, (both_clean | D_AF) & ~D_AP2);
	assert_int_equal(smmu_s1_cfg_init(&cfg, root, 12, 25, 48, SMMU_F_HA), 0);
	expect_ok(f, &cfg, va, W, 0xe000, 12);
	assert_int_equal(f->w.nad, 0);

	/* Stage 2: writable-clean is S2AP 01 + DBM; dirty sets S2AP[1]. */
	assert_int_equal(smmu_s2_cfg_init(&cfg, root, 12, 25, 1, 48, SMMU_F_HA | SMMU_F_HD), 0);
	wr(f, leaf, 0xe000ull | D_PAGE | D_AF | D_S2AP(1) | D_DBM);
	expect_ok(f, &cfg, va, W, 0xe000, 12);
	assert_int_equal(f->w.nad, 1);
	assert_int_equal(f->w.ad[0].val, 0xe000ull | D_PAGE | D_AF | D_S2AP(3) | D_DBM);
	wr(f, leaf, 0xe000ull | D_PAGE | D_AF | D_S2AP(1));
	expect_fault(f, &cfg, va, W, IMS_FK_PERMISSION, 0);
	assert_int_equal(smmu_s2_cfg_init(&cfg, root, 12, 25, 1, 48, SMMU_F_HD), 0);
	wr(f, leaf, 0xe000ull | D_PAGE | D_AF | D_S2AP(1) | D_DBM);
	expect_fault(f, &cfg, va, W, IMS_FK_PERMISSION, 0);
}

/* ---- Address size faults ---- */

static void test_d8_address_size(void **state)
{
	struct fx *f = *state;
	uint64_t root = alloc_table(f, 12);
	struct ims_pt_cfg cfg;
	uint64_t va = 0x10000ull, leaf, l1;

	/* 4K, 40-bit output. */
	assert_int_equal(smmu_s1_cfg_init(&cfg, root, 12, 25, 40, 0), 0);
	leaf = chain(f, 12, 39, 1, root, va, 3, ((1ull << 40) - 0x1000) | D_PAGE | D_AF, -1, 0);
	expect_ok(f, &cfg, va, R | P, (1ull << 40) - 0x1000, 12);
	wr(f, leaf, (1ull << 40) | D_PAGE | D_AF);
	expect_fault(f, &cfg, va, R | P, IMS_FK_ADDR_SIZE, 0);
	/* A table address beyond the output size: fault at that entry. */
	l1 = root + spec_index(12, 39, 1, 1, va) * 8;
	wr(f, l1, (1ull << 41) | D_TABLE);
	expect_fault(f, &cfg, va, R | P, IMS_FK_ADDR_SIZE, 2);
	/* A block too. */
	wr(f, l1, (1ull << 45) | D_BLOCK | D_AF);
	expect_fault(f, &cfg, va, R | P, IMS_FK_ADDR_SIZE, 2);
	/* The TTB itself: fault at the start level before any read. */
	assert_int_equal(smmu_s1_cfg_init(&cfg, 1ull << 40, 12, 25, 40, 0), 0);
	expect_fault(f, &cfg, va, R | P, IMS_FK_ADDR_SIZE, 2);
	assert_int_equal(f->res.nreads, 0);

	/* 4K, 48-bit: descriptor bits 51:48 are not address bits (no LPA2). */
	assert_int_equal(smmu_s1_cfg_init(&cfg, root, 12, 25, 48, 0), 0);
	wr(f, l1, 0);
	leaf = chain(f, 12, 39, 1, root, va, 3, (1ull << 48) | 0xf000ull | D_PAGE | D_AF, -1, 0);
	expect_ok(f, &cfg, va, R | P, 0xf000, 12);
	/* Stage 2 with a 36-bit output. */
	assert_int_equal(smmu_s2_cfg_init(&cfg, root, 12, 25, 1, 36, 0), 0);
	wr(f, leaf, (1ull << 36) | D_PAGE | D_AF | D_S2AP(3));
	expect_fault(f, &cfg, va, R, IMS_FK_ADDR_SIZE, 0);
}

/* 64K granule, 52-bit PA: OA[51:48] in descriptor bits 15:12 (D8.3). */
static void test_d8_64k_pa52(void **state)
{
	struct fx *f = *state;
	uint64_t root = alloc_table(f, 16);
	uint64_t high = (1ull << 48) | 0x200000ull; /* a table above 2^48 */
	struct ims_pt_cfg cfg;
	uint64_t va = 0x0000923456789abcull, leaf, l3;

	assert_int_equal(ims_mem_add_ram(f->io.mem, high, 0x10000), 0);
	assert_int_equal(smmu_s1_cfg_init(&cfg, root, 16, 16, 52, 0), 0);
	/* L1 -> L2 table at `high` (bits 15:12 = 1), L2 -> L3, L3 page. */
	l3 = alloc_table(f, 16);
	wr(f, root + spec_index(16, 48, 1, 1, va) * 8, 0x200000ull | D_OA_HI(1) | D_TABLE);
	wr(f, high + spec_index(16, 48, 1, 2, va) * 8, l3 | D_TABLE);
	wr(f, l3 + spec_index(16, 48, 1, 3, va) * 8,
	   0x12340000ull | D_OA_HI(0xa) | D_PAGE | D_AF);
	expect_ok(f, &cfg, va, R | P, 0xa000012340000ull | (va & 0xffff), 16);
	assert_int_equal(f->res.reads[1].pa, high + spec_index(16, 48, 1, 2, va) * 8);
	/* The same tables with a 48-bit output: the L1 entry's table is out of range. */
	assert_int_equal(smmu_s1_cfg_init(&cfg, root, 16, 16, 48, 0), 0);
	expect_fault(f, &cfg, va, R | P, IMS_FK_ADDR_SIZE, 2);
	/* ... and so is a page whose bits 15:12 are set. */
	root = alloc_table(f, 16);
	assert_int_equal(smmu_s1_cfg_init(&cfg, root, 16, 16, 48, 0), 0);
	leaf = chain(f, 16, 48, 1, root, va, 3, 0x12340000ull | D_OA_HI(1) | D_PAGE | D_AF, -1, 0);
	expect_fault(f, &cfg, va, R | P, IMS_FK_ADDR_SIZE, 0);
	wr(f, leaf, 0x12340000ull | D_PAGE | D_AF);
	expect_ok(f, &cfg, va, R | P, 0x12340000ull | (va & 0xffff), 16);
	/* A 512 MiB block with PA[51:48] = 0xf under 52 bits. */
	assert_int_equal(smmu_s1_cfg_init(&cfg, root, 16, 16, 52, 0), 0);
	chain(f, 16, 48, 1, root, va, 2, 0x20000000ull | D_OA_HI(0xf) | D_BLOCK | D_AF, -1, 0);
	expect_ok(f, &cfg, va, R | P, 0xf000020000000ull | (va & 0x1fffffff), 29);
}

/* ---- Input range: TTB0 / TTB1 / TBI (D8.2, AArch64.VAIsOutOfRange) ---- */

static void test_d8_ttb0_ttb1_tbi(void **state)
{
	struct fx *f = *state;
	uint64_t root0 = alloc_table(f, 12), root1 = alloc_table(f, 12);
	struct ims_pt_cfg c0, c1;
	uint64_t lo = 0x7fffff1000ull;              /* top of the 39-bit TTB0 range */
	uint64_t hi = 0xffffff8000002000ull;        /* bottom of the TTB1 range */

	chain(f, 12, 39, 1, root0, lo, 3, 0x11000ull | D_PAGE | D_AF, -1, 0);
	chain(f, 12, 39, 1, root1, hi, 3, 0x22000ull | D_PAGE | D_AF, -1, 0);

	assert_int_equal(smmu_s1_cfg_init(&c0, root0, 12, 25, 48, 0), 0);
	assert_int_equal(smmu_s1_cfg_init(&c1, root1, 12, 25, 48, SMMU_F_TTB1), 0);
	expect_ok(f, &c0, lo | 0x10, R | P, 0x11010, 12);
	expect_ok(f, &c1, hi | 0x10, R | P, 0x22010, 12);
	/* TTB0: bits 63:39 must be zero. */
	expect_fault(f, &c0, 1ull << 39, R | P, IMS_FK_TRANSLATION, 2);
	expect_fault(f, &c0, hi, R | P, IMS_FK_TRANSLATION, 2);
	expect_fault(f, &c0, 0xab00007fffff1000ull, R | P, IMS_FK_TRANSLATION, 2);
	assert_int_equal(f->res.nreads, 0);
	/* TTB1: bits 63:39 must be ones. */
	expect_fault(f, &c1, lo, R | P, IMS_FK_TRANSLATION, 2);
	expect_fault(f, &c1, 0xfffeff8000002000ull, R | P, IMS_FK_TRANSLATION, 2);
	expect_fault(f, &c1, 0x00ffff8000002000ull, R | P, IMS_FK_TRANSLATION, 2);

	/* TBI: bits 63:56 are ignored, bits 55:39 still checked. */
	assert_int_equal(smmu_s1_cfg_init(&c0, root0, 12, 25, 48, SMMU_F_TBI), 0);
	assert_int_equal(smmu_s1_cfg_init(&c1, root1, 12, 25, 48, SMMU_F_TTB1 | SMMU_F_TBI), 0);
	expect_ok(f, &c0, 0xab00007fffff1000ull, R | P, 0x11000, 12);
	expect_fault(f, &c0, 0xab80007fffff1000ull, R | P, IMS_FK_TRANSLATION, 2);
	expect_fault(f, &c0, 0x0000807fffff1000ull, R | P, IMS_FK_TRANSLATION, 2);
	expect_ok(f, &c1, 0x00ffff8000002000ull, R | P, 0x22000, 12);
	expect_ok(f, &c1, 0x12ffff8000002000ull, R | P, 0x22000, 12);
	expect_fault(f, &c1, 0xff7fff8000002000ull, R | P, IMS_FK_TRANSLATION, 2);
}

/* ---- Nested walk, loops, encoders ---- */

/*
 * Stage 1 (4K, TxSZ 25: L1-L3) over stage 2 (4K, T0SZ 25, SL0 1: L1-L2 with
 * 2 MiB blocks).  Every stage-1 table address is an IPA that takes two
 * stage-2 reads: 3 * (2 + 1) = 9 reads, then 2 for the output IPA.
 */
static void test_nested_read_count(void **state)
{
	struct fx *f = *state;
	uint64_t s2root = alloc_table(f, 12), s2l2 = alloc_table(f, 12);
	uint64_t base = 0x1000000ull;            /* 16 MiB: stage-1 tables' PA window */
	uint64_t ipa_base = 0x40000000ull;       /* ... seen at IPA 1 GiB */
	uint64_t s1root, l2, l3;
	struct ims_pt_cfg s1, s2;
	uint64_t va = 0x0012345678ull;
	unsigned kinds[9];

	assert_int_equal(ims_mem_add_ram(f->io.mem, base, 0x200000), 0);
	assert_int_equal(smmu_s2_cfg_init(&s2, s2root, 12, 25, 1, 48, 0), 0);
	/* IPA 1 GiB -> L2 table; its first entry maps 2 MiB at `base`. */
	wr(f, s2root + 8, s2l2 | D_TABLE);
	wr(f, s2l2, base | D_BLOCK | D_AF | D_S2AP(3));
	/* IPA 1 GiB + 2 MiB -> the data at PA 0x3000000. */
	wr(f, s2l2 + 8, 0x3000000ull | D_BLOCK | D_AF | D_S2AP(3));

	s1root = base;
	l2 = base + 0x1000;
	l3 = base + 0x2000;
	assert_int_equal(smmu_s1_cfg_init(&s1, ipa_base + (s1root - base), 12, 25, 48, 0), 0);
	wr(f, s1root + spec_index(12, 39, 1, 1, va) * 8, (ipa_base + (l2 - base)) | D_TABLE);
	wr(f, l2 + spec_index(12, 39, 1, 2, va) * 8, (ipa_base + (l3 - base)) | D_TABLE);
	wr(f, l3 + spec_index(12, 39, 1, 3, va) * 8, (ipa_base + 0x200000ull) | D_PAGE | D_AF);

	f->io.stats.table_reads = 0;
	assert_true(walk(f, &s1, &s2, va, R | P));
	assert_int_equal(f->out.out, ipa_base + 0x200000ull + 0x678);
	assert_int_equal(f->res.nreads, 9);
	for (unsigned i = 0; i < 9; i++)
		kinds[i] = f->res.reads[i].kind;
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(kinds[3 * i], IMS_READ_S2_FOR_TABLE);
		assert_int_equal(kinds[3 * i + 1], IMS_READ_S2_FOR_TABLE);
		assert_int_equal(kinds[3 * i + 2], IMS_READ_S1);
	}
	assert_int_equal(f->res.reads[2].pa, s1root + spec_index(12, 39, 1, 1, va) * 8);
	/* The final stage-2 walk of the output IPA, in the same result. */
	{
		struct ims_walk_out o2;

		assert_true(ims_walk(&f->w, &s2, NULL, f->out.out, R, IMS_READ_S2, &o2));
		assert_int_equal(o2.out, 0x3000000ull + 0x678);
		assert_int_equal(o2.size_lg2, 21);
	}
	assert_int_equal(f->res.nreads, 11);
	assert_int_equal(f->io.stats.table_reads, 11);

	/* Stage 2 cannot read the stage-1 root: a stage-2 fault on a table fetch. */
	wr(f, s2l2, base | D_BLOCK | D_AF | D_S2AP(0));
	assert_false(walk(f, &s1, &s2, va, R | P));
	assert_int_equal(f->res.fault.kind, IMS_FK_PERMISSION);
	assert_int_equal(f->res.fault.stage, 2);
	assert_true(f->res.fault.on_table_fetch);
	assert_int_equal(f->res.fault.ipa, ipa_base + spec_index(12, 39, 1, 1, va) * 8);
}

/* A table that points at itself is read once per level, then stops. */
static void test_self_reference_terminates(void **state)
{
	struct fx *f = *state;
	uint64_t root = alloc_table(f, 12);
	struct ims_pt_cfg cfg;

	assert_int_equal(smmu_s1_cfg_init(&cfg, root, 12, 16, 48, 0), 0);
	wr(f, root, root | D_TABLE);
	/* VA 0: entry 0 at every level is the same descriptor; at L3 it is a
	 * page without AF. */
	expect_fault(f, &cfg, 0, R | P, IMS_FK_ACCESS_FLAG, 0);
	assert_int_equal(f->res.nreads, 4);
	/* With HA it maps the table itself. */
	assert_int_equal(smmu_s1_cfg_init(&cfg, root, 12, 16, 48, SMMU_F_HA), 0);
	expect_ok(f, &cfg, 0x123, R | P, root | 0x123, 12);
	assert_int_equal(f->res.nreads, 4);
	/* Stage 2 likewise. */
	assert_int_equal(smmu_s2_cfg_init(&cfg, root, 12, 16, 2, 48, 0), 0);
	expect_fault(f, &cfg, 0, R, IMS_FK_ACCESS_FLAG, 0);
	assert_int_equal(f->res.nreads, 4);
}

/* Level names and the builders' encoders (through ims_pt_map). */
static void test_encoders(void **state)
{
	struct fx *f = *state;
	struct ims_pt_cfg s1, s2;
	uint64_t out;
	unsigned lg2;
	struct ims_pte pte;
	uint64_t e;

	assert_int_equal(smmu_s1_cfg_init(&s1, alloc_table(f, 12), 12, 16, 48, 0), 0);
	assert_string_equal(s1.fmt->level_name(&s1, 0), "L3");
	assert_string_equal(s1.fmt->level_name(&s1, 1), "L2");
	assert_string_equal(s1.fmt->level_name(&s1, 2), "L1");
	assert_string_equal(s1.fmt->level_name(&s1, 3), "L0");
	assert_int_equal(s1.leaf_levels, 0x7);

	/* Stage 1: a 4K page and a 2M block, then walked. */
	assert_int_equal(ims_pt_map(f->io.mem, &s1, NULL, 0x7000000000ull, 0x55000, 12,
				    IMS_PERM_R | IMS_PERM_PR | IMS_PERM_PW | IMS_PERM_W, alloc_cb, f),
			 0);
	assert_int_equal(ims_pt_map(f->io.mem, &s1, NULL, 0x7000200000ull, 0x400000, 21,
				    IMS_PERM_PR | IMS_PERM_PX, alloc_cb, f),
			 0);
	assert_int_equal(ims_pt_lookup(f->io.mem, &s1, NULL, 0x7000000123ull, &out, &lg2), 0);
	assert_int_equal(out, 0x55123);
	expect_ok(f, &s1, 0x7000000123ull, W, 0x55123, 12);
	expect_fault(f, &s1, 0x7000000123ull, X, IMS_FK_PERMISSION, 0);
	expect_fault(f, &s1, 0x7000000123ull, X | P, IMS_FK_PERMISSION, 0);
	expect_ok(f, &s1, 0x7000212345ull, X | P, 0x412345, 21);
	expect_fault(f, &s1, 0x7000212345ull, R, IMS_FK_PERMISSION, 1);
	expect_fault(f, &s1, 0x7000212345ull, W | P, IMS_FK_PERMISSION, 1);
	/* The encoded page, checked against the raw bits. */
	e = s1.fmt->encode_leaf(&s1, 0, 0x55000, IMS_PERM_R | IMS_PERM_PR);
	assert_int_equal(e & 0x3, D_PAGE);
	assert_true(e & D_AF);
	assert_int_equal(e & (D_AP1 | D_AP2), D_AP(3));
	assert_true(e & D_UXN);
	assert_true(e & D_PXN);
	assert_int_equal(s1.fmt->encode_table(&s1, 2, 0x123000), 0x123000ull | D_TABLE);

	/* Stage 2 with XNX: every execute combination round-trips. */
	assert_int_equal(smmu_s2_cfg_init(&s2, alloc_table(f, 12), 12, 25, 1, 48, SMMU_F_XNX), 0);
	for (unsigned x = 0; x < 4; x++) {
		unsigned perm = IMS_PERM_R | IMS_PERM_PR | ((x & 1) ? IMS_PERM_X : 0) |
				((x & 2) ? IMS_PERM_PX : 0);

		e = s2.fmt->encode_leaf(&s2, 0, 0x66000, perm);
		s2.fmt->decode(&s2, 0, e, &pte);
		assert_int_equal(pte.kind, IMS_PTE_LEAF);
		assert_int_equal(pte.perm, perm);
		assert_int_equal(pte.addr, 0x66000);
	}
	/* 64K, 52-bit: the address round-trips through bits 15:12. */
	assert_int_equal(smmu_s2_cfg_init(&s2, alloc_table(f, 16), 16, 12, 2, 52, 0), 0);
	e = s2.fmt->encode_leaf(&s2, 0, 0xb000012340000ull, IMS_PERM_R | IMS_PERM_PR);
	assert_int_equal(e & 0xf000, D_OA_HI(0xb));
	s2.fmt->decode(&s2, 0, e, &pte);
	assert_int_equal(pte.addr, 0xb000012340000ull);
	assert_int_equal(pte.size_lg2, 16);
	assert_int_equal(s2.fmt->encode_table(&s2, 1, 0x30000000a0000ull),
			 0xa0000ull | D_OA_HI(3) | D_TABLE);
	assert_int_equal(s2.leaf_levels, 0x3);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_d8_s1_start_level),
		T(test_d8_s1_txsz_range),
		T(test_d8_ttb_alignment),
		T(test_d8_s2_start_level_concat),
		T(test_d8_s2_concat_two_tables),
		T(test_d8_s2_invalid_sl),
		T(test_d8_blocks_4k),
		T(test_d8_blocks_16k),
		T(test_d8_blocks_64k),
		T(test_d8_s2_blocks),
		T(test_d8_contiguous_hint),
		T(test_d8_s1_ap),
		T(test_d8_s1_xn_wxn),
		T(test_d8_s1_table_restrictions),
		T(test_d8_s2_s2ap_xn),
		T(test_d8_access_flag),
		T(test_d8_dirty_state),
		T(test_d8_address_size),
		T(test_d8_64k_pa52),
		T(test_d8_ttb0_ttb1_tbi),
		T(test_nested_read_count),
		T(test_self_reference_terminates),
		T(test_encoders),
	};

	return cmocka_run_group_tests_name("smmuv3-vmsa", tests, NULL, NULL);
}
