"""fhir_core's validators answered from per-class facts: what fhir_core's own accept and refuse, and how."""

from __future__ import annotations

import ast
import hashlib
import inspect
import json
import subprocess
import sys
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

import fhir.resources.R4B
import fhir_core.utils
import fhir_core_outcomes
import pytest
from fhir.resources.R4B.fhirprimitiveextension import FHIRPrimitiveExtension
from fhir_core.fhirabstractmodel import FHIRAbstractModel
from fhir_core.types import FhirBase
from fhir_core_bodies import ABSENT, CLASSES, RULE_MODELS, bodies, resources, result
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from cds.fhir import FAST_CORE_HOOKS, corehooks
from cds.fhir.models import Condition, Observation

REPO = Path(__file__).resolve().parents[2]
ORIGINAL_REJECT = corehooks._ORIGINALS["reject_null_complex_elements"].__func__
ORIGINAL_AFTER = corehooks._ORIGINALS["validate_after_model_construction"]
ORIGINAL_ELEMENT = corehooks._ORIGINALS["fhir_model_validator"].__func__

# fhir_core 1.1.12's validators and what they call, and pydantic 2.14.4's constructor and
# `model_validate`, as the fast ones were proven against. An upgrade that changes any of them fails
# here: prove the fast validators again (these tests), then update.
PROVEN_SOURCES_SHA256 = "7f7869d0bea85832af5b674842969399107f58fe893248cff9047dd01028394b"


def _proven_sources() -> list[Callable[..., Any]]:
    return [
        ORIGINAL_REJECT,
        ORIGINAL_AFTER,
        FHIRAbstractModel._validate_required_primitive_elements,
        FHIRAbstractModel._validate_one_of_many,
        FHIRAbstractModel.get_alias_mapping,
        FHIRAbstractModel.get_required_fields,
        FHIRAbstractModel.get_one_of_many_fields,
        FHIRAbstractModel.__init__,
        ORIGINAL_ELEMENT,
        fhir_core.utils.is_list_type,
        fhir_core.utils.is_primitive_type,
        fhir_core.utils._is_list_type,
        fhir_core.utils._is_primitive_type,
        BaseModel.__init__,
        BaseModel.model_validate,
    ]


@given(bodies())
def test_the_null_check_answers_as_fhir_cores_own_for_any_input(
    case: tuple[type[FHIRAbstractModel], Any],
) -> None:
    model, data = case
    fast = result(lambda: corehooks.reject_null_complex_elements(model, data), data)
    original = result(lambda: ORIGINAL_REJECT(model, data), data)
    assert fast == original


@given(bodies())
def test_an_element_is_built_as_fhir_cores_own_builds_it_for_any_input(
    case: tuple[type[FHIRAbstractModel], Any],
) -> None:
    model, data = case
    fast = result(lambda: corehooks.fhir_model_validator(FhirBase, data, model), data)
    original = result(lambda: ORIGINAL_ELEMENT(FhirBase, data, model), data)
    assert fast == original


@given(resources())
def test_a_resource_is_validated_as_model_validate_validates_it_for_any_input(
    case: tuple[type[FHIRAbstractModel], Any],
) -> None:
    model, data = case
    fast = result(lambda: corehooks.validate(model, data), data)
    original = result(lambda: model.model_validate(data), data)
    assert fast == original


_PRESENT = st.sampled_from([None, "", "x", 0, False, [], ABSENT])
_EXTENSIONS = st.sampled_from(
    [
        ABSENT,
        None,
        {},
        {"extension": []},
        {"extension": [{"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason"}]},
        FHIRPrimitiveExtension.model_construct(),
        FHIRPrimitiveExtension.model_construct(extension=[{"url": "u"}]),
        "not an extension",
    ]
)


