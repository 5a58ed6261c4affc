/** The `Disposable` class of the core contract: runs its callback once, on the first dispose. */
export class Disposable {
  static from(...disposables: { dispose(): unknown }[]): Disposable {
    return new Disposable(() => {
      for (const disposable of disposables) disposable.dispose();
    });
  }

  private callOnDispose: (() => unknown) | undefined;

  constructor(callOnDispose: () => unknown) {
    this.callOnDispose = callOnDispose;
  }

  dispose(): unknown {
    const callOnDispose = this.callOnDispose;
    this.callOnDispose = undefined;
    return callOnDispose?.();
  }
}
