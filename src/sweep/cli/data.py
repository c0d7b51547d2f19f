"""``sweep data list|info|verify|fetch``: the runtime reference data (work in :mod:`sweep.datasets`)."""
from __future__ import annotations

from typing import List, Optional

import typer


def _fail(msg: str) -> None:
    typer.echo(f"error: {msg}", err=True)
    raise typer.Exit(2)


def register(app: typer.Typer) -> None:
    data_app = typer.Typer(help="Reference data packaged with sweep (Fermi catalogues, IceCube "
                                "effective area): list, provenance, checksums, newer releases.")
    app.add_typer(data_app, name="data")

    @data_app.callback(invoke_without_command=True)
    def _default(ctx: typer.Context) -> None:
        if ctx.invoked_subcommand is None:
            list_cmd()

    @data_app.command("list")
    def list_cmd() -> None:
        """Packaged datasets (version, files, size, SHA-256), fetchable releases, fetched ones."""
        from sweep import datasets

        m = datasets.manifest()
        typer.echo(f"packaged in {datasets.data_root()}:")
        for name, ds in m["datasets"].items():
            typer.echo(f"  {name:17s} {ds['version']}  [{ds['citation']}]")
            for role, f in ds["files"].items():
                typer.echo(f"      {role:6s} {f['path']:42s} {f['bytes'] / 1e3:8.1f} kB  "
                           f"sha256 {f['sha256'][:16]}…")
        typer.echo(f"fetchable releases (sweep data fetch NAME) into {datasets.cache_dir()}:")
        for name, r in m["releases"].items():
            h = r["sha256"][:16] + "…" if r.get("sha256") else "no hash recorded"
            typer.echo(f"  {name:17s} {r['title']}  ({h})")
        got = datasets.fetched()
        if got:
            typer.echo("fetched:")
            for name, r in got.items():
                typer.echo(f"  {name:17s} {r['path']}  sha256 {r['sha256'][:16]}… "
                           f"({r['verified']}, {r['fetched']})")

    @data_app.command("info")
    def info_cmd(name: str = typer.Argument(..., help="Dataset name (see sweep data list).")) -> None:
        """Provenance of a dataset: manifest entry and its README."""
        import json

        from sweep import datasets

        try:
            if name in datasets.manifest()["datasets"]:
                typer.echo(json.dumps(datasets.dataset(name), indent=2, ensure_ascii=False))
            typer.echo(datasets.readme(name))
        except KeyError as exc:
            _fail(str(exc).strip('"'))

    @data_app.command("verify")
    def verify_cmd(names: Optional[List[str]] = typer.Argument(None, help="Datasets (default all).")
                   ) -> None:
        """Recompute the SHA-256 of every packaged (and fetched) file; exit 1 on a mismatch."""
        from sweep import datasets

        rows = datasets.verify(names or None)
        if names and not rows:
            _fail(f"no dataset named {names}; see sweep data list")
        bad = 0
        for r in rows:
            typer.echo(f"{'ok ' if r['ok'] else 'BAD'} {r['dataset']:17s} {r['file']:7s} {r['path']}"
                       + ("" if r["ok"] else f"  expected {r['expected']}, got {r['actual']}"))
            bad += not r["ok"]
        if bad:
            typer.echo(f"{bad} file(s) fail verification", err=True)
            raise typer.Exit(1)
        typer.echo(f"all {len(rows)} files verified")

    @data_app.command("fetch")
    def fetch_cmd(
        name: str = typer.Argument(..., help="Release name (sweep data list), e.g. 4lac-dr3."),
        url: Optional[str] = typer.Option(None, "--url", help="Download from this URL instead of "
                                          "the official one (a mirror)."),
        sha256: Optional[str] = typer.Option(None, "--sha256", help="Expected SHA-256 (hex) when "
                                             "the manifest records none or for a --url file."),
        tofu: bool = typer.Option(False, "--trust-on-first-use", help="Accept a release without "
                                  "a known hash and record the hash of this download."),
    ) -> None:
        """Download a newer catalogue release into the user cache, verifying its SHA-256."""
        from sweep import datasets

        try:
            path = datasets.fetch(name, url=url, sha256_hex=sha256, trust_on_first_use=tofu)
        except (KeyError, ValueError, OSError) as exc:
            _fail(str(exc).strip('"'))
        except Exception as exc:  # requests' HTTP/connection errors
            _fail(f"download of {name!r} failed: {exc}")
        rec = datasets.fetched()[name]
        typer.echo(f"fetched {name} -> {path} (sha256 {rec['sha256']}, {rec['verified']})")
        if rec.get("format") == "4lac":
            typer.echo(f"use it with --catalog {name}")
