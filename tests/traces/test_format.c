/*
 * test_format.c - the trace encodings (traces/format.c, traces/jsonl.c,
 * traces/binary.c; docs/traces.md).
 *
 * The contract under test: JSON Lines -> event -> JSON Lines, binary ->
 * event -> binary and JSON Lines -> binary -> JSON Lines are lossless for
 * every valid event (checked field by field on seeded random events of
 * every type, and byte for byte on the files); hand-written lines decode
 * to the expected events; every bad line, header, truncated or garbage
 * input is refused with a negative errno and a message naming the file,
 * the line or record, and the field; writers refuse invalid events.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <iommusim/pgtable.h>
#include <iommusim/trace.h>

static char err[1024];

/* ---- helpers ---- */

static uint64_t rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* A value of random width, so that small, large and extreme ones all occur. */
static uint64_t rval(uint64_t *s)
{
	unsigned bits = (unsigned)(rnd(s) % 66);
	uint64_t v = rnd(s);

	if (bits == 65)
		return UINT64_MAX;
	return bits >= 64 ? v : v & ((1ull << bits) - 1);
}

/* A size of at least 1 such that [start, start + size - 1] does not wrap. */
static uint64_t rsize(uint64_t *s, uint64_t start)
{
	uint64_t room = UINT64_MAX - start; /* the largest size - 1 */

	return 1 + (room == UINT64_MAX ? rval(s) >> 1 : rval(s) % (room + 1));
}

static void tmp_path(char *buf, size_t len)
{
	int fd;

	snprintf(buf, len, "/tmp/ims-test-format-XXXXXX");
	fd = mkstemp(buf);
	assert_true(fd >= 0);
	close(fd);
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* The file's bytes (malloc'd) and length. */
static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	buf[n] = 0;
	*len = (size_t)n;
	return buf;
}

/* A random valid event of this type, every optional field sometimes set. */
static void rand_event(uint64_t *s, unsigned type, uint64_t *ts, struct ims_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	switch (rnd(s) % 8) {
	case 0: *ts = rval(s); break;            /* anywhere, even backwards */
	case 1: break;                           /* the same time */
	default: *ts += rnd(s) % 5000; break;
	}
	ev->ts_ns = *ts;
	ev->type = (uint16_t)type;
	ev->cpu = rnd(s) % 3 ? (uint16_t)(rnd(s) % 64) : (uint16_t)rnd(s);
	switch (type) {
	case IMS_EV_ATTACH:
	case IMS_EV_DETACH:
		ev->dev = (uint32_t)rval(s);
		if (rnd(s) & 1) {
			ev->has_pasid = 1;
			ev->pasid = (uint32_t)rval(s);
		}
		ev->domain = (uint32_t)rval(s);
		if (type == IMS_EV_ATTACH && rnd(s) & 1) {
			ev->flags = IMS_EV_F_NESTED;
			ev->parent = (uint32_t)rval(s);
		}
		break;
	case IMS_EV_MAP:
	case IMS_EV_UNMAP:
		ev->domain = (uint32_t)rval(s);
		ev->iova = rval(s);
		ev->size = rsize(s, ev->iova);
		if (type == IMS_EV_MAP) {
			ev->pa = rval(s);
			if (rsize(s, ev->pa) < ev->size)
				ev->pa = 0;
			ev->access = (uint8_t)(rnd(s) % (IMS_PERM_ALL + 1));
		}
		break;
	case IMS_EV_DMA:
		ev->dev = (uint32_t)rval(s);
		if (rnd(s) & 1) {
			ev->has_pasid = 1;
			ev->pasid = (uint32_t)rval(s);
		}
		ev->iova = rval(s);
		ev->size = rsize(s, ev->iova);
		ev->access = (uint8_t)(1 + rnd(s) % 7) | (rnd(s) & 1 ? IMS_ACC_PRIV : 0);
		break;
	case IMS_EV_INV:
		if (rnd(s) % 3 == 0) {
			ev->nwords = (uint8_t)(1 + rnd(s) % 4);
			for (unsigned i = 0; i < ev->nwords; i++)
				ev->words[i] = rval(s);
			break;
		}
		ev->inv_kind = (uint8_t)(1 + rnd(s) % 4);
		if (ev->inv_kind != IMS_EV_INV_GLOBAL) {
			ev->domain = (uint32_t)rval(s);
			if (rnd(s) & 1)
				ev->flags |= IMS_EV_F_NESTED;
		}
		if (ev->inv_kind == IMS_EV_INV_PASID ||
		    (ev->inv_kind == IMS_EV_INV_PAGE && rnd(s) & 1)) {
			ev->has_pasid = 1;
			ev->pasid = (uint32_t)rval(s);
		}
		if (ev->inv_kind == IMS_EV_INV_PAGE) {
			ev->iova = rval(s);
			ev->size = rsize(s, ev->iova);
			if (rnd(s) & 1)
				ev->flags |= IMS_EV_F_LEAF;
		}
		break;
	case IMS_EV_FAULT:
		ev->dev = (uint32_t)rval(s);
		if (rnd(s) & 1) {
			ev->has_pasid = 1;
			ev->pasid = (uint32_t)rval(s);
		}
		if (rnd(s) & 1)
			ev->domain = (uint32_t)rval(s);
		ev->iova = rval(s);
		if (rnd(s) & 1)
			ev->size = rsize(s, ev->iova);
		ev->access = (uint8_t)(rnd(s) % 16);
		ev->nwords = (uint8_t)(rnd(s) % 5);
		for (unsigned i = 0; i < ev->nwords; i++)
			ev->words[i] = rval(s);
		break;
	case IMS_EV_WRITE:
		ev->pa = rval(s);
		ev->words[0] = rval(s);
		break;
	default: /* SYNC, TICK */
		break;
	}
}

#define EQ(f)                                                                          \
	do {                                                                           \
		if (a->f != b->f)                                                      \
			fail_msg("event %u (%s): field " #f " differs: 0x%llx != 0x%llx", \
				 idx, ims_ev_type_name(a->type), (unsigned long long)a->f, \
				 (unsigned long long)b->f);                             \
	} while (0)

/* Field by field (never memcmp: padding is not part of an event). */
static void assert_event_equal(const struct ims_event *a, const struct ims_event *b,
			       unsigned idx)
{
	EQ(ts_ns);
	EQ(type);
	EQ(cpu);
	EQ(flags);
	EQ(has_pasid);
	EQ(access);
	EQ(dev);
	EQ(pasid);
	EQ(domain);
	EQ(nwords);
	EQ(inv_kind);
	EQ(parent);
	EQ(iova);
	EQ(size);
	EQ(pa);
	EQ(words[0]);
	EQ(words[1]);
	EQ(words[2]);
	EQ(words[3]);
}

static void write_events(const char *path, enum ims_trace_fmt fmt, const char *arch,
			 const struct ims_event *evs, unsigned n)
{
	struct ims_trace_header h;
	struct ims_trace_writer *w = NULL;

	memset(&h, 0, sizeof(h));
	h.version = IMS_TRACE_VERSION;
	snprintf(h.arch, sizeof(h.arch), "%s", arch);
	snprintf(h.source, sizeof(h.source), "test:\"random\" \xc3\xa9");
	if (ims_trace_create(path, fmt, &h, &w, err, sizeof(err)))
		fail_msg("create: %s", err);
	for (unsigned i = 0; i < n; i++)
		if (ims_trace_write(w, &evs[i]))
			fail_msg("write of event %u (%s) refused", i, ims_ev_type_name(evs[i].type));
	assert_int_equal(ims_trace_finish(w), 0);
}

