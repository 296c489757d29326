"""One bounded HTTP GET: a total deadline and a size cap, whatever the server does.

httpx's timeouts bound each network operation, not the whole fetch: a server that
trickles one byte every few seconds never trips a 30 s read timeout and can hold a run
for hours, and one that streams without end fills memory. ``bounded_get`` streams the
body and stops at ``deadline_s`` after the request started or at ``max_bytes``,
raising ``FetchLimitError``. Each network read waits at most ``READ_TIMEOUT_CAP_S`` (or
the time left), so the deadline is overrun by at most one such read.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx

READ_TIMEOUT_CAP_S = 5.0


class FetchLimitError(RuntimeError):
    """The fetch passed its deadline or its size cap (the message says which)."""


class FetchTooLargeError(FetchLimitError):
    """The body is larger than the cap (retrying cannot help)."""


@dataclass(frozen=True)
class FetchedResponse:
    status_code: int
    reason_phrase: str
    headers: httpx.Headers
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")


def bounded_get(
    client: httpx.Client,
    url: httpx.URL | str,
    *,
    headers: dict[str, str] | None = None,
    deadline_s: float,
    max_bytes: int,
) -> FetchedResponse:
    """GET ``url``; raise ``FetchLimitError`` past ``deadline_s`` seconds or ``max_bytes``
    bytes of body, ``httpx.HTTPError`` on transport errors."""
    start = time.monotonic()
    read = min(deadline_s, READ_TIMEOUT_CAP_S)
    timeout = httpx.Timeout(connect=deadline_s, read=read, write=deadline_s, pool=deadline_s)
    with client.stream("GET", url, headers=headers, timeout=timeout) as response:
        declared = response.headers.get("Content-Length")
        if declared is not None and declared.isdigit() and int(declared) > max_bytes:
            raise FetchTooLargeError(
                f"the response is {int(declared):,} bytes, over the size cap of {max_bytes:,} bytes"
            )
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > max_bytes:
                raise FetchTooLargeError(f"the response passed the size cap of {max_bytes:,} bytes")
            if time.monotonic() - start > deadline_s:
                raise FetchLimitError(f"the response took longer than {deadline_s:g} s")
            chunks.append(chunk)
        return FetchedResponse(
            response.status_code, response.reason_phrase, response.headers, b"".join(chunks)
        )
