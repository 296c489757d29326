"""The sample's static world: priced models, API keys, networks, hosts and text pools."""

from __future__ import annotations

# model -> its entry of pricing.json (tokenreview format, SPEC 2.3): per-1M list prices with
# cached-input and cache-write prices where the provider bills them, batch / flex /
# priority tiers, and a long-context band on the model that takes prompts over 200k.
PRICES: dict[str, dict[str, object]] = {
    "gpt-4o": {
        "input_per_1m": 2.50,
        "output_per_1m": 10.00,
        "per_request": 0.0,
        "cached_input_per_1m": 1.25,
        "tiers": {
            "batch": {"input_per_1m": 1.25, "output_per_1m": 5.00, "cached_input_per_1m": 0.625},
            "priority": {
                "input_per_1m": 4.25,
                "output_per_1m": 17.00,
                "cached_input_per_1m": 2.125,
            },
        },
    },
    "gpt-4o-mini": {
        "input_per_1m": 0.15,
        "output_per_1m": 0.60,
        "per_request": 0.0,
        "cached_input_per_1m": 0.075,
        "tiers": {
            "batch": {"input_per_1m": 0.075, "output_per_1m": 0.30, "cached_input_per_1m": 0.0375},
            "priority": {"input_per_1m": 0.25, "output_per_1m": 1.00, "cached_input_per_1m": 0.125},
        },
    },
    "gpt-4.1-mini": {
        "input_per_1m": 0.40,
        "output_per_1m": 1.60,
        "per_request": 0.0,
        "cached_input_per_1m": 0.10,
        "tiers": {
            "batch": {"input_per_1m": 0.20, "output_per_1m": 0.80, "cached_input_per_1m": 0.05}
        },
    },
    # a reasoning model: reasoning tokens are billed as output (no reasoning_per_1m)
    "o4-mini": {
        "input_per_1m": 1.10,
        "output_per_1m": 4.40,
        "per_request": 0.0,
        "cached_input_per_1m": 0.275,
        "tiers": {
            "batch": {"input_per_1m": 0.55, "output_per_1m": 2.20, "cached_input_per_1m": 0.1375},
            "flex": {"input_per_1m": 0.55, "output_per_1m": 2.20, "cached_input_per_1m": 0.1375},
        },
    },
    "claude-3-5-haiku-20241022": {
        "input_per_1m": 0.80,
        "output_per_1m": 4.00,
        "per_request": 0.0,
        "cached_input_per_1m": 0.08,
        "cache_write_per_1m": 1.00,
        "tiers": {
            "batch": {
                "input_per_1m": 0.40,
                "output_per_1m": 2.00,
                "cached_input_per_1m": 0.04,
                "cache_write_per_1m": 0.50,
            }
        },
    },
    "claude-sonnet-4-20250514": {
        "input_per_1m": 3.00,
        "output_per_1m": 15.00,
        "per_request": 0.0,
        "cached_input_per_1m": 0.30,
        "cache_write_per_1m": 3.75,
        "long_context": [
            {
                "above_prompt_tokens": 200_000,
                "input_per_1m": 6.00,
                "output_per_1m": 22.50,
                "cached_input_per_1m": 0.60,
                "cache_write_per_1m": 7.50,
            }
        ],
        "tiers": {
            "batch": {
                "input_per_1m": 1.50,
                "output_per_1m": 7.50,
                "cached_input_per_1m": 0.15,
                "cache_write_per_1m": 1.875,
                "long_context": [
                    {
                        "above_prompt_tokens": 200_000,
                        "input_per_1m": 3.00,
                        "output_per_1m": 11.25,
                        "cached_input_per_1m": 0.30,
                        "cache_write_per_1m": 3.75,
                    }
                ],
            }
        },
    },
    "text-embedding-3-small": {
        "input_per_1m": 0.02,
        "output_per_1m": 0.0,
        "tiers": {"batch": {"input_per_1m": 0.01}},
    },
    "deepseek-chat": {
        "input_per_1m": 0.27,
        "output_per_1m": 1.10,
        "per_request": 0.0,
        "cached_input_per_1m": 0.07,
    },
}
# A service tier some traffic reports that no model's tiers name (OpenAI's Scale Tier,
# bought under a separate agreement): its attempts are unpriced, never guessed.
UNPRICED_TIER = "scale"
# A rarely used trial model, deliberately missing from pricing.json.
UNPRICED_MODEL = "gemini-2.5-pro"

PRICING_SOURCE_URL = "https://apidoc.cometapi.com/pricing/about-pricing"
STATUS_URL = "https://status.cometapi.example/incidents"
EVIDENCE_SOURCES = (
    ("pricing", PRICING_SOURCE_URL),
    ("support", "https://apidoc.cometapi.com/support/help-center"),
    ("allocation", "https://www.finops.org/framework/capabilities/allocation/"),
    ("unit_metric", "https://www.finops.org/framework/capabilities/unit-economics/"),
)

KNOWN_KEYS = (
    "key_search_prod_01",
    "key_search_prod_02",
    "key_search_stg_01",
    "key_support_01",
    "key_support_02",
    "key_platform_batch_01",
    "key_platform_batch_02",
    "key_growth_01",
)
# Not in known_sources.yaml: key_labs_01, key_ci_runner and the leaked sk- key.
SOURCE_CIDRS = ("10.20.0.0/16", "10.42.0.0/16", "2001:db8:42::/48")

# Stands for the leaked ``sk-`` key, drawn once per sample.
LEAKED_KEY = "SK"

# Host pools (inside the CIDRs unless noted); a request keeps its host across retries.
KEY_HOSTS: dict[str, tuple[str, ...]] = {
    "key_search_prod_01": ("10.20.1.11", "10.20.1.12", "10.20.1.13", "10.20.1.14"),
    "key_search_prod_02": ("2001:db8:42:10::21", "2001:db8:42:10::22", "10.20.2.21"),
    "key_search_stg_01": ("10.20.30.5", "10.20.30.6"),
    "key_support_01": ("10.42.3.31", "10.42.3.32", "10.42.3.33"),
    "key_support_02": ("10.42.4.41", "2001:db8:42:20::41"),
    "key_platform_batch_01": ("10.20.200.7", "10.20.200.8"),
    "key_platform_batch_02": ("10.20.200.9",),
    "key_growth_01": ("10.42.9.15",),
    LEAKED_KEY: ("203.0.113.45",),  # a laptop outside the office networks
    "key_labs_01": ("198.51.100.23", "2001:db8:ff00:5::23"),  # outside the CIDRs
    "key_ci_runner": ("10.20.77.3", "10.20.77.4"),
}
# Failover / NAT egress addresses outside every configured CIDR (IPv4 and IPv6).
OUTSIDE_HOSTS = ("192.0.2.77", "198.51.100.201", "2001:db8:ff00:99::7", "2001:db8:43::1")

USER_AGENTS = (
    "OpenAI/Python 1.54.4",
    "OpenAI/Python 1.51.2",
    "openai-node/4.73.0",
    "Anthropic/Python 0.39.0",
    "langchain-openai/0.2.9",
)

TOPICS = (
    "shipping times",
    "return policy",
    "warranty coverage",
    "gift cards",
    "store opening hours",
    "café opening hours",
    "Zürich office parking",
    "東京 delivery windows",
    "naïve Bayes baselines",
    "invoice formats",
    "password reset emails",
    "loyalty points",
)
ITEMS = (
    "blue ceramic mug",
    "trail running shoes",
    "usb-c charger",
    "oak desk lamp",
    "wool scarf",
    "garden hose",
    "noise cancelling headphones",
    "cast iron pan",
)