/* Read the whole trace; it must hold exactly the n events. */
static void read_events(const char *path, enum ims_trace_fmt fmt, const char *arch,
			const struct ims_event *want, unsigned n)
{
	struct ims_trace_reader *r = NULL;
	struct ims_event ev;
	uint64_t done, total;
	unsigned i;
	int rc;

	if (ims_trace_open(path, &r, err, sizeof(err)))
		fail_msg("open: %s", err);
	assert_int_equal(ims_trace_reader_fmt(r), fmt);
	assert_int_equal(ims_trace_reader_header(r)->version, IMS_TRACE_VERSION);
	assert_string_equal(ims_trace_reader_header(r)->arch, arch);
	assert_string_equal(ims_trace_reader_header(r)->source, "test:\"random\" \xc3\xa9");
	for (i = 0; (rc = ims_trace_next(r, &ev, err, sizeof(err))) == 1; i++) {
		assert_true(i < n);
		assert_event_equal(&want[i], &ev, i);
	}
	if (rc)
		fail_msg("event %u: %s", i, err);
	assert_int_equal(i, n);
	/* At the end, everything is consumed. */
	ims_trace_progress(r, &done, &total);
	assert_true(total > 0);
	assert_int_equal(done, total);
	assert_int_equal(ims_trace_next(r, &ev, err, sizeof(err)), 0);
	ims_trace_close(r);
}

static void assert_files_equal(const char *a, const char *b)
{
	size_t la, lb;
	uint8_t *x = read_file(a, &la), *y = read_file(b, &lb);

	assert_int_equal(la, lb);
	assert_memory_equal(x, y, la);
	free(x);
	free(y);
}

/* ---- round trips ---- */

#define NRAND 4000

static void roundtrip(const char *arch, uint64_t seed)
{
	struct ims_event *evs = calloc(NRAND, sizeof(*evs));
	char j1[64], b1[64], j2[64], b2[64];
	unsigned seen_types = 0, seen_kinds = 0, seen_words = 0;
	uint64_t s = seed, ts = 0;
	bool nested = false, leaf = false, pasid = false, bigts = false;

	assert_non_null(evs);
	for (unsigned i = 0; i < NRAND; i++) {
		unsigned type = i < 2 * (IMS_EV__COUNT - 1) ? 1 + i % (IMS_EV__COUNT - 1)
							  : 1 + (unsigned)(rnd(&s) % (IMS_EV__COUNT - 1));

		rand_event(&s, type, &ts, &evs[i]);
		seen_types |= 1u << type;
		seen_kinds |= 1u << evs[i].inv_kind;
		seen_words |= 1u << evs[i].nwords;
		nested |= evs[i].parent != 0;
		leaf |= (evs[i].flags & IMS_EV_F_LEAF) != 0;
		pasid |= evs[i].has_pasid;
		bigts |= evs[i].ts_ns > INT64_MAX;
	}
	/* The generator reached every type, kind, word count and flag. */
	assert_int_equal(seen_types, ((1u << IMS_EV__COUNT) - 1) & ~1u);
	assert_int_equal(seen_kinds, 0x1f);
	assert_int_equal(seen_words, 0x1f);
	assert_true(nested && leaf && pasid && bigts);

	tmp_path(j1, sizeof(j1));
	tmp_path(b1, sizeof(b1));
	tmp_path(j2, sizeof(j2));
	tmp_path(b2, sizeof(b2));
	/* events -> JSON Lines -> events */
	write_events(j1, IMS_TRACE_JSONL, arch, evs, NRAND);
	read_events(j1, IMS_TRACE_JSONL, arch, evs, NRAND);
	/* events -> binary -> events */
	write_events(b1, IMS_TRACE_BINARY, arch, evs, NRAND);
	read_events(b1, IMS_TRACE_BINARY, arch, evs, NRAND);

	/* JSON Lines -> binary -> JSON Lines and binary -> binary, byte for byte. */
	{
		struct ims_trace_reader *r;
		struct ims_trace_writer *wj, *wb;
		struct ims_event ev;
		int rc;

		assert_int_equal(ims_trace_open(b1, &r, err, sizeof(err)), 0);
		assert_int_equal(ims_trace_create(j2, IMS_TRACE_JSONL, ims_trace_reader_header(r),
						  &wj, err, sizeof(err)), 0);
		assert_int_equal(ims_trace_create(b2, IMS_TRACE_BINARY,
						  ims_trace_reader_header(r), &wb, err,
						  sizeof(err)), 0);
		while ((rc = ims_trace_next(r, &ev, err, sizeof(err))) == 1) {
			assert_int_equal(ims_trace_write(wj, &ev), 0);
			assert_int_equal(ims_trace_write(wb, &ev), 0);
		}
		assert_int_equal(rc, 0);
		ims_trace_close(r);
		assert_int_equal(ims_trace_finish(wj), 0);
		assert_int_equal(ims_trace_finish(wb), 0);
	}
	assert_files_equal(j1, j2);
	assert_files_equal(b1, b2);

	/* ims_event_to_json is the JSON Lines line (devices as integers). */
	if (!*arch) {
		size_t len;
		uint8_t *text = read_file(j1, &len);
		char *line = strchr((char *)text, '\n') + 1;
		char buf[1024];

		for (unsigned i = 0; i < NRAND; i++) {
			char *nl = strchr(line, '\n');
			int n = ims_event_to_json(&evs[i], buf, sizeof(buf));

			assert_non_null(nl);
			assert_int_equal(n, nl - line);
			assert_memory_equal(buf, line, (size_t)n);
			assert_int_equal(buf[n], 0);
			line = nl + 1;
		}
		free(text);
	}
	unlink(j1);
	unlink(b1);
	unlink(j2);
	unlink(b2);
	free(evs);
}

static void test_roundtrip_neutral(void **state)
{
	(void)state;
	roundtrip("", 1);
	roundtrip("smmuv3", 2);
}

static void test_roundtrip_vtd(void **state)
{
	(void)state;
	roundtrip("vtd", 3);
}

/* ---- hand-written samples ---- */

static void read_text(const char *text, struct ims_event *evs, unsigned max, unsigned *n)
{
	char path[64];
	struct ims_trace_reader *r;
	int rc;

	tmp_path(path, sizeof(path));
	write_file(path, text, strlen(text));
	if (ims_trace_open(path, &r, err, sizeof(err)))
		fail_msg("open: %s", err);
	for (*n = 0; (rc = ims_trace_next(r, &evs[*n], err, sizeof(err))) == 1; ++*n)
		assert_true(*n + 1 < max);
	if (rc)
		fail_msg("%s", err);
	ims_trace_close(r);
	unlink(path);
}

