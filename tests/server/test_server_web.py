"""The web page in a real browser (headless Chromium driven by Selenium), and its refusals.

Chromium and chromedriver are Debian's (``apt-get install chromium chromium-driver``, tried
once per session when missing and running as root); the browser tests skip, saying why,
only where they cannot be installed. Set GITSYNC_SCREENSHOTS=docs to refresh the README's
screenshots in docs/.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server.conftest import Person, Server, password_of, wait_for

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
ABC = "Clients/ABC Limited 2026"
XYZ = "Clients/XYZ Holdings 2026"


def _install_chromium() -> str | None:
    """None when Chromium and chromedriver are there (installed now if need be), else why not."""
    if Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists():
        return None
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return "Chromium is not installed and apt-get cannot run here (not root)"
    for args in (
        ["apt-get", "update"],
        ["apt-get", "install", "-y", "chromium", "chromium-driver"],
    ):
        done = subprocess.run(args, capture_output=True, text=True, check=False, timeout=900)
        if done.returncode != 0:
            return f"installing Chromium failed: {(done.stderr.strip().splitlines() or ['?'])[-1]}"
    return None if Path(CHROMEDRIVER).exists() else "chromium-driver did not install"


@pytest.fixture(scope="session")
def chromium_ready() -> None:
    why = _install_chromium()
    if why:
        pytest.skip(why)
    try:
        import selenium  # noqa: F401
    except ImportError:
        pytest.skip("the selenium package is not installed (pip install -e .[test])")


@pytest.fixture
def browser(chromium_ready: None, tmp_path: Path) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1440,1000",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def new_file(
    who: Person, server: Server, folder: Path, client: str, number: str, city: str
) -> None:
    who.ok(
        "new", folder, "--client", client, "--number", number, "--city", city,
        "--year-end", "2026-12-31",
    )  # fmt: skip
    (folder.parent / "tb.csv").write_text(
        "account,name,type,balance\n1000,Cash,asset,12500.00\n2000,Accounts payable,liability,"
        "-2500.00\n3000,Share capital,equity,-10000.00\n",
        encoding="utf-8",
    )
    who.ok("import", "tb", folder.parent / "tb.csv", cwd=folder)
    who.sign_in(server)
    who.ok("publish", "--folder", "Clients", cwd=folder)


def sign_in(driver: Any, server: Server, name: str) -> None:
    from selenium.webdriver.common.by import By

    driver.get(f"{server.url}/")
    assert "/web/login" in driver.current_url
    driver.find_element(By.ID, "user").send_keys(name)
    driver.find_element(By.ID, "password").send_keys(password_of(name))
    driver.find_element(By.ID, "sign-in").click()
    assert wait_for(lambda: driver.find_elements(By.ID, "catalogue"), timeout=20)


def listed(driver: Any) -> list[str]:
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By

    try:
        return [a.text for a in driver.find_elements(By.CSS_SELECTOR, "#rows a.file-link")]
    except StaleElementReferenceException:
        return ["(the rows were being replaced)"]


def text_of(driver: Any, element_id: str, html: bool = False) -> str:
    """The element's text (or inner HTML), read again when the live page reloaded under it."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.common.by import By

    try:
        element = driver.find_element(By.ID, element_id)
        return str(element.get_attribute("innerHTML") if html else element.text)
    except (StaleElementReferenceException, NoSuchElementException):
        return ""


def save_screenshot(driver: Any, tmp_path: Path, name: str) -> None:
    shot = tmp_path / name
    driver.save_screenshot(str(shot))
    if os.environ.get("GITSYNC_SCREENSHOTS") == "docs":
        docs = Path(__file__).resolve().parents[2] / "docs"
        docs.mkdir(exist_ok=True)
        shutil.copyfile(shot, docs / name)


@pytest.fixture
def engagements(
    server_root: Callable[..., Path],
    start_server: Callable[..., Server],
    person: Callable[[str], Person],
    tmp_path: Path,
) -> tuple[Server, Path]:
    """A private server: alice's ABC (Montréal) with bob's copy, carol's XYZ (Toronto)."""
    server = start_server(server_root(private=True))
    alice, bob, carol = person("alice"), person("bob"), person("carol")
    new_file(
        alice, server, tmp_path / "alice" / "ABC Limited 2026", "ABC Limited", "1001", "Montréal"
    )
    new_file(
        carol, server, tmp_path / "carol" / "XYZ Holdings 2026", "XYZ Holdings", "2002", "Toronto"
    )
    person("admin").ok("server", "grant", ABC, "bob", "--right", "sync", "--root", server.root)
    bob.sign_in(server)
    copy = tmp_path / "bob" / "ABC"
    bob.ok("copy", f"office:{ABC}", copy)
    return server, copy


