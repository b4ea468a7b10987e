/*
 * iommufd/uapi.h - the binary layout of the iommufd ioctls, as iommusim
 * serves them.
 *
 * The numbers, field orders and sizes are facts of the Linux user API
 * (include/uapi/linux/iommufd.h, newest mainline); the names are ours: the
 * kernel's `struct iommu_ioas_map` is `struct iofd_ioas_map` here.  Every
 * structure is checked against the published size and against the offset
 * of its last field of the first version (the minimum size a caller may
 * pass) at compile time, at the bottom of this file.
 *
 * All iommufd ioctls are _IO(';', nr): request = 0x3b00 | nr, with no size
 * or direction bits.  The first field of every argument is its size.
 */
#ifndef IOMMUFD_UAPI_H
#define IOMMUFD_UAPI_H

#include <stddef.h>
#include <stdint.h>

/* The kernel aligns every 64-bit field to 8 bytes, on 32-bit hosts too. */
typedef uint64_t iofd_u64 __attribute__((aligned(8)));

#define IOFD_TYPE 0x3b /* ';' */
#define IOFD_REQ(nr) ((IOFD_TYPE << 8) | (nr))

enum iofd_cmd_nr {
	IOFD_NR_DESTROY = 0x80,
	IOFD_NR_IOAS_ALLOC = 0x81,
	IOFD_NR_IOAS_ALLOW_IOVAS = 0x82,
	IOFD_NR_IOAS_COPY = 0x83,
	IOFD_NR_IOAS_IOVA_RANGES = 0x84,
	IOFD_NR_IOAS_MAP = 0x85,
	IOFD_NR_IOAS_UNMAP = 0x86,
	IOFD_NR_OPTION = 0x87,
	IOFD_NR_VFIO_IOAS = 0x88,
	IOFD_NR_HWPT_ALLOC = 0x89,
	IOFD_NR_GET_HW_INFO = 0x8a,
	IOFD_NR_HWPT_SET_DIRTY_TRACKING = 0x8b,
	IOFD_NR_HWPT_GET_DIRTY_BITMAP = 0x8c,
	IOFD_NR_HWPT_INVALIDATE = 0x8d,
	IOFD_NR_FAULT_QUEUE_ALLOC = 0x8e,
	IOFD_NR_IOAS_MAP_FILE = 0x8f,
	IOFD_NR_VIOMMU_ALLOC = 0x90,
	IOFD_NR_VDEVICE_ALLOC = 0x91,
	IOFD_NR_IOAS_CHANGE_PROCESS = 0x92,
	IOFD_NR_VEVENTQ_ALLOC = 0x93,
	IOFD_NR_HW_QUEUE_ALLOC = 0x94,
	IOFD_NR_TEST_CMD = 0xa0,
};

/* IOMMU_DESTROY */
struct iofd_destroy {
	uint32_t size;
	uint32_t id;
};

/* IOMMU_IOAS_ALLOC */
struct iofd_ioas_alloc {
	uint32_t size;
	uint32_t flags;
	uint32_t out_ioas_id;
};

/* One inclusive IOVA range, as IOAS_ALLOW_IOVAS and IOAS_IOVA_RANGES pass. */
struct iofd_iova_range {
	iofd_u64 start;
	iofd_u64 last;
};

/* IOMMU_IOAS_ALLOW_IOVAS */
struct iofd_ioas_allow_iovas {
	uint32_t size;
	uint32_t ioas_id;
	uint32_t num_iovas;
	uint32_t reserved;
	iofd_u64 allowed_iovas; /* user pointer to iofd_iova_range[num_iovas] */
};

/* IOMMU_IOAS_COPY; flags as IOAS_MAP's. */
struct iofd_ioas_copy {
	uint32_t size;
	uint32_t flags;
	uint32_t dst_ioas_id;
	uint32_t src_ioas_id;
	iofd_u64 length;
	iofd_u64 dst_iova;
	iofd_u64 src_iova;
};

/* IOMMU_IOAS_IOVA_RANGES */
struct iofd_ioas_iova_ranges {
	uint32_t size;
	uint32_t ioas_id;
	uint32_t num_iovas;
	uint32_t reserved;
	iofd_u64 allowed_iovas; /* user pointer, filled */
	iofd_u64 out_iova_alignment;
};

