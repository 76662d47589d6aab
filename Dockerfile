# Forward Diffusion Explorer: a Streamlit app, served on port 8501.
#
#   docker build -t forward-diffusion .                 # CPU build of torch (default)
#   docker run --rm -p 8501:8501 forward-diffusion      # then open http://localhost:8501
#
# CUDA build of torch (a much larger image; run it with `docker run --gpus all`):
#   docker build --build-arg TORCH_INDEX_URL=https://download.pytorch.org/whl/cu128 -t forward-diffusion:cuda .
#
# Build arguments (all optional):
#   TORCH_INDEX_URL       package index that torch (and its own dependencies) come from
#   PIP_INDEX_URL         package index for everything else (a mirror, if you have one)
#   PIP_DEFAULT_TIMEOUT, PIP_RETRIES   how long pip waits for an index
#   RUNTIME_APT_PACKAGES  Debian packages for the runtime stage (e.g. gcc, see GPU in the README)
# The index arguments are used in the build stage only and do not end up in the final image.
# Do not put credentials in them: build arguments are stored in the build stage's history.

# ---- build stage: a virtual environment with the pinned requirements --------------------------
FROM python:3.11-slim-bookworm AS build

ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
ARG PIP_INDEX_URL=https://pypi.org/simple
ARG PIP_DEFAULT_TIMEOUT=60
ARG PIP_RETRIES=5
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

COPY requirements.txt /tmp/requirements.txt
# torch first, from its own index, at the version requirements.txt pins: the default index on PyPI
# would bring the CUDA build and several GiB of NVIDIA libraries. The second install then finds
# torch==X satisfied by X+cpu (or X+cuNNN) and takes the rest from PIP_INDEX_URL.
RUN torch_pin="$(grep -E '^torch==' /tmp/requirements.txt)" \
 && test -n "$torch_pin" \
 && pip install --index-url "$TORCH_INDEX_URL" "$torch_pin" \
 && pip install -r /tmp/requirements.txt \
 && python -c "import streamlit, torch; print('torch', torch.__version__, 'streamlit', streamlit.__version__)"

# ---- runtime stage: the venv, the app, an unprivileged user ------------------------------------
FROM python:3.11-slim-bookworm AS runtime

# Extra Debian packages, e.g. gcc for the fused CUDA kernel (Triton builds a small C launcher).
ARG RUNTIME_APT_PACKAGES=""
# uid/gid 1000, numeric in USER below so that Kubernetes' runAsNonRoot can check it.
RUN groupadd --gid 1000 app \
 && useradd --uid 1000 --gid 1000 --create-home --home-dir /home/app --shell /usr/sbin/nologin app \
 && mkdir /app \
 && if [ -n "$RUNTIME_APT_PACKAGES" ]; then \
        apt-get update \
        && apt-get install -y --no-install-recommends $RUNTIME_APT_PACKAGES \
        && rm -rf /var/lib/apt/lists/*; \
    fi

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/home/app \
    STREAMLIT_BROWSER_GATHER_USAGE_STATS=false
WORKDIR /app
USER 1000:1000
EXPOSE 8501

# slim images have no curl; python is there anyway.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://localhost:8501/_stcore/health', timeout=4).status != 200)"]

# Exec form: streamlit is PID 1 and gets docker stop's SIGTERM itself.
CMD ["streamlit", "run", "app.py", "--server.address=0.0.0.0", "--server.port=8501"]

# The files come last, after all settings: with the legacy builder every instruction copies the
# whole file system on some storage drivers (vfs), and the app changes more often than the venv.
COPY --from=build /opt/venv /opt/venv
# .dockerignore lets through only what the app needs (app.py, pages/, core/, assets/,
# .streamlit/config.toml). COPY ignores USER: the files belong to root, so the app (uid 1000)
# cannot change its own code.
COPY . /app
