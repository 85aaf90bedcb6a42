"""Dagster resources, configured in one place from ``Settings``."""


from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb

from orchestration.settings import Settings
from orchestration.warehouse import connect


class WarehouseResource(dg.ConfigurableResource):
    """The pipeline's single writer on ``warehouse.duckdb`` and its data directory."""

    data_dir: str
    real_data_dir: str | None = None
    require_real_data: bool = False
    mappings_dir: str | None = None  # a service's own source mappings (GT_MAPPINGS_DIR)

    @classmethod
    def from_settings(cls, settings: Settings) -> "WarehouseResource":
        return cls(
            data_dir=str(settings.data_dir),
            real_data_dir=str(settings.real_data_dir) if settings.real_data_dir else None,
            require_real_data=settings.require_real_data,
            mappings_dir=str(settings.mappings_dir) if settings.mappings_dir else None,
        )

    @property
    def settings(self) -> Settings:
        base = Settings.from_env()
        return Settings(
            data_dir=Path(self.data_dir),
            real_data_dir=Path(self.real_data_dir) if self.real_data_dir else None,
            require_real_data=self.require_real_data,
            fault_rate=base.fault_rate,
            as_of=base.as_of,
            seed=base.seed,
            mappings_dir=Path(self.mappings_dir) if self.mappings_dir else None,
        )

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with connect(self.settings.warehouse_path) as con:
            yield con
