// Self-test of the harness: it must see exactly what the corpus README says a real overlay runtime
// shows, or later tests built on it (rechunked image == true tree) would prove nothing.
import assert from 'node:assert/strict';
import { link, lutimes, mkdir, mkdtemp, rm, symlink, writeFile, chmod } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { corpusIgnore, corpusLayout, corpusRootfs, corpusSkipReason } from './helpers/corpus.js';
import type { CorpusRootfs } from './helpers/corpus.js';
import { Podman } from './helpers/podman.js';
import { compareTrees, formatDifferences } from './helpers/tree-compare.js';
import type { TreeDifference } from './helpers/tree-compare.js';
import { snapshotTree } from './helpers/tree-snapshot.js';
import type { TreeEntry } from './helpers/tree-snapshot.js';
import { has, run } from './helpers/tools.js';

describe('harness against the corpus and podman', () => {
  let skip: string | undefined;
  let podman: Podman | undefined;
  const truth = new Map<CorpusRootfs, Promise<Map<string, TreeEntry>>>();
  const mounted = new Map<string, Promise<{ tree: Map<string, TreeEntry>; pulledAtNs: bigint }>>();

  before(async () => {
    skip = await corpusSkipReason();
    if (!skip) podman = await Podman.create();
  });
  after(async () => {
    await podman?.cleanup();
  });

  const trueTree = (name: CorpusRootfs): Promise<Map<string, TreeEntry>> => {
    let p = truth.get(name);
    if (!p) truth.set(name, (p = snapshotTree(corpusRootfs(name))));
    return p;
  };
  // Each tag is pulled and mounted once; the merged tree is snapshotted right away.
  const mountedTree = (tag: string): Promise<{ tree: Map<string, TreeEntry>; pulledAtNs: bigint }> => {
    let p = mounted.get(tag);
    if (!p) {
      p = (async () => {
        const pulledAtNs = BigInt(Date.now() - 1000) * 1_000_000n;
        const id = await podman!.pull(`oci:${corpusLayout()}:${tag}`);
        const dir = await podman!.mount(id);
        return { tree: await snapshotTree(dir), pulledAtNs };
      })();
      mounted.set(tag, p);
    }
    return p;
  };

  test('updated, pulled by podman, equals rootfs/updated exactly', async (t) => {
    if (skip) return t.skip(skip);
    const started = Date.now();
    const [expected, { tree }] = await Promise.all([trueTree('updated'), mountedTree('updated')]);
    const diffs = compareTrees(expected, tree, { ignore: corpusIgnore });
    assert.equal(diffs.length, 0, formatDifferences(diffs));
    // The ignore list is exactly the build marker: without it, that is the only difference.
    const raw = compareTrees(expected, tree);
    assert.deepEqual(
      raw.map((d) => [d.path, d.fields.map((f) => f.field)]),
      [['.done', ['missing']]],
    );
    t.diagnostic(`${expected.size} entries, 0 differences, ${Date.now() - started} ms`);
  });

  test('updated-diff shows only directory mtimes shadowed at pull time', async (t) => {
    if (skip) return t.skip(skip);
    const [expected, { tree, pulledAtNs }] = await Promise.all([trueTree('updated'), mountedTree('updated-diff')]);
    const diffs = compareTrees(expected, tree, { ignore: corpusIgnore });
    assertOnlyImpliedDirectories(diffs, pulledAtNs);
    // The README's figure for this corpus is ~77; a rebuilt corpus may differ a little.
    assert.ok(diffs.length >= 20, `expected dozens of shadowed directories, got ${formatDifferences(diffs)}`);
    assert.ok(
      diffs.some((d) => d.path === 'usr'),
      'usr is one of the implied directories',
    );
    t.diagnostic(`${diffs.length} directory mtime differences`);
  });

  test('derived shows only directory differences, etc among them', async (t) => {
    if (skip) return t.skip(skip);
    const [expected, { tree, pulledAtNs }] = await Promise.all([trueTree('derived'), mountedTree('derived')]);
    const diffs = compareTrees(expected, tree, { ignore: corpusIgnore });
    assertOnlyImpliedDirectories(diffs, pulledAtNs);
    assert.ok(
      diffs.some((d) => d.path === 'etc'),
      `etc must be shadowed (the motd edit implies it):\n${formatDifferences(diffs)}`,
    );
    t.diagnostic(`${diffs.length} directory mtime differences`);
  });

  test('binary xattrs survive: capability on usr/bin/ping, a POSIX ACL somewhere', async (t) => {
    if (skip) return t.skip(skip);
    const [expected, { tree }] = await Promise.all([trueTree('updated'), mountedTree('updated')]);
    const cap = tree.get('usr/bin/ping')?.xattrs.get('security.capability');
    assert.ok(cap, 'usr/bin/ping has security.capability in the mounted tree');
    assert.equal(cap, expected.get('usr/bin/ping')!.xattrs.get('security.capability'));
    const acls = [...tree].filter(([, e]) => e.xattrs.has('system.posix_acl_access')).map(([p]) => p);
    assert.ok(acls.length > 0, 'some path has system.posix_acl_access');
    assert.ok(
      acls.includes('var/log/journal'),
      `var/log/journal carries the ACL in the corpus; found ${acls.join(', ')}`,
    );
    // getfattr must not follow symlinks: usr/bin/ping4 -> ping would otherwise show ping's capability.
    const linked = [...expected].filter(([, e]) => e.type === 'symlink' && e.xattrs.size > 0).map(([p]) => p);
    assert.deepEqual(linked, []);
  });

  test('hardlink sets and device nodes of the true tree are seen', async (t) => {
    if (skip) return t.skip(skip);
    const expected = await trueTree('updated');
    const sets = new Set([...expected.values()].flatMap((e) => (e.hardlinks ? [e.hardlinks.join('\n')] : [])));
    assert.ok(sets.size > 0, 'the corpus holds hardlink sets');
    assert.deepEqual(expected.get('dev/null')?.device, { major: 1, minor: 3 });
    t.diagnostic(`${sets.size} hardlink sets`);
  });
});

