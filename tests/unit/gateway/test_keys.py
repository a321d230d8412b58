"""API keys: hashing, lookup, permissions, rate limits (no sockets, fake clock)."""

from __future__ import annotations

import pytest

from connex.gateway.keys import (
    ApiKey,
    AuthFailure,
    KeyStore,
    TokenBucket,
    generate_key,
    hash_key,
    verify_key,
)
from connex.model.errors import ConfigError


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_hash_is_salted_and_verifies() -> None:
    h1, h2 = hash_key("secret-1"), hash_key("secret-1")
    assert h1 != h2  # per-key random salt
    assert h1.startswith("sha256$") and len(h1.split("$")[2]) == 64
    assert verify_key("secret-1", h1) and verify_key("secret-1", h2)
    assert not verify_key("secret-2", h1)
    assert "secret-1" not in h1
    # fixed salt: the documented construction sha256(salt || key)
    import hashlib

    assert hash_key("k", b"\x01\x02") == "sha256$0102$" + hashlib.sha256(b"\x01\x02k").hexdigest()


def test_generate_key_round_trip() -> None:
    key, stored = generate_key()
    assert key.startswith("cx_") and len(key) > 30
    ks = KeyStore([ApiKey(name="gen", key_hash=stored)])
    assert ks.authenticate(key).name == "gen"


def test_authenticate_missing_wrong_and_right() -> None:
    ks = KeyStore()
    ks.add_plain("alice", "alice-key")
    ks.add_plain("bob", "bob-key", exchanges=("okx",), channels=("trades",))
    with pytest.raises(AuthFailure) as e:
        ks.authenticate(None)
    assert e.value.status == 401 and "X-Connex-Key" in e.value.message
    with pytest.raises(AuthFailure) as e:
        ks.authenticate("alice-key-but-wrong")
    assert e.value.status == 401 and e.value.message == "invalid API key"
    assert "alice-key" not in str(e.value)
    assert ks.authenticate("alice-key").name == "alice"
    assert ks.authenticate("alice-key") is ks.authenticate("alice-key")  # cached, same principal
    bob = ks.authenticate("bob-key")
    assert bob.name == "bob"
    assert bob.may_read("okx", "trades") and not bob.may_read("okx", "orderbook")
    assert not bob.may_read("binance")
    with pytest.raises(AuthFailure) as e:
        bob.check("binance", "trades")
    assert e.value.status == 403 and e.value.message == "key 'bob' may not read exchange 'binance'"
    with pytest.raises(AuthFailure) as e:
        bob.check("OKX", "orderbook")
    assert e.value.message == "key 'bob' may not read channel 'orderbook'"
    assert "alice-key" not in repr(ks) and "bob-key" not in repr(ks)


def test_from_config_entries_and_errors() -> None:
    stored = hash_key("k-one")
    ks = KeyStore.from_config(
        [
            {"name": "one", "key_hash": stored, "exchanges": "binance", "rate": 5, "burst": 10},
            {"name": "two", "key": "plain-two", "channels": ["orderbook", "trades"]},
        ]
    )
    assert ks.names == ["one", "two"]
    assert ks.authenticate("k-one").may_read("binance") and not ks.authenticate("k-one").may_read(
        "okx"
    )
    assert ks.authenticate("plain-two").may_read("okx", "trades")
    with pytest.raises(ConfigError, match=r"keys\[0\].*'name' is required"):
        KeyStore.from_config([{"key": "x"}])
    with pytest.raises(ConfigError, match="sha256"):
        KeyStore.from_config([{"name": "bad", "key_hash": "md5:abc"}])
    with pytest.raises(ConfigError, match="unknown channel"):
        KeyStore.from_config([{"name": "c", "key": "plain-c", "channels": ["candles"]}])
    with pytest.raises(ConfigError, match="duplicate"):
        KeyStore.from_config([{"name": "d", "key": "a"}, {"name": "d", "key": "b"}])
    with pytest.raises(ConfigError) as e:
        KeyStore.from_config([{"name": "r", "key": "plain-secret-r", "rate": "fast"}])
    assert "plain-secret-r" not in str(e.value)


def test_token_bucket_refills_at_rate() -> None:
    clock = Clock()
    b = TokenBucket(rate=2.0, burst=3, clock=clock)
    assert [b.take() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert b.take() == pytest.approx(0.5)  # one token comes back after 0.5 s
    clock.t += 0.5
    assert b.take() == 0.0
    clock.t += 10
    assert [b.take() for _ in range(3)] == [0.0, 0.0, 0.0]  # capped at burst
    assert b.take() > 0


def test_principal_rate_limit_raises_429() -> None:
    clock = Clock()
    ks = KeyStore(clock=clock)
    ks.add_plain("slow", "slow-key", rate=1, burst=2)
    ks.add_plain("free", "free-key", rate=0)
    p = ks.authenticate("slow-key")
    p.charge()
    p.charge()
    with pytest.raises(AuthFailure) as e:
        p.charge()
    assert e.value.status == 429 and e.value.code == "rate_limited"
    assert e.value.retry_after == pytest.approx(1.0)
    assert "key 'slow'" in e.value.message and "slow-key" not in e.value.message
    clock.t += 1.0
    p.charge()
    free = ks.authenticate("free-key")
    for _ in range(1000):
        free.charge()  # rate 0 = unlimited
