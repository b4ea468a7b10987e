/*
 * scenario.c - reading `iommusim walk` scenario files.
 *
 * A scenario sets up one IOMMU as a driver would and lists DMA requests to
 * explain.  Fields (all addresses and sizes are numbers or strings such as
 * "0x1000", "4K", "2M", "1G"):
 *
 *   "model":        model file, relative to the scenario file
 *   "memory":       [ {"ram": ADDR, "size": SIZE},
 *                     {"image": FILE, "at": ADDR, "writable": false} ]
 *                   images (e.g. a guest RAM dump from QEMU's pmemsave) are
 *                   mapped, not copied; writes (A/D updates) stay private
 *   "registers":    { "RTADDR": VALUE, "TE": 1, ... } in the order given
 *   "steps":        [ {"write": ADDR, "value": V} | {"write": ADDR, "values": [V...]}
 *                   | {"write": ADDR, "struct": NAME, "index": N, "fields": {F: V}}
 *                   | {"map": {"stage": 1|2, "levels": N, "root": ADDR,
 *                              "iova": ADDR, "addr": ADDR, "size": SIZE,
 *                              "page": SIZE, "perm": "rwx" + "u" (user),
 *                              "tables": ADDR, "via": {"levels": N, "root": ADDR}}} ]
 *   "transactions": [ {"rid": "00:02.0" | "sid": N, "pasid" | "ssid": N, "addr": ADDR,
 *                      "access": "r"|"w"|"x"|"rw", "priv": false, "size": 4,
 *                      "note": "..."} ]
 *
 * Every error names the file, the field (as a path like steps[2].map.size)
 * and what was expected.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "engine/engine_int.h"
#include "tools/tools_int.h"

struct ctx {
	struct scenario *scn;
	char *err;
	size_t errlen;
};

static int fail(struct ctx *c, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct ctx *c, const char *field, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(c->err, c->errlen, "%s: %s: %s", c->scn->path, field, msg);
	return -EINVAL;
}

/* A number: integer, or a string in C notation, optionally with K/M/G/T. */
static int get_num(json_t *v, uint64_t *out, bool allow_suffix)
{
	const char *s;
	char *end;
	unsigned long long x;

	if (json_is_integer(v)) {
		if (json_integer_value(v) < 0)
			return -ERANGE;
		*out = (uint64_t)json_integer_value(v);
		return 0;
	}
	if (!json_is_string(v))
		return -EINVAL;
	s = json_string_value(v);
	if (!*s || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	x = strtoull(s, &end, 0);
	if (errno)
		return -EINVAL;
	if (*end && allow_suffix && !end[1]) {
		unsigned sh = 0;

		switch (*end) {
		case 'K': case 'k': sh = 10; break;
		case 'M': case 'm': sh = 20; break;
		case 'G': case 'g': sh = 30; break;
		case 'T': case 't': sh = 40; break;
		default: return -EINVAL;
		}
		if (x > (UINT64_MAX >> sh))
			return -ERANGE;
		x <<= sh;
		end++;
	}
	if (*end)
		return -EINVAL;
	*out = x;
	return 0;
}

static int need_num(struct ctx *c, json_t *obj, const char *key, const char *path,
		    uint64_t *out, bool size)
{
	json_t *v = json_object_get(obj, key);
	char field[256];

	snprintf(field, sizeof(field), "%s.%s", path, key);
	if (!v)
		return fail(c, field, "missing; expected %s", size ? "a size such as \"4K\"" :
				"a number such as \"0x1000\"");
	if (get_num(v, out, size))
		return fail(c, field, "expected %s, got %s",
			    size ? "a size such as 4096, \"0x1000\", \"4K\" or \"2M\""
				 : "a non-negative number such as 4096 or \"0x1000\"",
			    json_is_string(v) ? json_string_value(v) : ims_json_type_name(v));
	return 0;
}

static int opt_num(struct ctx *c, json_t *obj, const char *key, const char *path,
		   uint64_t *out, bool size)
{
	if (!json_object_get(obj, key))
		return 1;
	return need_num(c, obj, key, path, out, size);
}

/* Refuse keys a reader would silently ignore. */
static int check_keys(struct ctx *c, json_t *obj, const char *path, const char *const *keys)
{
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v) {
		bool known = false;
		char field[256];

		for (const char *const *k = keys; *k; k++)
			known |= !strcmp(*k, key);
		if (!known) {
			char list[256] = "";

			for (const char *const *k = keys; *k; k++) {
				strncat(list, *k, sizeof(list) - strlen(list) - 1);
				if (k[1])
					strncat(list, ", ", sizeof(list) - strlen(list) - 1);
			}
			snprintf(field, sizeof(field), "%s%s%s", path, *path ? "." : "", key);
			return fail(c, field, "unknown field (expected one of: %s)", list);
		}
	}
	return 0;
}

