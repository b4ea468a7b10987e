/*
 * iommufd/selftest.c - IOMMU_TEST_CMD, the kernel selftest's own ioctl.
 *
 * The selftest (tools/testing/selftests/iommu/) reserves IOVA and creates
 * its devices through this ioctl.  Served so far: ADD_RESERVED and
 * SET_TEMP_MEMORY_LIMIT.  The ops that need the mock IOMMU (devices,
 * domains, accesses, dirty bits, faults) answer EOPNOTSUPP, as a kernel
 * without them would, until formats/mock/ exists.
 */
#include <errno.h>

#include "iommufd/iofd_int.h"

static int iofd_test_add_reserved(struct iofd_ctx *ctx, struct iofd_test_cmd *cmd)
{
	struct iofd_ioas *ioas = iofd_ioas_find(ctx, cmd->id);
	if (!ioas)
		return -ENOENT;
	uint64_t last;
	if (cmd->add_reserved.length == 0 ||
	    __builtin_add_overflow(cmd->add_reserved.start, cmd->add_reserved.length - 1, &last))
		return -EINVAL;
	/* Reservations made by the test belong to the IOAS itself. */
	return iopt_reserve(&ioas->iopt, cmd->add_reserved.start, last, ioas);
}

int iofd_test_cmd(struct iofd_ucmd *uc)
{
	struct iofd_test_cmd *cmd = uc->cmd;
	switch (cmd->op) {
	case IOFD_TEST_OP_ADD_RESERVED:
		return iofd_test_add_reserved(uc->ctx, cmd);
	case IOFD_TEST_OP_SET_TEMP_MEMORY_LIMIT:
		/* Linux shrinks its internal pin batches; the model has none,
		 * so the limit is only remembered. */
		uc->ctx->test_memory_limit = cmd->memory_limit.limit;
		return 0;
	default:
		return -EOPNOTSUPP;
	}
}
