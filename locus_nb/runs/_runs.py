"""Running the notebooks with papermill: parameter sets, parallel runs, a one-page summary.

Each run is one papermill execution with its own kernel, in its own worker process
(papermill/nbclient drive an event loop per call; processes keep runs from sharing one).
Runs one at a time (a single run, or `jobs=1`) need no pool: they run in this process, which gets its
environment back after each.
papermill is imported only where a run executes and in `clean_notebook`.

`record=DIR` / `replay=DIR`: each run's kernel records into, or replays from, its own cassette,
`DIR/<executed notebook name>.jsonl` (the mode reaches `connect()` as LOCUS_NB_MODE and
LOCUS_NB_CASSETTE); a replay runs every parameter set recorded for each notebook (`_cassettes`). Each result carries the lesson claims the executed notebook states
(`_claims.claims_in`); the summary lists them.
"""

from __future__ import annotations

import os
import re
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from ..notebook._claims import Claims, claims_in
from .._errors import ConfigError, mask_secrets
from ._handouts import WIDGET_VIEW, mask_executed
from ._kernels import KERNEL_VARS, batch_kernel, kept_as_it_was, set_mode, set_usage_log
from ._cassettes import cassette_path, note_parameters, replayed_sets
from ._exercises import EDITIONS, UNSOLVED, Exercise, exercises_in
from ._lean import skip_iri_grammar
from ._matrix import CONNECTION_PARAMETERS, describe, naming_parameters, output_name, parameter_sets
from ._results import RunResult
from ._retries import with_retries
from ._shards import shard_of
from ._summary import summary_markdown
from ._usage import Usage, usage_in_cassette, usage_in_log
from .._redact import mask_param
from ..notebook._params import declared_parameters, undeclared_error

__all__ = ["RunResult", "cassette_path", "check_parameters", "clean_notebook", "describe", "notebook_parameters",
           "output_name", "parameter_sets", "run_notebooks", "summary_markdown", "worker_count"]

def notebook_parameters(notebook: Path) -> list[str] | None:
    """The names a notebook's `parameters` cell declares; None when it has no such cell."""
    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code" and "parameters" in cell.metadata.get("tags", []):
            return declared_parameters(cell.source)
    return None


def check_parameters(notebooks: Sequence[Path], param_sets: Sequence[dict[str, Any]], *, mock: bool = False) -> None:
    """Before any kernel starts: every `-p` name is one each notebook declares (papermill only warns about the
    others, and the run would go on with the default); with `--mock`, no other target is given."""
    names = list(dict.fromkeys(k for params in param_sets for k in params))
    if mock and (other := [k for params in param_sets for k, v in params.items()
                           if k in ("profile", "endpoint", "api_key") and str(v).strip().lower() not in ("", "none", "mock")]):
        raise ConfigError(f"--mock runs against the embedded mock; -p {other[0]}=… names another target: drop one")
    for notebook in notebooks if names else ():
        try:
            declared = notebook_parameters(Path(notebook))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot read {Path(notebook).name}: {type(exc).__name__}") from None
        if declared is None:
            raise ConfigError(f"{Path(notebook).name} has no cell tagged `parameters`, so -p {names[0]}=… would not "
                              "reach it as a parameter")
        unknown = [n for n in names if n not in declared]
        if unknown:
            raise undeclared_error(unknown, declared, Path(notebook).name)


def worker_count(runs: int, jobs: int | None = None) -> int:
    """Runs at a time: as asked, else one per core; never more than there are runs."""
    return max(1, min(runs, jobs or os.cpu_count() or 1))


@dataclass(frozen=True)
class _Job:
    notebook: str
    output: str
    parameters: dict[str, Any] = field(default_factory=dict)
    in_place: bool = False
    timeout: int = 300
    mode: str = "live"  # or "record" / "replay", with its cassette
    cassette: str | None = None
    edition: str = "learner"  # or "instructor": each exercise cell runs its solution (`_editions`)


