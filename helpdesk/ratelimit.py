"""A small fixed-window rate limit on Django's cache, for public forms.

Sign-in has django-axes (lockout per username and IP, with an audit trail); public forms such
as sign-up and anonymous tickets only need "no more than N per client per hour", which is a
cache counter and not worth another dependency.
"""

import hashlib
import ipaddress
import time

from django.conf import settings
from django.core.cache import cache


def client_ip(request) -> str:
    """The visitor's address. Behind TRUSTED_PROXY_COUNT proxies (the setting django-axes reads
    as AXES_IPWARE_PROXY_COUNT) it is the n-th X-Forwarded-For entry from the right: each proxy
    appends the address it saw, so entries further left were written by the client and can be
    forged. Without proxies, or if the header has fewer hops than that, REMOTE_ADDR."""
    remote = request.META.get("REMOTE_ADDR", "") or "unknown"
    proxies = getattr(settings, "AXES_IPWARE_PROXY_COUNT", None) or 0
    if proxies <= 0:
        return remote
    hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    hops = [h for h in hops if h]
    if len(hops) < proxies:
        return remote
    try:
        return str(ipaddress.ip_address(hops[-proxies]))
    except ValueError:
        return remote


def axes_client_ip(request) -> str | None:
    """client_ip for django-axes, which stores the address in an IP column: None when the
    request has none (Django's test client and login() outside a request do that)."""
    ip = client_ip(request)
    return None if ip == "unknown" else ip


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
