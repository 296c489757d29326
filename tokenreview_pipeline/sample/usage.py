"""Token classes of a successful attempt (SPEC 2.1): cached prompt tokens, cache writes
and reasoning tokens, as each provider family reports them.

- OpenAI models cache automatically: prompts of 1024 tokens or more often reuse a prefix,
  reported in steps of 128 tokens; there are no cache writes.
- Anthropic models cache explicitly (``cache_control``): a long system prompt or document
  prefix is written once (``cache_write_tokens``) and read by the following calls; a call
  may read one prefix and write the next.
- DeepSeek caches on disk in 64-token units; no writes are billed.
- Reasoning models spend part of their completion on reasoning (always for ``o4-mini``;
  for Claude Sonnet when extended thinking is on).

The classes are parts of their totals (``cached + writes <= prompt_tokens``,
``reasoning <= completion_tokens``) and are only written when non-zero (absent = 0).
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ModelUsage:
    cache: str | None  # "auto" (OpenAI), "explicit" (Anthropic), "disk" (DeepSeek), None
    reasoning_share: float = 0.0  # share of successful attempts that reason
    reasoning_fraction: tuple[float, float] = (0.0, 0.0)  # of completion_tokens


USAGE: dict[str, ModelUsage] = {
    "gpt-4o": ModelUsage("auto"),
    "gpt-4o-mini": ModelUsage("auto"),
    "gpt-4.1-mini": ModelUsage("auto"),
    "o4-mini": ModelUsage("auto", 1.0, (0.3, 0.85)),
    "claude-3-5-haiku-20241022": ModelUsage("explicit"),
    "claude-sonnet-4-20250514": ModelUsage("explicit", 0.25, (0.2, 0.6)),
    "deepseek-chat": ModelUsage("disk"),
}
_NONE = ModelUsage(None)


def _cached_prefix(rng: random.Random, prompt: int, step: int, lo: float, hi: float) -> int:
    return int(prompt * rng.uniform(lo, hi)) // step * step


def token_classes(rng: random.Random, model: str, prompt: int, completion: int) -> dict[str, int]:
    """The non-zero token classes of one successful attempt of ``model``."""
    usage = USAGE.get(model, _NONE)
    out: dict[str, int] = {}
    if usage.cache == "auto" and prompt >= 1024 and rng.random() < 0.55:
        out["cached_prompt_tokens"] = _cached_prefix(rng, prompt, 128, 0.3, 0.95)
    elif usage.cache == "explicit" and prompt >= 1024 and rng.random() < 0.7:
        prefix = _cached_prefix(rng, prompt, 1, 0.5, 0.9)
        r = rng.random()
        if r < 0.2:
            out["cache_write_tokens"] = prefix  # the first call of a new prefix
        elif r < 0.3:  # reads the shared prefix, writes the conversation so far
            out["cached_prompt_tokens"] = prefix // 2
            out["cache_write_tokens"] = prefix - prefix // 2
        else:
            out["cached_prompt_tokens"] = prefix
    elif usage.cache == "disk" and prompt >= 64 and rng.random() < 0.4:
        out["cached_prompt_tokens"] = _cached_prefix(rng, prompt, 64, 0.2, 0.8)
    if usage.reasoning_share and completion and rng.random() < usage.reasoning_share:
        out["reasoning_tokens"] = max(1, int(completion * rng.uniform(*usage.reasoning_fraction)))
    return {k: v for k, v in out.items() if v > 0}
