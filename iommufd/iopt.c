/*
 * iommufd/iopt.c - an IOAS's IO page table description: areas, reserved and
 * allowed ranges as ordered interval maps.
 *
 * The maps are red-black trees keyed by range start (libbsd's <sys/tree.h>);
 * ranges within one tree never overlap, so ordering by start also orders by
 * last, and "the first range meeting [start, last]" is either the range
 * just before `start` (if it reaches it) or the first one at or after it.
 * Ranges are inclusive, so the top of the 64-bit space needs no special case.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "iommufd/iofd_int.h"

static int iopt_node_cmp(struct iopt_node *a, struct iopt_node *b)
{
	return a->start < b->start ? -1 : a->start > b->start;
}

RB_GENERATE_STATIC(iopt_tree, iopt_node, rb, iopt_node_cmp)

void iopt_tree_insert(struct iopt_tree *t, struct iopt_node *n)
{
	RB_INSERT(iopt_tree, t, n);
}

void iopt_tree_remove(struct iopt_tree *t, struct iopt_node *n)
{
	RB_REMOVE(iopt_tree, t, n);
}

struct iopt_node *iopt_tree_min(struct iopt_tree *t)
{
	return RB_MIN(iopt_tree, t);
}

struct iopt_node *iopt_tree_succ(struct iopt_tree *t, struct iopt_node *n)
{
	(void)t;
	return RB_NEXT(iopt_tree, t, n);
}

bool iopt_tree_empty(struct iopt_tree *t)
{
	return RB_EMPTY(t);
}

struct iopt_node *iopt_tree_first(struct iopt_tree *t, uint64_t start, uint64_t last)
{
	struct iopt_node key = {.start = start};
	struct iopt_node *n = RB_NFIND(iopt_tree, t, &key);
	struct iopt_node *prev = n ? RB_PREV(iopt_tree, t, n) : RB_MAX(iopt_tree, t);
	if (prev && prev->last >= start)
		return prev;
	if (n && n->start <= last)
		return n;
	return NULL;
}

struct iopt_node *iopt_tree_next(struct iopt_tree *t, struct iopt_node *n, uint64_t start,
				 uint64_t last)
{
	(void)t;
	(void)start;
	struct iopt_node *next = RB_NEXT(iopt_tree, t, n);
	return next && next->start <= last ? next : NULL;
}

/* ------------------------------------------------------------------ */
/* The IO page table description */

uint64_t iopt_page_size(void)
{
	static uint64_t page;
	if (!page)
		page = (uint64_t)sysconf(_SC_PAGESIZE);
	return page;
}

void iopt_init(struct iopt *iopt, const struct iofd_uaccess *const *caller)
{
	memset(iopt, 0, sizeof(*iopt));
	RB_INIT(&iopt->areas);
	RB_INIT(&iopt->reserved);
	RB_INIT(&iopt->allowed);
	iopt->iova_alignment = 1;
	iopt->large_pages_disabled = false;
	iopt->caller = caller;
}

void iopt_pages_free(struct iofd_pages *pages)
{
	iofd_mfile_put(pages->file);
	free(pages->pin_users);
	free(pages);
}

void iopt_pages_put(struct iofd_pages *pages)
{
	if (pages && --pages->refs == 0)
		iopt_pages_free(pages);
}

static void iopt_free_tree(struct iopt_tree *t, void (*fn)(struct iopt_node *))
{
	struct iopt_node *n;
	while ((n = RB_MIN(iopt_tree, t))) {
		RB_REMOVE(iopt_tree, t, n);
		fn(n);
	}
}

static void iopt_area_free(struct iopt_node *n)
{
	struct iopt_area *area = (struct iopt_area *)n;
	iopt_pages_put(area->pages);
	free(area);
}

static void iopt_node_free(struct iopt_node *n)
{
	free(n);
}

void iopt_fini(struct iopt *iopt)
{
	free(iopt->domains);
	iopt_free_tree(&iopt->areas, iopt_area_free);
	iopt_free_tree(&iopt->reserved, iopt_node_free);
	iopt_free_tree(&iopt->allowed, iopt_node_free);
	while (iopt->resv_list) {
		struct iopt_reserved *r = iopt->resv_list;
		iopt->resv_list = r->next;
		free(r);
	}
}

#define IOPT_MAX_ALIGNMENT (UINT64_C(2) << 20)

static bool is_aligned(uint64_t v, uint64_t align)
{
	return (v & (align - 1)) == 0;
}

