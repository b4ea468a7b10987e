/*
 * test_mem.c - the simulated physical address space (engine/mem.c,
 * include/iommusim/mem.h).
 *
 * Directed tests for each rule of the header's contract (zero-filled RAM,
 * frame-crossing accesses, aborts for absent memory and beyond pa_bits, host
 * and accessor regions, overlaps refused without side effects, read-only
 * regions, injected aborts, little-endian 64-bit accesses), then a
 * brute-force check: seeded random sequences of add_ram / unmap / write /
 * read against a plain byte-array model of a small address space.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <iommusim/mem.h>

#define FR 4096u /* one frame, written out rather than taken from the header */

static struct ims_mem *new_mem(unsigned pa_bits)
{
	struct ims_mem *m = ims_mem_new(pa_bits);

	assert_non_null(m);
	return m;
}

/* ---- construction and pa_bits ---- */

static void test_new_pa_bits(void **state)
{
	struct ims_mem *m;

	(void)state;
	assert_null(ims_mem_new(0));
	assert_null(ims_mem_new(65));
	for (unsigned b = 1; b <= 64; b++) {
		m = new_mem(b);
		assert_int_equal(ims_mem_pa_bits(m), b);
		assert_int_equal(ims_mem_ram_frames(m), 0);
		ims_mem_free(m);
	}
	ims_mem_free(NULL);
}

static void test_pa_bits_limit(void **state)
{
	struct ims_mem *m = new_mem(20); /* 1 MiB */
	uint8_t buf[16] = { 0 };
	uint64_t v;

	(void)state;
	/* The last frame below 2^20 can be added, anything above cannot. */
	assert_int_equal(ims_mem_add_ram(m, 0xff000, FR), 0);
	assert_int_equal(ims_mem_add_ram(m, 0x100000, FR), -EINVAL);
	assert_int_equal(ims_mem_add_ram(m, 0xff000, 2 * FR), -EINVAL);
	assert_int_equal(ims_mem_ram_frames(m), 1);
	assert_int_equal(ims_mem_map_host(m, 0x100000, FR, buf, true), -EINVAL);
	/* Accesses reaching 2^20 abort, even the part below is backed. */
	assert_int_equal(ims_mem_read(m, 0xffff8, buf, 8), IMS_MEM_OK);
	assert_int_equal(ims_mem_read(m, 0xffffc, buf, 8), IMS_MEM_ABORT);
	assert_int_equal(ims_mem_read64(m, 0x100000, &v), IMS_MEM_ABORT);
	assert_int_equal(ims_mem_write64(m, 0x100000, 1), IMS_MEM_ABORT);
	assert_false(ims_mem_is_backed(m, 0xff000, FR + 1));
	assert_true(ims_mem_is_backed(m, 0xff000, FR));
	/* Addresses whose high bits alias a backed frame are still beyond. */
	assert_int_equal(ims_mem_read64(m, UINT64_C(0x1000ff000), &v), IMS_MEM_ABORT);
	ims_mem_free(m);
}

static void test_pa_bits_64_top(void **state)
{
	struct ims_mem *m = new_mem(64);
	uint64_t top = UINT64_C(0xfffffffffffff000), v = 0;
	uint8_t b[16];

	(void)state;
	assert_int_equal(ims_mem_add_ram(m, top, FR), 0);
	assert_int_equal(ims_mem_write64(m, top + FR - 8, UINT64_C(0x1122334455667788)), IMS_MEM_OK);
	assert_int_equal(ims_mem_read64(m, top + FR - 8, &v), IMS_MEM_OK);
	assert_int_equal(v, UINT64_C(0x1122334455667788));
	/* An access wrapping past 2^64 aborts. */
	assert_int_equal(ims_mem_read(m, top + FR - 8, b, 16), IMS_MEM_ABORT);
	/* A range wrapping past 2^64 is refused. */
	assert_int_equal(ims_mem_add_ram(m, top, 2 * FR), -EINVAL);
	ims_mem_free(m);
}

static void test_bad_ranges(void **state)
{
	struct ims_mem *m = new_mem(32);
	uint8_t buf[FR];

	(void)state;
	assert_int_equal(ims_mem_add_ram(m, 0x800, FR), -EINVAL);   /* unaligned pa */
	assert_int_equal(ims_mem_add_ram(m, 0x1000, 0x800), -EINVAL); /* unaligned len */
	assert_int_equal(ims_mem_add_ram(m, 0x1000, 0), -EINVAL);
	assert_int_equal(ims_mem_map_host(m, 0x1000, FR, NULL, true), -EINVAL);
	assert_int_equal(ims_mem_map_host(m, 0x1001, FR, buf, true), -EINVAL);
	assert_int_equal(ims_mem_unmap(m, 0x1001, FR), -EINVAL);
	assert_int_equal(ims_mem_ram_frames(m), 0);
	ims_mem_free(m);
}

