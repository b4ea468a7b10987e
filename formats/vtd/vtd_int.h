/*
 * vtd_int.h - Intel VT-d private declarations: register and structure
 * layouts, the instance state, and what the files of formats/vtd/ share.
 *
 * Reference: Intel Virtualization Technology for Directed I/O, Architecture
 * Specification (rev 4.x / 5.0): chapter 9 (translation structure formats),
 * chapter 10/11 (registers), chapter 7 (faults), chapter 6.5 (invalidation).
 * Masks are named VTD_<STRUCT>_<word>_<FIELD>; the comment gives the spec's
 * absolute bit range.
 */
#ifndef IMS_VTD_INT_H
#define IMS_VTD_INT_H

#include "engine/bits.h"
#include "engine/engine_int.h"
#include <iommusim/vtd.h>

/* ---- CAP_REG (11.4.2) ---- */
#define VTD_CAP_ND GENMASK(2, 0)         /* 2:0 number of domains */
#define VTD_CAP_AFL BIT(3)               /* 3 advanced fault logging */
#define VTD_CAP_RWBF BIT(4)              /* 4 */
#define VTD_CAP_PLMR BIT(5)              /* 5 */
#define VTD_CAP_PHMR BIT(6)              /* 6 */
#define VTD_CAP_CM BIT(7)                /* 7 caching mode */
#define VTD_CAP_SAGAW GENMASK(12, 8)     /* 12:8 supported AGAWs */
#define VTD_CAP_MGAW GENMASK(21, 16)     /* 21:16 max guest address width - 1 */
#define VTD_CAP_ZLR BIT(22)              /* 22 */
#define VTD_CAP_FRO GENMASK(33, 24)      /* 33:24 fault recording reg offset / 16 */
#define VTD_CAP_SLLPS GENMASK(37, 34)    /* 37:34 second-stage large pages */
#define VTD_CAP_PSI BIT(39)              /* 39 page-selective invalidation */
#define VTD_CAP_NFR GENMASK(47, 40)      /* 47:40 fault recording regs - 1 */
#define VTD_CAP_MAMV GENMASK(53, 48)     /* 53:48 max address mask value */
#define VTD_CAP_DWD BIT(54)              /* 54 write draining */
#define VTD_CAP_DRD BIT(55)              /* 55 read draining */
#define VTD_CAP_FS1GP BIT(56)            /* 56 first-stage 1 GiB pages */
#define VTD_CAP_PI BIT(59)               /* 59 posted interrupts */
#define VTD_CAP_FS5LP BIT(60)            /* 60 first-stage 5-level paging */
#define VTD_CAP_ESIRTPS BIT(62)          /* 62 */
#define VTD_CAP_ESRTPS BIT(63)           /* 63 */

/* ---- ECAP_REG (11.4.3) ---- */
#define VTD_ECAP_C BIT(0)                /* 0 page-walk coherency */
#define VTD_ECAP_QI BIT(1)               /* 1 queued invalidation */
#define VTD_ECAP_DT BIT(2)               /* 2 device-TLB */
#define VTD_ECAP_IR BIT(3)               /* 3 interrupt remapping */
#define VTD_ECAP_EIM BIT(4)              /* 4 */
#define VTD_ECAP_PT BIT(6)               /* 6 pass-through */
#define VTD_ECAP_SC BIT(7)               /* 7 snoop control */
#define VTD_ECAP_IRO GENMASK(17, 8)      /* 17:8 IOTLB register offset / 16 */
#define VTD_ECAP_MHMV GENMASK(23, 20)    /* 23:20 */
#define VTD_ECAP_MTS BIT(25)             /* 25 memory type */
#define VTD_ECAP_NEST BIT(26)            /* 26 nested translation */
#define VTD_ECAP_PRS BIT(29)             /* 29 page requests */
#define VTD_ECAP_ERS BIT(30)             /* 30 execute requests */
#define VTD_ECAP_SRS BIT(31)             /* 31 supervisor requests */
#define VTD_ECAP_NWFS BIT(33)            /* 33 */
#define VTD_ECAP_EAFS BIT(34)            /* 34 extended accessed flag */
#define VTD_ECAP_PSS GENMASK(39, 35)     /* 39:35 PASID size - 1 */
#define VTD_ECAP_PASID BIT(40)           /* 40 */
#define VTD_ECAP_DIT BIT(41)             /* 41 device-TLB invalidation throttle */
#define VTD_ECAP_PDS BIT(42)             /* 42 page-request drain */
#define VTD_ECAP_SMTS BIT(43)            /* 43 scalable mode */
#define VTD_ECAP_VCS BIT(44)             /* 44 */
#define VTD_ECAP_SSADS BIT(45)           /* 45 second-stage A/D */
#define VTD_ECAP_SSTS BIT(46)            /* 46 second-stage translation */
#define VTD_ECAP_FSTS BIT(47)            /* 47 first-stage translation */
#define VTD_ECAP_SMPWCS BIT(48)          /* 48 */
#define VTD_ECAP_RPS BIT(49)             /* 49 RID_PASID */
#define VTD_ECAP_ADMS BIT(52)            /* 52 abort DMA mode */
#define VTD_ECAP_RPRIVS BIT(53)          /* 53 RID_PRIV */

