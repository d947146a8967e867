"""Long-running reliability checks: ``make soak`` (``python -m tests.reliability.soak``).

- soak.py: the run: processes (deploy/launch.py), client processes, faults, verdict
- schedule.py: which fault when; faults.py: how each fault is done
- crowd.py: one client process; page.py: a client that behaves as the page does
- views.py: what a client saw, checked against the streams; stored.py: the streams
  against every post made; resources.py: memory and open files, and their bounds
- timeline.py: per-second counts and latency histograms; report.py: the artifacts
- test_*.py: fast tests of the checks and the schedule (part of ``make test``)
"""
