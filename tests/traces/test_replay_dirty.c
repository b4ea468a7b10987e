/*
 * test_replay_dirty.c - the replay's dirty-state API for host domains
 * (traces/replay.c: ims_replay_domain_set_dirty, ims_replay_domain_read_dirty).
 *
 * The leaves are read back from simulated memory and decoded here from the
 * specifications' bit positions, not with the library's formats:
 *   - VT-d second-stage entries (spec 9.8): R bit 0, W bit 1, PS bit 7 in
 *     an SS-PDE / SS-PDPE, A bit 8, D bit 9 (leaf only), address bits
 *     51:12; 4 levels index IOVA bits 47:39, 38:30, 29:21, 20:12.  With
 *     SSADE (3.7.2) a translation sets A in the entries it used and a
 *     write sets D in the leaf; a read never sets D.
 *   - VMSAv8-64 stage-1 descriptors, 4 KiB granule (Arm ARM D8.3): bits
 *     1:0 = 11 table or page, 01 block; AP[2] bit 7 (1: read-only); DBM
 *     bit 51; output address bits 47:12.  D8.5.4: with hardware dirty
 *     state a DBM leaf is writable and AP[2] = 1 means clean; a write
 *     clears AP[2].  Linux's io-pgtable makes writable leaves of a
 *     dirty-tracking domain with DBM and AP[2] = 0, read-only ones with
 *     AP[2] = 1 and no DBM.
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

#define DEV 0x10u
#define DOM 7u
#define IOVA 0x40000000ull /* 1 GiB: 2 MiB aligned */
#define PA 0x80000000ull
#define MB2 0x200000ull

#define SS_W (1ull << 1)
#define SS_PS (1ull << 7)
#define SS_A (1ull << 8)
#define SS_D (1ull << 9)
#define ADDR_MASK 0x000ffffffffff000ull
#define VMSA_AP2 (1ull << 7)
#define VMSA_DBM (1ull << 51)

static const char vtd_json[] =
	"{\"arch\":\"vtd\",\"haw\":46,\"vtd\":{\"cap\":{\"ND\":6,\"SAGAW\":4,\"MGAW\":47,"
	"\"SLLPS\":1,\"PSI\":1,\"MAMV\":18,\"NFR\":7},"
	"\"ecap\":{\"QI\":1,\"NEST\":1,\"PASID\":1,\"PSS\":19,\"SMTS\":1,\"SSTS\":1,\"FSTS\":1,"
	"\"SSADS\":%d,\"SMPWCS\":1}},"
	"\"caches\":{\"iotlb\":{\"entries\":64,\"ways\":4}}}";

static const char smmu_json[] =
	"{\"arch\":\"smmuv3\",\"haw\":48,\"smmuv3\":{"
	"\"idr0\":{\"S2P\":1,\"S1P\":1,\"TTF\":2,\"COHACC\":1,\"HTTU\":%d,\"ASID16\":1,"
	"\"VMID16\":1,\"CD2L\":1,\"TTENDIAN\":2,\"STALL_MODEL\":1,\"ST_LEVEL\":1,\"MSI\":1},"
	"\"idr1\":{\"SIDSIZE\":16,\"SSIDSIZE\":20,\"EVENTQS\":19,\"CMDQS\":19},"
	"\"idr3\":{\"RIL\":1},"
	"\"idr5\":{\"OAS\":5,\"GRAN4K\":1},"
	"\"aidr\":{\"ArchMajorRev\":0,\"ArchMinorRev\":2}},"
	"\"caches\":{\"iotlb\":{\"entries\":64,\"ways\":4}}}";

struct fx {
	struct ims_model *m;
	struct ims_iommu *io;
	struct ims_replay *rp;
	char err[512];
};

