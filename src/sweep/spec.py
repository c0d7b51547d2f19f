"""Grid specs: the YAML schema of a sweep (pydantic v2) and its expansion into cells.

A spec names the grid axes (jet-model parameters, plus the dissipation distance ``z_diss``),
groups of axes that vary together (``zip``), fixed parameters, the model options of every cell
(:class:`sweep.model.cell.ModelOptions`), the output cube and its chunking, the cluster and the
number of retries. See ``docs/engine.md`` for the reference and ``grids/*.yaml`` for examples.

Every validation problem becomes one line ``<field path>: <value> ... allowed: <what>`` of a
:class:`SpecError`; the CLI prints them and exits with code 2, before anything is written.
"""
from __future__ import annotations

import hashlib
import itertools
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Optional, Union, get_args, get_origin

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from sweep.model.cell import ModelOptions

Z_UNITS = ("Rs", "cm", "pc", "rblr")
# how the cube's z_diss coordinate states the unit (docs/cube.md)
Z_UNIT_CF = {"Rs": "R_s", "cm": "cm", "pc": "pc", "rblr": "R_BLR"}
EXTRA_PARAMETERS = ("z_diss",)  # accepted as axis/fixed names besides the JetParameters fields


class SpecError(ValueError):
    """A grid spec is invalid; ``errors`` holds one human-readable line per problem."""

    def __init__(self, errors: list[str], source: str = "spec"):
        self.errors = list(errors)
        self.source = source
        super().__init__(f"{source}: invalid grid spec\n" + "\n".join(f"  {e}" for e in self.errors))


# ----------------------------------------------------------------------------------------------
# parameter names and values: the contract of sweep.model.params.JetParameters
# ----------------------------------------------------------------------------------------------
def jet_parameter_model():
    """The pydantic model of every jet parameter (``sweep.model.params.JetParameters``)."""
    from sweep.model.params import JetParameters

    return JetParameters


def parameter_names() -> tuple[str, ...]:
    return tuple(jet_parameter_model().model_fields) + EXTRA_PARAMETERS


# ----------------------------------------------------------------------------------------------
# schema
# ----------------------------------------------------------------------------------------------
class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Range(_Strict):
    """``num`` points from ``start`` to ``stop`` (both included)."""

    start: float
    stop: float
    num: int = Field(ge=1, le=100000)


class Axis(_Strict):
    """One grid axis: exactly one of ``values``, ``linspace`` (evenly spaced) or ``logspace``
    (evenly spaced in log10; start and stop are the values themselves, not exponents)."""

    values: Optional[list[float]] = Field(None, min_length=1)
    linspace: Optional[Range] = None
    logspace: Optional[Range] = None
    unit: Optional[Literal["Rs", "cm", "pc", "rblr"]] = None

    @model_validator(mode="after")
    def _one_kind(self):
        given = [k for k in ("values", "linspace", "logspace") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                f"give exactly one of values, linspace, logspace (got {', '.join(given) or 'none'})")
        if self.logspace is not None and (self.logspace.start <= 0 or self.logspace.stop <= 0):
            raise ValueError(f"logspace start and stop must be > 0 (got {self.logspace.start:g}, "
                             f"{self.logspace.stop:g})")
        return self

    def expand(self) -> np.ndarray:
        if self.values is not None:
            return np.asarray(self.values, dtype=float)
        if self.linspace is not None:
            r = self.linspace
            return np.linspace(r.start, r.stop, r.num)
        r = self.logspace
        return np.logspace(math.log10(r.start), math.log10(r.stop), r.num)

    def kind(self) -> str:
        return next(k for k in ("values", "linspace", "logspace") if getattr(self, k) is not None)


class Output(_Strict):
    path: str = Field("cube.zarr", min_length=1,
                      description="cube path (relative paths are relative to the working directory)")
    chunks: dict[str, int] = Field(
        default_factory=dict,
        description="chunk size per grid dimension (axis or zipN name); default 1 for every grid "
                    "dimension except z_diss (or the last dimension), which is one whole chunk")

    @field_validator("chunks")
    @classmethod
    def _positive(cls, v: dict[str, int]) -> dict[str, int]:
        for k, n in v.items():
            if n < 1:
                raise ValueError(f"chunks.{k}: value {n} must be ≥ 1")
        return v