/* ---- RTADDR_REG (11.4.5) ---- */
#define VTD_RTADDR_TTM GENMASK(11, 10)   /* 11:10 translation table mode */
#define VTD_RTADDR_RTA GENMASK(63, 12)   /* 63:12 root table address */
enum { VTD_TTM_LEGACY = 0, VTD_TTM_SCALABLE = 1, VTD_TTM_RESERVED = 2, VTD_TTM_ABORT = 3 };

/* ---- Root entry, legacy (9.1): 128 bits ---- */
#define VTD_RE_0_P BIT(0)                /* 0 present */
#define VTD_RE_0_RSVD GENMASK(11, 1)     /* 11:1 reserved */
#define VTD_RE_0_CTP GENMASK(63, 12)     /* 63:12 context-table pointer */
/* word 1 (127:64) reserved */

/* ---- Scalable-mode root entry (9.2) ---- */
#define VTD_SRE_0_LP BIT(0)              /* 0 lower present */
#define VTD_SRE_0_RSVD GENMASK(11, 1)    /* 11:1 */
#define VTD_SRE_0_LCTP GENMASK(63, 12)   /* 63:12 lower context table (devfn 0-127) */
#define VTD_SRE_1_UP BIT(0)              /* 64 upper present */
#define VTD_SRE_1_RSVD GENMASK(11, 1)    /* 75:65 */
#define VTD_SRE_1_UCTP GENMASK(63, 12)   /* 127:76 upper context table (devfn 128-255) */

/* ---- Context entry, legacy (9.3): 128 bits ---- */
#define VTD_CE_0_P BIT(0)                /* 0 present */
#define VTD_CE_0_FPD BIT(1)              /* 1 fault processing disable */
#define VTD_CE_0_TT GENMASK(3, 2)        /* 3:2 translation type */
#define VTD_CE_0_RSVD GENMASK(11, 4)     /* 11:4 */
#define VTD_CE_0_SSPTPTR GENMASK(63, 12) /* 63:12 second-stage table pointer */
#define VTD_CE_1_AW GENMASK(2, 0)        /* 66:64 address width */
#define VTD_CE_1_IGN GENMASK(6, 3)       /* 70:67 ignored */
#define VTD_CE_1_RSVD7 BIT(7)            /* 71 */
#define VTD_CE_1_DID GENMASK(23, 8)      /* 87:72 domain id */
#define VTD_CE_1_RSVD GENMASK(63, 24)    /* 127:88 */
enum { VTD_TT_MULTI_LEVEL = 0, VTD_TT_DEV_TLB = 1, VTD_TT_PASS_THROUGH = 2, VTD_TT_RESERVED = 3 };

/* ---- Scalable-mode context entry (9.4): 256 bits ---- */
#define VTD_SCE_0_P BIT(0)               /* 0 present */
#define VTD_SCE_0_FPD BIT(1)             /* 1 */
#define VTD_SCE_0_DTE BIT(2)             /* 2 device-TLB enable */
#define VTD_SCE_0_PASIDE BIT(3)          /* 3 PASID enable */
#define VTD_SCE_0_PRE BIT(4)             /* 4 page request enable */
#define VTD_SCE_0_RSVD GENMASK(8, 5)     /* 8:5 */
#define VTD_SCE_0_PDTS GENMASK(11, 9)    /* 11:9 PASID directory size: 2^(PDTS+7) */
#define VTD_SCE_0_PASIDDIRPTR GENMASK(63, 12) /* 63:12 */
#define VTD_SCE_1_RID_PASID GENMASK(19, 0) /* 83:64 */
#define VTD_SCE_1_RID_PRIV BIT(20)       /* 84 */
#define VTD_SCE_1_RSVD GENMASK(63, 21)   /* 127:85 */
/* words 2 and 3 (255:128) reserved */

/* ---- Scalable-mode PASID directory entry (9.5): 64 bits ---- */
#define VTD_PDE_P BIT(0)                 /* 0 */
#define VTD_PDE_FPD BIT(1)               /* 1 */
#define VTD_PDE_RSVD GENMASK(11, 2)      /* 11:2 */
#define VTD_PDE_SMPTBLPTR GENMASK(63, 12) /* 63:12 PASID table pointer */

