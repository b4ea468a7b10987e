/*
 * iommusim/inv.h - the neutral invalidation request.
 *
 * VT-d queued-invalidation descriptors and SMMUv3 commands are decoded into
 * this one request; every cache model applies it.  A request names which
 * structures it reaches (targets) and how much of them (scope and tags).
 * Address ranges are inclusive [addr_first, addr_last].
 */
#ifndef IOMMUSIM_INV_H
#define IOMMUSIM_INV_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Structures an invalidation reaches (bit set). */
enum {
	IMS_INV_T_IOTLB = 1u << 0,   /* translations (combined / stage-1 / stage-2) */
	IMS_INV_T_WALK = 1u << 1,    /* paging-structure (walk) caches */
	IMS_INV_T_CONTEXT = 1u << 2, /* VT-d context cache / SMMUv3 STE cache */
	IMS_INV_T_PASID = 1u << 3,   /* VT-d PASID cache / SMMUv3 CD cache */
	IMS_INV_T_DEVTLB = 1u << 4,  /* device-TLB (ATS) */
	IMS_INV_T_IEC = 1u << 5,     /* interrupt entry cache */
	IMS_INV_T_SYNC = 1u << 6,    /* completion: wait / sync */
};

enum ims_inv_scope {
	IMS_INV_SCOPE_NONE = 0, /* no cache effect (wait, prefetch, response) */
	IMS_INV_SCOPE_ALL,      /* everything in the targets */
	IMS_INV_SCOPE_DOMAIN,   /* one domain (DID / VMID) */
	IMS_INV_SCOPE_PASID,    /* one PASID / ASID (within a domain if has_domain) */
	IMS_INV_SCOPE_RANGE,    /* addresses [addr_first, addr_last] (+ domain, pasid) */
	IMS_INV_SCOPE_SOURCE,   /* configuration of sources [sid_first, sid_last] */
};

/* Which translations a range or PASID scope reaches. */
enum {
	IMS_INV_F_STAGE1 = 1u << 0,      /* stage-1 (first-stage) derived entries */
	IMS_INV_F_STAGE2 = 1u << 1,      /* stage-2 (second-stage) derived entries */
	IMS_INV_F_LEAF = 1u << 2,        /* leaf only: keep walk-cache entries (IH / LEAF) */
	IMS_INV_F_KEEP_GLOBAL = 1u << 3, /* entries marked global survive */
	IMS_INV_F_DRAIN_READ = 1u << 4,
	IMS_INV_F_DRAIN_WRITE = 1u << 5,
	IMS_INV_F_INTR = 1u << 6,        /* completion raises an interrupt */
	IMS_INV_F_STATUS_WRITE = 1u << 7,/* completion writes status data */
	IMS_INV_F_FENCE = 1u << 8,       /* completion orders later descriptors */
	/*
	 * A RANGE scope limits stage-2 entries only: stage-1 and nested
	 * (combined) entries of the domain go whatever their address, walk
	 * caches included (VT-d page-selective IOTLB invalidation in scalable
	 * mode, 6.5.2.3).
	 */
	IMS_INV_F_STAGE1_ALL_ADDR = 1u << 9,
	/*
	 * A RANGE scope with a PASID also reaches global (leaf) entries at the
	 * address whatever PASID they were filled under (SMMUv3 CMD_TLBI_NH_VA,
	 * as Arm TLBI VAE1: global entries match every ASID).
	 */
	IMS_INV_F_GLOBAL_ANY_PASID = 1u << 10,
};

struct ims_inv {
	uint32_t targets;      /* IMS_INV_T_* */
	enum ims_inv_scope scope;
	uint32_t flags;        /* IMS_INV_F_* */
	bool has_domain, has_pasid;
	uint32_t domain;       /* DID / VMID */
	uint32_t pasid;        /* PASID / ASID / SSID */
	uint32_t sid_first, sid_last; /* SOURCE scope (RID / StreamID), inclusive */
	/*
	 * SOURCE scope: source-ID bits left out of the compare (VT-d function
	 * mask, 6.5.2.1).  Zero: every source in [sid_first, sid_last]; else a
	 * source matches when (sid & ~sid_ignore) == (sid_first & ~sid_ignore).
	 */
	uint32_t sid_ignore;
	uint64_t addr_first, addr_last;
	uint8_t ttl;           /* level hint: 0 = none; else level+1 of the leaf */
	uint8_t granule_lg2;   /* granule the range was expressed in (0 = n/a) */
	uint64_t status_addr;  /* completion status write address */
	uint32_t status_data;
	uint16_t arch_op;      /* the architecture's descriptor type / opcode */
	const char *arch_name; /* its name */
};

#ifdef __cplusplus
}
#endif
#endif
