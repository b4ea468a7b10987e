/*
 * replay.c - replaying a trace onto one IOMMU instance through a driver
 * model: the software side of a kernel IOMMU driver, reduced to what
 * changes the hardware's view.
 *
 * The replay owns the instance's software side.  At ims_replay_new() it
 * takes simulator-owned frames from a region at the top half of the
 * physical address space (added with ims_mem_add_ram as needed) and
 * programs the registers:
 *   VT-d (spec rev 4.x/5.0): scalable mode only.  RTADDR (11.4.5, TTM =
 *     01b) -> root table, GCMD.TE; IQA (11.4.9.3: 16 KiB, 256-bit
 *     descriptors as Linux uses in scalable mode) and GCMD.QIE.
 *   SMMUv3 (IHI 0070): STRTAB_BASE / STRTAB_BASE_CFG (6.3.23-24; 2-level
 *     with SPLIT 8 when IDR0.ST_LEVEL allows, else linear), CMDQ_BASE,
 *     EVENTQ_BASE, CR0 = SMMUEN | EVENTQEN | CMDQEN.
 * Then each event does what a driver does:
 *   ATTACH  writes the configuration.  VT-d: root, context (9.4: PASIDE,
 *           PDTS 2 so PASIDs below 32768, RID_PASID 0), PASID directory and
 *           PASID entry (9.6) with PGTT first-stage / second-stage / nested
 *           and DID = domain; replacing a present entry flushes the PASID
 *           cache and the old domain's IOTLB entries (Linux
 *           intel_pasid_flush_present).  SMMUv3: STE (5.2) stage 1 with a
 *           CD table (5.4: ASID = domain; S1DSS = SSID0 so requests without
 *           a SubstreamID use CD 0), stage 2 (S2VMID = domain) or nested,
 *           followed by CMD_CFGI_STE / CMD_CFGI_CD and CMD_SYNC, as Linux's
 *           arm_smmu_write_ste / arm_smmu_write_cd_entry.
 *   MAP     writes PTEs with the largest page size the alignment and
 *           length allow among those the configuration has leaves for.
 *           Data pages are not given memory: ims_translate reads tables,
 *           never the data, so DMA translates without them.
 *   UNMAP   clears the leaves covering the range (a larger leaf goes whole,
 *           as Linux's unmap does) and invalidates by the policy (driver.c):
 *           strict / range / domain / global issue commands and a wait per
 *           unmap call; fq and single-fq queue the range and flush the whole
 *           domain (Linux iommu_flush_iotlb_all) with one wait when a
 *           queue finds itself full (a ring of fq_size slots holds fq_size
 *           - 1 entries, as in dma-iommu.c) or fq_timeout_ns after the timer
 *           was armed by a queued unmap (event timestamps and TICK events
 *           tell the time; as in Linux the timer stays armed across a
 *           full-queue flush and flushes again when it fires), and at
 *           ims_replay_finish.  An unmap of nothing issues nothing.
 *   INV     raw words go into the queue as they are; neutral kinds are
 *           encoded with the architecture's encoders.  SYNC is a wait
 *           descriptor / CMD_SYNC.
 *   DMA     translates every 4 KiB piece with IMS_TXN_NO_TRACE; faults are
 *           counted, not errors.
 *   WRITE   writes memory (giving it a frame when it has none); FAULT and
 *           TICK change nothing.
 * Commands reach the hardware the way a driver gives them: written into
 * the invalidation queue / command queue in memory, then the tail (IQT) or
 * CMDQ_PROD is written, which runs the queue (formats/vtd/qi.c,
 * formats/smmuv3/cmdq.c) and charges its cycles.  A rejected descriptor or
 * command is replaced by a harmless one and the queue restarted (Linux
 * qi_check_fault / arm_smmu_cmdq_skip_err), and the event reports an error.
 *
 * Which invalidations (Linux 6.x, drivers/iommu/intel/cache.c and
 * arm/arm-smmu-v3/arm-smmu-v3.c):
 *   VT-d, second-stage domain: IOTLB page-selective (6.5.2.3) with AM =
 *     log2(roundup_pow2(pages)) and the base aligned down, widening AM until
 *     base and end share the bits above it (calculate_psi_aligned_address);
 *     domain-selective when !CAP.PSI or AM > CAP.MAMV.  First-stage
 *     domains: PASID-based IOTLB (6.5.2.4) per attached PASID (requests
 *     without one use RID_PASID 0), page-selective with the same AM, or
 *     PASID-selective for the whole domain.  A nest parent also flushes the
 *     DIDs of the nested domains over it with IOTLB invalidations (Linux's
 *     NESTING_IOTLB cache tags).  Global: IOTLB global.
 *   SMMUv3, stage-1 domain (VMID 0, ASID = domain): CMD_TLBI_NH_VA;
 *     stage 2 (VMID = domain): CMD_TLBI_S2_IPA, then CMD_TLBI_NH_ALL when
 *     nested domains use it as their parent.  With IDR3.RIL, range commands
 *     as __arm_smmu_tlb_inv_range builds them: TG from the 4 KiB granule,
 *     TTL from the leaf size, SCALE = ffs(pages left), NUM = the next five
 *     bits, one command per chunk; the "range" policy uses one command whose
 *     (NUM + 1) * 2^SCALE covers the whole unmap.  Without RIL one command
 *     per leaf, or CMD_TLBI_NH_ASID / CMD_TLBI_S12_VMALL when more than
 *     range_max_pages would be needed.  Domain-wide: those two.  Global:
 *     CMD_TLBI_NSNH_ALL.  Leaves of several sizes in one unmap give one
 *     command run per size and one CMD_SYNC (Linux syncs at each size
 *     change; the difference is one sync).
 *   SMMUv3 stage-1 leaves get nG set after mapping (Linux io-pgtable's
 *   ARM_LPAE_PTE_NG), so that CMD_TLBI_NH_ASID reaches them.
 *   Nested (guest) domains get no automatic invalidation: their guest
 *   issues its own, which a trace carries as INV events.
 *
 * Nested attach (IMS_EV_F_NESTED, parent = the stage-2 domain): the guest's
 * stage-1 tables (and on SMMUv3 its CD) live in guest-physical memory.  The
 * replay plays the VMM too: it takes guest-physical frames for them from a
 * window high in the parent's input range and maps each into the parent to
 * a simulator-owned frame, as guest RAM backs them.  A domain first built
 * as a stage-1 host domain and then named as a parent is rebuilt as stage
 * 2 (its leaves copied) if no device uses it yet.  Guest domains with a
 * PASID on SMMUv3 (a guest CD table) are not modelled (-EOPNOTSUPP).
 *
 * Dirty state of host domains (ims_replay_domain_set_dirty /
 * ims_replay_domain_read_dirty, for iommufd's host driver): VT-d
 * second-stage domains get SSADE in their PASID entries (and those of
 * nested domains over them), with PASID-cache and IOTLB invalidations;
 * SMMUv3 stage-1 domains get CD.HA/HD and DBM in their writable leaves.
 * Reading walks the domain's own tables straight from memory, and
 * cleaning (D = 0 / AP[2] = 1) is followed by a leaf-only range
 * invalidation and a wait, as a driver's read_and_clear_dirty and the
 * IOTLB sync after it.
 *
 * Determinism: no randomness is needed (the seed is kept for models that
 * will), domains and devices are visited in creation order, and no host
 * address reaches the simulated machine.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uthash.h>

#include <iommusim/iommusim.h>

#include "engine/bits.h"

#define PAGE_LG2 12
#define PAGE_SIZE (UINT64_C(1) << PAGE_LG2)

/* ---- Register fields the replay reads or programs ---- */

/* VT-d CAP_REG (11.4.2), ECAP_REG (11.4.3), RTADDR (11.4.5), IQA (11.4.9.3), FSTS (11.4.10). */
#define VTD_CAP_CM BIT(7)                /* 7 caching mode */
#define VTD_CAP_PSI BIT(39)              /* 39 page-selective invalidation */
#define VTD_CAP_MAMV GENMASK(53, 48)     /* 53:48 max address mask value */
#define VTD_ECAP_QI BIT(1)               /* 1 queued invalidation */
#define VTD_ECAP_NEST BIT(26)            /* 26 nested translation */
#define VTD_ECAP_SRS BIT(31)             /* 31 supervisor requests */
#define VTD_ECAP_PASID BIT(40)           /* 40 PASID */
#define VTD_ECAP_SMTS BIT(43)            /* 43 scalable mode */
#define VTD_ECAP_SSADS BIT(45)           /* 45 second-stage accessed/dirty */
#define VTD_RTADDR_TTM GENMASK(11, 10)   /* 11:10 translation table mode */
#define VTD_TTM_SCALABLE 1
#define VTD_IQA_DW BIT(11)               /* 11 256-bit descriptors */
#define VTD_IQA_QS GENMASK(2, 0)         /* 2:0 queue size 4 KiB * 2^QS */
#define VTD_FSTS_IQE BIT(4)              /* 4 invalidation queue error */
#define VTD_PGTT_FS 1
#define VTD_PGTT_SS 2
#define VTD_PGTT_NESTED 3
#define VTD_PDTS 2                        /* 2^(PDTS+7) = 512 directory entries */
#define VTD_QS 2                          /* 16 KiB queue: 512 descriptors */

/* SMMUv3 registers (6.3). */
#define SMMU_IDR0_S2P BIT(0)             /* 0 */
#define SMMU_IDR0_S1P BIT(1)             /* 1 */
#define SMMU_IDR0_MSI BIT(13)            /* 13 */
#define SMMU_IDR0_CD2L BIT(19)           /* 19 */
#define SMMU_IDR0_ST_LEVEL GENMASK(28, 27) /* 28:27 */
#define SMMU_IDR0_HTTU GENMASK(7, 6)     /* 7:6 2: Access flag and dirty state */
#define SMMU_HTTU_AD 2
#define SMMU_IDR1_SIDSIZE GENMASK(5, 0)  /* 5:0 */
#define SMMU_IDR1_SSIDSIZE GENMASK(10, 6) /* 10:6 */
#define SMMU_IDR1_EVENTQS GENMASK(20, 16) /* 20:16 */
#define SMMU_IDR1_CMDQS GENMASK(25, 21)  /* 25:21 */
#define SMMU_IDR3_RIL BIT(10)            /* 10 range invalidation */
#define SMMU_IDR5_OAS GENMASK(2, 0)      /* 2:0 */
#define SMMU_CR0_SMMUEN BIT(0)
#define SMMU_CR0_EVENTQEN BIT(2)
#define SMMU_CR0_CMDQEN BIT(3)
#define SMMU_STRTAB_CFG_LOG2SIZE GENMASK(5, 0)
#define SMMU_STRTAB_CFG_SPLIT GENMASK(10, 6)
#define SMMU_STRTAB_CFG_FMT GENMASK(17, 16)
#define SMMU_Q_BASE_LOG2SIZE GENMASK(4, 0)
#define SMMU_CONS_ERR GENMASK(30, 24)
#define SMMU_GERROR_CMDQ_ERR BIT(0)
#define SMMU_SPLIT 8
#define SMMU_CONFIG_ABORT 0
#define SMMU_CONFIG_BYPASS 4
#define SMMU_CONFIG_S1 5
#define SMMU_CONFIG_S2 6
#define SMMU_CONFIG_NESTED 7
#define SMMU_S1DSS_SSID0 2
#define SMMU_SYNC_CS_IRQ 1
#define SMMU_SYNC_CS_SEV 2
/* CMDQ_MAX_TLBI_OPS-style cap and the range fields of 4.4.1. */
#define SMMU_RANGE_NUM_MAX 31

static const uint8_t smmu_oas_bits[8] = { 32, 36, 40, 42, 44, 48, 52, 0 };

/* ---- State ---- */

enum dom_kind { DK_S1 = 1, DK_S2, DK_NESTED };

struct attach {
	uint32_t dev;
	uint32_t pasid;
	bool has_pasid;
};

struct domain {
	uint32_t id;
	enum dom_kind kind;
	struct ims_pt_cfg cfg;   /* its tables (nested: root is guest-physical) */
	struct domain *parent;   /* nested: the stage-2 parent */
	uint64_t gpa_next;       /* parent: next guest-physical frame for guest tables */
	uint64_t gpa_end;
	uint64_t cd_gpa;         /* SMMUv3 nested: the guest's CD */
	bool guest;              /* nested: the guest built stage 1 (ims_replay_domain_new) */
	bool dirty;              /* hardware dirty-state recording on (ims_replay_domain_set_dirty) */
	struct ims_replay_guest g;
	struct attach *att;
	unsigned natt, catt;
	unsigned children;       /* nested domains over it with attachments */
	/* flush queue: entries per ring, timer */
	uint32_t *ring;
	unsigned nrings;
	uint64_t queued;
	bool timer_on;
	uint64_t deadline;
	UT_hash_handle hh;
};

struct device {
	uint32_t sid;
	/* VT-d */
	bool ctx_done;
	uint64_t pasid_dir;
	uint64_t pasid_tbl[1u << (VTD_PDTS + 7)];
	/* SMMUv3 */
	unsigned ste_config;     /* 0: never written */
	struct domain *rid_dom;  /* domain of requests without a SubstreamID */
	unsigned npasid;         /* PASID attachments */
	uint64_t cd_table;       /* CD table (linear or level 1) */
	uint64_t *cd_l2;         /* level-2 CD tables by SSID >> 6 */
	UT_hash_handle hh;
};

struct ims_replay {
	struct ims_iommu *iommu;
	struct ims_mem *mem;
	const struct ims_arch_ops *arch;
	bool smmu;
	struct ims_driver_cfg drv;
	uint64_t seed;
	struct ims_replay_stats st;
	uint64_t base_inv_cycles;
	uint64_t now;
	bool started;
	struct ims_result *res;

