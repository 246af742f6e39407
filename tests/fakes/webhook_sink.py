"""A fast webhook receiver, run as its own process: `python -m tests.fakes.webhook_sink`.

Used by the crash test and the benchmarks. It answers every POST like a JSON
webhook (`{"id": ..., "url": ...}`) after an optional delay, and records each
request's Idempotency-Key and arrival time. `GET /stats` returns
{"requests": n, "keys": {key: count}, "arrivals": {key: epoch seconds}}.
It prints "READY <port>" on stdout once it listens.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from aiohttp import web


def make_app(delay: float) -> web.Application:
    keys: dict[str, int] = {}
    arrivals: dict[str, float] = {}
    counter = {"requests": 0}

    async def receive(request: web.Request) -> web.Response:
        arrived = time.time()
        await request.read()
        key = request.headers.get("Idempotency-Key", "")
        counter["requests"] += 1
        keys[key] = keys.get(key, 0) + 1
        arrivals.setdefault(key, arrived)
        if delay:
            await asyncio.sleep(delay)
        return web.json_response({"id": f"msg-{key}", "url": f"https://sink.example/{key}"})

    async def stats(_: web.Request) -> web.Response:
        return web.json_response(
            {"requests": counter["requests"], "keys": keys, "arrivals": arrivals}
        )

    async def reset(_: web.Request) -> web.Response:
        keys.clear()
        arrivals.clear()
        counter["requests"] = 0
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/reset", reset)
    app.router.add_get("/stats", stats)
    app.router.add_post("/{tail:.*}", receive)
    return app


async def serve(port: int, delay: float) -> None:
    runner = web.AppRunner(make_app(delay), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port, backlog=4096)
    await site.start()
    bound = runner.addresses[0][1]
    print(f"READY {bound}", flush=True)
    await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--delay-ms", type=float, default=0.0)
    args = parser.parse_args()
    try:
        asyncio.run(serve(args.port, args.delay_ms / 1000))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
