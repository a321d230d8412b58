-- 0003: liquidations_rollup, a pre-aggregate of liquidations for the heatmap.
-- One row per (symbol, exchange, side, span, bucket, price cell): count, sum(size),
-- sum(notional), min/max price; every liquidation is counted once per level: 60 s
-- with gm = 1, 300 s and 3600 s with gm = 5. The price cell: D = the first 5
-- significant digits of the price, gexp = the power of ten of the last of them,
-- pidx = D // gm, so the cell is [pidx * gm * 10^gexp, (pidx + 1) * gm * 10^gexp).
-- Prices below 1e-14 keep all their digits (gexp = -18); non-positive prices get gexp = 99, which no
-- price bin accepts, so the heatmap reads such rows from the liquidations table.
-- Sums of DECIMAL are exact, so any bucket that is a multiple of 60 s and any price
-- bin that is a multiple of gm * 10^gexp is summed from these rows exactly
-- (connex.heatmap.realized). Store.insert_rows keeps it up to date in the same
-- transaction as the rows it inserts; the same expressions are in connex.store.rollup.

CREATE TABLE liquidations_rollup (
    symbol     VARCHAR        NOT NULL,
    exchange   VARCHAR        NOT NULL,
    side       VARCHAR        NOT NULL,
    span_s     BIGINT         NOT NULL,  -- bucket width: 60, 300 or 3600 seconds
    bucket_ns  BIGINT         NOT NULL,  -- bucket start, ns since the epoch
    gm         BIGINT         NOT NULL,  -- cell width multiplier: 1 (60 s) or 5
    gexp       INTEGER        NOT NULL,
    pidx       BIGINT         NOT NULL,
    n          BIGINT         NOT NULL,
    size       DECIMAL(38,18) NOT NULL,
    notional   DECIMAL(38,18) NOT NULL,
    pmin       DECIMAL(38,18) NOT NULL,  -- lowest price in the row
    pmax       DECIMAL(38,18) NOT NULL,  -- highest price in the row
    PRIMARY KEY (symbol, exchange, side, span_s, bucket_ns, gm, gexp, pidx)
);

INSERT INTO liquidations_rollup
SELECT symbol, exchange, side, span_s, ts_ns - ((ts_ns % (span_s * 1000000000)) + span_s * 1000000000) % (span_s * 1000000000) AS bucket_ns, gm, CASE WHEN price <= 0 THEN 99 ELSE greatest(length(ltrim(replace(CAST(price AS VARCHAR), '.', ''), '0')) - 23, -18) END AS gexp, (CASE WHEN price <= 0 THEN 0 ELSE CAST(left(ltrim(replace(CAST(price AS VARCHAR), '.', ''), '0'), 5) AS BIGINT) END) // gm AS pidx, count(*) AS n, sum(size) AS size, sum(notional) AS notional, min(price) AS pmin, max(price) AS pmax
FROM liquidations CROSS JOIN (VALUES (60::BIGINT, 1::BIGINT), (300::BIGINT, 5::BIGINT), (3600::BIGINT, 5::BIGINT)) AS levels(span_s, gm)
GROUP BY ALL
ORDER BY span_s, bucket_ns;
