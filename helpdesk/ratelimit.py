"""A small fixed-window rate limit on Django's cache, for public forms.

Sign-in has django-axes (lockout per username and IP, with an audit trail); public forms such
as sign-up and anonymous tickets only need "no more than N per client per hour", which is a
cache counter and not worth another dependency.
"""

import hashlib
import time

from django.core.cache import cache


def client_ip(request) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def hit(scope: str, key: str, *, limit: int, window: int = 3600) -> bool:
    """Count one attempt; return True while the client is within `limit` per `window` seconds."""
    bucket = int(time.time() // window)
    digest = hashlib.sha256(f"{scope}:{key}".encode()).hexdigest()[:32]
    cache_key = f"rl:{scope}:{digest}:{bucket}"
    added = cache.add(cache_key, 1, timeout=window + 60)
    if added:
        return True
    try:
        count = cache.incr(cache_key)
    except ValueError:
        cache.set(cache_key, 1, timeout=window + 60)
        count = 1
    return count <= limit
