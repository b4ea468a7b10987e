/*
 * iommufd/host.c - the host IOMMU driver: iommufd devices behind a modelled
 * VT-d or SMMUv3.
 *
 * One simulated system per process (as there is one pin table): an IOMMU
 * instance built from a hardware model, and the replay engine
 * (traces/replay.c) as the software that programs it, so this driver
 * writes real tables and issues real invalidations, as a Linux driver does:
 *   - a paging HWPT is a host domain: VT-d second stage (Linux 6.12's
 *     intel_iommu_domain_alloc_user allocates user domains on the second
 *     stage), SMMUv3 stage 2 with NEST_PARENT and stage 1 otherwise
 *     (arm_smmu_domain_alloc_user); its tables live in simulator-owned
 *     frames and map IOVAs to the pinned frames of the IOAS;
 *   - attaching writes the context and PASID entries or the STE, and
 *     replacing an attachment flushes what the old domain left cached;
 *   - unmapping invalidates at once and waits (strict mode, Linux's
 *     default for iommufd domains);
 *   - a nested HWPT (VT-d, IOMMU_HWPT_DATA_VTD_S1) installs the guest's
 *     first-stage pointer in a PASID entry with PGTT = nested; the guest's
 *     tables are read through stage 2, that is from the pinned pages of
 *     the VMM's guest memory;
 *   - HWPT_INVALIDATE on it becomes PASID-based IOTLB invalidations.
 * Pinned frames are mapped into the instance's physical memory through
 * iofd_frame_access, so a device's DMA and every table read reach the
 * client's real bytes.
 *
 * Rules taken from Linux 6.12 (drivers/iommu/intel/nested.c, iommu.c,
 * pasid.c; iommufd's uAPI header):
 *   - nested allocation: data type other than VTD_S1 or any flag:
 *     EOPNOTSUPP; parent not a nest parent of this IOMMU: EINVAL;
 *   - nested attach (intel_pasid_setup_nested): addr_width 48, or 57 with
 *     CAP.FS5LP, else EINVAL; SRE needs ECAP.SRS and EAFE ECAP.EAFS, else
 *     EINVAL;
 *   - invalidation entries: flags beyond LEAF or a non-zero reserved field:
 *     EOPNOTSUPP; addr not 4 KiB aligned, or npages = U64_MAX with a
 *     non-zero addr: EINVAL; processing stops at the first bad entry.
 *
 * SMMUv3 nests only through a vIOMMU (Linux's arm-smmu-v3-iommufd.c, 6.17+
 * order; facts in docs/iommufd.md):
 *   - VIOMMU_ALLOC type ARM_SMMUV3 (1) needs IDR0.S1P and S2P; another
 *     type: EOPNOTSUPP; its stage 2 must be this IOMMU's nest parent;
 *   - a nested HWPT from it takes the guest STE's first two words
 *     (IOMMU_HWPT_DATA_ARM_SMMUV3, exactly 16 bytes, else EINVAL): V = 0
 *     is an abort STE; bits outside the fields a guest may set (word 0:
 *     V, Config, S1Fmt, S1ContextPtr, S1CDMax; word 1: S1DSS, S1CIR,
 *     S1COR, S1CSH, S1STALLD, EATS), a Config other than abort (0), bypass
 *     (4) or stage-1 (5), or EATS above 1: EIO; flags: EOPNOTSUPP;
 *   - attaching a stage-1 (Config 5) nested HWPT needs the device's
 *     vDEVICE in that vIOMMU (ENOENT); abort and bypass do not (6.19);
 *   - HWPT_INVALIDATE through the vIOMMU takes raw 16-byte commands
 *     (shorter entries zero-extended, longer ones with non-zero tails
 *     E2BIG; no entries: EINVAL): TLBI_NH_ALL/ASID/VA/VAA get the stage
 *     2's VMID, TLBI_NSNH_ALL becomes TLBI_NH_ALL of that VMID, ATC_INV,
 *     CFGI_CD and CFGI_CD_ALL get the physical StreamID of the vDEVICE
 *     their vSID names (none: EIO), anything else is EIO; the converted
 *     commands go through the modelled command queue, then a CMD_SYNC;
 *   - HWPT_INVALIDATE on the nested HWPT itself: EOPNOTSUPP.
 *
 * PASID attachments (Linux 6.15's set_dev_pasid: intel_iommu_set_dev_pasid,
 * arm_smmu_set_pasid):
 *   - a device gets max_pasid_log2 from the hardware, within what the
 *     replay's tables hold: VT-d needs ECAP.SMTS and ECAP.PASID and has
 *     ECAP.PSS + 1 bits (11.4.3), at most 15 (the replay's PASID directory,
 *     PDTS 2); SMMUv3 needs IDR0.S1P and has IDR1.SSIDSIZE bits, at most 6
 *     (a linear CD table) or 15 (two levels, IDR0.CD2L);
 *   - HWPT_ALLOC takes IOMMU_HWPT_ALLOC_PASID when the device has PASIDs
 *     (else EOPNOTSUPP), for paging and VT-d nested HWPTs; SMMUv3 nested
 *     HWPTs (a guest STE) take no flag;
 *   - attaching PASID p writes the VT-d scalable-mode PASID-table entry p
 *     (PGTT second-stage, or nested with the guest's first stage) or the
 *     SMMUv3 CD at SSID p (stage-1 domains only: a stage-2 domain, or a
 *     StreamID whose STE is not a CD-table STE, is EINVAL, as Linux's
 *     arm_smmu_set_pasid), then the PASID-cache / CFGI_CD invalidation;
 *     replacing flushes what the old domain left cached; detaching clears
 *     the entry and flushes (intel_pasid_tear_down_entry,
 *     arm_smmu_clear_cd);
 *   - iofd_host_dma_pasid issues DMA tagged with the PASID / SubstreamID.
 *
 * Dirty tracking (Linux's intel_iommu_domain_alloc_paging_flags /
 * intel_pasid_setup_dirty_tracking, arm_smmu_domain_alloc_paging_flags /
 * io-pgtable-arm's DBM quirk):
 *   - offered (IOMMU_HW_CAP_DIRTY_TRACKING, HWPT_ALLOC_DIRTY_TRACKING)
 *     when the hardware updates dirty state and Linux would use it: VT-d
 *     ECAP.SMTS, ECAP.SSADS and ECAP.SMPWC (ssads_supported); SMMUv3
 *     IDR0.HTTU = 2 and IDR0.COHACC (arm_smmu_dbm_capable).  Otherwise
 *     HWPT_ALLOC with DIRTY_TRACKING is EOPNOTSUPP, as is DIRTY_TRACKING
 *     with NEST_PARENT on SMMUv3 (dirty state is kept at stage 1 there);
 *   - VT-d: the domain is a second stage; SET_DIRTY_TRACKING sets or
 *     clears SSADE in every PASID entry using it (nested ones too) with
 *     PASID-cache and IOTLB invalidations; reading needs tracking on
 *     (EINVAL otherwise) and looks at D (bit 9) of the leaves;
 *   - SMMUv3: the domain is a stage 1 whose CDs have HA and HD and whose
 *     writable leaves have DBM from the start (a new mapping is dirty);
 *     SET_DIRTY_TRACKING changes nothing in the hardware, and reading
 *     looks at DBM = 1 with AP[2] = 0 (writable-dirty) at any time;
 *   - a clearing read makes the leaves clean and invalidates them from
 *     the IOTLB (strict, with a wait), so the next write records again.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uthash.h>

#include "engine/bits.h"
#include "iommufd/iofd_int.h"
#include <iommusim/iommusim.h>
#include <iommusim/smmuv3.h>

/* VT-d CAP_REG (11.4.2) and ECAP_REG (11.4.3) bits the driver consults. */
#define HOST_VTD_CAP_FS5LP BIT(60)   /* 60 first-stage 5-level paging */
#define HOST_VTD_ECAP_NEST BIT(26)   /* 26 nested translation */
#define HOST_VTD_ECAP_SRS BIT(31)    /* 31 supervisor requests */
#define HOST_VTD_ECAP_EAFS BIT(34)   /* 34 extended accessed flag */
#define HOST_VTD_ECAP_SMTS BIT(43)   /* 43 scalable mode */
#define HOST_VTD_ECAP_PSS GENMASK(39, 35) /* 39:35 PASID size supported - 1 */
#define HOST_VTD_ECAP_PASID BIT(40)  /* 40 PASID */
#define HOST_VTD_PASID_MAX_LG2 15    /* the replay's PASID directory (PDTS 2) */
/* SMMUv3 IDR0 (IHI 0070 6.3.1). */
#define HOST_SMMU_IDR0_S2P BIT(0)
#define HOST_SMMU_IDR0_S1P BIT(1)
/* Dirty-state capabilities: VT-d ECAP (11.4.3) and SMMUv3 IDR0 (6.3.1). */
#define HOST_VTD_ECAP_SSADS BIT(45)  /* 45 second-stage accessed/dirty */
#define HOST_VTD_ECAP_SMPWCS BIT(48) /* 48 scalable-mode page-walk coherency */
#define HOST_SMMU_IDR0_COHACC BIT(4)
#define HOST_SMMU_IDR0_HTTU GENMASK(7, 6) /* 2: Access flag and dirty state */
#define HOST_SMMU_IDR0_CD2L BIT(19)
#define HOST_SMMU_IDR1_SSIDSIZE GENMASK(10, 6)
/* STE words 0 and 1 (IHI 0070 5.2): what a guest may set through iommufd. */
#define SMMU_STE0_V BIT(0)
#define SMMU_STE0_CONFIG GENMASK(3, 1)
#define SMMU_STE0_GUEST (BIT(0) | GENMASK(3, 1) | GENMASK(5, 4) | GENMASK(51, 6) | GENMASK(63, 59))
#define SMMU_STE1_EATS GENMASK(29, 28)
#define SMMU_STE1_GUEST (GENMASK(7, 0) | BIT(27) | GENMASK(29, 28))
#define SMMU_CONFIG_ABORT 0
#define SMMU_CONFIG_BYPASS 4
#define SMMU_CONFIG_S1 5
/* Command opcodes (IHI 0070 4.1, bits 7:0) and fields. */
#define SMMU_CMD_OP GENMASK(7, 0)
#define SMMU_CMD_VMID GENMASK(47, 32)
#define SMMU_CMD_SID GENMASK(63, 32)
#define SMMU_OP_CFGI_CD 0x05
#define SMMU_OP_CFGI_CD_ALL 0x06
#define SMMU_OP_TLBI_NH_ALL 0x10
#define SMMU_OP_TLBI_NH_ASID 0x11
#define SMMU_OP_TLBI_NH_VA 0x12
#define SMMU_OP_TLBI_NH_VAA 0x13
#define SMMU_OP_TLBI_NSNH_ALL 0x30
#define SMMU_OP_ATC_INV 0x40

