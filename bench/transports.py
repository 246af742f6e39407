"""Reference HTTP clients against the same sink at the same concurrency."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import httpx

from connectors.outbound import OutboundPolicy
from connectors.transport import make_client

BODY = b'{"text": "hello"}'


async def _run(post: object, requests: int, concurrency: int) -> float:
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(requests):
        queue.put_nowait(i)

    async def worker() -> None:
        while True:
            try:
                i = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            await post(i)  # type: ignore[operator]

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return requests / (time.perf_counter() - start)


async def raw_aiohttp(url: str, requests: int, concurrency: int) -> float:
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def post(i: int) -> None:
            async with session.post(
                f"{url}/raw",
                data=BODY,
                headers={"Idempotency-Key": f"raw-{i}", "Content-Type": "application/json"},
            ) as r:
                await r.read()
                assert r.status == 200

        return await _run(post, requests, concurrency)


async def with_httpx(url: str, requests: int, concurrency: int, fast: bool) -> float:
    client: httpx.AsyncClient = make_client(
        timeout=30,
        max_connections=concurrency,
        outbound=OutboundPolicy(["127.0.0.1"]),  # the bench's sink is local
        fast=fast,
    )
    async with client:

        async def post(i: int) -> None:
            r = await client.post(
                f"{url}/httpx",
                content=BODY,
                headers={"Idempotency-Key": f"hx-{fast}-{i}", "Content-Type": "application/json"},
            )
            assert r.status_code == 200

        return await _run(post, requests, concurrency)