static char *join_path(const char *dir, const char *rel)
{
	char *p;

	if (rel[0] == '/' || !dir)
		return strdup(rel);
	if (asprintf(&p, "%s/%s", dir, rel) < 0)
		return NULL;
	return p;
}

static int load_memory(struct ctx *c, json_t *arr)
{
	struct scenario *scn = c->scn;
	struct ims_mem *mem = ims_iommu_mem(scn->iommu);
	size_t i;
	json_t *m;
	char path[64];

	if (!json_is_array(arr))
		return fail(c, "memory", "expected an array of {\"ram\": ...} or {\"image\": ...}");
	json_array_foreach(arr, i, m) {
		uint64_t at, size;
		int rc;

		snprintf(path, sizeof(path), "memory[%zu]", i);
		if (!json_is_object(m))
			return fail(c, path, "expected an object, got %s", ims_json_type_name(m));
		if (json_object_get(m, "ram")) {
			static const char *const keys[] = { "ram", "size", NULL };

			if (check_keys(c, m, path, keys) || need_num(c, m, "ram", path, &at, false) ||
			    need_num(c, m, "size", path, &size, true))
				return -EINVAL;
			rc = ims_mem_add_ram(mem, at, size);
			if (rc)
				return fail(c, path, "cannot add RAM at 0x%llx size 0x%llx: %s "
					    "(both must be 4 KiB aligned, inside the host "
					    "address width, and not overlap an image)",
					    (unsigned long long)at, (unsigned long long)size,
					    strerror(-rc));
		} else if (json_object_get(m, "image")) {
			static const char *const keys[] = { "image", "at", "writable", NULL };
			json_t *f = json_object_get(m, "image");
			char *file;
			int fd;
			struct stat sb;
			void *addr;
			size_t len;
			struct scn_image *imgs;

			if (check_keys(c, m, path, keys) || need_num(c, m, "at", path, &at, false))
				return -EINVAL;
			if (!json_is_string(f))
				return fail(c, path, "\"image\" must be a file name");
			file = join_path(scn->dir, json_string_value(f));
			fd = file ? open(file, O_RDONLY) : -1;
			if (fd < 0 || fstat(fd, &sb) || sb.st_size == 0) {
				rc = fail(c, path, "cannot open image \"%s\": %s",
					  file ? file : "?", fd < 0 ? strerror(errno) : "empty file");
				if (fd >= 0)
					close(fd);
				free(file);
				return rc;
			}
			free(file);
			len = ((size_t)sb.st_size + 0xfff) & ~(size_t)0xfff;
			/* Private mapping: A/D updates never reach the file. */
			addr = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
			close(fd);
			if (addr == MAP_FAILED)
				return fail(c, path, "cannot map image: %s", strerror(errno));
			imgs = realloc(scn->images, (scn->nimages + 1) * sizeof(*imgs));
			if (!imgs) {
				munmap(addr, len);
				return -ENOMEM;
			}
			scn->images = imgs;
			scn->images[scn->nimages++] = (struct scn_image){ addr, len };
			rc = ims_mem_map_host(mem, at, len, addr,
					      json_is_true(json_object_get(m, "writable")));
			if (rc)
				return fail(c, path, "cannot place the image at 0x%llx: %s (4 KiB "
					    "aligned, inside the host address width, no overlap)",
					    (unsigned long long)at, strerror(-rc));
		} else {
			return fail(c, path, "expected \"ram\" or \"image\"");
		}
	}
	return 0;
}

