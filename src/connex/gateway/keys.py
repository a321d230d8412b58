"""API keys of the Connex API: hashed storage, permissions and rate limits.

Theory of operation
-------------------
A key is a random secret handed to a user once (``generate_key``). The gateway stores
only ``sha256(salt || key)`` with a per-key random salt, written as
``sha256$<salt hex>$<digest hex>`` (``hash_key``). To authenticate, the presented key is
hashed with every stored salt and compared with ``hmac.compare_digest`` (constant time;
the loop never stops early, so timing tells nothing about which entry matched). A
verified key is remembered in a small cache keyed by an HMAC of the key under a
per-process random secret, so the plain key is never kept in memory longer than the
request that carried it.

Each key has a ``name`` (what logs and metrics show - never the key), the exchanges and
channels it may read (``"*"`` = all) and a token bucket (``rate`` tokens per second,
``burst`` capacity) charged once per REST request and once per websocket command.

``open_mode`` (local demos only) lets every request in with full permissions and no
rate limit; it must be asked for explicitly.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import msgspec

from connex.model.errors import ConfigError

__all__ = [
    "CHANNELS",
    "ApiKey",
    "AuthFailure",
    "KeyStore",
    "Principal",
    "TokenBucket",
    "generate_key",
    "hash_key",
    "verify_key",
]

#: Public channels of the Connex API (websocket ``channel`` names and permission names).
CHANNELS: tuple[str, ...] = (
    "orderbook",
    "trades",
    "liquidations",
    "funding",
    "ticker",
    "mark_price",
)

_HASH_PREFIX = "sha256"


def hash_key(key: str, salt: bytes | None = None) -> str:
    """Hash ``key`` for storage: ``sha256$<salt hex>$<sha256(salt || key) hex>``."""
    if not key:
        raise ConfigError("an API key must not be empty")
    salt = secrets.token_bytes(16) if salt is None else salt
    digest = hashlib.sha256(salt + key.encode()).hexdigest()
    return f"{_HASH_PREFIX}${salt.hex()}${digest}"


def _parse_hash(stored: str) -> tuple[bytes, bytes]:
    parts = stored.split("$")
    if len(parts) != 3 or parts[0] != _HASH_PREFIX:
        raise ConfigError(
            "a stored key hash must look like 'sha256$<salt hex>$<digest hex>' "
            "(create one with connex.gateway.keys.hash_key)"
        )
    try:
        salt, digest = bytes.fromhex(parts[1]), bytes.fromhex(parts[2])
    except ValueError as exc:
        raise ConfigError("a stored key hash has non-hex salt or digest") from exc
    if len(digest) != 32 or not salt:
        raise ConfigError("a stored key hash has a bad salt or digest length")
    return salt, digest


def verify_key(key: str, stored: str) -> bool:
    """True when ``key`` matches the stored hash (constant-time compare)."""
    salt, digest = _parse_hash(stored)
    return hmac.compare_digest(hashlib.sha256(salt + key.encode()).digest(), digest)


def generate_key(prefix: str = "cx_") -> tuple[str, str]:
    """A new random key and its storage hash: ``(key, hash)``. Show the key once."""
    key = prefix + secrets.token_urlsafe(32)
    return key, hash_key(key)


class TokenBucket:
    """Classic token bucket; ``clock`` is injectable for tests."""

    __slots__ = ("_clock", "burst", "rate", "tokens", "updated")

    def __init__(
        self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = float(rate)
        self.burst = float(burst)
        self.tokens = float(burst)
        self._clock = clock
        self.updated = clock()

    def take(self, cost: float = 1.0) -> float:
        """Take ``cost`` tokens; return 0.0 on success, else the seconds to wait."""
        now = self._clock()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= cost:
            self.tokens -= cost
            return 0.0
        if self.rate <= 0:
            return float("inf")
        return (cost - self.tokens) / self.rate


class ApiKey(msgspec.Struct, frozen=True, kw_only=True):
    """One configured key (as stored: hash only).

    ``exchanges``/``channels`` list what the key may read; ``("*",)`` means everything.
    ``rate`` is requests per second (REST calls and websocket commands), ``burst`` the
    bucket size; ``rate <= 0`` disables the limit for this key.
    """

    name: str
    key_hash: str
    exchanges: tuple[str, ...] = ("*",)
    channels: tuple[str, ...] = ("*",)
    rate: float = 20.0
    burst: float = 40.0
    max_subscriptions: int = 500

    def __repr__(self) -> str:  # the hash is not a secret, but keep reprs short
        return f"ApiKey(name={self.name!r}, exchanges={self.exchanges}, channels={self.channels})"


class AuthFailure(Exception):
    """Authentication/authorization refused: ``status`` 401, 403 or 429.

    ``code`` is a short machine name (``unauthorized``, ``forbidden``, ``rate_limited``)
    and the message is safe to show: it never contains the presented key.
    """

    def __init__(self, status: int, code: str, message: str, retry_after: float = 0.0) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after


class Principal:
    """An authenticated caller: its key's name, permissions and bucket."""

    __slots__ = (
        "_all_ch",
        "_all_ex",
        "bucket",
        "channels",
        "exchanges",
        "max_subscriptions",
        "name",
    )

    def __init__(
        self,
        name: str,
        exchanges: Iterable[str] = ("*",),
        channels: Iterable[str] = ("*",),
        bucket: TokenBucket | None = None,
        max_subscriptions: int = 500,
    ) -> None:
        self.name = name
        self.exchanges = frozenset(e.lower() for e in exchanges)
        self.channels = frozenset(c.lower() for c in channels)
        self._all_ex = "*" in self.exchanges
        self._all_ch = "*" in self.channels
        self.bucket = bucket
        self.max_subscriptions = max_subscriptions

    def may_read(self, exchange: str, channel: str | None = None) -> bool:
        """True when this key may read ``channel`` (or anything, when None) of ``exchange``."""
        if not (self._all_ex or exchange.lower() in self.exchanges):
            return False
        return channel is None or self._all_ch or channel in self.channels

    def check(self, exchange: str, channel: str | None = None) -> None:
        """Raise ``AuthFailure(403)`` when the key may not read ``exchange``/``channel``."""
        if not (self._all_ex or exchange.lower() in self.exchanges):
            raise AuthFailure(
                403, "forbidden", f"key '{self.name}' may not read exchange '{exchange}'"
            )
        if channel is not None and not (self._all_ch or channel in self.channels):
            raise AuthFailure(
                403, "forbidden", f"key '{self.name}' may not read channel '{channel}'"
            )

    def charge(self, cost: float = 1.0) -> None:
        """Take from the rate-limit bucket; raise ``AuthFailure(429)`` when empty."""
        if self.bucket is None:
            return
        wait = self.bucket.take(cost)
        if wait > 0:
            raise AuthFailure(
                429,
                "rate_limited",
                f"rate limit of key '{self.name}' exceeded "
                f"({self.bucket.rate:g}/s, burst {self.bucket.burst:g}); retry in {wait:.2f} s",
                retry_after=wait,
            )

    def __repr__(self) -> str:
        return f"Principal({self.name!r})"


