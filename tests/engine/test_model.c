/*
 * test_model.c - loading and validating hardware model files
 * (engine/model.c, include/iommusim/model.h), and building an instance from
 * a model (ims_iommu_new).
 *
 * The contract under test: a valid model yields its name, label,
 * architecture and host address width; every malformed input gives -EINVAL
 * and a message naming the label (or file) and the field at fault, and a
 * JSON syntax error gives "label:line:column".  An architecture the build
 * does not implement is refused by ims_iommu_new with a message saying so.
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

#include <iommusim/iommu.h>
#include <iommusim/model.h>

/* A VT-d section that the architecture accepts (checked in test_cap.c). */
#define VTD_OK "\"vtd\": { \"cap\": { \"SAGAW\": 4, \"MGAW\": 47 }, \"ecap\": { \"QI\": 1 } }"

static char err[512];

static struct ims_model *parse_ok(const char *text, const char *label)
{
	struct ims_model *m = NULL;

	err[0] = 0;
	assert_int_equal(ims_model_parse(text, label, &m, err, sizeof(err)), 0);
	assert_non_null(m);
	return m;
}

/* Parse must fail with -EINVAL and a message containing each of the words. */
static void parse_bad(const char *text, const char *label, const char *w1, const char *w2)
{
	struct ims_model *m = (struct ims_model *)(uintptr_t)0x1;

	memset(err, 0, sizeof(err));
	assert_int_equal(ims_model_parse(text, label, &m, err, sizeof(err)), -EINVAL);
	/* Nothing handed out on failure. */
	assert_ptr_equal(m, (struct ims_model *)(uintptr_t)0x1);
	if (!strstr(err, label))
		fail_msg("message \"%s\" does not name the label \"%s\"", err, label);
	if (w1 && !strstr(err, w1))
		fail_msg("message \"%s\" does not mention \"%s\"", err, w1);
	if (w2 && !strstr(err, w2))
		fail_msg("message \"%s\" does not mention \"%s\"", err, w2);
}

static void test_valid(void **state)
{
	struct ims_model *m;

	(void)state;
	m = parse_ok("{ \"name\": \"unit\", \"arch\": \"vtd\", \"haw\": 39, "
		     "\"description\": \"d\", \"sources\": [\"s\"], " VTD_OK " }",
		     "valid.json");
	assert_string_equal(ims_model_name(m), "unit");
	assert_string_equal(ims_model_label(m), "valid.json");
	assert_int_equal(ims_model_arch(m), IMS_ARCH_VTD);
	assert_int_equal(ims_model_haw(m), 39);
	ims_model_free(m);

	/* Defaults: the name is the label, haw is 48. */
	m = parse_ok("{ \"arch\": \"vtd\" }", "nameless");
	assert_string_equal(ims_model_name(m), "nameless");
	assert_int_equal(ims_model_haw(m), 48);
	ims_model_free(m);

	/* haw as a string in C notation, and the limits 12 and 64. */
	m = parse_ok("{ \"arch\": \"smmuv3\", \"haw\": \"0x30\" }", "hex");
	assert_int_equal(ims_model_haw(m), 48);
	assert_int_equal(ims_model_arch(m), IMS_ARCH_SMMUV3);
	ims_model_free(m);
	m = parse_ok("{ \"arch\": \"mock\", \"haw\": 12 }", "lo");
	assert_int_equal(ims_model_haw(m), 12);
	assert_int_equal(ims_model_arch(m), IMS_ARCH_MOCK);
	ims_model_free(m);
	m = parse_ok("{ \"arch\": \"vtd\", \"haw\": 64 }", "hi");
	assert_int_equal(ims_model_haw(m), 64);
	ims_model_free(m);

	assert_string_equal(ims_arch_name(IMS_ARCH_VTD), "vtd");
	assert_string_equal(ims_arch_name(IMS_ARCH_SMMUV3), "smmuv3");
	assert_string_equal(ims_arch_name(IMS_ARCH_MOCK), "mock");
	ims_model_free(NULL);
}

static void test_unknown_field(void **state)
{
	(void)state;
	parse_bad("{ \"arch\": \"vtd\", \"colour\": \"blue\" }", "m1.json", "colour", "unknown");
	/* Case matters. */
	parse_bad("{ \"Arch\": \"vtd\" }", "m2.json", "Arch", NULL);
}

