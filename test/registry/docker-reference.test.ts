import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RechunkerError } from '../../src/errors.js';
import {
  apiHost,
  formatDockerReference,
  isLoopback,
  manifestReference,
  parseDockerReference,
} from '../../src/registry/docker-reference.js';

const D = 'sha256:' + 'a'.repeat(64);

describe('docker references', () => {
  const cases: Array<[string, string]> = [
    ['fedora', 'docker.io/library/fedora:latest'],
    ['docker://fedora', 'docker.io/library/fedora:latest'],
    ['fedora:40', 'docker.io/library/fedora:40'],
    ['library/fedora', 'docker.io/library/fedora:latest'],
    ['someone/tool:v1.2', 'docker.io/someone/tool:v1.2'],
    ['index.docker.io/someone/tool', 'docker.io/someone/tool:latest'],
    ['docker.io/ubuntu', 'docker.io/library/ubuntu:latest'],
    ['quay.io/fedora/fedora-bootc:41', 'quay.io/fedora/fedora-bootc:41'],
    ['localhost/app', 'localhost/app:latest'],
    ['localhost:5000/app', 'localhost:5000/app:latest'],
    ['127.0.0.1:5000/a/b/c:tag', '127.0.0.1:5000/a/b/c:tag'],
    ['[::1]:5000/app:x', '[::1]:5000/app:x'],
    [`quay.io/a/b@${D}`, `quay.io/a/b@${D}`],
    [`quay.io/a/b:t@${D}`, `quay.io/a/b:t@${D}`],
    ['ghcr.io/a/b_c.d-e__f', 'ghcr.io/a/b_c.d-e__f:latest'],
  ];
  for (const [input, want] of cases) {
    it(`${input} -> ${want}`, () => assert.equal(formatDockerReference(parseDockerReference(input)), want));
  }

  it('splits registry, repository, tag and digest', () => {
    assert.deepEqual(parseDockerReference('localhost:5000/ns/app:1.0'), {
      registry: 'localhost:5000',
      repository: 'ns/app',
      tag: '1.0',
    });
    assert.deepEqual(parseDockerReference(`fedora@${D}`), {
      registry: 'docker.io',
      repository: 'library/fedora',
      digest: D,
    });
    assert.equal(manifestReference(parseDockerReference(`a.io/b:t@${D}`)), D);
    assert.equal(manifestReference(parseDockerReference('a.io/b')), 'latest');
  });

  const bad = [
    '',
    'docker://',
    'Fedora',
    'quay.io/UPPER/x',
    'a.io/b:',
    'a.io/b:-x',
    'a.io/b@sha256:abc',
    `a.io/b@sha512:${'a'.repeat(128)}`,
    'a.io//b',
    'a.io/b/',
    'a.io/b..c',
    'a.io/b c',
    'a.io:99999/b',
    `a.io/b:${'t'.repeat(129)}`,
    'a.io/-b',
  ];
  for (const input of bad) {
    it(`rejects ${JSON.stringify(input)} with BAD_REFERENCE`, () => {
      assert.throws(
        () => parseDockerReference(input),
        (e: unknown) => e instanceof RechunkerError && e.code === 'BAD_REFERENCE' && !e.message.includes('\n'),
      );
    });
  }

  it('knows Docker Hub API host and loopback hosts', () => {
    assert.equal(apiHost('docker.io'), 'registry-1.docker.io');
    assert.equal(apiHost('quay.io'), 'quay.io');
    for (const h of ['localhost', 'localhost:5000', '127.0.0.1:5000', '127.1.2.3', '[::1]:5000'])
      assert.equal(isLoopback(h), true, h);
    for (const h of ['quay.io', '10.0.0.1:5000', 'localhost.example.com', '128.0.0.1'])
      assert.equal(isLoopback(h), false, h);
  });
});
