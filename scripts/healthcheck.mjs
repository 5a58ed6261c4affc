// Container health probe (Dockerfile HEALTHCHECK, compose): exits 0 when GET /health answers
// 200, 1 otherwise, printing why. Plain Node because neither image can be relied on for curl.
import { get } from 'node:http';

const url = process.env.HEALTHCHECK_URL || `http://127.0.0.1:${process.env.PORT || 8000}/health`;
const timeoutMs = Number(process.env.HEALTHCHECK_TIMEOUT_MS || 4000);

function unhealthy(reason) {
  console.error(`unhealthy: ${reason}`);
  process.exit(1);
}

const request = get(url, { timeout: timeoutMs }, (response) => {
  let body = '';
  response.setEncoding('utf8');
  response.on('data', (chunk) => (body += chunk));
  response.on('end', () => {
    if (response.statusCode !== 200) unhealthy(`${url} answered ${response.statusCode} ${body}`);
    console.log(`healthy: ${body}`);
    process.exit(0);
  });
});
request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
request.on('error', (error) => unhealthy(`${url}: ${error.message}`));
