/*
 * inv_queue.c - VT-d queued-invalidation descriptors.
 *
 * Decodes one descriptor fetched from the invalidation queue into the
 * neutral request of <iommusim/inv.h>, or says which invalidation-queue
 * error (IQERCD_REG.IQEI) the hardware would report for it.  Fetching from
 * the queue, head/tail handling and the caches themselves live elsewhere;
 * this file only answers "what does this descriptor mean on this instance".
 *
 * Reference: Intel Virtualization Technology for Directed I/O, Architecture
 * Specification, rev 4.x / 5.0:
 *   6.5.2     queued invalidation interface, descriptor formats:
 *   6.5.2.1   context-cache invalidate          (type 1)
 *   6.5.2.2   PASID-cache invalidate            (type 7)
 *   6.5.2.3   IOTLB invalidate                  (type 2)
 *   6.5.2.4   PASID-based-IOTLB invalidate      (type 6)
 *   6.5.2.5   device-TLB invalidate             (type 3)
 *   6.5.2.6   PASID-based-device-TLB invalidate (type 8)
 *   6.5.2.7   interrupt entry cache invalidate  (type 4)
 *   6.5.2.8   invalidation wait                 (type 5)
 *   6.5.2.10  queued invalidation errors
 *   6.5.3.3   guidance to software for invalidations
 *   11.4.2/3  CAP_REG / ECAP_REG, 11.4.9.x IQA_REG / IQERCD_REG
 *   PCIe Base Spec, ATS chapter: invalidate-request range encoding (S bit)
 *
 * Every descriptor is 128 bits (IQA_REG.DW = 0) or 256 bits (DW = 1).  For
 * all types decoded here the 256-bit form only appends bits 255:128, which
 * are reserved.  The type is bits 3:0 (type[3:0]) and 11:9 (type[6:4]).
 *
 * A note on "reserved" versus "ignored": the spec makes a field reserved
 * when the hardware lacks the feature it controls only where it says so;
 * fields that merely carry no meaning at a coarser granularity (ADDR/AM of a
 * domain-selective IOTLB invalidation, SID/FM of a global context-cache
 * invalidation, ...) are ignored, as the register-based forms of the same
 * invalidations say.  Rejecting them would halt a queue real hardware runs.
 */
#include <assert.h>
#include <errno.h>
#include <string.h>

#include <iommusim/inv.h>

#include "formats/vtd/vtd_int.h"

/* Descriptor type, common to every descriptor. */
#define VTD_DESC_0_TYPE_LO GENMASK(3, 0)     /* 3:0 type[3:0] */
#define VTD_DESC_0_TYPE_HI GENMASK(11, 9)    /* 11:9 type[6:4] */
#define VTD_DESC_TYPE_HI_IN_TYPE GENMASK(6, 4) /* where type[6:4] lands */

/* Words 2 and 3 (255:128) of the 256-bit form: reserved for every type here. */

/* ---- Context-cache invalidate (6.5.2.1) ---- */
#define VTD_CC_0_G GENMASK(5, 4)             /* 5:4 granularity */
#define VTD_CC_0_DID GENMASK(31, 16)         /* 31:16 domain-id */
#define VTD_CC_0_SID GENMASK(47, 32)         /* 47:32 source-id */
#define VTD_CC_0_FM GENMASK(49, 48)          /* 49:48 function mask */
#define VTD_CC_0_RSVD (GENMASK(8, 6) | GENMASK(15, 12) | GENMASK(63, 50)) /* 8:6 15:12 63:50 */
#define VTD_CC_1_RSVD GENMASK(63, 0)         /* 127:64 */
enum { VTD_CC_G_GLOBAL = 1, VTD_CC_G_DOMAIN = 2, VTD_CC_G_DEVICE = 3 };

/* ---- PASID-cache invalidate (6.5.2.2) ---- */
#define VTD_PC_0_G GENMASK(5, 4)             /* 5:4 granularity */
#define VTD_PC_0_DID GENMASK(31, 16)         /* 31:16 domain-id */
#define VTD_PC_0_PASID GENMASK(51, 32)       /* 51:32 PASID */
#define VTD_PC_0_RSVD (GENMASK(8, 6) | GENMASK(15, 12) | GENMASK(63, 52)) /* 8:6 15:12 63:52 */
#define VTD_PC_1_RSVD GENMASK(63, 0)         /* 127:64 */
enum { VTD_PC_G_DOMAIN = 0, VTD_PC_G_PASID = 1, VTD_PC_G_GLOBAL = 3 };

