import { createServer } from 'node:http';

/**
 * Baseline (b): bare node:http answering a constant with the same headers as `GET /get`,
 * so the gap to the host is exactly the Functions host, the app and the store.
 * `node dist/bench/baseline-server.js [port]` (default: any free port, printed when ready).
 */
const BODY = '{"value":0}';
const HEADERS = {
  'Content-Type': 'application/json',
  'Cache-Control': 'no-store',
  'Content-Length': String(Buffer.byteLength(BODY)),
};

const server = createServer((req, res) => {
  // Drain any request body so the keep-alive connection stays usable.
  req.resume();
  req.on('end', () => res.writeHead(200, HEADERS).end(BODY));
});

server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  process.stdout.write(`baseline server listening on http://127.0.0.1:${port}\n`);
});

process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
