/*
 * smmu_int.h - Arm SMMUv3 private declarations: the instance state and what
 * the files of formats/smmuv3/ share.
 *
 * Reference: Arm IHI 0070 (SMMUv3): chapter 3 (operation), 5 (data
 * structures: STE, CD), 6 (registers), 7 (events), 4 (commands); Arm ARM
 * (DDI 0487) D8 for the VMSAv8-64 translation table format.
 * Masks are named SMMU_<STRUCT>_<word>_<FIELD> with the spec's absolute bit
 * range in a comment.  Each file keeps the masks only it uses; the ones
 * several files need live here.
 */
#ifndef IMS_SMMU_INT_H
#define IMS_SMMU_INT_H

#include "engine/bits.h"
#include "engine/engine_int.h"
#include <iommusim/smmuv3.h>

/* A queue in memory (command or event): base, size, producer, consumer. */
struct smmu_queue {
	uint64_t base;      /* *_BASE register as written (ADDR, LOG2SIZE, RA/WA) */
	uint32_t prod, cons;/* *_PROD / *_CONS as the spec lays them out (index, wrap, ERR/OVFLG) */
};

/* Everything an SMMUv3 instance holds. */
struct smmu_state {
	uint32_t idr[6];       /* IDR0-IDR5 from the model */
	uint32_t iidr, aidr;
	unsigned oas_bits;     /* output address size from IDR5.OAS */
	/* Registers software programs (6.3). */
	uint32_t cr0, cr1, cr2;
	uint64_t strtab_base;
	uint32_t strtab_base_cfg;
	uint32_t gbpa;
	struct smmu_queue cmdq, evtq;
	/* SMMU_GERROR / SMMU_GERRORN (6.3): an error is active while their bits differ. */
	uint32_t gerror, gerrorn;
	/* Event queue and command bookkeeping (event.c, smmu.c). */
	uint64_t events_written, events_lost, cmds_applied;
};

static inline struct smmu_state *smmu_state(struct ims_iommu *iommu)
{
	return (struct smmu_state *)iommu->arch_priv;
}

/* A global error is active while its GERROR and GERRORN bits differ (6.3). */
static inline bool smmu_gerror_is_active(const struct smmu_state *st, uint32_t bit)
{
	return ((st->gerror ^ st->gerrorn) & bit) != 0;
}

/* Activate a global error: toggle GERROR unless it is already active. */
static inline void smmu_gerror_raise(struct smmu_state *st, uint32_t bit)
{
	if (!smmu_gerror_is_active(st, bit))
		st->gerror ^= bit;
}

/* ---- vmsa.c: VMSAv8-64 translation tables (Arm ARM D8) ---- */
extern const struct ims_pt_format smmu_vmsa_s1_format;
extern const struct ims_pt_format smmu_vmsa_s2_format;

/* Walk flags (ims_pt_cfg.flags) for the VMSA formats. */
enum {
	SMMU_F_HA = 1u << 0,   /* hardware Access flag update (HTTU) */
	SMMU_F_HD = 1u << 1,   /* hardware dirty state update (DBM) */
	SMMU_F_AFFD = 1u << 2, /* AF = 0 does not fault (CD.AFFD / STE.S2AFFD) */
	SMMU_F_TTB1 = 1u << 3, /* stage 1: the upper (TTB1) VA range */
	SMMU_F_TBI = 1u << 4,  /* stage 1: top byte ignored */
	SMMU_F_WXN = 1u << 5,
	SMMU_F_UWXN = 1u << 6,
	SMMU_F_PAN = 1u << 7,
	SMMU_F_STT = 1u << 8,  /* small translation tables (IDR3.STT): TxSZ up to 48/47 */
	SMMU_F_XNX = 1u << 9,  /* stage 2: XN[1:0] EL1/EL0 execute-never (IDR3.XNX) */
};

/*
 * Stage-1 walk configuration from a CD's fields for one VA range: granule
 * (12, 14 or 16), TxSZ, output size in bits (from CD.IPS, capped by OAS).
 * Returns 0, or -EINVAL when the combination is invalid (the CD is then
 * ILLEGAL: C_BAD_CD).
 */
int smmu_s1_cfg_init(struct ims_pt_cfg *cfg, uint64_t ttb, unsigned granule_lg2, unsigned tsz,
		     unsigned oa_bits, uint32_t flags);
