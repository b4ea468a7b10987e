/*
 * test_gen.c - the workload generators (traces/gen.c, docs/workloads.md).
 *
 * Every generator's stream is checked against the invariants a replay
 * relies on, by a brute-force checker that keeps every live mapping page
 * by page (large ranges whole):
 *   - time stamps never decrease;
 *   - a device's DMA lands in pages mapped in the domain it is attached
 *     to, with the permission the access needs;
 *   - an unmap covers only mapped pages (or exactly one large map);
 *   - a nested guest's maps point at GPAs its parent domain maps.
 * Then the statistics each generator promises in docs/workloads.md, with
 * the tolerances stated there:
 *   - nic-rx at 100 Gb/s, 4 KiB buffers and MTU: receive maps per simulated
 *     second = 100e9 / 8 / 4096 +- 5 %; bytes written per second =
 *     12.5 GB/s +- 5 %; ACK maps 0.02 per page +- 30 %;
 *   - nic-rxtx: bytes read by the NIC = tx_ratio x bytes written +- 5 %;
 *   - nvme: completions per second = iops +- 5 %; pages per I/O in
 *     [min_pages, max_pages] with the mean of the uniform +- 5 %; the read
 *     share +- 0.05; every map unmapped at the end;
 *   - accel, dma-sweep, inv-micro, nested-vm: exact counts and alignments;
 *   - the same seed gives the same stream, another seed another;
 *   - bad parameters are refused, named, before any event is emitted.
 * Default parameters must give 100 k to 1 M events.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <iommusim/pgtable.h>
#include <iommusim/trace.h>

#define PAGE 4096ull
#define BIG (2ull << 20) /* maps this large are kept whole */
#define MAXDOM 4

/* ---- a page-granular map of what is mapped ---- */

struct pent {
	uint64_t key; /* domain << 52 | pfn, + 1 (0 = empty) */
	uint64_t pa;
	uint8_t perm;
};

struct bigmap {
	uint32_t domain;
	uint64_t iova, size, pa;
	uint8_t perm;
};

struct check {
	/* open-addressing page table */
	struct pent *tab;
	size_t cap, used, tomb;
	struct bigmap big[64];
	unsigned nbig;
	uint32_t dev_domain[MAXDOM]; /* dev index -> domain */
	uint32_t devs[MAXDOM];
	unsigned ndevs;
	uint32_t parent[MAXDOM];     /* domain -> parent (nested) */
	uint64_t last_ts;
	uint64_t hash;               /* FNV-1a over the events */
	/* statistics */
	uint64_t n, by_type[IMS_EV__COUNT];
	uint64_t maps_rx, maps_tx, maps_after0;  /* MAP perm W / R, MAP with ts > 0 */
	uint64_t map_pages, unmap_pages;
	uint64_t dma_wr_bytes, dma_rd_bytes, dma_max;
	uint64_t unmap_sizes_pages;  /* sum of pages per unmap */
	uint64_t ts_max;
	unsigned max_cpu;
	uint64_t inv_ok;             /* INV right after an UNMAP of the same range */
	struct ims_event prev;
	uint64_t stop_after;         /* refuse events after this many (0 = never) */
	char why[256];               /* first violated invariant */
};

#define TOMB UINT64_MAX

static uint64_t pkey(uint32_t domain, uint64_t iova)
{
	return ((uint64_t)domain << 52 | (iova / PAGE)) + 1;
}

static size_t slot_of(const struct check *c, uint64_t key)
{
	uint64_t h = key * 0x9e3779b97f4a7c15ull;

	return (size_t)(h >> 20) & (c->cap - 1);
}

static struct pent *pfind(struct check *c, uint64_t key)
{
	size_t i = slot_of(c, key);

	while (c->tab[i].key) {
		if (c->tab[i].key == key)
			return &c->tab[i];
		i = (i + 1) & (c->cap - 1);
	}
	return NULL;
}

