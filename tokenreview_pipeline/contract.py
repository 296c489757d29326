"""The data contract's vocabularies, declared once.

Every name that ``shared/SPEC.md`` fixes and that more than one place needs -- the
request-log fields and their types, the content fields, the quarantine reasons, the
retry causes, the evidence requirements with their notes, the unallocated workload --
is declared in this module and nowhere else. Python code imports these declarations;
SQL models and checks receive them in their Jinja context (``sql_models.render``) and
loop over them, so a cause, requirement or content field is written as a literal here
only.

The *rules* stay where they belong: retry-cause conditions in
``dbt_like_sql/int_retry_causes.sql`` (each cause here names the flag column that
model computes), validation in ``extract/records.py``. An evidence requirement's
condition is part of its declaration: it is the SPEC's "holds when" column, written as
a SQL expression over the measures ``review_packets.sql`` computes for each packet.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

# ------------------------------------------------------------ SPEC 2.1 records


#: SPEC 2.5 bounds, on values as read (before redaction). Integers whose absolute value
#: reaches the limit are ``invalid_type:<field>``, so no 4-byte column and no sum of
#: token counts overflows; longer strings are ``invalid_type:<field>`` (ids and
#: tag-derived packet keys are indexed, and a btree entry has a size limit).
INT32_LIMIT = 2**31
TOKEN_LIMIT = 2**40
MAX_VALUE_CHARS = 512
MAX_TAGS = 64
MAX_TAG_CHARS = 512
#: A record nested more than this many levels deep is ``malformed_json``.
MAX_NESTING = 512
#: A line (CSV row, HTTP record) longer than this, without its newline, is ``record_too_large``.
MAX_RECORD_BYTES = 1024 * 1024
#: The stored raw text of a quarantined record is at most this many UTF-8 bytes.
MAX_RAW_BYTES = 4096


@dataclass(frozen=True)
class RecordField:
    """One field of a request-log record (SPEC 2.1), in the table's order.

    ``kind`` is how values are validated and stored: ``str``, ``timestamp`` (ISO 8601
    with an offset), ``ip`` (IPv4/IPv6), ``int`` (an integer; negative token counts are
    ``negative_tokens``, not a type error), ``nonneg_int``, ``nonneg_number`` or ``tags``
    (an object of string to string). ``abs_limit``: an integer whose absolute value is
    at least this is ``invalid_type``; ``max_chars``: a longer string is ``invalid_type``
    (SPEC 2.5).
    """

    name: str
    kind: str
    required: bool = False
    #: the value an absent field takes in a staged attempt (SPEC: "absent = 0")
    default: object = None
    abs_limit: int | None = None
    max_chars: int | None = None


def _id(name: str, *, required: bool = False) -> RecordField:
    return RecordField(name, "str", required=required, max_chars=MAX_VALUE_CHARS)


def _tokens(name: str) -> RecordField:
    return RecordField(name, "int", default=0, abs_limit=TOKEN_LIMIT)


RECORD_FIELDS: tuple[RecordField, ...] = (
    _id("attempt_id", required=True),
    RecordField("timestamp", "timestamp", required=True),
    _id("request_id"),
    RecordField("client_retry_count", "nonneg_int", abs_limit=INT32_LIMIT),
    _id("api_key_id", required=True),
    RecordField("source_ip", "ip"),
    _id("model", required=True),
    _id("endpoint", required=True),
    RecordField("status_code", "int", abs_limit=INT32_LIMIT),
    RecordField("error_type", "str"),
    RecordField("latency_ms", "nonneg_number"),
    _tokens("prompt_tokens"),
    _tokens("completion_tokens"),
    _id("environment"),
    RecordField("tags", "tags", default={}),
    _id("prompt_fingerprint"),
    _tokens("cached_prompt_tokens"),
    _tokens("cache_write_tokens"),
    _tokens("reasoning_tokens"),
    _id("service_tier"),
    RecordField("gateway_retries", "nonneg_int", default=0, abs_limit=INT32_LIMIT),
)
FIELDS_BY_NAME = {f.name: f for f in RECORD_FIELDS}
FIELD_NAMES = tuple(f.name for f in RECORD_FIELDS)
REQUIRED_FIELDS = tuple(f.name for f in RECORD_FIELDS if f.required)
#: The five token fields (SPEC 2.1). Classes never overlap: cached and cache-write
#: tokens are parts of prompt_tokens, reasoning tokens a part of completion_tokens.
TOKEN_FIELDS = (
    "prompt_tokens",
    "completion_tokens",
    "cached_prompt_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
)
#: (whole, parts): the parts may not add up to more than the whole (``inconsistent_tokens``).
TOKEN_PARTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("prompt_tokens", ("cached_prompt_tokens", "cache_write_tokens")),
    ("completion_tokens", ("reasoning_tokens",)),
)

#: Content-bearing fields, dropped at extraction and never stored (SPEC 2.1).
CONTENT_FIELDS: tuple[str, ...] = (
    "prompt",
    "messages",
    "input",
    "response",
    "output",
    "choices",
    "content",
    "completion",
    "authorization",
    "headers",
    "api_key",
)
#: Fields whose canonical JSON is the prompt fingerprint when none is given, first present wins.
PROMPT_SOURCES: tuple[str, ...] = ("messages", "prompt", "input")

#: SPEC 2.5 secrets, exactly as the SPEC writes them (case-sensitive). A match does not
#: start right after an ASCII letter or digit; matches are taken leftmost first, never
#: overlapping, and each is replaced by ``redacted_`` + 12 hex of its SHA-256
#: (``extract/redaction.py``). The blocking checks apply the same patterns in SQL.
SECRET_PATTERNS: tuple[str, ...] = (
    r"sk-[A-Za-z0-9_-]{20,}",
    r"Bearer [A-Za-z0-9._~+/=-]+",
    r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+",
)
#: A secret never starts right after one of these (so ``risk-assessment-...`` stays).
SECRET_NOT_AFTER = "A-Za-z0-9"
#: The patterns as one Python regular expression (lookbehind for the start rule).
SECRET_REGEX = rf"(?<![{SECRET_NOT_AFTER}])(?:{'|'.join(SECRET_PATTERNS)})"
#: The same as a POSIX regular expression (PostgreSQL ``~``), for "does a text hold one".
SECRET_REGEX_POSIX = rf"(^|[^{SECRET_NOT_AFTER}])({'|'.join(SECRET_PATTERNS)})"


# -------------------------------------------------------------- SPEC 4.1 reasons


class _TextEnum(str, Enum):
    """``enum.StrEnum`` of Python 3.11, written out for 3.10: ``str()`` and ``format()``
    of a member give its value, and it compares equal to that text."""

    def __str__(self) -> str:
        return str.__str__(self)

    def __format__(self, spec: str) -> str:
        return str.__format__(str(self), spec)


class Reason(_TextEnum):
    """Quarantine reasons (SPEC 4.1), in the order they are checked."""

    RECORD_TOO_LARGE = "record_too_large"
    INVALID_ENCODING = "invalid_encoding"
    MALFORMED_JSON = "malformed_json"
    NOT_AN_OBJECT = "not_an_object"
    MISSING_FIELD = "missing_field"  # written missing_field:<name>
    INVALID_TYPE = "invalid_type"  # written invalid_type:<name>
    INVALID_TIMESTAMP = "invalid_timestamp"
    TIMESTAMP_WITHOUT_TIMEZONE = "timestamp_without_timezone"
    NEGATIVE_TOKENS = "negative_tokens"
    INCONSISTENT_TOKENS = "inconsistent_tokens"
    DUPLICATE_ATTEMPT_ID = "duplicate_attempt_id"


def missing_field(name: str) -> str:
    return f"{Reason.MISSING_FIELD}:{name}"


def invalid_type(name: str) -> str:
    return f"{Reason.INVALID_TYPE}:{name}"


# ------------------------------------------------------------ SPEC 2.2 allocation

#: The workload of a logical request that no allocation rule matches.
UNALLOCATED = "unallocated"


# ------------------------------------------------------ SPEC 2.3 / 4.4 prices

#: The price keys of a model, of one of its tiers and of a long-context entry (SPEC 2.3),
#: in the SPEC's order. ``*_per_1m`` are USD per million tokens, ``per_request`` USD.
PRICE_KEYS: tuple[str, ...] = (
    "input_per_1m",
    "output_per_1m",
    "per_request",
    "cached_input_per_1m",
    "cache_write_per_1m",
    "reasoning_per_1m",
)
#: The price keys every model must give (a tier or an entry may omit them).
REQUIRED_PRICE_KEYS: tuple[str, ...] = ("input_per_1m", "output_per_1m")

#: The service tier of an attempt that names none (SPEC 2.1), and the values that mean it.
STANDARD_TIER = "standard"
STANDARD_TIER_ALIASES: tuple[str, ...] = ("", "default", "auto")


@dataclass(frozen=True)
class UnpricedReason:
    """Why an attempt's cost is unknown (``request_attempts.cost_unknown_reason``);
    ``words`` completes "<model>, <tier> tier: ..." in a packet's note."""

    name: str
    words: str


