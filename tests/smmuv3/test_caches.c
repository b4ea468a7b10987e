/*
 * test_caches.c - SMMUv3 caching and invalidation, entry by entry, driven
 * the way software drives the hardware: STEs, CDs and VMSAv8-64 tables are
 * written into memory, commands are written into the command queue in
 * memory, and a CMDQ_PROD write makes the SMMU consume them.  What was
 * dropped shows in the translations that follow (res.iotlb_hit, the reads
 * they make), in the per-structure statistics and in the instance totals.
 *
 * Reference: Arm IHI 0070 (SMMUv3), issue E.a or later:
 *   3.5   command queue (CMDQ_BASE, CMDQ_PROD, CMDQ_CONS)
 *   4.1   command format: opcode 7:0, two 64-bit words
 *   4.3   CMD_CFGI_STE (0x03: SID 63:32, Leaf 64), CMD_CFGI_STE_RANGE
 *         (0x04: Range 68:64; 2^(Range+1) STEs from SID aligned down;
 *         Range = 31 is CMD_CFGI_ALL), CMD_CFGI_CD (0x05: SSID 31:12,
 *         SID 63:32, Leaf 64), CMD_CFGI_CD_ALL (0x06: SID 63:32)
 *   4.4   CMD_TLBI_NH_ALL (0x10: VMID 47:32), _NH_ASID (0x11: ASID 63:48),
 *         _NH_VA (0x12), _NH_VAA (0x13), _S12_VMALL (0x28), _S2_IPA
 *         (0x2a: IPA[51:12] at 115:76), _NSNH_ALL (0x30); the VA forms:
 *         NUM 16:12, SCALE 24:20, Leaf 64, TTL 73:72, TG 75:74,
 *         Address[63:12] at 127:76
 *   4.4.1 range invalidation (SMMU_IDR3.RIL): (NUM + 1) * 2^SCALE pages of
 *         granule TG (0b01 4 KiB, 0b10 16 KiB, 0b11 64 KiB) from Address,
 *         its bits below the granule ignored; TTL names the Arm level of
 *         the leaves (0b00: any)
 *   4.7   CMD_SYNC (0x46: CS 13:12, MSIData 63:32, MSIAddr[51:2] at 115:66)
 *   5.2   STE.S2VMID tags stage-1-only streams too when stage 2 exists
 * and the Arm ARM (DDI 0487) D8 (descriptors: nG is bit 11; a stage-1 leaf
 * with nG = 0 is global) and the TLBI rules the SMMU commands follow:
 * TLBI ASIDE1 (CMD_TLBI_NH_ASID) leaves global leaf entries, TLBI VAE1
 * (CMD_TLBI_NH_VA) drops the global leaf entries at the address whatever
 * their ASID, TLBI VAAE1 (CMD_TLBI_NH_VAA) every ASID, TLBI VMALLE1
 * (CMD_TLBI_NH_ALL) the stage-1 entries of the VMID, TLBI IPAS2E1
 * (CMD_TLBI_S2_IPA) the stage-2 entries at the IPA, TLBI VMALLS12E1
 * (CMD_TLBI_S12_VMALL) both stages of the VMID.  Leaf = 1 lets the walk
 * caches stay.
 *
 * Commands are encoded here from those bit positions with plain shifts,
 * never with cmdq.c's masks.  Expected outcomes come from the rules above;
 * where the model makes a choice the spec leaves open (it may drop more
 * than required), the test says so.
 *
 * Memory map (on top of smmu_test.h's):
 *   0x1a0000  command queue, 2^8 commands
 *   0x310000  CD table of SID 1 (4 CDs), CD of SID 2 at 0x310100,
 *             CDs of the range-test streams from 0x311000
 *   0x800000+ stage-1 tables (PA), allocated by granule
 *   GUEST + 0x10000  the nested stream's CD (IPA 0x10000), its stage-1
 *             tables from IPA 0x20000
 */
#include "smmu_test.h"
#include "cmd_words.h"

#define CMDQ 0x1a0000ull
#define CMDQ_LG2 8
#define CDT1 0x310000ull
#define CD2 0x310100ull
#define CDR 0x311000ull
#define TBL_POOL 0x800000ull
#define N_CDIPA 0x10000ull
#define N_TBL_IPA 0x20000ull
#define OUT 0x40000000ull

/* VMSAv8-64 (Arm ARM D8.3): nG, and a block (bits 1:0 = 0b01) with AF and AP[2:1] = 01. */
#define D_NG (1ull << 11)
#define D_S1_BLOCK_RW_EL0(a) ((uint64_t)(a) | 1u | D_AF | (1ull << 6))

/* CD.TG0 (5.4, as TCR_EL1.TG0): 0b00 4K, 0b01 64K, 0b10 16K. */
static unsigned tg0_of(unsigned granule_lg2)
{
	return granule_lg2 == 12 ? 0 : granule_lg2 == 16 ? 1 : 2;
}

/* ---- commands (chapter 4), raw ---- */
/* TG (4.4.1). */
enum { TG_NONE = 0, TG_4K = 1, TG_16K = 2, TG_64K = 3 };

struct cmd {
	uint64_t w0, w1;
};

static struct cmd c_cfgi_ste(uint32_t sid, int leaf)
{
	return (struct cmd){ OP_CFGI_STE | ((uint64_t)sid << 32), (uint64_t)leaf };
}

static struct cmd c_cfgi_ste_range(uint32_t sid, unsigned range)
{
	return (struct cmd){ OP_CFGI_STE_RANGE | ((uint64_t)sid << 32), range };
}

static struct cmd c_cfgi_cd(uint32_t sid, uint32_t ssid, int leaf)
{
	return (struct cmd){ OP_CFGI_CD | ((uint64_t)ssid << 12) | ((uint64_t)sid << 32),
			     (uint64_t)leaf };
}

static struct cmd c_cfgi_cd_all(uint32_t sid)
{
	return (struct cmd){ OP_CFGI_CD_ALL | ((uint64_t)sid << 32), 0 };
}

static struct cmd c_nh_all(uint16_t vmid)
{
	return (struct cmd){ tlbi_w0(OP_TLBI_NH_ALL, 0, 0, vmid, 0), 0 };
}

static struct cmd c_nh_asid(uint16_t vmid, uint16_t asid)
{
	return (struct cmd){ tlbi_w0(OP_TLBI_NH_ASID, 0, 0, vmid, asid), 0 };
}

static struct cmd c_nh_va(uint16_t vmid, uint16_t asid, uint64_t va, int leaf)
{
	return (struct cmd){ tlbi_w0(OP_TLBI_NH_VA, 0, 0, vmid, asid), tlbi_w1(va, leaf, 0, 0) };
}

static struct cmd c_nh_va_range(uint16_t vmid, uint16_t asid, uint64_t va, int leaf, unsigned tg,
				unsigned num, unsigned scale, unsigned ttl)
{
	return (struct cmd){ tlbi_w0(OP_TLBI_NH_VA, num, scale, vmid, asid),
			     tlbi_w1(va, leaf, ttl, tg) };
}

static struct cmd c_nh_vaa(uint16_t vmid, uint64_t va, int leaf)
{
	return (struct cmd){ tlbi_w0(OP_TLBI_NH_VAA, 0, 0, vmid, 0), tlbi_w1(va, leaf, 0, 0) };
}

static struct cmd c_s2_ipa(uint16_t vmid, uint64_t ipa, int leaf)
{
	return (struct cmd){ tlbi_w0(OP_TLBI_S2_IPA, 0, 0, vmid, 0), tlbi_w1(ipa, leaf, 0, 0) };
}

static struct cmd c_s12_vmall(uint16_t vmid)
{
	return (struct cmd){ tlbi_w0(OP_TLBI_S12_VMALL, 0, 0, vmid, 0), 0 };
}

static struct cmd c_nsnh_all(void)
{
	return (struct cmd){ OP_TLBI_NSNH_ALL, 0 };
}

/* CS 13:12 (0b00 none, 0b01 SIG_IRQ), MSIData 63:32; MSIAddr[51:2] in word 1 bits 51:2. */
static struct cmd c_sync(unsigned cs, uint32_t data, uint64_t msiaddr)
{
	return (struct cmd){ sync_w0(cs, data), msiaddr & 0x000ffffffffffffcull };
}

/* ---- the instance ---- */

/* IDR0 as smmu_test.h's default plus MSI; IDR3.RIL for range invalidation. */
#define IDR0_CACHES \
	"{\"S2P\":1,\"S1P\":1,\"TTF\":2,\"COHACC\":1,\"HTTU\":2,\"HYP\":1,\"ATS\":1," \
	"\"ASID16\":1,\"MSI\":1,\"VMID16\":1,\"CD2L\":1,\"TTENDIAN\":2,\"STALL_MODEL\":1," \
	"\"TERM_MODEL\":1,\"ST_LEVEL\":1}"

