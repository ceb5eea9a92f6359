// SPDX-License-Identifier: Apache-2.0
/*
 * tuneloop-sched-smoke: the load build_scheduler runs while a new scheduler is attached.
 *
 *   tuneloop-sched-smoke SECONDS [CPU_THREADS] [PING_PONG_PAIRS]
 *
 * CPU-bound threads spin (they exercise slices, preemption and the stopping/charging path);
 * ping-pong pairs bounce a byte over pipes (every bounce is a sleep and a wake-up: select_cpu,
 * enqueue, dispatch). A scheduler that loses or starves tasks shows up as a stall (the kernel's
 * watchdog ejects it) or as a pair that made no progress. Prints one JSON line with the counts.
 * Defaults: one CPU thread and one pair per online CPU.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static atomic_int stop;

struct pair {
	int ab[2], ba[2];
	unsigned long long bounces;
};

static void *spin(void *arg)
{
	unsigned long long *count = arg;
	volatile unsigned long long x = 0;

	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		for (int i = 0; i < 10000; i++)
			x += (unsigned long long)i * 2654435761u;
		(*count)++;
	}
	return NULL;
}

static void *pong(void *arg)
{
	struct pair *p = arg;
	char c;

	while (read(p->ab[0], &c, 1) == 1) {
		if (write(p->ba[1], &c, 1) != 1)
			break;
	}
	return NULL;
}

static void *ping(void *arg)
{
	struct pair *p = arg;
	char c = 'x';

	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		if (write(p->ab[1], &c, 1) != 1 || read(p->ba[0], &c, 1) != 1)
			break;
		p->bounces++;
	}
	close(p->ab[1]); /* ends pong */
	return NULL;
}

int main(int argc, char **argv)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	double seconds = argc > 1 ? atof(argv[1]) : 5;
	int nspin = argc > 2 ? atoi(argv[2]) : (int)cpus;
	int npairs = argc > 3 ? atoi(argv[3]) : (int)cpus;

	if (seconds <= 0 || nspin < 0 || npairs < 0 || nspin > 1024 || npairs > 1024) {
		fprintf(stderr, "usage: %s SECONDS [CPU_THREADS] [PING_PONG_PAIRS]\n", argv[0]);
		return 64;
	}
	pthread_t *threads = calloc((size_t)(nspin + 2 * npairs), sizeof(pthread_t));
	unsigned long long *spins = calloc((size_t)nspin + 1, sizeof(unsigned long long));
	struct pair *pairs = calloc((size_t)npairs + 1, sizeof(struct pair));
	int t = 0;

	for (int i = 0; i < nspin; i++)
		pthread_create(&threads[t++], NULL, spin, &spins[i]);
	for (int i = 0; i < npairs; i++) {
		if (pipe(pairs[i].ab) || pipe(pairs[i].ba)) {
			perror("pipe");
			return 71;
		}
		pthread_create(&threads[t++], NULL, pong, &pairs[i]);
		pthread_create(&threads[t++], NULL, ping, &pairs[i]);
	}
	struct timespec ts = { .tv_sec = (time_t)seconds, .tv_nsec = (long)((seconds - (double)(time_t)seconds) * 1e9) };
	nanosleep(&ts, NULL);
	atomic_store(&stop, 1);
	for (int i = 0; i < t; i++)
		pthread_join(threads[i], NULL);

	unsigned long long spin_total = 0, bounce_total = 0, min_bounces = ~0ULL;
	for (int i = 0; i < nspin; i++)
		spin_total += spins[i];
	for (int i = 0; i < npairs; i++) {
		bounce_total += pairs[i].bounces;
		if (pairs[i].bounces < min_bounces)
			min_bounces = pairs[i].bounces;
	}
	printf("{\"seconds\":%.3f,\"cpu_threads\":%d,\"pairs\":%d,\"spin_rounds\":%llu,\"wakeups\":%llu,\"min_pair_bounces\":%llu}\n",
	       seconds, nspin, npairs, spin_total, 2 * bounce_total, npairs ? min_bounces : 0);
	return 0;
}
