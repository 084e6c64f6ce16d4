"""The admin CLI as a user runs it: serve in a subprocess, simulate traffic into it."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from operator_app.protocol import routes
from operator_app.server.cli import main
from tests.integration.server.server_helpers import Api, run_cli


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def served_demo() -> Iterator[str]:
    """``python -m operator_app.server serve --demo`` in a subprocess; yields its URL."""
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "operator_app.server",
            "serve",
            "--demo",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.strip() == f"listening on http://127.0.0.1:{port}", line
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        _out, err = proc.communicate(timeout=15)
        assert proc.returncode == 0, err


def test_serve_demo_and_simulate_customers(served_demo: str) -> None:
    olga = Api(served_demo).login("olga")
    count = sum(d["message_count"] for d in olga.dialogs("supervised"))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "operator_app.server",
            "simulate",
            "--url",
            served_demo,
            "--rate",
            "20",
            "--duration",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    sent = int(result.stdout.split()[1])
    assert sent > 0
    after = sum(d["message_count"] for d in olga.dialogs("supervised"))
    assert after >= count + sent  # every simulated message landed (plus transfer lines, if any)
    olga.close()


def test_simulate_reports_refusals(served_demo: str) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "operator_app.server",
            "simulate",
            "--url",
            served_demo,
            "--rate",
            "50",
            "--duration",
            "0.3",
            *[
                f"--secret={c}=wrong"
                for c in ("whatsapp", "telegram", "viber", "vk", "webchat", "email", "external")
            ],
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "unauthorized" in result.stderr


PW = "console-made-pw"


def test_init_seed_and_admin_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    run_cli("seed-demo", "--db", url)
    assert main(["seed-demo", "--db", url]) == 2  # not on top of existing data
    assert "empty database" in capsys.readouterr().err
    assert (
        main(["add-operator", "--db", url, "--login", "anna", "--name", "A", "--password", PW]) == 2
    )
    assert "login is taken" in capsys.readouterr().err
    # a console-made account keeps the app's rule for a new password (set-password does too)
    assert (
        main(["add-operator", "--db", url, "--login", "kim", "--name", "K", "--password", "pw"])
        == 2
    )
    assert "8 to" in capsys.readouterr().err
    assert (
        main(
            [
                "add-operator",
                "--db",
                url,
                "--login",
                "zoe",
                "--name",
                "Zoe",
                "--password",
                PW,
                "--queues",
                "9",
            ]
        )
        == 2
    )
    run_cli("add-queue", "--db", url, "--name", "VIP", "--sla", "30", "--channels", "telegram,vk")
    run_cli(
        "add-operator",
        "--db",
        url,
        "--login",
        "zoe",
        "--name",
        "Зоя",
        "--password",
        PW,
        "--queues",
        "4",
        "--capacity",
        "3",
    )
    with pytest.raises(SystemExit):
        main(["add-queue", "--db", url, "--name", "X", "--sla", "soon"])
    from operator_app.server.embedded import EmbeddedServer

    with EmbeddedServer(database_url=url, demo=False) as srv:
        zoe = Api(srv.url).login("zoe", PW)
        assert zoe.me["queue_ids"] == [4] and zoe.me["capacity"] == 3
        queues = {q["name"]: q for q in zoe.ok("GET", routes.QUEUES)}
        assert queues["VIP"]["channels"] == ["telegram", "vk"]
        assert httpx.get(srv.url + routes.INFO).status_code == 200
        zoe.close()
