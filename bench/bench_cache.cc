// bench_cache.cc - the simulator's own cost with the cache model on.
//
// BM_IotlbHit: one nested VT-d translation served by the context, PASID and
//   IOTLB caches (no memory read).
// BM_IotlbMissWarmWalkCaches: no IOTLB, warm walk caches: each translation
//   of 512 pages in one 2 MiB region reads only the two leaves.
// BM_ColdNestedMiss: every cache emptied before each translation: the full
//   2-D walk plus every lookup and fill.
// BM_Invalidate*: one neutral invalidation on a full 1024-entry IOTLB (the
//   refill between iterations is not timed); items = invalidations.
#include <benchmark/benchmark.h>

#include "bench_common.h"

namespace {

const char kCaches[] = R"("caches": {
  "iotlb": {"entries": 1024, "ways": 8}, "context": {"entries": 32},
  "pasid": {"entries": 64}, "pwc_s1": {"entries": 64, "ways": 4},
  "pwc_s2": {"entries": 64, "ways": 4}, "nested_tlb": {"entries": 32}},
  "timing": {"mem_read": 394, "inv_command": 130, "inv_sync": 2000,
             "lookup": {"iotlb": 2, "context": 2, "pasid": 2, "pwc_s1": 2, "pwc_s2": 2}})";

const char kNoIotlb[] = R"("caches": {
  "context": {"entries": 32}, "pasid": {"entries": 64},
  "pwc_s1": {"entries": 64, "ways": 4}, "pwc_s2": {"entries": 64, "ways": 4},
  "nested_tlb": {"entries": 32}})";

struct Res {
	ims_result *r = static_cast<ims_result *>(std::calloc(1, sizeof(ims_result)));
	~Res() { std::free(r); }
};

void BM_IotlbHit(benchmark::State &state)
{
	bench::Vtd b(3, 1, kCaches);
	Res res;
	ims_txn txn = bench::Vtd::txn(bench::kIova + 0x40);
	ims_translate(b.iommu, &txn, res.r);
	ims_translate(b.iommu, &txn, res.r);
	if (!res.r->ok || !res.r->iotlb_hit) {
		state.SkipWithError("expected an IOTLB hit");
		return;
	}
	for (auto _ : state) {
		ims_translate(b.iommu, &txn, res.r);
		benchmark::DoNotOptimize(res.r->out_addr);
	}
	state.SetItemsProcessed(state.iterations());
}

void BM_IotlbMissWarmWalkCaches(benchmark::State &state)
{
	bench::Vtd b(3, 512, kNoIotlb);
	Res res;
	uint64_t n = 0;
	for (unsigned i = 0; i < 512; i++) {
		ims_txn t = bench::Vtd::txn(bench::kIova + 4096ull * i);
		ims_translate(b.iommu, &t, res.r);
	}
	const ims_stats *st = ims_iommu_stats(b.iommu);
	uint64_t before = st->table_reads + st->config_reads;
	for (auto _ : state) {
		ims_txn t = bench::Vtd::txn(bench::kIova + 4096ull * (n++ & 511));
		ims_translate(b.iommu, &t, res.r);
		benchmark::DoNotOptimize(res.r->out_addr);
	}
	state.SetItemsProcessed(state.iterations());
	state.counters["reads"] = benchmark::Counter(
		double(st->table_reads + st->config_reads - before) / double(state.iterations()));
}

void BM_ColdNestedMiss(benchmark::State &state)
{
	bench::Vtd b(3, 1, kCaches);
	Res res;
	ims_txn txn = bench::Vtd::txn(bench::kIova + 0x40);
	for (auto _ : state) {
		ims_iommu_reset_caches(b.iommu);
		ims_translate(b.iommu, &txn, res.r);
		benchmark::DoNotOptimize(res.r->out_addr);
	}
	state.SetItemsProcessed(state.iterations());
}

void invalidate(benchmark::State &state, const ims_inv &inv)
{
	bench::Vtd b(1, 1024, kCaches);
	Res res;
	auto fill = [&] {
		for (unsigned i = 0; i < 1024; i++) {
			ims_txn t = bench::Vtd::txn(bench::kIova + 4096ull * i);
			ims_translate(b.iommu, &t, res.r);
		}
	};
	fill();
	for (auto _ : state) {
		state.PauseTiming();
		fill();
		state.ResumeTiming();
		ims_inv_result r;
		ims_invalidate(b.iommu, &inv, &r);
		benchmark::DoNotOptimize(r.dropped[IMS_ST_IOTLB]);
	}
	state.SetItemsProcessed(state.iterations());
}

ims_inv make(ims_inv_scope scope)
{
	ims_inv inv = {};
	inv.targets = IMS_INV_T_IOTLB | IMS_INV_T_WALK;
	inv.scope = scope;
	inv.flags = IMS_INV_F_STAGE1 | IMS_INV_F_STAGE2;
	inv.has_domain = scope != IMS_INV_SCOPE_ALL;
	inv.domain = 7;
	return inv;
}

void BM_InvalidateGlobal(benchmark::State &s) { invalidate(s, make(IMS_INV_SCOPE_ALL)); }
void BM_InvalidateDomain(benchmark::State &s) { invalidate(s, make(IMS_INV_SCOPE_DOMAIN)); }
void BM_InvalidatePasid(benchmark::State &s)
{
	ims_inv inv = make(IMS_INV_SCOPE_PASID);
	inv.has_pasid = true;
	inv.pasid = 5;
	invalidate(s, inv);
}
void BM_InvalidatePage(benchmark::State &s)
{
	ims_inv inv = make(IMS_INV_SCOPE_RANGE);
	inv.has_pasid = true;
	inv.pasid = 5;
	inv.addr_first = bench::kIova + 4096 * 17;
	inv.addr_last = inv.addr_first + 4095;
	invalidate(s, inv);
}
void BM_InvalidateRange512(benchmark::State &s)
{
	ims_inv inv = make(IMS_INV_SCOPE_RANGE);
	inv.has_pasid = true;
	inv.pasid = 5;
	inv.addr_first = bench::kIova;
	inv.addr_last = inv.addr_first + 512 * 4096 - 1;
	invalidate(s, inv);
}

} // namespace

BENCHMARK(BM_IotlbHit);
BENCHMARK(BM_IotlbMissWarmWalkCaches);
BENCHMARK(BM_ColdNestedMiss);
BENCHMARK(BM_InvalidateGlobal);
BENCHMARK(BM_InvalidateDomain);
BENCHMARK(BM_InvalidatePasid);
BENCHMARK(BM_InvalidatePage);
BENCHMARK(BM_InvalidateRange512);