/* Large fully associative structures: nothing is ever evicted in these tests. */
static const char *const all_caches =
	"{\"iotlb\":{\"entries\":512},\"context\":{\"entries\":64},\"pasid\":{\"entries\":64},"
	"\"pwc_s1\":{\"entries\":256},\"pwc_s2\":{\"entries\":256},"
	"\"nested_tlb\":{\"entries\":128}}";

#define INV_COMMAND 100
#define INV_SYNC 1100
static const char *const timing =
	"{\"clock_mhz\":2000,\"mem_read\":394,\"inv_command\":100,\"inv_sync\":1100,"
	"\"lookup\":{\"iotlb\":3,\"context\":4,\"pasid\":4,\"pwc_s1\":4,\"pwc_s2\":4,"
	"\"nested_tlb\":4}}";

struct world {
	struct fx f;
	uint64_t next_pa, next_ipa;
	uint32_t prod;
	uint64_t t4k;       /* the 4K stage-1 tables of SIDs 1 and 2 */
	uint64_t n_root;    /* the nested stream's stage-1 root (IPA) */
	uint64_t leaf_103;  /* PA of the leaf descriptor of VA 0x103000 in t4k */
};

static struct world *live;

static struct world *w_new(const char *caches)
{
	struct world *w = calloc(1, sizeof(*w));
	char text[4096];
	struct fx *f;

	assert_non_null(w);
	f = &w->f;
	snprintf(text, sizeof(text),
		 "{\"arch\":\"smmuv3\",\"haw\":48,\"smmuv3\":{\"idr0\":%s,\"idr1\":%s,"
		 "\"idr3\":{\"RIL\":1},\"idr5\":%s,\"aidr\":{\"ArchMinorRev\":2}}%s%s,"
		 "\"timing\":%s}",
		 IDR0_CACHES, IDR1_DEFAULT, IDR5_DEFAULT, caches ? ",\"caches\":" : "",
		 caches ? caches : "", timing);
	if (ims_model_parse(text, "test-caches", &f->model, f->err, sizeof(f->err)))
		fail_msg("model: %s", f->err);
	f->io = ims_iommu_new(f->model, f->err, sizeof(f->err));
	if (!f->io)
		fail_msg("instance: %s", f->err);
	f->mem = ims_iommu_mem(f->io);
	live = w;
	assert_int_equal(ims_mem_add_ram(f->mem, 0, 16u << 20), 0);
	s2_map_window(f);
	/* Queue base first (refused while CMDQEN = 1), then the unit and the queue on. */
	reg(f, "CMDQ_BASE", Q_BASE(CMDQ, CMDQ_LG2));
	fx_enable(f, 5);
	reg(f, "CR0", CR0_SMMUEN | CR0_EVENTQEN | CR0_CMDQEN);
	w->next_pa = TBL_POOL;
	w->next_ipa = N_TBL_IPA;
	return w;
}

static void w_free(struct world *w)
{
	if (!w)
		return;
	fx_free(&w->f);
	free(w);
}

static int teardown(void **state)
{
	(void)state;
	w_free(live);
	live = NULL;
	return 0;
}

static void done(struct world *w)
{
	w_free(w);
	live = NULL;
}

/* Table memory: ipa = true allocates in the nested stream's IPA space. */
static uint64_t w_alloc(struct world *w, bool ipa, unsigned granule_lg2)
{
	uint64_t size = 1ull << granule_lg2, *next = ipa ? &w->next_ipa : &w->next_pa;
	uint64_t t = (*next + size - 1) & ~(size - 1);

	*next = t + size;
	for (uint64_t o = 0; o < size; o += 8)
		wr(&w->f, (ipa ? GUEST : 0) + t + o, 0);
	return t;
}

/*
 * Map one page or block of a 48-bit stage-1 VA space (T0SZ 16) with the
 * given granule: 4K walks spec levels 0-3 (shifts 39/30/21/12), 16K levels
 * 0-3 (47/36/25/14), 64K levels 1-3 (42/29/16).  leaf_shift is the page
 * shift or a block's.  Returns the leaf descriptor's PA.
 */
static uint64_t s1_map_g(struct world *w, bool ipa, uint64_t root, unsigned g, uint64_t va,
			 uint64_t out, unsigned leaf_shift, uint64_t attrs)
{
	unsigned bits = g - 3, top = g + bits * ((48 - g - 1) / bits);
	uint64_t base = ipa ? GUEST : 0, table = root, ea;
	uint64_t amask = 0x0000ffffffffffffull & ~((1ull << g) - 1);

	for (unsigned s = top; s > leaf_shift; s -= bits) {
		uint64_t e;

		ea = table + 8 * ((va >> s) & ((1ull << bits) - 1));
		e = rd(&w->f, base + ea);
		if (!(e & 1)) {
			e = D_TABLE(w_alloc(w, ipa, g));
			wr(&w->f, base + ea, e);
		}
		table = e & amask;
	}
	ea = table + 8 * ((va >> leaf_shift) & ((1ull << bits) - 1));
	wr(&w->f, base + ea,
	   (leaf_shift == g ? D_S1_PAGE_RW_EL0(out) : D_S1_BLOCK_RW_EL0(out)) | attrs);
	return base + ea;
}

static uint64_t cd0(unsigned g, uint16_t asid)
{
	return CD0_T0SZ(16) | CD0_TG0(tg0_of(g)) | CD0_EPD1 | CD0_V | CD0_IPS(5) | CD0_AA64 |
	       CD0_R | CD0_A | CD0_ASID(asid);
}

/*
 * The main world:
 *   SID 1  stage 1 only, VMID 1, CD table of 4 (S1CDMax 2, S1DSS = SSID0):
 *          SSID 0 ASID 1, SSID 1 ASID 2, SSID 2 ASID 3, all on tables t4k
 *   SID 2  stage 1 only, VMID 2, one CD, ASID 1, tables t4k
 *   SID 4  stage 2 only, VMID 1, the smmu_test.h window (IPA x -> GUEST + x)
 *   SID 5  nested, VMID 3, CD at IPA 0x10000 (ASID 9), stage-1 tables in
 *          IPA space from 0x20000, stage 2 the same window
 *   SID 6  stage 2 only, VMID 3, the same window
 * t4k maps VA 0x100000 + i * 4K (i < 16) to OUT + VA, non-global except
 * page 5 (0x105000, nG = 0); a 2 MiB block at 0x400000; four pages at
 * 0x600000 + i * 4K.  SID 5 maps VA 0x100000 + i * 4K (i < 8) to IPA
 * 0x80000 + i * 4K; SIDs 4 and 6 are used at those IPAs.
 */
static struct world *w_main(const char *caches)
{
	struct world *w = w_new(caches ? caches : all_caches);
	struct fx *f = &w->f;

	w->t4k = w_alloc(w, false, 12);
	for (unsigned i = 0; i < 16; i++) {
		uint64_t va = 0x100000 + i * 0x1000ull;
		uint64_t pa = s1_map_g(w, false, w->t4k, 12, va, OUT + va, 12, i == 5 ? 0 : D_NG);

		if (i == 3)
			w->leaf_103 = pa;
	}
	s1_map_g(w, false, w->t4k, 12, 0x400000, OUT + 0x400000, 21, D_NG);
	for (unsigned i = 0; i < 4; i++)
		s1_map_g(w, false, w->t4k, 12, 0x600000 + i * 0x1000ull,
			 OUT + 0x600000 + i * 0x1000ull, 12, D_NG);

	cd_put(f, CDT1, cd0(12, 1), w->t4k, 0);
	cd_put(f, CDT1 + 64, cd0(12, 2), w->t4k, 0);
	cd_put(f, CDT1 + 128, cd0(12, 3), w->t4k, 0);
	ste_put(f, 1, STE0_V | STE0_CONFIG(5) | STE0_S1FMT(0) | STE0_S1CDMAX(2) | CDT1,
		STE1_S1DSS(2), STE2_S2VMID(1), 0);
	cd_put(f, CD2, cd0(12, 1), w->t4k, 0);
	ste_put(f, 2, STE0_V | STE0_CONFIG(5) | CD2, 0, STE2_S2VMID(2), 0);

	ste_put(f, 4, STE0_V | STE0_CONFIG(6), 0, STE2_GOOD(1), S2ROOT);
	ste_put(f, 6, STE0_V | STE0_CONFIG(6), 0, STE2_GOOD(3), S2ROOT);

	w->n_root = w_alloc(w, true, 12);
	for (unsigned i = 0; i < 8; i++)
		s1_map_g(w, true, w->n_root, 12, 0x100000 + i * 0x1000ull, 0x80000 + i * 0x1000ull,
			 12, D_NG);
	cd_put(f, GUEST + N_CDIPA, cd0(12, 9), w->n_root, 0);
	ste_put(f, 5, STE0_V | STE0_CONFIG(7) | N_CDIPA, 0, STE2_GOOD(3), S2ROOT);
	return w;
}

