/*
 * test_translate.c - VT-d DMA remapping, end to end through ims_translate().
 *
 * Reference: Intel Virtualization Technology for Directed I/O, Architecture
 * Specification rev 4.x / 5.0:
 *   3.4 (root and context tables, legacy and scalable mode), 3.4.3 (PASID
 *   directory and table), 3.5-3.8 (first-stage, second-stage, nested and
 *   pass-through translation), 3.6.1 (canonical addresses), 3.6.2 (first-
 *   stage access rights), 3.6.3 / 3.7.2 (accessed and dirty flags), 3.15
 *   (interrupt address range), 7.1.3 (fault conditions and reasons), 7.2.1
 *   (primary fault logging), 9.1-9.8 (structure formats), 11.4.2 / 11.4.3
 *   (CAP_REG / ECAP_REG), 11.4.14 (fault recording registers).
 *
 * Every structure is written here, word by word, from the spec's bit
 * layouts with plain arithmetic; the capability registers are raw values
 * built the same way.  Nothing of the library's own masks, encoders,
 * table builders or structure writers is used, so an error in them cannot
 * hide behind the same error in the test.  What a test expects (output
 * address, number and order of reads, fault reason) is derived from the
 * spec, never from what the simulator printed.
 *
 * Memory layout of every instance (host address width 46, RAM 0-32 MiB):
 *   0x010000 root table        0x011000 context table (devfn 0-127)
 *   0x012000 PASID directory   0x013000+ PASID tables (one per dir entry)
 *   0x00f000 context table for devfn 128-255 (scalable upper half)
 *   0x100000+ host page-table pages (second stage, or first stage alone)
 *   nested: guest-physical page G lives at host-physical G + 0x1000000;
 *   guest page-table pages start at GPA 0x100000.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <iommusim/iommusim.h>

/* ---- CAP_REG (11.4.2) ---- */
#define CAP_SAGAW(m) ((uint64_t)(m) << 8)       /* 12:8, bit n: (n+2)-level SS */
#define CAP_MGAW(w) ((uint64_t)((w) - 1) << 16) /* 21:16, width - 1 */
#define CAP_SLLPS(m) ((uint64_t)(m) << 34)      /* 37:34, bit 0: 2M, bit 1: 1G */
#define CAP_NFR(n) ((uint64_t)((n) - 1) << 40)  /* 47:40, records - 1 */
#define CAP_FS1GP (1ull << 56)
#define CAP_FS5LP (1ull << 60)

/* ---- ECAP_REG (11.4.3) ---- */
#define ECAP_DT (1ull << 2)
#define ECAP_PT (1ull << 6)
#define ECAP_SC (1ull << 7)
#define ECAP_NEST (1ull << 26)
#define ECAP_SRS (1ull << 31)
#define ECAP_EAFS (1ull << 34)
#define ECAP_PSS(bits) ((uint64_t)((bits) - 1) << 35) /* 39:35, PASID bits - 1 */
#define ECAP_PASID (1ull << 40)
#define ECAP_SMTS (1ull << 43)
#define ECAP_SSADS (1ull << 45)
#define ECAP_SSTS (1ull << 46)
#define ECAP_FSTS (1ull << 47)
#define ECAP_RPS (1ull << 49)

#define CAP_STD (CAP_SAGAW(0xe) | CAP_MGAW(57) | CAP_SLLPS(3) | CAP_NFR(8) | CAP_FS1GP | CAP_FS5LP)
#define ECAP_STD                                                                                \
	(ECAP_PT | ECAP_NEST | ECAP_SRS | ECAP_EAFS | ECAP_PSS(20) | ECAP_PASID | ECAP_SMTS |     \
	 ECAP_SSADS | ECAP_SSTS | ECAP_FSTS | ECAP_RPS)

/* ---- RTADDR_REG (11.4.5): TTM 11:10 ---- */
#define TTM_LEGACY 0ull
#define TTM_SCALABLE (1ull << 10)

/* ---- Legacy context entry (9.3) ---- */
#define CE0_P 1ull
#define CE0_FPD (1ull << 1)
#define CE0_TT(x) ((uint64_t)(x) << 2) /* 3:2 */
#define CE1_AW(x) ((uint64_t)(x))      /* 66:64 */
#define CE1_DID(x) ((uint64_t)(x) << 8) /* 87:72 */

/* ---- Scalable-mode context entry (9.4) ---- */
#define SCE0_P 1ull
#define SCE0_FPD (1ull << 1)
#define SCE0_PASIDE (1ull << 3)
#define SCE0_PDTS(x) ((uint64_t)(x) << 9) /* 11:9, 2^(x+7) directory entries */

/* ---- Scalable-mode PASID table entry (9.6) ---- */
#define PE0_P 1ull
#define PE0_FPD (1ull << 1)
#define PE0_AW(x) ((uint64_t)(x) << 2)   /* 4:2 */
#define PE0_PGTT(x) ((uint64_t)(x) << 6) /* 8:6 */
#define PE0_SSADE (1ull << 9)
#define PE1_DID(x) ((uint64_t)(x))       /* 79:64 */
#define PE2_SRE 1ull                     /* 128 */
#define PE2_FSPM(x) ((uint64_t)(x) << 2) /* 131:130 */
#define PE2_WPE (1ull << 4)              /* 132 */
#define PE2_EAFE (1ull << 7)             /* 135 */
enum { PGTT_FS = 1, PGTT_SS = 2, PGTT_NESTED = 3, PGTT_PT = 4 };

/* ---- First-stage paging entries (9.7, x86-64 paging) ---- */
#define FS_P 1ull
#define FS_RW (1ull << 1)
#define FS_US (1ull << 2)
#define FS_A (1ull << 5)
#define FS_D (1ull << 6)
#define FS_PS (1ull << 7)
#define FS_EA (1ull << 10)
#define FS_XD (1ull << 63)
#define FS_TBL (FS_P | FS_RW | FS_US)

/* ---- Second-stage paging entries (9.8) ---- */
#define SS_R 1ull
#define SS_W (1ull << 1)
#define SS_X (1ull << 2)
#define SS_PS (1ull << 7)
#define SS_A (1ull << 8)
#define SS_D (1ull << 9)
#define SS_RW (SS_R | SS_W)

#define ADDR_51_12 0x000ffffffffff000ull

/* ---- Fault recording register (11.4.14), upper 64 bits ---- */
#define FR_HI_SID(x) ((uint64_t)(x))          /* 79:64 */
#define FR_HI_PRIV (1ull << 29)               /* 93 */
#define FR_HI_EXE (1ull << 30)                /* 94 */
#define FR_HI_PP (1ull << 31)                 /* 95 */
#define FR_HI_FR(x) ((uint64_t)(x) << 32)     /* 103:96 */
#define FR_HI_PV(x) ((uint64_t)(x) << 40)     /* 123:104 */
#define FR_HI_T (1ull << 62)                  /* 126: 1 read, 0 write */
#define FR_HI_F (1ull << 63)                  /* 127 */

/* ---- Layout ---- */
#define HAW 46
#define RAM_SIZE 0x2000000ull
#define RT 0x10000ull
#define CT 0x11000ull
#define PDIR 0x12000ull
#define PTBL 0x13000ull
#define CT_UP 0x0f000ull
#define POOL 0x100000ull
#define GOFF 0x1000000ull
#define GPOOL 0x100000ull

#define SID 0x0310u  /* bus 3, device 2, function 0 */

#define R IMS_ACC_READ
#define W IMS_ACC_WRITE
#define X IMS_ACC_EXEC
#define S IMS_ACC_PRIV
#define NOPASID (-1)

struct fx {
	struct ims_model *model;
	struct ims_iommu *io;
	struct ims_mem *mem;
	uint64_t next_host, next_guest;
	uint64_t s2_root;      /* nested: the second stage guest tables are mapped in */
	unsigned s2_levels;
	struct ims_result res;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	ims_iommu_free(f->io);
	ims_model_free(f->model);
	free(f);
	return 0;
}

/* Build an instance with raw CAP and ECAP values and give it RAM. */
static void fx_start(struct fx *f, uint64_t cap, uint64_t ecap)
{
	char json[256], err[256] = "";

	snprintf(json, sizeof(json),
		 "{\"arch\":\"vtd\",\"haw\":%d,\"vtd\":{\"cap\":\"0x%llx\",\"ecap\":\"0x%llx\"}}", HAW,
		 (unsigned long long)cap, (unsigned long long)ecap);
	if (ims_model_parse(json, "test", &f->model, err, sizeof(err)))
		fail_msg("model: %s", err);
	f->io = ims_iommu_new(f->model, err, sizeof(err));
	if (!f->io)
		fail_msg("instance: %s", err);
	f->mem = ims_iommu_mem(f->io);
	assert_int_equal(ims_mem_add_ram(f->mem, 0, RAM_SIZE), 0);
	f->next_host = POOL;
	f->next_guest = GPOOL;
}

/* Drop the instance (to start another with other capabilities). */
static void fx_stop(struct fx *f)
{
	ims_iommu_free(f->io);
	ims_model_free(f->model);
	f->io = NULL;
	f->model = NULL;
}

static void set_mode(struct fx *f, uint64_t ttm)
{
	assert_int_equal(ims_iommu_set_reg(f->io, "RTADDR", RT | ttm), 0);
	assert_int_equal(ims_iommu_set_reg(f->io, "TE", 1), 0);
}

static void w64(struct fx *f, uint64_t pa, uint64_t v)
{
	assert_int_equal(ims_mem_write64(f->mem, pa, v), IMS_MEM_OK);
}

static uint64_t r64(struct fx *f, uint64_t pa)
{
	uint64_t v = 0;

	assert_int_equal(ims_mem_read64(f->mem, pa, &v), IMS_MEM_OK);
	return v;
}

static uint64_t host_page(struct fx *f)
{
	uint64_t pa = f->next_host;

	f->next_host += 0x1000;
	assert_true(f->next_host <= GOFF);
	return pa;
}

/* Index of `va` at paging level `l` (0 = leaf table): bits 12+9l+8 .. 12+9l. */
static unsigned idx(uint64_t va, unsigned l)
{
	return (unsigned)((va >> (12 + 9 * l)) & 0x1ff);
}

static uint64_t guest_page(struct fx *f);

/*
 * Write the entries that translate `va`: from the table at `root` (level
 * levels-1) down to `leaf_level`.  A missing table is allocated and pointed
 * to with `next | tbl`; the entry at leaf_level is `leaf` as given.  With
 * `guest`, tables are guest-physical (stored at GPA + GOFF, each mapped by
 * the second stage).  Returns the physical address of the leaf entry.
 */
static uint64_t chain(struct fx *f, bool guest, uint64_t root, unsigned levels, uint64_t va,
		      unsigned leaf_level, uint64_t tbl, uint64_t leaf)
{
	uint64_t table = root;

	for (int l = (int)levels - 1;; l--) {
		uint64_t epa = (guest ? table + GOFF : table) + 8 * idx(va, (unsigned)l);
		uint64_t e;

		if (l == (int)leaf_level) {
			w64(f, epa, leaf);
			return epa;
		}
		e = r64(f, epa);
		if (!e) {
			e = (guest ? guest_page(f) : host_page(f)) | tbl;
			w64(f, epa, e);
		}
		table = e & ADDR_51_12;
	}
}

/* A guest page-table page: GPA -> GPA + GOFF in the second stage, R/W. */
static uint64_t guest_page(struct fx *f)
{
	uint64_t gpa = f->next_guest;

	f->next_guest += 0x1000;
	assert_true(f->next_guest <= 0x800000);
	chain(f, false, f->s2_root, f->s2_levels, gpa, 0, SS_RW, (gpa + GOFF) | SS_RW);
	return gpa;
}