def test_sign_in_search_open_a_file_and_see_a_change_arrive(
    engagements: tuple[Server, Path],
    browser: Any,
    person: Callable[[str], Person],
    tmp_path: Path,
) -> None:
    from selenium.webdriver.common.by import By

    server, copy = engagements
    driver = browser
    sign_in(driver, server, "admin")
    assert sorted(listed(driver)) == ["ABC Limited 2026", "XYZ Holdings 2026"]

    # Search as you type, by city (accents folded) and by client number.
    box = driver.find_element(By.ID, "q")
    box.send_keys("toron")
    assert wait_for(lambda: listed(driver) == ["XYZ Holdings 2026"], timeout=10)
    box.clear()
    box.send_keys("montr")
    assert wait_for(lambda: listed(driver) == ["ABC Limited 2026"], timeout=10)
    box.clear()
    box.send_keys("2002")
    assert wait_for(lambda: listed(driver) == ["XYZ Holdings 2026"], timeout=10)
    box.clear()
    box.send_keys("2026")
    assert wait_for(lambda: len(listed(driver)) == 2, timeout=10)
    save_screenshot(driver, tmp_path, "web-catalogue.png")

    # The user filter: bob holds a copy of ABC only.
    from selenium.webdriver.support.ui import Select

    Select(driver.find_element(By.ID, "who")).select_by_value("bob")
    assert wait_for(lambda: listed(driver) == ["ABC Limited 2026"], timeout=10)

    driver.find_element(By.LINK_TEXT, "ABC Limited 2026").click()
    assert wait_for(lambda: driver.find_elements(By.ID, "hierarchy"), timeout=20)
    tree = text_of(driver, "hierarchy")
    assert "Server copy" in tree and "alice" in tree and "bob" in tree
    tb = text_of(driver, "trial-balance")
    assert "12,500.00" in tb and "Share capital" in tb

    # bob changes the file from his copy: the open page shows it without a reload by hand.
    bob = person("bob")
    bob.ok("account", "add", "4000", "Consulting revenue", "--type", "revenue", cwd=copy)
    bob.ok(
        "entry", "add", "--journal", "AJE", "--date", "2026-12-31", "--description",
        "Unbilled fees", "--line", "1000=1234.56", "--line", "4000=-1234.56", cwd=copy,
    )  # fmt: skip
    bob.ok("sync", cwd=copy)
    assert wait_for(lambda: "Consulting revenue" in text_of(driver, "trial-balance"), timeout=40)
    assert wait_for(lambda: "1,234.56" in text_of(driver, "trial-balance"), timeout=40)
    assert "13,734.56" in text_of(driver, "trial-balance")  # 12,500.00 + 1,234.56, to the cent
    assert wait_for(lambda: "bob" in text_of(driver, "changes"), timeout=10)
    # The field-level patch of bob's change is on the page (folded in a <details>).
    changes = text_of(driver, "changes", html=True)
    assert "accounts/4000.json" in changes and "Consulting revenue" in changes
    save_screenshot(driver, tmp_path, "web-file.png")

    driver.find_element(By.ID, "sign-out").click()
    assert wait_for(lambda: "/web/login" in driver.current_url, timeout=20)
    driver.get(f"{server.url}/")
    assert "/web/login" in driver.current_url  # the session is gone


def test_a_second_user_sees_only_their_files(
    engagements: tuple[Server, Path], browser: Any
) -> None:
    from selenium.webdriver.common.by import By

    server, _ = engagements
    driver = browser
    sign_in(driver, server, "carol")
    assert listed(driver) == ["XYZ Holdings 2026"]
    box = driver.find_element(By.ID, "q")
    box.send_keys("ABC")
    assert wait_for(lambda: listed(driver) == [], timeout=10)
    driver.get(f"{server.url}/web/file/Clients/ABC%20Limited%202026")
    assert "not found" in driver.page_source
    driver.get(f"{server.url}/web/file/Clients/XYZ%20Holdings%202026")
    assert "Administration" in driver.page_source  # carol publishes XYZ: she is its admin


# --- without a browser: sessions, CSRF and refusals ------------------------------------------


