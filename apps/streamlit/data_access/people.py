"""The audit trail of people (sign-ins, failures, lock-outs, exports) from the accounts file: not the
serving database, which the pipeline replaces."""

from __future__ import annotations

import pandas as pd

from data_access import scope
from orchestration.accounts.config import AuthConfig
from orchestration.accounts.store import list_events

# Who may read the trail: it names people. Role scoping of the figures is the data access's job elsewhere.
AUDIT_READERS = tuple(role for role, caps in scope.CAN.items() if scope.PEOPLE in caps)


def audit_events(limit: int = 500) -> pd.DataFrame:
    """The latest sign-in and export events, newest first: occurred_at, user_name, event, detail."""
    scope.require(scope.PEOPLE)
    return list_events(AuthConfig.from_env().accounts_path, limit=limit)
