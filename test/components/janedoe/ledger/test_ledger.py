"""The ledger against real databases: SQLite files and a throwaway PostgreSQL server, with real concurrency."""

import subprocess
import sys
import textwrap
import threading

import pytest
from janedoe.dp_noise import PrivacyCost
from janedoe.errors import BudgetExceededError, JaneDoeInputError, NotFoundError
from janedoe.ledger import Ledger

BUDGET = 1.0
COST = 0.025  # exactly 40 answers fit


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger_url(request, tmp_path):
    if request.param == "sqlite":
        return str(tmp_path / "ledger.db")
    return request.getfixturevalue("postgres_url")


def test_budget_survives_reopening(ledger_url):
    with Ledger.open(ledger_url) as ledger:
        ledger.set_budget("census", "ana", epsilon=1.0)
        ledger.spend("census", "ana", PrivacyCost(epsilon=0.25), query="count", mechanism="laplace")
    with Ledger.open(ledger_url) as ledger:
        budget = ledger.budget("census", "ana")
        assert (budget.total, budget.spent, budget.remaining) == (1.0, 0.25, 0.75)
        [spend] = ledger.spends()
        assert (spend.dataset, spend.analyst, spend.query, spend.mechanism, spend.charged) == (
            "census",
            "ana",
            "count",
            "laplace",
            0.25,
        )
        assert spend.at.endswith("+00:00")


def test_refusal_spends_nothing(ledger_url):
    with Ledger.open(ledger_url) as ledger:
        ledger.set_budget("d", "a", epsilon=0.5)
        ledger.spend("d", "a", PrivacyCost(epsilon=0.4), query="q1", mechanism="m")
        with pytest.raises(BudgetExceededError):
            ledger.spend("d", "a", PrivacyCost(epsilon=0.2), query="q2", mechanism="m")
        assert ledger.budget("d", "a").spent == pytest.approx(0.4)
        assert [s.query for s in ledger.spends("d", "a")] == ["q1"]
        with pytest.raises(NotFoundError):
            ledger.spend("d", "someone-else", PrivacyCost(epsilon=0.1), query="q", mechanism="m")
        with pytest.raises(NotFoundError):
            ledger.budget("nope", "a")


def test_check_affordable_refuses_as_a_charge_would_and_charges_nothing(ledger_url):
    with Ledger.open(ledger_url) as ledger:
        ledger.set_budget("d", "a", epsilon=0.5)
        ledger.set_budget("d", "pure", epsilon=1.0)
        ledger.spend("d", "a", PrivacyCost(epsilon=0.4), query="q1", mechanism="m")
        ledger.check_affordable("d", "a", PrivacyCost(epsilon=0.1))  # exactly what is left: no error
        with pytest.raises(BudgetExceededError, match="nothing was spent"):
            ledger.check_affordable("d", "a", PrivacyCost(epsilon=0.2))
        with pytest.raises(NotFoundError):
            ledger.check_affordable("d", "someone-else", PrivacyCost(epsilon=0.1))
        with pytest.raises(JaneDoeInputError, match="pure-epsilon"):  # the budget's kind cannot take this cost
            ledger.check_affordable("d", "pure", PrivacyCost(epsilon=0.1, delta=1e-6))
        with pytest.raises(JaneDoeInputError, match="PrivacyCost"):
            ledger.check_affordable("d", "a", 0.1)
        assert [(s.query, s.charged) for s in ledger.spends()] == [("q1", 0.4)]
        assert [b.spent for b in ledger.budgets()] == [pytest.approx(0.4), 0.0]


def test_zcdp_and_approx_budgets(ledger_url):
    with Ledger.open(ledger_url) as ledger:
        ledger.set_budget("d", "z", rho=0.5)
        ledger.spend("d", "z", PrivacyCost(epsilon=0.5), query="count", mechanism="laplace")  # rho 0.125
        ledger.spend("d", "z", PrivacyCost(rho=0.3), query="sum", mechanism="gaussian")
        assert ledger.budget("d", "z").remaining == pytest.approx(0.075)
        with pytest.raises(JaneDoeInputError):
            ledger.spend("d", "z", PrivacyCost(epsilon=0.01, delta=1e-9), query="q", mechanism="m")
        ledger.set_budget("d", "x", epsilon=1.0, delta=1e-6)
        ledger.spend("d", "x", PrivacyCost(epsilon=0.1, delta=1e-6), query="q", mechanism="m")
        with pytest.raises(BudgetExceededError):
            ledger.spend("d", "x", PrivacyCost(epsilon=0.1, delta=1e-7), query="q", mechanism="m")
        assert {b.analyst for b in ledger.budgets("d")} == {"z", "x"}
        assert len(ledger.spends(analyst="z")) == 2


