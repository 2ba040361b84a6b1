"""The access vocabulary: roles people hold, scopes tokens carry, and which scopes each role implies.

A user's effective scopes come from their roles; a machine client's scopes are granted to it directly.
"""
from __future__ import annotations

from collections.abc import Iterable

OPERATOR, SUPERVISOR, QA, ENGINEER, FINANCE, ADMIN, PARTNER = (
    "OPERATOR", "SUPERVISOR", "QA", "ENGINEER", "FINANCE", "ADMIN", "PARTNER")
ROLES = frozenset({OPERATOR, SUPERVISOR, QA, ENGINEER, FINANCE, ADMIN, PARTNER})

TRIGGERS_WRITE = "triggers:write"
INVENTORY_WRITE = "inventory:write"
GENEALOGY_READ = "genealogy:read"
MASTERDATA_WRITE = "masterdata:write"
RULES_WRITE = "rules:write"
SIGNATURES_SIGN = "signatures:sign"
REPORTS_READ = "reports:read"
PRODUCTION_READ = "production:read"  # work orders, items, BOMs, triggers
PRODUCTION_WRITE = "production:write"  # create, release and close work orders
AUDIT_READ = "audit:read"
RULES_READ = "rules:read"
ADMIN_SCOPE = "admin"
SCOPES = frozenset({
    TRIGGERS_WRITE, INVENTORY_WRITE, GENEALOGY_READ, MASTERDATA_WRITE, RULES_WRITE, SIGNATURES_SIGN, REPORTS_READ,
    PRODUCTION_READ, PRODUCTION_WRITE, AUDIT_READ, RULES_READ, ADMIN_SCOPE,
})

# Signing is a person's act (Part 11 §11.200): no client may ever be granted it.
USER_ONLY_SCOPES = frozenset({SIGNATURES_SIGN})

ROLE_SCOPES: dict[str, frozenset[str]] = {
    OPERATOR: frozenset({TRIGGERS_WRITE, INVENTORY_WRITE, GENEALOGY_READ, SIGNATURES_SIGN, PRODUCTION_READ}),
    SUPERVISOR: frozenset({TRIGGERS_WRITE, INVENTORY_WRITE, GENEALOGY_READ, SIGNATURES_SIGN, REPORTS_READ,
                           PRODUCTION_READ, PRODUCTION_WRITE, AUDIT_READ, RULES_READ}),
    QA: frozenset({GENEALOGY_READ, RULES_WRITE, RULES_READ, SIGNATURES_SIGN, REPORTS_READ, PRODUCTION_READ,
                   INVENTORY_WRITE, AUDIT_READ}),
    ENGINEER: frozenset({MASTERDATA_WRITE, GENEALOGY_READ, SIGNATURES_SIGN, REPORTS_READ, PRODUCTION_READ,
                         RULES_READ}),
    FINANCE: frozenset({REPORTS_READ, GENEALOGY_READ, SIGNATURES_SIGN, PRODUCTION_READ, AUDIT_READ}),
    ADMIN: SCOPES,
    # Partners (suppliers, customers) look at the genealogy of what they shipped or received, nothing more.
    PARTNER: frozenset({GENEALOGY_READ}),
}

ALL_SITES = "*"


def scopes_for_roles(roles: Iterable[str]) -> frozenset[str]:
    granted: set[str] = set()
    for role in roles:
        granted |= ROLE_SCOPES.get(role, frozenset())
    return frozenset(granted)


def known_roles(roles: Iterable[str]) -> frozenset[str]:
    """Keep only roles of our vocabulary; an identity provider may send any group names."""
    return frozenset(role for role in roles if role in ROLES)


def parse_scope(scope: str | Iterable[str] | None) -> frozenset[str]:
    if scope is None:
        return frozenset()
    if isinstance(scope, str):
        return frozenset(scope.split())
    return frozenset(scope)


def format_scope(scopes: Iterable[str]) -> str:
    return " ".join(sorted(scopes))


def narrow_sites(first: Iterable[str], second: Iterable[str]) -> frozenset[str]:
    """The sites both grants reach; "*" reaches every site."""
    first, second = frozenset(first), frozenset(second)
    if ALL_SITES in first:
        return second
    if ALL_SITES in second:
        return first
    return first & second
