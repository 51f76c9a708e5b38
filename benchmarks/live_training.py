"""Training live, timed: the first streamed picture, updates per second, and how good the map is
after 10, 20 and 60 seconds of training (2 numbers, β = 1, seed 0), in this process and through
the server's /digits_train.

    python -m benchmarks.live_training                 # in this process
    python -m benchmarks.live_training --url http://127.0.0.1:7860/   # through a running app

Not a test: the numbers depend on the machine and on what else it runs.
"""

import argparse
import time

from latent_lab.digits import live

SECONDS = (10, 20, 60)


def in_process(seconds, beta=1.0, latent_dim=2, seed=0):
    """(first picture's delay in s, updates, wall seconds, final summary) of one live training."""
    began, first, updates, summary = time.perf_counter(), None, 0, None
    for _picture, _figure, summary, _yours in live.train_live(beta, latent_dim, seconds, seed):
        first = time.perf_counter() - began if first is None else first
        updates += 1
    return first, updates, time.perf_counter() - began, summary


def through_server(url, seconds, beta=1.0, latent_dim=2, seed=0):
    """The same through gradio_client: what a page or an API caller receives."""
    from gradio_client import Client

    client = Client(url, verbose=False)
    began, first, updates, summary = time.perf_counter(), None, 0, None
    for _picture, _plot, summary in client.submit(beta, latent_dim, seconds, seed, api_name="/digits_train"):
        first = time.perf_counter() - began if first is None else first
        updates += 1
    return first, updates, time.perf_counter() - began, summary


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a running app to time through /digits_train")
    args = parser.parse_args()
    print("| where | seconds asked | steps | first picture (s) | updates | updates/s | wall (s) | clear share |")
    print("|---|---|---|---|---|---|---|---|")
    for seconds in SECONDS:
        where = "server" if args.url else "in process"
        first, updates, wall, summary = (through_server(args.url, seconds) if args.url else in_process(seconds))
        print(f"| {where} | {seconds} | {summary['steps']} | {first:.2f} | {updates} | {updates / wall:.1f} | "
              f"{wall:.1f} | {summary['clear_share']:.2f} |", flush=True)


if __name__ == "__main__":
    main()
