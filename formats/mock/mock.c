/*
 * formats/mock/mock.c - the selftest mock IOMMU's page table (see mock.h).
 */
#include <errno.h>
#include <stdlib.h>

#include "formats/mock/mock.h"

#define SLOT(iova) ((iova) / MOCK_IO_PAGE_SIZE)
#define MAX_SLOTS ((uint64_t)MOCK_ROOT_LEAVES * MOCK_LEAF_SLOTS)

void mock_pt_init(struct mock_pt *pt, bool huge)
{
	*pt = (struct mock_pt){0};
	pt->pgsize_bitmap = MOCK_IO_PAGE_SIZE | (huge ? MOCK_HUGE_PAGE_SIZE : 0);
}

void mock_pt_fini(struct mock_pt *pt)
{
	for (unsigned i = 0; i < MOCK_ROOT_LEAVES; i++)
		free(pt->leaf[i]);
	*pt = (struct mock_pt){0};
}

static uint64_t *slot_ptr(const struct mock_pt *pt, uint64_t slot)
{
	if (slot >= MAX_SLOTS || !pt->leaf[slot / MOCK_LEAF_SLOTS])
		return NULL;
	return &pt->leaf[slot / MOCK_LEAF_SLOTS][slot % MOCK_LEAF_SLOTS];
}

uint64_t mock_pt_entry(const struct mock_pt *pt, uint64_t iova)
{
	const uint64_t *p = slot_ptr(pt, SLOT(iova));
	return p ? *p : 0;
}

int mock_pt_map(struct mock_pt *pt, uint64_t iova, uint64_t phys, uint64_t len,
		uint64_t pgsize)
{
	if (!len || !(pt->pgsize_bitmap & pgsize) || iova % pgsize || phys % pgsize ||
	    len % pgsize)
		return -EINVAL;
	uint64_t first = SLOT(iova), n = len / MOCK_IO_PAGE_SIZE;
	if (first >= MAX_SLOTS || n > MAX_SLOTS - first)
		return -EINVAL;
	/* Check, then make leaves, then fill: a failure changes nothing but
	 * may leave empty leaves, which hold no mapping. */
	for (uint64_t s = first; s < first + n; s++) {
		const uint64_t *p = slot_ptr(pt, s);
		if (p && *p)
			return -EEXIST;
	}
	for (uint64_t l = first / MOCK_LEAF_SLOTS; l <= (first + n - 1) / MOCK_LEAF_SLOTS; l++) {
		if (!pt->leaf[l] && !(pt->leaf[l] = calloc(MOCK_LEAF_SLOTS, sizeof(uint64_t))))
			return -ENOMEM;
	}
	uint64_t huge = pgsize != MOCK_IO_PAGE_SIZE ? MOCK_PTE_HUGE : 0;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t pte = MOCK_PTE_VALID | huge |
			       ((phys / MOCK_IO_PAGE_SIZE + i) & MOCK_PTE_PFN_MASK);
		if (i == 0)
			pte |= MOCK_PTE_START;
		if (i == n - 1)
			pte |= MOCK_PTE_LAST;
		*slot_ptr(pt, first + i) = pte;
	}
	pt->mapped += n;
	return 0;
}

uint64_t mock_pt_unmap(struct mock_pt *pt, uint64_t iova, uint64_t len)
{
	uint64_t done = 0;
	for (uint64_t s = SLOT(iova); s < SLOT(iova) + len / MOCK_IO_PAGE_SIZE; s++) {
		uint64_t *p = slot_ptr(pt, s);
		if (p && *p) {
			*p = 0;
			pt->mapped--;
			done += MOCK_IO_PAGE_SIZE;
		}
	}
	return done;
}

bool mock_pt_slot_update(struct mock_pt *pt, uint64_t slot, uint64_t set, uint64_t clear)
{
	uint64_t *p = slot_ptr(pt, slot);
	if (!p || !*p)
		return false;
	*p = (*p | set) & ~clear;
	return true;
}

void mock_pt_read_and_clear_dirty(struct mock_pt *pt, uint64_t iova, uint64_t len,
				  bool no_clear, void (*record)(void *arg, uint64_t iova,
								uint64_t size),
				  void *arg)
{
	uint64_t end = iova + len;
	while (iova < end) {
		uint64_t pte = mock_pt_entry(pt, iova);
		uint64_t size = MOCK_IO_PAGE_SIZE;
		if (!pte) {
			iova += size;
			continue;
		}
		if (pte & MOCK_PTE_HUGE)
			size = MOCK_HUGE_PAGE_SIZE;
		uint64_t head = iova & ~(size - 1);
		bool dirty = false;
		for (uint64_t s = SLOT(head); s < SLOT(head + size); s++) {
			uint64_t *p = slot_ptr(pt, s);
			if (p && (*p & MOCK_PTE_DIRTY)) {
				dirty = true;
				if (!no_clear)
					*p &= ~MOCK_PTE_DIRTY;
			}
		}
		if (dirty)
			record(arg, iova, size);
		iova += size;
	}
}
