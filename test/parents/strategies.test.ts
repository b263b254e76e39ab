import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { delegateWarning, parentDirStrategy, PARENT_DIR_MODES, shadowedDirs } from '../../src/parents/index.js';
import { ancestors, SKELETON_LAYER, type LayerPaths } from '../../src/parents/strategy.js';

const layer = (components: string[], files: string[]): LayerPaths => ({ files, dirs: [], components });

// usr/share/empty has nothing below it; etc holds files in two layers.
const DIRS = ['.', 'etc', 'usr', 'usr/bin', 'usr/lib', 'usr/share', 'usr/share/empty', 'var'];
const COMPONENTS = [
  layer(['a'], ['usr/bin/a', 'etc/a.conf']),
  layer(['b'], ['usr/bin/b', 'usr/lib/libb.so', 'etc/b.conf']),
  layer(['c'], ['var/c']),
];

/** Which layers carry each directory. */
function carriers(layers: LayerPaths[]): Map<string, number[]> {
  const m = new Map<string, number[]>();
  layers.forEach((l, i) => l.dirs.forEach((d) => m.set(d, [...(m.get(d) ?? []), i])));
  return m;
}

describe('parent directory strategies', () => {
  it('ancestors lists the chain up to the root', () => {
    assert.deepEqual([...ancestors('a/b/c')], ['a/b', 'a', '.']);
    assert.deepEqual([...ancestors('a')], ['.']);
    assert.deepEqual([...ancestors('.')], []);
  });

  it('top-layer: component layers carry nothing; one last layer carries every directory', () => {
    const out = parentDirStrategy('top-layer').place(COMPONENTS, DIRS);
    assert.equal(out.length, 4);
    assert.deepEqual(
      out.slice(0, 3).map((l) => l.dirs),
      [[], [], []],
    );
    assert.deepEqual(out[3], { files: [], dirs: DIRS, components: [SKELETON_LAYER] });
    assert.deepEqual(shadowedDirs(out), []);
  });

  it('every-layer: each layer carries every parent of its files; empty directories go in a bottom layer', () => {
    const out = parentDirStrategy('every-layer').place(COMPONENTS, DIRS);
    assert.equal(out.length, 4);
    assert.deepEqual(out[0], {
      files: [],
      dirs: ['.', 'usr', 'usr/share', 'usr/share/empty'],
      components: [SKELETON_LAYER],
    });
    assert.deepEqual(out[1]!.dirs, ['.', 'etc', 'usr', 'usr/bin']);
    assert.deepEqual(out[2]!.dirs, ['.', 'etc', 'usr', 'usr/bin', 'usr/lib']);
    assert.deepEqual(out[3]!.dirs, ['.', 'var']);
    assert.deepEqual(shadowedDirs(out), [], 'no layer leaves a directory implied');
  });

  it('every-layer adds no layer when no directory is empty', () => {
    const dirs = DIRS.filter((d) => !d.startsWith('usr/share'));
    assert.equal(parentDirStrategy('every-layer').place(COMPONENTS, dirs).length, 3);
  });

  it('delegate: each directory defined once, in the lowest layer that holds anything below it', () => {
    const out = parentDirStrategy('delegate').place(COMPONENTS, DIRS);
    assert.equal(out.length, 4);
    assert.deepEqual(out[0], {
      files: [],
      dirs: ['.', 'usr', 'usr/share', 'usr/share/empty'],
      components: [SKELETON_LAYER],
    });
    assert.deepEqual(out[1]!.dirs, ['etc', 'usr/bin']);
    assert.deepEqual(out[2]!.dirs, ['usr/lib']);
    assert.deepEqual(out[3]!.dirs, ['var']);
    for (const [d, ls] of carriers(out)) assert.equal(ls.length, 1, `${d} defined in layers ${ls.join(', ')}`);
    assert.deepEqual([...carriers(out).keys()].sort(), [...DIRS].sort());
    // Without dirmeta_delegate: usr (implied in 1..3), usr/bin and etc (implied in 2), '.' left out.
    assert.deepEqual(shadowedDirs(out), ['etc', 'usr', 'usr/bin']);
    assert.match(delegateWarning(3), /3 directories .* default metadata/);
  });

  it('every mode defines every directory and keeps every file, on generated trees', () => {
    let seed = 7;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    for (let round = 0; round < 50; round++) {
      const dirs = new Set<string>(['.']);
      const files: string[] = [];
      for (let i = 0; i < 30; i++) {
        const depth = 1 + rand(4);
        const parts = Array.from({ length: depth }, () => `d${rand(3)}`);
        for (let k = 1; k <= parts.length; k++) dirs.add(parts.slice(0, k).join('/'));
        if (rand(4) > 0) files.push(`${parts.join('/')}/f${i}`);
      }
      const comps = [0, 1, 2, 3].map((k) =>
        layer(
          [`c${k}`],
          files.filter((_, i) => i % 4 === k),
        ),
      );
      const all = ['.', ...[...dirs].filter((d) => d !== '.').sort()];
      for (const mode of PARENT_DIR_MODES) {
        const out = parentDirStrategy(mode).place(comps, all);
        assert.ok(out.length <= comps.length + parentDirStrategy(mode).extraLayers);
        assert.deepEqual([...carriers(out).keys()].sort(), [...all].sort(), `${mode}: every directory has an entry`);
        assert.deepEqual(out.flatMap((l) => l.files).sort(), [...files].sort(), `${mode}: files unchanged`);
        if (mode !== 'delegate') assert.deepEqual(shadowedDirs(out), [], `${mode}: nothing shadowed`);
        else for (const [d, ls] of carriers(out)) assert.equal(ls.length, 1, `delegate: ${d} once`);
      }
    }
  });
});