def _no_control_chars(v: str, where: str = "") -> None:
    """Values that end up in a job script or a command line: a newline would inject lines."""
    bad = [c for c in v if ord(c) < 32 or ord(c) == 127]
    if bad:
        raise ValueError(f"{where}value {_short_repr(v)} contains the control character "
                         f"{bad[0]!r}; allowed: a single line without control characters")


class LocalSpec(_Strict):
    n_workers: Optional[int] = Field(None, ge=1, le=4096, description="default: all cores")
    threads_per_worker: int = Field(1, ge=1, le=256)
    memory_limit: Optional[str] = Field(None, description="per worker, e.g. '4GiB'; default: auto")
    dashboard_address: str = Field("127.0.0.1:0", description="host:port of the dashboard; a bare "
                                   "':port' binds 127.0.0.1; '0.0.0.0:port' opts out (warned)")


class SlurmSpec(_Strict):
    queue: Optional[str] = Field(None, description="partition (sbatch -p)")
    account: Optional[str] = None
    walltime: str = Field("01:00:00", pattern=r"^(\d+-)?\d{1,3}:\d{2}(:\d{2})?$")
    cores: int = Field(1, ge=1, le=1024, description="cores per job")
    memory: str = Field("2GB", pattern=r"^\d+(\.\d+)?\s*([KMGT]i?B?)?$", description="memory per job")
    processes: Optional[int] = Field(None, ge=1, le=1024,
                                     description="worker processes per job; default = cores")
    job_extra_directives: list[str] = Field(default_factory=list)
    max_jobs: int = Field(1, ge=1, le=100000, description="adaptive scaling upper bound")
    min_jobs: int = Field(0, ge=0)
    local_directory: Optional[str] = None
    log_directory: Optional[str] = Field(None, description="default: <cube>.logs beside the cube")
    interface: Optional[str] = Field(None, description="network interface of the workers, e.g. ib0; "
                                                      "'lo' on a one-node test cluster")
    python: Optional[str] = Field(None, description="worker python; default: this interpreter")
    scheduler_port: int = Field(0, ge=0, le=65535)
    dashboard_port: int = Field(8787, ge=0, le=65535)

    @field_validator("queue", "account", "local_directory", "log_directory", "interface", "python",
                     "memory", "walltime", mode="before")
    @classmethod
    def _no_control(cls, v):
        if isinstance(v, str):
            _no_control_chars(v)
        return v

    @field_validator("queue")
    @classmethod
    def _partition(cls, v):
        # sbatch -p: a comma-separated list of partition names
        if v is not None and not re.fullmatch(r"[A-Za-z0-9_.+-]+(,[A-Za-z0-9_.+-]+)*", v):
            raise ValueError(f"value {v!r} is not a SLURM partition list; allowed: names of letters, "
                             "digits, _ . + - separated by commas")
        return v

    @field_validator("account")
    @classmethod
    def _account(cls, v):
        if v is not None and not re.fullmatch(r"[A-Za-z0-9_.+-]+", v):
            raise ValueError(f"value {v!r} is not a SLURM account name; allowed: letters, digits, _ . + -")
        return v

    @field_validator("job_extra_directives")
    @classmethod
    def _directives(cls, v: list[str]) -> list[str]:
        for i, d in enumerate(v):
            _no_control_chars(d, f"[{i}] ")
            if not re.fullmatch(r"--?[A-Za-z][A-Za-z0-9-]*([ =]\S.*)?", d):
                raise ValueError(f"[{i}] value {d!r} is not an sbatch option; allowed: '--name=value', "
                                 "'--flag' or '-X value' (one #SBATCH line each)")
        return v

    @model_validator(mode="after")
    def _procs(self):
        if self.processes is not None and self.processes > self.cores:
            raise ValueError(f"processes: value {self.processes} must be ≤ cores = {self.cores}")
        if self.min_jobs > self.max_jobs:
            raise ValueError(f"min_jobs: value {self.min_jobs} must be ≤ max_jobs = {self.max_jobs}")
        return self


