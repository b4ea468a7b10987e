/*
 * test_ftrace.c - importing ftrace text (traces/ftrace.c).
 *
 * The samples are written here from the TP_printk strings of Linux
 * include/trace/events/dma.h and include/trace/events/iommu.h (quoted in
 * traces/ftrace.c) and the ftrace line layout "task-pid [CPU] flags
 * SECONDS: event: fields"; none is a recorded trace.  Checked: the events
 * made, field by field; lines that are skipped; the domain per device;
 * iommu:map skipped as a duplicate when dma:* events are present and
 * imported otherwise; dma_per_map; errors naming file, line and field.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <iommusim/pgtable.h>
#include <iommusim/trace.h>

#define MAXEV 64

struct sink {
	struct ims_event ev[MAXEV];
	unsigned n;
};

static int sink_emit(void *opaque, const struct ims_event *ev)
{
	struct sink *s = opaque;

	if (s->n >= MAXEV)
		return -ENOSPC;
	s->ev[s->n++] = *ev;
	return 0;
}

static char path[64];
static char err[512];

static void write_file(const char *text)
{
	int fd;

	strcpy(path, "/tmp/ims-ftrace-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static int import(const char *text, const struct ims_ftrace_opts *o, struct sink *s)
{
	int rc;

	memset(s, 0, sizeof(*s));
	write_file(text);
	err[0] = 0;
	rc = o ? ims_import_ftrace_opts(path, o, sink_emit, s, err, sizeof(err))
	       : ims_import_ftrace(path, sink_emit, s, err, sizeof(err));
	unlink(path);
	return rc;
}

static void expect_ev(const struct ims_event *e, unsigned type, uint64_t ts, unsigned cpu,
		      uint32_t dev, uint32_t domain, uint64_t iova, uint64_t size, uint64_t pa,
		      unsigned access)
{
	assert_int_equal(e->type, type);
	assert_int_equal(e->ts_ns, ts);
	assert_int_equal(e->cpu, cpu);
	assert_int_equal(e->dev, dev);
	assert_int_equal(e->domain, domain);
	assert_int_equal(e->iova, iova);
	assert_int_equal(e->size, size);
	assert_int_equal(e->pa, pa);
	assert_int_equal(e->access, access);
	assert_int_equal(e->flags, 0);
	assert_int_equal(e->nwords, 0);
}

/* dma:* events, as `trace-cmd report` and the tracefs trace file print them. */
static const char sample[] =
	"# tracer: nop\n"
	"#\n"
	"cpus=8\n"
	"          <idle>-0     [002] d.h1.   100.000001: sched_wakeup: comm=iperf3 pid=812\n"
	"  napi/eth0-812   [003] ..s1.   100.000010: dma_map_phys: 0000:00:02.0 dir=FROM_DEVICE "
	"dma_addr=fffff000 size=4096 phys_addr=1234567000 attrs=\n"
	"  napi/eth0-812   [003] ..s1.   100.000010: map: IOMMU: iova=0x00000000fffff000 - "
	"0x0000000100000000 paddr=0x0000001234567000 size=4096\n"
	"  iperf3-900   [001]   100.000020500: dma_map_phys: 0000:00:02.0 dir=TO_DEVICE "
	"dma_addr=ffffe042 size=100 phys_addr=89abc042 attrs=SKIP_CPU_SYNC|WEAK_ORDERING\n"
	"  kworker/u16:2 [weird] name-77 [000] ....   100.000030: dma_map_sg: 0000:01:00.0 "
	"dir=TO_DEVICE nents=2/2 ents=2/2 dma_addrs={0xfff00000,0xfff01000} sizes={0x1000,0x800} "
	"phys_addrs={0x200000000,0x300000000} attrs=\n"
	"  iperf3-900   [001] .....   100.000040: dma_sync_single_for_cpu: 0000:00:02.0 "
	"dir=FROM_DEVICE dma_addr=fffff000 size=4096\n"
	"  napi/eth0-812   [003] ..s1.   100.000050: dma_unmap_phys: 0000:00:02.0 dir=FROM_DEVICE "
	"dma_addr=fffff000 size=4096 attrs=\n"
	"  napi/eth0-812   [003] ..s1.   100.000050: unmap: IOMMU: iova=0x00000000fffff000 - "
	"0x0000000100000000 size=4096 unmapped_size=4096\n"
	"  irq/30-nvme-301 [000] d.h1.   100.000060: dma_unmap_sg: 0000:01:00.0 dir=TO_DEVICE "
	"phys_addrs={0x200000000,0x300000000} attrs=\n"
	"  irq/30-nvme-301 [000] d.h1.   100.000061: dma_unmap_sg: 0000:01:00.0 dir=TO_DEVICE "
	"phys_addrs={0x700000000} attrs=\n"
	"  stmmac-55 [004] ....   100.000070: dma:dma_map_page: ff0a0000.ethernet "
	"dir=BIDIRECTIONAL dma_addr=0x80000000 size=8192 phys_addr=0x4000000 attrs=\n"
	"  stmmac-55 [004] ....   100.000065: dma_unmap_page: device=ff0a0000.ethernet "
	"dir=DMA_BIDIRECTIONAL dma_addr=80000000 size=8192 attrs=\n"
	"CPU 5 is empty\n";

