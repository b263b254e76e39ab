import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RechunkerError } from '../../src/errors.js';
import {
  formatPlatform,
  normalizeArch,
  normalizePlatform,
  parsePlatform,
  platformMatches,
  selectPlatform,
} from '../../src/oci/platform.js';
import type { Descriptor, Platform } from '../../src/oci/types.js';

const entry = (n: number, platform?: Platform): Descriptor => ({
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  digest: `sha256:${String(n).padStart(64, '0')}`,
  size: n,
  ...(platform ? { platform } : {}),
});
const linux = (architecture: string, variant?: string): Platform => ({
  os: 'linux',
  architecture,
  ...(variant ? { variant } : {}),
});

describe('platform names', () => {
  it('normalises architecture aliases, case included', () => {
    const cases: Array<[string, string]> = [
      ['x86_64', 'amd64'],
      ['X86_64', 'amd64'],
      ['x86-64', 'amd64'],
      ['x64', 'amd64'],
      ['aarch64', 'arm64'],
      ['armhf', 'arm'],
      ['armel', 'arm'],
      ['arm', 'arm'],
      ['i386', '386'],
      ['i686', '386'],
      ['ia32', '386'],
      ['s390x', 's390x'],
    ];
    for (const [given, want] of cases) assert.equal(normalizeArch(given), want, given);
  });

  it('normalises variants: numbers become v-variants, arm64 8 is v8', () => {
    assert.deepEqual(normalizePlatform({ os: 'Linux', architecture: 'armhf', variant: '7' }), linux('arm', 'v7'));
    assert.deepEqual(normalizePlatform(linux('aarch64', '8')), linux('arm64', 'v8'));
    assert.deepEqual(normalizePlatform(linux('arm64', 'V8')), linux('arm64', 'v8'));
    assert.deepEqual(normalizePlatform(linux('amd64', '')), linux('amd64'));
  });

  it('parses and formats os/arch[/variant]', () => {
    assert.deepEqual(parsePlatform('linux/x86_64'), linux('amd64'));
    assert.deepEqual(parsePlatform('linux/arm64/v8'), linux('arm64', 'v8'));
    assert.throws(
      () => parsePlatform('linux'),
      (e: unknown) => e instanceof RechunkerError && e.code === 'USAGE',
    );
    assert.throws(
      () => parsePlatform('linux//v8'),
      (e: unknown) => e instanceof RechunkerError && e.code === 'USAGE',
    );
    assert.equal(formatPlatform(linux('arm', 'v6')), 'linux/arm/v6');
    assert.equal(formatPlatform(undefined), 'unknown');
  });
});

describe('platformMatches', () => {
  it('matches os and normalised architecture on both sides', () => {
    assert.ok(platformMatches(linux('x86_64'), linux('amd64')));
    assert.ok(platformMatches(linux('amd64'), { os: 'LINUX', architecture: 'x86_64' }));
    assert.ok(!platformMatches(linux('amd64'), linux('arm64')));
    assert.ok(!platformMatches(linux('amd64'), { os: 'windows', architecture: 'amd64' }));
  });

  it('compares variants only when one is asked for, with arm64 implying v8 and arm v7', () => {
    assert.ok(platformMatches(linux('arm'), linux('arm', 'v6')));
    assert.ok(platformMatches(linux('arm64', 'v8'), linux('arm64')));
    assert.ok(platformMatches(linux('arm64'), linux('arm64', 'v8')));
    assert.ok(platformMatches(linux('arm', 'v7'), linux('arm')));
    assert.ok(platformMatches(linux('arm', '7'), linux('armhf', 'v7')));
    assert.ok(!platformMatches(linux('arm', 'v6'), linux('arm')));
    assert.ok(!platformMatches(linux('arm', 'v6'), linux('arm', 'v7')));
  });

  it('never matches a missing or malformed platform (index JSON is untrusted)', () => {
    assert.ok(!platformMatches(linux('amd64'), undefined));
    assert.ok(!platformMatches(linux('amd64'), { os: 'linux' } as Platform));
    assert.ok(!platformMatches(linux('amd64'), { os: 3, architecture: 'amd64' } as unknown as Platform));
    assert.ok(
      !platformMatches(linux('arm', 'v7'), { os: 'linux', architecture: 'arm', variant: 7 } as unknown as Platform),
    );
  });
});

describe('selectPlatform', () => {
  it('picks an exact variant over an implied one, else the first match', () => {
    const implied = entry(1, linux('arm'));
    const exact = entry(2, linux('arm', 'v7'));
    assert.equal(selectPlatform([implied, exact], linux('arm', 'v7'), 'w'), exact);
    assert.equal(selectPlatform([implied, exact], linux('arm', '7'), 'w'), exact);
    assert.equal(selectPlatform([implied, exact], linux('armhf'), 'w'), implied);
    assert.equal(selectPlatform([entry(3, linux('amd64')), entry(4, linux('x86_64'))], linux('x86_64'), 'w').size, 3);
  });

  it('names what the index has, once each, when nothing fits', () => {
    const manifests = [
      entry(1, linux('amd64')),
      entry(2, linux('x86_64')),
      entry(3, linux('aarch64', '8')),
      entry(4),
      entry(5, { os: 'linux' } as Platform),
    ];
    assert.throws(
      () => selectPlatform(manifests, linux('s390x'), 'docker://reg/app:1'),
      (e: unknown) =>
        e instanceof RechunkerError &&
        e.code === 'PLATFORM' &&
        e.message ===
          'docker://reg/app:1: no image for platform linux/s390x (available: linux/amd64, linux/arm64/v8); choose one with --platform',
    );
    assert.throws(
      () => selectPlatform([entry(1)], linux('AMD64'), 'w'),
      (e: unknown) =>
        e instanceof RechunkerError && /no image for platform linux\/amd64 \(available: none\)/.test(e.message),
    );
  });
});
