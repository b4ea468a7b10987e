/*
 * format.c - what both trace encodings share: the event type names, the
 * rules every event obeys (which fields each type carries, which values
 * are valid), telling the encodings apart when a trace is opened, buffered
 * input and output with "-" for standard input and output, and dispatch to
 * traces/jsonl.c and traces/binary.c.
 *
 * The rules live here, once, so that both encodings accept exactly the
 * same events and a round trip through either one is lossless: a writer
 * refuses an event that breaks them (-EINVAL) and a reader reports one
 * as bad input.  docs/traces.md describes them for users.
 *
 * Memory use does not depend on the length of a trace: a reader or writer
 * holds one TRACE_BUF_SIZE buffer and the previous event's time.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/bits.h"
#include "engine/engine_int.h"
#include "traces/format_int.h"

#include <iommusim/pgtable.h>

static const char *const type_names[IMS_EV__COUNT] = {
	[IMS_EV_ATTACH] = "attach", [IMS_EV_DETACH] = "detach", [IMS_EV_MAP] = "map",
	[IMS_EV_UNMAP] = "unmap",   [IMS_EV_DMA] = "dma",       [IMS_EV_INV] = "inv",
	[IMS_EV_SYNC] = "sync",     [IMS_EV_FAULT] = "fault",   [IMS_EV_WRITE] = "write",
	[IMS_EV_TICK] = "tick",
};

const char *ims_ev_type_name(enum ims_ev_type type)
{
	if ((unsigned)type == 0 || (unsigned)type >= IMS_EV__COUNT)
		return "?";
	return type_names[type];
}

unsigned trace_type_find(const char *name)
{
	for (unsigned t = 1; t < IMS_EV__COUNT; t++)
		if (!strcmp(name, type_names[t]))
			return t;
	return 0;
}

const char *const trace_inv_kind_names[5] = {
	[IMS_EV_INV_PAGE] = "page",
	[IMS_EV_INV_DOMAIN] = "domain",
	[IMS_EV_INV_PASID] = "pasid",
	[IMS_EV_INV_GLOBAL] = "global",
};

unsigned trace_inv_kind_find(const char *name)
{
	for (unsigned k = 1; k < 5; k++)
		if (!strcmp(name, trace_inv_kind_names[k]))
			return k;
	return 0;
}

const char *const trace_field_names[TF__COUNT] = {
	[TF_T] = "t",         [TF_EV] = "ev",         [TF_CPU] = "cpu",
	[TF_KIND] = "kind",   [TF_DEV] = "dev",       [TF_PASID] = "pasid",
	[TF_DOMAIN] = "domain", [TF_NESTED] = "nested", [TF_PARENT] = "parent",
	[TF_IOVA] = "iova",   [TF_SIZE] = "size",     [TF_PA] = "pa",
	[TF_PERM] = "perm",   [TF_ACCESS] = "access", [TF_VALUE] = "value",
	[TF_WORDS] = "words", [TF_LEAF] = "leaf",
};

const char *const trace_field_what[TF__COUNT] = {
	[TF_T] = "the time in nanoseconds (an integer, or a string in C notation)",
	[TF_EV] = "the event type: \"attach\", \"detach\", \"map\", \"unmap\", \"dma\", "
		  "\"inv\", \"sync\", \"fault\", \"write\" or \"tick\"",
	[TF_CPU] = "a CPU or queue number, 0 to 65535",
	[TF_KIND] = "the invalidation kind: \"page\", \"domain\", \"pasid\" or \"global\"",
	[TF_DEV] = "a requester ID / StreamID: an integer up to 0xffffffff or "
		   "\"bus:dev.fn\" (e.g. \"00:02.0\")",
	[TF_PASID] = "a PASID / SubstreamID, an integer up to 0xffffffff",
	[TF_DOMAIN] = "a domain number, an integer up to 0xffffffff",
	[TF_NESTED] = "true or false",
	[TF_PARENT] = "the parent (stage-2) domain number, an integer up to 0xffffffff",
	[TF_IOVA] = "an I/O virtual address: a string in C notation (\"0x7f0000000000\") or an "
		    "integer",
	[TF_SIZE] = "a size in bytes: an integer or a string in C notation",
	[TF_PA] = "a physical address: a string in C notation (\"0x40000000\") or an integer",
	[TF_PERM] = "permission letters from \"rwx\", plus \"u\" for user access (e.g. "
		    "\"rwu\"; \"-\" for none), or an integer of IMS_PERM_* bits up to 0x3f",
	[TF_ACCESS] = "access letters from \"rwx\", plus \"p\" for a privileged request (e.g. "
		      "\"rp\"), or an integer of IMS_ACC_* bits up to 0xf",
	[TF_VALUE] = "the 64-bit value written: a string in C notation or an integer",
	[TF_WORDS] = "an array of 1 to 4 64-bit descriptor words (strings in C notation or "
		     "integers)",
	[TF_LEAF] = "true or false",
};

int trace_field_find(const char *key)
{
	for (int f = 0; f < TF__COUNT; f++)
		if (!strcmp(key, trace_field_names[f]))
			return f;
	return -1;
}

#define F(x) ((uint32_t)BIT(TF_##x))

void trace_fields(unsigned type, unsigned inv_kind, bool has_words, uint32_t *req,
		  uint32_t *opt)
{
	uint32_t r = F(EV), o = F(T) | F(CPU);

	switch (type) {
	case IMS_EV_ATTACH:
		r |= F(DEV) | F(DOMAIN);
		o |= F(PASID) | F(NESTED) | F(PARENT);
		break;
	case IMS_EV_DETACH:
		r |= F(DEV);
		o |= F(PASID) | F(DOMAIN);
		break;
	case IMS_EV_MAP:
		r |= F(DOMAIN) | F(IOVA) | F(SIZE) | F(PA) | F(PERM);
		break;
	case IMS_EV_UNMAP:
		r |= F(DOMAIN) | F(IOVA) | F(SIZE);
		break;
	case IMS_EV_DMA:
		r |= F(DEV) | F(IOVA) | F(SIZE) | F(ACCESS);
		o |= F(PASID);
		break;
	case IMS_EV_INV:
		if (has_words) {
			r |= F(WORDS);
			break;
		}
		r |= F(KIND);
		switch (inv_kind) {
		case IMS_EV_INV_PAGE:
			r |= F(DOMAIN) | F(IOVA) | F(SIZE);
			o |= F(PASID) | F(NESTED) | F(LEAF);
			break;
		case IMS_EV_INV_DOMAIN:
			r |= F(DOMAIN);
			o |= F(NESTED);
			break;
		case IMS_EV_INV_PASID:
			r |= F(DOMAIN) | F(PASID);
			o |= F(NESTED);
			break;
		default:
			break;
		}
		break;
	case IMS_EV_FAULT:
		r |= F(DEV) | F(IOVA);
		o |= F(PASID) | F(DOMAIN) | F(SIZE) | F(ACCESS) | F(WORDS);
		break;
	case IMS_EV_WRITE:
		r |= F(PA) | F(VALUE);
		break;
	default: /* SYNC, TICK */
		break;
	}
	*req = r;
	*opt = o;
}

