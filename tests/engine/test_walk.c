/*
 * test_walk.c - the format-agnostic walker (engine/walk.c) and software's
 * side of the formats, ims_pt_map / ims_pt_lookup (engine/pgtable.c).
 *
 * The engine is tested here with no VT-d at all: a toy format defined below
 * (one 64-bit entry, bit 0 valid, bit 1 leaf, bits 2-4 R/W/X, bits 63:12 the
 * address) and a toy architecture whose configuration fetch hands back
 * whatever the test put in it.  The walker is called directly through
 * ims_walk() (engine_int.h) and, where the A/D commit or the final stage-2
 * walk matter, through ims_translate() on a hand-built struct ims_iommu.
 *
 * Covered: level index arithmetic (a root wider and narrower than the
 * stride), leaves at every allowed level and the output composition, the
 * neutral fault kinds with stage / level / fetch address, permissions AND-ed
 * over the levels, input and output address size, external aborts, the 2-D
 * walk (every stage-1 table address translated through stage 2, in order),
 * stage-2 faults on a stage-1 table fetch, termination on self-referencing
 * tables, A/D updates committed only on success, and map/lookup round trips
 * on seeded random inputs against a brute-force dictionary.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/engine_int.h"

/* ---- the toy format ---- */

#define T_V (UINT64_C(1) << 0)    /* valid */
#define T_L (UINT64_C(1) << 1)    /* leaf (else: next table) */
#define T_R (UINT64_C(1) << 2)
#define T_W (UINT64_C(1) << 3)
#define T_X (UINT64_C(1) << 4)
#define T_RSV (UINT64_C(1) << 5)  /* reserved: malformed entry */
#define T_NOAF (UINT64_C(1) << 6) /* "access flag clear": malformed, ACCESS_FLAG */
#define T_A (UINT64_C(1) << 8)    /* accessed (hardware-updated) */
#define T_D (UINT64_C(1) << 9)    /* dirty (leaf) */
#define T_ADDR UINT64_C(0xfffffffffffff000)
#define T_RWX (T_R | T_W | T_X)

#define TOY_F_AD 1u /* cfg.flags: hardware A/D updates */

/* Neutral permissions of R/W/X: both privilege levels. */
static unsigned toy_perm(uint64_t e)
{
	unsigned p = 0;

	if (e & T_R)
		p |= IMS_PERM_R | IMS_PERM_PR;
	if (e & T_W)
		p |= IMS_PERM_W | IMS_PERM_PW;
	if (e & T_X)
		p |= IMS_PERM_X | IMS_PERM_PX;
	return p;
}

static void toy_decode(const struct ims_pt_cfg *cfg, unsigned level, uint64_t e,
		       struct ims_pte *o)
{
	memset(o, 0, sizeof(*o));
	if (!(e & T_V)) {
		o->kind = IMS_PTE_EMPTY;
		return;
	}
	if (e & (T_RSV | T_NOAF)) {
		o->kind = IMS_PTE_BAD;
		o->fault = (e & T_RSV) ? IMS_FK_RESERVED : IMS_FK_ACCESS_FLAG;
		return;
	}
	o->perm = (uint8_t)toy_perm(e);
	o->addr = e & T_ADDR; /* deliberately not aligned to the page: the walker masks */
	if (e & T_L) {
		if (!(cfg->leaf_levels & (1u << level))) {
			o->kind = IMS_PTE_BAD;
			o->fault = IMS_FK_RESERVED;
			return;
		}
		o->kind = IMS_PTE_LEAF;
		o->size_lg2 = (uint8_t)(12 + 9 * level); /* 4 KiB granule, 512 entries */
		return;
	}
	o->kind = IMS_PTE_TABLE;
}

static uint64_t toy_update_ad(const struct ims_pt_cfg *cfg, unsigned level, uint64_t e,
			      bool leaf, unsigned access)
{
	(void)level;
	if (!(cfg->flags & TOY_F_AD))
		return e;
	e |= T_A;
	if (leaf && (access & IMS_ACC_WRITE))
		e |= T_D;
	return e;
}

static uint64_t toy_encode_table(const struct ims_pt_cfg *cfg, unsigned level, uint64_t table)
{
	(void)cfg;
	(void)level;
	return table | T_V | T_RWX;
}

static uint64_t toy_encode_leaf(const struct ims_pt_cfg *cfg, unsigned level, uint64_t out,
				unsigned perm)
{
	uint64_t e = out | T_V | T_L;

	(void)cfg;
	(void)level;
	if (perm & (IMS_PERM_R | IMS_PERM_PR))
		e |= T_R;
	if (perm & (IMS_PERM_W | IMS_PERM_PW))
		e |= T_W;
	if (perm & (IMS_PERM_X | IMS_PERM_PX))
		e |= T_X;
	return e;
}

static const struct ims_pt_format toy_fmt = {
	.name = "toy",
	.entry_lg2 = 3,
	.decode = toy_decode,
	.update_ad = toy_update_ad,
	.encode_table = toy_encode_table,
	.encode_leaf = toy_encode_leaf,
};

/* Variants exercising the optional hooks. */
static unsigned toy_no_exec(const struct ims_pt_cfg *cfg, unsigned perm)
{
	(void)cfg;
	return perm & ~(unsigned)(IMS_PERM_X | IMS_PERM_PX);
}

static enum ims_fault_kind toy_check_top_bit(const struct ims_pt_cfg *cfg, uint64_t in)
{
	(void)cfg;
	return (in >> 63) ? IMS_FK_NON_CANONICAL : IMS_FK_NONE;
}

static const struct ims_pt_format toy_fmt_hooks = {
	.name = "toy-hooks",
	.entry_lg2 = 3,
	.decode = toy_decode,
	.check_input = toy_check_top_bit,
	.finish_perm = toy_no_exec,
};

static const struct ims_pt_format toy_fmt_noenc = {
	.name = "toy-noenc",
	.entry_lg2 = 3,
	.decode = toy_decode,
};

static struct ims_pt_cfg toy_cfg(uint64_t root, unsigned levels, unsigned ia, unsigned oa,
				 uint32_t leaf_levels, unsigned stage)
{
	struct ims_pt_cfg c = {
		.fmt = &toy_fmt,
		.root = root,
		.levels = (uint8_t)levels,
		.granule_lg2 = 12,
		.ia_bits = (uint8_t)ia,
		.oa_bits = (uint8_t)oa,
		.stage = (uint8_t)stage,
		.leaf_levels = leaf_levels,
	};
	return c;
}

/* Index of `in` at `level` for a 4 KiB / 512-entry table below the root. */
static uint64_t idx9(uint64_t in, unsigned level)
{
	return (in >> (12 + 9 * level)) & 511;
}

/* ---- a fake architecture around the walker ---- */

struct toy_arch {
	struct ims_xlate_cfg cfg;
	unsigned finished;
};

static int toy_fetch_config(struct ims_iommu *iommu, const struct ims_txn *txn,
			    struct ims_xlate_cfg *cfg, struct ims_result *res)
{
	struct toy_arch *a = iommu->arch_priv;

	(void)txn;
	(void)res;
	*cfg = a->cfg;
	return 0;
}

static void toy_finish(struct ims_iommu *iommu, const struct ims_txn *txn,
		       const struct ims_xlate_cfg *cfg, struct ims_result *res)
{
	struct toy_arch *a = iommu->arch_priv;

	(void)txn;
	(void)cfg;
	(void)res;
	a->finished++;
}

static const struct ims_arch_ops toy_arch_ops = {
	.name = "toy",
	.fetch_config = toy_fetch_config,
	.finish = toy_finish,
};

struct fx {
	struct ims_mem *mem;
	struct ims_iommu io;
	struct toy_arch arch;
	struct ims_walk_ctx w;
	struct ims_result res;
	uint64_t next; /* bump allocator for tables */
};

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->mem = ims_mem_new(52);
	assert_non_null(f->mem);
	f->io.arch = &toy_arch_ops;
	f->io.arch_priv = &f->arch;
	f->io.mem = f->mem;
	f->next = 0x100000;
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	ims_mem_free(f->mem);
	free(f);
	return 0;
}

/* A fresh zeroed table of 2^lg2 bytes in RAM. */
static uint64_t table_new(struct fx *f, unsigned lg2)
{
	uint64_t a = f->next;

	assert_int_equal(ims_mem_add_ram(f->mem, a, UINT64_C(1) << lg2), 0);
	f->next += UINT64_C(1) << lg2;
	return a;
}

static void wr(struct fx *f, uint64_t pa, uint64_t v)
{
	assert_int_equal(ims_mem_write64(f->mem, pa, v), IMS_MEM_OK);
}