static void pinsert_raw(struct check *c, uint64_t key, uint64_t pa, uint8_t perm)
{
	size_t i = slot_of(c, key);

	while (c->tab[i].key && c->tab[i].key != TOMB)
		i = (i + 1) & (c->cap - 1);
	if (c->tab[i].key == TOMB)
		c->tomb--;
	c->tab[i].key = key;
	c->tab[i].pa = pa;
	c->tab[i].perm = perm;
	c->used++;
}

static void prehash(struct check *c, size_t cap)
{
	struct pent *old = c->tab;
	size_t oldcap = c->cap, i;

	c->tab = calloc(cap, sizeof(*c->tab));
	assert_non_null(c->tab);
	c->cap = cap;
	c->used = 0;
	c->tomb = 0;
	for (i = 0; i < oldcap; i++)
		if (old[i].key && old[i].key != TOMB)
			pinsert_raw(c, old[i].key, old[i].pa, old[i].perm);
	free(old);
}

static void pinsert(struct check *c, uint64_t key, uint64_t pa, uint8_t perm)
{
	if ((c->used + c->tomb + 1) * 2 > c->cap)
		prehash(c, (c->used + 1) * 4 > c->cap ? c->cap * 2 : c->cap);
	pinsert_raw(c, key, pa, perm);
}

static void check_init(struct check *c)
{
	memset(c, 0, sizeof(*c));
	c->cap = 1024;
	c->tab = calloc(c->cap, sizeof(*c->tab));
	assert_non_null(c->tab);
	c->hash = 0xcbf29ce484222325ull;
}

static void check_fini(struct check *c)
{
	free(c->tab);
}

static void violate(struct check *c, const char *fmt, ...)
{
	va_list ap;

	if (c->why[0])
		return;
	va_start(ap, fmt);
	vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
}

static struct bigmap *big_find(struct check *c, uint32_t domain, uint64_t iova)
{
	unsigned i;

	for (i = 0; i < c->nbig; i++)
		if (c->big[i].domain == domain && iova >= c->big[i].iova &&
		    iova - c->big[i].iova < c->big[i].size)
			return &c->big[i];
	return NULL;
}

/* Is [iova, iova+size) of domain mapped with perm?  pa of the first byte in *pa. */
static bool is_mapped(struct check *c, uint32_t domain, uint64_t iova, uint64_t size,
		      unsigned perm, uint64_t *pa)
{
	uint64_t a;

	for (a = iova & ~(PAGE - 1); a < iova + size; a += PAGE) {
		struct bigmap *b = big_find(c, domain, a);
		struct pent *e;

		if (b) {
			if ((b->perm & perm) != perm)
				return false;
			if (a == (iova & ~(PAGE - 1)) && pa)
				*pa = b->pa + (iova - b->iova);
			continue;
		}
		e = pfind(c, pkey(domain, a));
		if (!e || (e->perm & perm) != perm)
			return false;
		if (a == (iova & ~(PAGE - 1)) && pa)
			*pa = e->pa + (iova & (PAGE - 1));
	}
	return true;
}