class AddressTLS(_Strict):
    """Certificate files for connecting to an existing ``tls://`` scheduler."""

    ca_file: str = Field(min_length=1, description="CA certificate (PEM) of the scheduler")
    cert: str = Field(min_length=1, description="client certificate (PEM)")
    key: Optional[str] = Field(None, description="client key (PEM); omit when inside cert")


class ClusterSpec(_Strict):
    default: Literal["local", "slurm", "address"] = Field(
        "local", description="cluster used when `sweep submit` gets no --cluster")
    tls: bool = Field(True, description="TLS with temporary certificates for local and slurm "
                                        "clusters; false is an opt-out (warned about)")
    address_tls: Optional[AddressTLS] = None
    local: LocalSpec = LocalSpec()
    slurm: Optional[SlurmSpec] = None
    address: Optional[str] = Field(None, pattern=r"^[a-z+]+://\S+$",
                                   description="address of a running Dask scheduler")
    # caches of the workers (docs/engine.md, "Caches on a cluster"); default: the user's cache dir
    table_cache_dir: Optional[str] = Field(None, description="on-disk cache of the canonical kernel "
                                           "tables (SWEEP_TABLE_CACHE); 'off' disables it")
    numba_cache_dir: Optional[str] = Field(None, description="numba's compiled-kernel cache "
                                           "(NUMBA_CACHE_DIR); default: numba's own")

    @field_validator("table_cache_dir", "numba_cache_dir", "address", mode="before")
    @classmethod
    def _no_control(cls, v):
        if isinstance(v, str):  # exported in the SLURM job script / used on the command line
            _no_control_chars(v)
        return v

    @model_validator(mode="after")
    def _default_present(self):
        if self.default == "slurm" and self.slurm is None:
            raise ValueError("default: value 'slurm' needs a cluster.slurm section")
        if self.default == "address" and self.address is None:
            raise ValueError("default: value 'address' needs cluster.address")
        return self


class Limits(_Strict):
    """Guards against a mistaken spec (a stray zero in ``num``): ``sweep submit`` refuses a grid
    above ``max_cells`` unless ``--allow-large``; ``sweep plan`` warns above the others."""

    max_cells: int = Field(10_000_000, ge=1, description="cells above which submit needs --allow-large")
    warn_core_hours: float = Field(10_000.0, gt=0, description="plan warns above this model time")
    warn_disk_gib: float = Field(1024.0, gt=0, description="plan warns above this output size")


