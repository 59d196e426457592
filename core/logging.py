"""A logging filter that scrubs marketplace secrets from every record, as a last line of defence."""

from __future__ import annotations

import logging
import re

_HEADER_PATTERN = re.compile(
    r"(?i)(api-key|authorization|client-secret|token|password)([\"']?\s*[:=]\s*[\"']?)"
    r"((?:(?:bearer|token|basic)\s+)?[^\s\"',}]+)"
)
_FERNET_PATTERN = re.compile(r"enc:fernet:[\w-]+:[\w=-]+")
# Prilavok API tokens (core/tokens.py) wherever they appear: the public prefix stays readable.
_API_TOKEN_PATTERN = re.compile(r"\b(prl_[0-9a-f]{8})_[\w-]+")


def redact(text: str) -> str:
    text = _FERNET_PATTERN.sub("enc:fernet:[redacted]", text)
    text = _API_TOKEN_PATTERN.sub(r"\1_[redacted]", text)
    return _HEADER_PATTERN.sub(lambda m: f"{m.group(1)}{m.group(2)}[redacted]", text)


class RedactSecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        return True
