// bench_iommufd.cc - the cost of an ioctl through the /dev/iommu dispatcher.
//
// IOAS_MAP then IOAS_UNMAP of one buffer, 4 KiB and 2 MiB, on an IOAS with
// no device: the dispatcher's size checks, the user copies (process_vm_readv
// on our own pid, as every in-process transport does) and the interval-map
// updates.  Items per second are map+unmap pairs.  Also IOAS_MAP of 1 GiB
// as 262144 separate 4 KiB maps, to show the interval map's growth.
//
// With a device attached (the selftest's mock IOMMU, through
// IOMMU_TEST_CMD MOCK_DOMAIN) every map also checks the caller's memory,
// pins its pages and fills the domain's page table: the *Domain variants.
// HWPT_INVALIDATE of one entry on a nested HWPT measures the invalidation
// path of the dispatcher.
//
// The *Vtd variants use a device behind the modelled VT-d (the host driver,
// iommufd/host.c): every map writes second-stage entries in simulated
// memory and every unmap invalidates and waits through the modelled
// invalidation queue; the "modelled_cycles" counter is the IOMMU's own
// cost per item from the model's timing.  BM_MemoryPerMappedGiB maps 1 GiB
// of (untouched) memory as one IOAS_MAP with a device attached and reports
// the simulator's resident-memory growth in bytes per mapped GiB.
// BM_HwptGetDirtyBitmapVtd2M reads (and clears) the dirty bitmap of a
// 2 MiB range on a dirty-tracking HWPT (ECAP.SSADS, SSADE on): 512 4 KiB
// second-stage leaves walked in simulated memory; the argument is how many
// pages a device wrote (iofd_host_dma, not timed) before each read, each of
// them cleaned and invalidated (one page-selective IOTLB invalidation and a
// wait per read).
#include <benchmark/benchmark.h>

#include <sys/mman.h>

#include <cstdint>
#include <cstdio>
#include <vector>

#include <iommusim/iommusim.h>
#include <iommusim/iommufd.h>

#include "iommufd/uapi.h"

