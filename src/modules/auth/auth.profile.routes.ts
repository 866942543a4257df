import type { Deps } from '../context.js';
import { Type } from 'typebox';
import { Strict, errorResponses } from '../../http/schemas.js';
import type { App } from '../../http/types.js';
import { PersonName } from '../workspaces/workspaces.schemas.js';
import { changePassword, updateProfile } from './auth.profile.service.js';

const tags = ['auth'];

const Profile = Type.Object(
  { id: Type.String({ format: 'uuid' }), email: Type.String(), name: Type.String({ description: 'the name colleagues see on conversations, notes and assignments' }) },
  { title: 'Profile', examples: [{ id: '5f0c2a4e-8d1b-4c8e-9a57-1f3b6d2e7c90', email: 'ada@example.com', name: 'Ada Lovelace' }] },
);
const PasswordChanged = Type.Object(
  {
    sessionsEnded: Type.Integer({ minimum: 0, description: 'how many other browsers signed in to the account were signed out' }),
    message: Type.String({ description: 'what happened, in words to show the person' }),
  },
  {
    title: 'PasswordChanged',
    examples: [{ sessionsEnded: 2, message: 'Your password was changed. 2 other browsers were signed out; this one stays signed in. Your API tokens still work.' }],
  },
);

/** The signed-in person's own profile: their name and password (issue #10). Sessions only: an API token has no person. */
export function profileRoutes(app: App, server: Deps): void {
  app.patch(
    '/me',
    {
      schema: {
        tags,
        operationId: 'updateProfile',
        summary: 'Change your display name',
        description:
          'The signed-in person sets the name their colleagues see. Control and direction characters are dropped and spaces folded; a name of only spaces answers 422. ' +
          'An API token has no person behind it and answers 403.',
        body: Strict({ name: PersonName }, { examples: [{ name: 'Ada Lovelace' }] }),
        response: { 200: Profile, ...errorResponses(401, 403, 422) },
      },
    },
    async (request) => updateProfile(server, request.auth, request.body),
  );

  app.post(
    '/me/password',
    {
      config: { secretAnswer: true },
      schema: {
        tags,
        operationId: 'changePassword',
        summary: 'Change your password (your current one required)',
        description:
          'The current password is checked like a sign-in and throttled the same way (429 auth.too_many_attempts); a wrong one answers 403 auth.wrong_password. ' +
          'The new password follows the sign-up policy: at least 10 characters and not easy to guess (422 auth.weak_password, with advice), and not the current one (422 auth.same_password). ' +
          'Every other session of the account ends; the one that asked stays signed in. API tokens are kept (unlike a reset by email, which revokes them). ' +
          'The account gets a security alert, shown in every browser it signs in from until dismissed. An API token answers 403.',
        body: Strict(
          { currentPassword: Type.String({ minLength: 1, maxLength: 256 }), newPassword: Type.String({ minLength: 1, maxLength: 256 }) },
          { examples: [{ currentPassword: 'my old pass phrase', newPassword: 'violet tram under quiet hills' }] },
        ),
        response: { 200: PasswordChanged, ...errorResponses(401, 403, 422, 429) },
      },
    },
    async (request) => {
      const { sessionsEnded } = await changePassword(server, request.auth, { ...request.body, ip: request.ip });
      // The ended sessions stop at once on this instance (others: within the cache's few seconds).
      server.resolver.forget('s:');
      const others = sessionsEnded === 0 ? 'No other browser was signed in' : `${sessionsEnded} other browser${sessionsEnded === 1 ? ' was' : 's were'} signed out`;
      return { sessionsEnded, message: `Your password was changed. ${others}; this one stays signed in. Your API tokens still work.` };
    },
  );
}
