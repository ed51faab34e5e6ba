"""Build hook: a wheel of jitsictl carries the files `render` and `up` read outside the Python
package (templates, build contexts, the Prosody modules, the receiver's and the Openfire plugin's
sources), copied by jitsictl/sources.py into jitsictl/_sources/. Editable installs read them in
the checkout instead. Everything else is declared in pyproject.toml."""
import importlib.util
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


def _sources_module():
    # Loaded by path: the package cannot be imported before it is built.
    spec = importlib.util.spec_from_file_location("_jitsictl_sources", ROOT / "jitsictl" / "sources.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


class BuildWithSources(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        _sources_module().copy_tree(ROOT, Path(self.build_lib) / "jitsictl" / "_sources")


setup(cmdclass={"build_py": BuildWithSources})
