"""Driving a running CDS Hooks service over HTTP, so that a failure is clear, short and reproducible.

Hypothesis shrinks a failing example by running many smaller ones; against a service over HTTP that is
slow (minutes for whole records) and, once the service has died, meaningless: every later example fails
the same way and the shrunk one names an input that did not kill it. So the harness checks the service
is alive before and after every call; when it has died, the run stops at once (no shrinking) with one
failure naming the input that was sent last. A failure found by an assertion is shrunk for at most
`shrink_seconds`, then reported as it stands. Every failure carries a `curl` line that reproduces it,
and every call reports what it covered (`hypothesis.event`, `target`): hook, prefetch shape, status,
cards by indicator.

    service = HttpService(calls)          # calls = from_discovery(url, signer=..., fhir=...)
    @given(calls.any())
    def test_meets_the_spec(call): service.send(call).assert_conforms()
"""

from __future__ import annotations

import os
import shlex
import time
from collections import Counter
from typing import Any, NoReturn

import httpx
import orjson
from hypothesis import currently_in_test_context, event, note, target

from cds.testing.checker import check_cds_response, check_error_body
from cds.testing.requests import HookCall, ServiceCalls

SHRINK_SECONDS_VARIABLE = "CDS_TESTING_SHRINK_SECONDS"
SHRINK_SECONDS = 10.0
"""How long a failure found over HTTP is shrunk (default; $CDS_TESTING_SHRINK_SECONDS overrides it)."""
TIMEOUT_SECONDS = 10.0


class StopRun(BaseException):
    """Ends a property at once. A BaseException, so hypothesis neither shrinks nor replays it."""


class ServiceDied(StopRun):
    """The service stopped answering."""


class ShrinkingStopped(StopRun):
    """A failure was found and shrunk for as long as the harness allows."""


def curl_line(url: str, call: HookCall, headers: dict[str, str]) -> str:
    """A shell command that sends the same request again."""
    parts = ["curl", "-sS", "-i", "-X", "POST", url, "-H", "Content-Type: application/json"]
    for name, value in headers.items():
        parts += ["-H", f"{name}: {value}"]
    try:
        text = call.content.decode("utf-8")
    except UnicodeDecodeError:
        escaped = "".join(f"\\x{byte:02x}" for byte in call.content)
        return f"printf '{escaped}' | " + shlex.join([*parts, "--data-binary", "@-"])
    line = shlex.join([*parts, "--data-binary", text])
    if call.fhir_server:
        line += f"  # fhirServer {call.fhir_server} is the kit's loopback server, gone after the run"
    return line


class Answer:
    """The service's answer to one call, with the checks a conforming answer passes."""

    def __init__(self, service: HttpService, call: HookCall, status: int, content: bytes, curl: str) -> None:
        self.service = service
        self.call = call
        self.status = status
        self.content = content
        self.curl = curl

    @property
    def json(self) -> Any:
        return orjson.loads(self.content) if self.content else None

    def fail(self, problem: str) -> NoReturn:
        message = (
            f"{problem}\nservice answered {self.status}: {self.content[:500]!r}\nreproduce:\n{self.curl}"
        )
        self.service.failed(message)
        raise AssertionError(message)

    def assert_no_server_error(self) -> None:
        if self.status >= 500:
            self.fail(f"a {self.status} server error for a call ({self._what()})")

    def assert_valid_response(self) -> None:
        """A 200 is a valid CDS Hooks 2.0 response, action resources valid FHIR R4."""
        if self.status == 200:
            violations = check_cds_response(self.content)
            if violations:
                self.fail("the 200 is not valid CDS Hooks 2.0:\n" + "\n".join(f"  - {v}" for v in violations))

    def assert_client_error_for_broken_calls(self) -> None:
        if self.call.broken is not None and not 400 <= self.status < 500:
            self.fail(f"a call that breaks the spec ({self.call.broken}) got {self.status}, not a 4xx")

    def assert_no_cards_without_patient(self) -> None:
        """When the client says it has no such Patient, there is nobody to advise about: a 4xx (412) or
        no cards, never cards."""
        if self.call.without_patient and self.status == 200 and (self.json or {}).get("cards"):
            self.fail(
                f"cards for a patient the EHR does not have (prefetch {self.call.patient_key!r} was null)"
            )

    def assert_errors_are_operation_outcomes(self) -> None:
        """Error bodies are FHIR OperationOutcomes (the CDS Hooks 3.0 ballot; this service does it)."""
        if self.status >= 400:
            violations = check_error_body(self.content)
            if violations:
                self.fail(f"the {self.status} body is not an OperationOutcome:\n" + "\n".join(violations))

    def assert_conforms(self) -> None:
        """Every check but the OperationOutcome one, which CDS Hooks 2.0 does not require."""
        self.assert_no_server_error()
        self.assert_valid_response()
        self.assert_client_error_for_broken_calls()
        self.assert_no_cards_without_patient()

    def _what(self) -> str:
        return self.call.broken or f"prefetch {self.call.shapes or 'none'}"


