"""Binance sans-I/O session: frames in, typed events out (no event loop)."""

from __future__ import annotations

from decimal import Decimal

import orjson
import pytest

from connex.exchanges.base import Channel, Subscription
from connex.exchanges.binance import PROD_ENDPOINTS, PublicSession
from connex.exchanges.binance.auth import Credentials, sign, sign_ws_params
from connex.exchanges.binance.symbols import SymbolMap
from connex.model import (
    BookDelta,
    FeedError,
    FundingRate,
    Liquidation,
    MarkPrice,
    PositionSide,
    Side,
    Subscribed,
    Ticker,
    Trade,
)
from connex.model.errors import UnknownSymbolError, UnsupportedChannelError

SPOT = [Subscription(Channel.BOOK, "BTC/USDT"), Subscription(Channel.TRADES, "BTC/USDT")]
PERP = [
    Subscription(c, "BTC/USDT:USDT")
    for c in (
        Channel.BOOK,
        Channel.TICKER,
        Channel.LIQUIDATIONS,
        Channel.FUNDING,
        Channel.MARK_PRICE,
    )
]


def session(subs: list[Subscription], index: int = 0) -> PublicSession:
    spec = PublicSession.plan(subs, PROD_ENDPOINTS)[index]
    return PublicSession(spec, PROD_ENDPOINTS[spec.market])


def test_plan_routes_usdm_streams_to_public_and_market_paths() -> None:
    specs = {s.url: s for s in PublicSession.plan(SPOT + PERP, PROD_ENDPOINTS)}
    assert set(specs) == {
        "wss://stream.binance.com:9443/stream",
        "wss://fstream.binance.com/public/stream",
        "wss://fstream.binance.com/market/stream",
    }
    public = specs["wss://fstream.binance.com/public/stream"]
    assert {s.channel for s in public.subscriptions} == {Channel.BOOK, Channel.TICKER}
    market = specs["wss://fstream.binance.com/market/stream"]
    assert {s.channel for s in market.subscriptions} == {
        Channel.LIQUIDATIONS,
        Channel.FUNDING,
        Channel.MARK_PRICE,
    }


def test_subscribe_frames_dedupe_streams_and_number_requests() -> None:
    market = next(s for s in PublicSession.plan(PERP, PROD_ENDPOINTS) if "market" in s.url)
    p = PublicSession(market, PROD_ENDPOINTS["linear"])
    frames = [orjson.loads(f) for f in p.subscribe_frames(market.subscriptions)]
    assert frames == [
        {"method": "SUBSCRIBE", "params": ["btcusdt@forceOrder", "btcusdt@markPrice@1s"], "id": 1}
    ]
    assert orjson.loads(p.unsubscribe_frames(market.subscriptions)[0])["id"] == 2
    assert p.receive('{"result":null,"id":1}', 5) == [
        Subscribed(
            exchange="binance",
            request_id="1",
            channels=("btcusdt@forceOrder", "btcusdt@markPrice@1s"),
        )
    ]


def test_unsupported_channel_and_symbols_are_clear_errors() -> None:
    with pytest.raises(UnsupportedChannelError, match="liquidations"):
        PublicSession.plan([Subscription(Channel.LIQUIDATIONS, "BTC/USDT")], PROD_ENDPOINTS)
    with pytest.raises(UnsupportedChannelError, match="inverse"):
        PublicSession.plan([Subscription(Channel.BOOK, "BTC/USD:BTC")], PROD_ENDPOINTS)


def test_spot_depth_update_exact_strings_and_ids() -> None:
    p = session(SPOT)
    frame = (
        '{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1672515782136,"s":"BTCUSDT",'
        '"U":157,"u":160,"b":[["0.0024","10"]],"a":[["0.0026","100"],["0.0027","0.00000000"]]}}'
    )
    [ev] = p.receive(frame, 42)
    assert ev == BookDelta(
        exchange="binance",
        symbol="BTC/USDT",
        bids=(("0.0024", "10"),),
        asks=(("0.0026", "100"), ("0.0027", "0.00000000")),
        sequence=160,
        first_seq=157,
        prev_seq=-1,
        ts_exchange=1672515782136 * 1_000_000,
        ts_local=42,
    )
    # bytes frames take the same path
    assert p.receive(frame.encode(), 42) == [ev]


def test_agg_trade_aggressor_side() -> None:
    p = session(SPOT)
    [t] = p.receive(
        '{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","E":1,"s":"BTCUSDT","a":26129,'
        '"p":"0.01633102","q":"4.70443515","f":27781,"l":27781,"T":1498793709153,"m":true,"M":true}}',
        9,
    )
    assert t == Trade(
        exchange="binance",
        symbol="BTC/USDT",
        price=Decimal("0.01633102"),
        size=Decimal("4.70443515"),
        side=Side.SELL,
        trade_id="26129",
        ts_exchange=1498793709153 * 1_000_000,
        ts_local=9,
    )


