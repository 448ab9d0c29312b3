// Node module hooks for the Node bench (registered by bench/node.ts before it loads bench/page/train.ts).
//
// TensorFlow.js ships its gradients only as separate ES modules (@tensorflow/tfjs-core/dist/*.js): none of its
// bundles registers them, and train.ts imports dist/register_all_gradients.js, as the page must. Those files
// import each other without extensions ('./gradients/Abs_grad', '../ops/ops'), which a bundler resolves and
// Node does not. This hook resolves such a specifier, inside tfjs-core's dist only, to 'X.js' or 'X/index.js'.
// The gradients register into tfjs-core's global registry, which the CommonJS bundle that Node loads for
// '@tensorflow/tfjs-core' reads too.
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const TFJS_DIST = '/@tensorflow/tfjs-core/dist/';

/** @type {import('node:module').ResolveHook} */
export async function resolve(specifier, context, next) {
  const relative = specifier.startsWith('./') || specifier.startsWith('../');
  if (relative && context.parentURL?.includes(TFJS_DIST) && !specifier.endsWith('.js')) {
    const url = new URL(specifier, context.parentURL);
    const path = fileURLToPath(url);
    // A file wins over a directory of the same name ('./gradients' is gradients.js beside gradients/).
    if (existsSync(`${path}.js`)) return next(`${url.href}.js`, context);
    if (existsSync(path) && statSync(path).isDirectory()) return next(`${url.href}/index.js`, context);
  }
  return next(specifier, context);
}
