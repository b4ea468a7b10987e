/*
 * tools_int.h - the iommusim command line's own declarations.
 */
#ifndef IMS_TOOLS_INT_H
#define IMS_TOOLS_INT_H

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>

#include <iommusim/iommufd.h>
#include <iommusim/iommusim.h>

struct scn_txn {
	struct ims_txn txn;
	char *note;
};

struct scn_image {
	void *addr;
	size_t len;
};

struct scn_pool {
	uint64_t start, next;
};

struct scenario {
	char *path;
	char *dir;          /* directory of the scenario file, for relative paths */
	char *description;
	struct ims_model *model;
	struct ims_iommu *iommu;
	struct scn_txn *txns;
	size_t ntxns;
	struct scn_image *images;
	size_t nimages;
	struct scn_pool *pools;
	size_t npools;
};

/*
 * Load a scenario: model, memory, registers, steps and transactions.
 * model_path, when given, replaces the scenario's "model"; opts go to
 * ims_iommu_new_opts().  On error the
 * message names the file, the field and what was expected.
 */
int scenario_load(const char *path, const char *model_path, unsigned opts, struct scenario **out,
		  char *err, size_t errlen);
void scenario_free(struct scenario *scn);

/* Parse "00:02.0" (bus:device.function) or a number into a requester ID. */
int parse_rid(const char *s, uint32_t *rid);
/* Parse an access string: any of r, w, x (e.g. "rw"). */
int parse_access(const char *s, uint32_t *access);

/* Is `model` a readable regular file?  If not, says why (as `iommusim
 * CMD: --model: ...`) and returns -1.  abs_path (PATH_MAX bytes), when
 * given, receives its absolute path (run.c). */
int tools_check_model(const char *cmd, const char *model, char *abs_path);

/* The shell's exit status for a command that could not be executed:
 * 127 if it was not found, 126 otherwise. */
static inline int tools_exec_status(int err)
{
	return err == ENOENT ? 127 : 126;
}

/* The other commands (replay.c, study.c). */
int cmd_replay(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_gen(int argc, char **argv);
int cmd_convert(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_study(int argc, char **argv);
int cmd_serve(int argc, char **argv);

/* `iommusim run --transport fuse` (serve.c): run cmd with a FUSE server
 * answering /dev/iommu in a private mount namespace; cmd's exit status. */
int serve_run_fuse(enum iofd_abi abi, bool stats, char **cmd);

/* A driver model by built-in name or from a JSON file (replay.c). */
int load_driver(const char *spec, struct ims_driver_cfg *cfg, char *err, size_t errlen);

/* Print one translation, step by step. */
void explain_txn(FILE *out, struct ims_iommu *iommu, unsigned n, const struct scn_txn *t,
		 const struct ims_result *res);

#endif
