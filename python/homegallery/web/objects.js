// Object boxes over the photo in the detail view, drawn with the face boxes (key a):
// each COCO object the detector found, its class name and score above its box.

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// One box per object, placed in the shown picture's pixels (left, top, width, height).
export function objectBoxes(objects, shown) {
  const boxes = [];
  for (const found of objects || []) {
    if (!Array.isArray(found.box) || found.box.length !== 4) continue;
    const [x, y, w, h] = found.box;
    const box = element("div", "object-box");
    box.style.left = `${shown.left + x * shown.width}px`;
    box.style.top = `${shown.top + y * shown.height}px`;
    box.style.width = `${w * shown.width}px`;
    box.style.height = `${h * shown.height}px`;
    box.dataset.class = found.class;
    const label = `${found.class} ${Math.round(found.score * 100)}%`;
    box.title = label;
    box.append(element("span", "object-name", label));
    boxes.push(box);
  }
  return boxes;
}
