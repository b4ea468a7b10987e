/*
 * iommusim/mem.h - the simulated physical address space.
 *
 * The IOMMU reads its tables from a sparse 64-bit physical address space made
 * of 4 KiB page frames.  A frame is either owned by the simulator (zero-filled
 * host tables) or backed from outside: a host buffer (an mmap'ed memory image,
 * a client's memory in the same process) or accessor callbacks (another
 * process's memory).  A read or write that reaches no frame, or that an
 * accessor refuses, is an external abort; the caller reports it in its
 * architecture's terms.  Tests can make any single address abort.
 */
#ifndef IOMMUSIM_MEM_H
#define IOMMUSIM_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define IMS_FRAME_LG2 12
#define IMS_FRAME_SIZE (UINT64_C(1) << IMS_FRAME_LG2)

struct ims_mem;

/* Status of a memory access: an abort is data, not an errno. */
enum ims_mem_status {
	IMS_MEM_OK = 0,
	IMS_MEM_ABORT = 1,
};

/* Accessor for externally backed memory; offsets are from the region start. */
struct ims_mem_accessor {
	/* Return 0, or a negative errno (reported as an external abort). */
	int (*read)(void *opaque, uint64_t offset, void *buf, size_t len);
	int (*write)(void *opaque, uint64_t offset, const void *buf, size_t len);
};

/* An address space whose valid addresses are below 2^pa_bits (1..64). */
struct ims_mem *ims_mem_new(unsigned pa_bits);
void ims_mem_free(struct ims_mem *mem);
unsigned ims_mem_pa_bits(const struct ims_mem *mem);

/*
 * Give [pa, pa + len) simulator-owned, zero-filled frames.  pa and len are
 * frame aligned.  Frames already owned are kept as they are; a range that
 * overlaps externally backed memory is refused with -EEXIST and nothing
 * changes.  Returns 0 or a negative errno.
 */
int ims_mem_add_ram(struct ims_mem *mem, uint64_t pa, uint64_t len);

/*
 * Back [pa, pa + len) with host memory at `host` (not copied; it must outlive
 * the mapping).  Writes go to the host buffer when `writable`, and abort
 * otherwise.  pa and len are frame aligned; overlapping anything already
 * present is refused with -EEXIST.
 */
int ims_mem_map_host(struct ims_mem *mem, uint64_t pa, uint64_t len, void *host,
		     bool writable);

/* Back [pa, pa + len) with accessor callbacks (same rules as map_host). */
int ims_mem_map_accessor(struct ims_mem *mem, uint64_t pa, uint64_t len,
			 const struct ims_mem_accessor *acc, void *opaque);

/* Remove whatever backs [pa, pa + len) (frame aligned). */
int ims_mem_unmap(struct ims_mem *mem, uint64_t pa, uint64_t len);

/* True when every byte of [pa, pa + len) is backed. */
bool ims_mem_is_backed(const struct ims_mem *mem, uint64_t pa, uint64_t len);

enum ims_mem_status ims_mem_read(struct ims_mem *mem, uint64_t pa, void *buf, size_t len);
enum ims_mem_status ims_mem_write(struct ims_mem *mem, uint64_t pa, const void *buf,
				  size_t len);
/* Little-endian 64-bit accesses; pa must be 8-byte aligned. */
enum ims_mem_status ims_mem_read64(struct ims_mem *mem, uint64_t pa, uint64_t *val);
enum ims_mem_status ims_mem_write64(struct ims_mem *mem, uint64_t pa, uint64_t val);

/*
 * Make every access touching [pa, pa + len) abort, as if the fabric returned
 * an error: lets a test fail any single fetch.  Up to 16 ranges.
 */
int ims_mem_inject_abort(struct ims_mem *mem, uint64_t pa, uint64_t len);
void ims_mem_clear_aborts(struct ims_mem *mem);

/* Frames owned by the simulator (for memory reports). */
uint64_t ims_mem_ram_frames(const struct ims_mem *mem);

#ifdef __cplusplus
}
#endif
#endif
