/*
 * iommufd/access.c - the selftest's access objects (CREATE_ACCESS and the
 * ops that use one).  Not served yet: EOPNOTSUPP, as a kernel without them.
 */
#include <errno.h>

#include "iommufd/iofd_int.h"

int iofd_test_access_cmd(struct iofd_ucmd *uc)
{
	(void)uc;
	return -EOPNOTSUPP;
}