static void test_samples(void **state)
{
	static const char text[] =
		"{\"iommusim-trace\": 1, \"arch\": \"vtd\", \"source\": \"hand\"}\n"
		"{\"t\": 1000, \"ev\": \"attach\", \"dev\": \"00:02.0\", \"pasid\": 5, "
		"\"domain\": 1, \"nested\": true, \"parent\": 2}\n"
		"{\"t\": 1200, \"ev\": \"map\", \"cpu\": 0, \"domain\": 1, "
		"\"iova\": \"0x7f0000000000\", \"size\": 4096, \"pa\": \"0x40000000\", "
		"\"perm\": \"rw\"}\n"
		"\n"
		"  \r\n"
		"{\"t\": \"1300\", \"ev\": \"dma\", \"dev\": 16, \"pasid\": \"0x5\", "
		"\"iova\": \"0x7f0000000040\", \"size\": \"0x40\", \"access\": \"rp\"}\r\n"
		"{\"ev\": \"inv\", \"kind\": \"page\", \"domain\": 1, \"iova\": 8192, "
		"\"size\": 4096, \"leaf\": true}\n"
		"{\"t\": 1400, \"ev\": \"inv\", \"words\": [\"0x12\", 7]}\n"
		"{\"t\": 1500, \"ev\": \"sync\", \"cpu\": 3}\n"
		"{\"t\": 1600, \"ev\": \"write\", \"pa\": \"0x1000\", \"value\": \"0xdeadbeef\"}\n"
		"{\"t\": 1700, \"ev\": \"tick\"}\n"
		"{\"t\": 1800, \"ev\": \"fault\", \"dev\": \"ff:1f.7\", \"iova\": \"0x2000\", "
		"\"access\": \"w\"}\n"
		"{\"t\": 1900, \"ev\": \"map\", \"domain\": 0, \"iova\": 0, \"size\": 1, "
		"\"pa\": 0, \"perm\": \"rxu\"}\n"
		"{\"t\": 1901, \"ev\": \"map\", \"domain\": 0, \"iova\": 0, \"size\": 1, "
		"\"pa\": 0, \"perm\": 9}\n"
		"{\"t\": 1902, \"ev\": \"map\", \"domain\": 0, \"iova\": 0, \"size\": 1, "
		"\"pa\": 0, \"perm\": \"-\"}\n"
		"{\"t\": 2000, \"ev\": \"inv\", \"kind\": \"pasid\", \"domain\": 4, \"pasid\": 0}\n"
		"{\"t\": 2100, \"ev\": \"inv\", \"kind\": \"global\"}\n"
		"{\"t\": 2200, \"ev\": \"detach\", \"dev\": 16, \"cpu\": 65535}\n"
		"{\"t\": 2300, \"ev\": \"unmap\", \"domain\": 1, \"iova\": \"0xfffffffffffff000\", "
		"\"size\": 4096}\n"
		"{\"t\": \"0xffffffffffffffff\", \"ev\": \"inv\", \"kind\": \"domain\", "
		"\"domain\": 3, \"nested\": false}";  /* no final newline */
	struct ims_event evs[32], e;
	unsigned n, i = 0;

	(void)state;
	read_text(text, evs, 32, &n);
	assert_int_equal(n, 17);

#define NEXT() memset(&e, 0, sizeof(e))
	NEXT();
	e.ts_ns = 1000; e.type = IMS_EV_ATTACH; e.dev = 0x10; e.has_pasid = 1; e.pasid = 5;
	e.domain = 1; e.flags = IMS_EV_F_NESTED; e.parent = 2;
	assert_event_equal(&e, &evs[i], i); i++;
	NEXT();
	e.ts_ns = 1200; e.type = IMS_EV_MAP; e.domain = 1; e.iova = 0x7f0000000000ull;
	e.size = 4096; e.pa = 0x40000000; e.access = IMS_PERM_PR | IMS_PERM_PW;
	assert_event_equal(&e, &evs[i], i); i++;
	NEXT();
	e.ts_ns = 1300; e.type = IMS_EV_DMA; e.dev = 16; e.has_pasid = 1; e.pasid = 5;
	e.iova = 0x7f0000000040ull; e.size = 64; e.access = IMS_ACC_READ | IMS_ACC_PRIV;
	assert_event_equal(&e, &evs[i], i); i++;
	NEXT(); /* no "t": the previous event's time */
	e.ts_ns = 1300; e.type = IMS_EV_INV; e.inv_kind = IMS_EV_INV_PAGE; e.domain = 1;
	e.iova = 8192; e.size = 4096; e.flags = IMS_EV_F_LEAF;
	assert_event_equal(&e, &evs[i], i); i++;
	NEXT();
	e.ts_ns = 1400; e.type = IMS_EV_INV; e.nwords = 2; e.words[0] = 0x12; e.words[1] = 7;
	assert_event_equal(&e, &evs[i], i); i++;
	NEXT();
	e.ts_ns = 1500; e.type = IMS_EV_SYNC; e.cpu = 3;
	assert_event_equal(&e, &evs[i], i); i++;
	NEXT();
	e.ts_ns = 1600; e.type = IMS_EV_WRITE; e.pa = 0x1000; e.words[0] = 0xdeadbeef;
	assert_event_equal(&e, &evs[i], i); i++;
	NEXT();
	e.ts_ns = 1700; e.type = IMS_EV_TICK;
	assert_event_equal(&e, &evs[i], i); i++;
	NEXT();
	e.ts_ns = 1800; e.type = IMS_EV_FAULT; e.dev = 0xffff; e.iova = 0x2000;
	e.access = IMS_ACC_WRITE;
	assert_event_equal(&e, &evs[i], i); i++;
	NEXT();
	e.ts_ns = 1900; e.type = IMS_EV_MAP; e.size = 1;
	e.access = IMS_PERM_R | IMS_PERM_X | IMS_PERM_PR | IMS_PERM_PX;
	assert_event_equal(&e, &evs[i], i); i++;
	NEXT();
	e.ts_ns = 1901; e.type = IMS_EV_MAP; e.size = 1; e.access = IMS_PERM_R | IMS_PERM_PR;
	assert_event_equal(&e, &evs[i], i); i++;
	NEXT();
	e.ts_ns = 1902; e.type = IMS_EV_MAP; e.size = 1;
	assert_event_equal(&e, &evs[i], i); i++;
	NEXT();
	e.ts_ns = 2000; e.type = IMS_EV_INV; e.inv_kind = IMS_EV_INV_PASID; e.domain = 4;
	e.has_pasid = 1;
	assert_event_equal(&e, &evs[i], i); i++;
	NEXT();
	e.ts_ns = 2100; e.type = IMS_EV_INV; e.inv_kind = IMS_EV_INV_GLOBAL;
	assert_event_equal(&e, &evs[i], i); i++;
	NEXT();
	e.ts_ns = 2200; e.type = IMS_EV_DETACH; e.dev = 16; e.cpu = 65535;
	assert_event_equal(&e, &evs[i], i); i++;
	NEXT();
	e.ts_ns = 2300; e.type = IMS_EV_UNMAP; e.domain = 1; e.iova = 0xfffffffffffff000ull;
	e.size = 4096;
	assert_event_equal(&e, &evs[i], i); i++;
	NEXT();
	e.ts_ns = UINT64_MAX; e.type = IMS_EV_INV; e.inv_kind = IMS_EV_INV_DOMAIN; e.domain = 3;
	assert_event_equal(&e, &evs[i], i); i++;
#undef NEXT
}

