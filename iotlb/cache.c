/*
 * cache.c - the generic set-associative cache (see iommusim/cache.h).
 *
 * Storage is flat: tags[set * ways + way], payloads likewise, and one
 * 32-bit replacement word per way (LRU: last use stamp; FIFO: fill stamp)
 * plus one per set (PLRU tree bits; RR pointer).  A tag's valid bit lives
 * in the tag itself, so a lookup is one compare of two words per way.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <iommusim/cache.h>

#include "engine/bits.h"

struct ims_cache {
	struct ims_cache_geom g;
	uint32_t sets, sets_lg2, ways, ways_lg2;
	size_t payload_size;
	struct ims_cache_tag *tags;
	uint8_t *payloads;
	uint32_t *stamp;     /* per way */
	uint32_t *setword;   /* per set */
	uint32_t clock;
	uint64_t rng;
	uint64_t mods;       /* fills and drops: anything that changes what hits */
	uint32_t last_slot;  /* slot of the last hit */
	struct ims_cache_stats stats;
};

static const char *const policy_names[] = {
	[IMS_CACHE_LRU] = "lru",     [IMS_CACHE_PLRU] = "plru", [IMS_CACHE_FIFO] = "fifo",
	[IMS_CACHE_RANDOM] = "random", [IMS_CACHE_RR] = "rr",
};

int ims_cache_policy_parse(const char *name)
{
	for (unsigned i = 0; i < IMS_ARRAY_SIZE(policy_names); i++)
		if (!strcmp(policy_names[i], name))
			return (int)i;
	return -1;
}

const char *ims_cache_policy_name(enum ims_cache_policy policy)
{
	return (unsigned)policy < IMS_ARRAY_SIZE(policy_names)
		       ? policy_names[policy]
		       : "?";
}

int ims_cache_geom_check(const struct ims_cache_geom *g)
{
	if (g->entries == 0)
		return 0;
	if (!ims_is_pow2(g->entries) || !ims_is_pow2(g->ways) || g->ways > g->entries ||
	    (unsigned)g->policy > IMS_CACHE_RR)
		return -EINVAL;
	/* Tree PLRU keeps ways - 1 node bits in one 32-bit word per set. */
	if (g->policy == IMS_CACHE_PLRU && g->ways > 32)
		return -EINVAL;
	return 0;
}

struct ims_cache *ims_cache_new(const struct ims_cache_geom *g, size_t payload_size)
{
	struct ims_cache *c;

	if (ims_cache_geom_check(g) || g->entries == 0)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->g = *g;
	c->ways = g->ways;
	c->ways_lg2 = (uint32_t)__builtin_ctz(g->ways);
	c->sets = g->entries / g->ways;
	c->sets_lg2 = (uint32_t)__builtin_ctz(c->sets);
	c->payload_size = (payload_size + 7) & ~(size_t)7;
	c->tags = calloc(g->entries, sizeof(*c->tags));
	c->payloads = calloc(g->entries, c->payload_size ? c->payload_size : 1);
	c->stamp = calloc(g->entries, sizeof(*c->stamp));
	c->setword = calloc(c->sets, sizeof(*c->setword));
	/* xorshift64* must not start at zero. */
	c->rng = g->seed ? g->seed : UINT64_C(0x9e3779b97f4a7c15);
	if (!c->tags || !c->payloads || !c->stamp || !c->setword) {
		ims_cache_free(c);
		return NULL;
	}
	return c;
}

void ims_cache_free(struct ims_cache *c)
{
	if (!c)
		return;
	free(c->tags);
	free(c->payloads);
	free(c->stamp);
	free(c->setword);
	free(c);
}

const struct ims_cache_geom *ims_cache_geom(const struct ims_cache *c)
{
	return &c->g;
}

struct ims_cache_stats *ims_cache_stats(struct ims_cache *c)
{
	return &c->stats;
}

uint32_t ims_cache_set_of(const struct ims_cache *c, uint64_t key)
{
	if (c->sets == 1)
		return 0;
	/* Fibonacci hashing: the top bits of a multiplicative hash. */
	return (uint32_t)((key * UINT64_C(0x9e3779b97f4a7c15)) >> (64 - c->sets_lg2));
}

static inline void *payload(const struct ims_cache *c, uint32_t slot)
{
	return c->payloads + (size_t)slot * c->payload_size;
}

/*
 * Tree pseudo-LRU: ways-1 node bits in a binary tree; a bit says which half
 * the next victim comes from (0 = left).  Touching a way points every node
 * on its path away from it.
 */
static void plru_touch(struct ims_cache *c, uint32_t set, uint32_t way)
{
	uint32_t bits = c->setword[set], node = 1, lo = 0, n = c->ways;

	while (n > 1) {
		n /= 2;
		if (way < lo + n) {
			bits |= 1u << node; /* victim from the right half next */
			node = 2 * node;
		} else {
			bits &= ~(1u << node);
			lo += n;
			node = 2 * node + 1;
		}
	}
	c->setword[set] = bits;
}

static uint32_t plru_victim(const struct ims_cache *c, uint32_t set)
{
	uint32_t bits = c->setword[set], node = 1, lo = 0, n = c->ways;

	while (n > 1) {
		n /= 2;
		if (bits & (1u << node)) {
			lo += n;
			node = 2 * node + 1;
		} else {
			node = 2 * node;
		}
	}
	return lo;
}

static inline __attribute__((always_inline)) void touch(struct ims_cache *c, uint32_t set,
						       uint32_t way, bool fill)
{
	uint32_t slot = set * c->ways + way;

	switch (c->g.policy) {
	case IMS_CACHE_LRU:
		c->stamp[slot] = ++c->clock;
		break;
	case IMS_CACHE_PLRU:
		plru_touch(c, set, way);
		break;
	case IMS_CACHE_FIFO:
		if (fill)
			c->stamp[slot] = ++c->clock;
		break;
	default:
		break;
	}
}