/* IOMMU_IOAS_MAP flags (also IOAS_COPY and IOAS_MAP_FILE). */
enum iofd_map_flags {
	IOFD_MAP_FIXED_IOVA = 1u << 0,
	IOFD_MAP_WRITEABLE = 1u << 1,
	IOFD_MAP_READABLE = 1u << 2,
};

/* IOMMU_IOAS_MAP */
struct iofd_ioas_map {
	uint32_t size;
	uint32_t flags;
	uint32_t ioas_id;
	uint32_t reserved;
	iofd_u64 user_va;
	iofd_u64 length;
	iofd_u64 iova; /* in with FIXED_IOVA, out otherwise */
};

/* IOMMU_IOAS_UNMAP */
struct iofd_ioas_unmap {
	uint32_t size;
	uint32_t ioas_id;
	iofd_u64 iova;
	iofd_u64 length; /* in: range; out: bytes unmapped */
};

/* IOMMU_OPTION */
enum iofd_option_id {
	IOFD_OPTION_RLIMIT_MODE = 0,
	IOFD_OPTION_HUGE_PAGES = 1,
};

enum iofd_option_op {
	IOFD_OPTION_OP_SET = 0,
	IOFD_OPTION_OP_GET = 1,
};

struct iofd_option {
	uint32_t size;
	uint32_t option_id;
	uint16_t op;
	uint16_t reserved;
	uint32_t object_id;
	iofd_u64 val64;
};

/* IOMMU_VFIO_IOAS */
enum iofd_vfio_ioas_op {
	IOFD_VFIO_IOAS_GET = 0,
	IOFD_VFIO_IOAS_SET = 1,
	IOFD_VFIO_IOAS_CLEAR = 2,
};

struct iofd_vfio_ioas {
	uint32_t size;
	uint32_t ioas_id;
	uint16_t op;
	uint16_t reserved;
};

/* Statistics slot of an ioctl request: nr when it is exactly _IO(';', nr)
 * (the only form the kernel serves), IOFD_REQ_OTHER for anything else,
 * e.g. _IOWR(';', nr, size), which the kernel answers ENOTTY. */
#define IOFD_REQ_OTHER 256u
static inline unsigned iofd_request_slot(unsigned long request)
{
	return (request & ~0xfful) == (unsigned long)IOFD_REQ(0) ? (unsigned)(request & 0xff)
								 : IOFD_REQ_OTHER;
}

/* The uAPI name of request _IO(';', nr) ("IOMMU_IOAS_MAP", "VFIO_DEVICE_GET_INFO",
 * ...), NULL if none (iommufd/main.c). */
const char *iofd_request_name(unsigned nr);

/* IOMMU_HWPT_ALLOC */
enum iofd_hwpt_alloc_flags {
	IOFD_HWPT_ALLOC_NEST_PARENT = 1u << 0,
	IOFD_HWPT_ALLOC_DIRTY_TRACKING = 1u << 1,
	IOFD_HWPT_FAULT_ID_VALID = 1u << 2,
	IOFD_HWPT_ALLOC_PASID = 1u << 3, /* newer than 6.12 */
};

enum iofd_hwpt_data_type {
	IOFD_HWPT_DATA_NONE = 0,
	IOFD_HWPT_DATA_VTD_S1 = 1,
	IOFD_HWPT_DATA_ARM_SMMUV3 = 2,
	IOFD_HWPT_DATA_SELFTEST = 0xdead,
};

struct iofd_hwpt_alloc {
	uint32_t size;
	uint32_t flags;
	uint32_t dev_id;
	uint32_t pt_id;
	uint32_t out_hwpt_id;
	uint32_t reserved;
	uint32_t data_type;
	uint32_t data_len;
	iofd_u64 data_uptr;
	uint32_t fault_id;
	uint32_t reserved2;
};

/* IOMMU_HWPT_DATA_VTD_S1: the guest's first-stage table (VT-d nested). */
enum iofd_hwpt_vtd_s1_flags {
	IOFD_VTD_S1_SRE = 1u << 0,  /* supervisor requests */
	IOFD_VTD_S1_EAFE = 1u << 1, /* extended access flag */
	IOFD_VTD_S1_WPE = 1u << 2,  /* write protect */
};

