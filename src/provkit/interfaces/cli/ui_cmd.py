"""provkit ui: serve the repository's pages (search, details, lineage) read-only."""

from __future__ import annotations

import typer

from provkit.interfaces.cli._app import app, err


@app.command()
def ui(
    host: str = typer.Option("127.0.0.1", help="Address to listen on (anything but localhost needs --token)"),
    port: int = typer.Option(8765, help="Port to listen on"),
    token: str = typer.Option(
        None, envvar="PROVKIT_UI_TOKEN", help="Secret every request must carry (?token=, cookie or Bearer header)"
    ),
    readonly: bool = typer.Option(True, "--readonly", help="Always on: the pages never change the repository"),
) -> None:
    """Browse, search and trace the repository in a web browser (needs provkit[ui])."""
    import provkit as p
    from provkit.interfaces.ui import LOCAL_HOSTS, require_ui, serve

    require_ui()
    if host not in LOCAL_HOSTS and not token:
        raise ValueError(f"--host {host} is not localhost: give --token (or $PROVKIT_UI_TOKEN) so strangers get 401")
    shown = f"http://{'[' + host + ']' if ':' in host else host}:{port}/"
    err.print(f"provkit ui on {shown}{'?token=…' if token else ''} (read-only; Ctrl-C stops)", highlight=False,
              markup=False)  # fmt: skip
    serve(p.get_default_repo(), host=host, port=port, token=token)
