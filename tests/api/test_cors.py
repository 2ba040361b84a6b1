"""A browser app on its own origin may call /graphql, /oauth/token and /.well-known/* — if, and only if,
its exact origin is listed in BACKFLUSH_CORS_ORIGINS. Everything else stays same-origin."""
from __future__ import annotations

import pytest
from starlette.testclient import TestClient, WebSocketDenialResponse
from starlette.websockets import WebSocketDisconnect

from api.app import create_app
from kernel.settings import Settings

UI = "https://ui.example"
OTHER_UI = "http://127.0.0.1:5173"
STRANGER = "https://evil.example"
API_PREFLIGHT = {"Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "authorization, content-type, x-request-id"}


@pytest.fixture
def client(database_url):
    settings = Settings.from_env({"BACKFLUSH_DATABASE_URL": database_url,
                                  "BACKFLUSH_CORS_ORIGINS": f"{UI}, {OTHER_UI}"})
    with TestClient(create_app(settings), base_url="https://backflush.test") as client:
        yield client


def cors_headers(response) -> dict[str, str]:
    return {name: value for name, value in response.headers.items() if name.startswith("access-control-")}


@pytest.mark.parametrize("path", ["/graphql", "/oauth/token"])
def test_a_listed_origin_passes_the_preflight_with_our_headers_allowed_and_cached(client, path):
    response = client.options(path, headers={"Origin": UI, **API_PREFLIGHT})

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == UI
    assert {h.strip().lower() for h in response.headers["access-control-allow-headers"].split(",")} >= {
        "authorization", "content-type", "x-request-id"}
    assert {m.strip() for m in response.headers["access-control-allow-methods"].split(",")} == {"GET", "POST"}
    assert response.headers["access-control-max-age"] == "3600"
    assert "access-control-allow-credentials" not in response.headers


def test_a_listed_origins_graphql_request_may_read_the_answer_the_request_id_and_the_server_time(client):
    # No token: the 401 itself must be readable by the app, or it cannot tell "sign in again" from a network error.
    response = client.post("/graphql", json={"query": "{ __typename }"},
                           headers={"Origin": OTHER_UI, "X-Request-ID": "ui-4711"})

    assert response.status_code == 401
    assert response.headers["x-request-id"] == "ui-4711"
    assert response.headers["access-control-allow-origin"] == OTHER_UI
    assert response.headers["access-control-expose-headers"].lower() == "x-request-id, server-timing"
    assert response.headers["server-timing"].startswith("app;dur=")
    assert "origin" in response.headers["vary"].lower()
    assert "access-control-allow-credentials" not in response.headers


def test_a_listed_origin_may_read_the_token_endpoints_answer(client):
    response = client.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": "nobody"},
                           headers={"Origin": UI})

    assert response.status_code == 401 and response.json()["error"] == "invalid_client"
    assert response.headers["access-control-allow-origin"] == UI


@pytest.mark.parametrize("path", ["/.well-known/openid-configuration", "/.well-known/jwks.json",
                                  "/.well-known/oauth-authorization-server"])
def test_a_listed_origin_may_read_discovery_and_keys(client, path):
    response = client.get(path, headers={"Origin": UI})

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == UI


@pytest.mark.parametrize("path", ["/graphql", "/oauth/token", "/.well-known/jwks.json"])
def test_an_unlisted_origin_is_refused_the_preflight_and_granted_nothing(client, path):
    preflight = client.options(path, headers={"Origin": STRANGER, **API_PREFLIGHT})
    request = client.get(path, headers={"Origin": STRANGER})

    assert preflight.status_code == 400
    assert "access-control-allow-origin" not in preflight.headers
    assert "access-control-allow-origin" not in request.headers


def test_an_origin_is_matched_exactly_not_by_prefix_or_scheme(client):
    for near_miss in ("http://ui.example", "https://ui.example.evil", "https://ui.example:8443", "null"):
        response = client.post("/graphql", json={"query": "{ __typename }"}, headers={"Origin": near_miss})
        assert "access-control-allow-origin" not in response.headers, near_miss


def test_the_login_page_stays_same_origin_even_for_a_listed_origin(client):
    preflight = client.options("/oauth/authorize", headers={"Origin": UI, **API_PREFLIGHT})
    page = client.get("/oauth/authorize", params={"client_id": "nobody"}, headers={"Origin": UI})

    assert preflight.status_code == 405
    assert cors_headers(preflight) == {} and cors_headers(page) == {}


def test_health_is_not_opened_to_browsers(client):
    assert cors_headers(client.get("/healthz", headers={"Origin": UI})) == {}


def test_without_configured_origins_no_origin_is_answered(database_url):
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        preflight = client.options("/graphql", headers={"Origin": UI, **API_PREFLIGHT})
        token = client.post("/oauth/token", data={"grant_type": "client_credentials"}, headers={"Origin": UI})

    assert preflight.status_code == 405
    assert cors_headers(preflight) == {} and cors_headers(token) == {}


@pytest.mark.parametrize("bad", ["*", "https://ui.example/", "https://ui.example/app", "ui.example", "null",
                                 "ftp://ui.example", "https://UI.example", "https://ui.example:443",
                                 "https://user@ui.example", "https://ui.example:port"])
def test_a_configured_origin_that_is_not_an_exact_origin_stops_the_service_at_start(bad):
    with pytest.raises(ValueError, match="BACKFLUSH_CORS_ORIGINS"):
        Settings.from_env({"BACKFLUSH_CORS_ORIGINS": f"https://ok.example,{bad}"})


def test_origins_are_read_as_a_comma_separated_list():
    settings = Settings.from_env({"BACKFLUSH_CORS_ORIGINS": " https://a.example ,http://localhost:5173,, http://[::1]:8080"})

    assert settings.cors_origins == ("https://a.example", "http://localhost:5173", "http://[::1]:8080")


def open_subscription_socket(client, origin: str) -> str:
    """ "accepted" when the socket opened (our own refusal, 4403 for the missing token, comes after), else "refused"."""
    try:
        with client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"],
                                      headers={"Origin": origin}) as socket:
            socket.send_json({"type": "connection_init", "payload": {}})  # no token: refused after the handshake
            socket.receive_json()
    except WebSocketDisconnect as closed:
        return "accepted" if closed.code == 4403 else "refused"
    except WebSocketDenialResponse:
        return "refused"
    return "accepted"


def test_a_listed_origin_may_open_a_subscription_socket_and_an_unlisted_one_may_not(client):
    assert open_subscription_socket(client, UI) == "accepted"
    assert open_subscription_socket(client, STRANGER) == "refused"
