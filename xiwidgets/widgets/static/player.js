// xiwidgets Player: plays audio chunks as they arrive from the kernel.
//
// The kernel sends custom messages: {type: "start", content_type, extension, text}, then one
// {type: "chunk"} per piece of audio with the bytes as a binary buffer, then {type: "end"}
// (or "stop" / "error"). Chunks feed a MediaSource attached to an <audio> element, so playback
// starts with the first chunk and `currentTime` is observable; where MediaSource cannot take
// the type, the chunks are collected and played as one blob when the take ends.
//
// One control per take: when the take ends, the kernel saves it as a card in the notebook
// (marked with data-xi-take=<id>); while this player holds the same take, the card's own
// <audio> is taken out of the page, so the user sees one player. Reopened without the kernel,
// the card plays on its own. The finished take's waveform is drawn with a playhead; a click
// (or the arrow keys) on it seeks.
//
// Speak is a click in the page: the player opens its MediaSource (and asks to play) right then,
// while the kernel is still waiting for the server's first audio, so that the first chunk is
// appended to an open source instead of waiting for "sourceopen" behind it. The kernel's "start"
// adopts that take; "cancel" (Speak was refused) or no start within PREPARED_TAKE_MS gives the
// previous take its source back.

/** A new `tag` element with one class name. */
function element(tag, className) {
  const node = document.createElement(tag);
  node.className = className;
  return node;
}

