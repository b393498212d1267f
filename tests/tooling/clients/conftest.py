"""The clients `make clients` builds, once per session, for the tests that install them."""

from __future__ import annotations

import pytest

from tests.support.client_projects import BuiltClients, build_clients


@pytest.fixture(scope="session")
def built_clients(tmp_path_factory: pytest.TempPathFactory) -> BuiltClients:
    return build_clients(tmp_path_factory.mktemp("clients"))
