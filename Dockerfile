# Backflush API: slim Python, non-root, serves on 8000. Point BACKFLUSH_DATABASE_URL at PostgreSQL in production.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    BACKFLUSH_DATABASE_URL=sqlite:////var/lib/backflush/backflush.db

# durable-rules builds a small C extension from source.
RUN apt-get update && apt-get install -y --no-install-recommends gcc g++ make curl \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY alembic ./alembic
COPY api ./api
COPY auth ./auth
COPY backflush ./backflush
COPY models ./models
COPY rules ./rules
RUN pip install -e . \
    && useradd --system --home /var/lib/backflush --create-home backflush \
    && apt-get purge -y gcc g++ make && apt-get autoremove -y

USER backflush
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8000/healthz || exit 1
CMD ["backflush", "serve", "--host", "0.0.0.0", "--port", "8000"]