/*
 * Stage-2 walk configuration from an STE's S2TTB and VTCR fields: granule,
 * T0SZ, SL0 (start level, encoded per granule), output size in bits (from
 * VTCR.PS, capped by OAS).  Concatenated initial tables follow from T0SZ
 * and the start level.  Returns -EINVAL for an invalid combination (the STE
 * is then ILLEGAL: C_BAD_STE).
 */
int smmu_s2_cfg_init(struct ims_pt_cfg *cfg, uint64_t s2ttb, unsigned granule_lg2,
		     unsigned t0sz, unsigned sl0, unsigned oa_bits, uint32_t flags);

/*
 * cmdq.c: decode one 16-byte command (nwords = 2) into the neutral request.
 * Returns 0, or -EINVAL with *arch_err = enum smmu_cerror for an illegal or
 * unsupported command (CERROR_ILL).  Commands with no cache effect
 * (prefetch, PRI_RESP, RESUME, STALL_TERM) decode to scope NONE; CMD_SYNC
 * to targets IMS_INV_T_SYNC.
 */
int smmu_decode_cmd(struct ims_iommu *iommu, const uint64_t *words, unsigned nwords,
		    struct ims_inv *inv, uint32_t *arch_err);

/* ---- cmdq.c: queue ---- */
/*
 * Consume the command queue (IHI 0070 3.5, 4, 6.3 CMDQ_*, 7.1): read commands
 * from CMDQ_CONS up to CMDQ_PROD, decode each, hand every legal one to
 * apply(opaque, inv) (may be NULL) in queue order, perform CMD_SYNC MSI
 * writes itself (apply() must not), and advance CMDQ_CONS.  Stops at an
 * illegal command (CERROR_ILL) or a command fetch abort (CERROR_ABT) with
 * CONS at it, CONS.ERR set and GERROR.CMDQ_ERR activated; consumption then
 * resumes only once software acknowledges through GERRORN.  Does nothing
 * while CR0.CMDQEN is clear or GERROR.CMDQ_ERR is active.  *consumed (may be
 * NULL) counts the commands consumed by this call.  Returns 0: command
 * errors are architectural state, not errno.
 */
int smmu_cmdq_process(struct ims_iommu *iommu,
		      void (*apply)(void *opaque, const struct ims_inv *inv), void *opaque,
		      unsigned *consumed);

/* ==== Registers, STE, CD, events: regs.c ste.c cd.c event.c structs.c smmu.c ==== */

/* ---- SMMU_IDR0 (6.3.1) ---- */
#define SMMU_IDR0_S2P BIT(0)                 /* 0 stage 2 */
#define SMMU_IDR0_S1P BIT(1)                 /* 1 stage 1 */
#define SMMU_IDR0_TTF GENMASK(3, 2)          /* 3:2 table formats: 10 AArch64, 11 both */
#define SMMU_IDR0_COHACC BIT(4)              /* 4 coherent access */
#define SMMU_IDR0_BTM BIT(5)                 /* 5 broadcast TLB maintenance */
#define SMMU_IDR0_HTTU GENMASK(7, 6)         /* 7:6 01 Access flag, 10 Access + dirty */
#define SMMU_IDR0_DORMHINT BIT(8)            /* 8 */
#define SMMU_IDR0_HYP BIT(9)                 /* 9 EL2 stream world */
#define SMMU_IDR0_ATS BIT(10)                /* 10 PCIe ATS */
#define SMMU_IDR0_NS1ATS BIT(11)             /* 11 */
#define SMMU_IDR0_ASID16 BIT(12)             /* 12 16-bit ASIDs */
#define SMMU_IDR0_MSI BIT(13)                /* 13 */
#define SMMU_IDR0_SEV BIT(14)                /* 14 */
#define SMMU_IDR0_ATOS BIT(15)               /* 15 */
#define SMMU_IDR0_PRI BIT(16)                /* 16 page request interface */
#define SMMU_IDR0_VMW BIT(17)                /* 17 VMID wildcards */
#define SMMU_IDR0_VMID16 BIT(18)             /* 18 16-bit VMIDs */
#define SMMU_IDR0_CD2L BIT(19)               /* 19 2-level CD tables */
#define SMMU_IDR0_VATOS BIT(20)              /* 20 */
#define SMMU_IDR0_TTENDIAN GENMASK(22, 21)   /* 22:21 00 mixed, 10 LE, 11 BE */
#define SMMU_IDR0_ATSRECERR BIT(23)          /* 23 */
#define SMMU_IDR0_STALL_MODEL GENMASK(25, 24) /* 25:24 00 stall+term, 01 term only, 10 stall forced */
#define SMMU_IDR0_TERM_MODEL BIT(26)         /* 26 terminate always aborts */
#define SMMU_IDR0_ST_LEVEL GENMASK(28, 27)   /* 28:27 00 linear, 01 2-level stream table */
#define SMMU_IDR0_RME_IMPL BIT(30)           /* 30 */
enum { SMMU_TTF_AA64 = 2, SMMU_TTF_BOTH = 3 };
enum { SMMU_TTENDIAN_MIXED = 0, SMMU_TTENDIAN_LE = 2, SMMU_TTENDIAN_BE = 3 };
enum { SMMU_STALL_BOTH = 0, SMMU_STALL_NONE = 1, SMMU_STALL_FORCED = 2 };

