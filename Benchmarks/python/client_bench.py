#!/usr/bin/env python3
"""Python client throughput: Health/Check on one connection, 1 and 64 calls in flight, against a
switchboard-server process of its own (the debug build unless SWITCHBOARD_SERVER_BINARY names one).

    python3 Benchmarks/python/client_bench.py [--calls 20000] [--output .build/benchmarks/python-client.md]

Needs the client installed (pip install ./clients/python) or PYTHONPATH=clients/python/src.
"""
import argparse
import asyncio
import pathlib
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "clients/python/tests"))
from server_process import ServerProcess  # noqa: E402
from switchboard import Client  # noqa: E402


async def measure(target, calls):
    rows = []
    async with Client(target) as client:
        await client.health.check()
        for in_flight in (1, 64):
            count = calls if in_flight > 1 else calls // 4
            per_worker = count // in_flight

            async def worker():
                for _ in range(per_worker):
                    await client.health.check()

            start = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(in_flight)))
            elapsed = time.perf_counter() - start
            done = per_worker * in_flight
            rows.append(f"| {in_flight} | {done / elapsed:,.0f} | {elapsed / done * 1e6:.1f} |")
            print(rows[-1])
    return rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=20000)
    parser.add_argument("--output", default=".build/benchmarks/python-client.md")
    args = parser.parse_args()
    server = ServerProcess(pathlib.Path(tempfile.mkdtemp()))
    server.start()
    try:
        rows = asyncio.run(measure(server.target, args.calls))
    finally:
        server.stop()
    lines = ["# Python client benchmark", "", f"Health/Check on one connection, server {server.binary}.", "",
             "| in flight | calls/s | us per call |", "|---|---|---|", *rows]
    output = pathlib.Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text("\n".join(lines) + "\n")
    print("written to", output)


if __name__ == "__main__":
    main()
