import { eventStream, type EventStreamTiming } from '../../shared/event-stream';
import { WatchHub } from '../../shared/watch-hub';
import { SseReader } from '../support/sse';

let value = 0n;
let hub: WatchHub;

beforeEach(() => {
  value = 0n;
  hub = new WatchHub({ read: async () => value, maxWatchers: 10, pollIntervalMs: 60_000 });
});
afterEach(() => hub.closeAll());

const TIMING: EventStreamTiming = { heartbeatMs: 10_000, lifetimeMs: 60_000, retryMs: 1_000 };

async function open(timing: Partial<EventStreamTiming> = {}) {
  const stream = eventStream(await hub.watch(undefined), { ...TIMING, ...timing });
  return { stream, sse: SseReader.of(stream) };
}

/** Changes the value as a commit of this process would, and tells the hub. */
function change(next: bigint) {
  value = next;
  hub.changed(undefined);
}

describe('eventStream', () => {
  it('starts with the reconnection delay and the current value, framed as a client parses it', async () => {
    value = 9007199254740993n;
    const { sse } = await open();
    expect(await sse.next()).toEqual({ kind: 'retry', ms: 1000 });
    expect(await sse.next()).toEqual({ kind: 'value', value: '9007199254740993' });
  });

  it('frames each event as one data line of {"value":N} and a blank line', async () => {
    const reader = eventStream(await hub.watch(undefined), TIMING).getReader();
    const decoder = new TextDecoder();
    expect(decoder.decode((await reader.read()).value)).toBe('retry: 1000\ndata: {"value":0}\n\n');
    change(-7n);
    expect(decoder.decode((await reader.read()).value)).toBe('data: {"value":-7}\n\n');
    await reader.cancel();
  });

  it('sends an event for each change, in order', async () => {
    const { sse } = await open();
    expect(await sse.nextValue()).toBe('0');
    for (let i = 1n; i <= 5n; i++) {
      change(i);
      expect(await sse.nextValue()).toBe(String(i));
    }
  });

  it('sends a ": heartbeat" comment after each quiet spell of heartbeatMs', async () => {
    const { sse } = await open({ heartbeatMs: 30 });
    expect(await sse.nextValue()).toBe('0');
    expect(await sse.next(1_000)).toEqual({ kind: 'comment', text: 'heartbeat' });
    expect(await sse.next(1_000)).toEqual({ kind: 'comment', text: 'heartbeat' });
    change(1n);
    expect(await sse.next(1_000)).toEqual({ kind: 'value', value: '1' });
  });

  it('gives a slow reader the latest value only, however many changes it missed', async () => {
    const { sse } = await open();
    expect(await sse.nextValue()).toBe('0');
    for (let i = 1n; i <= 50n; i++) change(i);
    // Let the hub's reads settle: the reader asks for nothing meanwhile.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await sse.next()).toEqual({ kind: 'value', value: '50' });
    change(51n);
    expect(await sse.next()).toEqual({ kind: 'value', value: '51' });
  });

  it('ends after its lifetime and frees its watcher', async () => {
    const { sse } = await open({ lifetimeMs: 50, heartbeatMs: 10_000 });
    expect(await sse.nextValue()).toBe('0');
    expect(hub.size).toBe(1);
    expect(await sse.next(2_000)).toBeUndefined();
    expect(sse.done).toBe(true);
    expect(hub.size).toBe(0);
  });

  it('frees its watcher when the client goes away (the stream is cancelled)', async () => {
    const { sse } = await open();
    expect(await sse.nextValue()).toBe('0');
    await sse.close();
    expect(hub.size).toBe(0);
  });

  it('ends when its watcher is closed by the hub', async () => {
    const { sse } = await open();
    expect(await sse.nextValue()).toBe('0');
    hub.closeAll();
    expect(await sse.next(2_000)).toBeUndefined();
  });
});
