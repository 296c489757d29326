from __future__ import annotations

import ipaddress
import textwrap
from datetime import date
from pathlib import Path

import pytest

from tokenreview_pipeline.errors import ConfigError
from tokenreview_pipeline.sources import (
    EvidenceSource,
    KnownSources,
    load_evidence_sources,
    load_known_sources,
)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


SPEC_KNOWN = """
api_key_ids: [key_a1, key_b7]
source_cidrs: ["10.20.0.0/16", "2001:db8::/32"]
"""


@pytest.fixture
def known(tmp_path: Path) -> KnownSources:
    return load_known_sources(write(tmp_path, "known_sources.yaml", SPEC_KNOWN))


def test_load_spec_example(known: KnownSources) -> None:
    assert known.api_key_ids == frozenset({"key_a1", "key_b7"})
    assert known.source_cidrs == (
        ipaddress.ip_network("10.20.0.0/16"),
        ipaddress.ip_network("2001:db8::/32"),
    )


def test_strict_false_cidr(tmp_path: Path) -> None:
    known = load_known_sources(write(tmp_path, "k.yaml", 'source_cidrs: ["10.20.1.7/16"]\n'))
    assert known.source_cidrs == (ipaddress.ip_network("10.20.0.0/16"),)


def test_unconfigured_lists(tmp_path: Path) -> None:
    for known in (
        load_known_sources(None),
        load_known_sources(tmp_path / "absent.yaml"),
        load_known_sources(write(tmp_path, "empty.yaml", "")),
        load_known_sources(write(tmp_path, "nulls.yaml", "api_key_ids:\nsource_cidrs: null\n")),
    ):
        assert known == KnownSources(None, None)

    only_keys = load_known_sources(write(tmp_path, "keys.yaml", "api_key_ids: [k]\n"))
    assert (only_keys.api_key_ids, only_keys.source_cidrs) == (frozenset({"k"}), None)


def test_empty_lists_are_configured(tmp_path: Path) -> None:
    known = load_known_sources(write(tmp_path, "k.yaml", "api_key_ids: []\nsource_cidrs: []\n"))
    assert (known.api_key_ids, known.source_cidrs) == (frozenset(), ())


@pytest.mark.parametrize(
    ("text", "key", "fragment"),
    [
        (
            'source_cidrs: ["10.20.0.0/16", "10.300.0.0/16"]\n',
            "source_cidrs[1]",
            "not an IPv4/IPv6",
        ),
        ('source_cidrs: ["2001:db8::/129"]\n', "source_cidrs[0]", "not an IPv4/IPv6"),
        ('source_cidrs: "10.0.0.0/8"\n', "source_cidrs", "expected a list"),
        ("api_key_ids: [a, 5]\n", "api_key_ids[1]", "expected a non-empty string"),
        ("api_key_ids: {a: 1}\n", "api_key_ids", "expected a list"),
        ("api_keys: [a]\n", "api_keys", "unknown top-level key"),
        ("- a\n", "(document)", "expected a mapping"),
        ("api_key_ids: [\n", "(file)", "invalid YAML"),
        ('source_cidrs: ["' + "1" * 5000 + '"]\n', "source_cidrs[0]", "not an IPv4/IPv6"),
        ("source_cidrs: [[a]]\n", "source_cidrs[0]", "expected a non-empty string, got a list"),
        ("api_key_ids: ['  ']\n", "api_key_ids[0]", "expected a non-empty string"),
        ("5: [a]\n", "5", "unknown top-level key"),
    ],
)
def test_known_sources_errors(tmp_path: Path, text: str, key: str, fragment: str) -> None:
    path = write(tmp_path, "known_sources.yaml", text)
    with pytest.raises(ConfigError) as info:
        load_known_sources(path)
    assert info.value.key == key
    assert fragment in info.value.message
    assert str(info.value).startswith(f"{path}: {key}: ")
    assert len(info.value.message) < 200


# ------------------------------------------------------------- evidence sources

SPEC_EVIDENCE = """
sources:
  - {area: pricing, url: "https://apidoc.cometapi.com/pricing/about-pricing", accessed_on: "2026-11-20"}
  - {area: support, url: "https://apidoc.cometapi.com/support/help-center", accessed_on: "2026-11-20"}
  - {area: allocation, url: "https://www.finops.org/framework/capabilities/allocation/", accessed_on: 2026-11-19}
  - area: unit_metric
    url: "https://www.finops.org/framework/capabilities/unit-economics/"
    accessed_on: "2026-11-20"
"""  # noqa: E501