#define BAD(f, ...)                                                         \
	do {                                                                \
		*field = (f);                                               \
		snprintf(why, whylen, __VA_ARGS__);                         \
		return -EINVAL;                                             \
	} while (0)

/* The range [start, start + size - 1] must not wrap past 2^64 - 1. */
static bool range_wraps(uint64_t start, uint64_t size)
{
	return size && size - 1 > UINT64_MAX - start;
}

/* "a \"map\" event", "an \"inv\" event of kind \"page\"", for messages. */
static void event_desc(const struct ims_event *ev, bool words_form, char *buf, size_t len)
{
	if (ev->type != IMS_EV_INV)
		snprintf(buf, len, "a \"%s\" event", type_names[ev->type]);
	else if (words_form)
		snprintf(buf, len, "an \"inv\" event with raw words");
	else
		snprintf(buf, len, "an \"inv\" event of kind \"%s\"",
			 trace_inv_kind_names[ev->inv_kind]);
}

int trace_event_check(const struct ims_event *ev, const char **field, char *why,
		      size_t whylen)
{
	const char *tn;
	uint32_t req, opt, ok, set;
	bool words_form;
	unsigned nvalid;

	if (ev->type == 0 || ev->type >= IMS_EV__COUNT)
		BAD("ev", "an event type 1 to %d, not %u", IMS_EV__COUNT - 1, ev->type);
	tn = type_names[ev->type];
	if (ev->nwords > 4)
		BAD("words", "at most 4 words, not %u", ev->nwords);
	if (ev->flags & ~(IMS_EV_F_LEAF | IMS_EV_F_NESTED))
		BAD("flags", "only IMS_EV_F_LEAF and IMS_EV_F_NESTED, not 0x%x", ev->flags);
	if (ev->has_pasid > 1)
		BAD("pasid", "has_pasid 0 or 1, not %u", ev->has_pasid);
	if (!ev->has_pasid && ev->pasid)
		BAD("pasid", "0 when has_pasid is 0, not %u", ev->pasid);

	words_form = ev->type == IMS_EV_INV && ev->nwords;
	trace_fields(ev->type, ev->inv_kind, words_form, &req, &opt);
	ok = req | opt;

	if (ev->type == IMS_EV_INV && !words_form && (ev->inv_kind < 1 || ev->inv_kind > 4))
		BAD("kind", "%s, or raw \"words\"", trace_field_what[TF_KIND]);

	/* 1. Fields this type does not carry are zero. */
	set = (ev->inv_kind ? F(KIND) : 0) | (ev->dev ? F(DEV) : 0) |
	      (ev->has_pasid ? F(PASID) : 0) | (ev->domain ? F(DOMAIN) : 0) |
	      (ev->flags & IMS_EV_F_NESTED ? F(NESTED) : 0) | (ev->iova ? F(IOVA) : 0) |
	      (ev->size ? F(SIZE) : 0) | (ev->pa ? F(PA) : 0) | (ev->nwords ? F(WORDS) : 0) |
	      (ev->flags & IMS_EV_F_LEAF ? F(LEAF) : 0);
	if (__builtin_expect(set & ~ok, 0)) {
		unsigned f = (unsigned)__builtin_ctz(set & ~ok);
		char what[48];

		event_desc(ev, words_form, what, sizeof(what));
		BAD(trace_field_names[f], "no \"%s\" in %s", trace_field_names[f], what);
	}
	if (ev->parent && !(ev->flags & IMS_EV_F_NESTED))
		BAD("parent", "a parent domain only in a nested \"attach\" (with \"nested\": true)");
	if (!(ok & (F(PERM) | F(ACCESS))) && ev->access)
		BAD("access", "no access or permission bits in a \"%s\" event", tn);
	nvalid = (ok & F(WORDS)) ? ev->nwords : (ok & F(VALUE)) ? 1 : 0;
	for (unsigned i = nvalid; i < 4; i++)
		if (ev->words[i])
			BAD("words", "words[%u] to be 0: the event has %u word%s", i, nvalid,
			    nvalid == 1 ? "" : "s");

	/* 2. The values of the fields it carries. */
	if ((req & F(PASID)) && !ev->has_pasid)
		BAD("pasid", "a PASID: an \"inv\" of kind \"pasid\" names one");
	if ((req & F(SIZE)) && !ev->size)
		BAD("size", "a size of at least 1 byte");
	if (range_wraps(ev->iova, ev->size))
		BAD("size", "iova + size to stay within the 64-bit address space "
		    "(iova 0x%llx, size 0x%llx)", (unsigned long long)ev->iova,
		    (unsigned long long)ev->size);
	if (ev->type == IMS_EV_MAP && range_wraps(ev->pa, ev->size))
		BAD("size", "pa + size to stay within the 64-bit address space "
		    "(pa 0x%llx, size 0x%llx)", (unsigned long long)ev->pa,
		    (unsigned long long)ev->size);
	if (ev->type == IMS_EV_MAP && ev->access > IMS_PERM_ALL)
		BAD("perm", "IMS_PERM_* bits up to 0x%x, not 0x%x", IMS_PERM_ALL, ev->access);
	if ((ok & F(ACCESS)) &&
	    ev->access & ~(IMS_ACC_READ | IMS_ACC_WRITE | IMS_ACC_EXEC | IMS_ACC_PRIV))
		BAD("access", "IMS_ACC_* bits up to 0xf, not 0x%x", ev->access);
	if (ev->type == IMS_EV_DMA &&
	    !(ev->access & (IMS_ACC_READ | IMS_ACC_WRITE | IMS_ACC_EXEC)))
		BAD("access", "at least one of \"r\", \"w\" or \"x\" in a \"dma\" event");
	return 0;
}

