"""Allocation rules (SPEC 2.2) applied by the pipeline: what each attempt of
``request_attempts`` (and its packet) is charged to.

One scenario holds every case (each a logical request of its own), so one run per
backend covers them; a second run shows a broken rules file failing the run.
"""

from __future__ import annotations

import json

from scenario import attempt, rows, run, ts, write_scenario

CHAT = "/v1/chat/completions"

RULES = [
    {
        "id": "by-tags",
        "priority": 10,
        "match": {"tags": {"team": "alpha"}},
        "assign": {"owner_tag": "team-alpha", "workload_tag": "alpha-{tags.project}"},
    },
    {  # tried when by-tags cannot render {tags.project}
        "id": "by-tags-fallback",
        "priority": 11,
        "match": {"tags": {"team": "alpha"}},
        "assign": {"owner_tag": "team-alpha", "workload_tag": "alpha-misc"},
    },
    {
        "id": "by-key",
        "priority": 20,
        "match": {"api_key_id": ["key_k1", "key_k2"]},
        "assign": {
            "owner_tag": "team-keys",
            "workload_tag": "keys-{api_key_id}",
            "request_class": "batch",
        },
    },
    {
        "id": "by-model",
        "priority": 30,
        "match": {"model": "claude-*"},
        "assign": {
            "owner_tag": "team-models",
            "workload_tag": "model-{model}",
            "request_class": "{model}-calls",
        },
    },
    {
        "id": "by-endpoint",
        "priority": 40,
        "match": {"endpoint": "/v1/embed*"},
        "assign": {"owner_tag": "team-embed", "workload_tag": "ep{endpoint}"},
    },
    {
        "id": "by-env",
        "priority": 50,
        "match": {"environment": "staging"},
        "assign": {
            "owner_tag": "team-stage",
            "workload_tag": "env-{environment}",
            "environment": "eu-{environment}",
        },
    },
    {
        "id": "generic",
        "priority": 100,
        "match": {"tags": {"team": "urgent"}},
        "assign": {"owner_tag": "team-generic", "workload_tag": "generic"},
    },
    {
        "id": "tie-first",
        "priority": 60,
        "match": {"tags": {"team": "tie"}},
        "assign": {"owner_tag": "team-first", "workload_tag": "tie-first"},
    },
    {
        "id": "tie-second",
        "priority": 60,
        "match": {"tags": {"team": "tie"}},
        "assign": {"owner_tag": "team-second", "workload_tag": "tie-second"},
    },
    {
        "id": "envt",
        "priority": 70,
        "match": {"tags": {"team": "envt"}},
        "assign": {"owner_tag": "team-envt", "workload_tag": "envt-{environment}"},
    },
    {
        "id": "envt-fallback",
        "priority": 71,
        "match": {"tags": {"team": "envt"}},
        "assign": {"owner_tag": "team-envt", "workload_tag": "envt-none"},
    },
    {  # last in the file, but the lowest priority number: tried first
        "id": "urgent",
        "priority": 1,
        "match": {"tags": {"team": "urgent"}},
        "assign": {"owner_tag": "team-urgent", "workload_tag": "urgent"},
    },
]


def error_chain_text(error) -> str:
    """The messages of a serialized error and of every error that caused it."""
    texts = []
    while error is not None:
        texts.append(error.message)
        error = error.cause
    return "\n".join(texts)