static uint64_t rd(struct fx *f, uint64_t pa)
{
	uint64_t v;

	assert_int_equal(ims_mem_read64(f->mem, pa, &v), IMS_MEM_OK);
	return v;
}

static bool walk_kind(struct fx *f, const struct ims_pt_cfg *c, const struct ims_pt_cfg *s2,
		      uint64_t in, unsigned access, enum ims_read_kind kind,
		      struct ims_walk_out *o)
{
	memset(&f->res, 0, sizeof(f->res));
	f->res.fault.level = -1;
	f->res.fault.iova = in;
	memset(&f->w, 0, sizeof(f->w));
	f->w.iommu = &f->io;
	f->w.res = &f->res;
	memset(o, 0, sizeof(*o));
	return ims_walk(&f->w, c, s2, in, access, kind, o);
}

static bool walk(struct fx *f, const struct ims_pt_cfg *c, uint64_t in, unsigned access,
		 struct ims_walk_out *o)
{
	return walk_kind(f, c, NULL, in, access, IMS_READ_S1, o);
}

static void expect_fault(struct fx *f, enum ims_fault_kind kind, unsigned stage, int level,
			 uint64_t fetch)
{
	assert_int_equal(f->res.fault.kind, kind);
	assert_int_equal(f->res.fault.stage, stage);
	assert_int_equal(f->res.fault.level, level);
	assert_int_equal(f->res.fault.fetch_addr, fetch);
}

/* ---- level index arithmetic ---- */

static void test_level_arith(void **state)
{
	struct ims_pt_cfg c = toy_cfg(0, 4, 48, 52, 1, 1);

	(void)state;
	/* 4 KiB granule, 8-byte entries: 9 index bits per level from bit 12. */
	for (unsigned l = 0; l < 4; l++) {
		assert_int_equal(ims_pt_level_shift(&c, l), 12 + 9 * l);
		assert_int_equal(ims_pt_level_bits(&c, l), 9);
		assert_int_equal(ims_pt_leaf_lg2(&c, l), 12 + 9 * l);
	}
	/* Root wider than the stride: 40 bits with 3 levels -> 10 root bits
	 * (two concatenated 4 KiB tables). */
	c = toy_cfg(0, 3, 40, 52, 1, 1);
	assert_int_equal(ims_pt_level_shift(&c, 2), 30);
	assert_int_equal(ims_pt_level_bits(&c, 2), 10);
	assert_int_equal(ims_pt_level_bits(&c, 1), 9);
	assert_int_equal(ims_pt_level_bits(&c, 0), 9);
	/* Narrower root: 32 bits with 3 levels -> 2 root bits. */
	c = toy_cfg(0, 3, 32, 52, 1, 1);
	assert_int_equal(ims_pt_level_bits(&c, 2), 2);
	/* Nothing left for the root. */
	c = toy_cfg(0, 3, 30, 52, 1, 1);
	assert_int_equal(ims_pt_level_bits(&c, 2), 0);
	/* 64 KiB granule: 13 bits per level from bit 16; 48 bits in 3 levels
	 * leave 6 for the root. */
	c = toy_cfg(0, 3, 48, 52, 1, 1);
	c.granule_lg2 = 16;
	assert_int_equal(ims_pt_level_shift(&c, 0), 16);
	assert_int_equal(ims_pt_level_shift(&c, 1), 29);
	assert_int_equal(ims_pt_level_shift(&c, 2), 42);
	assert_int_equal(ims_pt_level_bits(&c, 1), 13);
	assert_int_equal(ims_pt_level_bits(&c, 2), 6);
	/* 16 KiB granule: 11 bits per level; 4 levels of 47 bits: 1 root bit. */
	c = toy_cfg(0, 4, 47, 52, 1, 1);
	c.granule_lg2 = 14;
	assert_int_equal(ims_pt_level_shift(&c, 3), 14 + 33);
	assert_int_equal(ims_pt_level_bits(&c, 3), 0);
	c.ia_bits = 48;
	assert_int_equal(ims_pt_level_bits(&c, 3), 1);
}

/* Address of `in`'s entry at level l of the toy table at `table` (4 KiB granule). */
static uint64_t toy_ent(const struct ims_pt_cfg *c, uint64_t table, uint64_t in, int l)
{
	unsigned bits = ims_pt_level_bits(c, (unsigned)l);

	return table + 8 * ((in >> (12 + 9 * l)) & ((UINT64_C(1) << bits) - 1));
}

/* Build root -> ... -> leaf at `leaf_level` for `in`; returns entry addresses. */
static void build_chain(struct fx *f, const struct ims_pt_cfg *c, uint64_t in,
			unsigned leaf_level, uint64_t leaf, uint64_t *ent)
{
	uint64_t table = c->root;

	for (int l = c->levels - 1; l >= (int)leaf_level; l--) {
		uint64_t pa = toy_ent(c, table, in, l);

		ent[l] = pa;
		if (l == (int)leaf_level) {
			wr(f, pa, leaf);
		} else {
			uint64_t v = rd(f, pa), next;

			if (v & T_V) {
				next = v & T_ADDR;
			} else {
				next = table_new(f, 12);
				wr(f, pa, next | T_V | T_RWX);
			}
			table = next;
		}
	}
}

/* Entry addresses of `in`'s walk through existing toy tables (no writes). */
static void locate(struct fx *f, const struct ims_pt_cfg *c, uint64_t in, uint64_t *ent)
{
	uint64_t table = c->root;

	for (int l = c->levels - 1; l >= 0; l--) {
		uint64_t v;

		ent[l] = toy_ent(c, table, in, l);
		v = rd(f, ent[l]);
		if (!(v & T_V) || (v & T_L))
			return;
		table = v & T_ADDR;
	}
}

static void test_wide_root(void **state)
{
	struct fx *f = *state;
	struct ims_pt_cfg c = toy_cfg(0, 3, 40, 52, 1, 1);
	struct ims_walk_out o;
	uint64_t ent[3], in;

	c.root = table_new(f, 13); /* two concatenated tables */
	/* Root index 1023: entry in the second 4 KiB table. */
	in = (UINT64_C(1023) << 30) | (UINT64_C(0x1a5) << 21) | (UINT64_C(0x0c3) << 12) | 0x678;
	build_chain(f, &c, in, 0, UINT64_C(0xabcde000) | T_V | T_L | T_RWX, ent);
	assert_int_equal(ent[2], c.root + 0x1ff8);
	assert_true(walk(f, &c, in, IMS_ACC_READ, &o));
	assert_int_equal(o.out, UINT64_C(0xabcde678));
	assert_int_equal(o.size_lg2, 12);
	assert_int_equal(f->res.nreads, 3);
	assert_int_equal(f->res.reads[0].pa, c.root + 0x1ff8);
	assert_int_equal(f->res.reads[0].level, 2);
	assert_int_equal(f->res.reads[1].level, 1);
	assert_int_equal(f->res.reads[1].pa, (rd(f, ent[2]) & T_ADDR) + 8 * 0x1a5);
	assert_int_equal(f->res.reads[2].pa, (rd(f, ent[1]) & T_ADDR) + 8 * 0x0c3);
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(f->res.reads[i].kind, IMS_READ_S1);
		assert_int_equal(f->res.reads[i].stage, 1);
		assert_int_equal(f->res.reads[i].in_addr, f->res.reads[i].pa);
	}
	assert_int_equal(f->res.reads[2].decision, IMS_PTE_LEAF);
	assert_int_equal(f->res.reads[0].decision, IMS_PTE_TABLE);

	/* Bit 39 selects the second table, it is not masked to 9 bits. */
	in = UINT64_C(512) << 30;
	assert_false(walk(f, &c, in, IMS_ACC_READ, &o));
	expect_fault(f, IMS_FK_TRANSLATION, 1, 2, c.root + 0x1000);

	/* The last input address translated, and the first one beyond. */
	assert_false(walk(f, &c, (UINT64_C(1) << 40) - 1, IMS_ACC_READ, &o));
	expect_fault(f, IMS_FK_TRANSLATION, 1, 1, (rd(f, ent[2]) & T_ADDR) + 8 * 511);
	assert_false(walk(f, &c, UINT64_C(1) << 40, IMS_ACC_READ, &o));
	assert_int_equal(f->res.fault.kind, IMS_FK_ADDR_SIZE);
	assert_int_equal(f->res.fault.level, 2);
	assert_int_equal(f->res.nreads, 0);
	assert_false(walk(f, &c, ~UINT64_C(0), IMS_ACC_READ, &o));
	assert_int_equal(f->res.fault.kind, IMS_FK_ADDR_SIZE);
}

