/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tuneloop: sched_ext types for building on a kernel whose BTF has none.
 *
 * vmlinux.h is generated from the running kernel. When that kernel was built without
 * CONFIG_SCHED_CLASS_EXT, vmlinux.h has no sched_ext types and a scheduler cannot even be
 * compiled. tuneloop then defines TL_SCX_COMPAT and this file supplies the types as of the
 * Linux 6.12 ABI. Every struct is marked preserve_access_index, so field accesses become CO-RE
 * relocations that libbpf resolves against the real kernel's BTF when the object is loaded on a
 * sched_ext kernel; the struct_ops value is matched to the kernel's sched_ext_ops member by member
 * name, not by layout. Objects built this way cannot be verified on the build host (it has no
 * sched_ext): build_scheduler verifies them in a guest kernel (tuneloop vm) or says so.
 *
 * CO-RE relocates a field only between compatible kinds: an enum field must be declared as an
 * enum here (libbpf refuses int against enum: "failed to resolve CO-RE relocation"). Every type
 * below is checked against Linux 6.12's kernel/sched/ext.c and include/linux/sched/ext.h by
 * test/sched/compat-types.test.ts; field order does not matter (relocations go by name).
 */
#ifndef __TUNELOOP_SCX_COMPAT_TYPES_H
#define __TUNELOOP_SCX_COMPAT_TYPES_H

enum scx_exit_kind {
	SCX_EXIT_NONE,
	SCX_EXIT_DONE,

	SCX_EXIT_UNREG = 64,
	SCX_EXIT_UNREG_BPF,
	SCX_EXIT_UNREG_KERN,
	SCX_EXIT_SYSRQ,

	SCX_EXIT_ERROR = 1024,
	SCX_EXIT_ERROR_BPF,
	SCX_EXIT_ERROR_STALL,
};

enum scx_cpu_preempt_reason {
	SCX_CPU_PREEMPT_RT,
	SCX_CPU_PREEMPT_DL,
	SCX_CPU_PREEMPT_STOP,
	SCX_CPU_PREEMPT_UNKNOWN,
};

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)

struct scx_exit_info {
	enum scx_exit_kind kind;
	s64 exit_code;
	const char *reason;
	unsigned long *bt;
	u32 bt_len;
	char *msg;
	char *dump;
};

struct scx_init_task_args {
	bool fork;
	struct cgroup *cgroup;
};

struct scx_exit_task_args {
	bool cancelled;
};

struct scx_cpu_acquire_args {};

struct scx_cpu_release_args {
	enum scx_cpu_preempt_reason reason;
	struct task_struct *task;
};

struct scx_dump_ctx {
	enum scx_exit_kind kind;
	s64 exit_code;
	const char *reason;
	u64 at_ns;
	u64 at_jiffies;
};

struct scx_cgroup_init_args {
	u32 weight;
};

struct sched_ext_entity {
	u64 slice;
	u64 dsq_vtime;
	u32 weight;
	u32 flags;
	s32 sticky_cpu;
	s32 holding_cpu;
};

/* task_struct->scx, reached through a flavoured type so it relocates onto the real task_struct. */
struct task_struct___tl_scx {
	struct sched_ext_entity scx;
};

struct sched_ext_ops {
	s32 (*select_cpu)(struct task_struct *p, s32 prev_cpu, u64 wake_flags);
	void (*enqueue)(struct task_struct *p, u64 enq_flags);
	void (*dequeue)(struct task_struct *p, u64 deq_flags);
	void (*dispatch)(s32 cpu, struct task_struct *prev);
	void (*tick)(struct task_struct *p);
	void (*runnable)(struct task_struct *p, u64 enq_flags);
	void (*running)(struct task_struct *p);
	void (*stopping)(struct task_struct *p, bool runnable);
	void (*quiescent)(struct task_struct *p, u64 deq_flags);
	bool (*yield)(struct task_struct *from, struct task_struct *to);
	bool (*core_sched_before)(struct task_struct *a, struct task_struct *b);
	void (*set_weight)(struct task_struct *p, u32 weight);
	void (*set_cpumask)(struct task_struct *p, const struct cpumask *cpumask);
	void (*update_idle)(s32 cpu, bool idle);
	void (*cpu_acquire)(s32 cpu, struct scx_cpu_acquire_args *args);
	void (*cpu_release)(s32 cpu, struct scx_cpu_release_args *args);
	s32 (*init_task)(struct task_struct *p, struct scx_init_task_args *args);
	void (*exit_task)(struct task_struct *p, struct scx_exit_task_args *args);
	void (*enable)(struct task_struct *p);
	void (*disable)(struct task_struct *p);
	void (*dump)(struct scx_dump_ctx *ctx);
	void (*dump_cpu)(struct scx_dump_ctx *ctx, s32 cpu, bool idle);
	void (*dump_task)(struct scx_dump_ctx *ctx, struct task_struct *p);
	void (*cpu_online)(s32 cpu);
	void (*cpu_offline)(s32 cpu);
	s32 (*init)(void);
	void (*exit)(struct scx_exit_info *info);
	u32 dispatch_max_batch;
	u64 flags;
	u32 timeout_ms;
	u32 exit_dump_len;
	u64 hotplug_seq;
	char name[128];
};

#pragma clang attribute pop

#endif /* __TUNELOOP_SCX_COMPAT_TYPES_H */
