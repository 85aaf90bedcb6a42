"""Command line: ``python -m orchestration.simulator --landing-dir DIR [options]``."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from dataclasses import replace
from pathlib import Path

from orchestration.simulator.config import SimulatorConfig
from orchestration.simulator.generate import generate


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m orchestration.simulator", description=__doc__)
    p.add_argument("--landing-dir", type=Path, required=True)
    p.add_argument("--preset", choices=("demo", "national"), default="demo")
    p.add_argument("--seed", type=int)
    p.add_argument("--services", type=int)
    p.add_argument("--years", type=int)
    p.add_argument("--as-of", type=dt.date.fromisoformat)
    p.add_argument(
        "--fault-rate",
        type=float,
        help="probability a record gets a fault (default: $GT_FAULT_RATE or 0)",
    )
    return p.parse_args(argv)


def config_from_args(args: argparse.Namespace) -> SimulatorConfig:
    base = SimulatorConfig.national() if args.preset == "national" else SimulatorConfig()
    fault_rate = args.fault_rate
    if fault_rate is None:
        fault_rate = float(os.environ.get("GT_FAULT_RATE") or 0)
    overrides = {
        k: v
        for k, v in (
            ("seed", args.seed),
            ("services", args.services),
            ("years", args.years),
            ("as_of", args.as_of),
        )
        if v is not None
    }
    return replace(base, fault_rate=fault_rate, **overrides)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    config = config_from_args(args)
    summary = generate(config, args.landing_dir)
    for system, entities in summary["rows"].items():
        parts = ", ".join(f"{name} {n:,}" for name, n in entities.items())
        print(f"{system:<13} {summary['files'][system]:>5} files  {parts}")
    faults = sum(summary["faults"].values())
    manifest = args.landing_dir / "_simulator" / "fault_manifest.json"
    print(f"{'faults':<13} {faults:>5} injected  (manifest: {manifest})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
