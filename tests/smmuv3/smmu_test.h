/*
 * smmu_test.h - shared set-up for the SMMUv3 unit tests (header only).
 *
 * Every structure the tests give the SMMU (STEs, CDs, L1 descriptors,
 * VMSAv8-64 descriptors, register values) is built here from the bit
 * positions of Arm IHI 0070 chapters 5-7 and the Arm ARM D8 with plain
 * shifts, never from the simulator's masks, so a wrong mask in the code
 * cannot hide behind the same wrong mask in a test.  Expected results come
 * from the spec, not from earlier output.
 *
 * Memory map of a test instance (all simulator RAM, 0 - 16 MiB):
 *   0x100000  linear stream table (LOG2SIZE 8) or the L1 table (2-level)
 *   0x120000  L2 stream tables
 *   0x180000  event queue (LOG2SIZE from the test, 32 bytes a record)
 *   0x200000  stage-2 tables: IPA [0, 2 MiB) -> PA 0x400000 + IPA, 4K pages
 *   0x300000  stage-1 tables and CDs for stage-1-only streams (PA)
 *   0x400000  "guest" memory: IPA x is PA 0x400000 + x
 */
#ifndef SMMU_TEST_H
#define SMMU_TEST_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>

#include <cmocka.h>

#include <iommusim/iommusim.h>
#include <iommusim/smmuv3.h>

/* ---- Registers (6.3) ---- */
#define CR0_SMMUEN (1u << 0)
#define CR0_EVENTQEN (1u << 2)
#define CR0_CMDQEN (1u << 3)
#define GBPA_ABORT (1u << 20)
#define GBPA_UPDATE (1u << 31)
#define STRTAB_CFG(fmt, split, log2size) \
	(((uint64_t)(fmt) << 16) | ((uint64_t)(split) << 6) | (uint64_t)(log2size))
#define Q_BASE(addr, log2size) ((uint64_t)(addr) | (uint64_t)(log2size))
#define EVTQ_OVFLG (1u << 31)

/* ---- STE (5.2) ---- */
#define STE0_V (1ull << 0)
#define STE0_CONFIG(c) ((uint64_t)(c) << 1)
#define STE0_S1FMT(f) ((uint64_t)(f) << 4)
#define STE0_S1CDMAX(n) ((uint64_t)(n) << 59)
#define STE1_S1DSS(d) ((uint64_t)(d) << 0)
#define STE1_S1STALLD (1ull << 27)
#define STE1_EATS(e) ((uint64_t)(e) << 28)
#define STE1_STRW(s) ((uint64_t)(s) << 30)
#define STE2_S2VMID(v) ((uint64_t)(v) << 0)
#define STE2_S2T0SZ(t) ((uint64_t)(t) << 32)
#define STE2_S2SL0(s) ((uint64_t)(s) << 38)
#define STE2_S2TG(g) ((uint64_t)(g) << 46)
#define STE2_S2PS(p) ((uint64_t)(p) << 48)
#define STE2_S2AA64 (1ull << 51)
#define STE2_S2ENDI (1ull << 52)
#define STE2_S2AFFD (1ull << 53)
#define STE2_S2HD (1ull << 55)
#define STE2_S2HA (1ull << 56)
#define STE2_S2S (1ull << 57)
#define STE2_S2R (1ull << 58)

/* ---- L1STD (5.1), L1CD (5.3) ---- */
#define L1STD(l2ptr, span) ((uint64_t)(l2ptr) | (uint64_t)(span))
#define L1CD(l2ptr) ((uint64_t)(l2ptr) | 1u)

/* ---- CD (5.4) ---- */
#define CD0_T0SZ(t) ((uint64_t)(t) << 0)
#define CD0_TG0(g) ((uint64_t)(g) << 6)
#define CD0_EPD0 (1ull << 14)
#define CD0_ENDI (1ull << 15)
#define CD0_T1SZ(t) ((uint64_t)(t) << 16)
#define CD0_TG1(g) ((uint64_t)(g) << 22)
#define CD0_EPD1 (1ull << 30)
#define CD0_V (1ull << 31)
#define CD0_IPS(p) ((uint64_t)(p) << 32)
#define CD0_AFFD (1ull << 35)
#define CD0_TBI0 (1ull << 38)
#define CD0_AA64 (1ull << 41)
#define CD0_HD (1ull << 42)
#define CD0_HA (1ull << 43)
#define CD0_S (1ull << 44)
#define CD0_R (1ull << 45)
#define CD0_A (1ull << 46)
#define CD0_ASID(a) ((uint64_t)(a) << 48)
/* A valid AArch64 CD: 48-bit VA, 4K granule (TG0 00), IPS 48 bits, TTB1 off, R, A. */
#define CD0_GOOD (CD0_T0SZ(16) | CD0_TG0(0) | CD0_EPD1 | CD0_V | CD0_IPS(5) | CD0_AA64 | \
		  CD0_R | CD0_A)

