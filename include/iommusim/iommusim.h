/*
 * iommusim/iommusim.h - everything public, in one include.
 */
#ifndef IOMMUSIM_IOMMUSIM_H
#define IOMMUSIM_IOMMUSIM_H

#include <iommusim/cache.h>
#include <iommusim/inv.h>
#include <iommusim/iommu.h>
#include <iommusim/mem.h>
#include <iommusim/model.h>
#include <iommusim/pgtable.h>
#include <iommusim/smmuv3.h>
#include <iommusim/trace.h>
#include <iommusim/vtd.h>

#endif