static void test_narrow_root(void **state)
{
	struct fx *f = *state;
	struct ims_pt_cfg c = toy_cfg(0, 3, 32, 52, 1, 2);
	struct ims_walk_out o;
	uint64_t ent[3], in = UINT64_C(0xc0000000) | (UINT64_C(7) << 21) | (UINT64_C(9) << 12) | 1;

	c.root = table_new(f, 12);
	build_chain(f, &c, in, 0, UINT64_C(0x5000) | T_V | T_L | T_R, ent);
	assert_int_equal(ent[2], c.root + 3 * 8);
	assert_true(walk_kind(f, &c, NULL, in, IMS_ACC_READ, IMS_READ_S2, &o));
	assert_int_equal(o.out, 0x5001);
	assert_int_equal(f->res.reads[0].pa, c.root + 24);
	assert_int_equal(f->res.reads[0].kind, IMS_READ_S2);
	assert_int_equal(f->res.reads[0].stage, 2);
	/* Beyond 2^32: address size, reported at the root level with the
	 * stage-2 input address. */
	assert_false(walk_kind(f, &c, NULL, UINT64_C(1) << 32, IMS_ACC_READ, IMS_READ_S2, &o));
	assert_int_equal(f->res.fault.kind, IMS_FK_ADDR_SIZE);
	assert_int_equal(f->res.fault.stage, 2);
	assert_int_equal(f->res.fault.level, 2);
	assert_int_equal(f->res.fault.ipa, UINT64_C(1) << 32);
	assert_int_equal(f->res.nreads, 0);
}

static void test_leaf_each_level(void **state)
{
	struct fx *f = *state;
	struct ims_pt_cfg c = toy_cfg(0, 4, 48, 52, 0x7, 1);
	struct ims_walk_out o;

	for (unsigned lvl = 0; lvl < 3; lvl++) {
		uint64_t ent[4], in, base, mask, entry;

		c.root = table_new(f, 12);
		mask = (UINT64_C(1) << (12 + 9 * lvl)) - 1;
		in = UINT64_C(0x0000123456789abc);
		/* A page base with bits inside the page set in the entry: the
		 * walker keeps only the base. */
		base = UINT64_C(0x0007000000000000) | (UINT64_C(0x5a5a5) << 12);
		entry = base | T_V | T_L | T_R | T_W;
		build_chain(f, &c, in, lvl, entry, ent);
		assert_true(walk(f, &c, in, IMS_ACC_READ | IMS_ACC_WRITE, &o));
		assert_int_equal(o.size_lg2, 12 + 9 * lvl);
		assert_int_equal(o.out, (base & ~mask) | (in & mask));
		assert_int_equal(o.perm, IMS_PERM_R | IMS_PERM_PR | IMS_PERM_W | IMS_PERM_PW);
		assert_int_equal(f->res.nreads, 4 - lvl);
		assert_int_equal(f->res.reads[f->res.nreads - 1].level, (int)lvl);
		assert_int_equal(f->res.reads[f->res.nreads - 1].pa, ent[lvl]);
		assert_int_equal(f->res.reads[f->res.nreads - 1].value, entry);
	}
	/* A leaf at a level that does not allow one is malformed there. */
	c.root = table_new(f, 12);
	wr(f, c.root + 8 * idx9(0, 3), T_V | T_L | T_RWX);
	assert_false(walk(f, &c, 0, IMS_ACC_READ, &o));
	expect_fault(f, IMS_FK_RESERVED, 1, 3, c.root);
	/* A table pointer at level 0 is malformed. */
	{
		uint64_t ent[4];

		c.root = table_new(f, 12);
		build_chain(f, &c, 0x4000, 0, table_new(f, 12) | T_V | T_RWX, ent);
		assert_false(walk(f, &c, 0x4000, IMS_ACC_READ, &o));
		expect_fault(f, IMS_FK_RESERVED, 1, 0, ent[0]);
		assert_int_equal(f->res.nreads, 4);
	}
}

static void test_fault_kinds(void **state)
{
	struct fx *f = *state;
	struct ims_pt_cfg c = toy_cfg(0, 4, 48, 52, 0x7, 1);
	struct ims_walk_out o;
	uint64_t in = UINT64_C(0x00007f1234567000), ent[4];

	c.root = table_new(f, 12);
	/* Not present at the root. */
	assert_false(walk(f, &c, in, IMS_ACC_READ, &o));
	expect_fault(f, IMS_FK_TRANSLATION, 1, 3, c.root + 8 * idx9(in, 3));
	assert_int_equal(f->res.nreads, 1);
	assert_int_equal(f->res.reads[0].fault, IMS_FK_TRANSLATION);
	assert_int_equal(f->res.reads[0].decision, IMS_PTE_EMPTY);
	assert_int_equal(f->res.fault.iova, in);

	/* Not present at each lower level; then malformed entries. */
	build_chain(f, &c, in, 0, UINT64_C(0x9000) | T_V | T_L | T_R, ent);
	for (int l = 2; l >= 0; l--) {
		uint64_t save = rd(f, ent[l]);

		wr(f, ent[l], save & ~T_V);
		assert_false(walk(f, &c, in, IMS_ACC_READ, &o));
		expect_fault(f, IMS_FK_TRANSLATION, 1, l, ent[l]);
		assert_int_equal(f->res.nreads, 4 - l);

		wr(f, ent[l], save | T_RSV);
		assert_false(walk(f, &c, in, IMS_ACC_READ, &o));
		expect_fault(f, IMS_FK_RESERVED, 1, l, ent[l]);
		assert_int_equal(f->res.reads[f->res.nreads - 1].fault, IMS_FK_RESERVED);
		assert_int_equal(f->res.reads[f->res.nreads - 1].decision, IMS_PTE_BAD);

		wr(f, ent[l], save | T_NOAF);
		assert_false(walk(f, &c, in, IMS_ACC_READ, &o));
		expect_fault(f, IMS_FK_ACCESS_FLAG, 1, l, ent[l]);
		wr(f, ent[l], save);
	}
	assert_true(walk(f, &c, in, IMS_ACC_READ, &o));

	/* The same on a stage-2 configuration: stage 2 and the input as IPA. */
	c.stage = 2;
	wr(f, ent[1], rd(f, ent[1]) & ~T_V);
	assert_false(walk_kind(f, &c, NULL, in, IMS_ACC_READ, IMS_READ_S2, &o));
	expect_fault(f, IMS_FK_TRANSLATION, 2, 1, ent[1]);
	assert_int_equal(f->res.fault.ipa, in);

	/* Bad geometry is a configuration fault. */
	c.levels = 0;
	assert_false(walk(f, &c, in, IMS_ACC_READ, &o));
	assert_int_equal(f->res.fault.kind, IMS_FK_CONFIG);
	c.levels = IMS_PT_MAX_LEVELS + 1;
	assert_false(walk(f, &c, in, IMS_ACC_READ, &o));
	assert_int_equal(f->res.fault.kind, IMS_FK_CONFIG);
	assert_int_equal(f->res.nreads, 0);
}

static void test_perm_and(void **state)
{
	struct fx *f = *state;
	struct ims_pt_cfg c = toy_cfg(0, 4, 48, 52, 0x7, 1);
	struct ims_walk_out o;
	uint64_t in = 0x40201000, ent[4];

	c.root = table_new(f, 12);
	build_chain(f, &c, in, 0, UINT64_C(0x7000) | T_V | T_L | T_RWX, ent);
	assert_true(walk(f, &c, in, IMS_ACC_READ | IMS_ACC_WRITE | IMS_ACC_EXEC, &o));
	assert_int_equal(o.perm, IMS_PERM_ALL);
	/* Level 2 grants read and execute, level 1 read and write: only read
	 * survives the AND. */
	wr(f, ent[2], (rd(f, ent[2]) & ~T_RWX) | T_R | T_X);
	wr(f, ent[1], (rd(f, ent[1]) & ~T_RWX) | T_R | T_W);
	assert_true(walk(f, &c, in, IMS_ACC_READ, &o));
	assert_int_equal(o.perm, IMS_PERM_R | IMS_PERM_PR);
	assert_true(walk(f, &c, in, IMS_ACC_READ | IMS_ACC_PRIV, &o));

	assert_false(walk(f, &c, in, IMS_ACC_WRITE, &o));
	expect_fault(f, IMS_FK_PERMISSION, 1, 0, ent[0]);
	assert_int_equal(f->res.fault.missing, IMS_PERM_W);
	assert_int_equal(f->res.fault.have, IMS_PERM_R | IMS_PERM_PR);
	assert_int_equal(f->res.reads[3].fault, IMS_FK_PERMISSION);

	assert_false(walk(f, &c, in, IMS_ACC_WRITE | IMS_ACC_PRIV, &o));
	assert_int_equal(f->res.fault.kind, IMS_FK_PERMISSION);
	assert_int_equal(f->res.fault.missing, IMS_PERM_PW);

	assert_false(walk(f, &c, in, IMS_ACC_READ | IMS_ACC_EXEC, &o));
	assert_int_equal(f->res.fault.missing, IMS_PERM_X);

	/* A leaf without read. */
	wr(f, ent[2], rd(f, ent[2]) | T_RWX);
	wr(f, ent[1], rd(f, ent[1]) | T_RWX);
	wr(f, ent[0], (rd(f, ent[0]) & ~T_RWX) | T_W);
	assert_false(walk(f, &c, in, IMS_ACC_READ, &o));
	assert_int_equal(f->res.fault.missing, IMS_PERM_R);
	assert_int_equal(f->res.fault.have, IMS_PERM_W | IMS_PERM_PW);
	assert_true(walk(f, &c, in, IMS_ACC_WRITE, &o));

	/* Stage 2 keeps the input address of a permission fault. */
	c.stage = 2;
	assert_false(walk_kind(f, &c, NULL, in, IMS_ACC_READ, IMS_READ_S2, &o));
	assert_int_equal(f->res.fault.stage, 2);
	assert_int_equal(f->res.fault.ipa, in);
}

