/*
 * explain.c - printing one translation step by step for `iommusim walk`.
 *
 * For every memory read: what was read (configuration structure, or which
 * stage and level of which walk), where (the address the walker used and,
 * when stage 2 translated it, the host physical address), the value, and
 * what the hardware decided.  Then the result, or the fault with the
 * architecture's reason code and name and whether it was recorded.
 */
#include <inttypes.h>
#include <string.h>

#include "tools/tools_int.h"

/* The words of an architecture without its own (VT-d's). */
static const struct ims_arch_terms vtd_terms = {
	.source = NULL,
	.pasid = "PASID",
	.domain = "domain",
	.tag_pasid = "PASID",
	.ipa = "GPA",
	.code = "reason",
	.recorded = "recorded in the fault log",
	.suppressed = "not recorded: fault processing disabled",
};

static const char *size_name(unsigned lg2, char *buf, size_t len)
{
	if (lg2 >= 30)
		snprintf(buf, len, "%u GiB", 1u << (lg2 - 30));
	else if (lg2 >= 20)
		snprintf(buf, len, "%u MiB", 1u << (lg2 - 20));
	else
		snprintf(buf, len, "%u KiB", 1u << (lg2 - 10));
	return buf;
}

static void perm_str(unsigned perm, char *buf)
{
	snprintf(buf, 32, "user %c%c%c, supervisor %c%c%c", perm & IMS_PERM_R ? 'r' : '-',
		 perm & IMS_PERM_W ? 'w' : '-', perm & IMS_PERM_X ? 'x' : '-',
		 perm & IMS_PERM_PR ? 'r' : '-', perm & IMS_PERM_PW ? 'w' : '-',
		 perm & IMS_PERM_PX ? 'x' : '-');
}

static const char *level_name(const struct ims_pt_format *fmt, int level)
{
	if (!fmt || !fmt->level_name)
		return "";
	return fmt->level_name(NULL, (unsigned)level);
}

/* The fields of a configuration structure that are not zero. */
static void print_fields(FILE *out, struct ims_iommu *iommu, const struct ims_read *rd)
{
	const struct ims_arch_ops *arch = ims_iommu_arch(iommu);
	const struct ims_struct_desc *sd = arch->label_struct ? arch->label_struct(rd->label) : NULL;
	uint64_t w[16] = { 0 };
	int col = 0;

	if (!sd || rd->abort || sd->nwords > 16 ||
	    ims_mem_read(ims_iommu_mem(iommu), rd->pa, w, 8u * sd->nwords) != IMS_MEM_OK)
		return;
	/* Scalable root entries: show only the half that was used. */
	fprintf(out, "%6s", "");
	for (unsigned i = 0; i < sd->nfields; i++) {
		uint64_t v = ims_struct_get(&sd->fields[i], w);

		if (!v)
			continue;
		col += fprintf(out, " %s=%s0x%" PRIx64, sd->fields[i].name, "", v);
		if (col > 80 && i + 1 < sd->nfields) {
			fprintf(out, "\n%6s", "");
			col = 0;
		}
	}
	fprintf(out, "\n");
}

static const char *decision(const struct ims_read *rd)
{
	if (rd->abort)
		return "external abort";
	if (rd->kind == IMS_READ_CONFIG) {
		if (rd->fault)
			return "fault";
		return "ok";
	}
	switch (rd->decision) {
	case IMS_PTE_EMPTY: return "not present";
	case IMS_PTE_TABLE: return rd->fault ? "bad table pointer" : "table";
	case IMS_PTE_LEAF: return rd->fault ? "leaf (fault)" : "leaf";
	default: return "malformed";
	}
}

