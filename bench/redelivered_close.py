"""A monthly close measured on a warehouse the benchmark has already built (``--keep``): every
monthly extract for the month being closed is landed again as a re-delivery (``_r2``, or ``_r3``
on a second measurement: the same records in reverse order, so a new file with the same content),
then the job runs for that month's partition. The close ingests, checks and recomputes one month for every service, the
work of a real close, without simulating the whole preset a second time.

    python -m bench.redelivered_close --data-dir <work-dir>/national [--as-of 2026-11-01]

Figures are taken exactly as the harness takes them (``bench.process.spawn``) and written beside the
data directory as ``redelivered_close.json``.
"""

import argparse
import datetime as dt
import json
from pathlib import Path

from bench.process import spawn, stage_env
from bench.sizes import DEFAULT_AS_OF, month_label


def redeliver(landing: Path, month: str) -> int:
    """Land every monthly extract for ``month`` (YYYY-MM) again as its next revision (``_r2``, or
    ``_r3`` when the close was measured before, and so on); return how many."""
    count = 0
    for path in sorted(landing.rglob(f"*_{month}.*")):
        revision = 2
        while (target := path.with_name(f"{path.stem}_r{revision}{path.suffix}")).exists():
            revision += 1
        lines = path.read_text(encoding="utf-8").splitlines()
        head, body = (lines[:1], lines[1:]) if path.suffix == ".csv" else ([], lines)
        target.write_text("\n".join(head + body[::-1]) + "\n", encoding="utf-8")
        count += 1
    return count


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.redelivered_close", description=__doc__)
    p.add_argument("--data-dir", type=Path, required=True)
    p.add_argument("--as-of", type=dt.date.fromisoformat, default=DEFAULT_AS_OF)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--keep-dbt-target", action="store_true", help="keep dbt's target folder (run_results.json)")
    args = p.parse_args(argv)
    month = month_label(args.as_of)
    files = redeliver(args.data_dir / "landing", month)
    spec = {"data_dir": str(args.data_dir), "as_of": args.as_of.isoformat(), "dagster_instance": "persistent",
            "keep_dbt_target": args.keep_dbt_target}
    env = stage_env(args.data_dir, args.as_of, args.seed, real_data=True)
    result = spawn("pipeline", spec, env, args.data_dir.parent / "redelivered_close.log")
    result["redelivered"] = {"month": month, "files": files}
    out = args.data_dir.parent / "redelivered_close.json"
    out.write_text(json.dumps(result, indent=2, default=str))
    print(f"{files} extracts re-delivered for {month}; close {result['process']['wall_s']:.1f} s, "
          f"peak {result['process']['peak_rss_mib']:.0f} MiB, success {result.get('success')}")
    print(json.dumps(result.get("phases"), indent=1))
    print(f"written {out}")
    return 0 if result.get("success") else 1


if __name__ == "__main__":
    raise SystemExit(main())
