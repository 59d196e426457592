"""Wait until a URL answers (used by scripts/run; no curl needed on a bare machine)."""

import sys
import time
import urllib.request

url, deadline = sys.argv[1], time.monotonic() + float(sys.argv[2] if len(sys.argv) > 2 else 20)
while time.monotonic() < deadline:
    try:
        with urllib.request.urlopen(url, timeout=2):  # noqa: S310 (loopback URL from our own script)
            sys.exit(0)
    except OSError:
        time.sleep(0.2)
print(f"{url} did not answer in time", file=sys.stderr)
sys.exit(1)
