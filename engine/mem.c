/*
 * mem.c - the simulated physical address space (see iommusim/mem.h).
 *
 * Simulator-owned frames live in a hash keyed by frame number; externally
 * backed memory (host buffers, accessors) lives in a sorted array of regions,
 * because an image of several GiB must not cost one hash entry per page.
 * Lookups try a one-entry cache first: table walks touch the same frame
 * several times in a row.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <uthash.h>

#include "engine/bits.h"
#include <iommusim/mem.h>

struct frame {
	uint64_t pfn;
	uint8_t *data;
	UT_hash_handle hh;
};

struct region {
	uint64_t first, last; /* inclusive */
	uint8_t *host;        /* direct backing, or NULL */
	bool writable;
	const struct ims_mem_accessor *acc;
	void *opaque;
};

#define MAX_ABORTS 16

struct ims_mem {
	unsigned pa_bits;
	struct frame *frames;
	uint64_t nframes;
	struct region *regions;
	size_t nregions, cap_regions;
	struct frame *last_frame;
	uint64_t aborts[MAX_ABORTS][2];
	unsigned naborts;
};

struct ims_mem *ims_mem_new(unsigned pa_bits)
{
	struct ims_mem *mem;

	if (pa_bits < 1 || pa_bits > 64)
		return NULL;
	mem = calloc(1, sizeof(*mem));
	if (mem)
		mem->pa_bits = pa_bits;
	return mem;
}

void ims_mem_free(struct ims_mem *mem)
{
	struct frame *f, *tmp;

	if (!mem)
		return;
	HASH_ITER(hh, mem->frames, f, tmp) {
		HASH_DEL(mem->frames, f);
		free(f->data);
		free(f);
	}
	free(mem->regions);
	free(mem);
}

unsigned ims_mem_pa_bits(const struct ims_mem *mem)
{
	return mem->pa_bits;
}

uint64_t ims_mem_ram_frames(const struct ims_mem *mem)
{
	return mem->nframes;
}

static bool range_ok(const struct ims_mem *mem, uint64_t pa, uint64_t len)
{
	uint64_t last;

	if (len == 0 || (pa & (IMS_FRAME_SIZE - 1)) || (len & (IMS_FRAME_SIZE - 1)))
		return false;
	last = pa + len - 1;
	if (last < pa)
		return false;
	return mem->pa_bits == 64 || (last >> mem->pa_bits) == 0;
}

static struct frame *find_frame(struct ims_mem *mem, uint64_t pfn)
{
	struct frame *f = mem->last_frame;

	if (f && f->pfn == pfn)
		return f;
	HASH_FIND(hh, mem->frames, &pfn, sizeof(pfn), f);
	if (f)
		mem->last_frame = f;
	return f;
}

/* Index of the region containing pa, or -1. */
static long find_region(const struct ims_mem *mem, uint64_t pa)
{
	size_t lo = 0, hi = mem->nregions;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct region *r = &mem->regions[mid];

		if (pa < r->first)
			hi = mid;
		else if (pa > r->last)
			lo = mid + 1;
		else
			return (long)mid;
	}
	return -1;
}

static bool regions_overlap(const struct ims_mem *mem, uint64_t first, uint64_t last)
{
	for (size_t i = 0; i < mem->nregions; i++)
		if (mem->regions[i].first <= last && first <= mem->regions[i].last)
			return true;
	return false;
}

static bool frames_overlap(struct ims_mem *mem, uint64_t first, uint64_t last)
{
	/* Few frames against a huge range: scan the hash instead of the range. */
	if (((last - first) >> IMS_FRAME_LG2) > mem->nframes) {
		struct frame *f, *tmp;

		HASH_ITER(hh, mem->frames, f, tmp) {
			uint64_t pa = f->pfn << IMS_FRAME_LG2;

			if (pa >= first && pa <= last)
				return true;
		}
		return false;
	}
	for (uint64_t pa = first;; pa += IMS_FRAME_SIZE) {
		if (find_frame(mem, pa >> IMS_FRAME_LG2))
			return true;
		if (last - pa < IMS_FRAME_SIZE)
			break;
	}
	return false;
}

