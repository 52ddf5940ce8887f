"""Fetch a provider's file URL to disk: https only, public hosts only, size-capped, retried.

The URL comes from a provider's answer, so it is checked like user input: a URL (or a redirect)
pointing at loopback or a private network could reach services that should never be fetched.
The check resolves the host itself; a DNS answer that changes between the check and the
connection (rebinding) is not covered here.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urljoin, urlsplit

import httpx

from providers.errors import (
    InvalidRequest,
    InvalidResponse,
    ProviderTimeout,
    RateLimited,
    TooLarge,
    Unavailable,
)
from providers.retry import RetryPolicy, parse_retry_after

log = logging.getLogger(__name__)

CHUNK_BYTES = 64 * 1024
MAX_REDIRECTS = 5


class _ServerBusy(Unavailable):
    """A 5xx that named a Retry-After; callers see a plain Unavailable."""

    def __init__(self, provider: str, reason: str, retry_after: float | None) -> None:
        super().__init__(provider, reason)
        self.retry_after = retry_after


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


async def _resolve(host: str, port: int, provider: str) -> list[str]:
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise Unavailable(provider, f"the download host {host} could not be resolved") from exc
    return [str(info[4][0]) for info in infos]


def _split(url: str, schemes: set[str], provider: str) -> tuple[str, int]:
    """Host and port of an acceptable URL, or InvalidRequest."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError as exc:  # a malformed port or IPv6 literal
        raise InvalidRequest(provider, "the download URL is not a valid https URL") from exc
    if parts.scheme not in schemes or not host:
        raise InvalidRequest(provider, "the download URL is not a valid https URL")
    if parts.username is not None or parts.password is not None:
        raise InvalidRequest(provider, "the download URL carries credentials")
    return host, port or (443 if parts.scheme == "https" else 80)


async def check_url(url: str, provider: str, *, allow_private: bool = False) -> None:
    """Refuse anything but https to public addresses (http and private hosts when allowed)."""
    host, port = _split(url, {"https", "http"} if allow_private else {"https"}, provider)
    if allow_private:
        return
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        addresses = await _resolve(host, port, provider)
    if not addresses or not all(_is_public(address) for address in addresses):
        raise InvalidRequest(provider, "the download URL points at a private or local address")


def _status_error(response: httpx.Response, provider: str) -> Exception:
    code = response.status_code
    retry_after = parse_retry_after(response.headers.get("retry-after"))
    if code == 429:
        return RateLimited(provider, "too many download requests", retry_after)
    if code == 408:
        return ProviderTimeout(provider, "the download timed out on the server")
    if code >= 500:
        return _ServerBusy(provider, f"the file server failed (HTTP {code})", retry_after)
    if code in (404, 410):
        return InvalidResponse(provider, f"the file is gone (HTTP {code})")
    return InvalidResponse(provider, f"the file server refused the download (HTTP {code})")


def _transport_error(exc: httpx.HTTPError, provider: str) -> Exception:
    if isinstance(exc, httpx.TimeoutException):
        return ProviderTimeout(provider, "the download timed out")
    if isinstance(exc, httpx.TransportError):
        return Unavailable(provider, "the file server could not be reached")
    return InvalidResponse(provider, "the download failed")


class Downloader:
    """Streams one URL to a file per call through a shared, injected httpx client."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        provider: str,
        *,
        allow_private: bool = False,
        retry: RetryPolicy | None = None,
    ) -> None:
        self._http = http
        self._provider = provider
        self._allow_private = allow_private
        self._retry = retry or RetryPolicy()

    async def fetch(self, url: str, dest: Path, max_bytes: int) -> int:
        """Write the body at `url` to `dest`; no partial file survives a failure."""
        await check_url(url, self._provider, allow_private=self._allow_private)
        return await self._retry.call(lambda: self._attempt(url, dest, max_bytes))

    async def _attempt(self, url: str, dest: Path, max_bytes: int) -> int:
        try:
            response = await self._open(url)
        except httpx.HTTPError as exc:
            raise _transport_error(exc, self._provider) from exc
        try:
            return await self._save(response, dest, max_bytes)
        except httpx.HTTPError as exc:
            raise _transport_error(exc, self._provider) from exc
        finally:
            await response.aclose()

    async def _open(self, url: str) -> httpx.Response:
        """GET `url`, following redirects by hand so every hop passes `check_url`."""
        for _ in range(MAX_REDIRECTS + 1):
            request = self._http.build_request("GET", url)
            response = await self._http.send(request, stream=True, follow_redirects=False)
            if not response.is_redirect:
                if response.is_success:
                    return response
                await response.aclose()
                raise _status_error(response, self._provider)
            await response.aclose()
            url = urljoin(url, response.headers["location"])
            await check_url(url, self._provider, allow_private=self._allow_private)
        raise InvalidResponse(self._provider, "the download redirected too often")

    async def _save(self, response: httpx.Response, dest: Path, max_bytes: int) -> int:
        declared = response.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_bytes:
            raise self._too_large(int(declared), max_bytes)
        handle = await asyncio.to_thread(dest.open, "wb")
        try:
            size = 0
            async for chunk in response.aiter_bytes(CHUNK_BYTES):
                size += len(chunk)
                if size > max_bytes:
                    raise self._too_large(size, max_bytes)
                await asyncio.to_thread(handle.write, chunk)
        except BaseException:
            await asyncio.to_thread(_discard, handle, dest)
            raise
        await asyncio.to_thread(handle.close)
        return size

    def _too_large(self, size: int, max_bytes: int) -> TooLarge:
        return TooLarge(self._provider, f"the file exceeds {max_bytes} bytes (at least {size})")


def _discard(handle: BinaryIO, dest: Path) -> None:
    handle.close()
    dest.unlink(missing_ok=True)