static void test_hooks(void **state)
{
	struct fx *f = *state;
	struct ims_pt_cfg c = toy_cfg(0, 4, 48, 52, 0x7, 1);
	struct ims_walk_out o;
	uint64_t ent[4], in = UINT64_C(0x0000800000003000); /* bit 47 */

	c.fmt = &toy_fmt_hooks;
	c.root = table_new(f, 12);
	build_chain(f, &c, in, 0, UINT64_C(0x8000) | T_V | T_L | T_RWX, ent);
	/* finish_perm takes execute away after the AND. */
	assert_true(walk(f, &c, in, IMS_ACC_READ, &o));
	assert_int_equal(o.perm, IMS_PERM_R | IMS_PERM_PR | IMS_PERM_W | IMS_PERM_PW);
	assert_false(walk(f, &c, in, IMS_ACC_EXEC, &o));
	assert_int_equal(f->res.fault.kind, IMS_FK_PERMISSION);
	/* check_input replaces the 2^ia_bits check. */
	assert_true(walk(f, &c, in | (UINT64_C(1) << 50), IMS_ACC_READ, &o));
	assert_false(walk(f, &c, in | (UINT64_C(1) << 63), IMS_ACC_READ, &o));
	assert_int_equal(f->res.fault.kind, IMS_FK_NON_CANONICAL);
	assert_int_equal(f->res.nreads, 0);
}

static void test_output_size(void **state)
{
	struct fx *f = *state;
	struct ims_pt_cfg c = toy_cfg(0, 4, 48, 48, 0x7, 1);
	struct ims_walk_out o;
	uint64_t ent[4], in = 0x12345000;

	c.root = table_new(f, 12);
	build_chain(f, &c, in, 0, ((UINT64_C(1) << 48) - 0x1000) | T_V | T_L | T_R, ent);
	assert_true(walk(f, &c, in, IMS_ACC_READ, &o));
	assert_int_equal(o.out, (UINT64_C(1) << 48) - 0x1000);
	/* A page at 2^48 is beyond a 48-bit output. */
	wr(f, ent[0], (UINT64_C(1) << 48) | T_V | T_L | T_R);
	assert_false(walk(f, &c, in, IMS_ACC_READ, &o));
	expect_fault(f, IMS_FK_ADDR_SIZE, 1, 0, ent[0]);
	assert_int_equal(f->res.reads[3].fault, IMS_FK_ADDR_SIZE);
	/* A table pointer beyond it, at level 2. */
	{
		uint64_t save = rd(f, ent[2]);

		wr(f, ent[2], save | (UINT64_C(1) << 50));
		assert_false(walk(f, &c, in, IMS_ACC_READ, &o));
		expect_fault(f, IMS_FK_ADDR_SIZE, 1, 2, ent[2]);
		assert_int_equal(f->res.nreads, 2);
		wr(f, ent[2], save);
	}
	/* With a 64-bit output anything goes. */
	c.oa_bits = 64;
	wr(f, ent[0], UINT64_C(0xfff0000000000000) | T_V | T_L | T_R);
	assert_true(walk(f, &c, in, IMS_ACC_READ, &o));
	assert_int_equal(o.out, UINT64_C(0xfff0000000000000));
}

static void test_ext_abort(void **state)
{
	struct fx *f = *state;
	struct ims_pt_cfg c = toy_cfg(0, 4, 48, 52, 0x7, 1);
	struct ims_walk_out o;
	uint64_t ent[4], in = 0x7654321000;

	c.root = table_new(f, 12);
	build_chain(f, &c, in, 0, UINT64_C(0x8000) | T_V | T_L | T_RWX, ent);
	for (int l = 3; l >= 0; l--) {
		assert_int_equal(ims_mem_inject_abort(f->mem, ent[l], 1), 0);
		assert_false(walk(f, &c, in, IMS_ACC_READ, &o));
		expect_fault(f, IMS_FK_EXT_ABORT, 1, l, ent[l]);
		assert_int_equal(f->res.nreads, 4 - l);
		assert_true(f->res.reads[3 - l].abort);
		assert_int_equal(f->res.reads[3 - l].fault, IMS_FK_EXT_ABORT);
		assert_int_equal(f->res.reads[3 - l].pa, ent[l]);
		ims_mem_clear_aborts(f->mem);
	}
	assert_true(walk(f, &c, in, IMS_ACC_READ, &o));
	/* A root in absent memory. */
	c.root = UINT64_C(0x000f000000000000);
	assert_false(walk(f, &c, in, IMS_ACC_READ, &o));
	expect_fault(f, IMS_FK_EXT_ABORT, 1, 3, c.root + 8 * idx9(in, 3));
}

/* ---- nested (2-D) walk ---- */

#define S2_OFF UINT64_C(0x4000000000) /* stage 2 maps GPA g to PA g + S2_OFF */

/*
 * A stage-2 table of 2 levels over a 30-bit IPA space, 4 KiB leaves at
 * level 0, and a stage-1 table of 3 levels (39 bits) whose tables live at
 * GPAs below 1 GiB.
 */
struct nest {
	struct ims_pt_cfg s1, s2;
	uint64_t gpa_next;
};

static void s2_map_page(struct fx *f, struct nest *n, uint64_t gpa, uint64_t pa, uint64_t bits)
{
	uint64_t ent[2];

	build_chain(f, &n->s2, gpa, 0, (pa & T_ADDR) | T_V | T_L | bits, ent);
}

/* A stage-1 table at a fresh GPA, backed at GPA + S2_OFF and mapped in s2. */
static uint64_t s1_table(struct fx *f, struct nest *n)
{
	uint64_t g = n->gpa_next;

	n->gpa_next += 0x1000;
	assert_int_equal(ims_mem_add_ram(f->mem, g + S2_OFF, 0x1000), 0);
	s2_map_page(f, n, g, g + S2_OFF, T_RWX);
	return g;
}

static void nest_init(struct fx *f, struct nest *n, uint32_t flags)
{
	memset(n, 0, sizeof(*n));
	n->s2 = toy_cfg(table_new(f, 12), 2, 30, 52, 0x1, 2);
	n->s1 = toy_cfg(0, 3, 39, 52, 0x1, 1);
	n->s1.flags = n->s2.flags = flags;
	n->gpa_next = 0x200000;
	n->s1.root = s1_table(f, n);
}

/* Stage-1 mapping of `in` to `out` (an IPA); returns the entries' GPAs. */
static void s1_map(struct fx *f, struct nest *n, uint64_t in, uint64_t out, uint64_t bits,
		   uint64_t *gent)
{
	uint64_t table = n->s1.root;

	for (int l = 2; l >= 0; l--) {
		uint64_t g = table + 8 * idx9(in, (unsigned)l), v;

		gent[l] = g;
		if (l == 0) {
			wr(f, g + S2_OFF, out | T_V | T_L | bits);
			break;
		}
		v = rd(f, g + S2_OFF);
		if (!(v & T_V)) {
			v = s1_table(f, n) | T_V | T_RWX;
			wr(f, g + S2_OFF, v);
		}
		table = v & T_ADDR;
	}
}

