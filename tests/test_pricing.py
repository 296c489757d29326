from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from price_docs import SPEC_EXAMPLE_PRICING

from tokenreview_pipeline.pricing import (
    ModelPrice,
    PriceSet,
    PricingFetchError,
    PricingFormatError,
    fetch_pricing_bytes,
    parse_pricing,
    safe_url,
)

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=timezone.utc)

TOKENREVIEW_DOC = (
    b'{"source_url": "https://example.com/pricing", "currency": "USD",\n'
    b' "models": [{"model": "gpt-4o-mini", "input_per_1m": 0.15, "output_per_1m": 0.60,'
    b' "per_request": 0.0},\n'
    b'            {"model": "gpt-4o", "input_per_1m": 2.5, "output_per_1m": 10}]}'
)

LITELLM_DOC = json.dumps(
    {
        "sample_spec": {"input_cost_per_token": 0.0, "output_cost_per_token": 0.0},
        "gpt-4o-mini": {
            "input_cost_per_token": 1.5e-07,
            "output_cost_per_token": 6e-07,
            "litellm_provider": "openai",
            "mode": "chat",
        },
        "1024-x-1024/dall-e-2": {"input_cost_per_pixel": 1.9e-08, "output_cost_per_pixel": 0.0},
        "text-embedding-3-small": {"input_cost_per_token": 2e-08, "mode": "embedding"},
        "perplexity/sonar": {
            "input_cost_per_token": 1e-06,
            "output_cost_per_token": 1e-06,
            "input_cost_per_request": 0.005,
        },
        "azure/o1": {"input_cost_per_token": 1.5e-05, "output_cost_per_token": 6e-05},
    }
).encode()


def test_tokenreview_format_exact_decimals() -> None:
    snap = parse_pricing(
        TOKENREVIEW_DOC, fmt="tokenreview", configured_url="pricing.json", accessed_at=NOW
    )
    assert snap.source_url == "https://example.com/pricing"  # the document's own URL wins
    assert snap.currency == "USD"
    assert snap.model_count == 2
    mini = snap.price_for("gpt-4o-mini")
    assert mini == ModelPrice(
        "gpt-4o-mini",
        PriceSet(
            input_per_1m=Decimal("0.15"), output_per_1m=Decimal("0.60"), per_request=Decimal("0.0")
        ),
    )
    assert isinstance(mini.prices.input_per_1m, Decimal)
    assert str(mini.prices.input_per_1m) == "0.15"  # not 0.1499999... from a float
    big = snap.price_for("gpt-4o")
    assert big is not None
    # A missing key stays missing (None, not 0): SPEC 4.4's defaults are the cost SQL's.
    assert big.prices.per_request is None
    assert big.prices.cached_input_per_1m is None
    assert big.prices.output_per_1m == Decimal(10)
    assert snap.price_for("absent") is None
    # exact cost arithmetic: 1 token of gpt-4o-mini input
    assert mini.prices.input_per_1m / Decimal(1_000_000) == Decimal("1.5E-7")


def test_tokenreview_defaults_and_configured_url_as_written() -> None:
    raw = (
        b'{"models": [{"model": "m", "input_per_1m": 1, "output_per_1m": 2, "per_request": 0.01}]}'
    )
    snap = parse_pricing(
        raw, fmt="tokenreview", configured_url="./prices/pricing.json", accessed_at=NOW
    )
    assert snap.source_url == "./prices/pricing.json"
    assert snap.currency == "USD"
    assert snap.prices == (
        ModelPrice(
            "m",
            PriceSet(
                input_per_1m=Decimal(1), output_per_1m=Decimal(2), per_request=Decimal("0.01")
            ),
        ),
    )