/* Physical addresses of the entries a walk of `va` reads (software's own walk). */
static void ref_walk(struct fx *f, uint64_t root, unsigned levels, uint64_t va, uint64_t *pa)
{
	uint64_t table = root;

	for (int l = (int)levels - 1; l >= 0; l--) {
		pa[l] = table + 8 * idx(va, (unsigned)l);
		table = r64(f, pa[l]) & ADDR_51_12;
	}
}

/* ---- Configuration structures ---- */

/* Scalable mode: root entry for the bus (both halves) and the context entry. */
static void sm_context(struct fx *f, uint32_t sid, uint64_t w0, uint64_t w1)
{
	unsigned bus = sid >> 8, devfn = sid & 0xff;
	uint64_t ct = devfn >= 128 ? CT_UP : CT;
	uint64_t ce = ct + 32 * (devfn & 0x7f);

	w64(f, RT + 16 * bus, CT | 1 /* LP */);
	w64(f, RT + 16 * bus + 8, CT_UP | 1 /* UP */);
	w64(f, ce, w0);
	w64(f, ce + 8, w1);
}

/* The usual context entry: present, PASIDs enabled, 128-entry directory. */
static void sm_context_std(struct fx *f, uint32_t sid)
{
	sm_context(f, sid, SCE0_P | SCE0_PASIDE | SCE0_PDTS(0) | PDIR, 0);
}

/* Directory entry for `pasid` (one PASID table per entry) and its PASID entry. */
static uint64_t sm_pasid(struct fx *f, uint32_t pasid, uint64_t pe0, uint64_t pe1, uint64_t pe2)
{
	uint64_t tbl = PTBL + 0x1000ull * (pasid >> 6);
	uint64_t pe = tbl + 64 * (pasid & 0x3f);

	w64(f, PDIR + 8 * (pasid >> 6), tbl | 1 /* P */);
	w64(f, pe, pe0);
	w64(f, pe + 8, pe1);
	w64(f, pe + 16, pe2);
	for (int i = 3; i < 8; i++)
		w64(f, pe + 8 * i, 0);
	return pe;
}

/* Legacy mode: root entry for the bus and the 128-bit context entry. */
static void lg_context(struct fx *f, uint32_t sid, uint64_t w0, uint64_t w1)
{
	unsigned bus = sid >> 8, devfn = sid & 0xff;

	w64(f, RT + 16 * bus, CT | 1 /* P */);
	w64(f, RT + 16 * bus + 8, 0);
	w64(f, CT + 16 * devfn, w0);
	w64(f, CT + 16 * devfn + 8, w1);
}

/*
 * A legacy-mode instance whose device SID has a second-stage table rooted at
 * a fresh page: context entry `ce0 | root`, `ce1`.  Returns the root.
 */
static uint64_t lg_ss_setup(struct fx *f, uint64_t cap, uint64_t ecap, uint64_t ce0, uint64_t ce1)
{
	uint64_t root;

	fx_start(f, cap, ecap);
	set_mode(f, TTM_LEGACY);
	root = host_page(f);
	lg_context(f, SID, ce0 | root, ce1);
	return root;
}

/* ---- Transactions ---- */

static struct ims_result *xl(struct fx *f, uint32_t sid, int pasid, uint64_t addr,
			     unsigned access)
{
	struct ims_txn t = {
		.sid = sid,
		.pasid = pasid < 0 ? 0 : (uint32_t)pasid,
		.has_pasid = pasid >= 0,
		.addr = addr,
		.size = 4,
		.access = access,
	};

	memset(&f->res, 0, sizeof(f->res));
	assert_int_equal(ims_translate(f->io, &t, &f->res), 0);
	return &f->res;
}

static void expect_ok(const struct ims_result *r, uint64_t out)
{
	if (!r->ok)
		fail_msg("expected 0x%llx, got fault 0x%x (%s)", (unsigned long long)out,
			 r->fault.arch_code, r->fault.arch_name ? r->fault.arch_name : "?");
	assert_int_equal(r->out_addr, out);
}

static void expect_fault(const struct ims_result *r, unsigned code)
{
	if (r->ok)
		fail_msg("expected fault 0x%x, got success -> 0x%llx", code,
			 (unsigned long long)r->out_addr);
	if (r->fault.arch_code != code)
		fail_msg("expected fault 0x%x, got 0x%x (%s)", code, r->fault.arch_code,
			 r->fault.arch_name ? r->fault.arch_name : "?");
}

/* Number of page-table (non-configuration) reads. */
static unsigned table_reads(const struct ims_result *r)
{
	unsigned n = 0;

	for (unsigned i = 0; i < r->nreads; i++)
		n += r->reads[i].kind != IMS_READ_CONFIG;
	return n;
}

/*
 * A standard scalable-mode instance with one device (SID) whose PASID `pasid`
 * uses a first-stage-only table of `levels` levels rooted at a fresh page.
 * Returns the root.
 */
static uint64_t sm_fs_setup(struct fx *f, uint64_t cap, uint64_t ecap, uint32_t pasid,
			    unsigned levels, uint64_t pe2_extra)
{
	uint64_t root;

	fx_start(f, cap, ecap);
	set_mode(f, TTM_SCALABLE);
	sm_context_std(f, SID);
	root = host_page(f);
	sm_pasid(f, pasid, PE0_P | PE0_PGTT(PGTT_FS), PE1_DID(1),
		 root | PE2_FSPM(levels == 5 ? 1 : 0) | pe2_extra);
	return root;
}

/* Same with a second-stage-only table of AW `aw` (levels aw + 2). */
static uint64_t sm_ss_setup(struct fx *f, uint64_t cap, uint64_t ecap, uint32_t pasid,
			    unsigned aw, uint64_t pe0_extra)
{
	uint64_t root;

	fx_start(f, cap, ecap);
	set_mode(f, TTM_SCALABLE);
	sm_context_std(f, SID);
	root = host_page(f);
	sm_pasid(f, pasid, PE0_P | PE0_PGTT(PGTT_SS) | PE0_AW(aw) | root | pe0_extra, PE1_DID(2),
		 0);
	return root;
}

/*
 * Nested: a 4-level second stage at a host page (guest tables mapped into
 * it as they are made) and a 4-level guest first stage.  Returns the guest
 * first-stage root (a GPA).
 */
static uint64_t sm_nested_setup(struct fx *f, uint64_t cap, uint64_t ecap, uint32_t pasid,
				uint64_t pe2_extra)
{
	uint64_t fsroot;

	fx_start(f, cap, ecap);
	set_mode(f, TTM_SCALABLE);
	sm_context_std(f, SID);
	f->s2_root = host_page(f);
	f->s2_levels = 4;
	fsroot = guest_page(f);
	sm_pasid(f, pasid, PE0_P | PE0_PGTT(PGTT_NESTED) | PE0_AW(2) | f->s2_root, PE1_DID(3),
		 fsroot | PE2_FSPM(0) | pe2_extra);
	return fsroot;
}

/* ===================================================================== */
/* 9.6 PGTT: the four translation types and the invalid encodings        */
/* ===================================================================== */

static void test_9_6_pgtt_first_stage_only(void **state)
{
	struct fx *f = *state;
	uint64_t root = sm_fs_setup(f, CAP_STD, ECAP_STD, 5, 4, 0);
	uint64_t va = 0x7f1234567000ull;
	struct ims_result *r;

	chain(f, false, root, 4, va, 0, FS_TBL, 0x345000 | FS_P | FS_RW | FS_US);
	r = xl(f, SID, 5, va + 0x123, R);
	expect_ok(r, 0x345123);
	assert_int_equal(r->mode, IMS_XM_S1);
	assert_int_equal(r->page_lg2, 12);
	assert_int_equal(r->nreads, 4 + 4);
	assert_int_equal(table_reads(r), 4);
	assert_int_equal(r->domain, 1);
}

static void test_9_6_pgtt_second_stage_only(void **state)
{
	struct fx *f = *state;
	uint64_t root = sm_ss_setup(f, CAP_STD, ECAP_STD, 5, 2, 0);
	uint64_t va = 0x12345678000ull;
	struct ims_result *r;

	chain(f, false, root, 4, va, 0, SS_RW, 0x2abc000 | SS_RW);
	r = xl(f, SID, 5, va + 0x10, W);
	expect_ok(r, 0x2abc010);
	assert_int_equal(r->mode, IMS_XM_S2);
	assert_int_equal(table_reads(r), 4);
	assert_int_equal(r->domain, 2);
}

/*
 * 3.8 nested: each of the 4 first-stage table addresses (GPAs) is
 * translated by a 4-level second-stage walk before it is read, then the
 * final GPA by a fifth second-stage walk: 4 * (4 + 1) + 4 = 24 page-table
 * reads, after the 4 configuration reads (root, context, PASID directory,
 * PASID entry).
 */
static void test_3_8_nested_4x4_walk_reads_in_order(void **state)
{
	struct fx *f = *state;
	uint64_t fsroot = sm_nested_setup(f, CAP_STD, ECAP_STD, 5, 0);
	uint64_t va = 0x7f0000402123ull, gpa_page = 0x5f0000, hpa_page = 0xabc000;
	uint64_t fs_gpa[4], s2pa[4], fs_table[4];
	struct ims_result *r;
	unsigned n;

	chain(f, true, fsroot, 4, va, 0, FS_TBL, gpa_page | FS_P | FS_RW | FS_US);
	chain(f, false, f->s2_root, 4, gpa_page, 0, SS_RW, hpa_page | SS_RW);

	/* The guest's tables, by GPA, from its own entries. */
	fs_table[3] = fsroot;
	for (int l = 3; l >= 0; l--) {
		fs_gpa[l] = fs_table[l] + 8 * idx(va, (unsigned)l);
		if (l)
			fs_table[l - 1] = r64(f, fs_gpa[l] + GOFF) & ADDR_51_12;
	}

	r = xl(f, SID, 5, va, R);
	expect_ok(r, hpa_page | 0x123);
	assert_int_equal(r->mode, IMS_XM_NESTED);
	assert_int_equal(r->ipa, gpa_page | 0x123);
	assert_int_equal(r->nreads, 28);
	assert_int_equal(table_reads(r), 24);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(r->reads[i].kind, IMS_READ_CONFIG);
	n = 4;
	for (int l = 3; l >= 0; l--) {
		/* The second-stage walk of the table's GPA, root first. */
		ref_walk(f, f->s2_root, 4, fs_table[l], s2pa);
		for (int l2 = 3; l2 >= 0; l2--, n++) {
			assert_int_equal(r->reads[n].kind, IMS_READ_S2_FOR_TABLE);
			assert_int_equal(r->reads[n].stage, 2);
			assert_int_equal(r->reads[n].level, l2);
			assert_int_equal(r->reads[n].pa, s2pa[l2]);
		}
		/* Then the first-stage entry itself, at its host address. */
		assert_int_equal(r->reads[n].kind, IMS_READ_S1);
		assert_int_equal(r->reads[n].stage, 1);
		assert_int_equal(r->reads[n].level, l);
		assert_int_equal(r->reads[n].pa, fs_gpa[l] + GOFF);
		n++;
	}
	ref_walk(f, f->s2_root, 4, gpa_page, s2pa);
	for (int l2 = 3; l2 >= 0; l2--, n++) {
		assert_int_equal(r->reads[n].kind, IMS_READ_S2);
		assert_int_equal(r->reads[n].level, l2);
		assert_int_equal(r->reads[n].pa, s2pa[l2]);
	}
	assert_int_equal(n, 28);
}

static void test_9_6_pgtt_pass_through_output_is_input(void **state)
{
	struct fx *f = *state;
	struct ims_result *r;

	fx_start(f, CAP_STD, ECAP_STD);
	set_mode(f, TTM_SCALABLE);
	sm_context_std(f, SID);
	sm_pasid(f, 5, PE0_P | PE0_PGTT(PGTT_PT), PE1_DID(4), 0);
	r = xl(f, SID, 5, 0x123456789abcull, W);
	expect_ok(r, 0x123456789abcull);
	assert_int_equal(r->mode, IMS_XM_BYPASS);
	assert_int_equal(table_reads(r), 0);
}

