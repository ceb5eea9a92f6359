#!/usr/bin/env bash
# sched_ext guest (npm run test:vm): `tuneloop vm build` compiles Linux 6.12 from Debian's
# linux-source-6.12 (make, gcc, flex, bison, bc, perl, xz-utils, libssl-dev, libelf-dev, dwarves for
# BTF, binutils, bpftool) and links the sched tools statically (libc6-dev, zlib1g-dev, libelf-dev);
# `tuneloop vm run` boots it with qemu-system-x86 and an initramfs made of busybox-static and cpio.
set -euo pipefail
$SUDO apt-get install -y -q --no-install-recommends \
  linux-source-6.12 make gcc libc6-dev flex bison bc perl xz-utils libssl-dev libelf-dev zlib1g-dev \
  dwarves binutils bpftool qemu-system-x86 busybox-static cpio
