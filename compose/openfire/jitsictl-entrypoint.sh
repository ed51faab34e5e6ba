#!/bin/bash
# Entry point of jitsictl's Openfire image: prepares the data volume, then hands over to the
# stock entrypoint of ghcr.io/igniterealtime/openfire (/sbin/entrypoint.sh), which runs as root,
# initialises the volume and starts Openfire as the openfire user.
#
# 1. First boot (no conf/ in the data volume yet): the stock entrypoint copies conf_org/ into the
#    volume, so the seed openfire.xml rendered by jitsictl (mounted read-only, contains secrets)
#    is placed into conf_org/ of this container first. Openfire then runs its <autosetup> once.
#    Later boots leave conf/ alone: from then on Openfire is configured through its REST API.
# 2. Plugin upgrades: the stock entrypoint copies /opt/plugins/*.jar with `cp -n`, never
#    replacing a jar already in the volume; a jar that differs from the image's is replaced here
#    so a rebuilt image delivers its plugins (Openfire reloads a changed plugin jar).
set -euo pipefail

SEED="${JITSICTL_OPENFIRE_SEED:-/opt/jitsictl/openfire.xml}"
PLUGINS="${JITSICTL_PLUGINS_DIR:-/opt/plugins}"
STOCK_ENTRYPOINT="${JITSICTL_STOCK_ENTRYPOINT:-/sbin/entrypoint.sh}"
DATA="${OPENFIRE_DATA_DIR:?OPENFIRE_DATA_DIR is set by the Openfire image}"
HOME_DIR="${OPENFIRE_DIR:?OPENFIRE_DIR is set by the Openfire image}"
OWNER="${OPENFIRE_USER:?OPENFIRE_USER is set by the Openfire image}"

if [[ ! -d "${DATA}/conf" ]]; then
  if [[ -f "${SEED}" ]]; then
    install -m 0640 -o "${OWNER}" -g "${OWNER}" "${SEED}" "${HOME_DIR}/conf_org/openfire.xml"
    echo "jitsictl: first boot: seeded openfire.xml for the unattended setup"
  else
    echo "jitsictl: no seed at ${SEED}: Openfire will wait for its web setup wizard" >&2
  fi
fi

if [[ -d "${DATA}/plugins" ]]; then
  for jar in "${PLUGINS}"/*.jar; do
    [[ -f "${jar}" ]] || continue
    target="${DATA}/plugins/$(basename "${jar}")"
    if [[ -f "${target}" ]] && ! cmp -s "${jar}" "${target}"; then
      install -m 0644 -o "${OWNER}" -g "${OWNER}" "${jar}" "${target}"
      echo "jitsictl: plugin $(basename "${jar}") replaced by the image's version"
    fi
  done
fi

exec "${STOCK_ENTRYPOINT}" "$@"