OPEN_PRINCIPAL_NAME = "open-mode"


class KeyStore:
    """The configured keys. Build with ``KeyStore.from_config`` or ``add_key``.

    Buckets live as long as the store, one per key (shared by all of a key's
    connections and requests).
    """

    def __init__(
        self, keys: Iterable[ApiKey] = (), *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._keys: list[tuple[ApiKey, bytes, bytes]] = []
        self._principals: dict[str, Principal] = {}
        self._clock = clock
        self._pepper = secrets.token_bytes(32)
        self._cache: OrderedDict[bytes, str] = OrderedDict()
        for k in keys:
            self.add(k)

    def __len__(self) -> int:
        return len(self._keys)

    def __repr__(self) -> str:
        return f"KeyStore({[k.name for k, _, _ in self._keys]})"

    @property
    def names(self) -> list[str]:
        return [k.name for k, _, _ in self._keys]

    def add(self, key: ApiKey) -> None:
        """Add a stored (hashed) key; names must be unique."""
        if key.name in self._principals:
            raise ConfigError(f"duplicate API key name {key.name!r}")
        salt, digest = _parse_hash(key.key_hash)
        bad = [c for c in key.channels if c != "*" and c not in CHANNELS]
        if bad:
            raise ConfigError(
                f"API key {key.name!r}: unknown channel(s) {bad}; valid: {list(CHANNELS)}"
            )
        self._keys.append((key, salt, digest))
        bucket = TokenBucket(key.rate, key.burst, self._clock) if key.rate > 0 else None
        self._principals[key.name] = Principal(
            key.name, key.exchanges, key.channels, bucket, key.max_subscriptions
        )
        self._cache.clear()

    def add_plain(self, name: str, key: str, **permissions: Any) -> ApiKey:
        """Hash ``key`` and add it (convenience for tests and ``connex serve``)."""
        api_key = ApiKey(name=name, key_hash=hash_key(key), **permissions)
        self.add(api_key)
        return api_key

    @classmethod
    def from_config(cls, entries: Iterable[Mapping[str, Any]]) -> KeyStore:
        """Build from config entries.

        Each entry: ``{"name", "key_hash", "exchanges", "channels", "rate", "burst"}``.

        An entry may give ``key`` (plain) instead of ``key_hash`` for local setups; it is
        hashed at once and not kept.
        """
        store = cls()
        for i, entry in enumerate(entries):
            data = dict(entry)
            name = data.get("name")
            if not name:
                raise ConfigError(f"gateway.keys[{i}]: 'name' is required")
            plain = data.pop("key", None)
            if plain is not None and "key_hash" not in data:
                data["key_hash"] = hash_key(str(plain))
            for f in ("exchanges", "channels"):
                if f in data and isinstance(data[f], str):
                    data[f] = [data[f]]
            try:
                api_key = msgspec.convert(data, ApiKey)
            except msgspec.ValidationError as exc:
                raise ConfigError(f"gateway.keys[{i}] ({name!r}): {exc}") from None
            store.add(api_key)
        return store

    def authenticate(self, key: str | None) -> Principal:
        """The principal for ``key``; raise ``AuthFailure(401)`` when missing or unknown."""
        if not key:
            raise AuthFailure(
                401,
                "unauthorized",
                "missing API key: send it in the X-Connex-Key header "
                '(websocket: header or first message {"op":"auth","key":...})',
            )
        tag = hmac.new(self._pepper, key.encode(), hashlib.sha256).digest()
        name = self._cache.get(tag)
        if name is not None:
            self._cache.move_to_end(tag)
            return self._principals[name]
        found: str | None = None
        raw = key.encode()
        for api_key, salt, digest in self._keys:  # no early exit: constant work per key
            if hmac.compare_digest(hashlib.sha256(salt + raw).digest(), digest) and found is None:
                found = api_key.name
        if found is None:
            raise AuthFailure(401, "unauthorized", "invalid API key")
        self._cache[tag] = found
        if len(self._cache) > 1024:
            self._cache.popitem(last=False)
        return self._principals[found]


def open_principal() -> Principal:
    """The principal used in ``open_mode``: everything allowed, no rate limit."""
    return Principal(OPEN_PRINCIPAL_NAME, ("*",), ("*",), None, max_subscriptions=10_000)