int ims_mem_add_ram(struct ims_mem *mem, uint64_t pa, uint64_t len)
{
	uint64_t n, i;
	struct frame **added;

	if (!range_ok(mem, pa, len))
		return -EINVAL;
	if (regions_overlap(mem, pa, pa + len - 1))
		return -EEXIST;
	n = len >> IMS_FRAME_LG2;
	added = calloc(n, sizeof(*added));
	if (!added)
		return -ENOMEM;
	/* Validate first, commit last: allocate everything before inserting. */
	for (i = 0; i < n; i++) {
		uint64_t pfn = (pa >> IMS_FRAME_LG2) + i;

		if (find_frame(mem, pfn))
			continue;
		added[i] = calloc(1, sizeof(struct frame));
		if (!added[i] || !(added[i]->data = calloc(1, IMS_FRAME_SIZE)))
			goto nomem;
		added[i]->pfn = pfn;
	}
	for (i = 0; i < n; i++) {
		if (!added[i])
			continue;
		HASH_ADD(hh, mem->frames, pfn, sizeof(added[i]->pfn), added[i]);
		mem->nframes++;
	}
	free(added);
	return 0;
nomem:
	for (i = 0; i < n; i++) {
		if (added[i])
			free(added[i]->data);
		free(added[i]);
	}
	free(added);
	return -ENOMEM;
}

static int add_region(struct ims_mem *mem, const struct region *nr)
{
	size_t pos;

	if (regions_overlap(mem, nr->first, nr->last) || frames_overlap(mem, nr->first, nr->last))
		return -EEXIST;
	if (mem->nregions == mem->cap_regions) {
		size_t cap = mem->cap_regions ? mem->cap_regions * 2 : 8;
		struct region *r = realloc(mem->regions, cap * sizeof(*r));

		if (!r)
			return -ENOMEM;
		mem->regions = r;
		mem->cap_regions = cap;
	}
	for (pos = 0; pos < mem->nregions && mem->regions[pos].first < nr->first; pos++)
		;
	memmove(&mem->regions[pos + 1], &mem->regions[pos],
		(mem->nregions - pos) * sizeof(*mem->regions));
	mem->regions[pos] = *nr;
	mem->nregions++;
	return 0;
}

int ims_mem_map_host(struct ims_mem *mem, uint64_t pa, uint64_t len, void *host, bool writable)
{
	struct region r = { .first = pa, .last = pa + len - 1, .host = host, .writable = writable };

	if (!range_ok(mem, pa, len) || !host)
		return -EINVAL;
	return add_region(mem, &r);
}

int ims_mem_map_accessor(struct ims_mem *mem, uint64_t pa, uint64_t len,
			 const struct ims_mem_accessor *acc, void *opaque)
{
	struct region r = { .first = pa, .last = pa + len - 1, .acc = acc, .opaque = opaque };

	if (!range_ok(mem, pa, len) || !acc || !acc->read)
		return -EINVAL;
	r.writable = acc->write != NULL;
	return add_region(mem, &r);
}

int ims_mem_unmap(struct ims_mem *mem, uint64_t pa, uint64_t len)
{
	uint64_t last;
	size_t i;

	if (!range_ok(mem, pa, len))
		return -EINVAL;
	last = pa + len - 1;
	/* Regions must be removed whole. */
	for (i = 0; i < mem->nregions; i++) {
		struct region *r = &mem->regions[i];

		if (r->first <= last && pa <= r->last && (r->first < pa || r->last > last))
			return -EINVAL;
	}
	for (i = 0; i < mem->nregions;) {
		struct region *r = &mem->regions[i];

		if (r->first >= pa && r->last <= last) {
			memmove(r, r + 1, (mem->nregions - i - 1) * sizeof(*r));
			mem->nregions--;
		} else {
			i++;
		}
	}
	for (uint64_t p = pa;; p += IMS_FRAME_SIZE) {
		struct frame *f = find_frame(mem, p >> IMS_FRAME_LG2);

		if (f) {
			HASH_DEL(mem->frames, f);
			if (mem->last_frame == f)
				mem->last_frame = NULL;
			free(f->data);
			free(f);
			mem->nframes--;
		}
		if (last - p < IMS_FRAME_SIZE)
			break;
	}
	return 0;
}

int ims_mem_inject_abort(struct ims_mem *mem, uint64_t pa, uint64_t len)
{
	if (len == 0 || pa + len - 1 < pa)
		return -EINVAL;
	if (mem->naborts == MAX_ABORTS)
		return -ENOSPC;
	mem->aborts[mem->naborts][0] = pa;
	mem->aborts[mem->naborts][1] = pa + len - 1;
	mem->naborts++;
	return 0;
}

void ims_mem_clear_aborts(struct ims_mem *mem)
{
	mem->naborts = 0;
}

static bool injected(const struct ims_mem *mem, uint64_t first, uint64_t last)
{
	for (unsigned i = 0; i < mem->naborts; i++)
		if (mem->aborts[i][0] <= last && first <= mem->aborts[i][1])
			return true;
	return false;
}

