/*
 * setup.c - building the modelled structures and the cycle model from a
 * model file, and the small helpers every structure shares.
 *
 * Model sections (both optional; without them nothing is cached and every
 * step costs nothing):
 *   "caches": { "iotlb":   {"entries": 1024, "ways": 8, "policy": "lru", "seed": 1},
 *               "context": {...}, "pasid": {...}, "pwc_s1": {...},
 *               "pwc_s2": {...}, "nested_tlb": {...} }
 *   "timing": { "clock_mhz": 2000, "mem_read": 400, "inv_command": 130,
 *               "inv_sync": 2000,
 *               "lookup": {"iotlb": 2, "context": 2, ...} }
 * Latencies are in IOMMU clock cycles.
 */
#include <errno.h>
#include <string.h>

#include "iotlb/iotlb_int.h"

static const struct {
	const char *name, *desc;
	size_t payload;
} structs[IMS_ST__COUNT] = {
	[IMS_ST_IOTLB] = { "iotlb", "IOTLB", sizeof(struct ims_iotlb_entry) },
	[IMS_ST_CONTEXT] = { "context", "context / STE cache", sizeof(struct ims_cc_entry) },
	[IMS_ST_PASID] = { "pasid", "PASID / CD cache", sizeof(struct ims_cc_entry) },
	[IMS_ST_PWC_S1] = { "pwc_s1", "stage-1 walk cache", sizeof(struct ims_pwc_entry) },
	[IMS_ST_PWC_S2] = { "pwc_s2", "stage-2 walk cache", sizeof(struct ims_pwc_entry) },
	[IMS_ST_NESTED_TLB] = { "nested_tlb", "nested TLB", sizeof(struct ims_ntlb_entry) },
	[IMS_ST_DEVTLB] = { "devtlb", "device-TLB (ATC)", sizeof(struct ims_devtlb_entry) },
};

const char *ims_struct_name(enum ims_struct_id id)
{
	return (unsigned)id < IMS_ST__COUNT ? structs[id].name : "?";
}

const char *ims_struct_long_name(enum ims_struct_id id)
{
	return (unsigned)id < IMS_ST__COUNT ? structs[id].desc : "?";
}

static int struct_id(const char *name)
{
	for (int i = 0; i < IMS_ST__COUNT; i++)
		if (!strcmp(structs[i].name, name))
			return i;
	return -1;
}

static int parse_u32(json_t *v, uint32_t *out)
{
	uint64_t x;

	if (ims_json_u64(v, &x) || x > UINT32_MAX)
		return -EINVAL;
	*out = (uint32_t)x;
	return 0;
}

static int parse_geom(json_t *v, const char *label, const char *name, struct ims_cache_geom *g,
		      char *err, size_t errlen)
{
	const char *key;
	json_t *f;
	uint64_t seed;

	if (!json_is_object(v))
		return ims_errf(err, errlen, "%s: field \"caches.%s\" must be an object with "
				"entries, ways and policy", label, name);
	memset(g, 0, sizeof(*g));
	g->ways = 1;
	json_object_foreach(v, key, f) {
		if (!strcmp(key, "entries")) {
			if (parse_u32(f, &g->entries))
				goto bad_num;
		} else if (!strcmp(key, "ways")) {
			if (parse_u32(f, &g->ways))
				goto bad_num;
		} else if (!strcmp(key, "policy")) {
			int p = json_is_string(f) ? ims_cache_policy_parse(json_string_value(f)) : -1;

			if (p < 0)
				return ims_errf(err, errlen,
						"%s: field \"caches.%s.policy\" must be one of lru, "
						"plru, fifo, random, rr", label, name);
			g->policy = (enum ims_cache_policy)p;
		} else if (!strcmp(key, "seed")) {
			if (ims_json_u64(f, &seed))
				goto bad_num;
			g->seed = seed;
		} else {
			return ims_errf(err, errlen,
					"%s: unknown field \"caches.%s.%s\" (expected entries, "
					"ways, policy, seed)", label, name, key);
		}
		continue;
bad_num:
		return ims_errf(err, errlen, "%s: field \"caches.%s.%s\" must be a non-negative "
				"integer", label, name, key);
	}
	if (!json_object_get(v, "ways"))
		g->ways = g->entries; /* fully associative by default */
	if (ims_cache_geom_check(g))
		return ims_errf(err, errlen,
				"%s: field \"caches.%s\": entries (%u) and ways (%u) must be powers "
				"of two with ways <= entries%s", label, name, g->entries, g->ways,
				g->policy == IMS_CACHE_PLRU ? ", and plru needs ways <= 32" : "");
	return 0;
}

