/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tuneloop template "vtime": one global queue shared by all CPUs.
 *
 * Tasks wait in a single dispatch queue ordered by virtual time: a task's vtime advances by the
 * time it ran, scaled down by its weight (nice), so CPU-hungry tasks sort behind ones that ran
 * little. A waking task may lag at most one slice behind the queue's clock, so a long sleeper
 * cannot monopolise the CPUs when it wakes. With FIFO=1 the queue is plain first-in first-out.
 * When the CPU a task wakes on is idle, it is dispatched there directly, skipping the queue.
 *
 * Parameters (tuneloop passes them as #defines): TL_NAME, SLICE_US, FIFO.
 */
#include <tuneloop/scx.bpf.h>

#ifndef TL_NAME
#define TL_NAME "tl_vtime"
#endif
#ifndef SLICE_US
#define SLICE_US 5000
#endif
#ifndef FIFO
#define FIFO 0
#endif

#define SHARED_DSQ 0
#define SLICE_NS ((u64)SLICE_US * 1000)

char _license[] SEC("license") = "GPL";

TL_EXIT_INFO_DEFINE();

/* The queue's clock: the highest vtime of any task that started running. */
static u64 vtime_now;

static __always_inline bool vtime_before(u64 a, u64 b)
{
	return (s64)(a - b) < 0;
}

s32 TL_OPS(tl_select_cpu, struct task_struct *p, s32 prev_cpu, u64 wake_flags)
{
	bool is_idle = false;
	s32 cpu = scx_bpf_select_cpu_dfl(p, prev_cpu, wake_flags, &is_idle);

	if (is_idle)
		tl_dsq_insert(p, TL_DSQ_LOCAL, SLICE_NS, 0);
	return cpu;
}

void TL_OPS(tl_enqueue, struct task_struct *p, u64 enq_flags)
{
	if (FIFO) {
		tl_dsq_insert(p, SHARED_DSQ, SLICE_NS, enq_flags);
		return;
	}
	u64 vtime = tl_task_scx(p)->dsq_vtime;

	/* Credit a sleeper at most one slice of lag. */
	if (vtime_before(vtime, vtime_now - SLICE_NS))
		vtime = vtime_now - SLICE_NS;
	tl_dsq_insert_vtime(p, SHARED_DSQ, SLICE_NS, vtime, enq_flags);
}

void TL_OPS(tl_dispatch, s32 cpu, struct task_struct *prev)
{
	tl_dsq_move_to_local(SHARED_DSQ);
}

void TL_OPS(tl_running, struct task_struct *p)
{
	u64 vtime = tl_task_scx(p)->dsq_vtime;

	if (vtime_before(vtime_now, vtime))
		vtime_now = vtime;
}

/*
 * The part of its slice a task used, from the slice left. The kernel refills the slice of a task
 * that keeps running on an otherwise idle CPU to its own default (20 ms), which can be more than
 * SLICE_NS: then the task ran a full SLICE_NS plus what it used of the refill. Without this clamp
 * the charge underflows, the task's vtime jumps by ~2^64 ns, it never runs again and the kernel's
 * watchdog ejects the scheduler.
 */
static __always_inline u64 slice_used(u64 left)
{
	if (left <= SLICE_NS)
		return SLICE_NS - left;
	if (left <= TL_SLICE_DFL_NS)
		return SLICE_NS + (TL_SLICE_DFL_NS - left);
	return SLICE_NS;
}

void TL_OPS(tl_stopping, struct task_struct *p, bool runnable)
{
	struct sched_ext_entity *scx = tl_task_scx(p);
	u32 weight = scx->weight ? scx->weight : TL_WEIGHT_DFL;

	/* Charge the time it ran, inversely to its weight. */
	scx->dsq_vtime += slice_used(scx->slice) * TL_WEIGHT_DFL / weight;
}

void TL_OPS(tl_enable, struct task_struct *p)
{
	tl_task_scx(p)->dsq_vtime = vtime_now;
}

s32 TL_OPS_SLEEPABLE(tl_init)
{
	return scx_bpf_create_dsq(SHARED_DSQ, -1);
}

void TL_OPS(tl_exit, struct scx_exit_info *ei)
{
	TL_EXIT_INFO_RECORD(ei);
}

TL_OPS_SECTION
struct sched_ext_ops tl_ops = {
	.select_cpu = (void *)tl_select_cpu,
	.enqueue = (void *)tl_enqueue,
	.dispatch = (void *)tl_dispatch,
	.running = (void *)tl_running,
	.stopping = (void *)tl_stopping,
	.enable = (void *)tl_enable,
	.init = (void *)tl_init,
	.exit = (void *)tl_exit,
	.name = TL_NAME,
};