def web_session(server: Server, name: str) -> httpx.Client:
    """A signed-in web session (cookies kept) for ``name``."""
    client = httpx.Client(base_url=server.url, follow_redirects=False, timeout=30)
    page = client.get("/web/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf is not None
    answer = client.post(
        "/web/login",
        data={"user": name, "password": password_of(name), "csrf": csrf.group(1)},
    )
    assert answer.status_code == 303, answer.text
    return client


def csrf_of(client: httpx.Client, page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', client.get(page).text)
    assert found is not None
    return found.group(1)


def test_forms_without_their_csrf_token_are_refused(engagements: tuple[Server, Path]) -> None:
    server, _ = engagements
    # The sign-in form: no token, or one that does not match the cookie.
    anonymous = httpx.Client(base_url=server.url, follow_redirects=False, timeout=30)
    anonymous.get("/web/login")
    bare = anonymous.post("/web/login", data={"user": "admin", "password": password_of("admin")})
    assert bare.status_code == 403
    forged = anonymous.post(
        "/web/login", data={"user": "admin", "password": password_of("admin"), "csrf": "x" * 32}
    )
    assert forged.status_code == 403 and "gitsync_session" not in forged.headers.get(
        "set-cookie", ""
    )

    admin = web_session(server, "admin")
    page = f"/web/file/{ABC.replace(' ', '%20')}"
    assert admin.get(page).status_code == 200
    refused = admin.post(f"/web/admin/compress/{ABC.replace(' ', '%20')}", data={})
    assert refused.status_code == 403 and "CSRF" in refused.text
    wrong = admin.post(f"/web/admin/delete/{ABC.replace(' ', '%20')}", data={"csrf": "0" * 64})
    assert wrong.status_code == 403
    assert (server.root / "files" / f"{ABC}.git").is_dir()  # nothing was deleted
    signout = admin.post("/web/logout", data={})
    assert signout.status_code == 403  # sign-out is a form too

    # With its token the same form works; a delete while copies are active is refused.
    token = csrf_of(admin, page)
    done = admin.post(f"/web/admin/compress/{ABC.replace(' ', '%20')}", data={"csrf": token})
    assert done.status_code == 303 and "bytes%20saved" in done.headers["location"]
    kept = admin.post(f"/web/admin/delete/{ABC.replace(' ', '%20')}", data={"csrf": token})
    assert kept.status_code == 303 and "active%20copies" in kept.headers["location"]
    assert (server.root / "files" / f"{ABC}.git").is_dir()

    # A staff user: an admin action on a file they sync is refused; an unseen file is unknown.
    bob = web_session(server, "bob")
    bob_token = csrf_of(bob, page)
    staff = bob.post(f"/web/admin/compress/{ABC.replace(' ', '%20')}", data={"csrf": bob_token})
    assert staff.status_code == 403
    assert bob.get(f"/web/file/{XYZ.replace(' ', '%20')}").status_code == 404
    assert "Administration" not in bob.get(page).text
    # The same refusals through the API: 403 on a file bob syncs, 404 on one he cannot see.
    api = (
        "bob",
        httpx.post(
            f"{server.url}/api/login", json={"user": "bob", "password": password_of("bob")}
        ).json()["token"],
    )
    for name, status in ((ABC, 403), (XYZ, 404)):
        answer = httpx.post(f"{server.url}/api/admin/compress", json={"file": name}, auth=api)
        assert answer.status_code == status, answer.text
    out = bob.post("/web/logout", data={"csrf": bob_token})
    assert out.status_code == 303
    assert bob.get("/").status_code == 303  # back to the sign-in page


def test_what_users_typed_is_escaped_on_the_page() -> None:
    from gitsync.server.web import render

    row = {
        "file": "Clients/<x>",
        "name": "<script>alert(1)</script>",
        "folder": "Clients",
        "client": '"><img src=x onerror=alert(1)>',
        "number": "1",
        "city": "Montréal",
        "year_end": "2026-12-31",
        "holders": ["bob"],
        "changed": "",
        "right": "admin",
    }
    html = render("rows.html", rows=[row]).decode()
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;" in html and "Montréal" in html
    assert 'href="/web/file/Clients/%3Cx%3E"' in html


def test_the_see_right_shows_the_catalogue_row_only(engagements: tuple[Server, Path]) -> None:
    """A user who may only see a file gets its catalogue row on its page: no trial balance,
    no history, no conflict values (read from the file itself), no live updates."""
    server, _ = engagements
    granted = subprocess.run(
        [sys.executable, "-m", "gitsync", "server", "grant", ABC, "carol", "--right", "see",
         "--root", server.root],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert granted.returncode == 0, granted.stderr
    carol = web_session(server, "carol")
    page = carol.get(f"/web/file/{ABC.replace(' ', '%20')}")
    assert page.status_code == 200
    assert 'id="catalogue-row"' in page.text and "ABC Limited" in page.text
    for shown_only_to_copy in ('id="trial-balance"', 'id="changes"', 'id="hierarchy"', "Cash"):
        assert shown_only_to_copy not in page.text, shown_only_to_copy
    # bob, who syncs it, still sees the whole page.
    bob = web_session(server, "bob").get(f"/web/file/{ABC.replace(' ', '%20')}")
    assert 'id="trial-balance"' in bob.text and 'id="changes"' in bob.text
