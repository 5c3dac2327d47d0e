"""Run one command and report its wall time, CPU and the peak RSS of its whole process tree.

Run: ``python -m benchmarks.tree_run [--interval 0.5] [--log FILE] -- COMMAND ...``.

``/usr/bin/time -v`` reports the peak of the process it starts only; a Spark command's JVM (and
its Python workers) are children of that process, so their memory is not in it. This samples
``/proc`` every ``--interval`` seconds and prints, as one JSON line: the wall seconds, the exit
code, the peak RSS of the process itself (its VmHWM, read in the last sample), of the tree
(the sum over the process and all its live descendants), of the tree's ``java`` processes (the
JVM) and of its Python processes (by executable: a console script such as ``sales-analytics``
counts as Python), the tree's CPU seconds (user + system, including reaped
children), and the 1-minute load average at the start and the end.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time


def _processes() -> dict[int, tuple[int, str, int, float, int]]:
    """pid -> (parent, executable name, RSS bytes, CPU s incl. reaped children, VmHWM bytes)."""
    tick = os.sysconf("SC_CLK_TCK")
    out: dict[int, tuple[int, str, int, float, int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as f:
                head, tail = f.read().rsplit(")", 1)
            with open(f"/proc/{entry.name}/status") as f:
                status = {k: v for k, _, v in (line.partition(":") for line in f)}
        except OSError:
            continue
        stat = tail.split()
        try:  # the executable's name: a console script's comm is the script's, not python's
            name = os.path.basename(os.readlink(f"/proc/{entry.name}/exe"))
        except OSError:
            name = head.split("(", 1)[1]
        rss, hwm = (int(status.get(k, "0 kB").split()[0]) * 1024 for k in ("VmRSS", "VmHWM"))
        out[int(entry.name)] = (
            int(stat[1]), name, rss, sum(int(x) for x in stat[11:15]) / tick, hwm,
        )  # fmt: skip
    return out


def sample(root: int) -> dict[str, float]:
    """RSS of the tree under ``root`` (total, java, python), its CPU and the root's VmHWM."""
    procs = _processes()
    tree, frontier = {root}, {root}
    while frontier:
        frontier = {p for p, v in procs.items() if v[0] in frontier and p not in tree}
        tree |= frontier
    live = [procs[p] for p in tree if p in procs]
    return {
        "tree": sum(v[2] for v in live),
        "java": sum(v[2] for v in live if v[1] == "java"),
        "python": sum(v[2] for v in live if v[1].startswith("python")),
        "cpu": sum(v[3] for v in live),
        "hwm": procs[root][4] if root in procs else 0,
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--interval", type=float, default=0.5)
    parser.add_argument("--log", help="append the JSON line to this file too")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    proc = subprocess.Popen(command)
    peak = {"tree": 0, "java": 0, "python": 0, "cpu": 0.0, "hwm": 0}
    done = threading.Event()

    def run() -> None:
        while not done.is_set():
            s = sample(proc.pid)
            peak.update({k: max(peak[k], s[k]) for k in peak})
            done.wait(args.interval)

    sampler = threading.Thread(target=run, daemon=True)
    sampler.start()
    # the last sample before the process is reaped: wait without reaping (waitid WNOWAIT)
    os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)
    done.set()
    sampler.join()
    s = sample(proc.pid)  # a zombie: its CPU (and reaped children's) is still in /proc
    peak["cpu"] = max(peak["cpu"], s["cpu"])
    code = proc.wait()
    result = {
        "command": " ".join(command), "exit": code, "wall_s": round(time.perf_counter() - t0, 1),
        "cpu_s": round(peak["cpu"], 1), "process_hwm_mb": round(peak["hwm"] / 2**20),
        "tree_peak_mb": round(peak["tree"] / 2**20), "java_peak_mb": round(peak["java"] / 2**20),
        "python_peak_mb": round(peak["python"] / 2**20),
        "load_start": load0, "load_end": os.getloadavg()[0],
    }  # fmt: skip
    line = json.dumps(result)
    print(line, file=sys.stderr)
    if args.log:
        with open(args.log, "a") as f:
            f.write(line + "\n")
    return result


if __name__ == "__main__":
    main()
