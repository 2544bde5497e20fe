"""`flashvid weights fetch`: against a local HTTP server on 127.0.0.1 (no real download), with resume, checksum
and the offline message; `--sam-checkpoint NAME` resolves to the cached file."""

from __future__ import annotations

import hashlib
import http.server
import threading
from pathlib import Path

import pytest

from flashvid import weights
from flashvid.cli import main

PAYLOAD = bytes(range(256)) * 400  # 102,400 bytes


class _RangeHandler(http.server.BaseHTTPRequestHandler):
    """Serves PAYLOAD at any path, honouring 'Range: bytes=N-'; counts the bytes it sent."""

    sent = 0

    def do_GET(self) -> None:
        start = 0
        rng = self.headers.get("Range")
        if rng and rng.startswith("bytes="):
            start = int(rng[len("bytes=") :].split("-")[0])
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(PAYLOAD) - 1}/{len(PAYLOAD)}")
        else:
            self.send_response(200)
        body = PAYLOAD[start:]
        self.send_header("Content-Length", str(len(body)))
        type(self).sent += len(body)  # before writing: the client may finish before this thread runs on
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _RangeHandler)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    _RangeHandler.sent = 0
    yield f"http://127.0.0.1:{httpd.server_address[1]}/sam_test.pth"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture()
def small_entry(monkeypatch, tmp_path: Path):
    spec = weights.WeightSpec(
        "sam_test.pth", "http://127.0.0.1:9/unused", hashlib.sha256(PAYLOAD).hexdigest(), 1, "vit_b", "Apache-2.0"
    )
    monkeypatch.setitem(weights.WEIGHTS, "sam-test", spec)
    monkeypatch.setenv("FLASHVID_CACHE", str(tmp_path / "cache"))
    return spec


def test_fetch_downloads_checks_and_resumes(server: str, small_entry, tmp_path: Path, capsys) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "sam_test.pth.part").write_bytes(PAYLOAD[:40000])  # an interrupted earlier download
    assert main(["weights", "fetch", "sam-test", "--url", server]) == 0
    assert (cache / "sam_test.pth").read_bytes() == PAYLOAD
    assert _RangeHandler.sent == len(PAYLOAD) - 40000, "resumed, not downloaded again"
    assert not (cache / "sam_test.pth.part").exists()
    assert "SHA-256 checked" in capsys.readouterr().out
    assert weights.resolve("sam-test") == cache / "sam_test.pth"
    assert weights.resolve("/some/path.pth") == "/some/path.pth"


def test_damaged_download_is_removed_with_one_line(server: str, small_entry, monkeypatch, capsys) -> None:
    monkeypatch.setitem(
        weights.WEIGHTS, "sam-test", weights.WeightSpec("sam_test.pth", server, "0" * 64, 1, "vit_b", "x")
    )
    assert main(["weights", "fetch", "sam-test"]) == 2
    err = capsys.readouterr().err
    last = err.replace("\r", "\n").strip().splitlines()[-1]  # the progress bar ends on its own line first
    assert last.startswith("flashvid: error: ") and "is not the official" in last and "Traceback" not in err
    assert not list((weights.cache_dir()).glob("sam_test.pth*"))


def test_offline_and_missing_give_one_line(small_entry, tmp_path: Path, capsys) -> None:
    assert main(["weights", "fetch", "sam-test", "--url", "http://127.0.0.1:9/nothing-listens-here"]) == 2
    err = capsys.readouterr().err
    last = err.replace("\r", "\n").strip().splitlines()[-1]
    assert last.startswith("flashvid: error: ") and "cannot download" in last and "resumes" in last
    code = main(
        [
            "keyframe",
            "--flash",
            "f.png",
            "--noflash",
            "n.png",
            "--out",
            str(tmp_path / "k.flashkey"),
            "--sam-checkpoint",
            "sam-test",
        ]
    )
    assert code == 2


class _EndlessHandler(http.server.BaseHTTPRequestHandler):
    """Sends data without end (no Content-Length), until the client hangs up."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.end_headers()
        try:
            for _ in range(1000):  # bounded: 64 MB at most
                self.wfile.write(bytes(65536))
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *args: object) -> None:
        pass


def test_an_endless_source_stops_at_the_known_size(monkeypatch, tmp_path: Path, capsys) -> None:
    """Issue 24 item 5: a source that sends more than the named weights' size is cut off in one line, and no
    .part is left to fill the disk."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _EndlessHandler)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    try:
        spec = weights.WeightSpec("sam_big.pth", "http://127.0.0.1:9/unused", "0" * 64, 0, "vit_b", "Apache-2.0")
        monkeypatch.setitem(weights.WEIGHTS, "sam-big", spec)
        cache = tmp_path / "cache"
        url = f"http://127.0.0.1:{httpd.server_address[1]}/sam_big.pth"
        assert main(["weights", "fetch", "sam-big", "--cache", str(cache), "--url", url]) == 2
    finally:
        httpd.shutdown()
        httpd.server_close()
    err = capsys.readouterr().err  # (the progress bar's lines, then the error)
    errors = [line for line in err.split("\n") if "flashvid: error:" in line]
    assert len(errors) == 1 and "sends more than" in errors[0] and "Traceback" not in err
    assert not list(cache.glob("*")), list(cache.glob("*"))
