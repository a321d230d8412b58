"""``connex serve`` config: runner from the exchanges section, keys from gateway.keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from connex.gateway.keys import hash_key
from connex.gateway.serve import build_runner, load_keys
from connex.model.errors import ConfigError


def test_build_runner_and_keys_from_yaml(tmp_path: Path) -> None:
    stored = hash_key("cx_served_key_1")
    cfg = tmp_path / "connex.yaml"
    cfg.write_text(
        "exchanges:\n"
        "  binance:\n"
        "    symbols: [BTC/USDT, ETH/USDT:USDT]\n"
        "    channels: [book, trades]\n"
        "    endpoints:\n"
        "      spot: {ws: 'ws://127.0.0.1:1', rest: 'http://127.0.0.1:1'}\n"
        "gateway:\n"
        "  keys:\n"
        f"    - {{name: bot, key_hash: '{stored}', exchanges: [binance], rate: 5}}\n"
    )
    runner, raw = build_runner(cfg)
    ((exchange, subs, endpoints, _),) = runner._plans
    assert exchange == "binance"
    assert {(s.channel.value, s.symbol) for s in subs} == {
        ("book", "BTC/USDT"),
        ("book", "ETH/USDT:USDT"),
        ("trades", "BTC/USDT"),
        ("trades", "ETH/USDT:USDT"),
    }
    assert endpoints["spot"].ws == "ws://127.0.0.1:1"
    keys = load_keys(raw)
    assert keys.names == ["bot"]
    assert keys.authenticate("cx_served_key_1").may_read("binance", "trades")
    assert load_keys({}) is None
    with pytest.raises(ConfigError, match=r"gateway\.keys must be a list"):
        load_keys({"gateway": {"keys": {"name": "x"}}})