struct iofd_hwpt_vtd_s1 {
	iofd_u64 flags;
	iofd_u64 pgtbl_addr;
	uint32_t addr_width; /* 48 (4-level) or 57 (5-level) */
	uint32_t reserved;
};

/* IOMMU_HWPT_DATA_ARM_SMMUV3: the guest STE's first two words. */
struct iofd_hwpt_arm_smmuv3 {
	iofd_u64 ste[2];
};

/* IOMMU_GET_HW_INFO */
enum iofd_hw_info_type {
	IOFD_HW_INFO_TYPE_NONE = 0,
	IOFD_HW_INFO_TYPE_INTEL_VTD = 1,
	IOFD_HW_INFO_TYPE_ARM_SMMUV3 = 2,
	IOFD_HW_INFO_TYPE_SELFTEST = 0xfeedbeef,
};

#define IOFD_HW_INFO_FLAG_INPUT_TYPE (1u << 0)

enum iofd_hw_capabilities {
	IOFD_HW_CAP_DIRTY_TRACKING = 1u << 0,
	IOFD_HW_CAP_PCI_PASID_EXEC = 1u << 1,
	IOFD_HW_CAP_PCI_PASID_PRIV = 1u << 2,
};

struct iofd_hw_info {
	uint32_t size;
	uint32_t flags;
	uint32_t dev_id;
	uint32_t data_len;
	iofd_u64 data_uptr;
	uint32_t data_type; /* in with FLAG_INPUT_TYPE, out always */
	uint8_t out_max_pasid_log2;
	uint8_t reserved[3];
	iofd_u64 out_capabilities;
};

/* GET_HW_INFO data of IOMMU_HW_INFO_TYPE_INTEL_VTD */
#define IOFD_HW_INFO_VTD_ERRATA_772415_SPR17 (1u << 0)
struct iofd_hw_info_vtd {
	uint32_t flags;
	uint32_t reserved;
	iofd_u64 cap_reg;  /* VT-d spec 11.4.2 */
	iofd_u64 ecap_reg; /* 11.4.3 */
};

/* GET_HW_INFO data of IOMMU_HW_INFO_TYPE_ARM_SMMUV3 */
struct iofd_hw_info_arm_smmuv3 {
	uint32_t flags;
	uint32_t reserved;
	uint32_t idr[6];
	uint32_t iidr;
	uint32_t aidr;
};

/* IOMMU_VIOMMU_ALLOC (6.13+; data fields 6.17+) */
#define IOFD_VIOMMU_TYPE_ARM_SMMUV3 1u
struct iofd_viommu_alloc {
	uint32_t size;
	uint32_t flags;
	uint32_t type;
	uint32_t dev_id;
	uint32_t hwpt_id;
	uint32_t out_viommu_id;
	uint32_t data_len;
	uint32_t reserved;
	iofd_u64 data_uptr;
};

/* IOMMU_VDEVICE_ALLOC (6.13+) */
struct iofd_vdevice_alloc {
	uint32_t size;
	uint32_t viommu_id;
	uint32_t dev_id;
	uint32_t out_vdevice_id;
	iofd_u64 virt_id;
};

/* IOMMU_VEVENTQ_ALLOC (6.15+) and what its descriptor reads. */
#define IOFD_VEVENTQ_TYPE_ARM_SMMUV3 1u
#define IOFD_VEVENTQ_TYPE_TEGRA241_CMDQV 2u
struct iofd_veventq_alloc {
	uint32_t size;
	uint32_t flags;
	uint32_t viommu_id;
	uint32_t type;
	uint32_t veventq_depth;
	uint32_t out_veventq_id;
	uint32_t out_veventq_fd;
	uint32_t reserved;
};

/* Each read vEVENT: this header, then the type's data (none when flags has
 * LOST_EVENTS).  sequence counts 0..INT32_MAX and wraps to 0. */
#define IOFD_VEVENTQ_FLAG_LOST_EVENTS (1u << 0)
struct iofd_vevent_header {
	uint32_t flags;
	uint32_t sequence;
};

