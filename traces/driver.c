/*
 * driver.c - driver models: how a kernel of a given kind invalidates.
 *
 * A driver model names an invalidation policy and its parameters; replay.c
 * turns it into descriptors and commands.  The built-in models follow Linux
 * (drivers/iommu/dma-iommu.c, intel/cache.c, arm/arm-smmu-v3/arm-smmu-v3.c):
 *
 *   strict     invalidate and wait on every unmap: VT-d page-selective (AM =
 *              log2(roundup_pow2(pages)), base aligned by the shared-bits
 *              rule, DSI when !CAP.PSI or AM > CAP.MAMV); SMMUv3 range
 *              commands with RIL, else one per page and ASID/VMID-wide above
 *              range_max_pages (CMDQ_MAX_TLBI_OPS = 512 at 4 KiB)
 *   fq         per-CPU flush queue of 256 entries, 10 ms timeout
 *              (IOVA_DEFAULT_FQ_SIZE / IOVA_DEFAULT_FQ_TIMEOUT)
 *   single-fq  one shared flush queue of 32768 entries, 1000 ms
 *              (IOVA_SINGLE_FQ_SIZE / IOVA_SINGLE_FQ_TIMEOUT)
 *   range      strict, a single range invalidation per unmap call
 *   domain     strict, domain-selective per unmap call
 *   global     strict, global per unmap call
 *
 * All use leaf_hint = true (Linux sets IH / Leaf when an unmap freed no
 * table pages; the replay never frees tables) and stage 1 host domains (the
 * Linux default DMA domain on scalable-mode VT-d and on SMMUv3).
 *
 * JSON form (every field optional; the policy's built-in values first):
 *   {"name": "...", "policy": "strict|fq|single-fq|range|domain|global",
 *    "fq_size": 256, "fq_timeout_ms": 10, "leaf_hint": true,
 *    "range_max_pages": 512, "stage": 1}
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "engine/bits.h"
#include "engine/engine_int.h"

#include <iommusim/trace.h>

#define NS_PER_MS UINT64_C(1000000)

struct builtin {
	const char *name;
	enum ims_drv_policy policy;
	uint32_t fq_size;
	uint64_t fq_timeout_ms;
};

static const struct builtin builtins[] = {
	{ "strict", IMS_DRV_STRICT, 0, 0 },
	{ "fq", IMS_DRV_FQ, 256, 10 },
	{ "single-fq", IMS_DRV_SINGLE_FQ, 32768, 1000 },
	{ "range", IMS_DRV_RANGE, 0, 0 },
	{ "domain", IMS_DRV_DOMAIN, 0, 0 },
	{ "global", IMS_DRV_GLOBAL, 0, 0 },
};

#define NBUILTINS IMS_ARRAY_SIZE(builtins)

int ims_driver_builtin(const char *name, struct ims_driver_cfg *cfg)
{
	if (!name || !cfg)
		return -EINVAL;
	for (size_t i = 0; i < NBUILTINS; i++) {
		const struct builtin *b = &builtins[i];

		if (strcmp(b->name, name))
			continue;
		memset(cfg, 0, sizeof(*cfg));
		snprintf(cfg->name, sizeof(cfg->name), "%s", b->name);
		cfg->policy = b->policy;
		cfg->fq_size = b->fq_size;
		cfg->fq_timeout_ns = b->fq_timeout_ms * NS_PER_MS;
		cfg->leaf_hint = true;
		cfg->range_max_pages = 512;
		cfg->stage = 1;
		return 0;
	}
	return -ENOENT;
}

/* A non-negative integer field no larger than max. */
static int get_uint(json_t *v, const char *label, const char *field, uint64_t max, uint64_t *out,
		    char *err, size_t errlen)
{
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (uint64_t)json_integer_value(v) > max)
		return ims_errf(err, errlen, "%s: field \"%s\" must be an integer from 0 to %llu",
				label, field, (unsigned long long)max);
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

