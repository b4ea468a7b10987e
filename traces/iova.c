/*
 * iova.c - an IOVA allocator modelled on Linux's, for workload generators
 * that must pick IO virtual addresses the way a kernel does.
 *
 * What it imitates (Linux drivers/iommu/iova.c and dma-iommu.c, 6.x):
 *  1. Sizes.  A request of n 4 KiB pages with n < 2^cache_max_lg2 is rounded
 *     up to a power of two (iommu_dma_alloc_iova: "freeing
 *     non-power-of-two-sized allocations back into the IOVA caches will come
 *     back to bite us"); larger ones keep their size.
 *  2. Placement (__alloc_and_insert_iova_range with size_aligned): the range
 *     is aligned to its size rounded up to a power of two and placed as high
 *     as it fits below the limit, searching downwards from just below the
 *     last allocation (the "cached node"), and once more from the limit when
 *     that fails.  Freeing a range at or above the cached position moves it
 *     up to the next allocation above the freed range, as
 *     __cached_rbnode_delete_update does.
 *  3. Per-CPU caches (the "rcache", Bonwick magazines): for every order
 *     0..cache_max_lg2 each CPU holds a loaded and a previous magazine of
 *     IOVA_MAG_SIZE = 127 ranges, backed by a depot of full magazines.
 *     Free: push into loaded; if full, swap with prev when prev is not full;
 *     else move loaded to the depot (when the depot is full, its ranges go
 *     back to the tree) and start an empty one.  Alloc: pop from loaded, else
 *     from prev (swapped in), else take a full magazine from the depot, else
 *     fall back to the tree.  If the tree is full too, every cache is flushed
 *     back to the tree and the allocation retried once (alloc_iova_fast).
 *     The depot is bounded at MAX_GLOBAL_MAGS = 32 magazines, as before
 *     Linux 6.7; later kernels let it grow and trim it on a 100 ms timer,
 *     which a time-free model cannot imitate.
 * What it does not: the separate 32-bit cached node and max32_alloc_size
 * shortcut (one limit here), NUMA, and locking.
 *
 * The tree is a sorted array of allocated ranges (binary search, memmove on
 * insert and delete): simple and deterministic; the caches absorb most
 * traffic of small sizes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <iommusim/trace.h>

#define IOVA_PAGE_LG2 12
#define IOVA_MAG_SIZE 127
#define MAX_GLOBAL_MAGS 32
#define IOVA_MAX_CACHE_LG2 20

struct iova_range {
	uint64_t first, last; /* pfns, inclusive */
};

struct iova_mag {
	unsigned n;
	uint64_t pfn[IOVA_MAG_SIZE];
};

struct iova_cpu_cache {
	struct iova_mag *loaded, *prev;
};

struct iova_rcache {
	struct iova_mag *depot[MAX_GLOBAL_MAGS];
	unsigned ndepot;
	struct iova_cpu_cache *cpu; /* [ncpus] */
};

struct ims_iova {
	uint64_t base_pfn, limit_pfn; /* inclusive */
	unsigned ncpus, cache_max_lg2;
	struct iova_range *r;         /* sorted by first */
	size_t n, cap;
	uint64_t cached_hi;           /* search below this pfn first (exclusive) */
	struct iova_rcache *rcache;   /* [cache_max_lg2 + 1] or NULL */
};

static unsigned order_base_2(uint64_t n)
{
	return n <= 1 ? 0 : 64u - (unsigned)__builtin_clzll(n - 1);
}

static bool cacheable(const struct ims_iova *a, unsigned order)
{
	return a->rcache && order <= a->cache_max_lg2;
}

/* Step 1: the number of pages an allocation of size bytes occupies. */
static uint64_t iova_pages(const struct ims_iova *a, uint64_t size)
{
	uint64_t pages = (size >> IOVA_PAGE_LG2) + ((size & ((1u << IOVA_PAGE_LG2) - 1)) != 0);

	if (pages == 0)
		pages = 1;
	if (a->cache_max_lg2 && pages < (UINT64_C(1) << a->cache_max_lg2))
		pages = UINT64_C(1) << order_base_2(pages);
	return pages;
}

int ims_iova_new(uint64_t base, uint64_t limit, unsigned cpus, unsigned cache_max_lg2,
		 struct ims_iova **out)
{
	struct ims_iova *a;
	uint64_t base_pfn = (base + (1u << IOVA_PAGE_LG2) - 1) >> IOVA_PAGE_LG2;
	uint64_t limit_pfn = limit >> IOVA_PAGE_LG2;