/* 9.6: PGTT 000b and 101b-111b are reserved encodings: invalid entry. */
static void test_9_6_pgtt_reserved_values_are_invalid(void **state)
{
	struct fx *f = *state;
	static const unsigned bad[] = { 0, 5, 6, 7 };

	fx_start(f, CAP_STD, ECAP_STD);
	set_mode(f, TTM_SCALABLE);
	sm_context_std(f, SID);
	for (unsigned i = 0; i < 4; i++) {
		uint64_t root = host_page(f);

		sm_pasid(f, 5, PE0_P | PE0_PGTT(bad[i]) | PE0_AW(2) | root, PE1_DID(1), root);
		expect_fault(xl(f, SID, 5, 0x1000, R), 0x5b);
	}
}

/* 9.6: a PGTT the hardware does not report in ECAP is invalid (0x5B). */
static void test_9_6_pgtt_unsupported_by_ecap_is_invalid(void **state)
{
	struct fx *f = *state;
	static const struct {
		unsigned pgtt;
		uint64_t ecap;
	} cases[] = {
		{ PGTT_NESTED, ECAP_STD & ~ECAP_NEST },
		{ PGTT_FS, ECAP_STD & ~(ECAP_FSTS | ECAP_NEST) },
		{ PGTT_SS, ECAP_STD & ~(ECAP_SSTS | ECAP_NEST) },
		{ PGTT_PT, ECAP_STD & ~ECAP_PT },
	};

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t root;

		fx_stop(f);
		fx_start(f, CAP_STD, cases[i].ecap);
		set_mode(f, TTM_SCALABLE);
		sm_context_std(f, SID);
		root = host_page(f);
		chain(f, false, root, 4, 0x1000, 0, SS_RW | FS_US, 0x5000 | SS_RW | FS_US);
		sm_pasid(f, 5, PE0_P | PE0_PGTT(cases[i].pgtt) | PE0_AW(2) | root, PE1_DID(1),
			 root);
		expect_fault(xl(f, SID, 5, 0x1000, R), 0x5b);
	}
}

/* ===================================================================== */
/* 3.6 / 9.7 first stage: page sizes, paging modes, canonical addresses   */
/* ===================================================================== */

static void test_9_7_first_stage_2m_leaf(void **state)
{
	struct fx *f = *state;
	uint64_t root = sm_fs_setup(f, CAP_STD, ECAP_STD, 5, 4, 0);
	uint64_t va = 0x40000000ull + 0x600000;
	struct ims_result *r;

	/* Bit 12 of a 2 MiB PDE is PAT, not an address bit and not reserved. */
	chain(f, false, root, 4, va, 1, FS_TBL,
	      0x1e00000 | FS_P | FS_RW | FS_US | FS_PS | (1ull << 12) /* PAT */);
	r = xl(f, SID, 5, va + 0x12345, R);
	expect_ok(r, 0x1e12345);
	assert_int_equal(r->page_lg2, 21);
	assert_int_equal(table_reads(r), 3);
}

static void test_9_7_first_stage_1g_leaf_with_fs1gp(void **state)
{
	struct fx *f = *state;
	uint64_t root = sm_fs_setup(f, CAP_STD, ECAP_STD, 5, 4, 0);
	uint64_t va = 0x7fc0000000ull;
	struct ims_result *r;

	chain(f, false, root, 4, va, 2, FS_TBL, 0x240000000ull | FS_P | FS_RW | FS_US | FS_PS);
	r = xl(f, SID, 5, va + 0x3456789, R);
	expect_ok(r, 0x243456789ull);
	assert_int_equal(r->page_lg2, 30);
	assert_int_equal(table_reads(r), 2);
}

/* 9.7: PS in a PDPE is reserved unless CAP.FS1GP: reserved-bit fault 0x72. */
static void test_9_7_first_stage_1g_leaf_without_fs1gp_is_reserved(void **state)
{
	struct fx *f = *state;
	uint64_t root = sm_fs_setup(f, CAP_STD & ~CAP_FS1GP, ECAP_STD, 5, 4, 0);
	uint64_t va = 0x7fc0000000ull;

	chain(f, false, root, 4, va, 2, FS_TBL, 0x240000000ull | FS_P | FS_RW | FS_US | FS_PS);
	expect_fault(xl(f, SID, 5, va, R), 0x72);
}

static void test_3_6_first_stage_5_level_with_fs5lp(void **state)
{
	struct fx *f = *state;
	uint64_t root = sm_fs_setup(f, CAP_STD, ECAP_STD, 5, 5, 0);
	/* Bits 56:48 select the PML5 entry; canonical for 57 bits (bit 56 clear). */
	uint64_t va = 0x00ab123456789000ull;
	struct ims_result *r;

	chain(f, false, root, 5, va, 0, FS_TBL, 0x777000 | FS_P | FS_US);
	r = xl(f, SID, 5, va + 0xffc, R);
	expect_ok(r, 0x777ffc);
	assert_int_equal(table_reads(r), 5);
	assert_int_equal(r->reads[4].level, 4);
}

/* 9.6: FSPM=01b (5-level) needs CAP.FS5LP; otherwise the entry is invalid. */
static void test_9_6_fspm_5_level_without_fs5lp_is_invalid(void **state)
{
	struct fx *f = *state;
	uint64_t root = sm_fs_setup(f, CAP_STD & ~CAP_FS5LP, ECAP_STD, 5, 5, 0);

	chain(f, false, root, 5, 0x1000, 0, FS_TBL, 0x777000 | FS_P | FS_US);
	expect_fault(xl(f, SID, 5, 0x1000, R), 0x5b);
}

/* 3.6.1: with 4-level paging, bits 63:47 must all equal bit 47. */
static void test_3_6_1_non_canonical_4_level(void **state)
{
	struct fx *f = *state;
	uint64_t root = sm_fs_setup(f, CAP_STD, ECAP_STD, 5, 4, 0);
	struct ims_result *r;

	chain(f, false, root, 4, 0xffff800000001000ull, 0, FS_TBL, 0x9000 | FS_P | FS_US);
	expect_ok(xl(f, SID, 5, 0xffff800000001000ull, R), 0x9000);
	r = xl(f, SID, 5, 0x0000800000001000ull, R);
	expect_fault(r, 0x80);
	assert_int_equal(table_reads(r), 0);
	expect_fault(xl(f, SID, 5, 0x7fff800000001000ull, R), 0x80);
	expect_fault(xl(f, SID, 5, 0xfffe800000001000ull, R), 0x80);
}

/* 3.6.1: with 5-level paging, bits 63:56 must all equal bit 56. */
static void test_3_6_1_non_canonical_5_level(void **state)
{
	struct fx *f = *state;
	uint64_t root = sm_fs_setup(f, CAP_STD, ECAP_STD, 5, 5, 0);

	/* Non-canonical for 4-level paging, canonical for 5-level. */
	chain(f, false, root, 5, 0x0000800000001000ull, 0, FS_TBL, 0x9000 | FS_P | FS_US);
	expect_ok(xl(f, SID, 5, 0x0000800000001000ull, R), 0x9000);
	chain(f, false, root, 5, 0xff00000000002000ull, 0, FS_TBL, 0xa000 | FS_P | FS_US);
	expect_ok(xl(f, SID, 5, 0xff00000000002000ull, R), 0xa000);
	expect_fault(xl(f, SID, 5, 0x0100000000000000ull, R), 0x80);
	expect_fault(xl(f, SID, 5, 0xfe00000000000000ull, R), 0x80);
	expect_fault(xl(f, SID, 5, 0x8000000000000000ull, R), 0x80);
}

/* ===================================================================== */
/* 3.7 / 9.8 second stage: levels per AW and SAGAW, large pages per SLLPS */
/* ===================================================================== */

static void ss_levels_case(struct fx *f, unsigned aw, uint64_t va)
{
	uint64_t root = sm_ss_setup(f, CAP_STD, ECAP_STD, 5, aw, 0);
	struct ims_result *r;

	chain(f, false, root, aw + 2, va, 0, SS_RW, 0x4321000 | SS_R);
	r = xl(f, SID, 5, va + 0x44, R);
	expect_ok(r, 0x4321044);
	assert_int_equal(table_reads(r), aw + 2);
	assert_int_equal(r->reads[4].level, (int)aw + 1);
}

static void test_3_7_second_stage_3_level_aw1(void **state)
{
	ss_levels_case(*state, 1, 0x7ffffff000ull);
}

static void test_3_7_second_stage_4_level_aw2(void **state)
{
	ss_levels_case(*state, 2, 0xabcd12345000ull);
}

static void test_3_7_second_stage_5_level_aw3(void **state)
{
	ss_levels_case(*state, 3, 0x1abcdef12345000ull);
}

/*
 * The second stage translates 30 + 9 * AW address bits: an input at or
 * above 2^39 with AW=1 is beyond the address width (0x83 scalable, 0x04
 * legacy), and no paging entry is read.
 */
static void test_3_7_input_beyond_agaw(void **state)
{
	struct fx *f = *state;
	uint64_t root = sm_ss_setup(f, CAP_STD, ECAP_STD, 5, 1, 0);
	struct ims_result *r;

	chain(f, false, root, 3, 0x7ffffff000ull, 0, SS_RW, 0x8000 | SS_RW);
	expect_ok(xl(f, SID, 5, 0x7ffffff000ull, R), 0x8000);
	r = xl(f, SID, 5, 0x8000000000ull, R);
	expect_fault(r, 0x83);
	assert_int_equal(table_reads(r), 0);

	fx_stop(f);
	root = lg_ss_setup(f, CAP_STD, ECAP_STD, CE0_P | CE0_TT(0), CE1_AW(1) | CE1_DID(1));
	chain(f, false, root, 3, 0x1000, 0, SS_RW, 0x8000 | SS_RW);
	expect_ok(xl(f, SID, NOPASID, 0x1000, R), 0x8000);
	expect_fault(xl(f, SID, NOPASID, 0x8000001000ull, R), 0x04);
}

/* 9.6: an AW that CAP.SAGAW does not report makes the PASID entry invalid. */
static void test_9_6_aw_not_in_sagaw_is_invalid(void **state)
{
	struct fx *f = *state;
	/* SAGAW = 00100b: only 4-level (AW=2) is supported; the entry asks AW=1. */
	uint64_t root = sm_ss_setup(f, (CAP_STD & ~CAP_SAGAW(0x1f)) | CAP_SAGAW(0x4), ECAP_STD, 5,
				    1, 0);

	chain(f, false, root, 3, 0x1000, 0, SS_RW, 0x5000 | SS_RW);
	expect_fault(xl(f, SID, 5, 0x1000, R), 0x5b);
}

/* 9.3: in legacy mode the same condition is an invalid context entry (0x03). */
static void test_9_3_legacy_aw_not_in_sagaw_is_invalid(void **state)
{
	struct fx *f = *state;
	uint64_t root;

	root = lg_ss_setup(f, (CAP_STD & ~CAP_SAGAW(0x1f)) | CAP_SAGAW(0x4), ECAP_STD,
			   CE0_P | CE0_TT(0), CE1_AW(1) | CE1_DID(1));
	chain(f, false, root, 3, 0x1000, 0, SS_RW, 0x5000 | SS_RW);
	expect_fault(xl(f, SID, NOPASID, 0x1000, R), 0x03);
}

static void test_9_8_second_stage_2m_leaf_with_sllps(void **state)
{
	struct fx *f = *state;
	uint64_t root = sm_ss_setup(f, (CAP_STD & ~CAP_SLLPS(3)) | CAP_SLLPS(1), ECAP_STD, 5, 2, 0);
	struct ims_result *r;

	chain(f, false, root, 4, 0x80200000ull, 1, SS_RW, 0x1c00000 | SS_RW | SS_PS);
	r = xl(f, SID, 5, 0x80212345ull, R);
	expect_ok(r, 0x1c12345);
	assert_int_equal(r->page_lg2, 21);
	assert_int_equal(table_reads(r), 3);
}