static void test_dma_events(void **state)
{
	struct sink s;
	const struct ims_event *e;

	(void)state;
	assert_int_equal(import(sample, NULL, &s), 0);
	assert_int_equal(s.n, 12);
	e = s.ev;
	/* NIC 00:02.0: domain 1, attached at first sight. */
	expect_ev(&e[0], IMS_EV_ATTACH, 100000010000ull, 3, 0x10, 1, 0, 0, 0, 0);
	expect_ev(&e[1], IMS_EV_MAP, 100000010000ull, 3, 0, 1, 0xfffff000, 4096, 0x1234567000,
		  IMS_PERM_W);
	/* The iommu:map line is the same mapping: skipped.  Nanosecond times, no flags column. */
	expect_ev(&e[2], IMS_EV_MAP, 100000020500ull, 1, 0, 1, 0xffffe000, 4096, 0x89abc000,
		  IMS_PERM_R);
	/* NVMe 01:00.0: domain 2; one map per DMA segment, whole pages. */
	expect_ev(&e[3], IMS_EV_ATTACH, 100000030000ull, 0, 0x100, 2, 0, 0, 0, 0);
	expect_ev(&e[4], IMS_EV_MAP, 100000030000ull, 0, 0, 2, 0xfff00000, 4096, 0x200000000,
		  IMS_PERM_R);
	expect_ev(&e[5], IMS_EV_MAP, 100000030000ull, 0, 0, 2, 0xfff01000, 4096, 0x300000000,
		  IMS_PERM_R);
	/* dma_sync skipped; unmap. */
	expect_ev(&e[6], IMS_EV_UNMAP, 100000050000ull, 3, 0, 1, 0xfffff000, 4096, 0, 0);
	/* unmap_sg found by its physical addresses; the unknown one is dropped. */
	expect_ev(&e[7], IMS_EV_UNMAP, 100000060000ull, 0, 0, 2, 0xfff00000, 4096, 0, 0);
	expect_ev(&e[8], IMS_EV_UNMAP, 100000060000ull, 0, 0, 2, 0xfff01000, 4096, 0, 0);
	/* A platform device: dev 0xff00, domain 3; older event name, perf's "dma:" prefix. */
	expect_ev(&e[9], IMS_EV_ATTACH, 100000070000ull, 4, 0xff00, 3, 0, 0, 0, 0);
	expect_ev(&e[10], IMS_EV_MAP, 100000070000ull, 4, 0, 3, 0x80000000, 8192, 0x4000000,
		  IMS_PERM_R | IMS_PERM_W);
	/* A line older than its predecessor keeps the predecessor's time. */
	expect_ev(&e[11], IMS_EV_UNMAP, 100000070000ull, 4, 0, 3, 0x80000000, 8192, 0, 0);
}

