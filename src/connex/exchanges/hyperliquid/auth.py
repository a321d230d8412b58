"""Hyperliquid signing: not needed for public data.

Every websocket subscription used here, including the per-address ``userFills`` feed
that carries liquidations, is unauthenticated. Only ``POST /exchange`` actions are
signed (EIP-712 over a msgpack hash, secp256k1; see ../shared/protocols/hyperliquid.md
§6); that belongs to a private session and needs ``eth-account``/``msgpack``, which the
public connector does not pull in. This module only validates watched addresses.
"""

from __future__ import annotations

import re

from connex.model.errors import ConfigError

__all__ = ["normalize_address"]

_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


def normalize_address(address: str) -> str:
    """Lower-case ``0x`` + 40 hex digits; raise ``ConfigError`` for anything else."""
    if not isinstance(address, str) or not _ADDRESS.fullmatch(address):
        raise ConfigError(f"watch_addresses: {address!r} is not a 0x-prefixed 20-byte hex address")
    return address.lower()
