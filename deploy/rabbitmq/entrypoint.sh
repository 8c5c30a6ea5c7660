#!/bin/sh
# The official image's first-start settings, as rabbitmq.conf: the one user and virtual host the
# system uses (no guest), listening on every interface of the container.
set -eu
: "${RABBITMQ_DEFAULT_USER:?set RABBITMQ_DEFAULT_USER}" "${RABBITMQ_DEFAULT_PASS:?set RABBITMQ_DEFAULT_PASS}"
umask 027
cat > /etc/rabbitmq/rabbitmq.conf <<CONF
default_user = ${RABBITMQ_DEFAULT_USER}
default_pass = ${RABBITMQ_DEFAULT_PASS}
default_vhost = ${RABBITMQ_DEFAULT_VHOST:-/}
default_permissions.configure = .*
default_permissions.read = .*
default_permissions.write = .*
listeners.tcp.default = 5672
CONF
chown root:rabbitmq /etc/rabbitmq/rabbitmq.conf
# A named volume starts empty (or as another image left it): the broker's user must own it.
chown -R rabbitmq:rabbitmq /var/lib/rabbitmq
exec "$@"
