import { hkdfSync, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * A key every instance of one installation must share (request fingerprints, customer credentials):
 * derived (HKDF-SHA256, one `purpose` per use) from the operator's setting, or from a random secret
 * made once and kept (mode 600) in DATA_DIR, so it survives a restart. Never kept in the database:
 * whoever reads a backup must not be able to sign with it.
 */
export async function loadInstanceKey(opts: { dataDir: string; value: string | undefined; file: string; setting: string; what: string; purpose: string }): Promise<Buffer> {
  let secret = opts.value;
  if (!secret) {
    const file = path.join(opts.dataDir, opts.file);
    try {
      await mkdir(opts.dataDir, { recursive: true });
      // 'wx': two instances starting together both read the one that was written first.
      await writeFile(file, randomBytes(32).toString('base64url'), { mode: 0o600, flag: 'wx' }).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'EEXIST') throw error;
      });
      secret = (await readFile(file, 'utf8')).trim();
    } catch (error) {
      throw new Error(`cannot keep the ${opts.what} in ${file} (${(error as Error).message}): make DATA_DIR writable or set ${opts.setting}`);
    }
    if (secret.length < 32) throw new Error(`${file} holds no usable secret (under 32 characters): delete it to have a new one made, or set ${opts.setting}`);
  }
  return Buffer.from(hkdfSync('sha256', secret, 'rapport', opts.purpose, 32));
}
