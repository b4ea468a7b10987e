// bench_trace.cc - decoding traces (traces/binary.c, traces/jsonl.c).
//
// One trace of kEvents events shaped like a NIC receive workload (per
// buffer: map, four DMAs, unmap, a page invalidation and a sync, plus an
// occasional tick and attach), written once to /tmp in each encoding and
// removed at exit.  Each iteration opens the file and reads every event,
// as the replayer does.
// BM_TraceDecodeBinary: the binary encoding (target >= 20 M events/s).
// BM_TraceDecodeJsonl: JSON Lines.
// Items per second = events decoded per second on one core.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <unistd.h>

extern "C" {
#include <iommusim/iommusim.h>
}

namespace {

constexpr unsigned kEvents = 1u << 20;

// Fill ev with event n of the workload.
void make_event(unsigned n, ims_event *ev)
{
	static const uint16_t cycle[] = { IMS_EV_MAP,   IMS_EV_DMA, IMS_EV_DMA,
					  IMS_EV_DMA,   IMS_EV_DMA, IMS_EV_UNMAP,
					  IMS_EV_INV,   IMS_EV_SYNC };
	unsigned buf = n / 8;
	uint64_t iova = 0x7f0000000000ull + 4096ull * (buf % 4096);

	std::memset(ev, 0, sizeof(*ev));
	ev->ts_ns = 1000ull * n + n % 7;
	ev->cpu = buf % 8;
	ev->type = cycle[n % 8];
	if (n % 4096 == 0)
		ev->type = n ? IMS_EV_TICK : IMS_EV_ATTACH;
	switch (ev->type) {
	case IMS_EV_ATTACH:
		ev->dev = 0x10;
		ev->domain = 1;
		break;
	case IMS_EV_MAP:
		ev->pa = 0x40000000ull + 4096ull * (buf % 65536);
		ev->access = IMS_PERM_PR | IMS_PERM_PW;
		[[fallthrough]];
	case IMS_EV_UNMAP:
		ev->domain = 1;
		ev->iova = iova;
		ev->size = 4096;
		break;
	case IMS_EV_DMA:
		ev->dev = 0x10;
		ev->iova = iova + 1024 * (n % 8 - 1);
		ev->size = 1024;
		ev->access = IMS_ACC_WRITE;
		break;
	case IMS_EV_INV:
		ev->inv_kind = IMS_EV_INV_PAGE;
		ev->domain = 1;
		ev->iova = iova;
		ev->size = 4096;
		ev->flags = IMS_EV_F_LEAF;
		break;
	default:
		break;
	}
}

// The trace in one encoding, written on first use.
struct TraceFile {
	std::string path;
	bool ok = false;

	explicit TraceFile(ims_trace_fmt fmt)
	{
		char tmpl[] = "/tmp/ims-bench-trace-XXXXXX";
		int fd = mkstemp(tmpl);
		char err[256];
		ims_trace_header h = {};
		ims_trace_writer *w;
		ims_event ev;

		if (fd < 0)
			return;
		close(fd);
		path = tmpl;
		h.version = IMS_TRACE_VERSION;
		std::snprintf(h.arch, sizeof(h.arch), "vtd");
		std::snprintf(h.source, sizeof(h.source), "bench:nic-rx");
		if (ims_trace_create(path.c_str(), fmt, &h, &w, err, sizeof(err))) {
			std::fprintf(stderr, "%s\n", err);
			return;
		}
		for (unsigned n = 0; n < kEvents; n++) {
			make_event(n, &ev);
			if (ims_trace_write(w, &ev)) {
				ims_trace_finish(w);
				return;
			}
		}
		ok = ims_trace_finish(w) == 0;
	}

	~TraceFile()
	{
		if (!path.empty())
			unlink(path.c_str());
	}
};

void decode(benchmark::State &state, ims_trace_fmt fmt)
{
	static TraceFile binary(IMS_TRACE_BINARY), jsonl(IMS_TRACE_JSONL);
	const TraceFile &f = fmt == IMS_TRACE_BINARY ? binary : jsonl;
	char err[512];
	uint64_t events = 0, bytes = 0;

	if (!f.ok) {
		state.SkipWithError("could not write the trace to /tmp");
		return;
	}
	for (auto _ : state) {
		ims_trace_reader *r;
		ims_event ev;
		uint64_t n = 0, done;
		int rc;

		if (ims_trace_open(f.path.c_str(), &r, err, sizeof(err))) {
			state.SkipWithError(err);
			return;
		}
		while ((rc = ims_trace_next(r, &ev, err, sizeof(err))) == 1) {
			benchmark::DoNotOptimize(ev.iova);
			n++;
		}
		ims_trace_progress(r, &done, nullptr);
		ims_trace_close(r);
		if (rc || n != kEvents) {
			state.SkipWithError(rc ? err : "wrong number of events");
			return;
		}
		events += n;
		bytes += done;
	}
	state.SetItemsProcessed(static_cast<int64_t>(events));
	state.SetBytesProcessed(static_cast<int64_t>(bytes));
	state.counters["bytes/event"] = static_cast<double>(bytes) / static_cast<double>(events);
}

void BM_TraceDecodeBinary(benchmark::State &state) { decode(state, IMS_TRACE_BINARY); }
void BM_TraceDecodeJsonl(benchmark::State &state) { decode(state, IMS_TRACE_JSONL); }

} // namespace

BENCHMARK(BM_TraceDecodeBinary)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_TraceDecodeJsonl)->Unit(benchmark::kMillisecond);
