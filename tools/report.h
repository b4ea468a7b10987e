/*
 * report.h - the statistics of one replay, as `iommusim replay` prints them
 * and `iommusim study` collects them.
 */
#ifndef IMS_TOOLS_REPORT_H
#define IMS_TOOLS_REPORT_H

#include <stdio.h>

#include <iommusim/iommusim.h>

struct run_result {
	struct ims_replay_stats rs;
	struct ims_stats is;
	struct ims_cache_stats cs[IMS_ST__COUNT];
	bool have[IMS_ST__COUNT];
	unsigned clock_mhz;
};

/* Collect a finished replay's statistics. */
void run_collect(struct run_result *r, struct ims_iommu *iommu, const struct ims_replay *rp);

/* Derived figures (0 when the denominator is 0). */
double run_cycles_per_dma(const struct run_result *r);
double run_reads_per_dma(const struct run_result *r);
double run_reads_per_page(const struct run_result *r);
double run_iotlb_miss_rate(const struct run_result *r);
double run_iotlb_misses_per_page(const struct run_result *r);
double run_inv_cycles_per_unmap(const struct run_result *r);
double run_needless_per_unmap(const struct run_result *r);

enum report_fmt { REPORT_TABLE, REPORT_JSON, REPORT_CSV };

/* Print one result; label names the run (trace, model, driver). */
void run_print(FILE *out, enum report_fmt fmt, const char *label, const struct run_result *r);
/* CSV header matching run_print(REPORT_CSV) rows, with leading extra columns. */
void run_csv_header(FILE *out, const char *extra_cols);
void run_csv_row(FILE *out, const char *extra_vals, const struct run_result *r);

#endif