/* ---- SMMU_IDR1 (6.3.2) ---- */
#define SMMU_IDR1_SIDSIZE GENMASK(5, 0)      /* 5:0 StreamID bits */
#define SMMU_IDR1_SSIDSIZE GENMASK(10, 6)    /* 10:6 SubstreamID bits */
#define SMMU_IDR1_PRIQS GENMASK(15, 11)      /* 15:11 log2 max PRI queue entries */
#define SMMU_IDR1_EVENTQS GENMASK(20, 16)    /* 20:16 log2 max event queue entries */
#define SMMU_IDR1_CMDQS GENMASK(25, 21)      /* 25:21 log2 max command queue entries */
#define SMMU_IDR1_ATTR_PERMS_OVR BIT(26)     /* 26 */
#define SMMU_IDR1_ATTR_TYPES_OVR BIT(27)     /* 27 */
#define SMMU_IDR1_REL BIT(28)                /* 28 */
#define SMMU_IDR1_QUEUES_PRESET BIT(29)      /* 29 */
#define SMMU_IDR1_TABLES_PRESET BIT(30)      /* 30 */
#define SMMU_IDR1_ECMDQ BIT(31)              /* 31 */

/* ---- SMMU_IDR2 (6.3.3), SMMU_IDR3 (6.3.4) ---- */
#define SMMU_IDR2_BA_VATOS GENMASK(9, 0)     /* 9:0 */
#define SMMU_IDR3_HAD BIT(2)                 /* 2 hierarchical attribute disable */
#define SMMU_IDR3_PBHA BIT(3)                /* 3 */
#define SMMU_IDR3_XNX BIT(4)                 /* 4 EL0/EL1 execute-never split */
#define SMMU_IDR3_PPS BIT(5)                 /* 5 */
#define SMMU_IDR3_MPAM BIT(7)                /* 7 */
#define SMMU_IDR3_FWB BIT(8)                 /* 8 */
#define SMMU_IDR3_STT BIT(9)                 /* 9 small translation tables */
#define SMMU_IDR3_RIL BIT(10)                /* 10 range invalidation */
#define SMMU_IDR3_BBML GENMASK(12, 11)       /* 12:11 */
#define SMMU_IDR3_E0PD BIT(13)               /* 13 */
#define SMMU_IDR3_PTWNNC BIT(14)             /* 14 */
#define SMMU_IDR3_DPT BIT(15)                /* 15 */

/* ---- SMMU_IDR5 (6.3.6), SMMU_IIDR (6.3.7), SMMU_AIDR (6.3.8) ---- */
#define SMMU_IDR5_OAS GENMASK(2, 0)          /* 2:0 output address size */
#define SMMU_IDR5_GRAN4K BIT(4)              /* 4 */
#define SMMU_IDR5_GRAN16K BIT(5)             /* 5 */
#define SMMU_IDR5_GRAN64K BIT(6)             /* 6 */
#define SMMU_IDR5_VAX GENMASK(11, 10)        /* 11:10 virtual address extend */
#define SMMU_IDR5_STALL_MAX GENMASK(31, 16)  /* 31:16 */
#define SMMU_IIDR_IMPLEMENTER GENMASK(11, 0) /* 11:0 */
#define SMMU_IIDR_REVISION GENMASK(15, 12)   /* 15:12 */
#define SMMU_IIDR_VARIANT GENMASK(19, 16)    /* 19:16 */
#define SMMU_IIDR_PRODUCTID GENMASK(31, 20)  /* 31:20 */
#define SMMU_AIDR_MINOR GENMASK(3, 0)        /* 3:0 ArchMinorRev: 3.x */
#define SMMU_AIDR_MAJOR GENMASK(7, 4)        /* 7:4 ArchMajorRev: 0 for SMMUv3 */