#define HOST_MAX_DOMAINS 65536 /* DIDs, ASIDs and VMIDs are 16 bits */

struct host_dev {
	UT_hash_handle hh;
	uint32_t sid;
	struct iofd_device *dev;
};

struct host_system {
	struct ims_model *model;
	struct ims_iommu *iommu;
	struct ims_replay *rp;
	bool smmu;
	uint64_t cap, ecap;         /* VT-d */
	uint32_t idr[6];            /* SMMUv3 */
	struct host_dev *bound;     /* by sid */
	uint64_t frames_base, frames_len;
	uint8_t used_ids[HOST_MAX_DOMAINS / 8];
	struct ims_result res; /* of the last DMA's translation (one at a time) */
	char err[256];
};

static struct host_system *host;

struct host_domain {
	struct iofd_domain dom;
	uint32_t id;             /* the replay's domain number (DID / ASID / VMID) */
	bool in_replay;          /* made in the replay (a nested one waits for a valid config) */
	struct iofd_hwpt_vtd_s1 s1; /* VT-d nested: what the guest asked for */
	struct iofd_viommu *viommu; /* SMMUv3 nested: made through it */
	uint64_t ste[2];            /* SMMUv3 nested: the guest STE as kept */
	bool tracking;              /* paging: SET_DIRTY_TRACKING turned it on */
};

