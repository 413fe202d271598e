"""Entry point of the ``jsc`` console script."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(help="JetStream Console", no_args_is_help=True, add_completion=False)


@app.command()
def up(
    data_dir: Path = typer.Option(
        Path(".jsc"), "--data-dir", help="Where every service keeps its data."
    ),
    no_ui: bool = typer.Option(False, "--no-ui", help="Do not start the Streamlit UI."),
    no_demo: bool = typer.Option(
        False, "--no-demo", help="Do not register the local clusters nor create the demo stream."
    ),
    api_port: int = typer.Option(8000, "--api-port", help="Port of the HTTP API."),
    ui_port: int = typer.Option(8501, "--ui-port", help="Port of the Streamlit UI."),
) -> None:
    """Start the whole platform locally, from packages, and supervise it until Ctrl-C."""
    from stack.launcher import run_foreground

    raise typer.Exit(
        run_foreground(
            data_dir=data_dir, ui=not no_ui, demo=not no_demo, api_port=api_port, ui_port=ui_port
        )
    )


@app.command()
def status(data_dir: Path = typer.Option(Path(".jsc"), "--data-dir")) -> None:
    """Print the local stack's services (from stack.json) with each one's health."""
    from stack.status import print_status

    raise typer.Exit(print_status(data_dir))


@app.command()
def api(
    host: str | None = typer.Option(None, help="Listen address (default: JSC_API_HOST)."),
    port: int | None = typer.Option(None, help="Listen port (default: JSC_API_PORT)."),
) -> None:
    """Run the HTTP API (uvicorn)."""
    from api.server import serve

    serve(host=host, port=port)


@app.command()
def worker() -> None:
    """Run a Temporal worker with every workflow and activity of the project."""
    from workflows.worker import main

    main()


@app.command()
def collector() -> None:
    """Run a metrics collector: it takes its share of the registered clusters and publishes their
    samples every JSC_COLLECT_INTERVAL_S."""
    from core.collector.process import main

    main()


# The console's commands: an HTTP client of the API (see cli/commands/).
from cli.commands import (  # noqa: E402
    ai,
    approvals,
    auth,
    backup,
    clusters,
    config,
    consumers,
    dr,
    kv,
    messages,
    mirror,
    operations,
    quotas,
    streams,
)

app.command("login")(auth.login)
app.command("logout")(auth.logout)
app.add_typer(clusters.app, name="cluster")
app.add_typer(streams.app, name="stream")
app.add_typer(consumers.app, name="consumer")
app.add_typer(messages.app, name="msg")
app.add_typer(kv.app, name="kv")
app.command("replay", cls=operations.ReplayCommand)(operations.replay)
app.add_typer(operations.app, name="op")
app.add_typer(approvals.app, name="approval")
app.add_typer(quotas.app, name="quota")
app.add_typer(mirror.app, name="mirror")
app.add_typer(dr.app, name="dr")
app.command("failover")(dr.failover)
app.add_typer(backup.app, name="backup")
app.add_typer(config.app, name="config")
app.add_typer(ai.app, name="ai")


if __name__ == "__main__":  # pragma: no cover
    app()
