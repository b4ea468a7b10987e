/*
 * report.c - printing replay statistics as a table, JSON or CSV.
 *
 * Every figure is printed from integers with fixed formatting, so the same
 * trace, model, driver and seed give byte-identical output.
 */
#include <inttypes.h>
#include <string.h>

#include "tools/report.h"

void run_collect(struct run_result *r, struct ims_iommu *iommu, const struct ims_replay *rp)
{
	memset(r, 0, sizeof(*r));
	r->rs = *ims_replay_stats(rp);
	r->is = *ims_iommu_stats(iommu);
	r->clock_mhz = ims_iommu_clock_mhz(iommu);
	for (int id = 0; id < IMS_ST__COUNT; id++) {
		const struct ims_cache_stats *cs = ims_iommu_cache_stats(iommu, id);

		if (cs) {
			r->cs[id] = *cs;
			r->have[id] = true;
		}
	}
}

static double ratio(uint64_t a, uint64_t b)
{
	return b ? (double)a / (double)b : 0.0;
}

double run_cycles_per_dma(const struct run_result *r)
{
	return ratio(r->rs.dma_cycles, r->rs.dmas);
}

double run_reads_per_dma(const struct run_result *r)
{
	return ratio(r->rs.table_reads, r->rs.dmas);
}

double run_reads_per_page(const struct run_result *r)
{
	return ratio(r->rs.table_reads, r->rs.dma_pages);
}

double run_iotlb_miss_rate(const struct run_result *r)
{
	return ratio(r->cs[IMS_ST_IOTLB].misses, r->cs[IMS_ST_IOTLB].lookups);
}

double run_iotlb_misses_per_page(const struct run_result *r)
{
	return ratio(r->cs[IMS_ST_IOTLB].misses, r->rs.dma_pages);
}

double run_inv_cycles_per_unmap(const struct run_result *r)
{
	return ratio(r->rs.inv_cycles, r->rs.unmaps);
}

double run_needless_per_unmap(const struct run_result *r)
{
	uint64_t n = 0;

	for (int id = 0; id < IMS_ST__COUNT; id++)
		n += r->cs[id].needless;
	return ratio(n, r->rs.unmaps);
}

static void table(FILE *out, const char *label, const struct run_result *r)
{
	const struct ims_replay_stats *s = &r->rs;

	fprintf(out, "%s\n", label);
	fprintf(out, "  events %" PRIu64 ", simulated time %" PRIu64 " ns\n", s->events,
		s->ts_last - s->ts_first);
	fprintf(out, "  DMAs %" PRIu64 " (%" PRIu64 " pages), faults %" PRIu64 "\n", s->dmas,
		s->dma_pages, s->dma_faults);
	fprintf(out, "  cycles per DMA %.2f, walk reads per DMA %.3f, per page %.3f\n",
		run_cycles_per_dma(r), run_reads_per_dma(r), run_reads_per_page(r));
	fprintf(out, "  IOTLB misses per page %.3f, miss rate %.4f\n", run_iotlb_misses_per_page(r),
		run_iotlb_miss_rate(r));
	fprintf(out, "  maps %" PRIu64 " (%" PRIu64 " pages), unmaps %" PRIu64 " (%" PRIu64
		" pages)\n", s->maps, s->mapped_pages, s->unmaps, s->unmapped_pages);
	fprintf(out, "  invalidation commands %" PRIu64 ", syncs %" PRIu64 ", cycles %" PRIu64
		" (%.1f per unmap, %.1f ns at %u MHz)\n", s->inv_commands, s->inv_syncs,
		s->inv_cycles, run_inv_cycles_per_unmap(r),
		r->clock_mhz ? (double)s->inv_cycles * 1000.0 / r->clock_mhz : 0.0, r->clock_mhz);
	fprintf(out, "  %-11s %12s %12s %12s %8s %10s %10s %12s %10s\n", "structure", "lookups",
		"hits", "misses", "hit%", "fills", "evictions", "invalidated", "needless");
	for (int id = 0; id < IMS_ST__COUNT; id++) {
		const struct ims_cache_stats *c = &r->cs[id];

		if (!r->have[id])
			continue;
		fprintf(out, "  %-11s %12" PRIu64 " %12" PRIu64 " %12" PRIu64 " %8.2f %10" PRIu64
			" %10" PRIu64 " %12" PRIu64 " %10" PRIu64 "\n", ims_struct_name(id),
			c->lookups, c->hits, c->misses, 100.0 * ratio(c->hits, c->lookups),
			c->fills, c->evictions, c->invalidated, c->needless);
	}
}

