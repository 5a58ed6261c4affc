import { app } from '@azure/functions';
import { changeHandler } from '../shared/change-handler';

export const increment = changeHandler(1n);

app.http('increment', {
  route: 'increment/{name?}',
  methods: ['POST'],
  authLevel: 'anonymous',
  handler: increment,
});
