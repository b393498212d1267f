"""The image's /app built in a temporary folder as the Dockerfile builds it, and its commands run as its user.

No container registry is reachable here, so the image itself cannot be built. The replica follows the
Dockerfile instead: the build stage's COPY lines copy the same files, its RUN lines (`uv sync ...`) run
with the same uv and the stage's ENV, and commands run with the runtime stage's ENV, WORKDIR and USER.
What differs: the folder (image paths under WORKDIR map into it, also in ENV values such as PATH) and
the interpreter (the image's is its base image's; here, a Python of the same minor version that the
image's user can run).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from devtools.live_server import ROOT
from tests.support import dockerfile

UV_SH = ROOT / "scripts" / "uv.sh"
PINNED_UV = ROOT / ".tools" / "uv" / "bin" / "uv"
# What python:3.11-slim sets before this Dockerfile's own ENV.
BASE_IMAGE_ENV = {
    "PATH": "/usr/local/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG": "C.UTF-8",
}
# Docker sets HOME to USER's home in the image's /etc/passwd: the Dockerfile's useradd gives /nonexistent.
IMAGE_USER_HOME = "/nonexistent"
# The build runs with the stage's ENV, not the host's environment; from the host only what a builder's
# own setup gives uv: its cache, and the way out to the package index (CA certificates, proxies).
HOST_BUILD_SETTINGS = re.compile(
    r"HOME|TMPDIR|XDG_CACHE_HOME|UV_CACHE_DIR|UV_\w*INDEX\w*|UV_NATIVE_TLS|SSL_CERT_\w+|\w+_PROXY"
)


def pinned_uv_version() -> str:
    found = re.search(r"^uv_version=(\S+)$", UV_SH.read_text(), re.MULTILINE)
    assert found, f"no uv_version= in {UV_SH}"
    return found.group(1)


def python_minor(base_image: str) -> str:
    """`python:3.11-slim-bookworm` gives 3.11."""
    found = re.fullmatch(r"python:(\d+\.\d+)[-\w.]*", base_image)
    assert found, f"{base_image}: expected a python:X.Y-... base image"
    return found.group(1)


@dataclass(frozen=True)
class ImageUser:
    """USER uid:gid; the tests switch to it when they run as root, else they already are a non-root user."""

    uid: int
    gid: int

    @classmethod
    def of(cls, user: str | None) -> ImageUser:
        assert user, "the runtime stage has no USER: it would run as root"
        uid, _, gid = user.partition(":")
        assert uid.isdigit(), f"USER {user}: a numeric uid (an orchestrator's runAsNonRoot needs one)"
        assert not gid or gid.isdigit(), f"USER {user}: a numeric gid"
        assert int(uid) != 0, "USER is root"
        return cls(int(uid), int(gid or uid))

    def popen_arguments(self) -> dict[str, object]:
        if os.geteuid() != 0:
            return {}
        return {"user": self.uid, "group": self.gid, "extra_groups": []}

    def run(
        self, argv: list[str], *, cwd: Path, env: dict[str, str], timeout: float
    ) -> subprocess.CompletedProcess[str]:
        """argv run to its end as this user, its output captured."""
        return subprocess.run(
            argv,
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            **self.popen_arguments(),
        )

    def start(
        self, argv: list[str], *, cwd: Path, env: dict[str, str], log_path: Path, append: bool = False
    ) -> subprocess.Popen[bytes]:
        """argv started as this user, its output to log_path (appended to it, or the log started anew)."""
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("ab" if append else "wb") as log:
            return subprocess.Popen(
                argv, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, **self.popen_arguments()
            )


class ImageReplica:
    def __init__(self, path: Path, *, base_env: dict[str, str] | None = None) -> None:
        stages = dockerfile.parse(path)
        self.runtime = stages[-1]
        copied = [dockerfile.copy(instruction) for instruction in self.runtime.all("COPY")]
        stage_names = {stage.name for stage in stages if stage.name}
        from_build = [copy for copy in copied if copy.from_stage in stage_names]
        assert len(from_build) == 1, "the runtime stage copies one folder from the build stage"
        self.build_stage = next(stage for stage in stages if stage.name == from_build[0].from_stage)
        # The venv (its scripts' shebangs, the editable install's .pth) must stay where it was built.
        assert from_build[0].sources == (self.runtime.workdir,) == (from_build[0].destination,)
        assert self.build_stage.workdir == self.runtime.workdir
        self.workdir = self.runtime.workdir
        self.user = ImageUser.of(self.runtime.user)
        self.base_env = base_env or BASE_IMAGE_ENV
        self.root: Path | None = None

    @property
    def app(self) -> Path:
        assert self.root is not None, "build() first"
        return self.root / self.workdir.lstrip("/")

    def host_path(self, value: str) -> str:
        """An ENV value with image paths under WORKDIR moved into the replica (each entry of a PATH-like list)."""
        entries = value.split(":")
        moved = [
            str(self.app) + entry[len(self.workdir) :]
            if entry == self.workdir or entry.startswith(self.workdir + "/")
            else entry
            for entry in entries
        ]
        return ":".join(moved)

    def build(self, root: Path, python: str) -> None:
        """The build stage, instruction by instruction, into root; then readable by the image's user."""
        self.root = root
        subprocess.run([str(UV_SH), "--version"], check=True, capture_output=True)  # installs the pinned uv
        tools = root / "build-tools"
        tools.mkdir(parents=True)
        (tools / "uv").symlink_to(PINNED_UV)
        env = {name: value for name, value in os.environ.items() if HOST_BUILD_SETTINGS.fullmatch(name.upper())}
        env |= self.base_env
        for instruction in self.build_stage.instructions:
            if instruction.keyword == "ENV":
                env |= dockerfile.parse_env(instruction.arguments, env)
            elif instruction.keyword == "WORKDIR":
                self.app.mkdir(parents=True, exist_ok=True)
            elif instruction.keyword == "COPY":
                self._copy(dockerfile.copy(instruction))
            elif instruction.keyword == "RUN":
                command = dockerfile.run_command(instruction)
                run_env = env | {"PATH": f"{tools}:{env['PATH']}", "UV_PYTHON": python}
                built = subprocess.run(
                    ["/bin/sh", "-c", command], cwd=self.app, env=run_env, capture_output=True, text=True, check=False
                )
                assert built.returncode == 0, f"RUN {command}:\n{built.stdout}{built.stderr}"
        subprocess.run(["chmod", "-R", "a+rX", str(root)], check=True)

    def _copy(self, copy: dockerfile.Copy) -> None:
        if copy.from_stage is not None:
            # The uv binary from uv's image: the build above runs the uv scripts/uv.sh pins, and
            # test_image checks that the Dockerfile names that version.
            return
        destination = self.app / copy.destination
        for source in copy.sources:
            origin = ROOT / source
            if origin.is_dir():
                shutil.copytree(origin, destination, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            else:
                assert copy.destination.endswith("/"), f"COPY {source} {copy.destination}: a folder ends with /"
                destination.mkdir(parents=True, exist_ok=True)
                shutil.copy2(origin, destination / origin.name)

    def env(self, *layers: dict[str, str]) -> dict[str, str]:
        """The runtime stage's ENV over the base image's, then each layer (compose's, the test's), paths moved."""
        env = self.runtime.env(self.base_env) | {"HOME": IMAGE_USER_HOME}
        for layer in layers:
            env |= layer
        return {name: self.host_path(value) for name, value in env.items()}

    def command(self, compose_command: list[str] | None = None) -> list[str]:
        return self.runtime.command(compose_command)

    def run(self, argv: list[str], env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return self.user.run(argv, cwd=self.app, env=env, timeout=timeout)

    def start(self, argv: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
        return self.user.start(argv, cwd=self.app, env=env, log_path=log_path)


def python_for(user: ImageUser, minor: str) -> str:
    """A Python `minor` the image's user can run: this one's base interpreter, else one installed system-wide."""
    candidates = [sys._base_executable, shutil.which(f"python{minor}"), f"/usr/local/bin/python{minor}"]
    candidates.append(f"/usr/bin/python{minor}")
    probe = f"import sys; assert '%d.%d' % sys.version_info[:2] == {minor!r}"
    for candidate in dict.fromkeys(path for path in candidates if path and Path(path).exists()):
        try:
            tried = subprocess.run(
                [candidate, "-c", probe],
                capture_output=True,
                check=False,
                env={"PATH": BASE_IMAGE_ENV["PATH"]},
                **user.popen_arguments(),
            )
        except PermissionError:  # e.g. pyenv's Python under /root
            continue
        if tried.returncode == 0:
            return str(Path(candidate).resolve())
    raise RuntimeError(f"no Python {minor} that uid {user.uid} can run among {candidates}")
