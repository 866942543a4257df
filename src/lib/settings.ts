/**
 * A module declares its settings here: name, description, default and environment variable.
 * `config.ts` collects them; values are parsed once at start and can be overridden in tests.
 */
export interface SettingSpec<T> {
  env: string;
  description: string;
  default: T;
  parse: (raw: string) => T;
}

export class SettingError extends Error {}

export function readSetting<T>(spec: SettingSpec<T>, env: NodeJS.ProcessEnv): T {
  const raw = env[spec.env];
  if (raw === undefined || raw === '') return spec.default;
  try {
    return spec.parse(raw);
  } catch (error) {
    throw new SettingError(`${spec.env}: ${(error as Error).message} (${spec.description})`);
  }
}

export const parse = {
  string: (raw: string) => raw,
  port: (raw: string) => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`"${raw}" is not a port number`);
    return n;
  },
  positiveInt: (raw: string) => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`"${raw}" is not a positive integer`);
    return n;
  },
  boolean: (raw: string) => {
    if (/^(1|true|yes|on)$/i.test(raw)) return true;
    if (/^(0|false|no|off)$/i.test(raw)) return false;
    throw new Error(`"${raw}" is not a boolean`);
  },
  optionalString: (raw: string): string | undefined => raw,
};
