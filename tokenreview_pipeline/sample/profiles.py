"""Traffic profiles: the sample's workloads, who sends them, how much and with what content.

About 13 workloads of 6 teams (search, support, data-platform, growth, labs, CI evals). A
profile's weight is its share of new requests by day (06:00-24:00 UTC) and by night. Each
request picks a service tier from its profile's mix for its model (None: the field is
absent; OpenAI clients often report ``default``), and a few support replies carry a long
ticket history over the 200k-token long-context threshold.
"""

from __future__ import annotations

from dataclasses import dataclass

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


PROFILES: tuple[Profile, ...] = (
    Profile(
        name="search-query-rewrite",
        tags={"team": "search", "project": "web-search", "workload": "query-rewrite"},
        endpoints=("/v1/chat/completions",),
        models=(("gpt-4o-mini", 1.0),),
        envs=(("production", 0.85), ("staging", 0.15)),
        keys={
            "production": ("key_search_prod_01", "key_search_prod_02"),
            "staging": ("key_search_stg_01",),
        },
        weight_day=22,
        weight_night=8,
        prompt_median=420,
        completion_median=60,
        content="messages",
        text="Rewrite the shopper query '{item} {n}' for the product index; reply with the query.",
        tiers={None: ((None, 0.5), ("default", 0.3), ("auto", 0.05), ("priority", 0.15))},
    ),
    Profile(
        name="search-answer",
        tags={"team": "search", "project": "web-search", "workload": "answer-synthesis"},
        endpoints=("/v1/chat/completions",),
        models=(("gpt-4o", 0.9), ("gpt-4o-mini", 0.1)),
        envs=(("production", 0.8), ("staging", 0.2)),
        keys={
            "production": ("key_search_prod_01", "key_search_prod_02"),
            "staging": ("key_search_stg_01",),
        },
        weight_day=14,
        weight_night=5,
        prompt_median=2800,
        completion_median=380,
        content="messages",
        text="Answer the question about {topic} using the retrieved passages of doc set {n}.",
        tiers={None: ((None, 0.6), ("default", 0.3), ("priority", 0.1))},
    ),
    Profile(
        name="search-shopping",
        tags={"team": "search", "project": "shopping-search", "workload": "ranking-explain"},
        endpoints=("/v1/chat/completions",),
        models=(("gpt-4o-mini", 1.0),),
        envs=(("production", 0.9), ("staging", 0.1)),
        keys={"production": ("key_search_prod_02",), "staging": ("key_search_stg_01",)},
        weight_day=8,
        weight_night=3,
        prompt_median=900,
        completion_median=120,
        content="messages",
        text="Explain in one sentence why '{item}' ranks first for listing {n}.",
        # a few requests through a Scale Tier key: a tier pricing.json does not name
        tiers={None: ((None, 0.66), ("default", 0.3), (UNPRICED_TIER, 0.04))},
    ),
    Profile(
        name="search-summarizer",
        tags={"team": "search", "project": "shopping-search", "workload": "summarizer"},
        endpoints=("/v1/chat/completions",),
        models=(("gpt-4o-mini", 1.0),),
        envs=(("production", 1.0),),
        keys={"production": ("key_search_prod_02",)},
        weight_day=4,
        weight_night=1,
        prompt_median=1500,
        completion_median=150,
        content="messages",
        text="Summarize the review thread {n} about the {item} in three bullet points.",
    ),
    Profile(
        name="support-triage",
        tags={"team": "support", "project": "helpdesk", "workload": "ticket-triage"},
        endpoints=("/v1/chat/completions",),
        models=(("claude-3-5-haiku-20241022", 1.0),),
        envs=(("production", 0.9), ("staging", 0.1)),
        keys={
            "production": ("key_support_01", "key_support_02"),
            "staging": ("key_support_02",),
        },
        weight_day=12,
        weight_night=6,
        prompt_median=650,
        completion_median=40,
        content="messages",
        text="Classify support ticket #{n}: the customer asks about {topic}.",
    ),
    Profile(
        name="support-reply",
        tags={"team": "support", "project": "helpdesk", "workload": "reply-draft"},
        endpoints=("/v1/chat/completions",),
        models=(("claude-sonnet-4-20250514", 1.0),),
        envs=(("production", 0.92), ("staging", 0.08)),
        keys={"production": ("key_support_01",), "staging": ("key_support_02",)},
        weight_day=8,
        weight_night=2,
        prompt_median=1800,
        completion_median=320,
        content="messages",
        text="Draft a polite reply to ticket #{n} about {topic}.",
        request_class_share=0.7,
        request_class="agent-assist",
        long_prompt_share=0.02,
    ),
    # a model trial in staging; its model is not in the pricing snapshot
    Profile(
        name="support-trial",
        tags={"team": "support", "project": "helpdesk", "workload": "reply-draft"},
        endpoints=("/v1/chat/completions",),
        models=((UNPRICED_MODEL, 1.0),),
        envs=(("staging", 1.0),),
        keys={"staging": ("key_support_02",)},
        weight_day=0.5,
        weight_night=0.1,
        prompt_median=1800,
        completion_median=300,
        content="messages",
        text="Draft a polite reply to ticket #{n} about {topic}.",
    ),
    Profile(
        name="support-summarizer",
        tags={"team": "support", "project": "helpdesk", "workload": "summarizer"},
        endpoints=("/v1/chat/completions",),
        models=(("claude-3-5-haiku-20241022", 1.0),),
        envs=(("production", 1.0),),
        keys={"production": ("key_support_01", "key_support_02")},
        weight_day=4,
        weight_night=1,
        prompt_median=1400,
        completion_median=140,
        content="messages",
        text="Summarize the conversation of ticket #{n} in three bullet points.",
        tiers={None: ((None, 0.5), ("batch", 0.5))},  # overnight summaries in batch
    ),
    Profile(
        name="platform-embeddings",
        tags={"team": "data-platform", "project": "doc-index", "workload": "embed-docs"},
        endpoints=("/v1/embeddings",),
        models=(("text-embedding-3-small", 1.0),),
        envs=((None, 0.6), ("production", 0.4)),
        keys={
            None: ("key_platform_batch_01", "key_platform_batch_02"),
            "production": ("key_platform_batch_01",),
        },
        weight_day=5,
        weight_night=24,
        prompt_median=1600,
        completion_median=0,
        content="input",
        text="Document chunk {n}: {topic} overview for the help centre.",
        secret_tag_share=0.01,
        tiers={None: ((None, 0.3), ("batch", 0.7))},
    ),
    Profile(
        name="growth-copy",
        tags={"team": "growth", "project": "email-campaigns", "workload": "copy-variants"},
        endpoints=("/v1/responses",),
        models=(("gpt-4.1-mini", 1.0),),
        envs=(("production", 0.97), (None, 0.03)),
        keys={
            "production": ("key_growth_01", "key_growth_01", LEAKED_KEY),
            None: ("key_growth_01",),
        },
        weight_day=6,
        weight_night=2,
        prompt_median=700,
        completion_median=220,
        content="input",
        text="Write three subject lines for newsletter variant {n} about {topic}.",
        request_class_share=0.2,
        request_class="bulk",
        secret_tag_share=0.03,
        tiers={None: ((None, 0.6), ("batch", 0.4))},
    ),
    # no rule matches team labs -> unallocated
    Profile(
        name="labs-agents",
        tags={"team": "labs", "project": "agent-prototypes", "workload": "planner"},
        endpoints=("/v1/responses", "/v1/chat/completions"),
        models=(("deepseek-chat", 0.6), ("o4-mini", 0.25), ("gpt-4o", 0.15)),
        envs=(("staging", 0.7), (None, 0.3)),
        keys={"staging": ("key_labs_01",), None: ("key_labs_01",)},
        weight_day=4,
        weight_night=2,
        prompt_median=2200,
        completion_median=500,
        content="prompt",
        text="Plan the steps to reconcile {topic} records (trial {n}).",
    ),
    # CI evals: allocated by api_key_id, mostly untagged
    Profile(
        name="ci-evals",
        tags=None,
        endpoints=("/v1/chat/completions",),
        models=(
            ("gpt-4o-mini", 0.4),
            ("o4-mini", 0.25),
            ("claude-3-5-haiku-20241022", 0.2),
            ("deepseek-chat", 0.15),
        ),
        envs=((None, 0.8), ("staging", 0.2)),
        keys={None: ("key_ci_runner",), "staging": ("key_ci_runner",)},
        weight_day=2,
        weight_night=5,
        prompt_median=900,
        completion_median=200,
        content="messages",
        text="Eval case {n}: answer the fixture question about {topic}.",
        tiers={"o4-mini": (("flex", 0.9), (None, 0.1))},  # evals tolerate flex latency
    ),
    # an old service sending no tags -> unallocated
    Profile(
        name="legacy-untagged",
        tags=None,
        endpoints=("/v1/chat/completions",),
        models=(("gpt-4o-mini", 1.0),),
        envs=(("production", 1.0),),
        keys={"production": ("key_search_prod_01",)},
        weight_day=1,
        weight_night=0.5,
        prompt_median=500,
        completion_median=80,
        content="messages",
        text="Translate the product title '{item}' (sku {n}) to plain English.",
    ),
)
PROFILE_BY_NAME = {p.name: p for p in PROFILES}

PROFILE_DAY_TABLE = weight_table([(p, p.weight_day) for p in PROFILES])
PROFILE_NIGHT_TABLE = weight_table([(p, p.weight_night) for p in PROFILES])
