// Starts an oauth2-mock-server on 127.0.0.1 for webfed's tests and keeps it up until the test
// process says stop: SIGTERM, SIGINT, or its standard input closing (the test went away).
// Prints one line "READY <issuer url>" once it serves.

/** Serves `server` on 127.0.0.1:`port` until the test process stops it. */
export async function serveUntilStopped(server, port) {
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
}
