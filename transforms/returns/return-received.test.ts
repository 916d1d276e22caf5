import { describe, expect, it } from 'vitest';
import { OP } from '../../core/envelope.js';
import { TransformError } from '../../core/errors.js';
import { changeOf, expectEvent, failureOf, SNAPSHOT_POSITION, stageOf } from '../testing.js';
import { returnReceived } from './return-received.js';

const stage = stageOf(returnReceived);
const returnReceivedEvent = expectEvent('ReturnAuthorization', 'ReturnReceived');

/** A return of SO-1001's T-shirt, authorised and on its way back. */
const authorised = {
  RmaId: 301,
  RmaNumber: 'RMA-2026-0042',
  OrderNumber: 'SO-1001',
  Status: 'AU',
  Reason: 'Wrong size',
  ReceivedAt: null,
  ModifiedAt: '2026-12-02T08:00:00.0000000',
};

const received = { ...authorised, Status: 'RC', ReceivedAt: '2026-12-04T11:20:00.0000000+01:00' };

const RECEIVED = {
  orderNumber: 'SO-1001',
  rmaNumber: 'RMA-2026-0042',
  reason: 'Wrong size',
  receivedAt: '2026-12-04T11:20:00.0000000+01:00',
};

describe('return_received: given ReturnAuthorization changes, expect ReturnReceived', () => {
  it.each([
    {
      given: 'a return AU → RC',
      change: changeOf('ReturnAuthorization', OP.update, { before: authorised, after: received }),
      expected: [returnReceivedEvent('SO-1001', RECEIVED)],
    },
    {
      given: 'a return without a reason inserted as received',
      change: changeOf('ReturnAuthorization', OP.create, { after: { ...received, Reason: null } }),
      expected: [returnReceivedEvent('SO-1001', { ...RECEIVED, reason: null })],
    },
    {
      given: 'a received return read by the initial snapshot',
      change: changeOf('ReturnAuthorization', OP.read, { after: received }),
      expected: [
        returnReceivedEvent('SO-1001', RECEIVED, {
          position: SNAPSHOT_POSITION,
          correlationId: `erp.ErpDemo.dbo.ReturnAuthorization@${SNAPSHOT_POSITION}`,
        }),
      ],
    },
  ])('$given', ({ change, expected }) => {
    expect(stage.apply(change)).toEqual({ kind: 'emit', events: expected });
  });

  it.each([
    {
      given: 'a return authorised',
      change: changeOf('ReturnAuthorization', OP.create, { after: authorised }),
      reason: 'Status AU is not RC',
    },
    {
      given: 'a received return RC → CL (closed)',
      change: changeOf('ReturnAuthorization', OP.update, { before: received, after: { ...received, Status: 'CL' } }),
      reason: 'Status CL is not RC',
    },
    {
      given: 'a received return whose reason is edited',
      change: changeOf('ReturnAuthorization', OP.update, {
        before: received,
        after: { ...received, Reason: 'Wrong size (M instead of L)' },
      }),
      reason: 'Status was RC before this update already',
    },
    {
      given: 'a return deleted',
      change: changeOf('ReturnAuthorization', OP.delete, { before: authorised }),
      reason: 'A delete emits no ReturnReceived',
    },
  ])('skips $given', ({ change, reason }) => {
    expect(stage.apply(change)).toEqual({ kind: 'skip', reason });
  });

  it.each([
    {
      given: 'an update to RC without a before image',
      change: changeOf('ReturnAuthorization', OP.update, { after: received }),
      message:
        'No before image in ErpDemo.dbo.ReturnAuthorization key {"RmaId":301}, so the Status transition to RC cannot be detected; the source must log full before images (PostgreSQL: ALTER TABLE … REPLICA IDENTITY FULL)',
    },
    {
      given: 'a received return without ReceivedAt',
      change: changeOf('ReturnAuthorization', OP.update, {
        before: authorised,
        after: { ...received, ReceivedAt: null },
      }),
      message:
        'Invalid column ReceivedAt in ErpDemo.dbo.ReturnAuthorization key {"RmaId":301}: expected an ISO-8601 timestamp with offset, got null',
    },
  ])('fails $given', ({ change, message }) => {
    const error = failureOf(stage.apply(change));
    expect(error).toBeInstanceOf(TransformError);
    expect(error.message).toBe(message);
    expect(error.location).toEqual({ stage: 'return_received' });
  });

  it('gives a replayed change the same events, ids included', () => {
    const change = changeOf('ReturnAuthorization', OP.update, { before: authorised, after: received });
    expect(stage.apply(structuredClone(change))).toEqual(stage.apply(change));
  });
});
