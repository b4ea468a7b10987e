/*
 * iommufd/pin.c - pinned user pages and their simulated page frames.
 *
 * When a domain or an access needs the pages behind a mapping, Linux pins
 * them: each host page gets one pin per pinning owner (an IOAS_MAP's
 * pages; COPY shares them), the page cannot move, and its physical frame
 * number goes into the IO page table.  The model keeps the same books:
 * one process-wide table, so that every /dev/iommu context of the process
 * sees the pins (the selftest reopens /dev/iommu to check that none are
 * left), keyed by (address space, page address).  A page gets a simulated
 * frame number when its first pin is taken and keeps it until its last pin
 * goes.  The frames of pages pinned together are consecutive and start at
 * the same offset within 2 MiB as the address (so a 2 MiB-aligned buffer
 * gets 2 MiB-aligned frames, as a huge page has), which lets a domain use
 * large IO pages where real memory would be contiguous.
 *
 * A pinned frame is the client's page itself: the simulated IOMMU reads and
 * writes it through the user access of whoever pinned it first
 * (iofd_frame_access), kept per address space for as long as any of its
 * pages is pinned.
 *
 * The table is not locked: every transport serialises calls into the
 * dispatcher.
 */
#include <errno.h>
#include <stdlib.h>

#include <uthash.h>

#include "iommufd/iofd_int.h"

struct pin_key {
	uint64_t mm;
	uint64_t page; /* page-aligned user address */
};

/* An address space with pinned pages, and how to reach its memory. */
struct pin_mm {
	UT_hash_handle hh;
	uint64_t mm;
	struct iofd_uaccess ua; /* a copy: the pinner's structure may go first */
	uint64_t pages;         /* entries naming it */
};

struct pin_entry {
	UT_hash_handle hh;        /* by key */
	UT_hash_handle hh_frame;  /* by frame */
	struct pin_key key;
	uint64_t frame;
	unsigned pins;
	struct pin_mm *owner;
};

static struct pin_mm *pin_mms;
static struct pin_entry *pin_by_key;
static struct pin_entry *pin_by_frame;
/* Frame numbers are never reused, so a stale frame can never alias. */
static uint64_t pin_next_frame = IOFD_PIN_FIRST_FRAME; /* from 4 GiB up */

#define HUGE_FRAMES 512u /* 2 MiB of 4 KiB pages */

static struct pin_entry *pin_find(uint64_t mm, uint64_t page)
{
	struct pin_key k = {mm, page};
	struct pin_entry *e;
	HASH_FIND(hh, pin_by_key, &k, sizeof(k), e);
	return e;
}

unsigned iofd_pin_count(uint64_t mm, uint64_t page)
{
	struct pin_entry *e = pin_find(mm, page);
	return e ? e->pins : 0;
}

bool iofd_pin_frame(uint64_t mm, uint64_t page, uint64_t *frame)
{
	struct pin_entry *e = pin_find(mm, page);
	if (e)
		*frame = e->frame;
	return e != NULL;
}

static struct pin_entry *pin_find_frame(uint64_t frame)
{
	struct pin_entry *e;
	HASH_FIND(hh_frame, pin_by_frame, &frame, sizeof(frame), e);
	return e;
}

/* Drop an address space's record when no page of it is pinned. */
static void pin_mm_drop_unused(struct pin_mm *owner)
{
	if (!owner->pages) {
		HASH_DEL(pin_mms, owner);
		free(owner);
	}
}

bool iofd_pin_lookup_frame(uint64_t frame, uint64_t *mm, uint64_t *page)
{
	struct pin_entry *e = pin_find_frame(frame);
	if (e) {
		*mm = e->key.mm;
		*page = e->key.page;
	}
	return e != NULL;
}

int iofd_pin_pages(const struct iofd_uaccess *ua, uint64_t first_page, uint64_t npages,
		   uint64_t *frames)
{
	const uint64_t psz = iopt_page_size();
	const uint64_t mm = ua->mm;
	struct pin_mm *owner;
	HASH_FIND(hh, pin_mms, &mm, sizeof(mm), owner);
	if (!owner) {
		if (!(owner = calloc(1, sizeof(*owner))))
			return -ENOMEM;
		owner->mm = mm;
		owner->ua = *ua;
		HASH_ADD(hh, pin_mms, mm, sizeof(owner->mm), owner);
	}
	/* Allocate every entry first so that running out of memory changes
	 * nothing. */
	struct pin_entry **fresh = calloc(npages ? npages : 1, sizeof(*fresh));
	if (!fresh)
		return -ENOMEM;
	uint64_t nfresh = 0;
	for (uint64_t i = 0; i < npages; i++) {
		if (pin_find(mm, first_page + i * psz))
			continue;
		if (!(fresh[i] = calloc(1, sizeof(**fresh)))) {
			for (uint64_t j = 0; j < i; j++)
				free(fresh[j]);
			free(fresh);
			pin_mm_drop_unused(owner);
			return -ENOMEM;
		}
		nfresh++;
	}
	if (nfresh) {
		/* Start the run at the address's offset within 2 MiB. */
		uint64_t want = (first_page / psz) % HUGE_FRAMES;
		uint64_t base = pin_next_frame + ((want - pin_next_frame % HUGE_FRAMES) % HUGE_FRAMES);
		pin_next_frame = base + npages;
		for (uint64_t i = 0; i < npages; i++) {
			struct pin_entry *e = fresh[i];
			if (!e)
				continue;
			e->key = (struct pin_key){mm, first_page + i * psz};
			e->frame = base + i;
			e->owner = owner;
			owner->pages++;
			HASH_ADD(hh, pin_by_key, key, sizeof(e->key), e);
			HASH_ADD(hh_frame, pin_by_frame, frame, sizeof(e->frame), e);
		}
	}
	free(fresh);
	for (uint64_t i = 0; i < npages; i++) {
		struct pin_entry *e = pin_find(mm, first_page + i * psz);
		e->pins++;
		if (frames)
			frames[i] = e->frame;
	}
	return 0;
}

void iofd_unpin_pages(uint64_t mm, uint64_t first_page, uint64_t npages)
{
	const uint64_t psz = iopt_page_size();
	for (uint64_t i = 0; i < npages; i++) {
		struct pin_entry *e = pin_find(mm, first_page + i * psz);
		if (!e || --e->pins)
			continue;
		HASH_DELETE(hh, pin_by_key, e);
		HASH_DELETE(hh_frame, pin_by_frame, e);
		e->owner->pages--;
		pin_mm_drop_unused(e->owner);
		free(e);
	}
}

size_t iofd_pinned_pages(void)
{
	return HASH_CNT(hh, pin_by_key);
}

int iofd_frame_access(uint64_t pa, void *buf, size_t len, bool write)
{
	const uint64_t psz = iopt_page_size();
	uint8_t *b = buf;
	while (len) {
		uint64_t frame = pa / psz, off = pa % psz;
		size_t n = psz - off < len ? (size_t)(psz - off) : len;
		struct pin_entry *e = pin_find_frame(frame);
		if (!e)
			return -EFAULT;
		const struct iofd_uaccess *ua = &e->owner->ua;
		int rc = write ? ua->write(ua->opaque, e->key.page + off, b, n)
			       : ua->read(ua->opaque, e->key.page + off, b, n);
		if (rc)
			return -EFAULT;
		pa += n;
		b += n;
		len -= n;
	}
	return 0;
}
