/*
 * test_qi.c - VT-d queued invalidation: the queue registers and their
 * processing (VT-d spec 6.5.2, 6.5.2.10, 11.4.9).  Descriptors are built
 * from the spec's layouts here, not with the project's masks.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <iommusim/iommusim.h>

/* CAP: SAGAW 4-level, MGAW 47, PSI, MAMV 9, NFR 0.  ECAP: QI, SMTS, SSTS, PT. */
#define CAP ((UINT64_C(4) << 8) | (UINT64_C(47) << 16) | (UINT64_C(1) << 39) | (UINT64_C(9) << 48))
#define ECAP ((UINT64_C(1) << 1) | (UINT64_C(1) << 6) | (UINT64_C(1) << 43) | (UINT64_C(1) << 46))

#define QBASE UINT64_C(0x10000)
#define STATUS UINT64_C(0x20000)

struct fx {
	struct ims_model *m;
	struct ims_iommu *io;
	struct ims_mem *mem;
};

static void fx_up(struct fx *f, uint64_t ecap)
{
	char json[512], err[256];

	snprintf(json, sizeof(json),
		 "{\"arch\":\"vtd\",\"haw\":46,\"vtd\":{\"cap\":\"0x%llx\",\"ecap\":\"0x%llx\"},"
		 "\"caches\":{\"iotlb\":{\"entries\":16,\"ways\":4}},"
		 "\"timing\":{\"inv_command\":10,\"inv_sync\":100}}",
		 (unsigned long long)CAP, (unsigned long long)ecap);
	assert_int_equal(ims_model_parse(json, "qi", &f->m, err, sizeof(err)), 0);
	f->io = ims_iommu_new(f->m, err, sizeof(err));
	assert_non_null(f->io);
	f->mem = ims_iommu_mem(f->io);
	assert_int_equal(ims_mem_add_ram(f->mem, 0, 0x100000), 0);
}

static void fx_down(struct fx *f)
{
	ims_iommu_free(f->io);
	ims_model_free(f->m);
}

static uint64_t reg(struct fx *f, const char *name)
{
	uint64_t v = 0;

	assert_int_equal(ims_iommu_get_reg(f->io, name, &v), 0);
	return v;
}

/* Descriptor w0:w1 in queue slot `slot` of `width` bytes (32: upper words zero). */
static void put_desc(struct fx *f, unsigned slot, unsigned width, uint64_t w0, uint64_t w1)
{
	uint64_t at = QBASE + (uint64_t)slot * width;

	ims_mem_write64(f->mem, at, w0);
	ims_mem_write64(f->mem, at + 8, w1);
	if (width == 32) {
		ims_mem_write64(f->mem, at + 16, 0);
		ims_mem_write64(f->mem, at + 24, 0);
	}
}

/* 6.5.2.3: IOTLB invalidate, global (G = 01b at bits 5:4), type 2. */
static void put_iotlb_global(struct fx *f, unsigned slot, unsigned width)
{
	put_desc(f, slot, width, 0x2 | (UINT64_C(1) << 4), 0);
}

/* 6.5.2.8: wait, type 5, SW bit 5, status data 63:32, status address 127:66. */
static void put_wait(struct fx *f, unsigned slot, unsigned width, uint32_t data)
{
	put_desc(f, slot, width, 0x5 | (UINT64_C(1) << 5) | ((uint64_t)data << 32), STATUS);
}

static uint32_t status(struct fx *f)
{
	uint32_t v = 0;

	ims_mem_read(f->mem, STATUS, &v, 4);
	return v;
}

static void test_6_5_2_queue_runs_to_tail_and_writes_status(void **state)
{
	struct fx f;
	const struct ims_stats *s;

	(void)state;
	fx_up(&f, ECAP);
	put_iotlb_global(&f, 0, 16);
	put_wait(&f, 1, 16, 0xabcd1234);
	assert_int_equal(ims_iommu_set_reg(f.io, "IQA", QBASE), 0); /* QS 0: 4 KiB, DW 0 */
	assert_int_equal(ims_iommu_set_reg(f.io, "QIE", 1), 0);
	assert_int_equal(ims_iommu_set_reg(f.io, "IQT", 2 * 16), 0);
	assert_int_equal(reg(&f, "IQH"), 32);
	assert_int_equal(status(&f), 0xabcd1234);
	s = ims_iommu_stats(f.io);
	assert_int_equal(s->invalidations, 2);
	assert_int_equal(s->syncs, 1);
	/* Cost: two descriptors (10 each) and one wait (100). */
	assert_int_equal(s->inv_cycles, 10 + 10 + 100);
	fx_down(&f);
}

static void test_11_4_9_nothing_happens_without_qie(void **state)
{
	struct fx f;

	(void)state;
	fx_up(&f, ECAP);
	put_wait(&f, 0, 16, 7);
	ims_iommu_set_reg(f.io, "IQA", QBASE);
	ims_iommu_set_reg(f.io, "IQT", 16);
	assert_int_equal(reg(&f, "IQH"), 0);
	assert_int_equal(status(&f), 0);
	/* Enabling runs what is queued. */
	ims_iommu_set_reg(f.io, "QIE", 1);
	assert_int_equal(reg(&f, "IQH"), 16);
	assert_int_equal(status(&f), 7);
	/* QIE cannot be set without ECAP.QI. */
	fx_down(&f);
	fx_up(&f, ECAP & ~(UINT64_C(1) << 1));
	assert_int_equal(ims_iommu_set_reg(f.io, "QIE", 1), -EINVAL);
	fx_down(&f);
}