namespace {

// A scalable-mode VT-d with nesting and caches (models/vtd-default.json's
// shape, kept small here so the benchmark needs no data files).
const char vtd_model[] =
	"{\"arch\":\"vtd\",\"haw\":46,\"vtd\":{"
	"\"cap\":{\"ND\":6,\"SAGAW\":4,\"MGAW\":47,\"SLLPS\":1,\"PSI\":1,\"NFR\":7,"
	"\"MAMV\":18,\"FRO\":34},"
	"\"ecap\":{\"QI\":1,\"NEST\":1,\"SRS\":1,\"PSS\":19,\"PASID\":1,\"SMTS\":1,"
	"\"SSTS\":1,\"FSTS\":1,\"IRO\":80},\"fault_records\":8},"
	"\"caches\":{\"iotlb\":{\"entries\":128,\"ways\":8},"
	"\"pwc_s2\":{\"entries\":64,\"ways\":4}},"
	"\"timing\":{\"mem_read\":394,\"inv_command\":130,\"inv_sync\":2000}}";

// The same unit with second-stage A/D (SSADS) and page-walk coherency, as
// Linux asks for dirty tracking, and 4 KiB second-stage pages only (no
// SLLPS) so that a 2 MiB range is always 512 leaves.
const char vtd_dirty_model[] =
	"{\"arch\":\"vtd\",\"haw\":46,\"vtd\":{"
	"\"cap\":{\"ND\":6,\"SAGAW\":4,\"MGAW\":47,\"PSI\":1,\"NFR\":7,"
	"\"MAMV\":18,\"FRO\":34},"
	"\"ecap\":{\"QI\":1,\"NEST\":1,\"SRS\":1,\"PSS\":19,\"PASID\":1,\"SMTS\":1,"
	"\"SSTS\":1,\"FSTS\":1,\"IRO\":80,\"SSADS\":1,\"SMPWCS\":1},\"fault_records\":8},"
	"\"caches\":{\"iotlb\":{\"entries\":128,\"ways\":8},"
	"\"pwc_s2\":{\"entries\":64,\"ways\":4}},"
	"\"timing\":{\"mem_read\":394,\"inv_command\":130,\"inv_sync\":2000}}";

bool host_vtd(const char *json = vtd_model)
{
	ims_model *m;
	char err[256];
	return !ims_model_parse(json, "bench-vtd", &m, err, sizeof(err)) &&
	       !iofd_host_init(m, err, sizeof(err));
}

// Resident set size in bytes (/proc/self/statm, second field in pages).
uint64_t rss_bytes()
{
	unsigned long size = 0, res = 0;
	FILE *f = fopen("/proc/self/statm", "re");
	if (f) {
		if (fscanf(f, "%lu %lu", &size, &res) != 2)
			res = 0;
		fclose(f);
	}
	return (uint64_t)res * 4096;
}

struct Ctx {
	iofd_ctx *ctx;
	uint32_t ioas;
	Ctx()
	{
		ctx = iofd_open(&iofd_uaccess_self, IOFD_ABI_NEWEST);
		iofd_ioas_alloc a = {};
		a.size = sizeof(a);
		iofd_ioctl(ctx, IOFD_REQ(IOFD_NR_IOAS_ALLOC), (uintptr_t)&a);
		ioas = a.out_ioas_id;
	}
	~Ctx() { iofd_close(ctx); }
	// Attach a mock device to the IOAS; its automatic HWPT's ID.
	uint32_t mock_domain()
	{
		iofd_test_cmd t = {};
		t.size = sizeof(t);
		t.op = IOFD_TEST_OP_MOCK_DOMAIN;
		t.id = ioas;
		if (iofd_ioctl(ctx, IOFD_REQ(IOFD_NR_TEST_CMD), (uintptr_t)&t))
			return 0;
		dev = t.mock_domain.out_idev_id;
		return t.mock_domain.out_hwpt_id;
	}
	// Bind a device behind the host VT-d and attach it to the IOAS (a
	// second-stage domain); its HWPT's ID, 0 on failure.
	uint32_t vtd_domain(uint32_t sid)
	{
		uint32_t pt = ioas;
		if (iofd_host_bind(ctx, sid, &dev) || iofd_host_attach(ctx, dev, &pt))
			return 0;
		return pt;
	}
	uint32_t dev = 0;
	long map(void *buf, uint64_t len, uint64_t iova)
	{
		iofd_ioas_map m = {};
		m.size = sizeof(m);
		m.flags = IOFD_MAP_FIXED_IOVA | IOFD_MAP_READABLE | IOFD_MAP_WRITEABLE;
		m.ioas_id = ioas;
		m.user_va = (uintptr_t)buf;
		m.length = len;
		m.iova = iova;
		return iofd_ioctl(ctx, IOFD_REQ(IOFD_NR_IOAS_MAP), (uintptr_t)&m);
	}
	long unmap(uint64_t iova, uint64_t len)
	{
		iofd_ioas_unmap u = {};
		u.size = sizeof(u);
		u.ioas_id = ioas;
		u.iova = iova;
		u.length = len;
		return iofd_ioctl(ctx, IOFD_REQ(IOFD_NR_IOAS_UNMAP), (uintptr_t)&u);
	}
};

void BM_IoasMapUnmap(benchmark::State &state)
{
	uint64_t len = (uint64_t)state.range(0);
	void *buf = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	Ctx c;
	for (auto _ : state) {
		if (c.map(buf, len, 1ull << 32) || c.unmap(1ull << 32, len)) {
			state.SkipWithError("map/unmap failed");
			break;
		}
	}
	state.SetItemsProcessed(state.iterations());
	munmap(buf, len);
}
BENCHMARK(BM_IoasMapUnmap)->Arg(4096)->Arg(2 << 20);

void BM_IoasMapUnmapDomain(benchmark::State &state)
{
	uint64_t len = (uint64_t)state.range(0);
	void *buf = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	Ctx c;
	if (!c.mock_domain())
		state.SkipWithError("MOCK_DOMAIN failed");
	for (auto _ : state) {
		if (c.map(buf, len, 1ull << 24) || c.unmap(1ull << 24, len)) {
			state.SkipWithError("map/unmap failed");
			break;
		}
	}
	state.SetItemsProcessed(state.iterations());
	munmap(buf, len);
}
BENCHMARK(BM_IoasMapUnmapDomain)->Arg(4096)->Arg(2 << 20);

// One selftest invalidation entry on a nested HWPT.
void BM_HwptInvalidate1(benchmark::State &state)
{
	Ctx c;
	uint32_t parent_id = 0, nested_id = 0;
	if (c.mock_domain()) {
		iofd_hwpt_alloc a = {};
		a.size = sizeof(a);
		a.flags = IOFD_HWPT_ALLOC_NEST_PARENT;
		a.dev_id = c.dev;
		a.pt_id = c.ioas;
		if (!iofd_ioctl(c.ctx, IOFD_REQ(IOFD_NR_HWPT_ALLOC), (uintptr_t)&a))
			parent_id = a.out_hwpt_id;
		iofd_hwpt_selftest data = {0xbadbeef};
		a.flags = 0;
		a.pt_id = parent_id;
		a.data_type = IOFD_HWPT_DATA_SELFTEST;
		a.data_len = sizeof(data);
		a.data_uptr = (uintptr_t)&data;
		if (parent_id && !iofd_ioctl(c.ctx, IOFD_REQ(IOFD_NR_HWPT_ALLOC), (uintptr_t)&a))
			nested_id = a.out_hwpt_id;
	}
	if (!nested_id)
		state.SkipWithError("nested HWPT_ALLOC failed");
	iofd_hwpt_invalidate_selftest entry = {0, 1};
	for (auto _ : state) {
		iofd_hwpt_invalidate inv = {};
		inv.size = sizeof(inv);
		inv.hwpt_id = nested_id;
		inv.data_uptr = (uintptr_t)&entry;
		inv.data_type = IOFD_HWPT_INVALIDATE_DATA_SELFTEST;
		inv.entry_len = sizeof(entry);
		inv.entry_num = 1;
		if (iofd_ioctl(c.ctx, IOFD_REQ(IOFD_NR_HWPT_INVALIDATE), (uintptr_t)&inv)) {
			state.SkipWithError("invalidate failed");
			break;
		}
	}
	state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HwptInvalidate1);

// 1 GiB of IOVA as 4 KiB maps of one page, then unmap-all.
void BM_IoasMap1GiBIn4K(benchmark::State &state)
{
	void *buf = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	const uint64_t n = (1ull << 30) / 4096;
	for (auto _ : state) {
		Ctx c;
		for (uint64_t i = 0; i < n; i++)
			if (c.map(buf, 4096, (1ull << 32) + i * 4096)) {
				state.SkipWithError("map failed");
				break;
			}
	}
	state.SetItemsProcessed(state.iterations() * (int64_t)n);
	munmap(buf, 4096);
}
BENCHMARK(BM_IoasMap1GiBIn4K)->Unit(benchmark::kMillisecond)->Iterations(2);

void BM_IoasMapUnmapVtd(benchmark::State &state)
{
	uint64_t len = (uint64_t)state.range(0);
	void *buf = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!host_vtd()) {
		state.SkipWithError("host VT-d failed");
		return;
	}
	{
		Ctx c;
		if (!c.vtd_domain(0x100))
			state.SkipWithError("VT-d attach failed");
		uint64_t cyc0 = ims_iommu_stats(iofd_host_iommu())->inv_cycles;
		for (auto _ : state) {
			if (c.map(buf, len, 1ull << 32) || c.unmap(1ull << 32, len)) {
				state.SkipWithError("map/unmap failed");
				break;
			}
		}
		state.SetItemsProcessed(state.iterations());
		state.counters["modelled_cycles"] = benchmark::Counter(
			(double)(ims_iommu_stats(iofd_host_iommu())->inv_cycles - cyc0),
			benchmark::Counter::kAvgIterations);
	}
	iofd_host_fini();
	munmap(buf, len);
}
BENCHMARK(BM_IoasMapUnmapVtd)->Arg(4096)->Arg(2 << 20);

