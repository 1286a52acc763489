# The API image (also runs the loader). MongoDB runs in its own container (see
# docker-compose.yml). The base image is pinned to an exact Python release.
FROM python:3.11.14-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

# Dependencies first, from the hashed lock: this layer is rebuilt only when the lock
# changes, not on every code change.
COPY requirements.lock ./
RUN pip install --require-hashes -r requirements.lock

# Then the code, installed without touching the dependencies.
COPY pyproject.toml README.md ./
COPY api ./api
COPY loaders ./loaders
COPY storage ./storage
RUN pip install --no-deps .

COPY seeds ./seeds

RUN useradd --system --uid 10001 newsgraph
# The search index's directory (SEARCH_INDEX_DIR in docker-compose.yml): a volume
# mounted here takes this owner.
RUN mkdir -p /var/lib/newsgraph/search && chown newsgraph /var/lib/newsgraph/search
USER newsgraph

ENV HOST=0.0.0.0 PORT=8000
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz').status != 200)"
CMD ["python", "-m", "api"]
