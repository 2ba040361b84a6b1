"""`backflush audit-anchor | verify-audit | grant-service-role`: keeping the audit trail honest from a shell."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from kernel.settings import Settings


def register(subparsers) -> None:
    anchor = subparsers.add_parser("audit-anchor", help="checkpoint every audit chain's head now and print the "
                                   "signed heads (JSON) for keeping outside the database")
    anchor.add_argument("--output", help="write the anchor to this file instead of stdout")
    anchor.set_defaults(func=cmd_audit_anchor)
    verify = subparsers.add_parser("verify-audit", help="verify every audit chain and its signed checkpoints; "
                                   "exit status 1 when anything is broken")
    verify.add_argument("--anchor", help="an anchor printed by audit-anchor: the trail must still contain its heads")
    verify.add_argument("--public-key", help="verify signatures with this PEM public key instead of the "
                        "configured audit key (for auditors, who need not hold the private key)")
    verify.set_defaults(func=cmd_verify_audit)
    grant = subparsers.add_parser("grant-service-role", help="PostgreSQL: give ROLE what the service needs and, "
                                  "on the audit tables, only INSERT and SELECT (runs as the schema owner)")
    grant.add_argument("role")
    grant.add_argument("--print", action="store_true", dest="print_only", help="print the SQL, run nothing")
    grant.set_defaults(func=cmd_grant_service_role)


def _sessions(settings: Settings):
    from kernel.database import build_engine, session_factory

    engine = build_engine(settings.database_url)
    return engine, session_factory(engine)


def cmd_audit_anchor(args) -> int:
    from kernel.audit import checkpoints
    from kernel.audit.keys import audit_key_from
    from kernel.database import unit_of_work

    settings = Settings.from_env()
    key = audit_key_from(settings)
    if key is None or key.private is None:
        print("no audit signing key: set BACKFLUSH_AUDIT_KEY_FILE (an Ed25519 private key, PEM)", file=sys.stderr)
        return 2
    engine, sessions = _sessions(settings)
    with unit_of_work(sessions) as session:
        written = checkpoints.checkpoint_heads(session, key)
        document = checkpoints.anchor_document(session, key, written)
        session.commit()
    engine.dispose()
    text_value = json.dumps(document, indent=2)
    if args.output:
        Path(args.output).write_text(text_value + "\n")
    else:
        print(text_value)
    return 0


def cmd_verify_audit(args) -> int:
    from kernel.audit import verify
    from kernel.audit.checkpoints import AnchorUnreadable, read_anchor
    from kernel.audit.keys import AuditKeyError, audit_key_from, read_key_file

    settings = Settings.from_env()
    try:
        key = read_key_file(args.public_key) if args.public_key else audit_key_from(settings)
        anchor = read_anchor(Path(args.anchor).read_text()) if args.anchor else None
        engine, sessions = _sessions(settings)
        with sessions() as session:
            result = verify(session, key=key, anchor=anchor)
        engine.dispose()
    except (AuditKeyError, AnchorUnreadable, OSError) as error:
        print(f"cannot verify: {error}", file=sys.stderr)
        return 2
    print(f"{'ok' if result.ok else 'BROKEN'}: {result.checked} rows in {result.chains} chains, "
          f"{result.signed_heads_checked} signed heads compared, {result.break_count} breaks")
    if not result.signed:
        print("warning: no audit key, so no checkpoint was checked", file=sys.stderr)
    for b in result.breaks:
        print(f"  {b.kind}: chain {b.site_code or 'global'} position {b.chain_seq}"
              f"{f' (seq {b.seq})' if b.seq else ''}: {b.detail}")
    return 0 if result.ok else 1


def cmd_grant_service_role(args) -> int:
    from sqlalchemy import text

    from kernel.audit.roles import UnsafeServiceRole, grant_service_role, service_role_grants
    from kernel.database import build_engine

    settings = Settings.from_env()
    engine = build_engine(settings.schema_owner_url)
    if engine.dialect.name != "postgresql":
        print("grant-service-role is for PostgreSQL; SQLite has no roles", file=sys.stderr)
        return 2
    try:
        with engine.begin() as connection:
            if args.print_only:
                schema = connection.execute(text("SELECT current_schema()")).scalar_one()
                statements = service_role_grants(args.role, schema=schema,
                                                 quote=connection.dialect.identifier_preparer.quote)
            else:
                statements = grant_service_role(connection, args.role)
    except UnsafeServiceRole as refused:
        print(f"refused: {refused}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    print(";\n".join(statements) + ";")
    return 0
