import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import type { Plugin } from 'vite';

const br = promisify(brotliCompress);
const gz = promisify(gzip);

/** Text assets worth compressing (images and fonts in the build are already compressed formats). */
const COMPRESSIBLE = /\.(?:js|mjs|css|html|svg|json|txt|map)$/;
/** Below this a compressed copy saves less than the headers it costs. */
const MIN_BYTES = 1024;

/**
 * Writes `<file>.br` and `<file>.gz` beside every text asset of the build, at the strongest levels
 * (brotli 11, gzip 9): compressing once at build time costs nothing per request, where compressing on
 * the fly at those levels would cost more CPU than the bytes saved are worth. The server picks one by
 * the request's Accept-Encoding (@fastify/static `preCompressed`, src/modules/web/web.module.ts). A copy
 * is kept only when it is smaller than the file.
 */
export function precompress(): Plugin {
  let outDir = '';
  return {
    name: 'rapport-precompress',
    apply: 'build',
    configResolved(config) {
      outDir = path.resolve(config.root, config.build.outDir);
    },
    async writeBundle(_options, bundle) {
      await Promise.all(
        Object.keys(bundle)
          .filter((name) => COMPRESSIBLE.test(name))
          .map(async (name) => {
            const file = path.join(outDir, name);
            const raw = await readFile(file);
            if (raw.length < MIN_BYTES) return;
            const [b, g] = await Promise.all([
              br(raw, { params: { [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY, [constants.BROTLI_PARAM_SIZE_HINT]: raw.length } }),
              gz(raw, { level: 9 }),
            ]);
            if (b.length < raw.length) await writeFile(`${file}.br`, b);
            if (g.length < raw.length) await writeFile(`${file}.gz`, g);
          }),
      );
    },
  };
}