static void test_nested_reads(void **state)
{
	struct fx *f = *state;
	struct nest n;
	struct ims_walk_out o;
	uint64_t gent[3], in = UINT64_C(0x5512345678), ipa = 0x3456000;
	const struct ims_read *r;

	nest_init(f, &n, 0);
	s1_map(f, &n, in, ipa, T_RWX, gent);
	s2_map_page(f, &n, ipa, 0x77000, T_R | T_W);

	assert_true(walk_kind(f, &n.s1, &n.s2, in, IMS_ACC_READ, IMS_READ_S1, &o));
	assert_int_equal(o.out, ipa | 0x678);
	/* Per stage-1 level: two stage-2 reads translating the entry's GPA,
	 * then the stage-1 read at the translated address. */
	assert_int_equal(f->res.nreads, 3 * (2 + 1));
	for (int l = 2, i = 0; l >= 0; l--, i += 3) {
		uint64_t g = gent[l];

		r = &f->res.reads[i];
		assert_int_equal(r[0].kind, IMS_READ_S2_FOR_TABLE);
		assert_int_equal(r[0].stage, 2);
		assert_int_equal(r[0].level, 1);
		assert_int_equal(r[0].pa, n.s2.root + 8 * ((g >> 21) & 511));
		assert_int_equal(r[1].kind, IMS_READ_S2_FOR_TABLE);
		assert_int_equal(r[1].stage, 2);
		assert_int_equal(r[1].level, 0);
		assert_int_equal(r[1].next, (g + S2_OFF) & T_ADDR);
		assert_int_equal(r[2].kind, IMS_READ_S1);
		assert_int_equal(r[2].stage, 1);
		assert_int_equal(r[2].level, l);
		assert_int_equal(r[2].in_addr, g);
		assert_int_equal(r[2].pa, g + S2_OFF);
	}

	/* Through ims_translate: the final stage-2 walk follows. */
	f->arch.cfg = (struct ims_xlate_cfg){ .mode = IMS_XM_NESTED, .s1 = n.s1, .s2 = n.s2 };
	{
		struct ims_txn t = { .sid = 1, .addr = in, .size = 4, .access = IMS_ACC_READ };

		assert_int_equal(ims_translate(&f->io, &t, &f->res), 0);
		assert_true(f->res.ok);
		assert_int_equal(f->res.ipa, ipa | 0x678);
		assert_int_equal(f->res.out_addr, 0x77678);
		assert_int_equal(f->res.nreads, 9 + 2);
		assert_int_equal(f->res.reads[9].kind, IMS_READ_S2);
		assert_int_equal(f->res.reads[10].kind, IMS_READ_S2);
		assert_int_equal(f->res.reads[10].in_addr, f->res.reads[10].pa);
		assert_int_equal(f->res.perm, IMS_PERM_R | IMS_PERM_PR | IMS_PERM_W | IMS_PERM_PW);
		assert_int_equal(f->res.page_lg2, 12);
		assert_int_equal(f->arch.finished, 1);
		/* Write: stage 2 allows it; exec: stage 2 does not. */
		t.access = IMS_ACC_WRITE;
		assert_int_equal(ims_translate(&f->io, &t, &f->res), 0);
		assert_true(f->res.ok);
		t.access = IMS_ACC_EXEC;
		assert_int_equal(ims_translate(&f->io, &t, &f->res), 0);
		assert_false(f->res.ok);
		assert_int_equal(f->res.fault.kind, IMS_FK_PERMISSION);
		assert_int_equal(f->res.fault.stage, 2);
		assert_false(f->res.fault.on_table_fetch);
		assert_int_equal(f->res.fault.ipa, ipa | 0x678);
		assert_int_equal(f->res.fault.iova, in);
	}
}

static void test_nested_s2_fault_on_table(void **state)
{
	struct fx *f = *state;
	struct nest n;
	struct ims_walk_out o;
	uint64_t gent[3], in = UINT64_C(0x5512345678), s2ent[2], g1page;

	nest_init(f, &n, 0);
	s1_map(f, &n, in, 0x3456000, T_RWX, gent);
	/* Unmap the stage-2 page holding the stage-1 level-1 table. */
	g1page = gent[1] & T_ADDR;
	build_chain(f, &n.s2, g1page, 0, 0, s2ent);
	assert_false(walk_kind(f, &n.s1, &n.s2, in, IMS_ACC_READ, IMS_READ_S1, &o));
	assert_int_equal(f->res.fault.kind, IMS_FK_TRANSLATION);
	assert_int_equal(f->res.fault.stage, 2);
	assert_true(f->res.fault.on_table_fetch);
	assert_int_equal(f->res.fault.level, 1);  /* the stage-1 level being fetched */
	assert_int_equal(f->res.fault.ipa, gent[1]);
	assert_int_equal(f->res.fault.fetch_addr, gent[1]);
	/* Root level (3 reads) then two stage-2 reads, the last one faulting. */
	assert_int_equal(f->res.nreads, 5);
	assert_int_equal(f->res.reads[4].kind, IMS_READ_S2_FOR_TABLE);
	assert_int_equal(f->res.reads[4].fault, IMS_FK_TRANSLATION);

	/* No stage-2 read permission for the table. */
	wr(f, s2ent[0], ((gent[1] + S2_OFF) & T_ADDR) | T_V | T_L | T_W);
	assert_false(walk_kind(f, &n.s1, &n.s2, in, IMS_ACC_READ, IMS_READ_S1, &o));
	assert_int_equal(f->res.fault.kind, IMS_FK_PERMISSION);
	assert_true(f->res.fault.on_table_fetch);
	assert_int_equal(f->res.fault.missing, IMS_PERM_R);

	/* An external abort on the stage-2 entry. */
	wr(f, s2ent[0], ((gent[1] + S2_OFF) & T_ADDR) | T_V | T_L | T_R);
	assert_true(walk_kind(f, &n.s1, &n.s2, in, IMS_ACC_READ, IMS_READ_S1, &o));
	assert_int_equal(ims_mem_inject_abort(f->mem, s2ent[1], 8), 0);
	assert_false(walk_kind(f, &n.s1, &n.s2, in, IMS_ACC_READ, IMS_READ_S1, &o));
	assert_int_equal(f->res.fault.kind, IMS_FK_EXT_ABORT);
	assert_true(f->res.fault.on_table_fetch);
	assert_int_equal(f->res.fault.stage, 2);
	ims_mem_clear_aborts(f->mem);

	/* Stage-1 table GPA beyond stage 2's input range. */
	{
		uint64_t save = rd(f, gent[2] + S2_OFF);

		wr(f, gent[2] + S2_OFF, (UINT64_C(1) << 30) | T_V | T_RWX);
		assert_false(walk_kind(f, &n.s1, &n.s2, in, IMS_ACC_READ, IMS_READ_S1, &o));
		assert_int_equal(f->res.fault.kind, IMS_FK_ADDR_SIZE);
		assert_true(f->res.fault.on_table_fetch);
		assert_int_equal(f->res.fault.level, 1);
		wr(f, gent[2] + S2_OFF, save);
	}
}

static void test_self_reference(void **state)
{
	struct fx *f = *state;
	struct ims_pt_cfg c = toy_cfg(0, IMS_PT_MAX_LEVELS, 64, 64, 0x1, 1);
	struct ims_walk_out o;
	uint64_t in = 0;

	/* Six levels of 9 bits from bit 12 reach bit 65: every index 5. */
	for (unsigned l = 0; l < IMS_PT_MAX_LEVELS; l++)
		in |= UINT64_C(5) << (12 + 9 * l);
	c.root = table_new(f, 12);
	wr(f, c.root + 8 * 5, c.root | T_V | T_RWX);
	assert_false(walk(f, &c, in, IMS_ACC_READ, &o));
	expect_fault(f, IMS_FK_RESERVED, 1, 0, c.root + 40);
	assert_int_equal(f->res.nreads, IMS_PT_MAX_LEVELS);

	/* Two tables pointing at each other. */
	{
		struct ims_pt_cfg c4 = toy_cfg(table_new(f, 12), 4, 48, 52, 0x1, 1);
		uint64_t b = table_new(f, 12);

		wr(f, c4.root, b | T_V | T_RWX);
		wr(f, b, c4.root | T_V | T_RWX);
		assert_false(walk(f, &c4, 0, IMS_ACC_READ, &o));
		assert_int_equal(f->res.nreads, 4);
		assert_int_equal(f->res.fault.kind, IMS_FK_RESERVED);
	}

	/* Nested: a stage-1 root pointing at itself, and a stage-2 table that
	 * points at itself: at most levels1 * (levels2 + 1) reads. */
	{
		struct nest n;
		uint64_t rootpa;

		nest_init(f, &n, 0);
		rootpa = n.s1.root + S2_OFF;
		wr(f, rootpa, n.s1.root | T_V | T_RWX);
		assert_false(walk_kind(f, &n.s1, &n.s2, 0, IMS_ACC_READ, IMS_READ_S1, &o));
		assert_int_equal(f->res.nreads, 3 * 3);
		assert_int_equal(f->res.fault.kind, IMS_FK_RESERVED);
		assert_int_equal(f->res.fault.stage, 1);

		wr(f, n.s2.root, n.s2.root | T_V | T_RWX);
		n.s1.root = 0;
		assert_false(walk_kind(f, &n.s1, &n.s2, 0, IMS_ACC_READ, IMS_READ_S1, &o));
		assert_int_equal(f->res.nreads, 2);
		assert_true(f->res.fault.on_table_fetch);
		assert_int_equal(f->res.fault.kind, IMS_FK_RESERVED);
	}
}

