// speedscope's own importers, taken from the pinned speedscope package (node_modules/speedscope).
//
// The package ships the web app as one browser bundle and exports no API. Its importers
// (importProfileGroupFromText, importProfilesFromArrayBuffer, ...) are a lazily loaded module inside
// that bundle, which the app fetches with `Promise.resolve().then(() => importersModule)`. We run the
// bundle in a node:vm context whose Promise.prototype.then notes a callback result that has
// importProfileGroupFromText, so we find the module by its export names, not by minified ones. The
// app's UI cannot render without a DOM and stops with an error, after the importers are loaded.
import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export function speedscopeRelease() {
  const release = path.join(path.dirname(require.resolve('speedscope/package.json')), 'dist', 'release');
  const bundle = fs.readdirSync(release).find((name) => /^speedscope-[A-Z0-9]+\.js$/.test(name));
  if (!bundle) throw new Error(`no speedscope bundle in ${release}`);
  return { bundle: path.join(release, bundle), schema: path.join(release, 'file-format-schema.json') };
}

export async function loadSpeedscopeImporters() {
  // Whatever the app touches while it starts up: an object that accepts any use.
  const anything = new Proxy(function () {}, {
    get: (target, key) => (key === Symbol.toPrimitive ? () => '' : anything),
    apply: () => anything,
    construct: () => anything,
    set: () => true,
  });
  const sandbox = {
    console: { log() {}, info() {}, warn() {}, error() {}, assert() {}, time() {}, timeEnd() {} },
    TextDecoder, TextEncoder, atob, btoa, setTimeout, clearTimeout, URL, Blob,
    document: anything, localStorage: anything, matchMedia: anything, requestAnimationFrame: anything,
    navigator: { userAgent: 'node', platform: 'Linux' },
    location: { hash: '', protocol: 'file:', href: 'file:///speedscope/index.html', search: '' },
    addEventListener() {}, removeEventListener() {}, devicePixelRatio: 1,
  };
  sandbox.window = sandbox;
  sandbox.self = sandbox;
  const context = vm.createContext(sandbox);
  vm.runInContext(`{
    const then = Promise.prototype.then;
    Promise.prototype.then = function (onFulfilled, onRejected) {
      const spy = typeof onFulfilled === 'function' ? (value) => {
        const result = onFulfilled(value);
        if (result && typeof result.importProfileGroupFromText === 'function') globalThis.__importers = result;
        return result;
      } : onFulfilled;
      return then.call(this, spy, onRejected);
    };
  }`, context);
  try {
    vm.runInContext(fs.readFileSync(speedscopeRelease().bundle, 'utf8'), context);
  } catch {
    // The UI failed to render (no DOM); the importers were queued before it.
  }
  for (let tries = 0; tries < 100 && !context.__importers; ++tries) await new Promise((r) => setTimeout(r, 10));
  if (!context.__importers) throw new Error('speedscope bundle: its importers module was not found');
  return context.__importers;
}
