/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tuneloop template "percpu": one FIFO queue per CPU, work stealing when a CPU runs dry.
 *
 * A task is queued on the CPU chosen for it at wake-up (the kernel's idle-aware default pick),
 * so it tends to stay where its cache is warm. A CPU first runs its own queue; with STEAL=1 an
 * empty CPU then takes work from the other queues, scanning from its neighbour onwards so CPUs
 * do not all raid the same queue. An idle CPU is kicked when a task is queued for it.
 *
 * MAX_CPUS bounds the number of queues (it is a loop bound for the verifier, which rejects more
 * than 2048: "sequence of 8193 jumps is too complex"). On a machine with more CPUs than that,
 * CPU c uses queue c % MAX_CPUS, so queues are shared and every value loads everywhere.
 *
 * Parameters (tuneloop passes them as #defines): TL_NAME, SLICE_US, STEAL, MAX_CPUS.
 */
#include <tuneloop/scx.bpf.h>

#ifndef TL_NAME
#define TL_NAME "tl_percpu"
#endif
#ifndef SLICE_US
#define SLICE_US 3000
#endif
#ifndef STEAL
#define STEAL 1
#endif
#ifndef MAX_CPUS
#define MAX_CPUS 512
#endif

#define SLICE_NS ((u64)SLICE_US * 1000)

char _license[] SEC("license") = "GPL";

TL_EXIT_INFO_DEFINE();

/* Queue ids are CPU numbers modulo the number of queues (user DSQ ids only need to be < 2^63). */
static u32 nr_queues;

static __always_inline u64 queue_of(s32 cpu)
{
	return nr_queues ? (u32)cpu % nr_queues : 0;
}

s32 TL_OPS(tl_select_cpu, struct task_struct *p, s32 prev_cpu, u64 wake_flags)
{
	bool is_idle = false;

	return scx_bpf_select_cpu_dfl(p, prev_cpu, wake_flags, &is_idle);
}

void TL_OPS(tl_enqueue, struct task_struct *p, u64 enq_flags)
{
	s32 cpu = scx_bpf_task_cpu(p);

	tl_dsq_insert(p, queue_of(cpu), SLICE_NS, enq_flags);
	scx_bpf_kick_cpu(cpu, TL_KICK_IDLE);
}

void TL_OPS(tl_dispatch, s32 cpu, struct task_struct *prev)
{
	u64 own = queue_of(cpu);
	u32 i;

	if (tl_dsq_move_to_local(own) || !STEAL)
		return;
	for (i = 1; i < MAX_CPUS; i++) {
		if (i >= nr_queues)
			break;
		if (tl_dsq_move_to_local((own + i) % nr_queues))
			return;
	}
}

s32 TL_OPS_SLEEPABLE(tl_init)
{
	u32 nr_cpus = scx_bpf_nr_cpu_ids(), q;
	s32 err;

	nr_queues = nr_cpus < MAX_CPUS ? nr_cpus : MAX_CPUS;
	for (q = 0; q < MAX_CPUS; q++) {
		if (q >= nr_queues)
			break;
		err = scx_bpf_create_dsq((u64)q, -1);
		if (err)
			return err;
	}
	return 0;
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
	.init = (void *)tl_init,
	.exit = (void *)tl_exit,
	.name = TL_NAME,
};