/* The canonical output of ims_event_to_json. */
static void test_to_json(void **state)
{
	struct ims_event ev;
	char buf[512];
	int n;

	(void)state;
	memset(&ev, 0, sizeof(ev));
	ev.ts_ns = 1200; ev.type = IMS_EV_MAP; ev.domain = 1; ev.iova = 0x7f0000000000ull;
	ev.size = 4096; ev.pa = 0x40000000; ev.access = IMS_PERM_PR | IMS_PERM_PW;
	n = ims_event_to_json(&ev, buf, sizeof(buf));
	assert_string_equal(buf, "{\"t\": 1200, \"ev\": \"map\", \"cpu\": 0, \"domain\": 1, "
			    "\"iova\": \"0x7f0000000000\", \"size\": 4096, \"pa\": \"0x40000000\", "
			    "\"perm\": \"rw\"}");
	assert_int_equal(n, (int)strlen(buf));
	/* Exactly enough room (the NUL included), then one byte short. */
	assert_int_equal(ims_event_to_json(&ev, buf, (size_t)n + 1), n);
	assert_int_equal(ims_event_to_json(&ev, buf, (size_t)n), -ENOSPC);
	assert_int_equal(ims_event_to_json(&ev, buf, 1), -ENOSPC);

	/* Permissions letters cannot say: the IMS_PERM_* integer. */
	ev.access = IMS_PERM_R | IMS_PERM_PW;
	ims_event_to_json(&ev, buf, sizeof(buf));
	assert_non_null(strstr(buf, "\"perm\": 17}"));
	ev.access = IMS_PERM_ALL;
	ims_event_to_json(&ev, buf, sizeof(buf));
	assert_non_null(strstr(buf, "\"perm\": \"rwxu\"}"));

	memset(&ev, 0, sizeof(ev));
	ev.ts_ns = 1300; ev.type = IMS_EV_DMA; ev.dev = 16; ev.has_pasid = 1; ev.pasid = 5;
	ev.iova = 0x7f0000000040ull; ev.size = 64; ev.access = IMS_ACC_READ | IMS_ACC_PRIV;
	ims_event_to_json(&ev, buf, sizeof(buf));
	assert_string_equal(buf, "{\"t\": 1300, \"ev\": \"dma\", \"cpu\": 0, \"dev\": 16, "
			    "\"pasid\": 5, \"iova\": \"0x7f0000000040\", \"size\": 64, "
			    "\"access\": \"rp\"}");

	memset(&ev, 0, sizeof(ev));
	ev.type = IMS_EV_ATTACH; ev.dev = 16; ev.domain = 3; ev.flags = IMS_EV_F_NESTED;
	ev.parent = 2; ev.cpu = 1;
	ims_event_to_json(&ev, buf, sizeof(buf));
	assert_string_equal(buf, "{\"t\": 0, \"ev\": \"attach\", \"cpu\": 1, \"dev\": 16, "
			    "\"domain\": 3, \"nested\": true, \"parent\": 2}");

	memset(&ev, 0, sizeof(ev));
	ev.type = IMS_EV_INV; ev.nwords = 2; ev.words[0] = 0x27; ev.ts_ns = UINT64_MAX;
	ims_event_to_json(&ev, buf, sizeof(buf));
	assert_string_equal(buf, "{\"t\": \"0xffffffffffffffff\", \"ev\": \"inv\", \"cpu\": 0, "
			    "\"words\": [\"0x27\", \"0x0\"]}");

	/* Invalid events are refused. */
	ev.inv_kind = IMS_EV_INV_GLOBAL;
	assert_int_equal(ims_event_to_json(&ev, buf, sizeof(buf)), -EINVAL);
}

/* ---- bad lines ---- */

struct bad_case {
	const char *line;
	const char *field; /* NULL: not a field error */
	const char *words; /* also in the message */
};