/* ---- Registers software programs (6.3.9 - 6.3.28) ---- */
#define SMMU_CR0_SMMUEN BIT(0)               /* 0 */
#define SMMU_CR0_PRIQEN BIT(1)               /* 1 */
#define SMMU_CR0_EVENTQEN BIT(2)             /* 2 */
#define SMMU_CR0_CMDQEN BIT(3)               /* 3 */
#define SMMU_CR0_ATSCHK BIT(4)               /* 4 */
#define SMMU_CR0_VMW GENMASK(8, 6)           /* 8:6 */
#define SMMU_CR0_VALID GENMASK(8, 0)
#define SMMU_CR2_E2H BIT(0)                  /* 0 */
#define SMMU_CR2_RECINVSID BIT(1)            /* 1 */
#define SMMU_CR2_PTM BIT(2)                  /* 2 */
#define SMMU_CR1_VALID GENMASK(11, 0)        /* 11:0 queue and table attributes */
#define SMMU_CR2_VALID GENMASK(2, 0)
#define SMMU_GBPA_MEMATTR GENMASK(3, 0)      /* 3:0 */
#define SMMU_GBPA_MTCFG BIT(4)               /* 4 */
#define SMMU_GBPA_ALLOCCFG GENMASK(11, 8)    /* 11:8 */
#define SMMU_GBPA_SHCFG GENMASK(13, 12)      /* 13:12 */
#define SMMU_GBPA_PRIVCFG GENMASK(17, 16)    /* 17:16 */
#define SMMU_GBPA_INSTCFG GENMASK(19, 18)    /* 19:18 */
#define SMMU_GBPA_ABORT BIT(20)              /* 20 */
#define SMMU_GBPA_UPDATE BIT(31)             /* 31 */
#define SMMU_STRTAB_BASE_ADDR GENMASK(51, 6) /* 51:6 */
#define SMMU_STRTAB_BASE_RA BIT(62)          /* 62 */
#define SMMU_STRTAB_CFG_LOG2SIZE GENMASK(5, 0) /* 5:0 */
#define SMMU_STRTAB_CFG_SPLIT GENMASK(10, 6) /* 10:6 */
#define SMMU_STRTAB_CFG_FMT GENMASK(17, 16)  /* 17:16 00 linear, 01 2-level */
enum { SMMU_STRTAB_LINEAR = 0, SMMU_STRTAB_2LVL = 1 };
#define SMMU_Q_BASE_LOG2SIZE GENMASK(4, 0)   /* 4:0 */
#define SMMU_Q_BASE_ADDR GENMASK(51, 5)      /* 51:5 */
#define SMMU_Q_BASE_RWA BIT(62)              /* 62 RA (CMDQ) / WA (EVENTQ) */
#define SMMU_Q_IDX_WRP GENMASK(19, 0)        /* 19:0 index and wrap bit (wrap at LOG2SIZE) */
#define SMMU_EVTQ_PROD_OVFLG BIT(31)         /* 31 */
#define SMMU_EVTQ_CONS_OVACKFLG BIT(31)      /* 31 */
#define SMMU_CMDQ_CONS_ERR GENMASK(30, 24)   /* 30:24 */
#define SMMU_GERROR_CMDQ_ERR BIT(0)          /* 0 */
#define SMMU_GERROR_EVTQ_ABT_ERR BIT(2)      /* 2 */

/* A queue's effective log2 of entries: *_BASE.LOG2SIZE capped by the IDR1 maximum (3.5). */
static inline unsigned smmu_queue_lg2(const struct smmu_queue *q, unsigned max)
{
	unsigned lg2 = (unsigned)FIELD_GET(SMMU_Q_BASE_LOG2SIZE, q->base);

	return lg2 < max ? lg2 : max;
}

/* ---- Level 1 Stream Table Descriptor (5.1) ---- */
#define SMMU_L1STD_SPAN GENMASK(4, 0)        /* 4:0 L2 holds 2^(Span-1) STEs; 0 invalid */
#define SMMU_L1STD_L2PTR GENMASK(51, 6)      /* 51:6 */

