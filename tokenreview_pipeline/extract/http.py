"""Client for the paginated HTTP log export API (SPEC 2.6).

``GET {url}?start=ISO&end=ISO[&cursor=C]`` with ``Authorization: Bearer <token>``
returns ``{"data": [records], "next_cursor": "C" | null}``.

Decisions:

* Each page's fetch has a total deadline (``timeout_s``) and a size cap
  (``max_page_bytes``), enforced while the body streams (``http_fetch.py``): a server
  that trickles bytes is cut off at the deadline (and retried), a page over the cap
  fails at once.
* Retried: HTTP 429 and 5xx, and transport errors (timeouts, refused or dropped
  connections, a body cut off mid-way: ``httpx.TransportError``). Backoff before try
  ``k + 1`` is "full jitter": uniform in ``[0, min(backoff_max_s, backoff_base_s * 2**(k-1))]``.
  A ``Retry-After`` header (seconds or HTTP date) replaces that delay; it is capped at
  ``backoff_max_s`` so a hostile or broken header cannot stall the run.
* After ``max_tries`` tries of one page, ``ExportApiError`` names the URL (scheme, host,
  port and path only: no query, no credentials), the page, the last status or exception
  and the number of tries. Any other HTTP status (e.g. 401, 404, an unfollowed 3xx)
  fails at once.
* A 2xx body must be a JSON object with a ``data`` list and a ``next_cursor`` key whose
  value is null or a non-empty string; anything else, or a cursor already seen (a
  pagination loop), raises ``ExportApiError``. Records of a page are yielded as they
  are (a page served twice yields its records twice; exact duplicates are dropped later).
* ``start`` / ``end`` must be timezone-aware; they are sent in UTC as ``...Z``.
* Redirects are followed by the client created here (httpx drops ``Authorization`` on a
  redirect to another origin). A caller-supplied ``client`` is used as configured.
* The token is never logged and never put in an error message. Nor is any other
  secret (SPEC 2.5): the URL shown and stored as ``source_name`` is redacted, and a
  response body or exception text quoted in an error is redacted with its JSON
  escapes decoded (``sk-pr\\u006Fj-...`` is a secret too).
"""

from __future__ import annotations

import email.utils
import json
import logging
import math
import random
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timezone

import httpx

from tokenreview_pipeline.http_fetch import (
    FetchedResponse,
    FetchLimitError,
    FetchTooLargeError,
    bounded_get,
)
from tokenreview_pipeline.urls import safe_url

from .records import ExtractedRecord, record_from_object, redact_text, redact_value

__all__ = ["ExportApiError", "export_source_name", "iter_http_records"]

logger = logging.getLogger(__name__)

# Indirection so tests can observe or shorten sleeps.
_sleep = time.sleep
_MAX_BODY_SNIPPET = 200


class ExportApiError(RuntimeError):
    """The export API could not be read (after retries, or a non-retryable answer)."""


def export_source_name(url: str) -> str:
    """The export URL without query string, fragment or credentials, and redacted
    (``source_name``)."""
    return redact_value(safe_url(url))[0]


def _iso_utc(value: datetime, name: str) -> str:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {value!r}")
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta-seconds or HTTP date), or None."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        if math.isfinite(seconds):
            return max(0.0, seconds)
        return None
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    current = now if now is not None else datetime.now(timezone.utc)
    return max(0.0, (when - current).total_seconds())


def iter_http_records(
    url: str,
    *,
    token: str | None,
    start: datetime,
    end: datetime,
    max_tries: int = 5,
    timeout_s: float = 30.0,
    max_page_bytes: int = 256 * 1024 * 1024,
    backoff_base_s: float = 0.5,
    backoff_max_s: float = 30.0,
    client: httpx.Client | None = None,
    records_of: RecordsOfItem | None = None,
) -> Iterator[ExtractedRecord]:
    """Yield the records of every page of the export for ``[start, end)``.

    ``records_of(item, raw_text=..., source_name=..., source_line=..., source_page=...)``
    turns one item of ``data`` into its records: an input format's reader (SPEC 2.7);
    the default reads ``tokenreview`` records.

    Arguments are checked at call time (``ValueError``); HTTP happens lazily, page by
    page, as the iterator is consumed.
    """
    if max_tries < 1:
        raise ValueError(f"max_tries must be >= 1, got {max_tries}")
    if timeout_s <= 0:
        raise ValueError(f"timeout_s must be > 0, got {timeout_s}")
    if backoff_base_s < 0 or backoff_max_s < 0:
        raise ValueError("backoff_base_s and backoff_max_s must be >= 0")
    try:
        parsed_url = httpx.URL(url)
    except httpx.InvalidURL:
        raise ValueError(f"invalid export URL: {export_source_name(url)}") from None
    if parsed_url.scheme not in ("http", "https") or not parsed_url.host:
        raise ValueError(f"export URL must be http(s)://host/...: {export_source_name(url)}")
    params = {"start": _iso_utc(start, "start"), "end": _iso_utc(end, "end")}
    pager = _Pager(
        url=url,
        token=token,
        params=params,
        max_tries=max_tries,
        timeout_s=timeout_s,
        max_page_bytes=max_page_bytes,
        backoff_base_s=backoff_base_s,
        backoff_max_s=backoff_max_s,
        records_of=records_of or _tokenreview_records,
    )
    return pager.records(client)


