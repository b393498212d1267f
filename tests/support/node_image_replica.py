"""The Better Auth image's /app (better-auth/Dockerfile) built in a temporary folder as its one stage builds
it, and its commands run as its user, as tests/support/image_replica.py does for the API's image.

The COPY lines copy the same files from the build context (the Dockerfile's folder), the RUN lines
(`npm ci --omit=dev`) run in the copy with the stage's ENV, and commands run with the stage's ENV,
WORKDIR and USER. What differs: the folder, and Node: the machine's (`node --version`), not the base
image's.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from tests.support import dockerfile
from tests.support.image_replica import ImageUser

# What node:22-bookworm-slim sets before the Dockerfile's own ENV (its PATH holds /usr/local/bin/node;
# this machine's node is in /usr/bin).
BASE_IMAGE_ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
# From the host only what a builder's own setup gives npm: its cache, and the way to the registry.
HOST_BUILD_SETTINGS = re.compile(r"HOME|TMPDIR|NPM_CONFIG_\w+|SSL_CERT_\w+|NODE_EXTRA_CA_CERTS|\w+_PROXY")


class NodeImageReplica:
    def __init__(self, path: Path) -> None:
        (self.stage,) = dockerfile.parse(path)
        self.context = path.parent
        self.workdir = self.stage.workdir
        self.user = ImageUser.of(self.stage.user)
        self.app: Path | None = None

    def build(self, root: Path) -> None:
        """The stage, instruction by instruction, into root/<WORKDIR>; then readable by the image's user."""
        app = root / self.workdir.lstrip("/")
        app.mkdir(parents=True)
        env = {name: value for name, value in os.environ.items() if HOST_BUILD_SETTINGS.fullmatch(name.upper())}
        env |= BASE_IMAGE_ENV
        for instruction in self.stage.instructions:
            if instruction.keyword == "ENV":
                env |= dockerfile.parse_env(instruction.arguments, env)
            elif instruction.keyword == "COPY":
                copy = dockerfile.copy(instruction)
                assert copy.from_stage is None, f"COPY {instruction.arguments}: one stage, from the context"
                assert copy.destination == "./", f"COPY {instruction.arguments}: into WORKDIR"
                for source in copy.sources:
                    (app / source).write_bytes((self.context / source).read_bytes())
            elif instruction.keyword == "RUN":
                command = dockerfile.run_command(instruction)
                built = subprocess.run(["/bin/sh", "-c", command], cwd=app, env=env, capture_output=True, text=True)
                assert built.returncode == 0, f"RUN {command}:\n{built.stdout}{built.stderr}"
        subprocess.run(["chmod", "-R", "a+rX", str(root)], check=True)
        self.app = app

    def env(self, *layers: dict[str, str]) -> dict[str, str]:
        """The stage's ENV over the base image's, then each layer (compose's, the test's)."""
        env = self.stage.env(BASE_IMAGE_ENV)
        for layer in layers:
            env |= layer
        return env

    def command(self, compose_command: list[str] | None = None) -> list[str]:
        return self.stage.command(compose_command)

    def run(self, argv: list[str], env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
        assert self.app is not None, "build() first"
        return self.user.run(argv, cwd=self.app, env=env, timeout=timeout)

    def start(self, argv: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
        """Started with its output appended to log_path: a restarted server's log follows the first one's."""
        assert self.app is not None, "build() first"
        return self.user.start(argv, cwd=self.app, env=env, log_path=log_path, append=True)
