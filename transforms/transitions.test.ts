import { describe, expect, it } from 'vitest';
import { OP, type Op } from '../core/envelope.js';
import { arrivalAt } from './transitions.js';
import { changeOf } from './testing.js';

const target = { column: 'Status', status: 'SH', eventType: 'ShipmentDispatched' } as const;

/** A Shipment row in a status, or no image at all. */
const at = (status: string | null) => (status === null ? null : { ShipmentId: 5001, Status: status });

describe('arrivalAt: a row reaches a status only by moving to it', () => {
  it.each<[Op, string | null, string | null, unknown]>([
    [OP.create, null, 'SH', { kind: 'arrived' }],
    [OP.create, null, 'SH  ', { kind: 'arrived' }],
    [OP.read, null, 'SH', { kind: 'arrived' }],
    [OP.update, 'PK', 'SH', { kind: 'arrived' }],
    [OP.update, 'PK  ', 'SH  ', { kind: 'arrived' }],
    [OP.create, null, 'PK', { kind: 'skip', reason: 'Status PK is not SH' }],
    [OP.update, 'PK', 'PK', { kind: 'skip', reason: 'Status PK is not SH' }],
    [OP.update, 'SH', 'DL', { kind: 'skip', reason: 'Status DL is not SH' }],
    [OP.update, 'SH', 'SH', { kind: 'skip', reason: 'Status was SH before this update already' }],
    [OP.update, null, 'PK', { kind: 'skip', reason: 'Status PK is not SH' }],
    [OP.delete, 'SH', null, { kind: 'skip', reason: 'A delete emits no ShipmentDispatched' }],
  ])('%s %s → %s', (op, before, after, expected) => {
    expect(arrivalAt(changeOf('Shipment', op, { before: at(before), after: at(after) }), target, 'test_stage')).toEqual(
      expected,
    );
  });

  it('fails an update to the status without a before image', () => {
    const arrival = arrivalAt(changeOf('Shipment', OP.update, { after: at('SH') }), target, 'test_stage');
    expect(arrival.kind === 'fail' && arrival.error.message).toBe(
      'No before image in ErpDemo.dbo.Shipment key {"ShipmentId":5001}, so the Status transition to SH cannot be detected; the source must log full before images (PostgreSQL: ALTER TABLE … REPLICA IDENTITY FULL)',
    );
  });

  it('fails a change whose status column is missing', () => {
    const change = changeOf('Shipment', OP.create, { after: { ShipmentId: 5001 } });
    const arrival = arrivalAt(change, target, 'test_stage');
    expect(arrival.kind === 'fail' && arrival.error.message).toBe(
      'Missing column Status in ErpDemo.dbo.Shipment key {"ShipmentId":5001}',
    );
  });
});
