/*
 * iommusim/vtd.h - Intel VT-d specifics: fault reasons, the primary fault
 * log, registers software programs, and queued-invalidation errors.
 *
 * Reference: Intel Virtualization Technology for Directed I/O Architecture
 * Specification, rev 4.x/5.0: 7.1.3 (fault reasons, legacy and scalable
 * mode), 7.2 (primary fault logging), 11.4.9 (invalidation queue errors).
 */
#ifndef IOMMUSIM_VTD_H
#define IOMMUSIM_VTD_H

#include <stdbool.h>
#include <stdint.h>

#include <iommusim/iommu.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Fault reasons (FR field of a fault record). */
enum vtd_fault_reason {
	/* Legacy mode (TTM = 00b). */
	VTD_FR_ROOT_NOT_PRESENT = 0x01,
	VTD_FR_CTX_NOT_PRESENT = 0x02,
	VTD_FR_CTX_INVALID = 0x03,
	VTD_FR_ADDR_BEYOND_MGAW = 0x04,
	VTD_FR_WRITE = 0x05,
	VTD_FR_READ = 0x06,
	VTD_FR_PTE_ACCESS = 0x07,
	VTD_FR_ROOT_ACCESS = 0x08,
	VTD_FR_CTX_ACCESS = 0x09,
	VTD_FR_ROOT_RSVD = 0x0a,
	VTD_FR_CTX_RSVD = 0x0b,
	VTD_FR_PTE_RSVD = 0x0c,
	VTD_FR_TT_BLOCKED = 0x0d,
	VTD_FR_INTERRUPT_ADDR = 0x0e,
	/* Scalable mode (TTM = 01b). */
	VTD_FR_SM_RTA_INVALID = 0x30,
	VTD_FR_SM_TTM0_PASID = 0x31,
	VTD_FR_SM_ROOT_ACCESS = 0x38,
	VTD_FR_SM_ROOT_NOT_PRESENT = 0x39,
	VTD_FR_SM_ROOT_RSVD = 0x3a,
	VTD_FR_SM_CTX_ACCESS = 0x40,
	VTD_FR_SM_CTX_NOT_PRESENT = 0x41,
	VTD_FR_SM_CTX_RSVD = 0x42,
	VTD_FR_SM_CTX_INVALID = 0x43,
	VTD_FR_SM_DTE_CLEAR = 0x44,
	VTD_FR_SM_PASIDE_CLEAR = 0x45,
	VTD_FR_SM_PASID_TOO_LARGE = 0x46,
	VTD_FR_SM_PRE_CLEAR = 0x47,
	VTD_FR_SM_RID_PASID = 0x48,
	VTD_FR_SM_PDE_ACCESS = 0x50,
	VTD_FR_SM_PDE_NOT_PRESENT = 0x51,
	VTD_FR_SM_PDE_RSVD = 0x52,
	VTD_FR_SM_PE_ACCESS = 0x58,
	VTD_FR_SM_PE_NOT_PRESENT = 0x59,
	VTD_FR_SM_PE_RSVD = 0x5a,
	VTD_FR_SM_PE_INVALID = 0x5b,
	VTD_FR_SM_ERE_CLEAR = 0x5c,
	VTD_FR_SM_SRE_CLEAR = 0x5d,
	VTD_FR_SM_FS_ACCESS = 0x70,
	VTD_FR_SM_FS_NOT_PRESENT = 0x71,
	VTD_FR_SM_FS_RSVD = 0x72,
	VTD_FR_SM_FSPTPTR_ACCESS = 0x73,
	VTD_FR_SM_FS_NESTED_ADDR = 0x74,
	VTD_FR_SM_FSPTPTR_NESTED_READ = 0x75,
	VTD_FR_SM_FS_NESTED_READ = 0x76,
	VTD_FR_SM_FS_NESTED_WRITE = 0x77,
	VTD_FR_SM_SS_ACCESS = 0x78,
	VTD_FR_SM_SS_PERM = 0x79,
	VTD_FR_SM_SS_RSVD = 0x7a,
	VTD_FR_SM_SSPTPTR_INVALID = 0x7b,
	VTD_FR_SM_SS_AD_NOSNOOP = 0x7c,
	VTD_FR_SM_NON_CANONICAL = 0x80,
	VTD_FR_SM_US = 0x81,
	VTD_FR_SM_XD = 0x82,
	VTD_FR_SM_ADDR_BEYOND = 0x83,
	VTD_FR_SM_SS_ADDR_BEYOND = 0x84,
	VTD_FR_SM_WRITE = 0x85,
	VTD_FR_SM_READ = 0x86,
	VTD_FR_SM_INTERRUPT_ADDR = 0x87,
	VTD_FR_SM_FS_AD_NOSNOOP = 0x90,
	VTD_FR_SM_FS_AD_FAILED = 0x91,
};

/* The spec's description of a fault reason, or NULL for an unknown one. */
const char *vtd_fault_reason_name(unsigned reason);

