"""`locus-nb`: the command line (mock server, notebook runs, HTML handouts, doctor)."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

from .._errors import ConfigError
from ..runs._kernels import ask_for_mock, clear_environment
from ..notebook._editions import EDITIONS
from ..runs._lean import skip_iri_grammar

__all__ = ["main"]


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


def _loopback(host: str) -> bool:
    import ipaddress

    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return False


def _cmd_mock(args: argparse.Namespace) -> int:
    from ..mock import MockServer

    if not _loopback(args.host) and not (args.api_key or args.public_key) and not args.insecure:
        raise SystemExit(f"locus-nb mock: --host {args.host} lets anyone on the network in; give --api-key KEY (or "
                         "--public-key) so only your room gets in, or --insecure to serve it open anyway")
    options = {} if args.replay else {
        "store_ttl": args.store_ttl, "store_limit": args.store_limit, "conversation_ttl": args.conversation_ttl,
        "conversation_limit": args.conversation_limit, "background_ttl": args.background_ttl,
        "background_limit": args.background_limit, "background_queue": args.background_queue}
    try:
        if args.replay:
            from .._errors import LocusError
            from ..mock._replay import create_replay_app

            try:
                app = create_replay_app(Path(args.replay), pace=args.pace)
            except LocusError as exc:
                raise SystemExit(f"locus-nb mock: {exc}") from None
            server = MockServer(host=args.host, port=args.port, app=app)
        else:
            server = MockServer(host=args.host, port=args.port, zdr=args.zdr, api_key=args.api_key,
                                token_delay=args.token_delay, public_keys=_public_keys(args.public_key) or None,
                                faults=args.fault, models=args.models, **options)
    except ValueError as exc:  # a bad key or fault name: say which, without a traceback
        raise SystemExit(f"locus-nb mock: {exc}") from None
    except OSError as exc:  # the port is taken, the address is not this machine's, …
        raise SystemExit(f"locus-nb mock: cannot listen on {args.host}:{args.port}: {exc.strerror or exc} "
                         "(another server on that port? pick another --port, or --port 0 for a free one)") from None
    print(server.base_url, flush=True)  # first line of stdout: scripts read the URL from here
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from ..runs._runs import parameter_sets, run_notebooks, worker_count
    from ..runs._shards import parse_shard
    from ..runs._summary import write_reports
    from ..runs._usage import load_prices

    notebooks = [Path(p) for p in args.notebooks] or sorted(Path(args.dir).glob("[0-9]*.ipynb"))
    if not notebooks:
        print(f"locus-nb run: no notebooks found in {args.dir}", file=sys.stderr)
        return 2
    if args.mock or args.replay:  # every variable connect() reads: the mock's setup cells, or no credentials at all
        clear_environment()
    if args.mock:  # …and ask for it: connect() never falls back on the mock under papermill
        ask_for_mock()
    os.environ.setdefault("IPYKERNEL_CELL_NAME", "<IPY-INPUT>")  # stable names in recorded warnings

    out = Path(args.out)
    start = time.perf_counter()
    try:
        prices = load_prices(args.prices) if args.prices else None
        shard = parse_shard(args.shard) if args.shard else None
        sets = parameter_sets(args.param, args.store)
        results = run_notebooks(notebooks, sets, out, in_place=args.in_place, jobs=args.jobs, timeout=args.timeout,
                                progress=not args.no_progress, record=args.record and Path(args.record),
                                replay=args.replay and Path(args.replay), mock=args.mock, shard=shard,
                                retries=args.retries, edition=args.edition)
    except ConfigError as exc:
        raise SystemExit(f"locus-nb run: {exc}") from None
    workers = worker_count(len(results), args.jobs)
    junit = Path(args.junit) if args.junit else out / "junit.xml"
    summary = write_reports(results, out, seconds=time.perf_counter() - start, workers=workers, junit=junit,
                            prices=prices, shard=args.shard and "/".join(map(str, shard)))
    print(summary, end="")
    where = "updated in place" if args.in_place else f"executed notebooks in {out}/"
    cassettes = f"; cassettes in {args.record}/" if args.record else ""
    print(f"\n{where}{cassettes}; summary in {out / 'SUMMARY.md'} and {out / 'summary.json'}; JUnit results in {junit}")
    return 0 if all(r.ok for r in results) else 1


def _cmd_summary(args: argparse.Namespace) -> int:
    from ..runs._shards import merge_results
    from ..runs._summary import write_reports
    from ..runs._usage import load_prices

    out = Path(args.out)
    try:
        prices = load_prices(args.prices) if args.prices else None
        results, facts = merge_results([Path(d) for d in args.dirs])
    except ConfigError as exc:
        raise SystemExit(f"locus-nb summary: {exc}") from None
    junit = Path(args.junit) if args.junit else out / "junit.xml"
    print(write_reports(results, out, seconds=facts["seconds"], workers=facts["workers"], junit=junit, prices=prices),
          end="")
    print(f"\n{len(results)} run(s) from {len(args.dirs)} folder(s); summary in {out / 'SUMMARY.md'} and "
          f"{out / 'summary.json'}; JUnit results in {junit}")
    return 0 if all(r.ok for r in results) else 1


def _cmd_handouts(args: argparse.Namespace) -> int:
    from ..runs._handouts import build_handouts

    sources = [Path(p) for p in args.notebooks] or sorted(Path(args.from_dir).glob("*.ipynb"))
    if not sources:
        run = "locus-nb run --mock" + (f" --edition {args.edition}" if args.edition != "learner" else "")
        print(f"locus-nb handouts: no executed notebooks in {args.from_dir}/ — run `{run}` first, "
              "or name the notebooks to convert", file=sys.stderr)
        return 2
    skipped: list[tuple[Path, str]] = []
    index = build_handouts(sources, Path(args.out), skipped, edition=args.edition)
    for source, why in skipped:
        print(f"locus-nb handouts: skipped {source}: {why}", file=sys.stderr)
    print(f"{len(sources) - len(skipped)} {args.edition}-edition handout(s); open {index}")
    return 1 if skipped else 0


def _cmd_doctor(args: argparse.Namespace) -> int:
    import asyncio

    from ._doctor import run_doctor

    report = asyncio.run(run_doctor(profile=args.profile, region=args.region, compartment=args.compartment,
                                    endpoint=args.endpoint, model_id=args.model, config_file=args.config_file))
    print(report.render())
    return 0 if report.ok else 1


def main(argv: list[str] | None = None) -> int:
    skip_iri_grammar()  # this process is ours: no ~2 s IRI grammar build when it reads a notebook
    args = parser().parse_args(argv)
    return args.func(args)


def parser() -> argparse.ArgumentParser:
    """`locus-nb` and its subcommands, one builder each."""
    top = argparse.ArgumentParser(prog="locus-nb", description=__doc__)
    sub = top.add_subparsers(dest="command", required=True)
    for add in (_add_mock, _add_run, _add_summary, _add_handouts, _add_doctor, _add_progress):
        add(sub)
    return top


def _add_mock(sub: Any) -> None:
    from ..mock._faults import FAULTS, METADATA_KEY, fault_help
    from ..mock._background import BACKGROUND_LIMIT, BACKGROUND_TTL
    from ..mock._conversations import CONVERSATION_LIMIT, CONVERSATION_TTL
    from ..mock._store import STORE_LIMIT, STORE_TTL

    mock = sub.add_parser("mock", help="serve the mock OCI Responses endpoint; prints its base URL first",
                          formatter_class=argparse.RawDescriptionHelpFormatter,
                          epilog=f"faults (--fault NAME[:N], or per request metadata {{\"{METADATA_KEY}\": \"NAME\"}}):\n"
                                 + fault_help())
    mock.add_argument("--host", default="127.0.0.1")
    mock.add_argument("--port", type=int, default=0, help="0 = a free port")
    mock.add_argument("--zdr", action="store_true", help="act as a Zero Data Retention tenancy")
    mock.add_argument("--api-key", default=None, help="require this Bearer key")
    mock.add_argument("--public-key", action="append", default=[], metavar="[KEY_ID=]PEM_FILE",
                      help="verify OCI request signatures with this public key (repeatable)")
    mock.add_argument("--token-delay", type=float, default=0.02,
                      help="seconds between streamed deltas (default 0.02, so streaming is visible)")
    mock.add_argument("--fault", action="append", default=[], metavar="NAME[:N]",
                      help=f"inject a fault into every request, or into the next N (repeatable): {', '.join(FAULTS)} "
                           "(listed below)")
    mock.add_argument("--model", action="append", default=None, dest="models", metavar="ID",
                      help="serve only this model id (repeatable); others get 404 model_not_found. Default: any "
                           "id shaped like one (openai.gpt-4.1, xai.grok-4, gpt-4.1, o3-mini, …)")
    mock.add_argument("--replay", default=None, metavar="DIR",
                      help="serve the recorded exchanges of the cassettes in DIR (or one cassette file) instead "
                           "of the scripted model; a request with no recording gets a 400 naming what differs")
    mock.add_argument("--pace", action="store_true", help="with --replay: stream events at their recorded pace")
    mock.add_argument("--insecure", action="store_true",
                      help="allow a non-loopback --host without --api-key/--public-key (anyone who reaches it gets in)")
    mock.add_argument("--store-ttl", type=float, default=STORE_TTL, metavar="SECONDS",
                      help=f"stored responses expire after this long (default {STORE_TTL:.0f}: 30 days, as OpenAI's); "
                           "then 404 not found, and chaining to one 400 previous_response_not_found")
    mock.add_argument("--store-limit", type=int, default=STORE_LIMIT, metavar="N",
                      help=f"keep at most N stored responses, the oldest dropped first (default {STORE_LIMIT})")
    mock.add_argument("--conversation-ttl", type=float, default=CONVERSATION_TTL, metavar="SECONDS",
                      help=f"a conversation expires this long after its last change (default {CONVERSATION_TTL:.0f}: "
                           "30 days); then 404")
    mock.add_argument("--conversation-limit", type=int, default=CONVERSATION_LIMIT, metavar="N",
                      help=f"keep at most N conversations, the least recently changed dropped first "
                           f"(default {CONVERSATION_LIMIT})")
    mock.add_argument("--background-ttl", type=float, default=BACKGROUND_TTL, metavar="SECONDS",
                      help=f"a finished background response's events (and, with store=false, the response) are kept "
                           f"this long (default {BACKGROUND_TTL:.0f}: 10 minutes, as OpenAI's)")
    mock.add_argument("--background-limit", type=int, default=BACKGROUND_LIMIT, metavar="N",
                      help=f"keep at most N background responses, the oldest finished dropped first; with N still "
                           f"running a new one gets 429 (default {BACKGROUND_LIMIT})")
    mock.add_argument("--background-queue", type=float, default=0.0, metavar="SECONDS",
                      help="a background response stays queued this long before it starts (default 0; the "
                           "notebooks' embedded mock: 0.5, so a lesson can watch it queued and cancel it)")
    mock.set_defaults(func=_cmd_mock)


def _add_run(sub: Any) -> None:
    run = sub.add_parser("run", help="run the notebooks with papermill")
    run.add_argument("notebooks", nargs="*", help="notebooks to run (default: all in --dir)")
    run.add_argument("--dir", default="notebooks")
    run.add_argument("--out", default="out")
    run.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE",
                     help="notebook parameter; repeat a name to run each value")
    run.add_argument("--store", choices=["false", "true", "both"], type=str.lower, default=None,
                     help="the store parameter; both = one run with store=False and one with store=True")
    run.add_argument("-j", "--jobs", type=int, default=None, help="runs at a time (default: number of cores)")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    run.add_argument("--mock", action="store_true",
                     help="use the embedded mock: clear every connection variable (OCI_PROFILE, OCI_REGION, …) first")
    run.add_argument("--in-place", action="store_true", help="write outputs back into the notebooks (make notebooks)")
    run.add_argument("--edition", choices=EDITIONS, default="learner",
                     help="learner (default): the notebooks as committed, an unfinished exercise is reported, not a "
                          "failure; instructor: each exercise cell runs its solution, into <name>.instructor.ipynb, "
                          "and a check that does not pass fails the run")
    cassettes = run.add_mutually_exclusive_group()
    cassettes.add_argument("--record", default=None, metavar="DIR",
                           help="write every HTTP exchange of each run, redacted, to DIR/<executed notebook>.jsonl")
    cassettes.add_argument("--replay", default=None, metavar="DIR",
                           help="replay every parameter set recorded in DIR for each notebook (with -p/--store: the "
                                "ones that match; endpoint, profile, region, compartment and project need no "
                                "repeating): no network, no credentials (clears the connection variables like --mock)")
    run.add_argument("--timeout", type=int, default=300, help="seconds per cell")
    run.add_argument("--junit", default=None, metavar="PATH",
                     help="write the JUnit XML results here (default: junit.xml beside SUMMARY.md in --out)")
    run.add_argument("--shard", default=None, metavar="K/N",
                     help="run only the K-th of N deterministic, balanced slices of the notebook × parameter-set "
                          "matrix (merge the slices' reports with `locus-nb summary`)")
    run.add_argument("--retries", type=int, default=0, metavar="N",
                     help="run a notebook that failed only on a transient error (429 after the client's retries, "
                          "5xx, connection or timeout) again, at most N times; a failed claim never is")
    run.add_argument("--prices", default=None, metavar="FILE",
                     help="a YAML or JSON price table (USD per million input/cached/output tokens per model id or "
                          "glob pattern): SUMMARY.md and summary.json add what the tokens cost; without it, tokens only")
    run.set_defaults(func=_cmd_run)


def _add_summary(sub: Any) -> None:
    summary = sub.add_parser("summary", help="merge the reports of several `locus-nb run --shard` folders into one",
                             description="Reads each folder's summary.json (written by `locus-nb run`) and writes "
                                         "SUMMARY.md, summary.json and junit.xml for all of their runs together. "
                                         "Exit status 1 when any run failed.")
    summary.add_argument("dirs", nargs="+", metavar="DIR", help="the --out folder of each shard")
    summary.add_argument("--out", required=True, metavar="DIR", help="where the merged reports go")
    summary.add_argument("--junit", default=None, metavar="PATH", help="default: junit.xml in --out")
    summary.add_argument("--prices", default=None, metavar="FILE", help="a price table, as for `locus-nb run`")
    summary.set_defaults(func=_cmd_summary)


def _add_handouts(sub: Any) -> None:
    handouts = sub.add_parser("handouts", help="executed notebooks → standalone HTML handouts with an index")
    handouts.add_argument("notebooks", nargs="*", help="executed notebooks (default: all in --from)")
    handouts.add_argument("--from", dest="from_dir", default="out", help="where `locus-nb run` wrote them")
    handouts.add_argument("--out", default="out/handouts")
    handouts.add_argument("--edition", choices=EDITIONS, default="learner",
                          help="learner (default): no solution on any page; instructor: the exercises run with their "
                               "solutions and ✓ (convert a `locus-nb run --edition instructor`). A notebook run in the "
                               "other edition is skipped")
    handouts.set_defaults(func=_cmd_handouts)


def _add_doctor(sub: Any) -> None:
    doctor = sub.add_parser("doctor", help="check this machine's OCI setup step by step (✓/✗, what to fix)",
                            description="A checklist, in order: config file, profile, signing key, session token, "
                                        "region, compartment, clock, endpoint, a minimal request, store=True (ZDR). "
                                        "Unset options fall back on OCI_PROFILE, OCI_REGION, OCI_COMPARTMENT, "
                                        "LOCUS_NB_ENDPOINT, LOCUS_NB_MODEL, OCI_CONFIG_FILE; OCI_GENAI_API_KEY, when "
                                        "set, is used instead of a profile. Exit status 1 when any check fails.")
    doctor.add_argument("--profile", default=None, help="profile in the OCI config file (default: DEFAULT)")
    doctor.add_argument("--region", default=None, help="e.g. us-chicago-1 (default: the profile's)")
    doctor.add_argument("--compartment", default=None, metavar="OCID", help="compartment OCID (opc-compartment-id)")
    doctor.add_argument("--endpoint", default=None, metavar="URL",
                        help="another Responses base URL, e.g. a mock (default: OCI's URL for the region)")
    doctor.add_argument("--model", default=None, metavar="ID", help="model id for the test request (default: "
                                                                     "openai.gpt-4.1)")
    doctor.add_argument("--config-file", default=None, metavar="PATH", help="default: ~/.oci/config")
    doctor.set_defaults(func=_cmd_doctor)


def _add_progress(sub: Any) -> None:
    from ._progress import command

    progress = sub.add_parser("progress", help="each learner's exercises (✓/✗/not run) from a folder of their saved "
                                               "notebooks; runs nothing, shows no code")
    progress.add_argument("dir", metavar="DIR", help="the folder of the learners' notebooks (subfolders too)")
    progress.add_argument("--lesson", default=None, metavar="NN", help="only this lesson (e.g. 01); files of "
                                                                       "another are listed as such")
    progress.set_defaults(func=command)
