"""API keys (`serve --api-key`): a FastAPI dependency on every API route, declared in the
OpenAPI document as two security schemes (HTTP bearer `Authorization: Bearer KEY`, and the
`X-API-Key` header), so `/docs` offers an Authorize button and clients see what to send. The
API's routes check the key before their body is read (`key_first`): 401 comes before 400/422.

Keys are compared as SHA-256 digests with `hmac.compare_digest`, against every key with no
early exit, so timing reveals neither a key's length nor which one nearly matched.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from fastapi import Depends, HTTPException, Request, Response, Security
from fastapi.params import Depends as DependsParam
from fastapi.routing import APIRoute
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


class APIKey:
    """The key check of one service: a FastAPI dependency (401, `WWW-Authenticate: Bearer`,
    without one of `keys`), and `verify` for routes that check before reading the body.

    A bearer token wins over `X-API-Key` when both are sent. The 401 body carries summarist's
    fields and OpenAI's `error` object, so both kinds of client read it.
    """

    def __init__(self, keys: Sequence[str]) -> None:
        self.check = KeyCheck(keys)

    async def __call__(
        self,
        request: Request,
        bearer: HTTPAuthorizationCredentials | None = Security(BEARER),
        header: str | None = Security(API_KEY_HEADER),
    ) -> None:
        self.verify(request)

    def verify(self, request: Request) -> None:
        # The raw header, not `bearer.credentials`: "Bearer " with nothing after it is a wrong
        # key (401), not a missing one that would fall back to X-API-Key.
        auth = request.headers.get("authorization", "")
        header = request.headers.get("x-api-key")
        given = auth[7:].strip() if auth[:7].lower() == "bearer " else header or ""
        if given and self.check.valid(given):
            return
        why = "missing or invalid API key"
        error = {"message": why, "type": "authentication_error", "param": None,
                 "code": "invalid_api_key"}  # fmt: skip
        raise HTTPException(
            401,
            {"field": "authorization", "message": why, "error": error},
            {"WWW-Authenticate": "Bearer"},
        )


def auth_dependencies(check: APIKey | None) -> list[DependsParam]:
    """What every API router is included with: the key check when keys are set, else nothing.

    It declares the two security schemes in the OpenAPI document, and guards every route of
    the router; routes of a `key_first` class have checked the key already, before the body.
    """
    return [Depends(check)] if check is not None else []


def key_first(check: APIKey | None, base: type[APIRoute] = APIRoute) -> type[APIRoute]:
    """`base` whose routes verify the key before FastAPI reads the request body.

    FastAPI parses a JSON body before it runs any dependency, so without this a request with a
    malformed body and no key would get the 422 (or 400) before the 401: a gateway, and anyone
    probing the service, would learn what the API accepts without a key.
    """
    if check is None:
        return base

    class KeyFirstRoute(base):  # type: ignore[valid-type,misc]
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handle = super().get_route_handler()

            async def handler(request: Request) -> Response:
                check.verify(request)
                return await handle(request)

            return handler

    KeyFirstRoute.__qualname__ = KeyFirstRoute.__name__ = f"KeyFirst{base.__name__}"
    return KeyFirstRoute