/* ---- IOTLB invalidate (6.5.2.3) ---- */
#define VTD_IOTLB_0_G GENMASK(5, 4)          /* 5:4 granularity */
#define VTD_IOTLB_0_DW BIT(6)                /* 6 drain writes */
#define VTD_IOTLB_0_DR BIT(7)                /* 7 drain reads */
#define VTD_IOTLB_0_DID GENMASK(31, 16)      /* 31:16 domain-id */
#define VTD_IOTLB_0_RSVD (BIT(8) | GENMASK(15, 12) | GENMASK(63, 32)) /* 8 15:12 63:32 */
#define VTD_IOTLB_1_AM GENMASK(5, 0)         /* 69:64 address mask */
#define VTD_IOTLB_1_IH BIT(6)                /* 70 invalidation hint */
#define VTD_IOTLB_1_RSVD GENMASK(11, 7)      /* 75:71 */
#define VTD_IOTLB_1_ADDR GENMASK(63, 12)     /* 127:76 address[63:12] */
enum { VTD_IOTLB_G_GLOBAL = 1, VTD_IOTLB_G_DOMAIN = 2, VTD_IOTLB_G_PAGE = 3 };

/* ---- PASID-based-IOTLB invalidate (6.5.2.4) ---- */
#define VTD_PIOTLB_0_G GENMASK(5, 4)         /* 5:4 granularity */
#define VTD_PIOTLB_0_DID GENMASK(31, 16)     /* 31:16 domain-id */
#define VTD_PIOTLB_0_PASID GENMASK(51, 32)   /* 51:32 PASID */
#define VTD_PIOTLB_0_RSVD (GENMASK(8, 6) | GENMASK(15, 12) | GENMASK(63, 52)) /* 8:6 15:12 63:52 */
#define VTD_PIOTLB_1_AM GENMASK(5, 0)        /* 69:64 address mask */
#define VTD_PIOTLB_1_IH BIT(6)               /* 70 invalidation hint */
#define VTD_PIOTLB_1_RSVD GENMASK(11, 7)     /* 75:71 */
#define VTD_PIOTLB_1_ADDR GENMASK(63, 12)    /* 127:76 address[63:12] */
enum { VTD_PIOTLB_G_PASID = 2, VTD_PIOTLB_G_PAGE = 3 };

/* ---- Device-TLB invalidate (6.5.2.5) ---- */
#define VTD_DEVTLB_0_PFSID_LO GENMASK(15, 12) /* 15:12 PF source-id[3:0] */
#define VTD_DEVTLB_0_MIP GENMASK(20, 16)     /* 20:16 max invalidations pending */
#define VTD_DEVTLB_0_SID GENMASK(47, 32)     /* 47:32 source-id */
#define VTD_DEVTLB_0_PFSID_HI GENMASK(63, 52) /* 63:52 PF source-id[15:4] */
#define VTD_DEVTLB_0_RSVD (GENMASK(8, 4) | GENMASK(31, 21) | GENMASK(51, 48)) /* 8:4 31:21 51:48 */
#define VTD_DEVTLB_1_S BIT(0)                /* 64 size */
#define VTD_DEVTLB_1_RSVD GENMASK(11, 1)     /* 75:65 */
#define VTD_DEVTLB_1_ADDR GENMASK(63, 12)    /* 127:76 address[63:12] */

/* ---- PASID-based-device-TLB invalidate (6.5.2.6) ---- */
#define VTD_PDEVTLB_0_MIP GENMASK(8, 4)      /* 8:4 max invalidations pending */
#define VTD_PDEVTLB_0_PFSID_LO GENMASK(15, 12) /* 15:12 PF source-id[3:0] */
#define VTD_PDEVTLB_0_SID GENMASK(31, 16)    /* 31:16 source-id */
#define VTD_PDEVTLB_0_PASID GENMASK(51, 32)  /* 51:32 PASID */
#define VTD_PDEVTLB_0_PFSID_HI GENMASK(63, 52) /* 63:52 PF source-id[15:4] */
#define VTD_PDEVTLB_1_G BIT(0)               /* 64 global */
#define VTD_PDEVTLB_1_RSVD GENMASK(10, 1)    /* 74:65 */
#define VTD_PDEVTLB_1_S BIT(11)              /* 75 size */
#define VTD_PDEVTLB_1_ADDR GENMASK(63, 12)   /* 127:76 address[63:12] */

/* ---- Interrupt entry cache invalidate (6.5.2.7) ---- */
#define VTD_IEC_0_G BIT(4)                   /* 4 granularity: 1 = index-selective */
#define VTD_IEC_0_IM GENMASK(31, 27)         /* 31:27 index mask */
#define VTD_IEC_0_IIDX GENMASK(47, 32)       /* 47:32 interrupt index */
#define VTD_IEC_0_RSVD (GENMASK(8, 5) | GENMASK(26, 12) | GENMASK(63, 48)) /* 8:5 26:12 63:48 */
#define VTD_IEC_1_RSVD GENMASK(63, 0)        /* 127:64 */

