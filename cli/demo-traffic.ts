/** One step of the demo's live ERP traffic: what the ERP did, in one line, and the SQL that does it. */
export type ErpTrafficStep = {
  readonly says: string;
  /** One transaction's statements against the sample ERP's PostgreSQL tables (connectors/sql/postgres). */
  readonly sql: string;
};

/** The captured tables of the sample ERP the demo's pipeline reads, as `schema.table`. */
export const DEMO_TABLES = [
  'public.inventory_balance',
  'public.sales_order_header',
  'public.sales_order_line',
  'public.payment_transaction',
  'public.shipment',
  'public.return_authorization',
  'public.refund',
] as const;

const inTransaction = (sql: string): string => `BEGIN;\n${sql.trim()}\nCOMMIT;`;

/** Moves quantity on hand and allocated of one SKU at one location by the given (decimal string) amounts. */
const move = (sku: string, location: string, onHand: string, allocated = '0'): string =>
  `UPDATE public.inventory_balance SET qty_on_hand = qty_on_hand + ${onHand}, ` +
  `qty_allocated = qty_allocated + ${allocated}, modified_at = timezone('utc', now()) ` +
  `WHERE sku = '${sku}' AND location_code = '${location}';`;

/**
 * A few minutes of a small shop's ERP, as real SQL on the sample ERP seeded by
 * connectors/sql/postgres/seed.sql: three orders placed (each allocating
 * stock), a payment captured, a goods receipt and a transfer, one order picked
 * and shipped with tracking, a return received and its refund completed. Every
 * step is one transaction, as the ERP would commit it.
 */
