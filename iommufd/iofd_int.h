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
	IOFD_OBJ_SELFTEST, /* the selftest's mock device handle (stdev) */
};

struct iofd_ctx;
struct iofd_access;

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
	const struct iofd_uaccess *ua; /* whose memory */
	uint32_t *pin_users;           /* per host page; NULL until first pinned */
	struct iofd_mfile *file;       /* IOAS_MAP_FILE: uva is a file offset */
};

/* Memory files (mfile.c).  A record per file, shared by every mapping of
 * it; its user access reads and writes the file by offset. */
struct iofd_mfile;
/* A record for the caller's descriptor fd (a reference): -EOPNOTSUPP if
 * the transport cannot fetch descriptors, -EBADF. */
int iofd_mfile_get(const struct iofd_uaccess *caller, int fd, struct iofd_mfile **out);
void iofd_mfile_put(struct iofd_mfile *f);
const struct iofd_uaccess *iofd_mfile_uaccess(struct iofd_mfile *f);
bool iofd_mfile_writable(const struct iofd_mfile *f);
/* If uaddr of process pid is a shared mapping of a recorded file: the
 * file's pin key and the byte's file offset. */
bool iofd_mfile_resolve(int pid, uint64_t uaddr, uint64_t *mm, uint64_t *off);
/* The pid of ua's process: 0 stands for this process, and the transports'
 * keys carry the pid in their low 32 bits. */
int iofd_uaccess_pid(const struct iofd_uaccess *ua);

/* Pin [off, off + len) of p for one more user (pages.c); 0, -EFAULT if the
 * caller's memory is missing (or read-only for a writable mapping),
 * -ENOMEM.  Nothing changes on failure. */
int iofd_pages_pin(struct iofd_pages *p, uint64_t off, uint64_t len);
void iofd_pages_unpin(struct iofd_pages *p, uint64_t off, uint64_t len);
/* The simulated physical address of byte off (which must be pinned). */
uint64_t iofd_pages_phys(const struct iofd_pages *p, uint64_t off);
int iofd_uaccess_probe(const struct iofd_uaccess *ua, uint64_t addr, uint64_t len, bool write);
/* /proc/<pid>/maps says [uaddr, uaddr + len) is mapped (and writable). */
int iofd_probe_maps(int pid, uint64_t uaddr, uint64_t len, bool write);

/* The process-wide pin table (pin.c); pages are host-page aligned. */
/* Pin pages of ua's address space (ua->mm), reached through ua. */
int iofd_pin_pages(const struct iofd_uaccess *ua, uint64_t first_page, uint64_t npages,
		   uint64_t *frames);
void iofd_unpin_pages(uint64_t mm, uint64_t first_page, uint64_t npages);
unsigned iofd_pin_count(uint64_t mm, uint64_t page);
bool iofd_pin_frame(uint64_t mm, uint64_t page, uint64_t *frame);
bool iofd_pin_lookup_frame(uint64_t frame, uint64_t *mm, uint64_t *page);
size_t iofd_pinned_pages(void);
/* Read or write simulated physical memory [pa, pa + len) of pinned frames:
 * the pinning process's pages.  0, or -EFAULT where no page is pinned or
 * the process refuses. */
int iofd_frame_access(uint64_t pa, void *buf, size_t len, bool write);
/* The first frame number the pin table hands out (frames are never reused). */
#define IOFD_PIN_FIRST_FRAME (UINT64_C(1) << 20)

/* ------------------------------------------------------------------ */
/* Domains: the IO page tables devices translate through. */

struct iofd_domain;

struct iofd_domain_ops {
	/* Map count pages of pgsize (a size in pgsize_bitmap) from iova to
	 * phys; 0 or -errno with nothing mapped. */
	int (*map)(struct iofd_domain *d, uint64_t iova, uint64_t phys, uint64_t pgsize,
		   uint64_t count, uint32_t prot);
	void (*unmap)(struct iofd_domain *d, uint64_t iova, uint64_t len);
	int (*set_dirty_tracking)(struct iofd_domain *d, bool enable);
	/* record(arg, iova, size) for each dirty page in [iova, iova + len). */
	int (*read_and_clear_dirty)(struct iofd_domain *d, uint64_t iova, uint64_t len,
				    bool no_clear,
				    void (*record)(void *arg, uint64_t iova, uint64_t size),
				    void *arg);
	void (*free)(struct iofd_domain *d);
};