/* ---- Invalidation wait (6.5.2.8) ---- */
#define VTD_WAIT_0_IF BIT(4)                 /* 4 interrupt flag */
#define VTD_WAIT_0_SW BIT(5)                 /* 5 status write */
#define VTD_WAIT_0_FN BIT(6)                 /* 6 fence */
#define VTD_WAIT_0_PD BIT(7)                 /* 7 page-request drain */
#define VTD_WAIT_0_STDATA GENMASK(63, 32)    /* 63:32 status data */
#define VTD_WAIT_0_RSVD (BIT(8) | GENMASK(31, 12)) /* 8 31:12 */
#define VTD_WAIT_1_RSVD GENMASK(1, 0)        /* 65:64 */
#define VTD_WAIT_1_STADDR GENMASK(63, 2)     /* 127:66 status address[63:2] */

/* Invalidation addresses count 4 KiB pages (ADDR is address[63:12]). */
#define VTD_INV_PAGE_LG2 12

/* FM (6.5.2.1, and CCMD_REG.FM 11.4.4.1): SID bits ignored in the compare. */
static const uint16_t vtd_cc_fm_mask[4] = {
	0,               /* 00: no bits masked */
	BIT(2),          /* 01: mask SID bit 2 */
	GENMASK(2, 1),   /* 10: mask SID bits 2:1 */
	GENMASK(2, 0),   /* 11: mask SID bits 2:0 */
};

/*
 * An inclusive range of 2^size_lg2 units containing addr, in units of
 * 2^granule_lg2 (4 KiB pages for addresses, single entries for interrupt
 * indexes).  The bits of addr below the size are ignored, never an error:
 * the spec's AM is "the number of low order bits of the ADDR field that must
 * be masked".
 */
static void vtd_inv_set_range(struct ims_inv *d, uint64_t addr, unsigned size_lg2,
			      unsigned granule_lg2)
{
	uint64_t mask = ims_mask_lg2(size_lg2);

	d->scope = IMS_INV_SCOPE_RANGE;
	d->addr_first = addr & ~mask;
	d->addr_last = d->addr_first | mask;
	d->granule_lg2 = (uint8_t)granule_lg2;
}

/*
 * The ATS range encoding used by both device-TLB descriptors: with S clear
 * the request covers the one 4 KiB page at ADDR; with S set, the lowest clear
 * bit of ADDR[63:12] gives the size (bit 12 clear: 8 KiB, bits 13:12 = 01b:
 * 16 KiB, ...), and ADDR[63:12] all ones means every address.
 */
static void vtd_devtlb_set_range(struct ims_inv *d, uint64_t w1_addr_field, bool s)
{
	uint64_t pfn = w1_addr_field; /* ADDR[63:12] as a 52-bit number */
	uint64_t addr = FIELD_PREP(GENMASK(63, 12), pfn);
	unsigned ones;

	if (!s) {
		vtd_inv_set_range(d, addr, VTD_INV_PAGE_LG2, VTD_INV_PAGE_LG2);
		return;
	}
	/*
	 * Trailing ones of the 52-bit field.  ~pfn always has bits 63:52 set,
	 * so the count stops at 52 (every address) and ctz never sees zero.
	 */
	ones = (unsigned)__builtin_ctzll(~pfn);
	vtd_inv_set_range(d, addr, VTD_INV_PAGE_LG2 + ones + 1, VTD_INV_PAGE_LG2);
}

/* PFSID is defined only with device-TLB invalidation throttling (ECAP.DIT). */
static bool vtd_pfsid_reserved(const struct vtd_state *st)
{
	return !(st->ecap & VTD_ECAP_DIT);
}

/*
 * 6.5.2.1 Context-cache invalidate.
 *
 * Reaches the context cache only.  The spec's guidance (6.5.3.3) has software
 * follow a context-cache invalidation with explicit PASID-cache (scalable
 * mode), IOTLB and device-TLB invalidations, so no other target is implied
 * here; if a revision makes them implicit, add the targets in this function.
 */
static enum vtd_iqe vtd_decode_cc(const struct vtd_state *st, const uint64_t *w,
				  struct ims_inv *d)
{
	unsigned g = FIELD_GET(VTD_CC_0_G, w[0]);
	uint32_t sid, fm_mask;

	if ((w[0] & VTD_CC_0_RSVD) || (w[1] & VTD_CC_1_RSVD))
		return VTD_IQE_RSVD;

