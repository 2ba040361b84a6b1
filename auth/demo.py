"""Demo identities: one user per role and one machine integration, with well-known demo secrets.

For trying the API on a laptop only — `seed-demo` says so loudly; never run it against production.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from sqlmodel import col

from auth import admin
from auth.passwords import hash_password
from auth.scopes import ROLES
from models import OAuthClient, User

DEMO_PASSWORD = "backflush-demo"  # every demo user's password
DEMO_CLIENT_ID = "line-integration"
DEMO_CLIENT_SECRET = "line-integration-demo-secret"
DEMO_CLIENT_SCOPES = ["triggers:write", "inventory:write", "production:read", "genealogy:read"]
# A public app for people signing in from a shell (code + PKCE): the README's walk-through signs a reversal with it.
DEMO_SHELL_CLIENT_ID = "demo-shell"
DEMO_SHELL_REDIRECT_URI = "http://127.0.0.1/demo-callback"
DEMO_SHELL_SCOPES = ["triggers:write", "production:read", "genealogy:read", "signatures:sign"]


def seed_demo_identities(sessions: sessionmaker[Session], site: str) -> list[str]:
    """Create what is missing, with access to the demo plant `site`, and say how to sign in; idempotent."""
    with sessions() as session:
        for role in sorted(ROLES):
            username = role.lower()
            if session.scalar(select(col(User.id)).where(col(User.username) == username)) is None:
                admin.create_user(session, username=username, display_name=f"Demo {role.title()}",
                                  password=DEMO_PASSWORD, roles=[role], sites=[site])
        if session.scalar(select(col(OAuthClient.id)).where(col(OAuthClient.client_id) == DEMO_CLIENT_ID)) is None:
            admin.create_client(session, client_id=DEMO_CLIENT_ID, name="Demo line integration",
                                scopes=DEMO_CLIENT_SCOPES, sites=[site], grant_types=["client_credentials"])
            client = session.scalars(select(OAuthClient).where(col(OAuthClient.client_id) == DEMO_CLIENT_ID)).one()
            client.client_secret_hash = hash_password(DEMO_CLIENT_SECRET)  # well known, for the README's curl
        shell_client = select(col(OAuthClient.id)).where(col(OAuthClient.client_id) == DEMO_SHELL_CLIENT_ID)
        if session.scalar(shell_client) is None:
            admin.create_client(session, client_id=DEMO_SHELL_CLIENT_ID, name="Demo shell sign-in",
                                scopes=DEMO_SHELL_SCOPES, sites=[site], grant_types=["authorization_code"],
                                redirect_uris=[DEMO_SHELL_REDIRECT_URI], public=True)
        session.commit()
    return [
        "DEMO ONLY — well-known credentials, never use them in production:",
        f"  users: {', '.join(r.lower() for r in sorted(ROLES))} (password '{DEMO_PASSWORD}', site {site})",
        f"  machine client: {DEMO_CLIENT_ID} / {DEMO_CLIENT_SECRET} (scopes {' '.join(DEMO_CLIENT_SCOPES)})",
        f"  sign-in app for people: {DEMO_SHELL_CLIENT_ID} (public, code + PKCE, redirect {DEMO_SHELL_REDIRECT_URI})",
    ]
