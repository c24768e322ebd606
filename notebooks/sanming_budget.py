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

# %% [markdown] tags=["book-voice"]
# (sanming-budget)=
# # The global-budget rules, simulated
#
# Sanming's integrated payment (IMPM) changed *how the coalition's budget is set and what
# happens to what is left of it*. This page turns the two rules described by
# {cite:t}`zhong2023sanming` (Table 1) into year-by-year accounts and shows the incentive each
# creates. The rules are in `payreform.budget`; every number below is computed from the
# parameters and the data.
#
# By default the page runs on an **illustrative** county of 362,000 people (Youxi's resident
# population in 2018, {cite:t}`zhong2023sanming`, Table 2) whose coalition spends about 300
# million RMB a year of insurance money. The per-capita premium, the withheld share, the growth
# rates and the rule of other regions' details are our assumptions; the settings table marks
# them. To apply the rules to a coalition's own yearly figures, see
# {doc}`../book/running_on_your_data`.

# %% tags=["parameters"]
data = None  # yearly CSV, Excel or Parquet file; None means the book's illustrative county
sheet = None  # Excel only: the sheet to read; None means the first
language = "en"  # "en" or "zh": language of report.docx, tables.xlsx and figure labels
seed = 0  # not used: the rules are deterministic (kept for the common notebook interface)
output_dir = "reports/sanming-budget"  # results.json, tables/ and figures/ go here
year_column = "year"
spending_column = "spending"
population_column = None  # None: the column `population` if the data have one
premium_column = None  # None: the column `premium` if the data have one
budget_column = None  # the population budget itself, instead of population and premium
assessment_column = None  # column with 1 (passed) or 0 (failed); None: passed every year
spending_unit = None  # RMB per unit of spending; None: read from the column name (the book's: million)
population_unit = None  # persons per unit of population; None: read from the column name
first_year = None  # the book's county only: first year
years = None  # the book's county only: number of years
first_year_spending = None  # the book's county only: million RMB in the first year
spending_growth = None  # the book's county only: yearly growth of spending
population = None  # persons, if the data have no population column
premium_per_person = None  # RMB per person, if the data have no premium column
premium_growth = None  # the book's county only: yearly growth of the premium
withheld_share = 0.05  # withheld by the insurer for private hospitals and risk adjustment (assumed)
staff_share = 0.16  # share of the balance for staff performance pay (16% in 2018)
other_budget_growth = 0.06  # other regions: growth applied to last year's spending (assumed)
other_overspending_borne = 0.5  # other regions: share of over-spending the coalition pays (assumed)
other_population_weight = 0.5  # other regions: weight of the population budget (assumed)
saving_year = None  # the year in which the coalition saves; None: the second year
saving = 0.10  # the share of spending saved that year
prepared_input = None  # set by `payreform run`: the input it has already read and checked

# %%
# %matplotlib inline
import os

import pandas as pd
from IPython.display import Markdown, display
from myst_nb import glue

from payreform import plots
from payreform.chapters import sanming_budget as chapter
from payreform.deliverables import label_tables

plots.set_theme()
pd.set_option("display.width", 120)
language = os.environ.get("PAYREFORM_BOOK_LANGUAGE", language)  # set by the Chinese edition's build
label_tables(language)  # table headers shown in this language
result = chapter.run(chapter.prepare(data, chapter.CHAPTER.collect(globals())))
for key, value in result.glue_values().items():
    glue(key, value, display=False)


def show(name: str) -> None:
    """Draw a figure of the result, save it as figures/<name>.png and show that file."""
    display(plots.saved_image(plots.save(result.draw(name), output_dir, name, close=True)))


# %% [markdown]
# ## Summary of this run
#
# What was computed, in sentences chosen by the numbers. The sections below show each step.

# %%
display(Markdown(result.data_line() + "\n\n" + result.summary()))
if result.warnings():
    display(Markdown("**Warnings**\n\n" + "\n".join(f"- {w}" for w in result.warnings())))
display(result.settings_table().style.hide(axis="index"))

# %% [markdown]
# ## 1. The two rules
#
# | | Sanming's IMPM | other regions |
# |---|---|---|
# | budget | population × per-capita premium, minus what the insurer withholds | a mix of the population budget and last year's spending × (1 + growth) |
# | over-spending | borne by the coalition | shared with the insurer |
# | balance | kept if the assessment is passed; a share to staff pay, the rest to cooperation and health promotion | institutional development only |
#
# The rule of other regions is described only in words: the budget is set "according to
# population and medical insurance expenditure in previous years". The weight of each part,
# the growth rate and the sharing of over-spending are not published and are settings here.
# Some regions also let the insurer recover a balance; that is not modelled, and would make
# saving still less attractive there.

# %% [markdown]
# ## 2. The data and their contract
#
# One row per year, consecutive years, spending of zero or more, and a population and a
# per-capita premium (or the population budget itself) for every year. The population budget is
# population × premium, converted into the unit of the spending column.

# %%
display(result.inputs.table().style.format(precision=2).hide(axis="index"))

# %% [markdown]
# ## 3. The accounts, year by year
#
# Every row satisfies budget = spending + balance − over-spending and insurer pays + coalition
# bears = spending (checked when the accounts are computed). A balance is retained if the
# coalition passed that year's assessment; otherwise it returns to the fund.

# %%
display(result.accounts_shown().style.format(precision=2).hide(axis="index"))
show("budget_rules")

