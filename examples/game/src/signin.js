// OpenID Connect sign-in for a browser app: authorization code flow with PKCE (RFC 7636, S256).
//
// The page is a public client: it holds no secret, so the code is bound to a one-time
// verifier kept in sessionStorage between the redirect to the provider and the way back.
// Providers that insist on a client secret (Google's "Web application" clients) are reached
// through the demo's token relay: config.json's oidc.tokenEndpoint then names it, and the page
// sends the very same request there (docs/game.md, "With your own provider").

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
  // The endpoint may carry a query of its own, which stays (RFC 6749 section 3.1).
  const url = new URL(oidc.authorizationEndpoint);
  const query = {
    response_type: "code",
    client_id: oidc.clientId,
    redirect_uri: redirectUri(),
    scope: oidc.scope,
    state,
    nonce,
    code_challenge: await s256(verifier),
    code_challenge_method: "S256",
  };
  for (const [name, value] of Object.entries(query)) {
    url.searchParams.set(name, value);
  }
  location.assign(url.href);
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
  // RFC 9207: a provider that names itself in the answer must be the one the page sent the
  // player to (a mix-up with another provider would hand this page someone else's code).
  if (params.has("iss") && params.get("iss") !== oidc.issuer) {
    throw new Error(`sign-in answer from another provider: ${params.get("iss")}`);
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
  }).catch((error) => {
    // The browser hides why; the usual reason is a provider without CORS for this page.
    throw new Error(`the token endpoint ${oidc.tokenEndpoint} could not be reached from this page ` +
      `(${error.message}): does the provider allow this origin (CORS)?`);
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new Error(`token endpoint: ${body.error ?? `HTTP ${response.status}`} ${body.error_description ?? ""}`);
  }
  if (typeof body.id_token !== "string") {
    throw new Error("the token endpoint returned no ID token (is openid in the scope?)");
  }
  // Only the ID token is used: no refresh token is expected or kept.
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
