"""Passwords (argon2id), access tokens (JWT, HS256) and API keys (keyed SHA-256)."""

import functools
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from nguon.kit.errors import Unauthenticated
from nguon.kit.schemas import ROW_ID_MAX

_hasher = PasswordHasher()

API_KEY_SCHEME = "ngn"
_PREFIX_BYTES = 6


def hash_password(password: str) -> str:
    return _hasher.hash(password)


@functools.cache
def _unknown_user_hash() -> str:
    """Verified when the username is unknown, so that a failed login takes as long either way.

    Made on first need rather than at import: every command would otherwise pay for a hash
    before doing anything, signing in or not."""
    return _hasher.hash(secrets.token_urlsafe(16))


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _unknown_user_hash(), password) and bool(
            password_hash
        )
    except (VerificationError, InvalidHashError):
        return False


def password_needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


@dataclass(frozen=True, slots=True)
class TokenClaims:
    user_id: int
    token_version: int
    issued_at: datetime


class TokenCodec:
    def __init__(self, secret: str, issuer: str, ttl_seconds: int) -> None:
        self._secret = secret
        self._issuer = issuer
        self.ttl_seconds = ttl_seconds

    def issue(self, user_id: int, token_version: int, now: datetime | None = None) -> str:
        issued = now or datetime.now(UTC)
        claims = {
            "sub": str(user_id),
            "ver": token_version,
            "iss": self._issuer,
            "iat": issued,
            "exp": issued + timedelta(seconds=self.ttl_seconds),
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, self._secret, algorithm="HS256")

    def read(self, token: str) -> TokenClaims:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=["HS256"],
                issuer=self._issuer,
                options={"require": ["sub", "exp", "iat", "ver"]},
            )
            user_id, version = int(claims["sub"]), int(claims["ver"])
            issued_at = datetime.fromtimestamp(int(claims["iat"]), UTC)
        except jwt.ExpiredSignatureError as exc:
            raise Unauthenticated("The access token has expired; request a new one.") from exc
        except (jwt.InvalidTokenError, ValueError, TypeError, OverflowError, OSError) as exc:
            raise Unauthenticated("The access token is not valid.") from exc
        # Both are INTEGER columns: a number outside their range was never issued, and is refused
        # here rather than sent to a query the database cannot run.
        if not (1 <= user_id <= ROW_ID_MAX and 0 <= version <= ROW_ID_MAX):
            raise Unauthenticated("The access token is not valid.")
        return TokenClaims(user_id=user_id, token_version=version, issued_at=issued_at)


@dataclass(frozen=True, slots=True)
class NewApiKey:
    prefix: str
    key: str  # the whole key, shown once and never stored


class ApiKeyHasher:
    """Keys look like `ngn_<prefix>_<secret>`; the prefix is stored in clear to find the row,
    the whole key only as HMAC-SHA256 under a server-side secret."""

    def __init__(self, server_secret: str) -> None:
        self._key = hmac.new(server_secret.encode(), b"nguon api keys", hashlib.sha256).digest()

    def new_key(self) -> NewApiKey:
        prefix = secrets.token_hex(_PREFIX_BYTES)
        return NewApiKey(
            prefix=prefix, key=f"{API_KEY_SCHEME}_{prefix}_{secrets.token_urlsafe(32)}"
        )

    def digest(self, key: str) -> str:
        return hmac.new(self._key, key.encode(), hashlib.sha256).hexdigest()

    @staticmethod
    def prefix_of(key: str) -> str | None:
        parts = key.split("_", 2)
        if len(parts) != 3 or parts[0] != API_KEY_SCHEME or len(parts[1]) != 2 * _PREFIX_BYTES:
            return None
        return parts[1]
