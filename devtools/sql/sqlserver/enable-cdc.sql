-- Enables SQL Server change data capture for the sample ERP, as an ERP DBA would
-- before Debezium's SQL Server connector can stream it.
--
-- Run after erp-schema.sql: CDC is enabled per table, so the tables must exist.
-- Idempotent: the database, the role, the signal table and each capture instance
-- are created only when missing (sys.databases.is_cdc_enabled,
-- sys.tables.is_tracked_by_cdc), so the script can run on every container start.
--
-- SQL Server Agent must run (MSSQL_AGENT_ENABLED=true in the container): the
-- capture and cleanup jobs that sp_cdc_enable_table creates are Agent jobs, and
-- without them the change tables stay empty. CDC needs Developer, Standard or
-- Enterprise edition, and sysadmin to enable it on the database.
--
-- @see https://learn.microsoft.com/sql/relational-databases/track-changes/enable-and-disable-change-data-capture-sql-server
-- @see https://debezium.io/documentation/reference/stable/connectors/sqlserver.html#setting-up-sqlserver

SET ANSI_NULLS ON;
SET QUOTED_IDENTIFIER ON;
SET NOCOUNT ON;
GO

IF DB_ID(N'ErpDemo') IS NULL
    CREATE DATABASE ErpDemo;
GO

USE ErpDemo;
GO

IF NOT EXISTS (SELECT 1 FROM sys.databases WHERE name = N'ErpDemo' AND is_cdc_enabled = 1)
    EXEC sys.sp_cdc_enable_db;
GO

-- Gating role for the change tables: only its members (and sysadmin/db_owner)
-- may read changes. Add the connector's login to it, e.g.
--   CREATE USER debezium FOR LOGIN debezium; ALTER ROLE cdc_reader ADD MEMBER debezium;
IF DATABASE_PRINCIPAL_ID(N'cdc_reader') IS NULL
    CREATE ROLE cdc_reader;
GO

-- Debezium's signalling table (signal.data.collection=ErpDemo.dbo.DebeziumSignal):
-- inserting a row asks the connector for an ad-hoc incremental snapshot. The SQL
-- Server connector reads signals from the CDC stream, so the table is captured too.
IF OBJECT_ID(N'dbo.DebeziumSignal', N'U') IS NULL
CREATE TABLE dbo.DebeziumSignal (
    id   VARCHAR(42)   NOT NULL CONSTRAINT PK_DebeziumSignal PRIMARY KEY,
    type VARCHAR(32)   NOT NULL,
    data VARCHAR(2048) NULL
);
GO

-- Fail with one clear message instead of a CDC error per table.
IF OBJECT_ID(N'dbo.Item', N'U') IS NULL
    OR OBJECT_ID(N'dbo.Location', N'U') IS NULL
    OR OBJECT_ID(N'dbo.InventoryBalance', N'U') IS NULL
    OR OBJECT_ID(N'dbo.SalesOrderHeader', N'U') IS NULL
    OR OBJECT_ID(N'dbo.SalesOrderLine', N'U') IS NULL
    OR OBJECT_ID(N'dbo.PaymentTransaction', N'U') IS NULL
    OR OBJECT_ID(N'dbo.Shipment', N'U') IS NULL
    OR OBJECT_ID(N'dbo.ShipmentLine', N'U') IS NULL
    OR OBJECT_ID(N'dbo.ReturnAuthorization', N'U') IS NULL
    OR OBJECT_ID(N'dbo.Refund', N'U') IS NULL
    THROW 50001, N'ERP tables are missing in ErpDemo: run erp-schema.sql before enable-cdc.sql', 1;
GO

-- @supports_net_changes = 1 needs a primary key, which every table has; it lets
-- DBAs query net changes too, while Debezium reads all changes.
IF NOT EXISTS (SELECT 1 FROM sys.tables WHERE object_id = OBJECT_ID(N'dbo.Item') AND is_tracked_by_cdc = 1)
    EXEC sys.sp_cdc_enable_table @source_schema = N'dbo', @source_name = N'Item', @role_name = N'cdc_reader', @supports_net_changes = 1;
