// The answer inputs a phone shows for each kind of step. Each returns
// { element, answer, guess: part|null, value(), guess(), set(value, guess), disable(flag), valid() }
// and calls onChange(draft) whenever the person changes something, so the page can keep a draft
// across refreshes. `answer` and `guessPart` are the two screens of a step with a guess: the
// page shows one at a time (answer, then "now guess the room"). The step's question is shown
// above the input by the page (steps.js), so the input's own legend is for screen readers.

import { h } from "./dom.js";
import { formatNumber, t } from "./i18n.js";
import { QUADRANTS, quadrantOf } from "./charts.js";

let uid = 0;
const nextId = (prefix) => `${prefix}-${(uid += 1)}`;

function radioChip(name, value, label, { type = "radio", cls = "chip" } = {}) {
  const id = nextId(name);
  const input = h("input", { type, name, value, id, class: "chip-input" });
  return h("span", { class: cls }, input, h("label", { for: id, dir: "auto" }, label));
}

function checked(root, name) {
  return [...root.querySelectorAll(`input[name="${name}"]:checked`)].map((i) => i.value);
}

function check(root, name, values) {
  const wanted = new Set((values ?? []).map(String));
  for (const input of root.querySelectorAll(`input[name="${name}"]`)) input.checked = wanted.has(input.value);
}

/** The four coloured quadrants of emotion words, as one radio group. */
export function emotionPicker(words, name, legend, { compact = false, hideLegend = false } = {}) {
  const byQuadrant = Object.fromEntries(QUADRANTS.map((q) => [q, []]));
  for (const word of words) byQuadrant[quadrantOf(word)].push(word);
  for (const list of Object.values(byQuadrant)) list.sort((a, b) => b.e - a.e || a.p - b.p);
  return h("fieldset", { class: ["emotion-picker", compact && "emotion-picker-compact guess-box"] },
    h("legend", { dir: "auto", class: hideLegend && "visually-hidden" }, legend),
    h("div", { class: "picker-axes", "aria-hidden": "true" },
      h("span", { class: "axis-y" }, t("axis.moreEnergy")), h("span", { class: "axis-x" }, t("axis.morePleasant"))),
    h("div", { class: "quadrants" }, QUADRANTS.map((q) => byQuadrant[q].length
      ? h("div", { class: ["quadrant", `q-${q}`], role: "group", "aria-label": t(`quadrant.${q}`) },
        h("p", { class: "quadrant-name", "aria-hidden": "true" }, t(`quadrant.${q}`)),
        h("div", { class: "chips" }, byQuadrant[q].map((w) => radioChip(name, w.id, w.label))))
      : h("div", { class: ["quadrant", "quadrant-empty", `q-${q}`] }))));
}

function intensityPicker(name) {
  return h("fieldset", { class: "intensity" },
    h("legend", {}, t("checkin.intensity")),
    h("div", { class: "segments" }, [1, 2, 3, 4, 5].map((n) =>
      radioChip(name, n, formatNumber(n), { cls: "segment" }))),
    h("div", { class: "segment-ends", "aria-hidden": "true" },
      h("span", {}, t("checkin.aLittle")), h("span", {}, t("checkin.aLot"))));
}

function slider(name, step, { guess = false, hideLabel = false } = {}) {
  const id = nextId(name);
  const middle = Math.round((step.min + step.max) / 2);
  const output = h("output", { class: "slider-value", for: id }, formatNumber(middle));
  const input = h("input", {
    type: "range", id, name, min: step.min, max: step.max, step: guess ? 0.1 : 1, value: middle,
    class: "slider", oninput: () => { output.textContent = formatNumber(Number(input.value)); },
  });
  const label = guess ? step.predict : step.prompt;
  return {
    input,
    element: h("div", { class: ["slider-field", guess && "slider-guess"] },
      h("label", { for: id, class: ["field-label", hideLabel && "visually-hidden"], dir: "auto" }, label), output, input,
      h("div", { class: "slider-ends", "aria-hidden": "true" },
        h("span", { dir: "auto" }, `${formatNumber(step.min)} ${step.min_label || ""}`),
        h("span", { dir: "auto" }, `${formatNumber(step.max)} ${step.max_label || ""}`))),
    set(value) {
      input.value = value;
      output.textContent = formatNumber(Number(input.value));
    },
  };
}

/** The second screen of a step with a guess: "Now guess the room", the guess question, its input. */
function guessPart(step, input) {
  const id = nextId("guess-q");
  return h("section", { class: "guess-part", "aria-labelledby": id },
    h("p", { class: "guess-lead" }, t("answer.nowGuess")),
    h("p", { class: "step-prompt step-question guess-question", id, dir: "auto", tabindex: "-1" }, step.predict),
    input);
}

