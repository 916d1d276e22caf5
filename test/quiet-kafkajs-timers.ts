import { dropKafkajsTimerWarnings } from '../cli/quiet-warnings.js';

// The test workers run kafkajs too; its negative-timer warning (see cli/quiet-warnings.ts) would only be noise in the
// test output, as it is on the command line.
dropKafkajsTimerWarnings();
