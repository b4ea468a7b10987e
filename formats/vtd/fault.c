/*
 * fault.c - VT-d fault reasons and the primary fault log.
 *
 * Reference: VT-d spec rev 4.x, 7.1.3 (non-recoverable fault conditions and
 * their reason codes, legacy and scalable mode), 7.2.1 (primary fault
 * logging), 11.4.14 (fault recording registers), 11.4.10 (FSTS_REG).
 *
 * Primary fault logging, as modelled (7.2.1):
 *  1. A fault whose configuration has FPD set is not recorded.
 *  2. If FSTS.PFO is set, the fault is dropped.
 *  3. If the record at the hardware's next index still has F set (software
 *     has not cleared it), FSTS.PFO is set and the fault is dropped.
 *  4. Otherwise the record is written with F=1 and the index moves on,
 *     wrapping after the last record (NFR+1 records).
 * FSTS.PPF is set while any record has F set; FSTS.FRI is the index of the
 * record written when PPF last went from clear to set (11.4.10: "the fault
 * recording register to which the first pending fault was recorded when the
 * PPF field was Set by hardware").  Fault collapsing (7.2.1, optional) is
 * not modelled: every fault is recorded.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine/bits.h"
#include "formats/vtd/vtd_int.h"

struct vtd_fault_log {
	unsigned n, next;
	unsigned fri;          /* FSTS.FRI, latched when PPF is set */
	bool pfo;
	struct vtd_fault_rec rec[];
};

/* Fault record fields (11.4.14); hi is bits 127:64. */
#define VTD_FRCD_0_FI GENMASK(63, 12)   /* 63:12 fault information */
#define VTD_FRCD_1_SID GENMASK(15, 0)   /* 79:64 source id */
#define VTD_FRCD_1_PRIV BIT(29)         /* 93 privilege mode requested */
#define VTD_FRCD_1_EXE BIT(30)          /* 94 execute requested */
#define VTD_FRCD_1_PP BIT(31)           /* 95 PASID present */
#define VTD_FRCD_1_FR GENMASK(39, 32)   /* 103:96 fault reason */
#define VTD_FRCD_1_PV GENMASK(59, 40)   /* 123:104 PASID value */
#define VTD_FRCD_1_AT GENMASK(61, 60)   /* 125:124 address type */
#define VTD_FRCD_1_T BIT(62)            /* 126 type: 1 read, 0 write */
#define VTD_FRCD_1_F BIT(63)            /* 127 fault */

static const struct {
	uint8_t code;
	const char *name;
} reasons[] = {
	{ 0x01, "root entry not present" },
	{ 0x02, "context entry not present" },
	{ 0x03, "invalid context entry" },
	{ 0x04, "address beyond MGAW / AGAW" },
	{ 0x05, "write to a page without write permission" },
	{ 0x06, "read of a page without read permission" },
	{ 0x07, "error accessing a second-stage paging entry" },
	{ 0x08, "error accessing the root entry" },
	{ 0x09, "error accessing the context entry" },
	{ 0x0a, "reserved field set in a present root entry" },
	{ 0x0b, "reserved field set in a present context entry" },
	{ 0x0c, "reserved field set in a second-stage paging entry" },
	{ 0x0d, "request blocked by the context entry's translation type" },
	{ 0x0e, "output address in the interrupt address range" },
	{ 0x30, "SM: invalid root table address (TTM)" },
	{ 0x31, "SM: request with PASID while TTM is legacy" },
	{ 0x38, "SM: error accessing the root entry" },
	{ 0x39, "SM: root entry not present" },
	{ 0x3a, "SM: reserved field set in the root entry" },
	{ 0x40, "SM: error accessing the context entry" },
	{ 0x41, "SM: context entry not present" },
	{ 0x42, "SM: reserved field set in the context entry" },
	{ 0x43, "SM: invalid context entry" },
	{ 0x44, "SM: DTE clear in the context entry" },
	{ 0x45, "SM: PASID enable clear in the context entry" },
	{ 0x46, "SM: PASID larger than the PASID directory (PDTS)" },
	{ 0x47, "SM: PRE clear in the context entry" },
	{ 0x48, "SM: RID_PASID error in the context entry" },
	{ 0x50, "SM: error accessing the PASID directory entry" },
	{ 0x51, "SM: PASID directory entry not present" },
	{ 0x52, "SM: reserved field set in the PASID directory entry" },
	{ 0x58, "SM: error accessing the PASID table entry" },
	{ 0x59, "SM: PASID table entry not present" },
	{ 0x5a, "SM: reserved field set in the PASID table entry" },
	{ 0x5b, "SM: invalid PASID table entry" },
	{ 0x5c, "SM: ERE clear in the PASID table entry" },
	{ 0x5d, "SM: supervisor request with SRE clear in the PASID table entry" },
	{ 0x70, "SM: error accessing a first-stage paging entry" },
	{ 0x71, "SM: first-stage paging entry not present" },
	{ 0x72, "SM: reserved field set in a first-stage paging entry" },
	{ 0x73, "SM: error accessing the first-stage root (FSPTPTR) entry" },
	{ 0x74, "SM: first-stage address beyond MGAW in nested translation" },
	{ 0x75, "SM: no stage-2 read permission for the first-stage root table (nested)" },
	{ 0x76, "SM: no stage-2 read permission for a first-stage table (nested)" },
	{ 0x77, "SM: no stage-2 write permission for a first-stage A/D update (nested)" },
	{ 0x78, "SM: error accessing a second-stage paging entry" },
	{ 0x79, "SM: second-stage paging entry not present (R=W=0)" },
	{ 0x7a, "SM: reserved field set in a second-stage paging entry" },
	{ 0x7b, "SM: invalid second-stage page table pointer" },
	{ 0x7c, "SM: second-stage A/D update needed with no snoop" },
	{ 0x80, "SM: non-canonical first-stage input address" },
	{ 0x81, "SM: user request to a supervisor page (U/S=0)" },
	{ 0x82, "SM: execute request to a page without execute permission" },
	{ 0x83, "SM: input address beyond the hardware's address width" },
	{ 0x84, "SM: second-stage address beyond the host address width" },
	{ 0x85, "SM: write request without write permission" },
	{ 0x86, "SM: read request without read permission" },
	{ 0x87, "SM: output address in the interrupt address range" },
	{ 0x90, "SM: first-stage A/D update needed with no snoop" },
	{ 0x91, "SM: first-stage A/D update failed" },
};

