/*
 * formats/mock/mock.h - the kernel selftest's mock IOMMU as a page table
 * format.
 *
 * Linux's iommufd selftest (tools/testing/selftests/iommu/) drives a mock
 * IOMMU that lives in the kernel (drivers/iommu/iommufd/selftest.c).  Its
 * facts, which the test checks:
 *   - IO pages are 2 KiB (half the CPU page, on purpose); a device created
 *     with the HUGE_IOVA flag may also map 1 MiB pages;
 *   - the aperture is [16 MiB, 2 GiB - 1];
 *   - every 2 KiB slot holds the physical address it maps plus flags: the
 *     first and last slot of each map call are marked, slots mapped by a
 *     huge page are marked huge, and a slot may be dirty;
 *   - dirty tracking is a per-domain switch; reading dirty state walks the
 *     slots, a huge slot reporting its whole 1 MiB page.
 *
 * The table is a two-level radix over slot numbers (IOVA / 2 KiB): a root
 * of 2048 pointers to leaves of 1024 slots covers the 4 GiB below the
 * aperture's end and more.  Each slot is one 64-bit entry (layout below).
 */
#ifndef FORMATS_MOCK_MOCK_H
#define FORMATS_MOCK_MOCK_H

#include <stdbool.h>
#include <stdint.h>

#define MOCK_IO_PAGE_SIZE 2048u
#define MOCK_HUGE_PAGE_SIZE (512u * MOCK_IO_PAGE_SIZE)
#define MOCK_APERTURE_START (1ull << 24)
#define MOCK_APERTURE_LAST ((1ull << 31) - 1)

/* Slot entry: bits 0..51 hold physical address >> 11. */
#define MOCK_PTE_VALID (1ull << 63)
#define MOCK_PTE_START (1ull << 62) /* first slot of a map call */
#define MOCK_PTE_LAST (1ull << 61)  /* last slot of a map call */
#define MOCK_PTE_DIRTY (1ull << 60)
#define MOCK_PTE_HUGE (1ull << 59)
#define MOCK_PTE_PFN_MASK ((1ull << 52) - 1)

#define MOCK_LEAF_SLOTS 1024u
#define MOCK_ROOT_LEAVES 2048u

struct mock_pt {
	uint64_t *leaf[MOCK_ROOT_LEAVES];
	uint64_t pgsize_bitmap; /* 2 KiB, | 1 MiB when huge pages are allowed */
	uint64_t mapped;        /* slots in use */
	bool dirty_tracking;
};

void mock_pt_init(struct mock_pt *pt, bool huge);
void mock_pt_fini(struct mock_pt *pt);

/*
 * Map [iova, iova + len) to [phys, phys + len) with `pgsize` pages (2 KiB,
 * or 1 MiB when allowed); iova, phys and len must be pgsize aligned.
 * Returns 0, -EINVAL for a misaligned or out-of-table range, -EEXIST if a
 * slot is in use, -ENOMEM; nothing changes on failure.
 */
int mock_pt_map(struct mock_pt *pt, uint64_t iova, uint64_t phys, uint64_t len,
		uint64_t pgsize);

/* Clear the slots of [iova, iova + len); returns bytes that were mapped. */
uint64_t mock_pt_unmap(struct mock_pt *pt, uint64_t iova, uint64_t len);

/* The entry of the slot holding iova, 0 if none. */
uint64_t mock_pt_entry(const struct mock_pt *pt, uint64_t iova);
static inline uint64_t mock_pte_phys(uint64_t pte)
{
	return (pte & MOCK_PTE_PFN_MASK) * MOCK_IO_PAGE_SIZE;
}

/* Set or clear flag bits of a present slot (slot number, not IOVA);
 * returns false if the slot is empty. */
bool mock_pt_slot_update(struct mock_pt *pt, uint64_t slot, uint64_t set, uint64_t clear);

/*
 * Report dirty pages in [iova, iova + len): calls record(iova, size) for
 * each dirty IO page (a huge slot reports its whole 1 MiB page) and, unless
 * no_clear, clears the dirty bits it reported.
 */
void mock_pt_read_and_clear_dirty(struct mock_pt *pt, uint64_t iova, uint64_t len,
				  bool no_clear, void (*record)(void *arg, uint64_t iova,
								uint64_t size),
				  void *arg);

#endif