/* ---- translations ---- */

static struct ims_result result;

static struct ims_result *go(struct world *w, uint32_t sid, uint32_t ssid, uint64_t va)
{
	struct ims_txn t = { .sid = sid, .pasid = ssid, .has_pasid = ssid != 0, .addr = va,
			     .size = 4, .access = IMS_ACC_READ };

	assert_int_equal(ims_translate(w->f.io, &t, &result), 0);
	if (!result.ok)
		fail_msg("SID %u SSID %u VA %#llx: fault %u (event %#x)", sid, ssid,
			 (unsigned long long)va, result.fault.kind, result.fault.arch_code);
	return &result;
}

static unsigned n_kind(const struct ims_result *r, int kind)
{
	unsigned n = 0;

	for (unsigned i = 0; i < r->nreads; i++)
		n += (int)r->reads[i].kind == kind;
	return n;
}

/* Page-table reads (either stage, any purpose). */
static unsigned n_walk(const struct ims_result *r)
{
	return n_kind(r, IMS_READ_S1) + n_kind(r, IMS_READ_S2) + n_kind(r, IMS_READ_S2_FOR_TABLE);
}

/* Lookups of one structure in a result, and hits among them. */
static unsigned n_lookups(const struct ims_result *r, enum ims_struct_id id, unsigned *hits)
{
	unsigned n = 0, h = 0;

	for (unsigned i = 0; i < r->nreads; i++)
		if (r->reads[i].kind == IMS_READ_CACHE && r->reads[i].label == id) {
			n++;
			h += r->reads[i].decision != 0;
		}
	if (hits)
		*hits = h;
	return n;
}

/* Whether the translation hit the IOTLB; a hit walks nothing. */
static bool tlb_hit(struct world *w, uint32_t sid, uint32_t ssid, uint64_t va)
{
	struct ims_result *r = go(w, sid, ssid, va);

	if (r->iotlb_hit)
		assert_int_equal(n_walk(r), 0);
	else
		assert_true(n_walk(r) > 0);
	return r->iotlb_hit;
}

/* ---- the command queue ---- */

static void cmd_put(struct world *w, struct cmd c)
{
	uint64_t slot = CMDQ + ((w->prod & ((1u << CMDQ_LG2) - 1)) << 4);

	wr(&w->f, slot, c.w0);
	wr(&w->f, slot + 8, c.w1);
	w->prod = (w->prod + 1) & ((2u << CMDQ_LG2) - 1); /* index + wrap bit */
}

/* Publish with CMDQ_PROD: the SMMU consumes up to PROD without error. */
static void kick(struct world *w)
{
	uint64_t cons = ~0ull, gerror = ~0ull, gerrorn = ~0ull;

	reg(&w->f, "CMDQ_PROD", w->prod);
	assert_int_equal(ims_iommu_get_reg(w->f.io, "CMDQ_CONS", &cons), 0);
	assert_int_equal(cons, w->prod);
	assert_int_equal(ims_iommu_get_reg(w->f.io, "GERROR", &gerror), 0);
	assert_int_equal(ims_iommu_get_reg(w->f.io, "GERRORN", &gerrorn), 0);
	assert_int_equal((gerror ^ gerrorn) & 1, 0); /* CMDQ_ERR not active */
}

/* One command, then CMD_SYNC, as a driver issues them. */
static void run(struct world *w, struct cmd c)
{
	cmd_put(w, c);
	cmd_put(w, c_sync(0, 0, 0));
	kick(w);
}

/* ---- statistics ---- */

struct snap {
	uint64_t inv[IMS_ST__COUNT], needless[IMS_ST__COUNT], fills[IMS_ST__COUNT];
	struct ims_stats s;
};

static void take(struct world *w, struct snap *s)
{
	memset(s, 0, sizeof(*s));
	for (int id = 0; id < IMS_ST__COUNT; id++) {
		const struct ims_cache_stats *cs = ims_iommu_cache_stats(w->f.io, id);

		if (cs) {
			s->inv[id] = cs->invalidated;
			s->needless[id] = cs->needless;
			s->fills[id] = cs->fills;
		}
	}
	s->s = *ims_iommu_stats(w->f.io);
}

/* Structures the model leaves out drop nothing. */
static unsigned dropped(struct world *w, const struct snap *s, enum ims_struct_id id)
{
	const struct ims_cache_stats *cs = ims_iommu_cache_stats(w->f.io, id);

	return cs ? (unsigned)(cs->invalidated - s->inv[id]) : 0;
}

static unsigned needless(struct world *w, const struct snap *s, enum ims_struct_id id)
{
	const struct ims_cache_stats *cs = ims_iommu_cache_stats(w->f.io, id);

	return cs ? (unsigned)(cs->needless - s->needless[id]) : 0;
}

/* ---- the pages of the main world ---- */

struct page {
	uint32_t sid, ssid;
	uint64_t va;
};

static unsigned main_pages(struct page *p)
{
	static const uint32_t s1[4][2] = { { 1, 0 }, { 1, 1 }, { 1, 2 }, { 2, 0 } };
	unsigned n = 0;

	for (unsigned k = 0; k < 4; k++) {
		for (unsigned i = 0; i < 16; i++)
			p[n++] = (struct page){ s1[k][0], s1[k][1], 0x100000 + i * 0x1000ull };
		p[n++] = (struct page){ s1[k][0], s1[k][1], 0x400000 };
		for (unsigned i = 0; i < 4; i++)
			p[n++] = (struct page){ s1[k][0], s1[k][1], 0x600000 + i * 0x1000ull };
	}
	for (unsigned i = 0; i < 8; i++) {
		p[n++] = (struct page){ 4, 0, 0x80000 + i * 0x1000ull };
		p[n++] = (struct page){ 6, 0, 0x80000 + i * 0x1000ull };
		p[n++] = (struct page){ 5, 0, 0x100000 + i * 0x1000ull };
	}
	return n;
}
#define NPAGES (4 * 21 + 3 * 8)

static void fill_all(struct world *w)
{
	struct page p[NPAGES];
	unsigned n = main_pages(p);

	for (unsigned i = 0; i < n; i++)
		assert_false(go(w, p[i].sid, p[i].ssid, p[i].va)->iotlb_hit);
	for (unsigned i = 0; i < n; i++)
		assert_true(tlb_hit(w, p[i].sid, p[i].ssid, p[i].va));
}

/* Translate every page again (refilling what was dropped). */
static void refill_all(struct world *w)
{
	struct page p[NPAGES];
	unsigned n = main_pages(p);

	for (unsigned i = 0; i < n; i++)
		go(w, p[i].sid, p[i].ssid, p[i].va);
}

/* Every page: gone() says whether it must miss now; the IOTLB drop count must match. */
static void expect(struct world *w, const struct snap *s,
		   bool (*gone)(const struct page *p, const void *arg), const void *arg)
{
	struct page p[NPAGES];
	unsigned n = main_pages(p), want = 0;
	bool g[NPAGES];

	for (unsigned i = 0; i < n; i++)
		want += g[i] = gone(&p[i], arg);
	for (unsigned i = 0; i < n; i++)
		if (tlb_hit(w, p[i].sid, p[i].ssid, p[i].va) == g[i])
			fail_msg("SID %u SSID %u address %#llx: %s", p[i].sid, p[i].ssid,
				 (unsigned long long)p[i].va,
				 g[i] ? "should have been dropped" : "should have stayed");
	assert_int_equal(dropped(w, s, IMS_ST_IOTLB), want);
}

static bool is_s1(const struct page *p)
{
	return p->sid == 1 || p->sid == 2;
}

/* VMID of a page's stream. */
static unsigned vmid_of(const struct page *p)
{
	static const unsigned v[7] = { 0, 1, 2, 0, 1, 3, 3 };

	return v[p->sid];
}

/* ASID of a stage-1 page's CD. */
static unsigned asid_of(const struct page *p)
{
	return p->sid == 1 ? p->ssid + 1 : p->sid == 2 ? 1 : 9;
}

/* ================================================================== */
/* Configuration caches                                                */
/* ================================================================== */

/*
 * An STE-cache hit skips the stream-table read, a CD-cache hit the CD read;
 * the walk cache skips the upper table levels.  Without the configuration
 * caches every translation reads the STE and the CD again, even an IOTLB hit.
 */
