-- 0002: liquidations get an exchange column.
-- Databases at version 1 held one exchange's feed, Binance (the only connector then), so
-- existing rows are backfilled with 'binance'; rows written without an exchange later get
-- the default 'unknown'. The natural key becomes (exchange, symbol, dedupe_key), and an
-- index serves the API's "one symbol on these exchanges in a time range" lookups.
--
-- The backfill is done by adding the column with DEFAULT 'binance' (DuckDB fills existing
-- rows with the default) and then changing the default, not by an UPDATE: DuckDB refuses
-- CREATE INDEX in a transaction that has outstanding updates ("Cannot create index with
-- outstanding updates"), and this migration must stay one transaction.

DROP INDEX liquidations_key_v1;
ALTER TABLE liquidations ADD COLUMN exchange VARCHAR DEFAULT 'binance';
ALTER TABLE liquidations ALTER COLUMN exchange SET DEFAULT 'unknown';
ALTER TABLE liquidations ALTER COLUMN exchange SET NOT NULL;
CREATE UNIQUE INDEX liquidations_key ON liquidations (exchange, symbol, dedupe_key);
CREATE INDEX liquidations_symbol_ts ON liquidations (symbol, exchange, ts_ns);