/* iommu:* only (a VFIO user): maps go to the device last attached. */
static const char iommu_only[] =
	"  qemu-1000 [000] .....    5.000001: map: IOMMU: iova=0x0000000000100000 - "
	"0x0000000000102000 paddr=0x0000000080000000 size=8192\n"
	"  qemu-1000 [000] .....    5.000002: attach_device_to_domain: IOMMU: device=0000:3b:00.1\n"
	"  qemu-1000 [001] .....    5.000003: iommu:map: IOMMU: iova=0x0000000040000000 - "
	"0x0000000040200000 paddr=0x0000000100000000 size=2097152\n"
	"  qemu-1000 [001] .....    5.000004: unmap: IOMMU: iova=0x0000000040000000 - "
	"0x0000000040200000 size=2097152 unmapped_size=2097152\n"
	"  qemu-1000 [001] .....    5.000005: unmap: IOMMU: iova=0x0000000050000000 - "
	"0x0000000050001000 size=4096 unmapped_size=0\n"
	"  qemu-1000 [001] .....    5.000006: io_page_fault: IOMMU:vfio-pci 0000:3b:00.1 "
	"iova=0x0000000060000000 flags=0x0000\n"
	"  qemu-1000 [001] .....    5.000007: map: some other subsystem's map event\n";

static void test_iommu_only(void **state)
{
	struct sink s;
	const struct ims_event *e;

	(void)state;
	assert_int_equal(import(iommu_only, NULL, &s), 0);
	/* unmapped_size 0 (nothing unmapped), the fault and a foreign "map" emit nothing. */
	assert_int_equal(s.n, 5);
	e = s.ev;
	expect_ev(&e[0], IMS_EV_ATTACH, 5000001000ull, 0, 0xff00, 1, 0, 0, 0, 0);
	expect_ev(&e[1], IMS_EV_MAP, 5000001000ull, 0, 0, 1, 0x100000, 8192, 0x80000000,
		  IMS_PERM_R | IMS_PERM_W);
	/* 0000:3b:00.1 = bus 0x3b, device 0, function 1. */
	expect_ev(&e[2], IMS_EV_ATTACH, 5000002000ull, 0, 0x3b01, 2, 0, 0, 0, 0);
	expect_ev(&e[3], IMS_EV_MAP, 5000003000ull, 1, 0, 2, 0x40000000, 2 << 20, 0x100000000,
		  IMS_PERM_R | IMS_PERM_W);
	expect_ev(&e[4], IMS_EV_UNMAP, 5000004000ull, 1, 0, 2, 0x40000000, 2 << 20, 0, 0);
}

static void test_dma_per_map(void **state)
{
	struct ims_ftrace_opts o = { .dma_per_map = true };
	struct sink s;
	const struct ims_event *e;

	(void)state;
	assert_int_equal(
		import("  t-1 [002] .... 1.5: dma_map_phys: 0000:00:02.0 dir=TO_DEVICE "
		       "dma_addr=10000f00 size=512 phys_addr=5000f00 attrs=\n",
		       &o, &s),
		0);
	assert_int_equal(s.n, 4);
	e = s.ev;
	expect_ev(&e[1], IMS_EV_MAP, 1500000000ull, 2, 0, 1, 0x10000000, 8192, 0x5000000,
		  IMS_PERM_R);
	/* The buffer's bytes in each page it touches. */
	expect_ev(&e[2], IMS_EV_DMA, 1500000000ull, 2, 0x10, 0, 0x10000f00, 256, 0, IMS_ACC_READ);
	expect_ev(&e[3], IMS_EV_DMA, 1500000000ull, 2, 0x10, 0, 0x10001000, 256, 0, IMS_ACC_READ);
}

