/*
 * model.c - loading and validating hardware model files.
 *
 * A model file is a JSON object:
 *   { "name": "...", "arch": "vtd" | "smmuv3" | "mock",
 *     "haw": 48,                      host (physical) address width, 12..64
 *     "vtd": { ... } }                the architecture's own section
 * The architecture validates its own section when an instance is built;
 * this file checks the common fields.  Every message names the file, the
 * field and what was expected.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/bits.h"
#include "engine/engine_int.h"

int ims_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

const char *ims_json_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a real number";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	default: return "null";
	}
}

/* A non-negative integer, or a string in C notation ("0x1000", "4096"). */
int ims_json_u64(json_t *v, uint64_t *out)
{
	if (json_is_integer(v)) {
		json_int_t i = json_integer_value(v);

		if (i < 0)
			return -ERANGE;
		*out = (uint64_t)i;
		return 0;
	}
	if (json_is_true(v) || json_is_false(v)) {
		*out = json_is_true(v);
		return 0;
	}
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		char *end;
		unsigned long long x;

		if (!*s || *s == '-' || *s == '+')
			return -EINVAL;
		errno = 0;
		x = strtoull(s, &end, 0);
		if (errno || *end)
			return -EINVAL;
		*out = x;
		return 0;
	}
	return -EINVAL;
}

int ims_json_reg(json_t *v, const char *label, const char *path, const char *regname,
		 unsigned width, const struct ims_reg_field *fields, size_t nfields, uint64_t *out,
		 char *err, size_t errlen)
{
	uint64_t max = ims_mask_lg2(width), val = 0, x;
	const char *key;
	json_t *fv;

	if (json_is_string(v) || json_is_integer(v)) {
		if (ims_json_u64(v, &val) || val > max)
			return ims_errf(err, errlen,
					"%s: field \"%s\" must be a %u-bit register value such as "
					"\"0x1234\"", label, path, width);
		*out = val;
		return 0;
	}
	if (!json_is_object(v))
		return ims_errf(err, errlen,
				"%s: field \"%s\" must be a register value or an object of named "
				"fields, not %s", label, path, ims_json_type_name(v));
	if ((fv = json_object_get(v, "value")) && (ims_json_u64(fv, &val) || val > max))
		return ims_errf(err, errlen, "%s: field \"%s.value\" must be a %u-bit value", label,
				path, width);
	json_object_foreach(v, key, fv) {
		const struct ims_reg_field *f = NULL;

		if (!strcmp(key, "value"))
			continue;
		for (size_t i = 0; i < nfields; i++)
			if (!strcmp(fields[i].name, key))
				f = &fields[i];
		if (!f) {
			char list[512] = "";

			for (size_t i = 0; i < nfields; i++) {
				strncat(list, fields[i].name, sizeof(list) - strlen(list) - 1);
				if (i + 1 < nfields)
					strncat(list, ", ", sizeof(list) - strlen(list) - 1);
			}
			return ims_errf(err, errlen, "%s: field \"%s.%s\" is not a field of %s "
					"(fields: %s)", label, path, key, regname,
					nfields ? list : "none; give a value");
		}
		if (ims_json_u64(fv, &x) || x > FIELD_MAX(f->mask))
			return ims_errf(err, errlen,
					"%s: field \"%s.%s\" must be an integer from 0 to %llu", label,
					path, key, (unsigned long long)FIELD_MAX(f->mask));
		val = (val & ~f->mask) | ((x << FIELD_SHIFT(f->mask)) & f->mask);
	}
	*out = val;
	return 0;
}

static const char *const arch_names[] = {
	[IMS_ARCH_VTD] = "vtd",
	[IMS_ARCH_SMMUV3] = "smmuv3",
	[IMS_ARCH_MOCK] = "mock",
};

const char *ims_arch_name(enum ims_arch arch)
{
	return (unsigned)arch < 3 ? arch_names[arch] : "?";
}

static int parse_root(json_t *root, const char *label, struct ims_model **out, char *err,
		      size_t errlen)
{
	struct ims_model *m;
	json_t *v;
	const char *key;
	uint64_t haw = 48;
	int arch = -1;

	if (!json_is_object(root))
		return ims_errf(err, errlen, "%s: the model must be a JSON object, not %s", label,
				ims_json_type_name(root));
	json_object_foreach(root, key, v) {
		if (strcmp(key, "name") && strcmp(key, "arch") && strcmp(key, "haw") &&
		    strcmp(key, "vtd") && strcmp(key, "smmuv3") && strcmp(key, "mock") &&
		    strcmp(key, "description") && strcmp(key, "sources") &&
		    strcmp(key, "caches") && strcmp(key, "timing"))
			return ims_errf(err, errlen,
					"%s: unknown field \"%s\" (expected name, arch, haw, "
					"description, sources, caches, timing or the "
					"architecture's section)",
					label, key);
	}
	v = json_object_get(root, "arch");
	if (!json_is_string(v))
		return ims_errf(err, errlen,
				"%s: field \"arch\" must be a string: \"vtd\", \"smmuv3\" or \"mock\"",
				label);
	for (unsigned i = 0; i < 3; i++)
		if (!strcmp(json_string_value(v), arch_names[i]))
			arch = (int)i;
	if (arch < 0)
		return ims_errf(err, errlen,
				"%s: field \"arch\" is \"%s\"; expected \"vtd\", \"smmuv3\" or \"mock\"",
				label, json_string_value(v));
	v = json_object_get(root, "name");
	if (v && !json_is_string(v))
		return ims_errf(err, errlen, "%s: field \"name\" must be a string", label);
	if ((v = json_object_get(root, "haw")) &&
	    (ims_json_u64(v, &haw) || haw < 12 || haw > 64))
		return ims_errf(err, errlen,
				"%s: field \"haw\" must be the host address width in bits, 12 to 64",
				label);

	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->label = strdup(label);
	v = json_object_get(root, "name");
	m->name = strdup(v ? json_string_value(v) : label);
	m->arch = (enum ims_arch)arch;
	m->haw = (unsigned)haw;
	m->root = json_incref(root);
	if (!m->label || !m->name) {
		ims_model_free(m);
		return -ENOMEM;
	}
	*out = m;
	return 0;
}

int ims_model_parse(const char *text, const char *label, struct ims_model **out,
			       char *err, size_t errlen)
{
	json_error_t je;
	json_t *root = json_loads(text, 0, &je);
	int rc;

	if (!root)
		return ims_errf(err, errlen, "%s:%d:%d: %s", label, je.line, je.column, je.text);
	rc = parse_root(root, label, out, err, errlen);
	json_decref(root);
	return rc;
}

int ims_model_load(const char *path, struct ims_model **out, char *err, size_t errlen)
{
	json_error_t je;
	json_t *root = json_load_file(path, 0, &je);
	int rc;

	if (!root)
		return ims_errf(err, errlen, "%s:%d:%d: %s", path, je.line, je.column, je.text);
	rc = parse_root(root, path, out, err, errlen);
	json_decref(root);
	return rc;
}

void ims_model_free(struct ims_model *model)
{
	if (!model)
		return;
	json_decref(model->root);
	free(model->label);
	free(model->name);
	free(model);
}

const char *ims_model_name(const struct ims_model *model)
{
	return model->name;
}

const char *ims_model_label(const struct ims_model *model)
{
	return model->label;
}

enum ims_arch ims_model_arch(const struct ims_model *model)
{
	return model->arch;
}

unsigned ims_model_haw(const struct ims_model *model)
{
	return model->haw;
}

json_t *ims_model_json(const struct ims_model *model)
{
	return model->root;
}
