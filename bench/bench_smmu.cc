// bench_smmu.cc - the simulator's own cost of an SMMUv3 nested translation.
//
// BM_SmmuNestedWalk4x4: StreamID 0x10, STE Config = nested, 4K granule and
// 4 levels in both stages, the CD in guest (IPA) memory, no caches: 2
// stream-table reads, 4 stage-2 reads for the CD's IPA and the CD, then
// 4 x (4 + 1) reads for stage 1 and 4 for the final IPA (31 reads).
// BM_SmmuIotlbHit: the same request served by the STE, CD and IOTLB caches.
#include <benchmark/benchmark.h>

#include "bench_common.h"

namespace {

const char kModel[] = R"({"arch": "smmuv3", "haw": 48, "smmuv3": {
  "idr0": {"S2P": 1, "S1P": 1, "TTF": 2, "COHACC": 1, "HTTU": 2, "ASID16": 1, "VMID16": 1,
           "CD2L": 1, "TTENDIAN": 2, "STALL_MODEL": 1, "ST_LEVEL": 1},
  "idr1": {"SIDSIZE": 16, "SSIDSIZE": 20, "EVENTQS": 19, "CMDQS": 19},
  "idr3": {"RIL": 1},
  "idr5": {"OAS": 5, "GRAN4K": 1, "GRAN16K": 1, "GRAN64K": 1},
  "aidr": {"ArchMajorRev": 0, "ArchMinorRev": 2}})";

const char kCaches[] = R"(, "caches": {"iotlb": {"entries": 2048, "ways": 4},
  "context": {"entries": 64}, "pasid": {"entries": 64}})";

struct Smmu : bench::Instance {
	explicit Smmu(bool caches)
	{
		create(std::string(kModel) + (caches ? kCaches : "") + "}");
		ims_mem *mem = ims_iommu_mem(iommu);
		ims_mem_add_ram(mem, 0, 16ull << 20);
		ims_mem_add_ram(mem, 0x40000000, 16ull << 20);
		ims_iommu_set_reg(iommu, "STRTAB_BASE", 0x100000);
		ims_iommu_set_reg(iommu, "STRTAB_BASE_CFG", 0x10210); // 2-level, SPLIT 8, 16 bits
		ims_iommu_set_reg(iommu, "CR0", 0x1);                 // SMMUEN
		ims_pt_cfg s2, s1;
		const ims_arch_ops *arch = ims_iommu_arch(iommu);
		arch->stage_cfg(iommu, 2, 4, 0x200000, &s2);
		arch->stage_cfg(iommu, 1, 4, 0x1000, &s1);
		for (uint64_t off = 0; off < (16ull << 20); off += 4096)
			ims_pt_map(mem, &s2, nullptr, off, 0x40000000 + off, 12, IMS_PERM_ALL, alloc,
				   this);
		write_struct("smmu.l1std", 0x100000, 0, {{"Span", 9}, {"L2Ptr", 0x110000}});
		write_struct("smmu.ste", 0x110000, 0x10,
		    {{"V", 1}, {"Config", 7}, {"S1ContextPtr", 0x10000}, {"S2VMID", 5},
		     {"S2T0SZ", 16}, {"S2SL0", 2}, {"S2PS", 5}, {"S2AA64", 1}, {"S2TTB", 0x200000}});
		write_struct("smmu.cd", 0x40010000, 0,
		    {{"V", 1}, {"AA64", 1}, {"T0SZ", 16}, {"EPD1", 1}, {"IPS", 5}, {"A", 1},
		     {"ASID", 3}, {"TTB0", 0x1000}});
		next_table = 0x2000; // the guest's tables, IPA
		ims_pt_map(mem, &s1, &s2, 0x7f0000000000ull, 0x100000, 12,
			   IMS_PERM_ALL & ~(IMS_PERM_X | IMS_PERM_PX), alloc, this);
	}

};

void run(benchmark::State &state, bool caches)
{
	Smmu s(caches);
	ims_txn txn = {};
	txn.sid = 0x10;
	txn.addr = 0x7f0000000040ull;
	txn.size = 64;
	txn.access = IMS_ACC_READ;
	txn.flags = IMS_TXN_NO_TRACE;
	auto *res = static_cast<ims_result *>(std::calloc(1, sizeof(ims_result)));
	const ims_stats *st = ims_iommu_stats(s.iommu);
	uint64_t before = st->table_reads + st->config_reads;
	if (ims_translate(s.iommu, &txn, res) || !res->ok) {
		state.SkipWithError("translation did not run as expected");
		std::free(res);
		return;
	}
	unsigned reads = unsigned(st->table_reads + st->config_reads - before);
	for (auto _ : state) {
		ims_translate(s.iommu, &txn, res);
		benchmark::DoNotOptimize(res->out_addr);
	}
	state.SetItemsProcessed(state.iterations());
	state.counters["reads"] = caches ? 0 : reads;
	std::free(res);
}

void BM_SmmuNestedWalk4x4(benchmark::State &state) { run(state, false); }
void BM_SmmuIotlbHit(benchmark::State &state) { run(state, true); }

} // namespace

BENCHMARK(BM_SmmuNestedWalk4x4);
BENCHMARK(BM_SmmuIotlbHit);
