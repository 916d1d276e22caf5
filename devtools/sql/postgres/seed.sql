-- Reference data for the sample ERP, PostgreSQL flavour: 3 locations, 6 items and
-- their inventory balances. Run after erp-schema.sql:
--   psql -v ON_ERROR_STOP=1 -d erp_demo -f seed.sql
--
-- Idempotent: ON CONFLICT DO NOTHING inserts only missing keys and never updates,
-- so re-running it neither fails nor emits change events for rows changed since.
-- Keep in step with ../sqlserver/seed.sql.

INSERT INTO public.location (location_id, code, name, kind, is_active)
VALUES
    (1, 'WH-EAST', 'East distribution centre', 'WAREHOUSE', true),
    (2, 'ST-DOWNTOWN', 'Downtown store', 'STORE', true),
    (3, 'ST-AIRPORT', 'Airport store', 'STORE', true)
ON CONFLICT (location_id) DO NOTHING;

INSERT INTO public.item (item_id, sku, description, unit_of_measure, list_price, is_active)
VALUES
    (1001, 'TSHIRT-ORG-BLK-M', 'Organic cotton T-shirt, black, size M', 'EA', 19.9900, true),
    (1002, 'HOODIE-GRY-L', 'Heavyweight hoodie, grey, size L', 'EA', 54.5000, true),
    (1003, 'MUG-STONE-350', 'Stoneware mug 350 ml', 'EA', 8.2500, true),
    (1004, 'COFFEE-ESP-BULK', 'Espresso beans, sold by weight', 'KG', 23.8000, true),
    (1005, 'ROPE-DYN-10MM', 'Dynamic climbing rope 10 mm, sold by length', 'M', 3.7450, true),
    (1006, 'CABLE-USBC-2M', 'USB-C cable 2 m (discontinued)', 'EA', 12.0000, false)
ON CONFLICT (item_id) DO NOTHING;

-- Balances are keyed by SKU and location code, as the ERP keys them.
INSERT INTO public.inventory_balance (sku, location_code, qty_on_hand, qty_allocated, safety_stock, last_counted_at)
VALUES
    ('TSHIRT-ORG-BLK-M', 'WH-EAST', 480.000, 12.000, 50.000, '2025-01-06T07:30:00+01:00'),
    ('TSHIRT-ORG-BLK-M', 'ST-DOWNTOWN', 24.000, 2.000, 6.000, '2025-01-05T18:05:00+01:00'),
    ('TSHIRT-ORG-BLK-M', 'ST-AIRPORT', 9.000, 0.000, 6.000, NULL),
    ('HOODIE-GRY-L', 'WH-EAST', 150.000, 0.000, 20.000, '2025-01-06T07:45:00+01:00'),
    ('HOODIE-GRY-L', 'ST-DOWNTOWN', 7.000, 1.000, 4.000, NULL),
    ('MUG-STONE-350', 'WH-EAST', 960.000, 48.000, 100.000, '2025-01-06T08:00:00+01:00'),
    ('MUG-STONE-350', 'ST-AIRPORT', 36.000, 0.000, 12.000, NULL),
    ('COFFEE-ESP-BULK', 'WH-EAST', 212.750, 3.500, 25.000, '2025-01-06T08:10:00+01:00'),
    ('COFFEE-ESP-BULK', 'ST-DOWNTOWN', 18.250, 0.750, 5.000, NULL),
    ('ROPE-DYN-10MM', 'WH-EAST', 1250.500, 60.000, 200.000, '2025-01-06T08:20:00+01:00'),
    ('CABLE-USBC-2M', 'WH-EAST', 0.000, 0.000, 0.000, '2024-12-31T16:00:00+01:00'),
    ('CABLE-USBC-2M', 'ST-DOWNTOWN', 3.000, 0.000, 0.000, NULL)
ON CONFLICT (sku, location_code) DO NOTHING;
