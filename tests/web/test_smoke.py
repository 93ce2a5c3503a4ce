from __future__ import annotations


def test_pages_render_for_a_county_clerk(browser, scene):
    b = browser("k_clerk")
    for url in ["/staff/", "/staff/balances", "/staff/idle", "/staff/transfers",
                f"/staff/rolls/{scene.own['roll']}", "/staff/rolls", "/staff/record/pay",
                "/staff/record/allocate", "/staff/record/fund-project", "/staff/rolls/new",
                "/staff/import"]:
        r = b.get(url)
        assert r.status_code == 200, (url, r.get_data(as_text=True)[:2000])
