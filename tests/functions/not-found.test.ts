import { notFound } from '../../functions/not-found';
import { callHandler } from '../support/call-handler';

// The catch-all function gets every request no other function takes, with the rest of the
// path as its `path` parameter (no leading slash).
const callAt = (method: string, path: string) =>
  callHandler(notFound, { method, params: path === '' ? {} : { path } });

describe('a request no function takes', () => {
  it('answers 404 with a JSON error naming the path where nothing is served', async () => {
    const reply = await callAt('GET', 'nothing-here');
    expect(reply.status).toBe(404);
    expect(reply.header('content-type')).toBe('application/json');
    expect(JSON.parse(reply.text)).toEqual({ error: 'nothing is served at /nothing-here' });
  });

  it('answers 405 with Allow and a JSON error naming the methods a known path takes', async () => {
    const reply = await callAt('GET', 'increment');
    expect(reply.status).toBe(405);
    expect(reply.header('allow')).toBe('POST, OPTIONS');
    expect(JSON.parse(reply.text)).toEqual({
      error: '/increment does not accept GET; it accepts POST, OPTIONS',
    });
  });

  it('knows the named form of each route, whatever the case, and a trailing slash', async () => {
    expect((await callAt('DELETE', 'Get/visits/')).header('allow')).toBe('GET, OPTIONS');
    expect((await callAt('POST', 'set/visits')).header('allow')).toBe('PUT, OPTIONS');
  });

  it('answers OPTIONS on a known path with 204 and the methods in Allow', async () => {
    const reply = await callAt('OPTIONS', 'set');
    expect(reply.status).toBe(204);
    expect(reply.header('allow')).toBe('PUT, OPTIONS');
    expect(reply.text).toBe('');
  });

  it('knows the routes that list and delete counters', async () => {
    expect((await callAt('POST', 'counters')).header('allow')).toBe('GET, OPTIONS');
    expect((await callAt('GET', 'counters/visits')).header('allow')).toBe('DELETE, OPTIONS');
    expect((await callAt('OPTIONS', 'counters/visits')).status).toBe(204);
  });

  it('answers DELETE of the default counter with 405 saying to reset it with PUT /set', async () => {
    const reply = await callAt('DELETE', 'counters');
    expect(reply.status).toBe(405);
    expect(reply.header('allow')).toBe('GET, OPTIONS');
    expect(JSON.parse(reply.text).error).toMatch(
      /^\/counters does not accept DELETE; it accepts GET, OPTIONS\. The default counter has no name and cannot be deleted: reset it with PUT \/set/,
    );
  });

  it('answers OPTIONS on an unknown path with 404', async () => {
    expect((await callAt('OPTIONS', 'nothing-here')).status).toBe(404);
  });

  it('does not take a path one segment deeper than a route for that route', async () => {
    expect((await callAt('GET', 'get/a/b')).status).toBe(404);
  });

  it('shows at most the first 100 characters of a long path', async () => {
    const reply = await callAt('GET', 'x'.repeat(9000));
    const { error } = JSON.parse(reply.text) as { error: string };
    expect(error).toBe(`nothing is served at /${'x'.repeat(99)}…`);
  });
});
