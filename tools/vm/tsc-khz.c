// SPDX-License-Identifier: Apache-2.0
/*
 * tuneloop-tsc-khz: this x86 host's TSC frequency in kHz, measured against CLOCK_MONOTONIC_RAW.
 *
 * Under qemu's TCG the guest's TSC runs at the host's TSC rate, but the guest kernel cannot
 * calibrate it (no HPET or PM timer on the microvm machine, and PIT calibration fails at TCG
 * speed), so it falls back to jiffies as its clock, which lags whenever the host is busy.
 * `tuneloop vm run` passes this value as tsc_early_khz so the guest keeps real time.
 */
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <x86intrin.h>

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int main(void)
{
	struct timespec pause = { .tv_sec = 0, .tv_nsec = 200 * 1000 * 1000 };
	uint64_t t0 = now_ns(), c0 = __rdtsc(), t1, c1;

	nanosleep(&pause, NULL);
	t1 = now_ns();
	c1 = __rdtsc();
	printf("%llu\n", (unsigned long long)((c1 - c0) * 1000000ull / (t1 - t0)));
	return 0;
}
