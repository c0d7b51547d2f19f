#!/usr/bin/env bash
# Stop the single-node SLURM started by slurm/start.sh (jobs are cancelled first).
# Leaves packages, config and the munge key in place; start.sh brings it back.
set -uo pipefail

log() { echo "[slurm/stop] $*"; }

if command -v scancel >/dev/null && command -v squeue >/dev/null; then
    if squeue -h >/dev/null 2>&1; then
        scancel --full "--user=$(id -un)" 2>/dev/null || true
    fi
fi
stop_pidfile() {
    local name=$1 pidf=$2
    if [ -s "$pidf" ]; then
        local pid
        pid=$(cat "$pidf")
        if kill -0 "$pid" 2>/dev/null; then
            log "stopping $name (pid $pid)"
            kill "$pid" 2>/dev/null
            for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
        fi
        rm -f "$pidf"
    fi
}
stop_pidfile slurmd /run/slurm/slurmd.pid
stop_pidfile slurmctld /run/slurm/slurmctld.pid
stop_pidfile munged /run/munge/munged.pid
log "stopped"
