// bench_common.h - a VT-d instance set up the way the benchmarks need it.
//
// Device 00:02.0, PASID 5.  Guest-physical 0-16 MiB is host 0x40000000 +
// GPA, mapped by a 4-level second stage in 4 KiB pages; the guest's 4-level
// first stage maps IOVA 0x7f0000000000 + n * 4 KiB to GPA 0x100000 + n *
// 4 KiB for n < pages.  PGTT 3 is nested, PGTT 1 first stage only (its
// tables in host memory, pages at HPA 0x40100000 + n * 4 KiB).
#ifndef IMS_BENCH_COMMON_H
#define IMS_BENCH_COMMON_H

#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <string>
#include <utility>

extern "C" {
#include <iommusim/iommusim.h>
}

namespace bench {

constexpr uint64_t kIova = 0x7f0000000000ull;

inline std::string vtd_model(const char *extra)
{
	std::string m = R"({"arch": "vtd", "haw": 46, "vtd": {
  "cap": {"SAGAW": 6, "MGAW": 47, "SLLPS": 3, "NFR": 7, "FS1GP": 1, "PSI": 1, "MAMV": 18},
  "ecap": {"QI": 1, "PT": 1, "NEST": 1, "PSS": 19, "PASID": 1, "SMTS": 1, "SSTS": 1,
           "FSTS": 1, "SRS": 1}})";
	if (extra && *extra)
		m += std::string(", ") + extra;
	return m + "}";
}

/*
 * What every benchmark instance needs: the model and instance, a bump
 * allocator for tables (ims_pt_map's allocator) and a writer of
 * configuration structures by field name.
 */
struct Instance {
	ims_model *model = nullptr;
	ims_iommu *iommu = nullptr;
	uint64_t next_table = 0x300000;

	void create(const std::string &json)
	{
		char err[256];
		if (ims_model_parse(json.c_str(), "bench", &model, err, sizeof err) ||
		    !(iommu = ims_iommu_new(model, err, sizeof err))) {
			std::fprintf(stderr, "%s\n", err);
			std::abort();
		}
	}

	static int alloc(void *opaque, unsigned lg2, uint64_t *addr)
	{
		auto *b = static_cast<Instance *>(opaque);
		*addr = b->next_table;
		b->next_table += 1ull << lg2;
		return 0;
	}

	void write_struct(const char *name, uint64_t at, unsigned index,
			  std::initializer_list<std::pair<const char *, uint64_t>> fields)
	{
		const ims_struct_desc *sd = ims_struct_find(iommu, name);
		uint64_t w[8] = {};
		at += 8ull * sd->nwords * index;
		for (auto &f : fields)
			if (ims_struct_set(sd, w, f.first, f.second))
				std::abort();
		for (unsigned i = 0; i < sd->nwords; i++)
			ims_mem_write64(ims_iommu_mem(iommu), at + 8 * i, w[i]);
	}

	~Instance()
	{
		ims_iommu_free(iommu);
		ims_model_free(model);
	}
};

struct Vtd : Instance {
	Vtd(unsigned pgtt, unsigned pages, const char *model_extra = "")
	{
		create(vtd_model(model_extra));
		ims_mem *mem = ims_iommu_mem(iommu);
		ims_mem_add_ram(mem, 0, 16ull << 20);
		ims_mem_add_ram(mem, 0x40000000, 16ull << 20);
		ims_iommu_set_reg(iommu, "RTADDR", 0x100000 | (1u << 10));
		ims_iommu_set_reg(iommu, "TE", 1);
		write_struct("vtd.sm_root_entry", 0x100000, 0, {{"LP", 1}, {"LCTP", 0x101000}});
		write_struct("vtd.sm_context_entry", 0x101000, 0x10,
			     {{"P", 1}, {"PASIDE", 1}, {"PASIDDIRPTR", 0x102000}});
		write_struct("vtd.pasid_dir_entry", 0x102000, 0,
			     {{"P", 1}, {"SMPTBLPTR", 0x103000}});
		ims_pt_cfg s2, s1;
		const ims_arch_ops *arch = ims_iommu_arch(iommu);
		arch->stage_cfg(iommu, 2, 4, 0x200000, &s2);
		arch->stage_cfg(iommu, 1, 4, 0x1000, &s1);
		if (pgtt == 3) {
			for (uint64_t off = 0; off < (16ull << 20); off += 4096)
				ims_pt_map(mem, &s2, nullptr, off, 0x40000000 + off, 12,
					   IMS_PERM_ALL, alloc, this);
			next_table = 0x2000; // the guest's tables, guest-physical
			for (unsigned n = 0; n < pages; n++)
				ims_pt_map(mem, &s1, &s2, kIova + 4096ull * n, 0x100000 + 4096ull * n,
					   12, IMS_PERM_ALL, alloc, this);
			write_struct("vtd.pasid_entry", 0x103000, 5,
				     {{"P", 1}, {"PGTT", 3}, {"AW", 2}, {"DID", 7},
				      {"SSPTPTR", 0x200000}, {"FSPTPTR", 0x1000}});
		} else {
			for (unsigned n = 0; n < pages; n++)
				ims_pt_map(mem, &s1, nullptr, kIova + 4096ull * n,
					   0x40100000 + 4096ull * n, 12, IMS_PERM_ALL, alloc, this);
			write_struct("vtd.pasid_entry", 0x103000, 5,
				     {{"P", 1}, {"PGTT", 1}, {"DID", 7}, {"FSPTPTR", 0x1000}});
		}
	}

	static ims_txn txn(uint64_t addr)
	{
		ims_txn t = {};
		t.sid = 0x10;
		t.pasid = 5;
		t.has_pasid = true;
		t.addr = addr;
		t.size = 64;
		t.access = IMS_ACC_READ;
		t.flags = IMS_TXN_NO_TRACE;
		return t;
	}
};

} // namespace bench

#endif
