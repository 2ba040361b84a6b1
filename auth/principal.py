"""Who is asking: a user or a machine client, with roles, scopes and the sites it may see."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Principal:
    subject: str  # "user:<username>" or "client:<client_id>"; what audit rows record
    name: str  # printed name on signatures
    kind: str  # "user" or "client"
    roles: frozenset[str] = frozenset()
    scopes: frozenset[str] = frozenset()
    sites: frozenset[str] = frozenset()  # site codes; "*" means every site
    user_id: int | None = None
    auth_time: int | None = None  # epoch seconds the user last authenticated (JWT auth_time)
    issuer: str | None = None  # None for the embedded authorization server
    claims: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def is_user(self) -> bool:
        return self.kind == "user"

    def sees_site(self, site_code: str) -> bool:
        return "*" in self.sites or site_code in self.sites

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes or "admin" in self.scopes

    def has_any_role(self, *roles: str) -> bool:
        return "ADMIN" in self.roles or any(role in self.roles for role in roles)


# The only principal the system acts as on its own (migrations, seed data, shipped defaults).
SYSTEM = Principal(
    subject="system", name="Backflush system", kind="system",
    roles=frozenset({"ADMIN"}), scopes=frozenset({"admin"}), sites=frozenset({"*"}),
)


class Unauthenticated(Exception):
    """No valid credentials: the API answers HTTP 401 with WWW-Authenticate."""

    def __init__(self, reason: str = "missing or invalid access token"):
        super().__init__(reason)
        self.reason = reason
