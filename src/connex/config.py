"""Connex configuration: YAML file, environment and code, validated with pydantic.

Precedence (highest first): arguments given in code, environment variables
(``CONNEX_`` prefix, ``__`` between nested keys, e.g.
``CONNEX_EXCHANGES__BINANCE__SYMBOLS='["BTC/USDT"]'``), the YAML file, defaults.
A bad value raises ``ConfigError`` naming the field, e.g.
``exchanges.binance.channels.0: Input should be 'book', 'trades', ...``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from connex.exchanges import EXCHANGES
from connex.exchanges.base import Channel
from connex.model import parse_symbol
from connex.model.errors import ConfigError, UnknownSymbolError

__all__ = ["ConnexSettings", "ExchangeConfig", "load_config"]


class EndpointConfig(BaseModel):
    ws: str
    rest: str


class ExchangeConfig(BaseModel):
    """One exchange: symbols (unified), channels, and optional endpoint overrides."""

    symbols: list[str] = Field(min_length=1)
    channels: list[Channel] = [Channel.BOOK, Channel.TRADES]
    endpoints: dict[str, EndpointConfig] = {}

    @field_validator("symbols")
    @classmethod
    def _unified(cls, v: list[str]) -> list[str]:
        for s in v:
            try:
                parse_symbol(s)
            except UnknownSymbolError as exc:
                raise ValueError(str(exc)) from None
        return v


class StorageConfig(BaseModel):
    path: str = "connex.duckdb"
    trades: bool = False


class ConnexSettings(BaseSettings):
    """Everything ``connex run`` / ``connex serve`` need."""

    model_config = SettingsConfigDict(
        env_prefix="CONNEX_", env_nested_delimiter="__", extra="forbid"
    )

    exchanges: dict[str, ExchangeConfig] = {}
    proxy: str | None = None
    depth_cap: int | None = Field(default=None, ge=1)
    stale_after: float | None = Field(default=None, gt=0)
    storage: StorageConfig = StorageConfig()
    source: str = Field(default="direct", pattern="^(direct|connex)$")

    @field_validator("exchanges")
    @classmethod
    def _known(cls, v: dict[str, ExchangeConfig]) -> dict[str, ExchangeConfig]:
        for name in v:
            if name not in EXCHANGES:
                raise ValueError(f"unknown exchange {name!r}; valid: {', '.join(EXCHANGES)}")
        return v

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings)


def _deep_merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in top.items():
        out[k] = (
            _deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
        )
    return out


def load_config(path: str | Path | None = None, **overrides: Any) -> ConnexSettings:
    """Load YAML (if given), apply environment variables, then ``overrides``.

    Raises ``ConfigError`` naming the bad field and the file.
    """
    data: dict[str, Any] = {}
    if path is not None:
        try:
            loaded = yaml.safe_load(Path(path).read_text()) or {}
        except FileNotFoundError:
            raise ConfigError(f"config file {path} does not exist") from None
        except yaml.YAMLError as exc:
            raise ConfigError(f"config file {path} is not valid YAML: {exc}") from None
        if not isinstance(loaded, dict):
            raise ConfigError(f"config file {path}: the top level must be a mapping")
        data = loaded
    try:
        # environment beats YAML: pydantic-settings' env source gives raw values
        from_env = EnvSettingsSource(ConnexSettings)()
        merged = _deep_merge(data, from_env)
        merged = _deep_merge(merged, overrides)
        return ConnexSettings.model_validate(merged)
    except ValidationError as exc:
        where = f" in {path}" if path else ""
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(f"invalid configuration{where}: {problems}") from None
