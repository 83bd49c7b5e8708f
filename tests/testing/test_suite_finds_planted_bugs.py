"""The QA suite in docs/qa.md, run as a QA engineer runs it against another service, finds each bug
planted in a small independent service (`planted_service.py`) and reports it with a curl line; the same
service without bugs passes, its calls signed with a test key it trusts."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from planted_process import Run, start_planted

from cds.testing.harness import SHRINK_SECONDS_VARIABLE
from cds.testing.signing import TestSigner

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = 10
"""Examples a property: enough for each planted bug with the seed below, and quick."""
SEED = "1"


def suite_files() -> dict[str, str]:
    """The Python files docs/qa.md tells a QA engineer to copy, by the name in their first line."""
    blocks = re.findall(r"```python\n(# (\S+\.py).*?)```", (REPO / "docs" / "qa.md").read_text(), re.S)
    files = {name: text for text, name in blocks if name in ("test_their_service.py", "conftest.py")}
    files["conftest.py"] = files["conftest.py"] + (
        "from hypothesis import settings\n\n"
        f"settings.register_profile('planted', settings.get_profile('http'), max_examples={EXAMPLES})\n"
        "settings.load_profile('planted')\n"
    )
    return files


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Run]]:
    """The suite against each service, the four runs at once."""
    root = tmp_path_factory.mktemp("suite")
    signer = TestSigner()
    key = root / "test-key.json"
    signer.save(key)
    jwks = root / "jwks.json"
    jwks.write_text(__import__("json").dumps(signer.jwks()))
    services = {
        "none": start_planted([], trust=jwks),
        "crash-on-missing-prefetch": start_planted(["crash-on-missing-prefetch"]),
        "invalid-card": start_planted(["invalid-card"]),
        "ignores-null-patient": start_planted(["ignores-null-patient"]),
    }
    suites = {}
    for bug, run in services.items():
        folder = root / bug
        folder.mkdir()
        for name, text in suite_files().items():
            (folder / name).write_text(text)
        environment = {"CDS_DISCOVERY_URL": run.url, "PATH": "/usr/bin:/bin", SHRINK_SECONDS_VARIABLE: "3"}
        if bug == "none":
            environment["CDS_TEST_KEY"] = str(key)
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--hypothesis-seed", SEED]
        suites[bug] = subprocess.Popen(
            [*command, "--hypothesis-show-statistics"],
            cwd=folder,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
    for bug, process in suites.items():
        output, _ = process.communicate(timeout=120)
        services[bug].output = output.decode()
        services[bug].returncode = process.returncode
        Path(f"/tmp/planted-{bug}.log").write_text(services[bug].output)
    yield services
    for run in services.values():
        run.service.terminate()
        run.service.wait(timeout=10)


def _curl_lines(output: str) -> list[str]:
    return re.findall(r"^(?:E\s+)?(curl -sS .*)$", output, re.M)


def test_the_service_without_bugs_passes_the_suite_with_signed_calls(runs: dict[str, Run]) -> None:
    run = runs["none"]
    assert run.returncode == 0, run.output
    assert re.search(r"\d+\.\d+%, status 200", run.output), run.output


def test_the_crash_on_missing_prefetch_stops_the_run_naming_the_call(runs: dict[str, Run]) -> None:
    run = runs["crash-on-missing-prefetch"]
    assert run.returncode == 1
    assert "ServiceDied: the service at" in run.output and "died on this call" in run.output
    assert "Falsifying example" not in run.output  # stopped at once, not shrunk
    assert run.service.wait(timeout=10) == 70
    fatal = _curl_lines(run.output.split("died on this call", 1)[1])[0]
    assert '"prefetch"' not in fatal


def test_the_invalid_card_is_reported_with_the_rule_it_breaks(runs: dict[str, Run]) -> None:
    run = runs["invalid-card"]
    assert run.returncode == 1
    assert "resource.status: Value for the field 'status' is required. [FHIR R4 ServiceRequest.status]" in (
        run.output
    )
    assert _curl_lines(run.output)


def test_the_ignored_null_patient_is_reported(runs: dict[str, Run]) -> None:
    run = runs["ignores-null-patient"]
    assert run.returncode == 1
    assert "cards for a patient the EHR does not have (prefetch 'patient' was null)" in run.output
    assert any('"patient":null' in line for line in _curl_lines(run.output))


def test_the_curl_line_of_a_failure_reproduces_it(runs: dict[str, Run]) -> None:
    """Replayed after the suite, whose loopback FHIR server is gone: a call that carries its prefetch."""
    run = runs["invalid-card"]
    carrying = [line for line in _curl_lines(run.output) if '"prefetch":{"' in line]
    words = shlex.split(carrying[0].split("  # ")[0])
    url = next(word for word in words if word.startswith("http://"))
    body = words[words.index("--data-binary") + 1]
    answer = httpx.post(url, content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 200
    assert '"resourceType":"ServiceRequest","intent"' in answer.text
