import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { projectRoot } from '../../support/host-process';
import { request } from '../../support/http';
import { findTool } from '../../support/system-tool';

/** The load balancer's proxy settings, shared with docker-compose.yml. */
export const proxyConf = path.join(projectRoot, 'deploy/nginx/proxy.conf');

/** The nginx binary on PATH or in Debian's /usr/sbin (not on every user's PATH), if any. */
export const findNginx = () => findTool('nginx', ['/usr/sbin', '/usr/local/sbin']);

/** A TCP port nobody listens on right now (nginx, unlike our host, cannot report port 0). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

export interface Nginx {
  url: string;
  proc: ChildProcess;
  logs(): string;
  stop(): Promise<void>;
}

/**
 * Starts nginx on 127.0.0.1 in `dir`, spreading requests over `backendPorts` with the shared
 * proxy settings: the compose topology with processes instead of containers.
 */
export async function startNginx(
  binary: string,
  dir: string,
  backendPorts: number[],
): Promise<Nginx> {
  const port = await freePort();
  const temp = (name: string) => {
    mkdirSync(path.join(dir, name), { recursive: true });
    return path.join(dir, name);
  };
  const conf = path.join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `daemon off;
worker_processes 1;
pid ${path.join(dir, 'nginx.pid')};
error_log stderr warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${temp('client_body')};
  proxy_temp_path ${temp('proxy')};
  fastcgi_temp_path ${temp('fastcgi')};
  uwsgi_temp_path ${temp('uwsgi')};
  scgi_temp_path ${temp('scgi')};
  upstream rusty_counter {
${backendPorts.map((backend) => `    server 127.0.0.1:${backend} max_fails=2 fail_timeout=5s;`).join('\n')}
    keepalive 32;
  }
  server {
    listen 127.0.0.1:${port};
    include ${proxyConf};
  }
}
`,
  );
  const args = ['-e', 'stderr', '-p', dir, '-c', conf];
  execFileSync(binary, ['-t', ...args], { stdio: 'pipe' });

  const proc = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  proc.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  proc.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<void>((resolve) => proc.once('close', () => resolve()));
  const url = `http://127.0.0.1:${port}`;

  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      if ((await request(`${url}/health`, { timeoutMs: 2000 })).status === 200) break;
    } catch {
      // not listening yet
    }
    if (proc.exitCode !== null || Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`nginx did not pass /health to a backend; it printed:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  return {
    url,
    proc,
    logs: () => output,
    stop: async () => {
      // SIGQUIT: graceful shutdown, workers finish their requests first.
      if (proc.exitCode === null) proc.kill('SIGQUIT');
      const killer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    },
  };
}
