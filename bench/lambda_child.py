"""One cold invocation, timed, in a fresh interpreter laid out as Lambda lays it out.

Run as `python3.13 -I -S -B lambda_child.py` with a JSON request on stdin:

    {"path": ["<function artifact>", "<layer content>"], "handler": "app.lambda_handler", "event": {...},
     "warm": false}

`sys.path` is then the artifact (Lambda's /var/task), the layer's content (/opt/python) and the
standard library only. The clock starts once the request is read (the interpreter's own start
and reading the event are the same for every function, as Lambda's runtime does them before
the handler is loaded): `import` is the time to load the handler's module (Lambda's init
phase), `first` the time until the handler returned its first answer, and with `"warm": true`
`warm` the time of a second answer to the same event in the same process. The report is JSON,
on the last line of stdout. Only the standard library: nothing else is on the path before the handler's.
"""

import json
import sys
import time

request = json.loads(sys.stdin.read())
start, start_cpu = time.perf_counter(), time.process_time()
sys.path[:0] = request["path"]

import importlib  # noqa: E402 -- after the clock starts, as everything the handler needs


class Context:
    """The parts of Lambda's context object that Powertools reads."""

    function_name = "bench"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:bench"
    memory_limit_in_mb = 1024
    aws_request_id = "00000000-0000-4000-8000-0000000bench"
    log_group_name = "/aws/lambda/bench"
    log_stream_name = "bench"

    def __init__(self, deadline: float) -> None:
        self._deadline = deadline

    def get_remaining_time_in_millis(self) -> int:
        return int((self._deadline - time.monotonic()) * 1000)


module_name, attribute = request["handler"].rsplit(".", 1)
handler = getattr(importlib.import_module(module_name), attribute)
loaded, loaded_cpu = time.perf_counter(), time.process_time()
response = handler(request["event"], Context(time.monotonic() + 30))
answered, answered_cpu = time.perf_counter(), time.process_time()
report = {
    "import": loaded - start,
    "first": answered - start,
    "import_cpu": loaded_cpu - start_cpu,
    "first_cpu": answered_cpu - start_cpu,
    "response": response,
}
if request.get("warm"):
    again = time.perf_counter()
    report["second_response"] = handler(request["event"], Context(time.monotonic() + 30))
    report["warm"] = time.perf_counter() - again
print(json.dumps(report, default=str))