static void t_config_cache_hits(void **state)
{
	struct world *w;
	struct ims_result *r;
	struct snap s;
	unsigned hits;

	(void)state;
	w = w_main(NULL);
	take(w, &s);
	r = go(w, 1, 0, 0x100000);
	assert_int_equal(n_kind(r, IMS_READ_CONFIG), 2); /* STE, CD */
	assert_int_equal(n_kind(r, IMS_READ_S1), 4);
	assert_int_equal(ims_iommu_stats(w->f.io)->config_reads - s.s.config_reads, 2);
	assert_int_equal(ims_iommu_stats(w->f.io)->table_reads - s.s.table_reads, 4);

	/* Another page of the same CD: both configuration caches hit; the walk reads the leaf. */
	take(w, &s);
	r = go(w, 1, 0, 0x101000);
	assert_false(r->iotlb_hit);
	assert_int_equal(n_lookups(r, IMS_ST_CONTEXT, &hits), 1);
	assert_int_equal(hits, 1);
	assert_int_equal(n_lookups(r, IMS_ST_PASID, &hits), 1);
	assert_int_equal(hits, 1);
	assert_int_equal(n_kind(r, IMS_READ_CONFIG), 0);
	assert_int_equal(n_kind(r, IMS_READ_S1), 1);
	assert_int_equal(ims_iommu_stats(w->f.io)->config_reads - s.s.config_reads, 0);
	assert_int_equal(ims_iommu_stats(w->f.io)->table_reads - s.s.table_reads, 1);
	assert_int_equal(ims_iommu_cache_stats(w->f.io, IMS_ST_CONTEXT)->hits, 1);
	assert_int_equal(ims_iommu_cache_stats(w->f.io, IMS_ST_PASID)->hits, 1);

	/* Another SSID of the same stream: STE hit, CD miss (read), other ASID: full walk. */
	r = go(w, 1, 1, 0x101000);
	assert_int_equal(n_kind(r, IMS_READ_CONFIG), 1);
	assert_int_equal(n_kind(r, IMS_READ_S1), 4);
	assert_int_equal(r->pasid, 2);

	/* Nested: the CD's IPA is translated through stage 2 once; a CD-cache hit skips it. */
	r = go(w, 5, 0, 0x100000);
	assert_int_equal(n_kind(r, IMS_READ_CONFIG), 2);
	assert_true(n_kind(r, IMS_READ_S2_FOR_TABLE) > 0);
	r = go(w, 5, 0, 0x101000);
	assert_int_equal(n_kind(r, IMS_READ_CONFIG), 0);
	assert_int_equal(n_kind(r, IMS_READ_S1), 1);
	done(w);

	/* No configuration caches: two configuration reads every time, IOTLB hit or not. */
	w = w_main("{\"iotlb\":{\"entries\":64}}");
	assert_int_equal(n_kind(go(w, 1, 0, 0x100000), IMS_READ_CONFIG), 2);
	r = go(w, 1, 0, 0x100000);
	assert_true(r->iotlb_hit);
	assert_int_equal(n_kind(r, IMS_READ_CONFIG), 2);
	assert_null(ims_iommu_cache_stats(w->f.io, IMS_ST_CONTEXT));
	done(w);
}

/* Fill the STE and CD caches of SIDs 1 (SSIDs 0-2), 2, 4, 5 and 6. */
static void fill_config(struct world *w)
{
	go(w, 1, 0, 0x100000);
	go(w, 1, 1, 0x100000);
	go(w, 1, 2, 0x100000);
	go(w, 2, 0, 0x100000);
	go(w, 4, 0, 0x80000);
	go(w, 5, 0, 0x100000);
	go(w, 6, 0, 0x80000);
}

/* Whether (sid, ssid)'s STE and CD are cached: 1 = hit, 0 = miss, -1 = not looked up. */
static void cfg_state(struct world *w, uint32_t sid, uint32_t ssid, uint64_t va, int *ste,
		      int *cd)
{
	struct ims_result *r = go(w, sid, ssid, va);
	unsigned h, n;

	n = n_lookups(r, IMS_ST_CONTEXT, &h);
	*ste = n ? (int)h : -1;
	n = n_lookups(r, IMS_ST_PASID, &h);
	*cd = n ? (int)h : -1;
	/* A cached structure is not read; a missed one is. */
	assert_int_equal(n_kind(r, IMS_READ_CONFIG), (*ste == 0) + (*cd == 0));
}

/*
 * 4.3 CMD_CFGI_STE: the STE of that StreamID goes, and with it every CD
 * cached through it (the CDs are reached through STE.S1ContextPtr, so they
 * are part of the STE's configuration; cmdq.c decodes this as targets
 * CONTEXT | PASID).  Other streams keep theirs; the TLB is untouched (its
 * entries are tagged by VMID/ASID, not StreamID), so the next translation
 * re-reads the STE and CD and then hits the IOTLB.  Leaf = 1 (a linear
 * stream table has no L1STD) changes nothing here.
 */
static void t_cfgi_ste(void **state)
{
	for (int leaf = 0; leaf <= 1; leaf++) {
		struct world *w;
		struct ims_result *r;
		struct snap s;
		int ste, cd;

		(void)state;
		w = w_main(NULL);
		fill_config(w);
		take(w, &s);
		run(w, c_cfgi_ste(1, leaf));
		assert_int_equal(dropped(w, &s, IMS_ST_CONTEXT), 1);
		assert_int_equal(dropped(w, &s, IMS_ST_PASID), 3);
		assert_int_equal(dropped(w, &s, IMS_ST_IOTLB), 0);
		assert_int_equal(dropped(w, &s, IMS_ST_PWC_S1), 0);
		for (uint32_t ssid = 0; ssid <= 2; ssid++) {
			cfg_state(w, 1, ssid, 0x100000, &ste, &cd);
			assert_int_equal(ste, ssid == 0 ? 0 : 1); /* refilled by the first */
			assert_int_equal(cd, 0);
		}
		r = go(w, 1, 2, 0x100000);
		assert_true(r->iotlb_hit);
		cfg_state(w, 2, 0, 0x100000, &ste, &cd);
		assert_int_equal(ste, 1);
		assert_int_equal(cd, 1);
		cfg_state(w, 5, 0, 0x100000, &ste, &cd);
		assert_int_equal(ste, 1);
		assert_int_equal(cd, 1);
		cfg_state(w, 4, 0, 0x80000, &ste, &cd);
		assert_int_equal(ste, 1);
		assert_int_equal(cd, -1);
		done(w);
	}
}

/*
 * 4.3 CMD_CFGI_STE_RANGE: 2^(Range + 1) STEs from StreamID with bits
 * Range:0 cleared, exactly those (and their CDs); Range = 31 is
 * CMD_CFGI_ALL: every STE and CD.  Streams 0x10-0x1f are stage-1 streams
 * sharing one CD page (each caches its own STE and CD).
 */
static void t_cfgi_ste_range(void **state)
{
	static const struct {
		uint32_t sid;
		unsigned range;
		uint32_t first, last;
	} cases[] = {
		{ 0x13, 0, 0x12, 0x13 }, { 0x15, 1, 0x14, 0x17 }, { 0x1b, 2, 0x18, 0x1f },
		{ 0x10, 3, 0x10, 0x1f }, { 0x07, 2, 0x00, 0x07 }, { 0x2c, 1, 0x2c, 0x2f },
		{ 0x99, 31, 0x00, 0xff },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct world *w = w_main(NULL);
		struct snap s;
		unsigned want = 0;
		int ste, cd;

		cd_put(&w->f, CDR, cd0(12, 0x55), w->t4k, 0);
		for (uint32_t sid = 0x10; sid < 0x20; sid++) {
			ste_put(&w->f, sid, STE0_V | STE0_CONFIG(5) | CDR, 0, STE2_S2VMID(7), 0);
			go(w, sid, 0, 0x100000);
		}
		go(w, 1, 0, 0x100000);
		take(w, &s);
		run(w, c_cfgi_ste_range(cases[i].sid, cases[i].range));
		for (uint32_t sid = 0x10; sid < 0x20; sid++) {
			bool g = sid >= cases[i].first && sid <= cases[i].last;

			want += g;
			cfg_state(w, sid, 0, 0x100000, &ste, &cd);
			if (ste != !g || cd != !g)
				fail_msg("SID %#x Range %u: SID %#x STE %s, CD %s", cases[i].sid,
					 cases[i].range, sid, ste ? "kept" : "dropped",
					 cd ? "kept" : "dropped");
		}
		{
			/* SID 1 (outside 0x10-0x1f) goes when the range holds it. */
			bool g1 = 1 >= cases[i].first && 1 <= cases[i].last;

			cfg_state(w, 1, 0, 0x100000, &ste, &cd);
			assert_int_equal(ste, !g1);
			assert_int_equal(cd, !g1);
			want += g1;
		}
		/* dropped was read before the checks above refilled anything. */
		assert_int_equal(dropped(w, &s, IMS_ST_CONTEXT), want);
		assert_int_equal(dropped(w, &s, IMS_ST_IOTLB), 0);
		done(w);
	}
}

