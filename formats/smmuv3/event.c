/*
 * event.c - SMMUv3 events: record layout, the neutral-fault mapping and the
 * event queue in memory.
 *
 * Reference: Arm IHI 0070 (SMMUv3) 7.2 (event queue recording and
 * overflow), 7.3 (event records: C_BAD_STREAMID, F_STE_FETCH, C_BAD_STE,
 * F_STREAM_DISABLED, F_TRANS_FORBIDDEN, C_BAD_SUBSTREAMID, F_CD_FETCH,
 * C_BAD_CD, F_WALK_EABT, F_TRANSLATION, F_ADDR_SIZE, F_ACCESS, F_PERMISSION,
 * F_CFG_CONFLICT ...), 7.4 (event queue overflow), 6.3.25-6.3.27
 * (EVENTQ_BASE, EVENTQ_PROD, EVENTQ_CONS), 6.3.9 (CR0.EVENTQEN), 6.3.15
 * (GERROR.EVTQ_ABT_ERR).
 *
 * A neutral fault becomes an event as follows (7.3.12 - 7.3.16):
 *   translation / reserved / non-canonical -> F_TRANSLATION
 *   address size -> F_ADDR_SIZE, access flag -> F_ACCESS,
 *   permission -> F_PERMISSION, external abort on a table read -> F_WALK_EABT
 *   a stage-2 fault on the HTTU write of a stage-1 descriptor -> F_PERMISSION
 *     (S2 = 1, CLASS = TTD, TTRnW = 0)
 *   S2 = 1 when stage 2 faulted; CLASS = CD when stage 2 was translating a
 *   CD or L1CD address, TTD when it was translating a stage-1 table address
 *   (or when a stage-1 descriptor read aborted), IN when translating the
 *   input address or the IPA stage 1 produced.  IPA is the address stage 2
 *   was translating; InputAddr is always the transaction's address.
 * Configuration faults carry their event type from ste.c / cd.c.
 *
 * Recording (7.2, 7.4), steps in the spec's order:
 *  1. With CR0.EVENTQEN = 0 the event is discarded.
 *  2. If the queue is full (PROD and CONS indexes equal, wrap bits
 *     different) the event is discarded; if no overflow is pending
 *     (PROD.OVFLG == CONS.OVACKFLG) PROD.OVFLG is toggled to say so.
 *  3. The 32-byte record is written at EVENTQ_BASE + 32 * PROD.index; an
 *     abort writing it activates GERROR.EVTQ_ABT_ERR and the event is lost.
 *  4. PROD advances (index + 1, wrap toggling at 2^LOG2SIZE), OVFLG kept.
 * LOG2SIZE is min(EVENTQ_BASE.LOG2SIZE, IDR1.EVENTQS); a base not aligned
 * to the queue size is used aligned down.  Whether an event is recorded at
 * all (CD.R, STE.S2R for the four translation faults) is decided by the
 * caller (smmu.c).  MSI and IRQ signalling are not modelled.
 */
#include <errno.h>
#include <string.h>

#include "formats/smmuv3/smmu_int.h"

const char *smmu_event_name(unsigned type)
{
	switch (type) {
	case SMMU_EVT_F_UUT: return "F_UUT";
	case SMMU_EVT_C_BAD_STREAMID: return "C_BAD_STREAMID";
	case SMMU_EVT_F_STE_FETCH: return "F_STE_FETCH";
	case SMMU_EVT_C_BAD_STE: return "C_BAD_STE";
	case SMMU_EVT_F_BAD_ATS_TREQ: return "F_BAD_ATS_TREQ";
	case SMMU_EVT_F_STREAM_DISABLED: return "F_STREAM_DISABLED";
	case SMMU_EVT_F_TRANS_FORBIDDEN: return "F_TRANS_FORBIDDEN";
	case SMMU_EVT_C_BAD_SUBSTREAMID: return "C_BAD_SUBSTREAMID";
	case SMMU_EVT_F_CD_FETCH: return "F_CD_FETCH";
	case SMMU_EVT_C_BAD_CD: return "C_BAD_CD";
	case SMMU_EVT_F_WALK_EABT: return "F_WALK_EABT";
	case SMMU_EVT_F_TRANSLATION: return "F_TRANSLATION";
	case SMMU_EVT_F_ADDR_SIZE: return "F_ADDR_SIZE";
	case SMMU_EVT_F_ACCESS: return "F_ACCESS";
	case SMMU_EVT_F_PERMISSION: return "F_PERMISSION";
	case SMMU_EVT_F_TLB_CONFLICT: return "F_TLB_CONFLICT";
	case SMMU_EVT_F_CFG_CONFLICT: return "F_CFG_CONFLICT";
	case SMMU_EVT_E_PAGE_REQUEST: return "E_PAGE_REQUEST";
	case SMMU_EVT_F_VMS_FETCH: return "F_VMS_FETCH";
	default: return NULL;
	}
}

