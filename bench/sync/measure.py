#!/usr/bin/env python3
"""Runs one benchmark step and says where the CPU went while it ran.

    measure.py [--wait-idle SECONDS] -- COMMAND ARGS...

Passes the command's stdout through; to each JSON line it adds `cpu_s` (CPU seconds of the
command and its children, of Solr's JVM, of mariadbd, and of everything else on the machine)
and `other_load_cores` (that last one divided by the wall time: other processes competing for
this machine's 2 cores). --wait-idle first waits, at most that long, for a quiet machine
(all processes, Solr and MariaDB included, below 0.2 cores over 2 s). Solr's and MariaDB's pids come from
scripts/services.sh's state folder (GAIA_SERVICES_DIR, default /tmp/gaia-services).
Standard library only.
"""
import json
import os
import resource
import subprocess
import sys
import time

TICK = os.sysconf("SC_CLK_TCK")
SERVICES = os.environ.get("GAIA_SERVICES_DIR", "/tmp/gaia-services")


def busy_ticks():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal
    return v[0] + v[1] + v[2] + v[5] + v[6] + v[7]


def pid_ticks(pidfile):
    try:
        with open(pidfile) as f:
            pid = f.read().strip()
        with open(f"/proc/{pid}/stat") as f:
            s = f.read()
        fields = s[s.rindex(")") + 2:].split()
        return int(fields[11]) + int(fields[12])  # utime, stime
    except (OSError, ValueError, IndexError):
        return 0


def services():
    return (pid_ticks(f"{SERVICES}/solr/solr.pid"), pid_ticks(f"{SERVICES}/mariadb/mysqld.pid"))


def children_s():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def wait_idle(limit):
    """Waits for a quiet machine: Solr's merges and MariaDB's purge of the previous step
    count too. Returns the busy cores of the last 2 s."""
    deadline = time.time() + limit
    while True:
        b0 = busy_ticks()
        time.sleep(2)
        busy = (busy_ticks() - b0) / TICK / 2
        if busy < 0.2 or time.time() > deadline:
            return busy


def main():
    argv = sys.argv[1:]
    idle = None
    if argv[:1] == ["--wait-idle"]:
        idle = wait_idle(float(argv[1]))
        argv = argv[2:]
    if argv[:1] == ["--"]:
        argv = argv[1:]
    b0, (s0, m0), c0, t0 = busy_ticks(), services(), children_s(), time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    lines = proc.stdout.read().splitlines()
    rc = proc.wait()
    wall = time.perf_counter() - t0
    b1, (s1, m1), c1 = busy_ticks(), services(), children_s()
    solr, maria, client = (s1 - s0) / TICK, (m1 - m0) / TICK, c1 - c0
    other = max(0.0, (b1 - b0) / TICK - solr - maria - client)
    for line in lines:
        if line.startswith("{"):
            j = json.loads(line)
            j["cpu_s"] = {"client": round(client, 2), "solr": round(solr, 2),
                          "mariadb": round(maria, 2), "other": round(other, 2)}
            j["process_wall_s"] = round(wall, 3)
            j["other_load_cores"] = round(other / wall, 3) if wall > 0 else 0.0
            if idle is not None:
                j["busy_cores_before"] = round(idle, 3)
            line = json.dumps(j)
        print(line, flush=True)
    sys.exit(rc)


if __name__ == "__main__":
    main()
