/*
 * test_pin.c - the process-wide pin table (iommufd/pin.c).
 *
 * The rules under test are the table's contract in iommufd/iofd_int.h and
 * the kernel behaviour it stands for: a page holds one pin per pinner and
 * keeps its frame while any pin is held (Linux pins a page's folio and its
 * PFN does not change); frames pinned together are consecutive and share
 * the address's offset within 2 MiB; a frame whose page was unpinned no
 * longer reaches any memory; and the frame of a page reaches that page's
 * bytes.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "iommufd/iofd_int.h"

#define PG 4096ull
#define TWO_MIB (2ull << 20)

/* A 4 MiB buffer aligned to 2 MiB, filled with a pattern. */
static uint8_t *buffer(void)
{
	uint8_t *raw = mmap(NULL, 3 * TWO_MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			    -1, 0);
	assert_true(raw != MAP_FAILED);
	uint8_t *b = (uint8_t *)(((uintptr_t)raw + TWO_MIB - 1) & ~(uintptr_t)(TWO_MIB - 1));
	for (size_t i = 0; i < 2 * TWO_MIB; i += 997)
		b[i] = (uint8_t)(i / 997);
	return b;
}

static void test_runs_are_consecutive_and_aligned(void **state)
{
	(void)state;
	assert_int_equal(iopt_page_size(), PG);
	uint8_t *b = buffer();
	const struct iofd_uaccess *ua = &iofd_uaccess_self;
	uint64_t base = (uintptr_t)b + 5 * PG, frames[600];
	size_t before = iofd_pinned_pages();

	/* 600 pages crossing a 2 MiB boundary: one run of frames. */
	assert_int_equal(iofd_pin_pages(ua, base, 600, frames), 0);
	assert_int_equal(iofd_pinned_pages(), before + 600);
	assert_int_equal(frames[0] % 512, 5);
	for (int i = 1; i < 600; i++)
		assert_int_equal(frames[i], frames[0] + (uint64_t)i);
	for (int i = 0; i < 600; i += 77) {
		uint64_t f, mm = 99, page = 0;
		assert_true(iofd_pin_frame(0, base + (uint64_t)i * PG, &f));
		assert_int_equal(f, frames[i]);
		assert_true(iofd_pin_lookup_frame(frames[i], &mm, &page));
		assert_int_equal(mm, 0);
		assert_int_equal(page, base + (uint64_t)i * PG);
		assert_int_equal(iofd_pin_count(0, base + (uint64_t)i * PG), 1);
	}
	assert_int_equal(iofd_pin_count(0, base - PG), 0);
	assert_int_equal(iofd_pin_count(0, base + 600 * PG), 0);

	/* Pinning again over part of it and beyond: held pages keep their
	 * frames and gain a pin; new ones get new frames. */
	uint64_t again[20];
	assert_int_equal(iofd_pin_pages(ua, base + 590 * PG, 20, again), 0);
	for (int i = 0; i < 10; i++)
		assert_int_equal(again[i], frames[590 + i]);
	assert_int_equal(iofd_pin_count(0, base + 595 * PG), 2);
	assert_int_equal(iofd_pin_count(0, base + 605 * PG), 1);
	assert_int_equal(iofd_pinned_pages(), before + 610);

	/* The frame reaches the page's bytes, across a page boundary too. */
	uint8_t got[64];
	uint64_t pa = frames[100] * PG + PG - 32;
	assert_int_equal(iofd_frame_access(pa, got, sizeof(got), false), 0);
	assert_memory_equal(got, (uint8_t *)(uintptr_t)(base + 101 * PG - 32), sizeof(got));
	memset(got, 0xab, sizeof(got));
	assert_int_equal(iofd_frame_access(pa, got, sizeof(got), true), 0);
	assert_int_equal(((uint8_t *)(uintptr_t)base)[101 * PG + 31], 0xab);

	/* Unpinning: a page with two pins keeps its frame after one goes. */
	iofd_unpin_pages(0, base + 590 * PG, 20);
	assert_int_equal(iofd_pin_count(0, base + 595 * PG), 1);
	assert_int_equal(iofd_pin_count(0, base + 605 * PG), 0);
	uint64_t f, mm, page;
	assert_false(iofd_pin_lookup_frame(again[15], &mm, &page));
	assert_int_equal(iofd_frame_access(again[15] * PG, got, 1, false), -EFAULT);
	assert_true(iofd_pin_frame(0, base + 595 * PG, &f));
	assert_int_equal(f, frames[595]);

	/* Releasing the middle leaves the ends reachable. */
	iofd_unpin_pages(0, base + 100 * PG, 100);
	assert_int_equal(iofd_frame_access(frames[150] * PG, got, 1, false), -EFAULT);
	assert_int_equal(iofd_frame_access(frames[99] * PG, got, 1, false), 0);
	assert_int_equal(iofd_frame_access(frames[200] * PG, got, 1, false), 0);
	iofd_unpin_pages(0, base, 100);
	iofd_unpin_pages(0, base + 200 * PG, 400);
	assert_int_equal(iofd_pinned_pages(), before);
	assert_false(iofd_pin_lookup_frame(frames[599], &mm, &page));
	/* Frames are never handed out again. */
	uint64_t later;
	assert_int_equal(iofd_pin_pages(ua, base, 1, &later), 0);
	assert_true(later > frames[599]);
	iofd_unpin_pages(0, base, 1);
	munmap(b, 2 * TWO_MIB);
}

/* Two address spaces pinning the same address get distinct frames. */
static void test_address_spaces_are_separate(void **state)
{
	(void)state;
	uint8_t *b = buffer();
	struct iofd_uaccess other = iofd_uaccess_self;
	other.mm = 1234;
	uint64_t fa, fb;
	assert_int_equal(iofd_pin_pages(&iofd_uaccess_self, (uintptr_t)b, 1, &fa), 0);
	assert_int_equal(iofd_pin_pages(&other, (uintptr_t)b, 1, &fb), 0);
	assert_true(fa != fb);
	assert_int_equal(iofd_pin_count(0, (uintptr_t)b), 1);
	assert_int_equal(iofd_pin_count(1234, (uintptr_t)b), 1);
	uint64_t mm, page;
	assert_true(iofd_pin_lookup_frame(fb, &mm, &page));
	assert_int_equal(mm, 1234);
	iofd_unpin_pages(1234, (uintptr_t)b, 1);
	assert_int_equal(iofd_pin_count(0, (uintptr_t)b), 1);
	iofd_unpin_pages(0, (uintptr_t)b, 1);
	/* Unpinning what is not pinned changes nothing. */
	iofd_unpin_pages(0, (uintptr_t)b, 1);
	assert_int_equal(iofd_pin_count(0, (uintptr_t)b), 0);
	munmap(b, 2 * TWO_MIB);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_runs_are_consecutive_and_aligned),
		cmocka_unit_test(test_address_spaces_are_separate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
