"""Shadow mode: candidate rules evaluated on live calls after each answer is sent, never shown.

`cds serve --shadow-rules DIR` evaluates every sampled hook call a second time with the candidate
rules, in a child process (`candidate`), from a bounded queue (`cds.service.background`), and keeps
one record per call in the store (`runner`). `cds shadow report` reads the records back (`report`,
`page`): what the candidate would change on today's real calls, and what clinicians did with the
cards it would remove.
"""
