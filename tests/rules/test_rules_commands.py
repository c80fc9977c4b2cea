import json

import pytest


@pytest.fixture
def shop(cli):
    assert cli("init", "--currency", "GBP", "--region", "GB").exit_code == 0
    return cli


def member(cli, phone="07700 900123"):
    return cli("member", "add", "--name", "Ann Lee", "--phone", phone).stdout.strip()


def test_rules_set_and_show_unchanged(shop):
    result = shop("rules", "set", "--earn-rate", "2", "--exclude-sku", "post")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[1:] == [
        "earn_rate=2",
        "excluded_skus=POST",
        "minimum_spend=0",
        "point_value=0.01",
        "currency=GBP",
    ]
    assert shop("rules", "tier", "add", "Silver", "--threshold", "100").exit_code == 0
    shown = shop("rules", "show")
    assert "earn_rate=2" in shown.stdout


def test_each_edit_is_a_new_version(shop):
    first = shop("rules", "reward", "add", "COFFEE", "--name", "Free coffee",
                 "--kind", "free_item", "--cost", "150", "--value", "2.50",
                 "--sku", "COF1")  # fmt: skip
    second = shop("rules", "bonus", "add", "Weekend", "--multiplier", "2",
                  "--days", "sat,sun", "--start", "09:00")  # fmt: skip
    v1 = int(first.stdout.split("=")[1])
    v2 = int(second.stdout.split("=")[1])
    assert v2 == v1 + 1
    listing = shop("rules", "list")
    document = json.loads(listing.stdout.split("\n", 1)[1])
    assert document["rewards"][0]["value_minor"] == 250
    assert document["bonus_periods"][0]["weekdays"] == [5, 6]
    assert document["bonus_periods"][0]["start_time"] == "09:00:00"
    removed = shop("rules", "reward", "remove", "coffee")
    assert removed.exit_code == 0
    missing = shop("rules", "reward", "remove", "coffee")
    assert missing.exit_code == 1
    assert "no rewards item 'coffee'" in missing.stderr


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        pytest.param(("rules", "bonus", "add", "X", "--multiplier", "2", "--days",
                      "funday"), "invalid weekday 'funday'", id="weekday"),
        pytest.param(("rules", "bonus", "add", "X", "--multiplier", "two"),
                     "invalid bonus multiplier 'two'", id="multiplier"),
        pytest.param(("rules", "redemption", "set", "--max-share", "0"),
                     "invalid maximum basket share 0", id="share"),
        pytest.param(("rules", "reward", "add", "T", "--name", "T", "--kind",
                      "percent_off", "--cost", "10", "--percent", "120"),
                     "invalid percentage 120", id="percent"),
        pytest.param(("rules", "tier", "add", "Gold", "--threshold", "lots"),
                     "invalid --threshold 'lots'", id="threshold"),
        pytest.param(("rules", "earning", "set", "--multiply", "A1"),
                     "write CODE=FACTOR", id="factor"),
    ],
)  # fmt: skip
def test_invalid_edits_rejected_in_one_line(shop, args, fragment):
    before = shop("rules", "list").stdout
    result = shop(*args)
    assert result.exit_code == 2
    assert fragment in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert shop("rules", "list").stdout == before


def test_explain_command(shop):
    card = member(shop)
    shop("rules", "tier", "add", "Base", "--threshold", "0", "--multiplier", "1.5")
    sale = shop("sale", "--member", card, "--amount", "9.99")
    sale_id = sale.stdout.split()[0].split("=")[1]
    result = shop("explain", sale_id)
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert any(line.startswith("tier Base") and line.endswith("x1.5") for line in lines)
    assert any(line.endswith("14.985") for line in lines)
    assert any(line.startswith("rounded toward zero") and line.endswith("14")
               for line in lines)  # fmt: skip
    assert "warning" not in result.stdout
    unknown = shop("explain", "nope")
    assert unknown.exit_code == 1


