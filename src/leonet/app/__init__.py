"""The dish app: an HTTP JSON API (dish status, history, outages, obstruction map, constellation
snapshot, regions) and a web page with a globe, served from a results folder.

``create_app(results_dir)`` gives the FastAPI application; ``serve(results_dir)`` runs it. The web
parts (FastAPI, uvicorn, plotly) are imported only here, never by the simulation.
"""

from .server import create_app, serve

__all__ = ["create_app", "serve"]