def test_litellm_format_exact_per_million() -> None:
    snap = parse_pricing(
        LITELLM_DOC,
        fmt="litellm",
        configured_url="https://raw.githubusercontent.com/x/model_prices.json",
        accessed_at=NOW,
    )
    assert snap.source_url == "https://raw.githubusercontent.com/x/model_prices.json"
    assert snap.currency == "USD"
    # sample_spec and the per-pixel image model are skipped; order follows the document
    assert [p.model for p in snap.prices] == [
        "gpt-4o-mini",
        "text-embedding-3-small",
        "perplexity/sonar",
        "azure/o1",
    ]
    mini = snap.price_for("gpt-4o-mini")
    assert mini is not None
    assert mini.prices.input_per_1m == Decimal("0.15")
    assert str(mini.prices.input_per_1m) == "0.15"
    assert str(mini.prices.output_per_1m) == "0.6"
    assert mini.prices.per_request is None  # absent stays absent
    emb = snap.price_for("text-embedding-3-small")
    assert emb is not None
    # the missing output_cost_per_token of an entry with an input price is 0 (SPEC 2.3)
    assert (emb.prices.input_per_1m, emb.prices.output_per_1m) == (Decimal("0.02"), Decimal(0))
    sonar = snap.price_for("perplexity/sonar")
    assert sonar is not None
    assert (sonar.prices.input_per_1m, sonar.prices.per_request) == (Decimal(1), Decimal("0.005"))
    o1 = snap.price_for("azure/o1")
    assert o1 is not None
    assert (str(o1.prices.input_per_1m), str(o1.prices.output_per_1m)) == ("15", "60")


def test_litellm_many_digit_number_stays_exact() -> None:
    raw = b'{"m": {"input_cost_per_token": 1.234567890123456789012345678901234e-07}}'
    snap = parse_pricing(raw, fmt="litellm", configured_url="u", accessed_at=NOW)
    assert snap.prices[0].prices.input_per_1m == Decimal("0.1234567890123456789012345678901234")


def test_snapshot_id_is_sha256_of_raw_bytes() -> None:
    import hashlib

    a = parse_pricing(TOKENREVIEW_DOC, fmt="tokenreview", configured_url="a", accessed_at=NOW)
    b = parse_pricing(
        TOKENREVIEW_DOC,
        fmt="tokenreview",
        configured_url="b",
        accessed_at=NOW + timedelta(days=3),
    )
    assert a.snapshot_id == b.snapshot_id == a.content_sha256
    assert a.snapshot_id == hashlib.sha256(TOKENREVIEW_DOC).hexdigest()
    c = parse_pricing(
        TOKENREVIEW_DOC + b"\n", fmt="tokenreview", configured_url="a", accessed_at=NOW
    )
    assert c.snapshot_id != a.snapshot_id


def test_accessed_at_is_normalized_to_utc_and_must_be_aware() -> None:
    shanghai = timezone(timedelta(hours=8))
    snap = parse_pricing(
        TOKENREVIEW_DOC,
        fmt="tokenreview",
        configured_url="x",
        accessed_at=datetime(2026, 11, 20, 17, 30, tzinfo=shanghai),
    )
    assert snap.accessed_at == NOW
    assert snap.accessed_at.utcoffset() == timedelta(0)
    with pytest.raises(ValueError, match="timezone-aware"):
        parse_pricing(
            TOKENREVIEW_DOC, fmt="tokenreview", configured_url="x", accessed_at=datetime(2026, 1, 1)
        )
    with pytest.raises(ValueError, match="unknown pricing format"):
        parse_pricing(TOKENREVIEW_DOC, fmt="csv", configured_url="x", accessed_at=NOW)


def _model(**fields: object) -> dict:
    return {"model": "m", "input_per_1m": 1, "output_per_1m": 1, **fields}


