"""Identity administration from a shell on the server: people, their access, clients, keys, expired grants.

Each subcommand sets `func(args) -> exit code`; the `backflush` console command dispatches to it.
"""
from __future__ import annotations

import argparse
import getpass
import os
import sys
from datetime import UTC, datetime

from auth import admin
from auth.config import SIGNING_ALGORITHMS
from auth.keys import KeyEncryptionError
from auth.principal import Principal
from auth.purge import purge_expired
from auth.scopes import ROLES, SCOPES
from kernel.database import build_engine, session_factory, unit_of_work
from kernel.errors import DomainError
from kernel.settings import Settings


def register(subparsers) -> None:
    user = subparsers.add_parser("create-user", help="create a person who signs in with a password")
    user.add_argument("--username", required=True)
    user.add_argument("--display-name", required=True, help="the printed name on their e-signatures")
    user.add_argument("--role", action="append", default=[], choices=sorted(ROLES), dest="roles")
    user.add_argument("--site", action="append", default=[], dest="sites", help='site code, or "*" for all')
    user.add_argument("--password-stdin", action="store_true", help="read the password from stdin, not a prompt")
    user.set_defaults(func=_create_user)

    client = subparsers.add_parser("create-client", help="register an OAuth client; prints its secret once")
    client.add_argument("--client-id", required=True)
    client.add_argument("--name", required=True)
    client.add_argument("--scope", action="append", default=[], choices=sorted(SCOPES), dest="scopes")
    client.add_argument("--site", action="append", default=[], dest="sites")
    client.add_argument("--grant-type", action="append", dest="grant_types",
                        choices=sorted(admin.GRANT_TYPES), help="default: client_credentials")
    client.add_argument("--redirect-uri", action="append", default=[], dest="redirect_uris")
    client.add_argument("--public", action="store_true", help="no secret (browser apps); PKCE only")
    client.set_defaults(func=_create_client)

    rotate = subparsers.add_parser("rotate-keys", help="start signing with a new key; the old one stays valid")
    rotate.add_argument("--alg", choices=SIGNING_ALGORITHMS, help="default: BACKFLUSH_SIGNING_ALG")
    rotate.set_defaults(func=_rotate_keys)

    seal = subparsers.add_parser("encrypt-keys", help="seal private signing keys with BACKFLUSH_KEY_ENCRYPTION_KEY")
    seal.set_defaults(func=_encrypt_keys)

    purge = subparsers.add_parser("purge-expired", help="delete expired codes and refresh tokens, old failure counts")
    purge.set_defaults(func=_purge_expired)

    access = _user_change(subparsers, "change-access", "give a user new roles and/or sites (audited)",
                          lambda session, args, actor: admin.change_access(
                              session, username=args.username, reason=args.reason, roles=args.roles or None,
                              sites=args.sites or None, actor=actor))
    access.add_argument("--role", action="append", default=[], choices=sorted(ROLES), dest="roles")
    access.add_argument("--site", action="append", default=[], dest="sites", help='site code, or "*" for all')
    _user_change(subparsers, "deactivate-user", "stop a user: no sign-in, tokens refused (audited)",
                 lambda session, args, actor: admin.deactivate_user(
                     session, username=args.username, reason=args.reason, actor=actor))
    _user_change(subparsers, "reactivate-user", "let a deactivated user sign in again (audited)",
                 lambda session, args, actor: admin.reactivate_user(
                     session, username=args.username, reason=args.reason, actor=actor))
    _user_change(subparsers, "unlock-user", "lift the lock of repeated wrong passwords (audited)",
                 lambda session, args, actor: admin.unlock_user(
                     session, username=args.username, reason=args.reason, actor=actor))


def _create_user(args: argparse.Namespace) -> int:
    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else _prompt_password()

    def create(session):
        admin.create_user(session, username=args.username, display_name=args.display_name, password=password,
                          roles=args.roles, sites=args.sites, actor=_operator())
        print(f"created user {args.username}")
    return _run(create)


def _create_client(args: argparse.Namespace) -> int:
    if not args.sites:
        print(f"warning: client {args.client_id} has no --site: its tokens will see nothing (every query answers "
              'null or an empty list). Name the sites it serves, e.g. --site PLANT-1, or "*" for all.', file=sys.stderr)

    def create(session):
        secret = admin.create_client(
            session, client_id=args.client_id, name=args.name, scopes=args.scopes, sites=args.sites,
            grant_types=args.grant_types or ["client_credentials"], redirect_uris=args.redirect_uris,
            public=args.public, actor=_operator(),
        )
        print(f"created client {args.client_id}")
        if secret:
            print(f"client secret (shown once, store it now): {secret}")
    return _run(create)


def _rotate_keys(args: argparse.Namespace) -> int:
    config = Settings.from_env().auth

    def rotate(session):
        key = admin.rotate_keys(session, config, alg=args.alg, actor=_operator())
        print(f"now signing with key {key.kid}; the previous key stays valid until its tokens expire")
    return _run(rotate)


def _encrypt_keys(args: argparse.Namespace) -> int:
    config = Settings.from_env().auth

    def seal(session):
        kids = admin.encrypt_keys(session, config, actor=_operator())
        print(f"sealed {len(kids)} signing key(s){': ' + ', '.join(kids) if kids else ''}")
    return _run(seal)


def _purge_expired(args: argparse.Namespace) -> int:
    config = Settings.from_env().auth

    def purge(session):
        counts = purge_expired(session, now=datetime.fromtimestamp(config.now(), tz=UTC), actor=_operator())
        print(f"purged: {counts['authorization_codes']} authorization codes, {counts['refresh_tokens']} refresh tokens, "
              f"{counts['sign_in_failures']} sign-in failures, {counts['signature_failures']} signature failures")
    return _run(purge)


def _user_change(subparsers, name: str, help_text: str, change) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(name, help=help_text)
    parser.add_argument("--username", required=True)
    parser.add_argument("--reason", required=True, help="why, for the audit trail")

    def run(args: argparse.Namespace) -> int:
        def apply(session):
            user = change(session, args, _operator())
            print(f"{name}: {user.username} (active: {user.active}, roles: {', '.join(user.roles) or '-'}, "
                  f"sites: {', '.join(user.sites) or '-'})")
        return _run(apply)
    parser.set_defaults(func=run)
    return parser


def _run(action) -> int:
    engine = build_engine(Settings.from_env().database_url)
    try:
        with unit_of_work(session_factory(engine)) as session:
            action(session)
            session.commit()
        return 0
    except DomainError as error:
        print(f"{error.code}: {error.message}", file=sys.stderr)
        return 2
    except KeyEncryptionError as error:
        print(f"KEY_ENCRYPTION: {error}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()


def _prompt_password() -> str:
    password = getpass.getpass("password: ")
    if password != getpass.getpass("again: "):
        raise SystemExit("passwords differ")
    return password


def _operator() -> Principal:
    # The audit trail names the operating-system account that ran the command.
    name = os.environ.get("SUDO_USER") or getpass.getuser()
    return Principal(subject=f"cli:{name}", name=name, kind="system")
