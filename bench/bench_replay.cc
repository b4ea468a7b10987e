// bench_replay.cc - replay throughput: trace decoding plus the IOMMU model.
//
// A dma-sweep trace (one 2 MiB window mapped once, 64-byte reads at random
// over it: after the first touches, IOTLB hits) written once to /tmp in
// each encoding.  Each iteration replays the whole file onto a fresh VT-d
// instance with the default caches through the strict driver, as
// `iommusim replay` does.  Items per second = events replayed per second.
// BM_ReplayBinary: target >= 20 M events/s on one core.
// BM_ReplayJsonl: the same trace in JSON Lines.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include <unistd.h>

#include "bench_common.h"

namespace {

// "pages" is the mapping's page size: 4 KiB pages over a 2 MiB window.
const char kParams[] = R"({"window": 2097152, "access_size": 64, "pages": 4096,
  "count": 1000000})";

struct TraceFile {
	std::string path;
	uint64_t events = 0;

	static int emit(void *opaque, const ims_event *ev)
	{
		auto *t = static_cast<std::pair<ims_trace_writer *, uint64_t *> *>(opaque);
		++*t->second;
		return ims_trace_write(t->first, ev);
	}

	explicit TraceFile(ims_trace_fmt fmt)
	{
		char err[512];
		ims_trace_header h = {};
		ims_trace_writer *w;
		h.version = IMS_TRACE_VERSION;
		std::snprintf(h.arch, sizeof h.arch, "vtd");
		path = std::string("/tmp/iommusim-bench-replay-") + std::to_string(getpid()) +
		       (fmt == IMS_TRACE_BINARY ? ".bin" : ".jsonl");
		std::pair<ims_trace_writer *, uint64_t *> sink;
		if (ims_trace_create(path.c_str(), fmt, &h, &w, err, sizeof err)) {
			std::fprintf(stderr, "%s\n", err);
			std::abort();
		}
		sink = { w, &events };
		if (ims_gen_run("dma-sweep", kParams, 1, emit, &sink, err, sizeof err) ||
		    ims_trace_finish(w)) {
			std::fprintf(stderr, "%s\n", err);
			std::abort();
		}
	}

	~TraceFile() { unlink(path.c_str()); }
};

void replay(benchmark::State &state, ims_trace_fmt fmt)
{
	static TraceFile bin(IMS_TRACE_BINARY), jsonl(IMS_TRACE_JSONL);
	const TraceFile &tf = fmt == IMS_TRACE_BINARY ? bin : jsonl;
	ims_driver_cfg drv;
	char err[512];

	ims_driver_builtin("strict", &drv);
	for (auto _ : state) {
		state.PauseTiming();
		bench::Instance in;
		in.create(bench::vtd_model(R"("caches": {"iotlb": {"entries": 1024, "ways": 8},
		  "context": {"entries": 32}, "pasid": {"entries": 64},
		  "pwc_s1": {"entries": 64, "ways": 4}, "pwc_s2": {"entries": 64, "ways": 4}})"));
		ims_replay *rp;
		ims_trace_reader *r;
		if (ims_replay_new(in.iommu, &drv, 1, &rp, err, sizeof err) ||
		    ims_trace_open(tf.path.c_str(), &r, err, sizeof err)) {
			state.SkipWithError(err);
			return;
		}
		state.ResumeTiming();
		ims_event ev;
		while (ims_trace_next(r, &ev, err, sizeof err) > 0)
			ims_replay_event(rp, &ev, err, sizeof err);
		ims_replay_finish(rp);
		state.PauseTiming();
		ims_trace_close(r);
		ims_replay_free(rp);
		state.ResumeTiming();
	}
	state.SetItemsProcessed(int64_t(state.iterations() * tf.events));
}

void BM_ReplayBinary(benchmark::State &state) { replay(state, IMS_TRACE_BINARY); }
void BM_ReplayJsonl(benchmark::State &state) { replay(state, IMS_TRACE_JSONL); }

} // namespace

BENCHMARK(BM_ReplayBinary)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ReplayJsonl)->Unit(benchmark::kMillisecond)->Iterations(2);
