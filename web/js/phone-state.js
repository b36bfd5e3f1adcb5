// What a phone knows of its own part in each step, folded from the messages the server sends it
// alone: the answer or pass it sent and whether the server has it (ack), the feedback on its
// guess, the character it answers as, its own shift. Pure, like live-state.js: join.js keeps the
// result in sessionStorage (this tab only) and draws from it.
//
// The state is an object keyed by step index; each entry may hold
//   sent      {pass, value, guess, acked, submission, help?}: what this phone sent for the step
//   feedback  the `feedback` message on its guess
//   assigned  the character from `assigned`
//   own_shift the `own_shift` message

/** `phone` with step `index`'s entry changed by `changes`, as a new object. */
function put(phone, index, changes) {
  return { ...phone, [index]: { ...phone[index], ...changes } };
}

/**
 * The phone's state after one server message.
 * @param {object} phone
 * @param {{type: string}} message
 */
export function reducePhone(phone, message) {
  switch (message.type) {
    case "ack": {
      const sent = phone[message.step]?.sent;
      // An ack for an earlier submission than the one now waiting says nothing about this one.
      if (!sent || (sent.submission && sent.submission !== message.submission)) return phone;
      return put(phone, message.step, { sent: { ...sent, acked: true, help: message.help ?? null } });
    }
    case "error": {
      // A refused submission is no longer sent: the phone offers to send it again.
      if (!message.ref) return phone;
      const index = Object.keys(phone).find((key) => phone[key].sent?.submission === message.ref);
      return index === undefined ? phone : put(phone, index, { sent: null });
    }
    case "feedback":
      return put(phone, message.step, { feedback: message });
    case "assigned":
      return put(phone, message.step, { assigned: message.character });
    case "own_shift":
      return put(phone, message.step, { own_shift: message });
    default:
      return phone;
  }
}

/**
 * The phone has just sent `message` (an `answer` or a `pass`): it waits for the ack.
 * @param {object} phone
 * @param {{type: "answer"|"pass", step: number, submission: string, value?: unknown, guess?: unknown}} message
 */
export function submitted(phone, message) {
  return put(phone, message.step, {
    sent: {
      pass: message.type === "pass", value: message.value ?? null, guess: message.guess ?? null,
      acked: false, submission: message.submission,
    },
  });
}

/**
 * What the server says this participant already gave for step `index` (a snapshot's `answers`
 * and `passed`, after a refresh or on another tab), when the phone itself has no record of it.
 * @param {object} phone
 * @param {{answers?: object, passed?: number[]}} state the live state
 * @param {number} index
 */
export function restored(phone, state, index) {
  if (phone[index]?.sent) return phone;
  const server = state.answers?.[index];
  if (!server && !state.passed?.includes(index)) return phone;
  return put(phone, index, {
    sent: { pass: !server, value: server ?? null, guess: null, acked: true, submission: null },
  });
}
