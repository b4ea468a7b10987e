/*
 * qi.c - VT-d queued invalidation: the invalidation queue registers and the
 * hardware's processing of the queue.
 *
 * Reference: VT-d spec rev 4.x, 6.5.2 (queued invalidation interface),
 * 6.5.2.10 (invalidation queue errors), 11.4.9 (IQH_REG, IQT_REG, IQA_REG,
 * ICS_REG, IQERCD_REG), 11.4.10 (FSTS_REG), 11.4.4 (GCMD_REG.QIE).
 *
 * The queue is a ring in memory at IQA, 4 KiB * 2^QS bytes, of 128-bit
 * descriptors (IQA.DW = 0) or 256-bit ones (DW = 1).  IQH and IQT hold byte
 * offsets into it in bits 18:4.  When software moves the tail and queued
 * invalidation is enabled, the hardware, step by step:
 *  1. stops if FSTS.IQE is set (an earlier error not yet cleared);
 *  2. checks the tail: inside the queue (else IQEI 1, invalid tail) and, with
 *     256-bit descriptors, 32-byte aligned (else IQEI 6);
 *  3. fetches the descriptor at the head (a fetch error is IQEI 2);
 *  4. decodes it (inv_queue.c); a descriptor it rejects sets FSTS.IQE with
 *     the IQEI code and leaves the head pointing at it;
 *  5. carries it out: the neutral request goes to every modelled cache;
 *     a wait descriptor writes its status data (SW) and sets ICS.IWC (IF);
 *  6. advances the head, wrapping at the end of the queue, until it meets
 *     the tail.
 */
#include <errno.h>
#include <strings.h>

#include "formats/vtd/vtd_int.h"

#define VTD_IQA_IQA GENMASK(63, 12)   /* 63:12 queue base */
#define VTD_IQA_DW BIT(11)            /* 11 descriptor width: 1 = 256-bit */
#define VTD_IQA_QS GENMASK(2, 0)      /* 2:0 queue size: 4 KiB * 2^QS */
#define VTD_IQ_OFF GENMASK(18, 4)     /* IQH/IQT 18:4: byte offset of a descriptor */
#define VTD_FSTS_PFO BIT(0)
#define VTD_FSTS_PPF BIT(1)
#define VTD_FSTS_IQE BIT(4)
#define VTD_FSTS_FRI GENMASK(15, 8)
#define VTD_ICS_IWC BIT(0)
#define VTD_IQERCD_IQEI GENMASK(3, 0)

static uint64_t queue_bytes(const struct vtd_state *st)
{
	return UINT64_C(4096) << FIELD_GET(VTD_IQA_QS, st->iqa);
}

static void queue_error(struct vtd_state *st, unsigned iqei)
{
	st->iqe = true;
	st->iqercd = FIELD_PREP(VTD_IQERCD_IQEI, iqei);
}

/* Steps 1-6 of the header comment.  Returns descriptors carried out. */
static unsigned process(struct ims_iommu *iommu)
{
	struct vtd_state *st = vtd_state(iommu);
	bool wide = st->iqa & VTD_IQA_DW;
	unsigned step = wide ? 32 : 16, n = 0;
	uint64_t size = queue_bytes(st), base = st->iqa & VTD_IQA_IQA;
	uint64_t tail = st->iqt & VTD_IQ_OFF;

	if (!st->qie || st->iqe)
		return 0;
	if (tail >= size) {
		queue_error(st, VTD_IQE_TAIL);
		return 0;
	}
	if (wide && (tail & 0x10)) {
		queue_error(st, VTD_IQE_ALIGN);
		return 0;
	}
	while ((st->iqh & VTD_IQ_OFF) != tail) {
		uint64_t head = st->iqh & VTD_IQ_OFF, w[4];
		struct ims_inv inv;
		uint32_t code = 0;

		for (unsigned i = 0; i < step / 8; i++)
			if (ims_mem_read64(iommu->mem, base + head + 8 * i, &w[i]) != IMS_MEM_OK) {
				queue_error(st, VTD_IQE_FETCH);
				return n;
			}
		if (vtd_decode_inv(iommu, w, step / 8, &inv, &code)) {
			queue_error(st, code);
			return n;
		}
		ims_invalidate(iommu, &inv, NULL);
		if (inv.flags & IMS_INV_F_STATUS_WRITE) {
			uint8_t b[4] = { (uint8_t)inv.status_data, (uint8_t)(inv.status_data >> 8),
					 (uint8_t)(inv.status_data >> 16),
					 (uint8_t)(inv.status_data >> 24) };

			/* A status write that aborts is reported like a fetch error. */
			if (ims_mem_write(iommu->mem, inv.status_addr, b, 4) != IMS_MEM_OK) {
				queue_error(st, VTD_IQE_FETCH);
				return n;
			}
		}
		if (inv.flags & IMS_INV_F_INTR)
			st->ics_iwc = true;
		st->iqh = (head + step) % size;
		n++;
		st->qi_done++;
	}
	return n;
}

