"""Dagster asset for partner extracts: files only for datasets under an active agreement.

It runs in its own job (``partner_extracts``), after a publish, so that a routine pipeline run
does not send data anywhere; every extract and refusal is logged in ``audit.sharing_log``.
"""

import datetime as dt

import dagster as dg

from orchestration.resources import WarehouseResource
from orchestration.sharing.extract import share_for_all_active_partners

SHARING_KEY = dg.AssetKey(["sharing", "partner_extracts"])


@dg.asset(
    key=SHARING_KEY,
    group_name="sharing",
    deps=[dg.AssetKey(["serving", "serving_database"])],
    kinds={"csv"},
    description=(
        "Partner extracts under data/shared/<partner>/<date>/: aggregates from serving.duckdb with "
        "disclosure control, one folder per partner with an active information sharing agreement."
    ),
)
def partner_extracts(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    settings = warehouse.settings
    with warehouse.connect() as con:
        written = share_for_all_active_partners(
            settings.serving_path, settings.data_dir / "shared", dt.date.today(), con
        )
    files = {partner: len(paths) for partner, paths in written.items()}
    context.log.info(f"extract files written per partner: {files}")
    return dg.MaterializeResult(metadata={"partners": len(files), "files": sum(files.values())})
