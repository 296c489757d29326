"""``budgets.yaml`` (SPEC 2.8): the loader's models, exact amounts, and every config
error named by file, entry, key and line; a bad file stops ``tokenreview run`` (exit 2)
before any data is read."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from scenario import CYCLE, attempt, ts, write_scenario

from tokenreview_pipeline.budgets import Budget, BudgetPlan, ChangeRequest, load_budgets
from tokenreview_pipeline.cli import main
from tokenreview_pipeline.config import load_config, load_review_inputs
from tokenreview_pipeline.errors import ConfigError


def budgets_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "budgets.yaml"
    path.write_text(text, encoding="utf-8")
    return path


VALID = """\
# budgets of the search team
budgets:
  - {workload_tag: search-web, budget_usd: 250.1, from: "2026-10-05"}
  - workload_tag: search-web
    budget_usd: "300.000000000000000001"
    from: 2026-11-16
    description: raised for the holiday season
  - {workload_tag: ops, budget_usd: 0, from: "2026-11-17"}
change_requests:
  - {workload_tag: search-web, cycle: "2026-11-23", requested_budget_usd: 400,
     requested_by: team-search}
  - {workload_tag: ops, cycle: 2026-11-23, requested_budget_usd: 1e-7, requested_by: " team-ops "}
"""


def test_valid_file_gives_exact_amounts_in_file_order(tmp_path):
    plan = load_budgets(budgets_file(tmp_path, VALID), "weekly")
    assert plan == BudgetPlan(
        budgets=(
            Budget("search-web", Decimal("250.1"), date(2026, 10, 5), 0),
            Budget(
                "search-web",
                Decimal("300.000000000000000001"),
                date(2026, 11, 16),
                1,
                "raised for the holiday season",
            ),
            Budget("ops", Decimal("0"), date(2026, 11, 17), 2),
        ),
        change_requests=(
            ChangeRequest("search-web", "2026-11-23", Decimal("400"), "team-search", 0),
            ChangeRequest("ops", "2026-11-23", Decimal("1E-7"), "team-ops", 1),
        ),
    )
    # A YAML float is read through its shortest decimal text, never its binary value.
    assert plan.budgets[0].budget_usd == Decimal("250.1")


@pytest.mark.parametrize("text", ["", "# nothing yet\n", "budgets:\nchange_requests:\n"])
def test_empty_file_has_no_budgets_and_no_requests(tmp_path, text):
    assert load_budgets(budgets_file(tmp_path, text), "weekly") == BudgetPlan()


def test_no_budgets_file_configured_is_an_empty_plan():
    assert load_budgets(None, "weekly") == BudgetPlan()


@pytest.mark.parametrize(
    ("text", "cadence", "key", "message"),
    [
        (
            "budgets:\n"
            "  - {workload_tag: a, budget_usd: 1, from: '2026-11-16'}\n"
            "  - {workload_tag: b, budget_usd: 1, from: '2026-11-16'}\n"
            "  - {workload_tag: a, budget_usd: 2, from: '2026-11-16'}\n",
            "weekly",
            "budgets[2] (workload_tag=a).from",
            "a second budget of workload 'a' from 2026-11-16 (the first is budgets[0]); one "
            "budget per workload and date (line 4)",
        ),
        (
            "change_requests:\n"
            "  - {workload_tag: a, cycle: '2026-11-16', requested_budget_usd: 1, "
            "requested_by: x}\n"
            "  - {workload_tag: a, cycle: '2026-11-23', requested_budget_usd: 1, "
            "requested_by: x}\n"
            "  - {workload_tag: a, cycle: '2026-11-16', requested_budget_usd: 2, "
            "requested_by: y}\n",
            "weekly",
            "change_requests[2] (workload_tag=a).cycle",
            "a second change request of workload 'a' for cycle 2026-11-16 (the first is "
            "change_requests[0]); one request per workload and cycle (line 4)",
        ),
        (
            "change_requests:\n"
            "  - workload_tag: a\n"
            "    cycle: '2026-11-18'\n"
            "    requested_budget_usd: 1\n"
            "    requested_by: x\n",
            "weekly",
            "change_requests[0] (workload_tag=a).cycle",
            "cycle 2026-11-18 is not a weekly cycle start (a Monday); the nearest cycle start "
            "is 2026-11-16 (line 3)",
        ),
        (
            "change_requests:\n"
            "  - {workload_tag: a, cycle: '2026-11-16', requested_budget_usd: 1, "
            "requested_by: x}\n",
            "monthly",
            "change_requests[0] (workload_tag=a).cycle",
            "cycle 2026-11-16 is not a monthly cycle start (the first day of a month); the "
            "nearest cycle start is 2026-11-01 (line 2)",
        ),
        (
            "budgets:\n  - {workload_tag: a, budget_usd: -1, from: '2026-11-16'}\n",
            "weekly",
            "budgets[0] (workload_tag=a).budget_usd",
            "expected an amount of USD >= 0, got -1 (a negative number) (line 2)",
        ),
        (
            "budgets:\n  - {workload_tag: a, budget_usd: true, from: '2026-11-16'}\n",
            "weekly",
            "budgets[0] (workload_tag=a).budget_usd",
            "expected an amount of USD (a number), got a boolean (line 2)",
        ),
        (
            "budgets:\n  - {workload_tag: a, budget_usd: '12,5', from: '2026-11-16'}\n",
            "weekly",
            "budgets[0] (workload_tag=a).budget_usd",
            "expected an amount of USD >= 0, got '12,5' (not a decimal number) (line 2)",
        ),
        (
            "budgets:\n  - {workload_tag: a, budget_usd: .inf, from: '2026-11-16'}\n",
            "weekly",
            "budgets[0] (workload_tag=a).budget_usd",
            "expected an amount of USD >= 0, got inf (not a finite number) (line 2)",
        ),
        (
            "budgets:\n  - {workload_tag: a, budget_usd: 1000000000000000, from: '2026-11-16'}\n",
            "weekly",
            "budgets[0] (workload_tag=a).budget_usd",
            "expected an amount of USD below 1,000,000,000,000,000, got a huge integer (line 2)",
        ),
        (
            "budgets:\n  - {workload_tag: a, budget_usd: 2.5e15, from: '2026-11-16'}\n",
            "weekly",
            "budgets[0] (workload_tag=a).budget_usd",
            "expected an amount of USD >= 0, got '2.5e15' (not below "
            "1,000,000,000,000,000) (line 2)",
        ),
        (
            "budgets:\n  - {workload_tag: a, budget_usd: '0.0000000000000000001', from: "
            "'2026-11-16'}\n",
            "weekly",
            "budgets[0] (workload_tag=a).budget_usd",
            "expected an amount of USD >= 0, got '0.0000000000000000001' (more than 18 decimal "
            "places) (line 2)",
        ),
        (
            "budgets:\n  - {workload_tag: a, budget_usd: 1, from: '16.11.2026'}\n",
            "weekly",
            "budgets[0] (workload_tag=a).from",
            "expected a date YYYY-MM-DD, got '16.11.2026' (line 2)",
        ),
        (
            "budgets:\n  - {workload_tag: a, budget_usd: 1}\n",
            "weekly",
            "budgets[0] (workload_tag=a).from",
            "required (line 2)",
        ),
        (
            "budgets:\n  - {workload_tag: '  ', budget_usd: 1, from: '2026-11-16'}\n",
            "weekly",
            "budgets[0].workload_tag",
            "expected a non-empty string, got a string (line 2)",
        ),
        (
            "budgets:\n  - {workload_tag: a, budget: 1, from: '2026-11-16'}\n",
            "weekly",
            "budgets[0] (workload_tag=a).budget",
            "unknown budget key; allowed: workload_tag, budget_usd, from, description (line 2)",
        ),
        (
            "change_requests:\n"
            "  - {workload_tag: a, cycle: '2026-11-16', requested_budget_usd: 1}\n",
            "weekly",
            "change_requests[0] (workload_tag=a).requested_by",
            "required (line 2)",
        ),
        (
            "budget:\n  - {workload_tag: a}\n",
            "weekly",
            "budget",
            "unknown top-level key; allowed: budgets, change_requests (line 1)",
        ),
        ("- a\n- b\n", "weekly", "(document)", "expected a mapping, got a list"),
    ],
)
def test_config_errors_name_file_entry_key_and_line(tmp_path, text, cadence, key, message):
    path = budgets_file(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_budgets(path, cadence)
    assert (err.value.file, err.value.key, err.value.message) == (str(path), key, message)


def test_same_from_for_two_workloads_and_same_cycle_for_two_workloads_are_fine(tmp_path):
    text = (
        "budgets:\n"
        "  - {workload_tag: a, budget_usd: 1, from: '2026-11-16'}\n"
        "  - {workload_tag: b, budget_usd: 1, from: '2026-11-16'}\n"
        "  - {workload_tag: a, budget_usd: 2, from: '2026-11-17'}\n"
        "change_requests:\n"
        "  - {workload_tag: a, cycle: '2026-11-16', requested_budget_usd: 1, "
        "requested_by: x}\n"
        "  - {workload_tag: b, cycle: '2026-11-16', requested_budget_usd: 1, "
        "requested_by: x}\n"
    )
    plan = load_budgets(budgets_file(tmp_path, text), "weekly")
    assert len(plan.budgets) == 3 and len(plan.change_requests) == 2


def test_yaml_errors_and_duplicate_keys_name_the_file(tmp_path):
    path = budgets_file(tmp_path, "budgets:\n  - {workload_tag: a, workload_tag: b}\n")
    with pytest.raises(ConfigError) as err:
        load_budgets(path, "weekly")
    assert err.value.key == "(file)" and "duplicate key 'workload_tag'" in err.value.message


def test_load_review_inputs_validates_budgets_for_the_configured_cadence(tmp_path):
    bad_for_weekly = (
        "change_requests:\n"
        "  - {workload_tag: a, cycle: '2026-12-01', requested_budget_usd: 1, "
        "requested_by: x}\n"
    )
    cfg = write_scenario(
        tmp_path, [], extra_config={"cadence": "monthly", "budgets": "budgets.yaml"}
    )
    budgets_file(tmp_path, bad_for_weekly)
    inputs = load_review_inputs(load_config(cfg))
    assert [r.cycle_id for r in inputs.budgets.change_requests] == ["2026-12-01"]

    weekly = write_scenario(tmp_path, [], extra_config={"budgets": "budgets.yaml"})
    with pytest.raises(ConfigError) as err:
        load_review_inputs(load_config(weekly))
    assert err.value.key == "change_requests[0] (workload_tag=a).cycle"
    assert "not a weekly cycle start" in err.value.message


def test_run_with_a_bad_budgets_file_exits_2_before_reading_data(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    cfg = write_scenario(
        tmp_path, [attempt("a1", ts(60))], extra_config={"budgets": "budgets.yaml"}
    )
    budgets_file(
        tmp_path,
        "budgets:\n"
        "  - {workload_tag: a, budget_usd: 1, from: '2026-11-16'}\n"
        "  - {workload_tag: a, budget_usd: 2, from: '2026-11-16'}\n",
    )
    db = tmp_path / "ledger.db"
    argv = ["run", "--config", str(cfg), "--cycle", CYCLE, "--database-url", f"sqlite:///{db}"]
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert f"{tmp_path.resolve() / 'budgets.yaml'}: budgets[1] (workload_tag=a).from:" in (
        captured.err
    )
    assert "(line 3)" in captured.err
    assert captured.out == ""
    assert not db.exists()  # the ledger was never touched
    assert not (tmp_path / "home").exists()  # no Dagster run started