def _failure(exc: BaseException) -> str:
    """One line that says what failed, without a traceback (papermill's carries ANSI codes)."""
    ename, evalue = getattr(exc, "ename", None), getattr(exc, "evalue", None)
    if ename:
        cell = getattr(exc, "exec_count", None)
        where = f"cell [{cell}]: " if cell else ""
        text = f"{where}{ename}: {str(evalue).splitlines()[0] if evalue else ''}"
    else:
        lines = str(exc).strip().splitlines()
        text = f"{type(exc).__name__}: {lines[-1] if lines else ''}"
    return mask_param("error", mask_secrets(text))[:300]


def _execute(job: _Job) -> RunResult:
    import papermill

    from ._engine import ENGINE

    start = time.perf_counter()
    error = ""
    set_mode(job.mode, job.cassette)  # this process's next kernel, and only it (one job at a time per process)
    batch_kernel()
    # papermill writes the notebook as the run starts and ends (_engine.py), parameters as given: into a
    # scratch file, masked (`mask_executed`) on its way to the output, so no file there holds an OCID or a password.
    with tempfile.TemporaryDirectory(prefix="locus-nb-run-") as scratch:
        running = Path(scratch) / Path(job.output).name
        usage_log = Path(scratch) / "usage.jsonl"  # a live run's tokens (a cassette holds the others')
        set_usage_log(usage_log if job.mode == "live" else None)
        try:
            papermill.execute_notebook(
                _edition_source(job, Path(scratch)), str(running), parameters=job.parameters, cwd=str(Path(job.notebook).parent),
                kernel_name="python3", engine_name=ENGINE, progress_bar=False, log_output=False,
                execution_timeout=job.timeout,
                # The kernel's own start-up notices (ipykernel 7 warns about its loopback TCP transport)
                # are noise on a terminal full of runs; errors still show, and cell output is untouched.
                extra_arguments=["--IPKernelApp.log_level=ERROR"],
            )
        except Exception as exc:  # papermill raises for a failing cell; the output notebook is still written
            error = _failure(exc)
        if running.is_file():
            try:
                mask_executed(running, Path(job.output), Path(job.notebook))
                if job.in_place:
                    clean_notebook(Path(job.output))
            except (OSError, ValueError) as exc:
                error = error or _failure(exc)
        usage = usage_in_cassette(job.cassette) if job.cassette else usage_in_log(usage_log)
    if job.mode == "record":
        note_parameters(Path(job.cassette), job.parameters)
    return _result(job, not error, time.perf_counter() - start, error, usage)


def _edition_source(job: _Job, scratch: Path) -> str:
    """The notebook papermill executes: the lesson as committed, or its instructor edition in a scratch file
    (papermill runs it in the lesson's folder all the same: `cwd`)."""
    if job.edition == "learner":
        return job.notebook
    import nbformat

    from ..notebook._editions import instructor_edition

    source = scratch / f"{job.edition}-{Path(job.notebook).name}"
    nbformat.write(instructor_edition(nbformat.read(job.notebook, as_version=4)), source)
    return str(source)


def _unsolved(exercises: Sequence[Exercise]) -> str:
    """The run's error when, in the instructor edition, a solution's check did not pass ("" when all did)."""
    failed = [f"{e.name} ({e.says})" for e in exercises if not e.done]
    return f"{UNSOLVED}: the solution of {', '.join(failed)} does not pass its check" if failed else ""


def _result(job: _Job, ok: bool, seconds: float, error: str, usage: tuple[Usage, ...]) -> RunResult:
    """What the executed notebook shows: claims, exercises, target; and the tokens the run's responses used.
    In the instructor edition, an exercise whose check does not pass with its solution fails the run."""
    try:
        _, exercises = exercises_in(job.output)
        claims, target = claims_in(job.output), _target_in(job.output)
    except (OSError, ValueError):  # no notebook written (papermill failed before the first cell)
        exercises, claims, target = (), Claims(), ""
    if job.edition == "instructor" and not error and (error := _unsolved(exercises)):
        ok = False
    return RunResult(job.notebook, job.parameters, job.output, ok, seconds, error, claims, job.mode, job.cassette,
                     target, usage, exercises, job.edition)