	/* simulator-owned frames */
	uint64_t frame_next, frame_end;
	/* Table frames of freed domains, by log2 of their size, for reuse. */
	struct {
		uint64_t *pa;
		size_t n, cap;
	} freed[64];

	/* the queue */
	uint64_t qbase;
	unsigned qentries;       /* slots */
	unsigned qentry_bytes;   /* 32 (VT-d 256-bit) or 16 (SMMUv3) */
	uint32_t qtail;          /* VT-d: slot index; SMMUv3: PROD (index | wrap) */
	unsigned qlog2;
	unsigned pending;
	uint64_t status_addr;
	uint32_t seq;

	/* VT-d */
	uint64_t cap, ecap, root;
	uint64_t ctx[256][2];    /* context tables per bus, lower/upper devfn */
	/* SMMUv3 */
	uint32_t idr[6];
	unsigned oas_code, st_log2, cdmax;
	bool st_2lvl, cd2l;
	uint64_t strtab;
	uint64_t *l2ste;         /* level-2 stream tables by SID >> SPLIT */

	struct domain *domains;  /* hash by id */
	struct domain **dorder;  /* creation order */
	unsigned ndom, cdom;
	unsigned timers;         /* domains with an armed flush-queue timer */
	struct device *devices;

	const struct ims_struct_desc *sd[6];
	char *err;
	size_t errlen;
};

enum { SD_SM_ROOT, SD_SM_CTX, SD_PDE, SD_PE, SD_STE, SD_CD };

