"""The `litgap` command line, assembled from one module per job.

`app.py` is the base (apps, options, settings, errors) that every other module builds
on; no command module imports another's commands except through the one below it
(`audit` uses `run.run_here` and `display.print_job`). This file only registers the
commands, so the import graph has no cycle.
"""

import os

from litgap.cli import audit, cluster, jobs, lineage, run, serve, users
from litgap.cli.app import app, db_app, jobs_app, users_app

app.command()(run.run)
app.command()(serve.serve)
app.command()(cluster.worker)
app.command("verify")(lineage.verify)

jobs_app.command("list")(jobs.jobs_list)
jobs_app.command("show")(jobs.jobs_show)
jobs_app.command("prompts")(jobs.jobs_prompts)
jobs_app.command("export")(audit.jobs_export)
jobs_app.command("replay")(audit.jobs_replay)
jobs_app.command("continue")(lineage.jobs_continue)
app.add_typer(jobs_app, name="jobs")

users_app.command("add")(users.users_add)
users_app.command("revoke")(users.users_revoke)
users_app.command("rotate")(users.users_rotate)
app.add_typer(users_app, name="users")

db_app.command("upgrade")(serve.db_upgrade)
db_app.command("migrate-to")(cluster.db_migrate_to)
app.add_typer(db_app, name="db")


def main() -> None:  # pragma: no cover - entry point
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    app()


__all__ = ["app", "main"]
