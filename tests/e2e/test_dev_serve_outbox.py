"""The newcomer's restart: SMS a production server queued (Twilio down, or a restart)
wait in the outbox; `serve` started without the Twilio settings runs in development mode
and must leave them queued for the real provider, not print them and mark them sent."""

from __future__ import annotations

import asyncio
import shlex
import signal
import subprocess
import time
from pathlib import Path

from buonispesa.demo import DEMO_CITIZENS
from core.bootstrap import open_core
from core.domain.messages import Reply, t
from core.services.outbox import enqueue
from tests.e2e.test_sms_serve import BIN, Served, _environment
from tests.integration.test_outbox_worker import rows


async def _queue_production_sms(url: str, count: int) -> list[int]:
    core = await open_core(url)
    try:
        async with core.uow() as uow:
            queued = [
                enqueue(
                    uow,
                    municipality_id=None,
                    channel="sms",
                    address=DEMO_CITIZENS[0].phone,
                    language="it",
                    reply=Reply.of(t("Hello {n}", n=n)),
                    now=core.now(),
                )
                for n in range(count)
            ]
            await uow.commit()
            return [row.id for row in queued]
    finally:
        await core.close()


async def _states(url: str) -> dict[int, tuple[str, int, str | None]]:
    core = await open_core(url)
    try:
        found = await rows(core)
        return {key: (r.status, r.attempts, r.provider_message_id) for key, r in found.items()}
    finally:
        await core.close()


def test_sms_queued_before_a_development_start_stay_queued(tmp_path: Path) -> None:
    database = tmp_path / "town.sqlite3"
    url = f"sqlite+aiosqlite:///{database}"
    env = _environment(database)
    subprocess.run([str(BIN), "demo"], env=env, cwd=tmp_path, check=True, capture_output=True)
    queued = asyncio.run(_queue_production_sms(url, 3))
    before = asyncio.run(_states(url))

    server = Served.start([str(BIN), "serve", "--port", "0"], env=env, cwd=tmp_path)
    process = server.process
    try:
        output = server.wait_for("Running on")
        assert "3 SMS queued before this start wait for a real provider" in output
        [curl] = [line for line in output.splitlines() if line.startswith("curl ")]
        answer = subprocess.run(shlex.split(curl), capture_output=True, text=True, timeout=10)
        assert answer.stdout.endswith("<Response></Response>")  # the webhook still answers
        time.sleep(3)  # three polls of the outbox
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 0
    assert "SMS to" not in server.output()
    after = asyncio.run(_states(url))
    for row_id in queued:
        assert after[row_id] == before[row_id] == ("pending", 0, None)
    # The reply to the curl waits with them, for the same provider.
    [reply] = [state for key, state in after.items() if key not in before]
    assert reply[:2] == ("pending", 0)
