/*
 * test_replay.c - replay through the driver models (traces/replay.c).
 *
 * The invalidation stream of each policy is checked for hand-worked
 * map/unmap sequences by reading the descriptors and commands the replay
 * wrote into the queue in memory, decoded here from the spec's bit
 * positions (VT-d 6.5.2.3 / 6.5.2.4 / 6.5.2.8; SMMUv3 IHI 0070 4.4, 4.4.1,
 * 4.7), not with the library's masks.
 *
 * Hand-worked expectations (4 KiB pages, 8 pages mapped at IOVA 0x100000,
 * pfn 0x100):
 *  - unmap pages 4-7 (pfn 0x104-0x107): 4 pages, AM = log2(4) = 2; the base
 *    pfn 0x104 is a multiple of 4, so PSI ADDR = 0x104000, AM = 2.
 *  - unmap pages 2-5 (pfn 0x102-0x105): AM 2 would cover 0x100-0x103 only.
 *    0x102 ^ 0x105 = 0b111; the lowest bit at or above bit 2 where both
 *    agree is bit 3, so AM = 3 at ADDR = 0x100000 (pfns 0x100-0x107): the
 *    shared-bits rule of Linux calculate_psi_aligned_address().
 *  - SMMUv3 with RIL, the same 4 pages 2-5: TG = 1 (4 KiB), pages = 4,
 *    SCALE = ffs(4) = 2, NUM = (4 >> 2) - 1 = 0: (0 + 1) * 2^2 pages =
 *    16 KiB at 0x102000; TTL = 3 (a level-3 4 KiB leaf); Leaf = 1.
 *  - 33 pages with RIL: 33 = 0b100001: first SCALE 0, NUM 0 (one page),
 *    then SCALE 5, NUM 0 (32 pages); the "range" policy instead sends one
 *    command: SCALE 1, NUM 16 (17 * 2 = 34 pages >= 33).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <iommusim/iommusim.h>

#define PG 0x1000ull
#define IOVA 0x100000ull
#define PA 0x40000000ull
#define DEV 0x10u

/* ---- Models ---- */

static const char *vtd_model(char *buf, size_t len, int psi, unsigned mamv)
{
	snprintf(buf, len,
		 "{\"arch\":\"vtd\",\"haw\":46,\"vtd\":{\"cap\":{\"ND\":6,\"SAGAW\":4,"
		 "\"MGAW\":47,\"SLLPS\":3,\"PSI\":%d,\"MAMV\":%u,\"FS1GP\":1,\"NFR\":7},"
		 "\"ecap\":{\"QI\":1,\"PT\":1,\"NEST\":1,\"PASID\":1,\"PSS\":19,\"SMTS\":1,"
		 "\"SSTS\":1,\"FSTS\":1,\"SRS\":1}},"
		 "\"caches\":{\"iotlb\":{\"entries\":64,\"ways\":4}},"
		 "\"timing\":{\"mem_read\":50,\"inv_command\":10,\"inv_sync\":100}}",
		 psi, mamv);
	return buf;
}

static const char *smmu_model(char *buf, size_t len, int ril)
{
	snprintf(buf, len,
		 "{\"arch\":\"smmuv3\",\"haw\":48,\"smmuv3\":{"
		 "\"idr0\":{\"S2P\":1,\"S1P\":1,\"TTF\":2,\"COHACC\":1,\"ASID16\":1,"
		 "\"VMID16\":1,\"CD2L\":1,\"TTENDIAN\":2,\"STALL_MODEL\":1,\"ST_LEVEL\":1,"
		 "\"MSI\":1},"
		 "\"idr1\":{\"SIDSIZE\":16,\"SSIDSIZE\":20,\"EVENTQS\":19,\"CMDQS\":19},"
		 "\"idr3\":{\"RIL\":%d},"
		 "\"idr5\":{\"OAS\":5,\"GRAN4K\":1,\"GRAN16K\":1,\"GRAN64K\":1},"
		 "\"aidr\":{\"ArchMajorRev\":0,\"ArchMinorRev\":2}},"
		 "\"caches\":{\"iotlb\":{\"entries\":64,\"ways\":4},\"context\":{\"entries\":16},"
		 "\"pasid\":{\"entries\":16}},"
		 "\"timing\":{\"mem_read\":50,\"inv_command\":10,\"inv_sync\":100}}",
		 ril);
	return buf;
}

struct fx {
	struct ims_model *m;
	struct ims_iommu *io;
	struct ims_replay *rp;
	bool smmu;
	uint64_t mark; /* queue position before the step under test */
};

static void fx_up(struct fx *f, const char *model, const char *driver)
{
	char err[512] = "";
	struct ims_driver_cfg drv;

	memset(f, 0, sizeof(*f));
	if (ims_model_parse(model, "test", &f->m, err, sizeof(err)))
		fail_msg("model: %s", err);
	f->io = ims_iommu_new(f->m, err, sizeof(err));
	if (!f->io)
		fail_msg("instance: %s", err);
	f->smmu = ims_model_arch(f->m) == IMS_ARCH_SMMUV3;
	if (ims_driver_parse(driver, "test-driver", &drv, err, sizeof(err)))
		fail_msg("driver: %s", err);
	if (ims_replay_new(f->io, &drv, 1, &f->rp, err, sizeof(err)))
		fail_msg("replay: %s", err);
}

static void fx_down(struct fx *f)
{
	ims_replay_free(f->rp);
	ims_iommu_free(f->io);
	ims_model_free(f->m);
}