/*
 * 4.3 CMD_CFGI_CD (SID, SSID): that one CD; the STE and the other CDs stay.
 * CMD_CFGI_CD_ALL (SID): every CD of that StreamID; its STE and other
 * streams' CDs stay.  Neither touches the TLB.
 */
static void t_cfgi_cd(void **state)
{
	struct world *w;
	struct snap s;
	int ste, cd;

	(void)state;
	w = w_main(NULL);
	fill_config(w);
	take(w, &s);
	run(w, c_cfgi_cd(1, 1, 1));
	assert_int_equal(dropped(w, &s, IMS_ST_PASID), 1);
	assert_int_equal(dropped(w, &s, IMS_ST_CONTEXT), 0);
	assert_int_equal(dropped(w, &s, IMS_ST_IOTLB), 0);
	for (uint32_t ssid = 0; ssid <= 2; ssid++) {
		cfg_state(w, 1, ssid, 0x100000, &ste, &cd);
		assert_int_equal(ste, 1);
		assert_int_equal(cd, ssid != 1);
	}
	cfg_state(w, 2, 0, 0x100000, &ste, &cd);
	assert_int_equal(cd, 1);
	/* SSID 0 of SID 2 is not SSID 0 of SID 1. */
	take(w, &s);
	run(w, c_cfgi_cd(2, 0, 0));
	assert_int_equal(dropped(w, &s, IMS_ST_PASID), 1);
	cfg_state(w, 1, 0, 0x100000, &ste, &cd);
	assert_int_equal(cd, 1);
	cfg_state(w, 2, 0, 0x100000, &ste, &cd);
	assert_int_equal(cd, 0);

	take(w, &s);
	run(w, c_cfgi_cd_all(1));
	assert_int_equal(dropped(w, &s, IMS_ST_PASID), 3);
	assert_int_equal(dropped(w, &s, IMS_ST_CONTEXT), 0);
	for (uint32_t ssid = 0; ssid <= 2; ssid++) {
		cfg_state(w, 1, ssid, 0x100000, &ste, &cd);
		assert_int_equal(ste, 1);
		assert_int_equal(cd, 0);
	}
	cfg_state(w, 2, 0, 0x100000, &ste, &cd);
	assert_int_equal(cd, 1);
	cfg_state(w, 5, 0, 0x100000, &ste, &cd);
	assert_int_equal(cd, 1);
	done(w);
}

/* ================================================================== */
/* Stage-1 TLB invalidation                                            */
/* ================================================================== */

static bool gone_vmid_s1(const struct page *p, const void *arg)
{
	unsigned v = *(const unsigned *)arg;

	return vmid_of(p) == v && (is_s1(p) || p->sid == 5);
}

/*
 * CMD_TLBI_NH_ALL (TLBI VMALLE1): every stage-1 entry of the VMID, global
 * ones included, and its stage-1 walk-cache entries; other VMIDs stay, and
 * so do stage-2-only entries of the same VMID (SID 4 in VMID 1, SID 6 in
 * VMID 3) and the stage-2 walk caches.  VMID 3: the nested stream's
 * combined entries go (they hold stage-1 information).
 */
static void t_nh_all(void **state)
{
	static const unsigned vmids[] = { 1, 2, 3 };

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		struct world *w = w_main(NULL);
		struct snap s;

		fill_all(w);
		take(w, &s);
		run(w, c_nh_all((uint16_t)vmids[i]));
		assert_true(dropped(w, &s, IMS_ST_PWC_S1) > 0);
		assert_int_equal(dropped(w, &s, IMS_ST_PWC_S2), 0);
		assert_int_equal(dropped(w, &s, IMS_ST_NESTED_TLB), 0);
		assert_int_equal(dropped(w, &s, IMS_ST_CONTEXT), 0);
		assert_int_equal(dropped(w, &s, IMS_ST_PASID), 0);
		expect(w, &s, gone_vmid_s1, &vmids[i]);
		done(w);
	}
}

struct vm_as {
	unsigned vmid, asid;
};

static bool gone_asid_nonglobal(const struct page *p, const void *arg)
{
	const struct vm_as *a = arg;

	return is_s1(p) && vmid_of(p) == a->vmid && asid_of(p) == a->asid && p->va != 0x105000;
}

/*
 * CMD_TLBI_NH_ASID (TLBI ASIDE1): the non-global entries of (VMID, ASID);
 * global leaf entries (nG = 0: the page at 0x105000) stay; the same ASID in
 * another VMID (SID 2: VMID 2, ASID 1) stays; other ASIDs stay.  The walk
 * caches of (VMID, ASID) go: VA 0x100000-0x10ffff, 0x400000 (a block at
 * spec level 2) and 0x600000 are reached through the level-0 and level-1
 * entries and the level-2 entries of 2 MiB regions 0 and 3: 4 entries; the
 * next walk reads all four levels.
 */
static void t_nh_asid(void **state)
{
	struct world *w;
	struct snap s;
	struct vm_as a = { 1, 1 };

	(void)state;
	w = w_main(NULL);
	fill_all(w);
	take(w, &s);
	run(w, c_nh_asid(1, 1));
	assert_int_equal(dropped(w, &s, IMS_ST_PWC_S1), 4);
	assert_int_equal(dropped(w, &s, IMS_ST_PWC_S2), 0);
	expect(w, &s, gone_asid_nonglobal, &a);
	assert_int_equal(n_kind(go(w, 1, 0, 0x10f000), IMS_READ_S1), 0); /* refilled by expect() */
	run(w, c_nh_asid(1, 1));
	assert_int_equal(n_kind(go(w, 1, 0, 0x10e000), IMS_READ_S1), 4);
	done(w);

	/* ASID 1 of VMID 2 (SID 2): the same tables, the other VMID untouched. */
	w = w_main(NULL);
	fill_all(w);
	take(w, &s);
	run(w, c_nh_asid(2, 1));
	a = (struct vm_as){ 2, 1 };
	expect(w, &s, gone_asid_nonglobal, &a);
	done(w);
}

struct at_va {
	unsigned vmid, asid;
	uint64_t va;
	bool any_asid;
};

static bool gone_at_va(const struct page *p, const void *arg)
{
	const struct at_va *a = arg;

	if (!is_s1(p) || vmid_of(p) != a->vmid || p->va != a->va)
		return false;
	return a->any_asid || asid_of(p) == a->asid || p->va == 0x105000;
}

/*
 * CMD_TLBI_NH_VA (TLBI VAE1 / VALE1) at one page: the entry of (VMID, ASID,
 * VA) goes; the same VA in other ASIDs (non-global) and other VMIDs stays.
 * Leaf = 1 keeps the walk caches: the next translation reads only the leaf
 * descriptor.  Leaf = 0 drops the walk-cache entries covering the VA (the
 * level-0, level-1 and level-2 entries on its path: 3): four reads.
 */
static void t_nh_va_leaf(void **state)
{
	(void)state;
	for (int leaf = 1; leaf >= 0; leaf--) {
		struct world *w = w_main(NULL);
		struct at_va a = { 1, 1, 0x103000, false };
		struct snap s;

		fill_all(w);
		take(w, &s);
		run(w, c_nh_va(1, 1, 0x103000, leaf));
		assert_int_equal(dropped(w, &s, IMS_ST_PWC_S1), leaf ? 0 : 3);
		assert_int_equal(n_kind(go(w, 1, 0, 0x103000), IMS_READ_S1), leaf ? 1 : 4);
		/* ASID 2 (SSID 1) still walks from its own walk-cache entries. */
		assert_true(tlb_hit(w, 1, 1, 0x103000));
		/* Page by page, from everything cached again. */
		refill_all(w);
		take(w, &s);
		run(w, c_nh_va(1, 1, 0x103000, leaf));
		expect(w, &s, gone_at_va, &a);
		done(w);
	}
}

/*
 * CMD_TLBI_NH_VA at a global page (TLBI VAE1: "a global entry from the
 * final level of lookup" at the VA goes whatever the ASID given): the
 * global entries at 0x105000 of every ASID of VMID 1 go (SIDs 1 SSIDs
 * 0-2), not VMID 2's.
 */
static void t_nh_va_global(void **state)
{
	struct world *w;
	struct at_va a = { 1, 1, 0x105000, true };
	struct snap s;

	(void)state;
	w = w_main(NULL);
	fill_all(w);
	take(w, &s);
	run(w, c_nh_va(1, 1, 0x105000, 1));
	expect(w, &s, gone_at_va, &a);
	done(w);
}

/*
 * CMD_TLBI_NH_VAA (TLBI VAAE1): the VA in every ASID of the VMID; other
 * VMIDs keep it; other VAs stay.
 */
