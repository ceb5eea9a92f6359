#!/usr/bin/env bash
# Containment and sandboxing (src/core/contain.ts, sandbox.ts): bubblewrap gives the sandbox for
# untrusted code and the PID-namespace containment where no cgroup v2 is writable; util-linux
# (unshare, mount, pivot_root, setpriv, prlimit) is the sandbox's fallback and the RLIMIT_AS bound.
set -euo pipefail
SUDO="${SUDO:-}"
$SUDO apt-get install -y -q --no-install-recommends bubblewrap util-linux >/dev/null
bwrap --version
