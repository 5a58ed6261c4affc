import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { findAppRoot } from './config';

/** The page's file: plain HTML with its style and script inline, served as it is. */
export const PAGE_FILE = path.join('public', 'index.html');

export interface Page {
  html: string;
  /** Allows exactly the page's own inline style and script, and requests to this origin. */
  contentSecurityPolicy: string;
}

const hashOf = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;
const inline = (html: string, tag: string) =>
  [...html.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'g'))].map((m) => hashOf(m[1]));

/** Reads the page from the app root (the zip and the images carry `public/`). */
export function loadPage(appRoot = findAppRoot()): Page {
  const html = readFileSync(path.join(appRoot, PAGE_FILE), 'utf8');
  return {
    html,
    contentSecurityPolicy: [
      "default-src 'none'",
      `script-src ${inline(html, 'script').join(' ')}`,
      `style-src ${inline(html, 'style').join(' ')}`,
      "connect-src 'self'",
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
    ].join('; '),
  };
}
