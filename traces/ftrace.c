/*
 * ftrace.c - import Linux ftrace text (`trace-cmd report`, the tracefs
 * `trace` file, `perf script`) of the dma:* and iommu:* trace events into
 * trace events.
 *
 * The formats are those of the events' TP_printk strings in Linux
 * include/trace/events/dma.h (v6.12 onwards; dma_map_phys/dma_unmap_phys
 * since v6.17 or so, dma_map_page/dma_unmap_page and
 * dma_map_resource/dma_unmap_resource before) and
 * include/trace/events/iommu.h; arrays are printed by the kernel's
 * __print_array as {0x..,0x..} (kernel/trace/trace_output.c):
 *
 *   dma_map_phys:   "%s dir=%s dma_addr=%llx size=%zu phys_addr=%llx attrs=%s"
 *   dma_unmap_phys: "%s dir=%s dma_addr=%llx size=%zu attrs=%s"
 *   dma_map_sg:     "%s dir=%s nents=%d/%d ents=%d/%d%s dma_addrs=%s sizes=%s
 *                    phys_addrs=%s attrs=%s"  (%s after ents: " [TRUNCATED]")
 *   dma_unmap_sg:   "%s dir=%s phys_addrs=%s attrs=%s"
 *   map:            "IOMMU: iova=0x%016llx - 0x%016llx paddr=0x%016llx size=%zu"
 *   unmap:          "IOMMU: iova=0x%016llx - 0x%016llx size=%zu unmapped_size=%zu"
 *   attach_device_to_domain: "IOMMU: device=%s"
 *
 * A line is "<task>-<pid> [CPU] <flags> SECONDS.FRACTION: <event>: <fields>"
 * (the flags column is optional, the event may carry its "system:"
 * prefix).  Fields are key=value words in any order; a leading "device="
 * on the device name, a "0x" prefix on dma_addr / phys_addr and a "DMA_"
 * prefix on dir are accepted too.  What is made of them (docs/workloads.md,
 * "Importing ftrace"):
 *
 *  - one domain per device: the n-th device seen gets domain n and an
 *    ATTACH when first seen.  PCI names "SSSS:BB:DD.F" give the requester
 *    ID (segment << 16 | bus << 8 | device << 3 | function); any other
 *    name gets 0xff00 + n;
 *  - dma map/unmap: MAP/UNMAP of the 4 KiB pages the buffer touches
 *    (dma-iommu maps whole granules), perm from dir (TO_DEVICE: R,
 *    FROM_DEVICE: W, BIDIRECTIONAL and NONE: RW);
 *  - dma_map_sg: one MAP per DMA segment; its physical address is exact
 *    when nents == ents and approximate (the i-th physical entry) when the
 *    IOMMU merged entries, because the trace does not print the physical
 *    lengths; dma_unmap_sg prints only physical addresses, so it unmaps
 *    the segments of the dma_map_sg on that device whose first physical
 *    address matches, and is dropped when there is none;
 *  - iommu:map/unmap are the same mappings seen one layer down when the
 *    trace also has dma:* map events (dma-iommu calls iommu_map), so they
 *    are then skipped; otherwise (VFIO, iommufd users) they go to the
 *    domain of the device last named by attach_device_to_domain (or of a
 *    device "(iommu)" when none was);
 *  - time: the seconds field in ns, never going back (a line older than
 *    its predecessor gets its predecessor's time); cpu: the [CPU] field;
 *  - every other event is skipped, and so are lines that are not events.
 * ftrace has no DMA accesses: an imported trace holds maps and unmaps
 * only, unless dma_per_map asks for one DMA per mapped page after each map.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <iommusim/pgtable.h>
#include <iommusim/trace.h>

#include "engine/bits.h"

#define FT_PAGE 4096ull
#define FT_MAX_KV 24
#define FT_MAX_SEGS 128 /* DMA_TRACE_MAX_ENTRIES */

struct ft_dev {
	char *name;
	uint32_t dev, domain;
};

struct ft_sg {
	unsigned devi;
	uint64_t phys0;
	unsigned nseg;
	uint64_t iova[FT_MAX_SEGS], size[FT_MAX_SEGS];
};

