// Query terms for values a user clicks: a tag, a place, a camera, a year.

export function quoted(value) {
  const text = String(value);
  if (/^[\p{L}\p{N}_.-]+$/u.test(text) && !/^(and|or|not|in|all|order|by|count|exists)$/i.test(text)) return text;
  return text.includes('"') ? `'${text}'` : `"${text}"`;
}

export function term(key, value) {
  return `${key}:${quoted(value)}`;
}

// A button that searches for `query` when pressed.
export function chip(label, query, onSearch, className = "") {
  const button = document.createElement("button");
  button.type = "button";
  button.className = `chip ${className}`.trim();
  button.textContent = label;
  button.title = `Search ${query}`;
  button.dataset.query = query;
  button.addEventListener("click", (event) => {
    event.stopPropagation();
    onSearch(query);
  });
  return button;
}
