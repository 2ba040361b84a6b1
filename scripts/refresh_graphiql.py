#!/usr/bin/env python3
"""Refresh the vendored GraphiQL: `.venv/bin/python scripts/refresh_graphiql.py` (needs npm and the registry).

strawberry's GraphiQL page loads React, GraphiQL and its explorer plugin from a public CDN, which a
plant network cannot reach. This takes that page from the installed strawberry (so versions follow
strawberry's), fetches each package it names with `npm pack`, checks every file against the page's
own integrity hash, and writes the files to api/static/graphiql/ and the page, pointed at them, to
api/static/graphiql.html. Run it after upgrading strawberry, and commit the result.
"""
from __future__ import annotations

import base64
import hashlib
import json
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from strawberry.http.ides import get_graphql_ide_html

STATIC = Path(__file__).resolve().parents[1] / "api" / "static"
ASSETS = STATIC / "graphiql"
PAGE = STATIC / "graphiql.html"
SERVED_AT = "/graphiql"
# https://unpkg.com/<package>@<version>/<file>, <package> possibly scoped, then the tag's integrity hash.
CDN_ASSET = re.compile(r'(?P<attr>src|href)="https://unpkg\.com/(?P<package>(?:@[^/"]+/)?[^/@"]+)@(?P<version>[^/"]+)/'
                       r'(?P<file>[^"]+)"(?P<between>\s+)integrity="(?P<integrity>sha384-[^"]+)"')


def main() -> int:
    page = get_graphql_ide_html("graphiql")
    assets = [match.groupdict() for match in CDN_ASSET.finditer(page)]
    if not assets:
        sys.exit("no CDN assets found in strawberry's GraphiQL page: has its format changed?")
    for old in ASSETS.rglob("*"):
        if old.is_file():
            old.unlink()
    with tempfile.TemporaryDirectory() as scratch:
        for asset in assets:
            content = _file_from_registry(asset["package"], asset["version"], asset["file"], Path(scratch))
            _check_integrity(content, asset)
            target = ASSETS / f"{asset['package']}@{asset['version']}" / asset["file"]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
            print(f"vendored {asset['package']}@{asset['version']}/{asset['file']} ({len(content)} bytes)")
    offline = CDN_ASSET.sub(lambda m: f'{m["attr"]}="{SERVED_AT}/{m["package"]}@{m["version"]}/{m["file"]}"'
                                      f'{m["between"]}integrity="{m["integrity"]}"', page)
    if "unpkg.com" in offline:
        sys.exit("the page still names the CDN after rewriting: extend CDN_ASSET")
    PAGE.write_text(offline, encoding="utf-8")
    sources = [{key: asset[key] for key in ("package", "version", "file", "integrity")} for asset in assets]
    (ASSETS / "SOURCES.json").write_text(json.dumps(sources, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {PAGE.relative_to(STATIC.parents[1])}")
    return 0


def _file_from_registry(package: str, version: str, file: str, scratch: Path) -> bytes:
    tarball = scratch / f"{package.replace('/', '-').lstrip('@')}-{version}.tgz"
    if not tarball.exists():
        packed = subprocess.run(["npm", "pack", f"{package}@{version}", "--json", "--pack-destination", str(scratch)],
                                check=True, capture_output=True, text=True)
        (scratch / json.loads(packed.stdout)[0]["filename"]).rename(tarball)
    with tarfile.open(tarball) as archive:
        member = archive.extractfile(f"package/{file}")
        if member is None:
            sys.exit(f"{package}@{version} has no file {file}")
        return member.read()


def _check_integrity(content: bytes, asset: dict) -> None:
    digest = "sha384-" + base64.b64encode(hashlib.sha384(content).digest()).decode()
    if digest != asset["integrity"]:
        sys.exit(f"{asset['package']}@{asset['version']}/{asset['file']}: registry content {digest} "
                 f"differs from the page's integrity {asset['integrity']}")


if __name__ == "__main__":
    sys.exit(main())
