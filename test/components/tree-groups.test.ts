import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { groupByTree, type Unit } from '../../src/components/tree-groups.js';

const MB = 1024 * 1024;
const unit = (path: string, size: number, ...more: string[]): Unit => ({ members: [path, ...more], size });
const opts = { splitAbove: 10 * MB, maxGroup: 4 * MB, minGroup: MB };

describe('groupByTree', () => {
  it('leaves a small remainder whole', () => {
    const units = [unit('etc/a', MB), unit('etc/b', MB)];
    assert.deepEqual(groupByTree(units, opts), { groups: [], rest: units });
  });

  it('splits a large remainder by subtree, deeper where a subtree is still too big', () => {
    const units = [
      ...Array.from({ length: 6 }, (_, i) => unit(`opt/app/lib/m${i}.so`, MB)), // 6 MB: split further
      ...Array.from({ length: 3 }, (_, i) => unit(`opt/app/share/d${i}`, MB)),
      unit('opt/app/bin/app', 3 * MB),
      unit('srv/data.bin', 2 * MB),
      unit('etc/motd', 10), // tiny: back to the catch-all
    ];
    const { groups, rest } = groupByTree(units, opts);
    assert.deepEqual(
      groups.map((g) => [g.prefix, g.size / MB]),
      [
        ['opt/app/bin', 3],
        ['opt/app/lib', 6],
        ['opt/app/share', 3],
        ['srv', 2],
      ],
    );
    assert.deepEqual(
      rest.map((u) => u.members[0]),
      ['etc/motd'],
    );
  });

  it('always splits at the top level, so a large application does not take the volatile rest with it', () => {
    const units = [
      ...Array.from({ length: 30 }, (_, i) => unit(`opt/app/node_modules/m${i}.js`, MB / 4)),
      unit('var/log/dpkg.log', MB / 2),
      unit('etc/ld.so.cache', MB / 8),
    ];
    const { groups, rest } = groupByTree(units, { ...opts, splitAbove: 2 * MB, maxGroup: 32 * MB });
    assert.deepEqual(
      groups.map((g) => [g.prefix, g.size / MB]),
      [['opt', 7.5]],
    );
    assert.deepEqual(rest.map((u) => u.members[0]).sort(), ['etc/ld.so.cache', 'var/log/dpkg.log']);
  });

  it('keeps a hardlink set in one group even when its members live in different directories', () => {
    const units = [unit('a/x/big', 8 * MB, 'b/y/big-link'), unit('b/y/other', 8 * MB)];
    const { groups } = groupByTree(units, opts);
    const holder = groups.filter((g) => g.units.some((u) => u.members.includes('b/y/big-link')));
    assert.equal(holder.length, 1);
    assert.deepEqual(holder[0]!.units[0]!.members, ['a/x/big', 'b/y/big-link']);
  });

  it('is deterministic whatever order the units come in', () => {
    const units = Array.from({ length: 40 }, (_, i) => unit(`d${i % 7}/s${i % 3}/f${i}`, MB / 2 + i));
    const a = groupByTree(units, opts);
    const b = groupByTree([...units].reverse(), opts);
    assert.deepEqual(
      a.groups.map((g) => [g.prefix, g.size]),
      b.groups.map((g) => [g.prefix, g.size]),
    );
  });
});
