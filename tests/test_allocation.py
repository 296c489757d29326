from __future__ import annotations

import pickle
import textwrap
from pathlib import Path

import pytest
from yaml_bombs import list_bomb, mapping_bomb

from tokenreview_pipeline.allocation import (
    AllocationDecision,
    AllocationRule,
    RequestAttributes,
    RuleMatch,
    decide_allocation,
    load_allocation_rules,
    parse_template,
    render_template,
)
from tokenreview_pipeline.errors import ConfigError


def write(tmp_path: Path, text: str, name: str = "allocation_rules.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def attrs(
    *,
    api_key_id: str = "key_a1",
    model: str = "gpt-4o-mini",
    endpoint: str = "/v1/chat/completions",
    environment: str | None = "production",
    **tags: str,
) -> RequestAttributes:
    return RequestAttributes(
        api_key_id=api_key_id, model=model, endpoint=endpoint, environment=environment, tags=tags
    )


SPEC_EXAMPLE = """
rules:
  - id: search-prod
    priority: 10
    match:
      tags: {team: search}
      api_key_id: [key_a1, key_a2]
      model: "gpt-4o*"
      endpoint: "/v1/chat/*"
      environment: production
    assign:
      owner_tag: team-search
      workload_tag: "search-{tags.project}"
      environment: production
      request_class: production-interactive
"""


def test_spec_example_matches_and_renders(tmp_path: Path) -> None:
    rules = load_allocation_rules(write(tmp_path, SPEC_EXAMPLE))
    assert [r.id for r in rules] == ["search-prod"]
    decision = decide_allocation(rules, attrs(team="search", project="ranker"))
    assert decision == AllocationDecision(
        allocation_rule_id="search-prod",
        owner_tag="team-search",
        workload_tag="search-ranker",
        environment="production",
        request_class="production-interactive",
    )


MATCHING = {
    "api_key_id": "key_a1",
    "model": "gpt-4o-mini",
    "endpoint": "/v1/chat/completions",
    "environment": "production",
    "team": "search",
    "project": "ranker",
}


@pytest.mark.parametrize(
    ("changes", "matches"),
    [
        ({}, True),
        ({"team": "ads"}, False),  # tag differs
        ({"api_key_id": "key_a2"}, True),  # any of the listed keys
        ({"api_key_id": "key_zz"}, False),
        ({"model": "gpt-4o"}, True),  # glob gpt-4o*
        ({"model": "GPT-4o-mini"}, False),  # globs are case-sensitive
        ({"model": "o1-mini"}, False),
        ({"endpoint": "/v1/chat/completions/x"}, True),  # fnmatch's * crosses '/'
        ({"endpoint": "/v1/embeddings"}, False),
        ({"environment": "staging"}, False),
        ({"environment": None}, False),
    ],
)
def test_each_match_kind(tmp_path: Path, changes: dict, matches: bool) -> None:
    rules = load_allocation_rules(write(tmp_path, SPEC_EXAMPLE))
    decision = decide_allocation(rules, attrs(**{**MATCHING, **changes}))
    assert (decision.allocation_rule_id == "search-prod") is matches


def test_api_key_id_as_single_string_and_glob_question_mark(tmp_path: Path) -> None:
    rules = load_allocation_rules(
        write(
            tmp_path,
            """
            rules:
              - id: one-key
                match: {api_key_id: key_b7, model: "gpt-4?"}
                assign: {owner_tag: o, workload_tag: w}
            """,
        )
    )
    assert decide_allocation(rules, attrs(api_key_id="key_b7", model="gpt-4o")).owner_tag == "o"
    assert (
        decide_allocation(rules, attrs(api_key_id="key_b7", model="gpt-4o-mini")).owner_tag is None
    )
    assert decide_allocation(rules, attrs(api_key_id="key_b8", model="gpt-4o")).owner_tag is None