/* IOMMU_VEVENTQ_TYPE_ARM_SMMUV3 data: the raw event record, its StreamID
 * replaced by the vDEVICE's virtual ID. */
struct iofd_vevent_arm_smmuv3 {
	iofd_u64 evt[4];
};

/* IOMMU_HW_QUEUE_ALLOC (6.17+) */
struct iofd_hw_queue_alloc {
	uint32_t size;
	uint32_t flags;
	uint32_t viommu_id;
	uint32_t type;
	uint32_t index;
	uint32_t out_hw_queue_id;
	iofd_u64 nesting_parent_iova;
	iofd_u64 length;
};

/* IOMMU_HWPT_SET_DIRTY_TRACKING */
#define IOFD_HWPT_DIRTY_TRACKING_ENABLE 1u

struct iofd_hwpt_set_dirty_tracking {
	uint32_t size;
	uint32_t flags;
	uint32_t hwpt_id;
	uint32_t reserved;
};

/* IOMMU_HWPT_GET_DIRTY_BITMAP */
#define IOFD_HWPT_GET_DIRTY_BITMAP_NO_CLEAR 1u

struct iofd_hwpt_get_dirty_bitmap {
	uint32_t size;
	uint32_t hwpt_id;
	uint32_t flags;
	uint32_t reserved;
	iofd_u64 iova;
	iofd_u64 length;
	iofd_u64 page_size;
	iofd_u64 data; /* user pointer to the bitmap */
};

/* IOMMU_HWPT_INVALIDATE */
enum iofd_hwpt_invalidate_data_type {
	IOFD_HWPT_INVALIDATE_DATA_VTD_S1 = 0,
	IOFD_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3 = 1,
	IOFD_HWPT_INVALIDATE_DATA_SELFTEST = 0xdeadbeef,
};

struct iofd_hwpt_invalidate {
	uint32_t size;
	uint32_t hwpt_id;
	iofd_u64 data_uptr;
	uint32_t data_type;
	uint32_t entry_len;
	uint32_t entry_num; /* in: entries; out: entries handled */
	uint32_t reserved;
};

#define IOFD_INVALIDATE_ENTRY_NUM_MAX (1u << 19)

/* IOMMU_HWPT_INVALIDATE_DATA_VTD_S1 entries */
#define IOFD_VTD_INV_FLAGS_LEAF (1u << 0)
struct iofd_hwpt_vtd_s1_invalidate {
	iofd_u64 addr; /* 4 KiB aligned */
	iofd_u64 npages; /* UINT64_MAX with addr 0: everything */
	uint32_t flags;
	uint32_t reserved;
};

/* The selftest's driver data (drivers/iommu/iommufd/iommufd_test.h). */
struct iofd_test_hw_info {
	uint32_t flags;
	uint32_t test_reg;
};
#define IOFD_HW_INFO_SELFTEST_REGVAL 0xdeadbeefu

struct iofd_hwpt_selftest {
	uint32_t iotlb;
};

#define IOFD_TEST_INVALIDATE_FLAG_ALL (1u << 0)
struct iofd_hwpt_invalidate_selftest {
	uint32_t flags;
	uint32_t iotlb_id;
};

/* The selftest's vIOMMU (6.13+): type, driver data (6.17), invalidation
 * entries naming a vDEVICE's cache, its vEVENTs (6.15) and HW queues. */
#define IOFD_VIOMMU_TYPE_SELFTEST 0xdeadbeefu
struct iofd_viommu_selftest {
	uint32_t in_data;
	uint32_t out_data;
	iofd_u64 out_mmap_offset;
	iofd_u64 out_mmap_length;
};
#define IOFD_VIOMMU_INVALIDATE_DATA_SELFTEST 0xdeadbeefu
struct iofd_viommu_invalidate_selftest {
	uint32_t flags;
	uint32_t vdev_id;
	uint32_t cache_id;
};
#define IOFD_VEVENTQ_TYPE_SELFTEST 0xbeefbeefu
struct iofd_viommu_event_selftest {
	uint32_t virt_id;
};
#define IOFD_HW_QUEUE_TYPE_SELFTEST 0xdeadbeefu
#define IOFD_TEST_HW_QUEUE_MAX 2u
#define IOFD_TEST_DEV_CACHE_DEFAULT 0xbaddadu

