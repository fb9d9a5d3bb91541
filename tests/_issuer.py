"""A local OAuth issuer for the OAuth tests: its metadata and JWKS served on loopback (a real
HTTP server in a thread), and the keys to sign access tokens with.

``Issuer.publish(*keys)`` replaces the published key set (rotation); ``Issuer.token(key,
**claims)`` signs an access token; ``Issuer.requests`` counts what was fetched.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

__all__ = ["Issuer", "SigningKey", "issuer", "new_ec_key", "new_rsa_key"]


@dataclass(frozen=True)
class SigningKey:
    """A private key, its algorithm and its kid; ``jwk`` is the public half as published."""

    kid: str
    alg: str
    private: Any

    @property
    def jwk(self) -> dict[str, Any]:
        public = self.private.public_key()
        exported: Any = (
            RSAAlgorithm.to_jwk(public, as_dict=True)
            if self.alg.startswith(("RS", "PS"))
            else ECAlgorithm.to_jwk(public, as_dict=True)
        )
        return {**exported, "kid": self.kid, "use": "sig", "alg": self.alg}


def new_rsa_key(kid: str, alg: str = "RS256") -> SigningKey:
    return SigningKey(kid, alg, rsa.generate_private_key(public_exponent=65537, key_size=2048))


def new_ec_key(kid: str) -> SigningKey:
    return SigningKey(kid, "ES256", ec.generate_private_key(ec.SECP256R1()))


@dataclass
class Issuer:
    """The issuer at ``url`` (``http://127.0.0.1:PORT``), publishing ``keys``."""

    url: str = ""
    audience: str = ""
    keys: list[dict[str, Any]] = field(default_factory=list)
    requests: Counter[str] = field(default_factory=Counter)
    metadata_issuer: str | None = None
    """What the metadata says the issuer is (None: :attr:`url`)."""

    @property
    def jwks_url(self) -> str:
        return self.url + "/jwks.json"

    def publish(self, *keys: SigningKey) -> None:
        self.keys = [key.jwk for key in keys]

    def token(
        self, key: SigningKey, *, headers: dict[str, Any] | None = None, **claims: Any
    ) -> str:
        """An access token signed with ``key``: iss, aud, sub, client_id, scope, iat and exp
        (5 minutes) by default; a claim given as None is left out."""
        now = int(time.time())
        body: dict[str, Any] = {
            "iss": self.url,
            "aud": self.audience,
            "sub": "user-alice",
            "client_id": "client-app-1",
            "scope": "convoai:read",
            "iat": now,
            "exp": now + 300,
        }
        body.update(claims)
        body = {k: v for k, v in body.items() if v is not None}
        return jwt.encode(
            body, key.private, algorithm=key.alg, headers={"kid": key.kid, **(headers or {})}
        )


@contextmanager
def issuer(audience: str = "") -> Iterator[Issuer]:
    """Serve an :class:`Issuer` on a free loopback port until the block ends."""
    state = Issuer(audience=audience)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requests[self.path] += 1
            if self.path == "/.well-known/oauth-authorization-server":
                document: Any = {
                    "issuer": state.metadata_issuer or state.url,
                    "jwks_uri": state.jwks_url,
                    "authorization_endpoint": state.url + "/authorize",
                    "token_endpoint": state.url + "/token",
                }
            elif self.path == "/jwks.json":
                document = {"keys": state.keys}
            else:
                self.send_error(404)
                return
            body = json.dumps(document).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
