"""The informaticist's workbench: rule test cases as data, and back-tests of a rule change on a population.

Both evaluate through `cds.evaluation.Evaluator`, the path the service takes. See docs/workbench.md.
"""