static int check_emit(void *opaque, const struct ims_event *ev)
{
	struct check *c = opaque;
	const uint8_t *p = (const uint8_t *)ev;
	uint64_t a;
	size_t i;
	unsigned d;

	if (c->stop_after && c->n >= c->stop_after)
		return -EIO;
	for (i = 0; i < sizeof(*ev); i++)
		c->hash = (c->hash ^ p[i]) * 0x100000001b3ull;
	c->n++;
	if (ev->type < IMS_EV__COUNT)
		c->by_type[ev->type]++;
	if (ev->ts_ns < c->last_ts)
		violate(c, "event %llu: time goes back from %llu to %llu", (unsigned long long)c->n,
			(unsigned long long)c->last_ts, (unsigned long long)ev->ts_ns);
	c->last_ts = ev->ts_ns;
	c->ts_max = ev->ts_ns;
	if (ev->cpu > c->max_cpu)
		c->max_cpu = ev->cpu;

	switch (ev->type) {
	case IMS_EV_ATTACH:
		if (c->ndevs >= MAXDOM || ev->domain >= MAXDOM) {
			violate(c, "too many devices or domains");
			break;
		}
		c->devs[c->ndevs] = ev->dev;
		c->dev_domain[c->ndevs++] = ev->domain;
		if (ev->flags & IMS_EV_F_NESTED)
			c->parent[ev->domain] = ev->parent;
		break;
	case IMS_EV_MAP:
		if ((ev->iova | ev->size) & (PAGE - 1) || !ev->size)
			violate(c, "map of [%#llx, +%#llx) not page aligned",
				(unsigned long long)ev->iova, (unsigned long long)ev->size);
		if (ev->domain < MAXDOM && c->parent[ev->domain] &&
		    !is_mapped(c, c->parent[ev->domain], ev->pa, ev->size, 0, NULL))
			violate(c, "guest map to GPA %#llx not mapped by the parent",
				(unsigned long long)ev->pa);
		if (ev->ts_ns > 0)
			c->maps_after0++;
		if (ev->access == IMS_PERM_W)
			c->maps_rx++;
		else if (ev->access == IMS_PERM_R)
			c->maps_tx++;
		c->map_pages += ev->size / PAGE;
		if (is_mapped(c, ev->domain, ev->iova, PAGE, 0, NULL) ||
		    is_mapped(c, ev->domain, ev->iova + ev->size - PAGE, PAGE, 0, NULL))
			violate(c, "map of [%#llx, +%#llx) over a live mapping",
				(unsigned long long)ev->iova, (unsigned long long)ev->size);
		if (ev->size >= BIG) {
			if (c->nbig >= 64) {
				violate(c, "too many large maps");
				break;
			}
			c->big[c->nbig++] = (struct bigmap){ ev->domain, ev->iova, ev->size, ev->pa,
							     ev->access };
		} else {
			for (a = 0; a < ev->size; a += PAGE)
				pinsert(c, pkey(ev->domain, ev->iova + a), ev->pa + a, ev->access);
		}
		break;
	case IMS_EV_UNMAP: {
		struct bigmap *b = big_find(c, ev->domain, ev->iova);

		c->unmap_pages += ev->size / PAGE;
		if (b) {
			if (b->iova != ev->iova || b->size != ev->size)
				violate(c, "unmap of part of a large map");
			*b = c->big[--c->nbig];
			break;
		}
		for (a = 0; a < ev->size; a += PAGE) {
			struct pent *e = pfind(c, pkey(ev->domain, ev->iova + a));

			if (!e) {
				violate(c, "unmap of unmapped page %#llx in domain %u",
					(unsigned long long)(ev->iova + a), ev->domain);
				break;
			}
			e->key = TOMB;
			c->used--;
			c->tomb++;
		}
		break;
	}
	case IMS_EV_DMA: {
		unsigned need = (ev->access & IMS_ACC_WRITE) ? IMS_PERM_W : IMS_PERM_R;
		uint32_t dom = 0;
		uint64_t pa = 0;

		for (d = 0; d < c->ndevs; d++)
			if (c->devs[d] == ev->dev)
				dom = c->dev_domain[d];
		if (!dom)
			violate(c, "DMA from unattached device %#x", ev->dev);
		else if (!is_mapped(c, dom, ev->iova, ev->size, need, &pa))
			violate(c, "DMA at %#llx+%llu (access %u) outside the maps of domain %u",
				(unsigned long long)ev->iova, (unsigned long long)ev->size,
				ev->access, dom);
		else if (dom < MAXDOM && c->parent[dom] &&
			 !is_mapped(c, c->parent[dom], pa, 1, 0, NULL))
			violate(c, "guest DMA to GPA %#llx not mapped by the parent",
				(unsigned long long)pa);
		if (ev->access & IMS_ACC_WRITE)
			c->dma_wr_bytes += ev->size;
		else
			c->dma_rd_bytes += ev->size;
		if (ev->size > c->dma_max)
			c->dma_max = ev->size;
		break;
	}
	case IMS_EV_INV:
		if (c->prev.type == IMS_EV_UNMAP && c->prev.iova == ev->iova &&
		    c->prev.size == ev->size && c->prev.domain == ev->domain &&
		    ev->inv_kind == IMS_EV_INV_PAGE && (ev->flags & IMS_EV_F_NESTED))
			c->inv_ok++;
		break;
	default:
		break;
	}
	c->prev = *ev;
	return 0;
}