function asBytes(buffer) {
  if (buffer instanceof ArrayBuffer) return new Uint8Array(buffer);
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

function canStream(contentType) {
  return typeof MediaSource !== "undefined" && MediaSource.isTypeSupported(contentType);
}

function createTake(audio, contentType, extension) {
  const take = {
    contentType, extension, parts: [], pending: [], ended: false, source: null, buffer: null,
  };
  if (canStream(contentType)) {
    take.source = new MediaSource();
    audio.src = URL.createObjectURL(take.source);
    take.source.addEventListener(
      "sourceopen",
      () => {
        take.buffer = take.source.addSourceBuffer(contentType);
        take.buffer.mode = "sequence";
        take.buffer.addEventListener("updateend", () => pump(take));
        pump(take);
      },
      { once: true },
    );
    audio.play().catch(() => {});
  }
  return take;
}

function pump(take) {
  const { source, buffer } = take;
  if (!source || !buffer || buffer.updating || source.readyState !== "open") return;
  if (take.pending.length > 0) {
    try {
      buffer.appendBuffer(take.pending.shift());
    } catch (error) {
      console.warn("xiwidgets player: could not append audio", error);
    }
  } else if (take.ended) {
    source.endOfStream();
  }
}

const WAVE_BARS = 400;
const PREPARED_TAKE_MS = 20000;

// Peak level of each of WAVE_BARS slices of the take, from its decoded samples.
async function peaksOf(blob) {
  const Context = window.OfflineAudioContext || window.webkitOfflineAudioContext;
  if (!Context) return null;
  const context = new Context(1, 1, 44100);
  const decoded = await context.decodeAudioData(await blob.arrayBuffer());
  const samples = decoded.getChannelData(0);
  const step = Math.max(1, Math.floor(samples.length / WAVE_BARS));
  const peaks = new Float32Array(WAVE_BARS);
  for (let bar = 0; bar < WAVE_BARS; bar++) {
    let peak = 0;
    const end = Math.min(samples.length, (bar + 1) * step);
    for (let i = bar * step; i < end; i++) peak = Math.max(peak, Math.abs(samples[i]));
    peaks[bar] = peak;
  }
  const loudest = Math.max(...peaks) || 1;
  return { peaks: peaks.map((peak) => peak / loudest), duration: decoded.duration };
}

function createWave(audio) {
  const canvas = element("canvas", "xi-player-wave");
  canvas.tabIndex = 0;
  canvas.setAttribute("role", "slider");
  canvas.setAttribute("aria-label", "Waveform: click or use the arrow keys to seek");
  canvas.setAttribute("aria-valuemin", "0");
  canvas.hidden = true;
  let peaks = null;
  let frame = 0;
  // Counts clears: a waveform still being decoded when the next take starts is not shown.
  let generation = 0;

  // What the canvas shows: a frame that would draw the same picture is skipped, so playback
  // repaints the waveform only when the playhead moves by a pixel.
  let drawn = null;

  const length = () => (Number.isFinite(audio.duration) ? audio.duration : 0);
  function draw(force) {
    if (!peaks) return;
    const ratio = window.devicePixelRatio || 1;
    const width = Math.max(1, Math.round(canvas.clientWidth * ratio));
    const height = Math.max(1, Math.round(canvas.clientHeight * ratio));
    const played = length() > 0 ? audio.currentTime / length() : 0;
    const playhead = Math.round(played * width);
    if (!force && drawn && drawn.peaks === peaks && drawn.width === width &&
        drawn.height === height && drawn.playhead === playhead) {
      return;
    }
    drawn = { peaks, width, height, playhead };
    if (canvas.width !== width || canvas.height !== height) {
      canvas.width = width;
      canvas.height = height;
    }
    const context = canvas.getContext("2d");
    const style = getComputedStyle(canvas);
    context.clearRect(0, 0, width, height);
    const barWidth = width / peaks.length;
    for (let bar = 0; bar < peaks.length; bar++) {
      const barHeight = Math.max(ratio, peaks[bar] * (height - 2 * ratio));
      context.globalAlpha = bar / peaks.length <= played ? 1 : 0.4;
      context.fillStyle = style.color;
      context.fillRect(bar * barWidth, (height - barHeight) / 2, Math.max(ratio, barWidth - ratio),
        barHeight);
    }
    context.globalAlpha = 1;
    context.fillStyle = style.getPropertyValue("--xi-playhead").trim() || style.color;
    context.fillRect(Math.min(width - 2 * ratio, played * width), 0, 2 * ratio, height);
    canvas.setAttribute("aria-valuemax", length().toFixed(1));
    canvas.setAttribute("aria-valuenow", audio.currentTime.toFixed(1));
  }
  const redraw = () => {
    if (!frame && peaks) {
      frame = requestAnimationFrame(() => {
        frame = 0;
        draw(true);
        // A redraw asked for while playing (a seek, a new waveform) resumes the playhead.
        follow();
      });
    }
  };
  // The playhead follows playback one animation frame at a time, only while there is a
  // waveform to draw: a streaming take has none yet, and a loop then would make the browser
  // render frames for nothing while the first clause is synthesized on the same cores.
  const loop = () => {
    frame = 0;
    draw(false);
    follow();
  };
  function follow() {
    if (!frame && peaks && !canvas.hidden && !audio.paused) frame = requestAnimationFrame(loop);
  }
  const seekTo = (seconds) => {
    if (length() > 0) audio.currentTime = Math.min(Math.max(0, seconds), length());
    redraw();
  };
  canvas.addEventListener("click", (event) => {
    if (!peaks) return;
    const box = canvas.getBoundingClientRect();
    seekTo(((event.clientX - box.left) / box.width) * length());
  });
  canvas.addEventListener("keydown", (event) => {
    const moves = { ArrowLeft: -5, ArrowRight: 5, Home: -Infinity, End: Infinity };
    if (!peaks || !(event.key in moves)) return;
    event.preventDefault();
    event.stopPropagation();
    seekTo(audio.currentTime + moves[event.key]);
  });
  audio.addEventListener("play", follow);
  audio.addEventListener("seeked", redraw);
  audio.addEventListener("timeupdate", redraw);
  const resize = typeof ResizeObserver !== "undefined" ? new ResizeObserver(redraw) : null;
  if (resize) resize.observe(canvas);

  return {
    canvas,
    clear() {
      generation++;
      peaks = null;
      drawn = null;
      if (canvas.hidden) return;
      // A waveform was shown: the next take's keeps its place, blank until it is drawn, so
      // pressing Speak does not move everything below the player up (and down again when
      // the take ends), a relayout and repaint of the page while its first clause is made.
      canvas.getContext("2d").clearRect(0, 0, canvas.width, canvas.height);
      canvas.classList.add("xi-player-wave-empty");
      canvas.tabIndex = -1;
      canvas.setAttribute("aria-hidden", "true");
    },
    async show(blob) {
      const shownFor = generation;
      try {
        const result = await peaksOf(blob);
        if (!result || shownFor !== generation) return;
        peaks = result.peaks;
        canvas.classList.remove("xi-player-wave-empty");
        canvas.tabIndex = 0;
        canvas.removeAttribute("aria-hidden");
        canvas.hidden = false;
        redraw();
      } catch (error) {
        console.warn("xiwidgets player: could not draw the waveform", error);
      }
    },
    hide() {
      generation++;
      peaks = null;
      drawn = null;
      canvas.hidden = true;
      canvas.classList.remove("xi-player-wave-empty");
      canvas.tabIndex = 0;
      canvas.removeAttribute("aria-hidden");
    },
    close() {
      if (resize) resize.disconnect();
      if (frame) cancelAnimationFrame(frame);
    },
  };
}

// While this player holds take `id`, the saved card's own <audio> leaves the page; the returned
// function puts it back (the player moved on to another take, or was closed). `onSettled` is
// called once: when the card was found, was not within `timeoutMs`, or was let go before.
function adoptSavedCard(id, onSettled = () => {}, timeoutMs = 30000) {
  const selector = `[data-xi-take="${CSS.escape(id)}"]`;
  const removed = [];
  let pending = true;
  const settled = () => {
    if (pending) {
      pending = false;
      onSettled();
    }
  };
  const hide = () => {
    let found = false;
    for (const card of document.querySelectorAll(selector)) {
      found = true;
      card.classList.add("xi-take-card-live");
      for (const duplicate of card.querySelectorAll("audio")) {
        removed.push({ element: duplicate, parent: duplicate.parentNode,
          next: duplicate.nextSibling, card });
        duplicate.remove();
      }
      // An embedded take's card held only its <audio>; a linked one keeps its link.
      card.hidden = card.children.length === 0;
    }
    return found;
  };
  const observer = new MutationObserver(() => {
    if (!hide()) return;
    observer.disconnect();
    clearTimeout(timer);
    settled();
  });
  let timer = null;
  if (hide()) {
    settled();
  } else {
    observer.observe(document.body, { childList: true, subtree: true });
    timer = setTimeout(() => {
      observer.disconnect();
      settled();
    }, timeoutMs);
  }
  return () => {
    clearTimeout(timer);
    observer.disconnect();
    settled();
    for (const { element, parent, next, card } of removed) {
      card.classList.remove("xi-take-card-live");
      card.hidden = false;
      if (parent.isConnected) parent.insertBefore(element, next && next.parentNode === parent ? next : null);
    }
    removed.length = 0;
  };
}

// The caption of a timed take: the spoken text, with the word being spoken marked.
function createCaption(caption) {
  let characters = "";
  let starts = [];
  let shown = -1;
  const show = (text) => {
    shown = -1;
    caption.replaceChildren(text);
  };
  // The text shown with no word marked (null once a word is): a reset to it changes nothing
  // in the page, so it writes nothing (a DOM write costs a frame while the next take's first
  // clause is synthesized on the same cores).
  let shownText = null;
  return {
    reset(text) {
      characters = "";
      starts = [];
      if (shownText === text) return;
      shownText = text;
      show(text);
    },
    add(message) {
      characters += message.characters.join("");
      starts = starts.concat(message.starts);
    },
    at(seconds) {
      if (!starts.length) return;
      let index = -1;
      for (let i = 0; i < starts.length && starts[i] <= seconds; i++) index = i;
      if (index < 0 || /\s/.test(characters[index])) return;
      let begin = index;
      while (begin > 0 && !/\s/.test(characters[begin - 1])) begin--;
      if (begin === shown) return;
      let end = index;
      while (end < characters.length && !/\s/.test(characters[end])) end++;
      shown = begin;
      shownText = null;
      const word = element("mark", "xi-word");
      word.textContent = characters.slice(begin, end);
      caption.replaceChildren(characters.slice(0, begin), word, characters.slice(end));
      // Keep the word in view inside the caption without scrolling the notebook.
      const top = word.offsetTop - caption.offsetTop;
      if (top < caption.scrollTop || top > caption.scrollTop + caption.clientHeight - 16) {
        caption.scrollTop = Math.max(0, top - 4);
      }
    },
  };
}

function render({ model, el }) {
  const root = element("div", "xi-player-root");
  const caption = element("div", "xi-player-caption");
  const audio = element("audio", "xi-player-audio");
  audio.controls = true;
  audio.preload = "auto";
  audio.setAttribute("aria-label", "The take");
  const footer = element("div", "xi-player-footer");
  const state = element("span", "xi-player-state");
  const download = element("a", "xi-download");
  download.textContent = "Download take";
  download.hidden = true;
  footer.append(state, download);
  const wave = createWave(audio);
  const spoken = createCaption(caption);
  root.append(caption, wave.canvas, audio, footer);
  el.append(root);

  let take = null;
  let lastReported = -1;
  let stopAdopting = () => {};
  // The card of the take before the one streaming: its <audio> stays out of the page until the
  // new take's card replaces it (or the new take is given up). Put back at Speak, it grew the
  // cell's output while the first clause was synthesized, and left again when the take ended.
  let releasePreviousCard = () => {};
  function releasePrevious() {
    const release = releasePreviousCard;
    releasePreviousCard = () => {};
    release();
  }
  let lastTakeId = null;
  let lastBlob = null;
  let lastUrl = null;
  const objectUrls = [];

  function keepUrl(url) {
    objectUrls.push(url);
    return url;
  }

  function stateLine(status, chunks, bytes, seconds) {
    if (status === "idle") return "";
    return `${status} · ${chunks} chunks · ${(bytes / 1024).toFixed(1)} kB` +
      (seconds > 0 ? ` · ${seconds.toFixed(1)} s` : "");
  }
  // Writes only what changed: the page renders a frame for every change, and the frames
  // between Speak and the first chunk take CPU from the synthesis of the first clause.
  function showState() {
    const line = stateLine(model.get("status"), model.get("chunks_received"),
      model.get("bytes_received"), model.get("duration"));
    if (state.textContent !== line) state.textContent = line;
    const text = model.get("text");
    if (caption.title !== text) {
      spoken.reset(text);
      caption.title = text;
    }
  }

  // Playback state for the kernel, sent in one message after the media event that changed it:
  // a save is a websocket send (≈ 4 ms as the take starts to play), which the event's other
  // listeners (the caption's word, the page's own) need not wait for.
  const unreported = new Map();
  let reportTimer = 0;
  function report(name, value) {
    unreported.set(name, value);
    if (!reportTimer) reportTimer = setTimeout(sendReports, 0);
  }
  function sendReports() {
    reportTimer = 0;
    let changed = false;
    for (const [name, value] of unreported) {
      if (model.get(name) !== value) {
        model.set(name, value);
        changed = true;
      }
    }
    unreported.clear();
    if (changed) model.save_changes();
  }

  function finish(takeId) {
    if (!take) return;
    if (takeId) {
      // The card before goes back once this take's card is in the page: it replaces it.
      const previousCard = releasePreviousCard;
      releasePreviousCard = () => {};
      stopAdopting = adoptSavedCard(takeId, previousCard);
    } else {
      releasePrevious();
    }
    lastTakeId = takeId || null;
    take.ended = true;
    const blob = new Blob(take.parts, { type: take.contentType });
    lastBlob = blob;
    const url = keepUrl(URL.createObjectURL(blob));
    lastUrl = url;
    download.href = url;
    download.download = `take${take.extension}`;
    download.hidden = false;
    wave.show(blob);
    if (take.source) {
      pump(take);
    } else {
      audio.src = url;
      audio.play().catch(() => {});
    }
  }

  function leaveCurrentTake() {
    audio.pause();
    download.hidden = true;
    releasePrevious();
    releasePreviousCard = stopAdopting;
    stopAdopting = () => {};
    wave.clear();
  }

  // Speak was pressed: a take with an open MediaSource, ready for the kernel's "start".
  let prepared = null;
  function prepare() {
    const contentType = model.get("content_type");
    if (prepared || model.get("status") === "streaming" || !canStream(contentType)) return;
    const previous = { src: lastUrl, takeId: lastTakeId };
    leaveCurrentTake();
    const ready = createTake(audio, contentType, "");
    keepUrl(audio.src);
    prepared = { take: ready, previous, timer: setTimeout(dropPrepared, PREPARED_TAKE_MS) };
    // What the kernel's "start" will say, shown with the press (one frame for both): the
    // kernel's own update then changes nothing in the page while the first clause is made.
    state.textContent = stateLine("streaming", 0, 0, 0);
    spoken.reset(model.get("text"));
  }

  // No take came: the player shows the take it had before Speak was pressed.
  function dropPrepared() {
    if (!prepared) return;
    clearTimeout(prepared.timer);
    const { previous } = prepared;
    prepared = null;
    showState();
    audio.pause();
    if (previous.src) {
      audio.src = previous.src;
    } else {
      audio.removeAttribute("src");
      audio.load();
    }
    // The previous take is the player's again, and its card's <audio> still out of the page.
    stopAdopting = releasePreviousCard;
    releasePreviousCard = () => {};
    if (previous.src && previous.takeId) {
      wave.show(lastBlob);
      download.hidden = false;
    }
  }

  // Speak pressed in this player's own widget (a click, or Ctrl/Cmd+Enter: see frontend.js).
  // The widget's box puts the player inside it only after rendering it, so the widget is looked
  // up at each press, not here; the document's capture phase sees the press before anything in
  // the page can stop it.
  const onSpeak = (event) => {
    const root = el.closest(".xi-root");
    const target = event.target;
    if (!root || !(target instanceof Element) || target.closest(".xi-root") !== root) return;
    if (event.type === "xi-speak" || target.closest(".xi-speak")) prepare();
  };
  document.addEventListener("click", onSpeak, true);
  document.addEventListener("xi-speak", onSpeak, true);

  function onMessage(msg, buffers) {
    if (!msg || typeof msg.type !== "string") return;
    if (msg.type === "start") {
      const ready = prepared && prepared.take.contentType === msg.content_type;
      if (ready) {
        clearTimeout(prepared.timer);
        take = prepared.take;
        take.extension = msg.extension;
        prepared = null;
      } else {
        dropPrepared();
        leaveCurrentTake();
        take = createTake(audio, msg.content_type, msg.extension);
        if (take.source) keepUrl(audio.src);
      }
      spoken.reset(msg.text || "");
    } else if (msg.type === "cancel") {
      dropPrepared();
    } else if (msg.type === "chunk" && take && buffers && buffers.length > 0) {
      const bytes = asBytes(buffers[0]);
      take.parts.push(bytes);
      if (take.source) {
        take.pending.push(bytes);
        pump(take);
      }
    } else if (msg.type === "alignment" && Array.isArray(msg.characters)) {
      spoken.add(msg);
    } else if (msg.type === "end") {
      finish(msg.take);
    } else if (msg.type === "stop" || msg.type === "error") {
      // No new card is coming: the take saved before is the notebook's to play again.
      releasePrevious();
      audio.pause();
      if (take && take.source && take.source.readyState === "open" && !take.buffer?.updating) {
        take.source.endOfStream();
      }
      // What arrived of the take stays in the player, with its waveform; a take that ended
      // before any audio gives the blank waveform's place back.
      if (take && take.parts.length > 0) {
        wave.show(new Blob(take.parts, { type: take.contentType }));
      } else if (take) {
        wave.hide();
      }
      take = null;
    }
  }

  const onPlaying = () => report("playing", true);
  const onPaused = () => report("playing", false);
  const onTime = () => {
    spoken.at(audio.currentTime);
    // A source being replaced (no data yet) has no position to report: the kernel resets the
    // position itself when the next take starts, with no message from here while it begins.
    if (audio.readyState === HTMLMediaElement.HAVE_NOTHING) return;
    // Report the position a few times a second, not on every frame.
    if (Math.abs(audio.currentTime - lastReported) >= 0.25 || audio.ended) {
      lastReported = audio.currentTime;
      report("position", Math.round(audio.currentTime * 100) / 100);
    }
  };
  audio.addEventListener("playing", onPlaying);
  audio.addEventListener("pause", onPaused);
  audio.addEventListener("ended", onPaused);
  audio.addEventListener("timeupdate", onTime);
  model.on("msg:custom", onMessage);
  const stateEvents = "change:status change:bytes_received change:chunks_received " +
    "change:duration change:text";
  model.on(stateEvents, showState);
  showState();

  return () => {
    document.removeEventListener("click", onSpeak, true);
    document.removeEventListener("xi-speak", onSpeak, true);
    dropPrepared();
    clearTimeout(reportTimer);
    model.off("msg:custom", onMessage);
    model.off(stateEvents, showState);
    audio.pause();
    stopAdopting();
    releasePrevious();
    wave.close();
    objectUrls.forEach((url) => URL.revokeObjectURL(url));
  };
}

export default { render };
