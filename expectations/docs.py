"""GX Data Docs, a by-product: a trimmed copy of each validation kept in a file GX context under
``data_dir/gx`` (``keep_for_docs``), and the HTML pages built from those copies (``build_data_docs``).

The copy keeps the counts and the 20-row partial lists, not the one-entry-per-failing-row lists
(the warehouse's ``audit.dq_*`` tables are the record). Offline the pages render without their CDN
styles.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from expectations import gx_adapter
from expectations.gx_adapter import BULKY, docs_context
from expectations.results import SuiteResult
from expectations.suites.base import Suite


def keep_for_docs(data_dir: Path, suite: Suite, outcome: Any, result: SuiteResult) -> None:
    """Keep ``suite`` and the GX suite result ``outcome`` (trimmed) for Data Docs under ``data_dir/gx``."""
    context = docs_context(data_dir)
    gx_adapter.save_suite(context, gx_adapter.gx_suite(suite))
    for r in outcome.results:
        for k in BULKY:
            r.result.pop(k, None)
    outcome.meta["run_id"] = result.run_id
    outcome.meta["batch_label"] = result.batch_label
    batch_id = re.sub(r"[^A-Za-z0-9_.-]+", "_", result.batch_label)[:120] or "batch"
    gx_adapter.store_validation_result(
        context,
        outcome,
        suite.name,
        run_name=f"{result.run_id}-{result.validation_id[:8]}",
        run_time=result.finished_at,
        batch=batch_id,
    )


def build_data_docs(data_dir: Path, run_id: str | None = None) -> Path:
    """Build GX Data Docs under ``data_dir/docs`` from the results kept by ``validate(..., data_dir=…)``:
    the pages of pipeline run ``run_id``'s validations and the index, or every page when ``run_id``
    is None. Earlier runs' pages are already on disk, and rendering them all again took 45 s of
    each national close, growing with every run kept.

    Offline the pages render without their CDN styles; the warehouse tables stay the record.
    Returns the index page.
    """
    data_dir = Path(data_dir)
    context = docs_context(data_dir)
    site = {
        "class_name": "SiteBuilder",
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(data_dir / "docs")},
    }
    sites = context.list_data_docs_sites()
    if "golden_thread" in sites:
        context.update_data_docs_site("golden_thread", site)
    else:
        context.add_data_docs_site("golden_thread", site)
    pages = None
    if run_id is not None:
        # Each validation is stored under the run name "<pipeline run id>-<validation id[:8]>".
        pages = [
            key
            for key in context.validation_results_store.list_keys()
            if key.run_id.run_name.startswith(f"{run_id}-")
        ]
    context.build_data_docs(site_names=["golden_thread"], resource_identifiers=pages)
    return data_dir / "docs" / "index.html"
