// SPDX-License-Identifier: GPL-2.0
/*
 * tuneloop-sched-loader: loads a sched_ext scheduler object built by build_scheduler.
 *
 *   tuneloop-sched-loader probe            capabilities, as one JSON line
 *   tuneloop-sched-loader check OBJ        read OBJ with libbpf and libelf (no kernel needed): its
 *                                          license, programs, maps and struct_ops layout, as JSON
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
 * Loading, in two steps so that neither memory nor time is unbounded and the errno is the
 * verifier's own:
 *   1. every program at log level BPF_LOG_STATS (4) into a small buffer: the verifier prints only
 *      its statistics, so an accepted program never fails for lack of log space (a kernel >= 6.4
 *      fails a load whose log was truncated, with ENOSPC), and a rejected one fails with the
 *      verifier's errno (E2BIG, EACCES, EINVAL, ...). libbpf does not retry a load at a level
 *      other than 0, and a log level 0 load would make it retry at level 1 with its own buffer,
 *      doubling it and verifying again after every ENOSPC (minutes for a complex program under
 *      TCG, and unbounded memory);
 *   2. only after a failure, once more at level 1 into a 16 MiB buffer, for the log: sched_ext
 *      kernels (>= 6.12) keep the *end* of a log that does not fit, which is where the error is.
 * Then one line: "tuneloop-loader: load failed: errno N NAME (text): <the verifier's own last
 * words>", after a bounded head and tail of the log.
 *
 * Output: libbpf's messages (the verifier log among them) go to stderr; our own lines are
 * prefixed "tuneloop-loader: ".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
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
/* How much of a failed program's verifier log is printed: its start and its end (where the error is). */
#define LOG_HEAD_BYTES (32 * 1024)
#define LOG_TAIL_BYTES (96 * 1024)
#define LOG_BEGIN "-- BEGIN PROG LOAD LOG --\n"
#define LOG_END "-- END PROG LOAD LOG --\n"
#define BPF_LOG_STATS_LEVEL 4
#define STATS_LOG_SIZE (64 * 1024)
#define VERBOSE_LOG_SIZE (16 * 1024 * 1024)

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
/* The most telling line libbpf or the verifier printed about a failed load. */
static char load_error[1024];
/* libbpf's last warning: why it refused to open an object. */
static char last_warning[1024];

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void remember(char *dst, size_t size, const char *text, size_t len)
{
	if (len >= size)
		len = size - 1;
	memcpy(dst, text, len);
	dst[len] = 0;
}

#if HAVE_STRUCT_OPS_LINK
/*
 * The verifier's own error: the last line of the log that is not its statistics
 * ("verification time", "stack depth", "processed N insns", "peak_states", ...).
 */
static void verifier_error_line(const char *log, size_t len)
{
	const char *end = log + len;

	while (end > log) {
		const char *line_end = end, *line;

		while (line_end > log && line_end[-1] == '\n')
			line_end--;
		line = line_end;
		while (line > log && line[-1] != '\n')
			line--;
		end = line;
		if (line == line_end)
			continue;
		if (!strncmp(line, "verification time", 17) || !strncmp(line, "stack depth", 11) ||
		    !strncmp(line, "processed ", 10) || !strncmp(line, "mark_precise", 12) ||
		    memmem(line, (size_t)(line_end - line), "peak_states", 11) || !strncmp(line, "Func#", 5) || !strncmp(line, "func#", 5))
			continue;
		remember(load_error, sizeof(load_error), line, (size_t)(line_end - line));
		return;
	}
}

