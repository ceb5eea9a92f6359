import { describe, expect, it } from 'vitest';
import { checkBearer, hostAllowed, isLoopback, loadHttpOptions, originAllowed } from '../../src/http/access.js';

describe('HTTP access rules', () => {
  const tokens = ['alice-0123456789abcdef', 'bob-0123456789abcdef0'];

  it('accepts any listed bearer token and tells a missing header from a wrong token', () => {
    expect(checkBearer('Bearer alice-0123456789abcdef', tokens)).toBe('ok');
    expect(checkBearer('bearer bob-0123456789abcdef0', tokens)).toBe('ok');
    expect(checkBearer(undefined, tokens)).toBe('missing');
    expect(checkBearer('Basic YWxpY2U6eA==', tokens)).toBe('missing');
    expect(checkBearer('Bearer alice-0123456789abcdeF', tokens)).toBe('invalid');
    expect(checkBearer('Bearer alice', tokens)).toBe('invalid'); // a prefix is no match
    expect(checkBearer(undefined, [])).toBe('ok');
  });

  it('lets loopback servers answer only to loopback Host names', () => {
    expect(hostAllowed('127.0.0.1:8731', '127.0.0.1')).toBe(true);
    expect(hostAllowed('localhost', '127.0.0.1')).toBe(true);
    expect(hostAllowed('[::1]:8731', '::1')).toBe(true);
    expect(hostAllowed('attacker.example:8731', '127.0.0.1')).toBe(false);
    expect(hostAllowed('localhost.attacker.example', '127.0.0.1')).toBe(false);
    expect(hostAllowed(undefined, '127.0.0.1')).toBe(false);
    expect(hostAllowed('tuneloop.lan:8731', '0.0.0.0')).toBe(true);
  });

  it('allows no Origin, loopback origins and listed ones', () => {
    expect(originAllowed(undefined, [])).toBe(true);
    expect(originAllowed('http://localhost:3000', [])).toBe(true);
    expect(originAllowed('https://127.0.0.1', [])).toBe(true);
    expect(originAllowed('http://localhost.evil.example', [])).toBe(false);
    expect(originAllowed('http://evil.example', [])).toBe(false);
    expect(originAllowed('null', [])).toBe(false);
    expect(originAllowed('https://ide.example.com', ['https://ide.example.com/'.replace(/\/$/, '')])).toBe(true);
  });

  it('refuses what would expose the host', () => {
    expect(isLoopback('127.0.0.1') && isLoopback('::1') && !isLoopback('0.0.0.0')).toBe(true);
    expect(() => loadHttpOptions({ host: '0.0.0.0' }, {})).toThrow(/without a token/);
    expect(() => loadHttpOptions({ host: 'my.host' }, {})).toThrow(/not an IP address/);
    expect(() => loadHttpOptions({ port: '70000' }, {})).toThrow(/not a port/);
    expect(() => loadHttpOptions({}, { TUNELOOP_HTTP_TOKEN: 'has spaces in it 0123456789' })).toThrow(/spaces/);
    expect(loadHttpOptions({ host: '0.0.0.0' }, { TUNELOOP_HTTP_TOKEN: tokens[0], TUNELOOP_HTTP_ORIGINS: 'https://a.example/, https://b.example' })).toEqual({
      host: '0.0.0.0',
      port: 8731,
      tokens: [tokens[0]],
      allowedOrigins: ['https://a.example', 'https://b.example'],
    });
  });
});