/* IOMMU_FAULT_QUEUE_ALLOC */
struct iofd_fault_alloc {
	uint32_t size;
	uint32_t flags;
	uint32_t out_fault_id;
	uint32_t out_fault_fd;
};

/* One page request, as read(2) from a fault queue descriptor returns it. */
enum iofd_pgfault_flags {
	IOFD_PGFAULT_FLAGS_PASID_VALID = 1u << 0,
	IOFD_PGFAULT_FLAGS_LAST_PAGE = 1u << 1,
};

struct iofd_hwpt_pgfault {
	uint32_t flags;
	uint32_t dev_id;
	uint32_t pasid;
	uint32_t grpid;
	uint32_t perm;
	uint32_t reserved;
	iofd_u64 addr;
	uint32_t length;
	uint32_t cookie;
};

/* The answer written back to a fault queue descriptor. */
enum iofd_page_resp_code {
	IOFD_PAGE_RESP_SUCCESS = 0,
	IOFD_PAGE_RESP_INVALID = 1,
};

struct iofd_hwpt_page_response {
	uint32_t cookie;
	uint32_t code;
};

/* IOMMU_IOAS_MAP_FILE (Linux 6.13) */
struct iofd_ioas_map_file {
	uint32_t size;
	uint32_t flags;
	uint32_t ioas_id;
	int32_t fd;
	iofd_u64 start;  /* offset into the file */
	iofd_u64 length;
	iofd_u64 iova;   /* in with FIXED_IOVA, out otherwise */
};

/* IOMMU_IOAS_CHANGE_PROCESS */
struct iofd_ioas_change_process {
	uint32_t size;
	uint32_t reserved;
};

/*
 * IOMMU_TEST_CMD: the kernel selftest's own ioctl (drivers/iommu/iommufd/
 * iommufd_test.h), served so the stock selftest binaries can run.
 */
enum iofd_test_op {
	IOFD_TEST_OP_ADD_RESERVED = 1,
	IOFD_TEST_OP_MOCK_DOMAIN,
	IOFD_TEST_OP_MD_CHECK_MAP,
	IOFD_TEST_OP_MD_CHECK_REFS,
	IOFD_TEST_OP_CREATE_ACCESS,
	IOFD_TEST_OP_DESTROY_ACCESS_PAGES,
	IOFD_TEST_OP_ACCESS_PAGES,
	IOFD_TEST_OP_ACCESS_RW,
	IOFD_TEST_OP_SET_TEMP_MEMORY_LIMIT,
	IOFD_TEST_OP_MOCK_DOMAIN_REPLACE,
	IOFD_TEST_OP_ACCESS_REPLACE_IOAS,
	IOFD_TEST_OP_MOCK_DOMAIN_FLAGS,
	IOFD_TEST_OP_DIRTY,
	IOFD_TEST_OP_MD_CHECK_IOTLB,
	IOFD_TEST_OP_TRIGGER_IOPF,
	IOFD_TEST_OP_DEV_CHECK_CACHE,
	IOFD_TEST_OP_TRIGGER_VEVENT,
	IOFD_TEST_OP_PASID_ATTACH,
	IOFD_TEST_OP_PASID_REPLACE,
	IOFD_TEST_OP_PASID_DETACH,
	IOFD_TEST_OP_PASID_CHECK_HWPT,
};

