"""The gallery's HTTP server: JSON API, files, live updates, logins and the web app.

``create_app(config)`` builds the Litestar app; ``homegallery serve`` runs it.
"""

from homegallery.server.app import create_app

__all__ = ["create_app"]