struct ft_kv {
	const char *key, *val; /* NUL-terminated inside the line buffer */
};

struct ft {
	const char *file;
	unsigned long line;
	struct ims_ftrace_opts opts;
	ims_emit_fn emit;
	void *opaque;
	char *err;
	size_t errlen;
	bool has_dma;        /* the trace holds dma:* map/unmap events */
	uint64_t last_ts;
	unsigned cpu;
	struct ft_dev *devs;
	unsigned ndevs, cap_devs, nonpci;
	int cur_dev;         /* the device last attached (iommu:map attribution) */
	struct ft_sg *sgs;
	unsigned nsgs, cap_sgs;
	struct ft_kv kv[FT_MAX_KV];
	unsigned nkv;
};

static int ft_err(struct ft *f, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* "FILE:LINE: field "NAME": expected ..." */
static int ft_err(struct ft *f, const char *field, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (f->err && f->errlen) {
		n = snprintf(f->err, f->errlen, "%s:%lu: field \"%s\": ", f->file, f->line, field);
		if (n >= 0 && (size_t)n < f->errlen) {
			va_start(ap, fmt);
			vsnprintf(f->err + n, f->errlen - (size_t)n, fmt, ap);
			va_end(ap);
		}
	}
	return -EINVAL;
}

static int ft_emit(struct ft *f, struct ims_event *ev)
{
	int rc;

	ev->ts_ns = f->last_ts;
	ev->cpu = (uint16_t)f->cpu;
	rc = f->emit(f->opaque, ev);
	if (rc) {
		if (f->err && f->errlen)
			snprintf(f->err, f->errlen, "%s:%lu: the output refused an event (%d)",
				 f->file, f->line, rc);
		return rc < 0 ? rc : -ECANCELED;
	}
	return 0;
}

/* ---- the line header ---- */

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* "SECONDS.FRACTION:" at s; the time in ns and the end of the token. */
static bool parse_ts(const char *s, uint64_t *ns, const char **end)
{
	uint64_t sec = 0, frac = 0;
	unsigned digits = 0;

	if (!is_digit(*s))
		return false;
	while (is_digit(*s))
		sec = sec * 10 + (uint64_t)(*s++ - '0');
	if (*s++ != '.' || !is_digit(*s))
		return false;
	while (is_digit(*s)) {
		if (digits < 9) {
			frac = frac * 10 + (uint64_t)(*s - '0');
			digits++;
		}
		s++;
	}
	if (*s != ':')
		return false;
	while (digits++ < 9)
		frac *= 10;
	*ns = sec * 1000000000ull + frac;
	*end = s + 1;
	return true;
}

/*
 * Find "[CPU] [flags] TIME: EVENT: " in a line.  The task name before it
 * may hold anything, so every '[' is tried.  Returns false for lines that
 * are not events.
 */
static bool parse_header(char *line, unsigned *cpu, uint64_t *ts, char **event, char **rest)
{
	char *p;

	for (p = strchr(line, '['); p; p = strchr(p + 1, '[')) {
		const char *q = p + 1, *end;
		unsigned c = 0;
		char *e;

		if (!is_digit(*q))
			continue;
		while (is_digit(*q))
			c = c * 10 + (unsigned)(*q++ - '0');
		if (*q++ != ']' || !is_space(*q))
			continue;
		while (is_space(*q))
			q++;
		if (!parse_ts(q, ts, &end)) {
			/* a flags column ("d..1.", "....") first */
			while (*q && !is_space(*q))
				q++;
			while (is_space(*q))
				q++;
			if (!parse_ts(q, ts, &end))
				continue;
		}
		while (is_space(*end))
			end++;
		e = (char *)end;
		while (*e && !is_space(*e))
			e++;
		if (e == end || e[-1] != ':')
			continue;
		e[-1] = 0;
		*event = (char *)end;
		*rest = *e ? e + 1 : e;
		*cpu = c;
		return true;
	}
	return false;
}

/* ---- fields ---- */

/* Split "dev key=val key=val ..." in place; the first word without '=' is returned. */
static char *split_fields(struct ft *f, char *s)
{
	char *first = NULL;

	f->nkv = 0;
	for (;;) {
		char *w, *eq;

		while (is_space(*s) || *s == '\n' || *s == '\r')
			s++;
		if (!*s)
			break;
		w = s;
		while (*s && !is_space(*s) && *s != '\n' && *s != '\r')
			s++;
		if (*s)
			*s++ = 0;
		eq = strchr(w, '=');
		if (!eq) {
			if (!first)
				first = w;
			continue;
		}
		*eq = 0;
		if (!strcmp(w, "device") && !first) {
			first = eq + 1;
			continue;
		}
		if (f->nkv < FT_MAX_KV) {
			f->kv[f->nkv].key = w;
			f->kv[f->nkv].val = eq + 1;
			f->nkv++;
		}
	}
	return first;
}

static const char *kv_get(struct ft *f, const char *key)
{
	unsigned i;

	for (i = 0; i < f->nkv; i++)
		if (!strcmp(f->kv[i].key, key))
			return f->kv[i].val;
	return NULL;
}

/* A number: "0x" means hex, otherwise base.  *end gets the first unused char. */
static bool parse_num(const char *s, int base, uint64_t *v, const char **end)
{
	uint64_t x = 0;
	const char *p = s;

	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	if (!*p)
		return false;
	s = p;
	for (;; p++) {
		int d = ims_hex_digit(*p);

		if (d < 0 || d >= base)
			break;
		if (x > (UINT64_MAX - (unsigned)d) / (unsigned)base)
			return false;
		x = x * (unsigned)base + (unsigned)d;
	}
	if (p == s)
		return false;
	*v = x;
	*end = p;
	return true;
}

static int field_num(struct ft *f, const char *key, int base, uint64_t *v)
{
	const char *s = kv_get(f, key), *end;

	if (!s)
		return ft_err(f, key, "expected %s, found nothing",
			      base == 16 ? "a hexadecimal address" : "a size");
	if (!parse_num(s, base, v, &end) || *end)
		return ft_err(f, key, "expected %s, got \"%s\"",
			      base == 16 ? "a hexadecimal address" : "a decimal size", s);
	return 0;
}

/* "{0x1,0x2}" into v[]; the number of elements in *n. */
static int field_array(struct ft *f, const char *key, int base, uint64_t *v, unsigned *n)
{
	const char *s = kv_get(f, key), *p, *end;

	*n = 0;
	if (!s)
		return ft_err(f, key, "expected an array {0x..,...}, found nothing");
	if (*s != '{')
		goto bad;
	p = s + 1;
	if (*p == '}' && !p[1])
		return 0;
	for (;;) {
		if (*n >= FT_MAX_SEGS)
			return ft_err(f, key, "expected at most %u elements", FT_MAX_SEGS);
		if (!parse_num(p, base, &v[*n], &end))
			goto bad;
		(*n)++;
		if (*end == ',') {
			p = end + 1;
			continue;
		}
		if (*end == '}' && !end[1])
			return 0;
		goto bad;
	}
bad:
	return ft_err(f, key, "expected an array {0x..,...}, got \"%s\"", s);
}

/* dir=: the DMA direction into MAP permissions and the device's access. */
static int field_dir(struct ft *f, unsigned *perm, unsigned *access)
{
	const char *s = kv_get(f, "dir");

	if (!s)
		return ft_err(f, "dir", "expected TO_DEVICE, FROM_DEVICE, BIDIRECTIONAL or NONE, "
				 "found nothing");
	if (!strncmp(s, "DMA_", 4))
		s += 4;
	if (!strcmp(s, "TO_DEVICE")) {
		*perm = IMS_PERM_R;
		*access = IMS_ACC_READ;
	} else if (!strcmp(s, "FROM_DEVICE")) {
		*perm = IMS_PERM_W;
		*access = IMS_ACC_WRITE;
	} else if (!strcmp(s, "BIDIRECTIONAL") || !strcmp(s, "NONE")) {
		*perm = IMS_PERM_R | IMS_PERM_W;
		*access = IMS_ACC_READ;
	} else {
		return ft_err(f, "dir",
			      "expected TO_DEVICE, FROM_DEVICE, BIDIRECTIONAL or NONE, got \"%s\"",
			      kv_get(f, "dir"));
	}
	return 0;
}

/* ---- devices and domains ---- */

static bool parse_hexn(const char *s, unsigned n, unsigned *v)
{
	unsigned i, x = 0;

	for (i = 0; i < n; i++) {
		int d = ims_hex_digit(s[i]);

		if (d < 0)
			return false;
		x = x * 16 + (unsigned)d;
	}
	*v = x;
	return true;
}

/* "SSSS:BB:DD.F" or "BB:DD.F" into a requester ID. */
static bool pci_rid(const char *name, uint32_t *rid)
{
	size_t len = strlen(name);
	unsigned seg = 0, bus, dev, fn;

	if (len == 12) {
		if (!parse_hexn(name, 4, &seg) || name[4] != ':')
			return false;
		name += 5;
	} else if (len != 7) {
		return false;
	}
	if (!parse_hexn(name, 2, &bus) || name[2] != ':' || !parse_hexn(name + 3, 2, &dev) ||
	    name[5] != '.' || !parse_hexn(name + 6, 1, &fn) || dev > 31 || fn > 7)
		return false;
	*rid = seg << 16 | bus << 8 | dev << 3 | fn;
	return true;
}

/* The device by name, attached to a domain of its own when first seen. */
static int ft_device(struct ft *f, const char *name, unsigned *idx)
{
	struct ims_event ev = { .type = IMS_EV_ATTACH };
	struct ft_dev *d;
	unsigned i;

	for (i = 0; i < f->ndevs; i++) {
		if (!strcmp(f->devs[i].name, name)) {
			*idx = i;
			return 0;
		}
	}
	if (f->ndevs == f->cap_devs) {
		unsigned cap = f->cap_devs ? f->cap_devs * 2 : 8;
		struct ft_dev *n = realloc(f->devs, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		f->devs = n;
		f->cap_devs = cap;
	}
	d = &f->devs[f->ndevs];
	d->name = strdup(name);
	if (!d->name)
		return -ENOMEM;
	if (!pci_rid(name, &d->dev))
		d->dev = 0xff00u + f->nonpci++;
	d->domain = f->ndevs + 1;
	*idx = f->ndevs++;
	ev.dev = d->dev;
	ev.domain = d->domain;
	return ft_emit(f, &ev);
}

/* The device name that opens a dma:* event's fields (and attach_device_to_domain's). */
static int need_name(struct ft *f, const char *name)
{
	if (!name || !*name)
		return ft_err(f, "device", "expected a device name first, found nothing");
	return 0;
}

/* ---- maps and unmaps ---- */

/* MAP of the pages [addr, addr + size) touches, then optionally a DMA per page. */
static int ft_map(struct ft *f, unsigned devi, uint64_t addr, uint64_t size, uint64_t phys,
		  unsigned perm, unsigned access)
{
	const struct ft_dev *d = &f->devs[devi];
	uint64_t first = addr & ~(FT_PAGE - 1);
	uint64_t last = (addr + size - 1) | (FT_PAGE - 1);
	struct ims_event ev = { .type = IMS_EV_MAP, .domain = d->domain, .iova = first,
				.size = last - first + 1, .pa = phys & ~(FT_PAGE - 1),
				.access = (uint8_t)perm };
	uint64_t a;
	int rc = ft_emit(f, &ev);

	if (rc || !f->opts.dma_per_map)
		return rc;
	for (a = first; a <= last; a += FT_PAGE) {
		uint64_t lo = a > addr ? a : addr;
		uint64_t hi = a + FT_PAGE - 1 < addr + size - 1 ? a + FT_PAGE - 1 : addr + size - 1;
		struct ims_event dma = { .type = IMS_EV_DMA, .dev = d->dev, .iova = lo,
					 .size = hi - lo + 1, .access = (uint8_t)access };

		rc = ft_emit(f, &dma);
		if (rc)
			return rc;
		if (a == last)
			break;
	}
	return 0;
}

static int ft_unmap(struct ft *f, uint32_t domain, uint64_t addr, uint64_t size)
{
	uint64_t first = addr & ~(FT_PAGE - 1);
	uint64_t last = (addr + size - 1) | (FT_PAGE - 1);
	struct ims_event ev = { .type = IMS_EV_UNMAP, .domain = domain, .iova = first,
				.size = last - first + 1 };

	return ft_emit(f, &ev);
}

static int check_size(struct ft *f, const char *key, uint64_t addr, uint64_t size)
{
	if (!size)
		return ft_err(f, key, "expected a size above 0, got 0");
	if (addr + size - 1 < addr)
		return ft_err(f, key, "expected a size that does not wrap the address space");
	return 0;
}

static int ev_map_single(struct ft *f, char *rest)
{
	char *name = split_fields(f, rest);
	uint64_t dma, size, phys;
	unsigned devi, perm, access;
	int rc;

	if ((rc = need_name(f, name)) || (rc = field_dir(f, &perm, &access)) ||
	    (rc = field_num(f, "dma_addr", 16, &dma)) || (rc = field_num(f, "size", 10, &size)) ||
	    (rc = field_num(f, "phys_addr", 16, &phys)) ||
	    (rc = check_size(f, "size", dma, size)))
		return rc;
	rc = ft_device(f, name, &devi);
	return rc ? rc : ft_map(f, devi, dma, size, phys, perm, access);
}

static int ev_unmap_single(struct ft *f, char *rest)
{
	char *name = split_fields(f, rest);
	uint64_t dma, size;
	unsigned devi, perm, access;
	int rc;

	if ((rc = need_name(f, name)) || (rc = field_dir(f, &perm, &access)) ||
	    (rc = field_num(f, "dma_addr", 16, &dma)) || (rc = field_num(f, "size", 10, &size)) ||
	    (rc = check_size(f, "size", dma, size)))
		return rc;
	rc = ft_device(f, name, &devi);
	return rc ? rc : ft_unmap(f, f->devs[devi].domain, dma, size);
}

static int ev_map_sg(struct ft *f, char *rest)
{
	char *name = split_fields(f, rest);
	uint64_t dma[FT_MAX_SEGS], len[FT_MAX_SEGS], phys[FT_MAX_SEGS];
	unsigned nd, nl, np, devi, perm, access, i;
	struct ft_sg *sg;
	int rc;

	if ((rc = need_name(f, name)) || (rc = field_dir(f, &perm, &access)) ||
	    (rc = field_array(f, "dma_addrs", 16, dma, &nd)) ||
	    (rc = field_array(f, "sizes", 10, len, &nl)) ||
	    (rc = field_array(f, "phys_addrs", 16, phys, &np)))
		return rc;
	if (nl != nd)
		return ft_err(f, "sizes", "expected %u elements like dma_addrs, got %u", nd, nl);
	if (nd && !np)
		return ft_err(f, "phys_addrs", "expected at least one element");
	for (i = 0; i < nd; i++)
		if ((rc = check_size(f, "sizes", dma[i], len[i])))
			return rc;
	rc = ft_device(f, name, &devi);
	if (rc || !nd)
		return rc;
	if (f->nsgs == f->cap_sgs) {
		unsigned cap = f->cap_sgs ? f->cap_sgs * 2 : 16;
		struct ft_sg *n = realloc(f->sgs, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		f->sgs = n;
		f->cap_sgs = cap;
	}
	sg = &f->sgs[f->nsgs++];
	sg->devi = devi;
	sg->phys0 = phys[0];
	sg->nseg = nd;
	for (i = 0; i < nd; i++) {
		sg->iova[i] = dma[i];
		sg->size[i] = len[i];
		rc = ft_map(f, devi, dma[i], len[i], phys[i < np ? i : np - 1], perm, access);
		if (rc)
			return rc;
	}
	return 0;
}

static int ev_unmap_sg(struct ft *f, char *rest)
{
	char *name = split_fields(f, rest);
	uint64_t phys[FT_MAX_SEGS];
	unsigned np, devi, perm, access, i, k;
	int rc;

	if ((rc = need_name(f, name)) || (rc = field_dir(f, &perm, &access)) ||
	    (rc = field_array(f, "phys_addrs", 16, phys, &np)))
		return rc;
	rc = ft_device(f, name, &devi);
	if (rc || !np)
		return rc;
	for (i = f->nsgs; i-- > 0;) {
		struct ft_sg *sg = &f->sgs[i];

		if (sg->devi != devi || sg->phys0 != phys[0])
			continue;
		for (k = 0; k < sg->nseg; k++) {
			rc = ft_unmap(f, f->devs[devi].domain, sg->iova[k], sg->size[k]);
			if (rc)
				return rc;
		}
		f->sgs[i] = f->sgs[--f->nsgs];
		return 0;
	}
	return 0; /* its map_sg is not in the trace */
}

static int iommu_device(struct ft *f, unsigned *devi)
{
	if (f->cur_dev >= 0) {
		*devi = (unsigned)f->cur_dev;
		return 0;
	}
	return ft_device(f, "(iommu)", devi);
}

static int ev_iommu_map(struct ft *f, char *rest)
{
	uint64_t iova, pa, size;
	unsigned devi;
	int rc;

	split_fields(f, rest);
	if ((rc = field_num(f, "iova", 16, &iova)) || (rc = field_num(f, "paddr", 16, &pa)) ||
	    (rc = field_num(f, "size", 10, &size)) || (rc = check_size(f, "size", iova, size)))
		return rc;
	if (f->has_dma)
		return 0;
	rc = iommu_device(f, &devi);
	return rc ? rc : ft_map(f, devi, iova, size, pa, IMS_PERM_R | IMS_PERM_W, IMS_ACC_READ);
}

static int ev_iommu_unmap(struct ft *f, char *rest)
{
	uint64_t iova, size, done;
	unsigned devi;
	int rc;

	split_fields(f, rest);
	if ((rc = field_num(f, "iova", 16, &iova)) || (rc = field_num(f, "size", 10, &size)) ||
	    (rc = field_num(f, "unmapped_size", 10, &done)))
		return rc;
	if (f->has_dma || !done)
		return 0;
	if ((rc = check_size(f, "unmapped_size", iova, done)))
		return rc;
	rc = iommu_device(f, &devi);
	return rc ? rc : ft_unmap(f, f->devs[devi].domain, iova, done);
}

/* ---- lines ---- */

enum ft_kind { K_NONE, K_MAP, K_UNMAP, K_MAP_SG, K_UNMAP_SG, K_IOMMU_MAP, K_IOMMU_UNMAP, K_ATTACH };

/* Which of our events a line holds; payload checked for the generic names. */
static enum ft_kind event_kind(const char *event, const char *rest)
{
	const char *sys = strchr(event, ':');
	const char *name = sys ? sys + 1 : event;
	bool dma_ok = !sys || !strncmp(event, "dma:", 4);
	bool iommu_ok = !sys || !strncmp(event, "iommu:", 6);

	while (is_space(*rest))
		rest++;
	if (dma_ok) {
		if (!strcmp(name, "dma_map_phys") || !strcmp(name, "dma_map_page") ||
		    !strcmp(name, "dma_map_resource"))
			return K_MAP;
		if (!strcmp(name, "dma_unmap_phys") || !strcmp(name, "dma_unmap_page") ||
		    !strcmp(name, "dma_unmap_resource"))
			return K_UNMAP;
		if (!strcmp(name, "dma_map_sg"))
			return K_MAP_SG;
		if (!strcmp(name, "dma_unmap_sg"))
			return K_UNMAP_SG;
	}
	if (iommu_ok && !strncmp(rest, "IOMMU:", 6)) {
		if (!strcmp(name, "map"))
			return K_IOMMU_MAP;
		if (!strcmp(name, "unmap"))
			return K_IOMMU_UNMAP;
		if (!strcmp(name, "attach_device_to_domain"))
			return K_ATTACH;
	}
	return K_NONE;
}

static int ft_line(struct ft *f, char *line, bool scan)
{
	char *event, *rest;
	unsigned cpu;
	uint64_t ts;
	enum ft_kind k;

	if (!parse_header(line, &cpu, &ts, &event, &rest))
		return 0;
	k = event_kind(event, rest);
	if (scan) {
		if (k == K_MAP || k == K_UNMAP || k == K_MAP_SG || k == K_UNMAP_SG)
			f->has_dma = true;
		return 0;
	}
	if (k == K_NONE)
		return 0;
	if (ts > f->last_ts)
		f->last_ts = ts;
	f->cpu = cpu;
	switch (k) {
	case K_MAP: return ev_map_single(f, rest);
	case K_UNMAP: return ev_unmap_single(f, rest);
	case K_MAP_SG: return ev_map_sg(f, rest);
	case K_UNMAP_SG: return ev_unmap_sg(f, rest);
	case K_IOMMU_MAP: return ev_iommu_map(f, rest);
	case K_IOMMU_UNMAP: return ev_iommu_unmap(f, rest);
	case K_ATTACH: {
		unsigned devi;
		int rc;

		/* "IOMMU: device=NAME": split_fields returns NAME as the device. */
		char *name = split_fields(f, rest + strspn(rest, " \t") + 6);

		if (!(rc = need_name(f, name)) && !(rc = ft_device(f, name, &devi)))
			f->cur_dev = (int)devi;
		return rc;
	}
	default: return 0;
	}
}

static int ft_pass(struct ft *f, FILE *in, bool scan)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = 0;

	f->line = 0;
	while ((n = getline(&line, &cap, in)) >= 0) {
		f->line++;
		rc = ft_line(f, line, scan);
		if (rc)
			break;
	}
	if (!rc && ferror(in)) {
		rc = -EIO;
		if (f->err && f->errlen)
			snprintf(f->err, f->errlen, "%s:%lu: read error", f->file, f->line);
	}
	free(line);
	return rc;
}

int ims_import_ftrace_opts(const char *path, const struct ims_ftrace_opts *opts, ims_emit_fn emit,
			   void *opaque, char *err, size_t errlen)
{
	struct ft f = { .file = path, .emit = emit, .opaque = opaque, .err = err,
			.errlen = errlen, .cur_dev = -1 };
	FILE *in;
	unsigned i;
	int rc;

	if (err && errlen)
		err[0] = 0;
	if (!path || !emit) {
		if (err && errlen)
			snprintf(err, errlen, "ftrace import: no %s", path ? "emit callback" : "file");
		return -EINVAL;
	}
	if (opts)
		f.opts = *opts;
	if (!strcmp(path, "-")) {
		/* Two passes need a seekable copy of standard input. */
		char buf[65536];
		size_t n;

		f.file = "<stdin>";
		in = tmpfile();
		if (!in)
			rc = -errno;
		else
			rc = 0;
		while (!rc && (n = fread(buf, 1, sizeof(buf), stdin)) > 0)
			if (fwrite(buf, 1, n, in) != n)
				rc = -EIO;
		if (!rc && ferror(stdin))
			rc = -EIO;
		if (rc) {
			if (in)
				fclose(in);
			if (err && errlen)
				snprintf(err, errlen, "<stdin>: %s", strerror(-rc));
			return rc;
		}
		rewind(in);
	} else {
		in = fopen(path, "r");
		if (!in) {
			rc = -errno;
			if (err && errlen)
				snprintf(err, errlen, "%s: %s", path, strerror(errno));
			return rc;
		}
	}
	/* Pass 1: does the trace hold dma:* map events (then iommu:map is a duplicate)? */
	rc = ft_pass(&f, in, true);
	if (!rc) {
		rewind(in);
		rc = ft_pass(&f, in, false);
	}
	fclose(in);
	for (i = 0; i < f.ndevs; i++)
		free(f.devs[i].name);
	free(f.devs);
	free(f.sgs);
	return rc;
}

int ims_import_ftrace(const char *path, ims_emit_fn emit, void *opaque, char *err, size_t errlen)
{
	return ims_import_ftrace_opts(path, NULL, emit, opaque, err, errlen);
}