NO_SNAPSHOT = UnpricedReason("no_snapshot", "no pricing snapshot applies")
MODEL_NOT_PRICED = UnpricedReason("model_not_priced", "the model is not in the snapshot")
TIER_NOT_PRICED = UnpricedReason(
    "tier_not_priced", "the model's tiers do not name this service tier"
)


@dataclass(frozen=True)
class ChargeKind:
    """One class of charge of an attempt (SPEC 4.4, and the FOCUS export's charge kinds).

    The classes never overlap: ``quantity`` is SQL over an attempt's token and status
    columns (``{a}`` is the table alias with its dot), and the quantities of the token
    kinds add up to ``prompt_tokens + completion_tokens``. ``prices`` is the chain of
    price keys that prices it, the first present wins (SPEC 4.4's defaults: a missing
    ``cache_write_per_1m`` is ``input_per_1m``, a missing ``reasoning_per_1m`` is
    ``output_per_1m``); ``missing_is_zero``: when none is present the price is 0 (a missing
    ``per_request``). A kind whose chain may end with no price and that is not zero
    (``cached_input``) makes the attempt's cost unknown when its quantity is above 0.
    ``per`` is the quantity one price applies to (1,000,000 tokens, or 1 request).
    ``packet_column`` is the review_packets sum its quantity reconciles with alone.
    """

    name: str
    quantity: str
    prices: tuple[str, ...]
    per: int
    words: str
    token_direction: str | None  # FOCUS SkuPriceDetails.TokenDirection
    token_cache_action: str | None  # FOCUS SkuPriceDetails.TokenCacheAction
    missing_is_zero: bool = False
    packet_column: str | None = None

    @property
    def is_tokens(self) -> bool:
        return self.token_direction is not None

    @property
    def part_of(self) -> str | None:
        """The token field this kind's tokens are a part of (SPEC 2.1), None for requests."""
        return _DIRECTION_TOTALS.get(self.token_direction) if self.token_direction else None

    @property
    def pricing_unit(self) -> str:
        return FOCUS.token_pricing_unit if self.is_tokens else FOCUS.request_unit

    @property
    def consumed_unit(self) -> str:
        return FOCUS.token_consumed_unit if self.is_tokens else FOCUS.request_unit

    @property
    def may_be_unpriced(self) -> bool:
        return not self.missing_is_zero and not set(self.prices) & set(REQUIRED_PRICE_KEYS)

    @property
    def unpriced(self) -> UnpricedReason:
        """The reason an attempt is unpriced when this kind has no price (SPEC 4.4)."""
        return UnpricedReason(f"{self.name}_not_priced", f"{self.words} have no {self.prices[0]}")


