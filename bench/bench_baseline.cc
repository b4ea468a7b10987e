// bench_baseline.cc - a QEMU-style IOTLB lookup, for comparison.
//
// QEMU's emulated VT-d keeps its IOTLB in a GLib GHashTable keyed by
// (gfn, source id, PASID, level) and probes the 4 KiB, 2 MiB and 1 GiB
// levels in turn (anchors.md: hw/i386/intel_iommu.c).  This is our own code
// doing the same, so that BM_QemuStyleGHashIotlbHit can be set beside
// BM_IotlbHit in one run: a hit on a 4 KiB entry among 1024.
#include <benchmark/benchmark.h>

#include <glib.h>

#include <cstdint>

namespace {

struct Key {
	uint64_t gfn;
	uint32_t pasid;
	uint16_t sid;
	uint8_t level;
};

struct Entry {
	uint64_t out;
	uint8_t perm;
};

guint key_hash(gconstpointer p)
{
	const Key *k = static_cast<const Key *>(p);
	// Fold the fields into one 64-bit word, then into a guint.
	uint64_t v = k->gfn ^ (uint64_t(k->sid) << 36) ^ (uint64_t(k->level - 1) << 52) ^
		     (uint64_t(k->pasid) << 44);
	return guint(v ^ (v >> 32));
}

gboolean key_equal(gconstpointer a, gconstpointer b)
{
	const Key *x = static_cast<const Key *>(a), *y = static_cast<const Key *>(b);
	return x->gfn == y->gfn && x->sid == y->sid && x->pasid == y->pasid &&
	       x->level == y->level;
}

void BM_QemuStyleGHashIotlbHit(benchmark::State &state)
{
	GHashTable *t = g_hash_table_new_full(key_hash, key_equal, g_free, g_free);
	const uint64_t base = 0x7f0000000ull;
	for (uint64_t i = 0; i < 1024; i++) {
		Key *k = g_new0(Key, 1);
		k->gfn = base + i;
		k->sid = 0x10;
		k->pasid = 5;
		k->level = 1;
		Entry *e = g_new0(Entry, 1);
		e->out = 0x40100000 + (i << 12);
		g_hash_table_insert(t, k, e);
	}
	uint64_t addr = (base + 17) << 12;
	for (auto _ : state) {
		Entry *hit = nullptr;
		// Probe 4 KiB, 2 MiB, 1 GiB as QEMU does, stopping at the first hit.
		for (uint8_t level = 1; level <= 3 && !hit; level++) {
			Key k = {};
			k.gfn = (addr >> (12 + 9 * (level - 1))) << (9 * (level - 1));
			k.sid = 0x10;
			k.pasid = 5;
			k.level = level;
			hit = static_cast<Entry *>(g_hash_table_lookup(t, &k));
		}
		benchmark::DoNotOptimize(hit);
	}
	state.SetItemsProcessed(state.iterations());
	g_hash_table_destroy(t);
}

} // namespace

BENCHMARK(BM_QemuStyleGHashIotlbHit);
