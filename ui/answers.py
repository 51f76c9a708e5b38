"""Answer memoisation: identical requests (a class pressing the same example) are computed once."""

from collections import OrderedDict
from functools import wraps
import inspect
import threading
import time

from gradio.caching import cache_hash

from ui.files import as_files

# Identical requests (a class pressing the same example) are computed once: the first computes,
# the others wait for its answer and get it. Keyed by a hash of the whole inputs; kept a few minutes.
REMEMBER = 16  # answers (their figures kept drawn: tens of KB each)
REMEMBER_SECONDS = 300  # shorter than KEEP_SECONDS, so the files of a kept answer still exist
_answers = OrderedDict()
_answers_lock = threading.Lock()


class _Answer:
    def __init__(self):
        self.lock, self.outputs, self.made = threading.Lock(), None, 0.0


def answer_key(name, args, kwargs):
    """The sha256 of every byte and character of a handler's inputs (Gradio's gr.cache hashing):
    two requests share an answer only when their whole inputs are equal."""
    def plain(value):
        return bytes(value) if isinstance(value, bytearray) else value
    return cache_hash((name, [plain(value) for value in args], {key: plain(value) for key, value in kwargs.items()}))


def remembered(handler):
    """Compute an answer once for identical inputs; requests that ask again get the same answer.
    A streaming handler streams to the first request; the others get its last answer."""
    def answer_for(args, kwargs):
        key = answer_key(f"{handler.__module__}.{handler.__qualname__}", args, kwargs)
        with _answers_lock:
            answer = _answers.get(key)
            if answer is None or (answer.outputs is not None and time.time() - answer.made > REMEMBER_SECONDS):
                answer = _answers[key] = _Answer()
            _answers.move_to_end(key)
            while len(_answers) > REMEMBER:
                _answers.popitem(last=False)
        return answer

    if inspect.isgeneratorfunction(handler):
        @wraps(handler)
        def remembering_stream(*args, **kwargs):
            answer = answer_for(args, kwargs)
            with answer.lock:  # the first computes and streams; identical requests wait here
                if answer.outputs is None:
                    written, outputs = {}, None
                    for outputs in handler(*args, **kwargs):
                        outputs = as_files(outputs, written)
                        yield outputs
                    answer.outputs, answer.made = outputs, time.time()
                    return
            yield answer.outputs
        return remembering_stream

    @wraps(handler)
    def remembering(*args, **kwargs):
        answer = answer_for(args, kwargs)
        with answer.lock:  # the first computes; identical requests wait here for its answer
            if answer.outputs is None:
                outputs = as_files(handler(*args, **kwargs))
                answer.outputs, answer.made = outputs, time.time()
                return outputs
        return answer.outputs
    return remembering
