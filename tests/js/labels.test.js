import { test, describe } from 'node:test';
import assert from 'node:assert/strict';

import { placeLabels } from '../../skyshare/web/static/labels.js';
import { prng } from './frames.js';

// the places a label may go, in order (labels.js SPOTS): top-left relative to the anchor
const spots = (w, h) => [[12, 6], [12, -6 - h], [-12 - w, 6], [-12 - w, -6 - h]];

const overlap = (a, b) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

// placed rectangles with their sizes
const rects = (boxes, placed) => placed.map(({ index, x, y }) => ({ index, x, y,
  w: boxes[index].w, h: boxes[index].h }));

function checkInvariants(boxes, placed, width, height) {
  const list = rects(boxes, placed);
  const indices = list.map((r) => r.index);
  assert.deepEqual(indices, [...new Set(indices)].sort((a, b) => a - b),
    'each box at most once, in priority order');
  for (const r of list) {
    assert.ok(r.x >= 0 && r.y >= 0 && r.x + r.w <= width && r.y + r.h <= height,
      `label ${r.index} at ${r.x},${r.y} ${r.w}x${r.h} leaves the ${width}x${height} view`);
    const box = boxes[r.index];
    assert.ok(spots(box.w, box.h).some(([dx, dy]) => box.x + dx === r.x && box.y + dy === r.y),
      `label ${r.index} is not at one of its spots`);
  }
  for (let i = 0; i < list.length; i += 1) {
    for (let j = i + 1; j < list.length; j += 1) {
      assert.ok(!overlap(list[i], list[j]),
        `labels ${list[i].index} and ${list[j].index} overlap`);
    }
  }
}

// the same greedy placement done the slow way: every spot against every placed label
function reference(boxes, width, height) {
  const placed = [];
  const taken = [];
  boxes.forEach((box, index) => {
    for (const [dx, dy] of spots(box.w, box.h)) {
      const r = { x: box.x + dx, y: box.y + dy, w: box.w, h: box.h };
      if (r.x < 0 || r.y < 0 || r.x + r.w > width || r.y + r.h > height) continue;
      if (taken.some((t) => overlap(t, r))) continue;
      taken.push(r);
      placed.push({ index, x: r.x, y: r.y });
      return;
    }
  });
  return placed;
}

describe('placeLabels', () => {
  test('a lone box goes to its first spot: anchor + [12, 6]', () => {
    assert.deepEqual(placeLabels([{ x: 100, y: 200, w: 50, h: 24 }], 800, 600),
      [{ index: 0, x: 112, y: 206 }]);
  });

  test('no boxes, no labels', () => {
    assert.deepEqual(placeLabels([], 800, 600), []);
  });

  test('near the right edge it goes left; near the bottom it goes up', () => {
    const w = 50;
    const h = 12;
    assert.deepEqual(placeLabels([{ x: 760, y: 100, w, h }], 800, 600),
      [{ index: 0, x: 760 - 12 - w, y: 106 }]);
    assert.deepEqual(placeLabels([{ x: 100, y: 590, w, h }], 800, 600),
      [{ index: 0, x: 112, y: 590 - 6 - h }]);
    assert.deepEqual(placeLabels([{ x: 790, y: 595, w, h }], 800, 600),
      [{ index: 0, x: 790 - 12 - w, y: 595 - 6 - h }]);
  });

  test('a label that fits nowhere in the view is dropped', () => {
    assert.deepEqual(placeLabels([{ x: 100, y: 100, w: 900, h: 12 }], 800, 600), []);
    assert.deepEqual(placeLabels([{ x: 100, y: 100, w: 20, h: 700 }], 800, 600), []);
    // an anchor far outside the view
    assert.deepEqual(placeLabels([{ x: -500, y: 100, w: 20, h: 12 }], 800, 600), []);
  });

  test('earlier boxes win over later ones at the same spot', () => {
    const box = { x: 400, y: 300, w: 60, h: 24 };
    const placed = placeLabels([box, { ...box }, { ...box }, { ...box }, { ...box }], 800, 600);
    // the four spots in order, the fifth box finds none free
    assert.deepEqual(placed, [
      { index: 0, x: 412, y: 306 }, { index: 1, x: 412, y: 270 },
      { index: 2, x: 328, y: 306 }, { index: 3, x: 328, y: 270 },
    ]);
    // the priority is the order of the list, whatever the box
    const small = { x: 400, y: 300, w: 10, h: 10 };
    assert.deepEqual(placeLabels([small, box], 800, 600)[0], { index: 0, x: 412, y: 306 });
    assert.deepEqual(placeLabels([box, small], 800, 600)[0], { index: 0, x: 412, y: 306 });
    assert.deepEqual(placeLabels([box, small], 800, 600)[1], { index: 1, x: 412, y: 284 });
  });

  test('labels that do not collide are all placed at their first spot', () => {
    const boxes = [{ x: 10, y: 10, w: 40, h: 12 }, { x: 200, y: 10, w: 40, h: 12 },
      { x: 10, y: 200, w: 40, h: 12 }];
    assert.deepEqual(placeLabels(boxes, 800, 600), boxes.map((b, index) => ({ index,
      x: b.x + 12, y: b.y + 6 })));
  });

  test('a collision across grid cells is still seen', () => {
    // a wide label spanning several 64 px cells and one in its last cell
    const boxes = [{ x: 0, y: 100, w: 300, h: 12 }, { x: 290, y: 100, w: 20, h: 12 }];
    const placed = placeLabels(boxes, 800, 600);
    checkInvariants(boxes, placed, 800, 600);
    assert.equal(placed.length, 2);
    assert.deepEqual(placed[1], { index: 1, x: 302, y: 106 - 12 - 12 });
  });

  test('a collision within the last pixel of a grid cell is still seen', () => {
    // the first label ends 0.5 px into the second 64 px cell, the second starts there
    const boxes = [{ x: 0, y: 100, w: 52.5, h: 12 }, { x: 52.2, y: 100, w: 20, h: 12 }];
    const placed = placeLabels(boxes, 800, 600);
    checkInvariants(boxes, placed, 800, 600);
    assert.deepEqual(placed, reference(boxes, 800, 600));
    assert.equal(placed[1].y, 100 - 6 - 12, 'the second label moved up');
  });

  test('randomised: never overlapping, always inside, same as a brute-force greedy', () => {
    const rand = prng(8675309);
    let total = 0;
    let dropped = 0;
    for (let round = 0; round < 200; round += 1) {
      const width = rand.int(100, 1200);
      const height = rand.int(100, 900);
      const n = rand.int(0, 150);
      const integer = rand() < 0.5; // integer coordinates make labels touch on cell edges
      const boxes = Array.from({ length: n }, () => ({
        x: integer ? rand.int(-50, width + 50) : rand() * (width + 100) - 50,
        y: integer ? rand.int(-50, height + 50) : rand() * (height + 100) - 50,
        w: integer ? rand.int(1, 160) : 1 + rand() * 160,
        h: integer ? rand.pick([12, 24, 36, 64, 128]) : 1 + rand() * 40,
      }));
      const placed = placeLabels(boxes, width, height);
      checkInvariants(boxes, placed, width, height);
      assert.deepEqual(placed, reference(boxes, width, height), `round ${round}`);
      total += placed.length;
      dropped += n - placed.length;
    }
    assert.ok(total > 1000 && dropped > 1000, `a meaningful mix (${total} placed, ${dropped} dropped)`);
  });
});