static void ev(struct fx *f, const struct ims_event *e)
{
	char err[512] = "";

	if (ims_replay_event(f->rp, e, err, sizeof(err)))
		fail_msg("replay event: %s", err);
}

static void attach(struct fx *f, uint32_t dev, uint32_t domain)
{
	struct ims_event e = { .type = IMS_EV_ATTACH, .dev = dev, .domain = domain };

	ev(f, &e);
}

static void map(struct fx *f, uint32_t domain, uint64_t iova, uint64_t pa, uint64_t size)
{
	struct ims_event e = { .type = IMS_EV_MAP, .domain = domain, .iova = iova, .pa = pa,
			       .size = size, .access = IMS_PERM_R | IMS_PERM_W };

	ev(f, &e);
}

static void unmap_at(struct fx *f, uint64_t ts, uint16_t cpu, uint32_t domain, uint64_t iova,
		     uint64_t size)
{
	struct ims_event e = { .ts_ns = ts, .type = IMS_EV_UNMAP, .cpu = cpu, .domain = domain,
			       .iova = iova, .size = size };

	ev(f, &e);
}

static void unmap(struct fx *f, uint32_t domain, uint64_t iova, uint64_t size)
{
	unmap_at(f, 0, 0, domain, iova, size);
}

static void tick(struct fx *f, uint64_t ts)
{
	struct ims_event e = { .ts_ns = ts, .type = IMS_EV_TICK };

	ev(f, &e);
}

/* One 8-byte read DMA by dev at iova: did it translate? */
static bool dma_ok(struct fx *f, uint32_t dev, uint64_t iova)
{
	const struct ims_replay_stats *s = ims_replay_stats(f->rp);
	uint64_t faults = s->dma_faults;
	struct ims_event e = { .type = IMS_EV_DMA, .dev = dev, .iova = iova, .size = 8,
			       .access = IMS_ACC_READ };

	ev(f, &e);
	return s->dma_faults == faults;
}

/* ---- Reading the queue ---- */

static uint64_t reg(struct fx *f, const char *name)
{
	uint64_t v = 0;

	assert_int_equal(ims_iommu_get_reg(f->io, name, &v), 0);
	return v;
}

/* The producer position: VT-d IQT slot, SMMUv3 CMDQ_PROD index. */
static uint64_t qpos(struct fx *f)
{
	return f->smmu ? reg(f, "CMDQ_PROD") & 0xfffff : reg(f, "IQT") >> 5;
}

static void mark(struct fx *f)
{
	f->mark = qpos(f);
}

/* The commands written since mark(); returns how many (words in w[i][0..1]). */
static unsigned since_mark(struct fx *f, uint64_t w[][2], unsigned max)
{
	struct ims_mem *mem = ims_iommu_mem(f->io);
	uint64_t end = qpos(f), base, slots, slot_bytes, span;
	unsigned n = 0;

	if (f->smmu) {
		uint64_t b = reg(f, "CMDQ_BASE");

		base = b & 0x000fffffffffffe0ull;
		slots = 1ull << (b & 0x1f);
		slot_bytes = 16;
		span = slots << 1; /* PROD carries a wrap bit above the index. */
	} else {
		uint64_t iqa = reg(f, "IQA");

		base = iqa & ~0xfffull;
		slot_bytes = 32;
		slots = (0x1000ull << (iqa & 7)) / slot_bytes;
		span = slots;
	}
	end %= span;
	for (uint64_t p = f->mark; p != end; p = (p + 1) % span) {
		uint64_t at = base + (p % slots) * slot_bytes;

		assert_true(n < max);
		ims_mem_read64(mem, at, &w[n][0]);
		ims_mem_read64(mem, at + 8, &w[n][1]);
		n++;
	}
	return n;
}

/* VT-d fields (6.5.2): type 3:0, G 5:4, DID 31:16, PASID 51:32; AM 69:64, IH 70, ADDR 127:76. */
#define VT_TYPE(w) ((unsigned)((w)[0] & 0xf))
#define VT_G(w) ((unsigned)(((w)[0] >> 4) & 3))
#define VT_DID(w) ((unsigned)(((w)[0] >> 16) & 0xffff))
#define VT_PASID(w) ((unsigned)(((w)[0] >> 32) & 0xfffff))
#define VT_AM(w) ((unsigned)((w)[1] & 0x3f))
#define VT_IH(w) ((unsigned)(((w)[1] >> 6) & 1))
#define VT_ADDR(w) ((w)[1] & ~0xfffull)
enum { VT_IOTLB = 2, VT_WAIT = 5, VT_PIOTLB = 6 };

/* SMMUv3 fields (4.4, 4.4.1): op 7:0, NUM 16:12, SCALE 24:20, VMID 47:32, ASID 63:48;
 * Leaf 64, TTL 73:72, TG 75:74, Address 127:76. */
#define SM_OP(w) ((unsigned)((w)[0] & 0xff))
#define SM_NUM(w) ((unsigned)(((w)[0] >> 12) & 0x1f))
#define SM_SCALE(w) ((unsigned)(((w)[0] >> 20) & 0x1f))
#define SM_VMID(w) ((unsigned)(((w)[0] >> 32) & 0xffff))
#define SM_ASID(w) ((unsigned)((w)[0] >> 48))
#define SM_LEAF(w) ((unsigned)((w)[1] & 1))
#define SM_TTL(w) ((unsigned)(((w)[1] >> 8) & 3))
#define SM_TG(w) ((unsigned)(((w)[1] >> 10) & 3))
#define SM_ADDR(w) ((w)[1] & ~0xfffull)
enum {
	SM_NH_ALL = 0x10, SM_NH_ASID = 0x11, SM_NH_VA = 0x12, SM_S12_VMALL = 0x28,
	SM_S2_IPA = 0x2a, SM_NSNH_ALL = 0x30, SM_SYNC = 0x46,
};

