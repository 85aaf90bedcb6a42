"""Reads the app's append-only commentary store (SQLite) so the pipeline can ingest it like a source.

The Streamlit app writes GT_DATA_DIR/app_store/commentary.sqlite (apps/streamlit/commentary_store.py);
this module only reads it, read-only, and never holds the file open.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pandas as pd

from orchestration.ingestion.contracts import load_contracts

COMMENTARY_FILE = "commentary.sqlite"

# The commentary store is ingested like any source: through its contract (sources/contracts/app.yml),
# the ingestion log and quarantine. Authors and action owners are people, so they are pseudonymised.
(COMMENTARY_ENTITY,) = load_contracts().app_entities

# The store's columns are the contract's, in its order; the app's store (apps/streamlit/commentary_store.py)
# creates its table with this same list.
COMMENTARY_COLUMNS = [c.name for c in COMMENTARY_ENTITY.columns]


def commentary_path(app_store_dir: Path) -> Path:
    return Path(app_store_dir) / COMMENTARY_FILE


def read_commentary(store_path: Path) -> pd.DataFrame:
    """Every commentary row, oldest first, as stored.

    ``commentary_id`` is an integer; ``period_month`` and ``action_due_date`` are ISO dates and
    ``created_at`` an ISO 8601 UTC timestamp, all as text. A missing file gives an empty frame
    with the same columns.
    """
    store_path = Path(store_path)
    if not store_path.exists():
        dtypes = {c: "Int64" if c == "commentary_id" else "string" for c in COMMENTARY_COLUMNS}
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in dtypes.items()})
    with closing(sqlite3.connect(f"file:{store_path}?mode=ro", uri=True, timeout=10)) as con:
        df = pd.read_sql_query(
            f"select {', '.join(COMMENTARY_COLUMNS)} from commentary order by commentary_id", con
        )
    df["commentary_id"] = df["commentary_id"].astype("Int64")
    for col in COMMENTARY_COLUMNS[1:]:
        df[col] = df[col].astype("string")
    return df


# ----------------------------------------------------------------------------- ingestion


def commentary_read_result(store_path: Path):
    """The store as a ReadResult for the engine: every value text, row number = commentary_id."""
    from orchestration.ingestion.readers import ROW_COLUMN, ReadResult

    frame = read_commentary(store_path)
    records = frame.astype(object).where(frame.notna(), None)
    for column in COMMENTARY_COLUMNS:
        records[column] = [None if v is None else str(v) for v in records[column]]
    records[ROW_COLUMN] = frame["commentary_id"].astype("int64").to_numpy() if len(frame) else []
    return ReadResult(list(COMMENTARY_COLUMNS), records.reset_index(drop=True))
