"""API keys this process has verified, so that a device's poll needs no query to know its caller.

Keyed by the key's HMAC digest (the secret itself is never kept). A revocation reaches the cache
through the change feed when it commits here, and through the sync loop from other processes.
"""

from collections.abc import Iterable

from nguon.identity.principal import Principal

# The topic of the change feed that names API keys revoked or replaced.
API_KEY_CHANGES = "api_key"


class ApiKeyCache:
    def __init__(self, max_entries: int = 200_000) -> None:
        self._by_digest: dict[str, Principal] = {}
        self._digest_of: dict[int, str] = {}
        self._max_entries = max_entries
        # Counts drops, so that a lookup that raced a revocation is not kept.
        self.epoch = 0

    def get(self, digest: str) -> Principal | None:
        return self._by_digest.get(digest)

    def put(self, digest: str, principal: Principal, epoch: int) -> None:
        """Keep a key verified against the database, unless anything was dropped since
        `epoch` was read before the lookup."""
        if epoch != self.epoch:
            return
        if len(self._by_digest) >= self._max_entries:
            self._by_digest.clear()
            self._digest_of.clear()
        self._by_digest[digest] = principal
        self._digest_of[principal.id] = digest

    def drop(self, key_ids: Iterable[int]) -> None:
        self.epoch += 1
        for key_id in key_ids:
            digest = self._digest_of.pop(key_id, None)
            if digest is not None:
                self._by_digest.pop(digest, None)
