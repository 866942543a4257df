import { parse, type SettingSpec } from '../../lib/settings.js';

/** Settings of search (conversations and customers); `config.ts` collects them. */
export const searchSettings = {
  searchRatePerMinute: {
    env: 'SEARCH_RATE_PER_MINUTE',
    description: 'searches (conversations or customers with q) one user or API token may run per minute, sustained',
    default: 60,
    parse: parse.positiveInt,
  },
  searchRateBurst: {
    env: 'SEARCH_RATE_BURST',
    description: 'searches one user or API token may run at once before SEARCH_RATE_PER_MINUTE paces them',
    default: 20,
    parse: parse.positiveInt,
  },
} satisfies Record<string, SettingSpec<unknown>>;
