import { findTriggerBinding } from '../../src/app/find-trigger-binding';

describe('findTriggerBinding', () => {
  it('finds the binding whose type ends in "Trigger", whatever its case', () => {
    const trigger = findTriggerBinding({
      name: 'get',
      bindings: {
        $return: { type: 'http', direction: 'out' },
        req: { type: 'HttpTrigger', direction: 'in' },
      },
    });
    expect(trigger).toMatchObject({ name: 'req', type: 'httptrigger' });
  });

  it('finds none for a function without a trigger', () => {
    expect(
      findTriggerBinding({ name: 'x', bindings: { out: { type: 'http', direction: 'out' } } }),
    ).toBeUndefined();
  });
});
