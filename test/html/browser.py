"""Headless Chromium for the report tests, with nothing but Debian's `chromium` package.

- dump_dom(url): the page's DOM after its scripts ran (`--dump-dom`), parsed into Elements.
- screenshot(url, path): a PNG of the page (`--screenshot`).
- DevTools(url): a live page driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`:
  JSON messages ending in NUL, commands on the browser's fd 3, replies on its fd 4), for clicks,
  mouse moves and typing.
"""
import html.parser
import json
import os
import shutil
import subprocess
import tempfile
import time

CHROMIUM = os.environ.get("HEAPSNAP_CHROMIUM", "chromium")
WINDOW = "1280,1600"
TIMEOUT = 60


def _flags(profile):
    # A profile and HOME of its own: Chromium writes both, and must not touch the user's.
    return ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
            f"--user-data-dir={profile}", f"--window-size={WINDOW}"]


def _environment(profile):
    return dict(os.environ, HOME=profile)


def _run(args):
    profile = tempfile.mkdtemp(prefix="heapsnap-chromium-")
    try:
        return subprocess.run([CHROMIUM, *_flags(profile), *args], capture_output=True, timeout=TIMEOUT,
                              env=_environment(profile), check=False)
    finally:
        shutil.rmtree(profile, ignore_errors=True)


class Element:
    def __init__(self, tag, attributes, parent):
        self.tag = tag
        self.attributes = dict(attributes)
        self.parent = parent
        self.children = []
        self.texts = []

    def get(self, name, default=None):
        return self.attributes.get(name, default)

    def classes(self):
        return set(self.get("class", "").split())

    def text(self):
        return "".join(self.texts) + "".join(child.text() for child in self.children)

    def iter(self):
        yield self
        for child in self.children:
            yield from child.iter()

    def find_all(self, tag=None, predicate=lambda element: True):
        return [e for e in self.iter() if (tag is None or e.tag == tag) and predicate(e)]

    def by_id(self, identifier):
        found = self.find_all(predicate=lambda e: e.get("id") == identifier)
        if len(found) != 1:
            raise AssertionError(f"{len(found)} elements with id {identifier!r}")
        return found[0]


class _TreeBuilder(html.parser.HTMLParser):
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {}, None)
        self.current = self.root

    def handle_starttag(self, tag, attrs):
        element = Element(tag, attrs, self.current)
        self.current.children.append(element)
        if tag not in self.VOID:
            self.current = element

    def handle_startendtag(self, tag, attrs):
        self.current.children.append(Element(tag, attrs, self.current))

    def handle_endtag(self, tag):
        node = self.current
        while node is not self.root and node.tag != tag:
            node = node.parent
        if node is not self.root:
            self.current = node.parent

    def handle_data(self, data):
        self.current.texts.append(data)


def dump_dom(url):
    result = _run(["--dump-dom", url])
    if result.returncode != 0 or not result.stdout:
        raise AssertionError(f"chromium --dump-dom {url} failed ({result.returncode}): {result.stderr.decode()[-2000:]}")
    builder = _TreeBuilder()
    builder.feed(result.stdout.decode())
    return builder.root


def screenshot(url, path):
    result = _run([f"--screenshot={path}", url])
    if result.returncode != 0:
        raise AssertionError(f"chromium --screenshot failed ({result.returncode}): {result.stderr.decode()[-2000:]}")


