/*
 * format_int.h - declarations shared by the trace encodings (not
 * installed): traces/format.c (detection, dispatch, buffered I/O, the
 * event rules both encodings obey), traces/jsonl.c and traces/binary.c.
 *
 * The two encodings carry exactly the same events; what an event of each
 * type may hold is decided once, here and in format.c, as a set of JSON
 * field names per type.  The binary encoding uses the same names in its
 * messages.  docs/traces.md is the user's description of both.
 */
#ifndef IMS_TRACES_FORMAT_INT_H
#define IMS_TRACES_FORMAT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <iommusim/trace.h>

/* Reader and writer buffers; also the longest JSON Lines line accepted. */
#define TRACE_BUF_SIZE 65536

/*
 * The fields of an event, by their JSON names, in the order the JSON
 * writer emits them.  A set of fields is a bit mask of BIT(TF_*).
 */
enum trace_field {
	TF_T,      /* ts_ns */
	TF_EV,     /* type */
	TF_CPU,    /* cpu */
	TF_KIND,   /* inv_kind (INV without words) */
	TF_DEV,    /* dev */
	TF_PASID,  /* has_pasid = 1, pasid */
	TF_DOMAIN, /* domain */
	TF_NESTED, /* flags & IMS_EV_F_NESTED */
	TF_PARENT, /* parent */
	TF_IOVA,   /* iova */
	TF_SIZE,   /* size */
	TF_PA,     /* pa */
	TF_PERM,   /* access, as IMS_PERM_* (MAP) */
	TF_ACCESS, /* access, as IMS_ACC_* (DMA, FAULT) */
	TF_VALUE,  /* words[0] (WRITE) */
	TF_WORDS,  /* nwords, words[0..nwords-1] (INV, FAULT) */
	TF_LEAF,   /* flags & IMS_EV_F_LEAF */
	TF__COUNT
};

extern const char *const trace_field_names[TF__COUNT];
/* What a field holds, for "expected ..." messages. */
extern const char *const trace_field_what[TF__COUNT];

/* The field index of a JSON key, or -1. */
int trace_field_find(const char *key);

/*
 * The fields an event of this type may carry (required and optional).
 * For INV the set depends on the form: raw words (has_words) or the
 * neutral kind (inv_kind, 0 when not known yet).
 */
void trace_fields(unsigned type, unsigned inv_kind, bool has_words, uint32_t *req,
		  uint32_t *opt);

/*
 * Check one event against the rules of its type (docs/traces.md, "Events").
 * Returns 0, or -EINVAL with *field set to the JSON name of the offending
 * field and why[] to what was expected.  Both writers call it before
 * writing; both readers call it on every event they decode.
 */
int trace_event_check(const struct ims_event *ev, const char **field, char *why,
		      size_t whylen);

/* The type of an event name ("map"), or 0. */
unsigned trace_type_find(const char *name);
/* The neutral invalidation kind of a name ("page"), or 0. */
unsigned trace_inv_kind_find(const char *name);
extern const char *const trace_inv_kind_names[5];

/*
 * Check a header before writing it or after reading it: version 1 (0 means
 * the current one), an architecture name from the list, NUL-terminated
 * UTF-8 strings.  Returns 0, or -EINVAL with *field and why[] set.
 */
int trace_header_check(const struct ims_trace_header *h, const char **field, char *why,
		       size_t whylen);

/* Is this one of the architecture names a header may carry? */
bool trace_arch_is_valid(const char *arch);

/* ---- buffered input ---- */

struct trace_rbuf {
	int fd;
	bool own;       /* close fd at the end (not standard input) */
	bool eof;
	uint8_t *buf;   /* TRACE_BUF_SIZE bytes */
	size_t pos;     /* next byte to consume */
	size_t end;     /* bytes valid in buf */
	uint64_t base;  /* stream offset of buf[0] */
	uint64_t total; /* file size, 0 when not a regular file */
};

/*
 * Make at least want bytes (<= TRACE_BUF_SIZE) available from pos, unless
 * the input ends first.  Returns 0 or a negative errno from read(2).
 */
int trace_rbuf_fill(struct trace_rbuf *b, size_t want);

struct ims_trace_reader {
	enum ims_trace_fmt fmt;
	struct ims_trace_header hdr;
	char *name;           /* the path, or "<stdin>", for messages */
	struct trace_rbuf in;
	uint64_t n;           /* lines (JSON Lines) or records (binary) read */
	uint64_t prev_ts;     /* the previous event's time */
	bool ended;           /* binary: the end record was read */
	int failed;           /* a sticky error: reading stops at the first */
};

/* ---- buffered output ---- */

struct ims_trace_writer {
	enum ims_trace_fmt fmt;
	int fd;
	bool own;
	bool dev_bdf;   /* JSON: write dev as "bus:dev.fn" (VT-d traces) */
	int err;        /* first output error; sticky */
	uint8_t *buf;   /* TRACE_BUF_SIZE bytes */
	size_t len;
	uint64_t prev_ts;
	uint64_t count; /* events written */
};

/* Room for n (<= TRACE_BUF_SIZE) more bytes, flushing first if needed. */
uint8_t *trace_wbuf_reserve(struct ims_trace_writer *w, size_t n);
int trace_wbuf_flush(struct ims_trace_writer *w);

/* ---- the encodings ---- */

/* Largest JSON line an event can produce, newline excluded. */
#define TRACE_JSON_MAX 640

int trace_jsonl_read_header(struct ims_trace_reader *r, char *err, size_t errlen);
int trace_jsonl_next(struct ims_trace_reader *r, struct ims_event *ev, char *err,
		     size_t errlen);
int trace_jsonl_write_header(struct ims_trace_writer *w, const struct ims_trace_header *h);
int trace_jsonl_write(struct ims_trace_writer *w, const struct ims_event *ev);
/* One valid event as JSON into buf; the length, or -ENOSPC. */
int trace_json_format(const struct ims_event *ev, bool dev_bdf, char *buf, size_t len);

/* The binary magic: its first 6 bytes identify the encoding. */
#define TRACE_BIN_MAGIC "IMSTRC\0\1"
#define TRACE_BIN_MAGIC_LEN 8
#define TRACE_BIN_HDR_LEN 96

int trace_bin_read_header(struct ims_trace_reader *r, char *err, size_t errlen);
int trace_bin_next(struct ims_trace_reader *r, struct ims_event *ev, char *err, size_t errlen);
int trace_bin_write_header(struct ims_trace_writer *w, const struct ims_trace_header *h);
int trace_bin_write(struct ims_trace_writer *w, const struct ims_event *ev);
int trace_bin_write_end(struct ims_trace_writer *w);

#endif
