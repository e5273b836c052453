// The controls for a prompt's options: checkboxes (with Select all / Clear) for a
// multi-select, radio buttons otherwise, the default marked. Used by the prompt dialog
// and by the what-if replay form.

import { context, el } from "./api.js";

const SPECIAL = new Set(context.special_values || []);
let counter = 0;

/**
 * @param {object} spec  {legend, options, multiple, defaultValue, selected}
 * @returns {{element: HTMLElement, value: () => (string|string[]|null)}}
 */
export function buildChoices({ legend, options, multiple, defaultValue, selected }) {
  counter += 1;
  const name = `choice-${counter}`;
  const defaults = new Set(Array.isArray(defaultValue) ? defaultValue : [defaultValue]);
  const initial = selected === undefined || selected === null ? defaultValue : selected;
  const chosen = new Set(Array.isArray(initial) ? initial : [initial]);
  const fieldset = el("fieldset", { class: "choices" }, el("legend", {}, legend));
  const inputs = [];

  if (multiple) {
    const selectAll = el("button", { type: "button", class: "small" }, "Select all");
    const clearAll = el("button", { type: "button", class: "small" }, "Clear");
    selectAll.addEventListener("click", () => {
      // "All" means every ordinary option: ALL, DEEP and NONE stand alone.
      for (const input of inputs) input.checked = !SPECIAL.has(input.value);
    });
    clearAll.addEventListener("click", () => {
      for (const input of inputs) input.checked = false;
    });
    fieldset.append(el("div", { class: "choice-tools" }, selectAll, clearAll));
  }

  const list = el("div", { class: "choice-list" });
  options.forEach((option, index) => {
    const id = `${name}-${index}`;
    const input = el("input", {
      type: multiple ? "checkbox" : "radio",
      name,
      id,
      value: option,
    });
    input.checked = chosen.has(option);
    if (multiple) {
      input.addEventListener("change", () => {
        if (!input.checked) return;
        // Keep the selection valid: a special value excludes every other option.
        for (const other of inputs) {
          if (other === input) continue;
          if (SPECIAL.has(input.value) || SPECIAL.has(other.value)) other.checked = false;
        }
      });
    }
    inputs.push(input);
    const label = el("label", { for: id, class: "choice" }, input, el("span", {}, option));
    if (defaults.has(option)) label.append(el("span", { class: "default-tag" }, "(default)"));
    list.append(label);
  });
  fieldset.append(list);

  function value() {
    if (multiple) return inputs.filter((i) => i.checked).map((i) => i.value);
    const picked = inputs.find((i) => i.checked);
    return picked ? picked.value : null;
  }

  function setDisabled(disabled) {
    for (const control of fieldset.querySelectorAll("input, button")) control.disabled = disabled;
  }

  return { element: fieldset, value, setDisabled };
}