def records() -> list[dict]:
    return [
        attempt(
            "tag-proj", ts(10), request_id="r-tag-proj", tags={"team": "alpha", "project": "apollo"}
        ),
        attempt("tag-noproj", ts(11), request_id="r-tag-noproj", tags={"team": "alpha"}),
        attempt(
            "key-1",
            ts(12),
            request_id="r-key-1",
            api_key_id="key_k1",
            tags={"request_class": "interactive"},
        ),
        attempt(
            "key-2", ts(13), request_id="r-key-2", api_key_id="key_k2", tags={"request_class": ""}
        ),
        attempt("model", ts(14), request_id="r-model", model="claude-3-haiku", tags={}),
        attempt("model-case", ts(15), request_id="r-model-case", model="Claude-3-haiku", tags={}),
        attempt(
            "endpoint",
            ts(16),
            request_id="r-endpoint",
            endpoint="/v1/embeddings",
            environment=...,
            tags={},
        ),
        attempt("env", ts(17), request_id="r-env", environment="staging", tags={}),
        attempt("tie", ts(18), request_id="r-tie", tags={"team": "tie"}),
        attempt("urgent", ts(19), request_id="r-urgent", tags={"team": "urgent"}),
        attempt("envt-qa", ts(20), request_id="r-envt-qa", environment="qa", tags={"team": "envt"}),
        attempt(
            "envt-none", ts(21), request_id="r-envt-none", environment=..., tags={"team": "envt"}
        ),
        attempt("nobody", ts(22), request_id="r-nobody", tags={"team": "nobody"}),
        # A logical request whose retry carries other tags, and is read first.
        attempt(
            "mixed-b",
            ts(31),
            request_id="r-mixed",
            client_retry_count=1,
            tags={"team": "tie", "request_class": "other"},
        ),
        attempt(
            "mixed-a",
            ts(30),
            request_id="r-mixed",
            client_retry_count=0,
            status_code=503,
            tags={"team": "alpha", "project": "first"},
        ),
        # The same, grouped by prompt fingerprint (no request_id).
        attempt(
            "fp-a",
            ts(40),
            prompt_fingerprint="fp-1",
            client_retry_count=0,
            status_code=500,
            tags={"team": "alpha", "project": "fp"},
        ),
        attempt(
            "fp-b", ts(41), prompt_fingerprint="fp-1", client_retry_count=1, tags={"team": "urgent"}
        ),
    ]


# attempt_id -> (allocation_rule_id, owner_tag, workload_tag, environment, request_class)
EXPECTED = {
    # tags match, {tags.project} template; the request class falls back to
    # '{environment}:{endpoint}'.
    "tag-proj": ("by-tags", "team-alpha", "alpha-apollo", "production", f"production:{CHAT}"),
    # Missing tag: by-tags does not match, the next rule wins.
    "tag-noproj": (
        "by-tags-fallback",
        "team-alpha",
        "alpha-misc",
        "production",
        f"production:{CHAT}",
    ),
    # api_key_id list (any of), {api_key_id}; tags.request_class beats the rule's.
    "key-1": ("by-key", "team-keys", "keys-key_k1", "production", "interactive"),
    # An empty tags.request_class is absent: the rule's request_class.
    "key-2": ("by-key", "team-keys", "keys-key_k2", "production", "batch"),
    # Model glob, {model} in workload_tag and request_class.
    "model": (
        "by-model",
        "team-models",
        "model-claude-3-haiku",
        "production",
        "claude-3-haiku-calls",
    ),
    # Globs are case-sensitive: nothing matches -> unallocated.
    "model-case": (None, None, "unallocated", "production", f"production:{CHAT}"),
    # Endpoint glob, {endpoint}; no environment -> 'unknown:{endpoint}'.
    "endpoint": ("by-endpoint", "team-embed", "ep/v1/embeddings", None, "unknown:/v1/embeddings"),
    # Environment match; the rule's environment (a template) overrides the record's
    # and is the one the request class falls back to.
    "env": ("by-env", "team-stage", "env-staging", "eu-staging", f"eu-staging:{CHAT}"),
    # Same priority: file order decides.
    "tie": ("tie-first", "team-first", "tie-first", "production", f"production:{CHAT}"),
    # Lower priority number wins though later in the file.
    "urgent": ("urgent", "team-urgent", "urgent", "production", f"production:{CHAT}"),
    # {environment} template.
    "envt-qa": ("envt", "team-envt", "envt-qa", "qa", f"qa:{CHAT}"),
    # {environment} with no environment: the rule does not match, the next wins.
    "envt-none": ("envt-fallback", "team-envt", "envt-none", None, f"unknown:{CHAT}"),
    "nobody": (None, None, "unallocated", "production", f"production:{CHAT}"),
    # Decided on the earliest attempt (mixed-a), for every attempt.
    "mixed-a": ("by-tags", "team-alpha", "alpha-first", "production", f"production:{CHAT}"),
    "mixed-b": ("by-tags", "team-alpha", "alpha-first", "production", f"production:{CHAT}"),
    "fp-a": ("by-tags", "team-alpha", "alpha-fp", "production", f"production:{CHAT}"),
    "fp-b": ("by-tags", "team-alpha", "alpha-fp", "production", f"production:{CHAT}"),
}
ALLOCATION_COLUMNS = (
    "allocation_rule_id",
    "owner_tag",
    "workload_tag",
    "environment",
    "request_class",
)