_TARGET_LINE = re.compile(r"^(?:Connected to |(?=Replaying cassette ))(.+)$", re.M)


def _target_in(path: str) -> str:
    """The setup cell's first line: where the run was connected (a replay names its cassette)."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        for output in cell.get("outputs", ()) if cell.cell_type == "code" else ():
            if output.output_type == "stream" and (match := _TARGET_LINE.search(output.get("text", ""))):
                return match.group(1)
    return ""


def run_notebooks(
    notebooks: Sequence[Path],
    param_sets: Sequence[dict[str, Any]],
    out: Path,
    *,
    in_place: bool = False,
    jobs: int | None = None,
    timeout: int = 300,
    progress: bool = True,
    record: Path | None = None,
    replay: Path | None = None,
    mock: bool = False,
    shard: tuple[int, int] | None = None,
    retries: int = 0,
    edition: str = "learner",
) -> list[RunResult]:
    """Run every notebook with every parameter set, `jobs` at a time; results in notebook order.

    `record`/`replay`: a folder of cassettes, one per run (`cassette_path`), written or read.
    `mock`: the runs asked for the embedded mock (`--mock`): no parameter may name another target.
    `shard=(K, N)`: only the K-th of N slices of the matrix (`_shards`). `retries`: rounds of running again
    the runs that failed on a transient error (`_retries`). `edition="instructor"`: each notebook runs with its
    exercise cells holding their solutions (`_editions.instructor_edition`), into `<name>.instructor.ipynb`; a
    solution whose check does not pass fails its run.
    Refused before any kernel starts: a parameter a notebook does not declare, and an `out` that is a
    notebook's own folder (executed copies would overwrite or sit among the lessons) unless `in_place`.
    """
    work = _jobs(notebooks, list(param_sets) or [{}], out, in_place=in_place, timeout=timeout, record=record,
                 replay=replay, mock=mock)
    if edition != "learner":
        work = _in_edition(work, edition)
    if shard is not None:
        work = shard_of(work, *shard)
    out.mkdir(parents=True, exist_ok=True)
    if retries < 0:
        raise ConfigError(f"--retries takes a count of 0 or more; got {retries}")
    return with_retries(work, lambda batch: _execute_all(batch, worker_count(len(batch), jobs), progress=progress),
                        retries)


def _jobs(notebooks: Sequence[Path], param_sets: list[dict[str, Any]], out: Path, *, in_place: bool, timeout: int,
          record: Path | None, replay: Path | None, mock: bool) -> list[_Job]:
    """Every run to make, checked before any kernel starts (see `run_notebooks`)."""
    if in_place and param_sets != [{}]:
        raise ConfigError("--in-place records the reference outputs and takes no -p/--store parameters")
    if not in_place and (mine := [nb for nb in notebooks if Path(nb).resolve().parent == Path(out).resolve()]):
        raise ConfigError(f"--out {out} is where {Path(mine[0]).name} lives: the executed copies would overwrite the "
                          "lessons; pass another --out, or --in-place to re-record the notebooks themselves")
    check_parameters(notebooks, param_sets, mock=mock)
    if record and replay:
        raise ConfigError("a run either records cassettes or replays them, not both")
    if replay:
        work = [_Job(str(nb), str(out / (cassette.stem + Path(nb).suffix)), params, False, timeout, "replay",
                     str(cassette)) for nb in notebooks for cassette, params in replayed_sets(replay, Path(nb), param_sets)]
        for job in work:  # what was recorded with a parameter the notebook no longer declares stops here too
            check_parameters([Path(job.notebook)], [job.parameters])
        return work
    if record and (moving := [k for k in CONNECTION_PARAMETERS if len({repr(p.get(k)) for p in param_sets}) > 1]):
        raise ConfigError(f"-p {moving[0]}=… names several targets; cassettes are named without where they were "
                          "recorded, so record each target into its own --record folder")
    # A recording names its files after the parameter set even when there is one, so `--store true` and a later
    # `--store false` into the same folder make two cassettes, not one overwritten.
    several = len(param_sets) > 1 or record is not None
    work = []
    for nb in notebooks:
        for params, naming in zip(param_sets, naming_parameters(param_sets), strict=True):
            output = str(nb if in_place else out / output_name(nb, naming, several))
            work.append(_Job(str(nb), output, params, in_place, timeout, "record" if record else "live",
                             str(cassette_path(record, output)) if record else None))
    return work


def _in_edition(work: list[_Job], edition: str) -> list[_Job]:
    """The same runs in another edition: executed copies named after it, so they never pass for the lessons."""
    from dataclasses import replace

    if edition not in EDITIONS:
        raise ConfigError(f"--edition takes one of {', '.join(EDITIONS)}; got {edition!r}")
    if any(job.in_place or job.mode != "live" for job in work):
        raise ConfigError(f"--edition {edition} runs the solutions: not with --in-place (the committed notebooks are "
                          "the learner edition) nor with --record/--replay (cassettes are recorded of the lessons as "
                          "committed)")
    return [replace(job, output=str(Path(job.output).with_suffix(f".{edition}.ipynb")), edition=edition) for job in work]


def _execute_all(work: list[_Job], workers: int, *, progress: bool) -> list[RunResult]:
    """Run the jobs, `workers` at a time (one: in this process), printing a line as each ends; results in order."""
    from tqdm.auto import tqdm

    results: dict[int, RunResult] = {}
    bar = tqdm(total=len(work), unit="run", desc="notebooks", disable=not progress, leave=False)

    def done(i: int, outcome: Callable[[], RunResult]) -> None:
        try:
            result = outcome()
        except Exception as exc:  # the run itself died (its worker, or papermill before any cell)
            job = work[i]
            result = RunResult(job.notebook, job.parameters, job.output, False, 0.0, _failure(exc))
        results[i] = result
        bar.update()
        bar.write(f"{Path(result.notebook).stem:20s} {describe(result.parameters):28s} "
                  f"{'ok' if result.ok else 'FAILED'} {result.seconds:.1f} s")

    if workers == 1:  # one at a time: a worker would only add a process start and papermill's imports again
        for i, job in enumerate(work):
            done(i, lambda job=job: _execute_here(job))
    else:
        # spawn: a fresh interpreter per worker, whatever threads this process has.
        with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"),
                                 initializer=skip_iri_grammar) as pool:
            futures = {pool.submit(_execute, job): i for i, job in enumerate(work)}
            for future in as_completed(futures):
                done(futures[future], future.result)
    bar.close()
    return [results[i] for i in range(len(work))]


def _execute_here(job: _Job) -> RunResult:
    """`_execute` in this process: what it sets for its kernel is put back afterwards, as a worker's exit would."""
    with kept_as_it_was(KERNEL_VARS):
        return _execute(job)


