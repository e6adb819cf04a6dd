# syntax=docker/dockerfile:1
# Build a wheel (it carries the migrations), then install it into a slim runtime image.
FROM python:3.11-slim AS build
WORKDIR /src
RUN pip install --no-cache-dir build==1.6.1
COPY pyproject.toml README.md ./
COPY src ./src
COPY migrations ./migrations
RUN python -m build --wheel --outdir /wheels

FROM python:3.11-slim AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    NGUON_HOST=0.0.0.0 \
    NGUON_PORT=8000 \
    NGUON_DATA_DIR=/var/lib/nguon
# No system ffmpeg: media are decoded and rendered by the FFmpeg libraries in PyAV's wheel.
RUN groupadd --system nguon \
    && useradd --system --gid nguon --home-dir /var/lib/nguon --create-home nguon
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER nguon
WORKDIR /var/lib/nguon
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"NGUON_PORT\"]}/healthz', timeout=2)"]
CMD ["nguon", "serve"]