/* ---- RAM ---- */

static void test_ram_zero_filled(void **state)
{
	struct ims_mem *m = new_mem(32);
	uint8_t buf[3 * FR], zero[3 * FR];

	(void)state;
	memset(zero, 0, sizeof(zero));
	assert_int_equal(ims_mem_add_ram(m, 0x10000, 3 * FR), 0);
	assert_int_equal(ims_mem_ram_frames(m), 3);
	memset(buf, 0xa5, sizeof(buf));
	assert_int_equal(ims_mem_read(m, 0x10000, buf, sizeof(buf)), IMS_MEM_OK);
	assert_memory_equal(buf, zero, sizeof(buf));
	assert_true(ims_mem_is_backed(m, 0x10000, 3 * FR));
	assert_false(ims_mem_is_backed(m, 0x10000, 3 * FR + 1));
	assert_false(ims_mem_is_backed(m, 0xffff, 2));
	ims_mem_free(m);
}

static void test_ram_add_keeps_contents(void **state)
{
	struct ims_mem *m = new_mem(32);
	uint64_t v;

	(void)state;
	assert_int_equal(ims_mem_add_ram(m, 0x2000, FR), 0);
	assert_int_equal(ims_mem_write64(m, 0x2008, 0xdeadbeef), IMS_MEM_OK);
	/* Adding an overlapping range keeps the owned frame as it is. */
	assert_int_equal(ims_mem_add_ram(m, 0x1000, 3 * FR), 0);
	assert_int_equal(ims_mem_ram_frames(m), 3);
	assert_int_equal(ims_mem_read64(m, 0x2008, &v), IMS_MEM_OK);
	assert_int_equal(v, 0xdeadbeef);
	assert_int_equal(ims_mem_read64(m, 0x1008, &v), IMS_MEM_OK);
	assert_int_equal(v, 0);
	ims_mem_free(m);
}

static void test_cross_frame(void **state)
{
	struct ims_mem *m = new_mem(32);
	uint8_t w[100], r[100], one[1];

	(void)state;
	for (unsigned i = 0; i < sizeof(w); i++)
		w[i] = (uint8_t)(i * 7 + 1);
	assert_int_equal(ims_mem_add_ram(m, 0x4000, 2 * FR), 0);
	/* 50 bytes on each side of the boundary at 0x5000. */
	assert_int_equal(ims_mem_write(m, 0x5000 - 50, w, sizeof(w)), IMS_MEM_OK);
	assert_int_equal(ims_mem_read(m, 0x5000 - 50, r, sizeof(r)), IMS_MEM_OK);
	assert_memory_equal(w, r, sizeof(w));
	/* Byte by byte from either frame. */
	for (unsigned i = 0; i < sizeof(w); i++) {
		assert_int_equal(ims_mem_read(m, 0x5000 - 50 + i, one, 1), IMS_MEM_OK);
		assert_int_equal(one[0], w[i]);
	}
	/* Neighbours untouched. */
	assert_int_equal(ims_mem_read(m, 0x5000 - 51, one, 1), IMS_MEM_OK);
	assert_int_equal(one[0], 0);
	assert_int_equal(ims_mem_read(m, 0x5000 + 50, one, 1), IMS_MEM_OK);
	assert_int_equal(one[0], 0);
	/* A zero-length access is fine anywhere backed or not. */
	assert_int_equal(ims_mem_read(m, 0x123456, r, 0), IMS_MEM_OK);
	ims_mem_free(m);
}

static void test_absent_aborts(void **state)
{
	struct ims_mem *m = new_mem(32);
	uint8_t w[16], r[16], z[16];
	uint64_t v;

	(void)state;
	memset(w, 0x5a, sizeof(w));
	memset(z, 0, sizeof(z));
	assert_int_equal(ims_mem_read64(m, 0, &v), IMS_MEM_ABORT);
	assert_int_equal(ims_mem_add_ram(m, 0x1000, FR), 0);
	assert_int_equal(ims_mem_read64(m, 0x2000, &v), IMS_MEM_ABORT);
	assert_int_equal(ims_mem_read64(m, 0x0ff8, &v), IMS_MEM_ABORT);
	/* Straddling backed and absent: abort, and a write changes nothing. */
	assert_int_equal(ims_mem_read(m, 0x2000 - 8, r, 16), IMS_MEM_ABORT);
	assert_int_equal(ims_mem_write(m, 0x2000 - 8, w, 16), IMS_MEM_ABORT);
	assert_int_equal(ims_mem_write(m, 0x1000 - 8, w, 16), IMS_MEM_ABORT);
	assert_int_equal(ims_mem_read(m, 0x1000, r, 8), IMS_MEM_OK);
	assert_memory_equal(r, z, 8);
	assert_int_equal(ims_mem_read(m, 0x2000 - 8, r, 8), IMS_MEM_OK);
	assert_memory_equal(r, z, 8);
	ims_mem_free(m);
}

