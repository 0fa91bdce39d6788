// What ui.bench.ts measures inside the page, installed before the app's own script runs (page.addInitScript). It is
// a string because this side of the project has no DOM types: it runs in Chromium, never in Node.
//
//   __bench.watchPainted()  resolves with the time the first message rows were painted: a MutationObserver sees
//                           the first article in the history, then one animation frame and a task later the frame
//                           holding it has been produced
//   __bench.startFrames()   records requestAnimationFrame deltas until stopFrames() returns them (ms)
//   __bench.seen()          how many distinct messages have been in the DOM since the last reset (scrolled past)
//   __bench.marks()         the app's User Timing marks (renderer/src/state/app.ts MARKS), latest of each
export const PAGE_SCRIPT = `
(() => {
  const seen = new Set();
  let frames = null;
  const afterPaint = (resolve) => requestAnimationFrame(() => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => resolve(performance.now());
    channel.port2.postMessage(0);
  });
  const collect = () => {
    for (const el of document.querySelectorAll('[role=log] article[data-message]')) seen.add(el.getAttribute('data-message'));
  };
  new MutationObserver(collect).observe(document, { childList: true, subtree: true });
  window.__bench = {
    watchPainted() {
      performance.clearMarks();
      window.__painted = new Promise((resolve) => {
        const observer = new MutationObserver(() => {
          if (!document.querySelector('[role=log] article[data-message]')) return;
          observer.disconnect();
          afterPaint(resolve);
        });
        observer.observe(document, { childList: true, subtree: true });
      });
    },
    painted() { return window.__painted; },
    marks() {
      const out = {};
      for (const mark of performance.getEntriesByType('mark')) out[mark.name] = mark.startTime;
      return out;
    },
    startFrames() {
      frames = [];
      let last = performance.now();
      const tick = (now) => {
        if (!frames) return;
        frames.push(now - last);
        last = now;
        requestAnimationFrame(tick);
      };
      requestAnimationFrame((now) => { last = now; requestAnimationFrame(tick); });
    },
    stopFrames() { const out = frames; frames = null; return out; },
    resetSeen() { seen.clear(); collect(); },
    seen() { return seen.size; },
    rows() { return document.querySelectorAll('[role=log] article[data-message]').length; },
  };
})();
`;