def test_tag_match_needs_every_tag(tmp_path: Path) -> None:
    rules = load_allocation_rules(
        write(
            tmp_path,
            """
            rules:
              - id: r
                match: {tags: {team: search, tier: gold}}
                assign: {owner_tag: o, workload_tag: w}
            """,
        )
    )
    assert decide_allocation(rules, attrs(team="search", tier="gold")).allocation_rule_id == "r"
    assert decide_allocation(rules, attrs(team="search")).allocation_rule_id is None


def test_no_conditions_match_everything(tmp_path: Path) -> None:
    rules = load_allocation_rules(
        write(
            tmp_path,
            """
            rules:
              - id: catch-all
                assign: {owner_tag: finops, workload_tag: "misc-{model}"}
              - id: empty-match
                match: {}
                assign: {owner_tag: x, workload_tag: y}
            """,
        )
    )
    decision = decide_allocation(rules, attrs(environment=None, model="m"))
    assert decision.allocation_rule_id == "catch-all"
    assert decision.workload_tag == "misc-m"
    assert rules[1].priority == 100


def test_priority_then_file_order(tmp_path: Path) -> None:
    rules = load_allocation_rules(
        write(
            tmp_path,
            """
            rules:
              - {id: default-a, assign: {owner_tag: a, workload_tag: a}}
              - id: urgent
                priority: 5
                match: {tags: {team: x}}
                assign: {owner_tag: u, workload_tag: u}
              - {id: tie-first, priority: 50, assign: {owner_tag: t1, workload_tag: t1}}
              - {id: tie-second, priority: 50, assign: {owner_tag: t2, workload_tag: t2}}
              - id: negative
                priority: -1
                match: {model: nothing}
                assign: {owner_tag: n, workload_tag: n}
              - {id: default-b, priority: 100, assign: {owner_tag: b, workload_tag: b}}
            """,
        )
    )
    assert [r.id for r in rules] == [
        "negative",
        "urgent",
        "tie-first",
        "tie-second",
        "default-a",
        "default-b",
    ]
    assert [r.position for r in rules] == [4, 1, 2, 3, 0, 5]
    assert decide_allocation(rules, attrs(team="x")).allocation_rule_id == "urgent"
    assert decide_allocation(rules, attrs()).allocation_rule_id == "tie-first"


def test_missing_template_field_falls_through_to_next_rule(tmp_path: Path) -> None:
    rules = load_allocation_rules(
        write(
            tmp_path,
            """
            rules:
              - id: by-project
                priority: 1
                assign: {owner_tag: "team-{tags.team}", workload_tag: "{tags.project}"}
              - id: by-env
                priority: 2
                assign: {owner_tag: platform, workload_tag: "svc-{environment}"}
              - id: fallback
                priority: 3
                assign: {owner_tag: platform, workload_tag: "key-{api_key_id}{endpoint}"}
            """,
        )
    )
    full = decide_allocation(rules, attrs(team="search", project="ranker"))
    assert (full.allocation_rule_id, full.owner_tag, full.workload_tag) == (
        "by-project",
        "team-search",
        "ranker",
    )
    # project tag missing -> by-project does not match
    no_project = decide_allocation(rules, attrs(team="search"))
    assert (no_project.allocation_rule_id, no_project.workload_tag) == ("by-env", "svc-production")
    # an empty tag counts as missing too
    empty = decide_allocation(rules, attrs(team="search", project=""))
    assert empty.allocation_rule_id == "by-env"
    # environment None with an {environment} template -> no match
    no_env = decide_allocation(rules, attrs(environment=None))
    assert (no_env.allocation_rule_id, no_env.workload_tag) == (
        "fallback",
        "key-key_a1/v1/chat/completions",
    )


