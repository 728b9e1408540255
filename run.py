"""Saldo's two entry points on a fresh machine: `python3 run.py demo` and `python3 run.py test`.

Needs only Python 3.11+. It installs uv into `.tools/`, lets uv build `.venv` from the lock file,
then runs the demo or every check and the test suite inside it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
TOOLS = ROOT / ".tools"
UV_VERSION = "0.13.9"  # pinned so every machine resolves the lock file the same way

CHECKS: list[list[str]] = [
    ["ruff", "format", "--check", "src", "tests", "migrations", "benchmarks", "run.py"],
    ["ruff", "check", "src", "tests", "migrations", "benchmarks", "run.py"],
    ["mypy", "src"],
    ["lint-imports"],
]


def bin_path(env: Path, name: str) -> Path:
    sub = "Scripts" if os.name == "nt" else "bin"
    return env / sub / name


def ensure_uv() -> Path:
    """Install uv into a private tools environment once; later runs reuse it."""
    uv = bin_path(TOOLS, "uv")
    if not uv.exists():
        print(f"run.py: installing uv {UV_VERSION} into {TOOLS}", flush=True)
        venv.EnvBuilder(with_pip=True).create(TOOLS)
        pip = bin_path(TOOLS, "python")
        subprocess.run([str(pip), "-m", "pip", "install", "-q", f"uv=={UV_VERSION}"], check=True)
    return uv


def uv_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("UV_PYTHON_DOWNLOADS", "never")  # use the Python that runs this script
    env.setdefault("UV_PYTHON", sys.executable)
    return env


def sync(uv: Path) -> None:
    subprocess.run([str(uv), "sync", "--locked", "--all-extras"], cwd=ROOT, env=uv_env(), check=True)
    compile_bytecode()


def compile_bytecode() -> None:
    """Compile the environment once per lock file, and Saldo's own sources every time (a fraction
    of a second): where Python may not write bytecode as it imports (PYTHONDONTWRITEBYTECODE), every
    command would otherwise compile SQLAlchemy, pydantic and the rest anew, about twice its start."""
    python = bin_path(ROOT / ".venv", "python")
    marker = ROOT / ".venv" / ".saldo-compiled"
    lock = (ROOT / "uv.lock").read_bytes()
    stamp = _digest(lock)
    targets = [str(ROOT / "src")]
    if not marker.exists() or marker.read_text(encoding="utf-8") != stamp:
        print("run.py: compiling the environment's bytecode (once per lock file)", flush=True)
        purelib = subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        targets.append(purelib)
    done = subprocess.run(
        [str(python), "-m", "compileall", "-q", "-j0", *targets], stdout=subprocess.DEVNULL, check=False
    )
    if done.returncode == 0:  # a partial compile is tried again next time
        marker.write_text(stamp, encoding="utf-8")


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


NPM_PEERS = {
    ROOT / "tests" / "e2e" / "idp": "the browser tests' OpenID provider and axe-core",
    ROOT / "tests" / "credentials" / "peer": "the independent SD-JWT VC and status list implementation",
}


def install_npm_peers() -> None:
    """The independent implementations the tests check Saldo against come from npm (exact versions,
    lock files). Without npm their tests are skipped, and pytest says so."""
    npm = shutil.which("npm")
    if npm is None:
        print("run.py: no npm on this machine; the browser and credential peer tests will be skipped", flush=True)
        return
    for folder, what in NPM_PEERS.items():
        if not (folder / "node_modules" / ".package-lock.json").exists():
            print(f"run.py: npm ci ({what})", flush=True)
            subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=folder, check=True)


def uv_run(uv: Path, args: list[str]) -> int:
    return subprocess.run(
        [str(uv), "run", "--locked", "--all-extras", *args], cwd=ROOT, env=uv_env(), check=False
    ).returncode


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"demo", "test", "saldo"}:
        print("usage: python3 run.py demo | test [pytest args] | saldo [args]", file=sys.stderr)
        return 2
    uv = ensure_uv()
    sync(uv)
    command, rest = argv[0], argv[1:]
    if command == "demo":
        return uv_run(uv, ["saldo", "demo", *rest])
    if command == "saldo":
        return uv_run(uv, ["saldo", *rest])
    install_npm_peers()
    for check in CHECKS:
        print(f"run.py: {' '.join(check)}", flush=True)
        code = uv_run(uv, check)
        if code != 0:
            return code
    return uv_run(uv, ["pytest", *rest])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