#undef BAD

bool trace_arch_is_valid(const char *arch)
{
	return !strcmp(arch, "") || !strcmp(arch, "vtd") || !strcmp(arch, "smmuv3") ||
	       !strcmp(arch, "mock");
}

/* Well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF). */
static bool utf8_is_valid(const char *s)
{
	const uint8_t *p = (const uint8_t *)s;

	while (*p) {
		unsigned n, cp;

		if (*p < 0x80) {
			p++;
			continue;
		}
		if ((*p & 0xe0) == 0xc0) {
			n = 1;
			cp = *p & 0x1f;
		} else if ((*p & 0xf0) == 0xe0) {
			n = 2;
			cp = *p & 0x0f;
		} else if ((*p & 0xf8) == 0xf0) {
			n = 3;
			cp = *p & 0x07;
		} else {
			return false;
		}
		p++;
		for (unsigned i = 0; i < n; i++, p++) {
			if ((*p & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (*p & 0x3f);
		}
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
	}
	return true;
}

/*
 * Check a header: version 1 (or 0, meaning the current one), an arch name
 * from the list, and NUL-terminated UTF-8 strings that fit their arrays.
 */
int trace_header_check(const struct ims_trace_header *h, const char **field, char *why,
		       size_t whylen)
{
	*field = NULL;
	if (h->version != 0 && h->version != IMS_TRACE_VERSION) {
		*field = "version";
		snprintf(why, whylen, "%d, not %u", IMS_TRACE_VERSION, h->version);
	} else if (!memchr(h->arch, 0, sizeof(h->arch)) || !trace_arch_is_valid(h->arch)) {
		*field = "arch";
		snprintf(why, whylen, "\"vtd\", \"smmuv3\", \"mock\" or \"\"");
	} else if (!memchr(h->source, 0, sizeof(h->source)) || !utf8_is_valid(h->source)) {
		*field = "source";
		snprintf(why, whylen, "UTF-8 text of at most %zu bytes", sizeof(h->source) - 1);
	}
	return *field ? -EINVAL : 0;
}

/* ---- buffered input ---- */

int trace_rbuf_fill(struct trace_rbuf *b, size_t want)
{
	if (b->end - b->pos >= want || b->eof)
		return 0;
	if (b->pos) {
		memmove(b->buf, b->buf + b->pos, b->end - b->pos);
		b->base += b->pos;
		b->end -= b->pos;
		b->pos = 0;
	}
	while (b->end < want && !b->eof) {
		ssize_t n = read(b->fd, b->buf + b->end, TRACE_BUF_SIZE - b->end);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			b->eof = true;
		b->end += (size_t)n;
	}
	return 0;
}

static void reader_free(struct ims_trace_reader *r)
{
	if (r->in.own && r->in.fd >= 0)
		close(r->in.fd);
	free(r->in.buf);
	free(r->name);
	free(r);
}

int ims_trace_open(const char *path, struct ims_trace_reader **out, char *err, size_t errlen)
{
	struct ims_trace_reader *r;
	struct stat st;
	const uint8_t *p;
	size_t i;
	int rc;

	if (!path || !out)
		return ims_errf(err, errlen, "ims_trace_open: no path or no result pointer");
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->in.fd = -1;
	r->in.buf = malloc(TRACE_BUF_SIZE);
	r->name = strdup(strcmp(path, "-") ? path : "<stdin>");
	if (!r->in.buf || !r->name) {
		reader_free(r);
		return -ENOMEM;
	}
	if (!strcmp(path, "-")) {
		r->in.fd = STDIN_FILENO;
	} else {
		r->in.fd = open(path, O_RDONLY | O_CLOEXEC);
		r->in.own = true;
	}
	if (r->in.fd < 0 || fstat(r->in.fd, &st)) {
		rc = -errno;
		ims_errf(err, errlen, "%s: cannot open: %s", r->name, strerror(errno));
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		ims_errf(err, errlen, "%s: cannot read: a directory, not a trace", r->name);
		rc = -EISDIR;
		goto fail;
	}
	if (S_ISREG(st.st_mode))
		r->in.total = (uint64_t)st.st_size;

	/* Tell the encodings apart by their first bytes. */
	rc = trace_rbuf_fill(&r->in, TRACE_BIN_MAGIC_LEN);
	if (rc) {
		ims_errf(err, errlen, "%s: cannot read: %s", r->name, strerror(-rc));
		goto fail;
	}
	p = r->in.buf;
	for (i = 0; i < r->in.end && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' ||
				      p[i] == '\n'); i++)
		;
	if (r->in.end >= 6 && !memcmp(p, TRACE_BIN_MAGIC, 6)) {
		r->fmt = IMS_TRACE_BINARY;
		rc = trace_bin_read_header(r, err, errlen);
	} else if (i < r->in.end && p[i] == '{') {
		r->fmt = IMS_TRACE_JSONL;
		rc = trace_jsonl_read_header(r, err, errlen);
	} else if (r->in.end == 0 || i == r->in.end) {
		rc = ims_errf(err, errlen, "%s: empty: expected a trace header (JSON Lines "
			      "{\"iommusim-trace\": 1, ...} or the binary magic \"IMSTRC\")",
			      r->name);
	} else {
		rc = ims_errf(err, errlen, "%s: not a trace: expected a JSON Lines header "
			      "{\"iommusim-trace\": 1, ...} or the binary magic \"IMSTRC\"",
			      r->name);
	}
	if (rc)
		goto fail;
	*out = r;
	return 0;
fail:
	reader_free(r);
	return rc;
}

const struct ims_trace_header *ims_trace_reader_header(const struct ims_trace_reader *r)
{
	return &r->hdr;
}

enum ims_trace_fmt ims_trace_reader_fmt(const struct ims_trace_reader *r)
{
	return r->fmt;
}

int ims_trace_next(struct ims_trace_reader *r, struct ims_event *ev, char *err, size_t errlen)
{
	int rc;

	if (!r || !ev)
		return ims_errf(err, errlen, "ims_trace_next: no reader or no event");
	if (r->failed) {
		ims_errf(err, errlen, "%s: reading stopped at an earlier error", r->name);
		return r->failed;
	}
	memset(ev, 0, sizeof(*ev));
	if (r->fmt == IMS_TRACE_BINARY)
		rc = trace_bin_next(r, ev, err, errlen);
	else
		rc = trace_jsonl_next(r, ev, err, errlen);
	if (rc < 0)
		r->failed = rc;
	return rc;
}

void ims_trace_progress(const struct ims_trace_reader *r, uint64_t *done, uint64_t *total)
{
	if (done)
		*done = r->in.base + r->in.pos;
	if (total)
		*total = r->in.total;
}

void ims_trace_close(struct ims_trace_reader *r)
{
	if (r)
		reader_free(r);
}

/* ---- buffered output ---- */

int trace_wbuf_flush(struct ims_trace_writer *w)
{
	size_t off = 0;

	if (w->err)
		return w->err;
	while (off < w->len) {
		ssize_t n = write(w->fd, w->buf + off, w->len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			w->err = n < 0 ? -errno : -EIO;
			return w->err;
		}
		off += (size_t)n;
	}
	w->len = 0;
	return 0;
}

uint8_t *trace_wbuf_reserve(struct ims_trace_writer *w, size_t n)
{
	if (TRACE_BUF_SIZE - w->len < n && trace_wbuf_flush(w))
		return NULL;
	return w->buf + w->len;
}

static void writer_free(struct ims_trace_writer *w)
{
	free(w->buf);
	free(w);
}

int ims_trace_create(const char *path, enum ims_trace_fmt fmt, const struct ims_trace_header *h,
		     struct ims_trace_writer **out, char *err, size_t errlen)
{
	struct ims_trace_writer *w;
	const char *field;
	char why[128];
	int rc;

	if (!path || !h || !out)
		return ims_errf(err, errlen, "ims_trace_create: no path, header or result pointer");
	if (fmt != IMS_TRACE_JSONL && fmt != IMS_TRACE_BINARY)
		return ims_errf(err, errlen, "%s: unknown trace encoding %d (expected "
				"IMS_TRACE_JSONL or IMS_TRACE_BINARY)", path, (int)fmt);
	if (trace_header_check(h, &field, why, sizeof(why)))
		return ims_errf(err, errlen, "%s: header field \"%s\": expected %s", path, field,
				why);
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->buf = malloc(TRACE_BUF_SIZE);
	if (!w->buf) {
		writer_free(w);
		return -ENOMEM;
	}
	w->fmt = fmt;
	w->dev_bdf = !strcmp(h->arch, "vtd");
	if (!strcmp(path, "-")) {
		w->fd = STDOUT_FILENO;
	} else {
		w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
		w->own = true;
		if (w->fd < 0) {
			rc = -errno;
			ims_errf(err, errlen, "%s: cannot create: %s", path, strerror(errno));
			writer_free(w);
			return rc;
		}
	}
	if (fmt == IMS_TRACE_BINARY)
		rc = trace_bin_write_header(w, h);
	else
		rc = trace_jsonl_write_header(w, h);
	if (rc) {
		ims_errf(err, errlen, "%s: cannot write the header: %s", path, strerror(-rc));
		if (w->own)
			close(w->fd);
		writer_free(w);
		return rc;
	}
	*out = w;
	return 0;
}

int ims_trace_write(struct ims_trace_writer *w, const struct ims_event *ev)
{
	const char *field;
	char why[8];

	if (!w || !ev)
		return -EINVAL;
	if (w->err)
		return w->err;
	if (trace_event_check(ev, &field, why, sizeof(why)))
		return -EINVAL;
	if (w->fmt == IMS_TRACE_BINARY)
		return trace_bin_write(w, ev);
	return trace_jsonl_write(w, ev);
}

int ims_trace_finish(struct ims_trace_writer *w)
{
	int rc;

	if (!w)
		return 0;
	if (w->fmt == IMS_TRACE_BINARY && !w->err)
		trace_bin_write_end(w);
	rc = trace_wbuf_flush(w);
	if (w->own && close(w->fd) && !rc)
		rc = -errno;
	writer_free(w);
	return rc;
}

int ims_event_to_json(const struct ims_event *ev, char *buf, size_t len)
{
	const char *field;
	char why[8];

	if (!ev || !buf || trace_event_check(ev, &field, why, sizeof(why)))
		return -EINVAL;
	return trace_json_format(ev, false, buf, len);
}