@st.composite
def _built(draw: st.DrawFn) -> FHIRAbstractModel:
    """A model in any state the after-validator can meet: required primitives set, null, absent, or only
    an `_x` extension; choices (`value[x]`) with none, one or several set."""
    model = draw(st.sampled_from(CLASSES))
    blank = model.model_construct()
    aliases = model.get_alias_mapping()
    values: dict[str, Any] = {}
    for name, ext in blank.get_required_fields():
        values[aliases.get(name, name)] = draw(_PRESENT)
        if ext is not None:
            values[ext] = draw(_EXTENSIONS)
    for names in blank.get_one_of_many_fields().values():
        for key in draw(st.lists(st.sampled_from(names), max_size=3, unique=True)):
            values[key] = draw(st.sampled_from(["x", 0, False, "", None]))
    built = model.model_construct(**{key: value for key, value in values.items() if value is not ABSENT})
    for key in (key for key, value in values.items() if value is ABSENT):
        built.__dict__.pop(key, None)
    return built


@given(_built())
def test_the_required_and_choice_checks_answer_as_fhir_cores_own_for_any_model(
    built: FHIRAbstractModel,
) -> None:
    fast = result(lambda: corehooks.validate_after_model_construction(built), built, include_input=False)
    original = result(lambda: ORIGINAL_AFTER(built), built, include_input=False)
    assert fast == original


def test_every_resource_of_the_fixtures_and_synthea_validates_as_with_fhir_cores_own_validators(
    shared_data: Path,
) -> None:
    """fhir_core's own validators run in a fresh interpreter that never imports cds; here each resource
    goes through `model_validate` and through the fast build of `corehooks.validate`."""
    fixtures = sorted(path for path in (REPO / "fixtures").iterdir() if path.suffix in {".json", ".ndjson"})
    synthea = sorted((shared_data / "synthea-r4").glob("*.json.gz"))
    rule_types = frozenset(model.get_resource_type() for model in RULE_MODELS)
    script = Path(fhir_core_outcomes.__file__)
    PIPE = subprocess.PIPE
    runs = [
        (fixtures, None, subprocess.Popen([sys.executable, script, "", *fixtures], stdout=PIPE)),
        (
            synthea,
            rule_types,
            subprocess.Popen([sys.executable, script, ",".join(rule_types), *synthea], stdout=PIPE),
        ),
    ]
    for paths, types, process in runs:
        fast = fhir_core_outcomes.outcomes(paths, types)
        built_fast = fhir_core_outcomes.outcomes(paths, types, corehooks.validate)
        stdout, _ = process.communicate(timeout=120)
        report = json.loads(stdout)
        assert report["validators"] == ["fhir_core.fhirabstractmodel"]
        original = report["outcomes"]
        assert len(fast) == len(built_fast) == len(original) > 0
        assert [i for i, (a, b) in enumerate(zip(fast, original, strict=True)) if a != b] == []
        assert [i for i, (a, b) in enumerate(zip(built_fast, original, strict=True)) if a != b] == []


def test_a_resource_with_a_null_in_a_list_of_codings_is_refused_with_fhir_cores_error() -> None:
    body = {"resourceType": "Condition", "subject": {"reference": "Patient/p"}, "code": {"coding": [None]}}
    with pytest.raises(ValidationError) as refused:
        Condition.model_validate(body)
    assert [(e["type"], e["loc"], e["msg"]) for e in refused.value.errors()] == [
        ("list_type", ("code", "coding"), "None is not allowed as an element of coding")
    ]


TWO_VALUES = {
    "resourceType": "Observation",
    "status": "final",
    "code": {"text": "potassium"},
    "valueString": "low",
    "valueBoolean": True,
}
"""An Observation with two `value[x]`, which fhir_core refuses."""


def test_an_observation_with_two_values_is_refused_with_fhir_cores_error() -> None:
    with pytest.raises(ValidationError) as refused:
        Observation.model_validate(TWO_VALUES)
    assert [(e["type"], e["loc"]) for e in refused.value.errors()] == [("value_error", ())]
    assert "but got multiple" in refused.value.errors()[0]["msg"]


def test_a_required_primitive_given_only_as_an_extension_is_accepted() -> None:
    reason = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
    absent = {"extension": [{"url": reason, "valueCode": "unknown"}]}
    body = {"resourceType": "Observation", "_status": absent, "code": {"text": "potassium"}}
    assert Observation.model_validate(body).status is None


