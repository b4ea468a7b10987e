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

/* CLASS field of a translation-related event record (7.3.x). */
enum smmu_event_class {
	SMMU_CLASS_CD = 0,  /* fetching a CD (stage 2 translating its address) */
	SMMU_CLASS_TTD = 1, /* fetching a stage-1 translation table descriptor */
	SMMU_CLASS_IN = 2,  /* translating the input address */
};

/*
 * An event record's fields (7.3).  smmu_event_encode() lays them out in the
 * record's 32 bytes (four little-endian 64-bit words); fields a type does
 * not have are left zero (RES0).
 *   word 0: 7:0 type, 11 SSV, 31:12 SubstreamID, 63:32 StreamID
 *   word 1: 15:0 STAG, 31 Stall, 33 PnU, 34 InD, 35 RnW, 39 S2,
 *           41:40 CLASS, 44 TTRnW
 *   word 2: InputAddr
 *   word 3: IPA[51:12] (F_TRANSLATION, F_ADDR_SIZE, F_ACCESS, F_PERMISSION)
 *           with NSIPA in bit 63, or FetchAddr[51:3] (F_STE_FETCH,
 *           F_CD_FETCH, F_WALK_EABT)
 */
struct smmu_event {
	uint8_t type;          /* enum smmu_event_type */
	bool ssv;              /* SubstreamID valid */
	uint32_t ssid, sid;
	uint16_t stag;
	bool stall, pnu, ind, rnw, s2, ttrnw, nsipa;
	uint8_t class_;        /* enum smmu_event_class */
	uint64_t input_addr, ipa, fetch_addr;
};

void smmu_event_encode(const struct smmu_event *ev, uint64_t rec[4]);
/* Decode a record's fields by its type; -EINVAL for an unknown type. */
int smmu_event_decode(const uint64_t rec[4], struct smmu_event *ev);

/* Why an event was not written to the event queue (smmu_evtq_write). */
enum {
	SMMU_EVTQ_WRITTEN = 0,
	SMMU_EVTQ_DISABLED = 1, /* CR0.EVENTQEN = 0: discarded */
	SMMU_EVTQ_OVERFLOW = 2, /* queue full: discarded, PROD.OVFLG toggled */
	SMMU_EVTQ_ABORT = 3,    /* writing the record aborted: GERROR.EVTQ_ABT_ERR */
};

/* The event queue as software sees it (6.3.25 - 6.3.27). */
struct smmu_evtq_status {
	uint64_t base;         /* EVENTQ_BASE.ADDR, aligned to the queue size */
	unsigned log2size;     /* effective: min(EVENTQ_BASE.LOG2SIZE, IDR1.EVENTQS) */
	uint32_t prod, cons;   /* the registers as they read */
	unsigned pending;      /* records between CONS and PROD */
	bool overflow;         /* PROD.OVFLG != CONS.OVACKFLG */
	bool abort_err;        /* GERROR.EVTQ_ABT_ERR active */
	uint64_t written, lost;/* counters kept by the model */
};
void smmu_evtq_status(struct ims_iommu *iommu, struct smmu_evtq_status *st);
/*
 * Do what software does: read the record at CONS into rec[] and advance
 * CONS.  Returns 0, -ENOENT when the queue is empty, -EFAULT when the
 * record cannot be read.
 */
int smmu_evtq_pop(struct ims_iommu *iommu, uint64_t rec[4]);

/* Register values: the IDRs from the model, the others as programmed. */
uint32_t smmu_idr(struct ims_iommu *iommu, unsigned n);
/* Commands the command queue handed on since the instance was made. */
uint64_t smmu_cmds_applied(struct ims_iommu *iommu);

/*
 * Command encoders (chapter 4): what software writes into the command
 * queue, two words per command.  Fields are truncated to their width.  The
 * range fields of the TLBI commands (4.4.1: TG 1/2/3 = 4K/16K/64K granule,
 * range (NUM + 1) * 2^SCALE granules, TTL the leaf level) need
 * SMMU_IDR3.RIL; pass zeros for a single-address command.
 */
void smmu_cmd_tlbi_nh_va(uint64_t w[2], uint16_t vmid, uint16_t asid, uint64_t addr, bool leaf,
			 unsigned tg, unsigned scale, unsigned num, unsigned ttl);
void smmu_cmd_tlbi_nh_asid(uint64_t w[2], uint16_t vmid, uint16_t asid);
void smmu_cmd_tlbi_nh_all(uint64_t w[2], uint16_t vmid);
void smmu_cmd_tlbi_s2_ipa(uint64_t w[2], uint16_t vmid, uint64_t addr, bool leaf, unsigned tg,
			  unsigned scale, unsigned num, unsigned ttl);
void smmu_cmd_tlbi_s12_vmall(uint64_t w[2], uint16_t vmid);
void smmu_cmd_tlbi_nsnh_all(uint64_t w[2]);
/* 4.7 CMD_SYNC: cs 0 none, 1 SIG_IRQ (MSI write of msi_data to msi_addr with IDR0.MSI), 2 SIG_SEV. */
void smmu_cmd_sync(uint64_t w[2], unsigned cs, uint64_t msi_addr, uint32_t msi_data);
/* 4.3 CMD_CFGI_STE of sid; CMD_CFGI_CD of (sid, ssid). */
void smmu_cmd_cfgi_ste(uint64_t w[2], uint32_t sid, bool leaf);
void smmu_cmd_cfgi_cd(uint64_t w[2], uint32_t sid, uint32_t ssid, bool leaf);

#ifdef __cplusplus
}
#endif
#endif
