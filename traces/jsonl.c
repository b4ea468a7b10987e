/*
 * jsonl.c - the JSON Lines trace encoding (docs/traces.md, "JSON Lines").
 *
 * Line 1 is the header {"iommusim-trace": 1, "arch": "vtd", "source": "..."};
 * every further line is one event object, e.g.
 *   {"t": 1200, "ev": "map", "cpu": 0, "domain": 1, "iova": "0x7f0000000000",
 *    "size": 4096, "pa": "0x40000000", "perm": "rw"}
 * Numbers are JSON integers or strings in C notation; the writer emits
 * addresses, values and descriptor words as hex strings and sizes, times and
 * identifiers as integers (strings only past 2^63 - 1, which JSON integers
 * cannot carry here).  Blank lines are skipped.
 *
 * Reading is strict: a key the event type does not have, a value of the
 * wrong type or out of range, a missing required field or an event that
 * breaks the rules in format.c is an error "FILE:LINE: field "x": expected
 * ...".  Each line is parsed by jansson on its own, from the reader's
 * buffer, so memory use does not grow with the trace.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/bits.h"
#include "engine/engine_int.h"
#include "traces/format_int.h"

#include <iommusim/pgtable.h>

/* A PCI requester ID: bus 15:8, device 7:3, function 2:0. */
#define TRACE_RID_BUS GENMASK(15, 8)
#define TRACE_RID_DEV GENMASK(7, 3)
#define TRACE_RID_FN GENMASK(2, 0)

#define F(x) ((uint32_t)BIT(TF_##x))

/* ---- reading ---- */

/*
 * The next line that is not blank, without its "\n" or "\r\n": 1 with
 * *line and *len (valid until the next read), 0 at the end of the input,
 * or a negative errno with a message.
 */
static int next_line(struct ims_trace_reader *r, const char **line, size_t *len, char *err,
		     size_t errlen)
{
	struct trace_rbuf *b = &r->in;

	for (;;) {
		const uint8_t *s, *nl;
		size_t scanned = 0, l;
		int rc;

		for (;;) {
			nl = memchr(b->buf + b->pos + scanned, '\n', b->end - b->pos - scanned);
			if (nl || b->eof)
				break;
			if (b->end - b->pos >= TRACE_BUF_SIZE)
				return ims_errf(err, errlen, "%s:%llu: line longer than %d bytes",
						r->name, (unsigned long long)r->n + 1,
						TRACE_BUF_SIZE - 1);
			scanned = b->end - b->pos;
			rc = trace_rbuf_fill(b, scanned + 1);
			if (rc) {
				ims_errf(err, errlen, "%s:%llu: cannot read: %s", r->name,
					 (unsigned long long)r->n + 1, strerror(-rc));
				return rc;
			}
		}
		s = b->buf + b->pos;
		l = nl ? (size_t)(nl - s) : b->end - b->pos;
		if (!nl && !l)
			return 0;
		b->pos += l + (nl ? 1 : 0);
		r->n++;
		if (l && s[l - 1] == '\r')
			l--;
		for (size_t i = 0; i < l; i++) {
			if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r') {
				*line = (const char *)s;
				*len = l;
				return 1;
			}
		}
	}
}

