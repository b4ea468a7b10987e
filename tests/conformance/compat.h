/*
 * tests/conformance/compat.h - names the Debian linux-source-6.12 selftest
 * uses but its own headers lack (stable backports of later tests).  Forced
 * in with -include when building tools/testing/selftests/iommu/.  Values
 * from the Linux uAPI (include/uapi/linux/iommufd.h) and the selftest
 * header (drivers/iommu/iommufd/iommufd_test.h) of the kernels that added
 * them.
 */
#ifndef IOMMUSIM_CONFORMANCE_COMPAT_H
#define IOMMUSIM_CONFORMANCE_COMPAT_H

/* struct iommu_hw_info: the input name of the output type field (6.17). */
#define in_data_type out_data_type
#define IOMMU_HW_INFO_TYPE_DEFAULT 0
#define IOMMU_HW_INFO_FLAG_INPUT_TYPE (1 << 0)
/* Mock device flag and PASID width (6.15). */
#define MOCK_FLAGS_DEVICE_PASID (1 << 2)
#define MOCK_PASID_WIDTH 20

#endif
