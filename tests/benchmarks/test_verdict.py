"""What ``python -m benchmarks.run`` exits with: 0 unless a row really regressed.

Fed with the full run's numbers from the README (so no benchmark runs here): rows under their targets
PASS, rows the frameworks' own floors cannot meet are FLOOR, ``--quick`` tolerates its own noise, and only
a real regression is FAIL with exit status 1.
"""

from __future__ import annotations

import pytest

from benchmarks.run import LC_FLOOR, LI_FLOOR, RAW, Results, report

MS = 1e-3
LC_FLOOR_CALL, LI_FLOOR_CALL = "BaseChatModel + raw httpx call", "FunctionCallingLLM + raw httpx call"
README_RUN: dict[tuple[str, str], float] = {
    # LangChain, then LlamaIndex: the README's full run (in-process rows in µs per chunk or ms per call).
    ("s2k", f"{RAW}@langchain"): 5.5, ("s2k", LC_FLOOR): 10.9, ("s2k", "ChatOpenAI"): 181.1,
    ("s2k", "ChatAnyFast"): 14.3,
    ("s20k", f"{RAW}@langchain"): 4.6, ("s20k", LC_FLOOR): 35.4, ("s20k", "ChatOpenAI"): 210.4,
    ("s20k", "ChatAnyFast"): 24.3,
    ("nonstream", f"{RAW}@langchain"): 0.6, ("nonstream", "ChatOpenAI"): 2.3, ("nonstream", "ChatAnyFast"): 0.971,
    ("tool", f"{RAW}@langchain"): 3.6, ("tool", "ChatOpenAI"): 92.6, ("tool", "ChatAnyFast"): 28.3,
    ("s2k", f"{RAW}@llama-index"): 5.4, ("s2k", LI_FLOOR): 19.7, ("s2k", "OpenAILike"): 192.5, ("s2k", "AnyFast"): 25.6,
    ("s20k", f"{RAW}@llama-index"): 4.4, ("s20k", LI_FLOOR): 19.8, ("s20k", "OpenAILike"): 189.3,
    ("s20k", "AnyFast"): 25.1,
    ("nonstream", f"{RAW}@llama-index"): 0.7, ("nonstream", "OpenAILike"): 2.2, ("nonstream", "AnyFast"): 0.917,
    ("tool", f"{RAW}@llama-index"): 3.5, ("tool", "OpenAILike"): 75.6, ("tool", "AnyFast"): 16.0,
    # Fresh interpreters (own_import: the contestant's import after its base class, same interpreter) and bursts.
    ("import", RAW): 155.6 * MS, ("first_call", RAW): 210.1 * MS, ("peak_rss_mb", RAW): 32,
    ("import", "BaseChatModel"): 764.6 * MS, ("peak_rss_mb", "BaseChatModel"): 63,
    ("import", "FunctionCallingLLM"): 1565.7 * MS, ("peak_rss_mb", "FunctionCallingLLM"): 101,
    ("first_call", LC_FLOOR_CALL): 907.7 * MS, ("peak_rss_mb", LC_FLOOR_CALL): 71,
    ("first_call", LI_FLOOR_CALL): 1708.6 * MS, ("peak_rss_mb", LI_FLOOR_CALL): 109.5,
    ("import", "ChatOpenAI"): 1651.7 * MS, ("first_call", "ChatOpenAI"): 2181.5 * MS,
    ("peak_rss_mb", "ChatOpenAI"): 112,
    ("import", "ChatAnyFast"): 758.0 * MS, ("own_import", "ChatAnyFast"): 25 * MS,
    ("first_call", "ChatAnyFast"): 887.2 * MS, ("peak_rss_mb", "ChatAnyFast"): 74,
    ("import", "OpenAILike"): 2394.1 * MS, ("first_call", "OpenAILike"): 2928.4 * MS,
    ("peak_rss_mb", "OpenAILike"): 144.7,
    ("import", "AnyFast"): 1636.5 * MS, ("own_import", "AnyFast"): 24 * MS,
    ("first_call", "AnyFast"): 1765.9 * MS, ("peak_rss_mb", "AnyFast"): 111.3,
    ("burst_fresh", RAW): 680.0, ("burst_warm", RAW): 572.2,
    ("burst_fresh", "ChatOpenAI"): 780.5, ("burst_warm", "ChatOpenAI"): 818.6,
    ("burst_fresh", "ChatAnyFast"): 374.7, ("burst_warm", "ChatAnyFast"): 367.7,
    ("burst_fresh", "OpenAILike"): 836.9, ("burst_warm", "OpenAILike"): 4513.9,
    ("burst_fresh", "AnyFast"): 362.7, ("burst_warm", "AnyFast"): 364.7,
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


def test_the_readme_run_exits_0_its_misses_are_at_the_frameworks_floors() -> None:
    text, status = report(results(), quick=False)
    assert status == 0
    assert verdicts(text, "import of the class") == ["FLOOR", "FLOOR"]
    assert verdicts(text, "first call, fresh process") == ["PASS", "FLOOR"]
    assert verdicts(text, "peak RSS, import + 1 call") == ["PASS", "FLOOR"]
    assert verdicts(text, "non-stream call") == ["PASS", "PASS"]
    assert "No regression" in text


def test_an_import_over_the_base_class_by_more_than_its_budget_is_a_regression() -> None:
    # 0.8 raw-httpx imports (124 ms here) over BaseChatModel is the budget; 200 ms over is not on the floor.
    text, status = report(results(own_import__ChatAnyFast=200 * MS), quick=False)
    assert status == 1
    assert verdicts(text, "import of the class") == ["FAIL", "FLOOR"]


def test_a_first_call_over_its_floor_is_a_regression() -> None:
    text, status = report(results(first_call__AnyFast=(1708.6 + 200) * MS), quick=False)
    assert (status, verdicts(text, "first call, fresh process")) == (1, ["PASS", "FAIL"])


def test_memory_over_its_floor_by_more_than_its_allowance_is_a_regression() -> None:
    # The floor (FunctionCallingLLM, then raw httpx's first call) is 0.757x; ours may hold 3.2 MB more.
    text, status = report(results(peak_rss_mb__AnyFast=109.5 + 4), quick=False)
    assert (status, verdicts(text, "peak RSS, import + 1 call")) == (1, ["PASS", "FAIL"])


def test_a_warm_pool_at_raw_httpx_is_at_the_floor_when_the_anchor_had_a_fast_run() -> None:
    fast_anchor = {"burst_warm__ChatOpenAI": 600.0}
    text, status = report(results(**fast_anchor), quick=False)
    assert (status, verdicts(text, "200 async calls, warm pool")) == (0, ["FLOOR", "PASS"])
    text, status = report(results(**fast_anchor, burst_warm__ChatAnyFast=800.0), quick=False)
    assert (status, verdicts(text, "200 async calls, warm pool")) == (1, ["FAIL", "PASS"])


@pytest.mark.parametrize(("quick", "result", "status"), [(True, "NEAR", 0), (False, "FAIL", 1)])
def test_quick_runs_tolerate_their_own_noise_and_full_runs_do_not(quick: bool, result: str, status: int) -> None:
    text, exit_status = report(results(nonstream__ChatAnyFast=0.55 * 2.3), quick=quick)  # 0.55x against 0.50x
    assert (exit_status, verdicts(text, "non-stream call")[0]) == (status, result)
    text, exit_status = report(results(nonstream__ChatAnyFast=0.7 * 2.3), quick=True)  # 0.70x: well past the noise
    assert (exit_status, verdicts(text, "non-stream call")[0]) == (1, "FAIL")


def test_an_anchor_that_is_not_installed_leaves_rows_unjudged_but_ours_missing_fails() -> None:
    no_anchor = {f"{row}__OpenAILike": None for row in ("s2k", "s20k", "nonstream", "tool", "burst_fresh")}
    no_anchor |= {f"{row}__OpenAILike": None for row in ("burst_warm", "import", "first_call", "peak_rss_mb")}
    text, status = report(results(**no_anchor), quick=False)
    assert status == 0
    assert verdicts(text, "streamed tool call") == ["PASS", "n/a"]
    text, status = report(results(tool__AnyFast=None), quick=False)
    assert (status, verdicts(text, "streamed tool call")) == (1, ["PASS", "FAIL"])


def test_a_quick_runs_noisy_import_share_is_near_not_a_regression() -> None:
    # Our own import share past its budget (0.8 raw-httpx imports: 124 ms) but within twice it: a quick run
    # on a loaded machine can measure that; the full run cannot pass it.
    noisy = {"own_import__AnyFast": 229 * MS}
    assert verdicts(report(results(**noisy), quick=True)[0], "import of the class")[1] == "NEAR"
    assert verdicts(report(results(**noisy), quick=False)[0], "import of the class")[1] == "FAIL"
    noisy["own_import__AnyFast"] = 300 * MS  # past twice the budget: a regression even in a quick run
    assert report(results(**noisy), quick=True)[1] == 1
