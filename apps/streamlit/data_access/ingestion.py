"""What ingestion took in, loaded and quarantined (audit.ingestion_log, audit.quarantine)."""

from __future__ import annotations

import pandas as pd

from data_access import scope
from data_access.connection import query


def ingestion_by_system() -> pd.DataFrame:
    scope.require(scope.ASSURANCE)
    return query(
        """
        select system,
               count(*) as files,
               sum(rows_received) as rows_received,
               sum(rows_loaded) as rows_loaded,
               sum(rows_quarantined) as rows_quarantined,
               count(*) filter (where status = 'refused') as files_refused,
               bool_and(rows_received = rows_loaded + rows_quarantined) as reconciles,
               max(finished_at) as last_loaded_at
        from audit.ingestion_log
        group by system
        order by system
        """
    )


def ingestion_files(system: str | None = None) -> pd.DataFrame:
    scope.require(scope.ASSURANCE)
    return query(
        """
        select batch_id, system, entity, service_id, file_name, period, revision, encoding,
               rows_received, rows_loaded, rows_quarantined, status, message, warnings,
               started_at, finished_at
        from audit.ingestion_log
        where ? is null or system = ?
        order by batch_id desc
        """,
        [system, system],
    )


def quarantine_sample(system: str | None = None, limit: int = 500) -> pd.DataFrame:
    scope.require(scope.ASSURANCE)
    rows = query(
        """
        select system, entity, service_id, file_name, row_number, reason, raw_text
        from audit.quarantine
        where ? is null or system = ?
        order by file_name, row_number
        limit ?
        """,
        [system, system, limit],
    )
    scope.record_view(f"quarantined rows of {system or 'every system'}", len(rows))
    return rows


def quarantine_reasons(system: str | None = None) -> pd.DataFrame:
    # The reason's leading clause ("column x: ...") groups like faults together.
    scope.require(scope.ASSURANCE)
    return query(
        """
        select system, split_part(reason, ':', 1) as rule, count(*) as rows
        from audit.quarantine
        where ? is null or system = ?
        group by all
        order by rows desc
        """,
        [system, system],
    )
