"""Users, OAuth clients, codes, refresh tokens and signing keys (SPEC §8)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON
from sqlmodel import Field, SQLModel

from models.types import UtcDateTime, utcnow


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=120, unique=True)
    display_name: str = Field(max_length=200)
    password_hash: str = Field(max_length=255)
    roles: list = Field(default_factory=list, sa_type=JSON)
    sites: list = Field(default_factory=list, sa_type=JSON)
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class AccountLock(SQLModel, table=True):
    """An account locked by repeated wrong passwords at the login form; only an administrator lifts it."""

    user_id: int = Field(foreign_key="user.id", primary_key=True)
    locked_at: datetime = Field(sa_type=UtcDateTime)


class SignInFailure(SQLModel, table=True):
    """A wrong password at the login form, by the user name typed (known or not) and the client address."""

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=120, index=True)
    address: str = Field(max_length=64, index=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime, index=True)


class SignatureFailure(SQLModel, table=True):
    """Failed re-authentications at signing: five in fifteen minutes lock signing for the user."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class OAuthClient(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    client_id: str = Field(max_length=120, unique=True)
    client_secret_hash: str | None = Field(default=None, max_length=255)
    name: str = Field(max_length=200)
    scopes: list = Field(default_factory=list, sa_type=JSON)
    sites: list = Field(default_factory=list, sa_type=JSON)
    grant_types: list = Field(default_factory=list, sa_type=JSON)
    redirect_uris: list = Field(default_factory=list, sa_type=JSON)
    token_endpoint_auth_method: str = Field(default="client_secret_basic", max_length=40)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class AuthorizationCode(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=120, unique=True)
    client_id: str = Field(max_length=120)
    user_id: int = Field(foreign_key="user.id")
    redirect_uri: str = Field(max_length=500)
    scope: str = Field(max_length=500)
    code_challenge: str | None = Field(default=None, max_length=200)
    code_challenge_method: str | None = Field(default=None, max_length=10)
    auth_time: datetime = Field(sa_type=UtcDateTime)
    expires_at: datetime = Field(sa_type=UtcDateTime)
    used: bool = False


class RefreshToken(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    # Every token rotated from one sign-in shares its family: replaying a spent one revokes them all.
    family_id: str = Field(max_length=64, index=True)
    client_id: str = Field(max_length=120)
    user_id: int | None = Field(default=None, foreign_key="user.id")
    scope: str = Field(max_length=500)
    auth_time: datetime = Field(sa_type=UtcDateTime)
    expires_at: datetime = Field(sa_type=UtcDateTime)
    revoked: bool = False


class SigningKey(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    kid: str = Field(max_length=80, unique=True)
    private_jwk: dict = Field(sa_type=JSON)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    retired_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