const char *vtd_fault_reason_name(unsigned reason)
{
	for (size_t i = 0; i < IMS_ARRAY_SIZE(reasons); i++)
		if (reasons[i].code == reason)
			return reasons[i].name;
	return NULL;
}

/* A permission fault: which right was missing, in the spec's terms. */
static unsigned perm_reason(const struct ims_fault *f, unsigned access, bool scalable)
{
	bool user = !(access & IMS_ACC_PRIV);

	if (!scalable)
		return (f->missing & (IMS_PERM_W | IMS_PERM_PW)) ? VTD_FR_WRITE : VTD_FR_READ;
	/* A user request to a page that some first-stage level marks supervisor. */
	if (user && f->stage == 1 && !(f->have & IMS_PERM_R))
		return VTD_FR_SM_US;
	if (f->missing & (IMS_PERM_W | IMS_PERM_PW))
		return VTD_FR_SM_WRITE;
	if (f->missing & (IMS_PERM_X | IMS_PERM_PX))
		return VTD_FR_SM_XD;
	return VTD_FR_SM_READ;
}

unsigned vtd_fault_reason(const struct ims_xlate_cfg *cfg, const struct ims_fault *f,
			  bool scalable, unsigned access)
{
	bool nested = cfg->mode == IMS_XM_NESTED;

	switch (f->kind) {
	case IMS_FK_CONFIG:
	case IMS_FK_ABORT:
		return f->arch_code;
	default:
		break;
	}
	if (!scalable) {
		/* Legacy mode has only the second stage. */
		switch (f->kind) {
		case IMS_FK_EXT_ABORT:
		case IMS_FK_AD_UPDATE:
			return VTD_FR_PTE_ACCESS;
		case IMS_FK_RESERVED:
			return VTD_FR_PTE_RSVD;
		case IMS_FK_ADDR_SIZE:
			return VTD_FR_ADDR_BEYOND_MGAW;
		case IMS_FK_TRANSLATION:
			return (access & IMS_ACC_WRITE) ? VTD_FR_WRITE : VTD_FR_READ;
		default:
			return perm_reason(f, access, false);
		}
	}
	if (f->on_table_fetch) {
		/* Stage 2 failed while translating a first-stage table address. */
		bool root = f->level == (int)cfg->s1.levels - 1;

		switch (f->kind) {
		case IMS_FK_AD_UPDATE:
			return VTD_FR_SM_FS_NESTED_WRITE;
		case IMS_FK_EXT_ABORT:
			return VTD_FR_SM_SS_ACCESS;
		case IMS_FK_RESERVED:
			return VTD_FR_SM_SS_RSVD;
		case IMS_FK_ADDR_SIZE:
			return VTD_FR_SM_FS_NESTED_ADDR;
		default:
			return root ? VTD_FR_SM_FSPTPTR_NESTED_READ : VTD_FR_SM_FS_NESTED_READ;
		}
	}
	if (f->stage == 1) {
		switch (f->kind) {
		case IMS_FK_EXT_ABORT:
			return f->level == (int)cfg->s1.levels - 1 ? VTD_FR_SM_FSPTPTR_ACCESS
								    : VTD_FR_SM_FS_ACCESS;
		case IMS_FK_TRANSLATION:
			return VTD_FR_SM_FS_NOT_PRESENT;
		case IMS_FK_RESERVED:
			return VTD_FR_SM_FS_RSVD;
		case IMS_FK_NON_CANONICAL:
			return VTD_FR_SM_NON_CANONICAL;
		case IMS_FK_ADDR_SIZE:
			return nested ? VTD_FR_SM_FS_NESTED_ADDR : VTD_FR_SM_ADDR_BEYOND;
		case IMS_FK_AD_UPDATE:
			return VTD_FR_SM_FS_AD_FAILED;
		default:
			return perm_reason(f, access, true);
		}
	}
	/* Stage 2: the final address, or the only stage. */
	switch (f->kind) {
	case IMS_FK_EXT_ABORT:
	case IMS_FK_AD_UPDATE:
		return VTD_FR_SM_SS_ACCESS;
	case IMS_FK_TRANSLATION:
		return VTD_FR_SM_SS_PERM;
	case IMS_FK_RESERVED:
		return VTD_FR_SM_SS_RSVD;
	case IMS_FK_ADDR_SIZE:
		if (f->level >= 0 && f->fetch_addr)
			return VTD_FR_SM_SS_ADDR_BEYOND;
		return nested ? VTD_FR_SM_FS_NESTED_ADDR : VTD_FR_SM_ADDR_BEYOND;
	default:
		return perm_reason(f, access, true);
	}
}