static int fail(struct ims_replay *rp, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct ims_replay *rp, int rc, const char *fmt, ...)
{
	va_list ap;

	if (rp->err && rp->errlen) {
		va_start(ap, fmt);
		vsnprintf(rp->err, rp->errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* ---- Frames and structures ---- */

/* A power-of-two number of bytes of frames, aligned to their size and at least a page. */
static int frames(struct ims_replay *rp, uint64_t bytes, uint64_t *pa)
{
	uint64_t at;
	int rc;

	if (bytes < PAGE_SIZE)
		bytes = PAGE_SIZE;
	unsigned lg2 = (unsigned)__builtin_ctzll(bytes);
	if ((bytes & (bytes - 1)) == 0 && rp->freed[lg2].n) {
		/* A freed domain's table: zeroed, as a new one is. */
		static const uint8_t zero[PAGE_SIZE];
		at = rp->freed[lg2].pa[--rp->freed[lg2].n];
		for (uint64_t off = 0; off < bytes; off += PAGE_SIZE)
			if (ims_mem_write(rp->mem, at + off, zero, PAGE_SIZE) != IMS_MEM_OK)
				return fail(rp, -EFAULT, "cannot clear table memory at 0x%llx",
					    (unsigned long long)at);
		*pa = at;
		return 0;
	}
	at = (rp->frame_next + bytes - 1) & ~(bytes - 1);
	if (at + bytes > rp->frame_end || at + bytes < at)
		return fail(rp, -ENOMEM, "out of table memory");
	rc = ims_mem_add_ram(rp->mem, at, bytes);
	if (rc)
		return fail(rp, rc, "cannot add table memory at 0x%llx", (unsigned long long)at);
	rp->frame_next = at + bytes;
	*pa = at;
	return 0;
}

static int host_alloc(void *opaque, unsigned lg2, uint64_t *addr)
{
	return frames(opaque, UINT64_C(1) << lg2, addr);
}

/* Keep a frame of 2^lg2 bytes for frames() to hand out again. */
static void frames_release(struct ims_replay *rp, uint64_t pa, unsigned lg2)
{
	if (lg2 >= 64)
		return;
	if (rp->freed[lg2].n == rp->freed[lg2].cap) {
		size_t cap = rp->freed[lg2].cap ? 2 * rp->freed[lg2].cap : 16;
		uint64_t *t = realloc(rp->freed[lg2].pa, cap * sizeof(*t));
		if (!t)
			return; /* out of memory: the frame is only lost */
		rp->freed[lg2].pa = t;
		rp->freed[lg2].cap = cap;
	}
	rp->freed[lg2].pa[rp->freed[lg2].n++] = pa;
}

/* Release the host tables under `table` (at `level`), then the table
 * itself (a root is one page, as dom_create makes it). */
static void tables_release(struct ims_replay *rp, const struct ims_pt_cfg *cfg, uint64_t table,
			   unsigned level, bool root)
{
	unsigned bits = ims_pt_level_bits(cfg, level);
	for (uint64_t i = 0; level > 0 && i < (UINT64_C(1) << bits); i++) {
		uint64_t e;
		struct ims_pte pte;
		if (ims_mem_read64(rp->mem, table + (i << cfg->fmt->entry_lg2), &e) != IMS_MEM_OK)
			return;
		if (!e)
			continue;
		cfg->fmt->decode(cfg, level, e, &pte);
		if (pte.kind == IMS_PTE_TABLE)
			tables_release(rp, cfg, pte.addr, level - 1, false);
	}
	frames_release(rp, table, root ? (unsigned)__builtin_ctzll(PAGE_SIZE) : cfg->granule_lg2);
}

struct fv {
	const char *name;
	uint64_t value;
};

/* Write structure sd at pa, either from scratch or over what is there. */
static int put(struct ims_replay *rp, unsigned sd_id, uint64_t pa, bool keep,
	       const struct fv *f, unsigned n)
{
	const struct ims_struct_desc *sd = rp->sd[sd_id];
	uint64_t w[8] = { 0 };

	for (unsigned i = 0; keep && i < sd->nwords; i++)
		if (ims_mem_read64(rp->mem, pa + 8 * i, &w[i]) != IMS_MEM_OK)
			return fail(rp, -EFAULT, "cannot read %s at 0x%llx", sd->name,
				    (unsigned long long)pa);
	for (unsigned i = 0; i < n; i++)
		if (ims_struct_set(sd, w, f[i].name, f[i].value))
			return fail(rp, -EINVAL, "%s.%s cannot hold 0x%llx", sd->name, f[i].name,
				    (unsigned long long)f[i].value);
	for (unsigned i = 0; i < sd->nwords; i++)
		if (ims_mem_write64(rp->mem, pa + 8 * i, w[i]) != IMS_MEM_OK)
			return fail(rp, -EFAULT, "cannot write %s at 0x%llx", sd->name,
				    (unsigned long long)pa);
	return 0;
}

static int zero_struct(struct ims_replay *rp, unsigned sd_id, uint64_t pa)
{
	return put(rp, sd_id, pa, false, NULL, 0);
}

/* ---- The queue ---- */

static int vtd_kick(struct ims_replay *rp)
{
	uint64_t fsts = 0, iqh = 0;

	ims_iommu_set_reg(rp->iommu, "IQT", (uint64_t)rp->qtail * rp->qentry_bytes);
	ims_iommu_get_reg(rp->iommu, "FSTS", &fsts);
	if (!(fsts & VTD_FSTS_IQE))
		return 0;
	/* Step over the bad descriptor: a wait without status, then restart. */
	ims_iommu_get_reg(rp->iommu, "IQH", &iqh);
	{
		uint64_t w[2];

		vtd_desc_wait(w, 0, 0, false, false);
		ims_mem_write64(rp->mem, rp->qbase + iqh, w[0]);
		ims_mem_write64(rp->mem, rp->qbase + iqh + 8, w[1]);
		ims_mem_write64(rp->mem, rp->qbase + iqh + 16, 0);
		ims_mem_write64(rp->mem, rp->qbase + iqh + 24, 0);
	}
	ims_iommu_set_reg(rp->iommu, "FSTS", VTD_FSTS_IQE);
	return fail(rp, -EINVAL, "the invalidation queue rejected the descriptor at 0x%llx",
		    (unsigned long long)(rp->qbase + iqh));
}

static int smmu_kick(struct ims_replay *rp)
{
	uint64_t cons = 0, gerror = 0, gerrorn = 0;
	uint32_t mask = (uint32_t)ims_mask_lg2(rp->qlog2 + 1);

	ims_iommu_set_reg(rp->iommu, "CMDQ_PROD", rp->qtail);
	ims_iommu_get_reg(rp->iommu, "CMDQ_CONS", &cons);
	ims_iommu_get_reg(rp->iommu, "GERROR", &gerror);
	ims_iommu_get_reg(rp->iommu, "GERRORN", &gerrorn);
	if (!((gerror ^ gerrorn) & SMMU_GERROR_CMDQ_ERR) && (cons & mask) == (rp->qtail & mask))
		return 0;
	/* Replace the bad command by a CMD_SYNC and acknowledge the error. */
	{
		uint64_t w[2], at = rp->qbase + ((cons & ims_mask_lg2(rp->qlog2)) << 4);
		unsigned code = (unsigned)FIELD_GET(SMMU_CONS_ERR, cons);

		smmu_cmd_sync(w, 0, 0, 0);
		ims_mem_write64(rp->mem, at, w[0]);
		ims_mem_write64(rp->mem, at + 8, w[1]);
		ims_iommu_set_reg(rp->iommu, "GERRORN",
				  (gerrorn & ~(uint64_t)SMMU_GERROR_CMDQ_ERR) |
					  (gerror & SMMU_GERROR_CMDQ_ERR));
		return fail(rp, -EINVAL, "the command queue rejected the command at 0x%llx (CERROR %u)",
			    (unsigned long long)at, code);
	}
}

static int kick(struct ims_replay *rp)
{
	if (!rp->pending)
		return 0;
	rp->pending = 0;
	return rp->smmu ? smmu_kick(rp) : vtd_kick(rp);
}

/* Put one descriptor / command (nwords words) into the queue. */
static int push(struct ims_replay *rp, const uint64_t *w, unsigned nwords, bool sync)
{
	uint64_t at;
	int rc;

	if (rp->pending + 1 >= rp->qentries && (rc = kick(rp)))
		return rc;
	if (rp->smmu) {
		at = rp->qbase + ((rp->qtail & ims_mask_lg2(rp->qlog2)) << 4);
		rp->qtail = (uint32_t)((rp->qtail + 1) & ims_mask_lg2(rp->qlog2 + 1));
	} else {
		at = rp->qbase + (uint64_t)rp->qtail * rp->qentry_bytes;
		rp->qtail = (rp->qtail + 1) % rp->qentries;
	}
	for (unsigned i = 0; i < rp->qentry_bytes / 8; i++)
		ims_mem_write64(rp->mem, at + 8 * i, i < nwords ? w[i] : 0);
	rp->pending++;
	if (sync)
		rp->st.inv_syncs++;
	else
		rp->st.inv_commands++;
	return 0;
}

static int cmd(struct ims_replay *rp, const uint64_t w[2])
{
	return push(rp, w, 2, false);
}

/* A completion wait, then run the queue and check the wait completed. */
static int sync_and_run(struct ims_replay *rp)
{
	uint64_t w[2];
	uint32_t got = 0;
	bool status = true;
	int rc;

	rp->seq++;
	if (rp->smmu) {
		if (rp->idr[0] & SMMU_IDR0_MSI)
			smmu_cmd_sync(w, SMMU_SYNC_CS_IRQ, rp->status_addr, rp->seq);
		else {
			smmu_cmd_sync(w, SMMU_SYNC_CS_SEV, 0, 0);
			status = false;
		}
	} else {
		vtd_desc_wait(w, rp->status_addr, rp->seq, true, false);
	}
	if ((rc = push(rp, w, 2, true)) || (rc = kick(rp)))
		return rc;
	if (status && (ims_mem_read(rp->mem, rp->status_addr, &got, 4) != IMS_MEM_OK ||
		       got != rp->seq))
		return fail(rp, -EIO, "the completion wait did not complete");
	return 0;
}

/* One command, then a completion wait. */
static int cmd_sync(struct ims_replay *rp, const uint64_t w[2])
{
	int rc = cmd(rp, w);

	return rc ? rc : sync_and_run(rp);
}

/* ---- Domains and devices ---- */

static struct domain *dom_find(struct ims_replay *rp, uint32_t id)
{
	struct domain *d;

	HASH_FIND(hh, rp->domains, &id, sizeof(id), d);
	return d;
}

static struct device *dev_get(struct ims_replay *rp, uint32_t sid)
{
	struct device *v;

	HASH_FIND(hh, rp->devices, &sid, sizeof(sid), v);
	if (v)
		return v;
	v = calloc(1, sizeof(*v));
	if (!v)
		return NULL;
	v->sid = sid;
	HASH_ADD(hh, rp->devices, sid, sizeof(v->sid), v);
	return v;
}

static int stage_cfg(struct ims_replay *rp, unsigned stage, uint64_t root, struct ims_pt_cfg *cfg)
{
	static const unsigned try_levels[] = { 4, 3, 5 };

	for (unsigned i = 0; i < 3; i++)
		if (!rp->arch->stage_cfg(rp->iommu, stage, try_levels[i], root, cfg))
			return 0;
	return fail(rp, -EOPNOTSUPP, "unimplemented: the model has no stage-%u tables to build",
		    stage);
}

/* A guest-physical frame of parent p, backed by a new host frame mapped in p. */
static int guest_alloc(void *opaque, unsigned lg2, uint64_t *addr);

struct guest_ctx {
	struct ims_replay *rp;
	struct domain *parent;
};

static int guest_frame(struct ims_replay *rp, struct domain *p, uint64_t *gpa)
{
	uint64_t hpa = 0;
	int rc;

	if (p->gpa_next >= p->gpa_end)
		return fail(rp, -ENOMEM, "out of guest table memory in domain %u", p->id);
	if ((rc = frames(rp, PAGE_SIZE, &hpa)))
		return rc;
	rc = ims_pt_map(rp->mem, &p->cfg, NULL, p->gpa_next, hpa, PAGE_LG2,
			IMS_PERM_R | IMS_PERM_W | IMS_PERM_PR | IMS_PERM_PW, host_alloc, rp);
	if (rc)
		return fail(rp, rc, "cannot map guest table memory into domain %u", p->id);
	*gpa = p->gpa_next;
	p->gpa_next += PAGE_SIZE;
	return 0;
}

static int guest_alloc(void *opaque, unsigned lg2, uint64_t *addr)
{
	struct guest_ctx *g = opaque;

	if (lg2 != PAGE_LG2)
		return -EOPNOTSUPP;
	return guest_frame(g->rp, g->parent, addr);
}

static int dom_add(struct ims_replay *rp, struct domain *d)
{
	if (rp->ndom == rp->cdom) {
		unsigned c = rp->cdom ? 2 * rp->cdom : 16;
		struct domain **o = realloc(rp->dorder, c * sizeof(*o));

		if (!o)
			return -ENOMEM;
		rp->dorder = o;
		rp->cdom = c;
	}
	rp->dorder[rp->ndom++] = d;
	HASH_ADD(hh, rp->domains, id, sizeof(d->id), d);
	return 0;
}

/*
 * The guest-physical window for tables of nested domains over p: the second
 * quarter of the smaller of the parent's input range and the physical
 * address width (stage-1 table pointers are output addresses of stage 1).
 */
static void parent_window(struct ims_replay *rp, struct domain *p)
{
	unsigned bits = p->cfg.ia_bits < 48 ? p->cfg.ia_bits : 48;

	if (ims_mem_pa_bits(rp->mem) < bits)
		bits = ims_mem_pa_bits(rp->mem);

	p->gpa_next = UINT64_C(1) << (bits - 2);
	p->gpa_end = UINT64_C(1) << (bits - 1);
}

/* A host domain (stage 1 or 2) or a nested one over parent. */
static int dom_create(struct ims_replay *rp, uint32_t id, enum dom_kind kind,
		      struct domain *parent, struct domain **out)
{
	struct domain *d;
	uint64_t root;
	int rc;

	/* DID, ASID and VMID are 16-bit tags. */
	if (id > 0xffff)
		return fail(rp, -EOPNOTSUPP,
			    "unimplemented: domain %u (domain numbers are DIDs / ASIDs / VMIDs, "
			    "below 65536)",
			    id);
	d = calloc(1, sizeof(*d));
	if (!d)
		return fail(rp, -ENOMEM, "out of memory");
	d->id = id;
	d->kind = kind;
	d->parent = parent;
	if (kind == DK_NESTED)
		rc = guest_frame(rp, parent, &root);
	else
		rc = frames(rp, PAGE_SIZE, &root);
	if (!rc)
		rc = stage_cfg(rp, kind == DK_S2 ? 2 : 1, root, &d->cfg);
	if (!rc && (rc = dom_add(rp, d)))
		fail(rp, rc, "out of memory");
	if (rc) {
		free(d);
		return rc;
	}
	if (kind == DK_S2)
		parent_window(rp, d);
	*out = d;
	return 0;
}

/* The domain a MAP or UNMAP names: created as a host domain if new. */
static int dom_get(struct ims_replay *rp, uint32_t id, struct domain **out)
{
	*out = dom_find(rp, id);
	if (*out)
		return 0;
	return dom_create(rp, id, rp->drv.stage == 2 ? DK_S2 : DK_S1, NULL, out);
}

/* Copy every leaf of the table at `table` (level) into d's new tables. */
static int copy_leaves(struct ims_replay *rp, const struct ims_pt_cfg *from,
		       const struct ims_pt_cfg *to, uint64_t table, int level, uint64_t va)
{
	unsigned shift = ims_pt_level_shift(from, (unsigned)level);
	unsigned bits = ims_pt_level_bits(from, (unsigned)level);

	for (uint64_t i = 0; i < (UINT64_C(1) << bits); i++) {
		uint64_t e, a = va | (i << shift);
		struct ims_pte pte;
		int rc;

		if (ims_mem_read64(rp->mem, table + (i << from->fmt->entry_lg2), &e) != IMS_MEM_OK)
			return fail(rp, -EFAULT, "cannot read a table");
		if (!e)
			continue;
		from->fmt->decode(from, (unsigned)level, e, &pte);
		if (pte.kind == IMS_PTE_LEAF) {
			rc = ims_pt_map(rp->mem, to, NULL, a, pte.addr, pte.size_lg2, pte.perm,
					host_alloc, rp);
			if (rc)
				return fail(rp, rc, "cannot rebuild a mapping at 0x%llx",
					    (unsigned long long)a);
		} else if (pte.kind == IMS_PTE_TABLE && level > 0) {
			if ((rc = copy_leaves(rp, from, to, pte.addr, level - 1, a)))
				return rc;
		}
	}
	return 0;
}

/* Make d usable as a nest parent: stage 2. */
static int make_parent(struct ims_replay *rp, struct domain *d)
{
	struct ims_pt_cfg s2;
	uint64_t root;
	int rc;

	if (d->kind == DK_S2)
		return 0;
	if (d->kind == DK_NESTED)
		return fail(rp, -EINVAL, "domain %u is nested and cannot be a parent", d->id);
	if (d->natt)
		return fail(rp, -EINVAL,
			    "domain %u is a stage-1 domain in use and cannot become a nest parent "
			    "(use a stage-2 driver model, or attach nested before the parent is used)",
			    d->id);
	if ((rc = frames(rp, PAGE_SIZE, &root)) || (rc = stage_cfg(rp, 2, root, &s2)))
		return rc;
	if ((rc = copy_leaves(rp, &d->cfg, &s2, d->cfg.root, d->cfg.levels - 1, 0)))
		return rc;
	d->cfg = s2;
	d->kind = DK_S2;
	parent_window(rp, d);
	return 0;
}

static int att_find(const struct domain *d, uint32_t dev, bool has_pasid, uint32_t pasid)
{
	for (unsigned i = 0; i < d->natt; i++)
		if (d->att[i].dev == dev && d->att[i].has_pasid == has_pasid &&
		    (!has_pasid || d->att[i].pasid == pasid))
			return (int)i;
	return -1;
}

static int att_add(struct ims_replay *rp, struct domain *d, uint32_t dev, bool has_pasid,
		   uint32_t pasid)
{
	if (d->natt == d->catt) {
		unsigned c = d->catt ? 2 * d->catt : 4;
		struct attach *a = realloc(d->att, c * sizeof(*a));

		if (!a)
			return fail(rp, -ENOMEM, "out of memory");
		d->att = a;
		d->catt = c;
	}
	d->att[d->natt++] = (struct attach){ .dev = dev, .pasid = pasid, .has_pasid = has_pasid };
	if (d->natt == 1 && d->kind == DK_NESTED)
		d->parent->children++;
	return 0;
}

static void att_del(struct domain *d, int i)
{
	memmove(&d->att[i], &d->att[i + 1], (d->natt - (unsigned)i - 1) * sizeof(*d->att));
	d->natt--;
	if (d->natt == 0 && d->kind == DK_NESTED)
		d->parent->children--;
}

/* The domain (dev, pasid) is attached to, and the index of the attachment. */
static struct domain *attached(struct ims_replay *rp, uint32_t dev, bool has_pasid, uint32_t pasid,
			       int *idx)
{
	for (unsigned i = 0; i < rp->ndom; i++) {
		int k = att_find(rp->dorder[i], dev, has_pasid, pasid);

		if (k >= 0) {
			*idx = k;
			return rp->dorder[i];
		}
	}
	return NULL;
}

/* ---- Invalidation: VT-d ---- */

/*
 * Linux calculate_psi_aligned_address(): the AM and aligned base of a
 * page-selective invalidation covering [first, last].
 */
static void vtd_psi(uint64_t first, uint64_t last, uint64_t *addr, unsigned *am)
{
	uint64_t pfn = first >> PAGE_LG2, end_pfn = last >> PAGE_LG2;
	uint64_t pages = end_pfn - pfn + 1;
	unsigned mask = pages <= 1 ? 0 : 64u - (unsigned)__builtin_clzll(pages - 1);
	uint64_t bitmask = ims_mask_lg2(mask);

	if (pfn & bitmask) {
		uint64_t shared = ~(pfn ^ end_pfn) & ~bitmask;

		mask = shared ? (unsigned)__builtin_ctzll(shared) : 52;
	}
	if (mask > 52)
		mask = 52;
	*am = mask;
	*addr = mask >= 52 ? 0 : (pfn & ~ims_mask_lg2(mask)) << PAGE_LG2;
}

static bool vtd_fs_kind(const struct domain *d)
{
	return d->kind == DK_S1 || d->kind == DK_NESTED;
}

/* Distinct PASIDs (RID: 0) attached to d, visited in attach order. */
static int vtd_each_pasid(struct ims_replay *rp, struct domain *d, bool only, uint32_t which,
			  int (*fn)(struct ims_replay *, struct domain *, uint32_t, void *),
			  void *arg)
{
	if (only)
		return fn(rp, d, which, arg);
	for (unsigned i = 0; i < d->natt; i++) {
		uint32_t p = d->att[i].has_pasid ? d->att[i].pasid : 0;
		bool seen = false;
		int rc;

		for (unsigned j = 0; j < i; j++)
			seen |= (d->att[j].has_pasid ? d->att[j].pasid : 0) == p;
		if (seen)
			continue;
		if ((rc = fn(rp, d, p, arg)))
			return rc;
	}
	return 0;
}

struct vtd_range {
	uint64_t addr;
	unsigned am;
	bool ih, page;
};

static int vtd_piotlb_fn(struct ims_replay *rp, struct domain *d, uint32_t pasid, void *arg)
{
	const struct vtd_range *r = arg;
	uint64_t w[2];

	vtd_desc_piotlb(w, (uint16_t)d->id, pasid, r->page, r->addr, r->am, r->ih);
	return cmd(rp, w);
}

/* Second-stage tag (one DID): PSI, or DSI when the hardware cannot. */
static int vtd_iotlb_did(struct ims_replay *rp, uint32_t did, const struct vtd_range *r)
{
	uint64_t w[2];

	if (!r->page || !(rp->cap & VTD_CAP_PSI) || r->am > FIELD_GET(VTD_CAP_MAMV, rp->cap))
		vtd_desc_iotlb_dsi(w, (uint16_t)did, false, false);
	else
		vtd_desc_iotlb_psi(w, (uint16_t)did, r->addr, r->am, r->ih, false, false);
	return cmd(rp, w);
}

/* Every cache tag of d: range (r->page) or whole domain. */
static int vtd_inv_domain(struct ims_replay *rp, struct domain *d, const struct vtd_range *r,
			  bool only_pasid, uint32_t pasid)
{
	int rc = 0;

	if (vtd_fs_kind(d))
		return vtd_each_pasid(rp, d, only_pasid, pasid, vtd_piotlb_fn, (void *)r);
	if (d->natt && (rc = vtd_iotlb_did(rp, d->id, r)))
		return rc;
	/* Nested domains over a parent: their DIDs, IOTLB type (NESTING_IOTLB tags). */
	for (unsigned i = 0; d->children && i < rp->ndom; i++) {
		struct domain *c = rp->dorder[i];

		if (c->parent == d && c->natt && (rc = vtd_iotlb_did(rp, c->id, r)))
			return rc;
	}
	return 0;
}

/* ---- Invalidation: SMMUv3 ---- */

struct smmu_tag {
	bool s2;
	uint16_t vmid, asid;
};

static bool smmu_tag(const struct domain *d, struct smmu_tag *t)
{
	switch (d->kind) {
	case DK_S1:
		*t = (struct smmu_tag){ .s2 = false, .vmid = 0, .asid = (uint16_t)d->id };
		return d->natt > 0;
	case DK_S2:
		*t = (struct smmu_tag){ .s2 = true, .vmid = (uint16_t)d->id };
		return d->natt > 0 || d->children > 0;
	case DK_NESTED:
		*t = (struct smmu_tag){ .s2 = false, .vmid = (uint16_t)d->parent->id,
					.asid = (uint16_t)d->id };
		return true;
	}
	return false;
}

static int smmu_tlbi(struct ims_replay *rp, const struct smmu_tag *t, uint64_t addr, bool leaf,
		     unsigned tg, unsigned scale, unsigned num, unsigned ttl)
{
	uint64_t w[2];

	if (t->s2)
		smmu_cmd_tlbi_s2_ipa(w, t->vmid, addr, leaf, tg, scale, num, ttl);
	else
		smmu_cmd_tlbi_nh_va(w, t->vmid, t->asid, addr, leaf, tg, scale, num, ttl);
	return cmd(rp, w);
}

static int smmu_tlbi_all(struct ims_replay *rp, const struct smmu_tag *t)
{
	uint64_t w[2];

	if (t->s2)
		smmu_cmd_tlbi_s12_vmall(w, t->vmid);
	else
		smmu_cmd_tlbi_nh_asid(w, t->vmid, t->asid);
	return cmd(rp, w);
}

/*
 * Commands for [addr, addr + size) mapped by leaves of 2^leaf_lg2 bytes
 * (__arm_smmu_tlb_inv_range, plus the ASID/VMID-wide cut-off without RIL).
 * *wide is set when a whole-domain command was used instead.
 */
static int smmu_inv_run(struct ims_replay *rp, const struct smmu_tag *t, uint64_t addr,
			uint64_t size, unsigned leaf_lg2, bool leaf, bool single, bool *wide)
{
	uint64_t end = addr + size;
	int rc;

	if (!(rp->idr[3] & SMMU_IDR3_RIL)) {
		uint64_t ops = size >> leaf_lg2;

		if (*wide)
			return 0;
		if (rp->drv.range_max_pages && ops > rp->drv.range_max_pages) {
			*wide = true;
			return smmu_tlbi_all(rp, t);
		}
		for (uint64_t a = addr; a < end; a += UINT64_C(1) << leaf_lg2)
			if ((rc = smmu_tlbi(rp, t, a, leaf, 0, 0, 0, 0)))
				return rc;
		return 0;
	}
	/* 4.4.1: TG 1 = 4 KiB; TTL = the Arm level of the leaf (3 for 4 KiB pages). */
	{
		unsigned tg = 1, ttl = leaf ? 4 - (leaf_lg2 - 3) / (PAGE_LG2 - 3) : 0;
		uint64_t pages = size >> PAGE_LG2;

		if (single) {
			/* One command covering everything: the smallest SCALE with NUM <= 31. */
			unsigned scale = 0;

			while (((pages + (UINT64_C(1) << scale) - 1) >> scale) > SMMU_RANGE_NUM_MAX + 1)
				scale++;
			if (scale > SMMU_RANGE_NUM_MAX) {
				*wide = true;
				return smmu_tlbi_all(rp, t);
			}
			return smmu_tlbi(rp, t, addr, leaf, tg, scale,
					 (unsigned)(((pages + (UINT64_C(1) << scale) - 1) >> scale) - 1),
					 ttl);
		}
		if (!leaf && (pages & SMMU_RANGE_NUM_MAX) == 1)
			pages++;
		while (addr < end && pages) {
			unsigned scale = (unsigned)__builtin_ctzll(pages);
			uint64_t num = (pages >> scale) & SMMU_RANGE_NUM_MAX;

			if (scale > SMMU_RANGE_NUM_MAX) {
				*wide = true;
				return smmu_tlbi_all(rp, t);
			}

			if ((rc = smmu_tlbi(rp, t, addr, leaf, tg, scale, (unsigned)(num - 1), ttl)))
				return rc;
			addr += num << (scale + PAGE_LG2);
			pages -= num << scale;
		}
	}
	return 0;
}

/* ---- Policy ---- */

/* A run of leaves of one size, cleared by an unmap. */
struct run {
	uint64_t first;
	uint64_t size;
	unsigned lg2;
};

struct runs {
	struct run *r;
	unsigned n, cap;
};

static int runs_add(struct runs *rs, uint64_t first, unsigned lg2)
{
	struct run *last = rs->n ? &rs->r[rs->n - 1] : NULL;

	if (last && last->lg2 == lg2 && last->first + last->size == first) {
		last->size += UINT64_C(1) << lg2;
		return 0;
	}
	if (rs->n == rs->cap) {
		unsigned c = rs->cap ? 2 * rs->cap : 4;
		struct run *r = realloc(rs->r, c * sizeof(*r));

		if (!r)
			return -ENOMEM;
		rs->r = r;
		rs->cap = c;
	}
	rs->r[rs->n++] = (struct run){ .first = first, .size = UINT64_C(1) << lg2, .lg2 = lg2 };
	return 0;
}

/* Whole-domain invalidation of d (no wait). */
static int inv_domain_all(struct ims_replay *rp, struct domain *d, bool only_pasid, uint32_t pasid)
{
	struct vtd_range r = { .page = false };
	struct smmu_tag t;

	if (rp->smmu)
		return smmu_tag(d, &t) ? smmu_tlbi_all(rp, &t) : 0;
	return vtd_inv_domain(rp, d, &r, only_pasid, pasid);
}

static int inv_global(struct ims_replay *rp)
{
	uint64_t w[2];

	if (rp->smmu)
		smmu_cmd_tlbi_nsnh_all(w);
	else
		vtd_desc_iotlb_global(w, false, false);
	return cmd(rp, w);
}

/* Range invalidation of d over runs (no wait). */
static int inv_ranges(struct ims_replay *rp, struct domain *d, const struct runs *rs, bool leaf,
		      bool single, bool only_pasid, uint32_t pasid)
{
	int rc;

	if (!rs->n)
		return 0;
	if (rp->smmu) {
		struct smmu_tag t;
		bool wide = false;

		if (!smmu_tag(d, &t))
			return 0;
		for (unsigned i = 0; i < rs->n; i++)
			if ((rc = smmu_inv_run(rp, &t, rs->r[i].first, rs->r[i].size, rs->r[i].lg2,
					       leaf, single, &wide)))
				return rc;
		/* A nest parent's stage-2 change reaches its guests' combined entries. */
		if (t.s2 && d->children && !wide) {
			uint64_t w[2];

			smmu_cmd_tlbi_nh_all(w, t.vmid);
			return cmd(rp, w);
		}
		return 0;
	} else {
		uint64_t first = rs->r[0].first, last = 0;
		struct vtd_range r = { .page = true, .ih = leaf };

		for (unsigned i = 0; i < rs->n; i++) {
			if (rs->r[i].first < first)
				first = rs->r[i].first;
			if (rs->r[i].first + rs->r[i].size - 1 > last)
				last = rs->r[i].first + rs->r[i].size - 1;
		}
		vtd_psi(first, last, &r.addr, &r.am);
		return vtd_inv_domain(rp, d, &r, only_pasid, pasid);
	}
}

/* ---- Flush queues ---- */

/*
 * fq_flush_iotlb() and the rings freed: one whole-domain invalidation and a
 * wait.  A full ring flushes with the timer left armed, as in Linux, so the
 * timer's own flush still follows; the timer (and the end of the trace)
 * disarm it.
 */
static int fq_flush(struct ims_replay *rp, struct domain *d, bool disarm)
{
	uint64_t before = rp->st.inv_commands;
	int rc;

	for (unsigned i = 0; i < d->nrings; i++)
		d->ring[i] = 0;
	d->queued = 0;
	if (disarm && d->timer_on) {
		d->timer_on = false;
		rp->timers--;
	}
	if ((rc = inv_domain_all(rp, d, false, 0)))
		return rc;
	return rp->st.inv_commands != before ? sync_and_run(rp) : kick(rp);
}

/* The timer: flush every domain whose deadline has passed (fq_flush_timeout). */
static int fq_timers(struct ims_replay *rp)
{
	for (unsigned i = 0; rp->timers && i < rp->ndom; i++) {
		struct domain *d = rp->dorder[i];
		int rc;

		if (d->timer_on && d->deadline <= rp->now && (rc = fq_flush(rp, d, true)))
			return rc;
	}
	return 0;
}

/* queue_iova(): flush when the ring is full, then queue, arming the timer. */
static int fq_queue(struct ims_replay *rp, struct domain *d, unsigned cpu)
{
	unsigned ring = rp->drv.policy == IMS_DRV_SINGLE_FQ ? 0 : cpu;
	int rc;

	if (ring >= d->nrings) {
		uint32_t *r = realloc(d->ring, (ring + 1) * sizeof(*r));

		if (!r)
			return fail(rp, -ENOMEM, "out of memory");
		memset(r + d->nrings, 0, (ring + 1 - d->nrings) * sizeof(*r));
		d->ring = r;
		d->nrings = ring + 1;
	}
	if (d->ring[ring] + 1 >= rp->drv.fq_size && (rc = fq_flush(rp, d, false)))
		return rc;
	d->ring[ring]++;
	d->queued++;
	if (!d->timer_on) {
		d->timer_on = true;
		d->deadline = rp->now + rp->drv.fq_timeout_ns;
		rp->timers++;
	}
	return 0;
}

/* ---- Configuration writes ---- */

static int vtd_cfg_flush_new(struct ims_replay *rp, uint32_t sid, uint32_t did, uint32_t pasid,
			     bool ctx)
{
	uint64_t w[2];

	/* Caching mode: not-present entries may be cached (6.1, CAP.CM). */
	if (!(rp->cap & VTD_CAP_CM))
		return 0;
	if (ctx)
		vtd_desc_cc_device(w, (uint16_t)did, (uint16_t)sid);
	else
		vtd_desc_pc_pasid(w, (uint16_t)did, pasid);
	return cmd_sync(rp, w);
}

/* Root entry, context entry and PASID directory of a device (once). */
static int vtd_device(struct ims_replay *rp, struct device *v, uint32_t did)
{
	unsigned bus = (v->sid >> 8) & 0xff, devfn = v->sid & 0xff, half = devfn >> 7;
	uint64_t ctx_pa;
	int rc;

	if (v->sid > 0xffff)
		return fail(rp, -EINVAL, "requester ID 0x%x is wider than 16 bits", v->sid);
	if (v->ctx_done)
		return 0;
	if (!rp->ctx[bus][half]) {
		struct fv f[2] = { { half ? "UP" : "LP", 1 }, { half ? "UCTP" : "LCTP", 0 } };

		if ((rc = frames(rp, PAGE_SIZE, &rp->ctx[bus][half])))
			return rc;
		f[1].value = rp->ctx[bus][half];
		if ((rc = put(rp, SD_SM_ROOT, rp->root + 16 * bus, true, f, 2)))
			return rc;
	}
	if ((rc = frames(rp, PAGE_SIZE, &v->pasid_dir)))
		return rc;
	ctx_pa = rp->ctx[bus][half] + 32 * (devfn & 0x7f);
	{
		struct fv f[] = { { "P", 1 },
				  { "PASIDE", (rp->ecap & VTD_ECAP_PASID) ? 1 : 0 },
				  { "PDTS", VTD_PDTS },
				  { "PASIDDIRPTR", v->pasid_dir },
				  { "RID_PASID", 0 } };

		if ((rc = put(rp, SD_SM_CTX, ctx_pa, false, f, 5)))
			return rc;
	}
	v->ctx_done = true;
	return vtd_cfg_flush_new(rp, v->sid, did, 0, true);
}

static int vtd_pasid_entry_pa(struct ims_replay *rp, struct device *v, uint32_t pasid,
			      uint64_t *pa)
{
	unsigned dir = pasid >> 6;
	int rc;

	if (dir >= (1u << (VTD_PDTS + 7)))
		return fail(rp, -EOPNOTSUPP,
			    "unimplemented: PASID %u (the replay's PASID directories hold PASIDs "
			    "below %u)",
			    pasid, 1u << (VTD_PDTS + 13));
	if (!v->pasid_tbl[dir]) {
		struct fv f[2] = { { "P", 1 }, { "SMPTBLPTR", 0 } };

		if ((rc = frames(rp, PAGE_SIZE, &v->pasid_tbl[dir])))
			return rc;
		f[1].value = v->pasid_tbl[dir];
		if ((rc = put(rp, SD_PDE, v->pasid_dir + 8 * dir, false, f, 2)))
			return rc;
	}
	*pa = v->pasid_tbl[dir] + 64 * (pasid & 63);
	return 0;
}

/* Flush a PASID entry that was present, for the domain it held (Linux intel_pasid_flush_present). */
static int vtd_flush_entry(struct ims_replay *rp, struct domain *old, uint32_t pasid)
{
	struct vtd_range r = { .page = false };
	uint64_t w[2];
	int rc;

	vtd_desc_pc_pasid(w, (uint16_t)old->id, pasid);
	if ((rc = cmd(rp, w)))
		return rc;
	if (vtd_fs_kind(old))
		rc = vtd_piotlb_fn(rp, old, pasid, &r);
	else
		rc = vtd_iotlb_did(rp, old->id, &r);
	if (rc)
		return rc;
	return sync_and_run(rp);
}

static int vtd_attach(struct ims_replay *rp, const struct ims_event *ev, struct domain *d,
		      struct domain *old)
{
	struct device *v = dev_get(rp, ev->dev);
	uint32_t pasid = ev->has_pasid ? ev->pasid : 0;
	uint64_t pe = 0;
	int rc;

	if (!v)
		return fail(rp, -ENOMEM, "out of memory");
	if (ev->has_pasid && !(rp->ecap & VTD_ECAP_PASID))
		return fail(rp, -EOPNOTSUPP, "unimplemented: PASID attach without ECAP.PASID");
	if ((rc = vtd_device(rp, v, d->id)) || (rc = vtd_pasid_entry_pa(rp, v, pasid, &pe)))
		return rc;
	{
		struct domain *s2 = d->kind == DK_NESTED ? d->parent : d;
		struct fv f[] = {
			{ "P", 1 },
			{ "PGTT", d->kind == DK_S1 ? VTD_PGTT_FS
				  : d->kind == DK_S2 ? VTD_PGTT_SS : VTD_PGTT_NESTED },
			{ "DID", d->id },
			{ "AW", s2->cfg.levels - 2u },
			{ "SSPTPTR", s2->cfg.root },
			{ "FSPTPTR", d->cfg.root },
			{ "SRE", (rp->ecap & VTD_ECAP_SRS) ? 1 : 0 },
			/* A guest's stage 1: its paging mode and access bits. */
			{ "FSPM", d->cfg.levels == 5 ? 1 : 0 },
			{ "WPE", d->g.wpe },
			{ "EAFE", d->g.eafe },
		};
		unsigned n = d->guest ? IMS_ARRAY_SIZE(f) : 7;

		if (d->guest)
			f[6].value = d->g.sre;
		if (d->kind == DK_S1) {
			/* First stage only: no second-stage fields. */
			f[3] = f[5];
			f[4] = f[6];
			n = 5;
		} else if (d->kind == DK_S2) {
			n = 5;
		}
		if ((rc = put(rp, SD_PE, pe, false, f, n)))
			return rc;
	}
	/* A second stage recording dirty state: SSADE in this entry too (9.6). */
	if ((d->kind == DK_S2 && d->dirty) || (d->kind == DK_NESTED && d->parent->dirty)) {
		struct fv f = { "SSADE", 1 };

		if ((rc = put(rp, SD_PE, pe, true, &f, 1)))
			return rc;
	}
	if (old)
		return vtd_flush_entry(rp, old, pasid);
	return vtd_cfg_flush_new(rp, v->sid, d->id, pasid, false);
}

static int vtd_detach(struct ims_replay *rp, const struct ims_event *ev, struct domain *old)
{
	struct device *v = dev_get(rp, ev->dev);
	uint32_t pasid = ev->has_pasid ? ev->pasid : 0;
	uint64_t pe = 0;
	int rc;

	if (!v || (rc = vtd_pasid_entry_pa(rp, v, pasid, &pe)) || (rc = zero_struct(rp, SD_PE, pe)))
		return v ? rc : fail(rp, -ENOMEM, "out of memory");
	return vtd_flush_entry(rp, old, pasid);
}

/* SMMUv3: the STE of sid, its level-2 table made on demand. */
static int smmu_ste_pa(struct ims_replay *rp, uint32_t sid, uint64_t *pa)
{
	int rc;

	if (rp->st_log2 < 32 && (sid >> rp->st_log2))
		return fail(rp, -EOPNOTSUPP,
			    "unimplemented: StreamID 0x%x (the replay's stream table has %u bits)", sid,
			    rp->st_log2);
	if (!rp->st_2lvl) {
		*pa = rp->strtab + 64 * (uint64_t)sid;
		return 0;
	}
	{
		uint32_t l1 = sid >> SMMU_SPLIT;
		uint64_t bytes = UINT64_C(64) << SMMU_SPLIT;

		if (!rp->l2ste[l1]) {
			struct fv f[2] = { { "Span", SMMU_SPLIT + 1 }, { "L2Ptr", 0 } };
			const struct ims_struct_desc *sd = ims_struct_find(rp->iommu, "smmu.l1std");
			uint64_t w = 0;

			if ((rc = frames(rp, bytes, &rp->l2ste[l1])))
				return rc;
			f[1].value = rp->l2ste[l1];
			for (unsigned i = 0; i < 2; i++)
				if (!sd || ims_struct_set(sd, &w, f[i].name, f[i].value))
					return fail(rp, -EINVAL, "cannot encode smmu.l1std");
			ims_mem_write64(rp->mem, rp->strtab + 8 * (uint64_t)l1, w);
		}
		*pa = rp->l2ste[l1] + 64 * (uint64_t)(sid & ims_mask_lg2(SMMU_SPLIT));
	}
	return 0;
}

/* The CD of (device, ssid), its tables made on demand. */
static int smmu_cd_pa(struct ims_replay *rp, struct device *v, uint32_t ssid, uint64_t *pa)
{
	int rc;

	if (rp->cdmax < 32 && (ssid >> rp->cdmax))
		return fail(rp, -EOPNOTSUPP,
			    "unimplemented: SubstreamID %u (the replay's CD tables have %u bits)",
			    ssid, rp->cdmax);
	if (!v->cd_table) {
		uint64_t bytes = rp->cd2l ? UINT64_C(8) << (rp->cdmax - 6) : UINT64_C(64) << rp->cdmax;

		if ((rc = frames(rp, bytes, &v->cd_table)))
			return rc;
		if (rp->cd2l && !(v->cd_l2 = calloc(UINT64_C(1) << (rp->cdmax - 6), sizeof(uint64_t))))
			return fail(rp, -ENOMEM, "out of memory");
	}
	if (!rp->cd2l) {
		*pa = v->cd_table + 64 * (uint64_t)ssid;
		return 0;
	}
	if (!v->cd_l2[ssid >> 6]) {
		const struct ims_struct_desc *sd = ims_struct_find(rp->iommu, "smmu.l1cd");
		uint64_t w = 0, cdw[2];

		if ((rc = frames(rp, PAGE_SIZE, &v->cd_l2[ssid >> 6])))
			return rc;
		if (!sd || ims_struct_set(sd, &w, "V", 1) ||
		    ims_struct_set(sd, &w, "L2Ptr", v->cd_l2[ssid >> 6]))
			return fail(rp, -EINVAL, "cannot encode smmu.l1cd");
		ims_mem_write64(rp->mem, v->cd_table + 8 * (uint64_t)(ssid >> 6), w);
		/* A new level-1 descriptor: CMD_CFGI_CD with Leaf = 0 drops any cached one. */
		smmu_cmd_cfgi_cd(cdw, v->sid, ssid, false);
		if ((rc = cmd(rp, cdw)))
			return rc;
	}
	*pa = v->cd_l2[ssid >> 6] + 64 * (uint64_t)(ssid & 63);
	return 0;
}

static int smmu_put_cd(struct ims_replay *rp, uint64_t pa, struct domain *d)
{
	struct fv f[] = {
		{ "V", 1 },   { "AA64", 1 }, { "T0SZ", 64u - d->cfg.ia_bits }, { "TG0", 0 },
		{ "EPD1", 1 }, { "IPS", rp->oas_code }, { "A", 1 }, { "R", 1 },
		{ "ASID", d->id }, { "TTB0", d->cfg.root },
		/* Hardware Access flag and dirty state updates (5.4), as Linux's
		 * arm_smmu_make_s1_cd sets them for a dirty-tracking domain. */
		{ "HA", 1 }, { "HD", 1 },
	};

	return put(rp, SD_CD, pa, false, f, IMS_ARRAY_SIZE(f) - (d->dirty ? 0 : 2));
}

/* The guest STE fields a nested STE takes over (IHI 0070 5.2; the fields
 * Linux lets a VMM set, iommufd.h's struct iommu_hwpt_arm_smmuv3). */
static const char *const smmu_guest_fields[] = { "S1Fmt", "S1CDMax", "S1DSS", "S1CIR",
						  "S1COR", "S1CSH", "S1STALLD", "EATS" };

static uint64_t smmu_ste_field(struct ims_replay *rp, const uint64_t *ste, const char *name)
{
	const struct ims_struct_desc *sd = rp->sd[SD_STE];

	for (unsigned i = 0; sd && i < sd->nfields; i++)
		if (!strcmp(sd->fields[i].name, name))
			return ims_struct_get(&sd->fields[i], ste);
	return 0;
}

static int smmu_write_ste(struct ims_replay *rp, struct device *v, unsigned config,
			  struct domain *s1, struct domain *s2)
{
	struct fv f[24];
	unsigned n = 0;
	uint64_t pa = 0, w[2];
	int rc;

	if ((rc = smmu_ste_pa(rp, v->sid, &pa)))
		return rc;
	f[n++] = (struct fv){ "V", 1 };
	f[n++] = (struct fv){ "Config", config };
	if (config == SMMU_CONFIG_S1) {
		f[n++] = (struct fv){ "S1ContextPtr", v->cd_table };
		f[n++] = (struct fv){ "S1Fmt", rp->cd2l ? 1 : 0 };
		f[n++] = (struct fv){ "S1CDMax", rp->cdmax };
		if (rp->cdmax)
			f[n++] = (struct fv){ "S1DSS", SMMU_S1DSS_SSID0 };
	} else if (config == SMMU_CONFIG_NESTED) {
		f[n++] = (struct fv){ "S1ContextPtr", s1->cd_gpa };
		for (unsigned i = 0; s1->guest && i < IMS_ARRAY_SIZE(smmu_guest_fields); i++)
			f[n++] = (struct fv){ smmu_guest_fields[i],
					      smmu_ste_field(rp, s1->g.ste, smmu_guest_fields[i]) };
	}
	if (config == SMMU_CONFIG_S2 || config == SMMU_CONFIG_NESTED) {
		f[n++] = (struct fv){ "S2VMID", s2->id };
		f[n++] = (struct fv){ "S2T0SZ", 64u - s2->cfg.ia_bits };
		f[n++] = (struct fv){ "S2SL0", s2->cfg.levels - 2u };
		f[n++] = (struct fv){ "S2PS", rp->oas_code };
		f[n++] = (struct fv){ "S2AA64", 1 };
		f[n++] = (struct fv){ "S2R", 1 };
		f[n++] = (struct fv){ "S2TTB", s2->cfg.root };
	}
	if ((rc = put(rp, SD_STE, pa, false, f, n)))
		return rc;
	v->ste_config = config;
	smmu_cmd_cfgi_ste(w, v->sid, true);
	return cmd_sync(rp, w);
}

/* The guest's CD of a nested domain, in guest-physical memory behind its parent. */
static int smmu_guest_cd(struct ims_replay *rp, struct domain *d)
{
	uint64_t hpa = 0;
	unsigned lg2;
	int rc;

	if (d->cd_gpa)
		return 0;
	if ((rc = guest_frame(rp, d->parent, &d->cd_gpa)))
		return rc;
	if (ims_pt_lookup(rp->mem, &d->parent->cfg, NULL, d->cd_gpa, &hpa, &lg2))
		return fail(rp, -EFAULT, "guest CD memory is not mapped");
	return smmu_put_cd(rp, hpa, d);
}

static int smmu_attach(struct ims_replay *rp, const struct ims_event *ev, struct domain *d,
		       struct domain *old)
{
	struct device *v = dev_get(rp, ev->dev);
	uint64_t cd = 0, w[2];
	int rc;

	if (!v)
		return fail(rp, -ENOMEM, "out of memory");
	if (d->kind == DK_NESTED) {
		unsigned config = SMMU_CONFIG_NESTED;

		if (ev->has_pasid || v->npasid)
			return fail(rp, -EOPNOTSUPP,
				    "unimplemented: a nested domain with SubstreamIDs on SMMUv3");
		if (d->guest) {
			/* The guest's STE says abort, bypass (its stage 2 only) or stage 1. */
			unsigned gcfg = (unsigned)smmu_ste_field(rp, d->g.ste, "Config");

			if (!smmu_ste_field(rp, d->g.ste, "V") || gcfg < SMMU_CONFIG_BYPASS)
				config = SMMU_CONFIG_ABORT;
			else if (gcfg == SMMU_CONFIG_BYPASS)
				config = SMMU_CONFIG_S2;
		} else if ((rc = smmu_guest_cd(rp, d))) {
			return rc;
		}
		v->rid_dom = d;
		return smmu_write_ste(rp, v, config, config == SMMU_CONFIG_NESTED ? d : NULL,
				      config == SMMU_CONFIG_ABORT ? NULL : d->parent);
	}
	if (d->kind == DK_S2) {
		if (ev->has_pasid || v->npasid)
			return fail(rp, -EINVAL,
				    "StreamID 0x%x: SubstreamIDs need a stage-1 STE, but domain %u "
				    "is stage 2",
				    ev->dev, d->id);
		v->rid_dom = d;
		return smmu_write_ste(rp, v, SMMU_CONFIG_S2, NULL, d);
	}
	/* Stage 1: the CD, then the STE if it is not already a stage-1 STE. */
	if (ev->has_pasid && (v->ste_config == SMMU_CONFIG_S2 || v->ste_config == SMMU_CONFIG_NESTED))
		return fail(rp, -EINVAL,
			    "StreamID 0x%x: a SubstreamID attach needs a stage-1 STE, but the stream "
			    "is attached to stage-2 domain %u",
			    ev->dev, v->rid_dom ? v->rid_dom->id : 0);
	if ((rc = smmu_cd_pa(rp, v, ev->has_pasid ? ev->pasid : 0, &cd)) ||
	    (rc = smmu_put_cd(rp, cd, d)))
		return rc;
	if (ev->has_pasid && !old)
		v->npasid++;
	else if (!ev->has_pasid)
		v->rid_dom = d;
	if (v->ste_config != SMMU_CONFIG_S1)
		return smmu_write_ste(rp, v, SMMU_CONFIG_S1, NULL, NULL);
	smmu_cmd_cfgi_cd(w, v->sid, ev->has_pasid ? ev->pasid : 0, true);
	return cmd_sync(rp, w);
}

static int smmu_detach(struct ims_replay *rp, const struct ims_event *ev)
{
	struct device *v = dev_get(rp, ev->dev);
	uint64_t cd = 0, w[2];
	int rc;

	if (!v)
		return fail(rp, -ENOMEM, "out of memory");
	if (ev->has_pasid)
		v->npasid--;
	else
		v->rid_dom = NULL;
	if (v->ste_config == SMMU_CONFIG_S1 && (ev->has_pasid || v->npasid)) {
		/* The CD goes; the stage-1 STE stays for the other SubstreamIDs. */
		if ((rc = smmu_cd_pa(rp, v, ev->has_pasid ? ev->pasid : 0, &cd)) ||
		    (rc = zero_struct(rp, SD_CD, cd)))
			return rc;
		smmu_cmd_cfgi_cd(w, v->sid, ev->has_pasid ? ev->pasid : 0, true);
		return cmd_sync(rp, w);
	}
	return smmu_write_ste(rp, v, SMMU_CONFIG_ABORT, NULL, NULL);
}

/* ---- Events ---- */

static int ev_attach(struct ims_replay *rp, const struct ims_event *ev)
{
	struct domain *d = dom_find(rp, ev->domain), *old;
	int idx = -1, rc;

	if (ev->flags & IMS_EV_F_NESTED) {
		struct domain *p;

		if (ev->parent == ev->domain)
			return fail(rp, -EINVAL, "a nested domain cannot be its own parent");
		if (rp->smmu ? (rp->idr[0] & (SMMU_IDR0_S1P | SMMU_IDR0_S2P)) !=
				       (SMMU_IDR0_S1P | SMMU_IDR0_S2P)
			     : !(rp->ecap & VTD_ECAP_NEST))
			return fail(rp, -EOPNOTSUPP,
				    "unimplemented: nested attach on a model without nesting");
		p = dom_find(rp, ev->parent);
		if (!p && (rc = dom_create(rp, ev->parent, DK_S2, NULL, &p)))
			return rc;
		if ((rc = make_parent(rp, p)))
			return rc;
		if (d && (d->kind != DK_NESTED || d->parent != p))
			return fail(rp, -EINVAL,
				    "domain %u already exists and is not a nested domain over %u",
				    ev->domain, ev->parent);
		if (!d && (rc = dom_create(rp, ev->domain, DK_NESTED, p, &d)))
			return rc;
	} else if (!d && (rc = dom_get(rp, ev->domain, &d))) {
		return rc;
	}
	old = attached(rp, ev->dev, ev->has_pasid, ev->pasid, &idx);
	if (old == d)
		return 0;
	if (rp->smmu)
		rc = smmu_attach(rp, ev, d, old);
	else
		rc = vtd_attach(rp, ev, d, old);
	if (rc)
		return rc;
	if (old)
		att_del(old, idx);
	return att_add(rp, d, ev->dev, ev->has_pasid, ev->pasid);
}

/* ---- Domains named by their owner (iommufd's host driver) ---- */

int ims_replay_domain_new(struct ims_replay *rp, uint32_t id, unsigned stage, uint32_t parent,
			  const struct ims_replay_guest *guest, char *err, size_t errlen)
{
	struct domain *d = NULL, *p = NULL;
	int rc;

	rp->err = err;
	rp->errlen = errlen;
	if (dom_find(rp, id)) {
		rc = fail(rp, -EEXIST, "domain %u exists", id);
	} else if (!guest) {
		rc = stage == 1 || stage == 2
			     ? dom_create(rp, id, stage == 2 ? DK_S2 : DK_S1, NULL, &d)
			     : fail(rp, -EINVAL, "stage %u: a host domain is stage 1 or 2", stage);
	} else if (!(p = dom_find(rp, parent)) || p->kind != DK_S2) {
		rc = fail(rp, -EINVAL, "parent %u is not a stage-2 domain", parent);
	} else if (!(d = calloc(1, sizeof(*d)))) {
		rc = fail(rp, -ENOMEM, "out of memory");
	} else {
		d->id = id;
		d->kind = DK_NESTED;
		d->parent = p;
		d->guest = true;
		d->g = *guest;
		rc = 0;
		if (rp->smmu) {
			/* The walk starts from the guest's CD table (S1ContextPtr). */
			d->cd_gpa = smmu_ste_field(rp, guest->ste, "S1ContextPtr");
		} else if ((rc = rp->arch->stage_cfg(rp->iommu, 1, guest->fs_levels, guest->fs_root,
						       &d->cfg))) {
			rc = fail(rp, rc, "the model has no %u-level first stage", guest->fs_levels);
		}
		if (!rc && (rc = dom_add(rp, d)))
			fail(rp, rc, "out of memory");
		if (rc)
			free(d);
	}
	rp->err = NULL;
	return rc;
}

int ims_replay_domain_free(struct ims_replay *rp, uint32_t id)
{
	struct domain *d = dom_find(rp, id);
	unsigned i;

	if (!d)
		return -ENOENT;
	if (d->natt)
		return -EBUSY;
	for (i = 0; i < rp->ndom; i++)
		if (rp->dorder[i]->parent == d)
			return -EBUSY;
	if (d->queued) {
		int rc = fq_flush(rp, d, true);

		if (rc)
			return rc;
	}
	if (d->timer_on)
		rp->timers--;
	/* Its tables go back to the frame pool: first the whole domain leaves
	 * the TLBs and walk caches (its tag may name a later domain), as
	 * Linux's domain free flushes the ASID / VMID. */
	if (d->kind != DK_NESTED) {
		uint64_t before = rp->st.inv_commands;
		int rc = inv_domain_all(rp, d, false, 0);
		if (!rc)
			rc = rp->st.inv_commands != before ? sync_and_run(rp) : kick(rp);
		if (rc)
			return rc;
		tables_release(rp, &d->cfg, d->cfg.root, d->cfg.levels - 1, true);
	}
	for (i = 0; i < rp->ndom && rp->dorder[i] != d; i++)
		;
	memmove(&rp->dorder[i], &rp->dorder[i + 1], (rp->ndom - i - 1) * sizeof(*rp->dorder));
	rp->ndom--;
	HASH_DEL(rp->domains, d);
	free(d->att);
	free(d->ring);
	free(d);
	return 0;
}

int ims_replay_domain_cfg(const struct ims_replay *rp, uint32_t id, struct ims_pt_cfg *cfg)
{
	struct domain *d = dom_find((struct ims_replay *)rp, id);

	if (!d)
		return -ENOENT;
	*cfg = d->cfg;
	return 0;
}

static int ev_detach(struct ims_replay *rp, const struct ims_event *ev)
{
	int idx, rc;
	struct domain *old = attached(rp, ev->dev, ev->has_pasid, ev->pasid, &idx);

	if (!old)
		return 0; /* nothing attached: nothing to do */
	rc = rp->smmu ? smmu_detach(rp, ev) : vtd_detach(rp, ev, old);
	att_del(old, idx);
	return rc;
}

/* The 4 KiB pages [*first, *end) that [iova, iova + size) touches (size 0 as 1). */
static void ev_pages(const struct ims_event *ev, uint64_t *first, uint64_t *end)
{
	*first = ev->iova & ~(PAGE_SIZE - 1);
	*end = (ev->iova + (ev->size ? ev->size : 1) + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
}

static unsigned perm_of(const struct ims_event *ev)
{
	unsigned p = ev->access & IMS_PERM_ALL;

	return p ? p : IMS_PERM_R | IMS_PERM_W;
}

/*
 * VMSAv8-64 stage-1 block and page descriptors: bit 11 nG (Arm ARM D8.3).
 * The shared stage-1 encoder makes global leaves; Linux's io-pgtable sets
 * nG on every stage-1 leaf (ARM_LPAE_PTE_NG), which CMD_TLBI_NH_ASID relies
 * on, so the replay sets it after mapping.
 */
#define VMSA_S1_NG BIT(11)
/*
 * Dirty state (Arm ARM D8.5.4): with CD.HA and CD.HD, a stage-1 leaf with
 * DBM (bit 51) set is writable; AP[2] (bit 7) = 1 says writable-clean and
 * the first write clears it (writable-dirty).  Linux's io-pgtable maps
 * writable leaves of a dirty-tracking domain with DBM and AP[2] = 0, so a
 * new mapping starts dirty until software cleans it.
 */
#define VMSA_DBM BIT(51)
#define VMSA_S1_AP2 BIT(7)

/* The physical address of the leaf entry mapping iova in d (0 if none). */
static uint64_t leaf_entry_pa(struct ims_replay *rp, struct domain *d, uint64_t iova)
{
	const struct ims_pt_cfg *c = &d->cfg;
	uint64_t table = c->root;

	for (int level = (int)c->levels - 1; level >= 0; level--) {
		unsigned shift = ims_pt_level_shift(c, (unsigned)level);
		uint64_t at = table + (((iova >> shift) & ims_mask_lg2(ims_pt_level_bits(c, (unsigned)level)))
				       << c->fmt->entry_lg2);
		uint64_t pa = at, e;
		unsigned lg2;
		struct ims_pte pte;

		if (d->kind == DK_NESTED &&
		    ims_pt_lookup(rp->mem, &d->parent->cfg, NULL, at, &pa, &lg2))
			return 0;
		if (ims_mem_read64(rp->mem, pa, &e) != IMS_MEM_OK)
			return 0;
		c->fmt->decode(c, (unsigned)level, e, &pte);
		if (pte.kind == IMS_PTE_LEAF)
			return pa;
		if (pte.kind != IMS_PTE_TABLE)
			return 0;
		table = pte.addr;
	}
	return 0;
}

static int map_one(struct ims_replay *rp, struct domain *d, uint64_t iova, uint64_t pa,
		   unsigned lg2, unsigned perm)
{
	const struct ims_pt_cfg *via = d->kind == DK_NESTED ? &d->parent->cfg : NULL;
	struct guest_ctx g = { .rp = rp, .parent = d->parent };
	ims_pt_alloc_fn alloc = d->kind == DK_NESTED ? guest_alloc : host_alloc;
	void *opaque = d->kind == DK_NESTED ? (void *)&g : (void *)rp;
	int rc = ims_pt_map(rp->mem, &d->cfg, via, iova, pa, lg2, perm, alloc, opaque);

	if (rc == -EEXIST) {
		/* A larger leaf is in the way: a map replaces what was mapped. */
		unsigned got = 0;

		if (!ims_pt_unmap(rp->mem, &d->cfg, via, iova, &got))
			rc = ims_pt_map(rp->mem, &d->cfg, via, iova, pa, lg2, perm, alloc, opaque);
	}
	if (!rc && rp->smmu && d->kind != DK_S2) {
		uint64_t at = leaf_entry_pa(rp, d, iova), e;
		uint64_t set = VMSA_S1_NG | (d->dirty && (perm & (IMS_PERM_W | IMS_PERM_PW)) ? VMSA_DBM : 0);

		if (at && ims_mem_read64(rp->mem, at, &e) == IMS_MEM_OK)
			ims_mem_write64(rp->mem, at, e | set);
	}
	return rc;
}

static int ev_map(struct ims_replay *rp, const struct ims_event *ev)
{
	struct domain *d;
	uint64_t off = ev->iova & (PAGE_SIZE - 1), iova, pa, end;
	unsigned perm = perm_of(ev);
	int rc;

	if ((ev->pa & (PAGE_SIZE - 1)) != off)
		return fail(rp, -EINVAL, "map: iova 0x%llx and pa 0x%llx differ within a 4 KiB page",
			    (unsigned long long)ev->iova, (unsigned long long)ev->pa);
	if ((rc = dom_get(rp, ev->domain, &d)))
		return rc;
	ev_pages(ev, &iova, &end);
	pa = ev->pa - off;
	rp->st.maps++;
	rp->st.mapped_pages += (end - iova) >> PAGE_LG2;
	while (iova < end) {
		unsigned lg2 = PAGE_LG2;

		/* The largest leaf the alignment and length allow. */
		for (int l = (int)d->cfg.levels - 1; l > 0; l--) {
			unsigned s = ims_pt_leaf_lg2(&d->cfg, (unsigned)l);

			if ((d->cfg.leaf_levels & (1u << l)) && s < 64 &&
			    !((iova | pa) & ims_mask_lg2(s)) && end - iova >= (UINT64_C(1) << s)) {
				lg2 = s;
				break;
			}
		}
		if ((rc = map_one(rp, d, iova, pa, lg2, perm)))
			return fail(rp, rc, "map: domain %u iova 0x%llx -> 0x%llx (2^%u bytes): %s",
				    d->id, (unsigned long long)iova, (unsigned long long)pa, lg2,
				    strerror(-rc));
		iova += UINT64_C(1) << lg2;
		pa += UINT64_C(1) << lg2;
	}
	return 0;
}

static int ev_unmap(struct ims_replay *rp, const struct ims_event *ev)
{
	struct domain *d;
	const struct ims_pt_cfg *via;
	uint64_t a, end;
	struct runs rs = { 0 };
	int rc = 0;

	if ((rc = dom_get(rp, ev->domain, &d)))
		return rc;
	via = d->kind == DK_NESTED ? &d->parent->cfg : NULL;
	ev_pages(ev, &a, &end);
	rp->st.unmaps++;
	rp->st.unmapped_pages += (end - a) >> PAGE_LG2;
	while (a < end) {
		unsigned lg2 = 0;

		rc = ims_pt_unmap(rp->mem, &d->cfg, via, a, &lg2);
		if (rc == -ENOENT) {
			rc = 0;
			a += PAGE_SIZE;
			continue;
		}
		if (rc) {
			rc = fail(rp, rc, "unmap: domain %u iova 0x%llx: %s", d->id,
				  (unsigned long long)a, strerror(-rc));
			goto out;
		}
		{
			uint64_t first = a & ~ims_mask_lg2(lg2);

			if (runs_add(&rs, first, lg2)) {
				rc = fail(rp, -ENOMEM, "out of memory");
				goto out;
			}
			a = first + (UINT64_C(1) << lg2);
		}
	}
	if (!rs.n || d->kind == DK_NESTED)
		goto out; /* nothing unmapped, or the guest invalidates */

	switch (rp->drv.policy) {
	case IMS_DRV_FQ:
	case IMS_DRV_SINGLE_FQ:
		rc = fq_queue(rp, d, ev->cpu);
		goto out;
	case IMS_DRV_STRICT:
	case IMS_DRV_RANGE:
		rc = inv_ranges(rp, d, &rs, rp->drv.leaf_hint, rp->drv.policy == IMS_DRV_RANGE,
				false, 0);
		break;
	case IMS_DRV_DOMAIN:
		rc = inv_domain_all(rp, d, false, 0);
		break;
	case IMS_DRV_GLOBAL:
		rc = inv_global(rp);
		break;
	}
	if (!rc && rp->pending)
		rc = sync_and_run(rp);
out:
	free(rs.r);
	return rc;
}

static int ev_inv(struct ims_replay *rp, const struct ims_event *ev)
{
	struct domain *d;
	int rc;

	if (ev->nwords) {
		struct ims_inv inv;
		uint32_t code;
		bool sync;

		if (ev->nwords > 4)
			return fail(rp, -EINVAL, "inv: %u words; at most 4", ev->nwords);
		if (rp->smmu && ev->nwords != 2)
			return fail(rp, -EINVAL, "inv: an SMMUv3 command is 2 words, not %u",
				    ev->nwords);
		sync = !ims_decode_inv(rp->iommu, ev->words, rp->smmu ? 2 : 4, &inv, &code) &&
		       (inv.targets & IMS_INV_T_SYNC);
		rc = push(rp, ev->words, ev->nwords, sync);
	} else if (ev->inv_kind == IMS_EV_INV_GLOBAL) {
		rc = inv_global(rp);
	} else if (!(d = dom_find(rp, ev->domain))) {
		return fail(rp, -EINVAL, "inv: domain %u is unknown", ev->domain);
	} else if (ev->inv_kind == IMS_EV_INV_PAGE) {
		struct run r = { .lg2 = PAGE_LG2 };
		struct runs rs = { .r = &r, .n = 1 };
		uint64_t end;

		ev_pages(ev, &r.first, &end);
		r.size = end - r.first;
		rc = inv_ranges(rp, d, &rs, ev->flags & IMS_EV_F_LEAF, false, ev->has_pasid,
				ev->pasid);
	} else if (ev->inv_kind == IMS_EV_INV_DOMAIN || ev->inv_kind == IMS_EV_INV_PASID) {
		bool pasid = ev->inv_kind == IMS_EV_INV_PASID;

		rc = inv_domain_all(rp, d, pasid, pasid ? ev->pasid : 0);
	} else {
		return fail(rp, -EINVAL, "inv: unknown kind %u", ev->inv_kind);
	}
	return rc ? rc : kick(rp);
}

static int ev_dma(struct ims_replay *rp, const struct ims_event *ev)
{
	const struct ims_stats *is = ims_iommu_stats(rp->iommu);
	uint64_t a = ev->iova, left = ev->size ? ev->size : 1;
	struct ims_txn t = { .sid = ev->dev, .pasid = ev->pasid, .has_pasid = ev->has_pasid,
			     .access = ev->access ? ev->access : IMS_ACC_READ,
			     .flags = IMS_TXN_NO_TRACE };

	rp->st.dmas++;
	while (left) {
		uint64_t in_page = PAGE_SIZE - (a & (PAGE_SIZE - 1));
		uint64_t n = left < in_page ? left : in_page, before = is->table_reads;
		int rc;

		t.addr = a;
		t.size = (uint32_t)n;
		rc = ims_translate(rp->iommu, &t, rp->res);
		if (rc)
			return fail(rp, rc, "dma: translating 0x%llx failed: %s",
				    (unsigned long long)a, strerror(-rc));
		rp->st.table_reads += is->table_reads - before;
		rp->st.dma_cycles += rp->res->cycles;
		rp->st.dma_pages++;
		if (!rp->res->ok)
			rp->st.dma_faults++;
		left -= n;
		a += n;
		if (!a && left)
			break; /* wrapped past the top */
	}
	return 0;
}

static int ev_write(struct ims_replay *rp, const struct ims_event *ev)
{
	uint64_t frame = ev->pa & ~(PAGE_SIZE - 1), v = ev->words[0];
	uint8_t b[8];
	int rc;

	for (uint64_t f = frame; f <= ((ev->pa + 7) & ~(PAGE_SIZE - 1)); f += PAGE_SIZE)
		if (!ims_mem_is_backed(rp->mem, f, PAGE_SIZE) &&
		    (rc = ims_mem_add_ram(rp->mem, f, PAGE_SIZE)))
			return fail(rp, rc, "write: no memory at 0x%llx", (unsigned long long)f);
	for (unsigned i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	if (ims_mem_write(rp->mem, ev->pa, b, 8) != IMS_MEM_OK)
		return fail(rp, -EFAULT, "write: 0x%llx aborted", (unsigned long long)ev->pa);
	return 0;
}

/* ---- Dirty state of host domains (iommufd's dirty tracking) ---- */

/*
 * Which domains record dirty state, as Linux drives the hardware: VT-d
 * second-stage domains (SSADE, spec 3.7.2; Linux 6.x allocates dirty-tracking
 * domains on the second stage), SMMUv3 stage-1 domains (CD.HA/HD with DBM
 * leaves, arm-smmu-v3's IO_PGTABLE_QUIRK_ARM_HD).
 */
static bool dirty_kind(const struct ims_replay *rp, const struct domain *d)
{
	return rp->smmu ? d->kind == DK_S1 : d->kind == DK_S2;
}

/* The hardware can update dirty state: ECAP.SSADS (11.4.3) / IDR0.HTTU = 2 (6.3.1). */
static bool dirty_capable(const struct ims_replay *rp)
{
	if (rp->smmu)
		return FIELD_GET(SMMU_IDR0_HTTU, rp->idr[0]) == SMMU_HTTU_AD;
	return rp->ecap & VTD_ECAP_SSADS;
}

/* VT-d second-stage leaf bit 9: D, set by hardware on a write with SSADE (9.8, 3.7.2). */
#define VTD_SS_D BIT(9)

/* Does leaf entry e say it was written (and the write was recorded)? */
static bool leaf_is_dirty(const struct ims_replay *rp, uint64_t e)
{
	if (rp->smmu)
		return (e & VMSA_DBM) && !(e & VMSA_S1_AP2); /* writable-dirty */
	return e & VTD_SS_D;
}

/* e made clean: D cleared, or AP[2] set (writable-clean, D8.5.4). */
static uint64_t leaf_clean(const struct ims_replay *rp, uint64_t e)
{
	return rp->smmu ? e | VMSA_S1_AP2 : e & ~VTD_SS_D;
}

/* A visit of one leaf: where its entry is, its value, the IOVA its page
 * starts at and log2 of the page size. */
typedef int (*leaf_visit_fn)(struct ims_replay *rp, uint64_t pa, uint64_t e, uint64_t va,
			     unsigned lg2, void *arg);

#define LEAF_CHUNK 512 /* entries read at once */

/*
 * Visit each leaf of host domain d's tables that maps part of [first,
 * last], reading entries as software reads its own tables: straight from
 * memory, a chunk of a table at a time, with no A/D updates and no caches.
 * Every format here has 8-byte little-endian entries.
 */
static int leaf_walk(struct ims_replay *rp, const struct domain *d, uint64_t table,
		     unsigned level, uint64_t va, uint64_t first, uint64_t last, leaf_visit_fn fn,
		     void *arg)
{
	const struct ims_pt_cfg *c = &d->cfg;
	unsigned shift = ims_pt_level_shift(c, level);
	uint64_t nent = UINT64_C(1) << ims_pt_level_bits(c, level);
	uint64_t i = first > va ? (first - va) >> shift : 0;
	uint64_t end = ((last - va) >> shift) + 1;
	uint64_t buf[LEAF_CHUNK];
	int rc;

	if (end > nent)
		end = nent;
	while (i < end) {
		unsigned n = end - i < LEAF_CHUNK ? (unsigned)(end - i) : LEAF_CHUNK;

		if (ims_mem_read(rp->mem, table + 8 * i, buf, 8 * (size_t)n) != IMS_MEM_OK)
			return fail(rp, -EFAULT, "cannot read a table of domain %u at 0x%llx", d->id,
				    (unsigned long long)(table + 8 * i));
		for (unsigned k = 0; k < n; k++, i++) {
			uint64_t a = va + (i << shift);
			struct ims_pte pte;

			if (!buf[k])
				continue;
			c->fmt->decode(c, level, buf[k], &pte);
			if (pte.kind == IMS_PTE_LEAF)
				rc = fn(rp, table + 8 * i, buf[k], a, pte.size_lg2, arg);
			else if (pte.kind == IMS_PTE_TABLE && level > 0)
				rc = leaf_walk(rp, d, pte.addr, level - 1, a, first, last, fn, arg);
			else
				rc = 0;
			if (rc)
				return rc;
		}
	}
	return 0;
}

static int walk_all(struct ims_replay *rp, const struct domain *d, uint64_t first,
		    uint64_t last, leaf_visit_fn fn, void *arg)
{
	return leaf_walk(rp, d, d->cfg.root, d->cfg.levels - 1u, 0, first, last, fn, arg);
}

static int write_entry(struct ims_replay *rp, uint64_t pa, uint64_t e)
{
	if (ims_mem_write64(rp->mem, pa, e) != IMS_MEM_OK)
		return fail(rp, -EFAULT, "cannot write the entry at 0x%llx", (unsigned long long)pa);
	return 0;
}

/*
 * VT-d: SSADE = on in every PASID entry that walks d's second stage (its
 * own attachments and those of nested domains over it), each followed by
 * a PASID-selective PASID-cache invalidation and a domain-selective IOTLB
 * invalidation of the entry's DID, as Linux's
 * intel_pasid_setup_dirty_tracking does (spec 6.5.2.1, 6.5.2.2; table
 * "Guidance to Software for Invalidations").  The caller waits.
 */
static int vtd_put_ssade(struct ims_replay *rp, struct domain *d, bool on)
{
	struct vtd_range dsi = { .page = false };
	struct fv f = { "SSADE", on };

	for (unsigned i = 0; i < rp->ndom; i++) {
		struct domain *x = rp->dorder[i];

		if (x != d && x->parent != d)
			continue;
		for (unsigned k = 0; k < x->natt; k++) {
			struct device *v = dev_get(rp, x->att[k].dev);
			uint32_t pasid = x->att[k].has_pasid ? x->att[k].pasid : 0;
			uint64_t pe = 0, w[2];
			int rc;

			if (!v)
				return fail(rp, -ENOMEM, "out of memory");
			if ((rc = vtd_pasid_entry_pa(rp, v, pasid, &pe)) ||
			    (rc = put(rp, SD_PE, pe, true, &f, 1)))
				return rc;
			vtd_desc_pc_pasid(w, (uint16_t)x->id, pasid);
			if ((rc = cmd(rp, w)) || (rc = vtd_iotlb_did(rp, x->id, &dsi)))
				return rc;
		}
	}
	return 0;
}

/* SMMUv3: rewrite every CD of d (HA/HD follow d->dirty), CMD_CFGI_CD each. */
static int smmu_put_cds(struct ims_replay *rp, struct domain *d)
{
	for (unsigned k = 0; k < d->natt; k++) {
		struct device *v = dev_get(rp, d->att[k].dev);
		uint32_t ssid = d->att[k].has_pasid ? d->att[k].pasid : 0;
		uint64_t cd = 0, w[2];
		int rc;

		if (!v)
			return fail(rp, -ENOMEM, "out of memory");
		if ((rc = smmu_cd_pa(rp, v, ssid, &cd)) || (rc = smmu_put_cd(rp, cd, d)))
			return rc;
		smmu_cmd_cfgi_cd(w, v->sid, ssid, true);
		if ((rc = cmd(rp, w)))
			return rc;
	}
	return 0;
}

/* Writable stage-1 leaves (AP[2] = 0) get DBM: writable-dirty, as Linux maps them. */
static int dbm_set_fn(struct ims_replay *rp, uint64_t pa, uint64_t e, uint64_t va, unsigned lg2,
		      void *arg)
{
	(void)va, (void)lg2, (void)arg;
	if ((e & VMSA_S1_AP2) || (e & VMSA_DBM))
		return 0;
	return write_entry(rp, pa, e | VMSA_DBM);
}

/* Leaves with DBM become plainly writable again (DBM = 0, AP[2] = 0). */
static int dbm_clear_fn(struct ims_replay *rp, uint64_t pa, uint64_t e, uint64_t va,
			unsigned lg2, void *arg)
{
	(void)va, (void)lg2, (void)arg;
	if (!(e & VMSA_DBM))
		return 0;
	return write_entry(rp, pa, e & ~(VMSA_DBM | VMSA_S1_AP2));
}

/*
 * SMMUv3 stage 1.  On: the CDs first (so that writable-clean leaves stay
 * writable), then DBM in the leaves.  Off: the leaves first, then the CDs.
 * Then the ASID's TLB entries go.  The caller waits.
 */
static int smmu_set_dirty(struct ims_replay *rp, struct domain *d, bool on)
{
	int rc;

	d->dirty = on;
	if (on)
		rc = smmu_put_cds(rp, d);
	else
		rc = walk_all(rp, d, 0, UINT64_MAX, dbm_clear_fn, NULL);
	if (!rc && on)
		rc = walk_all(rp, d, 0, UINT64_MAX, dbm_set_fn, NULL);
	else if (!rc)
		rc = smmu_put_cds(rp, d);
	if (!rc)
		rc = inv_domain_all(rp, d, false, 0);
	return rc;
}

int ims_replay_domain_set_dirty(struct ims_replay *rp, uint32_t id, bool on, char *err,
				size_t errlen)
{
	struct domain *d = dom_find(rp, id);
	int rc;

	rp->err = err;
	rp->errlen = errlen;
	if (!d) {
		rc = fail(rp, -ENOENT, "domain %u does not exist", id);
	} else if (!dirty_kind(rp, d)) {
		rc = fail(rp, -EOPNOTSUPP,
			  "unimplemented: dirty state of domain %u (VT-d: second-stage domains; "
			  "SMMUv3: stage-1 domains)",
			  id);
	} else if (!dirty_capable(rp)) {
		rc = fail(rp, -EOPNOTSUPP,
			  "the model has no hardware dirty state (VT-d ECAP.SSADS, SMMUv3 "
			  "IDR0.HTTU = 2)");
	} else if (d->dirty == on) {
		rc = 0;
	} else {
		if (rp->smmu) {
			rc = smmu_set_dirty(rp, d, on);
		} else {
			d->dirty = on;
			rc = vtd_put_ssade(rp, d, on);
		}
		if (!rc && rp->pending)
			rc = sync_and_run(rp);
		if (rc) {
			/* Put back what was there; the first error is the one reported. */
			char *keep = rp->err;

			rp->err = NULL;
			if (rp->smmu)
				smmu_set_dirty(rp, d, !on);
			else {
				d->dirty = !on;
				vtd_put_ssade(rp, d, !on);
			}
			if (rp->pending)
				sync_and_run(rp);
			rp->err = keep;
		}
	}
	rp->err = NULL;
	return rc;
}

struct dirty_read {
	void (*record)(void *arg, uint64_t iova, uint64_t size);
	void *arg;
	bool clear;
	struct runs rs; /* the leaves cleaned */
};

static int dirty_read_fn(struct ims_replay *rp, uint64_t pa, uint64_t e, uint64_t va,
			 unsigned lg2, void *arg)
{
	struct dirty_read *r = arg;
	int rc;

	if (!leaf_is_dirty(rp, e))
		return 0;
	if (r->record)
		r->record(r->arg, va, UINT64_C(1) << lg2);
	if (!r->clear)
		return 0;
	if ((rc = write_entry(rp, pa, leaf_clean(rp, e))))
		return rc;
	return runs_add(&r->rs, va, lg2) ? fail(rp, -ENOMEM, "out of memory") : 0;
}

int ims_replay_domain_read_dirty(struct ims_replay *rp, uint32_t id, uint64_t iova,
				 uint64_t last, bool clear,
				 void (*record)(void *arg, uint64_t iova, uint64_t size), void *arg,
				 char *err, size_t errlen)
{
	struct domain *d = dom_find(rp, id);
	struct dirty_read r = { .record = record, .arg = arg, .clear = clear };
	int rc, rc2 = 0;

	rp->err = err;
	rp->errlen = errlen;
	if (!d) {
		rc = fail(rp, -ENOENT, "domain %u does not exist", id);
	} else if (!dirty_kind(rp, d)) {
		rc = fail(rp, -EOPNOTSUPP, "unimplemented: dirty state of domain %u", id);
	} else if (iova > last) {
		rc = fail(rp, -EINVAL, "range 0x%llx-0x%llx is empty", (unsigned long long)iova,
			  (unsigned long long)last);
	} else {
		rc = walk_all(rp, d, iova, last, dirty_read_fn, &r);
		/*
		 * The IOTLB may hold cleaned pages with their write already
		 * done (a write through such an entry would not walk, so not
		 * record): invalidate what was cleaned, leaf-only, and wait.
		 */
		if (r.rs.n)
			rc2 = inv_ranges(rp, d, &r.rs, true, false, false, 0);
		if (!rc2 && rp->pending)
			rc2 = sync_and_run(rp);
		if (!rc)
			rc = rc2;
	}
	free(r.rs.r);
	rp->err = NULL;
	return rc;
}

int ims_replay_event(struct ims_replay *rp, const struct ims_event *ev, char *err, size_t errlen)
{
	int rc = 0;

	rp->err = err;
	rp->errlen = errlen;
	if (!rp->started) {
		rp->st.ts_first = ev->ts_ns;
		rp->started = true;
	}
	rp->st.events++;
	if (ev->ts_ns > rp->now)
		rp->now = ev->ts_ns;
	rp->st.ts_last = rp->now;
	if ((rc = fq_timers(rp)))
		goto out;
	switch (ev->type) {
	case IMS_EV_ATTACH:
		rc = ev_attach(rp, ev);
		break;
	case IMS_EV_DETACH:
		rc = ev_detach(rp, ev);
		break;
	case IMS_EV_MAP:
		rc = ev_map(rp, ev);
		break;
	case IMS_EV_UNMAP:
		rc = ev_unmap(rp, ev);
		break;
	case IMS_EV_DMA:
		rc = ev_dma(rp, ev);
		break;
	case IMS_EV_INV:
		rc = ev_inv(rp, ev);
		break;
	case IMS_EV_SYNC:
		rc = sync_and_run(rp);
		break;
	case IMS_EV_WRITE:
		rc = ev_write(rp, ev);
		break;
	case IMS_EV_FAULT:
	case IMS_EV_TICK:
		break;
	default:
		rc = fail(rp, -EINVAL, "unknown event type %u", ev->type);
		break;
	}
out:
	rp->st.inv_cycles = ims_iommu_stats(rp->iommu)->inv_cycles - rp->base_inv_cycles;
	if (rc && err && errlen) {
		char msg[512];

		snprintf(msg, sizeof(msg), "%s", err);
		snprintf(err, errlen, "event %llu (%s): %s", (unsigned long long)rp->st.events,
			 ims_ev_type_name(ev->type), msg);
	}
	rp->err = NULL;
	return rc;
}

int ims_replay_finish(struct ims_replay *rp)
{
	int rc = 0;

	for (unsigned i = 0; !rc && i < rp->ndom; i++)
		if (rp->dorder[i]->queued || rp->dorder[i]->timer_on)
			rc = fq_flush(rp, rp->dorder[i], true);
	if (!rc)
		rc = kick(rp);
	rp->st.inv_cycles = ims_iommu_stats(rp->iommu)->inv_cycles - rp->base_inv_cycles;
	return rc;
}

const struct ims_replay_stats *ims_replay_stats(const struct ims_replay *rp)
{
	return &rp->st;
}

void ims_replay_free(struct ims_replay *rp)
{
	struct domain *d, *dt;
	struct device *v, *vt;

	if (!rp)
		return;
	HASH_ITER(hh, rp->domains, d, dt) {
		HASH_DEL(rp->domains, d);
		free(d->att);
		free(d->ring);
		free(d);
	}
	HASH_ITER(hh, rp->devices, v, vt) {
		HASH_DEL(rp->devices, v);
		free(v->cd_l2);
		free(v);
	}
	for (unsigned i = 0; i < 64; i++)
		free(rp->freed[i].pa);
	free(rp->dorder);
	free(rp->l2ste);
	free(rp->res);
	free(rp);
}

/* ---- Setting up ---- */

static int setup_vtd(struct ims_replay *rp)
{
	uint64_t q;
	int rc;

	rp->cap = vtd_cap(rp->iommu);
	rp->ecap = vtd_ecap(rp->iommu);
	if (!(rp->ecap & VTD_ECAP_SMTS))
		return fail(rp, -EOPNOTSUPP,
			    "unimplemented: replay on VT-d without scalable mode (ECAP.SMTS)");
	if (!(rp->ecap & VTD_ECAP_QI))
		return fail(rp, -EOPNOTSUPP,
			    "unimplemented: replay on VT-d without queued invalidation (ECAP.QI)");
	rp->qentry_bytes = 32;
	rp->qentries = (unsigned)((PAGE_SIZE << VTD_QS) / rp->qentry_bytes);
	if ((rc = frames(rp, PAGE_SIZE, &rp->root)) ||
	    (rc = frames(rp, PAGE_SIZE << VTD_QS, &rp->qbase)) ||
	    (rc = frames(rp, PAGE_SIZE, &rp->status_addr)))
		return rc;
	q = rp->qbase | VTD_IQA_DW | FIELD_PREP(VTD_IQA_QS, VTD_QS);
	if ((rc = ims_iommu_set_reg(rp->iommu, "RTADDR",
				    rp->root | FIELD_PREP(VTD_RTADDR_TTM, VTD_TTM_SCALABLE))) ||
	    (rc = ims_iommu_set_reg(rp->iommu, "TE", 1)) ||
	    (rc = ims_iommu_set_reg(rp->iommu, "IQA", q)) ||
	    (rc = ims_iommu_set_reg(rp->iommu, "QIE", 1)))
		return fail(rp, rc, "programming the VT-d registers failed: %s", strerror(-rc));
	return 0;
}

static int setup_smmu(struct ims_replay *rp)
{
	unsigned sidsize, ssidsize, cmdqs, evtqs;
	uint64_t evq, cfgv;
	int rc;

	for (unsigned i = 0; i < 6; i++)
		rp->idr[i] = smmu_idr(rp->iommu, i);
	rp->oas_code = (unsigned)FIELD_GET(SMMU_IDR5_OAS, rp->idr[5]);
	if (smmu_oas_bits[rp->oas_code & 7] && smmu_oas_bits[rp->oas_code & 7] < 64) {
		uint64_t top = UINT64_C(1) << smmu_oas_bits[rp->oas_code & 7];

		if (rp->frame_end > top) {
			rp->frame_next = top >> 1;
			rp->frame_end = top;
		}
	}
	sidsize = (unsigned)FIELD_GET(SMMU_IDR1_SIDSIZE, rp->idr[1]);
	ssidsize = (unsigned)FIELD_GET(SMMU_IDR1_SSIDSIZE, rp->idr[1]);
	cmdqs = (unsigned)FIELD_GET(SMMU_IDR1_CMDQS, rp->idr[1]);
	evtqs = (unsigned)FIELD_GET(SMMU_IDR1_EVENTQS, rp->idr[1]);
	rp->st_2lvl = FIELD_GET(SMMU_IDR0_ST_LEVEL, rp->idr[0]) == 1 && sidsize > SMMU_SPLIT;
	rp->st_log2 = sidsize > (rp->st_2lvl ? 20u : 12u) ? (rp->st_2lvl ? 20u : 12u) : sidsize;
	rp->cd2l = (rp->idr[0] & SMMU_IDR0_CD2L) && ssidsize > 6;
	rp->cdmax = ssidsize > (rp->cd2l ? 15u : 6u) ? (rp->cd2l ? 15u : 6u) : ssidsize;
	rp->qlog2 = cmdqs > 10 ? 10 : cmdqs;
	rp->qentries = 1u << rp->qlog2;
	rp->qentry_bytes = 16;
	if (rp->qentries < 2)
		return fail(rp, -EOPNOTSUPP, "unimplemented: a command queue of one entry");
	if (evtqs > 7)
		evtqs = 7;
	{
		uint64_t stbytes = rp->st_2lvl ? UINT64_C(8) << (rp->st_log2 - SMMU_SPLIT)
					       : UINT64_C(64) << rp->st_log2;
		uint64_t qb = UINT64_C(16) << rp->qlog2, eb = UINT64_C(32) << evtqs;

		if ((rc = frames(rp, stbytes, &rp->strtab)) || (rc = frames(rp, qb, &rp->qbase)) ||
		    (rc = frames(rp, eb, &evq)) ||
		    (rc = frames(rp, PAGE_SIZE, &rp->status_addr)))
			return rc;
	}
	if (rp->st_2lvl &&
	    !(rp->l2ste = calloc(UINT64_C(1) << (rp->st_log2 - SMMU_SPLIT), sizeof(uint64_t))))
		return fail(rp, -ENOMEM, "out of memory");
	cfgv = FIELD_PREP(SMMU_STRTAB_CFG_LOG2SIZE, rp->st_log2) |
	       (rp->st_2lvl ? FIELD_PREP(SMMU_STRTAB_CFG_SPLIT, SMMU_SPLIT) |
				      FIELD_PREP(SMMU_STRTAB_CFG_FMT, 1)
			    : 0);
	if ((rc = ims_iommu_set_reg(rp->iommu, "STRTAB_BASE", rp->strtab)) ||
	    (rc = ims_iommu_set_reg(rp->iommu, "STRTAB_BASE_CFG", cfgv)) ||
	    (rc = ims_iommu_set_reg(rp->iommu, "CMDQ_BASE",
				    rp->qbase | FIELD_PREP(SMMU_Q_BASE_LOG2SIZE, rp->qlog2))) ||
	    (rc = ims_iommu_set_reg(rp->iommu, "EVENTQ_BASE",
				    evq | FIELD_PREP(SMMU_Q_BASE_LOG2SIZE, evtqs))) ||
	    (rc = ims_iommu_set_reg(rp->iommu, "CR0",
				    SMMU_CR0_SMMUEN | SMMU_CR0_EVENTQEN | SMMU_CR0_CMDQEN)))
		return fail(rp, rc, "programming the SMMUv3 registers failed: %s", strerror(-rc));
	/* The stream table starts with every STE invalid: nothing cached to drop. */
	return 0;
}

int ims_replay_new(struct ims_iommu *iommu, const struct ims_driver_cfg *drv, uint64_t seed,
		   struct ims_replay **out, char *err, size_t errlen)
{
	static const char *const names[6] = { "vtd.sm_root_entry", "vtd.sm_context_entry",
					       "vtd.pasid_dir_entry", "vtd.pasid_entry",
					       "smmu.ste", "smmu.cd" };
	struct ims_replay *rp;
	enum ims_arch arch;
	unsigned bits;
	int rc;

	if (!iommu || !drv || !out) {
		if (err && errlen)
			snprintf(err, errlen, "replay: missing instance, driver model or result");
		return -EINVAL;
	}
	rp = calloc(1, sizeof(*rp));
	if (!rp || !(rp->res = calloc(1, sizeof(*rp->res)))) {
		free(rp);
		if (err && errlen)
			snprintf(err, errlen, "replay: out of memory");
		return -ENOMEM;
	}
	rp->err = err;
	rp->errlen = errlen;
	rp->iommu = iommu;
	rp->mem = ims_iommu_mem(iommu);
	rp->arch = ims_iommu_arch(iommu);
	rp->drv = *drv;
	rp->seed = seed;
	arch = ims_model_arch(ims_iommu_model(iommu));
	if (arch != IMS_ARCH_VTD && arch != IMS_ARCH_SMMUV3) {
		rc = fail(rp, -EOPNOTSUPP, "unimplemented: replay on a %s instance",
			  ims_arch_name(arch));
		goto bad;
	}
	if ((drv->policy == IMS_DRV_FQ || drv->policy == IMS_DRV_SINGLE_FQ) && drv->fq_size < 2) {
		rc = fail(rp, -EINVAL, "driver %s: fq_size must be at least 2", drv->name);
		goto bad;
	}
	if (drv->stage != 1 && drv->stage != 2) {
		rc = fail(rp, -EINVAL, "driver %s: stage must be 1 or 2", drv->name);
		goto bad;
	}
	rp->smmu = arch == IMS_ARCH_SMMUV3;
	for (unsigned i = rp->smmu ? 4 : 0; i < (rp->smmu ? 6u : 4u); i++)
		if (!(rp->sd[i] = ims_struct_find(iommu, names[i]))) {
			rc = fail(rp, -EOPNOTSUPP, "unimplemented: no structure %s", names[i]);
			goto bad;
		}
	/* Table memory: the top half of the physical address space. */
	bits = ims_mem_pa_bits(rp->mem);
	if (bits < 24) {
		rc = fail(rp, -EOPNOTSUPP, "unimplemented: a %u-bit physical address space", bits);
		goto bad;
	}
	rp->frame_next = UINT64_C(1) << (bits - 1);
	rp->frame_end = bits >= 64 ? UINT64_MAX : UINT64_C(1) << bits;
	rc = rp->smmu ? setup_smmu(rp) : setup_vtd(rp);
	if (rc)
		goto bad;
	rp->base_inv_cycles = ims_iommu_stats(iommu)->inv_cycles;
	rp->err = NULL;
	*out = rp;
	return 0;
bad:
	ims_replay_free(rp);
	return rc;
}
