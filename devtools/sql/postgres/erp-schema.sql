-- Sample ERP schema for cdc-sync, PostgreSQL flavour (database erp_demo, schema public).
-- Run with psql as a superuser: psql -v ON_ERROR_STOP=1 -d postgres -f erp-schema.sql
--
-- The same tables as ../sqlserver/erp-schema.sql, in lower snake_case, with the
-- nearest PostgreSQL types (and what Debezium's PostgreSQL connector makes of them
-- with decimal.handling.mode=precise, time.precision.mode=adaptive):
--   DECIMAL(p,s) -> numeric(p,s)   Decimal logical type
--   MONEY        -> numeric(19,4)  PostgreSQL money is locale-formatted; numeric keeps the value exact
--   DATETIME2(7) -> timestamp(6)   MicroTimestamp (PostgreSQL stops at microseconds)
--   DATETIMEOFFSET -> timestamptz  ZonedTimestamp, normalised to UTC (the original offset is not kept)
--   BIT -> boolean, UNIQUEIDENTIFIER -> uuid, NVARCHAR -> varchar (the database is UTF-8)
-- Topics are named <topic.prefix>.public.<table>.
--
-- Idempotent: CREATE ... IF NOT EXISTS, and the statements after the tables can be
-- repeated. It does not migrate a table whose shape changed.
--
-- Logical decoding needs wal_level=logical in postgresql.conf (not settable here).

SELECT 'CREATE DATABASE erp_demo ENCODING ''UTF8'' TEMPLATE template0'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'erp_demo')\gexec

\connect erp_demo

SET client_min_messages = warning;

CREATE TABLE IF NOT EXISTS public.item (
    item_id         integer        NOT NULL CONSTRAINT pk_item PRIMARY KEY,
    sku             varchar(40)    NOT NULL CONSTRAINT uq_item_sku UNIQUE,
    description     varchar(200)   NULL,
    unit_of_measure varchar(10)    NOT NULL DEFAULT 'EA',
    list_price      numeric(19,4)  NOT NULL,
    is_active       boolean        NOT NULL DEFAULT true,
    row_guid        uuid           NOT NULL DEFAULT gen_random_uuid(),
    modified_at     timestamp(6)   NOT NULL DEFAULT timezone('utc', now())
);

CREATE TABLE IF NOT EXISTS public.location (
    location_id integer      NOT NULL CONSTRAINT pk_location PRIMARY KEY,
    code        varchar(20)  NOT NULL CONSTRAINT uq_location_code UNIQUE,
    name        varchar(100) NOT NULL,
    kind        varchar(20)  NOT NULL CONSTRAINT ck_location_kind CHECK (kind IN ('WAREHOUSE', 'STORE')),
    is_active   boolean      NOT NULL DEFAULT true,
    modified_at timestamp(6) NOT NULL DEFAULT timezone('utc', now())
);