_SUCCESS = "CASE WHEN {a}status_code BETWEEN 200 AND 299 THEN 1 ELSE 0 END"
#: Token direction -> the token field whose tokens the direction's kinds split.
_DIRECTION_TOTALS = {"Input": "prompt_tokens", "Output": "completion_tokens"}

CHARGE_KINDS: tuple[ChargeKind, ...] = (
    ChargeKind(
        "input",
        "{a}prompt_tokens - {a}cached_prompt_tokens - {a}cache_write_tokens",
        ("input_per_1m",),
        1_000_000,
        "uncached input tokens",
        "Input",
        "Uncached",
    ),
    ChargeKind(
        "cached_input",
        "{a}cached_prompt_tokens",
        ("cached_input_per_1m",),
        1_000_000,
        "cached input tokens",
        "Input",
        "Read",
        packet_column="cached_prompt_tokens",
    ),
    ChargeKind(
        "cache_write",
        "{a}cache_write_tokens",
        ("cache_write_per_1m", "input_per_1m"),
        1_000_000,
        "cache write tokens",
        "Input",
        "Write",
        packet_column="cache_write_tokens",
    ),
    ChargeKind(
        "output",
        "{a}completion_tokens - {a}reasoning_tokens",
        ("output_per_1m",),
        1_000_000,
        "output tokens",
        "Output",
        None,
    ),
    ChargeKind(
        "reasoning",
        "{a}reasoning_tokens",
        ("reasoning_per_1m", "output_per_1m"),
        1_000_000,
        "reasoning tokens",
        "Output",
        None,
        packet_column="reasoning_tokens",
    ),
    ChargeKind(
        "request",
        _SUCCESS,
        ("per_request",),
        1,
        "successful requests",
        None,
        None,
        missing_is_zero=True,
    ),
)
CHARGE_KINDS_BY_NAME = {k.name: k for k in CHARGE_KINDS}
#: The per-request charge (its quantity counts the 2xx attempts).
REQUEST_KIND = CHARGE_KINDS_BY_NAME["request"]
#: The token fields the token kinds split without overlap, in order.
SPLIT_TOKEN_FIELDS: tuple[str, ...] = tuple(_DIRECTION_TOTALS.values())
#: "Caching saved" (packets, explain): the cached tokens at the uncached input price,
#: minus what they cost.
CACHED_INPUT_KIND = CHARGE_KINDS_BY_NAME["cached_input"]
UNCACHED_INPUT_KIND = CHARGE_KINDS_BY_NAME["input"]
#: Why a cost is unknown, in the order request_attempts.sql tests them.
UNPRICED_REASONS: tuple[UnpricedReason, ...] = (
    NO_SNAPSHOT,
    MODEL_NOT_PRICED,
    TIER_NOT_PRICED,
    *(k.unpriced for k in CHARGE_KINDS if k.may_be_unpriced),
)


