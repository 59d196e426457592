"""The credentials the sandbox accepts. Anything else gets each marketplace's real 401/403 answer.

These are demo values for a fake server, not secrets.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

OZON_CLIENT_ID = "100500"
OZON_API_KEY = "sandbox-ozon-0f6c1e2a-api-key"

# Ozon Performance API (advertising): the service account's client id and secret.
OZON_PERFORMANCE_CLIENT_ID = "100500-1700000000000@advertising.performance.ozon.ru"
OZON_PERFORMANCE_CLIENT_SECRET = "sandbox-ozon-performance-secret-7d2f"

YM_API_KEY = "ACMA:sandbox-ym-api-key:5c1b"
YM_BUSINESS_ID = 700100
# One store (campaign) per placement model, as a real cabinet has.
YM_CAMPAIGNS = {800101: "FBS", 800102: "FBY", 800103: "DBS"}


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


# WB tokens are JWTs; the payload carries the expiry ("exp") the back-office shows and alerts on,
# and the token type ("acc": 1 Basic, 3 Personal), which sets the rate limits WB applies.
WB_TOKEN_EXPIRES_AT = datetime(2027, 4, 30, tzinfo=UTC)


def _wb_token(acc: int, token_id: str, **extra: object) -> str:
    claims = {
        "acc": acc,
        "ent": 1,
        "exp": int(WB_TOKEN_EXPIRES_AT.timestamp()),
        "id": token_id,
        "s": 1073746430,
        "sid": "sandbox-seller",
        "t": False,
        **extra,
    }
    return ".".join([_b64({"alg": "ES256", "kid": "sandbox", "typ": "JWT"}), _b64(claims), "c2FuZGJveC1zaWduYXR1cmU"])


WB_TOKEN = _wb_token(3, "sandbox", **{"for": "self"})  # Personal
WB_BASIC_TOKEN = _wb_token(1, "sandbox-basic")  # Basic: WB's lower limits