/* A failed program's verifier log: printed with its middle elided when long; its error line remembered. */
static void print_verifier_log(const char *log)
{
	size_t len = strlen(log);

	verifier_error_line(log, len);
	fputs(LOG_BEGIN, stderr);
	if (len <= LOG_HEAD_BYTES + LOG_TAIL_BYTES) {
		fwrite(log, 1, len, stderr);
	} else {
		fwrite(log, 1, LOG_HEAD_BYTES, stderr);
		fprintf(stderr, "\n... %zu bytes of the verifier log elided ...\n", len - LOG_HEAD_BYTES - LOG_TAIL_BYTES);
		fwrite(log + len - LOG_TAIL_BYTES, 1, LOG_TAIL_BYTES, stderr);
	}
	if (len && log[len - 1] != '\n')
		fputc('\n', stderr);
	fputs(LOG_END, stderr);
}

#endif

static int print_libbpf(enum libbpf_print_level level, const char *fmt, va_list args)
{
	char *msg = NULL;
	int len = vasprintf(&msg, fmt, args);

	if (len < 0)
		return 0;
	if (strstr(msg, ".struct_ops") && strlen(notes) + (size_t)len + 1 < sizeof(notes))
		strcat(notes, msg);
	/* libbpf's own reasons, used when the verifier gave none (the verifier's line wins). */
	if (level == LIBBPF_WARN && !load_error[0] &&
	    (strstr(msg, "failed to resolve CO-RE relocation") || strstr(msg, "failed to relocate") || strstr(msg, "failed to find kernel BTF")))
		remember(load_error, sizeof(load_error), msg, strcspn(msg, "\n"));
	if (level == LIBBPF_WARN)
		remember(last_warning, sizeof(last_warning), msg, strcspn(msg, "\n"));
	if (level == LIBBPF_DEBUG && !verbose_libbpf) {
		free(msg);
		return 0;
	}
	fputs(msg, stderr);
	free(msg);
	return len;
}

static void json_string(const char *s)
{
	putchar('"');
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
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

static struct bpf_map *find_struct_ops_map(struct bpf_object *obj)
{
	struct bpf_map *map;

	bpf_object__for_each_map(map, obj) {
		if (bpf_map__type(map) == BPF_MAP_TYPE_STRUCT_OPS)
			return map;
	}
	return NULL;
}

/* ---- check: the object as libbpf and libelf read it, without the kernel ---- */

/* The ELF view libbpf keeps private: sections by name, the symbol table, relocations. */
struct elf_view {
	int fd;
	Elf *elf;
	size_t shstrndx;
	Elf_Scn *symtab;
	GElf_Shdr symtab_hdr;
};

static bool elf_view_open(struct elf_view *v, const char *path)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr hdr;

	memset(v, 0, sizeof(*v));
	elf_version(EV_CURRENT);
	v->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (v->fd < 0)
		return false;
	v->elf = elf_begin(v->fd, ELF_C_READ, NULL);
	if (!v->elf || elf_getshdrstrndx(v->elf, &v->shstrndx))
		return false;
	while ((scn = elf_nextscn(v->elf, scn))) {
		if (gelf_getshdr(scn, &hdr) && hdr.sh_type == SHT_SYMTAB) {
			v->symtab = scn;
			v->symtab_hdr = hdr;
		}
	}
	return v->symtab != NULL;
}

static void elf_view_close(struct elf_view *v)
{
	if (v->elf)
		elf_end(v->elf);
	if (v->fd > 0)
		close(v->fd);
}

static Elf_Scn *elf_section(struct elf_view *v, const char *name)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr hdr;

	while ((scn = elf_nextscn(v->elf, scn))) {
		const char *n = gelf_getshdr(scn, &hdr) ? elf_strptr(v->elf, v->shstrndx, hdr.sh_name) : NULL;
		if (n && !strcmp(n, name))
			return scn;
	}
	return NULL;
}

/* The relocation section for `target`, if any. */
static Elf_Scn *elf_relocations(struct elf_view *v, Elf_Scn *target)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr hdr;

	while ((scn = elf_nextscn(v->elf, scn))) {
		if (gelf_getshdr(scn, &hdr) && hdr.sh_type == SHT_REL && hdr.sh_info == elf_ndxscn(target))
			return scn;
	}
	return NULL;
}