struct vtd_fault_log *vtd_fault_log_new(unsigned records)
{
	struct vtd_fault_log *log;

	if (records < 1 || records > 256)
		return NULL;
	log = calloc(1, sizeof(*log) + records * sizeof(log->rec[0]));
	if (log)
		log->n = records;
	return log;
}

void vtd_fault_log_free(struct vtd_fault_log *log)
{
	free(log);
}

/* FSTS.PPF: the OR of the F fields of all records. */
static bool log_pending(const struct vtd_fault_log *log)
{
	for (unsigned i = 0; i < log->n; i++)
		if (log->rec[i].hi & VTD_FRCD_1_F)
			return true;
	return false;
}

bool vtd_fault_record(struct vtd_fault_log *log, const struct ims_txn *txn,
		      const struct ims_fault *f)
{
	struct vtd_fault_rec *r;

	/* Steps 2 and 3 of the header comment. */
	if (log->pfo)
		return false;
	r = &log->rec[log->next];
	if (r->hi & VTD_FRCD_1_F) {
		log->pfo = true;
		return false;
	}
	/* Step 4; PPF goes from clear to set: FRI names this record. */
	if (!log_pending(log))
		log->fri = log->next;
	r->lo = txn->addr & VTD_FRCD_0_FI;
	r->hi = FIELD_PREP(VTD_FRCD_1_SID, txn->sid & 0xffff) |
		FIELD_PREP(VTD_FRCD_1_FR, f->arch_code) | VTD_FRCD_1_F;
	if (txn->access & IMS_ACC_PRIV)
		r->hi |= VTD_FRCD_1_PRIV;
	if (txn->access & IMS_ACC_EXEC)
		r->hi |= VTD_FRCD_1_EXE;
	if (!(txn->access & IMS_ACC_WRITE))
		r->hi |= VTD_FRCD_1_T;
	if (txn->has_pasid)
		r->hi |= VTD_FRCD_1_PP | FIELD_PREP(VTD_FRCD_1_PV, txn->pasid);
	log->next = (log->next + 1) % log->n;
	return true;
}

unsigned vtd_fault_log_size(struct ims_iommu *iommu)
{
	return vtd_state(iommu)->log->n;
}

int vtd_fault_log_get(struct ims_iommu *iommu, unsigned idx, struct vtd_fault_rec *rec)
{
	struct vtd_fault_log *log = vtd_state(iommu)->log;

	if (idx >= log->n)
		return -EINVAL;
	*rec = log->rec[idx];
	return 0;
}

int vtd_fault_log_clear(struct ims_iommu *iommu, unsigned idx)
{
	struct vtd_fault_log *log = vtd_state(iommu)->log;

	if (idx >= log->n)
		return -EINVAL;
	log->rec[idx].hi &= ~VTD_FRCD_1_F;
	return 0;
}

void vtd_fault_clear_overflow(struct ims_iommu *iommu)
{
	vtd_state(iommu)->log->pfo = false;
}

void vtd_fault_status(struct ims_iommu *iommu, struct vtd_fault_status *st)
{
	struct vtd_fault_log *log = vtd_state(iommu)->log;

	memset(st, 0, sizeof(*st));
	st->pfo = log->pfo;
	st->ppf = log_pending(log);
	if (st->ppf)
		st->fri = log->fri;
}
