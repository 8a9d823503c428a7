"""`equityflow up` as a user runs it: one process, nothing installed, stopped with Ctrl-C.

No DATABASE_URL and no AMQP_URL: the process starts its own PostgreSQL (the embedded server, in
the data folder) and the in-memory broker. An FMP Disposition Notice sent over HTTP is applied,
its deadline (FMP §6(d)(iii): 30 days) is recorded by the notices service, and with the simulated
clock advanced 31 days the deadlines service fires the election deadline through the broker: the
owner's 30-day sale window opens (FMP §6(d)(iv)). Ctrl-C stops everything, the database too.
The first start writes a local admin key to the data folder (readable by its owner only) and
says where: the HTTP calls use it, as the README's curl examples do.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import stat
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
T = TypeVar("T")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One data folder for the module: the embedded server is initialised once, then reused."""
    return tmp_path_factory.mktemp("up")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _alive(pid: int) -> bool:
    """True if the process runs (a zombie awaiting its reaper has stopped)."""
    stat = Path(f"/proc/{pid}/stat")
    if stat.parent.parent.is_dir():
        try:
            return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
        except (FileNotFoundError, ProcessLookupError):
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def _eventually(check: Callable[[], Awaitable[T]], within: float, what: str) -> T:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        try:
            if result := await check():
                return result
        except (httpx.TransportError, OSError):
            pass  # not listening yet
        if loop.time() > deadline:
            raise AssertionError(f"{what}: not within {within:.0f} s")
        await asyncio.sleep(0.2)


class Up:
    """A running ``equityflow up`` in its own process."""

    def __init__(self, data_dir: Path, *args: str) -> None:
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in {"DATABASE_URL", "AMQP_URL"} and not k.startswith("EQUITYFLOW_")
        }
        env.update(
            EQUITYFLOW_DATA_DIR=str(data_dir),
            EQUITYFLOW_POLL_INTERVAL="0.1",
            PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])),
        )
        self.port = _free_port()
        self.data_dir = data_dir
        self.log = data_dir / f"up-{self.port}.log"
        with self.log.open("wb") as out:
            # Run from the data folder: a developer's .env in the repository must not apply.
            # Its own process group and no terminal, as a launcher or a service manager runs it.
            self.process = subprocess.Popen(
                [sys.executable, "-m", "services.cli", "up", "--port", str(self.port), *args],
                cwd=data_dir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.http = httpx.AsyncClient(base_url=f"http://127.0.0.1:{self.port}", timeout=10)

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    async def healthy(self, within: float = 60.0) -> dict[str, Any]:
        async def health() -> dict[str, Any] | None:
            if self.process.poll() is not None:
                raise AssertionError(f"equityflow up exited early:\n{self.output()}")
            r = await self.http.get("/api/v1/health")
            return r.json() if r.status_code == 200 else None  # type: ignore[no-any-return]

        return await _eventually(health, within, "GET /api/v1/health")

    def use_admin_key(self) -> str:
        """Send the local admin key ``up`` wrote to its data folder, as the README says."""
        key = (self.data_dir / "admin-key").read_text().strip()
        self.http.headers["Authorization"] = f"Bearer {key}"
        return key

    def postmaster_pid(self) -> int:
        return int((self.data_dir / "postgres" / "postmaster.pid").read_text().split()[0])

    async def database(self) -> asyncpg.Connection:
        """A connection to the embedded server, through its socket in the data folder."""
        lines = (self.data_dir / "postgres" / "postmaster.pid").read_text().splitlines()
        port, socket_dir = lines[3].strip(), lines[4].strip()
        return await asyncpg.connect(host=socket_dir, port=port, user="postgres")

    async def stop(self, sig: signal.Signals = signal.SIGINT, within: float = 30.0) -> int:
        await self.http.aclose()
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return await asyncio.to_thread(self.process.wait, within)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            message = f"not stopped {within:.0f} s after {sig.name}:\n{self.output()}"
            raise AssertionError(message) from None


def _stop_leftover_server(data_dir: Path) -> None:
    """A test that failed may leave the embedded server running: stop it (fast shutdown)."""
    pid_file = data_dir / "postgres" / "postmaster.pid"
    if pid_file.exists():
        pid = int(pid_file.read_text().split()[0])
        if _alive(pid):
            os.kill(pid, signal.SIGINT)


@asynccontextmanager
async def running_up(data_dir: Path, *args: str) -> AsyncIterator[Up]:
    up = Up(data_dir, *args)
    try:
        await up.healthy()
        up.use_admin_key()
        yield up
    finally:
        if up.process.poll() is None:
            await up.stop()
        _stop_leftover_server(data_dir)


def _notice(company_workflow: str, delivered_at: datetime) -> dict[str, Any]:
    """FMP §6(d)(ii): the owner's Disposition Notice, delivered in person."""
    return {
        "message_id": f"notice-{company_workflow}",
        "workflow_id": company_workflow,
        "workflow_type": "rofr",
        "command": "deliver_disposition_notice",
        "actor": {"party": "owner", "name": "Alice Owner"},
        "payload": {
            "holder": "alice",
            "shares": 1000,
            "transferee": {"name": "Bob Buyer"},
            "consideration": {"form": "cash", "price_per_share": "2.50"},
            "compliance_proof": "counsel's letter: no breach of FMP §6(b), (c), (g), (h)",
            "notice": {"method": "personal", "delivered_at": delivered_at.isoformat()},
        },
    }


async def _start_transfer(up: Up) -> tuple[str, str]:
    company = f"acme-{uuid.uuid4().hex[:8]}"
    r = await up.http.put(f"/api/v1/companies/{company}", json={"terms_id": "fmp-1998-nso"})
    assert r.status_code == 200, r.text
    now = datetime.fromisoformat((await up.http.get("/api/v1/clock")).json()["now"])
    workflow_id = str(uuid.uuid4())
    notice = _notice(workflow_id, now - timedelta(hours=1))
    r = await up.http.post(f"/api/v1/companies/{company}/commands", json=notice)
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["state"]) == ("applied", "election_window")
    return company, workflow_id


