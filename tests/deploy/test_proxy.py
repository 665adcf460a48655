"""Behind a reverse proxy: the failed-authentication limiter counts the client named in
X-Forwarded-For when (and only when) the request comes from a trusted proxy."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from sextant.cli.main import uvicorn_options
from sextant.demo.setup import DemoFiles
from sextant.errors import ConfigurationError
from sextant.http import create_app
from sextant.service import Sextant
from sextant.settings import Settings
from tests.conftest import make_settings
from tests.servers import serve


@contextmanager
def served(demo: DemoFiles, trusted: str) -> Iterator[str]:
    settings = make_settings(
        demo.data_dir, config=demo.model, trusted_proxies=trusted, auth_max_failures=3
    )
    service = Sextant(settings)
    try:
        service.apply()
        options = uvicorn_options(settings)
        with serve(
            create_app(settings, service),
            proxy_headers=options["proxy_headers"],
            forwarded_allow_ips=options["forwarded_allow_ips"],
        ) as url:
            yield url + "/api/agent/v1/ping"
    finally:
        service.close()


def _bad(url: str, client: str) -> int:
    headers = {"Authorization": "Bearer not.a.token", "X-Forwarded-For": f"203.0.113.9, {client}"}
    return httpx.get(url, headers=headers).status_code


def test_trusted_proxy_forwards_the_client_address(demo: DemoFiles) -> None:
    with served(demo, "127.0.0.1") as url:
        assert [_bad(url, "198.51.100.1") for _ in range(4)] == [401, 401, 401, 429]
        # another client behind the same proxy is not locked out with it
        assert _bad(url, "198.51.100.2") == 401


def test_untrusted_peer_cannot_choose_its_address(demo: DemoFiles) -> None:
    """With no trusted proxy, X-Forwarded-For is ignored: varying it does not dodge the
    limiter, every attempt counts for the peer's own address."""
    with served(demo, "") as url:
        codes = [_bad(url, f"198.51.100.{i}") for i in range(4)]
        assert codes == [401, 401, 401, 429]


def test_sextant_serve_passes_the_trusted_proxies(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {"SEXTANT_TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.7"}, data_dir=tmp_path
    )
    options = uvicorn_options(settings)
    assert options["proxy_headers"] is True
    assert options["forwarded_allow_ips"] == ["10.0.0.0/8", "192.168.1.7"]
    with pytest.raises(ConfigurationError, match="'nginx' is not an IP address or network"):
        Settings.from_env({"SEXTANT_TRUSTED_PROXIES": "nginx"}, data_dir=tmp_path)


def test_no_proxy_is_trusted_by_default_off_loopback(tmp_path: Path) -> None:
    """A local client could rotate X-Forwarded-For through the default 127.0.0.1; a server
    listening elsewhere trusts no proxy until one is configured."""
    loopback = Settings.from_env({}, data_dir=tmp_path)
    assert uvicorn_options(loopback)["forwarded_allow_ips"] == ["127.0.0.1"]
    public = Settings.from_env({"SEXTANT_HOST": "0.0.0.0"}, data_dir=tmp_path)
    assert uvicorn_options(public)["forwarded_allow_ips"] == []
    configured = Settings.from_env(
        {"SEXTANT_HOST": "0.0.0.0", "SEXTANT_TRUSTED_PROXIES": "10.1.2.3"}, data_dir=tmp_path
    )
    assert uvicorn_options(configured)["forwarded_allow_ips"] == ["10.1.2.3"]