export function answerInput(step, onChange) {
  const form = h("div", { class: "answer-input" });
  const answer = h("div", { class: "answer-part" });
  let guessBox = null;
  let value;
  let guess = () => null;
  let set;
  let valid = () => true;
  switch (step.kind) {
    case "checkin": {
      answer.append(emotionPicker(step.words, "word", step.prompt, { hideLegend: true }));
      if (step.intensity) answer.append(intensityPicker("intensity"));
      if (step.predict) {
        guessBox = guessPart(step, emotionPicker(step.words, "guess", step.predict, { compact: true, hideLegend: true }));
      }
      value = () => {
        const [word] = checked(form, "word");
        if (!word) return null;
        const [level] = checked(form, "intensity");
        return level ? { kind: "checkin", word, intensity: Number(level) } : { kind: "checkin", word };
      };
      guess = () => {
        const [word] = checked(form, "guess");
        return word ? { kind: "checkin", word } : null;
      };
      set = (v, g) => {
        check(form, "word", v ? [v.word] : []);
        check(form, "intensity", v?.intensity ? [v.intensity] : []);
        check(form, "guess", g ? [g.word] : []);
      };
      break;
    }
    case "scale": {
      const main = slider("scale", step, { hideLabel: true });
      const predicted = step.predict ? slider("guess", step, { guess: true, hideLabel: true }) : null;
      answer.append(main.element);
      if (predicted) guessBox = guessPart(step, predicted.element);
      value = () => ({ kind: "scale", value: Number(main.input.value) });
      guess = () => (predicted ? { kind: "scale", value: Number(predicted.input.value) } : null);
      set = (v, g) => {
        if (v) main.set(v.value);
        if (g && predicted) predicted.set(g.value);
      };
      break;
    }
    case "choice": {
      const type = step.multiple ? "checkbox" : "radio";
      answer.append(h("fieldset", { class: "options" },
        h("legend", { dir: "auto", class: "visually-hidden" }, step.prompt),
        step.multiple ? h("p", { class: "hint" }, t("choice.several")) : null,
        step.options.map((o) => radioChip("option", o.id, o.label, { type, cls: "option" }))));
      if (step.predict) {
        guessBox = guessPart(step, h("fieldset", { class: "options options-guess" },
          h("legend", { dir: "auto", class: "visually-hidden" }, step.predict),
          step.options.map((o) => radioChip("guess", o.id, o.label, { cls: "option" }))));
      }
      value = () => {
        const options = checked(form, "option");
        return options.length ? { kind: "choice", options } : null;
      };
      guess = () => {
        const options = checked(form, "guess");
        return options.length ? { kind: "choice", options } : null;
      };
      set = (v, g) => {
        check(form, "option", v?.options);
        check(form, "guess", g?.options);
      };
      break;
    }
    case "perspective": {
      const id = nextId("text");
      const counterId = nextId("count");
      const max = step.max_length || 280;
      // No maxlength: the browser would cut pasted text silently, mid-word. Say it instead,
      // before the limit, and let the person choose what to cut.
      const counter = h("p", { class: "counter", id: counterId, "aria-live": "polite" });
      const area = h("textarea", {
        id, name: "text", rows: 5, dir: "auto", class: "textbox",
        "aria-describedby": counterId, autocomplete: "off",
      });
      const count = () => {
        const n = [...area.value].length;
        counter.classList.toggle("counter-near", n > max * 0.9 && n <= max);
        counter.classList.toggle("counter-over", n > max);
        counter.textContent = n > max ? t("perspective.over", { over: n - max, max })
          : n > max * 0.9 ? t("perspective.near", { left: max - n, max })
            : t("perspective.count", { n, max });
        area.setAttribute("aria-invalid", String(n > max));
      };
      area.addEventListener("input", count);
      answer.append(h("label", { for: id, class: "field-label" },
        step.character ? t("perspective.labelAs", { name: step.character }) : t("perspective.label")),
      area, counter);
      count();
      value = () => (area.value.trim() ? { kind: "perspective", text: area.value } : null);
      valid = () => [...area.value].length <= max;
      set = (v) => {
        area.value = v?.text ?? "";
        count();
      };
      break;
    }
    default:
      return null;
  }
  form.append(answer);
  if (guessBox) form.append(guessBox);
  form.addEventListener("input", () => onChange({ value: value(), guess: guess() }));
  form.addEventListener("change", () => onChange({ value: value(), guess: guess() }));
  return {
    element: form,
    answer,
    guessPart: guessBox,
    value,
    guess,
    set,
    valid,
    disable(flag) {
      for (const el of form.querySelectorAll("input, textarea")) el.disabled = flag;
    },
  };
}