/* 9.8: PS in an SS-PDPE is reserved without SLLPS bit 1 (1 GiB): 0x7A. */
static void test_9_8_second_stage_1g_leaf_without_sllps_is_reserved(void **state)
{
	struct fx *f = *state;
	uint64_t root = sm_ss_setup(f, (CAP_STD & ~CAP_SLLPS(3)) | CAP_SLLPS(1), ECAP_STD, 5, 2, 0);

	chain(f, false, root, 4, 0x80000000ull, 2, SS_RW, 0x40000000ull | SS_RW | SS_PS);
	expect_fault(xl(f, SID, 5, 0x80001000ull, R), 0x7a);
}

static void test_9_8_second_stage_1g_leaf_with_sllps(void **state)
{
	struct fx *f = *state;
	uint64_t root = sm_ss_setup(f, CAP_STD, ECAP_STD, 5, 2, 0);
	struct ims_result *r;

	chain(f, false, root, 4, 0x80000000ull, 2, SS_RW, 0x40000000ull | SS_RW | SS_PS);
	r = xl(f, SID, 5, 0x80001234ull, R);
	expect_ok(r, 0x40001234ull);
	assert_int_equal(r->page_lg2, 30);
}

/* 9.8: PS in an SS-PDE is reserved without SLLPS bit 0 (2 MiB): 0x7A. */
static void test_9_8_second_stage_2m_leaf_without_sllps_is_reserved(void **state)
{
	struct fx *f = *state;
	uint64_t root = sm_ss_setup(f, CAP_STD & ~CAP_SLLPS(3), ECAP_STD, 5, 2, 0);

	chain(f, false, root, 4, 0x80200000ull, 1, SS_RW, 0x1c00000 | SS_RW | SS_PS);
	expect_fault(xl(f, SID, 5, 0x80200000ull, R), 0x7a);
}

/* ===================================================================== */
/* 3.8 nested: stage-2 faults while fetching stage-1 tables vs the final  */
/* ===================================================================== */

/* The FSPTPTR (a GPA) is not mapped by the second stage: 0x75, on a table fetch. */
static void test_3_8_nested_s2_fault_on_fsptptr_fetch(void **state)
{
	struct fx *f = *state;
	struct ims_result *r;

	sm_nested_setup(f, CAP_STD, ECAP_STD, 5, 0);
	/* Point the PASID entry's FSPTPTR at GPA 0x700000, which stage 2 does not map. */
	sm_pasid(f, 5, PE0_P | PE0_PGTT(PGTT_NESTED) | PE0_AW(2) | f->s2_root, PE1_DID(3),
		 0x700000 | PE2_FSPM(0));
	r = xl(f, SID, 5, 0x1000, R);
	expect_fault(r, 0x75);
	assert_true(r->fault.on_table_fetch);
	/* Nothing of the first stage was read. */
	for (unsigned i = 0; i < r->nreads; i++)
		assert_int_not_equal(r->reads[i].kind, IMS_READ_S1);
}

/* A PML4E points at a GPA stage 2 does not map: 0x76 when fetching the PDPE. */
static void test_3_8_nested_s2_fault_on_lower_table_fetch(void **state)
{
	struct fx *f = *state;
	uint64_t fsroot = sm_nested_setup(f, CAP_STD, ECAP_STD, 5, 0);
	uint64_t va = 0x8000001000ull;
	struct ims_result *r;

	w64(f, fsroot + GOFF + 8 * idx(va, 3), 0x700000 | FS_TBL);
	r = xl(f, SID, 5, va, R);
	expect_fault(r, 0x76);
	assert_true(r->fault.on_table_fetch);
	/* 4 config + (4 S2 + PML4E) + the failing S2 walk of the PDPT's GPA. */
	assert_int_equal(r->reads[8].kind, IMS_READ_S1);
	assert_int_equal(r->reads[8].level, 3);
	for (unsigned i = 9; i < r->nreads; i++)
		assert_int_equal(r->reads[i].kind, IMS_READ_S2_FOR_TABLE);
}

/* The first stage yields a GPA the second stage does not map: 0x79, not a table fetch. */
static void test_3_8_nested_s2_fault_on_final_gpa(void **state)
{
	struct fx *f = *state;
	uint64_t fsroot = sm_nested_setup(f, CAP_STD, ECAP_STD, 5, 0);
	uint64_t va = 0x7f0000002000ull;
	struct ims_result *r;

	chain(f, true, fsroot, 4, va, 0, FS_TBL, 0x780000 | FS_P | FS_RW | FS_US);
	r = xl(f, SID, 5, va, R);
	expect_fault(r, 0x79);
	assert_false(r->fault.on_table_fetch);
	/*
	 * 20 reads for the first stage, then the final walk: the SS-PML4E and
	 * SS-PDPE exist (guest tables live below 2 MiB), the SS-PDE for
	 * 0x600000-0x7fffff does not.
	 */
	assert_int_equal(table_reads(r), 20 + 3);
	assert_int_equal(r->reads[r->nreads - 1].kind, IMS_READ_S2);
	assert_int_equal(r->reads[r->nreads - 1].level, 1);
}

/*
 * Nested: setting A in a first-stage entry is a write to guest memory and
 * needs write permission in the second-stage entries that map it; without
 * it the reason is 0x77, and nothing is written.
 */
static void test_3_8_nested_fs_ad_update_needs_s2_write(void **state)
{
	struct fx *f = *state;
	uint64_t fsroot = sm_nested_setup(f, CAP_STD, ECAP_STD, 5, 0);
	uint64_t va = 0x7f0000003000ull, s2pa[4], before;
	struct ims_result *r;

	chain(f, true, fsroot, 4, va, 0, FS_TBL, 0x5f0000 | FS_P | FS_RW | FS_US);
	chain(f, false, f->s2_root, 4, 0x5f0000, 0, SS_RW, 0xabc000 | SS_RW);
	/* Make the guest's PML4 page read-only in the second stage. */
	ref_walk(f, f->s2_root, 4, fsroot, s2pa);
	w64(f, s2pa[0], (fsroot + GOFF) | SS_R);
	before = r64(f, fsroot + GOFF + 8 * idx(va, 3));
	assert_false(before & FS_A);
	r = xl(f, SID, 5, va, R);
	expect_fault(r, 0x77);
	assert_true(r->fault.on_table_fetch);
	assert_int_equal(r64(f, fsroot + GOFF + 8 * idx(va, 3)), before);
	w64(f, s2pa[0], (fsroot + GOFF) | SS_RW);
	expect_ok(xl(f, SID, 5, va, R), 0xabc000);
	assert_true(r64(f, fsroot + GOFF + 8 * idx(va, 3)) & FS_A);
}

/* ===================================================================== */
/* 3.6.2 first-stage access rights, 9.6 SRE / WPE                         */
/* ===================================================================== */

/* A user write needs R/W=1 in every entry used, not only in the leaf. */
static void test_3_6_2_user_write_needs_rw_at_every_level(void **state)
{
	struct fx *f = *state;
	uint64_t root = sm_fs_setup(f, CAP_STD, ECAP_STD, 5, 4, 0);
	uint64_t va = 0x10000000ull, pa[4];

	chain(f, false, root, 4, va, 0, FS_TBL, 0x8000 | FS_P | FS_RW | FS_US);
	expect_ok(xl(f, SID, 5, va, W), 0x8000);
	/* Clear R/W in one non-leaf entry at a time. */
	ref_walk(f, root, 4, va, pa);
	for (int l = 3; l >= 1; l--) {
		w64(f, pa[l], r64(f, pa[l]) & ~FS_RW);
		expect_fault(xl(f, SID, 5, va, W), 0x85);
		expect_ok(xl(f, SID, 5, va, R), 0x8000);
		w64(f, pa[l], r64(f, pa[l]) | FS_RW);
	}
	expect_ok(xl(f, SID, 5, va, W), 0x8000);
}

/* Write to a read-only page: 0x85 in scalable mode. */
static void test_3_6_2_write_to_read_only_page(void **state)
{
	struct fx *f = *state;
	uint64_t root = sm_fs_setup(f, CAP_STD, ECAP_STD, 5, 4, 0);

	chain(f, false, root, 4, 0x3000, 0, FS_TBL, 0x8000 | FS_P | FS_US);
	expect_ok(xl(f, SID, 5, 0x3000, R), 0x8000);
	expect_fault(xl(f, SID, 5, 0x3000, W), 0x85);
}

/* Second stage alone: write to an entry with W=0 is 0x85 too. */
static void test_3_7_1_write_to_read_only_second_stage_page(void **state)
{
	struct fx *f = *state;
	uint64_t root = sm_ss_setup(f, CAP_STD, ECAP_STD, 5, 2, 0);

	chain(f, false, root, 4, 0x3000, 0, SS_RW, 0x8000 | SS_R);
	expect_ok(xl(f, SID, 5, 0x3000, R), 0x8000);
	expect_fault(xl(f, SID, 5, 0x3000, W), 0x85);
}

/* A user request to a page some level marks supervisor (U/S=0): 0x81. */
static void test_3_6_2_user_access_to_supervisor_page(void **state)
{
	struct fx *f = *state;
	uint64_t root = sm_fs_setup(f, CAP_STD, ECAP_STD, 5, 4, PE2_SRE);
	uint64_t pa[4];

	chain(f, false, root, 4, 0x5000, 0, FS_TBL, 0x8000 | FS_P | FS_RW);
	expect_fault(xl(f, SID, 5, 0x5000, R), 0x81);
	expect_ok(xl(f, SID, 5, 0x5000, R | S), 0x8000);
	/* U/S=0 in the PML4E only has the same effect. */
	chain(f, false, root, 4, 0x6000, 0, FS_TBL, 0x9000 | FS_P | FS_RW | FS_US);
	expect_ok(xl(f, SID, 5, 0x6000, R), 0x9000);
	ref_walk(f, root, 4, 0x6000, pa);
	w64(f, pa[3], r64(f, pa[3]) & ~FS_US);
	expect_fault(xl(f, SID, 5, 0x6000, R), 0x81);
}

/* 9.6: a supervisor request to a PASID entry with SRE=0: 0x5D. */
static void test_9_6_supervisor_request_needs_sre(void **state)
{
	struct fx *f = *state;
	uint64_t root = sm_fs_setup(f, CAP_STD, ECAP_STD, 5, 4, 0);
	struct ims_result *r;

	chain(f, false, root, 4, 0x5000, 0, FS_TBL, 0x8000 | FS_P | FS_RW);
	r = xl(f, SID, 5, 0x5000, R | S);
	expect_fault(r, 0x5d);
	assert_int_equal(table_reads(r), 0);
}

/* 3.6.2: WPE=0 lets supervisor writes ignore R/W; WPE=1 does not. */
static void test_3_6_2_supervisor_write_to_read_only_wpe0_allowed(void **state)
{
	struct fx *f = *state;
	uint64_t root = sm_fs_setup(f, CAP_STD, ECAP_STD, 5, 4, PE2_SRE);

	chain(f, false, root, 4, 0x5000, 0, FS_TBL & ~FS_RW, 0x8000 | FS_P);
	expect_ok(xl(f, SID, 5, 0x5000, W | S), 0x8000);
}

static void test_3_6_2_supervisor_write_to_read_only_wpe1_faults(void **state)
{
	struct fx *f = *state;
	uint64_t root = sm_fs_setup(f, CAP_STD, ECAP_STD, 5, 4, PE2_SRE | PE2_WPE);

	chain(f, false, root, 4, 0x5000, 0, FS_TBL, 0x8000 | FS_P);
	expect_fault(xl(f, SID, 5, 0x5000, W | S), 0x85);
	chain(f, false, root, 4, 0x6000, 0, FS_TBL, 0x9000 | FS_P | FS_RW);
	expect_ok(xl(f, SID, 5, 0x6000, W | S), 0x9000);
}