def test_mixed_costs_match_a_simple_reference(ledger_url):
    """Every kind of budget against every kind of cost, checked against a plain-Python model of the rules."""
    budgets = {"pure": {"epsilon": 1.0}, "approx": {"epsilon": 1.0, "delta": 1e-5}, "zcdp": {"rho": 0.2}}
    costs = [
        PrivacyCost(epsilon=0.3),
        PrivacyCost(epsilon=0.2, delta=4e-6),
        PrivacyCost(rho=0.05),
        PrivacyCost(epsilon=0.4, rho=0.08),
        PrivacyCost(epsilon=0.5),
        PrivacyCost(epsilon=0.1, delta=7e-6),
        PrivacyCost(rho=0.2),
    ]

    def reference_outcome(kind, cost, spent, spent_delta, total, total_delta):
        if kind == "zcdp":
            rho = cost.rho if cost.rho is not None else (cost.epsilon**2 / 2 if cost.delta == 0 else None)
            if rho is None:
                return "wrong kind", 0.0, 0.0
            amount, delta = rho, 0.0
        elif cost.epsilon is None or (kind == "pure" and cost.delta > 0):
            return "wrong kind", 0.0, 0.0
        else:
            amount, delta = cost.epsilon, cost.delta
        if spent + amount > total * (1 + 1e-9) or spent_delta + delta > total_delta * (1 + 1e-9):
            return "exceeded", 0.0, 0.0
        return "charged", amount, delta

    with Ledger.open(ledger_url) as ledger:
        for kind, limits in budgets.items():
            ledger.set_budget("mixed", kind, **limits)
            total = limits.get("rho", limits.get("epsilon"))
            total_delta = limits.get("delta", 0.0)
            spent = spent_delta = 0.0
            charged_log = []
            for number, cost in enumerate(costs):
                expected, amount, delta = reference_outcome(kind, cost, spent, spent_delta, total, total_delta)
                try:
                    spend = ledger.spend("mixed", kind, cost, query=f"q{number}", mechanism="m")
                    outcome = "charged"
                    assert (spend.charged, spend.charged_delta) == pytest.approx((amount, delta), rel=1e-12)
                except BudgetExceededError:
                    outcome = "exceeded"
                except JaneDoeInputError:
                    outcome = "wrong kind"
                assert outcome == expected, (kind, number)
                if outcome == "charged":
                    spent, spent_delta = spent + amount, spent_delta + delta
                    charged_log.append(f"q{number}")
            budget = ledger.budget("mixed", kind)
            assert (budget.spent, budget.spent_delta) == pytest.approx((spent, spent_delta), rel=1e-12, abs=1e-15)
            assert [s.query for s in ledger.spends("mixed", kind)] == charged_log
            assert charged_log and len(charged_log) < len(costs)  # each kind both took and refused something


def test_bad_input(tmp_path):
    for bad in ["", "ftp://host/x", str(tmp_path / "missing-dir" / "l.db")]:
        with pytest.raises(JaneDoeInputError):
            Ledger.open(bad)
    with Ledger.open(f"sqlite:///{tmp_path / 'l.db'}") as ledger:
        for kwargs in [{}, {"epsilon": -1.0}, {"epsilon": 1.0, "rho": 1.0}, {"rho": 1.0, "delta": 1e-5}]:
            with pytest.raises(JaneDoeInputError):
                ledger.set_budget("d", "a", **kwargs)
        with pytest.raises(JaneDoeInputError):
            ledger.set_budget("", "a", epsilon=1.0)
        ledger.set_budget("d", "a", epsilon=1.0)
        ledger.spend("d", "a", PrivacyCost(epsilon=0.1), query="q", mechanism="m")
        with pytest.raises(JaneDoeInputError):
            ledger.set_budget("d", "a", rho=1.0)  # kind cannot change after spends
        assert ledger.set_budget("d", "a", epsilon=2.0).remaining == pytest.approx(1.9)