static void t_nh_vaa(void **state)
{
	struct world *w;
	struct at_va a = { 1, 0, 0x103000, true };
	struct snap s;

	(void)state;
	w = w_main(NULL);
	fill_all(w);
	take(w, &s);
	run(w, c_nh_vaa(1, 0x103000, 0));
	assert_int_equal(dropped(w, &s, IMS_ST_PWC_S1), 3 * 3);
	expect(w, &s, gone_at_va, &a);
	done(w);

	/* VMID 2: only SID 2's entry at the VA. */
	w = w_main(NULL);
	fill_all(w);
	take(w, &s);
	run(w, c_nh_vaa(2, 0x103000, 1));
	a = (struct at_va){ 2, 0, 0x103000, true };
	expect(w, &s, gone_at_va, &a);
	done(w);
}

/*
 * 4.4.1 TTL: with a range (TG = 4K) over 0x400000-0x7fffff (NUM 0, SCALE
 * 10: 1024 pages) of (VMID 1, ASID 1), holding a 2 MiB block (spec level 2)
 * and four 4 KiB pages (level 3).  TTL = 0b00: both go.  TTL = 0b11: the
 * level-3 pages go; TTL = 0b10: the block goes.  Entries at the other
 * level are not required to go; the model keeps them (invalidate.c: "a TTL
 * limits the drop to leaves of that level").  TTL = 0b01 (1 GiB blocks:
 * none here) drops no leaf.
 */
struct ttl_arg {
	unsigned ttl;
};

static bool gone_ttl(const struct page *p, const void *arg)
{
	unsigned ttl = ((const struct ttl_arg *)arg)->ttl;

	if (p->sid != 1 || p->ssid != 0 || p->va < 0x400000)
		return false;
	return ttl == 0 || (ttl == 3 && p->va != 0x400000) || (ttl == 2 && p->va == 0x400000);
}

static void t_nh_va_ttl(void **state)
{
	(void)state;
	for (unsigned ttl = 0; ttl <= 3; ttl++) {
		struct world *w = w_main(NULL);
		struct ttl_arg a = { ttl };
		struct snap s;

		fill_all(w);
		take(w, &s);
		run(w, c_nh_va_range(1, 1, 0x400000, 1, TG_4K, 0, 10, ttl));
		expect(w, &s, gone_ttl, &a);
		done(w);
	}
}

/*
 * 4.4.1 range invalidation, for each granule: a stage-1 stream (SID 8,
 * VMID 5, ASID 7) with 48 pages of the granule from VA 0x10000000 and a
 * second one (SID 9, ASID 8) on the same tables.  CMD_TLBI_NH_VA with TG =
 * the granule, NUM and SCALE drops exactly the (NUM + 1) * 2^SCALE pages
 * from Address (bits below the granule ignored): those walk again, every
 * page around them and every page of ASID 8 hits.
 */
static void t_nh_va_range_tg(void **state)
{
	static const unsigned granules[] = { 12, 14, 16 };
	static const struct {
		unsigned start, num, scale;
	} cases[] = {
		{ 0, 0, 0 }, { 5, 0, 0 }, { 3, 2, 0 }, { 8, 1, 1 }, { 4, 4, 2 }, { 1, 7, 2 },
		{ 40, 0, 3 }, { 16, 31, 0 }, { 0, 2, 4 },
	};
	const uint64_t base = 0x10000000;
	const unsigned npages = 48;

	(void)state;
	for (size_t gi = 0; gi < 3; gi++) {
		unsigned g = granules[gi];
		uint64_t gsz = 1ull << g;
		struct world *w = w_new(all_caches);
		uint64_t root = w_alloc(w, false, g);

		for (unsigned k = 0; k < npages; k++)
			s1_map_g(w, false, root, g, base + k * gsz, OUT + k * gsz, g, D_NG);
		cd_put(&w->f, CDR, cd0(g, 7), root, 0);
		cd_put(&w->f, CDR + 64, cd0(g, 8), root, 0);
		ste_put(&w->f, 8, STE0_V | STE0_CONFIG(5) | CDR, 0, STE2_S2VMID(5), 0);
		ste_put(&w->f, 9, STE0_V | STE0_CONFIG(5) | (CDR + 64), 0, STE2_S2VMID(5), 0);

		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			unsigned first = cases[i].start;
			unsigned last = first + ((cases[i].num + 1) << cases[i].scale) - 1;
			/* A sub-granule offset in Address (none possible below 4 KiB). */
			uint64_t addr = base + first * gsz + (gsz > 0x1000 ? gsz / 2 : 0);
			int leaf = (int)(i & 1);
			struct snap s;

			assert_true(last < npages);
			ims_iommu_reset_caches(w->f.io);
			for (unsigned k = 0; k < npages; k++) {
				struct ims_result *r = go(w, 8, 0, base + k * gsz + 0x10);

				assert_int_equal(r->page_lg2, g);
				assert_int_equal(r->out_addr, OUT + k * gsz + 0x10);
				go(w, 9, 0, base + k * gsz);
			}
			take(w, &s);
			run(w, c_nh_va_range(5, 7, addr, leaf, (unsigned)(g == 12 ? TG_4K
							       : g == 14 ? TG_16K : TG_64K),
					     cases[i].num, cases[i].scale, 0));
			assert_int_equal(dropped(w, &s, IMS_ST_IOTLB), last - first + 1);
			for (unsigned k = 0; k < npages; k++) {
				bool g_in = k >= first && k <= last;

				if (tlb_hit(w, 8, 0, base + k * gsz) == g_in)
					fail_msg("granule 2^%u NUM %u SCALE %u from page %u: page %u %s",
						 g, cases[i].num, cases[i].scale, first, k,
						 g_in ? "should have been dropped"
						      : "should have stayed");
				if (!tlb_hit(w, 9, 0, base + k * gsz))
					fail_msg("granule 2^%u: ASID 8 page %u dropped", g, k);
			}
		}
		done(w);
	}
}

/* ================================================================== */
/* Stage-2 TLB invalidation                                            */
/* ================================================================== */

struct ipa_arg {
	unsigned vmid;
	uint64_t ipa;
};

static bool gone_ipa(const struct page *p, const void *arg)
{
	const struct ipa_arg *a = arg;

	if (vmid_of(p) != a->vmid)
		return false;
	if (p->sid == 4 || p->sid == 6)
		return p->va == a->ipa;
	/* SID 5 maps VA 0x100000 + i * 4K to IPA 0x80000 + i * 4K. */
	return p->sid == 5 && p->va - 0x100000 + 0x80000 == a->ipa;
}

/*
 * CMD_TLBI_S2_IPA (TLBI IPAS2E1) of VMID 3 at IPA 0x82000: the stage-2
 * entry of SID 6 at that IPA goes; SID 4 (VMID 1) keeps the same IPA.  The
 * nested stream's combined entry whose IPA is 0x82000 (VA 0x102000) goes
 * too: the spec does not require that (software follows with
 * CMD_TLBI_NH_ALL or CMD_TLBI_S12_VMALL) but allows it, and the model does
 * it (docs/caches.md: "a stage-2 range drops nested entries by their IPA").
 * Leaf = 1 keeps the stage-2 walk caches: SID 6's next walk of the IPA
 * reads only the leaf; Leaf = 0 drops the three stage-2 walk-cache
 * entries of VMID 3 covering it (levels 0-2): four reads.
 */
static void t_s2_ipa(void **state)
{
	(void)state;
	for (int leaf = 1; leaf >= 0; leaf--) {
		struct world *w = w_main(NULL);
		struct ipa_arg a = { 3, 0x82000 };
		struct snap s;

		fill_all(w);
		take(w, &s);
		run(w, c_s2_ipa(3, 0x82000, leaf));
		assert_int_equal(dropped(w, &s, IMS_ST_PWC_S2), leaf ? 0 : 3);
		assert_int_equal(dropped(w, &s, IMS_ST_PWC_S1), 0);
		assert_int_equal(dropped(w, &s, IMS_ST_NESTED_TLB), 0);
		assert_int_equal(n_kind(go(w, 6, 0, 0x82000), IMS_READ_S2), leaf ? 1 : 4);
		refill_all(w);
		take(w, &s);
		run(w, c_s2_ipa(3, 0x82000, leaf));
		expect(w, &s, gone_ipa, &a);
		done(w);
	}
}

/*
 * CMD_TLBI_S2_IPA over the IPA page holding the nested stream's last-level
 * stage-1 table: the stage-2 translation of that table page (a nested-TLB
 * entry: a stage-2 leaf, so it goes even with Leaf = 1) goes.  With Leaf =
 * 0 the stage-1 walk-cache entry pointing at that table (it holds the
 * table's host-physical address) goes too, as the model's rule says.  No
 * IOTLB entry has that IPA.
 */
