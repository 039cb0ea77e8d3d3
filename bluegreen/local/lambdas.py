"""Lambda `Invoke` answered by the test's choice instead of running code.

moto runs a function's code in Docker (a Lambda runtime image pulled from the internet), which a
test machine on loopback cannot do. With a world active, a RequestResponse invocation of a
function that exists answers what `World.functions.answer` chose, the way Lambda answers: HTTP
200, the function's result as the payload, and for an error the `X-Amz-Function-Error` header
(`Unhandled`) with an `{"errorMessage", "errorType"}` payload; an unmarked function answers its
payload back (moto's own behaviour without Docker). A function that does not exist is moto's
ResourceNotFoundException, as in Lambda.
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import unquote

from bluegreen.local import world as worlds


def install() -> None:
    from moto.awslambda.responses import LambdaResponse

    original = LambdaResponse.invoke

    def invoke(self: Any) -> Any:
        world = worlds.active()
        if world is None or self.headers.get("X-Amz-Invocation-Type", "RequestResponse") != "RequestResponse":
            return original(self)
        name = unquote(self.path.rsplit("/", 2)[-2])
        function = self.backend.get_function(name, self._get_param("qualifier"))  # raises when missing
        chosen = world.functions.answers.get(function.function_name) or world.functions.answers.get(name)
        headers = {"content-type": "application/json", "x-amz-executed-version": "$LATEST"}
        if chosen is None:
            body = self.body if isinstance(self.body, (str, bytes)) else json.dumps(self.body)
            return 200, headers, body
        payload, error, takes = chosen
        if takes:
            time.sleep(takes)  # real seconds: an invocation is synchronous, its caller's timeout is real too
        if error:
            headers["x-amz-function-error"] = error
        return 200, headers, json.dumps(payload)

    LambdaResponse.invoke = invoke  # type: ignore[method-assign]