def test_optional_assign_template_missing_field_also_blocks_match(tmp_path: Path) -> None:
    rules = load_allocation_rules(
        write(
            tmp_path,
            """
            rules:
              - id: classed
                assign: {owner_tag: o, workload_tag: w, request_class: "{tags.tier}-traffic"}
            """,
        )
    )
    assert decide_allocation(rules, attrs(tier="gold")).request_class == "gold-traffic"
    assert decide_allocation(rules, attrs()).workload_tag == "unallocated"


def test_unallocated_decision() -> None:
    decision = decide_allocation([], attrs(environment="staging", endpoint="/v1/embeddings"))
    assert decision == AllocationDecision(
        allocation_rule_id=None,
        owner_tag=None,
        workload_tag="unallocated",
        environment="staging",
        request_class="staging:/v1/embeddings",
    )
    assert decide_allocation([], attrs(environment=None)).request_class == (
        "unknown:/v1/chat/completions"
    )
    tagged = decide_allocation([], attrs(request_class="batch"))
    assert (tagged.workload_tag, tagged.request_class) == ("unallocated", "batch")


def test_request_class_resolution_order(tmp_path: Path) -> None:
    rules = load_allocation_rules(
        write(
            tmp_path,
            """
            rules:
              - id: with-class
                match: {tags: {team: a}}
                assign: {owner_tag: a, workload_tag: a, request_class: "rule-{model}"}
              - id: with-env
                match: {tags: {team: b}}
                assign: {owner_tag: b, workload_tag: b, environment: "prod-{tags.region}"}
              - id: plain
                assign: {owner_tag: c, workload_tag: c}
            """,
        )
    )
    # 1. the attempt's tag wins
    assert (
        decide_allocation(rules, attrs(team="a", request_class="tagged")).request_class == "tagged"
    )
    # an empty tag is absent -> 2. the rule's request_class
    assert decide_allocation(rules, attrs(team="a", request_class="")).request_class == (
        "rule-gpt-4o-mini"
    )
    # 3. '{environment}:{endpoint}' with the rule's environment ...
    with_env = decide_allocation(rules, attrs(team="b", region="eu", environment="staging"))
    assert (with_env.environment, with_env.request_class) == (
        "prod-eu",
        "prod-eu:/v1/chat/completions",
    )
    # ... else the record's environment, 'unknown' when absent
    assert decide_allocation(rules, attrs(environment="dev")).request_class == (
        "dev:/v1/chat/completions"
    )
    plain = decide_allocation(rules, attrs(environment=None))
    assert (plain.environment, plain.request_class) == (None, "unknown:/v1/chat/completions")


def test_template_parsing() -> None:
    assert parse_template("a-{tags.x}-{model}") == (
        ("literal", "a-"),
        ("field", "tags.x"),
        ("literal", "-"),
        ("field", "model"),
    )
    a = attrs(x="1")
    assert render_template("{{literal}}-{tags.x}", a) == "{literal}-1"
    assert render_template("{tags.y}", a) is None
    for bad in ("{nope}", "{tags.}", "{tags}", "{}", "{model!r}", "{model:>5}", "{model", "a}"):
        with pytest.raises(ValueError):
            parse_template(bad)


def test_tag_names_with_dots_and_dashes() -> None:
    assert render_template(
        "{tags.cost-center}/{tags.a.b}", attrs(**{"cost-center": "cc1", "a.b": "z"})
    ) == ("cc1/z")


# ------------------------------------------------------------------ validation


