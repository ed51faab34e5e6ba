"""A real Openfire 5.x for the opt-in live suite, on loopback, from a copy of an unpacked release.

Given OPENFIRE_HOME (the `openfire/` directory of Openfire's release tarball, or of a local build)
and the two plugin jars, `LiveOpenfire`:

* copies the home into a temporary directory, so the original is never touched and parallel runs
  do not share a database;
* writes `conf/openfire.xml` rendered by jitsictl's own renderer (`jitsictl.openfire.render`,
  autosetup with the embedded database), with every listening port moved to a free loopback port
  (`network.interface` 127.0.0.1; the XML port properties are copied into the database by
  autosetup, igniterealtime/Openfire `XMPPServer.finalSetupSteps`);
* drops `restAPI.jar` and `attendance.jar` into `plugins/`, as jitsictl's image does;
* resolves the compose project's host names (e.g. `logger`) from a hosts file of its own
  (`-Djdk.net.hosts.file`), so the configuration `jitsictl openfire apply` writes is used as is;
* runs Openfire in the foreground as the release's `bin/openfire.sh` does
  (`lib/startup.jar`, `org.jivesoftware.openfire.starter.ServerStarter`), as our child.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import xml.etree.ElementTree as ET
from pathlib import Path

from tests.support import real_components
from tests.support.prosody_server import free_port

DOMAIN = "meet.jitsi"

# Every listener Openfire 5.0.3 opens (ConnectionManagerImpl, HttpBindManager,
# FileTransferProxy, AdminConsolePlugin), as the XML property path that sets its port.
PORT_PROPERTIES = (
    "adminConsole.port", "adminConsole.securePort",
    "xmpp.socket.plain.port", "xmpp.socket.ssl.port",
    "xmpp.server.socket.port", "xmpp.server.socket.ssl.port",
    "xmpp.component.socket.port", "xmpp.component.ssl.port",
    "xmpp.multiplex.socket.port", "xmpp.multiplex.ssl.port",
    "httpbind.port.plain", "httpbind.port.secure",
    "xmpp.proxy.port",
)


def set_xml_property(root: ET.Element, dotted: str, value: str) -> None:
    """Openfire's XML property `a.b.c` is `<a><b><c>value</c></b></a>` under `<jive>`."""
    element = root
    for name in dotted.split("."):
        child = element.find(name)
        if child is None:
            child = ET.SubElement(element, name)
        element = child
    element.text = value


class LiveOpenfire:
    def __init__(self, home: Path, workdir: Path, *, restapi_jar: Path, attendance_jar: Path,
                 openfire_xml: str, extra_properties: dict[str, str] | None = None,
                 hosts: dict[str, str] | None = None):
        self.source_home = Path(home)
        self.workdir = Path(workdir)
        self.home = self.workdir / "openfire"
        self.restapi_jar = Path(restapi_jar)
        self.attendance_jar = Path(attendance_jar)
        self.ports = {name: free_port() for name in PORT_PROPERTIES}
        self.openfire_xml = self._with_loopback_ports(openfire_xml, extra_properties or {})
        self.hosts = hosts or {}
        self.process: subprocess.Popen | None = None
        self.started_at = 0.0

    # -- addresses ----------------------------------------------------------------------------
    @property
    def admin_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['adminConsole.port']}"

    @property
    def c2s_port(self) -> int:
        return self.ports["xmpp.socket.plain.port"]

    @property
    def websocket_url(self) -> str:
        return f"ws://127.0.0.1:{self.ports['httpbind.port.plain']}/ws/"

    @property
    def log_path(self) -> Path:
        return self.home / "logs" / "openfire.log"

    # -- set-up ----------------------------------------------------------------------------
    def _with_loopback_ports(self, text: str, extra: dict[str, str]) -> str:
        root = ET.fromstring(text)
        for name, port in self.ports.items():
            set_xml_property(root, name, str(port))
        set_xml_property(root, "network.interface", "127.0.0.1")
        set_xml_property(root, "adminConsole.interface", "127.0.0.1")
        for name, value in extra.items():
            set_xml_property(root, name, value)
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")

    def prepare(self) -> "LiveOpenfire":
        shutil.copytree(self.source_home, self.home, symlinks=True)
        conf = self.home / "conf" / "openfire.xml"
        conf.write_text(self.openfire_xml, encoding="utf-8")
        os.chmod(conf, 0o600)
        plugins = self.home / "plugins"
        plugins.mkdir(exist_ok=True)
        shutil.copy(self.restapi_jar, plugins / "restAPI.jar")
        shutil.copy(self.attendance_jar, plugins / "attendance.jar")
        if self.hosts:
            (self.workdir / "hosts").write_text("".join(f"{ip} {name}\n" for name, ip in self.hosts.items()))
        return self

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> "LiveOpenfire":
        real_components.starting("Openfire")
        lib = self.home / "lib"
        java = shutil.which("java") or "java"
        command = [java, "-server", f"-DopenfireHome={self.home}", f"-Dopenfire.lib.dir={lib}",
                   f"-Dlog4j.configurationFile={lib / 'log4j2.xml'}", "-Dlog4j2.formatMsgNoLookups=true",
                   f"-Djava.security.properties={self.home / 'resources/security/java.security'}",
                   "-Xmx512m", *([f"-Djdk.net.hosts.file={self.workdir / 'hosts'}"] if self.hosts else []),
                   "-classpath", str(lib / "startup.jar"),
                   "org.jivesoftware.openfire.starter.ServerStarter"]
        self._console = open(self.workdir / "console.log", "ab")
        self.started_at = time.monotonic()
        self.process = subprocess.Popen(command, cwd=self.home, stdout=self._console, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, start_new_session=True)
        return self

    def accepts(self, port: int) -> bool:
        with socket.socket() as probe:
            probe.settimeout(0.2)
            return probe.connect_ex(("127.0.0.1", port)) == 0

    def wait_for_port(self, port: int, timeout: float = 180.0) -> float:
        """Seconds from start until `port` accepted a connection."""
        deadline = time.monotonic() + timeout
        while not self.accepts(port):
            if self.process.poll() is not None:
                raise RuntimeError(f"Openfire exited with {self.process.returncode}:\n{self.console_text()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Openfire did not open port {port} within {timeout:.0f} s:\n{self.log_text()}")
            time.sleep(0.05)
        return time.monotonic() - self.started_at

    def stop(self, timeout: float = 30.0) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        if getattr(self, "_console", None):
            self._console.close()
            self._console = None

    # -- diagnostics ----------------------------------------------------------------------------
    def console_text(self) -> str:
        path = self.workdir / "console.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