/*
 * A primary fault record (7.2.1, 11.4.14): 128 bits.
 *   lo 63:12 FI   fault information (page address of the request)
 *   hi 15:0 SID, 29 PRIV, 30 EXE, 31 PP, 39:32 FR, 59:40 PV, 61:60 AT,
 *      62 T (1: read, 0: write), 63 F (fault recorded)
 */
struct vtd_fault_rec {
	uint64_t lo, hi;
};

/* Fault status (FSTS_REG) as the log keeps it. */
struct vtd_fault_status {
	bool ppf;      /* primary pending fault: some record has F set */
	bool pfo;      /* primary fault overflow */
	unsigned fri;  /* fault record index of the first pending record */
};

unsigned vtd_fault_log_size(struct ims_iommu *iommu);
/* Copy record `idx` (raw 128 bits). Returns -EINVAL for a bad index. */
int vtd_fault_log_get(struct ims_iommu *iommu, unsigned idx, struct vtd_fault_rec *rec);
/* Software writes 1 to F: the record is free again. */
int vtd_fault_log_clear(struct ims_iommu *iommu, unsigned idx);
/* Software writes 1 to FSTS.PFO. */
void vtd_fault_clear_overflow(struct ims_iommu *iommu);
void vtd_fault_status(struct ims_iommu *iommu, struct vtd_fault_status *st);

uint64_t vtd_cap(struct ims_iommu *iommu);
uint64_t vtd_ecap(struct ims_iommu *iommu);

/*
 * Invalidation-queue errors (IQERCD_REG.IQEI, 11.4.9.x) returned in
 * *arch_err by ims_decode_inv() for a descriptor the hardware rejects.
 */
enum vtd_iqe {
	VTD_IQE_NONE = 0,
	VTD_IQE_TAIL = 1,         /* invalid tail pointer */
	VTD_IQE_FETCH = 2,        /* descriptor fetch error */
	VTD_IQE_TYPE = 3,         /* invalid descriptor type */
	VTD_IQE_RSVD = 4,         /* reserved field set in a valid descriptor */
	VTD_IQE_WIDTH = 5,        /* descriptor width mismatch / unsupported */
	VTD_IQE_ALIGN = 6,        /* queue tail not aligned for 256-bit descriptors */
};

/* Descriptor types (bits 3:0 and 11:9 of the first word). */
enum vtd_desc_type {
	VTD_DESC_CC = 1,          /* context-cache invalidate */
	VTD_DESC_IOTLB = 2,       /* IOTLB invalidate */
	VTD_DESC_DEVTLB = 3,      /* device-TLB invalidate */
	VTD_DESC_IEC = 4,         /* interrupt entry cache invalidate */
	VTD_DESC_WAIT = 5,        /* invalidation wait */
	VTD_DESC_PIOTLB = 6,      /* PASID-based IOTLB invalidate */
	VTD_DESC_PC = 7,          /* PASID-cache invalidate */
	VTD_DESC_PDEVTLB = 8,     /* PASID-based device-TLB invalidate */
};

/*
 * Descriptor encoders (6.5.2): what software writes into the invalidation
 * queue.  Each fills the 128-bit form w[0..1] (the 256-bit form appends two
 * zero words); fields are truncated to their width.
 */
/* 6.5.2.3 IOTLB invalidate, page-selective-within-domain: 2^am 4 KiB pages at addr. */
void vtd_desc_iotlb_psi(uint64_t w[2], uint16_t did, uint64_t addr, unsigned am, bool ih, bool dr,
			bool dw);
/* 6.5.2.3 IOTLB invalidate, domain-selective. */
void vtd_desc_iotlb_dsi(uint64_t w[2], uint16_t did, bool dr, bool dw);
/* 6.5.2.3 IOTLB invalidate, global. */
void vtd_desc_iotlb_global(uint64_t w[2], bool dr, bool dw);
/* 6.5.2.4 PASID-based-IOTLB: page-selective-within-PASID when page, else PASID-selective. */
void vtd_desc_piotlb(uint64_t w[2], uint16_t did, uint32_t pasid, bool page, uint64_t addr,
		     unsigned am, bool ih);
/* 6.5.2.2 PASID-cache invalidate, PASID-selective / domain-selective. */
void vtd_desc_pc_pasid(uint64_t w[2], uint16_t did, uint32_t pasid);
void vtd_desc_pc_domain(uint64_t w[2], uint16_t did);
/* 6.5.2.1 Context-cache invalidate, device-selective (no function mask) / global. */
void vtd_desc_cc_device(uint64_t w[2], uint16_t did, uint16_t sid);
void vtd_desc_cc_global(uint64_t w[2]);
/* 6.5.2.8 Invalidation wait: SW writes data at status_addr; FN fences. */
void vtd_desc_wait(uint64_t w[2], uint64_t status_addr, uint32_t data, bool sw, bool fn);

#ifdef __cplusplus
}
#endif
#endif
