"""The fake sink server itself: answers in order, per path, under concurrency."""

from __future__ import annotations

import asyncio

import httpx

from connectors.transport import make_client
from tests.connectors.harnesses import FAKES_ALLOWED
from tests.fakes.sinks import (
    Answer,
    RecordedRequest,
    SinkServer,
    drop,
    json_answer,
    slack_error,
    text_answer,
)


def test_queued_answers_per_path_then_global_then_defaults(sink: SinkServer) -> None:
    sink.answer(text_answer(201, "a"), text_answer(202, "b"))
    sink.answer(text_answer(203, "for /p"), path="/p")
    sink.answer_always(text_answer(204, ""), path="/p")
    sink.answer_always(slack_error("no_text"))

    async def go() -> list[tuple[str, int]]:
        async with httpx.AsyncClient() as http:
            out = []
            for path in ("/p", "/q", "/p", "/q", "/q"):
                response = await http.post(sink.url_for(path), content=path.encode())
                out.append((path, response.status_code))
            return out

    assert asyncio.run(go()) == [("/p", 203), ("/q", 201), ("/p", 202), ("/q", 400), ("/q", 400)]
    assert [r.body for r in sink.requests_to("/p")] == [b"/p", b"/p"]


def test_answer_with_a_function_and_reset(sink: SinkServer) -> None:
    def echo(request: RecordedRequest) -> Answer:
        return json_answer(200, {"id": request.header("Idempotency-Key")})

    sink.answer_with(echo)

    async def go() -> object:
        async with httpx.AsyncClient() as http:
            response = await http.post(sink.url_for("/x"), headers={"Idempotency-Key": "k1"})
            return response.json()

    assert asyncio.run(go()) == {"id": "k1"}
    sink.reset()
    assert sink.requests == []


def test_a_dropped_request_is_recorded(sink: SinkServer) -> None:
    sink.answer(drop())

    async def go() -> None:
        async with httpx.AsyncClient() as http:
            try:
                await http.post(sink.url_for("/d"), content=b"x")
            except httpx.RemoteProtocolError:
                return
            raise AssertionError("expected the connection to close")

    asyncio.run(go())
    assert sink.wait_for_requests(1, timeout=1)
    assert sink.requests[0].body == b"x"


def test_thousands_of_concurrent_requests_are_all_recorded(sink: SinkServer) -> None:
    count = 1500

    async def go() -> None:
        async with make_client(timeout=10, max_connections=100, outbound=FAKES_ALLOWED) as http:
            semaphore = asyncio.Semaphore(100)

            async def one(n: int) -> None:
                async with semaphore:
                    response = await http.post(
                        sink.url_for("/load"), json={"n": n}, headers={"Idempotency-Key": f"k{n}"}
                    )
                    assert response.status_code == 200

            await asyncio.gather(*(one(n) for n in range(count)))

    asyncio.run(go())
    assert sink.wait_for_requests(count, timeout=5)
    keys = sink.idempotency_keys("/load")
    assert len(keys) == count
    assert set(keys) == {f"k{n}" for n in range(count)}
