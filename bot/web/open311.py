"""open311 (being built)."""

from aiohttp import web

routes = web.RouteTableDef()
