"""The secret-value guard of the audit log: whatever a caller passes, no secret is stored.

A value is masked when its key is named like a secret (`api_key`, `token`, `client_secret`,
`password`, `authorization`, `credentials`…); keys that only describe a secret (`key_hint`,
`token_expires_at`, `token_id`, `primary_key_id`) are kept. Strings anywhere are also run through the
log redaction (`Authorization: Bearer …`, API tokens, ciphertexts).
"""

from __future__ import annotations

import re
from typing import Any

from core.logging import redact

MASK = "••••"
_SECRET_NAME = re.compile(r"(?i)(key|token|secret|passw|authorization|credential|cookie|signature)")
# Names about a secret, not the secret: hints, ids, prefixes, timestamps, counts, names, flags.
_DESCRIBES = re.compile(r"(?i)((_hint|_ids?|_prefix|_at|_count|_name|_days|_type|_label|_changed|_set)$|^(is|has)_)")


def is_secret_name(name: str) -> bool:
    return bool(_SECRET_NAME.search(name)) and not _DESCRIBES.search(name)


def _already_masked(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(MASK)


def mask_secrets(value: Any) -> Any:
    """A copy of a JSON-like value with secret-named entries masked and secrets in strings redacted."""
    if isinstance(value, dict):
        masked: dict[str, Any] = {}
        for key, item in value.items():
            name = str(key)
            if is_secret_name(name) and item not in (None, "") and not _already_masked(item):
                masked[name] = MASK
            else:
                masked[name] = mask_secrets(item)
        return masked
    if isinstance(value, list | tuple):
        return [mask_secrets(item) for item in value]
    if isinstance(value, str):
        return redact(value)
    return value