class SweepSpec(_Strict):
    """A whole grid spec (the YAML file)."""

    name: str = Field("sweep", min_length=1)
    description: str = ""
    axes: dict[str, Axis] = Field(min_length=1)
    zip: list[list[str]] = Field(default_factory=list)
    fixed: dict[str, Union[float, int, str, bool, None]] = Field(default_factory=dict)
    model: ModelOptions = ModelOptions()
    output: Output = Output()
    cluster: ClusterSpec = ClusterSpec()
    retries: int = Field(3, ge=0, le=100, description="reruns of a task after an exception or a "
                                                       "worker death before its cells are marked failed")
    limits: Limits = Limits()

    # ------------------------------------------------------------------ derived (not validated)
    def z_unit(self) -> str:
        ax = self.axes.get("z_diss")
        if ax is not None and ax.unit is not None:
            return ax.unit
        return str(self.fixed.get("z_unit", "Rs"))

    def dims(self) -> list["Dim"]:
        """The grid dimensions in spec order (a zip group sits where its first member is)."""
        zipped = {name: i for i, grp in enumerate(self.zip) for name in grp}
        out: list[Dim] = []
        seen: set[int] = set()
        for name, ax in self.axes.items():
            if name in zipped:
                gi = zipped[name]
                if gi in seen:
                    continue
                seen.add(gi)
                grp = self.zip[gi]
                coords = {p: self.axes[p].expand() for p in grp}
                out.append(Dim(f"zip{gi}", len(coords[grp[0]]), coords))
            else:
                vals = ax.expand()
                out.append(Dim(name, len(vals), {name: vals}))
        return out

    def chunk_sizes(self) -> dict[str, int]:
        dims = self.dims()
        names = [d.name for d in dims]
        whole = "z_diss" if "z_diss" in names else names[-1]
        out = {}
        for d in dims:
            default = d.size if d.name == whole else 1
            out[d.name] = max(1, min(d.size, self.output.chunks.get(d.name, default)))
        return out

    def fixed_parameters(self) -> dict[str, Any]:
        return {k: v for k, v in self.fixed.items() if k != "z_unit"}

    def n_cells(self) -> int:
        """Number of grid cells (Python integers: no overflow for absurd grids)."""
        return math.prod(int(d.size) for d in self.dims())

    def science(self) -> dict[str, Any]:
        """What defines the cube's contents (compared on resume): dims, fixed, model, z unit."""
        return {
            "dims": [{"name": d.name, "coords": {k: [float(x) for x in v] for k, v in d.coords.items()}}
                     for d in self.dims()],
            "fixed": dict(sorted(self.fixed_parameters().items())),
            "z_unit": self.z_unit(),
            "model": self.model.model_dump(mode="json"),
        }


@dataclass(frozen=True)
class Dim:
    """One grid dimension of the cube: an axis, or a zip group with several coordinates."""

    name: str
    size: int
    coords: dict[str, np.ndarray]


# ----------------------------------------------------------------------------------------------
# cross-field checks (need the JetParameters contract)
# ----------------------------------------------------------------------------------------------
def _check_semantics(spec: SweepSpec) -> list[str]:
    errors: list[str] = []
    jp = jet_parameter_model()
    names = parameter_names()
    allowed = ", ".join(names)
    for name, ax in spec.axes.items():
        if name not in names:
            errors.append(f"axes.{name}: unknown parameter {name!r}; allowed: {allowed}")
        if ax.unit is not None and name != "z_diss":
            errors.append(f"axes.{name}.unit: value {ax.unit!r} is only allowed on the z_diss axis")
        vals = ax.expand()
        if len(np.unique(vals)) != len(vals) and not any(name in g for g in spec.zip):
            errors.append(f"axes.{name}.{ax.kind()}: values {_short_list(vals)} repeat; allowed: distinct values")
        if name == "z_diss" and np.any(vals <= 0):
            errors.append(f"axes.z_diss.{ax.kind()}: values {_short_list(vals)} must all be > 0")
        if not np.all(np.isfinite(vals)):
            errors.append(f"axes.{name}.{ax.kind()}: values must be finite")
    for name, v in spec.fixed.items():
        if name == "z_unit":
            if v not in Z_UNITS:
                errors.append(f"fixed.z_unit: value {v!r} is not allowed; allowed: {', '.join(Z_UNITS)}")
            continue
        if name not in names:
            errors.append(f"fixed.{name}: unknown parameter {name!r}; allowed: {allowed}, z_unit")
        if name in spec.axes:
            errors.append(f"fixed.{name}: {name!r} is also a grid axis; give it in one place only")
    if "z_diss" in spec.fixed:
        z = spec.fixed["z_diss"]
        if not isinstance(z, (int, float)) or isinstance(z, bool) or not z > 0:
            errors.append(f"fixed.z_diss: value {z!r} is not allowed; allowed: a number > 0")
        if "z_diss" in spec.axes and spec.axes["z_diss"].unit is not None and "z_unit" in spec.fixed:
            errors.append("fixed.z_unit: z_diss unit given twice (axes.z_diss.unit and fixed.z_unit)")
    elif "z_diss" not in spec.axes:
        errors.append("axes.z_diss: missing; the dissipation distance z_diss must be a grid axis "
                      "or a fixed parameter")
    if "z_diss" in spec.axes and "z_unit" in spec.fixed and spec.axes["z_diss"].unit is not None:
        pass  # reported above
    # zip groups
    seen: dict[str, int] = {}
    for gi, grp in enumerate(spec.zip):
        if len(grp) < 2:
            errors.append(f"zip[{gi}]: value {grp} must name at least two axes")
        lengths = {}
        for p in grp:
            if p not in spec.axes:
                errors.append(f"zip[{gi}]: {p!r} is not an axis; allowed: {', '.join(spec.axes)}")
                continue
            if p in seen:
                errors.append(f"zip[{gi}]: {p!r} is already in zip[{seen[p]}]")
            seen[p] = gi
            lengths[p] = len(spec.axes[p].expand())
        if len(set(lengths.values())) > 1:
            errors.append(f"zip[{gi}]: axes {grp} have different lengths {lengths}; allowed: equal lengths")
    if errors:
        return errors
    # chunks
    dim_names = [d.name for d in spec.dims()]
    for k in spec.output.chunks:
        if k not in dim_names:
            errors.append(f"output.chunks.{k}: unknown dimension {k!r}; allowed: {', '.join(dim_names)}")
    # values against the JetParameters contract (each axis value with the fixed ones)
    fixed = {k: v for k, v in spec.fixed_parameters().items() if k != "z_diss"}
    try:
        jp(**fixed)
    except ValidationError as exc:
        errors.extend(_jet_errors(exc, "fixed", fixed))
        return errors
    for name, ax in spec.axes.items():
        if name == "z_diss":
            continue
        for i, v in enumerate(ax.expand()):
            try:
                jp(**{**fixed, name: float(v)})
            except ValidationError as exc:
                where = f"axes.{name}.values[{i}]" if ax.values is not None else f"axes.{name}.{ax.kind()}"
                errors.extend(_jet_errors(exc, where, {name: float(v)}, value=v))
                break
    return errors


