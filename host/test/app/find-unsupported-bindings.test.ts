import { findUnsupportedBindings } from '../../src/app/find-unsupported-bindings';

describe('findUnsupportedBindings', () => {
  it('names nothing for an HTTP function with its trigger and response', () => {
    expect(
      findUnsupportedBindings({
        name: 'hello',
        bindings: {
          httpTrigger1: { type: 'httpTrigger', direction: 'in' },
          $return: { type: 'http', direction: 'out' },
        },
      }),
    ).toEqual([]);
  });

  it('names extra inputs and outputs', () => {
    expect(
      findUnsupportedBindings({
        name: 'copy',
        bindings: {
          timer: { type: 'timerTrigger', direction: 'in' },
          doc: { type: 'cosmosDB', direction: 'in' },
          queue: { type: 'queue', direction: 'out' },
        },
      }),
    ).toEqual(['input binding "doc" (cosmosDB)', 'output binding "queue" (queue)']);
  });
});
