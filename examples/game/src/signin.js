// OpenID Connect sign-in for a browser app: authorization code flow with PKCE (RFC 7636, S256).
//
// The page is a public client: it holds no secret, so the code is bound to a one-time
// verifier kept in sessionStorage between the redirect to the provider and the way back.

const PENDING = "webfed-game:pending-sign-in";

function base64url(bytes) {
  let text = "";
  for (const byte of bytes) {
    text += String.fromCharCode(byte);
  }
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function randomText(size = 32) {
  return base64url(crypto.getRandomValues(new Uint8Array(size)));
}

async function s256(text) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return base64url(new Uint8Array(digest));
}

/** Where the provider sends the browser back: this page, without its query. */
export function redirectUri() {
  return `${location.origin}${location.pathname}`;
}

/** Leaves for the provider's sign-in page. */
export async function beginSignIn(oidc) {
  const verifier = randomText();
  const state = randomText(16);
  const nonce = randomText(16);
  sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state, nonce }));
  const query = new URLSearchParams({
    response_type: "code",
    client_id: oidc.clientId,
    redirect_uri: redirectUri(),
    scope: oidc.scope,
    state,
    nonce,
    code_challenge: await s256(verifier),
    code_challenge_method: "S256",
  });
  location.assign(`${oidc.authorizationEndpoint}?${query}`);
}

/**
 * On the way back from the provider: trades the code for tokens. Returns null when the page
 * was not opened by a redirect from the provider.
 */
export async function completeSignIn(oidc) {
  const params = new URLSearchParams(location.search);
  if (!params.has("code") && !params.has("error")) {
    return null;
  }
  history.replaceState(null, "", redirectUri()); // the code is single-use: drop it from the URL
  const pending = JSON.parse(sessionStorage.getItem(PENDING) ?? "null");
  sessionStorage.removeItem(PENDING);
  if (params.has("error")) {
    throw new Error(`sign-in refused: ${params.get("error")} ${params.get("error_description") ?? ""}`);
  }
  if (!pending || params.get("state") !== pending.state) {
    throw new Error("sign-in answer does not match a sign-in started here (state)");
  }
  const response = await fetch(oidc.tokenEndpoint, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      code: params.get("code"),
      redirect_uri: redirectUri(),
      client_id: oidc.clientId,
      code_verifier: pending.verifier,
    }),
  });
  const body = await response.json();
  if (!response.ok) {
    throw new Error(`token endpoint: ${body.error ?? response.status} ${body.error_description ?? ""}`);
  }
  const claims = readClaims(body.id_token);
  if (claims.nonce !== pending.nonce) {
    throw new Error("the ID token's nonce is not the one sent");
  }
  return { idToken: body.id_token, claims };
}

/**
 * The ID token's claims, for display only. The page does not need to verify the signature:
 * webfed verifies the token against the provider's keys before it hands out credentials.
 */
export function readClaims(idToken) {
  const payload = idToken.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
  const bytes = Uint8Array.from(atob(payload), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}
