#!/usr/bin/env python3
"""Uses the admin page of a running `archiver serve` in a real browser (headless Chromium through selenium and
chromium-driver, both from Debian), as a person would, and says what it saw.

    scripts/serve-browser-check.py --url http://127.0.0.1:PORT --token-file FILE \
        [--retry ID] [--hostile ID] [--queue-drop ID] [--erasure JOB] [--item ITEM --target NAME] [--screenshot overview.png]

Steps (each printed as it passes; the first that fails ends the run with exit 1, a screenshot beside --screenshot
and the page's text):
  sign-in    /  sends the browser to the sign-in page; the token signs in; the overview shows the sources
  hostile    the dead letter ID (a record holding <script>) shows its raw record as text, and the page holds no script
  retry      the dead letter ID is retried from the list and leaves it ("... was archived.")
  queue-drop the deletion queue's overview counts are shown; the queue entry ID is dropped from the list of its
             state ("... was dropped.") and is no longer listed
  coordinations (with --queue-drop) the overview counts waiting coordinations; the list of waiting ones names the
             consumers awaited; the first one's page says who is awaited
  erasures   the overview counts erasure jobs; the job JOB is listed and its page shows its state and progress
  restore    a search for ITEM finds its archived versions; the first is shown, previewed into NAME (what will be
             written, a dry run) and restored ("Restored into NAME.")
Only this machine is used: the URL must be on 127.0.0.1 or localhost.
"""
import argparse
import json
import os
import sys
import urllib.parse

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select, WebDriverWait


