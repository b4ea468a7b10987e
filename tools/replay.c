/*
 * replay.c - `iommusim replay`, `gen`, `convert` and `import`.
 *
 *   iommusim replay TRACE [options]        replay a trace through a driver model
 *   iommusim gen WORKLOAD -o TRACE          generate a workload's trace
 *   iommusim convert IN OUT                 JSON Lines <-> binary, losslessly
 *   iommusim import ftrace FILE -o TRACE    from trace-cmd report / ftrace text
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tools/report.h"
#include "tools/tools_int.h"

static const char usage_replay[] =
	"Usage: iommusim replay TRACE [OPTIONS]\n"
	"\n"
	"Replay a trace (JSON Lines or binary; '-' is standard input) onto a modelled\n"
	"IOMMU through a driver model, and print what the IOMMU saw: per cache\n"
	"structure lookups, hits, misses, evictions, entries invalidated and entries\n"
	"invalidated needlessly; walk reads per DMA and per page; cycles per DMA;\n"
	"invalidation commands, syncs and their cycles; faults.  The same trace,\n"
	"model, driver and seed give byte-identical statistics.\n"
	"\n"
	"Options:\n"
	"  -m, --model FILE     hardware model (default: models/ARCH-default.json for\n"
	"                       the trace's architecture, vtd when it names none)\n"
	"  -d, --driver NAME    driver model: strict, fq, single-fq, range, domain,\n"
	"                       global, or a JSON file (default strict)\n"
	"  -s, --seed N         seed for every random choice (default 1)\n"
	"  -f, --format FMT     table (default), json or csv\n"
	"  -o, --output FILE    write the statistics there instead of standard output\n"
	"      --no-progress    no progress bar (one is drawn on a terminal)\n"
	"  -h, --help           show this help\n";

static const char usage_gen[] =
	"Usage: iommusim gen WORKLOAD -o TRACE [OPTIONS]\n"
	"\n"
	"Generate a standard workload's trace.  Workloads:\n"
	"%s"
	"\n"
	"Options:\n"
	"  -o, --output FILE    the trace ('-' for standard output)\n"
	"  -p, --params JSON    parameters, e.g. '{\"rate_gbps\": 100}' or @FILE\n"
	"  -s, --seed N         seed (default 1)\n"
	"  -a, --arch ARCH      architecture named in the header (vtd, smmuv3)\n"
	"  -f, --format FMT     jsonl or binary (default: from the file name, .jsonl\n"
	"                       or .json is JSON Lines, anything else binary)\n"
	"  -h, --help           show this help\n"
	"See docs/workloads.md for what each imitates and its parameters.\n";

static const char usage_convert[] =
	"Usage: iommusim convert IN OUT [-f|--format jsonl|binary]\n"
	"\n"
	"Convert a trace between JSON Lines and binary, losslessly.  The output\n"
	"format comes from -f or OUT's name (.jsonl/.json: JSON Lines).\n";

static const char usage_import[] =
	"Usage: iommusim import ftrace FILE -o TRACE [-f jsonl|binary] [-a ARCH]\n"
	"\n"
	"Import `trace-cmd report` / ftrace text of the dma:* and iommu:* events\n"
	"(record with: trace-cmd record -e dma -e iommu).  See docs/workloads.md.\n";

static int fmt_from_name(const char *name, const char *opt, enum ims_trace_fmt *fmt)
{
	size_t n = strlen(name);

	if (opt) {
		if (!strcmp(opt, "jsonl") || !strcmp(opt, "json"))
			*fmt = IMS_TRACE_JSONL;
		else if (!strcmp(opt, "binary") || !strcmp(opt, "bin"))
			*fmt = IMS_TRACE_BINARY;
		else
			return -EINVAL;
		return 0;
	}
	*fmt = (n >= 6 && !strcmp(name + n - 6, ".jsonl")) ||
			       (n >= 5 && !strcmp(name + n - 5, ".json")) || !strcmp(name, "-")
		       ? IMS_TRACE_JSONL
		       : IMS_TRACE_BINARY;
	return 0;
}

/* The whole of an open file as a string, NUL-terminated; closes f.  NULL
 * if it cannot be read. */