// One VT-d first-stage invalidation entry on a nested HWPT.
void BM_HwptInvalidateVtd1(benchmark::State &state)
{
	void *buf = mmap(nullptr, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);
	if (!host_vtd()) {
		state.SkipWithError("host VT-d failed");
		return;
	}
	{
		Ctx c;
		uint32_t nested = 0;
		if (c.vtd_domain(0x100) && !c.map(buf, 1 << 20, 0)) {
			iofd_hwpt_alloc a = {};
			a.size = sizeof(a);
			a.flags = IOFD_HWPT_ALLOC_NEST_PARENT;
			a.dev_id = c.dev;
			a.pt_id = c.ioas;
			uint32_t parent = 0;
			if (!iofd_ioctl(c.ctx, IOFD_REQ(IOFD_NR_HWPT_ALLOC), (uintptr_t)&a))
				parent = a.out_hwpt_id;
			iofd_hwpt_vtd_s1 s1 = {};
			s1.pgtbl_addr = 0;
			s1.addr_width = 48;
			a.flags = 0;
			a.pt_id = parent;
			a.data_type = IOFD_HWPT_DATA_VTD_S1;
			a.data_len = sizeof(s1);
			a.data_uptr = (uintptr_t)&s1;
			if (parent && !iofd_ioctl(c.ctx, IOFD_REQ(IOFD_NR_HWPT_ALLOC), (uintptr_t)&a)) {
				uint32_t pt = a.out_hwpt_id;
				if (!iofd_host_attach(c.ctx, c.dev, &pt))
					nested = pt;
			}
		}
		if (!nested)
			state.SkipWithError("nested VT-d HWPT failed");
		iofd_hwpt_vtd_s1_invalidate entry = {};
		entry.addr = 0x40000000;
		entry.npages = 1;
		uint64_t cyc0 = ims_iommu_stats(iofd_host_iommu())->inv_cycles;
		for (auto _ : state) {
			iofd_hwpt_invalidate inv = {};
			inv.size = sizeof(inv);
			inv.hwpt_id = nested;
			inv.data_uptr = (uintptr_t)&entry;
			inv.data_type = IOFD_HWPT_INVALIDATE_DATA_VTD_S1;
			inv.entry_len = sizeof(entry);
			inv.entry_num = 1;
			if (iofd_ioctl(c.ctx, IOFD_REQ(IOFD_NR_HWPT_INVALIDATE), (uintptr_t)&inv)) {
				state.SkipWithError("invalidate failed");
				break;
			}
		}
		state.SetItemsProcessed(state.iterations());
		state.counters["modelled_cycles"] = benchmark::Counter(
			(double)(ims_iommu_stats(iofd_host_iommu())->inv_cycles - cyc0),
			benchmark::Counter::kAvgIterations);
	}
	iofd_host_fini();
	munmap(buf, 1 << 20);
}
BENCHMARK(BM_HwptInvalidateVtd1);

