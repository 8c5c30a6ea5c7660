# One image for every service; the compose file picks the service module per container.
# Built from Debian's own base (no registry but Debian's packages and PyPI is needed).
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv ca-certificates fonts-wqy-microhei \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.lock .
RUN python3 -m venv /venv && /venv/bin/pip install --no-cache-dir -r requirements.lock
COPY shared/ shared/
COPY services/ services/
COPY cli/ cli/
COPY config/ config/
COPY campaigns/ campaigns/
ENV PATH=/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    HBCLOUD_DATA_DIR=/data
RUN useradd --system --home /app hbcloud && mkdir /data && chown hbcloud /data
USER hbcloud
CMD ["nameko", "run", "--config", "config/nameko.yaml", "services.application.service:Service"]