def _jet_errors(exc: ValidationError, where: str, given: dict, value: Any = None) -> list[str]:
    from sweep.model.params import _allowed_range  # noqa: PLC2701 - same contract, one source

    jp = jet_parameter_model()
    out = []
    for err in exc.errors():
        loc = err.get("loc", ())
        field = str(loc[0]) if loc else ""
        if not loc:
            out.append(f"{where}: {err.get('msg', '').replace('Value error, ', '')}")
            continue
        path = f"{where}.{field}" if where == "fixed" else where
        v = err.get("input") if value is None else float(value)
        out.append(f"{path}: value {v!r} is not allowed ({err.get('msg')}); allowed: "
                   f"{_allowed_range(jp, field)}")
    return out


def _short_list(vals) -> str:
    vals = list(vals)
    head = ", ".join(f"{float(v):g}" for v in vals[:6])
    return f"[{head}{', ...' if len(vals) > 6 else ''}] ({len(vals)} values)" if len(vals) > 6 else f"[{head}]"


def _short_repr(value: Any, limit: int = 80) -> str:
    """A bounded repr: never builds the repr of a huge (or alias-shared) value in full."""
    import reprlib

    r = reprlib.Repr()
    r.maxlevel, r.maxlist, r.maxdict, r.maxstring, r.maxother = 3, 6, 6, 60, 60
    shown = r.repr(value)
    return shown if len(shown) <= limit else shown[:limit - 3] + "..."


# ----------------------------------------------------------------------------------------------
# formatting of pydantic errors with paths and allowed values
# ----------------------------------------------------------------------------------------------
def _unwrap(tp):
    """Strip Optional/Union/list/dict to the BaseModel class inside, if any."""
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return tp
    for arg in get_args(tp):
        m = _unwrap(arg)
        if m is not None:
            return m
    return None