// GET_DIRTY_BITMAP over 2 MiB (512 bits of 4 KiB) on a VT-d dirty-tracking
// HWPT, after state.range(0) pages were written.
void BM_HwptGetDirtyBitmapVtd2M(benchmark::State &state)
{
	const uint64_t len = 2 << 20, iova = 1ull << 32;
	unsigned writes = (unsigned)state.range(0);
	void *buf = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!host_vtd(vtd_dirty_model)) {
		state.SkipWithError("host VT-d failed");
		return;
	}
	{
		Ctx c;
		uint32_t hwpt = 0;
		if (!iofd_host_bind(c.ctx, 0x100, &c.dev) && !c.map(buf, len, iova)) {
			iofd_hwpt_alloc a = {};
			a.size = sizeof(a);
			a.flags = IOFD_HWPT_ALLOC_DIRTY_TRACKING;
			a.dev_id = c.dev;
			a.pt_id = c.ioas;
			uint32_t pt = 0;
			if (!iofd_ioctl(c.ctx, IOFD_REQ(IOFD_NR_HWPT_ALLOC), (uintptr_t)&a)) {
				pt = a.out_hwpt_id;
				if (iofd_host_attach(c.ctx, c.dev, &pt))
					pt = 0;
			}
			iofd_hwpt_set_dirty_tracking t = {};
			t.size = sizeof(t);
			t.flags = IOFD_HWPT_DIRTY_TRACKING_ENABLE;
			t.hwpt_id = pt;
			if (pt && !iofd_ioctl(c.ctx, IOFD_REQ(IOFD_NR_HWPT_SET_DIRTY_TRACKING),
					      (uintptr_t)&t))
				hwpt = pt;
		}
		if (!hwpt)
			state.SkipWithError("VT-d dirty-tracking HWPT failed");
		uint64_t bitmap[512 / 64];
		uint64_t cyc0 = ims_iommu_stats(iofd_host_iommu())->inv_cycles;
		uint64_t dirty = 0;
		for (auto _ : state) {
			state.PauseTiming();
			for (unsigned i = 0; i < writes; i++) {
				uint32_t v = i;
				iofd_host_dma(0x100, iova + (uint64_t)i * 4096, &v, sizeof(v), true,
					      nullptr);
			}
			for (auto &w : bitmap)
				w = 0;
			state.ResumeTiming();
			iofd_hwpt_get_dirty_bitmap g = {};
			g.size = sizeof(g);
			g.hwpt_id = hwpt;
			g.iova = iova;
			g.length = len;
			g.page_size = 4096;
			g.data = (uintptr_t)bitmap;
			if (iofd_ioctl(c.ctx, IOFD_REQ(IOFD_NR_HWPT_GET_DIRTY_BITMAP), (uintptr_t)&g)) {
				state.SkipWithError("GET_DIRTY_BITMAP failed");
				break;
			}
			for (auto w : bitmap)
				dirty += (uint64_t)__builtin_popcountll(w);
		}
		state.SetItemsProcessed(state.iterations());
		state.counters["dirty_bits"] =
			benchmark::Counter((double)dirty, benchmark::Counter::kAvgIterations);
		state.counters["modelled_cycles"] = benchmark::Counter(
			(double)(ims_iommu_stats(iofd_host_iommu())->inv_cycles - cyc0),
			benchmark::Counter::kAvgIterations);
		iofd_host_detach(c.ctx, c.dev); /* the HWPT goes before its IOAS */
	}
	iofd_host_fini();
	munmap(buf, len);
}
BENCHMARK(BM_HwptGetDirtyBitmapVtd2M)->Arg(0)->Arg(1)->Arg(512);

// Resident memory the simulator adds per GiB mapped with a device attached
// (arg 0: the mock IOMMU, arg 1: the host VT-d).  The memory itself is
// never touched, so the growth is the pin table, the IOAS and the tables.
void BM_MemoryPerMappedGiB(benchmark::State &state)
{
	const uint64_t len = 1ull << 30;
	bool vtd = state.range(0) == 1;
	void *buf = mmap(nullptr, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vtd && !host_vtd()) {
		state.SkipWithError("host VT-d failed");
		return;
	}
	double growth = 0;
	for (auto _ : state) {
		Ctx c;
		if (!(vtd ? c.vtd_domain(0x100) : c.mock_domain())) {
			state.SkipWithError("attach failed");
			break;
		}
		uint64_t before = rss_bytes();
		if (c.map(buf, len, vtd ? 1ull << 32 : 1ull << 24)) {
			state.SkipWithError("map failed");
			break;
		}
		growth = (double)(rss_bytes() - before);
	}
	state.counters["bytes_per_GiB"] = growth;
	state.SetLabel(vtd ? "vtd" : "mock");
	if (vtd)
		iofd_host_fini();
	munmap(buf, len);
}
BENCHMARK(BM_MemoryPerMappedGiB)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->Iterations(1);

} // namespace
