/*
 * iommusim/cache.h - the generic set-associative cache every modelled
 * structure (IOTLB, configuration caches, walk caches) is built from.
 *
 * Geometry: `entries` entries in sets of `ways` (1 = direct mapped, ways ==
 * entries = fully associative); both powers of two.  A lookup hashes a set
 * key to one set and compares a 128-bit tag against each way.  Replacement
 * fills an invalid way first, then evicts by policy:
 *   lru    least recently used (hits and fills refresh)
 *   plru   tree pseudo-LRU (ways-1 bits per set, ways a power of two)
 *   fifo   oldest fill
 *   random uniform over the ways, from the cache's own seeded generator
 *   rr     round-robin: a per-set pointer that advances on every eviction
 * The caller chooses set keys and tags; the structures built on top say how
 * (e.g. the IOTLB probes one set per page size, so a 2 MiB entry is found
 * from any address it covers whatever the geometry).
 */
#ifndef IOMMUSIM_CACHE_H
#define IOMMUSIM_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum ims_cache_policy {
	IMS_CACHE_LRU = 0,
	IMS_CACHE_PLRU,
	IMS_CACHE_FIFO,
	IMS_CACHE_RANDOM,
	IMS_CACHE_RR,
};

/* Name ("lru", ...) to policy; -1 when unknown. */
int ims_cache_policy_parse(const char *name);
const char *ims_cache_policy_name(enum ims_cache_policy policy);

struct ims_cache_geom {
	uint32_t entries;  /* 0 = the structure is disabled */
	uint32_t ways;
	enum ims_cache_policy policy;
	uint64_t seed;     /* for IMS_CACHE_RANDOM */
};

/* A 128-bit tag; bit 63 of `b` is reserved for the cache's valid bit. */
struct ims_cache_tag {
	uint64_t a, b;
};
#define IMS_CACHE_TAG_VALID (UINT64_C(1) << 63)

struct ims_cache_stats {
	uint64_t lookups, hits, misses, fills, evictions, invalidated, needless;
};

struct ims_cache;

/*
 * -EINVAL for a geometry that is not powers of two, ways > entries, an
 * unknown policy, or plru with ways > 32.
 */
int ims_cache_geom_check(const struct ims_cache_geom *g);
/* NULL on a bad geometry or no memory.  payload_size bytes ride with each entry. */
struct ims_cache *ims_cache_new(const struct ims_cache_geom *g, size_t payload_size);
void ims_cache_free(struct ims_cache *c);

const struct ims_cache_geom *ims_cache_geom(const struct ims_cache *c);
struct ims_cache_stats *ims_cache_stats(struct ims_cache *c);

/*
 * The payload of the entry with this tag in the set of set_key, or NULL.
 * Counts one lookup and a hit or a miss; a hit refreshes the entry's
 * replacement state.
 */
void *ims_cache_lookup(struct ims_cache *c, uint64_t set_key, const struct ims_cache_tag *tag);

/* The parts of a lookup, for structures that probe several sets per lookup. */
long ims_cache_probe(const struct ims_cache *c, uint64_t set_key, const struct ims_cache_tag *tag);
void *ims_cache_hit(struct ims_cache *c, uint32_t slot);  /* count a hit on slot, touch it */
void ims_cache_miss(struct ims_cache *c);                 /* count a miss */
/* Count n hits on slot at once, touching it once (the last of them). */
void ims_cache_hit_n(struct ims_cache *c, uint32_t slot, uint64_t n);
uint32_t ims_cache_last_slot(const struct ims_cache *c);  /* slot of the last hit */
/* Bumped by every fill and drop: equal values mean the same entries hit. */
uint64_t ims_cache_mods(const struct ims_cache *c);

/*
 * A payload slot for (set_key, tag): the existing entry with this tag, or a
 * new one (an invalid way, else the policy's victim).  *evicted says whether
 * a valid entry was evicted (its tag in *victim when not NULL).
 */
void *ims_cache_fill(struct ims_cache *c, uint64_t set_key, const struct ims_cache_tag *tag,
		     bool *evicted, struct ims_cache_tag *victim);

/* Drop the entry with this tag, if present.  Returns true when one was dropped. */
bool ims_cache_drop(struct ims_cache *c, uint64_t set_key, const struct ims_cache_tag *tag);

/*
 * Visit every valid entry; drop those for which fn returns true.  Returns
 * the number dropped (also added to stats.invalidated).
 */
unsigned ims_cache_scan(struct ims_cache *c,
			bool (*fn)(void *opaque, const struct ims_cache_tag *tag, void *payload),
			void *opaque);

/* Number of valid entries. */
unsigned ims_cache_count(const struct ims_cache *c);
/* Drop everything (stats.invalidated counts the valid entries dropped). */
unsigned ims_cache_clear(struct ims_cache *c);

/* Which set a key maps to (for tests of the index function). */
uint32_t ims_cache_set_of(const struct ims_cache *c, uint64_t set_key);

#ifdef __cplusplus
}
#endif
#endif
