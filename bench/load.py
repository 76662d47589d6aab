"""A lecture hall at once: simulated students driving the app over Streamlit's real protocol.

Each simulated student does what a browser does: GET ``/_stcore/health`` (which sets the XSRF
cookie), open a websocket to ``/_stcore/stream`` with the subprotocols ``streamlit, <xsrf token>``,
and send protobuf ``BackMsg`` messages: ``rerun_script`` with a ``ClientState`` (query string,
page script hash, the widget states it holds, context info) to open the app, switch pages and
change widgets, and ``file_urls_request`` followed by an HTTP PUT to ``/_stcore/upload_file/<session
id>/<file id>`` (cookie + ``X-Xsrftoken`` header) to upload an image, exactly like the frontend.
The server really runs the app script for each of them; the latency of an interaction is the time
from sending it to the ``script_finished`` ForwardMsg of the run it caused.

    python bench/load.py --students 25 --duration 60 --ramp 10            # starts its own server
    python bench/load.py --url http://127.0.0.1:8501 --students 25 --duration 60 --ramp 10

Only loopback URLs are accepted, and every run is bounded in students, duration and per-message
timeouts. The table lists interactions, errors (exceptions shown by the app, timeouts, protocol or
HTTP failures), latency percentiles, the server's RSS (process and children) before, at its peak and
after the students leave, and its CPU use.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import io
import json
import os
import random
import re
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import psutil
from PIL import Image
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ClientState, ContextInfo
from streamlit.proto.Common_pb2 import FileURLs, FileURLsRequest, UploadedFileInfo
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState, WidgetStates
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException

ROOT = Path(__file__).resolve().parent.parent
LOOPBACK = ("127.0.0.1", "localhost", "::1")
MAX_STUDENTS = 500
MAX_DURATION_S = 1800.0
XSRF_COOKIE = "_streamlit_xsrf"
# Widget kinds a student changes; their ``WidgetState`` value field.
CHANGEABLE = ("number_input", "selectbox", "slider", "checkbox", "radio", "button_group")
# and "tabs": a tab container whose switches rerun the page (an add_block delta, not an element)
# Images a student uploads: a small photo-like picture, different per student.
UPLOAD_SIDE = 256


class ProtocolError(RuntimeError):
    """The server did not answer as a browser expects (closed socket, timeout, bad reply)."""


@dataclass
class Widget:
    """A widget seen in the deltas of the last run: its id, kind and element proto."""

    id: str
    kind: str
    proto: Any

    @property
    def user_key(self) -> str | None:
        key = self.id.split("-", maxsplit=2)[-1]
        return None if key == "None" else key


@dataclass
class TabsProto:
    """What a tab container that reruns the page offers: its tabs' labels (its state)."""

    options: list[str] = field(default_factory=list)
    disabled: bool = False


@dataclass
class RunResult:
    """What one script run sent back."""

    latency_s: float
    deltas: int = 0
    exceptions: list[str] = field(default_factory=list)
    error_alerts: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    plotly_specs: list[str] = field(default_factory=list)
    iframes: list[str] = field(default_factory=list)
    status: str = ""


def _check_loopback(url: str) -> urllib.parse.SplitResult:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "http" or parts.hostname not in LOOPBACK or parts.port is None:
        raise SystemExit(f"--url must be http://127.0.0.1:PORT (loopback only), not {url!r}")
    return parts


def _http(
    method: str,
    url: str,
    *,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30.0,
) -> tuple[int, dict[str, list[str]], bytes]:
    """One blocking HTTP request (run in a thread); returns status, headers, body.

    The body goes out in chunks, and sending stops as soon as the server answers early (as it
    does with 413 for a file over the upload limit), like a browser; status 0 means the server
    closed the connection without an answer.
    """
    parts = urllib.parse.urlsplit(url)
    if parts.hostname not in LOOPBACK:
        raise ValueError(f"loopback only, not {url!r}")
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        connection.putrequest(
            method, urllib.parse.urlunsplit(("", "", parts.path, parts.query, ""))
        )
        for name, value in (headers or {}).items():
            connection.putheader(name, value)
        if body is not None:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders()
        try:
            view = memoryview(body or b"")
            for offset in range(0, len(view), 256 * 1024):
                readable, _, _ = select.select([connection.sock], [], [], 0)
                if readable:  # an early answer: stop sending
                    break
                connection.sock.sendall(view[offset : offset + 256 * 1024])
            response = connection.getresponse()
        except (BrokenPipeError, ConnectionResetError):
            return 0, {}, b""
        return response.status, _header_lists(response.headers), response.read()
    finally:
        connection.close()


