import { describe, expect, it } from 'vitest';
import { OP } from '../../core/envelope.js';
import { TransformError } from '../../core/errors.js';
import { changeOf, expectEvent, failureOf, SNAPSHOT_POSITION, stageOf } from '../testing.js';
import { shipmentDispatched } from './shipment-dispatched.js';

const stage = stageOf(shipmentDispatched);
const shipmentDispatchedEvent = expectEvent('Shipment', 'ShipmentDispatched');

/** SO-1001's parcel, packed at WH-EAST and waiting for the carrier. */
const packed = {
  ShipmentId: 5001,
  OrderNumber: 'SO-1001',
  LocationCode: 'WH-EAST',
  Carrier: 'DHL',
  TrackingNumber: 'JJD0099887766',
  Status: 'PK',
  ShippedAt: null,
  ModifiedAt: '2026-11-28T07:02:00.0000000',
};

const shipped = { ...packed, Status: 'SH', ShippedAt: '2026-11-28T16:45:00.0000000+01:00' };

const DISPATCHED = {
  orderNumber: 'SO-1001',
  shipmentId: '5001',
  carrier: 'DHL',
  trackingNumber: 'JJD0099887766',
  location: 'WH-EAST',
  shippedAt: '2026-11-28T16:45:00.0000000+01:00',
};

const SHIPMENT_KEY = '{"ShipmentId":5001}';

describe('shipment_dispatched: given Shipment changes, expect ShipmentDispatched', () => {
  it.each([
    {
      given: 'a shipment PK → SH',
      change: changeOf('Shipment', OP.update, { before: packed, after: shipped }),
      expected: [shipmentDispatchedEvent('SO-1001', DISPATCHED)],
    },
    {
      given: 'a shipment inserted as shipped',
      change: changeOf('Shipment', OP.create, { after: shipped }),
      expected: [shipmentDispatchedEvent('SO-1001', DISPATCHED)],
    },
    {
      given: 'a shipped shipment read by the initial snapshot',
      change: changeOf('Shipment', OP.read, { after: shipped }),
      expected: [
        shipmentDispatchedEvent('SO-1001', DISPATCHED, {
          position: SNAPSHOT_POSITION,
          correlationId: `erp.ErpDemo.dbo.Shipment@${SNAPSHOT_POSITION}`,
        }),
      ],
    },
  ])('$given', ({ change, expected }) => {
    expect(stage.apply(change)).toEqual({ kind: 'emit', events: expected });
  });

  it.each([
    {
      given: 'a shipment inserted as packed',
      change: changeOf('Shipment', OP.create, { after: packed }),
      reason: 'Status PK is not SH',
    },
    {
      given: 'a shipment SH → DL (delivered)',
      change: changeOf('Shipment', OP.update, {
        before: shipped,
        after: { ...shipped, Status: 'DL' },
      }),
      reason: 'Status DL is not SH',
    },
    {
      given: 'a shipped shipment whose tracking number is corrected',
      change: changeOf('Shipment', OP.update, {
        before: shipped,
        after: { ...shipped, TrackingNumber: 'JJD0099887767' },
      }),
      reason: 'Status was SH before this update already',
    },
    {
      given: 'a shipment deleted',
      change: changeOf('Shipment', OP.delete, { before: packed }),
      reason: 'A delete emits no ShipmentDispatched',
    },
  ])('skips $given', ({ change, reason }) => {
    expect(stage.apply(change)).toEqual({ kind: 'skip', reason });
  });

  it.each([
    {
      given: 'an update to SH without a before image',
      change: changeOf('Shipment', OP.update, { after: shipped }),
      message: `No before image in ErpDemo.dbo.Shipment key ${SHIPMENT_KEY}, so the Status transition to SH cannot be detected; the source must log full before images (PostgreSQL: ALTER TABLE … REPLICA IDENTITY FULL)`,
    },
    {
      given: 'a shipped shipment without a tracking number',
      change: changeOf('Shipment', OP.update, { before: packed, after: { ...shipped, TrackingNumber: null } }),
      message: `Invalid column TrackingNumber in ErpDemo.dbo.Shipment key ${SHIPMENT_KEY}: expected a non-blank string, got null`,
    },
    {
      given: 'a shipped shipment without ShippedAt',
      change: changeOf('Shipment', OP.create, { after: { ...shipped, ShippedAt: null } }),
      message: `Invalid column ShippedAt in ErpDemo.dbo.Shipment key ${SHIPMENT_KEY}: expected an ISO-8601 timestamp with offset, got null`,
    },
  ])('fails $given', ({ change, message }) => {
    const error = failureOf(stage.apply(change));
    expect(error).toBeInstanceOf(TransformError);
    expect(error.message).toBe(message);
    expect(error.location).toEqual({ stage: 'shipment_dispatched' });
  });

  it('gives a replayed change the same events, ids included', () => {
    const change = changeOf('Shipment', OP.update, { before: packed, after: shipped });
    expect(stage.apply(structuredClone(change))).toEqual(stage.apply(change));
  });
});