/* ---- Stream Table Entry (5.2): 512 bits ---- */
#define SMMU_STE_0_V BIT(0)                  /* 0 */
#define SMMU_STE_0_CONFIG GENMASK(3, 1)      /* 3:1 */
#define SMMU_STE_0_S1FMT GENMASK(5, 4)       /* 5:4 */
#define SMMU_STE_0_S1CTXPTR GENMASK(51, 6)   /* 51:6 */
#define SMMU_STE_0_S1CDMAX GENMASK(63, 59)   /* 63:59 */
#define SMMU_STE_1_S1DSS GENMASK(1, 0)       /* 65:64 */
#define SMMU_STE_1_S1CIR GENMASK(3, 2)       /* 67:66 */
#define SMMU_STE_1_S1COR GENMASK(5, 4)       /* 69:68 */
#define SMMU_STE_1_S1CSH GENMASK(7, 6)       /* 71:70 */
#define SMMU_STE_1_DRE BIT(12)               /* 76 */
#define SMMU_STE_1_CONT GENMASK(16, 13)      /* 80:77 */
#define SMMU_STE_1_DCP BIT(17)               /* 81 */
#define SMMU_STE_1_PPAR BIT(18)              /* 82 */
#define SMMU_STE_1_MEV BIT(19)               /* 83 */
#define SMMU_STE_1_S2FWB BIT(25)             /* 89 */
#define SMMU_STE_1_S1MPAM BIT(26)            /* 90 */
#define SMMU_STE_1_S1STALLD BIT(27)          /* 91 */
#define SMMU_STE_1_EATS GENMASK(29, 28)      /* 93:92 */
#define SMMU_STE_1_STRW GENMASK(31, 30)      /* 95:94 */
#define SMMU_STE_1_MEMATTR GENMASK(35, 32)   /* 99:96 */
#define SMMU_STE_1_MTCFG BIT(36)             /* 100 */
#define SMMU_STE_1_ALLOCCFG GENMASK(40, 37)  /* 104:101 */
#define SMMU_STE_1_SHCFG GENMASK(45, 44)     /* 109:108 */
#define SMMU_STE_1_NSCFG GENMASK(47, 46)     /* 111:110 */
#define SMMU_STE_1_PRIVCFG GENMASK(49, 48)   /* 113:112 */
#define SMMU_STE_1_INSTCFG GENMASK(51, 50)   /* 115:114 */
#define SMMU_STE_2_S2VMID GENMASK(15, 0)     /* 143:128 */
#define SMMU_STE_2_S2T0SZ GENMASK(37, 32)    /* 165:160 */
#define SMMU_STE_2_S2SL0 GENMASK(39, 38)     /* 167:166 */
#define SMMU_STE_2_S2IR0 GENMASK(41, 40)     /* 169:168 */
#define SMMU_STE_2_S2OR0 GENMASK(43, 42)     /* 171:170 */
#define SMMU_STE_2_S2SH0 GENMASK(45, 44)     /* 173:172 */
#define SMMU_STE_2_S2TG GENMASK(47, 46)      /* 175:174 */
#define SMMU_STE_2_S2PS GENMASK(50, 48)      /* 178:176 */
#define SMMU_STE_2_S2AA64 BIT(51)            /* 179 */
#define SMMU_STE_2_S2ENDI BIT(52)            /* 180 */
#define SMMU_STE_2_S2AFFD BIT(53)            /* 181 */
#define SMMU_STE_2_S2PTW BIT(54)             /* 182 */
#define SMMU_STE_2_S2HD BIT(55)              /* 183 */
#define SMMU_STE_2_S2HA BIT(56)              /* 184 */
#define SMMU_STE_2_S2S BIT(57)               /* 185 */
#define SMMU_STE_2_S2R BIT(58)               /* 186 */
#define SMMU_STE_3_S2TTB GENMASK(51, 4)      /* 243:196 */
/* STE.Config: bit 0 stage 1, bit 1 stage 2, bit 2 translate (else abort). */
enum {
	SMMU_CONFIG_ABORT = 0, SMMU_CONFIG_BYPASS = 4, SMMU_CONFIG_S1 = 5,
	SMMU_CONFIG_S2 = 6, SMMU_CONFIG_NESTED = 7,
};
enum { SMMU_S1FMT_LINEAR = 0, SMMU_S1FMT_4K_L2 = 1, SMMU_S1FMT_64K_L2 = 2 };
enum { SMMU_S1DSS_TERMINATE = 0, SMMU_S1DSS_BYPASS = 1, SMMU_S1DSS_SSID0 = 2 };
enum { SMMU_STRW_NSEL1 = 0, SMMU_STRW_EL2 = 2 };