	d->targets = IMS_INV_T_CONTEXT;
	d->arch_name = "context-cache invalidate";
	switch (g) {
	case VTD_CC_G_GLOBAL:
		d->scope = IMS_INV_SCOPE_ALL;
		break;
	case VTD_CC_G_DOMAIN:
		/*
		 * Scalable-mode context entries carry no domain-id, so hardware
		 * in scalable mode ignores DID: the invalidation is global.
		 */
		if (vtd_is_scalable(st)) {
			d->scope = IMS_INV_SCOPE_ALL;
			break;
		}
		d->scope = IMS_INV_SCOPE_DOMAIN;
		d->has_domain = true;
		d->domain = FIELD_GET(VTD_CC_0_DID, w[0]);
		break;
	case VTD_CC_G_DEVICE:
		/*
		 * DID is supplied for hardware that widens device-selective to
		 * domain-selective; it does not narrow the match, so the request
		 * carries no domain (conservative: every DID of those SIDs).
		 */
		sid = FIELD_GET(VTD_CC_0_SID, w[0]);
		fm_mask = vtd_cc_fm_mask[FIELD_GET(VTD_CC_0_FM, w[0])];
		d->scope = IMS_INV_SCOPE_SOURCE;
		d->sid_first = sid & ~fm_mask;
		d->sid_last = sid | fm_mask;
		d->sid_ignore = fm_mask;
		break;
	default:
		/* G = 00b: "Reserved" encoding. */
		return VTD_IQE_RSVD;
	}
	return VTD_IQE_NONE;
}

/*
 * 6.5.2.2 PASID-cache invalidate (scalable mode).
 */
static enum vtd_iqe vtd_decode_pc(const struct vtd_state *st, const uint64_t *w,
				  struct ims_inv *d)
{
	unsigned g = FIELD_GET(VTD_PC_0_G, w[0]);

	if (!(st->ecap & VTD_ECAP_SMTS))
		return VTD_IQE_TYPE;
	if ((w[0] & VTD_PC_0_RSVD) || (w[1] & VTD_PC_1_RSVD))
		return VTD_IQE_RSVD;

	d->targets = IMS_INV_T_PASID;
	d->arch_name = "PASID-cache invalidate";
	switch (g) {
	case VTD_PC_G_DOMAIN:
		d->scope = IMS_INV_SCOPE_DOMAIN;
		d->has_domain = true;
		d->domain = FIELD_GET(VTD_PC_0_DID, w[0]);
		break;
	case VTD_PC_G_PASID:
		d->scope = IMS_INV_SCOPE_PASID;
		d->has_domain = true;
		d->domain = FIELD_GET(VTD_PC_0_DID, w[0]);
		d->has_pasid = true;
		d->pasid = FIELD_GET(VTD_PC_0_PASID, w[0]);
		break;
	case VTD_PC_G_GLOBAL:
		d->scope = IMS_INV_SCOPE_ALL;
		break;
	default:
		/* G = 10b: "Reserved" encoding. */
		return VTD_IQE_RSVD;
	}
	return VTD_IQE_NONE;
}

/*
 * 6.5.2.3 IOTLB invalidate.
 *
 * Global and domain-selective reach every translation and paging-structure
 * entry (second-stage, first-stage and nested) of all domains / of DID.
 * Page-selective-within-domain names a second-stage input range: it drops
 * second-stage (and pass-through) entries of DID in that range, but all
 * first-stage and nested entries of DID whatever their address, since their
 * input addresses are not second-stage input addresses.
 */
static enum vtd_iqe vtd_decode_iotlb(const struct vtd_state *st, const uint64_t *w,
				     struct ims_inv *d)
{
	unsigned g = FIELD_GET(VTD_IOTLB_0_G, w[0]);
	unsigned am;

	if ((w[0] & VTD_IOTLB_0_RSVD) || (w[1] & VTD_IOTLB_1_RSVD))
		return VTD_IQE_RSVD;

	d->targets = IMS_INV_T_IOTLB | IMS_INV_T_WALK;
	d->flags = IMS_INV_F_STAGE1 | IMS_INV_F_STAGE2;
	d->arch_name = "IOTLB invalidate";
	/* DR/DW are ignored, not reserved, when CAP.DRD/DWD are clear. */
	if ((w[0] & VTD_IOTLB_0_DR) && (st->cap & VTD_CAP_DRD))
		d->flags |= IMS_INV_F_DRAIN_READ;
	if ((w[0] & VTD_IOTLB_0_DW) && (st->cap & VTD_CAP_DWD))
		d->flags |= IMS_INV_F_DRAIN_WRITE;