/* "FILE:LINE: field "name": " followed by the message. */
static int ferr(const struct ims_trace_reader *r, char *err, size_t errlen, const char *field,
		const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int ferr(const struct ims_trace_reader *r, char *err, size_t errlen, const char *field,
		const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return ims_errf(err, errlen, "%s:%llu: field \"%s\": %s", r->name,
			(unsigned long long)r->n, field, msg);
}

/* What a value was, for messages: "an array", "\"0xzz\"", "-5". */
static void describe(json_t *v, char *buf, size_t len)
{
	if (json_is_string(v))
		snprintf(buf, len, "\"%.40s%s\"", json_string_value(v),
			 strlen(json_string_value(v)) > 40 ? "..." : "");
	else if (json_is_integer(v))
		snprintf(buf, len, "%lld", (long long)json_integer_value(v));
	else
		snprintf(buf, len, "%s", ims_json_type_name(v));
}

static int bad_value(const struct ims_trace_reader *r, char *err, size_t errlen, int f, json_t *v)
{
	char got[64];

	describe(v, got, sizeof(got));
	return ferr(r, err, errlen, trace_field_names[f], "expected %s, got %s",
		    trace_field_what[f], got);
}

/*
 * A number: a non-negative JSON integer or a string in C notation ("0x1000",
 * "4096", "010" is octal), at most max.  -EINVAL for the wrong type or
 * syntax, -ERANGE past max.
 */
static int json_num(json_t *v, uint64_t max, uint64_t *out)
{
	uint64_t x;

	if (json_is_integer(v)) {
		if (json_integer_value(v) < 0)
			return -EINVAL;
		x = (uint64_t)json_integer_value(v);
	} else if (json_is_string(v)) {
		const char *s = json_string_value(v);
		char *end;

		if (!(*s >= '0' && *s <= '9') || strlen(s) != json_string_length(v))
			return -EINVAL;
		errno = 0;
		x = strtoull(s, &end, 0);
		if (*end)
			return -EINVAL;
		if (errno)
			return -ERANGE;
	} else {
		return -EINVAL;
	}
	if (x > max)
		return -ERANGE;
	*out = x;
	return 0;
}

static int num_field(const struct ims_trace_reader *r, char *err, size_t errlen, int f, json_t *v,
		     uint64_t max, uint64_t *out)
{
	int rc = json_num(v, max, out);
	char got[64];

	if (rc == -ERANGE) {
		describe(v, got, sizeof(got));
		return ferr(r, err, errlen, trace_field_names[f],
			    "expected %s; %s is too large (at most 0x%llx)", trace_field_what[f],
			    got, (unsigned long long)max);
	}
	return rc ? bad_value(r, err, errlen, f, v) : 0;
}

/* "bb:dd.f" (hex bus and device, function 0-7) as a requester ID. */
static bool parse_bdf(const char *s, uint32_t *rid)
{
	unsigned v[3] = { 0, 0, 0 };
	const char seps[3] = { ':', '.', 0 };

	for (unsigned i = 0; i < 3; i++) {
		unsigned n = 0;

		for (; ims_hex_digit(*s) >= 0 && n < 2; s++, n++)
			v[i] = v[i] * 16 + (unsigned)ims_hex_digit(*s);
		if (!n || *s != seps[i])
			return false;
		s++;
	}
	if (v[1] > FIELD_MAX(TRACE_RID_DEV) || v[2] > FIELD_MAX(TRACE_RID_FN))
		return false;
	*rid = (uint32_t)(FIELD_PREP(TRACE_RID_BUS, v[0]) | FIELD_PREP(TRACE_RID_DEV, v[1]) |
			  FIELD_PREP(TRACE_RID_FN, v[2]));
	return true;
}

/* Access letters: "r", "w", "x" and "p" (privileged); "-" for none. */
static bool parse_access(const char *s, unsigned *acc)
{
	unsigned a = 0;

	for (; *s; s++) {
		switch (*s) {
		case 'r': a |= IMS_ACC_READ; break;
		case 'w': a |= IMS_ACC_WRITE; break;
		case 'x': a |= IMS_ACC_EXEC; break;
		case 'p': a |= IMS_ACC_PRIV; break;
		case '-': break;
		default: return false;
		}
	}
	*acc = a;
	return true;
}

static int parse_field(const struct ims_trace_reader *r, int f, json_t *v, struct ims_event *ev,
		       char *err, size_t errlen)
{
	uint64_t x;
	unsigned u;
	size_t n;

	switch (f) {
	case TF_T:
		if (num_field(r, err, errlen, f, v, UINT64_MAX, &ev->ts_ns))
			return -EINVAL;
		break;
	case TF_EV:
		break; /* read first, by the caller */
	case TF_CPU:
		if (num_field(r, err, errlen, f, v, UINT16_MAX, &x))
			return -EINVAL;
		ev->cpu = (uint16_t)x;
		break;
	case TF_KIND:
		if (!json_is_string(v) || !(u = trace_inv_kind_find(json_string_value(v))))
			return bad_value(r, err, errlen, f, v);
		ev->inv_kind = (uint8_t)u;
		break;
	case TF_DEV:
		if (json_is_string(v) && strchr(json_string_value(v), ':')) {
			if (!parse_bdf(json_string_value(v), &ev->dev))
				return bad_value(r, err, errlen, f, v);
			break;
		}
		if (num_field(r, err, errlen, f, v, UINT32_MAX, &x))
			return -EINVAL;
		ev->dev = (uint32_t)x;
		break;
	case TF_PASID:
		if (num_field(r, err, errlen, f, v, UINT32_MAX, &x))
			return -EINVAL;
		ev->has_pasid = 1;
		ev->pasid = (uint32_t)x;
		break;
	case TF_DOMAIN:
		if (num_field(r, err, errlen, f, v, UINT32_MAX, &x))
			return -EINVAL;
		ev->domain = (uint32_t)x;
		break;
	case TF_PARENT:
		if (num_field(r, err, errlen, f, v, UINT32_MAX, &x))
			return -EINVAL;
		ev->parent = (uint32_t)x;
		break;
	case TF_NESTED:
	case TF_LEAF:
		if (!json_is_boolean(v))
			return bad_value(r, err, errlen, f, v);
		if (json_is_true(v))
			ev->flags |= f == TF_LEAF ? IMS_EV_F_LEAF : IMS_EV_F_NESTED;
		break;
	case TF_IOVA:
		return num_field(r, err, errlen, f, v, UINT64_MAX, &ev->iova);
	case TF_SIZE:
		return num_field(r, err, errlen, f, v, UINT64_MAX, &ev->size);
	case TF_PA:
		return num_field(r, err, errlen, f, v, UINT64_MAX, &ev->pa);
	case TF_VALUE:
		return num_field(r, err, errlen, f, v, UINT64_MAX, &ev->words[0]);
	case TF_PERM:
	case TF_ACCESS:
		/* Letters, or the raw bits as a JSON integer. */
		if (json_is_string(v)) {
			if (!(f == TF_PERM ? ims_perm_parse(json_string_value(v), &u) == 0
					      : parse_access(json_string_value(v), &u)))
				return bad_value(r, err, errlen, f, v);
		} else {
			if (!json_is_integer(v) ||
			    json_num(v, f == TF_PERM ? IMS_PERM_ALL : 0xf, &x))
				return bad_value(r, err, errlen, f, v);
			u = (unsigned)x;
		}
		ev->access = (uint8_t)u;
		break;
	case TF_WORDS:
		n = json_array_size(v);
		if (!json_is_array(v) || n < 1 || n > 4)
			return bad_value(r, err, errlen, f, v);
		for (size_t i = 0; i < n; i++) {
			json_t *w = json_array_get(v, i);

			if (json_num(w, UINT64_MAX, &ev->words[i])) {
				char got[64];

				describe(w, got, sizeof(got));
				return ferr(r, err, errlen, "words", "expected %s; words[%zu] is %s",
					    trace_field_what[f], i, got);
			}
		}
		ev->nwords = (uint8_t)n;
		break;
	default:
		break;
	}
	return 0;
}

/* The names of a set of fields, "t, ev, cpu, ...", for messages. */
static void field_list(uint32_t set, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = 0;
	for (int f = 0; f < TF__COUNT && off < len; f++)
		if (set & BIT(f))
			off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? ", " : "",
						trace_field_names[f]);
}

