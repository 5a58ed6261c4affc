import { Disposable } from '../../src/utils/disposable';

describe('Disposable', () => {
  it('runs its callback on the first dispose only', () => {
    const callback = jest.fn();
    const disposable = new Disposable(callback);
    disposable.dispose();
    disposable.dispose();
    expect(callback).toHaveBeenCalledTimes(1);
  });

  it('combines several with from()', () => {
    const first = jest.fn();
    const second = jest.fn();
    Disposable.from(new Disposable(first), { dispose: second }).dispose();
    expect(first).toHaveBeenCalled();
    expect(second).toHaveBeenCalled();
  });
});
