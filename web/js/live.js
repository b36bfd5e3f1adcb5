// The live connection every page shares: hello, resume after a drop or a refresh, sequence
// tracking and clock sync. The session state is folded from the server's messages by the pure
// reduce() of live-state.js; this file keeps the socket, the timers and the storage.
//
// The state is saved in sessionStorage after every event together with the epoch and the last
// sequence number, so that after a refresh the page resumes with exactly the events it missed
// (or a fresh snapshot) instead of starting over. Participants also keep their resume token there,
// one per code, so a refreshed phone comes back as the same anonymous participant.

import { store } from "./dom.js";
import { EVENTS, emptyState, order, reduce } from "./live-state.js";
import { normalizeCode } from "./codes.js";

const BACKOFF = [300, 1000, 2000, 3000, 5000];
// Up to this much random wait on top: when a server restarts, a whole room reconnects at once,
// and spreading 10,000 resumes over two seconds is what keeps each of them fast.
const JITTER = 2000;
// A phone on a dead network (packets silently dropped) gets no close event, and close() on such a
// socket waits for a closing handshake that never comes. So the page pings every 5 s and, with no
// pong 4 s later, abandons the socket at once and reconnects: a dead network shows within 9 s.
const PING_EVERY = 5000;
const PONG_TIMEOUT = 4000;
/** A handshake or hello that hangs this long is a dead network too. */
const CONNECT_TIMEOUT = 8000;
/** Refusals after which retrying cannot help. */
const FATAL = new Set(["unknown-session", "bad-token"]);
/** A command pressed while the page (re)joins waits this long for it at most (sendWhenJoined). */
const JOIN_WAIT = 10000;
export class Live {
  /**
   * @param {object} options
   * @param {"participant"|"facilitator"|"screen"} options.role
   * @param {string} [options.code] join code (participant, screen)
   * @param {string} [options.session] session id (facilitator)
   * @param {string} [options.token] facilitator token
   * @param {(message: object, live: Live) => void} options.onMessage after the state is updated
   * @param {(status: string, live: Live) => void} options.onStatus connecting|open|reconnecting|failed
   */
  constructor({ role, code, session, token, onMessage, onStatus }) {
    this.role = role;
    this.code = normalizeCode(code);
    this.session = session;
    this.token = token;
    this.onMessage = onMessage;
    this.onStatus = onStatus;
    this.key = `attune:live:${role}:${this.code || session}`;
    const saved = store.get(this.key);
    this.epoch = saved?.epoch ?? null;
    this.seq = saved?.seq ?? 0;
    this.resumeToken = saved?.token ?? null;
    // The session's join code rides on the socket URL (`/ws?s=CODE`) so that a load balancer can
    // send every client of one session to the same node (docs/deploy.md, "Several nodes"). The
    // facilitator learns it from the first welcome.
    this.route = this.code || saved?.route || null;
    this.state = saved?.state ?? emptyState();
    this.clockOffset = 0;
    this.bestRtt = Infinity;
    this.outbox = store.get(`${this.key}:outbox`, []);
    /** Commands pressed before this page has rejoined, for sendWhenJoined (memory only). */
    this.waiting = [];
    this.attempt = 0;
    this.stopped = false;
    this.joined = false;
    this.ws = null;
    window.addEventListener("online", () => this.retryNow());
    // A browser that knows it has lost its network says so: the socket is dead then, so it is
    // abandoned at once instead of after the missed pong (up to 9 s), and "online" reconnects.
    window.addEventListener("offline", () => this.abandon());
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") this.retryNow();
    });
  }

  /** Server clock now (ms), estimated from the fastest ping round trip. */
  now() {
    return Date.now() + this.clockOffset;
  }

  connect() {
    this.stopped = false;
    clearTimeout(this.retryTimer);
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const query = this.route ? `?s=${encodeURIComponent(this.route)}` : "";
    const ws = new WebSocket(`${scheme}//${location.host}/ws${query}`);
    this.ws = ws;
    this.joined = false;
    this.onStatus(this.attempt === 0 && !this.epoch ? "connecting" : "reconnecting", this);
    clearTimeout(this.connectTimer);
    this.connectTimer = setTimeout(() => {
      if (ws === this.ws && !this.joined) this.abandon();
    }, CONNECT_TIMEOUT);
    ws.onopen = () => ws.send(JSON.stringify(this.hello()));
    ws.onmessage = (event) => {
      if (ws !== this.ws) return;
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      this.receive(message);
    };
    ws.onclose = () => {
      if (ws === this.ws) this.lost();
    };
  }

  /** The socket is gone (closed, or abandoned as dead): say so and reconnect after a wait. */
  lost() {
    this.ws = null;
    this.joined = false;
    clearInterval(this.pinger);
    clearTimeout(this.pongTimer);
    clearTimeout(this.connectTimer);
    if (this.stopped) return;
    this.onStatus("reconnecting", this);
    const delay = BACKOFF[Math.min(this.attempt, BACKOFF.length - 1)] + Math.random() * JITTER;
    this.attempt += 1;
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  /** Give up on the current socket without waiting for its close event. */
  abandon() {
    const ws = this.ws;
    if (!ws) return;
    ws.onclose = null;
    ws.onmessage = null;
    ws.onopen = null;
    ws.close();
    this.lost();
  }

  retryNow() {
    if (this.stopped || (this.ws && this.ws.readyState <= WebSocket.OPEN)) return;
    clearTimeout(this.retryTimer);
    this.connect();
  }

  /** Participant: leave for good, withdrawing every answer, and forget this session here. */
  leave() {
    const sent = this.send({ type: "leave" });
    this.stop();
    for (const key of Object.keys(sessionStorage)) {
      if (key.startsWith(this.key) || key.includes(`:${this.code}:`)) store.remove(key);
    }
    return sent;
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.pongTimer);
    clearTimeout(this.connectTimer);
    clearInterval(this.pinger);
    if (this.ws) this.ws.close();
    this.ws = null;
  }

  hello() {
    const hello = { type: "hello", role: this.role };
    if (this.role === "facilitator") Object.assign(hello, { session: this.session, token: this.token });
    else hello.code = this.code;
    if (this.epoch) {
      hello.resume = { epoch: this.epoch, last_seq: this.seq };
      if (this.resumeToken) hello.resume.token = this.resumeToken;
    } else if (this.resumeToken) {
      hello.resume = { token: this.resumeToken };  // state lost: a snapshot with our answers
    }
    return hello;
  }

  /** Send a message now, or keep it for the next connection if it must not be lost. */
  send(message, { keep = false } = {}) {
    if (this.ws && this.joined && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify(message));
      if (keep) this.remember(message);
      return true;
    }
    if (keep) this.remember(message);
    return false;
  }

  /**
   * Send `message` now, or, while the page is joining or rejoining (a console just reloaded
   * shows its saved step before the server has answered), once it has caught up with the
   * session, if `still(state)` then holds: what the person saw when they pressed is still so
   * (then `onSent()`). Otherwise, or after JOIN_WAIT, it is dropped and `onDropped()` says so.
   * Returns "sent", "waiting" or "lost" (the page has stopped for good).
   */
  sendWhenJoined(message, still, { onSent = () => {}, onDropped = () => {} } = {}) {
    if (this.send(message)) return "sent";
    if (this.stopped) return "lost";
    this.waiting.push({ message, still, onSent, onDropped, until: Date.now() + JOIN_WAIT });
    return "waiting";
  }

  /** Send what waited for the join, once the replay after `welcome` has caught up. */
  sendWaiting() {
    if (!this.waiting.length || !this.joined || this.seq < (this.lastWelcome?.seq ?? 0)) return;
    const waiting = this.waiting;
    this.waiting = [];
    for (const { message, still, onSent, onDropped, until } of waiting) {
      if (Date.now() <= until && still(this.state)) {
        this.ws.send(JSON.stringify(message));
        onSent();
      } else onDropped();
    }
  }

  /** Answers wait in an outbox until acknowledged; resending the same submission is harmless. */
  remember(message) {
    this.outbox = this.outbox.filter((m) => m.step !== message.step);
    this.outbox.push(message);
    store.set(`${this.key}:outbox`, this.outbox);
  }

  forget(submission) {
    this.outbox = this.outbox.filter((m) => m.submission !== submission);
    store.set(`${this.key}:outbox`, this.outbox);
  }

  ping() {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return;
    this.ws.send(JSON.stringify({ type: "ping", t: Date.now() }));
    clearTimeout(this.pongTimer);
    // A phone that lost its network often gets no close event; a missing pong is the sign.
    this.pongTimer = setTimeout(() => this.abandon(), PONG_TIMEOUT);
  }

  receive(message) {
    switch (order(this.seq, message)) {
      case "old":
        return;
      case "gap":
        // A gap: reconnecting resumes from the last event we saw and fills it.
        this.abandon();
        return;
      default:
        if (EVENTS.has(message.type)) this.seq = message.seq;
    }
    this.state = reduce(this.state, message, this.role);
    switch (message.type) {
      case "welcome":
        clearTimeout(this.connectTimer);
        this.joined = true;
        this.attempt = 0;
        this.lastWelcome = { replay: message.replay, seq: message.seq };
        this.epoch = message.epoch;
        this.route = normalizeCode(message.code) || this.route;
        // With replay the missed events follow and advance seq one by one; a snapshot is the
        // whole state as of welcome.seq.
        if (!message.replay) this.seq = message.seq;
        if (message.token) this.resumeToken = message.token;
        this.onStatus("open", this);
        for (const kept of this.outbox) this.ws.send(JSON.stringify(kept));
        this.bestRtt = Infinity;
        for (let i = 0; i < 4; i += 1) setTimeout(() => this.ping(), i * 250);
        clearInterval(this.pinger);
        this.pinger = setInterval(() => this.ping(), PING_EVERY);
        break;
      case "ack":
        this.forget(message.submission);
        break;
      case "pong": {
        clearTimeout(this.pongTimer);
        const rtt = Date.now() - message.t;
        if (rtt <= this.bestRtt) {
          this.bestRtt = rtt;
          this.clockOffset = message.server - (message.t + rtt / 2);
        }
        break;
      }
      case "error":
        if (!this.joined && FATAL.has(message.code)) {
          this.stop();
          this.onStatus("failed", this);
        }
        if (message.code === "bad-resume") this.resumeToken = null;
        if (message.ref) this.forget(message.ref);
        break;
      default:
        break;
    }
    this.save();
    this.onMessage(message, this);
    this.sendWaiting();
  }

  save() {
    store.set(this.key, {
      epoch: this.epoch, seq: this.seq, token: this.resumeToken, state: this.state,
      route: this.route,
    });
  }
}
