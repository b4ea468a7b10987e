/*
 * binary.c - the compact binary trace encoding (docs/traces.md, "Binary"),
 * built to be decoded fast: tens of millions of events per second on one
 * core.
 *
 * A 96-byte header, then one record per event, then an end record:
 *
 *   header  magic "IMSTRC\0\1" (8) | version u32 | header length u32 (96) |
 *           arch char[16] | source char[64]           (integers little-endian)
 *   event   type u8 (1..10) | present u16 | dt varint | fields in bit order
 *   end     0x00 | event count varint
 *
 * "present" says which fields follow (BIN_P_* below, one bit per nonzero
 * field; BIN_P_WORDS counts the descriptor words); dt is the time since the
 * previous event (the first: since 0), zigzag-encoded so time may go back.
 * Varints are unsigned LEB128, at most 10 bytes; descriptor words are raw
 * little-endian 64-bit words.  The end record makes a file cut at a record
 * boundary an error rather than a shorter trace.
 *
 * A record is at most BIN_REC_MAX bytes, so the reader makes that many
 * available (or reaches the end of the input) and decodes from its buffer
 * with one bounds check per field; running out of bytes inside a record is
 * always truncation.
 */
#include <endian.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "engine/bits.h"
#include "engine/engine_int.h"
#include "traces/format_int.h"

/* The present bits of an event record, in the order the fields follow. */
#define BIN_P_CPU BIT(0)          /* varint cpu */
#define BIN_P_FLAGS BIT(1)        /* varint flags */
#define BIN_P_PASID BIT(2)        /* has_pasid = 1; varint pasid */
#define BIN_P_ACCESS BIT(3)       /* u8 access (IMS_ACC_* or IMS_PERM_*) */
#define BIN_P_DEV BIT(4)          /* varint dev */
#define BIN_P_DOMAIN BIT(5)       /* varint domain */
#define BIN_P_PARENT BIT(6)       /* varint parent */
#define BIN_P_IOVA BIT(7)         /* varint iova */
#define BIN_P_SIZE BIT(8)         /* varint size */
#define BIN_P_PA BIT(9)           /* varint pa */
#define BIN_P_KIND BIT(10)        /* u8 inv_kind */
#define BIN_P_NWORDS BIT(11)      /* u8 nwords */
#define BIN_P_WORDS GENMASK(14, 12) /* words[0..n-1] follow, n <= 4, 8 bytes each */
#define BIN_P_RSVD BIT(15)        /* reserved, 0 */

/* type + present + 12 varints of at most 10 bytes + 2 bytes + 4 words. */
#define BIN_REC_MAX (1 + 2 + 12 * 10 + 2 + 4 * 8)

#define BIN_END 0x00

static uint64_t zigzag(uint64_t d)
{
	return (d << 1) ^ (0 - (d >> 63));
}

static uint64_t unzigzag(uint64_t z)
{
	return (z >> 1) ^ (0 - (z & 1));
}

static inline uint8_t *put_uv(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}

static inline uint8_t *put_u64(uint8_t *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, 8);
	return p + 8;
}

/* ---- reading ---- */

enum bin_err {
	BIN_OK,
	BIN_TRUNC,   /* the input ends inside the field */
	BIN_LONG,    /* a varint longer than 10 bytes or past 64 bits */
	BIN_RANGE,   /* a value too large for its field */
};

/* An unsigned LEB128 varint from [*pp, end). */
static inline enum bin_err get_uv(const uint8_t **pp, const uint8_t *end, uint64_t *out)
{
	const uint8_t *p = *pp;
	uint64_t v = 0;

	if (p < end && *p < 0x80) {
		*out = *p;
		*pp = p + 1;
		return BIN_OK;
	}
	for (unsigned shift = 0;; shift += 7) {
		uint8_t c;

		if (p == end)
			return BIN_TRUNC;
		c = *p++;
		if (shift == 63 && c > 1)
			return BIN_LONG;
		v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80))
			break;
	}
	*out = v;
	*pp = p;
	return BIN_OK;
}