static char err[512];

/* Run a workload into a fresh checker; the run must succeed and keep every invariant. */
static void run_ok(const char *w, const char *params, uint64_t seed, struct check *c)
{
	int rc;

	check_init(c);
	err[0] = 0;
	rc = ims_gen_run(w, params, seed, check_emit, c, err, sizeof(err));
	if (rc)
		fail_msg("%s %s: %d %s", w, params ? params : "", rc, err);
	if (c->why[0])
		fail_msg("%s %s: %s", w, params ? params : "", c->why);
}

static void near(const char *what, double got, double want, double tol)
{
	if (!(got >= want * (1 - tol) && got <= want * (1 + tol)))
		fail_msg("%s: %g, expected %g +- %g %%", what, got, want, tol * 100);
}

/* ---- the list ---- */

static void test_names(void **state)
{
	const char *const *n = ims_gen_names();
	unsigned i;

	(void)state;
	for (i = 0; n[i]; i++) {
		const char *d = ims_gen_describe(n[i]);

		assert_non_null(d);
		assert_true(strlen(d) > 10);
	}
	assert_int_equal(i, 7);
	assert_null(ims_gen_describe("nic-tx"));
	assert_null(ims_gen_describe(NULL));
}

/* ---- every workload with its defaults ---- */

static void test_defaults(void **state)
{
	const char *const *n = ims_gen_names();
	unsigned i;

	(void)state;
	for (i = 0; n[i]; i++) {
		struct check c;
		clock_t t0 = clock();
		double secs;

		run_ok(n[i], NULL, 1, &c);
		secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
		print_message("# %-10s %7llu events, %.3f s simulated, %.3f s to generate\n", n[i],
			      (unsigned long long)c.n, (double)c.ts_max / 1e9, secs);
		if (c.n < 100000 || c.n > 1000000)
			fail_msg("%s: %llu events with the defaults", n[i], (unsigned long long)c.n);
		assert_int_equal(c.by_type[IMS_EV_ATTACH], 1);
		check_fini(&c);
	}
}

/* ---- nic-rx: the F&S setup ---- */

/*
 * The descriptor rings: one mapping of ring * desc_size bytes per queue at
 * time 0, and for every buffer filled a desc_size read and a desc_size
 * write (the completion) next to the data write.
 */
static void test_nic_rx_rings(void **state)
{
	struct check with, without;
	uint64_t bufs;

	(void)state;
	run_ok("nic-rx", "{\"duration_us\": 2000, \"desc_size\": 32}", 3, &with);
	run_ok("nic-rx", "{\"duration_us\": 2000, \"desc_size\": 0}", 3, &without);
	/*
	 * One buffer per 4 KiB packet with the default mtu and buf_size: every
	 * buffer written brings a 32-byte completion write and a 32-byte
	 * descriptor read.  (ACK reads come on top of the descriptor reads.)
	 */
	bufs = with.dma_wr_bytes / (4096 + 32);
	assert_int_equal(with.dma_wr_bytes, bufs * (4096 + 32));
	assert_true(with.dma_rd_bytes >= bufs * 32);
	assert_true(with.dma_rd_bytes - bufs * 32 <= without.dma_rd_bytes * 2 + 4096);
	near("buffers with and without rings", (double)bufs,
	     (double)without.dma_wr_bytes / 4096, 0.01);
	/*
	 * 5 queues x 1024 descriptors x 32 B = 32 KiB each, mapped once, read
	 * and write: the only maps that are neither receive buffers (write)
	 * nor transmits (read).
	 */
	assert_int_equal(with.by_type[IMS_EV_MAP], with.maps_rx + with.maps_tx + 5);
	check_fini(&with);
	check_fini(&without);
}

