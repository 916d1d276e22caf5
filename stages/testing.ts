/**
 * Test helpers for stage packages, `cdc-sync/stages/testing`: row changes in, expected canonical events out, as
 * cdc-sync's own stage tests use them. They assert with vitest, which a package that imports them installs itself.
 */
export {
  changeOf,
  COMMITTED_AT,
  eventsOf,
  expectEvent,
  failureOf,
  POSITION,
  SNAPSHOT_POSITION,
  stageOf,
  tableRefOf,
  TRANSACTION_ID,
  type ChangeOptions,
  type ExpectedSource,
} from '../transforms/testing.js';