def _header_lists(headers: Any) -> dict[str, list[str]]:
    result: dict[str, list[str]] = {}
    for name, value in headers.items():
        result.setdefault(name.lower(), []).append(value)
    return result


def multipart(field_name: str, filename: str, content_type: str, data: bytes) -> tuple[bytes, str]:
    """A multipart/form-data body with one file, as the browser's FormData sends it."""
    boundary = f"----loadbench{uuid.uuid4().hex}"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="{field_name}"; '
        f'filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'
    ).encode()
    return (
        head + data + f"\r\n--{boundary}--\r\n".encode(),
        f"multipart/form-data; boundary={boundary}",
    )


class StreamlitSession:
    """One browser tab: a websocket session that reruns the app like the frontend does."""

    def __init__(self, base_url: str, *, timeout: float = 30.0) -> None:
        parts = _check_loopback(base_url)
        self.base = f"http://{parts.hostname}:{parts.port}"
        self.ws_url = f"ws://{parts.hostname}:{parts.port}/_stcore/stream"
        self.timeout = timeout
        self.xsrf = ""
        self.cookies: dict[str, str] = {}  # the XSRF cookie, and a proxy's affinity cookie
        self.session_id = ""
        self.pages: dict[str, str] = {}  # url path (page name for the default) -> script hash
        self.page_hash = ""
        self.query_string = ""
        self.widgets: dict[str, Widget] = {}
        self.widget_states: dict[str, WidgetState] = {}
        self._ws: ClientConnection | None = None
        self._file_urls: dict[str, Any] = {}

    # -- connection ------------------------------------------------------------------------

    async def connect(self) -> None:
        status, headers, _ = await asyncio.to_thread(
            _http, "GET", f"{self.base}/_stcore/health", timeout=self.timeout
        )
        if status != 200:
            raise ProtocolError(f"health check answered {status}")
        for cookie in headers.get("set-cookie", []):
            name, _, rest = cookie.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        self.xsrf = self.cookies.get(XSRF_COOKIE, "")
        protocols = ["streamlit", self.xsrf] if self.xsrf else ["streamlit"]
        self._ws = await connect(
            self.ws_url,
            subprotocols=protocols,  # type: ignore[arg-type]
            additional_headers=self._cookie_header(),
            origin=self.base,  # type: ignore[arg-type]
            max_size=None,
            open_timeout=self.timeout,
            compression=None,
        )

    def _cookie_header(self) -> dict[str, str]:
        if not self.cookies:
            return {}
        return {"Cookie": "; ".join(f"{name}={value}" for name, value in self.cookies.items())}

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
            self._ws = None

    async def _send(self, message: BackMsg) -> None:
        if self._ws is None:
            raise ProtocolError("not connected")
        await self._ws.send(message.SerializeToString())

    async def _receive(self, deadline: float) -> ForwardMsg:
        if self._ws is None:
            raise ProtocolError("not connected")
        left = deadline - time.monotonic()
        if left <= 0:
            raise ProtocolError(f"no answer within {self.timeout:.0f} s")
        try:
            data = await asyncio.wait_for(self._ws.recv(), left)
        except TimeoutError:
            raise ProtocolError(f"no answer within {self.timeout:.0f} s") from None
        except WebSocketException as error:
            raise ProtocolError(f"websocket closed: {error}") from None
        message = ForwardMsg()
        message.ParseFromString(data)
        return message

    # -- interactions ----------------------------------------------------------------------

    async def rerun(
        self,
        *,
        page_hash: str | None = None,
        query_string: str | None = None,
        triggers: Sequence[WidgetState] = (),
    ) -> RunResult:
        """Send ``rerun_script`` with the held widget states and wait for ``script_finished``."""
        if page_hash is not None:
            self.page_hash = page_hash
        if query_string is not None:
            self.query_string = query_string
        states = WidgetStates()
        for wid, state in self.widget_states.items():
            if wid in self.widgets or not self.widgets:
                states.widgets.append(state)
        states.widgets.extend(triggers)
        client_state = ClientState(
            query_string=self.query_string,
            widget_states=states,
            page_script_hash=self.page_hash,
            context_info=ContextInfo(
                timezone="UTC", timezone_offset=0, locale="en-US", url=self.base + "/"
            ),
        )
        start = time.monotonic()
        await self._send(BackMsg(rerun_script=client_state))
        return await self._collect_run(start)

    async def _collect_run(self, start: float) -> RunResult:
        deadline = start + self.timeout
        result = RunResult(latency_s=0.0)
        widgets: dict[str, Widget] = {}
        while True:
            message = await self._receive(deadline)
            kind = message.WhichOneof("type")
            if kind == "new_session":
                init = message.new_session.initialize
                if init.session_id:
                    self.session_id = init.session_id
            elif kind == "navigation":
                # st.navigation's pages (new_session.app_pages lists the pages/ directory).
                self.pages = {
                    page.url_pathname or page.page_name: page.page_script_hash
                    for page in message.navigation.app_pages
                }
                if message.navigation.page_script_hash:
                    self.page_hash = message.navigation.page_script_hash
            elif kind == "page_info_changed":
                self.query_string = message.page_info_changed.query_string
            elif kind == "file_urls_response":
                self._file_urls[message.file_urls_response.response_id] = message
            elif kind == "delta":
                result.deltas += 1
                self._read_delta(message, result, widgets)
            elif kind == "script_finished":
                status = ForwardMsg.ScriptFinishedStatus.Name(message.script_finished)
                if status == "FINISHED_EARLY_FOR_RERUN":
                    continue  # the rerun it gave way to finishes later
                result.status = status
                result.latency_s = time.monotonic() - start
                if status == "FINISHED_WITH_COMPILE_ERROR":
                    result.exceptions.append("script failed to compile")
                self.widgets = widgets
                return result

    @staticmethod
    def _read_delta(message: ForwardMsg, result: RunResult, widgets: dict[str, Widget]) -> None:
        delta = message.delta
        if delta.WhichOneof("type") == "add_block":
            block = delta.add_block
            if block.WhichOneof("type") == "tab_container" and block.tab_container.id:
                widgets[block.tab_container.id] = Widget(
                    block.tab_container.id, "tabs", TabsProto()
                )
            elif block.WhichOneof("type") == "tab":  # a tab follows its container
                containers = [widget for widget in widgets.values() if widget.kind == "tabs"]
                if containers:
                    containers[-1].proto.options.append(block.tab.label)
            return
        if delta.WhichOneof("type") != "new_element":
            return
        element = delta.new_element
        kind = element.WhichOneof("type")
        if kind == "exception":
            result.exceptions.append(f"{element.exception.type}: {element.exception.message}")
        elif kind == "alert" and element.alert.format == element.alert.ERROR:
            result.error_alerts.append(element.alert.body)
        elif kind == "imgs":
            result.images.extend(img.url for img in element.imgs.imgs)
        elif kind == "iframe":
            result.iframes.append(element.iframe.srcdoc or element.iframe.src)
        elif kind == "plotly_chart":
            result.plotly_specs.append(element.plotly_chart.spec)
        if kind in (*CHANGEABLE, "file_uploader", "button") and getattr(element, kind).id:
            proto = getattr(element, kind)
            widgets[proto.id] = Widget(proto.id, kind, proto)

    def find(self, kind: str | None = None, key: str | None = None) -> list[Widget]:
        """Widgets of the last run, optionally of one kind and/or user key."""
        return [
            widget
            for widget in self.widgets.values()
            if (kind is None or widget.kind == kind) and (key is None or widget.user_key == key)
        ]

    async def set_widget(self, widget: Widget, value: Any) -> RunResult:
        """Give ``widget`` a new value (as the frontend would) and rerun."""
        state = WidgetState(id=widget.id)
        if widget.kind == "number_input":
            if widget.proto.data_type == widget.proto.INT:
                state.int_value = int(value)
            else:
                state.double_value = float(value)
        elif widget.kind in ("selectbox", "radio", "tabs"):
            state.string_value = str(value)
        elif widget.kind == "slider" and widget.proto.options:  # a select_slider: its labels
            state.string_array_value.data.extend(value if isinstance(value, list) else [value])
        elif widget.kind == "slider":
            state.double_array_value.data.extend(value if isinstance(value, list) else [value])
        elif widget.kind == "checkbox":
            state.bool_value = bool(value)
        elif widget.kind == "button_group":
            state.string_array_value.data.extend(value)
        else:
            raise ValueError(f"cannot set a {widget.kind}")
        self.widget_states[widget.id] = state
        return await self.rerun()

    async def click(self, widget: Widget) -> RunResult:
        return await self.rerun(triggers=[WidgetState(id=widget.id, trigger_value=True)])

    async def switch_page(self, name: str) -> RunResult:
        """Open the page whose url path (or name) is ``name``, keeping the widget states."""
        return await self.rerun(page_hash=self.pages[name], query_string="")

    async def upload(
        self, widget: Widget, name: str, data: bytes, content_type: str = "image/png"
    ) -> tuple[int, RunResult | None]:
        """Upload ``data`` through ``widget`` like the frontend; return the PUT status and run.

        The run is None when the server refused the file (then the widget keeps its old state).
        """
        request_id = uuid.uuid4().hex
        request = FileURLsRequest(
            request_id=request_id, file_names=[name], session_id=self.session_id
        )
        start = time.monotonic()
        await self._send(BackMsg(file_urls_request=request))
        deadline = start + self.timeout
        while request_id not in self._file_urls:
            message = await self._receive(deadline)
            if message.WhichOneof("type") == "file_urls_response":
                self._file_urls[message.file_urls_response.response_id] = message
        response = self._file_urls.pop(request_id).file_urls_response
        if response.error_msg or not response.file_urls:
            raise ProtocolError(f"file_urls_response: {response.error_msg or 'no urls'}")
        urls = response.file_urls[0]
        body, content = multipart("file", name, content_type, data)
        headers = {"Content-Type": content, "Origin": self.base} | self._cookie_header()
        if self.xsrf:
            headers["X-Xsrftoken"] = self.xsrf
        status, _, _ = await asyncio.to_thread(
            _http, "PUT", self.base + urls.upload_url, body=body, headers=headers,
            timeout=self.timeout,
        )  # fmt: skip
        if status not in (200, 204):
            return status, None
        info = UploadedFileInfo(
            name=name,
            size=len(data),
            file_id=urls.file_id,
            file_urls=FileURLs(
                file_id=urls.file_id, upload_url=urls.upload_url, delete_url=urls.delete_url
            ),
        )
        state = WidgetState(id=widget.id)
        state.file_uploader_state_value.uploaded_file_info.append(info)
        self.widget_states[widget.id] = state
        run = await self.rerun()
        run.latency_s = time.monotonic() - start
        return status, run

    async def fetch(self, path: str) -> tuple[int, bytes]:
        """GET a server path (e.g. a media URL from an image element)."""
        url = path if path.startswith("http") else self.base + path
        _check_loopback(url)
        status, _, body = await asyncio.to_thread(
            _http, "GET", url, headers=self._cookie_header(), timeout=self.timeout
        )
        return status, body


