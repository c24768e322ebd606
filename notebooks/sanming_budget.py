# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# (sanming-budget)=
# # The global-budget rules, simulated
#
# Sanming's integrated payment (IMPM) changed *how the coalition's budget is set and what
# happens to what is left of it*. This page turns the two rules described by Zhong et al.
# (2023, Table 1) into year-by-year accounts and shows the incentive each creates. The rules are
# in `payreform.budget`; every number below is computed from the parameters in the next cell.
#
# The amounts are **illustrative**: a county of about 360,000 people (Youxi's size, Table 2 of
# Zhong et al.) whose coalition spends about 300 million RMB a year of insurance money. The
# per-capita premium, the withheld share and the growth rates are our assumptions; change them
# in the parameters cell, or give a CSV of your own (`year`, `spending`, and for the IMPM rule
# `population` and `premium`).

# %% tags=["parameters"]
data = None  # CSV with year, spending (and population, premium); None means the illustrative county
seed = 0  # not used: the simulation is deterministic (kept for the common notebook interface)
output_dir = "reports/sanming-budget"
first_year = 2018
years = 6
first_year_spending = 300.0  # million RMB of insured spending in the first year
spending_growth = 0.08  # yearly growth of spending without any saving effort
population = 362_000  # county population (Zhong et al. 2023, Table 2, 2018: 36.2 x 10,000)
premium_per_person = 900.0  # RMB per person in the first year (assumed)
premium_growth = 0.07  # yearly growth of the per-capita premium (assumed)
withheld_share = 0.05  # withheld by the insurer for private hospitals and risk adjustment (assumed)
staff_share = 0.16  # share of the balance for staff performance pay (16% in 2018)
other_budget_growth = 0.06  # other regions: budget = last year's spending x (1 + this)
other_overspending_borne = 0.5  # other regions: share of over-spending the coalition pays (assumed)
saving_year = 2  # for the ratchet: the year in which the coalition saves
saving = 0.10  # the share of spending saved that year

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import display
from myst_nb import glue

from payreform import budget, plots, report
from payreform.io import read_table

plots.set_theme()
parameters = {k: globals()[k] for k in ("data", "seed", "output_dir", "first_year", "years", "first_year_spending",
                                        "spending_growth", "population", "premium_per_person", "premium_growth",
                                        "withheld_share", "staff_share", "other_budget_growth",
                                        "other_overspending_borne", "saving_year", "saving")}

# %% [markdown]
# ## 1. The two rules
#
# | | Sanming IMPM | other regions |
# |---|---|---|
# | budget | population × per-capita premium, minus withholdings | last year's spending × (1 + growth) |
# | over-spending | borne by the coalition | shared with the insurer |
# | balance | kept if the assessment is passed; a share to staff pay, the rest to cooperation and health promotion | institutional development only |

# %%
if data is None:
    year_labels = list(range(first_year, first_year + years))
    spending = budget.spending_path(first_year_spending * 1e6, years, spending_growth)
    people = np.full(years, float(population))
    premium = premium_per_person * (1 + premium_growth) ** np.arange(years)
else:
    inputs = read_table(data).frame
    year_labels = inputs["year"].astype(int).tolist()
    spending = inputs["spending"].astype(float).to_numpy()
    people = inputs["population"].astype(float).to_numpy() if "population" in inputs else np.full(len(spending), float(population))
    premium = inputs["premium"].astype(float).to_numpy() if "premium" in inputs else np.full(len(spending), premium_per_person)
impm = budget.impm_rule(withheld_share=withheld_share, staff_share_of_balance=staff_share)
other = budget.last_year_rule(budget_growth=other_budget_growth,
                              overspending_borne_by_coalition=other_overspending_borne)
accounts = budget.compare_rules(spending, [impm, other], years=year_labels, population=people, premium=premium)
for rule in (impm, other):
    budget.simulate_budget(spending, rule, years=year_labels, population=people, premium=premium).check()
shown = accounts[["rule", "year", "budget", "spending", "balance", "overspending", "insurer_pays", "coalition_bears",
                  "staff_pay", "other_uses"]].copy()
shown[shown.columns[2:]] = shown[shown.columns[2:]] / 1e6
display(shown.style.format(precision=1).hide(axis="index"))

# %% [markdown]
# Amounts in million RMB. Every row satisfies budget = spending + balance − over-spending and
# insurer pays + coalition bears = spending (checked above).

# %%
fig = plots.budget_figure(accounts.assign(**{c: accounts[c] / 1e6 for c in ("budget", "spending", "staff_pay",
                                                                            "other_uses", "coalition_bears")}),
                          unit="million RMB")
plots.save(fig, output_dir, "budget_rules")
plt.show()