int vtd_qi_set_reg(struct ims_iommu *iommu, const char *name, uint64_t value)
{
	struct vtd_state *st = vtd_state(iommu);

	if (!strcasecmp(name, "IQA") || !strcasecmp(name, "IQA_REG")) {
		if (value & GENMASK(10, 3))
			return -EINVAL;
		if ((value & VTD_IQA_DW) && !(st->ecap & VTD_ECAP_SMTS))
			return -EINVAL;
		st->iqa = value;
		return 0;
	}
	if (!strcasecmp(name, "IQT") || !strcasecmp(name, "IQT_REG")) {
		if (value & ~VTD_IQ_OFF)
			return -EINVAL;
		st->iqt = value;
		process(iommu);
		return 0;
	}
	if (!strcasecmp(name, "QIE") || !strcasecmp(name, "GCMD.QIE")) {
		if (value > 1 || !(st->ecap & VTD_ECAP_QI))
			return -EINVAL;
		/* Enabling starts the hardware's head at 0 (11.4.9.1). */
		if (value && !st->qie)
			st->iqh = 0;
		st->qie = value;
		process(iommu);
		return 0;
	}
	if (!strcasecmp(name, "FSTS") || !strcasecmp(name, "FSTS_REG")) {
		/* Write 1 to clear: IQE restarts processing, PFO re-enables logging. */
		if (value & VTD_FSTS_PFO)
			vtd_fault_clear_overflow(iommu);
		if (value & VTD_FSTS_IQE) {
			st->iqe = false;
			st->iqercd = 0;
			process(iommu);
		}
		return 0;
	}
	if (!strcasecmp(name, "ICS") || !strcasecmp(name, "ICS_REG")) {
		if (value & VTD_ICS_IWC)
			st->ics_iwc = false;
		return 0;
	}
	return -ENOENT;
}

int vtd_qi_get_reg(struct ims_iommu *iommu, const char *name, uint64_t *value)
{
	struct vtd_state *st = vtd_state(iommu);

	if (!strcasecmp(name, "IQA") || !strcasecmp(name, "IQA_REG"))
		*value = st->iqa;
	else if (!strcasecmp(name, "IQH") || !strcasecmp(name, "IQH_REG"))
		*value = st->iqh;
	else if (!strcasecmp(name, "IQT") || !strcasecmp(name, "IQT_REG"))
		*value = st->iqt;
	else if (!strcasecmp(name, "QIE") || !strcasecmp(name, "GCMD.QIE"))
		*value = st->qie;
	else if (!strcasecmp(name, "IQERCD") || !strcasecmp(name, "IQERCD_REG"))
		*value = st->iqercd;
	else if (!strcasecmp(name, "ICS") || !strcasecmp(name, "ICS_REG"))
		*value = st->ics_iwc ? VTD_ICS_IWC : 0;
	else if (!strcasecmp(name, "FSTS") || !strcasecmp(name, "FSTS_REG")) {
		struct vtd_fault_status fs;

		vtd_fault_status(iommu, &fs);
		*value = (fs.pfo ? VTD_FSTS_PFO : 0) | (fs.ppf ? VTD_FSTS_PPF : 0) |
			 (st->iqe ? VTD_FSTS_IQE : 0) | FIELD_PREP(VTD_FSTS_FRI, fs.fri);
	} else {
		return -ENOENT;
	}
	return 0;
}
