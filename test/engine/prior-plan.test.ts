import assert from 'node:assert/strict';
import { test } from 'node:test';
import { priorBlobsTrusted } from '../../src/engine/prior-plan.js';

test("a prior's blobs are trusted only in the destination's own storage, however it is spelled", () => {
  const same: [string, string][] = [
    ['oci:out:v1', 'oci:out:v2'],
    ['oci:./out:v1', `oci:${process.cwd()}/out`],
    ['oci-archive:a.tar:v1', 'oci-archive:./a.tar:v2'],
    ['docker://fedora', 'docker://docker.io/library/fedora:41'],
    ['docker://localhost:5000/app:1', 'docker://localhost:5000/app@sha256:' + 'a'.repeat(64)],
    ['containers-storage:app:1', 'containers-storage:app:2'],
  ];
  for (const [prior, dest] of same) assert.equal(priorBlobsTrusted(prior, dest), true, `${prior} / ${dest}`);
  const other: [string, string][] = [
    ['oci:elsewhere:v1', 'oci:out:v2'],
    ['oci:out:v1', 'oci-archive:out:v1'],
    ['docker://localhost:5000/app:1', 'docker://localhost:5000/other:1'],
    ['docker://localhost:5000/app:1', 'docker://localhost:5001/app:1'],
    ['containers-storage:[overlay@/a]app', 'containers-storage:[overlay@/b]app'],
    ['rootfs:/', 'rootfs:/'],
  ];
  for (const [prior, dest] of other) assert.equal(priorBlobsTrusted(prior, dest), false, `${prior} / ${dest}`);
});
