"""Settings read from the environment once, by whoever builds the app or runs a command.

One typed object holds every BACKFLUSH_* variable the service reads, the identity settings included
(`Settings.auth`); the README's configuration table lists each one, and a test keeps the two in step.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from kernel.auth_settings import AuthConfig

DEFAULT_DATABASE_URL = "sqlite:///backflush.db"


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    # Production switches these off; GraphiQL and introspection help the front-end teams in dev.
    graphiql: bool = True
    introspection: bool = True
    max_query_depth: int = 12
    # Abuse limits (docs/security.md): what one request may ask, and how often one caller may ask.
    max_aliases: int = 50
    max_tokens: int = 1000  # GraphQL Armor's default; GraphiQL's introspection query has 183
    max_query_cost: int = 10_000
    default_first: int = 100  # what the cost budget assumes a list field returns when `first` is not given
    query_timeout_seconds: float = 30.0
    max_body_bytes: int = 1_048_576
    rate_limit: str = "1200/minute"  # per token subject; the `limits` notation, e.g. "20/second;1000/hour"
    rate_limit_storage: str = "memory://"  # per process; redis://host:6379 shares the count between workers
    # Browser apps served from these exact origins may call the API (CORS); none by default.
    cors_origins: tuple[str, ...] = ()
    # Migrations run as the schema owner; the service may run as a role that cannot alter the audit trail.
    migration_database_url: str | None = None
    audit_key: str | None = field(default=None, repr=False)  # Ed25519 PEM text; see kernel.audit.keys
    audit_key_file: str | None = None
    audit_checkpoint_every: int = 1000  # a signed checkpoint of a chain's head at least every N of its rows
    # /metrics is served only when a scrape token is set, and then only to a request bearing it.
    metrics_token: str | None = None
    log_format: str = "json"  # or "console", for a human at a terminal
    log_level: str = "INFO"
    # Diagnostics for the benchmark: each response reports the SQL its request sent (api/statement_counting.py).
    count_statements: bool = False
    # Control limits (SPEC §9): how many earlier closed orders an order's usage is judged against.
    control_min_sample: int = 8
    control_max_sample: int = 20
    # Tokens, keys and trusted identity providers (BACKFLUSH_AUTH_*, *_TOKEN_*, BACKFLUSH_SIGNING_ALG, …).
    auth: AuthConfig = field(default_factory=AuthConfig, repr=False)

    def __post_init__(self) -> None:
        if not 2 <= self.control_min_sample <= self.control_max_sample:  # refused at start, not at the first query
            raise ValueError("BACKFLUSH_CONTROL_MIN_SAMPLE must be ≥ 2 and ≤ BACKFLUSH_CONTROL_MAX_SAMPLE")

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        return cls(
            database_url=env.get("BACKFLUSH_DATABASE_URL", DEFAULT_DATABASE_URL),
            graphiql=_flag(env.get("BACKFLUSH_GRAPHIQL", "true")),
            introspection=_flag(env.get("BACKFLUSH_INTROSPECTION", "true")),
            max_query_depth=int(env.get("BACKFLUSH_MAX_QUERY_DEPTH", cls.max_query_depth)),
            max_aliases=int(env.get("BACKFLUSH_MAX_ALIASES", cls.max_aliases)),
            max_tokens=int(env.get("BACKFLUSH_MAX_TOKENS", cls.max_tokens)),
            max_query_cost=int(env.get("BACKFLUSH_MAX_QUERY_COST", cls.max_query_cost)),
            default_first=int(env.get("BACKFLUSH_DEFAULT_FIRST", cls.default_first)),
            query_timeout_seconds=float(env.get("BACKFLUSH_QUERY_TIMEOUT", cls.query_timeout_seconds)),
            max_body_bytes=int(env.get("BACKFLUSH_MAX_BODY_BYTES", cls.max_body_bytes)),
            rate_limit=env.get("BACKFLUSH_RATE_LIMIT", cls.rate_limit),
            rate_limit_storage=env.get("BACKFLUSH_RATE_LIMIT_STORAGE", cls.rate_limit_storage),
            cors_origins=parse_origins(env.get("BACKFLUSH_CORS_ORIGINS", "")),
            migration_database_url=env.get("BACKFLUSH_MIGRATION_DATABASE_URL") or None,
            audit_key=env.get("BACKFLUSH_AUDIT_KEY") or None,
            audit_key_file=env.get("BACKFLUSH_AUDIT_KEY_FILE") or None,
            audit_checkpoint_every=int(env.get("BACKFLUSH_AUDIT_CHECKPOINT_EVERY", "1000")),
            metrics_token=env.get("BACKFLUSH_METRICS_TOKEN") or None,
            log_format=env.get("BACKFLUSH_LOG_FORMAT", "json").strip().lower(),
            log_level=env.get("BACKFLUSH_LOG_LEVEL", "INFO").strip().upper(),
            count_statements=_flag(env.get("BACKFLUSH_COUNT_STATEMENTS", "false")),
            control_min_sample=int(env.get("BACKFLUSH_CONTROL_MIN_SAMPLE", cls.control_min_sample)),
            control_max_sample=int(env.get("BACKFLUSH_CONTROL_MAX_SAMPLE", cls.control_max_sample)),
            auth=AuthConfig.from_env(env),
        )

    @property
    def schema_owner_url(self) -> str:
        """The database URL migrations run with."""
        return self.migration_database_url or self.database_url


def _flag(text: str) -> bool:
    return text.strip().lower() in {"1", "true", "yes", "on"}


DEFAULT_PORTS = {"http": 80, "https": 443}


def parse_origins(text: str) -> tuple[str, ...]:
    """Comma-separated exact origins, each spelled as a browser sends it in `Origin`, or the service stops.

    A trailing slash, a path, upper case or a default port would never equal a browser's `Origin`
    header, and a wildcard would open the API to every site: all are refused at start, not ignored.
    """
    origins = tuple(part.strip() for part in text.split(",") if part.strip())
    for origin in origins:
        if origin != _as_browsers_send(origin):
            raise ValueError(f"BACKFLUSH_CORS_ORIGINS: {origin!r} is not an exact origin such as "
                             "'https://ui.example' or 'http://localhost:5173' (scheme, lower-case host, "
                             "non-default port; no path, no trailing slash, no wildcard)")
    return origins


def _as_browsers_send(url: str) -> str | None:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname or parts.username is not None:
        return None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{parts.scheme}://{host}" + (f":{port}" if port not in (None, DEFAULT_PORTS[parts.scheme]) else "")
