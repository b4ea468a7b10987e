/*
 * iommusim/model.h - hardware models.
 *
 * A model is a JSON file (under models/) naming the architecture, its
 * register values (VT-d CAP/ECAP, SMMUv3 IDR0-5), the host address width and,
 * later, cache geometries and latencies.  Loading validates every field in
 * one place and reports the file, the field and what was expected.
 */
#ifndef IOMMUSIM_MODEL_H
#define IOMMUSIM_MODEL_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum ims_arch {
	IMS_ARCH_VTD = 0,
	IMS_ARCH_SMMUV3,
	IMS_ARCH_MOCK,
};

struct ims_model;

/* Load a model file.  Returns 0, or a negative errno with a message in err. */
int ims_model_load(const char *path, struct ims_model **out, char *err, size_t errlen);
/* Same from a string; `label` names it in messages. */
int ims_model_parse(const char *text, const char *label, struct ims_model **out, char *err,
		    size_t errlen);
void ims_model_free(struct ims_model *model);

const char *ims_model_name(const struct ims_model *model);
const char *ims_model_label(const struct ims_model *model);
enum ims_arch ims_model_arch(const struct ims_model *model);
const char *ims_arch_name(enum ims_arch arch);
/* Host (physical) address width in bits. */
unsigned ims_model_haw(const struct ims_model *model);

#ifdef __cplusplus
}
#endif
#endif