def test_load_evidence_sources_in_file_order(tmp_path: Path) -> None:
    sources = load_evidence_sources(write(tmp_path, "evidence_sources.yaml", SPEC_EVIDENCE))
    assert [s.area for s in sources] == ["pricing", "support", "allocation", "unit_metric"]
    assert sources[0] == EvidenceSource(
        "pricing", "https://apidoc.cometapi.com/pricing/about-pricing", date(2026, 11, 20)
    )
    assert sources[2].accessed_on == date(2026, 11, 19)  # unquoted: YAML already made it a date


def test_empty_evidence_sources(tmp_path: Path) -> None:
    assert load_evidence_sources(write(tmp_path, "e.yaml", "sources: []\n")) == []


GOOD = 'area: pricing, url: "https://example.com/p", accessed_on: "2026-11-20"'


@pytest.mark.parametrize(
    ("item", "key", "fragment"),
    [
        ('area: pricing, url: "https://example.com/p"', "sources[1].accessed_on", "required"),
        ('url: "https://example.com/p", accessed_on: "2026-11-20"', "sources[1].area", "required"),
        ('area: pricing, accessed_on: "2026-11-20"', "sources[1].url", "required"),
        (GOOD.replace('"2026-11-20"', '"20/11/2026"'), "sources[1].accessed_on", "YYYY-MM-DD"),
        (GOOD.replace('"2026-11-20"', '"2026-02-30"'), "sources[1].accessed_on", "YYYY-MM-DD"),
        (GOOD.replace('"2026-11-20"', '"2026-11-20T10:00:00Z"'), "sources[1].accessed_on", "got"),
        (
            GOOD.replace('"2026-11-20"', "2026-11-20 10:00:00"),
            "sources[1].accessed_on",
            "timestamp",
        ),
        (GOOD.replace('"2026-11-20"', "20261120"), "sources[1].accessed_on", "YYYY-MM-DD"),
        (GOOD.replace('"https://example.com/p"', "example.com/p"), "sources[1].url", "http(s)"),
        (GOOD.replace('"https://example.com/p"', "5"), "sources[1].url", "expected a URL"),
        (GOOD.replace("area: pricing", "area: ''"), "sources[1].area", "non-empty string"),
        (f"{GOOD}, note: x", "sources[1].note", "unknown key"),
    ],
)
def test_evidence_errors_name_the_entry(tmp_path: Path, item: str, key: str, fragment: str) -> None:
    path = write(tmp_path, "evidence_sources.yaml", f"sources:\n  - {{{GOOD}}}\n  - {{{item}}}\n")
    with pytest.raises(ConfigError) as info:
        load_evidence_sources(path)
    assert info.value.key == key
    assert fragment in info.value.message
    assert str(info.value).startswith(f"{path}: {key}: ")


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("", "(document)"),
        ("source: []\n", "source"),
        ("{}\n", "sources"),
        ("sources: {a: b}\n", "sources"),
        ("sources:\n  - just-a-url\n", "sources[0]"),
    ],
)
def test_evidence_document_errors(tmp_path: Path, text: str, key: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_evidence_sources(write(tmp_path, "e.yaml", text))
    assert info.value.key == key


def test_evidence_file_missing(tmp_path: Path) -> None:
    path = tmp_path / "evidence_sources.yaml"
    with pytest.raises(ConfigError) as info:
        load_evidence_sources(path)
    assert str(info.value) == f"{path}: (file): file not found"


def test_known_ids_are_stripped(tmp_path: Path) -> None:
    known = load_known_sources(write(tmp_path, "k.yaml", "api_key_ids: [' key_a1 ']\n"))
    assert known.api_key_ids == frozenset({"key_a1"})


def test_evidence_url_with_credentials_is_not_echoed(tmp_path: Path) -> None:
    url = "ftp://reader:hunter2hunter2@example.com/p"
    path = write(
        tmp_path,
        "evidence_sources.yaml",
        f'sources:\n  - {{area: pricing, url: "{url}", accessed_on: "2026-11-20"}}\n',
    )
    with pytest.raises(ConfigError) as info:
        load_evidence_sources(path)
    assert info.value.key == "sources[0].url"
    assert "hunter2" not in str(info.value)


def test_evidence_description_and_stripping(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "e.yaml",
        'sources:\n  - {area: " pricing ", url: " https://example.com/p ", '
        'accessed_on: "2026-11-20", description: the price page}\n',
    )
    assert load_evidence_sources(path) == [
        EvidenceSource("pricing", "https://example.com/p", date(2026, 11, 20))
    ]
