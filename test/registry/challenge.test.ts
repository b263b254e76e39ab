import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseChallenges, pickChallenge } from '../../src/registry/challenge.js';

describe('WWW-Authenticate parsing', () => {
  it('reads a Bearer challenge with a scope holding commas', () => {
    const c = parseChallenges(
      'Bearer realm="https://auth.example.io/token",service="registry.example.io",scope="repository:a/b:pull,push"',
    );
    assert.deepEqual(c, [
      {
        scheme: 'bearer',
        params: {
          realm: 'https://auth.example.io/token',
          service: 'registry.example.io',
          scope: 'repository:a/b:pull,push',
        },
      },
    ]);
  });

  it('reads several challenges in one header, any scheme case, spaces around =', () => {
    const c = parseChallenges(
      'basic realm="Registry Realm", BEARER realm = "https://x/token" , service=reg,error="insufficient_scope"',
    );
    assert.equal(c.length, 2);
    assert.deepEqual(c[0], { scheme: 'basic', params: { realm: 'Registry Realm' } });
    assert.deepEqual(c[1], {
      scheme: 'bearer',
      params: { realm: 'https://x/token', service: 'reg', error: 'insufficient_scope' },
    });
    assert.equal(pickChallenge(c)?.scheme, 'bearer');
  });

  it('unescapes quoted strings and keeps commas and = inside them', () => {
    const c = parseChallenges('Bearer realm="https://a/t?x=1,y=2",error_description="say \\"hi\\", then go"');
    assert.equal(c[0]?.params.realm, 'https://a/t?x=1,y=2');
    assert.equal(c[0]?.params.error_description, 'say "hi", then go');
  });

  it('joins several header lines, handles token68 and bare schemes', () => {
    const c = parseChallenges(['Negotiate abc123==', 'Basic', 'Bearer realm=https://r/t']);
    assert.deepEqual(
      c.map((x) => x.scheme),
      ['negotiate', 'basic', 'bearer'],
    );
    assert.equal(c[0]?.token68, 'abc123==');
    assert.equal(c[2]?.params.realm, 'https://r/t');
  });

  it('lowercases parameter names; the first of a repeated parameter wins', () => {
    const c = parseChallenges('Bearer Realm="a", REALM="b", Service="s"');
    assert.deepEqual(c[0]?.params, { realm: 'a', service: 's' });
  });

  it('survives empty and malformed headers', () => {
    assert.deepEqual(parseChallenges(undefined), []);
    assert.deepEqual(parseChallenges(''), []);
    assert.deepEqual(parseChallenges(' , ,'), []);
    const c = parseChallenges('Bearer realm="unterminated');
    assert.equal(c[0]?.params.realm, 'unterminated');
    assert.equal(pickChallenge(parseChallenges('Digest realm="x"')), undefined);
  });
});
