#!/usr/bin/env node
import { redactText } from '../core/redact.js';
import { createProgram } from './program.js';
import { dropKafkajsTimerWarnings } from './quiet-warnings.js';

dropKafkajsTimerWarnings();

createProgram()
  .parseAsync(process.argv)
  .catch((error: unknown) => {
    process.stderr.write(`cdc-sync: ${redactText(error instanceof Error ? error.message : String(error))}\n`);
    process.exitCode = 1;
  });
