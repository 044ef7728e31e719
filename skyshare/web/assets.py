"""The live map's browser libraries: which npm files it needs and where they go.

``make web-assets`` runs ``npm ci`` (versions pinned in ``package.json`` and
``package-lock.json``) and then ``python -m skyshare.web.assets``, which copies the
files below from ``node_modules/`` into ``skyshare/web/static/vendor/`` (gitignored).
No bundler: MapLibre ships ES modules, topojson-client's sources are ES modules, and
world-atlas is data.  When the copies are missing the page still loads and says so.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path
from typing import Final

STATIC_DIR: Final = Path(__file__).resolve().parent / "static"
VENDOR_DIR: Final = STATIC_DIR / "vendor"

# (file or glob under node_modules/, folder under vendor/)
VENDOR_FILES: Final = (
    ("maplibre-gl/dist/maplibre-gl.mjs", "maplibre-gl"),
    ("maplibre-gl/dist/maplibre-gl-worker.mjs", "maplibre-gl"),
    ("maplibre-gl/dist/maplibre-gl.css", "maplibre-gl"),
    ("maplibre-gl/LICENSE.txt", "maplibre-gl"),
    ("topojson-client/src/*.js", "topojson-client"),
    ("topojson-client/LICENSE", "topojson-client"),
    ("world-atlas/countries-50m.json", "world-atlas"),
    ("world-atlas/LICENSE", "world-atlas"),
)

# what the page imports first; if these are absent the map cannot start
REQUIRED: Final = (
    "maplibre-gl/maplibre-gl.mjs",
    "maplibre-gl/maplibre-gl-worker.mjs",
    "topojson-client/index.js",
    "world-atlas/countries-50m.json",
)


class VendorFileMissing(Exception):
    """A file the map needs is not in ``node_modules`` (``npm ci`` not run or failed)."""

    def __init__(self, pattern: str, node_modules: Path) -> None:
        super().__init__(f"{node_modules / pattern} not found; run 'npm ci' (make web-assets)")
        self.pattern = pattern


def missing_vendor_files(vendor_dir: Path = VENDOR_DIR) -> list[str]:
    """The required files absent from ``vendor_dir`` (empty when the map can run)."""
    return [name for name in REQUIRED if not (vendor_dir / name).is_file()]


def copy_vendor_files(node_modules: Path, vendor_dir: Path = VENDOR_DIR) -> list[Path]:
    """Copy :data:`VENDOR_FILES` from ``node_modules`` into ``vendor_dir``; the copies."""
    sources: list[tuple[Path, str]] = []
    for pattern, folder in VENDOR_FILES:
        found = sorted(node_modules.glob(pattern))
        if not found:
            raise VendorFileMissing(pattern, node_modules)
        sources += [(path, folder) for path in found]
    if vendor_dir.exists():
        shutil.rmtree(vendor_dir)  # no stale files from an older version
    copies = []
    for path, folder in sources:
        target = vendor_dir / folder / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        copies.append(target)
    # copies of npm files are build output, never source: keep them out of git
    (vendor_dir / ".gitignore").write_text("*\n", encoding="ascii")
    return copies


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m skyshare.web.assets",
                                     description="copy the map's npm files into static/vendor")
    parser.add_argument("--node-modules", type=Path, default=Path("node_modules"))
    parser.add_argument("--vendor-dir", type=Path, default=VENDOR_DIR)
    args = parser.parse_args(argv)
    try:
        copies = copy_vendor_files(args.node_modules, args.vendor_dir)
    except VendorFileMissing as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"copied {len(copies)} files into {args.vendor_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
