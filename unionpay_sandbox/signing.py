"""
The sandbox gateway's message signature (its "SDK"): HMAC-SHA256 over the parameters sorted by name,
as `k1=v1&k2=v2`, without the `signature` parameter. Both the gateway and the merchant (the portal's
adapter) use this one function.
"""

import hashlib
import hmac


def signature(params, key):
    canonical = "&".join(f"{name}={params[name]}" for name in sorted(params) if name != "signature")
    return hmac.new(key.encode(), canonical.encode(), hashlib.sha256).hexdigest()


def is_signed(params, key):
    given = params.get("signature", "")
    return bool(given) and hmac.compare_digest(given, signature(params, key))