/* A replay with the strict driver model and host domain DOM of `stage`. */
static void fx_up(struct fx *f, const char *fmt, int capable, unsigned stage)
{
	char json[1024];
	struct ims_driver_cfg drv;

	memset(f, 0, sizeof(*f));
	snprintf(json, sizeof(json), fmt, capable);
	if (ims_model_parse(json, "test", &f->m, f->err, sizeof(f->err)))
		fail_msg("model: %s", f->err);
	f->io = ims_iommu_new(f->m, f->err, sizeof(f->err));
	if (!f->io)
		fail_msg("instance: %s", f->err);
	ims_driver_builtin("strict", &drv);
	drv.stage = stage;
	if (ims_replay_new(f->io, &drv, 1, &f->rp, f->err, sizeof(f->err)))
		fail_msg("replay: %s", f->err);
	if (ims_replay_domain_new(f->rp, DOM, stage, 0, NULL, f->err, sizeof(f->err)))
		fail_msg("domain: %s", f->err);
}

static void fx_down(struct fx *f)
{
	ims_replay_free(f->rp);
	ims_iommu_free(f->io);
	ims_model_free(f->m);
}

static void ev(struct fx *f, const struct ims_event *e)
{
	if (ims_replay_event(f->rp, e, f->err, sizeof(f->err)))
		fail_msg("replay event: %s", f->err);
}

static void map(struct fx *f, uint64_t iova, uint64_t pa, uint64_t size, unsigned perm)
{
	struct ims_event e = { .type = IMS_EV_MAP, .domain = DOM, .iova = iova, .pa = pa,
			       .size = size, .access = (uint8_t)perm };

	ev(f, &e);
}

static void attach(struct fx *f)
{
	struct ims_event e = { .type = IMS_EV_ATTACH, .dev = DEV, .domain = DOM };

	ev(f, &e);
}

/* A 4-byte DMA by DEV: did it translate? */
static bool dma(struct fx *f, uint64_t iova, bool write)
{
	struct ims_txn t = { .sid = DEV, .addr = iova, .size = 4,
			     .access = write ? IMS_ACC_WRITE : IMS_ACC_READ };
	struct ims_result res;

	assert_int_equal(ims_translate(f->io, &t, &res), 0);
	return res.ok;
}

/* The leaf mapping iova, found by a 4-level walk from the domain's root
 * with 9 index bits per level; a leaf is level 0 or, above it, what
 * is_block says.  Returns the entry and its address in *at. */
static uint64_t leaf(struct fx *f, uint64_t iova, bool smmu, uint64_t *at)
{
	struct ims_pt_cfg cfg;
	struct ims_mem *mem = ims_iommu_mem(f->io);
	uint64_t table, e = 0;

	assert_int_equal(ims_replay_domain_cfg(f->rp, DOM, &cfg), 0);
	assert_int_equal(cfg.levels, 4);
	table = cfg.root;
	for (int shift = 39; shift >= 12; shift -= 9) {
		uint64_t pa = table + 8 * ((iova >> shift) & 511);

		assert_int_equal(ims_mem_read64(mem, pa, &e), IMS_MEM_OK);
		assert_true(e != 0);
		*at = pa;
		if (shift == 12 || (smmu ? (e & 3) == 1 : (e & SS_PS) != 0))
			return e;
		table = e & ADDR_MASK;
	}
	return e;
}

struct rec {
	uint64_t iova[8], size[8];
	unsigned n;
};

static void record(void *arg, uint64_t iova, uint64_t size)
{
	struct rec *r = arg;

	if (r->n < 8) {
		r->iova[r->n] = iova;
		r->size[r->n] = size;
	}
	r->n++;
}

static struct rec read_dirty(struct fx *f, uint64_t iova, uint64_t last, bool clear)
{
	struct rec r = { .n = 0 };

	if (ims_replay_domain_read_dirty(f->rp, DOM, iova, last, clear, record, &r, f->err,
					 sizeof(f->err)))
		fail_msg("read_dirty: %s", f->err);
	return r;
}

/* VT-d: a 2 MiB SS-PDE leaf (PS = 1) records writes in its own D bit and
 * is reported whole; 4 KiB leaves one by one. */
