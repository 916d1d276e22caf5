-- Reference data for the sample ERP: 3 locations, 6 items and their inventory
-- balances. Run after erp-schema.sql.
--
-- Idempotent: rows are inserted only when their key is missing and existing rows
-- are never updated, so re-running it on every container start neither fails nor
-- emits change events for rows the ERP (or a test) has since changed.
-- Quantities are DECIMAL(18,3) and prices DECIMAL(19,4) on purpose: fractional
-- quantities (kilograms, metres) must survive the pipeline without float rounding.
-- Keep in step with ../postgres/seed.sql.

SET ANSI_NULLS ON;
SET QUOTED_IDENTIFIER ON;
SET NOCOUNT ON;
GO

USE ErpDemo;
GO

INSERT INTO dbo.Location (LocationId, Code, Name, Kind, IsActive)
SELECT v.LocationId, v.Code, v.Name, v.Kind, v.IsActive
FROM (VALUES
    (1, N'WH-EAST', N'East distribution centre', N'WAREHOUSE', 1),
    (2, N'ST-DOWNTOWN', N'Downtown store', N'STORE', 1),
    (3, N'ST-AIRPORT', N'Airport store', N'STORE', 1)
) AS v (LocationId, Code, Name, Kind, IsActive)
WHERE NOT EXISTS (SELECT 1 FROM dbo.Location AS l WHERE l.LocationId = v.LocationId);
GO

INSERT INTO dbo.Item (ItemId, Sku, Description, UnitOfMeasure, ListPrice, IsActive)
SELECT v.ItemId, v.Sku, v.Description, v.UnitOfMeasure, v.ListPrice, v.IsActive
FROM (VALUES
    (1001, N'TSHIRT-ORG-BLK-M', N'Organic cotton T-shirt, black, size M', N'EA', CAST(19.9900 AS DECIMAL(19,4)), 1),
    (1002, N'HOODIE-GRY-L', N'Heavyweight hoodie, grey, size L', N'EA', 54.5000, 1),
    (1003, N'MUG-STONE-350', N'Stoneware mug 350 ml', N'EA', 8.2500, 1),
    (1004, N'COFFEE-ESP-BULK', N'Espresso beans, sold by weight', N'KG', 23.8000, 1),
    (1005, N'ROPE-DYN-10MM', N'Dynamic climbing rope 10 mm, sold by length', N'M', 3.7450, 1),
    (1006, N'CABLE-USBC-2M', N'USB-C cable 2 m (discontinued)', N'EA', 12.0000, 0)
) AS v (ItemId, Sku, Description, UnitOfMeasure, ListPrice, IsActive)
WHERE NOT EXISTS (SELECT 1 FROM dbo.Item AS i WHERE i.ItemId = v.ItemId);
GO

-- Balances are keyed by SKU and location code, as the ERP keys them.
INSERT INTO dbo.InventoryBalance (Sku, LocationCode, QtyOnHand, QtyAllocated, SafetyStock, LastCountedAt)
SELECT v.Sku, v.LocationCode, v.QtyOnHand, v.QtyAllocated, v.SafetyStock, v.LastCountedAt
FROM (VALUES
    (N'TSHIRT-ORG-BLK-M', N'WH-EAST', CAST(480.000 AS DECIMAL(18,3)), CAST(12.000 AS DECIMAL(18,3)),
        CAST(50.000 AS DECIMAL(18,3)), CAST(N'2025-01-06T07:30:00.0000000+01:00' AS DATETIMEOFFSET(7))),
    (N'TSHIRT-ORG-BLK-M', N'ST-DOWNTOWN', 24.000, 2.000, 6.000, N'2025-01-05T18:05:00.0000000+01:00'),
    (N'TSHIRT-ORG-BLK-M', N'ST-AIRPORT', 9.000, 0.000, 6.000, NULL),
    (N'HOODIE-GRY-L', N'WH-EAST', 150.000, 0.000, 20.000, N'2025-01-06T07:45:00.0000000+01:00'),
    (N'HOODIE-GRY-L', N'ST-DOWNTOWN', 7.000, 1.000, 4.000, NULL),
    (N'MUG-STONE-350', N'WH-EAST', 960.000, 48.000, 100.000, N'2025-01-06T08:00:00.0000000+01:00'),
    (N'MUG-STONE-350', N'ST-AIRPORT', 36.000, 0.000, 12.000, NULL),
    (N'COFFEE-ESP-BULK', N'WH-EAST', 212.750, 3.500, 25.000, N'2025-01-06T08:10:00.0000000+01:00'),
    (N'COFFEE-ESP-BULK', N'ST-DOWNTOWN', 18.250, 0.750, 5.000, NULL),
    (N'ROPE-DYN-10MM', N'WH-EAST', 1250.500, 60.000, 200.000, N'2025-01-06T08:20:00.0000000+01:00'),
    (N'CABLE-USBC-2M', N'WH-EAST', 0.000, 0.000, 0.000, N'2024-12-31T16:00:00.0000000+01:00'),
    (N'CABLE-USBC-2M', N'ST-DOWNTOWN', 3.000, 0.000, 0.000, NULL)
) AS v (Sku, LocationCode, QtyOnHand, QtyAllocated, SafetyStock, LastCountedAt)
WHERE NOT EXISTS (
    SELECT 1 FROM dbo.InventoryBalance AS b WHERE b.Sku = v.Sku AND b.LocationCode = v.LocationCode
);
GO