static const struct bad_case bad_lines[] = {
	{ "{\"t\": 1, \"ev\": \"map\", \"domain\": 1, \"iova\": \"0x1000\", \"size\": 4096, "
	  "\"pa\": \"0x2000\"}", "perm", "required" },
	{ "{\"ev\": \"map\", \"domain\": 1, \"iova\": [1], \"size\": 4096, \"pa\": 0, "
	  "\"perm\": \"r\"}", "iova", "got an array" },
	{ "{\"ev\": \"map\", \"domain\": 1, \"iova\": \"0xzz\", \"size\": 1, \"pa\": 0, "
	  "\"perm\": \"r\"}", "iova", "\"0xzz\"" },
	{ "{\"ev\": \"map\", \"domain\": 1, \"iova\": \"-1\", \"size\": 1, \"pa\": 0, "
	  "\"perm\": \"r\"}", "iova", "expected" },
	{ "{\"ev\": \"map\", \"domain\": 1, \"iova\": -1, \"size\": 1, \"pa\": 0, "
	  "\"perm\": \"r\"}", "iova", "-1" },
	{ "{\"ev\": \"map\", \"domain\": 1, \"iova\": \" 1\", \"size\": 1, \"pa\": 0, "
	  "\"perm\": \"r\"}", "iova", "expected" },
	{ "{\"ev\": \"map\", \"domain\": 1, \"iova\": \"0x10000000000000000\", \"size\": 1, "
	  "\"pa\": 0, \"perm\": \"r\"}", "iova", "too large" },
	{ "{\"ev\": \"map\", \"domain\": 1, \"iova\": 0, \"size\": 0, \"pa\": 0, "
	  "\"perm\": \"r\"}", "size", "at least 1" },
	{ "{\"ev\": \"map\", \"domain\": 1, \"iova\": \"0xfffffffffffff000\", \"size\": 8192, "
	  "\"pa\": 0, \"perm\": \"r\"}", "size", "64-bit" },
	{ "{\"ev\": \"map\", \"domain\": 1, \"iova\": 0, \"size\": 8192, "
	  "\"pa\": \"0xfffffffffffff000\", \"perm\": \"r\"}", "size", "pa + size" },
	{ "{\"ev\": \"map\", \"domain\": 1, \"iova\": 0, \"size\": 1, \"pa\": 0, "
	  "\"perm\": \"rq\"}", "perm", "\"rq\"" },
	{ "{\"ev\": \"map\", \"domain\": 1, \"iova\": 0, \"size\": 1, \"pa\": 0, "
	  "\"perm\": 64}", "perm", "64" },
	{ "{\"ev\": \"map\", \"domain\": 1, \"iova\": 0, \"size\": 1, \"pa\": 0, "
	  "\"perm\": \"r\", \"foo\": 1}", "foo", "no such field" },
	{ "{\"ev\": \"map\", \"domain\": 1.5, \"iova\": 0, \"size\": 1, \"pa\": 0, "
	  "\"perm\": \"r\"}", "domain", "a real number" },
	{ "{\"ev\": \"map\", \"domain\": 4294967296, \"iova\": 0, \"size\": 1, \"pa\": 0, "
	  "\"perm\": \"r\"}", "domain", "too large" },
	{ "{\"ev\": \"bogus\"}", "ev", "\"bogus\"" },
	{ "{\"ev\": 3}", "ev", "got 3" },
	{ "{\"t\": 5}", "ev", "every event" },
	{ "{\"t\": 1.5, \"ev\": \"sync\"}", "t", "real" },
	{ "{\"t\": true, \"ev\": \"sync\"}", "t", "boolean" },
	{ "{\"ev\": \"sync\", \"cpu\": 70000}", "cpu", "too large" },
	{ "{\"ev\": \"sync\", \"iova\": \"0x1000\"}", "iova", "no such field" },
	{ "{\"ev\": \"tick\", \"cpu\": null}", "cpu", "null" },
	{ "{\"ev\": \"dma\", \"dev\": 1, \"iova\": 0, \"size\": 64, \"access\": \"p\"}",
	  "access", "at least one" },
	{ "{\"ev\": \"dma\", \"dev\": 1, \"iova\": 0, \"size\": 64, \"access\": \"rz\"}",
	  "access", "\"rz\"" },
	{ "{\"ev\": \"dma\", \"dev\": 1, \"iova\": 0, \"size\": 64}", "access", "required" },
	{ "{\"ev\": \"dma\", \"dev\": \"00:20.0\", \"iova\": 0, \"size\": 64, \"access\": \"r\"}",
	  "dev", "\"00:20.0\"" },
	{ "{\"ev\": \"dma\", \"dev\": \"0:2.8\", \"iova\": 0, \"size\": 64, \"access\": \"r\"}",
	  "dev", "bus:dev.fn" },
	{ "{\"ev\": \"dma\", \"dev\": \"100:02.0\", \"iova\": 0, \"size\": 64, \"access\": \"r\"}",
	  "dev", "expected" },
	{ "{\"ev\": \"dma\", \"dev\": 1, \"pasid\": \"0x100000000\", \"iova\": 0, \"size\": 64, "
	  "\"access\": \"r\"}", "pasid", "too large" },
	{ "{\"ev\": \"inv\", \"kind\": \"page\", \"words\": [1], \"domain\": 1}", "words",
	  "not both" },
	{ "{\"ev\": \"inv\", \"domain\": 1}", "kind", "needs one" },
	{ "{\"ev\": \"inv\", \"kind\": \"range\"}", "kind", "\"range\"" },
	{ "{\"ev\": \"inv\", \"words\": [1, 2, 3, 4, 5]}", "words", "1 to 4" },
	{ "{\"ev\": \"inv\", \"words\": []}", "words", "1 to 4" },
	{ "{\"ev\": \"inv\", \"words\": [\"x\"]}", "words", "words[0]" },
	{ "{\"ev\": \"inv\", \"words\": \"0x1\"}", "words", "got \"0x1\"" },
	{ "{\"ev\": \"inv\", \"words\": [1], \"leaf\": true}", "leaf", "no such field" },
	{ "{\"ev\": \"inv\", \"kind\": \"global\", \"domain\": 1}", "domain", "kind \"global\"" },
	{ "{\"ev\": \"inv\", \"kind\": \"pasid\", \"domain\": 1}", "pasid", "required" },
	{ "{\"ev\": \"inv\", \"kind\": \"domain\", \"domain\": 1, \"leaf\": true}", "leaf",
	  "no such field" },
	{ "{\"ev\": \"inv\", \"kind\": \"page\", \"domain\": 1, \"iova\": 0}", "size",
	  "required" },
	{ "{\"ev\": \"attach\", \"dev\": 1, \"domain\": 2, \"nested\": true}", "parent",
	  "\"nested\" is true" },
	{ "{\"ev\": \"attach\", \"dev\": 1, \"domain\": 2, \"parent\": 3}", "parent",
	  "\"nested\": true" },
	{ "{\"ev\": \"attach\", \"dev\": 1, \"domain\": 2, \"nested\": false, \"parent\": 3}",
	  "parent", "\"nested\": true" },
	{ "{\"ev\": \"attach\", \"dev\": 1, \"domain\": 2, \"nested\": 1, \"parent\": 3}",
	  "nested", "true or false" },
	{ "{\"ev\": \"attach\", \"domain\": 2}", "dev", "required" },
	{ "{\"ev\": \"write\", \"pa\": \"0x1000\"}", "value", "required" },
	{ "{\"ev\": \"write\", \"pa\": \"0x1000\", \"value\": 1, \"words\": [1]}", "words",
	  "no such field" },
	{ "{\"ev\": \"fault\", \"dev\": 1, \"iova\": 0, \"access\": 16}", "access", "16" },
	{ "{\"ev\": \"sync\", \"ev\": \"tick\"}", NULL, "invalid JSON" },
	{ "{\"ev\": \"sync\"", NULL, "invalid JSON" },
	{ "[1, 2]", NULL, "expected an event object" },
	{ "\"sync\"", NULL, "invalid JSON" },
	{ "{\"ev\": \"sync\"} {\"ev\": \"sync\"}", NULL, "invalid JSON" },
	{ "{\"ev\": \"sync\", \"x\\u0000\": 1}", NULL, "invalid JSON" },
};

static void test_bad_lines(void **state)
{
	char path[64], text[1024], want[256];
	struct ims_trace_reader *r;
	struct ims_event ev;

	(void)state;
	tmp_path(path, sizeof(path));
	for (size_t i = 0; i < sizeof(bad_lines) / sizeof(bad_lines[0]); i++) {
		const struct bad_case *c = &bad_lines[i];

		snprintf(text, sizeof(text), "{\"iommusim-trace\": 1}\n{\"ev\": \"sync\"}\n%s\n"
			 "{\"ev\": \"sync\"}\n", c->line);
		write_file(path, text, strlen(text));
		assert_int_equal(ims_trace_open(path, &r, err, sizeof(err)), 0);
		assert_int_equal(ims_trace_next(r, &ev, err, sizeof(err)), 1);
		memset(err, 0, sizeof(err));
		if (ims_trace_next(r, &ev, err, sizeof(err)) != -EINVAL)
			fail_msg("line \"%s\" was not refused", c->line);
		if (c->field)
			snprintf(want, sizeof(want), "%s:3: field \"%s\": expected", path, c->field);
		else
			snprintf(want, sizeof(want), "%s:3:", path);
		if (strncmp(err, want, strlen(want)))
			fail_msg("line \"%s\": message \"%s\" does not start with \"%s\"", c->line,
				 err, want);
		if (c->words && !strstr(err, c->words))
			fail_msg("line \"%s\": message \"%s\" does not mention \"%s\"", c->line,
				 err, c->words);
		/* Reading stops at the first error. */
		assert_int_equal(ims_trace_next(r, &ev, err, sizeof(err)), -EINVAL);
		ims_trace_close(r);
	}
	unlink(path);
}

/* ---- headers ---- */

static void open_bad(const char *path, const void *data, size_t len, int want_rc,
		     const char *w1, const char *w2)
{
	struct ims_trace_reader *r = (struct ims_trace_reader *)(uintptr_t)1;

	write_file(path, data, len);
	memset(err, 0, sizeof(err));
	assert_int_equal(ims_trace_open(path, &r, err, sizeof(err)), want_rc);
	assert_ptr_equal(r, (struct ims_trace_reader *)(uintptr_t)1);
	if (strncmp(err, path, strlen(path)))
		fail_msg("message \"%s\" does not name the file", err);
	if (w1 && !strstr(err, w1))
		fail_msg("message \"%s\" does not mention \"%s\"", err, w1);
	if (w2 && !strstr(err, w2))
		fail_msg("message \"%s\" does not mention \"%s\"", err, w2);
}

#define OPEN_BAD_TEXT(path, s, w1, w2) open_bad(path, s, strlen(s), -EINVAL, w1, w2)

