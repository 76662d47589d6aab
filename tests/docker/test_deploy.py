"""The lecture-hall examples in deploy/: Kubernetes manifests, compose file and HAProxy config.

The manifests are checked for consistency (labels, ports, probes, cookie affinity); the HAProxy
config is checked by `haproxy -c` and then run for real in front of three stand-in replicas on
127.0.0.1 to show that the affinity cookie keeps a browser on one replica even when every
browser comes from the same address (a lecture hall behind one NAT).
"""

from __future__ import annotations

import http.cookies
import http.server
import re
import shutil
import socket
import subprocess
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
K8S = DEPLOY / "kubernetes" / "forward-diffusion.yaml"
COMPOSE = DEPLOY / "compose" / "compose.yaml"
HAPROXY_CFG = DEPLOY / "compose" / "haproxy.cfg"
HEALTH = "/_stcore/health"
COOKIE = "FDE_REPLICA"


def _manifests() -> dict[str, dict]:
    docs = [doc for doc in yaml.safe_load_all(K8S.read_text()) if doc]
    by_kind = {doc["kind"]: doc for doc in docs}
    assert len(by_kind) == len(docs), "one object of each kind expected"
    return by_kind


def test_kubernetes_objects_fit_together() -> None:
    objs = _manifests()
    assert {"Deployment", "Service", "Ingress"} <= objs.keys()
    deployment, service, ingress = objs["Deployment"], objs["Service"], objs["Ingress"]

    labels = deployment["spec"]["template"]["metadata"]["labels"]
    selector = deployment["spec"]["selector"]["matchLabels"]
    assert selector.items() <= labels.items()
    assert service["spec"]["selector"].items() <= labels.items()
    if "PodDisruptionBudget" in objs:
        assert objs["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"] == selector
    assert deployment["spec"]["replicas"] >= 2

    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 1000
    (container,) = pod["containers"]
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    assert ports == {"http": 8501}
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": HEALTH, "port": "http"}, probe
    env = {item["name"]: item for item in container["env"]}
    assert "secretKeyRef" in env["STREAMLIT_SERVER_COOKIE_SECRET"]["valueFrom"]
    # A read-only root needs writable /tmp and $HOME (/home/app in the image).
    if container["securityContext"].get("readOnlyRootFilesystem"):
        mounts = {mount["mountPath"] for mount in container["volumeMounts"]}
        assert {"/tmp", "/home/app"} <= mounts

    # Client-IP affinity would pin a NAT-ed lecture hall to one pod.
    assert service["spec"].get("sessionAffinity", "None") == "None"
    (service_port,) = service["spec"]["ports"]
    assert service_port["targetPort"] == "http"

    notes = ingress["metadata"]["annotations"]
    assert notes["nginx.ingress.kubernetes.io/affinity"] == "cookie"
    assert notes["nginx.ingress.kubernetes.io/session-cookie-name"] == COOKIE
    for timeout in ("proxy-read-timeout", "proxy-send-timeout"):
        assert int(notes[f"nginx.ingress.kubernetes.io/{timeout}"]) >= 3600
    config = (REPO / ".streamlit" / "config.toml").read_text()
    upload_mb = int(re.search(r"maxUploadSize\s*=\s*(\d+)", config).group(1))
    body = notes["nginx.ingress.kubernetes.io/proxy-body-size"]
    assert int(body.removesuffix("m")) >= upload_mb, "nginx would refuse the largest upload"
    (rule,) = ingress["spec"]["rules"]
    backends = [path["backend"]["service"] for path in rule["http"]["paths"]]
    assert backends == [{"name": service["metadata"]["name"], "port": {"name": "http"}}]


def _haproxy_servers(text: str) -> list[tuple[str, str, str]]:
    """(name, address, cookie) of each `server` line."""
    return re.findall(r"^\s*server\s+(\S+)\s+(\S+)\s+.*\bcookie\s+(\S+)", text, re.M)


