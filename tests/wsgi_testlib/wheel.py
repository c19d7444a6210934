"""Build a pure-Python wheel from a package directory, without a build backend or the network
(the apps scenario's packaged test app)."""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def build_wheel(
    package_dir: Path,
    dest: Path,
    dist: str,
    version: str,
    scripts: dict[str, str] | None = None,
    requires_python: str = ">=3.9",
) -> Path:
    """dest/<dist>-<version>-py3-none-any.whl with every file of package_dir (a package)."""
    norm = dist.replace("-", "_")
    info = f"{norm}-{version}.dist-info"
    files: dict[str, bytes] = {}
    for path in sorted(package_dir.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            files[f"{package_dir.name}/{path.relative_to(package_dir).as_posix()}"] = (
                path.read_bytes()
            )
    files[f"{info}/METADATA"] = (
        f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n"
        f"Requires-Python: {requires_python}\n"
    ).encode()
    files[f"{info}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: wsgi_testlib\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    if scripts:
        lines = "".join(f"{name} = {target}\n" for name, target in scripts.items())
        files[f"{info}/entry_points.txt"] = f"[console_scripts]\n{lines}".encode()
    record = [_record_line(name, data) for name, data in files.items()] + [f"{info}/RECORD,,"]
    files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    dest.mkdir(parents=True, exist_ok=True)
    wheel = dest / f"{norm}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), data)
    return wheel


if __name__ == "__main__":
    import sys

    src, out, dist, version, *pairs = sys.argv[1:]
    entry = dict(pair.split("=", 1) for pair in pairs)
    print(build_wheel(Path(src), Path(out), dist, version, entry))
