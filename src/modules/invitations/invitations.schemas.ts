import { Type, type Static } from 'typebox';
import { Email, Nullable, Strict, Timestamp, Uuid } from '../../http/schemas.js';
import { Password, PersonName, RoleSchema } from '../workspaces/workspaces.schemas.js';

export const CreateInvitationBody = Strict({ email: Email, role: RoleSchema }, { examples: [{ email: 'new.agent@example.com', role: 'agent' }] });

/** POST /users: "add a user" is an invitation; a name may be sent but the person chooses their own. */
export const AddUserBody = Strict({ email: Email, role: RoleSchema, name: Type.Optional(PersonName) }, { examples: [{ email: 'new.agent@example.com', role: 'agent' }] });
export type CreateInvitationInput = Static<typeof CreateInvitationBody>;

export const Invitation = Type.Object({
  id: Uuid,
  email: Type.String(),
  role: RoleSchema,
  invitedBy: Type.Union([Uuid, Type.Null()]),
  createdAt: Timestamp,
  expiresAt: Timestamp,
});
export const CreatedInvitation = Type.Object(
  {
    ...Invitation.properties,
    delivery: Type.Union([Type.Literal('emailed'), Type.Literal('link')], {
      description:
        'emailed: the server mailed the link to the invited email through its mail relay, and the answer holds no link; ' +
        'link: no mail relay is set (EMAIL_VERIFICATION_SMTP_URL), so the answer holds the link, once, for the admin to pass on privately',
    }),
    token: Type.Optional(Type.String({ description: 'only when delivery is link: shown once; only its hash is stored' })),
    acceptUrl: Type.Optional(Type.String({ description: 'only when delivery is link: the link to send; the token rides in the fragment, which browsers never send on (no Referer leak)' })),
  },
  {
    examples: [
      {
        id: '0b9f3c7e-4a51-4d2a-9a53-6f1f0c2b8e11',
        email: 'new.agent@example.com',
        role: 'agent',
        invitedBy: '5d1c2a8e-0f7b-4c3e-8a9d-2e6b7c1f4a20',
        createdAt: '2026-04-01T08:00:00.000Z',
        expiresAt: '2026-04-04T08:00:00.000Z',
        delivery: 'emailed',
      },
      {
        id: '0b9f3c7e-4a51-4d2a-9a53-6f1f0c2b8e11',
        email: 'new.agent@example.com',
        role: 'agent',
        invitedBy: '5d1c2a8e-0f7b-4c3e-8a9d-2e6b7c1f4a20',
        createdAt: '2026-04-01T08:00:00.000Z',
        expiresAt: '2026-04-04T08:00:00.000Z',
        delivery: 'link',
        token: 'rpi_Xq3v9LmT2bW8kZ4pR7nD',
        acceptUrl: 'https://help.example.com/accept-invitation#token=rpi_…',
      },
    ],
  },
);
export const InvitationList = Type.Object({ items: Type.Array(Invitation) });

export const AcceptInvitationBody = Strict(
  {
    token: Type.String({ minLength: 10, maxLength: 200 }),
    name: Type.Optional(PersonName),
    password: Type.Optional(Password),
  },
  { examples: [{ token: 'rpi_Xq3v9LmT2bW8kZ4pR7nD', name: 'Noor New', password: 'four unrelated words together' }, { token: 'rpi_Xq3v9LmT2bW8kZ4pR7nD' }] },
);
export type AcceptInvitationInput = Static<typeof AcceptInvitationBody>;

export const AcceptedInvitation = Type.Object({
  workspace: Type.Object({ id: Uuid, name: Type.String(), slug: Type.String() }),
  email: Type.String({ description: 'the invited email: sign in with it' }),
  role: RoleSchema,
  next: Type.Union([Type.Literal('sign_in'), Type.Literal('open')], {
    description: 'sign_in: sign in with the invited email and your password to open the workspace; open: you joined while signed in',
  }),
});

export const PreviewInvitationBody = Strict({ token: Type.String({ minLength: 10, maxLength: 200 }) }, { examples: [{ token: 'rpi_Xq3v9LmT2bW8kZ4pR7nD' }] });

export const InvitationPreview = Type.Object(
  {
    workspace: Type.Object({ name: Type.String() }),
    email: Type.String({ description: 'the invited email: the account that joins' }),
    role: RoleSchema,
    invitedBy: Nullable(Type.String({ description: "the inviting admin's name; null when an API token invited" })),
    expiresAt: Timestamp,
  },
  {
    title: 'InvitationPreview',
    examples: [{ workspace: { name: 'Acme Support' }, email: 'noor@example.com', role: 'agent', invitedBy: 'Ada Admin', expiresAt: '2026-12-05T09:00:00.000Z' }],
  },
);
