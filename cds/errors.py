"""The errors this package raises for someone to act on: one family, so a caller catches one thing.

```
CdsError                                  the root; its message is the whole story, no traceback needed
├── InputError(CdsError, ValueError)      FHIR input that cannot be read (cds.errors)
├── EngineError(CdsError)                 a ruleset or facts the engine refuses (cds.errors)
├── RulebookError(CdsError)               rules that do not load, every problem at once (cds.rulebook)
├── SettingsError(CdsError, ValueError)   settings the service cannot start with (cds.service.settings)
├── PidFileError(CdsError, RuntimeError)  the data directory is in use (cds.service.pidfile)
├── StoreUnavailable(CdsError, RuntimeError) the database cannot be reached or used (cds.store)
├── PortInUse(CdsError, OSError)          the address to listen on is taken (cds.service.sockets)
├── BenchError(CdsError)                  the benchmark cannot run as asked (cds.bench.workload)
└── ClusterError(CdsError)                a Dask scheduler that cannot be used (cds.workbench.backtest)
```

Each message names the place at fault: the file, line, key, field or option. An error that lives only
inside one module, turned there into a rule-file problem or an HTTP answer (`TemplateError`,
`PhraseError`, `ServiceError`, ...), is not part of the family: no caller ever sees it.
"""


class CdsError(Exception):
    """Anything spasm-cds refuses for a reason a user can fix."""


class InputError(CdsError, ValueError):
    """Input that cannot be read at all; the message names the place (file, line, column or key)."""


class EngineError(CdsError):
    """A ruleset or a batch of facts that the engine refuses; the message names the rule key or fact id."""