static void test_vtd_ss_leaves(void **state)
{
	struct fx f;
	struct rec r;
	uint64_t at, e;

	(void)state;
	fx_up(&f, vtd_json, 1, 2);
	map(&f, IOVA, PA, MB2, IMS_PERM_R | IMS_PERM_W);
	map(&f, IOVA + MB2, PA + MB2, 0x4000, IMS_PERM_R | IMS_PERM_W);
	attach(&f);
	e = leaf(&f, IOVA, false, &at);
	assert_true(e & SS_PS); /* the 2 MiB page is one leaf */
	assert_int_equal(ims_replay_domain_set_dirty(f.rp, DOM, true, f.err, sizeof(f.err)), 0);

	/* A read sets A, not D. */
	assert_true(dma(&f, IOVA + 0x1234, false));
	e = leaf(&f, IOVA, false, &at);
	assert_true(e & SS_A);
	assert_false(e & SS_D);
	assert_int_equal(read_dirty(&f, IOVA, IOVA + MB2 + 0x3fff, true).n, 0);

	/* A write sets D; the report is the whole 2 MiB page. */
	assert_true(dma(&f, IOVA + 0x1234, true));
	assert_true(leaf(&f, IOVA, false, &at) & SS_D);
	assert_true(dma(&f, IOVA + MB2 + 0x2000, true));
	r = read_dirty(&f, IOVA, IOVA + MB2 + 0x3fff, false);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.iova[0], IOVA);
	assert_int_equal(r.size[0], MB2);
	assert_int_equal(r.iova[1], IOVA + MB2 + 0x2000);
	assert_int_equal(r.size[1], 0x1000);
	/* Not cleared: D still set.  A range touching the page reports it whole. */
	assert_true(leaf(&f, IOVA, false, &at) & SS_D);
	r = read_dirty(&f, IOVA + 0x100000, IOVA + 0x100fff, true);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.iova[0], IOVA);
	assert_int_equal(r.size[0], MB2);
	e = leaf(&f, IOVA, false, &at);
	assert_false(e & SS_D);
	assert_true(e & SS_W); /* cleaning touches D only */
	assert_true(leaf(&f, IOVA + MB2 + 0x2000, false, &at) & SS_D); /* outside the range */

	/* Off: SSADE is clear again, a write leaves D alone. */
	read_dirty(&f, IOVA, IOVA + MB2 + 0x3fff, true);
	assert_int_equal(ims_replay_domain_set_dirty(f.rp, DOM, false, f.err, sizeof(f.err)), 0);
	assert_true(dma(&f, IOVA + 0x3000, true));
	assert_false(leaf(&f, IOVA, false, &at) & SS_D);
	fx_down(&f);
}

/* SMMUv3 stage 1: DBM on writable leaves only; clean = AP[2] set; a write
 * clears AP[2] again; off takes DBM out and leaves the page writable. */
static void test_smmu_s1_leaves(void **state)
{
	struct fx f;
	struct rec r;
	uint64_t at, e;

	(void)state;
	fx_up(&f, smmu_json, 2, 1);
	map(&f, IOVA, PA, 0x2000, IMS_PERM_R | IMS_PERM_W);
	map(&f, IOVA + 0x2000, PA + 0x2000, 0x1000, IMS_PERM_R);
	attach(&f);
	assert_false(leaf(&f, IOVA, true, &at) & VMSA_DBM);
	assert_int_equal(ims_replay_domain_set_dirty(f.rp, DOM, true, f.err, sizeof(f.err)), 0);
	e = leaf(&f, IOVA, true, &at);
	assert_true(e & VMSA_DBM);
	assert_false(e & VMSA_AP2); /* writable-dirty, as a new mapping is */
	e = leaf(&f, IOVA + 0x2000, true, &at);
	assert_false(e & VMSA_DBM);
	assert_true(e & VMSA_AP2); /* read-only stays read-only */

	/* Both writable pages start dirty; cleaning sets AP[2]. */
	r = read_dirty(&f, IOVA, IOVA + 0x2fff, true);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.iova[1], IOVA + 0x1000);
	assert_int_equal(r.size[1], 0x1000);
	e = leaf(&f, IOVA + 0x1000, true, &at);
	assert_true((e & VMSA_DBM) && (e & VMSA_AP2));
	/* Writable-clean is still writable; the write clears AP[2]. */
	assert_true(dma(&f, IOVA + 0x1008, false));
	assert_true(leaf(&f, IOVA + 0x1000, true, &at) & VMSA_AP2);
	assert_true(dma(&f, IOVA + 0x1008, true));
	assert_false(leaf(&f, IOVA + 0x1000, true, &at) & VMSA_AP2);
	assert_false(dma(&f, IOVA + 0x2000, true)); /* permission fault */
	r = read_dirty(&f, IOVA, IOVA + 0x2fff, false);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.iova[0], IOVA + 0x1000);
	/* A page mapped while recording is on gets DBM. */
	map(&f, IOVA + 0x3000, PA + 0x3000, 0x1000, IMS_PERM_R | IMS_PERM_W);
	assert_true(leaf(&f, IOVA + 0x3000, true, &at) & VMSA_DBM);

	/* Off: no DBM, AP[2] = 0, and writes still work. */
	read_dirty(&f, IOVA, IOVA + 0x3fff, true);
	assert_int_equal(ims_replay_domain_set_dirty(f.rp, DOM, false, f.err, sizeof(f.err)), 0);
	e = leaf(&f, IOVA + 0x1000, true, &at);
	assert_false(e & (VMSA_DBM | VMSA_AP2));
	assert_true(dma(&f, IOVA + 0x1010, true));
	assert_int_equal(read_dirty(&f, IOVA, IOVA + 0x3fff, false).n, 0);
	fx_down(&f);
}

