"""JavaScript the browser tests share to measure text in the page."""

from __future__ import annotations

#: ``pitch(block)``: the block's lines (found from the client rects of its text), its height over its
#: lines (the line pitch), its font size and its computed line height.
PITCH = """
const pitch = block => {
  const font = parseFloat(getComputedStyle(block).fontSize);
  const range = document.createRange();
  range.selectNodeContents(block);
  const tops = [];
  for (const rect of range.getClientRects()) {
    if (rect.height && !tops.some(top => Math.abs(top - rect.top) < font / 2)) tops.push(rect.top);
  }
  return {lines: tops.length, pitch: block.getBoundingClientRect().height / Math.max(1, tops.length), font,
          lineHeight: getComputedStyle(block).lineHeight};
};"""
