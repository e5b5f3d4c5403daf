"""What ``python -m benchmarks.run`` exits with: 0 unless a row really regressed.

Fed with the full run's numbers from the README (so no benchmark runs here): rows under their targets
PASS, rows the frameworks' own floors cannot meet are FLOOR, ``--quick`` tolerates its own noise, and only
a real regression is FAIL with exit status 1.
"""

from __future__ import annotations

import pytest

from benchmarks.run import LC_FLOOR, LI_FLOOR, RAW, Results, report

MS = 1e-3
README_RUN: dict[tuple[str, str], float] = {
    # LangChain, then LlamaIndex: the README's full run (in-process rows per chunk or per call).
    ("s2k", f"{RAW}@langchain"): 2.9, ("s2k", LC_FLOOR): 6.2, ("s2k", "ChatOpenAI"): 75.7, ("s2k", "ChatAnyFast"): 7.6,
    ("s20k", f"{RAW}@langchain"): 2.5, ("s20k", LC_FLOOR): 26.4, ("s20k", "ChatOpenAI"): 94.5,
    ("s20k", "ChatAnyFast"): 16.1,
    ("nonstream", f"{RAW}@langchain"): 0.3, ("nonstream", "ChatOpenAI"): 1.0, ("nonstream", "ChatAnyFast"): 0.4,
    ("tool", f"{RAW}@langchain"): 2.0, ("tool", "ChatOpenAI"): 38.5, ("tool", "ChatAnyFast"): 12.0,
    ("s2k", f"{RAW}@llama-index"): 3.0, ("s2k", LI_FLOOR): 9.1, ("s2k", "OpenAILike"): 76.7, ("s2k", "AnyFast"): 10.6,
    ("s20k", f"{RAW}@llama-index"): 2.5, ("s20k", LI_FLOOR): 8.9, ("s20k", "OpenAILike"): 76.3,
    ("s20k", "AnyFast"): 10.1,
    ("nonstream", f"{RAW}@llama-index"): 0.3, ("nonstream", "OpenAILike"): 1.0, ("nonstream", "AnyFast"): 0.4,
    ("tool", f"{RAW}@llama-index"): 2.0, ("tool", "OpenAILike"): 31.6, ("tool", "AnyFast"): 6.8,
    # Fresh interpreters and bursts, shared raw httpx.
    ("import", RAW): 74.8 * MS, ("first_call", RAW): 105.3 * MS, ("peak_rss_mb", RAW): 32,
    ("import", "BaseChatModel"): 371.3 * MS, ("peak_rss_mb", "BaseChatModel"): 62,
    ("import", "FunctionCallingLLM"): 840.1 * MS, ("peak_rss_mb", "FunctionCallingLLM"): 101,
    ("first_call", "BaseChatModel + raw httpx call"): 476.6 * MS, ("peak_rss_mb", "BaseChatModel + raw httpx call"): 66,
    ("first_call", "FunctionCallingLLM + raw httpx call"): 945.4 * MS,
    ("peak_rss_mb", "FunctionCallingLLM + raw httpx call"): 105,
    ("import", "ChatOpenAI"): 766.6 * MS, ("first_call", "ChatOpenAI"): 1051.4 * MS, ("peak_rss_mb", "ChatOpenAI"): 111,
    ("import", "ChatAnyFast"): 373.6 * MS, ("first_call", "ChatAnyFast"): 414.9 * MS,
    ("peak_rss_mb", "ChatAnyFast"): 68,
    ("import", "OpenAILike"): 1259.0 * MS, ("first_call", "OpenAILike"): 1567.1 * MS,
    ("peak_rss_mb", "OpenAILike"): 145,
    ("import", "AnyFast"): 856.5 * MS, ("first_call", "AnyFast"): 894.5 * MS, ("peak_rss_mb", "AnyFast"): 106,
    ("burst_fresh", RAW): 322.0, ("burst_warm", RAW): 270.2,
    ("burst_fresh", "ChatOpenAI"): 362.8, ("burst_warm", "ChatOpenAI"): 371.9,
    ("burst_fresh", "ChatAnyFast"): 167.7, ("burst_warm", "ChatAnyFast"): 161.6,
    ("burst_fresh", "OpenAILike"): 388.3, ("burst_warm", "OpenAILike"): 2259.1,
    ("burst_fresh", "AnyFast"): 161.8, ("burst_warm", "AnyFast"): 158.9,
}  # fmt: skip


