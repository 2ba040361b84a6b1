"""An API client whose app serves /metrics behind a scrape token."""
from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from api.app import create_app
from kernel.database import session_factory
from kernel.settings import Settings
from tests.api.conftest import Api, Principals

SCRAPE_TOKEN = "scrape-token-for-tests"


@pytest.fixture
def api(engine, database_url):
    principals = Principals(session_factory(engine))
    principals.add_user("qa", roles=("QA",))
    app = create_app(Settings(database_url=database_url, metrics_token=SCRAPE_TOKEN),
                     authenticate=principals.authenticate)
    with TestClient(app) as client:
        yield Api(client, principals)
