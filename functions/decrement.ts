import { app } from '@azure/functions';
import { changeHandler } from '../shared/change-handler';

export const decrement = changeHandler(-1n);

app.http('decrement', {
  route: 'decrement/{name?}',
  methods: ['POST'],
  authLevel: 'anonymous',
  handler: decrement,
});
