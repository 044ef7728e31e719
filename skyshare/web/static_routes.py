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

from skyshare.web.assets import STATIC_DIR

TITLE = "<title>skyshare</title>"
TILE_META = '<meta name="skyshare-tile-url" content="">'


def index_html(template: str, node_name: str, tile_url: str | None) -> str:
    """``index.html`` with the node name in the title and the tile URL in its meta."""
    page = template.replace(TITLE, f"<title>skyshare {html.escape(node_name)}</title>", 1)
    if tile_url:
        page = page.replace(TILE_META, f'<meta name="skyshare-tile-url" '
                            f'content="{html.escape(tile_url, quote=True)}">', 1)
    return page


def static_routes(node_name: str, tile_url: str | None = None,
                  static_dir: Path = STATIC_DIR) -> list[BaseRoute]:
    """``GET /`` and ``/static/…`` for a node called ``node_name``."""

    async def index(request: Request) -> Response:
        template = (static_dir / "index.html").read_text(encoding="utf-8")
        return HTMLResponse(index_html(template, node_name, tile_url),
                            headers={"Cache-Control": "no-cache"})

    return [
        Route("/", index),
        Mount("/static", StaticFiles(directory=static_dir), name="static"),
    ]