def test_a_model_class_of_our_own_that_computes_its_choices_is_checked_by_fhir_core_itself() -> None:
    class Lenient(Observation):
        def get_one_of_many_fields(self) -> dict[str, list[str]]:
            return {} if self.id == "lenient" else super().get_one_of_many_fields()

    assert Lenient.model_validate(TWO_VALUES | {"id": "lenient"}).valueString == "low"
    with pytest.raises(ValidationError):
        Lenient.model_validate(TWO_VALUES | {"id": "strict"})


def test_every_model_class_built_in_this_process_validates_with_the_fast_validators() -> None:
    Condition.model_validate({"resourceType": "Condition", "subject": {"reference": "Patient/p"}})
    built = fhir_core_outcomes.built_model_classes()
    assert FAST_CORE_HOOKS and len(built) > 20
    fast = {corehooks.__name__}
    slow = [model.__name__ for model in built if fhir_core_outcomes.validator_modules(model) != fast]
    assert slow == []


@pytest.mark.parametrize("entry_point", ["cds.facts.select", "cds.testing"])
def test_a_fresh_process_gets_the_fast_validators_whichever_module_it_imports_first(entry_point: str) -> None:
    check = (
        f"import sys, {entry_point}; sys.path.insert(0, {str(Path(__file__).parent)!r}); "
        "import fhir_core_outcomes as o; "
        "o.outcome({'resourceType': 'Condition', 'subject': {'reference': 'Patient/p'}}); "
        "print(sorted(set().union(*map(o.validator_modules, o.built_model_classes()))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", check], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip() == str([corehooks.__name__])


def test_only_cds_fhir_models_corehooks_and_flatschema_import_fhir_resources_or_fhir_core() -> None:
    """Any other module could build a model class before the fast validators are installed
    (`flatschema` builds none: it reads the schemas of classes `models` built)."""
    allowed = {Path("cds/fhir/models.py"), Path("cds/fhir/corehooks.py"), Path("cds/fhir/flatschema.py")}
    importers = sorted(
        str(path.relative_to(REPO))
        for path in (REPO / "cds").rglob("*.py")
        if path.relative_to(REPO) not in allowed and _imports_fhir_models(path)
    )
    assert importers == []


def _imports_fhir_models(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text())):
        names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        if any(name.startswith(("fhir.", "fhir_core")) or name == "fhir" for name in names):
            return True
    return False


def test_every_generated_required_and_choice_table_is_a_literal() -> None:
    """The fast after-validator reads each class's tables once; that holds only if they never vary."""
    varying = []
    for path in sorted(Path(fhir.resources.R4B.__file__).parent.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            tables = isinstance(node, ast.FunctionDef) and node.name in TABLES
            if tables and not _returns_a_literal(node):
                varying.append(f"{path.name}:{node.lineno} {node.name}")
    assert varying == []


TABLES = {"get_required_fields", "get_one_of_many_fields"}


def _returns_a_literal(function: ast.FunctionDef) -> bool:
    body = [statement for statement in function.body if not _is_docstring(statement)]
    match body:
        case [ast.Assign(targets=[ast.Name(id=name)], value=value), ast.Return(value=ast.Name(id=returned))]:
            try:
                ast.literal_eval(value)
            except ValueError:
                return False
            return name == returned
    return False


def _is_docstring(statement: ast.stmt) -> bool:
    return isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)


def test_fhir_cores_validators_are_the_ones_the_fast_ones_were_proven_against() -> None:
    sources = "\n".join(inspect.getsource(function) for function in _proven_sources())
    assert version("fhir_core") == corehooks.PROVEN_FHIR_CORE
    assert version("pydantic") == corehooks.PROVEN_PYDANTIC
    assert hashlib.sha256(sources.encode()).hexdigest() == PROVEN_SOURCES_SHA256


@pytest.mark.parametrize("other", ["fhir_core", "pydantic"])
def test_another_fhir_core_or_pydantic_release_is_left_alone(
    monkeypatch: pytest.MonkeyPatch, other: str
) -> None:
    monkeypatch.setattr(corehooks, "version", lambda name: "9.9.9" if name == other else version(name))
    corehooks.uninstall()
    try:
        assert corehooks.install() is False
        assert vars(FHIRAbstractModel)["validate_after_model_construction"] is ORIGINAL_AFTER
    finally:
        monkeypatch.undo()
        assert corehooks.install() is True