static char *read_all(FILE *f)
{
	char *text;
	long n;

	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	text = calloc(1, (size_t)(n > 0 ? n : 0) + 1);
	if (text && n > 0 && fread(text, 1, (size_t)n, f) != (size_t)n) {
		free(text);
		text = NULL;
	}
	fclose(f);
	return text;
}

int load_driver(const char *spec, struct ims_driver_cfg *cfg, char *err, size_t errlen)
{
	FILE *f;
	char *text;
	int rc;

	if (!ims_driver_builtin(spec, cfg))
		return 0;
	f = fopen(spec, "r");
	if (!f) {
		snprintf(err, errlen, "driver \"%s\" is neither a built-in model (strict, fq, "
			 "single-fq, range, domain, global) nor a readable file", spec);
		return -ENOENT;
	}
	if (!(text = read_all(f))) {
		snprintf(err, errlen, "cannot read %s", spec);
		return -EIO;
	}
	rc = ims_driver_parse(text, spec, cfg, err, errlen);
	free(text);
	return rc;
}

/* The default model for an architecture, from ./models. */
static const char *default_model(const char *arch)
{
	return !strcmp(arch, "smmuv3") ? "models/smmuv3-default.json" : "models/vtd-default.json";
}

static void progress(const struct ims_trace_reader *r, int *last)
{
	uint64_t done, total;
	int pct;

	ims_trace_progress(r, &done, &total);
	if (!total)
		return;
	pct = (int)(100 * done / total);
	if (pct == *last)
		return;
	*last = pct;
	fprintf(stderr, "\r[%-50.*s] %3d%%", pct / 2,
		"##################################################", pct);
	if (pct == 100)
		fputc('\n', stderr);
}

int cmd_replay(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "model", required_argument, NULL, 'm' }, { "driver", required_argument, NULL, 'd' },
		{ "seed", required_argument, NULL, 's' },  { "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' }, { "no-progress", no_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },         { NULL, 0, NULL, 0 },
	};
	const char *model_path = NULL, *driver = "strict", *outp = NULL;
	enum report_fmt fmt = REPORT_TABLE;
	bool show_progress = isatty(2);
	uint64_t seed = 1;
	struct ims_driver_cfg drv;
	struct ims_trace_reader *r = NULL;
	struct ims_model *model = NULL;
	struct ims_iommu *iommu = NULL;
	struct ims_replay *rp = NULL;
	struct ims_event ev;
	struct run_result res;
	char err[1024], label[512];
	int c, rc, status = 1, last = -1;
	uint64_t n = 0;
	FILE *out = stdout;

	while ((c = getopt_long(argc, argv, "m:d:s:f:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'm': model_path = optarg; break;
		case 'd': driver = optarg; break;
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'f':
			if (!strcmp(optarg, "table"))
				fmt = REPORT_TABLE;
			else if (!strcmp(optarg, "json"))
				fmt = REPORT_JSON;
			else if (!strcmp(optarg, "csv"))
				fmt = REPORT_CSV;
			else {
				fprintf(stderr, "iommusim replay: --format is table, json or csv\n");
				return 2;
			}
			break;
		case 'o': outp = optarg; break;
		case 'P': show_progress = false; break;
		case 'h': fputs(usage_replay, stdout); return 0;
		default: fputs("Try 'iommusim replay --help'.\n", stderr); return 2;
		}
	}
	if (optind + 1 != argc) {
		fputs("iommusim replay: expected exactly one trace\nTry 'iommusim replay --help'.\n",
		      stderr);
		return 2;
	}
	if (load_driver(driver, &drv, err, sizeof(err)) ||
	    ims_trace_open(argv[optind], &r, err, sizeof(err))) {
		fprintf(stderr, "iommusim replay: %s\n", err);
		return 1;
	}
	if (!model_path)
		model_path = default_model(ims_trace_reader_header(r)->arch);
	if (ims_model_load(model_path, &model, err, sizeof(err)) ||
	    !(iommu = ims_iommu_new(model, err, sizeof(err))) ||
	    ims_replay_new(iommu, &drv, seed, &rp, err, sizeof(err))) {
		fprintf(stderr, "iommusim replay: %s\n", err);
		goto out;
	}
	while ((rc = ims_trace_next(r, &ev, err, sizeof(err))) > 0) {
		if (ims_replay_event(rp, &ev, err, sizeof(err))) {
			fprintf(stderr, "%siommusim replay: event %" PRIu64 ": %s\n",
				show_progress ? "\n" : "", n + 1, err);
			goto out;
		}
		if (!(++n & 0xffff) && show_progress)
			progress(r, &last);
	}
	if (rc < 0) {
		fprintf(stderr, "%siommusim replay: %s\n", show_progress ? "\n" : "", err);
		goto out;
	}
	if (show_progress)
		progress(r, &last);
	ims_replay_finish(rp);
	run_collect(&res, iommu, rp);
	snprintf(label, sizeof(label), "%s on %s, driver %s, seed %" PRIu64, argv[optind],
		 ims_model_name(model), drv.name, seed);
	if (outp && !(out = fopen(outp, "w"))) {
		fprintf(stderr, "iommusim replay: cannot write %s: %s\n", outp, strerror(errno));
		goto out;
	}
	run_print(out, fmt, label, &res);
	status = 0;
out:
	if (out && out != stdout)
		fclose(out);
	ims_replay_free(rp);
	ims_iommu_free(iommu);
	ims_model_free(model);
	if (r)
		ims_trace_close(r);
	return status;
}