def test_fifty_threads_never_overspend(ledger_url):
    with Ledger.open(ledger_url) as ledger:
        ledger.set_budget("d", "a", epsilon=BUDGET)
        answered, refused, failed = [], [], []

        def worker():
            for _ in range(2):
                try:
                    ledger.spend("d", "a", PrivacyCost(epsilon=COST), query="count", mechanism="laplace")
                    answered.append(1)
                except BudgetExceededError:
                    refused.append(1)
                except Exception as error:  # noqa: BLE001  (recorded, then asserted empty)
                    failed.append(repr(error))

        threads = [threading.Thread(target=worker) for _ in range(50)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert failed == []
        assert len(answered) == round(BUDGET / COST) and len(refused) == 100 - len(answered)
        budget = ledger.budget("d", "a")
        assert budget.spent <= BUDGET * (1 + 1e-9)
        assert len(ledger.spends("d", "a")) == len(answered)
        assert sum(s.charged for s in ledger.spends("d", "a")) == pytest.approx(budget.spent)


WORKER = textwrap.dedent(
    """
    import sys, threading
    from janedoe.dp_noise import PrivacyCost
    from janedoe.errors import BudgetExceededError
    from janedoe.ledger import Ledger
    ledger = Ledger.open(sys.argv[1])
    answered = []
    def work():
        for _ in range(3):
            try:
                ledger.spend("d", "a", PrivacyCost(epsilon=float(sys.argv[2])), query="count", mechanism="laplace")
                answered.append(1)
            except BudgetExceededError:
                pass
    threads = [threading.Thread(target=work) for _ in range(5)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    print(len(answered))
    """
)


def test_four_processes_never_overspend(ledger_url):
    with Ledger.open(ledger_url) as ledger:
        ledger.set_budget("d", "a", epsilon=BUDGET)
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, ledger_url, str(COST)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(4)
    ]
    results = [process.communicate(timeout=120) for process in processes]
    assert all(process.returncode == 0 for process in processes), [err.decode()[-500:] for _, err in results]
    answered = sum(int(out) for out, _ in results)
    assert answered == round(BUDGET / COST)  # 60 attempts, exactly 40 fit
    with Ledger.open(ledger_url) as ledger:
        assert ledger.budget("d", "a").spent <= BUDGET * (1 + 1e-9)
        assert len(ledger.spends("d", "a")) == answered


def test_charge_returns_the_budget_exactly_as_that_charge_left_it(ledger_url):
    """Concurrent charges each see their own after-state: the spent amounts they report are all different, and
    ordered by spend id they rise by exactly one cost each time, ending at what the ledger holds."""
    with Ledger.open(ledger_url) as ledger:
        ledger.set_budget("d", "a", epsilon=BUDGET)
        spend, after = ledger.charge("d", "a", PrivacyCost(epsilon=COST), query="first", mechanism="laplace")
        assert after == ledger.budget("d", "a") and after.spent == pytest.approx(COST) and spend.charged == COST
        reports, lock = [], threading.Lock()

        def worker():
            for _ in range(3):
                try:
                    report = ledger.charge("d", "a", PrivacyCost(epsilon=COST), query="q", mechanism="laplace")
                except BudgetExceededError:
                    continue
                with lock:
                    reports.append(report)

        threads = [threading.Thread(target=worker) for _ in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        reports.sort(key=lambda report: report[0].id)
        spent = [after.spent for _, after in reports]
        assert len(reports) == round(BUDGET / COST) - 1
        assert all(b - a == pytest.approx(COST) for a, b in zip([COST, *spent], spent, strict=False))
        assert spent[-1] == pytest.approx(ledger.budget("d", "a").spent)
        assert {after.kind for _, after in reports} == {"pure"} and {after.total for _, after in reports} == {BUDGET}
