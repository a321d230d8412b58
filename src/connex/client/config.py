"""Settings of the Connex API client, from code or the environment.

Environment variables (all optional):

=========================  ===========================================  ==========================
variable                   meaning                                      default
=========================  ===========================================  ==========================
``CONNEX_ENABLED``         ``1``/``true``: read data through the        ``0`` (direct connectors)
                           gateway instead of direct connectors
``CONNEX_API_KEY``         API key sent as ``X-Connex-Key``             none
``CONNEX_WS_URL``          websocket URL of the gateway                 ``ws://127.0.0.1:8000/v1/stream``
``CONNEX_REST_URL``        REST base URL of the gateway                 ``http://127.0.0.1:8000``
``CONNEX_CONNECT_TIMEOUT`` seconds to open a connection                 ``5``
``CONNEX_TIMEOUT``         seconds per REST request                     ``10``
``CONNEX_MAX_RETRIES``     REST retries (errors, 429, 503)              ``5``
``CONNEX_BACKOFF_INITIAL`` first reconnect/retry delay, seconds         ``0.25``
``CONNEX_BACKOFF_MAX``     largest reconnect/retry delay, seconds       ``10``
``CONNEX_HEARTBEAT_TIMEOUT`` silence (s) after which the websocket      ``15``
                           reconnects
=========================  ===========================================  ==========================

A bad value raises ``ConfigError`` naming the variable, e.g.
``CONNEX_WS_URL (ws_url): must start with ws:// or wss://``. The API key is a
``SecretStr``: it never shows in reprs, logs or error messages.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from connex.model.errors import ConfigError

__all__ = ["ENV_VARS", "ConnexConfig"]

#: field -> environment variable
ENV_VARS: dict[str, str] = {
    "api_key": "CONNEX_API_KEY",
    "ws_url": "CONNEX_WS_URL",
    "rest_url": "CONNEX_REST_URL",
    "connect_timeout": "CONNEX_CONNECT_TIMEOUT",
    "request_timeout": "CONNEX_TIMEOUT",
    "max_retries": "CONNEX_MAX_RETRIES",
    "backoff_initial": "CONNEX_BACKOFF_INITIAL",
    "backoff_max": "CONNEX_BACKOFF_MAX",
    "heartbeat_timeout": "CONNEX_HEARTBEAT_TIMEOUT",
    "source": "CONNEX_SOURCE",
}

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class ConnexConfig(BaseModel):
    """How to reach a Connex gateway (see the module docstring for the variables)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    api_key: SecretStr | None = None
    ws_url: str = "ws://127.0.0.1:8000/v1/stream"
    rest_url: str = "http://127.0.0.1:8000"
    connect_timeout: float = Field(default=5.0, gt=0)
    request_timeout: float = Field(default=10.0, gt=0)
    max_retries: int = Field(default=5, ge=0, le=100)
    backoff_initial: float = Field(default=0.25, gt=0)
    backoff_max: float = Field(default=10.0, gt=0)
    heartbeat_timeout: float = Field(default=15.0, gt=0)
    queue_size: int = Field(default=10_000, ge=16)
    source: Literal["direct", "connex"] = "direct"

    @field_validator("ws_url")
    @classmethod
    def _ws(cls, v: str) -> str:
        if not v.startswith(("ws://", "wss://")):
            raise ValueError("must start with ws:// or wss://")
        return v

    @field_validator("rest_url")
    @classmethod
    def _rest(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return v.rstrip("/")

    @model_validator(mode="after")
    def _backoff(self) -> ConnexConfig:
        if self.backoff_max < self.backoff_initial:
            raise ValueError("backoff_max must be >= backoff_initial")
        return self

    @property
    def key(self) -> str | None:
        """The plain API key (for the request header only)."""
        return self.api_key.get_secret_value() if self.api_key is not None else None

    @classmethod
    def create(cls, **values: Any) -> ConnexConfig:
        """Validate ``values``; raise ``ConfigError`` naming each bad field."""
        try:
            return cls(**values)
        except ValidationError as exc:
            raise ConfigError(_describe(exc, {})) from None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> ConnexConfig:
        """Read ``CONNEX_*`` variables (``env`` defaults to ``os.environ``); ``overrides`` win."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        used: dict[str, str] = {}
        for field, var in ENV_VARS.items():
            if var in env and env[var] != "":
                values[field] = env[var]
                used[field] = var
        enabled = env.get("CONNEX_ENABLED")
        if enabled is not None:
            flag = enabled.strip().lower()
            if flag in _TRUE:
                values["source"] = "connex"
            elif flag in _FALSE:
                values.setdefault("source", "direct")
            else:
                raise ConfigError(f"CONNEX_ENABLED must be 1/0/true/false, got {enabled[:20]!r}")
            used["source"] = "CONNEX_ENABLED"
        values.update(overrides)
        try:
            return cls(**values)
        except ValidationError as exc:
            raise ConfigError(_describe(exc, used)) from None


def _describe(exc: ValidationError, used: dict[str, str]) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "config"
        name = f"{used[loc]} ({loc})" if loc in used else loc
        msg = err["msg"].removeprefix("Value error, ")
        parts.append(f"{name}: {msg}")  # never the input value: it may be the API key
    return "invalid Connex client configuration: " + "; ".join(parts)
