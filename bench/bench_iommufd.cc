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
#include <benchmark/benchmark.h>

#include <sys/mman.h>

#include <cstdint>
#include <vector>

#include <iommusim/iommufd.h>

#include "iommufd/uapi.h"

namespace {

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

} // namespace
