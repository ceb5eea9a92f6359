// SPDX-License-Identifier: GPL-2.0
/*
 * tuneloop-sched-loader: loads a sched_ext scheduler object built by build_scheduler.
 *
 *   tuneloop-sched-loader probe            capabilities, as one JSON line
 *   tuneloop-sched-loader check OBJ        open OBJ with libbpf (no kernel needed), JSON report
 *   tuneloop-sched-loader run OBJ NAME     load, attach as a struct_ops link, stay attached until
 *                                          SIGINT/SIGTERM or until the kernel ejects it; print
 *                                          "EXIT: <reason>" from the object's tl_exit_info
 *
 * Why a struct_ops *link*: closing a link detaches the scheduler, so the kernel reverts to the
 * default scheduler whenever this process dies, however it dies. libbpf learned
 * SEC(".struct_ops.link") and link-based attach in 1.2. libbpf 1.1 (Debian bookworm) does not
 * know the section: it skips it, finds no struct_ops map, and the kernel then refuses the
 * callbacks ("attach_btf_id 0 is not a supported struct", -ENOTSUPP = -524). The legacy
 * non-link registration it could do instead would outlive this process, which is exactly what
 * tuneloop must never allow. So a loader built against libbpf < 1.2 only probes and checks, and
 * says so.
 *
 * Output: libbpf's messages (the verifier log among them) go to stderr prefixed "libbpf: ";
 * our own lines are prefixed "tuneloop-loader: ".
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#ifndef HAVE_STRUCT_OPS_LINK /* -DHAVE_STRUCT_OPS_LINK=1 lets a 1.1 host syntax-check the attach path */
#define HAVE_STRUCT_OPS_LINK (LIBBPF_MAJOR_VERSION > 1 || (LIBBPF_MAJOR_VERSION == 1 && LIBBPF_MINOR_VERSION >= 2))
#endif
#define STR_(x) #x
#define STR(x) STR_(x)
#define LIBBPF_BUILD_VERSION STR(LIBBPF_MAJOR_VERSION) "." STR(LIBBPF_MINOR_VERSION)
#define EXIT_INFO_SECTION ".data.uei"
#define VERIFIER_LOG_SIZE (4 * 1024 * 1024)

struct tl_exit_info {
	int32_t kind;
	int64_t exit_code;
	char reason[128];
	char msg[1024];
};

static volatile sig_atomic_t stop_requested;
static bool verbose_libbpf;
/* check mode: libbpf's own words about the ops section, quoted back to the caller. */
static char notes[2048];

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static int print_libbpf(enum libbpf_print_level level, const char *fmt, va_list args)
{
	char line[512];
	size_t used = strlen(notes);

	vsnprintf(line, sizeof(line), fmt, args);
	if (strstr(line, ".struct_ops") && used + strlen(line) + 1 < sizeof(notes))
		strcat(notes, line);
	if (level == LIBBPF_DEBUG && !verbose_libbpf)
		return 0;
	return fputs(line, stderr);
}

