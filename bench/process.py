"""Runs one stage in a fresh Python process and measures it from outside: wall time, the peak
resident memory of its whole process tree (sampled every 0.2 s, so the dbt subprocess counts), the
CPU other processes used meanwhile, and the load average around it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        kids.setdefault(ppid, []).append(int(entry.name))
    return kids


def _tree_rss_bytes(pid: int) -> int:
    kids = _children()
    total, todo = 0, [pid]
    page = os.sysconf("SC_PAGE_SIZE")
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/statm") as f:
                total += int(f.read().split()[1]) * page
        except (OSError, IndexError, ValueError):
            pass
        todo.extend(kids.get(p, []))
    return total


class TreeSampler(threading.Thread):
    """Samples the RSS of a process and all its descendants; keeps the peak."""

    def __init__(self, pid: int, interval: float = 0.2):
        super().__init__(daemon=True)
        self.pid, self.interval, self.peak = pid, interval, 0
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            self.peak = max(self.peak, _tree_rss_bytes(self.pid))
            self._halt.wait(self.interval)

    def stop(self) -> int:
        self._halt.set()
        self.join()
        return self.peak


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _busy_cpu_s() -> float | None:
    """CPU seconds the whole machine has spent busy since boot (all CPUs, /proc/stat)."""
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def spawn(stage: str, spec: dict, env: dict, log_path: Path) -> dict:
    """Run one stage in a fresh process; return its result with wall time, peak RSS and load."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as tmp:
        result_path = Path(tmp.name)
    load_before = load_average()
    busy_before = _busy_cpu_s()
    started = time.perf_counter()
    with open(log_path, "a") as log:
        log.write(f"\n===== {stage} {json.dumps(spec)}\n")
        log.flush()
        proc = subprocess.Popen(
            [sys.executable, "-m", "bench.run", "_worker", stage, json.dumps(spec), str(result_path)],
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        sampler = TreeSampler(proc.pid)
        sampler.start()
        code = proc.wait()
        peak = sampler.stop()
    wall = time.perf_counter() - started
    busy_after = _busy_cpu_s()
    try:
        result = json.loads(result_path.read_text())
    except (OSError, json.JSONDecodeError):
        result = {"error": f"stage {stage} exited {code} without a result (see {log_path})"}
    finally:
        result_path.unlink(missing_ok=True)
    rusage = result.get("rusage", {})
    machine_busy = busy_after - busy_before if busy_after is not None and busy_before is not None else None
    result["process"] = {
        # CPU the stage used, and CPU other processes used on the machine meanwhile (noise).
        "cpu_s": rusage.get("cpu_s"),
        "other_cpu_s": round(max(0.0, machine_busy - rusage.get("cpu_s", 0)), 2) if machine_busy else None,
        "wall_s": round(wall, 3),
        "exit_code": code,
        "peak_rss_tree_mib": round(peak / 2**20, 1),
        "peak_rss_mib": round(
            max(peak / 2**20, rusage.get("maxrss_self_mib", 0), rusage.get("maxrss_children_mib", 0)), 1
        ),
        "load_before": load_before,
        "load_after": load_average(),
    }
    return result


def stage_env(data_dir: Path, as_of: dt.date, seed: int, real_data: bool) -> dict:
    env = dict(os.environ)
    env.update(
        GT_DATA_DIR=str(data_dir),
        DAGSTER_HOME=str(data_dir / "dagster_home"),
        GT_AS_OF=as_of.isoformat(),
        GT_SEED=str(seed),
        DO_NOT_TRACK="1",
        GX_ANALYTICS_ENABLED="false",
        DAGSTER_DISABLE_TELEMETRY="1",
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")])),
    )
    if not real_data:
        env["GT_REAL_DATA_DIR"] = str(data_dir / "no-real-data")  # a folder that does not exist
    return env
