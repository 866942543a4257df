import type { SettingSpec } from '../../lib/settings.js';

/** Settings of realtime; `config.ts` collects them. */
export const realtimeSettings = {
  realtimeCustomerSecret: {
    env: 'REALTIME_CUSTOMER_SECRET',
    description:
      'key (32+ characters) of the HMAC that signs customer realtime credentials; unset: generated once and kept in DATA_DIR/realtime-customer-secret (set the same value on every instance that shares a database)',
    default: undefined as string | undefined,
    parse: (raw: string): string | undefined => {
      if (raw.length < 32) throw new Error('must be at least 32 characters');
      return raw;
    },
  },
} satisfies Record<string, SettingSpec<unknown>>;