static void t_s2_ipa_table(void **state)
{
	(void)state;
	for (int leaf = 1; leaf >= 0; leaf--) {
		struct world *w = w_main(NULL);
		uint64_t l1, l2, l3;
		struct snap s;

		fill_all(w);
		/* n_root -> level-1 table -> level-2 table -> level-3 table (IPAs). */
		l1 = rd(&w->f, GUEST + w->n_root) & 0xfffffffff000ull;
		l2 = rd(&w->f, GUEST + l1) & 0xfffffffff000ull;
		l3 = rd(&w->f, GUEST + l2) & 0xfffffffff000ull;
		take(w, &s);
		run(w, c_s2_ipa(3, l3, leaf));
		assert_int_equal(dropped(w, &s, IMS_ST_NESTED_TLB), 1);
		assert_int_equal(dropped(w, &s, IMS_ST_IOTLB), 0);
		if (!leaf)
			assert_int_equal(dropped(w, &s, IMS_ST_PWC_S1), 1);
		/* QUESTION: with Leaf = 1 the model keeps that stage-1 walk-cache entry
		 * (pwc_match ignores every walk cache under LEAF), though it caches the
		 * stage-2 leaf's output just as the nested TLB does; software must
		 * follow with CMD_TLBI_NH_ALL / S12_VMALL anyway. */
		done(w);
	}
}

static bool gone_vmid(const struct page *p, const void *arg)
{
	return vmid_of(p) == *(const unsigned *)arg;
}

/*
 * CMD_TLBI_S12_VMALL (TLBI VMALLS12E1) of VMID 3: both stages, every
 * entry of the VMID (SIDs 5 and 6), every walk-cache and nested-TLB entry
 * of VMID 3; VMIDs 1 and 2 keep everything, stage 2 of VMID 1 (SID 4)
 * included.
 */
static void t_s12_vmall(void **state)
{
	struct world *w;
	struct snap s;
	unsigned v = 3;
	struct ims_result *r;

	(void)state;
	w = w_main(NULL);
	fill_all(w);
	take(w, &s);
	run(w, c_s12_vmall(3));
	/* Every nested-TLB entry belongs to VMID 3. */
	assert_int_equal(dropped(w, &s, IMS_ST_NESTED_TLB), s.fills[IMS_ST_NESTED_TLB]);
	assert_true(dropped(w, &s, IMS_ST_PWC_S2) > 0);
	assert_true(dropped(w, &s, IMS_ST_PWC_S1) > 0);
	expect(w, &s, gone_vmid, &v);
	/* SID 4 (VMID 1) walks stage 2 from its walk caches: one read for a new IPA. */
	r = go(w, 4, 0, 0x90000);
	assert_int_equal(n_kind(r, IMS_READ_S2), 1);
	/*
	 * Nothing of VMID 3's stage 2 survives anywhere: after CMD_CFGI_ALL the
	 * nested stream's CD address (the first thing walked after the STE) is
	 * walked through stage 2 from the root: four reads before the CD read.
	 */
	run(w, c_cfgi_ste_range(0, 31));
	run(w, c_s12_vmall(3));
	r = go(w, 5, 0, 0x107000);
	assert_false(r->iotlb_hit);
	{
		unsigned nconf = 0, before_cd = 0;

		for (unsigned i = 0; i < r->nreads && nconf < 2; i++) {
			nconf += r->reads[i].kind == IMS_READ_CONFIG;
			before_cd += nconf == 1 && r->reads[i].kind == IMS_READ_S2_FOR_TABLE;
		}
		assert_int_equal(nconf, 2);
		assert_int_equal(before_cd, 4);
	}
	done(w);
}

/*
 * VMIDs keep stage 2 apart (5.2 S2VMID tags every stage-2 cached entry):
 * SID 7 is a stage-2-only stream of VMID 0 whose own stage 2 maps IPA
 * 0x90000 to PA 0xa00000.  Walking the nested stream (VMID 3, stage 2 the
 * smmu_test.h window mapping IPA 0x90000 to GUEST + 0x90000), its CD
 * address included, must leave nothing SID 7 can use.
 */
static void t_vmid_isolation(void **state)
{
	struct world *w;
	struct ims_result *r;
	uint64_t t0, t1, t2, t3;

	(void)state;
	w = w_main(NULL);
	t0 = w_alloc(w, false, 12);
	t1 = w_alloc(w, false, 12);
	t2 = w_alloc(w, false, 12);
	t3 = w_alloc(w, false, 12);
	wr(&w->f, t0, D_TABLE(t1));
	wr(&w->f, t1, D_TABLE(t2));
	wr(&w->f, t2, D_TABLE(t3));
	wr(&w->f, t3 + 8 * 0x90, D_S2_PAGE_RW(0xa00000));
	ste_put(&w->f, 7, STE0_V | STE0_CONFIG(6), 0, STE2_GOOD(0), t0);
	go(w, 5, 0, 0x100000);
	r = go(w, 7, 0, 0x90010);
	assert_int_equal(r->domain, 0);
	assert_int_equal(r->out_addr, 0xa00010);
	assert_int_equal(n_kind(r, IMS_READ_S2), 4);
	done(w);
}

/* CMD_TLBI_NSNH_ALL: every IOTLB and walk-cache entry; the STE and CD caches stay. */
static void t_nsnh_all(void **state)
{
	struct world *w;
	struct snap s;

	(void)state;
	w = w_main(NULL);
	fill_all(w);
	take(w, &s);
	run(w, c_nsnh_all());
	assert_int_equal(dropped(w, &s, IMS_ST_IOTLB), NPAGES);
	for (int id = IMS_ST_PWC_S1; id <= IMS_ST_NESTED_TLB; id++)
		assert_int_equal(dropped(w, &s, id), s.fills[id]);
	assert_int_equal(dropped(w, &s, IMS_ST_CONTEXT), 0);
	assert_int_equal(dropped(w, &s, IMS_ST_PASID), 0);
	/* Nothing changed in memory: every drop was needless. */
	for (int id = 0; id < IMS_ST__COUNT; id++)
		assert_int_equal(needless(w, &s, id), dropped(w, &s, id));
	{
		struct page p[NPAGES];
		unsigned n = main_pages(p);

		for (unsigned i = 0; i < n; i++)
			assert_false(tlb_hit(w, p[i].sid, p[i].ssid, p[i].va));
	}
	done(w);
}

/* ================================================================== */
/* CMD_SYNC and costs                                                  */
/* ================================================================== */

/*
 * Each command costs inv_command; a CMD_SYNC adds inv_sync (docs/caches.md)
 * and counts as a sync.  A CMD_SYNC with CS = SIG_IRQ on an SMMU with MSIs
 * writes MSIData to MSIAddr (4.7).  Several commands, one CMDQ_PROD write.
 */
static void t_sync_cost(void **state)
{
	struct world *w;
	struct snap s;
	const struct ims_stats *st;
	uint32_t v = 0;

	(void)state;
	w = w_main(NULL);
	fill_all(w);
	st = ims_iommu_stats(w->f.io);
	take(w, &s);
	cmd_put(w, c_nh_va(1, 1, 0x103000, 1));
	cmd_put(w, c_nh_va(1, 1, 0x104000, 1));
	cmd_put(w, c_cfgi_ste(2, 1));
	kick(w);
	assert_int_equal(st->invalidations - s.s.invalidations, 3);
	assert_int_equal(st->syncs - s.s.syncs, 0);
	assert_int_equal(st->inv_cycles - s.s.inv_cycles, 3 * INV_COMMAND);
	assert_int_equal(dropped(w, &s, IMS_ST_IOTLB), 2);

	take(w, &s);
	cmd_put(w, c_sync(0, 0, 0));
	kick(w);
	assert_int_equal(st->invalidations - s.s.invalidations, 1);
	assert_int_equal(st->syncs - s.s.syncs, 1);
	assert_int_equal(st->inv_cycles - s.s.inv_cycles, INV_COMMAND + INV_SYNC);
	for (int id = 0; id < IMS_ST__COUNT; id++)
		assert_int_equal(dropped(w, &s, id), 0);

	/* TLBI + SYNC(SIG_IRQ, MSI) in one go: 2 commands, 1 sync, the MSI written. */
	take(w, &s);
	cmd_put(w, c_nh_all(1));
	cmd_put(w, c_sync(1, 0xc0ffee11, 0x1b0004));
	kick(w);
	assert_int_equal(st->invalidations - s.s.invalidations, 2);
	assert_int_equal(st->syncs - s.s.syncs, 1);
	assert_int_equal(st->inv_cycles - s.s.inv_cycles, 2 * INV_COMMAND + INV_SYNC);
	assert_int_equal(ims_mem_read(w->f.mem, 0x1b0004, &v, 4), IMS_MEM_OK);
	assert_int_equal(v, 0xc0ffee11);
	assert_int_equal(smmu_cmds_applied(w->f.io), 3 + 1 + 2);
	done(w);
}

/* ================================================================== */
/* Needless invalidation                                               */
/* ================================================================== */

