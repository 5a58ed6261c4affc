import pg from 'pg';
import { CHANGE_CHANNEL } from './postgres-schema';

export interface ChangeFeedOptions {
  connection: pg.ClientConfig;
  /** How often the connection is proved alive, and how long the proof may take. */
  heartbeatMs: number;
  /** A committed change: the counter's name ('' the default) and the server process that sent it. */
  onChange: (name: string, senderPid: number) => void;
  /** The feed is (back) up: changes made while it was down were not heard, so read again. */
  onResync: () => void;
}

const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 5000;

/**
 * LISTEN on a connection of its own (a pooled one would be handed to other queries and lose
 * its LISTEN). When the connection breaks, or stops answering the heartbeat, it is replaced,
 * with growing pauses while the database stays away, and `onResync` says that changes may
 * have been missed in between.
 */
export class ChangeFeed {
  private client?: pg.Client;
  private stopped = false;
  private retryMs = FIRST_RETRY_MS;
  private retryTimer?: NodeJS.Timeout;
  private heartbeat?: NodeJS.Timeout;

  constructor(private readonly options: ChangeFeedOptions) {
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.heartbeat);
    const client = this.client;
    this.client = undefined;
    void client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ ...this.options.connection, keepAlive: true });
    client.on('error', () => this.lost(client));
    client.on('end', () => this.lost(client));
    client.on('notification', (message) => {
      if (message.channel === CHANGE_CHANNEL) {
        this.options.onChange(message.payload ?? '', message.processId);
      }
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANGE_CHANNEL}`);
    } catch {
      void client.end().catch(() => undefined);
      this.retryLater();
      return;
    }
    if (this.stopped) {
      void client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.retryMs = FIRST_RETRY_MS;
    this.heartbeat = setInterval(() => this.beat(client), this.options.heartbeatMs);
    this.heartbeat.unref();
    this.options.onResync();
  }

  private beat(client: pg.Client): void {
    const silent = setTimeout(() => this.lost(client), this.options.heartbeatMs);
    client.query('SELECT 1').then(
      () => clearTimeout(silent),
      () => {
        clearTimeout(silent);
        this.lost(client);
      },
    );
  }

  private lost(client: pg.Client): void {
    if (this.client !== client) return;
    this.client = undefined;
    clearInterval(this.heartbeat);
    void client.end().catch(() => undefined);
    this.retryLater();
  }

  private retryLater(): void {
    if (this.stopped) return;
    this.retryTimer = setTimeout(() => void this.connect(), this.retryMs);
    this.retryTimer.unref();
    this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
  }
}
