"""Wire format of the Connex API websocket (``/v1/stream``), shared by gateway and client.

Each text frame from the server holds one message (a JSON object) or a **batch**: a
JSON array of messages, in order, that were ready for that client in the same loop
iteration (protocol version 2); ``docs/api.md`` documents it with examples. Client
commands (one JSON object per frame) carry ``op``; server messages carry ``type``. Market data
messages are envelopes ``{"type", "sub", "seq", "ts_gw", "data"}`` whose ``data`` is the
normalized model event itself (``connex.model``: numbers as exact decimal strings), so
the Python client decodes ``data`` straight back into the same structs the direct
connectors emit.

``seq`` is the per-stream sequence: it grows by exactly one per message of a
subscription (``sub``). A ``snapshot`` restarts the count (the next message carries
``snapshot.seq + 1``); any other jump is a gap and the client asks for a ``resync``.
"""

from __future__ import annotations

from typing import Any

import msgspec

from connex.model import (
    BookDelta,
    BookReset,
    BookSnapshot,
    FundingRate,
    Liquidation,
    MarkPrice,
    Ticker,
    Trade,
    parse_symbol,
)
from connex.model.errors import UnknownSymbolError

__all__ = [
    "BOOK_TYPES",
    "CHANNEL_OF_TYPE",
    "DATA_TYPES",
    "DEPTH_BUCKETS",
    "PROTOCOL_VERSION",
    "TYPE_OF_EVENT",
    "ClientOp",
    "Envelope",
    "ServerMessage",
    "book_depth",
    "encode",
    "normalize_symbol",
    "sub_key",
    "symbol_error_text",
]

#: 2: server frames may carry a JSON array of messages (batch); 1 had one per frame.
PROTOCOL_VERSION = 2

#: Book depths the gateway streams; a requested depth is rounded up to one of these
#: (deeper than the last one, or 0/absent, means the full book as the gateway holds it).
DEPTH_BUCKETS: tuple[int, ...] = (1, 5, 10, 20, 50, 100, 200, 500, 1000)

#: Message ``type`` for each model event class.
TYPE_OF_EVENT: dict[type, str] = {
    BookSnapshot: "snapshot",
    BookDelta: "delta",
    BookReset: "reset",
    Trade: "trade",
    Liquidation: "liquidation",
    FundingRate: "funding",
    Ticker: "ticker",
    MarkPrice: "mark_price",
}
#: Model class for each data message ``type`` (for decoding ``data``).
DATA_TYPES: dict[str, type] = {v: k for k, v in TYPE_OF_EVENT.items()}
#: Channel a message type belongs to.
CHANNEL_OF_TYPE: dict[str, str] = {
    "snapshot": "orderbook",
    "delta": "orderbook",
    "reset": "orderbook",
    "trade": "trades",
    "liquidation": "liquidations",
    "funding": "funding",
    "ticker": "ticker",
    "mark_price": "mark_price",
}
BOOK_TYPES = frozenset(("snapshot", "delta", "reset"))


class ClientOp(msgspec.Struct, kw_only=True, forbid_unknown_fields=False):
    """A client command: ``auth``, ``subscribe``, ``unsubscribe``, ``resync``, ``ping``."""

    op: str
    id: int | str | None = None
    key: str | None = None
    channel: str | None = None
    exchange: str | None = None
    symbol: str | None = None
    depth: int | None = None


class Envelope(msgspec.Struct, kw_only=True):
    """A market-data message: model event in ``data`` with its stream position."""

    type: str
    sub: str
    seq: int
    ts_gw: int
    data: Any


class ServerMessage(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Control messages: ``welcome``, ``ack``, ``error``, ``heartbeat``, ``pong``."""

    type: str
    id: int | str | None = None
    op: str | None = None
    sub: str | None = None
    depth: int | None = None
    code: str | None = None
    reason: str | None = None
    retry_after: float | None = None
    version: int | None = None
    auth: str | None = None
    heartbeat_s: float | None = None
    ts: int | None = None


_encoder = msgspec.json.Encoder(decimal_format="string")
OP_DECODER = msgspec.json.Decoder(ClientOp)


def encode(msg: msgspec.Struct) -> str:
    """Encode a message once; the resulting ``str`` is shared by all recipients."""
    return _encoder.encode(msg).decode()


def sub_key(channel: str, exchange: str, symbol: str) -> str:
    """The subscription id used in ``sub`` fields: ``channel:exchange:symbol``."""
    return f"{channel}:{exchange}:{symbol}"


def book_depth(depth: int | None) -> int | None:
    """Round a requested depth up to a ``DEPTH_BUCKETS`` value; ``None`` = full book."""
    if depth is None or depth <= 0:
        return None
    for b in DEPTH_BUCKETS:
        if depth <= b:
            return b
    return None


def normalize_symbol(text: str) -> str:
    """Accept ``BTC/USDT``, ``BTC-USDT``, ``btc_usdt``, ``BTC-USDT:USDT`` -> unified symbol.

    Raises ``UnknownSymbolError`` (its message names the accepted forms) when malformed.
    """
    pair, colon, rest = text.strip().partition(":")
    if "/" not in pair:
        for sep in ("-", "_"):
            if sep in pair:
                base, _, quote = pair.partition(sep)
                pair = f"{base}/{quote}"
                break
    settle, dash, expiry = rest.partition("-")
    try:
        return str(parse_symbol(f"{pair.upper()}{colon}{settle.upper()}{dash}{expiry}"))
    except UnknownSymbolError:
        raise UnknownSymbolError(symbol_error_text(text)) from None


def symbol_error_text(text: str) -> str:
    """A clear message for a symbol that cannot be parsed."""
    return (
        f"bad symbol {text[:40]!r}: use BTC-USDT or BTC/USDT for spot, "
        "BTC-USDT:USDT for a linear perpetual"
    )
