#!/usr/bin/env python3
"""The web console in a real browser: headless Chromium driven over the DevTools protocol (the pages themselves
have no JavaScript; the driver fills and submits their forms as a person would).

Environment: CAIRN_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, CAIRN_WORK, CAIRN_SCREENSHOTS (a directory
that gets a screenshot of every page visited), CAIRN_OBJECT (a file whose content is s3://ui-bucket/dir/report.txt).
The server holds ccache entries in namespace team-ui with lookups made before this script starts.
"""
import base64
import glob
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import websocket

ENDPOINT = os.environ["CAIRN_ENDPOINT"]
KEY_ID = os.environ["AWS_ACCESS_KEY_ID"]
SECRET = os.environ["AWS_SECRET_ACCESS_KEY"]
WORK = os.environ["CAIRN_WORK"]
SHOTS = os.environ["CAIRN_SCREENSHOTS"]
OBJECT = open(os.environ["CAIRN_OBJECT"], "rb").read()
UI = ENDPOINT + "/_cairn/ui"


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def http(method, path, auth=None, bearer=None):
    request = urllib.request.Request(ENDPOINT + path, method=method)
    if auth:
        request.add_header("Authorization", "Basic " + base64.b64encode(auth.encode()).decode())
    if bearer:
        request.add_header("Authorization", "Bearer " + bearer)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def metrics():
    status, body = http("GET", "/_cairn/metrics", auth=f"{KEY_ID}:{SECRET}")
    check(status == 200, f"metrics: {status}")
    values = {}
    for line in body.decode().splitlines():
        match = re.match(r'^(\w+)\{(.*)\} (\S+)$', line)
        if match:
            labels = dict(re.findall(r'(\w+)="([^"]*)"', match.group(2)))
            values.setdefault(match.group(1), []).append((labels, float(match.group(3))))
    return values


def metric_sum(values, name, **labels):
    return sum(v for l, v in values.get(name, []) if all(l.get(k) == x for k, x in labels.items()))


class Browser:
    def __init__(self):
        self.profile = tempfile.mkdtemp(dir=WORK, prefix="chromium-")
        self.downloads = tempfile.mkdtemp(dir=WORK, prefix="downloads-")
        self.process = subprocess.Popen(
            ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--remote-debugging-port=0", f"--user-data-dir={self.profile}", "--window-size=390,844",
             "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = os.path.join(self.profile, "DevToolsActivePort")
        deadline = time.time() + 60
        while not (os.path.exists(port_file) and open(port_file).read().strip()):
            check(time.time() < deadline and self.process.poll() is None, "chromium did not start")
            time.sleep(0.1)
        port = open(port_file).read().split()[0]
        targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=30))
        page = next(t for t in targets if t["type"] == "page")
        self.socket = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=60, suppress_origin=True)
        self.next_id = 0
        self.shot = 0
        self.call("Page.enable")
        self.call("Page.setDownloadBehavior", behavior="allow", downloadPath=self.downloads)

    def call(self, method, **params):
        self.next_id += 1
        self.socket.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == self.next_id:
                check("error" not in message, f"{method}: {message.get('error')}")
                return message.get("result", {})

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        check("exceptionDetails" not in result, f"{expression}: {result.get('exceptionDetails')}")
        return result["result"].get("value")

    def navigate(self, action, name):
        """Runs `action` (which leaves the page), waits for the next page to load, and screenshots it."""
        self.evaluate("window.__cairnPrevious = true")
        # The action starts a navigation, which may end the evaluation itself ("Inspected target navigated").
        self.call("Runtime.evaluate", expression=f"setTimeout(() => {{ {action} }}, 0)")
        deadline = time.time() + 30
        while not self.loaded():
            check(time.time() < deadline, f"{name}: the page did not load")
            time.sleep(0.05)
        self.screenshot(name)
        check(self.evaluate("document.scripts.length") == 0, f"{name}: the page has scripts")
        width = self.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        check(width[0] <= width[1] + 1, f"{name}: wider than a phone's screen: {width}")

    def loaded(self):
        """Whether a new page replaced the one marked before the navigation, and it finished loading."""
        try:
            return self.evaluate("window.__cairnPrevious === undefined && document.readyState === 'complete'")
        except AssertionError:
            return False  # evaluated while the page was being replaced

    def goto(self, url, name):
        self.navigate(f"location.href = {json.dumps(url)}", name)

    def submit(self, form_selector, fields, name):
        script = "".join(
            f"document.querySelector({json.dumps(form_selector + ' [name=' + field + ']')}).value = {json.dumps(value)};"
            for field, value in fields.items())
        self.navigate(script + f"document.querySelector({json.dumps(form_selector)}).requestSubmit()", name)

    def screenshot(self, name):
        self.shot += 1
        data = self.call("Page.captureScreenshot", format="png")["data"]
        with open(os.path.join(SHOTS, f"{self.shot:02d}-{name}.png"), "wb") as file:
            file.write(base64.b64decode(data))

    def text(self, selector):
        return self.evaluate(f"(document.querySelector({json.dumps(selector)}) || {{}}).textContent")

    def path(self):
        return self.evaluate("location.pathname")

    def close(self):
        self.socket.close()
        self.process.kill()
        self.process.wait()