static int load_registers(struct ctx *c, json_t *obj)
{
	const char *key;
	json_t *v;

	if (!json_is_object(obj))
		return fail(c, "registers", "expected an object of register names and values");
	json_object_foreach(obj, key, v) {
		char field[128];
		uint64_t val;
		int rc;

		snprintf(field, sizeof(field), "registers.%s", key);
		if (get_num(v, &val, false))
			return fail(c, field, "expected a register value such as \"0x100400\"");
		rc = ims_iommu_set_reg(c->scn->iommu, key, val);
		if (rc == -ENOENT)
			return fail(c, field, "not a register of %s (VT-d: RTADDR, TE, ...; "
				    "SMMUv3: CR0, STRTAB_BASE, EVENTQ_BASE, ...; see "
				    "'iommusim walk --help')",
				    ims_iommu_arch(c->scn->iommu)->name);
		if (rc)
			return fail(c, field, "value 0x%llx is not valid for this register",
				    (unsigned long long)val);
	}
	return 0;
}

/* Table allocator for map steps: a cursor per "tables" start address. */
struct alloc_ctx {
	struct scenario *scn;
	struct scn_pool *pool;
	const struct ims_pt_cfg *via;
};

static int pool_alloc(void *opaque, unsigned lg2, uint64_t *addr)
{
	struct alloc_ctx *a = opaque;
	struct ims_mem *mem = ims_iommu_mem(a->scn->iommu);
	uint64_t size = UINT64_C(1) << lg2, at = (a->pool->next + size - 1) & ~(size - 1);
	uint8_t zero[4096] = { 0 };

	/* Zero the new table where it really lives. */
	for (uint64_t off = 0; off < size; off += sizeof(zero)) {
		uint64_t pa = at + off;
		unsigned plg2;

		if (a->via && ims_pt_lookup(mem, a->via, NULL, at + off, &pa, &plg2))
			return -EFAULT;
		if (ims_mem_write(mem, pa, zero, sizeof(zero)) != IMS_MEM_OK)
			return -EFAULT;
	}
	a->pool->next = at + size;
	*addr = at;
	return 0;
}

static struct scn_pool *get_pool(struct scenario *scn, uint64_t start)
{
	struct scn_pool *p;

	for (size_t i = 0; i < scn->npools; i++)
		if (scn->pools[i].start == start)
			return &scn->pools[i];
	p = realloc(scn->pools, (scn->npools + 1) * sizeof(*p));
	if (!p)
		return NULL;
	scn->pools = p;
	p = &scn->pools[scn->npools++];
	p->start = p->next = start;
	return p;
}

static int stage_cfg(struct ctx *c, json_t *obj, const char *path, unsigned stage,
		     struct ims_pt_cfg *cfg)
{
	uint64_t levels, root;
	const struct ims_arch_ops *arch = ims_iommu_arch(c->scn->iommu);

	if (need_num(c, obj, "levels", path, &levels, false) ||
	    need_num(c, obj, "root", path, &root, false))
		return -EINVAL;
	if (!arch->stage_cfg || arch->stage_cfg(c->scn->iommu, stage, (unsigned)levels, root, cfg))
		return fail(c, path, "stage %u with %llu levels is not supported by this model "
			    "(VT-d: stage 1 has 4 or 5 levels, stage 2 has 3 to 5 per SAGAW; "
			    "SMMUv3: 2 to 4 levels of 4K-granule tables)",
			    stage, (unsigned long long)levels);
	return 0;
}

