"""The emulated project's credentials: App ID / App Certificate and RESTful customer ID / secret."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["DEMO_CREDENTIALS", "SandboxCredentials", "mask"]


def mask(value: str) -> str:
    """Show at most the first four characters of a secret: ``"5CFd…(32 chars)"``."""
    if not value:
        return "(empty)"
    return f"{value[:4]}…({len(value)} chars)"


@dataclass(frozen=True)
class SandboxCredentials:
    """The one project the sandbox emulates.

    ``app_certificate`` and ``customer_secret`` never appear in ``repr()``.
    """

    app_id: str
    app_certificate: str = field(repr=False)
    customer_id: str
    customer_secret: str = field(repr=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SandboxCredentials:
        """Read ``AGORA_APP_ID``, ``AGORA_APP_CERTIFICATE``, ``AGORA_CUSTOMER_ID`` and
        ``AGORA_CUSTOMER_SECRET``; each one that is unset or empty falls back to the demo value."""
        env = os.environ if environ is None else environ

        def pick(name: str, default: str) -> str:
            value = env.get(name, "").strip()
            return value or default

        return cls(
            app_id=pick("AGORA_APP_ID", DEMO_CREDENTIALS.app_id),
            app_certificate=pick("AGORA_APP_CERTIFICATE", DEMO_CREDENTIALS.app_certificate),
            customer_id=pick("AGORA_CUSTOMER_ID", DEMO_CREDENTIALS.customer_id),
            customer_secret=pick("AGORA_CUSTOMER_SECRET", DEMO_CREDENTIALS.customer_secret),
        )

    @property
    def is_demo(self) -> bool:
        """True when every value is the published demo value (safe to print)."""
        return self == DEMO_CREDENTIALS

    def describe(self) -> dict[str, str]:
        """The credentials as env assignments; secrets masked unless they are the demo ones."""
        demo = self.is_demo
        return {
            "AGORA_APP_ID": self.app_id,
            "AGORA_APP_CERTIFICATE": self.app_certificate if demo else mask(self.app_certificate),
            "AGORA_CUSTOMER_ID": self.customer_id,
            "AGORA_CUSTOMER_SECRET": self.customer_secret if demo else mask(self.customer_secret),
        }


DEMO_CREDENTIALS = SandboxCredentials(
    app_id="0123456789abcdef0123456789abcdef",
    app_certificate="fedcba9876543210fedcba9876543210",
    customer_id="sandbox-customer",
    customer_secret="sandbox-secret",  # noqa: S106 - published demo value, accepted only by the sandbox
)
"""Fixed, published credentials the sandbox accepts when nothing else is configured."""