def main():
    browser = Browser()
    try:
        run(browser)
    finally:
        browser.close()


def run(browser):
    browser.goto(UI + "/", "unauthenticated")
    check(browser.path() == "/_cairn/ui/login", f"without a session: {browser.path()}")
    browser.submit("#login", {"access_key_id": KEY_ID, "secret_access_key": "wrong"}, "wrong-password")
    check("Wrong access key id" in (browser.text("#message") or ""), "a wrong password is refused")
    browser.submit("#login", {"access_key_id": KEY_ID, "secret_access_key": SECRET}, "overview")
    check(browser.path() == "/_cairn/ui/", f"after logging in: {browser.path()}")
    check(SECRET not in browser.evaluate("location.href"), "the secret is in the URL")

    # The table says what the metrics say.
    scraped = metrics()
    hits = int(browser.text('#hit-rates tr[data-protocol="ccache"] .hits'))
    misses = int(browser.text('#hit-rates tr[data-protocol="ccache"] .misses'))
    check(hits == metric_sum(scraped, "cairn_cache_hits_total", protocol="ccache"), f"hits {hits} vs {scraped}")
    check(misses == metric_sum(scraped, "cairn_cache_misses_total", protocol="ccache"), f"misses {misses}")
    check(hits > 0 and misses > 0, "the test's lookups are counted")
    # Three hits and a miss between two looks at the overview: the chart's newest point is 75 %.
    for path in ["/ab/cd01", "/ab/cd01", "/ab/cd01", "/ab/none"]:
        http("GET", "/_cairn/ccache/team-ui" + path, auth=f"{KEY_ID}:{SECRET}")
    browser.goto(UI + "/", "overview-after-lookups")
    rates = browser.evaluate(
        "Array.from(document.querySelectorAll('svg.chart circle[data-protocol=\"ccache\"]')).map(c => c.dataset.rate)")
    check(rates and float(rates[-1]) == 0.75, f"chart points of ccache: {rates}")
    scraped = metrics()
    check(int(browser.text('#hit-rates tr[data-protocol="ccache"] .hits')) ==
          metric_sum(scraped, "cairn_cache_hits_total", protocol="ccache"), "hits after lookups")
    check("B" in (browser.text("#physical-bytes") or ""), "storage is shown")

    # Browse to the object, download it, delete another.
    browser.navigate("document.querySelector('nav a[href=\"/_cairn/ui/buckets\"]').click()", "buckets")
    browser.navigate("Array.from(document.querySelectorAll('#buckets a')).find(a => a.textContent === 'ui-bucket').click()",
                     "bucket")
    browser.navigate("Array.from(document.querySelectorAll('#objects a')).find(a => a.textContent === 'dir/').click()",
                     "prefix")
    browser.evaluate("Array.from(document.querySelectorAll('a.download')).find(a => a.textContent === 'dir/report.txt').click()")
    deadline = time.time() + 30
    while True:
        done = [f for f in glob.glob(os.path.join(browser.downloads, "*")) if not f.endswith(".crdownload")]
        if done:
            break
        check(time.time() < deadline, "the download did not finish")
        time.sleep(0.1)
    check(open(done[0], "rb").read() == OBJECT, f"downloaded {done[0]} differs from the object")
    browser.navigate(
        "Array.from(document.querySelectorAll('#objects tr')).find(r => r.textContent.includes('dir/delete-me.txt'))"
        ".querySelector('form').requestSubmit()", "deleted")
    check("Deleted dir/delete-me.txt" in (browser.text("#message") or ""), "delete says so")
    check("dir/delete-me.txt" not in browser.text("#objects"), "the deleted object is gone from the list")

    browser.goto(UI + "/namespaces", "namespaces")
    check("ccache/team-ui" in browser.text("#namespaces"), "the ccache namespace is listed")
    browser.goto(UI + "/builds", "builds")
    builds = browser.text("main")
    check("demo-project #3" in builds and "41.5" in builds and "the file src/main.c changed" in builds,
          f"the reported build, its time saved and why a phase ran: {builds}")
    browser.goto(UI + "/retention", "retention")
    browser.navigate("document.querySelector('main form').requestSubmit()", "retention-dry-run")
    check((browser.text("#dry-run") or "").startswith("dry run"), "the dry run is shown")

    # A token made in the console works until it is revoked there.
    browser.goto(UI + "/tokens", "tokens")
    browser.submit("#create-token", {"namespace": "team-ui"}, "token-created")
    secret = browser.text("#new-token")
    check(secret and secret.startswith("cairn_"), f"new token: {secret}")
    status, _ = http("GET", "/_cairn/ccache/team-ui/ab/cd01", bearer=secret)
    check(status == 200, f"the new token reads: {status}")
    browser.navigate(
        "Array.from(document.querySelectorAll('#tokens tr[data-token]')).find(r => r.textContent.includes('team-ui'))"
        ".querySelector('form').requestSubmit()", "token-revoked")
    status, _ = http("GET", "/_cairn/ccache/team-ui/ab/cd01", bearer=secret)
    check(status == 401, f"the revoked token is refused: {status}")

    # A token with the console scope alone, made here, logs in and reads but is offered no change.
    browser.navigate(
        "const f = document.querySelector('#create-token');"
        "f.querySelector('[name=namespace]').value = '*';"
        "f.querySelector('[name=scope_cache]').checked = false;"
        "f.querySelector('[name=scope_console]').checked = true;"
        "f.requestSubmit()", "console-token-created")
    reader = browser.text("#new-token")
    check(reader and reader.startswith("cairn_"), f"new console token: {reader}")
    check("console" in browser.text("#tokens"), "the token's scopes are listed")

    browser.navigate("document.querySelector('nav form').requestSubmit()", "logged-out")
    browser.goto(UI + "/tokens", "after-logout")
    check(browser.path() == "/_cairn/ui/login", "logging out ends the session")

    browser.submit("#login", {"access_key_id": "reader", "secret_access_key": reader}, "reader-overview")
    check(browser.path() == "/_cairn/ui/", f"after logging in with a console token: {browser.path()}")
    check(browser.evaluate("document.querySelector('nav a[href=\"/_cairn/ui/tokens\"]') === null"),
          "a console token is not offered the tokens page")
    browser.goto(UI + "/objects?bucket=ui-bucket&prefix=dir/", "reader-objects")
    check("dir/report.txt" in browser.text("#objects"), "a console token browses objects")
    check(browser.evaluate("document.querySelectorAll('#objects form').length") == 0, "a reader is offered no delete")
    status, _ = http("GET", "/_cairn/ccache/team-ui/ab/cd01", bearer=reader)
    check(status == 403, f"a console token opens no cache namespace: {status}")
    browser.navigate("document.querySelector('nav form').requestSubmit()", "reader-logged-out")
    print("console: every page checked")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as error:
        print(f"FAILED: {error}", file=sys.stderr)
        sys.exit(1)
