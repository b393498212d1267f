"""`make fuzz`: Schemathesis against a running instance of the service, with every check and phase.

Environment:
  FUZZ_URL            the instance's base URL (required), e.g. http://127.0.0.1:8000 for `make run`
  Credentials, one of:
  FUZZ_JWT_SECRET     the instance's JWT_SECRET: each test case gets a token minted for its own
                      `user_id` (`make run` keeps its secret in .data/dev-jwt-secret);
  FUZZ_JWT_ISSUER     with it, the instance's JWT_ISSUER and JWT_AUDIENCE, when it sets them
  FUZZ_JWT_AUDIENCE
  FUZZ_TOKEN          or a token for one test account (an instance whose issuer we cannot sign for,
  FUZZ_USER_ID        such as a deployed staging service) and that token's `sub`: every request then
                      uses that user's paths. Fuzzing writes and deletes that user's tasks.
  FUZZ_MAX_EXAMPLES   test cases per operation and phase (default 300)
  FUZZ_SEED           the random seed (default: a new one each run; the run prints it to reproduce it)

The JUnit report goes to reports/fuzz/junit.xml; beside it Schemathesis's events report
(events.ndjson) and what the run covered of the contract (coverage.json, and coverage.md to read,
devtools/fuzz_coverage). The run fails when Schemathesis finds a failure, or when a documented
response was never produced or a link never followed and fuzz-unreached.toml does not say why.
tests/api/test_contract_fuzz.py runs the same command (schemathesis_command) against a server it
starts, with fewer examples and a fixed seed, and the same gate.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jose import jwt

from devtools import fuzz_coverage

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "openapi" / "tasks.yaml"
# Registers devtools/schemathesis_hooks.py, which puts a token on every case.
CONFIG = ROOT / "schemathesis.toml"
REPORT_DIR = ROOT / "reports" / "fuzz"
PHASES = ("examples", "coverage", "fuzzing", "stateful")
DEFAULT_MAX_EXAMPLES = 300
# Extra runs of the stateful phase alone while a link was never followed (decision 0047).
STATEFUL_PASSES = 2
TOKEN_MINUTES = 15
# The spec's UserId parameter.
USER_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")
USAGE = (
    "Usage: FUZZ_URL=http://127.0.0.1:8000 FUZZ_JWT_SECRET=... make fuzz\n"
    "   or: FUZZ_URL=https://staging.example FUZZ_TOKEN=... FUZZ_USER_ID=... make fuzz\n"
    "(against `make run`: FUZZ_JWT_SECRET=$(cat .data/dev-jwt-secret)); see devtools/fuzz.py."
)


@dataclass(frozen=True)
class Credentials:
    """How devtools/schemathesis_hooks.py gets each case's token: the FUZZ_* variables it reads."""

    env: dict[str, str]

    @classmethod
    def minting(cls, secret: str, *, issuer: str | None = None, audience: str | None = None) -> Credentials:
        env = {"FUZZ_JWT_SECRET": secret}
        if issuer:
            env["FUZZ_JWT_ISSUER"] = issuer
        if audience:
            env["FUZZ_JWT_AUDIENCE"] = audience
        return cls(env)

    @classmethod
    def fixed(cls, token: str, user_id: str) -> Credentials:
        if not USER_ID.fullmatch(user_id):
            raise ValueError(f"FUZZ_USER_ID must match the spec's user_id pattern {USER_ID.pattern}")
        return cls({"FUZZ_TOKEN": token, "FUZZ_USER_ID": user_id})

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> Credentials:
        if secret := environ.get("FUZZ_JWT_SECRET"):
            return cls.minting(secret, issuer=environ.get("FUZZ_JWT_ISSUER"), audience=environ.get("FUZZ_JWT_AUDIENCE"))
        token, user_id = environ.get("FUZZ_TOKEN"), environ.get("FUZZ_USER_ID")
        if token and user_id:
            return cls.fixed(token, user_id)
        raise ValueError("set FUZZ_JWT_SECRET, or both FUZZ_TOKEN and FUZZ_USER_ID")


def token_for(user_id: str, env: Mapping[str, str] = os.environ) -> str:
    """The bearer token for a request on `user_id`'s paths, per the FUZZ_* variables (see Credentials)."""
    fixed = env.get("FUZZ_TOKEN")
    if fixed:
        return fixed
    secret = env.get("FUZZ_JWT_SECRET")
    if not secret:
        raise RuntimeError("set FUZZ_JWT_SECRET (to mint tokens per case) or FUZZ_TOKEN (a fixed token)")
    now = int(time.time())
    claims: dict[str, Any] = {"sub": user_id, "iat": now, "exp": now + TOKEN_MINUTES * 60}
    if issuer := env.get("FUZZ_JWT_ISSUER"):
        claims["iss"] = issuer
    if audience := env.get("FUZZ_JWT_AUDIENCE"):
        claims["aud"] = audience
    return jwt.encode(claims, secret, algorithm="HS256")


