/*
 * study.c - `iommusim study STUDY.json -o DIR`: sweep workload x driver
 * model x IOTLB size, and write a report with plots.
 *
 * Study file:
 *   { "name": "...", "description": "...",
 *     "model": "../models/vtd-default.json",      relative to the study file
 *     "seed": 1,
 *     "workload": {"name": "nic-rx", "params": {...}},
 *     "drivers": ["strict", "fq", ...],             built-in names or JSON files
 *     "iotlb_entries": [16, 32, 64, ...],           IOTLB sizes to sweep
 *     "unmap_sweep": {"workload": "inv-micro", "params": {...},
 *                     "model": "...",           optional: its own model
 *                     "pages": [1, 2, 4, ...],
 *                     "drivers": [NAME | {"driver": NAME, "model": FILE,
 *                                         "label": TEXT}, ...]} }
 * Output in DIR: results.csv (every run), report.md, and PNG plots drawn by
 * gnuplot: cycles per DMA and IOTLB miss rate against IOTLB size for each
 * driver, invalidation cost against unmap size for each driver, and
 * needless invalidations per unmap for each driver.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "tools/report.h"
#include "tools/tools_int.h"

static const char usage_study[] =
	"Usage: iommusim study STUDY.json -o DIR [--seed N]\n"
	"\n"
	"Sweep a workload across driver models (invalidation policies) and IOTLB\n"
	"sizes, and an unmap-size sweep across policies; write DIR/report.md with\n"
	"plots (PNG, drawn by gnuplot) and DIR/results.csv with every run.\n"
	"The study file is described at the top of tools/study.c and in\n"
	"docs/study.md; studies/invalidation-study.json is the bundled one.\n";

#define MAX_DRV 16
#define MAX_X 32

struct study {
	char *path, *dir, *out;
	json_t *root, *model_json;
	char name[256];
	uint64_t seed;
	const char *workload;
	char *wparams;
	struct ims_driver_cfg drv[MAX_DRV];
	unsigned ndrv;
	uint32_t entries[MAX_X];
	unsigned nentries;
	/* The unmap sweep. */
	const char *uworkload;
	json_t *uparams;
	uint32_t pages[MAX_X];
	unsigned npages;
	struct ims_driver_cfg udrv[MAX_DRV];
	json_t *udrv_model[MAX_DRV]; /* a line's own model, or NULL */
	char ulabel[MAX_DRV][96];    /* its name in the plot and table */
	unsigned nudrv;
	struct run_result *grid;   /* [ndrv][nentries] */
	struct run_result *ugrid;  /* [nudrv][npages] */
	FILE *csv;
	bool tty;
	json_t *umodel_json;   /* unmap sweep's own model, or NULL */
};

struct replay_sink {
	struct ims_replay *rp;
	char *err;
	size_t errlen;
};

static int emit_replay(void *opaque, const struct ims_event *ev)
{
	struct replay_sink *s = opaque;

	return ims_replay_event(s->rp, ev, s->err, s->errlen);
}

/* One run: the model with `entries` IOTLB entries (0: as the model says). */
static int run_one(struct study *st, json_t *model_json, const char *workload, const char *params,
		   const struct ims_driver_cfg *drv, uint32_t entries, struct run_result *out,
		   char *err, size_t errlen)
{
	json_t *m = json_deep_copy(model_json), *caches, *iotlb;
	struct ims_model *model = NULL;
	struct ims_iommu *iommu = NULL;
	struct replay_sink sink = { .err = err, .errlen = errlen };
	char *text;
	int rc = -EINVAL;

	if (entries) {
		caches = json_object_get(m, "caches");
		iotlb = caches ? json_object_get(caches, "iotlb") : NULL;
		if (!iotlb) {
			snprintf(err, errlen, "%s: the model has no caches.iotlb to resize", st->path);
			json_decref(m);
			return -EINVAL;
		}
		json_object_set_new(iotlb, "entries", json_integer(entries));
		if (json_integer_value(json_object_get(iotlb, "ways")) > (json_int_t)entries)
			json_object_set_new(iotlb, "ways", json_integer(entries));
	}
	text = json_dumps(m, 0);
	json_decref(m);
	if (!text)
		return -ENOMEM;
	if (ims_model_parse(text, st->path, &model, err, errlen) ||
	    !(iommu = ims_iommu_new(model, err, errlen)) ||
	    ims_replay_new(iommu, drv, st->seed, &sink.rp, err, errlen))
		goto out;
	rc = ims_gen_run(workload, params, st->seed, emit_replay, &sink, err, errlen);
	if (rc)
		goto out;
	ims_replay_finish(sink.rp);
	run_collect(out, iommu, sink.rp);
out:
	free(text);
	ims_replay_free(sink.rp);
	ims_iommu_free(iommu);
	ims_model_free(model);
	return rc;
}