# -- the server ------------------------------------------------------------------------------


def free_port(low: int = 8650, high: int = 8669) -> int:
    """A free loopback port in [low, high]."""
    for port in range(low, high + 1):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {low}-{high}")


@contextlib.contextmanager
def streamlit_server(
    port: int,
    *,
    extra: Sequence[str] = (),
    startup_timeout: float = 60.0,
    log_path: str | os.PathLike[str] | None = None,
    env: dict[str, str] | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``streamlit run app.py`` on 127.0.0.1:``port`` until the block ends.

    The server's output goes to ``log_path`` (default: discarded).
    """
    command = [
        sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
        "--server.address", "127.0.0.1", "--server.port", str(port),
        "--server.headless", "true", "--browser.gatherUsageStats", "false", *extra,
    ]  # fmt: skip
    log = open(log_path or os.devnull, "wb")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}
    )
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"streamlit exited with {process.returncode}")
            try:
                if _http("GET", f"http://127.0.0.1:{port}/_stcore/health", timeout=2)[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("streamlit did not become healthy in time")
            time.sleep(0.2)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        log.close()


HAPROXY_CFG = ROOT / "deploy" / "compose" / "haproxy.cfg"


@contextlib.contextmanager
def lecture_hall(
    replicas: int,
    *,
    extra: Sequence[str] = (),
    log_path: str | os.PathLike[str] | None = None,
    env: dict[str, str] | None = None,
) -> Iterator[tuple[str, list[int], list[str]]]:
    """``replicas`` servers behind HAProxy with the shipped config (deploy/compose/haproxy.cfg).

    The config's replicas are pointed at local servers (the unused ones dropped) and its front
    end at a free loopback port. Yields the front end's URL, the servers' pids and their URLs.
    """
    if shutil.which("haproxy") is None:
        raise RuntimeError("--replicas needs haproxy (apt-get install haproxy)")
    with contextlib.ExitStack() as stack:
        ports, pids = [], []
        for index in range(replicas):
            port = free_port()
            log = f"{log_path}.{index + 1}" if log_path else None
            process = stack.enter_context(
                streamlit_server(port, extra=extra, log_path=log, env=env)
            )
            ports.append(port)
            pids.append(process.pid)
        config = HAPROXY_CFG.read_text()
        names = re.findall(r"^\s*server\s+(\S+)\s+\S+:8501\b", config, flags=re.M)
        if len(names) < replicas:
            raise ValueError(f"{HAPROXY_CFG} has {len(names)} servers, fewer than {replicas}")
        for index, name in enumerate(names):
            line = rf"^(\s*server\s+{name}\s+){name}:8501\b(.*)$"
            if index < replicas:
                config = re.sub(line, rf"\g<1>127.0.0.1:{ports[index]}\g<2>", config, flags=re.M)
            else:
                config = re.sub(line + "\n", "", config, flags=re.M)
        front = free_port()
        config = re.sub(r"^(\s*bind\s+):8080\b", rf"\g<1>127.0.0.1:{front}", config, flags=re.M)
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        (folder / "haproxy.cfg").write_text(config)
        proxy = subprocess.Popen(
            ["haproxy", "-db", "-f", str(folder / "haproxy.cfg")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        stack.callback(proxy.wait, 10)
        stack.callback(proxy.terminate)
        url = f"http://127.0.0.1:{front}"
        deadline = time.monotonic() + 15
        while True:
            with contextlib.suppress(OSError):
                if _http("GET", f"{url}/_stcore/health", timeout=2)[0] == 200:
                    break
            if proxy.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("haproxy did not start")
            time.sleep(0.2)
        yield url, pids, [f"http://127.0.0.1:{port}" for port in ports]


def server_pid_for_port(port: int) -> int | None:
    """The pid listening on 127.0.0.1:``port``, if it can be seen."""
    with contextlib.suppress(psutil.Error):
        for conn in psutil.net_connections(kind="tcp"):
            if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port:
                return conn.pid
    return None


class Monitor:
    """Samples a process tree's RSS and CPU time every ``interval`` seconds in a thread."""

    def __init__(self, pids: int | Sequence[int] | None, interval: float = 0.25) -> None:
        if isinstance(pids, int):
            pids = [pids]
        self.processes = [psutil.Process(pid) for pid in pids or ()]
        self.interval = interval
        self.samples: list[tuple[float, float]] = []  # (time, rss MB)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def tree(self) -> list[psutil.Process]:
        found = []
        for process in self.processes:
            with contextlib.suppress(psutil.Error):
                found += [process, *process.children(recursive=True)]
        return found

    def rss_mb(self) -> float:
        total = 0
        for proc in self.tree():
            with contextlib.suppress(psutil.Error):
                total += proc.memory_info().rss
        return total / 1e6

    def cpu_s(self) -> float:
        total = 0.0
        for proc in self.tree():
            with contextlib.suppress(psutil.Error):
                times = proc.cpu_times()
                total += times.user + times.system
        return total

    def threads(self) -> int:
        total = 0
        for process in self.processes:
            with contextlib.suppress(psutil.Error):
                total += process.num_threads()
        return total

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.samples.append((time.monotonic(), self.rss_mb()))

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


# -- the students ----------------------------------------------------------------------------


def student_image(index: int, side: int = UPLOAD_SIDE) -> bytes:
    """A PNG that differs per student: smooth colour gradients plus a little texture."""
    rng = np.random.default_rng(index)
    y, x = np.mgrid[0:side, 0:side] / side
    phase = rng.uniform(0, 2 * np.pi, 3)
    channels = [127 + 120 * np.sin(2 * np.pi * (x * (c + 1) + y) + phase[c]) for c in range(3)]
    pixels = np.stack(channels, -1) + rng.normal(0, 6, (side, side, 3))
    buffer = io.BytesIO()
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(buffer, "PNG")
    return buffer.getvalue()


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    error_alerts: int = 0
    deltas: int = 0
    runs_without_deltas: int = 0

    media: int = 0
    by_page: dict[str, list[float]] = field(default_factory=dict)

    def record(self, kind: str, run: RunResult, page: str = "") -> None:
        self.latencies.setdefault(kind, []).append(run.latency_s)
        if page:
            self.by_page.setdefault(page, []).append(run.latency_s)
        self.deltas += run.deltas
        if run.deltas == 0:
            self.runs_without_deltas += 1
        self.errors.extend(f"{kind}: {text[:200]}" for text in run.exceptions)
        self.error_alerts += len(run.error_alerts)

    @property
    def all_latencies(self) -> list[float]:
        return [value for values in self.latencies.values() for value in values]


def _is_int(widget: Widget) -> bool:
    return widget.kind == "number_input" and widget.proto.data_type == widget.proto.INT


def _random_value(widget: Widget, rng: random.Random) -> Any:
    proto = widget.proto
    if widget.kind == "number_input":
        low = proto.min if proto.has_min else (proto.default or 0) - 10 * (proto.step or 1)
        high = proto.max if proto.has_max else (proto.default or 0) + 10 * (proto.step or 1)
        if _is_int(widget):
            return rng.randint(int(low), int(min(high, low + 2000)))
        return rng.uniform(low, high)
    if widget.kind in ("selectbox", "radio", "tabs"):
        return rng.choice(list(proto.options))
    if widget.kind == "slider":
        if proto.options:
            return [rng.choice(list(proto.options))]
        if proto.data_type in (proto.INT,):
            return [float(rng.randint(int(proto.min), int(proto.max)))]
        return [rng.uniform(proto.min, proto.max)]
    if widget.kind == "checkbox":
        return rng.random() < 0.5
    if widget.kind == "button_group":
        return [str(rng.randrange(len(proto.options)))]
    raise ValueError(widget.kind)


async def student(
    index: int,
    base_url: str,
    stats: Stats,
    *,
    start_delay: float,
    stop_at: float,
    think: tuple[float, float],
    timeout: float,
    upload_probability: float,
    avoid: Sequence[str] = (),
) -> None:
    """One student: open the app, then keep visiting pages, changing widgets and uploading.

    ``avoid``: pages the student never opens (to measure what they cost the others)."""
    rng = random.Random(index)

    async def record(kind: str, run: RunResult) -> None:
        page = next((name for name, h in session.pages.items() if h == session.page_hash), "")
        stats.record(kind, run, page or "home")
        for url in run.images[:8]:  # a browser then loads the pictures the run showed
            if url.startswith("/"):
                status, _ = await session.fetch(url)
                stats.media += 1
                if status != 200:
                    stats.errors.append(f"{kind}: GET {url} answered {status}")

    await asyncio.sleep(start_delay)
    session = StreamlitSession(base_url, timeout=timeout)
    uploaded = False
    try:
        await session.connect()
        await record("open", await session.rerun(query_string=""))
        while time.monotonic() < stop_at:
            await asyncio.sleep(rng.uniform(*think))
            if time.monotonic() >= stop_at:
                break
            uploaders = [
                widget
                for widget in session.find("file_uploader")
                if {".png", "image/png"} & set(widget.proto.type)
            ]
            changeable = [
                widget
                for widget in session.widgets.values()
                if widget.kind in (*CHANGEABLE, "tabs") and not widget.proto.disabled
                and widget.user_key not in ("lang", "hide")
            ]  # fmt: skip
            roll = rng.random()
            if uploaders and (not uploaded or roll < upload_probability):
                status, run = await session.upload(
                    uploaders[0], f"student{index}.png", student_image(index)
                )
                if run is None:
                    stats.errors.append(f"upload: HTTP {status}")
                else:
                    await record("upload", run)
                    uploaded = True
            elif roll < 0.35 and session.pages:
                name = rng.choice(sorted(set(session.pages) - set(avoid)))
                await record("page", await session.switch_page(name))
                uploaded = False
            elif changeable:
                widget = rng.choice(changeable)
                await record("widget", await session.set_widget(widget, _random_value(widget, rng)))
            else:
                await record("rerun", await session.rerun())
    except ProtocolError as error:
        stats.errors.append(f"student {index}: {error}")
    except (OSError, WebSocketException) as error:
        stats.errors.append(f"student {index}: {type(error).__name__}: {error}")
    finally:
        with contextlib.suppress(Exception):
            await session.close()


async def run_load(
    base_url: str,
    *,
    students: int,
    duration: float,
    ramp: float,
    think: tuple[float, float] = (2.0, 8.0),
    timeout: float = 30.0,
    upload_probability: float = 0.1,
    avoid: Sequence[str] = (),
) -> Stats:
    """Run ``students`` students for ``duration`` seconds (started evenly over ``ramp``)."""
    if not 1 <= students <= MAX_STUDENTS:
        raise ValueError(f"students must be in 1..{MAX_STUDENTS}")
    if not 0 < duration <= MAX_DURATION_S:
        raise ValueError(f"duration must be in (0, {MAX_DURATION_S}] seconds")
    stats = Stats()
    stop_at = time.monotonic() + duration
    tasks = [
        student(
            index, base_url, stats,
            start_delay=ramp * index / students, stop_at=stop_at, think=think,
            timeout=timeout, upload_probability=upload_probability, avoid=avoid,
        )
        for index in range(students)
    ]  # fmt: skip
    await asyncio.wait_for(asyncio.gather(*tasks), duration + ramp + 2 * timeout + 30)
    return stats


# -- the command line ------------------------------------------------------------------------


async def warm_up(base_url: str, timeout: float = 120.0) -> None:
    """Open every page once, so imports and shared caches are loaded before measuring."""
    session = StreamlitSession(base_url, timeout=timeout)
    await session.connect()
    try:
        await session.rerun(query_string="")
        for name in sorted(session.pages):
            await session.switch_page(name)
    finally:
        await session.close()


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    return float(np.percentile(np.asarray(values), q))


def measure(
    url: str,
    pid: int | Sequence[int] | None,
    *,
    students: int,
    duration: float,
    ramp: float,
    think: tuple[float, float],
    timeout: float,
    settle: float,
    upload_probability: float,
    warm: bool = True,
    servers: Sequence[str] = (),
    avoid: Sequence[str] = (),
) -> dict[str, Any]:
    """Run one load level and return its figures.

    ``servers``: the replicas behind a proxy at ``url``, each warmed up directly.
    """
    monitor = Monitor(pid)
    rss_cold = monitor.rss_mb()
    if warm:
        for server in servers or [url]:
            asyncio.run(warm_up(server))
        time.sleep(2)
    rss_before = monitor.rss_mb()
    cpu_before, wall_before = monitor.cpu_s(), time.monotonic()
    load_before = os.getloadavg()[0]
    client = psutil.Process()
    client_cpu_before = sum(client.cpu_times()[:2])
    monitor.start()
    stats = asyncio.run(
        run_load(
            url, students=students, duration=duration, ramp=ramp, think=think,
            timeout=timeout, upload_probability=upload_probability, avoid=avoid,
        )
    )  # fmt: skip
    wall = time.monotonic() - wall_before
    cpu = monitor.cpu_s() - cpu_before
    client_cpu = sum(client.cpu_times()[:2]) - client_cpu_before
    threads_end = monitor.threads()
    load_end = os.getloadavg()[0]
    time.sleep(settle)
    monitor.stop()
    rss_after = monitor.rss_mb()
    rss_peak = max([rss for _, rss in monitor.samples] + [rss_before, rss_after])
    latencies = stats.all_latencies
    return {
        "students": students,
        "duration_s": round(wall, 1),
        "interactions": len(latencies),
        "by_kind": {kind: len(values) for kind, values in sorted(stats.latencies.items())},
        "errors": len(stats.errors),
        "error_samples": stats.errors[:10],
        "st_error_alerts": stats.error_alerts,
        "runs_without_deltas": stats.runs_without_deltas,
        "p50_s": round(percentile(latencies, 50), 3),
        "p95_s": round(percentile(latencies, 95), 3),
        "max_s": round(max(latencies), 3) if latencies else float("nan"),
        "p95_by_kind_s": {
            kind: round(percentile(values, 95), 3)
            for kind, values in sorted(stats.latencies.items())
        },
        "p95_by_page_s": {
            page: [len(values), round(percentile(values, 95), 3)]
            for page, values in sorted(stats.by_page.items())
        },
        "media_fetched": stats.media,
        "rss_cold_mb": round(rss_cold, 1),
        "rss_before_mb": round(rss_before, 1),
        "rss_peak_mb": round(rss_peak, 1),
        "rss_after_mb": round(rss_after, 1),
        "settle_s": settle,
        "server_cpu_pct": round(100 * cpu / wall, 1) if pid else float("nan"),
        "client_cpu_pct": round(100 * client_cpu / wall, 1),
        "server_threads_end": threads_end,
        "server_cpu_s_per_interaction": round(cpu / max(len(latencies), 1), 3),
        "machine_load_1min": [round(load_before, 1), round(load_end, 1)],
    }


def table(rows: Sequence[dict[str, Any]]) -> str:
    header = (
        f"{'students':>8} {'inter.':>7} {'errors':>6} {'p50 s':>7} {'p95 s':>7} {'max s':>7} "
        f"{'RSS before':>10} {'peak':>7} {'after':>7} {'srv CPU%':>8} {'cli CPU%':>8} {'load':>5}"
    )
    lines = [header, "-" * len(header)]
    for row in rows:
        lines.append(
            f"{row['students']:>8} {row['interactions']:>7} {row['errors']:>6} "
            f"{row['p50_s']:>7.3f} {row['p95_s']:>7.3f} {row['max_s']:>7.3f} "
            f"{row['rss_before_mb']:>8.0f}MB {row['rss_peak_mb']:>5.0f}MB {row['rss_after_mb']:>5.0f}MB "
            f"{row['server_cpu_pct']:>8.0f} {row['client_cpu_pct']:>8.0f} "
            f"{row['machine_load_1min'][1]:>5.1f}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="a running server (loopback); default: start one")
    parser.add_argument(
        "--start-server", action="store_true", help="start a server (default without --url)"
    )
    parser.add_argument(
        "--port", type=int, default=0, help="port for a started server (default: free in 8650-8669)"
    )
    parser.add_argument("--server-pid", type=int, help="pid of the --url server, for RSS/CPU")
    parser.add_argument("--students", type=int, nargs="+", default=[25], help="one run per count")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds per run")
    parser.add_argument(
        "--ramp", type=float, default=10.0, help="seconds over which students arrive"
    )
    parser.add_argument("--think", type=float, nargs=2, default=(2.0, 8.0), metavar=("MIN", "MAX"),
                        help="seconds a student waits between interactions (uniform)")  # fmt: skip
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for one run")
    parser.add_argument("--settle", type=float, default=15.0, help="seconds before 'after' RSS")
    parser.add_argument("--upload-probability", type=float, default=0.1)
    parser.add_argument("--server-arg", action="append", default=[], help="extra streamlit flag")
    parser.add_argument("--cold", action="store_true", help="skip the warm-up visit")
    parser.add_argument("--server-log", help="write a started server's output here")
    parser.add_argument("--server-env", action="append", default=[], metavar="NAME=VALUE",
                        help="environment for a started server, e.g. MALLOC_ARENA_MAX=2")  # fmt: skip
    parser.add_argument("--replicas", type=int, default=1,
                        help="start this many servers behind HAProxy (deploy/compose/haproxy.cfg)")  # fmt: skip
    parser.add_argument("--avoid", nargs="*", default=[], metavar="PAGE",
                        help="pages no student opens, e.g. histogram")  # fmt: skip
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    if any(not 1 <= count <= MAX_STUDENTS for count in args.students):
        parser.error(f"--students must be in 1..{MAX_STUDENTS}")
    if not 0 < args.duration <= MAX_DURATION_S:
        parser.error(f"--duration must be in (0, {MAX_DURATION_S:.0f}]")
    if not 1 <= args.replicas <= 3:
        parser.error("--replicas must be in 1..3 (the servers in deploy/compose/haproxy.cfg)")

    def run_all(
        url: str, pid: int | list[int] | None, servers: Sequence[str] = ()
    ) -> list[dict[str, Any]]:
        rows = []
        for count in args.students:
            row = measure(
                url, pid, servers=servers, students=count, duration=args.duration, ramp=args.ramp,
                think=tuple(args.think), timeout=args.timeout, settle=args.settle,
                upload_probability=args.upload_probability, warm=not args.cold,
                avoid=args.avoid,
            )  # fmt: skip
            rows.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
        return rows

    if args.url and not args.start_server:
        parts = _check_loopback(args.url)
        pid = args.server_pid or server_pid_for_port(parts.port or 0)
        rows = run_all(args.url, pid)
    elif args.replicas > 1:
        env = dict(item.split("=", 1) for item in args.server_env)
        with lecture_hall(
            args.replicas, extra=args.server_arg, log_path=args.server_log, env=env
        ) as (url, pids, servers):
            rows = run_all(url, pids, servers)
    else:
        port = args.port or free_port()
        env = dict(item.split("=", 1) for item in args.server_env)
        with streamlit_server(
            port, extra=args.server_arg, log_path=args.server_log, env=env
        ) as process:
            rows = run_all(f"http://127.0.0.1:{port}", process.pid)
    print(f"machine: {os.cpu_count()} CPUs, {psutil.virtual_memory().total / 2**30:.0f} GiB RAM; "
          f"think {args.think[0]:g}-{args.think[1]:g} s; {args.duration:g} s per run; ramp {args.ramp:g} s; "
          f"{args.replicas} server process(es)")  # fmt: skip
    print(table(rows))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    return 1 if any(row["errors"] for row in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