@pytest.mark.parametrize(
    ("doc", "fragment"),
    [
        ([], "expected a JSON object"),
        ({"models": []}, "models: expected a non-empty list"),
        ({}, "models: expected a non-empty list"),
        ({"models": [_model(), "x"]}, "models[1]: expected an object"),
        ({"models": [_model(input_per_1m=-1)]}, "models[0].input_per_1m: expected a non-negative"),
        ({"models": [_model(input_per_1m="0.15")]}, "models[0].input_per_1m: expected a non-neg"),
        ({"models": [_model(output_per_1m=True)]}, "models[0].output_per_1m: expected a non-neg"),
        ({"models": [_model(per_request=-0.5)]}, "models[0].per_request: expected a non-negative"),
        (
            {"models": [_model(), _model(), _model(model="x")]},
            "models[1]: duplicate model 'm' (first at models[0])",
        ),
        ({"models": [{"model": "x", "output_per_1m": 1}]}, "models[0].input_per_1m: required"),
        ({"models": [_model(model="")]}, "models[0].model: expected a non-empty string"),
        ({"models": [_model(cached_per_1m=1)]}, "models[0].cached_per_1m: unknown key"),
        ({"models": [_model()], "updated": "x"}, "updated: unknown key"),
        ({"models": [_model()], "currency": 3}, "currency: expected a non-empty string"),
        ({"models": [_model()], "source_url": ""}, "source_url: expected a non-empty string"),
    ],
)
def test_tokenreview_invalid_documents(doc: object, fragment: str) -> None:
    with pytest.raises(PricingFormatError) as info:
        parse_pricing(
            json.dumps(doc).encode(), fmt="tokenreview", configured_url="x", accessed_at=NOW
        )
    assert fragment in str(info.value)
    # one except clause catches every pricing failure; it is also a ValueError
    assert isinstance(info.value, PricingFetchError)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe\x00", "pricing document is not valid"),
        (b'{"models": [{"model": "m", "input_per_1m": NaN, "output_per_1m": 1}]}', "NaN"),
        (
            b'{"models": [{"model": "m", "input_per_1m": 1, "input_per_1m": 2,'
            b' "output_per_1m": 1}]}',
            "models[0].input_per_1m: key appears more than once",
        ),
    ],
)
def test_tokenreview_unparseable(raw: bytes, fragment: str) -> None:
    with pytest.raises(PricingFormatError) as info:
        parse_pricing(raw, fmt="tokenreview", configured_url="x", accessed_at=NOW)
    assert fragment in str(info.value)


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        (b'{"sample_spec": {}, "img": {"output_cost_per_image": 1}}', "no entry has"),
        (b'{"m": {"input_cost_per_token": -1e-07}}', '"m".input_cost_per_token: expected a non'),
        (b'{"m": {"output_cost_per_token": "3e-7"}}', '"m".output_cost_per_token: expected a non'),
        (b'{"m": 5}', '"m": expected an object'),
        (b"[]", "expected a JSON object"),
        (
            b'{"m": {"input_cost_per_token": 1e-07}, "m": {"input_cost_per_token": 2e-07}}',
            '"m": duplicate model key',
        ),
    ],
)
def test_litellm_invalid_documents(raw: bytes, fragment: str) -> None:
    with pytest.raises(PricingFormatError) as info:
        parse_pricing(raw, fmt="litellm", configured_url="x", accessed_at=NOW)
    assert fragment in str(info.value)


def test_litellm_nested_duplicate_keys_are_tolerated() -> None:
    raw = b'{"m": {"input_cost_per_token": 1e-07, "metadata": {"a": 1, "a": 2}}}'
    snap = parse_pricing(raw, fmt="litellm", configured_url="x", accessed_at=NOW)
    assert snap.prices[0].prices.input_per_1m == Decimal("0.1")


# ----------------------------------------------------------------------- fetching


def test_fetch_plain_relative_path_and_absolute_path(tmp_path: Path) -> None:
    (tmp_path / "prices").mkdir()
    target = tmp_path / "prices" / "pricing.json"
    target.write_bytes(TOKENREVIEW_DOC)
    assert fetch_pricing_bytes("prices/pricing.json", base_dir=tmp_path) == TOKENREVIEW_DOC
    assert fetch_pricing_bytes(str(target), base_dir=Path("/nonexistent")) == TOKENREVIEW_DOC