/* ---- Level 1 Context Descriptor (5.3) ---- */
#define SMMU_L1CD_V BIT(0)                   /* 0 */
#define SMMU_L1CD_L2PTR GENMASK(51, 12)      /* 51:12 */

/* ---- Context Descriptor (5.4): 512 bits ---- */
#define SMMU_CD_0_T0SZ GENMASK(5, 0)         /* 5:0 */
#define SMMU_CD_0_TG0 GENMASK(7, 6)          /* 7:6 00 4K, 01 64K, 10 16K */
#define SMMU_CD_0_IR0 GENMASK(9, 8)          /* 9:8 */
#define SMMU_CD_0_OR0 GENMASK(11, 10)        /* 11:10 */
#define SMMU_CD_0_SH0 GENMASK(13, 12)        /* 13:12 */
#define SMMU_CD_0_EPD0 BIT(14)               /* 14 */
#define SMMU_CD_0_ENDI BIT(15)               /* 15 */
#define SMMU_CD_0_T1SZ GENMASK(21, 16)       /* 21:16 */
#define SMMU_CD_0_TG1 GENMASK(23, 22)        /* 23:22 01 16K, 10 4K, 11 64K */
#define SMMU_CD_0_IR1 GENMASK(25, 24)        /* 25:24 */
#define SMMU_CD_0_OR1 GENMASK(27, 26)        /* 27:26 */
#define SMMU_CD_0_SH1 GENMASK(29, 28)        /* 29:28 */
#define SMMU_CD_0_EPD1 BIT(30)               /* 30 */
#define SMMU_CD_0_V BIT(31)                  /* 31 */
#define SMMU_CD_0_IPS GENMASK(34, 32)        /* 34:32 */
#define SMMU_CD_0_AFFD BIT(35)               /* 35 */
#define SMMU_CD_0_WXN BIT(36)                /* 36 */
#define SMMU_CD_0_UWXN BIT(37)               /* 37 */
#define SMMU_CD_0_TBI0 BIT(38)               /* 38 */
#define SMMU_CD_0_TBI1 BIT(39)               /* 39 */
#define SMMU_CD_0_PAN BIT(40)                /* 40 */
#define SMMU_CD_0_AA64 BIT(41)               /* 41 */
#define SMMU_CD_0_HD BIT(42)                 /* 42 */
#define SMMU_CD_0_HA BIT(43)                 /* 43 */
#define SMMU_CD_0_S BIT(44)                  /* 44 stall */
#define SMMU_CD_0_R BIT(45)                  /* 45 record faults */
#define SMMU_CD_0_A BIT(46)                  /* 46 abort (else RAZ/WI) */
#define SMMU_CD_0_ASET BIT(47)               /* 47 */
#define SMMU_CD_0_ASID GENMASK(63, 48)       /* 63:48 */
#define SMMU_CD_1_NSCFG0 BIT(0)              /* 64 */
#define SMMU_CD_1_HAD0 BIT(1)                /* 65 */
#define SMMU_CD_1_TTB0 GENMASK(51, 4)        /* 115:68 */
#define SMMU_CD_2_NSCFG1 BIT(0)              /* 128 */
#define SMMU_CD_2_HAD1 BIT(1)                /* 129 */
#define SMMU_CD_2_TTB1 GENMASK(51, 4)        /* 179:132 */
#define SMMU_CD_3_MAIR GENMASK(63, 0)        /* 255:192 */
#define SMMU_CD_4_AMAIR GENMASK(63, 0)       /* 319:256 */

