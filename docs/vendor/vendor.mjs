// Copies the pinned Mermaid release from node_modules into the documentation site, so the
// built site draws its diagrams without fetching anything from a CDN.
//
//   cd docs/vendor && npm ci && npm run vendor
//
// mkdocs-material draws diagrams with a global `mermaid` (initialize, then render) and loads
// mermaid@11 from unpkg only when no such global exists; mkdocs.yml's extra_javascript loads this
// copy first. dist/mermaid.min.js is the self-contained IIFE build that defines that global.
import { copyFileSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const source = join(here, "node_modules", "mermaid");
const target = join(here, "..", "assets", "javascripts");

const pinned = JSON.parse(readFileSync(join(here, "package.json"), "utf8")).devDependencies.mermaid;
const installed = JSON.parse(readFileSync(join(source, "package.json"), "utf8")).version;
if (installed !== pinned) {
  throw new Error(`node_modules has mermaid ${installed}, package.json pins ${pinned}: run npm ci`);
}
copyFileSync(join(source, "dist", "mermaid.min.js"), join(target, "mermaid.min.js"));
copyFileSync(join(source, "LICENSE"), join(target, "mermaid.LICENSE"));
console.log(`mermaid ${installed} copied to docs/assets/javascripts/`);