/* A file named by the study: relative to the study's directory unless absolute. */
static char *study_path(const struct study *st, const char *name)
{
	char *p;

	if (name[0] == '/')
		return strdup(name);
	return asprintf(&p, "%s/%s", st->dir, name) < 0 ? NULL : p;
}

/* A JSON file; NULL with "path:line:column: what" in err. */
static json_t *load_json(const char *path, char *err, size_t errlen)
{
	json_error_t je;
	json_t *j = json_load_file(path, 0, &je);

	if (!j)
		snprintf(err, errlen, "%s:%d:%d: %s", path, je.line, je.column, je.text);
	return j;
}

static int fail(struct study *st, const char *field, const char *msg, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s: field \"%s\": %s", st->path, field, msg);
	return -EINVAL;
}

/* One driver: a built-in name, or a file relative to the study. */
static int parse_driver(struct study *st, json_t *v, const char *field,
			struct ims_driver_cfg *out, char *err, size_t errlen)
{
	char *spec;
	int rc;

	if (!json_is_string(v))
		return fail(st, field, "each driver is a built-in name or a file", err, errlen);
	if (!ims_driver_builtin(json_string_value(v), out))
		return 0;
	if (!(spec = study_path(st, json_string_value(v))))
		return -ENOMEM;
	rc = load_driver(spec, out, err, errlen);
	free(spec);
	return rc;
}

static int parse_drivers(struct study *st, json_t *arr, const char *field,
			 struct ims_driver_cfg *out, unsigned *n, char *err, size_t errlen)
{
	size_t i;
	json_t *v;

	if (!json_is_array(arr) || !json_array_size(arr) || json_array_size(arr) > MAX_DRV)
		return fail(st, field, "expected an array of 1 to 16 driver models", err, errlen);
	json_array_foreach(arr, i, v) {
		int rc = parse_driver(st, v, field, &out[i], err, errlen);

		if (rc)
			return rc;
	}
	*n = (unsigned)json_array_size(arr);
	return 0;
}

static int parse_u32_list(struct study *st, json_t *arr, const char *field, uint32_t *out,
			  unsigned *n, char *err, size_t errlen)
{
	size_t i;
	json_t *v;

	if (!json_is_array(arr) || !json_array_size(arr) || json_array_size(arr) > MAX_X)
		return fail(st, field, "expected an array of 1 to 32 positive integers", err,
			    errlen);
	json_array_foreach(arr, i, v) {
		if (!json_is_integer(v) || json_integer_value(v) < 1 ||
		    json_integer_value(v) > (1 << 24))
			return fail(st, field, "expected positive integers (at most 2^24)", err,
				    errlen);
		out[i] = (uint32_t)json_integer_value(v);
	}
	*n = (unsigned)json_array_size(arr);
	return 0;
}

/*
 * The unmap sweep's lines: a driver name (on the sweep's model), or
 * {"driver": NAME, "model": FILE, "label": TEXT} to compare architectures
 * or hardware variants on one plot.
 */
static int parse_lines(struct study *st, json_t *arr, char *err, size_t errlen)
{
	size_t i;
	json_t *v;

	if (!json_is_array(arr) || !json_array_size(arr) || json_array_size(arr) > MAX_DRV)
		return fail(st, "unmap_sweep.drivers", "expected an array of 1 to 16 drivers", err,
			    errlen);
	json_array_foreach(arr, i, v) {
		json_t *d = v, *m = NULL, *l = NULL;
		int rc;

		if (json_is_object(v)) {
			d = json_object_get(v, "driver");
			m = json_object_get(v, "model");
			l = json_object_get(v, "label");
			if (!json_is_string(d) || (m && !json_is_string(m)) || (l && !json_is_string(l)))
				return fail(st, "unmap_sweep.drivers",
					    "an entry is a driver name or {\"driver\": NAME, "
					    "\"model\": FILE, \"label\": TEXT}", err, errlen);
		}
		rc = parse_driver(st, d, "unmap_sweep.drivers", &st->udrv[i], err, errlen);
		if (rc)
			return rc;
		if (m) {
			char *mpath;

			if (!(mpath = study_path(st, json_string_value(m))))
				return -ENOMEM;
			st->udrv_model[i] = load_json(mpath, err, errlen);
			free(mpath);
			if (!st->udrv_model[i])
				return -EINVAL;
		}
		snprintf(st->ulabel[i], sizeof(st->ulabel[i]), "%s",
			 l ? json_string_value(l) : st->udrv[i].name);
	}
	st->nudrv = (unsigned)json_array_size(arr);
	return 0;
}