# --------------------------------------------------------- SPEC 5 FOCUS export


@dataclass(frozen=True)
class FocusExport:
    """The FOCUS export's fixed values and column groups (SPEC 5 "FOCUS export")."""

    token_pricing_unit: str = "1M Tokens"
    token_consumed_unit: str = "Tokens"
    request_unit: str = "Requests"
    allocation_method: str = "tokenreview-allocation-rules"
    charge_category: str = "Usage"
    service_category: str = "AI and Machine Learning"
    #: The keys of ``Tags`` (and ``AllocatedTags``), in this order: the packet's columns.
    tag_keys: tuple[str, ...] = ("owner_tag", "workload_tag", "environment", "request_class")
    #: The four cost columns, all the estimate.
    cost_columns: tuple[str, ...] = ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost")
    #: Unit prices, per PricingUnit.
    unit_price_columns: tuple[str, ...] = ("ListUnitPrice", "ContractedUnitPrice")
    #: Columns that name the provider (config ``provider_name``): FOCUS 1.3's service and
    #: host providers, and the 1.2 names they deprecate.
    provider_columns: tuple[str, ...] = (
        "ServiceName",
        "ServiceProviderName",
        "HostProviderName",
        "ProviderName",
        "PublisherName",
        "InvoiceIssuerName",
    )


FOCUS = FocusExport()


# --------------------------------------------------------- SPEC 4.3 retry causes


@dataclass(frozen=True)
class RetryCause:
    """A retry cause. ``flag`` is the 0/1 column of ``int_retry_causes.sql`` whose
    condition selects it (None for the fallback); causes are tried in declaration order."""

    name: str
    flag: str | None
    meaning: str

    @property
    def packet_column(self) -> str:
        return f"retries_{self.name}"


RETRY_CAUSES: tuple[RetryCause, ...] = (
    RetryCause(
        "unfamiliar_request_source",
        "source_unfamiliar",
        "the retry came from another API key than the first attempt, or from a key or "
        "network that known_sources does not list",
    ),
    RetryCause(
        "scheduled_maintenance",
        "prev_in_maintenance",
        "the attempt before it started inside a maintenance window",
    ),
    RetryCause(
        "timeout",
        "prev_timed_out",
        "the attempt before it timed out (408/504/524, a timeout error, or no response "
        "after client_timeout_ms)",
    ),
    RetryCause(
        "platform_response",
        "prev_platform_error",
        "the platform refused or failed the attempt before it (409, 429, 5xx, rate "
        "limits, overload)",
    ),
    RetryCause(
        "client_handling",
        "prev_client_error",
        "the client retried after a success or a request error it caused (2xx, other "
        "4xx, insufficient quota)",
    ),
    RetryCause("unknown", None, "nothing in the log explains the retry"),
)
CAUSES_BY_NAME = {c.name: c for c in RETRY_CAUSES}
UNKNOWN_CAUSE = RETRY_CAUSES[-1]
#: The packet's retries_<cause> columns, in the order of SPEC 5's packet table.
PACKET_CAUSE_ORDER: tuple[RetryCause, ...] = tuple(
    CAUSES_BY_NAME[n]
    for n in (
        "client_handling",
        "platform_response",
        "timeout",
        "scheduled_maintenance",
        "unfamiliar_request_source",
        "unknown",
    )
)