static void test_arch(void **state)
{
	(void)state;
	parse_bad("{ \"haw\": 48 }", "noarch.json", "\"arch\"", NULL);
	parse_bad("{ \"arch\": 3 }", "numarch.json", "\"arch\"", NULL);
	parse_bad("{ \"arch\": \"riscv\" }", "riscv.json", "\"arch\"", "riscv");
	parse_bad("{ \"arch\": \"VTD\" }", "upper.json", "\"arch\"", "VTD");
	parse_bad("{ \"arch\": \"vtd\", \"name\": 5 }", "name.json", "\"name\"", NULL);
}

static void test_haw(void **state)
{
	static const char *const bad[] = {
		"11", "65", "0", "-1", "\"forty\"", "\"\"", "\"0x\"", "48.5", "null", "[]", "{}",
		"\"-48\"", "\"99999999999999999999999\"",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[128];

		snprintf(text, sizeof(text), "{ \"arch\": \"vtd\", \"haw\": %s }", bad[i]);
		parse_bad(text, "haw.json", "\"haw\"", NULL);
	}
}

static void test_not_object(void **state)
{
	(void)state;
	parse_bad("[ 1, 2 ]", "array.json", "object", NULL);
	/* A bare string is not JSON text to the parser: still -EINVAL. */
	parse_bad("\"vtd\"", "string.json", NULL, NULL);
}

/* "label:LINE:COL: ..." with COL a number from 1 to maxcol. */
static void expect_position(const char *label, int line, int maxcol)
{
	char prefix[128];
	char *end;
	long col;

	snprintf(prefix, sizeof(prefix), "%s:%d:", label, line);
	if (strncmp(err, prefix, strlen(prefix)))
		fail_msg("message \"%s\" does not start with \"%s\"", err, prefix);
	col = strtol(err + strlen(prefix), &end, 10);
	assert_true(end != err + strlen(prefix));
	assert_int_equal(*end, ':');
	assert_in_range(col, 1, maxcol);
}

