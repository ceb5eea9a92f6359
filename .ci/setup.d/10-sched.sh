#!/usr/bin/env bash
# sched toolset: clang/llvm compile the BPF templates and the broken-source test for real, bpftool
# generates vmlinux.h from this machine's /sys/kernel/btf/vmlinux, libbpf-dev/libelf-dev/zlib1g-dev/
# pkg-config/make/libc6-dev build the loader, guard and smoke load, GNU time measures benchmark runs.
# (perl, used as a CPU-bound test workload, is essential on Debian.)
set -euo pipefail
$SUDO apt-get install -y -q --no-install-recommends \
  clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev pkg-config make libc6-dev time
