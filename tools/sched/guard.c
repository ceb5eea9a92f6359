// SPDX-License-Identifier: Apache-2.0
/*
 * tuneloop-sched-guard: runs one scheduler and makes sure it never outlives tuneloop.
 *
 *   tuneloop-sched-guard [--grace-ms N] [--term-grace-ms N] -- PROGRAM [ARGS...]
 *
 * tuneloop starts it (directly as root, or through `sudo -n`) with a pipe on stdin. The guard
 * starts PROGRAM in its own process group and then watches that pipe:
 *   - a line "stop [GRACE_MS]" or end-of-file stops the scheduler: SIGINT to its group, SIGTERM
 *     after the grace period, SIGKILL after --term-grace-ms more;
 *   - end-of-file is what happens when tuneloop dies in any way, SIGKILL included, so a scheduler
 *     is always detached (the kernel reverts to the default scheduler when its loader exits);
 *   - SIGINT/SIGTERM/SIGHUP to the guard start the same sequence.
 * If the guard itself is killed, PR_SET_PDEATHSIG delivers SIGKILL to the scheduler.
 * The guard exits with the scheduler's status (128+N for signal N).
 *
 * Under sudo (SUDO_UID set and not 0) PROGRAM must be an absolute path to a root-owned file that
 * neither group nor others can write, in a directory with the same property, named scx_* or
 * tuneloop-sched-loader: a NOPASSWD rule for the guard then grants exactly "run an installed
 * scheduler", not "run anything as root".
 *
 * Its own messages go to stderr as "tuneloop-guard: ..." lines, which tuneloop parses.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t signalled;

static void on_signal(int sig)
{
	signalled = sig;
}

static void say(const char *fmt, ...)
{
	va_list args;
	char line[1024];

	va_start(args, fmt);
	vsnprintf(line, sizeof(line), fmt, args);
	va_end(args);
	/* stderr may be a pipe whose reader is gone: SIGPIPE is ignored, errors do not matter. */
	dprintf(STDERR_FILENO, "tuneloop-guard: %s\n", line);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int safe_path(const char *path, char *why, size_t whylen)
{
	struct stat st;
	char copy[4096], *dir, *base;

	if (path[0] != '/') {
		snprintf(why, whylen, "%s is not an absolute path", path);
		return 0;
	}
	snprintf(copy, sizeof(copy), "%s", path);
	base = basename(copy);
	if (strncmp(base, "scx_", 4) != 0 && strcmp(base, "tuneloop-sched-loader") != 0) {
		snprintf(why, whylen, "%s is neither an scx_* scheduler nor tuneloop-sched-loader", path);
		return 0;
	}
	if (stat(path, &st) || !S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		snprintf(why, whylen, "%s must be a regular file owned by root and writable only by root", path);
		return 0;
	}
	snprintf(copy, sizeof(copy), "%s", path);
	dir = dirname(copy);
	if (stat(dir, &st) || st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		snprintf(why, whylen, "directory %s must be owned by root and writable only by root", dir);
		return 0;
	}
	return 1;
}

static pid_t start_child(char **argv)
{
	pid_t parent = getpid();
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(137);
	/* The scheduler must not read the control pipe, nor inherit the guard's dispositions. */
	int devnull = open("/dev/null", O_RDONLY);
	if (devnull >= 0)
		dup2(devnull, STDIN_FILENO);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	execv(argv[0], argv);
	say("cannot execute %s: %s", argv[0], strerror(errno));
	_exit(127);
}

int main(int argc, char **argv)
{
	long grace_ms = 5000, term_grace_ms = 3000;
	int i = 1;

	for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "--grace-ms") == 0 && i + 1 < argc)
			grace_ms = atol(argv[++i]);
		else if (strcmp(argv[i], "--term-grace-ms") == 0 && i + 1 < argc)
			term_grace_ms = atol(argv[++i]);
		else {
			say("unknown argument %s", argv[i]);
			return 64;
		}
	}
	if (i + 1 >= argc) {
		say("usage: %s [--grace-ms N] [--term-grace-ms N] -- PROGRAM [ARGS...]", argv[0]);
		return 64;
	}
	char **program = &argv[i + 1];
	const char *sudo_uid = getenv("SUDO_UID");
	char why[4200];

	if (sudo_uid && strcmp(sudo_uid, "0") != 0 && !safe_path(program[0], why, sizeof(why))) {
		say("refusing under sudo: %s", why);
		return 126;
	}

	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	pid_t child = start_child(program);
	if (child < 0) {
		say("fork failed: %s", strerror(errno));
		return 71;
	}
	say("started pid=%d", (int)child);

	int stage = 0; /* 0 running, 1 SIGINT sent, 2 SIGTERM sent, 3 SIGKILL sent */
	long long deadline = 0;
	int stdin_open = 1;
	char buf[256];
	size_t used = 0;

	for (;;) {
		int status;
		pid_t done = waitpid(child, &status, WNOHANG);
		if (done == child) {
			if (WIFSIGNALED(status)) {
				say("scheduler exited signal=%d", WTERMSIG(status));
				return 128 + WTERMSIG(status);
			}
			say("scheduler exited status=%d", WEXITSTATUS(status));
			return WEXITSTATUS(status);
		}

		int stop_now = 0;
		long stop_grace = grace_ms;
		if (signalled && stage == 0) {
			say("received signal %d, stopping the scheduler", (int)signalled);
			stop_now = 1;
		}
		struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
		if (poll(&pfd, stdin_open ? 1 : 0, 100) > 0 && stdin_open) {
			ssize_t n = read(STDIN_FILENO, buf + used, sizeof(buf) - 1 - used);
			if (n <= 0) {
				stdin_open = 0;
				if (stage == 0) {
					say("control pipe closed, stopping the scheduler");
					stop_now = 1;
				}
			} else {
				used += (size_t)n;
				buf[used] = 0;
				char *nl;
				while ((nl = strchr(buf, '\n'))) {
					*nl = 0;
					if (strncmp(buf, "stop", 4) == 0 && stage == 0) {
						if (buf[4] == ' ')
							stop_grace = atol(buf + 5);
						say("stop requested");
						stop_now = 1;
					}
					memmove(buf, nl + 1, used - (size_t)(nl + 1 - buf) + 1);
					used = strlen(buf);
				}
				if (used == sizeof(buf) - 1)
					used = 0; /* a line this long is not a command */
			}
		}
		if (stop_now && stage == 0) {
			kill(-child, SIGINT);
			say("sent SIGINT");
			stage = 1;
			deadline = now_ms() + stop_grace;
		} else if (stage == 1 && now_ms() >= deadline) {
			kill(-child, SIGTERM);
			say("sent SIGTERM");
			stage = 2;
			deadline = now_ms() + term_grace_ms;
		} else if (stage == 2 && now_ms() >= deadline) {
			kill(-child, SIGKILL);
			say("sent SIGKILL");
			stage = 3;
		}
	}
}
