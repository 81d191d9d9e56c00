"""`locus-nb`: the command line (mock server, notebook runs)."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

__all__ = ["main"]

# Variables that point a kernel at a real endpoint; cleared when a run asks for the mock.
_LIVE_ENV = ("OCI_PROFILE", "LOCUS_NB_ENDPOINT")


def _public_keys(specs: list[str]) -> dict[str, str]:
    """`--public-key PEM_FILE` (any keyId) or `--public-key KEY_ID=PEM_FILE`."""
    keys = {}
    for spec in specs:
        key_id, path = "*", spec
        if "=" in spec and not Path(spec).exists():
            key_id, _, path = spec.rpartition("=")
        try:
            keys[key_id] = Path(path).expanduser().read_text()
        except OSError as exc:
            raise SystemExit(f"locus-nb mock: cannot read public key {path!r}: {exc.strerror}") from None
    return keys


def _cmd_mock(args: argparse.Namespace) -> int:
    from .mock import MockServer

    try:
        server = MockServer(host=args.host, port=args.port, zdr=args.zdr, api_key=args.api_key,
                            token_delay=args.token_delay, public_keys=_public_keys(args.public_key) or None,
                            faults=args.fault)
    except ValueError as exc:  # a bad key or fault name: say which, without a traceback
        raise SystemExit(f"locus-nb mock: {exc}") from None
    print(server.base_url, flush=True)  # first line of stdout: scripts read the URL from here
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


def _parse_params(pairs: list[str]) -> dict[str, str]:
    params = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise SystemExit(f"locus-nb run: -p takes name=value, got {pair!r}")
        params[key.strip()] = value
    return params


def clean_notebook(path: Path) -> None:
    """Drop what changes on every run (papermill timings, widget model ids) so committed diffs mean something.

    Execution counts stay: nbval treats a cell without one as never run.
    """
    import nbformat

    nb = nbformat.read(path, as_version=4)
    for key in ("papermill", "widgets"):
        nb.metadata.pop(key, None)
    nb.cells = [c for c in nb.cells if "injected-parameters" not in c.metadata.get("tags", [])]
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
    nbformat.write(nb, path)


def _cmd_run(args: argparse.Namespace) -> int:
    import papermill

    notebooks = [Path(p) for p in args.notebooks] or sorted(Path(args.dir).glob("[0-9]*.ipynb"))
    if not notebooks:
        print(f"locus-nb run: no notebooks found in {args.dir}", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    params = _parse_params(args.param)
    if args.in_place and params:
        raise SystemExit("locus-nb run: --in-place records reference outputs and takes no -p parameters")
    if args.mock:
        for key in _LIVE_ENV:
            os.environ.pop(key, None)
    os.environ.setdefault("IPYKERNEL_CELL_NAME", "<IPY-INPUT>")

    failed = 0
    for nb in notebooks:
        start = time.perf_counter()
        status = "ok"
        target = nb if args.in_place else out / nb.name
        try:
            papermill.execute_notebook(
                str(nb), str(target), parameters=params, cwd=str(nb.parent),
                kernel_name="python3", progress_bar=False, log_output=False, execution_timeout=args.timeout,
            )
            if args.in_place:
                clean_notebook(target)
        except Exception as exc:  # papermill raises for a failing cell; keep going, report, exit non-zero
            status = f"FAILED ({type(exc).__name__}: {str(exc).strip().splitlines()[-1][:120] if str(exc).strip() else ''})"
            failed += 1
        print(f"{nb.name:28s} {status:6s} {time.perf_counter() - start:6.1f}s", flush=True)
    where = "updated in place" if args.in_place else f"executed notebooks in {out}/"
    print(f"{len(notebooks) - failed} ok, {failed} failed; {where}")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="locus-nb", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    mock = sub.add_parser("mock", help="serve the mock OCI Responses endpoint; prints its base URL first")
    mock.add_argument("--host", default="127.0.0.1")
    mock.add_argument("--port", type=int, default=0, help="0 = a free port")
    mock.add_argument("--zdr", action="store_true", help="act as a Zero Data Retention tenancy")
    mock.add_argument("--api-key", default=None, help="require this Bearer key")
    mock.add_argument("--public-key", action="append", default=[], metavar="[KEY_ID=]PEM_FILE",
                      help="verify OCI request signatures with this public key (repeatable)")
    mock.add_argument("--token-delay", type=float, default=0.02,
                      help="seconds between streamed deltas (default 0.02, so streaming is visible)")
    mock.add_argument("--fault", action="append", default=[], metavar="NAME[:N]",
                      help="inject a fault into every request, or into the next N (repeatable): "
                           "rate_limit, server_error, unavailable, drop_mid_stream, error_event, incomplete, "
                           "slow_first_byte")
    mock.set_defaults(func=_cmd_mock)

    run = sub.add_parser("run", help="run the notebooks with papermill")
    run.add_argument("notebooks", nargs="*", help="notebooks to run (default: all in --dir)")
    run.add_argument("--dir", default="notebooks")
    run.add_argument("--out", default="out")
    run.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE")
    run.add_argument("--mock", action="store_true", help="ignore OCI_PROFILE/LOCUS_NB_ENDPOINT: use the embedded mock")
    run.add_argument("--in-place", action="store_true", help="write outputs back into the notebooks (make notebooks)")
    run.add_argument("--timeout", type=int, default=300, help="seconds per cell")
    run.set_defaults(func=_cmd_run)

    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