/* ---- hardware A/D updates ---- */

static void test_ad_collected(void **state)
{
	struct fx *f = *state;
	struct ims_pt_cfg c = toy_cfg(0, 4, 48, 52, 0x7, 1);
	struct ims_walk_out o;
	uint64_t ent[4], val[4], in = 0x1234567000;

	c.flags = TOY_F_AD;
	c.root = table_new(f, 12);
	build_chain(f, &c, in, 0, UINT64_C(0x8000) | T_V | T_L | T_RWX, ent);
	for (int l = 0; l < 4; l++)
		val[l] = rd(f, ent[l]);
	/* A successful write walk queues A on every level and D on the leaf,
	 * and the walker itself writes nothing. */
	assert_true(walk(f, &c, in, IMS_ACC_WRITE, &o));
	assert_int_equal(f->w.nad, 4);
	for (unsigned i = 0; i < 4; i++) {
		int l = 3 - (int)i;

		assert_int_equal(f->w.ad[i].pa, ent[l]);
		assert_int_equal(f->w.ad[i].old, val[l]);
		assert_int_equal(f->w.ad[i].val, val[l] | T_A | (l == 0 ? T_D : 0));
		assert_int_equal(rd(f, ent[l]), val[l]);
	}
	/* A read sets no D. */
	assert_true(walk(f, &c, in, IMS_ACC_READ, &o));
	assert_int_equal(f->w.nad, 4);
	assert_int_equal(f->w.ad[3].val, val[0] | T_A);
	/* Without the enable nothing is queued. */
	c.flags = 0;
	assert_true(walk(f, &c, in, IMS_ACC_WRITE, &o));
	assert_int_equal(f->w.nad, 0);
}

static void test_ad_commit(void **state)
{
	struct fx *f = *state;
	struct ims_pt_cfg c = toy_cfg(0, 4, 48, 52, 0x7, 1);
	struct ims_txn t = { .sid = 1, .addr = 0x1234567010, .size = 8, .access = IMS_ACC_WRITE };
	uint64_t ent[4], val[4];

	c.flags = TOY_F_AD;
	c.root = table_new(f, 12);
	build_chain(f, &c, t.addr, 0, UINT64_C(0x8000) | T_V | T_L | T_R, ent);
	for (int l = 0; l < 4; l++)
		val[l] = rd(f, ent[l]);
	f->arch.cfg = (struct ims_xlate_cfg){ .mode = IMS_XM_S1, .s1 = c };

	/* A faulting write (read-only leaf) changes nothing. */
	assert_int_equal(ims_translate(&f->io, &t, &f->res), 0);
	assert_false(f->res.ok);
	assert_int_equal(f->res.fault.kind, IMS_FK_PERMISSION);
	for (int l = 0; l < 4; l++)
		assert_int_equal(rd(f, ent[l]), val[l]);
	assert_int_equal(ims_iommu_stats(&f->io)->ad_updates, 0);

	/* A successful read sets A everywhere, D nowhere. */
	t.access = IMS_ACC_READ;
	assert_int_equal(ims_translate(&f->io, &t, &f->res), 0);
	assert_true(f->res.ok);
	assert_int_equal(f->res.out_addr, 0x8010);
	for (int l = 0; l < 4; l++)
		assert_int_equal(rd(f, ent[l]), val[l] | T_A);
	assert_int_equal(ims_iommu_stats(&f->io)->ad_updates, 4);

	/* A successful write sets D on the leaf. */
	wr(f, ent[0], rd(f, ent[0]) | T_W);
	t.access = IMS_ACC_WRITE;
	assert_int_equal(ims_translate(&f->io, &t, &f->res), 0);
	assert_true(f->res.ok);
	assert_int_equal(rd(f, ent[0]), val[0] | T_W | T_A | T_D);
	assert_int_equal(rd(f, ent[1]), val[1] | T_A);
}

static void test_ad_commit_all_or_nothing(void **state)
{
	struct fx *f = *state;
	struct ims_pt_cfg c = toy_cfg(0, 4, 48, 52, 0x7, 1);
	struct ims_txn t = { .sid = 1, .addr = 0x1234567010, .size = 8, .access = IMS_ACC_READ };
	uint64_t *leaf_table = calloc(512, sizeof(uint64_t)), ent[4], val[4];
	uint64_t lt = 0x7000000;

	assert_non_null(leaf_table);
	c.flags = TOY_F_AD;
	c.root = table_new(f, 12);
	/* The leaf table is in read-only memory: readable, not updatable. */
	assert_int_equal(ims_mem_map_host(f->mem, lt, 0x1000, leaf_table, false), 0);
	build_chain(f, &c, t.addr, 1, lt | T_V | T_RWX, ent);
	ent[0] = lt + 8 * idx9(t.addr, 0);
	leaf_table[idx9(t.addr, 0)] = UINT64_C(0x8000) | T_V | T_L | T_RWX; /* host is little-endian */
	for (int l = 0; l < 4; l++)
		val[l] = rd(f, ent[l]);
	f->arch.cfg = (struct ims_xlate_cfg){ .mode = IMS_XM_S1, .s1 = c };
	assert_int_equal(ims_translate(&f->io, &t, &f->res), 0);
	assert_false(f->res.ok);
	assert_int_equal(f->res.fault.kind, IMS_FK_AD_UPDATE);
	/* The levels whose memory was writable were not updated either. */
	for (int l = 0; l < 4; l++)
		assert_int_equal(rd(f, ent[l]), val[l]);
	assert_int_equal(ims_iommu_stats(&f->io)->ad_updates, 0);
	ims_mem_unmap(f->mem, lt, 0x1000);
	free(leaf_table);
}

static void test_ad_nested(void **state)
{
	struct fx *f = *state;
	struct nest n;
	uint64_t gent[3], in = UINT64_C(0x5512345678), ipa = 0x3456000, s2leaf[2], s2tab[3][2];
	uint64_t v1[3], v2[2], vt[3][2];
	struct ims_txn t = { .sid = 1, .addr = in, .size = 4, .access = IMS_ACC_READ };

	nest_init(f, &n, TOY_F_AD);
	s1_map(f, &n, in, ipa, T_RWX, gent);
	/* The final IPA is mapped read-only at stage 2. */
	s2_map_page(f, &n, ipa, 0x77000, T_R);
	locate(f, &n.s2, ipa, s2leaf);
	for (int l = 0; l < 3; l++) {
		v1[l] = rd(f, gent[l] + S2_OFF);
		locate(f, &n.s2, gent[l], s2tab[l]);
		vt[l][0] = rd(f, s2tab[l][0]);
		vt[l][1] = rd(f, s2tab[l][1]);
	}
	v2[0] = rd(f, s2leaf[0]);
	v2[1] = rd(f, s2leaf[1]);
	f->arch.cfg = (struct ims_xlate_cfg){ .mode = IMS_XM_NESTED, .s1 = n.s1, .s2 = n.s2 };

	/* Stage 1 succeeds (its A/D updates and those of the stage-2 walks
	 * for its tables are queued), the final stage-2 walk faults: nothing
	 * is written. */
	t.access = IMS_ACC_WRITE;
	assert_int_equal(ims_translate(&f->io, &t, &f->res), 0);
	assert_false(f->res.ok);
	assert_int_equal(f->res.fault.stage, 2);
	assert_int_equal(f->res.fault.kind, IMS_FK_PERMISSION);
	assert_false(f->res.fault.on_table_fetch);
	for (int l = 0; l < 3; l++) {
		assert_int_equal(rd(f, gent[l] + S2_OFF), v1[l]);
		assert_int_equal(rd(f, s2tab[l][0]), vt[l][0]);
		assert_int_equal(rd(f, s2tab[l][1]), vt[l][1]);
	}
	assert_int_equal(rd(f, s2leaf[0]), v2[0]);
	assert_int_equal(rd(f, s2leaf[1]), v2[1]);
	assert_int_equal(ims_iommu_stats(&f->io)->ad_updates, 0);

	/* A read succeeds and commits A at both stages, stage 1 through its
	 * translated addresses. */
	t.access = IMS_ACC_READ;
	assert_int_equal(ims_translate(&f->io, &t, &f->res), 0);
	assert_true(f->res.ok);
	for (int l = 0; l < 3; l++) {
		assert_int_equal(rd(f, gent[l] + S2_OFF), v1[l] | T_A);
		assert_int_equal(rd(f, s2tab[l][0]), vt[l][0] | T_A);
		assert_int_equal(rd(f, s2tab[l][1]), vt[l][1] | T_A);
	}
	assert_int_equal(rd(f, s2leaf[0]), v2[0] | T_A);
	assert_int_equal(rd(f, s2leaf[1]), v2[1] | T_A);

	/* Stage-1 leaf table mapped read-only at stage 2: the A update of its
	 * entry cannot be made; a stage-2 fault on the table fetch. */
	wr(f, s2tab[0][0], ((gent[0] + S2_OFF) & T_ADDR) | T_V | T_L | T_R | T_A);
	wr(f, gent[0] + S2_OFF, v1[0]); /* A clear again */
	assert_int_equal(ims_translate(&f->io, &t, &f->res), 0);
	assert_false(f->res.ok);
	assert_int_equal(f->res.fault.kind, IMS_FK_AD_UPDATE);
	assert_int_equal(f->res.fault.stage, 2);
	assert_true(f->res.fault.on_table_fetch);
	assert_int_equal(f->res.fault.level, 0);
	assert_int_equal(f->res.fault.ipa, gent[0]);
	assert_int_equal(rd(f, gent[0] + S2_OFF), v1[0]);
}

