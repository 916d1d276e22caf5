import { describe, expect, it } from 'vitest';
import * as api from './index.js';
import * as testing from './testing.js';

/**
 * The public stage API as stage packages see it. A name added or removed here changes what packages can rely on:
 * do it on purpose, with STAGE_API_VERSION raised when a package written for the old API would break.
 */
describe('cdc-sync/stages', () => {
  it('exports exactly the stage API, version 1', () => {
    expect(api.STAGE_API_VERSION).toBe(1);
    expect(Object.keys(api).sort()).toEqual([
      'COLUMN',
      'INVALID',
      'OP',
      'ORDER_STATUS',
      'STAGE_API_VERSION',
      'TransformError',
      'arrivalAt',
      'canonicalEvent',
      'columnType',
      'constant',
      'defineOrderNumber',
      'defineStage',
      'defineStagePackage',
      'emit',
      'emitOnArrival',
      'eventMeta',
      'fail',
      'fromColumn',
      'fromColumns',
      'missingImage',
      'nullable',
      'orderHeaderStage',
      'orderLineStage',
      'readColumns',
      'rowRef',
      'sameDecimal',
      'skip',
      'skipRowlessChange',
      'stockLevelStage',
      'sumOfColumns',
      'tableMatches',
      'z',
    ]);
  });

  it('exports exactly the test helpers from cdc-sync/stages/testing', () => {
    expect(Object.keys(testing).sort()).toEqual([
      'COMMITTED_AT',
      'POSITION',
      'SNAPSHOT_POSITION',
      'TRANSACTION_ID',
      'changeOf',
      'eventsOf',
      'expectEvent',
      'failureOf',
      'stageOf',
      'tableRefOf',
    ]);
  });
});