/*
 * Where a new area may go: a fixed IOVA must be aligned, must not overflow,
 * must avoid reserved ranges (EINVAL) and existing areas (EEXIST).  The
 * allowed set only steers automatic allocation.
 */
static int iopt_check_fixed(struct iopt *iopt, uint64_t iova, uint64_t length)
{
	uint64_t last;
	if (!is_aligned(iova, iopt->iova_alignment))
		return -EINVAL;
	if (__builtin_add_overflow(iova, length - 1, &last))
		return -EOVERFLOW;
	if (iopt_tree_first(&iopt->reserved, iova, last))
		return -EINVAL;
	if (iopt_tree_first(&iopt->areas, iova, last))
		return -EEXIST;
	return 0;
}

int iopt_range_last(uint64_t start, uint64_t length, uint64_t *last)
{
	if (length == 0)
		return -EINVAL;
	if (__builtin_add_overflow(start, length - 1, last))
		return -EOVERFLOW;
	return 0;
}

int iopt_check_length(struct iopt *iopt, uint64_t length)
{
	if (length == 0 || length > SIZE_MAX - iopt_page_size())
		return -EINVAL;
	if (!is_aligned(length, iopt->iova_alignment))
		return -EINVAL;
	return 0;
}

/* Can [hole_start, hole_last] take length bytes at an A-aligned IOVA whose
 * page offset is `offset`?  Sets *out to the lowest such IOVA. */
static bool iopt_fit(uint64_t hole_start, uint64_t hole_last, uint64_t align, uint64_t offset,
		     uint64_t length, uint64_t *out)
{
	uint64_t cand;
	if (hole_start > hole_last)
		return false;
	if (__builtin_add_overflow(hole_start, align - 1, &cand))
		return false;
	cand = (cand & ~(align - 1)) | offset;
	/* Linux (6.17) refuses a start on the hole's very last byte. */
	if (cand < hole_start || cand >= hole_last || hole_last - cand < length - 1)
		return false;
	*out = cand;
	return true;
}

/* Lowest fit in [lo, hi] avoiding both reserved ranges and areas. */
static bool iopt_fit_span(struct iopt *iopt, uint64_t lo, uint64_t hi, uint64_t align,
			  uint64_t offset, uint64_t length, uint64_t *out)
{
	uint64_t pos = lo;
	for (;;) {
		/* The next obstacle at or after pos, from either tree. */
		struct iopt_node *r = iopt_tree_first(&iopt->reserved, pos, hi);
		struct iopt_node *a = iopt_tree_first(&iopt->areas, pos, hi);
		struct iopt_node *ob = r;
		if (!ob || (a && a->start < ob->start))
			ob = a;
		if (!ob)
			return iopt_fit(pos, hi, align, offset, length, out);
		if (ob->start > pos && iopt_fit(pos, ob->start - 1, align, offset, length, out))
			return true;
		if (ob->last >= hi)
			return false;
		pos = ob->last + 1;
	}
}

int iopt_alloc_iova(struct iopt *iopt, uint64_t *iova, uint64_t uva, uint64_t length)
{
	uint64_t page = iopt_page_size();
	if (length == 0 || length >= UINT64_MAX / 2)
		return -EOVERFLOW;
	uint64_t align = 1;
	while (align < length)
		align <<= 1;
	if (uva) {
		uint64_t low = uva & -uva;
		if (low < align)
			align = low;
	}
	/* Linux (6.17) caps the alignment at the huge page size (x86-64: 2 MiB). */
	if (align > IOPT_MAX_ALIGNMENT)
		align = IOPT_MAX_ALIGNMENT;
	if (align < iopt->iova_alignment)
		return -EINVAL;
	/* The IOVA keeps the buffer's offset into its page (align <= that
	 * offset's lowest bit, so the result stays aligned). */
	uint64_t offset = uva % page;
	uint64_t lo = page, hi = UINT64_MAX - page;
	if (iopt_tree_empty(&iopt->allowed))
		return iopt_fit_span(iopt, lo, hi, align, offset, length, iova) ? 0 : -ENOSPC;
	struct iopt_node *n;
	iopt_for_each(&iopt->allowed, n, lo, hi) {
		uint64_t s = n->start > lo ? n->start : lo;
		uint64_t l = n->last < hi ? n->last : hi;
		if (iopt_fit_span(iopt, s, l, align, offset, length, iova))
			return 0;
	}
	return -ENOSPC;
}

