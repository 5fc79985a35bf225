"""Work on many files in worker processes, each file within a time limit.

A file that takes longer than the limit (a damaged or hostile file on which a library hangs) is given up:
the worker processes are ended (the operating system releases what they held: locks, memory; a
temporary file left behind is removed by a later run) and started again for the other files, and the
caller says what happened to that file. Nothing else waits on it; the run goes on."""

from __future__ import annotations

import multiprocessing
import os
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

Task = TypeVar("Task")

FILE_SECONDS = 300.0  # the time one file may take in a worker: far beyond a real workbook (200k rows: seconds)


CHUNK = 4  # tasks handed to a worker at a time: fewer round trips; a chunk over its time is run again task by task


def _run_chunk(work: Callable[[Task], Any], chunk: list[Task]) -> list[Any]:
    return [work(task) for task in chunk]


def bounded_map(work: Callable[[Task], Any], tasks: Sequence[Task], given_up: Callable[[Task, float], Any],
                step: Callable[[], None] = lambda: None, initializer: Callable[[], None] | None = None,
                seconds: float | None = None) -> list[Any]:
    """``work(task)`` for every task in worker processes (spawned: forking a process whose polars thread
    pool runs can deadlock), results in the tasks' order, ``step`` called as each ends. A task still
    running after ``seconds`` (default ``FILE_SECONDS``) gets ``given_up(task, seconds)`` as its result.
    ``work`` must not raise: it turns its own failures into results.

    Tasks go out ``CHUNK`` at a time, with the chunk's time (``seconds`` a task); a chunk over its time
    is run again one task at a time, so only the task that hangs is given up."""
    limit = FILE_SECONDS if seconds is None else seconds
    workers = max(1, min(os.cpu_count() or 1, len(tasks)))
    context = multiprocessing.get_context("spawn")
    results: list[Any] = [None] * len(tasks)
    indices = list(range(len(tasks)))
    waiting = deque(indices[i:i + CHUNK] for i in range(0, len(tasks), CHUNK))
    done: queue.Queue[tuple[int, Any]] = queue.Queue()
    pool = context.Pool(workers, initializer=initializer)
    running: dict[int, tuple[list[int], float]] = {}  # chunk id -> its tasks, and when it is due
    handed = 0
    try:
        while waiting or running:
            while waiting and len(running) < workers:  # never more chunks handed out than workers: each starts now
                chunk, handed = waiting.popleft(), handed + 1
                running[handed] = (chunk, time.monotonic() + limit * len(chunk))
                pool.apply_async(_run_chunk, (work, [tasks[i] for i in chunk]),
                                 callback=lambda out, c=handed, to=done: to.put((c, out)),
                                 error_callback=lambda err, c=handed, to=done: to.put((c, err)))
            first_due = min(due for _, due in running.values())
            try:
                c, out = done.get(timeout=max(first_due - time.monotonic(), 0))
            except queue.Empty:
                now = time.monotonic()
                pool.terminate()
                pool.join()
                again = []
                for chunk, due in sorted(running.values()):
                    if due > now:
                        again.append(chunk)  # cut short by the others: starts again as it was
                    elif len(chunk) > 1:
                        again.extend([i] for i in chunk)  # which one hangs? each on its own
                    else:
                        results[chunk[0]] = given_up(tasks[chunk[0]], limit)
                        step()
                waiting.extendleft(reversed(again))
                running.clear()
                done = queue.Queue()  # results of the ended pool arriving late go to the old queue, dropped
                pool = context.Pool(workers, initializer=initializer)
                continue
            if c not in running:
                continue
            chunk, _ = running.pop(c)
            if isinstance(out, BaseException):  # the work could not even be handed over (pickling)
                raise out
            for i, result in zip(chunk, out, strict=True):
                results[i] = result
                step()
    finally:
        pool.terminate()
        pool.join()
    return results


def bounded_call(work: Callable[..., Any], task: Task, given_up: Callable[[Task, float], Any], seconds: float | None = None,
                 **keywords: Any) -> Any:
    """``work(task, stop=event, ...)`` here, for a run of a few files, within ``seconds`` (default
    ``FILE_SECONDS``); over it, ``given_up(task, seconds)``, and ``stop`` is set so the work, left
    running on its thread (a library call cannot be interrupted), gives up before it changes anything.
    The libraries that read workbooks let go of the interpreter lock, so this thread goes on meanwhile."""
    limit = FILE_SECONDS if seconds is None else seconds
    stop, out = threading.Event(), queue.Queue(maxsize=1)

    def run() -> None:
        try:
            out.put((True, work(task, stop=stop, **keywords)))
        except BaseException as err:  # handed to the caller's thread as it is
            out.put((False, err))

    threading.Thread(target=run, name="acsxl-file", daemon=True).start()  # daemon: a hung one never holds up the exit
    try:
        ok, result = out.get(timeout=limit)
    except queue.Empty:
        stop.set()
        return given_up(task, limit)
    if not ok:
        raise result
    return result