int ims_driver_parse(const char *json, const char *label, struct ims_driver_cfg *cfg, char *err,
		     size_t errlen)
{
	static const char *const fields[] = { "name",      "policy",          "fq_size",
					      "fq_timeout_ms", "leaf_hint", "range_max_pages",
					      "stage" };
	struct ims_driver_cfg c;
	json_error_t jerr;
	json_t *root, *v;
	const char *key;
	uint64_t x;
	int rc = 0;

	if (!label)
		label = "driver";
	if (!json || !cfg)
		return ims_errf(err, errlen, "%s: no driver model given", label);
	root = json_loads(json, 0, &jerr);
	if (!root)
		return ims_errf(err, errlen, "%s: line %d: %s", label, jerr.line, jerr.text);
	if (!json_is_object(root)) {
		json_decref(root);
		return ims_errf(err, errlen, "%s: a driver model is a JSON object", label);
	}
	/* Unknown fields first, so a typo is never silently ignored. */
	json_object_foreach(root, key, v) {
		bool known = false;

		for (size_t i = 0; i < IMS_ARRAY_SIZE(fields); i++)
			known |= !strcmp(key, fields[i]);
		if (!known) {
			rc = ims_errf(err, errlen,
				      "%s: unknown field \"%s\" (fields: name, policy, fq_size, "
				      "fq_timeout_ms, leaf_hint, range_max_pages, stage)",
				      label, key);
			goto out;
		}
	}
	/* The policy decides the defaults. */
	v = json_object_get(root, "policy");
	if (v) {
		const char *p = json_string_value(v);

		if (!p || ims_driver_builtin(p, &c)) {
			rc = ims_errf(err, errlen,
				      "%s: field \"policy\" must be one of \"strict\", \"fq\", "
				      "\"single-fq\", \"range\", \"domain\", \"global\"",
				      label);
			goto out;
		}
	} else {
		ims_driver_builtin("strict", &c);
	}
	v = json_object_get(root, "name");
	if (v) {
		const char *n = json_string_value(v);

		if (!n || !*n || strlen(n) >= sizeof(c.name)) {
			rc = ims_errf(err, errlen,
				      "%s: field \"name\" must be a non-empty string of at most %zu "
				      "characters",
				      label, sizeof(c.name) - 1);
			goto out;
		}
		snprintf(c.name, sizeof(c.name), "%s", n);
	}
	if ((v = json_object_get(root, "fq_size"))) {
		if ((rc = get_uint(v, label, "fq_size", UINT32_MAX, &x, err, errlen)))
			goto out;
		c.fq_size = (uint32_t)x;
	}
	if ((v = json_object_get(root, "fq_timeout_ms"))) {
		if (json_is_real(v) && json_real_value(v) >= 0 && json_real_value(v) < 1e9) {
			c.fq_timeout_ns = (uint64_t)(json_real_value(v) * (double)NS_PER_MS);
		} else {
			if ((rc = get_uint(v, label, "fq_timeout_ms", UINT64_MAX / NS_PER_MS, &x,
					   err, errlen)))
				goto out;
			c.fq_timeout_ns = x * NS_PER_MS;
		}
	}
	if ((v = json_object_get(root, "leaf_hint"))) {
		if (!json_is_boolean(v)) {
			rc = ims_errf(err, errlen, "%s: field \"leaf_hint\" must be true or false",
				      label);
			goto out;
		}
		c.leaf_hint = json_is_true(v);
	}
	if ((v = json_object_get(root, "range_max_pages"))) {
		if ((rc = get_uint(v, label, "range_max_pages", UINT32_MAX, &x, err, errlen)))
			goto out;
		c.range_max_pages = (uint32_t)x;
	}
	if ((v = json_object_get(root, "stage"))) {
		if (!json_is_integer(v) || (json_integer_value(v) != 1 && json_integer_value(v) != 2)) {
			rc = ims_errf(err, errlen, "%s: field \"stage\" must be 1 or 2", label);
			goto out;
		}
		c.stage = (unsigned)json_integer_value(v);
	}
	/* Cross-field rules. */
	if ((c.policy == IMS_DRV_FQ || c.policy == IMS_DRV_SINGLE_FQ) && c.fq_size < 2) {
		rc = ims_errf(err, errlen,
			      "%s: field \"fq_size\" must be at least 2 for a flush queue (a ring of "
			      "fq_size slots holds fq_size - 1 entries, as Linux's)",
			      label);
		goto out;
	}
	*cfg = c;
out:
	json_decref(root);
	return rc;
}