int iopt_map_segments(struct iopt *iopt, uint64_t *iova, bool fixed,
		      const struct iopt_segment *segs, size_t nsegs, uint32_t flags)
{
	uint64_t length = 0;
	for (size_t i = 0; i < nsegs; i++)
		length += segs[i].length;
	int rc = iopt_check_length(iopt, length);
	if (rc)
		return rc;
	uint64_t uva = segs[0].pages->uva + segs[0].pages_off;
	rc = fixed ? iopt_check_fixed(iopt, *iova, length)
		   : iopt_alloc_iova(iopt, iova, uva, length);
	if (rc)
		return rc;
	for (size_t i = 0; i < nsegs; i++) {
		uint64_t seg_uva = segs[i].pages->uva + segs[i].pages_off;
		if (!is_aligned(seg_uva % iopt_page_size(), iopt->iova_alignment))
			return -EINVAL;
	}
	struct iopt_area **areas = calloc(nsegs, sizeof(*areas));
	if (!areas)
		return -ENOMEM;
	for (size_t i = 0; i < nsegs; i++) {
		areas[i] = calloc(1, sizeof(**areas));
		if (!areas[i]) {
			while (i--)
				free(areas[i]);
			free(areas);
			return -ENOMEM;
		}
	}
	uint64_t pos = *iova;
	for (size_t i = 0; i < nsegs; i++) {
		struct iopt_area *area = areas[i];
		area->node.start = pos;
		area->node.last = pos + segs[i].length - 1;
		area->pages = segs[i].pages;
		area->pages_off = segs[i].pages_off;
		area->flags = flags;
		segs[i].pages->refs++;
		iopt_tree_insert(&iopt->areas, &area->node);
		pos += segs[i].length;
	}
	/* Pin and map into the attached domains; any failure undoes it all. */
	for (size_t i = 0; i < nsegs; i++) {
		rc = iopt_area_fill_domains(iopt, areas[i]);
		if (rc) {
			for (size_t j = 0; j < nsegs; j++) {
				if (j < i)
					iopt_area_unfill_domains(iopt, areas[j]);
				iopt_tree_remove(&iopt->areas, &areas[j]->node);
				/* The caller still owns pages it made for us. */
				areas[j]->pages->refs--;
				free(areas[j]);
			}
			free(areas);
			return rc;
		}
	}
	free(areas);
	return 0;
}

int iopt_collect_segments(struct iopt *iopt, uint64_t start, uint64_t length,
			  struct iopt_segment **out, size_t *nout)
{
	uint64_t last;
	int rc = iopt_range_last(start, length, &last);
	if (rc)
		return rc;
	struct iopt_segment *segs = NULL;
	size_t n = 0;
	uint64_t want = start;
	struct iopt_node *node;
	iopt_for_each(&iopt->areas, node, start, last) {
		if (node->start > want)
			break; /* a gap */
		struct iopt_area *area = (struct iopt_area *)node;
		uint64_t s = want, l = node->last < last ? node->last : last;
		struct iopt_segment *grown = realloc(segs, (n + 1) * sizeof(*segs));
		if (!grown) {
			free(segs);
			return -ENOMEM;
		}
		segs = grown;
		segs[n].pages = area->pages;
		segs[n].pages_off = area->pages_off + (s - node->start);
		segs[n].length = l - s + 1;
		segs[n].flags = area->flags;
		n++;
		if (l == last) {
			*out = segs;
			*nout = n;
			return 0;
		}
		want = l + 1;
	}
	free(segs);
	return -ENOENT;
}

bool iopt_range_locked(const struct iopt *iopt, uint64_t start, uint64_t last)
{
	for (const struct iopt_lock *l = iopt->locks; l; l = l->next)
		if (l->start <= last && l->last >= start)
			return true;
	return false;
}

