"""The web in a real headless browser (Debian's chromium through chromedriver): sign in by link,
open the overview and an agreement's page at 390 px (LINE's in-app browser) and 1280 px, check
what is shown against the database, and keep screenshots under tests/artifacts/."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.serving import make_server

from handlers.agreement_facts import gather
from storage.db import transaction
from storage.models import Agreement
from tests.conftest import TODAY, TOKYO
from tests.support import say
from tests.web_support import add_secretariat, login_url, path_of

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
ARTIFACTS = Path(__file__).parent / "artifacts"
WIDTHS = (390, 1280)

pytestmark = pytest.mark.skipif(
    not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()),
    reason="chromium and chromium-driver are not installed (apt-get install chromium "
    "chromium-driver; .ci/run installs them)",
)


@pytest.fixture
def served(demo: Flask) -> Iterator[str]:
    """The app on a random 127.0.0.1 port, in a thread, for the browser."""
    server = make_server("127.0.0.1", 0, demo, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-dev-shm-usage",
        "--lang=ja-JP",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def _viewport(driver: Any, width: int, height: int = 900) -> None:
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600},
    )


def _screenshot(driver: Any, name: str, width: int) -> Path:
    """The whole page: the viewport stretched to the document's height for the shot."""
    height = int(driver.execute_script("return document.documentElement.scrollHeight"))
    _viewport(driver, width, min(max(height, 600), 6000))
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}-{width}.png"
    driver.save_screenshot(str(path))
    _viewport(driver, width)
    return path


def _sign_in(driver: Any, app: Flask, base: str, contact: str, next_path: str = "/") -> None:
    from selenium.webdriver.common.by import By

    driver.delete_all_cookies()
    driver.get(base + path_of(login_url(app, contact, next_path=next_path)))
    driver.find_element(By.ID, "sign-in").click()
    _wait_for(driver, "header nav .who")


