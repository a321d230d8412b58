-- 0001: the first schema. Liquidations had no exchange column yet (only one exchange
-- was stored per database); 0002 adds it. Prices and sizes are exact DECIMAL(38,18);
-- ts_ns is the event time (exchange time, or receive time when the exchange sends
-- none) in integer nanoseconds, ts the same instant as a TIMESTAMP (microseconds) for
-- time_bucket and date partitions. notional = price * size, computed exactly on insert.

CREATE TABLE liquidations (
    symbol          VARCHAR        NOT NULL,
    side            VARCHAR        NOT NULL,  -- position side: 'long' | 'short'
    price           DECIMAL(38,18) NOT NULL,
    size            DECIMAL(38,18) NOT NULL,
    notional        DECIMAL(38,18) NOT NULL,
    ts_ns           BIGINT         NOT NULL,
    ts              TIMESTAMP      NOT NULL,
    ts_local_ns     BIGINT         NOT NULL,
    liquidation_id  VARCHAR        NOT NULL,
    dedupe_key      VARCHAR        NOT NULL   -- 'id:<liquidation_id>' or 'fp:<side>|<price>|<size>|<ts_ns>'
);
CREATE UNIQUE INDEX liquidations_key_v1 ON liquidations (symbol, dedupe_key);

CREATE TABLE trades (
    exchange     VARCHAR        NOT NULL,
    symbol       VARCHAR        NOT NULL,
    side         VARCHAR        NOT NULL,  -- aggressor side: 'buy' | 'sell'
    price        DECIMAL(38,18) NOT NULL,
    size         DECIMAL(38,18) NOT NULL,
    notional     DECIMAL(38,18) NOT NULL,
    ts_ns        BIGINT         NOT NULL,
    ts           TIMESTAMP      NOT NULL,
    ts_local_ns  BIGINT         NOT NULL,
    trade_id     VARCHAR        NOT NULL
);
CREATE UNIQUE INDEX trades_key ON trades (exchange, symbol, trade_id);

CREATE TABLE top_of_book (
    exchange     VARCHAR        NOT NULL,
    symbol       VARCHAR        NOT NULL,
    bid_price    DECIMAL(38,18),
    bid_size     DECIMAL(38,18),
    ask_price    DECIMAL(38,18),
    ask_size     DECIMAL(38,18),
    ts_ns        BIGINT         NOT NULL,
    ts           TIMESTAMP      NOT NULL,
    ts_local_ns  BIGINT         NOT NULL
);
CREATE UNIQUE INDEX top_of_book_key ON top_of_book (exchange, symbol, ts_ns);

CREATE TABLE funding (
    exchange            VARCHAR        NOT NULL,
    symbol              VARCHAR        NOT NULL,
    kind                VARCHAR        NOT NULL,  -- 'funding' (FundingRate) | 'mark' (MarkPrice)
    rate                DECIMAL(38,18),
    next_funding_ts_ns  BIGINT,
    mark_price          DECIMAL(38,18),
    index_price         DECIMAL(38,18),
    open_interest       DECIMAL(38,18),
    ts_ns               BIGINT         NOT NULL,
    ts                  TIMESTAMP      NOT NULL,
    ts_local_ns         BIGINT         NOT NULL
);
CREATE UNIQUE INDEX funding_key ON funding (exchange, symbol, kind, ts_ns);

CREATE TABLE exchange_health (
    exchange            VARCHAR   NOT NULL,
    connected           BOOLEAN   NOT NULL,
    healthy             BOOLEAN   NOT NULL,
    last_message_age_s  DOUBLE,
    msgs_per_s          DOUBLE    NOT NULL,
    reconnects          BIGINT    NOT NULL,
    errors              BIGINT    NOT NULL,
    gaps                BIGINT    NOT NULL,
    resyncs             BIGINT    NOT NULL,
    books_live          BIGINT    NOT NULL,
    books_total         BIGINT    NOT NULL,
    detail              VARCHAR   NOT NULL,
    ts_ns               BIGINT    NOT NULL,
    ts                  TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX exchange_health_key ON exchange_health (exchange, ts_ns);
