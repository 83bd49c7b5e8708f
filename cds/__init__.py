"""Clinical decision support for muscle spasms: FHIR in, explained CDS Hooks cards out."""

__version__ = "0.1.0"
