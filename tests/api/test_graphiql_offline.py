"""GraphiQL works on a plant network: its page and every script and style it loads come from the service."""
from __future__ import annotations

import base64
import hashlib
import re
from html.parser import HTMLParser

import pytest
from starlette.testclient import TestClient

from api.app import create_app
from kernel.settings import Settings


class Resources(HTMLParser):
    """Every URL the page makes the browser fetch, with the integrity hash it promises."""

    def __init__(self):
        super().__init__()
        self.found: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        url = attrs.get("src") if tag in ("script", "img", "iframe") else attrs.get("href") if tag == "link" else None
        if url:
            self.found.append((re.sub(r"\s+", "", url), attrs.get("integrity")))


@pytest.fixture
def client(database_url):
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        yield client


def graphiql_page(client) -> str:
    response = client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    return response.text


def page_resources(client) -> list[tuple[str, str | None]]:
    parser = Resources()
    parser.feed(graphiql_page(client))
    return parser.found


def test_the_graphiql_page_references_no_external_host(client):
    page = graphiql_page(client)
    resources = page_resources(client)

    assert len([url for url, _ in resources if url.startswith("/graphiql/")]) == 7  # 5 scripts, 2 stylesheets
    external = [url for url, _ in resources if not (url.startswith("/") and not url.startswith("//"))
                and not url.startswith("data:")]
    assert external == []
    assert "unpkg.com" not in page and "cdn" not in page.lower()


def test_every_asset_the_page_loads_is_served_with_the_hash_it_promises(client):
    for url, integrity in page_resources(client):
        if url.startswith("data:"):
            continue
        response = client.get(url)
        assert response.status_code == 200, url
        assert integrity and integrity.startswith("sha384-"), url
        digest = base64.b64encode(hashlib.sha384(response.content).digest()).decode()
        assert integrity == f"sha384-{digest}", url  # the browser refuses the asset otherwise


def test_the_stylesheets_fetch_nothing_from_elsewhere(client):
    for url, _ in page_resources(client):
        if url.endswith(".css"):
            css = client.get(url).text
            assert re.findall(r"url\(\s*['\"]?(?:https?:)?//", css) == [], url
            assert re.findall(r"@import\s+(?:url\()?\s*['\"]?(?:https?:)?//", css) == [], url


def test_without_graphiql_neither_the_page_nor_its_assets_are_served(database_url):
    with TestClient(create_app(Settings(database_url=database_url, graphiql=False))) as client:
        page = client.get("/graphql", headers={"Accept": "text/html"})
        asset = client.get("/graphiql/index.html")

    assert "graphiql" not in page.text.lower()
    assert asset.status_code == 404
