"""A throwaway PostgreSQL server on loopback for the store tests (and the store benchmark).

Debian's `postgresql` package: initdb and pg_ctl in a temporary folder, on a free 127.0.0.1
port, as a non-root user (a system user `wahdx-pg`, made when missing, when we run as root).
Without the package the tests skip with one line saying how to get it, or fail when `CI` is set.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from glob import glob
from pathlib import Path
from typing import Any

PG_SYSTEM_USER = "wahdx-pg"
APP_ROLE = "wahdx"
INSTALL_HINT = (
    "PostgreSQL is not installed, so the PostgreSQL store tests cannot run:"
    " apt-get install postgresql (make test does it when run as root)"
)


def find_bindir() -> Path | None:
    """The directory holding initdb and pg_ctl: $WAHDX_PG_BIN only when set, else Debian's
    newest, else the one on $PATH."""
    env = os.environ.get("WAHDX_PG_BIN")
    if env:
        path = Path(env)
        return path if (path / "initdb").is_file() and (path / "pg_ctl").is_file() else None
    candidates: list[Path] = []

    def version(path: str) -> tuple[int, ...]:
        found = re.search(r"postgresql/([\d.]+)/bin", path)
        return tuple(int(x) for x in found[1].split(".") if x) if found else (0,)

    candidates += [Path(p) for p in sorted(glob("/usr/lib/postgresql/*/bin"), key=version)[::-1]]
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    for path in candidates:
        if (path / "initdb").is_file() and (path / "pg_ctl").is_file():
            return path
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgServer:
    """One PostgreSQL cluster in a temporary folder; stop() removes it all."""

    def __init__(self, bindir: Path, *, durable: bool = False) -> None:
        self.bindir = bindir
        self.durable = durable  # fsync on (as a real server): for measuring, not for tests
        self.password = "pw-" + secrets.token_hex(12)  # new each run: tests look for it in errors
        self.root = Path(tempfile.mkdtemp(prefix="wahdx-pg-"))
        self.data = self.root / "data"
        self.sock = self.root / "sock"
        self.log = self.root / "server.log"
        self.port = 0
        self._prefix: list[str] = []
        self._names = itertools.count(1)
        self.sock.mkdir()
        if os.geteuid() == 0:
            user = self._system_user()
            os.chown(self.root, user.pw_uid, user.pw_gid)
            os.chown(self.sock, user.pw_uid, user.pw_gid)
            self._prefix = ["runuser", "-u", PG_SYSTEM_USER, "--"]
        pwfile = self.root / "pw"
        pwfile.write_text(secrets.token_hex(16) + "\n")
        if self._prefix:
            os.chown(pwfile, pwd.getpwnam(PG_SYSTEM_USER).pw_uid, -1)
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--no-locale",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            f"--pwfile={pwfile}",
            "--no-sync",
            "--no-instructions",
        )
        pwfile.unlink()

    @staticmethod
    def _system_user() -> pwd.struct_passwd:
        try:
            return pwd.getpwnam(PG_SYSTEM_USER)
        except KeyError:
            subprocess.run(
                (
                    "useradd",
                    "--system",
                    "--no-create-home",
                    "--shell",
                    "/usr/sbin/nologin",
                    PG_SYSTEM_USER,
                ),
                check=True,
                capture_output=True,
            )
            return pwd.getpwnam(PG_SYSTEM_USER)

    def _run(self, tool: str, *args: str) -> None:
        cmd = [*self._prefix, str(self.bindir / tool), *args]
        done = subprocess.run(cmd, cwd=self.root, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{tool} failed ({done.returncode}): {done.stderr.strip()[-800:]}")

    # -- running ----------------------------------------------------------------------------

    def start(self) -> None:
        """Start (or start again, on the same port once it has one)."""
        tries = 1 if self.port else 5
        for attempt in range(tries):
            port = self.port or _free_port()
            options = (
                f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={self.sock}"
                " -c max_connections=200"
            )
            if not self.durable:
                options += " -c fsync=off -c full_page_writes=off"
            try:
                self._run(
                    "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60",
                    "-o", options, "start",
                )  # fmt: skip
            except RuntimeError:
                if attempt == tries - 1:
                    raise RuntimeError(f"PostgreSQL did not start: {self.log_tail()}") from None
                continue
            self.port = port
            return

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (mode fast: ends every connection; immediate: like a crash)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def remove(self) -> None:
        """Stop if running and delete the folder."""
        with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def log_tail(self) -> str:
        """The end of the server log, for a failure message."""
        try:
            return self.log.read_text(errors="replace")[-1500:]
        except OSError:
            return "(no log)"

    # -- databases --------------------------------------------------------------------------

    def admin(self, dbname: str = "postgres") -> Any:
        """A superuser connection over the unix socket (autocommit)."""
        import psycopg

        return psycopg.connect(
            host=str(self.sock), port=self.port, user="postgres", dbname=dbname, autocommit=True
        )

    def create_database(self) -> str:
        """A new empty database owned by the application role; returns its name."""
        name = f"wahdx_test_{next(self._names)}"
        with self.admin() as conn:
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (APP_ROLE,))
            if exists.fetchone() is None:
                conn.execute(
                    f"CREATE ROLE {APP_ROLE} LOGIN PASSWORD '{self.password}'"  # our own hex
                )
            conn.execute(f"CREATE DATABASE {name} OWNER {APP_ROLE}")
        return name

    def drop_database(self, name: str) -> None:
        """Drop a database, ending any connection still on it."""
        with self.admin() as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def url(self, dbname: str, *, password: bool = True) -> str:
        """postgresql://wahdx:PASSWORD@127.0.0.1:PORT/DB (without the password if asked)."""
        secret = f":{self.password}" if password else ""
        return f"postgresql://{APP_ROLE}{secret}@127.0.0.1:{self.port}/{dbname}"


# -- pytest ----------------------------------------------------------------------------------

_server: PgServer | None = None
_broken: str | None = None
_said = False


def _shared_server(config: Any) -> PgServer:
    """One server per test session, however many modules import the fixture."""
    import pytest

    global _server, _broken, _said
    if _server is not None:
        return _server
    if _broken is None:
        bindir = find_bindir()
        if bindir is None:
            _broken = INSTALL_HINT
        else:
            try:
                server = PgServer(bindir)
                config.add_cleanup(server.remove)
                server.start()
                _server = server
                return server
            except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
                # Installed but not working is a real failure, on any machine.
                pytest.fail(f"cannot start a throwaway PostgreSQL server: {exc}")
    if os.environ.get("CI"):
        pytest.fail(f"{_broken}; CI requires them (.ci/run installs PostgreSQL)")
    if not _said:
        _said = True
        config.pluginmanager.register(_SayWhy(_broken), "wahdx-pg-skipped")
    pytest.skip(_broken)


class _SayWhy:
    """Adds one line to pytest's closing summary: why the PostgreSQL tests were skipped."""

    def __init__(self, why: str) -> None:
        self.why = why

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        terminalreporter.write_line(f"skipped: {self.why}")


def pg_server_fixture() -> Any:
    """Build the session fixture `pg_server` (imported by the test modules that need it)."""
    import pytest

    @pytest.fixture(scope="session")
    def pg_server(request: Any) -> PgServer:
        return _shared_server(request.config)

    return pg_server


pg_server = pg_server_fixture()


def fresh_database(server: PgServer) -> Iterator[str]:
    """A new database for one test, dropped after it; yields its name."""
    name = server.create_database()
    try:
        yield name
    finally:
        server.drop_database(name)
