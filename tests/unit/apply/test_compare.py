import pytest

from engine.apply.compare import DifferenceTracker, compare


@pytest.mark.parametrize("desired,live,mode,dt,want", [
    (1, 1, "strict", "value", True),
    (1, 2, "strict", "value", False),
    (1, 2, "ignore", "value", True),
    (None, [], "strict", "list", True),
    ([], None, "strict", "set", True),
    (["a", "b"], ["b", "a"], "strict", "list", False),
    (["a", "b"], ["b", "a"], "strict", "set", True),
    (["a"], ["a", "b"], "strict", "set", False),
    (["a"], ["a", "b"], "allow_more_present", "set", True),
    (["c"], ["a", "b"], "allow_more_present", "set", False),
    ({"a": "1"}, {"a": "1", "b": "2"}, "allow_more_present", "dict", True),
    ({"a": "1"}, {"a": "1", "b": "2"}, "strict", "dict", False),
    ({"a": "2"}, {"a": "1"}, "allow_more_present", "dict", False),
    ([{"x": 1}], [{"x": 1}, {"y": 2}], "allow_more_present", "set", True),
])
def test_compare(desired, live, mode, dt, want):
    assert compare(desired, live, mode, dt) is want


def test_difference_tracker():
    d = DifferenceTracker()
    assert not d
    d.add("memory", 1, 2)
    d.add("env", {"a": "1"}, {"a": "2"})
    assert d and "memory" in d and d.names == ["memory", "env"]
    assert d.as_diff() == {"before": {"memory": 1, "env": {"a": "1"}}, "after": {"memory": 2, "env": {"a": "2"}}}