/* The import must fail with -EINVAL naming "FILE:LINE: field "F"". */
static void bad(const char *text, unsigned line, const char *field, const char *word)
{
	struct sink s;
	char want[128];
	int rc = import(text, NULL, &s);

	if (rc != -EINVAL)
		fail_msg("returned %d (%s), expected -EINVAL", rc, err);
	snprintf(want, sizeof(want), "%s:%u: field \"%s\": expected", path, line, field);
	if (!strstr(err, want))
		fail_msg("message \"%s\" does not hold \"%s\"", err, want);
	if (word && !strstr(err, word))
		fail_msg("message \"%s\" does not mention \"%s\"", err, word);
}

#define OK_LINE "  t-1 [000] .... 1.0: dma_map_phys: 0000:00:02.0 dir=TO_DEVICE " \
		"dma_addr=1000 size=4096 phys_addr=2000 attrs=\n"

static void test_errors(void **state)
{
	struct sink s;

	(void)state;
	bad(OK_LINE "  t-1 [000] .... 1.1: dma_map_phys: 0000:00:02.0 dir=TO_DEVICE "
		    "dma_addr=zz size=4096 phys_addr=2000 attrs=\n",
	    2, "dma_addr", "\"zz\"");
	bad("# x\n  t-1 [000] .... 1.1: dma_map_phys: 0000:00:02.0 dir=TO_DEVICE "
	    "dma_addr=1000 phys_addr=2000 attrs=\n",
	    2, "size", "nothing");
	bad("  t-1 [000] .... 1.1: dma_map_phys: 0000:00:02.0 dir=SIDEWAYS "
	    "dma_addr=1000 size=1 phys_addr=2000 attrs=\n",
	    1, "dir", "SIDEWAYS");
	bad("  t-1 [000] .... 1.1: dma_unmap_phys: 0000:00:02.0 dir=TO_DEVICE "
	    "dma_addr=1000 size=0 attrs=\n",
	    1, "size", "above 0");
	bad("  t-1 [000] .... 1.1: dma_map_sg: 0000:00:02.0 dir=TO_DEVICE nents=1/1 ents=1/1 "
	    "dma_addrs={0x1000} sizes={0x1000,0x2000} phys_addrs={0x1000} attrs=\n",
	    1, "sizes", "elements");
	bad("  t-1 [000] .... 1.1: dma_map_sg: 0000:00:02.0 dir=TO_DEVICE nents=1/1 ents=1/1 "
	    "dma_addrs={0x1000 sizes={0x1000} phys_addrs={0x1000} attrs=\n",
	    1, "dma_addrs", "array");
	bad("  t-1 [000] .... 1.1: dma_map_phys: dir=TO_DEVICE dma_addr=1000 size=1 "
	    "phys_addr=2000\n",
	    1, "device", NULL);
	bad("  t-1 [000] .... 1.1: map: IOMMU: iova=0x1000 - 0x2000 paddr=0x2000 size=4k\n", 1,
	    "size", "\"4k\"");
	bad("  t-1 [000] .... 1.1: unmap: IOMMU: iova=0x1000 - 0x2000 size=4096\n", 1,
	    "unmapped_size", NULL);

	/* A missing file. */
	assert_int_equal(ims_import_ftrace("/nonexistent/trace.txt", sink_emit, &s, err,
					   sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/trace.txt"));
	/* The emit callback's error comes back. */
	write_file(OK_LINE OK_LINE OK_LINE);
	{
		struct sink full;

		memset(&full, 0, sizeof(full));
		full.n = MAXEV - 1;
		assert_int_equal(ims_import_ftrace(path, sink_emit, &full, err, sizeof(err)),
				 -ENOSPC);
	}
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dma_events),
		cmocka_unit_test(test_iommu_only),
		cmocka_unit_test(test_dma_per_map),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
