"""MEXC spot wire messages.

Market data arrives as binary protobuf ``PushDataV3ApiWrapper`` frames; the message
classes come from our own schema ``proto/mexc_push.proto`` compiled at build time by
``python scripts/gen_proto.py`` (upb runtime: decoding a push costs well under a
microsecond). Control replies and REST bodies are JSON, decoded with msgspec structs that
keep MEXC's field names.

Futures ("contract") market data is JSON text, ``{"channel":"push.depth","data":{...},
"symbol":"BTC_USDT","ts":ms}``; prices and volumes are JSON *numbers*, decoded straight to
``Decimal`` (msgspec reads the number's text exactly, never through a float).

References:
- Futures websocket: https://www.mexc.com/api-docs/futures/websocket-api
- Spot v3 websocket market streams:
  https://www.mexc.com/api-docs/spot-v3/websocket-market-streams
- Protobuf schema: https://github.com/mexcdevelop/websocket-proto
- Order book endpoint: https://www.mexc.com/api-docs/spot-v3/market-data-endpoints
"""

from __future__ import annotations

from decimal import Decimal

import msgspec

try:
    from .proto import mexc_push_pb2 as pb
except ImportError as exc:  # pragma: no cover - only when the build step was skipped
    # ModuleNotFoundError, so ``connex.exchanges.available_exchanges`` skips MEXC cleanly
    raise ModuleNotFoundError(
        "MEXC protobuf code is generated at build time and is missing: run "
        "`python scripts/gen_proto.py` (or `make proto`) from the repository root"
    ) from exc

__all__ = [
    "ControlReply",
    "DepthSnapshot",
    "FuturesDeal",
    "FuturesDepth",
    "FuturesDepthSnapshot",
    "FuturesEnvelope",
    "FuturesFairPrice",
    "FuturesFundingRate",
    "PushDataV3ApiWrapper",
    "pb",
]

PushDataV3ApiWrapper = pb.PushDataV3ApiWrapper

Levels = tuple[tuple[str, str], ...]


class ControlReply(msgspec.Struct, gc=False):
    """Reply to SUBSCRIPTION / UNSUBSCRIPTION / PING: ``{"id":0,"code":0,"msg":"..."}``.

    Success echoes the channel(s) in ``msg`` (comma-joined); a refusal keeps ``code`` 0
    and says ``Not Subscribed successfully! [ch].  Reason： Blocked! ``; PING answers
    ``msg`` ``PONG``.
    """

    id: int | str | None = None
    code: int | None = None
    msg: str = ""


class DepthSnapshot(msgspec.Struct, gc=False):
    """``GET /api/v3/depth`` reply."""

    lastUpdateId: int
    bids: Levels
    asks: Levels
    timestamp: int = 0


# -- futures ("contract") JSON ----------------------------------------------------------------
FuturesLevels = tuple[tuple[Decimal, ...], ...]
"""``[[price, volume(contracts), orderCount], ...]``."""


class FuturesEnvelope(msgspec.Struct, gc=False):
    """Every futures frame: pushes ``push.*``, acks ``rs.sub.*``, ``rs.error``, ``pong``."""

    channel: str
    data: msgspec.Raw = msgspec.Raw(b"null")
    symbol: str = ""
    ts: int = 0


class FuturesDepth(msgspec.Struct, gc=False):
    """``push.depth``: ``version``; merged pushes also carry ``begin``/``end``."""

    asks: FuturesLevels
    bids: FuturesLevels
    version: int
    begin: int = -1
    end: int = -1


class FuturesDepthSnapshotData(msgspec.Struct, gc=False):
    asks: FuturesLevels
    bids: FuturesLevels
    version: int
    timestamp: int = 0


class FuturesDepthSnapshot(msgspec.Struct, gc=False):
    """``GET /api/v1/contract/depth/{symbol}``: ``{"success","code","data":{...}}``."""

    data: FuturesDepthSnapshotData
    success: bool = True
    code: int = 0


class FuturesDeal(msgspec.Struct, gc=False):
    """``push.deal`` item: ``p`` price, ``v`` contracts, ``T`` 1 buy / 2 sell, ``O`` open/close,
    ``M`` self-trade flag, ``t`` ms; ``i`` (trade id) when the server sends one."""

    p: Decimal
    v: Decimal
    T: int
    t: int
    O: int = 0  # noqa: E741 - venue field name
    M: int = 0
    i: int | str | None = None


class FuturesFundingRate(msgspec.Struct, gc=False):
    """``push.funding.rate``; the docs' table names the rate ``fundingRate``, the example
    ``rate``: both are accepted."""

    symbol: str = ""
    rate: Decimal | None = None
    fundingRate: Decimal | None = None
    nextSettleTime: int = 0


class FuturesFairPrice(msgspec.Struct, gc=False):
    """``push.fair.price`` (fair price = mark price)."""

    price: Decimal
    symbol: str = ""
