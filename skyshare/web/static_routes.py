"""Routes of the live map: ``/`` (the page) and ``/static/`` (its modules and libraries).

The page is ``static/index.html`` with the node's name put in its title (so the tab
says which node it shows before any script runs) and, when configured, the online tile
URL in a ``<meta>`` the script reads.  Everything else is served as files.
"""

from __future__ import annotations

import html
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from skyshare.config import MapConfig
from skyshare.web.assets import STATIC_DIR

TITLE = "<title>skyshare</title>"



def _meta(name: str, content: str) -> str:
    return f'<meta name="{name}" content="{html.escape(content, quote=True)}">'


def index_html(template: str, node_name: str, tiles: MapConfig) -> str:
    """``index.html`` with the node name in the title and the tile URL in its meta."""
    page = template.replace(TITLE, f"<title>skyshare {html.escape(node_name)}</title>", 1)
    if tiles.tile_url:
        for name, value in (("skyshare-tile-url", tiles.tile_url),
                            ("skyshare-tile-attribution", tiles.attribution)):
            page = page.replace(_meta(name, ""), _meta(name, value), 1)
    return page


def static_routes(node_name: str, tiles: MapConfig | None = None,
                  static_dir: Path = STATIC_DIR) -> list[BaseRoute]:
    """``GET /`` and ``/static/…`` for a node called ``node_name``."""
    tiles = tiles or MapConfig()

    async def index(request: Request) -> Response:
        template = (static_dir / "index.html").read_text(encoding="utf-8")
        return HTMLResponse(index_html(template, node_name, tiles),
                            headers={"Cache-Control": "no-cache"})

    return [
        Route("/", index),
        Mount("/static", StaticFiles(directory=static_dir), name="static"),
    ]
