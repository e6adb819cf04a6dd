"""Webhook secrets: each endpoint's key for the signature scheme of `nguon.kit.signing`."""

import hashlib
import hmac


def push_secret(signing_secret: str, endpoint_id: int, endpoint_code: str, generation: int) -> str:
    """An endpoint's push secret, derived rather than stored: nothing at rest gives it away,
    and moving `generation` on replaces it."""
    message = f"push:{endpoint_id}:{endpoint_code}:{generation}".encode()
    return hmac.new(signing_secret.encode(), message, hashlib.sha256).hexdigest()