/* ---- little-endian 64-bit accesses ---- */

static void test_le64(void **state)
{
	struct ims_mem *m = new_mem(32);
	const uint8_t bytes[8] = { 0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01 };
	uint8_t b[8];
	uint64_t v = 0;

	(void)state;
	assert_int_equal(ims_mem_add_ram(m, 0, FR), 0);
	assert_int_equal(ims_mem_write64(m, 0x100, UINT64_C(0x0102030405060708)), IMS_MEM_OK);
	assert_int_equal(ims_mem_read(m, 0x100, b, 8), IMS_MEM_OK);
	assert_memory_equal(b, bytes, 8);
	/* And the other way round. */
	const uint8_t in[8] = { 0xef, 0xcd, 0xab, 0x89, 0x67, 0x45, 0x23, 0x81 };

	assert_int_equal(ims_mem_write(m, 0x200, in, 8), IMS_MEM_OK);
	assert_int_equal(ims_mem_read64(m, 0x200, &v), IMS_MEM_OK);
	assert_int_equal(v, UINT64_C(0x8123456789abcdef));
	ims_mem_free(m);
}

static void test_misaligned64(void **state)
{
	struct ims_mem *m = new_mem(32);
	uint64_t v = 0x77, z = 0;
	uint8_t b[16];

	(void)state;
	assert_int_equal(ims_mem_add_ram(m, 0, FR), 0);
	for (unsigned off = 1; off < 8; off++) {
		assert_int_equal(ims_mem_read64(m, 0x100 + off, &v), IMS_MEM_ABORT);
		assert_int_equal(ims_mem_write64(m, 0x100 + off, ~UINT64_C(0)), IMS_MEM_ABORT);
	}
	/* The failed writes changed nothing. */
	assert_int_equal(ims_mem_read(m, 0x100, b, 16), IMS_MEM_OK);
	for (unsigned i = 0; i < 16; i++)
		assert_int_equal(b[i], 0);
	assert_int_equal(ims_mem_read64(m, 0x108, &z), IMS_MEM_OK);
	assert_int_equal(z, 0);
	ims_mem_free(m);
}

/* ---- host regions ---- */

static void test_map_host(void **state)
{
	struct ims_mem *m = new_mem(40);
	uint8_t *host = calloc(1, 2 * FR);
	uint64_t v;
	uint8_t b[16];

	(void)state;
	assert_non_null(host);
	host[0x10] = 0x11;
	host[FR + 0x20] = 0x22;
	assert_int_equal(ims_mem_map_host(m, UINT64_C(0x100000000), 2 * FR, host, true), 0);
	assert_int_equal(ims_mem_ram_frames(m), 0); /* not simulator-owned */
	assert_true(ims_mem_is_backed(m, UINT64_C(0x100000000), 2 * FR));
	assert_int_equal(ims_mem_read(m, UINT64_C(0x100000010), b, 1), IMS_MEM_OK);
	assert_int_equal(b[0], 0x11);
	assert_int_equal(ims_mem_read(m, UINT64_C(0x100001020), b, 1), IMS_MEM_OK);
	assert_int_equal(b[0], 0x22);
	/* Writes go to the host buffer (not copied), across the frame boundary. */
	assert_int_equal(ims_mem_write64(m, UINT64_C(0x100000ff8), UINT64_C(0xa1a2a3a4a5a6a7a8)),
			 IMS_MEM_OK);
	assert_int_equal(host[FR - 8], 0xa8);
	assert_int_equal(host[FR - 1], 0xa1);
	memset(b, 0x3c, sizeof(b));
	assert_int_equal(ims_mem_write(m, UINT64_C(0x100000ff8), b, 16), IMS_MEM_OK);
	assert_int_equal(host[FR + 7], 0x3c);
	host[FR + 8] = 0x99;
	assert_int_equal(ims_mem_read64(m, UINT64_C(0x100001008), &v), IMS_MEM_OK);
	assert_int_equal(v & 0xff, 0x99);
	/* Past the region: absent. */
	assert_int_equal(ims_mem_read64(m, UINT64_C(0x100002000), &v), IMS_MEM_ABORT);
	assert_int_equal(ims_mem_read(m, UINT64_C(0x100001ff8), b, 16), IMS_MEM_ABORT);
	ims_mem_free(m);
	free(host);
}

