# syntax=docker/dockerfile:1
# assetlink's image: the wheel of this checkout installed, with every dependency pinned by hash in
# requirements.lock (`make lock`), into a virtual environment on a slim Python runtime; one
# uvicorn process per container, as a non-root user. docs/deploy.md says how it is run.
# For builds that must match bit for bit, pin the base image by digest:
#   docker build --build-arg PYTHON_IMAGE=python:3.11-slim-trixie@sha256:<digest> .
ARG PYTHON_IMAGE=python:3.11-slim-trixie

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
# The dependencies first (a layer that changes only with the lock), exactly as locked. Wheels
# only, but for docopt: GOV.UK Notify's client declares it (unused by the API client) and it is
# published as a source archive only (its hash is still checked).
COPY requirements.lock ./
RUN python -m venv /opt/assetlink \
    && /opt/assetlink/bin/pip install --no-deps --only-binary=:all: --no-binary=docopt --require-hashes -r requirements.lock
# Then the service itself: its wheel carries alembic.ini and migrations/ (pyproject.toml).
COPY pyproject.toml README.md alembic.ini ./
COPY migrations ./migrations
COPY app ./app
RUN python -m pip wheel --no-deps --wheel-dir /dist . \
    && /opt/assetlink/bin/pip install --no-deps /dist/assetlink-*.whl \
    && /opt/assetlink/bin/pip check

FROM ${PYTHON_IMAGE} AS runtime
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/assetlink --create-home \
    --shell /usr/sbin/nologin assetlink
COPY --from=build /opt/assetlink /opt/assetlink
ENV PATH=/opt/assetlink/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    ASSETLINK_ENVIRONMENT=production
# SQLite's default file (./var/assetlink.db) lands here; on Kubernetes, PostgreSQL instead.
WORKDIR /var/lib/assetlink
USER 10001:10001
EXPOSE 8000
# uvicorn stops on SIGTERM: it closes the listener, finishes the requests under way (30 s at
# most) and runs the app's shutdown. The worker (`assetlink worker`) stops on it too.
STOPSIGNAL SIGTERM
CMD ["assetlink", "serve", "--host", "0.0.0.0", "--port", "8000"]