static void setup8(struct fx *f, const char *model, const char *driver)
{
	fx_up(f, model, driver);
	attach(f, DEV, 1);
	map(f, 1, IOVA, PA, 8 * PG);
}

/* ---- VT-d ---- */

static void test_vtd_strict_psi_aligned(void **state)
{
	char m[1024];
	uint64_t w[8][2];
	struct fx f;

	(void)state;
	setup8(&f, vtd_model(m, sizeof(m), 1, 18), "{\"policy\":\"strict\",\"stage\":2}");
	mark(&f);
	unmap(&f, 1, IOVA + 4 * PG, 4 * PG);
	assert_int_equal(since_mark(&f, w, 8), 2);
	assert_int_equal(VT_TYPE(w[0]), VT_IOTLB);
	assert_int_equal(VT_G(w[0]), 3); /* page-selective-within-domain */
	assert_int_equal(VT_DID(w[0]), 1);
	assert_int_equal(VT_ADDR(w[0]), IOVA + 4 * PG);
	assert_int_equal(VT_AM(w[0]), 2);
	assert_int_equal(VT_IH(w[0]), 1);
	assert_int_equal(VT_TYPE(w[1]), VT_WAIT);
	fx_down(&f);
}

static void test_vtd_strict_psi_shared_bits(void **state)
{
	char m[1024];
	uint64_t w[8][2];
	struct fx f;
	const struct ims_replay_stats *s;

	(void)state;
	setup8(&f, vtd_model(m, sizeof(m), 1, 18), "{\"policy\":\"strict\",\"stage\":2}");
	mark(&f);
	unmap(&f, 1, IOVA + 2 * PG, 4 * PG);
	assert_int_equal(since_mark(&f, w, 8), 2);
	assert_int_equal(VT_TYPE(w[0]), VT_IOTLB);
	assert_int_equal(VT_G(w[0]), 3);
	assert_int_equal(VT_ADDR(w[0]), IOVA);
	assert_int_equal(VT_AM(w[0]), 3);
	assert_int_equal(VT_TYPE(w[1]), VT_WAIT);
	s = ims_replay_stats(f.rp);
	assert_int_equal(s->inv_commands, 1);
	assert_int_equal(s->inv_syncs, 1);
	assert_int_equal(s->unmaps, 1);
	assert_int_equal(s->unmapped_pages, 4);
	assert_int_equal(s->inv_cycles, 10 + 10 + 100);
	fx_down(&f);
}

/* DSI when AM exceeds CAP.MAMV, and when the hardware has no PSI at all. */
static void test_vtd_strict_dsi_fallback(void **state)
{
	char m[1024];
	uint64_t w[8][2];
	struct fx f;

	(void)state;
	setup8(&f, vtd_model(m, sizeof(m), 1, 1), "{\"policy\":\"strict\",\"stage\":2}");
	mark(&f);
	unmap(&f, 1, IOVA + 4 * PG, 4 * PG); /* AM 2 > MAMV 1 */
	assert_int_equal(since_mark(&f, w, 8), 2);
	assert_int_equal(VT_TYPE(w[0]), VT_IOTLB);
	assert_int_equal(VT_G(w[0]), 2);
	assert_int_equal(VT_DID(w[0]), 1);
	mark(&f);
	unmap(&f, 1, IOVA, 2 * PG); /* AM 1 <= MAMV 1: PSI */
	assert_int_equal(since_mark(&f, w, 8), 2);
	assert_int_equal(VT_G(w[0]), 3);
	assert_int_equal(VT_AM(w[0]), 1);
	fx_down(&f);

	setup8(&f, vtd_model(m, sizeof(m), 0, 0), "{\"policy\":\"strict\",\"stage\":2}");
	mark(&f);
	unmap(&f, 1, IOVA, PG);
	assert_int_equal(since_mark(&f, w, 8), 2);
	assert_int_equal(VT_G(w[0]), 2);
	fx_down(&f);
}

/* First-stage domains: PASID-based IOTLB, PASID 0 for requests without one. */
static void test_vtd_strict_stage1_piotlb(void **state)
{
	char m[1024];
	uint64_t w[8][2];
	struct fx f;

	(void)state;
	setup8(&f, vtd_model(m, sizeof(m), 1, 18), "{\"policy\":\"strict\",\"leaf_hint\":false}");
	assert_true(dma_ok(&f, DEV, IOVA + 4 * PG));
	mark(&f);
	unmap(&f, 1, IOVA + 4 * PG, 4 * PG);
	assert_int_equal(since_mark(&f, w, 8), 2);
	assert_int_equal(VT_TYPE(w[0]), VT_PIOTLB);
	assert_int_equal(VT_G(w[0]), 3);
	assert_int_equal(VT_DID(w[0]), 1);
	assert_int_equal(VT_PASID(w[0]), 0);
	assert_int_equal(VT_ADDR(w[0]), IOVA + 4 * PG);
	assert_int_equal(VT_AM(w[0]), 2);
	assert_int_equal(VT_IH(w[0]), 0);
	assert_int_equal(VT_TYPE(w[1]), VT_WAIT);
	assert_false(dma_ok(&f, DEV, IOVA + 4 * PG));
	assert_true(dma_ok(&f, DEV, IOVA));
	fx_down(&f);
}