def test_fetch_file_url(tmp_path: Path) -> None:
    target = tmp_path / "pricing with space.json"
    target.write_bytes(TOKENREVIEW_DOC)
    assert fetch_pricing_bytes(target.as_uri(), base_dir=Path("/nonexistent")) == TOKENREVIEW_DOC
    assert (
        fetch_pricing_bytes(
            "file://localhost" + target.as_uri()[len("file://") :], base_dir=tmp_path
        )
        == TOKENREVIEW_DOC
    )


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("missing.json", "pricing file not found"),
        ("file:///definitely/not/here.json", "pricing file not found"),
        ("file://otherhost/x.json", "remote host is not supported"),
        ("ftp://example.com/pricing.json", "unsupported pricing url scheme 'ftp'"),
        ("", "pricing url is empty"),
        (".", "is a directory"),
    ],
)
def test_fetch_local_errors(tmp_path: Path, url: str, fragment: str) -> None:
    with pytest.raises(PricingFetchError) as info:
        fetch_pricing_bytes(url, base_dir=tmp_path)
    assert fragment in str(info.value)


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - stdlib API
        path = self.path.split("?", 1)[0]
        if path == "/pricing.json":
            self._send(200, TOKENREVIEW_DOC)
        elif path == "/moved":
            self.send_response(302)
            self.send_header("Location", "/pricing.json")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif path == "/boom":
            self._send(500, b"internal error")
        else:
            self._send(404, b"not found")

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    # A real HTTP server on loopback; keep any proxy settings of the host out of it.
    for name in (
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ):
        monkeypatch.delenv(name, raising=False)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def test_fetch_http_ok_and_redirect(server: str, tmp_path: Path) -> None:
    assert fetch_pricing_bytes(f"{server}/pricing.json", base_dir=tmp_path) == TOKENREVIEW_DOC
    assert fetch_pricing_bytes(f"{server}/moved", base_dir=tmp_path) == TOKENREVIEW_DOC


def test_fetch_http_500_is_a_fetch_error_without_secrets(server: str, tmp_path: Path) -> None:
    url = server.replace("http://", "http://user:s3cret@") + "/boom?token=abc123"
    with pytest.raises(PricingFetchError) as info:
        fetch_pricing_bytes(url, base_dir=tmp_path)
    message = str(info.value)
    assert "HTTP 500" in message
    assert f"{server}/boom" in message
    assert "s3cret" not in message and "abc123" not in message and "user" not in message


def test_fetch_http_404(server: str, tmp_path: Path) -> None:
    with pytest.raises(PricingFetchError, match="HTTP 404"):
        fetch_pricing_bytes(f"{server}/nope.json", base_dir=tmp_path)


def test_fetch_connection_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in (
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ):
        monkeypatch.delenv(name, raising=False)
    # Reserve a free port, then close it: nothing listens there.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/pricing.json?key=supersecret"
    with pytest.raises(PricingFetchError) as info:
        fetch_pricing_bytes(url, base_dir=tmp_path, timeout_s=2)
    message = str(info.value)
    assert "ConnectError" in message
    assert f"http://127.0.0.1:{port}/pricing.json" in message
    assert "supersecret" not in message


def test_fetch_timeout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ):
        monkeypatch.delenv(name, raising=False)
    # A listening socket that never answers: the read times out.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        port = sock.getsockname()[1]
        with pytest.raises(PricingFetchError, match="timed out after 0.3s"):
            fetch_pricing_bytes(f"http://127.0.0.1:{port}/p.json", base_dir=tmp_path, timeout_s=0.3)


def test_http_fetch_then_parse_end_to_end(server: str, tmp_path: Path) -> None:
    raw1 = fetch_pricing_bytes(f"{server}/pricing.json", base_dir=tmp_path)
    raw2 = fetch_pricing_bytes(f"{server}/moved", base_dir=tmp_path)
    s1 = parse_pricing(
        raw1, fmt="tokenreview", configured_url=f"{server}/pricing.json", accessed_at=NOW
    )
    s2 = parse_pricing(raw2, fmt="tokenreview", configured_url=f"{server}/moved", accessed_at=NOW)
    assert s1.snapshot_id == s2.snapshot_id