def results(**changes: float | None) -> Results:
    """The README's run with ``row__name=value`` changes (``None`` removes a measurement)."""
    medians = dict(README_RUN)
    for key, value in changes.items():
        row, name = key.split("__")
        if value is None:
            medians.pop((row, name))
        else:
            medians[(row, name)] = value
    return Results(medians=medians)


def verdicts(text: str, label: str) -> list[str]:
    """The result column of the rows called ``label`` (LangChain's first, then LlamaIndex's)."""
    return [line.rsplit("|", 2)[-2].strip() for line in text.splitlines() if line.startswith(f"| {label} |")]


def test_the_readme_run_exits_0_its_three_misses_are_at_the_frameworks_floors() -> None:
    text, status = report(results(), quick=False)
    assert status == 0
    assert verdicts(text, "import of the class") == ["FLOOR", "FLOOR"]
    assert verdicts(text, "first call, fresh process") == ["PASS", "FLOOR"]
    assert verdicts(text, "non-stream call") == ["PASS", "PASS"]
    assert "No regression" in text


def test_an_import_over_the_base_class_by_more_than_its_budget_is_a_regression() -> None:
    # 0.8 raw-httpx imports (60 ms here) over BaseChatModel is the budget; 100 ms over is not on the floor.
    text, status = report(results(import__ChatAnyFast=(371.3 + 100) * MS), quick=False)
    assert status == 1
    assert verdicts(text, "import of the class") == ["FAIL", "FLOOR"]


def test_a_first_call_over_its_floor_is_a_regression() -> None:
    text, status = report(results(first_call__AnyFast=1100 * MS), quick=False)
    assert (status, verdicts(text, "first call, fresh process")) == (1, ["PASS", "FAIL"])


def test_a_warm_pool_at_raw_httpx_is_at_the_floor_when_the_anchor_had_a_fast_run() -> None:
    text, status = report(results(burst_warm__ChatOpenAI=250.0), quick=False)
    assert (status, verdicts(text, "200 async calls, warm pool")) == (0, ["FLOOR", "PASS"])
    text, status = report(results(burst_warm__ChatOpenAI=250.0, burst_warm__ChatAnyFast=400.0), quick=False)
    assert (status, verdicts(text, "200 async calls, warm pool")) == (1, ["FAIL", "PASS"])


@pytest.mark.parametrize(("quick", "result", "status"), [(True, "NEAR", 0), (False, "FAIL", 1)])
def test_quick_runs_tolerate_their_own_noise_and_full_runs_do_not(quick: bool, result: str, status: int) -> None:
    text, exit_status = report(results(nonstream__ChatAnyFast=0.55), quick=quick)  # 0.55x against 0.50x
    assert (exit_status, verdicts(text, "non-stream call")[0]) == (status, result)
    text, exit_status = report(results(nonstream__ChatAnyFast=0.7), quick=True)  # 0.70x: well past the noise
    assert (exit_status, verdicts(text, "non-stream call")[0]) == (1, "FAIL")


def test_an_anchor_that_is_not_installed_leaves_rows_unjudged_but_ours_missing_fails() -> None:
    no_anchor = {f"{row}__OpenAILike": None for row in ("s2k", "s20k", "nonstream", "tool", "burst_fresh")}
    no_anchor |= {f"{row}__OpenAILike": None for row in ("burst_warm", "import", "first_call", "peak_rss_mb")}
    text, status = report(results(**no_anchor), quick=False)
    assert status == 0
    assert verdicts(text, "streamed tool call") == ["PASS", "n/a"]
    text, status = report(results(tool__AnyFast=None), quick=False)
    assert (status, verdicts(text, "streamed tool call")) == (1, ["PASS", "FAIL"])


def test_a_quick_runs_noisy_import_is_near_not_a_regression() -> None:
    # A quick run on a loaded machine (three fresh interpreters each): AnyFast's import 229 ms over its base
    # class against a 130 ms budget (0.8 raw-httpx imports), which the same import varies by from run to run.
    quick_run = {
        "import__RAW": 162.8 * MS,
        "import__FunctionCallingLLM": 1589.5 * MS,
        "import__OpenAILike": 2648.5 * MS,
        "import__AnyFast": 1818.3 * MS,
    }
    changes = {key.replace("RAW", RAW): value for key, value in quick_run.items()}
    assert verdicts(report(results(**changes), quick=True)[0], "import of the class")[1] == "NEAR"
    assert verdicts(report(results(**changes), quick=False)[0], "import of the class")[1] == "FAIL"
    changes["import__AnyFast"] = (1589.5 + 300) * MS  # past twice the budget: a regression even in a quick run
    assert report(results(**changes), quick=True)[1] == 1