	if (!out || cpus == 0 || base < (1u << IOVA_PAGE_LG2) || limit == UINT64_MAX ||
	    cache_max_lg2 > IOVA_MAX_CACHE_LG2)
		return -EINVAL;
	/* The last page must lie wholly below limit (inclusive). */
	if (((limit + 1) & ((1u << IOVA_PAGE_LG2) - 1)) != 0) {
		if (limit_pfn == 0)
			return -EINVAL;
		limit_pfn--;
	}
	if (limit_pfn < base_pfn)
		return -EINVAL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->base_pfn = base_pfn;
	a->limit_pfn = limit_pfn;
	a->ncpus = cpus;
	a->cache_max_lg2 = cache_max_lg2;
	a->cached_hi = limit_pfn + 1;
	if (cache_max_lg2) {
		a->rcache = calloc(cache_max_lg2 + 1, sizeof(*a->rcache));
		if (!a->rcache) {
			free(a);
			return -ENOMEM;
		}
		for (unsigned o = 0; o <= cache_max_lg2; o++) {
			a->rcache[o].cpu = calloc(cpus, sizeof(*a->rcache[o].cpu));
			if (!a->rcache[o].cpu) {
				ims_iova_destroy(a);
				return -ENOMEM;
			}
		}
	}
	*out = a;
	return 0;
}

/* ---- the tree (sorted array) ---- */