/*
 * An execute request to a page with XD=1 in some entry: 0x82.
 * SPEC-QUESTION: rev 3.x gated execute requests on ECAP.ERS / PASID-entry
 * ERE (0x5C when clear); rev 4.x+ treats those bits as reserved/ignored.
 * This test follows the implementation's reading (execute requests always
 * accepted, XD always honoured) and leaves ERE clear.
 */
static void test_3_6_2_execute_with_xd(void **state)
{
	struct fx *f = *state;
	uint64_t root = sm_fs_setup(f, CAP_STD, ECAP_STD, 5, 4, PE2_SRE);
	uint64_t pa[4];

	chain(f, false, root, 4, 0x5000, 0, FS_TBL, 0x8000 | FS_P | FS_US | FS_XD);
	expect_ok(xl(f, SID, 5, 0x5000, R), 0x8000);
	expect_fault(xl(f, SID, 5, 0x5000, R | X), 0x82);
	/* XD in a non-leaf entry has the same effect. */
	chain(f, false, root, 4, 0x40000000ull, 0, FS_TBL, 0x9000 | FS_P | FS_US);
	expect_ok(xl(f, SID, 5, 0x40000000ull, R | X), 0x9000);
	ref_walk(f, root, 4, 0x40000000ull, pa);
	w64(f, pa[2], r64(f, pa[2]) | FS_XD);
	expect_fault(xl(f, SID, 5, 0x40000000ull, R | X), 0x82);
}

/*
 * Supervisor execute of a user page (U/S=1 at every level) is refused
 * (supervisor-mode execute prevention).
 * SPEC-QUESTION: rev 3.x made this conditional on the PASID entry's SMEP
 * bit; rev 4.x+ always applies it.  The reason asserted is 0x82 (execute
 * permission), which the rev 3.x table also uses for the SMEP case.
 */
static void test_3_6_2_supervisor_execute_on_user_page_refused(void **state)
{
	struct fx *f = *state;
	uint64_t root = sm_fs_setup(f, CAP_STD, ECAP_STD, 5, 4, PE2_SRE);

	chain(f, false, root, 4, 0x5000, 0, FS_TBL, 0x8000 | FS_P | FS_US);
	expect_ok(xl(f, SID, 5, 0x5000, R | X), 0x8000);
	expect_ok(xl(f, SID, 5, 0x5000, R | S), 0x8000);
	expect_fault(xl(f, SID, 5, 0x5000, R | X | S), 0x82);
	/* A supervisor page (U/S=0 in the leaf) may be executed by the supervisor. */
	chain(f, false, root, 4, 0x6000, 0, FS_TBL, 0x9000 | FS_P);
	expect_ok(xl(f, SID, 5, 0x6000, R | X | S), 0x9000);
}

/* ===================================================================== */
/* Reserved bits: paging entries and configuration structures             */
/* ===================================================================== */

static void test_9_7_first_stage_reserved_bits(void **state)
{
	struct fx *f = *state;
	uint64_t root = sm_fs_setup(f, CAP_STD, ECAP_STD, 5, 4, 0);
	uint64_t pa[4];

	/* PS is reserved in a PML4E. */
	chain(f, false, root, 4, 0x1000, 0, FS_TBL, 0x8000 | FS_P | FS_US);
	expect_ok(xl(f, SID, 5, 0x1000, R), 0x8000);
	ref_walk(f, root, 4, 0x1000, pa);
	w64(f, pa[3], r64(f, pa[3]) | FS_PS);
	expect_fault(xl(f, SID, 5, 0x1000, R), 0x72);
	w64(f, pa[3], r64(f, pa[3]) & ~FS_PS);
	expect_ok(xl(f, SID, 5, 0x1000, R), 0x8000);
	/* Address bits 51:HAW are reserved (HAW = 46): bit 47 in the PTE. */
	w64(f, pa[0], r64(f, pa[0]) | (1ull << 47));
	expect_fault(xl(f, SID, 5, 0x1000, R), 0x72);
	/* A PDE mapping 2 MiB: bits 20:13 are reserved. */
	chain(f, false, root, 4, 0x80000000ull, 1, FS_TBL, 0x1e02000 | FS_P | FS_US | FS_PS);
	expect_fault(xl(f, SID, 5, 0x80000000ull, R), 0x72);
}

static void test_9_8_second_stage_reserved_bits(void **state)
{
	struct fx *f = *state;
	uint64_t root = sm_ss_setup(f, CAP_STD, ECAP_STD, 5, 2, 0);
	uint64_t pa[4];

	chain(f, false, root, 4, 0x1000, 0, SS_RW, 0x8000 | SS_RW);
	expect_ok(xl(f, SID, 5, 0x1000, R), 0x8000);
	ref_walk(f, root, 4, 0x1000, pa);
	/* Bit 62 is reserved in every second-stage entry. */
	w64(f, pa[0], r64(f, pa[0]) | (1ull << 62));
	expect_fault(xl(f, SID, 5, 0x1000, R), 0x7a);
	w64(f, pa[0], r64(f, pa[0]) & ~(1ull << 62));
	/* PS is reserved in an SS-PML4E. */
	w64(f, pa[3], r64(f, pa[3]) | SS_PS);
	expect_fault(xl(f, SID, 5, 0x1000, R), 0x7a);
	w64(f, pa[3], r64(f, pa[3]) & ~SS_PS);
	/* Address bits 51:HAW. */
	w64(f, pa[1], r64(f, pa[1]) | (1ull << 50));
	expect_fault(xl(f, SID, 5, 0x1000, R), 0x7a);
}

static void test_9_8_legacy_second_stage_reserved_bits(void **state)
{
	struct fx *f = *state;
	uint64_t root, pa[4];

	root = lg_ss_setup(f, CAP_STD, ECAP_STD, CE0_P | CE0_TT(0), CE1_AW(2) | CE1_DID(1));
	chain(f, false, root, 4, 0x1000, 0, SS_RW, 0x8000 | SS_RW);
	expect_ok(xl(f, SID, NOPASID, 0x1000, R), 0x8000);
	ref_walk(f, root, 4, 0x1000, pa);
	w64(f, pa[0], r64(f, pa[0]) | (1ull << 50));
	expect_fault(xl(f, SID, NOPASID, 0x1000, R), 0x0c);
	w64(f, pa[0], r64(f, pa[0]) & ~(1ull << 50));
	w64(f, pa[2], r64(f, pa[2]) | (1ull << 62));
	expect_fault(xl(f, SID, NOPASID, 0x1000, R), 0x0c);
}

/* 9.2, 9.4, 9.5, 9.6: reserved bits in the scalable-mode configuration. */
static void test_9_x_scalable_config_reserved_bits(void **state)
{
	struct fx *f = *state;
	uint64_t root = sm_fs_setup(f, CAP_STD, ECAP_STD, 5, 4, 0);
	uint64_t ce = CT + 32 * (SID & 0x7f), pe = PTBL + 64 * 5;

	chain(f, false, root, 4, 0x1000, 0, FS_TBL, 0x8000 | FS_P | FS_US);
	expect_ok(xl(f, SID, 5, 0x1000, R), 0x8000);

	/* Scalable root entry: bits 11:1 reserved. */
	w64(f, RT + 16 * 3, CT | 1 | (1ull << 1));
	expect_fault(xl(f, SID, 5, 0x1000, R), 0x3a);
	w64(f, RT + 16 * 3, CT | 1);

	/* Scalable context entry: bits 8:5 and 127:85 reserved. */
	w64(f, ce, r64(f, ce) | (1ull << 5));
	expect_fault(xl(f, SID, 5, 0x1000, R), 0x42);
	w64(f, ce, r64(f, ce) & ~(1ull << 5));
	w64(f, ce + 8, 1ull << 40);
	expect_fault(xl(f, SID, 5, 0x1000, R), 0x42);
	w64(f, ce + 8, 0);
	w64(f, ce + 16, 1);
	expect_fault(xl(f, SID, 5, 0x1000, R), 0x42);
	w64(f, ce + 16, 0);

	/* PASID directory entry: bits 11:2 reserved. */
	w64(f, PDIR, r64(f, PDIR) | (1ull << 2));
	expect_fault(xl(f, SID, 5, 0x1000, R), 0x52);
	w64(f, PDIR, r64(f, PDIR) & ~(1ull << 2));

	/* PASID table entry: bits 11:10 reserved, and the unused upper words. */
	w64(f, pe, r64(f, pe) | (1ull << 10));
	expect_fault(xl(f, SID, 5, 0x1000, R), 0x5a);
	w64(f, pe, r64(f, pe) & ~(1ull << 10));
	w64(f, pe + 16, r64(f, pe + 16) | (1ull << 8)); /* bit 136 */
	expect_fault(xl(f, SID, 5, 0x1000, R), 0x5a);
	w64(f, pe + 16, r64(f, pe + 16) & ~(1ull << 8));
	w64(f, pe + 56, 1ull << 63); /* bit 511 */
	expect_fault(xl(f, SID, 5, 0x1000, R), 0x5a);
	w64(f, pe + 56, 0);

	expect_ok(xl(f, SID, 5, 0x1000, R), 0x8000);
}

/* 9.1, 9.3: reserved bits in the legacy root and context entries. */
static void test_9_x_legacy_config_reserved_bits(void **state)
{
	struct fx *f = *state;
	uint64_t root;

	root = lg_ss_setup(f, CAP_STD, ECAP_STD, CE0_P | CE0_TT(0), CE1_AW(2) | CE1_DID(1));
	chain(f, false, root, 4, 0x1000, 0, SS_RW, 0x8000 | SS_RW);
	expect_ok(xl(f, SID, NOPASID, 0x1000, R), 0x8000);

	/* Root entry: bits 11:1 and 127:64 reserved. */
	w64(f, RT + 16 * 3, CT | 1 | (1ull << 4));
	expect_fault(xl(f, SID, NOPASID, 0x1000, R), 0x0a);
	w64(f, RT + 16 * 3, CT | 1);
	w64(f, RT + 16 * 3 + 8, 1ull << 12);
	expect_fault(xl(f, SID, NOPASID, 0x1000, R), 0x0a);
	w64(f, RT + 16 * 3 + 8, 0);

	/* Context entry: bits 11:4, 71 and 127:88 reserved. */
	w64(f, CT + 16 * 0x10, CE0_P | CE0_TT(0) | root | (1ull << 4));
	expect_fault(xl(f, SID, NOPASID, 0x1000, R), 0x0b);
	w64(f, CT + 16 * 0x10, CE0_P | CE0_TT(0) | root);
	w64(f, CT + 16 * 0x10 + 8, CE1_AW(2) | CE1_DID(1) | (1ull << 7));
	expect_fault(xl(f, SID, NOPASID, 0x1000, R), 0x0b);
	w64(f, CT + 16 * 0x10 + 8, CE1_AW(2) | CE1_DID(1) | (1ull << 30));
	expect_fault(xl(f, SID, NOPASID, 0x1000, R), 0x0b);
	w64(f, CT + 16 * 0x10 + 8, CE1_AW(2) | CE1_DID(1));
	expect_ok(xl(f, SID, NOPASID, 0x1000, R), 0x8000);
}

/* ===================================================================== */
/* 3.4.3 / 9.4 / 9.5: PASID handling                                      */
/* ===================================================================== */

/*
 * A PASID beyond ECAP.PSS is a malformed request: it is completed as an
 * Unsupported Request and is not a remapping fault, so nothing is recorded.
 */
