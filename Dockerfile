# Cadence: `docker build -t cadence .` then
#   docker run -p 8000:8000 -v cadence-data:/data cadence
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    CADENCE_DATABASE_URL=sqlite:////data/cadence.db \
    CADENCE_MEDIA_DIR=/data/media \
    CADENCE_KEY_FILE=/data/cadence.key \
    CADENCE_HOST=0.0.0.0

# DejaVu Sans lets the weekly digest's PDF print names in any European script.
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 10001 cadence \
    && mkdir -p /data && chown cadence:cadence /data

WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY connectors ./connectors
COPY migrations ./migrations
RUN pip install .

USER cadence
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz').status != 200)"
CMD ["cadence", "serve", "--host", "0.0.0.0"]