async def test_up_runs_on_its_own_database_and_broker_and_stops_cleanly_on_ctrl_c(
    data_dir: Path,
) -> None:
    async with running_up(data_dir) as up:
        company, workflow_id = await _start_transfer(up)

        listed = (await up.http.get(f"/api/v1/companies/{company}/deadlines")).json()
        [deadline] = listed["deadlines"]
        assert (deadline["workflow_id"], deadline["name"]) == (workflow_id, "election_deadline")
        assert (deadline["party"], deadline["clause"]) == ("company", "FMP §6(d)(iii)")

        # The event travels outbox → relay → in-memory broker → notices service.
        connection = await up.database()
        try:

            async def recorded() -> list[asyncpg.Record]:
                return await connection.fetch(
                    "SELECT party, clause, due_at FROM notices "
                    "WHERE company_id = $1 AND kind = 'deadline'",
                    company,
                )

            [notice] = await _eventually(recorded, 15, "the notices service records the deadline")
        finally:
            await connection.close()
        assert (notice["party"], notice["clause"]) == ("company", "FMP §6(d)(iii)")
        assert notice["due_at"] == datetime.fromisoformat(deadline["due_at"])

        postmaster = up.postmaster_pid()
        assert _alive(postmaster)
        code = await up.stop(signal.SIGINT)

    assert code == 0, up.output()
    assert "Traceback" not in up.output(), up.output()
    assert not _alive(postmaster), "the embedded PostgreSQL is still running"
    assert not (data_dir / "postgres" / "postmaster.pid").exists()


async def test_up_with_the_simulated_clock_fires_the_election_deadline_through_the_broker(
    data_dir: Path,
) -> None:
    async with running_up(data_dir, "--simulated-clock") as up:
        company, workflow_id = await _start_transfer(up)
        path = f"/api/v1/companies/{company}/workflows/{workflow_id}"

        r = await up.http.post("/api/v1/clock/advance", json={"days": 31})
        assert r.status_code == 200, r.text

        async def sale_window_opened() -> dict[str, Any] | None:
            workflow: dict[str, Any] = (await up.http.get(path)).json()
            return workflow if workflow["state"] == "owner_sale_window" else None

        workflow = await _eventually(sale_window_opened, 20, "the election deadline fires")
        assert workflow["version"] == 2
        assert [d["name"] for d in workflow["deadlines"]] == ["sale_window_end"]
        assert workflow["deadlines"][0]["clause"].startswith("FMP §6(d)(iv)")
        fired = workflow["history"][-1]
        assert fired["message"]["timer"] == "election_deadline"
        postmaster = up.postmaster_pid()
        code = await up.stop(signal.SIGINT)

    assert code == 0, up.output()
    assert not _alive(postmaster), "the embedded PostgreSQL is still running"


async def test_up_stops_cleanly_on_sigterm_as_a_container_or_service_manager_stops_it(
    tmp_path: Path,
) -> None:
    async with running_up(tmp_path) as up:
        postmaster = up.postmaster_pid()
        code = await up.stop(signal.SIGTERM)
        left_running = _alive(postmaster)  # before the clean-up of a failed test stops it

    assert code == 0, up.output()
    assert not left_running, "the embedded PostgreSQL is still running"


async def test_ctrl_c_to_the_process_group_twice_stops_cleanly_without_a_traceback(
    data_dir: Path,
) -> None:
    """A launcher that forwards the signal its process group received (``uv run`` does) makes
    the service see Ctrl-C twice: the second one, arriving while the embedded PostgreSQL is
    being stopped, must neither print a traceback nor kill the process halfway."""
    async with running_up(data_dir, "--host", "127.0.0.1") as up:
        postmaster = up.postmaster_pid()
        await up.http.aclose()
        os.killpg(up.process.pid, signal.SIGINT)

        async def server_finished() -> bool:
            return "Finished server process" in up.output() or up.process.poll() is not None

        await _eventually(server_finished, 30, "the HTTP server stops")
        with contextlib.suppress(ProcessLookupError):  # it may be gone already
            os.killpg(up.process.pid, signal.SIGINT)
        code = await asyncio.to_thread(up.process.wait, 30)

    assert code == 0, up.output()
    assert "Traceback" not in up.output(), up.output()
    assert not _alive(postmaster), "the embedded PostgreSQL is still running"


async def test_up_writes_a_local_admin_key_once_says_where_and_never_logs_it(
    tmp_path: Path,
) -> None:
    logs: list[Path] = []
    async with running_up(tmp_path) as up:
        logs.append(up.log)
        key_file = tmp_path / "admin-key"
        key = up.use_admin_key()
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        assert str(key_file) in up.output()
        async with httpx.AsyncClient(base_url=str(up.http.base_url)) as anonymous:
            assert (await anonymous.get("/api/v1/terms")).status_code == 401
        assert (await up.http.get("/api/v1/terms")).status_code == 200
        await up.stop(signal.SIGINT)
    async with running_up(tmp_path) as again:  # the second start reuses the key
        logs.append(again.log)
        assert again.use_admin_key() == key
        assert (await again.http.get("/api/v1/terms")).status_code == 200
        await again.stop(signal.SIGINT)
    secret = key[len("efk_0123456789abcdef_") :]
    for log in logs:
        assert secret not in await asyncio.to_thread(log.read_text, errors="replace")