/* ---- Scalable-mode PASID table entry (9.6): 512 bits ---- */
#define VTD_PE_0_P BIT(0)                /* 0 */
#define VTD_PE_0_FPD BIT(1)              /* 1 */
#define VTD_PE_0_AW GENMASK(4, 2)        /* 4:2 second-stage address width */
#define VTD_PE_0_SSEE BIT(5)             /* 5 second-stage execute enable */
#define VTD_PE_0_PGTT GENMASK(8, 6)      /* 8:6 PASID granular translation type */
#define VTD_PE_0_SSADE BIT(9)            /* 9 second-stage A/D enable */
#define VTD_PE_0_RSVD GENMASK(11, 10)    /* 11:10 */
#define VTD_PE_0_SSPTPTR GENMASK(63, 12) /* 63:12 */
#define VTD_PE_1_DID GENMASK(15, 0)      /* 79:64 */
#define VTD_PE_1_RSVD GENMASK(22, 16)    /* 86:80 */
#define VTD_PE_1_PWSNP BIT(23)           /* 87 */
#define VTD_PE_1_PGSNP BIT(24)           /* 88 */
#define VTD_PE_2_SRE BIT(0)              /* 128 supervisor request enable */
#define VTD_PE_2_ERE BIT(1)              /* 129 (older revisions) */
#define VTD_PE_2_FSPM GENMASK(3, 2)      /* 131:130 first-stage paging mode */
#define VTD_PE_2_WPE BIT(4)              /* 132 write protect enable */
#define VTD_PE_2_NXE BIT(5)              /* 133 (older revisions) */
#define VTD_PE_2_SMEP BIT(6)             /* 134 (older revisions) */
#define VTD_PE_2_EAFE BIT(7)             /* 135 extended accessed flag enable */
#define VTD_PE_2_RSVD GENMASK(11, 8)     /* 139:136 */
#define VTD_PE_2_FSPTPTR GENMASK(63, 12) /* 191:140 first-stage table pointer */
enum { VTD_PGTT_FS = 1, VTD_PGTT_SS = 2, VTD_PGTT_NESTED = 3, VTD_PGTT_PT = 4 };

/* ---- First-stage paging entry (9.7; Intel SDM 4.5 paging) ---- */
#define VTD_FS_P BIT(0)
#define VTD_FS_RW BIT(1)
#define VTD_FS_US BIT(2)
#define VTD_FS_PWT BIT(3)
#define VTD_FS_PCD BIT(4)
#define VTD_FS_A BIT(5)
#define VTD_FS_D BIT(6)                  /* leaf only */
#define VTD_FS_PS BIT(7)                 /* PDPE/PDE: page size; PML4E/PML5E: reserved */
#define VTD_FS_G BIT(8)                  /* leaf only */
#define VTD_FS_EA BIT(10)                /* extended accessed */
#define VTD_FS_ADDR GENMASK(51, 12)
#define VTD_FS_XD BIT(63)

/* ---- Second-stage paging entry (9.8) ---- */
#define VTD_SS_R BIT(0)
#define VTD_SS_W BIT(1)
#define VTD_SS_X BIT(2)
#define VTD_SS_PS BIT(7)                 /* SS-PDPE/SS-PDE: page size; else reserved */
#define VTD_SS_A BIT(8)
#define VTD_SS_D BIT(9)                  /* leaf only */
#define VTD_SS_SNP BIT(11)               /* leaf: snoop (reserved without ECAP.SC) */
#define VTD_SS_ADDR GENMASK(51, 12)
#define VTD_SS_RSVD62 BIT(62)

/* Format flags carried in ims_pt_cfg.flags. */
enum {
	VTD_F_WPE = 1u << 0,   /* FS: supervisor writes honour R/W */
	VTD_F_EAFE = 1u << 1,  /* FS: set EA with A */
	VTD_F_FS1GP = 1u << 2, /* FS: 1 GiB pages */
	VTD_F_SSADE = 1u << 3, /* SS: A/D updates */
	VTD_F_SSEE = 1u << 4,  /* SS: execute permission checked */
	VTD_F_SC = 1u << 5,    /* SS: SNP bit allowed */
	VTD_F_2M = 1u << 6,    /* SS: 2 MiB pages (SLLPS bit 0) */
	VTD_F_1G = 1u << 7,    /* SS: 1 GiB pages (SLLPS bit 1) */
};

/*
 * Address bits a paging entry of either stage must keep zero: 51:width,
 * where width (ims_pt_cfg.tag) is the HAW, or 52.
 */
static inline uint64_t vtd_addr_rsvd(const struct ims_pt_cfg *cfg)
{
	return cfg->tag >= 52 ? 0 : GENMASK(51, cfg->tag);
}