static int step_map(struct ctx *c, json_t *m, const char *path)
{
	static const char *const keys[] = { "stage", "levels", "root", "iova", "addr", "size",
					    "page", "perm", "tables", "via", NULL };
	struct scenario *scn = c->scn;
	struct ims_pt_cfg cfg, via;
	struct alloc_ctx a = { .scn = scn };
	uint64_t stage, iova, addr, size, page, tables;
	unsigned perm, page_lg2;
	json_t *v;
	char field[256];

	if (!json_is_object(m))
		return fail(c, path, "expected an object");
	if (check_keys(c, m, path, keys) || need_num(c, m, "stage", path, &stage, false))
		return -EINVAL;
	if (stage != 1 && stage != 2)
		return fail(c, path, "\"stage\" must be 1 or 2");
	if (stage_cfg(c, m, path, (unsigned)stage, &cfg) ||
	    need_num(c, m, "iova", path, &iova, false) ||
	    need_num(c, m, "addr", path, &addr, false) ||
	    need_num(c, m, "size", path, &size, true) ||
	    need_num(c, m, "tables", path, &tables, false))
		return -EINVAL;
	switch (opt_num(c, m, "page", path, &page, true)) {
	case 0:
		break;
	case 1: /* default: the size itself when it is a page size, else 4 KiB */
		page = (size == 1u << 12 || size == 1u << 21 || size == 1u << 30) ? size : 4096;
		break;
	default:
		return -EINVAL;
	}
	if (!page || (page & (page - 1)) || page < 4096)
		return fail(c, path, "\"page\" must be a power of two of at least 4K");
	page_lg2 = (unsigned)__builtin_ctzll(page);
	if (!size || size % page)
		return fail(c, path, "\"size\" must be a non-zero multiple of the page size");
	v = json_object_get(m, "perm");
	snprintf(field, sizeof(field), "%s.perm", path);
	if (!json_is_string(v) || ims_perm_parse(json_string_value(v), &perm))
		return fail(c, field, "expected letters from \"rwx\", plus \"u\" for user access "
			    "(e.g. \"rwu\")");
	if ((v = json_object_get(m, "via"))) {
		snprintf(field, sizeof(field), "%s.via", path);
		if (!json_is_object(v) || stage != 1)
			return fail(c, field, "expected {\"levels\": N, \"root\": ADDR} of the "
				    "stage-2 tables, on a stage-1 map only");
		if (stage_cfg(c, v, field, 2, &via))
			return -EINVAL;
		a.via = &via;
	}
	a.pool = get_pool(scn, tables);
	if (!a.pool)
		return -ENOMEM;
	for (uint64_t off = 0; off < size; off += page) {
		int rc = ims_pt_map(ims_iommu_mem(scn->iommu), &cfg, a.via, iova + off, addr + off,
				    page_lg2, perm, pool_alloc, &a);

		if (rc == -EINVAL)
			return fail(c, path, "cannot map 0x%llx -> 0x%llx with %llu-byte pages: "
				    "unaligned, out of range, or a page size this stage does "
				    "not support", (unsigned long long)(iova + off),
				    (unsigned long long)(addr + off), (unsigned long long)page);
		if (rc == -EEXIST)
			return fail(c, path, "0x%llx is already mapped by a larger page",
				    (unsigned long long)(iova + off));
		if (rc)
			return fail(c, path, "cannot write tables for 0x%llx: %s (is there RAM "
				    "at the root, the \"tables\" area%s?)",
				    (unsigned long long)(iova + off), strerror(-rc),
				    a.via ? " and its stage-2 mapping" : "");
	}
	return 0;
}

