"""``python -m bench``: run the benchmark and write the results (and, for a full run, the docs).

    python -m bench                     # 1,000 / 5,000 / 10,000 participants, every target
    python -m bench --quick             # small sizes, well under a minute (what CI runs)
    python -m bench --sizes 2000 --targets floor,attune --scenarios fanout,memory
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

from bench import groups, report
from bench.run import Bench, Plan
from bench.targets import ALL, available

SCENARIOS = ("fanout", "ingest", "memory", "slow", "storm", "redis", "restart", "groups")
"""``groups`` (bench/groups.py): forming triads over sockets, once, at the largest size."""


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes, a few rounds")
    parser.add_argument("--sizes", help="comma-separated participant counts")
    parser.add_argument("--targets", help="comma-separated targets (default: all): "
                        + ", ".join(t.name for t in ALL))
    parser.add_argument("--scenarios", default=",".join(SCENARIOS),
                        help="comma-separated subset of " + ", ".join(SCENARIOS))
    parser.add_argument("--workers", type=int, default=4, help="load generator processes")
    parser.add_argument("--rounds", type=int, help="fan-out rounds per size (default: by size)")
    parser.add_argument("--no-pin", action="store_true", help="do not pin server and load")
    parser.add_argument("--profile", action=argparse.BooleanOptionalAction, default=None,
                        help="py-spy the Attune server at the largest size (default: full run)")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    parser.add_argument("--docs", action=argparse.BooleanOptionalAction, default=None,
                        help="rewrite docs/benchmarks.md and its plots (default: full run)")
    return parser.parse_args(argv)


def plan_from(args: argparse.Namespace) -> Plan:
    scenarios = {s.strip() for s in args.scenarios.split(",") if s.strip()}
    unknown = scenarios - set(SCENARIOS)
    if unknown:
        sys.exit(f"unknown scenarios {sorted(unknown)}; choose from {SCENARIOS}")
    if args.sizes:
        sizes = [int(s) for s in args.sizes.split(",")]
    else:
        sizes = [200] if args.quick else [1000, 5000, 10000]
    names = [n.strip() for n in args.targets.split(",")] if args.targets else None
    targets = [t for t in ALL if names is None or t.name in names]
    if names:
        missing = set(names) - {t.name for t in targets}
        if missing:
            sys.exit(f"unknown targets {sorted(missing)}")
    if "redis" not in scenarios:
        targets = [t for t in targets if not t.redis]
    plan = Plan(sizes=sizes, targets=[t for t in targets if available(t)],
                scenarios=scenarios, workers=args.workers, pin=not args.no_pin,
                profile=args.profile if args.profile is not None else not args.quick,
                quick=args.quick, out=args.out)
    plan.skipped = [t.name for t in targets if not available(t)]  # type: ignore[attr-defined]
    if args.rounds:
        plan.rounds = dict.fromkeys(sizes, args.rounds)
    if args.quick:
        plan.ingest_rounds = 1
        plan.slow_rounds = (2, 4)
    return plan


def main(argv: list[str] | None = None) -> Path:
    args = parse(argv)
    plan = plan_from(args)
    started = time.strftime("%Y%m%d-%H%M%S")

    def say(line: str) -> None:
        print(line, flush=True)

    say(f"Attune benchmark: sizes {plan.sizes}, targets {[t.name for t in plan.targets]}, "
        f"{plan.workers} load processes")
    for name in plan.skipped:  # type: ignore[attr-defined]
        say(f"  skipping {name}: its package is not installed (pip install -e '.[bench]')")
    results = asyncio.run(Bench(plan, say).main())
    if "groups" in plan.scenarios:
        results["groups"] = asyncio.run(groups.sockets(
            max(plan.sizes), plan.workers, pin=plan.pin, say=say,
            stillness=() if plan.quick else groups.STILLNESS))
    results["meta"]["skipped"] = plan.skipped  # type: ignore[attr-defined]
    results["targets"] = report.check_targets(results)
    path = plan.out / f"{'quick' if plan.quick else 'full'}-{started}.json"
    path.write_text(json.dumps(results, indent=1))
    say("")
    say(report.table(results))
    say("")
    say(report.targets_table(results))
    if "groups" in results:
        say(groups.table(results["groups"]))
    say(f"\nresults: {path}")
    if args.docs if args.docs is not None else not plan.quick:
        written = report.write_docs(results, path)
        say(f"docs: {written}")
    return path


if __name__ == "__main__":
    main()
