"""What a benchmark is run at: a size (services × years, or the national preset) and the months
the build and the monthly close report.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
from dataclasses import dataclass

DEFAULT_AS_OF = dt.date(2026, 11, 1)


@dataclass(frozen=True)
class Size:
    services: int
    years: int
    preset: str = "demo"

    @property
    def label(self) -> str:
        return "national" if self.preset == "national" else f"{self.services}x{self.years}"

    @classmethod
    def parse(cls, text: str) -> Size:
        text = text.strip().lower()
        if text == "national":
            from orchestration.simulator import SimulatorConfig

            cfg = SimulatorConfig.national()
            return cls(cfg.services, cfg.years, "national")
        m = re.fullmatch(r"(\d+)x(\d+)", text)
        if not m:
            raise argparse.ArgumentTypeError(f"size {text!r} is not <services>x<years> or 'national'")
        return cls(int(m.group(1)), int(m.group(2)))


def next_month(day: dt.date) -> dt.date:
    return dt.date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def month_label(as_of: dt.date) -> str:
    """The last complete month before ``as_of`` as YYYY-MM (the month a close delivers)."""
    last = as_of.replace(day=1) - dt.timedelta(days=1)
    return f"{last.year}-{last.month:02d}"