static void test_3_4_3_pasid_beyond_pss_is_unsupported_request(void **state)
{
	struct fx *f = *state;
	uint64_t ecap = (ECAP_STD & ~ECAP_PSS(32)) | ECAP_PSS(8);
	uint64_t root = sm_fs_setup(f, CAP_STD, ecap, 0xff, 4, 0);
	struct vtd_fault_status st;
	struct ims_result *r;

	/* PSS = 7: 8-bit PASIDs.  PASID 0x100 has a valid-looking entry all the same. */
	chain(f, false, root, 4, 0x1000, 0, FS_TBL, 0x8000 | FS_P | FS_US);
	sm_pasid(f, 0x100, PE0_P | PE0_PGTT(PGTT_FS), PE1_DID(1), root);
	expect_ok(xl(f, SID, 0xff, 0x1000, R), 0x8000);
	r = xl(f, SID, 0x100, 0x1000, R);
	assert_false(r->ok);
	assert_int_equal(r->fault.arch_code, 0);
	assert_false(r->fault.recorded);
	vtd_fault_status(f->io, &st);
	assert_false(st.ppf);
}

/* 9.4: a PASID whose directory index is beyond 2^(PDTS+7) entries: 0x46. */
static void test_9_4_pasid_beyond_pdts(void **state)
{
	struct fx *f = *state;
	uint64_t root = sm_fs_setup(f, CAP_STD, ECAP_STD, 5, 4, 0);
	uint64_t ce = CT + 32 * (SID & 0x7f);

	chain(f, false, root, 4, 0x1000, 0, FS_TBL, 0x8000 | FS_P | FS_US);
	sm_pasid(f, 8191, PE0_P | PE0_PGTT(PGTT_FS), PE1_DID(1), root);
	/* PDTS=0: 128 directory entries, PASIDs 0-8191. */
	expect_ok(xl(f, SID, 8191, 0x1000, R), 0x8000);
	expect_fault(xl(f, SID, 8192, 0x1000, R), 0x46);
	/* PDTS=1: 256 entries; PASID 8192 is directory entry 128. */
	w64(f, ce, SCE0_P | SCE0_PASIDE | SCE0_PDTS(1) | PDIR);
	sm_pasid(f, 8192, PE0_P | PE0_PGTT(PGTT_FS), PE1_DID(1), root);
	expect_ok(xl(f, SID, 8192, 0x1000, R), 0x8000);
	expect_fault(xl(f, SID, 16384, 0x1000, R), 0x46);
}

/* 9.4: a request with PASID to a context entry with PASIDE=0: 0x45. */
static void test_9_4_request_with_pasid_needs_paside(void **state)
{
	struct fx *f = *state;
	uint64_t root = sm_fs_setup(f, CAP_STD, ECAP_STD, 5, 4, 0);

	chain(f, false, root, 4, 0x1000, 0, FS_TBL, 0x8000 | FS_P | FS_US);
	sm_context(f, SID, SCE0_P | SCE0_PDTS(0) | PDIR, 0);
	expect_fault(xl(f, SID, 5, 0x1000, R), 0x45);
}

/* 9.4: with ECAP.RPS, requests without PASID use the context entry's RID_PASID. */
static void test_9_4_request_without_pasid_uses_rid_pasid(void **state)
{
	struct fx *f = *state;
	uint64_t root = sm_fs_setup(f, CAP_STD, ECAP_STD, 0x42, 4, 0);
	uint64_t root0 = host_page(f);
	struct ims_result *r;

	chain(f, false, root, 4, 0x1000, 0, FS_TBL, 0x8000 | FS_P | FS_US);
	chain(f, false, root0, 4, 0x1000, 0, FS_TBL, 0x9000 | FS_P | FS_US);
	sm_pasid(f, 0, PE0_P | PE0_PGTT(PGTT_FS), PE1_DID(9), root0);
	sm_context(f, SID, SCE0_P | SCE0_PASIDE | SCE0_PDTS(0) | PDIR, 0x42 /* RID_PASID */);
	r = xl(f, SID, NOPASID, 0x1000, R);
	expect_ok(r, 0x8000);
	assert_int_equal(r->pasid, 0x42);
	/* Without RPS the field is not used: PASID 0. */
	fx_stop(f);
	root = sm_fs_setup(f, CAP_STD, ECAP_STD & ~ECAP_RPS, 0x42, 4, 0);
	root0 = host_page(f);
	chain(f, false, root, 4, 0x1000, 0, FS_TBL, 0x8000 | FS_P | FS_US);
	chain(f, false, root0, 4, 0x1000, 0, FS_TBL, 0x9000 | FS_P | FS_US);
	sm_pasid(f, 0, PE0_P | PE0_PGTT(PGTT_FS), PE1_DID(9), root0);
	sm_context(f, SID, SCE0_P | SCE0_PASIDE | SCE0_PDTS(0) | PDIR, 0x42);
	r = xl(f, SID, NOPASID, 0x1000, R);
	expect_ok(r, 0x9000);
	assert_int_equal(r->pasid, 0);
}

/*
 * 9.2: devfn 0-127 use the lower half of the scalable root entry (LP,
 * LCTP), devfn 128-255 the upper half (UP, UCTP); each context table holds
 * 128 entries of 256 bits.
 */
static void test_9_2_upper_devfn_uses_upper_context_table(void **state)
{
	struct fx *f = *state;
	uint32_t up = 0x0380, low = 0x037f; /* bus 3, devfn 0x80 and 0x7f */
	uint64_t root = sm_fs_setup(f, CAP_STD, ECAP_STD, 5, 4, 0);
	struct ims_result *r;

	chain(f, false, root, 4, 0x1000, 0, FS_TBL, 0x8000 | FS_P | FS_US);
	sm_context_std(f, up);
	sm_context_std(f, low);
	r = xl(f, up, 5, 0x1000, R);
	expect_ok(r, 0x8000);
	assert_int_equal(r->reads[1].pa, CT_UP + 32 * 0);
	r = xl(f, low, 5, 0x1000, R);
	expect_ok(r, 0x8000);
	assert_int_equal(r->reads[1].pa, CT + 32 * 0x7f);
	/* Upper present clear: the upper half is not present, the lower still is. */
	w64(f, RT + 16 * 3 + 8, CT_UP);
	expect_fault(xl(f, up, 5, 0x1000, R), 0x39);
	expect_ok(xl(f, low, 5, 0x1000, R), 0x8000);
}

/* ===================================================================== */
/* Not-present configuration entries                                      */
/* ===================================================================== */

static void test_9_x_scalable_not_present(void **state)
{
	struct fx *f = *state;
	uint64_t root = sm_fs_setup(f, CAP_STD, ECAP_STD, 5, 4, 0);
	uint64_t ce = CT + 32 * (SID & 0x7f), pe = PTBL + 64 * 5, v;
	struct ims_result *r;

	chain(f, false, root, 4, 0x1000, 0, FS_TBL, 0x8000 | FS_P | FS_US);
	expect_ok(xl(f, SID, 5, 0x1000, R), 0x8000);

	v = r64(f, RT + 16 * 3);
	w64(f, RT + 16 * 3, v & ~1ull);
	r = xl(f, SID, 5, 0x1000, R);
	expect_fault(r, 0x39);
	assert_int_equal(r->nreads, 1);
	w64(f, RT + 16 * 3, v);

	v = r64(f, ce);
	w64(f, ce, v & ~1ull);
	r = xl(f, SID, 5, 0x1000, R);
	expect_fault(r, 0x41);
	assert_int_equal(r->nreads, 2);
	w64(f, ce, v);

	v = r64(f, PDIR);
	w64(f, PDIR, v & ~1ull);
	r = xl(f, SID, 5, 0x1000, R);
	expect_fault(r, 0x51);
	assert_int_equal(r->nreads, 3);
	w64(f, PDIR, v);

	v = r64(f, pe);
	w64(f, pe, v & ~1ull);
	r = xl(f, SID, 5, 0x1000, R);
	expect_fault(r, 0x59);
	assert_int_equal(r->nreads, 4);
	w64(f, pe, v);

	/* First-stage entry not present: 0x71. */
	{
		uint64_t pa[4];

		ref_walk(f, root, 4, 0x1000, pa);
		w64(f, pa[1], r64(f, pa[1]) & ~FS_P);
		r = xl(f, SID, 5, 0x1000, R);
		expect_fault(r, 0x71);
		assert_int_equal(table_reads(r), 3);
	}
}

static void test_9_x_legacy_not_present(void **state)
{
	struct fx *f = *state;
	uint64_t root;

	root = lg_ss_setup(f, CAP_STD, ECAP_STD, CE0_TT(0), CE1_AW(2) | CE1_DID(1)); /* P = 0 */
	chain(f, false, root, 4, 0x1000, 0, SS_RW, 0x8000 | SS_RW);
	expect_fault(xl(f, SID, NOPASID, 0x1000, R), 0x02);
	w64(f, RT + 16 * 3, CT); /* root P = 0 */
	expect_fault(xl(f, SID, NOPASID, 0x1000, R), 0x01);
}

/* ===================================================================== */
/* Legacy mode (TTM = 00b)                                                */
/* ===================================================================== */

static void test_3_4_2_legacy_tt00_translates(void **state)
{
	struct fx *f = *state;
	uint64_t root;
	struct ims_result *r;

	root = lg_ss_setup(f, CAP_STD, ECAP_STD, CE0_P | CE0_TT(0), CE1_AW(2) | CE1_DID(6));
	chain(f, false, root, 4, 0x12345000, 0, SS_RW, 0x8000 | SS_RW);
	r = xl(f, SID, NOPASID, 0x12345678, W);
	expect_ok(r, 0x8678);
	assert_int_equal(r->nreads, 2 + 4);
	assert_int_equal(r->domain, 6);
	assert_int_equal(r->reads[0].pa, RT + 16 * 3);
	assert_int_equal(r->reads[1].pa, CT + 16 * 0x10);
}

/* Legacy write to a page without W: 0x05; read of a page without R: 0x06. */
static void test_3_4_2_legacy_permission_faults(void **state)
{
	struct fx *f = *state;
	uint64_t root;

	root = lg_ss_setup(f, CAP_STD, ECAP_STD, CE0_P | CE0_TT(0), CE1_AW(2) | CE1_DID(1));
	chain(f, false, root, 4, 0x1000, 0, SS_RW, 0x8000 | SS_R);
	chain(f, false, root, 4, 0x2000, 0, SS_RW, 0x9000 | SS_W);
	expect_ok(xl(f, SID, NOPASID, 0x1000, R), 0x8000);
	expect_fault(xl(f, SID, NOPASID, 0x1000, W), 0x05);
	expect_ok(xl(f, SID, NOPASID, 0x2000, W), 0x9000);
	expect_fault(xl(f, SID, NOPASID, 0x2000, R), 0x06);
}

/* TT=01b (device-TLB allowed) needs ECAP.DT; without it the entry is invalid. */
static void test_9_3_legacy_tt01_needs_dt(void **state)
{
	struct fx *f = *state;
	uint64_t root;

	root = lg_ss_setup(f, CAP_STD, ECAP_STD, CE0_P | CE0_TT(1), CE1_AW(2) | CE1_DID(1));
	chain(f, false, root, 4, 0x1000, 0, SS_RW, 0x8000 | SS_RW);
	expect_fault(xl(f, SID, NOPASID, 0x1000, R), 0x03);

	fx_stop(f);
	root = lg_ss_setup(f, CAP_STD, ECAP_STD | ECAP_DT, CE0_P | CE0_TT(1),
			   CE1_AW(2) | CE1_DID(1));
	chain(f, false, root, 4, 0x1000, 0, SS_RW, 0x8000 | SS_RW);
	expect_ok(xl(f, SID, NOPASID, 0x1000, R), 0x8000);
}

static void test_9_3_legacy_tt11_is_invalid(void **state)
{
	struct fx *f = *state;
	uint64_t root;

	root = lg_ss_setup(f, CAP_STD, ECAP_STD | ECAP_DT, CE0_P | CE0_TT(3),
			   CE1_AW(2) | CE1_DID(1));
	chain(f, false, root, 4, 0x1000, 0, SS_RW, 0x8000 | SS_RW);
	expect_fault(xl(f, SID, NOPASID, 0x1000, R), 0x03);
}

