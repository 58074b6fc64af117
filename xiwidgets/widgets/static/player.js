// xiwidgets Player: plays audio chunks as they arrive from the kernel.
//
// The kernel sends custom messages: {type: "start", content_type, extension, text}, then one
// {type: "chunk"} per piece of audio with the bytes as a binary buffer, then {type: "end"}
// (or "stop" / "error"). Chunks feed a MediaSource attached to an <audio> element, so playback
// starts with the first chunk and `currentTime` is observable; where MediaSource cannot take
// the type, the chunks are collected and played as one blob when the take ends.

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

function render({ model, el }) {
  const root = document.createElement("div");
  root.className = "xi-player-root";
  const caption = document.createElement("div");
  caption.className = "xi-player-caption";
  const audio = document.createElement("audio");
  audio.className = "xi-player-audio";
  audio.controls = true;
  audio.preload = "auto";
  const footer = document.createElement("div");
  footer.className = "xi-player-footer";
  const state = document.createElement("span");
  state.className = "xi-player-state";
  const download = document.createElement("a");
  download.className = "xi-download";
  download.textContent = "Download take";
  download.hidden = true;
  footer.append(state, download);
  root.append(caption, audio, footer);
  el.append(root);

  let take = null;
  let lastReported = -1;
  const objectUrls = [];

  function keepUrl(url) {
    objectUrls.push(url);
    return url;
  }

  function showState() {
    const status = model.get("status");
    const kb = (model.get("bytes_received") / 1024).toFixed(1);
    const seconds = model.get("duration");
    state.textContent =
      status === "idle" ? "" : `${status} · ${model.get("chunks_received")} chunks · ${kb} kB` +
      (seconds > 0 ? ` · ${seconds.toFixed(1)} s` : "");
    caption.textContent = model.get("text");
  }

  function report(name, value) {
    if (model.get(name) !== value) {
      model.set(name, value);
      model.save_changes();
    }
  }

  function finish() {
    if (!take) return;
    take.ended = true;
    const blob = new Blob(take.parts, { type: take.contentType });
    const url = keepUrl(URL.createObjectURL(blob));
    download.href = url;
    download.download = `take${take.extension}`;
    download.hidden = false;
    if (take.source) {
      pump(take);
    } else {
      audio.src = url;
      audio.play().catch(() => {});
    }
  }

  function onMessage(msg, buffers) {
    if (!msg || typeof msg.type !== "string") return;
    if (msg.type === "start") {
      audio.pause();
      download.hidden = true;
      take = createTake(audio, msg.content_type, msg.extension);
      if (take.source) keepUrl(audio.src);
    } else if (msg.type === "chunk" && take && buffers && buffers.length > 0) {
      const bytes = asBytes(buffers[0]);
      take.parts.push(bytes);
      if (take.source) {
        take.pending.push(bytes);
        pump(take);
      }
    } else if (msg.type === "end") {
      finish();
    } else if (msg.type === "stop" || msg.type === "error") {
      audio.pause();
      if (take && take.source && take.source.readyState === "open" && !take.buffer?.updating) {
        take.source.endOfStream();
      }
      take = null;
    }
  }

  const onPlaying = () => report("playing", true);
  const onPaused = () => report("playing", false);
  const onTime = () => {
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
    model.off("msg:custom", onMessage);
    model.off(stateEvents, showState);
    audio.pause();
    objectUrls.forEach((url) => URL.revokeObjectURL(url));
  };
}

export default { render };