def clean_notebook(path: Path) -> None:
    """Drop what changes on every run (papermill timings, widget state and model ids) so that
    re-recording gives the same bytes and committed diffs mean something.

    A widget's view output keeps its `text/plain` repr (what nbval compares; its random model id is
    all the view part held, and the state it pointed at is dropped). Execution counts stay: nbval
    treats a cell without one as never run. A cell's printed text is one output per stream: how the kernel
    split it into messages depends on when it flushed, not on what was printed (nbval joins them too).
    """
    import nbformat

    nb = nbformat.read(path, as_version=4)
    for key in ("papermill", "widgets"):
        nb.metadata.pop(key, None)
    nb.cells = [c for c in nb.cells if "injected-parameters" not in c.metadata.get("tags", [])]
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        for output in cell.get("outputs", ()):
            output.get("data", {}).pop(WIDGET_VIEW, None)
        if "outputs" in cell:
            cell.outputs = _joined_streams(cell.outputs)
    nbformat.write(nb, path)


def _joined_streams(outputs: list[Any]) -> list[Any]:
    """Consecutive stream outputs of the same stream (stdout, stderr) as one."""
    joined: list[Any] = []
    for output in outputs:
        last = joined[-1] if joined else None
        if (output.output_type == "stream" and last is not None and last.output_type == "stream"
                and last.name == output.name):
            last.text += output.text
        else:
            joined.append(output)
    return joined