static const struct iofd_domain_ops host_paging_ops;
static const struct iofd_domain_ops host_nested_ops;

/* ------------------------------------------------------------------ */
/* The system */

static int frames_read(void *opaque, uint64_t offset, void *buf, size_t len)
{
	(void)opaque;
	return iofd_frame_access(host->frames_base + offset, buf, len, false);
}

static int frames_write(void *opaque, uint64_t offset, const void *buf, size_t len)
{
	(void)opaque;
	return iofd_frame_access(host->frames_base + offset, (void *)buf, len, true);
}

static const struct ims_mem_accessor frames_acc = {frames_read, frames_write};

static void host_system_free(struct host_system *s)
{
	if (!s)
		return;
	ims_replay_free(s->rp);
	ims_iommu_free(s->iommu);
	ims_model_free(s->model);
	free(s);
}

int iofd_host_init(struct ims_model *model, char *err, size_t errlen)
{
	if (host && host->bound) {
		snprintf(err, errlen, "devices are bound to the current host IOMMU");
		ims_model_free(model);
		return -EBUSY;
	}
	struct host_system *s = calloc(1, sizeof(*s));
	if (!s) {
		ims_model_free(model);
		return -ENOMEM;
	}
	s->model = model;
	enum ims_arch arch = ims_model_arch(model);
	if (arch != IMS_ARCH_VTD && arch != IMS_ARCH_SMMUV3) {
		snprintf(err, errlen, "model %s: the host driver drives VT-d and SMMUv3 models",
			 ims_model_name(model));
		host_system_free(s);
		return -EINVAL;
	}
	s->smmu = arch == IMS_ARCH_SMMUV3;
	s->iommu = ims_iommu_new(model, err, errlen);
	if (!s->iommu) {
		host_system_free(s);
		return -EINVAL;
	}
	struct ims_driver_cfg drv;
	ims_driver_builtin("strict", &drv);
	drv.stage = 2;
	int rc = ims_replay_new(s->iommu, &drv, 1, &s->rp, err, errlen);
	if (rc) {
		host_system_free(s);
		return rc;
	}
	if (s->smmu) {
		for (unsigned i = 0; i < 6; i++)
			s->idr[i] = smmu_idr(s->iommu, i);
	} else {
		s->cap = vtd_cap(s->iommu);
		s->ecap = vtd_ecap(s->iommu);
	}
	/* Pinned frames from 4 GiB up to a quarter of the physical address
	 * space; the replay keeps its tables in the top half. */
	struct ims_mem *mem = ims_iommu_mem(s->iommu);
	unsigned bits = ims_mem_pa_bits(mem);
	s->frames_base = IOFD_PIN_FIRST_FRAME * iopt_page_size();
	s->frames_len = bits > 34 ? (UINT64_C(1) << (bits - 2)) - s->frames_base : 0;
	if (!s->frames_len ||
	    ims_mem_map_accessor(mem, s->frames_base, s->frames_len, &frames_acc, NULL)) {
		snprintf(err, errlen, "model %s: a %u-bit physical address space is too small",
			 ims_model_name(model), bits);
		host_system_free(s);
		return -EINVAL;
	}
	s->used_ids[0] = 1; /* domain 0 is never handed out */
	host_system_free(host);
	host = s;
	return 0;
}

void iofd_host_fini(void)
{
	if (host && !host->bound) {
		host_system_free(host);
		host = NULL;
	}
}

struct ims_iommu *iofd_host_iommu(void)
{
	return host ? host->iommu : NULL;
}

static int id_alloc(uint32_t *id)
{
	for (uint32_t i = 1; i < HOST_MAX_DOMAINS; i++)
		if (!(host->used_ids[i / 8] & (1u << (i % 8)))) {
			host->used_ids[i / 8] |= (uint8_t)(1u << (i % 8));
			*id = i;
			return 0;
		}
	return -ENOSPC;
}

static void id_free(uint32_t id)
{
	host->used_ids[id / 8] &= (uint8_t)~(1u << (id % 8));
}

static struct host_domain *hdom(struct iofd_domain *d)
{
	return (struct host_domain *)d;
}

/* Give h a domain number and make it a replay domain (stage 1 or 2 over
 * nothing, or nested over parent with the guest's stage 1): 0, -ENOSPC
 * when the numbers ran out, -EOPNOTSUPP when the model cannot (its
 * message in host->err). */
static int replay_domain(struct host_domain *h, unsigned stage, struct iofd_domain *parent,
			 const struct ims_replay_guest *guest)
{
	if (id_alloc(&h->id))
		return -ENOSPC;
	if (ims_replay_domain_new(host->rp, h->id, stage, parent ? hdom(parent)->id : 0, guest,
				  host->err, sizeof(host->err))) {
		id_free(h->id);
		return -EOPNOTSUPP;
	}
	h->in_replay = true;
	return 0;
}

/* A replay failure that reached the hardware model: a model gap
 * (EOPNOTSUPP) stays what it is; anything else means the request could
 * not be honoured. */