static const char *symbol_name(struct elf_view *v, size_t index)
{
	GElf_Sym sym;
	Elf_Data *data = elf_getdata(v->symtab, NULL);

	if (!data || !gelf_getsym(data, (int)index, &sym))
		return NULL;
	return elf_strptr(v->elf, v->symtab_hdr.sh_link, sym.st_name);
}

static const struct btf_type *skip_mods(const struct btf *btf, __u32 id, __u32 *out_id)
{
	const struct btf_type *t = btf__type_by_id(btf, id);

	while (t && (btf_is_mod(t) || btf_is_typedef(t))) {
		id = t->type;
		t = btf__type_by_id(btf, id);
	}
	if (out_id)
		*out_id = id;
	return t;
}

static bool is_func_ptr(const struct btf *btf, __u32 type)
{
	const struct btf_type *t = skip_mods(btf, type, NULL);

	return t && btf_is_ptr(t) && (t = skip_mods(btf, t->type, NULL)) && btf_is_func_proto(t);
}

static void print_struct_ops_var(struct elf_view *v, const struct btf *btf, const char *section, Elf_Scn *scn,
				 const struct btf_var_secinfo *vi, bool *first)
{
	const struct btf_type *var = btf__type_by_id(btf, vi->type), *st;
	const struct btf_member *m;
	Elf_Data *data = elf_getdata(scn, NULL);
	Elf_Scn *rel_scn = elf_relocations(v, scn);
	Elf_Data *rels = rel_scn ? elf_getdata(rel_scn, NULL) : NULL;
	GElf_Shdr rel_hdr;
	size_t nrels = rel_scn && gelf_getshdr(rel_scn, &rel_hdr) && rel_hdr.sh_entsize ? rel_hdr.sh_size / rel_hdr.sh_entsize : 0;
	const unsigned char *bytes;
	bool first_member = true;
	__u32 type_id;
	int i;

	if (!var || !btf_is_var(var))
		return;
	st = skip_mods(btf, var->type, &type_id);
	printf("%s{\"section\":", *first ? "" : ",");
	json_string(section);
	printf(",\"variable\":");
	json_string(btf__name_by_offset(btf, var->name_off));
	printf(",\"type\":");
	json_string(st && btf_is_struct(st) ? btf__name_by_offset(btf, st->name_off) : "");
	printf(",\"size\":%u,\"members\":[", vi->size);
	*first = false;
	if (!st || !btf_is_struct(st) || !data || vi->offset + vi->size > data->d_size) {
		printf("]}");
		return;
	}
	bytes = (const unsigned char *)data->d_buf + vi->offset;
	for (i = 0, m = btf_members(st); i < btf_vlen(st); i++, m++) {
		__u32 bit = btf_member_bit_offset(st, i), off = bit / 8;
		const char *name = btf__name_by_offset(btf, m->name_off);
		const struct btf_type *mt = skip_mods(btf, m->type, NULL);
		const char *program = NULL;
		size_t r;

		if (is_func_ptr(btf, m->type)) {
			for (r = 0; r < nrels; r++) {
				GElf_Rel rel;
				if (gelf_getrel(rels, (int)r, &rel) && rel.r_offset == vi->offset + off)
					program = symbol_name(v, GELF_R_SYM(rel.r_info));
			}
			if (!program)
				continue; /* callbacks left unset are not part of the layout that matters */
			printf("%s{\"name\":", first_member ? "" : ",");
			json_string(name);
			printf(",\"offset\":%u,\"program\":", off);
			json_string(program);
			printf("}");
		} else if (mt && btf_is_int(mt) && mt->size <= 8 && off + mt->size <= vi->size) {
			unsigned long long value = 0;
			memcpy(&value, bytes + off, mt->size); /* BPF objects are built for this host's byte order */
			printf("%s{\"name\":", first_member ? "" : ",");
			json_string(name);
			printf(",\"offset\":%u,\"value\":%llu}", off, value);
		} else if (mt && btf_is_array(mt) && off < vi->size) {
			const struct btf_array *a = btf_array(mt);
			const struct btf_type *et = skip_mods(btf, a->type, NULL);
			char text[256] = "";
			size_t n = a->nelems < sizeof(text) - 1 ? a->nelems : sizeof(text) - 1;

			if (!et || !btf_is_int(et) || et->size != 1 || off + a->nelems > vi->size)
				continue;
			memcpy(text, bytes + off, n);
			text[n] = 0;
			printf("%s{\"name\":", first_member ? "" : ",");
			json_string(name);
			printf(",\"offset\":%u,\"string\":", off);
			json_string(text);
			printf("}");
		} else {
			continue;
		}
		first_member = false;
	}
	printf("]}");
}

