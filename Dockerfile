# One image for every service; the compose file picks the service module per container.
# The base is any Debian bookworm image: the official one by default, or one built locally from
# Debian's packages where no registry can be reached (scripts/compose-smoke builds
# localhost/debian-bookworm-base with debootstrap and passes --build-arg BASE_IMAGE=...).
ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv ca-certificates fonts-wqy-microhei \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.lock .
# pip trusts the system's CAs (those of the base image included), not only its own bundle.
RUN python3 -m venv /venv \
 && PIP_CERT=/etc/ssl/certs/ca-certificates.crt /venv/bin/pip install --no-cache-dir -r requirements.lock
COPY shared/ shared/
COPY services/ services/
COPY cli/ cli/
COPY config/ config/
COPY campaigns/ campaigns/
ENV PATH=/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    EVENTLET_NO_GREENDNS=yes \
    HBCLOUD_DATA_DIR=/data
RUN useradd --system --home /app hbcloud && mkdir /data && chown hbcloud /data
USER hbcloud
CMD ["nameko", "run", "--config", "config/nameko.yaml", "services.application.service:Service"]
