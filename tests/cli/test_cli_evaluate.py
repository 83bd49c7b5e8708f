"""`cds evaluate` as a newcomer meets it: a mistake is one line that says what to do."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result

from cds.cli.main import cli

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
TWO_PATIENTS = FIXTURES / "excluded-other-patient.json"


def _evaluate(*args: str) -> Result:
    return CliRunner().invoke(cli, ["evaluate", *args])


def test_a_patient_not_in_the_input_is_an_error_listing_the_patients_found() -> None:
    result = _evaluate(str(TWO_PATIENTS), "--patient", "pat-01", "--now", "2026-11-25")
    assert result.exit_code == 1
    assert result.output == (
        "Error: patient 'pat-01' is not in the input; the patients in it: pat-001, pat-002\n"
    )


def test_two_patients_without_patient_lists_their_ids_and_names_the_option() -> None:
    result = _evaluate(str(TWO_PATIENTS), "--now", "2026-11-25")
    assert result.exit_code == 1
    assert "--patient" in result.output and result.output.rstrip().endswith("pat-001, pat-002")
    assert len(result.output.splitlines()) == 1


def test_a_patient_in_the_input_is_evaluated() -> None:
    result = _evaluate(str(TWO_PATIENTS), "--patient", "pat-001", "--now", "2026-11-25")
    assert result.exit_code == 0, result.output


def test_a_bad_now_names_the_option() -> None:
    result = _evaluate(str(FIXTURES / "benign-low-magnesium.json"), "--now", "yesterday")
    assert result.exit_code == 2
    assert "Invalid value for '--now': expected an ISO date or date-time such as 2026-11-25" in result.output


def test_json_that_is_not_fhir_says_so_once(tmp_path: Path) -> None:
    study = tmp_path / "study.json"
    study.write_text('{"name": "spasm study", "rows": [1, 2, 3]}')
    result = _evaluate(str(study))
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {study}: not FHIR: an object without resourceType; expected")
    assert result.output.count("study.json") == 1 and "prefetch" not in result.output.split(";")[0]