/* TT=10b: pass-through, output = input; needs ECAP.PT (else invalid, 0x03). */
static void test_9_3_legacy_tt10_pass_through(void **state)
{
	struct fx *f = *state;
	struct ims_result *r;

	fx_start(f, CAP_STD, ECAP_STD);
	set_mode(f, TTM_LEGACY);
	lg_context(f, SID, CE0_P | CE0_TT(2), CE1_AW(2) | CE1_DID(1));
	r = xl(f, SID, NOPASID, 0x3456789abcdull, W);
	expect_ok(r, 0x3456789abcdull);
	assert_int_equal(table_reads(r), 0);

	fx_stop(f);
	fx_start(f, CAP_STD, ECAP_STD & ~ECAP_PT);
	set_mode(f, TTM_LEGACY);
	lg_context(f, SID, CE0_P | CE0_TT(2), CE1_AW(2) | CE1_DID(1));
	expect_fault(xl(f, SID, NOPASID, 0x1000, R), 0x03);
}

/* A request with PASID while TTM = legacy: 0x31. */
static void test_3_4_2_legacy_request_with_pasid(void **state)
{
	struct fx *f = *state;
	uint64_t root;

	root = lg_ss_setup(f, CAP_STD, ECAP_STD, CE0_P | CE0_TT(0), CE1_AW(2) | CE1_DID(1));
	chain(f, false, root, 4, 0x1000, 0, SS_RW, 0x8000 | SS_RW);
	expect_ok(xl(f, SID, NOPASID, 0x1000, R), 0x8000);
	expect_fault(xl(f, SID, 5, 0x1000, R), 0x31);
}

/* ===================================================================== */
/* Self-referencing tables: the fixed number of levels bounds the walk    */
/* ===================================================================== */

/*
 * A PML4E that points at its own table (the recursive mapping).  For an
 * address whose four 9-bit indices all select that entry, the hardware
 * reads the same entry four times, using it as PML4E, PDPE, PDE and
 * finally PTE; the PTE maps the PML4 table's own page.  So the result is
 * exactly: output = PML4 table + page offset, 4 KiB page, 4 reads.
 * Another index at the second level finds an empty entry: 0x71 after 2 reads.
 */
static void test_3_6_first_stage_self_referencing_pml4(void **state)
{
	struct fx *f = *state;
	uint64_t root = sm_fs_setup(f, CAP_STD, ECAP_STD, 5, 4, 0);
	uint64_t va = (1ull << 39) | (1ull << 30) | (1ull << 21) | (1ull << 12);
	struct ims_result *r;

	w64(f, root + 8, root | FS_P | FS_RW | FS_US);
	r = xl(f, SID, 5, va + 0x28, R);
	expect_ok(r, root + 0x28);
	assert_int_equal(r->page_lg2, 12);
	assert_int_equal(table_reads(r), 4);
	for (unsigned i = 4; i < 8; i++)
		assert_int_equal(r->reads[i].pa, root + 8);

	r = xl(f, SID, 5, (1ull << 39) | (2ull << 30), R);
	expect_fault(r, 0x71);
	assert_int_equal(table_reads(r), 2);
}

/* The same for a 4-level second stage whose SS-PML4E points at its own table. */
static void test_3_7_second_stage_self_referencing_table(void **state)
{
	struct fx *f = *state;
	uint64_t root = sm_ss_setup(f, CAP_STD, ECAP_STD, 5, 2, 0);
	uint64_t va = (3ull << 39) | (3ull << 30) | (3ull << 21) | (3ull << 12);
	struct ims_result *r;

	w64(f, root + 24, root | SS_RW);
	r = xl(f, SID, 5, va + 0x100, W);
	expect_ok(r, root + 0x100);
	assert_int_equal(table_reads(r), 4);
	for (unsigned i = 4; i < 8; i++)
		assert_int_equal(r->reads[i].pa, root + 24);

	r = xl(f, SID, 5, (3ull << 39) | (3ull << 30) | (4ull << 21), R);
	expect_fault(r, 0x79);
	assert_int_equal(table_reads(r), 3);
}

/* ===================================================================== */
/* External aborts on every fetch                                         */
/* ===================================================================== */

static void test_7_1_3_scalable_fetch_aborts(void **state)
{
	struct fx *f = *state;
	uint64_t root = sm_fs_setup(f, CAP_STD, ECAP_STD, 5, 4, 0);
	uint64_t pa[4];
	static const struct {
		int what;
		unsigned code;
	} cases[] = {
		{ 0, 0x38 }, { 1, 0x40 }, { 2, 0x50 }, { 3, 0x58 },
		{ 4, 0x73 }, /* PML4E, referenced by FSPTPTR */
		{ 5, 0x70 }, { 6, 0x70 }, { 7, 0x70 },
	};

	chain(f, false, root, 4, 0x1000, 0, FS_TBL, 0x8000 | FS_P | FS_US);
	ref_walk(f, root, 4, 0x1000, pa);
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t at[] = { RT + 16 * 3, CT + 32 * 0x10, PDIR, PTBL + 64 * 5,
				  pa[3], pa[2], pa[1], pa[0] };

		ims_mem_clear_aborts(f->mem);
		assert_int_equal(ims_mem_inject_abort(f->mem, at[cases[i].what], 8), 0);
		expect_fault(xl(f, SID, 5, 0x1000, R), cases[i].code);
	}
	ims_mem_clear_aborts(f->mem);
	expect_ok(xl(f, SID, 5, 0x1000, R), 0x8000);
}

static void test_7_1_3_second_stage_fetch_aborts(void **state)
{
	struct fx *f = *state;
	uint64_t root = sm_ss_setup(f, CAP_STD, ECAP_STD, 5, 2, 0);
	uint64_t pa[4];

	chain(f, false, root, 4, 0x1000, 0, SS_RW, 0x8000 | SS_RW);
	ref_walk(f, root, 4, 0x1000, pa);
	for (int l = 3; l >= 0; l--) {
		ims_mem_clear_aborts(f->mem);
		assert_int_equal(ims_mem_inject_abort(f->mem, pa[l], 8), 0);
		expect_fault(xl(f, SID, 5, 0x1000, R), 0x78);
	}
}

static void test_7_1_3_legacy_fetch_aborts(void **state)
{
	struct fx *f = *state;
	uint64_t root, pa[4];

	root = lg_ss_setup(f, CAP_STD, ECAP_STD, CE0_P | CE0_TT(0), CE1_AW(2) | CE1_DID(1));
	chain(f, false, root, 4, 0x1000, 0, SS_RW, 0x8000 | SS_RW);
	ref_walk(f, root, 4, 0x1000, pa);

	assert_int_equal(ims_mem_inject_abort(f->mem, RT + 16 * 3, 16), 0);
	expect_fault(xl(f, SID, NOPASID, 0x1000, R), 0x08);
	ims_mem_clear_aborts(f->mem);
	assert_int_equal(ims_mem_inject_abort(f->mem, CT + 16 * 0x10, 16), 0);
	expect_fault(xl(f, SID, NOPASID, 0x1000, R), 0x09);
	for (int l = 3; l >= 0; l--) {
		ims_mem_clear_aborts(f->mem);
		assert_int_equal(ims_mem_inject_abort(f->mem, pa[l], 8), 0);
		expect_fault(xl(f, SID, NOPASID, 0x1000, R), 0x07);
	}
}

/* ===================================================================== */
/* 3.6.3 / 3.7.2 accessed and dirty flags                                 */
/* ===================================================================== */

static void test_3_6_3_first_stage_sets_a_and_d(void **state)
{
	struct fx *f = *state;
	uint64_t root = sm_fs_setup(f, CAP_STD, ECAP_STD, 5, 4, 0);
	uint64_t pa[4];

	chain(f, false, root, 4, 0x1000, 0, FS_TBL, 0x8000 | FS_P | FS_RW | FS_US);
	ref_walk(f, root, 4, 0x1000, pa);
	expect_ok(xl(f, SID, 5, 0x1000, R), 0x8000);
	for (int l = 3; l >= 0; l--) {
		assert_true(r64(f, pa[l]) & FS_A);
		assert_false(r64(f, pa[l]) & (FS_D | FS_EA));
	}
	expect_ok(xl(f, SID, 5, 0x1000, W), 0x8000);
	assert_int_equal(r64(f, pa[0]), 0x8000 | FS_P | FS_RW | FS_US | FS_A | FS_D);
	for (int l = 3; l >= 1; l--)
		assert_false(r64(f, pa[l]) & FS_D);
}

/* With EAFE (ECAP.EAFS), EA is set together with A. */
static void test_3_6_3_first_stage_sets_ea_with_eafe(void **state)
{
	struct fx *f = *state;
	uint64_t root = sm_fs_setup(f, CAP_STD, ECAP_STD, 5, 4, PE2_EAFE);
	uint64_t pa[4];

	chain(f, false, root, 4, 0x1000, 0, FS_TBL, 0x8000 | FS_P | FS_RW | FS_US);
	ref_walk(f, root, 4, 0x1000, pa);
	expect_ok(xl(f, SID, 5, 0x1000, R), 0x8000);
	for (int l = 3; l >= 0; l--)
		assert_int_equal(r64(f, pa[l]) & (FS_A | FS_EA | FS_D), FS_A | FS_EA);
}

/* 9.6: EAFE without ECAP.EAFS is an invalid entry. */
static void test_9_6_eafe_without_eafs_is_invalid(void **state)
{
	struct fx *f = *state;
	uint64_t root = sm_fs_setup(f, CAP_STD, ECAP_STD & ~ECAP_EAFS, 5, 4, PE2_EAFE);

	chain(f, false, root, 4, 0x1000, 0, FS_TBL, 0x8000 | FS_P | FS_US);
	expect_fault(xl(f, SID, 5, 0x1000, R), 0x5b);
}

static void test_3_7_2_second_stage_ad_only_with_ssade(void **state)
{
	struct fx *f = *state;
	uint64_t root = sm_ss_setup(f, CAP_STD, ECAP_STD, 5, 2, 0);
	uint64_t pa[4], before[4];

	chain(f, false, root, 4, 0x1000, 0, SS_RW, 0x8000 | SS_RW);
	ref_walk(f, root, 4, 0x1000, pa);
	for (int l = 0; l < 4; l++)
		before[l] = r64(f, pa[l]);
	expect_ok(xl(f, SID, 5, 0x1000, W), 0x8000);
	for (int l = 0; l < 4; l++)
		assert_int_equal(r64(f, pa[l]), before[l]);

	/* SSADE=1: A everywhere, D in the leaf on a write. */
	sm_pasid(f, 5, PE0_P | PE0_PGTT(PGTT_SS) | PE0_AW(2) | PE0_SSADE | root, PE1_DID(2), 0);
	expect_ok(xl(f, SID, 5, 0x1000, R), 0x8000);
	for (int l = 3; l >= 0; l--)
		assert_int_equal(r64(f, pa[l]), before[l] | SS_A);
	expect_ok(xl(f, SID, 5, 0x1000, W), 0x8000);
	assert_int_equal(r64(f, pa[0]), before[0] | SS_A | SS_D);
	for (int l = 3; l >= 1; l--)
		assert_int_equal(r64(f, pa[l]), before[l] | SS_A);
}

