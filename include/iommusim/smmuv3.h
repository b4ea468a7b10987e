/*
 * iommusim/smmuv3.h - Arm SMMUv3 specifics: event records, command queue
 * errors and opcodes.
 *
 * Reference: Arm System Memory Management Unit Architecture Specification,
 * SMMU architecture version 3 (Arm IHI 0070), chapter 4 (commands), chapter
 * 7 (events and the event queue), chapter 6 (registers).
 */
#ifndef IOMMUSIM_SMMUV3_H
#define IOMMUSIM_SMMUV3_H

#include <stdbool.h>
#include <stdint.h>

#include <iommusim/iommu.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Event record types (7.3). */
enum smmu_event_type {
	SMMU_EVT_F_UUT = 0x01,
	SMMU_EVT_C_BAD_STREAMID = 0x02,
	SMMU_EVT_F_STE_FETCH = 0x03,
	SMMU_EVT_C_BAD_STE = 0x04,
	SMMU_EVT_F_BAD_ATS_TREQ = 0x05,
	SMMU_EVT_F_STREAM_DISABLED = 0x06,
	SMMU_EVT_F_TRANS_FORBIDDEN = 0x07,
	SMMU_EVT_C_BAD_SUBSTREAMID = 0x08,
	SMMU_EVT_F_CD_FETCH = 0x09,
	SMMU_EVT_C_BAD_CD = 0x0a,
	SMMU_EVT_F_WALK_EABT = 0x0b,
	SMMU_EVT_F_TRANSLATION = 0x10,
	SMMU_EVT_F_ADDR_SIZE = 0x11,
	SMMU_EVT_F_ACCESS = 0x12,
	SMMU_EVT_F_PERMISSION = 0x13,
	SMMU_EVT_F_TLB_CONFLICT = 0x20,
	SMMU_EVT_F_CFG_CONFLICT = 0x21,
	SMMU_EVT_E_PAGE_REQUEST = 0x24,
	SMMU_EVT_F_VMS_FETCH = 0x25,
};

/* The spec's name of an event type ("F_TRANSLATION"), or NULL. */
const char *smmu_event_name(unsigned type);

/* Command opcodes (4.1). */
enum smmu_cmd_op {
	SMMU_CMD_PREFETCH_CONFIG = 0x01,
	SMMU_CMD_PREFETCH_ADDR = 0x02,
	SMMU_CMD_CFGI_STE = 0x03,
	SMMU_CMD_CFGI_STE_RANGE = 0x04, /* CMD_CFGI_ALL is Range = 31 */
	SMMU_CMD_CFGI_CD = 0x05,
	SMMU_CMD_CFGI_CD_ALL = 0x06,
	SMMU_CMD_CFGI_VMS_PIDM = 0x07,
	SMMU_CMD_TLBI_NH_ALL = 0x10,
	SMMU_CMD_TLBI_NH_ASID = 0x11,
	SMMU_CMD_TLBI_NH_VA = 0x12,
	SMMU_CMD_TLBI_NH_VAA = 0x13,
	SMMU_CMD_TLBI_EL3_ALL = 0x18,
	SMMU_CMD_TLBI_EL3_VA = 0x1a,
	SMMU_CMD_TLBI_EL2_ALL = 0x20,
	SMMU_CMD_TLBI_EL2_ASID = 0x21,
	SMMU_CMD_TLBI_EL2_VA = 0x22,
	SMMU_CMD_TLBI_EL2_VAA = 0x23,
	SMMU_CMD_TLBI_S12_VMALL = 0x28,
	SMMU_CMD_TLBI_S2_IPA = 0x2a,
	SMMU_CMD_TLBI_NSNH_ALL = 0x30,
	SMMU_CMD_ATC_INV = 0x40,
	SMMU_CMD_PRI_RESP = 0x41,
	SMMU_CMD_RESUME = 0x44,
	SMMU_CMD_STALL_TERM = 0x45,
	SMMU_CMD_SYNC = 0x46,
};

/* CMDQ_CONS.ERR command errors (6.3.x). */
enum smmu_cerror {
	SMMU_CERROR_NONE = 0,
	SMMU_CERROR_ILL = 1,          /* illegal or unsupported command */
	SMMU_CERROR_ABT = 2,          /* abort fetching a command */
	SMMU_CERROR_ATC_INV_SYNC = 3, /* ATC invalidation timeout before CMD_SYNC */
};

#ifdef __cplusplus
}
#endif
#endif