def test_economics_warns_with_thresholds(shop):
    result = shop("rules", "economics")
    assert "reward_rate_per_100=1.00" in result.stdout
    assert "warning" not in result.stdout
    raised = shop("rules", "economics", "--low-rate", "2")
    assert "low_rate=2" in raised.stdout
    assert "warning: reward rate 1.00 per 100.00 is below the low threshold 2" in (
        raised.stdout
    )
    shop("rules", "set", "--earn-rate", "10")
    high = shop("rules", "economics")
    assert "reward_rate_per_100=10.00" in high.stdout
    assert "above the high threshold 5.00" in high.stdout


def test_economics_liability_at_reward_cost(shop):
    card = member(shop)
    shop("sale", "--member", card, "--amount", "300.00")
    shop("rules", "reward", "add", "COFFEE", "--name", "Free coffee", "--kind",
         "free_item", "--cost", "100", "--value", "2.50", "--sku", "COF1",
         "--shop-cost", "1.50")  # fmt: skip
    result = shop("rules", "economics")
    assert "outstanding_points=300" in result.stdout
    assert "liability=4.50" in result.stdout
    # The member gets 2.50 per 100 points, so 25.00 spent gives back 0.625.
    assert "reward_rate_per_100=2.50" in result.stdout


def test_member_status_and_rewards_commands(shop):
    card = member(shop)
    shop("rules", "reward", "add", "FIVER", "--name", "5 off", "--kind",
         "amount_off", "--cost", "50", "--value", "5.00")  # fmt: skip
    shop("sale", "--member", card, "--amount", "30.00")
    listed = shop("reward", "list", "--member", card)
    assert "next FIVER 50 5 off: 20 points to go" in listed.stdout
    shop("sale", "--member", card, "--amount", "30.00")
    taken = shop("reward", "take", "FIVER", "--member", card)
    assert taken.stdout.strip() == "points=-50 balance=10"
    status = shop("member", "status", card)
    assert "balance=10 pending=0" in status.stdout
    assert "next_reward=FIVER to_go=40" in status.stdout


def test_sale_with_reward_and_no_earn(shop):
    card = member(shop)
    shop("rules", "reward", "add", "FIVER", "--name", "5 off", "--kind",
         "amount_off", "--cost", "50", "--value", "5.00")  # fmt: skip
    shop("sale", "--member", card, "--amount", "60.00")
    with_reward = shop(
        "sale", "--member", card, "--amount", "20.00", "--reward", "FIVER"
    )
    assert with_reward.exit_code == 0, with_reward.stderr
    # 60 earned, 50 spent on the reward, 15 earned on the 15.00 paid in money.
    assert with_reward.stdout.strip().endswith("points=15 balance=25")
    no_earn = shop("sale", "--member", card, "--amount", "20.00", "--no-earn")
    assert no_earn.stdout.strip().endswith("points=0 balance=25")
    unknown = shop("sale", "--member", card, "--amount", "20.00", "--reward", "TEA")
    assert unknown.exit_code == 1
    assert "TEA" in unknown.stderr


def test_receipt_shows_loyalty_block(shop):
    card = member(shop)
    shop("rules", "reward", "add", "FIVER", "--name", "5 off", "--kind",
         "amount_off", "--cost", "50", "--value", "5.00")  # fmt: skip
    sale = shop("sale", "--member", card, "--amount", "30.00")
    sale_id = sale.stdout.split()[0].split("=")[1]
    shown = shop("receipt", "show", sale_id, "--format", "text")
    assert shown.exit_code == 0, shown.stderr
    lines = [line.strip() for line in shown.stdout.splitlines()]
    assert "Loyalty" in lines
    next_reward = [line for line in lines if line.startswith("Next: 5 off")]
    assert next_reward
    assert next_reward[0].endswith("20 points to go")
    assert lines.index("Loyalty") < lines.index(next_reward[0])

    assert shop("rules", "reward", "remove", "FIVER").exit_code == 0
    without = shop("receipt", "show", sale_id, "--format", "text")
    assert "Loyalty" not in [line.strip() for line in without.stdout.splitlines()]