def test_safe_url() -> None:
    assert safe_url("https://u:p@h.example:8443/a/b?x=1#f") == "https://h.example:8443/a/b"
    assert safe_url("pricing.json") == "pricing.json"
    assert safe_url("http://[::1]:8080/p") == "http://[::1]:8080/p"


# ------------------------------------------------- price keys, tiers, long context


def _parse(doc: object, fmt: str = "tokenreview"):
    raw = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
    return parse_pricing(raw, fmt=fmt, configured_url="x", accessed_at=NOW)


def _bands(snapshot) -> dict[tuple[str, str, int], tuple]:
    """(model, tier, min_prompt_tokens) -> (max, above, {given prices as strings})."""
    return {
        (b.model, b.service_tier, b.min_prompt_tokens): (
            b.max_prompt_tokens,
            b.above_prompt_tokens,
            {k: str(v) for k, v in b.prices.given().items()},
        )
        for b in snapshot.bands()
    }


def test_spec_example_resolves_tiers_and_long_context_bands() -> None:
    snap = _parse(SPEC_EXAMPLE_PRICING)
    mini = snap.price_for("gpt-4o-mini")
    assert mini.tier("batch").prices.cached_input_per_1m == Decimal("0.0375")
    assert mini.tier("flex") is None
    assert _bands(snap) == {
        ("gpt-4o-mini", "standard", 0): (
            None,
            None,
            {
                "input_per_1m": "0.15",
                "output_per_1m": "0.6",
                "per_request": "0.0",
                "cached_input_per_1m": "0.075",
            },
        ),
        # the tier's keys replace the model's; the keys it omits are the model's
        ("gpt-4o-mini", "batch", 0): (
            None,
            None,
            {
                "input_per_1m": "0.075",
                "output_per_1m": "0.3",
                "per_request": "0.0",
                "cached_input_per_1m": "0.0375",
            },
        ),
        ("gpt-4o-mini", "priority", 0): (
            None,
            None,
            {
                "input_per_1m": "0.25",
                "output_per_1m": "1.0",
                "per_request": "0.0",
                "cached_input_per_1m": "0.075",
            },
        ),
        # prompts of at most 200000 tokens: the model's keys; above: the entry's
        ("claude-sonnet-4-5", "standard", 0): (
            200000,
            None,
            {
                "input_per_1m": "3.0",
                "output_per_1m": "15.0",
                "cached_input_per_1m": "0.3",
                "cache_write_per_1m": "3.75",
            },
        ),
        ("claude-sonnet-4-5", "standard", 200001): (
            None,
            200000,
            {
                "input_per_1m": "6.0",
                "output_per_1m": "22.5",
                "cached_input_per_1m": "0.6",
                "cache_write_per_1m": "7.5",
            },
        ),
    }


def test_long_context_entries_order_inheritance_and_tiers_of_their_own() -> None:
    doc = {
        "models": [
            {
                "model": "m",
                "input_per_1m": 1,
                "output_per_1m": 2,
                "reasoning_per_1m": 3,
                # out of order in the document: the highest threshold exceeded applies
                "long_context": [
                    {"above_prompt_tokens": 500000, "input_per_1m": 4},
                    {"above_prompt_tokens": 100000, "input_per_1m": 2, "output_per_1m": 5},
                ],
                "tiers": {
                    "batch": {"input_per_1m": 0.5},  # no long_context: one band for all sizes
                    "priority": {
                        "output_per_1m": 9,
                        "long_context": [{"above_prompt_tokens": 0, "reasoning_per_1m": 7}],
                    },
                },
            }
        ]
    }
    bands = _bands(_parse(doc))
    assert bands == {
        ("m", "standard", 0): (
            100000,
            None,
            {"input_per_1m": "1", "output_per_1m": "2", "reasoning_per_1m": "3"},
        ),
        ("m", "standard", 100001): (
            500000,
            100000,
            {"input_per_1m": "2", "output_per_1m": "5", "reasoning_per_1m": "3"},
        ),
        # an entry replaces the tier's keys, not the entry below it (output back to 2)
        ("m", "standard", 500001): (
            None,
            500000,
            {"input_per_1m": "4", "output_per_1m": "2", "reasoning_per_1m": "3"},
        ),
        ("m", "batch", 0): (
            None,
            None,
            {"input_per_1m": "0.5", "output_per_1m": "2", "reasoning_per_1m": "3"},
        ),
        ("m", "priority", 0): (
            0,
            None,
            {"input_per_1m": "1", "output_per_1m": "9", "reasoning_per_1m": "3"},
        ),
        ("m", "priority", 1): (
            None,
            0,
            {"input_per_1m": "1", "output_per_1m": "9", "reasoning_per_1m": "7"},
        ),
    }


