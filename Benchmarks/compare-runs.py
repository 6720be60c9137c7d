#!/usr/bin/env python3
"""compare-runs.py — wall times of whole commands, compared in shuffled rounds.

What: runs every command once per round, in a new random order each round, for ROUNDS rounds,
and prints each one's fastest, 10th-percentile, quartile and median wall time (ms, the spawn
from Python included, alike for all). Standard library only.

Why shuffled rounds: on these shared 2-core machines speed drifts, and a fixed order (the old
binary, then the new one, every round) gives each command its own stretch of that drift. In
session 18 the same binary under two names, in a fixed order, differed by 0.7 ms at the median
on the 0.2 MP Pixel crop; shuffled, such an A/A pair agrees within ~0.1 ms. Name one command
twice (an A/A pair) to see the noise floor of the run itself. docs/PERFORMANCE.md, session 18.

Usage: Benchmarks/compare-runs.py ROUNDS NAME=COMMAND [NAME=COMMAND ...]
       (each COMMAND is split on spaces; its output is discarded)
Example:
  Benchmarks/compare-runs.py 300 \\
    "old=/tmp/emulsion-old process crop.dng --out-dir /tmp/a --overwrite" \\
    "new=.build/release/emulsion process crop.dng --out-dir /tmp/b --overwrite" \\
    "new2=.build/release/emulsion process crop.dng --out-dir /tmp/c --overwrite"
"""
import random
import statistics
import subprocess
import sys
import time


def main(argv):
    if len(argv) < 3 or not argv[1].isdigit():
        sys.exit(__doc__)
    rounds = int(argv[1])
    commands = {}
    for spec in argv[2:]:
        name, sep, command = spec.partition("=")
        if not sep or not command.strip() or name in commands:
            sys.exit(f"compare-runs.py: expected a new NAME=COMMAND, got {spec!r}")
        commands[name] = command.split()
    times = {name: [] for name in commands}
    order = list(commands)
    for _ in range(rounds):
        random.shuffle(order)
        for name in order:
            start = time.perf_counter()
            subprocess.run(commands[name], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
            times[name].append((time.perf_counter() - start) * 1000)
    width = max(len(name) for name in commands)
    for name in commands:
        t = sorted(times[name])
        print(f"{name:<{width}}  fastest {t[0]:7.2f}  p10 {t[len(t) // 10]:7.2f}  "
              f"p25 {t[len(t) // 4]:7.2f}  median {statistics.median(t):7.2f} ms")


if __name__ == "__main__":
    main(sys.argv)
