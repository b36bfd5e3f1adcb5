// Keep the phone's screen on during timed steps (breathing, timers): a phone that sleeps halfway
// through an 85 s breathing exercise loses the room's pace. Uses the Screen Wake Lock API where
// the browser offers it (it needs a secure context: https or localhost); elsewhere it does nothing.

let lock = null;
let holder = null;

let asking = false;

async function acquire() {
  // One lock at a time: a timed step that follows another keeps the lock it already has.
  if (lock || asking || !holder?.isConnected || document.visibilityState !== "visible" || !navigator.wakeLock) return;
  asking = true;
  try {
    lock = await navigator.wakeLock.request("screen");
    lock.addEventListener("release", () => { lock = null; });
  } catch {
    lock = null; // refused (battery saver, no permission): the step still works, the screen may dim
  } finally {
    asking = false;
  }
}

/** Hold the screen on while `element` (the step) is on the page. */
export function holdWake(element) {
  holder = element;
  queueMicrotask(acquire); // once the step is on the page
}

// The browser drops the lock when the tab is hidden; take it again when it comes back, and let
// it go once the timed step has left the page.
document.addEventListener("visibilitychange", acquire);
new MutationObserver(() => {
  if (lock && !holder?.isConnected) {
    lock.release();
    lock = null;
    holder = null;
  }
}).observe(document.body, { childList: true, subtree: true });
