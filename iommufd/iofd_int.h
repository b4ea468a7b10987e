/*
 * iommufd/iofd_int.h - private declarations of the /dev/iommu object model.
 *
 * A context (one open /dev/iommu) holds objects by ID.  Every object has a
 * type, an ID handed to the caller, and a count of the other objects that
 * depend on it (an IOAS used by a HWPT, a HWPT a device is attached to):
 * IOMMU_DESTROY of an object with users fails with EBUSY.
 *
 * An IOAS owns an IO page table description (`struct iopt`): its areas (what
 * the caller mapped), the reserved ranges (what must never be mapped) and,
 * optionally, the allowed ranges (IOAS_ALLOW_IOVAS).  Each is an ordered
 * interval map of inclusive [start, last] ranges (iopt.c).
 */
#ifndef IOMMUFD_IOFD_INT_H
#define IOMMUFD_IOFD_INT_H

#include <stdbool.h>
#include <stdint.h>

/* <bsd/sys/tree.h> marks its generated functions __unused, which glibc's
 * headers leave undefined. */
#ifndef __unused
#define __unused __attribute__((__unused__))
#endif
#include <bsd/sys/tree.h>
#include <uthash.h>

#include "include/iommusim/iommufd.h"
#include "iommufd/uapi.h"

/* ------------------------------------------------------------------ */
/* Interval map (iopt.c) */

struct iopt_node {
	RB_ENTRY(iopt_node) rb;
	uint64_t start; /* inclusive */
	uint64_t last;  /* inclusive */
};

RB_HEAD(iopt_tree, iopt_node);

/* Nodes of a tree never overlap; the tree is ordered by start. */
void iopt_tree_insert(struct iopt_tree *t, struct iopt_node *n);
void iopt_tree_remove(struct iopt_tree *t, struct iopt_node *n);
/* The lowest node intersecting [start, last], or NULL. */
struct iopt_node *iopt_tree_first(struct iopt_tree *t, uint64_t start, uint64_t last);
/* The next node after n intersecting [start, last], or NULL. */
struct iopt_node *iopt_tree_next(struct iopt_tree *t, struct iopt_node *n, uint64_t start,
				 uint64_t last);
struct iopt_node *iopt_tree_min(struct iopt_tree *t);
struct iopt_node *iopt_tree_succ(struct iopt_tree *t, struct iopt_node *n);
bool iopt_tree_empty(struct iopt_tree *t);

#define iopt_for_each(t, n, start, last)                                                 \
	for ((n) = iopt_tree_first((t), (start), (last)); (n);                           \
	     (n) = iopt_tree_next((t), (n), (start), (last)))

/* ------------------------------------------------------------------ */
/* Objects */

enum iofd_obj_type {
	IOFD_OBJ_IOAS = 1,
	IOFD_OBJ_HWPT_PAGING,
	IOFD_OBJ_HWPT_NESTED,
	IOFD_OBJ_DEVICE,
	IOFD_OBJ_ACCESS,
	IOFD_OBJ_FAULT,
	IOFD_OBJ_VIOMMU,
	IOFD_OBJ_VDEVICE,
	IOFD_OBJ_VEVENTQ,
	IOFD_OBJ_HW_QUEUE,
};

struct iofd_ctx;

struct iofd_obj {
	UT_hash_handle hh;
	uint32_t id;
	enum iofd_obj_type type;
	unsigned users; /* objects depending on this one */
	void (*destroy)(struct iofd_ctx *ctx, struct iofd_obj *obj);
};

/* The pages a mapping was made from: a range of the caller's address space.
 * COPY makes a second area over the same pages. */
struct iofd_pages {
	uint64_t uva;
	uint64_t length;
	unsigned refs; /* areas using it */
	bool writable;
};

struct iopt_area {
	struct iopt_node node; /* IOVA range */
	struct iofd_pages *pages;
	uint64_t pages_off; /* offset of node.start into pages */
	uint32_t flags;     /* IOFD_MAP_READABLE / WRITEABLE */
};

/* One reservation; reservations may overlap. */
struct iopt_reserved {
	struct iopt_reserved *next;
	uint64_t start, last;
	const void *owner; /* who reserved it (the IOAS itself for TEST ADD_RESERVED) */
};

/* A piece of a mapping: length bytes of pages from pages_off. */
struct iopt_segment {
	struct iofd_pages *pages;
	uint64_t pages_off;
	uint64_t length;
	uint32_t flags;
};

struct iopt {
	struct iopt_tree areas;
	struct iopt_tree reserved;  /* union of resv_list, disjoint */
	struct iopt_reserved *resv_list;
	struct iopt_tree allowed;   /* empty: everything is allowed */
	uint64_t iova_alignment;   /* 1, or more when huge pages are off / domains attached */
	bool large_pages_disabled; /* OPTION HUGE_PAGES = 0 */
};

struct iofd_ioas {
	struct iofd_obj obj;
	struct iopt iopt;
};

struct iofd_ctx {
	struct iofd_obj *objects; /* uthash by id */
	struct iofd_uaccess ua;
	enum iofd_abi abi;
	uint32_t vfio_ioas_id;    /* 0: none */
	bool account_mm;          /* RLIMIT_MODE 1 */
	uint32_t test_memory_limit; /* TEST SET_TEMP_MEMORY_LIMIT, pages */
};