def test_compose_replicas_match_the_haproxy_backends() -> None:
    compose = yaml.safe_load(COMPOSE.read_text())
    services = compose["services"]
    replicas = sorted(name for name in services if name != "proxy")
    assert len(replicas) >= 2
    for name in replicas:
        app = services[name]
        assert app["image"].startswith("forward-diffusion-explorer")
        assert "STREAMLIT_SERVER_COOKIE_SECRET" in app["environment"]
        if app.get("read_only"):
            assert {"/tmp", "/home/app"} <= set(app["tmpfs"])
    proxy = services["proxy"]
    assert proxy["image"].startswith("haproxy:")
    mount_source = proxy["volumes"][0].split(":")[0]
    assert (COMPOSE.parent / mount_source).resolve() == HAPROXY_CFG

    servers = _haproxy_servers(HAPROXY_CFG.read_text())
    assert sorted(name for name, _, _ in servers) == replicas
    assert sorted(address for _, address, _ in servers) == [f"{name}:8501" for name in replicas]
    assert len({cookie for _, _, cookie in servers}) == len(servers)


needs_haproxy = pytest.mark.skipif(
    shutil.which("haproxy") is None, reason="haproxy not installed (apt-get install haproxy)"
)


@needs_haproxy
def test_haproxy_accepts_the_config() -> None:
    proc = subprocess.run(
        ["haproxy", "-c", "-f", str(HAPROXY_CFG)], capture_output=True, text=True, timeout=30
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def replicas() -> Iterator[dict[str, int]]:
    """Three stand-in replicas: each answers the health check and names itself."""
    servers = {}
    for name in ("app1", "app2", "app3"):

        class Handler(http.server.BaseHTTPRequestHandler):
            replica = name

            def do_GET(self) -> None:
                body = b"ok" if self.path == HEALTH else self.replica.encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers[name] = server
    yield {name: server.server_address[1] for name, server in servers.items()}
    for server in servers.values():
        server.shutdown()
        server.server_close()


def _get(url: str, cookie: str | None = None) -> tuple[str, str | None]:
    """(replica that answered, value of the affinity cookie it set, if any)."""
    request = urllib.request.Request(
        url, headers={"Cookie": f"{COOKIE}={cookie}"} if cookie else {}
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        jar = http.cookies.SimpleCookie()
        for header in response.headers.get_all("Set-Cookie") or []:
            jar.load(header)
        return response.read().decode(), jar[COOKIE].value if COOKIE in jar else None


@needs_haproxy
def test_haproxy_keeps_each_browser_on_its_replica(
    tmp_path: Path, replicas: dict[str, int]
) -> None:
    # The shipped config, with the replicas' addresses and the listening port made local.
    config = HAPROXY_CFG.read_text()
    for name, port in replicas.items():
        config, count = re.subn(rf"\b{name}:8501\b", f"127.0.0.1:{port}", config)
        assert count == 1, name
    port = _free_port()
    config, count = re.subn(r"^(\s*bind\s+):8080\b", rf"\g<1>127.0.0.1:{port}", config, flags=re.M)
    assert count == 1
    cfg = tmp_path / "haproxy.cfg"
    cfg.write_text(config)

    log = tmp_path / "haproxy.log"
    with log.open("w") as out:  # the child keeps its own copy of the descriptor
        proxy = subprocess.Popen(["haproxy", "-db", "-f", str(cfg)], stdout=out, stderr=out)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                _get(url)
                break
            except OSError:
                assert proxy.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "haproxy did not answer"
                time.sleep(0.2)

        # 30 new browsers, all from 127.0.0.1: spread over all replicas, each told its replica.
        first = [_get(url) for _ in range(30)]
        assert all(cookie is not None for _, cookie in first)
        assert set(Counter(replica for replica, _ in first)) == set(replicas)
        # Each browser comes back with its cookie and lands where it started, every time.
        for replica, cookie in first:
            for _ in range(5):
                again, _ = _get(url, cookie)
                assert again == replica
    finally:
        proxy.terminate()
        proxy.wait(timeout=10)
