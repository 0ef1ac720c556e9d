"""API keys (`serve --api-key`): a FastAPI dependency on every API route, declared in the
OpenAPI document as two security schemes (HTTP bearer `Authorization: Bearer KEY`, and the
`X-API-Key` header), so `/docs` offers an Authorize button and clients see what to send.

Keys are compared as SHA-256 digests with `hmac.compare_digest`, against every key with no
early exit, so timing reveals neither a key's length nor which one nearly matched.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable, Sequence

from fastapi import Depends, HTTPException, Request, Security
from fastapi.params import Depends as DependsParam
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

BEARER = HTTPBearer(
    auto_error=False, scheme_name="bearer", description="`Authorization: Bearer KEY`"
)
API_KEY_HEADER = APIKeyHeader(
    name="X-API-Key", auto_error=False, scheme_name="apiKey", description="`X-API-Key: KEY`"
)


class KeyCheck:
    """Whether a given key is one of the configured ones (digests only are kept)."""

    def __init__(self, keys: Sequence[str]) -> None:
        self.digests = [hashlib.sha256(k.encode()).digest() for k in keys]

    def valid(self, given: str) -> bool:
        digest = hashlib.sha256(given.encode("utf-8", "surrogateescape")).digest()
        ok = False
        for known in self.digests:
            ok |= hmac.compare_digest(digest, known)
        return ok


def require_api_key(keys: Sequence[str]) -> Callable[..., Awaitable[None]]:
    """The dependency: 401 (`WWW-Authenticate: Bearer`) without one of `keys`.

    A bearer token wins over `X-API-Key` when both are sent.
    """
    check = KeyCheck(keys)

    async def api_key(
        request: Request,
        bearer: HTTPAuthorizationCredentials | None = Security(BEARER),
        header: str | None = Security(API_KEY_HEADER),
    ) -> None:
        # The raw header, not `bearer.credentials`: "Bearer " with nothing after it is a wrong
        # key (401), not a missing one that would fall back to X-API-Key.
        auth = request.headers.get("authorization", "")
        given = auth[7:].strip() if auth[:7].lower() == "bearer " else header or ""
        if given and check.valid(given):
            return
        why = "missing or invalid API key"
        raise HTTPException(
            401, {"field": "authorization", "message": why}, {"WWW-Authenticate": "Bearer"}
        )

    return api_key


def auth_dependencies(keys: Sequence[str]) -> list[DependsParam]:
    """What every API router is included with: the key check when keys are set, else nothing."""
    return [Depends(require_api_key(keys))] if keys else []
