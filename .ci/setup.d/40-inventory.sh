#!/usr/bin/env bash
# Host inventory (system_snapshot through systeminformation): the commands it reads the hardware
# with, so the tests exercise the real path: lspci (GPU controllers on the PCI bus, the cross-check
# of nvidia-smi), dmidecode (memory modules, virtualization), ethtool (link speed). lscpu, lsblk and
# ip come with util-linux and iproute2.
set -euo pipefail
$SUDO apt-get install -y -q --no-install-recommends pciutils dmidecode ethtool iproute2 util-linux