RecordsOfItem = Callable[..., Iterable[ExtractedRecord]]


def _tokenreview_records(item: object, **where: object) -> Iterator[ExtractedRecord]:
    yield record_from_object(item, **where)  # type: ignore[arg-type]


class _Pager:
    def __init__(
        self,
        *,
        url: str,
        token: str | None,
        params: dict[str, str],
        max_tries: int,
        timeout_s: float,
        max_page_bytes: int,
        backoff_base_s: float,
        backoff_max_s: float,
        records_of: RecordsOfItem,
    ) -> None:
        self.records_of = records_of
        self.url = url
        self.safe_url = export_source_name(url)
        self._token = token
        self.params = params
        self.max_tries = max_tries
        self.timeout_s = timeout_s
        self.max_page_bytes = max_page_bytes
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s

    def _scrub(self, text: str) -> str:
        if self._token:
            text = text.replace(self._token, "***")
        return redact_text(text)[0]

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if self._token is not None:
            headers["Authorization"] = f"Bearer {self._token}"
        return headers

    def records(self, client: httpx.Client | None) -> Iterator[ExtractedRecord]:
        own_client = client is None
        http = client if client is not None else httpx.Client(follow_redirects=True)
        try:
            cursor: str | None = None
            seen: set[str] = set()
            page = 0
            while True:
                page += 1
                params = dict(self.params)
                if cursor is not None:
                    params["cursor"] = cursor
                content = self._fetch(http, params, page)
                data, next_cursor = self._parse(content, page)
                for index, item in enumerate(data, start=1):
                    yield from self.records_of(
                        item,
                        raw_text=json.dumps(item, ensure_ascii=False),
                        source_name=self.safe_url,
                        source_line=index,
                        source_page=page,
                    )
                if next_cursor is None:
                    return
                if next_cursor in seen:
                    raise ExportApiError(
                        f"export API {self.safe_url}: page {page} returned a cursor that was "
                        "already used (pagination loop)"
                    )
                seen.add(next_cursor)
                cursor = next_cursor
        finally:
            if own_client:
                http.close()

    def _delay(self, tries_done: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.backoff_max_s)
        ceiling = min(self.backoff_max_s, self.backoff_base_s * (2 ** (tries_done - 1)))
        return random.uniform(0.0, ceiling)

    def _fetch(self, http: httpx.Client, params: dict[str, str], page: int) -> bytes:
        where = f"export API {self.safe_url} page {page}"
        # Merge with any query the configured URL already has (httpx's `params=` replaces it).
        request_url = httpx.URL(self.url).copy_merge_params(params)
        for tries in range(1, self.max_tries + 1):
            retry_after: float | None = None
            try:
                response = bounded_get(
                    http,
                    request_url,
                    headers=self._headers(),
                    deadline_s=self.timeout_s,
                    max_bytes=self.max_page_bytes,
                )
            except FetchTooLargeError as exc:
                raise ExportApiError(f"{where}: {exc}; not retried") from None
            except FetchLimitError as exc:
                problem = str(exc)
            except httpx.TransportError as exc:
                problem = f"{type(exc).__name__}: {self._scrub(str(exc)) or 'no detail'}"
            except httpx.HTTPError as exc:
                raise ExportApiError(
                    f"{where}: request failed ({type(exc).__name__}: {self._scrub(str(exc))}); "
                    "not retried"
                ) from None
            else:
                status = response.status_code
                if 200 <= status < 300:
                    return response.content
                if status == 429 or 500 <= status <= 599:
                    problem = f"HTTP {status}"
                    retry_after = parse_retry_after(response.headers.get("Retry-After"))
                else:
                    raise ExportApiError(
                        f"{where}: HTTP {status} {response.reason_phrase}; not retried"
                        f"{self._snippet(response)}"
                    )
            if tries == self.max_tries:
                raise ExportApiError(f"{where}: gave up after {tries} tries; last error: {problem}")
            delay = self._delay(tries, retry_after)
            logger.warning(
                "%s: %s (try %d of %d); retrying in %.2f s%s",
                where,
                problem,
                tries,
                self.max_tries,
                delay,
                " (Retry-After)" if retry_after is not None else "",
            )
            _sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _snippet(self, response: FetchedResponse) -> str:
        try:
            text = response.text
        except Exception:  # noqa: BLE001 - a body we cannot decode is simply not shown
            return ""
        text = " ".join(text.split())[:_MAX_BODY_SNIPPET]
        return f": {self._scrub(text)}" if text else ""

    def _parse(self, content: bytes, page: int) -> tuple[list[object], str | None]:
        where = f"export API {self.safe_url} page {page}"
        try:
            body = json.loads(content)
        except (ValueError, RecursionError):
            raise ExportApiError(f"{where}: response body is not JSON") from None
        if not isinstance(body, dict):
            raise ExportApiError(f"{where}: response body is not a JSON object")
        data = body.get("data")
        if not isinstance(data, list):
            raise ExportApiError(f"{where}: response body has no 'data' list")
        if "next_cursor" not in body:
            raise ExportApiError(f"{where}: response body has no 'next_cursor'")
        next_cursor = body["next_cursor"]
        if next_cursor is not None and (not isinstance(next_cursor, str) or not next_cursor):
            raise ExportApiError(f"{where}: 'next_cursor' is not null or a non-empty string")
        return data, next_cursor
