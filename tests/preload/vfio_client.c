/*
 * vfio_client.c - what a VMM does with a passthrough device, through the
 * preload: open /dev/iommu and the VFIO cdev, bind, map guest memory,
 * attach, read the device's identity, let it DMA; then nest a guest
 * first stage (VT-d) over a NEST_PARENT HWPT and DMA through it.
 *
 * Linked against the C library only, with the uAPI numbers and layouts of
 * Linux's include/uapi/linux/iommufd.h and vfio.h written here, as a VMM
 * has them.  The device is the emulated DMA engine documented in
 * include/iommusim/vfio.h (registers at BAR0: SRC 0x08, DST 0x10, LEN
 * 0x18, CMD 0x20, STATUS 0x28).  Run under
 *   iommusim run --model models/vtd-default.json -- vfio-client
 * It prints TAP.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

/* include/uapi/linux/iommufd.h */
#define IOMMU_IOAS_ALLOC 0x3b81
#define IOMMU_IOAS_MAP 0x3b85
#define IOMMU_HWPT_ALLOC 0x3b89
#define IOMMU_GET_HW_INFO 0x3b8a
#define IOMMU_HWPT_INVALIDATE 0x3b8d
#define MAP_FIXED_IOVA 1u
#define MAP_WRITEABLE 2u
#define MAP_READABLE 4u
#define HWPT_ALLOC_NEST_PARENT 1u
#define HWPT_DATA_VTD_S1 1u
#define HW_INFO_TYPE_INTEL_VTD 1u
/* include/uapi/linux/vfio.h */
#define VFIO_DEVICE_GET_INFO 0x3b6b
#define VFIO_DEVICE_GET_REGION_INFO 0x3b6c
#define VFIO_DEVICE_BIND_IOMMUFD 0x3b76
#define VFIO_DEVICE_ATTACH_IOMMUFD_PT 0x3b77
#define VFIO_DEVICE_FLAGS_PCI (1u << 1)

struct ioas_alloc { uint32_t size, flags, out_ioas_id; };
struct ioas_map {
	uint32_t size, flags, ioas_id, reserved;
	uint64_t user_va, length, iova;
};
struct hwpt_alloc {
	uint32_t size, flags, dev_id, pt_id, out_hwpt_id, reserved, data_type, data_len;
	uint64_t data_uptr;
	uint32_t fault_id, reserved2;
};
struct hw_info {
	uint32_t size, flags, dev_id, data_len;
	uint64_t data_uptr;
	uint32_t out_data_type;
	uint8_t out_max_pasid_log2, reserved[3];
	uint64_t out_capabilities;
};
struct vtd_s1 { uint64_t flags, pgtbl_addr; uint32_t addr_width, reserved; };
struct bind { uint32_t argsz, flags; int32_t iommufd; uint32_t out_devid; };
struct attach { uint32_t argsz, flags, pt_id; };
struct device_info { uint32_t argsz, flags, num_regions, num_irqs, cap_offset, pad; };
struct region_info {
	uint32_t argsz, flags, index, cap_offset;
	uint64_t size, offset;
};

static int n, failed;

static void ok(bool cond, const char *what)
{
	n++;
	if (!cond)
		failed++;
	printf("%s %d - %s\n", cond ? "ok" : "not ok", n, what);
}

static int dev_fd;
static uint64_t bar0;

static void reg_write(unsigned off, uint64_t v)
{
	if (pwrite(dev_fd, &v, 8, (off_t)(bar0 + off)) != 8)
		failed++;
}

static uint64_t reg_read(unsigned off)
{
	uint64_t v = ~0ull;
	if (pread(dev_fd, &v, 8, (off_t)(bar0 + off)) != 8)
		failed++;
	return v;
}

/* Copy len bytes from IOVA src to IOVA dst with the device; its STATUS. */
static uint64_t dma_copy(uint64_t src, uint64_t dst, uint64_t len)
{
	reg_write(0x08, src);
	reg_write(0x10, dst);
	reg_write(0x18, len);
	reg_write(0x20, 1);
	return reg_read(0x28);
}

