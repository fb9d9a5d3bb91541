# syntax=docker/dockerfile:1
# convoai-mcp over streamable HTTP, as one replica of a team deployment (README: "Deploying for
# a team"; compose.yaml runs two behind nginx on PostgreSQL). Configuration comes from the
# environment only (CONVOAI_* / AGORA_*); nothing secret is baked into the image.
#
#   docker build -t convoai-mcp .
#   docker run --env-file .env -p 8000:8000 convoai-mcp
#
# Binding to 0.0.0.0 (the container's interface) needs CONVOAI_HTTP_TOKEN (or OAuth, see the
# README); without it the server refuses to start with a one-line error naming the variable.
# Extras: postgres (CONVOAI_DATABASE_URL) and oauth (CONVOAI_OAUTH_*: PyJWT with cryptography).

ARG PYTHON_VERSION=3.12

# -- build: wheels of the package and every dependency (no compiler needed: all are wheels) --
FROM python:${PYTHON_VERSION}-slim AS build
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY convoai_mcp ./convoai_mcp
RUN pip wheel --no-cache-dir --wheel-dir /wheels ".[postgres,oauth]"

# -- run: the wheels installed, no build tools, a non-root user --
FROM python:${PYTHON_VERSION}-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    CONVOAI_LOG_FORMAT=json
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-cache-dir --no-index --find-links=/wheels "convoai-mcp[postgres,oauth]" \
    && useradd --system --uid 10001 --create-home --home-dir /home/convoai convoai
USER convoai
WORKDIR /home/convoai
EXPOSE 8000
# Liveness: /healthz answers 200 while the process serves (outside the bearer token); the image
# has no curl, so Python asks. Readiness for a load balancer: /readyz (database and service).
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"]
ENTRYPOINT ["convoai-mcp"]
CMD ["--transport", "streamable-http", "--host", "0.0.0.0", "--port", "8000"]