/* ---- ims_pt_map / ims_pt_lookup ---- */

static int bump_alloc(void *opaque, unsigned lg2, uint64_t *addr)
{
	struct fx *f = opaque;

	*addr = table_new(f, lg2);
	return 0;
}

static int fail_alloc(void *opaque, unsigned lg2, uint64_t *addr)
{
	(void)opaque;
	(void)lg2;
	(void)addr;
	return -ENOMEM;
}

static void test_map_errors(void **state)
{
	struct fx *f = *state;
	struct ims_pt_cfg c = toy_cfg(0, 3, 39, 52, 0x3, 1);
	uint64_t out;
	unsigned lg2;

	c.root = table_new(f, 12);
	/* Sizes: only 4 KiB and 2 MiB leaves are allowed here. */
	assert_int_equal(ims_pt_map(f->mem, &c, NULL, 0, 0, 30, IMS_PERM_R, bump_alloc, f), -EINVAL);
	assert_int_equal(ims_pt_map(f->mem, &c, NULL, 0, 0, 13, IMS_PERM_R, bump_alloc, f), -EINVAL);
	/* Alignment of input and output. */
	assert_int_equal(ims_pt_map(f->mem, &c, NULL, 0x1000, 0, 21, IMS_PERM_R, bump_alloc, f),
			 -EINVAL);
	assert_int_equal(ims_pt_map(f->mem, &c, NULL, 0, 0x1000, 21, IMS_PERM_R, bump_alloc, f),
			 -EINVAL);
	/* Beyond the input range. */
	assert_int_equal(ims_pt_map(f->mem, &c, NULL, UINT64_C(1) << 39, 0, 12, IMS_PERM_R,
				    bump_alloc, f), -EINVAL);
	/* Allocation failure is passed on. */
	assert_int_equal(ims_pt_map(f->mem, &c, NULL, 0, 0, 12, IMS_PERM_R, fail_alloc, f),
			 -ENOMEM);
	assert_int_equal(ims_pt_lookup(f->mem, &c, NULL, 0, &out, &lg2), -ENOENT);
	/* A leaf above the target refuses a smaller mapping under it. */
	assert_int_equal(ims_pt_map(f->mem, &c, NULL, 0x200000, 0x400000, 21, IMS_PERM_R,
				    bump_alloc, f), 0);
	assert_int_equal(ims_pt_map(f->mem, &c, NULL, 0x201000, 0x9000, 12, IMS_PERM_R,
				    bump_alloc, f), -EEXIST);
	assert_int_equal(ims_pt_lookup(f->mem, &c, NULL, 0x201234, &out, &lg2), 0);
	assert_int_equal(out, 0x401234);
	assert_int_equal(lg2, 21);
	/* Missing memory. */
	c.root = UINT64_C(0xf00000000);
	assert_int_equal(ims_pt_map(f->mem, &c, NULL, 0, 0, 12, IMS_PERM_R, bump_alloc, f),
			 -EFAULT);
	assert_int_equal(ims_pt_lookup(f->mem, &c, NULL, 0, &out, &lg2), -EFAULT);
	/* A format without encoders cannot be built. */
	c.root = table_new(f, 12);
	c.fmt = &toy_fmt_noenc;
	assert_int_equal(ims_pt_map(f->mem, &c, NULL, 0, 0, 12, IMS_PERM_R, bump_alloc, f),
			 -EOPNOTSUPP);
}