static int parse_event(struct ims_trace_reader *r, json_t *root, struct ims_event *ev, char *err,
		       size_t errlen)
{
	uint32_t req, opt, seen = 0;
	json_t *v, *kind, *words;
	const char *key, *field;
	char why[256];
	unsigned type, inv_kind = 0;

	if (!json_is_object(root))
		return ims_errf(err, errlen, "%s:%llu: expected an event object {\"ev\": ...}, "
				"not %s", r->name, (unsigned long long)r->n,
				ims_json_type_name(root));
	v = json_object_get(root, "ev");
	if (!v)
		return ferr(r, err, errlen, "ev", "expected %s; every event has one",
			    trace_field_what[TF_EV]);
	if (!json_is_string(v) || !(type = trace_type_find(json_string_value(v))))
		return bad_value(r, err, errlen, TF_EV, v);
	ev->type = (uint16_t)type;

	/* 1. The fields this event may have: an "inv" has a kind or raw words. */
	kind = json_object_get(root, "kind");
	words = json_object_get(root, "words");
	if (type == IMS_EV_INV) {
		if (kind && words)
			return ferr(r, err, errlen, "words", "expected either \"kind\" or "
				    "\"words\" in an \"inv\" event, not both");
		if (!kind && !words)
			return ferr(r, err, errlen, "kind", "expected %s, or raw \"words\"; "
				    "an \"inv\" event needs one", trace_field_what[TF_KIND]);
		if (kind && (!json_is_string(kind) ||
			     !(inv_kind = trace_inv_kind_find(json_string_value(kind)))))
			return bad_value(r, err, errlen, TF_KIND, kind);
	}
	trace_fields(type, inv_kind, words != NULL, &req, &opt);

	/* 2. Every key, in the line's order. */
	json_object_foreach(root, key, v) {
		int f = trace_field_find(key);

		if (f < 0 || !((req | opt) & BIT(f))) {
			char list[256];

			field_list(req | opt, list, sizeof(list));
			return ferr(r, err, errlen, key, "expected no such field in %s \"%s%s%s\" "
				    "event (it has %s)", type == IMS_EV_INV ? "an" : "a",
				    ims_ev_type_name(type), inv_kind ? "\" of kind \"" : "",
				    inv_kind ? trace_inv_kind_names[inv_kind] : "", list);
		}
		if (parse_field(r, f, v, ev, err, errlen))
			return -EINVAL;
		seen |= (uint32_t)BIT(f);
	}

	/* 3. Required fields, and a parent exactly when nested. */
	for (int f = 0; f < TF__COUNT; f++)
		if ((req & ~seen) & BIT(f))
			return ferr(r, err, errlen, trace_field_names[f], "expected %s; "
				    "required in %s \"%s\" event", trace_field_what[f],
				    type == IMS_EV_INV ? "an" : "a", ims_ev_type_name(type));
	if (type == IMS_EV_ATTACH && (ev->flags & IMS_EV_F_NESTED) && !(seen & F(PARENT)))
		return ferr(r, err, errlen, "parent", "expected %s; required when \"nested\" "
			    "is true", trace_field_what[TF_PARENT]);
	if ((seen & F(PARENT)) && !(ev->flags & IMS_EV_F_NESTED))
		return ferr(r, err, errlen, "parent", "expected only with \"nested\": true");

	/* 4. A missing time is the previous event's; then the common rules. */
	if (!(seen & F(T)))
		ev->ts_ns = r->prev_ts;
	if (trace_event_check(ev, &field, why, sizeof(why)))
		return ferr(r, err, errlen, field, "expected %s", why);
	r->prev_ts = ev->ts_ns;
	return 0;
}

