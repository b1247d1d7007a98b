"""Ingest credentials of nodes: random tokens, stored only as a SHA-256 digest.

The tokens carry 256 bits of randomness, so a fast digest is as safe as a slow
password hash and keeps the ingest hot path cheap.
"""

import hashlib
import hmac
import secrets

PREFIX = "sgn_"


def new_credential(prefix: str = PREFIX) -> str:
    return prefix + secrets.token_urlsafe(32)


def digest(credential: str) -> str:
    return hashlib.sha256(credential.encode()).hexdigest()


def matches(credential: str, stored_digest: str) -> bool:
    return bool(stored_digest) and hmac.compare_digest(digest(credential), stored_digest)