# ------------------------------------------------ SPEC 5 evidence requirements

OWNER = "owner"  # the packet's owner (or the operator when the owner is unknown)
OPERATOR = "operator"  # the pipeline operator: configuration is at fault


@dataclass(frozen=True)
class Requirement:
    """An evidence requirement (SPEC 5), in the SPEC's order.

    ``holds`` is the SQL condition over a packet's measures (columns of the
    ``requirements`` step of ``review_packets.sql``; ``:name`` are run parameters).
    ``note`` says what is missing and who must supply it: ``{column}`` and ``{:param}``
    are replaced by values, ``{case}`` by the first of ``cases`` whose SQL condition
    holds (``None``: otherwise). ``{supplier}`` is the packet's owner, or the pipeline
    operator when the owner is unknown. ``supplier`` says who is asked (``owner`` or
    ``operator``). ``pauses`` marks the review practice's stop rules for a budget change.
    ``packet_column`` is the boolean column of ``review_packets`` that carries it, if any.
    """

    name: str
    holds: str
    note: str
    supplier: str
    cases: tuple[tuple[str | None, str], ...] = ()
    pauses: bool = False
    packet_column: str | None = None


REQUIREMENTS: tuple[Requirement, ...] = (
    Requirement(
        "request_sample_present",
        holds="first_attempts >= :min_sample_size",
        note="{first_attempts} first attempt(s) recorded, at least {:min_sample_size} "
        "required; {supplier} must supply request logs that include the first attempts.",
        supplier=OWNER,
        pauses=True,
        packet_column="first_attempt_recorded",
    ),
    Requirement(
        "owner_identified",
        holds="owner_tag IS NOT NULL",
        note="{case}; the pipeline operator must fix allocation_rules so exactly one owner "
        "is assigned.",
        cases=(
            ("owner_count = 0", "no owner_tag is assigned"),
            ("owner_count > 1", "{owner_count} different owner_tags share this workload"),
            (None, "some requests have no owner_tag"),
        ),
        supplier=OPERATOR,
        pauses=True,
    ),
    Requirement(
        "workload_tagged",
        holds="workload_tag <> :unallocated",
        note="{logical_requests} logical request(s) are unallocated; the pipeline operator "
        "must add an allocation rule that assigns their workload_tag.",
        supplier=OPERATOR,
    ),
    Requirement(
        "request_class_recorded",
        holds="request_class IS NOT NULL AND request_class <> ''",
        note="no request class; {supplier} must send tags.request_class or have an "
        "allocation rule assign one.",
        supplier=OWNER,
    ),
    Requirement(
        "retry_count_recorded",
        holds="orphan_retries = 0",
        note="{orphan_retries} orphan retr(ies) whose first attempt is missing from the "
        "log; {supplier} must supply the missing first attempts.",
        supplier=OWNER,
        packet_column="retry_count_recorded",
    ),
    Requirement(
        "retry_cause_known",
        holds="retry_attempts = 0 "
        "OR retries_unknown * 1.0 / retry_attempts <= :max_unknown_retry_share",
        note="{retries_unknown} of {retry_attempts} retries have an unknown cause (allowed "
        "share {:max_unknown_retry_share}); {supplier} must supply status codes, error "
        "types or first attempts for them.",
        supplier=OWNER,
        pauses=True,
    ),
    Requirement(
        "pricing_source_checked",
        holds="pricing_snapshot_id IS NOT NULL AND pricing_age_days <= :pricing_max_age_days "
        "AND unpriced_attempts = 0",
        note="{case}.",
        cases=(
            (
                "pricing_snapshot_id IS NULL",
                "no pricing snapshot was taken on or before the review date; the pipeline "
                "operator must make pricing.url fetchable and re-run the cycle",
            ),
            (
                "pricing_age_days > :pricing_max_age_days",
                "the pricing snapshot is {pricing_age_days} days old (max "
                "{:pricing_max_age_days}); the pipeline operator must refresh pricing.url",
            ),
            (
                None,
                "{unpriced_attempts} attempt(s) are not priced by the snapshot: "
                "{unpriced_prices}; the pipeline operator must supply these prices in "
                "pricing.url",
            ),
        ),
        supplier=OPERATOR,
        pauses=True,
        packet_column="pricing_source_checked",
    ),
    Requirement(
        "allocation_rule_checked",
        holds="unmatched_requests = 0",
        note="{unmatched_requests} logical request(s) matched no allocation rule; the "
        "pipeline operator must add a rule for them.",
        supplier=OPERATOR,
        packet_column="allocation_rule_checked",
    ),
    Requirement(
        "source_urls_recorded",
        holds="pricing_source_url IS NOT NULL AND pricing_source_url <> '' "
        "AND stale_evidence_sources = 0",
        note="{case}; the pipeline operator must re-check the sources and update "
        "evidence_sources.yaml / pricing.url.",
        cases=(
            (
                "pricing_source_url IS NULL OR pricing_source_url = ''",
                "the pricing source URL is unknown",
            ),
            (
                None,
                "{stale_evidence_sources} evidence source(s) were accessed more than "
                "{:max_source_age_days} days before review",
            ),
        ),
        supplier=OPERATOR,
    ),
    Requirement(
        "unit_metric_defined",
        holds="unit_cost IS NOT NULL",
        note="{:unit_metric} is undefined ({case}); {supplier} must supply priced, "
        "successful traffic.",
        cases=(
            ("est_cost_usd IS NULL", "the estimated cost is unknown"),
            (None, "its denominator is zero"),
        ),
        supplier=OWNER,
        pauses=True,
    ),
)
REQUIREMENT_NAMES = tuple(r.name for r in REQUIREMENTS)
PAUSE_REQUIREMENTS = tuple(r for r in REQUIREMENTS if r.pauses)