static void test_json_syntax(void **state)
{
	struct ims_model *m = NULL;

	(void)state;
	/* The colon is missing on line 3 (10 characters long). */
	assert_int_equal(ims_model_parse("{\n  \"arch\": \"vtd\",\n  \"haw\" 46\n}\n", "syn.json", &m,
					 err, sizeof(err)),
			 -EINVAL);
	assert_null(m);
	expect_position("syn.json", 3, 11);
	/* Unterminated object: the error is at the end, line 2. */
	assert_int_equal(ims_model_parse("{ \"arch\": \"vtd\",\n", "eof.json", &m, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(strncmp(err, "eof.json:", 9), 0);
	/* Empty text. */
	assert_int_equal(ims_model_parse("", "empty.json", &m, err, sizeof(err)), -EINVAL);
	assert_int_equal(strncmp(err, "empty.json:", 11), 0);
	/* A message buffer is optional. */
	assert_int_equal(ims_model_parse("{", "x", &m, NULL, 0), -EINVAL);
	assert_int_equal(ims_model_parse("{ \"arch\": 1 }", "x", &m, NULL, 0), -EINVAL);
}

/* Write text to a fresh temporary file; returns its path (static buffer). */
static const char *tmpfile_with(const char *text)
{
	static char path[64];
	int fd;
	FILE *fp;

	snprintf(path, sizeof(path), "/tmp/ims-test-model-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	fp = fdopen(fd, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	return path;
}

static void test_load(void **state)
{
	struct ims_model *m = NULL;
	const char *path;
	char saved[64];

	(void)state;
	path = tmpfile_with("{ \"name\": \"from-file\", \"arch\": \"vtd\", \"haw\": 46, " VTD_OK
			    " }\n");
	assert_int_equal(ims_model_load(path, &m, err, sizeof(err)), 0);
	assert_string_equal(ims_model_name(m), "from-file");
	assert_string_equal(ims_model_label(m), path);
	assert_int_equal(ims_model_haw(m), 46);
	ims_model_free(m);
	unlink(path);

	/* Errors name the file. */
	m = NULL;
	path = tmpfile_with("{ \"arch\": \"vtd\", \"bogus\": 1 }");
	assert_int_equal(ims_model_load(path, &m, err, sizeof(err)), -EINVAL);
	assert_null(m);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "bogus"));
	unlink(path);

	path = tmpfile_with("{\n\n  \"arch\": \"vtd\"\n  \"haw\": 46\n}");
	assert_int_equal(ims_model_load(path, &m, err, sizeof(err)), -EINVAL);
	expect_position(path, 4, 12);
	snprintf(saved, sizeof(saved), "%s", path);
	unlink(saved);

	/* A missing file. */
	assert_int_equal(ims_model_load("/nonexistent/model.json", &m, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "/nonexistent/model.json"));
}

static void test_bundled_model(void **state)
{
	/* models/vtd-default.json, found from this source file's path. */
	char path[1024];
	const char *src = __FILE__, *slash = strrchr(src, '/');
	struct ims_model *m = NULL;
	struct ims_iommu *io;
	FILE *fp;

	(void)state;
	snprintf(path, sizeof(path), "%.*s/../../models/vtd-default.json",
		 slash ? (int)(slash - src) : 1, slash ? src : ".");
	fp = fopen(path, "r");
	if (!fp) {
		/* Not run from the build tree (cmocka's TAP skip reads as a
		 * failure to meson, so just say so). */
		print_message("# %s not found: bundled model not checked\n", path);
		return;
	}
	fclose(fp);
	assert_int_equal(ims_model_load(path, &m, err, sizeof(err)), 0);
	assert_string_equal(ims_model_name(m), "vtd-default");
	assert_int_equal(ims_model_arch(m), IMS_ARCH_VTD);
	assert_int_equal(ims_model_haw(m), 46);
	io = ims_iommu_new(m, err, sizeof(err));
	assert_non_null(io);
	assert_ptr_equal(ims_iommu_model(io), m);
	assert_int_equal(ims_mem_pa_bits(ims_iommu_mem(io)), 46);
	ims_iommu_free(io);
	ims_model_free(m);
}

/*
 * SMMUv3 joins the library when formats/smmuv3/smmu.c exists; until then
 * the instance must be refused as unimplemented.  A weak reference tells
 * which build this is.
 */
extern const struct ims_arch_ops ims_smmu_arch __attribute__((weak));

static void expect_unimplemented(const char *text, const char *label, const char *arch)
{
	struct ims_model *m = parse_ok(text, label);

	memset(err, 0, sizeof(err));
	assert_null(ims_iommu_new(m, err, sizeof(err)));
	if (!strstr(err, label) || !strstr(err, arch) || !strstr(err, "not implemented"))
		fail_msg("unclear message for an unimplemented architecture: \"%s\"", err);
	ims_model_free(m);
}

static void test_unimplemented_arch(void **state)
{
	(void)state;
	expect_unimplemented("{ \"arch\": \"mock\" }", "mock.json", "\"mock\"");
	if (&ims_smmu_arch == NULL) {
		expect_unimplemented("{ \"arch\": \"smmuv3\", \"haw\": 48 }", "smmu.json",
				     "\"smmuv3\"");
	} else {
		/* Built in: whatever the instance says, it is not "unimplemented". */
		struct ims_model *m = parse_ok("{ \"arch\": \"smmuv3\", \"haw\": 48 }", "smmu.json");
		struct ims_iommu *io;

		memset(err, 0, sizeof(err));
		io = ims_iommu_new(m, err, sizeof(err));
		if (!io && strstr(err, "not implemented"))
			fail_msg("SMMUv3 is built in but refused: \"%s\"", err);
		ims_iommu_free(io);
		ims_model_free(m);
	}
}

static void test_instance_errors(void **state)
{
	struct ims_model *m;
	struct ims_iommu *io;

	(void)state;
	/* A VT-d model without its section: the instance names the field. */
	m = parse_ok("{ \"arch\": \"vtd\" }", "novtd.json");
	io = ims_iommu_new(m, err, sizeof(err));
	assert_null(io);
	assert_non_null(strstr(err, "novtd.json"));
	assert_non_null(strstr(err, "\"vtd\""));
	ims_model_free(m);

	/* A good one; two instances side by side from one model. */
	m = parse_ok("{ \"arch\": \"vtd\", \"haw\": 40, " VTD_OK " }", "two.json");
	{
		struct ims_iommu *a = ims_iommu_new(m, err, sizeof(err));
		struct ims_iommu *b = ims_iommu_new(m, err, sizeof(err));

		assert_non_null(a);
		assert_non_null(b);
		assert_ptr_not_equal(ims_iommu_mem(a), ims_iommu_mem(b));
		assert_int_equal(ims_mem_pa_bits(ims_iommu_mem(a)), 40);
		ims_iommu_free(a);
		ims_iommu_free(b);
	}
	ims_model_free(m);
	ims_iommu_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_unknown_field),
		cmocka_unit_test(test_arch),
		cmocka_unit_test(test_haw),
		cmocka_unit_test(test_not_object),
		cmocka_unit_test(test_json_syntax),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_bundled_model),
		cmocka_unit_test(test_unimplemented_arch),
		cmocka_unit_test(test_instance_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
