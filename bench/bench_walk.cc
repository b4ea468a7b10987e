// bench_walk.cc - the simulator's own cost of one translation, no caches.
//
// BM_NestedWalk4x4: a nested VT-d translation with 4-level first and second
// stages and 4 KiB pages everywhere: 4 configuration reads and 24 table
// reads (4 first-stage reads, each table address translated by a 4-read
// second-stage walk, then 4 reads for the final address).
// BM_FirstStageWalk: a first-stage-only translation (4 config + 4 reads).
// Items per second = translations per second on one core.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

extern "C" {
#include <iommusim/iommusim.h>
}

namespace {

const char kModel[] = R"({"arch": "vtd", "haw": 46, "vtd": {
  "cap": {"SAGAW": 6, "MGAW": 47, "SLLPS": 3, "NFR": 7, "FS1GP": 1, "PSI": 1, "MAMV": 18},
  "ecap": {"QI": 1, "PT": 1, "NEST": 1, "PSS": 19, "PASID": 1, "SMTS": 1, "SSTS": 1,
           "FSTS": 1, "SRS": 1}}})";

struct Bench {
	ims_model *model = nullptr;
	ims_iommu *iommu = nullptr;
	uint64_t next_table = 0x300000;

	static int alloc(void *opaque, unsigned lg2, uint64_t *addr)
	{
		auto *b = static_cast<Bench *>(opaque);
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

	// pgtt 3 (nested) or 1 (first stage only, tables in host memory).
	explicit Bench(unsigned pgtt)
	{
		char err[256];
		if (ims_model_parse(kModel, "bench", &model, err, sizeof err) ||
		    !(iommu = ims_iommu_new(model, err, sizeof err))) {
			std::fprintf(stderr, "%s\n", err);
			std::abort();
		}
		ims_mem *mem = ims_iommu_mem(iommu);
		ims_mem_add_ram(mem, 0, 16ull << 20);
		ims_mem_add_ram(mem, 0x40000000, 16ull << 20);
		ims_iommu_set_reg(iommu, "RTADDR", 0x100000 | (1u << 10));
		ims_iommu_set_reg(iommu, "TE", 1);
		write_struct("vtd.sm_root_entry", 0x100000, 0, {{"LP", 1}, {"LCTP", 0x101000}});
		write_struct("vtd.sm_context_entry", 0x101000, 0x10,
			     {{"P", 1}, {"PASIDE", 1}, {"PASIDDIRPTR", 0x102000}});
		write_struct("vtd.pasid_dir_entry", 0x102000, 0, {{"P", 1}, {"SMPTBLPTR", 0x103000}});
		ims_pt_cfg s2, s1;
		const ims_arch_ops *arch = ims_iommu_arch(iommu);
		arch->stage_cfg(iommu, 2, 4, 0x200000, &s2);
		if (pgtt == 3) {
			// Stage 2: GPA 0-16 MiB -> HPA 0x40000000 in 4 KiB pages.
			for (uint64_t off = 0; off < (16ull << 20); off += 4096)
				ims_pt_map(mem, &s2, nullptr, off, 0x40000000 + off, 12,
					   IMS_PERM_ALL, alloc, this);
			next_table = 0x2000; // guest tables, guest-physical
			arch->stage_cfg(iommu, 1, 4, 0x1000, &s1);
			ims_pt_map(mem, &s1, &s2, 0x7f0000000000ull, 0x100000, 12, IMS_PERM_ALL,
				   alloc, this);
			write_struct("vtd.pasid_entry", 0x103000, 5,
				     {{"P", 1}, {"PGTT", 3}, {"AW", 2}, {"DID", 7},
				      {"SSPTPTR", 0x200000}, {"FSPTPTR", 0x1000}});
		} else {
			arch->stage_cfg(iommu, 1, 4, 0x1000, &s1);
			ims_pt_map(mem, &s1, nullptr, 0x7f0000000000ull, 0x40100000, 12,
				   IMS_PERM_ALL, alloc, this);
			write_struct("vtd.pasid_entry", 0x103000, 5,
				     {{"P", 1}, {"PGTT", 1}, {"DID", 7}, {"FSPTPTR", 0x1000}});
		}
	}

	~Bench()
	{
		ims_iommu_free(iommu);
		ims_model_free(model);
	}
};

void run(benchmark::State &state, unsigned pgtt, unsigned want_reads)
{
	Bench b(pgtt);
	ims_txn txn = {};
	txn.sid = 0x10;
	txn.pasid = 5;
	txn.has_pasid = true;
	txn.addr = 0x7f0000000040ull;
	txn.size = 64;
	txn.access = IMS_ACC_READ;
	auto *res = static_cast<ims_result *>(std::calloc(1, sizeof(ims_result)));
	if (ims_translate(b.iommu, &txn, res) || !res->ok || res->nreads != want_reads) {
		state.SkipWithError("translation did not run as expected");
		std::free(res);
		return;
	}
	for (auto _ : state) {
		ims_translate(b.iommu, &txn, res);
		benchmark::DoNotOptimize(res->out_addr);
	}
	state.SetItemsProcessed(state.iterations());
	state.counters["reads"] = res->nreads;
	std::free(res);
}

void BM_NestedWalk4x4(benchmark::State &state) { run(state, 3, 4 + 24); }
void BM_FirstStageWalk(benchmark::State &state) { run(state, 1, 4 + 4); }

} // namespace

BENCHMARK(BM_NestedWalk4x4);
BENCHMARK(BM_FirstStageWalk);
BENCHMARK_MAIN();
