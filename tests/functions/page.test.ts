import { createHash } from 'node:crypto';
import { showPage } from '../../functions/page';
import { callHandler } from '../support/call-handler';

const sha256 = (text: string) => createHash('sha256').update(text).digest('base64');

describe('GET /', () => {
  it('serves the page as HTML that caches must revalidate', async () => {
    const reply = await callHandler(showPage);
    expect(reply.status).toBe(200);
    expect(reply.header('content-type')).toBe('text/html; charset=utf-8');
    expect(reply.header('cache-control')).toBe('no-cache');
    expect(reply.text).toMatch(/^<!doctype html>/);
    expect(reply.text).toContain('id="increment"');
  });

  it('allows by its Content-Security-Policy exactly the inline script and style of the page', async () => {
    const reply = await callHandler(showPage);
    const policy = reply.header('content-security-policy') ?? '';
    const script = /<script>([\s\S]*?)<\/script>/.exec(reply.text)?.[1] ?? '';
    const style = /<style>([\s\S]*?)<\/style>/.exec(reply.text)?.[1] ?? '';
    expect(policy).toContain(`script-src 'sha256-${sha256(script)}'`);
    expect(policy).toContain(`style-src 'sha256-${sha256(style)}'`);
    expect(policy).toContain("default-src 'none'");
    expect(policy).toContain("connect-src 'self'");
  });

  it('answers 404 with a JSON error for a segment that reaches it through its route', async () => {
    const reply = await callHandler(showPage, {
      params: { page: '0f8fad5b-d9cb-469f-a165-70867728950e' },
    });
    expect(reply.status).toBe(404);
    expect(JSON.parse(reply.text)).toEqual({ error: expect.any(String) });
  });
});