/*
 * An entry dropped while memory still holds what it cached is counted as
 * needless (invalidate.c); after software edited the descriptor it is not.
 * Checked for an IOTLB entry, walk-cache entries, an STE with its CDs, a CD
 * and the nested stream's CD (read through stage 2: its memory is the PA
 * stage 2 gives, not the IPA).
 */
static void t_needless(void **state)
{
	struct world *w;
	struct snap s;
	struct ims_result *r;

	(void)state;
	w = w_main(NULL);
	fill_all(w);

	/* IOTLB: unchanged leaf -> needless. */
	take(w, &s);
	run(w, c_nh_va(1, 1, 0x103000, 1));
	assert_int_equal(dropped(w, &s, IMS_ST_IOTLB), 1);
	assert_int_equal(needless(w, &s, IMS_ST_IOTLB), 1);
	/* Refill, then remap the page in memory: the drop is needed; the new output is used. */
	go(w, 1, 0, 0x103000);
	wr(&w->f, w->leaf_103, D_S1_PAGE_RW_EL0(OUT + 0x777000) | D_NG);
	take(w, &s);
	run(w, c_nh_va(1, 1, 0x103000, 1));
	assert_int_equal(dropped(w, &s, IMS_ST_IOTLB), 1);
	assert_int_equal(needless(w, &s, IMS_ST_IOTLB), 0);
	r = go(w, 1, 0, 0x103008);
	assert_false(r->iotlb_hit);
	assert_int_equal(r->out_addr, OUT + 0x777008);
	/* The stale entries of the other ASIDs are still needed drops. */
	take(w, &s);
	run(w, c_nh_vaa(1, 0x103000, 1));
	assert_int_equal(dropped(w, &s, IMS_ST_IOTLB), 3);
	assert_int_equal(needless(w, &s, IMS_ST_IOTLB), 1); /* ASID 1's, refilled just now */

	/* Walk caches: Leaf = 0 over unchanged tables -> all needless. */
	go(w, 1, 0, 0x100000);
	take(w, &s);
	run(w, c_nh_va(1, 1, 0x100000, 0));
	assert_int_equal(dropped(w, &s, IMS_ST_PWC_S1), 3);
	assert_int_equal(needless(w, &s, IMS_ST_PWC_S1), 3);

	/* STE and its CDs, unchanged: all needless. */
	fill_config(w);
	take(w, &s);
	run(w, c_cfgi_ste(1, 1));
	assert_int_equal(dropped(w, &s, IMS_ST_CONTEXT), 1);
	assert_int_equal(needless(w, &s, IMS_ST_CONTEXT), 1);
	assert_int_equal(dropped(w, &s, IMS_ST_PASID), 3);
	assert_int_equal(needless(w, &s, IMS_ST_PASID), 3);

	/* Edit CD 1 of SID 1 (ASID 2 -> 0x22): its drop is needed, and the new ASID applies. */
	fill_config(w);
	wr(&w->f, CDT1 + 64, cd0(12, 0x22));
	take(w, &s);
	run(w, c_cfgi_cd(1, 1, 1));
	assert_int_equal(dropped(w, &s, IMS_ST_PASID), 1);
	assert_int_equal(needless(w, &s, IMS_ST_PASID), 0);
	assert_int_equal(go(w, 1, 1, 0x100000)->pasid, 0x22);

	/* Edit SID 2's STE (VMID 2 -> 12): needed; the new VMID tags what follows. */
	ste_put(&w->f, 2, STE0_V | STE0_CONFIG(5) | CD2, 0, STE2_S2VMID(12), 0);
	take(w, &s);
	run(w, c_cfgi_ste(2, 1));
	assert_int_equal(dropped(w, &s, IMS_ST_CONTEXT), 1);
	assert_int_equal(needless(w, &s, IMS_ST_CONTEXT), 0);
	assert_int_equal(needless(w, &s, IMS_ST_PASID), 1); /* its CD did not change */
	assert_int_equal(go(w, 2, 0, 0x100000)->domain, 12);

	/* The nested stream's CD, unchanged: needless; edited in guest memory: needed. */
	take(w, &s);
	run(w, c_cfgi_cd(5, 0, 1));
	assert_int_equal(dropped(w, &s, IMS_ST_PASID), 1);
	assert_int_equal(needless(w, &s, IMS_ST_PASID), 1);
	go(w, 5, 0, 0x100000);
	wr(&w->f, GUEST + N_CDIPA, cd0(12, 10));
	take(w, &s);
	run(w, c_cfgi_cd(5, 0, 1));
	assert_int_equal(dropped(w, &s, IMS_ST_PASID), 1);
	assert_int_equal(needless(w, &s, IMS_ST_PASID), 0);
	assert_int_equal(go(w, 5, 0, 0x100000)->pasid, 10);
	done(w);
}

/*
 * A stage-2 page the SMMU may make writable itself (DBM = 1 with STE.S2HA
 * and S2HD, IHI 0070 3.13) is compared as it will look once dirtied: S2AP
 * bit [7] set.  Dropping it while memory is unchanged is needless, so the
 * check must apply the stage-2 rule as the fill did, not the stage-1 one
 * (for stage 1 the same DBM update clears AP[2], bit [7]).
 */
static void t_needless_s2_dbm(void **state)
{
	struct world *w;
	struct snap s;

	(void)state;
	w = w_main(NULL);
	ste_put(&w->f, 4, STE0_V | STE0_CONFIG(6), 0, STE2_GOOD(1) | STE2_S2HA | STE2_S2HD,
		S2ROOT);
	wr(&w->f, S2ROOT + 0x3000 + 8 * 0x85,
	   (D_S2_PAGE_RW(GUEST + 0x85000) & ~(1ull << 7)) | (1ull << 51)); /* S2AP 01, DBM */
	go(w, 4, 0, 0x85000);
	take(w, &s);
	run(w, c_s2_ipa(1, 0x85000, 1));
	assert_int_equal(dropped(w, &s, IMS_ST_IOTLB), 1);
	assert_int_equal(needless(w, &s, IMS_ST_IOTLB), 1);
	done(w);
}

/*
 * The same command applied through ims_invalidate() directly, after
 * decoding its raw words: struct ims_inv_result tells per structure.
 */
static void t_inv_result(void **state)
{
	struct world *w;
	struct ims_inv inv;
	struct ims_inv_result res;
	uint32_t err = ~0u;
	struct cmd c = c_nh_asid(1, 2);
	uint64_t words[2] = { c.w0, c.w1 };

	(void)state;
	w = w_main(NULL);
	fill_all(w);
	assert_int_equal(ims_decode_inv(w->f.io, words, 2, &inv, &err), 0);
	assert_int_equal(err, 0);
	assert_int_equal(ims_invalidate(w->f.io, &inv, &res), 0);
	/* ASID 2 (SID 1 SSID 1): 21 pages less the global one; 4 walk-cache entries. */
	assert_int_equal(res.dropped[IMS_ST_IOTLB], 20);
	assert_int_equal(res.needless[IMS_ST_IOTLB], 20);
	assert_int_equal(res.dropped[IMS_ST_PWC_S1], 4);
	assert_int_equal(res.dropped[IMS_ST_PWC_S2], 0);
	assert_int_equal(res.dropped[IMS_ST_CONTEXT], 0);
	assert_int_equal(res.cycles, INV_COMMAND);
	done(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(t_config_cache_hits, teardown),
		cmocka_unit_test_teardown(t_cfgi_ste, teardown),
		cmocka_unit_test_teardown(t_cfgi_ste_range, teardown),
		cmocka_unit_test_teardown(t_cfgi_cd, teardown),
		cmocka_unit_test_teardown(t_nh_all, teardown),
		cmocka_unit_test_teardown(t_nh_asid, teardown),
		cmocka_unit_test_teardown(t_nh_va_leaf, teardown),
		cmocka_unit_test_teardown(t_nh_va_global, teardown),
		cmocka_unit_test_teardown(t_nh_vaa, teardown),
		cmocka_unit_test_teardown(t_nh_va_ttl, teardown),
		cmocka_unit_test_teardown(t_nh_va_range_tg, teardown),
		cmocka_unit_test_teardown(t_s2_ipa, teardown),
		cmocka_unit_test_teardown(t_s2_ipa_table, teardown),
		cmocka_unit_test_teardown(t_s12_vmall, teardown),
		cmocka_unit_test_teardown(t_vmid_isolation, teardown),
		cmocka_unit_test_teardown(t_nsnh_all, teardown),
		cmocka_unit_test_teardown(t_sync_cost, teardown),
		cmocka_unit_test_teardown(t_needless, teardown),
		cmocka_unit_test_teardown(t_needless_s2_dbm, teardown),
		cmocka_unit_test_teardown(t_inv_result, teardown),
	};

	return cmocka_run_group_tests_name("smmuv3-caches", tests, NULL, NULL);
}
