"""`sweep plan | submit | status | verify`: thin wrappers over sweep.plan/engine/store."""
from __future__ import annotations

import json
from typing import Optional

import typer


def _load(spec_path: str):
    from sweep.spec import SpecError, load_spec

    try:
        return load_spec(spec_path)
    except SpecError as exc:
        typer.echo(f"error: {exc.source}: invalid grid spec", err=True)
        for line in exc.errors:
            typer.echo(f"  {line}", err=True)
        raise typer.Exit(2) from None


def _cluster_choice(cluster: Optional[str], loaded) -> str:
    which = cluster or loaded.spec.cluster.default
    if which == "slurm" and loaded.spec.cluster.slurm is None:
        typer.echo("error: --cluster: value 'slurm' needs a cluster.slurm section in the spec", err=True)
        raise typer.Exit(2)
    if which == "address" and not loaded.spec.cluster.address:
        typer.echo("error: --cluster: value 'address' needs cluster.address in the spec", err=True)
        raise typer.Exit(2)
    if which not in ("local", "slurm", "address") and "://" not in which:
        typer.echo(f"error: --cluster: value {which!r} is not allowed; allowed: local, slurm, "
                   "address, or a scheduler address such as tcp://host:8786", err=True)
        raise typer.Exit(2)
    return which


def _next_after_submit(cube, spec: str, failed: bool) -> str:
    """The commands a user runs after a submit, with this cube's path, ready to paste."""
    import shlex

    from sweep.cli.common import next_commands, program

    sw, c = program(), shlex.quote(str(cube))
    lines = [(f"{sw} status {c}", "counts by status, failures and why")] if failed else []
    lines += [(f"{sw} reduce {c}", "observables of every cell (peaks, L_γ, neutrinos)"),
              (f"{sw} plot planes {c} --out planes.png", "tracks over the Fermi blazars"),
              (f"{sw} explore {c}", "interactive explorer in the browser")]
    if failed:
        lines.append((f"{sw} submit {shlex.quote(spec)} --retry-failed", "rerun failed cells"))
    return next_commands(lines)


def register(app: typer.Typer) -> None:
    @app.command("plan")
    def plan_cmd(
        spec: str = typer.Argument(..., help="grid spec (YAML)"),
        cluster: Optional[str] = typer.Option(None, "--cluster", help="local | slurm | address | tcp://..."),
        calibrate: bool = typer.Option(True, "--calibrate/--no-calibrate",
                                       help="time one cell of the real model for the cost estimate"),
        cell_seconds: Optional[float] = typer.Option(None, "--cell-seconds",
                                                     help="use this time per cell instead of calibrating"),
        out: Optional[str] = typer.Option(None, "--out", help="cube path (default: output.path)"),
        as_json: bool = typer.Option(False, "--json", help="print the plan as JSON"),
        cell_fn: Optional[str] = typer.Option(None, "--cell-fn", hidden=True),
    ) -> None:
        """Cells, chunks, tasks, estimated core-hours, wall time and output size. Submits nothing."""
        from pathlib import Path

        from sweep import plan as P
        from sweep import store

        loaded = _load(spec)
        which = _cluster_choice(cluster, loaded)
        status = None
        calib = None
        note = None
        path = Path(out or loaded.spec.output.path)
        if store.is_cube(path):
            info = store.cube_info(path)
            diffs = store.science_differences(info.science, loaded.spec.science())
            if diffs:
                note = (f"the cube at {path} differs from this spec ({diffs[0]}); submit would "
                        "refuse it (use --append to extend one axis, or --out)")
            else:
                status, _ = store.read_status(path, info)
                s = store.status_summary(path)
                if s["runtime"]:
                    calib = P.Calibration(s["runtime"]["median_s"],
                                          f"median runtime_s of {s['runtime']['n']} done cells in {path}")
        if cell_seconds is not None:
            calib = P.Calibration(cell_seconds, "given with --cell-seconds")
        elif calib is None and calibrate:
            from sweep.engine import resolve_cell_fn

            calib = P.calibrate(loaded, resolve_cell_fn(cell_fn))
        p = P.make_plan(loaded, which if which in ("local", "slurm") else "address", calib, status)
        if note:
            p.notes.append(note)
        if as_json:
            d = {k: v for k, v in p.__dict__.items() if k != "tasks"}
            d["n_tasks"] = len(p.tasks)
            typer.echo(json.dumps(d, indent=2, default=str))
        else:
            typer.echo(P.format_plan(p))

    @app.command("submit")
    def submit_cmd(
        spec: str = typer.Argument(..., help="grid spec (YAML)"),
        cluster: Optional[str] = typer.Option(None, "--cluster",
                                              help="local (default: embedded LocalCluster, all cores) | "
                                                   "slurm | address | tcp://host:port"),
        out: Optional[str] = typer.Option(None, "--out", help="cube path (default: output.path)"),
        retry_failed: bool = typer.Option(False, "--retry-failed", help="rerun cells whose status is failed"),
        append: bool = typer.Option(False, "--append", help="extend one axis of the cube with the spec's new values"),
        report: bool = typer.Option(True, "--report/--no-report", help="Dask performance report beside the cube"),
        cell_fn: Optional[str] = typer.Option(None, "--cell-fn", hidden=True),
    ) -> None:
        """Run the sweep into a Zarr cube; resumes an existing cube (only cells not done)."""
        from sweep import engine
        from sweep.store import CubeError

        import sys

        from rich.console import Console

        loaded = _load(spec)
        which = _cluster_choice(cluster, loaded)
        # not a terminal (log file, pipe, SLURM output): no wrapping, paths stay whole
        console = Console(soft_wrap=not sys.stdout.isatty())
        try:
            res = engine.submit(loaded, which, out, retry_failed=retry_failed, append=append,
                                cell_fn=cell_fn, performance_report=report, console=console)
        except (CubeError, engine.LockedError) as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        except engine.ClusterStartError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            typer.echo("interrupted: finished chunks are on disk; submit again to resume", err=True)
            raise typer.Exit(130) from None
        if res.failed_tasks:
            typer.echo(f"{len(res.failed_tasks)} tasks gave up; their cells are marked failed "
                       "(sweep status shows why; --retry-failed reruns them)", err=True)
        typer.echo(_next_after_submit(res.path, spec,
                                      bool(res.failed_tasks) or res.counts.get("failed", 0) > 0))

    @app.command("status")
    def status_cmd(
        cube: str = typer.Argument(..., help="cube path"),
        as_json: bool = typer.Option(False, "--json"),
        max_failures: int = typer.Option(20, "--max-failures", help="failures listed"),
    ) -> None:
        """Counts by status, failures with messages, runtime statistics."""
        from sweep import store

        try:
            s = store.status_summary(cube, max_failures=max_failures)
        except store.CubeError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        typer.echo(json.dumps(s, indent=2) if as_json else store.format_status(s))

    @app.command("verify")
    def verify_cmd(cube: str = typer.Argument(..., help="cube path")) -> None:
        """Read every chunk; check statuses against data. Exit 1 on damage."""
        from sweep import store

        rep = store.verify(cube)
        for n in rep.notes:
            typer.echo(f"note: {n}")
        for d in rep.damage:
            typer.echo(f"DAMAGE: {d}", err=True)
        if rep.ok:
            typer.echo(f"ok: {cube}: {rep.chunks_read} chunks read, statuses consistent with data")
        else:
            raise typer.Exit(1)