def test_null_price_is_absent_and_zero_is_kept() -> None:
    doc = {
        "models": [
            _model(cached_input_per_1m=None, cache_write_per_1m=0, tiers=None, long_context=None)
        ]
    }
    (price,) = _parse(doc).prices
    assert price.prices.cached_input_per_1m is None
    assert price.prices.cache_write_per_1m == 0
    assert price.tiers == () and price.long_context == ()


@pytest.mark.parametrize(
    ("model", "fragment"),
    [
        (_model(cached_input_per_1m=-0.1), "models[0].cached_input_per_1m: expected a non-neg"),
        (_model(cache_write_per_1m="3.75"), "models[0].cache_write_per_1m: expected a non-neg"),
        (_model(reasoning_per_1m=True), "models[0].reasoning_per_1m: expected a non-negative"),
        (_model(tiers=[]), "models[0].tiers: expected an object of service tier"),
        (_model(tiers={"batch": 1}), "models[0].tiers.batch: expected an object of price keys"),
        (
            _model(tiers={"batch": {"input_per_1m": -1}}),
            "models[0].tiers.batch.input_per_1m: expected a non-negative",
        ),
        (
            _model(tiers={"batch": {"cached_per_1m": 1}}),
            "models[0].tiers.batch.cached_per_1m: unknown key",
        ),
        (_model(tiers={"default": {}}), "models[0].tiers.default: 'default' is the standard"),
        (_model(tiers={"standard": {}}), "models[0].tiers.standard: 'standard' is the standard"),
        (_model(tiers={"": {}}), "models[0].tiers.: '' is the standard tier"),
        (_model(long_context={}), "models[0].long_context: expected a list"),
        (_model(long_context=[1]), "models[0].long_context[0]: expected an object"),
        (
            _model(long_context=[{"input_per_1m": 1}]),
            "models[0].long_context[0].above_prompt_tokens: required",
        ),
        (
            _model(long_context=[{"above_prompt_tokens": 200000.0}]),
            "models[0].long_context[0].above_prompt_tokens: expected a non-negative integer",
        ),
        (
            _model(long_context=[{"above_prompt_tokens": -1}]),
            "models[0].long_context[0].above_prompt_tokens: expected a non-negative integer",
        ),
        (
            _model(long_context=[{"above_prompt_tokens": 10}, {"above_prompt_tokens": 10}]),
            "models[0].long_context[1].above_prompt_tokens: 10 repeats models[0].long_context[0]",
        ),
        (
            _model(long_context=[{"above_prompt_tokens": 10, "output_per_1m": "x"}]),
            "models[0].long_context[0].output_per_1m: expected a non-negative",
        ),
        (
            _model(long_context=[{"above_prompt_tokens": 10, "tiers": {}}]),
            "models[0].long_context[0].tiers: unknown key",
        ),
        (
            _model(tiers={"batch": {"long_context": [{"above_prompt_tokens": True}]}}),
            "models[0].tiers.batch.long_context[0].above_prompt_tokens: expected a non-negative",
        ),
        (
            _model(tiers={"batch": {"tiers": {}}}),
            "models[0].tiers.batch.tiers: unknown key",
        ),
    ],
)
def test_invalid_tier_and_long_context_keys(model: dict, fragment: str) -> None:
    with pytest.raises(PricingFormatError) as info:
        _parse({"models": [model]})
    assert fragment in str(info.value)