/* Strict: a DMA after the unmap faults, the IOTLB entry went with the PSI. */
static void test_vtd_strict_dma_after_unmap_faults(void **state)
{
	char m[1024];
	struct fx f;

	(void)state;
	setup8(&f, vtd_model(m, sizeof(m), 1, 18), "{\"policy\":\"strict\",\"stage\":2}");
	assert_true(dma_ok(&f, DEV, IOVA + 3 * PG));
	unmap(&f, 1, IOVA + 3 * PG, PG);
	assert_false(dma_ok(&f, DEV, IOVA + 3 * PG));
	assert_int_equal(ims_replay_stats(f.rp)->dma_faults, 1);
	fx_down(&f);
}

/*
 * Flush queue of 4 slots (3 entries, as Linux's ring): the first three
 * unmaps issue nothing and leave the IOTLB stale, so DMA to the unmapped
 * pages still translates; the fourth finds the ring full and flushes the
 * domain (one DSI + wait) before queueing itself.
 */
static void test_vtd_fq_stale_until_full(void **state)
{
	char m[1024];
	uint64_t w[8][2];
	struct fx f;

	(void)state;
	setup8(&f, vtd_model(m, sizeof(m), 1, 18),
	       "{\"policy\":\"fq\",\"fq_size\":4,\"stage\":2}");
	for (unsigned i = 0; i < 4; i++)
		assert_true(dma_ok(&f, DEV, IOVA + i * PG));
	mark(&f);
	for (unsigned i = 0; i < 3; i++)
		unmap(&f, 1, IOVA + i * PG, PG);
	assert_int_equal(since_mark(&f, w, 8), 0);
	/* The very effect flush queues trade for speed: stale hits. */
	assert_true(dma_ok(&f, DEV, IOVA));
	assert_true(dma_ok(&f, DEV, IOVA + 2 * PG));
	unmap(&f, 1, IOVA + 3 * PG, PG);
	assert_int_equal(since_mark(&f, w, 8), 2);
	assert_int_equal(VT_TYPE(w[0]), VT_IOTLB);
	assert_int_equal(VT_G(w[0]), 2);
	assert_int_equal(VT_DID(w[0]), 1);
	assert_int_equal(VT_TYPE(w[1]), VT_WAIT);
	assert_false(dma_ok(&f, DEV, IOVA));
	/* The fourth entry was queued after the flush; its page was not cached. */
	assert_false(dma_ok(&f, DEV, IOVA + 3 * PG));
	assert_int_equal(ims_replay_finish(f.rp), 0);
	assert_int_equal(ims_replay_stats(f.rp)->inv_commands, 2);
	assert_int_equal(ims_replay_stats(f.rp)->inv_syncs, 2);
	fx_down(&f);
}

/* The timer: armed by the first queued unmap, it fires fq_timeout_ms later. */
static void test_vtd_fq_timeout(void **state)
{
	char m[1024];
	uint64_t w[8][2];
	struct fx f;

	(void)state;
	setup8(&f, vtd_model(m, sizeof(m), 1, 18), "{\"policy\":\"fq\",\"stage\":2}");
	mark(&f);
	unmap_at(&f, 1000000, 0, 1, IOVA, PG);       /* t = 1 ms: timer to 11 ms */
	unmap_at(&f, 2000000, 1, 1, IOVA + PG, PG);  /* another CPU's ring */
	tick(&f, 10999999);
	assert_int_equal(since_mark(&f, w, 8), 0);
	tick(&f, 11000000);
	assert_int_equal(since_mark(&f, w, 8), 2);
	assert_int_equal(VT_G(w[0]), 2);
	assert_int_equal(VT_TYPE(w[1]), VT_WAIT);
	/* Nothing left for the end of the trace. */
	mark(&f);
	assert_int_equal(ims_replay_finish(f.rp), 0);
	assert_int_equal(since_mark(&f, w, 8), 0);
	fx_down(&f);
}

/* single-fq: one ring for every CPU. */
static void test_vtd_single_fq_shared_ring(void **state)
{
	char m[1024];
	uint64_t w[8][2];
	struct fx f;

	(void)state;
	setup8(&f, vtd_model(m, sizeof(m), 1, 18),
	       "{\"policy\":\"single-fq\",\"fq_size\":3,\"stage\":2}");
	mark(&f);
	unmap_at(&f, 0, 0, 1, IOVA, PG);
	unmap_at(&f, 0, 1, 1, IOVA + PG, PG);
	assert_int_equal(since_mark(&f, w, 8), 0);
	unmap_at(&f, 0, 2, 1, IOVA + 2 * PG, PG);
	assert_int_equal(since_mark(&f, w, 8), 2);
	fx_down(&f);
}

