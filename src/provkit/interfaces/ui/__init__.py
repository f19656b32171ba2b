"""``provkit ui``: browse, search and trace a repository in a web page (read-only).

Needs the ``ui`` extra: ``pip install 'provkit[ui]'`` (Starlette, uvicorn, Jinja2).
``create_app(repo, token)`` gives the ASGI app; ``serve(...)`` runs it with uvicorn.
"""

from __future__ import annotations

from typing import Any

from provkit.core.errors import ProvkitError

__all__ = ["create_app", "serve", "require_ui", "LOCAL_HOSTS"]

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
INSTALL_HINT = "provkit ui needs Starlette, uvicorn and Jinja2: pip install 'provkit[ui]'"


def require_ui() -> None:
    """Raise ProvkitError with the install hint when the ``ui`` extra is missing."""
    import importlib.util

    missing = [m for m in ("starlette", "uvicorn", "jinja2") if importlib.util.find_spec(m) is None]
    if missing:
        raise ProvkitError(f"{INSTALL_HINT} (missing: {', '.join(missing)})")


def create_app(repo: Any = None, token: str | None = None) -> Any:
    """The read-only ASGI app over ``repo`` (default: the configured default repository)."""
    require_ui()
    from provkit.interfaces.ui.app import create_app as make

    return make(repo, token)


def serve(repo: Any = None, host: str = "127.0.0.1", port: int = 8765, token: str | None = None) -> None:
    """Serve the pages with uvicorn until interrupted; a non-local ``host`` needs a ``token``."""
    require_ui()
    if host not in LOCAL_HOSTS and not token:
        raise ProvkitError(
            f"binding to {host!r} (not localhost) needs --token: anyone who can reach it could read the repository"
        )
    import uvicorn

    uvicorn.run(create_app(repo, token), host=host, port=port, log_level="warning")