struct iofd_domain {
	const struct iofd_domain_ops *ops;
	uint64_t aperture_start, aperture_last;
	uint64_t pgsize_bitmap;
	bool dirty_ops;     /* allocated with dirty tracking */
	bool nest_parent;
	bool nested;        /* a stage-1 domain over a parent */
	struct iofd_domain *parent;
	const void *driver; /* which driver made it (devices may attach only to their own) */
};

/* The smallest page a domain maps. */
static inline uint64_t iofd_domain_min_page(const struct iofd_domain *d)
{
	return d->pgsize_bitmap & -d->pgsize_bitmap;
}

struct iopt_area {
	struct iopt_node node; /* IOVA range */
	struct iofd_pages *pages;
	uint64_t pages_off; /* offset of node.start into pages */
	uint32_t flags;     /* IOFD_MAP_READABLE / WRITEABLE */
	bool pinned;        /* holds a pin on its pages (domains or accesses need them) */
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
	/* whose memory new mappings come from: the context's current caller */
	const struct iofd_uaccess *const *caller;
	struct iofd_domain **domains;  /* attached domains: areas are mapped into each */
	unsigned ndomains;
	uint64_t access_alignment;     /* largest alignment an access asks for */
	struct iofd_access *accesses;  /* selftest access objects using it */
	struct iopt_lock *locks;       /* ranges an owner pinned: unmap is EBUSY */
};

/* A range of an IOAS that something (a HW queue) owns: while it is held,
 * IOAS_UNMAP of an area holding any of it fails with EBUSY (Linux's
 * internal access pins, area->num_locks). */
struct iopt_lock {
	struct iopt_lock *next;
	uint64_t start, last;
};

struct iofd_hwpt;

struct iofd_ioas {
	struct iofd_obj obj;
	struct iopt iopt;
	struct iofd_hwpt *hwpts; /* paging HWPTs over it, oldest first */
};

struct iofd_ctx {
	unsigned refs;            /* the open /dev/iommu + each iofd_file */
	struct iofd_obj *objects; /* uthash by id */
	struct iofd_uaccess open_ua;   /* the caller given at open */
	const struct iofd_uaccess *ua; /* the caller of the ioctl being served */
	enum iofd_abi abi;
	uint32_t vfio_ioas_id;    /* 0: none */
	bool account_mm;          /* RLIMIT_MODE 1 */
	uint32_t test_memory_limit; /* TEST SET_TEMP_MEMORY_LIMIT, pages */
	struct iofd_mmap_region *mmaps; /* what mmap(2) of the descriptor can map */
};

/* Drop a reference; the last one destroys every object. */
void iofd_ctx_put(struct iofd_ctx *ctx);

/* ------------------------------------------------------------------ */
/* Descriptors made by ioctls (file.c) */

struct iofd_file_ops {
	long (*read)(struct iofd_file *file, void *buf, size_t len, uint64_t offset);
	long (*write)(struct iofd_file *file, const void *buf, size_t len, uint64_t offset);
	unsigned (*poll)(struct iofd_file *file);
	void (*release)(struct iofd_file *file);
};

struct iofd_file {
	const struct iofd_file_ops *ops;
	void *priv;
	struct iofd_ctx *ctx; /* referenced */
};

/* Make a file and have the transport give the caller a descriptor for it
 * (*fd); -EOPNOTSUPP when the transport cannot. */
int iofd_file_install(struct iofd_ctx *ctx, const struct iofd_file_ops *ops, void *priv,
		      struct iofd_file **out, int *fd);
/* Undo iofd_file_install after a later failure (the release op is not run). */
void iofd_file_uninstall(struct iofd_file *file, int fd);
/* Finish an ioctl that creates obj with a descriptor: install a file over
 * it (the descriptor counts as a user of obj), store its number in *fd_out
 * (a field of the reply) and respond.  On any failure obj is deleted and
 * nothing is left behind. */
struct iofd_ucmd;
int iofd_file_respond(struct iofd_ucmd *uc, struct iofd_obj *obj, const struct iofd_file_ops *ops,
		      void *priv, uint32_t *fd_out);

/* ------------------------------------------------------------------ */
/* Fault queues (fault.c) */

struct iofd_fault_group;