static int rec_err(const struct ims_trace_reader *r, uint64_t off, char *err, size_t errlen,
		   const char *field, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* "FILE: record N (offset 0xO): field "x": " followed by the message. */
static int rec_err(const struct ims_trace_reader *r, uint64_t off, char *err, size_t errlen,
		   const char *field, const char *fmt, ...)
{
	char msg[320];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return ims_errf(err, errlen, "%s: record %llu (offset 0x%llx): field \"%s\": %s", r->name,
			(unsigned long long)r->n + 1, (unsigned long long)off, field, msg);
}

static int field_err(const struct ims_trace_reader *r, uint64_t off, char *err, size_t errlen,
		     const char *field, enum bin_err e, uint64_t v, uint64_t max)
{
	switch (e) {
	case BIN_TRUNC:
		return rec_err(r, off, err, errlen, field, "expected more bytes; the input ends "
			       "inside the record (truncated)");
	case BIN_LONG:
		return rec_err(r, off, err, errlen, field, "expected a LEB128 varint of at most "
			       "64 bits");
	default:
		return rec_err(r, off, err, errlen, field, "expected a value up to 0x%llx, "
			       "got 0x%llx", (unsigned long long)max, (unsigned long long)v);
	}
}

/* The end record: the count must match, and nothing may follow. */
static int read_end(struct ims_trace_reader *r, const uint8_t *p, const uint8_t *end,
		    uint64_t off, char *err, size_t errlen)
{
	struct trace_rbuf *b = &r->in;
	enum bin_err e;
	uint64_t count;
	int rc;

	e = get_uv(&p, end, &count);
	if (e)
		return field_err(r, off, err, errlen, "count", e, 0, 0);
	if (count != r->n)
		return rec_err(r, off, err, errlen, "count", "expected %llu, the number of "
			       "events before the end record, got %llu",
			       (unsigned long long)r->n, (unsigned long long)count);
	b->pos = (size_t)(p - b->buf);
	rc = trace_rbuf_fill(b, 1);
	if (rc)
		return rc;
	if (b->end != b->pos)
		return ims_errf(err, errlen, "%s: offset 0x%llx: expected the end of the input "
				"after the end record", r->name,
				(unsigned long long)(b->base + b->pos));
	r->ended = true;
	return 0;
}

int trace_bin_next(struct ims_trace_reader *r, struct ims_event *ev, char *err, size_t errlen)
{
	struct trace_rbuf *b = &r->in;
	const uint8_t *p, *end;
	const char *field;
	enum bin_err e = BIN_OK;
	uint64_t off, present, v = 0, max = 0;
	char why[256];
	unsigned nw;
	int rc;

	if (r->ended)
		return 0;
	if (b->end - b->pos < BIN_REC_MAX && !b->eof) {
		rc = trace_rbuf_fill(b, BIN_REC_MAX);
		if (rc) {
			ims_errf(err, errlen, "%s: record %llu: cannot read: %s", r->name,
				 (unsigned long long)r->n + 1, strerror(-rc));
			return rc;
		}
	}
	p = b->buf + b->pos;
	end = b->buf + b->end;
	off = b->base + b->pos;
	if (p == end)
		return rec_err(r, off, err, errlen, "ev", "expected an event or the end record; "
			       "the input ends before the end record (truncated)");
	ev->type = *p++;
	if (ev->type == BIN_END)
		return read_end(r, p, end, off, err, errlen);
	if (ev->type >= IMS_EV__COUNT)
		return rec_err(r, off, err, errlen, "ev", "expected an event type 1 to %d or 0 "
			       "(end), got %u", IMS_EV__COUNT - 1, ev->type);
	if (end - p < 2)
		return field_err(r, off, err, errlen, "present", BIN_TRUNC, 0, 0);
	present = (uint64_t)p[0] | (uint64_t)p[1] << 8;
	p += 2;
	if ((present & BIN_P_RSVD) || FIELD_GET(BIN_P_WORDS, present) > 4)
		return rec_err(r, off, err, errlen, "present", "expected reserved bit 15 clear "
			       "and at most 4 words, got 0x%04llx", (unsigned long long)present);

	/* Each field in bit order; on a bad one, field names it and e says why. */
	field = "t";
	if ((e = get_uv(&p, end, &v)))
		goto bad;
	ev->ts_ns = r->prev_ts + unzigzag(v);
#define GET(bit, name, lim, dst)                                    \
	if (present & (bit)) {                                      \
		field = (name);                                     \
		max = (lim);                                        \
		if ((e = get_uv(&p, end, &v)))                      \
			goto bad;                                   \
		if (v > max) {                                      \
			e = BIN_RANGE;                              \
			goto bad;                                   \
		}                                                   \
		dst = (__typeof__(dst))v;                           \
	}
#define GET8(bit, name, dst)                                        \
	if (present & (bit)) {                                      \
		field = (name);                                     \
		if (p == end) {                                     \
			e = BIN_TRUNC;                              \
			goto bad;                                   \
		}                                                   \
		dst = *p++;                                         \
	}
	GET(BIN_P_CPU, "cpu", UINT16_MAX, ev->cpu)
	GET(BIN_P_FLAGS, "flags", UINT16_MAX, ev->flags)
	if (present & BIN_P_PASID)
		ev->has_pasid = 1;
	GET(BIN_P_PASID, "pasid", UINT32_MAX, ev->pasid)
	GET8(BIN_P_ACCESS, "access", ev->access)
	GET(BIN_P_DEV, "dev", UINT32_MAX, ev->dev)
	GET(BIN_P_DOMAIN, "domain", UINT32_MAX, ev->domain)
	GET(BIN_P_PARENT, "parent", UINT32_MAX, ev->parent)
	GET(BIN_P_IOVA, "iova", UINT64_MAX, ev->iova)
	GET(BIN_P_SIZE, "size", UINT64_MAX, ev->size)
	GET(BIN_P_PA, "pa", UINT64_MAX, ev->pa)
	GET8(BIN_P_KIND, "kind", ev->inv_kind)
	GET8(BIN_P_NWORDS, "words", ev->nwords)
#undef GET
#undef GET8
	nw = (unsigned)FIELD_GET(BIN_P_WORDS, present);
	if (nw) {
		field = "words";
		if ((size_t)(end - p) < 8u * nw) {
			e = BIN_TRUNC;
			goto bad;
		}
		for (unsigned i = 0; i < nw; i++, p += 8) {
			memcpy(&v, p, 8);
			ev->words[i] = le64toh(v);
		}
	}
	if (trace_event_check(ev, &field, why, sizeof(why)))
		return rec_err(r, off, err, errlen, field, "expected %s", why);
	b->pos = (size_t)(p - b->buf);
	r->prev_ts = ev->ts_ns;
	r->n++;
	return 1;
bad:
	return field_err(r, off, err, errlen, field, e, v, max);
}

int trace_bin_read_header(struct ims_trace_reader *r, char *err, size_t errlen)
{
	struct trace_rbuf *b = &r->in;
	const uint8_t *p;
	const char *field;
	char why[128];
	uint32_t version, len;
	int rc;

	rc = trace_rbuf_fill(b, TRACE_BIN_HDR_LEN);
	if (rc) {
		ims_errf(err, errlen, "%s: cannot read: %s", r->name, strerror(-rc));
		return rc;
	}
	p = b->buf + b->pos;
	if (b->end - b->pos < TRACE_BIN_HDR_LEN)
		return ims_errf(err, errlen, "%s: header: expected %d bytes, got %zu (truncated)",
				r->name, TRACE_BIN_HDR_LEN, b->end - b->pos);
	if (memcmp(p, TRACE_BIN_MAGIC, TRACE_BIN_MAGIC_LEN))
		return ims_errf(err, errlen, "%s: header field \"magic\": expected "
				"\"IMSTRC\\0\\1\" (49 4d 53 54 52 43 00 01)", r->name);
	memcpy(&version, p + 8, 4);
	memcpy(&len, p + 12, 4);
	version = le32toh(version);
	len = le32toh(len);
	if (version != IMS_TRACE_VERSION)
		return ims_errf(err, errlen, "%s: header field \"version\": expected the format "
				"version %d, got %u", r->name, IMS_TRACE_VERSION, version);
	if (len != TRACE_BIN_HDR_LEN)
		return ims_errf(err, errlen, "%s: header field \"length\": expected %d, got %u",
				r->name, TRACE_BIN_HDR_LEN, len);
	r->hdr.version = version;
	memcpy(r->hdr.arch, p + 16, sizeof(r->hdr.arch));
	memcpy(r->hdr.source, p + 32, sizeof(r->hdr.source));
	if (trace_header_check(&r->hdr, &field, why, sizeof(why)))
		return ims_errf(err, errlen, "%s: header field \"%s\": expected %s", r->name,
				field, why);
	b->pos += TRACE_BIN_HDR_LEN;
	return 0;
}

/* ---- writing ---- */

int trace_bin_write_header(struct ims_trace_writer *w, const struct ims_trace_header *h)
{
	uint8_t *p = trace_wbuf_reserve(w, TRACE_BIN_HDR_LEN);
	uint32_t v;

	if (!p)
		return w->err;
	memset(p, 0, TRACE_BIN_HDR_LEN);
	memcpy(p, TRACE_BIN_MAGIC, TRACE_BIN_MAGIC_LEN);
	v = htole32(IMS_TRACE_VERSION);
	memcpy(p + 8, &v, 4);
	v = htole32(TRACE_BIN_HDR_LEN);
	memcpy(p + 12, &v, 4);
	memcpy(p + 16, h->arch, strnlen(h->arch, sizeof(h->arch) - 1));
	memcpy(p + 32, h->source, strnlen(h->source, sizeof(h->source) - 1));
	w->len += TRACE_BIN_HDR_LEN;
	return 0;
}

int trace_bin_write(struct ims_trace_writer *w, const struct ims_event *ev)
{
	uint8_t *start = trace_wbuf_reserve(w, BIN_REC_MAX), *p;
	uint64_t present = 0;
	unsigned nw = 0;

	if (!start)
		return w->err;
	p = start + 3;
	p = put_uv(p, zigzag(ev->ts_ns - w->prev_ts));
#define PUT(bit, val)                           \
	if (val) {                              \
		present |= (bit);               \
		p = put_uv(p, (val));           \
	}
	PUT(BIN_P_CPU, ev->cpu)
	PUT(BIN_P_FLAGS, ev->flags)
	if (ev->has_pasid) {
		present |= BIN_P_PASID;
		p = put_uv(p, ev->pasid);
	}
	if (ev->access) {
		present |= BIN_P_ACCESS;
		*p++ = ev->access;
	}
	PUT(BIN_P_DEV, ev->dev)
	PUT(BIN_P_DOMAIN, ev->domain)
	PUT(BIN_P_PARENT, ev->parent)
	PUT(BIN_P_IOVA, ev->iova)
	PUT(BIN_P_SIZE, ev->size)
	PUT(BIN_P_PA, ev->pa)
#undef PUT
	if (ev->inv_kind) {
		present |= BIN_P_KIND;
		*p++ = ev->inv_kind;
	}
	if (ev->nwords) {
		present |= BIN_P_NWORDS;
		*p++ = ev->nwords;
	}
	for (unsigned i = 0; i < 4; i++)
		if (ev->words[i])
			nw = i + 1;
	present |= FIELD_PREP(BIN_P_WORDS, nw);
	for (unsigned i = 0; i < nw; i++)
		p = put_u64(p, ev->words[i]);
	start[0] = (uint8_t)ev->type;
	start[1] = (uint8_t)present;
	start[2] = (uint8_t)(present >> 8);
	w->len += (size_t)(p - start);
	w->prev_ts = ev->ts_ns;
	w->count++;
	return 0;
}

int trace_bin_write_end(struct ims_trace_writer *w)
{
	uint8_t *start = trace_wbuf_reserve(w, 11), *p;

	if (!start)
		return w->err;
	start[0] = BIN_END;
	p = put_uv(start + 1, w->count);
	w->len += (size_t)(p - start);
	return 0;
}