/* ---- VMSAv8-64 descriptors (Arm ARM D8.3) ---- */
#define D_TABLE(a) ((uint64_t)(a) | 3u)             /* [1:0] = 0b11 at levels 0-2 */
#define D_AF (1ull << 10)
#define D_S1_PAGE_RW_EL0(a) ((uint64_t)(a) | 3u | D_AF | (1ull << 6)) /* AP[2:1] = 01 */
#define D_S1_PAGE_RO_EL0(a) ((uint64_t)(a) | 3u | D_AF | (3ull << 6)) /* AP[2:1] = 11 */
#define D_S2_PAGE_RW(a) ((uint64_t)(a) | 3u | D_AF | (3ull << 6))     /* S2AP = 11 */

/* Event types (7.3) as raw numbers. */
enum {
	EV_C_BAD_STREAMID = 0x02, EV_F_STE_FETCH = 0x03, EV_C_BAD_STE = 0x04,
	EV_F_STREAM_DISABLED = 0x06, EV_C_BAD_SUBSTREAMID = 0x08, EV_F_CD_FETCH = 0x09,
	EV_C_BAD_CD = 0x0a, EV_F_WALK_EABT = 0x0b, EV_F_TRANSLATION = 0x10,
	EV_F_ADDR_SIZE = 0x11, EV_F_ACCESS = 0x12, EV_F_PERMISSION = 0x13,
};

#define STRTAB 0x100000ull
#define L2STRTAB 0x120000ull
#define EVTQ 0x180000ull
#define S2ROOT 0x200000ull
#define S1AREA 0x300000ull
#define GUEST 0x400000ull

/* The default model: SMMUv3.2, both stages, HTTU 2, ATS, 2-level tables. */
#define IDR0_DEFAULT \
	"{\"S2P\":1,\"S1P\":1,\"TTF\":2,\"COHACC\":1,\"HTTU\":2,\"HYP\":1,\"ATS\":1," \
	"\"ASID16\":1,\"VMID16\":1,\"CD2L\":1,\"TTENDIAN\":2,\"STALL_MODEL\":1," \
	"\"TERM_MODEL\":1,\"ST_LEVEL\":1}"
#define IDR1_DEFAULT "{\"SIDSIZE\":16,\"SSIDSIZE\":20,\"EVENTQS\":19,\"CMDQS\":19}"
#define IDR5_DEFAULT "{\"OAS\":5,\"GRAN4K\":1,\"GRAN16K\":1,\"GRAN64K\":1}"

struct fx {
	struct ims_model *model;
	struct ims_iommu *io;
	struct ims_mem *mem;
	char err[512];
};

/* Build an instance from the three register objects; NULL means the default. */
static inline int fx_try(struct fx *f, const char *idr0, const char *idr1, const char *idr5,
			 const char *extra)
{
	char text[2048];
	int rc;

	memset(f, 0, sizeof(*f));
	snprintf(text, sizeof(text),
		 "{\"arch\":\"smmuv3\",\"haw\":48,\"smmuv3\":{\"idr0\":%s,\"idr1\":%s,"
		 "\"idr5\":%s,\"aidr\":{\"ArchMinorRev\":2}%s%s}}",
		 idr0 ? idr0 : IDR0_DEFAULT, idr1 ? idr1 : IDR1_DEFAULT,
		 idr5 ? idr5 : IDR5_DEFAULT, extra ? "," : "", extra ? extra : "");
	rc = ims_model_parse(text, "test-model", &f->model, f->err, sizeof(f->err));
	if (rc)
		return rc;
	f->io = ims_iommu_new(f->model, f->err, sizeof(f->err));
	if (!f->io) {
		ims_model_free(f->model);
		f->model = NULL;
		return -EINVAL;
	}
	f->mem = ims_iommu_mem(f->io);
	return 0;
}

static inline void fx_free(struct fx *f)
{
	ims_iommu_free(f->io);
	ims_model_free(f->model);
}

static inline void wr(struct fx *f, uint64_t pa, uint64_t v)
{
	assert_int_equal(ims_mem_write64(f->mem, pa, v), IMS_MEM_OK);
}

static inline uint64_t rd(struct fx *f, uint64_t pa)
{
	uint64_t v = 0;

	assert_int_equal(ims_mem_read64(f->mem, pa, &v), IMS_MEM_OK);
	return v;
}

static inline void reg(struct fx *f, const char *name, uint64_t v)
{
	assert_int_equal(ims_iommu_set_reg(f->io, name, v), 0);
}

static inline void write_words(struct fx *f, uint64_t pa, const uint64_t *w, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		wr(f, pa + 8 * i, w[i]);
}

/*
 * Stage 2: IPA [0, 2 MiB) -> PA GUEST + IPA with 4K pages, 4 levels
 * (S2T0SZ 16, S2SL0 2, start level 0): tables at S2ROOT + 0/0x1000/0x2000,
 * the level-3 table at S2ROOT + 0x3000.
 */
static inline void s2_map_window(struct fx *f)
{
	wr(f, S2ROOT, D_TABLE(S2ROOT + 0x1000));
	wr(f, S2ROOT + 0x1000, D_TABLE(S2ROOT + 0x2000));
	wr(f, S2ROOT + 0x2000, D_TABLE(S2ROOT + 0x3000));
	for (uint64_t i = 0; i < 512; i++)
		wr(f, S2ROOT + 0x3000 + 8 * i, D_S2_PAGE_RW(GUEST + (i << 12)));
}