int main(void)
{
	int iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	dev_fd = open("/dev/vfio/devices/vfio0", O_RDWR | O_CLOEXEC);
	ok(iommufd >= 0 && dev_fd >= 0, "/dev/iommu and the VFIO cdev open");
	if (iommufd < 0 || dev_fd < 0) {
		printf("1..%d\n", n);
		return 1;
	}
	struct bind b = {sizeof(b), 0, iommufd, 0};
	ok(ioctl(dev_fd, VFIO_DEVICE_BIND_IOMMUFD, &b) == 0 && b.out_devid, "BIND_IOMMUFD");
	struct device_info di = {.argsz = sizeof(di)};
	ok(ioctl(dev_fd, VFIO_DEVICE_GET_INFO, &di) == 0 && (di.flags & VFIO_DEVICE_FLAGS_PCI) &&
		   di.num_regions >= 9,
	   "GET_INFO: a PCI device with the vfio-pci regions");
	struct region_info ri = {.argsz = sizeof(ri)};
	ok(ioctl(dev_fd, VFIO_DEVICE_GET_REGION_INFO, &ri) == 0 && ri.size == 4096,
	   "BAR0 is 4 KiB");
	bar0 = ri.offset;
	uint16_t ids[2] = {0};
	ri.index = 7;
	ok(ioctl(dev_fd, VFIO_DEVICE_GET_REGION_INFO, &ri) == 0 &&
		   pread(dev_fd, ids, 4, (off_t)ri.offset) == 4 && ids[0] == 0x1234 &&
		   ids[1] == 0x0105,
	   "config space: vendor 0x1234, device 0x0105");
	uint16_t cmd = 0x6; /* memory space, bus master */
	ok(pwrite(dev_fd, &cmd, 2, (off_t)(ri.offset + 4)) == 2, "enable bus mastering");

	uint8_t info[64] = {0};
	struct hw_info hi = {.size = sizeof(hi), .dev_id = b.out_devid, .data_len = sizeof(info),
			     .data_uptr = (uintptr_t)info};
	ok(ioctl(iommufd, IOMMU_GET_HW_INFO, &hi) == 0 &&
		   hi.out_data_type == HW_INFO_TYPE_INTEL_VTD && hi.data_len == 24,
	   "GET_HW_INFO: the modelled VT-d's CAP/ECAP");

	/* Guest memory: 64 KiB at guest-physical 0. */
	size_t gsize = 64 * 1024;
	uint8_t *g = mmap(NULL, gsize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct ioas_alloc ia = {.size = sizeof(ia)};
	ok(ioctl(iommufd, IOMMU_IOAS_ALLOC, &ia) == 0, "IOAS_ALLOC");
	struct ioas_map m = {sizeof(m), MAP_FIXED_IOVA | MAP_READABLE | MAP_WRITEABLE,
			     ia.out_ioas_id, 0, (uintptr_t)g, gsize, 0};
	ok(ioctl(iommufd, IOMMU_IOAS_MAP, &m) == 0, "IOAS_MAP of guest memory");
	struct hwpt_alloc ha = {.size = sizeof(ha), .flags = HWPT_ALLOC_NEST_PARENT,
				.dev_id = b.out_devid, .pt_id = ia.out_ioas_id};
	ok(ioctl(iommufd, IOMMU_HWPT_ALLOC, &ha) == 0, "HWPT_ALLOC NEST_PARENT");
	uint32_t s2 = ha.out_hwpt_id;
	struct attach at = {sizeof(at), 0, s2};
	ok(ioctl(dev_fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at) == 0 && at.pt_id == s2,
	   "ATTACH_IOMMUFD_PT to the stage 2");
	memcpy(g + 0x1000, "hello from the guest", 21);
	ok(dma_copy(0x1000, 0x3000, 21) == 0 && !memcmp(g + 0x3000, "hello from the guest", 21),
	   "the device copies guest memory through stage 2");

	/* The guest's first stage (Intel SDM 4.5: P, R/W, U/S): VA 0x200000 ->
	 * GPA 0x8000, VA 0x201000 -> GPA 0x9000, tables at 0x4000.. */
	uint64_t e;
	e = 0x5000 | 7; memcpy(g + 0x4000, &e, 8);
	e = 0x6000 | 7; memcpy(g + 0x5000, &e, 8);
	e = 0x7000 | 7; memcpy(g + 0x6000 + 8, &e, 8);
	e = 0x8000 | 7; memcpy(g + 0x7000, &e, 8);
	e = 0x9000 | 7; memcpy(g + 0x7008, &e, 8);
	struct vtd_s1 s1 = {0, 0x4000, 48, 0};
	struct hwpt_alloc hn = {.size = sizeof(hn), .dev_id = b.out_devid, .pt_id = s2,
				.data_type = HWPT_DATA_VTD_S1, .data_len = sizeof(s1),
				.data_uptr = (uintptr_t)&s1};
	ok(ioctl(iommufd, IOMMU_HWPT_ALLOC, &hn) == 0, "HWPT_ALLOC nested, VT-d first stage");
	at.pt_id = hn.out_hwpt_id;
	ok(ioctl(dev_fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at) == 0, "attach (replace) nested");
	memcpy(g + 0x8000, "nested!", 8);
	ok(dma_copy(0x200000, 0x201000, 8) == 0 && !memcmp(g + 0x9000, "nested!", 8),
	   "the device copies through the guest's page tables");
	ok(dma_copy(0x8000, 0x9000, 8) == 1, "a guest-physical address is no IOVA now: fault");

	close(dev_fd);
	close(iommufd);
	printf("1..%d\n", n);
	return failed ? 1 : 0;
}
