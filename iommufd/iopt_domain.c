/*
 * iommufd/iopt_domain.c - keeping an IOAS's domains in step with its areas.
 *
 * Every domain attached to an IOAS (through a paging HWPT) maps exactly the
 * IOAS's areas.  An area is pinned while at least one domain is attached;
 * attaching the first domain pins every area, mapping a new area pins it
 * and maps it everywhere, unmapping does the reverse.  Page sizes: each
 * piece of an area is mapped with the largest page size the domain offers
 * for which the IOVA, the simulated physical address and the length line
 * up, as Linux's iommu_map picks them.
 */
#include <errno.h>
#include <stdlib.h>

#include "iommufd/iofd_int.h"

/* Map [iova, iova + len) -> [phys, ...) choosing page sizes. */
static int domain_map_range(struct iofd_domain *d, uint64_t iova, uint64_t phys, uint64_t len,
			    uint32_t prot)
{
	uint64_t done = 0;
	while (done < len) {
		uint64_t a = iova + done, p = phys + done, left = len - done;
		uint64_t best = 0;
		for (uint64_t sizes = d->pgsize_bitmap; sizes; sizes &= sizes - 1) {
			uint64_t sz = sizes & -sizes;
			if (a % sz == 0 && p % sz == 0 && sz <= left)
				best = sz;
		}
		if (!best) {
			if (done)
				d->ops->unmap(d, iova, done);
			return -EINVAL;
		}
		int rc = d->ops->map(d, a, p, best, 1, prot);
		if (rc) {
			if (done)
				d->ops->unmap(d, iova, done);
			return rc;
		}
		done += best;
	}
	return 0;
}

/* Map an area into one domain, in runs of contiguous simulated memory. */
static int area_map_domain(struct iopt_area *area, struct iofd_domain *d)
{
	const uint64_t psz = iopt_page_size();
	uint64_t len = area->node.last - area->node.start + 1;
	uint32_t prot = area->flags & (IOFD_MAP_READABLE | IOFD_MAP_WRITEABLE);
	uint64_t off = 0;
	while (off < len) {
		uint64_t phys = iofd_pages_phys(area->pages, area->pages_off + off);
		/* Extend while the next host page's frame follows on. */
		uint64_t run = psz - (area->pages->uva + area->pages_off + off) % psz;
		while (off + run < len &&
		       iofd_pages_phys(area->pages, area->pages_off + off + run) == phys + run)
			run += psz;
		if (run > len - off)
			run = len - off;
		int rc = domain_map_range(d, area->node.start + off, phys, run, prot);
		if (rc) {
			if (off)
				d->ops->unmap(d, area->node.start, off);
			return rc;
		}
		off += run;
	}
	return 0;
}

/* Take (or drop) the area's pin on its pages; no-ops when already so. */
static int area_pin(struct iopt_area *a)
{
	if (a->pinned)
		return 0;
	int rc = iofd_pages_pin(a->pages, a->pages_off, a->node.last - a->node.start + 1);
	a->pinned = !rc;
	return rc;
}

static void area_unpin(struct iopt_area *a)
{
	if (!a->pinned)
		return;
	iofd_pages_unpin(a->pages, a->pages_off, a->node.last - a->node.start + 1);
	a->pinned = false;
}

int iopt_area_fill_domains(struct iopt *iopt, struct iopt_area *area)
{
	if (!iopt->ndomains)
		return 0;
	uint64_t len = area->node.last - area->node.start + 1;
	int rc = area_pin(area);
	if (rc)
		return rc;
	unsigned i;
	for (i = 0; i < iopt->ndomains; i++) {
		rc = area_map_domain(area, iopt->domains[i]);
		if (rc)
			break;
	}
	if (!rc)
		return 0;
	while (i--)
		iopt->domains[i]->ops->unmap(iopt->domains[i], area->node.start, len);
	area_unpin(area);
	return rc;
}

void iopt_area_unfill_domains(struct iopt *iopt, struct iopt_area *area)
{
	uint64_t len = area->node.last - area->node.start + 1;
	for (unsigned i = 0; i < iopt->ndomains; i++)
		iopt->domains[i]->ops->unmap(iopt->domains[i], area->node.start, len);
	area_unpin(area);
}

int iopt_table_add_domain(struct iopt *iopt, struct iofd_domain *d)
{
	uint64_t align = iofd_domain_min_page(d);
	if (align < iopt->iova_alignment)
		align = iopt->iova_alignment;
	if (align > iopt_page_size())
		return -EINVAL;
	int rc = align != iopt->iova_alignment ? iopt_check_alignment(iopt, align) : 0;
	if (!rc && d->aperture_start)
		rc = iopt_reserve(iopt, 0, d->aperture_start - 1, d);
	if (!rc && d->aperture_last != UINT64_MAX)
		rc = iopt_reserve(iopt, d->aperture_last + 1, UINT64_MAX, d);
	if (rc) {
		iopt_unreserve_owner(iopt, d);
		return rc;
	}
	struct iofd_domain **grown = realloc(iopt->domains, (iopt->ndomains + 1) * sizeof(*grown));
	if (!grown) {
		iopt_unreserve_owner(iopt, d);
		return -ENOMEM;
	}
	iopt->domains = grown;
	/* Fill the new domain alone.  Areas are pinned exactly while the IOAS
	 * has a domain, so with none yet each area is pinned here first. */
	struct iopt_node *n;
	for (n = iopt_tree_min(&iopt->areas); n; n = iopt_tree_succ(&iopt->areas, n)) {
		struct iopt_area *a = (struct iopt_area *)n;
		rc = area_pin(a);
		if (rc)
			break;
		rc = area_map_domain(a, d);
		if (rc) {
			if (!iopt->ndomains)
				area_unpin(a);
			break;
		}
	}
	if (rc) {
		/* Undo the areas before n. */
		for (struct iopt_node *m = iopt_tree_min(&iopt->areas); m != n;
		     m = iopt_tree_succ(&iopt->areas, m)) {
			d->ops->unmap(d, m->start, m->last - m->start + 1);
			if (!iopt->ndomains)
				area_unpin((struct iopt_area *)m);
		}
		iopt_unreserve_owner(iopt, d);
		return rc;
	}
	iopt->domains[iopt->ndomains++] = d;
	iopt->iova_alignment = align;
	return 0;
}

void iopt_table_remove_domain(struct iopt *iopt, struct iofd_domain *d)
{
	unsigned i;
	for (i = 0; i < iopt->ndomains && iopt->domains[i] != d; i++)
		;
	if (i == iopt->ndomains)
		return;
	iopt->domains[i] = iopt->domains[--iopt->ndomains];
	for (struct iopt_node *n = iopt_tree_min(&iopt->areas); n;
	     n = iopt_tree_succ(&iopt->areas, n)) {
		d->ops->unmap(d, n->start, n->last - n->start + 1);
		if (!iopt->ndomains)
			area_unpin((struct iopt_area *)n);
	}
	iopt_unreserve_owner(iopt, d);
	iopt->iova_alignment = iopt_want_alignment(iopt);
}
