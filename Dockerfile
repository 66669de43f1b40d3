# The user-code image: serves the stock_assets code location over gRPC on port 3030, and carries
# alembic.ini + alembic/ so the Helm hook Job can run `alembic upgrade head` from the same image.
#
#   docker build -t registry.example.com/stock-assets:<unique tag> .
#
# No secret is baked in: the Alpha Vantage key, the database URL and the bucket arrive as
# environment variables at run time (Kubernetes Secrets in the cluster; see "Deploying on Kubernetes" in README.md).
# stock_assets_tests/test_dockerfile.py replays these RUN and COPY lines without Docker and
# starts the CMD, so keep RUN lines to commands it knows (python, pip, mkdir, user setup).

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/venv
COPY pyproject.toml README.md dagster.yaml ./
COPY alembic ./alembic
COPY stock_assets ./stock_assets
# A regular install of the pinned project: runtime dependencies only, never the [dev] extra.
RUN /opt/venv/bin/pip install .

FROM python:3.11-slim AS runtime
# A numeric, non-root user: Kubernetes can only verify runAsNonRoot against a numeric USER.
RUN groupadd --system --gid 10001 dagster \
 && useradd --system --uid 10001 --gid 10001 --home-dir /opt/dagster/home --no-create-home \
      --shell /usr/sbin/nologin dagster \
 && mkdir -p /opt/dagster/home /opt/dagster/dagster_home /opt/dagster/data /opt/dagster/app \
 && chown 10001:10001 /opt/dagster/home /opt/dagster/dagster_home /opt/dagster/data
COPY --from=build /opt/venv /opt/venv
WORKDIR /opt/dagster/app
COPY alembic.ini ./
COPY alembic ./alembic
# The repository's instance settings, for a plain `docker run`; the run pods the Dagster chart
# launches get the chart's instead, mounted over this file.
COPY dagster.yaml /opt/dagster/dagster_home/dagster.yaml
# DAGSTER_HOME matches the official chart's default global.dagsterHome.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DAGSTER_HOME=/opt/dagster/dagster_home \
    STOCK_ASSETS_DATA_DIR=/opt/dagster/data
USER 10001:10001
EXPOSE 3030
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s \
    CMD ["dagster", "api", "grpc-health-check", "-p", "3030"]
# No ENTRYPOINT: the chart passes the whole command line as the container's args.
CMD ["dagster", "code-server", "start", "-h", "0.0.0.0", "-p", "3030", "-m", "stock_assets.definitions"]
