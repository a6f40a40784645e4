"""
Fallback load client for bench/pages.py when `wrk` is not installed: threads, one keep-alive
http.client connection each, for a fixed time. Prints the same WRK_JSON line as bench/wrk_report.lua.

    python bench/loadgen.py URL --connections 32 --duration 10 [--cookies FILE]

FILE holds Cookie headers, one logged-in user a line; each request carries the next one's.

Slower than wrk (the client shares the machine and the GIL), so its figures are a lower bound.
"""

import argparse
import http.client
import itertools
import json
import statistics
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit


def worker(url, cookies, deadline, results):
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    latencies, non200, errors = [], 0, 0
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        try:
            connection.request("GET", path, headers=next(cookies))
            response = connection.getresponse()
            response.read()
        except (OSError, http.client.HTTPException):
            errors += 1
            connection.close()
            connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
            continue
        latencies.append(time.perf_counter() - started)
        non200 += response.status != 200
    connection.close()
    results.append((latencies, non200, errors))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--cookies", help="a file of Cookie headers, one a line")
    args = parser.parse_args()
    lines = Path(args.cookies).read_text(encoding="utf-8").splitlines() if args.cookies else []
    # One cycle shared by the threads (next() on itertools.cycle holds the GIL throughout).
    cookies = itertools.cycle([{"Cookie": line} for line in lines] or [{}])
    results = []
    started = time.perf_counter()
    deadline = started + args.duration
    threads = [
        threading.Thread(target=worker, args=(args.url, cookies, deadline, results))
        for _ in range(args.connections)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    latencies = sorted(latency for result in results for latency in result[0])
    cuts = statistics.quantiles(latencies, n=100, method="inclusive") if len(latencies) > 1 else [0] * 99
    report = {
        "requests": len(latencies),
        "duration_us": int(elapsed * 1e6),
        "p50_us": int(cuts[49] * 1e6),
        "p99_us": int(cuts[98] * 1e6),
        "non200": sum(result[1] for result in results),
        "errors": sum(result[2] for result in results),
    }
    print("WRK_JSON " + json.dumps(report))


if __name__ == "__main__":
    main()
