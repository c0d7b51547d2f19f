#!/usr/bin/env bash
# Bring up a real single-node SLURM (munge + slurmctld + slurmd) on Debian/Ubuntu without
# systemd, for development and CI. Idempotent: safe to run again while it is up.
#
#   sudo bash slurm/start.sh          # as root; installs munge slurmctld slurmd slurm-client
#   sinfo                             # node "idle" in partition "debug" (the default)
#   bash slurm/stop.sh                # stops the daemons
#
# Facts of the CI machine kind (Debian 12, no systemd) this config respects:
#  * cgroup process tracking fails ("cgroup namespace 'freezer' not mounted"):
#    ProctrackType=proctrack/linuxproc, TaskPlugin=task/none, JobAcctGatherType=jobacct_gather/none
#  * RealMemory must be set and <= physical memory (dask-jobqueue always passes --mem)
#  * SlurmctldHost / NodeName must be the short hostname
#  * munged runs as the munge user, /run/munge created first
# Environment knobs: SLURM_CPUS (default: all cores), SLURM_MEM_MB (default: 90 % of RAM),
# SLURM_PARTITION (default: debug).
set -euo pipefail

log() { echo "[slurm/start] $*"; }

if [ "$(id -u)" != 0 ]; then
    echo "slurm/start.sh must run as root (it installs packages and starts daemons)" >&2
    exit 1
fi

# ---- packages ---------------------------------------------------------------------------------
need=()
for bin in munged slurmctld slurmd sinfo; do
    command -v "$bin" >/dev/null 2>&1 || need+=("$bin")
done
if [ ${#need[@]} -gt 0 ]; then
    log "installing munge slurmctld slurmd slurm-client (missing: ${need[*]})"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq || true
    apt-get install -y -qq --no-install-recommends munge slurmctld slurmd slurm-client >/dev/null
fi

HOST="$(hostname -s)"
CPUS="${SLURM_CPUS:-$(nproc)}"
MEM_TOTAL_MB=$(awk '/MemTotal/ {print int($2/1024)}' /proc/meminfo)
MEM_MB="${SLURM_MEM_MB:-$(( MEM_TOTAL_MB * 9 / 10 ))}"
PART="${SLURM_PARTITION:-debug}"

# ---- config -----------------------------------------------------------------------------------
CONF_DIR=/etc/slurm
mkdir -p "$CONF_DIR" /var/spool/slurmctld /var/spool/slurmd /var/log/slurm /run/slurm
chown slurm:slurm /var/spool/slurmctld /var/log/slurm 2>/dev/null || true
cat > "$CONF_DIR/slurm.conf.new" <<EOF
# written by sweep slurm/start.sh (single-node development/CI cluster)
ClusterName=sweepdev
SlurmctldHost=${HOST}
AuthType=auth/munge
CryptoType=crypto/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
ReturnToService=2
SlurmctldPidFile=/run/slurm/slurmctld.pid
SlurmdPidFile=/run/slurm/slurmd.pid
SlurmctldPort=6817
SlurmdPort=6818
SlurmdSpoolDir=/var/spool/slurmd
StateSaveLocation=/var/spool/slurmctld
SlurmUser=root
SlurmdUser=root
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
KillWait=5
MinJobAge=60
Waittime=0
NodeName=${HOST} NodeAddr=127.0.0.1 CPUs=${CPUS} RealMemory=${MEM_MB} State=UNKNOWN
PartitionName=${PART} Nodes=${HOST} Default=YES MaxTime=INFINITE State=UP
EOF
changed=0
if ! cmp -s "$CONF_DIR/slurm.conf.new" "$CONF_DIR/slurm.conf" 2>/dev/null; then
    mv "$CONF_DIR/slurm.conf.new" "$CONF_DIR/slurm.conf"
    changed=1
else
    rm -f "$CONF_DIR/slurm.conf.new"
fi
# Debian's slurm-wlm reads /etc/slurm/slurm.conf; cgroup.conf is not needed with linuxproc.

# ---- munge ------------------------------------------------------------------------------------
mkdir -p /run/munge /var/log/munge /var/lib/munge /etc/munge
chown munge:munge /run/munge /var/log/munge /var/lib/munge /etc/munge
chmod 0755 /run/munge
if [ ! -s /etc/munge/munge.key ]; then
    log "creating munge key"
    if command -v mungekey >/dev/null; then
        mungekey --create --force --keyfile /etc/munge/munge.key >/dev/null 2>&1 || \
            dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
    else
        dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
    fi
fi
chown munge:munge /etc/munge/munge.key
chmod 0400 /etc/munge/munge.key
if ! munge -n >/dev/null 2>&1 </dev/null; then
    log "starting munged"
    pkill_pid=$(cat /run/munge/munged.pid 2>/dev/null || true)
    [ -n "$pkill_pid" ] && kill "$pkill_pid" 2>/dev/null || true
    if command -v runuser >/dev/null; then
        runuser -u munge -- /usr/sbin/munged --force
    else
        su -s /bin/sh munge -c "/usr/sbin/munged --force"
    fi
    for _ in $(seq 50); do munge -n >/dev/null 2>&1 </dev/null && break; sleep 0.1; done
fi
munge -n </dev/null | unmunge >/dev/null || { echo "munge does not work" >&2; exit 1; }

# ---- daemons ----------------------------------------------------------------------------------
running() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
if [ "$changed" = 1 ]; then
    for pidf in /run/slurm/slurmd.pid /run/slurm/slurmctld.pid; do
        if running "$pidf"; then kill "$(cat "$pidf")" 2>/dev/null || true; fi
    done
    sleep 1
fi
if ! running /run/slurm/slurmctld.pid; then
    log "starting slurmctld"
    /usr/sbin/slurmctld -i
fi
if ! running /run/slurm/slurmd.pid; then
    log "starting slurmd"
    /usr/sbin/slurmd
fi

# ---- wait until the node is idle ---------------------------------------------------------------
for i in $(seq 120); do
    state=$(sinfo -h -n "$HOST" -o '%T' 2>/dev/null | head -1 || true)
    case "$state" in
        idle|mixed|allocated|completing)
            log "node ${HOST} is ${state} (partition ${PART}, ${CPUS} CPUs, ${MEM_MB} MB)"
            exit 0 ;;
        down*|drain*|fail*|unknown*|"")
            if [ "$i" -gt 3 ] && [ -n "$state" ]; then
                scontrol update nodename="$HOST" state=resume >/dev/null 2>&1 || \
                    scontrol update nodename="$HOST" state=idle >/dev/null 2>&1 || true
            fi ;;
    esac
    sleep 0.5
done
echo "SLURM did not become idle; state: '$(sinfo -h -n "$HOST" -o '%T %E' 2>&1)'" >&2
tail -20 /var/log/slurm/slurmctld.log /var/log/slurm/slurmd.log >&2 || true
exit 1
