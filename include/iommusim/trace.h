/*
 * iommusim/trace.h - trace events, their two encodings, workload
 * generators, driver models and replay.
 *
 * A trace is a stream of events ordered by time: what software did to an
 * IOMMU (attach devices to domains, map and unmap, invalidate, wait) and
 * what devices did through it (DMA).  Two encodings carry the same events
 * losslessly: JSON Lines for people and other tools, and a compact binary
 * form for speed; both start with a header naming the format version.
 *
 * Replay feeds a trace to an IOMMU instance through a driver model: the
 * model turns attach/map/unmap into real table and configuration writes and
 * into the invalidations a kernel of that kind would issue (strict, flush
 * queue, batched range, domain-selective, global), in the architecture's
 * own descriptors or commands, and DMA events into translations.
 * Statistics come from the instance's caches and counters.
 */
#ifndef IOMMUSIM_TRACE_H
#define IOMMUSIM_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <iommusim/iommu.h>

#ifdef __cplusplus
extern "C" {
#endif

#define IMS_TRACE_VERSION 1

enum ims_ev_type {
	IMS_EV_ATTACH = 1, /* dev (and pasid) now translate through domain */
	IMS_EV_DETACH,     /* dev (and pasid) no longer attached */
	IMS_EV_MAP,        /* domain: [iova, iova + size) -> pa with perm */
	IMS_EV_UNMAP,      /* domain: [iova, iova + size) unmapped */
	IMS_EV_DMA,        /* dev (and pasid) accesses [iova, iova + size) */
	IMS_EV_INV,        /* an explicit invalidation (raw words or neutral kind) */
	IMS_EV_SYNC,       /* an explicit completion wait */
	IMS_EV_FAULT,      /* a fault seen when the trace was recorded */
	IMS_EV_WRITE,      /* software wrote the 64-bit value words[0] at pa */
	IMS_EV_TICK,       /* time passes (flush-queue timeouts); ts_ns only */
	IMS_EV__COUNT
};

/* Neutral invalidation kinds for IMS_EV_INV without raw words. */
enum ims_ev_inv_kind {
	IMS_EV_INV_PAGE = 1, /* [iova, iova + size) of domain */
	IMS_EV_INV_DOMAIN,   /* all of domain */
	IMS_EV_INV_PASID,    /* all of (domain, pasid) */
	IMS_EV_INV_GLOBAL,   /* everything */
};

/* Event flags. */
enum {
	IMS_EV_F_LEAF = 1u << 0,  /* INV: leaf-only hint (IH / LEAF) */
	IMS_EV_F_NESTED = 1u << 1 /* ATTACH/INV: a guest (stage-1) domain over a nested parent */
};

/*
 * One event.  Which fields matter depends on the type (see enum
 * ims_ev_type); the others are zero.  access: IMS_ACC_* for DMA, IMS_PERM_*
 * for MAP.  For INV, nwords > 0 carries an architecture descriptor or
 * command as words[0..nwords-1]; nwords == 0 uses inv_kind.
 */
struct ims_event {
	uint64_t ts_ns;
	uint16_t type;       /* enum ims_ev_type */
	uint16_t cpu;        /* CPU or queue the event came from */
	uint16_t flags;      /* IMS_EV_F_* */
	uint8_t has_pasid;
	uint8_t access;
	uint32_t dev;        /* requester ID / StreamID */
	uint32_t pasid;      /* PASID / SubstreamID when has_pasid */
	uint32_t domain;     /* the driver's domain number */
	uint8_t nwords;      /* INV: raw words */
	uint8_t inv_kind;    /* INV: enum ims_ev_inv_kind when nwords == 0 */
	uint32_t parent;     /* ATTACH with IMS_EV_F_NESTED: the parent (stage-2) domain */
	uint64_t iova, size, pa;
	uint64_t words[4];
};

const char *ims_ev_type_name(enum ims_ev_type type);

/* ---- encodings (traces/format.c, traces/jsonl.c, traces/binary.c) ---- */

enum ims_trace_fmt {
	IMS_TRACE_JSONL = 0,
	IMS_TRACE_BINARY,
};

struct ims_trace_header {
	uint32_t version;   /* IMS_TRACE_VERSION */
	char arch[16];      /* "vtd", "smmuv3" or "" (architecture-neutral) */
	char source[64];    /* what produced it: "gen:nic-rx", "ftrace", ... */
};

struct ims_trace_reader;
struct ims_trace_writer;

/*
 * Open a trace, either encoding (told apart by its first bytes; "-" is
 * standard input).  Errors name the file, the line (JSON Lines) or record
 * (binary), the field and what was expected.
 */
int ims_trace_open(const char *path, struct ims_trace_reader **out, char *err, size_t errlen);
const struct ims_trace_header *ims_trace_reader_header(const struct ims_trace_reader *r);
enum ims_trace_fmt ims_trace_reader_fmt(const struct ims_trace_reader *r);
/* 1: an event in *ev; 0: end of trace; negative errno: bad input (message in err). */
int ims_trace_next(struct ims_trace_reader *r, struct ims_event *ev, char *err, size_t errlen);
/* Bytes consumed so far and the file size (0 when unknown), for progress. */
void ims_trace_progress(const struct ims_trace_reader *r, uint64_t *done, uint64_t *total);
void ims_trace_close(struct ims_trace_reader *r);

int ims_trace_create(const char *path, enum ims_trace_fmt fmt, const struct ims_trace_header *h,
		     struct ims_trace_writer **out, char *err, size_t errlen);
int ims_trace_write(struct ims_trace_writer *w, const struct ims_event *ev);
/* Flush and close; returns 0 or a negative errno. */
int ims_trace_finish(struct ims_trace_writer *w);

/* One event as a JSON Lines line (no newline); returns the length or -ENOSPC. */
int ims_event_to_json(const struct ims_event *ev, char *buf, size_t len);

/* ---- driver models and replay (traces/driver.c, traces/replay.c) ---- */

enum ims_drv_policy {
	IMS_DRV_STRICT = 0,   /* invalidate and wait on every unmap */
	IMS_DRV_FQ,           /* Linux per-CPU flush queue: batch, flush when full or timed out */
	IMS_DRV_SINGLE_FQ,    /* one shared flush queue */
	IMS_DRV_RANGE,        /* strict, one range invalidation per unmap call */
	IMS_DRV_DOMAIN,       /* strict, domain-selective invalidation per unmap */
	IMS_DRV_GLOBAL,       /* strict, global invalidation per unmap */
};

struct ims_driver_cfg {
	char name[48];
	enum ims_drv_policy policy;
	uint32_t fq_size;          /* entries per queue (IMS_DRV_FQ / SINGLE_FQ) */
	uint64_t fq_timeout_ns;
	bool leaf_hint;            /* IH / LEAF on page and range invalidations */
	uint32_t range_max_pages;  /* above this, invalidate the whole domain/ASID (0 = never) */
	unsigned stage;            /* host domains: 1 = first stage, 2 = second stage */
};

/* Parse a driver model from JSON text; errors name the label and field. */
int ims_driver_parse(const char *json, const char *label, struct ims_driver_cfg *cfg, char *err,
		     size_t errlen);
/* A built-in model by name ("strict", "fq", "single-fq", "range", "domain", "global"). */
int ims_driver_builtin(const char *name, struct ims_driver_cfg *cfg);

struct ims_replay_stats {
	uint64_t events, dmas, dma_pages, dma_faults;
	uint64_t maps, unmaps, mapped_pages, unmapped_pages;
	uint64_t inv_commands, inv_syncs; /* descriptors/commands issued, waits/syncs */
	uint64_t dma_cycles;              /* translation cycles of all DMAs */
	uint64_t inv_cycles;              /* cycles of all invalidations and waits */
	uint64_t table_reads;             /* page-table reads made for DMAs */
	uint64_t ts_first, ts_last;
};

struct ims_replay;

/*
 * Replay onto iommu (whose architecture the driver model speaks) with the
 * driver model; seed fixes every random choice, so the same trace, model
 * and seed give byte-identical statistics.
 */
int ims_replay_new(struct ims_iommu *iommu, const struct ims_driver_cfg *drv, uint64_t seed,
		   struct ims_replay **out, char *err, size_t errlen);
/* 0, or a negative errno with a message (an event the model cannot apply). */
int ims_replay_event(struct ims_replay *rp, const struct ims_event *ev, char *err, size_t errlen);
/* Drain flush queues at the end of the trace. */
int ims_replay_finish(struct ims_replay *rp);
const struct ims_replay_stats *ims_replay_stats(const struct ims_replay *rp);
void ims_replay_free(struct ims_replay *rp);

/*
 * Domains whose owner names them, for software that is a driver itself
 * (iommufd's host driver) rather than a trace: a host domain of stage 1 or
 * 2, or a nested domain over stage-2 domain `parent` whose stage 1 the
 * guest built (guest != NULL; stage is then ignored).  MAP, UNMAP, ATTACH,
 * DETACH and INV events then name the domain by id.  0, -EEXIST, -EINVAL
 * (no such parent), -EOPNOTSUPP (the model lacks the format), -ENOMEM.
 */
struct ims_replay_guest {
	/* VT-d: the first-stage root (guest-physical), 4 or 5 levels, and the
	 * PASID-entry bits SRE, WPE and EAFE (spec 9.6). */
	uint64_t fs_root;
	unsigned fs_levels;
	bool sre, wpe, eafe;
	/* SMMUv3: the guest STE's first two words (IHI 0070 5.2): V, Config,
	 * S1ContextPtr, S1Fmt, S1CDMax, S1DSS, S1CIR/COR/CSH, S1STALLD, EATS. */
	uint64_t ste[2];
};
int ims_replay_domain_new(struct ims_replay *rp, uint32_t id, unsigned stage, uint32_t parent,
			  const struct ims_replay_guest *guest, char *err, size_t errlen);
/* Forget a domain nothing is attached to and no nested domain is over
 * (its id may then be reused); 0, -ENOENT or -EBUSY.  Its table memory is
 * not reclaimed. */
int ims_replay_domain_free(struct ims_replay *rp, uint32_t id);
/* The table configuration of domain id (nested: the guest's stage 1). */
int ims_replay_domain_cfg(const struct ims_replay *rp, uint32_t id, struct ims_pt_cfg *cfg);

/*
 * Hardware dirty-state recording of host domain id on or off, written as a
 * driver writes it (iommufd's dirty tracking):
 *   VT-d second-stage domain: SSADE (spec 9.6, 3.7.2) in every PASID entry
 *     walking it, its own attachments' and those of nested domains over
 *     it, each with a PASID-selective PASID-cache and a domain-selective
 *     IOTLB invalidation, then a wait (Linux intel_pasid_setup_dirty_tracking);
 *     later attachments get SSADE too.
 *   SMMUv3 stage-1 domain: HA and HD in its CDs (IHI 0070 5.4) with
 *     CMD_CFGI_CD, DBM (bit 51) in its writable leaves, which makes them
 *     writable-dirty (Arm ARM D8.5.4), and in every writable leaf mapped
 *     later, then CMD_TLBI_NH_ASID and CMD_SYNC (Linux's
 *     IO_PGTABLE_QUIRK_ARM_HD).  Off takes DBM out and leaves the pages
 *     plainly writable.
 * 0; -ENOENT; -EOPNOTSUPP for other kinds of domains or when the model
 * cannot update dirty state (ECAP.SSADS, IDR0.HTTU != 2), with nothing
 * changed; or a queue error, after which the previous setting is rewritten.
 */
int ims_replay_domain_set_dirty(struct ims_replay *rp, uint32_t id, bool on, char *err,
				size_t errlen);
/*
 * Read the dirty state of domain id's leaves over [iova, last], as a driver
 * reads its own tables (straight from memory): record(arg, page_iova,
 * page_size) for each leaf mapping part of the range that says written
 * (VT-d second stage: D, bit 9; SMMUv3 stage 1: DBM = 1 and AP[2] = 0).
 * With clear, each such leaf is made clean (D = 0; AP[2] = 1) and the
 * cleaned pages are invalidated from the IOTLB (leaf-only range commands,
 * then a wait), so that the next write walks and records again.  Whether
 * recording is on is not checked: that is the caller's policy.  0, -ENOENT,
 * -EINVAL (iova > last), -EOPNOTSUPP (a domain kind without dirty state),
 * -EFAULT (table memory missing).
 */
int ims_replay_domain_read_dirty(struct ims_replay *rp, uint32_t id, uint64_t iova,
				 uint64_t last, bool clear,
				 void (*record)(void *arg, uint64_t iova, uint64_t size), void *arg,
				 char *err, size_t errlen);

/* ---- IOVA allocation (traces/iova.c) ---- */

/*
 * An IOVA allocator shaped like Linux's: size-aligned ranges allocated
 * top-down below `limit`, with per-CPU caches ("magazines") of recently
 * freed ranges for each power-of-two size up to 2^cache_max_lg2 pages, so
 * that a freed range is reused by the next allocation of its size on that
 * CPU.  cache_max_lg2 = 0 disables the caches; Linux caches 1..32 pages
 * (cache_max_lg2 = 5, IOVA_RANGE_CACHE_MAX_SIZE = 6 orders).  Deterministic.
 */
struct ims_iova;
int ims_iova_new(uint64_t base, uint64_t limit, unsigned cpus, unsigned cache_max_lg2,
		 struct ims_iova **out);
/*
 * A range of `size` bytes in 4 KiB pages, aligned to its size rounded up to a
 * power of two (sizes below 2^cache_max_lg2 pages also occupy that rounded
 * size, as in Linux), or 0 when full.  cpu is taken modulo cpus.
 */
uint64_t ims_iova_alloc(struct ims_iova *a, unsigned cpu, uint64_t size);
/* Give back a range from ims_iova_alloc with the size it was asked for. */
void ims_iova_free(struct ims_iova *a, unsigned cpu, uint64_t iova, uint64_t size);
/* Release every range and empty every cache; the allocator stays usable. */
void ims_iova_free_all(struct ims_iova *a);
void ims_iova_destroy(struct ims_iova *a);

/* ---- workload generators (traces/gen.c) ---- */

/*
 * Generate a named workload ("nic-rx", "nic-rxtx", "nvme", "accel",
 * "nested-vm", "dma-sweep", "inv-micro") with parameters from JSON text
 * (NULL for defaults), calling emit for every event in time order.
 * Returns 0, or a negative errno with a message naming the parameter.
 */
typedef int (*ims_emit_fn)(void *opaque, const struct ims_event *ev);
int ims_gen_run(const char *workload, const char *params_json, uint64_t seed, ims_emit_fn emit,
		void *opaque, char *err, size_t errlen);
/* The workloads and one line each on what they imitate. */
const char *const *ims_gen_names(void);
const char *ims_gen_describe(const char *workload);

/* ---- importers (traces/ftrace.c) ---- */

/*
 * Convert `trace-cmd report` / ftrace text with dma:* and iommu:* events
 * into trace events.  Lines of other events are skipped; malformed lines of
 * these events are errors naming the line and field.
 */
int ims_import_ftrace(const char *path, ims_emit_fn emit, void *opaque, char *err,
		      size_t errlen);

/* Importer options (docs/workloads.md, "Importing ftrace"); all off by default. */
struct ims_ftrace_opts {
	bool dma_per_map; /* after each map, one DMA touching each mapped page */
};
/* ims_import_ftrace with options (NULL: the defaults). */
int ims_import_ftrace_opts(const char *path, const struct ims_ftrace_opts *opts, ims_emit_fn emit,
			   void *opaque, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