struct iofd_fault {
	struct iofd_obj obj;
	struct iofd_fault_group *pending;   /* queued, in order */
	struct iofd_fault_group *delivered; /* read, awaiting a response */
	uint64_t responses;
};

/* Queue one group of page requests (count records, cookie filled at read). */
int iofd_fault_report(struct iofd_fault *fault, const struct iofd_hwpt_pgfault *recs,
		      uint32_t count);

/* A device left a fault-capable HWPT: its outstanding requests are
 * answered INVALID and removed, as Linux's auto-response does. */
void iofd_fault_drop_device(struct iofd_fault *fault, uint32_t dev_id);

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

/* Copy entry i of a user array of entry_len-byte entries into dst (size
 * bytes): a shorter entry is zero-extended, bytes beyond size must be zero
 * (E2BIG), as Linux's full-array copies of invalidation commands. */
int iofd_copy_array_entry(struct iofd_ctx *ctx, uint64_t uptr, uint32_t entry_len, uint32_t i,
			  void *dst, size_t size);

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
/* Devices and HWPTs (device.c, hwpt.c) */

struct iofd_device;
struct iofd_hwpt;
struct iofd_viommu;
struct iofd_hw_queue;

/* Capabilities a driver is asked about (Linux's enum iommu_cap subset). */
enum iofd_cap {
	IOFD_CAP_CACHE_COHERENCY,
	IOFD_CAP_DIRTY_TRACKING,
};

/* What an IOMMU driver supplies for its devices.  Nested-domain data and
 * invalidation entries stay in the caller's memory: the driver copies them
 * with iofd_copy_driver_data() under Linux's rules. */
struct iofd_driver {
	const char *name;
	/* A paging domain for dev; 0 or -errno (EOPNOTSUPP for flags it
	 * does not take). */
	int (*domain_alloc_paging)(struct iofd_device *dev, uint32_t flags,
				   struct iofd_domain **out);
	/* A nested domain over parent from the caller's data. */
	int (*domain_alloc_nested)(struct iofd_ctx *ctx, struct iofd_device *dev,
				   struct iofd_domain *parent, uint32_t flags, uint32_t data_type,
				   uint64_t data_uptr, uint32_t data_len, struct iofd_domain **out);
	/* Attach dev to d (replacing what it is attached to): the driver's
	 * consent and, for a driver of modelled hardware, the configuration
	 * writes.  0 or -errno with nothing changed. */
	int (*attach)(struct iofd_device *dev, struct iofd_domain *d);
	/* dev leaves d and is blocked (optional). */
	void (*detach)(struct iofd_device *dev, struct iofd_domain *d);
	/* PASID attachments (optional: without them, attaching at a PASID
	 * is EOPNOTSUPP).  Attach dev's `pasid` to d, replacing old (NULL:
	 * none), with the configuration writes; 0 or -errno, nothing changed
	 * on failure.  detach_pasid blocks the PASID again. */
	int (*attach_pasid)(struct iofd_device *dev, uint32_t pasid, struct iofd_domain *d,
			    struct iofd_domain *old);
	void (*detach_pasid)(struct iofd_device *dev, uint32_t pasid, struct iofd_domain *d);
	/* User cache invalidation on a nested domain: handle *entry_num
	 * entries, set *entry_num to those done. */
	int (*cache_invalidate_user)(struct iofd_ctx *ctx, struct iofd_domain *d, uint32_t type,
				     uint64_t uptr, uint32_t entry_len, uint32_t *entry_num);
	/* GET_HW_INFO data: fills buf (up to *len bytes), sets *len to its
	 * full size and *type. */
	int (*hw_info)(struct iofd_device *dev, void *buf, uint32_t *len, uint32_t *type);
	bool (*capable)(struct iofd_device *dev, enum iofd_cap cap);
	void (*device_release)(struct iofd_device *dev);
	/* May dev's IOMMU have a vIOMMU of `type` over nest-parent domain
	 * s2?  0, -EOPNOTSUPP (type or hardware), -EINVAL (s2 is another
	 * IOMMU's).  Asked first with s2 NULL: only type and hardware. */
	int (*viommu_alloc)(struct iofd_device *dev, struct iofd_domain *s2, uint32_t type);
	/* A nested domain through a vIOMMU (flags without FAULT_ID_VALID). */
	int (*viommu_alloc_nested)(struct iofd_ctx *ctx, struct iofd_viommu *v,
				   struct iofd_device *dev, uint32_t flags, uint32_t data_type,
				   uint64_t data_uptr, uint32_t data_len, struct iofd_domain **out);
	/* Invalidation commands through a vIOMMU (as cache_invalidate_user). */
	int (*viommu_cache_invalidate)(struct iofd_ctx *ctx, struct iofd_viommu *v, uint32_t type,
				       uint64_t uptr, uint32_t entry_len, uint32_t *entry_num);
	/* Optional: finish a new vIOMMU (its object exists, v->priv is the
	 * driver's) with the caller's driver data (data_len 0: none), as
	 * Linux's viommu_init; 0 or -errno and nothing kept. */
	int (*viommu_init)(struct iofd_ctx *ctx, struct iofd_viommu *v, uint64_t data_uptr,
			   uint32_t data_len);
	void (*viommu_destroy)(struct iofd_ctx *ctx, struct iofd_viommu *v);
	/* HW queues (optional): may v have a queue of `type` (0 or
	 * -EOPNOTSUPP); set one up at index over guest memory whose first
	 * byte is at simulated physical address base_pa; its end. */
	int (*hw_queue_check)(struct iofd_viommu *v, uint32_t type);
	int (*hw_queue_init)(struct iofd_viommu *v, struct iofd_hw_queue *q, uint32_t index,
			     uint64_t base_pa);
	void (*hw_queue_destroy)(struct iofd_hw_queue *q);
};

