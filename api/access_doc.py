"""docs/access.md, printed from `api/access.py`: run `python -m api.access_doc docs/access.md` after changing it."""
from __future__ import annotations

import sys
from pathlib import Path

from api.access import ACCESS, GRANT_NAMES, SITE_OF, may_read
from auth.scopes import ROLE_SCOPES, SCOPES, USER_ONLY_SCOPES

ROLES = ("OPERATOR", "SUPERVISOR", "QA", "ENGINEER", "FINANCE", "ADMIN", "PARTNER")
CLIENT_SCOPES = tuple(sorted(SCOPES - USER_ONLY_SCOPES))

HEADER = """\
# Access: who reads which field

Generated from `api/access.py` by `python -m api.access_doc docs/access.md`; a test fails when this file
and the code differ, and `tests/api/test_access_matrix.py` walks the served schema from `node(id:)` and
`genealogy` for every role and every machine scope and checks each answer against this table.

Each root field (`Query`, `Mutation`, `Subscription`) names the scopes it needs (`api/permissions.py`).
Below the roots every field of every object type is granted to the scopes of its group; `api/walls.py`
checks it where the field is resolved, so `node(id:)`, nested fields, connections, genealogy edges,
mutation payloads and subscription events obey the same rules. A type or field the table does not list
stops the server from starting.

- **✓** the field is served. **✗** refused: `null` with an error `extensions.code = FORBIDDEN` at that
  field's path (GraphQL carries the `null` of a non-null field up to the nearest nullable parent).
- **Sites**: an object of a sited type (below) that lies outside the caller's sites is never served:
  dropped from a list, `null` in a nullable field, otherwise an error `NOT_FOUND` at its path, which
  names no identifier. Root fields, `node(id:)` included, answer such objects as absent.
- Roles hold the scopes of `auth/scopes.py`; a machine client holds only the scopes granted to it
  (`signatures:sign` is never granted to a machine). `admin` holds every scope.
"""


def _mark(scopes: frozenset[str], grant: frozenset[str]) -> str:
    return "✓" if may_read(scopes, grant) else "✗"


def render() -> str:
    columns = [(role, ROLE_SCOPES[role]) for role in ROLES] + [(f"`{s}`", frozenset({s})) for s in CLIENT_SCOPES]
    lines = [HEADER, "## Grants", "", "| grant | scopes, any one of |", "|---|---|"]
    for grant, name in GRANT_NAMES.items():
        lines.append(f"| {name} | {', '.join(f'`{s}`' for s in sorted(grant)) or '— (the root field decided)'} |")
    lines += ["", "## Sited types", "", "| type | its site |", "|---|---|"]
    for type_name, attribute in SITE_OF.items():
        lines.append(f"| {type_name} | {'itself' if attribute == 'pk' else 'the site it was recorded at'}"
                     f"{'; none: a global rule set, read at every site' if type_name == 'RuleSet' else ''} |")
    lines += ["", "## Fields by role and by machine scope", "",
              "Roles first, then machine clients holding that one scope.", "",
              "| type | fields | grant | " + " | ".join(name for name, _ in columns) + " |",
              "|---|---|---|" + "---|" * len(columns)]
    for type_name, groups in ACCESS.items():
        for grant, fields in groups.items():
            marks = " | ".join(_mark(scopes, grant) for _, scopes in columns)
            lines.append(f"| {type_name} | {', '.join(fields.split())} | {GRANT_NAMES[grant]} | {marks} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    Path(sys.argv[1]).write_text(render(), encoding="utf-8") if len(sys.argv) > 1 else print(render(), end="")