GO

IF NOT EXISTS (SELECT 1 FROM sys.tables WHERE object_id = OBJECT_ID(N'dbo.Location') AND is_tracked_by_cdc = 1)
    EXEC sys.sp_cdc_enable_table @source_schema = N'dbo', @source_name = N'Location', @role_name = N'cdc_reader', @supports_net_changes = 1;
GO

IF NOT EXISTS (SELECT 1 FROM sys.tables WHERE object_id = OBJECT_ID(N'dbo.InventoryBalance') AND is_tracked_by_cdc = 1)
    EXEC sys.sp_cdc_enable_table @source_schema = N'dbo', @source_name = N'InventoryBalance', @role_name = N'cdc_reader', @supports_net_changes = 1;
GO

IF NOT EXISTS (SELECT 1 FROM sys.tables WHERE object_id = OBJECT_ID(N'dbo.SalesOrderHeader') AND is_tracked_by_cdc = 1)
    EXEC sys.sp_cdc_enable_table @source_schema = N'dbo', @source_name = N'SalesOrderHeader', @role_name = N'cdc_reader', @supports_net_changes = 1;
GO

IF NOT EXISTS (SELECT 1 FROM sys.tables WHERE object_id = OBJECT_ID(N'dbo.SalesOrderLine') AND is_tracked_by_cdc = 1)
    EXEC sys.sp_cdc_enable_table @source_schema = N'dbo', @source_name = N'SalesOrderLine', @role_name = N'cdc_reader', @supports_net_changes = 1;
GO

IF NOT EXISTS (SELECT 1 FROM sys.tables WHERE object_id = OBJECT_ID(N'dbo.PaymentTransaction') AND is_tracked_by_cdc = 1)
    EXEC sys.sp_cdc_enable_table @source_schema = N'dbo', @source_name = N'PaymentTransaction', @role_name = N'cdc_reader', @supports_net_changes = 1;
GO

IF NOT EXISTS (SELECT 1 FROM sys.tables WHERE object_id = OBJECT_ID(N'dbo.Shipment') AND is_tracked_by_cdc = 1)
    EXEC sys.sp_cdc_enable_table @source_schema = N'dbo', @source_name = N'Shipment', @role_name = N'cdc_reader', @supports_net_changes = 1;
GO

IF NOT EXISTS (SELECT 1 FROM sys.tables WHERE object_id = OBJECT_ID(N'dbo.ShipmentLine') AND is_tracked_by_cdc = 1)
    EXEC sys.sp_cdc_enable_table @source_schema = N'dbo', @source_name = N'ShipmentLine', @role_name = N'cdc_reader', @supports_net_changes = 1;
GO

IF NOT EXISTS (SELECT 1 FROM sys.tables WHERE object_id = OBJECT_ID(N'dbo.ReturnAuthorization') AND is_tracked_by_cdc = 1)
    EXEC sys.sp_cdc_enable_table @source_schema = N'dbo', @source_name = N'ReturnAuthorization', @role_name = N'cdc_reader', @supports_net_changes = 1;
GO

IF NOT EXISTS (SELECT 1 FROM sys.tables WHERE object_id = OBJECT_ID(N'dbo.Refund') AND is_tracked_by_cdc = 1)
    EXEC sys.sp_cdc_enable_table @source_schema = N'dbo', @source_name = N'Refund', @role_name = N'cdc_reader', @supports_net_changes = 1;
GO

-- Keep this last: docker-compose.yml's healthcheck treats a captured signal table
-- as "initialisation finished".
IF NOT EXISTS (SELECT 1 FROM sys.tables WHERE object_id = OBJECT_ID(N'dbo.DebeziumSignal') AND is_tracked_by_cdc = 1)
    EXEC sys.sp_cdc_enable_table @source_schema = N'dbo', @source_name = N'DebeziumSignal', @role_name = N'cdc_reader', @supports_net_changes = 1;
GO