static void test_nic_rx_rate(void **state)
{
	struct check c;
	double secs, pages;

	(void)state;
	/* Without the descriptor rings, for exact byte counts (see test_nic_rx_rings). */
	run_ok("nic-rx", "{\"duration_us\": 20000, \"desc_size\": 0}", 7, &c);
	secs = 20000e-6;
	pages = c.dma_wr_bytes / 4096.0;
	/* Ring fill at time 0: 5 queues x 1024; every later RX map is a refill. */
	assert_int_equal(c.maps_rx - (c.maps_after0 - c.maps_tx), 5 * 1024);
	near("RX refills per second", (double)(c.maps_after0 - c.maps_tx) / secs,
	     100e9 / 8 / 4096, 0.05);
	near("bytes written per second", (double)c.dma_wr_bytes / secs, 100e9 / 8, 0.05);
	near("ACK maps per page", (double)c.maps_tx / pages, 0.02, 0.30);
	assert_int_equal(c.dma_rd_bytes, c.maps_tx * 64);
	assert_true(c.dma_max <= 4096);
	assert_true(c.max_cpu < 5);
	assert_int_equal(c.by_type[IMS_EV_INV], 0);
	check_fini(&c);

	/* 1500-byte MTU, 256-byte DMA writes (one per TLP), 2 queues. */
	run_ok("nic-rx",
	       "{\"mtu\": 1500, \"dma_size\": 256, \"cpus\": 2, \"flows\": 8, "
	       "\"duration_us\": 2000, \"ack_ratio\": 0}",
	       7, &c);
	near("packets per second (1500 B)", (double)(c.maps_after0) / 2000e-6, 100e9 / 8 / 1500,
	     0.05);
	assert_int_equal(c.dma_max, 256);
	assert_int_equal(c.maps_tx, 0);
	assert_true(c.max_cpu < 2);
	check_fini(&c);

	/* A 9000-byte MTU over 4 KiB buffers: three buffers a packet. */
	run_ok("nic-rx", "{\"mtu\": 9000, \"duration_us\": 2000, \"ack_ratio\": 0}", 7, &c);
	near("buffers per second (9000 B)", (double)c.maps_after0 / 2000e-6,
	     100e9 / 8 / 9000 * 3, 0.05);
	check_fini(&c);
}

static void test_nic_rxtx(void **state)
{
	struct check c;

	(void)state;
	run_ok("nic-rxtx", "{\"tx_ratio\": 0.5, \"ack_ratio\": 0, \"duration_us\": 5000}", 3, &c);
	near("TX bytes / RX bytes", (double)c.dma_rd_bytes / (double)c.dma_wr_bytes, 0.5, 0.05);
	near("RX bytes per second", (double)c.dma_wr_bytes / 5000e-6, 100e9 / 8, 0.05);
	check_fini(&c);
	run_ok("nic-rxtx", "{\"tx_ratio\": 2, \"ack_ratio\": 0, \"duration_us\": 2000}", 3, &c);
	near("TX bytes / RX bytes", (double)c.dma_rd_bytes / (double)c.dma_wr_bytes, 2, 0.05);
	check_fini(&c);
}

/* ---- nvme ---- */

static void test_nvme(void **state)
{
	struct check c;
	double ios;

	(void)state;
	run_ok("nvme", NULL, 5, &c);
	ios = (double)c.by_type[IMS_EV_UNMAP];
	near("IOPS", ios / 25000e-6, 400000, 0.05);
	near("pages per I/O", (double)c.map_pages / ios, 16.5, 0.05);
	assert_int_equal(c.map_pages, c.unmap_pages); /* all in flight completed */
	assert_int_equal(c.by_type[IMS_EV_MAP], c.map_pages);
	assert_int_equal(c.dma_rd_bytes, 0);         /* read_ratio 1: devices write */
	assert_int_equal(c.dma_wr_bytes, c.map_pages * 4096);
	assert_true(c.max_cpu < 4);
	check_fini(&c);

	run_ok("nvme",
	       "{\"read_ratio\": 0.3, \"min_pages\": 1, \"max_pages\": 1, \"iops\": 1e6, "
	       "\"qd\": 64, \"cpus\": 8}",
	       5, &c);
	ios = (double)c.by_type[IMS_EV_UNMAP];
	near("IOPS", ios / 25000e-6, 1e6, 0.05);
	assert_int_equal(c.map_pages, (uint64_t)ios);
	near("read share", (double)c.dma_wr_bytes / (double)(c.dma_wr_bytes + c.dma_rd_bytes), 0.3,
	     0.17);
	assert_true(c.max_cpu < 8);
	check_fini(&c);
}

