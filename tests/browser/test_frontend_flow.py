"""A front end on its own origin, in a real browser: PKCE sign-in through our login form, code exchange from
the page's JavaScript, a query, a refused mutation, a token refresh, and a trigger outcome over a subscription.

The page is docs/frontend/example-app, served from another port (another origin) with the GraphQL documents
that GraphQL Code Generator types (docs/frontend/operations): what the front-end guide shows is what runs.
"""
from __future__ import annotations

from pathlib import Path
from urllib.parse import quote, urlencode

from auth.demo import DEMO_PASSWORD
from tests.browser.servers import backflush, backflush_server, static_site

FRONTEND = Path(__file__).resolve().parents[2] / "docs" / "frontend"
CLIENT_ID = "example-ui"


def register_example_app(database_url: str, origin: str) -> None:
    """As docs/frontend.md tells an administrator to: a public client, code + refresh grants, one redirect."""
    backflush(database_url, "create-client", "--client-id", CLIENT_ID, "--name", "Example UI", "--public",
              "--grant-type", "authorization_code", "--grant-type", "refresh_token",
              "--redirect-uri", f"{origin}/example-app/index.html",
              "--scope", "production:read", "--scope", "triggers:write", "--site", "PLANT-1")


def test_a_browser_app_on_another_origin_signs_in_queries_reports_and_hears_the_outcome(
        offline_page, keep_screenshot, database_url, tmp_path):
    page = offline_page
    with static_site(FRONTEND) as app_origin, \
            backflush_server(database_url, tmp_path, BACKFLUSH_CORS_ORIGINS=app_origin) as api:
        register_example_app(database_url, app_origin)
        page.goto(f"{app_origin}/example-app/index.html?" + urlencode({"api": api, "client_id": CLIENT_ID}, quote_via=quote))

        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{api}/oauth/authorize?**")  # a top-level navigation to our own login form
        assert "Example UI asks for: production:read triggers:write" in page.inner_text("body")
        page.get_by_label("User name").fill("operator")
        page.get_by_label("Password").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()

        page.wait_for_url(f"{app_origin}/example-app/index.html**")
        page.wait_for_selector("body[data-state=done], body[data-state=failed]", timeout=90_000)
        keep_screenshot(page, "frontend-flow")
        results = page.evaluate("() => window.results")

    assert page.get_attribute("body", "data-state") == "done", (results, page.console)
    assert "code=" not in page.url  # the page took the code out of the address bar
    assert results["signedIn"] == {"scope": "production:read triggers:write", "tokenType": "Bearer", "refreshable": True}

    order = results["workOrder"]
    assert (order["number"], order["status"], order["quantity"]) == ("WO-DEMO-1", "RELEASED", "1200")
    assert order["item"] == {"code": "FG-IBU-30", "name": "Ibuprofen 200 mg, bottle of 30", "baseUom": "ea"}
    assert order["bom"]["baseQuantity"] == "12"
    assert [(line["component"]["code"], line["quantity"], line["uom"], line["scrapPercent"])
            for line in order["bom"]["lines"]] == [("API-IBU", "72", "g", "2"), ("BTL-60", "12", "ea", "0"),
                                                   ("LBL-IBU", "12", "ea", "0"), ("CTN-12", "1", "ea", "0")]
    assert [edge["node"]["number"] for edge in results["firstPage"]["edges"]] == ["WO-DEMO-1"]
    assert results["firstPage"]["pageInfo"]["hasNextPage"] is False

    assert results["refusal"] == {"replayed": False, "trigger": None, "userErrors": [
        {"field": ["input", "operationSeq"], "message": "operation 99 is not on this work order",
         "code": "WRONG_OPERATION"}]}
    assert results["refreshed"] == {"rotated": True}

    posted, event = results["posted"], results["event"]
    assert posted["userErrors"] == []
    # What the subscription delivered is the trigger the page's own mutation reported, as the server decided it.
    assert (event["id"], event["idempotencyKey"], event["outcome"]) == (
        posted["trigger"]["id"], posted["trigger"]["idempotencyKey"], posted["trigger"]["outcome"])
    assert (event["kind"], event["goodQuantity"], event["workOrder"]) == ("PACK_CONFIRMED", "12", {"number": "WO-DEMO-1"})
    assert event["outcome"] in ("POSTED", "BLOCKED") and (event["outcome"] == "BLOCKED") == bool(event["blockReasons"])
    assert page.refused == [], page.refused
