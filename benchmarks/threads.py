"""Why the same model call is slower from a server's worker thread: OpenMP teams.

    python -m benchmarks.threads [--repeats 5]

torch's CPU kernels run their parallel regions on OpenMP (GNU libgomp in the CPU wheels), which
keeps a team of threads for every thread that has run a parallel region, for as long as that
thread lives. Between regions a team's threads spin for a while before they sleep, so the next
region starts at once; but once the teams of the whole process hold more threads than the cores
it may use, libgomp cuts that spinning to almost nothing, and every region waits for its threads
to be woken. A small model makes thousands of short regions: the embedded text-to-image
pipeline's 20 steps at 128 px pay for it most.

This times one plain `pipe()` call (20 steps, the embedded pipeline, fp32, as benchmarks.actions
makes it) in one process, in an order that adds teams one by one:
1. on one long-lived worker thread, which loaded the pipeline: the process's only team;
2. on a new thread per call, beside it (two teams while it runs): as a server that starts a
   thread per request;
3. on the main thread (its own team), and then on the worker again, with three teams alive.
Prints the medians, the process's thread count at each stage, and the ratio to the first.
This is why the app runs all model work on long-lived model threads (latent_lab/streams.py).
"""

import argparse
import os
from pathlib import Path
import queue
import statistics
import threading
import time

import torch

from benchmarks import actions
from latent_lab import models
from latent_lab.config import EMBEDDED_PIPELINE


class Worker:
    """One long-lived thread that runs the calls it is given, one at a time."""

    def __init__(self):
        self.jobs, self.results = queue.Queue(), queue.Queue()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            call = self.jobs.get()
            self.results.put(call())

    def run(self, call):
        self.jobs.put(call)
        return self.results.get()


def on_new_thread(call):
    thread = threading.Thread(target=call)
    thread.start()
    thread.join()


def median_seconds(call, repeats):
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def process_threads():
    return len(os.listdir("/proc/self/task")) if Path("/proc/self/task").exists() else None


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"{torch.get_num_threads()} torch threads, {cores} cores this process may use, "
          f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', 'unset')}")

    worker = Worker()
    pipe = worker.run(lambda: models.load_pipeline(str(EMBEDDED_PIPELINE)))
    _, plain = actions.generate_calls(pipe, pipe)
    worker.run(plain)  # warm up on the worker: the main thread has run no parallel region yet
    stages = [("one worker thread: the only team", lambda: worker.run(plain)),
              ("a new thread per call, beside the worker", lambda: on_new_thread(plain)),
              ("the main thread (a team of its own)", plain),
              ("the worker again, three teams alive", lambda: worker.run(plain))]
    rows = []
    for name, call in stages:
        seconds = median_seconds(call, args.repeats)
        rows.append((name, seconds, process_threads()))
    print(f"\nplain pipe(), 20 steps at the pipeline's size, median of {args.repeats}:")
    print(f"{'where it ran':44} {'seconds':>8} {'/ first':>8} {'threads':>8}")
    for name, seconds, threads in rows:
        print(f"{name:44} {seconds:8.2f} {seconds / rows[0][1]:8.2f} {threads if threads else '?':>8}")


if __name__ == "__main__":
    main()
