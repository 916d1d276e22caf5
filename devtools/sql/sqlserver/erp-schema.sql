-- Sample ERP schema for cdc-sync, SQL Server flavour (database ErpDemo, schema dbo).
--
-- The column types are the ones real ERPs use and that Debezium maps specially,
-- so the pipeline is exercised against them (Debezium SQL Server connector,
-- default decimal.handling.mode=precise and time.precision.mode=adaptive):
--   DECIMAL(p,s), MONEY   -> org.apache.kafka.connect.data.Decimal (bytes, scale in the schema; MONEY has scale 4)
--   DATETIME2(7)          -> io.debezium.time.NanoTimestamp (no zone: UTC by this sample's convention)
--   DATETIMEOFFSET(7)     -> io.debezium.time.ZonedTimestamp (ISO-8601 string keeping the offset)
--   BIT                   -> boolean
--   UNIQUEIDENTIFIER      -> string
--   CHAR(n), NVARCHAR(n)  -> string (CHAR keeps its trailing blanks)
-- Topics are named <topic.prefix>.ErpDemo.dbo.<Table>.
--
-- Idempotent: every object is created only when missing, so the script can run
-- on every container start. It does not migrate a table whose shape changed;
-- drop the database (docker compose down -v) to pick up such a change.
-- Run order: erp-schema.sql, seed.sql, enable-cdc.sql (CDC needs the tables).
--
-- LineNo is bracketed because LINENO is a reserved word in T-SQL.

SET ANSI_NULLS ON;
SET QUOTED_IDENTIFIER ON;
SET NOCOUNT ON;
GO

IF DB_ID(N'ErpDemo') IS NULL
    CREATE DATABASE ErpDemo;
GO

USE ErpDemo;
GO

IF OBJECT_ID(N'dbo.Item', N'U') IS NULL
CREATE TABLE dbo.Item (
    ItemId        INT              NOT NULL CONSTRAINT PK_Item PRIMARY KEY,
    Sku           NVARCHAR(40)     NOT NULL CONSTRAINT UQ_Item_Sku UNIQUE,
    Description   NVARCHAR(200)    NULL,
    UnitOfMeasure NVARCHAR(10)     NOT NULL CONSTRAINT DF_Item_UnitOfMeasure DEFAULT N'EA',
    ListPrice     DECIMAL(19,4)    NOT NULL,
    IsActive      BIT              NOT NULL CONSTRAINT DF_Item_IsActive DEFAULT 1,
    RowGuid       UNIQUEIDENTIFIER NOT NULL CONSTRAINT DF_Item_RowGuid DEFAULT NEWID(),
    ModifiedAt    DATETIME2(7)     NOT NULL CONSTRAINT DF_Item_ModifiedAt DEFAULT SYSUTCDATETIME()
);
GO

IF OBJECT_ID(N'dbo.Location', N'U') IS NULL
CREATE TABLE dbo.Location (
    LocationId INT           NOT NULL CONSTRAINT PK_Location PRIMARY KEY,
    Code       NVARCHAR(20)  NOT NULL CONSTRAINT UQ_Location_Code UNIQUE,
    Name       NVARCHAR(100) NOT NULL,
    Kind       NVARCHAR(20)  NOT NULL CONSTRAINT CK_Location_Kind CHECK (Kind IN (N'WAREHOUSE', N'STORE')),
    IsActive   BIT           NOT NULL CONSTRAINT DF_Location_IsActive DEFAULT 1,
    ModifiedAt DATETIME2(7)  NOT NULL CONSTRAINT DF_Location_ModifiedAt DEFAULT SYSUTCDATETIME()
);
GO

-- Keyed by codes, the way code-keyed ERPs (Business Central's "No." fields) key
-- their documents: every change then carries the business identifiers itself, so
-- the pure transforms never look up an id in another table.
IF OBJECT_ID(N'dbo.InventoryBalance', N'U') IS NULL
CREATE TABLE dbo.InventoryBalance (
    Sku           NVARCHAR(40)      NOT NULL CONSTRAINT FK_InventoryBalance_Item REFERENCES dbo.Item (Sku),
    LocationCode  NVARCHAR(20)      NOT NULL CONSTRAINT FK_InventoryBalance_Location REFERENCES dbo.Location (Code),
    QtyOnHand     DECIMAL(18,3)     NOT NULL CONSTRAINT DF_InventoryBalance_QtyOnHand DEFAULT 0,
    QtyAllocated  DECIMAL(18,3)     NOT NULL CONSTRAINT DF_InventoryBalance_QtyAllocated DEFAULT 0,
    SafetyStock   DECIMAL(18,3)     NOT NULL CONSTRAINT DF_InventoryBalance_SafetyStock DEFAULT 0,
    LastCountedAt DATETIMEOFFSET(7) NULL,
    ModifiedAt    DATETIME2(7)      NOT NULL CONSTRAINT DF_InventoryBalance_ModifiedAt DEFAULT SYSUTCDATETIME(),
    CONSTRAINT PK_InventoryBalance PRIMARY KEY (Sku, LocationCode)
);
GO

-- The order number is the key, as in code-keyed ERPs; every child table carries it.
-- StatusCode: NW new, AC accepted, PK picking, SH shipped, CL closed, CX cancelled.
IF OBJECT_ID(N'dbo.SalesOrderHeader', N'U') IS NULL
CREATE TABLE dbo.SalesOrderHeader (
    OrderNumber   NVARCHAR(20)      NOT NULL CONSTRAINT PK_SalesOrderHeader PRIMARY KEY,
    CustomerId    NVARCHAR(40)      NOT NULL,
    CustomerEmail NVARCHAR(256)     NULL,
    Channel       NVARCHAR(20)      NOT NULL,
    StatusCode    CHAR(2)           NOT NULL
        CONSTRAINT CK_SalesOrderHeader_StatusCode CHECK (StatusCode IN ('NW', 'AC', 'PK', 'SH', 'CL', 'CX')),
    CurrencyCode  CHAR(3)           NOT NULL,
    OrderTotal    MONEY             NOT NULL,
    PlacedAt      DATETIMEOFFSET(7) NOT NULL,
    RowGuid       UNIQUEIDENTIFIER  NOT NULL CONSTRAINT DF_SalesOrderHeader_RowGuid DEFAULT NEWID(),
    ModifiedAt    DATETIME2(7)      NOT NULL CONSTRAINT DF_SalesOrderHeader_ModifiedAt DEFAULT SYSUTCDATETIME()
);
GO

-- LocationCode is the fulfilling location, unknown until the line is allocated.
IF OBJECT_ID(N'dbo.SalesOrderLine', N'U') IS NULL
CREATE TABLE dbo.SalesOrderLine (
    OrderNumber  NVARCHAR(20)  NOT NULL
        CONSTRAINT FK_SalesOrderLine_SalesOrderHeader REFERENCES dbo.SalesOrderHeader (OrderNumber),
    [LineNo]     INT           NOT NULL,
    ItemId       INT           NOT NULL CONSTRAINT FK_SalesOrderLine_Item REFERENCES dbo.Item (ItemId),
    Sku          NVARCHAR(40)  NOT NULL,
    Qty          DECIMAL(18,3) NOT NULL,
    UnitPrice    DECIMAL(19,4) NOT NULL,
    LineStatus   CHAR(2)       NOT NULL
        CONSTRAINT CK_SalesOrderLine_LineStatus CHECK (LineStatus IN ('NW', 'AC', 'PK', 'SH', 'CL', 'CX')),
    LocationCode NVARCHAR(20)  NULL CONSTRAINT FK_SalesOrderLine_Location REFERENCES dbo.Location (Code),
    ModifiedAt   DATETIME2(7)  NOT NULL CONSTRAINT DF_SalesOrderLine_ModifiedAt DEFAULT SYSUTCDATETIME(),
    CONSTRAINT PK_SalesOrderLine PRIMARY KEY (OrderNumber, [LineNo])
);
GO

-- TxnType: AUT authorisation, CAP capture, REF refund.
IF OBJECT_ID(N'dbo.PaymentTransaction', N'U') IS NULL
CREATE TABLE dbo.PaymentTransaction (
    PaymentId    BIGINT            NOT NULL CONSTRAINT PK_PaymentTransaction PRIMARY KEY,
    OrderNumber  NVARCHAR(20)      NOT NULL
        CONSTRAINT FK_PaymentTransaction_SalesOrderHeader REFERENCES dbo.SalesOrderHeader (OrderNumber),
    TxnType      CHAR(3)           NOT NULL CONSTRAINT CK_PaymentTransaction_TxnType CHECK (TxnType IN ('AUT', 'CAP', 'REF')),
    Amount       DECIMAL(19,4)     NOT NULL,
    CurrencyCode CHAR(3)           NOT NULL,
    PspReference NVARCHAR(64)      NULL,
    Status       NVARCHAR(12)      NOT NULL
        CONSTRAINT CK_PaymentTransaction_Status CHECK (Status IN (N'PENDING', N'SUCCEEDED', N'FAILED')),
    ProcessedAt  DATETIMEOFFSET(7) NULL,
    ModifiedAt   DATETIME2(7)      NOT NULL CONSTRAINT DF_PaymentTransaction_ModifiedAt DEFAULT SYSUTCDATETIME()
);
GO

-- Status: PK packed, SH shipped, DL delivered. LocationCode is the shipping location.
IF OBJECT_ID(N'dbo.Shipment', N'U') IS NULL
CREATE TABLE dbo.Shipment (
    ShipmentId     INT               NOT NULL CONSTRAINT PK_Shipment PRIMARY KEY,
    OrderNumber    NVARCHAR(20)      NOT NULL
        CONSTRAINT FK_Shipment_SalesOrderHeader REFERENCES dbo.SalesOrderHeader (OrderNumber),
    LocationCode   NVARCHAR(20)      NOT NULL CONSTRAINT FK_Shipment_Location REFERENCES dbo.Location (Code),
    Carrier        NVARCHAR(40)      NULL,
    TrackingNumber NVARCHAR(64)      NULL,
    Status         CHAR(2)           NOT NULL CONSTRAINT CK_Shipment_Status CHECK (Status IN ('PK', 'SH', 'DL')),
    ShippedAt      DATETIMEOFFSET(7) NULL,
    ModifiedAt     DATETIME2(7)      NOT NULL CONSTRAINT DF_Shipment_ModifiedAt DEFAULT SYSUTCDATETIME()
);
GO

-- (OrderNumber, OrderLineNo) is the SalesOrderLine the shipment line fulfils. The ERP
-- keeps no foreign key for the line, so consumers must tolerate a line they have not
-- seen yet.
IF OBJECT_ID(N'dbo.ShipmentLine', N'U') IS NULL
CREATE TABLE dbo.ShipmentLine (
    ShipmentId  INT           NOT NULL CONSTRAINT FK_ShipmentLine_Shipment REFERENCES dbo.Shipment (ShipmentId),
    [LineNo]    INT           NOT NULL,
    OrderNumber NVARCHAR(20)  NOT NULL
        CONSTRAINT FK_ShipmentLine_SalesOrderHeader REFERENCES dbo.SalesOrderHeader (OrderNumber),
    OrderLineNo INT           NOT NULL,
    Qty         DECIMAL(18,3) NOT NULL,
    ModifiedAt  DATETIME2(7)  NOT NULL CONSTRAINT DF_ShipmentLine_ModifiedAt DEFAULT SYSUTCDATETIME(),
    CONSTRAINT PK_ShipmentLine PRIMARY KEY (ShipmentId, [LineNo])
);
GO

-- Status: AU authorised, RC received, CL closed.
IF OBJECT_ID(N'dbo.ReturnAuthorization', N'U') IS NULL
CREATE TABLE dbo.ReturnAuthorization (
    RmaId       INT               NOT NULL CONSTRAINT PK_ReturnAuthorization PRIMARY KEY,
    RmaNumber   NVARCHAR(20)      NOT NULL CONSTRAINT UQ_ReturnAuthorization_RmaNumber UNIQUE,
    OrderNumber NVARCHAR(20)      NOT NULL
        CONSTRAINT FK_ReturnAuthorization_SalesOrderHeader REFERENCES dbo.SalesOrderHeader (OrderNumber),
    Status      CHAR(2)           NOT NULL CONSTRAINT CK_ReturnAuthorization_Status CHECK (Status IN ('AU', 'RC', 'CL')),
    Reason      NVARCHAR(200)     NULL,
    ReceivedAt  DATETIMEOFFSET(7) NULL,
    ModifiedAt  DATETIME2(7)      NOT NULL CONSTRAINT DF_ReturnAuthorization_ModifiedAt DEFAULT SYSUTCDATETIME()
);
GO

-- RmaNumber is NULL for goodwill refunds that have no returned goods.
IF OBJECT_ID(N'dbo.Refund', N'U') IS NULL
CREATE TABLE dbo.Refund (
    RefundId     INT               NOT NULL CONSTRAINT PK_Refund PRIMARY KEY,
    OrderNumber  NVARCHAR(20)      NOT NULL CONSTRAINT FK_Refund_SalesOrderHeader REFERENCES dbo.SalesOrderHeader (OrderNumber),
    RmaNumber    NVARCHAR(20)      NULL
        CONSTRAINT FK_Refund_ReturnAuthorization REFERENCES dbo.ReturnAuthorization (RmaNumber),
    Amount       DECIMAL(19,4)     NOT NULL,
    CurrencyCode CHAR(3)           NOT NULL,
    Status       NVARCHAR(12)      NOT NULL CONSTRAINT CK_Refund_Status CHECK (Status IN (N'PENDING', N'COMPLETED')),
    CompletedAt  DATETIMEOFFSET(7) NULL,
    ModifiedAt   DATETIME2(7)      NOT NULL CONSTRAINT DF_Refund_ModifiedAt DEFAULT SYSUTCDATETIME()
);
GO