static void test_vtd_domain_and_global(void **state)
{
	char m[1024];
	uint64_t w[8][2];
	struct fx f;

	(void)state;
	setup8(&f, vtd_model(m, sizeof(m), 1, 18), "{\"policy\":\"global\",\"stage\":2}");
	mark(&f);
	unmap(&f, 1, IOVA, PG);
	assert_int_equal(since_mark(&f, w, 8), 2);
	assert_int_equal(VT_TYPE(w[0]), VT_IOTLB);
	assert_int_equal(VT_G(w[0]), 1);
	assert_int_equal(VT_TYPE(w[1]), VT_WAIT);
	fx_down(&f);

	setup8(&f, vtd_model(m, sizeof(m), 1, 18), "{\"policy\":\"domain\",\"stage\":2}");
	mark(&f);
	unmap(&f, 1, IOVA, PG);
	assert_int_equal(since_mark(&f, w, 8), 2);
	assert_int_equal(VT_G(w[0]), 2);
	assert_int_equal(VT_DID(w[0]), 1);
	fx_down(&f);

	/* First stage, domain-wide: PASID-selective PASID-based IOTLB. */
	setup8(&f, vtd_model(m, sizeof(m), 1, 18), "{\"policy\":\"domain\"}");
	mark(&f);
	unmap(&f, 1, IOVA, PG);
	assert_int_equal(since_mark(&f, w, 8), 2);
	assert_int_equal(VT_TYPE(w[0]), VT_PIOTLB);
	assert_int_equal(VT_G(w[0]), 2);
	fx_down(&f);
}

/* Unmapping what is not mapped issues nothing (an empty gather). */
static void test_vtd_unmap_nothing(void **state)
{
	char m[1024];
	uint64_t w[8][2];
	struct fx f;

	(void)state;
	setup8(&f, vtd_model(m, sizeof(m), 1, 18), "{\"policy\":\"strict\",\"stage\":2}");
	mark(&f);
	unmap(&f, 1, IOVA + 64 * PG, 4 * PG);
	assert_int_equal(since_mark(&f, w, 8), 0);
	fx_down(&f);
}

/* A 2 MiB-aligned map uses a 2 MiB leaf; DMA splits at 4 KiB boundaries. */
static void test_vtd_large_page_and_dma_split(void **state)
{
	char m[1024];
	struct fx f;
	struct ims_result *res = calloc(1, sizeof(*res));
	struct ims_txn t = { .sid = DEV, .addr = 0x200000 + 0x1234, .size = 4, .access = IMS_ACC_READ };
	struct ims_event e = { .type = IMS_EV_DMA, .dev = DEV, .iova = 0x200000 + 0xff0,
			       .size = 0x20, .access = IMS_ACC_WRITE };
	const struct ims_replay_stats *s;

	(void)state;
	assert_non_null(res);
	fx_up(&f, vtd_model(m, sizeof(m), 1, 18), "{\"policy\":\"strict\",\"stage\":2}");
	attach(&f, DEV, 1);
	map(&f, 1, 0x200000, 0x80200000, 0x200000);
	assert_int_equal(ims_translate(f.io, &t, res), 0);
	assert_true(res->ok);
	assert_int_equal(res->page_lg2, 21);
	assert_int_equal(res->out_addr, 0x80201234);
	ev(&f, &e);
	s = ims_replay_stats(f.rp);
	assert_int_equal(s->dmas, 1);
	assert_int_equal(s->dma_pages, 2);
	assert_int_equal(s->dma_faults, 0);
	assert_true(s->dma_cycles > 0);
	assert_true(s->table_reads > 0);
	free(res);
	fx_down(&f);
}

/* ---- SMMUv3 ---- */

static void test_smmu_strict_ril(void **state)
{
	char m[2048];
	uint64_t w[8][2];
	struct fx f;

	(void)state;
	setup8(&f, smmu_model(m, sizeof(m), 1), "{\"policy\":\"strict\"}");
	assert_true(dma_ok(&f, DEV, IOVA + 2 * PG));
	mark(&f);
	unmap(&f, 1, IOVA + 2 * PG, 4 * PG);
	assert_int_equal(since_mark(&f, w, 8), 2);
	assert_int_equal(SM_OP(w[0]), SM_NH_VA);
	assert_int_equal(SM_ADDR(w[0]), IOVA + 2 * PG);
	assert_int_equal(SM_TG(w[0]), 1);
	assert_int_equal(SM_SCALE(w[0]), 2);
	assert_int_equal(SM_NUM(w[0]), 0);
	assert_int_equal(SM_TTL(w[0]), 3);
	assert_int_equal(SM_LEAF(w[0]), 1);
	assert_int_equal(SM_ASID(w[0]), 1);
	assert_int_equal(SM_VMID(w[0]), 0);
	assert_int_equal(SM_OP(w[1]), SM_SYNC);
	assert_false(dma_ok(&f, DEV, IOVA + 2 * PG));
	assert_true(dma_ok(&f, DEV, IOVA + 6 * PG));
	fx_down(&f);
}

static void test_smmu_strict_no_ril_per_page(void **state)
{
	char m[2048];
	uint64_t w[8][2];
	struct fx f;

	(void)state;
	setup8(&f, smmu_model(m, sizeof(m), 0), "{\"policy\":\"strict\"}");
	mark(&f);
	unmap(&f, 1, IOVA + 2 * PG, 4 * PG);
	assert_int_equal(since_mark(&f, w, 8), 5);
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(SM_OP(w[i]), SM_NH_VA);
		assert_int_equal(SM_ADDR(w[i]), IOVA + (2 + i) * PG);
		assert_int_equal(SM_TG(w[i]), 0);
		assert_int_equal(SM_ASID(w[i]), 1);
	}
	assert_int_equal(SM_OP(w[4]), SM_SYNC);
	fx_down(&f);
}

