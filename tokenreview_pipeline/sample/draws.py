"""Random draws from the generator's one ``random.Random``: weighted choices, sizes, ids and
secrets (tokens, JWTs)."""

from __future__ import annotations

import base64
import bisect
import json
import math
import random
from collections.abc import Sequence

_TOKEN_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

WeightTable = tuple[list[object], list[float]]


def weight_table(pairs: Sequence[tuple[object, float]]) -> WeightTable:
    """Values and cumulative weights, for ``pick``."""
    values, cum, total = [], [], 0.0
    for value, weight in pairs:
        total += weight
        values.append(value)
        cum.append(total)
    return values, cum


def pick(rng: random.Random, table: WeightTable) -> object:
    values, cum = table
    return values[bisect.bisect_right(cum, rng.random() * cum[-1])]


def pick_weighted(rng: random.Random, pairs: Sequence[tuple[object, float]]):
    total = sum(w for _, w in pairs)
    x = rng.random() * total
    for value, w in pairs:
        x -= w
        if x < 0:
            return value
    return pairs[-1][0]


def lognormal_int(rng: random.Random, median: int, sigma: float, lo: int, hi: int) -> int:
    if median <= 0:
        return 0
    return max(lo, min(hi, int(rng.lognormvariate(math.log(median), sigma))))


def attempt_id(rng: random.Random) -> str:
    return f"att_{rng.getrandbits(64):016x}"


def uuid4(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) % 4]}{h[17:20]}-{h[20:]}"


def token(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(_TOKEN_CHARS) for _ in range(n))


def api_secret_key(rng: random.Random) -> str:
    """A leaked OpenAI-style key: ``sk-`` and 40 characters."""
    return "sk-" + token(rng, 40)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt(rng: random.Random) -> str:
    header = _b64url(b'{"alg":"HS256","typ":"JWT"}')
    payload = _b64url(
        json.dumps({"sub": f"svc-batch-{rng.randrange(100)}", "iat": 1795000000}).encode()
    )
    return f"{header}.{payload}.{_b64url(rng.randbytes(32))}"


def add_secret_tag(rng: random.Random, tags: dict[str, str], kind: str | None = None) -> None:
    """Put a secret into a tag value: ``kind`` "bearer" (a ``Bearer`` token) or "jwt";
    None draws one of the two."""
    if kind is None:
        kind = "bearer" if rng.random() < 0.5 else "jwt"
    if kind == "bearer":
        tags["upstream_auth"] = "Bearer " + token(rng, 32)
    else:
        tags["session"] = jwt(rng)