/* ---- accel ---- */

struct accel_check {
	struct check c;
	uint64_t min, max, leaf;
	unsigned bad;
};

static int accel_emit(void *opaque, const struct ims_event *ev)
{
	struct accel_check *a = opaque;

	if (ev->type == IMS_EV_MAP) {
		uint64_t want = a->leaf;

		while (want > ev->size)
			want = want == (1ull << 30) ? (2ull << 20) : 4096;
		if (ev->size < a->min || ev->size > a->max || (ev->size & (ev->size - 1)) ||
		    ev->iova % ev->size || ev->pa % want)
			a->bad++;
		/* The next larger leaf must not fit. */
		if (want == 4096 && ev->pa % (2ull << 20) == 0)
			a->bad++;
		if (want == (2ull << 20) && ev->size >= (1ull << 30) && ev->pa % (1ull << 30) == 0)
			a->bad++;
	}
	return check_emit(&a->c, ev);
}

static void accel_run(const char *params, uint64_t min, uint64_t max, uint64_t leaf,
		      uint64_t count)
{
	struct accel_check a = { .min = min, .max = max, .leaf = leaf };
	int rc;

	check_init(&a.c);
	rc = ims_gen_run("accel", params, 9, accel_emit, &a, err, sizeof(err));
	if (rc)
		fail_msg("accel %s: %d %s", params, rc, err);
	if (a.c.why[0])
		fail_msg("accel %s: %s", params, a.c.why);
	assert_int_equal(a.bad, 0);
	assert_int_equal(a.c.by_type[IMS_EV_DMA], count);
	assert_true(a.c.by_type[IMS_EV_UNMAP] > 0); /* some remaps */
	assert_int_equal(a.c.by_type[IMS_EV_MAP], 4 + a.c.by_type[IMS_EV_UNMAP]);
	check_fini(&a.c);
}

static void test_accel(void **state)
{
	(void)state;
	accel_run(NULL, 1 << 20, 1 << 30, 1 << 30, 200000);
	accel_run("{\"page_size\": 2097152, \"count\": 50000}", 1 << 20, 1 << 30, 2 << 20, 50000);
	accel_run("{\"page_size\": 4096, \"min_size\": 65536, \"max_size\": 8388608, "
		  "\"count\": 50000, \"dma_size\": 65536, \"remap_prob\": 0.2}",
		  65536, 8 << 20, 4096, 50000);
}

/* ---- nested-vm ---- */

static void test_nested(void **state)
{
	struct check c;

	(void)state;
	run_ok("nested-vm", "{\"duration_us\": 5000}", 11, &c);
	assert_int_equal(c.ndevs, 1);
	assert_int_equal(c.dev_domain[0], 2);
	assert_int_equal(c.parent[2], 1);
	/* 4 GiB of guest RAM mapped 1 GiB at a time, 1 GiB aligned. */
	assert_true(c.by_type[IMS_EV_UNMAP] > 0);
	assert_int_equal(c.by_type[IMS_EV_INV], c.by_type[IMS_EV_UNMAP]);
	assert_int_equal(c.inv_ok, c.by_type[IMS_EV_INV]);
	assert_int_equal(c.by_type[IMS_EV_SYNC], c.by_type[IMS_EV_INV]);
	near("guest RX bytes per second", (double)c.dma_wr_bytes / 5000e-6, 43.5e9 / 8, 0.05);
	check_fini(&c);
	run_ok("nested-vm", "{\"host_page\": 2097152, \"guest_mem\": 1073741824, \"flows\": 4, "
			    "\"cpus\": 4, \"duration_us\": 2000}", 11, &c);
	check_fini(&c);
}