	switch (g) {
	case VTD_IOTLB_G_GLOBAL:
		d->scope = IMS_INV_SCOPE_ALL;
		break;
	case VTD_IOTLB_G_DOMAIN:
		d->scope = IMS_INV_SCOPE_DOMAIN;
		d->has_domain = true;
		d->domain = FIELD_GET(VTD_IOTLB_0_DID, w[0]);
		break;
	case VTD_IOTLB_G_PAGE:
		/*
		 * CAP.PSI and CAP.MAMV describe this descriptor.  The spec lets
		 * register-based hardware widen an unsupported request; for the
		 * queue it is silent, so we take the strict reading and reject.
		 */
		am = FIELD_GET(VTD_IOTLB_1_AM, w[1]);
		if (!(st->cap & VTD_CAP_PSI) || am > FIELD_GET(VTD_CAP_MAMV, st->cap))
			return VTD_IQE_RSVD;
		d->has_domain = true;
		d->domain = FIELD_GET(VTD_IOTLB_0_DID, w[0]);
		/*
		 * Where first-stage or nested entries can exist (scalable mode
		 * on hardware with FSTS or NEST), the range limits second-stage
		 * entries only: first-stage and nested entries of the DID go
		 * whatever their address.
		 */
		if (vtd_is_scalable(st) && (st->ecap & (VTD_ECAP_FSTS | VTD_ECAP_NEST)))
			d->flags |= IMS_INV_F_STAGE1_ALL_ADDR;
		else
			d->flags &= ~(uint32_t)IMS_INV_F_STAGE1;
		vtd_inv_set_range(d, w[1] & VTD_IOTLB_1_ADDR, VTD_INV_PAGE_LG2 + am,
				  VTD_INV_PAGE_LG2);
		if (w[1] & VTD_IOTLB_1_IH)
			d->flags |= IMS_INV_F_LEAF;
		break;
	default:
		/* G = 00b: "Reserved" encoding. */
		return VTD_IQE_RSVD;
	}
	return VTD_IQE_NONE;
}

/*
 * 6.5.2.4 PASID-based-IOTLB invalidate (scalable mode).
 *
 * Reaches first-stage and nested entries tagged with DID and PASID.
 * PASID-selective spares global (G = 1) first-stage entries ("non-globals"),
 * page-selective-within-PASID does not.
 */
static enum vtd_iqe vtd_decode_piotlb(const struct vtd_state *st, const uint64_t *w,
				      struct ims_inv *d)
{
	unsigned g = FIELD_GET(VTD_PIOTLB_0_G, w[0]);

	if (!(st->ecap & VTD_ECAP_SMTS))
		return VTD_IQE_TYPE;
	if ((w[0] & VTD_PIOTLB_0_RSVD) || (w[1] & VTD_PIOTLB_1_RSVD))
		return VTD_IQE_RSVD;

	d->targets = IMS_INV_T_IOTLB | IMS_INV_T_WALK;
	d->flags = IMS_INV_F_STAGE1;
	d->arch_name = "PASID-based-IOTLB invalidate";
	d->has_domain = true;
	d->domain = FIELD_GET(VTD_PIOTLB_0_DID, w[0]);
	d->has_pasid = true;
	d->pasid = FIELD_GET(VTD_PIOTLB_0_PASID, w[0]);

	switch (g) {
	case VTD_PIOTLB_G_PASID:
		d->scope = IMS_INV_SCOPE_PASID;
		d->flags |= IMS_INV_F_KEEP_GLOBAL;
		break;
	case VTD_PIOTLB_G_PAGE:
		/*
		 * CAP.MAMV bounds the IOTLB descriptor (second-stage); nothing
		 * bounds AM here, so any value is taken, up to "everything".
		 */
		vtd_inv_set_range(d, w[1] & VTD_PIOTLB_1_ADDR,
				  VTD_INV_PAGE_LG2 + FIELD_GET(VTD_PIOTLB_1_AM, w[1]),
				  VTD_INV_PAGE_LG2);
		if (w[1] & VTD_PIOTLB_1_IH)
			d->flags |= IMS_INV_F_LEAF;
		break;
	default:
		/* G = 00b and 01b: "Reserved" encodings. */
		return VTD_IQE_RSVD;
	}
	return VTD_IQE_NONE;
}

/*
 * 6.5.2.5 Device-TLB invalidate.
 *
 * Goes to the device's ATC: it holds final translations, whichever stage
 * produced them, so both stage flags are set.  No domain: the ATC is
 * addressed by SID.  MIP is a flow-control hint with no cache effect.
 */
static enum vtd_iqe vtd_decode_devtlb(const struct vtd_state *st, const uint64_t *w,
				      struct ims_inv *d)
{
	uint32_t sid;

	if (!(st->ecap & VTD_ECAP_DT))
		return VTD_IQE_TYPE;
	if ((w[0] & VTD_DEVTLB_0_RSVD) || (w[1] & VTD_DEVTLB_1_RSVD))
		return VTD_IQE_RSVD;
	if (vtd_pfsid_reserved(st) &&
	    (w[0] & (VTD_DEVTLB_0_PFSID_LO | VTD_DEVTLB_0_PFSID_HI)))
		return VTD_IQE_RSVD;

	sid = FIELD_GET(VTD_DEVTLB_0_SID, w[0]);
	d->targets = IMS_INV_T_DEVTLB;
	d->flags = IMS_INV_F_STAGE1 | IMS_INV_F_STAGE2;
	d->arch_name = "device-TLB invalidate";
	d->sid_first = sid;
	d->sid_last = sid;
	vtd_devtlb_set_range(d, FIELD_GET(VTD_DEVTLB_1_ADDR, w[1]), w[1] & VTD_DEVTLB_1_S);
	return VTD_IQE_NONE;
}