/* Every variable in a .struct_ops or .struct_ops.link data section, from the object's BTF. */
static void print_struct_ops(struct elf_view *v, const struct btf *btf)
{
	static const char *const sections[] = { ".struct_ops.link", ".struct_ops" };
	bool first = true;
	size_t s;

	printf("\"struct_ops\":[");
	for (s = 0; btf && s < sizeof(sections) / sizeof(sections[0]); s++) {
		__s32 id = btf__find_by_name_kind(btf, sections[s], BTF_KIND_DATASEC);
		Elf_Scn *scn = elf_section(v, sections[s]);
		const struct btf_type *sec = id > 0 ? btf__type_by_id(btf, id) : NULL;
		const struct btf_var_secinfo *vi;
		int i;

		if (!sec || !scn)
			continue;
		for (i = 0, vi = btf_var_secinfos(sec); i < btf_vlen(sec); i++, vi++)
			print_struct_ops_var(v, btf, sections[s], scn, vi, &first);
	}
	printf("]");
}

static void print_license(struct elf_view *v)
{
	Elf_Scn *scn = elf_section(v, "license");
	Elf_Data *data = scn ? elf_getdata(scn, NULL) : NULL;
	char text[128] = "";

	printf("\"license\":");
	if (!data || !data->d_size) {
		printf("null");
		return;
	}
	memcpy(text, data->d_buf, data->d_size < sizeof(text) - 1 ? data->d_size : sizeof(text) - 1);
	json_string(text);
}

/*
 * check: libbpf opens the object; its license and struct_ops layout come from libelf and the
 * object's BTF, so they are reported even when libbpf refuses the object (open_error says why).
 */