int iopt_unmap_range(struct iopt *iopt, uint64_t start, uint64_t last, bool all,
		     uint64_t *unmapped)
{
	struct iopt_node *n;
	uint64_t total = 0;
	bool any = false;
	/* Check everything first: a failing unmap removes nothing.  Area by
	 * area in IOVA order, as Linux's iopt_unmap_iova_range: one an owner
	 * pinned (a HW queue) is EBUSY, one the range splits ENOENT. */
	iopt_for_each(&iopt->areas, n, start, last) {
		if (iopt_range_locked(iopt, n->start, n->last))
			return -EBUSY;
		if (n->start < start || n->last > last)
			return -ENOENT;
		any = true;
	}
	if (!any) {
		*unmapped = 0;
		return all ? 0 : -ENOENT;
	}
	iofd_access_notify_unmap(iopt, start, last);
	while ((n = iopt_tree_first(&iopt->areas, start, last))) {
		total += n->last - n->start + 1;
		iopt_area_unfill_domains(iopt, (struct iopt_area *)n);
		iopt_tree_remove(&iopt->areas, n);
		iopt_area_free(n);
	}
	*unmapped = total;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Reserved ranges: a list of reservations (they may overlap, each has an
 * owner), and their union as a tree of disjoint ranges for lookups. */

static int iopt_reserved_rebuild(struct iopt *iopt)
{
	size_t n = 0;
	for (struct iopt_reserved *r = iopt->resv_list; r; r = r->next)
		n++;
	struct iofd_iova_range *v = calloc(n ? n : 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	size_t i = 0;
	for (struct iopt_reserved *r = iopt->resv_list; r; r = r->next, i++)
		v[i] = (struct iofd_iova_range){r->start, r->last};
	/* Insertion sort by start: reservations are few. */
	for (size_t a = 1; a < n; a++)
		for (size_t b = a; b > 0 && v[b - 1].start > v[b].start; b--) {
			struct iofd_iova_range t = v[b];
			v[b] = v[b - 1];
			v[b - 1] = t;
		}
	struct iopt_tree fresh = RB_INITIALIZER(&fresh);
	for (i = 0; i < n;) {
		uint64_t s = v[i].start, l = v[i].last;
		for (i++; i < n && (l == UINT64_MAX || v[i].start <= l + 1); i++)
			if (v[i].last > l)
				l = v[i].last;
		struct iopt_node *node = calloc(1, sizeof(*node));
		if (!node) {
			iopt_free_tree(&fresh, iopt_node_free);
			free(v);
			return -ENOMEM;
		}
		node->start = s;
		node->last = l;
		iopt_tree_insert(&fresh, node);
	}
	free(v);
	iopt_free_tree(&iopt->reserved, iopt_node_free);
	iopt->reserved = fresh;
	return 0;
}

int iopt_reserve(struct iopt *iopt, uint64_t start, uint64_t last, const void *owner)
{
	if (iopt_tree_first(&iopt->areas, start, last) ||
	    iopt_tree_first(&iopt->allowed, start, last))
		return -EADDRINUSE;
	struct iopt_reserved *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->start = start;
	r->last = last;
	r->owner = owner;
	r->next = iopt->resv_list;
	iopt->resv_list = r;
	int rc = iopt_reserved_rebuild(iopt);
	if (rc) {
		iopt->resv_list = r->next;
		free(r);
	}
	return rc;
}

void iopt_unreserve_owner(struct iopt *iopt, const void *owner)
{
	struct iopt_reserved **pp = &iopt->resv_list;
	while (*pp) {
		struct iopt_reserved *r = *pp;
		if (r->owner == owner) {
			*pp = r->next;
			free(r);
		} else {
			pp = &r->next;
		}
	}
	iopt_reserved_rebuild(iopt); /* shrinking cannot need more memory than before */
}

/* ------------------------------------------------------------------ */
/* Allowed ranges and usable ranges */

int iopt_set_allowed(struct iopt *iopt, const struct iofd_iova_range *ranges, uint32_t n)
{
	struct iopt_tree fresh = RB_INITIALIZER(&fresh);
	int rc = 0;
	for (uint32_t i = 0; i < n; i++) {
		if (ranges[i].start >= ranges[i].last) {
			rc = -EINVAL;
			break;
		}
		if (iopt_tree_first(&fresh, ranges[i].start, ranges[i].last)) {
			rc = -EINVAL;
			break;
		}
		struct iopt_node *node = calloc(1, sizeof(*node));
		if (!node) {
			rc = -ENOMEM;
			break;
		}
		node->start = ranges[i].start;
		node->last = ranges[i].last;
		iopt_tree_insert(&fresh, node);
	}
	for (uint32_t i = 0; !rc && i < n; i++)
		if (iopt_tree_first(&iopt->reserved, ranges[i].start, ranges[i].last))
			rc = -EADDRINUSE;
	if (rc) {
		iopt_free_tree(&fresh, iopt_node_free);
		return rc;
	}
	iopt_free_tree(&iopt->allowed, iopt_node_free);
	iopt->allowed = fresh;
	return 0;
}

uint32_t iopt_usable_ranges(struct iopt *iopt, struct iofd_iova_range *out, uint32_t max)
{
	/* The holes of the reserved set over the whole 64-bit space. */
	uint32_t count = 0;
	uint64_t pos = 0;
	bool done = false;
	for (struct iopt_node *n = iopt_tree_min(&iopt->reserved); n && !done;
	     n = iopt_tree_succ(&iopt->reserved, n)) {
		if (n->start > pos) {
			if (count < max)
				out[count] = (struct iofd_iova_range){pos, n->start - 1};
			count++;
		}
		if (n->last == UINT64_MAX)
			done = true;
		else
			pos = n->last + 1;
	}
	if (!done) {
		if (count < max)
			out[count] = (struct iofd_iova_range){pos, UINT64_MAX};
		count++;
	}
	return count;
}

/* The alignment every area must keep: the host page when huge pages are
 * off, else 1 (attached domains will raise it to their smallest page). */
uint64_t iopt_want_alignment(const struct iopt *iopt)
{
	uint64_t align = iopt->large_pages_disabled ? iopt_page_size() : 1;
	for (unsigned i = 0; i < iopt->ndomains; i++)
		if (iofd_domain_min_page(iopt->domains[i]) > align)
			align = iofd_domain_min_page(iopt->domains[i]);
	if (iopt->access_alignment > align)
		align = iopt->access_alignment;
	return align;
}

int iopt_check_alignment(struct iopt *iopt, uint64_t align)
{
	for (struct iopt_node *n = iopt_tree_min(&iopt->areas); n;
	     n = iopt_tree_succ(&iopt->areas, n)) {
		struct iopt_area *area = (struct iopt_area *)n;
		uint64_t uva = area->pages->uva + area->pages_off;
		if (!is_aligned(n->start, align) || !is_aligned(n->last - n->start + 1, align) ||
		    !is_aligned(uva % iopt_page_size(), align))
			return -EADDRINUSE;
	}
	return 0;
}

int iopt_set_large_pages(struct iopt *iopt, bool enable)
{
	if (enable) {
		iopt->large_pages_disabled = false;
		iopt->iova_alignment = iopt_want_alignment(iopt);
		return 0;
	}
	if (iopt->large_pages_disabled)
		return 0;
	/* Linux cannot re-map what domains already hold in large pages. */
	if (iopt->ndomains && !iopt_tree_empty(&iopt->areas))
		return -EINVAL;
	uint64_t align = iopt_want_alignment(iopt);
	if (align < iopt_page_size())
		align = iopt_page_size();
	int rc = iopt_check_alignment(iopt, align);
	if (rc)
		return rc;
	iopt->large_pages_disabled = true;
	iopt->iova_alignment = align;
	return 0;
}

int iopt_cut(struct iopt *iopt, uint64_t at)
{
	struct iopt_node *n = iopt_tree_first(&iopt->areas, at, at);
	if (!n || n->last == at)
		return 0; /* already a boundary */
	/* Both halves must stay aligned. */
	if (!is_aligned(at + 1, iopt->iova_alignment))
		return -EINVAL;
	struct iopt_area *area = (struct iopt_area *)n;
	struct iopt_area *tail = calloc(1, sizeof(*tail));
	if (!tail)
		return -ENOMEM;
	tail->node.start = at + 1;
	tail->node.last = n->last;
	tail->pages = area->pages;
	tail->pages_off = area->pages_off + (at + 1 - n->start);
	tail->flags = area->flags;
	if (area->pinned) {
		/* Each half holds its own pins; taken before the whole's are
		 * dropped, so no page is unpinned in between. */
		uint64_t head_len = at + 1 - n->start, tail_len = n->last - at;
		int rc = iofd_pages_pin(area->pages, area->pages_off, head_len);
		if (!rc) {
			rc = iofd_pages_pin(area->pages, tail->pages_off, tail_len);
			if (rc)
				iofd_pages_unpin(area->pages, area->pages_off, head_len);
		}
		if (rc) {
			free(tail);
			return rc;
		}
		iofd_pages_unpin(area->pages, area->pages_off, head_len + tail_len);
		tail->pinned = true;
	}
	area->pages->refs++;
	n->last = at; /* the start, and so the tree order, is unchanged */
	iopt_tree_insert(&iopt->areas, &tail->node);
	return 0;
}
