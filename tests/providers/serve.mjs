// Start oauth2-mock-server (an independent OpenID provider) on 127.0.0.1 for webfed's tests.
// Usage: node serve.mjs PORT [ALG]   Prints one line "READY <issuer url>" once it serves.
// It stops on SIGTERM or when its standard input closes (the test process went away).
import { OAuth2Server } from 'oauth2-mock-server';

const port = Number.parseInt(process.argv[2] ?? '0', 10);
const algorithm = process.argv[3] ?? 'RS256';
const server = new OAuth2Server();
await server.issuer.keys.generate(algorithm);
// The issuer is the numeric loopback address, so webfed's URL checks see exactly what it serves.
server.issuer.url = `http://127.0.0.1:${port}`;
await server.start(port, '127.0.0.1');
process.stdout.write(`READY ${server.issuer.url}\n`);

const stop = async () => {
  await server.stop();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.resume();
