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
 * The books are kept in two forms, both small per page:
 *   - by address: a chunk per 512 pages (2 MiB of 4 KiB pages) of one
 *     address space that has any page pinned, holding each page's pin
 *     count and frame (12 bytes a page);
 *   - by frame: an extent per run of frames handed out together, ordered
 *     by frame, giving the address space and address of its first page;
 *     an extent goes when none of its frames is in use.
 * A hashed record per page cost about 190 bytes a page; this is about 14.
 *
 * The table is not locked: every transport serialises calls into the
 * dispatcher.
 */
#include <errno.h>
#include <stdlib.h>

#include <uthash.h>

#include "iommufd/iofd_int.h"

#define CHUNK_PAGES 512u /* 2 MiB of 4 KiB pages: also the frame alignment unit */

/* An address space with pinned pages, and how to reach its memory. */
struct pin_mm {
	UT_hash_handle hh;
	uint64_t mm;
	struct iofd_uaccess ua; /* a copy: the pinner's structure may go first */
	uint64_t pages;         /* pages of it pinned */
};

struct chunk_key {
	uint64_t mm;
	uint64_t index; /* page number / CHUNK_PAGES */
};

/* CHUNK_PAGES consecutive pages of one address space. */
struct pin_chunk {
	UT_hash_handle hh;
	struct chunk_key key;
	unsigned live; /* pages with pins */
	uint32_t pins[CHUNK_PAGES];
	uint64_t frame[CHUNK_PAGES]; /* valid where pins > 0 */
};

/* A run of frames handed out by one pin call: frame base + i is the page
 * first_page + i pages, while that page holds it. */
struct pin_extent {
	RB_ENTRY(pin_extent) rb;
	uint64_t base, count;
	uint64_t first_page;
	uint64_t live; /* frames of it in use */
	struct pin_mm *owner;
};

RB_HEAD(pin_extents, pin_extent);

static int extent_cmp(struct pin_extent *a, struct pin_extent *b)
{
	return a->base < b->base ? -1 : a->base > b->base;
}

RB_GENERATE_STATIC(pin_extents, pin_extent, rb, extent_cmp)

static struct pin_mm *pin_mms;
static struct pin_chunk *chunks;
static struct pin_extents extents = RB_INITIALIZER(&extents);
static struct pin_extent *last_extent; /* the last one found: DMA reuses it */
static size_t pinned_pages;
/* Frame numbers are never reused, so a stale frame can never alias. */
static uint64_t pin_next_frame = IOFD_PIN_FIRST_FRAME; /* from 4 GiB up */

static struct pin_chunk *chunk_find(uint64_t mm, uint64_t page)
{
	struct chunk_key k = {mm, page / iopt_page_size() / CHUNK_PAGES};
	struct pin_chunk *c;
	HASH_FIND(hh, chunks, &k, sizeof(k), c);
	return c;
}

static unsigned chunk_slot(uint64_t page)
{
	return (unsigned)(page / iopt_page_size() % CHUNK_PAGES);
}

unsigned iofd_pin_count(uint64_t mm, uint64_t page)
{
	struct pin_chunk *c = chunk_find(mm, page);
	return c ? c->pins[chunk_slot(page)] : 0;
}

bool iofd_pin_frame(uint64_t mm, uint64_t page, uint64_t *frame)
{
	struct pin_chunk *c = chunk_find(mm, page);
	if (!c || !c->pins[chunk_slot(page)])
		return false;
	*frame = c->frame[chunk_slot(page)];
	return true;
}

/* The extent holding frame (in use or not), or NULL. */
static struct pin_extent *extent_of(uint64_t frame)
{
	struct pin_extent *x = last_extent;
	if (x && frame >= x->base && frame - x->base < x->count)
		return x;
	struct pin_extent *n = RB_ROOT(&extents), *best = NULL;
	while (n) {
		if (n->base <= frame) {
			best = n;
			n = RB_RIGHT(n, rb);
		} else {
			n = RB_LEFT(n, rb);
		}
	}
	if (!best || frame - best->base >= best->count)
		return NULL;
	return last_extent = best;
}

/* Which address space and page use frame now, if any. */
static struct pin_extent *frame_owner(uint64_t frame, uint64_t *page)
{
	struct pin_extent *x = extent_of(frame);
	if (!x)
		return NULL;
	uint64_t pg = x->first_page + (frame - x->base) * iopt_page_size();
	struct pin_chunk *c = chunk_find(x->owner->mm, pg);
	unsigned i = chunk_slot(pg);
	if (!c || !c->pins[i] || c->frame[i] != frame)
		return NULL;
	*page = pg;
	return x;
}

bool iofd_pin_lookup_frame(uint64_t frame, uint64_t *mm, uint64_t *page)
{
	struct pin_extent *x = frame_owner(frame, page);
	if (x)
		*mm = x->owner->mm;
	return x != NULL;
}

