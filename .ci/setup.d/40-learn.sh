#!/usr/bin/env bash
# The scripted tuning loop (examples/tune-loop.mjs, run by test/examples) tunes real compressors:
# gzip is always there; xz and zstd widen the space.
set -euo pipefail
$SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends xz-utils zstd
