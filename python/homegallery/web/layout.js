// Justified rows: every row fills the width, its height near the target.
//
// Rows break at the start of each group (a month of the timeline), and each group
// gets a header line, so year and month navigation are jumps to a header. The
// result is flat typed arrays: 100k items lay out in a few milliseconds and the
// visible rows are found by binary search on their tops.

export function justify(ratios, groups, width, targetHeight, gap, headerHeight) {
  const count = ratios.length;
  const rowStart = [];
  const rowCount = [];
  const rowTop = [];
  const rowHeight = [];
  const itemLeft = new Float32Array(count);
  const itemWidth = new Float32Array(count);
  const headers = []; // {top, group, index}
  let top = 0;
  let index = 0;
  const maxHeight = targetHeight * 1.6;
  groups.forEach((group, groupNumber) => {
    const end = Math.min(count, index + group[2]);
    headers.push({ top, group: groupNumber, index });
    top += headerHeight;
    while (index < end) {
      let sum = 0;
      let n = 0;
      // Take items until the row at the target height is at least as wide as the view.
      while (index + n < end) {
        sum += ratios[index + n];
        n += 1;
        if (sum * targetHeight + gap * (n - 1) >= width) break;
      }
      const fills = sum * targetHeight + gap * (n - 1) >= width;
      let height = fills ? (width - gap * (n - 1)) / sum : targetHeight;
      height = Math.min(height, maxHeight);
      let left = 0;
      for (let i = 0; i < n; i += 1) {
        const w = ratios[index + i] * height;
        itemLeft[index + i] = left;
        itemWidth[index + i] = w;
        left += w + gap;
      }
      rowStart.push(index);
      rowCount.push(n);
      rowTop.push(top);
      rowHeight.push(height);
      top += height + gap;
      index += n;
    }
  });
  return {
    rowStart: Int32Array.from(rowStart),
    rowCount: Int32Array.from(rowCount),
    rowTop: Float64Array.from(rowTop),
    rowHeight: Float32Array.from(rowHeight),
    itemLeft,
    itemWidth,
    headers,
    height: top,
  };
}

// Index of the last row whose top is at or above `y` (0 when none).
export function rowAt(layout, y) {
  const tops = layout.rowTop;
  let low = 0;
  let high = tops.length - 1;
  if (high < 0) return -1;
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if (tops[middle] <= y) low = middle;
    else high = middle - 1;
  }
  return low;
}

// Row of item `index`.
export function rowOf(layout, index) {
  const starts = layout.rowStart;
  let low = 0;
  let high = starts.length - 1;
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if (starts[middle] <= index) low = middle;
    else high = middle - 1;
  }
  return low;
}

// Header of the group containing scroll position `y`.
export function headerAt(layout, y) {
  const headers = layout.headers;
  let low = 0;
  let high = headers.length - 1;
  if (high < 0) return null;
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if (headers[middle].top <= y) low = middle;
    else high = middle - 1;
  }
  return headers[low];
}