/* A virtual device: a device's ID (vSID, vRID) in a guest's vIOMMU. */
struct iofd_vdevice {
	struct iofd_obj obj;
	struct iofd_viommu *viommu;
	struct iofd_device *dev;
	uint64_t virt_id;
	struct iofd_vdevice *next; /* in viommu->vdevs */
};

/* A vIOMMU: the guest-visible IOMMU instance over a nest-parent HWPT. */
struct iofd_viommu {
	struct iofd_obj obj;
	struct iofd_hwpt *hwpt; /* the stage-2 parent */
	const struct iofd_driver *drv;
	uint32_t type;
	struct iofd_vdevice *vdevs;
	struct iofd_veventq *veventqs; /* one per type */
	void *priv;                    /* the driver's */
};

/* A vEVENT queue (veventq.c): events of one type from one vIOMMU. */
struct iofd_veventq;
/* Queue an event of `type` (len bytes of data) for v's vEVENT queue of
 * that type: -EOPNOTSUPP if there is none; a full queue records a loss. */
int iofd_viommu_report_event(struct iofd_viommu *v, uint32_t type, const void *data, size_t len);
int iofd_veventq_alloc_ioctl(struct iofd_ucmd *uc);

/* A HW queue (IOMMU_HW_QUEUE_ALLOC): guest memory a vIOMMU's hardware
 * reads by physical address, so its IOVA range is pinned and owned. */
struct iofd_hw_queue {
	struct iofd_obj obj;
	struct iofd_viommu *viommu;
	uint32_t type;
	uint64_t base_iova, length;
	struct iopt_lock lock;       /* the owned range, host pages */
	struct iopt_segment *segs;   /* pinned pieces */
	size_t nsegs;
	void *priv;                  /* the driver's */
};
int iofd_hw_queue_alloc_ioctl(struct iofd_ucmd *uc);

/* Regions mmap(2) of the /dev/iommu descriptor can map (viommu.c): a
 * driver makes one for an object (its owner, which cannot be destroyed
 * while mapped) and hands the caller its offset. */
struct iofd_mmap_region;
/* A region of length bytes (a multiple of the host page), zeroed; *host is
 * the simulator's own view of it. */
int iofd_mmap_region_add(struct iofd_ctx *ctx, struct iofd_obj *owner, uint64_t length,
			 void **host, uint64_t *offset);
void iofd_mmap_region_remove(struct iofd_ctx *ctx, uint64_t offset);

/* The vDEVICE of virt_id in v, NULL if none. */
struct iofd_vdevice *iofd_viommu_find_vdev(struct iofd_viommu *v, uint64_t virt_id);
int iofd_viommu_alloc_ioctl(struct iofd_ucmd *uc);
int iofd_vdevice_alloc_ioctl(struct iofd_ucmd *uc);
/* Drop a device's vDEVICE as the device goes (Linux 6.17's tombstone). */
void iofd_vdevice_drop(struct iofd_ctx *ctx, struct iofd_device *dev);

