"""The attachment files beside a cache stay bounded: each download trims the directory to its
cap, the least recently looked at first, never a download still running. Real files; the
network is a fake downloader (this is a unit test of the bookkeeping)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from operator_app.core.attachments import STALE_PART_SECONDS, AttachmentFiles, trim
from operator_app.protocol.models import Attachment


class WritingDownloader:
    """Writes ``size`` bytes where the real one would stream the file."""

    def __init__(self) -> None:
        self.downloads = 0

    async def download(self, attachment: Attachment, dest: Path) -> Path:
        self.downloads += 1
        dest.write_bytes(b"x" * attachment.size)
        return dest


def attachment(attachment_id: int, size: int = 400) -> Attachment:
    return Attachment(
        id=attachment_id,
        name=f"photo{attachment_id}.jpg",
        mime="image/jpeg",
        size=size,
        url=f"/api/v1/attachments/{attachment_id}",
    )


def aged(path: Path, seconds_ago: float) -> None:
    moment = time.time() - seconds_ago
    os.utime(path, (moment, moment))


@pytest.mark.asyncio
async def test_downloads_past_the_cap_drop_the_least_recently_seen(tmp_path: Path) -> None:
    downloader = WritingDownloader()
    files = AttachmentFiles(downloader, tmp_path / "files", max_bytes=1000)
    first = await files.local_path(attachment(1))
    second = await files.local_path(attachment(2))
    aged(first, 300)
    aged(second, 200)
    assert await files.local_path(attachment(1)) == first  # seen again: now the newest
    assert downloader.downloads == 2
    third = await files.local_path(attachment(3))  # 1,200 bytes: one has to go
    assert sorted(p.name for p in (tmp_path / "files").iterdir()) == sorted(
        [first.name, third.name]
    )
    assert not second.exists()
    assert await files.local_path(attachment(2)) == second  # gone is only a new download
    assert downloader.downloads == 4


def test_trim_leaves_a_running_download_and_clears_a_dead_one(tmp_path: Path) -> None:
    running = tmp_path / "7-video.mp4.part"
    dead = tmp_path / "8-old.pdf.part"
    kept = tmp_path / "9-new.png"
    for path in (running, dead, kept):
        path.write_bytes(b"x" * 600)
    aged(running, 100)  # older than the finished file, but still being written
    aged(dead, STALE_PART_SECONDS + 10)
    aged(kept, 5)
    assert trim(tmp_path, 1300) == 1  # the dead download goes first
    assert not dead.exists() and running.exists() and kept.exists()
    assert trim(tmp_path, 700) == 1  # then the oldest finished file: the running one stays
    assert running.exists() and not kept.exists()
    assert trim(tmp_path / "missing", 0) == 0