bool smmu_event_is_translation(unsigned type)
{
	return type >= SMMU_EVT_F_TRANSLATION && type <= SMMU_EVT_F_PERMISSION;
}

/* Which fields a record type has (7.3). */
enum {
	EV_ADDR = 1u << 0,   /* InputAddr, RnW */
	EV_ACCESS = 1u << 1, /* PnU, InD */
	EV_WALK = 1u << 2,   /* Stall, STAG, S2, CLASS, TTRnW */
	EV_IPA = 1u << 3,    /* IPA, NSIPA in word 3 */
	EV_FETCH = 1u << 4,  /* FetchAddr in word 3 */
};

static int event_fields(unsigned type)
{
	switch (type) {
	case SMMU_EVT_C_BAD_STREAMID:
	case SMMU_EVT_C_BAD_STE:
	case SMMU_EVT_F_STREAM_DISABLED:
	case SMMU_EVT_C_BAD_SUBSTREAMID:
	case SMMU_EVT_C_BAD_CD:
	case SMMU_EVT_F_CFG_CONFLICT:
	case SMMU_EVT_F_TLB_CONFLICT:
		return 0;
	case SMMU_EVT_F_STE_FETCH:
	case SMMU_EVT_F_CD_FETCH:
		return EV_FETCH;
	case SMMU_EVT_F_UUT:
	case SMMU_EVT_F_BAD_ATS_TREQ:
		return EV_ADDR | EV_ACCESS;
	case SMMU_EVT_F_TRANS_FORBIDDEN:
		return EV_ADDR;
	case SMMU_EVT_F_WALK_EABT:
		return EV_ADDR | EV_ACCESS | EV_WALK | EV_FETCH;
	case SMMU_EVT_F_TRANSLATION:
	case SMMU_EVT_F_ADDR_SIZE:
	case SMMU_EVT_F_ACCESS:
	case SMMU_EVT_F_PERMISSION:
		return EV_ADDR | EV_ACCESS | EV_WALK | EV_IPA;
	default:
		return -1;
	}
}

void smmu_event_encode(const struct smmu_event *ev, uint64_t rec[4])
{
	int f = event_fields(ev->type);

	if (f < 0)
		f = 0;
	rec[0] = FIELD_PREP(SMMU_EVT_0_TYPE, ev->type) | FIELD_PREP(SMMU_EVT_0_SID, ev->sid);
	if (ev->ssv)
		rec[0] |= SMMU_EVT_0_SSV | FIELD_PREP(SMMU_EVT_0_SSID, ev->ssid);
	rec[1] = rec[2] = rec[3] = 0;
	if (f & EV_ADDR) {
		rec[2] = ev->input_addr;
		rec[1] |= ev->rnw ? SMMU_EVT_1_RNW : 0;
	}
	if (f & EV_ACCESS)
		rec[1] |= (ev->pnu ? SMMU_EVT_1_PNU : 0) | (ev->ind ? SMMU_EVT_1_IND : 0);
	if (f & EV_WALK) {
		rec[1] |= FIELD_PREP(SMMU_EVT_1_STAG, ev->stag) | (ev->stall ? SMMU_EVT_1_STALL : 0) |
			  (ev->s2 ? SMMU_EVT_1_S2 : 0) | FIELD_PREP(SMMU_EVT_1_CLASS, ev->class_) |
			  (ev->ttrnw ? SMMU_EVT_1_TTRNW : 0);
	}
	if (f & EV_IPA)
		rec[3] = (ev->ipa & SMMU_EVT_3_IPA) | (ev->nsipa ? SMMU_EVT_3_NSIPA : 0);
	if (f & EV_FETCH)
		rec[3] = ev->fetch_addr & SMMU_EVT_3_FETCHADDR;
}