struct iofd_test_cmd {
	uint32_t size;
	uint32_t op;
	uint32_t id;
	uint32_t reserved;
	union {
		struct {
			iofd_u64 start;
			iofd_u64 length;
		} add_reserved;
		struct {
			uint32_t limit; /* pages */
		} memory_limit;
		struct {
			uint32_t out_stdev_id;
			uint32_t out_hwpt_id;
			uint32_t out_idev_id;
			uint32_t dev_flags; /* MOCK_DOMAIN_FLAGS only */
		} mock_domain;
		struct {
			uint32_t pt_id;
		} mock_domain_replace;
		struct {
			iofd_u64 iova;
			iofd_u64 length;
			iofd_u64 uptr;
		} check_map;
		struct {
			uint32_t out_access_fd;
			uint32_t flags;
		} create_access;
		struct {
			uint32_t access_pages_id;
		} destroy_access_pages;
		struct {
			uint32_t flags;
			uint32_t out_access_pages_id;
			iofd_u64 iova;
			iofd_u64 length;
			iofd_u64 uptr;
		} access_pages;
		struct {
			iofd_u64 iova;
			iofd_u64 length;
			iofd_u64 uptr;
			uint32_t flags;
		} access_rw;
		struct {
			uint32_t ioas_id;
		} access_replace_ioas;
		struct {
			uint32_t flags;
			iofd_u64 iova;
			iofd_u64 length;
			iofd_u64 page_size;
			iofd_u64 uptr;
			iofd_u64 out_nr_dirty;
		} dirty;
		struct {
			uint32_t id;
			uint32_t iotlb;
		} check_iotlb;
		struct {
			uint32_t dev_id;
			uint32_t pasid;
			uint32_t grpid;
			uint32_t perm;
			iofd_u64 addr;
		} trigger_iopf;
		struct {
			iofd_u64 length;
			iofd_u64 uptr;
			uint32_t refs;
		} check_refs;
		struct {
			uint32_t id;
			uint32_t cache;
		} check_dev_cache;
		struct {
			uint32_t dev_id;
		} trigger_vevent;
		struct {
			uint32_t pasid;
			uint32_t pt_id; /* in: IOAS or HWPT; out: the HWPT */
		} pasid_attach; /* PASID_ATTACH and PASID_REPLACE; id = stdev */
		struct {
			uint32_t pasid;
			uint32_t pt_id;
		} pasid_replace;
		struct {
			uint32_t pasid;
		} pasid_detach;
		struct {
			uint32_t pasid;
			uint32_t hwpt_id; /* 0: the PASID must be unattached */
		} pasid_check;
		uint8_t raw[48];
	};
	uint32_t last;
};

#define IOFD_OFFSETOFEND(type, field) (offsetof(type, field) + sizeof(((type *)0)->field))

/* Published sizes and first-version minimum sizes. */
#ifdef __cplusplus
#define _Static_assert static_assert
#endif
_Static_assert(sizeof(struct iofd_destroy) == 8, "iommu_destroy");
_Static_assert(sizeof(struct iofd_ioas_alloc) == 12, "iommu_ioas_alloc");
_Static_assert(sizeof(struct iofd_iova_range) == 16, "iommu_iova_range");
_Static_assert(sizeof(struct iofd_ioas_allow_iovas) == 24, "iommu_ioas_allow_iovas");
_Static_assert(sizeof(struct iofd_ioas_copy) == 40, "iommu_ioas_copy");
_Static_assert(sizeof(struct iofd_ioas_iova_ranges) == 32, "iommu_ioas_iova_ranges");
_Static_assert(sizeof(struct iofd_ioas_map) == 40, "iommu_ioas_map");
_Static_assert(sizeof(struct iofd_ioas_unmap) == 24, "iommu_ioas_unmap");
_Static_assert(sizeof(struct iofd_option) == 24, "iommu_option");
_Static_assert(sizeof(struct iofd_vfio_ioas) == 12, "iommu_vfio_ioas");
_Static_assert(sizeof(struct iofd_ioas_change_process) == 8, "iommu_ioas_change_process");
_Static_assert(sizeof(struct iofd_fault_alloc) == 16, "iommu_fault_alloc");
_Static_assert(sizeof(struct iofd_hwpt_alloc) == 48, "iommu_hwpt_alloc");
_Static_assert(offsetof(struct iofd_hwpt_alloc, reserved) == 20, "iommu_hwpt_alloc.__reserved");
_Static_assert(offsetof(struct iofd_hwpt_alloc, fault_id) == 40, "iommu_hwpt_alloc.fault_id");
_Static_assert(sizeof(struct iofd_hw_info) == 40, "iommu_hw_info");
_Static_assert(offsetof(struct iofd_hw_info, out_capabilities) == 32, "iommu_hw_info caps");
_Static_assert(sizeof(struct iofd_hwpt_set_dirty_tracking) == 16, "set_dirty_tracking");
_Static_assert(sizeof(struct iofd_hwpt_get_dirty_bitmap) == 48, "get_dirty_bitmap");
_Static_assert(sizeof(struct iofd_hwpt_invalidate) == 32, "iommu_hwpt_invalidate");
_Static_assert(sizeof(struct iofd_hwpt_vtd_s1) == 24, "iommu_hwpt_vtd_s1");
_Static_assert(sizeof(struct iofd_viommu_alloc) == 40, "iommu_viommu_alloc");
_Static_assert(offsetof(struct iofd_viommu_alloc, data_uptr) == 32, "iommu_viommu_alloc.data_uptr");
_Static_assert(sizeof(struct iofd_vdevice_alloc) == 24, "iommu_vdevice_alloc");
_Static_assert(sizeof(struct iofd_veventq_alloc) == 32, "iommu_veventq_alloc");
_Static_assert(sizeof(struct iofd_vevent_header) == 8, "iommufd_vevent_header");
_Static_assert(sizeof(struct iofd_vevent_arm_smmuv3) == 32, "iommu_vevent_arm_smmuv3");
_Static_assert(sizeof(struct iofd_hw_queue_alloc) == 40, "iommu_hw_queue_alloc");
_Static_assert(offsetof(struct iofd_hw_queue_alloc, nesting_parent_iova) == 24,
	       "iommu_hw_queue_alloc.nesting_parent_iova");