def test_litellm_keys_map_to_tiers_and_long_context() -> None:
    doc = {
        "m": {
            "input_cost_per_token": 2e-06,
            "output_cost_per_token": 1.2e-05,
            "cache_read_input_token_cost": 2e-07,
            "cache_creation_input_token_cost": 2.5e-06,
            "output_cost_per_reasoning_token": 1.5e-05,
            "input_cost_per_request": 0.001,
            "input_cost_per_request_batches": 0.0005,
            "input_cost_per_token_batches": 1e-06,
            "cache_read_input_token_cost_flex": 1e-07,
            "input_cost_per_token_above_128k_tokens": 4e-06,
            "cache_creation_input_token_cost_above_128k_tokens": 5e-06,
            "output_cost_per_token_above_200k_tokens_priority": 3e-05,
            # ignored: 1-hour cache writes, audio, a reasoning price above a threshold,
            # a non-integer threshold, and other keys' values whatever they hold
            "cache_creation_input_token_cost_above_1hr": 6e-06,
            "cache_creation_input_token_cost_above_1hr_above_200k_tokens": 1.2e-05,
            "input_cost_per_audio_token": 1e-06,
            "output_cost_per_reasoning_token_above_200k_tokens": 9,
            "input_cost_per_token_above_0.5k_tokens": 1,
            "supports_reasoning": "yes",
            "output_cost_per_token_flex": None,  # null: absent
        }
    }
    bands = _bands(_parse(doc, "litellm"))
    model = {
        "input_per_1m": "2",
        "output_per_1m": "12",
        "per_request": "0.001",
        "cached_input_per_1m": "0.2",
        "cache_write_per_1m": "2.5",
        "reasoning_per_1m": "15",
    }
    assert bands == {
        ("m", "standard", 0): (128000, None, model),
        ("m", "standard", 128001): (
            None,
            128000,
            {**model, "input_per_1m": "4", "cache_write_per_1m": "5"},
        ),
        # batch: its own keys over the model's, and no long_context of its own
        ("m", "batch", 0): (None, None, {**model, "input_per_1m": "1", "per_request": "0.0005"}),
        ("m", "flex", 0): (None, None, {**model, "cached_input_per_1m": "0.1"}),
        # priority: only a long-context key, so the tier exists with the model's keys
        ("m", "priority", 0): (200000, None, model),
        ("m", "priority", 200001): (None, 200000, {**model, "output_per_1m": "30"}),
    }


@pytest.mark.parametrize(
    ("entry", "fragment"),
    [
        ({"input_cost_per_token": 1e-07, "cache_read_input_token_cost": -1e-08}, "cache_read_in"),
        ({"input_cost_per_token": 1e-07, "input_cost_per_token_batches": "5e-8"}, "_batches"),
        (
            {"input_cost_per_token": 1e-07, "output_cost_per_token_above_200k_tokens": False},
            "output_cost_per_token_above_200k_tokens: expected a non-negative",
        ),
        ({"output_cost_per_token": 1e-07, "input_cost_per_request": -1}, "input_cost_per_req"),
        (
            {"input_cost_per_token": 1e-07, "output_cost_per_reasoning_token_priority": []},
            "output_cost_per_reasoning_token_priority: expected a non-negative",
        ),
    ],
)
def test_litellm_invalid_mapped_price(entry: dict, fragment: str) -> None:
    with pytest.raises(PricingFormatError) as info:
        _parse({"m": entry}, "litellm")
    assert fragment in str(info.value) and '"m".' in str(info.value)


def test_litellm_entry_priced_only_in_a_tier_is_skipped() -> None:
    doc = {"batch-only": {"input_cost_per_token_batches": 1e-07}, "m": {"output_cost_per_token": 0}}
    snap = _parse(doc, "litellm")
    assert [p.model for p in snap.prices] == ["m"]
    assert snap.price_for("m").prices.input_per_1m == 0  # one of the two missing is 0
