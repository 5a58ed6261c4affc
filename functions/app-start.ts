import { app } from '@azure/functions';
import { prepareStorage } from '../shared/services';

// Not a function but the app's start-up step: a database that must not hold counters stops
// the host here, before it serves anything, with a message naming the setting.
app.hook.appStart(async () => prepareStorage((message) => console.warn(message)));