/* Index of the first range with first > pfn. */
static size_t upper_bound(const struct ims_iova *a, uint64_t pfn)
{
	size_t lo = 0, hi = a->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (a->r[mid].first > pfn)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/*
 * Top-down search in [low, high) (pfns, high exclusive) for pages aligned
 * to align (a power of two).  Returns the first pfn, or UINT64_MAX.
 */
static uint64_t search(const struct ims_iova *a, uint64_t low, uint64_t high, uint64_t pages,
		       uint64_t align)
{
	size_t i = upper_bound(a, high == 0 ? 0 : high - 1);

	/* Ranges at index >= i start at or above high; the gaps lie below. */
	for (;;) {
		uint64_t floor = i ? a->r[i - 1].last + 1 : low, cand;

		if (floor < low)
			floor = low;
		if (i && a->r[i - 1].last + 1 > high) {
			/* A range straddles high: the gap starts below it. */
			high = a->r[i - 1].first;
			i--;
			continue;
		}
		if (high >= pages) {
			cand = (high - pages) & ~(align - 1);
			if (cand >= floor)
				return cand;
		}
		if (i == 0 || a->r[i - 1].first <= low)
			return UINT64_MAX;
		high = a->r[i - 1].first;
		i--;
	}
}

static int tree_insert(struct ims_iova *a, uint64_t first, uint64_t pages)
{
	size_t i = upper_bound(a, first);

	if (a->n == a->cap) {
		size_t cap = a->cap ? 2 * a->cap : 64;
		struct iova_range *r = realloc(a->r, cap * sizeof(*r));

		if (!r)
			return -ENOMEM;
		a->r = r;
		a->cap = cap;
	}
	memmove(&a->r[i + 1], &a->r[i], (a->n - i) * sizeof(*a->r));
	a->r[i].first = first;
	a->r[i].last = first + pages - 1;
	a->n++;
	return 0;
}

/* Step 2: allocate from the tree; 0 when there is no room. */
static uint64_t tree_alloc(struct ims_iova *a, uint64_t pages)
{
	uint64_t align = UINT64_C(1) << order_base_2(pages), pfn;
	uint64_t top = a->limit_pfn + 1;

	pfn = search(a, a->base_pfn, a->cached_hi < top ? a->cached_hi : top, pages, align);
	if (pfn == UINT64_MAX && a->cached_hi < top)
		pfn = search(a, a->base_pfn, top, pages, align);
	if (pfn == UINT64_MAX || tree_insert(a, pfn, pages))
		return 0;
	a->cached_hi = pfn;
	return pfn;
}

static void tree_free(struct ims_iova *a, uint64_t pfn)
{
	size_t i = upper_bound(a, pfn);

	if (i == 0 || a->r[i - 1].first != pfn)
		return; /* not allocated: ignored */
	i--;
	if (pfn >= a->cached_hi)
		a->cached_hi = i + 1 < a->n ? a->r[i + 1].first : a->limit_pfn + 1;
	memmove(&a->r[i], &a->r[i + 1], (a->n - i - 1) * sizeof(*a->r));
	a->n--;
}

/* ---- Step 3: the per-CPU caches ---- */

static void mag_free_pfns(struct ims_iova *a, struct iova_mag *m)
{
	for (unsigned i = 0; m && i < m->n; i++)
		tree_free(a, m->pfn[i]);
	if (m)
		m->n = 0;
}

static bool rcache_insert(struct ims_iova *a, unsigned cpu, unsigned order, uint64_t pfn)
{
	struct iova_rcache *rc = &a->rcache[order];
	struct iova_cpu_cache *c = &rc->cpu[cpu];

	if (!c->loaded && !(c->loaded = calloc(1, sizeof(*c->loaded))))
		return false;
	if (c->loaded->n == IOVA_MAG_SIZE && !c->prev) {
		/* Linux starts with an empty prev: the first overflow swaps into it. */
		c->prev = c->loaded;
		if (!(c->loaded = calloc(1, sizeof(*c->loaded)))) {
			c->loaded = c->prev;
			c->prev = NULL;
			return false;
		}
	} else if (c->loaded->n == IOVA_MAG_SIZE) {
		if (c->prev->n < IOVA_MAG_SIZE) {
			struct iova_mag *t = c->loaded;

			c->loaded = c->prev;
			c->prev = t;
		} else {
			struct iova_mag *fresh = calloc(1, sizeof(*fresh));

			if (!fresh)
				return false;
			if (rc->ndepot < MAX_GLOBAL_MAGS) {
				rc->depot[rc->ndepot++] = c->loaded;
			} else {
				mag_free_pfns(a, c->loaded);
				free(c->loaded);
			}
			c->loaded = fresh;
		}
	}
	c->loaded->pfn[c->loaded->n++] = pfn;
	return true;
}

static uint64_t rcache_get(struct ims_iova *a, unsigned cpu, unsigned order)
{
	struct iova_rcache *rc = &a->rcache[order];
	struct iova_cpu_cache *c = &rc->cpu[cpu];

	if (!c->loaded || c->loaded->n == 0) {
		if (c->prev && c->prev->n) {
			struct iova_mag *t = c->loaded;

			c->loaded = c->prev;
			c->prev = t;
		} else if (rc->ndepot) {
			free(c->loaded);
			c->loaded = rc->depot[--rc->ndepot];
		} else {
			return 0;
		}
	}
	return c->loaded->pfn[--c->loaded->n];
}

/* Every cached range of every CPU and the depots back to the tree. */
static void rcache_flush(struct ims_iova *a)
{
	if (!a->rcache)
		return;
	for (unsigned o = 0; o <= a->cache_max_lg2; o++) {
		struct iova_rcache *rc = &a->rcache[o];

		for (unsigned c = 0; c < a->ncpus; c++) {
			mag_free_pfns(a, rc->cpu[c].loaded);
			mag_free_pfns(a, rc->cpu[c].prev);
		}
		for (unsigned d = 0; d < rc->ndepot; d++) {
			mag_free_pfns(a, rc->depot[d]);
			free(rc->depot[d]);
		}
		rc->ndepot = 0;
	}
}

uint64_t ims_iova_alloc(struct ims_iova *a, unsigned cpu, uint64_t size)
{
	uint64_t pages, pfn;
	unsigned order;

	if (!a)
		return 0;
	cpu %= a->ncpus;
	pages = iova_pages(a, size);
	order = order_base_2(pages);
	if (cacheable(a, order) && (pfn = rcache_get(a, cpu, order)))
		return pfn << IOVA_PAGE_LG2;
	pfn = tree_alloc(a, pages);
	if (!pfn && a->rcache) {
		rcache_flush(a);
		pfn = tree_alloc(a, pages);
	}
	return pfn << IOVA_PAGE_LG2;
}

void ims_iova_free(struct ims_iova *a, unsigned cpu, uint64_t iova, uint64_t size)
{
	uint64_t pages, pfn = iova >> IOVA_PAGE_LG2;
	unsigned order;

	if (!a || !iova)
		return;
	cpu %= a->ncpus;
	pages = iova_pages(a, size);
	order = order_base_2(pages);
	if (cacheable(a, order) && rcache_insert(a, cpu, order, pfn))
		return;
	tree_free(a, pfn);
}

void ims_iova_free_all(struct ims_iova *a)
{
	if (!a)
		return;
	rcache_flush(a);
	a->n = 0;
	a->cached_hi = a->limit_pfn + 1;
}

void ims_iova_destroy(struct ims_iova *a)
{
	if (!a)
		return;
	if (a->rcache) {
		for (unsigned o = 0; o <= a->cache_max_lg2; o++) {
			struct iova_rcache *rc = &a->rcache[o];

			for (unsigned c = 0; rc->cpu && c < a->ncpus; c++) {
				free(rc->cpu[c].loaded);
				free(rc->cpu[c].prev);
			}
			for (unsigned d = 0; d < rc->ndepot; d++)
				free(rc->depot[d]);
			free(rc->cpu);
		}
		free(a->rcache);
	}
	free(a->r);
	free(a);
}