struct iofd_device {
	struct iofd_obj obj;
	const struct iofd_driver *drv;
	void *drv_data;
	struct iofd_hwpt *hwpt; /* attached, NULL when blocked */
	struct iofd_vdevice *vdev; /* its one vDEVICE, if any */
	uint8_t max_pasid_log2;    /* 0: no PASIDs */
	struct iofd_pasid_attach *pasids; /* PASID attachments (device.c) */
	unsigned npasids, cpasids;
};

/* One PASID of a device attached to a HWPT (a user of both). */
struct iofd_pasid_attach {
	uint32_t pasid;
	struct iofd_hwpt *hwpt;
};

struct iofd_hwpt {
	struct iofd_obj obj;
	struct iofd_domain *domain;
	const struct iofd_driver *drv;
	struct iofd_ioas *ioas;     /* paging: the IOAS it mirrors */
	struct iofd_hwpt *parent;   /* nested: the stage-2 paging HWPT */
	struct iofd_viommu *viommu; /* nested through a vIOMMU */
	struct iofd_fault *fault;   /* page requests go there */
	bool auto_domain;           /* made by attaching a device to an IOAS */
	bool nest_parent;
	bool pasid_compat;          /* IOMMU_HWPT_ALLOC_PASID: usable at a PASID */
	struct iofd_hwpt *next_in_ioas;
};

static inline struct iofd_device *iofd_device_find(struct iofd_ctx *ctx, uint32_t id)
{
	return (struct iofd_device *)iofd_obj_find(ctx, id, IOFD_OBJ_DEVICE);
}

/* Bind a device of driver drv (a new DEVICE object). */
int iofd_device_bind(struct iofd_ctx *ctx, const struct iofd_driver *drv, void *drv_data,
		     struct iofd_device **out);
/* Attach a bound device to pt_id (an IOAS: an automatic domain is found or
 * made; or a HWPT), writing the HWPT's ID back; replace=true swaps an
 * existing attachment.  0 or -errno, nothing changed on failure. */
int iofd_device_attach(struct iofd_ctx *ctx, struct iofd_device *dev, uint32_t *pt_id,
		       bool replace);
void iofd_device_detach(struct iofd_ctx *ctx, struct iofd_device *dev);
/* The same at a PASID (IOMMU_NO_PASID, 0, is the RID: the calls above).
 * replace needs an attachment there; an IOAS cannot be attached at a PASID
 * (its automatic domains are not PASID-compatible): EINVAL. */
int iofd_device_pasid_attach(struct iofd_ctx *ctx, struct iofd_device *dev, uint32_t pasid,
			     uint32_t *pt_id, bool replace);
/* Detaching a PASID nothing is attached at does nothing. */
void iofd_device_pasid_detach(struct iofd_ctx *ctx, struct iofd_device *dev, uint32_t pasid);
void iofd_device_pasid_detach_all(struct iofd_ctx *ctx, struct iofd_device *dev);
/* The HWPT at dev's pasid (0: the RID's), NULL if blocked. */
struct iofd_hwpt *iofd_device_pasid_hwpt(struct iofd_device *dev, uint32_t pasid);
/* The plain attach step: EINVAL if attached elsewhere or the driver refuses. */
int iofd_device_attach_hwpt(struct iofd_device *dev, struct iofd_hwpt *hwpt);
/* Copy driver data from the caller under Linux's driver-data rules:
 * shorter than min_len or longer than ours: EINVAL; missing memory:
 * EFAULT. */
int iofd_copy_driver_data(struct iofd_ctx *ctx, void *dst, size_t size, size_t min_len,
			  uint64_t uptr, uint32_t len);

/* The driver of devices behind the modelled VT-d or SMMUv3 (host.c). */
extern const struct iofd_driver iofd_host_driver;

/* The selftest mock IOMMU driver (mock.c). */
extern const struct iofd_driver iofd_mock_driver;
#define IOFD_MOCK_FLAGS_DEVICE_NO_DIRTY (1u << 0)
#define IOFD_MOCK_FLAGS_DEVICE_HUGE_IOVA (1u << 1)
#define IOFD_MOCK_FLAGS_DEVICE_PASID (1u << 2)
int iofd_mock_device_create(struct iofd_ctx *ctx, uint32_t dev_flags, struct iofd_device **out);
/* The mock page table behind a paging HWPT, NULL if it is not the mock's. */
struct mock_pt *iofd_mock_pt(struct iofd_hwpt *hwpt);
/* The nested mock domain's IOTLB array (4 entries), NULL if not the mock's. */
uint32_t *iofd_mock_iotlb(struct iofd_hwpt *hwpt);
/* The mock device's cache array (4 entries), NULL if not a mock device. */
uint32_t *iofd_mock_dev_cache(struct iofd_device *dev);
/* IOMMU_TEST_OP_TRIGGER_VEVENT: a selftest vEVENT {virt_id} from dev. */
int iofd_mock_trigger_vevent(struct iofd_device *dev);

