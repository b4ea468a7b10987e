/*
 * bits.h - the project's bitfield helpers.
 *
 * Wide descriptors are arrays of little-endian 64-bit words; a field is named
 * by a contiguous mask and read or built with FIELD_GET / FIELD_PREP.  The
 * masks are compile-time constants everywhere in the project, so the checks
 * below reject an empty or non-contiguous mask at build time.
 */
#ifndef IMS_BITS_H
#define IMS_BITS_H

#include <stdbool.h>
#include <stdint.h>

/* Number of elements of an array (not a pointer). */
#define IMS_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define BIT(n) (UINT64_C(1) << (n))
/* Bits h..l inclusive, h >= l. */
#define GENMASK(h, l) ((~UINT64_C(0) >> (63 - (h))) & (~UINT64_C(0) << (l)))

/* Evaluates to 0; fails to compile when cond is false. */
#define IMS_BUILD_CHECK(cond) (0 * sizeof(struct { int ims_check_ : (cond) ? 1 : -1; }))

#define IMS_MASK_OK(m) ((m) != 0 && (((m) & ((m) + ((m) & -(m)))) == 0))

#define FIELD_SHIFT(m) ((unsigned)__builtin_ctzll(m))
#define FIELD_GET(m, v) \
	((((uint64_t)(v) & (m)) >> FIELD_SHIFT(m)) + IMS_BUILD_CHECK(IMS_MASK_OK(m)))
#define FIELD_PREP(m, v) \
	((((uint64_t)(v) << FIELD_SHIFT(m)) & (m)) + IMS_BUILD_CHECK(IMS_MASK_OK(m)))
/* Largest value a field can hold. */
#define FIELD_MAX(m) ((m) >> FIELD_SHIFT(m))

static inline uint64_t ims_mask_lg2(unsigned lg2)
{
	return lg2 >= 64 ? ~UINT64_C(0) : (UINT64_C(1) << lg2) - 1;
}

/* True for a power of two (0 is not one). */
static inline bool ims_is_pow2(uint64_t x)
{
	return x && !(x & (x - 1));
}

/* One step of xorshift64* (Marsaglia's xorshift with a multiplicative
 * output step); *state must not be zero. */
static inline uint64_t ims_xorshift64s(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * UINT64_C(0x2545f4914f6cdd1d);
}

/* The value of a hexadecimal digit, or -1. */
static inline int ims_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

#endif