static void json_string(const char *s)
{
	putchar('"');
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static const char *link_limitation(void)
{
	return HAVE_STRUCT_OPS_LINK
		       ? NULL
		       : "built against libbpf " LIBBPF_BUILD_VERSION
			 ", which predates SEC(\".struct_ops.link\") and struct_ops links (libbpf >= 1.2): it skips "
			 "the section, so there is no struct_ops map to attach and the kernel rejects the callbacks "
			 "(\"attach_btf_id 0 is not a supported struct\", -524). Rebuild the loader against libbpf >= 1.2 "
			 "(PKG_CONFIG_PATH pointing at its libbpf.pc).";
}

/* probe: what this loader and this kernel can do. */
static int cmd_probe(void)
{
	struct btf *vmlinux = btf__load_vmlinux_btf();
	bool has_btf = vmlinux != NULL;
	bool has_ops = has_btf && btf__find_by_name_kind(vmlinux, "sched_ext_ops", BTF_KIND_STRUCT) > 0;
	const char *limit = link_limitation();

	printf("{\"libbpf_build\":\"%d.%d\",\"libbpf_runtime\":", LIBBPF_MAJOR_VERSION, LIBBPF_MINOR_VERSION);
	json_string(libbpf_version_string());
	printf(",\"struct_ops_link\":%s,\"kernel_btf\":%s,\"kernel_sched_ext_ops\":%s,\"limitation\":",
	       HAVE_STRUCT_OPS_LINK ? "true" : "false", has_btf ? "true" : "false", has_ops ? "true" : "false");
	if (limit)
		json_string(limit);
	else
		printf("null");
	printf("}\n");
	btf__free(vmlinux);
	return 0;
}

static struct bpf_object *open_object(const char *path)
{
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	long err = libbpf_get_error(obj);

	if (err) {
		fprintf(stderr, "tuneloop-loader: cannot open %s: %s\n", path, strerror((int)-err));
		return NULL;
	}
	return obj;
}

static struct bpf_map *find_struct_ops_map(struct bpf_object *obj)
{
	struct bpf_map *map;

	bpf_object__for_each_map(map, obj) {
		if (bpf_map__type(map) == BPF_MAP_TYPE_STRUCT_OPS)
			return map;
	}
	return NULL;
}

/* check: what libbpf makes of the object, without touching the kernel. */
static int cmd_check(const char *path)
{
	struct bpf_object *obj = open_object(path);
	struct bpf_program *prog;
	struct bpf_map *map, *ops;
	bool first = true;
	const char *limit = link_limitation();

	if (!obj)
		return 2;
	ops = find_struct_ops_map(obj);
	printf("{\"libbpf_build\":\"%d.%d\",\"programs\":[", LIBBPF_MAJOR_VERSION, LIBBPF_MINOR_VERSION);
	bpf_object__for_each_program(prog, obj) {
		printf("%s{\"name\":", first ? "" : ",");
		json_string(bpf_program__name(prog));
		printf(",\"section\":");
		json_string(bpf_program__section_name(prog));
		printf("}");
		first = false;
	}
	printf("],\"maps\":[");
	first = true;
	bpf_object__for_each_map(map, obj) {
		printf("%s{\"name\":", first ? "" : ",");
		json_string(bpf_map__name(map));
		printf(",\"type\":%d}", bpf_map__type(map));
		first = false;
	}
	printf("],\"struct_ops_map\":");
	if (ops)
		json_string(bpf_map__name(ops));
	else
		printf("null");
	printf(",\"libbpf_notes\":");
	json_string(notes);
	printf(",\"attachable\":%s,\"limitation\":", ops && !limit ? "true" : "false");
	if (limit)
		json_string(limit);
	else if (!ops)
		json_string("libbpf found no struct_ops map in the object (is the ops struct in SEC(\".struct_ops.link\")?)");
	else
		printf("null");
	printf("}\n");
	bpf_object__close(obj);
	return ops && !limit ? 0 : 3;
}

#if HAVE_STRUCT_OPS_LINK
static struct bpf_map *find_exit_info_map(struct bpf_object *obj)
{
	struct bpf_map *map;
	size_t want = strlen(EXIT_INFO_SECTION);

	bpf_object__for_each_map(map, obj) {
		const char *name = bpf_map__name(map);
		size_t len = strlen(name);
		if (len >= want && strcmp(name + len - want, EXIT_INFO_SECTION) == 0)
			return map;
	}
	return NULL;
}

static bool read_exit_info(struct bpf_map *map, struct tl_exit_info *info)
{
	int zero = 0;
	static char value[64 * 1024];

	if (!map || bpf_map__value_size(map) < sizeof(*info) || bpf_map__value_size(map) > sizeof(value))
		return false;
	if (bpf_map_lookup_elem(bpf_map__fd(map), &zero, value))
		return false;
	memcpy(info, value, sizeof(*info));
	info->reason[sizeof(info->reason) - 1] = 0;
	info->msg[sizeof(info->msg) - 1] = 0;
	return true;
}

static void report_exit(struct bpf_map *map)
{
	struct tl_exit_info info;

	if (!read_exit_info(map, &info) || info.kind == 0) {
		printf("EXIT: unregistered (no exit info recorded by the scheduler)\n");
		return;
	}
	printf("EXIT: %s", info.reason);
	if (info.msg[0])
		printf(" (%s)", info.msg);
	printf(" [kind=%d code=%lld]\n", info.kind, (long long)info.exit_code);
}

static int cmd_run(const char *path, const char *expect_name)
{
	struct bpf_object *obj;
	struct bpf_map *ops, *exit_map;
	struct bpf_link *link = NULL;
	struct tl_exit_info info;
	char *log;
	int err, code = 0;

	log = calloc(1, VERIFIER_LOG_SIZE);
	LIBBPF_OPTS(bpf_object_open_opts, opts, .kernel_log_buf = log, .kernel_log_size = VERIFIER_LOG_SIZE,
		    .kernel_log_level = 1);
	obj = bpf_object__open_file(path, &opts);
	if ((err = (int)libbpf_get_error(obj))) {
		fprintf(stderr, "tuneloop-loader: cannot open %s: %s\n", path, strerror(-err));
		return 2;
	}
	ops = find_struct_ops_map(obj);
	exit_map = find_exit_info_map(obj);
	if (!ops) {
		fprintf(stderr, "tuneloop-loader: no struct_ops map in %s\n", path);
		return 2;
	}
	if ((err = bpf_object__load(obj))) {
		fprintf(stderr, "tuneloop-loader: load failed: %s\n", strerror(-err));
		if (log && log[0])
			fprintf(stderr, "tuneloop-loader: verifier log:\n%s\n", log);
		bpf_object__close(obj);
		return 4;
	}
	link = bpf_map__attach_struct_ops(ops);
	if ((err = (int)libbpf_get_error(link))) {
		fprintf(stderr, "tuneloop-loader: attach failed: %s\n", strerror(-err));
		if (read_exit_info(exit_map, &info) && info.kind)
			report_exit(exit_map);
		bpf_object__close(obj);
		return 5;
	}
	printf("tuneloop-loader: attached %s\n", expect_name ? expect_name : bpf_map__name(ops));
	fflush(stdout);
	while (!stop_requested) {
		if (read_exit_info(exit_map, &info) && info.kind) {
			/* Ejected by the kernel (error, stall, sysrq): the link is already dead. */
			code = 1;
			break;
		}
		usleep(100 * 1000);
	}
	bpf_link__destroy(link);
	report_exit(exit_map);
	bpf_object__close(obj);
	free(log);
	return code;
}
#else
static int cmd_run(const char *path, const char *expect_name)
{
	(void)path, (void)expect_name;
	fprintf(stderr, "tuneloop-loader: cannot attach: %s\n", link_limitation());
	return 3;
}
#endif

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	verbose_libbpf = getenv("TUNELOOP_LOADER_DEBUG") != NULL;
	libbpf_set_print(print_libbpf);
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (argc >= 2 && strcmp(argv[1], "probe") == 0)
		return cmd_probe();
	if (argc >= 3 && strcmp(argv[1], "check") == 0)
		return cmd_check(argv[2]);
	if (argc >= 3 && strcmp(argv[1], "run") == 0)
		return cmd_run(argv[2], argc >= 4 ? argv[3] : NULL);
	fprintf(stderr, "usage: %s probe | check OBJ | run OBJ [NAME]\n", argv[0]);
	return 64;
}
