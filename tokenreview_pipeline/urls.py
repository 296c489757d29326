"""URLs as the ledger, logs and messages may hold them (SPEC 2.5).

Credentials in a configured URL are never stored or shown: a URL keeps its scheme,
host, port and path and drops user, password, query and fragment (an API key is often
passed as ``?api_key=``). A value without a scheme (a relative file path) is kept.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit


def safe_url(url: str) -> str:
    """``url`` without userinfo, query string or fragment."""
    try:
        parts = urlsplit(url)
        if not parts.scheme or len(parts.scheme) == 1:  # a path (or a Windows drive)
            return url
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        netloc = f"{host}:{parts.port}" if parts.port is not None else host
        return urlunsplit((parts.scheme, netloc, parts.path, "", ""))
    except ValueError:
        return "<unparseable url>"
