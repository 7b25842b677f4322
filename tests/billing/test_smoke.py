from datetime import date

from asr_billing.billing.run import billing_run
from tests.billing.conftest import D, assert_chain, at, balance, charges


def test_spread_three_days(make_subscriber, make_tariff):
    tariff = make_tariff("310.00")
    with at(date(2026, 3, 1)):
        sub = make_subscriber(tariff=tariff, connected_on=date(2026, 3, 1))
        run = billing_run()
    assert run.charges_made == 1
    with at(date(2026, 3, 3)):
        run = billing_run()
    assert run.first_date == date(2026, 3, 2)
    assert charges(sub) == [
        (date(2026, 3, 1), date(2026, 3, 1), D("-10.00")),
        (date(2026, 3, 2), date(2026, 3, 2), D("-10.00")),
        (date(2026, 3, 3), date(2026, 3, 3), D("-10.00")),
    ]
    assert balance(sub) == D("-30.00")
    assert_chain(sub.pk)
