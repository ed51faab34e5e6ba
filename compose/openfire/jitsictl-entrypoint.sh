#!/bin/bash
# Entry point of jitsictl's Openfire image: prepares the data volume, then hands over to the
# stock entrypoint of ghcr.io/igniterealtime/openfire (/sbin/entrypoint.sh, Openfire's
# build/docker/entrypoint.sh), which runs as root and starts Openfire as the openfire user.
#
# 1. The stock entrypoint initialises the volume first: given a command it sets everything up
#    (conf/ copied from conf_org/ on an empty volume, plugins from /opt/plugins/) and runs that
#    command instead of Openfire, so `stock true` does only the set-up.
# 2. First boot (the volume had no conf/): the seed openfire.xml rendered by jitsictl (mounted
#    read-only, holds secrets) goes straight into the volume's conf/, mode 0600, so no copy of it
#    stays in the image's conf_org/. Openfire runs its <autosetup> once and copies the other
#    properties (the REST API secret among them) into its database.
# 3. The embedded database: Openfire keeps it in $OPENFIRE_DIR/embedded-db
#    (EmbeddedConnectionProvider), which the stock entrypoint does not link into the volume (it
#    links conf/ and plugins/ only), so it would live in the container and be lost whenever the
#    container is recreated, while conf/ in the volume says the setup is done. It is linked to
#    the volume's embedded-db/ here; a database already in the container moves there first.
# 4. Plugin upgrades: the stock entrypoint copies /opt/plugins/*.jar with `cp -n`, never
#    replacing a jar already in the volume; a jar that differs from the image's is replaced here
#    so a rebuilt image delivers its plugins.
# 5. No secret left behind: Openfire deletes only <autosetup> from conf/openfire.xml. Once the
#    setup has finished (<setup>true</setup>, no <autosetup>: XMPPServer.java deletes it after
#    finalSetupSteps copied the properties) and the database holds plugin.restapi.secret, the
#    plaintext copy is removed from conf/openfire.xml. Openfire rewrites that file from memory
#    while it runs, so this happens here, before it starts, on every boot.
# Nothing here prints a secret.
set -euo pipefail

SEED="${JITSICTL_OPENFIRE_SEED:-/opt/jitsictl/openfire.xml}"
PLUGINS="${JITSICTL_PLUGINS_DIR:-/opt/plugins}"
STOCK_ENTRYPOINT="${JITSICTL_STOCK_ENTRYPOINT:-/sbin/entrypoint.sh}"
DATA="${OPENFIRE_DATA_DIR:?OPENFIRE_DATA_DIR is set by the Openfire image}"
HOME_DIR="${OPENFIRE_DIR:?OPENFIRE_DIR is set by the Openfire image}"
OWNER="${OPENFIRE_USER:?OPENFIRE_USER is set by the Openfire image}"
CONF="${DATA}/conf/openfire.xml"
RESTAPI_SECRET_ELEMENT='<secret>[^<]*</secret>'

restapi_secret_in_conf() {
  sed -n '/<restapi>/,/<\/restapi>/p' "${CONF}" | grep -q "${RESTAPI_SECRET_ELEMENT}"
}

first_boot=false
[[ -d "${DATA}/conf" ]] || first_boot=true

"${STOCK_ENTRYPOINT}" true

if [[ "${first_boot}" == true ]]; then
  if [[ -f "${SEED}" ]]; then
    install -m 0600 -o "${OWNER}" -g "${OWNER}" "${SEED}" "${CONF}"
    echo "jitsictl: first boot: seeded conf/openfire.xml for the unattended setup"
  else
    echo "jitsictl: no seed at ${SEED}: Openfire will wait for its web setup wizard" >&2
  fi
fi

DATABASE="${HOME_DIR}/embedded-db"
if [[ ! -L "${DATABASE}" ]]; then
  mkdir -p "${DATA}/embedded-db"
  if [[ -d "${DATABASE}" ]]; then
    if [[ -z "$(ls -A "${DATA}/embedded-db")" ]]; then
      cp -a "${DATABASE}/." "${DATA}/embedded-db/"
    fi
    rm -rf "${DATABASE}"
  fi
  ln -s "${DATA}/embedded-db" "${DATABASE}"
  chown -h "${OWNER}:${OWNER}" "${DATABASE}"
  chown -R "${OWNER}:${OWNER}" "${DATA}/embedded-db"
fi

for jar in "${PLUGINS}"/*.jar; do
  [[ -f "${jar}" ]] || continue
  target="${DATA}/plugins/$(basename "${jar}")"
  if [[ -f "${target}" ]] && ! cmp -s "${jar}" "${target}"; then
    install -m 0644 -o "${OWNER}" -g "${OWNER}" "${jar}" "${target}"
    echo "jitsictl: plugin $(basename "${jar}") replaced by the image's version"
  fi
done

# Whether the database holds the REST API secret. The embedded database (HSQLDB) keeps its rows
# as SQL text in embedded-db/openfire.script and, until its next checkpoint, openfire.log; an
# external database is written before setup ends.
database_holds_restapi_secret() {
  if grep -q 'EmbeddedConnectionProvider' "${CONF}"; then
    grep -qsF "'plugin.restapi.secret'" "${DATA}/embedded-db/openfire.script" "${DATA}/embedded-db/openfire.log"
  else
    return 0
  fi
}

if [[ -f "${CONF}" ]] && grep -q '<setup>true</setup>' "${CONF}" && ! grep -q '<autosetup>' "${CONF}" \
    && restapi_secret_in_conf; then
  if database_holds_restapi_secret; then
    sed -i "/<restapi>/,/<\/restapi>/{/${RESTAPI_SECRET_ELEMENT//\//\\/}/d}" "${CONF}"
    if restapi_secret_in_conf; then
      echo "jitsictl: could not remove the REST API secret from conf/openfire.xml; remove <secret> under <plugin><restapi> by hand" >&2
    else
      echo "jitsictl: removed the REST API secret from conf/openfire.xml (Openfire's database holds it)"
    fi
  else
    echo "jitsictl: conf/openfire.xml keeps the REST API secret until Openfire's database holds it" >&2
  fi
fi

exec "${STOCK_ENTRYPOINT}" "$@"
