"""The README's two commands on a fresh copy of the repository, as an ordinary user whose PATH
has no apt-get and no sudo; then every command the demo banner prints, as printed.

Found: `make demo` needed root and apt (MariaDB headers for a driver the demo never uses) and
built a 1.2 GB environment; the banner's commands failed from the demo's folder.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
HIDDEN = ("apt", "sudo", "dpkg", "su")  # what an ordinary user cannot use to install


def _tracked_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO, capture_output=True, check=True,
    ).stdout  # fmt: skip
    return [p for p in listed.decode().split("\0") if p and (REPO / p).is_file()]


def _path_without_installers(target: Path) -> str:
    """A PATH with every program of the system's bin folders except apt*, sudo, dpkg*, su."""
    target.mkdir()
    for folder in ("/usr/local/bin", "/usr/bin", "/bin"):
        if not os.path.isdir(folder):
            continue
        for entry in sorted(os.listdir(folder)):
            if entry.startswith(HIDDEN) or (target / entry).exists():
                continue
            (target / entry).symlink_to(os.path.join(folder, entry))
    return str(target)


def _as_user(home: Path) -> tuple[Callable[[], None] | None, int | None]:
    """Drop root to ``nobody`` (an ordinary user); a non-root run stays itself."""
    if os.getuid() != 0:
        return None, None
    import pwd

    nobody = pwd.getpwnam("nobody")

    def demote() -> None:
        os.setgroups([])
        os.setgid(nobody.pw_gid)
        os.setuid(nobody.pw_uid)

    for root, dirs, files in os.walk(home):
        for name in dirs + files:
            os.lchown(os.path.join(root, name), nobody.pw_uid, nobody.pw_gid)
    os.lchown(home, nobody.pw_uid, nobody.pw_gid)
    return demote, nobody.pw_uid


@pytest.fixture
def place() -> Iterator[Path]:
    """A folder an ordinary user can reach (pytest's own temporary folders are root's only)."""
    made = Path(tempfile.mkdtemp(prefix="sextant-fresh-clone-"))
    made.chmod(0o755)
    try:
        yield made
    finally:
        shutil.rmtree(made, ignore_errors=True)


@pytest.mark.slow
def test_readme_commands_on_a_fresh_copy_as_an_ordinary_user(place: Path) -> None:
    if shutil.which("make") is None or not os.path.exists("/usr/bin/python3"):
        pytest.fail("make and a system python3 are needed to test the README's commands")
    tmp_path = place
    home = tmp_path / "home"
    clone = home / "sextant"
    for relative in _tracked_files():
        (clone / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / relative, clone / relative)
    # a uv cache kept between runs (downloads only), owned by the user that runs make
    cache = Path(tempfile.gettempdir()) / "sextant-fresh-clone-uv-cache"
    cache.mkdir(exist_ok=True)
    demote, uid = _as_user(home)
    if uid is not None:
        for root, dirs, files in os.walk(cache):
            for name in dirs + files:
                os.lchown(os.path.join(root, name), uid, -1)
        os.lchown(cache, uid, -1)
    env = {
        "HOME": str(home),
        "PATH": _path_without_installers(tmp_path / "bin"),
        "UV_CACHE_DIR": str(cache),
        "PYTHON": "/usr/bin/python3",
        **{
            k: v for k, v in os.environ.items() if k.endswith(("_CERT_FILE", "_CERT", "_CA_BUNDLE"))
        },
        **{k: v for k, v in os.environ.items() if k.startswith(("PIP_", "UV_INDEX", "LANG"))},
    }
    assert shutil.which("apt-get", path=env["PATH"]) is None
    assert shutil.which("sudo", path=env["PATH"]) is None

    def run(command: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "-c", command], cwd=clone, env=env, capture_output=True, text=True,
            timeout=timeout, preexec_fn=demote,
        )  # fmt: skip

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    demo = subprocess.Popen(
        ["make", "demo", f"DEMO_ARGS=--port {port}"], cwd=clone, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, preexec_fn=demote,
        start_new_session=True,  # make and the server it starts: one group to interrupt
    )  # fmt: skip
    assert demo.stdout is not None
    stdout = demo.stdout
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(stdout.readline, "")))
    reader.start()
    figures: dict[str, Any] = {}
    try:
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline and demo.poll() is None:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/agent/v1/ping", timeout=1).status_code:
                    break
            except httpx.TransportError:
                time.sleep(0.5)
        assert demo.poll() is None, "".join(lines)
        commands = [line.strip() for line in "".join(lines).splitlines() if line.startswith("    ")]
        assert len(commands) == 5, "".join(lines)
        for command in commands:
            done = run(command, timeout=120)
            assert done.returncode == 0, (command, done.stdout, done.stderr)
            assert "error" not in done.stdout.lower(), (command, done.stdout)
            if "/ping" in command:
                assert done.stdout.strip() == '{"message":"pong"}'
        # the core only: DuckDB's needs, no pandas, no MySQL driver, no Spark, no test tools
        for module in ("pandas", "MySQLdb", "pyspark", "pytest"):
            absent = run(f".venv/bin/python -c 'import {module}'")
            assert absent.returncode != 0, module
        size = run("du -sm --exclude=__pycache__ .venv | cut -f1")
        figures["core_mb"] = int(size.stdout.strip())
        # the README reports it (527 MB on Linux x86-64); this bound catches a driver or a tool
        # slipping back into the core
        assert figures["core_mb"] < 560, figures
        # another engine says which extra it needs
        model = clone / "sextant-demo" / "sextant.yaml"
        text = model.read_text().replace(
            "duckdb://warehouse.duckdb", "postgresql://postgres@127.0.0.1:5432/test"
        )
        (clone / "pg.yaml").write_text(text)
        (clone / "pg.yaml").chmod(0o644)
        checked = run(".venv/bin/sextant check pg.yaml")
        assert checked.returncode == 1
        assert "make install EXTRAS=postgres" in checked.stderr, checked.stderr
    finally:
        os.killpg(demo.pid, signal.SIGINT)  # as Ctrl-C in the terminal does
        try:
            demo.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(demo.pid, signal.SIGKILL)
            demo.wait()
        reader.join(30)  # ends when the server, the last writer of the pipe, has exited
        assert not reader.is_alive(), "the demo server outlived make"
        stdout.close()
    # the second README command installs what the suite needs (drivers, test tools) and runs it
    tested = run("make test PYTEST_ARGS='-q -p no:cacheprovider tests/unit/test_tokens.py'")
    assert tested.returncode == 0, tested.stdout[-3000:] + tested.stderr[-3000:]
    assert " passed" in tested.stdout
    print(f"core environment: {figures['core_mb']} MB")