int smmu_event_decode(const uint64_t rec[4], struct smmu_event *ev)
{
	unsigned type = (unsigned)FIELD_GET(SMMU_EVT_0_TYPE, rec[0]);
	int f = event_fields(type);

	if (f < 0)
		return -EINVAL;
	memset(ev, 0, sizeof(*ev));
	ev->type = (uint8_t)type;
	ev->sid = (uint32_t)FIELD_GET(SMMU_EVT_0_SID, rec[0]);
	ev->ssv = rec[0] & SMMU_EVT_0_SSV;
	ev->ssid = ev->ssv ? (uint32_t)FIELD_GET(SMMU_EVT_0_SSID, rec[0]) : 0;
	if (f & EV_ADDR) {
		ev->input_addr = rec[2];
		ev->rnw = rec[1] & SMMU_EVT_1_RNW;
	}
	if (f & EV_ACCESS) {
		ev->pnu = rec[1] & SMMU_EVT_1_PNU;
		ev->ind = rec[1] & SMMU_EVT_1_IND;
	}
	if (f & EV_WALK) {
		ev->stag = (uint16_t)FIELD_GET(SMMU_EVT_1_STAG, rec[1]);
		ev->stall = rec[1] & SMMU_EVT_1_STALL;
		ev->s2 = rec[1] & SMMU_EVT_1_S2;
		ev->class_ = (uint8_t)FIELD_GET(SMMU_EVT_1_CLASS, rec[1]);
		ev->ttrnw = rec[1] & SMMU_EVT_1_TTRNW;
	}
	if (f & EV_IPA) {
		ev->ipa = rec[3] & SMMU_EVT_3_IPA;
		ev->nsipa = rec[3] & SMMU_EVT_3_NSIPA;
	}
	if (f & EV_FETCH)
		ev->fetch_addr = rec[3] & SMMU_EVT_3_FETCHADDR;
	return 0;
}

/* The address of the descriptor whose read aborted (the last aborted read). */
static uint64_t aborted_fetch(const struct ims_result *res)
{
	for (unsigned i = res->nreads; i-- > 0;)
		if (res->reads[i].abort)
			return res->reads[i].pa;
	return res->fault.fetch_addr;
}

void smmu_fault_to_event(const struct ims_txn *txn, const struct ims_xlate_cfg *cfg,
			 const struct ims_result *res, struct smmu_event *ev)
{
	const struct ims_fault *f = &res->fault;
	bool s2;

	memset(ev, 0, sizeof(*ev));
	ev->sid = txn->sid;
	ev->ssv = txn->has_pasid;
	ev->ssid = txn->has_pasid ? txn->pasid : 0;
	ev->input_addr = txn->addr;
	ev->rnw = !(txn->access & IMS_ACC_WRITE);
	ev->pnu = txn->access & IMS_ACC_PRIV;
	ev->ind = txn->access & IMS_ACC_EXEC;

	switch (f->kind) {
	case IMS_FK_NONE:
		return;
	case IMS_FK_CONFIG:
	case IMS_FK_ABORT:
		ev->type = (uint8_t)f->arch_code;
		if (ev->type == SMMU_EVT_F_STE_FETCH || ev->type == SMMU_EVT_F_CD_FETCH)
			ev->fetch_addr = f->fetch_addr;
		return;
	case IMS_FK_ADDR_SIZE:
		ev->type = SMMU_EVT_F_ADDR_SIZE;
		break;
	case IMS_FK_ACCESS_FLAG:
		ev->type = SMMU_EVT_F_ACCESS;
		break;
	case IMS_FK_PERMISSION:
		ev->type = SMMU_EVT_F_PERMISSION;
		break;
	case IMS_FK_EXT_ABORT:
		ev->type = SMMU_EVT_F_WALK_EABT;
		break;
	case IMS_FK_AD_UPDATE:
		/* Stage 2 refusing the HTTU write of a stage-1 descriptor: a permission fault. */
		ev->type = f->on_table_fetch ? SMMU_EVT_F_PERMISSION : SMMU_EVT_F_WALK_EABT;
		break;
	default: /* translation, reserved encodings, out-of-range input */
		ev->type = SMMU_EVT_F_TRANSLATION;
		break;
	}
	s2 = f->stage == 2;
	ev->s2 = s2;
	if (s2 && (cfg->arch_flags & SMMU_AF_CD_S2))
		ev->class_ = SMMU_CLASS_CD;
	else if ((s2 && f->on_table_fetch) || (!s2 && ev->type == SMMU_EVT_F_WALK_EABT))
		ev->class_ = SMMU_CLASS_TTD;
	else
		ev->class_ = SMMU_CLASS_IN;
	/* TTRnW: the table access that faulted was a read, unless it was an HTTU write. */
	ev->ttrnw = ev->class_ == SMMU_CLASS_TTD && f->kind != IMS_FK_AD_UPDATE;
	if (ev->type == SMMU_EVT_F_WALK_EABT)
		ev->fetch_addr = aborted_fetch(res);
	else if (s2)
		ev->ipa = f->ipa;
}

/* ---- The event queue ---- */

static unsigned evtq_lg2(const struct smmu_state *st)
{
	return smmu_queue_lg2(&st->evtq, (unsigned)FIELD_GET(SMMU_IDR1_EVENTQS, st->idr[1]));
}