static void test_headers(void **state)
{
	char path[64], bin[64];
	struct ims_trace_reader *r;
	struct ims_trace_writer *w;
	struct ims_trace_header h;
	struct ims_event ev;
	uint8_t *data;
	size_t len;

	(void)state;
	tmp_path(path, sizeof(path));
	tmp_path(bin, sizeof(bin));

	OPEN_BAD_TEXT(path, "", "empty", NULL);
	OPEN_BAD_TEXT(path, "\n\n  \n", "empty", NULL);
	OPEN_BAD_TEXT(path, "hello world\n", "not a trace", NULL);
	OPEN_BAD_TEXT(path, "{\"ev\": \"sync\"}\n", ":1: field \"iommusim-trace\"", "header");
	OPEN_BAD_TEXT(path, "{\"iommusim-trace\": 2}\n", ":1: field \"iommusim-trace\"",
		      "version 1, got 2");
	OPEN_BAD_TEXT(path, "{\"iommusim-trace\": \"1\"}\n", "\"iommusim-trace\"", "version");
	OPEN_BAD_TEXT(path, "{\"iommusim-trace\": 1, \"arch\": \"x86\"}\n", "field \"arch\"",
		      "smmuv3");
	OPEN_BAD_TEXT(path, "{\"iommusim-trace\": 1, \"arch\": 1}\n", "field \"arch\"", NULL);
	OPEN_BAD_TEXT(path, "{\"iommusim-trace\": 1, \"source\": \"0123456789012345678901234"
		      "5678901234567890123456789012345678901234567890\"}\n", "field \"source\"",
		      "63 bytes");
	OPEN_BAD_TEXT(path, "{\"iommusim-trace\": 1, \"date\": \"today\"}\n", "field \"date\"",
		      "no such field");
	OPEN_BAD_TEXT(path, "{\"iommusim-trace\": 1,\n", ":1:", "invalid JSON");
	open_bad(path, "IMSTRC\0\1", 8, -EINVAL, "header", "truncated");
	{
		uint8_t magic[100];

		memset(magic, 0, sizeof(magic));
		memcpy(magic, "IMSTRC\0\2", 8);
		open_bad(path, magic, sizeof(magic), -EINVAL, "header field \"magic\"", NULL);
	}
	open_bad(path, "x", 1, -EINVAL, "not a trace", NULL);
	assert_int_equal(ims_trace_open("/nonexistent/trace", &r, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/trace: cannot open"));
	assert_int_equal(ims_trace_open("/tmp", &r, err, sizeof(err)), -EISDIR);

	/* A header alone is an empty trace, in both encodings. */
	memset(&h, 0, sizeof(h));
	snprintf(h.arch, sizeof(h.arch), "smmuv3");
	snprintf(h.source, sizeof(h.source), "gen:nic-rx");
	for (int fmt = IMS_TRACE_JSONL; fmt <= IMS_TRACE_BINARY; fmt++) {
		assert_int_equal(ims_trace_create(path, (enum ims_trace_fmt)fmt, &h, &w, err,
						  sizeof(err)), 0);
		assert_int_equal(ims_trace_finish(w), 0);
		assert_int_equal(ims_trace_open(path, &r, err, sizeof(err)), 0);
		assert_int_equal(ims_trace_reader_fmt(r), fmt);
		assert_int_equal(ims_trace_reader_header(r)->version, 1);
		assert_string_equal(ims_trace_reader_header(r)->arch, "smmuv3");
		assert_string_equal(ims_trace_reader_header(r)->source, "gen:nic-rx");
		assert_int_equal(ims_trace_next(r, &ev, err, sizeof(err)), 0);
		ims_trace_close(r);
	}
	data = read_file(path, &len);
	assert_int_equal(len, 96 + 2);
	assert_memory_equal(data, "IMSTRC\0\1\1\0\0\0\x60\0\0\0smmuv3\0", 23);
	assert_int_equal(data[96], 0);    /* the end record, */
	assert_int_equal(data[97], 0);    /* after 0 events */

	/* Binary header fields. */
	data[8] = 2;
	open_bad(bin, data, len, -EINVAL, "header field \"version\"", "got 2");
	data[8] = 1;
	data[12] = 97;
	open_bad(bin, data, len, -EINVAL, "header field \"length\"", NULL);
	data[12] = 96;
	memcpy(data + 16, "x86", 4);
	open_bad(bin, data, len, -EINVAL, "header field \"arch\"", NULL);
	memset(data + 16, 'a', 16);
	open_bad(bin, data, len, -EINVAL, "header field \"arch\"", NULL);
	memset(data + 16, 0, 16);
	memset(data + 32, 'a', 64);
	open_bad(bin, data, len, -EINVAL, "header field \"source\"", NULL);
	memset(data + 32, 0, 64);
	data[32] = 0xff;
	open_bad(bin, data, len, -EINVAL, "header field \"source\"", "UTF-8");
	data[32] = 0;
	/* Trailing bytes after the end record; a wrong event count. */
	{
		uint8_t more[100];

		memcpy(more, data, len);
		more[len] = 0;
		write_file(bin, more, len + 1);
		assert_int_equal(ims_trace_open(bin, &r, err, sizeof(err)), 0);
		assert_int_equal(ims_trace_next(r, &ev, err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "after the end record"));
		ims_trace_close(r);
		more[97] = 1;
		write_file(bin, more, len);
		assert_int_equal(ims_trace_open(bin, &r, err, sizeof(err)), 0);
		assert_int_equal(ims_trace_next(r, &ev, err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "record 1 (offset 0x60): field \"count\""));
		ims_trace_close(r);
	}
	free(data);

	/* Writers refuse bad headers and leave nothing behind. */
	w = (struct ims_trace_writer *)(uintptr_t)1;
	snprintf(h.arch, sizeof(h.arch), "x86");
	assert_int_equal(ims_trace_create(path, IMS_TRACE_JSONL, &h, &w, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "header field \"arch\""));
	snprintf(h.arch, sizeof(h.arch), "vtd");
	h.version = 7;
	assert_int_equal(ims_trace_create(path, IMS_TRACE_BINARY, &h, &w, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "header field \"version\""));
	h.version = 0;
	h.source[0] = (char)0xc3; /* a cut UTF-8 sequence */
	assert_int_equal(ims_trace_create(path, IMS_TRACE_JSONL, &h, &w, err, sizeof(err)),
			 -EINVAL);
	h.source[0] = 0;
	assert_int_equal(ims_trace_create(path, (enum ims_trace_fmt)5, &h, &w, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(ims_trace_create("/nonexistent/x", IMS_TRACE_JSONL, &h, &w, err,
					  sizeof(err)), -ENOENT);
	assert_ptr_equal(w, (struct ims_trace_writer *)(uintptr_t)1);
	unlink(path);
	unlink(bin);
}

/* ---- writers refuse invalid events ---- */

static void test_write_invalid(void **state)
{
	struct ims_event good, ev;
	struct ims_trace_header h;
	struct ims_trace_writer *w;
	struct ims_trace_reader *r;
	char path[64];

	(void)state;
	memset(&good, 0, sizeof(good));
	good.type = IMS_EV_MAP;
	good.domain = 1;
	good.iova = 0x1000;
	good.size = 0x1000;
	good.pa = 0x2000;
	good.access = IMS_PERM_PR;
	memset(&h, 0, sizeof(h));
	tmp_path(path, sizeof(path));
	for (int fmt = IMS_TRACE_JSONL; fmt <= IMS_TRACE_BINARY; fmt++) {
		assert_int_equal(ims_trace_create(path, (enum ims_trace_fmt)fmt, &h, &w, err,
						  sizeof(err)), 0);
#define REFUSE(stmt)                                                  \
	do {                                                          \
		ev = good;                                            \
		stmt;                                                 \
		assert_int_equal(ims_trace_write(w, &ev), -EINVAL);   \
	} while (0)
		REFUSE(ev.type = 0);
		REFUSE(ev.type = IMS_EV__COUNT);
		REFUSE(ev.size = 0);
		REFUSE(ev.iova = UINT64_MAX);
		REFUSE(ev.access = 0x40);
		REFUSE(ev.has_pasid = 1);
		REFUSE(ev.pasid = 1);
		REFUSE(ev.dev = 1);
		REFUSE(ev.flags = IMS_EV_F_LEAF);
		REFUSE(ev.flags = 4);
		REFUSE(ev.parent = 1);
		REFUSE(ev.nwords = 1);
		REFUSE(ev.words[0] = 1);
		REFUSE(ev.inv_kind = 1);
		REFUSE((ev.type = IMS_EV_SYNC, ev.domain = 0, ev.iova = 0, ev.size = 0, ev.pa = 0,
			ev.access = 0, ev.cpu = 1, ev.ts_ns = 1, ev.words[3] = 1));
		REFUSE((ev.type = IMS_EV_DMA, ev.domain = 0, ev.pa = 0, ev.access = IMS_ACC_PRIV));
		REFUSE((ev.type = IMS_EV_INV, ev.pa = 0, ev.access = 0, ev.inv_kind = 0));
		REFUSE((ev.type = IMS_EV_INV, ev.pa = 0, ev.access = 0, ev.inv_kind = 5));
		REFUSE((ev.type = IMS_EV_INV, ev.pa = 0, ev.access = 0, ev.inv_kind = 1,
			ev.nwords = 2));
		REFUSE((ev.type = IMS_EV_INV, ev.pa = 0, ev.access = 0, ev.nwords = 5));
		REFUSE((ev.type = IMS_EV_INV, ev.iova = 0, ev.size = 0, ev.pa = 0, ev.access = 0,
			ev.inv_kind = IMS_EV_INV_PASID));
		REFUSE((ev.type = IMS_EV_WRITE, ev.domain = 0, ev.iova = 0, ev.size = 0,
			ev.access = 0, ev.words[1] = 1));
		REFUSE((ev.type = IMS_EV_ATTACH, ev.iova = 0, ev.size = 0, ev.pa = 0, ev.access = 0,
			ev.has_pasid = 2));
		assert_int_equal(ims_trace_write(w, NULL), -EINVAL);
		assert_int_equal(ims_trace_write(w, &good), 0);
		assert_int_equal(ims_trace_finish(w), 0);
#undef REFUSE
		/* Only the good event was written. */
		assert_int_equal(ims_trace_open(path, &r, err, sizeof(err)), 0);
		assert_int_equal(ims_trace_next(r, &ev, err, sizeof(err)), 1);
		assert_event_equal(&good, &ev, 0);
		assert_int_equal(ims_trace_next(r, &ev, err, sizeof(err)), 0);
		ims_trace_close(r);
	}
	assert_int_equal(ims_trace_finish(NULL), 0);
	unlink(path);
}

/* ---- truncated and garbage input ---- */

/* A binary trace of n random events; offsets[i] = end of record i. */
static uint8_t *make_binary(const char *path, unsigned n, uint64_t seed, size_t *len,
			    uint64_t *offsets)
{
	struct ims_event evs[64];
	struct ims_trace_reader *r;
	struct ims_event ev;
	uint64_t s = seed, ts = 0;

	assert_true(n <= 64);
	for (unsigned i = 0; i < n; i++)
		rand_event(&s, 1 + i % (IMS_EV__COUNT - 1), &ts, &evs[i]);
	write_events(path, IMS_TRACE_BINARY, "vtd", evs, n);
	assert_int_equal(ims_trace_open(path, &r, err, sizeof(err)), 0);
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(ims_trace_next(r, &ev, err, sizeof(err)), 1);
		ims_trace_progress(r, &offsets[i], NULL);
	}
	ims_trace_close(r);
	return read_file(path, len);
}

static void test_truncated_binary(void **state)
{
	char path[64], cut[64], want[64];
	uint64_t offsets[40];
	struct ims_trace_reader *r;
	struct ims_event ev;
	size_t len;
	uint8_t *data;

	(void)state;
	tmp_path(path, sizeof(path));
	tmp_path(cut, sizeof(cut));
	data = make_binary(path, 40, 11, &len, offsets);
	for (size_t at = 0; at < len; at++) {
		unsigned full = 0, got = 0;
		int rc;

		write_file(cut, data, at);
		if (at < 96) {
			memset(err, 0, sizeof(err));
			assert_int_equal(ims_trace_open(cut, &r, err, sizeof(err)), -EINVAL);
			assert_non_null(strstr(err, cut));
			continue;
		}
		while (full < 40 && offsets[full] <= at)
			full++;
		assert_int_equal(ims_trace_open(cut, &r, err, sizeof(err)), 0);
		while ((rc = ims_trace_next(r, &ev, err, sizeof(err))) == 1)
			got++;
		if (rc != -EINVAL)
			fail_msg("cut at %zu of %zu: read ended with %d", at, len, rc);
		/* Every complete record is read; the error names the next one. */
		assert_int_equal(got, full);
		snprintf(want, sizeof(want), ": record %u (offset 0x", full + 1);
		if (!strstr(err, want) || !strstr(err, "field \"") || !strstr(err, "truncated"))
			fail_msg("cut at %zu: message \"%s\" does not name record %u, a field "
				 "and truncation", at, err, full + 1);
		ims_trace_close(r);
	}
	free(data);
	unlink(path);
	unlink(cut);
}

/* Flipped bytes and random tails: errors (naming a record) or events, never a crash. */
static void test_garbage_binary(void **state)
{
	char path[64], bad[64];
	uint64_t offsets[40], s = 99;
	struct ims_trace_reader *r;
	struct ims_event ev;
	unsigned errors = 0;
	size_t len;
	uint8_t *data, *copy;

	(void)state;
	tmp_path(path, sizeof(path));
	tmp_path(bad, sizeof(bad));
	data = make_binary(path, 40, 12, &len, offsets);
	copy = malloc(len + 512);
	assert_non_null(copy);
	for (unsigned iter = 0; iter < 3000; iter++) {
		size_t n = len;
		int rc;

		memcpy(copy, data, len);
		if (iter % 3 == 0) {
			/* A random tail after the header. */
			n = 96 + rnd(&s) % 512;
			for (size_t i = 96; i < n; i++)
				copy[i] = (uint8_t)rnd(&s);
		} else {
			for (unsigned k = 0; k < 1 + iter % 4; k++)
				copy[96 + rnd(&s) % (len - 96)] = (uint8_t)rnd(&s);
		}
		write_file(bad, copy, n);
		assert_int_equal(ims_trace_open(bad, &r, err, sizeof(err)), 0);
		while ((rc = ims_trace_next(r, &ev, err, sizeof(err))) == 1)
			;
		if (rc < 0) {
			errors++;
			assert_int_equal(rc, -EINVAL);
			assert_non_null(strstr(err, bad));
			if (!strstr(err, "field \"") && !strstr(err, "after the end record"))
				fail_msg("message \"%s\" names no field", err);
		}
		ims_trace_close(r);
	}
	assert_true(errors > 1000);
	free(copy);
	free(data);
	unlink(path);
	unlink(bad);
}

/* Random bytes and mutated event lines: refused with the line number, or read. */
static void test_garbage_jsonl(void **state)
{
	static const char *const tokens[] = {
		"{", "}", "[", "]", ",", ":", "\"ev\"", "\"map\"", "\"dma\"", "\"inv\"", "\"iova\"",
		"\"0x1000\"", "4096", "-1", "1e99", "true", "null", "\"\\u0000\"", "\"t\"",
		"\"words\"", "\"kind\"", "\"page\"", " ", "\"size\"", "\"perm\"", "\"rw\"",
	};
	static const char sample[] =
		"{\"t\": 1200, \"ev\": \"map\", \"cpu\": 0, \"domain\": 1, \"iova\": "
		"\"0x7f0000000000\", \"size\": 4096, \"pa\": \"0x40000000\", \"perm\": \"rw\"}";
	char path[64], text[2048], want[80];
	struct ims_trace_reader *r;
	struct ims_event ev;
	uint64_t s = 7;
	unsigned errors = 0;

	(void)state;
	tmp_path(path, sizeof(path));
	snprintf(want, sizeof(want), "%s:2", path);
	for (unsigned iter = 0; iter < 3000; iter++) {
		size_t n = (size_t)snprintf(text, sizeof(text), "{\"iommusim-trace\": 1}\n");
		int rc;

		switch (iter % 3) {
		case 0: /* random bytes */
			for (unsigned k = rnd(&s) % 200; k; k--)
				text[n++] = (char)(11 + rnd(&s) % 245); /* no newline */
			break;
		case 1: /* random tokens */
			for (unsigned k = rnd(&s) % 40; k; k--)
				n += (size_t)snprintf(text + n, sizeof(text) - n, "%s",
						      tokens[rnd(&s) % (sizeof(tokens) /
									sizeof(tokens[0]))]);
			break;
		default: /* a mutated good line */
			memcpy(text + n, sample, sizeof(sample) - 1);
			for (unsigned k = 0; k < 1 + rnd(&s) % 3; k++)
				text[n + rnd(&s) % (sizeof(sample) - 1)] =
					(char)(11 + rnd(&s) % 245);
			n += sizeof(sample) - 1;
			break;
		}
		text[n++] = '\n';
		write_file(path, text, n);
		assert_int_equal(ims_trace_open(path, &r, err, sizeof(err)), 0);
		while ((rc = ims_trace_next(r, &ev, err, sizeof(err))) == 1)
			;
		if (rc < 0) {
			errors++;
			assert_int_equal(rc, -EINVAL);
			if (strncmp(err, want, strlen(want)))
				fail_msg("message \"%s\" does not start with \"%s\"", err, want);
		}
		ims_trace_close(r);
	}
	assert_true(errors > 1500);
	unlink(path);
}

/* A line longer than the reader's buffer is refused, not truncated. */
static void test_long_line(void **state)
{
	char path[64];
	size_t n = 200000;
	char *text = malloc(n + 64);
	struct ims_trace_reader *r;
	struct ims_event ev;
	int off;

	(void)state;
	assert_non_null(text);
	tmp_path(path, sizeof(path));
	off = snprintf(text, 64, "{\"iommusim-trace\": 1}\n{\"ev\": \"sync\"}\n");
	memset(text + off, ' ', n - (size_t)off);
	text[n - 1] = '\n';
	write_file(path, text, n);
	assert_int_equal(ims_trace_open(path, &r, err, sizeof(err)), 0);
	assert_int_equal(ims_trace_next(r, &ev, err, sizeof(err)), 1);
	assert_int_equal(ims_trace_next(r, &ev, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, ":3: line longer than"));
	ims_trace_close(r);
	free(text);
	unlink(path);
}

/* ---- progress and standard input ---- */

static void test_progress_and_stdin(void **state)
{
	char path[64];
	struct ims_event evs[2000];
	struct ims_trace_reader *r;
	struct ims_event ev;
	uint64_t s = 5, ts = 0, done, total, last = 0;
	struct stat st;
	int saved, fd;
	unsigned n = 0;

	(void)state;
	tmp_path(path, sizeof(path));
	for (unsigned i = 0; i < 2000; i++)
		rand_event(&s, 1 + i % (IMS_EV__COUNT - 1), &ts, &evs[i]);
	for (int fmt = IMS_TRACE_JSONL; fmt <= IMS_TRACE_BINARY; fmt++) {
		write_events(path, (enum ims_trace_fmt)fmt, "", evs, 2000);
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(ims_trace_open(path, &r, err, sizeof(err)), 0);
		last = 0;
		while (ims_trace_next(r, &ev, err, sizeof(err)) == 1) {
			ims_trace_progress(r, &done, &total);
			assert_int_equal(total, (uint64_t)st.st_size);
			assert_true(done > last && done <= total);
			last = done;
		}
		ims_trace_close(r);

		/* "-" reads standard input; the size is unknown unless it is a file. */
		saved = dup(STDIN_FILENO);
		fd = open(path, O_RDONLY);
		assert_true(saved >= 0 && fd >= 0);
		dup2(fd, STDIN_FILENO);
		close(fd);
		assert_int_equal(ims_trace_open("-", &r, err, sizeof(err)), 0);
		assert_int_equal(ims_trace_reader_fmt(r), fmt);
		for (n = 0; ims_trace_next(r, &ev, err, sizeof(err)) == 1; n++)
			assert_event_equal(&evs[n], &ev, n);
		assert_int_equal(n, 2000);
		ims_trace_close(r);
		dup2(saved, STDIN_FILENO);
		close(saved);
	}
	/* Errors on standard input say so. */
	{
		int p[2];

		static const char bad[] = "{\"iommusim-trace\": 1}\n{\"ev\": \"nope\"}\n";

		assert_int_equal(pipe(p), 0);
		assert_int_equal(write(p[1], bad, strlen(bad)), (ssize_t)strlen(bad));
		close(p[1]);
		saved = dup(STDIN_FILENO);
		dup2(p[0], STDIN_FILENO);
		close(p[0]);
		assert_int_equal(ims_trace_open("-", &r, err, sizeof(err)), 0);
		ims_trace_progress(r, &done, &total);
		assert_int_equal(total, 0);
		assert_int_equal(ims_trace_next(r, &ev, err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "<stdin>:2: field \"ev\""));
		ims_trace_close(r);
		dup2(saved, STDIN_FILENO);
		close(saved);
	}
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_neutral),
		cmocka_unit_test(test_roundtrip_vtd),
		cmocka_unit_test(test_samples),
		cmocka_unit_test(test_to_json),
		cmocka_unit_test(test_bad_lines),
		cmocka_unit_test(test_headers),
		cmocka_unit_test(test_write_invalid),
		cmocka_unit_test(test_truncated_binary),
		cmocka_unit_test(test_garbage_binary),
		cmocka_unit_test(test_garbage_jsonl),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_progress_and_stdin),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
