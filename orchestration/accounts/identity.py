"""People who sign in through the service's identity provider (Streamlit's st.login, OpenID Connect):
their e-mail gives their role and unit through a mapping file. The file is data that an administrator
edits; it is validated on load, and an e-mail it does not map is refused.

    employees:              # optional: anyone at these domains not listed below
      domains: [essex-fire.gov.uk]
      role: viewer
      unit: ESX
    people:
      - {email: jane.smith@essex-fire.gov.uk, role: manager, unit: ESX-ESX-GM}
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, ValidationInfo, field_validator, model_validator

from orchestration.accounts.config import ROLES
from orchestration.accounts.store import AccountError, User, check_role_and_unit, known_services


class MappingFileError(ValueError):
    """The mapping file cannot be used (names the file and the entry)."""


class _Grant(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: str
    unit: str

    @model_validator(mode="after")
    def _known(self, info: ValidationInfo) -> _Grant:
        try:
            check_role_and_unit(self.role, self.unit, (info.context or {}).get("services"))
        except AccountError as exc:
            raise ValueError(str(exc)) from None
        return self


class Person(_Grant):
    email: str

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        value = value.strip().lower()
        if value.count("@") != 1 or value.startswith("@") or value.endswith("@"):
            raise ValueError(f"{value!r} is not an e-mail address")
        return value


class Employees(_Grant):
    domains: list[str]

    @field_validator("domains")
    @classmethod
    def _domains(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("list at least one domain")
        return [d.strip().lower().lstrip("@") for d in value]


class IdentityMapping(BaseModel):
    model_config = ConfigDict(extra="forbid")
    employees: Employees | None = None
    people: list[Person] = []

    @model_validator(mode="after")
    def _unique(self) -> IdentityMapping:
        seen: set[str] = set()
        for person in self.people:
            if person.email in seen:
                raise ValueError(f"{person.email} is listed twice")
            seen.add(person.email)
        return self

    def user_for(self, email: str) -> User | None:
        """The user an e-mail signs in as, or None when the mapping does not give it access."""
        email = (email or "").strip().lower()
        if not email:
            return None
        for person in self.people:
            if person.email == email:
                return User(email, person.role, person.unit)
        domain = email.rsplit("@", 1)[-1]
        if self.employees and "@" in email and domain in self.employees.domains:
            return User(email, self.employees.role, self.employees.unit)
        return None


def load_mapping(path: Path) -> IdentityMapping:
    path = Path(path)
    if not path.exists():
        raise MappingFileError(
            f"{path}: no identity mapping file (GT_OIDC_USER_MAP): nobody can sign in with the identity provider"
        )
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise MappingFileError(f"{path}: not valid YAML: {exc}") from None
    try:
        return IdentityMapping.model_validate(raw, context={"services": known_services()})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'file'}: {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors()
        )
        raise MappingFileError(f"{path}: {problems}") from None


def identity_email(claims: Mapping) -> str | None:
    """The e-mail in an OpenID Connect identity: ``email``, else Entra ID's ``preferred_username``.
    None when the provider says the address is not verified."""
    if claims.get("email_verified") is False:
        return None
    for key in ("email", "preferred_username", "upn"):
        value = claims.get(key)
        if isinstance(value, str) and "@" in value:
            return value.strip().lower()
    return None


__all__ = ["ROLES", "IdentityMapping", "MappingFileError", "Person", "identity_email", "load_mapping"]