/* Read "@FILE" or return the text itself. */
static char *param_text(const char *arg)
{
	FILE *f;

	if (arg[0] != '@')
		return strdup(arg);
	f = fopen(arg + 1, "r");
	return f ? read_all(f) : NULL;
}

static int emit_write(void *opaque, const struct ims_event *ev)
{
	return ims_trace_write(opaque, ev);
}

/* Finish writing the trace at path after a run that returned rc; any error
 * (the run's, or finishing's) is printed for cmd.  The command's status. */
static int finish_trace(const char *cmd, struct ims_trace_writer *w, const char *path, int rc,
			char *err, size_t errlen)
{
	if (ims_trace_finish(w) && !rc) {
		snprintf(err, errlen, "cannot finish writing %s", path);
		rc = -EIO;
	}
	if (rc) {
		fprintf(stderr, "iommusim %s: %s\n", cmd, err);
		return 1;
	}
	return 0;
}

int cmd_gen(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' }, { "params", required_argument, NULL, 'p' },
		{ "seed", required_argument, NULL, 's' },   { "arch", required_argument, NULL, 'a' },
		{ "format", required_argument, NULL, 'f' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *outp = NULL, *params = NULL, *fopt = NULL;
	struct ims_trace_header h = { .version = IMS_TRACE_VERSION };
	struct ims_trace_writer *w;
	enum ims_trace_fmt fmt;
	uint64_t seed = 1;
	char err[1024], list[2048] = "", *ptext = NULL;
	int c, rc;

	for (const char *const *g = ims_gen_names(); *g; g++) {
		char line[256];

		snprintf(line, sizeof(line), "  %-11s %s\n", *g, ims_gen_describe(*g));
		strncat(list, line, sizeof(list) - strlen(list) - 1);
	}
	while ((c = getopt_long(argc, argv, "o:p:s:a:f:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o': outp = optarg; break;
		case 'p': params = optarg; break;
		case 's': seed = strtoull(optarg, NULL, 0); break;
		case 'a': snprintf(h.arch, sizeof(h.arch), "%s", optarg); break;
		case 'f': fopt = optarg; break;
		case 'h': printf(usage_gen, list); return 0;
		default: fputs("Try 'iommusim gen --help'.\n", stderr); return 2;
		}
	}
	if (optind + 1 != argc || !outp) {
		fprintf(stderr, "iommusim gen: expected a workload and -o TRACE\n");
		fprintf(stderr, usage_gen, list);
		return 2;
	}
	if (fmt_from_name(outp, fopt, &fmt)) {
		fprintf(stderr, "iommusim gen: --format is jsonl or binary\n");
		return 2;
	}
	if (params && !(ptext = param_text(params))) {
		fprintf(stderr, "iommusim gen: cannot read %s\n", params + 1);
		return 1;
	}
	snprintf(h.source, sizeof(h.source), "gen:%s seed %llu", argv[optind],
		 (unsigned long long)seed);
	if (ims_trace_create(outp, fmt, &h, &w, err, sizeof(err))) {
		fprintf(stderr, "iommusim gen: %s\n", err);
		free(ptext);
		return 1;
	}
	rc = ims_gen_run(argv[optind], ptext, seed, emit_write, w, err, sizeof(err));
	free(ptext);
	return finish_trace("gen", w, outp, rc, err, sizeof(err));
}

int cmd_convert(int argc, char **argv)
{
	const char *fopt = NULL;
	struct ims_trace_reader *r;
	struct ims_trace_writer *w;
	enum ims_trace_fmt fmt;
	struct ims_event ev;
	char err[1024];
	int c, rc;
	static const struct option opts[] = {
		{"format", required_argument, NULL, 'f'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};

	while ((c = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
		if (c == 'f') {
			fopt = optarg;
		} else if (c == 'h') {
			fputs(usage_convert, stdout);
			return 0;
		} else {
			fputs(usage_convert, stderr);
			return 2;
		}
	}
	if (optind + 2 != argc || fmt_from_name(argv[optind + 1], fopt, &fmt)) {
		fputs(usage_convert, stderr);
		return 2;
	}
	if (ims_trace_open(argv[optind], &r, err, sizeof(err))) {
		fprintf(stderr, "iommusim convert: %s\n", err);
		return 1;
	}
	if (ims_trace_create(argv[optind + 1], fmt, ims_trace_reader_header(r), &w, err,
			     sizeof(err))) {
		fprintf(stderr, "iommusim convert: %s\n", err);
		ims_trace_close(r);
		return 1;
	}
	while ((rc = ims_trace_next(r, &ev, err, sizeof(err))) > 0)
		if ((rc = ims_trace_write(w, &ev)) < 0) {
			snprintf(err, sizeof(err), "cannot write %s: %s", argv[optind + 1],
				 strerror(-rc));
			break;
		}
	ims_trace_close(r);
	return finish_trace("convert", w, argv[optind + 1], rc, err, sizeof(err));
}

int cmd_import(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' }, { "format", required_argument, NULL, 'f' },
		{ "arch", required_argument, NULL, 'a' },   { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *outp = NULL, *fopt = NULL;
	struct ims_trace_header h = { .version = IMS_TRACE_VERSION, .source = "ftrace" };
	struct ims_trace_writer *w;
	enum ims_trace_fmt fmt;
	char err[1024];
	int c, rc;

	while ((c = getopt_long(argc, argv, "o:f:a:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o': outp = optarg; break;
		case 'f': fopt = optarg; break;
		case 'a': snprintf(h.arch, sizeof(h.arch), "%s", optarg); break;
		case 'h': fputs(usage_import, stdout); return 0;
		default: fputs(usage_import, stderr); return 2;
		}
	}
	if (optind + 2 != argc || strcmp(argv[optind], "ftrace") || !outp ||
	    fmt_from_name(outp, fopt, &fmt)) {
		fputs(usage_import, stderr);
		return 2;
	}
	if (ims_trace_create(outp, fmt, &h, &w, err, sizeof(err))) {
		fprintf(stderr, "iommusim import: %s\n", err);
		return 1;
	}
	rc = ims_import_ftrace(argv[optind + 1], emit_write, w, err, sizeof(err));
	return finish_trace("import", w, outp, rc, err, sizeof(err));
}
