#!/usr/bin/env node
// Launcher for the compiled command line (dist/cli.js, built from src/cli.ts by `npm run build`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write(`webgrad: ${fileURLToPath(cli)} is missing. Build the package first:\n  npm run build\n`);
  process.exit(1);
}
const { main } = await import(cli.href);
process.exitCode = await main(process.argv.slice(2));
