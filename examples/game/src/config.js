// The page's configuration, read from config.json next to the page (`webfed demo` serves it).
//
// {
//   "region": "us-east-1",
//   "identityPoolId": "us-east-1:00000000-0000-4000-8000-000000000001",
//   "cognitoIdentityEndpoint": "http://127.0.0.1:8700",   // webfed (Cognito Identity API)
//   "webfedEndpoint": "http://127.0.0.1:8700",            // webfed itself (play.py: STS)
//   "s3Endpoint": "http://127.0.0.1:8701",                // webfed gateway s3
//   "dynamodbEndpoint": "http://127.0.0.1:8702",          // webfed gateway dynamodb
//   "bucket": "game-assets",
//   "table": "game-scores",
//   "oidc": {
//     "issuer": "http://127.0.0.1:8700/dev-idp",          // any OpenID Connect provider
//     "authorizationEndpoint": "...", "tokenEndpoint": "...",  // optional: else discovery;
//                      // tokenEndpoint may be the demo's relay, "http://127.0.0.1:8710/oidc/token",
//                      // which adds the client secret (webfed demo --oidc-client-secret-file)
//     "clientId": "webfed-game",
//     "loginKey": "127.0.0.1:8700/dev-idp",               // the Logins key of the pool
//     "scope": "openid profile"                           // optional
//   },
//   "adminDecodeUrl": "/admin/decode"                     // optional: the demo's admin helper
// }

const REQUIRED = [
  "region", "identityPoolId", "cognitoIdentityEndpoint", "s3Endpoint", "dynamodbEndpoint",
  "bucket", "table",
];

/** Fetches and checks config.json; fills the provider's endpoints from its discovery document. */
export async function loadConfig(url = "config.json") {
  const response = await fetch(url, { cache: "no-store" });
  if (!response.ok) {
    throw new Error(`${url}: HTTP ${response.status}`);
  }
  const config = await response.json();
  const missing = REQUIRED.filter((name) => typeof config[name] !== "string" || !config[name]);
  if (missing.length > 0) {
    throw new Error(`${url} lacks ${missing.join(", ")}`);
  }
  if (config.oidc) {
    config.oidc = await completeProvider(config.oidc);
  }
  return config;
}

async function completeProvider(oidc) {
  for (const name of ["issuer", "clientId", "loginKey"]) {
    if (typeof oidc[name] !== "string" || !oidc[name]) {
      throw new Error(`config.json: oidc.${name} is required`);
    }
  }
  const complete = { scope: "openid profile", ...oidc };
  if (complete.authorizationEndpoint && complete.tokenEndpoint) {
    return complete;
  }
  // OpenID Connect Discovery 1.0: the document lives under the issuer URL.
  const discovery = `${oidc.issuer.replace(/\/$/, "")}/.well-known/openid-configuration`;
  const response = await fetch(discovery);
  if (!response.ok) {
    throw new Error(`${discovery}: HTTP ${response.status}`);
  }
  const document = await response.json();
  complete.authorizationEndpoint ??= document.authorization_endpoint;
  complete.tokenEndpoint ??= document.token_endpoint;
  return complete;
}
