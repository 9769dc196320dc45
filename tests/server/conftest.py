"""Real ``gitsync server run`` processes on 127.0.0.1 with ports they pick, and their users.

- ``server_root``: ``server init`` (private or not) with an admin and three staff users
  (alice, bob, carol; password ``<name>-password``).
- ``start_server``: start ``gitsync server run ROOT --port 0`` and wait for its URL;
  every server started is stopped after the test.
- ``person``: a user with a home of their own (config, credential store, identity),
  running gitsync and git in real processes.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import Result

USERS = (("admin", "admin"), ("alice", "staff"), ("bob", "staff"), ("carol", "staff"))


def password_of(name: str) -> str:
    return f"{name}-password"


@dataclass
class Server:
    root: Path
    url: str
    proc: subprocess.Popen[str]
    log: Path

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)

    def file_url(self, path: str) -> str:
        from urllib.parse import quote

        return f"{self.url}/git/{quote(path)}"


@dataclass
class Person:
    """One user at their own machine: a home, a git identity, the gitsync CLI."""

    name: str
    home: Path
    env: dict[str, str] = field(default_factory=dict)

    def run(
        self,
        *args: object,
        cwd: Path | None = None,
        input: str | None = None,
        extra_env: dict[str, str] | None = None,
    ) -> Result:
        proc = subprocess.run(
            [sys.executable, "-m", "gitsync", *[str(a) for a in args]],
            cwd=cwd or self.home,
            capture_output=True,
            text=True,
            input=input,
            env=self.env | (extra_env or {}),
            check=False,
            timeout=300,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)

    def ok(self, *args: object, cwd: Path | None = None, input: str | None = None) -> Result:
        result = self.run(*args, cwd=cwd, input=input)
        assert result.code == 0, f"{args}: {result.stderr}"
        return result

    def git(
        self, *args: str, cwd: Path | None = None, check: bool = True, input: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["git", *args],
            cwd=cwd or self.home,
            capture_output=True,
            text=True,
            env=self.env,
            check=check,
            input=input,
            timeout=300,
        )

    def sign_in(self, server: Server, label: str = "office", *, stock_git: bool = True) -> None:
        self.ok("server", "add", server.url, "--label", label)
        self.ok(
            "login",
            label,
            "--user",
            self.name,
            "--password-stdin",
            input=password_of(self.name) + "\n",
        )
        if stock_git:
            self.use_gitsync_credentials()

    def use_gitsync_credentials(self) -> None:
        """What the README tells a user who wants a stock git to use gitsync's tokens too."""
        store = self.home / ".config" / "gitsync" / "credentials"
        self.git("config", "--global", "credential.helper", f"store --file={store}")


def _init_root(root: Path, private: bool) -> None:
    """``server init`` and one ``server user add`` per user, each a real process."""
    args = ["server", "init", str(root)] + (["--private"] if private else [])
    init = subprocess.run(
        [sys.executable, "-m", "gitsync", *args], capture_output=True, text=True, check=False
    )
    assert init.returncode == 0, init.stderr
    for name, role in USERS:
        add = ["server", "user", "add", name, "--role", role, "--password-stdin", "--root"]
        proc = subprocess.run(
            [sys.executable, "-m", "gitsync", *add, str(root)],
            input=password_of(name) + "\n",
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr


@pytest.fixture(scope="session")
def pristine_server_roots(tmp_path_factory: pytest.TempPathFactory) -> Callable[[bool], Path]:
    """Server roots made once per session, public and private, with the four users.

    Each ``server user add`` hashes a password with argon2 (0.4 s here) in a
    process that imports SQLAlchemy: four users cost four seconds, which every
    server test paid. A test gets a copy of a pristine root instead; the
    catalogue is a SQLite file named relative to the root, so the copy is a
    root of its own.
    """
    made: dict[bool, Path] = {}

    def pristine(private: bool) -> Path:
        if private not in made:
            root = tmp_path_factory.mktemp("server-roots") / ("private" if private else "public")
            _init_root(root, private)
            made[private] = root
        return made[private]

    return pristine


@pytest.fixture
def server_root(
    tmp_path: Path, pristine_server_roots: Callable[[bool], Path]
) -> Callable[..., Path]:
    def make(private: bool = False) -> Path:
        root = tmp_path / "server-root"
        shutil.copytree(pristine_server_roots(private), root, symlinks=True)
        return root

    return make


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    started: list[Server] = []

    def start(root: Path, port: int = 0) -> Server:
        log = tmp_path / f"server-{len(started)}.log"
        err = log.open("w")
        env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        proc = subprocess.Popen(
            [sys.executable, "-m", "gitsync", "server", "run", str(root), "--port", str(port)],
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            env=env,
        )
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.search(r"(http://127\.0\.0\.1:\d+)", line)
        if not match:
            proc.kill()
            raise AssertionError(f"server did not start: {line!r} {log.read_text()}")
        server = Server(root, match.group(1), proc, log)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def person(tmp_path: Path) -> Callable[[str], Person]:
    made: dict[str, Person] = {}

    def make(name: str) -> Person:
        if name in made:
            return made[name]
        home = tmp_path / f"home-{name}"
        (home / ".config").mkdir(parents=True)
        (home / ".gitconfig").write_text(
            f"[user]\n\tname = {name}\n\temail = {name}@example.com\n"
            "[init]\n\tdefaultBranch = main\n",
            encoding="utf-8",
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "GITSYNC_"))}
        env |= {
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_TERMINAL_PROMPT": "0",
            "GITSYNC_USER": name,
            "GIT_AUTHOR_NAME": name,
            "GIT_AUTHOR_EMAIL": f"{name}@example.com",
            "GIT_COMMITTER_NAME": name,
            "GIT_COMMITTER_EMAIL": f"{name}@example.com",
        }
        made[name] = Person(name, home, env)
        return made[name]

    return make


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()
