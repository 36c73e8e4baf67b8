// Which Node-RED the unit tests run against. By default the dev dependency; the compatibility run
// (scripts/compat-node-red-5.sh) sets NODE_RED_PATH to another installation's main file and
// NODE_RED_TEST_HELPER_PATH to the test helper installed beside it.
//
// Tests write:  helper.init(nodeRedPath)  with  import { nodeRedPath } from '<relative>/support/node-red-path';
//
// When this file is preloaded (mocha --require) with NODE_RED_PATH set, it also redirects every
// require('node-red') / require.resolve('node-red') and require('node-red-node-test-helper') to that
// installation, so a test that still calls helper.init(require.resolve('node-red')) runs against it too.
import Module = require('node:module');

// A Map, not an object literal: the test helper's `should` adds a `should` getter to Object.prototype.
const overrides = new Map<string, string>();
if (process.env.NODE_RED_PATH) overrides.set('node-red', process.env.NODE_RED_PATH);
if (process.env.NODE_RED_TEST_HELPER_PATH) overrides.set('node-red-node-test-helper', process.env.NODE_RED_TEST_HELPER_PATH);

export const nodeRedPath: string = overrides.get('node-red') ?? require.resolve('node-red');

type Resolver = (request: string, ...rest: unknown[]) => string;
const moduleInternals = Module as unknown as { _resolveFilename: Resolver; __nodeRedRedirect?: true };

if (overrides.size > 0 && !moduleInternals.__nodeRedRedirect) {
  const original = moduleInternals._resolveFilename;
  moduleInternals._resolveFilename = function (request: string, ...rest: unknown[]): string {
    return original.call(this, overrides.get(request) ?? request, ...rest);
  };
  moduleInternals.__nodeRedRedirect = true;
}

/** A module of the Node-RED under test (e.g. '@node-red/util'), not of the dev dependency. */
export function fromNodeRed<T>(request: string): T {
  return require(require.resolve(request, { paths: [nodeRedPath] })) as T;
}