static int parse(struct study *st, char *err, size_t errlen)
{
	static const char *const keys[] = { "name", "description", "model", "seed", "workload",
					    "drivers", "iotlb_entries", "unmap_sweep", NULL };
	json_t *v, *w;
	const char *key;
	char *mpath;
	int rc;

	if (!(st->root = load_json(st->path, err, errlen)))
		return -EINVAL;
	if (!json_is_object(st->root))
		return fail(st, "(top level)", "expected an object", err, errlen);
	json_object_foreach(st->root, key, v) {
		bool known = false;

		for (const char *const *k = keys; *k; k++)
			known |= !strcmp(*k, key);
		if (!known)
			return fail(st, key, "unknown field (expected name, description, model, "
				    "seed, workload, drivers, iotlb_entries, unmap_sweep)", err,
				    errlen);
	}
	v = json_object_get(st->root, "name");
	snprintf(st->name, sizeof(st->name), "%s", json_is_string(v) ? json_string_value(v) : "study");
	v = json_object_get(st->root, "seed");
	st->seed = json_is_integer(v) ? (uint64_t)json_integer_value(v) : 1;
	v = json_object_get(st->root, "model");
	if (!json_is_string(v))
		return fail(st, "model", "expected the model file, relative to the study", err,
			    errlen);
	if (!(mpath = study_path(st, json_string_value(v))))
		return -ENOMEM;
	st->model_json = load_json(mpath, err, errlen);
	free(mpath);
	if (!st->model_json)
		return -EINVAL;
	w = json_object_get(st->root, "workload");
	v = json_is_object(w) ? json_object_get(w, "name") : NULL;
	if (!json_is_string(v))
		return fail(st, "workload", "expected {\"name\": WORKLOAD, \"params\": {...}}", err,
			    errlen);
	st->workload = json_string_value(v);
	v = json_object_get(w, "params");
	st->wparams = v ? json_dumps(v, 0) : NULL;
	rc = parse_drivers(st, json_object_get(st->root, "drivers"), "drivers", st->drv, &st->ndrv,
			   err, errlen);
	if (rc)
		return rc;
	rc = parse_u32_list(st, json_object_get(st->root, "iotlb_entries"), "iotlb_entries",
			    st->entries, &st->nentries, err, errlen);
	if (rc)
		return rc;
	w = json_object_get(st->root, "unmap_sweep");
	if (w) {
		v = json_is_object(w) ? json_object_get(w, "workload") : NULL;
		if (!json_is_string(v))
			return fail(st, "unmap_sweep.workload", "expected a workload name", err,
				    errlen);
		st->uworkload = json_string_value(v);
		if ((v = json_object_get(w, "model"))) {
			if (!json_is_string(v) || !(mpath = study_path(st, json_string_value(v))))
				return fail(st, "unmap_sweep.model", "expected a model file", err,
					    errlen);
			st->umodel_json = load_json(mpath, err, errlen);
			free(mpath);
			if (!st->umodel_json)
				return -EINVAL;
		}
		st->uparams = json_object_get(w, "params");
		if (st->uparams && !json_is_object(st->uparams))
			return fail(st, "unmap_sweep.params", "expected an object", err, errlen);
		rc = parse_u32_list(st, json_object_get(w, "pages"), "unmap_sweep.pages", st->pages,
				    &st->npages, err, errlen);
		if (rc)
			return rc;
		rc = parse_lines(st, json_object_get(w, "drivers"), err, errlen);
		if (rc)
			return rc;
	}
	return 0;
}