int ims_caches_init(struct ims_iommu *iommu, json_t *root, const char *label, bool build,
		    char *err, size_t errlen)
{
	json_t *caches = json_object_get(root, "caches"), *timing = json_object_get(root, "timing");
	struct ims_cache_geom geom[IMS_ST__COUNT] = { { 0 } };
	struct ims_timing t = { .clock_mhz = 1000 };
	const char *key;
	json_t *v;
	int rc;

	/* Validate everything first; build only when all of it is right. */
	if (caches) {
		if (!json_is_object(caches))
			return ims_errf(err, errlen, "%s: field \"caches\" must be an object", label);
		json_object_foreach(caches, key, v) {
			int id = struct_id(key);

			if (id < 0)
				return ims_errf(err, errlen,
						"%s: unknown field \"caches.%s\" (expected iotlb, "
						"context, pasid, pwc_s1, pwc_s2, nested_tlb, devtlb)",
						label, key);
			rc = parse_geom(v, label, key, &geom[id], err, errlen);
			if (rc)
				return rc;
		}
	}
	if (timing) {
		if (!json_is_object(timing))
			return ims_errf(err, errlen, "%s: field \"timing\" must be an object", label);
		json_object_foreach(timing, key, v) {
			uint32_t *dst = NULL;

			if (!strcmp(key, "clock_mhz"))
				dst = &t.clock_mhz;
			else if (!strcmp(key, "mem_read"))
				dst = &t.mem_read;
			else if (!strcmp(key, "inv_command"))
				dst = &t.inv_command;
			else if (!strcmp(key, "inv_sync"))
				dst = &t.inv_sync;
			else if (!strcmp(key, "lookup")) {
				const char *k2;
				json_t *v2;

				if (!json_is_object(v))
					return ims_errf(err, errlen, "%s: field \"timing.lookup\" must "
							"be an object of structure names", label);
				json_object_foreach(v, k2, v2) {
					int id = struct_id(k2);

					if (id < 0)
						return ims_errf(err, errlen,
								"%s: unknown field \"timing.lookup.%s\"",
								label, k2);
					if (parse_u32(v2, &t.lookup[id]))
						return ims_errf(err, errlen,
								"%s: field \"timing.lookup.%s\" must "
								"be a number of cycles", label, k2);
				}
				continue;
			} else if (!strcmp(key, "sources")) {
				continue;
			} else {
				return ims_errf(err, errlen,
						"%s: unknown field \"timing.%s\" (expected clock_mhz, "
						"mem_read, inv_command, inv_sync, lookup, sources)",
						label, key);
			}
			if (parse_u32(v, dst))
				return ims_errf(err, errlen,
						"%s: field \"timing.%s\" must be a non-negative integer",
						label, key);
		}
		if (!t.clock_mhz)
			return ims_errf(err, errlen, "%s: field \"timing.clock_mhz\" must be > 0",
					label);
	}
	for (int i = 0; i < IMS_ST__COUNT; i++) {
		if (!geom[i].entries || !build)
			continue;
		iommu->cache[i] = ims_cache_new(&geom[i], structs[i].payload);
		if (!iommu->cache[i]) {
			ims_caches_fini(iommu);
			return ims_errf(err, errlen, "out of memory for caches.%s", structs[i].name);
		}
	}
	iommu->timing = t;
	return 0;
}

void ims_caches_fini(struct ims_iommu *iommu)
{
	for (int i = 0; i < IMS_ST__COUNT; i++) {
		ims_cache_free(iommu->cache[i]);
		iommu->cache[i] = NULL;
	}
}

const struct ims_cache_stats *ims_iommu_cache_stats(const struct ims_iommu *iommu,
						     enum ims_struct_id id)
{
	if ((unsigned)id >= IMS_ST__COUNT || !iommu->cache[id])
		return NULL;
	ims_fast_flush((struct ims_iommu *)iommu);
	return ims_cache_stats(iommu->cache[id]);
}

unsigned ims_iommu_clock_mhz(const struct ims_iommu *iommu)
{
	return iommu->timing.clock_mhz;
}

void ims_iommu_reset_caches(struct ims_iommu *iommu)
{
	ims_fast_flush(iommu);
	for (int i = 0; i < IMS_ST__COUNT; i++) {
		if (!iommu->cache[i])
			continue;
		ims_cache_clear(iommu->cache[i]);
		memset(ims_cache_stats(iommu->cache[i]), 0, sizeof(struct ims_cache_stats));
	}
	iommu->iotlb_sizes = 0;
	iommu->devtlb_sizes = 0;
}

void ims_note_lookup(struct ims_iommu *iommu, struct ims_result *res, enum ims_struct_id id,
		     int level, bool hit, unsigned probes)
{
	uint32_t cyc = iommu->timing.lookup[id] * probes;
	struct ims_hit_trace *ht = &iommu->ht;
	struct ims_read *rd;

	res->cycles += cyc;
	if (hit && ht->n < IMS_FAST_HITS &&
	    (id == IMS_ST_CONTEXT || id == IMS_ST_PASID || id == IMS_ST_IOTLB ||
	     id == IMS_ST_DEVTLB)) {
		ht->id[ht->n] = (uint8_t)id;
		ht->slot[ht->n] = ims_cache_last_slot(iommu->cache[id]);
		ht->n++;
	} else {
		ht->clean = false;
	}
	rd = ims_result_add_read(res, IMS_READ_CACHE, 0, level, 0, 0, 0);
	if (rd) {
		rd->label = (uint16_t)id;
		rd->decision = hit;
		rd->cycles = cyc;
	}
}

/* An entry value as it would be once every A/D update had been made. */
static uint64_t memo_norm(const struct ims_pt_cfg *cfg, int level, uint64_t val)
{
	if (!cfg->fmt->update_ad)
		return val;
	return cfg->fmt->update_ad(cfg, (unsigned)level, val, true, IMS_ACC_READ | IMS_ACC_WRITE);
}

void ims_memo_set(struct ims_memo *m, const struct ims_pt_cfg *cfg, int level, uint64_t pa,
		  uint64_t val)
{
	m->fmt = cfg->fmt;
	m->flags = cfg->flags;
	m->stage = cfg->stage;
	m->level = (int8_t)level;
	m->pa = pa;
	m->val = memo_norm(cfg, level, val);
}

bool ims_memo_still_valid(struct ims_iommu *iommu, const struct ims_memo *m)
{
	struct ims_pt_cfg cfg = { .fmt = m->fmt, .flags = m->flags, .stage = m->stage };
	uint64_t cur;

	if (!m->fmt)
		return false;
	if (ims_mem_read64(iommu->mem, m->pa, &cur) != IMS_MEM_OK)
		return false;
	return memo_norm(&cfg, m->level, cur) == m->val;
}