/* ---- dma-sweep ---- */

static void test_sweep(void **state)
{
	struct check c;

	(void)state;
	run_ok("dma-sweep", NULL, 2, &c);
	assert_int_equal(c.by_type[IMS_EV_MAP], (64 << 20) / 4096);
	assert_int_equal(c.by_type[IMS_EV_DMA], 500000);
	assert_int_equal(c.dma_rd_bytes, 500000 * 64);
	assert_int_equal(c.by_type[IMS_EV_UNMAP], 0);
	near("simulated time", (double)c.ts_max, 500000 * 1000.0 / 20, 0.01);
	check_fini(&c);
}

static void test_sweep_2m(void **state)
{
	struct check c;

	(void)state;
	run_ok("dma-sweep",
	       "{\"window\": 8388608, \"access_size\": 256, \"pages\": 2097152, \"count\": 10000, "
	       "\"write\": true}",
	       2, &c);
	assert_int_equal(c.by_type[IMS_EV_MAP], 4);
	assert_int_equal(c.dma_wr_bytes, 10000 * 256);
	assert_int_equal(c.dma_max, 256);
	check_fini(&c);
}

/* ---- inv-micro ---- */

static void test_inv_micro(void **state)
{
	struct check c;

	(void)state;
	run_ok("inv-micro", "{\"pages\": 16, \"iterations\": 100, \"cpus\": 2}", 4, &c);
	assert_int_equal(c.n, 1 + 100 * (16 + 2));
	assert_int_equal(c.by_type[IMS_EV_MAP], 100);
	assert_int_equal(c.by_type[IMS_EV_UNMAP], 100);
	assert_int_equal(c.map_pages, 1600);
	assert_int_equal(c.unmap_pages, 1600);
	assert_int_equal(c.max_cpu, 1);
	check_fini(&c);
	run_ok("inv-micro", "{\"pages\": 1024, \"iterations\": 10, \"touch\": false}", 4, &c);
	assert_int_equal(c.n, 1 + 10 * 2);
	check_fini(&c);
}

/* ---- determinism ---- */

static void test_determinism(void **state)
{
	static const char *const small[] = {
		"{\"duration_us\": 1000}",  "{\"duration_us\": 1000}", "{\"duration_us\": 2000}",
		"{\"count\": 5000}",        "{\"duration_us\": 1000}", "{\"count\": 5000}",
		"{\"iterations\": 20}",
	};
	const char *const *n = ims_gen_names();
	unsigned i;

	(void)state;
	for (i = 0; n[i]; i++) {
		struct check a, b, d;

		run_ok(n[i], small[i], 42, &a);
		run_ok(n[i], small[i], 42, &b);
		run_ok(n[i], small[i], 43, &d);
		if (a.hash != b.hash || a.n != b.n)
			fail_msg("%s: the same seed gave different streams", n[i]);
		if (a.hash == d.hash)
			fail_msg("%s: seeds 42 and 43 gave the same stream", n[i]);
		check_fini(&a);
		check_fini(&b);
		check_fini(&d);
	}
}

/* ---- errors ---- */

/* The run must fail with -EINVAL, emit nothing, and mention both words. */
static void bad(const char *w, const char *params, const char *w1, const char *w2)
{
	struct check c;
	int rc;

	check_init(&c);
	memset(err, 0, sizeof(err));
	rc = ims_gen_run(w, params, 1, check_emit, &c, err, sizeof(err));
	if (rc != -EINVAL)
		fail_msg("%s %s: returned %d, expected -EINVAL", w, params, rc);
	if (c.n)
		fail_msg("%s %s: %llu events emitted before the error", w, params,
			 (unsigned long long)c.n);
	if (w1 && !strstr(err, w1))
		fail_msg("%s %s: message \"%s\" does not mention \"%s\"", w, params, err, w1);
	if (w2 && !strstr(err, w2))
		fail_msg("%s %s: message \"%s\" does not mention \"%s\"", w, params, err, w2);
	check_fini(&c);
}

