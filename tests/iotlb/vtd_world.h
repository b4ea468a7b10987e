/*
 * vtd_world.h - a small scalable-mode VT-d machine for the iotlb tests.
 *
 * Everything is written from the raw bit layouts of the VT-d spec (rev 4.x /
 * 5.0) with plain arithmetic; none of the library's encoders or masks are
 * used, so a mistake there cannot hide behind the same mistake here.
 *
 *   9.2  scalable-mode root entry:   bit 0 LP, 63:12 lower context table
 *   9.4  scalable-mode context entry (256 bits): bit 0 P, bit 3 PASIDE,
 *        11:9 PDTS (0: 128 directory entries), 63:12 PASID directory
 *   9.5  PASID directory entry:      bit 0 P, 63:12 PASID table
 *   9.6  PASID table entry (512 bits): bit 0 P, 4:2 AW, 8:6 PGTT
 *        (1 first stage, 2 second stage, 3 nested, 4 pass-through), 63:12
 *        SSPTPTR; 79:64 DID; bit 128 SRE, 131:130 FSPM (0: 4-level),
 *        bit 132 WPE, 191:140 FSPTPTR
 *   9.7  first-stage entry: 0 P, 1 R/W, 2 U/S, 5 A, 6 D, 7 PS, 8 G, 63 XD
 *   9.8  second-stage entry: 0 R, 1 W, 2 X, 7 PS, 8 A, 9 D
 *   11.4.5 RTADDR_REG: 11:10 TTM (01b scalable)
 *
 * Memory (host address width 46; RAM 0-32 MiB):
 *   0x10000 root table, 0x11000 context table (devfn 0-127),
 *   0x12000 PASID directory, 0x13000 PASID table (PASIDs 0-63),
 *   0x400000-0x7fffff page-table pool.  In nested worlds stage 2 maps the
 *   pool GPA = HPA with two 2 MiB leaves, so first-stage tables built in the
 *   pool are reached through stage 2 at the same address.
 * Requests carry a PASID; PASID 0 is also what requests without one use
 * (ECAP.RPS = 0).  The requester is bus 0, so SID = devfn.
 */
#ifndef IOTLB_TEST_VTD_WORLD_H
#define IOTLB_TEST_VTD_WORLD_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <iommusim/cache.h>
#include <iommusim/iommusim.h>

#define W_RAM (32ull << 20)
#define W_ROOT 0x10000ull
#define W_CTX 0x11000ull
#define W_PDIR 0x12000ull
#define W_PTBL 0x13000ull
#define W_POOL 0x400000ull
#define W_POOL_END 0x800000ull

/* First-stage entry bits (9.7). */
#define FS_P (1ull << 0)
#define FS_RW (1ull << 1)
#define FS_US (1ull << 2)
#define FS_A (1ull << 5)
#define FS_D (1ull << 6)
#define FS_PS (1ull << 7)
#define FS_G (1ull << 8)
#define FS_XD (1ull << 63)
/* Second-stage entry bits (9.8). */
#define SS_R (1ull << 0)
#define SS_W (1ull << 1)
#define SS_X (1ull << 2)
#define SS_PS (1ull << 7)
#define SS_A (1ull << 8)
#define SS_D (1ull << 9)
/* Address field of both formats: 51:12. */
#define PT_ADDR 0x000ffffffffff000ull

/* PGTT (9.6). */
enum { PGTT_FS = 1, PGTT_SS = 2, PGTT_NESTED = 3, PGTT_PT = 4 };

/* CAP_REG / ECAP_REG by named raw fields (11.4.2 / 11.4.3): 4-level SS
 * (SAGAW bit 2), 48-bit MGAW, 2M+1G SS pages, PSI with MAMV 18, FS 1G. */
