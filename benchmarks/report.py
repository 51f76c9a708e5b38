"""What every part of the benchmark shares: timing, peak memory, and the targets' report."""

import json
from pathlib import Path
import statistics
import time

def peak_rss_mib():
    """The process's peak resident memory so far (VmHWM), in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 1024
    return float("nan")


def reset_peak_rss():
    try:
        Path("/proc/self/clear_refs").write_text("5")  # Linux: restart the VmHWM count
    except OSError:
        pass


def median_seconds(action, repeats, warm_up=True):
    """(median seconds of `repeats` calls, peak resident MiB while they ran)."""
    if warm_up:
        action()  # also fills the app's cache, as a second request would find it
    reset_peak_rss()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times), peak_rss_mib()


def in_turn(actions, repeats, warm_up=True):
    """{name: [what each of `repeats` calls returned]}: the actions called in turn within every
    repeat, the order reversed every other repeat, so that a load that comes and goes on a shared
    machine slows them alike; with `warm_up`, each called once before."""
    names = list(actions)
    if warm_up:
        for name in names:
            actions[name]()
    results = {name: [] for name in names}
    for repeat in range(repeats):
        for name in names if repeat % 2 == 0 else names[::-1]:
            results[name].append(actions[name]())
    return results


def check(name, value, limit, unit="", at_least=False, best_possible=None):
    """A target as a JSON-ready dict: met or not, by how much it is missed (%), and the best
    value this machine allows, where known."""
    met = value >= limit if at_least else value <= limit
    missed_by = (limit / value - 1 if at_least else value / limit - 1) * 100
    return {"target": name, "value": value, "limit": limit, "unit": unit, "at_least": at_least,
            "met": met, "missed_by_pct": None if met else missed_by, "best_possible": best_possible}


def not_applicable(name, reason):
    return {"target": name, "met": None, "reason": reason}


def print_targets(targets):
    print("\n== Targets ==")
    for t in targets:
        if t["met"] is None:
            print(f"n/a     {t['target']}: {t['reason']}")
            continue
        sign = "≥" if t["at_least"] else "≤"
        line = f"{'ok' if t['met'] else 'MISSED':7s} {t['target']}: {t['value']:.3g}{t['unit']} (target {sign} {t['limit']}{t['unit']})"
        if not t["met"]:
            line += f", missed by {t['missed_by_pct']:.0f}% (needs to get {1 + t['missed_by_pct'] / 100:.2f}x better)"
        best = t.get("best_possible")
        if best is not None:
            reachable = best >= t["limit"] if t["at_least"] else best <= t["limit"]
            line += f"; the best this machine allows: {best:.3g}{t['unit']}" + ("" if reachable else " (out of reach)")
        print(line)


def finish(report, targets, path):
    """Print each target met or missed, then write the run's JSON report (targets included) to `path`."""
    print_targets(targets)
    report["targets"] = targets
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwritten: {path}")