# ------------------------------------------------------------- note templates

_PLACEHOLDER = re.compile(r"\{(:?[A-Za-z_][A-Za-z0-9_]*)\}")


def note_placeholders(template: str) -> list[str]:
    """The ``{column}`` / ``{:param}`` / ``{case}`` names a note template uses."""
    return _PLACEHOLDER.findall(template)


def split_note(template: str) -> list[tuple[str, str]]:
    """A note template as ``("text", s)`` and ``("value", name)`` parts, in order."""
    parts: list[tuple[str, str]] = []
    pos = 0
    for match in _PLACEHOLDER.finditer(template):
        if match.start() > pos:
            parts.append(("text", template[pos : match.start()]))
        parts.append(("value", match.group(1)))
        pos = match.end()
    if pos < len(template):
        parts.append(("text", template[pos:]))
    return parts


# ------------------------------------------------ SPEC 5 budget reviews, billing

REQUIREMENTS_BY_NAME = {r.name: r for r in REQUIREMENTS}


@dataclass(frozen=True)
class BudgetDecisions:
    """``budget_reviews.decision`` (SPEC 5), by attribute."""

    no_change_requested: str = "no_change_requested"
    paused: str = "paused"
    ready_for_review: str = "ready_for_review"


@dataclass(frozen=True)
class BillingStatuses:
    """``billing_reconciliation.status`` (SPEC 5), by attribute."""

    not_billed: str = "not_billed"
    not_estimated: str = "not_estimated"
    matched: str = "matched"
    gap: str = "gap"


BUDGET_DECISION = BudgetDecisions()
BUDGET_DECISIONS: tuple[str, ...] = tuple(vars(BUDGET_DECISION).values())
BILLING_STATUS = BillingStatuses()
BILLING_STATUSES: tuple[str, ...] = tuple(vars(BILLING_STATUS).values())
#: The one pause reason of a change request whose workload has no packet in the cycle
#: (SPEC 5: "``request_sample_present`` alone when it has no packet").
NO_PACKET_PAUSE: Requirement = REQUIREMENTS_BY_NAME["request_sample_present"]
#: Who supplies the evidence of a workload that has no packet: the change request's
#: ``requested_by`` (there is no packet owner to ask), written ``requester <name>``.
REQUESTER = "requester"
