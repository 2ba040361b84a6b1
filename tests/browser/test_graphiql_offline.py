"""GraphiQL renders and runs a query in a browser that can reach nothing but the service (a plant network)."""
from __future__ import annotations

import json
from urllib.parse import quote, urlencode

import httpx

from auth.demo import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
from tests.browser.servers import backflush_server

QUERY = '{ workOrder(number: "WO-DEMO-1") { number quantity } }'


def test_graphiql_renders_and_answers_a_query_without_internet_access(offline_page, keep_screenshot, database_url,
                                                                       tmp_path):
    page = offline_page
    with backflush_server(database_url, tmp_path) as base:
        token = httpx.post(f"{base}/oauth/token", auth=(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET),
                           data={"grant_type": "client_credentials", "scope": "production:read"}).json()["access_token"]
        # GraphiQL takes its query and request headers from the address (strawberry's page shares them so).
        headers = json.dumps({"Authorization": f"Bearer {token}"})
        page.goto(f"{base}/graphql?" + urlencode({"q": QUERY, "headers": headers}, quote_via=quote))  # no "+" for spaces

        page.locator(".graphiql-container .graphiql-query-editor .CodeMirror").wait_for()
        page.locator("button.graphiql-execute-button").click()
        result = page.locator(".graphiql-response .CodeMirror")
        result.filter(has_text='"WO-DEMO-1"').wait_for()
        keep_screenshot(page, "graphiql-offline")

        answer = json.loads(page.evaluate("() => document.querySelector('.graphiql-response .CodeMirror').CodeMirror.getValue()"))
    assert answer == {"data": {"workOrder": {"number": "WO-DEMO-1", "quantity": "1200"}}}
    assert page.locator("#graphiql").inner_text() != "Loading..."
    assert page.refused == [], f"GraphiQL tried to reach other hosts: {page.refused}"
    assert not [line for line in page.console if line.startswith("pageerror")], page.console
