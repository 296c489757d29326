"""Traffic profiles: the sample's workloads, who sends them, how much and with what content.

The profiles themselves are data, in ``world_data/profiles.yaml``.

About 13 workloads of 6 teams (search, support, data-platform, growth, labs, CI evals). A
profile's weight is its share of new requests by day (06:00-24:00 UTC) and by night. Each
request picks a service tier from its profile's mix for its model (None: the field is
absent; OpenAI clients often report ``default``), and a few support replies carry a long
ticket history over the 200k-token long-context threshold.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files

import yaml

from tokenreview_pipeline.sample.draws import weight_table
from tokenreview_pipeline.sample.world import LEAKED_KEY, UNPRICED_MODEL, UNPRICED_TIER

# service tier (None: absent) -> weight
TierMix = tuple[tuple[str | None, float], ...]
STANDARD_ONLY: TierMix = ((None, 1.0),)


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    tags: dict[str, str] | None
    endpoints: tuple[str, ...]
    models: tuple[tuple[str, float], ...]
    envs: tuple[tuple[str | None, float], ...]
    keys: dict[str | None, tuple[str, ...]]  # by environment
    weight_day: float
    weight_night: float
    prompt_median: int
    completion_median: int
    content: str  # messages | input | prompt
    text: str  # a format string with {n}, {topic}, {item}
    request_class_share: float = 0.0  # share of requests tagged request_class
    request_class: str = ""
    secret_tag_share: float = 0.0
    # model (None: any other) -> the request's service tier mix
    tiers: dict[str | None, TierMix] | None = None
    long_prompt_share: float = 0.0  # share of requests with a prompt over 200k tokens

    def tier_mix(self, model: str) -> TierMix:
        if self.tiers is None:
            return STANDARD_ONLY
        return self.tiers.get(model, self.tiers.get(None, STANDARD_ONLY))


def _pairs(raw: list) -> tuple:
    return tuple(tuple(pair) for pair in raw)


def _profile(raw: dict) -> Profile:
    tiers = raw.get("tiers")
    return Profile(
        **{
            **raw,
            "endpoints": tuple(raw["endpoints"]),
            "models": _pairs(raw["models"]),
            "envs": _pairs(raw["envs"]),
            "keys": {env: tuple(keys) for env, keys in raw["keys"].items()},
            "tiers": None if tiers is None else {m: _pairs(mix) for m, mix in tiers.items()},
        }
    )


def load_profiles(text: str) -> tuple[Profile, ...]:
    """The profiles of ``profiles.yaml``; the world's planted cases must be in them."""
    profiles = tuple(_profile(raw) for raw in yaml.safe_load(text))
    keys = {k for p in profiles for ks in p.keys.values() for k in ks}
    models = {m for p in profiles for m, _ in p.models}
    tiers = {t for p in profiles for mix in (p.tiers or {}).values() for t, _ in mix}
    missing = [
        name
        for name, value, found in (
            ("LEAKED_KEY", LEAKED_KEY, keys),
            ("UNPRICED_MODEL", UNPRICED_MODEL, models),
            ("UNPRICED_TIER", UNPRICED_TIER, tiers),
        )
        if value not in found
    ]
    if missing:
        raise ValueError(f"profiles.yaml no longer sends the world's {', '.join(missing)}")
    return profiles


PROFILES: tuple[Profile, ...] = load_profiles(
    files("tokenreview_pipeline.sample")
    .joinpath("world_data", "profiles.yaml")
    .read_text(encoding="utf-8")
)
PROFILE_BY_NAME = {p.name: p for p in PROFILES}

PROFILE_DAY_TABLE = weight_table([(p, p.weight_day) for p in PROFILES])
PROFILE_NIGHT_TABLE = weight_table([(p, p.weight_night) for p in PROFILES])
