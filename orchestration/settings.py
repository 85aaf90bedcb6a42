"""Run-time configuration, read from the environment in one place.

Every other module receives a ``Settings`` object rather than reading ``os.environ``.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def dbt_project_dir(env: dict[str, str] | None = None) -> Path:
    """The dbt project the pipeline builds: ``dbt_project/`` beside this package, or
    ``GT_DBT_PROJECT_DIR`` (a copy of it, for a test that changes a definition)."""
    env = os.environ if env is None else env
    return Path(env.get("GT_DBT_PROJECT_DIR") or REPO_ROOT / "dbt_project").resolve()


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    real_data_dir: Path | None  # None when the folder is absent
    require_real_data: bool
    fault_rate: float
    as_of: dt.date
    seed: int
    # A service's own source mappings (``<dir>/<service>/<system>.yml``), beside the shipped ones.
    mappings_dir: Path | None = None
    # The map page: the service's ward boundaries (GeoJSON), the feature property holding the ward
    # code, and a raster tile URL template for the base map (None: no base map, nothing fetched).
    ward_boundaries_path: Path | None = None
    ward_code_property: str = "ward_code"
    map_tile_url: str | None = None

    @property
    def landing_dir(self) -> Path:
        return self.data_dir / "landing"

    @property
    def warehouse_path(self) -> Path:
        return self.data_dir / "warehouse.duckdb"

    @property
    def serving_path(self) -> Path:
        return self.data_dir / "serving.duckdb"

    @property
    def ward_boundaries_file(self) -> Path:
        return self.ward_boundaries_path or self.data_dir / "reference" / "ward_boundaries.geojson"

    @property
    def secrets_dir(self) -> Path:
        return self.data_dir / "secrets"

    @property
    def app_store_dir(self) -> Path:
        return self.data_dir / "app_store"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        data_dir = Path(env.get("GT_DATA_DIR") or REPO_ROOT / "data").resolve()
        real = Path(env.get("GT_REAL_DATA_DIR") or REPO_ROOT.parent / "shared" / "data" / "real")
        return cls(
            data_dir=data_dir,
            real_data_dir=real.resolve() if real.is_dir() else None,
            require_real_data=env.get("REQUIRE_REAL_DATA", "") in {"1", "true", "yes"},
            fault_rate=float(env.get("GT_FAULT_RATE") or 0.0),
            as_of=dt.date.fromisoformat(env.get("GT_AS_OF") or "2026-11-01"),
            seed=int(env.get("GT_SEED") or 42),
            mappings_dir=Path(env["GT_MAPPINGS_DIR"]).expanduser().resolve() if env.get("GT_MAPPINGS_DIR") else None,
            ward_boundaries_path=(
                Path(env["GT_WARD_BOUNDARIES"]).expanduser().resolve() if env.get("GT_WARD_BOUNDARIES") else None
            ),
            ward_code_property=(env.get("GT_WARD_CODE_PROPERTY") or "ward_code").strip(),
            map_tile_url=(env.get("GT_MAP_TILE_URL") or "").strip() or None,
        )


# DuckDB's buffer pool defaults to 80% of RAM. At national scale that let one pipeline run reach
# 17 GiB. A cap makes DuckDB spill to a temporary file beside the database instead. dbt's
# profile (dbt_project/profiles.yml) reads the same variable.
MEMORY_LIMIT_ENV = "GT_DUCKDB_MEMORY_LIMIT"
DEFAULT_MEMORY_LIMIT = "2GB"


def duckdb_config(env: dict[str, str] | None = None) -> dict[str, str]:
    """Connection settings every pipeline connection to the warehouse uses."""
    env = os.environ if env is None else env
    return {"memory_limit": env.get(MEMORY_LIMIT_ENV) or DEFAULT_MEMORY_LIMIT}
