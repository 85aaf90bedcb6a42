"""People who may read the app: local accounts, the identity provider's mapping, sign-in with
lock-out, and the audit trail of sign-ins and exports. Stored in GT_DATA_DIR/app_store/accounts.sqlite,
apart from the DuckDB files the pipeline replaces."""

from orchestration.accounts.config import ROLES, AuthConfig
from orchestration.accounts.store import AccountError, User

__all__ = ["ROLES", "AccountError", "AuthConfig", "User"]
