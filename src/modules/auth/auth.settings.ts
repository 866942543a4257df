import type { SettingSpec } from '../../lib/settings.js';

export type WorkspaceCreation = 'admins' | 'everyone';

/** Settings of accounts and sign-in; `config.ts` collects them. */
export const authSettings = {
  workspaceCreation: {
    env: 'WORKSPACE_CREATION',
    description: 'who may create workspaces: "admins" (instance admins; the first owner is one) or "everyone" signed in',
    default: 'admins' as WorkspaceCreation,
    parse: (raw: string): WorkspaceCreation => {
      if (raw !== 'admins' && raw !== 'everyone') throw new Error(`"${raw}" is neither "admins" nor "everyone"`);
      return raw;
    },
  },
} satisfies Record<string, SettingSpec<unknown>>;