-- Keyed by codes, the way code-keyed ERPs (Business Central's "No." fields) key
-- their documents: every change then carries the business identifiers itself, so
-- the pure transforms never look up an id in another table.
CREATE TABLE IF NOT EXISTS public.inventory_balance (
    sku             varchar(40)   NOT NULL CONSTRAINT fk_inventory_balance_item REFERENCES public.item (sku),
    location_code   varchar(20)   NOT NULL CONSTRAINT fk_inventory_balance_location REFERENCES public.location (code),
    qty_on_hand     numeric(18,3) NOT NULL DEFAULT 0,
    qty_allocated   numeric(18,3) NOT NULL DEFAULT 0,
    safety_stock    numeric(18,3) NOT NULL DEFAULT 0,
    last_counted_at timestamptz   NULL,
    modified_at     timestamp(6)  NOT NULL DEFAULT timezone('utc', now()),
    CONSTRAINT pk_inventory_balance PRIMARY KEY (sku, location_code)
);

-- The order number is the key, as in code-keyed ERPs; every child table carries it.
-- status_code: NW new, AC accepted, PK picking, SH shipped, CL closed, CX cancelled.
CREATE TABLE IF NOT EXISTS public.sales_order_header (
    order_number   varchar(20)   NOT NULL CONSTRAINT pk_sales_order_header PRIMARY KEY,
    customer_id    varchar(40)   NOT NULL,
    customer_email varchar(256)  NULL,
    channel        varchar(20)   NOT NULL,
    status_code    char(2)       NOT NULL
        CONSTRAINT ck_sales_order_header_status_code CHECK (status_code IN ('NW', 'AC', 'PK', 'SH', 'CL', 'CX')),
    currency_code  char(3)       NOT NULL,
    order_total    numeric(19,4) NOT NULL,
    placed_at      timestamptz   NOT NULL,
    row_guid       uuid          NOT NULL DEFAULT gen_random_uuid(),
    modified_at    timestamp(6)  NOT NULL DEFAULT timezone('utc', now())
);

-- location_code is the fulfilling location, unknown until the line is allocated.
CREATE TABLE IF NOT EXISTS public.sales_order_line (
    order_number  varchar(20)   NOT NULL
        CONSTRAINT fk_sales_order_line_sales_order_header REFERENCES public.sales_order_header (order_number),
    line_no       integer       NOT NULL,
    item_id       integer       NOT NULL CONSTRAINT fk_sales_order_line_item REFERENCES public.item (item_id),
    sku           varchar(40)   NOT NULL,
    qty           numeric(18,3) NOT NULL,
    unit_price    numeric(19,4) NOT NULL,
    line_status   char(2)       NOT NULL
        CONSTRAINT ck_sales_order_line_line_status CHECK (line_status IN ('NW', 'AC', 'PK', 'SH', 'CL', 'CX')),
    location_code varchar(20)   NULL CONSTRAINT fk_sales_order_line_location REFERENCES public.location (code),
    modified_at   timestamp(6)  NOT NULL DEFAULT timezone('utc', now()),
    CONSTRAINT pk_sales_order_line PRIMARY KEY (order_number, line_no)
);

-- txn_type: AUT authorisation, CAP capture, REF refund.
CREATE TABLE IF NOT EXISTS public.payment_transaction (
    payment_id    bigint        NOT NULL CONSTRAINT pk_payment_transaction PRIMARY KEY,
    order_number  varchar(20)   NOT NULL
        CONSTRAINT fk_payment_transaction_sales_order_header REFERENCES public.sales_order_header (order_number),
    txn_type      char(3)       NOT NULL CONSTRAINT ck_payment_transaction_txn_type CHECK (txn_type IN ('AUT', 'CAP', 'REF')),
    amount        numeric(19,4) NOT NULL,
    currency_code char(3)       NOT NULL,
    psp_reference varchar(64)   NULL,
    status        varchar(12)   NOT NULL
        CONSTRAINT ck_payment_transaction_status CHECK (status IN ('PENDING', 'SUCCEEDED', 'FAILED')),
    processed_at  timestamptz   NULL,
    modified_at   timestamp(6)  NOT NULL DEFAULT timezone('utc', now())
);

-- status: PK packed, SH shipped, DL delivered. location_code is the shipping location.
CREATE TABLE IF NOT EXISTS public.shipment (
    shipment_id     integer      NOT NULL CONSTRAINT pk_shipment PRIMARY KEY,
    order_number    varchar(20)  NOT NULL
        CONSTRAINT fk_shipment_sales_order_header REFERENCES public.sales_order_header (order_number),
    location_code   varchar(20)  NOT NULL CONSTRAINT fk_shipment_location REFERENCES public.location (code),
    carrier         varchar(40)  NULL,
    tracking_number varchar(64)  NULL,
    status          char(2)      NOT NULL CONSTRAINT ck_shipment_status CHECK (status IN ('PK', 'SH', 'DL')),
    shipped_at      timestamptz  NULL,
    modified_at     timestamp(6) NOT NULL DEFAULT timezone('utc', now())
);

-- (order_number, order_line_no) is the sales_order_line the shipment line fulfils. The
-- ERP keeps no foreign key for the line, so consumers must tolerate a line they have
-- not seen yet.
CREATE TABLE IF NOT EXISTS public.shipment_line (
    shipment_id   integer       NOT NULL CONSTRAINT fk_shipment_line_shipment REFERENCES public.shipment (shipment_id),
    line_no       integer       NOT NULL,
    order_number  varchar(20)   NOT NULL
        CONSTRAINT fk_shipment_line_sales_order_header REFERENCES public.sales_order_header (order_number),
    order_line_no integer       NOT NULL,
    qty           numeric(18,3) NOT NULL,
    modified_at   timestamp(6)  NOT NULL DEFAULT timezone('utc', now()),
    CONSTRAINT pk_shipment_line PRIMARY KEY (shipment_id, line_no)
);

-- status: AU authorised, RC received, CL closed.
CREATE TABLE IF NOT EXISTS public.return_authorization (
    rma_id       integer      NOT NULL CONSTRAINT pk_return_authorization PRIMARY KEY,
    rma_number   varchar(20)  NOT NULL CONSTRAINT uq_return_authorization_rma_number UNIQUE,
    order_number varchar(20)  NOT NULL
        CONSTRAINT fk_return_authorization_sales_order_header REFERENCES public.sales_order_header (order_number),
    status       char(2)      NOT NULL CONSTRAINT ck_return_authorization_status CHECK (status IN ('AU', 'RC', 'CL')),
    reason       varchar(200) NULL,
    received_at  timestamptz  NULL,
    modified_at  timestamp(6) NOT NULL DEFAULT timezone('utc', now())
);

-- rma_number is NULL for goodwill refunds that have no returned goods.
CREATE TABLE IF NOT EXISTS public.refund (
    refund_id     integer       NOT NULL CONSTRAINT pk_refund PRIMARY KEY,
    order_number  varchar(20)   NOT NULL
        CONSTRAINT fk_refund_sales_order_header REFERENCES public.sales_order_header (order_number),
    rma_number    varchar(20)   NULL
        CONSTRAINT fk_refund_return_authorization REFERENCES public.return_authorization (rma_number),
    amount        numeric(19,4) NOT NULL,
    currency_code char(3)       NOT NULL,
    status        varchar(12)   NOT NULL CONSTRAINT ck_refund_status CHECK (status IN ('PENDING', 'COMPLETED')),
    completed_at  timestamptz   NULL,
    modified_at   timestamp(6)  NOT NULL DEFAULT timezone('utc', now())
);

-- Debezium's signalling table (signal.data.collection=public.debezium_signal):
-- inserting a row asks the connector for an ad-hoc incremental snapshot.
CREATE TABLE IF NOT EXISTS public.debezium_signal (
    id   varchar(42)   NOT NULL CONSTRAINT pk_debezium_signal PRIMARY KEY,
    type varchar(32)   NOT NULL,
    data varchar(2048) NULL
);

-- With the default replica identity an UPDATE's before image carries only the key,
-- so a status transition (before.status_code -> after.status_code) could not be
-- seen. FULL logs every old column value. Re-running ALTER ... REPLICA IDENTITY is harmless.
ALTER TABLE public.item REPLICA IDENTITY FULL;
ALTER TABLE public.location REPLICA IDENTITY FULL;
ALTER TABLE public.inventory_balance REPLICA IDENTITY FULL;
ALTER TABLE public.sales_order_header REPLICA IDENTITY FULL;
ALTER TABLE public.sales_order_line REPLICA IDENTITY FULL;
ALTER TABLE public.payment_transaction REPLICA IDENTITY FULL;
ALTER TABLE public.shipment REPLICA IDENTITY FULL;
ALTER TABLE public.shipment_line REPLICA IDENTITY FULL;
ALTER TABLE public.return_authorization REPLICA IDENTITY FULL;
ALTER TABLE public.refund REPLICA IDENTITY FULL;
ALTER TABLE public.debezium_signal REPLICA IDENTITY FULL;

-- The publication Debezium's pgoutput plugin reads (its default name). Creating it
-- here with an explicit table list means the connector needs no superuser right to
-- create one, and SET TABLE keeps the list in step on every run.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_publication WHERE pubname = 'dbz_publication') THEN
        CREATE PUBLICATION dbz_publication;
    END IF;
END
$$;

ALTER PUBLICATION dbz_publication SET TABLE
    public.item,
    public.location,
    public.inventory_balance,
    public.sales_order_header,
    public.sales_order_line,
    public.payment_transaction,
    public.shipment,
    public.shipment_line,
    public.return_authorization,
    public.refund,
    public.debezium_signal;