class DevTools:
    """One page in a headless Chromium, driven over the DevTools protocol on a pipe."""

    def __init__(self, url):
        self.profile = tempfile.mkdtemp(prefix="heapsnap-chromium-")
        commands_read, self.commands = os.pipe()
        self.replies, replies_write = os.pipe()

        def give_pipes_to_chromium():
            # Duplicates first: a pipe end may itself be fd 3 or 4, and dup2 onto itself keeps close-on-exec.
            ours = os.dup(commands_read), os.dup(replies_write)
            os.dup2(ours[0], 3)
            os.dup2(ours[1], 4)

        self.process = subprocess.Popen(
            [CHROMIUM, *_flags(self.profile), "--remote-debugging-pipe", url], preexec_fn=give_pipes_to_chromium,
            close_fds=False, env=_environment(self.profile), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(commands_read)
        os.close(replies_write)
        self.buffer = b""
        self.last_id = 0
        self.session = None
        targets = self.send("Target.getTargets")["targetInfos"]
        page = next(target for target in targets if target["type"] == "page")
        self.session = self.send("Target.attachToTarget", targetId=page["targetId"], flatten=True)["sessionId"]

    def close(self):
        try:
            self.session = None
            self.send("Browser.close")
        except (OSError, RuntimeError):
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self.commands)
        os.close(self.replies)
        shutil.rmtree(self.profile, ignore_errors=True)

    def send(self, method, **params):
        self.last_id += 1
        message = {"id": self.last_id, "method": method, "params": params}
        if self.session:
            message["sessionId"] = self.session
        os.write(self.commands, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + TIMEOUT
        while True:  # events arrive between replies: skip them
            while b"\0" not in self.buffer:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"no reply to {method}")
                chunk = os.read(self.replies, 1 << 16)
                if not chunk:
                    raise RuntimeError(f"chromium closed the pipe before replying to {method}")
                self.buffer += chunk
            raw, self.buffer = self.buffer.split(b"\0", 1)
            reply = json.loads(raw)
            if reply.get("id") == self.last_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]

    def evaluate(self, expression):
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression, seconds=20):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                value = self.evaluate(expression)
            except RuntimeError:  # the page is still loading: no document element yet
                value = None
            if value:
                return value
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {expression}")

    def settle(self):
        """Returns once the page has drawn two frames: a scroll has reached the compositor, which hit-tests
        the next mouse event, and the handlers of the events sent so far have run. On a loaded machine
        neither is true when the call that sent them returns."""
        self.send("Runtime.evaluate", awaitPromise=True,
                  expression="new Promise(done => requestAnimationFrame(() => requestAnimationFrame(() => done(true))))")

    def centre_of(self, selector):
        """The viewport coordinates of the middle of the first element matching `selector`, scrolled into view."""
        box = self.evaluate(f"(() => {{ const e = document.querySelector({json.dumps(selector)});"
                            " if (!e) return null; e.scrollIntoView({block: 'center'});"
                            " const r = e.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()")
        if box is None:
            raise AssertionError(f"nothing matches {selector}")
        self.settle()
        return box

    def hover_until(self, selector, expression, seconds=20):
        """Moves the mouse onto `selector` until `expression` is true, and returns its value. Under load a
        move can reach the page before its hit-test data has caught up with a scroll or a re-render (the
        report redraws on resize), and the event lands on nothing: a user would move the mouse again, and
        so does this, one pixel apart so that every move is a real one. The failure says what the last
        move hit."""
        deadline = time.monotonic() + seconds
        nudge = 0
        while True:
            x, y = self.centre_of(selector)
            nudge = 1 - nudge
            self.send("Input.dispatchMouseEvent", type="mouseMoved", x=x + nudge, y=y)
            self.settle()
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                hit = self.evaluate(f"(() => {{ const e = document.elementFromPoint({x + nudge}, {y});"
                                    " return e ? e.outerHTML.slice(0, 200) : null; })()")
                raise AssertionError(f"moving onto {selector} at ({x + nudge}, {y}) never made {expression} true;"
                                     f" the point holds {hit}")
            time.sleep(0.1)

    def click(self, selector):
        x, y = self.centre_of(selector)
        self.send("Input.dispatchMouseEvent", type="mouseMoved", x=x, y=y)
        for kind in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)
        self.settle()

    def click_until(self, selector, expression, seconds=20, retry_after=3):
        """Clicks `selector` until `expression` is true, and returns its value. A press and a release
        that reach the page on two different elements (a redraw between them replaced the one under
        the mouse) make no click: a user clicks again, and so does this, but only after the click
        before has had `retry_after` seconds to show its effect, since a click may toggle."""
        deadline = time.monotonic() + seconds
        while True:
            self.click(selector)
            retry_at = time.monotonic() + retry_after
            while time.monotonic() < retry_at:
                value = self.evaluate(expression)
                if value:
                    return value
                time.sleep(0.05)
            if time.monotonic() > deadline:
                raise AssertionError(f"clicking {selector} never made {expression} true")

    def type_into(self, selector, text):
        self.evaluate(f"document.querySelector({json.dumps(selector)}).focus()")
        self.send("Input.insertText", text=text)
        self.settle()
