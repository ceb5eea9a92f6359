#!/usr/bin/env bash
# NCCL toolset: the real launchers its tests run the fake nccl-tests through.
# - Open MPI (mpirun), used as is;
# - MPICH (Hydra), called by its own name mpiexec.hydra / mpiexec.mpich: Debian's alternatives keep
#   the plain mpirun/mpiexec on Open MPI (priority 50 over MPICH's 40);
# - a one-node Slurm cluster on localhost: munge, slurmctld and slurmd, with a slurm.conf whose
#   single node has this machine's CPU count.
# Idempotent: running it again on a machine where everything is up changes nothing.
set -euo pipefail
SUDO="${SUDO:-}"

missing=""
for pkg in openmpi-bin mpich slurm-wlm munge; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing="$missing $pkg"
done
if [ -n "$missing" ]; then
  # shellcheck disable=SC2086
  $SUDO apt-get install -y -q --no-install-recommends $missing >/dev/null
fi

# The mpirun tests need Open MPI's mpirun: say so plainly if the alternative points elsewhere.
if ! mpirun --version 2>&1 | grep -q "Open MPI"; then
  echo "mpirun is not Open MPI's (update-alternatives --display mpirun); run: update-alternatives --auto mpirun" >&2
  exit 1
fi
mpiexec.hydra -n 1 true

# munge: Slurm's authentication. Debian's package creates the key; create one if it did not.
if [ ! -s /etc/munge/munge.key ]; then
  $SUDO dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
  $SUDO chown munge:munge /etc/munge/munge.key
  $SUDO chmod 0400 /etc/munge/munge.key
fi
$SUDO mkdir -p /run/munge
$SUDO chown munge:munge /run/munge
if ! munge -n </dev/null >/dev/null 2>&1; then
  $SUDO runuser -u munge -- /usr/sbin/munged
fi

CPUS="$(nproc)"
CONF=/etc/slurm/slurm.conf
WANT="$(cat <<CONF
# Written by tuneloop .ci/setup.d/20-nccl.sh: a one-node cluster for the NCCL launcher tests.
ClusterName=tuneloop
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmdParameters=config_overrides
MpiDefault=none
ReturnToService=2
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
NodeName=localhost NodeAddr=127.0.0.1 CPUs=${CPUS} State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
)"
if [ ! -f "$CONF" ] || [ "$(cat "$CONF")" != "$WANT" ]; then
  printf '%s\n' "$WANT" | $SUDO tee "$CONF" >/dev/null
  RESTART=1
fi
$SUDO mkdir -p /var/spool/slurmctld /var/spool/slurmd /var/log/slurm

if [ "${RESTART:-0}" = 1 ]; then
  # Restart the daemons this script started before (by pid file) so they read the new config.
  for pidfile in /run/slurmctld.pid /run/slurmd.pid; do
    if [ -s "$pidfile" ]; then $SUDO kill "$(cat "$pidfile")" 2>/dev/null || true; fi
  done
  sleep 1
fi
pgrep -x slurmctld >/dev/null || $SUDO slurmctld
pgrep -x slurmd >/dev/null || $SUDO slurmd -N localhost

# Wait until the node takes jobs (a node that was down in saved state is resumed).
for _ in $(seq 1 60); do
  state="$(sinfo -h -n localhost -o %t 2>/dev/null || true)"
  case "$state" in
    idle*|mix*|alloc*) echo "slurm: node localhost $state"; exit 0 ;;
    down*|drain*) $SUDO scontrol update nodename=localhost state=resume 2>/dev/null || true ;;
  esac
  sleep 1
done
echo "slurm: node localhost did not become idle; see /var/log/slurm/" >&2
exit 1
