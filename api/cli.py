"""The `backflush` command: serve, migrate, seed the demo plant, manage identities."""
from __future__ import annotations

import argparse
import contextlib
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from kernel.settings import Settings

log = logging.getLogger("backflush.cli")


def _migrate(settings: Settings) -> None:
    from kernel.database import build_engine
    from kernel.migrations import upgrade

    engine = build_engine(settings.schema_owner_url)
    upgrade(engine)
    engine.dispose()


def cmd_migrate(args) -> int:
    settings = Settings.from_env()
    _migrate(settings)
    print(f"database at head: {_without_password(settings.schema_owner_url)}")
    return 0


def _without_password(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def cmd_seed_demo(args) -> int:
    from backflush.services.demo import seed_demo
    from kernel.audit.checkpoints import install_from
    from kernel.database import build_engine, session_factory

    settings = Settings.from_env()
    _migrate(settings)
    engine = build_engine(settings.database_url)
    sessions = session_factory(engine)
    install_from(settings, sessions)
    created = seed_demo(sessions)
    print("demo plant created" if created else "demo plant already present")
    for line in _demo_identities(sessions):
        print(line)
    engine.dispose()
    return 0


def _demo_identities(sessions) -> list[str]:
    from auth.demo import seed_demo_identities
    from backflush.services.demo import SITE

    return seed_demo_identities(sessions, SITE)


def cmd_serve(args) -> int:
    import uvicorn

    from api.logs import logging_config

    settings = Settings.from_env()
    _migrate(settings)
    if args.demo:
        cmd_seed_demo(args)
    _settle_issuer(args.host, args.port)
    with _metrics_directory(args.workers):
        uvicorn.run("api.app:create_served_app", factory=True, host=args.host, port=args.port, workers=args.workers,
                    log_config=logging_config(format=settings.log_format, level=settings.log_level),
                    access_log=False, proxy_headers=True)
    return 0


def cmd_check_exclusions(args) -> int:
    """Exit 1 when a posting drew from a binding its own ELIGIBILITY decision excluded."""
    from backflush.services.exclusion_breaches import exclusion_breaches
    from kernel.database import build_engine, session_factory

    engine = build_engine(Settings.from_env().database_url)
    with session_factory(engine)() as session:
        breaches = exclusion_breaches(session)
    engine.dispose()
    for b in breaches:
        print(f"trigger {b.trigger_id}: drew {b.quantity} of lot {b.lot_number} (binding {b.binding_id}) that decision "
              f"{b.decision_id} excluded by {', '.join(b.rule_ids)} ({', '.join(b.codes)})")
    print(f"{len(breaches)} draw(s) against a recorded exclusion")
    return 1 if breaches else 0


def _settle_issuer(host: str, port: int) -> None:
    """Tokens and discovery name the served address unless BACKFLUSH_AUTH_ISSUER says otherwise.

    Handed on through the environment: uvicorn builds the app (in every worker) from it.
    """
    from auth.config import WILDCARD_HOSTS, issuer_port_warning, served_issuer

    configured = os.environ.get("BACKFLUSH_AUTH_ISSUER")
    if configured:
        warning = issuer_port_warning(configured, port)
        if warning:
            log.warning(warning)
        return
    os.environ["BACKFLUSH_AUTH_ISSUER"] = issuer = served_issuer(host, port)
    if host in WILDCARD_HOSTS:
        log.warning(f"serving on every interface with token issuer {issuer}, which only this machine can reach: "
                    "set BACKFLUSH_AUTH_ISSUER to the URL clients use")
    else:
        log.info(f"token issuer {issuer} (the served address; BACKFLUSH_AUTH_ISSUER overrides it)")


@contextlib.contextmanager
def _metrics_directory(workers: int) -> Iterator[None]:
    """Several workers keep their metrics in files that a scrape sums (prometheus-client's multiprocess
    mode); the directory must be set before a worker imports prometheus_client, and start empty."""
    configured = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if workers <= 1 and not configured:
        yield
        return
    directory = Path(configured or tempfile.mkdtemp(prefix="backflush-metrics-"))
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):  # a previous run's files would be summed in
        stale.unlink()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
    try:
        yield
    finally:
        if not configured:
            shutil.rmtree(directory, ignore_errors=True)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="backflush", description="Backflush accounting service. The database is BACKFLUSH_DATABASE_URL "
        "(default: sqlite:///backflush.db in the current directory).")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = commands.add_parser("serve", help="apply migrations, then serve the GraphQL API (GraphiQL at /graphql)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1, help="server processes (PostgreSQL for more than one)")
    serve.add_argument("--demo", action="store_true", help="seed the demo plant first (idempotent)")
    serve.set_defaults(func=cmd_serve)
    commands.add_parser("migrate", help="bring the database schema to the latest version, as the schema owner "
                        "(BACKFLUSH_MIGRATION_DATABASE_URL when set)").set_defaults(func=cmd_migrate)
    commands.add_parser("seed-demo", help="create a small demo plant and its users (idempotent)").set_defaults(
        func=cmd_seed_demo)
    commands.add_parser("check-exclusions", help="list draws of POSTED triggers that their ELIGIBILITY decision "
                        "excluded (exit 1 when any)").set_defaults(func=cmd_check_exclusions)
    _register_identity_commands(commands)
    _register_audit_commands(commands)
    return parser


def _register_identity_commands(commands) -> None:
    from auth.cli import register

    register(commands)


def _register_audit_commands(commands) -> None:
    from api import cli_audit

    cli_audit.register(commands)


def main(argv: list[str] | None = None) -> int:
    from api.logs import configure_logging

    settings = Settings.from_env()
    configure_logging(format=settings.log_format, level=settings.log_level)
    args = build_parser().parse_args(argv)
    return args.func(args) or 0


if __name__ == "__main__":
    sys.exit(main())
