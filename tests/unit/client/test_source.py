"""open_source picks the source from one setting; nothing connects until start()."""

from __future__ import annotations

from connex.client import ConnexConfig, SourceConfig, open_source
from connex.client.source import ConnexSource, DirectSource
from connex.config import ConnexSettings

EXCHANGES = {
    "binance": {
        "symbols": ["BTC/USDT", "BTC/USDT:USDT"],
        "channels": ["book", "trades", "liquidations"],
    }
}


def test_direct_by_default_and_connex_by_setting_or_env() -> None:
    direct = open_source(SourceConfig(exchanges=EXCHANGES), env={})
    assert isinstance(direct, DirectSource) and direct.kind == "direct"
    assert len(direct.runner._plans[0][1]) == 5  # book+trades for both, liquidations for the perp
    assert direct.book("binance", "BTC/USDT") is None
    by_setting = open_source(SourceConfig(source="connex", exchanges=EXCHANGES), env={})
    assert isinstance(by_setting, ConnexSource)
    by_env = open_source(SourceConfig(exchanges=EXCHANGES, depth=20), env={"CONNEX_ENABLED": "1"})
    assert isinstance(by_env, ConnexSource)
    ops = by_env.client.state.subscribe_ops()
    # liquidations exist only for the perpetual, as with the direct runner; depth on books only
    assert {
        "op": "subscribe",
        "channel": "orderbook",
        "exchange": "binance",
        "symbol": "BTC/USDT",
        "depth": 20,
    } in ops
    assert {
        "op": "subscribe",
        "channel": "liquidations",
        "exchange": "binance",
        "symbol": "BTC/USDT:USDT",
    } in ops
    assert not any(o["channel"] == "liquidations" and o["symbol"] == "BTC/USDT" for o in ops)
    assert len(ops) == 5


def test_accepts_the_main_settings_and_env_gateway_config() -> None:
    settings = ConnexSettings(exchanges=EXCHANGES, source="connex")
    env = {"CONNEX_WS_URL": "ws://10.0.0.5:9000/v1/stream", "CONNEX_API_KEY": "cx_env_key_1"}
    src = open_source(settings, env=env)
    assert isinstance(src, ConnexSource)
    assert src.client.config.ws_url == "ws://10.0.0.5:9000/v1/stream"
    assert src.client.config.key == "cx_env_key_1"
    cfg = SourceConfig.from_env(EXCHANGES, env={"CONNEX_ENABLED": "true"})
    assert cfg.source == "connex" and isinstance(cfg.connex, ConnexConfig)
