"""The index's expanded groups are part of its URL (issue 16): a copied link reopens them expanded."""
from __future__ import annotations

from test_site_groups import GROUP_ROWS, groups_site  # noqa: F401 (groups_site is a fixture)
from test_site_links import cold_page

IN_GROUP = "#runs-table tbody tr.in-group td.name"


def test_an_expanded_group_reopens_expanded_from_its_link(page, groups_site):
    page.goto(groups_site["file"] + "index.html#groupby=config.optimizer")
    page.wait_for_function(f"document.querySelectorAll('{GROUP_ROWS}').length === 2")
    page.get_by_role("button", name="optimizer: sgd").click()
    page.wait_for_function("location.hash.includes('open=')")

    other = cold_page(page)
    other.goto(page.url)
    other.wait_for_function(f"document.querySelectorAll('{GROUP_ROWS}').length === 2")
    assert other.get_by_role("button", name="optimizer: sgd").get_attribute("aria-expanded") == "true"
    assert other.get_by_role("button", name="optimizer: adam").get_attribute("aria-expanded") == "false"
    assert sorted(other.locator(IN_GROUP).all_inner_texts()) == [f"sgd-{seed}" for seed in range(5)]

    other.get_by_role("button", name="optimizer: sgd").click()  # collapsed: the key leaves the URL
    other.wait_for_function("!location.hash.includes('open=')")
    assert other.locator(IN_GROUP).count() == 0
    assert page.errors == [] and other.errors == []


def test_a_hand_edited_open_list_opens_only_its_group_keys(page, groups_site):
    page.goto(groups_site["file"] + 'index.html#groupby=config.optimizer&open=%5B%22sgd%22%5D,not-json,%5B%5D')
    page.wait_for_function(f"document.querySelectorAll('{GROUP_ROWS}').length === 2")
    assert page.get_by_role("button", name="optimizer: sgd").get_attribute("aria-expanded") == "true"
    assert page.get_by_role("button", name="optimizer: adam").get_attribute("aria-expanded") == "false"
    assert page.errors == []
