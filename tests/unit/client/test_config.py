"""ConnexConfig: environment, validation errors that name the variable, no key leaks."""

from __future__ import annotations

import pytest

from connex.client import ConnexConfig
from connex.model.errors import ConfigError

KEY = "cx_client_secret_123456"


def test_from_env_reads_every_variable() -> None:
    env = {
        "CONNEX_API_KEY": KEY,
        "CONNEX_WS_URL": "wss://gw.example:9000/v1/stream",
        "CONNEX_REST_URL": "https://gw.example:9000/",
        "CONNEX_CONNECT_TIMEOUT": "2.5",
        "CONNEX_TIMEOUT": "7",
        "CONNEX_MAX_RETRIES": "3",
        "CONNEX_BACKOFF_INITIAL": "0.1",
        "CONNEX_BACKOFF_MAX": "4",
        "CONNEX_HEARTBEAT_TIMEOUT": "9",
        "CONNEX_ENABLED": "1",
    }
    cfg = ConnexConfig.from_env(env)
    assert cfg.key == KEY
    assert cfg.ws_url == "wss://gw.example:9000/v1/stream"
    assert cfg.rest_url == "https://gw.example:9000"
    assert (cfg.connect_timeout, cfg.request_timeout, cfg.max_retries) == (2.5, 7.0, 3)
    assert (cfg.backoff_initial, cfg.backoff_max, cfg.heartbeat_timeout) == (0.1, 4.0, 9.0)
    assert cfg.source == "connex"
    assert KEY not in repr(cfg) and KEY not in str(cfg.model_dump())


def test_defaults_and_enabled_flag() -> None:
    cfg = ConnexConfig.from_env({})
    assert cfg.source == "direct" and cfg.api_key is None
    assert ConnexConfig.from_env({"CONNEX_ENABLED": "false"}).source == "direct"
    assert ConnexConfig.from_env({"CONNEX_ENABLED": "yes"}).source == "connex"
    with pytest.raises(ConfigError, match="CONNEX_ENABLED must be"):
        ConnexConfig.from_env({"CONNEX_ENABLED": "maybe"})


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"CONNEX_WS_URL": "http://x/v1/stream"},
            "CONNEX_WS_URL (ws_url): must start with ws:// or wss://",
        ),
        ({"CONNEX_REST_URL": "ftp://x"}, "CONNEX_REST_URL (rest_url): must start with http://"),
        (
            {"CONNEX_TIMEOUT": "-1"},
            "CONNEX_TIMEOUT (request_timeout): Input should be greater than 0",
        ),
        ({"CONNEX_MAX_RETRIES": "many"}, "CONNEX_MAX_RETRIES (max_retries)"),
        (
            {"CONNEX_BACKOFF_INITIAL": "5", "CONNEX_BACKOFF_MAX": "1"},
            "backoff_max must be >= backoff_initial",
        ),
    ],
)
def test_errors_name_the_variable_and_never_the_key(env: dict, message: str) -> None:
    with pytest.raises(ConfigError) as e:
        ConnexConfig.from_env({**env, "CONNEX_API_KEY": KEY})
    assert message in str(e.value)
    assert KEY not in str(e.value)


def test_create_validates_code_values() -> None:
    with pytest.raises(ConfigError, match="ws_url: must start with ws://"):
        ConnexConfig.create(ws_url="127.0.0.1:8000")
    assert ConnexConfig.create(api_key=KEY).key == KEY