static int replay_event(const struct ims_event *ev)
{
	int rc = ims_replay_event(host->rp, ev, host->err, sizeof(host->err));
	if (rc)
		fprintf(stderr, "iommusim: host driver: %s\n", host->err);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Domains */

static unsigned prot_perm(uint32_t prot)
{
	unsigned perm = 0;
	if (prot & IOFD_MAP_READABLE)
		perm |= IMS_PERM_R;
	if (prot & IOFD_MAP_WRITEABLE)
		perm |= IMS_PERM_W;
	return perm;
}

static int host_map(struct iofd_domain *d, uint64_t iova, uint64_t phys, uint64_t pgsize,
		    uint64_t count, uint32_t prot)
{
	struct ims_event ev = {.type = IMS_EV_MAP,
			       .domain = hdom(d)->id,
			       .iova = iova,
			       .size = pgsize * count,
			       .pa = phys,
			       .access = (uint8_t)prot_perm(prot)};
	return replay_event(&ev) ? -ENOMEM : 0;
}

static void host_unmap(struct iofd_domain *d, uint64_t iova, uint64_t len)
{
	struct ims_event ev = {
		.type = IMS_EV_UNMAP, .domain = hdom(d)->id, .iova = iova, .size = len};
	replay_event(&ev);
}

/* VT-d turns SSADE on or off; arm-smmu-v3 records all along
 * (arm_smmu_set_dirty_tracking writes nothing). */
static int host_set_dirty_tracking(struct iofd_domain *d, bool enable)
{
	struct host_domain *h = hdom(d);
	if (!d->dirty_ops)
		return -EOPNOTSUPP;
	if (!host->smmu) {
		int rc = ims_replay_domain_set_dirty(host->rp, h->id, enable, host->err,
						     sizeof(host->err));
		if (rc) {
			fprintf(stderr, "iommusim: host driver: %s\n", host->err);
			return rc;
		}
	}
	h->tracking = enable;
	return 0;
}

/* Read (and clear) the leaves' dirty state over [iova, iova + len).  As
 * intel_iommu_read_and_clear_dirty, VT-d refuses a read into a bitmap with
 * tracking off (a clearing pass without one, as iommufd makes before
 * turning tracking on, goes ahead); arm-smmu-v3 reads at any time. */
static int host_read_and_clear_dirty(struct iofd_domain *d, uint64_t iova, uint64_t len,
				     bool no_clear,
				     void (*record)(void *arg, uint64_t iova, uint64_t size),
				     void *arg)
{
	struct host_domain *h = hdom(d);
	if (!d->dirty_ops)
		return -EOPNOTSUPP;
	if (!host->smmu && record && !h->tracking)
		return -EINVAL;
	if (!len)
		return 0;
	int rc = ims_replay_domain_read_dirty(host->rp, h->id, iova, iova + len - 1, !no_clear,
					      record, arg, host->err, sizeof(host->err));
	if (rc)
		fprintf(stderr, "iommusim: host driver: %s\n", host->err);
	return rc;
}

static void host_domain_free(struct iofd_domain *d)
{
	struct host_domain *h = hdom(d);
	if (h->in_replay && ims_replay_domain_free(host->rp, h->id) == 0)
		id_free(h->id);
	free(h);
}

static const struct iofd_domain_ops host_paging_ops = {
	.map = host_map,
	.unmap = host_unmap,
	.set_dirty_tracking = host_set_dirty_tracking,
	.read_and_clear_dirty = host_read_and_clear_dirty,
	.free = host_domain_free,
};

static const struct iofd_domain_ops host_nested_ops = {
	.free = host_domain_free,
};

/* Page sizes a table configuration has leaves for. */
static uint64_t cfg_pgsizes(const struct ims_pt_cfg *cfg)
{
	uint64_t sizes = 0;
	for (unsigned l = 0; l < cfg->levels; l++)
		if (cfg->leaf_levels & (1u << l))
			sizes |= UINT64_C(1) << ims_pt_leaf_lg2(cfg, l);
	return sizes;
}

/* Does the hardware record dirty state the way Linux uses it?  VT-d
 * (ssads_supported): scalable mode, ECAP.SSADS and ECAP.SMPWC; SMMUv3
 * (arm_smmu_dbm_capable): IDR0.HTTU = 2 (Access flag and dirty state) and
 * IDR0.COHACC, with stage 1 to keep it in. */
static bool host_dirty_capable(void)
{
	if (host->smmu)
		return FIELD_GET(HOST_SMMU_IDR0_HTTU, host->idr[0]) == 2 &&
		       (host->idr[0] & HOST_SMMU_IDR0_COHACC) && (host->idr[0] & HOST_SMMU_IDR0_S1P);
	return (host->ecap & HOST_VTD_ECAP_SMTS) && (host->ecap & HOST_VTD_ECAP_SSADS) &&
	       (host->ecap & HOST_VTD_ECAP_SMPWCS);
}

static bool host_nesting(void)
{
	if (host->smmu)
		return (host->idr[0] & (HOST_SMMU_IDR0_S1P | HOST_SMMU_IDR0_S2P)) ==
		       (HOST_SMMU_IDR0_S1P | HOST_SMMU_IDR0_S2P);
	return (host->ecap & HOST_VTD_ECAP_SMTS) && (host->ecap & HOST_VTD_ECAP_NEST);
}

/* The PASID width a device behind this IOMMU gets (see the header). */
static unsigned host_pasid_lg2(void)
{
	unsigned bits, max;
	if (host->smmu) {
		if (!(host->idr[0] & HOST_SMMU_IDR0_S1P))
			return 0;
		bits = (unsigned)FIELD_GET(HOST_SMMU_IDR1_SSIDSIZE, host->idr[1]);
		max = (host->idr[0] & HOST_SMMU_IDR0_CD2L) && bits > 6 ? 15 : 6;
	} else {
		if (!(host->ecap & HOST_VTD_ECAP_SMTS) || !(host->ecap & HOST_VTD_ECAP_PASID))
			return 0;
		bits = (unsigned)FIELD_GET(HOST_VTD_ECAP_PSS, host->ecap) + 1;
		max = HOST_VTD_PASID_MAX_LG2;
	}
	return bits < max ? bits : max;
}

static int host_domain_alloc_paging(struct iofd_device *dev, uint32_t flags,
				    struct iofd_domain **out)
{
	(void)dev;
	bool parent = flags & IOFD_HWPT_ALLOC_NEST_PARENT;
	if (flags & ~(IOFD_HWPT_ALLOC_NEST_PARENT | IOFD_HWPT_ALLOC_DIRTY_TRACKING |
		      IOFD_HWPT_ALLOC_PASID))
		return -EOPNOTSUPP;
	if ((flags & IOFD_HWPT_ALLOC_PASID) && !host_pasid_lg2())
		return -EOPNOTSUPP;
	bool dirty = flags & IOFD_HWPT_ALLOC_DIRTY_TRACKING;
	/* SMMUv3 keeps dirty state at stage 1 only (arm_smmu_domain_alloc_paging_flags). */
	if (dirty && (!host_dirty_capable() || (host->smmu && parent)))
		return -EOPNOTSUPP;
	if (parent && !host_nesting())
		return -EOPNOTSUPP;
	struct host_domain *h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	unsigned stage = host->smmu && !parent ? 1 : 2;
	struct ims_pt_cfg cfg;
	int rc = replay_domain(h, stage, NULL, NULL);
	if (rc) {
		free(h);
		return rc;
	}
	ims_replay_domain_cfg(host->rp, h->id, &cfg);
	h->dom.ops = &host_paging_ops;
	h->dom.aperture_start = 0;
	h->dom.aperture_last = cfg.ia_bits >= 64 ? UINT64_MAX : (UINT64_C(1) << cfg.ia_bits) - 1;
	h->dom.pgsize_bitmap = cfg_pgsizes(&cfg);
	h->dom.nest_parent = parent;
	h->dom.driver = &iofd_host_driver;
	h->dom.dirty_ops = dirty;
	/* arm-smmu-v3: HA/HD in the CD and DBM in every writable leaf from the start. */
	if (dirty && host->smmu &&
	    ims_replay_domain_set_dirty(host->rp, h->id, true, host->err, sizeof(host->err))) {
		host_domain_free(&h->dom);
		return -EOPNOTSUPP;
	}
	*out = &h->dom;
	return 0;
}

/* Does the hardware take this stage-1 configuration?  (intel_pasid_setup_nested) */
static bool vtd_s1_valid(const struct iofd_hwpt_vtd_s1 *s1)
{
	if (s1->addr_width != 48 && !(s1->addr_width == 57 && (host->cap & HOST_VTD_CAP_FS5LP)))
		return false;
	if ((s1->flags & IOFD_VTD_S1_SRE) && !(host->ecap & HOST_VTD_ECAP_SRS))
		return false;
	if ((s1->flags & IOFD_VTD_S1_EAFE) && !(host->ecap & HOST_VTD_ECAP_EAFS))
		return false;
	return true;
}

static int host_domain_alloc_nested(struct iofd_ctx *ctx, struct iofd_device *dev,
				    struct iofd_domain *parent, uint32_t flags, uint32_t data_type,
				    uint64_t data_uptr, uint32_t data_len, struct iofd_domain **out)
{
	(void)dev;
	if (host->smmu || data_type != IOFD_HWPT_DATA_VTD_S1 || !host_nesting() ||
	    (flags & ~IOFD_HWPT_ALLOC_PASID) || (flags && !host_pasid_lg2()))
		return -EOPNOTSUPP;
	if (parent->ops != &host_paging_ops || !parent->nest_parent)
		return -EINVAL;
	struct iofd_hwpt_vtd_s1 s1;
	int rc = iofd_copy_driver_data(ctx, &s1, sizeof(s1), sizeof(s1), data_uptr, data_len);
	if (rc)
		return rc;
	struct host_domain *h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->s1 = s1;
	h->dom.ops = &host_nested_ops;
	h->dom.nested = true;
	h->dom.parent = parent;
	h->dom.driver = &iofd_host_driver;
	/* A configuration the hardware cannot take fails at attach, as in
	 * Linux; a valid one becomes a replay domain now. */
	if (vtd_s1_valid(&s1)) {
		struct ims_replay_guest g = {
			.fs_root = s1.pgtbl_addr,
			.fs_levels = s1.addr_width == 57 ? 5 : 4,
			.sre = s1.flags & IOFD_VTD_S1_SRE,
			.wpe = (s1.flags & IOFD_VTD_S1_SRE) && (s1.flags & IOFD_VTD_S1_WPE),
			.eafe = s1.flags & IOFD_VTD_S1_EAFE,
		};
		replay_domain(h, 1, parent, &g);
	}
	*out = &h->dom;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Devices */

static uint32_t dev_sid(struct iofd_device *dev)
{
	return ((struct host_dev *)dev->drv_data)->sid;
}

static int host_attach(struct iofd_device *dev, struct iofd_domain *d)
{
	struct host_domain *h = hdom(d);
	if (!h->in_replay)
		return -EINVAL;
	/* A stage-1 guest STE needs the device's vSID in that vIOMMU. */
	if (h->viommu && (h->ste[0] & SMMU_STE0_V) &&
	    FIELD_GET(SMMU_STE0_CONFIG, h->ste[0]) == SMMU_CONFIG_S1 &&
	    (!dev->vdev || dev->vdev->viommu != h->viommu))
		return -ENOENT;
	struct ims_event ev = {.type = IMS_EV_ATTACH, .dev = dev_sid(dev), .domain = h->id};
	return replay_event(&ev) ? -EINVAL : 0;
}

static void host_detach(struct iofd_device *dev, struct iofd_domain *d)
{
	(void)d;
	struct ims_event ev = {.type = IMS_EV_DETACH, .dev = dev_sid(dev)};
	replay_event(&ev);
}

/* A replay failure at a PASID: a model gap stays EOPNOTSUPP, the rest is
 * the hardware refusing the configuration. */
static int host_attach_pasid(struct iofd_device *dev, uint32_t pasid, struct iofd_domain *d,
			     struct iofd_domain *old)
{
	(void)old; /* the replay knows what the PASID held and flushes it */
	struct host_domain *h = hdom(d);
	/* An SMMUv3 guest STE is a whole stream's, and a SubstreamID needs a
	 * stage-1 domain (a nest parent is stage 2). */
	if (!h->in_replay || h->viommu || (host->smmu && d->nest_parent))
		return -EINVAL;
	struct ims_event ev = {.type = IMS_EV_ATTACH, .dev = dev_sid(dev), .domain = h->id,
			       .has_pasid = 1, .pasid = pasid};
	int rc = replay_event(&ev);
	return rc == -EOPNOTSUPP ? rc : rc ? -EINVAL : 0;
}

static void host_detach_pasid(struct iofd_device *dev, uint32_t pasid, struct iofd_domain *d)
{
	(void)d;
	struct ims_event ev = {.type = IMS_EV_DETACH, .dev = dev_sid(dev), .has_pasid = 1,
			       .pasid = pasid};
	replay_event(&ev);
}

static int host_cache_invalidate_user(struct iofd_ctx *ctx, struct iofd_domain *d, uint32_t type,
				      uint64_t uptr, uint32_t entry_len, uint32_t *entry_num)
{
	struct host_domain *h = hdom(d);
	uint32_t want = *entry_num, done = 0;
	int rc = 0;
	if (host->smmu) {
		*entry_num = 0;
		return -EOPNOTSUPP; /* SMMUv3 invalidates through the vIOMMU */
	}
	if (type != IOFD_HWPT_INVALIDATE_DATA_VTD_S1) {
		*entry_num = 0;
		return -EINVAL;
	}
	for (; done < want; done++) {
		struct iofd_hwpt_vtd_s1_invalidate inv;
		rc = iofd_copy_driver_data(ctx, &inv, sizeof(inv), sizeof(inv),
					   uptr + (uint64_t)done * entry_len, entry_len);
		if (rc)
			break;
		if ((inv.flags & ~IOFD_VTD_INV_FLAGS_LEAF) || inv.reserved) {
			rc = -EOPNOTSUPP;
			break;
		}
		if ((inv.addr & 0xfff) || (inv.npages == UINT64_MAX && inv.addr)) {
			rc = -EINVAL;
			break;
		}
		if (!h->in_replay || !inv.npages)
			continue; /* nothing of it can be cached */
		struct ims_event ev = {.type = IMS_EV_INV, .domain = h->id};
		uint64_t bytes;
		if (inv.npages == UINT64_MAX || __builtin_mul_overflow(inv.npages, 4096, &bytes) ||
		    bytes - 1 > UINT64_MAX - inv.addr) {
			ev.inv_kind = IMS_EV_INV_DOMAIN;
		} else {
			ev.inv_kind = IMS_EV_INV_PAGE;
			ev.iova = inv.addr;
			ev.size = bytes;
			if (inv.flags & IOFD_VTD_INV_FLAGS_LEAF)
				ev.flags = IMS_EV_F_LEAF;
		}
		struct ims_event sync = {.type = IMS_EV_SYNC};
		if (replay_event(&ev) || replay_event(&sync)) {
			rc = -EIO;
			break;
		}
	}
	*entry_num = done;
	return rc;
}

static int host_hw_info(struct iofd_device *dev, void *buf, uint32_t *len, uint32_t *type)
{
	(void)dev;
	if (host->smmu) {
		struct iofd_hw_info_arm_smmuv3 info = {0};
		uint64_t v;
		for (unsigned i = 0; i < 6; i++)
			info.idr[i] = host->idr[i];
		if (!ims_iommu_get_reg(host->iommu, "IIDR", &v))
			info.iidr = (uint32_t)v;
		if (!ims_iommu_get_reg(host->iommu, "AIDR", &v))
			info.aidr = (uint32_t)v;
		if (*len >= sizeof(info))
			memcpy(buf, &info, sizeof(info));
		*len = sizeof(info);
		*type = IOFD_HW_INFO_TYPE_ARM_SMMUV3;
		return 0;
	}
	/* The modelled hardware has no errata: flags 0. */
	struct iofd_hw_info_vtd info = {.cap_reg = host->cap, .ecap_reg = host->ecap};
	if (*len >= sizeof(info))
		memcpy(buf, &info, sizeof(info));
	*len = sizeof(info);
	*type = IOFD_HW_INFO_TYPE_INTEL_VTD;
	return 0;
}

static bool host_capable(struct iofd_device *dev, enum iofd_cap cap)
{
	(void)dev;
	return cap == IOFD_CAP_CACHE_COHERENCY ||
	       (cap == IOFD_CAP_DIRTY_TRACKING && host_dirty_capable());
}

static void host_device_release(struct iofd_device *dev)
{
	struct host_dev *hd = dev->drv_data;
	HASH_DEL(host->bound, hd);
	free(hd);
}

/* ------------------------------------------------------------------ */
/* vIOMMU (SMMUv3) */

static int host_viommu_alloc(struct iofd_device *dev, struct iofd_domain *s2, uint32_t type)
{
	(void)dev;
	if (!host->smmu || type != IOFD_VIOMMU_TYPE_ARM_SMMUV3 || !host_nesting())
		return -EOPNOTSUPP;
	if (s2 && (s2->ops != &host_paging_ops || !s2->nest_parent))
		return -EINVAL;
	return 0;
}

static int host_viommu_alloc_nested(struct iofd_ctx *ctx, struct iofd_viommu *v,
				    struct iofd_device *dev, uint32_t flags, uint32_t data_type,
				    uint64_t data_uptr, uint32_t data_len, struct iofd_domain **out)
{
	(void)dev;
	if (flags)
		return -EOPNOTSUPP;
	if (data_type != IOFD_HWPT_DATA_ARM_SMMUV3)
		return -EINVAL;
	struct iofd_hwpt_arm_smmuv3 vste;
	int rc = iofd_copy_driver_data(ctx, &vste, sizeof(vste), sizeof(vste), data_uptr,
				       data_len);
	if (rc)
		return rc;
	uint64_t ste0 = vste.ste[0], ste1 = vste.ste[1];
	if (!(ste0 & SMMU_STE0_V)) {
		ste0 = ste1 = 0; /* an invalid STE aborts, whatever else it holds */
	} else {
		unsigned cfg = (unsigned)FIELD_GET(SMMU_STE0_CONFIG, ste0);
		if ((ste0 & ~SMMU_STE0_GUEST) || (ste1 & ~SMMU_STE1_GUEST) ||
		    (cfg != SMMU_CONFIG_ABORT && cfg != SMMU_CONFIG_BYPASS &&
		     cfg != SMMU_CONFIG_S1) ||
		    FIELD_GET(SMMU_STE1_EATS, ste1) > 1)
			return -EIO;
		ste1 &= ~SMMU_STE1_EATS; /* ATS is the host's business */
	}
	struct host_domain *h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->ste[0] = ste0;
	h->ste[1] = ste1;
	h->viommu = v;
	h->dom.ops = &host_nested_ops;
	h->dom.nested = true;
	h->dom.parent = v->hwpt->domain;
	h->dom.driver = &iofd_host_driver;
	struct ims_replay_guest g = {.ste = {ste0, ste1}};
	rc = replay_domain(h, 1, v->hwpt->domain, &g);
	if (rc) {
		free(h);
		return rc;
	}
	*out = &h->dom;
	return 0;
}

/* One guest command made safe for the host (arm_vsmmu_convert_user_cmd):
 * 0, or -EIO for a command a guest may not send or a vSID without a
 * vDEVICE. */
static int smmu_convert_cmd(struct iofd_viommu *v, uint64_t cmd[2])
{
	uint64_t vmid = hdom(v->hwpt->domain)->id;
	switch (FIELD_GET(SMMU_CMD_OP, cmd[0])) {
	case SMMU_OP_TLBI_NSNH_ALL:
		cmd[0] = FIELD_PREP(SMMU_CMD_OP, SMMU_OP_TLBI_NH_ALL) | FIELD_PREP(SMMU_CMD_VMID, vmid);
		cmd[1] = 0;
		return 0;
	case SMMU_OP_TLBI_NH_ALL:
	case SMMU_OP_TLBI_NH_ASID:
	case SMMU_OP_TLBI_NH_VA:
	case SMMU_OP_TLBI_NH_VAA:
		cmd[0] = (cmd[0] & ~SMMU_CMD_VMID) | FIELD_PREP(SMMU_CMD_VMID, vmid);
		return 0;
	case SMMU_OP_ATC_INV:
	case SMMU_OP_CFGI_CD:
	case SMMU_OP_CFGI_CD_ALL: {
		struct iofd_vdevice *vd = iofd_viommu_find_vdev(v, FIELD_GET(SMMU_CMD_SID, cmd[0]));
		if (!vd)
			return -EIO;
		cmd[0] = (cmd[0] & ~SMMU_CMD_SID) | FIELD_PREP(SMMU_CMD_SID, dev_sid(vd->dev));
		return 0;
	}
	default:
		return -EIO;
	}
}

static int host_viommu_cache_invalidate(struct iofd_ctx *ctx, struct iofd_viommu *v,
					uint32_t type, uint64_t uptr, uint32_t entry_len,
					uint32_t *entry_num)
{
	uint32_t want = *entry_num, done = 0;
	int rc = 0;
	*entry_num = 0;
	if (type != IOFD_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3 || want == 0)
		return -EINVAL;
	/* Every entry is read before any is converted, as Linux copies the
	 * whole array first: a bad copy handles nothing. */
	uint64_t (*cmds)[2] = calloc(want, sizeof(*cmds));
	if (!cmds)
		return -ENOMEM;
	for (uint32_t i = 0; i < want && !rc; i++)
		rc = iofd_copy_array_entry(ctx, uptr, entry_len, i, cmds[i], sizeof(cmds[i]));
	for (; !rc && done < want; done++) {
		if ((rc = smmu_convert_cmd(v, cmds[done])))
			break;
		struct ims_event ev = {.type = IMS_EV_INV, .nwords = 2,
				       .words = {cmds[done][0], cmds[done][1]}};
		if (replay_event(&ev)) {
			rc = -EIO;
			break;
		}
	}
	struct ims_event sync = {.type = IMS_EV_SYNC};
	if (done && replay_event(&sync) && !rc)
		rc = -EIO;
	free(cmds);
	*entry_num = done;
	return rc;
}

const struct iofd_driver iofd_host_driver = {
	.name = "host",
	.domain_alloc_paging = host_domain_alloc_paging,
	.domain_alloc_nested = host_domain_alloc_nested,
	.attach = host_attach,
	.detach = host_detach,
	.attach_pasid = host_attach_pasid,
	.detach_pasid = host_detach_pasid,
	.cache_invalidate_user = host_cache_invalidate_user,
	.hw_info = host_hw_info,
	.capable = host_capable,
	.device_release = host_device_release,
	.viommu_alloc = host_viommu_alloc,
	.viommu_alloc_nested = host_viommu_alloc_nested,
	.viommu_cache_invalidate = host_viommu_cache_invalidate,
};

/* A device of ctx bound through this driver, or NULL. */
static struct iofd_device *host_device_find(struct iofd_ctx *ctx, uint32_t dev_id)
{
	struct iofd_device *dev = iofd_device_find(ctx, dev_id);
	return dev && dev->drv == &iofd_host_driver ? dev : NULL;
}

int iofd_host_bind(struct iofd_ctx *ctx, uint32_t sid, uint32_t *dev_id)
{
	if (!host)
		return -ENODEV;
	struct host_dev *hd;
	HASH_FIND(hh, host->bound, &sid, sizeof(sid), hd);
	if (hd)
		return -EBUSY;
	if (!(hd = calloc(1, sizeof(*hd))))
		return -ENOMEM;
	hd->sid = sid;
	struct iofd_device *dev;
	int rc = iofd_device_bind(ctx, &iofd_host_driver, hd, &dev);
	if (rc) {
		free(hd);
		return rc;
	}
	hd->dev = dev;
	HASH_ADD(hh, host->bound, sid, sizeof(hd->sid), hd);
	dev->max_pasid_log2 = (uint8_t)host_pasid_lg2();
	*dev_id = dev->obj.id;
	return 0;
}

int iofd_host_unbind(struct iofd_ctx *ctx, uint32_t dev_id)
{
	struct iofd_device *dev = host_device_find(ctx, dev_id);
	if (!dev)
		return -ENOENT;
	iofd_device_pasid_detach_all(ctx, dev);
	if (dev->hwpt)
		iofd_device_detach(ctx, dev);
	if (dev->obj.users)
		return -EBUSY;
	iofd_obj_del(ctx, &dev->obj);
	return 0;
}

int iofd_host_attach(struct iofd_ctx *ctx, uint32_t dev_id, uint32_t *pt_id)
{
	struct iofd_device *dev = host_device_find(ctx, dev_id);
	if (!dev)
		return -ENOENT;
	/* VFIO's attach replaces an existing attachment. */
	return iofd_device_attach(ctx, dev, pt_id, dev->hwpt != NULL);
}

int iofd_host_detach(struct iofd_ctx *ctx, uint32_t dev_id)
{
	struct iofd_device *dev = host_device_find(ctx, dev_id);
	if (!dev)
		return -ENOENT;
	iofd_device_detach(ctx, dev);
	return 0;
}

int iofd_host_attach_pasid(struct iofd_ctx *ctx, uint32_t dev_id, uint32_t pasid,
			   uint32_t *pt_id)
{
	struct iofd_device *dev = host_device_find(ctx, dev_id);
	if (!dev)
		return -ENOENT;
	/* VFIO replaces what the PASID has, as for the RID. */
	return iofd_device_pasid_attach(ctx, dev, pasid, pt_id,
					iofd_device_pasid_hwpt(dev, pasid) != NULL);
}

int iofd_host_detach_pasid(struct iofd_ctx *ctx, uint32_t dev_id, uint32_t pasid)
{
	struct iofd_device *dev = host_device_find(ctx, dev_id);
	if (!dev)
		return -ENOENT;
	iofd_device_pasid_detach(ctx, dev, pasid);
	return 0;
}

static int host_dma(uint32_t sid, bool has_pasid, uint32_t pasid, uint64_t iova, void *buf,
		    size_t len, bool write, struct ims_fault *fault);
static int host_dma_translate(uint32_t sid, bool has_pasid, uint32_t pasid, uint64_t iova,
			      void *buf, size_t len, bool write, struct ims_fault *fault);

int iofd_host_dma(uint32_t sid, uint64_t iova, void *buf, size_t len, bool write,
		  struct ims_fault *fault)
{
	return host_dma(sid, false, 0, iova, buf, len, write, fault);
}

int iofd_host_dma_pasid(uint32_t sid, uint32_t pasid, uint64_t iova, void *buf, size_t len,
			bool write, struct ims_fault *fault)
{
	return host_dma(sid, true, pasid, iova, buf, len, write, fault);
}

/* The SMMUv3 events Linux passes to a guest (arm_smmu_handle_event):
 * configuration and stage-1 faults, IHI 0070 7.3. */
static bool host_event_for_guest(unsigned type)
{
	switch (type) {
	case 0x04: /* C_BAD_STE */
	case 0x06: /* F_STREAM_DISABLED */
	case 0x08: /* C_BAD_SUBSTREAMID */
	case 0x0a: /* C_BAD_CD */
	case 0x10: /* F_TRANSLATION */
	case 0x11: /* F_ADDR_SIZE */
	case 0x12: /* F_ACCESS */
	case 0x13: /* F_PERMISSION */
		return true;
	}
	return false;
}

/*
 * Read the modelled SMMUv3's event queue as Linux's event thread does.  An
 * event of a device attached to a nested HWPT through a vIOMMU in which
 * it has a vDEVICE, of a type above and not a stage-2 fault (S2, word 1
 * bit 39) nor a stalled one (word 1 bit 31), goes to that vIOMMU's
 * ARM_SMMUV3 vEVENT queue as the raw record with its StreamID (word 0
 * bits 63:32) replaced by the virtual ID (arm_vmaster_report_event).  The
 * rest is the host's: read and dropped.
 */
static void host_drain_events(void)
{
	uint64_t rec[4];
	while (host->smmu && !smmu_evtq_pop(host->iommu, rec)) {
		uint32_t sid = (uint32_t)(rec[0] >> 32);
		bool s2 = rec[1] >> 39 & 1, stall = rec[1] >> 31 & 1;
		if (!host_event_for_guest((unsigned)(rec[0] & 0xff)) || s2 || stall)
			continue;
		struct host_dev *hd;
		HASH_FIND(hh, host->bound, &sid, sizeof(sid), hd);
		struct iofd_device *dev = hd ? hd->dev : NULL;
		struct iofd_viommu *v = dev && dev->hwpt ? dev->hwpt->viommu : NULL;
		if (!v || !dev->vdev || dev->vdev->viommu != v)
			continue;
		rec[0] = (rec[0] & UINT32_MAX) | (uint64_t)(uint32_t)dev->vdev->virt_id << 32;
		iofd_viommu_report_event(v, IOFD_VEVENTQ_TYPE_ARM_SMMUV3, rec, sizeof(rec));
	}
}

static int host_dma(uint32_t sid, bool has_pasid, uint32_t pasid, uint64_t iova, void *buf,
		    size_t len, bool write, struct ims_fault *fault)
{
	if (!host)
		return -ENODEV;
	int rc = host_dma_translate(sid, has_pasid, pasid, iova, buf, len, write, fault);
	host_drain_events();
	return rc;
}

static int host_dma_translate(uint32_t sid, bool has_pasid, uint32_t pasid, uint64_t iova,
			      void *buf, size_t len, bool write, struct ims_fault *fault)
{
	struct ims_result *res = &host->res;
	struct ims_mem *mem = ims_iommu_mem(host->iommu);
	uint8_t *b = buf;
	int rc = 0;
	while (len) {
		size_t n = 4096 - (iova & 4095);
		if (n > len)
			n = len;
		struct ims_txn t = {.sid = sid,
				    .pasid = pasid,
				    .has_pasid = has_pasid,
				    .addr = iova,
				    .size = (uint32_t)n,
				    .access = write ? IMS_ACC_WRITE : IMS_ACC_READ,
				    .flags = IMS_TXN_NO_TRACE};
		rc = ims_translate(host->iommu, &t, res);
		if (rc)
			break;
		if (!res->ok) {
			if (fault)
				*fault = res->fault;
			rc = -EFAULT;
			break;
		}
		enum ims_mem_status st = write ? ims_mem_write(mem, res->out_addr, b, n)
					       : ims_mem_read(mem, res->out_addr, b, n);
		if (st != IMS_MEM_OK) {
			if (fault)
				memset(fault, 0, sizeof(*fault));
			rc = -EIO;
			break;
		}
		iova += n;
		b += n;
		len -= n;
	}
	return rc;
}