static void test_host_and_ram_adjacent(void **state)
{
	struct ims_mem *m = new_mem(32);
	uint8_t *host = calloc(1, FR);
	uint8_t w[32], r[32];

	(void)state;
	assert_non_null(host);
	for (unsigned i = 0; i < sizeof(w); i++)
		w[i] = (uint8_t)(0x80 + i);
	assert_int_equal(ims_mem_add_ram(m, 0x1000, FR), 0);
	assert_int_equal(ims_mem_map_host(m, 0x2000, FR, host, true), 0);
	/* One access through a RAM frame and a host frame. */
	assert_int_equal(ims_mem_write(m, 0x2000 - 16, w, 32), IMS_MEM_OK);
	assert_int_equal(ims_mem_read(m, 0x2000 - 16, r, 32), IMS_MEM_OK);
	assert_memory_equal(w, r, 32);
	assert_memory_equal(host, w + 16, 16);
	ims_mem_free(m);
	free(host);
}

static void test_read_only_host(void **state)
{
	struct ims_mem *m = new_mem(32);
	uint8_t *host = malloc(FR), copy[FR];
	uint8_t w[32], r[32];
	uint64_t v;

	(void)state;
	assert_non_null(host);
	for (unsigned i = 0; i < FR; i++)
		host[i] = (uint8_t)(i ^ 0x5a);
	memcpy(copy, host, FR);
	memset(w, 0xee, sizeof(w));
	assert_int_equal(ims_mem_add_ram(m, 0x1000, FR), 0);
	assert_int_equal(ims_mem_map_host(m, 0x2000, FR, host, false), 0);
	/* Reads work, writes abort and change nothing. */
	assert_int_equal(ims_mem_read64(m, 0x2000, &v), IMS_MEM_OK);
	assert_int_equal(v & 0xff, 0x5a);
	assert_int_equal(ims_mem_write64(m, 0x2000, 0), IMS_MEM_ABORT);
	assert_int_equal(ims_mem_write(m, 0x2010, w, 4), IMS_MEM_ABORT);
	assert_memory_equal(host, copy, FR);
	/* A write straddling the writable RAM frame and the read-only frame
	 * changes neither. */
	assert_int_equal(ims_mem_write(m, 0x2000 - 16, w, 32), IMS_MEM_ABORT);
	assert_memory_equal(host, copy, FR);
	assert_int_equal(ims_mem_read(m, 0x2000 - 16, r, 16), IMS_MEM_OK);
	for (unsigned i = 0; i < 16; i++)
		assert_int_equal(r[i], 0);
	ims_mem_free(m);
	free(host);
}

/* ---- accessor regions ---- */

struct acc_state {
	uint8_t data[2 * FR];
	int fail_read, fail_write;
	unsigned reads, writes;
	uint64_t last_off;
	size_t last_len;
};

static int acc_read(void *opaque, uint64_t off, void *buf, size_t len)
{
	struct acc_state *s = opaque;

	s->reads++;
	s->last_off = off;
	s->last_len = len;
	if (s->fail_read)
		return -EIO;
	assert_true(off + len <= sizeof(s->data));
	memcpy(buf, s->data + off, len);
	return 0;
}

static int acc_write(void *opaque, uint64_t off, const void *buf, size_t len)
{
	struct acc_state *s = opaque;

	s->writes++;
	s->last_off = off;
	s->last_len = len;
	if (s->fail_write)
		return -EFAULT;
	assert_true(off + len <= sizeof(s->data));
	memcpy(s->data + off, buf, len);
	return 0;
}

static void test_map_accessor(void **state)
{
	static const struct ims_mem_accessor acc = { .read = acc_read, .write = acc_write };
	static const struct ims_mem_accessor acc_ro = { .read = acc_read };
	static const struct ims_mem_accessor acc_none = { 0 };
	struct acc_state *s = calloc(1, sizeof(*s));
	struct ims_mem *m = new_mem(32);
	uint64_t v;

	(void)state;
	assert_non_null(s);
	s->data[FR + 3] = 0x42;
	assert_int_equal(ims_mem_map_accessor(m, 0x10000, 2 * FR, &acc_none, s), -EINVAL);
	assert_int_equal(ims_mem_map_accessor(m, 0x10000, 2 * FR, NULL, s), -EINVAL);
	assert_int_equal(ims_mem_map_accessor(m, 0x10000, 2 * FR, &acc, s), 0);
	/* Offsets are from the region start. */
	assert_int_equal(ims_mem_read64(m, 0x11000, &v), IMS_MEM_OK);
	assert_int_equal(v, UINT64_C(0x42) << 24);
	assert_int_equal(s->last_off, FR);
	assert_int_equal(s->last_len, 8);
	assert_int_equal(ims_mem_write64(m, 0x10ff8, UINT64_C(0x0807060504030201)), IMS_MEM_OK);
	assert_int_equal(s->data[FR - 8], 0x01);
	assert_int_equal(s->data[FR - 1], 0x08);
	/* A failing accessor is an external abort. */
	s->fail_read = 1;
	assert_int_equal(ims_mem_read64(m, 0x10000, &v), IMS_MEM_ABORT);
	s->fail_read = 0;
	s->fail_write = 1;
	assert_int_equal(ims_mem_write64(m, 0x10000, 1), IMS_MEM_ABORT);
	assert_int_equal(s->data[0], 0);
	s->fail_write = 0;
	assert_int_equal(ims_mem_unmap(m, 0x10000, 2 * FR), 0);
	assert_int_equal(ims_mem_read64(m, 0x10000, &v), IMS_MEM_ABORT);

	/* Without a write callback the region is read-only. */
	assert_int_equal(ims_mem_map_accessor(m, 0x10000, 2 * FR, &acc_ro, s), 0);
	s->writes = 0;
	assert_int_equal(ims_mem_write64(m, 0x10000, 1), IMS_MEM_ABORT);
	assert_int_equal(s->writes, 0);
	assert_int_equal(ims_mem_read64(m, 0x10000, &v), IMS_MEM_OK);
	ims_mem_free(m);
	free(s);
}

