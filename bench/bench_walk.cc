// bench_walk.cc - the simulator's own cost of one translation, no caches.
//
// BM_NestedWalk4x4: a nested VT-d translation with 4-level first and second
// stages and 4 KiB pages everywhere: 4 configuration reads and 24 table
// reads (4 first-stage reads, each table address translated by a 4-read
// second-stage walk, then 4 reads for the final address).
// BM_FirstStageWalk: a first-stage-only translation (4 config + 4 reads).
// Items per second = translations per second on one core.
#include <benchmark/benchmark.h>

#include "bench_common.h"

namespace {

void run(benchmark::State &state, unsigned pgtt, unsigned want_reads)
{
	bench::Vtd b(pgtt, 1);
	ims_txn txn = bench::Vtd::txn(bench::kIova + 0x40);
	auto *res = static_cast<ims_result *>(std::calloc(1, sizeof(ims_result)));
	const ims_stats *st = ims_iommu_stats(b.iommu);
	uint64_t before = st->table_reads + st->config_reads;
	if (ims_translate(b.iommu, &txn, res) || !res->ok ||
	    st->table_reads + st->config_reads - before != want_reads) {
		state.SkipWithError("translation did not run as expected");
		std::free(res);
		return;
	}
	for (auto _ : state) {
		ims_translate(b.iommu, &txn, res);
		benchmark::DoNotOptimize(res->out_addr);
	}
	state.SetItemsProcessed(state.iterations());
	state.counters["reads"] = want_reads;
	std::free(res);
}

void BM_NestedWalk4x4(benchmark::State &state) { run(state, 3, 4 + 24); }
void BM_FirstStageWalk(benchmark::State &state) { run(state, 1, 4 + 4); }

} // namespace

BENCHMARK(BM_NestedWalk4x4);
BENCHMARK(BM_FirstStageWalk);