static int cmd_check(const char *path)
{
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	long open_err = libbpf_get_error(obj);
	struct btf *own_btf = NULL;
	struct bpf_program *prog;
	struct bpf_map *map, *ops = NULL;
	struct elf_view view;
	bool first = true;
	const char *limit = link_limitation();

	if (open_err)
		obj = NULL;
	if (!elf_view_open(&view, path)) {
		fprintf(stderr, "tuneloop-loader: libelf cannot read %s: %s\n", path, elf_errmsg(-1));
		elf_view_close(&view);
		bpf_object__close(obj);
		return 2;
	}
	if (!obj)
		own_btf = btf__parse_elf(path, NULL);
	if (libbpf_get_error(own_btf))
		own_btf = NULL;
	if (obj)
		ops = find_struct_ops_map(obj);
	printf("{\"libbpf_build\":\"%d.%d\",\"open_error\":", LIBBPF_MAJOR_VERSION, LIBBPF_MINOR_VERSION);
	if (obj) {
		printf("null");
	} else {
		char why[1400];
		snprintf(why, sizeof(why), "%s%s%s", strerror((int)-open_err), last_warning[0] ? ": " : "", last_warning);
		json_string(why);
	}
	printf(",");
	print_license(&view);
	printf(",\"programs\":[");
	if (obj) {
		bpf_object__for_each_program(prog, obj) {
			printf("%s{\"name\":", first ? "" : ",");
			json_string(bpf_program__name(prog));
			printf(",\"section\":");
			json_string(bpf_program__section_name(prog));
			printf(",\"type\":");
			json_string(libbpf_bpf_prog_type_str(bpf_program__type(prog)));
			printf(",\"sleepable\":%s,\"insns\":%zu}", bpf_program__flags(prog) & BPF_F_SLEEPABLE ? "true" : "false",
			       bpf_program__insn_cnt(prog));
			first = false;
		}
	}
	printf("],\"maps\":[");
	first = true;
	if (obj) {
		bpf_object__for_each_map(map, obj) {
			printf("%s{\"name\":", first ? "" : ",");
			json_string(bpf_map__name(map));
			printf(",\"type\":");
			json_string(libbpf_bpf_map_type_str(bpf_map__type(map)));
			printf(",\"value_size\":%u}", bpf_map__value_size(map));
			first = false;
		}
	}
	printf("],");
	print_struct_ops(&view, obj ? bpf_object__btf(obj) : own_btf);
	printf(",\"struct_ops_map\":");
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
	elf_view_close(&view);
	btf__free(own_btf);
	bpf_object__close(obj);
	return !obj ? 2 : ops && !limit ? 0 : 3;
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

/* "E2BIG (Argument list too long)": the errno's name and its text. */
static void print_errno(int err)
{
	const char *name = strerrorname_np(err);

	fprintf(stderr, "errno %d %s%s(%s)", err, name ? name : "", name ? " " : "", strerror(err));
}

/* Open `path` with every program at log `level` into `log` (shared: loading stops at the first failure). */
static struct bpf_object *open_at_level(const char *path, __u32 level, char *log, size_t size)
{
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	struct bpf_program *prog;
	int err = (int)libbpf_get_error(obj);

	if (err) {
		fprintf(stderr, "tuneloop-loader: cannot open %s: %s\n", path, strerror(-err));
		return NULL;
	}
	bpf_object__for_each_program(prog, obj) {
		bpf_program__set_log_level(prog, level);
		bpf_program__set_log_buf(prog, log, size);
	}
	return obj;
}

/* Load `path` as described at the top of this file; NULL (and the failure printed) if it fails. */
static struct bpf_object *load_object(const char *path)
{
	static char stats[STATS_LOG_SIZE];
	struct bpf_object *obj = open_at_level(path, BPF_LOG_STATS_LEVEL, stats, sizeof(stats));
	char *log;
	int err;

	if (!obj)
		return NULL;
	if (!(err = bpf_object__load(obj)))
		return obj;
	bpf_object__close(obj);
	fprintf(stderr, "tuneloop-loader: load failed: ");
	print_errno(-err);
	fprintf(stderr, "; loading it again for the verifier log\n");

	log = calloc(1, VERBOSE_LOG_SIZE);
	obj = log ? open_at_level(path, 1, log, VERBOSE_LOG_SIZE) : NULL;
	if (obj && !bpf_object__load(obj)) {
		/* Accepted this time: the first failure was transient; carry on with this load. */
		free(log);
		return obj;
	}
	if (log && log[0])
		print_verifier_log(log);
	fprintf(stderr, "tuneloop-loader: load failed: ");
	print_errno(-err);
	fprintf(stderr, "%s%s\n", load_error[0] ? ": " : "", load_error);
	bpf_object__close(obj);
	free(log);
	return NULL;
}

static int cmd_run(const char *path, const char *expect_name)
{
	struct bpf_object *obj;
	struct bpf_map *ops, *exit_map;
	struct bpf_link *link = NULL;
	struct tl_exit_info info;
	int err, code = 0;

	obj = load_object(path);
	if (!obj)
		return 4;
	ops = find_struct_ops_map(obj);
	exit_map = find_exit_info_map(obj);
	if (!ops) {
		fprintf(stderr, "tuneloop-loader: no struct_ops map in %s\n", path);
		bpf_object__close(obj);
		return 2;
	}
	link = bpf_map__attach_struct_ops(ops);
	if ((err = (int)libbpf_get_error(link))) {
		fprintf(stderr, "tuneloop-loader: attach failed: ");
		print_errno(-err);
		fputc('\n', stderr);
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