/* ---- overlaps and unmap ---- */

static void test_overlap_refused(void **state)
{
	struct ims_mem *m = new_mem(32);
	uint8_t *h1 = calloc(1, 4 * FR), *h2 = calloc(1, 4 * FR);
	static const struct ims_mem_accessor acc = { .read = acc_read, .write = acc_write };
	struct acc_state *s = calloc(1, sizeof(*s));
	uint64_t v;

	(void)state;
	assert_non_null(h1);
	assert_non_null(h2);
	assert_non_null(s);
	assert_int_equal(ims_mem_add_ram(m, 0x1000, FR), 0);
	assert_int_equal(ims_mem_map_host(m, 0x10000, 4 * FR, h1, true), 0);
	h1[0] = 0xab;

	/* RAM over a host region: -EEXIST, and no frame was added, not even
	 * the part outside the region. */
	assert_int_equal(ims_mem_add_ram(m, 0xe000, 4 * FR), -EEXIST);
	assert_int_equal(ims_mem_add_ram(m, 0x13000, 2 * FR), -EEXIST);
	assert_int_equal(ims_mem_ram_frames(m), 1);
	assert_false(ims_mem_is_backed(m, 0xe000, FR));
	assert_false(ims_mem_is_backed(m, 0x14000, FR));

	/* A region over RAM, over a region, partly or wholly: -EEXIST. */
	assert_int_equal(ims_mem_map_host(m, 0x0000, 2 * FR, h2, true), -EEXIST);
	assert_int_equal(ims_mem_map_host(m, 0x1000, FR, h2, true), -EEXIST);
	assert_int_equal(ims_mem_map_host(m, 0x12000, 4 * FR, h2, true), -EEXIST);
	assert_int_equal(ims_mem_map_host(m, 0x11000, FR, h2, true), -EEXIST);
	assert_int_equal(ims_mem_map_accessor(m, 0xf000, 2 * FR, &acc, s), -EEXIST);
	assert_int_equal(ims_mem_map_accessor(m, 0x0000, 4 * FR, &acc, s), -EEXIST);
	/* A large region containing one RAM frame away from its ends (refused
	 * before the buffer is ever used). */
	assert_int_equal(ims_mem_map_host(m, 0, 0x10000, h2, true), -EEXIST);

	/* Nothing changed: the old mappings answer as before, the new ranges
	 * outside them are still absent. */
	assert_false(ims_mem_is_backed(m, 0x0000, FR));
	assert_false(ims_mem_is_backed(m, 0x14000, FR));
	assert_int_equal(ims_mem_read64(m, 0x10000, &v), IMS_MEM_OK);
	assert_int_equal(v, 0xab);
	assert_int_equal(ims_mem_read64(m, 0x1000, &v), IMS_MEM_OK);
	assert_int_equal(v, 0);
	assert_int_equal(s->reads + s->writes, 0);

	/* Adjacent is not overlapping. */
	assert_int_equal(ims_mem_map_host(m, 0x14000, FR, h2, true), 0);
	assert_int_equal(ims_mem_map_accessor(m, 0x2000, FR, &acc, s), 0);
	assert_int_equal(ims_mem_add_ram(m, 0xf000, FR), 0);
	ims_mem_free(m);
	free(h1);
	free(h2);
	free(s);
}

