"""`tasks-api mock`: every operation answered from the spec's examples (decision 0058), served as `serve` serves."""

from __future__ import annotations

import argparse

from impl.cli.serve import run_app
from impl.cli.settings_check import read_settings


def mock(args: argparse.Namespace) -> None:
    read_settings()  # here, once, rather than in each worker that would then die
    run_app("impl.mock_app:create_mock_app", args)