#ifndef W_VTD_SECTION
#define W_VTD_SECTION                                                                   \
	"\"vtd\":{\"cap\":{\"ND\":6,\"SAGAW\":4,\"MGAW\":47,\"SLLPS\":3,\"PSI\":1,"      \
	"\"MAMV\":18,\"FS1GP\":1,\"NFR\":7},"                                           \
	"\"ecap\":{\"QI\":1,\"PT\":1,\"NEST\":1,\"PASID\":1,\"PSS\":19,\"SMTS\":1,"     \
	"\"SSTS\":1,\"FSTS\":1}}"
#endif

struct world {
	struct ims_model *model;
	struct ims_iommu *io;
	struct ims_mem *mem;
	uint64_t next;
	struct ims_result res;
};

static inline void wr(struct world *w, uint64_t pa, uint64_t v)
{
	assert_int_equal(ims_mem_write64(w->mem, pa, v), IMS_MEM_OK);
}

static inline uint64_t rd(struct world *w, uint64_t pa)
{
	uint64_t v = 0;

	assert_int_equal(ims_mem_read64(w->mem, pa, &v), IMS_MEM_OK);
	return v;
}

/*
 * Parse a model with the given "caches" and "timing" sections (JSON object
 * text, or NULL to leave the section out).  Returns the ims_model_parse /
 * ims_iommu_new outcome: 0 and a world, or nonzero with the message in err.
 */
static inline int w_try(struct world **out, const char *caches, const char *timing, char *err,
			size_t errlen)
{
	size_t n = 1024 + (caches ? strlen(caches) : 0) + (timing ? strlen(timing) : 0);
	char *json = malloc(n);
	struct world *w = calloc(1, sizeof(*w));
	int rc;

	assert_non_null(json);
	assert_non_null(w);
	snprintf(json, n, "{\"name\":\"iotlb-test\",\"arch\":\"vtd\",\"haw\":46,%s%s%s%s%s}",
		 W_VTD_SECTION, caches ? ",\"caches\":" : "", caches ? caches : "",
		 timing ? ",\"timing\":" : "", timing ? timing : "");
	rc = ims_model_parse(json, "test-model", &w->model, err, errlen);
	free(json);
	if (rc) {
		free(w);
		return rc;
	}
	w->io = ims_iommu_new(w->model, err, errlen);
	if (!w->io) {
		ims_model_free(w->model);
		free(w);
		return -1;
	}
	w->mem = ims_iommu_mem(w->io);
	assert_int_equal(ims_mem_add_ram(w->mem, 0, W_RAM), 0);
	w->next = W_POOL;
	/* RTADDR: root table with TTM = 01b (scalable); then GCMD.TE = 1. */
	assert_int_equal(ims_iommu_set_reg(w->io, "RTADDR", W_ROOT | (1ull << 10)), 0);
	assert_int_equal(ims_iommu_set_reg(w->io, "TE", 1), 0);
	/* Bus 0 lower half -> context table; PASID directory entry 0 -> table. */
	wr(w, W_ROOT, W_CTX | 1);
	wr(w, W_PDIR, W_PTBL | 1);
	*out = w;
	return 0;
}

static inline struct world *w_new(const char *caches, const char *timing)
{
	struct world *w = NULL;
	char err[512] = "";

	if (w_try(&w, caches, timing, err, sizeof(err)))
		fail_msg("model: %s", err);
	return w;
}

static inline void w_free(struct world *w)
{
	if (!w)
		return;
	ims_iommu_free(w->io);
	ims_model_free(w->model);
	free(w);
}

static inline uint64_t w_page(struct world *w)
{
	uint64_t p = w->next;

	assert_true(p < W_POOL_END);
	w->next += 0x1000;
	for (unsigned i = 0; i < 512; i++)
		wr(w, p + 8 * i, 0);
	return p;
}

/* Context entry for devfn: present, PASID enabled, PDTS 0, directory W_PDIR. */
static inline void w_context(struct world *w, unsigned devfn)
{
	uint64_t pa = W_CTX + 32 * (devfn & 0x7f);

	wr(w, pa, W_PDIR | (1ull << 3) | 1);
	wr(w, pa + 8, 0);
	wr(w, pa + 16, 0);
	wr(w, pa + 24, 0);
}