def _model_at(loc: tuple) -> Optional[type[BaseModel]]:
    """The pydantic model that owns the keys at ``loc`` (for listing allowed keys)."""
    tp: Any = SweepSpec
    for part in loc:
        origin = get_origin(tp)
        if origin is dict:
            tp = get_args(tp)[1]
            continue
        if origin is list:
            tp = get_args(tp)[0]
            continue
        m = _unwrap(tp)
        if m is None or not isinstance(part, str) or part not in m.model_fields:
            return None
        tp = m.model_fields[part].annotation
    return _unwrap(tp)


def _fmt_loc(loc: tuple) -> str:
    out = ""
    for p in loc:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += ("." if out else "") + str(p)
    return out or "(top level)"


def format_pydantic(exc: ValidationError) -> list[str]:
    lines = []
    for err in exc.errors():
        loc = tuple(err.get("loc", ()))
        # pydantic puts union member tags (e.g. 'float', 'int') in the path; drop them
        loc = tuple(p for p in loc if p not in ("float", "int", "str", "bool", "none"))
        path = _fmt_loc(loc)
        typ = err.get("type", "")
        value = err.get("input")
        if typ == "extra_forbidden":
            parent = _model_at(loc[:-1])
            allowed = ", ".join(parent.model_fields) if parent is not None else "see docs/engine.md"
            lines.append(f"{path}: unknown key {loc[-1]!r}; allowed: {allowed}")
            continue
        if typ == "missing":
            lines.append(f"{path}: required field is missing")
            continue
        msg = err.get("msg", "").replace("Value error, ", "")
        shown = _short_repr(value) if not isinstance(value, dict) else "{...}"
        lines.append(f"{path}: value {shown} is not allowed: {msg}")
    # a union of scalar types reports one line per member; keep distinct lines
    seen, uniq = set(), []
    for ln in lines:
        if ln not in seen:
            seen.add(ln)
            uniq.append(ln)
    return uniq


# ----------------------------------------------------------------------------------------------
# loading
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LoadedSpec:
    spec: SweepSpec
    text: str
    sha256: str
    source: str


MAX_SPEC_BYTES = 1 << 20  # a grid spec is a page of YAML; 1 MiB is far beyond any real one
MAX_YAML_NODES = 100_000  # YAML nodes after expanding aliases (a real spec has a few hundred)
MAX_YAML_ALIASES = 100  # alias uses (*name); a real spec has none or a few


def _loader():
    """SafeLoader that also reads YAML 1.2 floats such as ``1e9`` (PyYAML's YAML 1.1 reads
    them as strings) and refuses duplicate keys (naming the key and its line)."""
    import re

    import yaml
    from yaml.constructor import ConstructorError

    class Loader(yaml.SafeLoader):
        def construct_mapping(self, node, deep=False):
            if isinstance(node, yaml.MappingNode):
                seen: dict = {}
                for key_node, _ in node.value:
                    if key_node.tag == "tag:yaml.org,2002:merge":
                        continue
                    key = self.construct_object(key_node, deep=False)
                    try:
                        first = seen.get(key)
                    except TypeError:
                        continue  # unhashable key: reported by the schema
                    if first is not None:
                        raise ConstructorError(
                            None, None,
                            f"duplicate key {_short_repr(key)} (first given on line {first}); "
                            "allowed: each key once", key_node.start_mark)
                    seen[key] = key_node.start_mark.line + 1
            return super().construct_mapping(node, deep=deep)

    Loader.add_implicit_resolver(
        "tag:yaml.org,2002:float",
        re.compile(r"""^[-+]?(?:\d[\d_]*)?(?:\.\d*)?[eE][-+]?\d+$"""),
        list("-+0123456789."),
    )
    return Loader


