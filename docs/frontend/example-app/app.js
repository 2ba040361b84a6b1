// A Backflush front end in plain browser JavaScript, no build step: what docs/frontend.md describes, run for
// real by tests/browser/test_frontend_flow.py. Open it as
//   http://127.0.0.1:5173/example-app/index.html?api=http://127.0.0.1:8000&client_id=example-ui
// after registering the client and listing the origin in BACKFLUSH_CORS_ORIGINS (see docs/frontend.md).
// A real app would use a GraphQL client (graphql-ws for subscriptions) and the generated TypeScript types;
// everything here is spelled out so the protocol is visible.
"use strict";

const STORE = "backflush-example";
const REDIRECT_URI = new URL("index.html", location.href).href.split("?")[0];
const SCOPE = "production:read triggers:write";
const results = {};
window.results = results;

// ---- signing in: authorization code + PKCE (S256) ----------------------------------------------------------

function base64url(bytes) {
  return btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function randomSecret() {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

async function signIn() {
  const params = new URLSearchParams(location.search);
  const api = (params.get("api") || "http://127.0.0.1:8000").replace(/\/$/, "");
  const clientId = params.get("client_id") || "example-ui";
  const verifier = randomSecret();
  const state = randomSecret();
  const challenge = base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  // sessionStorage survives the round trip through the login page, and only this tab can read it.
  sessionStorage.setItem(STORE, JSON.stringify({ api, clientId, verifier, state }));
  location.assign(`${api}/oauth/authorize?` + new URLSearchParams({
    response_type: "code", client_id: clientId, redirect_uri: REDIRECT_URI, scope: SCOPE, state,
    code_challenge: challenge, code_challenge_method: "S256",
  }));
}

async function tokenRequest(session, form) {
  // A form post is a "simple" CORS request: no preflight, but the answer is readable only by listed origins.
  const response = await fetch(`${session.api}/oauth/token`, {
    method: "POST", body: new URLSearchParams({ client_id: session.clientId, ...form }),
  });
  const body = await response.json();
  if (!response.ok) throw new Error(`token endpoint: ${body.error}: ${body.error_description || ""}`);
  session.accessToken = body.access_token;
  session.refreshToken = body.refresh_token; // rotated: each refresh token works once
  session.expiresAt = Date.now() + body.expires_in * 1000;
  return body;
}

function exchangeCode(session, code) {
  return tokenRequest(session, {
    grant_type: "authorization_code", code, redirect_uri: REDIRECT_URI, code_verifier: session.verifier,
  });
}

function refresh(session) {
  return tokenRequest(session, { grant_type: "refresh_token", refresh_token: session.refreshToken });
}

// ---- GraphQL over HTTP -------------------------------------------------------------------------------------

const documents = {};

async function operation(name) {
  // The same documents GraphQL Code Generator types (docs/frontend/operations): one source for both.
  documents[name] ??= await (await fetch(`../operations/${name}.graphql`)).text();
  return documents[name];
}

async function graphql(session, name, variables, retried = false) {
  const response = await fetch(`${session.api}/graphql`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${session.accessToken}` },
    body: JSON.stringify({ query: await operation(name), operationName: name, variables }),
  });
  if (response.status === 401 && !retried) { // expired: refresh once, then ask again
    await refresh(session);
    return graphql(session, name, variables, true);
  }
  const body = await response.json();
  if (body.errors) throw new Error(`${name}: ${body.errors.map((e) => `${e.extensions?.code}: ${e.message}`).join("; ")}`);
  return body.data;
}

// ---- subscriptions: graphql-transport-ws -------------------------------------------------------------------

function subscribe(session, name, variables, onData) {
  const socket = new WebSocket(`${session.api.replace(/^http/, "ws")}/graphql`, "graphql-transport-ws");
  const subscribed = new Promise((resolve, reject) => {
    socket.onopen = () => socket.send(JSON.stringify({
      type: "connection_init", payload: { Authorization: `Bearer ${session.accessToken}` },
    }));
    socket.onmessage = async (message) => {
      const frame = JSON.parse(message.data);
      if (frame.type === "connection_ack") {
        socket.send(JSON.stringify({ id: "1", type: "subscribe",
          payload: { query: await operation(name), operationName: name, variables } }));
        resolve();
      } else if (frame.type === "next") {
        onData(frame.payload.data);
      } else if (frame.type === "ping") {
        socket.send(JSON.stringify({ type: "pong" }));
      } else if (frame.type === "error") {
        reject(new Error(`${name}: ${JSON.stringify(frame.payload)}`));
      }
    };
    socket.onclose = (event) => reject(new Error(`socket closed: ${event.code} ${event.reason}`));
  });
  return { subscribed, close: () => socket.close(1000) };
}

// ---- the walk-through ----------------------------------------------------------------------------------

function step(text, ok = true) {
  const item = document.createElement("li");
  item.textContent = text;
  item.className = ok ? "ok" : "failed";
  document.getElementById("steps").append(item);
  document.getElementById("results").textContent = JSON.stringify(results, null, 2);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(predicate, ms) {
  for (const deadline = Date.now() + ms; Date.now() < deadline; await sleep(100)) {
    if (predicate()) return true;
  }
  return false;
}

async function walkThrough(session, code) {
  const tokens = await exchangeCode(session, code);
  results.signedIn = { scope: tokens.scope, tokenType: tokens.token_type, refreshable: Boolean(tokens.refresh_token) };
  step(`signed in; the token carries "${tokens.scope}"`);

  const { workOrder } = await graphql(session, "WorkOrder", { number: "WO-DEMO-1" });
  results.workOrder = workOrder;
  step(`${workOrder.number}: ${workOrder.status}, ${workOrder.quantity} ${workOrder.item.baseUom} of ${workOrder.item.code}`);

  const { workOrders } = await graphql(session, "WorkOrders", { first: 1 });
  results.firstPage = workOrders;
  step(`first page of work orders: ${workOrders.edges.length}, more: ${workOrders.pageInfo.hasNextPage}`);

  const refused = await graphql(session, "PostTrigger", { input: {
    idempotencyKey: randomSecret(), workOrderId: workOrder.id, kind: "OPERATION_COMPLETE", operationSeq: 99,
    goodQuantity: "12" } });
  results.refusal = refused.postTrigger;
  step(`refused as expected: ${refused.postTrigger.userErrors.map((e) => e.code).join(", ")}`);

  const before = session.refreshToken;
  await refresh(session);
  results.refreshed = { rotated: session.refreshToken !== before };
  step("token refreshed");

  const events = [];
  const outcomes = subscribe(session, "TriggerOutcomes", { workOrderId: workOrder.id }, (data) => events.push(data.triggerOutcomes));
  await outcomes.subscribed;
  step("listening for trigger outcomes");
  // The subscription starts listening a moment after `subscribe` is sent; an event posted before that is
  // not replayed. So: report, and report again (a new key each time) if nothing came back.
  const posted = [];
  for (let attempt = 0; attempt < 4 && !events.some((e) => posted.includes(e.idempotencyKey)); attempt++) {
    await sleep(attempt === 0 ? 500 : 0);
    const key = `example-${randomSecret()}`;
    const report = await graphql(session, "PostTrigger", { input: {
      idempotencyKey: key, workOrderId: workOrder.id, kind: "PACK_CONFIRMED", goodQuantity: "12" } });
    posted.push(key);
    results.posted = report.postTrigger;
    await waitFor(() => events.some((e) => e.idempotencyKey === key), 5000);
  }
  outcomes.close();
  results.event = events.find((e) => posted.includes(e.idempotencyKey)) || null;
  if (!results.event) throw new Error("no trigger outcome arrived over the subscription");
  step(`trigger outcome received: ${results.event.outcome} (${results.event.blockReasons.map((r) => r.code).join(", ") || "posted"})`);
}

async function main() {
  document.getElementById("sign-in").addEventListener("click", () => signIn().catch(fail));
  const params = new URLSearchParams(location.search);
  if (!params.has("code") && !params.has("error")) return;
  const session = JSON.parse(sessionStorage.getItem(STORE) || "null");
  sessionStorage.removeItem(STORE); // a code and its verifier are used once
  history.replaceState(null, "", REDIRECT_URI); // keep the code out of the address bar and history
  if (!session || params.get("state") !== session.state) throw new Error("sign-in answer does not match our request");
  if (params.has("error")) throw new Error(`sign-in refused: ${params.get("error")}`);
  document.body.dataset.state = "running";
  await walkThrough(session, params.get("code"));
  document.body.dataset.state = "done";
}

function fail(error) {
  results.error = String(error.message || error);
  step(results.error, false);
  document.body.dataset.state = "failed";
}

main().catch(fail);