extern const struct ims_pt_format vtd_fs_format;
extern const struct ims_pt_format vtd_ss_format;

/* Fill a first-stage walk configuration (levels 4 or 5). */
void vtd_fs_cfg_init(struct ims_pt_cfg *cfg, uint64_t root, unsigned levels, unsigned haw,
		     uint32_t flags);
/* Fill a second-stage walk configuration for AW code `aw` (1: 3 levels ...). */
void vtd_ss_cfg_init(struct ims_pt_cfg *cfg, uint64_t root, unsigned aw, unsigned mgaw, unsigned haw,
		     uint32_t flags);

/* Configuration read labels (ims_read.label). */
enum vtd_label {
	VTD_LBL_ROOT = 1,
	VTD_LBL_SM_ROOT,
	VTD_LBL_CONTEXT,
	VTD_LBL_SM_CONTEXT,
	VTD_LBL_PASID_DIR,
	VTD_LBL_PASID_ENTRY,
};
/* Config read decisions (ims_read.decision). */
enum { VTD_DEC_OK = 0, VTD_DEC_NOT_PRESENT, VTD_DEC_RESERVED, VTD_DEC_INVALID, VTD_DEC_ABORT };

/* Everything a VT-d instance holds. */
struct vtd_state {
	uint64_t cap, ecap;
	uint64_t rtaddr;       /* as software wrote it */
	bool te;               /* GCMD.TE: translation enabled */
	unsigned haw;
	/* Queued invalidation (qi.c). */
	uint64_t iqa, iqh, iqt, iqercd;
	bool qie, iqe, ics_iwc;
	uint64_t qi_done;      /* descriptors carried out */
	struct vtd_fault_log *log;
};

static inline struct vtd_state *vtd_state(struct ims_iommu *iommu)
{
	return (struct vtd_state *)iommu->arch_priv;
}

/* RTADDR.TTM selects scalable mode (3.4.3). */
static inline bool vtd_is_scalable(const struct vtd_state *st)
{
	return FIELD_GET(VTD_RTADDR_TTM, st->rtaddr) == VTD_TTM_SCALABLE;
}

/* The second-stage format flags the capabilities fix (CAP.SLLPS, ECAP.SC). */
static inline uint32_t vtd_ss_cap_flags(const struct vtd_state *st)
{
	uint32_t flags = 0;

	if (FIELD_GET(VTD_CAP_SLLPS, st->cap) & 1)
		flags |= VTD_F_2M;
	if (FIELD_GET(VTD_CAP_SLLPS, st->cap) & 2)
		flags |= VTD_F_1G;
	if (st->ecap & VTD_ECAP_SC)
		flags |= VTD_F_SC;
	return flags;
}

/* cap.c */
int vtd_caps_parse(json_t *section, const char *label, uint64_t *cap, uint64_t *ecap,
		   unsigned *fault_records, char *err, size_t errlen);
bool vtd_agaw_supported(uint64_t cap, unsigned aw);

/* root_context.c and pasid.c: configuration fetch (VT-d 3.4 / 3.6 / 9.x). */
int vtd_fetch_legacy(struct ims_iommu *iommu, const struct ims_txn *txn,
		     struct ims_xlate_cfg *cfg, struct ims_result *res);
int vtd_fetch_scalable(struct ims_iommu *iommu, const struct ims_txn *txn,
		       struct ims_xlate_cfg *cfg, struct ims_result *res);

/* pasid.c */
int vtd_fetch_pasid(struct ims_iommu *iommu, const struct ims_txn *txn, const uint64_t *sce,
		    struct ims_xlate_cfg *cfg, struct ims_result *res);

/* fault.c */
struct vtd_fault_log *vtd_fault_log_new(unsigned records);
void vtd_fault_log_free(struct vtd_fault_log *log);
unsigned vtd_fault_reason(const struct ims_xlate_cfg *cfg, const struct ims_fault *f,
			  bool scalable, unsigned access);
/* Log a fault (7.2.1); false when it was dropped (PFO set or log full). */
bool vtd_fault_record(struct vtd_fault_log *log, const struct ims_txn *txn,
		      const struct ims_fault *f);

/* structs.c */
extern const struct ims_struct_desc vtd_structs[];
#define VTD_NSTRUCTS 6
const struct ims_struct_desc *vtd_label_struct(unsigned label);

/* qi.c: the invalidation queue registers (-ENOENT: not one of them). */
int vtd_qi_set_reg(struct ims_iommu *iommu, const char *name, uint64_t value);
int vtd_qi_get_reg(struct ims_iommu *iommu, const char *name, uint64_t *value);

/* inv_queue.c */
int vtd_decode_inv(struct ims_iommu *iommu, const uint64_t *words, unsigned nwords,
		   struct ims_inv *inv, uint32_t *arch_err);

#endif