/* A decoded ioctl call. */
struct iofd_ucmd {
	struct iofd_ctx *ctx;
	uint64_t uptr;      /* caller's argument pointer */
	uint32_t user_size; /* the caller's struct size */
	void *cmd;          /* our copy, zero-extended to our size */
	size_t size;        /* our struct size */
};

/* Does the caller hold a capability (Linux numbering)? */
bool iofd_capable(struct iofd_ctx *ctx, int cap);
#define IOFD_CAP_SYS_RESOURCE 24

/* Write the reply (our struct, truncated to the caller's size). */
int iofd_ucmd_respond(struct iofd_ucmd *uc);

/* Register a new object: assigns the lowest free ID (from 1). */
int iofd_obj_add(struct iofd_ctx *ctx, struct iofd_obj *obj, enum iofd_obj_type type,
		 void (*destroy)(struct iofd_ctx *, struct iofd_obj *));
/* Look an object up by ID and type (0: any type); NULL if absent. */
struct iofd_obj *iofd_obj_find(struct iofd_ctx *ctx, uint32_t id, enum iofd_obj_type type);
/* Unregister and destroy. */
void iofd_obj_del(struct iofd_ctx *ctx, struct iofd_obj *obj);

static inline struct iofd_ioas *iofd_ioas_find(struct iofd_ctx *ctx, uint32_t id)
{
	struct iofd_obj *o = iofd_obj_find(ctx, id, IOFD_OBJ_IOAS);
	return o ? (struct iofd_ioas *)o : NULL;
}

/* ------------------------------------------------------------------ */
/* IO page table (iopt.c) */

void iopt_init(struct iopt *iopt);
void iopt_fini(struct iopt *iopt);
uint64_t iopt_page_size(void);
void iopt_pages_put(struct iofd_pages *pages);
/* The last byte of [start, start + length): -EINVAL if length is 0,
 * -EOVERFLOW if the range wraps. */
int iopt_range_last(uint64_t start, uint64_t length, uint64_t *last);
/* Length rules of a new mapping: non-zero, aligned; 0 or -EINVAL. */
int iopt_check_length(struct iopt *iopt, uint64_t length);
/* Map segments back to back at *iova (fixed) or at an allocated IOVA
 * (written to *iova); one area per segment.  0 or -errno, nothing changed
 * on error. */
int iopt_map_segments(struct iopt *iopt, uint64_t *iova, bool fixed,
		      const struct iopt_segment *segs, size_t nsegs, uint32_t flags);
/* The segments covering [start, start+length) contiguously (ENOENT at a
 * gap); *out is malloc'ed. */
int iopt_collect_segments(struct iopt *iopt, uint64_t start, uint64_t length,
			  struct iopt_segment **out, size_t *nout);
/* Choose an IOVA for length bytes whose low bits match uva's; 0 or -ENOSPC. */
int iopt_alloc_iova(struct iopt *iopt, uint64_t *iova, uint64_t uva, uint64_t length);
/* Unmap every area inside [start, last]; an area crossing a bound gives
 * -ENOENT, as does finding no area at all (unless `all`). */
int iopt_unmap_range(struct iopt *iopt, uint64_t start, uint64_t last, bool all,
		     uint64_t *unmapped);
/* Split the area holding `at` so that `at` ends an area (VFIO type1
 * partial unmap); 0 if it already does or no area holds it. */
int iopt_cut(struct iopt *iopt, uint64_t at);
/* Reserve [start, last] for owner; -EADDRINUSE if mapped or not allowed. */
int iopt_reserve(struct iopt *iopt, uint64_t start, uint64_t last, const void *owner);
void iopt_unreserve_owner(struct iopt *iopt, const void *owner);
/* Replace the allowed set; -EADDRINUSE if a new range excludes a mapping
 * or a reserved range gets allowed. */
int iopt_set_allowed(struct iopt *iopt, const struct iofd_iova_range *ranges, uint32_t n);
/* Usable ranges (allowed minus reserved): fills up to max, returns count. */
uint32_t iopt_usable_ranges(struct iopt *iopt, struct iofd_iova_range *out, uint32_t max);
/* HUGE_PAGES off: raise alignment to the host page; -EADDRINUSE if an area
 * is not aligned to it. */
int iopt_set_large_pages(struct iopt *iopt, bool enable);

/* ------------------------------------------------------------------ */
/* Handlers (ioas.c, main.c) */

/* Map length bytes of the caller's memory at uva (one new area);
 * -EOVERFLOW if uva + length wraps. */
int iofd_map_user(struct iopt *iopt, uint64_t *iova, bool fixed, uint64_t uva,
		  uint64_t length, uint32_t flags);
int iofd_ioas_alloc_ioctl(struct iofd_ucmd *uc);
int iofd_ioas_allow_iovas(struct iofd_ucmd *uc);
int iofd_ioas_copy(struct iofd_ucmd *uc);
int iofd_ioas_iova_ranges(struct iofd_ucmd *uc);
int iofd_ioas_map(struct iofd_ucmd *uc);
int iofd_ioas_unmap(struct iofd_ucmd *uc);
int iofd_option(struct iofd_ucmd *uc);
int iofd_vfio_ioas(struct iofd_ucmd *uc);
int iofd_test_cmd(struct iofd_ucmd *uc);
/* VFIO type1 container ioctls (nr < 0x80); -ENOTTY for others. */
long iofd_vfio_ioctl(struct iofd_ctx *ctx, unsigned long request, uint64_t arg);

#endif
