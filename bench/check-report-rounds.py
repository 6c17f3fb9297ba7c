#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""check-report-rounds.py - report.py shows each round apart: from round files
made up here (two engines, three rounds, known rates), report.md must carry
the median in its ratio table and each round's value, in round order, with
its spread, in "Round by round"; files of no round get no such section.

    /usr/bin/python3 bench/check-report-rounds.py
"""
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
RATES = {"fwpm": [3.0e6, 1.0e6, 2.0e6], "mutex": [4.0e6, 4.0e6, 2.0e6]}


def round_file(path, impl, rate):
    entry = {
        "name": f"open_close/{impl}/real_time/threads:1",
        "run_name": f"open_close/{impl}/real_time/threads:1",
        "run_type": "iteration", "repetitions": 1, "threads": 1,
        "real_time": 1e9 / rate, "time_unit": "ns", "items_per_second": rate,
    }
    with open(path, "w") as f:
        json.dump({"context": {"load_avg": [0.0]}, "benchmarks": [entry]}, f)


def report(directory, names):
    paths = [os.path.join(directory, n) for n in names]
    subprocess.run([sys.executable, os.path.join(HERE, "report.py"), *paths, "--out", directory],
                   check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(directory, "report.md")) as f:
        return f.read()


def main():
    failed = 0

    def check(ok, what):
        nonlocal failed
        if not ok:
            print(f"FAIL: {what}")
            failed += 1

    with tempfile.TemporaryDirectory() as d:
        names = []
        for impl, rates in RATES.items():
            for k, rate in enumerate(rates, start=1):
                names.append(f"{impl}.r{k}.json")
                round_file(os.path.join(d, names[-1]), impl, rate)
        md = report(d, names)
        check("| `open_close/threads:1` | open+close/s | 2 M/s | 4 M/s | 0.5× |" in md,
              "the ratio table takes each engine's median over its rounds")
        check("## Round by round" in md, "round files give a round-by-round section")
        row = ("| `open_close/threads:1` | open+close/s | 3 M/s / 1 M/s / 2 M/s (3.00×) "
               "| 4 M/s / 4 M/s / 2 M/s (2.00×) |")
        check(row in md, "each round's value in round order, with the largest over the smallest")

    with tempfile.TemporaryDirectory() as d:
        for impl in RATES:
            round_file(os.path.join(d, f"{impl}.json"), impl, RATES[impl][0])
        md = report(d, [f"{impl}.json" for impl in RATES])
        check("Round by round" not in md, "files of no round give no round-by-round section")

    print(f"check-report-rounds: {4 - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