function assertOnlyImpliedDirectories(diffs: readonly TreeDifference[], pulledAtNs: bigint): void {
  const bad = diffs.filter((d) => d.type !== 'dir' || d.fields.some((f) => f.field !== 'mtime'));
  assert.deepEqual(bad, [], `only directory mtimes may differ:\n${formatDifferences(bad)}`);
  // containers/storage gives an implied directory the time of the pull.
  const old = diffs.filter((d) => (d.fields[0]!.actual as bigint) < pulledAtNs);
  assert.deepEqual(old, [], `shadowed mtimes predate the pull:\n${formatDifferences(old)}`);
}

test('compareTrees reports a mode, an xattr, a symlink target and a broken hardlink', async (t) => {
  if (!(await has('setfattr')) || !(await has('getfattr'))) return t.skip('setfattr/getfattr (attr) not installed');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rechunker-harness-'));
  try {
    const [a, b] = [path.join(dir, 'a'), path.join(dir, 'b')];
    // Raw names that are not UTF-8 and that getfattr has to escape, carrying an xattr, equal on both sides.
    const oddName = Buffer.from('odd \xff\\\n=name', 'latin1');
    for (const root of [a, b]) {
      await mkdir(path.join(root, 'sub'), { recursive: true });
      await writeFile(path.join(root, 'sub/mode'), 'm');
      await writeFile(path.join(root, 'xattr'), 'x');
      await symlink('target-one', path.join(root, 'link'));
      await writeFile(path.join(root, 'h1'), 'same');
      await writeFile(Buffer.concat([Buffer.from(`${root}/`), oddName]), 'odd');
      await setfattr(
        Buffer.concat([Buffer.from(`${root}/`), oddName]).toString('latin1'),
        'user.odd\\name',
        '0x00ff0a',
      );
      await setfattr(path.join(root, 'xattr'), 'user.test', '0x0001');
      await setfattr(path.join(root, 'xattr'), 'user.kept', '0x02');
    }
    await link(path.join(a, 'h1'), path.join(a, 'h2'));
    await writeFile(path.join(b, 'h2'), 'same'); // same content, own inode: the set is broken
    await chmod(path.join(b, 'sub/mode'), 0o600);
    await setfattr(path.join(b, 'xattr'), 'user.test', '0x0002');
    await rm(path.join(b, 'link'));
    await symlink('target-two', path.join(b, 'link'));
    for (const root of [a, b]) {
      for (const p of ['sub/mode', 'xattr', 'link', 'h1', 'h2', 'sub', '.'])
        await lutimes(path.join(root, p), 1_700_000_000, 1_700_000_000.5);
      await lutimes(Buffer.concat([Buffer.from(`${root}/`), oddName]), 1, 1);
    }
    const [sa, sb] = await Promise.all([snapshotTree(a), snapshotTree(b)]);
    assert.equal(sa.get(oddName.toString('latin1'))?.xattrs.get('user.odd\\name'), '00ff0a');
    assert.equal(sa.get('sub/mode')?.mtimeNs, 1_700_000_000_500_000_000n);
    assert.deepEqual(sa.get('h1')?.hardlinks, ['h1', 'h2']);

    const diffs = compareTrees(sa, sb);
    const summary = diffs.map((d) => [
      d.path,
      d.fields.map((f) => (f.names ? `${f.field}:${f.names.join(',')}` : f.field)),
    ]);
    // A broken set changes the set of both its members, so h1 and h2 are both reported.
    assert.deepEqual(
      summary,
      [
        ['h1', ['hardlinks']],
        ['h2', ['hardlinks']],
        ['link', ['symlink']],
        ['sub/mode', ['mode']],
        ['xattr', ['xattrs:user.test']],
      ],
      formatDifferences(diffs),
    );
    assert.equal(compareTrees(sa, sa).length, 0);
    assert.equal(compareTrees(sa, sb, { ignore: (p) => p === 'h2' || p === 'h1' }).length, 3);
    assert.match(formatDifferences(diffs, 2), /^5 difference\(s\):\n.*\n.*\n {2}\.\.\. and 3 more$/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

async function setfattr(file: string, name: string, value: string): Promise<void> {
  // execFile passes arguments as UTF-8; a latin1 path must go through as its raw bytes, so use the shell's printf.
  const res = await run('sh', [
    '-c',
    'setfattr -n "$1" -v "$2" "$(printf "%b" "$3")"',
    'sh',
    name,
    value,
    toPrintfEscapes(file),
  ]);
  if (res.code !== 0) throw new Error(`setfattr ${name} on ${JSON.stringify(file)}: ${res.stderr}`);
}

function toPrintfEscapes(latin1: string): string {
  return [...latin1]
    .map((c) => (/[A-Za-z0-9/._-]/.test(c) ? c : `\\0${c.charCodeAt(0).toString(8).padStart(3, '0')}`))
    .join('');
}