/* A translation that faults leaves every entry as it was. */
static void test_3_6_3_faulting_translation_changes_no_memory(void **state)
{
	struct fx *f = *state;
	uint64_t root = sm_fs_setup(f, CAP_STD, ECAP_STD, 5, 4, 0);
	uint64_t pa[4], before[4];

	chain(f, false, root, 4, 0x1000, 0, FS_TBL, 0x8000 | FS_P | FS_US);
	ref_walk(f, root, 4, 0x1000, pa);
	for (int l = 0; l < 4; l++)
		before[l] = r64(f, pa[l]);
	expect_fault(xl(f, SID, 5, 0x1000, W), 0x85);
	for (int l = 0; l < 4; l++)
		assert_int_equal(r64(f, pa[l]), before[l]);
	/* Nested: first-stage entries are not marked when the final GPA faults. */
	fx_stop(f);
	{
		uint64_t fsroot = sm_nested_setup(f, CAP_STD, ECAP_STD, 5, 0);
		uint64_t va = 0x7f0000002000ull, tbl = fsroot;

		chain(f, true, fsroot, 4, va, 0, FS_TBL, 0x780000 | FS_P | FS_RW | FS_US);
		for (int l = 3; l >= 0; l--) {
			pa[l] = tbl + GOFF + 8 * idx(va, (unsigned)l);
			before[l] = r64(f, pa[l]);
			tbl = before[l] & ADDR_51_12;
		}
		expect_fault(xl(f, SID, 5, va, W), 0x79);
		for (int l = 0; l < 4; l++)
			assert_int_equal(r64(f, pa[l]), before[l]);
	}
}

/* ===================================================================== */
/* 3.15 interrupt address range, FPD, fault records                       */
/* ===================================================================== */

static void test_3_15_output_in_interrupt_range_scalable(void **state)
{
	struct fx *f = *state;
	uint64_t root = sm_fs_setup(f, CAP_STD, ECAP_STD, 5, 4, 0);

	chain(f, false, root, 4, 0x1000, 0, FS_TBL, 0xfee00000ull | FS_P | FS_RW | FS_US);
	chain(f, false, root, 4, 0x2000, 0, FS_TBL, 0xfeeff000ull | FS_P | FS_RW | FS_US);
	chain(f, false, root, 4, 0x3000, 0, FS_TBL, 0xfef00000ull | FS_P | FS_RW | FS_US);
	chain(f, false, root, 4, 0x4000, 0, FS_TBL, 0xfedff000ull | FS_P | FS_RW | FS_US);
	expect_fault(xl(f, SID, 5, 0x1000, W), 0x87);
	expect_fault(xl(f, SID, 5, 0x2ffc, R), 0x87);
	expect_ok(xl(f, SID, 5, 0x3000, W), 0xfef00000ull);
	expect_ok(xl(f, SID, 5, 0x4ffc, W), 0xfedffffcull);
}

static void test_3_15_output_in_interrupt_range_legacy(void **state)
{
	struct fx *f = *state;
	uint64_t root;

	root = lg_ss_setup(f, CAP_STD, ECAP_STD, CE0_P | CE0_TT(0), CE1_AW(2) | CE1_DID(1));
	chain(f, false, root, 4, 0x1000, 0, SS_RW, 0xfee01000ull | SS_RW);
	expect_fault(xl(f, SID, NOPASID, 0x1000, W), 0x0e);
}

/* FPD: the fault is reported to the requester but not recorded. */
static void test_7_2_1_fpd_suppresses_recording(void **state)
{
	struct fx *f = *state;
	uint64_t root = sm_fs_setup(f, CAP_STD, ECAP_STD, 5, 4, 0);
	uint64_t pe = PTBL + 64 * 5;
	struct vtd_fault_status st;
	struct vtd_fault_rec rec;
	struct ims_result *r;

	chain(f, false, root, 4, 0x1000, 0, FS_TBL, 0x8000 | FS_P | FS_US);
	/* FPD in the context entry, PASID entry not present. */
	sm_context(f, SID, SCE0_P | SCE0_FPD | SCE0_PASIDE | SCE0_PDTS(0) | PDIR, 0);
	w64(f, pe, r64(f, pe) & ~PE0_P);
	r = xl(f, SID, 5, 0x1000, R);
	expect_fault(r, 0x59);
	assert_true(r->fault.suppressed);
	assert_false(r->fault.recorded);
	/* FPD in the PASID entry, write to a read-only page. */
	sm_context_std(f, SID);
	w64(f, pe, PE0_P | PE0_FPD | PE0_PGTT(PGTT_FS));
	r = xl(f, SID, 5, 0x1000, W);
	expect_fault(r, 0x85);
	assert_true(r->fault.suppressed);
	assert_false(r->fault.recorded);
	vtd_fault_status(f->io, &st);
	assert_false(st.ppf);
	for (unsigned i = 0; i < vtd_fault_log_size(f->io); i++) {
		assert_int_equal(vtd_fault_log_get(f->io, i, &rec), 0);
		assert_false(rec.hi & FR_HI_F);
	}
	/* Without FPD the same fault is recorded. */
	w64(f, pe, PE0_P | PE0_PGTT(PGTT_FS));
	r = xl(f, SID, 5, 0x1000, W);
	expect_fault(r, 0x85);
	assert_true(r->fault.recorded);
	assert_false(r->fault.suppressed);
}

/*
 * 7.2.1 / 11.4.14: the primary fault record.  Bits 63:12 FI (the page
 * address of the request), 79:64 SID, 93 PRIV, 94 EXE, 95 PP, 103:96 FR,
 * 123:104 PV, 125:124 AT (0: untranslated), 126 T (0 write, 1 read),
 * 127 F.  Records fill from index 0.
 */
static void test_7_2_1_fault_record_contents(void **state)
{
	struct fx *f = *state;
	uint64_t root = sm_fs_setup(f, CAP_STD, ECAP_STD, 0x1234, 4, PE2_SRE);
	struct vtd_fault_status st;
	struct vtd_fault_rec rec;
	uint64_t va = 0x7f0000012000ull;

	assert_int_equal(vtd_fault_log_size(f->io), 8);
	chain(f, false, root, 4, va, 0, FS_TBL, 0x8000 | FS_P | FS_US);
	expect_fault(xl(f, SID, 0x1234, va + 0x345, W), 0x85);
	assert_int_equal(vtd_fault_log_get(f->io, 0, &rec), 0);
	assert_int_equal(rec.lo, va);
	assert_int_equal(rec.hi, FR_HI_SID(SID) | FR_HI_PP | FR_HI_FR(0x85) | FR_HI_PV(0x1234) |
					 FR_HI_F);
	vtd_fault_status(f->io, &st);
	assert_true(st.ppf);
	assert_int_equal(st.fri, 0);

	/* A supervisor execute read of a user page: PRIV, EXE, T=1. */
	expect_fault(xl(f, SID, 0x1234, va + 0x10, R | X | S), 0x82);
	assert_int_equal(vtd_fault_log_get(f->io, 1, &rec), 0);
	assert_int_equal(rec.lo, va);
	assert_int_equal(rec.hi, FR_HI_SID(SID) | FR_HI_PRIV | FR_HI_EXE | FR_HI_PP |
					 FR_HI_FR(0x82) | FR_HI_PV(0x1234) | FR_HI_T | FR_HI_F);

	/* A request without PASID in legacy mode: PP=0, PV=0. */
	fx_stop(f);
	fx_start(f, CAP_STD, ECAP_STD);
	set_mode(f, TTM_LEGACY);
	w64(f, RT + 16 * 0x12, 0); /* bus 0x12: root entry not present */
	expect_fault(xl(f, 0x12ab, NOPASID, 0xdeadbeefull, R), 0x01);
	assert_int_equal(vtd_fault_log_get(f->io, 0, &rec), 0);
	assert_int_equal(rec.lo, 0xdeadb000ull);
	assert_int_equal(rec.hi, FR_HI_SID(0x12ab) | FR_HI_FR(0x01) | FR_HI_T | FR_HI_F);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_9_6_pgtt_first_stage_only),
		T(test_9_6_pgtt_second_stage_only),
		T(test_3_8_nested_4x4_walk_reads_in_order),
		T(test_9_6_pgtt_pass_through_output_is_input),
		T(test_9_6_pgtt_reserved_values_are_invalid),
		T(test_9_6_pgtt_unsupported_by_ecap_is_invalid),
		T(test_9_7_first_stage_2m_leaf),
		T(test_9_7_first_stage_1g_leaf_with_fs1gp),
		T(test_9_7_first_stage_1g_leaf_without_fs1gp_is_reserved),
		T(test_3_6_first_stage_5_level_with_fs5lp),
		T(test_9_6_fspm_5_level_without_fs5lp_is_invalid),
		T(test_3_6_1_non_canonical_4_level),
		T(test_3_6_1_non_canonical_5_level),
		T(test_3_7_second_stage_3_level_aw1),
		T(test_3_7_second_stage_4_level_aw2),
		T(test_3_7_second_stage_5_level_aw3),
		T(test_3_7_input_beyond_agaw),
		T(test_9_6_aw_not_in_sagaw_is_invalid),
		T(test_9_3_legacy_aw_not_in_sagaw_is_invalid),
		T(test_9_8_second_stage_2m_leaf_with_sllps),
		T(test_9_8_second_stage_1g_leaf_without_sllps_is_reserved),
		T(test_9_8_second_stage_1g_leaf_with_sllps),
		T(test_9_8_second_stage_2m_leaf_without_sllps_is_reserved),
		T(test_3_8_nested_s2_fault_on_fsptptr_fetch),
		T(test_3_8_nested_s2_fault_on_lower_table_fetch),
		T(test_3_8_nested_s2_fault_on_final_gpa),
		T(test_3_8_nested_fs_ad_update_needs_s2_write),
		T(test_3_6_2_user_write_needs_rw_at_every_level),
		T(test_3_6_2_write_to_read_only_page),
		T(test_3_7_1_write_to_read_only_second_stage_page),
		T(test_3_6_2_user_access_to_supervisor_page),
		T(test_9_6_supervisor_request_needs_sre),
		T(test_3_6_2_supervisor_write_to_read_only_wpe0_allowed),
		T(test_3_6_2_supervisor_write_to_read_only_wpe1_faults),
		T(test_3_6_2_execute_with_xd),
		T(test_3_6_2_supervisor_execute_on_user_page_refused),
		T(test_9_7_first_stage_reserved_bits),
		T(test_9_8_second_stage_reserved_bits),
		T(test_9_8_legacy_second_stage_reserved_bits),
		T(test_9_x_scalable_config_reserved_bits),
		T(test_9_x_legacy_config_reserved_bits),
		T(test_3_4_3_pasid_beyond_pss_is_unsupported_request),
		T(test_9_4_pasid_beyond_pdts),
		T(test_9_4_request_with_pasid_needs_paside),
		T(test_9_4_request_without_pasid_uses_rid_pasid),
		T(test_9_2_upper_devfn_uses_upper_context_table),
		T(test_9_x_scalable_not_present),
		T(test_9_x_legacy_not_present),
		T(test_3_4_2_legacy_tt00_translates),
		T(test_3_4_2_legacy_permission_faults),
		T(test_9_3_legacy_tt01_needs_dt),
		T(test_9_3_legacy_tt11_is_invalid),
		T(test_9_3_legacy_tt10_pass_through),
		T(test_3_4_2_legacy_request_with_pasid),
		T(test_3_6_first_stage_self_referencing_pml4),
		T(test_3_7_second_stage_self_referencing_table),
		T(test_7_1_3_scalable_fetch_aborts),
		T(test_7_1_3_second_stage_fetch_aborts),
		T(test_7_1_3_legacy_fetch_aborts),
		T(test_3_6_3_first_stage_sets_a_and_d),
		T(test_3_6_3_first_stage_sets_ea_with_eafe),
		T(test_9_6_eafe_without_eafs_is_invalid),
		T(test_3_7_2_second_stage_ad_only_with_ssade),
		T(test_3_6_3_faulting_translation_changes_no_memory),
		T(test_3_15_output_in_interrupt_range_scalable),
		T(test_3_15_output_in_interrupt_range_legacy),
		T(test_7_2_1_fpd_suppresses_recording),
		T(test_7_2_1_fault_record_contents),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
