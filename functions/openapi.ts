import { app, type HttpResponseInit } from '@azure/functions';
import { openApiDocument } from '../shared/openapi';

// The document never changes while the app runs, so it is serialized once.
const body = JSON.stringify(openApiDocument);

/** `GET /openapi.json`: open to everyone, like the routes' descriptions it holds. */
export async function openApi(): Promise<HttpResponseInit> {
  return {
    status: 200,
    headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache' },
    body,
  };
}

app.http('openapi', {
  route: 'openapi.json',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: openApi,
});
