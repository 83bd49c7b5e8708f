"""Loads a rules directory and validates all of it, reporting every problem with file, line and field."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel

from cds.engine import CompiledRule, Engine, EngineError
from cds.facts.parameters import (
    CertaintyFile,
    CourseFile,
    InterpretationFile,
    LabReadingFile,
    StatusFile,
    WindowsFile,
    WordingFile,
)
from cds.rulebook.checks import check_card, ordered_by_unless_fired, resolve_indicator
from cds.rulebook.collect import Collector
from cds.rulebook.compile import compile_rule
from cds.rulebook.conditions import ConditionError, field_domains
from cds.rulebook.fact_parameters import fact_parameters
from cds.rulebook.files import OrdersFile, ParametersFile, RuleFile, Scalar
from cds.rulebook.model import Alternative, Rule, Rulebook
from cds.rulebook.problems import Problem, RulebookError
from cds.rulebook.templates import Vocabulary
from cds.rulebook.terminology import TERMINOLOGY_VALUE_SETS, build_terminology, load_code_systems
from cds.rulebook.valuesets import load_value_sets
from cds.rulebook.vocabulary import build_vocabulary
from cds.rulebook.yamlsource import YamlDocument
from cds.terminology import Terminology
from cds.terminology.valuesets import ConceptFile

M = TypeVar("M", bound=BaseModel)

VALUE_SET_MODELS: dict[str, type[BaseModel]] = {
    **TERMINOLOGY_VALUE_SETS,
    "certainty": CertaintyFile,
    "interpretation": InterpretationFile,
    "lab_reading": LabReadingFile,
    "course": CourseFile,
    "status": StatusFile,
    "wording": WordingFile,
    "windows": WindowsFile,
    "explaining_condition": ConceptFile,
}

DEFAULT_RULES_DIR = Path(str(resources.files("cds") / "rules")).resolve()
"""The rules shipped in the package; in a checkout `cds/rules` links to the top-level rules/ it copies."""


def _loc(dotted: str) -> tuple[str | int, ...]:
    return tuple(int(p) if p.isdigit() else p for p in dotted.split("."))


def load_rulebook(directory: Path | str | None = None) -> Rulebook:
    """Loads and validates; raises RulebookError listing every problem found."""
    root = Path(directory) if directory is not None else DEFAULT_RULES_DIR
    root = root.resolve()
    if not root.is_dir():
        raise RulebookError([Problem(str(root), None, None, "", "rules directory not found")])
    out = Collector(root)
    load_code_systems(out, root)
    value_sets = load_value_sets(out, root / "valuesets", VALUE_SET_MODELS)
    loaded = build_terminology(out, root, value_sets) if value_sets is not None else None
    parameters = _load_single(out, root / "parameters.yaml", ParametersFile)
    orders = _load_single(out, root / "orders.yaml", OrdersFile)
    rule_docs = [doc for p in sorted((root / "definitions").glob("*.yaml")) if (doc := out.read(p))]
    if not rule_docs and not out.problems:
        out.problems.append(Problem(out.name(root / "definitions"), None, None, "", "no rule files (*.yaml)"))
    if parameters is None or orders is None or value_sets is None or loaded is None:
        raise RulebookError(out.problems)
    terminology = loaded.terminology
    params_doc, params = parameters
    fact_params = fact_parameters(out, params_doc, params, value_sets)
    values = {name: p.value for name, p in params.parameters.items()}
    wording = next(m for _, m in value_sets.values() if isinstance(m, WordingFile))
    vocabulary = build_vocabulary(terminology, rule_docs, values, wording)
    rules, compiled, alternatives = _load_rules(out, rule_docs, values, terminology, vocabulary, orders[1])
    if not out.problems:
        _check_engine_accepts(out, rule_docs[0] if rule_docs else params_doc, compiled)
    if out.problems or fact_params is None:
        raise RulebookError(out.problems)
    return Rulebook(
        directory=root,
        version=out.digest.hexdigest()[:12],
        parameters=dict(params.parameters),
        rules=tuple(rules),
        terminology=terminology,
        fact_parameters=fact_params,
        orders=dict(orders[1].orders),
        override_reasons=dict(orders[1].override_reasons),
        compiled=tuple(compiled),
        alternatives=alternatives,
        vocabulary=vocabulary,
        files=tuple(out.files),
        notes=tuple(
            f"{file}: ICD-10-CM family {family.code} expanded live from the tabular ({family.tabular}); "
            "record it with `cds rules expand` so loading does not need the tabular"
            for file, family in loaded.live
        ),
    )


def _load_single(out: Collector, path: Path, model: type[M]) -> tuple[YamlDocument, M] | None:
    doc = out.read_required(path)
    parsed = out.validate(doc, model) if doc else None
    return (doc, parsed) if doc and parsed else None


def _load_rules(
    out: Collector,
    docs: list[YamlDocument],
    values: dict[str, Scalar],
    terminology: Terminology,
    vocabulary: Vocabulary,
    orders: OrdersFile,
) -> tuple[list[Rule], list[CompiledRule], dict[str, Alternative]]:
    domains = field_domains(terminology)
    rules: list[Rule] = []
    compiled: list[CompiledRule] = []
    alternatives: dict[str, Alternative] = {}
    seen: dict[str, str] = {}
    for doc in docs:
        raw_id = doc.data.get("id")
        rule_id = raw_id if isinstance(raw_id, str) else None
        spec = out.validate(doc, RuleFile, rule_id)
        if spec is None:
            continue
        if spec.id in seen:
            out.add(doc, ("id",), spec.id, f"duplicate rule id (also in {seen[spec.id]})")
            continue
        seen[spec.id] = doc.display_name
        before = len(out.problems)
        for loc, message in check_card(spec, values, vocabulary, orders):
            out.add(doc, _loc(loc), spec.id, message)
        try:
            rule_compiled, rule_alternatives = compile_rule(spec, domains, values)
        except ConditionError as exc:
            out.add(doc, _loc(exc.field), spec.id, str(exc))
            continue
        if len(out.problems) > before:
            continue
        indicator = str(resolve_indicator(spec.card.indicator, values))
        rules.append(Rule(spec=spec, file=doc.display_name, indicator=indicator))
        compiled.extend(rule_compiled)
        alternatives.update(rule_alternatives)
    ordered = ordered_by_unless_fired(out, docs, rules, set(seen))
    return ordered or rules, compiled, alternatives


def _check_engine_accepts(out: Collector, doc: YamlDocument, compiled: list[CompiledRule]) -> None:
    """The engine has hard limits (alpha tests per ruleset); find out now, not on the first request."""
    try:
        engine = Engine(compiled, name="rulebook-check")
    except EngineError as exc:
        out.problems.append(
            Problem(out.name(doc.path.parent), None, None, "", f"the engine refuses the rules: {exc}")
        )
    else:
        engine.close()  # a durable ruleset is freed only by close: about 0.4 MB per load or reload