_Static_assert(sizeof(struct iofd_viommu_selftest) == 24, "iommu_viommu_selftest");
_Static_assert(sizeof(struct iofd_viommu_invalidate_selftest) == 12,
	       "iommu_viommu_invalidate_selftest");
_Static_assert(offsetof(struct iofd_hwpt_vtd_s1, addr_width) == 16, "iommu_hwpt_vtd_s1.addr_width");
_Static_assert(sizeof(struct iofd_hwpt_arm_smmuv3) == 16, "iommu_hwpt_arm_smmuv3");
_Static_assert(sizeof(struct iofd_hw_info_vtd) == 24, "iommu_hw_info_vtd");
_Static_assert(sizeof(struct iofd_hw_info_arm_smmuv3) == 40, "iommu_hw_info_arm_smmuv3");
_Static_assert(offsetof(struct iofd_hw_info_arm_smmuv3, iidr) == 32, "iommu_hw_info_arm_smmuv3.iidr");
_Static_assert(sizeof(struct iofd_hwpt_vtd_s1_invalidate) == 24, "iommu_hwpt_vtd_s1_invalidate");
_Static_assert(offsetof(struct iofd_test_cmd, dirty.out_nr_dirty) == 56, "test dirty");
_Static_assert(offsetof(struct iofd_test_cmd, trigger_iopf.addr) == 32, "test trigger_iopf");
_Static_assert(offsetof(struct iofd_test_cmd, pasid_attach.pt_id) == 20, "test pasid_attach");
_Static_assert(offsetof(struct iofd_test_cmd, pasid_check.hwpt_id) == 20, "test pasid_check");
_Static_assert(sizeof(struct iofd_hwpt_pgfault) == 40, "iommu_hwpt_pgfault");
_Static_assert(offsetof(struct iofd_hwpt_pgfault, addr) == 24, "iommu_hwpt_pgfault.addr");
_Static_assert(sizeof(struct iofd_hwpt_page_response) == 8, "iommu_hwpt_page_response");
_Static_assert(sizeof(struct iofd_test_cmd) == 72, "iommu_test_cmd");
_Static_assert(offsetof(struct iofd_test_cmd, last) == 64, "iommu_test_cmd.last");
_Static_assert(offsetof(struct iofd_test_cmd, add_reserved) == 16, "iommu_test_cmd union");
_Static_assert(offsetof(struct iofd_ioas_map, iova) == 32, "iommu_ioas_map.iova");
_Static_assert(offsetof(struct iofd_option, val64) == 16, "iommu_option.val64");
_Static_assert(offsetof(struct iofd_ioas_iova_ranges, out_iova_alignment) == 24,
	       "iommu_ioas_iova_ranges.out_iova_alignment");

#endif