static uint64_t rnd(uint64_t *s)
{
	uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* The dictionary: per 2 MiB region, nothing / one big leaf / 512 pages. */
#define NREG 16
enum { R_NONE, R_BIG, R_PAGES };
struct region {
	uint64_t base;
	int kind;
	uint64_t big_out;
	unsigned big_perm;
	bool mapped[512];
	uint64_t out[512];
	unsigned perm[512];
};

static const unsigned perm_choices[] = {
	IMS_PERM_R | IMS_PERM_PR,
	IMS_PERM_R | IMS_PERM_PR | IMS_PERM_W | IMS_PERM_PW,
	IMS_PERM_ALL,
	IMS_PERM_W | IMS_PERM_PW,
	IMS_PERM_X | IMS_PERM_PX,
};

static void check_dictionary(struct fx *f, const struct ims_pt_cfg *c,
			     const struct ims_pt_cfg *via, const struct region *reg,
			     uint64_t *seed)
{
	for (unsigned r = 0; r < NREG; r++) {
		for (unsigned p = 0; p < 512; p++) {
			uint64_t off = rnd(seed) & 0xfff;
			uint64_t iova = reg[r].base + ((uint64_t)p << 12) + off, out = 0, want;
			unsigned lg2 = 0, wlg2, wperm;
			bool mapped;
			struct ims_walk_out o;
			int rc = ims_pt_lookup(f->mem, c, via, iova, &out, &lg2);

			switch (reg[r].kind) {
			case R_BIG:
				mapped = true;
				want = reg[r].big_out + ((uint64_t)p << 12) + off;
				wlg2 = 21;
				wperm = reg[r].big_perm;
				break;
			case R_PAGES:
				mapped = reg[r].mapped[p];
				want = reg[r].out[p] + off;
				wlg2 = 12;
				wperm = reg[r].perm[p];
				break;
			default:
				mapped = false;
				want = 0;
				wlg2 = 0;
				wperm = 0;
				break;
			}
			if (!mapped) {
				assert_int_equal(rc, -ENOENT);
				/* The walker agrees: not present. */
				assert_false(walk_kind(f, c, via, iova, IMS_ACC_READ, IMS_READ_S1, &o));
				assert_int_equal(f->res.fault.kind, IMS_FK_TRANSLATION);
				continue;
			}
			assert_int_equal(rc, 0);
			assert_int_equal(out, want);
			assert_int_equal(lg2, wlg2);
			/* The walker agrees on output, size and permissions. */
			if (walk_kind(f, c, via, iova, 0, IMS_READ_S1, &o)) {
				assert_int_equal(o.out, want);
				assert_int_equal(o.size_lg2, wlg2);
				assert_int_equal(o.perm, wperm);
			} else {
				fail_msg("walker faulted (%d) on a mapped iova 0x%llx",
					 f->res.fault.kind, (unsigned long long)iova);
			}
		}
	}
}

static void random_map_run(struct fx *f, const struct ims_pt_cfg *c, const struct ims_pt_cfg *via,
			   ims_pt_alloc_fn alloc, uint64_t seed, unsigned steps)
{
	struct region *reg = calloc(NREG, sizeof(*reg));
	uint64_t s = seed;

	assert_non_null(reg);
	/* Distinct 2 MiB regions scattered over the 39-bit input space. */
	for (unsigned r = 0; r < NREG; r++) {
		bool dup;

		do {
			reg[r].base = (rnd(&s) & ((UINT64_C(1) << 39) - 1)) & ~UINT64_C(0x1fffff);
			dup = false;
			for (unsigned q = 0; q < r; q++)
				dup |= reg[q].base == reg[r].base;
		} while (dup);
	}
	for (unsigned step = 0; step < steps; step++) {
		unsigned ri = (unsigned)(rnd(&s) % NREG);
		struct region *g = &reg[ri];
		unsigned perm = perm_choices[rnd(&s) % 5];
		int rc;

		/* Regions 0-3 may also get 2 MiB leaves (over their pages). */
		if (ri < 4 && rnd(&s) % 16 == 0) {
			uint64_t out = (rnd(&s) & ((UINT64_C(1) << 40) - 1)) & ~UINT64_C(0x1fffff);

			rc = ims_pt_map(f->mem, c, via, g->base, out, 21, perm, alloc, f);
			assert_int_equal(rc, 0);
			/* A big leaf replaces whatever was there. */
			g->kind = R_BIG;
			g->big_out = out;
			g->big_perm = perm;
			memset(g->mapped, 0, sizeof(g->mapped));
		} else {
			unsigned p = (unsigned)(rnd(&s) % 512);
			uint64_t out = (rnd(&s) & ((UINT64_C(1) << 40) - 1)) & ~UINT64_C(0xfff);

			rc = ims_pt_map(f->mem, c, via, g->base + ((uint64_t)p << 12), out, 12, perm,
					alloc, f);
			if (g->kind == R_BIG) {
				assert_int_equal(rc, -EEXIST);
				continue;
			}
			assert_int_equal(rc, 0);
			g->kind = R_PAGES;
			g->mapped[p] = true;
			g->out[p] = out;
			g->perm[p] = perm;
		}
		if (step % 500 == 499)
			check_dictionary(f, c, via, reg, &s);
	}
	check_dictionary(f, c, via, reg, &s);
	/* Random addresses outside every region are unmapped. */
	for (unsigned i = 0; i < 2000; i++) {
		uint64_t iova = rnd(&s) & ((UINT64_C(1) << 39) - 1), out;
		unsigned lg2;
		bool inside = false;

		for (unsigned r = 0; r < NREG; r++)
			inside |= (iova & ~UINT64_C(0x1fffff)) == reg[r].base;
		if (!inside)
			assert_int_equal(ims_pt_lookup(f->mem, c, via, iova, &out, &lg2), -ENOENT);
	}
	free(reg);
}

static void test_map_lookup_random(void **state)
{
	struct fx *f = *state;
	struct ims_pt_cfg c = toy_cfg(0, 3, 39, 52, 0x3, 1);

	c.root = table_new(f, 12);
	random_map_run(f, &c, NULL, bump_alloc, UINT64_C(0xc0ffee), 3000);
	c.root = table_new(f, 12);
	random_map_run(f, &c, NULL, bump_alloc, UINT64_C(7), 3000);
}

/* Tables built in "guest-physical" memory through a stage-2 configuration. */
static int gpa_alloc(void *opaque, unsigned lg2, uint64_t *addr)
{
	struct fx *f = opaque;

	/* GPA g is PA g + S2_OFF; stage 2 maps the whole GPA window. */
	*addr = f->next;
	assert_int_equal(ims_mem_add_ram(f->mem, f->next + S2_OFF, UINT64_C(1) << lg2), 0);
	f->next += UINT64_C(1) << lg2;
	return 0;
}

static void test_map_lookup_via(void **state)
{
	struct fx *f = *state;
	struct ims_pt_cfg s2 = toy_cfg(0, 2, 32, 52, 0x3, 2);
	struct ims_pt_cfg s1 = toy_cfg(0, 3, 39, 52, 0x3, 1);
	struct ims_walk_out o;
	uint64_t gpa_window = 0x10000000, out;
	unsigned lg2;

	s2.root = table_new(f, 12);
	/* Stage 2: GPA [0, 256 MiB) -> PA + S2_OFF in 2 MiB leaves. */
	for (uint64_t g = 0; g < gpa_window; g += 0x200000)
		assert_int_equal(ims_pt_map(f->mem, &s2, NULL, g, g + S2_OFF, 21, IMS_PERM_ALL,
					    bump_alloc, f), 0);
	assert_int_equal(ims_pt_lookup(f->mem, &s2, NULL, 0x1234567, &out, &lg2), 0);
	assert_int_equal(out, 0x1234567 + S2_OFF);
	assert_int_equal(lg2, 21);

	/* Stage-1 tables allocated at GPAs in the window. */
	f->next = 0x8000000; /* GPAs that are not also backed as PAs */
	assert_int_equal(gpa_alloc(f, 12, &s1.root), 0);
	{
		assert_int_equal(ims_pt_map(f->mem, &s1, &s2, UINT64_C(0x7654321000), 0xabc000, 12,
					    IMS_PERM_R | IMS_PERM_PR, gpa_alloc, f), 0);
		assert_int_equal(ims_pt_lookup(f->mem, &s1, &s2, UINT64_C(0x7654321abc), &out, &lg2),
				 0);
		assert_int_equal(out, 0xabcabc);
		assert_int_equal(lg2, 12);
		/* The tables are only reachable through stage 2. */
		assert_int_equal(ims_pt_lookup(f->mem, &s1, NULL, UINT64_C(0x7654321abc), &out, &lg2),
				 -EFAULT);
		/* The nested walker reads the same tables. */
		assert_true(walk_kind(f, &s1, &s2, UINT64_C(0x7654321abc), IMS_ACC_READ, IMS_READ_S1,
				      &o));
		assert_int_equal(o.out, 0xabcabc);
		/* Stage 2 maps with 2 MiB leaves at its root: one read per
		 * stage-1 table address, then the stage-1 read. */
		assert_int_equal(f->res.nreads, 3 * (1 + 1));
		for (unsigned i = 0; i < 6; i++)
			assert_int_equal(f->res.reads[i].kind,
					 i % 2 ? IMS_READ_S1 : IMS_READ_S2_FOR_TABLE);
	}
	/* Random round trips through stage 2. */
	random_map_run(f, &s1, &s2, gpa_alloc, UINT64_C(99), 1500);
	assert_true(f->next < gpa_window);
}

/* ims_pt_unmap: clears exactly the leaf mapping the address, of any or a given size. */
static void test_unmap(void **state)
{
	struct fx *f = *state;
	struct ims_pt_cfg c = toy_cfg(0, 3, 39, 52, 0x3, 1);
	uint64_t out;
	unsigned lg2;

	c.root = table_new(f, 12);
	assert_int_equal(ims_pt_map(f->mem, &c, NULL, 0x1000, 0x5000, 12, IMS_PERM_R, bump_alloc, f),
			 0);
	assert_int_equal(ims_pt_map(f->mem, &c, NULL, 0x2000, 0x6000, 12, IMS_PERM_R, bump_alloc, f),
			 0);
	assert_int_equal(ims_pt_map(f->mem, &c, NULL, 0x400000, 0x800000, 21, IMS_PERM_R,
				    bump_alloc, f), 0);
	/* Not mapped: nothing to clear. */
	lg2 = 0;
	assert_int_equal(ims_pt_unmap(f->mem, &c, NULL, 0x3000, &lg2), -ENOENT);
	assert_int_equal(ims_pt_unmap(f->mem, &c, NULL, UINT64_C(1) << 30, &lg2), -ENOENT);
	/* Any size: the 4 KiB leaf at 0x1000 goes, its neighbour stays. */
	lg2 = 0;
	assert_int_equal(ims_pt_unmap(f->mem, &c, NULL, 0x1abc, &lg2), 0);
	assert_int_equal(lg2, 12);
	assert_int_equal(ims_pt_lookup(f->mem, &c, NULL, 0x1000, &out, &lg2), -ENOENT);
	assert_int_equal(ims_pt_lookup(f->mem, &c, NULL, 0x2000, &out, &lg2), 0);
	assert_int_equal(out, 0x6000);
	/* A size that does not match the leaf changes nothing. */
	lg2 = 12;
	assert_int_equal(ims_pt_unmap(f->mem, &c, NULL, 0x401000, &lg2), -EINVAL);
	assert_int_equal(ims_pt_lookup(f->mem, &c, NULL, 0x401000, &out, &lg2), 0);
	assert_int_equal(lg2, 21);
	/* The 2 MiB leaf, named by any address inside it. */
	lg2 = 21;
	assert_int_equal(ims_pt_unmap(f->mem, &c, NULL, 0x5fffff, &lg2), 0);
	assert_int_equal(lg2, 21);
	assert_int_equal(ims_pt_lookup(f->mem, &c, NULL, 0x400000, &out, &lg2), -ENOENT);
	/* Tables are kept: mapping again needs no allocation. */
	assert_int_equal(ims_pt_map(f->mem, &c, NULL, 0x1000, 0x7000, 12, IMS_PERM_R, fail_alloc, f),
			 0);
	/* Missing memory. */
	c.root = UINT64_C(0xf00000000);
	lg2 = 0;
	assert_int_equal(ims_pt_unmap(f->mem, &c, NULL, 0, &lg2), -EFAULT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_level_arith),
		cmocka_unit_test_setup_teardown(test_wide_root, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_narrow_root, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_leaf_each_level, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_fault_kinds, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_perm_and, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_hooks, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_output_size, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_ext_abort, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_nested_reads, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_nested_s2_fault_on_table, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_self_reference, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_ad_collected, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_ad_commit, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_ad_commit_all_or_nothing, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_ad_nested, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_map_errors, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_map_lookup_random, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_map_lookup_via, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_unmap, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
