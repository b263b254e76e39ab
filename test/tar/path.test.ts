import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RechunkerError } from '../../src/errors.js';
import { normalizeTarPath } from '../../src/tar/path.js';

const W = 'layer sha256:abcd of oci:/x:tag';

describe('normalizeTarPath', () => {
  it('leaves clean paths alone and strips what unpackers ignore', () => {
    const cases: [string, string][] = [
      ['a', 'a'],
      ['a/b/c', 'a/b/c'],
      ['./a', 'a'],
      ['././a/', 'a'],
      ['.//./a', 'a'],
      ['a//b/./c/', 'a/b/c'],
      ['a/b/.', 'a/b'],
      ['', '.'],
      ['.', '.'],
      ['./', '.'],
      ['.//.', '.'],
      ['.wh..wh..opq', '.wh..wh..opq'],
      ['usr/.wh.foo', 'usr/.wh.foo'],
      ['a/.hidden', 'a/.hidden'],
      ['..foo', '..foo'],
      ['a/..b/c..', 'a/..b/c..'],
      ['...', '...'],
      ['caf\xc3\xa9/\xff\xfe', 'caf\xc3\xa9/\xff\xfe'],
    ];
    for (const [raw, want] of cases) assert.equal(normalizeTarPath(raw, W), want, JSON.stringify(raw));
  });

  it('refuses absolute paths, .. components and NUL bytes (security regression guard)', () => {
    for (const raw of ['../x', '/etc/passwd', 'a/../../b', 'a/..', '..', './../x', 'a/b/../c', '//x', 'a\0b', '/']) {
      assert.throws(
        () => normalizeTarPath(raw, W),
        (e: unknown) =>
          e instanceof RechunkerError &&
          e.code === 'UNSAFE_PATH' &&
          e.message.includes(W) &&
          e.message.startsWith('unsafe path "'),
        JSON.stringify(raw),
      );
    }
  });

  it('shows the offending path as UTF-8 in the message', () => {
    assert.throws(() => normalizeTarPath('caf\xc3\xa9/../../x', W), { message: `unsafe path "café/../../x" in ${W}` });
  });
});