/* Without RIL, more than range_max_pages (512) per-page TLBIs become one ASID-wide. */
static void test_smmu_no_ril_beyond_max(void **state)
{
	char m[2048];
	uint64_t w[8][2];
	struct fx f;

	(void)state;
	fx_up(&f, smmu_model(m, sizeof(m), 0), "{\"policy\":\"strict\"}");
	attach(&f, DEV, 1);
	/* Offset by one page so no 2 MiB block forms: 513 4 KiB leaves. */
	map(&f, 1, IOVA + PG, PA + PG, 513 * PG);
	mark(&f);
	unmap(&f, 1, IOVA + PG, 513 * PG);
	assert_int_equal(since_mark(&f, w, 8), 2);
	assert_int_equal(SM_OP(w[0]), SM_NH_ASID);
	assert_int_equal(SM_ASID(w[0]), 1);
	assert_int_equal(SM_OP(w[1]), SM_SYNC);
	fx_down(&f);

	/* range_max_pages 3: three pages still go page by page, four go ASID-wide. */
	fx_up(&f, smmu_model(m, sizeof(m), 0), "{\"policy\":\"strict\",\"range_max_pages\":3}");
	attach(&f, DEV, 1);
	map(&f, 1, IOVA, PA, 8 * PG);
	mark(&f);
	unmap(&f, 1, IOVA, 3 * PG);
	assert_int_equal(since_mark(&f, w, 8), 4);
	mark(&f);
	unmap(&f, 1, IOVA + 3 * PG, 4 * PG);
	assert_int_equal(since_mark(&f, w, 8), 2);
	assert_int_equal(SM_OP(w[0]), SM_NH_ASID);
	fx_down(&f);
}

/* 33 pages: strict chunks by SCALE, range sends one covering command. */
static void test_smmu_ril_chunks_and_range_policy(void **state)
{
	char m[2048];
	uint64_t w[8][2];
	struct fx f;

	(void)state;
	fx_up(&f, smmu_model(m, sizeof(m), 1), "{\"policy\":\"strict\"}");
	attach(&f, DEV, 1);
	map(&f, 1, IOVA, PA, 33 * PG);
	mark(&f);
	unmap(&f, 1, IOVA, 33 * PG);
	assert_int_equal(since_mark(&f, w, 8), 3);
	assert_int_equal(SM_ADDR(w[0]), IOVA);
	assert_int_equal(SM_SCALE(w[0]), 0);
	assert_int_equal(SM_NUM(w[0]), 0);
	assert_int_equal(SM_ADDR(w[1]), IOVA + PG);
	assert_int_equal(SM_SCALE(w[1]), 5);
	assert_int_equal(SM_NUM(w[1]), 0);
	assert_int_equal(SM_OP(w[2]), SM_SYNC);
	fx_down(&f);

	fx_up(&f, smmu_model(m, sizeof(m), 1), "{\"policy\":\"range\"}");
	attach(&f, DEV, 1);
	map(&f, 1, IOVA, PA, 33 * PG);
	mark(&f);
	unmap(&f, 1, IOVA, 33 * PG);
	assert_int_equal(since_mark(&f, w, 8), 2);
	assert_int_equal(SM_OP(w[0]), SM_NH_VA);
	assert_int_equal(SM_SCALE(w[0]), 1);
	assert_int_equal(SM_NUM(w[0]), 16);
	assert_int_equal(SM_OP(w[1]), SM_SYNC);
	fx_down(&f);
}

static void test_smmu_stage2_fq_global(void **state)
{
	char m[2048];
	uint64_t w[8][2];
	struct fx f;

	(void)state;
	setup8(&f, smmu_model(m, sizeof(m), 1), "{\"policy\":\"strict\",\"stage\":2}");
	assert_true(dma_ok(&f, DEV, IOVA));
	mark(&f);
	unmap(&f, 1, IOVA, PG);
	assert_int_equal(since_mark(&f, w, 8), 2);
	assert_int_equal(SM_OP(w[0]), SM_S2_IPA);
	assert_int_equal(SM_VMID(w[0]), 1);
	assert_int_equal(SM_SCALE(w[0]), 0);
	assert_int_equal(SM_NUM(w[0]), 0);
	assert_int_equal(SM_OP(w[1]), SM_SYNC);
	assert_false(dma_ok(&f, DEV, IOVA));
	fx_down(&f);

	setup8(&f, smmu_model(m, sizeof(m), 1), "{\"policy\":\"fq\",\"fq_size\":2}");
	assert_true(dma_ok(&f, DEV, IOVA));
	mark(&f);
	unmap(&f, 1, IOVA, PG);
	assert_int_equal(since_mark(&f, w, 8), 0);
	assert_true(dma_ok(&f, DEV, IOVA)); /* stale */
	unmap(&f, 1, IOVA + PG, PG);
	assert_int_equal(since_mark(&f, w, 8), 2);
	assert_int_equal(SM_OP(w[0]), SM_NH_ASID);
	assert_int_equal(SM_OP(w[1]), SM_SYNC);
	assert_false(dma_ok(&f, DEV, IOVA));
	fx_down(&f);

	setup8(&f, smmu_model(m, sizeof(m), 1), "{\"policy\":\"global\"}");
	mark(&f);
	unmap(&f, 1, IOVA, PG);
	assert_int_equal(since_mark(&f, w, 8), 2);
	assert_int_equal(SM_OP(w[0]), SM_NSNH_ALL);
	fx_down(&f);
}

