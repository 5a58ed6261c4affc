import Module from 'node:module';
import path from 'node:path';
import { AppRegistry } from '../../src/app/app-registry';
import { createCoreApi } from '../../src/core/create-core-api';
import { installCoreModule } from '../../src/core/install-core-module';

describe('installCoreModule', () => {
  it('makes require("@azure/functions-core") return the core API in Node modules, until removed', () => {
    const coreApi = createCoreApi(new AppRegistry(), () => undefined);
    // A Node module of the app; jest's own require would bypass Module.prototype.require.
    const appModule = new Module(__filename);
    expect(() => appModule.require('@azure/functions-core')).toThrow(/Cannot find module/);
    const uninstall = installCoreModule(coreApi);
    try {
      expect(appModule.require('@azure/functions-core')).toBe(coreApi);
      expect(appModule.require('node:path')).toBe(path);
    } finally {
      uninstall();
    }
    expect(() => appModule.require('@azure/functions-core')).toThrow(/Cannot find module/);
  });
});
