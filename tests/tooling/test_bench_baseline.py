"""The bench's baseline is served as its own checkout says: with the HTTP protocol its launcher names."""

from __future__ import annotations

from pathlib import Path

from bench.baseline import http_protocol
from devtools.live_server import HTTP_PROTOCOL


def test_the_baseline_is_served_with_the_protocol_its_own_launcher_names(tmp_path: Path) -> None:
    launcher = tmp_path / "devtools" / "live_server.py"
    launcher.parent.mkdir()
    launcher.write_text('ROOT = "."\nHTTP_PROTOCOL = "impl.server_protocol:BoundedHttpToolsProtocol"\n')
    assert http_protocol(tmp_path) == "impl.server_protocol:BoundedHttpToolsProtocol"


def test_a_baseline_whose_launcher_names_none_is_served_with_this_checkouts(tmp_path: Path) -> None:
    assert http_protocol(tmp_path) == HTTP_PROTOCOL