int trace_jsonl_next(struct ims_trace_reader *r, struct ims_event *ev, char *err, size_t errlen)
{
	const char *line;
	json_error_t je;
	json_t *root;
	size_t len;
	int rc;

	rc = next_line(r, &line, &len, err, errlen);
	if (rc <= 0)
		return rc;
	root = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		return ims_errf(err, errlen, "%s:%llu:%d: invalid JSON: %s", r->name,
				(unsigned long long)r->n, je.column, je.text);
	rc = parse_event(r, root, ev, err, errlen);
	json_decref(root);
	return rc ? rc : 1;
}

int trace_jsonl_read_header(struct ims_trace_reader *r, char *err, size_t errlen)
{
	static const char *const expect = "the header {\"iommusim-trace\": 1, \"arch\": ..., "
					  "\"source\": ...} as the first line";
	const char *line, *key, *field;
	json_error_t je;
	json_t *root, *v;
	char why[128];
	size_t len;
	int rc;

	rc = next_line(r, &line, &len, err, errlen);
	if (rc < 0)
		return rc;
	if (!rc)
		return ims_errf(err, errlen, "%s: empty: expected %s", r->name, expect);
	root = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		return ims_errf(err, errlen, "%s:%llu:%d: invalid JSON: %s", r->name,
				(unsigned long long)r->n, je.column, je.text);
	rc = -EINVAL;
	v = json_object_get(root, "iommusim-trace");
	if (!json_is_object(root) || !v) {
		ferr(r, err, errlen, "iommusim-trace", "expected %s", expect);
		goto out;
	}
	if (!json_is_integer(v) || json_integer_value(v) != IMS_TRACE_VERSION) {
		char got[64];

		describe(v, got, sizeof(got));
		ferr(r, err, errlen, "iommusim-trace", "expected the format version %d, got %s",
		     IMS_TRACE_VERSION, got);
		goto out;
	}
	r->hdr.version = IMS_TRACE_VERSION;
	json_object_foreach(root, key, v) {
		char *dst;
		size_t cap;

		if (!strcmp(key, "iommusim-trace"))
			continue;
		if (!strcmp(key, "arch")) {
			dst = r->hdr.arch;
			cap = sizeof(r->hdr.arch);
		} else if (!strcmp(key, "source")) {
			dst = r->hdr.source;
			cap = sizeof(r->hdr.source);
		} else {
			ferr(r, err, errlen, key, "expected no such field in the header (it has "
			     "iommusim-trace, arch, source)");
			goto out;
		}
		if (!json_is_string(v) || json_string_length(v) >= cap ||
		    strlen(json_string_value(v)) != json_string_length(v)) {
			ferr(r, err, errlen, key, "expected a string of at most %zu bytes", cap - 1);
			goto out;
		}
		memcpy(dst, json_string_value(v), json_string_length(v) + 1);
	}
	if (trace_header_check(&r->hdr, &field, why, sizeof(why))) {
		ferr(r, err, errlen, field, "expected %s", why);
		goto out;
	}
	rc = 0;
out:
	json_decref(root);
	return rc;
}

