"""A Dockerfile read as Docker reads the instructions the image tests replay: stages, ENV, COPY, RUN, USER, CMD."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

VARIABLE = re.compile(r"\$(?:\{(\w+)\}|(\w+))")


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case
    arguments: str  # the rest of the logical line, continuation lines joined


@dataclass(frozen=True)
class Copy:
    sources: tuple[str, ...]
    destination: str
    from_stage: str | None


@dataclass(frozen=True)
class Healthcheck:
    options: dict[str, str]  # --interval=10s gives {"interval": "10s"}
    command: list[str]


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [instruction for instruction in self.instructions if instruction.keyword == keyword]

    def last(self, keyword: str) -> Instruction | None:
        found = self.all(keyword)
        return found[-1] if found else None

    def env(self, base_env: dict[str, str]) -> dict[str, str]:
        """Every ENV of this stage over the base image's, `$NAME` expanded from what came before, as Docker does."""
        env = dict(base_env)
        for instruction in self.all("ENV"):
            env |= parse_env(instruction.arguments, env)
        return env

    def exec_form(self, keyword: str) -> list[str]:
        """CMD or ENTRYPOINT in exec (JSON) form; [] when absent. Shell form is refused: it would run under sh -c."""
        instruction = self.last(keyword)
        return [] if instruction is None else json_array(instruction)

    def command(self, compose_command: list[str] | None = None) -> list[str]:
        """ENTRYPOINT then compose's command, else the image's CMD, as Docker puts them together."""
        return self.exec_form("ENTRYPOINT") + (compose_command or self.exec_form("CMD"))

    @property
    def user(self) -> str | None:
        instruction = self.last("USER")
        return None if instruction is None else instruction.arguments.strip()

    @property
    def workdir(self) -> str:
        instruction = self.last("WORKDIR")
        return "/" if instruction is None else instruction.arguments.strip()

    @property
    def healthcheck(self) -> Healthcheck | None:
        instruction = self.last("HEALTHCHECK")
        if instruction is None:
            return None
        options, rest = split_options(instruction.arguments)
        keyword, _, command = rest.partition(" ")
        assert keyword == "CMD", f"HEALTHCHECK {rest!r}: expected CMD [...]"
        return Healthcheck(options, json_array(Instruction("HEALTHCHECK", command)))


def parse_env(arguments: str, env: dict[str, str]) -> dict[str, str]:
    def expand(value: str) -> str:
        return VARIABLE.sub(lambda match: env.get(match.group(1) or match.group(2), ""), value)

    words = shlex.split(arguments)
    if "=" not in words[0]:  # the legacy form: ENV NAME value with spaces
        return {words[0]: expand(" ".join(words[1:]))}
    return dict((name, expand(value)) for name, _, value in (word.partition("=") for word in words))


def split_options(arguments: str) -> tuple[dict[str, str], str]:
    """Leading `--name=value` flags (HEALTHCHECK's, COPY's, RUN's --mount) and the rest of the line."""
    options = {}
    rest = arguments.strip()
    while rest.startswith("--"):
        flag, _, rest = rest.partition(" ")
        name, _, value = flag[2:].partition("=")
        options[name] = value
        rest = rest.strip()
    return options, rest


def json_array(instruction: Instruction) -> list[str]:
    try:
        words = json.loads(instruction.arguments)
    except json.JSONDecodeError:
        raise AssertionError(f"{instruction.keyword} must be in exec form (a JSON array)") from None
    assert isinstance(words, list), instruction
    assert all(isinstance(word, str) for word in words), instruction
    return words


def copy(instruction: Instruction) -> Copy:
    options, rest = split_options(instruction.arguments)
    *sources, destination = json.loads(rest) if rest.startswith("[") else shlex.split(rest)
    return Copy(tuple(sources), destination, options.get("from"))


def run_command(instruction: Instruction) -> str:
    """RUN's shell command, without BuildKit's --mount flags (a cache mount changes where, not what)."""
    return split_options(instruction.arguments)[1]


def logical_lines(text: str) -> list[str]:
    """Comment lines dropped (also inside a continuation), backslash continuations joined."""
    lines: list[str] = []
    pending = ""
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1]
            continue
        if (pending + line).strip():
            lines.append((pending + line).strip())
        pending = ""
    assert not pending.strip(), "the Dockerfile ends inside a continuation"
    return lines


def parse(path: Path) -> list[Stage]:
    stages: list[Stage] = []
    for line in logical_lines(path.read_text()):
        keyword, _, arguments = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            words = arguments.split()
            stages.append(Stage(base=words[0], name=words[2] if len(words) == 3 and words[1].upper() == "AS" else None))
        else:
            assert stages, f"{keyword} before the first FROM"
            stages[-1].instructions.append(Instruction(keyword, arguments))
    return stages