def test_usdm_depth_carries_pu_and_force_order_maps_position_side() -> None:
    p = session(PERP, 0)  # public
    [d] = p.receive(
        '{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":123456789,"T":123456788,'
        '"s":"BTCUSDT","U":157,"u":160,"pu":149,"b":[["9000.1","1.5"]],"a":[]}}',
        1,
    )
    assert (d.first_seq, d.sequence, d.prev_seq, d.symbol) == (157, 160, 149, "BTC/USDT:USDT")
    m = session(PERP, 1)  # market
    [liq] = m.receive(
        '{"stream":"btcusdt@forceOrder","data":{"e":"forceOrder","E":1568014460893,"o":{"s":"BTCUSDT",'
        '"S":"SELL","o":"LIMIT","f":"IOC","q":"0.014","p":"9910","ap":"9910.5","X":"FILLED","l":"0.014",'
        '"z":"0.014","T":1568014460893}}}',
        2,
    )
    assert isinstance(liq, Liquidation)
    assert (liq.side, liq.price, liq.size, liq.symbol) == (
        PositionSide.LONG,
        Decimal("9910.5"),
        Decimal("0.014"),
        "BTC/USDT:USDT",
    )
    assert liq.notional == Decimal("138.7470")


def test_mark_price_gives_mark_and_funding() -> None:
    m = session(PERP, 1)
    events = m.receive(
        '{"stream":"btcusdt@markPrice@1s","data":{"e":"markPriceUpdate","E":1562305380000,"s":"BTCUSDT",'
        '"p":"11794.15000000","i":"11784.62659091","P":"11784.25641265","r":"0.00038167","T":1562306400000}}',
        3,
    )
    mark, funding = events
    assert (
        isinstance(mark, MarkPrice)
        and mark.mark_price == Decimal("11794.15")
        and mark.index_price == Decimal("11784.62659091")
    )
    assert isinstance(funding, FundingRate) and funding.rate == Decimal("0.00038167")
    assert funding.next_funding_ts == 1562306400000 * 1_000_000


def test_book_ticker_spot_shape_without_event_fields() -> None:
    p = session([Subscription(Channel.TICKER, "BNB/USDT")])
    [t] = p.receive(
        '{"stream":"bnbusdt@bookTicker","data":{"u":400900217,"s":"BNBUSDT","b":"25.35190000",'
        '"B":"31.21000000","a":"25.36520000","A":"40.66000000"}}',
        4,
    )
    assert isinstance(t, Ticker) and t.symbol == "BNB/USDT" and t.ask_size == Decimal("40.66")


@pytest.mark.parametrize(
    ("frame", "kind", "text"),
    [
        ("not json", "malformed", "malformed"),
        (
            '{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate"}}',
            "malformed",
            "missing required field",
        ),
        (
            '{"error":{"code":2,"msg":"Invalid request: invalid stream"},"id":1}',
            "exchange_error",
            "invalid stream",
        ),
        ('{"code":3,"msg":"Invalid JSON"}', "exchange_error", "Invalid JSON"),
        ('{"stream":"btcusdt@nosuch","data":{}}', "malformed", "unknown stream"),
    ],
)
def test_bad_frames_become_feed_errors(frame: str, kind: str, text: str) -> None:
    p = session(SPOT)
    p.subscribe_frames(SPOT)
    [err] = p.receive(frame, 1)
    assert isinstance(err, FeedError) and err.kind in (kind, "unsupported") and text in err.message
    assert err.snippet == frame[:200]


def test_partial_depth_streams_are_unsupported_not_malformed() -> None:
    p = session(SPOT)
    [err] = p.receive(
        '{"stream":"btcusdt@depth5@100ms","data":{"lastUpdateId":1,"bids":[],"asks":[]}}', 1
    )
    assert isinstance(err, FeedError) and err.kind == "unsupported"


def test_symbol_map_from_exchange_info_beats_suffix_guess() -> None:
    m = SymbolMap()
    m.load_exchange_info(
        "spot", {"symbols": [{"symbol": "WBTCBTC", "baseAsset": "WBTC", "quoteAsset": "BTC"}]}
    )
    assert m.to_unified("spot", "WBTCBTC") == "WBTC/BTC"
    assert m.to_unified("linear", "ETHUSDC") == "ETH/USDC:USDC"
    with pytest.raises(UnknownSymbolError):
        m.to_unified("spot", "FOOBAR")


# Signing vectors B1, B2, B4, B7 from ../shared/protocols/binance.md §6
SPOT_SECRET = b"NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
SPOT_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"


@pytest.mark.parametrize(
    ("secret", "payload", "expected"),
    [
        (
            SPOT_SECRET,
            "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559",
            "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71",
        ),
        (
            SPOT_SECRET,
            "symbol=%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559",
            "e1353ec6b14d888f1164ae9af8228a3dbd508bc82eb867db8ab6046442f33ef3",
        ),
        (
            b"2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9",
            "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC&recvWindow=5000&timestamp=1591702613943",
            "3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9",
        ),
    ],
)
def test_rest_signing_vectors(secret: bytes, payload: str, expected: str) -> None:
    assert sign(secret, payload) == expected


def test_ws_api_signature_sorts_params_and_hides_secret() -> None:
    creds = Credentials(SPOT_KEY, SPOT_SECRET.decode())
    params = {
        "symbol": "BTCUSDT",
        "side": "SELL",
        "type": "LIMIT",
        "timeInForce": "GTC",
        "quantity": "0.01000000",
        "price": "52000.00",
        "recvWindow": "100",
        "timestamp": "1645423376532",
        "apiKey": SPOT_KEY,
    }
    assert (
        sign_ws_params(creds, params)
        == "aa1b5712c094bc4e57c05a1a5c1fd8d88dcd628338ea863fec7b88e59fe2db24"
    )
    assert SPOT_SECRET.decode() not in repr(creds) and SPOT_KEY not in str(creds)
