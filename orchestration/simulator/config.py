"""Simulator configuration: the run's parameters, the period it covers and seeded random streams."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from orchestration.ingestion.contracts import SYSTEMS
from orchestration.simulator.catalogue import DEMO_SERVICE_ID, ROSTER, ServiceSpec

Preset = Literal["demo", "national"]


@dataclass(frozen=True)
class SimulatorConfig:
    seed: int = 42
    services: int = 1
    years: int = 5
    as_of: dt.date = dt.date(2026, 11, 1)
    fault_rate: float = 0.0
    preset: Preset = "demo"

    @classmethod
    def national(cls, **overrides: object) -> SimulatorConfig:
        """Every English service in the roster, ten financial years."""
        return replace(cls(services=len(ROSTER), years=10, preset="national"), **overrides)

    def __post_init__(self) -> None:
        if self.seed < 0:
            raise ValueError("seed must be a non-negative integer")
        if not 1 <= self.services <= len(ROSTER):
            raise ValueError(f"services must be between 1 and {len(ROSTER)}")
        if self.years < 1:
            raise ValueError("years must be at least 1")
        if not 0.0 <= self.fault_rate < 1.0:
            raise ValueError("fault_rate must be in [0, 1)")
        if self.preset not in ("demo", "national"):
            raise ValueError(f"unknown preset {self.preset!r}")

    def selected_services(self) -> list[ServiceSpec]:
        """Demo puts Essex first; national keeps roster order. Either way the first N."""
        if self.preset == "demo":
            essex = [s for s in ROSTER if s.service_id == DEMO_SERVICE_ID]
            ordered = essex + [s for s in ROSTER if s.service_id != DEMO_SERVICE_ID]
        else:
            ordered = list(ROSTER)
        return ordered[: self.services]

    def period(self) -> Period:
        return Period.ending_before(self.as_of, self.years)


def fy_label(start_year: int) -> str:
    """2025 -> '2025-26'."""
    return f"{start_year}-{(start_year + 1) % 100:02d}"


def fy_of(day: dt.date) -> int:
    """Start year of the financial year (April-March) containing ``day``."""
    return day.year if day.month >= 4 else day.year - 1


@dataclass(frozen=True)
class Period:
    """The months simulated: ``years`` financial years up to the last complete month."""

    start: dt.date
    end: dt.date  # inclusive: last day of the last complete month, also the extract date
    as_of: dt.date

    @classmethod
    def ending_before(cls, as_of: dt.date, years: int) -> Period:
        end = as_of.replace(day=1) - dt.timedelta(days=1)
        start = dt.date(fy_of(end) - years + 1, 4, 1)
        return cls(start, end, as_of)

    @property
    def extract_date(self) -> dt.date:
        return self.end

    @property
    def months(self) -> list[tuple[int, int]]:
        out = []
        y, m = self.start.year, self.start.month
        while (y, m) <= (self.end.year, self.end.month):
            out.append((y, m))
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return out

    @property
    def financial_years(self) -> list[int]:
        return list(range(fy_of(self.start), fy_of(self.end) + 1))

    @property
    def days(self) -> np.ndarray:
        """Every day in the period as datetime64[D]."""
        return np.arange(np.datetime64(self.start, "D"), np.datetime64(self.end, "D") + 1)

    @property
    def n_days(self) -> int:
        return (self.end - self.start).days + 1


# Random streams: one per (seed, service, system) so that adding a service or a system never
# shifts the numbers drawn for another.
_STREAMS: dict[str, int] = {name: i for i, name in enumerate(SYSTEMS)} | {"faults": 100}


def rng_for(seed: int, service: ServiceSpec, stream: str) -> np.random.Generator:
    return np.random.Generator(
        np.random.PCG64(np.random.SeedSequence([seed, service.index, _STREAMS[stream]]))
    )
