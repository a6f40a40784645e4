"""
The request signature, as published in docs/channels-api.md (and implemented again, standard library
only, in scripts/channel_client.py for partners):

    X-Signature = hex(HMAC-SHA256(secret, METHOD + "\\n" + PATH + "\\n" + SORTED_QUERY + "\\n"
                                          + TIMESTAMP + "\\n" + NONCE + "\\n" + hex(SHA256(BODY))))

PATH is the percent-encoded path without host and query; SORTED_QUERY is the query's key=value pairs,
each percent-encoded (RFC 3986, space as %20), sorted by key then value and joined with "&"; BODY is the
raw request body (empty for GET).
"""

import hashlib
import hmac
import re
from datetime import timedelta
from urllib.parse import parse_qsl, quote

MAX_CLOCK_SKEW = timedelta(minutes=5)
# A request is acceptable for 2 × MAX_CLOCK_SKEW of server time; its nonce is remembered that long.
NONCE_TTL = 2 * MAX_CLOCK_SKEW
NONCE_FORMAT = re.compile(r"[A-Za-z0-9_-]{16,64}")
KEY_ID_FORMAT = re.compile(r"[A-Za-z0-9_-]{1,64}")
SIGNATURE_FORMAT = re.compile(r"[0-9a-fA-F]{64}")
TIMESTAMP_FORMAT = re.compile(r"[0-9]{1,12}")


def canonical_path(path):
    return quote(path, safe="/")


def canonical_query(query_string):
    pairs = parse_qsl(query_string or "", keep_blank_values=True)
    return "&".join(f"{quote(key, safe='')}={quote(value, safe='')}" for key, value in sorted(pairs))


def string_to_sign(*, method, path, query_string, timestamp, nonce, body):
    return "\n".join(
        [
            method.upper(),
            canonical_path(path),
            canonical_query(query_string),
            timestamp,
            nonce,
            hashlib.sha256(body or b"").hexdigest(),
        ]
    )


def signature(secret, message):
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def matches(secrets_, message, presented):
    """True when `presented` is the signature of `message` under one of `secrets_` (constant time)."""
    presented = presented.lower().encode()
    found = False
    for secret in secrets_:
        found |= hmac.compare_digest(signature(secret, message).encode(), presented)
    return found