long ims_cache_probe(const struct ims_cache *c, uint64_t key, const struct ims_cache_tag *tag)
{
	uint32_t base = ims_cache_set_of(c, key) * c->ways;
	uint64_t b = tag->b | IMS_CACHE_TAG_VALID;

	for (uint32_t w = 0; w < c->ways; w++) {
		const struct ims_cache_tag *t = &c->tags[base + w];

		if (t->a == tag->a && t->b == b)
			return (long)(base + w);
	}
	return -1;
}

static inline __attribute__((always_inline)) void count_hits(struct ims_cache *c, uint32_t slot,
								uint64_t n)
{
	c->stats.lookups += n;
	c->stats.hits += n;
	c->last_slot = slot;
	touch(c, slot >> c->ways_lg2, slot & (c->ways - 1), false);
}

void *ims_cache_hit(struct ims_cache *c, uint32_t slot)
{
	count_hits(c, slot, 1);
	return payload(c, slot);
}

void ims_cache_hit_n(struct ims_cache *c, uint32_t slot, uint64_t n)
{
	count_hits(c, slot, n);
}

void ims_cache_miss(struct ims_cache *c)
{
	c->stats.lookups++;
	c->stats.misses++;
}

void *ims_cache_lookup(struct ims_cache *c, uint64_t key, const struct ims_cache_tag *tag)
{
	long slot = ims_cache_probe(c, key, tag);

	if (slot < 0) {
		ims_cache_miss(c);
		return NULL;
	}
	return ims_cache_hit(c, (uint32_t)slot);
}

uint32_t ims_cache_last_slot(const struct ims_cache *c)
{
	return c->last_slot;
}

uint64_t ims_cache_mods(const struct ims_cache *c)
{
	return c->mods;
}

static uint32_t victim(struct ims_cache *c, uint32_t set)
{
	uint32_t base = set * c->ways, best = 0;

	switch (c->g.policy) {
	case IMS_CACHE_LRU:
	case IMS_CACHE_FIFO:
		/* Oldest stamp; unsigned difference from the clock survives wrap. */
		for (uint32_t w = 1; w < c->ways; w++)
			if (c->clock - c->stamp[base + w] > c->clock - c->stamp[base + best])
				best = w;
		return best;
	case IMS_CACHE_PLRU:
		return plru_victim(c, set);
	case IMS_CACHE_RANDOM:
		return (uint32_t)(ims_xorshift64s(&c->rng) >> 32) & (c->ways - 1);
	case IMS_CACHE_RR:
	default:
		best = c->setword[set];
		c->setword[set] = (best + 1) & (c->ways - 1);
		return best;
	}
}

void *ims_cache_fill(struct ims_cache *c, uint64_t key, const struct ims_cache_tag *tag,
		     bool *evicted, struct ims_cache_tag *victim_tag)
{
	uint32_t set = ims_cache_set_of(c, key), base = set * c->ways, way = c->ways;
	uint64_t b = tag->b | IMS_CACHE_TAG_VALID;

	*evicted = false;
	for (uint32_t w = 0; w < c->ways; w++) {
		const struct ims_cache_tag *t = &c->tags[base + w];

		if (t->a == tag->a && t->b == b) {
			touch(c, set, w, true);
			return payload(c, base + w);
		}
		if (way == c->ways && !(t->b & IMS_CACHE_TAG_VALID))
			way = w;
	}
	if (way == c->ways) {
		way = victim(c, set);
		*evicted = true;
		c->stats.evictions++;
		if (victim_tag) {
			*victim_tag = c->tags[base + way];
			victim_tag->b &= ~IMS_CACHE_TAG_VALID;
		}
	}
	c->stats.fills++;
	c->mods++;
	c->tags[base + way].a = tag->a;
	c->tags[base + way].b = b;
	touch(c, set, way, true);
	memset(payload(c, base + way), 0, c->payload_size);
	return payload(c, base + way);
}

bool ims_cache_drop(struct ims_cache *c, uint64_t key, const struct ims_cache_tag *tag)
{
	long slot = ims_cache_probe(c, key, tag);

	if (slot < 0)
		return false;
	c->tags[slot].a = 0;
	c->tags[slot].b = 0;
	c->stats.invalidated++;
	c->mods++;
	return true;
}

unsigned ims_cache_scan(struct ims_cache *c,
			bool (*fn)(void *opaque, const struct ims_cache_tag *tag, void *payload),
			void *opaque)
{
	unsigned dropped = 0;

	for (uint32_t i = 0; i < c->g.entries; i++) {
		struct ims_cache_tag t = c->tags[i];

		if (!(t.b & IMS_CACHE_TAG_VALID))
			continue;
		t.b &= ~IMS_CACHE_TAG_VALID;
		if (fn(opaque, &t, payload(c, i))) {
			c->tags[i].a = 0;
			c->tags[i].b = 0;
			dropped++;
		}
	}
	c->stats.invalidated += dropped;
	c->mods += dropped;
	return dropped;
}

unsigned ims_cache_count(const struct ims_cache *c)
{
	unsigned n = 0;

	for (uint32_t i = 0; i < c->g.entries; i++)
		n += (c->tags[i].b & IMS_CACHE_TAG_VALID) != 0;
	return n;
}

unsigned ims_cache_clear(struct ims_cache *c)
{
	unsigned n = ims_cache_count(c);

	memset(c->tags, 0, sizeof(*c->tags) * c->g.entries);
	c->stats.invalidated += n;
	c->mods++;
	return n;
}