static int step_write(struct ctx *c, json_t *s, const char *path)
{
	static const char *const keys[] = { "write", "value", "values", "struct", "index",
					    "fields", NULL };
	struct ims_mem *mem = ims_iommu_mem(c->scn->iommu);
	uint64_t at, words[16] = { 0 };
	unsigned n = 0;
	json_t *v;
	char field[256];

	if (check_keys(c, s, path, keys) || need_num(c, s, "write", path, &at, false))
		return -EINVAL;
	if (at & 7)
		return fail(c, path, "\"write\" address must be 8-byte aligned");
	if ((v = json_object_get(s, "struct"))) {
		const struct ims_struct_desc *sd;
		const char *key;
		json_t *fv, *fields = json_object_get(s, "fields");
		uint64_t index = 0;

		sd = json_is_string(v) ? ims_struct_find(c->scn->iommu, json_string_value(v)) : NULL;
		if (!sd) {
			char list[512] = "";
			const struct ims_arch_ops *arch = ims_iommu_arch(c->scn->iommu);

			for (unsigned i = 0; i < arch->nstructs; i++) {
				strncat(list, arch->structs[i].name, sizeof(list) - strlen(list) - 1);
				if (i + 1 < arch->nstructs)
					strncat(list, ", ", sizeof(list) - strlen(list) - 1);
			}
			snprintf(field, sizeof(field), "%s.struct", path);
			return fail(c, field, "unknown structure (expected one of: %s)", list);
		}
		if (opt_num(c, s, "index", path, &index, false) < 0)
			return -EINVAL;
		at += index * 8 * sd->nwords;
		n = sd->nwords;
		/* Read-modify-write: e.g. the two halves of a scalable root entry. */
		if (ims_mem_read(mem, at, words, 8 * n) != IMS_MEM_OK)
			return fail(c, path, "no memory at 0x%llx for a %s",
				    (unsigned long long)at, sd->name);
		snprintf(field, sizeof(field), "%s.fields", path);
		if (!json_is_object(fields))
			return fail(c, field, "expected an object of field names and values");
		json_object_foreach(fields, key, fv) {
			uint64_t x;
			int rc;

			snprintf(field, sizeof(field), "%s.fields.%s", path, key);
			if (get_num(fv, &x, false))
				return fail(c, field, "expected a number");
			rc = ims_struct_set(sd, words, key, x);
			if (rc == -ENOENT) {
				char list[512] = "";

				for (unsigned i = 0; i < sd->nfields; i++) {
					strncat(list, sd->fields[i].name,
						sizeof(list) - strlen(list) - 1);
					if (i + 1 < sd->nfields)
						strncat(list, ", ", sizeof(list) - strlen(list) - 1);
				}
				return fail(c, field, "not a field of %s (fields: %s)", sd->name,
					    list);
			}
			if (rc)
				return fail(c, field, "value 0x%llx does not fit the field%s",
					    (unsigned long long)x,
					    "" /* address fields must also be aligned */);
		}
	} else if ((v = json_object_get(s, "value"))) {
		snprintf(field, sizeof(field), "%s.value", path);
		if (get_num(v, &words[0], false))
			return fail(c, field, "expected a 64-bit value");
		n = 1;
	} else if ((v = json_object_get(s, "values"))) {
		size_t i;
		json_t *w;

		snprintf(field, sizeof(field), "%s.values", path);
		if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > 16)
			return fail(c, field, "expected an array of 1 to 16 64-bit values");
		json_array_foreach(v, i, w) {
			if (get_num(w, &words[i], false))
				return fail(c, field, "element %zu is not a 64-bit value", i);
		}
		n = (unsigned)json_array_size(v);
	} else {
		return fail(c, path, "a write needs \"value\", \"values\" or \"struct\"");
	}
	for (unsigned i = 0; i < n; i++)
		if (ims_mem_write64(mem, at + 8 * i, words[i]) != IMS_MEM_OK)
			return fail(c, path, "no writable memory at 0x%llx (add it under \"memory\")",
				    (unsigned long long)(at + 8 * i));
	return 0;
}