export const DEMO_TRAFFIC: readonly ErpTrafficStep[] = [
  {
    says: 'order SO-200101 placed on the web shop: 2 × TSHIRT-ORG-BLK-M, 1 × MUG-STONE-350 from WH-EAST',
    sql: inTransaction(`
INSERT INTO public.sales_order_header (order_number, customer_id, customer_email, channel, status_code, currency_code,
  order_total, placed_at)
VALUES ('SO-200101', 'CUST-0042', 'ada@example.com', 'WEB', 'NW', 'EUR', 48.23, now());
INSERT INTO public.sales_order_line (order_number, line_no, item_id, sku, qty, unit_price, line_status, location_code)
VALUES ('SO-200101', 1, 1001, 'TSHIRT-ORG-BLK-M', 2, 19.99, 'NW', 'WH-EAST'),
       ('SO-200101', 2, 1003, 'MUG-STONE-350', 1, 8.25, 'NW', 'WH-EAST');
${move('TSHIRT-ORG-BLK-M', 'WH-EAST', '0', '2')}
${move('MUG-STONE-350', 'WH-EAST', '0', '1')}`),
  },
  {
    says: 'order SO-200102 placed for store pickup: 1 × HOODIE-GRY-L, 1.5 kg COFFEE-ESP-BULK at ST-DOWNTOWN',
    sql: inTransaction(`
INSERT INTO public.sales_order_header (order_number, customer_id, customer_email, channel, status_code, currency_code,
  order_total, placed_at)
VALUES ('SO-200102', 'CUST-0107', 'grace@example.com', 'STORE', 'NW', 'EUR', 90.20, now());
INSERT INTO public.sales_order_line (order_number, line_no, item_id, sku, qty, unit_price, line_status, location_code)
VALUES ('SO-200102', 1, 1002, 'HOODIE-GRY-L', 1, 54.50, 'NW', 'ST-DOWNTOWN'),
       ('SO-200102', 2, 1004, 'COFFEE-ESP-BULK', 1.5, 23.80, 'NW', 'ST-DOWNTOWN');
${move('HOODIE-GRY-L', 'ST-DOWNTOWN', '0', '1')}
${move('COFFEE-ESP-BULK', 'ST-DOWNTOWN', '0', '1.5')}`),
  },
  {
    says: 'payment captured for SO-200101 (EUR 48.23), order accepted',
    sql: inTransaction(`
INSERT INTO public.payment_transaction (payment_id, order_number, txn_type, amount, currency_code, status)
VALUES (4200000000000000101, 'SO-200101', 'CAP', 48.23, 'EUR', 'PENDING');
UPDATE public.payment_transaction SET status = 'SUCCEEDED', psp_reference = 'psp_cap_D3m0x1', processed_at = now()
  WHERE payment_id = 4200000000000000101;
UPDATE public.sales_order_header SET status_code = 'AC' WHERE order_number = 'SO-200101';`),
  },
  {
    says: 'order SO-200103 placed by the sales desk: 30 m ROPE-DYN-10MM from WH-EAST',
    sql: inTransaction(`
INSERT INTO public.sales_order_header (order_number, customer_id, customer_email, channel, status_code, currency_code,
  order_total, placed_at)
VALUES ('SO-200103', 'CUST-0311', 'alan@example.com', 'PHONE', 'NW', 'EUR', 112.35, now());
INSERT INTO public.sales_order_line (order_number, line_no, item_id, sku, qty, unit_price, line_status, location_code)
VALUES ('SO-200103', 1, 1005, 'ROPE-DYN-10MM', 30, 3.745, 'NW', 'WH-EAST');
${move('ROPE-DYN-10MM', 'WH-EAST', '0', '30')}`),
  },
  {
    says: 'stock moves: 240 × MUG-STONE-350 received at WH-EAST, 20 × TSHIRT-ORG-BLK-M moved WH-EAST → ST-AIRPORT',
    sql: inTransaction(`
${move('MUG-STONE-350', 'WH-EAST', '240')}
${move('TSHIRT-ORG-BLK-M', 'WH-EAST', '-20')}
${move('TSHIRT-ORG-BLK-M', 'ST-AIRPORT', '20')}`),
  },
  {
    says: 'order SO-200101 picked and shipped from WH-EAST with DHL, tracking 00340434161094042557',
    sql: inTransaction(`
UPDATE public.sales_order_header SET status_code = 'PK' WHERE order_number = 'SO-200101';
INSERT INTO public.shipment (shipment_id, order_number, location_code, status) VALUES (5101, 'SO-200101', 'WH-EAST', 'PK');
UPDATE public.shipment SET status = 'SH', carrier = 'DHL', tracking_number = '00340434161094042557', shipped_at = now()
  WHERE shipment_id = 5101;
UPDATE public.sales_order_header SET status_code = 'SH' WHERE order_number = 'SO-200101';
${move('TSHIRT-ORG-BLK-M', 'WH-EAST', '-2', '-2')}
${move('MUG-STONE-350', 'WH-EAST', '-1', '-1')}`),
  },
  {
    says: 'return RMA-000901 received for SO-200101: 1 × TSHIRT-ORG-BLK-M, too small, back in stock at WH-EAST',
    sql: inTransaction(`
INSERT INTO public.return_authorization (rma_id, rma_number, order_number, status, reason)
VALUES (7101, 'RMA-000901', 'SO-200101', 'AU', 'T-shirt too small');
UPDATE public.return_authorization SET status = 'RC', received_at = now() WHERE rma_id = 7101;
${move('TSHIRT-ORG-BLK-M', 'WH-EAST', '1')}`),
  },
  {
    says: 'refund completed for SO-200101 (EUR 19.99 for RMA-000901)',
    sql: inTransaction(`
INSERT INTO public.refund (refund_id, order_number, rma_number, amount, currency_code, status)
VALUES (8101, 'SO-200101', 'RMA-000901', 19.99, 'EUR', 'PENDING');
UPDATE public.refund SET status = 'COMPLETED', completed_at = now() WHERE refund_id = 8101;`),
  },
];

/** The order whose refund is the traffic's last effect: once its view shows it, the traffic has arrived. */
export const DEMO_LAST_EFFECT = { orderNumber: 'SO-200101', milestone: 'refunded' } as const;
