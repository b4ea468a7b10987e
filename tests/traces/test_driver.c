/*
 * test_driver.c - driver models (traces/driver.c): the built-in models and
 * their Linux defaults (performance.md 1.4: per-CPU flush queue 256 entries
 * / 10 ms, single queue 32768 / 1 s, CMDQ_MAX_TLBI_OPS 512), and the JSON
 * form with its errors.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <iommusim/trace.h>

static void test_builtins(void **state)
{
	struct ims_driver_cfg c;

	(void)state;
	assert_int_equal(ims_driver_builtin("strict", &c), 0);
	assert_string_equal(c.name, "strict");
	assert_int_equal(c.policy, IMS_DRV_STRICT);
	assert_true(c.leaf_hint);
	assert_int_equal(c.range_max_pages, 512);
	assert_int_equal(c.stage, 1);

	assert_int_equal(ims_driver_builtin("fq", &c), 0);
	assert_int_equal(c.policy, IMS_DRV_FQ);
	assert_int_equal(c.fq_size, 256);
	assert_int_equal(c.fq_timeout_ns, 10000000);

	assert_int_equal(ims_driver_builtin("single-fq", &c), 0);
	assert_int_equal(c.policy, IMS_DRV_SINGLE_FQ);
	assert_int_equal(c.fq_size, 32768);
	assert_int_equal(c.fq_timeout_ns, 1000000000ull);

	assert_int_equal(ims_driver_builtin("range", &c), 0);
	assert_int_equal(c.policy, IMS_DRV_RANGE);
	assert_int_equal(ims_driver_builtin("domain", &c), 0);
	assert_int_equal(c.policy, IMS_DRV_DOMAIN);
	assert_int_equal(ims_driver_builtin("global", &c), 0);
	assert_int_equal(c.policy, IMS_DRV_GLOBAL);
	assert_int_equal(ims_driver_builtin("lazy", &c), -ENOENT);
}

static void test_parse_full(void **state)
{
	struct ims_driver_cfg c;
	char err[256] = "";

	(void)state;
	assert_int_equal(ims_driver_parse("{\"name\":\"my-fq\",\"policy\":\"fq\",\"fq_size\":64,"
					  "\"fq_timeout_ms\":2,\"leaf_hint\":false,"
					  "\"range_max_pages\":0,\"stage\":2}",
					  "t", &c, err, sizeof(err)),
			 0);
	assert_string_equal(c.name, "my-fq");
	assert_int_equal(c.policy, IMS_DRV_FQ);
	assert_int_equal(c.fq_size, 64);
	assert_int_equal(c.fq_timeout_ns, 2000000);
	assert_false(c.leaf_hint);
	assert_int_equal(c.range_max_pages, 0);
	assert_int_equal(c.stage, 2);

	/* The policy's built-in values fill what is left out. */
	assert_int_equal(ims_driver_parse("{\"policy\":\"single-fq\"}", "t", &c, err, sizeof(err)), 0);
	assert_int_equal(c.fq_size, 32768);
	assert_int_equal(c.fq_timeout_ns, 1000000000ull);
	assert_int_equal(ims_driver_parse("{}", "t", &c, err, sizeof(err)), 0);
	assert_int_equal(c.policy, IMS_DRV_STRICT);
	/* Fractional milliseconds. */
	assert_int_equal(ims_driver_parse("{\"policy\":\"fq\",\"fq_timeout_ms\":0.5}", "t", &c, err,
					  sizeof(err)),
			 0);
	assert_int_equal(c.fq_timeout_ns, 500000);
}

static void expect_error(const char *json, const char *needle)
{
	struct ims_driver_cfg c;
	char err[256] = "";

	memset(&c, 0x5a, sizeof(c));
	assert_int_equal(ims_driver_parse(json, "drv.json", &c, err, sizeof(err)), -EINVAL);
	if (!strstr(err, needle))
		fail_msg("error \"%s\" does not name \"%s\"", err, needle);
	assert_non_null(strstr(err, "drv.json"));
}

static void test_parse_errors(void **state)
{
	(void)state;
	expect_error("{\"policy\":\"strict\",\"fq_sise\":4}", "fq_sise");
	expect_error("{\"policy\":\"lazy\"}", "policy");
	expect_error("{\"policy\":3}", "policy");
	expect_error("{\"stage\":3}", "stage");
	expect_error("{\"fq_size\":-1}", "fq_size");
	expect_error("{\"leaf_hint\":1}", "leaf_hint");
	expect_error("{\"policy\":\"fq\",\"fq_size\":1}", "fq_size");
	expect_error("{\"name\":\"\"}", "name");
	expect_error("[1]", "object");
	expect_error("{\"policy\":", "line");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_builtins),
		cmocka_unit_test(test_parse_full),
		cmocka_unit_test(test_parse_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
