// bench_main.cc - one benchmark program for every bench/*.cc file.
#include <benchmark/benchmark.h>

BENCHMARK_MAIN();
