"""The floor under ``notebook.py``'s click figure: the same click in a bare page, one hop.

``notebook.py`` times a click on the Studio's Speak in JupyterLab until the take is audible,
against the local server's own time to first audio. This script times the least any
kernel → browser player could do on the same machine, with the same Chromium, server, voice and
text: a bare page whose button opens a MediaSource (and asks to play) at the press and sends
"speak" over one websocket; Python posts to the server's stream endpoint and forwards each
chunk on that websocket; the page appends it. Audible is measured as in ``notebook.py`` (the
``<audio>`` playing with ``currentTime > 0``, ``performance.now()`` in the page). The rounds
alternate with the server's time to first audio measured with plain ``requests``.

What it shows: the part of ``notebook.py``'s ratio that no widget code can remove (Chromium's
media pipeline and audio output, one websocket hop), and, by difference, what JupyterLab, the
kernel and the widgets add. ``--busy-ms N`` also runs rounds in which the page does N ms of
script work during the first clause (6 slices, 20 ms apart): how much the browser's own CPU use
while the server synthesizes costs on a machine whose cores the server shares.

Run: ``.venv/bin/python benchmarks/click_floor.py [--rounds N] [--busy-ms N]``. Needs
/usr/bin/chromium; nothing is asserted.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

import requests
from websockets.sync.server import ServerConnection, serve

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests" / "browser"), str(ROOT / "benchmarks")]

from notebook import CLICK_TEXT, VOICE  # noqa: E402 (after the path)

# The Studio's own format (mp3_44100_64), so the page decodes what the Studio's player does.
STREAM_QUERY = "?output_format=mp3_44100_64"

PAGE = """<!doctype html><html><body><button id="speak">Speak</button>
<audio id="audio" controls></audio><script>
const audio = document.getElementById("audio");
const socket = new WebSocket("ws://127.0.0.1:%(port)d");
socket.binaryType = "arraybuffer";
let take = null;
function pump(t) {
  if (!t.buffer || t.buffer.updating || t.source.readyState !== "open") return;
  if (t.pending.length) t.buffer.appendBuffer(t.pending.shift());
  else if (t.ended) t.source.endOfStream();
}
document.getElementById("speak").addEventListener("click", () => {
  const t = { clickAt: performance.now(), audibleAt: null, pending: [], buffer: null,
              ended: false };
  t.audible = new Promise((resolve) => { t.resolve = resolve; });
  t.source = new MediaSource();
  audio.src = URL.createObjectURL(t.source);
  t.source.addEventListener("sourceopen", () => {
    t.buffer = t.source.addSourceBuffer("audio/mpeg");
    t.buffer.mode = "sequence";
    t.buffer.addEventListener("updateend", () => pump(t));
    pump(t);
  }, { once: true });
  audio.play().catch(() => {});
  take = window.__take = t;
  socket.send("speak");
  for (let i = 0; i < 6 && window.__busyMs > 0; i++) {
    setTimeout(() => {
      const until = performance.now() + window.__busyMs / 6;
      while (performance.now() < until);
    }, 5 + 20 * i);
  }
});
socket.onmessage = (event) => {
  if (typeof event.data === "string") take.ended = true;
  else take.pending.push(event.data);
  pump(take);
};
const sample = () => {
  const t = take;
  if (!t || t.audibleAt !== null) return;
  if (audio.currentTime > 0 && !audio.paused) {
    t.audibleAt = performance.now();
    t.resolve();
  } else if (!audio.paused && audio.readyState >= 3) {
    setTimeout(sample, 1);
  }
};
audio.addEventListener("playing", sample);
audio.addEventListener("timeupdate", sample);
</script></body></html>"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=16, help="timed rounds per path")
    parser.add_argument("--busy-ms", type=float, default=0.0,
                        help="also time rounds with this much page script during the clause")
    args = parser.parse_args()

    from jupyterlab_harness import CHROMIUM_PATH, launch_chromium
    from playwright.sync_api import sync_playwright

    import xiwidgets as xi
    from xiwidgets.client.embedded import embedded_server

    if not CHROMIUM_PATH.exists():
        print(f"note: {CHROMIUM_PATH} is missing; nothing measured")
        return
    client = xi.connect()
    server = embedded_server()
    voice_id = next(voice.voice_id for voice in client.voices.list() if voice.name == VOICE)
    # The key stays in this process: the page only ever sees audio bytes.
    headers = {"xi-api-key": server.api_key}
    stream_url = f"{server.base_url}/v1/text-to-speech/{voice_id}/stream"

    def forward(connection: ServerConnection) -> None:
        for message in connection:
            if message != "speak":
                continue
            with requests.post(stream_url + STREAM_QUERY, json={"text": CLICK_TEXT},
                               headers=headers, stream=True, timeout=120) as response:
                for chunk in response.iter_content(chunk_size=None):
                    if chunk:
                        connection.send(chunk)
            connection.send("end")

    def server_time_to_first_audio() -> float:
        started = time.perf_counter()
        with requests.post(stream_url, json={"text": CLICK_TEXT}, headers=headers,
                           stream=True, timeout=120) as response:
            chunks = response.iter_content(chunk_size=None)
            next(chunk for chunk in chunks if chunk)
            elapsed = time.perf_counter() - started
            for _ in chunks:
                pass
        return elapsed * 1000

    paths = {"bare page": 0.0}
    if args.busy_ms > 0:
        paths[f"bare page, {args.busy_ms:.0f} ms of script during the clause"] = args.busy_ms
    browser_ms: dict[str, list[float]] = {name: [] for name in paths}
    server_ms: dict[str, list[float]] = {name: [] for name in paths}
    with serve(forward, "127.0.0.1", 0) as socket_server:
        port = socket_server.socket.getsockname()[1]
        threading.Thread(target=socket_server.serve_forever, daemon=True).start()
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            page.set_content(PAGE % {"port": port})
            page.wait_for_function("() => document.readyState === 'complete'")
            server_time_to_first_audio()  # warm-up: the voice's first take loads it
            for round_index in range(args.rounds * len(paths)):
                # Alternate the paths, so that load on the machine hits each alike.
                name = list(paths)[round_index % len(paths)]
                page.evaluate(f"() => {{ window.__busyMs = {paths[name]}; }}")
                page.wait_for_timeout(200)
                page.click("#speak")
                page.evaluate("() => window.__take.audible")
                browser_ms[name].append(page.evaluate(
                    "() => window.__take.audibleAt - window.__take.clickAt"))
                page.wait_for_function("() => window.__take.ended", timeout=120_000)
                page.evaluate("() => document.getElementById('audio').pause()")
                server_ms[name].append(server_time_to_first_audio())
            browser.close()
        socket_server.shutdown()

    print(f"{'path':58s} {'click → audible':>16s} {'server':>8s} {'ratio':>6s} {'overhead':>9s}")
    for name in paths:
        browser_median = statistics.median(browser_ms[name])
        server_median = statistics.median(server_ms[name])
        overhead = statistics.median(
            b - s for b, s in zip(browser_ms[name], server_ms[name], strict=True))
        print(f"{name:58s} {browser_median:13.0f} ms {server_median:5.0f} ms "
              f"{browser_median / server_median:5.2f}× {overhead:6.0f} ms")


if __name__ == "__main__":
    main()
