"""The generated project's ``budgets.yaml`` (SPEC 2.8): budgets and change requests that
show every budget decision of SPEC 5 for the main cycle.

Budgets: ``search-web-search`` changes at the main cycle's start (its previous cycle
keeps the older budget); ``support-ticket-triage`` is set below what its traffic costs
(over budget); ``growth-email-campaigns`` has one that is not in force yet (it starts
with the next cycle). Change requests for the main cycle: three whose packets fail a
pause requirement (unknown retry causes, the unpriced model trial, a workload two owners
reach), one for a workload with no traffic (no packet: paused for the request sample),
and one whose packets pass (ready for review).
"""

from __future__ import annotations

from datetime import timedelta

from tokenreview_pipeline.sample.timeline import Timeline

BUDGETS_NAME = "budgets.yaml"
# Budgets set long before the sample's data starts.
_HISTORY = timedelta(days=42)


def budgets_yaml(timeline: Timeline) -> str:
    previous, main, following = timeline.cycle_starts
    history = (previous - _HISTORY).isoformat()
    main_id = main.isoformat()
    return f"""\
# Budgets (USD per cycle) and budget-change requests for the synthetic sample (SPEC 2.8).
# The budget with the latest `from` on or before a cycle's start applies to that cycle.
budgets:
  - {{workload_tag: search-web-search, budget_usd: "1.50", from: "{history}"}}
  - workload_tag: search-web-search
    budget_usd: "2.00"
    from: "{main_id}"
    description: raised with the answer-synthesis launch
  - {{workload_tag: support-ticket-triage, budget_usd: "0.10", from: "{history}"}}
  - {{workload_tag: support-reply-draft, budget_usd: "1.20", from: "{history}"}}
  - workload_tag: growth-email-campaigns
    budget_usd: "0.05"
    from: "{following.isoformat()}"
    description: first budget of the campaign tooling, from the next cycle on
# Requests decided by the review of the named cycle.
change_requests:
  - workload_tag: search-web-search
    cycle: "{main_id}"
    requested_budget_usd: "3.00"
    requested_by: team-search
    description: answer synthesis moves to gpt-4o for every query
  - {{workload_tag: support-reply-draft, cycle: "{main_id}", requested_budget_usd: "2.00", \
requested_by: team-support}}
  - {{workload_tag: shared-summarizer, cycle: "{main_id}", requested_budget_usd: "0.30", \
requested_by: team-support}}
  - workload_tag: search-image-captions
    cycle: "{main_id}"
    requested_budget_usd: "0.50"
    requested_by: team-search
    description: a new workload, not launched yet
  - {{workload_tag: evals-claude-3-5-haiku-20241022, cycle: "{main_id}", \
requested_budget_usd: "0.05", requested_by: team-ml-eval}}
"""