static void test_unmap(void **state)
{
	struct ims_mem *m = new_mem(32);
	uint8_t *host = calloc(1, 2 * FR);
	uint64_t v;

	(void)state;
	assert_non_null(host);
	assert_int_equal(ims_mem_add_ram(m, 0x1000, 4 * FR), 0);
	assert_int_equal(ims_mem_write64(m, 0x2000, 77), IMS_MEM_OK);
	assert_int_equal(ims_mem_write64(m, 0x3000, 88), IMS_MEM_OK);
	/* Remove one RAM frame out of the middle. */
	assert_int_equal(ims_mem_unmap(m, 0x2000, FR), 0);
	assert_int_equal(ims_mem_ram_frames(m), 3);
	assert_int_equal(ims_mem_read64(m, 0x2000, &v), IMS_MEM_ABORT);
	assert_int_equal(ims_mem_read64(m, 0x3000, &v), IMS_MEM_OK);
	assert_int_equal(v, 88);
	/* Re-adding gives a fresh zero frame. */
	assert_int_equal(ims_mem_add_ram(m, 0x2000, FR), 0);
	assert_int_equal(ims_mem_read64(m, 0x2000, &v), IMS_MEM_OK);
	assert_int_equal(v, 0);
	/* Unmapping absent memory is fine. */
	assert_int_equal(ims_mem_unmap(m, 0x100000, 16 * FR), 0);
	assert_int_equal(ims_mem_ram_frames(m), 4);

	/* A host region can be removed and the range reused for RAM. */
	assert_int_equal(ims_mem_map_host(m, 0x20000, 2 * FR, host, true), 0);
	assert_int_equal(ims_mem_add_ram(m, 0x20000, FR), -EEXIST);
	assert_int_equal(ims_mem_unmap(m, 0x20000, 2 * FR), 0);
	assert_false(ims_mem_is_backed(m, 0x20000, 1));
	assert_int_equal(ims_mem_add_ram(m, 0x20000, FR), 0);
	/* A range covering RAM and a region removes both. */
	assert_int_equal(ims_mem_map_host(m, 0x21000, FR, host, true), 0);
	assert_int_equal(ims_mem_unmap(m, 0x1000, 0x21000), 0);
	assert_int_equal(ims_mem_ram_frames(m), 0);
	assert_false(ims_mem_is_backed(m, 0x21000, 1));

	/* Cutting a region in part: if refused, nothing changed. */
	assert_int_equal(ims_mem_add_ram(m, 0x1000, FR), 0);
	assert_int_equal(ims_mem_map_host(m, 0x20000, 2 * FR, host, true), 0);
	if (ims_mem_unmap(m, 0x0000, 0x21000) != 0) {
		assert_true(ims_mem_is_backed(m, 0x20000, 2 * FR));
		assert_true(ims_mem_is_backed(m, 0x1000, FR));
		assert_int_equal(ims_mem_ram_frames(m), 1);
	}
	ims_mem_free(m);
	free(host);
}

/* ---- injected aborts ---- */

static void test_inject_abort(void **state)
{
	struct ims_mem *m = new_mem(32);
	uint8_t b[16], w[16];
	uint64_t v;

	(void)state;
	memset(w, 0xcc, sizeof(w));
	assert_int_equal(ims_mem_add_ram(m, 0x1000, 2 * FR), 0);
	assert_int_equal(ims_mem_write64(m, 0x1100, 5), IMS_MEM_OK);
	assert_int_equal(ims_mem_inject_abort(m, 0x1103, 1), 0);
	/* Any access touching the byte aborts; its neighbours do not. */
	assert_int_equal(ims_mem_read64(m, 0x1100, &v), IMS_MEM_ABORT);
	assert_int_equal(ims_mem_read(m, 0x1103, b, 1), IMS_MEM_ABORT);
	assert_int_equal(ims_mem_read(m, 0x1100, b, 3), IMS_MEM_OK);
	assert_int_equal(ims_mem_read(m, 0x1104, b, 4), IMS_MEM_OK);
	assert_int_equal(ims_mem_read64(m, 0x10f8, &v), IMS_MEM_OK);
	assert_int_equal(ims_mem_read64(m, 0x1108, &v), IMS_MEM_OK);
	/* A write touching it aborts and changes nothing around it. */
	assert_int_equal(ims_mem_write(m, 0x10f8, w, 16), IMS_MEM_ABORT);
	assert_int_equal(ims_mem_write64(m, 0x1100, 9), IMS_MEM_ABORT);
	ims_mem_clear_aborts(m);
	assert_int_equal(ims_mem_read64(m, 0x1100, &v), IMS_MEM_OK);
	assert_int_equal(v, 5);
	assert_int_equal(ims_mem_read64(m, 0x10f8, &v), IMS_MEM_OK);
	assert_int_equal(v, 0);
	/* Several single addresses; the limit is 16. */
	for (unsigned i = 0; i < 16; i++)
		assert_int_equal(ims_mem_inject_abort(m, 0x2000 + 8 * i, 1), 0);
	assert_int_equal(ims_mem_inject_abort(m, 0x3000, 1), -ENOSPC);
	for (unsigned i = 0; i < 16; i++)
		assert_int_equal(ims_mem_read64(m, 0x2000 + 8 * i, &v), IMS_MEM_ABORT);
	assert_int_equal(ims_mem_read64(m, 0x2080, &v), IMS_MEM_OK);
	ims_mem_clear_aborts(m);
	for (unsigned i = 0; i < 16; i++)
		assert_int_equal(ims_mem_read64(m, 0x2000 + 8 * i, &v), IMS_MEM_OK);
	assert_int_equal(ims_mem_inject_abort(m, 0x1000, 0), -EINVAL);
	assert_int_equal(ims_mem_inject_abort(m, ~UINT64_C(0), 2), -EINVAL);
	ims_mem_free(m);
}