# %% [markdown]
# ## 2. The ratchet: what happens when the coalition saves?
#
# Suppose the coalition avoids a share of its spending in one year, for example by treating
# more patients in primary care. Under the population rule its next budgets do not change and
# the saving becomes a balance, part of which is paid to staff. Under the last-year rule the
# saving lowers next year's budget.

# %%
ratchets = pd.concat([budget.ratchet(rule, first_year_spending=spending[0], years=len(spending), growth=spending_growth,
                                     saving_year=saving_year, saving=saving, **extra)
                      for rule, extra in ((impm, {"population": people, "premium": premium}), (other, {}))],
                     ignore_index=True)
ratchets["year"] = ratchets["year"] + year_labels[0] - 1
display((ratchets.set_index(["rule", "year"])[["budget_change", "balance_change", "staff_pay_change"]] / 1e6)
        .style.format(precision=2))
fig = plots.ratchet_figure(ratchets.assign(budget_change=ratchets["budget_change"] / 1e6),
                           saving_year=year_labels[0] + saving_year - 1)
plots.save(fig, output_dir, "ratchet")
plt.show()
lost = -ratchets.loc[(ratchets["rule"] == other.name) & (ratchets["year"] > year_labels[0] + saving_year - 1),
                     "budget_change"].sum()
staff_gain = ratchets.loc[ratchets["rule"] == impm.name, "staff_pay_change"].sum()
glue("budget_ratchet_loss_m", float(lost / 1e6), display=False)
glue("budget_staff_gain_m", float(staff_gain / 1e6), display=False)
glue("budget_saving_m", float(saving * spending[saving_year - 1] / 1e6), display=False)

# %% [markdown]
# Under the last-year rule, a saving in one year costs the coalition next year's budget (and
# every later budget, if the lower spending persists); under the population rule, the same
# saving turns into a balance and staff pay. This is the
# mechanism Zhong et al. describe: where budgets follow last year's spending, coalitions keep
# spending up to protect next year's budget.

# %%
path = report.write_results(output_dir, chapter="sanming-budget", parameters=parameters,
                            data={"source": "illustrative" if data is None else str(data), "rows": len(spending)},
                            estimates=pd.DataFrame(columns=list(report.ESTIMATE_FIELDS)),
                            diagnostics={"accounts": accounts.to_dict(orient="records"),
                                         "ratchet": ratchets.to_dict(orient="records")})
print(f"wrote {path}")

# %% [markdown] tags=["book-only"]
# ## Exercises
#
# ````{exercise} A year of over-spending
# :label: budget-ex-overspend
#
# Set `spending_growth = 0.15` and rerun. In which years does the coalition over-spend under
# each rule, and who pays how much? Why do the two rules treat the same over-spending
# differently?
# ````
#
# ````{solution} budget-ex-overspend
# :class: dropdown
#
# With spending growing faster than the premium, the population budget is exceeded after a few
# years: under IMPM the whole excess is the coalition's (`coalition_bears`), so the insurer's
# outlay is capped at the budget. Under the last-year rule the budget follows spending with a
# year's delay and the excess is split, so the coalition bears only half of a smaller gap. The
# first rule transfers the risk of rising costs to the coalition; the second keeps most of it
# with the fund.
# ````
#
# ````{exercise} No staff share
# :label: budget-ex-share
#
# Set `staff_share = 0` and then `staff_share = 1`. What changes in the accounts, and what in
# the incentive? Which value would you recommend, and what could go wrong with 1?
# ````
#
# ````{solution} budget-ex-share
# :class: dropdown
#
# The totals do not change: only how a retained balance is split between staff pay and the
# other uses (`staff_pay + other_uses = retained_balance` in every year). With 0 the staff have
# no direct stake in a saving; with 1 every yuan saved goes to pay, a strong incentive to cut
# care, including necessary care. Sanming's 16% and the assessment that decides whether the
# balance is kept (quality, health management) are meant to balance the two.
# ````
#
# ````{exercise} The ratchet in numbers
# :label: budget-ex-ratchet
#
# With `saving = 0.10` in year 2, how much budget does the coalition lose over the following
# years under the last-year rule, compared with the saving itself? How does the loss change
# with `other_budget_growth`, and what if the lower spending persists?
# ````
#
# ````{solution} budget-ex-ratchet
# :class: dropdown
#
# The saving lowers the next year's budget by saving × spending × (1 + growth); later budgets
# follow actual spending, which in this scenario returns to its path, so only one budget is
# affected and the loss is the saving grown by one year of budget growth (a higher growth rate
# makes it slightly larger). A coalition whose lower spending persists loses budget in every
# later year: try `budget.simulate_budget(budget.spending_path(..., savings=[0, 0.1, 0.1, ...]),
# other)`. Under IMPM the same persistent saving is a balance every year.
# ````
