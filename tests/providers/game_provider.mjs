// oauth2-mock-server as the game page's provider in tests/e2e/test_demo_provider.py.
// Usage: node game_provider.mjs PORT [SECRET_FILE METHOD]
//   Prints "READY <issuer url>" once it serves, then one JSON line per token request:
//   {"grant_type", "client_id", "authentication", "secret_matches"} (never the secret itself).
// With SECRET_FILE, it behaves like a provider whose clients must authenticate (Google's "Web
// application" clients): discovery lists METHOD (client_secret_basic or client_secret_post)
// alone, and a token request without that secret, sent that way, is answered 401 invalid_client.
// The password grant's ID token names the user asked for (sub and preferred_username), so that
// tests can sign in several people; the authorization code flow signs in "johndoe".
// It stops on SIGTERM or when its standard input closes (the test process went away).
import { readFileSync } from 'node:fs';
import { OAuth2Server } from 'oauth2-mock-server';

import { serveUntilStopped } from './lifecycle.mjs';

const port = Number.parseInt(process.argv[2] ?? '0', 10);
const secretFile = process.argv[3];
const method = process.argv[4] ?? 'client_secret_basic';
const secret = secretFile ? readFileSync(secretFile, 'utf8').trim() : null;

const server = new OAuth2Server();
await server.issuer.keys.generate('RS256');
server.issuer.url = `http://127.0.0.1:${port}`;

function presented(req) {
  const header = req.headers.authorization ?? '';
  if (header.startsWith('Basic ')) {
    const pair = Buffer.from(header.slice(6), 'base64').toString('utf8');
    const colon = pair.indexOf(':');
    return {
      authentication: 'client_secret_basic',
      clientId: decodeURIComponent(pair.slice(0, colon).replace(/\+/g, ' ')),
      secret: decodeURIComponent(pair.slice(colon + 1).replace(/\+/g, ' ')),
    };
  }
  if (req.body?.client_secret !== undefined) {
    return { authentication: 'client_secret_post', clientId: req.body.client_id, secret: req.body.client_secret };
  }
  return { authentication: 'none', clientId: req.body?.client_id, secret: null };
}

if (secret !== null) {
  server.service.on('beforeWellKnownOpenIdConfiguration', (response) => {
    response.body.token_endpoint_auth_methods_supported = [method];
  });
}

server.service.on('beforeTokenSigning', (token, req) => {
  if (req.body?.grant_type === 'password' && typeof req.body.username === 'string') {
    token.payload.sub = req.body.username;
    token.payload.preferred_username = req.body.username;
  }
});

server.service.on('beforeResponse', (response, req) => {
  const client = presented(req);
  const matches = secret !== null && client.authentication === method && client.secret === secret;
  process.stdout.write(`${JSON.stringify({
    grant_type: req.body?.grant_type ?? null,
    client_id: client.clientId ?? null,
    authentication: client.authentication,
    secret_matches: matches,
  })}\n`);
  if (secret !== null && !matches) {
    response.statusCode = 401;
    response.body = { error: 'invalid_client', error_description: 'client authentication failed' };
  }
});

await serveUntilStopped(server, port);
