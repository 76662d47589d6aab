"""Build the Docker image and run it: health, main page, uid 1000, clean stop.

Needs a Docker engine. Where none runs and the test runs as root, it starts its own
(`dockerd --iptables=false --bridge=none`, storage driver overlay2 where overlayfs mounts, else
vfs, data under FDE_DOCKER_CACHE, default /var/lib/fde-docker-test) and stops it afterwards.
Nothing is pulled:

* the base image (the tag the Dockerfile's FROM names) is used when the engine already has it
  (`docker pull python:3.11-slim-bookworm` where Docker Hub is reachable); otherwise a stand-in is
  made with debootstrap (Debian bookworm minbase with python3, python3-venv, python3-pip,
  ca-certificates) from the Debian mirror that this machine's apt uses, and `docker import`ed
  under that tag. The root file system is kept as a tarball and the image stays in the engine,
  so a rerun skips debootstrap.
* the Python packages come from a package index that the test serves on 127.0.0.1 from a
  wheelhouse made by this machine's pip (its own CA bundle, mirrors and local wheels apply), and
  the build takes them through the Dockerfile's TORCH_INDEX_URL and PIP_INDEX_URL arguments.

With no engine and no way to start one the test fails; DOCKER_TESTS=0 skips it explicitly.
Measured figures (debootstrap, build, image size, time to healthy, stop) go to
test-artifacts/docker.json.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import http.server
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = [pytest.mark.docker, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[1]
IMAGE = "forward-diffusion-explorer:test"
BUILD_STAGE_IMAGE = "forward-diffusion-explorer:test-build"
# The CPU image is about 1 GiB; the CUDA build of torch alone is several GiB, so this bound
# catches a build that silently took the default (CUDA) torch from PyPI.
MAX_CPU_IMAGE_BYTES = 2 * 1024**3
HEALTH_DEADLINE_S = 60
STOP_TIMEOUT_S = 20
DEFAULT_TORCH_INDEX = "https://download.pytorch.org/whl/cpu"
INDEX_PORT = 38517


def _cache_dir() -> Path:
    default = (
        "/var/lib/fde-docker-test"
        if os.geteuid() == 0
        else str(Path.home() / ".cache" / "fde-docker-test")
    )
    path = Path(os.environ.get("FDE_DOCKER_CACHE", default))
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def figures() -> Iterator[dict[str, object]]:
    """Measured figures, written to test-artifacts/docker.json when the module ends."""
    found: dict[str, object] = {}
    yield found
    out = REPO / "test-artifacts"
    out.mkdir(exist_ok=True)
    (out / "docker.json").write_text(json.dumps(found, indent=2) + "\n")
    print("\ndocker figures:", json.dumps(found))


# ---- the engine ----------------------------------------------------------------------------------


class Docker:
    """Runs the docker CLI against one engine."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env

    def __call__(
        self, *args: str, timeout: float = 120, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            ["docker", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and proc.returncode != 0:
            pytest.fail(
                f"docker {' '.join(args)} exited {proc.returncode}:\n"
                f"{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
            )
        return proc

    def ok(self, *args: str, timeout: float = 30) -> bool:
        return self(*args, timeout=timeout, check=False).returncode == 0


def _engine_answers(env: dict[str, str]) -> bool:
    try:
        return Docker(env).ok("info", "--format", "{{.ServerVersion}}", timeout=20)
    except subprocess.TimeoutExpired:
        return False


def _unmount_below(root: Path) -> None:
    with open("/proc/self/mounts") as mounts:
        points = [line.split()[1] for line in mounts]
    for point in sorted(points, key=len, reverse=True):
        if point.startswith(f"{root}/"):
            subprocess.run(["umount", point], capture_output=True, timeout=30)


def _storage_driver(scratch: Path) -> str:
    """overlay2 where this kernel mounts overlayfs here (much faster), else vfs (works anywhere)."""
    if os.environ.get("FDE_DOCKER_STORAGE_DRIVER"):
        return os.environ["FDE_DOCKER_STORAGE_DRIVER"]
    probe = scratch / "overlay-probe"
    dirs = {name: probe / name for name in ("lower", "upper", "work", "merged")}
    for path in dirs.values():
        path.mkdir(parents=True)
    options = f"lowerdir={dirs['lower']},upperdir={dirs['upper']},workdir={dirs['work']}"
    mounted = subprocess.run(
        ["mount", "-t", "overlay", "overlay", "-o", options, str(dirs["merged"])],
        capture_output=True,
        timeout=30,
    )
    if mounted.returncode == 0:
        subprocess.run(["umount", str(dirs["merged"])], check=True, timeout=30)
    shutil.rmtree(probe)
    return "overlay2" if mounted.returncode == 0 else "vfs"


@pytest.fixture(scope="module")
def docker(figures: dict[str, object]) -> Iterator[Docker]:
    if os.environ.get("DOCKER_TESTS") == "0":
        pytest.skip("DOCKER_TESTS=0 set: Docker image tests skipped on purpose")
    if shutil.which("docker") is None:
        pytest.fail("the docker CLI is not installed (Debian: apt-get install docker.io)")

    env = dict(os.environ)
    if _engine_answers(env):
        figures["engine"] = "existing"
        yield Docker(env)
        return

    dockerd = shutil.which("dockerd")
    if dockerd is None or os.geteuid() != 0:
        pytest.fail(
            "no Docker engine answers and this test cannot start one "
            f"(dockerd found: {dockerd is not None}, root: {os.geteuid() == 0}). "
            "Start one, or set DOCKER_TESTS=0 to skip the Docker tests on purpose."
        )

    cache = _cache_dir()
    # One engine per data-root: a second concurrent run must not share it.
    lock = (cache / "engine.lock").open("w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        pytest.fail(f"another test run holds the Docker engine in {cache}; run one at a time")

    run_dir = Path(tempfile.mkdtemp(prefix="fde-dk-", dir="/tmp"))  # short: socket path limit
    sock = run_dir / "docker.sock"
    driver = _storage_driver(run_dir)
    log = (run_dir / "dockerd.log").open("w")
    proc = subprocess.Popen(
        [
            dockerd,
            f"--storage-driver={driver}",
            "--iptables=false",
            "--bridge=none",
            f"--data-root={cache / f'data-root-{driver}'}",
            f"--exec-root={run_dir / 'exec'}",
            f"--pidfile={run_dir / 'docker.pid'}",
            f"--host=unix://{sock}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    env["DOCKER_HOST"] = f"unix://{sock}"
    env["DOCKER_BUILDKIT"] = "0"  # the legacy builder: no buildx plugin here
    started = time.monotonic()
    try:
        while not _engine_answers(env):
            if proc.poll() is not None or time.monotonic() - started > 60:
                log.flush()
                tail = (run_dir / "dockerd.log").read_text()[-4000:]
                pytest.fail(f"dockerd did not come up (exit {proc.poll()}):\n{tail}")
            time.sleep(0.5)
        figures["engine"] = f"started by the test ({driver}, no bridge)"
        figures["engine_start_s"] = round(time.monotonic() - started, 1)
        yield Docker(env)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        _unmount_below(run_dir)  # dockerd leaves exec/netns/default bind-mounted
        shutil.rmtree(run_dir, ignore_errors=True)
        lock.close()


# ---- the base image ------------------------------------------------------------------------------


def _from_images() -> list[str]:
    lines = (REPO / "Dockerfile").read_text().splitlines()
    return [line.split()[1] for line in lines if re.match(r"(?i)^\s*FROM\s", line)]


def _debootstrap_base(tag: str, tarball: Path, figures: dict[str, object]) -> None:
    """A Debian bookworm root with python3 (3.11), laid out like the official image, as a tar."""
    if shutil.which("debootstrap") is None or os.geteuid() != 0:
        pytest.fail(f"{tag} is not in the engine and debootstrap (as root) is not available")
    mirror = _debian_mirror()
    work = Path(tempfile.mkdtemp(prefix="rootfs-", dir=tarball.parent))
    try:
        started = time.monotonic()
        proc = subprocess.run(
            [
                "debootstrap",
                "--variant=minbase",
                "--include=python3,python3-venv,python3-pip,ca-certificates",
                "bookworm",
                str(work),
                mirror,
            ],
            capture_output=True,
            text=True,
            timeout=1800,
        )
        if proc.returncode != 0:
            pytest.fail(f"debootstrap failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
        figures["debootstrap_s"] = round(time.monotonic() - started, 1)

        # Like the official image: python, python3 and pip on /usr/local/bin, no apt caches.
        for name, target in [("python", "python3"), ("python3", "python3"), ("pip", "pip3")]:
            (work / "usr/local/bin" / name).symlink_to(f"/usr/bin/{target}")
        for junk in ["var/cache/apt", "var/lib/apt/lists", "usr/share/doc", "usr/share/man"]:
            for child in (work / junk).glob("*"):
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child)
                else:
                    child.unlink()
        partial = tarball.with_suffix(".partial")
        subprocess.run(
            ["tar", "--numeric-owner", "-C", str(work), "-cf", str(partial), "."],
            check=True,
            timeout=600,
        )
        partial.rename(tarball)
        figures["base_image"] = f"debootstrap bookworm minbase, cached as {tarball.name}"
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _debian_mirror(suite: str = "bookworm") -> str:
    """The URI that this machine's apt uses for `<suite> main` (one-line or deb822 sources)."""
    if os.environ.get("FDE_DEBIAN_MIRROR"):
        return os.environ["FDE_DEBIAN_MIRROR"]
    apt = Path("/etc/apt")
    for path in [apt / "sources.list", *sorted((apt / "sources.list.d").glob("*"))]:
        if not path.is_file():
            continue
        text = path.read_text()
        if path.suffix == ".sources":
            for stanza in re.split(r"\n\s*\n", text):
                fields: dict[str, list[str]] = {}
                for line in stanza.splitlines():
                    if ":" in line and not line.lstrip().startswith("#"):
                        key, value = line.split(":", 1)
                        fields[key.strip().lower()] = value.split()
                if (
                    "deb" in fields.get("types", [])
                    and suite in fields.get("suites", [])
                    and "main" in fields.get("components", [])
                    and fields.get("uris")
                ):
                    return fields["uris"][0]
        else:
            for line in text.splitlines():
                words = re.sub(r"\[[^]]*\]", "", line.split("#", 1)[0]).split()
                if (
                    len(words) >= 4
                    and words[0] == "deb"
                    and words[2] == suite
                    and "main" in words[3:]
                ):
                    return words[1]
    pytest.fail(
        f"no Debian {suite} mirror in /etc/apt/sources.list*: set FDE_DEBIAN_MIRROR, "
        f"or load the base image into the engine first"
    )


@pytest.fixture(scope="module")
def base_image(docker: Docker, figures: dict[str, object]) -> str:
    images = _from_images()
    assert images, "the Dockerfile has no FROM line"
    assert len(set(images)) == 1, f"all stages should share one base image, got {images}"
    tag = images[0]
    assert re.fullmatch(r"python:3\.11-slim-bookworm", tag), tag
    if docker.ok("image", "inspect", tag):
        figures["base_image"] = "cached in the engine"
        return tag

    tarball = _cache_dir() / f"base-{re.sub(r'[^A-Za-z0-9.]+', '-', tag)}.tar"
    if not tarball.exists():
        _debootstrap_base(tag, tarball, figures)
    else:
        figures["base_image"] = f"imported from the cached {tarball.name}"
    started = time.monotonic()
    with tarball.open("rb") as source:
        imported = subprocess.run(
            [
                "docker",
                "import",
                "--change",
                "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "--change",
                "ENV LANG=C.UTF-8",
                "--change",
                'CMD ["python3"]',
                "--message",
                f"debootstrap stand-in for {tag}",
                "-",
                tag,
            ],
            stdin=source,
            env=docker.env,
            capture_output=True,
            text=True,
            timeout=600,
        )
    if imported.returncode != 0:
        pytest.fail(f"docker import failed:\n{imported.stderr}")
    figures["base_import_s"] = round(time.monotonic() - started, 1)
    return tag


# ---- a package index on 127.0.0.1 ----------------------------------------------------------------


def _wheelhouse(figures: dict[str, object]) -> Path:
    """A PEP 503 tree, simple/<project>/<wheel>, of everything requirements.txt needs."""
    requirements = (REPO / "requirements.txt").read_bytes()
    root = _cache_dir() / "index" / hashlib.sha256(requirements).hexdigest()[:16]
    if (root / "complete").exists():
        figures["wheelhouse"] = "cached"
        return root
    download = root / "download"
    started = time.monotonic()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--only-binary=:all:",
            "--extra-index-url",
            DEFAULT_TORCH_INDEX,
            "--timeout",
            "15",
            "--retries",
            "1",
            "-r",
            str(REPO / "requirements.txt"),
            "-d",
            str(download),
        ],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if proc.returncode != 0:
        pytest.fail(f"pip download failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    for wheel in download.glob("*.whl"):
        project = re.sub(r"[-_.]+", "-", wheel.name.split("-", 1)[0]).lower()
        (root / "simple" / project).mkdir(parents=True, exist_ok=True)
        os.link(wheel, root / "simple" / project / wheel.name)
    (root / "complete").touch()
    figures["wheelhouse_s"] = round(time.monotonic() - started, 1)
    return root


@pytest.fixture(scope="module")
def package_index(figures: dict[str, object]) -> Iterator[str]:
    root = _wheelhouse(figures)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    handler = functools.partial(Quiet, directory=str(root))
    # The index URL is a build argument, and a changed build argument voids Docker's build cache:
    # the same port every run keeps reruns fast. Any free port will do when that one is taken.
    try:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", INDEX_PORT), handler)
    except OSError:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/simple/"
    finally:
        server.shutdown()
        server.server_close()


# ---- the image -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def image(docker: Docker, base_image: str, package_index: str, figures: dict[str, object]) -> str:
    assert (REPO / "app.py").is_file(), "app.py is missing: nothing to put in the image"
    build_args = [
        "--network=host",
        "--build-arg",
        f"TORCH_INDEX_URL={package_index}",
        "--build-arg",
        f"PIP_INDEX_URL={package_index}",
        "--build-arg",
        "PIP_DEFAULT_TIMEOUT=10",
        "--build-arg",
        "PIP_RETRIES=1",
    ]
    started = time.monotonic()
    # The build stage gets a tag of its own so that it survives the prune below as build cache.
    docker(
        "build", *build_args, "--target", "build", "-t", BUILD_STAGE_IMAGE, str(REPO), timeout=1800
    )
    docker("build", *build_args, "-t", IMAGE, str(REPO), timeout=1800)
    figures["build_s"] = round(time.monotonic() - started, 1)
    if "started by the test" in str(figures.get("engine")):
        docker("image", "prune", "--force", timeout=600)  # older builds, in this test's engine only
    size = int(docker("image", "inspect", "--format", "{{.Size}}", IMAGE).stdout)
    figures["image_bytes"] = size
    figures["image_mib"] = round(size / 2**20)
    return IMAGE


def test_image_is_cpu_sized_and_runs_as_uid_1000(docker: Docker, image: str) -> None:
    config = json.loads(docker("image", "inspect", "--format", "{{json .Config}}", image).stdout)
    assert config["User"] == "1000:1000"
    assert config["WorkingDir"] == "/app"
    assert "8501/tcp" in config["ExposedPorts"]
    assert config["Cmd"] == [
        "streamlit",
        "run",
        "app.py",
        "--server.address=0.0.0.0",
        "--server.port=8501",
    ]
    assert "/_stcore/health" in " ".join(config["Healthcheck"]["Test"])
    size = int(docker("image", "inspect", "--format", "{{.Size}}", image).stdout)
    assert size < MAX_CPU_IMAGE_BYTES, f"{size / 2**30:.2f} GiB: not the CPU build of torch?"

    probe = (
        "import os, torch, streamlit; "
        "print(os.getuid(), torch.__version__, torch.cuda.is_available(), streamlit.__version__)"
    )
    uid, torch_version, cuda, _ = docker(
        "run", "--rm", "--network=none", image, "python", "-c", probe, timeout=180
    ).stdout.split()
    assert uid == "1000"
    assert torch_version.endswith("+cpu"), torch_version
    assert cuda == "False"


def test_image_holds_only_the_app(docker: Docker, image: str) -> None:
    listing = docker(
        "run", "--rm", "--network=none", image, "sh", "-c", "cd /app && find . -maxdepth 2 | sort"
    ).stdout.split()
    names = {entry.removeprefix("./") for entry in listing}
    assert {"app.py", "core", "pages", ".streamlit/config.toml"} <= names, names
    for kept_out in ["tests", "bench", "deploy", ".git", ".venv", ".streamlit/secrets.toml"]:
        assert kept_out not in names
    assert not [name for name in names if "__pycache__" in name]
    # The code is root's: uid 1000 cannot rewrite it.
    writable = docker(
        "run",
        "--rm",
        "--network=none",
        image,
        "sh",
        "-c",
        "test -w /app/app.py && echo yes || echo no",
    ).stdout.strip()
    assert writable == "no"


def _in_container(docker: Docker, name: str, code: str, timeout: float = 15) -> str:
    return docker("exec", name, "python", "-c", code, timeout=timeout).stdout


FETCH = (
    "import sys, urllib.request; "
    "r = urllib.request.urlopen('http://localhost:8501{path}', timeout=5); "
    "sys.stdout.write(str(r.status) + '\\n' + r.read().decode())"
)


def test_container_serves_the_app_and_stops_cleanly(
    docker: Docker, image: str, figures: dict[str, object]
) -> None:
    # No network at all: the image's own CMD on its own port 8501, probed from inside, so no
    # host port can clash. --health-interval only makes Docker run the HEALTHCHECK sooner.
    name = f"fde-test-{uuid.uuid4().hex[:8]}"
    # Read-only root with writable /tmp and $HOME, as in deploy/ (Kubernetes and compose).
    docker(
        "run",
        "--detach",
        "--name",
        name,
        "--network=none",
        "--read-only",
        "--tmpfs",
        "/tmp",
        "--tmpfs",
        "/home/app",
        "--health-interval=2s",
        image,
    )
    try:
        started = time.monotonic()
        while True:
            probe = docker(
                "exec", name, "python", "-c", FETCH.format(path="/_stcore/health"), check=False
            )
            if probe.returncode == 0 and probe.stdout.startswith("200"):
                break
            state = docker("inspect", "--format", "{{.State.Status}}", name).stdout.strip()
            if state != "running" or time.monotonic() - started > HEALTH_DEADLINE_S:
                logs = docker("logs", name, check=False)
                pytest.fail(
                    f"no 200 from /_stcore/health within {HEALTH_DEADLINE_S} s (state {state}):\n"
                    f"{probe.stderr[-1500:]}\n--- logs ---\n{logs.stdout[-3000:]}{logs.stderr[-3000:]}"
                )
            time.sleep(0.5)
        figures["time_to_healthy_s"] = round(time.monotonic() - started, 1)

        page = _in_container(docker, name, FETCH.format(path="/"))
        assert page.startswith("200")
        assert '<div id="root">' in page, page[:500]

        # The server (PID 1) runs as uid 1000 and listens on all interfaces (0.0.0.0:8501).
        status = _in_container(docker, name, "print(open('/proc/1/status').read())")
        uids = re.search(r"^Uid:\s+(.*)$", status, re.M)
        assert uids is not None and uids.group(1).split() == ["1000"] * 4, status
        tcp = _in_container(docker, name, "print(open('/proc/net/tcp').read())")
        assert re.search(r"^\s*\d+: 00000000:2135 00000000:0000 0A ", tcp, re.M), tcp

        # Docker's own HEALTHCHECK agrees.
        deadline = time.monotonic() + 30
        while (
            health := docker("inspect", "--format", "{{.State.Health.Status}}", name).stdout.strip()
        ) != "healthy":
            assert health == "starting" and time.monotonic() < deadline, health
            time.sleep(1)

        started = time.monotonic()
        docker("stop", "--time", str(STOP_TIMEOUT_S), name, timeout=STOP_TIMEOUT_S + 30)
        stop_s = time.monotonic() - started
        code = int(docker("inspect", "--format", "{{.State.ExitCode}}", name).stdout)
        figures["stop_s"] = round(stop_s, 1)
        figures["stop_exit_code"] = code
        # 0: streamlit handled SIGTERM; 143: died of SIGTERM. 137 would mean SIGKILL after the
        # timeout, i.e. PID 1 ignored SIGTERM.
        assert code in (0, 143), code
        assert stop_s < STOP_TIMEOUT_S - 2, f"docker stop took {stop_s:.1f} s"
    finally:
        with contextlib.suppress(subprocess.TimeoutExpired):
            docker("rm", "--force", name, check=False, timeout=60)
