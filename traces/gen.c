/*
 * gen.c - workload generators: synthetic traces of what a kernel driver
 * and its device do through an IOMMU, in time order.
 *
 * Each generator imitates one of the benchmark workloads of
 * reference/performance.md §5 and is meant to be replayed against the
 * published figure named there (docs/workloads.md lists them):
 *
 *   nic-rx     W1: a NIC receive ring with per-buffer dma_map/dma_unmap in
 *              strict mode at line rate (Rubin et al., "Fast & Safe IO
 *              Memory Protection", SOSP 2024, §1.2: 100 Gb/s, 4 KB MTU,
 *              5 flows on 5 cores, ACK transmits).
 *   nic-rxtx   W2: the same with transmit flows sharing the IOVA space
 *              (F&S: up to about -80 % RX throughput with RX+TX).
 *   nvme       W5: fio-like random I/O, per-I/O dma_map_sg of 1-32 pages
 *              and one unmap on completion (J. Garry's 1.25-1.55 M IOPS;
 *              B. Song's map/unmap_sg latencies, §1.4).
 *   accel      W7: large physically contiguous accelerator buffers mapped
 *              with 2 MiB / 1 GiB leaves where aligned, streamed over,
 *              occasionally remapped (SMMUv3 1 MiB unmap 21-54 us, §1.4).
 *   nested-vm  W8: a guest NIC behind a vIOMMU: the host maps guest RAM
 *              into the parent (stage-2) domain, the guest maps and unmaps
 *              IOVA -> GPA in strict mode with an explicit page
 *              invalidation and wait per unmap (F&S repository 2025:
 *              1.9-2.6 IOMMU reads per page, guest qi_submit_sync 8.6-9.4 us).
 *   dma-sweep  W4: pcie-bench's random DMA over a window mapped once
 *              (Neugebauer et al., SIGCOMM 2018, §1.1: +214..+346 ns per
 *              IOTLB miss past a 256 KiB..1 MiB knee; -69/-30/-1 % for
 *              64/256/512 B reads over 64 MiB).
 *   inv-micro  W10/W6: map N contiguous pages, touch them, unmap them in one
 *              call, repeated (dma_map_benchmark; VT-d strict invalidation
 *              ~2,127 cycles; SMMUv3 1 MiB unmap 21-54 us).
 *
 * Conventions shared by all generators (docs/workloads.md, "Conventions"):
 *
 *  - Every random choice comes from the generator's own xorshift64*
 *    generator seeded (through splitmix64) from the caller's seed: the same
 *    workload, parameters and seed give the same event stream, on every
 *    host.  IOVAs come from the Linux-shaped allocator of traces/iova.c
 *    with per-CPU caches of ranges up to 32 pages, as dma-iommu.c uses it.
 *  - Events are emitted in non-decreasing ts_ns; several events may share
 *    a time stamp (a NAPI poll's unmaps and refills all happen at the
 *    packet that triggered it).
 *  - A MAP event is one iommu_map() call; the leaf size a driver model may
 *    use follows from the alignment of iova, pa and size, so a generator
 *    that wants 4 KiB leaves only places pa off the 2 MiB grid.
 *  - DMA events carry the device, the IOVA range and IMS_ACC_READ (device
 *    reads memory: TX, NVMe write) or IMS_ACC_WRITE (RX, NVMe read).  A DMA
 *    event never crosses a 4 KiB boundary unless the generator says so
 *    (accel: dma_size-aligned chunks).
 *  - Parameters are a JSON object; every name is checked, every value is
 *    range checked, and cross-field rules are checked before the first
 *    event is emitted.  Errors name the workload and the parameter.
 */
#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <iommusim/pgtable.h>
#include <iommusim/trace.h>

#include "engine/bits.h"

#define GEN_PAGE 4096ull
#define GEN_2M (2ull << 20)
#define GEN_1G (1ull << 30)
#define GEN_MAX_PARAMS 20
/* Linux's IOVA rcache holds ranges of up to 2^5 = 32 pages (iova.c). */
#define GEN_IOVA_CACHE_LG2 5

/* ---- deterministic random numbers ---- */

struct gen_rng {
	uint64_t s;
};

/* splitmix64 spreads any seed (including 0) into a non-zero state. */
static void rng_seed(struct gen_rng *r, uint64_t seed)
{
	uint64_t z = seed + 0x9e3779b97f4a7c15ull;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	r->s = z ? z : 0x2545f4914f6cdd1dull;
}

static uint64_t rng_next(struct gen_rng *r)
{
	return ims_xorshift64s(&r->s);
}

/* Uniform in [0, n); n > 0. */
static uint64_t rng_below(struct gen_rng *r, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)rng_next(r) * n) >> 64);
}

/* Uniform in [0, 1). */
static double rng_unit(struct gen_rng *r)
{
	return (double)(rng_next(r) >> 11) * 0x1p-53;
}

/* ---- parameters ---- */

enum gen_pkind { P_INT, P_NUM, P_BOOL };

struct gen_param {
	const char *name;
	enum gen_pkind kind;
	double def, min, max;
};

struct gen;
struct gen_workload {
	const char *name;
	const char *describe;
	const struct gen_param *params;
	int (*run)(struct gen *g, const double *p);
};

/* One run: the output, the random state, the error buffer. */
struct gen {
	const struct gen_workload *w;
	struct gen_rng rng;
	ims_emit_fn emit;
	void *opaque;
	uint64_t last_ts;
	char *err;
	size_t errlen;
};

static int gen_errf(struct gen *g, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int gen_errf(struct gen *g, int rc, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (g->err && g->errlen) {
		n = snprintf(g->err, g->errlen, "%s: ", g->w->name);
		if (n >= 0 && (size_t)n < g->errlen) {
			va_start(ap, fmt);
			vsnprintf(g->err + n, g->errlen - (size_t)n, fmt, ap);
			va_end(ap);
		}
	}
	return rc;
}

static size_t params_count(const struct gen_param *p)
{
	size_t n = 0;

	while (p[n].name)
		n++;
	return n;
}

static const char *json_kind(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a real number";
	case JSON_TRUE: return "true";
	case JSON_FALSE: return "false";
	default: return "null";
	}
}

static int param_expected(struct gen *g, const struct gen_param *p, const char *got)
{
	switch (p->kind) {
	case P_BOOL:
		return gen_errf(g, -EINVAL, "parameter \"%s\": expected true or false, got %s",
				p->name, got);
	case P_INT:
		return gen_errf(g, -EINVAL,
				"parameter \"%s\": expected an integer from %.17g to %.17g, got %s",
				p->name, p->min, p->max, got);
	default:
		return gen_errf(g, -EINVAL,
				"parameter \"%s\": expected a number from %g to %g, got %s", p->name,
				p->min, p->max, got);
	}
}

