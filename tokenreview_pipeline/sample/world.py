"""The sample's static world: priced models, API keys, networks, hosts and text pools."""

from __future__ import annotations

import json
from importlib.resources import files

# model -> its entry of pricing.json (tokenreview format, SPEC 2.3): per-1M list prices with
# cached-input and cache-write prices where the provider bills them, batch / flex /
# priority tiers, and a long-context band on the model that takes prompts over 200k.
# The price list is data: world_data/model_prices.json.
PRICES: dict[str, dict[str, object]] = json.loads(
    files("tokenreview_pipeline.sample")
    .joinpath("world_data", "model_prices.json")
    .read_text(encoding="utf-8")
)
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