static int load_steps(struct ctx *c, json_t *arr)
{
	size_t i;
	json_t *s;
	char path[64];

	if (!json_is_array(arr))
		return fail(c, "steps", "expected an array of steps");
	json_array_foreach(arr, i, s) {
		int rc;

		snprintf(path, sizeof(path), "steps[%zu]", i);
		if (!json_is_object(s))
			return fail(c, path, "expected an object, got %s", ims_json_type_name(s));
		if (json_object_get(s, "map")) {
			char mpath[80];

			if (json_object_size(s) != 1)
				return fail(c, path, "a map step holds only \"map\"");
			snprintf(mpath, sizeof(mpath), "%s.map", path);
			rc = step_map(c, json_object_get(s, "map"), mpath);
		} else if (json_object_get(s, "write")) {
			rc = step_write(c, s, path);
		} else {
			rc = fail(c, path, "expected a \"write\" or a \"map\" step");
		}
		if (rc)
			return rc;
	}
	return 0;
}

int parse_rid(const char *s, uint32_t *rid)
{
	unsigned bus, dev, fn;
	char tail;

	if (sscanf(s, "%x:%x.%x%c", &bus, &dev, &fn, &tail) == 3) {
		if (bus > 0xff || dev > 0x1f || fn > 7)
			return -ERANGE;
		*rid = bus << 8 | dev << 3 | fn;
		return 0;
	}
	return -EINVAL;
}

int parse_access(const char *s, uint32_t *access)
{
	uint32_t a = 0;

	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		switch (*s) {
		case 'r': a |= IMS_ACC_READ; break;
		case 'w': a |= IMS_ACC_WRITE; break;
		case 'x': a |= IMS_ACC_EXEC; break;
		default: return -EINVAL;
		}
	}
	*access = a;
	return 0;
}

static int load_txns(struct ctx *c, json_t *arr)
{
	static const char *const keys[] = { "rid", "sid", "pasid", "ssid", "addr", "access",
					    "priv", "size", "note", NULL };
	struct scenario *scn = c->scn;
	size_t i;
	json_t *t;
	char path[64], field[96];

	if (!json_is_array(arr) || json_array_size(arr) == 0)
		return fail(c, "transactions", "expected a non-empty array of transactions");
	scn->txns = calloc(json_array_size(arr), sizeof(*scn->txns));
	if (!scn->txns)
		return -ENOMEM;
	json_array_foreach(arr, i, t) {
		struct scn_txn *st = &scn->txns[i];
		const char *pkey;
		uint64_t x;
		json_t *v;

		snprintf(path, sizeof(path), "transactions[%zu]", i);
		if (!json_is_object(t))
			return fail(c, path, "expected an object");
		if (check_keys(c, t, path, keys))
			return -EINVAL;
		v = json_object_get(t, "rid");
		if (!v)
			v = json_object_get(t, "sid");
		snprintf(field, sizeof(field), "%s.%s", path,
			 json_object_get(t, "rid") ? "rid" : "sid");
		if (json_is_string(v) && strchr(json_string_value(v), ':')) {
			if (parse_rid(json_string_value(v), &st->txn.sid))
				return fail(c, field, "expected bus:device.function such as "
					    "\"00:02.0\"");
		} else if (!v || get_num(v, &x, false) || x > UINT32_MAX) {
			return fail(c, field, "expected a requester ID such as \"00:02.0\" or a "
				    "number");
		} else {
			st->txn.sid = (uint32_t)x;
		}
		/* "ssid" (SMMUv3 SubstreamID) is another name for "pasid". */
		pkey = json_object_get(t, "ssid") ? "ssid" : "pasid";
		if (json_object_get(t, "ssid") && json_object_get(t, "pasid"))
			return fail(c, path, "give \"pasid\" or \"ssid\", not both");
		if (opt_num(c, t, pkey, path, &x, false) == 0) {
			if (x > 0xfffff)
				return fail(c, path, "\"%s\" must fit 20 bits", pkey);
			st->txn.pasid = (uint32_t)x;
			st->txn.has_pasid = true;
		} else if (json_object_get(t, pkey)) {
			return -EINVAL;
		}
		if (need_num(c, t, "addr", path, &st->txn.addr, false))
			return -EINVAL;
		st->txn.size = 4;
		if (opt_num(c, t, "size", path, &x, true) == 0) {
			if (!x || x > 4096)
				return fail(c, path, "\"size\" must be 1 to 4096 bytes");
			st->txn.size = (uint32_t)x;
		} else if (json_object_get(t, "size")) {
			return -EINVAL;
		}
		if ((st->txn.addr & 0xfff) + st->txn.size > 0x1000)
			return fail(c, path, "the request crosses a 4 KiB boundary (PCIe requests "
				    "do not)");
		v = json_object_get(t, "access");
		snprintf(field, sizeof(field), "%s.access", path);
		if (!v)
			st->txn.access = IMS_ACC_READ;
		else if (!json_is_string(v) || parse_access(json_string_value(v), &st->txn.access))
			return fail(c, field, "expected \"r\", \"w\", \"x\" or a combination");
		v = json_object_get(t, "priv");
		if (v && !json_is_boolean(v))
			return fail(c, path, "\"priv\" must be true or false");
		if (json_is_true(v))
			st->txn.access |= IMS_ACC_PRIV;
		v = json_object_get(t, "note");
		if (v && !json_is_string(v))
			return fail(c, path, "\"note\" must be a string");
		st->note = v ? strdup(json_string_value(v)) : NULL;
		scn->ntxns++;
	}
	return 0;
}

