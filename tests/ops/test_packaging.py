"""The lock files pin what pyproject.toml asks for, and the image is built the way its comments say."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
LOCKS = {"runtime": ROOT / "requirements.lock", "test": ROOT / "requirements-test.lock"}
COMPILERS = ("gcc", "g++", "make", "build-essential", "clang")


def pins(lock: Path) -> dict[str, str]:
    found = re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", lock.read_text(), flags=re.MULTILINE)
    return {canonicalize_name(name): version for name, version in found}


def hashed_everywhere(lock: Path) -> bool:
    entries = re.split(r"\n(?=[A-Za-z0-9])", lock.read_text().split("\n", 2)[-1])
    return all("--hash=sha256:" in entry for entry in entries if "==" in entry)


def declared(extra: str | None = None) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    texts = project["dependencies"] + (project["optional-dependencies"][extra] if extra else [])
    return [Requirement(text) for text in texts]


@pytest.mark.parametrize("lock, extra", [("runtime", None), ("test", "test")])
def test_each_lock_pins_every_declared_dependency_inside_its_declared_range_with_hashes(lock, extra):
    pinned = pins(LOCKS[lock])
    for requirement in declared(extra):
        name = canonicalize_name(requirement.name)
        assert name in pinned, f"{name} is declared in pyproject.toml but not pinned in {LOCKS[lock].name}"
        assert requirement.specifier.contains(pinned[name], prereleases=True), (name, pinned[name])
    assert hashed_everywhere(LOCKS[lock])


def test_the_test_lock_pins_the_runtime_dependencies_at_the_same_versions():
    runtime, test = pins(LOCKS["runtime"]), pins(LOCKS["test"])
    assert {name: test.get(name) for name in runtime} == runtime


def stages(dockerfile: str) -> list[list[str]]:
    """Instructions (continuation lines joined, comments dropped) grouped by FROM."""
    joined = re.sub(r"\\\n\s*", " ", dockerfile)
    instructions = [line.strip() for line in joined.splitlines() if line.strip() and not line.strip().startswith("#")]
    grouped: list[list[str]] = []
    for instruction in instructions:
        if instruction.upper().startswith("FROM "):
            grouped.append([])
        if grouped:
            grouped[-1].append(instruction)
    return grouped


def test_the_image_installs_locked_dependencies_before_the_source_and_ships_no_compiler():
    build, *_, final = stages((ROOT / "Dockerfile").read_text())

    build_copies = [i for i in build if i.upper().startswith("COPY ")]
    assert len(build_copies) == 1 and "requirements.lock" in build_copies[0]  # no source: code changes keep the layer
    assert any("--require-hashes" in i and "requirements.lock" in i for i in build if i.upper().startswith("RUN "))
    final_copies = [i for i in final if i.upper().startswith("COPY ")]
    assert final_copies[0].startswith("COPY --from=build")  # the dependency layer comes before any source
    assert not any(re.search(rf"(?<![\w-]){re.escape(tool)}\b", i) for i in final for tool in COMPILERS
                   if i.upper().startswith("RUN "))
    assert any(i.upper().startswith("VOLUME") and "/var/lib/backflush" in i for i in final)
    user = [i.split()[1] for i in final if i.upper().startswith("USER ")]
    assert user and user[-1] not in ("root", "0")
    assert any(i.upper().startswith("HEALTHCHECK ") for i in final)