/* PASID attach on SMMUv3: the CD of the SubstreamID, DMA with it translates. */
static void test_smmu_pasid_attach(void **state)
{
	char m[2048];
	struct fx f;
	struct ims_event a = { .type = IMS_EV_ATTACH, .dev = DEV, .domain = 2, .has_pasid = 1,
			       .pasid = 300 };
	struct ims_event d = { .type = IMS_EV_DMA, .dev = DEV, .has_pasid = 1, .pasid = 300,
			       .iova = 0x5000, .size = 4, .access = IMS_ACC_READ };

	(void)state;
	setup8(&f, smmu_model(m, sizeof(m), 1), "{\"policy\":\"strict\"}");
	ev(&f, &a);
	map(&f, 2, 0x5000, 0x90000000, PG);
	ev(&f, &d);
	assert_int_equal(ims_replay_stats(f.rp)->dma_faults, 0);
	assert_true(dma_ok(&f, DEV, IOVA)); /* the RID still uses CD 0 */
	d.iova = IOVA;
	ev(&f, &d);                         /* domain 2 has nothing at IOVA */
	assert_int_equal(ims_replay_stats(f.rp)->dma_faults, 1);
	fx_down(&f);
}

/* ---- Explicit invalidations and syncs ---- */

static void test_explicit_inv_and_sync(void **state)
{
	char m[1024];
	uint64_t w[8][2];
	struct fx f;
	struct ims_event e = { .type = IMS_EV_INV, .domain = 1, .inv_kind = IMS_EV_INV_PAGE,
			       .iova = IOVA, .size = 2 * PG, .flags = IMS_EV_F_LEAF };
	struct ims_event raw = { .type = IMS_EV_INV, .nwords = 2,
				 .words = { 0x2 | (1ull << 4), 0 } }; /* IOTLB global */
	struct ims_event bad = { .type = IMS_EV_INV, .nwords = 2, .words = { 0xf, 0 } };
	struct ims_event sync = { .type = IMS_EV_SYNC };
	char err[256];

	(void)state;
	setup8(&f, vtd_model(m, sizeof(m), 1, 18), "{\"policy\":\"strict\",\"stage\":2}");
	mark(&f);
	ev(&f, &e);
	ev(&f, &raw);
	ev(&f, &sync);
	assert_int_equal(since_mark(&f, w, 8), 3);
	assert_int_equal(VT_G(w[0]), 3);
	assert_int_equal(VT_AM(w[0]), 1);
	assert_int_equal(VT_IH(w[0]), 1);
	assert_int_equal(VT_G(w[1]), 1);
	assert_int_equal(VT_TYPE(w[2]), VT_WAIT);
	assert_int_equal(ims_replay_stats(f.rp)->inv_commands, 2);
	assert_int_equal(ims_replay_stats(f.rp)->inv_syncs, 1);
	/* A descriptor the hardware rejects: an error, and the queue goes on. */
	assert_int_equal(ims_replay_event(f.rp, &bad, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "rejected"));
	ev(&f, &sync);
	assert_true(dma_ok(&f, DEV, IOVA));
	fx_down(&f);
}

/* ---- Nested ---- */

static void nested_run(const char *model, uint64_t *hpa_out, bool smmu)
{
	struct fx f;
	struct ims_event a = { .type = IMS_EV_ATTACH, .dev = DEV, .domain = 2, .parent = 1,
			       .flags = IMS_EV_F_NESTED };
	struct ims_event inv = { .type = IMS_EV_INV, .domain = 2, .inv_kind = IMS_EV_INV_PAGE,
				 .flags = IMS_EV_F_NESTED, .iova = 0x7000000000ull, .size = PG };
	struct ims_event sync = { .type = IMS_EV_SYNC };
	struct ims_result *res = calloc(1, sizeof(*res));
	struct ims_txn t = { .sid = DEV, .addr = 0x7000000000ull + 0x10, .size = 4,
			     .access = IMS_ACC_READ };

	assert_non_null(res);
	fx_up(&f, model, "{\"policy\":\"strict\"}");
	/* The VMM maps guest RAM first (parent built stage 1, then rebuilt as stage 2). */
	map(&f, 1, 0x100000, 0x80000000, 16 * PG);
	ev(&f, &a);
	map(&f, 2, 0x7000000000ull, 0x100000 + 3 * PG, 2 * PG);
	assert_true(dma_ok(&f, DEV, 0x7000000000ull));
	assert_int_equal(ims_translate(f.io, &t, res), 0);
	assert_true(res->ok);
	assert_int_equal(res->mode, IMS_XM_NESTED);
	assert_int_equal(res->ipa, 0x100000 + 3 * PG + 0x10);
	*hpa_out = res->out_addr;
	/* The guest unmaps; nothing is invalidated for it until its own INV. */
	mark(&f);
	unmap(&f, 2, 0x7000000000ull, PG);
	{
		uint64_t w[8][2];

		assert_int_equal(since_mark(&f, w, 8), 0);
		assert_true(dma_ok(&f, DEV, 0x7000000000ull)); /* stale until the guest flushes */
		ev(&f, &inv);
		ev(&f, &sync);
		assert_int_equal(since_mark(&f, w, 8), 2);
		if (smmu) {
			assert_int_equal(SM_OP(w[0]), SM_NH_VA);
			assert_int_equal(SM_VMID(w[0]), 1);
			assert_int_equal(SM_ASID(w[0]), 2);
		} else {
			assert_int_equal(VT_TYPE(w[0]), VT_PIOTLB);
			assert_int_equal(VT_DID(w[0]), 2);
		}
	}
	assert_false(dma_ok(&f, DEV, 0x7000000000ull));
	assert_true(dma_ok(&f, DEV, 0x7000000000ull + PG));
	/* The host unmaps guest RAM: the parent's invalidation reaches the guest's entries. */
	unmap(&f, 1, 0x100000 + 4 * PG, PG);
	assert_false(dma_ok(&f, DEV, 0x7000000000ull + PG));
	free(res);
	fx_down(&f);
}

