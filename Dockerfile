# Backflush API: slim Python, non-root, serves on 8000.
# Set BACKFLUSH_DATABASE_URL to PostgreSQL in production and BACKFLUSH_AUTH_ISSUER to the URL clients use.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- build: the locked dependencies, compiled where they must be (durable-rules is C, built from source)
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc=4:12.* g++=4:12.* make=4.3-* \
    && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/backflush
# Only the hash-pinned lock before this step: the layer is rebuilt when the lock changes, not the code.
COPY requirements.lock /tmp/requirements.lock
RUN /opt/backflush/bin/pip install --require-hashes -r /tmp/requirements.lock

# --- runtime: the interpreter, the installed dependencies and the source; no compiler
FROM ${PYTHON_IMAGE}
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/backflush/bin:$PATH \
    BACKFLUSH_DATABASE_URL=sqlite:////var/lib/backflush/backflush.db
RUN useradd --system --uid 10001 --home-dir /var/lib/backflush --create-home backflush
COPY --from=build /opt/backflush /opt/backflush
WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY alembic ./alembic
COPY api ./api
COPY auth ./auth
COPY backflush ./backflush
COPY models ./models
COPY rules ./rules
# The project itself, pure Python, without dependencies (they are all in the layer above); editable so that
# the migrations beside the code are found where kernel.migrations looks for them.
RUN pip install --no-deps -e /app

USER 10001
WORKDIR /var/lib/backflush
# The SQLite default lives here; mount a volume (or use PostgreSQL) so it outlives the container.
VOLUME ["/var/lib/backflush"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"]
# Migrations run at start under a PostgreSQL advisory lock, so replicas may start together.
CMD ["backflush", "serve", "--host", "0.0.0.0", "--port", "8000"]