class HttpService:
    """A running service, reached at the base URL its discovery document was read from."""

    def __init__(
        self,
        calls: ServiceCalls,
        *,
        base_url: str | None = None,
        timeout: float = TIMEOUT_SECONDS,
        shrink_seconds: float | None = None,
    ) -> None:
        found = base_url or calls.discovery.base_url
        if found is None:
            raise ValueError("the discovery document was not read from a URL: pass base_url")
        self.base_url = found.rstrip("/")
        self.calls = calls
        self.shrink_seconds = (
            shrink_seconds
            if shrink_seconds is not None
            else float(os.environ.get(SHRINK_SECONDS_VARIABLE, SHRINK_SECONDS))
        )
        self.statuses: Counter[int] = Counter()
        """Status codes of every call sent, for coverage figures."""
        self._client = httpx.Client(timeout=timeout)
        self._test: str | None = None
        self._first_failure: float | None = None
        self._last_failure = ""
        self._last_curl: str | None = None

    def alive(self) -> bool:
        try:
            url = f"{self.base_url}/cds-services"
            headers = self.calls.signer.headers(url) if self.calls.signer else {}
            return self._client.get(url, headers=headers).status_code == 200
        except httpx.HTTPError:
            return False

    def failed(self, message: str) -> None:
        """Starts the shrink clock at the first failure of the current test."""
        if self._first_failure is None:
            self._first_failure = time.monotonic()
        self._last_failure = message

    def send(self, call: HookCall) -> Answer:
        self._follow_test()
        self._stop_if_shrunk_enough()
        if not self.alive():
            last = self._last_curl or "(nothing: it was not answering when the run began)"
            raise ServiceDied(f"the service at {self.base_url} is not answering; the last call sent:\n{last}")
        url = f"{self.base_url}/cds-services/{call.service}"
        headers = self.calls.signer.headers(url) if self.calls.signer else {}
        curl = curl_line(url, call, headers)
        self._last_curl = curl
        if currently_in_test_context():
            note(f"reproduce:\n{curl}")
        if self.calls.fhir is not None:
            self.calls.fhir.hold(call.record.without("patient") if call.without_patient else call.record)
        try:
            response = self._client.post(
                url, content=call.content, headers={"Content-Type": "application/json", **headers}
            )
        except httpx.HTTPError as error:
            if not self.alive():
                raise ServiceDied(f"the service at {self.base_url} died on this call:\n{curl}") from None
            self.failed(f"no answer ({type(error).__name__})\nreproduce:\n{curl}")
            raise AssertionError(f"no answer ({type(error).__name__}: {error})\nreproduce:\n{curl}") from None
        if not self.alive():
            raise ServiceDied(
                f"the service at {self.base_url} stopped answering after this call "
                f"(it answered {response.status_code}):\n{curl}"
            )
        answer = Answer(self, call, response.status_code, response.content, curl)
        self._report(answer)
        return answer

    def _report(self, answer: Answer) -> None:
        call = answer.call
        self.statuses[answer.status] += 1
        if not currently_in_test_context():
            return
        event(f"hook {call.hook}")
        shapes: list[str] = sorted(set(call.shapes.values())) or ["no prefetch"]
        event(f"prefetch {'+'.join(shapes)}" + (" +fhirServer" if call.fhir_server else ""))
        event(f"status {answer.status}")
        if answer.status == 200 and isinstance(answer.json, dict):
            cards = [c for c in answer.json.get("cards") or [] if isinstance(c, dict)]
            for indicator in sorted({str(c.get("indicator")) for c in cards}):
                event(f"cards {indicator}")
            target(float(len(cards)), label="cards in a 200")

    def _follow_test(self) -> None:
        """A new test (pytest names it in PYTEST_CURRENT_TEST) starts with no failure on the clock."""
        current = os.environ.get("PYTEST_CURRENT_TEST", "").split(" (")[0]
        if current != self._test:
            self._test = current
            self._first_failure = None

    def _stop_if_shrunk_enough(self) -> None:
        if self._first_failure is not None and time.monotonic() - self._first_failure > self.shrink_seconds:
            raise ShrinkingStopped(
                f"{self._last_failure}\n(shrinking stopped after {self.shrink_seconds:.0f} s)"
            )

    def close(self) -> None:
        self._client.close()
