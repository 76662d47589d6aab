"""Two students, one server: each sees only their own picture and their own noise.

Two protocol clients (``bench/load.py``) open the image page of one real server, pick different
seeds and upload different pictures under the same file name (so a cache keyed on the name, the
size or a sampled array would mix them up). After every interleaved step, the scrubber payload
each one receives must hold exactly its own picture (x0, decoded from the payload) and the noise
of its own seed, and the clean picture it is shown must be its own.
"""

from __future__ import annotations

import asyncio
import io
import json
from typing import Any

import numpy as np
import pytest
from PIL import Image

from bench.load import RunResult, StreamlitSession, free_port, streamlit_server, student_image
from core import scrub
from core.images import load_image
from tests.conftest import run_async

pytestmark = pytest.mark.slow

UPLOADER = "img.upload"
NAME = "photo.png"  # the same name for both uploads


@pytest.fixture(scope="module")
def server_url():
    port = free_port()
    with streamlit_server(port):
        yield f"http://127.0.0.1:{port}"


def payload_of(run: RunResult) -> dict[str, Any]:
    """The scrubber payload embedded in the run's iframe document."""
    marker = '"x0":"data:image/png;base64,'
    for document in run.iframes:
        at = document.find(marker)
        if at < 0:
            continue
        decoder = json.JSONDecoder()
        start = document.rfind("{", 0, at)
        while start >= 0:
            try:
                value, _ = decoder.raw_decode(document, start)
            except json.JSONDecodeError:
                value = None
            if isinstance(value, dict) and "x0" in value and "eps" in value:
                return value
            start = document.rfind("{", 0, start)
    raise AssertionError("no scrubber payload in the run")


def expected_noise(shape: tuple[int, int, int], seed: int) -> np.ndarray:
    return scrub.dequantize_noise(scrub.quantize_noise(scrub.make_noise(shape, seed, "cpu")))


def check_own(run: RunResult, data: bytes, seed: int, other: bytes, other_seed: int) -> None:
    assert run.exceptions == [] and run.error_alerts == []
    payload = payload_of(run)
    png, eps, _ = scrub.decode_payload(payload)
    shown = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    size = max(shown.shape[:2])
    own = load_image(data, max_side=size, filename=NAME)
    assert shown.shape == own.shape and np.array_equal(shown, own)
    assert not np.array_equal(shown, load_image(other, max_side=size, filename=NAME))
    np.testing.assert_allclose(eps, expected_noise(own.shape, seed), atol=1e-6)
    assert not np.allclose(eps, expected_noise(own.shape, other_seed))


def test_two_sessions_never_see_each_others_image_or_noise(server_url):
    images = {"a": student_image(101), "b": student_image(202)}
    seeds = {"a": 11, "b": 22}
    assert images["a"] != images["b"]

    async def scenario() -> None:
        sessions = {key: StreamlitSession(server_url, timeout=90) for key in images}
        try:
            for key, session in sessions.items():
                await session.connect()
                await session.rerun(query_string="")
                (seed,) = session.find("number_input", key="seed")
                await session.set_widget(seed, seeds[key])
                run = await session.switch_page("image_noising")
                assert run.exceptions == []

            def check(key: str, run: RunResult) -> None:
                other = "b" if key == "a" else "a"
                check_own(run, images[key], seeds[key], images[other], seeds[other])

            # Interleaved: A uploads, B uploads, then each reruns after the other's upload.
            runs: dict[str, RunResult] = {}
            for key in ("a", "b"):
                session = sessions[key]
                (uploader,) = session.find("file_uploader", key=UPLOADER)
                status, run = await session.upload(uploader, NAME, images[key])
                assert status == 204 and run is not None
                check(key, run)
                runs[key] = run
            for key in ("a", "b"):
                check(key, await sessions[key].rerun())

            # Both at once, after moving their own t slider.
            async def move(key: str) -> RunResult:
                session = sessions[key]
                (slider,) = session.find("slider", key="img.t")
                return await session.set_widget(slider, [400.0 if key == "a" else 600.0])

            moved = await asyncio.gather(move("a"), move("b"))
            for key, run in zip(("a", "b"), moved, strict=True):
                check(key, run)
            # The clean picture each is shown (a media file) is their own, too.
            fetched = {}
            for key, run in zip(("a", "b"), moved, strict=True):
                status, body = await sessions[key].fetch(run.images[0])
                assert status == 200
                fetched[key] = np.asarray(Image.open(io.BytesIO(body)).convert("RGB"), float)
            for key, other in (("a", "b"), ("b", "a")):
                shown = fetched[key]
                side = max(shown.shape[:2])
                own = load_image(images[key], max_side=side).astype(float)
                theirs = load_image(images[other], max_side=side).astype(float)
                assert own.shape == shown.shape
                assert np.abs(shown - own).mean() < 0.25 * np.abs(shown - theirs).mean()
        finally:
            for session in sessions.values():
                await session.close()

    run_async(scenario())
