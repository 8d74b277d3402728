#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""browser_check.py - opens an HTML page (nabla's report) in headless Chromium and checks that
a reader would see it whole: no console errors or warnings, no uncaught exceptions, no network
request at all (the report must be self-contained: everything inline or in data: URIs), and
every <section> drew something (an <svg> with at least MIN_SHAPES shapes, an <img> that decoded
(naturalWidth > 0), or a <table>/<pre> with text; a section with a broken image fails). It
takes a full-page screenshot and prints a JSON summary on stdout.

Python's standard library only: the browser is driven through the Chrome DevTools protocol over
a pipe (--remote-debugging-pipe: Chromium reads commands on its fd 3 and writes replies and
events on fd 4, each a JSON message ended by a NUL byte), so neither websockets nor pip
packages are needed.

usage: browser_check.py PAGE [--screenshot OUT.png [--scale F]] [--expect CLASS,...]
                             [--timeout SECONDS] [--chromium PATH]
  --scale    the screenshot's size against the page's CSS pixels (default 1; 0.5 for docs)
  --expect   section classes that must be present (each also has to draw)
  --timeout  for everything together, browser start included (default 30)
Exit status: 0 the page passed; 1 it failed a check (each problem is in "problems");
2 the check could not run (no browser, the browser died, a timeout).
"""
import argparse
import base64
import fcntl
import json
import os
import select
import shutil
import signal
import sys
import tempfile
import time

MIN_SHAPES = 3          # an <svg> with fewer shapes than this is an empty frame, not a plot
MAX_SIDE = 12000        # screenshot side cap in CSS pixels (Chromium's texture limit is 16384)
SETTLE_S = 0.3          # after the load event: late console messages and requests still count

# Evaluated in the page: what each <section> drew. Shapes are counted per <svg> (the largest
# one counts), images that failed to decode have complete && naturalWidth == 0.
SECTIONS_JS = r"""
(() => {
  const shapes = 'path,rect,circle,ellipse,line,polyline,polygon,text,image,use';
  return [...document.querySelectorAll('section')].map(s => {
    let svg = 0;
    for (const g of s.querySelectorAll('svg')) svg = Math.max(svg, g.querySelectorAll(shapes).length);
    const imgs = [...s.querySelectorAll('img')];
    const good = imgs.filter(i => i.complete && i.naturalWidth > 0).length;
    let text = 0;
    for (const t of s.querySelectorAll('table,pre')) text += t.textContent.trim().length;
    const box = s.getBoundingClientRect();
    return {class: s.className, svg_shapes: svg, images: imgs.length, images_drawn: good,
            text_chars: text, width: Math.round(box.width), height: Math.round(box.height)};
  });
})()
"""


class CheckError(Exception):
    """The check could not run (exit 2), as opposed to the page failing it (exit 1)."""


class Browser:
    """One headless Chromium on a DevTools pipe; always killed by close()."""

    def __init__(self, chromium, deadline):
        self.deadline = deadline
        self.profile = tempfile.mkdtemp(prefix="nb_chromium_")
        self.next_id = 0
        self.buf = b""
        self.events = []                 # (method, params, sessionId) not yet looked at
        to_r, self.to_w = os.pipe()      # our commands: Chromium reads them on its fd 3
        self.from_r, from_w = os.pipe()  # its replies: Chromium writes them on its fd 4
        # move the child's ends above 9 so the dup2s onto 3 and 4 cannot overwrite each other
        to_r, from_w = (self._high(fd) for fd in (to_r, from_w))
        args = [chromium, "--headless=new", "--remote-debugging-pipe", "--no-sandbox",
                "--disable-gpu", "--no-first-run", "--no-default-browser-check",
                "--disable-dev-shm-usage", "--disable-breakpad", "--disable-crash-reporter",
                "--disable-extensions", "--hide-scrollbars",
                "--window-size=1280,900", "--user-data-dir=" + self.profile, "about:blank"]
        log = os.path.join(self.profile, "stderr.log")
        # os.pipe() fds are close-on-exec; the dup2s give the child exactly fds 3 and 4.
        # setsid: Chromium and its renderer/GPU/zygote children share one process group,
        # so close() can kill them all.
        self.pid = os.posix_spawn(chromium, args, os.environ, setsid=True, file_actions=[
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
            (os.POSIX_SPAWN_DUP2, 1, 2),
            (os.POSIX_SPAWN_DUP2, to_r, 3),
            (os.POSIX_SPAWN_DUP2, from_w, 4)])
        os.close(to_r)
        os.close(from_w)
        self.log = log

    @staticmethod
    def _high(fd):
        high = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(fd)
        return high

    def stderr_tail(self):
        try:
            with open(self.log, "rb") as f:
                return f.read()[-600:].decode("utf-8", "replace").strip()
        except OSError:
            return ""

    def _remaining(self, what):
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise CheckError("timed out waiting for " + what)
        return left

    def _read_message(self, what, until=None):
        """The next message from the browser; None when `until` (a monotonic time) passes first."""
        while b"\0" not in self.buf:
            left = self._remaining(what)
            if until is not None:
                left = min(left, until - time.monotonic())
                if left <= 0:
                    return None
            ready, _, _ = select.select([self.from_r], [], [], left)
            if not ready:
                continue
            chunk = os.read(self.from_r, 1 << 20)
            if not chunk:
                raise CheckError("Chromium closed the DevTools pipe while waiting for %s%s" % (
                    what, (": " + self.stderr_tail()) if self.stderr_tail() else ""))
            self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def send(self, method, params=None, session=None):
        """Sends a command and waits for its reply; events seen meanwhile are kept."""
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        data = json.dumps(msg).encode() + b"\0"
        while data:
            self._remaining(method)
            _, ready, _ = select.select([], [self.to_w], [], self._remaining(method))
            if ready:
                data = data[os.write(self.to_w, data):]
        while True:
            m = self._read_message("the reply to " + method)
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise CheckError("%s failed: %s" % (method, m["error"].get("message", m["error"])))
                return m.get("result", {})
            if "method" in m:
                self.events.append((m["method"], m.get("params", {}), m.get("sessionId")))

    def wait_event(self, method, session):
        """Waits for the event `method` of `session`; earlier events stay in self.events."""
        for i, (meth, _, sess) in enumerate(self.events):
            if meth == method and sess == session:
                return self.events.pop(i)[1]
        while True:
            m = self._read_message(method)
            if m.get("method") == method and m.get("sessionId") == session:
                return m.get("params", {})
            if "method" in m:
                self.events.append((m["method"], m.get("params", {}), m.get("sessionId")))

    def drain(self, seconds):
        """Collects the events that arrive in the next `seconds`."""
        until = time.monotonic() + seconds
        while True:
            m = self._read_message("events", until=until)
            if m is None:
                return
            if "method" in m:
                self.events.append((m["method"], m.get("params", {}), m.get("sessionId")))

    def close(self):
        # Browser.close would be polite, but the check must never hang on a stuck browser:
        # closing the pipe asks Chromium to quit, SIGKILL to the group makes sure of it.
        for fd in (self.to_w, self.from_r):
            try:
                os.close(fd)
            except OSError:
                pass
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass
        shutil.rmtree(self.profile, ignore_errors=True)


def console_problems(events, session):
    """Console errors and warnings, uncaught exceptions and error log entries of the page."""
    out = []
    for method, p, sess in events:
        if sess != session:
            continue
        if method == "Runtime.consoleAPICalled" and p.get("type") in ("error", "warning", "assert"):
            text = " ".join(str(a.get("value", a.get("description", a.get("type", "")))) for a in p.get("args", []))
            out.append({"kind": "console." + p["type"], "text": text})
        elif method == "Runtime.exceptionThrown":
            d = p.get("exceptionDetails", {})
            text = d.get("exception", {}).get("description") or d.get("text", "")
            out.append({"kind": "exception", "text": text, "line": d.get("lineNumber")})
        elif method == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
            e = p["entry"]
            out.append({"kind": "log." + e.get("source", "other"), "text": e.get("text", ""),
                        "url": e.get("url", "")})
    return out


def network_requests(events, session, page_url):
    """Every request of the page other than the page itself and data: URIs."""
    out = []
    for method, p, sess in events:
        if method != "Network.requestWillBeSent" or sess != session:
            continue
        url = p.get("request", {}).get("url", "")
        if url == page_url or url.startswith("data:"):
            continue
        out.append({"url": url, "type": p.get("type", "")})
    return out


def section_problems(sections, expect):
    out = []
    if not sections:
        out.append("the page has no <section>")
    for s in sections:
        drew = s["svg_shapes"] >= MIN_SHAPES or s["images_drawn"] > 0 or s["text_chars"] > 0
        s["drew"] = drew and s["images_drawn"] == s["images"] and s["height"] > 0
        if not drew:
            out.append("section '%s' drew nothing (svg shapes %d, images drawn %d, table/pre text %d)"
                       % (s["class"], s["svg_shapes"], s["images_drawn"], s["text_chars"]))
        elif s["images_drawn"] != s["images"]:
            out.append("section '%s': %d of %d images did not decode"
                       % (s["class"], s["images"] - s["images_drawn"], s["images"]))
        elif s["height"] <= 0:
            out.append("section '%s' takes no space on the page (hidden?)" % s["class"])
    have = set()
    for s in sections:
        have.update(s["class"].split())
    for c in expect:
        if c not in have:
            out.append("no <section class=\"%s\"> (expected)" % c)
    return out


def screenshot(b, session, path, scale):
    """A full-page PNG: the viewport is set to the content size (capped), then captured,
    scaled by `scale` (below 1 for the small pictures committed to the docs)."""
    m = b.send("Page.getLayoutMetrics", session=session)
    size = m.get("cssContentSize") or m.get("contentSize")
    w = min(MAX_SIDE, max(1, int(size["width"] + 0.999)))
    h = min(MAX_SIDE, max(1, int(size["height"] + 0.999)))
    b.send("Emulation.setDeviceMetricsOverride",
           {"width": w, "height": h, "deviceScaleFactor": 1, "mobile": False}, session=session)
    shot = b.send("Page.captureScreenshot", {"format": "png", "clip": {
        "x": 0, "y": 0, "width": w, "height": h, "scale": scale}}, session=session)
    data = base64.b64decode(shot["data"])
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)
    return {"path": path, "width": round(w * scale), "height": round(h * scale), "bytes": len(data),
            "content_height": size["height"], "capped": size["height"] > MAX_SIDE}


def check(page, args):
    summary = {"page": page, "ok": False, "console": [], "requests": [], "sections": [],
               "screenshot": None, "problems": []}
    if not os.path.isfile(page):
        raise CheckError("no such page: " + page)
    url = "file://" + os.path.abspath(page)
    summary["url"] = url
    deadline = time.monotonic() + args.timeout
    b = Browser(args.chromium, deadline)
    try:
        target = b.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = b.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Runtime", "Log", "Network", "Page"):
            b.send(domain + ".enable", session=session)
        nav = b.send("Page.navigate", {"url": url}, session=session)
        if nav.get("errorText"):
            raise CheckError("Chromium could not open %s: %s" % (url, nav["errorText"]))
        b.wait_event("Page.loadEventFired", session)
        b.drain(SETTLE_S)
        r = b.send("Runtime.evaluate", {"expression": SECTIONS_JS, "returnByValue": True}, session=session)
        if "exceptionDetails" in r:
            raise CheckError("the section check threw: %s" % r["exceptionDetails"].get("text"))
        summary["sections"] = r["result"]["value"]
        if args.screenshot:
            summary["screenshot"] = screenshot(b, session, args.screenshot, args.scale)
        summary["console"] = console_problems(b.events, session)
        summary["requests"] = network_requests(b.events, session, url)
    finally:
        b.close()
    problems = summary["problems"]
    problems += ["%s: %s" % (c["kind"], c["text"]) for c in summary["console"]]
    problems += ["network request: %s (%s)" % (q["url"], q["type"]) for q in summary["requests"]]
    problems += section_problems(summary["sections"], args.expect)
    summary["ok"] = not problems
    return summary


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("page")
    ap.add_argument("--screenshot")
    ap.add_argument("--expect", default="", type=lambda s: [c for c in s.split(",") if c])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--timeout", type=float, default=30.0)
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    args = ap.parse_args()
    if not (os.path.isfile(args.chromium) and os.access(args.chromium, os.X_OK)):
        print(json.dumps({"page": args.page, "ok": False,
                          "problems": ["no browser at %s: install chromium (scripts/deps.sh)" % args.chromium]}))
        return 2
    try:
        summary = check(args.page, args)
    except CheckError as e:
        print(json.dumps({"page": args.page, "ok": False, "problems": [str(e)]}))
        return 2
    print(json.dumps(summary, indent=1))
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