/* PASID table entry (pasid < 64): AW 2 (4-level SS), SRE set. */
static inline void w_pasid(struct world *w, unsigned pasid, unsigned pgtt, unsigned did,
			   uint64_t fsroot, uint64_t ssroot)
{
	uint64_t pa = W_PTBL + 64 * pasid;

	assert_true(pasid < 64);
	wr(w, pa, ssroot | ((uint64_t)pgtt << 6) | (2ull << 2) | 1);
	wr(w, pa + 8, did);
	wr(w, pa + 16, fsroot | 1 /* SRE */);
	for (unsigned i = 3; i < 8; i++)
		wr(w, pa + 8 * i, 0);
}

/*
 * Map [va, va + 2^lg2) in a 4-level table rooted at root: lg2 12, 21 or 30.
 * Missing tables are allocated from the pool with `tbl` bits; the leaf gets
 * `leaf` bits plus PS above level 0.  Returns the leaf entry's address.
 */
static inline uint64_t w_map(struct world *w, uint64_t root, uint64_t va, uint64_t pa,
			     unsigned lg2, uint64_t tbl, uint64_t leaf, uint64_t ps,
			     uint64_t present)
{
	uint64_t table = root;

	for (int l = 3; l >= 0; l--) {
		unsigned shift = 12 + 9 * (unsigned)l;
		uint64_t ea = table + 8 * ((va >> shift) & 511), e;

		if (shift == lg2) {
			wr(w, ea, pa | leaf | (l ? ps : 0));
			return ea;
		}
		e = rd(w, ea);
		if (!(e & present)) {
			e = w_page(w) | tbl;
			wr(w, ea, e);
		}
		table = e & PT_ADDR;
	}
	fail_msg("bad page size 2^%u", lg2);
	return 0;
}

/* First stage: tables P|RW|US; leaf as given (P added). */
static inline uint64_t fs_map(struct world *w, uint64_t root, uint64_t va, uint64_t pa,
			      unsigned lg2, uint64_t leaf)
{
	return w_map(w, root, va, pa, lg2, FS_P | FS_RW | FS_US, leaf | FS_P, FS_PS, FS_P);
}

/* Second stage: tables R|W; leaf as given. */
static inline uint64_t ss_map(struct world *w, uint64_t root, uint64_t ipa, uint64_t pa,
			      unsigned lg2, uint64_t leaf)
{
	return w_map(w, root, ipa, pa, lg2, SS_R | SS_W, leaf, SS_PS, SS_R | SS_W);
}

/* A stage-2 root that maps the table pool GPA = HPA (for nested worlds). */
static inline uint64_t w_nested_s2(struct world *w)
{
	uint64_t s2 = w_page(w);

	ss_map(w, s2, W_POOL, W_POOL, 21, SS_R | SS_W);
	ss_map(w, s2, W_POOL + 0x200000, W_POOL + 0x200000, 21, SS_R | SS_W);
	return s2;
}

/* Translate one 4-byte access by devfn with PASID; asserts it ran. */
static inline struct ims_result *xl(struct world *w, unsigned devfn, unsigned pasid,
				    uint64_t addr, unsigned access)
{
	struct ims_txn t = { .sid = devfn, .pasid = pasid, .has_pasid = true, .addr = addr,
			     .size = 4, .access = access };

	assert_int_equal(ims_translate(w->io, &t, &w->res), 0);
	return &w->res;
}

/* Memory reads of one kind in a result (IMS_READ_CACHE entries are lookups). */
static inline unsigned n_reads(const struct ims_result *r, int kind)
{
	unsigned n = 0;

	for (unsigned i = 0; i < r->nreads; i++)
		n += (int)r->reads[i].kind == kind;
	return n;
}

static inline unsigned n_mem(const struct ims_result *r)
{
	return r->nreads - n_reads(r, IMS_READ_CACHE);
}

/* The cache lookup records of one structure: count, and hits among them. */
static inline unsigned n_lookups(const struct ims_result *r, enum ims_struct_id id,
				 unsigned *hits)
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

#endif