/* STE words 2 and 3 for that stage 2, with VMID and S2R. */
#define STE2_GOOD(vmid) \
	(STE2_S2VMID(vmid) | STE2_S2T0SZ(16) | STE2_S2SL0(2) | STE2_S2TG(0) | STE2_S2PS(5) | \
	 STE2_S2AA64 | STE2_S2R)

/*
 * Stage 1, 4 levels of 4K tables at `tables` (as the walker addresses them:
 * PA, or IPA when `nested`), mapping VA `va` to `out`.  The tables occupy
 * tables + 0x0000 (level 0) to + 0x3000 (level 3).
 */
static inline void s1_map(struct fx *f, uint64_t tables, bool nested, uint64_t va, uint64_t out,
			  uint64_t leaf)
{
	uint64_t base = nested ? GUEST : 0;

	for (unsigned lvl = 0; lvl < 3; lvl++) {
		unsigned shift = 39 - 9 * lvl;

		wr(f, base + tables + 0x1000 * lvl + 8 * ((va >> shift) & 511),
		   D_TABLE(tables + 0x1000 * (lvl + 1)));
	}
	wr(f, base + tables + 0x3000 + 8 * ((va >> 12) & 511), leaf | out);
}

/* Enable the unit: linear stream table of 2^8 STEs, event queue of 2^lg2 records. */
static inline void fx_enable(struct fx *f, unsigned evtq_lg2)
{
	reg(f, "STRTAB_BASE", STRTAB);
	reg(f, "STRTAB_BASE_CFG", STRTAB_CFG(0, 0, 8));
	reg(f, "EVENTQ_BASE", Q_BASE(EVTQ, evtq_lg2));
	reg(f, "CR0", CR0_SMMUEN | CR0_EVENTQEN);
}

/* A fixture with RAM, both default stages and the unit enabled. */
static inline void fx_std(struct fx *f)
{
	assert_int_equal(fx_try(f, NULL, NULL, NULL, NULL), 0);
	assert_int_equal(ims_mem_add_ram(f->mem, 0, 16u << 20), 0);
	s2_map_window(f);
	fx_enable(f, 5);
}

static inline void ste_put(struct fx *f, uint32_t sid, uint64_t w0, uint64_t w1, uint64_t w2,
			   uint64_t w3)
{
	uint64_t w[8] = { w0, w1, w2, w3, 0, 0, 0, 0 };

	write_words(f, STRTAB + 64ull * sid, w, 8);
}

static inline void cd_put(struct fx *f, uint64_t pa, uint64_t w0, uint64_t ttb0, uint64_t ttb1)
{
	uint64_t w[8] = { w0, ttb0, ttb1, 0, 0, 0, 0, 0 };

	write_words(f, pa, w, 8);
}

static inline struct ims_txn txn_r(uint32_t sid, uint64_t addr)
{
	struct ims_txn t = { .sid = sid, .addr = addr, .size = 4, .access = IMS_ACC_READ };

	return t;
}

static inline struct ims_result *xlate(struct fx *f, struct ims_txn t)
{
	static struct ims_result res;

	memset(&res, 0, sizeof(res));
	assert_int_equal(ims_translate(f->io, &t, &res), 0);
	return &res;
}

/* Pop the next event record; fails the test when there is none. */
static inline void pop(struct fx *f, uint64_t rec[4])
{
	assert_int_equal(smmu_evtq_pop(f->io, rec), 0);
}

static inline void no_event(struct fx *f)
{
	uint64_t rec[4];

	assert_int_equal(smmu_evtq_pop(f->io, rec), -ENOENT);
}

/* Type (7:0) and StreamID (63:32) of word 0. */
#define REC_TYPE(r) ((unsigned)((r)[0] & 0xff))
#define REC_SID(r) ((uint32_t)((r)[0] >> 32))
#define REC_SSV(r) ((unsigned)(((r)[0] >> 11) & 1))
#define REC_SSID(r) ((uint32_t)(((r)[0] >> 12) & 0xfffff))
#define REC_S2(r) ((unsigned)(((r)[1] >> 39) & 1))
#define REC_CLASS(r) ((unsigned)(((r)[1] >> 40) & 3))
#define REC_RNW(r) ((unsigned)(((r)[1] >> 35) & 1))
#define REC_IPA(r) ((r)[3] & 0x000ffffffffff000ull)       /* 51:12 */
#define REC_FETCH(r) ((r)[3] & 0x000ffffffffffff8ull)     /* 51:3 */

/* Expect a fault with event `type`, written to the queue, and pop it. */
static inline void expect_event(struct fx *f, const struct ims_result *res, unsigned type,
				uint64_t rec[4])
{
	assert_false(res->ok);
	assert_int_equal(res->fault.arch_code, type);
	assert_true(res->fault.recorded);
	pop(f, rec);
	assert_int_equal(REC_TYPE(rec), type);
}

#endif