static void json(FILE *out, const char *label, const struct run_result *r)
{
	const struct ims_replay_stats *s = &r->rs;
	bool first = true;
	char q[1024];
	size_t n = 0;

	/* The label as a JSON string body: escape quotes, backslashes, controls. */
	for (const char *p = label; *p && n < sizeof(q) - 8; p++) {
		if (*p == '"' || *p == '\\') {
			q[n++] = '\\';
			q[n++] = *p;
		} else if ((unsigned char)*p < 0x20) {
			n += (size_t)snprintf(q + n, sizeof(q) - n, "\\u%04x", *p);
		} else {
			q[n++] = *p;
		}
	}
	q[n] = 0;
	label = q;

	fprintf(out, "{\"run\": \"%s\", \"events\": %" PRIu64 ", \"dmas\": %" PRIu64
		", \"dma_pages\": %" PRIu64 ", \"dma_faults\": %" PRIu64 ", \"maps\": %" PRIu64
		", \"unmaps\": %" PRIu64 ", \"mapped_pages\": %" PRIu64
		", \"unmapped_pages\": %" PRIu64 ", \"inv_commands\": %" PRIu64
		", \"inv_syncs\": %" PRIu64 ", \"dma_cycles\": %" PRIu64 ", \"inv_cycles\": %" PRIu64
		", \"table_reads\": %" PRIu64 ", \"sim_ns\": %" PRIu64 ", \"caches\": {",
		label, s->events, s->dmas, s->dma_pages, s->dma_faults, s->maps, s->unmaps,
		s->mapped_pages, s->unmapped_pages, s->inv_commands, s->inv_syncs, s->dma_cycles,
		s->inv_cycles, s->table_reads, s->ts_last - s->ts_first);
	for (int id = 0; id < IMS_ST__COUNT; id++) {
		const struct ims_cache_stats *c = &r->cs[id];

		if (!r->have[id])
			continue;
		fprintf(out, "%s\"%s\": {\"lookups\": %" PRIu64 ", \"hits\": %" PRIu64
			", \"misses\": %" PRIu64 ", \"fills\": %" PRIu64 ", \"evictions\": %" PRIu64
			", \"invalidated\": %" PRIu64 ", \"needless\": %" PRIu64 "}",
			first ? "" : ", ", ims_struct_name(id), c->lookups, c->hits, c->misses,
			c->fills, c->evictions, c->invalidated, c->needless);
		first = false;
	}
	fprintf(out, "}}\n");
}

void run_csv_header(FILE *out, const char *extra_cols)
{
	fprintf(out, "%s%sevents,dmas,dma_pages,dma_faults,maps,unmaps,inv_commands,inv_syncs,"
		"dma_cycles,inv_cycles,table_reads,cycles_per_dma,reads_per_page,"
		"iotlb_misses_per_page,iotlb_miss_rate,inv_cycles_per_unmap,needless_per_unmap",
		extra_cols ? extra_cols : "", extra_cols && *extra_cols ? "," : "");
	for (int id = 0; id < IMS_ST__COUNT; id++)
		fprintf(out, ",%s_hits,%s_misses,%s_invalidated,%s_needless", ims_struct_name(id),
			ims_struct_name(id), ims_struct_name(id), ims_struct_name(id));
	fprintf(out, "\n");
}

void run_csv_row(FILE *out, const char *extra_vals, const struct run_result *r)
{
	const struct ims_replay_stats *s = &r->rs;

	fprintf(out, "%s%s%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
		",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
		",%.4f,%.4f,%.4f,%.6f,%.2f,%.4f",
		extra_vals ? extra_vals : "", extra_vals && *extra_vals ? "," : "", s->events,
		s->dmas, s->dma_pages, s->dma_faults, s->maps, s->unmaps, s->inv_commands,
		s->inv_syncs, s->dma_cycles, s->inv_cycles, s->table_reads, run_cycles_per_dma(r),
		run_reads_per_page(r), run_iotlb_misses_per_page(r), run_iotlb_miss_rate(r),
		run_inv_cycles_per_unmap(r), run_needless_per_unmap(r));
	for (int id = 0; id < IMS_ST__COUNT; id++)
		fprintf(out, ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64, r->cs[id].hits,
			r->cs[id].misses, r->cs[id].invalidated, r->cs[id].needless);
	fprintf(out, "\n");
}

void run_print(FILE *out, enum report_fmt fmt, const char *label, const struct run_result *r)
{
	switch (fmt) {
	case REPORT_JSON:
		json(out, label, r);
		break;
	case REPORT_CSV: {
		/* The label is one CSV field: quoted, inner quotes doubled. */
		char q[1024];
		size_t n = 0;

		q[n++] = '"';
		for (const char *p = label; *p && n < sizeof(q) - 3; p++) {
			if (*p == '"')
				q[n++] = '"';
			q[n++] = *p;
		}
		q[n++] = '"';
		q[n] = 0;
		run_csv_header(out, "run");
		run_csv_row(out, q, r);
		break;
	}
	default:
		table(out, label, r);
		break;
	}
}