/* Drop an address space's record when no page of it is pinned. */
static void pin_mm_drop_unused(struct pin_mm *owner)
{
	if (!owner->pages) {
		HASH_DEL(pin_mms, owner);
		free(owner);
	}
}

int iofd_pin_pages(const struct iofd_uaccess *ua, uint64_t first_page, uint64_t npages,
		   uint64_t *frames)
{
	const uint64_t psz = iopt_page_size();
	const uint64_t mm = ua->mm;
	if (!npages)
		return 0;
	struct pin_mm *owner;
	HASH_FIND(hh, pin_mms, &mm, sizeof(mm), owner);
	bool new_owner = !owner;
	if (new_owner) {
		if (!(owner = calloc(1, sizeof(*owner))))
			return -ENOMEM;
		owner->mm = mm;
		owner->ua = *ua;
		HASH_ADD(hh, pin_mms, mm, sizeof(owner->mm), owner);
	}
	/* Make every chunk and the extent first, so that running out of
	 * memory changes nothing (fresh chunks are empty and dropped). */
	struct pin_extent *x = calloc(1, sizeof(*x));
	uint64_t nfresh = 0;
	bool failed = !x;
	struct pin_chunk *c = NULL;
	for (uint64_t i = 0; i < npages && !failed; i++) {
		uint64_t pg = first_page + i * psz;
		/* The pages are consecutive: a chunk serves 512 of them. */
		if (!c || chunk_slot(pg) == 0)
			c = chunk_find(mm, pg);
		if (!c) {
			if (!(c = calloc(1, sizeof(*c)))) {
				failed = true;
				break;
			}
			c->key = (struct chunk_key){mm, pg / psz / CHUNK_PAGES};
			HASH_ADD(hh, chunks, key, sizeof(c->key), c);
		}
		if (!c->pins[chunk_slot(pg)])
			nfresh++;
	}
	if (failed) {
		for (uint64_t i = 0; i < npages; i++) {
			struct pin_chunk *c = chunk_find(mm, first_page + i * psz);
			if (c && !c->live) {
				HASH_DEL(chunks, c);
				free(c);
			}
		}
		free(x);
		if (new_owner)
			pin_mm_drop_unused(owner);
		return -ENOMEM;
	}
	if (nfresh) {
		/* Start the run at the address's offset within 2 MiB. */
		uint64_t want = (first_page / psz) % CHUNK_PAGES;
		uint64_t base = pin_next_frame + ((want - pin_next_frame % CHUNK_PAGES) % CHUNK_PAGES);
		pin_next_frame = base + npages;
		*x = (struct pin_extent){.base = base, .count = npages, .first_page = first_page,
					 .live = nfresh, .owner = owner};
		RB_INSERT(pin_extents, &extents, x);
		owner->pages += nfresh;
		pinned_pages += nfresh;
	} else {
		free(x);
	}
	c = NULL;
	for (uint64_t i = 0; i < npages; i++) {
		uint64_t pg = first_page + i * psz;
		if (!c || chunk_slot(pg) == 0)
			c = chunk_find(mm, pg);
		unsigned s = chunk_slot(pg);
		if (!c->pins[s]++) {
			c->frame[s] = x->base + i;
			c->live++;
		}
		if (frames)
			frames[i] = c->frame[s];
	}
	return 0;
}

void iofd_unpin_pages(uint64_t mm, uint64_t first_page, uint64_t npages)
{
	const uint64_t psz = iopt_page_size();
	for (uint64_t i = 0; i < npages; i++) {
		uint64_t pg = first_page + i * psz;
		struct pin_chunk *c = chunk_find(mm, pg);
		unsigned s = chunk_slot(pg);
		if (!c || !c->pins[s] || --c->pins[s])
			continue;
		struct pin_extent *x = extent_of(c->frame[s]);
		struct pin_mm *owner = x->owner;
		if (!--x->live) {
			RB_REMOVE(pin_extents, &extents, x);
			if (last_extent == x)
				last_extent = NULL;
			free(x);
		}
		if (!--c->live) {
			HASH_DEL(chunks, c);
			free(c);
		}
		pinned_pages--;
		owner->pages--;
		pin_mm_drop_unused(owner);
	}
}

size_t iofd_pinned_pages(void)
{
	return pinned_pages;
}

int iofd_frame_access(uint64_t pa, void *buf, size_t len, bool write)
{
	const uint64_t psz = iopt_page_size();
	uint8_t *b = buf;
	while (len) {
		uint64_t frame = pa / psz, off = pa % psz, page;
		size_t n = psz - off < len ? (size_t)(psz - off) : len;
		struct pin_extent *x = frame_owner(frame, &page);
		if (!x)
			return -EFAULT;
		const struct iofd_uaccess *ua = &x->owner->ua;
		int rc = write ? ua->write(ua->opaque, page + off, b, n)
			       : ua->read(ua->opaque, page + off, b, n);
		if (rc)
			return -EFAULT;
		pa += n;
		b += n;
		len -= n;
	}
	return 0;
}
