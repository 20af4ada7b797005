"""Unit: the DAG file is checked statically with `ast`, so the tests need no Airflow install."""
import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DAG_FILE = ROOT / "dags" / "daily_orders.py"


def calls(tree, name):
    return [node for node in ast.walk(tree)
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == name]


def keywords(call):
    return {kw.arg: kw.value for kw in call.keywords}


def declared_tasks():
    """Task names under `tasks:` in .slipway.yml (two-space indented keys; no YAML library)."""
    text = (ROOT / ".slipway.yml").read_text()
    block = text.split("\ntasks:\n", 1)[1]
    return set(re.findall(r"^  ([A-Za-z0-9_-]+):", block, flags=re.MULTILINE))


def test_the_dag_file_parses_and_declares_one_dag():
    tree = ast.parse(DAG_FILE.read_text(), filename=str(DAG_FILE))
    dags = calls(tree, "DAG")
    assert len(dags) == 1
    args = keywords(dags[0])
    assert ast.literal_eval(args["dag_id"]) == "daily_orders"
    assert len(ast.literal_eval(args["schedule"]).split()) == 5, "a five-field cron expression"
    assert ast.literal_eval(args["catchup"]) is False, "no backfill of every day since start_date"
    assert "start_date" in args


def test_tasks_have_unique_ids_and_trigger_declared_slipway_tasks():
    tree = ast.parse(DAG_FILE.read_text())
    operators = calls(tree, "BashOperator")
    assert operators, "the DAG has no task"
    ids = [ast.literal_eval(keywords(op)["task_id"]) for op in operators]
    assert len(ids) == len(set(ids)), f"duplicate task ids: {ids}"
    for op in operators:
        command = ast.literal_eval(keywords(op)["bash_command"])
        match = re.match(r"slipway task run ([A-Za-z0-9_-]+)", command)
        assert match, f"unexpected command {command!r}"
        assert match.group(1) in declared_tasks(), \
            f"{match.group(1)!r} is not under tasks: in .slipway.yml ({sorted(declared_tasks())})"


def test_only_airflow_and_the_standard_library_are_imported():
    # Airflow workers import DAG files; our own packages are not installed there.
    tree = ast.parse(DAG_FILE.read_text())
    modules = {alias.name.split(".")[0] for node in ast.walk(tree)
               if isinstance(node, ast.Import) for alias in node.names}
    modules |= {node.module.split(".")[0] for node in ast.walk(tree)
                if isinstance(node, ast.ImportFrom)}
    assert modules <= {"airflow", "datetime", "pendulum"}, modules
