"""Writing owner commentary: the author is the signed-in person, never a typed name, and only the KPI's
owner (within scope) or the performance team may write. The store appends; nothing is overwritten."""

from __future__ import annotations

import commentary_store as store

from data_access.scope import require_commentary


def write_commentary(
    *,
    service_id: str,
    kpi_code: str,
    org_unit_id: str,
    period_month,
    commentary: str,
    action: str | None = None,
    action_owner: str | None = None,
    action_due_date=None,
) -> int:
    """Append one commentary row as the acting user; AccessDenied if its role or scope does not allow it."""
    user = require_commentary(kpi_code, org_unit_id, period_month)
    return store.add_commentary(
        service_id=service_id,
        kpi_code=kpi_code,
        org_unit_id=org_unit_id,
        period_month=period_month,
        author=user.name,
        commentary=commentary,
        action=action,
        action_owner=action_owner,
        action_due_date=action_due_date,
    )
