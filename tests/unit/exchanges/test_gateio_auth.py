"""Gate signing against the vectors in ../shared/protocols/gateio.md §6."""

from __future__ import annotations

from connex.exchanges.gateio.auth import (
    Credentials,
    body_hash,
    rest_headers,
    rest_sign_payload,
    ws_channel_auth,
    ws_login_signature,
)

CREDS = Credentials("key", "secret")
EMPTY_SHA512 = (
    "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
    "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"
)


def test_empty_body_hash() -> None:
    assert body_hash("") == EMPTY_SHA512


def test_official_rest_get_vector() -> None:
    payload = rest_sign_payload(
        "GET", "/api/v4/futures/orders", "contract=BTC_USD&status=finished&limit=50", "", 1541993715
    )
    assert payload == (
        f"GET\n/api/v4/futures/orders\ncontract=BTC_USD&status=finished&limit=50\n{EMPTY_SHA512}\n1541993715"
    )
    assert CREDS.sign(payload) == (
        "55f84ea195d6fe57ce62464daaa7c3c02fa9d1dde954e4c898289c9a2407a3d6"
        "fb3faf24deff16790d726b66ac9f74526668b13bd01029199cc4fcc522418b8a"
    )


def test_official_rest_post_vector() -> None:
    body = '{"contract":"BTC_USD","type":"limit","size":100,"price":6800,"time_in_force":"gtc"}'
    assert body_hash(body) == (
        "ad3c169203dc3026558f01b4df307641fa1fa361f086b2306658886d5708767b"
        "1854797c68d9e62fef2f991645aa82673622ebf417e091d0bd22bafe5d956cca"
    )
    headers = rest_headers(CREDS, "POST", "/api/v4/futures/orders", "", body, 1541993715)
    assert headers == {
        "KEY": "key",
        "Timestamp": "1541993715",
        "SIGN": "eae42da914a590ddf727473aff25fc87d50b64783941061f47a3fdb92742541f"
        "c4c2c14017581b4199a1418d54471c269c03a38d788d802e2c306c37636389f0",
    }


def test_ws_channel_auth_vector() -> None:
    auth = ws_channel_auth(CREDS, "spot.orders", "subscribe", 1611541000)
    assert auth["method"] == "api_key" and auth["KEY"] == "key"
    assert auth["SIGN"] == (
        "833a44bb4cd083e47bc1fec22b5c12e8b98c30fc7a9f4a1e52800dcfdff9a572"
        "40d7c10f1e9553dee020011fa5d02cdc7d1155a380cc4dcbd45f8fb525e41f4b"
    )


def test_ws_login_vector() -> None:
    assert ws_login_signature(CREDS, "futures.login", 1681984544) == (
        "7d9fc2b54fe263d2c1b8a1755e918c8f606395c08a3aeab3324c72273a92e851"
        "2720ccae4a5ad994b68a7aca4c3b9e663d19247b1e461717d939c20bc1c19cd1"
    )


def test_secret_never_in_repr() -> None:
    creds = Credentials("abcdefgh", "very-secret-value")
    assert "very-secret-value" not in repr(creds) and "very-secret-value" not in str(creds)
    assert "abcd" in repr(creds) and "abcdefgh" not in repr(creds)
