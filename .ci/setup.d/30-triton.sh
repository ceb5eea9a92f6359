#!/usr/bin/env bash
# Triton toolset: Debian's PyTorch for /usr/bin/python3 (CPU build), PyYAML and numpy for the
# harness. No triton and no GPU on CI: the harness runs pure-PyTorch candidates on the CPU, and the
# tests that need triton or CUDA skip with the reason printed. The tests use /usr/bin/python3
# unless TUNELOOP_PYTHON says otherwise.
set -euo pipefail
$SUDO apt-get install -y -q --no-install-recommends python3 python3-torch python3-yaml python3-numpy
/usr/bin/python3 -c 'import torch, yaml, numpy; print("triton setup: torch", torch.__version__, "PyYAML", yaml.__version__, "numpy", numpy.__version__)'