void explain_txn(FILE *out, struct ims_iommu *iommu, unsigned n, const struct scn_txn *t,
		 const struct ims_result *res)
{
	const struct ims_arch_ops *arch = ims_iommu_arch(iommu);
	const struct ims_arch_terms *tm = arch->terms ? arch->terms : &vtd_terms;
	const struct ims_txn *x = &t->txn;
	char buf[64], pbuf[40], detail[512];
	unsigned ncfg = 0, ntab = 0;

	fprintf(out, "Transaction %u: %s%s%s %u byte%s at 0x%016" PRIx64, n,
		x->access & IMS_ACC_READ ? "read" : "",
		(x->access & IMS_ACC_READ) && (x->access & IMS_ACC_WRITE) ? "+" : "",
		x->access & IMS_ACC_WRITE ? "write" : (x->access & IMS_ACC_EXEC) ? "execute" : "",
		x->size, x->size == 1 ? "" : "s", x->addr);
	if (tm->source)
		fprintf(out, ", %s 0x%x", tm->source, x->sid);
	else
		fprintf(out, ", RID %02x:%02x.%x", x->sid >> 8, (x->sid >> 3) & 0x1f, x->sid & 7);
	if (x->has_pasid)
		fprintf(out, ", %s %u", tm->pasid, x->pasid);
	fprintf(out, " (%s)\n", x->access & IMS_ACC_PRIV ? "supervisor" : "user");
	if (t->note)
		fprintf(out, "  note: %s\n", t->note);
	fprintf(out, "  %-3s %-34s %-20s %-20s %-18s %5s  %s\n", "#", "step", "address",
		"physical", "value", "cyc", "decision");
	for (unsigned i = 0; i < res->nreads; i++) {
		const struct ims_read *rd = &res->reads[i];
		char what[64], addr[24], next[48] = "";

		if (rd->kind == IMS_READ_CACHE) {
			char lvl[16] = "";

			if (rd->level >= 0)
				snprintf(lvl, sizeof(lvl), " (L%d)", rd->level);
			snprintf(what, sizeof(what), "%s lookup", ims_struct_long_name(rd->label));
			fprintf(out, "  %-3u %-34s %-20s %-20s %-18s %5u  %s%s\n", i + 1, what, "", "", "",
				rd->cycles, rd->decision ? "hit" : "miss", rd->decision ? lvl : "");
			continue;
		}
		switch (rd->kind) {
		case IMS_READ_CONFIG:
			snprintf(what, sizeof(what), "%s",
				 arch->label_name ? arch->label_name(rd->label) : "config");
			ncfg++;
			break;
		case IMS_READ_S1:
			snprintf(what, sizeof(what), "S1 L%d %s", rd->level,
				 level_name(res->s1_fmt, rd->level));
			ntab++;
			break;
		case IMS_READ_S2_FOR_TABLE:
			snprintf(what, sizeof(what), "  S2 L%d %s (table address)", rd->level,
				 level_name(res->s2_fmt, rd->level));
			ntab++;
			break;
		default:
			snprintf(what, sizeof(what), "S2 L%d %s", rd->level,
				 level_name(res->s2_fmt, rd->level));
			ntab++;
			break;
		}
		if (rd->in_addr != rd->pa)
			snprintf(addr, sizeof(addr), "%s 0x%" PRIx64, tm->ipa, rd->in_addr);
		else
			snprintf(addr, sizeof(addr), "-");
		if (!rd->abort && !rd->fault && rd->kind != IMS_READ_CONFIG &&
		    rd->decision == IMS_PTE_TABLE)
			snprintf(next, sizeof(next), " -> 0x%" PRIx64, rd->next);
		else if (!rd->abort && !rd->fault && rd->decision == IMS_PTE_LEAF &&
			 rd->kind != IMS_READ_CONFIG)
			snprintf(next, sizeof(next), " -> page 0x%" PRIx64, rd->next);
		else if (rd->kind == IMS_READ_CONFIG && !rd->fault && rd->next)
			snprintf(next, sizeof(next), " -> 0x%" PRIx64, rd->next);
		fprintf(out, "  %-3u %-34s %-20s 0x%-18" PRIx64 " 0x%016" PRIx64 " %5u  %s%s\n", i + 1,
			what, addr, rd->pa, rd->value, rd->cycles, decision(rd), next);
		if (rd->kind == IMS_READ_CONFIG)
			print_fields(out, iommu, rd);
	}
	if (res->nreads == IMS_MAX_READS)
		fprintf(out, "  (only the first %d reads are listed)\n", IMS_MAX_READS);
	if (res->ok) {
		perm_str(res->perm, pbuf);
		fprintf(out, "  result: physical 0x%016" PRIx64 ", %s page", res->out_addr,
			size_name(res->page_lg2, buf, sizeof(buf)));
		if (res->mode == IMS_XM_NESTED) {
			char b1[16], b2[16];

			fprintf(out, " (%s 0x%" PRIx64 "; stage 1 %s, stage 2 %s)", tm->ipa, res->ipa,
				size_name(res->s1_page_lg2, b1, sizeof(b1)),
				size_name(res->s2_page_lg2, b2, sizeof(b2)));
		}
		fprintf(out, "\n          %s; mode %s", pbuf, ims_xmode_name(res->mode));
	} else {
		const struct ims_fault *f = &res->fault;

		fprintf(out, "  fault: %s 0x%02x: %s\n", tm->code, f->arch_code,
			f->arch_name ? f->arch_name : "?");
		fprintf(out, "         %s", ims_fault_kind_name(f->kind));
		if (f->kind != IMS_FK_CONFIG && f->kind != IMS_FK_ABORT) {
			fprintf(out, " in stage %u", f->stage);
			if (f->on_table_fetch && f->level < 0)
				fprintf(out, " translating the address of a configuration structure "
					"(%s 0x%" PRIx64 ")", tm->ipa, f->ipa);
			else if (f->on_table_fetch)
				fprintf(out, " translating the address of the stage-1 level-%d entry "
					"(%s 0x%" PRIx64 ")", f->level, tm->ipa, f->ipa);
			else if (f->level >= 0)
				fprintf(out, " at level %d", f->level);
			if (!f->on_table_fetch && f->stage == 2 && res->mode == IMS_XM_NESTED)
				fprintf(out, " translating %s 0x%" PRIx64, tm->ipa, f->ipa);
		}
		if (f->kind == IMS_FK_PERMISSION) {
			perm_str(f->missing, pbuf);
			fprintf(out, "; missing %s", pbuf);
		}
		if (arch->describe_fault &&
		    !arch->describe_fault(iommu, res, detail, sizeof(detail)))
			fprintf(out, "\n         %s", detail);
		fprintf(out, "\n         %s", f->recorded ? tm->recorded
					     : f->suppressed ? tm->suppressed
							     : "not recorded");
		if (res->mode != IMS_XM_ABORT)
			fprintf(out, "; mode %s", ims_xmode_name(res->mode));
	}
	if (res->mode != IMS_XM_ABORT && res->mode != IMS_XM_BYPASS)
		fprintf(out, ", %s %u", tm->domain, res->domain);
	if (res->has_pasid)
		fprintf(out, ", %s %u", tm->tag_pasid, res->pasid);
	fprintf(out, "\n  %u reads: %u configuration, %u page-table", ncfg + ntab, ncfg, ntab);
	if (res->iotlb_hit)
		fprintf(out, "; IOTLB hit");
	if (res->cycles) {
		unsigned mhz = ims_iommu_clock_mhz(iommu);

		fprintf(out, "; %" PRIu64 " cycles (%.1f ns at %u MHz)", res->cycles,
			(double)res->cycles * 1000.0 / mhz, mhz);
	}
	fprintf(out, "\n\n");
}