# %% [markdown]
# ## 4. What a saving is worth: the ratchet and the whole account
#
# Suppose the coalition avoids a share of its spending in one year, for example by treating
# more patients in primary care, while every other year's spending stays as it is. Under the
# population rule its later budgets do not change and the saving becomes a balance. Under a
# rule that follows last year's spending the saving lowers next year's budget: the ratchet.
# The ratchet is only part of the account, though: the saving also leaves a balance in the year
# it is made, and a lower budget next year means more over-spending, of which the coalition
# bears only its share. The tables add up the whole account.

# %%
changes = [c for c in result.ratchets.columns if c.endswith("_change")]
display(result.ratchets[["rule", "year", *changes]].style.format(precision=2).hide(axis="index"))
show("ratchet")
display(result.account_shown().style.format(precision=2))
show("saving_account")
display(Markdown(result.saving_sentence()))

# %% [markdown] tags=["book-voice"]
# In the illustrative county a saving of {glue:text}`budget_saving:.1f` million RMB in
# {glue:text}`budget_saving_year:d` lowers the next budgets under the rule of other regions by
# {glue:text}`budget_ratchet_loss:.1f` million, but it also leaves a retained balance of
# {glue:text}`budget_other_retained_balance_change:.1f` million, and the coalition bears only part
# of the extra over-spending ({glue:text}`budget_other_coalition_bears_change:.1f` million): net,
# it gains {glue:text}`budget_other_net_change:.1f` million, against
# {glue:text}`budget_impm_net_change:.1f` million under IMPM. Where a region also recovers
# balances, or where the lower spending persists so that every later budget is cut, the reward
# for saving under the other rule shrinks further (see the exercises).

# %% [markdown]
# ## 5. Results file
#
# Everything above is written to `results.json`: the accounts (as "estimates" with the rule as
# model, the amount as outcome and the year as term; they are accounting results, so standard
# errors are empty), the ratchet and the whole account, with the tables as CSV files.

# %%
path = result.write(output_dir, figures=False)
print(f"wrote {path.name}: {len(result.accounts)} account rows, {len(result.figure_names())} figures")

# %% [markdown] tags=["book-only"]
# ## Exercises
#
# ````{exercise} A year of over-spending
# :label: budget-ex-overspend
#
# Let spending grow by 15% a year instead of 8%. In which years does the coalition over-spend
# under each rule, and who pays how much? Why do the two rules treat the same over-spending
# differently?
# ````
#
# ````{solution-start} budget-ex-overspend
# :class: dropdown
# ````

# %% tags=["book-only"]
fast = chapter.run(chapter.prepare(None, {"spending_growth": 0.15}))
display(fast.accounts_shown().query("overspending > 0")[["rule", "year", "budget", "spending", "overspending",
                                                         "coalition_bears", "insurer_pays"]]
        .style.format(precision=1).hide(axis="index"))

# %% [markdown] tags=["book-only"]
# With spending growing faster than the premium, the population budget is exceeded after a few
# years: under IMPM the whole excess is the coalition's (`coalition_bears`), so the insurer's
# outlay is capped at the budget. Under the other rule the budget partly follows spending with a
# year's delay and the excess is shared, so the coalition bears only part of a smaller gap. The
# first rule transfers the risk of rising costs to the coalition; the second keeps much of it
# with the fund.
#
# ````{solution-end}
# ````
#
# ````{exercise} No staff share
# :label: budget-ex-share
#
# Set `staff_share = 0` and then `staff_share = 1`. What changes in the accounts, and what in
# the incentive? Which value would you recommend, and what could go wrong with 1?
# ````
#
# ````{solution-start} budget-ex-share
# :class: dropdown
# ````

# %% tags=["book-only"]
shares = {share: chapter.run(chapter.prepare(None, {"staff_share": share})).accounts.query("rule == 'Sanming IMPM'")
          for share in (0.0, 1.0)}
display(pd.DataFrame({f"staff pay, share {k:g}": v.set_index("year")["staff_pay"] for k, v in shares.items()}
                     | {"retained balance": shares[0.0].set_index("year")["retained_balance"]}).round(2))

# %% [markdown] tags=["book-only"]
# The totals do not change: only how a retained balance is split between staff pay and the
# other uses (`staff_pay + other_uses = retained_balance` in every year). With 0 the staff have
# no direct stake in a saving; with 1 every yuan saved goes to pay, a strong incentive to cut
# care, including necessary care. Sanming's 16% and the assessment that decides whether the
# balance is kept (quality, health management) are meant to balance the two.
#
# ````{solution-end}
# ````
#
# ````{exercise} A pure last-year rule, and a saving that lasts
# :label: budget-ex-ratchet
#
# Set `other_population_weight = 0`, so that the other rule's budget follows last year's
# spending alone. How large is the ratchet now, and what is the coalition's net gain from the
# saving? Then let the saving persist: how does the whole account change when spending stays
# 10% lower in every year from the saving year on?
# ````
#
# ````{solution-start} budget-ex-ratchet
# :class: dropdown
# ````

# %% tags=["book-only"]
pure = chapter.run(chapter.prepare(None, {"other_population_weight": 0.0}))
display(pure.account_shown().style.format(precision=2))
display(Markdown(pure.saving_sentence()))
lasting = chapter.lasting_saving(pure)
display(lasting.style.format(precision=2).hide(axis="index"))
display(Markdown(chapter.lasting_text(pure, lasting)))

# %% [markdown] tags=["book-only"]
# ````{solution-end}
# ````