/* gnuplot: one data file per plot, one script. */
static int plots(struct study *st, char *err, size_t errlen)
{
	char path[1024], cmd[1200];
	FILE *f;

	snprintf(path, sizeof(path), "%s/grid.dat", st->out);
	if (!(f = fopen(path, "w")))
		goto io;
	fprintf(f, "# iotlb_entries");
	for (unsigned d = 0; d < st->ndrv; d++)
		fprintf(f, " cycles_%s miss_%s", st->drv[d].name, st->drv[d].name);
	fprintf(f, "\n");
	for (unsigned x = 0; x < st->nentries; x++) {
		fprintf(f, "%u", st->entries[x]);
		for (unsigned d = 0; d < st->ndrv; d++) {
			const struct run_result *r = &st->grid[d * st->nentries + x];

			fprintf(f, " %.4f %.6f", run_cycles_per_dma(r), run_iotlb_miss_rate(r));
		}
		fprintf(f, "\n");
	}
	fclose(f);
	if (st->npages) {
		snprintf(path, sizeof(path), "%s/unmap.dat", st->out);
		if (!(f = fopen(path, "w")))
			goto io;
		for (unsigned x = 0; x < st->npages; x++) {
			fprintf(f, "%u", st->pages[x]);
			for (unsigned d = 0; d < st->nudrv; d++)
				fprintf(f, " %.2f",
					run_inv_cycles_per_unmap(&st->ugrid[d * st->npages + x]));
			fprintf(f, "\n");
		}
		fclose(f);
	}
	snprintf(path, sizeof(path), "%s/needless.dat", st->out);
	if (!(f = fopen(path, "w")))
		goto io;
	for (unsigned d = 0; d < st->ndrv; d++)
		fprintf(f, "%s %.4f\n", st->drv[d].name,
			run_needless_per_unmap(&st->grid[d * st->nentries + st->nentries - 1]));
	fclose(f);

	snprintf(path, sizeof(path), "%s/plots.gp", st->out);
	if (!(f = fopen(path, "w")))
		goto io;
	fprintf(f, "set terminal pngcairo size 900,600 font ',11'\nset grid\nset key below\n"
		   "set logscale x 2\n");
	fprintf(f, "set output 'cycles_per_dma.png'\nset title 'Cycles per DMA against IOTLB size'\n"
		   "set xlabel 'IOTLB entries'\nset ylabel 'translation cycles per DMA'\nplot ");
	for (unsigned d = 0; d < st->ndrv; d++)
		fprintf(f, "%s'grid.dat' using 1:%u with linespoints title '%s'",
			d ? ", " : "", 2 + 2 * d, st->drv[d].name);
	fprintf(f, "\nset output 'iotlb_miss_rate.png'\nset title 'IOTLB miss rate against IOTLB "
		   "size'\nset ylabel 'IOTLB miss rate'\nplot ");
	for (unsigned d = 0; d < st->ndrv; d++)
		fprintf(f, "%s'grid.dat' using 1:%u with linespoints title '%s'",
			d ? ", " : "", 3 + 2 * d, st->drv[d].name);
	if (st->npages) {
		fprintf(f, "\nset output 'inv_cost.png'\nset title 'Invalidation cost against unmap "
			   "size'\nset xlabel 'pages per unmap'\nset ylabel 'invalidation cycles per "
			   "unmap'\nset logscale y 10\nplot ");
		for (unsigned d = 0; d < st->nudrv; d++)
			fprintf(f, "%s'unmap.dat' using 1:%u with linespoints title '%s'",
				d ? ", " : "", 2 + d, st->ulabel[d]);
		fprintf(f, "\nunset logscale y");
	}
	fprintf(f, "\nunset logscale x\nset output 'over_invalidation.png'\nset title "
		   "'Needless invalidations per unmap (largest IOTLB)'\nset xlabel 'driver model'\n"
		   "set ylabel 'entries dropped while still valid, per unmap'\nset style fill solid "
		   "0.6\nset boxwidth 0.6\nset yrange [0:*]\nplot 'needless.dat' using 0:2:xtic(1) "
		   "with boxes notitle\n");
	fclose(f);
	snprintf(cmd, sizeof(cmd), "cd '%s' && gnuplot plots.gp 2>gnuplot.log", st->out);
	if (system(cmd) != 0) {
		snprintf(err, errlen, "gnuplot failed or is missing (apt-get install gnuplot-nox); "
			 "see %s/gnuplot.log", st->out);
		return -EIO;
	}
	return 0;
io:
	snprintf(err, errlen, "cannot write %.900s: %s", path, strerror(errno));
	return -EIO;
}