int iofd_hwpt_alloc(struct iofd_ucmd *uc);
int iofd_get_hw_info(struct iofd_ucmd *uc);
int iofd_hwpt_set_dirty_tracking(struct iofd_ucmd *uc);
int iofd_hwpt_get_dirty_bitmap(struct iofd_ucmd *uc);
int iofd_hwpt_invalidate(struct iofd_ucmd *uc);
/* Make a paging HWPT over ioas for dev (auto: by attaching to the IOAS);
 * with attach, dev is attached to it first (Linux's immediate attach). */
int iofd_hwpt_paging_alloc(struct iofd_ctx *ctx, struct iofd_ioas *ioas, struct iofd_device *dev,
			   uint32_t flags, bool auto_domain, bool attach, struct iofd_hwpt **out);
/* Drop a device's use of hwpt; an automatic domain nobody uses goes. */
void iofd_hwpt_put(struct iofd_ctx *ctx, struct iofd_hwpt *hwpt);

/* ------------------------------------------------------------------ */
/* IO page table (iopt.c) */

void iopt_init(struct iopt *iopt, const struct iofd_uaccess *const *caller);
/* Attach a domain: raise the alignment to its smallest page (EINVAL above
 * the host page, EADDRINUSE if an area does not conform), reserve what lies
 * outside its aperture (EADDRINUSE if mapped), pin and map every area
 * (EFAULT for missing memory).  Nothing changes on failure. */
int iopt_table_add_domain(struct iopt *iopt, struct iofd_domain *d);
void iopt_table_remove_domain(struct iopt *iopt, struct iofd_domain *d);
/* Map a new area into every attached domain (pinning first); undone on
 * failure. */
int iopt_area_fill_domains(struct iopt *iopt, struct iopt_area *area);
void iopt_area_unfill_domains(struct iopt *iopt, struct iopt_area *area);
void iopt_fini(struct iopt *iopt);
uint64_t iopt_page_size(void);
void iopt_pages_put(struct iofd_pages *pages);
/* Free pages nothing refers to (a mapping that failed). */
void iopt_pages_free(struct iofd_pages *pages);
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
/* Does an owner's pin (a HW queue's) cover any of [start, last]? */
bool iopt_range_locked(const struct iopt *iopt, uint64_t start, uint64_t last);
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
/* The alignment areas need now: host page with huge pages off, each
 * domain's smallest page, each access's. */
uint64_t iopt_want_alignment(const struct iopt *iopt);
/* Does every area's IOVA, length and offset into its first page keep
 * alignment align?  0 or -EADDRINUSE (Linux's iopt_check_iova_alignment). */
int iopt_check_alignment(struct iopt *iopt, uint64_t align);

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
int iofd_ioas_map_file(struct iofd_ucmd *uc);
int iofd_ioas_change_process(struct iofd_ucmd *uc);
int iofd_ioas_unmap(struct iofd_ucmd *uc);
int iofd_option(struct iofd_ucmd *uc);
int iofd_vfio_ioas(struct iofd_ucmd *uc);
int iofd_test_cmd(struct iofd_ucmd *uc);
/* The access-object ops of IOMMU_TEST_CMD (access.c); EOPNOTSUPP for ops
 * nobody serves. */
int iofd_test_access_cmd(struct iofd_ucmd *uc);
/* An unmap is about to remove [start, last]: accesses drop their pins
 * there (access.c). */
void iofd_access_notify_unmap(struct iopt *iopt, uint64_t start, uint64_t last);
int iofd_fault_alloc(struct iofd_ucmd *uc);
/* VFIO type1 container ioctls (nr < 0x80); -ENOTTY for others. */
long iofd_vfio_ioctl(struct iofd_ctx *ctx, unsigned long request, uint64_t arg);

#endif