def schemathesis_command(
    url: str,
    *,
    max_examples: int,
    report_dir: Path,
    seed: int | None = None,
    example_database: str | None = None,
    stateful_pass: int = 0,
    phases: Sequence[str] = PHASES,
    checks: Sequence[str] = ("all",),
) -> list[str]:
    """The one Schemathesis command line, for `make fuzz` and tests/api/test_contract_fuzz.py alike (and, with
    fewer phases, tests/api/test_mock.py).

    `stateful_pass` N > 0: the stateful phase alone once more, its reports named for N beside the first.
    """
    phases, suffix = (phases, "") if not stateful_pass else (("stateful",), f"-stateful-{stateful_pass}")
    command = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(CONFIG), "run", str(SPEC)]
    command += ["--url", url, "--checks", ",".join(checks), "--phases", ",".join(phases)]
    # More than one worker crashes at random on Python 3.11 (CPython gh-106905, see FIELD-NOTES).
    command += ["--workers", "1", "--max-examples", str(max_examples)]
    command += ["--report", "junit,ndjson", "--report-dir", str(report_dir)]
    command += ["--report-junit-path", str(report_dir / f"junit{suffix}.xml")]
    command += ["--report-ndjson-path", str(report_dir / f"events{suffix}.ndjson"), "--no-color"]
    if seed is not None:
        command += ["--seed", str(seed + stateful_pass)]
    if example_database is not None:
        command += ["--generation-database", example_database]
    return command


def schemathesis_env(credentials: Credentials, base: Mapping[str, str] = os.environ) -> dict[str, str]:
    """The environment without anyone's stray FUZZ_* settings, plus exactly these credentials."""
    return {**{k: v for k, v in base.items() if not k.startswith("FUZZ_")}, **credentials.env}


def run(
    url: str,
    credentials: Credentials,
    *,
    max_examples: int,
    report_dir: Path = REPORT_DIR,
    seed: int | None = None,
    example_database: str | None = None,
    capture: bool = False,
    timeout: float | None = None,
    stateful_pass: int = 0,
    phases: Sequence[str] = PHASES,
    checks: Sequence[str] = ("all",),
) -> subprocess.CompletedProcess[str]:
    """Run Schemathesis; with capture, its output (stdout and stderr together) is in the result's stdout."""
    report_dir.mkdir(parents=True, exist_ok=True)
    command = schemathesis_command(
        url,
        max_examples=max_examples,
        report_dir=report_dir,
        seed=seed,
        example_database=example_database,
        stateful_pass=stateful_pass,
        phases=phases,
        checks=checks,
    )
    print("$", subprocess.list2cmdline(command), flush=True)
    return subprocess.run(
        command,
        cwd=ROOT,
        env=schemathesis_env(credentials),
        stdout=subprocess.PIPE if capture else None,
        stderr=subprocess.STDOUT if capture else None,
        text=True,
        check=False,
        timeout=timeout,
    )


@dataclass(frozen=True)
class Outcome:
    """A fuzz run: Schemathesis's exit status (the first non-zero of its passes), its output, the coverage verdict."""

    returncode: int
    output: str
    coverage: fuzz_coverage.Verdict

    @property
    def passed(self) -> bool:
        return self.returncode == 0 and self.coverage.passed


def fuzz(url: str, credentials: Credentials, *, report_dir: Path = REPORT_DIR, **options: Any) -> Outcome:
    """Run Schemathesis and judge its coverage; while only links or long sequences are missing, run the
    stateful phase again, at most STATEFUL_PASSES more times.

    Which link a stateful step follows, and whether it sends each value the link extracted, is drawn
    from true randomness, outside the seed: one pass may by chance not follow a link another does.
    """
    for stale in [*report_dir.glob("events-stateful-*.ndjson"), *report_dir.glob("junit-stateful-*.xml")]:
        stale.unlink()
    result = run(url, credentials, report_dir=report_dir, **options)
    returncode, output = result.returncode, result.stdout or ""
    coverage = fuzz_coverage.write_report(report_dir)
    for stateful_pass in range(1, STATEFUL_PASSES + 1):
        if returncode != 0 or not coverage.wants_more_stateful:
            break
        result = run(url, credentials, report_dir=report_dir, stateful_pass=stateful_pass, **options)
        returncode, output = result.returncode, output + (result.stdout or "")
        coverage = fuzz_coverage.write_report(report_dir)
    return Outcome(returncode, output, coverage)


def main() -> int:
    url = os.environ.get("FUZZ_URL")
    if not url:
        print(f"FUZZ_URL is required.\n{USAGE}", file=sys.stderr)
        return 2
    try:
        credentials = Credentials.from_environment(os.environ)
        max_examples = int(os.environ.get("FUZZ_MAX_EXAMPLES") or DEFAULT_MAX_EXAMPLES)
        seed = int(os.environ["FUZZ_SEED"]) if os.environ.get("FUZZ_SEED") else None
    except ValueError as error:
        print(f"{error}\n{USAGE}", file=sys.stderr)
        return 2
    try:
        outcome = fuzz(url.rstrip("/"), credentials, max_examples=max_examples, seed=seed)
    except (OSError, ValueError) as error:
        print(f"No coverage report: {error}", file=sys.stderr)
        return 1
    print((REPORT_DIR / fuzz_coverage.MARKDOWN_FILE).read_text(), flush=True)
    return outcome.returncode or (0 if outcome.coverage.passed else 1)


if __name__ == "__main__":
    sys.exit(main())