static void test_inject_abort_host(void **state)
{
	struct ims_mem *m = new_mem(32);
	uint8_t *host = calloc(1, FR);
	uint64_t v;

	(void)state;
	assert_non_null(host);
	assert_int_equal(ims_mem_map_host(m, 0x8000, FR, host, true), 0);
	assert_int_equal(ims_mem_inject_abort(m, 0x8ff8, 1), 0);
	assert_int_equal(ims_mem_read64(m, 0x8ff8, &v), IMS_MEM_ABORT);
	assert_int_equal(ims_mem_write64(m, 0x8ff8, 1), IMS_MEM_ABORT);
	assert_int_equal(host[FR - 8], 0);
	assert_int_equal(ims_mem_read64(m, 0x8ff0, &v), IMS_MEM_OK);
	ims_mem_free(m);
	free(host);
}

/* ---- brute-force reference ---- */

/* splitmix64: a fixed, portable sequence from a fixed seed. */
static uint64_t rnd(uint64_t *s)
{
	uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static uint64_t rnd_below(uint64_t *s, uint64_t n)
{
	return rnd(s) % n;
}

/*
 * A 2^16-byte address space of 16 frames.  Frames 4-5 are a writable host
 * region and frame 9 a read-only one, fixed for the whole run; the rest come
 * and go with add_ram / unmap.  The model is a byte array plus, per frame,
 * who backs it.
 */
#define BF_BITS 16
#define BF_SIZE (1u << BF_BITS)
#define BF_FRAMES (BF_SIZE / FR)

enum { BF_NONE, BF_RAM, BF_HOST_RW, BF_HOST_RO };

struct bf {
	struct ims_mem *mem;
	uint8_t model[BF_SIZE];
	uint8_t owner[BF_FRAMES];
	uint8_t host_rw[2 * FR], host_ro[FR];
};

static bool bf_ok(const struct bf *b, uint64_t pa, uint64_t len, bool write)
{
	if (len == 0)
		return true;
	if (pa >= BF_SIZE || len > BF_SIZE - pa)
		return false;
	for (uint64_t f = pa / FR; f <= (pa + len - 1) / FR; f++) {
		if (b->owner[f] == BF_NONE)
			return false;
		if (write && b->owner[f] == BF_HOST_RO)
			return false;
	}
	return true;
}

static void bf_check_all(struct bf *b)
{
	static uint8_t buf[BF_SIZE];
	uint64_t ram = 0;

	for (unsigned f = 0; f < BF_FRAMES; f++) {
		bool backed = b->owner[f] != BF_NONE;

		ram += b->owner[f] == BF_RAM;
		assert_int_equal(ims_mem_is_backed(b->mem, (uint64_t)f * FR, FR), backed);
		if (backed) {
			assert_int_equal(ims_mem_read(b->mem, (uint64_t)f * FR, buf, FR), IMS_MEM_OK);
			assert_memory_equal(buf, b->model + (size_t)f * FR, FR);
		}
	}
	assert_int_equal(ims_mem_ram_frames(b->mem), ram);
	/* The host buffers are the model's bytes of their frames. */
	assert_memory_equal(b->host_rw, b->model + 4 * FR, 2 * FR);
	assert_memory_equal(b->host_ro, b->model + 9 * FR, FR);
}

static void bf_run(uint64_t seed, unsigned steps)
{
	struct bf *b = calloc(1, sizeof(*b));
	static uint8_t buf[3 * FR], got[3 * FR];
	uint64_t s = seed;

	assert_non_null(b);
	b->mem = new_mem(BF_BITS);
	for (unsigned i = 0; i < sizeof(b->host_ro); i++)
		b->host_ro[i] = (uint8_t)rnd(&s);
	memcpy(b->model + 9 * FR, b->host_ro, FR);
	assert_int_equal(ims_mem_map_host(b->mem, 4 * FR, 2 * FR, b->host_rw, true), 0);
	assert_int_equal(ims_mem_map_host(b->mem, 9 * FR, FR, b->host_ro, false), 0);
	b->owner[4] = b->owner[5] = BF_HOST_RW;
	b->owner[9] = BF_HOST_RO;

	for (unsigned step = 0; step < steps; step++) {
		unsigned op = (unsigned)rnd_below(&s, 100);

		if (op < 10) {
			/* add_ram over 1-4 frames, possibly past the top. */
			uint64_t f = rnd_below(&s, BF_FRAMES + 2), n = 1 + rnd_below(&s, 4);
			bool inside = f + n <= BF_FRAMES, clash = false;
			int want, rc;

			for (uint64_t i = f; inside && i < f + n; i++)
				clash |= b->owner[i] == BF_HOST_RW || b->owner[i] == BF_HOST_RO;
			want = !inside ? -EINVAL : clash ? -EEXIST : 0;
			rc = ims_mem_add_ram(b->mem, f * FR, n * FR);
			assert_int_equal(rc, want);
			if (rc == 0) {
				for (uint64_t i = f; i < f + n; i++) {
					if (b->owner[i] == BF_RAM)
						continue;
					b->owner[i] = BF_RAM;
					memset(b->model + i * FR, 0, FR);
				}
			}
		} else if (op < 15) {
			/* unmap 1-2 RAM frames (never the fixed regions). */
			uint64_t f = rnd_below(&s, BF_FRAMES - 1), n = 1 + rnd_below(&s, 2);
			bool region = false;

			for (uint64_t i = f; i < f + n; i++)
				region |= b->owner[i] == BF_HOST_RW || b->owner[i] == BF_HOST_RO;
			if (region)
				continue;
			assert_int_equal(ims_mem_unmap(b->mem, f * FR, n * FR), 0);
			for (uint64_t i = f; i < f + n; i++)
				b->owner[i] = BF_NONE;
		} else if (op < 50) {
			/* write: random place and length, up to three frames. */
			uint64_t pa = rnd_below(&s, BF_SIZE + 64), len = rnd_below(&s, sizeof(buf) + 1);
			bool ok = bf_ok(b, pa, len, true);

			for (uint64_t i = 0; i < len; i++)
				buf[i] = (uint8_t)rnd(&s);
			assert_int_equal(ims_mem_write(b->mem, pa, buf, len),
					 ok ? IMS_MEM_OK : IMS_MEM_ABORT);
			if (ok)
				memcpy(b->model + pa, buf, len);
		} else if (op < 60) {
			/* write64 at an 8-byte aligned (or not) address. */
			uint64_t pa = rnd_below(&s, BF_SIZE + 64), v = rnd(&s);
			bool ok;

			if (rnd_below(&s, 8))
				pa &= ~UINT64_C(7);
			ok = !(pa & 7) && bf_ok(b, pa, 8, true);
			assert_int_equal(ims_mem_write64(b->mem, pa, v), ok ? IMS_MEM_OK : IMS_MEM_ABORT);
			if (ok)
				for (unsigned i = 0; i < 8; i++)
					b->model[pa + i] = (uint8_t)(v >> (8 * i));
		} else if (op < 85) {
			uint64_t pa = rnd_below(&s, BF_SIZE + 64), len = rnd_below(&s, sizeof(got) + 1);
			bool ok = bf_ok(b, pa, len, false);

			assert_int_equal(ims_mem_read(b->mem, pa, got, len),
					 ok ? IMS_MEM_OK : IMS_MEM_ABORT);
			if (ok && len)
				assert_memory_equal(got, b->model + pa, len);
		} else {
			uint64_t pa = rnd_below(&s, BF_SIZE + 64), v = 0, want = 0;
			bool ok;

			if (rnd_below(&s, 8))
				pa &= ~UINT64_C(7);
			ok = !(pa & 7) && bf_ok(b, pa, 8, false);
			assert_int_equal(ims_mem_read64(b->mem, pa, &v), ok ? IMS_MEM_OK : IMS_MEM_ABORT);
			if (ok) {
				for (unsigned i = 0; i < 8; i++)
					want |= (uint64_t)b->model[pa + i] << (8 * i);
				assert_int_equal(v, want);
			}
		}
		if (step % 64 == 63)
			bf_check_all(b);
	}
	bf_check_all(b);
	ims_mem_free(b->mem);
	free(b);
}

static void test_bruteforce(void **state)
{
	(void)state;
	bf_run(UINT64_C(0x1234567), 20000);
	bf_run(UINT64_C(42), 20000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_pa_bits),
		cmocka_unit_test(test_pa_bits_limit),
		cmocka_unit_test(test_pa_bits_64_top),
		cmocka_unit_test(test_bad_ranges),
		cmocka_unit_test(test_ram_zero_filled),
		cmocka_unit_test(test_ram_add_keeps_contents),
		cmocka_unit_test(test_cross_frame),
		cmocka_unit_test(test_absent_aborts),
		cmocka_unit_test(test_le64),
		cmocka_unit_test(test_misaligned64),
		cmocka_unit_test(test_map_host),
		cmocka_unit_test(test_host_and_ram_adjacent),
		cmocka_unit_test(test_read_only_host),
		cmocka_unit_test(test_map_accessor),
		cmocka_unit_test(test_overlap_refused),
		cmocka_unit_test(test_unmap),
		cmocka_unit_test(test_inject_abort),
		cmocka_unit_test(test_inject_abort_host),
		cmocka_unit_test(test_bruteforce),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
