"""The evidence page in a real browser (issue 14): a three-level chain R → M → F, opened from
`backflush serve` in headless Chromium; the genealogy SVG shows every lot of the chain."""
from __future__ import annotations

import httpx

from api import ids
from tests.browser.servers import backflush, backflush_server
from tests.insight.chain import three_level_chain


def client_token(base: str, database_url: str, client_id: str, site: str) -> str:
    printed = backflush(database_url, "create-client", "--client-id", client_id, "--name", client_id,
                        "--scope", "audit:read", "--site", site)
    secret = printed.rsplit(": ", 1)[1].strip()
    answer = httpx.post(f"{base}/oauth/token", auth=(client_id, secret),
                        data={"grant_type": "client_credentials", "scope": "audit:read"})
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


def test_the_evidence_page_draws_every_lot_of_a_three_level_chain(offline_page, keep_screenshot, database_url,
                                                                    sessions, tmp_path):
    final = three_level_chain(sessions)
    url = f"/evidence/{ids.encode('WorkOrder', final.id)}.html"
    with backflush_server(database_url, tmp_path) as base:
        token = client_token(base, database_url, "auditor", "P1")
        elsewhere = client_token(base, database_url, "other-plant", "PLANT-1")
        assert httpx.get(base + url, headers={"Authorization": f"Bearer {elsewhere}"}).status_code == 404
        page = offline_page
        page.set_extra_http_headers({"Authorization": f"Bearer {token}"})
        response = page.goto(base + url)
        assert response.status == 200
        picture = page.locator("#genealogy-svg svg")
        picture.wait_for()
        drawn = page.locator("#genealogy-svg g.lot").evaluate_all("boxes => boxes.map(b => b.dataset.lot)")
        shown = page.locator("#genealogy-svg g.lot text").evaluate_all("texts => texts.map(t => t.textContent)")
        visible = all(box.is_visible() for box in page.locator("#genealogy-svg g.lot").all())
        keep_screenshot(page, "evidence-page-three-level-chain")
        box = picture.bounding_box()
    assert sorted(drawn) == ["R1", "R2", "WO-F-OUT", "WO-M-OUT"]
    for lot in ("R1", "R2", "WO-F-OUT", "WO-M-OUT"):
        assert lot in shown  # the lot number is written in its box, not only an attribute
    assert visible
    assert box["width"] > 400 and box["height"] > 100  # rendered, not an empty element
    assert page.refused == [], page.refused
    assert not [entry for entry in page.console if entry.startswith("pageerror")], page.console