@pytest.mark.parametrize(
    ("body", "key", "fragment"),
    [
        (
            "  - {id: r1, assign: {owner_tag: o, workload_tag: w}}\n"
            "  - {id: search-prod, assign: {owner_tag: o}}\n",
            "rules[1] (id=search-prod).assign.workload_tag",
            "required",
        ),
        (
            "  - {id: search-prod, assign: {workload_tag: w}}\n",
            "rules[0] (id=search-prod).assign.owner_tag",
            "required",
        ),
        (
            "  - {id: r1, match: {tags: {team: a}}}\n",
            "rules[0] (id=r1).assign",
            "required",
        ),
        (
            "  - {id: r1, assign: {owner_tag: '{tags.team}-{region}', workload_tag: w}}\n",
            "rules[0] (id=r1).assign.owner_tag",
            "unknown placeholder {region}",
        ),
        (
            "  - {id: r1, assign: {owner_tag: o, workload_tag: w, cost_center: c}}\n",
            "rules[0] (id=r1).assign.cost_center",
            "unknown assign key",
        ),
        (
            "  - {id: r1, match: {team: a}, assign: {owner_tag: o, workload_tag: w}}\n",
            "rules[0] (id=r1).match.team",
            "unknown match key",
        ),
        (
            "  - {id: r1, owner: x, assign: {owner_tag: o, workload_tag: w}}\n",
            "rules[0] (id=r1).owner",
            "unknown rule key",
        ),
        (
            "  - {id: r1, priority: high, assign: {owner_tag: o, workload_tag: w}}\n",
            "rules[0] (id=r1).priority",
            "expected an integer",
        ),
        (
            "  - {id: r1, priority: 1.5, assign: {owner_tag: o, workload_tag: w}}\n",
            "rules[0] (id=r1).priority",
            "expected an integer",
        ),
        (
            "  - {id: r1, priority: true, assign: {owner_tag: o, workload_tag: w}}\n",
            "rules[0] (id=r1).priority",
            "expected an integer",
        ),
        (
            "  - {id: r1, assign: {owner_tag: o, workload_tag: w}}\n"
            "  - {id: r1, assign: {owner_tag: o, workload_tag: w}}\n",
            "rules[1] (id=r1).id",
            "duplicate id (first used by rules[0])",
        ),
        (
            "  - {assign: {owner_tag: o, workload_tag: w}}\n",
            "rules[0].id",
            "required",
        ),
        (
            "  - {id: 42, assign: {owner_tag: o, workload_tag: w}}\n",
            "rules[0].id",
            "expected a non-empty string",
        ),
        (
            "  - {id: r1, match: {api_key_id: [a, 7]}, assign: {owner_tag: o, workload_tag: w}}\n",
            "rules[0] (id=r1).match.api_key_id[1]",
            "expected a non-empty string",
        ),
        (
            "  - {id: r1, match: {api_key_id: {a: b}}, assign: {owner_tag: o, workload_tag: w}}\n",
            "rules[0] (id=r1).match.api_key_id",
            "expected a string or a list",
        ),
        (
            "  - {id: r1, match: {tags: {prod: yes}}, assign: {owner_tag: o, workload_tag: w}}\n",
            "rules[0] (id=r1).match.tags.prod",
            "expected a string, got a boolean",
        ),
        (
            "  - {id: r1, match: {tags: [a]}, assign: {owner_tag: o, workload_tag: w}}\n",
            "rules[0] (id=r1).match.tags",
            "expected a mapping",
        ),
        (
            "  - {id: r1, match: {model: 4}, assign: {owner_tag: o, workload_tag: w}}\n",
            "rules[0] (id=r1).match.model",
            "expected a non-empty string",
        ),
        (
            "  - {id: r1, assign: {owner_tag: '', workload_tag: w}}\n",
            "rules[0] (id=r1).assign.owner_tag",
            "expected a non-empty string",
        ),
        (
            "  - {id: r1, assign: {owner_tag: o, workload_tag: 'w-{model'}}\n",
            "rules[0] (id=r1).assign.workload_tag",
            "malformed template",
        ),
        ("  - just-a-string\n", "rules[0]", "expected a mapping"),
        (
            "  - {id: r1, priority: 1000000001, assign: {owner_tag: o, workload_tag: w}}\n",
            "rules[0] (id=r1).priority",
            "<= 1000000000",
        ),
        (
            "  - {id: r1, priority: -1000000001, assign: {owner_tag: o, workload_tag: w}}\n",
            "rules[0] (id=r1).priority",
            ">= -1000000000",
        ),
        (
            "  - {id: r1, priority: '10', assign: {owner_tag: o, workload_tag: w}}\n",
            "rules[0] (id=r1).priority",
            "expected an integer",
        ),
        (
            "  - {id: r1, priority: 1e3, assign: {owner_tag: o, workload_tag: w}}\n",
            "rules[0] (id=r1).priority",
            "expected an integer",
        ),
        (
            "  - {id: ' ', assign: {owner_tag: o, workload_tag: w}}\n",
            "rules[0].id",
            "expected a non-empty string",
        ),
        (
            "  - {id: r1, match: {api_key_id: []}, assign: {owner_tag: o, workload_tag: w}}\n",
            "rules[0] (id=r1).match.api_key_id",
            "non-empty list",
        ),
        (
            "  - {id: r1, match: {api_key_id: ''}, assign: {owner_tag: o, workload_tag: w}}\n",
            "rules[0] (id=r1).match.api_key_id",
            "non-empty string",
        ),
        (
            "  - {id: r1, match: {tags: {7: a}}, assign: {owner_tag: o, workload_tag: w}}\n",
            "rules[0] (id=r1).match.tags.7",
            "invalid key",
        ),
        (
            "  - {id: r1, match: [a], assign: {owner_tag: o, workload_tag: w}}\n",
            "rules[0] (id=r1).match",
            "expected a mapping, got a list",
        ),
        (
            "  - {id: r1, description: 5, assign: {owner_tag: o, workload_tag: w}}\n",
            "rules[0] (id=r1).description",
            "expected a string",
        ),
        (
            "  - {id: r1, assign: {owner_tag: o, workload_tag: null}}\n",
            "rules[0] (id=r1).assign.workload_tag",
            "got null",
        ),
        (
            "  - {id: r1, assign: {owner_tag: o, workload_tag: w, environment: 5}}\n",
            "rules[0] (id=r1).assign.environment",
            "got an integer",
        ),
        (
            "  - {id: r1, assign: [o, w]}\n",
            "rules[0] (id=r1).assign",
            "expected a mapping, got a list",
        ),
        (
            "  - {id: r1, assign: {owner_tag: o, workload_tag: w}, 5: x}\n",
            "rules[0] (id=r1).5",
            "unknown rule key",
        ),
    ],
)
def test_validation_errors_name_file_and_rule(
    tmp_path: Path, body: str, key: str, fragment: str
) -> None:
    path = tmp_path / "allocation_rules.yaml"
    path.write_text("rules:\n" + body, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_allocation_rules(path)
    err = info.value
    assert err.file == str(path)
    assert err.key == key
    assert fragment in err.message
    assert str(err) == f"{path}: {key}: {err.message}"


@pytest.mark.parametrize(
    ("text", "key", "fragment"),
    [
        ("", "(document)", "expected a mapping"),
        ("- a\n", "(document)", "expected a mapping"),
        ("other: []\n", "other", "unknown top-level key"),
        ("version: 1\nrules: []\n", "version", "unknown top-level key"),
        ("rules: {a: b}\n", "rules", "expected a list"),
        ("rules: [\n", "(file)", "invalid YAML"),
        ("rules: []\nrules: []\n", "(file)", "duplicate key 'rules'"),
    ],
)
def test_document_level_errors(tmp_path: Path, text: str, key: str, fragment: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_allocation_rules(path)
    assert info.value.key == key
    assert fragment in info.value.message


def test_missing_file_and_empty_rules(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_allocation_rules(tmp_path / "absent.yaml")
    assert load_allocation_rules(write(tmp_path, "rules: []\n")) == []


def test_config_error_is_value_error_and_picklable(tmp_path: Path) -> None:
    err = ConfigError(tmp_path / "f.yaml", "rules[0].id", "required")
    assert isinstance(err, ValueError)
    again = pickle.loads(pickle.dumps(err))
    assert str(again) == str(err) == f"{tmp_path / 'f.yaml'}: rules[0].id: required"


def test_description_allowed_and_rules_are_hash_safe_values(tmp_path: Path) -> None:
    rules = load_allocation_rules(
        write(
            tmp_path,
            """
            rules:
              - id: r
                description: everything else
                assign: {owner_tag: o, workload_tag: w}
            """,
        )
    )
    assert rules[0].description == "everything else"
    with pytest.raises(TypeError):
        rules[0].assign["owner_tag"] = "changed"  # type: ignore[index]


def test_loaded_values_defaults_and_order(tmp_path: Path) -> None:
    rules = load_allocation_rules(
        write(
            tmp_path,
            """
            rules:
              - id: late
                priority: null
                match:
                assign: {owner_tag: o, workload_tag: w, environment: null}
              - id: first
                priority: -5
                match: {api_key_id: key_a1, tags: {team: ''}}
                assign: {request_class: c, workload_tag: w, owner_tag: o}
              - id: tie
                assign: {owner_tag: o, workload_tag: w}
            """,
        )
    )
    assert [(r.id, r.priority, r.position) for r in rules] == [
        ("first", -5, 1),
        ("late", 100, 0),
        ("tie", 100, 2),
    ]
    first, late = rules[0], rules[1]
    assert first.match == RuleMatch(tags={"team": ""}, api_key_ids=frozenset({"key_a1"}))
    assert list(first.assign) == ["owner_tag", "workload_tag", "request_class"]  # canonical
    assert late.match == RuleMatch() and dict(late.assign) == {
        "owner_tag": "o",
        "workload_tag": "w",
    }
    assert isinstance(first, AllocationRule)


def test_a_long_template_is_cut_in_the_message(tmp_path: Path) -> None:
    template = "w-" + "x" * 5000 + "{region}"
    path = write(
        tmp_path, f"rules:\n  - {{id: r1, assign: {{owner_tag: o, workload_tag: '{template}'}}}}\n"
    )
    with pytest.raises(ConfigError) as info:
        load_allocation_rules(path)
    assert "unknown placeholder {region}" in info.value.message
    assert len(info.value.message) < 300


@pytest.mark.parametrize(
    ("rule", "key"),
    [
        ("{id: r1, match: {api_key_id: BOMB}, ASSIGN}", "rules[0] (id=r1).match.api_key_id[0]"),
        ("{id: r1, match: {tags: MAP}, ASSIGN}", "rules[0] (id=r1).match.tags.k0"),
        ("{id: r1, match: {model: BOMB}, ASSIGN}", "rules[0] (id=r1).match.model"),
        (
            "{id: r1, assign: {owner_tag: BOMB, workload_tag: w}}",
            "rules[0] (id=r1).assign.owner_tag",
        ),
        ("{id: BOMB, ASSIGN}", "rules[0].id"),
        ("{id: r1, ASSIGN, description: MAP}", "rules[0] (id=r1).description"),
        ("MAP", "rules[0].k0"),
    ],
)
def test_yaml_bomb_in_a_rule_is_a_short_error(tmp_path: Path, rule: str, key: str) -> None:
    rule = (
        rule.replace("ASSIGN", "assign: {owner_tag: o, workload_tag: w}")
        .replace("BOMB", list_bomb())
        .replace("MAP", mapping_bomb())
    )
    path = write(tmp_path, f"rules:\n  - {rule}\n")
    with pytest.raises(ConfigError) as info:
        load_allocation_rules(path)
    assert info.value.key == key
    assert len(str(info.value)) < len(str(path)) + 200
    with pytest.raises(ConfigError) as info:
        load_allocation_rules(write(tmp_path, f"rules: {list_bomb()}\n"))
    assert (info.value.key, info.value.message) == ("rules[0]", "expected a mapping, got a list")
