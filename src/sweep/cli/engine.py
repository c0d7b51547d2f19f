"""`sweep plan | submit | status | verify`: thin wrappers over sweep.plan/engine/store."""
from __future__ import annotations

import json
from typing import Optional

import typer


def _load(spec_path: str):
    from sweep.spec import SpecError, load_spec

    try:
        loaded = load_spec(spec_path)
    except SpecError as exc:
        typer.echo(f"error: {exc.source}: invalid grid spec", err=True)
        for line in exc.errors:
            typer.echo(f"  {line}", err=True)
        raise typer.Exit(2) from None
    _warn_radian_angles(loaded.spec, spec_path)
    return loaded


def _warn_radian_angles(spec, spec_path: str) -> None:
    """θ_obs of the grid (axis values or fixed) that look like radians: warn once, name them."""
    from sweep.cli.common import RADIANS_LOOKALIKE_DEG, warn

    vals = []
    for d in spec.dims():
        vals += [float(v) for v in d.coords.get("theta_obs", [])]
    fixed = spec.fixed.get("theta_obs")
    if isinstance(fixed, (int, float)) and not isinstance(fixed, bool):
        vals.append(float(fixed))
    small = sorted({v for v in vals if 0 < v < RADIANS_LOOKALIKE_DEG})
    if small:
        warn(f"{spec_path}: theta_obs = {', '.join(f'{v:g}' for v in small)} looks like radians; "
             "theta_obs is in degrees (e.g. 0.05 rad = 2.86 deg)")


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
                   "address, or a scheduler address such as tls://host:8786", err=True)
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
        cluster: Optional[str] = typer.Option(None, "--cluster", help="local | slurm | address | tls://..."),
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
        p = P.make_plan(loaded, which if which in ("local", "slurm") else "address", calib, status,
                        out_dir=path.parent)
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
                                                   "slurm | address | tls://host:port"),
        out: Optional[str] = typer.Option(None, "--out", help="cube path (default: output.path)"),
        retry_failed: bool = typer.Option(False, "--retry-failed", help="rerun cells whose status is failed"),
        append: bool = typer.Option(False, "--append", help="extend one axis of the cube with the spec's new values"),
        report: bool = typer.Option(True, "--report/--no-report", help="Dask performance report beside the cube"),
        allow_large: bool = typer.Option(False, "--allow-large",
                                         help="submit a grid above the spec's limits.max_cells"),
        cell_fn: Optional[str] = typer.Option(None, "--cell-fn", hidden=True),
    ) -> None:
        """Run the sweep into a Zarr cube; resumes an existing cube (only cells not done).

        Exit codes: 0 every cell done, invalid or not_converged; 1 the cluster could not start
        (or an unexpected error); 2 bad spec or option, cube of another grid or not a sweep
        cube, cube locked by another client, grid above limits.max_cells; 3 the sweep ran but
        cells are failed (a task gave up after its retries, or the model raised; sweep status
        shows why, --retry-failed reruns them); 4 disk full / read-only / permission denied
        (cells not committed stay pending); 5 cells still pending; 130 interrupted (Ctrl-C);
        143 terminated (SIGTERM).
        """
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
                                cell_fn=cell_fn, performance_report=report, allow_large=allow_large,
                                console=console)
        except (CubeError, engine.LockedError, engine.GridTooLargeError) as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(engine.EXIT_USAGE) from None
        except engine.ClusterStartError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(engine.EXIT_ERROR) from None
        except engine.StorageError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(engine.EXIT_STORAGE) from None
        except engine.Terminated:
            typer.echo("terminated (SIGTERM): finished chunks are on disk; submit again to resume",
                       err=True)
            raise typer.Exit(engine.EXIT_TERMINATED) from None
        except KeyboardInterrupt:
            typer.echo("interrupted: finished chunks are on disk; submit again to resume", err=True)
            raise typer.Exit(engine.EXIT_INTERRUPTED) from None
        if res.failed_tasks:
            typer.echo(f"{len(res.failed_tasks)} tasks gave up; their cells are marked failed "
                       "(sweep status shows why; --retry-failed reruns them)", err=True)
        code = res.exit_code
        if code == engine.EXIT_FAILED and not res.failed_tasks:
            typer.echo(f"{res.cube_counts.get('failed', 0)} cells of the cube are failed (sweep status "
                       "shows why; --retry-failed reruns them)", err=True)
        elif code == engine.EXIT_INCOMPLETE:
            typer.echo(f"{res.cube_counts.get('pending', 0)} cells are still pending; submit again",
                       err=True)
        typer.echo(_next_after_submit(res.path, spec,
                                      bool(res.failed_tasks) or res.cube_counts.get("failed", 0) > 0))
        if code:
            raise typer.Exit(code)

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
    def verify_cmd(
        cube: str = typer.Argument(..., help="cube path"),
        repair: bool = typer.Option(False, "--repair",
                                    help="reset the cells of damaged chunks to pending, so that the "
                                         "next submit recomputes exactly them"),
    ) -> None:
        """Read every chunk (checksums), check every variable of every committed cell against its
        status. Exit 1 on damage (after --repair: 0 when every damage was reset to pending)."""
        from sweep import store
        from sweep.lock import LockedError, cube_lock

        import contextlib

        from pathlib import Path

        # --repair, or finishing an interrupted --append, writes: take the cube's lock like a submit
        writes = repair or (Path(cube) / store.JOURNAL).is_file()
        try:
            with cube_lock(cube) if writes else contextlib.nullcontext():
                rep = store.verify(cube, repair=repair)
        except LockedError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        for n in rep.notes:
            typer.echo(f"note: {n}")
        for d in rep.damage:
            typer.echo(f"DAMAGE: {d}", err=True)
        if rep.ok:
            typer.echo(f"ok: {cube}: {rep.chunks_read} chunks read, statuses consistent with data")
            return
        if repair and rep.repaired_cells and not rep.unrepairable:
            typer.echo(f"repaired: {rep.repaired_cells} cells of {len(rep.damaged_regions)} damaged "
                       f"chunks reset to pending; `sweep submit` recomputes exactly them")
            return
        if repair and rep.unrepairable:
            typer.echo("not repairable by recomputing cells: " + "; ".join(rep.unrepairable), err=True)
        raise typer.Exit(1)