def test_allocation_rules_through_the_pipeline(tmp_path, db_url):
    cfg = write_scenario(tmp_path, records(), rules=RULES)
    run(cfg, db_url)

    got = {
        a["attempt_id"]: tuple(a[c] for c in ALLOCATION_COLUMNS)
        for a in rows(db_url, "request_attempts")
    }
    assert got == EXPECTED

    attempts = {a["attempt_id"]: a for a in rows(db_url, "request_attempts")}
    # Grouping really put the differently tagged retries into one logical request.
    assert attempts["mixed-b"]["logical_request_id"] == attempts["mixed-a"]["logical_request_id"]
    assert (attempts["mixed-a"]["attempt_index"], attempts["mixed-b"]["attempt_index"]) == (0, 1)
    assert attempts["fp-b"]["logical_request_id"] == attempts["fp-a"]["logical_request_id"]
    # The attempt's own environment is kept beside the allocated one.
    assert attempts["env"]["attempt_environment"] == "staging"

    packets = {(p["workload_tag"], p["request_class"]): p for p in rows(db_url, "review_packets")}
    unallocated = packets[("unallocated", f"production:{CHAT}")]
    assert unallocated["logical_requests"] == 2  # model-case, nobody
    assert unallocated["owner_tag"] is None
    assert json.loads(unallocated["allocation_rule_ids"]) == []
    assert unallocated["allocation_rule_checked"] is False
    env = packets[("env-staging", f"eu-staging:{CHAT}")]
    assert (env["owner_tag"], env["environment"]) == ("team-stage", "eu-staging")
    assert json.loads(env["allocation_rule_ids"]) == ["by-env"]
    mixed = packets[("alpha-first", f"production:{CHAT}")]
    assert (mixed["attempts"], mixed["retry_attempts"], mixed["logical_requests"]) == (2, 1, 1)


def test_duplicate_rule_id_fails_the_run_naming_file_and_rule(tmp_path, db_url):
    rules = [
        {
            "id": "dup",
            "match": {"tags": {"team": "a"}},
            "assign": {"owner_tag": "a", "workload_tag": "a"},
        },
        {
            "id": "dup",
            "match": {"tags": {"team": "b"}},
            "assign": {"owner_tag": "b", "workload_tag": "b"},
        },
    ]
    cfg = write_scenario(tmp_path, [attempt("a1", ts(10))], rules=rules)
    result = run(cfg, db_url, expect_success=False)
    assert not result.success

    failures = [e for e in result.all_events if e.is_step_failure]
    assert [e.step_key for e in failures] == ["int_allocation_decisions"]
    message = error_chain_text(failures[0].event_specific_data.error)
    assert str(tmp_path / "allocation_rules.yaml") in message
    assert "rules[1] (id=dup)" in message
    assert "duplicate" in message
    # Nothing downstream of the allocation was published.
    assert rows(db_url, "request_attempts") == []
    assert rows(db_url, "review_packets") == []
