"""Parse inputs on worker processes, in input order, with a bounded number of chunks
in flight (so memory does not grow with the corpus), and stop cleanly if a worker
dies."""

from __future__ import annotations

import multiprocessing
import os
import select
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, TimeoutError
from concurrent.futures.process import BrokenProcessPool
from itertools import islice

from loaders.inputs import Task, Unusable
from loaders.parse import Item, parse_tasks
from loaders.processes import running

CHUNK_SIZE = 64  # inputs per worker round trip


def _chunks(tasks: Iterable[Task | Unusable], size: int) -> Iterator[list[Task | Unusable]]:
    iterator = iter(tasks)
    while chunk := list(islice(iterator, size)):
        yield chunk


def parse_all(
    tasks: Iterable[Task | Unusable], workers: int, in_process: bool = False
) -> Iterator[tuple[bool, list[Item]]]:
    """Each input's items, in input order, and whether it is a new input (not a later
    part of a large file); parsed on ``workers`` processes, or in this one."""
    if in_process:
        for chunk in _chunks(tasks, CHUNK_SIZE):
            yield from _with_tasks(chunk, parse_tasks(chunk))
        return
    # forkserver: the workers do not inherit this process's MongoDB client threads.
    # Not multiprocessing.Pool: its worker-handler thread wakes whenever a result is
    # waiting to be read and, beside busy workers, spun on that for about 40% of this
    # process's CPU time.
    context = multiprocessing.get_context("forkserver")
    window = workers * 8
    pool = ProcessPoolExecutor(
        workers, mp_context=context, initializer=leave_with, initargs=(os.getpid(),)
    )
    broken = False
    try:
        in_flight: deque[tuple[list[Task | Unusable], Future[list[list[Item]]]]] = deque()
        for chunk in _chunks(tasks, CHUNK_SIZE):
            in_flight.append((chunk, pool.submit(parse_tasks, chunk)))
            if len(in_flight) >= window:
                done, result = in_flight.popleft()
                yield from _with_tasks(done, _chunk_result(pool, result))
        while in_flight:
            done, result = in_flight.popleft()
            yield from _with_tasks(done, _chunk_result(pool, result))
    except BrokenProcessPool:
        broken = True
        _stop_workers(pool)
        raise
    finally:
        pool.shutdown(wait=not broken, cancel_futures=True)


WORKER_CHECK_SECONDS = 1.0


def _chunk_result(pool: ProcessPoolExecutor, result: Future[list[list[Item]]]) -> list[list[Item]]:
    """A chunk's items; BrokenProcessPool if a worker died. The executor says so by
    itself, except when the worker died while sending a result: it then waits for the
    rest of that message forever (CPython 3.11), so the workers are watched here too."""
    while True:
        try:
            return result.result(timeout=WORKER_CHECK_SECONDS)
        except TimeoutError:
            if any(process.exitcode is not None for process in _workers(pool)):
                raise BrokenProcessPool("a parsing worker process died") from None


def _workers(pool: ProcessPoolExecutor) -> list[multiprocessing.process.BaseProcess]:
    return list((getattr(pool, "_processes", None) or {}).values())  # private, but stable


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    for process in _workers(pool):
        if process.exitcode is None:
            process.kill()


def _with_tasks(
    chunk: list[Task | Unusable], results: list[list[Item]]
) -> Iterator[tuple[bool, list[Item]]]:
    for task, items in zip(chunk, results, strict=True):
        yield not task.continues, items


def leave_with(loader: int) -> None:
    """Run in each worker as it starts: exit when the loader process is gone. A loader
    killed with kill -9 cannot stop its workers, and they would otherwise wait for its
    next chunk (or to send it a result) forever, keeping the forkserver alive too."""
    threading.Thread(target=_wait_for_exit, args=(loader,), daemon=True).start()


def _wait_for_exit(pid: int) -> None:
    try:
        handle = os.pidfd_open(pid)  # readable once the process has ended (Linux 5.3+)
    except OSError:
        while running(pid):
            time.sleep(1.0)
    else:
        select.select([handle], [], [])
    os._exit(1)
