"""`make test` hands out the files of long tests first (tests/conftest.py, `_long_files_first`)."""

from types import SimpleNamespace

import pytest

from tests.conftest import _long_files_first, pytest_collection_modifyitems


class Item:
    def __init__(self, nodeid: str, long_running: bool = False):
        self.nodeid = nodeid
        self.long_running = long_running

    def get_closest_marker(self, name: str):
        return pytest.mark.long_running if name == "long_running" and self.long_running else None

    def add_marker(self, marker) -> None:
        if marker.name == "long_running":
            self.long_running = True
        if marker.name == "e2e":
            self.e2e = True


def test_long_files_go_first_most_long_tests_first_then_most_tests_first_each_file_kept_in_order():
    items = [
        Item("tests/test_a.py::one"),
        Item("tests/test_b.py::one"),
        Item("tests/test_b.py::two"),
        Item("tests/test_b.py::three"),
        Item("tests/e2e/test_flow.py::whole", long_running=True),
        Item("tests/test_a.py::two"),
        Item("tests/test_machine.py::paths", long_running=True),
        Item("tests/test_machine.py::quick"),
        Item("tests/test_fuzzed.py::first", long_running=True),
        Item("tests/test_fuzzed.py::second", long_running=True),
    ]

    _long_files_first(items)

    assert [item.nodeid for item in items] == [
        "tests/test_fuzzed.py::first",
        "tests/test_fuzzed.py::second",
        # One long test each: the file with more tests first.
        "tests/test_machine.py::paths",
        "tests/test_machine.py::quick",
        "tests/e2e/test_flow.py::whole",
        "tests/test_b.py::one",
        "tests/test_b.py::two",
        "tests/test_b.py::three",
        "tests/test_a.py::one",
        "tests/test_a.py::two",
    ]


def test_browser_tests_are_long_running_and_the_order_changes_only_in_a_parallel_run():
    def collected():
        return [Item("tests/test_a.py::one"), Item("tests/e2e/test_flow.py::whole")]

    one_process = collected()
    pytest_collection_modifyitems(SimpleNamespace(), one_process)
    assert [item.nodeid for item in one_process] == ["tests/test_a.py::one", "tests/e2e/test_flow.py::whole"]
    assert one_process[1].long_running and not one_process[0].long_running
    assert getattr(one_process[1], "e2e", False) and not getattr(one_process[0], "e2e", False)

    in_a_worker = collected()
    pytest_collection_modifyitems(SimpleNamespace(workerinput={"workerid": "gw0"}), in_a_worker)
    assert [item.nodeid for item in in_a_worker] == ["tests/e2e/test_flow.py::whole", "tests/test_a.py::one"]