static void report(struct study *st, FILE *f, bool have_plots)
{
	json_t *d = json_object_get(st->root, "description");
	const struct run_result *r0 = &st->grid[st->nentries - 1];

	fprintf(f, "# %s\n\n", st->name);
	if (json_is_string(d))
		fprintf(f, "%s\n\n", json_string_value(d));
	fprintf(f, "Generated by `iommusim study %s` (seed %" PRIu64 ").  Model: `%s`.  "
		   "Workload: `%s`", st->path, st->seed,
		json_string_value(json_object_get(st->root, "model")), st->workload);
	if (st->wparams)
		fprintf(f, " with `%s`", st->wparams);
	fprintf(f, ", %" PRIu64 " DMAs over %" PRIu64 " pages, %" PRIu64 " unmaps per run.\n\n",
		r0->rs.dmas, r0->rs.dma_pages, r0->rs.unmaps);
	fprintf(f, "Every run replays the same generated events onto a fresh IOMMU; only the "
		   "driver model (how unmaps are invalidated) and the IOTLB size change.  "
		   "All runs are in `results.csv`.\n\n");
	if (have_plots)
		fprintf(f, "## Translation cost\n\n![cycles per DMA](cycles_per_dma.png)\n\n"
			   "![IOTLB miss rate](iotlb_miss_rate.png)\n\n");
	fprintf(f, "## At %u IOTLB entries\n\n", st->entries[st->nentries - 1]);
	fprintf(f, "| driver | cycles/DMA | walk reads/page | IOTLB misses/page | inv. commands "
		   "| syncs | inv. cycles/unmap | needless/unmap | faults |\n");
	fprintf(f, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
	for (unsigned dd = 0; dd < st->ndrv; dd++) {
		const struct run_result *r = &st->grid[dd * st->nentries + st->nentries - 1];

		fprintf(f, "| %s | %.1f | %.3f | %.3f | %" PRIu64 " | %" PRIu64 " | %.0f | %.3f | %"
			PRIu64 " |\n", st->drv[dd].name, run_cycles_per_dma(r),
			run_reads_per_page(r), run_iotlb_misses_per_page(r), r->rs.inv_commands,
			r->rs.inv_syncs, run_inv_cycles_per_unmap(r), run_needless_per_unmap(r),
			r->rs.dma_faults);
	}
	fprintf(f, "\nFaults under a lazy policy are DMAs that a strict policy would have "
		   "caught; a stale IOTLB entry can also let a DMA through after its unmap, "
		   "which is the protection a flush queue trades away.\n\n");
	if (st->npages) {
		json_t *um = json_object_get(json_object_get(st->root, "unmap_sweep"), "model");

		fprintf(f, "## Invalidation cost against unmap size\n\n");
		fprintf(f, "Workload `%s`, model `%s`.\n\n", st->uworkload,
			json_string_value(um ? um : json_object_get(st->root, "model")));
		if (have_plots)
			fprintf(f, "![invalidation cost](inv_cost.png)\n\n");
		fprintf(f, "| pages |");
		for (unsigned dd = 0; dd < st->nudrv; dd++)
			fprintf(f, " %s |", st->ulabel[dd]);
		fprintf(f, "\n| ---: |");
		for (unsigned dd = 0; dd < st->nudrv; dd++)
			fprintf(f, " ---: |");
		fprintf(f, "\n");
		for (unsigned x = 0; x < st->npages; x++) {
			fprintf(f, "| %u |", st->pages[x]);
			for (unsigned dd = 0; dd < st->nudrv; dd++)
				fprintf(f, " %.0f |",
					run_inv_cycles_per_unmap(&st->ugrid[dd * st->npages + x]));
			fprintf(f, "\n");
		}
		fprintf(f, "\nCycles of invalidation commands and completion waits per unmap call.\n\n");
	}
	if (have_plots)
		fprintf(f, "## Over-invalidation\n\n![needless invalidations](over_invalidation.png)"
			   "\n\nEntries dropped although the tables still held what they cached.\n");
}

int cmd_study(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' }, { "seed", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },         { NULL, 0, NULL, 0 },
	};
	struct study st = { 0 };
	char err[1024], *tmp, path[1024], extra[256];
	bool seed_set = false, have_plots;
	uint64_t seed = 1;
	unsigned total, done = 0;
	int c, status = 1;
	FILE *f;

	while ((c = getopt_long(argc, argv, "o:s:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o': st.out = optarg; break;
		case 's': seed = strtoull(optarg, NULL, 0); seed_set = true; break;
		case 'h': fputs(usage_study, stdout); return 0;
		default: fputs(usage_study, stderr); return 2;
		}
	}
	if (optind + 1 != argc || !st.out) {
		fputs(usage_study, stderr);
		return 2;
	}
	st.path = argv[optind];
	st.tty = isatty(2);
	tmp = strdup(st.path);
	st.dir = strdup(dirname(tmp));
	free(tmp);
	if (parse(&st, err, sizeof(err)))
		goto fail;
	if (seed_set)
		st.seed = seed;
	if (mkdir(st.out, 0777) && errno != EEXIST) {
		snprintf(err, sizeof(err), "cannot create %s: %s", st.out, strerror(errno));
		goto fail;
	}
	st.grid = calloc((size_t)st.ndrv * st.nentries, sizeof(*st.grid));
	st.ugrid = calloc((size_t)st.nudrv * st.npages + 1, sizeof(*st.ugrid));
	snprintf(path, sizeof(path), "%s/results.csv", st.out);
	if (!st.grid || !st.ugrid || !(st.csv = fopen(path, "w"))) {
		snprintf(err, sizeof(err), "cannot write %.900s", path);
		goto fail;
	}
	run_csv_header(st.csv, "sweep,workload,driver,iotlb_entries,pages_per_unmap");
	total = st.ndrv * st.nentries + st.nudrv * st.npages;
	for (unsigned d = 0; d < st.ndrv; d++)
		for (unsigned x = 0; x < st.nentries; x++) {
			struct run_result *r = &st.grid[d * st.nentries + x];

			++done;
			if (st.tty)
				fprintf(stderr, "\r[%u/%u] %s, %s, IOTLB %u entries          ", done,
					total, st.workload, st.drv[d].name, st.entries[x]);
			if (run_one(&st, st.model_json, st.workload, st.wparams, &st.drv[d],
				    st.entries[x], r, err, sizeof(err)))
				goto fail;
			snprintf(extra, sizeof(extra), "iotlb,%s,%s,%u,", st.workload,
				 st.drv[d].name, st.entries[x]);
			run_csv_row(st.csv, extra, r);
		}
	for (unsigned d = 0; d < st.nudrv; d++)
		for (unsigned x = 0; x < st.npages; x++) {
			struct run_result *r = &st.ugrid[d * st.npages + x];
			json_t *p = st.uparams ? json_deep_copy(st.uparams) : json_object();
			char *ptext;
			int rc;

			json_object_set_new(p, "pages", json_integer(st.pages[x]));
			ptext = json_dumps(p, 0);
			json_decref(p);
			++done;
			if (st.tty)
				fprintf(stderr, "\r[%u/%u] %s, %s, %u pages per unmap          ", done,
					total, st.uworkload, st.ulabel[d], st.pages[x]);
			rc = run_one(&st, st.udrv_model[d]	? st.udrv_model[d]
					  : st.umodel_json ? st.umodel_json
							   : st.model_json,
				     st.uworkload, ptext, &st.udrv[d], 0, r, err, sizeof(err));
			free(ptext);
			if (rc)
				goto fail;
			snprintf(extra, sizeof(extra), "unmap,%s,\"%s\",,%u", st.uworkload,
				 st.ulabel[d], st.pages[x]);
			run_csv_row(st.csv, extra, r);
		}
	if (st.tty)
		fprintf(stderr, "\n");
	fclose(st.csv);
	st.csv = NULL;
	have_plots = plots(&st, err, sizeof(err)) == 0;
	if (!have_plots)
		fprintf(stderr, "iommusim study: %s (the report has tables only)\n", err);
	snprintf(path, sizeof(path), "%s/report.md", st.out);
	if (!(f = fopen(path, "w"))) {
		snprintf(err, sizeof(err), "cannot write %.900s", path);
		goto fail;
	}
	report(&st, f, have_plots);
	fclose(f);
	printf("Study \"%s\": %u runs.\nReport: %s\nData:   %s/results.csv\n", st.name, total, path,
	       st.out);
	if (have_plots)
		printf("Plots:  %s/cycles_per_dma.png, iotlb_miss_rate.png, %sover_invalidation.png\n",
		       st.out, st.npages ? "inv_cost.png, " : "");
	status = 0;
	goto out;
fail:
	fprintf(stderr, "\niommusim study: %s\n", err);
out:
	if (st.csv)
		fclose(st.csv);
	free(st.grid);
	free(st.ugrid);
	free(st.wparams);
	json_decref(st.model_json);
	json_decref(st.umodel_json);
	for (unsigned i = 0; i < st.nudrv; i++)
		json_decref(st.udrv_model[i]);
	json_decref(st.root);
	free(st.dir);
	return status;
}