static void test_6_5_2_10_bad_descriptor_stops_the_queue(void **state)
{
	struct fx f;

	(void)state;
	fx_up(&f, ECAP);
	put_wait(&f, 0, 16, 1);
	/* Type 0 is not a descriptor type: IQEI 3 ("invalid descriptor type"). */
	put_desc(&f, 1, 16, 0, 0);
	put_wait(&f, 2, 16, 2);
	ims_iommu_set_reg(f.io, "IQA", QBASE);
	ims_iommu_set_reg(f.io, "QIE", 1);
	ims_iommu_set_reg(f.io, "IQT", 3 * 16);
	/* The head stays on the bad descriptor; FSTS.IQE (bit 4) is set. */
	assert_int_equal(reg(&f, "IQH"), 16);
	assert_true(reg(&f, "FSTS") & (1u << 4));
	assert_int_equal(reg(&f, "IQERCD") & 0xf, VTD_IQE_TYPE);
	assert_int_equal(status(&f), 1);
	/* Software replaces it with a wait and clears IQE: the queue resumes. */
	put_wait(&f, 1, 16, 9);
	ims_iommu_set_reg(f.io, "FSTS", 1u << 4);
	assert_false(reg(&f, "FSTS") & (1u << 4));
	assert_int_equal(reg(&f, "IQH"), 48);
	assert_int_equal(status(&f), 2);
	fx_down(&f);
}

static void test_6_5_2_queue_wraps(void **state)
{
	struct fx f;

	(void)state;
	fx_up(&f, ECAP);
	ims_iommu_set_reg(f.io, "IQA", QBASE);
	ims_iommu_set_reg(f.io, "QIE", 1);
	/* Run the head to the last slot of the 256-entry queue. */
	for (unsigned i = 0; i < 255; i++)
		put_iotlb_global(&f, i, 16);
	ims_iommu_set_reg(f.io, "IQT", 255 * 16);
	assert_int_equal(reg(&f, "IQH"), 255 * 16);
	/* Then across the end: slot 255 and slot 0. */
	put_wait(&f, 255, 16, 0x55);
	put_wait(&f, 0, 16, 0x66);
	ims_iommu_set_reg(f.io, "IQT", 16);
	assert_int_equal(reg(&f, "IQH"), 16);
	assert_int_equal(status(&f), 0x66);
	fx_down(&f);
}

static void test_11_4_9_tail_checks(void **state)
{
	struct fx f;

	(void)state;
	fx_up(&f, ECAP);
	ims_iommu_set_reg(f.io, "IQA", QBASE); /* 4 KiB: offsets 0..0xff0 */
	ims_iommu_set_reg(f.io, "QIE", 1);
	/* A tail beyond the queue: IQEI 1. */
	ims_iommu_set_reg(f.io, "IQT", 0x1000);
	assert_true(reg(&f, "FSTS") & (1u << 4));
	assert_int_equal(reg(&f, "IQERCD") & 0xf, VTD_IQE_TAIL);
	/* Software fixes the tail, then clears IQE (clearing first would re-fault). */
	ims_iommu_set_reg(f.io, "IQT", 0);
	ims_iommu_set_reg(f.io, "FSTS", 1u << 4);
	assert_false(reg(&f, "FSTS") & (1u << 4));
	/* 256-bit descriptors (DW, bit 11): a tail not 32-byte aligned is IQEI 6. */
	ims_iommu_set_reg(f.io, "QIE", 0);
	ims_iommu_set_reg(f.io, "IQA", QBASE | (1u << 11));
	ims_iommu_set_reg(f.io, "QIE", 1);
	put_wait(&f, 0, 32, 3);
	ims_iommu_set_reg(f.io, "IQT", 16);
	assert_int_equal(reg(&f, "IQERCD") & 0xf, VTD_IQE_ALIGN);
	ims_iommu_set_reg(f.io, "IQT", 32);
	ims_iommu_set_reg(f.io, "FSTS", 1u << 4);
	assert_int_equal(reg(&f, "IQH"), 32);
	assert_int_equal(status(&f), 3);
	/* IQA reserved bits 10:3 are refused. */
	assert_int_equal(ims_iommu_set_reg(f.io, "IQA", QBASE | 0x8), -EINVAL);
	fx_down(&f);
}

static void test_6_5_2_fetch_abort(void **state)
{
	struct fx f;

	(void)state;
	fx_up(&f, ECAP);
	ims_iommu_set_reg(f.io, "IQA", 0x200000); /* no memory there */
	ims_iommu_set_reg(f.io, "QIE", 1);
	ims_iommu_set_reg(f.io, "IQT", 16);
	assert_int_equal(reg(&f, "IQERCD") & 0xf, VTD_IQE_FETCH);
	assert_int_equal(reg(&f, "IQH"), 0);
	fx_down(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_6_5_2_queue_runs_to_tail_and_writes_status),
		cmocka_unit_test(test_11_4_9_nothing_happens_without_qie),
		cmocka_unit_test(test_6_5_2_10_bad_descriptor_stops_the_queue),
		cmocka_unit_test(test_6_5_2_queue_wraps),
		cmocka_unit_test(test_11_4_9_tail_checks),
		cmocka_unit_test(test_6_5_2_fetch_abort),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
