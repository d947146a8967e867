"""The soak's fault schedule (schedule.py): every kind at least once, in the fixed order."""

import pytest

from .schedule import ORDER, plan


@pytest.mark.parametrize("soak_s", [60, 120, 600, 1800, 3600])
def test_every_fault_happens_in_order_inside_the_run(soak_s):
    p = plan(soak_s)
    names = [name for _, name in p.starts]
    assert set(names) == set(ORDER)
    assert names == [ORDER[i % len(ORDER)] for i in range(len(names))]
    assert p.starts[0][0] == p.warmup_s
    assert p.starts[-1][0] + p.spacing_s <= soak_s - p.tail_s + 1e-6


def test_a_long_run_has_a_fault_every_two_minutes():
    p = plan(1800)
    assert len(p.starts) == 14 and p.spacing_s == pytest.approx(120)
    assert p.burst_s == 20


def test_a_short_run_compresses_the_gaps():
    p = plan(120)
    assert len(p.starts) == 8 and 10 < p.spacing_s < 15


def test_too_short_a_run_is_refused():
    with pytest.raises(ValueError):
        plan(30)