def _wait_for(driver: Any, css: str) -> Any:
    """The element once the page that has it is loaded (a form post navigates)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, 10).until(
        expected_conditions.presence_of_element_located((By.CSS_SELECTOR, css))
    )


def _no_sideways_scroll(driver: Any, width: int) -> None:
    scroll = driver.execute_script("return document.documentElement.scrollWidth")
    assert scroll <= width, f"the page is {scroll}px wide at {width}px"


@pytest.mark.parametrize("width", WIDTHS)
def test_overview_in_the_browser(demo: Flask, served: str, browser: Any, width: int) -> None:
    from selenium.webdriver.common.by import By

    add_secretariat(demo)
    say(demo, "tanaka", "活動 11/20 防災訓練 参加者45名")
    _viewport(browser, width)
    _sign_in(browser, demo, served, "jimukyoku")
    assert browser.current_url == served + "/"
    assert "協定一覧" in browser.find_element(By.TAG_NAME, "h1").text
    rows = browser.find_elements(By.CSS_SELECTOR, "table.overview tbody tr")
    keys = [r.get_attribute("data-key") for r in rows]
    with transaction(demo.extensions["renkei"].sessions) as session:
        a = session.scalar(select(Agreement).where(Agreement.key == "minato-acme"))
        assert a is not None
        facts = gather(session, a, today=TODAY, now_tz=TOKYO)
    assert "minato-acme" in keys and "sakura-hikari" not in keys
    row = rows[keys.index("minato-acme")]
    assert row.is_displayed()
    assert "5日前" in row.text
    assert facts.notice is not None and f"あと{(facts.notice - TODAY).days}日" in row.text
    assert "事務局 花子（事務局）" in browser.find_element(By.CSS_SELECTOR, ".who").text
    _no_sideways_scroll(browser, width)
    assert _screenshot(browser, "overview", width).stat().st_size > 10_000

    # Filtering by a word keeps only that agreement.
    box = browser.find_element(By.NAME, "q")
    box.send_keys("アクメ")
    box.submit()
    _wait_for(browser, "input[name=q][value=アクメ]")
    shown = [
        r.get_attribute("data-key")
        for r in browser.find_elements(By.CSS_SELECTOR, "table.overview tbody tr")
    ]
    assert shown == ["minato-acme"]


@pytest.mark.parametrize("width", WIDTHS)
def test_agreement_page_in_the_browser(demo: Flask, served: str, browser: Any, width: int) -> None:
    from selenium.webdriver.common.by import By

    say(demo, "tanaka", "活動 11/20 防災訓練 参加者45名 メモ:雨天のため体育館")
    say(demo, "tanaka", "タスク 12/5 協定書案送付")
    _viewport(browser, width)
    _sign_in(browser, demo, served, "tanaka", "/agreements/minato-acme")
    assert browser.current_url == served + "/agreements/minato-acme"
    with transaction(demo.extensions["renkei"].sessions) as session:
        a = session.scalar(select(Agreement).where(Agreement.key == "minato-acme"))
        assert a is not None
        facts = gather(session, a, today=TODAY, now_tz=TOKYO)
    cards = browser.find_elements(By.CSS_SELECTOR, ".card.kpi")
    assert [c.get_attribute("data-kpi") for c in cards] == [p.kpi.key for p in facts.progress]
    for card, p in zip(cards, facts.progress, strict=True):
        assert p.kpi.name in card.text
        if p.ratio is not None:
            assert card.find_element(By.CSS_SELECTOR, ".ratio").text == f"{round(p.ratio * 100)}%"
    charts = browser.find_elements(By.CSS_SELECTOR, "svg.chart polyline")
    assert charts and all(c.size["width"] > 100 for c in charts)  # drawn, not collapsed
    timeline = browser.find_element(By.CSS_SELECTOR, "ol.timeline").text
    assert "防災訓練" in timeline and "雨天のため体育館" in timeline
    assert "協定書案送付" in browser.find_element(By.ID, "tasks").text
    contacts = browser.find_element(By.ID, "contacts").text
    assert "田中 花子" in contacts and "佐藤 健太" in contacts
    _no_sideways_scroll(browser, width)

    # Mark the activity as 成功事例 with the page's own form (its CSRF token and all).
    browser.find_element(By.CSS_SELECTOR, "ol.timeline button.link").click()
    badge = _wait_for(browser, "ol.timeline li.success .badge")
    assert badge.text == "成功事例"
    assert _screenshot(browser, "agreement", width).stat().st_size > 10_000

    # Printed as the 推進会議 handout: buttons and forms are left out, the content stays.
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        assert not browser.find_element(By.CSS_SELECTOR, "p.actions").is_displayed()
        assert not browser.find_element(By.CSS_SELECTOR, "header.top nav").is_displayed()
        assert browser.find_element(By.ID, "kpis").is_displayed()
        _screenshot(browser, "agreement-print", width)
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})


@pytest.mark.parametrize("width", WIDTHS)
def test_secretariat_adds_a_task_in_the_browser(
    demo: Flask, served: str, browser: Any, width: int
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    from storage.models import ActionItem

    add_secretariat(demo)
    _viewport(browser, width)
    _sign_in(browser, demo, served, "jimukyoku", "/manage/agreements/minato-acme")
    form = browser.find_element(By.ID, "new-task")
    form.find_element(By.NAME, "title").send_keys("推進会議の資料準備")
    # Typing into a date input follows the browser's locale; the picker's value is ISO.
    browser.execute_script(
        "arguments[0].value = '2027-01-15'", form.find_element(By.NAME, "due_on")
    )
    Select(form.find_element(By.NAME, "owner")).select_by_visible_text("佐藤 健太")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    flash = _wait_for(browser, ".flash")
    assert "推進会議の資料準備" in flash.text
    with transaction(demo.extensions["renkei"].sessions) as session:
        task = session.scalar(select(ActionItem).where(ActionItem.title == "推進会議の資料準備"))
        assert task is not None and task.owner_id is not None
        due = task.due_on
    assert due.year == 2027 and due.month == 1 and due.day == 15
    _no_sideways_scroll(browser, width)
    _screenshot(browser, "manage", width)


def test_secretariat_creates_an_agreement_in_the_browser(
    demo: Flask, served: str, browser: Any
) -> None:
    """「新しい協定」 at desktop width: an existing partner, our new contact, no YAML."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    width = 1280
    add_secretariat(demo)
    _viewport(browser, width)
    _sign_in(browser, demo, served, "jimukyoku", "/manage")
    browser.find_element(By.ID, "new-agreement-link").click()
    form = _wait_for(browser, "form#new-agreement")
    _viewport(browser, 390)  # the form also fits LINE's in-app browser
    _no_sideways_scroll(browser, 390)
    _screenshot(browser, "new-agreement-form", 390)
    _viewport(browser, width)
    form.find_element(By.NAME, "title").send_keys("みなと市と株式会社アクメとの DX 推進協定")
    form.find_element(By.NAME, "fields").send_keys("DX、教育")
    for name, value in (("starts_on", "2027-01-01"), ("ends_on", "2029-12-31")):
        browser.execute_script(
            "arguments[0].value = arguments[1]", form.find_element(By.NAME, name), value
        )
    form.find_element(By.NAME, "renew_term_months").send_keys("12")
    form.find_element(By.NAME, "notice_days").send_keys("90")
    form.find_element(By.NAME, "working").send_keys("3")
    form.find_element(By.CSS_SELECTOR, "input[name=party][value=acme]").click()
    Select(form.find_element(By.NAME, "acme.primary")).select_by_visible_text("伊藤 由美")
    form.find_element(By.NAME, "minato-city.new_key").send_keys("dx-ogawa")
    form.find_element(By.NAME, "minato-city.new_name").send_keys("小川 優")
    _no_sideways_scroll(browser, width)
    _screenshot(browser, "new-agreement-form", width)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    flash = _wait_for(browser, ".flash")
    assert "作成しました（キー：dx）" in flash.text
    assert browser.current_url == served + "/agreements/dx"
    with transaction(demo.extensions["renkei"].sessions) as session:
        a = session.scalar(select(Agreement).where(Agreement.key == "dx"))
        assert a is not None and [o.key for o in a.parties] == ["minato-city", "acme"]
        assert a.fields == ["DX", "教育"] and a.working_cadence_months == 3
    contacts = browser.find_element(By.ID, "contacts").text
    assert "小川 優" in contacts and "伊藤 由美" in contacts
    assert _screenshot(browser, "new-agreement", width).stat().st_size > 10_000