/*
 * 6.5.2.6 PASID-based-device-TLB invalidate (scalable mode).
 *
 * With G set the ATS request also reaches global translations of every
 * PASID of the device; the neutral request has no "this PASID plus globals",
 * so G widens it to all PASIDs of the device (conservative).
 */
static enum vtd_iqe vtd_decode_pdevtlb(const struct vtd_state *st, const uint64_t *w,
				       struct ims_inv *d)
{
	uint32_t sid;

	if (!(st->ecap & VTD_ECAP_SMTS) || !(st->ecap & VTD_ECAP_DT))
		return VTD_IQE_TYPE;
	if (w[1] & VTD_PDEVTLB_1_RSVD)
		return VTD_IQE_RSVD;
	if (vtd_pfsid_reserved(st) &&
	    (w[0] & (VTD_PDEVTLB_0_PFSID_LO | VTD_PDEVTLB_0_PFSID_HI)))
		return VTD_IQE_RSVD;

	sid = FIELD_GET(VTD_PDEVTLB_0_SID, w[0]);
	d->targets = IMS_INV_T_DEVTLB;
	d->flags = IMS_INV_F_STAGE1 | IMS_INV_F_STAGE2;
	d->arch_name = "PASID-based-device-TLB invalidate";
	d->sid_first = sid;
	d->sid_last = sid;
	if (!(w[1] & VTD_PDEVTLB_1_G)) {
		d->has_pasid = true;
		d->pasid = FIELD_GET(VTD_PDEVTLB_0_PASID, w[0]);
	}
	vtd_devtlb_set_range(d, FIELD_GET(VTD_PDEVTLB_1_ADDR, w[1]), w[1] & VTD_PDEVTLB_1_S);
	return VTD_IQE_NONE;
}

/*
 * 6.5.2.7 Interrupt entry cache invalidate.
 *
 * Index-selective names interrupt indexes [IIDX masked by IM], carried in
 * addr_first/addr_last with granule_lg2 = 0 (units of one entry).  IM may not
 * exceed ECAP.MHMV, the largest handle mask the hardware supports.
 */
static enum vtd_iqe vtd_decode_iec(const struct vtd_state *st, const uint64_t *w,
				   struct ims_inv *d)
{
	unsigned im = FIELD_GET(VTD_IEC_0_IM, w[0]);

	if (!(st->ecap & VTD_ECAP_IR))
		return VTD_IQE_TYPE;
	if ((w[0] & VTD_IEC_0_RSVD) || (w[1] & VTD_IEC_1_RSVD))
		return VTD_IQE_RSVD;

	d->targets = IMS_INV_T_IEC;
	d->arch_name = "interrupt entry cache invalidate";
	if (!(w[0] & VTD_IEC_0_G)) {
		d->scope = IMS_INV_SCOPE_ALL;
		return VTD_IQE_NONE;
	}
	if (im > FIELD_GET(VTD_ECAP_MHMV, st->ecap))
		return VTD_IQE_RSVD;
	vtd_inv_set_range(d, FIELD_GET(VTD_IEC_0_IIDX, w[0]), im, 0);
	return VTD_IQE_NONE;
}

/*
 * 6.5.2.8 Invalidation wait.
 *
 * No cache effect; completes (and with FN fences) what precedes it.  Status
 * address and data mean something only with SW, so they are reported only
 * then.  PD (drain page requests) is defined only with ECAP.PDS; we do not
 * model page requests, so an accepted PD has nothing to drain.
 */
static enum vtd_iqe vtd_decode_wait(const struct vtd_state *st, const uint64_t *w,
				    struct ims_inv *d)
{
	if ((w[0] & VTD_WAIT_0_RSVD) || (w[1] & VTD_WAIT_1_RSVD))
		return VTD_IQE_RSVD;
	if ((w[0] & VTD_WAIT_0_PD) && !(st->ecap & VTD_ECAP_PDS))
		return VTD_IQE_RSVD;

	d->targets = IMS_INV_T_SYNC;
	d->scope = IMS_INV_SCOPE_NONE;
	d->arch_name = "invalidation wait";
	if (w[0] & VTD_WAIT_0_IF)
		d->flags |= IMS_INV_F_INTR;
	if (w[0] & VTD_WAIT_0_FN)
		d->flags |= IMS_INV_F_FENCE;
	if (w[0] & VTD_WAIT_0_SW) {
		d->flags |= IMS_INV_F_STATUS_WRITE;
		d->status_addr = w[1] & VTD_WAIT_1_STADDR;
		d->status_data = FIELD_GET(VTD_WAIT_0_STDATA, w[0]);
	}
	return VTD_IQE_NONE;
}

static int vtd_inv_reject(uint32_t *arch_err, enum vtd_iqe code)
{
	*arch_err = code;
	return -EINVAL;
}