def browser():
    options = Options()
    options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1000",
                 "--no-first-run", "--disable-extensions", "--disable-background-networking"):
        options.add_argument(flag)
    # The driver from Debian's chromium-driver: selenium must not look for one on the network.
    service = Service(executable_path=os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"))
    return webdriver.Chrome(service=service, options=options)


class Check:
    def __init__(self, driver, url, screenshot):
        self.driver = driver
        self.url = url.rstrip("/")
        self.screenshot = screenshot
        self.passed = []

    def open(self, path):
        self.driver.get(self.url + path)

    def wait(self, condition, what, seconds=20):
        try:
            return WebDriverWait(self.driver, seconds).until(condition)
        except Exception:
            raise AssertionError(f"{what} (at {self.driver.current_url})")

    def notice(self):
        return self.wait(expected_conditions.presence_of_element_located((By.ID, "notice")), "a notice after the form").text

    def step(self, name, detail=""):
        self.passed.append(name)
        print(f"passed: {name} {detail}".rstrip(), flush=True)


def run(args, check):
    driver = check.driver
    token = open(args.token_file, encoding="utf-8").read().strip()

    # Sign in: a stranger is sent to the sign-in page; the token opens the overview.
    check.open("/")
    check.wait(expected_conditions.presence_of_element_located((By.ID, "token")), "the sign-in page")
    assert "/login" in driver.current_url, driver.current_url
    driver.find_element(By.ID, "token").send_keys(token)
    driver.find_element(By.ID, "sign-in").click()
    check.wait(expected_conditions.presence_of_element_located((By.ID, "sources")), "the overview after signing in")
    rows = driver.find_elements(By.CSS_SELECTOR, "#sources tbody tr td.state-running")
    assert rows, "no running source on the overview"
    if args.screenshot:
        driver.save_screenshot(args.screenshot)
    check.step("sign-in", f"({len(rows)} sources running)")

    if args.hostile:
        check.open(f"/dead-letters/{args.hostile}")
        raw = check.wait(expected_conditions.presence_of_element_located((By.ID, "raw")), "the dead letter's raw record").text
        assert "<script>" in raw, f"the raw record does not show <script> as text: {raw[:200]!r}"
        assert not driver.find_elements(By.TAG_NAME, "script"), "the page holds a script element"
        check.step("hostile", "(<script> shown as text)")

    if args.retry:
        check.open("/dead-letters")
        check.wait(expected_conditions.element_to_be_clickable((By.ID, f"retry-{args.retry}")), "the dead letter's Retry button").click()
        notice = check.notice()
        assert "was archived" in notice, notice
        assert not driver.find_elements(By.ID, f"dead-letter-{args.retry}"), "the retried dead letter is still listed"
        check.step("retry", f"({notice})")

    if args.queue_drop:
        check.open("/")
        total = check.wait(expected_conditions.presence_of_element_located((By.ID, "queue-total")), "the queue's counts on the overview").text
        assert int(total) > 0, f"the overview counts {total} queue entries"
        check.open("/queue")
        check.wait(expected_conditions.element_to_be_clickable((By.ID, f"queue-drop-{args.queue_drop}")), "the queue entry's Drop button").click()
        notice = check.notice()
        assert "was dropped" in notice, notice
        assert not driver.find_elements(By.ID, f"queue-entry-{args.queue_drop}"), "the dropped queue entry is still listed"
        check.step("queue-drop", f"({notice})")

    if args.queue_drop:
        check.open("/")
        waiting = check.wait(expected_conditions.presence_of_element_located((By.ID, "coordinations-count-waiting")), "the coordinations' counts").text
        assert int(waiting) > 0, f"the overview counts {waiting} waiting coordinations"
        driver.find_element(By.LINK_TEXT, "Coordinations").click()
        Select(check.wait(expected_conditions.presence_of_element_located((By.NAME, "state")), "the state filter")).select_by_value("waiting")
        driver.find_element(By.CSS_SELECTOR, "form.filters button").click()
        check.wait(expected_conditions.url_contains("state=waiting"), "the filtered list")
        awaited = check.wait(expected_conditions.presence_of_element_located((By.CSS_SELECTOR, "#coordinations-table td.awaited")), "a waiting coordination").text
        assert awaited, "a waiting coordination names no awaited consumer"
        driver.find_element(By.CSS_SELECTOR, "#coordinations-table a").click()
        shown = check.wait(expected_conditions.presence_of_element_located((By.ID, "coordination-awaited")), "the coordination's page").text
        assert shown == awaited, f"the coordination's page awaits {shown!r}, its row {awaited!r}"
        check.step("coordinations", f"(awaiting {awaited})")

    if args.erasure:
        check.open("/")
        total = check.wait(expected_conditions.presence_of_element_located((By.ID, "erasures-total")), "the erasures' counts").text
        assert int(total) > 0, f"the overview counts {total} erasure jobs"
        driver.find_element(By.LINK_TEXT, "Erasures").click()
        row = check.wait(expected_conditions.presence_of_element_located((By.ID, f"erasure-{args.erasure}")), "the erasure job's row")
        row.find_element(By.TAG_NAME, "a").click()
        state = check.wait(expected_conditions.presence_of_element_located((By.ID, "erasure-state")), "the erasure job's page").text
        progress = driver.find_element(By.ID, "erasure-progress").text
        assert state in ("queued", "running", "completed"), state
        check.step("erasures", f"({state}: {progress})")

    if args.item:
        check.open("/search")
        field = check.wait(expected_conditions.presence_of_element_located((By.ID, "item")), "the search form")
        field.clear()
        field.send_keys(args.item)
        driver.find_element(By.ID, "search-button").click()
        link = check.wait(expected_conditions.element_to_be_clickable((By.CSS_SELECTOR, "#results a.record-link")), "a search result")
        link.click()
        check.wait(expected_conditions.presence_of_element_located((By.ID, "item")), "the archived record")
        Select(driver.find_element(By.ID, "target")).select_by_value(args.target)
        driver.find_element(By.ID, "preview").click()
        preview = check.wait(expected_conditions.presence_of_element_located((By.ID, "preview-item")), "what will be written").text
        assert preview.strip().startswith("{"), preview[:200]
        driver.find_element(By.ID, "confirm-restore").click()
        notice = check.notice()
        assert f"Restored into {args.target}." in notice, notice
        check.step("restore", f"({notice})")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True)
    parser.add_argument("--token-file", required=True)
    parser.add_argument("--retry")
    parser.add_argument("--hostile")
    parser.add_argument("--queue-drop")
    parser.add_argument("--erasure")
    parser.add_argument("--item")
    parser.add_argument("--target", default="users")
    parser.add_argument("--screenshot")
    args = parser.parse_args()
    host = urllib.parse.urlparse(args.url).hostname
    if host not in ("127.0.0.1", "localhost"):
        sys.exit("serve-browser-check.py uses a server on this machine only (127.0.0.1 or localhost)")
    driver = browser()
    check = Check(driver, args.url, args.screenshot)
    try:
        run(args, check)
    except AssertionError as failure:
        print(f"failed: {failure}", flush=True)
        if args.screenshot:
            driver.save_screenshot(args.screenshot + ".failed.png")
        print(driver.find_element(By.TAG_NAME, "body").text[:2000])
        sys.exit(1)
    finally:
        driver.quit()
    print(json.dumps({"passed": check.passed}))


if __name__ == "__main__":
    main()