/* What cannot be done changes nothing and says why. */
static void test_errors(void **state)
{
	struct fx f;
	struct rec r = { .n = 0 };

	(void)state;
	/* VT-d without SSADS, SMMUv3 without HTTU = 2. */
	fx_up(&f, vtd_json, 0, 2);
	assert_int_equal(ims_replay_domain_set_dirty(f.rp, DOM, true, f.err, sizeof(f.err)),
			 -EOPNOTSUPP);
	assert_non_null(strstr(f.err, "SSADS"));
	fx_down(&f);
	fx_up(&f, smmu_json, 1, 1);
	assert_int_equal(ims_replay_domain_set_dirty(f.rp, DOM, true, f.err, sizeof(f.err)),
			 -EOPNOTSUPP);
	fx_down(&f);
	/* The other stage of each: VT-d first stage, SMMUv3 stage 2. */
	fx_up(&f, vtd_json, 1, 1);
	assert_int_equal(ims_replay_domain_set_dirty(f.rp, DOM, true, f.err, sizeof(f.err)),
			 -EOPNOTSUPP);
	assert_int_equal(ims_replay_domain_read_dirty(f.rp, DOM, 0, 0xfff, true, record, &r,
						      f.err, sizeof(f.err)),
			 -EOPNOTSUPP);
	fx_down(&f);
	fx_up(&f, smmu_json, 2, 2);
	assert_int_equal(ims_replay_domain_set_dirty(f.rp, DOM, true, f.err, sizeof(f.err)),
			 -EOPNOTSUPP);
	/* Unknown domains, empty ranges. */
	assert_int_equal(ims_replay_domain_set_dirty(f.rp, 99, true, f.err, sizeof(f.err)),
			 -ENOENT);
	assert_int_equal(ims_replay_domain_read_dirty(f.rp, 99, 0, 0xfff, true, record, &r, f.err,
						      sizeof(f.err)),
			 -ENOENT);
	fx_down(&f);
	fx_up(&f, vtd_json, 1, 2);
	assert_int_equal(ims_replay_domain_read_dirty(f.rp, DOM, 0x2000, 0x1fff, true, record, &r,
						      f.err, sizeof(f.err)),
			 -EINVAL);
	/* Nothing mapped: nothing reported; a NULL record only cleans. */
	assert_int_equal(ims_replay_domain_read_dirty(f.rp, DOM, 0, UINT64_MAX, true, NULL, NULL,
						      f.err, sizeof(f.err)),
			 0);
	assert_int_equal(r.n, 0);
	fx_down(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vtd_ss_leaves),
		cmocka_unit_test(test_smmu_s1_leaves),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