def _node_budget(root) -> None:
    """Refuse a YAML node graph whose alias-expanded size exceeds MAX_YAML_NODES, with more than
    MAX_YAML_ALIASES alias uses, or with a recursive alias, before any value is built (an alias
    "billion laughs" bomb is a few hundred bytes)."""
    import yaml

    sizes: dict[int, int] = {}
    aliases = 0
    # iterative post-order walk over the DAG (shared nodes = aliases)
    stack = [(root, False)]
    active: set[int] = set()
    pushed: set[int] = {id(root)}
    while stack:
        node, done = stack.pop()
        nid = id(node)
        if done:
            active.discard(nid)
            sizes[nid] = 1 + sum(sizes[id(k)] for k in _children(node))
            if sizes[nid] > MAX_YAML_NODES:
                raise yaml.YAMLError(f"the document expands to more than {MAX_YAML_NODES} YAML "
                                     "nodes (alias expansion); allowed: a plain grid spec")
            continue
        if nid in sizes:
            continue
        active.add(nid)
        stack.append((node, True))
        for k in _children(node):
            if id(k) in active:
                raise yaml.YAMLError("recursive alias; allowed: a plain grid spec")
            if id(k) in pushed:  # a node met again: an alias use
                aliases += 1
                if aliases > MAX_YAML_ALIASES:
                    raise yaml.YAMLError(f"more than {MAX_YAML_ALIASES} alias uses (*name); "
                                         "allowed: a plain grid spec")
            pushed.add(id(k))
            stack.append((k, False))


def _children(node) -> list:
    import yaml

    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [x for kv in node.value for x in kv]
    return []


def _load_yaml(text: str):
    """Compose, check the node budget, then construct (values are built only after the check)."""
    loader = _loader()(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _node_budget(node)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def parse_spec(text: str, source: str = "spec") -> LoadedSpec:
    """Validate YAML text; raises :class:`SpecError` with every problem found."""
    import yaml

    if len(text) > MAX_SPEC_BYTES:
        raise SpecError([f"(file): {len(text)} characters; allowed: at most {MAX_SPEC_BYTES} "
                         "(a grid spec is a page of YAML)"], source)
    try:
        data = _load_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(document)"
        raise SpecError([f"(yaml) {where}: {getattr(exc, 'problem', None) or exc}"], source) from None
    if not isinstance(data, dict):
        raise SpecError([f"(top level): value {type(data).__name__} is not allowed; allowed: a "
                         "mapping with keys " + ", ".join(SweepSpec.model_fields)], source)
    try:
        spec = SweepSpec.model_validate(data)
    except ValidationError as exc:
        raise SpecError(format_pydantic(exc), source) from None
    errors = _check_semantics(spec)
    if errors:
        raise SpecError(errors, source)
    return LoadedSpec(spec, text, hashlib.sha256(text.encode()).hexdigest(), source)


def load_spec(path: str | Path) -> LoadedSpec:
    p = Path(path)
    try:
        if p.stat().st_size > MAX_SPEC_BYTES:
            raise SpecError([f"(file) {p}: {p.stat().st_size} bytes; allowed: at most "
                             f"{MAX_SPEC_BYTES} (a grid spec is a page of YAML)"], str(p))
        text = p.read_text()
    except OSError as exc:
        raise SpecError([f"(file) {p}: cannot read ({exc.strerror})"], str(p)) from None
    return parse_spec(text, str(p))


# ----------------------------------------------------------------------------------------------
# expansion into cells
# ----------------------------------------------------------------------------------------------
def cell_parameters(spec: SweepSpec, index: tuple[int, ...], dims: list[Dim] | None = None) -> dict:
    """Every jet-model parameter of one cell (``JetParameters`` defaults filled in), plus
    ``z_diss`` and ``z_unit``: the ``params`` argument of ``run_cell``."""
    dims = dims if dims is not None else spec.dims()
    given: dict[str, Any] = dict(spec.fixed_parameters())
    for d, i in zip(dims, index):
        for p, vals in d.coords.items():
            given[p] = float(vals[i])
    z = given.pop("z_diss")
    params = jet_parameter_model()(**given).model_dump()
    params["z_diss"] = float(z)
    params["z_unit"] = spec.z_unit()
    return params


def iter_cells(spec: SweepSpec):
    """Yield (index tuple, params) over the whole grid in C order."""
    dims = spec.dims()
    for idx in itertools.product(*(range(d.size) for d in dims)):
        yield idx, cell_parameters(spec, idx, dims)