/* ---- writing ---- */

/* Output into a caller's buffer; full once something did not fit. */
struct jout {
	char *p, *end;
	bool full;
};

static void put(struct jout *o, const char *s, size_t n)
{
	if (o->full || (size_t)(o->end - o->p) < n) {
		o->full = true;
		return;
	}
	memcpy(o->p, s, n);
	o->p += n;
}

static void put_str(struct jout *o, const char *s)
{
	put(o, s, strlen(s));
}

static void put_dec(struct jout *o, uint64_t v)
{
	char tmp[24], *q = tmp + sizeof(tmp);

	do {
		*--q = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put(o, q, (size_t)(tmp + sizeof(tmp) - q));
}

static void put_hex(struct jout *o, uint64_t v)
{
	static const char digits[] = "0123456789abcdef";
	char tmp[24], *q = tmp + sizeof(tmp);

	*--q = '"';
	do {
		*--q = digits[v & 0xf];
		v >>= 4;
	} while (v);
	*--q = 'x';
	*--q = '0';
	*--q = '"';
	put(o, q, (size_t)(tmp + sizeof(tmp) - q));
}

/* Integers as JSON integers while jansson can read them back, else hex. */
static void put_num(struct jout *o, uint64_t v)
{
	if (v > INT64_MAX)
		put_hex(o, v);
	else
		put_dec(o, v);
}

static void put_key(struct jout *o, int f)
{
	put_str(o, f == TF_T ? "{\"" : ", \"");
	put_str(o, trace_field_names[f]);
	put(o, "\": ", 3);
}

/* Permission letters when they say it exactly, else the IMS_PERM_* integer. */
static void put_perm(struct jout *o, unsigned perm)
{
	unsigned priv = (perm >> 3) & 7, user = perm & 7;
	char s[8], *q = s;

	if (!perm) {
		put_str(o, "\"-\"");
		return;
	}
	if (user && user != priv) {
		put_dec(o, perm);
		return;
	}
	*q++ = '"';
	if (priv & 1)
		*q++ = 'r';
	if (priv & 2)
		*q++ = 'w';
	if (priv & 4)
		*q++ = 'x';
	if (user)
		*q++ = 'u';
	*q++ = '"';
	put(o, s, (size_t)(q - s));
}

static void put_access(struct jout *o, unsigned acc)
{
	char s[8], *q = s;

	*q++ = '"';
	if (acc & IMS_ACC_READ)
		*q++ = 'r';
	if (acc & IMS_ACC_WRITE)
		*q++ = 'w';
	if (acc & IMS_ACC_EXEC)
		*q++ = 'x';
	if (acc & IMS_ACC_PRIV)
		*q++ = 'p';
	if (q == s + 1)
		*q++ = '-';
	*q++ = '"';
	put(o, s, (size_t)(q - s));
}

static void put_dev(struct jout *o, uint32_t dev, bool bdf)
{
	char s[16];

	if (!bdf || dev > 0xffff) {
		put_dec(o, dev);
		return;
	}
	snprintf(s, sizeof(s), "\"%02x:%02x.%x\"", (unsigned)FIELD_GET(TRACE_RID_BUS, dev),
		 (unsigned)FIELD_GET(TRACE_RID_DEV, dev), (unsigned)FIELD_GET(TRACE_RID_FN, dev));
	put_str(o, s);
}

int trace_json_format(const struct ims_event *ev, bool dev_bdf, char *buf, size_t len)
{
	struct jout o = { buf, buf + (len ? len - 1 : 0), false };
	uint32_t req, opt;

	if (!len)
		return -ENOSPC;
	trace_fields(ev->type, ev->inv_kind, ev->type == IMS_EV_INV && ev->nwords, &req, &opt);
	/* Optional fields appear when set; required ones always. */
	if (!ev->has_pasid)
		opt &= ~F(PASID);
	if (!ev->domain)
		opt &= ~F(DOMAIN);
	if (!(ev->flags & IMS_EV_F_NESTED))
		opt &= ~(F(NESTED) | F(PARENT));
	if (!(ev->flags & IMS_EV_F_LEAF))
		opt &= ~F(LEAF);
	if (!ev->size)
		opt &= ~F(SIZE);
	if (!ev->access)
		opt &= ~F(ACCESS);
	if (!ev->nwords)
		opt &= ~F(WORDS);
	opt |= F(T) | F(CPU);

	for (int f = 0; f < TF__COUNT; f++) {
		if (!((req | opt) & BIT(f)))
			continue;
		put_key(&o, f);
		switch (f) {
		case TF_T: put_num(&o, ev->ts_ns); break;
		case TF_EV:
			put(&o, "\"", 1);
			put_str(&o, ims_ev_type_name(ev->type));
			put(&o, "\"", 1);
			break;
		case TF_CPU: put_dec(&o, ev->cpu); break;
		case TF_KIND:
			put(&o, "\"", 1);
			put_str(&o, trace_inv_kind_names[ev->inv_kind]);
			put(&o, "\"", 1);
			break;
		case TF_DEV: put_dev(&o, ev->dev, dev_bdf); break;
		case TF_PASID: put_dec(&o, ev->pasid); break;
		case TF_DOMAIN: put_dec(&o, ev->domain); break;
		case TF_PARENT: put_dec(&o, ev->parent); break;
		case TF_NESTED:
		case TF_LEAF: put_str(&o, "true"); break;
		case TF_IOVA: put_hex(&o, ev->iova); break;
		case TF_SIZE: put_num(&o, ev->size); break;
		case TF_PA: put_hex(&o, ev->pa); break;
		case TF_PERM: put_perm(&o, ev->access); break;
		case TF_ACCESS: put_access(&o, ev->access); break;
		case TF_VALUE: put_hex(&o, ev->words[0]); break;
		case TF_WORDS:
			put(&o, "[", 1);
			for (unsigned i = 0; i < ev->nwords; i++) {
				if (i)
					put(&o, ", ", 2);
				put_hex(&o, ev->words[i]);
			}
			put(&o, "]", 1);
			break;
		default: break;
		}
	}
	put(&o, "}", 1);
	if (o.full)
		return -ENOSPC;
	*o.p = 0;
	return (int)(o.p - buf);
}

int trace_jsonl_write(struct ims_trace_writer *w, const struct ims_event *ev)
{
	uint8_t *p = trace_wbuf_reserve(w, TRACE_JSON_MAX + 2);
	int n;

	if (!p)
		return w->err;
	n = trace_json_format(ev, w->dev_bdf, (char *)p, TRACE_JSON_MAX + 2);
	if (n < 0)
		return n; /* cannot happen: TRACE_JSON_MAX bounds every event */
	p[n] = '\n';
	w->len += (size_t)n + 1;
	w->count++;
	return 0;
}

int trace_jsonl_write_header(struct ims_trace_writer *w, const struct ims_trace_header *h)
{
	json_t *root = json_pack("{s:i, s:s, s:s}", "iommusim-trace", IMS_TRACE_VERSION, "arch",
				 h->arch, "source", h->source);
	char *s;
	size_t n;
	uint8_t *p;

	if (!root)
		return -EINVAL;
	s = json_dumps(root, JSON_PRESERVE_ORDER);
	json_decref(root);
	if (!s)
		return -ENOMEM;
	n = strlen(s);
	p = trace_wbuf_reserve(w, n + 1);
	if (p) {
		memcpy(p, s, n);
		p[n] = '\n';
		w->len += n + 1;
	}
	free(s);
	return p ? 0 : w->err;
}