int scenario_load(const char *path, const char *model_path, unsigned opts, struct scenario **out,
		  char *err, size_t errlen)
{
	static const char *const keys[] = { "description", "model", "memory", "registers",
					    "steps", "transactions", NULL };
	struct scenario *scn = calloc(1, sizeof(*scn));
	struct ctx c = { .scn = scn, .err = err, .errlen = errlen };
	json_error_t je;
	json_t *root, *v;
	char *tmp, *mpath = NULL;
	int rc = -EINVAL;

	if (!scn)
		return -ENOMEM;
	scn->path = strdup(path);
	tmp = strdup(path);
	scn->dir = tmp ? strdup(dirname(tmp)) : NULL;
	free(tmp);
	root = json_load_file(path, 0, &je);
	if (!root) {
		snprintf(err, errlen, "%s:%d:%d: %s", path, je.line, je.column, je.text);
		scenario_free(scn);
		return -EINVAL;
	}
	if (!json_is_object(root)) {
		fail(&c, "(top level)", "expected a JSON object");
		goto out;
	}
	if (check_keys(&c, root, "", keys))
		goto out;
	if ((v = json_object_get(root, "description")) && json_is_string(v))
		scn->description = strdup(json_string_value(v));
	if (model_path) {
		mpath = strdup(model_path);
	} else {
		v = json_object_get(root, "model");
		if (!json_is_string(v)) {
			fail(&c, "model", "expected the model file name, relative to the scenario");
			goto out;
		}
		mpath = join_path(scn->dir, json_string_value(v));
	}
	if (!mpath || ims_model_load(mpath, &scn->model, err, errlen))
		goto out;
	scn->iommu = ims_iommu_new_opts(scn->model, opts, err, errlen);
	if (!scn->iommu)
		goto out;
	if ((v = json_object_get(root, "memory")) && load_memory(&c, v))
		goto out;
	if ((v = json_object_get(root, "registers")) && load_registers(&c, v))
		goto out;
	if ((v = json_object_get(root, "steps")) && load_steps(&c, v))
		goto out;
	if (load_txns(&c, json_object_get(root, "transactions")))
		goto out;
	rc = 0;
out:
	free(mpath);
	json_decref(root);
	if (rc) {
		scenario_free(scn);
		return rc;
	}
	*out = scn;
	return 0;
}

void scenario_free(struct scenario *scn)
{
	if (!scn)
		return;
	for (size_t i = 0; i < scn->ntxns; i++)
		free(scn->txns[i].note);
	free(scn->txns);
	ims_iommu_free(scn->iommu);
	ims_model_free(scn->model);
	for (size_t i = 0; i < scn->nimages; i++)
		munmap(scn->images[i].addr, scn->images[i].len);
	free(scn->images);
	free(scn->pools);
	free(scn->description);
	free(scn->dir);
	free(scn->path);
	free(scn);
}
