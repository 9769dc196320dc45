"""What a firm sets in ``server.yaml`` beyond the database: token lifetime, sign-in throttle, sizes.

Every key is optional; a missing key takes the default here. A value that is
not a positive number is refused at start with one line naming the key.

    token_lifetime_days: 90      a sign-in (``gitsync login``) lasts this long
    sign_in:
      user_failures: 5           failed sign-ins of one user within the window, then 429
      address_failures: 20       failed sign-ins from one address within the window, then 429
      window_seconds: 300
    max_push_bytes: 1073741824   the largest push (git's receive.maxInputSize), 1 GiB
    max_bundle_bytes: 2147483648 the largest bundle Replace Server Copy takes, 2 GiB
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gitsync.server import ServerError

if TYPE_CHECKING:
    from gitsync.server.storage import ServerRoot

DAY = 86400.0


@dataclass(frozen=True)
class ServerSettings:
    token_lifetime: float = 90 * DAY  # seconds
    user_failures: int = 5
    address_failures: int = 20
    window: float = 300.0  # seconds
    max_push_bytes: int = 1024**3
    max_bundle_bytes: int = 2 * 1024**3

    @classmethod
    def of(cls, root: ServerRoot) -> ServerSettings:
        return cls.read(root.settings())

    @classmethod
    def read(cls, data: dict[str, Any]) -> ServerSettings:
        sign_in = data.get("sign_in") or {}
        if not isinstance(sign_in, dict):
            raise ServerError("server.yaml: 'sign_in' must be a mapping")
        default = cls()
        return cls(
            token_lifetime=_positive(data, "token_lifetime_days", default.token_lifetime / DAY)
            * DAY,
            user_failures=int(
                _positive(sign_in, "user_failures", default.user_failures, "sign_in.")
            ),
            address_failures=int(
                _positive(sign_in, "address_failures", default.address_failures, "sign_in.")
            ),
            window=_positive(sign_in, "window_seconds", default.window, "sign_in."),
            max_push_bytes=int(_positive(data, "max_push_bytes", default.max_push_bytes)),
            max_bundle_bytes=int(_positive(data, "max_bundle_bytes", default.max_bundle_bytes)),
        )


def _positive(data: dict[str, Any], key: str, default: float, prefix: str = "") -> float:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ServerError(f"server.yaml: '{prefix}{key}' must be a positive number, not {value!r}")
    return float(value)
