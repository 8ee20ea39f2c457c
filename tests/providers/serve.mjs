// Start oauth2-mock-server (an independent OpenID provider) on 127.0.0.1 for webfed's tests.
// Usage: node serve.mjs PORT [ALG]   Prints one line "READY <issuer url>" once it serves.
// It stops on SIGTERM or when its standard input closes (the test process went away).
import { OAuth2Server } from 'oauth2-mock-server';

import { serveUntilStopped } from './lifecycle.mjs';

const port = Number.parseInt(process.argv[2] ?? '0', 10);
const algorithm = process.argv[3] ?? 'RS256';
const server = new OAuth2Server();
await server.issuer.keys.generate(algorithm);
// The issuer is the numeric loopback address, so webfed's URL checks see exactly what it serves.
server.issuer.url = `http://127.0.0.1:${port}`;
await serveUntilStopped(server, port);
