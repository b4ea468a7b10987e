/*
 * iommufd/pages.c - pinning the pages behind a mapping.
 *
 * An IOAS_MAP records a range of the caller's memory (`struct iofd_pages`,
 * shared by the areas COPY makes from it).  While a domain or an access
 * needs part of it, that part is pinned: each host page holds one count
 * per user in pages->pin_users, and the first user takes the page's pin
 * in the process-wide table (pin.c), which gives the page its frame.  So a
 * page mapped by one IOAS_MAP into any number of domains is pinned once,
 * and mapping the same memory twice pins it twice, as in Linux.
 */
#include <errno.h>
#include <stdlib.h>

#include "iommufd/iofd_int.h"

static uint64_t first_page(const struct iofd_pages *p)
{
	return p->uva & ~(iopt_page_size() - 1);
}

/* Index range of host pages covering [off, off + len) of p. */
static void page_span(const struct iofd_pages *p, uint64_t off, uint64_t len, uint64_t *lo,
		      uint64_t *hi)
{
	uint64_t psz = iopt_page_size();
	*lo = (p->uva + off) / psz - first_page(p) / psz;
	*hi = (p->uva + off + len - 1) / psz - first_page(p) / psz;
}

static uint64_t pages_npages(const struct iofd_pages *p)
{
	uint64_t lo, hi;
	page_span(p, 0, p->length, &lo, &hi);
	return hi + 1;
}

int iofd_pages_pin(struct iofd_pages *p, uint64_t off, uint64_t len)
{
	if (!len)
		return 0;
	const uint64_t psz = iopt_page_size();
	if (!p->pin_users && !(p->pin_users = calloc(pages_npages(p), sizeof(uint32_t))))
		return -ENOMEM;
	uint64_t lo, hi;
	page_span(p, off, len, &lo, &hi);
	/* Pages nobody here holds yet must exist in the caller (as
	 * get_user_pages would insist), writable if the mapping is. */
	for (uint64_t i = lo; i <= hi; i++) {
		if (p->pin_users[i])
			continue;
		uint64_t j = i;
		while (j + 1 <= hi && !p->pin_users[j + 1])
			j++;
		uint64_t addr = first_page(p) + i * psz, n = j - i + 1;
		int rc = iofd_uaccess_probe(p->ua, addr, n * psz, p->writable);
		if (!rc)
			rc = iofd_pin_pages(p->ua, addr, n, NULL);
		if (rc) {
			/* Undo the runs pinned so far. */
			for (uint64_t k = lo; k < i; k++)
				if (!p->pin_users[k])
					iofd_unpin_pages(p->ua->mm, first_page(p) + k * psz, 1);
			return rc;
		}
		i = j;
	}
	for (uint64_t i = lo; i <= hi; i++)
		p->pin_users[i]++;
	return 0;
}

void iofd_pages_unpin(struct iofd_pages *p, uint64_t off, uint64_t len)
{
	if (!len || !p->pin_users)
		return;
	const uint64_t psz = iopt_page_size();
	uint64_t lo, hi;
	page_span(p, off, len, &lo, &hi);
	for (uint64_t i = lo; i <= hi; i++)
		if (--p->pin_users[i] == 0)
			iofd_unpin_pages(p->ua->mm, first_page(p) + i * psz, 1);
}

uint64_t iofd_pages_phys(const struct iofd_pages *p, uint64_t off)
{
	const uint64_t psz = iopt_page_size();
	uint64_t addr = p->uva + off, frame = 0;
	iofd_pin_frame(p->ua->mm, addr & ~(psz - 1), &frame);
	return frame * psz + addr % psz;
}

int iofd_uaccess_probe(const struct iofd_uaccess *ua, uint64_t addr, uint64_t len, bool write)
{
	if (ua->probe)
		return ua->probe(ua->opaque, addr, len, write);
	const uint64_t psz = iopt_page_size();
	for (uint64_t a = addr & ~(psz - 1); a < addr + len; a += psz) {
		uint8_t b;
		if (ua->read(ua->opaque, a, &b, 1))
			return -EFAULT;
	}
	return 0;
}