/*
 * Decode one queued-invalidation descriptor of nwords 64-bit words (2: the
 * 128-bit form, 4: the 256-bit form) into *inv.  Returns 0 and sets
 * *arch_err to VTD_IQE_NONE, or returns -EINVAL with *arch_err the
 * IQERCD_REG.IQEI the hardware reports, leaving *inv untouched.
 *
 * Checks, in the order hardware meets them (6.5.2.10):
 *   1. width: 2 or 4 words; 4 only with ECAP.SMTS (IQA_REG.DW is reserved
 *      without it) -> VTD_IQE_WIDTH;
 *   2. type: one of the eight known types -> else VTD_IQE_TYPE;
 *   3. the type's checks: a type the instance lacks (device-TLB without
 *      ECAP.DT, IEC without ECAP.IR, PASID-based types without ECAP.SMTS)
 *      -> VTD_IQE_TYPE; reserved bits, reserved granularity encodings,
 *      unsupported masks -> VTD_IQE_RSVD;
 *   4. bits 255:128 of the 256-bit form non-zero -> VTD_IQE_RSVD.
 */
int vtd_decode_inv(struct ims_iommu *iommu, const uint64_t *words, unsigned nwords,
		   struct ims_inv *inv, uint32_t *arch_err)
{
	const struct vtd_state *st;
	struct ims_inv d;
	enum vtd_iqe err;
	unsigned type;

	assert(iommu && words && inv && arch_err);
	st = vtd_state(iommu);

	/* Step 1: descriptor width. */
	if (nwords != 2 && nwords != 4)
		return vtd_inv_reject(arch_err, VTD_IQE_WIDTH);
	if (nwords == 4 && !(st->ecap & VTD_ECAP_SMTS))
		return vtd_inv_reject(arch_err, VTD_IQE_WIDTH);

	/* Step 2: type[6:4] from bits 11:9, type[3:0] from bits 3:0. */
	type = FIELD_GET(VTD_DESC_0_TYPE_LO, words[0]) |
	       FIELD_PREP(VTD_DESC_TYPE_HI_IN_TYPE, FIELD_GET(VTD_DESC_0_TYPE_HI, words[0]));

	/*
	 * Step 3: the type's own checks (its capability, then reserved bits
	 * and granularity), decoding into a local so *inv stays untouched.
	 */
	memset(&d, 0, sizeof(d));
	switch (type) {
	case VTD_DESC_CC:
		err = vtd_decode_cc(st, words, &d);
		break;
	case VTD_DESC_IOTLB:
		err = vtd_decode_iotlb(st, words, &d);
		break;
	case VTD_DESC_DEVTLB:
		err = vtd_decode_devtlb(st, words, &d);
		break;
	case VTD_DESC_IEC:
		err = vtd_decode_iec(st, words, &d);
		break;
	case VTD_DESC_WAIT:
		err = vtd_decode_wait(st, words, &d);
		break;
	case VTD_DESC_PIOTLB:
		err = vtd_decode_piotlb(st, words, &d);
		break;
	case VTD_DESC_PC:
		err = vtd_decode_pc(st, words, &d);
		break;
	case VTD_DESC_PDEVTLB:
		err = vtd_decode_pdevtlb(st, words, &d);
		break;
	default:
		/* 0, 9 (page-group response, not modelled) and above. */
		return vtd_inv_reject(arch_err, VTD_IQE_TYPE);
	}
	/* Step 4: bits 255:128 of the 256-bit form, reserved for every type here. */
	if (err == VTD_IQE_NONE && nwords == 4 && (words[2] || words[3]))
		err = VTD_IQE_RSVD;
	if (err != VTD_IQE_NONE)
		return vtd_inv_reject(arch_err, err);

	d.arch_op = (uint16_t)type;
	*inv = d;
	*arch_err = VTD_IQE_NONE;
	return 0;
}

/*
 * ---- Encoders: software's side of the same descriptors ----
 *
 * What a driver writes into the invalidation queue, built with the masks the
 * decoder reads.  Each fills the 128-bit form w[0..1]; the 256-bit form
 * appends two zero words.  Fields are truncated to their width, as the
 * hardware would see them.
 */

static uint64_t vtd_desc_type(unsigned type)
{
	return FIELD_PREP(VTD_DESC_0_TYPE_LO, type) |
	       FIELD_PREP(VTD_DESC_0_TYPE_HI, FIELD_GET(VTD_DESC_TYPE_HI_IN_TYPE, type));
}

/* Word 0 of an IOTLB invalidate (6.5.2.3): type, G, DID, DR, DW. */
static uint64_t vtd_desc_iotlb_w0(unsigned g, uint16_t did, bool dr, bool dw)
{
	return vtd_desc_type(VTD_DESC_IOTLB) | FIELD_PREP(VTD_IOTLB_0_G, g) |
	       FIELD_PREP(VTD_IOTLB_0_DID, did) | (dr ? VTD_IOTLB_0_DR : 0) |
	       (dw ? VTD_IOTLB_0_DW : 0);
}

