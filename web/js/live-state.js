// The session state every page folds from the server's messages, as pure functions: no socket,
// no timer, no storage and no DOM, so tests/web/js/ checks them with Node alone. live.js owns the
// connection (hello, resume, ping) and calls these; pages read the result as `live.state`.
//
// reduce() never changes the state it is given: it returns the next one (or the same object when
// the message changes nothing), the browser's counterpart of core/session.py's fold.

/** Messages that carry a `seq` and must arrive in order, one by one (docs/protocol.md). */
export const EVENTS = new Set(["step", "responses", "reveal", "ended", "groups", "clock", "join"]);

export function emptyState() {
  return {
    title: "", language: "en", status: "lobby", step: null, step_count: 0, started_at: null,
    responses_open: false, revealed: false, clock: null, join_shown: false, outline: [], answers: {}, passed: [],
    results: null, presence: null, code: "", session: "", min_responses: 3,
    groups: null, group: null, group_counts: null, moderator: false, themes: false,
  };
}

/**
 * Where a message stands against the last event applied: "apply" (the next event, or a message
 * outside the event sequence), "old" (seen already: ignore it) or "gap" (one or more missed:
 * reconnect and resume from `seq` to fill it).
 * @param {number} seq the last event's sequence number
 * @param {{type: string, seq?: number}} message
 * @returns {"apply"|"old"|"gap"}
 */
export function order(seq, message) {
  if (!EVENTS.has(message.type)) return "apply";
  if (message.seq <= seq) return "old";
  return message.seq === seq + 1 ? "apply" : "gap";
}

/** `state` with `changes`, as a new object. */
const next = (state, changes) => ({ ...state, ...changes });

/**
 * The state after one server message.
 * @param {object} state the current state (from emptyState() or a previous reduce)
 * @param {{type: string}} message a decoded server message
 * @param {"participant"|"facilitator"|"screen"} role who this page is: a facilitator keeps
 *   results across a hide (the console still shows them); only a participant gets no headcount
 */
export function reduce(state, message, role) {
  switch (message.type) {
    case "welcome":
      return welcome(state, message, role);
    case "step":
      return next(state, {
        clock: null,
        status: "running", step: message.step, started_at: message.started_at,
        responses_open: message.responses_open, revealed: false, results: null,
        groups: null, group: null, group_counts: null,
      });
    case "groups":  // a groups step's shared state (groups.js)
      return next(state, { groups: message });
    case "group":  // this participant's own group, private
      return next(state, { group: message });
    case "group_counts":
      return next(state, { group_counts: message });
    case "responses":
      return next(state, { responses_open: message.open });
    case "clock":
      return next(state, { clock: message.clock ?? null });
    case "join":
      return next(state, { join_shown: Boolean(message.shown) });
    case "reveal":
      return next(state, {
        revealed: message.revealed,
        results: !message.revealed && role !== "facilitator" ? null : state.results,
      });
    case "ended":
      return next(state, { status: "ended", responses_open: false });
    case "results":
      return !state.step || message.step === state.step.index ? next(state, { results: message }) : state;
    case "presence":
      return next(state, { presence: { joined: message.joined, connected: message.connected } });
    default:
      return state;
  }
}

/**
 * A welcome: with a snapshot, the whole state as of the welcome (the results and headcount kept
 * until fresh ones come, unless they belong to another step); with replay, the state as it was,
 * the missed events following one by one.
 */
function welcome(state, message, role) {
  let folded = state;
  if (message.snapshot) {
    folded = { ...emptyState(), ...message.snapshot, results: state.results, presence: state.presence };
    if (folded.step && folded.results && folded.results.step !== folded.step.index) folded.results = null;
  }
  folded = next(folded, {
    code: message.code, session: message.session, min_responses: message.min_responses,
    moderator: Boolean(message.moderator), themes: Boolean(message.themes),
  });
  // The headcount as of now, never the one saved before a refresh.
  if (role !== "participant") {
    folded.presence = { joined: message.joined ?? 0, connected: message.connected ?? 0 };
  }
  return folded;
}