static uint64_t evtq_base(const struct smmu_state *st)
{
	return (st->evtq.base & SMMU_Q_BASE_ADDR) & ~ims_mask_lg2(evtq_lg2(st) + 5);
}

/* Index and wrap bit of a PROD/CONS value for a queue of 2^lg2 entries. */
static uint32_t q_iw(uint32_t v, unsigned lg2)
{
	return v & (uint32_t)ims_mask_lg2(lg2 + 1);
}

/* An overflow is pending while PROD.OVFLG differs from CONS.OVACKFLG (7.4). */
static bool evtq_overflow_pending(const struct smmu_state *st)
{
	return ((st->evtq.prod & SMMU_EVTQ_PROD_OVFLG) != 0) !=
	       ((st->evtq.cons & SMMU_EVTQ_CONS_OVACKFLG) != 0);
}

int smmu_evtq_write(struct ims_iommu *iommu, const uint64_t rec[4])
{
	struct smmu_state *st = smmu_state(iommu);
	unsigned lg2 = evtq_lg2(st);
	uint32_t prod = q_iw(st->evtq.prod, lg2), cons = q_iw(st->evtq.cons, lg2);
	uint32_t idx_mask = (uint32_t)ims_mask_lg2(lg2);
	uint64_t pa;

	/* Step 1. */
	if (!(st->cr0 & SMMU_CR0_EVENTQEN)) {
		st->events_lost++;
		return SMMU_EVTQ_DISABLED;
	}
	/* Step 2. */
	if ((prod & idx_mask) == (cons & idx_mask) && prod != cons) {
		if (!evtq_overflow_pending(st))
			st->evtq.prod ^= SMMU_EVTQ_PROD_OVFLG;
		st->events_lost++;
		return SMMU_EVTQ_OVERFLOW;
	}
	/* Step 3. */
	pa = evtq_base(st) + 32 * (uint64_t)(prod & idx_mask);
	if (!ims_mem_is_backed(iommu->mem, pa, 32) ||
	    ims_mem_write64(iommu->mem, pa, rec[0]) != IMS_MEM_OK ||
	    ims_mem_write64(iommu->mem, pa + 8, rec[1]) != IMS_MEM_OK ||
	    ims_mem_write64(iommu->mem, pa + 16, rec[2]) != IMS_MEM_OK ||
	    ims_mem_write64(iommu->mem, pa + 24, rec[3]) != IMS_MEM_OK) {
		smmu_gerror_raise(st, SMMU_GERROR_EVTQ_ABT_ERR);
		st->events_lost++;
		return SMMU_EVTQ_ABORT;
	}
	/* Step 4. */
	st->evtq.prod = (st->evtq.prod & SMMU_EVTQ_PROD_OVFLG) | q_iw(prod + 1, lg2);
	st->events_written++;
	return SMMU_EVTQ_WRITTEN;
}

void smmu_evtq_status(struct ims_iommu *iommu, struct smmu_evtq_status *s)
{
	struct smmu_state *st = smmu_state(iommu);
	unsigned lg2 = evtq_lg2(st);
	uint32_t prod = q_iw(st->evtq.prod, lg2), cons = q_iw(st->evtq.cons, lg2);

	memset(s, 0, sizeof(*s));
	s->base = evtq_base(st);
	s->log2size = lg2;
	s->prod = st->evtq.prod;
	s->cons = st->evtq.cons;
	s->pending = (prod - cons) & (uint32_t)ims_mask_lg2(lg2 + 1);
	s->overflow = evtq_overflow_pending(st);
	s->abort_err = smmu_gerror_is_active(st, SMMU_GERROR_EVTQ_ABT_ERR);
	s->written = st->events_written;
	s->lost = st->events_lost;
}

int smmu_evtq_pop(struct ims_iommu *iommu, uint64_t rec[4])
{
	struct smmu_state *st = smmu_state(iommu);
	unsigned lg2 = evtq_lg2(st);
	uint32_t prod = q_iw(st->evtq.prod, lg2), cons = q_iw(st->evtq.cons, lg2);
	uint64_t pa = evtq_base(st) + 32 * (uint64_t)(cons & (uint32_t)ims_mask_lg2(lg2));

	if (prod == cons)
		return -ENOENT;
	for (unsigned i = 0; i < 4; i++)
		if (ims_mem_read64(iommu->mem, pa + 8 * i, &rec[i]) != IMS_MEM_OK)
			return -EFAULT;
	st->evtq.cons = (st->evtq.cons & SMMU_EVTQ_CONS_OVACKFLG) | q_iw(cons + 1, lg2);
	return 0;
}
