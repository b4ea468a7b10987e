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
			iofd_u64 length;
			iofd_u64 uptr;
			uint32_t refs;
		} check_refs;
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
_Static_assert(sizeof(struct iofd_test_cmd) == 72, "iommu_test_cmd");
_Static_assert(offsetof(struct iofd_test_cmd, last) == 64, "iommu_test_cmd.last");
_Static_assert(offsetof(struct iofd_test_cmd, add_reserved) == 16, "iommu_test_cmd union");
_Static_assert(offsetof(struct iofd_ioas_map, iova) == 32, "iommu_ioas_map.iova");
_Static_assert(offsetof(struct iofd_option, val64) == 16, "iommu_option.val64");
_Static_assert(offsetof(struct iofd_ioas_iova_ranges, out_iova_alignment) == 24,
	       "iommu_ioas_iova_ranges.out_iova_alignment");

#endif
