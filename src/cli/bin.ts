#!/usr/bin/env node
// The executable behind `npx kiln`: hands the arguments to main() and exits with its code.
import { main } from './main.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    console.error(e);
    process.exitCode = 70;
  },
);