/* 6.5.2.3 IOTLB invalidate, page-selective-within-domain (G = 11b). */
void vtd_desc_iotlb_psi(uint64_t w[2], uint16_t did, uint64_t addr, unsigned am, bool ih, bool dr,
			bool dw)
{
	w[0] = vtd_desc_iotlb_w0(VTD_IOTLB_G_PAGE, did, dr, dw);
	w[1] = (addr & VTD_IOTLB_1_ADDR) | FIELD_PREP(VTD_IOTLB_1_AM, am) |
	       (ih ? VTD_IOTLB_1_IH : 0);
}

/* 6.5.2.3 IOTLB invalidate, domain-selective (G = 10b). */
void vtd_desc_iotlb_dsi(uint64_t w[2], uint16_t did, bool dr, bool dw)
{
	w[0] = vtd_desc_iotlb_w0(VTD_IOTLB_G_DOMAIN, did, dr, dw);
	w[1] = 0;
}

/* 6.5.2.3 IOTLB invalidate, global (G = 01b). */
void vtd_desc_iotlb_global(uint64_t w[2], bool dr, bool dw)
{
	w[0] = vtd_desc_iotlb_w0(VTD_IOTLB_G_GLOBAL, 0, dr, dw);
	w[1] = 0;
}

/*
 * 6.5.2.4 PASID-based-IOTLB invalidate: page-selective-within-PASID (G =
 * 11b, addr/am/ih used) when page, else PASID-selective (G = 10b).
 */
void vtd_desc_piotlb(uint64_t w[2], uint16_t did, uint32_t pasid, bool page, uint64_t addr,
		     unsigned am, bool ih)
{
	w[0] = vtd_desc_type(VTD_DESC_PIOTLB) |
	       FIELD_PREP(VTD_PIOTLB_0_G, page ? VTD_PIOTLB_G_PAGE : VTD_PIOTLB_G_PASID) |
	       FIELD_PREP(VTD_PIOTLB_0_DID, did) | FIELD_PREP(VTD_PIOTLB_0_PASID, pasid);
	w[1] = page ? (addr & VTD_PIOTLB_1_ADDR) | FIELD_PREP(VTD_PIOTLB_1_AM, am) |
			      (ih ? VTD_PIOTLB_1_IH : 0)
		    : 0;
}

/* 6.5.2.2 PASID-cache invalidate, PASID-selective (G = 01b). */
void vtd_desc_pc_pasid(uint64_t w[2], uint16_t did, uint32_t pasid)
{
	w[0] = vtd_desc_type(VTD_DESC_PC) | FIELD_PREP(VTD_PC_0_G, VTD_PC_G_PASID) |
	       FIELD_PREP(VTD_PC_0_DID, did) | FIELD_PREP(VTD_PC_0_PASID, pasid);
	w[1] = 0;
}

/* 6.5.2.2 PASID-cache invalidate, domain-selective (G = 00b). */
void vtd_desc_pc_domain(uint64_t w[2], uint16_t did)
{
	w[0] = vtd_desc_type(VTD_DESC_PC) | FIELD_PREP(VTD_PC_0_G, VTD_PC_G_DOMAIN) |
	       FIELD_PREP(VTD_PC_0_DID, did);
	w[1] = 0;
}

/* 6.5.2.1 Context-cache invalidate, device-selective (G = 11b) with FM 00b. */
void vtd_desc_cc_device(uint64_t w[2], uint16_t did, uint16_t sid)
{
	w[0] = vtd_desc_type(VTD_DESC_CC) | FIELD_PREP(VTD_CC_0_G, VTD_CC_G_DEVICE) |
	       FIELD_PREP(VTD_CC_0_DID, did) | FIELD_PREP(VTD_CC_0_SID, sid);
	w[1] = 0;
}

/* 6.5.2.1 Context-cache invalidate, global (G = 01b). */
void vtd_desc_cc_global(uint64_t w[2])
{
	w[0] = vtd_desc_type(VTD_DESC_CC) | FIELD_PREP(VTD_CC_0_G, VTD_CC_G_GLOBAL);
	w[1] = 0;
}

/*
 * 6.5.2.8 Invalidation wait: with sw, the hardware writes data to
 * status_addr (4-byte aligned; bits 1:0 dropped) on completion; fn fences
 * later descriptors.
 */
void vtd_desc_wait(uint64_t w[2], uint64_t status_addr, uint32_t data, bool sw, bool fn)
{
	w[0] = vtd_desc_type(VTD_DESC_WAIT) | (sw ? VTD_WAIT_0_SW : 0) | (fn ? VTD_WAIT_0_FN : 0) |
	       (sw ? FIELD_PREP(VTD_WAIT_0_STDATA, data) : 0);
	w[1] = sw ? status_addr & VTD_WAIT_1_STADDR : 0;
}
