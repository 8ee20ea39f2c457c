// Builds dist/game.js: the page's code and the AWS SDK for JavaScript v3, one ES module.
//
//   npm ci && npm run build
//
// The bundle is committed, so `webfed demo` needs no Node.js. Its first line records a digest
// of everything it is built from (this file, package-lock.json, src/*.js);
// tests/e2e/test_game_bundle.py recomputes it, so a source changed without a rebuild is caught
// even where Node.js is absent, and rebuilds when node_modules is there to compare the bytes.

import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { build } from "esbuild";

/** sha256 over "PATH\nSHA256(CONTENT)\n" of each input, in sorted path order. */
export function sourcesDigest() {
  const paths = [
    "build.mjs",
    "package-lock.json",
    ...readdirSync("src").filter((name) => name.endsWith(".js")).map((name) => `src/${name}`),
  ].sort();
  const digest = createHash("sha256");
  for (const path of paths) {
    const content = createHash("sha256").update(readFileSync(path)).digest("hex");
    digest.update(`${path}\n${content}\n`);
  }
  return digest.digest("hex");
}

const outfile = process.argv[2] ?? "dist/game.js";

await build({
  entryPoints: ["src/game.js"],
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2020",
  minify: true,
  legalComments: "none",
  outfile,
  banner: { js: `// webfed game example bundle; sources sha256 ${sourcesDigest()}` },
  // The package's "browser" field maps ./dist-es/index to its browser index (Cognito, HTTP,
  // temporary credentials, web token) but esbuild does not apply it to the package's entry
  // point, and the Node.js index pulls in file- and process-based providers. Point at the
  // browser index directly.
  alias: {
    "@aws-sdk/credential-providers": "@aws-sdk/credential-providers/dist-es/index.browser.js",
  },
  logLevel: "warning",
});