static void test_nested_vtd(void **state)
{
	char m[1024];
	uint64_t hpa = 0;

	(void)state;
	nested_run(vtd_model(m, sizeof(m), 1, 18), &hpa, false);
	assert_int_equal(hpa, 0x80000000 + 3 * PG + 0x10);
}

static void test_nested_smmu(void **state)
{
	char m[2048];
	uint64_t hpa = 0;

	(void)state;
	nested_run(smmu_model(m, sizeof(m), 1), &hpa, true);
	assert_int_equal(hpa, 0x80000000 + 3 * PG + 0x10);
}

/* ---- Determinism ---- */

static uint64_t lcg(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return *s >> 33;
}

static void run_random(const char *model, const char *driver, struct ims_replay_stats *out)
{
	struct fx f;
	uint64_t s = 42, ts = 0;

	fx_up(&f, model, driver);
	attach(&f, DEV, 1);
	attach(&f, DEV + 1, 2);
	for (unsigned i = 0; i < 3000; i++) {
		uint32_t dom = 1 + (uint32_t)(lcg(&s) % 2);
		uint64_t page = lcg(&s) % 256, n = 1 + lcg(&s) % 8;
		struct ims_event e = { .ts_ns = ts += lcg(&s) % 50000, .cpu = (uint16_t)(lcg(&s) % 4),
				       .domain = dom, .iova = IOVA + page * PG, .size = n * PG,
				       .pa = PA + page * PG, .access = IMS_PERM_R | IMS_PERM_W };

		switch (lcg(&s) % 3) {
		case 0:
			e.type = IMS_EV_MAP;
			break;
		case 1:
			e.type = IMS_EV_UNMAP;
			break;
		default:
			e.type = IMS_EV_DMA;
			e.dev = DEV + dom - 1;
			e.access = IMS_ACC_READ;
			e.pa = 0;
			break;
		}
		ev(&f, &e);
	}
	assert_int_equal(ims_replay_finish(f.rp), 0);
	*out = *ims_replay_stats(f.rp);
	fx_down(&f);
}

static void test_determinism(void **state)
{
	static const char *const drivers[] = {
		"{\"policy\":\"strict\"}", "{\"policy\":\"fq\",\"fq_size\":16}",
		"{\"policy\":\"single-fq\",\"fq_size\":64}", "{\"policy\":\"range\",\"stage\":2}",
	};
	char m[2048];

	(void)state;
	for (unsigned arch = 0; arch < 2; arch++)
		for (unsigned d = 0; d < 4; d++) {
			struct ims_replay_stats a, b;
			const char *model = arch ? smmu_model(m, sizeof(m), 1)
						 : vtd_model(m, sizeof(m), 1, 18);

			run_random(model, drivers[d], &a);
			run_random(model, drivers[d], &b);
			assert_memory_equal(&a, &b, sizeof(a));
			assert_int_equal(a.events, 3002);
			assert_true(a.dmas > 0 && a.unmaps > 0 && a.inv_syncs > 0);
			assert_true(a.dma_faults > 0 && a.dma_faults < a.dma_pages);
		}
}

/* Errors name the event; an unknown domain for a neutral INV is one. */
static void test_errors(void **state)
{
	char m[1024], err[256] = "";
	struct fx f;
	struct ims_event e = { .type = IMS_EV_INV, .domain = 99, .inv_kind = IMS_EV_INV_DOMAIN };
	struct ims_event bad_map = { .type = IMS_EV_MAP, .domain = 1, .iova = 0x1000, .pa = 0x2800,
				     .size = PG };

	(void)state;
	fx_up(&f, vtd_model(m, sizeof(m), 1, 18), "{}");
	assert_int_equal(ims_replay_event(f.rp, &e, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "event 1 (inv)"));
	assert_non_null(strstr(err, "99"));
	assert_int_equal(ims_replay_event(f.rp, &bad_map, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "map"));
	fx_down(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vtd_strict_psi_aligned),
		cmocka_unit_test(test_vtd_strict_psi_shared_bits),
		cmocka_unit_test(test_vtd_strict_dsi_fallback),
		cmocka_unit_test(test_vtd_strict_stage1_piotlb),
		cmocka_unit_test(test_vtd_strict_dma_after_unmap_faults),
		cmocka_unit_test(test_vtd_fq_stale_until_full),
		cmocka_unit_test(test_vtd_fq_timeout),
		cmocka_unit_test(test_vtd_single_fq_shared_ring),
		cmocka_unit_test(test_vtd_domain_and_global),
		cmocka_unit_test(test_vtd_unmap_nothing),
		cmocka_unit_test(test_vtd_large_page_and_dma_split),
		cmocka_unit_test(test_smmu_strict_ril),
		cmocka_unit_test(test_smmu_strict_no_ril_per_page),
		cmocka_unit_test(test_smmu_no_ril_beyond_max),
		cmocka_unit_test(test_smmu_ril_chunks_and_range_policy),
		cmocka_unit_test(test_smmu_stage2_fq_global),
		cmocka_unit_test(test_smmu_pasid_attach),
		cmocka_unit_test(test_explicit_inv_and_sync),
		cmocka_unit_test(test_nested_vtd),
		cmocka_unit_test(test_nested_smmu),
		cmocka_unit_test(test_determinism),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