static void test_errors(void **state)
{
	struct check c;

	(void)state;
	bad("nic-tx", NULL, "unknown workload", "nic-tx");
	bad(NULL, NULL, "unknown workload", NULL);
	bad("nic-rx", "{\"rate\": 100}", "unknown parameter", "\"rate\"");
	bad("nic-rx", "{\"ring\": 0}", "\"ring\"", "got 0");
	bad("nic-rx", "{\"ring\": \"big\"}", "\"ring\"", "a string");
	bad("nic-rx", "{\"ring\": 1024.5}", "\"ring\"", "a real number");
	bad("nic-rx", "{\"rate_gbps\": -1}", "\"rate_gbps\"", "-1");
	bad("nic-rx", "{\"ring\": 32}", "\"ring\"", "batch");
	bad("nic-rx", "{\"buf_size\": 6000}", "\"buf_size\"", "multiple of 4096");
	bad("nic-rx", "{\"ring\": 1024, \"ring\": 512}", "parameters", "duplicate");
	bad("nic-rx", "[1, 2]", "parameters", "an array");
	bad("nic-rx", "{\"ring\": ", "parameters", "nic-rx");
	bad("nic-rx", "{\"tx_ratio\": 1}", "unknown parameter", "\"tx_ratio\"");
	bad("nic-rxtx", "{\"tx_ratio\": -0.5}", "\"tx_ratio\"", NULL);
	bad("nvme", "{\"min_pages\": 8, \"max_pages\": 4}", "\"min_pages\"", "\"max_pages\"");
	bad("nvme", "{\"max_pages\": 33}", "\"max_pages\"", "33");
	bad("accel", "{\"page_size\": 65536}", "\"page_size\"", "2097152");
	bad("accel", "{\"min_size\": 3000000}", "\"min_size\"", "power of two");
	bad("accel", "{\"min_size\": 4194304, \"max_size\": 2097152}", "\"max_size\"", NULL);
	bad("accel", "{\"dma_size\": 4096, \"burst\": 1024}", "\"dma_size\"", NULL);
	bad("nested-vm", "{\"host_page\": 65536}", "\"host_page\"", NULL);
	bad("nested-vm", "{\"guest_mem\": 100000000}", "\"guest_mem\"", NULL);
	bad("dma-sweep", "{\"pages\": 8192}", "\"pages\"", NULL);
	bad("dma-sweep", "{\"window\": 262144, \"pages\": 2097152}", "\"window\"", NULL);
	bad("dma-sweep", "{\"access_size\": 100}", "\"access_size\"", "power of two");
	bad("dma-sweep", "{\"write\": 1}", "\"write\"", "true or false");
	bad("inv-micro", "{\"pages\": 0}", "\"pages\"", NULL);
	assert_int_equal(ims_gen_run("nic-rx", NULL, 1, NULL, NULL, err, sizeof(err)), -EINVAL);

	/* Whitespace-only and empty parameters are the defaults. */
	run_ok("inv-micro", " \n", 1, &c);
	check_fini(&c);
	run_ok("inv-micro", "{}", 1, &c);
	check_fini(&c);
}

/* An emit callback's error stops the run and comes back. */
static void test_emit_error(void **state)
{
	struct check c;

	(void)state;
	check_init(&c);
	c.stop_after = 10;
	assert_int_equal(ims_gen_run("nic-rx", NULL, 1, check_emit, &c, err, sizeof(err)), -EIO);
	assert_int_equal(c.n, 10);
	assert_non_null(strstr(err, "nic-rx"));
	check_fini(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_nic_rx_rate),
		cmocka_unit_test(test_nic_rx_rings),
		cmocka_unit_test(test_nic_rxtx),
		cmocka_unit_test(test_nvme),
		cmocka_unit_test(test_accel),
		cmocka_unit_test(test_nested),
		cmocka_unit_test(test_sweep),
		cmocka_unit_test(test_sweep_2m),
		cmocka_unit_test(test_inv_micro),
		cmocka_unit_test(test_determinism),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_emit_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