/*
 * Access [pa, pa+len) split at frame boundaries.  Every piece is checked
 * before anything is written, so a failed write changes nothing.
 */
static enum ims_mem_status access(struct ims_mem *mem, uint64_t pa, void *rbuf, const void *wbuf,
				  size_t len, bool check_only)
{
	uint64_t cur = pa;
	size_t done = 0;

	if (len == 0)
		return IMS_MEM_OK;
	if (pa + len - 1 < pa)
		return IMS_MEM_ABORT;
	if (mem->pa_bits < 64 && ((pa + len - 1) >> mem->pa_bits))
		return IMS_MEM_ABORT;
	if (mem->naborts && injected(mem, pa, pa + len - 1))
		return IMS_MEM_ABORT;
	while (done < len) {
		size_t chunk = IMS_FRAME_SIZE - (cur & (IMS_FRAME_SIZE - 1));
		struct frame *f;

		if (chunk > len - done)
			chunk = len - done;
		f = find_frame(mem, cur >> IMS_FRAME_LG2);
		if (f) {
			uint8_t *p = f->data + (cur & (IMS_FRAME_SIZE - 1));

			if (!check_only) {
				if (rbuf)
					memcpy((uint8_t *)rbuf + done, p, chunk);
				else
					memcpy(p, (const uint8_t *)wbuf + done, chunk);
			}
		} else {
			long ri = find_region(mem, cur);
			struct region *r;

			if (ri < 0)
				return IMS_MEM_ABORT;
			r = &mem->regions[ri];
			if (chunk > r->last - cur + 1)
				chunk = r->last - cur + 1;
			if (wbuf && !r->writable)
				return IMS_MEM_ABORT;
			if (!check_only) {
				uint64_t off = cur - r->first;

				if (r->host) {
					if (rbuf)
						memcpy((uint8_t *)rbuf + done, r->host + off, chunk);
					else
						memcpy(r->host + off, (const uint8_t *)wbuf + done,
						       chunk);
				} else if (rbuf) {
					if (r->acc->read(r->opaque, off, (uint8_t *)rbuf + done, chunk))
						return IMS_MEM_ABORT;
				} else if (r->acc->write(r->opaque, off,
							 (const uint8_t *)wbuf + done, chunk)) {
					return IMS_MEM_ABORT;
				}
			}
		}
		done += chunk;
		cur += chunk;
	}
	return IMS_MEM_OK;
}

bool ims_mem_is_backed(const struct ims_mem *mem, uint64_t pa, uint64_t len)
{
	uint8_t probe;

	/* check_only never touches the buffer; it only selects "read". */
	return access((struct ims_mem *)mem, pa, &probe, NULL, len, true) == IMS_MEM_OK;
}

enum ims_mem_status ims_mem_read(struct ims_mem *mem, uint64_t pa, void *buf, size_t len)
{
	return access(mem, pa, buf, NULL, len, false);
}

enum ims_mem_status ims_mem_write(struct ims_mem *mem, uint64_t pa, const void *buf, size_t len)
{
	enum ims_mem_status st = access(mem, pa, NULL, buf, len, true);

	if (st != IMS_MEM_OK)
		return st;
	return access(mem, pa, NULL, buf, len, false);
}

enum ims_mem_status ims_mem_read64(struct ims_mem *mem, uint64_t pa, uint64_t *val)
{
	uint8_t b[8];
	enum ims_mem_status st;
	struct frame *f;

	if (pa & 7)
		return IMS_MEM_ABORT;
	/* Fast path: an owned frame and no injected aborts. */
	if (!mem->naborts && (mem->pa_bits == 64 || !(pa >> mem->pa_bits)) &&
	    (f = find_frame(mem, pa >> IMS_FRAME_LG2))) {
		memcpy(b, f->data + (pa & (IMS_FRAME_SIZE - 1)), 8);
	} else {
		st = ims_mem_read(mem, pa, b, 8);
		if (st != IMS_MEM_OK)
			return st;
	}
	*val = (uint64_t)b[0] | (uint64_t)b[1] << 8 | (uint64_t)b[2] << 16 |
	       (uint64_t)b[3] << 24 | (uint64_t)b[4] << 32 | (uint64_t)b[5] << 40 |
	       (uint64_t)b[6] << 48 | (uint64_t)b[7] << 56;
	return IMS_MEM_OK;
}

enum ims_mem_status ims_mem_write64(struct ims_mem *mem, uint64_t pa, uint64_t val)
{
	uint8_t b[8];

	if (pa & 7)
		return IMS_MEM_ABORT;
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(val >> (8 * i));
	return ims_mem_write(mem, pa, b, 8);
}
