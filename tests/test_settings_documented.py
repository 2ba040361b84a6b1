"""Configuration is one typed object read once, and every variable the code reads is in the README."""
from __future__ import annotations

import re
from pathlib import Path

from kernel.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
# os.environ.get("X"), os.environ["X"], os.getenv("X"), env.get("X"), env["X"], process.env.X (TypeScript)
READ = re.compile(r"""(?:environ|\benv|getenv)\s*(?:\.get\s*\(|\[|\()\s*["'](BACKFLUSH_[A-Z0-9_]+)["']"""
                  r"""|process\.env\.(BACKFLUSH_[A-Z0-9_]+)""")


def variables_read() -> dict[str, str]:
    found = {}
    sources = [p for p in ROOT.rglob("*.py") if ".venv" not in p.parts and "node_modules" not in p.parts]
    sources += [p for p in (ROOT / "docs").rglob("*.ts") if "node_modules" not in p.parts]
    for path in sources:
        for match in READ.finditer(path.read_text(encoding="utf-8")):
            found.setdefault(match.group(1) or match.group(2), str(path.relative_to(ROOT)))
    return found


def test_every_backflush_variable_the_code_reads_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    read = variables_read()
    assert {"BACKFLUSH_DATABASE_URL", "BACKFLUSH_TOKEN_LEEWAY", "BACKFLUSH_TEST_DATABASE_URL"} <= set(read)
    assert {name: where for name, where in read.items() if f"`{name}`" not in readme} == {}


def test_the_settings_object_carries_the_identity_settings_read_from_the_same_environment():
    settings = Settings.from_env({"BACKFLUSH_DATABASE_URL": "sqlite:///x.db", "BACKFLUSH_AUTH_ISSUER": "https://id.example/",
                                  "BACKFLUSH_TOKEN_LEEWAY": "5", "BACKFLUSH_SIGNING_ALG": "ES256"})

    assert (settings.database_url, settings.auth.issuer, settings.auth.leeway, settings.auth.signing_alg) == (
        "sqlite:///x.db", "https://id.example", 5, "ES256")
    assert Settings().auth.issuer == "http://localhost:8000"
