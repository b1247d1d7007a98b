# SensorGrid's container image (docs/deployment.md, "Containers").
#
# Stage 1 builds the wheel with the dashboard's browser libraries from the npm registry
# (`make assets`); stage 2 installs only that wheel on a slim Python, without Node.js,
# compilers or the source tree, and runs as an unprivileged user. compose.yaml starts
# each process (`sensorgrid serve | ingest | worker | migrate`) from this one image.
# tests/deploy/test_containers.py checks the HEALTHCHECK path and compose.yaml.

FROM python:3.11-slim-bookworm AS builder
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends make nodejs npm \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# `make assets` runs `npm ci` and copies Leaflet and uPlot into the package; the wheel's
# build hook refuses to build without them.
RUN make assets \
    && python -m pip install --no-cache-dir build \
    && python -m build --wheel --outdir /dist

FROM python:3.11-slim-bookworm AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/sensorgrid/bin:$PATH \
    SENSORGRID_VAR_DIR=/var/lib/sensorgrid \
    SENSORGRID_STATIC_ROOT=/opt/sensorgrid/static \
    SENSORGRID_LOG_FORMAT=json
COPY --from=builder /dist/ /tmp/dist/
RUN python -m venv /opt/sensorgrid \
    && /opt/sensorgrid/bin/pip install --no-cache-dir /tmp/dist/sensorgrid-*.whl \
    && rm -rf /tmp/dist \
    && groupadd --system --gid 10001 sensorgrid \
    && useradd --system --uid 10001 --gid sensorgrid --home-dir /var/lib/sensorgrid \
       --create-home --shell /usr/sbin/nologin sensorgrid \
    && SENSORGRID_VAR_DIR=/tmp/build-var sensorgrid collectstatic --no-input -v0 \
    && rm -rf /tmp/build-var
USER sensorgrid:sensorgrid
WORKDIR /var/lib/sensorgrid
EXPOSE 8000
# /healthz: the process answers, no I/O (docs/operations.md, "Health checks"). The image
# has no curl; Python fetches it.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
ENTRYPOINT ["sensorgrid"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