/* ---- Event record (7.3): 256 bits ---- */
#define SMMU_EVT_0_TYPE GENMASK(7, 0)        /* 7:0 */
#define SMMU_EVT_0_SSV BIT(11)               /* 11 */
#define SMMU_EVT_0_SSID GENMASK(31, 12)      /* 31:12 SubstreamID */
#define SMMU_EVT_0_SID GENMASK(63, 32)       /* 63:32 StreamID */
#define SMMU_EVT_1_STAG GENMASK(15, 0)       /* 79:64 */
#define SMMU_EVT_1_STALL BIT(31)             /* 95 */
#define SMMU_EVT_1_PNU BIT(33)               /* 97 privileged */
#define SMMU_EVT_1_IND BIT(34)               /* 98 instruction */
#define SMMU_EVT_1_RNW BIT(35)               /* 99 read */
#define SMMU_EVT_1_S2 BIT(39)                /* 103 stage 2 */
#define SMMU_EVT_1_CLASS GENMASK(41, 40)     /* 105:104 */
#define SMMU_EVT_1_TTRNW BIT(44)             /* 108 table access was a read */
#define SMMU_EVT_2_INPUTADDR GENMASK(63, 0)  /* 191:128 */
#define SMMU_EVT_3_IPA GENMASK(51, 12)       /* 243:204 */
#define SMMU_EVT_3_FETCHADDR GENMASK(51, 3)  /* 243:195 */
#define SMMU_EVT_3_NSIPA BIT(63)             /* 255 */

/* Configuration read labels (ims_read.label) and decisions. */
enum smmu_label { SMMU_LBL_L1STD = 1, SMMU_LBL_STE, SMMU_LBL_L1CD, SMMU_LBL_CD };
enum { SMMU_DEC_OK = 0, SMMU_DEC_INVALID, SMMU_DEC_ILLEGAL, SMMU_DEC_ABORT };

/* ims_xlate_cfg.arch_flags: what finish() needs to know about a fault. */
enum {
	SMMU_AF_S1R = 1u << 0,     /* CD.R: record stage-1 translation faults */
	SMMU_AF_S2R = 1u << 1,     /* STE.S2R: record stage-2 translation faults */
	SMMU_AF_CD_S2 = 1u << 2,   /* the fault is stage 2 translating a CD or L1CD address */
	SMMU_AF_HAVE_CD = 1u << 3, /* a CD was decoded (S1R is meaningful) */
};

/* What an STE says, decoded and validated (ste.c). */
struct smmu_ste_info {
	unsigned config;      /* STE.Config */
	bool s1, s2;          /* stages enabled for this request (after S1DSS) */
	unsigned s1fmt, s1cdmax, s1dss, strw, eats;
	uint64_t s1ctxptr;
	uint32_t vmid;
	uint64_t ste_pa;
};

/* regs.c */
int smmu_regs_parse(json_t *section, const char *label, unsigned haw, struct smmu_state *st,
		    char *err, size_t errlen);
unsigned smmu_oas_bits(unsigned oas);   /* IDR5.OAS / CD.IPS / STE.S2PS encoding -> bits, 0 if reserved */
/*
 * The granule (log2 bytes) a TGx field selects: CD.TG0 or STE.S2TG (tg1
 * false), CD.TG1 (tg1 true); 0 for a reserved encoding or a granule
 * IDR5.GRANxx does not offer.
 */
unsigned smmu_tg_granule(const struct smmu_state *st, unsigned tg, bool tg1);

/* ste.c and cd.c: configuration fetch (3.3, 3.4, 5.x), through the engine's
 * ims_config_read/ims_config_fail.  Faults go to res. */
int smmu_ste_fetch_decode(struct ims_iommu *iommu, const struct ims_txn *txn,
			  struct smmu_ste_info *si, struct ims_xlate_cfg *cfg,
			  struct ims_result *res);
int smmu_cd_fetch_decode(struct ims_iommu *iommu, const struct ims_txn *txn,
			 const struct smmu_ste_info *si, struct ims_xlate_cfg *cfg,
			 struct ims_result *res);

/* event.c: the event queue in memory (7.2, 7.4) and the neutral-fault mapping (7.3). */
void smmu_fault_to_event(const struct ims_txn *txn, const struct ims_xlate_cfg *cfg,
			 const struct ims_result *res, struct smmu_event *ev);
bool smmu_event_is_translation(unsigned type);
/* Queue one record; returns 0 written, or SMMU_EVTQ_* why it was not. */
int smmu_evtq_write(struct ims_iommu *iommu, const uint64_t rec[4]);

/* structs.c */
extern const struct ims_struct_desc smmu_structs[];
#define SMMU_NSTRUCTS 4
const struct ims_struct_desc *smmu_label_struct(unsigned label);

#endif