/*
 * Fill val[] with the defaults, then with the values of a JSON object.
 * Unknown names, wrong types and values out of range are errors naming
 * the parameter.
 */
static int params_parse(struct gen *g, const char *json, double *val)
{
	const struct gen_param *ps = g->w->params;
	size_t n = params_count(ps), i;
	json_error_t je;
	json_t *root, *v;
	const char *key;
	const char *s;
	int rc = 0;

	for (i = 0; i < n; i++)
		val[i] = ps[i].def;
	if (!json)
		return 0;
	for (s = json; *s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'; s++)
		;
	if (!*s)
		return 0;
	root = json_loads(json, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		return gen_errf(g, -EINVAL, "parameters: %d:%d: %s", je.line, je.column, je.text);
	if (!json_is_object(root)) {
		rc = gen_errf(g, -EINVAL, "parameters: expected a JSON object, got %s",
			      json_kind(root));
		goto out;
	}
	json_object_foreach(root, key, v) {
		const struct gen_param *p = NULL;
		char got[48];
		double x;

		for (i = 0; i < n; i++) {
			if (!strcmp(ps[i].name, key)) {
				p = &ps[i];
				break;
			}
		}
		if (!p) {
			rc = gen_errf(g, -EINVAL, "unknown parameter \"%s\"", key);
			goto out;
		}
		if (p->kind == P_BOOL) {
			if (!json_is_boolean(v)) {
				rc = param_expected(g, p, json_kind(v));
				goto out;
			}
			val[i] = json_is_true(v) ? 1 : 0;
			continue;
		}
		if (json_is_integer(v))
			x = (double)json_integer_value(v);
		else if (json_is_real(v) && p->kind == P_NUM)
			x = json_real_value(v);
		else {
			rc = param_expected(g, p, json_kind(v));
			goto out;
		}
		if (!(x >= p->min && x <= p->max)) {
			snprintf(got, sizeof(got), "%.17g", x);
			rc = param_expected(g, p, got);
			goto out;
		}
		val[i] = x;
	}
out:
	json_decref(root);
	return rc;
}

/* ---- emitting events ---- */

static int gen_emit(struct gen *g, struct ims_event *ev)
{
	int rc;

	/* Every generator produces its events in time order by construction. */
	assert(ev->ts_ns >= g->last_ts);
	g->last_ts = ev->ts_ns;
	rc = g->emit(g->opaque, ev);
	if (rc)
		return gen_errf(g, rc < 0 ? rc : -ECANCELED, "the output refused an event (%d)", rc);
	return 0;
}

static int ev_attach(struct gen *g, uint64_t ts, uint32_t dev, uint32_t domain, uint32_t parent)
{
	struct ims_event ev = { .ts_ns = ts, .type = IMS_EV_ATTACH, .dev = dev, .domain = domain };

	if (parent) {
		ev.flags = IMS_EV_F_NESTED;
		ev.parent = parent;
	}
	return gen_emit(g, &ev);
}

static int ev_map(struct gen *g, uint64_t ts, unsigned cpu, uint32_t domain, uint64_t iova,
		  uint64_t size, uint64_t pa, unsigned perm)
{
	struct ims_event ev = { .ts_ns = ts, .type = IMS_EV_MAP, .cpu = (uint16_t)cpu,
				.domain = domain, .iova = iova, .size = size, .pa = pa,
				.access = (uint8_t)perm };

	return gen_emit(g, &ev);
}

static int ev_unmap(struct gen *g, uint64_t ts, unsigned cpu, uint32_t domain, uint64_t iova,
		    uint64_t size)
{
	struct ims_event ev = { .ts_ns = ts, .type = IMS_EV_UNMAP, .cpu = (uint16_t)cpu,
				.domain = domain, .iova = iova, .size = size };

	return gen_emit(g, &ev);
}

/* One DMA event per `chunk` bytes, never crossing a 4 KiB boundary. */
static int ev_dma_range(struct gen *g, uint64_t ts, unsigned queue, uint32_t dev, uint64_t iova,
			uint64_t len, unsigned access, uint64_t chunk)
{
	struct ims_event ev = { .ts_ns = ts, .type = IMS_EV_DMA, .cpu = (uint16_t)queue,
				.dev = dev, .access = (uint8_t)access };
	int rc;

	while (len) {
		uint64_t n = GEN_PAGE - (iova & (GEN_PAGE - 1));

		if (n > chunk)
			n = chunk;
		if (n > len)
			n = len;
		ev.iova = iova;
		ev.size = n;
		rc = gen_emit(g, &ev);
		if (rc)
			return rc;
		iova += n;
		len -= n;
	}
	return 0;
}

/* A guest's strict-mode invalidation: page-selective, then a wait. */
static int ev_guest_inv(struct gen *g, uint64_t ts, unsigned cpu, uint32_t domain, uint64_t iova,
			uint64_t size)
{
	struct ims_event inv = { .ts_ns = ts, .type = IMS_EV_INV, .cpu = (uint16_t)cpu,
				 .flags = IMS_EV_F_NESTED, .domain = domain,
				 .inv_kind = IMS_EV_INV_PAGE, .iova = iova, .size = size };
	/* The wait (VT-d wait descriptor / SMMUv3 CMD_SYNC): SYNC carries no domain. */
	struct ims_event sync = { .ts_ns = ts, .type = IMS_EV_SYNC, .cpu = (uint16_t)cpu };
	int rc = gen_emit(g, &inv);

	return rc ? rc : gen_emit(g, &sync);
}

static int gen_iova_new(struct gen *g, unsigned iova_bits, unsigned cpus, struct ims_iova **out)
{
	int rc = ims_iova_new(GEN_PAGE, ims_mask_lg2(iova_bits), cpus, GEN_IOVA_CACHE_LG2, out);

	if (rc)
		return gen_errf(g, rc, "cannot create the IOVA allocator (%d)", rc);
	return 0;
}

static uint64_t gen_iova_alloc(struct gen *g, struct ims_iova *a, unsigned cpu, uint64_t size,
			       unsigned iova_bits, int *rc)
{
	uint64_t iova = ims_iova_alloc(a, cpu, size);

	if (!iova)
		*rc = gen_errf(g, -ENOSPC,
			       "IOVA space exhausted (%llu bytes asked, parameter \"iova_bits\" = %u)",
			       (unsigned long long)size, iova_bits);
	return iova;
}

/* A random page-aligned physical address of `unit` bytes in [base, base + size). */
static uint64_t rand_pa(struct gen *g, uint64_t base, uint64_t size, uint64_t unit)
{
	return base + rng_below(&g->rng, size / unit) * unit;
}

/* ==== nic-rx, nic-rxtx, nested-vm: a NIC with RX rings and TX queues ==== */

/*
 * The model, per receive queue (one per CPU; flow f is steered to queue
 * f % cpus as RSS would):
 *   - the ring holds `ring` descriptors, each with a buffer of buf_size
 *     bytes mapped (dma_map, DMA_FROM_DEVICE) when it was posted;
 *   - a packet of mtu bytes arrives every mtu * 8 / rate_gbps ns on the
 *     wire, on a flow chosen uniformly at random; the NIC writes it into
 *     the next ceil(mtu / buf_size) descriptors of its queue (DMA writes,
 *     dma_size bytes each, within a page);
 *   - when `batch` descriptors of a queue are used (the NAPI budget), the
 *     driver polls: it completes the queue's transmits (unmap), unmaps the
 *     used receive buffers and posts fresh ones (dma_map), all at the
 *     time of the packet that filled the batch;
 *   - each queue's descriptor ring (ring * desc_size bytes) is mapped once
 *     at start, as a driver's coherent ring memory is; for every buffer the
 *     NIC fills it reads the descriptor and writes the completion back
 *     (desc_size bytes each; 0 leaves the ring out);
 *   - ACK transmits: for each received 4 KiB of data an ACK leaves with
 *     probability ack_ratio (F&S: 0.011-0.05 ACKs per page); an ACK maps
 *     one page (the skb head), the NIC reads 64 bytes from it;
 *   - nic-rxtx: transmit data at tx_ratio times the receive rate, mtu
 *     bytes per packet, one page mapped per 4 KiB of payload (skb frags,
 *     DMA_TO_DEVICE), read by the NIC when sent.
 * nested-vm runs the same rings in the guest's stage-1 domain, adding a
 * page invalidation and a wait after every unmap.
 */
struct nic_cfg {
	double rate_gbps, ack_ratio, tx_ratio;
	uint64_t buf_size, mtu, dma_size, duration_ns, desc_size;
	unsigned ring, flows, cpus, batch, iova_bits;
	uint32_t dev, domain;
	bool guest_strict;
	uint64_t pa_base, pa_size; /* where buffers live (HPA, or GPA in a guest) */
};

struct nic_buf {
	uint64_t iova, pa, size;
};

struct nic_queue {
	struct nic_buf desc; /* the descriptor ring itself: a long-lived coherent mapping */
	struct nic_buf *ring;
	unsigned head; /* next descriptor the NIC fills */
	unsigned used; /* descriptors before head awaiting the driver */
	struct nic_buf *tx;
	unsigned ntx;
};

struct nic {
	struct gen *g;
	const struct nic_cfg *c;
	struct ims_iova *iova;
	struct nic_queue *q;
	unsigned tx_cap;
};

static int nic_map(struct nic *n, uint64_t ts, unsigned cpu, uint64_t size, uint64_t pa,
		   unsigned perm, struct nic_buf *b)
{
	int rc = 0;

	b->iova = gen_iova_alloc(n->g, n->iova, cpu, size, n->c->iova_bits, &rc);
	if (rc)
		return rc;
	b->pa = pa;
	b->size = size;
	return ev_map(n->g, ts, cpu, n->c->domain, b->iova, size, pa, perm);
}

static int nic_unmap(struct nic *n, uint64_t ts, unsigned cpu, struct nic_buf *b)
{
	int rc = ev_unmap(n->g, ts, cpu, n->c->domain, b->iova, b->size);

	if (!rc && n->c->guest_strict)
		rc = ev_guest_inv(n->g, ts, cpu, n->c->domain, b->iova, b->size);
	ims_iova_free(n->iova, cpu, b->iova, b->size);
	b->iova = 0;
	return rc;
}

static int nic_post_rx(struct nic *n, uint64_t ts, unsigned cpu, struct nic_buf *b)
{
	const struct nic_cfg *c = n->c;
	uint64_t pa = rand_pa(n->g, c->pa_base, c->pa_size, c->buf_size);

	return nic_map(n, ts, cpu, c->buf_size, pa, IMS_PERM_W, b);
}

/* NAPI poll of queue qi: transmit completions, then the used RX buffers. */
static int nic_poll(struct nic *n, uint64_t ts, unsigned qi)
{
	struct nic_queue *q = &n->q[qi];
	unsigned ring = n->c->ring, i, slot;
	int rc;

	for (i = 0; i < q->ntx; i++) {
		rc = nic_unmap(n, ts, qi, &q->tx[i]);
		if (rc)
			return rc;
	}
	q->ntx = 0;
	slot = (q->head + ring - q->used) % ring;
	for (i = 0; i < q->used; i++) {
		rc = nic_unmap(n, ts, qi, &q->ring[(slot + i) % ring]);
		if (rc)
			return rc;
	}
	for (i = 0; i < q->used; i++) {
		rc = nic_post_rx(n, ts, qi, &q->ring[(slot + i) % ring]);
		if (rc)
			return rc;
	}
	q->used = 0;
	return 0;
}

/* Transmit len bytes from queue qi: map per page, the NIC reads them. */
static int nic_send(struct nic *n, uint64_t ts, unsigned qi, uint64_t len)
{
	const struct nic_cfg *c = n->c;
	struct nic_queue *q = &n->q[qi];
	int rc;

	while (len) {
		uint64_t part = len < GEN_PAGE ? len : GEN_PAGE;
		struct nic_buf *b = &q->tx[q->ntx++];

		rc = nic_map(n, ts, qi, GEN_PAGE, rand_pa(n->g, c->pa_base, c->pa_size, GEN_PAGE),
			     IMS_PERM_R, b);
		if (!rc)
			rc = ev_dma_range(n->g, ts, qi, c->dev, b->iova, part, IMS_ACC_READ,
					  c->dma_size);
		if (rc)
			return rc;
		len -= part;
	}
	if (q->ntx + (c->mtu + GEN_PAGE - 1) / GEN_PAGE > n->tx_cap)
		return nic_poll(n, ts, qi);
	return 0;
}

static int nic_receive(struct nic *n, uint64_t ts, unsigned qi)
{
	const struct nic_cfg *c = n->c;
	struct nic_queue *q = &n->q[qi];
	uint64_t left = c->mtu;
	double acks;
	int rc;

	while (left) {
		struct nic_buf *b = &q->ring[q->head];
		uint64_t part = left < c->buf_size ? left : c->buf_size;
		uint64_t d = q->desc.iova + q->head * c->desc_size;

		rc = 0;

		/* Read the descriptor, write the data, write the completion back. */
		if (c->desc_size)
			rc = ev_dma_range(n->g, ts, qi, c->dev, d, c->desc_size, IMS_ACC_READ,
					  c->desc_size);
		if (!rc)
			rc = ev_dma_range(n->g, ts, qi, c->dev, b->iova, part, IMS_ACC_WRITE,
					  c->dma_size);
		if (!rc && c->desc_size)
			rc = ev_dma_range(n->g, ts, qi, c->dev, d, c->desc_size, IMS_ACC_WRITE,
					  c->desc_size);
		if (rc)
			return rc;
		left -= part;
		q->head = (q->head + 1) % c->ring;
		q->used++;
	}
	/* ACKs: ack_ratio per received page, drawn per packet. */
	acks = c->ack_ratio * (double)c->mtu / (double)GEN_PAGE;
	while (acks > 0) {
		if (acks >= 1 || rng_unit(&n->g->rng) < acks) {
			rc = nic_send(n, ts, qi, 64);
			if (rc)
				return rc;
		}
		acks -= 1;
	}
	if (q->used >= c->batch)
		return nic_poll(n, ts, qi);
	return 0;
}

static int nic_run(struct gen *g, const struct nic_cfg *c)
{
	struct nic n = { .g = g, .c = c };
	unsigned qi, i;
	double rx_gap = (double)c->mtu * 8.0 / c->rate_gbps; /* ns per packet */
	double tx_gap = c->tx_ratio > 0 ? rx_gap / c->tx_ratio : 0;
	uint64_t k_rx = 0, k_tx = 0;
	int rc;

	n.tx_cap = c->batch + (unsigned)((c->mtu + GEN_PAGE - 1) / GEN_PAGE) + 1;
	rc = gen_iova_new(g, c->iova_bits, c->cpus, &n.iova);
	if (rc)
		return rc;
	n.q = calloc(c->cpus, sizeof(*n.q));
	if (!n.q) {
		rc = gen_errf(g, -ENOMEM, "out of memory");
		goto out;
	}
	for (qi = 0; qi < c->cpus; qi++) {
		n.q[qi].ring = calloc(c->ring, sizeof(struct nic_buf));
		n.q[qi].tx = calloc(n.tx_cap, sizeof(struct nic_buf));
		if (!n.q[qi].ring || !n.q[qi].tx) {
			rc = gen_errf(g, -ENOMEM, "out of memory");
			goto out;
		}
	}

	/* Fill every ring at time 0 (the driver opening the device). */
	for (qi = 0; qi < c->cpus; qi++) {
		if (c->desc_size) {
			uint64_t bytes = (c->ring * c->desc_size + GEN_PAGE - 1) & ~(GEN_PAGE - 1);

			rc = nic_map(&n, 0, qi, bytes,
				     rand_pa(g, c->pa_base, c->pa_size, GEN_PAGE),
				     IMS_PERM_R | IMS_PERM_W, &n.q[qi].desc);
			if (rc)
				goto out;
		}
		for (i = 0; i < c->ring; i++) {
			rc = nic_post_rx(&n, 0, qi, &n.q[qi].ring[i]);
			if (rc)
				goto out;
		}
	}

	for (;;) {
		double t_rx = (double)k_rx * rx_gap;
		double t_tx = tx_gap > 0 ? (double)k_tx * tx_gap : INFINITY;
		bool rx = t_rx <= t_tx;
		double t = rx ? t_rx : t_tx;
		unsigned flow;

		if (t >= (double)c->duration_ns)
			break;
		flow = (unsigned)rng_below(&g->rng, c->flows);
		qi = flow % c->cpus;
		if (rx) {
			rc = nic_receive(&n, (uint64_t)t, qi);
			k_rx++;
		} else {
			rc = nic_send(&n, (uint64_t)t, qi, c->mtu);
			k_tx++;
		}
		if (rc)
			goto out;
	}
out:
	if (n.q) {
		for (qi = 0; qi < c->cpus; qi++) {
			free(n.q[qi].ring);
			free(n.q[qi].tx);
		}
		free(n.q);
	}
	ims_iova_destroy(n.iova);
	return rc;
}

/* Parameters shared by the NIC workloads, in this order. */
enum {
	NP_RATE, NP_BUF, NP_RING, NP_FLOWS, NP_CPUS, NP_MTU, NP_DURATION, NP_BATCH, NP_DMA_SIZE,
	NP_ACK, NP_IOVA_BITS, NP_DEV, NP_DESC, NP__COMMON
};

#define NIC_COMMON_PARAMS(rate, flows, cpus, dur)                                      \
	{ "rate_gbps", P_NUM, rate, 0.001, 10000 },                                  \
	{ "buf_size", P_INT, 4096, 4096, 1 << 20 },                                  \
	{ "ring", P_INT, 1024, 2, 1 << 16 },                                         \
	{ "flows", P_INT, flows, 1, 4096 },                                          \
	{ "cpus", P_INT, cpus, 1, 1024 },                                            \
	{ "mtu", P_INT, 4096, 64, 65536 },                                           \
	{ "duration_us", P_NUM, dur, 1, 1e8 },                                       \
	{ "batch", P_INT, 64, 1, 65536 },                                            \
	{ "dma_size", P_INT, 4096, 4, 4096 },                                        \
	{ "ack_ratio", P_NUM, 0.02, 0, 16 },                                         \
	{ "iova_bits", P_INT, 32, 24, 64 },                                          \
	{ "dev", P_INT, 0x10, 0, 0xffffffff },                                       \
	{ "desc_size", P_INT, 16, 0, 256 }

static int nic_cfg_fill(struct gen *g, const double *p, struct nic_cfg *c)
{
	unsigned rx_bufs;

	memset(c, 0, sizeof(*c));
	c->rate_gbps = p[NP_RATE];
	c->buf_size = (uint64_t)p[NP_BUF];
	c->ring = (unsigned)p[NP_RING];
	c->flows = (unsigned)p[NP_FLOWS];
	c->cpus = (unsigned)p[NP_CPUS];
	c->mtu = (uint64_t)p[NP_MTU];
	c->duration_ns = (uint64_t)(p[NP_DURATION] * 1000.0);
	c->batch = (unsigned)p[NP_BATCH];
	c->dma_size = (uint64_t)p[NP_DMA_SIZE];
	c->ack_ratio = p[NP_ACK];
	c->iova_bits = (unsigned)p[NP_IOVA_BITS];
	c->dev = (uint32_t)p[NP_DEV];
	c->desc_size = (uint64_t)p[NP_DESC];
	c->domain = 1;
	c->pa_base = 4 * GEN_1G; /* host RAM above 4 GiB, 64 GiB of it */
	c->pa_size = 64 * GEN_1G;
	if (c->buf_size % GEN_PAGE)
		return gen_errf(g, -EINVAL, "parameter \"buf_size\": expected a multiple of 4096, got %llu",
				(unsigned long long)c->buf_size);
	/* The ring must hold a batch plus a packet, or the NIC overruns it. */
	rx_bufs = (unsigned)((c->mtu + c->buf_size - 1) / c->buf_size);
	if (c->batch + rx_bufs > c->ring)
		return gen_errf(g, -EINVAL,
				"parameter \"ring\": %u descriptors cannot hold a batch of %u "
				"(parameter \"batch\") plus a packet of %u buffers",
				c->ring, c->batch, rx_bufs);
	return 0;
}

static const struct gen_param nic_rx_params[] = {
	NIC_COMMON_PARAMS(100, 5, 5, 20000),
	{ 0 },
};

static int run_nic_rx(struct gen *g, const double *p)
{
	struct nic_cfg c;
	int rc = nic_cfg_fill(g, p, &c);

	if (!rc)
		rc = ev_attach(g, 0, c.dev, c.domain, 0);
	return rc ? rc : nic_run(g, &c);
}

static const struct gen_param nic_rxtx_params[] = {
	NIC_COMMON_PARAMS(100, 4, 4, 20000),
	{ "tx_ratio", P_NUM, 1.0, 0, 100 },
	{ 0 },
};

static int run_nic_rxtx(struct gen *g, const double *p)
{
	struct nic_cfg c;
	int rc = nic_cfg_fill(g, p, &c);

	c.tx_ratio = p[NP__COMMON];
	if (!rc)
		rc = ev_attach(g, 0, c.dev, c.domain, 0);
	return rc ? rc : nic_run(g, &c);
}

/* ==== nested-vm ==== */

enum { NV_GUEST_MEM = NP__COMMON, NV_HOST_PAGE };

static const struct gen_param nested_params[] = {
	NIC_COMMON_PARAMS(43.5, 1, 1, 20000),
	{ "guest_mem", P_INT, 4.0 * (1 << 30), 64 << 20, 1ull << 40 },
	{ "host_page", P_INT, 1 << 30, 4096, 1 << 30 },
	{ 0 },
};

/*
 * The host (VMM) maps guest RAM, GPA [0, guest_mem), into the parent
 * domain 1 one GiB region at a time (one IOAS / VFIO map per RAM block),
 * with HPAs aligned to host_page so that a driver can use leaves of that
 * size; then the device is attached to the guest's stage-1 domain 2,
 * nested over 1 (what QEMU does when the guest enables its vIOMMU).  The
 * guest's NIC driver then runs the nic-rx model in domain 2 with IOVA ->
 * GPA maps and a strict-mode page invalidation plus wait per unmap.
 */
static int run_nested(struct gen *g, const double *p)
{
	struct nic_cfg c;
	uint64_t mem = (uint64_t)p[NV_GUEST_MEM], hpage = (uint64_t)p[NV_HOST_PAGE];
	uint64_t hpa, gpa;
	int rc = nic_cfg_fill(g, p, &c);

	if (rc)
		return rc;
	if (hpage != GEN_PAGE && hpage != GEN_2M && hpage != GEN_1G)
		return gen_errf(g, -EINVAL,
				"parameter \"host_page\": expected 4096, 2097152 or 1073741824, got %llu",
				(unsigned long long)hpage);
	if (mem % GEN_2M)
		return gen_errf(g, -EINVAL,
				"parameter \"guest_mem\": expected a multiple of 2 MiB, got %llu",
				(unsigned long long)mem);
	/* Host RAM at 64 GiB; off the next larger leaf's grid, so host_page is the largest leaf. */
	hpa = 64 * GEN_1G + (hpage == GEN_1G ? 0 : hpage);
	for (gpa = 0; gpa < mem; gpa += GEN_1G) {
		uint64_t len = mem - gpa < GEN_1G ? mem - gpa : GEN_1G;

		rc = ev_map(g, 0, 0, 1, gpa, len, hpa + gpa, IMS_PERM_R | IMS_PERM_W);
		if (rc)
			return rc;
	}
	rc = ev_attach(g, 0, c.dev, 2, 1);
	if (rc)
		return rc;
	c.domain = 2;
	c.guest_strict = true;
	c.pa_base = 16 << 20; /* guest buffers anywhere above the first 16 MiB of GPA */
	c.pa_size = mem - c.pa_base;
	return nic_run(g, &c);
}

/* ==== nvme ==== */

/*
 * fio-like closed loop: each of `cpus` submission queues keeps `qd` I/Os
 * in flight.  An I/O of n pages (uniform in [min_pages, max_pages]) is a
 * scatter list of n physically scattered 4 KiB pages that dma_map_sg maps
 * to one IOVA range (n MAP events, consecutive IOVAs); the device moves
 * the data (one DMA event per page: a write into memory near the end of
 * the I/O for a read, a read from memory near the start for a write); on
 * completion, on the submitting CPU, the range is unmapped in one call
 * and the next I/O is submitted.  Service times are uniform in
 * [0.5, 1.5] x cpus x qd / iops, so completions run at `iops` (Little's
 * law).  No I/O is submitted at or after duration_us; those in flight
 * complete, so every map has its unmap.
 */
enum { NV_IOPS, NV_QD, NV_CPUS, NV_MINP, NV_MAXP, NV_READ, NV_DUR, NV_IOVA_BITS, NV_DEV };

static const struct gen_param nvme_params[] = {
	{ "iops", P_NUM, 400000, 1, 1e9 },
	{ "qd", P_INT, 32, 1, 65536 },
	{ "cpus", P_INT, 4, 1, 1024 },
	{ "min_pages", P_INT, 1, 1, 32 },
	{ "max_pages", P_INT, 32, 1, 32 },
	{ "read_ratio", P_NUM, 1.0, 0, 1 },
	{ "duration_us", P_NUM, 25000, 1, 1e8 },
	{ "iova_bits", P_INT, 32, 24, 64 },
	{ "dev", P_INT, 0x18, 0, 0xffffffff },
	{ 0 },
};

enum nvme_step { NVME_SUBMIT, NVME_DMA, NVME_DONE };

struct nvme_io {
	uint64_t t;      /* time of its next step */
	uint64_t seq;    /* tie-break: order of scheduling */
	uint64_t t_done; /* completion time */
	uint64_t iova;
	unsigned cpu, pages;
	enum nvme_step step;
	bool read;       /* a read I/O: the device writes memory */
};

static bool nvme_before(const struct nvme_io *a, const struct nvme_io *b)
{
	return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

/* Binary min-heap of I/O slots by (t, seq). */
static void heap_down(struct nvme_io **h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		struct nvme_io *tmp;

		if (l < n && nvme_before(h[l], h[m]))
			m = l;
		if (r < n && nvme_before(h[r], h[m]))
			m = r;
		if (m == i)
			return;
		tmp = h[i];
		h[i] = h[m];
		h[m] = tmp;
		i = m;
	}
}

static int run_nvme(struct gen *g, const double *p)
{
	unsigned cpus = (unsigned)p[NV_CPUS], qd = (unsigned)p[NV_QD];
	unsigned minp = (unsigned)p[NV_MINP], maxp = (unsigned)p[NV_MAXP];
	unsigned iova_bits = (unsigned)p[NV_IOVA_BITS];
	uint32_t dev = (uint32_t)p[NV_DEV];
	uint64_t duration = (uint64_t)(p[NV_DUR] * 1000.0), seq = 0;
	size_t n = (size_t)cpus * qd, live, i;
	double mean;
	struct nvme_io *io = NULL, **h = NULL;
	struct ims_iova *a = NULL;
	int rc;

	if (minp > maxp)
		return gen_errf(g, -EINVAL,
				"parameter \"min_pages\": %u is more than parameter \"max_pages\" (%u)",
				minp, maxp);
	if (n > (1u << 20))
		return gen_errf(g, -EINVAL, "parameter \"qd\": cpus x qd = %zu is more than %u", n,
				1u << 20);
	mean = (double)n * 1e9 / p[NV_IOPS];
	rc = gen_iova_new(g, iova_bits, cpus, &a);
	if (rc)
		return rc;
	io = calloc(n, sizeof(*io));
	h = calloc(n, sizeof(*h));
	if (!io || !h) {
		rc = gen_errf(g, -ENOMEM, "out of memory");
		goto out;
	}
	rc = ev_attach(g, 0, dev, 1, 0);
	if (rc)
		goto out;
	/* Stagger the first submissions over one mean service time. */
	for (i = 0; i < n; i++) {
		io[i].cpu = (unsigned)(i % cpus);
		io[i].step = NVME_SUBMIT;
		io[i].t = (uint64_t)(rng_unit(&g->rng) * mean);
		io[i].seq = seq++;
		h[i] = &io[i];
	}
	for (i = n / 2 + 1; i-- > 0;)
		heap_down(h, n, i);
	live = n;

	while (live) {
		struct nvme_io *x = h[0];
		uint64_t t = x->t, k;

		switch (x->step) {
		case NVME_SUBMIT: {
			double lat;

			if (t >= duration) {
				/* The slot stops: drop it from the heap. */
				h[0] = h[--live];
				heap_down(h, live, 0);
				continue;
			}
			x->pages = minp + (unsigned)rng_below(&g->rng, maxp - minp + 1);
			x->read = rng_unit(&g->rng) < p[NV_READ];
			x->iova = gen_iova_alloc(g, a, x->cpu, x->pages * GEN_PAGE, iova_bits, &rc);
			if (rc)
				goto out;
			for (k = 0; k < x->pages; k++) {
				rc = ev_map(g, t, x->cpu, 1, x->iova + k * GEN_PAGE, GEN_PAGE,
					    rand_pa(g, 4 * GEN_1G, 64 * GEN_1G, GEN_PAGE),
					    x->read ? IMS_PERM_W : IMS_PERM_R);
				if (rc)
					goto out;
			}
			lat = mean * (0.5 + rng_unit(&g->rng));
			x->t_done = t + (uint64_t)lat;
			x->t = t + (uint64_t)(lat * (x->read ? 0.9 : 0.1));
			x->step = NVME_DMA;
			break;
		}
		case NVME_DMA:
			for (k = 0; k < x->pages; k++) {
				rc = ev_dma_range(g, t, x->cpu, dev, x->iova + k * GEN_PAGE, GEN_PAGE,
						  x->read ? IMS_ACC_WRITE : IMS_ACC_READ, GEN_PAGE);
				if (rc)
					goto out;
			}
			x->t = x->t_done;
			x->step = NVME_DONE;
			break;
		case NVME_DONE:
			rc = ev_unmap(g, t, x->cpu, 1, x->iova, x->pages * GEN_PAGE);
			if (rc)
				goto out;
			ims_iova_free(a, x->cpu, x->iova, x->pages * GEN_PAGE);
			x->step = NVME_SUBMIT; /* the next I/O goes out at once */
			break;
		}
		x->seq = seq++;
		heap_down(h, live, 0);
	}
out:
	free(io);
	free(h);
	ims_iova_destroy(a);
	return rc;
}

/* ==== accel ==== */

/*
 * An accelerator (GPU, DSA, NPU) with `buffers` large physically
 * contiguous buffers of power-of-two sizes drawn log-uniformly from
 * [min_size, max_size], each mapped by one iommu_map call.  The IOVA
 * allocator aligns a range to its size; the physical address is aligned
 * to the largest leaf up to page_size that fits and deliberately off the
 * next larger leaf's grid, so page_size is the largest leaf a driver can
 * use.  The device streams bursts of `burst` bytes (dma_size per DMA
 * event, burst-aligned at a random place in a random buffer) at
 * rate_gbps; after each burst, with probability remap_prob, a random
 * buffer is unmapped and a new one of a new size mapped in its place.
 * The run ends after `count` DMA events.
 */
enum { AC_BUFFERS, AC_MIN, AC_MAX, AC_PAGE, AC_BURST, AC_DMA, AC_COUNT, AC_RATE, AC_REMAP,
       AC_WRITE, AC_IOVA_BITS, AC_DEV };

static const struct gen_param accel_params[] = {
	{ "buffers", P_INT, 4, 1, 4096 },
	{ "min_size", P_INT, 1 << 20, 4096, 1ull << 36 },
	{ "max_size", P_INT, 1 << 30, 4096, 1ull << 36 },
	{ "page_size", P_INT, 1 << 30, 4096, 1 << 30 },
	{ "burst", P_INT, 1 << 20, 64, 1ull << 36 },
	{ "dma_size", P_INT, 4096, 64, 1 << 30 },
	{ "count", P_INT, 200000, 1, 1e9 },
	{ "rate_gbps", P_NUM, 256, 0.001, 100000 },
	{ "remap_prob", P_NUM, 0.02, 0, 1 },
	{ "write_ratio", P_NUM, 0.5, 0, 1 },
	{ "iova_bits", P_INT, 47, 32, 64 },
	{ "dev", P_INT, 0x20, 0, 0xffffffff },
	{ 0 },
};

struct accel_buf {
	uint64_t iova, pa, size;
};

static unsigned lg2(uint64_t x)
{
	return 63u - (unsigned)__builtin_clzll(x);
}

static int accel_map(struct gen *g, struct ims_iova *a, const double *p, uint64_t ts,
		     uint64_t *pa_next, struct accel_buf *b)
{
	unsigned lo = lg2((uint64_t)p[AC_MIN]), hi = lg2((uint64_t)p[AC_MAX]);
	uint64_t leaf = (uint64_t)p[AC_PAGE], align, pa;
	int rc = 0;

	b->size = 1ull << (lo + rng_below(&g->rng, hi - lo + 1));
	b->iova = gen_iova_alloc(g, a, 0, b->size, (unsigned)p[AC_IOVA_BITS], &rc);
	if (rc)
		return rc;
	align = leaf;
	while (align > GEN_PAGE && align > b->size)
		align = align == GEN_1G ? GEN_2M : GEN_PAGE;
	pa = (*pa_next + align - 1) & ~(align - 1);
	/* Off the next larger leaf's grid, so no larger leaf fits. */
	if (align == GEN_PAGE && !(pa & (GEN_2M - 1)))
		pa += GEN_PAGE;
	else if (align == GEN_2M && !(pa & (GEN_1G - 1)))
		pa += GEN_2M;
	b->pa = pa;
	*pa_next = pa + b->size;
	return ev_map(g, ts, 0, 1, b->iova, b->size, b->pa, IMS_PERM_R | IMS_PERM_W);
}

static int run_accel(struct gen *g, const double *p)
{
	unsigned nbuf = (unsigned)p[AC_BUFFERS], i;
	uint64_t minsz = (uint64_t)p[AC_MIN], maxsz = (uint64_t)p[AC_MAX];
	uint64_t leaf = (uint64_t)p[AC_PAGE], burst = (uint64_t)p[AC_BURST];
	uint64_t dsz = (uint64_t)p[AC_DMA], count = (uint64_t)p[AC_COUNT], done = 0;
	uint64_t pa_next = 64 * GEN_1G, ts = 0;
	uint32_t dev = (uint32_t)p[AC_DEV];
	double gap = (double)dsz * 8.0 / p[AC_RATE], t = 0;
	struct accel_buf *b = NULL;
	struct ims_iova *a = NULL;
	int rc;

	if (!ims_is_pow2(minsz))
		return gen_errf(g, -EINVAL, "parameter \"min_size\": expected a power of two, got %llu",
				(unsigned long long)minsz);
	if (!ims_is_pow2(maxsz) || maxsz < minsz)
		return gen_errf(g, -EINVAL,
				"parameter \"max_size\": expected a power of two >= min_size, got %llu",
				(unsigned long long)maxsz);
	if (leaf != GEN_PAGE && leaf != GEN_2M && leaf != GEN_1G)
		return gen_errf(g, -EINVAL,
				"parameter \"page_size\": expected 4096, 2097152 or 1073741824, got %llu",
				(unsigned long long)leaf);
	if (!ims_is_pow2(burst))
		return gen_errf(g, -EINVAL, "parameter \"burst\": expected a power of two, got %llu",
				(unsigned long long)burst);
	if (!ims_is_pow2(dsz) || dsz > burst)
		return gen_errf(g, -EINVAL,
				"parameter \"dma_size\": expected a power of two <= burst, got %llu",
				(unsigned long long)dsz);
	rc = gen_iova_new(g, (unsigned)p[AC_IOVA_BITS], 1, &a);
	if (rc)
		return rc;
	b = calloc(nbuf, sizeof(*b));
	if (!b) {
		rc = gen_errf(g, -ENOMEM, "out of memory");
		goto out;
	}
	rc = ev_attach(g, 0, dev, 1, 0);
	for (i = 0; !rc && i < nbuf; i++)
		rc = accel_map(g, a, p, 0, &pa_next, &b[i]);
	while (!rc && done < count) {
		struct accel_buf *x = &b[rng_below(&g->rng, nbuf)];
		uint64_t len = burst < x->size ? burst : x->size;
		uint64_t off = rng_below(&g->rng, x->size / len) * len, k;
		unsigned acc = rng_unit(&g->rng) < p[AC_WRITE] ? IMS_ACC_WRITE : IMS_ACC_READ;

		for (k = 0; !rc && k < len && done < count; k += dsz, done++) {
			struct ims_event ev = { .ts_ns = (uint64_t)t, .type = IMS_EV_DMA, .dev = dev,
						.access = (uint8_t)acc, .iova = x->iova + off + k,
						.size = dsz < len ? dsz : len };

			rc = gen_emit(g, &ev);
			t += gap;
		}
		ts = (uint64_t)t;
		if (!rc && done < count && rng_unit(&g->rng) < p[AC_REMAP]) {
			x = &b[rng_below(&g->rng, nbuf)];
			rc = ev_unmap(g, ts, 0, 1, x->iova, x->size);
			ims_iova_free(a, 0, x->iova, x->size);
			if (!rc)
				rc = accel_map(g, a, p, ts, &pa_next, x);
		}
	}
out:
	free(b);
	ims_iova_destroy(a);
	return rc;
}

/* ==== dma-sweep ==== */

/*
 * pcie-bench's window sweep: a host buffer of `window` bytes mapped once
 * (4 KiB pages: one map per page at scattered physical pages, as a buffer
 * of individually allocated pages; 2 MiB pages: one map per 2 MiB at
 * 2 MiB-aligned physical addresses), then `count` DMA accesses of
 * access_size bytes at uniformly random access_size-aligned offsets, one
 * every 1000 / rate_mps ns.  The window is never unmapped.
 */
enum { DS_WINDOW, DS_ACCESS, DS_PAGES, DS_COUNT, DS_RATE, DS_WRITE, DS_IOVA_BITS, DS_DEV };

static const struct gen_param sweep_params[] = {
	{ "window", P_INT, 64 << 20, 4096, 1ull << 40 },
	{ "access_size", P_INT, 64, 4, 4096 },
	{ "pages", P_INT, 4096, 4096, 2 << 20 },
	{ "count", P_INT, 500000, 1, 1e9 },
	{ "rate_mps", P_NUM, 20, 0.001, 10000 },
	{ "write", P_BOOL, 0, 0, 1 },
	{ "iova_bits", P_INT, 47, 24, 64 },
	{ "dev", P_INT, 0x10, 0, 0xffffffff },
	{ 0 },
};

static int run_sweep(struct gen *g, const double *p)
{
	uint64_t win = (uint64_t)p[DS_WINDOW], asz = (uint64_t)p[DS_ACCESS];
	uint64_t pg = (uint64_t)p[DS_PAGES], count = (uint64_t)p[DS_COUNT], base, k;
	uint32_t dev = (uint32_t)p[DS_DEV];
	unsigned acc = p[DS_WRITE] != 0 ? IMS_ACC_WRITE : IMS_ACC_READ;
	double gap = 1000.0 / p[DS_RATE];
	struct ims_iova *a = NULL;
	int rc = 0;

	if (pg != GEN_PAGE && pg != GEN_2M)
		return gen_errf(g, -EINVAL, "parameter \"pages\": expected 4096 or 2097152, got %llu",
				(unsigned long long)pg);
	if (win % pg)
		return gen_errf(g, -EINVAL,
				"parameter \"window\": expected a multiple of pages (%llu), got %llu",
				(unsigned long long)pg, (unsigned long long)win);
	if (!ims_is_pow2(asz))
		return gen_errf(g, -EINVAL,
				"parameter \"access_size\": expected a power of two, got %llu",
				(unsigned long long)asz);
	rc = gen_iova_new(g, (unsigned)p[DS_IOVA_BITS], 1, &a);
	if (rc)
		return rc;
	rc = ev_attach(g, 0, dev, 1, 0);
	if (rc)
		goto out;
	base = gen_iova_alloc(g, a, 0, win, (unsigned)p[DS_IOVA_BITS], &rc);
	if (rc)
		goto out;
	for (k = 0; k < win; k += pg) {
		/* 4 KiB: scattered pages; 2 MiB: scattered 2 MiB frames off the 1 GiB grid. */
		uint64_t pa = rand_pa(g, 4 * GEN_1G, 64 * GEN_1G, pg);

		if (pg == GEN_2M && !(pa & (GEN_1G - 1)))
			pa += GEN_2M;
		rc = ev_map(g, 0, 0, 1, base + k, pg, pa, IMS_PERM_R | IMS_PERM_W);
		if (rc)
			goto out;
	}
	for (k = 0; k < count; k++) {
		struct ims_event ev = { .ts_ns = (uint64_t)((double)k * gap), .type = IMS_EV_DMA,
					.dev = dev, .access = (uint8_t)acc, .size = asz };

		ev.iova = base + rng_below(&g->rng, win / asz) * asz;
		rc = gen_emit(g, &ev);
		if (rc)
			goto out;
	}
out:
	ims_iova_destroy(a);
	return rc;
}

/* ==== inv-micro ==== */

/*
 * dma_map_benchmark's loop, one CPU at a time: map `pages` physically
 * contiguous pages (one map call; pa aligned to the buffer's power-of-two
 * size, as alloc_pages gives), let the device touch each page once (so
 * the caches hold something to invalidate; touch = false skips it), and
 * unmap the whole range in one call interval_ns / 2 later; one iteration
 * every interval_ns, on CPU i % cpus.
 */
enum { IM_PAGES, IM_ITER, IM_TOUCH, IM_INTERVAL, IM_CPUS, IM_IOVA_BITS, IM_DEV };

static const struct gen_param inv_params[] = {
	{ "pages", P_INT, 256, 1, 1 << 18 },
	{ "iterations", P_INT, 2000, 1, 1e9 },
	{ "touch", P_BOOL, 1, 0, 1 },
	{ "interval_ns", P_INT, 2000, 2, 1e12 },
	{ "cpus", P_INT, 1, 1, 1024 },
	{ "iova_bits", P_INT, 47, 24, 64 },
	{ "dev", P_INT, 0x10, 0, 0xffffffff },
	{ 0 },
};

static int run_inv(struct gen *g, const double *p)
{
	uint64_t pages = (uint64_t)p[IM_PAGES], iters = (uint64_t)p[IM_ITER], it, k;
	uint64_t interval = (uint64_t)p[IM_INTERVAL], size = pages * GEN_PAGE, align = GEN_PAGE;
	unsigned cpus = (unsigned)p[IM_CPUS], bits = (unsigned)p[IM_IOVA_BITS];
	uint32_t dev = (uint32_t)p[IM_DEV];
	struct ims_iova *a = NULL;
	int rc;

	while (align < size)
		align <<= 1;
	rc = gen_iova_new(g, bits, cpus, &a);
	if (rc)
		return rc;
	rc = ev_attach(g, 0, dev, 1, 0);
	for (it = 0; !rc && it < iters; it++) {
		uint64_t t = it * interval, iova;
		unsigned cpu = (unsigned)(it % cpus);
		uint64_t pa = rand_pa(g, 4 * GEN_1G, 64 * GEN_1G, align);

		iova = gen_iova_alloc(g, a, cpu, size, bits, &rc);
		if (rc)
			break;
		rc = ev_map(g, t, cpu, 1, iova, size, pa, IMS_PERM_R | IMS_PERM_W);
		for (k = 0; !rc && p[IM_TOUCH] != 0 && k < pages; k++)
			rc = ev_dma_range(g, t, cpu, dev, iova + k * GEN_PAGE, 64, IMS_ACC_READ, 64);
		if (!rc)
			rc = ev_unmap(g, t + interval / 2, cpu, 1, iova, size);
		ims_iova_free(a, cpu, iova, size);
	}
	ims_iova_destroy(a);
	return rc;
}

/* ==== the table ==== */

static const struct gen_workload workloads[] = {
	{ "nic-rx",
	  "NIC RX ring, per-buffer map/unmap at line rate, strict (F&S SOSP'24, W1)",
	  nic_rx_params, run_nic_rx },
	{ "nic-rxtx",
	  "NIC RX plus TX flows sharing the IOVA space (F&S SOSP'24 RX+TX, W2)",
	  nic_rxtx_params, run_nic_rxtx },
	{ "nvme",
	  "NVMe random I/O, per-I/O map_sg of 1-32 pages, unmap on completion (W5)",
	  nvme_params, run_nvme },
	{ "accel",
	  "accelerator: large contiguous buffers, 2M/1G leaves, streaming DMA, remaps (W7)",
	  accel_params, run_accel },
	{ "nested-vm",
	  "guest NIC behind a vIOMMU: stage-1 maps over host stage-2, strict guest invalidations (W8)",
	  nested_params, run_nested },
	{ "dma-sweep",
	  "pcie-bench random DMA over a window mapped once, 4K or 2M pages (SIGCOMM'18, W4)",
	  sweep_params, run_sweep },
	{ "inv-micro",
	  "map N contiguous pages, touch, unmap in one call, repeated (dma_map_benchmark, W10)",
	  inv_params, run_inv },
};

#define NWORKLOADS IMS_ARRAY_SIZE(workloads)

static const char *const workload_names[] = {
	"nic-rx", "nic-rxtx", "nvme", "accel", "nested-vm", "dma-sweep", "inv-micro", NULL,
};

_Static_assert(IMS_ARRAY_SIZE(workload_names) == NWORKLOADS + 1,
	       "workload_names matches workloads[]");

const char *const *ims_gen_names(void)
{
	return workload_names;
}

static const struct gen_workload *workload_find(const char *name)
{
	size_t i;

	for (i = 0; name && i < NWORKLOADS; i++)
		if (!strcmp(workloads[i].name, name))
			return &workloads[i];
	return NULL;
}

const char *ims_gen_describe(const char *workload)
{
	const struct gen_workload *w = workload_find(workload);

	return w ? w->describe : NULL;
}

int ims_gen_run(const char *workload, const char *params_json, uint64_t seed, ims_emit_fn emit,
		void *opaque, char *err, size_t errlen)
{
	const struct gen_workload *w = workload_find(workload);
	double val[GEN_MAX_PARAMS];
	struct gen g = { .w = w, .emit = emit, .opaque = opaque, .err = err, .errlen = errlen };
	int rc;

	if (err && errlen)
		err[0] = 0;
	if (!w) {
		if (err && errlen)
			snprintf(err, errlen,
				 "unknown workload \"%s\" (known: nic-rx, nic-rxtx, nvme, accel, "
				 "nested-vm, dma-sweep, inv-micro)",
				 workload ? workload : "(null)");
		return -EINVAL;
	}
	if (!emit)
		return gen_errf(&g, -EINVAL, "no emit callback");
	rc = params_parse(&g, params_json, val);
	if (rc)
		return rc;
	rng_seed(&g.rng, seed);
	return w->run(&g, val);
}
