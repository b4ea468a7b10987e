/*
 * iommusim.c - the iommusim command line.
 *
 *   iommusim walk SCENARIO.json [options]   explain translations step by step
 *   iommusim --help | --version
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/bits.h"
#include "tools/tools_int.h"

static const char usage_main[] =
	"Usage: iommusim COMMAND [ARGS]\n"
	"\n"
	"A cycle-approximate software IOMMU (Intel VT-d and Arm SMMUv3).\n"
	"\n"
	"Commands:\n"
	"  study STUDY.json -o DIR\n"
	"                       sweep a workload across invalidation policies and IOTLB\n"
	"                       sizes; write a report with plots\n"
	"  replay TRACE         replay a trace through a driver model; print statistics\n"
	"  gen WORKLOAD -o TRACE\n"
	"                       generate a standard workload's trace\n"
	"  convert IN OUT       convert a trace between JSON Lines and binary\n"
	"  import ftrace FILE -o TRACE\n"
	"                       import trace-cmd / ftrace text of dma:* and iommu:* events\n"
	"  walk SCENARIO.json   set up an IOMMU as a scenario file says and explain,\n"
	"                       read by read, how each of its DMA requests translates\n"
	"  run [OPTIONS] -- COMMAND [ARGS]\n"
	"                       run a program with /dev/iommu served by the simulator\n"
	"                       (iommufd ioctls, through LD_PRELOAD, a server's socket\n"
	"                       or a FUSE file; VFIO devices with --model)\n"
	"  serve --cuse [NAME] | --fuse PATH | --socket PATH\n"
	"                       serve /dev/iommu to every program from one process: a\n"
	"                       CUSE character device, a FUSE file or a Unix socket\n"
	"  help [COMMAND]       show this help, or a command's\n"
	"\n"
	"Options:\n"
	"  -h, --help           show this help\n"
	"  -V, --version        show the version\n"
	"\n"
	"Run 'iommusim COMMAND --help' for a command's options and formats.\n";

static const char usage_walk[] =
	"Usage: iommusim walk SCENARIO.json [OPTIONS]\n"
	"\n"
	"Build the IOMMU a scenario describes (model, memory, registers, table-building\n"
	"steps) and explain each transaction in order: every lookup in a modelled cache\n"
	"(IOTLB, context/PASID caches, walk caches) with hit or miss, every table read\n"
	"with its address (GPA and host physical address in nested mode), the entry value\n"
	"and what was decided, the cycles each step cost, then the output address and\n"
	"permissions, or the fault with the architecture's reason code and name.\n"
	"Transactions run one after another on the same IOMMU, so caches warm up.  Exit status: 0 when the scenario loaded (faults are\n"
	"results, not errors), 1 on a bad scenario or model, 2 on bad usage.\n"
	"\n"
	"Options:\n"
	"  -m, --model FILE     use this model instead of the scenario's \"model\"\n"
	"  -r, --rid B:D.F      explain this request instead of the scenario's list\n"
	"                       (also --pasid, --addr, --access, --priv, --size)\n"
	"  -p, --pasid N        request with PASID N\n"
	"      --sid N          SMMUv3: StreamID N (same as --rid N)\n"
	"      --ssid N         SMMUv3: SubstreamID N (same as --pasid N)\n"
	"  -a, --addr ADDR      input (IO virtual) address\n"
	"  -A, --access MODE    r, w, x or a combination (default r)\n"
	"      --priv           a privileged (supervisor) request\n"
	"  -s, --size N         bytes (default 4; must not cross 4 KiB)\n"
	"  -q, --quiet          print only the result line of each transaction\n"
	"      --no-caches      model no caches: every request walks from the root\n"
	"  -h, --help           show this help\n"
	"\n"
	"Scenario file (JSON; numbers may be strings like \"0x1000\", sizes like \"2M\"):\n"
	"  \"model\":        the model file, relative to the scenario (models/*.json)\n"
	"  \"memory\":       [{\"ram\": ADDR, \"size\": SIZE},\n"
	"                   {\"image\": FILE, \"at\": ADDR, \"writable\": false}]\n"
	"                   an image (e.g. a guest RAM dump from QEMU's pmemsave) is\n"
	"                   mapped, not copied, and never written back\n"
	"  \"registers\":    {\"RTADDR\": VALUE, \"TE\": 1}  (VT-d: RTADDR with TTM in\n"
	"                   bits 11:10, 00 legacy, 01 scalable; TE enables remapping)\n"
	"                   SMMUv3 (IHI 0070 6.3): CR0, CR1, CR2, GBPA, STRTAB_BASE,\n"
	"                   STRTAB_BASE_CFG, CMDQ_BASE, CMDQ_PROD, CMDQ_CONS, EVENTQ_BASE,\n"
	"                   EVENTQ_PROD, EVENTQ_CONS, GERRORN; set the bases before CR0\n"
	"                   (writes to them are refused while the unit is enabled)\n"
	"  \"steps\":        [{\"write\": ADDR, \"value\": V} or {\"values\": [...]},\n"
	"                   {\"write\": ADDR, \"struct\": NAME, \"index\": N,\n"
	"                    \"fields\": {FIELD: V}}   NAME: vtd.root_entry,\n"
	"                    vtd.sm_root_entry, vtd.context_entry, vtd.sm_context_entry,\n"
	"                    vtd.pasid_dir_entry, vtd.pasid_entry, smmu.l1std, smmu.ste,\n"
	"                    smmu.l1cd, smmu.cd; fields by spec name (smmu.ste: V,\n"
	"                    Config, S1ContextPtr, S1CDMax, S1DSS, S2VMID, S2T0SZ, S2SL0,\n"
	"                    S2TG, S2PS, S2AA64, S2R, S2TTB, ...; smmu.cd: V, AA64, T0SZ,\n"
	"                    TG0, EPD1, IPS, R, A, ASID, TTB0, ...),\n"
	"                    pointer fields take the address itself\n"
	"                   {\"map\": {\"stage\": 1|2, \"levels\": N, \"root\": ADDR,\n"
	"                    \"iova\": ADDR, \"addr\": ADDR, \"size\": SIZE, \"page\": SIZE,\n"
	"                    \"perm\": \"rw\" (+x, +u for user), \"tables\": ADDR,\n"
	"                    \"via\": {\"levels\": N, \"root\": ADDR}}}\n"
	"                    new tables are taken from \"tables\" onwards; \"via\" names\n"
	"                    the stage-2 tables a guest's stage-1 tables live behind]\n"
	"  \"transactions\": [{\"rid\": \"00:02.0\", \"pasid\": N, \"addr\": ADDR,\n"
	"                    \"access\": \"r\", \"priv\": false, \"size\": 4, \"note\": \"...\"}]\n"
	"                   SMMUv3: \"sid\": N (StreamID) and \"ssid\": N (SubstreamID)\n"
	"\n"
	"Arm SMMUv3 map steps use the 4 KiB granule: stage 1 with N levels (2-4) is a\n"
	"CD with TG0 = 0 and T0SZ = 64 - (12 + 9N) (N = 4: T0SZ 16, 48-bit VAs); stage 2\n"
	"is an STE with S2TG = 0, S2T0SZ likewise and S2SL0 = N - 2 (N = 4: S2SL0 2).\n"
	"Faults are reported as event types (F_TRANSLATION 0x10, C_BAD_STE 0x04, ...)\n"
	"with the event record written to the event queue (EVENTQ_BASE, CR0.EVENTQEN).\n"
	"\n"
	"Examples: iommusim walk scenarios/vtd-nested.json\n"
	"          iommusim walk scenarios/smmuv3-nested.json\n";

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (!*s || *s == '-')
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno || *end ? -EINVAL : 0;
}

static int cmd_walk(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "model", required_argument, NULL, 'm' },
		{ "rid", required_argument, NULL, 'r' },
		{ "pasid", required_argument, NULL, 'p' },
		{ "sid", required_argument, NULL, 'r' },
		{ "ssid", required_argument, NULL, 'p' },
		{ "addr", required_argument, NULL, 'a' },
		{ "access", required_argument, NULL, 'A' },
		{ "priv", no_argument, NULL, 'P' },
		{ "size", required_argument, NULL, 's' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "no-caches", no_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *model = NULL;
	struct scn_txn one = { .txn = { .size = 4, .access = IMS_ACC_READ } };
	bool have_one = false, have_rid = false, have_addr = false, quiet = false;
	unsigned new_opts = 0;
	struct scenario *scn;
	char err[1024];
	uint64_t v;
	int c;

	while ((c = getopt_long(argc, argv, "m:r:p:a:A:s:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			model = optarg;
			break;
		case 'r':
			if (parse_rid(optarg, &one.txn.sid)) {
				/* A plain number: an SMMUv3 StreamID (or a raw RID). */
				if (strchr(optarg, ':') || parse_u64(optarg, &v) || v > UINT32_MAX) {
					fprintf(stderr, "iommusim walk: --rid wants bus:device.function, "
						"e.g. 00:02.0, or a number (--sid)\n");
					return 2;
				}
				one.txn.sid = (uint32_t)v;
			}
			have_one = have_rid = true;
			break;
		case 'p':
			if (parse_u64(optarg, &v) || v > 0xfffff) {
				fprintf(stderr, "iommusim walk: --pasid wants a 20-bit number\n");
				return 2;
			}
			one.txn.pasid = (uint32_t)v;
			one.txn.has_pasid = true;
			have_one = true;
			break;
		case 'a':
			if (parse_u64(optarg, &one.txn.addr)) {
				fprintf(stderr, "iommusim walk: --addr wants a number\n");
				return 2;
			}
			have_one = have_addr = true;
			break;
		case 'A': {
			bool priv = one.txn.access & IMS_ACC_PRIV;

			if (parse_access(optarg, &one.txn.access)) {
				fprintf(stderr, "iommusim walk: --access wants r, w, x or a "
					"combination\n");
				return 2;
			}
			if (priv)
				one.txn.access |= IMS_ACC_PRIV;
			have_one = true;
			break;
		}
		case 'P':
			one.txn.access |= IMS_ACC_PRIV;
			have_one = true;
			break;
		case 's':
			if (parse_u64(optarg, &v) || !v || v > 4096) {
				fprintf(stderr, "iommusim walk: --size wants 1 to 4096\n");
				return 2;
			}
			one.txn.size = (uint32_t)v;
			have_one = true;
			break;
		case 'q':
			quiet = true;
			break;
		case 'C':
			new_opts |= IMS_NEW_NO_CACHES;
			break;
		case 'h':
			fputs(usage_walk, stdout);
			return 0;
		default:
			fputs("Try 'iommusim walk --help'.\n", stderr);
			return 2;
		}
	}
	if (optind + 1 != argc) {
		fputs("iommusim walk: expected exactly one scenario file\n"
		      "Try 'iommusim walk --help'.\n", stderr);
		return 2;
	}
	if (have_one && (!have_rid || !have_addr)) {
		fputs("iommusim walk: a request given on the command line needs at least "
		      "--rid and --addr\n", stderr);
		return 2;
	}
	if (have_one && (one.txn.addr & 0xfff) + one.txn.size > 0x1000) {
		fputs("iommusim walk: the request crosses a 4 KiB boundary\n", stderr);
		return 2;
	}
	if (scenario_load(argv[optind], model, new_opts, &scn, err, sizeof(err))) {
		fprintf(stderr, "iommusim walk: %s\n", err);
		return 1;
	}
	printf("Scenario %s\n", scn->path);
	if (scn->description)
		printf("  %s\n", scn->description);
	printf("Model %s (%s), host address width %u bits\n\n", ims_model_name(scn->model),
	       ims_iommu_arch(scn->iommu)->name, ims_model_haw(scn->model));
	for (size_t i = 0; i < (have_one ? 1 : scn->ntxns); i++) {
		const struct scn_txn *t = have_one ? &one : &scn->txns[i];
		struct ims_result *res = calloc(1, sizeof(*res));
		int rc;

		if (!res) {
			scenario_free(scn);
			return 1;
		}
		rc = ims_translate(scn->iommu, &t->txn, res);
		if (rc) {
			fprintf(stderr, "iommusim walk: transaction %zu: %s%s%s\n", i + 1,
				strerror(-rc), res->fault.arch_name ? ": " : "",
				res->fault.arch_name ? res->fault.arch_name : "");
			free(res);
			scenario_free(scn);
			return 1;
		}
		if (quiet) {
			if (res->ok)
				printf("%zu: 0x%" PRIx64 " -> 0x%" PRIx64 "\n", i + 1, t->txn.addr,
				       res->out_addr);
			else
				printf("%zu: 0x%" PRIx64 " fault 0x%02x %s\n", i + 1, t->txn.addr,
				       res->fault.arch_code, res->fault.arch_name);
		} else {
			explain_txn(stdout, scn->iommu, (unsigned)i + 1, t, res);
		}
		free(res);
	}
	scenario_free(scn);
	return 0;
}


/* The commands after "iommusim"; each takes its own --help. */
static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);
} commands[] = {
	{ "walk", cmd_walk },
	{ "replay", cmd_replay },
	{ "study", cmd_study },
	{ "gen", cmd_gen },
	{ "convert", cmd_convert },
	{ "import", cmd_import },
	{ "run", cmd_run },
	{ "serve", cmd_serve },
};

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < IMS_ARRAY_SIZE(commands); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	const struct command *cmd;

	if (argc < 2) {
		fputs(usage_main, stderr);
		return 2;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fputs(usage_main, stdout);
		return 0;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("iommusim %s\n", IMS_VERSION);
		return 0;
	}
	if (!strcmp(argv[1], "help")) {
		if (argc > 2 && (cmd = find_command(argv[2]))) {
			char *hv[] = { argv[2], (char *)"--help", NULL };

			return cmd->run(2, hv);
		}
		fputs(usage_main, stdout);
		return 0;
	}
	if ((cmd = find_command(argv[1])))
		return cmd->run(argc - 1, argv + 1);
	fprintf(stderr, "iommusim: unknown command '%s'\n%s", argv[1], usage_main);
	return 2;
}
